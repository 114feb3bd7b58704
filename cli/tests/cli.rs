//! The `dynthrift` binary, run as a process on the shipped sample files (testdata/samples).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use dynthrift::json::{Mapping, Transcoder};
use dynthrift::{Codec, DynSchema, Options, Protocol};
use dynthrift_testkit::{testdata, workloads as tk};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dynthrift"))
}

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut c = bin();
    c.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn dynthrift");
    let mut input = child.stdin.take().unwrap();
    if let Some(data) = stdin {
        // The process may exit before reading (a usage error): ignore a broken pipe.
        let _ = input.write_all(data);
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn ok(args: &[&str], stdin: Option<&[u8]>) -> Vec<u8> {
    let out = run(args, stdin);
    assert!(
        out.status.success(),
        "dynthrift {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn fails(args: &[&str], stdin: Option<&[u8]>) -> String {
    let out = run(args, stdin);
    assert!(!out.status.success(), "dynthrift {args:?} should fail");
    String::from_utf8(out.stderr).unwrap()
}

fn s(p: PathBuf) -> String {
    p.to_str().unwrap().to_string()
}

fn baseline() -> String {
    s(testdata("idl/frugal/tests/baseline.thrift"))
}

fn thrift_test() -> String {
    s(testdata("idl/apache-thrift/test/v0.16/ThriftTest.thrift"))
}

fn sample(name: &str) -> String {
    s(testdata(&format!("samples/{name}")))
}

/// The calls and replies of `thrifttest.framed`, as `decode --service` prints them.
const MESSAGES: &str = r#"{"method":"testStruct","type":"call","seqid":1,"body":{"thing":{"string_thing":"hello","byte_thing":1,"i32_thing":-3,"i64_thing":12345678901234}}}
{"method":"testStruct","type":"reply","seqid":1,"body":{"success":{"string_thing":"hello","byte_thing":1,"i32_thing":-3,"i64_thing":12345678901234}}}
{"method":"testException","type":"call","seqid":2,"body":{"arg":"Xception"}}
{"method":"testException","type":"reply","seqid":2,"body":{"err1":{"errorCode":1001,"message":"Xception"}}}
{"method":"testI32","type":"exception","seqid":3,"body":{"message":"internal error","type":6}}
"#;

/// The shipped samples are what they say: `simple.bin`, `nesting.bin` and `nesting.compact`
/// decode to testkit's workload values; `thrifttest.framed` holds `MESSAGES`.
/// `DYNTHRIFT_BLESS=1` writes them anew (map order in the files follows the encoder's).
#[test]
fn samples_have_their_provenance() {
    let bless = std::env::var("DYNTHRIFT_BLESS").is_ok_and(|v| v == "1");
    let compact = Codec::<tk::Nesting>::with_options(Options::compact()).unwrap();
    if bless {
        std::fs::write(
            sample("simple.bin"),
            dynthrift::encode(&tk::simple()).unwrap(),
        )
        .unwrap();
        std::fs::write(
            sample("nesting.bin"),
            dynthrift::encode(&tk::nesting()).unwrap(),
        )
        .unwrap();
        // The same bytes in Compact, map entries in the same order.
        let bin = std::fs::read(sample("nesting.bin")).unwrap();
        let compact_bytes = ok(
            &["convert", "--from", "binary", "--to", "compact"],
            Some(&bin),
        );
        std::fs::write(sample("nesting.compact"), compact_bytes).unwrap();
        let framed = ok(
            &[
                "encode",
                "--idl",
                &thrift_test(),
                "--service",
                "ThriftTest",
                "--framed",
            ],
            Some(MESSAGES.as_bytes()),
        );
        std::fs::write(sample("thrifttest.framed"), framed).unwrap();
    }
    let read = |n: &str| std::fs::read(sample(n)).unwrap();
    assert_eq!(
        dynthrift::decode::<tk::Simple>(&read("simple.bin")).unwrap(),
        tk::simple()
    );
    assert_eq!(
        dynthrift::decode::<tk::Nesting>(&read("nesting.bin")).unwrap(),
        tk::nesting()
    );
    assert_eq!(
        compact.decode(&read("nesting.compact")).unwrap(),
        tk::nesting()
    );
    let decoded = ok(
        &[
            "decode",
            "--idl",
            &thrift_test(),
            "--service",
            "ThriftTest",
            "--framed",
            &sample("thrifttest.framed"),
        ],
        None,
    );
    assert_eq!(String::from_utf8(decoded).unwrap(), MESSAGES);
}

#[test]
fn check_prints_the_types_and_reports_errors() {
    let out = String::from_utf8(ok(&["check", &baseline()], None)).unwrap();
    assert!(out.contains("5 struct(s)"), "{out}");
    assert!(out.contains("struct Nesting {"), "{out}");
    assert!(out.contains("MapStringSimple"), "{out}");
    let dir = std::env::temp_dir().join(format!("dynthrift-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.thrift");
    std::fs::write(&bad, "struct A {\n  1: i32 x\n  2: Missing y\n}\n").unwrap();
    let err = fails(&["check", bad.to_str().unwrap()], None);
    assert!(err.contains("bad.thrift:3:"), "{err}");
    assert!(err.contains("Missing"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn decode_and_encode_round_trip_the_samples() {
    let types = DynSchema::new(dynthrift::idl::parse_file(baseline()).unwrap()).unwrap();
    let t = Transcoder::new(&types, "Nesting", Mapping::default()).unwrap();
    for (file, proto) in [("nesting.bin", "binary"), ("nesting.compact", "compact")] {
        let p = if proto == "binary" {
            Protocol::Binary
        } else {
            Protocol::Compact
        };
        let bytes = std::fs::read(sample(file)).unwrap();
        let base = [
            "decode",
            "--idl",
            &baseline(),
            "--type",
            "Nesting",
            "-p",
            proto,
        ];
        let json = ok(&[&base[..], &[&sample(file)]].concat(), None);
        assert_eq!(
            String::from_utf8(json.clone()).unwrap(),
            t.to_json(&bytes, p).unwrap() + "\n"
        );
        // From stdin, pretty: the same value.
        let pretty = ok(&[&base[..], &["--pretty"]].concat(), Some(&bytes));
        assert!(pretty.iter().filter(|&&b| b == b'\n').count() > 100);
        let a: serde_json::Value = serde_json::from_slice(&json).unwrap();
        let b: serde_json::Value = serde_json::from_slice(&pretty).unwrap();
        assert_eq!(a, b);
        // Back to bytes: identical (the JSON keeps the wire order).
        let back = ok(
            &[
                "encode",
                "--idl",
                &baseline(),
                "--type",
                "Nesting",
                "-p",
                proto,
            ],
            Some(&json),
        );
        assert_eq!(back, bytes, "{file}");
    }
    // Options reach the mapping.
    let json = ok(
        &[
            "decode",
            "--idl",
            &baseline(),
            "--type",
            "Simple",
            "--i64-as-string",
            "--enum-names",
            &sample("simple.bin"),
        ],
        None,
    );
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["I64Field"], "9223372036854775807");
    assert_eq!(v["enumField"], "ValueA");
}

#[test]
fn convert_switches_protocols() {
    let dir = std::env::temp_dir().join(format!("dynthrift-conv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("n.compact");
    let out_s = out.to_str().unwrap();
    ok(
        &[
            "convert",
            "--from",
            "binary",
            "--to",
            "compact",
            &sample("nesting.bin"),
            "-o",
            out_s,
        ],
        None,
    );
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(sample("nesting.compact")).unwrap()
    );
    let back = ok(
        &["convert", "--from", "compact", "--to", "binary", out_s],
        None,
    );
    assert_eq!(back, std::fs::read(sample("nesting.bin")).unwrap());
    // A framed stream of messages, both ways.
    let framed = std::fs::read(sample("thrifttest.framed")).unwrap();
    let compact = ok(
        &["convert", "--from", "binary", "--to", "compact", "--framed"],
        Some(&framed),
    );
    let decoded = ok(
        &[
            "decode",
            "--idl",
            &thrift_test(),
            "--service",
            "ThriftTest",
            "--framed",
            "-p",
            "compact",
        ],
        Some(&compact),
    );
    assert_eq!(String::from_utf8(decoded).unwrap(), MESSAGES);
    let again = ok(
        &[
            "convert",
            "--from",
            "compact",
            "--to",
            "binary",
            "--framed",
            "--message",
        ],
        Some(&compact),
    );
    assert_eq!(again, framed);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn inspect_shows_the_tree_with_offsets() {
    let out = String::from_utf8(ok(&["inspect", &sample("simple.bin")], None)).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "@0 struct");
    assert_eq!(lines[1], "@0   field 1: byte 127");
    assert_eq!(lines[2], "@4   field 2: i64 9223372036854775807");
    assert!(
        out.contains("field 6: string/binary (256 bytes) 0x000102"),
        "{out}"
    );
    assert!(lines.last().unwrap().ends_with("  stop"), "{out}");
    let out = String::from_utf8(ok(
        &["inspect", "--framed", &sample("thrifttest.framed")],
        None,
    ))
    .unwrap();
    assert!(out.contains("frame 0 at 0"), "{out}");
    assert!(out.contains("message \"testStruct\" Call seqid 1"), "{out}");
    assert!(
        out.contains("message \"testI32\" Exception seqid 3"),
        "{out}"
    );
    // Truncated: the error with its offset.
    let bytes = std::fs::read(sample("simple.bin")).unwrap();
    let err = fails(&["inspect"], Some(&bytes[..20]));
    assert!(err.contains("unexpected end of input (offset"), "{err}");
}

#[test]
fn errors_are_clear() {
    let bytes = std::fs::read(sample("nesting.bin")).unwrap();
    let decode = ["decode", "--idl", &baseline(), "--type", "Nesting"];
    let err = fails(&decode, Some(&bytes[..bytes.len() / 2]));
    assert!(
        err.starts_with("dynthrift: decode error at Nesting."),
        "{err}"
    );
    assert!(err.contains("(offset "), "{err}");
    let err = fails(
        &["decode", "--idl", &baseline(), "--type", "Nope"],
        Some(&bytes),
    );
    assert!(
        err.contains("no struct, union or exception named 'Nope'"),
        "{err}"
    );
    let err = fails(
        &["encode", "--idl", &baseline(), "--type", "Nesting"],
        Some(br#"{"ListSimple":[{},{},{},{"StringField":7}]}"#),
    );
    assert_eq!(
        err.trim(),
        "dynthrift: decode error at $.ListSimple[3].StringField: expected a string, found a number (offset 39)"
    );
    let mut framed = std::fs::read(sample("thrifttest.framed")).unwrap();
    framed.truncate(framed.len() - 3);
    let err = fails(
        &[
            "decode",
            "--idl",
            &thrift_test(),
            "--service",
            "ThriftTest",
            "--framed",
        ],
        Some(&framed),
    );
    assert!(err.contains("frame 4 (at offset"), "{err}");
    let err = fails(&["decode", "--idl", &baseline()], Some(&bytes));
    assert!(err.contains("--type"), "{err}");
    let help = String::from_utf8(ok(&["--help"], None)).unwrap();
    assert!(
        help.contains("Examples:") && help.contains("decode"),
        "{help}"
    );
}

fn request_idl() -> String {
    sample("request.thrift")
}

/// The JSON of `request-ok.bin` and `request-bad.bin` (the bad one breaks `vt.elem.gt` at
/// `Values[2]`).
const REQUEST_OK: &str =
    r#"{"Message":"Debug: disk almost full","ID":4242,"Values":[0.5,1.5,2.5],"Level":"Info"}"#;
const REQUEST_BAD: &str =
    r#"{"Message":"Debug: disk almost full","ID":4242,"Values":[0.5,1.5,0.1],"Level":"Info"}"#;

/// `request-ok.bin` and `request-bad.bin` are `REQUEST_OK` and `REQUEST_BAD` encoded in Binary
/// by `dynthrift encode` (`DYNTHRIFT_BLESS=1` writes them anew).
#[test]
fn validation_samples_have_their_provenance() {
    let encode = ["encode", "--idl", &request_idl(), "--type", "Request"];
    for (file, json) in [
        ("request-ok.bin", REQUEST_OK),
        ("request-bad.bin", REQUEST_BAD),
    ] {
        let bytes = ok(&encode, Some(json.as_bytes()));
        if std::env::var("DYNTHRIFT_BLESS").is_ok_and(|v| v == "1") {
            std::fs::write(sample(file), &bytes).unwrap();
        }
        assert_eq!(std::fs::read(sample(file)).unwrap(), bytes, "{file}");
    }
}

#[test]
fn get_reads_one_value_by_path() {
    let get = |path: &str, file: &str, proto: &str| {
        let out = ok(
            &[
                "get",
                "--idl",
                &baseline(),
                "--type",
                "Nesting",
                "--path",
                path,
                "-p",
                proto,
                &sample(file),
            ],
            None,
        );
        serde_json::from_slice::<serde_json::Value>(&out).unwrap()
    };
    let n = tk::nesting();
    for (file, proto) in [("nesting.bin", "binary"), ("nesting.compact", "compact")] {
        assert_eq!(
            get("ListSimple[3].StringField", file, proto),
            serde_json::json!(tk::sample_string())
        );
        assert_eq!(
            get(r#"MapStringSimple["3"].I32Field"#, file, proto),
            serde_json::json!(n.map_string_simple["3"].i32_field)
        );
        assert_eq!(
            get("MapI32I64[5]", file, proto),
            serde_json::json!(i64::MIN)
        );
        assert_eq!(get("ListI32[7]", file, proto), serde_json::json!(i32::MIN));
        let mut b64 = Vec::new();
        dynthrift::json::serde::base64_encode(&tk::sample_binary(), &mut b64);
        assert_eq!(
            get("Binary", file, proto),
            serde_json::json!(String::from_utf8(b64).unwrap())
        );
        // A struct: what `decode` prints for it.
        let simple = ok(
            &[
                "decode",
                "--idl",
                &baseline(),
                "--type",
                "Simple",
                &sample("simple.bin"),
            ],
            None,
        );
        assert_eq!(
            get("SimpleStruct", file, proto),
            serde_json::from_slice::<serde_json::Value>(&simple).unwrap()
        );
    }
    // From standard input, pretty.
    let bytes = std::fs::read(sample("nesting.bin")).unwrap();
    let out = ok(
        &[
            "get",
            "--idl",
            &baseline(),
            "--type",
            "Nesting",
            "--path",
            "SimpleStruct",
            "--pretty",
        ],
        Some(&bytes),
    );
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("\n  \"I32Field\": 2147483647"), "{text}");
    // Absent values and bad paths are errors that say so.
    let base = ["get", "--idl", &baseline(), "--type", "Nesting", "--path"];
    let err = fails(&[&base[..], &["ListSimple[8]"]].concat(), Some(&bytes));
    assert_eq!(
        err.trim(),
        "dynthrift: no value at 'ListSimple[8]' in the input (an absent field, an index past the end or a missing key)"
    );
    let err = fails(&[&base[..], &["ListSimple[x]"]].concat(), Some(&bytes));
    assert!(err.contains("path 'ListSimple[x]' column 12"), "{err}");
    let err = fails(&[&base[..], &["Nope"]].concat(), Some(&bytes));
    assert!(err.contains("Nope"), "{err}");
    let err = fails(
        &[&base[..], &["ListSimple[3]"]].concat(),
        Some(&bytes[..100]),
    );
    assert!(err.contains("(offset "), "{err}");
    let help = String::from_utf8(ok(&["get", "--help"], None)).unwrap();
    assert!(help.contains("MapStringSimple"), "{help}");
}

#[test]
fn validate_checks_the_annotations() {
    let base = ["validate", "--idl", &request_idl(), "--type", "Request"];
    let out = ok(&[&base[..], &[&sample("request-ok.bin")]].concat(), None);
    assert_eq!(String::from_utf8(out).unwrap(), "ok\n");
    let out = run(&[&base[..], &[&sample("request-bad.bin")]].concat(), None);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "dynthrift: validation error at Request.Values[2]: vt.elem.gt 0.25 violated (value 0.1)\n"
    );
    // Compact, from standard input.
    let compact = ok(
        &["convert", "--from", "binary", "--to", "compact"],
        Some(&std::fs::read(sample("request-bad.bin")).unwrap()),
    );
    let err = fails(&[&base[..], &["-p", "compact"]].concat(), Some(&compact));
    assert!(err.contains("vt.elem.gt 0.25 violated"), "{err}");
    // Framed: every frame checked, the bad one named.
    let mut framed = Vec::new();
    for f in ["request-ok.bin", "request-ok.bin", "request-bad.bin"] {
        let b = std::fs::read(sample(f)).unwrap();
        framed.extend_from_slice(&(b.len() as u32).to_be_bytes());
        framed.extend_from_slice(&b);
    }
    let n = framed.len() / 3;
    let out = ok(&[&base[..], &["--framed"]].concat(), Some(&framed[..2 * n]));
    assert_eq!(String::from_utf8(out).unwrap(), "ok: 2 frame(s) valid\n");
    let err = fails(&[&base[..], &["--framed"]].concat(), Some(&framed));
    assert!(
        err.starts_with(&format!(
            "dynthrift: frame 2 (at offset {}): validation error at Request.Values[2]",
            2 * n
        )),
        "{err}"
    );
    // Bytes that are not a well-formed Request fail too, even where no rule looks.
    let ok_bytes = std::fs::read(sample("request-ok.bin")).unwrap();
    let err = fails(&base, Some(&ok_bytes[..ok_bytes.len() - 1]));
    assert!(err.contains("decode error"), "{err}");
    let err = fails(&base, Some(&[ok_bytes.clone(), vec![0]].concat()));
    assert!(err.contains("1 bytes after the end of the struct"), "{err}");
    // Unsupported annotations: an error listing them, or warnings with --lenient.
    let dir = std::env::temp_dir().join(format!("dynthrift-vt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let idl = dir.join("odd.thrift");
    std::fs::write(
        &idl,
        "struct R {\n  1: i32 a (vt.gt = \"3\", vt.assert = \"@len($a) > 1\")\n}\n",
    )
    .unwrap();
    let idl = idl.to_str().unwrap();
    let three = ok(
        &["encode", "--idl", idl, "--type", "R"],
        Some(br#"{"a":3}"#),
    );
    let err = fails(&["validate", "--idl", idl, "--type", "R"], Some(&three));
    assert!(err.contains("vt.assert"), "{err}");
    let out = run(
        &["validate", "--idl", idl, "--type", "R", "--lenient"],
        Some(&three),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("warning:") && err.contains("vt.assert"),
        "{err}"
    );
    assert!(err.contains("vt.gt 3 violated (value 3)"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
    let help = String::from_utf8(ok(&["validate", "--help"], None)).unwrap();
    assert!(
        help.contains("vt.min_size") && help.contains("exits with status 1"),
        "{help}"
    );
}

/// The progress bar of long streams, forced on (standard error is not a terminal here).
#[test]
fn progress_bar_can_be_forced() {
    let framed = std::fs::read(sample("thrifttest.framed")).unwrap();
    let total = framed.len();
    let args = [
        "decode",
        "--idl",
        &thrift_test(),
        "--service",
        "ThriftTest",
        "--framed",
        &sample("thrifttest.framed"),
    ];
    let mut c = bin();
    let out = c
        .args(args)
        .env("DYNTHRIFT_PROGRESS", "always")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), MESSAGES);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains(&format!("{total} B/{total} B")), "{err}");
    // Without it, and short input: nothing on standard error.
    let out = bin()
        .args(args)
        .env_remove("DYNTHRIFT_PROGRESS")
        .output()
        .unwrap();
    assert!(out.stderr.is_empty());
}
