//! Wire primitives for the Binary and Compact protocols.
//!
//! Each protocol has a reader over a byte slice, a writer into a `Vec<u8>`, and a sizer that
//! implements the writer's trait but only counts bytes, so that `encoded_len` runs the very
//! same code as `encode`. Readers are bounds-checked and never panic: every failure is an
//! [`Error`] carrying the byte offset where the bad item starts.

pub mod binary;
pub mod compact;
#[cfg(test)]
mod tests;
#[allow(unsafe_code)]
mod utf8;

use crate::error::{Error, ErrorKind, Result};
use crate::ttype::{TMessageType, TType};

/// The protocols this library speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Protocol {
    #[default]
    Binary,
    Compact,
}

/// A message envelope's header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MessageHeader<'a> {
    pub name: &'a str,
    pub kind: TMessageType,
    pub seqid: i32,
}

/// Maximum nesting depth of values, on decode and encode, unless configured otherwise.
pub const DEFAULT_DEPTH_LIMIT: u32 = 64;

/// Reading one protocol from a byte slice.
pub trait ProtoRead<'a>: Sized {
    const PROTOCOL: Protocol;
    /// Saved per-struct state (Compact's last field id); restored by `read_struct_end`.
    type StructState: Copy;

    fn new(buf: &'a [u8]) -> Self;
    /// Bytes consumed so far.
    fn position(&self) -> usize;
    fn remaining(&self) -> usize;

    fn read_message_begin(&mut self) -> Result<MessageHeader<'a>>;
    fn read_struct_begin(&mut self) -> Self::StructState;
    fn read_struct_end(&mut self, saved: Self::StructState);
    /// The next field's type and id; `TType::Stop` (id 0) ends the struct.
    fn read_field_begin(&mut self) -> Result<(TType, i16)>;
    fn read_bool(&mut self) -> Result<bool>;
    fn read_i8(&mut self) -> Result<i8>;
    fn read_i16(&mut self) -> Result<i16>;
    fn read_i32(&mut self) -> Result<i32>;
    fn read_i64(&mut self) -> Result<i64>;
    fn read_double(&mut self) -> Result<f64>;
    fn read_uuid(&mut self) -> Result<[u8; 16]>;
    /// A length-prefixed byte string, borrowed from the input.
    fn read_binary(&mut self) -> Result<&'a [u8]>;
    /// Element type and length. The length is checked against the remaining input.
    fn read_list_begin(&mut self) -> Result<(TType, usize)>;
    /// Key type, value type and length; an empty Compact map reports `Stop` types.
    fn read_map_begin(&mut self) -> Result<(TType, TType, usize)>;

    /// A `string`: bytes validated as UTF-8.
    #[inline]
    fn read_string(&mut self) -> Result<&'a str> {
        let bytes = self.read_binary()?;
        // The data ends where the reader now stands.
        utf8(bytes, self.position() - bytes.len())
    }

    #[inline]
    fn read_set_begin(&mut self) -> Result<(TType, usize)> {
        self.read_list_begin()
    }

    /// Reads and discards one value of type `ttype`, nested at most `depth` levels.
    #[inline]
    fn skip(&mut self, ttype: TType, depth: u32) -> Result<()> {
        skip_value(self, ttype, depth)
    }
}

/// [`ProtoRead::skip`] as every protocol does it, one element at a time (a protocol may skip
/// some values faster and call this for the others; nested values go through its `skip`).
pub fn skip_value<'a, R: ProtoRead<'a>>(r: &mut R, ttype: TType, depth: u32) -> Result<()> {
    match ttype {
        TType::Bool => r.read_bool().map(drop),
        TType::I8 => r.read_i8().map(drop),
        TType::I16 => r.read_i16().map(drop),
        TType::I32 => r.read_i32().map(drop),
        TType::I64 => r.read_i64().map(drop),
        TType::Double => r.read_double().map(drop),
        TType::Uuid => r.read_uuid().map(drop),
        TType::String => r.read_binary().map(drop),
        TType::Struct => {
            let depth = enter(depth, r.position())?;
            let saved = r.read_struct_begin();
            loop {
                let (t, _) = r.read_field_begin()?;
                if t == TType::Stop {
                    break;
                }
                r.skip(t, depth)?;
            }
            r.read_struct_end(saved);
            Ok(())
        }
        TType::List | TType::Set => {
            let depth = enter(depth, r.position())?;
            let (t, n) = r.read_list_begin()?;
            for _ in 0..n {
                r.skip(t, depth)?;
            }
            Ok(())
        }
        TType::Map => {
            let depth = enter(depth, r.position())?;
            let (k, v, n) = r.read_map_begin()?;
            for _ in 0..n {
                r.skip(k, depth)?;
                r.skip(v, depth)?;
            }
            Ok(())
        }
        TType::Stop | TType::Void => Err(Error::decode(
            ErrorKind::InvalidType,
            r.position(),
            format!("cannot skip a value of type {ttype}"),
        )),
    }
}

/// Writing one protocol. Implemented by the writers and by the sizers (which only count).
pub trait ProtoWrite {
    const PROTOCOL: Protocol;
    type StructState: Copy;

    fn write_message_begin(&mut self, name: &str, kind: TMessageType, seqid: i32) -> Result<()>;
    fn write_struct_begin(&mut self) -> Self::StructState;
    fn write_struct_end(&mut self, saved: Self::StructState);
    fn write_field_begin(&mut self, ttype: TType, id: i16);
    fn write_field_stop(&mut self);
    fn write_bool(&mut self, v: bool);
    fn write_i8(&mut self, v: i8);
    fn write_i16(&mut self, v: i16);
    fn write_i32(&mut self, v: i32);
    fn write_i64(&mut self, v: i64);
    fn write_double(&mut self, v: f64);
    fn write_uuid(&mut self, v: &[u8; 16]);
    fn write_binary(&mut self, v: &[u8]) -> Result<()>;
    #[inline]
    fn write_string(&mut self, v: &str) -> Result<()> {
        self.write_binary(v.as_bytes())
    }
    fn write_list_begin(&mut self, elem: TType, len: usize) -> Result<()>;
    #[inline]
    fn write_set_begin(&mut self, elem: TType, len: usize) -> Result<()> {
        self.write_list_begin(elem, len)
    }
    fn write_map_begin(&mut self, key: TType, value: TType, len: usize) -> Result<()>;
    /// Bytes already in this protocol's encoding, copied as they are.
    fn write_raw(&mut self, bytes: &[u8]);
}

/// Reads one value of type `ttype` and writes it with another protocol's writer (or the same
/// one): how kept unknown fields cross protocols, and the core of protocol conversion.
pub fn transcode<'a, R: ProtoRead<'a>, W: ProtoWrite>(
    r: &mut R,
    w: &mut W,
    ttype: TType,
    depth: u32,
) -> Result<()> {
    match ttype {
        TType::Bool => w.write_bool(r.read_bool()?),
        TType::I8 => w.write_i8(r.read_i8()?),
        TType::I16 => w.write_i16(r.read_i16()?),
        TType::I32 => w.write_i32(r.read_i32()?),
        TType::I64 => w.write_i64(r.read_i64()?),
        TType::Double => w.write_double(r.read_double()?),
        TType::Uuid => w.write_uuid(&r.read_uuid()?),
        TType::String => w.write_binary(r.read_binary()?)?,
        TType::Struct => {
            let depth = enter(depth, r.position())?;
            let rs = r.read_struct_begin();
            let ws = w.write_struct_begin();
            loop {
                let (t, id) = r.read_field_begin()?;
                if t == TType::Stop {
                    break;
                }
                w.write_field_begin(t, id);
                transcode(r, w, t, depth)?;
            }
            w.write_field_stop();
            w.write_struct_end(ws);
            r.read_struct_end(rs);
        }
        TType::List | TType::Set => {
            let depth = enter(depth, r.position())?;
            let (t, n) = r.read_list_begin()?;
            if ttype == TType::List {
                w.write_list_begin(t, n)?
            } else {
                w.write_set_begin(t, n)?
            }
            for _ in 0..n {
                transcode(r, w, t, depth)?;
            }
        }
        TType::Map => {
            let depth = enter(depth, r.position())?;
            let (k, v, n) = r.read_map_begin()?;
            w.write_map_begin(k, v, n)?;
            for _ in 0..n {
                transcode(r, w, k, depth)?;
                transcode(r, w, v, depth)?;
            }
        }
        TType::Stop | TType::Void => {
            return Err(Error::decode(
                ErrorKind::InvalidType,
                r.position(),
                format!("no value of type {ttype}"),
            ));
        }
    }
    Ok(())
}

/// One level deeper, or a depth error at `offset`.
#[inline]
pub fn enter(depth: u32, offset: usize) -> Result<u32> {
    match depth.checked_sub(1) {
        Some(d) => Ok(d),
        None => Err(depth_error(offset)),
    }
}

#[cold]
#[inline(never)]
pub fn depth_error(offset: usize) -> Error {
    Error::decode(ErrorKind::DepthLimit, offset, "nesting too deep")
}

/// `bytes` as a `str` (validated, SIMD where that pays), or an `InvalidUtf8` error at the offset of the first
/// bad byte, `start` being the offset of `bytes` in the input.
#[inline]
pub fn utf8(bytes: &[u8], start: usize) -> Result<&str> {
    match utf8::check(bytes) {
        Some(s) => Ok(s),
        None => Err(utf8_error_in(bytes, start)),
    }
}

/// `bytes` as a `str` if it is valid UTF-8 (the check [`utf8`] makes), without building an
/// error: for fast paths that hand a failure to a general path.
#[inline]
pub fn utf8_ok(bytes: &[u8]) -> Option<&str> {
    utf8::check(bytes)
}

#[cold]
#[inline(never)]
fn utf8_error_in(bytes: &[u8], start: usize) -> Error {
    // The fast validator does not say where; the standard one does.
    let at = std::str::from_utf8(bytes)
        .err()
        .map_or(0, |e| e.valid_up_to());
    utf8_error(start + at)
}

#[cold]
#[inline(never)]
pub fn utf8_error(offset: usize) -> Error {
    Error::decode(ErrorKind::InvalidUtf8, offset, "")
}

#[cold]
#[inline(never)]
pub(crate) fn eof(offset: usize) -> Error {
    Error::decode(ErrorKind::UnexpectedEof, offset, "")
}

#[cold]
#[inline(never)]
pub(crate) fn invalid_type(code: u8, offset: usize) -> Error {
    Error::decode(
        ErrorKind::InvalidType,
        offset,
        format!("invalid type code {code}"),
    )
}

#[cold]
#[inline(never)]
pub(crate) fn too_long(len: usize) -> Error {
    Error::encode(
        ErrorKind::InvalidValue,
        format!("length {len} does not fit in an i32"),
    )
}

/// Checks a declared element count against the remaining input, before anything is allocated.
#[inline]
pub(crate) fn check_count(
    n: usize,
    min_elem: usize,
    remaining: usize,
    offset: usize,
) -> Result<()> {
    if n.saturating_mul(min_elem) > remaining {
        return Err(count_error(n, remaining, offset));
    }
    Ok(())
}

#[cold]
#[inline(never)]
fn count_error(n: usize, remaining: usize, offset: usize) -> Error {
    Error::decode(
        ErrorKind::LengthLimit,
        offset,
        format!("declared {n} elements but only {remaining} bytes remain"),
    )
}

#[cfg(test)]
pub(crate) mod test_util {
    use super::*;
    use proptest::prelude::*;

    /// Any wire type code that carries a value.
    pub fn value_ttype() -> impl Strategy<Value = TType> {
        prop_oneof![
            Just(TType::Bool),
            Just(TType::I8),
            Just(TType::I16),
            Just(TType::I32),
            Just(TType::I64),
            Just(TType::Double),
            Just(TType::String),
            Just(TType::Struct),
            Just(TType::Map),
            Just(TType::Set),
            Just(TType::List),
            Just(TType::Uuid),
        ]
    }
}
