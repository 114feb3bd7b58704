//! Criterion benches of dynthrift against the static codecs, for detailed runs: groups
//! `encode/<workload>/<impl>` and `decode/<workload>/<impl>` (`-compact` after the workload for
//! the Compact protocol; `skip-small`/`skip-medium` for skip decode), all implementations of a
//! workload in one group, every one checked against the reference before anything is timed
//! (see `common/mod.rs` for what each row is).
//!
//! `cargo bench -p dynthrift-benches --bench codec [-- FILTER]`; one pass without timing:
//! `-- --test`. The one-process summary table is the `report` target.

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn benches(c: &mut Criterion) {
    let schemas = common::Schemas::load();
    for mut group in common::groups(&schemas) {
        let mut g = c.benchmark_group(group.id());
        g.throughput(Throughput::Bytes(group.bytes as u64));
        for bench in &mut group.benches {
            g.bench_function(bench.name, |b| b.iter(&mut bench.op));
        }
        g.finish();
    }
}

criterion_group! {
    name = codec;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(300))
        .measurement_time(std::time::Duration::from_secs(1))
        .sample_size(20);
    targets = benches
}
criterion_main!(codec);
