//! IDL services through volo-thrift: requests and replies as [`DynStruct`]s of argument and
//! result structs derived from the IDL, encoded and decoded by dynthrift.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;

use bytes::{Buf, Bytes};
use faststr::FastStr;
use pilota::thrift::{
    ApplicationException, ApplicationExceptionKind, TAsyncInputProtocol, TInputProtocol,
    TLengthProtocol, TMessageIdentifier, TOutputProtocol, ThriftException,
};

use super::{
    LenSink, SCRATCH, WriteSink, collect_struct, collect_struct_async, exception,
    is_binary_input, is_binary_length, is_binary_output, replay_struct,
};
use dynthrift_core::schema::{FieldDef, Requiredness, StructDef, StructKind};
use crate::{DynSchema, DynStruct, Error, Limits, Protocol, Result, Schema};

/// One method of an [`IdlService`].
#[derive(Clone, Debug)]
pub struct Method {
    pub name: String,
    pub oneway: bool,
    /// `{Service}_{method}_args`: the arguments as fields.
    pub args: dynthrift_core::schema::StructId,
    /// `{Service}_{method}_result`: `success` (id 0, absent for `void`) and the declared
    /// exceptions, all optional.
    pub result: dynthrift_core::schema::StructId,
}

/// A service of an IDL schema, with argument and result structs for its methods (inherited
/// ones included), ready to encode and decode calls.
#[derive(Debug)]
pub struct IdlService {
    name: String,
    types: Arc<DynSchema>,
    methods: HashMap<String, Method>,
}

impl IdlService {
    /// The service named `service` (`Name` or `file.Name`) of `schema`.
    pub fn new(mut schema: Schema, service: &str) -> Result<IdlService> {
        let id = schema
            .service_id(service)
            .ok_or_else(|| Error::schema(format!("no service named '{service}'")))?;
        let sname = schema.service_def(id).name.clone();
        let file = schema.service_def(id).file;
        let functions: Vec<_> = schema.all_functions(id).into_iter().cloned().collect();
        let mut methods = HashMap::new();
        for f in functions {
            let args = StructDef {
                name: format!("{sname}_{}_args", f.name),
                file,
                kind: StructKind::Struct,
                fields: f.args.clone(),
                annotations: Default::default(),
                doc: None,
                span: f.span,
            };
            let mut fields = Vec::new();
            if let Some(ty) = &f.result {
                fields.push(FieldDef {
                    id: 0,
                    implicit_id: false,
                    name: "success".into(),
                    ty: ty.clone(),
                    req: Requiredness::Optional,
                    default: None,
                    annotations: Default::default(),
                    type_annotations: Default::default(),
                    doc: None,
                    span: f.span,
                });
            }
            fields.extend(f.throws.iter().map(|t| FieldDef {
                req: Requiredness::Optional,
                ..t.clone()
            }));
            let result = StructDef {
                name: format!("{sname}_{}_result", f.name),
                file,
                kind: StructKind::Struct,
                fields,
                annotations: Default::default(),
                doc: None,
                span: f.span,
            };
            let args_id = dynthrift_core::schema::StructId(schema.structs.len() as u32);
            schema.structs.push(args);
            let result_id = dynthrift_core::schema::StructId(schema.structs.len() as u32);
            schema.structs.push(result);
            methods.insert(
                f.name.clone(),
                Method {
                    name: f.name.clone(),
                    oneway: f.oneway,
                    args: args_id,
                    result: result_id,
                },
            );
        }
        Ok(IdlService {
            name: sname,
            types: DynSchema::new(schema)?,
            methods,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The schema's types, with the argument and result structs added.
    pub fn types(&self) -> &Arc<DynSchema> {
        &self.types
    }

    pub fn method(&self, name: &str) -> Option<&Method> {
        self.methods.get(name)
    }

    pub fn methods(&self) -> impl Iterator<Item = &Method> {
        self.methods.values()
    }

    fn expect(&self, name: &str) -> Result<&Method> {
        self.method(name).ok_or_else(|| {
            Error::schema(format!(
                "service '{}' has no method '{name}'",
                self.name
            ))
        })
    }

    /// An empty argument struct of `method`.
    pub fn args(&self, method: &str) -> Result<DynStruct> {
        DynStruct::new_by_id(&self.types, self.expect(method)?.args)
    }

    /// An empty result struct of `method`.
    pub fn result(&self, method: &str) -> Result<DynStruct> {
        DynStruct::new_by_id(&self.types, self.expect(method)?.result)
    }
}

/// A type that names one [`IdlService`] for the process; volo-thrift's message types
/// ([`DynRequest`], [`DynResponse`]) find the service through it, since its decode functions
/// take no context.
///
/// ```ignore
/// struct Echo;
/// impl dynthrift::volo::ServiceDef for Echo {
///     fn service() -> &'static IdlService {
///         static S: OnceLock<IdlService> = OnceLock::new();
///         S.get_or_init(|| IdlService::new(parse_file("echo.thrift").unwrap(), "Echo").unwrap())
///     }
/// }
/// ```
pub trait ServiceDef: Send + Sync + 'static {
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
        impl<S: ServiceDef> $ty<S> {
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

        impl<S: ServiceDef> volo_thrift::EntryMessage for $ty<S> {
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

fn empty<S: ServiceDef>(
    method: &str,
    which: impl FnOnce(&Method) -> dynthrift_core::schema::StructId,
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
    let limits = Limits::default();
    if is_binary_output::<P>() {
        return SCRATCH.with_borrow_mut(|buf| {
            buf.clear();
            let r = v
                .encode_into(buf, Protocol::Binary, &limits)
                .map_err(exception);
            if r.is_ok() {
                bytes::BufMut::put_slice(p.buf_mut(), buf);
            }
            r
        });
    }
    let bytes = v.encode(Protocol::Binary).map_err(exception)?;
    replay_struct(&bytes, &mut WriteSink(p))
}

fn decode_dyn<P: TInputProtocol>(
    mut v: DynStruct,
    p: &mut P,
) -> Result<DynStruct, ThriftException> {
    if is_binary_input::<P>() {
        let buf = p.buf();
        let chunk = buf.chunk();
        if chunk.len() == buf.remaining() {
            let n = v
                .decode_in(chunk, None, Protocol::Binary, &Limits::default())
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
    if is_binary_length::<P>() {
        return v.encoded_len(Protocol::Binary).unwrap_or(0);
    }
    let Ok(bytes) = v.encode(Protocol::Binary) else {
        return 0;
    };
    let mut sink = LenSink { p, len: 0 };
    match replay_struct(&bytes, &mut sink) {
        Ok(()) => sink.len,
        Err(_) => 0,
    }
}
