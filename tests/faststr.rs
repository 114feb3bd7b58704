//! `faststr::FastStr` string fields (the type Volo users hold): zero-copy from `Bytes`.
#![cfg(feature = "faststr")]

use bytes::Bytes;
use dynthrift::{Codec, Thrift};
use faststr::FastStr;

#[derive(Thrift, Debug, PartialEq, Clone)]
struct Msg {
    #[thrift(id = 1)]
    name: FastStr,
    #[thrift(id = 2)]
    tags: Vec<FastStr>,
    #[thrift(id = 3)]
    body: Bytes,
}

#[test]
fn faststr_roundtrip_and_zero_copy() {
    // Long enough not to be inlined (FastStr keeps short strings inline, by copy).
    let v = Msg {
        name: "héllo, a name long enough to live on the heap".into(),
        tags: vec!["a".into(), FastStr::from_static_str("bc")],
        body: Bytes::from_static(b"\x00\xff"),
    };
    for codec in [
        Codec::<Msg>::new().unwrap(),
        Codec::<Msg>::with_options(dynthrift::Options::compact()).unwrap(),
    ] {
        let bytes = Bytes::from(codec.encode(&v).unwrap());
        let back = codec.decode_bytes(&bytes).unwrap();
        assert_eq!(back, v);
        let range = bytes.as_ptr() as usize..bytes.as_ptr() as usize + bytes.len();
        assert!(
            range.contains(&(back.name.as_ptr() as usize)),
            "FastStr shares the input"
        );
        assert!(
            range.contains(&(back.body.as_ptr() as usize)),
            "Bytes shares the input"
        );
        // From a plain slice the strings are owned copies, and still equal.
        assert_eq!(codec.decode(&bytes).unwrap(), v);
    }
    let bad = Codec::<Msg>::new()
        .unwrap()
        .encode(&Msg {
            name: "x".into(),
            tags: vec![],
            body: Bytes::new(),
        })
        .unwrap();
    let mut bad = bad.to_vec();
    let at = bad.iter().position(|&b| b == b'x').unwrap();
    bad[at] = 0xff;
    let e = Codec::<Msg>::new()
        .unwrap()
        .decode_bytes(&Bytes::from(bad))
        .unwrap_err();
    assert_eq!(e.kind(), dynthrift::ErrorKind::InvalidUtf8);
    assert_eq!(e.path(), "Msg.name");
}

/// Every form a `FastStr` can take (inline, shared view, static, `Arc<str>`, `Arc<String>`,
/// empty) encodes the same on both backends, both protocols (the JIT reads the common forms
/// inline and hands the others to a helper).
#[test]
fn every_faststr_form_encodes_like_the_interpreter() {
    use std::sync::Arc;
    let long = "a string long enough not to be inlined, \u{e9}\u{e9}".to_string();
    let forms = [
        FastStr::empty(),
        FastStr::new("short"),
        FastStr::new(&long),
        FastStr::from_static_str("a static string, long enough not to be inlined"),
        FastStr::from_arc_str(Arc::from(long.as_str())),
        FastStr::from_arc_string(Arc::new(long.clone())),
        FastStr::from_string(long.clone()),
        FastStr::from_bytes(
            Bytes::from(format!("xx{long}yy").into_bytes()).slice(2..long.len() + 2),
        )
        .unwrap(),
    ];
    for options in [dynthrift::Options::default(), dynthrift::Options::compact()] {
        let jit = Codec::<Msg>::with_options(options).unwrap();
        let interp =
            Codec::<Msg>::with_options(options.backend(dynthrift::Backend::Interpreter)).unwrap();
        for (i, name) in forms.iter().enumerate() {
            let v = Msg {
                name: name.clone(),
                tags: forms.to_vec(),
                body: Bytes::new(),
            };
            let a = jit.encode(&v).unwrap();
            assert_eq!(a, interp.encode(&v).unwrap(), "form {i}");
            assert_eq!(jit.encoded_len(&v).unwrap(), a.len(), "form {i}");
            assert_eq!(jit.decode(&a).unwrap(), v, "form {i}");
        }
    }
}

/// Many long strings decoded from `Bytes` all view the input (the first through its own
/// view, the others through one view made per call), on both backends, both protocols; short
/// ones are inline copies.
#[test]
fn every_long_string_shares_the_input() {
    use dynthrift::{Backend, Options};
    let long = |i: usize| FastStr::from(format!("string number {i}, long enough to be shared"));
    let v = Msg {
        name: long(0),
        tags: (1..6).map(long).chain(["short".into()]).collect(),
        body: Bytes::from_static(b"body"),
    };
    for backend in [Backend::Interpreter, Backend::Auto] {
        for options in [Options::binary(), Options::compact()] {
            let codec = Codec::<Msg>::with_options(options.backend(backend)).unwrap();
            let bytes = Bytes::from(codec.encode(&v).unwrap());
            let back = codec.decode_bytes(&bytes).unwrap();
            assert_eq!(back, v);
            let range = bytes.as_ptr() as usize..bytes.as_ptr() as usize + bytes.len();
            let shared = |s: &FastStr| range.contains(&(s.as_ptr() as usize));
            assert!(shared(&back.name), "{backend:?}: name");
            for t in &back.tags[..5] {
                assert!(shared(t), "{backend:?}: {t}");
            }
            assert!(
                !shared(&back.tags[5]),
                "{backend:?}: short strings are copied"
            );
            // The strings outlive the decoded value's siblings and the input handle.
            let tags = back.tags.clone();
            drop(back);
            drop(bytes);
            assert_eq!(tags, v.tags);
        }
    }
}

/// Lists of `FastStr` (made in the vector's spare capacity by the JIT's helper) decode as the
/// interpreter decodes them, from `Bytes` (shared) and from a slice (copied), whole, cut and
/// corrupted, including what a failed `decode_into` leaves.
#[cfg(feature = "jit")]
#[test]
fn faststr_lists_decode_like_the_interpreter() {
    use dynthrift::{Backend, Options};
    let v = Msg {
        name: "n".into(),
        tags: (0..12)
            .map(|i| FastStr::from(format!("tag {i} {}", "\u{e9}".repeat(i * 3))))
            .collect(),
        body: Bytes::from_static(b"b"),
    };
    for options in [Options::binary(), Options::compact()] {
        let jit = Codec::<Msg>::with_options(options).unwrap();
        let interp = Codec::<Msg>::with_options(options.backend(Backend::Interpreter)).unwrap();
        let bytes = interp.encode(&v).unwrap();
        let check = |b: &[u8]| {
            let shared = Bytes::copy_from_slice(b);
            let a = jit.decode_bytes(&shared).map_err(|e| e.to_string());
            assert_eq!(a, interp.decode_bytes(&shared).map_err(|e| e.to_string()));
            let a = jit.decode(b).map_err(|e| e.to_string());
            assert_eq!(a, interp.decode(b).map_err(|e| e.to_string()));
            let (mut x, mut y) = (v.clone(), v.clone());
            let rx = jit.decode_into(b, &mut x).map_err(|e| e.to_string());
            assert_eq!(rx, interp.decode_into(b, &mut y).map_err(|e| e.to_string()));
            assert_eq!(x, y);
        };
        check(&bytes);
        for cut in 0..bytes.len() {
            check(&bytes[..cut]);
        }
        for at in 0..bytes.len() {
            for x in [0x01, 0x80, 0xc3] {
                let mut b = bytes.clone();
                b[at] ^= x;
                check(&b);
            }
        }
    }
}
