//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/*`, seeds and regressions) through
//! the fuzz targets' own bodies (`dynthrift_testkit::fuzz`), on the stable toolchain, as part
//! of `cargo test`. A finding of the fuzzer is added to the corpus as a file, so it stays
//! fixed here.
//!
//! Also: the seed corpus can be regenerated (`DYNTHRIFT_WRITE_SEEDS=1 cargo test --test
//! fuzz_corpus write_seeds`), and deeply nested IDL (which libFuzzer's 4 KB inputs cannot
//! reach) is fed to `idl_parse` directly.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use dynthrift::{Codec, Options, Protocol};
use dynthrift_testkit::fuzz;
use dynthrift_testkit::workloads;

/// A target's name and body.
type Target = (&'static str, fn(&[u8]));

const TARGETS: [Target; 4] = [
    ("decode_bytes", fuzz::decode_bytes),
    ("differential", fuzz::differential),
    ("roundtrip", fuzz::roundtrip),
    ("idl_parse", fuzz::idl_parse),
];

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target)
}

fn files(target: &str) -> Vec<PathBuf> {
    let dir = corpus_dir(target);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

#[test]
fn corpus_replays_clean() {
    let mut failures = Vec::new();
    for (target, run) in TARGETS {
        let files = files(target);
        assert!(
            files.len() >= 5,
            "{target}: only {} corpus files",
            files.len()
        );
        for f in &files {
            let data = std::fs::read(f).unwrap();
            if let Err(e) = catch_unwind(AssertUnwindSafe(|| run(&data))) {
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!("{target}/{}: {msg}", f.display()));
            }
        }
        println!("{target}: {} files replayed", files.len());
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The regression files (named `regress-*`) are each documented in the corpus README.
#[test]
fn regressions_are_documented() {
    let readme = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/README.md"),
    )
    .unwrap();
    for (target, _) in TARGETS {
        for f in files(target) {
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            if name.starts_with("regress-") {
                assert!(
                    readme.contains(&name),
                    "{target}/{name} is not described in fuzz/corpus/README.md"
                );
            }
        }
    }
}

/// IDL nested far deeper than any fuzz input: an error, never a stack overflow (this test
/// runs on a test thread's default 2 MB stack).
#[test]
fn deep_idl_nesting_is_an_error() {
    for n in [300usize, 10_000, 100_000] {
        let ty = format!("{}i32{}", "list<".repeat(n), ">".repeat(n));
        let text = format!("struct S {{ 1: {ty} f }}");
        fuzz::idl_parse(text.as_bytes());
        assert!(dynthrift::idl::parse_str(&text).is_err(), "{n} levels");
        let konst = format!("const list<i32> C = {}{}", "[".repeat(n), "]".repeat(n));
        fuzz::idl_parse(konst.as_bytes());
        assert!(dynthrift::idl::parse_str(&konst).is_err(), "{n} levels");
        let typedefs: String = (0..n.min(2000))
            .map(|i| format!("typedef T{i} T{}\n", i + 1))
            .collect();
        let text = format!("{typedefs}typedef i32 T{}\n", n.min(2000));
        fuzz::idl_parse(text.as_bytes());
    }
}

/// Writes the seed corpus: valid encodings of the workload samples and of random values of
/// every `ThriftTest.thrift` and workload struct, in both protocols, plus generator inputs
/// for the schema targets and the repository's IDL files. Only with `DYNTHRIFT_WRITE_SEEDS`.
#[test]
fn write_seeds() {
    if std::env::var_os("DYNTHRIFT_WRITE_SEEDS").is_none() {
        return;
    }
    let write = |target: &str, name: &str, data: &[u8]| {
        let dir = corpus_dir(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), data).unwrap();
    };
    // decode_bytes: [subject, mode, bytes...]; subjects 0..5 are the derived workloads.
    for (pi, p) in [Protocol::Binary, Protocol::Compact]
        .into_iter()
        .enumerate()
    {
        let o = Options::default().protocol(p);
        let simple = Codec::with_options(o)
            .unwrap()
            .encode(&workloads::simple())
            .unwrap();
        let nesting = Codec::with_options(o)
            .unwrap()
            .encode(&workloads::nesting())
            .unwrap();
        let tag = ["binary", "compact"][pi];
        for (which, name, bytes) in [
            (0u8, "simple", &simple),
            (1, "nesting", &nesting),
            (3, "partial-simple", &simple),
            (4, "partial-nesting", &nesting),
        ] {
            let mut d = vec![which, pi as u8];
            d.extend_from_slice(bytes);
            // libFuzzer's default -max_len is 4096: keep seeds under it.
            d.truncate(4096);
            write("decode_bytes", &format!("seed-{name}-{tag}"), &d);
        }
        let subjects = fuzz::idl_subjects();
        for (i, (types, name)) in subjects.iter().enumerate() {
            if i % 3 != pi {
                continue;
            }
            let data: Vec<u8> = (0..600u32)
                .map(|k| (k.wrapping_mul(2_654_435_761) >> (7 + i % 9)) as u8)
                .collect();
            let mut u = arbitrary::Unstructured::new(&data);
            let v =
                dynthrift_testkit::schemagen::value_named(&mut u, types, name, Default::default())
                    .unwrap();
            if let Ok(bytes) = v.encode(p) {
                let mut d = vec![(5 + i) as u8, pi as u8];
                d.extend_from_slice(&bytes);
                d.truncate(4096);
                write("decode_bytes", &format!("seed-idl-{name}-{tag}"), &d);
            }
        }
    }
    for t in ["differential", "roundtrip"] {
        for seed in 0..12u32 {
            let data: Vec<u8> = (0..(200 + 150 * seed))
                .map(|k| (k.wrapping_add(seed * 7919).wrapping_mul(2_654_435_761) >> 11) as u8)
                .collect();
            write(t, &format!("seed-{seed:02}"), &data);
        }
    }
    let idl_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/idl");
    let mut idl_files = Vec::new();
    collect_thrift(&idl_dir, &mut idl_files);
    idl_files.sort();
    for f in idl_files
        .iter()
        .filter(|f| {
            std::fs::metadata(f)
                .map(|m| m.len() <= 4096)
                .unwrap_or(false)
        })
        .take(24)
    {
        let name = f
            .strip_prefix(&idl_dir)
            .unwrap()
            .to_string_lossy()
            .replace('/', "_");
        write(
            "idl_parse",
            &format!("seed-{name}"),
            &std::fs::read(f).unwrap(),
        );
    }
}

fn collect_thrift(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            collect_thrift(&p, out);
        } else if p.extension().is_some_and(|x| x == "thrift") {
            out.push(p);
        }
    }
}
