//! JSON transcoding rows of the report: the `dynthrift-json` transcoder (Thrift bytes ↔ JSON
//! text directly) against the tree path (decode to `DynStruct` + serde_json, and serde_json +
//! `DeserializeSeed` to `DynStruct` + encode), on the small/medium/large workloads of
//! `baseline.thrift`, both protocols. Every output is checked equal before timing.

use std::hint::black_box;

use dynthrift::json::Transcoder;
use dynthrift::json::serde::{Mapped, Mapping, from_json_str};
use dynthrift::{DynStruct, Limits, Protocol};
use dynthrift_benches::measure::{self, Plan};
use dynthrift_benches::table::{self, Table};
use dynthrift_testkit::workloads as tk;

use super::Schemas;

pub fn report(schemas: &Schemas, plan: &Plan) -> Table {
    let types = &schemas.baseline;
    let mut t = Table::new([
        "workload",
        "direction",
        "JSON bytes",
        "transcoder",
        "tree + serde_json",
        "speed-up",
    ]);
    let workloads = [
        (
            "small",
            "Simple",
            dynthrift::encode(&tk::simple()).expect("encode"),
        ),
        (
            "medium",
            "Nesting",
            dynthrift::encode(&tk::nesting()).expect("encode"),
        ),
        (
            "large",
            "Nesting2",
            dynthrift::encode(&tk::nesting2()).expect("encode"),
        ),
    ];
    let mapping = Mapping::default();
    for protocol in [Protocol::Binary, Protocol::Compact] {
        for (label, name, binary) in &workloads {
            let bytes = DynStruct::decode(types, name, binary, Protocol::Binary)
                .and_then(|v| v.encode(protocol))
                .expect("re-encode");
            let tr = Transcoder::new(types, name, mapping.clone()).expect("transcoder");
            // Checks: both paths give the same JSON, and the same bytes back.
            let json = tr.to_json(&bytes, protocol).expect("to_json");
            let tree = DynStruct::decode(types, name, &bytes, protocol).expect("decode");
            let tree_json =
                serde_json::to_string(&Mapped::new(tree.view(), &mapping)).expect("serde_json");
            assert_eq!(
                json, tree_json,
                "{label}: transcoder and tree path disagree"
            );
            let back = tr.from_json(&json, protocol).expect("from_json");
            let tree_back = from_json_str(types, name, &json, &mapping)
                .and_then(|v| v.encode(protocol))
                .expect("tree from json");
            assert_eq!(back, bytes, "{label}: transcoder JSON → Thrift differs");
            assert_eq!(tree_back, bytes, "{label}: tree JSON → Thrift differs");

            let mut out = Vec::with_capacity(json.len() * 2);
            let mut ours_to = || {
                out.clear();
                tr.to_json_prefix(black_box(&bytes), protocol, &mut out)
                    .expect("to_json");
                black_box(&out);
            };
            let mut out2 = Vec::with_capacity(json.len() * 2);
            let mut tree_to = || {
                out2.clear();
                let v =
                    DynStruct::decode(types, name, black_box(&bytes), protocol).expect("decode");
                serde_json::to_writer(&mut out2, &Mapped::new(v.view(), &mapping)).expect("json");
                black_box(&out2);
            };
            let to = measure::measure_group(&mut [&mut ours_to, &mut tree_to], plan);
            let mut out3 = Vec::with_capacity(bytes.len() * 2);
            let mut ours_from = || {
                out3.clear();
                tr.from_json_into(black_box(&json), protocol, &mut out3)
                    .expect("from_json");
                black_box(&out3);
            };
            let mut out4 = Vec::with_capacity(bytes.len() * 2);
            let limits = Limits::default();
            let mut tree_from = || {
                out4.clear();
                let v = from_json_str(types, name, black_box(&json), &mapping).expect("tree");
                v.encode_into(&mut out4, protocol, &limits).expect("encode");
                black_box(&out4);
            };
            let from = measure::measure_group(&mut [&mut ours_from, &mut tree_from], plan);
            let proto = match protocol {
                Protocol::Binary => "",
                Protocol::Compact => " compact",
            };
            for (dir, s) in [("Thrift → JSON", &to), ("JSON → Thrift", &from)] {
                t.row([
                    format!("{label}{proto} ({} B)", bytes.len()),
                    dir.to_string(),
                    json.len().to_string(),
                    table::time(s[0].median_ns),
                    table::time(s[1].median_ns),
                    format!("{:.1}×", s[1].median_ns / s[0].median_ns),
                ]);
            }
        }
    }
    t
}
