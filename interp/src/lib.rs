//! dynthrift-interp: the reference backend. It runs a [`Plan`] (computed once per type from a
//! derived descriptor or an IDL schema) over host memory, for the Binary and Compact protocols.
//! The JIT translates the same plan and is checked against this interpreter.
#![deny(unsafe_code)]

pub mod check;
#[allow(unsafe_code)]
pub mod dynamic;
pub mod plan;
#[allow(unsafe_code)]
pub mod run;
#[cfg(feature = "serde")]
pub mod serde;
#[allow(unsafe_code)]
pub mod typed;
#[allow(unsafe_code)]
pub mod value;

pub use check::Mismatch;
pub use plan::Plan;
pub use run::Limits;
pub use typed::TypedPlan;
pub use value::{DynSchema, DynStruct, MapRef, SeqRef, StructRef, Value, ValueRef};
