//! Volo and pilota integration (feature `volo`).
//!
//! - Every `#[derive(Thrift)]` struct, exception and union implements pilota's
//!   [`Message`](pilota::thrift::Message), so it can be a field of pilota-generated code, an
//!   argument or result of a volo-thrift service, or be sent with pilota's protocols directly.
//! - IDL services loaded at run time are served and called through volo-thrift:
//!   [`crate::rpc::IdlService`] describes a service, [`DynRequest`] / [`DynResponse`] are its
//!   requests and replies (volo-thrift's `EntryMessage`).
//!
//! # How the bytes move
//!
//! pilota's `Message` hands the implementation a protocol object, not a buffer. When the
//! protocol is pilota's Binary protocol over a contiguous buffer (what volo-thrift uses for
//! Binary: `TBinaryProtocol` over `Bytes` to decode, over `LinkedBytes` or `BytesMut` to
//! encode and `()` to size), dynthrift's compiled codec runs on that buffer directly. For any
//! other protocol (Compact, pilota's little-endian or unchecked Binary variants, and volo's
//! unframed *async* decode, which reads from the socket and has no buffer at all), the value
//! goes through the protocol's own calls: dynthrift's Binary bytes are replayed as protocol
//! writes, and a protocol's reads are collected into Binary bytes that dynthrift then decodes.
//! Both ways give the same value; only the speed differs.

use std::any::type_name;
use std::sync::OnceLock;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use linkedbytes::LinkedBytes;
use pilota::thrift::{
    ProtocolException, ProtocolExceptionKind, TAsyncInputProtocol, TFieldIdentifier,
    TInputProtocol, TLengthProtocol, TListIdentifier, TMapIdentifier, TOutputProtocol,
    TSetIdentifier, TStructIdentifier, TType as PType, ThriftException,
    binary::TBinaryProtocol,
    compact::{TCompactInputProtocol, TCompactOutputProtocol},
};

use crate::wire::ProtoRead;
use crate::wire::binary::BinaryReader;
use crate::{Codec, Describe, Error, ErrorKind, Protocol, TType};
use dynthrift_core::desc::{StructDesc, TypeDesc};

/// The `volo` crate (services, clients, addresses) that `volo_thrift` is built on.
pub use ::volo;
pub use pilota;
pub use volo_thrift;

mod service;
pub use service::{DescribeService, DynRequest, DynResponse};

/// Maximum nesting of values collected from a protocol (the codec's default depth limit).
const DEPTH: usize = dynthrift_core::wire::DEFAULT_DEPTH_LIMIT as usize;

/// A dynthrift error as pilota's exception: a protocol exception whose message is the error's
/// full text (kind, field path, offset).
pub fn exception(e: Error) -> ThriftException {
    exception_of(&e)
}

fn exception_of(e: &Error) -> ThriftException {
    let kind = match e.kind() {
        ErrorKind::NegativeLength => ProtocolExceptionKind::NegativeSize,
        ErrorKind::LengthLimit => ProtocolExceptionKind::SizeLimit,
        ErrorKind::DepthLimit => ProtocolExceptionKind::DepthLimit,
        ErrorKind::InvalidMessage => ProtocolExceptionKind::BadVersion,
        ErrorKind::Schema => ProtocolExceptionKind::Unknown,
        _ => ProtocolExceptionKind::InvalidData,
    };
    ThriftException::Protocol(ProtocolException::new(kind, e.to_string()))
}

fn invalid(msg: String) -> ThriftException {
    ThriftException::Protocol(ProtocolException::new(
        ProtocolExceptionKind::InvalidData,
        msg,
    ))
}

/// Where the derive keeps a type's Binary codec for pilota's `Message` (one per type, built on
/// first use).
#[derive(Debug)]
pub struct CodecCell<T> {
    cell: OnceLock<Result<Typed<T>, Error>>,
}

#[derive(Debug)]
struct Typed<T> {
    binary: Codec<T>,
    compact: Codec<T>,
    /// The type has `Bytes` or `FastStr` values, which can share a `Bytes` input.
    shares: bool,
}

impl<T: Describe> Typed<T> {
    fn codec(&self, protocol: Protocol) -> &Codec<T> {
        match protocol {
            Protocol::Binary => &self.binary,
            Protocol::Compact => &self.compact,
        }
    }
}

impl<T> CodecCell<T> {
    #[allow(clippy::new_without_default)]
    pub const fn new() -> CodecCell<T> {
        CodecCell {
            cell: OnceLock::new(),
        }
    }
}

impl<T: Describe> CodecCell<T> {
    fn get(&self) -> Result<&Typed<T>, ThriftException> {
        match self.cell.get_or_init(|| {
            Ok(Typed {
                binary: Codec::new()?,
                compact: Codec::with_options(crate::Options::compact())?,
                shares: shares_source(T::TYPE, &mut Vec::new()),
            })
        }) {
            Ok(t) => Ok(t),
            Err(e) => Err(exception_of(e)),
        }
    }

    /// The Binary codec, for code that wants to use it beside the `Message` impl.
    pub fn codec(&self) -> Result<&Codec<T>, ThriftException> {
        self.get().map(|t| &t.binary)
    }

    /// pilota's `Message::encode`.
    pub fn encode<P: TOutputProtocol>(&self, v: &T, p: &mut P) -> Result<(), ThriftException> {
        let t = self.get()?;
        if let Some(protocol) = output_kind::<P>() {
            let codec = t.codec(protocol);
            return put_encoded(p, |buf| codec.write(v, buf));
        }
        let bytes = t.binary.encode(v).map_err(exception)?;
        replay_struct(&bytes, &mut WriteSink(p))
    }

    /// pilota's `Message::decode`.
    pub fn decode<P: TInputProtocol>(&self, p: &mut P) -> Result<T, ThriftException> {
        let t = self.get()?;
        if let Some(protocol) = input_kind::<P>() {
            let codec = t.codec(protocol);
            let buf = p.buf();
            let chunk = buf.chunk();
            if chunk.len() == buf.remaining() {
                if t.shares {
                    // Find the end first, then decode from a `Bytes` that the value's `Bytes`
                    // and `FastStr` fields share (a cheap split for `Bytes` input).
                    let n = codec.skip(chunk).map_err(exception)?;
                    let own = buf.copy_to_bytes(n);
                    return codec.decode_bytes(&own).map_err(exception);
                }
                let (v, n) = codec.decode_prefix(chunk).map_err(exception)?;
                buf.advance(n);
                return Ok(v);
            }
        }
        let mut out = Vec::new();
        collect_struct(p, &mut out)?;
        t.binary.decode_bytes(&Bytes::from(out)).map_err(exception)
    }

    /// pilota's `Message::decode_async`: the protocol reads from a stream, so the value is
    /// collected through its calls and decoded afterwards.
    pub async fn decode_async<P: TAsyncInputProtocol>(
        &self,
        p: &mut P,
    ) -> Result<T, ThriftException>
    where
        T: Send + Sync,
    {
        let t = self.get()?;
        let mut out = Vec::new();
        collect_struct_async(p, &mut out).await?;
        t.binary.decode_bytes(&Bytes::from(out)).map_err(exception)
    }

    /// pilota's `Message::size`. A value that cannot be encoded counts 0 (its `encode`
    /// reports the error).
    pub fn size<P: TLengthProtocol>(&self, v: &T, p: &mut P) -> usize {
        let Ok(t) = self.get() else { return 0 };
        if let Some(protocol) = length_kind::<P>() {
            return t.codec(protocol).encoded_len(v).unwrap_or(0);
        }
        let Ok(bytes) = t.binary.encode(v) else {
            return 0;
        };
        replay_len(&bytes, p)
    }
}

/// Appends what `write` encodes to the protocol's buffer (through a per-thread scratch
/// buffer, since `write` needs a `Vec`).
fn put_encoded<P: TOutputProtocol>(
    p: &mut P,
    write: impl FnOnce(&mut Vec<u8>) -> Result<(), Error>,
) -> Result<(), ThriftException> {
    crate::scratch::with(|buf| {
        let r = write(buf).map_err(exception);
        if r.is_ok() {
            p.buf_mut().put_slice(buf);
        }
        r
    })
}

/// The length of a struct's Binary encoding `bytes` as the length protocol counts it.
fn replay_len<P: TLengthProtocol>(bytes: &[u8], p: &mut P) -> usize {
    let mut sink = LenSink { p, len: 0 };
    match replay_struct(bytes, &mut sink) {
        Ok(()) => sink.len,
        Err(_) => 0,
    }
}

/// Whether values of this type contain `Bytes` or `FastStr` (which can share the input).
fn shares_source(t: &TypeDesc, seen: &mut Vec<*const StructDesc>) -> bool {
    match t {
        TypeDesc::Binary(dynthrift_core::desc::BinRepr::Bytes) => true,
        TypeDesc::String(r) => *r != dynthrift_core::desc::StrRepr::Std,
        TypeDesc::Struct(f) => {
            let s = f();
            if seen.contains(&(s as *const StructDesc)) {
                return false;
            }
            seen.push(s);
            s.fields.iter().any(|f| shares_source(f.ty, seen))
        }
        TypeDesc::List(d) => shares_source(d.elem, seen),
        TypeDesc::Set(d) => shares_source(d.elem, seen),
        TypeDesc::Map(d) => shares_source(d.key, seen) || shares_source(d.value, seen),
        TypeDesc::Option(d) => shares_source(d.inner, seen),
        TypeDesc::Boxed(d) => shares_source(d.inner, seen),
        _ => false,
    }
}

fn same<A: ?Sized, B: ?Sized>() -> bool {
    type_name::<A>() == type_name::<B>()
}

/// pilota's checked Binary and Compact readers over `Bytes`: `buf()` is the unread input.
/// (Not the unchecked Binary reader, whose `buf()` lags behind its reads; not the
/// little-endian one.) pilota's Compact reader keeps field-id state that its
/// `read_struct_end` does not restore, and reads doubles big-endian; reading the struct's
/// bytes directly sidesteps both.
fn input_kind<P: ?Sized>() -> Option<Protocol> {
    if same::<P, TBinaryProtocol<&mut Bytes>>() {
        Some(Protocol::Binary)
    } else if same::<P, TCompactInputProtocol<&mut Bytes>>() {
        Some(Protocol::Compact)
    } else {
        None
    }
}

/// pilota's checked Binary and Compact writers: `buf_mut()` is where the next byte goes, and a
/// struct's encoding does not depend on the writer's state.
fn output_kind<P: ?Sized>() -> Option<Protocol> {
    if same::<P, TBinaryProtocol<&mut LinkedBytes>>() || same::<P, TBinaryProtocol<&mut BytesMut>>()
    {
        Some(Protocol::Binary)
    } else if same::<P, TCompactOutputProtocol<&mut LinkedBytes>>()
        || same::<P, TCompactOutputProtocol<&mut BytesMut>>()
    {
        Some(Protocol::Compact)
    } else {
        None
    }
}

/// pilota's Binary and Compact writers count lengths as those encodings have them.
fn length_kind<P: ?Sized>() -> Option<Protocol> {
    if same::<P, TBinaryProtocol<()>>()
        || same::<P, TBinaryProtocol<&mut LinkedBytes>>()
        || same::<P, TBinaryProtocol<&mut BytesMut>>()
    {
        Some(Protocol::Binary)
    } else if same::<P, TCompactOutputProtocol<()>>()
        || same::<P, TCompactOutputProtocol<&mut LinkedBytes>>()
        || same::<P, TCompactOutputProtocol<&mut BytesMut>>()
    {
        Some(Protocol::Compact)
    } else {
        None
    }
}

fn ptype(t: TType) -> PType {
    match t {
        TType::Stop => PType::Stop,
        TType::Void => PType::Void,
        TType::Bool => PType::Bool,
        TType::I8 => PType::I8,
        TType::Double => PType::Double,
        TType::I16 => PType::I16,
        TType::I32 => PType::I32,
        TType::I64 => PType::I64,
        TType::String => PType::Binary,
        TType::Struct => PType::Struct,
        TType::Map => PType::Map,
        TType::Set => PType::Set,
        TType::List => PType::List,
        TType::Uuid => PType::Uuid,
    }
}

// ---------------------------------------------------------------------------------------------
// Binary bytes -> protocol calls (encode and size on protocols without buffer access).

/// What a replay drives: a protocol's writes, or its length counts.
trait Sink {
    fn struct_begin(&mut self) -> Result<(), ThriftException>;
    fn struct_end(&mut self) -> Result<(), ThriftException>;
    fn field_begin(&mut self, t: PType, id: i16) -> Result<(), ThriftException>;
    fn field_end(&mut self) -> Result<(), ThriftException>;
    fn field_stop(&mut self) -> Result<(), ThriftException>;
    fn bool(&mut self, v: bool) -> Result<(), ThriftException>;
    fn i8(&mut self, v: i8) -> Result<(), ThriftException>;
    fn i16(&mut self, v: i16) -> Result<(), ThriftException>;
    fn i32(&mut self, v: i32) -> Result<(), ThriftException>;
    fn i64(&mut self, v: i64) -> Result<(), ThriftException>;
    fn double(&mut self, v: f64) -> Result<(), ThriftException>;
    fn uuid(&mut self, v: [u8; 16]) -> Result<(), ThriftException>;
    fn bytes(&mut self, v: &[u8]) -> Result<(), ThriftException>;
    fn list_begin(&mut self, t: PType, n: usize) -> Result<(), ThriftException>;
    fn list_end(&mut self) -> Result<(), ThriftException>;
    fn set_begin(&mut self, t: PType, n: usize) -> Result<(), ThriftException>;
    fn set_end(&mut self) -> Result<(), ThriftException>;
    fn map_begin(&mut self, k: PType, v: PType, n: usize) -> Result<(), ThriftException>;
    fn map_end(&mut self) -> Result<(), ThriftException>;
}

struct WriteSink<'p, P>(&'p mut P);

const ANON: TStructIdentifier = TStructIdentifier { name: "" };

impl<P: TOutputProtocol> Sink for WriteSink<'_, P> {
    fn struct_begin(&mut self) -> Result<(), ThriftException> {
        self.0.write_struct_begin(&ANON)
    }
    fn struct_end(&mut self) -> Result<(), ThriftException> {
        self.0.write_struct_end()
    }
    fn field_begin(&mut self, t: PType, id: i16) -> Result<(), ThriftException> {
        self.0.write_field_begin(t, id)
    }
    fn field_end(&mut self) -> Result<(), ThriftException> {
        self.0.write_field_end()
    }
    fn field_stop(&mut self) -> Result<(), ThriftException> {
        self.0.write_field_stop()
    }
    fn bool(&mut self, v: bool) -> Result<(), ThriftException> {
        self.0.write_bool(v)
    }
    fn i8(&mut self, v: i8) -> Result<(), ThriftException> {
        self.0.write_i8(v)
    }
    fn i16(&mut self, v: i16) -> Result<(), ThriftException> {
        self.0.write_i16(v)
    }
    fn i32(&mut self, v: i32) -> Result<(), ThriftException> {
        self.0.write_i32(v)
    }
    fn i64(&mut self, v: i64) -> Result<(), ThriftException> {
        self.0.write_i64(v)
    }
    fn double(&mut self, v: f64) -> Result<(), ThriftException> {
        self.0.write_double(v)
    }
    fn uuid(&mut self, v: [u8; 16]) -> Result<(), ThriftException> {
        self.0.write_uuid(v)
    }
    fn bytes(&mut self, v: &[u8]) -> Result<(), ThriftException> {
        self.0.write_bytes_vec(v)
    }
    fn list_begin(&mut self, t: PType, n: usize) -> Result<(), ThriftException> {
        self.0.write_list_begin(TListIdentifier::new(t, n))
    }
    fn list_end(&mut self) -> Result<(), ThriftException> {
        self.0.write_list_end()
    }
    fn set_begin(&mut self, t: PType, n: usize) -> Result<(), ThriftException> {
        self.0.write_set_begin(TSetIdentifier::new(t, n))
    }
    fn set_end(&mut self) -> Result<(), ThriftException> {
        self.0.write_set_end()
    }
    fn map_begin(&mut self, k: PType, v: PType, n: usize) -> Result<(), ThriftException> {
        self.0.write_map_begin(TMapIdentifier::new(k, v, n))
    }
    fn map_end(&mut self) -> Result<(), ThriftException> {
        self.0.write_map_end()
    }
}

struct LenSink<'p, P> {
    p: &'p mut P,
    len: usize,
}

impl<P: TLengthProtocol> LenSink<'_, P> {
    fn add(&mut self, n: usize) -> Result<(), ThriftException> {
        self.len += n;
        Ok(())
    }
}

impl<P: TLengthProtocol> Sink for LenSink<'_, P> {
    fn struct_begin(&mut self) -> Result<(), ThriftException> {
        let n = self.p.struct_begin_len(&ANON);
        self.add(n)
    }
    fn struct_end(&mut self) -> Result<(), ThriftException> {
        let n = self.p.struct_end_len();
        self.add(n)
    }
    fn field_begin(&mut self, t: PType, id: i16) -> Result<(), ThriftException> {
        let n = self.p.field_begin_len(t, Some(id));
        self.add(n)
    }
    fn field_end(&mut self) -> Result<(), ThriftException> {
        let n = self.p.field_end_len();
        self.add(n)
    }
    fn field_stop(&mut self) -> Result<(), ThriftException> {
        let n = self.p.field_stop_len();
        self.add(n)
    }
    fn bool(&mut self, v: bool) -> Result<(), ThriftException> {
        let n = self.p.bool_len(v);
        self.add(n)
    }
    fn i8(&mut self, v: i8) -> Result<(), ThriftException> {
        let n = self.p.i8_len(v);
        self.add(n)
    }
    fn i16(&mut self, v: i16) -> Result<(), ThriftException> {
        let n = self.p.i16_len(v);
        self.add(n)
    }
    fn i32(&mut self, v: i32) -> Result<(), ThriftException> {
        let n = self.p.i32_len(v);
        self.add(n)
    }
    fn i64(&mut self, v: i64) -> Result<(), ThriftException> {
        let n = self.p.i64_len(v);
        self.add(n)
    }
    fn double(&mut self, v: f64) -> Result<(), ThriftException> {
        let n = self.p.double_len(v);
        self.add(n)
    }
    fn uuid(&mut self, v: [u8; 16]) -> Result<(), ThriftException> {
        let n = self.p.uuid_len(v);
        self.add(n)
    }
    fn bytes(&mut self, v: &[u8]) -> Result<(), ThriftException> {
        let n = self.p.bytes_vec_len(v);
        self.add(n)
    }
    fn list_begin(&mut self, t: PType, n: usize) -> Result<(), ThriftException> {
        let n = self.p.list_begin_len(TListIdentifier::new(t, n));
        self.add(n)
    }
    fn list_end(&mut self) -> Result<(), ThriftException> {
        let n = self.p.list_end_len();
        self.add(n)
    }
    fn set_begin(&mut self, t: PType, n: usize) -> Result<(), ThriftException> {
        let n = self.p.set_begin_len(TSetIdentifier::new(t, n));
        self.add(n)
    }
    fn set_end(&mut self) -> Result<(), ThriftException> {
        let n = self.p.set_end_len();
        self.add(n)
    }
    fn map_begin(&mut self, k: PType, v: PType, n: usize) -> Result<(), ThriftException> {
        let n = self.p.map_begin_len(TMapIdentifier::new(k, v, n));
        self.add(n)
    }
    fn map_end(&mut self) -> Result<(), ThriftException> {
        let n = self.p.map_end_len();
        self.add(n)
    }
}

/// Replays the Binary encoding of one struct (made by dynthrift, so well-formed) on a sink.
fn replay_struct<S: Sink>(bytes: &[u8], sink: &mut S) -> Result<(), ThriftException> {
    let mut r = BinaryReader::new(bytes);
    replay(&mut r, sink, TType::Struct, DEPTH)?;
    if r.position() != bytes.len() {
        return Err(invalid("trailing bytes after an encoded struct".into()));
    }
    Ok(())
}

fn replay<S: Sink>(
    r: &mut BinaryReader<'_>,
    s: &mut S,
    t: TType,
    depth: usize,
) -> Result<(), ThriftException> {
    let depth = depth
        .checked_sub(1)
        .ok_or_else(|| exception(dynthrift_core::wire::depth_error(r.position())))?;
    let e = exception;
    match t {
        TType::Bool => s.bool(r.read_bool().map_err(e)?),
        TType::I8 => s.i8(r.read_i8().map_err(e)?),
        TType::I16 => s.i16(r.read_i16().map_err(e)?),
        TType::I32 => s.i32(r.read_i32().map_err(e)?),
        TType::I64 => s.i64(r.read_i64().map_err(e)?),
        TType::Double => s.double(r.read_double().map_err(e)?),
        TType::Uuid => s.uuid(r.read_uuid().map_err(e)?),
        TType::String => s.bytes(r.read_binary().map_err(e)?),
        TType::Struct => {
            s.struct_begin()?;
            loop {
                let (ft, id) = r.read_field_begin().map_err(e)?;
                if ft == TType::Stop {
                    break;
                }
                s.field_begin(ptype(ft), id)?;
                replay(r, s, ft, depth)?;
                s.field_end()?;
            }
            s.field_stop()?;
            s.struct_end()
        }
        TType::List | TType::Set => {
            let (et, n) = r.read_list_begin().map_err(e)?;
            if t == TType::List {
                s.list_begin(ptype(et), n)?;
            } else {
                s.set_begin(ptype(et), n)?;
            }
            for _ in 0..n {
                replay(r, s, et, depth)?;
            }
            if t == TType::List {
                s.list_end()
            } else {
                s.set_end()
            }
        }
        TType::Map => {
            let (kt, vt, n) = r.read_map_begin().map_err(e)?;
            s.map_begin(ptype(kt), ptype(vt), n)?;
            for _ in 0..n {
                replay(r, s, kt, depth)?;
                replay(r, s, vt, depth)?;
            }
            s.map_end()
        }
        TType::Stop | TType::Void => Err(invalid(format!("no value of type {t}"))),
    }
}

// ---------------------------------------------------------------------------------------------
// Protocol reads -> Binary bytes (decode on protocols without buffer access, and async).

/// What is open while collecting: a struct (with a field whose value is pending), or a
/// container with elements left to read.
enum Frame {
    Struct {
        in_field: bool,
    },
    List {
        elem: PType,
        left: usize,
    },
    Set {
        elem: PType,
        left: usize,
    },
    /// `left` counts keys and values.
    Map {
        key: PType,
        value: PType,
        left: usize,
    },
}

fn wire_len(n: usize) -> Result<[u8; 4], ThriftException> {
    i32::try_from(n).map(i32::to_be_bytes).map_err(|_| {
        ThriftException::Protocol(ProtocolException::new(
            ProtocolExceptionKind::SizeLimit,
            format!("container of {n} elements"),
        ))
    })
}

fn depth_exceeded() -> ThriftException {
    ThriftException::Protocol(ProtocolException::new(
        ProtocolExceptionKind::DepthLimit,
        format!("nesting deeper than {DEPTH}"),
    ))
}

/// Reads one struct through a protocol's calls and writes its Binary encoding to `out`.
/// Iterative (an explicit stack, at most [`DEPTH`] deep), so that the async version needs no
/// boxed recursion. `$aw` is `.await` for the async version and nothing for the sync one.
macro_rules! collect_body {
    ($p:ident, $out:ident, $($aw:tt)*) => {{
        let mut stack: Vec<Frame> = Vec::new();
        $p.read_struct_begin()$($aw)*?;
        stack.push(Frame::Struct { in_field: false });
        while let Some(top) = stack.last_mut() {
            // The type of the next value to read, or close the innermost frame.
            let t = match top {
                Frame::Struct { in_field } => {
                    if *in_field {
                        $p.read_field_end()$($aw)*?;
                    }
                    let f: TFieldIdentifier = $p.read_field_begin()$($aw)*?;
                    if f.field_type == PType::Stop {
                        $out.push(0);
                        $p.read_struct_end()$($aw)*?;
                        stack.pop();
                        continue;
                    }
                    let id = f.id.ok_or_else(|| invalid("field without an id".into()))?;
                    *in_field = true;
                    $out.push(f.field_type as u8);
                    $out.extend_from_slice(&id.to_be_bytes());
                    f.field_type
                }
                Frame::List { elem, left } => {
                    if *left == 0 {
                        $p.read_list_end()$($aw)*?;
                        stack.pop();
                        continue;
                    }
                    *left -= 1;
                    *elem
                }
                Frame::Set { elem, left } => {
                    if *left == 0 {
                        $p.read_set_end()$($aw)*?;
                        stack.pop();
                        continue;
                    }
                    *left -= 1;
                    *elem
                }
                Frame::Map { key, value, left } => {
                    if *left == 0 {
                        $p.read_map_end()$($aw)*?;
                        stack.pop();
                        continue;
                    }
                    *left -= 1;
                    if *left % 2 == 1 { *key } else { *value }
                }
            };
            match t {
                PType::Bool => {
                    let v = $p.read_bool()$($aw)*?;
                    $out.push(u8::from(v));
                }
                PType::I8 => {
                    let v = $p.read_i8()$($aw)*?;
                    $out.extend_from_slice(&v.to_be_bytes());
                }
                PType::I16 => {
                    let v = $p.read_i16()$($aw)*?;
                    $out.extend_from_slice(&v.to_be_bytes());
                }
                PType::I32 => {
                    let v = $p.read_i32()$($aw)*?;
                    $out.extend_from_slice(&v.to_be_bytes());
                }
                PType::I64 => {
                    let v = $p.read_i64()$($aw)*?;
                    $out.extend_from_slice(&v.to_be_bytes());
                }
                PType::Double => {
                    let v = $p.read_double()$($aw)*?;
                    $out.extend_from_slice(&v.to_bits().to_be_bytes());
                }
                PType::Uuid => {
                    let v = $p.read_uuid()$($aw)*?;
                    $out.extend_from_slice(&v);
                }
                PType::Binary => {
                    let v = $p.read_bytes()$($aw)*?;
                    $out.extend_from_slice(&wire_len(v.len())?);
                    $out.extend_from_slice(&v);
                }
                PType::Struct | PType::List | PType::Set | PType::Map if stack.len() >= DEPTH => {
                    return Err(depth_exceeded());
                }
                PType::Struct => {
                    $p.read_struct_begin()$($aw)*?;
                    stack.push(Frame::Struct { in_field: false });
                }
                PType::List => {
                    let l: TListIdentifier = $p.read_list_begin()$($aw)*?;
                    $out.push(l.element_type as u8);
                    $out.extend_from_slice(&wire_len(l.size)?);
                    stack.push(Frame::List { elem: l.element_type, left: l.size });
                }
                PType::Set => {
                    let l: TSetIdentifier = $p.read_set_begin()$($aw)*?;
                    $out.push(l.element_type as u8);
                    $out.extend_from_slice(&wire_len(l.size)?);
                    stack.push(Frame::Set { elem: l.element_type, left: l.size });
                }
                PType::Map => {
                    let m: TMapIdentifier = $p.read_map_begin()$($aw)*?;
                    $out.push(m.key_type as u8);
                    $out.push(m.value_type as u8);
                    $out.extend_from_slice(&wire_len(m.size)?);
                    let left = m.size.checked_mul(2).ok_or_else(|| {
                        invalid(format!("map of {} entries", m.size))
                    })?;
                    stack.push(Frame::Map { key: m.key_type, value: m.value_type, left });
                }
                PType::Stop | PType::Void => {
                    return Err(invalid(format!("no value of type {t:?}")));
                }
            }
        }
        Ok(())
    }};
}

fn collect_struct<P: TInputProtocol>(p: &mut P, out: &mut Vec<u8>) -> Result<(), ThriftException> {
    collect_body!(p, out,)
}

async fn collect_struct_async<P: TAsyncInputProtocol>(
    p: &mut P,
    out: &mut Vec<u8>,
) -> Result<(), ThriftException> {
    collect_body!(p, out, .await)
}

/// Implements pilota's `Message` for a derived type (the derive calls this through
/// `dynthrift::__private::impl_volo_message!`).
#[doc(hidden)]
#[macro_export]
macro_rules! __dynthrift_impl_volo_message {
    ($t:ty) => {
        const _: () = {
            static __DYNTHRIFT_VOLO: ::dynthrift::volo::CodecCell<$t> =
                ::dynthrift::volo::CodecCell::new();
            // `for<'a>` keeps the bound from being checked here: a type that is not
            // `Send + Sync` (pilota's `Message` needs `Send`) simply gets no impl.
            impl ::dynthrift::volo::pilota::thrift::Message for $t
            where
                for<'a> $t: ::core::marker::Send + ::core::marker::Sync,
            {
                #[inline]
                fn encode<P: ::dynthrift::volo::pilota::thrift::TOutputProtocol>(
                    &self,
                    protocol: &mut P,
                ) -> ::core::result::Result<(), ::dynthrift::volo::pilota::thrift::ThriftException>
                {
                    __DYNTHRIFT_VOLO.encode(self, protocol)
                }
                #[inline]
                fn decode<P: ::dynthrift::volo::pilota::thrift::TInputProtocol>(
                    protocol: &mut P,
                ) -> ::core::result::Result<Self, ::dynthrift::volo::pilota::thrift::ThriftException>
                {
                    __DYNTHRIFT_VOLO.decode(protocol)
                }
                fn decode_async<P: ::dynthrift::volo::pilota::thrift::TAsyncInputProtocol>(
                    protocol: &mut P,
                ) -> impl ::core::future::Future<
                    Output = ::core::result::Result<
                        Self,
                        ::dynthrift::volo::pilota::thrift::ThriftException,
                    >,
                > + Send {
                    __DYNTHRIFT_VOLO.decode_async(protocol)
                }
                #[inline]
                fn size<P: ::dynthrift::volo::pilota::thrift::TLengthProtocol>(
                    &self,
                    protocol: &mut P,
                ) -> usize {
                    __DYNTHRIFT_VOLO.size(self, protocol)
                }
            }
        };
    };
}
