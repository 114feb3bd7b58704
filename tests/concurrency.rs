//! Many threads encode and decode through shared codecs (`Codec<T>` and `DynCodec`), and many
//! threads make the first codec of a type at the same instant (plan building and JIT
//! compilation racing); every result is checked against the single-threaded reference.
//!
//! Sizes: `DYNTHRIFT_STRESS_THREADS` (default 8) threads, `DYNTHRIFT_STRESS_ITERS` (default
//! 200) iterations each; `scripts/memcheck` runs this under valgrind with fewer.

use std::sync::{Arc, Barrier};
use std::thread;

use dynthrift::{
    Backend, BackendInfo, Codec, DynCodec, DynSchema, DynStruct, Options, Protocol, Thrift, Value,
};
use dynthrift_testkit::fuzz::{BASELINE_IDL, THRIFT_TEST_IDL};
use dynthrift_testkit::oracle::{PROTOCOLS, same_struct};
use dynthrift_testkit::workloads::{self, Nesting, Simple};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn threads() -> usize {
    env("DYNTHRIFT_STRESS_THREADS", 8).max(2)
}

fn iters() -> usize {
    env("DYNTHRIFT_STRESS_ITERS", 200).max(1)
}

/// Runs `f(thread index)` on `n` threads released together; returns their results in order.
fn race<R: Send + 'static>(n: usize, f: impl Fn(usize) -> R + Send + Sync + 'static) -> Vec<R> {
    let barrier = Arc::new(Barrier::new(n));
    let f = Arc::new(f);
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let (b, f) = (barrier.clone(), f.clone());
            thread::spawn(move || {
                b.wait();
                f(i)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

/// Types used nowhere else in this binary: their first codec is made inside a race.
#[derive(Thrift, Debug, Clone, PartialEq)]
struct FreshLeaf {
    #[thrift(id = 1)]
    name: String,
    #[thrift(id = 2)]
    n: i64,
    #[thrift(id = 3)]
    tags: Vec<String>,
}

#[derive(Thrift, Debug, Clone, PartialEq)]
struct FreshRoot {
    #[thrift(id = 1)]
    leaves: Vec<FreshLeaf>,
    #[thrift(id = 2)]
    first: FreshLeaf,
    #[thrift(id = 3)]
    maybe: Option<Box<FreshRoot>>,
    #[thrift(id = 4)]
    bytes: Vec<u8>,
    #[thrift(id = 5)]
    d: f64,
}

fn fresh_value(i: usize) -> FreshRoot {
    let leaf = |k: usize| FreshLeaf {
        name: format!("leaf-{i}-{k}"),
        n: (i * 1000 + k) as i64 - 77,
        tags: (0..k % 4).map(|t| format!("t{t}")).collect(),
    };
    FreshRoot {
        leaves: (0..i % 7).map(leaf).collect(),
        first: leaf(99),
        maybe: i.is_multiple_of(2).then(|| {
            Box::new(FreshRoot {
                leaves: vec![leaf(1)],
                first: leaf(2),
                maybe: None,
                bytes: vec![i as u8; 3],
                d: -0.5,
            })
        }),
        bytes: (0..i % 11).map(|b| b as u8).collect(),
        d: i as f64 * 1.25,
    }
}

/// First use of a derived type by many threads at once (each makes its own `Codec`, so the
/// plan cache and the JIT compile race), then every thread encodes and decodes values of its
/// own; results must equal the interpreter's, computed afterwards.
#[test]
fn first_use_races_derived() {
    let n = threads();
    let iters = iters();
    let results = race(n, move |t| {
        let codec = Codec::<FreshRoot>::new().unwrap();
        let backend = codec.backend();
        let mut out = Vec::new();
        for k in 0..iters {
            let v = fresh_value(t * 31 + k);
            let bytes = codec.encode(&v).unwrap();
            assert_eq!(codec.encoded_len(&v).unwrap(), bytes.len());
            assert_eq!(codec.decode(&bytes).unwrap(), v);
            if k < 8 {
                out.push((t * 31 + k, bytes));
            }
        }
        (backend, out)
    });
    let reference =
        Codec::<FreshRoot>::with_options(Options::default().backend(Backend::Interpreter)).unwrap();
    let first_backend = &results[0].0;
    for (backend, out) in &results {
        // Every thread got the same backend choice (one compile, shared).
        assert_eq!(backend, first_backend);
        for (i, bytes) in out {
            assert_eq!(
                bytes,
                &reference.encode(&fresh_value(*i)).unwrap(),
                "value {i}"
            );
        }
    }
    if !std::env::var("DYNTHRIFT_JIT").is_ok_and(|v| v == "off") {
        assert_eq!(*first_backend, BackendInfo::Jit);
    }
}

/// One `Codec` per protocol shared by all threads: the workloads encoded and decoded
/// concurrently, bytes equal to the single-threaded encoding.
#[test]
fn shared_codecs_derived() {
    let n = threads();
    let iters = iters();
    for p in PROTOCOLS {
        let codec =
            Arc::new(Codec::<Nesting>::with_options(Options::default().protocol(p)).unwrap());
        let simple =
            Arc::new(Codec::<Simple>::with_options(Options::default().protocol(p)).unwrap());
        let nesting = workloads::nesting();
        let expect = Arc::new(codec.encode(&nesting).unwrap());
        let expect_simple = Arc::new(simple.encode(&workloads::simple()).unwrap());
        let (c, s, e, es) = (
            codec.clone(),
            simple.clone(),
            expect.clone(),
            expect_simple.clone(),
        );
        race(n, move |t| {
            let mut buf = Vec::new();
            for k in 0..iters / 4 + 1 {
                // Decode the shared bytes, re-encode into a reused buffer.
                let v = c.decode(&e).unwrap();
                buf.clear();
                c.encode_into(&v, &mut buf).unwrap();
                // Map iteration order may differ between two maps with equal content:
                // compare lengths and the decoded values.
                assert_eq!(buf.len(), e.len());
                assert_eq!(c.decode(&buf).unwrap(), v);
                let sv = s.decode(&es).unwrap();
                assert_eq!(s.encode(&sv).unwrap(), *es, "thread {t} iteration {k}");
            }
        });
    }
}

/// IDL-only values: many threads make the first `DynCodec`s of a fresh schema at once, then
/// share one codec per protocol; every value decodes to what was encoded, and the bytes are
/// the ones a single thread produces.
#[test]
fn dyn_codecs_race_and_share() {
    let n = threads();
    let iters = iters();
    for text in [BASELINE_IDL, THRIFT_TEST_IDL] {
        let types = DynSchema::new(dynthrift::idl::parse_str(text).unwrap()).unwrap();
        let names: Vec<String> = types
            .schema()
            .structs
            .iter()
            .map(|s| s.name.clone())
            .collect();
        let (types2, names2) = (types.clone(), names.clone());
        // Values built per thread from the same seeds, so the bytes must agree across threads.
        let results = race(n, move |t| {
            let mut out = Vec::new();
            // Held to the end: compiled code lives as long as a codec of the schema, so a codec
            // dropped per struct would compile the schema again for the next one.
            let mut keep = Vec::new();
            for (k, name) in names2.iter().enumerate() {
                for p in PROTOCOLS {
                    let codec =
                        DynCodec::new(&types2, name, Options::default().protocol(p)).unwrap();
                    keep.push(codec.clone());
                    let v = sample(&types2, name, k);
                    let Ok(bytes) = codec.encode(&v) else {
                        continue;
                    };
                    let back = codec.decode(&bytes).unwrap();
                    assert!(same_struct(&back, &v), "thread {t} {name} {p:?}");
                    out.push(bytes);
                }
            }
            out
        });
        for r in &results[1..] {
            assert_eq!(r, &results[0]);
        }
        // Shared codecs.
        for p in PROTOCOLS {
            let codecs: Arc<Vec<(DynCodec, DynStruct, Vec<u8>)>> = Arc::new(
                names
                    .iter()
                    .enumerate()
                    .filter_map(|(k, name)| {
                        let c =
                            DynCodec::new(&types, name, Options::default().protocol(p)).unwrap();
                        let v = sample(&types, name, k);
                        let b = c.encode(&v).ok()?;
                        Some((c, v, b))
                    })
                    .collect(),
            );
            assert!(codecs.len() > 3);
            race(n, move |t| {
                for k in 0..iters {
                    let (c, v, b) = &codecs[(t + k) % codecs.len()];
                    let back = c.decode(b).unwrap();
                    assert!(same_struct(&back, v));
                    assert_eq!(&c.encode(&back).unwrap(), b);
                    assert_eq!(c.encoded_len(v).unwrap(), b.len());
                }
            });
        }
    }
}

/// A deterministic value of struct `name`: the generator fed fixed bytes.
fn sample(types: &Arc<DynSchema>, name: &str, k: usize) -> DynStruct {
    let data: Vec<u8> = (0..700u32)
        .map(|i| (i.wrapping_add(k as u32 * 131).wrapping_mul(2_654_435_761) >> 9) as u8)
        .collect();
    let mut u = arbitrary::Unstructured::new(&data);
    dynthrift_testkit::schemagen::value_named(&mut u, types, name, Default::default()).unwrap()
}

/// Values move between threads: encoded on one, decoded on another, dropped on a third.
#[test]
fn values_cross_threads() {
    let types = DynSchema::new(dynthrift::idl::parse_str(BASELINE_IDL).unwrap()).unwrap();
    let codec = DynCodec::new(
        &types,
        "Nesting",
        Options::default().protocol(Protocol::Compact),
    )
    .unwrap();
    let mut v = DynStruct::new(&types, "Nesting").unwrap();
    v.set("String", "hello").unwrap();
    v.set("ListI32", Value::List((0..100).map(Value::I32).collect()))
        .unwrap();
    let bytes = codec.encode(&v).unwrap();
    let n = threads();
    let (c2, b2) = (codec.clone(), bytes.clone());
    let decoded: Vec<DynStruct> = race(n, move |_| c2.decode(&b2).unwrap());
    let handles: Vec<_> = decoded
        .into_iter()
        .map(|d| {
            let c = codec.clone();
            thread::spawn(move || c.encode(&d).unwrap())
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), bytes);
    }
}
