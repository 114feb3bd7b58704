//! The volo side of the interop tests, written by hand the way pilota and volo-build generate
//! it: pilota `Message`s built from protocol calls (no dynthrift code), volo-thrift
//! `EntryMessage` request/response enums dispatching on the method name, a server, a client.

use std::net::SocketAddr;

use bytes::Bytes;
use dynthrift::volo::pilota::thrift::error::ProtocolExceptionKind;
use dynthrift::volo::pilota::thrift::{
    ApplicationException, ApplicationExceptionKind, Message, TAsyncInputProtocol, TInputProtocol,
    TLengthProtocol, TListIdentifier, TMessageIdentifier, TOutputProtocol, TStructIdentifier,
    TType, ThriftException, new_protocol_exception,
};
use dynthrift::volo::volo::FastStr;
use dynthrift::volo::volo::service::{BoxCloneService, Service};
use dynthrift::volo::volo_thrift::context::{ClientContext, ServerContext};
use dynthrift::volo::volo_thrift::{ClientError, EntryMessage, ServerError};

const S: TStructIdentifier = TStructIdentifier { name: "S" };

#[derive(Clone, Debug, PartialEq)]
pub struct PItem {
    pub id: i64,
    pub name: Option<FastStr>,
    pub tags: Option<Vec<i32>>,
    pub blob: Option<Bytes>,
}

impl PItem {
    pub fn with_id(id: i64) -> PItem {
        PItem {
            id,
            name: None,
            tags: None,
            blob: None,
        }
    }
}

fn missing(what: &str) -> ThriftException {
    new_protocol_exception(
        ProtocolExceptionKind::InvalidData,
        format!("missing {what}"),
    )
}

impl Message for PItem {
    fn encode<T: TOutputProtocol>(&self, p: &mut T) -> Result<(), ThriftException> {
        p.write_struct_begin(&S)?;
        p.write_field_begin(TType::I64, 1)?;
        p.write_i64(self.id)?;
        p.write_field_end()?;
        if let Some(name) = &self.name {
            p.write_field_begin(TType::Binary, 2)?;
            p.write_faststr(name.clone())?;
            p.write_field_end()?;
        }
        if let Some(tags) = &self.tags {
            p.write_field_begin(TType::List, 3)?;
            p.write_list_begin(TListIdentifier::new(TType::I32, tags.len()))?;
            for t in tags {
                p.write_i32(*t)?;
            }
            p.write_list_end()?;
            p.write_field_end()?;
        }
        if let Some(blob) = &self.blob {
            p.write_field_begin(TType::Binary, 4)?;
            p.write_bytes(blob.clone())?;
            p.write_field_end()?;
        }
        p.write_field_stop()?;
        p.write_struct_end()
    }

    fn decode<T: TInputProtocol>(p: &mut T) -> Result<Self, ThriftException> {
        let mut v = PItem::with_id(0);
        let mut id = None;
        p.read_struct_begin()?;
        loop {
            let f = p.read_field_begin()?;
            match (f.id, f.field_type) {
                (_, TType::Stop) => break,
                (Some(1), TType::I64) => id = Some(p.read_i64()?),
                (Some(2), TType::Binary) => v.name = Some(p.read_faststr()?),
                (Some(3), TType::List) => {
                    let l = p.read_list_begin()?;
                    let mut tags = Vec::new();
                    for _ in 0..l.size {
                        tags.push(p.read_i32()?);
                    }
                    p.read_list_end()?;
                    v.tags = Some(tags);
                }
                (Some(4), TType::Binary) => v.blob = Some(p.read_bytes()?),
                (_, t) => {
                    p.skip(t)?;
                }
            }
            p.read_field_end()?;
        }
        p.read_struct_end()?;
        v.id = id.ok_or_else(|| missing("Item.id"))?;
        Ok(v)
    }

    async fn decode_async<T: TAsyncInputProtocol>(p: &mut T) -> Result<Self, ThriftException> {
        let mut v = PItem::with_id(0);
        let mut id = None;
        p.read_struct_begin().await?;
        loop {
            let f = p.read_field_begin().await?;
            match (f.id, f.field_type) {
                (_, TType::Stop) => break,
                (Some(1), TType::I64) => id = Some(p.read_i64().await?),
                (Some(2), TType::Binary) => v.name = Some(p.read_faststr().await?),
                (Some(3), TType::List) => {
                    let l = p.read_list_begin().await?;
                    let mut tags = Vec::new();
                    for _ in 0..l.size {
                        tags.push(p.read_i32().await?);
                    }
                    p.read_list_end().await?;
                    v.tags = Some(tags);
                }
                (Some(4), TType::Binary) => v.blob = Some(p.read_bytes().await?),
                (_, t) => {
                    p.skip(t).await?;
                }
            }
            p.read_field_end().await?;
        }
        p.read_struct_end().await?;
        v.id = id.ok_or_else(|| missing("Item.id"))?;
        Ok(v)
    }

    fn size<T: TLengthProtocol>(&self, p: &mut T) -> usize {
        let mut n = p.struct_begin_len(&S);
        n += p.field_begin_len(TType::I64, Some(1)) + p.i64_len(self.id) + p.field_end_len();
        if let Some(name) = &self.name {
            n += p.field_begin_len(TType::Binary, Some(2)) + p.faststr_len(name);
            n += p.field_end_len();
        }
        if let Some(tags) = &self.tags {
            n += p.field_begin_len(TType::List, Some(3));
            n += p.list_begin_len(TListIdentifier::new(TType::I32, tags.len()));
            n += tags.iter().map(|t| p.i32_len(*t)).sum::<usize>();
            n += p.list_end_len() + p.field_end_len();
        }
        if let Some(blob) = &self.blob {
            n += p.field_begin_len(TType::Binary, Some(4)) + p.bytes_len(blob);
            n += p.field_end_len();
        }
        n + p.field_stop_len() + p.struct_end_len()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct POops {
    pub why: Option<FastStr>,
}

/// A struct with a derived type as a field, in pilota's style: `before: i32 (1)`,
/// `inner: Item (2)`, `after: string (3)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Wrap {
    pub before: i32,
    pub inner: super::Item,
    pub after: FastStr,
}

impl Message for Wrap {
    fn encode<T: TOutputProtocol>(&self, p: &mut T) -> Result<(), ThriftException> {
        p.write_struct_begin(&S)?;
        p.write_field_begin(TType::I32, 1)?;
        p.write_i32(self.before)?;
        p.write_field_end()?;
        p.write_field_begin(TType::Struct, 2)?;
        self.inner.encode(p)?;
        p.write_field_end()?;
        p.write_field_begin(TType::Binary, 3)?;
        p.write_faststr(self.after.clone())?;
        p.write_field_end()?;
        p.write_field_stop()?;
        p.write_struct_end()
    }

    fn decode<T: TInputProtocol>(p: &mut T) -> Result<Self, ThriftException> {
        let (mut before, mut inner, mut after) = (None, None, None);
        p.read_struct_begin()?;
        loop {
            let f = p.read_field_begin()?;
            match (f.id, f.field_type) {
                (_, TType::Stop) => break,
                (Some(1), TType::I32) => before = Some(p.read_i32()?),
                (Some(2), TType::Struct) => inner = Some(super::Item::decode(p)?),
                (Some(3), TType::Binary) => after = Some(p.read_faststr()?),
                (_, t) => {
                    p.skip(t)?;
                }
            }
            p.read_field_end()?;
        }
        p.read_struct_end()?;
        Ok(Wrap {
            before: before.ok_or_else(|| missing("before"))?,
            inner: inner.ok_or_else(|| missing("inner"))?,
            after: after.ok_or_else(|| missing("after"))?,
        })
    }

    async fn decode_async<T: TAsyncInputProtocol>(_: &mut T) -> Result<Self, ThriftException> {
        Err(missing("async decode of Wrap (not used)"))
    }

    fn size<T: TLengthProtocol>(&self, p: &mut T) -> usize {
        p.struct_begin_len(&S)
            + p.field_begin_len(TType::I32, Some(1))
            + p.i32_len(self.before)
            + p.field_end_len()
            + p.field_begin_len(TType::Struct, Some(2))
            + self.inner.size(p)
            + p.field_end_len()
            + p.field_begin_len(TType::Binary, Some(3))
            + p.faststr_len(&self.after)
            + p.field_end_len()
            + p.field_stop_len()
            + p.struct_end_len()
    }
}

// ---------------------------------------------------------------------------------------------
// Requests and replies: the argument and result structs of `echo` and `add`, by method name.

/// A struct of fields read one by one, for the args/result structs below: calls `f` with each
/// field's id and type (it reads the value and returns true, or returns false to skip it).
fn read_fields<T: TInputProtocol>(
    p: &mut T,
    mut f: impl FnMut(&mut T, i16, TType) -> Result<bool, ThriftException>,
) -> Result<(), ThriftException> {
    p.read_struct_begin()?;
    loop {
        let field = p.read_field_begin()?;
        if field.field_type == TType::Stop {
            break;
        }
        if !f(p, field.id.unwrap_or(i16::MIN), field.field_type)? {
            p.skip(field.field_type)?;
        }
        p.read_field_end()?;
    }
    p.read_struct_end()
}

fn unknown_method(name: &str) -> ThriftException {
    ThriftException::Application(ApplicationException::new(
        ApplicationExceptionKind::UNKNOWN_METHOD,
        format!("unknown method {name}"),
    ))
}

fn no_async() -> ThriftException {
    new_protocol_exception(
        ProtocolExceptionKind::NotImplemented,
        "the test peer uses framed transports only",
    )
}

/// Writes a struct with one field `id` of struct type, encoded by `inner`.
fn write_one<T: TOutputProtocol>(
    p: &mut T,
    id: i16,
    ttype: TType,
    inner: impl FnOnce(&mut T) -> Result<(), ThriftException>,
) -> Result<(), ThriftException> {
    p.write_struct_begin(&S)?;
    p.write_field_begin(ttype, id)?;
    inner(p)?;
    p.write_field_end()?;
    p.write_field_stop()?;
    p.write_struct_end()
}

fn one_len<T: TLengthProtocol>(p: &mut T, id: i16, ttype: TType, inner: usize) -> usize {
    p.struct_begin_len(&S)
        + p.field_begin_len(ttype, Some(id))
        + inner
        + p.field_end_len()
        + p.field_stop_len()
        + p.struct_end_len()
}

#[derive(Clone, Debug)]
pub enum PReq {
    Echo(PItem),
    Add(i32, i32),
}

impl EntryMessage for PReq {
    fn encode<T: TOutputProtocol>(&self, p: &mut T) -> Result<(), ThriftException> {
        match self {
            PReq::Echo(item) => write_one(p, 1, TType::Struct, |p| item.encode(p)),
            PReq::Add(a, b) => {
                p.write_struct_begin(&S)?;
                p.write_field_begin(TType::I32, 1)?;
                p.write_i32(*a)?;
                p.write_field_end()?;
                p.write_field_begin(TType::I32, 2)?;
                p.write_i32(*b)?;
                p.write_field_end()?;
                p.write_field_stop()?;
                p.write_struct_end()
            }
        }
    }

    fn decode<T: TInputProtocol>(
        p: &mut T,
        ident: &TMessageIdentifier,
    ) -> Result<Self, ThriftException> {
        match &*ident.name {
            "echo" => {
                let mut item = None;
                read_fields(p, |p, id, t| {
                    Ok(if (id, t) == (1, TType::Struct) {
                        item = Some(PItem::decode(p)?);
                        true
                    } else {
                        false
                    })
                })?;
                Ok(PReq::Echo(item.ok_or_else(|| missing("item"))?))
            }
            "add" => {
                let (mut a, mut b) = (0, 0);
                read_fields(p, |p, id, t| {
                    Ok(match (id, t) {
                        (1, TType::I32) => {
                            a = p.read_i32()?;
                            true
                        }
                        (2, TType::I32) => {
                            b = p.read_i32()?;
                            true
                        }
                        _ => false,
                    })
                })?;
                Ok(PReq::Add(a, b))
            }
            other => Err(unknown_method(other)),
        }
    }

    async fn decode_async<T: TAsyncInputProtocol>(
        _: &mut T,
        _: &TMessageIdentifier,
    ) -> Result<Self, ThriftException> {
        Err(no_async())
    }

    fn size<T: TLengthProtocol>(&self, p: &mut T) -> usize {
        match self {
            PReq::Echo(item) => {
                let inner = item.size(p);
                one_len(p, 1, TType::Struct, inner)
            }
            PReq::Add(a, b) => {
                p.struct_begin_len(&S)
                    + p.field_begin_len(TType::I32, Some(1))
                    + p.i32_len(*a)
                    + p.field_end_len()
                    + p.field_begin_len(TType::I32, Some(2))
                    + p.i32_len(*b)
                    + p.field_end_len()
                    + p.field_stop_len()
                    + p.struct_end_len()
            }
        }
    }
}

#[derive(Clone, Debug)]
pub enum PResp {
    Echo(Result<PItem, POops>),
    Add(i32),
}

fn encode_oops<T: TOutputProtocol>(
    p: &mut T,
    why: &Option<FastStr>,
) -> Result<(), ThriftException> {
    p.write_struct_begin(&S)?;
    if let Some(why) = why {
        p.write_field_begin(TType::Binary, 1)?;
        p.write_faststr(why.clone())?;
        p.write_field_end()?;
    }
    p.write_field_stop()?;
    p.write_struct_end()
}

fn oops_len<T: TLengthProtocol>(p: &mut T, why: &Option<FastStr>) -> usize {
    let mut n = p.struct_begin_len(&S);
    if let Some(why) = why {
        n += p.field_begin_len(TType::Binary, Some(1)) + p.faststr_len(why) + p.field_end_len();
    }
    n + p.field_stop_len() + p.struct_end_len()
}

fn decode_oops<T: TInputProtocol>(p: &mut T) -> Result<Option<FastStr>, ThriftException> {
    let mut why = None;
    read_fields(p, |p, id, t| {
        Ok(if (id, t) == (1, TType::Binary) {
            why = Some(p.read_faststr()?);
            true
        } else {
            false
        })
    })?;
    Ok(why)
}

impl EntryMessage for PResp {
    fn encode<T: TOutputProtocol>(&self, p: &mut T) -> Result<(), ThriftException> {
        match self {
            PResp::Echo(Ok(item)) => write_one(p, 0, TType::Struct, |p| item.encode(p)),
            PResp::Echo(Err(oops)) => write_one(p, 1, TType::Struct, |p| encode_oops(p, &oops.why)),
            PResp::Add(n) => write_one(p, 0, TType::I32, |p| p.write_i32(*n)),
        }
    }

    fn decode<T: TInputProtocol>(
        p: &mut T,
        ident: &TMessageIdentifier,
    ) -> Result<Self, ThriftException> {
        match &*ident.name {
            "echo" => {
                let mut r = None;
                read_fields(p, |p, id, t| {
                    Ok(match (id, t) {
                        (0, TType::Struct) => {
                            r = Some(Ok(PItem::decode(p)?));
                            true
                        }
                        (1, TType::Struct) => {
                            r = Some(Err(POops {
                                why: decode_oops(p)?,
                            }));
                            true
                        }
                        _ => false,
                    })
                })?;
                Ok(PResp::Echo(r.ok_or_else(|| missing("echo result"))?))
            }
            "add" => {
                let mut r = None;
                read_fields(p, |p, id, t| {
                    Ok(if (id, t) == (0, TType::I32) {
                        r = Some(p.read_i32()?);
                        true
                    } else {
                        false
                    })
                })?;
                Ok(PResp::Add(r.ok_or_else(|| missing("add result"))?))
            }
            other => Err(unknown_method(other)),
        }
    }

    async fn decode_async<T: TAsyncInputProtocol>(
        _: &mut T,
        _: &TMessageIdentifier,
    ) -> Result<Self, ThriftException> {
        Err(no_async())
    }

    fn size<T: TLengthProtocol>(&self, p: &mut T) -> usize {
        match self {
            PResp::Echo(Ok(item)) => {
                let inner = item.size(p);
                one_len(p, 0, TType::Struct, inner)
            }
            PResp::Echo(Err(oops)) => {
                let inner = oops_len(p, &oops.why);
                one_len(p, 1, TType::Struct, inner)
            }
            PResp::Add(n) => {
                let inner = p.i32_len(*n);
                one_len(p, 0, TType::I32, inner)
            }
        }
    }
}

/// The pilota-style server: echo returns the item, or `Oops` for a negative id; add adds.
#[derive(Clone)]
pub struct PilotaEchoServer;

impl Service<ServerContext, PReq> for PilotaEchoServer {
    type Response = PResp;
    type Error = ServerError;

    async fn call(&self, _cx: &mut ServerContext, req: PReq) -> Result<PResp, ServerError> {
        Ok(match req {
            PReq::Echo(item) if item.id < 0 => PResp::Echo(Err(POops {
                why: Some(format!("negative id {}", item.id).into()),
            })),
            PReq::Echo(item) => PResp::Echo(Ok(item)),
            PReq::Add(a, b) => PResp::Add(a.wrapping_add(b)),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// `echo` with a derived type as the argument and success value (pilota `Message` via the
// derive), in hand-written volo glue.

#[derive(Clone, Debug)]
pub struct DReq<M>(pub M);

#[derive(Clone, Debug)]
pub struct DResp<M>(pub Result<M, FastStr>);

impl<M: Message + Clone + Sync> EntryMessage for DReq<M> {
    fn encode<T: TOutputProtocol>(&self, p: &mut T) -> Result<(), ThriftException> {
        write_one(p, 1, TType::Struct, |p| self.0.encode(p))
    }

    fn decode<T: TInputProtocol>(
        p: &mut T,
        ident: &TMessageIdentifier,
    ) -> Result<Self, ThriftException> {
        if &*ident.name != "echo" {
            return Err(unknown_method(&ident.name));
        }
        let mut m = None;
        read_fields(p, |p, id, t| {
            Ok(if (id, t) == (1, TType::Struct) {
                m = Some(M::decode(p)?);
                true
            } else {
                false
            })
        })?;
        Ok(DReq(m.ok_or_else(|| missing("item"))?))
    }

    async fn decode_async<T: TAsyncInputProtocol>(
        _: &mut T,
        _: &TMessageIdentifier,
    ) -> Result<Self, ThriftException> {
        Err(no_async())
    }

    fn size<T: TLengthProtocol>(&self, p: &mut T) -> usize {
        let inner = self.0.size(p);
        one_len(p, 1, TType::Struct, inner)
    }
}

impl<M: Message + Clone + Sync> EntryMessage for DResp<M> {
    fn encode<T: TOutputProtocol>(&self, p: &mut T) -> Result<(), ThriftException> {
        match &self.0 {
            Ok(m) => write_one(p, 0, TType::Struct, |p| m.encode(p)),
            Err(why) => write_one(p, 1, TType::Struct, |p| encode_oops(p, &Some(why.clone()))),
        }
    }

    fn decode<T: TInputProtocol>(
        p: &mut T,
        ident: &TMessageIdentifier,
    ) -> Result<Self, ThriftException> {
        if &*ident.name != "echo" {
            return Err(unknown_method(&ident.name));
        }
        let mut r = None;
        read_fields(p, |p, id, t| {
            Ok(match (id, t) {
                (0, TType::Struct) => {
                    r = Some(Ok(M::decode(p)?));
                    true
                }
                (1, TType::Struct) => {
                    r = Some(Err(decode_oops(p)?.unwrap_or_default()));
                    true
                }
                _ => false,
            })
        })?;
        Ok(DResp(r.ok_or_else(|| missing("echo result"))?))
    }

    async fn decode_async<T: TAsyncInputProtocol>(
        _: &mut T,
        _: &TMessageIdentifier,
    ) -> Result<Self, ThriftException> {
        Err(no_async())
    }

    fn size<T: TLengthProtocol>(&self, p: &mut T) -> usize {
        match &self.0 {
            Ok(m) => {
                let inner = m.size(p);
                one_len(p, 0, TType::Struct, inner)
            }
            Err(why) => {
                let inner = oops_len(p, &Some(why.clone()));
                one_len(p, 1, TType::Struct, inner)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A volo-thrift client (default: TTHeader + framed + Binary, pooled connections).

pub type Client<Q, R> =
    dynthrift::volo::volo_thrift::Client<BoxCloneService<ClientContext, Q, Option<R>, ClientError>>;

pub struct Mk;

impl<X> dynthrift::volo::volo::client::MkClient<dynthrift::volo::volo_thrift::Client<X>> for Mk {
    type Target = dynthrift::volo::volo_thrift::Client<X>;
    fn mk_client(&self, c: dynthrift::volo::volo_thrift::Client<X>) -> Self::Target {
        c
    }
}

pub fn client<Q, R>(addr: SocketAddr) -> Client<Q, R>
where
    Q: EntryMessage + Send + Sync + Clone + 'static,
    R: EntryMessage + Send + Sync + Clone + 'static,
{
    dynthrift::volo::volo_thrift::client::ClientBuilder::new("Echo", Mk)
        .address(addr)
        .build()
}

pub async fn call<Q, R>(client: &Client<Q, R>, method: &str, req: Q) -> Result<R, ClientError>
where
    Q: EntryMessage + Send + Sync + Clone + 'static,
    R: EntryMessage + Send + Sync + Clone + 'static,
{
    let mut cx = client.make_cx(method, false);
    let r = client.call(&mut cx, req).await?;
    Ok(r.expect("a reply to a two-way call"))
}
