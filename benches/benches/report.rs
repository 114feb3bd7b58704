//! The benchmark report: every implementation on every workload, in one process, printed as
//! markdown tables (time, ratios to pilota, Apache and memcpy, allocations per operation).
//!
//! `cargo bench -p dynthrift-benches --bench report` (about 2–3 minutes of measuring);
//! quick mode, for CI (checks everything, times little): `-- --quick` or
//! `DYNTHRIFT_BENCH_QUICK=1`; only the JSON transcoding table: `-- --only-json`; only the JIT
//! against the interpreter on container shapes: `-- --only-shapes`. Method: see
//! `dynthrift_benches::measure`.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::{BACKENDS, Direction, Group, ROWS};
use dynthrift::{Codec, DynSchema, Protocol};
use dynthrift_benches::alloc::{self, Allocs, CountingAlloc};
use dynthrift_benches::measure::{self, Plan, Stats};
use dynthrift_benches::table::{self, Table};
use dynthrift_testkit::workloads as tk;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

struct Measured {
    workload: String,
    direction: Direction,
    protocol: Protocol,
    bytes: usize,
    rows: Vec<(&'static str, Stats, Allocs)>,
}

fn main() {
    // `cargo bench` passes `--bench`; criterion's `--test` means the same as `--quick` here.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick" || a == "--test")
        || std::env::var("DYNTHRIFT_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    let plan = if quick { Plan::QUICK } else { Plan::FULL };
    if args.iter().any(|a| a == "--only-json") {
        // Just the JSON transcoding table (checks included).
        let schemas = common::Schemas::load();
        println!("{}", common::json::report(&schemas, &plan).render());
        return;
    }
    if args.iter().any(|a| a == "--only-shapes") {
        println!("{}", common::shapes::report(quick).render());
        return;
    }
    let started = Instant::now();
    let load_before = loadavg();

    // First, before anything else builds a codec: the cold cost of getting one.
    let latency = compile_latency();

    let schemas = common::Schemas::load();
    let mut groups = common::groups(&schemas);
    // Narrow runs while working: `DYNTHRIFT_BENCH_GROUPS=decode/medium,encode/*` keeps the
    // groups with one of these ids (`*` at the end: ids starting so); `DYNTHRIFT_BENCH_ROWS=jit,pilota` keeps the
    // rows named exactly so (checks still run on every row); `DYNTHRIFT_BENCH_ONLY_TABLES=1`
    // skips the path and JSON tables.
    let parts = |var: &str| -> Option<Vec<String>> {
        std::env::var(var)
            .ok()
            .filter(|v| !v.is_empty())
            .map(|v| v.split(',').map(str::to_string).collect())
    };
    if let Some(keep) = parts("DYNTHRIFT_BENCH_GROUPS") {
        groups.retain(|g| {
            let id = g.id();
            keep.iter().any(|k| match k.strip_suffix('*') {
                Some(prefix) => id.starts_with(prefix),
                None => id == *k,
            })
        });
    }
    if let Some(keep) = parts("DYNTHRIFT_BENCH_ROWS") {
        for g in &mut groups {
            g.benches.retain(|b| keep.iter().any(|k| k == b.name));
        }
    }
    let only_tables = std::env::var("DYNTHRIFT_BENCH_ONLY_TABLES").is_ok_and(|v| v == "1");
    let benches: usize = groups.iter().map(|g| g.benches.len()).sum();
    eprintln!(
        "checked {benches} operations in {} groups against the reference; measuring{}",
        groups.len(),
        if quick { " (quick mode)" } else { "" }
    );

    let mut results = Vec::new();
    for group in groups {
        eprintln!("  {}", group.id());
        results.push(run(group, &plan));
    }
    let elapsed = started.elapsed();
    let load_after = loadavg();

    println!(
        "# dynthrift benchmark report{}\n",
        if quick {
            " (QUICK MODE: times are not meaningful)"
        } else {
            ""
        }
    );
    println!(
        "{} cores, load average {load_before} before / {load_after} after; checks and \
         measurements took {:.0} s.\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        elapsed.as_secs_f64()
    );
    println!(
        "Method: per workload and direction, every implementation is warmed up for {} ms and \
         calibrated so that one sample lasts about {} ms; then {} rounds each take one sample \
         of every implementation in turn. Time = median over samples of the time per \
         operation; ± = interquartile range / median. Ratios are this row's time over the \
         baseline's in the same group (below 1: faster). Allocations: calls to alloc/realloc \
         per operation after one warm-up run (decode counts building the value; the value is \
         dropped inside the timed operation).\n",
        plan.warmup.as_millis(),
        plan.sample.as_millis(),
        plan.samples
    );
    for direction in [Direction::Encode, Direction::Decode] {
        println!("## {}\n", direction.name());
        println!("{}", results_table(&results, direction).render());
    }
    if only_tables {
        println!("## Getting a codec (cold, first use in the process)\n");
        println!("{}", latency.render());
        return;
    }
    println!("## Access by path (`dynthrift::path`, one value out of / into the encoded bytes)\n");
    println!(
        "{}",
        common::path::report(&schemas.baseline, quick).render()
    );
    eprintln!("  container shapes");
    println!(
        "## The JIT against the interpreter on container shapes (one field each; ratio below 1: \
         the JIT is faster)\n"
    );
    println!("{}", common::shapes::report(quick).render());
    eprintln!("  json transcoding");
    println!("## JSON transcoding (transcoder vs decode to DynStruct + serde_json, and back)\n");
    println!("{}", common::json::report(&schemas, &plan).render());
    println!("## Getting a codec (cold, first use in the process)\n");
    println!("{}", latency.render());
    println!("Rows: {}.", ROW_HELP.join("; "));
    let spreads: Vec<f64> = results
        .iter()
        .flat_map(|m| m.rows.iter().map(|r| r.1.spread()))
        .collect();
    let mut sorted = spreads.clone();
    sorted.sort_by(f64::total_cmp);
    if let Some(&worst) = sorted.last() {
        println!(
            "\nNoise: median spread {:.1} %, worst {:.1} %.",
            sorted[sorted.len() / 2] * 100.0,
            worst * 100.0
        );
    }
}

const ROW_HELP: &[&str] = &[
    "`interp` dynthrift interpreter, derived Rust structs with std types (String, Bytes, std HashMap)",
    "`interp-faststr` the same on pilota's host types (FastStr, Bytes, ahash HashMap), decoding from `Bytes` (zero-copy)",
    "`interp-idl` IDL-only values (`DynStruct`) from `baseline.thrift`/`partial.thrift` loaded at run time",
    "`jit-write` (encode only) the `jit` codec writing without the size pass (`Codec::write` into the reused buffer), like for like with `apache`",
    "`pilota` pilota 0.13.1 generated code, `TBinaryProtocol`, decoding from `Bytes` (zero-copy); no Compact (pilota#371)",
    "`pilota-unsafe` pilota through `TBinaryUnsafeInputProtocol` (no bounds checks; decode only)",
    "`apache` Apache Thrift 0.17 generated Rust code + `thrift` crate 0.17 (no size pass: writes straight into the reused buffer)",
    "`memcpy` copying as many bytes (encode: into a reused buffer; decode: into a new Vec)",
];

fn run(mut group: Group, plan: &Plan) -> Measured {
    let allocs: Vec<Allocs> = group
        .benches
        .iter_mut()
        .map(|b| {
            (b.op)(); // warm-up: reused buffers reach their size
            alloc::count(3, &mut b.op)
        })
        .collect();
    let mut ops: Vec<&mut dyn FnMut()> = group
        .benches
        .iter_mut()
        .map(|b| &mut *b.op as &mut dyn FnMut())
        .collect();
    let stats = measure::measure_group(&mut ops, plan);
    Measured {
        workload: group.workload.name().to_string(),
        direction: group.direction,
        protocol: group.protocol,
        bytes: group.bytes,
        rows: group
            .benches
            .iter()
            .zip(stats)
            .zip(allocs)
            .map(|((b, s), a)| (b.name, s, a))
            .collect(),
    }
}

fn results_table(results: &[Measured], direction: Direction) -> Table {
    let mut t = Table::new([
        "workload",
        "impl",
        "time",
        "±",
        "MB/s",
        "vs pilota",
        "vs apache",
        "vs memcpy",
        "allocs/op",
        "alloc KiB/op",
    ]);
    for m in results.iter().filter(|m| m.direction == direction) {
        let by_name: HashMap<&str, f64> = m.rows.iter().map(|r| (r.0, r.1.median_ns)).collect();
        let mut rows: Vec<_> = m.rows.iter().collect();
        rows.sort_by_key(|r| ROWS.iter().position(|n| *n == r.0));
        let proto = match m.protocol {
            Protocol::Binary => "",
            Protocol::Compact => " compact",
        };
        let label = format!("{}{proto} ({} B)", m.workload, m.bytes);
        for (i, (name, s, a)) in rows.into_iter().enumerate() {
            t.row([
                if i == 0 { label.clone() } else { String::new() },
                name.to_string(),
                table::time(s.median_ns),
                format!("{:.0} %", s.spread() * 100.0),
                table::throughput(m.bytes, s.median_ns),
                table::ratio(s.median_ns, by_name.get("pilota").copied()),
                table::ratio(s.median_ns, by_name.get("apache").copied()),
                table::ratio(s.median_ns, by_name.get("memcpy").copied()),
                a.calls.to_string(),
                format!("{:.1}", a.bytes as f64 / 1024.0),
            ]);
        }
    }
    t
}

/// Cold latencies of getting a codec: parsing the IDL and planning its structs, and the first
/// `Codec::new` + `pretouch` per derived type and backend (it plans the type and, with the
/// JIT, compiles it; both are then cached process-wide).
fn compile_latency() -> Table {
    let mut t = Table::new(["what", "backend", "time"]);
    let path = dynthrift_testkit::testdata("idl/frugal/tests/baseline.thrift");
    let start = Instant::now();
    let schema = dynthrift::idl::parse_file(&path).expect("parse baseline.thrift");
    t.row([
        "parse + resolve baseline.thrift".into(),
        "—".into(),
        fmt(start.elapsed()),
    ]);
    let start = Instant::now();
    let types = DynSchema::new(schema).expect("plan");
    t.row([
        "DynSchema::new (IDL-only plans)".into(),
        "—".into(),
        fmt(start.elapsed()),
    ]);
    for &backend in BACKENDS {
        let options = backend.options(Protocol::Binary);
        let start = Instant::now();
        // `pretouch`: codecs compile on first use; this is the compile.
        dynthrift::DynCodec::new(&types, "Nesting2", options)
            .expect("DynCodec")
            .pretouch();
        t.row([
            "DynCodec::new(Nesting2) (IDL-only; the JIT compiles it and what it reaches)".into(),
            format!("{backend:?}").to_lowercase(),
            fmt(start.elapsed()),
        ]);
    }
    drop(types);
    // The compile alone, without first-use costs (the ISA, the layout probes): the median of
    // fresh schemas (Nesting2 reaches Simple and Nesting; the schema's other structs are not
    // compiled).
    for &backend in BACKENDS {
        let options = backend.options(Protocol::Binary);
        let schema = dynthrift::idl::parse_file(&path).expect("parse baseline.thrift");
        let mut times: Vec<Duration> = (0..21)
            .map(|_| {
                let types = DynSchema::new(schema.clone()).expect("plan");
                let start = Instant::now();
                dynthrift::DynCodec::new(&types, "Nesting2", options)
                    .expect("DynCodec")
                    .pretouch();
                start.elapsed()
            })
            .collect();
        times.sort();
        t.row([
            "DynCodec::new(Nesting2) on a fresh schema, median of 21".into(),
            format!("{backend:?}").to_lowercase(),
            fmt(times[times.len() / 2]),
        ]);
    }
    for &backend in BACKENDS {
        let options = backend.options(Protocol::Binary);
        let name = format!("{backend:?}").to_lowercase();
        let mut time = |what: &str, f: &dyn Fn()| {
            let start = Instant::now();
            f();
            t.row([what.to_string(), name.clone(), fmt(start.elapsed())]);
        };
        time("Codec::<Simple>::new (derived)", &|| {
            Codec::<tk::Simple>::with_options(options)
                .map(|c| drop(c.pretouch()))
                .expect("codec")
        });
        time("Codec::<Nesting>::new (derived)", &|| {
            Codec::<tk::Nesting>::with_options(options)
                .map(|c| drop(c.pretouch()))
                .expect("codec")
        });
        time("Codec::<Nesting2>::new (derived)", &|| {
            Codec::<tk::Nesting2>::with_options(options)
                .map(|c| drop(c.pretouch()))
                .expect("codec")
        });
        time("Codec::<Nesting2>::new again (cached)", &|| {
            Codec::<tk::Nesting2>::with_options(options)
                .map(|c| drop(c.pretouch()))
                .expect("codec")
        });
    }
    t
}

fn fmt(d: Duration) -> String {
    table::time(d.as_nanos() as f64)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}
