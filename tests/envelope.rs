//! Message envelope pass-through (`dynthrift::envelope`): parse, rewrite (new Vec, in a
//! `BytesMut`, seqid in place) for Binary strict, Binary non-strict and Compact headers; the
//! payload is never changed; truncated and hostile headers are errors.

use bytes::BytesMut;
use dynthrift::envelope::{self, Envelope, Format, Header};
use dynthrift::{Codec, ErrorKind, Options, Protocol, TMessageType};
use dynthrift_testkit::workloads::{self, Simple};

fn message(format: Format, name: &str, seqid: i32) -> (Vec<u8>, Vec<u8>) {
    let options = match format {
        Format::BinaryStrict => Options::binary(),
        Format::BinaryNonStrict => Options::binary().binary_non_strict(true),
        Format::Compact => Options::compact(),
    };
    let codec = Codec::<Simple>::with_options(options).unwrap();
    let v = workloads::simple();
    let mut out = Vec::new();
    codec
        .encode_message(name, TMessageType::Call, seqid, &v, &mut out)
        .unwrap();
    (out, codec.encode(&v).unwrap())
}

const FORMATS: [Format; 3] = [
    Format::BinaryStrict,
    Format::BinaryNonStrict,
    Format::Compact,
];

#[test]
fn parse_finds_the_header_and_the_payload() {
    for f in FORMATS {
        let (msg, payload) = message(f, "getUser", 300);
        let e = Envelope::parse(&msg, f.protocol()).unwrap();
        assert_eq!(e.name, "getUser");
        assert_eq!(e.kind, TMessageType::Call);
        assert_eq!(e.seqid, 300);
        assert_eq!(e.format, f);
        assert_eq!(e.payload(&msg), payload.as_slice());
        assert_eq!(e.payload_offset, e.to_header().encoded_len());
        assert_eq!(Envelope::detect(&msg).unwrap(), e);
    }
}

#[test]
fn rewrite_changes_the_header_and_keeps_the_payload() {
    for f in FORMATS {
        let (msg, payload) = message(f, "getUser", 7);
        let out = envelope::rewrite(&msg, f.protocol(), |h| {
            h.name = "svc:getUser".into();
            h.seqid = -123_456;
            h.kind = TMessageType::Oneway;
        })
        .unwrap();
        let e = Envelope::parse(&out, f.protocol()).unwrap();
        assert_eq!(
            (e.name, e.kind, e.seqid, e.format),
            ("svc:getUser", TMessageType::Oneway, -123_456, f)
        );
        assert_eq!(e.payload(&out), payload.as_slice());
        // The typed codec reads the rewritten message.
        let options = match f {
            Format::Compact => Options::compact(),
            _ => Options::binary(),
        };
        let (h, v) = Codec::<Simple>::with_options(options)
            .unwrap()
            .decode_message(&out)
            .unwrap();
        assert_eq!((h.name, h.seqid), ("svc:getUser", -123_456));
        assert_eq!(v, workloads::simple());
        // Writing the parsed header again gives the same bytes.
        let mut again = Vec::new();
        Envelope::parse(&msg, f.protocol())
            .unwrap()
            .to_header()
            .write(&mut again)
            .unwrap();
        assert_eq!(again, msg[..again.len()]);
    }
}

#[test]
fn binary_headers_switch_between_strict_and_old_forms() {
    let (msg, payload) = message(Format::BinaryStrict, "m", 1);
    let out = envelope::rewrite(&msg, Protocol::Binary, |h| {
        h.format = Format::BinaryNonStrict
    })
    .unwrap();
    let e = Envelope::parse(&out, Protocol::Binary).unwrap();
    assert_eq!(
        (e.name, e.seqid, e.format),
        ("m", 1, Format::BinaryNonStrict)
    );
    assert_eq!(e.payload(&out), payload.as_slice());
    let err =
        envelope::rewrite(&msg, Protocol::Binary, |h| h.format = Format::Compact).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidValue);
    assert_eq!(
        err.to_string(),
        "encode error: cannot change a BinaryStrict header to Compact: the payload would keep its protocol"
    );
}

#[test]
fn bytes_mut_rewrite_reuses_the_buffer_when_the_header_shrinks() {
    for f in FORMATS {
        let (msg, payload) = message(f, "a_long_method_name", 99);
        let mut buf = BytesMut::from(&msg[..]);
        let payload_ptr = buf[msg.len() - payload.len()..].as_ptr();
        let h = envelope::rewrite_bytes_mut(&mut buf, f.protocol(), |h| h.name = "short".into())
            .unwrap();
        assert_eq!(h.name, "short");
        let e = Envelope::parse(&buf, f.protocol()).unwrap();
        assert_eq!((e.name, e.seqid), ("short", 99));
        assert_eq!(e.payload(&buf), payload.as_slice());
        // Same memory: the payload was not moved.
        assert_eq!(e.payload(&buf).as_ptr(), payload_ptr, "{f:?}");

        // Growing the header rebuilds the buffer.
        envelope::rewrite_bytes_mut(&mut buf, f.protocol(), |h| {
            h.name = "a much longer method name than before".into();
            h.seqid = i32::MIN;
        })
        .unwrap();
        let e = Envelope::parse(&buf, f.protocol()).unwrap();
        assert_eq!(
            (e.name, e.seqid),
            ("a much longer method name than before", i32::MIN)
        );
        assert_eq!(e.payload(&buf), payload.as_slice());
    }
}

#[test]
fn seqids_are_patched_in_place() {
    for f in FORMATS {
        let (mut msg, payload) = message(f, "m", 1_000_000);
        for seqid in [5, 0, 200_000, 1_000_000, 2_000_000] {
            envelope::patch_seqid(&mut msg, f.protocol(), seqid).unwrap();
            let e = Envelope::parse(&msg, f.protocol()).unwrap();
            assert_eq!((e.name, e.seqid), ("m", seqid), "{f:?}");
            assert_eq!(e.payload(&msg), payload.as_slice());
        }
        let r = envelope::patch_seqid(&mut msg, f.protocol(), -1);
        if f == Format::Compact {
            // -1 is a 5-byte varint; the header has 3.
            let e = r.unwrap_err();
            assert_eq!(
                e.to_string(),
                "encode error: seqid -1 needs 5 varint bytes, the header has 3: rewrite the header"
            );
        } else {
            r.unwrap();
            assert_eq!(Envelope::parse(&msg, f.protocol()).unwrap().seqid, -1);
        }
    }
}

#[test]
fn a_header_without_payload_parses() {
    for f in FORMATS {
        let h = Header {
            name: String::new(),
            kind: TMessageType::Reply,
            seqid: 0,
            format: f,
        };
        let mut out = Vec::new();
        h.write(&mut out).unwrap();
        let e = Envelope::parse(&out, f.protocol()).unwrap();
        assert_eq!((e.name, e.kind), ("", TMessageType::Reply));
        assert!(e.payload(&out).is_empty());
    }
}

#[test]
fn truncated_and_hostile_headers_are_errors() {
    for f in FORMATS {
        let (msg, _) = message(f, "getUser", 300);
        let header_len = Envelope::parse(&msg, f.protocol()).unwrap().payload_offset;
        for cut in 0..header_len {
            let e = Envelope::parse(&msg[..cut], f.protocol()).unwrap_err();
            assert!(
                matches!(
                    e.kind(),
                    ErrorKind::UnexpectedEof | ErrorKind::LengthLimit | ErrorKind::InvalidMessage
                ),
                "{f:?} cut {cut}: {e}"
            );
            assert!(envelope::rewrite(&msg[..cut], f.protocol(), |h| h.seqid = 1).is_err());
            let mut b = msg[..cut].to_vec();
            assert!(envelope::patch_seqid(&mut b, f.protocol(), 1).is_err());
            let mut bm = BytesMut::from(&msg[..cut]);
            assert!(envelope::rewrite_bytes_mut(&mut bm, f.protocol(), |_| ()).is_err());
        }
        // Every single-byte change of the header: an error or a header, never a panic.
        for at in 0..header_len {
            for m in dynthrift_testkit::hostile::BYTE_MUTATIONS {
                if let Some(b) = dynthrift_testkit::hostile::mutate(&msg, at, m) {
                    if let Ok(e) = Envelope::parse(&b, f.protocol()) {
                        assert!(e.payload_offset <= b.len());
                    }
                    let _ = envelope::rewrite(&b, f.protocol(), |h| h.seqid = 9);
                }
            }
        }
    }
    let strict = |v: &[u8]| {
        Envelope::parse(v, Protocol::Binary)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        strict(&[0x80, 0x02, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
        "decode error: bad protocol version 0x80020000 (offset 0)"
    );
    assert_eq!(
        strict(&[0x80, 0x01, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0]),
        "decode error: unknown message type 9 (offset 3)"
    );
    // A name length larger than the input: no allocation, an error.
    assert_eq!(
        strict(&[0x80, 0x01, 0, 1, 0x7f, 0xff, 0xff, 0xff, b'a']),
        "decode error: declared 2147483647 bytes but only 1 remain (offset 4)"
    );
    assert_eq!(
        strict(&[0x80, 0x01, 0, 1, 0, 0, 0, 1, 0xff, 0, 0, 0, 0]),
        "decode error: message name is not utf-8 (offset 8)"
    );
    let compact = |v: &[u8]| {
        Envelope::parse(v, Protocol::Compact)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        compact(&[0x81, 0x21, 0, 0]),
        "decode error: bad protocol id 0x81 (offset 0)"
    );
    assert_eq!(
        compact(&[0x82, 0x22, 0, 0]),
        "decode error: bad version 2 (offset 1)"
    );
    assert_eq!(
        compact(&[
            0x82, 0x21, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01
        ]),
        "decode error: varint longer than 10 bytes (offset 2)"
    );
}
