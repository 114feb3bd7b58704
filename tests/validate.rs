//! Validation from `vt.*` annotations (`dynthrift::validate`): every rule key with a good and
//! a bad value, checked on `DynStruct` values and on raw bytes in both protocols (same
//! verdict, same message); nested `elem`/`key`/`value` rules; recursion into structs and
//! `vt.skip`; unsupported keys reported when the validator is built; `ValidatedCodec` on a
//! derived type.

use std::sync::Arc;

use bytes::Bytes;
use dynthrift::validate::{ValidatedCodec, Validator};
use dynthrift::{
    Codec, DynSchema, DynStruct, ErrorKind, Options, Protocol, TMessageType, Thrift, Value,
};

const PROTOCOLS: [Protocol; 2] = [Protocol::Binary, Protocol::Compact];

const IDL: &str = r#"
enum Level { DEBUG = 1, INFO = 2, WARN = 3 }

struct Inner {
    1: optional i32 n (vt.ge = "0")
}

struct All {
    1: optional byte byte_lt (vt.lt = "10")
    2: optional i16 i16_le (vt.le = "10")
    3: optional i32 i32_gt (vt.gt = "1000", vt.lt = "10000")
    4: optional i64 i64_ge (vt.ge = "0x10")
    5: optional double d_range (vt.min = "0.5", vt.max = "1.5")
    6: optional i32 konst (vt.const = "7")
    7: optional i64 in_set (vt.in = "1", vt.in = "2", vt.in = "3")
    8: optional i32 not_in_set (vt.not_in = "0", vt.not_in = "-1")
    9: optional bool must_true (vt.const = "true")
    10: optional string s_const (vt.const = "hello")
    11: optional string pat (vt.pattern = "^[a-z]+[0-9]*$")
    12: optional string pre (vt.prefix = "Debug")
    13: optional string suf (vt.suffix = ".json")
    14: optional string has (vt.contains = "@")
    15: optional string hasnt (vt.not_contains = " ")
    16: optional string sizes (vt.min_size = "2", vt.max_size = "4")
    17: optional string runes (vt.min_rune_size = "2", vt.max_rune_size = "3")
    18: optional string level_name (vt.in = "Debug", vt.in = "Info")
    19: optional binary bin (vt.not_in = "xx", vt.max_size = "3")
    20: optional Level lvl (vt.defined_only = "true")
    21: optional Level lvl_const (vt.const = "Level.WARN")
    22: optional Level lvl_in (vt.in = "DEBUG", vt.in = "2")
    23: optional list<i32> lst (vt.min_size = "1", vt.max_size = "3", vt.elem.gt = "0")
    24: optional set<string> st (vt.elem.min_size = "1")
    25: optional map<Level, string> mp (vt.key.defined_only = "true", vt.value.prefix = "v", vt.max_size = "2")
    26: optional list<list<i32>> nested (vt.elem.max_size = "3", vt.elem.elem.lt = "100")
    27: optional map<string, list<double>> mvals (vt.value.elem.gt = "0.25", vt.key.pattern = "^k")
    28: optional string present (vt.not_nil = "true")
    29: optional Inner inner
    30: optional Inner inner_skipped (vt.skip = "true")
    31: optional list<Inner> inners
    32: optional map<string, Inner> inner_map (vt.no_sparse = "true")
    33: optional double dbl_in (vt.in = "0.5", vt.in = "1")
    34: optional i32 dbl_not_in (vt.not_in = "5")
    35: optional Level lvl_not_in (vt.not_in = "WARN")
    36: optional map<i32, i32> m_size (vt.min_size = "1")
    37: optional string nothing
    38: optional i32 off_flags (vt.not_nil = "false")
}
"#;

fn setup() -> (Arc<DynSchema>, Validator) {
    let schema = dynthrift::idl::parse_str(IDL).unwrap();
    let validator = Validator::new(&schema).unwrap();
    (DynSchema::new(schema).unwrap(), validator)
}

fn inner(types: &Arc<DynSchema>, n: i32) -> Value {
    let mut d = DynStruct::new(types, "Inner").unwrap();
    d.set("n", n).unwrap();
    Value::Struct(d)
}

fn s(x: &str) -> Value {
    Value::String(x.into())
}

fn list(items: Vec<Value>) -> Value {
    Value::List(items)
}

fn i32s(xs: &[i32]) -> Value {
    list(xs.iter().map(|&x| Value::I32(x)).collect())
}

/// The smallest valid value: only the `vt.not_nil` field set.
fn base(types: &Arc<DynSchema>) -> DynStruct {
    let mut d = DynStruct::new(types, "All").unwrap();
    d.set("present", "here").unwrap();
    d
}

/// Checks the value and its bytes in both protocols; all must agree. Returns the message.
fn verdict(types: &Arc<DynSchema>, v: &Validator, d: &DynStruct) -> Option<String> {
    let on_value = v.check(d).err().map(|e| {
        assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
        e.to_string()
    });
    for p in PROTOCOLS {
        let bytes = d.encode(p).unwrap();
        let on_bytes = v
            .check_bytes(types.schema(), "All", &bytes, p)
            .err()
            .map(|e| e.to_string());
        assert_eq!(on_bytes, on_value, "{p:?}: bytes and value disagree");
    }
    on_value
}

#[test]
fn every_rule_accepts_good_values_and_names_bad_ones() {
    let (types, v) = setup();
    assert!(v.warnings().is_empty());
    assert_eq!(verdict(&types, &v, &base(&types)), None);
    let t = &types;
    // (field, good values, bad value, message after "validation error at ")
    let cases: Vec<(&str, Vec<Value>, Value, &str)> = vec![
        (
            "byte_lt",
            vec![Value::I8(9), Value::I8(-128)],
            Value::I8(10),
            "All.byte_lt: vt.lt 10 violated (value 10)",
        ),
        (
            "i16_le",
            vec![Value::I16(10)],
            Value::I16(11),
            "All.i16_le: vt.le 10 violated (value 11)",
        ),
        (
            "i32_gt",
            vec![Value::I32(1001), Value::I32(9999)],
            Value::I32(1000),
            "All.i32_gt: vt.gt 1000 violated (value 1000)",
        ),
        (
            "i32_gt",
            vec![],
            Value::I32(10000),
            "All.i32_gt: vt.lt 10000 violated (value 10000)",
        ),
        (
            "i64_ge",
            vec![Value::I64(16), Value::I64(i64::MAX)],
            Value::I64(15),
            "All.i64_ge: vt.ge 0x10 violated (value 15)",
        ),
        (
            "d_range",
            vec![Value::Double(0.5), Value::Double(1.5)],
            Value::Double(0.25),
            "All.d_range: vt.min 0.5 violated (value 0.25)",
        ),
        (
            "d_range",
            vec![],
            Value::Double(1.75),
            "All.d_range: vt.max 1.5 violated (value 1.75)",
        ),
        (
            "d_range",
            vec![],
            Value::Double(f64::NAN),
            "All.d_range: vt.min 0.5 violated (value NaN)",
        ),
        (
            "konst",
            vec![Value::I32(7)],
            Value::I32(8),
            "All.konst: vt.const 7 violated (value 8)",
        ),
        (
            "in_set",
            vec![Value::I64(1), Value::I64(3)],
            Value::I64(4),
            r#"All.in_set: vt.in ["1", "2", "3"] violated (value 4)"#,
        ),
        (
            "not_in_set",
            vec![Value::I32(1)],
            Value::I32(-1),
            r#"All.not_in_set: vt.not_in ["0", "-1"] violated (value -1)"#,
        ),
        (
            "must_true",
            vec![Value::Bool(true)],
            Value::Bool(false),
            "All.must_true: vt.const true violated (value false)",
        ),
        (
            "s_const",
            vec![s("hello")],
            s("hell"),
            r#"All.s_const: vt.const hello violated (value "hell")"#,
        ),
        (
            "pat",
            vec![s("abc"), s("abc123")],
            s("Abc"),
            r#"All.pat: vt.pattern ^[a-z]+[0-9]*$ violated (value "Abc")"#,
        ),
        (
            "pre",
            vec![s("Debug: x"), s("Debug")],
            s("debug"),
            r#"All.pre: vt.prefix Debug violated (value "debug")"#,
        ),
        (
            "suf",
            vec![s("a.json")],
            s("a.jso"),
            r#"All.suf: vt.suffix .json violated (value "a.jso")"#,
        ),
        (
            "has",
            vec![s("a@b")],
            s("ab"),
            r#"All.has: vt.contains @ violated (value "ab")"#,
        ),
        (
            "hasnt",
            vec![s("ab")],
            s("a b"),
            r#"All.hasnt: vt.not_contains   violated (value "a b")"#,
        ),
        (
            "sizes",
            vec![s("ab"), s("abcd"), s("é")],
            s("a"),
            "All.sizes: vt.min_size 2 violated (size 1)",
        ),
        (
            "sizes",
            vec![],
            s("abcde"),
            "All.sizes: vt.max_size 4 violated (size 5)",
        ),
        (
            "runes",
            vec![s("éé"), s("ééé")],
            s("é"),
            r#"All.runes: vt.min_rune_size 2 violated (value "é", 1 characters)"#,
        ),
        (
            "runes",
            vec![],
            s("éééé"),
            r#"All.runes: vt.max_rune_size 3 violated (value "éééé", 4 characters)"#,
        ),
        (
            "level_name",
            vec![s("Debug"), s("Info")],
            s("Warn"),
            r#"All.level_name: vt.in ["Debug", "Info"] violated (value "Warn")"#,
        ),
        (
            "bin",
            vec![Value::Binary(Bytes::from_static(b"\xff\x00"))],
            Value::Binary(Bytes::from_static(b"xx")),
            r#"All.bin: vt.not_in xx violated (value "xx")"#,
        ),
        (
            "bin",
            vec![],
            Value::Binary(Bytes::from_static(b"abcd")),
            "All.bin: vt.max_size 3 violated (size 4)",
        ),
        (
            "lvl",
            vec![Value::I32(1), Value::I32(3)],
            Value::I32(4),
            "All.lvl: vt.defined_only true violated (value 4)",
        ),
        (
            "lvl_const",
            vec![Value::I32(3)],
            Value::I32(2),
            "All.lvl_const: vt.const Level.WARN violated (value 2)",
        ),
        (
            "lvl_in",
            vec![Value::I32(1), Value::I32(2)],
            Value::I32(3),
            r#"All.lvl_in: vt.in ["DEBUG", "2"] violated (value 3)"#,
        ),
        (
            "lvl_not_in",
            vec![Value::I32(1)],
            Value::I32(3),
            "All.lvl_not_in: vt.not_in WARN violated (value 3)",
        ),
        (
            "dbl_in",
            vec![Value::Double(0.5), Value::Double(1.0)],
            Value::Double(0.75),
            r#"All.dbl_in: vt.in ["0.5", "1"] violated (value 0.75)"#,
        ),
        (
            "dbl_not_in",
            vec![Value::I32(4)],
            Value::I32(5),
            "All.dbl_not_in: vt.not_in 5 violated (value 5)",
        ),
        (
            "lst",
            vec![i32s(&[1]), i32s(&[1, 2, 3])],
            i32s(&[]),
            "All.lst: vt.min_size 1 violated (size 0)",
        ),
        (
            "lst",
            vec![],
            i32s(&[1, 2, 3, 4]),
            "All.lst: vt.max_size 3 violated (size 4)",
        ),
        (
            "lst",
            vec![],
            i32s(&[1, 0]),
            "All.lst[1]: vt.elem.gt 0 violated (value 0)",
        ),
        (
            "st",
            vec![Value::Set(vec![s("a")])],
            Value::Set(vec![s("a"), s("")]),
            "All.st[1]: vt.elem.min_size 1 violated (size 0)",
        ),
        (
            "mp",
            vec![Value::Map(vec![(Value::I32(1), s("v1"))])],
            Value::Map(vec![(Value::I32(1), s("v")), (Value::I32(9), s("v"))]),
            "All.mp<key 1>: vt.key.defined_only true violated (value 9)",
        ),
        (
            "mp",
            vec![],
            Value::Map(vec![(Value::I32(2), s("x"))]),
            r#"All.mp[2]: vt.value.prefix v violated (value "x")"#,
        ),
        (
            "mp",
            vec![],
            Value::Map(vec![
                (Value::I32(1), s("v")),
                (Value::I32(2), s("v")),
                (Value::I32(3), s("v")),
            ]),
            "All.mp: vt.max_size 2 violated (size 3)",
        ),
        (
            "nested",
            vec![list(vec![i32s(&[1, 2, 3]), i32s(&[99])])],
            list(vec![i32s(&[1]), i32s(&[1, 2, 3, 4])]),
            "All.nested[1]: vt.elem.max_size 3 violated (size 4)",
        ),
        (
            "nested",
            vec![],
            list(vec![i32s(&[]), i32s(&[1, 100])]),
            "All.nested[1][1]: vt.elem.elem.lt 100 violated (value 100)",
        ),
        (
            "mvals",
            vec![Value::Map(vec![(s("k1"), list(vec![Value::Double(0.5)]))])],
            Value::Map(vec![(
                s("k1"),
                list(vec![Value::Double(0.5), Value::Double(0.25)]),
            )]),
            r#"All.mvals["k1"][1]: vt.value.elem.gt 0.25 violated (value 0.25)"#,
        ),
        (
            "mvals",
            vec![],
            Value::Map(vec![(s("x"), list(vec![]))]),
            r#"All.mvals<key 0>: vt.key.pattern ^k violated (value "x")"#,
        ),
        (
            "inner",
            vec![inner(t, 0)],
            inner(t, -1),
            "All.inner.n: vt.ge 0 violated (value -1)",
        ),
        ("inner_skipped", vec![inner(t, -1)], inner(t, -1), ""),
        (
            "inners",
            vec![list(vec![inner(t, 1), inner(t, 2)])],
            list(vec![inner(t, 1), inner(t, -2)]),
            "All.inners[1].n: vt.ge 0 violated (value -2)",
        ),
        (
            "inner_map",
            vec![Value::Map(vec![(s("a"), inner(t, 3))])],
            Value::Map(vec![(s("a"), inner(t, 3)), (s("b"), inner(t, -3))]),
            r#"All.inner_map["b"].n: vt.ge 0 violated (value -3)"#,
        ),
        (
            "m_size",
            vec![Value::Map(vec![(Value::I32(1), Value::I32(1))])],
            Value::Map(vec![]),
            "All.m_size: vt.min_size 1 violated (size 0)",
        ),
        ("nothing", vec![s("anything")], s("anything"), ""),
        ("off_flags", vec![Value::I32(1)], Value::I32(1), ""),
    ];
    for (field, goods, bad, msg) in cases {
        for good in goods {
            let mut d = base(&types);
            d.set(field, good.clone()).unwrap();
            assert_eq!(verdict(&types, &v, &d), None, "{field} = {good:?}");
        }
        let mut d = base(&types);
        d.set(field, bad.clone()).unwrap();
        let want = if msg.is_empty() {
            None
        } else {
            Some(format!("validation error at {msg}"))
        };
        assert_eq!(verdict(&types, &v, &d), want, "{field} = {bad:?}");
    }
    // vt.not_nil: the field must be present.
    let d = DynStruct::new(&types, "All").unwrap();
    assert_eq!(
        verdict(&types, &v, &d).as_deref(),
        Some("validation error at All.present: vt.not_nil violated (field is absent)")
    );
}

#[test]
fn bytes_are_checked_without_decoding_what_has_no_rules() {
    let (types, v) = setup();
    // A field without rules whose bytes are garbage-free but of the wrong wire type, and
    // unknown fields: skipped, like decoding does.
    let mut d = base(&types);
    d.set("i32_gt", Value::I32(5000)).unwrap();
    let mut bytes = vec![11, 0x03, 0xe7, 0, 0, 0, 1, b'x']; // unknown id 999, a string
    bytes.extend_from_slice(&[8, 0, 3, 0, 0, 0, 5]); // i32_gt = 5 ... (bad)
    let good = d.encode(Protocol::Binary).unwrap();
    bytes.extend_from_slice(&good); // ... then the value's own fields, i32_gt = 5000
    let e = v
        .check_bytes(types.schema(), "All", &bytes, Protocol::Binary)
        .unwrap_err();
    // The first i32_gt on the wire is checked (each occurrence is).
    assert_eq!(
        e.to_string(),
        "validation error at All.i32_gt: vt.gt 1000 violated (value 5)"
    );
    // Truncated bytes: decode errors, never panics.
    let mut d = base(&types);
    d.set("nested", list(vec![i32s(&[1, 2]), i32s(&[3])]))
        .unwrap();
    d.set(
        "mvals",
        Value::Map(vec![(s("k"), list(vec![Value::Double(1.0)]))]),
    )
    .unwrap();
    d.set("inners", list(vec![inner(&types, 1)])).unwrap();
    for p in PROTOCOLS {
        let bytes = d.encode(p).unwrap();
        v.check_bytes(types.schema(), "All", &bytes, p).unwrap();
        for cut in 0..bytes.len() {
            let e = v
                .check_bytes(types.schema(), "All", &bytes[..cut], p)
                .unwrap_err();
            assert_ne!(e.kind(), ErrorKind::Validation, "{p:?} cut {cut}: {e}");
        }
    }
    // A struct without rules is not even read.
    let schema = dynthrift::idl::parse_str("struct Plain { 1: i32 x }").unwrap();
    let v = Validator::new(&schema).unwrap();
    v.check_bytes(&schema, "Plain", b"garbage", Protocol::Binary)
        .unwrap();
    assert!(!v.has_rules(schema.struct_id("Plain").unwrap()));
}

#[test]
fn unsupported_rules_are_reported_when_the_validator_is_built() {
    let idl = r#"struct Bad {
    1: i32 a (vt.max_size = "3", vt.foo = "1")
    2: string b (vt.max_size = "$a", vt.min_size = "@len(b)")
    3: string c (vt.pattern = "([a-z")
    4: i32 d (vt.gt = "ten", vt.lt = "100")
    5: string e (vt.elem.min_size = "1")
    6: list<i32> f (vt.key.gt = "1", vt.elem.gt = "0")
    7: bool g (vt.const = "maybe")
    8: i32 h (vt.not_nil = "yes")
} (vt.assert = "$a > 0")
"#;
    let schema = dynthrift::idl::parse_str(idl).unwrap();
    let err = Validator::new(&schema).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Schema);
    let text = err.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "schema error: 11 unsupported validation rules:");
    let want = [
        "<input>:1:8: Bad: vt.assert: struct-level rules are not supported",
        "<input>:2:5: Bad.a: vt.max_size: 'max_size' does not apply to a i32",
        "<input>:2:5: Bad.a: vt.foo: unknown rule 'foo'",
        "<input>:3:5: Bad.b: vt.max_size: field references are not supported",
        "<input>:3:5: Bad.b: vt.min_size: validation functions are not supported",
        "<input>:4:5: Bad.c: vt.pattern: invalid regex: unclosed character class",
        "<input>:5:5: Bad.d: vt.gt: 'ten' is not an integer",
        "<input>:6:5: Bad.e: vt.elem.min_size: 'elem' does not apply to a string",
        "<input>:7:5: Bad.f: vt.key.gt: 'key' does not apply to a list<i32>",
        "<input>:8:5: Bad.g: vt.const: 'maybe' is not a boolean",
        "<input>:9:5: Bad.h: vt.not_nil: 'yes' is not a boolean",
    ];
    let got: Vec<&str> = lines[1..].iter().map(|l| l.trim_start()).collect();
    for w in want {
        assert!(
            got.iter().any(|g| g.starts_with(w)),
            "missing {w:?} in:\n{text}"
        );
    }
    // Lenient: the good rules still apply, the bad ones are listed.
    let v = Validator::lenient(&schema);
    assert_eq!(v.warnings().len(), 11);
    let types = DynSchema::new(schema).unwrap();
    let mut d = DynStruct::new(&types, "Bad").unwrap();
    d.set("d", 100).unwrap();
    d.set("f", i32s(&[0])).unwrap();
    assert_eq!(
        v.check(&d).unwrap_err().to_string(),
        "validation error at Bad.d: vt.lt 100 violated (value 100)"
    );
    d.set("d", 99).unwrap();
    assert_eq!(
        v.check(&d).unwrap_err().to_string(),
        "validation error at Bad.f[0]: vt.elem.gt 0 violated (value 0)"
    );
}

#[test]
fn recursive_structs_are_validated_to_the_bottom() {
    let idl = r#"struct Node {
    1: i32 value (vt.ge = "0")
    2: optional list<Node> children
}"#;
    let schema = dynthrift::idl::parse_str(idl).unwrap();
    let v = Validator::new(&schema).unwrap();
    let types = DynSchema::new(schema).unwrap();
    let node = |value: i32, children: Vec<Value>| {
        let mut d = DynStruct::new(&types, "Node").unwrap();
        d.set("value", value).unwrap();
        if !children.is_empty() {
            d.set("children", list(children)).unwrap();
        }
        Value::Struct(d)
    };
    let tree = node(
        1,
        vec![
            node(2, vec![]),
            node(3, vec![node(4, vec![]), node(-5, vec![])]),
        ],
    );
    let Value::Struct(d) = tree else { panic!() };
    let want =
        "validation error at Node.children[1].children[1].value: vt.ge 0 violated (value -5)";
    assert_eq!(v.check(&d).unwrap_err().to_string(), want);
    for p in PROTOCOLS {
        let bytes = d.encode(p).unwrap();
        let e = v
            .check_bytes(types.schema(), "Node", &bytes, p)
            .unwrap_err();
        assert_eq!(e.to_string(), want);
    }
}

#[derive(Thrift, Debug, PartialEq, Clone)]
struct Request {
    #[thrift(id = 1, required)]
    message: String,
    #[thrift(id = 2)]
    id: i32,
    #[thrift(id = 3)]
    tags: Vec<String>,
}

const REQUEST_IDL: &str = r#"
struct Request {
    1: required string message (vt.max_size = "5", vt.prefix = "Hi")
    2: i32 id (vt.gt = "0")
    3: list<string> tags (vt.max_size = "2", vt.elem.min_size = "1")
}
"#;

#[test]
fn validated_codec_checks_encode_and_decode() {
    let schema = dynthrift::idl::parse_str(REQUEST_IDL).unwrap();
    let validator = Arc::new(Validator::new(&schema).unwrap());
    let good = Request {
        message: "Hi!".into(),
        id: 1,
        tags: vec!["a".into()],
    };
    for options in [Options::binary(), Options::compact()] {
        let plain = Codec::<Request>::with_options(options).unwrap();
        let codec =
            ValidatedCodec::new(plain.clone(), &schema, "Request", validator.clone()).unwrap();
        let bytes = codec.encode(&good).unwrap();
        assert_eq!(bytes, plain.encode(&good).unwrap());
        assert_eq!(codec.decode(&bytes).unwrap(), good);
        assert_eq!(
            codec.decode_bytes(&Bytes::from(bytes.clone())).unwrap(),
            good
        );

        let bad = Request {
            tags: vec!["a".into(), String::new()],
            ..good.clone()
        };
        let e = codec.encode(&bad).unwrap_err();
        assert_eq!(
            e.to_string(),
            "validation error at Request.tags[1]: vt.elem.min_size 1 violated (size 0)"
        );
        let mut out = vec![1, 2, 3];
        assert!(codec.encode_into(&bad, &mut out).is_err());
        assert_eq!(
            out,
            [1, 2, 3],
            "a failed encode leaves the buffer as it was"
        );
        codec.encode_into(&good, &mut out).unwrap();
        assert_eq!(&out[3..], bytes.as_slice());
        let bad_bytes = plain.encode(&bad).unwrap();
        let e = codec.decode(&bad_bytes).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation);
        assert!(codec.check(&good).is_ok());

        // Messages: the payload is validated, the header is not.
        let mut msg = Vec::new();
        codec
            .encode_message("call", TMessageType::Call, 9, &good, &mut msg)
            .unwrap();
        let (h, v) = codec.decode_message(&msg).unwrap();
        assert_eq!((h.name, h.seqid, v), ("call", 9, good.clone()));
        let mut msg = Vec::new();
        assert!(
            codec
                .encode_message(
                    "call",
                    TMessageType::Call,
                    9,
                    &Request {
                        id: 0,
                        ..good.clone()
                    },
                    &mut msg
                )
                .is_err()
        );
        assert!(msg.is_empty());
        plain
            .encode_message("call", TMessageType::Call, 9, &bad, &mut msg)
            .unwrap();
        let e = codec.decode_message(&msg).unwrap_err();
        assert_eq!(
            e.to_string(),
            "validation error at Request.tags[1]: vt.elem.min_size 1 violated (size 0)"
        );
    }
    // A Rust type that does not match the IDL type is refused.
    let other = dynthrift::idl::parse_str("struct Request { 1: i32 message }").unwrap();
    let v = Arc::new(Validator::new(&other).unwrap());
    let e =
        ValidatedCodec::new(Codec::<Request>::new().unwrap(), &other, "Request", v).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Schema);
    assert!(
        e.to_string().contains("does not match IDL struct Request"),
        "{e}"
    );
}

#[test]
fn the_validation_error_display_is_pinned() {
    let e = dynthrift::Error::validation("vt.max_size 3 violated (size 5)")
        .at_index(2)
        .in_field(&Arc::from("list"))
        .in_root(&Arc::from("Outer"));
    assert_eq!(
        e.to_string(),
        "validation error at Outer.list[2]: vt.max_size 3 violated (size 5)"
    );
    assert_eq!(e.kind(), ErrorKind::Validation);
}
