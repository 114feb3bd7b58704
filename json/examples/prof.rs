//! Profiling helper: runs the transcoder alone on a benchmark workload, in a loop, for
//! `perf record` or `perf stat` (the bench report is the measurement of record).
//! `cargo run --release -p dynthrift-json --example prof -- [small|medium|large] [binary|compact] [to|from] [iterations]`
use std::hint::black_box;
use std::time::Instant;

use dynthrift::json::Transcoder;
use dynthrift::json::serde::Mapping;
use dynthrift::{DynSchema, DynStruct, Protocol};
use dynthrift_testkit::workloads as tk;

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let w = a.first().map_or("small", |s| s.as_str());
    let proto = if a.get(1).is_some_and(|s| s == "compact") {
        Protocol::Compact
    } else {
        Protocol::Binary
    };
    let dir = a.get(2).map_or("to", |s| s.as_str());
    let iters: usize = a.get(3).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let idl = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/idl/baseline.thrift"
    ))
    .or_else(|_| std::fs::read_to_string("/work/shared/workloads/baseline.thrift"))
    .unwrap();
    let types = DynSchema::new(dynthrift::idl::parse_str(&idl).unwrap()).unwrap();
    let (name, bin) = match w {
        "small" => ("Simple", dynthrift::encode(&tk::simple()).unwrap()),
        "medium" => ("Nesting", dynthrift::encode(&tk::nesting()).unwrap()),
        _ => ("Nesting2", dynthrift::encode(&tk::nesting2()).unwrap()),
    };
    let bytes = DynStruct::decode(&types, name, &bin, Protocol::Binary)
        .unwrap()
        .encode(proto)
        .unwrap();
    let tr = Transcoder::new(&types, name, Mapping::default()).unwrap();
    let json = tr.to_json(&bytes, proto).unwrap();
    let mut out = Vec::with_capacity(json.len() * 2);
    let t = Instant::now();
    for _ in 0..iters {
        out.clear();
        if dir == "to" {
            tr.to_json_prefix(black_box(&bytes), proto, &mut out)
                .unwrap();
        } else {
            tr.from_json_into(black_box(&json), proto, &mut out)
                .unwrap();
        }
        black_box(&out);
    }
    println!(
        "{w} {proto:?} {dir}: {:.1} ns/op",
        t.elapsed().as_nanos() as f64 / iters as f64
    );
}
