//! Encode and decode of the workloads (`shared/workloads/README.md`), per implementation, in
//! groups `encode/<workload>/<impl>` and `decode/<workload>/<impl>`. Every implementation's
//! output is checked before anything is timed.
//!
//! `cargo bench -p dynthrift-benches --bench codec`; quick check: add `-- --test`.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dynthrift::{
    Backend, BackendInfo, Codec, Describe, DynSchema, DynStruct, Limits, Options, Protocol,
};
use dynthrift_testkit::workloads::{self, PartialNesting, PartialSimple};

struct Workload<T> {
    name: &'static str,
    idl_name: &'static str,
    value: T,
    size: usize,
}

fn types() -> Arc<DynSchema> {
    let schema = dynthrift::idl::parse_file(dynthrift_testkit::testdata(
        "idl/frugal/tests/baseline.thrift",
    ))
    .expect("baseline.thrift");
    DynSchema::new(schema).expect("plan")
}

fn bench_workload<T: Describe + PartialEq + std::fmt::Debug>(
    c: &mut Criterion,
    w: &Workload<T>,
    types: &Arc<DynSchema>,
) {
    for protocol in [Protocol::Binary, Protocol::Compact] {
        let p = match protocol {
            Protocol::Binary => "",
            Protocol::Compact => "-compact",
        };
        let codec = Codec::<T>::with_options(
            Options::default()
                .protocol(protocol)
                .backend(Backend::Interpreter),
        )
        .expect("codec");
        let jit = Codec::<T>::with_options(Options::default().protocol(protocol)).expect("codec");
        let bytes = codec.encode(&w.value).expect("encode");
        if protocol == Protocol::Binary {
            assert_eq!(
                bytes.len(),
                w.size,
                "{}: Binary size differs from the workload's",
                w.name
            );
        }
        assert_eq!(
            codec.decode(&bytes).expect("decode"),
            w.value,
            "{}: derived roundtrip",
            w.name
        );
        let dynamic =
            DynStruct::decode(types, w.idl_name, &bytes, protocol).expect("dynamic decode");
        let dyn_bytes = dynamic.encode(protocol).expect("dynamic encode");
        assert_eq!(
            dyn_bytes.len(),
            bytes.len(),
            "{}: IDL-only encoding size",
            w.name
        );
        // Map order may differ: check the IDL-only bytes mean the same value.
        assert_eq!(
            codec.decode(&dyn_bytes).expect("decode IDL-only bytes"),
            w.value,
            "{}: IDL-only encoding",
            w.name
        );

        let mut g = c.benchmark_group(format!("encode/{}{p}", w.name));
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        let mut buf = Vec::with_capacity(bytes.len());
        g.bench_function("interp-derived", |b| {
            b.iter(|| {
                buf.clear();
                codec
                    .encode_into(black_box(&w.value), &mut buf)
                    .expect("encode");
                black_box(buf.len())
            })
        });
        if jit.backend() == BackendInfo::Jit {
            assert_eq!(
                jit.encode(&w.value).expect("jit encode"),
                bytes,
                "{}: JIT bytes",
                w.name
            );
            g.bench_function("jit-derived", |b| {
                b.iter(|| {
                    buf.clear();
                    jit.encode_into(black_box(&w.value), &mut buf)
                        .expect("encode");
                    black_box(buf.len())
                })
            });
        }
        let limits = Limits::default();
        g.bench_function("interp-idl", |b| {
            b.iter(|| {
                buf.clear();
                let n = dynamic.encoded_len(protocol).expect("len");
                buf.reserve(n);
                dynamic
                    .encode_into(&mut buf, protocol, &limits)
                    .expect("encode");
                black_box(buf.len())
            })
        });
        g.bench_function("memcpy", |b| {
            b.iter(|| {
                buf.clear();
                buf.extend_from_slice(black_box(&bytes));
                black_box(buf.len())
            })
        });
        g.finish();

        let mut g = c.benchmark_group(format!("decode/{}{p}", w.name));
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function("interp-derived", |b| {
            b.iter(|| codec.decode(black_box(&bytes)).expect("decode"))
        });
        g.bench_function("interp-idl", |b| {
            b.iter(|| {
                DynStruct::decode(types, w.idl_name, black_box(&bytes), protocol).expect("decode")
            })
        });
        g.bench_function("memcpy", |b| b.iter(|| black_box(&bytes).to_vec()));
        g.finish();
    }
}

fn bench_skip(c: &mut Criterion) {
    let simple = dynthrift::encode(&workloads::simple()).expect("encode");
    let nesting = dynthrift::encode(&workloads::nesting()).expect("encode");
    let ps = Codec::<PartialSimple>::new().expect("codec");
    let pn = Codec::<PartialNesting>::new().expect("codec");
    let s = ps.decode(&simple).expect("partial decode");
    assert_eq!(
        (s.byte_field, s.double_field, s.binary_field.len()),
        (127, f64::MAX, 256)
    );
    let n = pn.decode(&nesting).expect("partial decode");
    assert_eq!((n.list_simple.len(), n.map_string_simple.len()), (8, 8));

    let mut g = c.benchmark_group("decode/skip-small");
    g.throughput(Throughput::Bytes(simple.len() as u64));
    g.bench_function("interp-derived", |b| {
        b.iter(|| ps.decode(black_box(&simple)).expect("decode"))
    });
    g.finish();
    let mut g = c.benchmark_group("decode/skip-medium");
    g.throughput(Throughput::Bytes(nesting.len() as u64));
    g.bench_function("interp-derived", |b| {
        b.iter(|| pn.decode(black_box(&nesting)).expect("decode"))
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    let types = types();
    bench_workload(
        c,
        &Workload {
            name: "small",
            idl_name: "Simple",
            value: workloads::simple(),
            size: workloads::SMALL_SIZE,
        },
        &types,
    );
    bench_workload(
        c,
        &Workload {
            name: "medium",
            idl_name: "Nesting",
            value: workloads::nesting(),
            size: workloads::MEDIUM_SIZE,
        },
        &types,
    );
    bench_workload(
        c,
        &Workload {
            name: "large",
            idl_name: "Nesting2",
            value: workloads::nesting2(),
            size: workloads::LARGE_SIZE,
        },
        &types,
    );
    bench_skip(c);
}

criterion_group! {
    name = codec;
    config = Criterion::default().warm_up_time(std::time::Duration::from_millis(300)).measurement_time(std::time::Duration::from_secs(1)).sample_size(20);
    targets = benches
}
criterion_main!(codec);
