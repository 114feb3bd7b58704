//! The JIT against the interpreter: byte-identical encodings, equal `encoded_len`, equal
//! errors (kind, path, message), on fixed and generated values.
#![cfg(feature = "jit")]

use std::collections::{BTreeMap, HashMap};

use dynthrift::{Backend, BackendInfo, Codec, Describe, Options, Protocol, Thrift, UnknownFields};
use dynthrift_testkit::shapes::*;
use dynthrift_testkit::{oracle, workloads};
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
    oracle::same_encoding(&jit, &interp, v)
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
fn unions_inside_compiled_structs_encode_identically() {
    same(&HoldsUnion {
        c: Choice::B("hi".into()),
        m: HashMap::from([(1, Choice::A(5))]),
    });
    let c = Codec::<Choice>::new().unwrap();
    expect_jit(&c);
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

/// Binary fixed-width values and string lengths: a predicted header checks the room for them
/// with its own, the generic header (fields out of order) checks it before the value. Cut at
/// every byte, in both orders, and with a field id the struct does not know in between: the
/// JIT fails as the interpreter does (kind, offset, path).
#[test]
fn fixed_widths_cut_short_after_either_header() {
    fn field(out: &mut Vec<u8>, t: u8, id: i16, v: &[u8]) {
        out.push(t);
        out.extend_from_slice(&id.to_be_bytes());
        out.extend_from_slice(v);
    }
    let byte = [0x7f];
    let i64v = 0x0102_0304_0506_0708i64.to_be_bytes();
    let f64v = 1.5f64.to_be_bytes();
    let i32v = 0x0a0b_0c0du32.to_be_bytes();
    let enumv = 2i32.to_be_bytes();
    let text = [&3u32.to_be_bytes()[..], b"abc"].concat();
    let blob = [&2u32.to_be_bytes()[..], &[0, 1]].concat();
    // (type, id, value) of Simple's fields, declaration order.
    let fields: [(u8, i16, &[u8]); 7] = [
        (3, 1, &byte),
        (10, 2, &i64v),
        (4, 3, &f64v),
        (8, 4, &i32v),
        (11, 5, &text),
        (11, 6, &blob),
        (8, 7, &enumv),
    ];
    let mut orders: Vec<Vec<(u8, i16, &[u8])>> = vec![fields.to_vec()];
    orders.push(fields.iter().rev().copied().collect());
    let mut with_unknown = fields.to_vec();
    with_unknown.insert(2, (8, 9, &i32v));
    orders.push(with_unknown);
    for order in orders {
        let mut bytes = Vec::new();
        for (t, id, v) in order {
            field(&mut bytes, t, id, v);
        }
        bytes.push(0);
        let whole = Codec::<workloads::Simple>::new().unwrap().decode(&bytes);
        assert!(whole.is_ok(), "{whole:?}");
        for cut in 0..=bytes.len() {
            same_decode::<workloads::Simple>(&bytes[..cut]);
        }
    }
}

/// Dense values on tags counting up from another start (the JIT converts them inline) and on
/// tags counting down (through the descriptor's thunks).
#[derive(Thrift, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Shifted {
    #[thrift(value = 5)]
    A,
    B,
    C,
}

#[derive(Thrift, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Reversed {
    #[thrift(value = 2)]
    A,
    #[thrift(value = 1)]
    B,
    #[thrift(value = 0)]
    C,
}

#[derive(Thrift, Clone, Debug, PartialEq)]
struct EnumFields {
    #[thrift(id = 1)]
    s: Shifted,
    #[thrift(id = 2)]
    r: Reversed,
    #[thrift(id = 3)]
    o: Option<Shifted>,
    #[thrift(id = 4)]
    l: Vec<Shifted>,
}

/// [`EnumFields`] with plain integers: any value on the wire.
#[derive(Thrift, Clone, Debug, PartialEq)]
struct EnumWire {
    #[thrift(id = 1)]
    s: i32,
    #[thrift(id = 2)]
    r: i32,
    #[thrift(id = 3)]
    o: Option<i32>,
    #[thrift(id = 4)]
    l: Vec<i32>,
}

#[test]
fn enums_convert_alike_inline_and_through_thunks() {
    let shifted = [Shifted::A, Shifted::B, Shifted::C];
    let reversed = [Reversed::A, Reversed::B, Reversed::C];
    let wide = [i32::MIN, -1, 0, 4, 8, 2, 3, 255, 256, 261, i32::MAX];
    for options in [Options::binary(), Options::compact()] {
        let jit = Codec::<EnumFields>::with_options(options).unwrap();
        let interp =
            Codec::<EnumFields>::with_options(options.backend(Backend::Interpreter)).unwrap();
        expect_jit(&jit);
        let wire = Codec::<EnumWire>::with_options(options.backend(Backend::Interpreter)).unwrap();
        for (i, &s) in shifted.iter().enumerate() {
            for &r in &reversed {
                let v = EnumFields {
                    s,
                    r,
                    o: (i != 1).then_some(s),
                    l: shifted[..=i].to_vec(),
                };
                let bytes = interp.encode(&v).unwrap();
                assert_eq!(jit.encode(&v).unwrap(), bytes);
                assert_eq!(jit.encoded_len(&v).unwrap(), bytes.len());
                assert_eq!(jit.decode(&bytes).unwrap(), v);
            }
        }
        // Any value in each field, one of the enum's or not: the same value or error.
        for x in wide.iter().copied().chain(5..=7) {
            for field in 0..4 {
                let mut w = EnumWire {
                    s: 6,
                    r: 1,
                    o: Some(7),
                    l: vec![5, 6],
                };
                match field {
                    0 => w.s = x,
                    1 => w.r = x,
                    2 => w.o = Some(x),
                    _ => w.l.push(x),
                }
                oracle::same_decoding(&jit, &interp, &wire.encode(&w).unwrap());
            }
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
    /// Lists the JIT writes itself (plain, string, struct and list elements) and ones it hands
    /// to the interpreter (enums); element errors (an unset required field) included.
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

/// Lists inside lists, sets and maps: the encoder writes them itself, one level deep (the
/// third level of `deep` goes to its helper).
#[derive(Thrift, Clone, Debug, PartialEq)]
struct NestedLists {
    #[thrift(id = 1)]
    ints: Vec<Vec<i32>>,
    #[thrift(id = 2)]
    longs: Vec<Vec<i64>>,
    #[thrift(id = 3)]
    shorts: Vec<Vec<i16>>,
    #[thrift(id = 4)]
    doubles: Vec<Vec<f64>>,
    #[thrift(id = 5)]
    strings: Vec<Vec<String>>,
    #[thrift(id = 6)]
    inners: Vec<Vec<Inner>>,
    #[thrift(id = 7)]
    by_name: HashMap<String, Vec<i64>>,
    #[thrift(id = 8)]
    by_id: BTreeMap<Vec<i32>, Vec<String>>,
    #[thrift(id = 9)]
    set: std::collections::BTreeSet<Vec<i16>>,
    #[thrift(id = 10)]
    deep: Vec<Vec<Vec<i32>>>,
    #[thrift(id = 11)]
    strict: HashMap<i32, Vec<StrictInner>>,
}

fn nested_lists() -> impl Strategy<Value = NestedLists> {
    use proptest::collection::{btree_map, btree_set, hash_map, vec};
    let inner = (".{0,4}", proptest::option::of(any::<i64>()))
        .prop_map(|(name, maybe)| Inner { name, maybe });
    let strict = proptest::option::of(".{0,3}").prop_map(|name| StrictInner { name });
    (
        (
            vec(vec(any::<i32>(), 0..30), 0..4),
            vec(vec(any::<i64>(), 0..30), 0..4),
            vec(vec(any::<i16>(), 0..30), 0..4),
            vec(vec(any::<f64>(), 0..5), 0..3),
        ),
        (
            vec(vec(".{0,5}", 0..4), 0..3),
            vec(vec(inner, 0..3), 0..3),
            hash_map(".{0,4}", vec(any::<i64>(), 0..6), 0..4),
            btree_map(vec(any::<i32>(), 0..3), vec(".{0,3}", 0..3), 0..3),
        ),
        (
            btree_set(vec(any::<i16>(), 0..4), 0..3),
            vec(vec(vec(any::<i32>(), 0..3), 0..3), 0..3),
            hash_map(any::<i32>(), vec(strict, 0..3), 0..3),
        ),
    )
        .prop_map(
            |(
                (ints, longs, shorts, doubles),
                (strings, inners, by_name, by_id),
                (set, deep, strict),
            )| NestedLists {
                ints,
                longs,
                shorts,
                doubles,
                strings,
                inners,
                by_name,
                by_id,
                set,
                deep,
                strict,
            },
        )
}

/// `v` written by the JIT into buffers of several capacities (the room for its varints or
/// not) equals the interpreter's encoding `bytes`.
fn same_in_any_buffer<T: Describe>(v: &T, p: Protocol, bytes: &[u8]) {
    let jit = Codec::<T>::with_options(opts(p)).unwrap();
    let small = [0, 1, 2, 3, 7, 9, 10, 11, 100];
    let large = [bytes.len(), bytes.len() + 64, 8 * bytes.len() + 1024];
    for cap in small.into_iter().chain(large) {
        let mut out = Vec::with_capacity(cap);
        jit.write(v, &mut out).unwrap();
        assert_eq!(out, bytes, "{p:?}, capacity {cap}");
        out.clear();
        jit.encode_into(v, &mut out).unwrap();
        assert_eq!(out, bytes, "{p:?}, capacity {cap}, encode_into");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
    /// Same bytes, lengths and errors (an unset required field inside a list that is a map
    /// value) in both protocols, into buffers with and without room to spare.
    #[test]
    fn nested_lists_encode_identically(v in nested_lists()) {
        for p in [Protocol::Binary, Protocol::Compact] {
            if let Ok(bytes) = same_in(&v, p) {
                same_in_any_buffer(&v, p, &bytes);
            }
        }
    }
}

/// Long Compact varint lists are written in runs as long as the room allows, the rest sized
/// and reserved at once when the room holds not one more: the bytes are the same whatever the
/// buffer's capacity.
#[test]
fn long_varint_lists_write_alike_into_any_buffer() {
    let wide = |i: i64| (i * 7919) << (i % 57);
    let v = NestedLists {
        ints: vec![(0..700).map(|i| (wide(i) >> 32) as i32).collect()],
        longs: vec![(0..1000).map(wide).collect(), vec![-1; 3]],
        shorts: vec![(0..500).map(|i| (wide(i) >> 48) as i16).collect()],
        doubles: vec![],
        strings: vec![],
        inners: vec![],
        by_name: [("k".to_string(), (0..300).map(|i| -wide(i)).collect())].into(),
        by_id: BTreeMap::new(),
        set: Default::default(),
        deep: vec![],
        strict: HashMap::new(),
    };
    for p in [Protocol::Binary, Protocol::Compact] {
        let bytes = same_in(&v, p).unwrap();
        same_in_any_buffer(&v, p, &bytes);
    }
}

#[test]
fn nested_list_errors_name_both_positions() {
    let strict = |name: Option<&str>| StrictInner {
        name: name.map(str::to_string),
    };
    let v = NestedLists {
        ints: vec![vec![1; 40], vec![-1; 3]],
        longs: vec![vec![i64::MIN, i64::MAX, 0]],
        shorts: vec![vec![i16::MIN; 5]],
        doubles: vec![],
        strings: vec![vec!["a".into()], vec![]],
        inners: vec![],
        by_name: HashMap::new(),
        by_id: BTreeMap::new(),
        set: Default::default(),
        deep: vec![],
        strict: [(7, vec![strict(Some("x")), strict(None)])].into(),
    };
    for p in [Protocol::Binary, Protocol::Compact] {
        assert_eq!(
            same_in(&v, p).unwrap_err(),
            "encode error at NestedLists.strict[7][1].name: missing required field 'name'"
        );
    }
    // The nesting limit counts the inner list as a level, as in the interpreter.
    let v = NestedLists {
        strict: HashMap::new(),
        ..v
    };
    for p in [Protocol::Binary, Protocol::Compact] {
        let bytes = same_in(&v, p).unwrap();
        same_in_any_buffer(&v, p, &bytes);
        for depth in [1, 2, 3] {
            let o = opts(p).max_depth(depth);
            let jit = Codec::<NestedLists>::with_options(o).unwrap();
            let interp =
                Codec::<NestedLists>::with_options(o.backend(Backend::Interpreter)).unwrap();
            let (a, b) = (jit.encode(&v), interp.encode(&v));
            assert_eq!(a.is_ok(), depth > 2, "{p:?}, depth {depth}");
            assert_eq!(
                a.map_err(|e| e.to_string()),
                b.map_err(|e| e.to_string()),
                "{p:?}, depth {depth}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Containers in the compiled decoder: maps, sets, lists of every element kind, boxes, options,
// strings and binaries, under limits, on good, truncated and corrupted input.

/// Both backends decode `bytes` with `options` to equal values or the same error (kind,
/// path, offset, message); also from `Bytes`.
fn same_decode_with<T: Describe + PartialEq + std::fmt::Debug>(bytes: &[u8], options: Options) {
    let jit = Codec::<T>::with_options(options).unwrap();
    let interp = Codec::<T>::with_options(options.backend(Backend::Interpreter)).unwrap();
    oracle::same_decoding(&jit, &interp, bytes);
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

// ---------------------------------------------------------------------------------------------
// Unions (Rust enums) and structs keeping unknown fields: compiled in both protocols, with the
// interpreter's bytes, values and errors on valid, truncated and corrupted input.

const PROTOCOLS: [Protocol; 2] = [Protocol::Binary, Protocol::Compact];

fn opts(p: Protocol) -> Options {
    Options::default().protocol(p)
}

/// The JIT runs `T` in protocol `p` (unless the environment turned it off).
fn expect_jit_in<T: Describe>(p: Protocol) {
    let c = Codec::<T>::with_options(opts(p)).unwrap();
    if jit_on() {
        assert_eq!(
            c.backend(),
            BackendInfo::Jit,
            "{} in {p:?}",
            std::any::type_name::<T>()
        );
        assert!(c.decodes_compiled());
    } else {
        assert!(matches!(c.backend(), BackendInfo::Interpreter(_)));
    }
}

/// Same bytes, lengths and errors from both backends in protocol `p`.
fn same_in<T: Describe>(v: &T, p: Protocol) -> Result<Vec<u8>, String> {
    expect_jit_in::<T>(p);
    let jit = Codec::<T>::with_options(opts(p)).unwrap();
    let interp = Codec::<T>::with_options(opts(p).backend(Backend::Interpreter)).unwrap();
    let a = jit.encode(v).map_err(|e| e.to_string());
    let b = interp.encode(v).map_err(|e| e.to_string());
    assert_eq!(a, b, "{p:?}");
    assert_eq!(
        jit.encoded_len(v).map_err(|e| e.to_string()),
        interp.encoded_len(v).map_err(|e| e.to_string()),
        "{p:?}"
    );
    let mut out = vec![0xAA; 3];
    out.shrink_to_fit();
    match (jit.write(v, &mut out), &b) {
        (Ok(()), Ok(bytes)) => assert_eq!(&out[3..], &bytes[..]),
        (Err(_), Err(_)) => assert_eq!(out, vec![0xAA; 3]),
        (r, _) => panic!("write and encode disagree: {r:?} vs {b:?}"),
    }
    b
}

/// Both backends decode `bytes` in protocol `p` alike: fresh values (from a slice and from
/// `Bytes`), and into copies of `reuse` (same result, and the same value after success).
fn same_decode_in<T: Describe + PartialEq + std::fmt::Debug + Clone>(
    bytes: &[u8],
    p: Protocol,
    reuse: &T,
) {
    same_decode_with::<T>(bytes, opts(p));
    let jit = Codec::<T>::with_options(opts(p)).unwrap();
    let interp = Codec::<T>::with_options(opts(p).backend(Backend::Interpreter)).unwrap();
    let (mut x, mut y) = (reuse.clone(), reuse.clone());
    let a = jit.decode_into(bytes, &mut x).map_err(|e| e.to_string());
    let b = interp.decode_into(bytes, &mut y).map_err(|e| e.to_string());
    assert_eq!(a, b, "decode_into {p:?} {bytes:02x?}");
    if b.is_ok() {
        assert_eq!(x, y, "decode_into {p:?} {bytes:02x?}");
    }
}

/// `bytes` cut at every offset, and with every byte flipped three ways.
fn broken(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = (0..bytes.len()).map(|n| bytes[..n].to_vec()).collect();
    for at in 0..bytes.len() {
        for x in [0x01, 0x80, 0xff] {
            let mut b = bytes.to_vec();
            b[at] ^= x;
            out.push(b);
        }
    }
    out
}

#[derive(Thrift, Debug, Clone, PartialEq)]
struct Leaf {
    #[thrift(id = 1)]
    name: String,
    #[thrift(id = 2)]
    n: Option<i64>,
}

/// Every kind of payload, ids far apart (Compact long headers) and negative.
#[derive(Thrift, Debug, Clone, PartialEq)]
enum Wide {
    #[thrift(id = 1, default)]
    Flag(bool),
    #[thrift(id = 2)]
    Small(i8),
    #[thrift(id = 3)]
    Short(i16),
    #[thrift(id = 4)]
    Num(i64),
    #[thrift(id = 5)]
    Real(f64),
    #[thrift(id = 6)]
    Text(String),
    #[thrift(id = 7)]
    Blob(Vec<u8>),
    #[thrift(id = 8)]
    Leaf(Leaf),
    #[thrift(id = 9)]
    Ints(Vec<i32>),
    #[thrift(id = 10)]
    Color(Color),
    #[thrift(id = 40)]
    Far(i32),
    #[thrift(id = -3)]
    Neg(String),
    #[thrift(id = 11)]
    Inner(Choice),
    #[thrift(id = 12)]
    Again(Box<Wide>),
    #[thrift(id = 13)]
    Names(BTreeMap<String, Leaf>),
    /// In Compact a bool's value is in its field header, boxed or not.
    #[thrift(id = 14)]
    BoxedFlag(Box<bool>),
}

#[derive(Thrift, Debug, Clone, PartialEq)]
struct Unions {
    #[thrift(id = 1)]
    w: Wide,
    #[thrift(id = 2)]
    many: Vec<Wide>,
    #[thrift(id = 3)]
    maybe: Option<Choice>,
    #[thrift(id = 4)]
    by_id: BTreeMap<i32, Wide>,
    #[thrift(id = 5)]
    after: i32,
}

fn wides() -> Vec<Wide> {
    vec![
        Wide::Flag(true),
        Wide::Flag(false),
        Wide::BoxedFlag(Box::new(true)),
        Wide::BoxedFlag(Box::new(false)),
        Wide::Small(-7),
        Wide::Short(-300),
        Wide::Num(1 << 40),
        Wide::Real(2.5),
        Wide::Text("héllo".into()),
        Wide::Blob(vec![0, 1, 255]),
        Wide::Leaf(Leaf {
            name: "leaf".into(),
            n: Some(-1),
        }),
        Wide::Ints(vec![1, -2, 3]),
        Wide::Color(Color::Blue),
        Wide::Far(123_456),
        Wide::Neg("negative id".into()),
        Wide::Inner(Choice::B("inner".into())),
        Wide::Again(Box::new(Wide::Again(Box::new(Wide::Small(1))))),
        Wide::Names(BTreeMap::from([(
            "k".to_string(),
            Leaf {
                name: "v".into(),
                n: None,
            },
        )])),
    ]
}

fn unions_value() -> Unions {
    Unions {
        w: Wide::Text("top".into()),
        many: wides(),
        maybe: Some(Choice::A(-9)),
        by_id: BTreeMap::from([(1, Wide::Flag(true)), (2, Wide::Far(-1))]),
        after: 77,
    }
}

#[test]
fn unions_and_keeping_structs_are_compiled() {
    for p in PROTOCOLS {
        expect_jit_in::<Choice>(p);
        expect_jit_in::<Wide>(p);
        expect_jit_in::<Unions>(p);
        expect_jit_in::<HoldsUnion>(p);
        expect_jit_in::<Keep>(p);
        expect_jit_in::<KeepFixed>(p);
        expect_jit_in::<Keeps>(p);
    }
}

#[test]
fn unions_encode_identically() {
    for p in PROTOCOLS {
        for w in wides() {
            same_in(&w, p).unwrap();
        }
        same_in(&unions_value(), p).unwrap();
        same_in(
            &HoldsUnion {
                c: Choice::A(1),
                m: HashMap::from([(3, Choice::B("x".into()))]),
            },
            p,
        )
        .unwrap();
    }
}

#[test]
fn unions_encode_identically_under_depth_limits() {
    for p in PROTOCOLS {
        let v = Wide::Again(Box::new(Wide::Again(Box::new(Wide::Leaf(Leaf {
            name: "deep".into(),
            n: None,
        })))));
        for depth in 0..5 {
            let o = opts(p).max_depth(depth);
            let jit = Codec::<Wide>::with_options(o).unwrap();
            let interp = Codec::<Wide>::with_options(o.backend(Backend::Interpreter)).unwrap();
            assert_eq!(
                jit.encode(&v).map_err(|e| e.to_string()),
                interp.encode(&v).map_err(|e| e.to_string())
            );
            let bytes = Codec::<Wide>::with_options(opts(p))
                .unwrap()
                .encode(&v)
                .unwrap();
            assert_eq!(
                jit.decode(&bytes).map_err(|e| e.to_string()),
                interp.decode(&bytes).map_err(|e| e.to_string())
            );
        }
    }
}

#[test]
fn unions_decode_identically_on_good_and_broken_input() {
    let reuse = Unions {
        w: Wide::Leaf(Leaf {
            name: "old".into(),
            n: Some(1),
        }),
        many: vec![Wide::Small(1)],
        maybe: Some(Choice::B("old".into())),
        by_id: BTreeMap::new(),
        after: 1,
    };
    for p in PROTOCOLS {
        let interp = Codec::<Unions>::with_options(opts(p).backend(Backend::Interpreter)).unwrap();
        let bytes = interp.encode(&unions_value()).unwrap();
        same_decode_in(&bytes, p, &reuse);
        for b in broken(&bytes) {
            same_decode_in(&b, p, &reuse);
        }
        let wi = Codec::<Wide>::with_options(opts(p).backend(Backend::Interpreter)).unwrap();
        for w in wides() {
            let bytes = wi.encode(&w).unwrap();
            for b in broken(&bytes) {
                same_decode_in(&b, p, &Wide::Text("old".into()));
            }
        }
    }
}

/// A struct with the ids of a union's members, to make inputs with several, none, unknown or
/// mistyped members.
#[derive(Thrift, Debug, Clone, PartialEq, Default)]
struct Members {
    #[thrift(id = 1)]
    flag: Option<bool>,
    #[thrift(id = 2)]
    small: Option<i8>,
    /// Id 6 is a string in `Wide`: an i32 there is a known id with another wire type.
    #[thrift(id = 6)]
    mistyped: Option<i32>,
    #[thrift(id = 8)]
    leaf: Option<Leaf>,
    #[thrift(id = 99)]
    unknown: Option<String>,
    #[thrift(id = 40)]
    far: Option<i32>,
}

#[test]
fn invalid_unions_fail_identically() {
    let leaf = || {
        Some(Leaf {
            name: "l".into(),
            n: None,
        })
    };
    let cases = [
        Members::default(),
        Members {
            flag: Some(true),
            small: Some(2),
            ..Members::default()
        },
        Members {
            small: Some(2),
            leaf: leaf(),
            far: Some(5),
            ..Members::default()
        },
        Members {
            unknown: Some("u".into()),
            ..Members::default()
        },
        Members {
            mistyped: Some(3),
            ..Members::default()
        },
        Members {
            mistyped: Some(3),
            unknown: Some("u".into()),
            far: Some(1),
            ..Members::default()
        },
        Members {
            leaf: leaf(),
            unknown: Some("u".into()),
            ..Members::default()
        },
    ];
    for p in PROTOCOLS {
        let mi = Codec::<Members>::with_options(opts(p).backend(Backend::Interpreter)).unwrap();
        let jit = Codec::<Wide>::with_options(opts(p)).unwrap();
        let mut errors = 0;
        for m in &cases {
            let bytes = mi.encode(m).unwrap();
            same_decode_in(&bytes, p, &Wide::Num(5));
            for b in broken(&bytes) {
                same_decode_in(&b, p, &Wide::Num(5));
            }
            errors += jit.decode(&bytes).is_err() as usize;
        }
        // No member, two members, three members, only unknown, only mistyped.
        assert_eq!(errors, 5, "{p:?}");
    }
    // The same member twice: a second member too (Binary bytes: bool 1, bool 1, stop).
    let twice = [2, 0, 1, 1, 2, 0, 1, 0, 0];
    same_decode_in(&twice, Protocol::Binary, &Wide::Num(5));
    let e = Codec::<Wide>::new().unwrap().decode(&twice).unwrap_err();
    assert_eq!(e.kind(), dynthrift::ErrorKind::InvalidUnion);
    assert_eq!(e.offset(), Some(4));
    // Compact: bool 1 (short header), again with a long header, stop.
    let twice = [0x11, 0x01, 0x02, 0x00];
    same_decode_in(&twice, Protocol::Compact, &Wide::Num(5));
}

/// Knows ids 2 and 4; keeps the rest.
#[derive(Thrift, Debug, Clone, PartialEq, Default)]
struct Keep {
    #[thrift(id = 2)]
    b: i32,
    #[thrift(id = 4)]
    s: Option<String>,
    #[thrift(unknown_fields)]
    extra: UnknownFields,
}

/// Only fixed-size fields (the Binary encoder writes them in one run) before kept ones.
#[derive(Thrift, Debug, Clone, PartialEq, Default)]
struct KeepFixed {
    #[thrift(id = 2)]
    b: i32,
    #[thrift(id = 3)]
    c: i64,
    #[thrift(unknown_fields)]
    extra: UnknownFields,
}

/// Keeping structs nested, in containers, next to a union.
#[derive(Thrift, Debug, Clone, PartialEq, Default)]
struct Keeps {
    #[thrift(id = 1)]
    one: Keep,
    #[thrift(id = 2)]
    list: Vec<KeepFixed>,
    #[thrift(id = 3)]
    maybe: Option<Box<Keeps>>,
    #[thrift(id = 4)]
    choice: Option<Choice>,
    #[thrift(unknown_fields)]
    extra: UnknownFields,
}

/// What a newer peer sends: `Keep`'s fields and many it does not know (every wire type,
/// bools, far and negative ids, a known id with another type).
#[derive(Thrift, Debug, Clone, PartialEq)]
struct Full {
    #[thrift(id = 1)]
    a: bool,
    #[thrift(id = 2)]
    b: i32,
    #[thrift(id = 3)]
    c: Vec<String>,
    #[thrift(id = 4)]
    s: Option<String>,
    #[thrift(id = 5)]
    u: Choice,
    #[thrift(id = 6)]
    m: BTreeMap<i32, String>,
    #[thrift(id = 7)]
    leaf: Leaf,
    #[thrift(id = 8)]
    t: bool,
    #[thrift(id = 20)]
    far: i64,
    #[thrift(id = 300)]
    very_far: f64,
    #[thrift(id = -2)]
    neg: i16,
    #[thrift(id = 9)]
    small: i8,
    #[thrift(id = 10)]
    id: [u8; 16],
    #[thrift(id = 11)]
    nested: Vec<Vec<Leaf>>,
}

/// `Full` with id 2 a string: for `Keep`, a known id with another wire type.
#[derive(Thrift, Debug, Clone, PartialEq)]
struct Mistyped {
    #[thrift(id = 2)]
    b: String,
    #[thrift(id = 3)]
    c: bool,
    #[thrift(id = 4)]
    s: String,
}

fn full() -> Full {
    Full {
        a: true,
        b: -5,
        c: vec!["x".into(), "yz".into()],
        s: Some("known".into()),
        u: Choice::B("u".into()),
        m: BTreeMap::from([(1, "one".into()), (-1, "minus".into())]),
        leaf: Leaf {
            name: "leaf".into(),
            n: Some(3),
        },
        t: false,
        far: -1 << 33,
        very_far: 0.5,
        neg: -2,
        small: 9,
        id: [3; 16],
        nested: vec![
            vec![],
            vec![Leaf {
                name: "n".into(),
                n: None,
            }],
        ],
    }
}

#[test]
fn unknown_fields_are_kept_identically() {
    let reuse = Keep {
        b: 1,
        s: None,
        extra: UnknownFields {
            bytes: vec![8, 0, 77, 0, 0, 0, 1],
        },
    };
    for p in PROTOCOLS {
        let fi = Codec::<Full>::with_options(opts(p).backend(Backend::Interpreter)).unwrap();
        let jit = Codec::<Keep>::with_options(opts(p)).unwrap();
        let bytes = fi.encode(&full()).unwrap();
        same_decode_in(&bytes, p, &reuse);
        let kept = jit.decode(&bytes).unwrap();
        assert_eq!((kept.b, kept.s.as_deref()), (-5, Some("known")));
        assert!(kept.extra.bytes.len() > 40, "{p:?}: {kept:?}");
        // Re-encoded, in either protocol: the same bytes from both backends, and what a
        // reader of `Full` gets back is the original.
        for q in PROTOCOLS {
            let again = same_in(&kept, q).unwrap();
            let back = Codec::<Full>::with_options(opts(q)).unwrap().decode(&again);
            assert_eq!(back.unwrap(), full(), "{p:?} -> {q:?}");
        }
        for b in broken(&bytes) {
            same_decode_in(&b, p, &reuse);
        }
        // A known id with another wire type is kept too.
        let mi = Codec::<Mistyped>::with_options(opts(p).backend(Backend::Interpreter)).unwrap();
        let bytes = mi
            .encode(&Mistyped {
                b: "not an i32".into(),
                c: true,
                s: "s".into(),
            })
            .unwrap();
        same_decode_in(&bytes, p, &reuse);
        let kept = jit.decode(&bytes).unwrap();
        assert_eq!(kept.b, 0);
        assert!(!kept.extra.bytes.is_empty());
        for b in broken(&bytes) {
            same_decode_in(&b, p, &reuse);
        }
        // Nested keeping structs.
        let fi2 = Codec::<Keeps>::with_options(opts(p)).unwrap();
        let keep_fixed = Codec::<KeepFixed>::with_options(opts(p)).unwrap();
        let nested = Keeps {
            one: kept.clone(),
            list: vec![
                keep_fixed.decode(&fi.encode(&full()).unwrap()).unwrap(),
                KeepFixed::default(),
            ],
            maybe: Some(Box::new(Keeps {
                one: Codec::<Keep>::with_options(opts(p))
                    .unwrap()
                    .decode(&fi.encode(&full()).unwrap())
                    .unwrap(),
                ..Keeps::default()
            })),
            choice: Some(Choice::A(4)),
            extra: UnknownFields {
                bytes: vec![6, 0, 50, 0, 9],
            },
        };
        let bytes = same_in(&nested, p).unwrap();
        assert_eq!(fi2.decode(&bytes).unwrap(), nested);
        for b in broken(&bytes).into_iter().step_by(3) {
            same_decode_in(&b, p, &Keeps::default());
        }
    }
}

#[test]
fn kept_unknown_fields_respect_the_depth_limit() {
    // Kept bytes holding nested structs and lists: converting them to Compact takes depth,
    // and decoding them takes depth in both protocols.
    for p in PROTOCOLS {
        let bytes = Codec::<Full>::with_options(opts(p))
            .unwrap()
            .encode(&full())
            .unwrap();
        let kept = Codec::<Keep>::with_options(opts(p))
            .unwrap()
            .decode(&bytes)
            .unwrap();
        for depth in 0..6 {
            for q in PROTOCOLS {
                let o = opts(q).max_depth(depth);
                let jit = Codec::<Keep>::with_options(o).unwrap();
                let interp = Codec::<Keep>::with_options(o.backend(Backend::Interpreter)).unwrap();
                assert_eq!(
                    jit.encode(&kept).map_err(|e| e.to_string()),
                    interp.encode(&kept).map_err(|e| e.to_string()),
                    "depth {depth} {q:?}"
                );
                assert_eq!(
                    jit.encoded_len(&kept).map_err(|e| e.to_string()),
                    interp.encoded_len(&kept).map_err(|e| e.to_string())
                );
            }
            let o = opts(p).max_depth(depth);
            let jit = Codec::<Keep>::with_options(o).unwrap();
            let interp = Codec::<Keep>::with_options(o.backend(Backend::Interpreter)).unwrap();
            assert_eq!(
                jit.decode(&bytes).map_err(|e| e.to_string()),
                interp.decode(&bytes).map_err(|e| e.to_string()),
                "depth {depth} {p:?}"
            );
        }
    }
}

#[test]
fn kept_bytes_that_do_not_convert_fail_identically() {
    // Kept bytes are Binary: raw in Binary, converted in Compact, where broken ones fail.
    let broken_kept = [
        vec![11, 0, 7, 0, 0, 0, 9, b'a'],
        vec![12, 0, 7, 0],
        vec![99, 0, 1],
        vec![15, 0, 7, 8, 0, 0, 0, 2, 0, 0, 0, 1],
        vec![2, 0, 70, 1, 2, 0, 71, 0, 8, 1, 0, 0, 0, 0, 9],
    ];
    for bytes in broken_kept {
        for p in PROTOCOLS {
            let v = Keep {
                b: 3,
                s: Some("s".into()),
                extra: UnknownFields {
                    bytes: bytes.clone(),
                },
            };
            let _ = same_in(&v, p);
            let f = KeepFixed {
                b: 1,
                c: 2,
                extra: UnknownFields {
                    bytes: bytes.clone(),
                },
            };
            let _ = same_in(&f, p);
        }
    }
}

// Sets and maps are walked by compiled code a batch of entries at a time: an element or entry
// that fails past the first batch is named by its position in the whole walk.

#[derive(Thrift, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Ranked {
    #[thrift(id = 1)]
    rank: i32,
    #[thrift(id = 2, required)]
    tag: Option<String>,
}

#[derive(Thrift, Clone, Debug, PartialEq)]
struct Walked {
    #[thrift(id = 1)]
    set: std::collections::BTreeSet<Ranked>,
    #[thrift(id = 2)]
    by_rank: BTreeMap<Ranked, i64>,
    #[thrift(id = 3)]
    to_ranked: BTreeMap<i32, Ranked>,
    #[thrift(id = 4)]
    hashed: std::collections::HashSet<Ranked>,
}

fn ranked(n: i32, broken: Option<i32>) -> Vec<Ranked> {
    (0..n)
        .map(|rank| Ranked {
            rank,
            tag: (Some(rank) != broken).then(|| format!("r{rank}")),
        })
        .collect()
}

#[test]
fn walk_errors_past_the_first_batch_name_the_entry() {
    let empty = Walked {
        set: Default::default(),
        by_rank: BTreeMap::new(),
        to_ranked: BTreeMap::new(),
        hashed: Default::default(),
    };
    for p in [Protocol::Binary, Protocol::Compact] {
        for (n, broken) in [
            (40, None),
            (40, Some(0)),
            (40, Some(15)),
            (40, Some(16)),
            (40, Some(37)),
        ] {
            let rs = ranked(n, broken);
            let cases = [
                (
                    Walked {
                        set: rs.iter().cloned().collect(),
                        ..empty.clone()
                    },
                    broken.map(|b| format!("Walked.set[{b}].tag")),
                ),
                (
                    Walked {
                        by_rank: rs.iter().cloned().map(|r| (r, 1)).collect(),
                        ..empty.clone()
                    },
                    broken.map(|b| format!("Walked.by_rank<key {b}>.tag")),
                ),
                (
                    Walked {
                        to_ranked: rs.iter().cloned().map(|r| (r.rank, r)).collect(),
                        ..empty.clone()
                    },
                    broken.map(|b| format!("Walked.to_ranked[{b}].tag")),
                ),
                (
                    Walked {
                        hashed: rs.iter().cloned().collect(),
                        ..empty.clone()
                    },
                    None,
                ),
            ];
            for (v, path) in cases {
                let r = same_in(&v, p);
                if let Some(path) = path {
                    let e = r.expect_err("a missing required field");
                    assert!(e.contains(&format!("at {path}:")), "{p:?}: {e}");
                }
            }
        }
    }
}
