//! dynthrift-jit: the Cranelift backend. It translates the interpreter's plan into machine
//! code. So far: the Binary encoder and sizer of derived types, with struct skeletons,
//! presence checks, scalars, enums and nested structs compiled, and strings, containers and
//! unions handed to runtime helpers (strings) or to the interpreter (the rest). Decoding and
//! the Compact protocol run on the interpreter.
#![deny(unsafe_code)]

#[allow(unsafe_code)]
pub mod abi;
#[allow(unsafe_code)]
mod engine;
mod lower;
#[allow(unsafe_code)]
mod rt;
#[allow(unsafe_code)]
mod typed;

pub use engine::JitEncoder;
pub use typed::TypedJit;
