//! dynthrift: Apache Thrift encode/decode from type descriptors.
#![forbid(unsafe_code)]

pub use dynthrift_core::desc::{Describe, UnknownFields};
pub use dynthrift_core::{Error, ErrorKind, Result, Schema, TMessageType, TType};
pub use dynthrift_derive::Thrift;

/// What `#[derive(Thrift)]` output refers to. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use core::mem::{align_of, offset_of, size_of};
    pub use dynthrift_core::desc::*;
    pub use dynthrift_core::schema::{Requiredness, StructKind};
}
