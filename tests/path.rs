//! Access by path on encoded bytes (`dynthrift::path`): every `get` is compared with a full
//! decode navigated by hand, every `set` with a full decode modified by hand (both protocols);
//! inserting absent fields and map entries, Compact bool fields, path syntax and its errors,
//! truncated and mutated input.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use dynthrift::path::Path;
use dynthrift::{Codec, DynSchema, DynStruct, ErrorKind, Options, Protocol, Value};
use dynthrift_testkit::testdata;
use dynthrift_testkit::workloads::{self, Nesting, Simple};

const PROTOCOLS: [Protocol; 2] = [Protocol::Binary, Protocol::Compact];

fn baseline() -> &'static Arc<DynSchema> {
    static TYPES: OnceLock<Arc<DynSchema>> = OnceLock::new();
    TYPES.get_or_init(|| {
        let path = testdata("idl/frugal/tests/baseline.thrift");
        DynSchema::new(dynthrift::idl::parse_file(path).unwrap()).unwrap()
    })
}

fn inline(idl: &str) -> Arc<DynSchema> {
    DynSchema::new(dynthrift::idl::parse_str(idl).unwrap()).unwrap()
}

/// A `Nesting` whose elements and entries all differ, so that a wrong index shows.
fn nesting() -> Nesting {
    let mut n = workloads::nesting();
    for (i, s) in n.list_simple.iter_mut().enumerate() {
        s.i32_field = i as i32;
        s.string_field = format!("elem {i}");
    }
    for (k, s) in n.map_string_simple.iter_mut() {
        s.i32_field = 100 + k.parse::<i32>().unwrap();
        s.string_field = format!("value {k}");
    }
    n.list_i32 = (0..8).map(|i| i * 7 - 20).collect();
    n.map_i32_i64 = (0..8).map(|i| (i, i as i64 * 1000)).collect();
    n.map_i64_string = (0..8).map(|i| (-(i as i64), format!("neg {i}"))).collect();
    n
}

fn encode(n: &Nesting, p: Protocol) -> Vec<u8> {
    Codec::<Nesting>::with_options(Options::default().protocol(p))
        .unwrap()
        .encode(n)
        .unwrap()
}

/// One step of a hand navigation.
#[derive(Clone, Debug)]
enum Nav {
    F(&'static str),
    I(usize),
    K(Value),
}

fn nav_value(v: &Value, nav: &[Nav]) -> Option<Value> {
    let Some((first, rest)) = nav.split_first() else {
        return Some(v.clone());
    };
    let next = match (v, first) {
        (Value::Struct(s), Nav::F(name)) => s.get(name).unwrap()?,
        (Value::List(items) | Value::Set(items), Nav::I(i)) => items.get(*i)?.clone(),
        (Value::Map(entries), Nav::K(k)) => entries.iter().find(|(key, _)| key == k)?.1.clone(),
        _ => panic!("bad navigation {first:?} on {v:?}"),
    };
    nav_value(&next, rest)
}

fn nav_set(v: &mut Value, nav: &[Nav], new: Value) {
    let Some((first, rest)) = nav.split_first() else {
        *v = new;
        return;
    };
    match (v, first) {
        (Value::Struct(s), Nav::F(name)) => {
            if rest.is_empty() {
                s.set(name, new).unwrap();
            } else {
                let mut inner = s.get(name).unwrap().unwrap();
                nav_set(&mut inner, rest, new);
                s.set(name, inner).unwrap();
            }
        }
        (Value::List(items) | Value::Set(items), Nav::I(i)) => nav_set(&mut items[*i], rest, new),
        (Value::Map(entries), Nav::K(k)) => match entries.iter_mut().find(|(key, _)| key == k) {
            Some((_, val)) => nav_set(val, rest, new),
            None => {
                assert!(rest.is_empty());
                entries.push((k.clone(), new));
            }
        },
        (v, first) => panic!("bad navigation {first:?} on {v:?}"),
    }
}

fn s(x: &str) -> Value {
    Value::String(x.into())
}

/// Paths on `Nesting` with their hand navigation.
fn cases() -> Vec<(&'static str, Vec<Nav>)> {
    use Nav::*;
    vec![
        ("String", vec![F("String")]),
        ("I32", vec![F("I32")]),
        ("4", vec![F("I32")]),
        ("Double", vec![F("Double")]),
        ("Byte", vec![F("Byte")]),
        ("Binary", vec![F("Binary")]),
        ("ListI32", vec![F("ListI32")]),
        ("ListI32[0]", vec![F("ListI32"), I(0)]),
        ("ListI32[7]", vec![F("ListI32"), I(7)]),
        ("ListI32[8]", vec![F("ListI32"), I(8)]),
        ("ListI64[3]", vec![F("ListI64"), I(3)]),
        ("ListString[5]", vec![F("ListString"), I(5)]),
        ("ListSimple[3]", vec![F("ListSimple"), I(3)]),
        (
            "ListSimple[3].StringField",
            vec![F("ListSimple"), I(3), F("StringField")],
        ),
        ("2[3].5", vec![F("ListSimple"), I(3), F("StringField")]),
        (
            "ListSimple[7].I32Field",
            vec![F("ListSimple"), I(7), F("I32Field")],
        ),
        (
            "ListSimple[0].enumField",
            vec![F("ListSimple"), I(0), F("enumField")],
        ),
        (
            "ListSimple[6].BinaryField",
            vec![F("ListSimple"), I(6), F("BinaryField")],
        ),
        ("SimpleStruct", vec![F("SimpleStruct")]),
        (
            "SimpleStruct.DoubleField",
            vec![F("SimpleStruct"), F("DoubleField")],
        ),
        (
            "SimpleStruct.ByteField",
            vec![F("SimpleStruct"), F("ByteField")],
        ),
        (
            "MapStringSimple[\"3\"]",
            vec![F("MapStringSimple"), K(s("3"))],
        ),
        (
            "MapStringSimple[\"3\"].I32Field",
            vec![F("MapStringSimple"), K(s("3")), F("I32Field")],
        ),
        (
            "MapStringSimple[\"x\"].I32Field",
            vec![F("MapStringSimple"), K(s("x")), F("I32Field")],
        ),
        (
            "MapStringString[\"7\"]",
            vec![F("MapStringString"), K(s("7"))],
        ),
        ("MapI32I64[5]", vec![F("MapI32I64"), K(Value::I32(5))]),
        ("MapI32I64[50]", vec![F("MapI32I64"), K(Value::I32(50))]),
        (
            "MapI64String[-4]",
            vec![F("MapI64String"), K(Value::I64(-4))],
        ),
        ("MapI32I64", vec![F("MapI32I64")]),
        ("", vec![]),
    ]
}

fn full(types: &Arc<DynSchema>, bytes: &[u8], p: Protocol) -> Value {
    Value::Struct(DynStruct::decode(types, "Nesting", bytes, p).unwrap())
}

#[test]
fn get_agrees_with_a_full_decode() {
    let types = baseline();
    for p in PROTOCOLS {
        let bytes = encode(&nesting(), p);
        let whole = full(types, &bytes, p);
        for (text, nav) in cases() {
            let path = Path::compile(types, "Nesting", text).unwrap();
            let got = path.get(&bytes, p).unwrap();
            let want = nav_value(&whole, &nav);
            assert_eq!(got, want, "{p:?} {text}");
            // locate finds the same value's bytes.
            let range = path.locate(&bytes, p).unwrap();
            assert_eq!(range.is_some(), want.is_some(), "{p:?} {text}");
        }
    }
}

#[test]
fn get_reads_the_expected_values() {
    let types = baseline();
    let n = nesting();
    for p in PROTOCOLS {
        let bytes = encode(&n, p);
        let get = |text: &str| {
            Path::compile(types, "Nesting", text)
                .unwrap()
                .get(&bytes, p)
                .unwrap()
        };
        assert_eq!(get("ListSimple[3].StringField"), Some(s("elem 3")));
        assert_eq!(
            get("MapStringSimple[\"3\"].I32Field"),
            Some(Value::I32(103))
        );
        assert_eq!(get("ListI32[2]"), Some(Value::I32(-6)));
        assert_eq!(get("MapI64String[-2]"), Some(s("neg 2")));
        assert_eq!(get("I64"), Some(Value::I64(i64::MAX)));
        assert_eq!(get("ListSimple[99].StringField"), None);
        // A struct leaf: the bytes of SimpleStruct decode to the sample.
        let range = Path::compile(types, "Nesting", "SimpleStruct")
            .unwrap()
            .locate(&bytes, p)
            .unwrap()
            .unwrap();
        let simple: Simple = Codec::<Simple>::with_options(Options::default().protocol(p))
            .unwrap()
            .decode(&bytes[range])
            .unwrap();
        assert_eq!(simple, workloads::simple());
    }
}

fn simple_value(types: &Arc<DynSchema>, i32_field: i32, text: &str) -> Value {
    let mut d = DynStruct::new(types, "Simple").unwrap();
    d.set("ByteField", Value::I8(-3)).unwrap();
    d.set("I64Field", Value::I64(1 << 40)).unwrap();
    d.set("DoubleField", Value::Double(0.5)).unwrap();
    d.set("I32Field", Value::I32(i32_field)).unwrap();
    d.set("StringField", text).unwrap();
    d.set("BinaryField", Bytes::from_static(b"\x00\x01"))
        .unwrap();
    d.set("enumField", Value::I32(2)).unwrap();
    Value::Struct(d)
}

#[test]
fn set_agrees_with_a_full_decode_modified() {
    use Nav::*;
    let types = baseline();
    let sets: Vec<(&str, Vec<Nav>, Value)> = vec![
        ("String", vec![F("String")], s("short")),
        ("String", vec![F("String")], s(&"long ".repeat(300))),
        ("I32", vec![F("I32")], Value::I32(-1)),
        ("I64", vec![F("I64")], Value::I64(3)),
        ("Byte", vec![F("Byte")], Value::I8(0)),
        ("Double", vec![F("Double")], Value::Double(-2.25)),
        (
            "Binary",
            vec![F("Binary")],
            Value::Binary(Bytes::from_static(b"")),
        ),
        ("ListI32[4]", vec![F("ListI32"), I(4)], Value::I32(1 << 30)),
        (
            "ListI32",
            vec![F("ListI32")],
            Value::List(vec![Value::I32(1); 20]),
        ),
        (
            "ListSimple[3].StringField",
            vec![F("ListSimple"), I(3), F("StringField")],
            s("changed"),
        ),
        (
            "ListSimple[0].I32Field",
            vec![F("ListSimple"), I(0), F("I32Field")],
            Value::I32(i32::MIN),
        ),
        (
            "ListSimple[7]",
            vec![F("ListSimple"), I(7)],
            simple_value(types, 77, "new"),
        ),
        (
            "SimpleStruct.enumField",
            vec![F("SimpleStruct"), F("enumField")],
            Value::I32(2),
        ),
        (
            "MapStringSimple[\"3\"].I32Field",
            vec![F("MapStringSimple"), K(s("3")), F("I32Field")],
            Value::I32(-5),
        ),
        (
            "MapStringSimple[\"new\"]",
            vec![F("MapStringSimple"), K(s("new"))],
            simple_value(types, 8, "inserted"),
        ),
        (
            "MapStringString[\"2\"]",
            vec![F("MapStringString"), K(s("2"))],
            s(""),
        ),
        (
            "MapStringString[\"zz\"]",
            vec![F("MapStringString"), K(s("zz"))],
            s("added"),
        ),
        (
            "MapI32I64[5]",
            vec![F("MapI32I64"), K(Value::I32(5))],
            Value::I64(-1),
        ),
        (
            "MapI32I64[-9]",
            vec![F("MapI32I64"), K(Value::I32(-9))],
            Value::I64(99),
        ),
        (
            "MapI64String[-4]",
            vec![F("MapI64String"), K(Value::I64(-4))],
            s("x"),
        ),
        ("", vec![], simple_nesting(types)),
    ];
    for p in PROTOCOLS {
        let bytes = encode(&nesting(), p);
        for (text, nav, new) in &sets {
            let path = Path::compile(types, "Nesting", text).unwrap();
            let out = path
                .set(&bytes, p, new)
                .unwrap_or_else(|e| panic!("{p:?} {text}: {e}"));
            let mut want = full(types, &bytes, p);
            nav_set(&mut want, nav, new.clone());
            assert_eq!(full(types, &out, p), want, "{p:?} {text}");
            assert_eq!(
                path.get(&out, p).unwrap().as_ref(),
                Some(new),
                "{p:?} {text}"
            );
            // The derived codec reads the result too.
            Codec::<Nesting>::with_options(Options::default().protocol(p))
                .unwrap()
                .decode(&out)
                .unwrap();
        }
    }
}

fn simple_nesting(types: &Arc<DynSchema>) -> Value {
    let mut d = DynStruct::new(types, "Nesting").unwrap();
    d.set("String", "only this").unwrap();
    Value::Struct(d)
}

const OPTIONALS: &str = r#"
enum Color { RED = 1, GREEN = 2, BLUE = 7 }
struct Inner {
    1: optional i32 a
    2: optional bool flag
    30: optional string far
}
struct Outer {
    1: optional Inner inner
    2: optional bool b1
    3: bool b2
    5: optional list<bool> bools
    6: optional map<Color, string> by_color
    7: optional map<bool, i16> by_bool
    8: optional map<i8, Inner> by_byte
    20: optional i64 late
    -1: optional string implicit
}
"#;

#[test]
fn absent_fields_and_keys_are_inserted() {
    let types = inline(OPTIONALS);
    let mut outer = DynStruct::new(&types, "Outer").unwrap();
    let mut inner = DynStruct::new(&types, "Inner").unwrap();
    inner.set("a", 5).unwrap();
    outer.set("inner", inner).unwrap();
    outer.set("b2", false).unwrap();
    outer.set("by_color", Value::Map(vec![])).unwrap();
    for p in PROTOCOLS {
        let bytes = outer.encode(p).unwrap();
        let cases: Vec<(&str, Value)> = vec![
            ("late", Value::I64(-7)),
            ("inner.far", s("far away")),
            ("inner.flag", Value::Bool(true)),
            ("inner.a", Value::I32(1 << 20)),
            ("b1", Value::Bool(true)),
            ("b1", Value::Bool(false)),
            ("b2", Value::Bool(true)),
            ("-1", s("implicit id")),
            ("by_color[GREEN]", s("green")),
            ("by_color[7]", s("blue")),
        ];
        for (text, v) in cases {
            let path = Path::compile(&types, "Outer", text).unwrap();
            let out = path
                .set(&bytes, p, &v)
                .unwrap_or_else(|e| panic!("{p:?} {text}: {e}"));
            assert_eq!(path.get(&out, p).unwrap(), Some(v.clone()), "{p:?} {text}");
            let back = DynStruct::decode(&types, "Outer", &out, p).unwrap();
            // Everything else is unchanged.
            for other in ["inner", "b2", "by_color"] {
                if !text.starts_with(other) {
                    assert_eq!(
                        back.get(other).unwrap(),
                        outer.get(other).unwrap(),
                        "{p:?} {text}"
                    );
                }
            }
        }
        // Chained inserts in one struct keep working (Compact field-id deltas).
        let mut bytes2 = bytes.clone();
        for (text, v) in [
            ("late", Value::I64(1)),
            ("b1", Value::Bool(true)),
            (
                "bools",
                Value::List(vec![Value::Bool(true), Value::Bool(false)]),
            ),
            ("inner.flag", Value::Bool(false)),
            ("by_bool", Value::Map(vec![])),
            ("by_bool[true]", Value::I16(3)),
            ("by_bool[false]", Value::I16(4)),
            ("by_color[RED]", s("r")),
        ] {
            bytes2 = Path::compile(&types, "Outer", text)
                .unwrap()
                .set(&bytes2, p, &v)
                .unwrap();
        }
        let back = DynStruct::decode(&types, "Outer", &bytes2, p).unwrap();
        assert_eq!(back.get("late").unwrap(), Some(Value::I64(1)));
        assert_eq!(back.get("b1").unwrap(), Some(Value::Bool(true)));
        assert_eq!(
            back.get("bools").unwrap(),
            Some(Value::List(vec![Value::Bool(true), Value::Bool(false)]))
        );
        assert_eq!(
            back.get("by_bool").unwrap(),
            Some(Value::Map(vec![
                (Value::Bool(true), Value::I16(3)),
                (Value::Bool(false), Value::I16(4))
            ]))
        );
        assert_eq!(
            back.get("by_color").unwrap(),
            Some(Value::Map(vec![(Value::I32(1), s("r"))]))
        );
        let Some(Value::Struct(inner)) = back.get("inner").unwrap() else {
            panic!()
        };
        assert_eq!(inner.get("flag").unwrap(), Some(Value::Bool(false)));
        assert_eq!(inner.get("a").unwrap(), Some(Value::I32(5)));
        // Bools inside a list, read back by path.
        let b = Path::compile(&types, "Outer", "bools[1]").unwrap();
        assert_eq!(b.get(&bytes2, p).unwrap(), Some(Value::Bool(false)));
        let bytes3 = b.set(&bytes2, p, &Value::Bool(true)).unwrap();
        assert_eq!(b.get(&bytes3, p).unwrap(), Some(Value::Bool(true)));
    }
}

#[test]
fn what_cannot_be_set_is_an_error_naming_the_step() {
    let types = inline(OPTIONALS);
    let outer = DynStruct::new(&types, "Outer").unwrap();
    for p in PROTOCOLS {
        let bytes = outer.encode(p).unwrap();
        let err = |text: &str, v: Value| {
            Path::compile(&types, "Outer", text)
                .unwrap()
                .set(&bytes, p, &v)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err("inner.a", Value::I32(1)),
            "schema error: cannot set Outer.inner.a: Outer.inner is absent"
        );
        assert_eq!(
            err("by_byte[3].a", Value::I32(1)),
            "schema error: cannot set Outer.by_byte[3].a: Outer.by_byte is absent"
        );
        assert_eq!(
            err("late", Value::I32(1)),
            "schema error: expected a value of type i64, got an i32"
        );
        assert_eq!(
            err("b1", Value::I32(1)),
            "schema error: expected a value of type bool, got an i32"
        );
    }
    let types = baseline();
    let bytes = encode(&nesting(), Protocol::Binary);
    let e = Path::compile(types, "Nesting", "ListI32[8]")
        .unwrap()
        .set(&bytes, Protocol::Binary, &Value::I32(0))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "schema error: cannot set Nesting.ListI32[8]: Nesting.ListI32[8] is past the end of the list"
    );
    // A struct from another schema is refused.
    let other = inline("struct Simple { 1: i32 x }");
    let v = Value::Struct(DynStruct::new(&other, "Simple").unwrap());
    let e = Path::compile(types, "Nesting", "SimpleStruct")
        .unwrap()
        .set(&bytes, Protocol::Binary, &v)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "schema error: expected a Simple of the path's schema, got a Simple"
    );
}

#[test]
fn wire_type_mismatches_read_as_absent() {
    // Field 4 written as a string where the schema says i32: skipped, like decoding does.
    let types = baseline();
    let mut bytes = vec![11, 0, 4, 0, 0, 0, 2, b'h', b'i'];
    bytes.extend_from_slice(&[8, 0, 4, 0, 0, 0, 9]); // then the real one
    bytes.push(0);
    let p = Path::compile(types, "Simple", "I32Field").unwrap();
    assert_eq!(
        p.get(&bytes, Protocol::Binary).unwrap(),
        Some(Value::I32(9))
    );
    // A list<i32> on the wire whose elements are i64: not there.
    let bytes = [15, 0, 5, 10, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0];
    let p = Path::compile(types, "Nesting", "ListI32[0]").unwrap();
    assert_eq!(p.get(&bytes, Protocol::Binary).unwrap(), None);
    let p = Path::compile(types, "Nesting", "ListI32").unwrap();
    assert_eq!(
        p.get(&bytes, Protocol::Binary).unwrap(),
        Some(Value::List(vec![]))
    );
}

#[test]
fn path_syntax_errors_are_clear() {
    let types = baseline();
    let err = |text: &str| {
        Path::compile(types, "Nesting", text)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        err("ListSimple[x]"),
        "schema error: path 'ListSimple[x]' column 12: expected an index (a number from 0)"
    );
    assert_eq!(
        err("ListSimple[3"),
        "schema error: path 'ListSimple[3' column 13: expected ']'"
    );
    assert_eq!(
        err("Nope"),
        "schema error: path 'Nope' column 1: Nesting has no field 'Nope'"
    );
    assert_eq!(
        err("ListSimple[3].Nope"),
        "schema error: path 'ListSimple[3].Nope' column 15: Simple has no field 'Nope'"
    );
    assert_eq!(
        err("99"),
        "schema error: path '99' column 1: Nesting has no field with id 99"
    );
    assert_eq!(
        err("MapStringSimple[3]"),
        "schema error: path 'MapStringSimple[3]' column 17: the map's keys are strings: write the key in double quotes"
    );
    assert_eq!(
        err("MapStringSimple[\"3]"),
        "schema error: path 'MapStringSimple[\"3]' column 17: unterminated string"
    );
    assert_eq!(
        err("I32.x"),
        "schema error: path 'I32.x' column 5: type i32 has no fields (only structs do)"
    );
    assert_eq!(
        err("I32[0]"),
        "schema error: path 'I32[0]' column 4: type i32 cannot be indexed (only lists, sets and maps)"
    );
    assert_eq!(
        err("String..x"),
        "schema error: path 'String..x' column 8: type string has no fields (only structs do)"
    );
    assert_eq!(
        err("ListSimple.x"),
        "schema error: path 'ListSimple.x' column 12: type list<Simple> has no fields (only structs do)"
    );
    assert_eq!(
        err("MapI32I64[99999999999]"),
        "schema error: path 'MapI32I64[99999999999]' column 11: 99999999999 does not fit in the key type i32"
    );
    assert_eq!(
        err("a b"),
        "schema error: path 'a b' column 1: 'a b' is not a field name"
    );
    let e = Path::compile(types, "Nope", "x").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Schema);
    let types = inline(OPTIONALS);
    let err = |text: &str| {
        Path::compile(&types, "Outer", text)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        err("by_color[PINK]"),
        "schema error: path 'by_color[PINK]' column 10: enum Color has no value 'PINK'"
    );
    assert_eq!(
        err("by_bool[yes]"),
        "schema error: path 'by_bool[yes]' column 9: expected true or false"
    );
    // Escapes in string keys.
    let types = baseline();
    let p = Path::compile(types, "Nesting", r#"MapStringString["a\"b\\c\n"]"#).unwrap();
    let mut n = nesting();
    n.map_string_string
        .insert("a\"b\\c\n".into(), "escaped".into());
    let bytes = encode(&n, Protocol::Binary);
    assert_eq!(p.get(&bytes, Protocol::Binary).unwrap(), Some(s("escaped")));
}

#[test]
fn truncated_and_mutated_input_gives_errors_not_panics() {
    let types = baseline();
    let paths: Vec<Path> = [
        "ListSimple[3].StringField",
        "MapStringSimple[\"3\"].I32Field",
        "MapI64String[-4]",
        "ListI64[7]",
        "Byte",
        "",
    ]
    .iter()
    .map(|t| Path::compile(types, "Nesting", t).unwrap())
    .collect();
    let mut small = workloads::nesting();
    small.list_simple.truncate(2);
    small.map_string_simple.retain(|k, _| k == "3");
    for p in PROTOCOLS {
        let bytes = encode(&small, p);
        let v = Value::I32(1);
        for cut in 0..bytes.len() {
            let b = &bytes[..cut];
            for path in &paths {
                // Any result but a panic; an error must have a decode kind.
                if let Err(e) = path.get(b, p) {
                    assert_ne!(e.kind(), ErrorKind::Schema, "{p:?} cut {cut} {path}: {e}");
                }
                let _ = path.locate(b, p);
                let _ = path.set(b, p, &v);
            }
        }
        for offset in dynthrift_testkit::hostile::sample_offsets(bytes.len(), 64, 64, 5, []) {
            for m in dynthrift_testkit::hostile::BYTE_MUTATIONS {
                let Some(b) = dynthrift_testkit::hostile::mutate(&bytes, offset, m) else {
                    continue;
                };
                for path in &paths {
                    let _ = path.get(&b, p);
                    let _ = path.locate(&b, p);
                    let _ = path.set(&b, p, &v);
                }
                // The whole struct's range (the path's own skipping, which jumps over
                // fixed-size containers) agrees with the library's skip.
                let whole = paths[5].locate(&b, p).ok().flatten().map(|r| r.end);
                let skipped = dynthrift::skip_struct(&b, &Options::default().protocol(p)).ok();
                assert_eq!(whole, skipped, "{p:?} offset {offset} {m:?}");
            }
        }
    }
    // Deep nesting in the skipped part stops at the depth limit.
    let mut deep = vec![];
    deep.extend_from_slice(&[12, 0, 99]);
    for _ in 0..100 {
        deep.extend_from_slice(&[12, 0, 1]);
    }
    let e = paths[4].get(&deep, Protocol::Binary).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DepthLimit);
}
