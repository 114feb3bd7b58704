//! Transports as `tokio_util::codec` encoders and decoders: where one message ends on a byte
//! stream. [`BufferedCodec`] (no framing: the message is walked to find its end), [`FramedCodec`]
//! (a 4-byte big-endian length before each message), [`TTHeaderCodec`] (Kitex/Volo's header
//! transport), and [`TransportCodec`], which is any of them chosen at run time.
//!
//! Every decoder refuses a message longer than its maximum frame size, and reports a malformed
//! frame as an error; the server then closes that connection (and only that one).

use bytes::{Buf, BufMut, Bytes, BytesMut};
use dynthrift_core::ErrorKind;
use dynthrift_core::wire::Protocol;
use tokio_util::codec::{Decoder, Encoder};

use crate::codec::{Options, read_message_header, skip_struct};
use crate::rpc::RpcError;

/// Default maximum size of one message: 16 MiB.
pub const DEFAULT_MAX_FRAME: usize = 16 << 20;

/// How messages are delimited on a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Transport {
    /// Messages back to back, unframed (Apache's `TBufferedTransport`).
    Buffered,
    /// A 4-byte big-endian length before each message (Apache's `TFramedTransport`).
    #[default]
    Framed,
    /// Kitex/Volo's TTHeader: a length, a header with seqid, protocol and key/value info, then
    /// the message.
    TTHeader,
}

/// One message as it travels: the message bytes (envelope and struct), and the TTHeader
/// header when the transport has one.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Frame {
    pub header: Option<Box<TTHeader>>,
    pub payload: Bytes,
}

impl Frame {
    pub fn new(payload: impl Into<Bytes>) -> Frame {
        Frame {
            header: None,
            payload: payload.into(),
        }
    }
}

fn frame_too_large(len: usize, max: usize) -> RpcError {
    RpcError::FrameTooLarge { len, max }
}

// ---------------------------------------------------------------------------------------------
// Buffered

/// Unframed messages. The decoder walks the envelope and the struct after it (without building
/// anything) to find where the message ends, and waits for more bytes while it is incomplete.
#[derive(Clone, Copy, Debug)]
pub struct BufferedCodec {
    pub protocol: Protocol,
    pub max_frame: usize,
    /// Nesting limit of the walk.
    pub depth: u32,
}

impl BufferedCodec {
    pub fn new(protocol: Protocol) -> BufferedCodec {
        BufferedCodec {
            protocol,
            max_frame: DEFAULT_MAX_FRAME,
            depth: dynthrift_core::wire::DEFAULT_DEPTH_LIMIT,
        }
    }

    pub fn max_frame(mut self, n: usize) -> BufferedCodec {
        self.max_frame = n;
        self
    }

    /// The length of the message at the start of `buf`, `None` while it is incomplete.
    fn message_len(&self, buf: &[u8]) -> Result<Option<usize>, RpcError> {
        let incomplete = |e: &crate::Error| {
            // The readers report input that ends too early as either of these: a value cut
            // short, or a declared length longer than what has arrived so far.
            matches!(e.kind(), ErrorKind::UnexpectedEof | ErrorKind::LengthLimit)
        };
        // Unframed Binary garbage (text, another protocol) usually reads as an enormous message
        // name length: fail now rather than wait for that many bytes.
        if self.protocol == Protocol::Binary && buf.len() >= 4 {
            let word = |i: usize| i32::from_be_bytes([buf[i], buf[i + 1], buf[i + 2], buf[i + 3]]);
            let name_len = match word(0) {
                w if w >= 0 => Some(w),
                _ if buf.len() >= 8 => Some(word(4)),
                _ => None,
            };
            if let Some(n) = name_len
                && n as usize > self.max_frame
            {
                return Err(RpcError::Transport(format!(
                    "message name of {n} bytes (not a Binary message?)"
                )));
            }
        }
        let at = match read_message_header(buf, self.protocol) {
            Ok((_, at)) => at,
            Err(e) if incomplete(&e) => return Ok(None),
            Err(e) => return Err(RpcError::Codec(e)),
        };
        let options = Options::default()
            .protocol(self.protocol)
            .max_depth(self.depth);
        match skip_struct(&buf[at..], &options) {
            Ok(n) => Ok(Some(at + n)),
            Err(e) if incomplete(&e) => Ok(None),
            Err(e) => Err(RpcError::Codec(e.shift_offset(at))),
        }
    }
}

impl Decoder for BufferedCodec {
    type Item = Bytes;
    type Error = RpcError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, RpcError> {
        if src.is_empty() {
            return Ok(None);
        }
        let window = &src[..src.len().min(self.max_frame)];
        match self.message_len(window)? {
            Some(n) => Ok(Some(src.split_to(n).freeze())),
            None if src.len() >= self.max_frame => Err(frame_too_large(src.len(), self.max_frame)),
            None => Ok(None),
        }
    }
}

impl Encoder<Bytes> for BufferedCodec {
    type Error = RpcError;

    fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> Result<(), RpcError> {
        if item.len() > self.max_frame {
            return Err(frame_too_large(item.len(), self.max_frame));
        }
        dst.extend_from_slice(&item);
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Framed

/// A 4-byte big-endian length, then that many bytes of message.
#[derive(Clone, Copy, Debug)]
pub struct FramedCodec {
    pub max_frame: usize,
}

impl Default for FramedCodec {
    fn default() -> Self {
        FramedCodec {
            max_frame: DEFAULT_MAX_FRAME,
        }
    }
}

impl FramedCodec {
    pub fn new() -> FramedCodec {
        FramedCodec::default()
    }

    pub fn max_frame(mut self, n: usize) -> FramedCodec {
        self.max_frame = n;
        self
    }
}

impl Decoder for FramedCodec {
    type Item = Bytes;
    type Error = RpcError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, RpcError> {
        if src.len() < 4 {
            return Ok(None);
        }
        let len = i32::from_be_bytes([src[0], src[1], src[2], src[3]]);
        if len < 0 {
            return Err(RpcError::Transport(format!("negative frame length {len}")));
        }
        let len = len as usize;
        if len > self.max_frame {
            return Err(frame_too_large(len, self.max_frame));
        }
        if src.len() < 4 + len {
            src.reserve(4 + len - src.len());
            return Ok(None);
        }
        src.advance(4);
        Ok(Some(src.split_to(len).freeze()))
    }
}

impl Encoder<Bytes> for FramedCodec {
    type Error = RpcError;

    fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> Result<(), RpcError> {
        if item.len() > self.max_frame || item.len() > i32::MAX as usize {
            return Err(frame_too_large(item.len(), self.max_frame));
        }
        dst.reserve(4 + item.len());
        dst.put_u32(item.len() as u32);
        dst.extend_from_slice(&item);
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// TTHeader

/// The TTHeader magic, in the two bytes after the length.
pub const TTHEADER_MAGIC: u16 = 0x1000;
/// Info block ids.
pub const INFO_PADDING: u8 = 0x00;
pub const INFO_KEYVALUE: u8 = 0x01;
pub const INFO_INTKEYVALUE: u8 = 0x10;
pub const ACL_TOKEN_KEYVALUE: u8 = 0x11;
/// TTHeader's protocol ids.
pub const PROTOCOL_ID_BINARY: u8 = 0;
pub const PROTOCOL_ID_COMPACT: u8 = 2;

/// The header of a TTHeader frame (Kitex's layout: every id is a byte, every count and length
/// a big-endian `u16`).
///
/// ```text
/// u32 length (of everything after it) | u16 magic 0x1000 | u16 flags | i32 seqid |
/// u16 header size / 4 | u8 protocol id | u8 transform count | u8 transform ids... |
/// info blocks: 0x01 u16 n, n × (u16 len, key, u16 len, value)
///              0x10 u16 n, n × (u16 key, u16 len, value)
///              0x11 u16 len, token
/// zero padding to a multiple of 4 | payload
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TTHeader {
    pub flags: u16,
    pub seqid: i32,
    pub protocol: Protocol,
    /// Transform ids (compression). None is supported: a frame that has any is an error.
    pub transforms: Vec<u8>,
    /// `INFO_KEYVALUE` pairs, in wire order.
    pub str_kvs: Vec<(String, String)>,
    /// `INFO_INTKEYVALUE` pairs, in wire order.
    pub int_kvs: Vec<(u16, String)>,
    /// `ACL_TOKEN_KEYVALUE`.
    pub acl_token: Option<String>,
    /// The payload carries its own 4-byte frame length, as Volo's default transport
    /// ("TTHeader + framed") sends it: found and stripped on decode, written on encode.
    pub framed: bool,
}

impl TTHeader {
    pub fn new(seqid: i32, protocol: Protocol) -> TTHeader {
        TTHeader {
            seqid,
            protocol,
            ..TTHeader::default()
        }
    }

    /// The value of string key `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.str_kvs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The value of integer key `key`.
    pub fn get_int(&self, key: u16) -> Option<&str> {
        self.int_kvs
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// The TTHeader transport.
#[derive(Clone, Copy, Debug)]
pub struct TTHeaderCodec {
    pub max_frame: usize,
}

impl Default for TTHeaderCodec {
    fn default() -> Self {
        TTHeaderCodec {
            max_frame: DEFAULT_MAX_FRAME,
        }
    }
}

impl TTHeaderCodec {
    pub fn new() -> TTHeaderCodec {
        TTHeaderCodec::default()
    }

    pub fn max_frame(mut self, n: usize) -> TTHeaderCodec {
        self.max_frame = n;
        self
    }
}

fn bad_header(what: impl Into<String>) -> RpcError {
    RpcError::Transport(format!("malformed ttheader: {}", what.into()))
}

/// A bounds-checked reader over a header.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn u8(&mut self) -> Result<u8, RpcError> {
        let (&b, rest) = self
            .0
            .split_first()
            .ok_or_else(|| bad_header("header ends early"))?;
        self.0 = rest;
        Ok(b)
    }
    fn u16(&mut self) -> Result<u16, RpcError> {
        Ok(u16::from_be_bytes([self.u8()?, self.u8()?]))
    }
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], RpcError> {
        if n > self.0.len() {
            return Err(bad_header(format!(
                "a {n}-byte value but {} header bytes remain",
                self.0.len()
            )));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn string(&mut self) -> Result<String, RpcError> {
        let n = self.u16()? as usize;
        let b = self.bytes(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| bad_header("a key or value is not utf-8"))
    }
}

/// Parses the header part of a frame: `body` is everything after the length field.
fn parse_ttheader(body: &[u8]) -> Result<(TTHeader, usize), RpcError> {
    if body.len() < 10 {
        return Err(bad_header("shorter than its fixed part"));
    }
    let magic = u16::from_be_bytes([body[0], body[1]]);
    if magic != TTHEADER_MAGIC {
        return Err(bad_header(format!("magic {magic:#06x}, expected 0x1000")));
    }
    let flags = u16::from_be_bytes([body[2], body[3]]);
    let seqid = i32::from_be_bytes([body[4], body[5], body[6], body[7]]);
    let size = u16::from_be_bytes([body[8], body[9]]) as usize * 4;
    let end = 10 + size;
    if end > body.len() {
        return Err(bad_header(format!(
            "header size {size} exceeds the frame ({} bytes)",
            body.len()
        )));
    }
    let mut c = Cursor(&body[10..end]);
    let protocol = match c.u8()? {
        PROTOCOL_ID_BINARY => Protocol::Binary,
        PROTOCOL_ID_COMPACT => Protocol::Compact,
        id => return Err(bad_header(format!("unsupported protocol id {id}"))),
    };
    let n = c.u8()? as usize;
    let transforms = c.bytes(n)?.to_vec();
    if !transforms.is_empty() {
        return Err(bad_header(format!(
            "transforms {transforms:?} are not supported"
        )));
    }
    let mut h = TTHeader {
        flags,
        seqid,
        protocol,
        transforms,
        ..TTHeader::default()
    };
    while !c.0.is_empty() {
        match c.u8()? {
            // The rest is padding.
            INFO_PADDING => break,
            INFO_KEYVALUE => {
                for _ in 0..c.u16()? {
                    let k = c.string()?;
                    let v = c.string()?;
                    h.str_kvs.push((k, v));
                }
            }
            INFO_INTKEYVALUE => {
                for _ in 0..c.u16()? {
                    let k = c.u16()?;
                    let v = c.string()?;
                    h.int_kvs.push((k, v));
                }
            }
            ACL_TOKEN_KEYVALUE => h.acl_token = Some(c.string()?),
            id => return Err(bad_header(format!("unknown info id {id:#04x}"))),
        }
    }
    Ok((h, end))
}

/// Whether a TTHeader payload starts with a 4-byte frame length that covers exactly the rest,
/// followed by a strict Binary (`0x80 0x01`) or Compact (`0x82`) message header.
fn inner_framed(payload: &[u8]) -> bool {
    payload.len() >= 6
        && u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]) as usize
            == payload.len() - 4
        && (payload[4..6] == [0x80, 0x01] || payload[4] == 0x82)
}

fn put_str16(dst: &mut BytesMut, s: &str) -> Result<(), RpcError> {
    let n = u16::try_from(s.len())
        .map_err(|_| RpcError::Transport(format!("ttheader value of {} bytes", s.len())))?;
    dst.put_u16(n);
    dst.extend_from_slice(s.as_bytes());
    Ok(())
}

fn count16(n: usize) -> Result<u16, RpcError> {
    u16::try_from(n).map_err(|_| RpcError::Transport(format!("{n} ttheader entries")))
}

impl Decoder for TTHeaderCodec {
    type Item = (TTHeader, Bytes);
    type Error = RpcError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<(TTHeader, Bytes)>, RpcError> {
        if src.len() < 4 {
            return Ok(None);
        }
        let len = i32::from_be_bytes([src[0], src[1], src[2], src[3]]);
        if len < 0 {
            return Err(RpcError::Transport(format!("negative frame length {len}")));
        }
        let len = len as usize;
        if len > self.max_frame {
            return Err(frame_too_large(len, self.max_frame));
        }
        // Check the magic early, so that a peer speaking another transport fails at once.
        if src.len() >= 6 {
            let magic = u16::from_be_bytes([src[4], src[5]]);
            if magic != TTHEADER_MAGIC {
                return Err(bad_header(format!("magic {magic:#06x}, expected 0x1000")));
            }
        }
        if src.len() < 4 + len {
            src.reserve(4 + len - src.len());
            return Ok(None);
        }
        let (mut header, at) = parse_ttheader(&src[4..4 + len])?;
        src.advance(4);
        let mut body = src.split_to(len);
        body.advance(at);
        if inner_framed(&body) {
            header.framed = true;
            body.advance(4);
        }
        Ok(Some((header, body.freeze())))
    }
}

impl Encoder<(&TTHeader, Bytes)> for TTHeaderCodec {
    type Error = RpcError;

    fn encode(
        &mut self,
        (h, payload): (&TTHeader, Bytes),
        dst: &mut BytesMut,
    ) -> Result<(), RpcError> {
        if !h.transforms.is_empty() {
            return Err(RpcError::Transport(
                "ttheader transforms are not supported".into(),
            ));
        }
        let start = dst.len();
        dst.put_u32(0); // length, patched below
        dst.put_u16(TTHEADER_MAGIC);
        dst.put_u16(h.flags);
        dst.put_i32(h.seqid);
        dst.put_u16(0); // header size, patched below
        let header_start = dst.len();
        dst.put_u8(match h.protocol {
            Protocol::Binary => PROTOCOL_ID_BINARY,
            Protocol::Compact => PROTOCOL_ID_COMPACT,
        });
        dst.put_u8(0);
        let r = (|| {
            if !h.str_kvs.is_empty() {
                dst.put_u8(INFO_KEYVALUE);
                dst.put_u16(count16(h.str_kvs.len())?);
                for (k, v) in &h.str_kvs {
                    put_str16(dst, k)?;
                    put_str16(dst, v)?;
                }
            }
            if !h.int_kvs.is_empty() {
                dst.put_u8(INFO_INTKEYVALUE);
                dst.put_u16(count16(h.int_kvs.len())?);
                for (k, v) in &h.int_kvs {
                    dst.put_u16(*k);
                    put_str16(dst, v)?;
                }
            }
            if let Some(token) = &h.acl_token {
                dst.put_u8(ACL_TOKEN_KEYVALUE);
                put_str16(dst, token)?;
            }
            let pad = (4 - (dst.len() - header_start) % 4) % 4;
            dst.put_bytes(0, pad);
            let words = u16::try_from((dst.len() - header_start) / 4)
                .map_err(|_| RpcError::Transport("ttheader header too large".into()))?;
            dst[header_start - 2..header_start].copy_from_slice(&words.to_be_bytes());
            let inner = if h.framed { 4 } else { 0 };
            let total = dst.len() - start - 4 + inner + payload.len();
            if total > self.max_frame || total > i32::MAX as usize {
                return Err(frame_too_large(total, self.max_frame));
            }
            dst[start..start + 4].copy_from_slice(&(total as u32).to_be_bytes());
            if h.framed {
                // Bounded by `total` above.
                dst.put_u32(payload.len() as u32);
            }
            dst.extend_from_slice(&payload);
            Ok(())
        })();
        if r.is_err() {
            dst.truncate(start);
        }
        r
    }
}

// ---------------------------------------------------------------------------------------------
// Any of them

/// Any transport, chosen at run time; what the server and client use.
#[derive(Clone, Copy, Debug)]
pub enum TransportCodec {
    Buffered(BufferedCodec),
    Framed(FramedCodec),
    TTHeader(TTHeaderCodec),
}

impl TransportCodec {
    /// `transport` with `protocol` (which the buffered transport needs to find message ends)
    /// and a maximum frame size.
    pub fn new(transport: Transport, protocol: Protocol, max_frame: usize) -> TransportCodec {
        match transport {
            Transport::Buffered => {
                TransportCodec::Buffered(BufferedCodec::new(protocol).max_frame(max_frame))
            }
            Transport::Framed => TransportCodec::Framed(FramedCodec::new().max_frame(max_frame)),
            Transport::TTHeader => {
                TransportCodec::TTHeader(TTHeaderCodec::new().max_frame(max_frame))
            }
        }
    }
}

impl Decoder for TransportCodec {
    type Item = Frame;
    type Error = RpcError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, RpcError> {
        Ok(match self {
            TransportCodec::Buffered(c) => c.decode(src)?.map(Frame::new),
            TransportCodec::Framed(c) => c.decode(src)?.map(Frame::new),
            TransportCodec::TTHeader(c) => c.decode(src)?.map(|(h, payload)| Frame {
                header: Some(Box::new(h)),
                payload,
            }),
        })
    }
}

impl Encoder<Frame> for TransportCodec {
    type Error = RpcError;

    /// A TTHeader frame without a header gets a default one (the caller normally sets the
    /// seqid and protocol); other transports ignore the header.
    fn encode(&mut self, item: Frame, dst: &mut BytesMut) -> Result<(), RpcError> {
        match self {
            TransportCodec::Buffered(c) => c.encode(item.payload, dst),
            TransportCodec::Framed(c) => c.encode(item.payload, dst),
            TransportCodec::TTHeader(c) => {
                let h = item.header.unwrap_or_default();
                c.encode((&*h, item.payload), dst)
            }
        }
    }
}

/// Splits Apache's multiplexed method name `service:method`; `None` without a `:`.
pub fn split_multiplexed(name: &str) -> Option<(&str, &str)> {
    name.split_once(':')
}
