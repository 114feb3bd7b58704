//! Every mapping rule and option of the transcoder, its errors (JSON path and offset), and
//! hostile input; each case also checked against the tree path (`DynStruct` + serde).

use std::sync::Arc;

use dynthrift::json::serde::{Mapped, Mapping, from_json_str};
use dynthrift::json::{Limits, Transcoder};
use dynthrift::{DynSchema, DynStruct, ErrorKind, Protocol};
use proptest::prelude::*;

const IDL: &str = r#"
enum Color { RED = 1, GREEN = 2 }
struct Inner { 1: required i32 a, 2: optional string b }
union U { 1: i32 i, 2: string s }
struct Node { 1: optional Node next, 2: i32 v }
struct All {
  1: bool b, 2: byte y, 3: i16 s, 4: i32 i, 5: i64 l = 5, 6: double d, 7: string str,
  8: binary bin, 9: uuid u, 10: Color c = Color.GREEN, 11: list<i32> li, 12: set<string> ss,
  13: map<i32, string> mis, 14: map<Inner, i32> mstruct, 15: map<Color, bool> menum,
  16: optional Inner inner, 17: optional U un, 18: required string req,
  19: map<double, i32> md, 20: map<binary, i32> mb, 21: list<list<i64>> lli,
  22: Inner withdefault = { "a": 7 }, 23: map<i64, Inner> mli
}
"#;

fn types() -> Arc<DynSchema> {
    DynSchema::new(dynthrift::idl::parse_str(IDL).unwrap()).unwrap()
}

const PROTOCOLS: [Protocol; 2] = [Protocol::Binary, Protocol::Compact];

/// JSON → Thrift → JSON with the transcoder, checked against the tree path both ways.
fn through(types: &Arc<DynSchema>, name: &str, m: &Mapping, json: &str) -> String {
    let t = Transcoder::new(types, name, m.clone()).unwrap();
    let mut last = None;
    for p in PROTOCOLS {
        let bytes = t
            .from_json(json, p)
            .unwrap_or_else(|e| panic!("{json}: {e}"));
        let tree = from_json_str(types, name, json, m).unwrap();
        // Same value: compared re-encoded in declaration order (our field order follows the
        // JSON), as bytes (NaN is not equal to itself).
        assert_eq!(
            DynStruct::decode(types, name, &bytes, p)
                .unwrap()
                .encode(p)
                .unwrap(),
            tree.encode(p).unwrap(),
            "{json} {p:?}"
        );
        let out = t.to_json(&bytes, p).unwrap();
        let tree_out = serde_json::to_string(&Mapped::new(
            DynStruct::decode(types, name, &bytes, p).unwrap().view(),
            m,
        ))
        .unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&out).unwrap(),
            serde_json::from_str::<serde_json::Value>(&tree_out).unwrap(),
            "{json} {p:?}"
        );
        if let Some(prev) = &last {
            assert_eq!(prev, &out, "protocols disagree");
        }
        last = Some(out);
    }
    last.unwrap()
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap()
}

#[test]
fn every_type_and_the_defaults() {
    let types = types();
    let input = r#"{"req":"x","b":true,"y":-1,"s":300,"i":70000,"l":-9007199254740993,
        "d":1.5,"str":"a\"b\\c\n\u00e9\ud83d\ude00","bin":"AAEC/w==","u":"00112233-4455-6677-8899-AABBCCDDEEFF",
        "c":1,"li":[1,2,3],"ss":["x","y"],"mis":{"1":"one","-2":"two"},
        "mstruct":[[{"a":1},10],[{"a":2,"b":"z"},20]],"menum":{"1":true,"2":false},
        "inner":{"a":3},"un":{"s":"q"},"md":{"1.5":1,"NaN":2,"-Infinity":3},
        "mb":{"AAE=":1},"lli":[[1],[],[2,3]],"mli":{"9":{"a":1}}}"#;
    let out = through(&types, "All", &Mapping::default(), input);
    let v = json(&out);
    assert_eq!(v["l"], json("-9007199254740993"));
    assert_eq!(v["str"], "a\"b\\c\né😀");
    assert_eq!(v["bin"], "AAEC/w==");
    assert_eq!(v["u"], "00112233-4455-6677-8899-aabbccddeeff");
    assert_eq!(v["mstruct"], json(r#"[[{"a":1},10],[{"a":2,"b":"z"},20]]"#));
    assert_eq!(v["md"], json(r#"{"1.5":1,"NaN":2,"-Infinity":3}"#));
    assert_eq!(v["withdefault"], json(r#"{"a":7}"#));

    // Absent fields: IDL defaults and zero values of default-requiredness fields are filled
    // in, optional ones stay absent.
    let out = through(&types, "All", &Mapping::default(), r#"{"req":"r"}"#);
    let v = json(&out);
    assert_eq!(v["l"], 5);
    assert_eq!(v["c"], 2);
    assert_eq!(v["b"], false);
    assert_eq!(v["li"], json("[]"));
    assert_eq!(v["u"], "00000000-0000-0000-0000-000000000000");
    assert_eq!(v["withdefault"], json(r#"{"a":7}"#));
    assert!(v.get("inner").is_none() && v.get("un").is_none());
    // `null` is absent.
    let out2 = through(
        &types,
        "All",
        &Mapping::default(),
        r#"{"req":"r","l":null,"inner":null}"#,
    );
    assert_eq!(out, out2);
}

#[test]
fn options() {
    let types = types();
    let input = r#"{"req":"x","l":12345678901234567,"c":"RED","menum":{"GREEN":true}}"#;
    let m = Mapping::default().i64_as_string(true).enum_names(true);
    let v = json(&through(&types, "All", &m, input));
    assert_eq!(v["l"], "12345678901234567");
    assert_eq!(v["c"], "RED");
    assert_eq!(v["menum"], json(r#"{"GREEN":true}"#));
    assert_eq!(v["mli"], json("{}"));
    // Input accepts both forms whatever the options.
    let v = json(&through(&types, "All", &Mapping::default(), input));
    assert_eq!(v["l"], 12345678901234567i64);
    assert_eq!(v["c"], 1);
    // Unknown enum values stay numbers under enum_names.
    let v = json(&through(&types, "All", &m, r#"{"req":"x","c":42}"#));
    assert_eq!(v["c"], 42);
    // Ids as keys.
    let m = Mapping::default().field_ids(true);
    let v = json(&through(&types, "All", &m, r#"{"18":"x","inner":{"1":4}}"#));
    assert_eq!(v["18"], "x");
    assert_eq!(v["16"], json(r#"{"1":4}"#));
    assert!(v.get("req").is_none());
    // Unknown keys: error by default, skipped when asked (values of any shape).
    let t = Transcoder::new(&types, "All", Mapping::default()).unwrap();
    let input = r#"{"req":"x","nope":{"a":[1,{"b":null}]},"i":1}"#;
    let e = t.from_json(input, Protocol::Binary).unwrap_err();
    assert_eq!(
        e.to_string(),
        "decode error at $: All has no field 'nope' (offset 11)"
    );
    let t = Transcoder::new(&types, "All", Mapping::default().ignore_unknown(true)).unwrap();
    let bytes = t.from_json(input, Protocol::Binary).unwrap();
    let v = DynStruct::decode(&types, "All", &bytes, Protocol::Binary).unwrap();
    assert_eq!(v.get("i").unwrap(), Some(dynthrift::Value::I32(1)));
}

fn err(types: &Arc<DynSchema>, name: &str, input: &str) -> dynthrift::Error {
    let t = Transcoder::new(types, name, Mapping::default()).unwrap();
    let e = t.from_json(input, Protocol::Binary).unwrap_err();
    let e2 = t.from_json(input, Protocol::Compact).unwrap_err();
    assert_eq!(e.to_string(), e2.to_string());
    // The tree path rejects it too.
    assert!(
        from_json_str(types, name, input, &Mapping::default()).is_err(),
        "{input}"
    );
    e
}

#[test]
fn errors_name_the_json_path_and_offset() {
    let types = types();
    let cases: &[(&str, ErrorKind, &str)] = &[
        (
            r#"{"req":"x","li":[1,2,"a"]}"#,
            ErrorKind::InvalidData,
            "decode error at $.li[2]: expected an i32, found a string (offset 21)",
        ),
        (
            r#"{"req":"x","mli":{"3":{"b":"z"}}}"#,
            ErrorKind::MissingRequired,
            "decode error at $.mli[\"3\"]: missing required field 'a' (offset 22)",
        ),
        (
            r#"{"req":"x","y":300}"#,
            ErrorKind::InvalidData,
            "decode error at $.y: 300 does not fit in a byte (offset 15)",
        ),
        (
            r#"{"i":1}"#,
            ErrorKind::MissingRequired,
            "decode error at $: missing required field 'req' (offset 0)",
        ),
        (
            r#"{"req":"x","un":{}}"#,
            ErrorKind::InvalidUnion,
            "decode error at $.un: a union needs exactly one field, found 0 (offset 16)",
        ),
        (
            r#"{"req":"x","un":{"i":1,"s":"a"}}"#,
            ErrorKind::InvalidUnion,
            "decode error at $.un: a union needs exactly one field, found 2 (offset 16)",
        ),
        (
            r#"{"req":"x","bin":"AA$="}"#,
            ErrorKind::InvalidData,
            "decode error at $.bin: invalid base64 (offset 20)",
        ),
        (
            r#"{"req":"x","u":"nope"}"#,
            ErrorKind::InvalidData,
            "decode error at $.u: expected a uuid (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx) (offset 15)",
        ),
        (
            r#"{"req":"x","c":"BLUE"}"#,
            ErrorKind::InvalidData,
            "decode error at $.c: unknown enum name \"BLUE\" (offset 15)",
        ),
        (
            r#"{"req":"x","i":1.5}"#,
            ErrorKind::InvalidData,
            "decode error at $.i: expected an i32, found a fraction (offset 15)",
        ),
        (
            r#"{"req":"x","i":1,"i":2}"#,
            ErrorKind::InvalidData,
            "decode error at $: duplicate field 'i' (offset 17)",
        ),
        (
            r#"{"req":"x","str":"a\qb"}"#,
            ErrorKind::InvalidData,
            "decode error at $.str: invalid escape (offset 19)",
        ),
        (
            r#"{"req":"x","str":"\ud800"}"#,
            ErrorKind::InvalidData,
            "decode error at $.str: unpaired surrogate in \\u escape (offset 24)",
        ),
        (
            r#"{"req":"x" "i":1}"#,
            ErrorKind::InvalidData,
            "decode error at $: expected ',' or '}' (offset 11)",
        ),
        (
            r#"{"req":"x"} x"#,
            ErrorKind::InvalidData,
            "decode error at $: trailing characters after the value (offset 12)",
        ),
        (
            r#"{"req":"x","mstruct":{"a":1}}"#,
            ErrorKind::InvalidData,
            "decode error at $.mstruct: expected an array of [key, value] pairs (map), found an object (offset 21)",
        ),
        (
            r#"[1]"#,
            ErrorKind::InvalidData,
            "decode error at $: expected an object (All), found an array (offset 0)",
        ),
        (
            r#"{"req":"x","lli":[[1],[2,"#,
            ErrorKind::InvalidData,
            "decode error at $.lli[1][1]: expected an i64, found the end of the input (offset 25)",
        ),
    ];
    for (input, kind, text) in cases {
        let e = err(&types, "All", input);
        assert_eq!(e.kind(), *kind, "{input}: {e}");
        assert_eq!(e.to_string(), *text, "{input}");
    }
}

#[test]
fn thrift_to_json_errors_name_the_field_path() {
    let types = types();
    let t = Transcoder::new(&types, "All", Mapping::default()).unwrap();
    let good = t
        .from_json(r#"{"req":"x","li":[1,2]}"#, Protocol::Binary)
        .unwrap();
    // Every truncation fails cleanly.
    for n in 0..good.len() {
        let e = t.to_json(&good[..n], Protocol::Binary).unwrap_err();
        assert!(e.to_string().starts_with("decode error"), "{e}");
    }
    // Missing required field on the wire.
    let mut v = DynStruct::new(&types, "All").unwrap();
    v.set("req", "x").unwrap();
    let mut inner = DynStruct::new(&types, "Inner").unwrap();
    inner.set("b", "only b").unwrap();
    // Encode by hand: Inner without `a` is invalid, so write the struct ourselves.
    let mut raw = Vec::new();
    {
        use dynthrift::wire::ProtoWrite;
        use dynthrift::wire::binary::BinaryWriter;
        let mut w = BinaryWriter::new(&mut raw);
        w.write_field_begin(dynthrift::TType::String, 18);
        w.write_string("x").unwrap();
        w.write_field_begin(dynthrift::TType::Struct, 16);
        w.write_field_begin(dynthrift::TType::String, 2);
        w.write_string("b").unwrap();
        w.write_field_stop();
        w.write_field_stop();
    }
    let e = t.to_json(&raw, Protocol::Binary).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::MissingRequired);
    assert_eq!(e.path(), "All.inner");
    let e2 = DynStruct::decode(&types, "All", &raw, Protocol::Binary).unwrap_err();
    assert_eq!(e2.kind(), ErrorKind::MissingRequired);
    drop((v, inner));
}

#[test]
fn long_containers_and_strings_patch_their_headers() {
    let types = types();
    // Compact: lists over 14 elements, maps over 127 entries, strings over 127 bytes with
    // escapes (lengths known only at the end).
    let long: String = "\\n".repeat(300);
    let list: Vec<String> = (0..1000).map(|i| i.to_string()).collect();
    let map: Vec<String> = (0..200).map(|i| format!("\"{i}\":\"{long}\"")).collect();
    let input = format!(
        r#"{{"req":"{long}","li":[{}],"mis":{{{}}},"lli":[[{}],[]]}}"#,
        list.join(","),
        map.join(","),
        list.join(",")
    );
    let out = through(&types, "All", &Mapping::default(), &input);
    let v = json(&out);
    assert_eq!(v["li"].as_array().unwrap().len(), 1000);
    assert_eq!(v["mis"].as_object().unwrap().len(), 200);
    assert_eq!(v["req"].as_str().unwrap().len(), 300);
}

#[test]
fn depth_is_limited_both_ways() {
    let types = types();
    let t = Transcoder::new(&types, "Node", Mapping::default()).unwrap();
    let deep = format!("{}{}", r#"{"next":"#.repeat(100), "}".repeat(100));
    let deep = deep.replacen("{\"next\":", "", 0);
    let bad = format!("{}{{}}{}", r#"{"next":"#.repeat(100), "}".repeat(100));
    let e = t.from_json(&bad, Protocol::Binary).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DepthLimit, "{e}");
    let ok = format!("{}{{}}{}", r#"{"next":"#.repeat(50), "}".repeat(50));
    let bytes = t.from_json(&ok, Protocol::Compact).unwrap();
    let t2 = t.clone().with_limits(Limits {
        depth: 10,
        ..Limits::default()
    });
    assert_eq!(
        t2.to_json(&bytes, Protocol::Compact).unwrap_err().kind(),
        ErrorKind::DepthLimit
    );
    assert!(t.to_json(&bytes, Protocol::Compact).is_ok());
    // Deep garbage under an ignored key.
    let t = Transcoder::new(&types, "Node", Mapping::default().ignore_unknown(true)).unwrap();
    let bad = format!(r#"{{"x":{}}}"#, "[".repeat(100_000));
    assert_eq!(
        t.from_json(&bad, Protocol::Binary).unwrap_err().kind(),
        ErrorKind::DepthLimit
    );
    drop(deep);
}

#[test]
fn doubles_round_trip_including_non_finite() {
    let types = types();
    for d in [
        "0.1",
        "-0.0",
        "1e300",
        "\"NaN\"",
        "\"Infinity\"",
        "\"-Infinity\"",
        "123456789012345678901234567890",
        "5e-324",
    ] {
        let input = format!(r#"{{"req":"x","d":{d}}}"#);
        let out = through(&types, "All", &Mapping::default(), &input);
        let v = json(&out);
        let got = &v["d"];
        let want = json(d);
        if let (Some(a), Some(b)) = (got.as_f64(), want.as_f64()) {
            assert_eq!(a.to_bits(), b.to_bits(), "{d}");
        } else {
            assert_eq!(got, &want);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Arbitrary bytes: errors, never panics, both directions.
    #[test]
    fn arbitrary_input_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        let types = types();
        let t = Transcoder::new(&types, "All", Mapping::default().ignore_unknown(true)).unwrap();
        for p in PROTOCOLS {
            let _ = t.to_json(&data, p);
            let _ = t.from_json_bytes(&data, p);
        }
    }

    /// Mutated valid JSON: errors or valid Thrift that decodes, never panics.
    #[test]
    fn mutated_json_never_panics(pos in 0usize..400, byte in any::<u8>()) {
        let types = types();
        let t = Transcoder::new(&types, "All", Mapping::default()).unwrap();
        let mut input = br#"{"req":"x","li":[1,2],"mis":{"1":"a"},"mstruct":[[{"a":1},2]],"un":{"i":3},"d":1.5,"bin":"AAE=","str":"\u00e9"}"#.to_vec();
        let i = pos % input.len();
        input[i] = byte;
        for p in PROTOCOLS {
            if let Ok(bytes) = t.from_json_bytes(&input, p) {
                prop_assert!(DynStruct::decode(&types, "All", &bytes, p).is_ok());
            }
        }
    }
}

#[test]
fn base64_vectors() {
    use dynthrift::json::serde::{base64_decode, base64_encode};
    for (raw, text) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ] {
        let mut out = Vec::new();
        base64_encode(raw.as_bytes(), &mut out);
        assert_eq!(out, text.as_bytes());
        let mut back = Vec::new();
        base64_decode(text.as_bytes(), &mut back).unwrap();
        assert_eq!(back, raw.as_bytes());
        // Unpadded too.
        let mut back = Vec::new();
        base64_decode(text.trim_end_matches('=').as_bytes(), &mut back).unwrap();
        assert_eq!(back, raw.as_bytes());
    }
    let mut out = vec![7];
    assert_eq!(base64_decode(b"Zm9v$m9v", &mut out), Err(4));
    assert_eq!(out, [7]);
    assert_eq!(base64_decode(b"Zm9vY", &mut out), Err(4));
    assert_eq!(base64_decode(b"Zm9vYm=v", &mut out), Err(6));
    let mut url = Vec::new();
    base64_decode(b"-_-_", &mut url).unwrap();
    assert_eq!(url, [0xfb, 0xff, 0xbf]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn base64_round_trips(data in proptest::collection::vec(any::<u8>(), 0..100)) {
        use dynthrift::json::serde::{base64_decode, base64_encode};
        let mut text = vec![b'x'];
        base64_encode(&data, &mut text);
        let mut back = Vec::new();
        base64_decode(&text[1..], &mut back).unwrap();
        prop_assert_eq!(back, data);
    }

    /// Strings are escaped exactly as serde_json escapes them, and read back.
    #[test]
    fn strings_match_serde_json(s in "(\\PC|[\\x00-\\x1f\"\\\\]){0,40}") {
        let types = DynSchema::new(dynthrift::idl::parse_str("struct S { 1: string s }").unwrap()).unwrap();
        let t = Transcoder::new(&types, "S", Mapping::default()).unwrap();
        let json = format!("{{\"s\":{}}}", serde_json::to_string(&s).unwrap());
        let bytes = t.from_json(&json, Protocol::Binary).unwrap();
        prop_assert_eq!(t.to_json(&bytes, Protocol::Binary).unwrap(), json);
    }
}

/// Ours and the tree path (serde_json) give the same bytes for `json`, both protocols.
fn same_bytes_as_tree(types: &Arc<DynSchema>, name: &str, json: &str) {
    let t = Transcoder::new(types, name, Mapping::default()).unwrap();
    let tree = from_json_str(types, name, json, &Mapping::default()).unwrap();
    for p in PROTOCOLS {
        assert_eq!(
            t.from_json(json, p).unwrap(),
            tree.encode(p).unwrap(),
            "{json} {p:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Every escape form, in runs and between plain text, long enough to cross the word-wide
    /// paths and the Compact length boundary at 128 bytes.
    #[test]
    fn unescaping_matches_serde_json(
        body in "([a-z é你]|\\\\[nrtbf/\"\\\\]|\\\\u00[01][0-9a-f]|\\\\u4f60|\\\\ud83d\\\\ude00){0,160}"
    ) {
        let types = DynSchema::new(dynthrift::idl::parse_str("struct S { 1: string s, 2: list<string> l }").unwrap()).unwrap();
        let json = format!("{{\"s\":\"{body}\",\"l\":[\"{body}\",\"x{body}\"]}}");
        same_bytes_as_tree(&types, "S", &json);
    }

    /// Base64 decoded straight from the JSON text: any length, unpadded, URL-safe, or with
    /// `\/` escapes (then the slow way).
    #[test]
    fn base64_from_json_matches_the_tree(
        data in proptest::collection::vec(any::<u8>(), 0..300),
        form in 0u8..4,
    ) {
        use dynthrift::json::serde::base64_encode;
        let types = DynSchema::new(dynthrift::idl::parse_str("struct B { 1: binary b }").unwrap()).unwrap();
        let mut text = Vec::new();
        base64_encode(&data, &mut text);
        let mut text = String::from_utf8(text).unwrap();
        match form {
            1 => text = text.trim_end_matches('=').to_string(),
            2 => text = text.replace('+', "-").replace('/', "_"),
            3 => text = text.replace('/', "\\/"),
            _ => {}
        }
        same_bytes_as_tree(&types, "B", &format!("{{\"b\":\"{text}\"}}"));
    }
}

#[test]
fn escaped_strings_and_binaries_at_compact_length_boundaries() {
    let types =
        DynSchema::new(dynthrift::idl::parse_str("struct S { 1: string s, 2: binary b }").unwrap())
            .unwrap();
    for n in [0, 1, 126, 127, 128, 129, 16382, 16383, 16384, 16385] {
        // `n` bytes once unescaped, each string with an escape.
        let s = format!("\\n{}", "a".repeat(n.max(1) - 1));
        let data: Vec<u8> = (0..n).map(|i| i as u8).collect();
        let mut b = Vec::new();
        dynthrift::json::serde::base64_encode(&data, &mut b);
        let json = format!(
            "{{\"s\":\"{s}\",\"b\":\"{}\"}}",
            std::str::from_utf8(&b).unwrap()
        );
        same_bytes_as_tree(&types, "S", &json);
    }
}

#[test]
fn bad_base64_and_escapes_are_located() {
    let types =
        DynSchema::new(dynthrift::idl::parse_str("struct S { 1: string s, 2: binary b }").unwrap())
            .unwrap();
    let t = Transcoder::new(&types, "S", Mapping::default()).unwrap();
    let e = |json: &str| {
        t.from_json(json, Protocol::Compact)
            .unwrap_err()
            .to_string()
    };
    // The bad character is in the third group of eight, decoded from the text directly.
    assert_eq!(
        e(r#"{"b":"AAAAAAAAAAAAAAAAAA*AAAAA"}"#),
        "decode error at $.b: invalid base64 (offset 24)"
    );
    assert_eq!(
        e(r#"{"b":"AAAA\/AAA*"}"#),
        "decode error at $.b: invalid base64 (offset 14)"
    );
    assert_eq!(
        e(r#"{"s":"\n\r\t\q"}"#),
        "decode error at $.s: invalid escape (offset 12)"
    );
    assert_eq!(
        e(r#"{"s":"\n\r\t\n\r"#),
        "decode error at $.s: unterminated string (offset 16)"
    );
}

/// Strings that are ASCII up to an invalid UTF-8 byte (at the start, in the middle, at the end,
/// on either side of a word boundary), as a field and as a set element: Thrift → JSON fails with
/// the tree path's error (kind, offset); the same strings made valid go through.
#[test]
fn invalid_utf8_in_otherwise_ascii_strings() {
    use dynthrift::wire::ProtoWrite;
    use dynthrift::wire::binary::BinaryWriter;
    use dynthrift::wire::compact::CompactWriter;
    fn write<W: ProtoWrite>(w: &mut W, s: &[u8], key: bool) {
        // A valid non-ASCII string first: the bad one is not the first to be checked.
        w.write_field_begin(dynthrift::TType::String, 18);
        w.write_string("é世界").unwrap();
        if key {
            w.write_field_begin(dynthrift::TType::Set, 12);
            w.write_set_begin(dynthrift::TType::String, 1).unwrap();
            w.write_binary(s).unwrap();
        } else {
            w.write_field_begin(dynthrift::TType::String, 7);
            w.write_binary(s).unwrap();
        }
        w.write_field_stop();
    }
    let types = types();
    let t = Transcoder::new(&types, "All", Mapping::default()).unwrap();
    for len in [1usize, 5, 7, 8, 9, 15, 16, 17, 31, 40] {
        for bad_at in [0, len / 2, len.saturating_sub(1), 7, 8, 15, 16] {
            if bad_at >= len {
                continue;
            }
            for bad in [
                &[0xffu8][..],
                &[0xc3],
                &[0xe4, 0xbd],
                &[0x80],
                &[0xed, 0xa0, 0x80],
            ] {
                let mut s: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
                s.splice(bad_at..bad_at + 1, bad.iter().copied());
                if bad_at == 3 {
                    s[1] = b'\n'; // an escape before it too
                }
                assert!(std::str::from_utf8(&s).is_err());
                for key in [false, true] {
                    for p in PROTOCOLS {
                        let mut raw = Vec::new();
                        match p {
                            Protocol::Binary => write(&mut BinaryWriter::new(&mut raw), &s, key),
                            _ => write(&mut CompactWriter::new(&mut raw), &s, key),
                        }
                        let e = t.to_json(&raw, p).unwrap_err();
                        assert_eq!(e.kind(), ErrorKind::InvalidUtf8, "{s:?} {key} {p:?}");
                        let tree = DynStruct::decode(&types, "All", &raw, p).unwrap_err();
                        assert_eq!(e.kind(), tree.kind());
                        assert_eq!(e.offset(), tree.offset(), "{s:?} {key} {p:?}: {e}");
                        // Cut short after the bad string: still its error, as the tree says.
                        let cut = &raw[..raw.len() - 1];
                        let e = t.to_json(cut, p).unwrap_err();
                        let tree = DynStruct::decode(&types, "All", cut, p).unwrap_err();
                        assert_eq!(e.kind(), ErrorKind::InvalidUtf8);
                        assert_eq!(e.kind(), tree.kind());
                        assert_eq!(e.offset(), tree.offset());
                        // Valid UTF-8 in the same place goes through, as the tree path says.
                        let good: Vec<u8> = String::from_utf8_lossy(&s).into_owned().into();
                        let mut raw = Vec::new();
                        match p {
                            Protocol::Binary => write(&mut BinaryWriter::new(&mut raw), &good, key),
                            _ => write(&mut CompactWriter::new(&mut raw), &good, key),
                        }
                        let out = t.to_json(&raw, p).unwrap();
                        let tree = DynStruct::decode(&types, "All", &raw, p).unwrap();
                        let theirs =
                            serde_json::to_string(&Mapped::new(tree.view(), &Mapping::default()))
                                .unwrap();
                        // Fields in wire order here, declaration order there: compared as values.
                        assert_eq!(json(&out), json(&theirs));
                        assert!(out.contains('\u{fffd}'));
                    }
                }
            }
        }
    }
}
