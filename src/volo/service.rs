//! IDL services through volo-thrift: requests and replies as [`DynStruct`]s of the argument
//! and result structs that [`IdlService`] derives from the IDL, encoded and decoded by
//! dynthrift.

use std::marker::PhantomData;

use bytes::{Buf, Bytes};
use pilota::FastStr;
use pilota::thrift::{
    ApplicationException, ApplicationExceptionKind, TAsyncInputProtocol, TInputProtocol,
    TLengthProtocol, TMessageIdentifier, TOutputProtocol, ThriftException,
};

use super::{
    WriteSink, collect_struct, collect_struct_async, exception, input_kind, length_kind,
    output_kind, put_encoded, replay_len, replay_struct,
};
use crate::rpc::{IdlService, MethodDesc};
use crate::{DynStruct, Limits, Protocol};

/// A type that names one [`IdlService`] for the process; volo-thrift's message types
/// ([`DynRequest`], [`DynResponse`]) find the service through it, since its decode functions
/// take no context.
///
/// ```ignore
/// struct Echo;
/// impl dynthrift::volo::DescribeService for Echo {
///     fn service() -> &'static IdlService {
///         static S: OnceLock<Arc<IdlService>> = OnceLock::new();
///         S.get_or_init(|| IdlService::load("echo.thrift", "Echo").unwrap())
///     }
/// }
/// ```
pub trait DescribeService: Send + Sync + 'static {
    fn service() -> &'static IdlService;
}

/// A call of an IDL service's method: volo-thrift's request message (`EntryMessage`), for
/// clients and servers.
pub struct DynRequest<S> {
    pub method: FastStr,
    pub args: DynStruct,
    _s: PhantomData<fn() -> S>,
}

/// A reply: the method's result struct (`success`, or one of the declared exceptions).
pub struct DynResponse<S> {
    pub method: FastStr,
    pub result: DynStruct,
    _s: PhantomData<fn() -> S>,
}

macro_rules! common {
    ($ty:ident, $field:ident) => {
        impl<S: DescribeService> $ty<S> {
            pub fn new(method: impl Into<FastStr>, $field: DynStruct) -> $ty<S> {
                $ty {
                    method: method.into(),
                    $field,
                    _s: PhantomData,
                }
            }
        }

        impl<S> Clone for $ty<S> {
            fn clone(&self) -> Self {
                $ty {
                    method: self.method.clone(),
                    $field: self.$field.clone(),
                    _s: PhantomData,
                }
            }
        }

        impl<S> std::fmt::Debug for $ty<S> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("method", &self.method)
                    .field(stringify!($field), &self.$field)
                    .finish()
            }
        }

        impl<S: DescribeService> volo_thrift::EntryMessage for $ty<S> {
            fn encode<T: TOutputProtocol>(&self, p: &mut T) -> Result<(), ThriftException> {
                encode_dyn(&self.$field, p)
            }

            fn decode<T: TInputProtocol>(
                p: &mut T,
                ident: &TMessageIdentifier,
            ) -> Result<Self, ThriftException> {
                let v = empty::<S>(&ident.name, |m| m.$field)?;
                Ok($ty::new(ident.name.clone(), decode_dyn(v, p)?))
            }

            async fn decode_async<T: TAsyncInputProtocol>(
                p: &mut T,
                ident: &TMessageIdentifier,
            ) -> Result<Self, ThriftException> {
                let v = empty::<S>(&ident.name, |m| m.$field)?;
                let mut out = Vec::new();
                collect_struct_async(p, &mut out).await?;
                Ok($ty::new(ident.name.clone(), decode_all(v, out)?))
            }

            fn size<T: TLengthProtocol>(&self, p: &mut T) -> usize {
                size_dyn(&self.$field, p)
            }
        }
    };
}

// `args` for requests, `result` for replies; the `Method` field of the same name.
common!(DynRequest, args);
common!(DynResponse, result);

fn empty<S: DescribeService>(
    method: &str,
    which: impl FnOnce(&MethodDesc) -> dynthrift_core::schema::StructId,
) -> Result<DynStruct, ThriftException> {
    let svc = S::service();
    let Some(m) = svc.method(method) else {
        return Err(ThriftException::Application(ApplicationException::new(
            ApplicationExceptionKind::UNKNOWN_METHOD,
            format!("unknown method {method}"),
        )));
    };
    DynStruct::new_by_id(svc.types(), which(m)).map_err(exception)
}

fn encode_dyn<P: TOutputProtocol>(v: &DynStruct, p: &mut P) -> Result<(), ThriftException> {
    if let Some(protocol) = output_kind::<P>() {
        return put_encoded(p, |buf| v.encode_into(buf, protocol, &Limits::default()));
    }
    let bytes = v.encode(Protocol::Binary).map_err(exception)?;
    replay_struct(&bytes, &mut WriteSink(p))
}

fn decode_dyn<P: TInputProtocol>(
    mut v: DynStruct,
    p: &mut P,
) -> Result<DynStruct, ThriftException> {
    if let Some(protocol) = input_kind::<P>() {
        let buf = p.buf();
        let chunk = buf.chunk();
        if chunk.len() == buf.remaining() {
            let n = v
                .decode_in(chunk, None, protocol, &Limits::default())
                .map_err(exception)?;
            buf.advance(n);
            return Ok(v);
        }
    }
    let mut out = Vec::new();
    collect_struct(p, &mut out)?;
    decode_all(v, out)
}

fn decode_all(mut v: DynStruct, bytes: Vec<u8>) -> Result<DynStruct, ThriftException> {
    let bytes = Bytes::from(bytes);
    let n = v
        .decode_in(&bytes, Some(&bytes), Protocol::Binary, &Limits::default())
        .map_err(exception)?;
    if n != bytes.len() {
        return Err(super::invalid(format!(
            "{} bytes after the end of the struct",
            bytes.len() - n
        )));
    }
    Ok(v)
}

fn size_dyn<P: TLengthProtocol>(v: &DynStruct, p: &mut P) -> usize {
    if let Some(protocol) = length_kind::<P>() {
        return v.encoded_len(protocol).unwrap_or(0);
    }
    let Ok(bytes) = v.encode(Protocol::Binary) else {
        return 0;
    };
    replay_len(&bytes, p)
}
