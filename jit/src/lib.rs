//! dynthrift-jit: the Cranelift backend. It translates the interpreter's plan into machine
//! code, Binary and Compact (one module per plan and protocol, finalized once; the host ISA is
//! built once per process). Encoder and sizer: struct skeletons, presence checks (`Option` and
//! record bits), scalars (Compact: zigzag varints, field-id deltas, bools in the field header),
//! enums, nested structs and records compiled; lists (`Vec<T>` and raw vectors of IDL-only
//! records), sets and maps of plain values, strings and compiled structs, or of lists of those,
//! compiled (a `HashSet`, `BTreeSet`, `HashMap` or `BTreeMap` walked with its descriptor's
//! iterator thunks, a batch of entries per call); strings read and written inline (`String`,
//! `Vec<u8>`, `Bytes`, `FastStr` in its shared and inline forms, probed layouts; bytes copied
//! by `memcpy`), others through a helper; Compact field varints written in words, Compact
//! varint lists in runs as long as the buffer's room allows for the longest; runs of
//! always-present fixed-size fields in one reservation; the output's length kept in a register
//! between calls; other containers (of Rust enums, boxes, sets, maps, records, or lists nested
//! deeper) walked by a helper that writes leaves in one specialised loop and calls back into
//! compiled structs and records. Decoder: struct loops, header reads, id dispatch, scalars
//! (Compact: varints inline, a helper only near the end of the input) and nested structs
//! compiled; unions (Rust enums through their variant table, IDL-only ones by presence bits,
//! exactly one member checked both ways) and kept unknown fields (through helpers) compiled in
//! all three; Compact `Vec<i16/i32/i64>` read inline into the vector's spare capacity; strings,
//! binaries, other lists, sets, maps, boxes and record fields through one helper per value that
//! converts fixed-size plain lists in one run, makes plain values and strings in the spare
//! capacity, and calls back into compiled decoders for every struct it meets (`FastStr` from
//! `Bytes` shares the input through one view per call). Skip: per struct, header loop,
//! prediction and id dispatch, fixed widths, strings and lists, sets and maps of leaves and
//! structs inline, nested structs by direct calls, everything else through the generic protocol
//! skip (same lengths and errors); the decoder and the skip read headers, predict fields and
//! skip unknown values with the same emitters (`lower_read`). Derived types ([`TypedJit`], code
//! kept in the type's plan) and IDL-only records of a struct and what it reaches ([`DynJit`]).
#![deny(unsafe_code)]

#[allow(unsafe_code)]
pub mod abi;
#[allow(unsafe_code)]
mod engine;
mod lower;
mod lower_decode;
mod lower_read;
mod lower_skip;
#[allow(unsafe_code)]
mod rt;
#[allow(unsafe_code)]
mod typed;

pub use engine::{DynJit, PlanJit, WRITE_SLACK, compiled_skips};
pub use typed::TypedJit;
