//! The compiled `skip` (one per struct, Binary and Compact) against the interpreter's generic
//! struct skip: the same length on every input the generic skip accepts, and the same error
//! (kind, offset, detail) on every other, whatever the bytes are: valid encodings of the
//! type, of other types, truncated, with bytes changed, inserted or removed, nested past the
//! depth limit, or noise. Derived types (workloads, shapes), IDL-only records of random
//! schemas, and a recursive IDL type. Also checks that the compiled skip is what runs.

use std::sync::Arc;

use arbitrary::Unstructured;
use dynthrift::{
    Backend, BackendInfo, Codec, Describe, DynCodec, DynSchema, Options, Protocol, Result,
};
use dynthrift_testkit::fuzz;
use dynthrift_testkit::oracle::PROTOCOLS;
use dynthrift_testkit::schemagen::{self, Config};
use dynthrift_testkit::shapes::{self, Containers, Every, Inner, Strict, StrictInner};
use dynthrift_testkit::workloads::{
    self, Nesting, Nesting2, PartialNesting, PartialSimple, Simple,
};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

type SkipFn = Box<dyn Fn(&[u8]) -> Result<usize>>;

/// One type's skip on both backends.
struct Skipper {
    name: String,
    jit: SkipFn,
    interp: SkipFn,
}

impl Skipper {
    fn same(&self, bytes: &[u8], what: &str) {
        let (a, b) = (key((self.jit)(bytes)), key((self.interp)(bytes)));
        assert_eq!(
            a,
            b,
            "{}: {what}: compiled skip vs generic skip on {} bytes: {}",
            self.name,
            bytes.len(),
            dynthrift_testkit::hostile::hex(&bytes[..bytes.len().min(256)])
        );
    }
}

/// What must agree: the length, or the error's kind, offset, detail and path.
type Key = std::result::Result<usize, (dynthrift::ErrorKind, Option<usize>, String, String)>;

fn key(r: Result<usize>) -> Key {
    r.map_err(|e| (e.kind(), e.offset(), e.detail().to_string(), e.path()))
}

/// Whether the environment turns the JIT off (then both sides run the interpreter).
fn jit_off() -> bool {
    std::env::var("DYNTHRIFT_JIT").is_ok_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "off" | "0" | "false" | "no"
        )
    })
}

fn expect_backend(b: BackendInfo, what: &str) {
    if jit_off() || cfg!(not(feature = "jit")) {
        assert!(matches!(b, BackendInfo::Interpreter(_)), "{what}: {b:?}");
    } else {
        assert_eq!(b, BackendInfo::Jit, "{what}");
    }
}

fn typed<T: Describe + 'static>(name: &str, options: Options) -> Skipper {
    let jit = Codec::<T>::with_options(options).unwrap();
    expect_backend(jit.pretouch(), name);
    let interp = Codec::<T>::with_options(options.backend(Backend::Interpreter)).unwrap();
    Skipper {
        name: format!(
            "{name} {:?} depth {}",
            options.protocol, options.limits.depth
        ),
        jit: Box::new(move |b| jit.skip(b)),
        interp: Box::new(move |b| interp.skip(b)),
    }
}

fn dynamic(types: &Arc<DynSchema>, name: &str, options: Options) -> Skipper {
    let jit = DynCodec::new(types, name, options).unwrap();
    expect_backend(jit.pretouch(), name);
    let interp = DynCodec::new(types, name, options.backend(Backend::Interpreter)).unwrap();
    Skipper {
        name: format!(
            "{name} {:?} depth {}",
            options.protocol, options.limits.depth
        ),
        jit: Box::new(move |b| jit.skip(b)),
        interp: Box::new(move |b| interp.skip(b)),
    }
}

/// Offsets to corrupt in `n` bytes: all of them when few, else the first and last 64 and
/// about 200 spread over the rest.
fn offsets(n: usize) -> Vec<usize> {
    if n <= 320 {
        return (0..n).collect();
    }
    let mut v: Vec<usize> = (0..64).chain(n - 64..n).collect();
    let step = (n - 128) / 200 + 1;
    v.extend((64..n - 64).step_by(step));
    v
}

/// Every comparison on `bytes` and variants of it: whole, cut, bytes changed, inserted and
/// removed, and with trailing bytes.
fn battery(s: &Skipper, bytes: &[u8]) {
    s.same(bytes, "whole");
    let mut longer = bytes.to_vec();
    longer.extend_from_slice(&[0xff, 0x0c, 0x00]);
    s.same(&longer, "trailing");
    for cut in offsets(bytes.len()) {
        s.same(&bytes[..cut], &format!("cut at {cut}"));
    }
    for at in offsets(bytes.len()) {
        let mut m = bytes.to_vec();
        for x in [0xffu8, 0x01, 0x80, 0x10] {
            m[at] = bytes[at] ^ x;
            s.same(&m, &format!("byte {at} ^ {x:#x}"));
        }
        for v in [0x00u8, 0x0b, 0x0c, 0x0d, 0x0f, 0x7f, 0x1c, 0xff] {
            m[at] = v;
            s.same(&m, &format!("byte {at} = {v:#x}"));
        }
        m[at] = bytes[at];
        m.insert(at, 0x0c);
        s.same(&m, &format!("0x0c inserted at {at}"));
        m.remove(at);
        m.remove(at);
        s.same(&m, &format!("byte {at} removed"));
    }
}

/// Values cut short and bytes of other types: the whole input and its cuts only.
fn light(s: &Skipper, bytes: &[u8]) {
    s.same(bytes, "other type's bytes");
    for cut in offsets(bytes.len()) {
        s.same(&bytes[..cut], &format!("other type's bytes cut at {cut}"));
    }
}

/// Structs nested `n` deep through field 1 (a struct), in `protocol`.
fn deep(protocol: Protocol, n: usize, id: i16) -> Vec<u8> {
    let mut v = Vec::new();
    for _ in 0..n {
        match protocol {
            Protocol::Binary => v.extend_from_slice(&[12, (id >> 8) as u8, id as u8]),
            Protocol::Compact => v.push(((id as u8) << 4) | 12),
        }
    }
    v.extend(std::iter::repeat_n(0u8, n + 1));
    v
}

fn deep_checks(s: &Skipper, protocol: Protocol) {
    for n in [0usize, 1, 2, 3, 7, 8, 9, 62, 63, 64, 65, 66, 100] {
        for id in [1i16, 2, 3] {
            let d = deep(protocol, n, id);
            s.same(&d, &format!("nested {n} deep by field {id}"));
            s.same(&d[..d.len() - 1], &format!("nested {n} deep, cut"));
        }
    }
}

/// Derived values, Binary and Compact encodings.
fn derived_samples(protocol: Protocol) -> Vec<(String, Vec<u8>)> {
    let o = Options::default().protocol(protocol);
    /// The encoding, or nothing for a value that cannot be encoded (missing required).
    fn enc<T: Describe>(v: &T, o: Options) -> Option<Vec<u8>> {
        Codec::<T>::with_options(o.backend(Backend::Interpreter))
            .unwrap()
            .encode(v)
            .ok()
    }
    let mut out = vec![
        ("Simple", enc(&workloads::simple(), o)),
        ("Nesting", enc(&workloads::nesting(), o)),
        ("Nesting2", enc(&workloads::nesting2(), o)),
        (
            "Strict",
            enc(
                &Strict {
                    a: Some(7),
                    nested: vec![StrictInner {
                        name: Some("n".into()),
                    }],
                    direct: StrictInner {
                        name: Some(String::new()),
                    },
                },
                o,
            ),
        ),
    ];
    let mut runner = TestRunner::deterministic();
    for _ in 0..4 {
        let e: Every = shapes::every().new_tree(&mut runner).unwrap().current();
        out.push(("Every", enc(&e, o)));
        let c: Containers = shapes::containers()
            .new_tree(&mut runner)
            .unwrap()
            .current();
        out.push(("Containers", enc(&c, o)));
    }
    let out: Vec<(String, Vec<u8>)> = out
        .into_iter()
        .filter_map(|(n, b)| Some((n.to_string(), b?)))
        .collect();
    for must in ["Simple", "Nesting", "Nesting2", "Strict", "Every"] {
        assert!(out.iter().any(|(n, _)| n == must), "no {must} sample");
    }
    out
}

fn derived_skippers(o: Options) -> Vec<Skipper> {
    vec![
        typed::<Simple>("Simple", o),
        typed::<Nesting>("Nesting", o),
        typed::<Nesting2>("Nesting2", o),
        typed::<PartialSimple>("PartialSimple", o),
        typed::<PartialNesting>("PartialNesting", o),
        typed::<Every>("Every", o),
        typed::<Inner>("Inner", o),
        typed::<Strict>("Strict", o),
        typed::<StrictInner>("StrictInner", o),
        typed::<Containers>("Containers", o),
    ]
}

#[test]
fn derived_types_agree() {
    for protocol in PROTOCOLS {
        let samples = derived_samples(protocol);
        let skippers = derived_skippers(Options::default().protocol(protocol));
        for s in &skippers {
            for (name, bytes) in &samples {
                // The type's own bytes get everything, others' are cut only.
                if s.name.split(' ').next() == name.split(' ').next() {
                    battery(s, bytes);
                } else {
                    light(s, bytes);
                }
            }
            deep_checks(s, protocol);
        }
    }
}

#[test]
fn derived_types_agree_under_tight_depth() {
    for protocol in PROTOCOLS {
        let samples = derived_samples(protocol);
        for depth in [0, 1, 2, 3] {
            let o = Options::default().protocol(protocol).max_depth(depth);
            for s in derived_skippers(o) {
                for (_, bytes) in &samples {
                    light(&s, bytes);
                }
                deep_checks(&s, protocol);
            }
        }
    }
}

const RECURSIVE_IDL: &str = "
struct Node {
  1: optional Node next
  2: i32 v
  3: optional string s
  4: optional list<Node> kids
}
";

#[test]
fn recursive_type_agrees() {
    let types = DynSchema::new(dynthrift::idl::parse_str(RECURSIVE_IDL).unwrap()).unwrap();
    for protocol in PROTOCOLS {
        for depth in [5, 64] {
            let o = Options::default().protocol(protocol).max_depth(depth);
            let s = dynamic(&types, "Node", o);
            deep_checks(&s, protocol);
            // A valid chain: field 2 (i32 7), field 1 nested, ...
            for n in [1usize, 4, 5, 6, 63, 64, 65] {
                let mut v = Vec::new();
                for _ in 0..n {
                    match protocol {
                        Protocol::Binary => {
                            v.extend_from_slice(&[8, 0, 2, 0, 0, 0, 7, 11, 0, 3, 0, 0, 0, 1, b'x']);
                            v.extend_from_slice(&[12, 0, 1]);
                        }
                        Protocol::Compact => {
                            // Field 2 (i32 7), field 3 ("x"), then field 1 in a long
                            // header (its id is below the last one).
                            v.extend_from_slice(&[0x25, 14, 0x18, 1, b'x', 0x0c, 2]);
                        }
                    }
                }
                v.extend(std::iter::repeat_n(0u8, n + 1));
                battery(&s, &v);
            }
        }
    }
}

/// Random schemas of the fuzz pool: every struct's skip on values of every struct of the
/// same schema.
#[test]
fn random_schemas_agree() {
    let pool = fuzz::pool();
    for (si, schema) in pool.iter().enumerate().take(24) {
        let g = &schema.schema;
        for protocol in PROTOCOLS {
            let o = Options::default().protocol(protocol);
            let mut samples = Vec::new();
            let seed = fuzz::pool_seed_bytes(1000 + si);
            let mut u = Unstructured::new(&seed);
            for name in &g.structs {
                let Ok(v) = schemagen::value_named(&mut u, &g.types, name, Config::default())
                else {
                    continue;
                };
                let codec = DynCodec::new(&g.types, name, o.backend(Backend::Interpreter)).unwrap();
                if let Ok(bytes) = codec.encode(&v) {
                    samples.push((name.clone(), bytes));
                }
            }
            for name in &g.structs {
                let s = dynamic(&g.types, name, o);
                for (other, bytes) in &samples {
                    if other == name {
                        battery(&s, bytes);
                    } else {
                        light(&s, bytes);
                    }
                }
                deep_checks(&s, protocol);
            }
        }
    }
}

/// The codec's `skip` runs the compiled skip when the codec runs the JIT, and never
/// otherwise.
#[test]
fn compiled_skip_is_what_runs() {
    for protocol in PROTOCOLS {
        let o = Options::default().protocol(protocol);
        let bytes = Codec::<Nesting>::with_options(o)
            .unwrap()
            .encode(&workloads::nesting())
            .unwrap();
        let jit = Codec::<Nesting>::with_options(o).unwrap();
        let interp = Codec::<Nesting>::with_options(o.backend(Backend::Interpreter)).unwrap();
        let types =
            DynSchema::new(dynthrift::idl::parse_str(fuzz::BASELINE_IDL).expect("baseline IDL"))
                .unwrap();
        let djit = DynCodec::new(&types, "Nesting", o).unwrap();
        let dinterp = DynCodec::new(&types, "Nesting", o.backend(Backend::Interpreter)).unwrap();
        let compiled = jit.pretouch() == BackendInfo::Jit;
        expect_backend(jit.backend(), "Nesting");
        expect_backend(djit.pretouch(), "Nesting (IDL)");
        // The skip code compiles apart from the rest; its backend is queried on its own.
        expect_backend(jit.skip_backend(), "Nesting skip");
        expect_backend(djit.skip_backend(), "Nesting (IDL) skip");
        for c in [&interp.skip_backend(), &dinterp.skip_backend()] {
            assert!(matches!(c, BackendInfo::Interpreter(_)), "{c:?}");
        }
        for (skip, expect_compiled) in [
            (&|b: &[u8]| jit.skip(b) as Result<usize>, compiled),
            (&|b: &[u8]| interp.skip(b), false),
            (&|b: &[u8]| djit.skip(b), compiled),
            (&|b: &[u8]| dinterp.skip(b), false),
        ] as [(&dyn Fn(&[u8]) -> Result<usize>, bool); 4]
        {
            let before = counter();
            assert_eq!(skip(&bytes).unwrap(), bytes.len());
            assert!(skip(&bytes[..bytes.len() - 1]).is_err());
            let runs = counter() - before;
            assert_eq!(runs, if expect_compiled { 2 } else { 0 });
        }
    }
}

#[cfg(feature = "jit")]
fn counter() -> u64 {
    dynthrift_jit::compiled_skips()
}

#[cfg(not(feature = "jit"))]
fn counter() -> u64 {
    0
}

/// The derived types' skippers, both protocols (cheap after the first call: plans and
/// compiled code are cached process-wide).
fn fixed_skippers() -> Vec<Skipper> {
    let mut v = Vec::new();
    for p in PROTOCOLS {
        v.extend(derived_skippers(Options::default().protocol(p)));
    }
    v
}

proptest! {
    /// Noise: both skips agree on arbitrary bytes (mostly errors, some short structs).
    #[test]
    fn noise_agrees(which in 0usize..20, bytes in proptest::collection::vec(any::<u8>(), 0..96)) {
        let skippers = fixed_skippers();
        let s = &skippers[which];
        s.same(&bytes, "noise");
        // Noise behind a valid-looking field header run, to get past the first byte.
        let mut framed = match which / 10 {
            0 => vec![8, 0, 1, 0, 0, 0, 1],
            _ => vec![0x15, 2],
        };
        framed.extend_from_slice(&bytes);
        s.same(&framed, "framed noise");
    }
}

/// Container headers written by hand into `Nesting`'s fields 5 (`list<i32>`), 9
/// (`map<i32,i64>`), 10 (`list<string>`) and 2 (`list<Simple>`): other element types, odd
/// counts, long count forms, empty maps.
#[test]
fn container_headers_agree() {
    let be = |n: i32| n.to_be_bytes();
    let mut binary: Vec<Vec<u8>> = Vec::new();
    for (et, n, data) in [
        (8u8, 2i32, vec![0u8; 8]),
        (8, 0, vec![]),
        (8, -1, vec![]),
        (8, i32::MAX, vec![0; 8]),
        (10, 1, vec![0; 8]),
        (1, 1, vec![0; 4]),
        (2, 3, vec![1, 0, 1]),
        (12, 2, vec![0, 0]),
        (11, 1, vec![0, 0, 0, 1, b'a']),
    ] {
        for id in [5u8, 10, 2] {
            let mut v = vec![15, 0, id, et];
            v.extend_from_slice(&be(n));
            v.extend_from_slice(&data);
            v.push(0);
            binary.push(v);
        }
    }
    for (kt, vt, n, data) in [
        (8u8, 10u8, 1i32, vec![0u8; 12]),
        (8, 10, 0, vec![]),
        (8, 10, -5, vec![]),
        (10, 8, 1, vec![0; 12]),
        (8, 12, 1, vec![0; 5]),
    ] {
        let mut v = vec![13, 0, 9, kt, vt];
        v.extend_from_slice(&be(n));
        v.extend_from_slice(&data);
        v.push(0);
        binary.push(v);
    }
    let compact: Vec<Vec<u8>> = vec![
        // list<i32>: 2 short-form, 3 long-form, a long varint element, i64 elements.
        vec![0x59, 0x25, 2, 4, 0],
        vec![0x59, 0xf5, 3, 2, 4, 6, 0],
        vec![0x59, 0xf5, 0x80, 0x01, 0],
        vec![
            0x59, 0x15, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0,
        ],
        vec![
            0x59, 0x15, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0,
        ],
        vec![0x59, 0x16, 2, 0],
        vec![0x59, 0x11, 1, 0],
        vec![0x59, 0x12, 1, 0],
        // map<i32,i64>: one entry, empty, other types, huge count.
        vec![0x9b, 1, 0x56, 2, 4, 0],
        vec![0x9b, 0, 0],
        vec![0x9b, 0, 0x56, 0],
        vec![0x9b, 1, 0x65, 2, 4, 0],
        vec![0x9b, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x56, 0],
        vec![0x9b, 0xff, 0xff, 0xff, 0xff, 0x07, 0x56, 0],
        // list<string>, list<Simple>.
        vec![0xa9, 0x28, 1, b'a', 0x81, 0x01, 0],
        vec![0xa9, 0x18, 0x80, 0x01, 0],
        vec![0x29, 0x2c, 0, 0x15, 2, 0, 0],
        vec![0x29, 0x1c, 0x1c, 0, 0, 0],
    ];
    for (protocol, cases) in [(Protocol::Binary, binary), (Protocol::Compact, compact)] {
        for depth in [1, 2, 64] {
            let o = Options::default().protocol(protocol).max_depth(depth);
            let s = typed::<Nesting>("Nesting", o);
            for bytes in &cases {
                battery(&s, bytes);
            }
            if depth == 64 {
                // Not all errors: the valid ones skip to their end.
                let ok = cases
                    .iter()
                    .filter(|b| (s.jit)(b).ok() == Some(b.len()))
                    .count();
                assert!(ok >= 8, "{protocol:?}: only {ok} valid cases");
            }
        }
    }
}
