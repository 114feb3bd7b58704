//! The JIT's Compact protocol against the interpreter: byte-identical encodings, equal
//! `encoded_len`, equal values, and equal errors (kind, path, offset, message) on truncated
//! and corrupted input; derived types and IDL-only records.
#![cfg(feature = "jit")]

use dynthrift::{Backend, BackendInfo, Codec, Describe, DynCodec, DynSchema, Options, Thrift};
use dynthrift_testkit::shapes::*;
use dynthrift_testkit::{oracle, workloads};
use proptest::prelude::*;

fn jit_on() -> bool {
    !std::env::var("DYNTHRIFT_JIT").is_ok_and(|v| v == "off")
}

fn both<T: Describe>(options: Options) -> (Codec<T>, Codec<T>) {
    let jit = Codec::<T>::with_options(options).unwrap();
    if jit_on() {
        assert_eq!(
            jit.backend(),
            BackendInfo::Jit,
            "{}",
            std::any::type_name::<T>()
        );
    }
    let interp = Codec::<T>::with_options(options.backend(Backend::Interpreter)).unwrap();
    (jit, interp)
}

/// Same bytes and lengths (or the same error) from both backends, in Compact.
fn same<T: Describe>(v: &T) -> Vec<u8> {
    let (jit, interp) = both::<T>(Options::compact());
    oracle::same_encoding(&jit, &interp, v)
}

/// Equal values or the same error from both backends (from a slice and from `Bytes`).
fn same_decode_with<T: Describe + PartialEq + std::fmt::Debug>(bytes: &[u8], options: Options) {
    let (jit, interp) = both::<T>(options);
    oracle::same_decoding(&jit, &interp, bytes);
}

#[test]
fn workloads_encode_and_decode_identically() {
    let c = Options::compact();
    let simple = same(&workloads::simple());
    same_decode_with::<workloads::Simple>(&simple, c);
    let nesting = same(&workloads::nesting());
    same_decode_with::<workloads::Nesting>(&nesting, c);
    let nesting2 = same(&workloads::nesting2());
    same_decode_with::<workloads::Nesting2>(&nesting2, c);
    for cut in (0..nesting.len()).step_by(3) {
        same_decode_with::<workloads::Nesting>(&nesting[..cut], c);
    }
    for at in (0..nesting.len()).step_by(5) {
        for x in [0x01, 0x10, 0x80, 0xff] {
            let mut b = nesting.clone();
            b[at] ^= x;
            same_decode_with::<workloads::Nesting>(&b, c);
        }
    }
    for cut in 0..simple.len() {
        same_decode_with::<workloads::Simple>(&simple[..cut], c);
    }
    for at in 0..simple.len() {
        for x in [0x01, 0x0f, 0x10, 0x80, 0xf0, 0xff] {
            let mut b = simple.clone();
            b[at] ^= x;
            same_decode_with::<workloads::Simple>(&b, c);
        }
    }
    // Skip decode (unknown fields) in Compact.
    same_decode_with::<workloads::PartialSimple>(&simple, c);
    same_decode_with::<workloads::PartialNesting>(&nesting, c);
}

#[derive(Thrift, Clone, Debug, PartialEq)]
struct Flags {
    #[thrift(id = 1)]
    a: bool,
    #[thrift(id = 2)]
    b: Option<bool>,
    #[thrift(id = 20)]
    c: bool,
    #[thrift(id = -5)]
    d: bool,
    #[thrift(id = 16)]
    e: i8,
    #[thrift(id = 17)]
    f: i64,
    #[thrift(id = 32767)]
    g: i16,
    #[thrift(id = -32768)]
    h: Option<i32>,
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
    #[test]
    fn generated_values_encode_and_decode_identically(v in every(), cut in any::<prop::sample::Index>(), at in any::<prop::sample::Index>(), x in 1u8..=255) {
        let bytes = same(&v);
        let c = Options::compact();
        let back = Codec::<Every>::with_options(c).unwrap().decode(&bytes).unwrap();
        // NaN != NaN: compare through the encoding.
        prop_assert_eq!(Codec::<Every>::with_options(c).unwrap().encode(&back).unwrap(), bytes.clone());
        same_decode_with::<Every>(&bytes[..cut.index(bytes.len() + 1)], c);
        let mut broken = bytes.clone();
        let i = at.index(broken.len());
        broken[i] ^= x;
        // Values may differ only through NaN payloads, which compare unequal: compare errors.
        let (jit, interp) = both::<Every>(c);
        prop_assert_eq!(
            jit.decode(&broken).map(|v| jit.encode(&v).unwrap()).map_err(|e| e.to_string()),
            interp.decode(&broken).map(|v| interp.encode(&v).unwrap()).map_err(|e| e.to_string())
        );
    }

    #[test]
    fn flags_and_ids_encode_identically(a: bool, b: Option<bool>, c: bool, d: bool, e: i8, f: i64, g: i16, h: Option<i32>) {
        let v = Flags { a, b, c, d, e, f, g, h };
        let bytes = same(&v);
        same_decode_with::<Flags>(&bytes, Options::compact());
        for cut in 0..bytes.len() {
            same_decode_with::<Flags>(&bytes[..cut], Options::compact());
        }
    }

    #[test]
    fn containers_decode_identically(v in containers(), cut in any::<prop::sample::Index>(), at in any::<prop::sample::Index>(), x in 1u8..=255) {
        let options = Options::compact();
        let interp = Codec::<Containers>::with_options(options.backend(Backend::Interpreter)).unwrap();
        let Ok(bytes) = interp.encode(&v) else {
            return Ok(());
        };
        same(&v);
        same_decode_with::<Containers>(&bytes, options);
        same_decode_with::<Containers>(&bytes[..cut.index(bytes.len() + 1)], options);
        let mut broken = bytes.clone();
        let i = at.index(broken.len());
        broken[i] ^= x;
        same_decode_with::<Containers>(&broken, options);
        for limited in [
            options.max_container_len(2),
            options.max_string_len(3),
            options.max_depth(3),
            options.max_depth(4),
        ] {
            same_decode_with::<Containers>(&bytes, limited);
            same_decode_with::<Containers>(&broken, limited);
        }
    }
}

#[test]
fn long_varints_and_bad_headers() {
    let c = Options::compact();
    // Field 17 (i64) written with an over-long varint, a 10-byte one, and an 11-byte one.
    for body in [
        vec![0x16, 0x80, 0x80, 0x00],
        vec![
            0x16, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
        ],
        vec![
            0x16, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
        ],
        // Long-form header for id 17, then an unknown type code, then a stop with a delta.
        vec![0x06, 0x22, 0x02],
        vec![0x0e],
        vec![0x50],
        vec![0x03, 0x80],
    ] {
        let mut bytes = vec![0x11]; // a = true (delta 1)
        bytes.extend_from_slice(&body);
        bytes.push(0);
        same_decode_with::<Flags>(&bytes, c);
    }
}

const RECORDS: &str = r#"
enum E { A = 1, B = -2 }
struct Leaf { 1: string name, 2: optional i64 n, 3: bool flag, 4: double d, 5: E e }
struct Tree { 1: list<Leaf> leaves, 2: map<string, Leaf> byName, 3: optional Tree left,
              4: set<i32> ints, 5: Leaf leaf, 20: i16 far, 6: binary blob }
"#;

#[test]
fn records_in_compact() {
    let types = DynSchema::new(dynthrift::idl::parse_str(RECORDS).unwrap()).unwrap();
    let jit = DynCodec::new(&types, "Tree", Options::compact()).unwrap();
    let interp = DynCodec::new(
        &types,
        "Tree",
        Options::compact().backend(Backend::Interpreter),
    )
    .unwrap();
    if jit_on() {
        assert_eq!(jit.pretouch(), BackendInfo::Jit);
    }
    // Records from the derived encoding of an equivalent value.
    let baseline = DynSchema::new(
        dynthrift::idl::parse_file(dynthrift_testkit::testdata(
            "idl/frugal/tests/baseline.thrift",
        ))
        .unwrap(),
    )
    .unwrap();
    for (name, bytes) in [
        ("Simple", same(&workloads::simple())),
        ("Nesting", same(&workloads::nesting())),
    ] {
        let jit = DynCodec::new(&baseline, name, Options::compact()).unwrap();
        let interp = DynCodec::new(
            &baseline,
            name,
            Options::compact().backend(Backend::Interpreter),
        )
        .unwrap();
        let a = jit.decode(&bytes).unwrap();
        let b = interp.decode(&bytes).unwrap();
        assert_eq!(jit.encode(&a).unwrap(), interp.encode(&b).unwrap());
        assert_eq!(
            jit.encoded_len(&a).unwrap(),
            interp.encoded_len(&b).unwrap()
        );
        for cut in (0..bytes.len()).step_by(7) {
            assert_eq!(
                jit.decode(&bytes[..cut])
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                interp
                    .decode(&bytes[..cut])
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            );
        }
        for at in (0..bytes.len()).step_by(11) {
            let mut broken = bytes.clone();
            broken[at] ^= 0x81;
            let a = jit.decode(&broken).map(|v| jit.encode(&v).unwrap());
            let b = interp.decode(&broken).map(|v| interp.encode(&v).unwrap());
            assert_eq!(a.map_err(|e| e.to_string()), b.map_err(|e| e.to_string()));
        }
    }
    let mut leaf = jit.new_value().unwrap();
    leaf.set("far", 300i16).unwrap();
    let bytes = interp.encode(&leaf).unwrap();
    assert_eq!(jit.encode(&leaf).unwrap(), bytes);
    assert_eq!(
        jit.decode(&bytes)
            .unwrap()
            .encode(dynthrift::Protocol::Compact)
            .unwrap(),
        bytes
    );
}

// Compact leaf containers (written and sized by the JIT's specialised loops): every leaf kind
// as list, set and map element, at the sizes around the list header's size nibble (14 fits, 15
// takes a varint), values at the varint length boundaries, and the depth budget they take.

#[derive(Thrift, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Tone {
    Low = -3,
    Mid = 0,
    High = 70000,
}

#[derive(Thrift, Clone, Debug, PartialEq)]
struct CLeaves {
    #[thrift(id = 1)]
    bools: Vec<bool>,
    #[thrift(id = 2)]
    i8s: Vec<i8>,
    #[thrift(id = 3)]
    i16s: Vec<i16>,
    #[thrift(id = 4)]
    i32s: Vec<i32>,
    #[thrift(id = 5)]
    i64s: Vec<i64>,
    #[thrift(id = 6)]
    doubles: Vec<f64>,
    #[thrift(id = 7)]
    strings: Vec<String>,
    #[thrift(id = 8)]
    bins: Vec<Vec<u8>>,
    #[thrift(id = 9)]
    bytes: Vec<bytes::Bytes>,
    #[thrift(id = 10)]
    tones: Vec<Tone>,
    #[thrift(id = 11)]
    uuids: Vec<[u8; 16]>,
    #[thrift(id = 12)]
    set_bool: std::collections::BTreeSet<bool>,
    #[thrift(id = 13)]
    set_i8: std::collections::HashSet<i8>,
    #[thrift(id = 14)]
    set_i16: std::collections::BTreeSet<i16>,
    #[thrift(id = 15)]
    set_i32: std::collections::HashSet<i32>,
    #[thrift(id = 16)]
    set_i64: std::collections::BTreeSet<i64>,
    #[thrift(id = 17)]
    set_str: std::collections::BTreeSet<String>,
    #[thrift(id = 18)]
    set_bin: std::collections::BTreeSet<Vec<u8>>,
    #[thrift(id = 19)]
    set_tone: std::collections::BTreeSet<Tone>,
    #[thrift(id = 20)]
    set_uuid: std::collections::BTreeSet<[u8; 16]>,
    #[thrift(id = 21)]
    i16_f64: std::collections::BTreeMap<i16, f64>,
    #[thrift(id = 22)]
    str_i64: std::collections::HashMap<String, i64>,
    #[thrift(id = 23)]
    i8_bool: std::collections::BTreeMap<i8, bool>,
    #[thrift(id = 24)]
    bool_uuid: std::collections::BTreeMap<bool, [u8; 16]>,
    #[thrift(id = 25)]
    tone_bytes: std::collections::BTreeMap<Tone, bytes::Bytes>,
    #[thrift(id = 26)]
    i64_tone: std::collections::BTreeMap<i64, Tone>,
    #[thrift(id = 27)]
    i32_str: std::collections::BTreeMap<i32, String>,
    #[thrift(id = 28)]
    bin_i32: std::collections::BTreeMap<Vec<u8>, i32>,
    #[thrift(id = 29)]
    opt_i32s: Option<Vec<i32>>,
    #[thrift(id = 30)]
    nested: Vec<Vec<i64>>,
    #[thrift(id = 31)]
    by_name: std::collections::BTreeMap<String, Vec<bool>>,
}

/// Integers around the varint length boundaries (after zigzag), and the extremes.
fn edge_i64(i: usize) -> i64 {
    const E: [i64; 14] = [
        0,
        -1,
        1,
        63,
        -64,
        64,
        -65,
        8191,
        -8192,
        8192,
        i32::MAX as i64,
        i32::MIN as i64,
        i64::MAX,
        i64::MIN,
    ];
    E[i % E.len()].wrapping_add((i / E.len()) as i64 * 1_000_003)
}

fn cleaves(n: usize) -> CLeaves {
    let tones = [Tone::Low, Tone::Mid, Tone::High];
    CLeaves {
        bools: (0..n).map(|i| i % 3 == 1).collect(),
        i8s: (0..n).map(|i| edge_i64(i) as i8).collect(),
        i16s: (0..n).map(|i| edge_i64(i) as i16).collect(),
        i32s: (0..n).map(|i| edge_i64(i) as i32).collect(),
        i64s: (0..n).map(edge_i64).collect(),
        doubles: (0..n).map(|i| -(i as f64) * 1.5 + 0.25).collect(),
        strings: (0..n).map(|i| "é".repeat(i % 70)).collect(),
        bins: (0..n).map(|i| vec![i as u8; (i * 7) % 150]).collect(),
        bytes: (0..n)
            .map(|i| bytes::Bytes::from(vec![!(i as u8); i % 5]))
            .collect(),
        tones: (0..n).map(|i| tones[i % 3]).collect(),
        uuids: (0..n).map(|i| [i as u8; 16]).collect(),
        set_bool: (0..n.min(2)).map(|i| i == 0).collect(),
        set_i8: (0..n.min(256)).map(|i| i as u8 as i8).collect(),
        set_i16: (0..n).map(|i| edge_i64(i) as i16).collect(),
        set_i32: (0..n).map(|i| edge_i64(i) as i32).collect(),
        set_i64: (0..n).map(edge_i64).collect(),
        set_str: (0..n).map(|i| format!("s{i}")).collect(),
        set_bin: (0..n).map(|i| vec![7; i]).collect(),
        set_tone: tones.into_iter().take(n).collect(),
        set_uuid: (0..n).map(|i| [(i % 256) as u8; 16]).collect(),
        i16_f64: (0..n)
            .map(|i| (edge_i64(i) as i16, i as f64 / 3.0))
            .collect(),
        str_i64: (0..n).map(|i| (format!("ключ {i}"), edge_i64(i))).collect(),
        i8_bool: (0..n.min(256))
            .map(|i| (i as u8 as i8, i % 2 == 0))
            .collect(),
        bool_uuid: (0..n.min(2)).map(|i| (i == 1, [i as u8 + 1; 16])).collect(),
        tone_bytes: tones
            .into_iter()
            .take(n)
            .map(|t| (t, bytes::Bytes::from(format!("{t:?}"))))
            .collect(),
        i64_tone: (0..n).map(|i| (edge_i64(i), tones[i % 3])).collect(),
        i32_str: (0..n)
            .map(|i| (edge_i64(i) as i32, "x".repeat(i % 200)))
            .collect(),
        bin_i32: (0..n).map(|i| (vec![1; i], -(i as i32))).collect(),
        opt_i32s: n
            .is_multiple_of(2)
            .then(|| (0..n).map(|i| i as i32 * 100).collect()),
        nested: (0..n.min(20))
            .map(|i| (0..i).map(edge_i64).collect())
            .collect(),
        by_name: (0..n.min(20))
            .map(|i| (format!("{i}"), (0..i).map(|j| j % 2 == 0).collect()))
            .collect(),
    }
}

/// Equal values, comparing doubles by their bits.
fn same_leaves(a: &CLeaves, b: &CLeaves) -> bool {
    let bits = |v: &CLeaves| v.doubles.iter().map(|d| d.to_bits()).collect::<Vec<_>>();
    let mut a2 = a.clone();
    let mut b2 = b.clone();
    a2.doubles.clear();
    b2.doubles.clear();
    bits(a) == bits(b) && a2 == b2
}

#[test]
fn leaf_containers_encode_identically() {
    let c = Options::compact();
    for n in [0, 1, 2, 13, 14, 15, 16, 17, 127, 128, 129, 300, 2000] {
        let v = cleaves(n);
        let bytes = same(&v);
        let (jit, interp) = both::<CLeaves>(c);
        assert!(same_leaves(&jit.decode(&bytes).unwrap(), &v), "n {n}");
        assert!(same_leaves(&interp.decode(&bytes).unwrap(), &v), "n {n}");
        // Every part of it alone too (a container last in its struct, then the stop byte).
        for one in split(&v) {
            same(&one);
        }
    }
    // The list header: size in the high nibble up to 14, then 0xf and a varint.
    let (jit, _) = both::<CLeaves>(c);
    for (n, head) in [
        (0, vec![0x05]),
        (14, vec![0xe5]),
        (15, vec![0xf5, 15]),
        (128, vec![0xf5, 0x80, 0x01]),
    ] {
        let v = CLeaves {
            i32s: vec![0; n],
            ..cleaves(0)
        };
        let bytes = jit.encode(&v).unwrap();
        // Fields 1 to 3 empty lists (bool, i8, i16), then field 4: header 0x19 (delta 1,
        // list), then the list header.
        assert_eq!(bytes[..6], [0x19, 0x01, 0x19, 0x03, 0x19, 0x04]);
        assert_eq!(bytes[6], 0x19);
        assert_eq!(bytes[7..7 + head.len()], head[..], "n {n}");
    }
    // A leaf container takes one level of the budget: depth 1 fails inside it, on both.
    for depth in [1, 2, 3] {
        let opts = c.max_depth(depth);
        let jit = Codec::<CLeaves>::with_options(opts).unwrap();
        let interp = Codec::<CLeaves>::with_options(opts.backend(Backend::Interpreter)).unwrap();
        let v = cleaves(3);
        let a = jit.encode(&v).map_err(|e| e.to_string());
        assert_eq!(a, interp.encode(&v).map_err(|e| e.to_string()), "{depth}");
        assert_eq!(
            jit.encoded_len(&v).map_err(|e| e.to_string()),
            interp.encoded_len(&v).map_err(|e| e.to_string())
        );
        // `nested` (a list of lists) needs 3 levels, the others 2.
        assert_eq!(a.is_err(), depth < 3, "depth {depth}: {a:?}");
    }
}

/// `v` with one field kept at a time (the others empty).
fn split(v: &CLeaves) -> Vec<CLeaves> {
    let e = cleaves(0);
    let mut out = Vec::new();
    macro_rules! one {
        ($($f:ident),*) => {$(
            out.push(CLeaves { $f: v.$f.clone(), ..e.clone() });
        )*};
    }
    one!(
        bools, i8s, i16s, i32s, i64s, doubles, strings, bins, bytes, tones, uuids, set_bool,
        set_i8, set_i16, set_i32, set_i64, set_str, set_bin, set_tone, set_uuid, i16_f64, str_i64,
        i8_bool, bool_uuid, tone_bytes, i64_tone, i32_str, bin_i32, opt_i32s, nested, by_name
    );
    out
}

fn cleaves_strategy() -> impl Strategy<Value = CLeaves> {
    use proptest::collection::{btree_map, btree_set, hash_map, hash_set, vec};
    // Lists of exactly 14 and 15 elements often: the two sides of the size nibble.
    fn sized<S: Strategy + Clone + 'static>(s: S) -> impl Strategy<Value = Vec<S::Value>> {
        prop_oneof![Just(0usize), Just(14), Just(15), 0usize..40]
            .prop_flat_map(move |k| vec(s.clone(), k))
    }
    let tone = prop_oneof![Just(Tone::Low), Just(Tone::Mid), Just(Tone::High)];
    (
        (
            sized(any::<bool>()),
            sized(any::<i8>()),
            sized(any::<i16>()),
            sized(any::<i32>()),
            sized(any::<i64>()),
            sized(any::<f64>()),
            sized(".{0,20}"),
            sized(vec(any::<u8>(), 0..20)),
        ),
        (
            sized(tone.clone()),
            sized(any::<[u8; 16]>()),
            btree_set(any::<i16>(), 0..20),
            hash_set(any::<i32>(), 0..20),
            btree_set(".{0,5}", 0..20),
            btree_set(tone.clone(), 0..3),
        ),
        (
            btree_map(any::<i16>(), any::<f64>(), 0..20),
            hash_map(".{0,5}", any::<i64>(), 0..20),
            btree_map(any::<i8>(), any::<bool>(), 0..20),
            btree_map(any::<i64>(), tone, 0..20),
            vec(vec(any::<i64>(), 0..17), 0..4),
        ),
    )
        .prop_map(
            |(
                (bools, i8s, i16s, i32s, i64s, doubles, strings, bins),
                (tones, uuids, set_i16, set_i32, set_str, set_tone),
                (i16_f64, str_i64, i8_bool, i64_tone, nested),
            )| CLeaves {
                bytes: bins.iter().map(|b| bytes::Bytes::from(b.clone())).collect(),
                bools,
                i8s,
                i16s,
                i32s,
                i64s,
                doubles,
                strings,
                bins,
                tones,
                uuids,
                set_i16,
                set_i32,
                set_str,
                set_tone,
                i16_f64,
                str_i64,
                i8_bool,
                i64_tone,
                nested,
                ..cleaves(0)
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
    #[test]
    fn generated_leaf_containers_encode_identically(v in cleaves_strategy()) {
        let bytes = same(&v);
        let (jit, _) = both::<CLeaves>(Options::compact());
        prop_assert!(same_leaves(&jit.decode(&bytes).unwrap(), &v));
    }
}

// Skip decode: unknown fields of every Compact type (skipped inline by the JIT when they are
// scalars, varints or strings within the input; by the helper otherwise), whole and cut short,
// with the interpreter's errors and offsets.

#[derive(Thrift, Clone, Debug, PartialEq)]
struct Wide {
    #[thrift(id = 1)]
    b: bool,
    #[thrift(id = 2)]
    i8: i8,
    #[thrift(id = 3)]
    i16: i16,
    #[thrift(id = 4)]
    i32: i32,
    #[thrift(id = 5)]
    i64: i64,
    #[thrift(id = 6)]
    f: f64,
    #[thrift(id = 7)]
    s: String,
    #[thrift(id = 8)]
    bin: Vec<u8>,
    #[thrift(id = 9)]
    uuid: [u8; 16],
    #[thrift(id = 10)]
    tone: Tone,
    #[thrift(id = 11)]
    list: Vec<i32>,
    #[thrift(id = 12)]
    set: std::collections::BTreeSet<String>,
    #[thrift(id = 13)]
    map: std::collections::BTreeMap<i16, String>,
    #[thrift(id = 14)]
    inner: Inner,
    #[thrift(id = 40)]
    far: i64,
    #[thrift(id = 41)]
    far_s: String,
    #[thrift(id = 42)]
    last: i32,
}

/// Knows none of `Wide`'s fields but the last: everything before it is skipped.
#[derive(Thrift, Clone, Debug, PartialEq)]
struct Narrow {
    #[thrift(id = 42)]
    last: Option<i32>,
    #[thrift(id = 99)]
    none: Option<String>,
}

/// `Wide`'s ids with other types: known ids with another wire type are skipped too.
#[derive(Thrift, Clone, Debug, PartialEq)]
struct Clash {
    #[thrift(id = 3)]
    i16: Option<String>,
    #[thrift(id = 7)]
    s: Option<i64>,
    #[thrift(id = 9)]
    uuid: Option<i8>,
    #[thrift(id = 42)]
    last: Option<i32>,
}

fn wide(k: usize) -> Wide {
    Wide {
        b: k.is_multiple_of(2),
        i8: edge_i64(k) as i8,
        i16: edge_i64(k + 1) as i16,
        i32: edge_i64(k + 2) as i32,
        i64: edge_i64(k + 3),
        f: k as f64 * -0.5,
        s: "ü".repeat(k * 13 % 90),
        bin: vec![k as u8; k * 37 % 300],
        uuid: [k as u8; 16],
        tone: [Tone::Low, Tone::Mid, Tone::High][k % 3],
        list: (0..k as i32).collect(),
        set: (0..k).map(|i| format!("{i}")).collect(),
        map: (0..k as i16).map(|i| (i, format!("v{i}"))).collect(),
        inner: Inner {
            name: "n".repeat(k),
            maybe: Some(k as i64),
        },
        far: edge_i64(k + 4),
        far_s: "far".repeat(k),
        last: k as i32 - 7,
    }
}

#[test]
fn unknown_fields_are_skipped_identically() {
    let c = Options::compact();
    for k in [0, 1, 2, 3, 5, 12, 13, 20] {
        let bytes = same(&wide(k));
        let (jit, _) = both::<Narrow>(c);
        assert_eq!(
            jit.decode(&bytes).unwrap(),
            Narrow {
                last: Some(k as i32 - 7),
                none: None
            }
        );
        same_decode_with::<Narrow>(&bytes, c);
        same_decode_with::<Clash>(&bytes, c);
        for cut in 0..bytes.len() {
            same_decode_with::<Narrow>(&bytes[..cut], c);
            same_decode_with::<Clash>(&bytes[..cut], c);
        }
        for at in 0..bytes.len() {
            for x in [0x01, 0x0f, 0x40, 0x80, 0xff] {
                let mut b = bytes.clone();
                b[at] ^= x;
                same_decode_with::<Narrow>(&b, c);
                same_decode_with::<Clash>(&b, c);
            }
        }
    }
}

#[test]
fn unknown_values_of_every_type_whole_and_cut() {
    let c = Options::compact();
    let ff = |n: usize| vec![0xffu8; n];
    let mut cases: Vec<(u8, Vec<u8>)> = vec![
        (3, vec![0x85]),
        (7, (1..=8).collect()),
        (13, (1..=16).collect()),
        (12, vec![0x15, 0x02, 0x18, 0x01, b'a', 0x00]),
        (9, vec![0x35, 0x02, 0x04, 0x06]),
        (10, vec![0x28, 0x01, b'x', 0x00]),
        (11, vec![0x02, 0x45, 0x02, 0x04, 0x06, 0x08]),
        (11, vec![0x00]),
        // Wrong element types and counts in containers.
        (9, vec![0x3e, 0x00]),
        (11, vec![0x01, 0x0f]),
        (9, vec![0xf5, 0xff, 0xff, 0xff, 0xff, 0x0f]),
        // Binary: lengths of 1, 5 and 6 bytes, negative, over u32, past the end.
        (8, vec![0x00]),
        (8, vec![0x03, b'a', b'b', b'c']),
        (8, vec![0x82, 0x80, 0x80, 0x80, 0x00, b'a', b'b']),
        (8, vec![0x81, 0x80, 0x80, 0x80, 0x80, 0x00, b'a']),
        (8, vec![0xff, 0xff, 0xff, 0xff, 0x0f]),
        (8, [ff(5), vec![0x7f]].concat()),
        (8, vec![0x05, b'a', b'b']),
        (8, vec![0xff, 0xff, 0xff, 0xff, 0x07]),
        (8, [vec![0x80], ff(200)].concat()),
        // Containers of every leaf type (skipped in one loop by the JIT's helper), long
        // counts, counts past the end, nested containers (the reader's general skip).
        (9, vec![0x31, 0x01, 0x02, 0x07]),
        (10, vec![0x22, 0x01, 0x02]),
        (9, [vec![0x13], (0..8).collect()].concat()),
        (9, [vec![0x27], (0..16).collect()].concat()),
        (9, [vec![0x1d], (0..16).collect()].concat()),
        (9, [vec![0xf3, 0x10], (0..16).collect()].concat()),
        (
            9,
            [vec![0xf6, 0x0f], vec![0x7f; 14], vec![0x80, 0x01]].concat(),
        ),
        (9, [vec![0x16], ff(9), vec![0x01]].concat()),
        (9, [vec![0x16], ff(10), vec![0x01]].concat()),
        (9, vec![0xf8, 0x80, 0x80, 0x80, 0x80, 0x00]),
        (9, vec![0xf8, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]),
        (9, vec![0x58, 0x01, b'a']),
        (9, vec![0x27, 0x00]),
        (9, vec![0x19, 0x15, 0x02]),
        (10, vec![0x1c, 0x15, 0x02, 0x00]),
        (
            11,
            vec![
                0x01, 0x87, b'k', 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
            ],
        ),
        (11, vec![0x02, 0xd1, 0x01, 0x02, 0x03, 0x04]),
        (11, vec![0x01, 0x99, 0x11, 0x02, 0x00]),
        (
            11,
            vec![0x81, 0x80, 0x80, 0x80, 0x80, 0x00, 0x33, 0x01, 0x01],
        ),
        (11, vec![0x05, 0x33, 0x01, 0x01]),
        (11, vec![0x01, 0x0d]),
    ];
    // Varints of 1, 2, 10 bytes (all accepted) and 11 bytes (too long), for every integer.
    for code in [4u8, 5, 6] {
        for v in [
            vec![0x00],
            vec![0x7f],
            vec![0x80, 0x01],
            [ff(9), vec![0x01]].concat(),
            [vec![0x80; 9], vec![0x00]].concat(),
            [ff(10), vec![0x01]].concat(),
            [vec![0x80; 10], vec![0x00]].concat(),
        ] {
            cases.push((code, v));
        }
    }
    for (code, body) in cases {
        // Field 1 of that type (short header), then the same value again under field 300
        // (long header), then field 42 (known), then the stop byte.
        let mut bytes = vec![0x10 | code];
        bytes.extend_from_slice(&body);
        bytes.push(code);
        bytes.extend_from_slice(&[0xd8, 0x04]); // zigzag(300) = 600
        bytes.extend_from_slice(&body);
        bytes.extend_from_slice(&[0x05, 0x54, 0x0e, 0x00]);
        for cut in 0..=bytes.len() {
            same_decode_with::<Narrow>(&bytes[..cut], c);
            same_decode_with::<Narrow>(&bytes[..cut], c.max_string_len(1).max_depth(1));
        }
    }
}

const CLEAVES_IDL: &str = r#"
enum Tone { Low = -3, Mid = 0, High = 70000 }
struct CLeaves {
  1: list<bool> bools, 2: list<byte> i8s, 3: list<i16> i16s, 4: list<i32> i32s,
  5: list<i64> i64s, 6: list<double> doubles, 7: list<string> strings, 8: list<binary> bins,
  9: list<binary> bytes, 10: list<Tone> tones, 11: list<uuid> uuids,
  12: set<bool> set_bool, 13: set<byte> set_i8, 14: set<i16> set_i16, 15: set<i32> set_i32,
  16: set<i64> set_i64, 17: set<string> set_str, 18: set<binary> set_bin, 19: set<Tone> set_tone,
  20: set<uuid> set_uuid,
  21: map<i16, double> i16_f64, 22: map<string, i64> str_i64, 23: map<byte, bool> i8_bool,
  24: map<bool, uuid> bool_uuid, 25: map<Tone, binary> tone_bytes, 26: map<i64, Tone> i64_tone,
  27: map<i32, string> i32_str, 28: map<binary, i32> bin_i32, 29: optional list<i32> opt_i32s,
  30: list<list<i64>> nested, 31: map<string, list<bool>> by_name
}
"#;

/// The same leaf containers as IDL-only records (raw vectors, open enums): what the derived
/// type wrote, decoded and written again identically by both backends.
#[test]
fn record_leaf_containers_encode_identically() {
    let types = DynSchema::new(dynthrift::idl::parse_str(CLEAVES_IDL).unwrap()).unwrap();
    let c = Options::compact();
    let jit = DynCodec::new(&types, "CLeaves", c).unwrap();
    let interp = DynCodec::new(&types, "CLeaves", c.backend(Backend::Interpreter)).unwrap();
    if jit_on() {
        assert_eq!(jit.pretouch(), BackendInfo::Jit);
    }
    for n in [0, 1, 14, 15, 16, 200] {
        let bytes = same(&cleaves(n));
        let a = jit.decode(&bytes).unwrap();
        let b = interp.decode(&bytes).unwrap();
        assert_eq!(jit.encode(&a).unwrap(), bytes, "n {n}");
        assert_eq!(interp.encode(&b).unwrap(), bytes, "n {n}");
        assert_eq!(jit.encoded_len(&a).unwrap(), bytes.len());
        for depth in [1, 2, 3] {
            let jit = DynCodec::new(&types, "CLeaves", c.max_depth(depth)).unwrap();
            let interp = DynCodec::new(
                &types,
                "CLeaves",
                c.max_depth(depth).backend(Backend::Interpreter),
            )
            .unwrap();
            assert_eq!(
                jit.encode(&a).map_err(|e| e.to_string()),
                interp.encode(&a).map_err(|e| e.to_string())
            );
            assert_eq!(
                jit.encoded_len(&a).map_err(|e| e.to_string()),
                interp.encoded_len(&a).map_err(|e| e.to_string())
            );
        }
    }
}

/// Boxed bools: in Compact their value is in the field header, as for plain bools.
#[derive(Thrift, Clone, Debug, PartialEq)]
struct BoxedFlags {
    #[thrift(id = 1)]
    a: Box<bool>,
    #[thrift(id = 2)]
    b: Option<Box<bool>>,
    #[thrift(id = 3)]
    c: bool,
    // Nested boxes: the box chain is followed to the bool.
    #[allow(clippy::redundant_allocation)]
    #[thrift(id = 4)]
    d: Box<Box<bool>>,
    #[thrift(id = 40)]
    e: Box<bool>,
    #[thrift(id = 5)]
    f: i8,
}

proptest! {
    #[test]
    fn boxed_bools_encode_and_decode_identically(a: bool, b: Option<bool>, c: bool, d: bool, e: bool, f: i8) {
        let v = BoxedFlags {
            a: Box::new(a),
            b: b.map(Box::new),
            c,
            d: Box::new(Box::new(d)),
            e: Box::new(e),
            f,
        };
        let bytes = same(&v);
        let (jit, _) = both::<BoxedFlags>(Options::compact());
        prop_assert_eq!(jit.decode(&bytes).unwrap(), v);
        for cut in 0..bytes.len() {
            same_decode_with::<BoxedFlags>(&bytes[..cut], Options::compact());
        }
        // Each boxed bool alone with the other value (header code 1 or 2).
        for at in 0..bytes.len() {
            let mut broken = bytes.clone();
            broken[at] ^= 0x03;
            same_decode_with::<BoxedFlags>(&broken, Options::compact());
        }
    }
}

// Lists of plain values: the JIT reads i16/i32/i64 lists inline (varints into the vector's
// spare capacity) and bools, bytes, doubles and uuids in one run; headers and elements it does
// not take go to helpers. Whole, cut at every byte, corrupted, over the limit and decoded into
// a value that already holds lists: the interpreter's values and errors.

#[derive(Thrift, Clone, Debug, PartialEq, Default)]
struct PlainLists {
    #[thrift(id = 1)]
    i16s: Vec<i16>,
    #[thrift(id = 2)]
    i32s: Vec<i32>,
    #[thrift(id = 3)]
    i64s: Vec<i64>,
    #[thrift(id = 4)]
    bools: Vec<bool>,
    #[thrift(id = 5)]
    i8s: Vec<i8>,
    #[thrift(id = 6)]
    doubles: Vec<f64>,
    #[thrift(id = 7)]
    uuids: Vec<[u8; 16]>,
    #[thrift(id = 8)]
    tail: i32,
}

fn plain_lists(n: usize) -> PlainLists {
    PlainLists {
        i16s: (0..n).map(|i| edge_i64(i) as i16).collect(),
        i32s: (0..n).map(|i| edge_i64(i) as i32).collect(),
        i64s: (0..n).map(edge_i64).collect(),
        bools: (0..n).map(|i| i % 3 == 0).collect(),
        i8s: (0..n).map(|i| edge_i64(i) as i8).collect(),
        doubles: (0..n).map(|i| i as f64 * -0.75).collect(),
        uuids: (0..n).map(|i| [i as u8; 16]).collect(),
        tail: 7,
    }
}

/// `decode_into` a value that already holds lists: equal results (the value too) on both.
fn same_decode_into(bytes: &[u8], options: Options) {
    same_decode_into_of(bytes, options, &plain_lists(3));
}

/// `decode_into` a copy of `prior`: equal results and equal values after, on both backends.
fn same_decode_into_of<T: Describe + PartialEq + Clone + std::fmt::Debug>(
    bytes: &[u8],
    options: Options,
    prior: &T,
) {
    let (jit, interp) = both::<T>(options);
    let mut a = prior.clone();
    let mut b = prior.clone();
    let ra = jit.decode_into(bytes, &mut a).map_err(|e| e.to_string());
    let rb = interp.decode_into(bytes, &mut b).map_err(|e| e.to_string());
    assert_eq!(
        ra,
        rb,
        "{} bytes {:02x?}",
        bytes.len(),
        &bytes[..bytes.len().min(48)]
    );
    assert_eq!(a, b, "{} bytes", bytes.len());
}

#[test]
fn plain_lists_decode_identically() {
    let c = Options::compact();
    for n in [0, 1, 14, 15, 16, 40, 300] {
        let v = plain_lists(n);
        let bytes = same(&v);
        let (jit, _) = both::<PlainLists>(c);
        assert_eq!(jit.decode(&bytes).unwrap(), v, "n {n}");
        let step = if n > 40 { 7 } else { 1 };
        for cut in (0..bytes.len()).step_by(step) {
            same_decode_with::<PlainLists>(&bytes[..cut], c);
            same_decode_into(&bytes[..cut], c);
        }
        for at in (0..bytes.len()).step_by(step) {
            for x in [0x01, 0x0f, 0x10, 0x80, 0xf0, 0xff] {
                let mut b = bytes.clone();
                b[at] ^= x;
                same_decode_with::<PlainLists>(&b, c);
                same_decode_into(&b, c);
            }
        }
        // Over the container limit (the header is fine): the limit's error, from the helper.
        for limit in [0, 1, 14, 15, n.saturating_sub(1)] {
            same_decode_with::<PlainLists>(&bytes, c.max_container_len(limit));
            same_decode_into(&bytes, c.max_container_len(limit));
        }
    }
    // Hand-made i64 lists (field 3): an element type other than the field's, a count the
    // input cannot hold, a long count, over-long and eleven-byte varints, a long varint within
    // ten bytes of the end.
    let ten = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
    let eleven = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
    ];
    let mut lists: Vec<Vec<u8>> = vec![
        vec![0x25, 0x02, 0x04],
        vec![0x35, 0x02],
        vec![0xf6, 0x02, 0x02, 0x04],
        vec![0xf6, 0x80, 0x80, 0x80, 0x80, 0x10],
        vec![0xf6, 0xff, 0xff, 0xff, 0xff, 0x0f],
        vec![0x26, 0x80, 0x00, 0x03],
        vec![0x16, 0x83],
    ];
    lists.push([&[0x26, 0x02][..], &ten].concat());
    lists.push([&[0x26, 0x02][..], &eleven].concat());
    lists.push([&[0x16][..], &ten[..9]].concat());
    for list in lists {
        for end in [&[][..], &[0x00][..], &[0x15, 0x0e, 0x00][..]] {
            // Field 3 (delta 3, list), the list, then nothing, a stop, or `tail` and a stop.
            let bytes = [&[0x39][..], &list, end].concat();
            same_decode_with::<PlainLists>(&bytes, c);
            same_decode_into(&bytes, c);
        }
    }
    // The nesting budget: a list takes a level inside the struct's.
    for depth in [1, 2] {
        let bytes = same(&plain_lists(2));
        same_decode_with::<PlainLists>(&bytes, c.max_depth(depth));
    }
}

// Lists of strings and binaries (the JIT's helper makes each element in the vector's spare
// capacity): values, errors, and what a failed `decode_into` leaves (the element that failed
// stays, empty), in both protocols.

#[derive(Thrift, Clone, Debug, PartialEq, Default)]
struct StrLists {
    #[thrift(id = 1)]
    strings: Vec<String>,
    #[thrift(id = 2)]
    bins: Vec<Vec<u8>>,
    #[thrift(id = 3)]
    shared: Vec<bytes::Bytes>,
    #[thrift(id = 4)]
    tail: i32,
}

fn str_lists(n: usize) -> StrLists {
    StrLists {
        strings: (0..n).map(|i| "é".repeat(i % 5)).collect(),
        bins: (0..n).map(|i| vec![i as u8; i % 4]).collect(),
        shared: (0..n)
            .map(|i| bytes::Bytes::from(vec![!(i as u8); i % 3]))
            .collect(),
        tail: -1,
    }
}

#[test]
fn string_lists_decode_identically() {
    for options in [Options::binary(), Options::compact()] {
        let prior = str_lists(2);
        for n in [0, 1, 7, 20] {
            let (jit, interp) = both::<StrLists>(options);
            let v = str_lists(n);
            let bytes = interp.encode(&v).unwrap();
            assert_eq!(jit.encode(&v).unwrap(), bytes);
            assert_eq!(jit.decode(&bytes).unwrap(), v);
            for cut in 0..bytes.len() {
                same_decode_with::<StrLists>(&bytes[..cut], options);
                same_decode_into_of(&bytes[..cut], options, &prior);
            }
            for at in 0..bytes.len() {
                // 0xc3 makes a byte of "é" an invalid UTF-8 sequence.
                for x in [0x01, 0x40, 0x80, 0xc3, 0xff] {
                    let mut b = bytes.clone();
                    b[at] ^= x;
                    same_decode_with::<StrLists>(&b, options);
                    same_decode_into_of(&b, options, &prior);
                }
            }
            for limit in [0, 1, 3] {
                let o = options.max_string_len(limit);
                same_decode_with::<StrLists>(&bytes, o);
                same_decode_into_of(&bytes, o, &prior);
            }
        }
    }
}
