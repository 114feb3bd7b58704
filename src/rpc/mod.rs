//! Thrift RPC over tokio (feature `tokio`): transports as `tokio_util` codecs ([`transport`]),
//! method tables from Rust types and from IDL services ([`Router`], [`IdlService`]), a
//! [`Server`] and a [`Client`].
//!
//! A call is Thrift's usual exchange: the client sends a message `(method, CALL or ONEWAY,
//! seqid)` whose struct is the method's arguments; the server replies `(method, REPLY, seqid)`
//! with the result struct (field 0 the return value, declared exceptions by their ids), or
//! `(method, EXCEPTION, seqid)` with a `TApplicationException` (unknown method, bad arguments,
//! a failed handler); nothing for oneway calls.

pub mod client;
pub mod server;
pub mod service;
pub mod transport;

use std::fmt;
use std::time::Duration;

use dynthrift_core::wire::ProtoWrite;
use dynthrift_core::wire::Protocol;
use dynthrift_core::wire::binary::BinaryWriter;
use dynthrift_core::wire::compact::CompactWriter;
use dynthrift_core::{ApplicationException, TMessageType};
use dynthrift_interp::DynStruct;

pub use client::{Client, ClientConfig, DynClient, Method};
pub use server::{Server, ServerConfig, ServerHandle};
pub use service::{HandlerError, IdlService, MethodDesc, Router};
pub use transport::{
    BufferedCodec, DEFAULT_MAX_FRAME, Frame, FramedCodec, TTHeader, TTHeaderCodec, Transport,
    TransportCodec,
};

/// What can go wrong in a transport, a server or a call.
#[derive(Debug)]
#[non_exhaustive]
pub enum RpcError {
    /// The connection failed.
    Io(std::io::Error),
    /// Encoding or decoding a message failed.
    Codec(crate::Error),
    /// A frame (or an unframed message) larger than the configured maximum.
    FrameTooLarge { len: usize, max: usize },
    /// A malformed frame.
    Transport(String),
    /// The peer answered with a `TApplicationException`.
    Application(ApplicationException),
    /// The server raised one of the exceptions the method declares (dynamic calls; typed calls
    /// return them in their result type).
    Exception(DynStruct),
    /// A reply that does not fit the call (wrong message type, name, or result).
    Protocol(String),
    /// No reply within the configured time.
    Timeout(Duration),
    /// The connection is closed.
    Closed,
    /// The server or client was configured wrongly (an unknown method, a type that cannot be
    /// a message, ...).
    Config(String),
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RpcError::Io(e) => write!(f, "i/o error: {e}"),
            RpcError::Codec(e) => write!(f, "{e}"),
            RpcError::FrameTooLarge { len, max } => {
                write!(f, "frame of {len} bytes exceeds the maximum of {max}")
            }
            RpcError::Transport(m) => write!(f, "transport error: {m}"),
            RpcError::Application(e) => write!(f, "{e}"),
            RpcError::Exception(e) => write!(f, "declared exception {}: {e:?}", e.name()),
            RpcError::Protocol(m) => write!(f, "protocol error: {m}"),
            RpcError::Timeout(d) => write!(f, "no reply within {d:?}"),
            RpcError::Closed => write!(f, "connection closed"),
            RpcError::Config(m) => write!(f, "configuration error: {m}"),
        }
    }
}

impl std::error::Error for RpcError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RpcError::Io(e) => Some(e),
            RpcError::Codec(e) => Some(e),
            RpcError::Application(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for RpcError {
    fn from(e: std::io::Error) -> Self {
        RpcError::Io(e)
    }
}

impl From<crate::Error> for RpcError {
    fn from(e: crate::Error) -> Self {
        RpcError::Codec(e)
    }
}

impl From<ApplicationException> for RpcError {
    fn from(e: ApplicationException) -> Self {
        RpcError::Application(e)
    }
}

/// Appends a message header.
pub(crate) fn write_message_begin(
    out: &mut Vec<u8>,
    protocol: Protocol,
    name: &str,
    kind: TMessageType,
    seqid: i32,
) -> crate::Result<()> {
    match protocol {
        Protocol::Binary => BinaryWriter::new(out).write_message_begin(name, kind, seqid),
        Protocol::Compact => CompactWriter::new(out).write_message_begin(name, kind, seqid),
    }
}

/// A whole `TApplicationException` message.
pub(crate) fn exception_message(
    protocol: Protocol,
    name: &str,
    seqid: i32,
    e: &ApplicationException,
) -> crate::Result<Vec<u8>> {
    let codec = crate::Codec::<ApplicationException>::with_options(
        crate::Options::default().protocol(protocol),
    )?;
    let mut out = Vec::new();
    codec.encode_message(name, TMessageType::Exception, seqid, e, &mut out)?;
    Ok(out)
}
