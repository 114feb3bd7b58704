//! dynthrift: Apache Thrift encode/decode from type descriptors.
#![forbid(unsafe_code)]

pub use dynthrift_core::{Error, ErrorKind, Result, Schema, TMessageType, TType};
