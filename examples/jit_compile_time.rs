//! Cold cost of getting a JIT codec, per derived type, in one fresh process (the first row
//! also pays for setting up the host ISA): wall time and this thread's CPU time (less
//! sensitive to other load). `cargo run --release --example jit_compile_time [-- loop N]`;
//! `loop N` then recompiles `Nesting2`'s closure N times (for a profiler).
use std::time::{Duration, Instant};

use dynthrift::{BackendInfo, Codec, Options};
use dynthrift_testkit::workloads as tk;

/// This thread's CPU time so far (Linux; zero elsewhere).
fn cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}

fn time<T: dynthrift::Describe>(name: &str) {
    let (start, cpu0) = (Instant::now(), cpu());
    let c = Codec::<T>::with_options(Options::binary()).expect("codec");
    c.pretouch();
    let (cold, cold_cpu) = (start.elapsed(), cpu() - cpu0);
    assert_eq!(c.backend(), BackendInfo::Jit, "{name} must compile");
    let start = Instant::now();
    for _ in 0..1000 {
        drop(Codec::<T>::with_options(Options::binary()).expect("codec"));
    }
    let warm = start.elapsed() / 1000;
    println!("Codec::<{name}>::new  cold {cold:>9.2?} (cpu {cold_cpu:>9.2?})  cached {warm:>8.2?}");
}

fn main() {
    time::<tk::Simple>("Simple");
    time::<tk::Nesting>("Nesting");
    time::<tk::Nesting2>("Nesting2");
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("loop") {
        let n: u32 = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(100);
        let plan = dynthrift_interp::TypedPlan::<tk::Nesting2>::get().expect("plan");
        let mut walls = Vec::new();
        let cpu0 = cpu();
        for _ in 0..n {
            let start = Instant::now();
            dynthrift_jit::PlanJit::compile(plan.plan().clone(), dynthrift::Protocol::Binary)
                .expect("compile");
            walls.push(start.elapsed());
        }
        walls.sort();
        println!(
            "Nesting2 closure compile: wall median {:.2?} (min {:.2?}), this thread's cpu {:.2?} each",
            walls[walls.len() / 2],
            walls[0],
            (cpu() - cpu0) / n
        );
    }
    if args.get(1).map(String::as_str) == Some("run") {
        // Run time of the compiled code (to weigh compile settings against it).
        let n: u32 = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(1000);
        // `run N encode|decode|both compact` for the Compact protocol.
        let protocol = if args.get(4).map(String::as_str) == Some("compact") {
            dynthrift::Protocol::Compact
        } else {
            dynthrift::Protocol::Binary
        };
        let c = Codec::<tk::Nesting>::with_options(Options::default().protocol(protocol))
            .expect("codec");
        let v = tk::nesting();
        let bytes = c.encode(&v).expect("encode");
        let mut out = Vec::with_capacity(bytes.len());
        let best = |f: &mut dyn FnMut()| {
            (0..5)
                .map(|_| {
                    let cpu0 = cpu();
                    for _ in 0..n {
                        f();
                    }
                    (cpu() - cpu0) / n
                })
                .min()
                .unwrap_or_default()
        };
        // `run N encode|decode|size` times one of them (for a profiler).
        let only = args.get(3).map(String::as_str).filter(|s| *s != "both");
        let size = best(&mut || {
            std::hint::black_box(c.encoded_len(&v).expect("size"));
        });
        let enc = if matches!(only, Some("decode" | "size")) {
            Duration::ZERO
        } else {
            best(&mut || {
                out.clear();
                c.encode_into(&v, &mut out).expect("encode");
            })
        };
        let dec = if matches!(only, Some("encode" | "size")) {
            Duration::ZERO
        } else {
            best(&mut || drop(c.decode(&bytes).expect("decode")))
        };
        let write = if only.is_some() {
            Duration::ZERO
        } else {
            best(&mut || {
                out.clear();
                c.write(&v, &mut out).expect("write");
            })
        };
        println!(
            "Nesting {protocol:?}: encode {enc:.2?} (size alone {size:.2?}, write alone {write:.2?}), decode {dec:.2?} (cpu, best of 5)"
        );
    }
}
