//! `DynCodec`, the facade for IDL-only values: its API on the benchmark workloads (bytes equal
//! to the derived types'), options (limits, trailing bytes), wrong-struct values, and the
//! backend it reports.

use std::sync::{Arc, OnceLock};

use dynthrift::{
    Backend, BackendInfo, Codec, DynCodec, DynSchema, DynStruct, ErrorKind, Options, Protocol,
};
use dynthrift_testkit::testdata;
use dynthrift_testkit::workloads;

fn baseline() -> &'static Arc<DynSchema> {
    static TYPES: OnceLock<Arc<DynSchema>> = OnceLock::new();
    TYPES.get_or_init(|| {
        let path = testdata("idl/frugal/tests/baseline.thrift");
        DynSchema::new(dynthrift::idl::parse_file(path).unwrap()).unwrap()
    })
}

fn assert_send_sync_clone<T: Send + Sync + Clone>() {}

#[test]
fn is_send_sync_clone() {
    assert_send_sync_clone::<DynCodec>();
}

fn options() -> [Options; 4] {
    [
        Options::binary(),
        Options::compact(),
        Options::binary().backend(Backend::Interpreter),
        Options::compact().backend(Backend::Interpreter),
    ]
}

#[test]
fn workloads_roundtrip_with_derived_bytes() {
    let samples: [(&str, Vec<u8>, Vec<u8>); 3] = [
        (
            "Simple",
            dynthrift::encode(&workloads::simple()).unwrap(),
            dynthrift::encode_compact(&workloads::simple()).unwrap(),
        ),
        (
            "Nesting",
            dynthrift::encode(&workloads::nesting()).unwrap(),
            dynthrift::encode_compact(&workloads::nesting()).unwrap(),
        ),
        (
            "Nesting2",
            dynthrift::encode(&workloads::nesting2()).unwrap(),
            dynthrift::encode_compact(&workloads::nesting2()).unwrap(),
        ),
    ];
    for (name, binary, compact) in &samples {
        for options in options() {
            let codec = DynCodec::new(baseline(), name, options).unwrap();
            let bytes = match options.protocol {
                Protocol::Binary => binary,
                Protocol::Compact => compact,
            };
            let v = codec.decode(bytes).unwrap();
            assert_eq!(v.name(), *name);
            let again = codec.encode(&v).unwrap();
            assert_eq!(codec.encoded_len(&v).unwrap(), again.len());
            // Maps of derived values iterate in hash order: compare by decoding again.
            assert_eq!(again.len(), bytes.len(), "{name} {options:?}");
            assert_eq!(codec.decode(&again).unwrap(), v);
            // The same as the value's own methods.
            assert_eq!(again, v.encode(options.protocol).unwrap());
            let mut out = vec![9];
            codec.encode_into(&v, &mut out).unwrap();
            assert_eq!(&out[1..], &again[..]);
            // Prefix, skip, trailing bytes.
            let mut longer = again.clone();
            longer.extend_from_slice(&[1, 2, 3]);
            let (p, used) = codec.decode_prefix(&longer).unwrap();
            assert_eq!((used, &p), (again.len(), &v));
            assert_eq!(codec.skip(&longer).unwrap(), again.len());
            let e = codec.decode(&longer).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidData);
            let lenient = DynCodec::new(baseline(), name, options.allow_trailing(true)).unwrap();
            assert_eq!(lenient.decode(&longer).unwrap(), v);
        }
    }
}

#[test]
fn simple_bytes_equal_derived_exactly() {
    // Simple has no maps, so its bytes are deterministic.
    for options in options() {
        let derived = Codec::<workloads::Simple>::with_options(options).unwrap();
        let bytes = derived.encode(&workloads::simple()).unwrap();
        let codec = DynCodec::new(baseline(), "Simple", options).unwrap();
        let v = codec.decode(&bytes).unwrap();
        assert_eq!(codec.encode(&v).unwrap(), bytes);
    }
}

#[test]
fn limits_apply() {
    let bytes = dynthrift::encode(&workloads::nesting()).unwrap();
    let codec = DynCodec::new(baseline(), "Nesting", Options::binary().max_depth(1)).unwrap();
    assert_eq!(
        codec.decode(&bytes).unwrap_err().kind(),
        ErrorKind::DepthLimit
    );
    let full = DynCodec::new(baseline(), "Nesting", Options::binary()).unwrap();
    let v = full.decode(&bytes).unwrap();
    assert_eq!(codec.encode(&v).unwrap_err().kind(), ErrorKind::DepthLimit);
    assert_eq!(
        codec.encoded_len(&v).unwrap_err().kind(),
        ErrorKind::DepthLimit
    );
    let short = DynCodec::new(baseline(), "Nesting", Options::binary().max_string_len(10)).unwrap();
    let e = short.decode(&bytes).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LengthLimit);
    assert_eq!(e.path(), "Nesting.String");
    let few = DynCodec::new(
        baseline(),
        "Nesting",
        Options::binary().max_container_len(3),
    )
    .unwrap();
    let e = few.decode(&bytes).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LengthLimit);
    assert_eq!(e.path(), "Nesting.ListSimple");
}

#[test]
fn wrong_struct_and_unknown_name() {
    let codec = DynCodec::new(baseline(), "Simple", Options::binary()).unwrap();
    let other = DynStruct::new(baseline(), "Nesting").unwrap();
    assert!(codec.encode(&other).is_err());
    assert!(codec.encoded_len(&other).is_err());
    let mut other = other;
    assert!(codec.decode_into(&[0], &mut other).is_err());
    assert!(DynCodec::new(baseline(), "NoSuchStruct", Options::binary()).is_err());
    // The same struct of another (equal) schema is a different schema.
    let path = testdata("idl/frugal/tests/baseline.thrift");
    let again = DynSchema::new(dynthrift::idl::parse_file(path).unwrap()).unwrap();
    let foreign = DynStruct::new(&again, "Simple").unwrap();
    assert!(codec.encode(&foreign).is_err());
}

#[test]
fn truncated_input_errors_match_struct_decode() {
    let bytes = dynthrift::encode(&workloads::nesting()).unwrap();
    let codec = DynCodec::new(baseline(), "Nesting", Options::binary()).unwrap();
    for cut in [0, 1, 5, 100, 1000, bytes.len() - 1] {
        let got = codec.decode(&bytes[..cut]).unwrap_err();
        let want =
            DynStruct::decode(baseline(), "Nesting", &bytes[..cut], Protocol::Binary).unwrap_err();
        assert_eq!(
            (got.kind(), got.path()),
            (want.kind(), want.path()),
            "cut {cut}"
        );
    }
}

#[test]
fn backend_reports_reason() {
    let codec = DynCodec::new(
        baseline(),
        "Simple",
        Options::binary().backend(Backend::Interpreter),
    )
    .unwrap();
    assert_eq!(
        codec.backend(),
        BackendInfo::Interpreter("the interpreter was chosen in the options".into())
    );
}
