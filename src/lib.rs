#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod codec;
mod dyn_codec;
#[cfg(feature = "tokio")]
pub mod rpc;
mod scratch;
mod validated;
#[cfg(feature = "volo")]
pub mod volo;

pub use codec::{
    Backend, BackendInfo, Codec, Options, WRITE_SLACK, decode, decode_compact, encode,
    encode_compact, read_message_header, skip_struct,
};
pub use dyn_codec::DynCodec;
pub use dynthrift_core::desc::{Describe, OrderedF64, UnknownFields};
pub use dynthrift_core::wire::{MessageHeader, Protocol};
pub use dynthrift_core::{ApplicationErrorKind, ApplicationException};
pub use dynthrift_core::{Error, ErrorKind, Result, Schema, TMessageType, TType};
pub use dynthrift_derive::Thrift;
pub use dynthrift_interp::{DynSchema, DynStruct, MapRef, SeqRef, StructRef, Value, ValueRef};
pub use dynthrift_interp::{Limits, Mismatch};

/// The IDL front end: load `.thrift` files into a resolved [`Schema`].
pub mod idl {
    pub use dynthrift_core::idl::*;
}

/// The resolved schema model the IDL front end produces: structs, fields, types
/// ([`schema::Ty`]), ids ([`schema::StructId`]), services, constants.
pub mod schema {
    pub use dynthrift_core::schema::*;
}

/// Message envelopes for proxies: read and rewrite a header, leave the payload alone.
pub mod envelope {
    pub use dynthrift_generic::envelope::*;
}

/// Access by path on encoded bytes (`ListSimple[3].StringField`).
pub mod path {
    pub use dynthrift_generic::path::*;
}

/// Validation from `vt.*` IDL annotations (thrift-gen-validator's vocabulary).
pub mod validate {
    pub use crate::validated::ValidatedCodec;
    pub use dynthrift_generic::validate::*;
}

/// JSON ↔ Thrift transcoding driven by an IDL type (feature `json`), and serde for IDL-only
/// values ([`json::serde`]).
#[cfg(feature = "json")]
pub mod json {
    pub use dynthrift_json::*;
    /// `Serialize`/`DeserializeSeed` for IDL-only values and `serde_json::Value` conversions.
    pub mod serde {
        pub use dynthrift_interp::serde::*;
    }
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

    /// `impl pilota::thrift::Message for $type` with feature `volo`, nothing without.
    #[cfg(feature = "volo")]
    pub use crate::__dynthrift_impl_volo_message as impl_volo_message;
    #[cfg(not(feature = "volo"))]
    pub use crate::__dynthrift_no_volo_message as impl_volo_message;
}

/// Without feature `volo`, derived types implement no pilota trait.
#[cfg(not(feature = "volo"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __dynthrift_no_volo_message {
    ($t:ty) => {};
}
