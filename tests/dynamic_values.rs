//! IDL-only values (`DynSchema`, `DynStruct`, `Value`): building by name, get/set/unset,
//! type-checked sets, IDL defaults, unions, containers of every element type, both protocols,
//! bytes equal to Apache's (thriftpy2) and to the derived types' for the benchmark workloads.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use dynthrift::{Codec, DynSchema, DynStruct, ErrorKind, Limits, Options, Protocol, Value};
use dynthrift_testkit::testdata;
use dynthrift_testkit::workloads::{
    self, Enums, MEDIUM_SIZE, Nesting, Nesting2, SMALL_SIZE, Simple, sample_binary, sample_string,
};

const PROTOCOLS: [Protocol; 2] = [Protocol::Binary, Protocol::Compact];

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn inline(idl: &str) -> Arc<DynSchema> {
    DynSchema::new(dynthrift::idl::parse_str(idl).unwrap()).unwrap()
}

fn thrift_test() -> &'static Arc<DynSchema> {
    static TYPES: OnceLock<Arc<DynSchema>> = OnceLock::new();
    TYPES.get_or_init(|| {
        let path = testdata("idl/apache-thrift/test/v0.16/ThriftTest.thrift");
        DynSchema::new(dynthrift::idl::parse_file(path).unwrap()).unwrap()
    })
}

fn baseline() -> &'static Arc<DynSchema> {
    static TYPES: OnceLock<Arc<DynSchema>> = OnceLock::new();
    TYPES.get_or_init(|| {
        let path = testdata("idl/frugal/tests/baseline.thrift");
        DynSchema::new(dynthrift::idl::parse_file(path).unwrap()).unwrap()
    })
}

/// Encodes in `protocol`, checks `encoded_len`, decodes, and checks the value comes back.
fn roundtrip(v: &DynStruct, protocol: Protocol) -> Vec<u8> {
    let bytes = v.encode(protocol).unwrap();
    assert_eq!(v.encoded_len(protocol).unwrap(), bytes.len());
    let back = DynStruct::decode(v.types(), v.name(), &bytes, protocol).unwrap();
    assert_eq!(&back, v, "{protocol:?}");
    bytes
}

fn new(types: &Arc<DynSchema>, name: &str, fields: Vec<(&str, Value)>) -> DynStruct {
    let mut s = DynStruct::new(types, name).unwrap();
    for (f, v) in fields {
        s.set(f, v).unwrap_or_else(|e| panic!("{name}.{f}: {e}"));
    }
    s
}

fn strings(items: &[&str]) -> Vec<Value> {
    items.iter().map(|s| Value::from(*s)).collect()
}

// ---------------------------------------------------------------------------------------------
// Building, getting, setting

const POINT: &str = r#"
    struct Point {
        1: required i32 x,
        2: i32 y = 5,
        3: optional list<string> tags,
        4: optional string label = "none",
        5: binary data,
    }
"#;

#[test]
fn build_get_set_unset() {
    let types = inline(POINT);
    let mut p = DynStruct::new(&types, "Point").unwrap();
    assert_eq!(p.name(), "Point");
    // Required and optional fields start absent; default-requiredness ones present, at their
    // IDL default or zero value. An optional field's IDL default does not make it present.
    assert_eq!(p.get("x").unwrap(), None);
    assert_eq!(p.get("y").unwrap(), Some(Value::I32(5)));
    assert_eq!(p.get("tags").unwrap(), None);
    assert_eq!(p.get("label").unwrap(), None);
    assert_eq!(p.get("data").unwrap(), Some(Value::Binary(Bytes::new())));
    assert!(!p.is_set("x") && p.is_set("y") && !p.is_set("label"));

    p.set("x", 1).unwrap();
    p.set("tags", Value::List(strings(&["a", "b"]))).unwrap();
    p.set("data", Bytes::from_static(b"\x00\xff")).unwrap();
    assert_eq!(p.get("x").unwrap(), Some(Value::I32(1)));
    assert_eq!(p.get_by_id(1).unwrap(), Some(Value::I32(1)));
    assert_eq!(
        p.get("tags").unwrap(),
        Some(Value::List(strings(&["a", "b"])))
    );
    // A string is accepted for a binary field.
    p.set("data", "text").unwrap();
    assert_eq!(
        p.get("data").unwrap(),
        Some(Value::Binary(Bytes::from_static(b"text")))
    );
    p.set_by_id(2, -2).unwrap();
    assert_eq!(p.get("y").unwrap(), Some(Value::I32(-2)));
    // Present fields in declaration order.
    let names: Vec<&str> = p.fields().unwrap().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["x", "y", "tags", "data"]);

    // Unset: absent, not written.
    p.unset("y").unwrap();
    p.unset("tags").unwrap();
    assert!(!p.is_set("y"));
    assert_eq!(p.get("y").unwrap(), None);
    let bytes = p.encode(Protocol::Binary).unwrap();
    assert_eq!(
        bytes,
        hex("08 0001 00000001  0b 0005 00000004 74657874  00")
    );
    // Unsetting a required field makes the value unencodable.
    p.unset("x").unwrap();
    let e = p.encode(Protocol::Binary).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::MissingRequired);
    assert_eq!(
        e.to_string(),
        "encode error at Point.x: missing required field 'x'"
    );
}

#[test]
fn unknown_names_and_ids() {
    let types = inline(POINT);
    let mut p = DynStruct::new(&types, "Point").unwrap();
    let e = p.get("z").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Schema);
    assert_eq!(e.to_string(), "schema error: Point has no field 'z'");
    assert!(p.set("z", 1).is_err());
    assert!(p.unset("z").is_err());
    assert!(!p.is_set("z"));
    assert_eq!(
        p.get_by_id(9).unwrap_err().to_string(),
        "schema error: Point has no field with id 9"
    );
    assert!(p.set_by_id(0, 1).is_err());
    let e = DynStruct::new(&types, "Nope").unwrap_err();
    assert_eq!(
        e.to_string(),
        "schema error: no struct, union or exception named 'Nope'"
    );
}

#[test]
fn sets_are_type_checked() {
    let types = inline(
        r#"
        enum E { A = 1 }
        struct Inner { 1: i32 v }
        struct Other { 1: i32 v }
        struct T {
            1: i32 i, 2: i64 l, 3: bool b, 4: list<i16> shorts, 5: map<string, Inner> m,
            6: Inner inner, 7: E e, 8: set<double> ds, 9: uuid u, 10: string s,
        }
    "#,
    );
    let mut t = DynStruct::new(&types, "T").unwrap();
    let before = t.clone();
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "i",
            Value::I64(1),
            "schema error at i: expected a value of type i32, got i64",
        ),
        (
            "l",
            Value::I32(1),
            "schema error at l: expected a value of type i64, got i32",
        ),
        (
            "b",
            Value::I8(1),
            "schema error at b: expected a value of type bool, got i8",
        ),
        (
            "shorts",
            Value::List(vec![Value::I16(1), Value::I32(2)]),
            "schema error at shorts[1]: expected a value of type i16, got i32",
        ),
        (
            "shorts",
            Value::Set(vec![]),
            "schema error at shorts: expected a value of type list, got set",
        ),
        (
            "e",
            Value::String("A".into()),
            "schema error at e: expected a value of type enum (i32), got string",
        ),
        (
            "u",
            Value::Binary(Bytes::from_static(&[0; 16])),
            "schema error at u: expected a value of type uuid, got binary",
        ),
        (
            "s",
            Value::Binary(Bytes::new()),
            "schema error at s: expected a value of type string, got binary",
        ),
    ];
    for (field, value, want) in cases {
        let e = t.set(field, value).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Schema);
        assert_eq!(e.to_string(), want);
    }
    // A struct of another type, or of the same type from another schema.
    let other = DynStruct::new(&types, "Other").unwrap();
    let e = t.set("inner", other).unwrap_err();
    assert_eq!(
        e.to_string(),
        "schema error at inner: expected a Inner from the same schema, got a Other"
    );
    let twin = inline("struct Inner { 1: i32 v }");
    assert!(
        t.set("inner", DynStruct::new(&twin, "Inner").unwrap())
            .is_err()
    );
    // A map entry with a bad value.
    let e = t
        .set("m", Value::Map(vec![("k".into(), Value::I32(1))]))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Schema);
    // Failed sets change nothing.
    assert_eq!(t, before);
    // Enums hold any i32; sets accept lists.
    t.set("e", 99).unwrap();
    t.set("ds", Value::List(vec![Value::Double(0.5)])).unwrap();
    assert_eq!(
        t.get("ds").unwrap(),
        Some(Value::Set(vec![Value::Double(0.5)]))
    );
    for protocol in PROTOCOLS {
        roundtrip(&t, protocol);
    }
}

#[test]
fn debug_clone_and_equality() {
    let types = inline(POINT);
    let mut p = DynStruct::new(&types, "Point").unwrap();
    p.set("x", 1).unwrap();
    p.set("tags", Value::List(strings(&["a"]))).unwrap();
    assert_eq!(
        format!("{p:?}"),
        r#"Point { x: I32(1), y: I32(5), tags: List([String("a")]), data: Binary(b"") }"#
    );
    // A clone is deep: changing it leaves the original alone.
    let mut q = p.clone();
    assert_eq!(q, p);
    q.set("tags", Value::List(strings(&["b"]))).unwrap();
    assert_ne!(q, p);
    assert_eq!(p.get("tags").unwrap(), Some(Value::List(strings(&["a"]))));
    q.set("tags", Value::List(strings(&["a"]))).unwrap();
    assert_eq!(q, p);
    // Presence is part of equality: an unset field differs from a set one of equal value.
    q.unset("y").unwrap();
    assert_ne!(q, p);
    q.set("y", 5).unwrap();
    assert_eq!(q, p);
    // Values of another schema, even with the same IDL, are not equal.
    let again = inline(POINT);
    let mut r = DynStruct::new(&again, "Point").unwrap();
    r.set("x", 1).unwrap();
    r.set("tags", Value::List(strings(&["a"]))).unwrap();
    assert_ne!(r, p);
    assert_eq!(
        r.encode(Protocol::Compact).unwrap(),
        p.encode(Protocol::Compact).unwrap()
    );
    // Values are Send + Sync, and usable from other threads.
    fn send_sync<T: Send + Sync>(_: &T) {}
    send_sync(&p);
    let bytes =
        std::thread::scope(|s| s.spawn(|| p.encode(Protocol::Binary).unwrap()).join()).unwrap();
    assert_eq!(bytes, p.encode(Protocol::Binary).unwrap());
}

// ---------------------------------------------------------------------------------------------
// Defaults (baseline.thrift)

fn default_simple(b: i8, i64_: i64, d: f64, i: i32, s: &str, bin: &str, e: i32) -> Value {
    new(
        baseline(),
        "Simple",
        vec![
            ("ByteField", b.into()),
            ("I64Field", i64_.into()),
            ("DoubleField", d.into()),
            ("I32Field", i.into()),
            ("StringField", s.into()),
            ("BinaryField", Bytes::copy_from_slice(bin.as_bytes()).into()),
            ("enumField", e.into()),
        ],
    )
    .into()
}

fn expected_defaults() -> Vec<(&'static str, Value)> {
    let ints = |v: &[i32]| v.iter().map(|i| Value::I32(*i)).collect::<Vec<_>>();
    vec![
        ("ByteFieldWithDefault", Value::I8(1)),
        ("I64FieldWithDefault", Value::I64(2)),
        ("DoubleFieldWithDefault", Value::Double(3.0)),
        ("I32FieldWithDefault", Value::I32(4)),
        ("StringFieldWithDefault", "string field default text".into()),
        (
            "BinaryFieldWithDefault",
            Bytes::from_static(b"binary field default data").into(),
        ),
        ("EnumFieldWithDefault", Value::I32(0)),
        (
            "SimpleStructWithDefault",
            default_simple(10, 11, 12.0, 13, "simple string", "simple binary", 1),
        ),
        ("ListFieldWithDefault", Value::List(ints(&[1, 2, 3, 4, 5]))),
        ("SetFieldWithDefault", Value::Set(ints(&[1, 2, 3, 4, 5]))),
        (
            "MapI32I64WithDefault",
            Value::Map(vec![
                (Value::I32(1), Value::I64(2)),
                (Value::I32(3), Value::I64(4)),
            ]),
        ),
        (
            "MapI64StringWithDefault",
            Value::Map(vec![
                (Value::I64(1), "aaa".into()),
                (Value::I64(2), "bbb".into()),
            ]),
        ),
        (
            "MapStringStringWithDefault",
            Value::Map(vec![
                ("aaa".into(), "xxx".into()),
                ("bbb".into(), "yyy".into()),
            ]),
        ),
        (
            "MapStringSimpleWithDefault",
            Value::Map(vec![(
                "aaa".into(),
                default_simple(
                    20,
                    21,
                    22.0,
                    23,
                    "another simple string",
                    "another simple binary",
                    2,
                ),
            )]),
        ),
    ]
}

/// `DefaultValues()` from baseline.thrift, default-constructed in thriftpy2 0.7.1 (which sets
/// every field to its default) and serialized with `TBinaryProtocolFactory`.
const DEFAULT_VALUES_BINARY: &str = "030001010a000200000000000000020400034008000000000000080004000000040b0005\
    00000019737472696e67206669656c642064656661756c7420746578740b00060000001962696e617279206669\
    656c642064656661756c742064617461080007000000000c00080300010a0a0002000000000000000b04000340\
    280000000000000800040000000d0b00050000000d73696d706c6520737472696e670b00060000000d73696d70\
    6c652062696e61727908000700000001000f0009080000000500000001000000020000000300000004000000050e\
    000a080000000500000001000000020000000300000004000000050d000b080a00000002000000010000000000\
    0000020000000300000000000000040d000c0a0b0000000200000000000000010000000361616100000000000000\
    02000000036262620d000d0b0b00000002000000036161610000000378787800000003626262000000037979790d\
    000e0b0c0000000100000003616161030001140a00020000000000000015040003403600000000000008000400\
    0000170b000500000015616e6f746865722073696d706c6520737472696e670b000600000015616e6f74686572\
    2073696d706c652062696e617279080007000000020000";

/// The same with `TCompactProtocolFactory`.
const DEFAULT_VALUES_COMPACT: &str = "1301160417000000000000084015081819737472696e67206669656c6420\
    64656661756c742074657874181962696e617279206669656c642064656661756c74206461746115001c130a1616\
    170000000000002840151a180d73696d706c6520737472696e67180d73696d706c652062696e61727915020019\
    55020406080a1a55020406080a1b0256020406081b0268020361616104036262621b028803616161037878780362\
    6262037979791b018c036161611314162a170000000000003640152e1815616e6f746865722073696d706c652073\
    7472696e671815616e6f746865722073696d706c652062696e61727915040000";

#[test]
fn idl_defaults_are_applied() {
    let d = DynStruct::new(baseline(), "DefaultValues").unwrap();
    for (name, want) in expected_defaults() {
        assert_eq!(d.get(name).unwrap(), Some(want), "{name}");
    }
    assert_eq!(d.fields().unwrap().len(), 14);
    // Byte for byte what thriftpy2 writes for the same defaults, in IDL order.
    assert_eq!(
        d.encode(Protocol::Binary).unwrap(),
        hex(DEFAULT_VALUES_BINARY)
    );
    assert_eq!(
        d.encode(Protocol::Compact).unwrap(),
        hex(DEFAULT_VALUES_COMPACT)
    );
    for protocol in PROTOCOLS {
        roundtrip(&d, protocol);
    }
    // Decoding an empty struct gives the defaults too.
    let e = DynStruct::decode(baseline(), "DefaultValues", &[0], Protocol::Binary).unwrap();
    assert_eq!(e, d);
    // Each value has its own copy of the defaults.
    let mut changed = d.clone();
    changed
        .set("ListFieldWithDefault", Value::List(vec![]))
        .unwrap();
    let fresh = DynStruct::new(baseline(), "DefaultValues").unwrap();
    assert_eq!(fresh, d);
}

#[test]
fn optional_fields_with_defaults_start_absent() {
    let o = DynStruct::new(baseline(), "OptionalDefaultValues").unwrap();
    assert!(o.fields().unwrap().is_empty());
    for (name, _) in expected_defaults() {
        assert_eq!(o.get(name).unwrap(), None, "{name}");
    }
    for protocol in PROTOCOLS {
        assert_eq!(o.encode(protocol).unwrap(), [0]);
    }
    // Set to the defaults, the encoding is thriftpy2's (which sets optional fields to their
    // defaults on construction).
    let mut o = o;
    for (name, v) in expected_defaults() {
        o.set(name, v).unwrap();
    }
    assert_eq!(
        o.encode(Protocol::Binary).unwrap(),
        hex(DEFAULT_VALUES_BINARY)
    );
    assert_eq!(
        o.encode(Protocol::Compact).unwrap(),
        hex(DEFAULT_VALUES_COMPACT)
    );
    // ThriftTest's BoolTest: `optional bool b = true; optional string s = "true"`.
    let b = DynStruct::new(thrift_test(), "BoolTest").unwrap();
    assert_eq!((b.get("b").unwrap(), b.get("s").unwrap()), (None, None));
    let b = new(
        thrift_test(),
        "BoolTest",
        vec![("b", true.into()), ("s", "true".into())],
    );
    // thriftpy2: BoolTest() serialized.
    assert_eq!(
        b.encode(Protocol::Binary).unwrap(),
        hex("020001010b0002000000047472756500")
    );
    assert_eq!(
        b.encode(Protocol::Compact).unwrap(),
        hex("1118047472756500")
    );
}

#[test]
fn defaults_beside_required_fields() {
    // Defaults cover some fields only: building a value must not require the others, in the
    // struct or in a struct-valued default.
    let types = inline(
        r#"
        struct A { 1: required i32 a, 2: i32 b = 2 }
        struct B { 1: A x = {"b": 3}, 2: i32 after = 4, 3: required string r }
    "#,
    );
    let a = DynStruct::new(&types, "A").unwrap();
    assert_eq!(a.fields().unwrap(), [("b", Value::I32(2))]);
    let mut b = DynStruct::new(&types, "B").unwrap();
    let Some(Value::Struct(x)) = b.get("x").unwrap() else {
        panic!("{b:?}")
    };
    assert_eq!(x.fields().unwrap(), [("b", Value::I32(3))]);
    assert_eq!(b.get("after").unwrap(), Some(Value::I32(4)));
    assert_eq!(b.get("r").unwrap(), None);
    // The value is incomplete until the required fields are set; decoding still checks them.
    assert_eq!(
        b.encode(Protocol::Binary).unwrap_err().to_string(),
        "encode error at B.x.a: missing required field 'a'"
    );
    b.set("r", "r").unwrap();
    let mut x = x;
    x.set("a", 1).unwrap();
    b.set("x", x).unwrap();
    for protocol in PROTOCOLS {
        roundtrip(&b, protocol);
    }
    let e = DynStruct::decode(&types, "B", &[0], Protocol::Binary).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::MissingRequired);
    assert_eq!(e.detail(), "missing required field 'r'");
}

#[test]
fn required_fields_must_be_among_the_first_64() {
    // Required fields are tracked in a 64-bit mask: the 65th field cannot be required.
    let fields: String = (1..=64).map(|i| format!("{i}: i32 f{i}, ")).collect();
    let ok = format!("struct S {{ {fields} 65: i32 last }}");
    let bad = format!("struct S {{ {fields} 65: required i32 last }}");
    let types = inline(&ok);
    let s = DynStruct::new(&types, "S").unwrap();
    assert_eq!(s.fields().unwrap().len(), 65);
    for protocol in PROTOCOLS {
        roundtrip(&s, protocol);
    }
    let e = DynSchema::new(dynthrift::idl::parse_str(&bad).unwrap()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Schema);
    assert_eq!(
        e.to_string(),
        "schema error: 'S': required fields must be among the first 64 fields ('last' is not)"
    );
}

#[test]
fn readme_example() {
    // The README's IDL-only example, as written there.
    let schema = dynthrift::idl::parse_str(
        r#"
        struct Point { 1: required i32 x, 2: i32 y = 5, 3: optional list<string> tags }
    "#,
    )
    .unwrap();
    let types = DynSchema::new(schema).unwrap();
    let mut p = DynStruct::new(&types, "Point").unwrap();
    p.set("x", 1).unwrap();
    p.set("tags", Value::List(vec!["a".into()])).unwrap();
    let bytes = p.encode(Protocol::Compact).unwrap();
    let back = DynStruct::decode(&types, "Point", &bytes, Protocol::Compact).unwrap();
    assert_eq!(back.get("y").unwrap(), Some(Value::I32(5)));
    assert_eq!(back, p);
}

// ---------------------------------------------------------------------------------------------
// Unions

#[test]
fn unions_hold_one_field() {
    let types = thrift_test();
    let mut u = DynStruct::new(types, "SomeUnion").unwrap();
    assert!(u.fields().unwrap().is_empty());
    for protocol in PROTOCOLS {
        let e = u.encode(protocol).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidUnion);
        assert_eq!(
            e.to_string(),
            "encode error at SomeUnion: a union must have exactly one field set, found 0"
        );
    }
    u.set("string_thing", "s").unwrap();
    u.set("i32_thing", 7).unwrap();
    assert!(!u.is_set("string_thing"));
    assert_eq!(u.fields().unwrap(), [("i32_thing", Value::I32(7))]);
    // thriftpy2: SomeUnion(i32_thing=7).
    assert_eq!(u.encode(Protocol::Binary).unwrap(), hex("0800030000000700"));
    assert_eq!(u.encode(Protocol::Compact).unwrap(), hex("350e00"));
    for protocol in PROTOCOLS {
        roundtrip(&u, protocol);
    }
    // A struct-valued member.
    let x3 = new(types, "Xtruct3", vec![("changed", 1.into())]);
    u.set("xtruct_thing", x3.clone()).unwrap();
    assert_eq!(u.fields().unwrap(), [("xtruct_thing", Value::Struct(x3))]);
    for protocol in PROTOCOLS {
        roundtrip(&u, protocol);
    }
    // Unset the only field: zero set again.
    u.unset("xtruct_thing").unwrap();
    assert_eq!(
        u.encode(Protocol::Binary).unwrap_err().kind(),
        ErrorKind::InvalidUnion
    );
    // Decoding needs exactly one field.
    for (bytes, protocol) in [
        (hex("00"), Protocol::Binary),
        (hex("0800030000000708000300000007 00"), Protocol::Binary),
        (hex("00"), Protocol::Compact),
        (hex("28 01 73 15 0e 00"), Protocol::Compact),
    ] {
        let e = DynStruct::decode(types, "SomeUnion", &bytes, protocol).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidUnion, "{bytes:x?}");
        assert_eq!(e.path(), "SomeUnion");
    }
}

#[test]
fn decode_in_replaces_union_members_and_absent_structs() {
    let types = inline(
        r#"
        struct Inner { 1: i32 v, 2: i32 w }
        union U { 1: i32 a, 2: string b, 3: Inner c }
        struct Outer { 1: optional Inner inner, 2: U u }
    "#,
    );
    for protocol in PROTOCOLS {
        // A union member on the wire replaces the member that was set, as in a derived union.
        let mut u = new(&types, "U", vec![("a", 7.into())]);
        let b = new(&types, "U", vec![("b", "s".into())]);
        let used = u
            .decode_in(
                &b.encode(protocol).unwrap(),
                None,
                protocol,
                &Limits::default(),
            )
            .unwrap();
        assert!(used > 0);
        assert_eq!(u, b);
        assert_eq!(u.encode(protocol).unwrap(), b.encode(protocol).unwrap());
        // An unset struct field is decoded afresh: what it held before does not come back.
        let inner = new(&types, "Inner", vec![("v", 1.into()), ("w", 2.into())]);
        let mut o = new(&types, "Outer", vec![("inner", inner.into())]);
        o.unset("inner").unwrap();
        let mut i2 = new(&types, "Inner", vec![("v", 3.into())]);
        i2.unset("w").unwrap();
        let src = new(&types, "Outer", vec![("inner", i2.into())]);
        o.decode_in(
            &src.encode(protocol).unwrap(),
            None,
            protocol,
            &Limits::default(),
        )
        .unwrap();
        let fresh =
            DynStruct::decode(&types, "Outer", &src.encode(protocol).unwrap(), protocol).unwrap();
        assert_eq!(o, fresh);
        let Some(Value::Struct(got)) = o.get("inner").unwrap() else {
            panic!("{o:?}")
        };
        assert_eq!(got.get("w").unwrap(), Some(Value::I32(0)));
        // The same through a union member that was switched away from.
        let c = new(&types, "Inner", vec![("v", 5.into()), ("w", 6.into())]);
        let mut u = new(&types, "U", vec![("c", c.into())]);
        u.set("a", 1).unwrap();
        let mut c2 = new(&types, "Inner", vec![("v", 8.into())]);
        c2.unset("w").unwrap();
        let wire = new(&types, "U", vec![("c", c2.into())]);
        u.decode_in(
            &wire.encode(protocol).unwrap(),
            None,
            protocol,
            &Limits::default(),
        )
        .unwrap();
        let Some(Value::Struct(got)) = u.get("c").unwrap() else {
            panic!("{u:?}")
        };
        assert_eq!(got.get("w").unwrap(), Some(Value::I32(0)));
        assert!(!u.is_set("a"));
    }
}

// ---------------------------------------------------------------------------------------------
// Nested values, every element type

const CONTAINERS: &str = r#"
    enum Color { RED = 1, BLUE = 2 }
    struct Leaf { 1: i32 n, 2: optional string s }
    union Choice { 1: Leaf leaf, 2: i64 num }
    struct All {
        1: list<bool> bools, 2: list<i8> bytes, 3: list<i16> shorts, 4: list<i32> ints,
        5: list<i64> longs, 6: list<double> doubles, 7: list<string> strings,
        8: list<binary> binaries, 9: list<uuid> uuids, 10: list<Leaf> leaves,
        11: list<Color> colors, 12: list<list<i32>> lists, 13: list<set<string>> sets,
        14: list<map<i32, string>> maps, 15: set<i64> set_longs, 16: set<Leaf> set_leaves,
        17: set<uuid> set_uuids, 18: map<string, Leaf> by_name, 19: map<Leaf, list<Leaf>> by_leaf,
        20: map<i16, map<bool, double>> nested_maps, 21: map<Color, set<binary>> by_color,
        22: map<binary, uuid> blobs, 23: list<Choice> choices, 24: Leaf leaf,
        25: optional All child, 26: map<double, i8> by_double,
    }
"#;

fn leaf(types: &Arc<DynSchema>, n: i32, s: Option<&str>) -> Value {
    let mut fields = vec![("n", Value::I32(n))];
    if let Some(s) = s {
        fields.push(("s", s.into()));
    }
    new(types, "Leaf", fields).into()
}

fn all_value(types: &Arc<DynSchema>, child: bool) -> DynStruct {
    let l = |n, s| leaf(types, n, s);
    let ints = |v: &[i32]| Value::List(v.iter().map(|i| Value::I32(*i)).collect());
    let choice = |f: &str, v: Value| Value::from(new(types, "Choice", vec![(f, v)]));
    let mut fields = vec![
        (
            "bools",
            Value::List(vec![true.into(), false.into(), true.into()]),
        ),
        ("bytes", Value::List(vec![Value::I8(-128), Value::I8(127)])),
        (
            "shorts",
            Value::List(vec![Value::I16(i16::MIN), Value::I16(0)]),
        ),
        ("ints", ints(&[i32::MIN, -1, 0, 1, i32::MAX])),
        (
            "longs",
            Value::List(vec![Value::I64(i64::MIN), Value::I64(i64::MAX)]),
        ),
        (
            "doubles",
            Value::List(vec![Value::Double(-0.5), Value::Double(f64::INFINITY)]),
        ),
        ("strings", Value::List(strings(&["", "é", "long string"]))),
        (
            "binaries",
            Value::List(vec![
                Bytes::new().into(),
                Bytes::from_static(b"\xff").into(),
            ]),
        ),
        (
            "uuids",
            Value::List(vec![Value::Uuid([1; 16]), Value::Uuid([2; 16])]),
        ),
        ("leaves", Value::List(vec![l(1, None), l(2, Some("two"))])),
        (
            "colors",
            Value::List(vec![Value::I32(1), Value::I32(2), Value::I32(77)]),
        ),
        ("lists", Value::List(vec![ints(&[]), ints(&[1, 2])])),
        (
            "sets",
            Value::List(vec![Value::Set(strings(&["a", "b"])), Value::Set(vec![])]),
        ),
        (
            "maps",
            Value::List(vec![Value::Map(vec![(Value::I32(1), "one".into())])]),
        ),
        ("set_longs", Value::Set(vec![Value::I64(3), Value::I64(-3)])),
        ("set_leaves", Value::Set(vec![l(5, None), l(6, Some(""))])),
        ("set_uuids", Value::Set(vec![Value::Uuid([9; 16])])),
        (
            "by_name",
            Value::Map(vec![
                ("a".into(), l(1, None)),
                ("b".into(), l(2, Some("x"))),
            ]),
        ),
        (
            "by_leaf",
            Value::Map(vec![(
                l(1, None),
                Value::List(vec![l(2, None), l(3, None)]),
            )]),
        ),
        (
            "nested_maps",
            Value::Map(vec![
                (
                    Value::I16(1),
                    Value::Map(vec![(true.into(), Value::Double(1.0))]),
                ),
                (Value::I16(2), Value::Map(vec![])),
            ]),
        ),
        (
            "by_color",
            Value::Map(vec![(
                Value::I32(2),
                Value::Set(vec![Bytes::from_static(b"b").into()]),
            )]),
        ),
        (
            "blobs",
            Value::Map(vec![(
                Bytes::from_static(b"k").into(),
                Value::Uuid([7; 16]),
            )]),
        ),
        (
            "choices",
            Value::List(vec![
                choice("leaf", l(8, None)),
                choice("num", Value::I64(9)),
            ]),
        ),
        ("leaf", l(10, Some("ten"))),
        (
            "by_double",
            Value::Map(vec![(Value::Double(0.5), Value::I8(1))]),
        ),
    ];
    if child {
        fields.push(("child", all_value(types, false).into()));
    }
    new(types, "All", fields)
}

#[test]
fn nested_containers_of_every_element_type() {
    let types = inline(CONTAINERS);
    let v = all_value(&types, true);
    for protocol in PROTOCOLS {
        let bytes = roundtrip(&v, protocol);
        // Decoding again into a value that already holds data replaces it.
        let mut other = all_value(&types, false);
        let used = other
            .decode_in(&bytes, None, protocol, &Limits::default())
            .unwrap();
        assert_eq!(used, bytes.len());
        assert_eq!(other, v);
    }
    // Values read back are copies: changing them does not change the struct.
    let Some(Value::List(mut leaves)) = v.get("leaves").unwrap() else {
        panic!()
    };
    let Value::Struct(first) = &mut leaves[0] else {
        panic!()
    };
    first.set("n", 100).unwrap();
    assert_eq!(
        v.get("leaves").unwrap().unwrap(),
        Value::List(vec![leaf(&types, 1, None), leaf(&types, 2, Some("two"))])
    );
}

#[test]
fn nested_structs_absent_and_present() {
    let types = thrift_test();
    // A default-requiredness struct field starts absent (not written), like a null reference
    // in Apache's Java code.
    let x2 = DynStruct::new(types, "Xtruct2").unwrap();
    assert_eq!(x2.get("struct_thing").unwrap(), None);
    assert_eq!(
        x2.encode(Protocol::Binary).unwrap(),
        hex("03 0001 00  08 0003 00000000  00")
    );
    // OneField { 1: EmptyStruct field }: an empty struct is one stop byte.
    let one = new(
        types,
        "OneField",
        vec![(
            "field",
            DynStruct::new(types, "EmptyStruct").unwrap().into(),
        )],
    );
    assert_eq!(one.encode(Protocol::Binary).unwrap(), hex("0c 0001 00 00"));
    assert_eq!(one.encode(Protocol::Compact).unwrap(), hex("1c 00 00"));
    // StructB { 1: optional StructA aa; 2: required StructA ab }, StructA { 1: required s }.
    let mut b = DynStruct::new(types, "StructB").unwrap();
    assert_eq!(
        b.encode(Protocol::Binary).unwrap_err().to_string(),
        "encode error at StructB.ab: missing required field 'ab'"
    );
    b.set("ab", DynStruct::new(types, "StructA").unwrap())
        .unwrap();
    assert_eq!(
        b.encode(Protocol::Binary).unwrap_err().to_string(),
        "encode error at StructB.ab.s: missing required field 's'"
    );
    let e =
        DynStruct::decode(types, "StructB", &hex("0c 0002 00 00"), Protocol::Binary).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::MissingRequired);
    assert_eq!(e.path(), "StructB.ab");
    assert_eq!(e.detail(), "missing required field 's'");
}

// ---------------------------------------------------------------------------------------------
// ThriftTest.thrift against thriftpy2

fn xtruct() -> DynStruct {
    new(
        thrift_test(),
        "Xtruct",
        vec![
            ("string_thing", "hi".into()),
            ("byte_thing", Value::I8(-1)),
            ("i32_thing", 300.into()),
            ("i64_thing", Value::I64(-5)),
        ],
    )
}

#[test]
fn thrift_test_values_match_thriftpy2() {
    let types = thrift_test();
    // Each expected encoding is thriftpy2 0.7.1's `serialize` of the same value, with
    // TBinaryProtocolFactory and TCompactProtocolFactory (ThriftTest's structs as declared).
    let xtruct2 = new(
        types,
        "Xtruct2",
        vec![
            ("byte_thing", Value::I8(1)),
            ("struct_thing", xtruct().into()),
            ("i32_thing", 5.into()),
        ],
    );
    let insanity = new(
        types,
        "Insanity",
        vec![
            ("userMap", Value::Map(vec![(Value::I32(5), Value::I64(5))])),
            ("xtructs", Value::List(vec![xtruct().into()])),
        ],
    );
    let bools = |t: bool, f: bool| -> Value {
        new(
            types,
            "Bools",
            vec![("im_true", t.into()), ("im_false", f.into())],
        )
        .into()
    };
    let large_deltas = new(
        types,
        "LargeDeltas",
        vec![
            ("b1", bools(true, false)),
            ("check_true", true.into()),
            ("b1000", bools(false, true)),
            ("check_false", false.into()),
            ("a_set2500", Value::Set(strings(&["a"]))),
            (
                "big_numbers",
                Value::List(vec![Value::I32(1), Value::I32(-1)]),
            ),
        ],
    );
    let cases = [
        (
            &xtruct2,
            "030001010c00020b0001000000026869030004ff0800090000012c0a000bfffffffffffffffb000800030000000500",
            "13011c1802686933ff55d804260900150a00",
        ),
        (
            &insanity,
            "0d0001080a000000010000000500000000000000050f00020c000000010b0001000000026869030004ff0800090000012c0a000bfffffffffffffffb0000",
            "1b01560a0a191c1802686933ff55d80426090000",
        ),
        (
            &large_deltas,
            "0c00010200010102000200000201f4010c03e80200010002000201000205dc000e09c40b0000000100000001610f0fa0080000000200000001ffffffff00",
            "1c11120001e8070cd00f12110002b8170a882718016109c03e25020100",
        ),
    ];
    for (v, binary, compact) in cases {
        assert_eq!(
            v.encode(Protocol::Binary).unwrap(),
            hex(binary),
            "{}",
            v.name()
        );
        assert_eq!(
            v.encode(Protocol::Compact).unwrap(),
            hex(compact),
            "{}",
            v.name()
        );
        assert_eq!(
            &DynStruct::decode(types, v.name(), &hex(binary), Protocol::Binary).unwrap(),
            v
        );
        assert_eq!(
            &DynStruct::decode(types, v.name(), &hex(compact), Protocol::Compact).unwrap(),
            v
        );
    }
}

#[test]
fn crazy_nesting_roundtrips() {
    // CrazyNesting's list_field:
    // list<map<set<i32>, map<i32, set<list<map<Insanity, string>>>>>>.
    let types = thrift_test();
    let insanity = new(
        types,
        "Insanity",
        vec![
            ("userMap", Value::Map(vec![(Value::I32(1), Value::I64(10))])),
            ("xtructs", Value::List(vec![xtruct().into()])),
        ],
    );
    let inner = Value::Set(vec![Value::List(vec![Value::Map(vec![(
        insanity.clone().into(),
        "v".into(),
    )])])]);
    let list_field = Value::List(vec![Value::Map(vec![(
        Value::Set(vec![Value::I32(1), Value::I32(2)]),
        Value::Map(vec![(Value::I32(3), inner)]),
    )])]);
    let crazy = new(
        types,
        "CrazyNesting",
        vec![
            ("string_field", "s".into()),
            ("set_field", Value::Set(vec![insanity.into()])),
            ("list_field", list_field),
            ("binary_field", Bytes::from_static(b"\x00\x01").into()),
        ],
    );
    for protocol in PROTOCOLS {
        let bytes = roundtrip(&crazy, protocol);
        // `set_field` needs five levels (struct, set, Insanity, list, Xtruct); `list_field`
        // ten. With five, the list inside the set inside the inner map is one too many.
        let limits = Limits {
            depth: 5,
            ..Limits::default()
        };
        let e = DynStruct::decode_with(types, "CrazyNesting", &bytes, None, protocol, &limits)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::DepthLimit);
        // The set<i32> key has no text form: the entry is named by position, `<key 0>`, the
        // same segment as for a key that fails itself.
        assert_eq!(e.path(), "CrazyNesting.list_field[0]<key 0>[3][0]");
    }
    // `list_field` is required.
    let mut c = crazy.clone();
    c.unset("list_field").unwrap();
    assert_eq!(
        c.encode(Protocol::Compact).unwrap_err().kind(),
        ErrorKind::MissingRequired
    );
}

#[test]
fn versioning_through_dynamic_values() {
    let types = thrift_test();
    let v2 = new(
        types,
        "VersioningTestV2",
        vec![
            ("begin_in_both", 1.into()),
            ("newint", 2.into()),
            ("newbyte", Value::I8(3)),
            ("newshort", Value::I16(4)),
            ("newlong", Value::I64(5)),
            ("newdouble", 6.0.into()),
            (
                "newstruct",
                new(
                    types,
                    "Bonk",
                    vec![("message", "m".into()), ("type", 7.into())],
                )
                .into(),
            ),
            ("newlist", Value::List(vec![Value::I32(8)])),
            ("newset", Value::Set(vec![Value::I32(9)])),
            ("newmap", Value::Map(vec![(Value::I32(10), Value::I32(11))])),
            ("newstring", "twelve".into()),
            ("end_in_both", 13.into()),
        ],
    );
    for protocol in PROTOCOLS {
        let bytes = roundtrip(&v2, protocol);
        // V2 as V1: the new fields are skipped; `old_string` (3) arrives as an i8 and is
        // skipped, keeping its empty default.
        let v1 = DynStruct::decode(types, "VersioningTestV1", &bytes, protocol).unwrap();
        assert_eq!(
            v1.fields().unwrap(),
            [
                ("begin_in_both", Value::I32(1)),
                ("old_string", Value::from("")),
                ("end_in_both", Value::I32(13))
            ]
        );
        // ListTypeVersioning: list<i32> read as list<string> is left empty.
        let l1 = new(
            types,
            "ListTypeVersioningV1",
            vec![
                ("myints", Value::List(vec![Value::I32(1)])),
                ("hello", "h".into()),
            ],
        );
        let bytes = l1.encode(protocol).unwrap();
        let l2 = DynStruct::decode(types, "ListTypeVersioningV2", &bytes, protocol).unwrap();
        assert_eq!(l2.get("strings").unwrap(), Some(Value::List(vec![])));
        assert_eq!(l2.get("hello").unwrap(), Some("h".into()));
    }
}

#[test]
fn exceptions_and_decode_errors() {
    let types = thrift_test();
    let x = new(
        types,
        "Xception",
        vec![("errorCode", 1001.into()), ("message", "Xception".into())],
    );
    for protocol in PROTOCOLS {
        roundtrip(&x, protocol);
    }
    // Trailing bytes, truncation, and a bad string: errors, never panics.
    let mut bytes = x.encode(Protocol::Binary).unwrap();
    let len = bytes.len();
    bytes.push(0);
    let e = DynStruct::decode(types, "Xception", &bytes, Protocol::Binary).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidData);
    assert_eq!(e.offset(), Some(len));
    for cut in 0..len {
        let e = DynStruct::decode(types, "Xception", &bytes[..cut], Protocol::Binary).unwrap_err();
        assert!(matches!(
            e.kind(),
            ErrorKind::UnexpectedEof | ErrorKind::LengthLimit
        ));
    }
    let e = DynStruct::decode(
        types,
        "Xception",
        &hex("0b 0002 00000001 ff 00"),
        Protocol::Binary,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "decode error at Xception.message: invalid utf-8 (offset 7)"
    );
    // Binary fields share a source buffer when given one.
    let c = new(
        types,
        "CrazyNesting",
        vec![
            ("list_field", Value::List(vec![])),
            ("binary_field", Bytes::from_static(b"shared").into()),
        ],
    );
    let src = Bytes::from(c.encode(Protocol::Binary).unwrap());
    let back = DynStruct::decode_with(
        types,
        "CrazyNesting",
        &src,
        Some(&src),
        Protocol::Binary,
        &Limits::default(),
    )
    .unwrap();
    let Some(Value::Binary(b)) = back.get("binary_field").unwrap() else {
        panic!()
    };
    let r = src.as_ptr_range();
    assert!(r.start <= b.as_ptr() && b.as_ptr() < r.end);
}

// ---------------------------------------------------------------------------------------------
// The benchmark workloads: IDL-only encoding equals the derived encoding

fn simple_dyn(s: &Simple) -> DynStruct {
    new(
        baseline(),
        "Simple",
        vec![
            ("ByteField", s.byte_field.into()),
            ("I64Field", s.i64_field.into()),
            ("DoubleField", s.double_field.0.into()),
            ("I32Field", s.i32_field.into()),
            ("StringField", s.string_field.clone().into()),
            ("BinaryField", s.binary_field.clone().into()),
            ("enumField", (s.enum_field as i32).into()),
        ],
    )
}

/// `map` entries in the derived value's iteration order (the order its codec writes).
fn entries<K, V>(m: &HashMap<K, V>, k: impl Fn(&K) -> Value, v: impl Fn(&V) -> Value) -> Value {
    Value::Map(m.iter().map(|(a, b)| (k(a), v(b))).collect())
}

fn nesting_dyn(n: &Nesting) -> DynStruct {
    let string = |s: &String| Value::from(s.clone());
    new(
        baseline(),
        "Nesting",
        vec![
            ("String", n.string.clone().into()),
            (
                "ListSimple",
                Value::List(n.list_simple.iter().map(|s| simple_dyn(s).into()).collect()),
            ),
            ("Double", n.double.into()),
            ("I32", n.i32.into()),
            (
                "ListI32",
                Value::List(n.list_i32.iter().map(|i| Value::I32(*i)).collect()),
            ),
            ("I64", n.i64.into()),
            (
                "MapStringString",
                entries(&n.map_string_string, string, string),
            ),
            ("SimpleStruct", simple_dyn(&n.simple_struct).into()),
            (
                "MapI32I64",
                entries(&n.map_i32_i64, |k| Value::I32(*k), |v| Value::I64(*v)),
            ),
            (
                "ListString",
                Value::List(n.list_string.iter().map(string).collect()),
            ),
            ("Binary", n.binary.clone().into()),
            (
                "MapI64String",
                entries(&n.map_i64_string, |k| Value::I64(*k), string),
            ),
            (
                "ListI64",
                Value::List(n.list_i64.iter().map(|i| Value::I64(*i)).collect()),
            ),
            ("Byte", n.byte.into()),
            (
                "MapStringSimple",
                entries(&n.map_string_simple, string, |s| simple_dyn(s).into()),
            ),
        ],
    )
}

fn nesting2_dyn(n: &Nesting2) -> DynStruct {
    new(
        baseline(),
        "Nesting2",
        vec![
            (
                "MapSimpleNesting",
                entries(
                    &n.map_simple_nesting,
                    |k| simple_dyn(k).into(),
                    |v| nesting_dyn(v).into(),
                ),
            ),
            ("SimpleStruct", simple_dyn(&n.simple_struct).into()),
            ("Byte", n.byte.into()),
            ("Double", n.double.into()),
            (
                "ListNesting",
                Value::List(
                    n.list_nesting
                        .iter()
                        .map(|v| nesting_dyn(v).into())
                        .collect(),
                ),
            ),
            ("I64", n.i64.into()),
            ("NestingStruct", nesting_dyn(&n.nesting_struct).into()),
            ("Binary", n.binary.clone().into()),
            ("String", n.string.clone().into()),
            ("I32", n.i32.into()),
        ],
    )
}

#[test]
fn workload_simple_matches_the_derived_encoding() {
    let derived = workloads::simple();
    let dynamic = simple_dyn(&derived);
    for protocol in PROTOCOLS {
        let options = Options::binary().protocol(protocol);
        let bytes = Codec::<Simple>::with_options(options)
            .unwrap()
            .encode(&derived)
            .unwrap();
        assert_eq!(dynamic.encode(protocol).unwrap(), bytes, "{protocol:?}");
        assert_eq!(
            DynStruct::decode(baseline(), "Simple", &bytes, protocol).unwrap(),
            dynamic
        );
    }
    assert_eq!(dynamic.encode(Protocol::Binary).unwrap().len(), SMALL_SIZE);
    // The sample's values, spelled out.
    assert_eq!(
        dynamic.get("StringField").unwrap(),
        Some(sample_string().into())
    );
    assert_eq!(
        dynamic.get("BinaryField").unwrap(),
        Some(sample_binary().into())
    );
    assert_eq!(
        dynamic.get("enumField").unwrap(),
        Some(Value::I32(Enums::ValueA as i32))
    );
}

#[test]
fn workload_nesting_matches_the_derived_encoding() {
    let derived = workloads::nesting();
    // Built from the derived value's maps in their iteration order, the IDL-only value writes
    // the same bytes as the derived codec.
    let dynamic = nesting_dyn(&derived);
    for protocol in PROTOCOLS {
        let codec = Codec::<Nesting>::with_options(Options::binary().protocol(protocol)).unwrap();
        let bytes = codec.encode(&derived).unwrap();
        assert_eq!(dynamic.encode(protocol).unwrap(), bytes, "{protocol:?}");
        // Each decodes the other's bytes to the same value.
        assert_eq!(
            DynStruct::decode(baseline(), "Nesting", &bytes, protocol).unwrap(),
            dynamic
        );
        assert_eq!(
            codec.decode(&dynamic.encode(protocol).unwrap()).unwrap(),
            derived
        );
    }
    assert_eq!(dynamic.encode(Protocol::Binary).unwrap().len(), MEDIUM_SIZE);
    // Built independently of the derived value's order (maps in key order), the bytes differ
    // only in map order: the derived codec decodes them to the same value.
    let mut sorted = dynamic.clone();
    for field in [
        "MapStringString",
        "MapI32I64",
        "MapI64String",
        "MapStringSimple",
    ] {
        let Some(Value::Map(mut m)) = sorted.get(field).unwrap() else {
            panic!()
        };
        m.sort_by(|a, b| format!("{:?}", a.0).cmp(&format!("{:?}", b.0)));
        sorted.set(field, Value::Map(m)).unwrap();
    }
    for protocol in PROTOCOLS {
        let codec = Codec::<Nesting>::with_options(Options::binary().protocol(protocol)).unwrap();
        let bytes = sorted.encode(protocol).unwrap();
        assert_eq!(bytes.len(), dynamic.encode(protocol).unwrap().len());
        assert_eq!(codec.decode(&bytes).unwrap(), derived);
    }
}

#[test]
fn workload_nesting2_matches_the_derived_encoding() {
    let derived = workloads::nesting2();
    let dynamic = nesting2_dyn(&derived);
    let options = Options::compact();
    let codec = Codec::<Nesting2>::with_options(options).unwrap();
    let bytes = codec.encode(&derived).unwrap();
    assert_eq!(dynamic.encode(Protocol::Compact).unwrap(), bytes);
    assert_eq!(
        dynamic.encoded_len(Protocol::Binary).unwrap(),
        workloads::LARGE_SIZE
    );
}
