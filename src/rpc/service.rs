//! Method tables. [`IdlService`] is a service of an IDL file (with `extends` followed), its
//! argument and result structs derived from the IDL as Apache's generators do: `m_args` holds
//! the arguments by their ids, `m_result` holds the return value as field 0 (`success`) and each
//! declared exception by its id. [`Router`] maps method names to handlers: typed (derived Rust
//! argument and result structs) or dynamic ([`DynStruct`] arguments of an [`IdlService`]).

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use dynthrift_core::desc::Describe;
use dynthrift_core::schema::{FieldDef, Requiredness, StructDef, StructId, StructKind, Ty};
use dynthrift_core::wire::Protocol;
use dynthrift_core::{ApplicationErrorKind, ApplicationException, Error, Result, Schema};
use dynthrift_interp::{DynSchema, DynStruct, Limits, Value};
use futures_util::FutureExt;

use crate::codec::{Codec, Options};

/// One method of an [`IdlService`].
#[derive(Clone, Debug)]
pub struct MethodDesc {
    pub name: String,
    pub oneway: bool,
    /// The return type; `None` for `void`.
    pub returns: Option<Ty>,
    /// The argument struct (`name_args`).
    pub args: StructId,
    /// The result struct (`name_result`): field 0 `success`, then the declared exceptions.
    pub result: StructId,
    /// Declared exceptions: field id in the result struct and the exception's struct.
    pub throws: Vec<(i16, StructId)>,
}

/// A service of an IDL file, ready to serve or call with IDL-only values.
#[derive(Debug)]
pub struct IdlService {
    name: String,
    types: Arc<DynSchema>,
    methods: Vec<MethodDesc>,
    by_name: HashMap<String, usize>,
}

impl IdlService {
    /// The service `service` (`Name` or `file.Name`) of `schema`, its inherited methods included.
    pub fn new(schema: Schema, service: &str) -> Result<Arc<IdlService>> {
        let mut schema = schema;
        let id = schema
            .service_id(service)
            .ok_or_else(|| Error::schema(format!("no service named '{service}'")))?;
        let functions: Vec<_> = schema.all_functions(id).into_iter().cloned().collect();
        let file = schema.service_def(id).file;
        let mut methods = Vec::with_capacity(functions.len());
        let mut by_name = HashMap::new();
        for f in functions {
            // A method redefined by a derived service replaces the inherited one.
            let args = StructId(schema.structs.len() as u32);
            schema.structs.push(StructDef {
                name: format!("{}_args", f.name),
                file,
                kind: StructKind::Struct,
                fields: f.args.clone(),
                annotations: Default::default(),
                doc: None,
                span: f.span,
            });
            let result = StructId(schema.structs.len() as u32);
            let mut fields = Vec::with_capacity(1 + f.throws.len());
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
            let mut throws = Vec::with_capacity(f.throws.len());
            for t in &f.throws {
                let Ty::Struct(sid) = t.ty else {
                    return Err(Error::schema(format!(
                        "{}.{}: '{}' in throws is not an exception",
                        service, f.name, t.name
                    )));
                };
                throws.push((t.id, sid));
                fields.push(FieldDef {
                    req: Requiredness::Optional,
                    default: None,
                    ..t.clone()
                });
            }
            schema.structs.push(StructDef {
                name: format!("{}_result", f.name),
                file,
                kind: StructKind::Struct,
                fields,
                annotations: Default::default(),
                doc: None,
                span: f.span,
            });
            let m = MethodDesc {
                name: f.name.clone(),
                oneway: f.oneway,
                returns: f.result.clone(),
                args,
                result,
                throws,
            };
            match by_name.get(&f.name) {
                Some(&i) => methods[i] = m,
                None => {
                    by_name.insert(f.name.clone(), methods.len());
                    methods.push(m);
                }
            }
        }
        Ok(Arc::new(IdlService {
            name: schema.service_def(id).name.clone(),
            types: DynSchema::new(schema)?,
            methods,
            by_name,
        }))
    }

    /// Parses the IDL file at `path` (and its includes) and takes its service `service`.
    pub fn load(path: impl AsRef<Path>, service: &str) -> Result<Arc<IdlService>> {
        IdlService::new(crate::idl::parse_file(path)?, service)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The types of the IDL (plus the argument and result structs): build values with
    /// `DynStruct::new(service.types(), "Name")`.
    pub fn types(&self) -> &Arc<DynSchema> {
        &self.types
    }

    /// Methods in declaration order, inherited ones first.
    pub fn methods(&self) -> &[MethodDesc] {
        &self.methods
    }

    pub fn method(&self, name: &str) -> Option<&MethodDesc> {
        self.by_name.get(name).map(|&i| &self.methods[i])
    }

    pub(crate) fn expect_method(&self, name: &str) -> Result<&MethodDesc> {
        self.method(name)
            .ok_or_else(|| Error::schema(format!("service {} has no method '{name}'", self.name)))
    }

    /// An empty argument struct of `method`, to fill with `set`.
    pub fn args(&self, method: &str) -> Result<DynStruct> {
        DynStruct::new_by_id(&self.types, self.expect_method(method)?.args)
    }

    /// A value of the struct `name` of the IDL.
    pub fn new_struct(&self, name: &str) -> Result<DynStruct> {
        DynStruct::new(&self.types, name)
    }

    /// Builds `method`'s result struct from what a handler returned.
    pub(crate) fn result_struct(
        &self,
        m: &MethodDesc,
        outcome: std::result::Result<Option<Value>, HandlerError>,
    ) -> std::result::Result<DynStruct, ApplicationException> {
        let internal =
            |msg: String| ApplicationException::new(ApplicationErrorKind::InternalError, msg);
        let mut result =
            DynStruct::new_by_id(&self.types, m.result).map_err(|e| internal(e.to_string()))?;
        match outcome {
            Ok(None) if m.returns.is_none() => {}
            Ok(None) => {
                return Err(ApplicationException::new(
                    ApplicationErrorKind::MissingResult,
                    format!("{} returned no value", m.name),
                ));
            }
            Ok(Some(v)) => {
                if m.returns.is_none() {
                    return Err(internal(format!("{} is void but returned a value", m.name)));
                }
                result
                    .set_by_id(0, v)
                    .map_err(|e| internal(format!("{}: bad return value: {e}", m.name)))?;
            }
            Err(HandlerError::Application(e)) => return Err(e),
            Err(HandlerError::Exception(e)) => {
                let same = Arc::ptr_eq(e.types(), &self.types);
                let Some(&(id, _)) = m
                    .throws
                    .iter()
                    .find(|(_, sid)| same && *sid == e.struct_id())
                else {
                    return Err(internal(format!(
                        "{} raised {}, which it does not declare",
                        m.name,
                        e.name()
                    )));
                };
                result
                    .set_by_id(id, e)
                    .map_err(|e| internal(e.to_string()))?;
            }
        }
        Ok(result)
    }
}

/// What a dynamic handler returns instead of a value.
#[derive(Debug)]
pub enum HandlerError {
    /// One of the method's declared exceptions (a struct of the service's types).
    Exception(DynStruct),
    /// A `TApplicationException` for the client.
    Application(ApplicationException),
}

impl From<ApplicationException> for HandlerError {
    fn from(e: ApplicationException) -> Self {
        HandlerError::Application(e)
    }
}

impl From<DynStruct> for HandlerError {
    fn from(e: DynStruct) -> Self {
        HandlerError::Exception(e)
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers, type-erased

pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// One request as a handler sees it.
pub(crate) struct Request {
    pub protocol: Protocol,
    pub limits: Limits,
    /// The argument struct's bytes (after the envelope).
    pub body: Bytes,
    /// The reply's envelope, already written; the handler appends the result struct.
    pub out: Vec<u8>,
}

/// What a handler produced.
pub(crate) enum Outcome {
    /// The whole reply message (`Request::out` with the result struct appended).
    Reply(Vec<u8>),
    Exception(ApplicationException),
    /// A oneway call: nothing to send.
    Nothing,
}

pub(crate) trait Handler: Send + Sync {
    fn oneway(&self) -> bool;
    fn call(&self, req: Request) -> BoxFuture<Outcome>;
}

fn protocol_error(e: impl std::fmt::Display) -> ApplicationException {
    ApplicationException::new(ApplicationErrorKind::ProtocolError, e.to_string())
}

fn panicked() -> ApplicationException {
    ApplicationException::new(ApplicationErrorKind::InternalError, "the handler panicked")
}

/// A codec per protocol, made on first use with the first request's limits.
struct Codecs<T>([OnceLock<std::result::Result<Codec<T>, String>>; 2]);

impl<T: Describe> Codecs<T> {
    fn new() -> Self {
        Codecs([OnceLock::new(), OnceLock::new()])
    }

    fn get(
        &self,
        protocol: Protocol,
        limits: &Limits,
    ) -> std::result::Result<&Codec<T>, ApplicationException> {
        let slot = &self.0[matches!(protocol, Protocol::Compact) as usize];
        slot.get_or_init(|| {
            let mut options = Options::default().protocol(protocol);
            options.limits = *limits;
            Codec::with_options(options).map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| ApplicationException::new(ApplicationErrorKind::InternalError, e.clone()))
    }
}

struct Typed<A, R, F> {
    f: F,
    args: Codecs<A>,
    result: Codecs<R>,
}

impl<A, R, F, Fut> Handler for Typed<A, R, F>
where
    A: Describe + Send + 'static,
    R: Describe + Send + 'static,
    F: Fn(A) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = std::result::Result<R, ApplicationException>> + Send + 'static,
{
    fn oneway(&self) -> bool {
        false
    }

    fn call(&self, req: Request) -> BoxFuture<Outcome> {
        let args = match self.args.get(req.protocol, &req.limits) {
            Ok(c) => c.decode_bytes(&req.body),
            Err(e) => return Box::pin(std::future::ready(Outcome::Exception(e))),
        };
        let codec = match self.result.get(req.protocol, &req.limits) {
            Ok(c) => c.clone(),
            Err(e) => return Box::pin(std::future::ready(Outcome::Exception(e))),
        };
        let fut = match args {
            Ok(a) => std::panic::catch_unwind(AssertUnwindSafe(|| (self.f)(a))),
            Err(e) => return Box::pin(std::future::ready(Outcome::Exception(protocol_error(e)))),
        };
        let mut out = req.out;
        Box::pin(async move {
            let Ok(fut) = fut else {
                return Outcome::Exception(panicked());
            };
            match AssertUnwindSafe(fut).catch_unwind().await {
                Ok(Ok(r)) => match codec.encode_into(&r, &mut out) {
                    Ok(()) => Outcome::Reply(out),
                    Err(e) => Outcome::Exception(ApplicationException::new(
                        ApplicationErrorKind::InternalError,
                        format!("encoding the result: {e}"),
                    )),
                },
                Ok(Err(e)) => Outcome::Exception(e),
                Err(_) => Outcome::Exception(panicked()),
            }
        })
    }
}

struct TypedOneway<A, F> {
    f: F,
    args: Codecs<A>,
}

impl<A, F, Fut> Handler for TypedOneway<A, F>
where
    A: Describe + Send + 'static,
    F: Fn(A) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    fn oneway(&self) -> bool {
        true
    }

    fn call(&self, req: Request) -> BoxFuture<Outcome> {
        let args = self
            .args
            .get(req.protocol, &req.limits)
            .ok()
            .and_then(|c| c.decode_bytes(&req.body).ok());
        // A oneway call has no reply, so bad arguments cannot be reported.
        let Some(a) = args else {
            return Box::pin(std::future::ready(Outcome::Nothing));
        };
        let fut = std::panic::catch_unwind(AssertUnwindSafe(|| (self.f)(a)));
        Box::pin(async move {
            if let Ok(fut) = fut {
                let _ = AssertUnwindSafe(fut).catch_unwind().await;
            }
            Outcome::Nothing
        })
    }
}

struct Dynamic<F> {
    service: Arc<IdlService>,
    index: usize,
    method: Arc<str>,
    f: F,
}

impl<F, Fut> Handler for Dynamic<F>
where
    F: Fn(Arc<str>, DynStruct) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = std::result::Result<Option<Value>, HandlerError>> + Send + 'static,
{
    fn oneway(&self) -> bool {
        self.service.methods[self.index].oneway
    }

    fn call(&self, req: Request) -> BoxFuture<Outcome> {
        let m = &self.service.methods[self.index];
        let oneway = m.oneway;
        let args = DynStruct::new_by_id(&self.service.types, m.args).and_then(|mut a| {
            let used = a.decode_in(&req.body, Some(&req.body), req.protocol, &req.limits)?;
            if used != req.body.len() {
                return Err(Error::decode(
                    dynthrift_core::ErrorKind::InvalidData,
                    used,
                    format!("{} bytes after the arguments", req.body.len() - used),
                ));
            }
            Ok(a)
        });
        let args = match args {
            Ok(a) => a,
            Err(_) if oneway => return Box::pin(std::future::ready(Outcome::Nothing)),
            Err(e) => return Box::pin(std::future::ready(Outcome::Exception(protocol_error(e)))),
        };
        let fut =
            std::panic::catch_unwind(AssertUnwindSafe(|| (self.f)(self.method.clone(), args)));
        let service = self.service.clone();
        let index = self.index;
        let protocol = req.protocol;
        let limits = req.limits;
        let mut out = req.out;
        Box::pin(async move {
            let outcome = match fut {
                Ok(fut) => AssertUnwindSafe(fut).catch_unwind().await,
                Err(p) => Err(p),
            };
            if oneway {
                return Outcome::Nothing;
            }
            let Ok(outcome) = outcome else {
                return Outcome::Exception(panicked());
            };
            let m = &service.methods[index];
            match service.result_struct(m, outcome) {
                Ok(r) => match r.encode_into(&mut out, protocol, &limits) {
                    Ok(()) => Outcome::Reply(out),
                    Err(e) => Outcome::Exception(ApplicationException::new(
                        ApplicationErrorKind::InternalError,
                        format!("encoding the result: {e}"),
                    )),
                },
                Err(e) => Outcome::Exception(e),
            }
        })
    }
}

/// A server's method table: method name → handler.
#[derive(Default)]
pub struct Router {
    pub(crate) handlers: HashMap<String, Arc<dyn Handler>>,
    /// The first configuration mistake, reported when the server starts.
    pub(crate) error: Option<String>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<_> = self.handlers.keys().collect();
        names.sort();
        f.debug_struct("Router")
            .field("methods", &names)
            .field("error", &self.error)
            .finish()
    }
}

impl Router {
    pub fn new() -> Router {
        Router::default()
    }

    fn insert(mut self, name: &str, h: Arc<dyn Handler>) -> Router {
        if self.handlers.insert(name.to_string(), h).is_some() && self.error.is_none() {
            self.error = Some(format!("method '{name}' registered twice"));
        }
        self
    }

    fn fail(mut self, msg: String) -> Router {
        self.error.get_or_insert(msg);
        self
    }

    /// A method with derived argument and result structs. `A` holds the arguments by their
    /// ids; `R` is the result struct: field 0 the return value, other ids the declared
    /// exceptions (an `Option` each, or a Rust enum derived as a union). Returning
    /// `Err(ApplicationException)` sends that to the client; a panic sends an internal error.
    pub fn typed<A, R, F, Fut>(self, name: &str, f: F) -> Router
    where
        A: Describe + Send + 'static,
        R: Describe + Send + 'static,
        F: Fn(A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = std::result::Result<R, ApplicationException>> + Send + 'static,
    {
        if let Err(e) = crate::Codec::<A>::new().and(crate::Codec::<R>::new()) {
            return self.fail(format!("method '{name}': {e}"));
        }
        self.insert(
            name,
            Arc::new(Typed {
                f,
                args: Codecs::new(),
                result: Codecs::new(),
            }),
        )
    }

    /// A oneway method with a derived argument struct: no reply is sent.
    pub fn typed_oneway<A, F, Fut>(self, name: &str, f: F) -> Router
    where
        A: Describe + Send + 'static,
        F: Fn(A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        if let Err(e) = crate::Codec::<A>::new() {
            return self.fail(format!("method '{name}': {e}"));
        }
        self.insert(
            name,
            Arc::new(TypedOneway {
                f,
                args: Codecs::new(),
            }),
        )
    }

    /// A method of an IDL service, served with IDL-only values: `f` gets the method name and
    /// the argument struct (`m_args`) and returns the value (`None` for `void`), a declared
    /// exception, or a `TApplicationException`.
    pub fn dynamic<F, Fut>(self, service: &Arc<IdlService>, method: &str, f: F) -> Router
    where
        F: Fn(Arc<str>, DynStruct) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = std::result::Result<Option<Value>, HandlerError>> + Send + 'static,
    {
        let Some(&index) = service.by_name.get(method) else {
            return self.fail(format!("service {} has no method '{method}'", service.name));
        };
        self.insert(
            method,
            Arc::new(Dynamic {
                service: service.clone(),
                index,
                method: method.into(),
                f,
            }),
        )
    }

    /// Every method of an IDL service, served by one function that gets the method name.
    pub fn dynamic_service<F, Fut>(self, service: &Arc<IdlService>, f: F) -> Router
    where
        F: Fn(Arc<str>, DynStruct) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = std::result::Result<Option<Value>, HandlerError>> + Send + 'static,
    {
        let mut r = self;
        for m in &service.methods {
            r = r.dynamic(service, &m.name, f.clone());
        }
        r
    }

    /// Apache's multiplexed protocol: `other`'s methods, called as `service:method`.
    pub fn mount(mut self, service: &str, other: Router) -> Router {
        if let Some(e) = other.error {
            self = self.fail(e);
        }
        for (name, h) in other.handlers {
            self = self.insert(&format!("{service}:{name}"), h);
        }
        self
    }

    /// The registered method names.
    pub fn method_names(&self) -> impl Iterator<Item = &str> {
        self.handlers.keys().map(String::as_str)
    }
}
