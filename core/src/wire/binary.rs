//! The Binary protocol: big-endian fixed-width integers, `i32` length prefixes, one type byte
//! and an `i16` id per field header.

use super::{
    MessageHeader, ProtoRead, ProtoWrite, Protocol, check_count, enter, eof, invalid_type,
    skip_value, too_long,
};
use crate::error::{Error, ErrorKind, Result};
use crate::ttype::{TMessageType, TType};

/// Strict message header version word (`VERSION_1`), or-ed with the message type.
pub const VERSION_1: u32 = 0x8001_0000;
const VERSION_MASK: u32 = 0xffff_0000;

/// Smallest number of bytes one value of `t` occupies in the Binary protocol.
#[inline]
pub const fn min_size(t: TType) -> usize {
    match t {
        TType::Bool | TType::I8 | TType::Struct => 1,
        TType::I16 => 2,
        TType::I32 | TType::String | TType::List | TType::Set => 4,
        TType::I64 | TType::Double => 8,
        TType::Map => 4,
        TType::Uuid => 16,
        TType::Stop | TType::Void => 1,
    }
}

/// The size of a value of type `t` when every value of it has the same: exactly its
/// [`min_size`].
const fn fixed_width(t: TType) -> Option<usize> {
    match t {
        TType::Bool
        | TType::I8
        | TType::I16
        | TType::I32
        | TType::I64
        | TType::Double
        | TType::Uuid => Some(min_size(t)),
        _ => None,
    }
}

/// Reads the Binary protocol from a byte slice.
#[derive(Debug, Clone)]
pub struct BinaryReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> BinaryReader<'a> {
    #[inline(always)]
    fn take<const N: usize>(&mut self) -> Result<[u8; N]> {
        match self.buf.get(self.pos..self.pos + N) {
            Some(s) => {
                self.pos += N;
                // The slice has exactly N bytes.
                Ok(s.try_into().unwrap_or([0; N]))
            }
            None => Err(eof(self.pos)),
        }
    }

    #[inline]
    fn read_len(&mut self) -> Result<usize> {
        let at = self.pos;
        let n = i32::from_be_bytes(self.take()?);
        if n < 0 {
            return Err(Error::decode(
                ErrorKind::NegativeLength,
                at,
                format!("negative length {n}"),
            ));
        }
        Ok(n as usize)
    }

    #[inline]
    fn read_type(&mut self) -> Result<TType> {
        let at = self.pos;
        let [code] = self.take()?;
        TType::from_u8(code).ok_or_else(|| invalid_type(code, at))
    }

    /// `n` raw bytes, borrowed.
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

#[cold]
#[inline(never)]
fn declared_too_long(n: usize, remaining: usize, at: usize) -> Error {
    Error::decode(
        ErrorKind::LengthLimit,
        at,
        format!("declared {n} bytes but only {remaining} remain"),
    )
}

impl BinaryReader<'_> {
    /// Skips an element of a list, set or map: a string here (as `read_binary` reads one),
    /// anything else by `skip`.
    #[inline(always)]
    fn skip_elem(&mut self, t: TType, depth: u32) -> Result<()> {
        if t != TType::String {
            return self.skip(t, depth);
        }
        let at = self.pos;
        let n = self.read_len()?;
        if n > self.remaining() {
            return Err(declared_too_long(n, self.remaining(), at));
        }
        self.pos += n;
        Ok(())
    }
}

impl<'a> ProtoRead<'a> for BinaryReader<'a> {
    const PROTOCOL: Protocol = Protocol::Binary;
    type StructState = ();

    #[inline]
    fn new(buf: &'a [u8]) -> Self {
        BinaryReader { buf, pos: 0 }
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
        let first = i32::from_be_bytes(self.take()?);
        if first < 0 {
            // Strict: version word, then name, then seqid.
            let word = first as u32;
            if word & VERSION_MASK != VERSION_1 {
                return Err(Error::decode(
                    ErrorKind::InvalidMessage,
                    at,
                    format!("bad protocol version {:#010x}", word & VERSION_MASK),
                ));
            }
            let kind = message_kind((word & 0xff) as u8, at + 3)?;
            let name = self.read_message_name()?;
            let seqid = self.read_i32()?;
            Ok(MessageHeader { name, kind, seqid })
        } else {
            // Non-strict (old) form: the first word is the name's length.
            self.pos = at;
            let name = self.read_message_name()?;
            let kind_at = self.pos;
            let [code] = self.take()?;
            let kind = message_kind(code, kind_at)?;
            let seqid = self.read_i32()?;
            Ok(MessageHeader { name, kind, seqid })
        }
    }

    #[inline]
    fn read_struct_begin(&mut self) {}
    #[inline]
    fn read_struct_end(&mut self, _: ()) {}

    #[inline]
    fn read_field_begin(&mut self) -> Result<(TType, i16)> {
        let t = self.read_type()?;
        if t == TType::Stop {
            return Ok((t, 0));
        }
        Ok((t, i16::from_be_bytes(self.take()?)))
    }

    #[inline]
    fn read_bool(&mut self) -> Result<bool> {
        // Any non-zero byte is true, as in Apache Thrift; the raw byte is never kept.
        Ok(self.take::<1>()?[0] != 0)
    }
    #[inline]
    fn read_i8(&mut self) -> Result<i8> {
        Ok(self.take::<1>()?[0] as i8)
    }
    #[inline]
    fn read_i16(&mut self) -> Result<i16> {
        Ok(i16::from_be_bytes(self.take()?))
    }
    #[inline]
    fn read_i32(&mut self) -> Result<i32> {
        Ok(i32::from_be_bytes(self.take()?))
    }
    #[inline]
    fn read_i64(&mut self) -> Result<i64> {
        Ok(i64::from_be_bytes(self.take()?))
    }
    #[inline]
    fn read_double(&mut self) -> Result<f64> {
        Ok(f64::from_bits(u64::from_be_bytes(self.take()?)))
    }
    #[inline]
    fn read_uuid(&mut self) -> Result<[u8; 16]> {
        self.take()
    }

    #[inline]
    fn read_binary(&mut self) -> Result<&'a [u8]> {
        let at = self.pos;
        let n = self.read_len()?;
        if n > self.remaining() {
            return Err(declared_too_long(n, self.remaining(), at));
        }
        self.read_raw(n)
    }

    /// Lists, sets and maps of fixed-width values are stepped over at once (their header's
    /// count check already made sure they are all there), strings in them one length at a
    /// time; anything else as every protocol skips it ([`skip_value`]).
    fn skip(&mut self, ttype: TType, depth: u32) -> Result<()> {
        match ttype {
            TType::List | TType::Set => {
                let depth = enter(depth, self.pos)?;
                let (t, n) = self.read_list_begin()?;
                if let Some(w) = fixed_width(t) {
                    self.pos += n * w;
                    return Ok(());
                }
                for _ in 0..n {
                    self.skip_elem(t, depth)?;
                }
                Ok(())
            }
            TType::Map => {
                let depth = enter(depth, self.pos)?;
                let (k, v, n) = self.read_map_begin()?;
                if let (Some(a), Some(b)) = (fixed_width(k), fixed_width(v)) {
                    self.pos += n * (a + b);
                    return Ok(());
                }
                for _ in 0..n {
                    self.skip_elem(k, depth)?;
                    self.skip_elem(v, depth)?;
                }
                Ok(())
            }
            _ => skip_value(self, ttype, depth),
        }
    }

    #[inline]
    fn read_list_begin(&mut self) -> Result<(TType, usize)> {
        let at = self.pos;
        let t = self.read_type()?;
        let n = self.read_len()?;
        check_count(n, min_size(t), self.remaining(), at)?;
        Ok((t, n))
    }

    #[inline]
    fn read_map_begin(&mut self) -> Result<(TType, TType, usize)> {
        let at = self.pos;
        let k = self.read_type()?;
        let v = self.read_type()?;
        let n = self.read_len()?;
        check_count(n, min_size(k) + min_size(v), self.remaining(), at)?;
        Ok((k, v, n))
    }
}

impl<'a> BinaryReader<'a> {
    fn read_message_name(&mut self) -> Result<&'a str> {
        self.read_string().map_err(|e| {
            if e.kind() == ErrorKind::InvalidUtf8 {
                Error::decode(
                    ErrorKind::InvalidMessage,
                    e.offset().unwrap_or(0),
                    "message name is not utf-8",
                )
            } else {
                e
            }
        })
    }
}

fn message_kind(code: u8, at: usize) -> Result<TMessageType> {
    TMessageType::from_u8(code).ok_or_else(|| {
        Error::decode(
            ErrorKind::InvalidMessage,
            at,
            format!("unknown message type {code}"),
        )
    })
}

/// Writes the Binary protocol into a `Vec<u8>`.
#[derive(Debug)]
pub struct BinaryWriter<'b> {
    out: &'b mut Vec<u8>,
    /// Write the old (non-strict) message header.
    non_strict: bool,
}

impl<'b> BinaryWriter<'b> {
    #[inline]
    pub fn new(out: &'b mut Vec<u8>) -> Self {
        BinaryWriter {
            out,
            non_strict: false,
        }
    }

    /// A writer whose message headers use the old non-strict form (name first).
    pub fn new_non_strict(out: &'b mut Vec<u8>) -> Self {
        BinaryWriter {
            out,
            non_strict: true,
        }
    }

    #[inline(always)]
    fn put(&mut self, b: &[u8]) {
        self.out.extend_from_slice(b);
    }

    #[inline]
    fn put_len(&mut self, len: usize) -> Result<()> {
        let n = i32::try_from(len).map_err(|_| too_long(len))?;
        self.put(&n.to_be_bytes());
        Ok(())
    }
}

impl ProtoWrite for BinaryWriter<'_> {
    const PROTOCOL: Protocol = Protocol::Binary;
    type StructState = ();

    fn write_message_begin(&mut self, name: &str, kind: TMessageType, seqid: i32) -> Result<()> {
        if self.non_strict {
            self.write_string(name)?;
            self.put(&[kind as u8]);
        } else {
            self.put(&(VERSION_1 | kind as u32).to_be_bytes());
            self.write_string(name)?;
        }
        self.put(&seqid.to_be_bytes());
        Ok(())
    }
    #[inline]
    fn write_struct_begin(&mut self) {}
    #[inline]
    fn write_struct_end(&mut self, _: ()) {}
    #[inline]
    fn write_field_begin(&mut self, ttype: TType, id: i16) {
        let id = id.to_be_bytes();
        self.put(&[ttype as u8, id[0], id[1]]);
    }
    #[inline]
    fn write_field_stop(&mut self) {
        self.out.push(0);
    }
    #[inline]
    fn write_bool(&mut self, v: bool) {
        self.out.push(v as u8);
    }
    #[inline]
    fn write_i8(&mut self, v: i8) {
        self.out.push(v as u8);
    }
    #[inline]
    fn write_i16(&mut self, v: i16) {
        self.put(&v.to_be_bytes());
    }
    #[inline]
    fn write_i32(&mut self, v: i32) {
        self.put(&v.to_be_bytes());
    }
    #[inline]
    fn write_i64(&mut self, v: i64) {
        self.put(&v.to_be_bytes());
    }
    #[inline]
    fn write_double(&mut self, v: f64) {
        self.put(&v.to_bits().to_be_bytes());
    }
    #[inline]
    fn write_uuid(&mut self, v: &[u8; 16]) {
        self.put(v);
    }
    #[inline]
    fn write_binary(&mut self, v: &[u8]) -> Result<()> {
        self.put_len(v.len())?;
        self.put(v);
        Ok(())
    }
    #[inline]
    fn write_list_begin(&mut self, elem: TType, len: usize) -> Result<()> {
        self.out.push(elem as u8);
        self.put_len(len)
    }
    #[inline]
    fn write_map_begin(&mut self, key: TType, value: TType, len: usize) -> Result<()> {
        self.put(&[key as u8, value as u8]);
        self.put_len(len)
    }
    #[inline]
    fn write_raw(&mut self, bytes: &[u8]) {
        self.put(bytes);
    }
}

/// Counts the bytes a [`BinaryWriter`] would write.
#[derive(Debug, Default, Clone)]
pub struct BinarySizer {
    pub len: usize,
    non_strict: bool,
}

impl BinarySizer {
    pub fn new() -> Self {
        BinarySizer::default()
    }

    pub fn new_non_strict() -> Self {
        BinarySizer {
            len: 0,
            non_strict: true,
        }
    }

    #[inline]
    fn check_len(len: usize) -> Result<()> {
        if len > i32::MAX as usize {
            Err(too_long(len))
        } else {
            Ok(())
        }
    }
}

impl ProtoWrite for BinarySizer {
    const PROTOCOL: Protocol = Protocol::Binary;
    type StructState = ();

    fn write_message_begin(&mut self, name: &str, _: TMessageType, _: i32) -> Result<()> {
        Self::check_len(name.len())?;
        self.len += if self.non_strict {
            4 + name.len() + 1 + 4
        } else {
            4 + 4 + name.len() + 4
        };
        Ok(())
    }
    #[inline]
    fn write_struct_begin(&mut self) {}
    #[inline]
    fn write_struct_end(&mut self, _: ()) {}
    #[inline]
    fn write_field_begin(&mut self, _: TType, _: i16) {
        self.len += 3;
    }
    #[inline]
    fn write_field_stop(&mut self) {
        self.len += 1;
    }
    #[inline]
    fn write_bool(&mut self, _: bool) {
        self.len += 1;
    }
    #[inline]
    fn write_i8(&mut self, _: i8) {
        self.len += 1;
    }
    #[inline]
    fn write_i16(&mut self, _: i16) {
        self.len += 2;
    }
    #[inline]
    fn write_i32(&mut self, _: i32) {
        self.len += 4;
    }
    #[inline]
    fn write_i64(&mut self, _: i64) {
        self.len += 8;
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
        Self::check_len(v.len())?;
        self.len += 4 + v.len();
        Ok(())
    }
    #[inline]
    fn write_list_begin(&mut self, _: TType, len: usize) -> Result<()> {
        Self::check_len(len)?;
        self.len += 5;
        Ok(())
    }
    #[inline]
    fn write_map_begin(&mut self, _: TType, _: TType, len: usize) -> Result<()> {
        Self::check_len(len)?;
        self.len += 6;
        Ok(())
    }
    #[inline]
    fn write_raw(&mut self, bytes: &[u8]) {
        self.len += bytes.len();
    }
}
