//! The bodies of the fuzz targets (`fuzz/fuzz_targets/*.rs` call these and nothing else), so
//! that `tests/fuzz_corpus.rs` replays the committed corpus through exactly the same checks
//! on the stable toolchain. Each function panics on a finding.

use std::sync::{Arc, OnceLock};

use arbitrary::Unstructured;
use dynthrift::{Describe, DynCodec, DynSchema, DynStruct, Limits, Protocol};

use crate::oracle::{self, DynPair, PROTOCOLS, TypedPair};
use crate::schemagen::{self, Config};
use crate::workloads::{Nesting, Nesting2, PartialNesting, PartialSimple, Simple};

/// The workload IDL (CloudWeGo Frugal's `baseline.thrift`).
pub const BASELINE_IDL: &str = include_str!("../../testdata/idl/frugal/tests/baseline.thrift");
/// Apache Thrift's cross-language test IDL.
pub const THRIFT_TEST_IDL: &str =
    include_str!("../../testdata/idl/apache-thrift/test/v0.16/ThriftTest.thrift");

/// Tight limits, so that fuzz inputs reach the limit checks too.
pub const TIGHT: Limits = Limits {
    depth: 8,
    max_container_len: 16,
    max_string_len: 32,
};

/// The fixed IDL-only subjects: every struct of the two files, in schema order.
pub fn idl_subjects() -> &'static [(Arc<DynSchema>, String)] {
    static S: OnceLock<Vec<(Arc<DynSchema>, String)>> = OnceLock::new();
    S.get_or_init(|| {
        let mut out = Vec::new();
        for text in [BASELINE_IDL, THRIFT_TEST_IDL] {
            let schema = dynthrift::idl::parse_str(text).expect("fixed IDL parses");
            let types = DynSchema::new(schema).expect("fixed IDL plans");
            for s in &types.schema().structs {
                out.push((types.clone(), s.name.clone()));
            }
        }
        out
    })
}

/// The codecs of [`idl_subjects`] (same index), each a vector indexed by `protocol index * 2
/// + (tight limits)`; held for the process's life, so each schema is compiled once.
pub fn idl_pairs() -> &'static [Vec<DynPair>] {
    static S: OnceLock<Vec<Vec<DynPair>>> = OnceLock::new();
    S.get_or_init(|| {
        idl_subjects()
            .iter()
            .map(|(types, name)| {
                let mut v = Vec::new();
                for p in PROTOCOLS {
                    for limits in [Limits::default(), TIGHT] {
                        v.push(DynPair::new(types, name, p, &limits));
                    }
                }
                v
            })
            .collect()
    })
}

/// Both backends of a derived type, per protocol and limits (default, tight).
struct Typed<T> {
    pairs: Vec<TypedPair<T>>,
}

impl<T: Describe> Typed<T> {
    fn new() -> Typed<T> {
        let mut pairs = Vec::new();
        for p in PROTOCOLS {
            for limits in [Limits::default(), TIGHT] {
                pairs.push(TypedPair::with_limits(p, limits));
            }
        }
        Typed { pairs }
    }
}

macro_rules! typed {
    ($t:ty) => {{
        static S: OnceLock<Typed<$t>> = OnceLock::new();
        S.get_or_init(Typed::new)
    }};
}

/// The number of derived subjects of [`decode_bytes`].
const DERIVED: usize = 5;

/// `decode_bytes`: byte 0 picks the type (a workload type, derived, or any struct of the
/// workload IDL or `ThriftTest.thrift`, IDL-only), byte 1 the protocol (bit 0) and the limits
/// (bit 1: tight); the rest is decoded by both backends.
pub fn decode_bytes(data: &[u8]) {
    let [which, mode, input @ ..] = data else {
        return;
    };
    let n = DERIVED + idl_subjects().len();
    let which = *which as usize % n;
    let pi = usize::from(mode & 1);
    let tight = mode & 2 != 0;
    let k = pi * 2 + usize::from(tight);
    match which {
        0 => drop(oracle::decode_typed(&typed!(Simple).pairs[k], input)),
        1 => drop(oracle::decode_typed(&typed!(Nesting).pairs[k], input)),
        2 => drop(oracle::decode_typed(&typed!(Nesting2).pairs[k], input)),
        3 => drop(oracle::decode_typed(&typed!(PartialSimple).pairs[k], input)),
        4 => drop(oracle::decode_typed(
            &typed!(PartialNesting).pairs[k],
            input,
        )),
        _ => {
            oracle::decode_dyn(&idl_pairs()[which - DERIVED][k], input);
        }
    }
}

/// The number of random schemas in the pool of `differential` and `roundtrip`.
pub const POOL: usize = 128;

/// One schema of the pool, with its codec pairs (per struct: Binary, Compact), made on first
/// use and held for the process's life.
#[derive(Debug)]
pub struct PoolSchema {
    pub schema: schemagen::GenSchema,
    pairs: Vec<OnceLock<[DynPair; 2]>>,
}

impl PoolSchema {
    /// The codec pairs of struct `i` (Binary, Compact), compiled ahead on first use.
    pub fn pairs(&self, i: usize) -> &[DynPair; 2] {
        self.pairs[i].get_or_init(|| {
            let name = &self.schema.structs[i];
            PROTOCOLS.map(|p| DynPair::new(&self.schema.types, name, p, &Limits::default()))
        })
    }
}

/// The bytes that generate pool schema `i`: a fixed pseudo-random stream (splitmix64).
pub fn pool_seed_bytes(i: usize) -> Vec<u8> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64.wrapping_mul(i as u64 + 1);
    let mut out = Vec::with_capacity(4096);
    while out.len() < 4096 {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        out.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out
}

/// The pool: [`POOL`] random schemas of [`schemagen`] (every type, unions, exceptions,
/// requiredness, defaults, recursion), generated from fixed seeds. Generating and compiling
/// a schema per input made these targets run a few inputs per second under AddressSanitizer;
/// with a pool each schema compiles once and the fuzzer spends its time on values and
/// corruptions. Arbitrary schemas are covered by the proptests of `tests/differential_random.rs`.
pub fn pool() -> &'static [PoolSchema] {
    static S: OnceLock<Vec<PoolSchema>> = OnceLock::new();
    S.get_or_init(|| {
        (0..POOL)
            .map(|i| {
                let bytes = pool_seed_bytes(i);
                let schema = schemagen::schema(&mut Unstructured::new(&bytes), Config::default())
                    .unwrap_or_else(|e| panic!("pool schema {i}: {e}"));
                let pairs = schema.structs.iter().map(|_| OnceLock::new()).collect();
                PoolSchema { schema, pairs }
            })
            .collect()
    })
}

/// Byte 0 picks a pool schema, the next bytes one of its structs.
fn pool_subject<'a>(u: &mut Unstructured<'_>) -> Option<(&'a PoolSchema, usize)> {
    let s = &pool()[usize::from(u.arbitrary::<u8>().ok()?) % POOL];
    let i = u.choose_index(s.schema.structs.len()).ok()?;
    Some((s, i))
}

/// `differential`: a schema of the pool and a random value of one of its structs, encoded and
/// decoded by both backends in both protocols (identical bytes, exact `encoded_len`, equal
/// values); then the encoding, cut or with bytes changed as the rest of the input says,
/// decoded by both (equal outcomes).
pub fn differential(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Some((s, i)) = pool_subject(&mut u) else {
        return;
    };
    let g = &s.schema;
    let Ok(v) = schemagen::value_named(&mut u, &g.types, &g.structs[i], Config::default()) else {
        return;
    };
    for pair in s.pairs(i) {
        let Ok(bytes) = oracle::differential_dyn(pair, &v) else {
            continue;
        };
        corrupt_and_decode(&mut u, pair, &bytes);
    }
}

/// Up to four corruptions of `bytes` (a cut, a changed byte, an inserted byte), each decoded
/// by both backends.
fn corrupt_and_decode(u: &mut Unstructured<'_>, pair: &DynPair, bytes: &[u8]) {
    for _ in 0..4 {
        if bytes.is_empty() || u.is_empty() {
            return;
        }
        let Ok(op) = u.choose_index(3) else { return };
        let Ok(at) = u.choose_index(bytes.len()) else {
            return;
        };
        let Ok(b) = u.arbitrary::<u8>() else { return };
        let mut m = bytes.to_vec();
        match op {
            0 => m.truncate(at),
            1 => m[at] ^= b.max(1),
            _ => m.insert(at, b),
        }
        oracle::decode_dyn(pair, &m);
    }
}

/// `roundtrip`: a schema of the pool and one of its structs, then the rest of the input
/// decoded as that struct by both backends in one protocol; what decodes must re-encode
/// identically and decode to an equal value, stably.
pub fn roundtrip(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Some((s, i)) = pool_subject(&mut u) else {
        return;
    };
    let Ok(p) = u.choose_index(2) else { return };
    let rest = u.take_rest();
    oracle::decode_dyn(&s.pairs(i)[p], rest);
}

/// `idl_parse`: arbitrary text into the IDL front end: an error or a schema, never a panic.
/// A schema must plan, and the default value of each of its structs must encode and decode
/// back to an equal value on the interpreter, or fail to encode with an error (the JIT's
/// compilation of random schemas is the `differential` target's job: compiling every parsed
/// text here made this target run a few dozen inputs per second).
pub fn idl_parse(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(schema) = dynthrift::idl::parse_str(&text) else {
        return;
    };
    let n = schema.structs.len();
    let Ok(types) = DynSchema::new(schema) else {
        return;
    };
    for i in 0..n.min(16) {
        let id = dynthrift::schema::StructId(i as u32);
        let Ok(v) = DynStruct::new_by_id(&types, id) else {
            continue;
        };
        let name = types.schema().structs[i].name.clone();
        // A codec by name: skipped when the name does not lead back to this struct.
        let Ok(c) = DynCodec::new(
            &types,
            &name,
            oracle::Side::Interp.options(Protocol::Binary),
        ) else {
            continue;
        };
        if c.struct_id() != id {
            continue;
        }
        for p in PROTOCOLS {
            let c = oracle::dyn_codec(oracle::Side::Interp, &types, &name, p, &Limits::default());
            let Ok(bytes) = c.encode(&v) else { continue };
            assert_eq!(
                c.encoded_len(&v).ok(),
                Some(bytes.len()),
                "{name} {p:?}: encoded_len"
            );
            let back = c
                .decode(&bytes)
                .unwrap_or_else(|e| panic!("{name} {p:?}: own encoding does not decode: {e}"));
            assert!(
                oracle::same_struct(&v, &back),
                "{name} {p:?}: value changed"
            );
        }
    }
}
