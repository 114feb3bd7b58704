//! A descriptor written by hand, exactly as `#[derive(Thrift)]` emits one, so that the
//! interpreter is tested independently of the derive.
#![allow(unsafe_code)]

use std::collections::HashMap;

use dynthrift::__private::*;
use dynthrift::{Codec, Options};

#[derive(Debug, Clone, PartialEq)]
struct Point {
    x: i32,
    label: Option<String>,
    tags: Vec<String>,
    scores: HashMap<String, i64>,
    next: Option<Box<Point>>,
    flag: bool,
}

static POINT_CACHE: CodecCache = CodecCache::new();
static POINT: StructDesc = StructDesc {
    name: "Point",
    kind: StructKind::Struct,
    fields: &[
        FieldDesc {
            id: 1,
            name: "x",
            ty: <i32 as Describe>::TYPE,
            req: Requiredness::Required,
            offset: offset_of!(Point, x),
        },
        FieldDesc {
            id: 2,
            name: "label",
            ty: <Option<String> as Describe>::TYPE,
            req: Requiredness::Optional,
            offset: offset_of!(Point, label),
        },
        FieldDesc {
            id: 3,
            name: "tags",
            ty: <Vec<String> as Describe>::TYPE,
            req: Requiredness::Default,
            offset: offset_of!(Point, tags),
        },
        FieldDesc {
            id: 4,
            name: "scores",
            ty: <HashMap<String, i64> as Describe>::TYPE,
            req: Requiredness::Default,
            offset: offset_of!(Point, scores),
        },
        FieldDesc {
            id: 5,
            name: "next",
            ty: <Option<Box<Point>> as Describe>::TYPE,
            req: Requiredness::Optional,
            offset: offset_of!(Point, next),
        },
        FieldDesc {
            id: 6,
            name: "flag",
            ty: <bool as Describe>::TYPE,
            req: Requiredness::Default,
            offset: offset_of!(Point, flag),
        },
    ],
    unknown_fields: None,
    union: None,
    size: size_of::<Point>(),
    align: align_of::<Point>(),
    cache: &POINT_CACHE,
};
fn point_desc() -> &'static StructDesc {
    &POINT
}
// SAFETY: offsets and field types above are taken from `Point` itself.
unsafe impl Describe for Point {
    const TYPE: &'static TypeDesc = &TypeDesc::Struct(point_desc);
    fn empty() -> Self {
        Point {
            x: 0,
            label: None,
            tags: Vec::new(),
            scores: HashMap::new(),
            next: None,
            flag: false,
        }
    }
}

fn sample() -> Point {
    Point {
        x: 7,
        label: Some("héllo".into()),
        tags: vec!["a".into(), "bc".into()],
        scores: HashMap::from([("k".to_string(), -5)]),
        next: Some(Box::new(Point {
            x: -1,
            label: None,
            tags: vec![],
            scores: HashMap::new(),
            next: None,
            flag: true,
        })),
        flag: false,
    }
}

#[test]
fn roundtrip_both_protocols() {
    for opts in [Options::binary(), Options::compact()] {
        let c = Codec::<Point>::with_options(opts).unwrap();
        let v = sample();
        let bytes = c.encode(&v).unwrap();
        assert_eq!(c.encoded_len(&v).unwrap(), bytes.len());
        assert_eq!(c.decode(&bytes).unwrap(), v);
    }
}

#[test]
fn binary_bytes_are_exact() {
    let v = Point {
        x: 1,
        label: None,
        tags: vec!["a".into()],
        scores: HashMap::new(),
        next: None,
        flag: true,
    };
    let bytes = dynthrift::encode(&v).unwrap();
    let expect: Vec<u8> = vec![
        8, 0, 1, 0, 0, 0, 1, // i32 x = 1
        15, 0, 3, 11, 0, 0, 0, 1, 0, 0, 0, 1, b'a', // list<string> tags
        13, 0, 4, 11, 10, 0, 0, 0, 0, // map<string,i64> scores, empty
        2, 0, 6, 1, // bool flag
        0,
    ];
    assert_eq!(bytes, expect);
    let compact = dynthrift::encode_compact(&v).unwrap();
    let expect_compact: Vec<u8> = vec![
        0x15, 0x02, // i32 x = zigzag(1)
        0x29, 0x18, 0x01, b'a', // delta 2 list, 1 x binary
        0x1b, 0x00, // delta 1 map, empty
        0x21, // delta 2, bool true
        0x00,
    ];
    assert_eq!(compact, expect_compact);
    assert_eq!(dynthrift::decode_compact::<Point>(&compact).unwrap(), v);
}

#[test]
fn missing_required_and_truncation() {
    let e = dynthrift::decode::<Point>(&[0]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "decode error at Point: missing required field 'x' (offset 1)"
    );
    let bytes = dynthrift::encode(&sample()).unwrap();
    for cut in 0..bytes.len() {
        assert!(dynthrift::decode::<Point>(&bytes[..cut]).is_err());
    }
}
