//! The JIT against the interpreter: byte-identical encodings, equal `encoded_len`, equal
//! errors (kind, path, message), on fixed and generated values.
#![cfg(feature = "jit")]

use std::collections::{BTreeMap, HashMap};

use dynthrift::{Backend, BackendInfo, Codec, Describe, Options, Thrift};
use dynthrift_testkit::shapes::*;
use dynthrift_testkit::workloads;
use proptest::prelude::*;
use proptest::strategy::ValueTree;

/// Whether the environment leaves the JIT on (`DYNTHRIFT_JIT=off` runs the suite without it).
fn jit_on() -> bool {
    !std::env::var("DYNTHRIFT_JIT").is_ok_and(|v| v == "off")
}

fn expect_jit<T: Describe>(c: &Codec<T>) {
    if jit_on() {
        assert_eq!(
            c.backend(),
            BackendInfo::Jit,
            "{}",
            std::any::type_name::<T>()
        );
    } else {
        assert_eq!(
            c.backend(),
            BackendInfo::Interpreter("DYNTHRIFT_JIT=off".into())
        );
    }
}

fn both<T: Describe>() -> (Codec<T>, Codec<T>) {
    let jit = Codec::<T>::new().unwrap();
    let interp =
        Codec::<T>::with_options(Options::default().backend(Backend::Interpreter)).unwrap();
    (jit, interp)
}

/// Same bytes and lengths (or the same error) from both backends.
fn same<T: Describe>(v: &T) -> Vec<u8> {
    let (jit, interp) = both::<T>();
    expect_jit(&jit);
    let a = jit.encode(v).map_err(|e| e.to_string());
    let b = interp.encode(v).map_err(|e| e.to_string());
    assert_eq!(a, b);
    assert_eq!(
        jit.encoded_len(v).map_err(|e| e.to_string()),
        interp.encoded_len(v).map_err(|e| e.to_string())
    );
    // Appending after existing bytes, into a buffer too small to start with.
    let mut out = vec![0xAA; 3];
    out.shrink_to_fit();
    let r = jit.write(v, &mut out);
    match (&r, &b) {
        (Ok(()), Ok(bytes)) => assert_eq!(&out[3..], &bytes[..]),
        (Err(_), Err(_)) => assert_eq!(
            out,
            vec![0xAA; 3],
            "a failed encode leaves the buffer as it was"
        ),
        _ => panic!("write and encode disagree: {r:?} vs {b:?}"),
    }
    b.unwrap_or_default()
}

#[test]
fn workloads_encode_identically() {
    let bytes = same(&workloads::simple());
    assert_eq!(bytes.len(), workloads::SMALL_SIZE);
    // Maps make HashMap order matter: both backends iterate the same map, so bytes match.
    assert_eq!(same(&workloads::nesting()).len(), workloads::MEDIUM_SIZE);
    assert_eq!(same(&workloads::nesting2()).len(), workloads::LARGE_SIZE);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]
    #[test]
    fn generated_values_encode_identically(v in every()) {
        let bytes = same(&v);
        let back = dynthrift::decode::<Every>(&bytes).unwrap();
        // NaN != NaN: compare through the encoding.
        prop_assert_eq!(dynthrift::encode(&back).unwrap(), bytes);
    }
}

#[test]
fn errors_are_the_same() {
    let ok_inner = StrictInner {
        name: Some("x".into()),
    };
    let cases = [
        Strict {
            a: None,
            nested: vec![],
            direct: ok_inner.clone(),
        },
        Strict {
            a: Some(1),
            nested: vec![ok_inner.clone(), StrictInner { name: None }],
            direct: ok_inner.clone(),
        },
        Strict {
            a: Some(1),
            nested: vec![],
            direct: StrictInner { name: None },
        },
    ];
    let expect = [
        "encode error at Strict.a: missing required field 'a'",
        "encode error at Strict.nested[1].name: missing required field 'name'",
        "encode error at Strict.direct.name: missing required field 'name'",
    ];
    for (v, want) in cases.iter().zip(expect) {
        same(v);
        assert_eq!(
            Codec::<Strict>::new()
                .unwrap()
                .encode(v)
                .unwrap_err()
                .to_string(),
            want
        );
    }
}

#[derive(Thrift, Debug, Clone)]
struct Chain {
    #[thrift(id = 1)]
    next: Option<Box<Chain>>,
    #[thrift(id = 2)]
    child: Option<ChainNode>,
}

#[derive(Thrift, Debug, Clone)]
struct ChainNode {
    #[thrift(id = 1)]
    up: Vec<Chain>,
}

#[test]
fn depth_limit_is_the_same() {
    fn deep(n: usize) -> Chain {
        let mut c = Chain {
            next: None,
            child: None,
        };
        for i in 0..n {
            c = if i % 2 == 0 {
                Chain {
                    next: Some(Box::new(c)),
                    child: None,
                }
            } else {
                Chain {
                    next: None,
                    child: Some(ChainNode { up: vec![c] }),
                }
            };
        }
        c
    }
    for n in [0, 10, 40, 63, 64, 65, 100, 500] {
        same(&deep(n));
    }
    for depth in [1, 2, 5] {
        let opts = Options::default().max_depth(depth);
        let jit = Codec::<Chain>::with_options(opts).unwrap();
        let interp = Codec::<Chain>::with_options(opts.backend(Backend::Interpreter)).unwrap();
        for n in 0..8 {
            let v = deep(n);
            assert_eq!(
                jit.encode(&v).map_err(|e| e.to_string()),
                interp.encode(&v).map_err(|e| e.to_string()),
                "depth {depth}, n {n}"
            );
        }
    }
}

#[test]
fn backend_is_reported_and_can_be_forced() {
    let c = Codec::<workloads::Simple>::new().unwrap();
    expect_jit(&c);
    let c =
        Codec::<workloads::Simple>::with_options(Options::default().backend(Backend::Interpreter))
            .unwrap();
    assert_eq!(
        c.backend(),
        BackendInfo::Interpreter("the interpreter was chosen in the options".into())
    );
    // Compact compiles too (tests/jit_compact.rs compares it with the interpreter).
    let c = Codec::<workloads::Simple>::with_options(Options::compact()).unwrap();
    expect_jit(&c);
}

#[derive(Thrift, Debug, Clone, PartialEq)]
enum Choice {
    #[thrift(id = 1)]
    A(i32),
    #[thrift(id = 2)]
    B(String),
}

#[derive(Thrift, Debug, Clone, PartialEq)]
struct HoldsUnion {
    #[thrift(id = 1)]
    c: Choice,
    #[thrift(id = 2)]
    m: HashMap<i32, Choice>,
}

#[test]
fn unions_inside_compiled_structs_go_through_the_interpreter() {
    same(&HoldsUnion {
        c: Choice::B("hi".into()),
        m: HashMap::from([(1, Choice::A(5))]),
    });
    let c = Codec::<Choice>::new().unwrap();
    let reason = if jit_on() {
        "unions"
    } else {
        "DYNTHRIFT_JIT=off"
    };
    assert!(matches!(c.backend(), BackendInfo::Interpreter(r) if r.contains(reason)));
}

#[test]
fn threads_share_compiled_code() {
    let handles: Vec<_> = (0..8)
        .map(|i| {
            std::thread::spawn(move || {
                let c = Codec::<workloads::Nesting>::new().unwrap();
                let mut v = workloads::nesting();
                v.i32 = i;
                let bytes = c.encode(&v).unwrap();
                assert_eq!(c.decode(&bytes).unwrap(), v);
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

/// Decoding `bytes` gives the same value, or the same error (kind, path, offset, message).
fn same_decode<T: Describe + PartialEq + std::fmt::Debug>(bytes: &[u8]) {
    let (jit, interp) = both::<T>();
    let a = jit.decode(bytes).map_err(|e| e.to_string());
    let b = interp.decode(bytes).map_err(|e| e.to_string());
    assert_eq!(a, b, "input {bytes:02x?}");
}

#[test]
fn decode_is_the_same_on_good_and_broken_input() {
    let simple = dynthrift::encode(&workloads::simple()).unwrap();
    let nesting = dynthrift::encode(&workloads::nesting()).unwrap();
    same_decode::<workloads::Simple>(&simple);
    same_decode::<workloads::Nesting>(&nesting);
    same_decode::<workloads::PartialNesting>(&nesting);
    for cut in 0..simple.len() {
        same_decode::<workloads::Simple>(&simple[..cut]);
    }
    for cut in (0..nesting.len()).step_by(7) {
        same_decode::<workloads::Nesting>(&nesting[..cut]);
    }
    for at in 0..simple.len() {
        for x in [0x01, 0x80, 0xff] {
            let mut b = simple.clone();
            b[at] ^= x;
            same_decode::<workloads::Simple>(&b);
        }
    }
    for at in (0..nesting.len()).step_by(13) {
        let mut b = nesting.clone();
        b[at] ^= 0xff;
        same_decode::<workloads::Nesting>(&b);
    }
    // Required fields, unknown enum values, depth.
    let strict =
        Codec::<Strict>::with_options(Options::default().backend(Backend::Interpreter)).unwrap();
    let ok = strict
        .encode(&Strict {
            a: Some(1),
            nested: vec![],
            direct: StrictInner {
                name: Some("n".into()),
            },
        })
        .unwrap();
    for cut in 0..ok.len() {
        let (jit, interp) = both::<Strict>();
        assert_eq!(
            jit.decode(&ok[..cut])
                .map(|_| ())
                .map_err(|e| e.to_string()),
            interp
                .decode(&ok[..cut])
                .map(|_| ())
                .map_err(|e| e.to_string())
        );
    }
    let every_codec =
        Codec::<Every>::with_options(Options::default().backend(Backend::Interpreter)).unwrap();
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for _ in 0..50 {
        let v = every().new_tree(&mut runner).unwrap().current();
        let bytes = every_codec.encode(&v).unwrap();
        let (jit, interp) = both::<Every>();
        let a = jit.decode(&bytes).unwrap();
        let b = interp.decode(&bytes).unwrap();
        assert_eq!(
            every_codec.encode(&a).unwrap(),
            every_codec.encode(&b).unwrap()
        );
        for at in (0..bytes.len()).step_by(5) {
            let mut broken = bytes.clone();
            broken[at] = broken[at].wrapping_add(0x41);
            let a = jit
                .decode(&broken)
                .map(|v| every_codec.encode(&v).unwrap())
                .map_err(|e| e.to_string());
            let b = interp
                .decode(&broken)
                .map(|v| every_codec.encode(&v).unwrap())
                .map_err(|e| e.to_string());
            assert_eq!(a, b, "input {broken:02x?}");
        }
    }
}

#[test]
fn decode_runs_compiled_code() {
    // A decoder that did not compile would make the decode comparisons above trivial.
    if jit_on() {
        let c = Codec::<workloads::Nesting>::new().unwrap();
        assert_eq!(c.backend(), BackendInfo::Jit);
        assert!(c.decodes_compiled());
    }
}

#[derive(Thrift, Clone, Debug, PartialEq)]
struct Lists {
    #[thrift(id = 1)]
    bools: Vec<bool>,
    #[thrift(id = 2)]
    bytes: Vec<i8>,
    #[thrift(id = 3)]
    shorts: Vec<i16>,
    #[thrift(id = 4)]
    ints: Vec<i32>,
    #[thrift(id = 5)]
    longs: Vec<i64>,
    #[thrift(id = 6)]
    doubles: Vec<f64>,
    #[thrift(id = 7)]
    uuids: Vec<[u8; 16]>,
    #[thrift(id = 8)]
    strings: Vec<String>,
    #[thrift(id = 9)]
    blobs: Vec<Vec<u8>>,
    #[thrift(id = 10)]
    shared: Vec<bytes::Bytes>,
    #[thrift(id = 11)]
    inners: Vec<Inner>,
    #[thrift(id = 12)]
    colors: Vec<Color>,
    #[thrift(id = 13)]
    nested: Vec<Vec<i32>>,
    #[thrift(id = 14)]
    maybe: Option<Vec<StrictInner>>,
}

fn lists() -> impl Strategy<Value = Lists> {
    use proptest::collection::vec;
    let inner = (".{0,4}", proptest::option::of(any::<i64>()))
        .prop_map(|(name, maybe)| Inner { name, maybe });
    (
        (
            vec(any::<bool>(), 0..20),
            vec(any::<i8>(), 0..20),
            vec(any::<i16>(), 0..20),
            vec(any::<i32>(), 0..40),
        ),
        (
            vec(any::<i64>(), 0..20),
            vec(any::<f64>(), 0..20),
            vec(any::<[u8; 16]>(), 0..4),
        ),
        (
            vec(".{0,6}", 0..6),
            vec(vec(any::<u8>(), 0..6), 0..4),
            vec(inner, 0..5),
        ),
        (
            vec(prop_oneof![Just(Color::Red), Just(Color::Blue)], 0..4),
            vec(vec(any::<i32>(), 0..3), 0..3),
        ),
        proptest::option::of(vec(
            proptest::option::of(".{0,3}").prop_map(|name| StrictInner { name }),
            0..3,
        )),
    )
        .prop_map(
            |(
                (bools, bytes, shorts, ints),
                (longs, doubles, uuids),
                (strings, blobs, inners),
                (colors, nested),
                maybe,
            )| Lists {
                bools,
                bytes,
                shorts,
                ints,
                longs,
                doubles,
                uuids,
                strings,
                shared: blobs.iter().cloned().map(bytes::Bytes::from).collect(),
                blobs,
                inners,
                colors,
                nested,
                maybe,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
    /// Lists the JIT writes itself (plain, string and struct elements) and ones it hands to the
    /// interpreter (enums, nested lists); element errors (an unset required field) included.
    #[test]
    fn lists_encode_identically(v in lists()) {
        same(&v);
        let (jit, interp) = both::<Lists>();
        if let Ok(bytes) = interp.encode(&v) {
            prop_assert_eq!(
                jit.decode(&bytes).map(|x| interp.encode(&x).unwrap()).map_err(|e| e.to_string()),
                interp.decode(&bytes).map(|x| interp.encode(&x).unwrap()).map_err(|e| e.to_string())
            );
        }
    }
}

#[test]
fn list_element_errors_name_the_element() {
    let v = Lists {
        bools: vec![],
        bytes: vec![],
        shorts: vec![],
        ints: vec![1; 100],
        longs: vec![],
        doubles: vec![],
        uuids: vec![],
        strings: vec![],
        blobs: vec![],
        shared: vec![],
        inners: vec![],
        colors: vec![],
        nested: vec![],
        maybe: Some(vec![
            StrictInner {
                name: Some("a".into()),
            },
            StrictInner { name: None },
        ]),
    };
    same(&v);
    assert_eq!(
        Codec::<Lists>::new()
            .unwrap()
            .encode(&v)
            .unwrap_err()
            .to_string(),
        "encode error at Lists.maybe[1].name: missing required field 'name'"
    );
}

// ---------------------------------------------------------------------------------------------
// Containers in the compiled decoder: maps, sets, lists of every element kind, boxes, options,
// strings and binaries, under limits, on good, truncated and corrupted input.

/// Both backends decode `bytes` with `options` to equal values or the same error (kind,
/// path, offset, message); also from `Bytes`.
fn same_decode_with<T: Describe + PartialEq + std::fmt::Debug>(bytes: &[u8], options: Options) {
    let jit = Codec::<T>::with_options(options).unwrap();
    let interp = Codec::<T>::with_options(options.backend(Backend::Interpreter)).unwrap();
    let b = interp.decode(bytes).map_err(|e| e.to_string());
    let a = jit.decode(bytes).map_err(|e| e.to_string());
    let short = |r: &Result<T, String>| match r {
        Ok(_) => "a value".to_string(),
        Err(e) => e.clone(),
    };
    assert!(
        a == b,
        "jit {} / interpreter {} on {} bytes {:02x?}",
        short(&a),
        short(&b),
        bytes.len(),
        &bytes[..bytes.len().min(64)]
    );
    let shared = bytes::Bytes::copy_from_slice(bytes);
    let a = jit.decode_bytes(&shared).map_err(|e| e.to_string());
    assert!(
        a == b,
        "from Bytes: jit {} / interpreter {}",
        short(&a),
        short(&b)
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 150, ..ProptestConfig::default() })]
    #[test]
    fn containers_decode_identically(v in containers(), cut in any::<prop::sample::Index>(), at in any::<prop::sample::Index>(), x in 1u8..=255) {
        let interp = Codec::<Containers>::with_options(Options::default().backend(Backend::Interpreter)).unwrap();
        let bytes = match interp.encode(&v) {
            Ok(b) => b,
            // An unset required field inside: nothing to decode.
            Err(_) => return Ok(()),
        };
        let options = Options::default();
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
fn workload_containers_decode_identically_when_broken() {
    let nesting = dynthrift::encode(&workloads::nesting()).unwrap();
    let nesting2 = dynthrift::encode(&workloads::nesting2()).unwrap();
    same_decode_with::<workloads::Nesting2>(&nesting2, Options::default());
    for cut in (0..nesting.len()).step_by(3) {
        same_decode_with::<workloads::Nesting>(&nesting[..cut], Options::default());
    }
    for at in (0..nesting.len()).step_by(5) {
        for x in [0x01, 0x80, 0xff] {
            let mut b = nesting.clone();
            b[at] ^= x;
            same_decode_with::<workloads::Nesting>(&b, Options::default());
        }
    }
    for options in [
        Options::default().max_container_len(7),
        Options::default().max_string_len(271),
        Options::default().max_depth(2),
        Options::default().max_depth(3),
    ] {
        same_decode_with::<workloads::Nesting>(&nesting, options);
        same_decode_with::<workloads::Nesting2>(&nesting2, options);
    }
}

#[derive(Thrift, Debug)]
struct MapsOfStructs {
    #[thrift(id = 1)]
    by_id: BTreeMap<i32, StrictInner>,
    #[thrift(id = 2)]
    #[allow(clippy::vec_box)] // Boxes inside containers are what this tests.
    nested: BTreeMap<String, Vec<Box<StrictInner>>>,
    #[thrift(id = 3)]
    keyed: HashMap<workloads::Simple, StrictInner>,
}

#[test]
fn maps_of_compiled_structs_encode_identically() {
    let ok = |s: &str| StrictInner {
        name: Some(s.into()),
    };
    let mut v = MapsOfStructs {
        by_id: (0..5).map(|i| (i, ok(&i.to_string()))).collect(),
        nested: [
            ("a".to_string(), vec![Box::new(ok("x")), Box::new(ok("y"))]),
            ("b".to_string(), vec![]),
        ]
        .into_iter()
        .collect(),
        keyed: [(workloads::simple(), ok("k"))].into_iter().collect(),
    };
    for options in [Options::binary(), Options::compact()] {
        let jit = Codec::<MapsOfStructs>::with_options(options).unwrap();
        let interp =
            Codec::<MapsOfStructs>::with_options(options.backend(Backend::Interpreter)).unwrap();
        expect_jit(&jit);
        assert_eq!(jit.encode(&v).unwrap(), interp.encode(&v).unwrap());
        assert_eq!(
            jit.encoded_len(&v).unwrap(),
            interp.encoded_len(&v).unwrap()
        );
        // Errors inside map values and keys name the same path.
        let mut broken = MapsOfStructs {
            by_id: v.by_id.clone(),
            nested: v.nested.clone(),
            keyed: v.keyed.clone(),
        };
        broken.by_id.insert(3, StrictInner { name: None });
        let e = |c: &Codec<MapsOfStructs>, v: &MapsOfStructs| c.encode(v).unwrap_err().to_string();
        assert_eq!(e(&jit, &broken), e(&interp, &broken));
        assert_eq!(
            jit.encoded_len(&broken).unwrap_err().to_string(),
            interp.encoded_len(&broken).unwrap_err().to_string()
        );
        broken.by_id.remove(&3);
        broken.nested.insert(
            "c".into(),
            vec![Box::new(ok("z")), Box::new(StrictInner { name: None })],
        );
        assert_eq!(e(&jit, &broken), e(&interp, &broken));
        // Depth limits through maps.
        for depth in 1..5 {
            let jit = Codec::<MapsOfStructs>::with_options(options.max_depth(depth)).unwrap();
            let interp = Codec::<MapsOfStructs>::with_options(
                options.max_depth(depth).backend(Backend::Interpreter),
            )
            .unwrap();
            assert_eq!(
                jit.encode(&v).map_err(|e| e.to_string()),
                interp.encode(&v).map_err(|e| e.to_string())
            );
        }
    }
    v.by_id.clear();
    same(&v);
}

#[test]
fn skip_decode_is_the_same() {
    let simple = dynthrift::encode(&workloads::simple()).unwrap();
    let nesting = dynthrift::encode(&workloads::nesting()).unwrap();
    let o = Options::default();
    same_decode_with::<workloads::PartialSimple>(&simple, o);
    same_decode_with::<workloads::PartialNesting>(&nesting, o);
    for cut in 0..simple.len() {
        same_decode_with::<workloads::PartialSimple>(&simple[..cut], o);
    }
    for cut in (0..nesting.len()).step_by(7) {
        same_decode_with::<workloads::PartialNesting>(&nesting[..cut], o);
    }
    for at in 0..simple.len() {
        for x in [0x01, 0x08, 0x80, 0xff] {
            let mut b = simple.clone();
            b[at] ^= x;
            same_decode_with::<workloads::PartialSimple>(&b, o);
        }
    }
    for at in (0..nesting.len()).step_by(13) {
        for x in [0x01, 0x80, 0xff] {
            let mut b = nesting.clone();
            b[at] ^= x;
            same_decode_with::<workloads::PartialNesting>(&b, o);
        }
    }
}

// Binary leaf containers (written and sized by the JIT's specialised helper loop): every leaf
// kind as list, set and map element, in both host families, and the depth budget they take.

#[derive(Thrift, Clone, Debug, PartialEq)]
struct Leaves {
    #[thrift(id = 1)]
    bools: std::collections::BTreeSet<bool>,
    #[thrift(id = 2)]
    bytes_set: std::collections::HashSet<i8>,
    #[thrift(id = 3)]
    by_i16: BTreeMap<i16, f64>,
    #[thrift(id = 4)]
    uuids: std::collections::BTreeSet<[u8; 16]>,
    #[thrift(id = 5)]
    blobs: BTreeMap<Vec<u8>, bool>,
    #[thrift(id = 6)]
    kinds: BTreeMap<workloads::Enums, workloads::Enums>,
    #[thrift(id = 7)]
    text: HashMap<String, bytes::Bytes>,
    #[thrift(id = 8)]
    empty: BTreeMap<i64, String>,
    #[thrift(id = 9)]
    doubles: Vec<f64>,
}

fn leaves(n: u8) -> Leaves {
    let n16 = n as i16;
    Leaves {
        bools: (0..n.min(2)).map(|i| i == 1).collect(),
        bytes_set: (0..n).map(|i| i as i8 - 3).collect(),
        by_i16: (0..n16).map(|i| (i * 300 - 7, i as f64 / 3.0)).collect(),
        uuids: (0..n).map(|i| [i; 16]).collect(),
        blobs: (0..n).map(|i| (vec![i; i as usize], i % 2 == 0)).collect(),
        kinds: [(workloads::Enums::ValueA, workloads::Enums::ValueC)]
            .into_iter()
            .take(n as usize)
            .collect(),
        text: (0..n)
            .map(|i| (format!("ключ {i}"), bytes::Bytes::from(vec![i; 3])))
            .collect(),
        empty: BTreeMap::new(),
        doubles: (0..n).map(|i| -(i as f64) * 1.5).collect(),
    }
}

#[test]
fn leaf_containers_encode_identically() {
    for n in [0, 1, 2, 5] {
        let v = leaves(n);
        let bytes = same(&v);
        let (jit, _) = both::<Leaves>();
        assert_eq!(jit.decode(&bytes).unwrap(), v, "n {n}");
    }
    // A leaf container takes one level of the budget: depth 1 fails inside it, on both.
    for depth in [1, 2] {
        let opts = Options::default().max_depth(depth);
        let jit = Codec::<Leaves>::with_options(opts).unwrap();
        let interp = Codec::<Leaves>::with_options(opts.backend(Backend::Interpreter)).unwrap();
        let v = leaves(2);
        let a = jit.encode(&v).map_err(|e| e.to_string());
        assert_eq!(a, interp.encode(&v).map_err(|e| e.to_string()), "{depth}");
        assert_eq!(
            jit.encoded_len(&v).map_err(|e| e.to_string()),
            interp.encoded_len(&v).map_err(|e| e.to_string())
        );
        assert_eq!(a.is_err(), depth == 1, "depth {depth}: {a:?}");
    }
}
