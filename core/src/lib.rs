//! dynthrift-core: type descriptors, the IDL front end, the Binary and Compact wire
//! primitives, dynamic values and the error type. No backend logic lives here.
#![deny(unsafe_code)]

#[allow(unsafe_code)]
pub mod app_exception;
#[allow(unsafe_code)]
pub mod desc;
pub mod error;
pub mod idl;
pub mod schema;
pub mod ttype;
pub mod wire;

pub use app_exception::{ApplicationErrorKind, ApplicationException};
pub use error::{Error, ErrorKind, Location, Operation, PathSegment, Result};
pub use schema::Schema;
pub use ttype::{TMessageType, TType};
