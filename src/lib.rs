#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod codec;
mod dyn_codec;

pub use codec::{
    Backend, BackendInfo, Codec, Options, decode, decode_compact, encode, encode_compact,
    read_message_header, skip_struct,
};
pub use dyn_codec::DynCodec;
pub use dynthrift_core::desc::{Describe, OrderedF64, UnknownFields};
pub use dynthrift_core::wire::{MessageHeader, Protocol};
pub use dynthrift_core::{ApplicationErrorKind, ApplicationException};
pub use dynthrift_core::{Error, ErrorKind, Result, Schema, TMessageType, TType};
pub use dynthrift_derive::Thrift;
pub use dynthrift_interp::{DynSchema, DynStruct, Value};
pub use dynthrift_interp::{Limits, Mismatch};

/// The IDL front end: load `.thrift` files into a resolved [`Schema`].
pub mod idl {
    pub use dynthrift_core::idl::*;
}

/// Wire primitives, for code that writes or reads Thrift by hand.
pub mod wire {
    pub use dynthrift_core::wire::*;
}

/// What `#[derive(Thrift)]` output refers to. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use core::mem::{align_of, offset_of, size_of};
    pub use dynthrift_core::desc::*;
    pub use dynthrift_core::schema::{Requiredness, StructKind};
}
