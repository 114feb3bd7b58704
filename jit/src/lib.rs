//! dynthrift-jit: the Cranelift backend (not written yet; the facade uses the interpreter).
#![deny(unsafe_code)]
