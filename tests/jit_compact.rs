//! The JIT's Compact protocol against the interpreter: byte-identical encodings, equal
//! `encoded_len`, equal values, and equal errors (kind, path, offset, message) on truncated
//! and corrupted input; derived types and IDL-only records.
#![cfg(feature = "jit")]

use dynthrift::{Backend, BackendInfo, Codec, Describe, DynCodec, DynSchema, Options, Thrift};
use dynthrift_testkit::shapes::*;
use dynthrift_testkit::workloads;
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
    let a = jit.encode(v).map_err(|e| e.to_string());
    let b = interp.encode(v).map_err(|e| e.to_string());
    assert_eq!(a, b);
    assert_eq!(
        jit.encoded_len(v).map_err(|e| e.to_string()),
        interp.encoded_len(v).map_err(|e| e.to_string())
    );
    let mut out = vec![0xAA; 3];
    out.shrink_to_fit();
    match (jit.write(v, &mut out), &b) {
        (Ok(()), Ok(bytes)) => assert_eq!(&out[3..], &bytes[..]),
        (Err(_), Err(_)) => assert_eq!(out, vec![0xAA; 3]),
        (r, _) => panic!("write and encode disagree: {r:?} vs {b:?}"),
    }
    b.unwrap_or_default()
}

fn same_decode_with<T: Describe + PartialEq + std::fmt::Debug>(bytes: &[u8], options: Options) {
    let (jit, interp) = both::<T>(options);
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
