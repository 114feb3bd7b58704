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

/// A struct whose list field's descriptor claims 2^31 elements (no Thrift count can say so):
/// encoding and sizing it must fail with the interpreter's error on every backend, before an
/// element is read; with no nesting level left for the list, the depth error comes first.
#[derive(Debug, Default)]
struct Claims {
    x: i32,
    items: Vec<i32>,
}

/// `Vec<i32>`'s thunks, but for the length (the vector itself stays empty).
mod claims {
    pub unsafe fn len(_: *const u8) -> usize {
        1 << 31
    }
    pub unsafe fn as_ptr(p: *const u8) -> *const u8 {
        // SAFETY: the descriptor's contract: `p` is a live `Vec<i32>`.
        unsafe { (*(p as *const Vec<i32>)).as_ptr() as *const u8 }
    }
    pub unsafe fn clear_reserve(p: *mut u8, additional: usize) {
        // SAFETY: as above, exclusively.
        let v = unsafe { &mut *(p as *mut Vec<i32>) };
        v.clear();
        v.reserve(additional);
    }
    pub unsafe fn push_empty(p: *mut u8) -> *mut u8 {
        // SAFETY: as above, exclusively.
        let v = unsafe { &mut *(p as *mut Vec<i32>) };
        v.push(0);
        v.last_mut().unwrap() as *mut i32 as *mut u8
    }
    pub unsafe fn spare_ptr(p: *mut u8) -> *mut u8 {
        // SAFETY: as above, exclusively.
        unsafe { (*(p as *mut Vec<i32>)).spare_capacity_mut().as_mut_ptr() as *mut u8 }
    }
    pub unsafe fn spare_len(p: *const u8) -> usize {
        // SAFETY: as above.
        let v = unsafe { &*(p as *const Vec<i32>) };
        v.capacity() - v.len()
    }
    pub unsafe fn commit(p: *mut u8, n: usize) {
        // SAFETY: as above, exclusively.
        let v = unsafe { &mut *(p as *mut Vec<i32>) };
        // SAFETY: the caller initialised the first `n` spare elements.
        unsafe { v.set_len(v.len() + n) };
    }
}

static CLAIMED_ITEMS: TypeDesc = TypeDesc::List(&SeqDesc {
    elem: <i32 as Describe>::TYPE,
    elem_size: size_of::<i32>(),
    len: claims::len,
    as_ptr: claims::as_ptr,
    clear_reserve: claims::clear_reserve,
    push_empty: claims::push_empty,
    spare_ptr: claims::spare_ptr,
    spare_len: claims::spare_len,
    commit: claims::commit,
});
static CLAIMS_CACHE: CodecCache = CodecCache::new();
static CLAIMS: StructDesc = StructDesc {
    name: "Claims",
    kind: StructKind::Struct,
    fields: &[
        FieldDesc {
            id: 1,
            name: "x",
            ty: <i32 as Describe>::TYPE,
            req: Requiredness::Default,
            offset: offset_of!(Claims, x),
        },
        FieldDesc {
            id: 2,
            name: "items",
            ty: &CLAIMED_ITEMS,
            req: Requiredness::Default,
            offset: offset_of!(Claims, items),
        },
    ],
    unknown_fields: None,
    union: None,
    size: size_of::<Claims>(),
    align: align_of::<Claims>(),
    cache: &CLAIMS_CACHE,
};
fn claims_desc() -> &'static StructDesc {
    &CLAIMS
}
// SAFETY: offsets from `Claims` itself; `items` is a `Vec<i32>` behind thunks that only lie
// about its length.
unsafe impl Describe for Claims {
    const TYPE: &'static TypeDesc = &TypeDesc::Struct(claims_desc);
    fn empty() -> Self {
        Claims::default()
    }
}

#[test]
fn a_count_beyond_i32_fails_alike_on_every_backend() {
    use dynthrift::{Backend, ErrorKind};
    let v = Claims::default();
    for opts in [Options::binary(), Options::compact()] {
        for (depth, kind, detail) in [
            (
                64,
                ErrorKind::InvalidValue,
                "length 2147483648 does not fit in an i32",
            ),
            (1, ErrorKind::DepthLimit, "nesting too deep"),
        ] {
            let opts = opts.max_depth(depth);
            for backend in [Backend::Interpreter, Backend::Auto] {
                let c = Codec::<Claims>::with_options(opts.backend(backend)).unwrap();
                for e in [c.encode(&v).unwrap_err(), c.encoded_len(&v).unwrap_err()] {
                    let what = format!("{opts:?} on {:?}: {e}", c.backend());
                    assert_eq!(e.kind(), kind, "{what}");
                    assert_eq!(e.detail(), detail, "{what}");
                    assert_eq!(e.path(), "Claims.items", "{what}");
                }
            }
        }
    }
}
