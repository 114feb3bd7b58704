//! Random schemas and values (`dynthrift_testkit::schemagen`), JIT against interpreter, both
//! protocols: byte-identical encodings, exact `encoded_len`, equal decoded values, and equal
//! error kinds and paths on corrupted and arbitrary bytes (`dynthrift_testkit::oracle`).
//!
//! proptest generates the byte strings that `arbitrary::Unstructured` turns into a schema
//! and a value, so failures shrink to short inputs; the same bodies run as the fuzz targets
//! `differential` and `roundtrip` (`fuzz/`).

use std::collections::BTreeSet;

use arbitrary::Unstructured;
use dynthrift::{BackendInfo, DynCodec, Options, Protocol};
use dynthrift_core::schema::{StructKind, Ty};
use dynthrift_testkit::fuzz;
use dynthrift_testkit::oracle::{self, PROTOCOLS};
use dynthrift_testkit::schemagen::{self, Config};
use proptest::prelude::*;

fn input() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..2048)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Schema + value: encoded identically by both backends, decoded back equal, and
    /// corruptions of the encoding decoded identically.
    #[test]
    fn random_schema_values_agree(data in input()) {
        fuzz::differential(&data);
    }

    /// Schema + arbitrary bytes: both backends decode to equal values or equal errors, and
    /// what decodes roundtrips stably.
    #[test]
    fn random_schema_arbitrary_bytes_agree(data in input()) {
        fuzz::roundtrip(&data);
    }

    /// Arbitrary bytes into the fixed schemas (workload types derived and IDL-only,
    /// `ThriftTest.thrift`).
    #[test]
    fn fixed_schema_arbitrary_bytes_agree(data in input()) {
        fuzz::decode_bytes(&data);
    }

    /// Valid encodings of random values of `ThriftTest.thrift` structs, in both protocols.
    #[test]
    fn thrift_test_values_agree(data in input()) {
        let subjects = fuzz::idl_subjects();
        let mut u = Unstructured::new(&data);
        let i = u.choose_index(subjects.len()).unwrap_or(0);
        let (types, name) = &subjects[i];
        let v = schemagen::value_named(&mut u, types, name, Config::default()).unwrap();
        for pi in 0..PROTOCOLS.len() {
            let pair = &fuzz::idl_pairs()[i][pi * 2];
            if let Ok(bytes) = oracle::differential_dyn(pair, &v) {
                oracle::decode_dyn(pair, &bytes).unwrap();
            }
        }
    }
}

/// A deterministic stream of pseudo-random bytes (xorshift), for coverage checks.
fn noise(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn ty_kinds(ty: &Ty, out: &mut BTreeSet<&'static str>, depth: usize) {
    let k = match ty {
        Ty::Bool => "bool",
        Ty::I8 => "byte",
        Ty::I16 => "i16",
        Ty::I32 => "i32",
        Ty::I64 => "i64",
        Ty::Double => "double",
        Ty::String => "string",
        Ty::Binary => "binary",
        Ty::Uuid => "uuid",
        Ty::Enum(_) => "enum",
        Ty::Struct(_) => "struct",
        Ty::List(e) => {
            ty_kinds(e, out, depth + 1);
            "list"
        }
        Ty::Set(e) => {
            ty_kinds(e, out, depth + 1);
            "set"
        }
        Ty::Map(k, v) => {
            ty_kinds(k, out, depth + 1);
            ty_kinds(v, out, depth + 1);
            "map"
        }
    };
    out.insert(k);
    if depth >= 2 {
        out.insert("nested container");
    }
}

/// The generator is not vacuous: over a few hundred inputs it produces every type, every
/// struct kind and requiredness, recursion, defaults, and values that encode to more than
/// a few bytes; the IDL it writes always resolves.
#[test]
fn generator_covers_the_type_system() {
    let mut kinds = BTreeSet::new();
    let mut encoded_sizes = Vec::new();
    let mut recursive = 0;
    let mut defaults = 0;
    let mut negative_ids = 0;
    let mut compiled = 0;
    let mut roots = 0;
    let mut union_roots = 0;
    for seed in 0..300 {
        let data = noise(seed, 1500);
        let mut u = Unstructured::new(&data);
        let g = schemagen::schema(&mut u, Config::default()).unwrap();
        for (si, s) in g.types.schema().structs.iter().enumerate() {
            kinds.insert(match s.kind {
                StructKind::Struct => "kind struct",
                StructKind::Union => "kind union",
                StructKind::Exception => "kind exception",
            });
            for f in &s.fields {
                ty_kinds(&f.ty, &mut kinds, 0);
                kinds.insert(match f.req {
                    dynthrift_core::schema::Requiredness::Required => "required",
                    dynthrift_core::schema::Requiredness::Optional => "optional",
                    dynthrift_core::schema::Requiredness::Default => "default req",
                });
                if f.default.is_some() {
                    defaults += 1;
                }
                if f.id < 0 {
                    negative_ids += 1;
                }
                if matches!(&f.ty, Ty::Struct(id) if id.0 as usize <= si) {
                    recursive += 1;
                }
            }
        }
        // An error only for a schema without finite values (a union that always nests itself).
        let Ok(v) = schemagen::value_named(&mut u, &g.types, &g.structs[0], Config::default())
        else {
            continue;
        };
        if let Ok(b) = v.encode(Protocol::Binary) {
            encoded_sizes.push(b.len());
        }
        let auto = DynCodec::new(&g.types, &g.structs[0], Options::default()).unwrap();
        roots += 1;
        if auto.backend() == BackendInfo::Jit {
            compiled += 1;
        }
        if g.types.schema().structs[auto.struct_id().0 as usize].kind == StructKind::Union {
            union_roots += 1;
        }
    }
    let want = [
        "bool",
        "byte",
        "i16",
        "i32",
        "i64",
        "double",
        "string",
        "binary",
        "uuid",
        "enum",
        "struct",
        "list",
        "set",
        "map",
        "nested container",
        "kind struct",
        "kind union",
        "kind exception",
        "required",
        "optional",
        "default req",
    ];
    for w in want {
        assert!(kinds.contains(w), "never generated: {w} (got {kinds:?})");
    }
    assert!(recursive > 10, "recursive references: {recursive}");
    assert!(defaults > 10, "defaults: {defaults}");
    assert!(negative_ids > 10, "implicit ids: {negative_ids}");
    // The differential compares something: every root runs compiled code, unions too.
    println!("{compiled} of {roots} roots compiled ({union_roots} unions)");
    assert!(union_roots > 10, "union roots: {union_roots}");
    if cfg!(feature = "jit") && !std::env::var("DYNTHRIFT_JIT").is_ok_and(|v| v == "off") {
        assert_eq!(compiled, roots, "only {compiled} of {roots} roots compiled");
    }
    encoded_sizes.sort();
    let median = encoded_sizes[encoded_sizes.len() / 2];
    let max = *encoded_sizes.last().unwrap();
    println!(
        "{} values encoded; median {median} B, max {max} B",
        encoded_sizes.len()
    );
    assert!(encoded_sizes.len() > 250, "{}", encoded_sizes.len());
    assert!(median > 10 && max > 200, "median {median}, max {max}");
}
