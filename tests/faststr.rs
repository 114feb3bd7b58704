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
