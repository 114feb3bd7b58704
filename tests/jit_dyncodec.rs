//! `DynCodec`, the facade for IDL-only values: its API on the benchmark workloads (bytes equal
//! to the derived types'), options (limits, trailing bytes), wrong-struct values, and the
//! backend it reports.

use std::sync::{Arc, OnceLock};

use dynthrift::{
    Backend, BackendInfo, Codec, DynCodec, DynSchema, DynStruct, ErrorKind, Options, Protocol,
};
use dynthrift_testkit::testdata;
use dynthrift_testkit::workloads;

fn baseline() -> &'static Arc<DynSchema> {
    static TYPES: OnceLock<Arc<DynSchema>> = OnceLock::new();
    TYPES.get_or_init(|| {
        let path = testdata("idl/frugal/tests/baseline.thrift");
        DynSchema::new(dynthrift::idl::parse_file(path).unwrap()).unwrap()
    })
}

fn assert_send_sync_clone<T: Send + Sync + Clone>() {}

#[test]
fn is_send_sync_clone() {
    assert_send_sync_clone::<DynCodec>();
}

fn options() -> [Options; 4] {
    [
        Options::binary(),
        Options::compact(),
        Options::binary().backend(Backend::Interpreter),
        Options::compact().backend(Backend::Interpreter),
    ]
}

#[test]
fn workloads_roundtrip_with_derived_bytes() {
    let samples: [(&str, Vec<u8>, Vec<u8>); 3] = [
        (
            "Simple",
            dynthrift::encode(&workloads::simple()).unwrap(),
            dynthrift::encode_compact(&workloads::simple()).unwrap(),
        ),
        (
            "Nesting",
            dynthrift::encode(&workloads::nesting()).unwrap(),
            dynthrift::encode_compact(&workloads::nesting()).unwrap(),
        ),
        (
            "Nesting2",
            dynthrift::encode(&workloads::nesting2()).unwrap(),
            dynthrift::encode_compact(&workloads::nesting2()).unwrap(),
        ),
    ];
    for (name, binary, compact) in &samples {
        for options in options() {
            let codec = DynCodec::new(baseline(), name, options).unwrap();
            let bytes = match options.protocol {
                Protocol::Binary => binary,
                Protocol::Compact => compact,
            };
            let v = codec.decode(bytes).unwrap();
            assert_eq!(v.name(), *name);
            let again = codec.encode(&v).unwrap();
            assert_eq!(codec.encoded_len(&v).unwrap(), again.len());
            // Maps of derived values iterate in hash order: compare by decoding again.
            assert_eq!(again.len(), bytes.len(), "{name} {options:?}");
            assert_eq!(codec.decode(&again).unwrap(), v);
            // The same as the value's own methods.
            assert_eq!(again, v.encode(options.protocol).unwrap());
            let mut out = vec![9];
            codec.encode_into(&v, &mut out).unwrap();
            assert_eq!(&out[1..], &again[..]);
            // Prefix, skip, trailing bytes.
            let mut longer = again.clone();
            longer.extend_from_slice(&[1, 2, 3]);
            let (p, used) = codec.decode_prefix(&longer).unwrap();
            assert_eq!((used, &p), (again.len(), &v));
            assert_eq!(codec.skip(&longer).unwrap(), again.len());
            let e = codec.decode(&longer).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidData);
            let lenient = DynCodec::new(baseline(), name, options.allow_trailing(true)).unwrap();
            assert_eq!(lenient.decode(&longer).unwrap(), v);
        }
    }
}

#[test]
fn simple_bytes_equal_derived_exactly() {
    // Simple has no maps, so its bytes are deterministic.
    for options in options() {
        let derived = Codec::<workloads::Simple>::with_options(options).unwrap();
        let bytes = derived.encode(&workloads::simple()).unwrap();
        let codec = DynCodec::new(baseline(), "Simple", options).unwrap();
        let v = codec.decode(&bytes).unwrap();
        assert_eq!(codec.encode(&v).unwrap(), bytes);
    }
}

#[test]
fn limits_apply() {
    let bytes = dynthrift::encode(&workloads::nesting()).unwrap();
    let codec = DynCodec::new(baseline(), "Nesting", Options::binary().max_depth(1)).unwrap();
    assert_eq!(
        codec.decode(&bytes).unwrap_err().kind(),
        ErrorKind::DepthLimit
    );
    let full = DynCodec::new(baseline(), "Nesting", Options::binary()).unwrap();
    let v = full.decode(&bytes).unwrap();
    assert_eq!(codec.encode(&v).unwrap_err().kind(), ErrorKind::DepthLimit);
    assert_eq!(
        codec.encoded_len(&v).unwrap_err().kind(),
        ErrorKind::DepthLimit
    );
    let short = DynCodec::new(baseline(), "Nesting", Options::binary().max_string_len(10)).unwrap();
    let e = short.decode(&bytes).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LengthLimit);
    assert_eq!(e.path(), "Nesting.String");
    let few = DynCodec::new(
        baseline(),
        "Nesting",
        Options::binary().max_container_len(3),
    )
    .unwrap();
    let e = few.decode(&bytes).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LengthLimit);
    assert_eq!(e.path(), "Nesting.ListSimple");
}

#[test]
fn wrong_struct_and_unknown_name() {
    let codec = DynCodec::new(baseline(), "Simple", Options::binary()).unwrap();
    let other = DynStruct::new(baseline(), "Nesting").unwrap();
    assert!(codec.encode(&other).is_err());
    assert!(codec.encoded_len(&other).is_err());
    let mut other = other;
    assert!(codec.decode_into(&[0], &mut other).is_err());
    assert!(DynCodec::new(baseline(), "NoSuchStruct", Options::binary()).is_err());
    // The same struct of another (equal) schema is a different schema.
    let path = testdata("idl/frugal/tests/baseline.thrift");
    let again = DynSchema::new(dynthrift::idl::parse_file(path).unwrap()).unwrap();
    let foreign = DynStruct::new(&again, "Simple").unwrap();
    assert!(codec.encode(&foreign).is_err());
}

#[test]
fn truncated_input_errors_match_struct_decode() {
    let bytes = dynthrift::encode(&workloads::nesting()).unwrap();
    let codec = DynCodec::new(baseline(), "Nesting", Options::binary()).unwrap();
    for cut in [0, 1, 5, 100, 1000, bytes.len() - 1] {
        let got = codec.decode(&bytes[..cut]).unwrap_err();
        let want =
            DynStruct::decode(baseline(), "Nesting", &bytes[..cut], Protocol::Binary).unwrap_err();
        assert_eq!(
            (got.kind(), got.path()),
            (want.kind(), want.path()),
            "cut {cut}"
        );
    }
}

#[test]
fn backend_reports_reason() {
    let codec = DynCodec::new(
        baseline(),
        "Simple",
        Options::binary().backend(Backend::Interpreter),
    )
    .unwrap();
    assert_eq!(
        codec.backend(),
        BackendInfo::Interpreter("the interpreter was chosen in the options".into())
    );
}

// ---------------------------------------------------------------------------------------------
// The JIT against the interpreter on IDL-only values.

fn jit_on() -> bool {
    !std::env::var("DYNTHRIFT_JIT").is_ok_and(|v| v == "off")
}

const TREE: &str = r#"
    enum Color { RED = 1, BLUE = 2 }
    struct Leaf {
        1: required string name,
        2: optional i64 n,
        3: list<i32> xs = [1, 2],
    }
    union U { 1: i32 a, 2: string b, 3: Leaf leaf }
    struct Tree {
        1: Leaf leaf,
        2: optional Leaf maybe,
        3: list<Leaf> leaves,
        4: map<string, Leaf> by_name,
        5: set<string> tags,
        6: optional U u,
        7: Color color,
        8: binary data,
        9: uuid id,
        10: optional list<list<Leaf>> deep,
        11: map<i32, list<string>> m,
        12: double d = 1.5,
        13: bool b,
        14: byte y,
        15: i16 s,
        16: required i32 req,
        17: list<i64> longs,
        18: optional Tree child,
    }
"#;

fn tree_types() -> &'static Arc<DynSchema> {
    static TYPES: OnceLock<Arc<DynSchema>> = OnceLock::new();
    TYPES.get_or_init(|| DynSchema::new(dynthrift::idl::parse_str(TREE).unwrap()).unwrap())
}

fn leaf(name: &str, n: Option<i64>) -> DynStruct {
    let mut l = DynStruct::new(tree_types(), "Leaf").unwrap();
    l.set("name", name).unwrap();
    if let Some(n) = n {
        l.set("n", n).unwrap();
    }
    l
}

fn tree(depth: usize) -> DynStruct {
    use dynthrift::Value;
    let t = tree_types();
    let mut v = DynStruct::new(t, "Tree").unwrap();
    v.set("leaf", leaf("root", Some(-5))).unwrap();
    v.set(
        "leaves",
        Value::List(vec![leaf("a", None).into(), leaf("bé", Some(7)).into()]),
    )
    .unwrap();
    v.set(
        "by_name",
        Value::Map(vec![
            ("x".into(), leaf("x", Some(1)).into()),
            ("y".into(), leaf("y", None).into()),
        ]),
    )
    .unwrap();
    v.set("tags", Value::Set(vec!["t1".into(), "t2".into()]))
        .unwrap();
    let mut u = DynStruct::new(t, "U").unwrap();
    u.set("leaf", leaf("in union", None)).unwrap();
    v.set("u", u).unwrap();
    v.set("color", 2i32).unwrap();
    v.set("data", vec![0u8, 1, 2, 255]).unwrap();
    v.set("id", Value::Uuid([7; 16])).unwrap();
    v.set(
        "deep",
        Value::List(vec![
            Value::List(vec![leaf("d", None).into()]),
            Value::List(vec![]),
        ]),
    )
    .unwrap();
    v.set(
        "m",
        Value::Map(vec![(
            3i32.into(),
            Value::List(vec!["p".into(), "q".into()]),
        )]),
    )
    .unwrap();
    v.set("b", true).unwrap();
    v.set("y", -3i8).unwrap();
    v.set("s", 300i16).unwrap();
    v.set("req", 42i32).unwrap();
    v.set("longs", Value::List(vec![1i64.into(), (-1i64).into()]))
        .unwrap();
    if depth > 0 {
        v.set("child", tree(depth - 1)).unwrap();
    }
    v
}

fn both_dyn(name: &str, options: Options) -> (DynCodec, DynCodec) {
    let jit = DynCodec::new(tree_types(), name, options).unwrap();
    let interp = DynCodec::new(tree_types(), name, options.backend(Backend::Interpreter)).unwrap();
    (jit, interp)
}

fn same_dyn_decode(jit: &DynCodec, interp: &DynCodec, bytes: &[u8]) {
    let a = jit.decode(bytes).map_err(|e| e.to_string());
    let b = interp.decode(bytes).map_err(|e| e.to_string());
    assert!(
        a == b,
        "jit {:?} / interpreter {:?} on {:02x?}",
        a.as_ref().err(),
        b.as_ref().err(),
        bytes
    );
}

#[test]
fn records_run_compiled_code() {
    let (jit, _) = both_dyn("Tree", Options::binary());
    if jit_on() {
        assert_eq!(jit.backend(), BackendInfo::Jit);
        let baseline_codec = DynCodec::new(baseline(), "Nesting2", Options::binary()).unwrap();
        assert_eq!(baseline_codec.backend(), BackendInfo::Jit);
    } else {
        assert_eq!(
            jit.backend(),
            BackendInfo::Interpreter("DYNTHRIFT_JIT=off".into())
        );
    }
    let u = DynCodec::new(tree_types(), "U", Options::binary()).unwrap();
    if jit_on() {
        assert_eq!(u.backend(), BackendInfo::Jit);
    }
    let c = DynCodec::new(tree_types(), "Tree", Options::compact()).unwrap();
    if jit_on() {
        assert_eq!(c.backend(), BackendInfo::Jit);
    }
}

#[test]
fn records_encode_and_decode_identically() {
    let (jit, interp) = both_dyn("Tree", Options::binary());
    for depth in 0..3 {
        let v = tree(depth);
        let a = jit.encode(&v).unwrap();
        let b = interp.encode(&v).unwrap();
        assert_eq!(a, b);
        assert_eq!(jit.encoded_len(&v).unwrap(), b.len());
        assert_eq!(jit.decode(&b).unwrap(), v);
        same_dyn_decode(&jit, &interp, &b);
        for cut in 0..b.len() {
            same_dyn_decode(&jit, &interp, &b[..cut]);
        }
        for at in 0..b.len() {
            for x in [0x01, 0x7f, 0x80, 0xff] {
                let mut broken = b.clone();
                broken[at] ^= x;
                same_dyn_decode(&jit, &interp, &broken);
            }
        }
        for options in [
            Options::binary().max_depth(2),
            Options::binary().max_depth(4),
            Options::binary().max_container_len(1),
            Options::binary().max_string_len(2),
        ] {
            let (j, i) = both_dyn("Tree", options);
            same_dyn_decode(&j, &i, &b);
            assert_eq!(
                j.encode(&v).map_err(|e| e.to_string()),
                i.encode(&v).map_err(|e| e.to_string())
            );
            assert_eq!(
                j.encoded_len(&v).map_err(|e| e.to_string()),
                i.encoded_len(&v).map_err(|e| e.to_string())
            );
        }
    }
    // Missing required fields, on encode and on decode.
    let mut v = tree(1);
    v.unset("req").unwrap();
    assert_eq!(
        jit.encode(&v).map_err(|e| e.to_string()),
        interp.encode(&v).map_err(|e| e.to_string())
    );
    let mut bad_leaf = leaf("x", None);
    bad_leaf.unset("name").unwrap();
    let mut v = tree(0);
    v.set("leaf", bad_leaf).unwrap();
    let e = jit.encode(&v).unwrap_err();
    assert_eq!(e.to_string(), interp.encode(&v).unwrap_err().to_string());
    assert_eq!(e.path(), "Tree.leaf.name");
}

#[test]
fn decode_into_replaces_like_the_interpreter() {
    let (jit, interp) = both_dyn("Tree", Options::binary());
    let bytes = interp.encode(&tree(1)).unwrap();
    let mut a = tree(2);
    let mut b = tree(2);
    assert_eq!(
        jit.decode_into(&bytes, &mut a).unwrap(),
        interp.decode_into(&bytes, &mut b).unwrap()
    );
    assert_eq!(a, b);
}

#[test]
fn baseline_records_match_the_interpreter() {
    for name in ["Simple", "Nesting", "Nesting2"] {
        let jit = DynCodec::new(baseline(), name, Options::binary()).unwrap();
        let interp = DynCodec::new(
            baseline(),
            name,
            Options::binary().backend(Backend::Interpreter),
        )
        .unwrap();
        let bytes = match name {
            "Simple" => dynthrift::encode(&workloads::simple()).unwrap(),
            "Nesting" => dynthrift::encode(&workloads::nesting()).unwrap(),
            _ => dynthrift::encode(&workloads::nesting2()).unwrap(),
        };
        let a = jit.decode(&bytes).unwrap();
        let b = interp.decode(&bytes).unwrap();
        assert_eq!(a, b);
        assert_eq!(jit.encode(&a).unwrap(), interp.encode(&b).unwrap());
        assert_eq!(jit.encode(&a).unwrap(), bytes, "records keep wire order");
        if name != "Nesting2" {
            for at in (0..bytes.len()).step_by(7) {
                let mut broken = bytes.clone();
                broken[at] ^= 0xff;
                let x = jit.decode(&broken).map_err(|e| e.to_string());
                let y = interp.decode(&broken).map_err(|e| e.to_string());
                assert!(x == y, "{name} at {at}: {:?} / {:?}", x.err(), y.err());
            }
        }
    }
}

#[test]
fn threads_compile_a_struct_once() {
    let types = DynSchema::new(dynthrift::idl::parse_str(TREE).unwrap()).unwrap();
    let bytes = DynCodec::new(tree_types(), "Tree", Options::binary())
        .unwrap()
        .encode(&tree(1))
        .unwrap();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let c = DynCodec::new(&types, "Tree", Options::binary()).unwrap();
                let v = c.decode(&bytes).unwrap();
                assert_eq!(c.encode(&v).unwrap(), bytes);
            });
        }
    });
}

// ---------------------------------------------------------------------------------------------
// IDL-only unions, compiled in both protocols: every member type, unions in containers, a
// union wider than one presence word, invalid unions on encode and decode, decoding into
// values that hold another member (or a stale record), on valid, truncated and corrupted input.

const UNIONS: &str = r#"
    enum Color { RED = 1, BLUE = 2 }
    struct Leaf { 1: required string name, 2: optional i64 n }
    union Inner { 1: i32 a, 2: string b }
    union Wide {
        1: bool flag,
        2: byte small,
        3: i16 short,
        4: i64 num,
        5: double real,
        6: string text,
        7: binary blob,
        8: Leaf leaf,
        9: list<i32> ints,
        10: Color color,
        40: i32 far,
        11: Inner inner,
        12: Wide again,
        13: map<string, Leaf> names,
        14: set<i64> longs,
        15: uuid id,
    }
    struct Holder {
        1: Wide w,
        2: list<Wide> many,
        3: optional Inner maybe,
        4: map<i32, Wide> by_id,
        5: i32 after,
    }
    struct Members {
        1: optional bool flag,
        2: optional byte small,
        6: optional i32 mistyped,
        8: optional Leaf leaf,
        99: optional string unknown,
        40: optional i32 far,
    }
"#;

fn union_types() -> &'static Arc<DynSchema> {
    static TYPES: OnceLock<Arc<DynSchema>> = OnceLock::new();
    TYPES.get_or_init(|| {
        // A union of 70 members: presence bits in two words.
        let mut idl = UNIONS.to_string();
        idl.push_str("union Big {");
        for i in 1..=70 {
            idl.push_str(&format!(" {i}: i32 f{i},"));
        }
        idl.push_str(" 71: Leaf leaf }");
        DynSchema::new(dynthrift::idl::parse_str(&idl).unwrap()).unwrap()
    })
}

fn u_value(name: &str, field: &str, v: impl Into<dynthrift::Value>) -> DynStruct {
    let mut s = DynStruct::new(union_types(), name).unwrap();
    s.set(field, v).unwrap();
    s
}

fn u_leaf(name: &str, n: Option<i64>) -> DynStruct {
    let mut l = DynStruct::new(union_types(), "Leaf").unwrap();
    l.set("name", name).unwrap();
    if let Some(n) = n {
        l.set("n", n).unwrap();
    }
    l
}

fn wide_values() -> Vec<DynStruct> {
    use dynthrift::Value;
    vec![
        u_value("Wide", "flag", true),
        u_value("Wide", "flag", false),
        u_value("Wide", "small", -7i8),
        u_value("Wide", "short", -300i16),
        u_value("Wide", "num", 1i64 << 40),
        u_value("Wide", "real", 2.5f64),
        u_value("Wide", "text", "héllo"),
        u_value("Wide", "blob", vec![0u8, 1, 255]),
        u_value("Wide", "leaf", u_leaf("leaf", Some(-1))),
        u_value(
            "Wide",
            "ints",
            Value::List(vec![1i32.into(), (-2i32).into()]),
        ),
        u_value("Wide", "color", 2i32),
        u_value("Wide", "far", 123_456i32),
        u_value("Wide", "inner", u_value("Inner", "b", "inner")),
        u_value(
            "Wide",
            "again",
            u_value("Wide", "again", u_value("Wide", "small", 1i8)),
        ),
        u_value(
            "Wide",
            "names",
            Value::Map(vec![("k".into(), u_leaf("v", None).into())]),
        ),
        u_value(
            "Wide",
            "longs",
            Value::Set(vec![5i64.into(), (-5i64).into()]),
        ),
        u_value("Wide", "id", Value::Uuid([9; 16])),
    ]
}

fn holder() -> DynStruct {
    use dynthrift::Value;
    let mut h = DynStruct::new(union_types(), "Holder").unwrap();
    h.set("w", u_value("Wide", "text", "top")).unwrap();
    h.set(
        "many",
        Value::List(wide_values().into_iter().map(Value::from).collect()),
    )
    .unwrap();
    h.set("maybe", u_value("Inner", "a", -9i32)).unwrap();
    h.set(
        "by_id",
        Value::Map(vec![
            (1i32.into(), u_value("Wide", "flag", true).into()),
            (2i32.into(), u_value("Wide", "far", -1i32).into()),
        ]),
    )
    .unwrap();
    h.set("after", 77i32).unwrap();
    h
}

fn union_codecs(name: &str, p: Protocol) -> (DynCodec, DynCodec) {
    let o = Options::default().protocol(p);
    let jit = DynCodec::new(union_types(), name, o).unwrap();
    let interp = DynCodec::new(union_types(), name, o.backend(Backend::Interpreter)).unwrap();
    if jit_on() {
        assert_eq!(jit.backend(), BackendInfo::Jit, "{name} {p:?}");
    }
    (jit, interp)
}

/// Same bytes, length and errors from both backends.
fn same_dyn_encode(jit: &DynCodec, interp: &DynCodec, v: &DynStruct) -> Result<Vec<u8>, String> {
    let a = jit.encode(v).map_err(|e| e.to_string());
    let b = interp.encode(v).map_err(|e| e.to_string());
    assert_eq!(a, b);
    assert_eq!(
        jit.encoded_len(v).map_err(|e| e.to_string()),
        interp.encoded_len(v).map_err(|e| e.to_string())
    );
    b
}

/// Same decode (fresh, and into copies of `reuse`: same result and value) from both backends.
fn same_dyn_decode_into(jit: &DynCodec, interp: &DynCodec, bytes: &[u8], reuse: &DynStruct) {
    same_dyn_decode(jit, interp, bytes);
    let (mut x, mut y) = (reuse.clone(), reuse.clone());
    let a = jit.decode_into(bytes, &mut x).map_err(|e| e.to_string());
    let b = interp.decode_into(bytes, &mut y).map_err(|e| e.to_string());
    assert_eq!(a, b, "{bytes:02x?}");
    if b.is_ok() {
        assert_eq!(x, y, "{bytes:02x?}");
    }
}

fn broken(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = (0..bytes.len()).map(|n| bytes[..n].to_vec()).collect();
    for at in 0..bytes.len() {
        for x in [0x01, 0x80, 0xff] {
            let mut b = bytes.to_vec();
            b[at] ^= x;
            out.push(b);
        }
    }
    out
}

#[test]
fn idl_unions_run_compiled_code() {
    for p in [Protocol::Binary, Protocol::Compact] {
        for name in ["Wide", "Inner", "Holder", "Big", "U", "Tree"] {
            let types = if matches!(name, "U" | "Tree") {
                tree_types()
            } else {
                union_types()
            };
            let c = DynCodec::new(types, name, Options::default().protocol(p)).unwrap();
            if jit_on() {
                assert_eq!(c.backend(), BackendInfo::Jit, "{name} {p:?}");
            } else {
                assert!(matches!(c.backend(), BackendInfo::Interpreter(_)));
            }
        }
    }
}

#[test]
fn idl_unions_encode_and_decode_identically() {
    for p in [Protocol::Binary, Protocol::Compact] {
        let (jit, interp) = union_codecs("Wide", p);
        let reuse = u_value("Wide", "leaf", u_leaf("old", Some(5)));
        for v in wide_values() {
            let bytes = same_dyn_encode(&jit, &interp, &v).unwrap();
            assert_eq!(jit.decode(&bytes).unwrap(), v);
            for b in broken(&bytes) {
                same_dyn_decode_into(&jit, &interp, &b, &reuse);
            }
        }
        let (jit, interp) = union_codecs("Holder", p);
        let h = holder();
        let bytes = same_dyn_encode(&jit, &interp, &h).unwrap();
        assert_eq!(jit.decode(&bytes).unwrap(), h);
        let mut reuse = holder();
        reuse.set("w", u_value("Wide", "num", 1i64)).unwrap();
        for b in broken(&bytes).into_iter().step_by(2) {
            same_dyn_decode_into(&jit, &interp, &b, &reuse);
        }
    }
}

#[test]
fn idl_unions_without_one_member_fail_identically() {
    for p in [Protocol::Binary, Protocol::Compact] {
        // Encode: no member, at top level and nested.
        let (jit, interp) = union_codecs("Wide", p);
        let empty = DynStruct::new(union_types(), "Wide").unwrap();
        let e = same_dyn_encode(&jit, &interp, &empty).unwrap_err();
        assert!(e.contains("exactly one field set, found 0"), "{e}");
        let mut v = u_value("Wide", "flag", true);
        v.unset("flag").unwrap();
        same_dyn_encode(&jit, &interp, &v).unwrap_err();
        let (hj, hi) = union_codecs("Holder", p);
        let mut h = holder();
        h.set("w", empty.clone()).unwrap();
        let e = same_dyn_encode(&hj, &hi, &h).unwrap_err();
        assert!(e.contains("Holder.w"), "{e}");
        let mut h = holder();
        h.set(
            "many",
            dynthrift::Value::List(vec![
                u_value("Wide", "flag", true).into(),
                empty.clone().into(),
            ]),
        )
        .unwrap();
        same_dyn_encode(&hj, &hi, &h).unwrap_err();
        // Decode: members from another struct's encoding.
        let (mj, mi) = union_codecs("Members", p);
        let mut errors = 0;
        for fields in [
            &[][..],
            &["flag", "small"],
            &["small", "leaf", "far"],
            &["unknown"],
            &["mistyped"],
            &["mistyped", "unknown", "far"],
            &["leaf", "unknown"],
        ] {
            let mut m = DynStruct::new(union_types(), "Members").unwrap();
            for f in fields {
                match *f {
                    "flag" => m.set(f, true),
                    "small" => m.set(f, 2i8),
                    "mistyped" | "far" => m.set(f, 3i32),
                    "leaf" => m.set(f, u_leaf("l", None)),
                    _ => m.set(f, "u"),
                }
                .unwrap();
            }
            let bytes = same_dyn_encode(&mj, &mi, &m).unwrap();
            let reuse = u_value("Wide", "leaf", u_leaf("old", Some(5)));
            same_dyn_decode_into(&jit, &interp, &bytes, &reuse);
            for b in broken(&bytes) {
                same_dyn_decode_into(&jit, &interp, &b, &reuse);
            }
            errors += jit.decode(&bytes).is_err() as usize;
        }
        assert_eq!(errors, 5, "{p:?}");
    }
}

#[test]
fn idl_unions_decode_into_values_holding_another_member() {
    for p in [Protocol::Binary, Protocol::Compact] {
        let (jit, interp) = union_codecs("Wide", p);
        // A stale record: `leaf` was set, then `small` replaced it (the record stays behind).
        let mut stale = u_value("Wide", "leaf", u_leaf("stale", Some(5)));
        stale.set("small", 1i8).unwrap();
        let bytes = interp
            .encode(&u_value("Wide", "leaf", u_leaf("new", None)))
            .unwrap();
        let mut a = stale.clone();
        jit.decode_into(&bytes, &mut a).unwrap();
        assert_eq!(a, u_value("Wide", "leaf", u_leaf("new", None)));
        same_dyn_decode_into(&jit, &interp, &bytes, &stale);
        // The same member already set: its record is decoded into (fields not on the wire
        // stay), as the interpreter does.
        let same = u_value("Wide", "leaf", u_leaf("old", Some(5)));
        let mut a = same.clone();
        jit.decode_into(&bytes, &mut a).unwrap();
        assert_eq!(a, u_value("Wide", "leaf", u_leaf("new", Some(5))));
        same_dyn_decode_into(&jit, &interp, &bytes, &same);
        // Members in the second presence word.
        let (bj, bi) = union_codecs("Big", p);
        for (from, to) in [
            ("f70", "f1"),
            ("f1", "f70"),
            ("f64", "f65"),
            ("leaf", "f66"),
        ] {
            let set = |s: &mut DynStruct, f: &str| match f {
                "leaf" => s.set(f, u_leaf("x", Some(1))),
                _ => s.set(f, 7i32),
            };
            let mut old = DynStruct::new(union_types(), "Big").unwrap();
            set(&mut old, from).unwrap();
            let mut new = DynStruct::new(union_types(), "Big").unwrap();
            set(&mut new, to).unwrap();
            let bytes = same_dyn_encode(&bj, &bi, &new).unwrap();
            let mut a = old.clone();
            bj.decode_into(&bytes, &mut a).unwrap();
            assert_eq!(a, new, "{from} -> {to}");
            same_dyn_decode_into(&bj, &bi, &bytes, &old);
            for b in broken(&bytes) {
                same_dyn_decode_into(&bj, &bi, &b, &old);
            }
        }
    }
}

/// Containers of IDL-only records (raw vectors) walked by the JIT's helper with compiled
/// element code: the same bytes, sizes and errors (paths through the container) as the
/// interpreter, both protocols, under depth limits, with a bad element in each container.
#[test]
fn record_containers_encode_like_the_interpreter() {
    use dynthrift::Value;
    let mut bad_leaf = leaf("x", None);
    bad_leaf.unset("name").unwrap();
    let with = |field: &str, v: Value| {
        let mut t = tree(1);
        t.set(field, v).unwrap();
        t
    };
    let values = [
        tree(0),
        tree(2),
        with(
            "leaves",
            Value::List(vec![leaf("a", None).into(), bad_leaf.clone().into()]),
        ),
        with(
            "by_name",
            Value::Map(vec![
                ("ok".into(), leaf("ok", Some(1)).into()),
                ("bad".into(), bad_leaf.clone().into()),
            ]),
        ),
        with(
            "deep",
            Value::List(vec![Value::List(vec![
                leaf("d", None).into(),
                bad_leaf.clone().into(),
            ])]),
        ),
        with("leaves", Value::List(vec![])),
    ];
    for protocol in [Options::binary(), Options::compact()] {
        for depth in [1, 2, 3, 4, 6, 64] {
            let options = protocol.max_depth(depth);
            let (jit, interp) = both_dyn("Tree", options);
            assert!(jit_on() == (jit.backend() == dynthrift::BackendInfo::Jit));
            for v in &values {
                let a = jit.encode(v).map_err(|e| (e.to_string(), e.path()));
                let b = interp.encode(v).map_err(|e| (e.to_string(), e.path()));
                assert_eq!(a, b, "depth {depth}");
                assert_eq!(
                    jit.encoded_len(v).map_err(|e| e.to_string()),
                    interp.encoded_len(v).map_err(|e| e.to_string()),
                    "depth {depth}"
                );
            }
        }
    }
    let e = both_dyn("Tree", Options::binary())
        .0
        .encode(&values[2])
        .unwrap_err();
    assert_eq!(e.path(), "Tree.leaves[1].name");
}

/// `encode` sizes its buffer once, in both protocols: the compiled writer never grows it
/// (which would reallocate and copy the whole output).
#[test]
fn encode_allocates_its_buffer_once() {
    for options in [Options::binary(), Options::compact()] {
        let (jit, interp) = both_dyn("Tree", options);
        for depth in 0..3 {
            let v = tree(depth);
            let a = jit.encode(&v).unwrap();
            assert_eq!(a, interp.encode(&v).unwrap());
            dynthrift_testkit::assert_sized_once(&a);
        }
    }
}
