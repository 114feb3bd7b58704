//! Thrift writers for the JSON → Thrift direction. Unlike the core writers they write container
//! headers before the element count is known (JSON arrays do not say how long they are) and
//! patch them at the end: a fixed 4-byte length in Binary; in Compact a one-byte (list) or
//! two-byte (map) header that grows in place when the count needs a longer varint.

use dynthrift_core::TType;
use dynthrift_core::wire::Protocol;
use dynthrift_core::wire::compact::{compact_code, zigzag32, zigzag64};
use dynthrift_core::{Error, ErrorKind, Result};

/// Where a container header was written, to be patched by `*_end`.
#[derive(Clone, Copy)]
pub struct Mark(usize, u8);

pub trait Sink {
    const PROTOCOL: Protocol;
    type State: Copy;
    fn out(&mut self) -> &mut Vec<u8>;
    fn struct_begin(&mut self) -> Self::State;
    fn struct_end(&mut self, saved: Self::State);
    fn field_begin(&mut self, t: TType, id: i16);
    fn stop(&mut self);
    /// A bool; the value of a bool field in Compact (completes the header).
    fn bool(&mut self, v: bool);
    fn i8(&mut self, v: i8);
    fn i16(&mut self, v: i16);
    fn i32(&mut self, v: i32);
    fn i64(&mut self, v: i64);
    fn double(&mut self, v: f64);
    fn uuid(&mut self, v: &[u8; 16]);
    fn bytes(&mut self, v: &[u8]) -> Result<()>;
    /// Reserves room for a string's length prefix, returns the start of the data.
    fn bytes_begin(&mut self) -> Mark;
    fn bytes_end(&mut self, m: Mark) -> Result<()>;
    fn list_begin(&mut self, elem: TType) -> Mark;
    fn list_end(&mut self, m: Mark, n: usize) -> Result<()>;
    fn map_begin(&mut self, k: TType, v: TType) -> Mark;
    fn map_end(&mut self, m: Mark, n: usize) -> Result<()>;
}

#[cold]
fn too_long(n: usize) -> Error {
    Error::encode(
        ErrorKind::InvalidValue,
        format!("length {n} does not fit in an i32"),
    )
}

#[inline]
fn check_len(n: usize) -> Result<i32> {
    i32::try_from(n).map_err(|_| too_long(n))
}

pub struct BinarySink<'o> {
    pub out: &'o mut Vec<u8>,
}

impl Sink for BinarySink<'_> {
    const PROTOCOL: Protocol = Protocol::Binary;
    type State = ();
    #[inline]
    fn out(&mut self) -> &mut Vec<u8> {
        self.out
    }
    #[inline]
    fn struct_begin(&mut self) {}
    #[inline]
    fn struct_end(&mut self, _: ()) {}
    #[inline]
    fn field_begin(&mut self, t: TType, id: i16) {
        let id = id.to_be_bytes();
        self.out.extend_from_slice(&[t as u8, id[0], id[1]]);
    }
    #[inline]
    fn stop(&mut self) {
        self.out.push(0);
    }
    #[inline]
    fn bool(&mut self, v: bool) {
        self.out.push(v as u8);
    }
    #[inline]
    fn i8(&mut self, v: i8) {
        self.out.push(v as u8);
    }
    #[inline]
    fn i16(&mut self, v: i16) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }
    #[inline]
    fn i32(&mut self, v: i32) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }
    #[inline]
    fn i64(&mut self, v: i64) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }
    #[inline]
    fn double(&mut self, v: f64) {
        self.out.extend_from_slice(&v.to_bits().to_be_bytes());
    }
    #[inline]
    fn uuid(&mut self, v: &[u8; 16]) {
        self.out.extend_from_slice(v);
    }
    #[inline]
    fn bytes(&mut self, v: &[u8]) -> Result<()> {
        let n = check_len(v.len())?;
        self.out.extend_from_slice(&n.to_be_bytes());
        self.out.extend_from_slice(v);
        Ok(())
    }
    #[inline]
    fn bytes_begin(&mut self) -> Mark {
        self.out.extend_from_slice(&[0; 4]);
        Mark(self.out.len(), 0)
    }
    #[inline]
    fn bytes_end(&mut self, m: Mark) -> Result<()> {
        let n = check_len(self.out.len() - m.0)?;
        self.out[m.0 - 4..m.0].copy_from_slice(&n.to_be_bytes());
        Ok(())
    }
    #[inline]
    fn list_begin(&mut self, elem: TType) -> Mark {
        self.out.extend_from_slice(&[elem as u8, 0, 0, 0, 0]);
        Mark(self.out.len(), 0)
    }
    #[inline]
    fn list_end(&mut self, m: Mark, n: usize) -> Result<()> {
        let n = check_len(n)?;
        self.out[m.0 - 4..m.0].copy_from_slice(&n.to_be_bytes());
        Ok(())
    }
    #[inline]
    fn map_begin(&mut self, k: TType, v: TType) -> Mark {
        self.out.extend_from_slice(&[k as u8, v as u8, 0, 0, 0, 0]);
        Mark(self.out.len(), 0)
    }
    #[inline]
    fn map_end(&mut self, m: Mark, n: usize) -> Result<()> {
        self.list_end(m, n)
    }
}

pub struct CompactSink<'o> {
    pub out: &'o mut Vec<u8>,
    last_fid: i16,
    pending_bool_field: Option<i16>,
}

impl<'o> CompactSink<'o> {
    pub fn new(out: &'o mut Vec<u8>) -> Self {
        CompactSink {
            out,
            last_fid: 0,
            pending_bool_field: None,
        }
    }

    #[inline]
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.out.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.out.push(v as u8);
    }

    #[inline]
    fn header(&mut self, code: u8, id: i16) {
        let delta = id as i32 - self.last_fid as i32;
        if delta > 0 && delta <= 15 {
            self.out.push(((delta as u8) << 4) | code);
        } else {
            self.out.push(code);
            self.varint(zigzag32(id as i32) as u64);
        }
        self.last_fid = id;
    }

    /// Replaces `out[at..at + reserved]` by `bytes` (moving what follows when the sizes differ).
    #[cold]
    fn splice(&mut self, at: usize, reserved: usize, bytes: &[u8]) {
        if bytes.len() <= reserved {
            let end = self.out.len();
            self.out[at..at + bytes.len()].copy_from_slice(bytes);
            self.out.copy_within(at + reserved..end, at + bytes.len());
            self.out.truncate(end - (reserved - bytes.len()));
            return;
        }
        self.out.splice(at..at + reserved, bytes.iter().copied());
    }
}

fn varint_bytes(mut v: u64, buf: &mut [u8; 10]) -> usize {
    let mut i = 0;
    while v >= 0x80 {
        buf[i] = (v as u8) | 0x80;
        v >>= 7;
        i += 1;
    }
    buf[i] = v as u8;
    i + 1
}

impl Sink for CompactSink<'_> {
    const PROTOCOL: Protocol = Protocol::Compact;
    type State = i16;
    #[inline]
    fn out(&mut self) -> &mut Vec<u8> {
        self.out
    }
    #[inline]
    fn struct_begin(&mut self) -> i16 {
        std::mem::replace(&mut self.last_fid, 0)
    }
    #[inline]
    fn struct_end(&mut self, saved: i16) {
        self.last_fid = saved;
    }
    #[inline]
    fn field_begin(&mut self, t: TType, id: i16) {
        if t == TType::Bool {
            self.pending_bool_field = Some(id);
        } else {
            self.header(compact_code(t), id);
        }
    }
    #[inline]
    fn stop(&mut self) {
        self.out.push(0);
    }
    #[inline]
    fn bool(&mut self, v: bool) {
        let code = if v { 1 } else { 2 };
        match self.pending_bool_field.take() {
            Some(id) => self.header(code, id),
            None => self.out.push(code),
        }
    }
    #[inline]
    fn i8(&mut self, v: i8) {
        self.out.push(v as u8);
    }
    #[inline]
    fn i16(&mut self, v: i16) {
        self.varint(zigzag32(v as i32) as u64);
    }
    #[inline]
    fn i32(&mut self, v: i32) {
        self.varint(zigzag32(v) as u64);
    }
    #[inline]
    fn i64(&mut self, v: i64) {
        self.varint(zigzag64(v));
    }
    #[inline]
    fn double(&mut self, v: f64) {
        self.out.extend_from_slice(&v.to_bits().to_le_bytes());
    }
    #[inline]
    fn uuid(&mut self, v: &[u8; 16]) {
        self.out.extend_from_slice(v);
    }
    #[inline]
    fn bytes(&mut self, v: &[u8]) -> Result<()> {
        check_len(v.len())?;
        self.varint(v.len() as u64);
        self.out.extend_from_slice(v);
        Ok(())
    }
    /// Two bytes reserved for the length: the strings that reach here (with escapes, or
    /// base64) are often 128 bytes or longer, and then need no move.
    #[inline]
    fn bytes_begin(&mut self) -> Mark {
        self.out.extend_from_slice(&[0, 0]);
        Mark(self.out.len(), 0)
    }
    #[inline]
    fn bytes_end(&mut self, m: Mark) -> Result<()> {
        let n = self.out.len() - m.0;
        check_len(n)?;
        if (0x80..0x4000).contains(&n) {
            self.out[m.0 - 2] = (n as u8) | 0x80;
            self.out[m.0 - 1] = (n >> 7) as u8;
        } else {
            let mut buf = [0; 10];
            let k = varint_bytes(n as u64, &mut buf);
            self.splice(m.0 - 2, 2, &buf[..k]);
        }
        Ok(())
    }
    #[inline]
    fn list_begin(&mut self, elem: TType) -> Mark {
        let code = compact_code(elem);
        self.out.push(code);
        Mark(self.out.len(), code)
    }
    #[inline]
    fn list_end(&mut self, m: Mark, n: usize) -> Result<()> {
        check_len(n)?;
        if n <= 14 {
            self.out[m.0 - 1] = ((n as u8) << 4) | m.1;
        } else {
            let mut buf = [0; 11];
            buf[0] = 0xf0 | m.1;
            let mut vb = [0; 10];
            let k = varint_bytes(n as u64, &mut vb);
            buf[1..=k].copy_from_slice(&vb[..k]);
            self.splice(m.0 - 1, 1, &buf[..=k]);
        }
        Ok(())
    }
    #[inline]
    fn map_begin(&mut self, k: TType, v: TType) -> Mark {
        let code = (compact_code(k) << 4) | compact_code(v);
        self.out.extend_from_slice(&[0, code]);
        Mark(self.out.len(), code)
    }
    #[inline]
    fn map_end(&mut self, m: Mark, n: usize) -> Result<()> {
        check_len(n)?;
        if n == 0 {
            // An empty map is one zero byte, with no type byte.
            self.out.truncate(m.0 - 1);
        } else if n < 0x80 {
            self.out[m.0 - 2] = n as u8;
        } else {
            let mut vb = [0; 10];
            let k = varint_bytes(n as u64, &mut vb);
            let mut buf = [0; 11];
            buf[..k].copy_from_slice(&vb[..k]);
            buf[k] = m.1;
            self.splice(m.0 - 2, 2, &buf[..=k]);
        }
        Ok(())
    }
}
