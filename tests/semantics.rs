//! What encoding and decoding mean for derived types, through the facade: every supported
//! field type in both protocols, requiredness, defaults, schema evolution (unknown fields,
//! changed wire types, changed element types), kept unknown fields, unions, enums, the decode
//! entry points (`decode_bytes`, `decode_prefix`, `decode_into`, `skip`), message envelopes,
//! errors with their paths, and limits.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use bytes::{Bytes, BytesMut};
use dynthrift::{
    ApplicationErrorKind, ApplicationException, Codec, ErrorKind, MessageHeader, Options,
    OrderedF64, TMessageType, Thrift, UnknownFields,
};
use dynthrift_testkit::roundtrip;
use proptest::collection::{btree_map, btree_set, hash_map, hash_set, vec};
use proptest::prelude::*;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn both() -> [Options; 2] {
    [Options::binary(), Options::compact()]
}

fn codec<T: dynthrift::Describe>(options: Options) -> Codec<T> {
    Codec::<T>::with_options(options).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Types

#[derive(Thrift, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Color {
    Red,
    Green = 5,
    #[thrift(value = -3)]
    Blue,
}

#[derive(Thrift, Clone, Debug, PartialEq, Default)]
struct Point {
    #[thrift(id = 1)]
    x: i32,
    #[thrift(id = 2)]
    y: i32,
    #[thrift(id = 3)]
    label: Option<String>,
}

/// A struct usable as a map key and set element.
#[derive(Thrift, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Key {
    #[thrift(id = 1)]
    name: String,
    #[thrift(id = 2)]
    weight: OrderedF64,
}

#[derive(Thrift, Clone, Debug, PartialEq)]
enum Shape {
    #[thrift(id = 1)]
    Circle(f64),
    #[thrift(id = 2)]
    Square(Point),
    #[thrift(id = 3)]
    Name(String),
    #[thrift(id = 4)]
    Many(Vec<Shape>),
}

#[derive(Thrift, Clone, Debug, PartialEq)]
#[thrift(exception)]
struct Oops {
    #[thrift(id = 1)]
    message: String,
    #[thrift(id = 2)]
    code: i32,
}

#[derive(Thrift, Clone, Debug, PartialEq)]
struct Tree {
    #[thrift(id = 1)]
    value: i32,
    #[thrift(id = 2)]
    children: Vec<Tree>,
    #[thrift(id = 3)]
    next: Option<Box<Tree>>,
}

/// Every field type the derive supports.
#[derive(Thrift, Clone, Debug, PartialEq)]
struct Everything {
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
    a_bytes: Bytes,
    #[thrift(id = 10)]
    a_uuid: [u8; 16],
    #[thrift(id = 11)]
    a_list: Vec<i32>,
    #[thrift(id = 12)]
    structs: Vec<Point>,
    #[thrift(id = 13)]
    hash_set: HashSet<String>,
    #[thrift(id = 14)]
    btree_set: BTreeSet<i64>,
    #[thrift(id = 15)]
    hash_map: HashMap<String, Point>,
    #[thrift(id = 16)]
    btree_map: BTreeMap<i32, Vec<String>>,
    #[thrift(id = 17)]
    struct_keys: BTreeMap<Key, Point>,
    #[thrift(id = 18)]
    hashed_keys: HashMap<Key, i8>,
    #[thrift(id = 19)]
    key_set: HashSet<Key>,
    #[thrift(id = 20)]
    maybe: Option<i32>,
    #[thrift(id = 21)]
    maybe_struct: Option<Point>,
    #[thrift(id = 22)]
    boxed: Box<i64>,
    #[thrift(id = 23)]
    color: Color,
    #[thrift(id = 24)]
    shape: Shape,
    #[thrift(id = 25)]
    point: Point,
    #[thrift(id = 26)]
    nested_lists: Vec<Vec<i16>>,
    #[thrift(id = 27)]
    bools: Vec<bool>,
    #[thrift(id = 28)]
    doubles: Vec<f64>,
    #[thrift(id = 29)]
    uuids: Vec<[u8; 16]>,
    #[thrift(id = 30)]
    colors: BTreeMap<Color, BTreeSet<Color>>,
    #[thrift(id = 31)]
    oops: Oops,
    #[thrift(id = 32)]
    tree: Tree,
    #[thrift(id = 33)]
    binaries: Vec<Bytes>,
    #[thrift(id = 34)]
    bytes_map: BTreeMap<Vec<u8>, Vec<u8>>,
}

fn point(x: i32) -> Point {
    Point {
        x,
        y: -x,
        label: (x % 2 == 0).then(|| format!("p{x}")),
    }
}

fn key(name: &str, weight: f64) -> Key {
    Key {
        name: name.into(),
        weight: OrderedF64(weight),
    }
}

fn everything() -> Everything {
    Everything {
        a_bool: true,
        a_byte: i8::MIN,
        a_i16: i16::MAX,
        a_i32: i32::MIN,
        a_i64: i64::MAX,
        a_double: -0.5,
        a_string: "héllo, wörld".into(),
        a_binary: vec![0, 0xff, 0x80],
        a_bytes: Bytes::from_static(b"\x00bytes\xff"),
        a_uuid: *b"0123456789abcdef",
        a_list: vec![1, -1, i32::MAX],
        structs: (0..3).map(point).collect(),
        hash_set: ["a", "b", ""].map(String::from).into(),
        btree_set: [i64::MIN, 0, i64::MAX].into(),
        hash_map: [("one".to_string(), point(1)), ("two".to_string(), point(2))].into(),
        btree_map: [(1, vec!["x".into()]), (-7, vec![])].into(),
        struct_keys: [(key("k", 1.5), point(4)), (key("k", -0.0), point(5))].into(),
        hashed_keys: [(key("h", f64::INFINITY), 1), (key("", 0.0), -1)].into(),
        key_set: [key("s", 2.0)].into(),
        maybe: Some(0),
        maybe_struct: Some(point(6)),
        boxed: Box::new(-9),
        color: Color::Blue,
        shape: Shape::Many(vec![
            Shape::Circle(1.0),
            Shape::Square(point(7)),
            Shape::Name("n".into()),
        ]),
        point: point(8),
        nested_lists: vec![vec![], vec![1, 2], vec![i16::MIN]],
        bools: vec![true, false, true],
        doubles: vec![0.0, f64::INFINITY, f64::MIN_POSITIVE],
        uuids: vec![[1; 16], [0xff; 16]],
        colors: [
            (Color::Red, [Color::Green, Color::Blue].into()),
            (Color::Blue, BTreeSet::new()),
        ]
        .into(),
        oops: Oops {
            message: "bad".into(),
            code: 500,
        },
        tree: Tree {
            value: 1,
            children: vec![Tree {
                value: 2,
                children: vec![],
                next: Some(Box::new(Tree {
                    value: 3,
                    children: vec![],
                    next: None,
                })),
            }],
            next: None,
        },
        binaries: vec![Bytes::new(), Bytes::from_static(b"b")],
        bytes_map: [(vec![1], vec![2, 3]), (vec![], vec![])].into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Roundtrips

#[test]
fn every_field_type_roundtrips_in_both_protocols() {
    let v = everything();
    for options in both() {
        let (bytes, back) = roundtrip(&v, options);
        assert_eq!(back, v, "{:?}", options.protocol);
        // A decoded value re-encodes to as many bytes, which decode to the same value (hash
        // containers may iterate in another order).
        let again = codec::<Everything>(options).encode(&back).unwrap();
        assert_eq!(again.len(), bytes.len());
        assert_eq!(codec::<Everything>(options).decode(&again).unwrap(), v);
    }
    let empty = <Everything as dynthrift::Describe>::empty();
    for options in both() {
        assert_eq!(roundtrip(&empty, options).1, empty);
    }
}

#[test]
fn free_functions_match_codecs() {
    let v = everything();
    let bin = dynthrift::encode(&v).unwrap();
    let compact = dynthrift::encode_compact(&v).unwrap();
    assert!(compact.len() < bin.len());
    assert_eq!(dynthrift::decode::<Everything>(&bin).unwrap(), v);
    assert_eq!(
        dynthrift::decode_compact::<Everything>(&compact).unwrap(),
        v
    );
    let p = point(3);
    assert_eq!(
        dynthrift::encode(&p).unwrap(),
        Codec::<Point>::new().unwrap().encode(&p).unwrap()
    );
}

#[test]
fn derived_bytes_match_apache() {
    // Point {x: 1, y: -1, label: "p"}: the fields written one by one with Apache Thrift's
    // Python library (thrift 0.25.0), TBinaryProtocol and TCompactProtocol.
    let p = Point {
        x: 1,
        y: -1,
        label: Some("p".into()),
    };
    assert_eq!(
        dynthrift::encode(&p).unwrap(),
        hex("08000100000001 080002ffffffff 0b00030000000170 00")
    );
    assert_eq!(
        dynthrift::encode_compact(&p).unwrap(),
        hex("1502 1501 180170 00")
    );
}

#[test]
fn doubles_keep_their_bits() {
    for bits in [
        f64::NAN.to_bits(),
        0x7ff0_0000_0000_0001,
        0xfff8_0000_0000_0001,
        (-0.0f64).to_bits(),
    ] {
        let mut v = everything();
        v.a_double = f64::from_bits(bits);
        v.doubles = vec![f64::from_bits(bits)];
        v.shape = Shape::Circle(f64::from_bits(bits));
        for options in both() {
            let c = codec::<Everything>(options);
            let back = c.decode(&c.encode(&v).unwrap()).unwrap();
            assert_eq!(back.a_double.to_bits(), bits);
            assert_eq!(back.doubles[0].to_bits(), bits);
            let Shape::Circle(d) = back.shape else {
                panic!("{:?}", back.shape)
            };
            assert_eq!(d.to_bits(), bits);
        }
    }
}

fn finite_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        -1e300..1e300f64,
        Just(0.0),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(f64::MIN_POSITIVE),
    ]
}

fn point_strategy() -> impl Strategy<Value = Point> {
    (any::<i32>(), any::<i32>(), proptest::option::of(".{0,6}")).prop_map(|(x, y, label)| Point {
        x,
        y,
        label,
    })
}

fn key_strategy() -> impl Strategy<Value = Key> {
    (".{0,4}", any::<f64>()).prop_map(|(name, w)| Key {
        name,
        weight: OrderedF64(w),
    })
}

fn color_strategy() -> impl Strategy<Value = Color> {
    prop_oneof![Just(Color::Red), Just(Color::Green), Just(Color::Blue)]
}

fn shape_strategy() -> impl Strategy<Value = Shape> {
    let leaf = prop_oneof![
        finite_f64().prop_map(Shape::Circle),
        point_strategy().prop_map(Shape::Square),
        ".{0,8}".prop_map(Shape::Name),
    ];
    leaf.prop_recursive(3, 12, 4, |inner| vec(inner, 0..4).prop_map(Shape::Many))
}

fn tree_strategy() -> impl Strategy<Value = Tree> {
    let leaf = any::<i32>().prop_map(|value| Tree {
        value,
        children: vec![],
        next: None,
    });
    leaf.prop_recursive(4, 16, 3, |inner| {
        (
            any::<i32>(),
            vec(inner.clone(), 0..3),
            proptest::option::of(inner),
        )
            .prop_map(|(value, children, next)| Tree {
                value,
                children,
                next: next.map(Box::new),
            })
    })
}

prop_compose! {
    fn everything_strategy()(
        scalars in (any::<bool>(), any::<i8>(), any::<i16>(), any::<i32>(), any::<i64>(), finite_f64()),
        strings in (".{0,12}", vec(any::<u8>(), 0..20), vec(any::<u8>(), 0..20), any::<[u8; 16]>()),
        lists in (
            vec(any::<i32>(), 0..20),
            vec(point_strategy(), 0..4),
            hash_set(".{0,3}", 0..4),
            btree_set(any::<i64>(), 0..4),
        ),
        maps in (
            hash_map(".{0,3}", point_strategy(), 0..4),
            btree_map(any::<i32>(), vec(".{0,3}", 0..3), 0..4),
            btree_map(key_strategy(), point_strategy(), 0..3),
            hash_map(key_strategy(), any::<i8>(), 0..3),
            hash_set(key_strategy(), 0..3),
        ),
        options in (
            proptest::option::of(any::<i32>()),
            proptest::option::of(point_strategy()),
            any::<i64>(),
            color_strategy(),
        ),
        nested in (
            shape_strategy(),
            point_strategy(),
            vec(vec(any::<i16>(), 0..4), 0..4),
            vec(any::<bool>(), 0..20),
            vec(finite_f64(), 0..5),
            vec(any::<[u8; 16]>(), 0..3),
        ),
        more in (
            btree_map(color_strategy(), btree_set(color_strategy(), 0..3), 0..3),
            (".{0,5}", any::<i32>()),
            tree_strategy(),
            vec(vec(any::<u8>(), 0..5), 0..4),
            btree_map(vec(any::<u8>(), 0..3), vec(any::<u8>(), 0..3), 0..3),
        ),
    ) -> Everything {
        Everything {
            a_bool: scalars.0,
            a_byte: scalars.1,
            a_i16: scalars.2,
            a_i32: scalars.3,
            a_i64: scalars.4,
            a_double: scalars.5,
            a_string: strings.0,
            a_binary: strings.1,
            a_bytes: Bytes::from(strings.2),
            a_uuid: strings.3,
            a_list: lists.0,
            structs: lists.1,
            hash_set: lists.2,
            btree_set: lists.3,
            hash_map: maps.0,
            btree_map: maps.1,
            struct_keys: maps.2,
            hashed_keys: maps.3,
            key_set: maps.4,
            maybe: options.0,
            maybe_struct: options.1,
            boxed: Box::new(options.2),
            color: options.3,
            shape: nested.0,
            point: nested.1,
            nested_lists: nested.2,
            bools: nested.3,
            doubles: nested.4,
            uuids: nested.5,
            colors: more.0,
            oops: Oops { message: more.1.0, code: more.1.1 },
            tree: more.2,
            binaries: more.3.into_iter().map(Bytes::from).collect(),
            bytes_map: more.4,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    #[test]
    fn generated_values_roundtrip(v in everything_strategy()) {
        for options in both() {
            // `roundtrip` also checks `encoded_len == encode().len()`.
            let (bytes, back) = roundtrip(&v, options);
            prop_assert_eq!(&back, &v);
            let c = codec::<Everything>(options);
            prop_assert_eq!(c.skip(&bytes).unwrap(), bytes.len());
            prop_assert_eq!(&c.decode_bytes(&Bytes::from(bytes.clone())).unwrap(), &v);
        }
    }
}

fn chain(n: u32) -> Tree {
    let mut t = Tree {
        value: 0,
        children: vec![],
        next: None,
    };
    for i in 1..n {
        t = Tree {
            value: i as i32,
            children: vec![],
            next: Some(Box::new(t)),
        };
    }
    t
}

#[test]
fn recursive_types_and_the_depth_limit() {
    for options in both() {
        // 63 nested structs, and the innermost one's (empty) `children` list: 64 levels, the
        // default limit. Empty containers count as a level.
        let ok = chain(63);
        assert_eq!(roundtrip(&ok, options).1, ok);
        // One more: over the limit, on encode and on decode.
        let deep = chain(64);
        let c = codec::<Tree>(options);
        let e = c.encode(&deep).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::DepthLimit);
        let path = format!("Tree{}.children", ".next".repeat(63));
        assert_eq!(e.path(), path);
        assert_eq!(
            c.encoded_len(&deep).unwrap_err().kind(),
            ErrorKind::DepthLimit
        );
        let bytes = codec::<Tree>(options.max_depth(65)).encode(&deep).unwrap();
        let e = c.decode(&bytes).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::DepthLimit);
        assert_eq!(e.path(), path);
        assert_eq!(
            codec::<Tree>(options.max_depth(65)).decode(&bytes).unwrap(),
            deep
        );
        // A struct in a list in a struct, whose own list is empty: four levels.
        let t = Tree {
            value: 0,
            children: vec![chain(1)],
            next: None,
        };
        assert_eq!(roundtrip(&t, options.max_depth(4)).1, t);
        let e = codec::<Tree>(options.max_depth(3)).encode(&t).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::DepthLimit);
        let bytes = codec::<Tree>(options).encode(&t).unwrap();
        let e = codec::<Tree>(options.max_depth(3))
            .decode(&bytes)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::DepthLimit);
    }
}

// ---------------------------------------------------------------------------------------------
// Requiredness and defaults

#[derive(Thrift, Debug, PartialEq)]
struct Req {
    #[thrift(id = 1, required)]
    id: i64,
    #[thrift(id = 2)]
    name: String,
    #[thrift(id = 3, required)]
    tag: Option<String>,
}

#[derive(Thrift, Clone, Debug, PartialEq, Default)]
#[thrift(rename = "Req")]
struct ReqLoose {
    #[thrift(id = 1)]
    id: Option<i64>,
    #[thrift(id = 2)]
    name: Option<String>,
    #[thrift(id = 3)]
    tag: Option<String>,
}

fn req_without_tag() -> Req {
    Req {
        id: 1,
        name: "n".into(),
        tag: None,
    }
}

#[test]
fn required_fields_missing_on_decode() {
    let all = ReqLoose {
        id: Some(1),
        name: Some("n".into()),
        tag: Some("t".into()),
    };
    for options in both() {
        let loose = codec::<ReqLoose>(options);
        let strict = codec::<Req>(options);
        assert_eq!(
            strict.decode(&loose.encode(&all).unwrap()).unwrap(),
            Req {
                id: 1,
                name: "n".into(),
                tag: Some("t".into())
            }
        );
        // No `id`: the error names it, at the struct, where the struct ends.
        let bytes = loose
            .encode(&ReqLoose {
                id: None,
                ..all.clone()
            })
            .unwrap();
        let e = strict.decode(&bytes).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::MissingRequired);
        assert_eq!(e.path(), "Req");
        assert_eq!(
            e.to_string(),
            format!(
                "decode error at Req: missing required field 'id' (offset {})",
                bytes.len()
            )
        );
        // No `tag` (a required Option).
        let bytes = loose
            .encode(&ReqLoose {
                tag: None,
                ..all.clone()
            })
            .unwrap();
        let e = strict.decode(&bytes).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::MissingRequired);
        assert!(
            e.to_string().contains("missing required field 'tag'"),
            "{e}"
        );
        // A default-requiredness field may be absent.
        let bytes = loose
            .encode(&ReqLoose {
                name: None,
                ..all.clone()
            })
            .unwrap();
        assert_eq!(strict.decode(&bytes).unwrap().name, "");
    }
}

#[test]
fn required_field_with_another_wire_type_is_missing() {
    // `id` (a required i64) arrives as a string: skipped, so missing.
    #[derive(Thrift, Debug, PartialEq)]
    #[thrift(rename = "Req")]
    struct StringId {
        #[thrift(id = 1)]
        id: String,
        #[thrift(id = 3)]
        tag: String,
    }
    for options in both() {
        let bytes = codec::<StringId>(options)
            .encode(&StringId {
                id: "1".into(),
                tag: "t".into(),
            })
            .unwrap();
        let e = codec::<Req>(options).decode(&bytes).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::MissingRequired);
        assert_eq!(e.detail(), "missing required field 'id'");
    }
}

#[test]
fn required_none_on_encode() {
    let v = req_without_tag();
    for options in both() {
        let c = codec::<Req>(options);
        let e = c.encode(&v).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::MissingRequired);
        assert_eq!(
            e.to_string(),
            "encode error at Req.tag: missing required field 'tag'"
        );
        assert_eq!(
            c.encoded_len(&v).unwrap_err().kind(),
            ErrorKind::MissingRequired
        );
        // A failed write leaves the buffer as it was.
        let mut out = vec![1, 2, 3];
        assert!(c.write(&v, &mut out).is_err());
        assert!(c.encode_into(&v, &mut out).is_err());
        let mut envelope = vec![9];
        assert!(
            c.encode_message("m", TMessageType::Call, 1, &v, &mut envelope)
                .is_err()
        );
        let mut bm = BytesMut::from(&b"x"[..]);
        assert!(c.encode_to_bytes_mut(&v, &mut bm).is_err());
        assert_eq!((out, envelope), (vec![1, 2, 3], vec![9]));
        assert_eq!(&bm[..], b"x");
    }
}

#[test]
fn optional_none_is_not_written_and_default_requiredness_always_is() {
    // Point {x: 0, y: 0, label: None}: x and y are written although zero; label is not.
    let p = Point::default();
    assert_eq!(
        dynthrift::encode(&p).unwrap(),
        hex("08 0001 00000000 08 0002 00000000 00")
    );
    assert_eq!(
        dynthrift::encode_compact(&p).unwrap(),
        hex("15 00 15 00 00")
    );
    let p = Point {
        label: Some(String::new()),
        ..Point::default()
    };
    assert_eq!(
        dynthrift::encode(&p).unwrap(),
        hex("08 0001 00000000 08 0002 00000000 0b 0003 00000000 00")
    );
    // An absent optional decodes as None, a present empty one as Some("").
    assert_eq!(
        dynthrift::decode::<Point>(&hex("00")).unwrap(),
        Point::default()
    );
    assert_eq!(
        dynthrift::decode::<Point>(&hex("0b 0003 00000000 00")).unwrap(),
        p
    );
}

#[derive(Thrift, Debug, PartialEq)]
struct WithDefaults {
    #[thrift(id = 1, default = 42)]
    answer: i32,
    #[thrift(id = 2, default = "hello".to_owned())]
    greeting: String,
    #[thrift(id = 3, default = Some(vec![1, 2]))]
    maybe: Option<Vec<i32>>,
    #[thrift(id = 4, default = Point { x: 3, y: 4, label: None })]
    origin: Point,
    #[thrift(id = 5, default = Color::Green)]
    color: Color,
    #[thrift(id = 6)]
    plain: i32,
}

#[test]
fn defaults_fill_absent_fields() {
    let want = WithDefaults {
        answer: 42,
        greeting: "hello".into(),
        maybe: Some(vec![1, 2]),
        origin: Point {
            x: 3,
            y: 4,
            label: None,
        },
        color: Color::Green,
        plain: 0,
    };
    for options in both() {
        let c = codec::<WithDefaults>(options);
        // An empty struct on the wire: every field keeps its default.
        assert_eq!(c.decode(&[0]).unwrap(), want);
        // Fields on the wire replace their defaults, the others keep them. Point's x is
        // id 1 (an i32, as `answer`); its y is id 2, an i32 where `greeting` is a string, so
        // it is skipped.
        let bytes = codec::<Point>(options).encode(&point(9)).unwrap();
        let got = c.decode(&bytes).unwrap();
        assert_eq!(
            got,
            WithDefaults {
                answer: 9,
                ..<WithDefaults as dynthrift::Describe>::empty()
            }
        );
        assert_eq!(got.greeting, "hello");
    }
}

// ---------------------------------------------------------------------------------------------
// Schema evolution

#[derive(Thrift, Clone, Debug, PartialEq, Default)]
#[thrift(rename = "Versioned")]
struct V1 {
    #[thrift(id = 1)]
    id: i64,
    #[thrift(id = 2)]
    count: i32,
    #[thrift(id = 4)]
    tags: Vec<String>,
    #[thrift(id = 5)]
    scores: BTreeMap<String, i64>,
    #[thrift(id = 6)]
    ids: BTreeSet<i32>,
    #[thrift(id = 9)]
    last: String,
}

#[derive(Thrift, Clone, Debug, PartialEq, Default)]
#[thrift(rename = "Versioned")]
struct V2 {
    #[thrift(id = 1)]
    id: i64,
    /// Was an i32.
    #[thrift(id = 2)]
    count: String,
    #[thrift(id = 3)]
    added: Vec<Point>,
    /// Was a list<string>.
    #[thrift(id = 4)]
    tags: Vec<i64>,
    /// Was map<string, i64>.
    #[thrift(id = 5)]
    scores: BTreeMap<i64, i64>,
    /// Was set<i32>.
    #[thrift(id = 6)]
    ids: BTreeSet<String>,
    #[thrift(id = 7)]
    flag: bool,
    #[thrift(id = 8)]
    nested: BTreeMap<String, Vec<Shape>>,
    #[thrift(id = 9)]
    last: String,
    #[thrift(id = 10)]
    uuid: [u8; 16],
}

fn v1() -> V1 {
    V1 {
        id: 7,
        count: 3,
        tags: vec!["a".into(), "b".into()],
        scores: [("s".to_string(), 1)].into(),
        ids: [1, 2].into(),
        last: "end".into(),
    }
}

fn v2() -> V2 {
    V2 {
        id: 8,
        count: "three".into(),
        added: vec![point(1), point(2)],
        tags: vec![1, 2, 3],
        scores: [(1, 2)].into(),
        ids: ["x".to_string()].into(),
        flag: true,
        nested: [("k".to_string(), vec![Shape::Name("s".into())])].into(),
        last: "fin".into(),
        uuid: [3; 16],
    }
}

#[test]
fn unknown_fields_and_changed_wire_types_are_skipped() {
    for options in both() {
        // V2 as V1: unknown ids (3, 7, 8, 10) are skipped; `count` has another wire type and
        // is skipped; `tags`, `scores` and `ids` have other element types and are left empty.
        let bytes = codec::<V2>(options).encode(&v2()).unwrap();
        let got = codec::<V1>(options).decode(&bytes).unwrap();
        assert_eq!(
            got,
            V1 {
                id: 8,
                last: "fin".into(),
                ..V1::default()
            }
        );
        // And the other way.
        let bytes = codec::<V1>(options).encode(&v1()).unwrap();
        let got = codec::<V2>(options).decode(&bytes).unwrap();
        assert_eq!(
            got,
            V2 {
                id: 7,
                last: "end".into(),
                ..V2::default()
            }
        );
    }
}

/// A view of [`V2`] that reads three of its fields: its ids leave gaps, like a partial view's.
#[derive(Thrift, Clone, Debug, PartialEq, Default)]
#[thrift(rename = "Versioned")]
struct Sparse {
    #[thrift(id = 1)]
    id: i64,
    #[thrift(id = 2)]
    count: i32,
    #[thrift(id = 9)]
    last: String,
}

/// A field that comes again replaces what it read first, also right after itself and in a
/// struct whose ids leave gaps (where the JIT skips the fields of a gap as it predicts).
#[test]
fn a_repeated_field_replaces_the_first_around_skipped_ones() {
    let bytes = hex(
        "0a 0001 0000000000000001  08 0002 00000005  08 0002 00000006  08 0003 00000007
         0b 0009 00000001 7a  0b 0009 00000001 79  08 000c 00000008  00",
    );
    let got = codec::<Sparse>(Options::binary()).decode(&bytes).unwrap();
    let want = Sparse {
        id: 1,
        count: 6,
        last: "y".into(),
    };
    assert_eq!(got, want);
    // And as the full type: the same fields, the unknown ones too.
    let got = codec::<V1>(Options::binary()).decode(&bytes).unwrap();
    let want = V1 {
        id: 1,
        count: 6,
        last: "y".into(),
        ..V1::default()
    };
    assert_eq!(got, want);
}

#[test]
fn mismatched_containers_are_emptied_even_when_already_filled() {
    // `decode_into` over a value whose containers hold data: a mismatched container on the
    // wire leaves the field empty; a scalar of another wire type leaves the field as it was.
    for options in both() {
        let bytes = codec::<V2>(options).encode(&v2()).unwrap();
        let mut v = v1();
        codec::<V1>(options).decode_into(&bytes, &mut v).unwrap();
        assert_eq!(
            v,
            V1 {
                id: 8,
                count: 3,
                last: "fin".into(),
                ..V1::default()
            }
        );
    }
}

#[test]
fn empty_containers_match_any_element_type() {
    let mut a = v1();
    a.tags.clear();
    a.scores.clear();
    a.ids.clear();
    for options in both() {
        let bytes = codec::<V1>(options).encode(&a).unwrap();
        let got = codec::<V2>(options).decode(&bytes).unwrap();
        assert_eq!((got.id, got.last.as_str()), (7, "end"));
        assert!(got.tags.is_empty() && got.scores.is_empty() && got.ids.is_empty());
    }
}

/// V2 seen by a proxy that only knows `id` and `last`, and keeps the rest.
#[derive(Thrift, Debug, PartialEq, Default)]
#[thrift(rename = "Versioned")]
struct Proxy {
    #[thrift(id = 1)]
    id: i64,
    #[thrift(id = 9)]
    last: String,
    #[thrift(unknown_fields)]
    unknown: UnknownFields,
}

/// V2's fields with the proxy's known ones first, as the proxy writes them.
#[derive(Thrift, Debug, PartialEq, Default)]
#[thrift(rename = "Versioned")]
struct KnownFirst {
    #[thrift(id = 1)]
    id: i64,
    #[thrift(id = 9)]
    last: String,
    #[thrift(id = 3)]
    added: Vec<Point>,
    #[thrift(id = 7)]
    flag: bool,
    #[thrift(id = 8)]
    nested: BTreeMap<String, Vec<Shape>>,
    #[thrift(id = 2)]
    count: String,
}

#[test]
fn kept_unknown_fields_binary_to_binary_is_identical() {
    let proxy = codec::<Proxy>(Options::binary());
    let original = KnownFirst {
        id: 5,
        last: "l".into(),
        added: vec![point(1)],
        flag: true,
        nested: [("k".to_string(), vec![Shape::Circle(2.0)])].into(),
        count: "c".into(),
    };
    let bytes = dynthrift::encode(&original).unwrap();
    let p = proxy.decode(&bytes).unwrap();
    assert_eq!((p.id, p.last.as_str()), (5, "l"));
    assert_eq!(proxy.encode(&p).unwrap(), bytes);
    assert_eq!(proxy.encoded_len(&p).unwrap(), bytes.len());
    // The kept bytes are the unknown fields' Binary encoding, headers included, no stop:
    // everything between the known fields and the final stop.
    let known = dynthrift::encode(&Proxy {
        id: 5,
        last: "l".into(),
        unknown: UnknownFields::default(),
    })
    .unwrap();
    assert_eq!(p.unknown.bytes, &bytes[known.len() - 1..bytes.len() - 1]);
}

#[test]
fn kept_unknown_fields_cross_protocols() {
    let original = v2();
    let kept_from_binary = codec::<Proxy>(Options::binary())
        .decode(&dynthrift::encode(&original).unwrap())
        .unwrap()
        .unknown;
    for from in both() {
        for to in both() {
            let bytes = codec::<V2>(from).encode(&original).unwrap();
            let p = codec::<Proxy>(from).decode(&bytes).unwrap();
            assert_eq!((p.id, p.last.as_str()), (8, "fin"));
            // Whatever the input protocol, the kept bytes are Binary.
            assert_eq!(p.unknown, kept_from_binary);
            let out = codec::<Proxy>(to).encode(&p).unwrap();
            assert_eq!(codec::<Proxy>(to).encoded_len(&p).unwrap(), out.len());
            let back = codec::<V2>(to).decode(&out).unwrap();
            assert_eq!(back, original, "{:?} -> {:?}", from.protocol, to.protocol);
        }
    }
    // Compact in, Compact out, with the known field first on the wire: the same bytes.
    #[derive(Thrift, Debug, PartialEq)]
    #[thrift(rename = "Versioned")]
    struct IdOnly {
        #[thrift(id = 1)]
        id: i64,
        #[thrift(unknown_fields)]
        unknown: UnknownFields,
    }
    let c = codec::<IdOnly>(Options::compact());
    let bytes = dynthrift::encode_compact(&original).unwrap();
    assert_eq!(c.encode(&c.decode(&bytes).unwrap()).unwrap(), bytes);
}

#[test]
fn kept_unknown_fields_around_known_ones() {
    // Unknown ids below, between and far above the known one, bools among them (folded into
    // Compact headers); after the proxy the logical value is intact.
    #[derive(Thrift, Debug, PartialEq, Default)]
    #[thrift(rename = "Versioned")]
    struct Middle {
        #[thrift(id = 5)]
        five: i32,
        #[thrift(unknown_fields)]
        unknown: UnknownFields,
    }
    #[derive(Thrift, Debug, PartialEq, Default)]
    #[thrift(rename = "Versioned")]
    struct Wide {
        #[thrift(id = -4)]
        neg: bool,
        #[thrift(id = 1)]
        one: bool,
        #[thrift(id = 5)]
        five: i32,
        #[thrift(id = 300)]
        far: Vec<bool>,
        #[thrift(id = 2)]
        two: BTreeMap<i32, bool>,
        #[thrift(id = 6)]
        empty: BTreeMap<i32, String>,
    }
    let w = Wide {
        neg: true,
        one: false,
        five: 5,
        far: vec![true, false],
        two: [(1, true)].into(),
        empty: BTreeMap::new(),
    };
    for from in both() {
        for to in both() {
            let m = codec::<Middle>(from)
                .decode(&codec::<Wide>(from).encode(&w).unwrap())
                .unwrap();
            assert_eq!(m.five, 5);
            let out = codec::<Middle>(to).encode(&m).unwrap();
            assert_eq!(codec::<Middle>(to).encoded_len(&m).unwrap(), out.len());
            assert_eq!(codec::<Wide>(to).decode(&out).unwrap(), w);
        }
    }
}

#[test]
fn decode_into_appends_kept_unknown_fields() {
    // Merge semantics, as protobuf's: `decode_into` appends what it keeps to what is there.
    let c = codec::<Proxy>(Options::binary());
    let bytes = dynthrift::encode(&v2()).unwrap();
    let once = c.decode(&bytes).unwrap();
    let mut twice = c.decode(&bytes).unwrap();
    c.decode_into(&bytes, &mut twice).unwrap();
    assert_eq!(twice.unknown.bytes.len(), 2 * once.unknown.bytes.len());
}

// ---------------------------------------------------------------------------------------------
// Unions and enums

#[derive(Thrift, Debug, PartialEq, Default)]
#[thrift(rename = "Shape")]
struct ShapeFields {
    #[thrift(id = 1)]
    circle: Option<f64>,
    #[thrift(id = 2)]
    square: Option<Point>,
    #[thrift(id = 3)]
    name: Option<String>,
    #[thrift(id = 99)]
    unknown: Option<i32>,
}

#[test]
fn unions_need_exactly_one_field() {
    for options in both() {
        let fields = codec::<ShapeFields>(options);
        let shape = codec::<Shape>(options);
        let one = fields
            .encode(&ShapeFields {
                name: Some("n".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(shape.decode(&one).unwrap(), Shape::Name("n".into()));
        // A union is written as a struct with its one field.
        assert_eq!(shape.encode(&Shape::Name("n".into())).unwrap(), one);

        let none = fields.encode(&ShapeFields::default()).unwrap();
        let e = shape.decode(&none).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidUnion);
        assert_eq!(
            e.to_string(),
            "decode error at Shape: union has no field set (offset 1)"
        );

        let two = fields
            .encode(&ShapeFields {
                circle: Some(1.0),
                name: Some("n".into()),
                ..Default::default()
            })
            .unwrap();
        let e = shape.decode(&two).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidUnion);
        assert_eq!(e.detail(), "union has more than one field set");

        // The same field twice is two fields.
        let mut twice = one[..one.len() - 1].to_vec();
        twice.extend_from_slice(&one);
        if options.protocol == dynthrift::Protocol::Compact {
            // The second header repeats id 3: Compact's long form (type, zigzag id).
            twice = hex("38 01 6e 08 06 01 6e 00");
        }
        assert_eq!(
            shape.decode(&twice).unwrap_err().kind(),
            ErrorKind::InvalidUnion
        );

        // Only an unknown field: none of the union's fields is set.
        let unknown = fields
            .encode(&ShapeFields {
                unknown: Some(1),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(
            shape.decode(&unknown).unwrap_err().kind(),
            ErrorKind::InvalidUnion
        );
    }
}

#[test]
fn union_errors_name_their_path() {
    #[derive(Thrift, Debug, PartialEq, Default)]
    #[thrift(rename = "Holder")]
    struct HolderFields {
        #[thrift(id = 1)]
        shapes: Vec<ShapeFields>,
    }
    #[derive(Thrift, Debug, PartialEq)]
    struct Holder {
        #[thrift(id = 1)]
        shapes: Vec<Shape>,
    }
    let v = HolderFields {
        shapes: vec![
            ShapeFields {
                circle: Some(1.0),
                ..Default::default()
            },
            ShapeFields::default(),
        ],
    };
    for options in both() {
        let bytes = codec::<HolderFields>(options).encode(&v).unwrap();
        let e = codec::<Holder>(options).decode(&bytes).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidUnion);
        assert_eq!(e.path(), "Holder.shapes[1]");
    }
}

#[derive(Thrift, Debug, PartialEq, Default)]
#[thrift(rename = "Item")]
struct ItemRaw {
    #[thrift(id = 1)]
    name: Vec<u8>,
    #[thrift(id = 2)]
    color: i32,
}

#[derive(Thrift, Debug, PartialEq)]
struct Item {
    #[thrift(id = 1)]
    name: String,
    #[thrift(id = 2)]
    color: Color,
}

#[derive(Thrift, Debug, PartialEq, Default)]
#[thrift(rename = "Outer")]
struct OuterRaw {
    #[thrift(id = 1)]
    items: Vec<ItemRaw>,
    #[thrift(id = 2)]
    m: BTreeMap<String, ItemRaw>,
    #[thrift(id = 3)]
    by_id: BTreeMap<i32, ItemRaw>,
    #[thrift(id = 4)]
    keyed: BTreeMap<Vec<u8>, i32>,
}

#[derive(Thrift, Debug, PartialEq)]
struct Outer {
    #[thrift(id = 1)]
    items: Vec<Item>,
    #[thrift(id = 2)]
    m: BTreeMap<String, Item>,
    #[thrift(id = 3)]
    by_id: BTreeMap<i32, Item>,
    #[thrift(id = 4)]
    keyed: BTreeMap<String, i32>,
}

fn item(name: &[u8], color: i32) -> ItemRaw {
    ItemRaw {
        name: name.to_vec(),
        color,
    }
}

#[test]
fn enums_reject_unknown_values() {
    let good = OuterRaw {
        items: vec![item(b"a", 0), item(b"b", 5), item(b"c", -3)],
        ..Default::default()
    };
    for options in both() {
        let outer = codec::<Outer>(options);
        let raw = codec::<OuterRaw>(options);
        let v = outer.decode(&raw.encode(&good).unwrap()).unwrap();
        let colors: Vec<Color> = v.items.iter().map(|i| i.color).collect();
        assert_eq!(colors, [Color::Red, Color::Green, Color::Blue]);
        // Enums are written as their i32 values.
        assert_eq!(
            raw.decode(&outer.encode(&v).unwrap()).unwrap(),
            OuterRaw {
                items: vec![item(b"a", 0), item(b"b", 5), item(b"c", -3)],
                ..Default::default()
            }
        );

        let bad = OuterRaw {
            items: vec![item(b"a", 0), item(b"b", 1), item(b"c", 99)],
            ..Default::default()
        };
        let e = outer.decode(&raw.encode(&bad).unwrap()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnknownEnumValue);
        assert_eq!(e.path(), "Outer.items[1].color");
    }
    // Binary offsets: field header 3 + list header 5; each item is 16 bytes (name: 3 + 4 + 1,
    // color: 3 + 4, stop 1); item 1's color value starts at 8 + 16 + 8 + 3 = 35.
    let bad = OuterRaw {
        items: vec![item(b"a", 0), item(b"b", 1)],
        ..Default::default()
    };
    let e = dynthrift::decode::<Outer>(&dynthrift::encode(&bad).unwrap()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "decode error at Outer.items[1].color: unknown value 1 for enum 'Color' (offset 35)"
    );
}

#[test]
fn error_paths_through_lists_and_maps() {
    // Invalid UTF-8 in items[2].name: item 2's name data starts at 8 + 2 × 16 + 7 = 47.
    let v = OuterRaw {
        items: vec![item(b"a", 0), item(b"b", 0), item(b"\xff", 0)],
        ..Default::default()
    };
    let e = dynthrift::decode::<Outer>(&dynthrift::encode(&v).unwrap()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidUtf8);
    assert_eq!(
        e.to_string(),
        "decode error at Outer.items[2].name: invalid utf-8 (offset 47)"
    );
    for options in both() {
        let raw = codec::<OuterRaw>(options);
        let outer = codec::<Outer>(options);
        // A map value, named by its string key.
        let v = OuterRaw {
            m: [("k".to_string(), item(b"ok", 42))].into(),
            ..Default::default()
        };
        let e = outer.decode(&raw.encode(&v).unwrap()).unwrap_err();
        assert_eq!(e.path(), r#"Outer.m["k"].color"#);
        // By an integer key.
        let v = OuterRaw {
            by_id: [(-7, item(b"\xc3", 0))].into(),
            ..Default::default()
        };
        let e = outer.decode(&raw.encode(&v).unwrap()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidUtf8);
        assert_eq!(e.path(), "Outer.by_id[-7].name");
        // A key that does not decode is named by its position.
        let v = OuterRaw {
            keyed: [(b"a".to_vec(), 1), (b"\xff".to_vec(), 2)].into(),
            ..Default::default()
        };
        let e = outer.decode(&raw.encode(&v).unwrap()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidUtf8);
        assert_eq!(e.path(), "Outer.keyed<key 1>");
    }
}

#[test]
fn encode_error_paths() {
    #[derive(Thrift, Debug)]
    struct Wrapper {
        #[thrift(id = 1)]
        reqs: Vec<Req>,
        #[thrift(id = 2)]
        by_name: BTreeMap<String, Req>,
    }
    let ok = Req {
        id: 1,
        name: String::new(),
        tag: Some("t".into()),
    };
    let w = Wrapper {
        reqs: vec![ok, req_without_tag()],
        by_name: BTreeMap::new(),
    };
    let e = dynthrift::encode(&w).unwrap_err();
    assert_eq!(
        e.to_string(),
        "encode error at Wrapper.reqs[1].tag: missing required field 'tag'"
    );
    let w = Wrapper {
        reqs: vec![],
        by_name: [("x".to_string(), req_without_tag())].into(),
    };
    let e = dynthrift::encode_compact(&w).unwrap_err();
    assert_eq!(e.path(), r#"Wrapper.by_name["x"].tag"#);
    // A key that does not encode is named by its position; a value by its key.
    #[derive(Thrift, Debug, PartialEq, Eq, PartialOrd, Ord)]
    struct Key {
        #[thrift(id = 1, required)]
        k: Option<i32>,
    }
    #[derive(Thrift, Debug)]
    struct Keyed {
        #[thrift(id = 1)]
        by_key: BTreeMap<Key, i64>,
        #[thrift(id = 2)]
        by_id: HashMap<i32, Req>,
    }
    let w = Keyed {
        by_key: [(Key { k: Some(1) }, 1), (Key { k: None }, 2)].into(),
        by_id: HashMap::new(),
    };
    for options in both() {
        let e = codec::<Keyed>(options).encode(&w).unwrap_err();
        assert_eq!(e.path(), "Keyed.by_key<key 0>.k", "{options:?}");
        assert_eq!(e.kind(), ErrorKind::MissingRequired);
    }
    let w = Keyed {
        by_key: BTreeMap::new(),
        by_id: [(-3, req_without_tag())].into(),
    };
    for options in both() {
        let e = codec::<Keyed>(options).encoded_len(&w).unwrap_err();
        assert_eq!(e.path(), "Keyed.by_id[-3].tag", "{options:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Decode entry points

#[derive(Thrift, Debug, PartialEq, Clone)]
struct Blob {
    #[thrift(id = 1)]
    data: Bytes,
    #[thrift(id = 2)]
    copy: Vec<u8>,
    #[thrift(id = 3)]
    more: Vec<Bytes>,
    #[thrift(id = 4)]
    by_key: BTreeMap<String, Bytes>,
}

#[test]
fn decode_bytes_shares_the_input() {
    let v = Blob {
        data: Bytes::from_static(b"shared data"),
        copy: b"copied".to_vec(),
        more: vec![Bytes::from_static(b"one"), Bytes::from_static(b"two")],
        by_key: [("k".to_string(), Bytes::from_static(b"value"))].into(),
    };
    for options in both() {
        let c = codec::<Blob>(options);
        let buf = Bytes::from(c.encode(&v).unwrap());
        let range = buf.as_ptr_range();
        let inside = |b: &[u8]| {
            let r = b.as_ptr_range();
            range.start <= r.start && r.end <= range.end
        };
        let got = c.decode_bytes(&buf).unwrap();
        assert_eq!(got, v);
        assert!(inside(&got.data));
        assert!(got.more.iter().all(|b| inside(b)));
        assert!(inside(&got.by_key["k"]));
        assert!(!inside(&got.copy));
        // `decode` copies.
        let copied = c.decode(&buf).unwrap();
        assert!(!inside(&copied.data));
        // The decoded value keeps the buffer alive.
        drop(buf);
        assert_eq!(got.data, v.data);
        // Trailing bytes are refused as by `decode`.
        let mut longer = c.encode(&v).unwrap();
        longer.push(0);
        assert_eq!(
            c.decode_bytes(&Bytes::from(longer)).unwrap_err().kind(),
            ErrorKind::InvalidData
        );
    }
}

#[test]
fn trailing_bytes() {
    for options in both() {
        let c = codec::<Point>(options);
        let mut bytes = c.encode(&point(2)).unwrap();
        let len = bytes.len();
        bytes.extend_from_slice(&[0xde, 0xad]);
        let e = c.decode(&bytes).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidData);
        assert_eq!(
            e.to_string(),
            format!("decode error: 2 bytes after the end of the struct (offset {len})")
        );
        let lenient = codec::<Point>(options.allow_trailing(true));
        assert_eq!(lenient.decode(&bytes).unwrap(), point(2));
        assert_eq!(c.decode_prefix(&bytes).unwrap(), (point(2), len));
        assert_eq!(c.skip(&bytes).unwrap(), len);
    }
}

#[test]
fn decode_prefix_reads_consecutive_values() {
    for options in both() {
        let c = codec::<Point>(options);
        let mut buf = Vec::new();
        for i in 0..5 {
            c.encode_into(&point(i), &mut buf).unwrap();
        }
        let mut at = 0;
        for i in 0..5 {
            let (p, used) = c.decode_prefix(&buf[at..]).unwrap();
            assert_eq!(p, point(i));
            assert_eq!(c.skip(&buf[at..]).unwrap(), used);
            assert_eq!(dynthrift::skip_struct(&buf[at..], &options).unwrap(), used);
            at += used;
        }
        assert_eq!(at, buf.len());
        assert_eq!(
            c.decode_prefix(&buf[..2]).unwrap_err().kind(),
            ErrorKind::UnexpectedEof
        );
    }
}

#[test]
fn decode_into_keeps_absent_fields() {
    for options in both() {
        let c = codec::<Point>(options);
        let mut v = Point {
            x: 1,
            y: 2,
            label: Some("keep".into()),
        };
        // Nothing on the wire: nothing changes.
        assert_eq!(c.decode_into(&[0], &mut v).unwrap(), 1);
        assert_eq!(v.label.as_deref(), Some("keep"));
        // x and y on the wire, no label: the label stays.
        let bytes = c
            .encode(&Point {
                x: 10,
                y: 20,
                label: None,
            })
            .unwrap();
        assert_eq!(c.decode_into(&bytes, &mut v).unwrap(), bytes.len());
        assert_eq!(
            v,
            Point {
                x: 10,
                y: 20,
                label: Some("keep".into())
            }
        );
        // A list on the wire replaces the list, it is not appended to.
        let mut e = everything();
        let bytes = codec::<Everything>(options)
            .encode(&Everything {
                a_list: vec![9],
                ..everything()
            })
            .unwrap();
        codec::<Everything>(options)
            .decode_into(&bytes, &mut e)
            .unwrap();
        assert_eq!(e.a_list, [9]);
    }
}

#[test]
fn skip_measures_any_struct() {
    for options in both() {
        let bytes = codec::<Everything>(options).encode(&everything()).unwrap();
        assert_eq!(codec::<Point>(options).skip(&bytes).unwrap(), bytes.len());
        let e = codec::<Point>(options)
            .skip(&bytes[..bytes.len() - 1])
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnexpectedEof);
        let e = dynthrift::skip_struct(&bytes, &options.max_depth(2)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::DepthLimit);
    }
}

#[test]
fn encode_into_write_and_bytes_mut_append() {
    for options in both() {
        let c = codec::<Point>(options);
        let one = c.encode(&point(1)).unwrap();
        let two = c.encode(&point(2)).unwrap();
        assert_eq!(c.encoded_len(&point(1)).unwrap(), one.len());
        let mut out = b"head".to_vec();
        c.encode_into(&point(1), &mut out).unwrap();
        c.write(&point(2), &mut out).unwrap();
        assert_eq!(out, [&b"head"[..], &one, &two].concat());
        let mut bm = BytesMut::from(&b"head"[..]);
        c.encode_to_bytes_mut(&point(1), &mut bm).unwrap();
        c.encode_to_bytes_mut(&point(2), &mut bm).unwrap();
        assert_eq!(&bm[..], &out[..]);
        // Frames split off and still alive share the buffer: they keep their bytes.
        let frame = bm.split_to(4 + one.len()).freeze();
        c.encode_to_bytes_mut(&point(1), &mut bm).unwrap();
        let next = bm.split().freeze();
        c.encode_to_bytes_mut(&point(2), &mut bm).unwrap();
        assert_eq!(&frame[..], &[&b"head"[..], &one].concat()[..]);
        assert_eq!(
            (&next[..], &bm[..]),
            (&[&two[..], &one].concat()[..], &two[..])
        );
    }
}

#[test]
fn bools_on_the_wire() {
    #[derive(Thrift, Debug, PartialEq)]
    struct Flags {
        #[thrift(id = 1)]
        a: bool,
        #[thrift(id = 2)]
        list: Vec<bool>,
    }
    // Binary: any non-zero byte is true.
    let bytes = hex("02 0001 07  0f 0002 02 00000003 00 01 ff  00");
    assert_eq!(
        dynthrift::decode::<Flags>(&bytes).unwrap(),
        Flags {
            a: true,
            list: vec![false, true, true]
        }
    );
    // Compact: a field's value is in its header; elements: 1 is true, anything else false.
    let bytes = hex("11 19 31 01 02 03 00");
    assert_eq!(
        dynthrift::decode_compact::<Flags>(&bytes).unwrap(),
        Flags {
            a: true,
            list: vec![true, false, false]
        }
    );
    // Written as Apache writes them.
    let f = Flags {
        a: false,
        list: vec![true, false],
    };
    assert_eq!(
        dynthrift::encode(&f).unwrap(),
        hex("02 0001 00  0f 0002 02 00000002 01 00  00")
    );
    assert_eq!(
        dynthrift::encode_compact(&f).unwrap(),
        hex("12 19 21 01 02 00")
    );
}

// ---------------------------------------------------------------------------------------------
// Limits and malformed input

#[test]
fn container_and_string_limits() {
    let v = Everything {
        a_list: vec![1, 2, 3, 4],
        a_string: "12345".into(),
        ..everything()
    };
    for options in both() {
        let bytes = codec::<Everything>(options).encode(&v).unwrap();
        let e = codec::<Everything>(options.max_container_len(3))
            .decode(&bytes)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::LengthLimit);
        assert_eq!(e.path(), "Everything.a_list");
        let e = codec::<Everything>(options.max_string_len(4))
            .decode(&bytes)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::LengthLimit);
        assert_eq!(e.path(), "Everything.a_string");
        assert!(
            codec::<Everything>(options.max_container_len(4).max_string_len(16))
                .decode(&bytes)
                .is_ok()
        );
    }
}

#[test]
fn declared_lengths_beyond_the_input() {
    #[derive(Thrift, Debug, PartialEq)]
    struct Big {
        #[thrift(id = 1)]
        list: Vec<i64>,
        #[thrift(id = 2)]
        s: String,
    }
    // A list<i64> claiming i32::MAX elements, then nothing: refused before allocating.
    let e = dynthrift::decode::<Big>(&hex("0f 0001 0a 7fffffff 00")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LengthLimit);
    assert_eq!(e.path(), "Big.list");
    assert_eq!(e.offset(), Some(3));
    let e = dynthrift::decode::<Big>(&hex("0b 0002 7fffffff 00")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LengthLimit);
    let e = dynthrift::decode::<Big>(&hex("0b 0002 ffffffff 00")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NegativeLength);
    assert_eq!(e.path(), "Big.s");
}

#[test]
fn truncated_input_is_an_error_at_every_offset() {
    let v = everything();
    for options in both() {
        let c = codec::<Everything>(options);
        let bytes = c.encode(&v).unwrap();
        for cut in 0..bytes.len() {
            let e = c.decode(&bytes[..cut]).unwrap_err();
            assert!(
                matches!(e.kind(), ErrorKind::UnexpectedEof | ErrorKind::LengthLimit),
                "cut {cut}: {e}"
            );
            assert!(e.offset().unwrap() <= cut, "cut {cut}: {e}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn corrupted_input_never_panics(flips in vec((any::<prop::sample::Index>(), any::<u8>()), 1..4)) {
        // A valid encoding with a few bytes changed: any result but a panic.
        for options in both() {
            let c = codec::<Everything>(options);
            let mut bytes = c.encode(&everything()).unwrap();
            for (i, b) in &flips {
                let at = i.index(bytes.len());
                bytes[at] = *b;
            }
            if let Ok(v) = c.decode(&bytes) {
                // Whatever decodes encodes again.
                prop_assert!(c.encode(&v).is_ok());
            }
            let _ = c.skip(&bytes);
            let _ = c.decode_bytes(&Bytes::from(bytes));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Messages

#[test]
fn message_envelopes() {
    let kinds = [
        TMessageType::Call,
        TMessageType::Reply,
        TMessageType::Exception,
        TMessageType::Oneway,
    ];
    let setups = [
        ("strict", Options::binary(), &[0x80u8, 0x01][..]),
        (
            "non-strict",
            Options::binary().binary_non_strict(true),
            &[0, 0, 0, 3, b'g'][..],
        ),
        ("compact", Options::compact(), &[0x82][..]),
    ];
    for (label, options, prefix) in setups {
        let c = codec::<Point>(options);
        for kind in kinds {
            for seqid in [0, 1, -1, i32::MIN, i32::MAX] {
                let mut out = vec![];
                c.encode_message("get", kind, seqid, &point(4), &mut out)
                    .unwrap();
                assert!(out.starts_with(prefix), "{label}: {out:x?}");
                let (h, v) = c.decode_message(&out).unwrap();
                assert_eq!(
                    h,
                    MessageHeader {
                        name: "get",
                        kind,
                        seqid
                    },
                    "{label}"
                );
                assert_eq!(v, point(4));
                // The header alone, and where the payload starts.
                let (h2, at) = dynthrift::read_message_header(&out, options.protocol).unwrap();
                assert_eq!(h2, h);
                assert_eq!(&out[at..], &c.encode(&point(4)).unwrap()[..]);
            }
        }
    }
    // A strict codec reads non-strict messages and the other way round.
    let mut out = vec![];
    codec::<Point>(Options::binary().binary_non_strict(true))
        .encode_message("m", TMessageType::Call, 3, &point(1), &mut out)
        .unwrap();
    assert_eq!(
        codec::<Point>(Options::binary())
            .decode_message(&out)
            .unwrap()
            .1,
        point(1)
    );
    let mut out = vec![];
    codec::<Point>(Options::binary())
        .encode_message("m", TMessageType::Call, 3, &point(1), &mut out)
        .unwrap();
    assert_eq!(
        codec::<Point>(Options::binary().binary_non_strict(true))
            .decode_message(&out)
            .unwrap()
            .1,
        point(1)
    );
    // `encode_message` appends.
    let mut out = b"xx".to_vec();
    codec::<Point>(Options::compact())
        .encode_message("m", TMessageType::Oneway, 0, &point(1), &mut out)
        .unwrap();
    assert_eq!(&out[..3], b"xx\x82");
}

#[test]
fn message_errors_have_absolute_offsets() {
    let mut out = vec![];
    codec::<OuterRaw>(Options::binary())
        .encode_message(
            "call",
            TMessageType::Call,
            1,
            &OuterRaw {
                items: vec![item(b"a", 0), item(b"b", 1)],
                ..Default::default()
            },
            &mut out,
        )
        .unwrap();
    // Header: 4 + 4 + 4 ("call") + 4 = 16 bytes; the bad enum value at 35 in the body.
    let e = codec::<Outer>(Options::binary())
        .decode_message(&out)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnknownEnumValue);
    assert_eq!(e.offset(), Some(16 + 35));
    assert_eq!(e.path(), "Outer.items[1].color");
    // Trailing bytes after the body.
    out.push(0);
    let c = codec::<OuterRaw>(Options::binary());
    let e = c.decode_message(&out).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidData);
    assert_eq!(e.offset(), Some(out.len() - 1));
    // A bad header.
    let e = c.decode_message(&[0x80, 0x02, 0, 1]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidMessage);
    let e = codec::<OuterRaw>(Options::compact())
        .decode_message(&[0x82, 0x21])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnexpectedEof);
}

#[test]
fn application_exception_roundtrip_and_apache_bytes() {
    let ex = ApplicationException::new(
        ApplicationErrorKind::UnknownMethod,
        "unknown method getUser",
    );
    assert_eq!(ex.error_kind(), ApplicationErrorKind::UnknownMethod);
    // From Apache Thrift's Python library (0.25.0): writeMessageBegin("getUser", EXCEPTION, 7)
    // then TApplicationException(UNKNOWN_METHOD, "unknown method getUser").write(protocol).
    let body = "0b0001 00000016 756e6b6e6f776e206d6574686f6420676574557365720800020000000100";
    let expected = [
        (
            Options::binary(),
            format!("80010003 00000007 67657455736572 00000007 {body}"),
        ),
        (
            Options::binary().binary_non_strict(true),
            format!("00000007 67657455736572 03 00000007 {body}"),
        ),
        (
            Options::compact(),
            "8261 07 07 67657455736572 18 16 756e6b6e6f776e206d6574686f642067657455736572 1502 00"
                .to_string(),
        ),
    ];
    for (options, want) in expected {
        let c = codec::<ApplicationException>(options);
        let mut out = vec![];
        c.encode_message("getUser", TMessageType::Exception, 7, &ex, &mut out)
            .unwrap();
        assert_eq!(out, hex(&want), "{options:?}");
        let (h, back) = c.decode_message(&out).unwrap();
        assert_eq!(
            (h.name, h.kind, h.seqid),
            ("getUser", TMessageType::Exception, 7)
        );
        assert_eq!(back, ex);
    }
    // Unknown codes survive; they read as `Unknown`.
    let odd = ApplicationException {
        message: String::new(),
        kind: 77,
    };
    let back =
        dynthrift::decode::<ApplicationException>(&dynthrift::encode(&odd).unwrap()).unwrap();
    assert_eq!(back, odd);
    assert_eq!(back.error_kind(), ApplicationErrorKind::Unknown);
    assert_eq!(
        ex.to_string(),
        "application exception (UnknownMethod): unknown method getUser"
    );
}

// ---------------------------------------------------------------------------------------------
// Threads

const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Codec<Everything>>();
    send_sync::<Codec<Tree>>();
    send_sync::<Options>();
    send_sync::<dynthrift::Error>();
};

#[test]
fn codecs_are_shared_across_threads() {
    let c = codec::<Everything>(Options::compact());
    let v = everything();
    let bytes = c.encode(&v).unwrap();
    std::thread::scope(|s| {
        for t in 0..4 {
            let (c, v, bytes) = (&c, &v, &bytes);
            s.spawn(move || {
                for i in 0..20 {
                    let mut mine = v.clone();
                    mine.a_i32 = t * 100 + i;
                    let out = c.encode(&mine).unwrap();
                    assert_eq!(c.decode(&out).unwrap(), mine);
                    assert_eq!(c.decode(bytes).unwrap(), *v);
                }
            });
        }
        // Codecs for a type not used before, built concurrently.
        for _ in 0..4 {
            s.spawn(|| {
                #[derive(Thrift, Debug, PartialEq)]
                struct Fresh {
                    #[thrift(id = 1)]
                    items: Vec<BTreeMap<String, Point>>,
                }
                let c = Codec::<Fresh>::new().unwrap();
                let f = Fresh {
                    items: vec![[("a".to_string(), point(1))].into()],
                };
                assert_eq!(c.decode(&c.encode(&f).unwrap()).unwrap(), f);
            });
        }
    });
}
