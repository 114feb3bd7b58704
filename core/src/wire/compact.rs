//! The Compact protocol: zigzag varints, little-endian doubles, field ids as deltas folded into
//! the type byte, bool values folded into field headers, short list headers.

use super::{MessageHeader, ProtoRead, ProtoWrite, Protocol, check_count, eof, too_long};
use crate::error::{Error, ErrorKind, Result};
use crate::ttype::{TMessageType, TType};

pub const PROTOCOL_ID: u8 = 0x82;
pub const VERSION: u8 = 1;
const VERSION_MASK: u8 = 0x1f;
const TYPE_SHIFT: u32 = 5;

/// Compact type codes.
mod ct {
    pub const STOP: u8 = 0;
    pub const BOOL_TRUE: u8 = 1;
    pub const BOOL_FALSE: u8 = 2;
    pub const BYTE: u8 = 3;
    pub const I16: u8 = 4;
    pub const I32: u8 = 5;
    pub const I64: u8 = 6;
    pub const DOUBLE: u8 = 7;
    pub const BINARY: u8 = 8;
    pub const LIST: u8 = 9;
    pub const SET: u8 = 10;
    pub const MAP: u8 = 11;
    pub const STRUCT: u8 = 12;
    pub const UUID: u8 = 13;
}

/// The Compact code of a wire type (bool as "true", as Apache writes element types).
#[inline]
pub const fn compact_code(t: TType) -> u8 {
    match t {
        TType::Stop | TType::Void => ct::STOP,
        TType::Bool => ct::BOOL_TRUE,
        TType::I8 => ct::BYTE,
        TType::I16 => ct::I16,
        TType::I32 => ct::I32,
        TType::I64 => ct::I64,
        TType::Double => ct::DOUBLE,
        TType::String => ct::BINARY,
        TType::List => ct::LIST,
        TType::Set => ct::SET,
        TType::Map => ct::MAP,
        TType::Struct => ct::STRUCT,
        TType::Uuid => ct::UUID,
    }
}

#[inline]
pub const fn ttype_of(code: u8) -> Option<TType> {
    Some(match code {
        ct::STOP => TType::Stop,
        ct::BOOL_TRUE | ct::BOOL_FALSE => TType::Bool,
        ct::BYTE => TType::I8,
        ct::I16 => TType::I16,
        ct::I32 => TType::I32,
        ct::I64 => TType::I64,
        ct::DOUBLE => TType::Double,
        ct::BINARY => TType::String,
        ct::LIST => TType::List,
        ct::SET => TType::Set,
        ct::MAP => TType::Map,
        ct::STRUCT => TType::Struct,
        ct::UUID => TType::Uuid,
        _ => return None,
    })
}

/// Smallest number of bytes one value of `t` occupies in the Compact protocol.
#[inline]
pub const fn min_size(t: TType) -> usize {
    match t {
        TType::Double => 8,
        TType::Uuid => 16,
        _ => 1,
    }
}

#[inline]
pub const fn zigzag32(n: i32) -> u32 {
    ((n << 1) ^ (n >> 31)) as u32
}
#[inline]
pub const fn zigzag64(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}
#[inline]
pub const fn unzigzag(n: u64) -> i64 {
    ((n >> 1) as i64) ^ -((n & 1) as i64)
}

/// Bytes a varint of `v` takes.
#[inline]
pub const fn varint_len(v: u64) -> usize {
    // 1 byte per 7 significant bits, at least one.
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Reads the Compact protocol from a byte slice.
#[derive(Debug, Clone)]
pub struct CompactReader<'a> {
    buf: &'a [u8],
    pos: usize,
    last_fid: i16,
    /// The value of a bool field, carried by its header.
    pending_bool: Option<bool>,
}

impl<'a> CompactReader<'a> {
    #[inline(always)]
    fn byte(&mut self) -> Result<u8> {
        match self.buf.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => Err(eof(self.pos)),
        }
    }

    /// An unsigned varint of at most 10 bytes.
    #[inline]
    pub fn read_varint(&mut self) -> Result<u64> {
        let b = self.byte()?;
        if b < 0x80 {
            return Ok(b as u64);
        }
        // Two bytes (lengths of 128 to 16383, say) are common enough to read here too.
        if let Some(&b2) = self.buf.get(self.pos)
            && b2 < 0x80
        {
            self.pos += 1;
            return Ok((b & 0x7f) as u64 | (b2 as u64) << 7);
        }
        self.read_varint_slow(b)
    }

    #[cold]
    fn read_varint_slow(&mut self, first: u8) -> Result<u64> {
        let start = self.pos - 1;
        let mut v = (first & 0x7f) as u64;
        let mut shift = 7;
        loop {
            let b = self.byte()?;
            v |= ((b & 0x7f) as u64) << shift;
            if b < 0x80 {
                return Ok(v);
            }
            shift += 7;
            if shift >= 70 {
                return Err(Error::decode(
                    ErrorKind::VarintTooLong,
                    start,
                    "varint longer than 10 bytes",
                ));
            }
        }
    }

    #[inline]
    fn read_len(&mut self) -> Result<usize> {
        let at = self.pos;
        let n = self.read_varint()?;
        if n > u32::MAX as u64 {
            // Not a 32-bit value at all: truncating it would report a made-up length.
            return Err(Error::decode(
                ErrorKind::LengthLimit,
                at,
                format!("length {n} does not fit in an i32"),
            ));
        }
        if n > i32::MAX as u64 {
            return Err(Error::decode(
                ErrorKind::NegativeLength,
                at,
                format!("negative length {}", n as u32 as i32),
            ));
        }
        Ok(n as usize)
    }

    #[inline]
    fn elem_type(&mut self, code: u8, at: usize) -> Result<TType> {
        match ttype_of(code) {
            Some(TType::Stop) | None => Err(super::invalid_type(code, at)),
            Some(t) => Ok(t),
        }
    }

    #[inline]
    pub fn read_raw(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| eof(self.pos))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
}

impl<'a> ProtoRead<'a> for CompactReader<'a> {
    const PROTOCOL: Protocol = Protocol::Compact;
    type StructState = i16;

    #[inline]
    fn new(buf: &'a [u8]) -> Self {
        CompactReader {
            buf,
            pos: 0,
            last_fid: 0,
            pending_bool: None,
        }
    }
    #[inline]
    fn position(&self) -> usize {
        self.pos
    }
    #[inline]
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn read_message_begin(&mut self) -> Result<MessageHeader<'a>> {
        let at = self.pos;
        let id = self.byte()?;
        if id != PROTOCOL_ID {
            return Err(Error::decode(
                ErrorKind::InvalidMessage,
                at,
                format!("bad protocol id {id:#04x}"),
            ));
        }
        let vt = self.byte()?;
        if vt & VERSION_MASK != VERSION {
            return Err(Error::decode(
                ErrorKind::InvalidMessage,
                at + 1,
                format!("bad version {}", vt & VERSION_MASK),
            ));
        }
        let code = vt >> TYPE_SHIFT;
        let kind = TMessageType::from_u8(code).ok_or_else(|| {
            Error::decode(
                ErrorKind::InvalidMessage,
                at + 1,
                format!("unknown message type {code}"),
            )
        })?;
        let seqid = self.read_varint()? as u32 as i32;
        let name = self.read_string().map_err(|e| {
            if e.kind() == ErrorKind::InvalidUtf8 {
                Error::decode(
                    ErrorKind::InvalidMessage,
                    e.offset().unwrap_or(0),
                    "message name is not utf-8",
                )
            } else {
                e
            }
        })?;
        Ok(MessageHeader { name, kind, seqid })
    }

    #[inline]
    fn read_struct_begin(&mut self) -> i16 {
        std::mem::replace(&mut self.last_fid, 0)
    }
    #[inline]
    fn read_struct_end(&mut self, saved: i16) {
        self.last_fid = saved;
    }

    #[inline]
    fn read_field_begin(&mut self) -> Result<(TType, i16)> {
        let at = self.pos;
        let b = self.byte()?;
        let code = b & 0x0f;
        if code == ct::STOP {
            // A stop byte with a non-zero delta is still a stop, as in Apache's readers.
            return Ok((TType::Stop, 0));
        }
        let Some(t) = ttype_of(code) else {
            return Err(super::invalid_type(code, at));
        };
        let delta = (b >> 4) as i16;
        let id = if delta != 0 {
            self.last_fid.wrapping_add(delta)
        } else {
            unzigzag(self.read_varint()?) as i16
        };
        self.last_fid = id;
        if t == TType::Bool {
            self.pending_bool = Some(code == ct::BOOL_TRUE);
        }
        Ok((t, id))
    }

    #[inline]
    fn read_bool(&mut self) -> Result<bool> {
        if let Some(b) = self.pending_bool.take() {
            return Ok(b);
        }
        // An element: 1 is true; anything else is false, as in Apache Thrift.
        Ok(self.byte()? == ct::BOOL_TRUE)
    }
    #[inline]
    fn read_i8(&mut self) -> Result<i8> {
        Ok(self.byte()? as i8)
    }
    #[inline]
    fn read_i16(&mut self) -> Result<i16> {
        Ok(unzigzag(self.read_varint()?) as i16)
    }
    #[inline]
    fn read_i32(&mut self) -> Result<i32> {
        Ok(unzigzag(self.read_varint()?) as i32)
    }
    #[inline]
    fn read_i64(&mut self) -> Result<i64> {
        Ok(unzigzag(self.read_varint()?))
    }
    #[inline]
    fn read_double(&mut self) -> Result<f64> {
        let s = self.read_raw(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        Ok(f64::from_bits(u64::from_le_bytes(a)))
    }
    #[inline]
    fn read_uuid(&mut self) -> Result<[u8; 16]> {
        let s = self.read_raw(16)?;
        let mut a = [0u8; 16];
        a.copy_from_slice(s);
        Ok(a)
    }

    #[inline]
    fn read_binary(&mut self) -> Result<&'a [u8]> {
        let at = self.pos;
        let n = self.read_len()?;
        if n > self.remaining() {
            return Err(Error::decode(
                ErrorKind::LengthLimit,
                at,
                format!("declared {n} bytes but only {} remain", self.remaining()),
            ));
        }
        self.read_raw(n)
    }

    #[inline]
    fn read_list_begin(&mut self) -> Result<(TType, usize)> {
        let at = self.pos;
        let b = self.byte()?;
        let t = self.elem_type(b & 0x0f, at)?;
        let short = (b >> 4) as usize;
        let n = if short == 15 { self.read_len()? } else { short };
        check_count(n, min_size(t), self.remaining(), at)?;
        Ok((t, n))
    }

    #[inline]
    fn read_map_begin(&mut self) -> Result<(TType, TType, usize)> {
        let at = self.pos;
        let n = self.read_len()?;
        if n == 0 {
            return Ok((TType::Stop, TType::Stop, 0));
        }
        let kv_at = self.pos;
        let kv = self.byte()?;
        let k = self.elem_type(kv >> 4, kv_at)?;
        let v = self.elem_type(kv & 0x0f, kv_at)?;
        check_count(n, min_size(k) + min_size(v), self.remaining(), at)?;
        Ok((k, v, n))
    }
}

/// Writes the Compact protocol into a `Vec<u8>`.
#[derive(Debug)]
pub struct CompactWriter<'b> {
    out: &'b mut Vec<u8>,
    last_fid: i16,
    /// Id of a bool field whose header waits for its value.
    pending_bool_field: Option<i16>,
}

impl<'b> CompactWriter<'b> {
    #[inline]
    pub fn new(out: &'b mut Vec<u8>) -> Self {
        CompactWriter {
            out,
            last_fid: 0,
            pending_bool_field: None,
        }
    }

    #[inline]
    pub fn write_varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.out.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.out.push(v as u8);
    }

    #[inline]
    fn field_header(&mut self, code: u8, id: i16) {
        let delta = id as i32 - self.last_fid as i32;
        if delta > 0 && delta <= 15 {
            self.out.push(((delta as u8) << 4) | code);
        } else {
            self.out.push(code);
            self.write_varint(zigzag32(id as i32) as u64);
        }
        self.last_fid = id;
    }

    #[inline]
    fn put_len(&mut self, len: usize) -> Result<()> {
        if len > i32::MAX as usize {
            return Err(too_long(len));
        }
        self.write_varint(len as u64);
        Ok(())
    }
}

impl ProtoWrite for CompactWriter<'_> {
    const PROTOCOL: Protocol = Protocol::Compact;
    type StructState = i16;

    fn write_message_begin(&mut self, name: &str, kind: TMessageType, seqid: i32) -> Result<()> {
        self.out.push(PROTOCOL_ID);
        self.out.push(VERSION | ((kind as u8) << TYPE_SHIFT));
        self.write_varint(seqid as u32 as u64);
        self.write_string(name)
    }
    #[inline]
    fn write_struct_begin(&mut self) -> i16 {
        std::mem::replace(&mut self.last_fid, 0)
    }
    #[inline]
    fn write_struct_end(&mut self, saved: i16) {
        self.last_fid = saved;
    }
    #[inline]
    fn write_field_begin(&mut self, ttype: TType, id: i16) {
        if ttype == TType::Bool {
            self.pending_bool_field = Some(id);
        } else {
            self.field_header(compact_code(ttype), id);
        }
    }
    #[inline]
    fn write_field_stop(&mut self) {
        self.out.push(ct::STOP);
    }
    #[inline]
    fn write_bool(&mut self, v: bool) {
        let code = if v { ct::BOOL_TRUE } else { ct::BOOL_FALSE };
        match self.pending_bool_field.take() {
            Some(id) => self.field_header(code, id),
            None => self.out.push(code),
        }
    }
    #[inline]
    fn write_i8(&mut self, v: i8) {
        self.out.push(v as u8);
    }
    #[inline]
    fn write_i16(&mut self, v: i16) {
        self.write_varint(zigzag32(v as i32) as u64);
    }
    #[inline]
    fn write_i32(&mut self, v: i32) {
        self.write_varint(zigzag32(v) as u64);
    }
    #[inline]
    fn write_i64(&mut self, v: i64) {
        self.write_varint(zigzag64(v));
    }
    #[inline]
    fn write_double(&mut self, v: f64) {
        self.out.extend_from_slice(&v.to_bits().to_le_bytes());
    }
    #[inline]
    fn write_uuid(&mut self, v: &[u8; 16]) {
        self.out.extend_from_slice(v);
    }
    #[inline]
    fn write_binary(&mut self, v: &[u8]) -> Result<()> {
        self.put_len(v.len())?;
        self.out.extend_from_slice(v);
        Ok(())
    }
    #[inline]
    fn write_list_begin(&mut self, elem: TType, len: usize) -> Result<()> {
        let code = compact_code(elem);
        if len <= 14 {
            self.out.push(((len as u8) << 4) | code);
            Ok(())
        } else {
            self.out.push(0xf0 | code);
            self.put_len(len)
        }
    }
    #[inline]
    fn write_map_begin(&mut self, key: TType, value: TType, len: usize) -> Result<()> {
        if len == 0 {
            self.out.push(0);
            return Ok(());
        }
        self.put_len(len)?;
        self.out
            .push((compact_code(key) << 4) | compact_code(value));
        Ok(())
    }
    #[inline]
    fn write_raw(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }
}

/// Counts the bytes a [`CompactWriter`] would write.
#[derive(Debug, Default, Clone)]
pub struct CompactSizer {
    pub len: usize,
    last_fid: i16,
    pending_bool_field: bool,
}

impl CompactSizer {
    pub fn new() -> Self {
        CompactSizer::default()
    }

    #[inline]
    fn field_header(&mut self, id: i16) {
        let delta = id as i32 - self.last_fid as i32;
        self.len += if delta > 0 && delta <= 15 {
            1
        } else {
            1 + varint_len(zigzag32(id as i32) as u64)
        };
        self.last_fid = id;
    }

    #[inline]
    fn add_len(&mut self, len: usize) -> Result<()> {
        if len > i32::MAX as usize {
            return Err(too_long(len));
        }
        self.len += varint_len(len as u64);
        Ok(())
    }
}

impl ProtoWrite for CompactSizer {
    const PROTOCOL: Protocol = Protocol::Compact;
    type StructState = i16;

    fn write_message_begin(&mut self, name: &str, _: TMessageType, seqid: i32) -> Result<()> {
        self.len += 2 + varint_len(seqid as u32 as u64);
        self.write_string(name)
    }
    #[inline]
    fn write_struct_begin(&mut self) -> i16 {
        std::mem::replace(&mut self.last_fid, 0)
    }
    #[inline]
    fn write_struct_end(&mut self, saved: i16) {
        self.last_fid = saved;
    }
    #[inline]
    fn write_field_begin(&mut self, ttype: TType, id: i16) {
        // A bool field's value folds into its header: the header is all it costs.
        self.pending_bool_field = ttype == TType::Bool;
        self.field_header(id);
    }
    #[inline]
    fn write_field_stop(&mut self) {
        self.len += 1;
    }
    #[inline]
    fn write_bool(&mut self, _: bool) {
        if !std::mem::take(&mut self.pending_bool_field) {
            self.len += 1;
        }
    }
    #[inline]
    fn write_i8(&mut self, _: i8) {
        self.len += 1;
    }
    #[inline]
    fn write_i16(&mut self, v: i16) {
        self.len += varint_len(zigzag32(v as i32) as u64);
    }
    #[inline]
    fn write_i32(&mut self, v: i32) {
        self.len += varint_len(zigzag32(v) as u64);
    }
    #[inline]
    fn write_i64(&mut self, v: i64) {
        self.len += varint_len(zigzag64(v));
    }
    #[inline]
    fn write_double(&mut self, _: f64) {
        self.len += 8;
    }
    #[inline]
    fn write_uuid(&mut self, _: &[u8; 16]) {
        self.len += 16;
    }
    #[inline]
    fn write_binary(&mut self, v: &[u8]) -> Result<()> {
        self.add_len(v.len())?;
        self.len += v.len();
        Ok(())
    }
    #[inline]
    fn write_list_begin(&mut self, _: TType, len: usize) -> Result<()> {
        if len <= 14 {
            self.len += 1;
            Ok(())
        } else {
            self.len += 1;
            self.add_len(len)
        }
    }
    #[inline]
    fn write_map_begin(&mut self, _: TType, _: TType, len: usize) -> Result<()> {
        if len == 0 {
            self.len += 1;
            return Ok(());
        }
        self.add_len(len)?;
        self.len += 1;
        Ok(())
    }
    #[inline]
    fn write_raw(&mut self, bytes: &[u8]) {
        self.len += bytes.len();
    }
}
