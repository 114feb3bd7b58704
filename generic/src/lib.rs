//! dynthrift-generic: tools that work on encoded Thrift with nothing but a schema loaded at
//! run time, without decoding whole messages.
//!
//! - [`envelope`]: read and rewrite a message header (name, type, seqid) and leave the
//!   payload untouched: what a proxy needs.
//! - [`path`]: read or replace one value inside encoded bytes by a path such as
//!   `ListSimple[3].StringField` or `MapStringSimple["3"].I32Field`.
//! - [`validate`]: the validation rules of thrift-gen-validator's `vt.*` annotations,
//!   compiled once from a schema, checked on `DynStruct` values or on raw bytes.
//!
//! Users reach these through the facade: `dynthrift::envelope`, `dynthrift::path`,
//! `dynthrift::validate`.
#![deny(unsafe_code)]

pub mod envelope;
pub mod path;
pub mod validate;
mod wire_value;

pub use envelope::Envelope;
pub use path::Path;
pub use validate::Validator;
