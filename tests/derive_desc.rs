//! `#[derive(Thrift)]` output, checked through the descriptors it emits: names, ids,
//! requiredness, offsets, enum values, union thunks and `empty()` values.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::mem::{align_of, offset_of, size_of};
use std::ptr;

use dynthrift::__private::{EnumDesc, FieldDesc, Requiredness, StructDesc, StructKind, TypeDesc};
use dynthrift::{Describe, TType, Thrift, UnknownFields};

fn struct_desc<T: Describe>() -> &'static StructDesc {
    match T::TYPE {
        TypeDesc::Struct(desc) => desc(),
        other => panic!("not a struct descriptor: {other:?}"),
    }
}

fn enum_desc<T: Describe>() -> &'static EnumDesc {
    match T::TYPE {
        TypeDesc::Enum(desc) => desc,
        other => panic!("not an enum descriptor: {other:?}"),
    }
}

fn field(desc: &StructDesc, name: &str) -> &'static FieldDesc {
    let fields: &'static [FieldDesc] = desc.fields;
    fields
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no field {name}"))
}

/// `(id, name, requiredness)` of every field, in order.
fn summary(desc: &StructDesc) -> Vec<(i16, &'static str, Requiredness)> {
    desc.fields.iter().map(|f| (f.id, f.name, f.req)).collect()
}

#[derive(Thrift, Debug, PartialEq)]
struct AllTypes {
    #[thrift(id = 1)]
    a_bool: bool,
    #[thrift(id = 2)]
    a_byte: i8,
    #[thrift(id = 3)]
    a_i16: i16,
    #[thrift(id = 4)]
    a_i32: i32,
    #[thrift(id = 5)]
    a_i64: i64,
    #[thrift(id = 6)]
    a_double: f64,
    #[thrift(id = 7)]
    a_string: String,
    #[thrift(id = 8)]
    a_binary: Vec<u8>,
    #[thrift(id = 9)]
    a_bytes: bytes::Bytes,
    #[thrift(id = 10)]
    a_uuid: [u8; 16],
    #[thrift(id = 11)]
    a_list: Vec<i32>,
    #[thrift(id = 12)]
    a_set: HashSet<String>,
    #[thrift(id = 13)]
    a_btree_set: BTreeSet<i64>,
    #[thrift(id = 14)]
    a_map: HashMap<String, i32>,
    #[thrift(id = 15)]
    a_btree_map: BTreeMap<i32, Vec<String>>,
    #[thrift(id = 16)]
    an_option: Option<i32>,
    #[thrift(id = 17)]
    a_box: Box<i64>,
    #[thrift(id = 18)]
    an_enum: Color,
    #[thrift(id = 19)]
    a_union: Value,
    #[thrift(id = 20)]
    a_struct: Inner,
}

#[derive(Thrift, Debug, PartialEq, Default)]
struct Inner {
    #[thrift(id = 1)]
    x: i32,
}

#[test]
fn struct_fields_ids_names_and_wire_types() {
    let desc = struct_desc::<AllTypes>();
    assert_eq!(desc.name, "AllTypes");
    assert_eq!(desc.kind, StructKind::Struct);
    assert!(desc.union.is_none());
    assert_eq!(desc.unknown_fields, None);
    let ids: Vec<i16> = desc.fields.iter().map(|f| f.id).collect();
    assert_eq!(ids, (1..=20).collect::<Vec<i16>>());
    let expected = [
        ("a_bool", TType::Bool),
        ("a_byte", TType::I8),
        ("a_i16", TType::I16),
        ("a_i32", TType::I32),
        ("a_i64", TType::I64),
        ("a_double", TType::Double),
        ("a_string", TType::String),
        ("a_binary", TType::String),
        ("a_bytes", TType::String),
        ("a_uuid", TType::Uuid),
        ("a_list", TType::List),
        ("a_set", TType::Set),
        ("a_btree_set", TType::Set),
        ("a_map", TType::Map),
        ("a_btree_map", TType::Map),
        ("an_option", TType::I32),
        ("a_box", TType::I64),
        ("an_enum", TType::I32),
        ("a_union", TType::Struct),
        ("a_struct", TType::Struct),
    ];
    for (f, (name, ttype)) in desc.fields.iter().zip(expected) {
        assert_eq!(f.name, name);
        assert_eq!(f.ty.ttype(), ttype, "{name}");
    }
    // Each field's descriptor is the one of its Rust type.
    assert!(ptr::eq(
        field(desc, "a_string").ty,
        <String as Describe>::TYPE
    ));
    assert!(ptr::eq(
        field(desc, "a_map").ty,
        <HashMap<String, i32> as Describe>::TYPE
    ));
    assert!(matches!(field(desc, "an_option").ty, TypeDesc::Option(_)));
    assert!(matches!(field(desc, "a_box").ty, TypeDesc::Boxed(_)));
    assert!(matches!(field(desc, "an_enum").ty, TypeDesc::Enum(e) if e.name == "Color"));
    match field(desc, "a_struct").ty {
        TypeDesc::Struct(inner) => assert!(ptr::eq(inner(), struct_desc::<Inner>())),
        other => panic!("{other:?}"),
    }
}

#[test]
fn struct_offsets_size_and_align_are_the_compilers() {
    let desc = struct_desc::<AllTypes>();
    let offsets = [
        offset_of!(AllTypes, a_bool),
        offset_of!(AllTypes, a_byte),
        offset_of!(AllTypes, a_i16),
        offset_of!(AllTypes, a_i32),
        offset_of!(AllTypes, a_i64),
        offset_of!(AllTypes, a_double),
        offset_of!(AllTypes, a_string),
        offset_of!(AllTypes, a_binary),
        offset_of!(AllTypes, a_bytes),
        offset_of!(AllTypes, a_uuid),
        offset_of!(AllTypes, a_list),
        offset_of!(AllTypes, a_set),
        offset_of!(AllTypes, a_btree_set),
        offset_of!(AllTypes, a_map),
        offset_of!(AllTypes, a_btree_map),
        offset_of!(AllTypes, an_option),
        offset_of!(AllTypes, a_box),
        offset_of!(AllTypes, an_enum),
        offset_of!(AllTypes, a_union),
        offset_of!(AllTypes, a_struct),
    ];
    let got: Vec<usize> = desc.fields.iter().map(|f| f.offset).collect();
    assert_eq!(got, offsets);
    assert_eq!(desc.size, size_of::<AllTypes>());
    assert_eq!(desc.align, align_of::<AllTypes>());
}

#[test]
fn descriptor_is_one_static_per_type() {
    let a = struct_desc::<Inner>();
    let b = struct_desc::<Inner>();
    assert!(ptr::eq(a, b));
    assert!(ptr::eq(a.cache, b.cache));
    assert!(!ptr::eq(a.cache, struct_desc::<AllTypes>().cache));
    assert_eq!(format!("{:?}", a.cache), "CodecCache(empty)");
}

#[derive(Thrift)]
struct Reqs {
    #[thrift(id = 1)]
    plain: i32,
    #[thrift(id = 2)]
    opt: Option<i32>,
    #[thrift(id = 3, required)]
    req: i32,
    #[thrift(id = 4, required)]
    req_opt: Option<String>,
    #[thrift(id = 5, optional)]
    explicit_opt: Option<i64>,
    #[thrift(id = 6)]
    full_path: std::option::Option<bool>,
    #[thrift(id = -1)]
    negative: i16,
    #[thrift(id = 32767)]
    max: bool,
    #[thrift(id = -32768)]
    min: bool,
}

#[test]
fn requiredness_follows_option_and_attributes() {
    use Requiredness::*;
    assert_eq!(
        summary(struct_desc::<Reqs>()),
        [
            (1, "plain", Default),
            (2, "opt", Optional),
            (3, "req", Required),
            (4, "req_opt", Required),
            (5, "explicit_opt", Optional),
            (6, "full_path", Optional),
            (-1, "negative", Default),
            (32767, "max", Default),
            (-32768, "min", Default),
        ]
    );
}

#[derive(Thrift)]
#[thrift(rename = "WireName")]
struct Renamed {
    #[thrift(id = 1, rename = "wireField")]
    rust_field: i32,
    #[thrift(id = 2)]
    r#type: String,
}

#[derive(Thrift)]
#[thrift(exception)]
struct Oops {
    #[thrift(id = 1)]
    message: String,
}

#[derive(Thrift)]
#[thrift(exception)]
#[thrift(rename = "NotFound")]
struct Missing {}

#[test]
fn names_and_kinds() {
    let desc = struct_desc::<Renamed>();
    assert_eq!(desc.name, "WireName");
    assert_eq!(
        summary(desc),
        [
            (1, "wireField", Requiredness::Default),
            (2, "type", Requiredness::Default)
        ]
    );
    assert_eq!(desc.fields[1].offset, offset_of!(Renamed, r#type));
    let oops = struct_desc::<Oops>();
    assert_eq!((oops.name, oops.kind), ("Oops", StructKind::Exception));
    let missing = struct_desc::<Missing>();
    assert_eq!(
        (missing.name, missing.kind),
        ("NotFound", StructKind::Exception)
    );
}

#[derive(Thrift)]
struct Empty {}

#[test]
fn struct_without_fields() {
    let desc = struct_desc::<Empty>();
    assert!(desc.fields.is_empty());
    assert_eq!(desc.size, 0);
    let Empty {} = Empty::empty();
}

#[derive(Thrift, Debug, PartialEq)]
struct WithDefaults {
    #[thrift(id = 1, default = 42)]
    answer: i32,
    #[thrift(id = 2, default = "hello".to_owned())]
    greeting: String,
    #[thrift(id = 3, default)]
    zero: i64,
    #[thrift(id = 4, default = Some(vec![1, 2]))]
    maybe: Option<Vec<i32>>,
    #[thrift(id = 5)]
    plain: String,
    /// Not a Thrift type, but skipped.
    #[thrift(skip)]
    cache: Vec<u64>,
    #[thrift(skip, default = 7)]
    counter: u32,
    #[thrift(unknown_fields)]
    unknown: UnknownFields,
    #[thrift(id = 6)]
    status: Status,
    #[thrift(id = 7)]
    inner: Inner,
    #[thrift(id = 8, default = Inner { x: 3 })]
    inner3: Inner,
}

#[test]
fn empty_uses_defaults() {
    assert_eq!(
        WithDefaults::empty(),
        WithDefaults {
            answer: 42,
            greeting: "hello".into(),
            zero: 0,
            maybe: Some(vec![1, 2]),
            plain: String::new(),
            cache: Vec::new(),
            counter: 7,
            unknown: UnknownFields::default(),
            status: Status::Unknown,
            inner: Inner { x: 0 },
            inner3: Inner { x: 3 },
        }
    );
}

#[test]
fn skipped_and_unknown_fields_are_not_wire_fields() {
    let desc = struct_desc::<WithDefaults>();
    let names: Vec<&str> = desc.fields.iter().map(|f| f.name).collect();
    assert_eq!(
        names,
        [
            "answer", "greeting", "zero", "maybe", "plain", "status", "inner", "inner3"
        ]
    );
    assert_eq!(desc.unknown_fields, Some(offset_of!(WithDefaults, unknown)));
    assert_eq!(
        field(desc, "status").offset,
        offset_of!(WithDefaults, status)
    );
    assert_eq!(field(desc, "maybe").req, Requiredness::Optional);
}

#[derive(Thrift)]
struct Node {
    #[thrift(id = 1)]
    value: i32,
    #[thrift(id = 2)]
    children: Vec<Node>,
    #[thrift(id = 3)]
    next: Option<Box<Node>>,
    #[thrift(id = 4)]
    by_name: BTreeMap<String, Self>,
    #[thrift(id = 5)]
    other: Option<Box<Other>>,
}

#[derive(Thrift)]
struct Other {
    #[thrift(id = 1)]
    back: Vec<Node>,
}

#[test]
fn recursive_types() {
    let node = struct_desc::<Node>();
    let TypeDesc::List(children) = field(node, "children").ty else {
        panic!()
    };
    let TypeDesc::Struct(elem) = children.elem else {
        panic!()
    };
    assert!(ptr::eq(elem(), node));
    assert_eq!(children.elem_size, size_of::<Node>());
    let TypeDesc::Option(next) = field(node, "next").ty else {
        panic!()
    };
    let TypeDesc::Boxed(boxed) = next.inner else {
        panic!()
    };
    assert!(matches!(boxed.inner, TypeDesc::Struct(f) if ptr::eq(f(), node)));
    let TypeDesc::Map(by_name) = field(node, "by_name").ty else {
        panic!()
    };
    assert!(matches!(by_name.value, TypeDesc::Struct(f) if ptr::eq(f(), node)));
    let other = struct_desc::<Other>();
    let TypeDesc::List(back) = field(other, "back").ty else {
        panic!()
    };
    assert!(matches!(back.elem, TypeDesc::Struct(f) if ptr::eq(f(), node)));
    let empty = Node::empty();
    assert!(empty.children.is_empty() && empty.next.is_none() && empty.other.is_none());
}

#[test]
fn types_declared_in_a_function() {
    #[derive(Thrift)]
    struct Local {
        #[thrift(id = 9)]
        x: Vec<Local>,
    }
    let desc = struct_desc::<Local>();
    assert_eq!(summary(desc), [(9, "x", Requiredness::Default)]);
}

/// The derive's output names everything by absolute path, so local items with the names it
/// uses do not interfere.
mod shadowing {
    #![allow(dead_code, non_camel_case_types)]
    use ::dynthrift::Thrift;

    struct TypeDesc;
    struct StructDesc;
    struct FieldDesc;
    struct Describe;
    struct CodecCache;
    struct Option;
    struct Default;
    mod core {}
    mod dynthrift {}
    struct __dynthrift_desc;

    #[derive(Thrift)]
    pub struct Shadowed {
        #[thrift(id = 1)]
        pub x: i32,
        #[thrift(id = 2, default)]
        pub y: String,
    }

    #[derive(Thrift)]
    pub enum ShadowedEnum {
        A,
    }

    #[derive(Thrift)]
    pub enum ShadowedUnion {
        #[thrift(id = 1)]
        A(i32),
    }
}

#[test]
fn absolute_paths_in_output() {
    assert_eq!(struct_desc::<shadowing::Shadowed>().fields.len(), 2);
    assert_eq!(enum_desc::<shadowing::ShadowedEnum>().values, [("A", 0)]);
    assert_eq!(struct_desc::<shadowing::ShadowedUnion>().fields.len(), 1);
}

#[derive(Thrift, Debug, PartialEq, Clone, Copy)]
enum Color {
    Red,
    Green,
    Blue,
}

#[derive(Thrift, Debug, PartialEq, Clone, Copy)]
#[thrift(rename = "StatusCode")]
enum Status {
    Ok = 1,
    Warn,
    #[thrift(value = 10)]
    Error,
    Fatal,
    #[thrift(rename = "NEG")]
    Negative = -5,
    #[thrift(default)]
    Unknown = 100,
}

#[derive(Thrift, Debug, PartialEq, Clone, Copy)]
#[repr(u8)]
enum Small {
    A = 200,
    #[thrift(value = -1)]
    B = 201,
}

fn to_i32<T: Describe>(v: &T) -> i32 {
    // SAFETY: `v` is a live `T` and the descriptor is `T`'s.
    unsafe { (enum_desc::<T>().to_i32)(ptr::from_ref(v).cast()) }
}

fn from_i32<T: Describe>(v: &mut T, i: i32) -> bool {
    // SAFETY: `v` is a live `T`, borrowed exclusively, and the descriptor is `T`'s.
    unsafe { (enum_desc::<T>().from_i32)(ptr::from_mut(v).cast(), i) }
}

#[test]
fn c_like_enum_values() {
    let color = enum_desc::<Color>();
    assert_eq!(color.name, "Color");
    assert_eq!(color.values, [("Red", 0), ("Green", 1), ("Blue", 2)]);
    let status = enum_desc::<Status>();
    assert_eq!(status.name, "StatusCode");
    assert_eq!(
        status.values,
        [
            ("Ok", 1),
            ("Warn", 2),
            ("Error", 10),
            ("Fatal", 11),
            ("NEG", -5),
            ("Unknown", 100)
        ]
    );
    assert_eq!(enum_desc::<Small>().values, [("A", 200), ("B", -1)]);
    assert_eq!(Color::TYPE.ttype(), TType::I32);
}

#[test]
fn c_like_enum_thunks() {
    for (name, value) in enum_desc::<Status>().values {
        let mut s = Status::Ok;
        assert!(from_i32(&mut s, *value), "{name}");
        assert_eq!(to_i32(&s), *value);
    }
    let mut s = Status::Fatal;
    assert!(!from_i32(&mut s, 3));
    assert_eq!(s, Status::Fatal);
    assert!(from_i32(&mut s, -5));
    assert_eq!(s, Status::Negative);

    let mut small = Small::A;
    assert!(from_i32(&mut small, -1));
    assert_eq!(small, Small::B);
    assert_eq!(to_i32(&small), -1);
    assert!(!from_i32(&mut small, 201));
    assert_eq!(to_i32(&Small::A), 200);
}

#[test]
fn c_like_enum_empty() {
    assert_eq!(Color::empty(), Color::Red);
    assert_eq!(Status::empty(), Status::Unknown);
}

#[derive(Thrift, Debug, PartialEq)]
#[thrift(rename = "AnyValue")]
enum Value {
    #[thrift(id = 1)]
    Int(i64),
    #[thrift(id = 2, rename = "str")]
    Str(String),
    #[thrift(id = 3)]
    List(Vec<Value>),
    #[thrift(id = 4)]
    Nested(Box<Self>),
    #[thrift(id = -7)]
    Color(Color),
    #[thrift(id = 6)]
    Record(Inner),
}

#[derive(Thrift, Debug, PartialEq)]
enum WithDefault {
    #[thrift(id = 1)]
    A(i32),
    #[thrift(id = 2, default)]
    B(String),
}

#[derive(Thrift, Debug, PartialEq)]
enum Single {
    #[thrift(id = 1)]
    Only(Vec<String>),
}

#[test]
fn union_fields() {
    let desc = struct_desc::<Value>();
    assert_eq!(desc.name, "AnyValue");
    assert_eq!(desc.kind, StructKind::Union);
    assert!(desc.union.is_some());
    assert_eq!(desc.unknown_fields, None);
    assert_eq!(
        (desc.size, desc.align),
        (size_of::<Value>(), align_of::<Value>())
    );
    use Requiredness::Default;
    assert_eq!(
        summary(desc),
        [
            (1, "Int", Default),
            (2, "str", Default),
            (3, "List", Default),
            (4, "Nested", Default),
            (-7, "Color", Default),
            (6, "Record", Default)
        ]
    );
    assert!(desc.fields.iter().all(|f| f.offset == 0));
    assert!(ptr::eq(desc.fields[1].ty, <String as Describe>::TYPE));
    let TypeDesc::List(list) = desc.fields[2].ty else {
        panic!()
    };
    assert!(matches!(list.elem, TypeDesc::Struct(f) if ptr::eq(f(), desc)));
    let TypeDesc::Boxed(boxed) = desc.fields[3].ty else {
        panic!()
    };
    assert!(matches!(boxed.inner, TypeDesc::Struct(f) if ptr::eq(f(), desc)));
}

fn variant<T: Describe>(v: &T) -> usize {
    let vt = struct_desc::<T>().union.unwrap();
    // SAFETY: `v` is a live `T` and the vtable is `T`'s.
    unsafe { (vt.variant)(ptr::from_ref(v).cast()) }
}

fn payload<T: Describe>(v: &T) -> *const u8 {
    let vt = struct_desc::<T>().union.unwrap();
    // SAFETY: as above.
    unsafe { (vt.payload)(ptr::from_ref(v).cast()) }
}

fn set_empty<T: Describe>(v: &mut T, index: usize) -> *mut u8 {
    let vt = struct_desc::<T>().union.unwrap();
    // SAFETY: `v` is a live `T`, borrowed exclusively, and the vtable is `T`'s.
    unsafe { (vt.set_empty)(ptr::from_mut(v).cast(), index) }
}

#[test]
fn union_vtable_reads_the_held_variant() {
    let v = Value::Int(5);
    assert_eq!(variant(&v), 0);
    let Value::Int(n) = &v else { unreachable!() };
    assert!(ptr::eq(payload(&v), ptr::from_ref(n).cast()));

    let v = Value::Record(Inner { x: 9 });
    assert_eq!(variant(&v), 5);
    // SAFETY: variant 5 holds an `Inner`.
    assert_eq!(unsafe { &*payload(&v).cast::<Inner>() }, &Inner { x: 9 });
}

#[test]
fn union_vtable_set_empty_round_trips() {
    let mut v = Value::Str("old".into());
    for index in 0..struct_desc::<Value>().fields.len() {
        let p = set_empty(&mut v, index);
        assert!(!p.is_null());
        assert_eq!(variant(&v), index);
        assert_eq!(payload(&v), p.cast_const());
    }
    assert_eq!(v, Value::Record(Inner { x: 0 }));

    let p = set_empty(&mut v, 1);
    assert_eq!(v, Value::Str(String::new()));
    // SAFETY: variant 1 holds a `String` at `p`, and `v` is not otherwise borrowed.
    unsafe { p.cast::<String>().write("new".into()) };
    assert_eq!(v, Value::Str("new".into()));

    let p = set_empty(&mut v, 3);
    assert_eq!(v, Value::Nested(Box::new(Value::Int(0))));
    // SAFETY: variant 3 holds a `Box<Value>` at `p`.
    unsafe { **p.cast::<Box<Value>>() = Value::Color(Color::Blue) };
    assert_eq!(v, Value::Nested(Box::new(Value::Color(Color::Blue))));

    // Out of range: nothing changes.
    assert!(set_empty(&mut v, 6).is_null());
    assert!(set_empty(&mut v, usize::MAX).is_null());
    assert_eq!(v, Value::Nested(Box::new(Value::Color(Color::Blue))));

    let mut single = Single::Only(vec!["x".into()]);
    assert!(!set_empty(&mut single, 0).is_null());
    assert_eq!(single, Single::Only(Vec::new()));
}

#[test]
fn union_empty() {
    assert_eq!(Value::empty(), Value::Int(0));
    assert_eq!(WithDefault::empty(), WithDefault::B(String::new()));
    assert_eq!(struct_desc::<WithDefault>().fields[1].name, "B");
}
