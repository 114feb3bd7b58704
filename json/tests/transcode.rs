//! The transcoder on the benchmark workloads (baseline.thrift) against the tree path
//! (`DynStruct` + serde), both directions, both protocols, with every mapping option.

use std::sync::Arc;

use dynthrift::json::Transcoder;
use dynthrift::json::serde::{Mapped, Mapping, from_json_str};
use dynthrift::{DynSchema, DynStruct, Protocol};
use dynthrift_testkit::{testdata, workloads as tk};

fn types() -> Arc<DynSchema> {
    let schema = dynthrift::idl::parse_file(testdata("idl/frugal/tests/baseline.thrift")).unwrap();
    DynSchema::new(schema).unwrap()
}

fn samples() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("Simple", dynthrift::encode(&tk::simple()).unwrap()),
        ("Nesting", dynthrift::encode(&tk::nesting()).unwrap()),
        ("Nesting2", dynthrift::encode(&tk::nesting2()).unwrap()),
    ]
}

fn mappings() -> Vec<Mapping> {
    vec![
        Mapping::default(),
        Mapping::default().field_ids(true),
        Mapping::default().i64_as_string(true),
        Mapping::default().enum_names(true),
        Mapping::default()
            .field_ids(true)
            .i64_as_string(true)
            .enum_names(true),
    ]
}

fn to_compact(types: &Arc<DynSchema>, name: &str, bin: &[u8]) -> Vec<u8> {
    DynStruct::decode(types, name, bin, Protocol::Binary)
        .unwrap()
        .encode(Protocol::Compact)
        .unwrap()
}

#[test]
fn workloads_agree_with_the_tree_path() {
    let types = types();
    for (name, bin) in samples() {
        let compact = to_compact(&types, name, &bin);
        for m in mappings() {
            let t = Transcoder::new(&types, name, m.clone()).unwrap();
            for (protocol, bytes) in [(Protocol::Binary, &bin), (Protocol::Compact, &compact)] {
                // Thrift → JSON: byte-identical to serde_json over the decoded value.
                let ours = t.to_json(bytes, protocol).unwrap();
                let tree = DynStruct::decode(&types, name, bytes, protocol).unwrap();
                let theirs = serde_json::to_string(&Mapped::new(tree.view(), &m)).unwrap();
                assert_eq!(ours, theirs, "{name} {protocol:?} {m:?}");
                // JSON → Thrift: the same bytes as the tree path (fields are in declaration
                // order in this JSON, so the encodings match byte for byte).
                let back = t.from_json(&ours, protocol).unwrap();
                let tree_back = from_json_str(&types, name, &ours, &m)
                    .unwrap()
                    .encode(protocol)
                    .unwrap();
                assert_eq!(back, tree_back, "{name} {protocol:?} {m:?}");
                assert_eq!(&back, bytes, "{name} {protocol:?} {m:?}: roundtrip");
            }
        }
    }
}
