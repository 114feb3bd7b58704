//! The report's timing loop. Per group of operations (the implementations of one workload and
//! direction): each operation is warmed up and calibrated so that one sample lasts about
//! `Plan::sample`; then `Plan::samples` rounds run one sample of every operation in turn, so
//! that a burst of load from other processes falls on all of them alike. An operation's time
//! is the median over its samples of (sample time / iterations); the spread is the
//! interquartile range over the median.

use std::time::{Duration, Instant};

/// How long to measure.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// Warm-up (and calibration) time per operation.
    pub warmup: Duration,
    /// Target duration of one sample.
    pub sample: Duration,
    /// Samples per operation (odd, so that the median is one of them).
    pub samples: usize,
}

impl Plan {
    /// The full report: about 1.5 s per operation, 2–3 minutes in all.
    pub const FULL: Plan = Plan {
        warmup: Duration::from_millis(200),
        sample: Duration::from_millis(30),
        samples: 41,
    };
    /// The quick mode (CI): checks that everything runs; its times mean little.
    pub const QUICK: Plan = Plan {
        warmup: Duration::from_millis(2),
        sample: Duration::from_millis(1),
        samples: 3,
    };
}

/// Timing of one operation.
#[derive(Clone, Copy, Debug)]
pub struct Stats {
    /// Median time per operation, in nanoseconds.
    pub median_ns: f64,
    /// First and third quartiles of the per-sample times, in nanoseconds.
    pub q1_ns: f64,
    pub q3_ns: f64,
    /// Iterations per sample.
    pub iters: u64,
}

impl Stats {
    /// Interquartile range relative to the median (0.02 = 2 %).
    pub fn spread(&self) -> f64 {
        (self.q3_ns - self.q1_ns) / self.median_ns
    }
}

/// Times every operation of one group (see the module docs); results in the order of `ops`.
pub fn measure_group(ops: &mut [&mut dyn FnMut()], plan: &Plan) -> Vec<Stats> {
    let iters: Vec<u64> = ops
        .iter_mut()
        .map(|op| calibrate(&mut **op, plan))
        .collect();
    let mut samples = vec![Vec::with_capacity(plan.samples); ops.len()];
    for _ in 0..plan.samples {
        for ((op, &n), out) in ops.iter_mut().zip(&iters).zip(&mut samples) {
            let start = Instant::now();
            for _ in 0..n {
                op();
            }
            out.push(start.elapsed().as_nanos() as f64 / n as f64);
        }
    }
    samples
        .into_iter()
        .zip(iters)
        .map(|(mut s, iters)| {
            s.sort_by(f64::total_cmp);
            Stats {
                median_ns: quantile(&s, 0.5),
                q1_ns: quantile(&s, 0.25),
                q3_ns: quantile(&s, 0.75),
                iters,
            }
        })
        .collect()
}

/// Runs `op` for the warm-up time; returns the iterations that make one sample.
fn calibrate(op: &mut dyn FnMut(), plan: &Plan) -> u64 {
    let start = Instant::now();
    let mut n = 0u64;
    while n == 0 || start.elapsed() < plan.warmup {
        op();
        n += 1;
    }
    let per_op = start.elapsed().as_secs_f64() / n as f64;
    ((plan.sample.as_secs_f64() / per_op).ceil() as u64).max(1)
}

/// Linear interpolation between the closest ranks of a sorted, non-empty slice.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}
