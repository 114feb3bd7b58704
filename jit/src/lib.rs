//! dynthrift-jit: the Cranelift backend. It translates the interpreter's plan into machine
//! code, Binary protocol only. Encoder and sizer: struct skeletons, presence checks (`Option`
//! and record bits), scalars, enums, nested structs and records, `Vec<T>` of plain, string and
//! struct elements compiled; strings through a helper; maps, sets, raw vectors and unions on
//! the interpreter. Decoder: struct loops, header reads, id dispatch, scalars and nested
//! structs compiled; strings, binaries, lists, sets, maps, boxes and record fields through one
//! Binary helper per value that bulk-reads plain lists and calls back into compiled decoders
//! for every struct it meets. Derived types ([`TypedJit`]) and IDL-only records of a whole
//! schema ([`DynJit`], one module, one finalize). The Compact protocol runs on the interpreter.
#![deny(unsafe_code)]

#[allow(unsafe_code)]
pub mod abi;
#[allow(unsafe_code)]
mod engine;
mod lower;
mod lower_decode;
#[allow(unsafe_code)]
mod rt;
#[allow(unsafe_code)]
mod typed;

pub use engine::{DynJit, PlanJit};
pub use typed::TypedJit;
