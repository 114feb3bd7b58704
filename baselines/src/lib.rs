//! The static-codec baselines of dynthrift's benchmarks, generated at build time from the
//! workload IDL (`build.rs`): pilota's generated code and Apache Thrift's generated Rust code.
//! Not a workspace member, so that `cargo test --workspace` never builds them; only the bench
//! targets of `dynthrift-benches` depend on this crate.

pub use pilota;
pub use thrift;

/// pilota 0.13 (`pilota-build` 0.13.12): `pilota::baseline::{Simple, Nesting, Nesting2}`,
/// `pilota::partial::{PartialSimple, PartialNesting}`. Strings are `FastStr`, binaries `Bytes`,
/// maps `AHashMap`, fields of default requiredness `Option`s.
#[allow(warnings, clippy::all, clippy::pedantic)]
pub mod pilota_gen {
    include!(concat!(env!("OUT_DIR"), "/pilota.rs"));
}

/// Apache Thrift 0.17 (`thrift --gen rs` + the `thrift` crate 0.17). Strings are `String`,
/// binaries `Vec<u8>`, maps `BTreeMap`, doubles `OrderedFloat<f64>`, every field an `Option`.
#[allow(warnings, clippy::all, clippy::pedantic)]
pub mod apache {
    pub mod baseline {
        include!(concat!(env!("OUT_DIR"), "/apache_baseline.rs"));
    }
    pub mod partial {
        include!(concat!(env!("OUT_DIR"), "/apache_partial.rs"));
    }
}
