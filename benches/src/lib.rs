//! Benchmark harness of dynthrift: what the bench targets share that does not depend on the
//! baselines (those are dev-dependencies, built only for the bench targets). An allocation
//! counter to install as the global allocator, the timing loop of the report, and its table.

pub mod alloc;
pub mod measure;
pub mod table;
