//! Thrift's `TApplicationException`: what a server replies for an unknown method, a bad
//! message or an internal error (`struct { 1: string message, 2: i32 type }`).

use std::fmt;

use crate::desc::{CodecCache, Describe, FieldDesc, StructDesc, TypeDesc};
use crate::schema::{Requiredness, StructKind};

/// The `type` codes Apache Thrift defines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ApplicationErrorKind {
    Unknown = 0,
    UnknownMethod = 1,
    InvalidMessageType = 2,
    WrongMethodName = 3,
    BadSequenceId = 4,
    MissingResult = 5,
    InternalError = 6,
    ProtocolError = 7,
    InvalidTransform = 8,
    InvalidProtocol = 9,
    UnsupportedClientType = 10,
}

impl ApplicationErrorKind {
    pub fn from_i32(v: i32) -> ApplicationErrorKind {
        use ApplicationErrorKind::*;
        match v {
            1 => UnknownMethod,
            2 => InvalidMessageType,
            3 => WrongMethodName,
            4 => BadSequenceId,
            5 => MissingResult,
            6 => InternalError,
            7 => ProtocolError,
            8 => InvalidTransform,
            9 => InvalidProtocol,
            10 => UnsupportedClientType,
            _ => Unknown,
        }
    }
}

/// A `TApplicationException` value. `kind` keeps the raw code, so unknown codes round-trip.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApplicationException {
    pub message: String,
    pub kind: i32,
}

impl ApplicationException {
    pub fn new(kind: ApplicationErrorKind, message: impl Into<String>) -> ApplicationException {
        ApplicationException {
            message: message.into(),
            kind: kind as i32,
        }
    }

    pub fn error_kind(&self) -> ApplicationErrorKind {
        ApplicationErrorKind::from_i32(self.kind)
    }
}

impl fmt::Display for ApplicationException {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "application exception ({:?}): {}",
            self.error_kind(),
            self.message
        )
    }
}

impl std::error::Error for ApplicationException {}

static CACHE: CodecCache = CodecCache::new();
static DESC: StructDesc = StructDesc {
    name: "TApplicationException",
    kind: StructKind::Exception,
    fields: &[
        FieldDesc {
            id: 1,
            name: "message",
            ty: <String as Describe>::TYPE,
            req: Requiredness::Default,
            offset: std::mem::offset_of!(ApplicationException, message),
        },
        FieldDesc {
            id: 2,
            name: "type",
            ty: <i32 as Describe>::TYPE,
            req: Requiredness::Default,
            offset: std::mem::offset_of!(ApplicationException, kind),
        },
    ],
    unknown_fields: None,
    union: None,
    size: size_of::<ApplicationException>(),
    align: align_of::<ApplicationException>(),
    cache: &CACHE,
};

fn desc() -> &'static StructDesc {
    &DESC
}

// SAFETY: the offsets and field types above are taken from `ApplicationException` itself.
unsafe impl Describe for ApplicationException {
    const TYPE: &'static TypeDesc = &TypeDesc::Struct(desc);
    fn empty() -> Self {
        ApplicationException::default()
    }
}
