//! dynthrift-jit: the Cranelift backend. It translates the interpreter's plan into machine
//! code. So far: the Binary encoder and sizer of derived types, with struct skeletons,
//! presence checks, scalars, enums, nested structs and `Vec<T>` (plain, string and struct
//! elements) compiled, and strings, maps, sets and unions handed to runtime helpers (strings)
//! or to the interpreter (the rest); and the Binary
//! decoder of derived types, with struct loops, header reads, id dispatch, scalars and nested
//! structs compiled and every other value read by the interpreter. The Compact protocol runs
//! on the interpreter.
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

pub use engine::{JitDecoder, JitEncoder};
pub use typed::TypedJit;
