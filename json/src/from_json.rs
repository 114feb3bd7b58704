//! JSON → Thrift: a hand-written tokenizer walked by the plan, writing Thrift as it goes
//! (container lengths patched when each array or object ends).

use std::sync::Arc;

use dynthrift_core::error::PathSegment;
use dynthrift_core::wire::Protocol;
use dynthrift_core::{Error, ErrorKind, Result};
use dynthrift_interp::Limits;
use dynthrift_interp::serde::{base64_decode, double_parse, uuid_parse};

use crate::plan::{Plan, T};
use crate::sink::{BinarySink, CompactSink, Sink};
use crate::text::{ESCAPE, base64_decode_groups, next_special, special_mask};
use crate::to_json::Seen;

/// Transcodes the JSON text of a struct `si` of the plan into a new buffer, without checking
/// that the outermost struct is complete nor adding its defaults (for rendering defaults).
pub(crate) fn transcode_partial(
    plan: &Plan,
    si: usize,
    text: &str,
    protocol: Protocol,
    limits: &Limits,
) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    transcode_into(plan, si, text.as_bytes(), protocol, limits, true, &mut out)?;
    Ok(out)
}

/// `text` must be UTF-8 (checked by the callers).
pub(crate) fn transcode_into(
    plan: &Plan,
    si: usize,
    text: &[u8],
    protocol: Protocol,
    limits: &Limits,
    partial: bool,
    out: &mut Vec<u8>,
) -> Result<()> {
    let start = out.len();
    let r = match protocol {
        Protocol::Binary => run(plan, si, text, limits, partial, BinarySink { out }),
        Protocol::Compact => run(plan, si, text, limits, partial, CompactSink::new(out)),
    };
    if r.is_err() {
        out.truncate(start);
    }
    r
}

fn run<W: Sink>(
    plan: &Plan,
    si: usize,
    text: &[u8],
    limits: &Limits,
    partial: bool,
    w: W,
) -> Result<()> {
    let mut p = FromJson {
        plan,
        s: text,
        pos: 0,
        w,
        limits,
        partial,
    };
    p.struct_(si, limits.depth)
        .and_then(|()| {
            p.ws();
            if p.pos < p.s.len() {
                return Err(p.err("trailing characters after the value"));
            }
            Ok(())
        })
        .map_err(|e| e.in_root(&Arc::from("$")))
}

struct FromJson<'p, W> {
    plan: &'p Plan,
    s: &'p [u8],
    pos: usize,
    w: W,
    limits: &'p Limits,
    partial: bool,
}

/// Room kept free past the write position when unescaping.
const ROOM: usize = 16;

/// Makes room for more unescaped text: the string so far (from `base`) again, at least 256.
#[cold]
#[inline(never)]
fn grow(out: &mut Vec<u8>, j: usize, base: usize) {
    out.resize(j + ROOM + (j - base).max(256), 0);
}

/// The byte a one-letter escape stands for (`\n` → newline), 0 for the others.
static UNESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t[b'/' as usize] = b'/';
    t[b'b' as usize] = 8;
    t[b'f' as usize] = 12;
    t[b'n' as usize] = b'\n';
    t[b'r' as usize] = b'\r';
    t[b't' as usize] = b'\t';
    t
};

/// The value of eight ASCII digits, `None` when one is not a digit.
#[inline(always)]
fn eight_digits(chunk: &[u8]) -> Option<u64> {
    let w = u64::from_le_bytes(chunk.try_into().ok()?);
    const HI: u64 = 0xf0f0_f0f0_f0f0_f0f0;
    if w & HI != 0x3030_3030_3030_3030
        || (w.wrapping_add(0x0606_0606_0606_0606) & HI) != 0x3030_3030_3030_3030
    {
        return None;
    }
    // Pairs, then quads, then the eight (the first digit is the lowest byte).
    let d = w - 0x3030_3030_3030_3030;
    let d = (d * 10 + (d >> 8)) & 0x00ff_00ff_00ff_00ff;
    let d = (d * 100 + (d >> 16)) & 0x0000_ffff_0000_ffff;
    Some((d * 10000 + (d >> 32)) & 0xffff_ffff)
}

/// What a JSON value starts with.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tok {
    Obj,
    Arr,
    Str,
    Num,
    True,
    False,
    Null,
    End,
    Other,
}

fn tok_name(t: Tok) -> &'static str {
    match t {
        Tok::Obj => "an object",
        Tok::Arr => "an array",
        Tok::Str => "a string",
        Tok::Num => "a number",
        Tok::True | Tok::False => "a bool",
        Tok::Null => "null",
        Tok::End => "the end of the input",
        Tok::Other => "an unexpected character",
    }
}

/// A parsed JSON number: an integer, or (with a fraction or exponent) its text.
enum Num<'s> {
    Int(i128),
    Float(&'s str),
}

impl<'p, W: Sink> FromJson<'p, W> {
    #[cold]
    #[inline(never)]
    fn err(&self, detail: impl Into<String>) -> Error {
        Error::decode(ErrorKind::InvalidData, self.pos, detail.into())
    }

    #[cold]
    #[inline(never)]
    fn mismatch(&self, ty: &T, found: Tok) -> Error {
        self.err(format!(
            "expected {}, found {}",
            ty.label(),
            tok_name(found)
        ))
    }

    #[inline(always)]
    fn ws(&mut self) {
        while let Some(&b) = self.s.get(self.pos) {
            if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                break;
            }
            self.pos += 1;
        }
    }

    #[inline(always)]
    fn peek(&mut self) -> Tok {
        self.ws();
        match self.s.get(self.pos) {
            Some(b'{') => Tok::Obj,
            Some(b'[') => Tok::Arr,
            Some(b'"') => Tok::Str,
            Some(b'-' | b'0'..=b'9') => Tok::Num,
            Some(b't') => Tok::True,
            Some(b'f') => Tok::False,
            Some(b'n') => Tok::Null,
            None => Tok::End,
            _ => Tok::Other,
        }
    }

    #[inline]
    fn literal(&mut self, word: &[u8]) -> Result<()> {
        if self.s[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.err("invalid literal"))
        }
    }

    /// After an element: `,` (more follow: true) or the closing `close` (false).
    #[inline(always)]
    fn next(&mut self, close: u8) -> Result<bool> {
        self.ws();
        match self.s.get(self.pos) {
            Some(b',') => {
                self.pos += 1;
                Ok(true)
            }
            Some(&c) if c == close => {
                self.pos += 1;
                Ok(false)
            }
            _ => Err(self.err(format!("expected ',' or '{}'", close as char))),
        }
    }

    /// After an opening bracket: whether the container is empty (then the close is consumed).
    #[inline(always)]
    fn empty(&mut self, close: u8) -> bool {
        self.ws();
        if self.s.get(self.pos) == Some(&close) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    #[inline(always)]
    fn colon(&mut self) -> Result<()> {
        self.ws();
        if self.s.get(self.pos) == Some(&b':') {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err("expected ':'"))
        }
    }

    /// A string at `pos` (the opening quote): `Ok(bytes)` when it has no escapes (then it is
    /// consumed), else `Err(i)`, the index of its first backslash (nothing consumed).
    #[inline(always)]
    fn plain_str(&mut self) -> Result<std::result::Result<&'p [u8], usize>> {
        let s = self.s;
        let start = self.pos + 1;
        let i = next_special(s, start);
        match s.get(i) {
            Some(b'"') => {
                self.pos = i + 1;
                Ok(Ok(&s[start..i]))
            }
            Some(b'\\') => Ok(Err(i)),
            Some(_) => {
                self.pos = i;
                Err(self.err("control character in a string"))
            }
            None => {
                self.pos = s.len();
                Err(self.err("unterminated string"))
            }
        }
    }

    /// Unescapes the string whose opening quote is at `pos` and whose first backslash is at
    /// `first` onto `out`. Writes go to a zero-filled region past `out.len()` (grown as needed,
    /// truncated at the end): plain text a word at a time, escapes by table.
    fn escaped_str(&mut self, first: usize, out: &mut Vec<u8>) -> Result<()> {
        let s = self.s;
        let base = out.len();
        out.extend_from_slice(&s[self.pos + 1..first]);
        let mut j = out.len();
        out.resize(j + ROOM, 0);
        // A plain slice, so that the stores do not make the compiler reload the `Vec`.
        let mut buf = out.as_mut_slice();
        let mut i = first;
        loop {
            // `s[i]` is a special byte (or the end).
            match s.get(i) {
                Some(b'\\') => {
                    if j + ROOM > buf.len() {
                        grow(out, j, base);
                        buf = out.as_mut_slice();
                    }
                    let mut four = false;
                    // Four one-letter escapes at once (runs like `\r\n\t\t` are common).
                    if let Some(chunk) = s.get(i..i + 8) {
                        let w = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
                        if w & 0x00ff_00ff_00ff_00ff == 0x005c_005c_005c_005c {
                            let c = [
                                UNESCAPE[chunk[1] as usize],
                                UNESCAPE[chunk[3] as usize],
                                UNESCAPE[chunk[5] as usize],
                                UNESCAPE[chunk[7] as usize],
                            ];
                            if !c.contains(&0) {
                                buf[j..j + 4].copy_from_slice(&c);
                                j += 4;
                                i += 8;
                                if s.get(i) == Some(&b'\\') {
                                    continue;
                                }
                                four = true;
                            }
                        }
                    }
                    if !four {
                        let e = s.get(i + 1).copied().unwrap_or(0);
                        let c = UNESCAPE[e as usize];
                        if c != 0 {
                            buf[j] = c;
                            j += 1;
                            i += 2;
                        } else if e == b'u' {
                            self.pos = i;
                            let c = self.unicode_escape()?;
                            i = self.pos;
                            j += c.encode_utf8(&mut buf[j..j + 4]).len();
                        } else if i + 1 == s.len() {
                            self.pos = i + 1;
                            return Err(self.err("unterminated string"));
                        } else {
                            self.pos = i;
                            return Err(self.err("invalid escape"));
                        }
                    }
                    // Escapes often come in runs.
                    if s.get(i) == Some(&b'\\') {
                        continue;
                    }
                }
                Some(b'"') => {
                    self.pos = i + 1;
                    out.truncate(j);
                    return Ok(());
                }
                Some(_) => {
                    self.pos = i;
                    return Err(self.err("control character in a string"));
                }
                None => {
                    self.pos = s.len();
                    return Err(self.err("unterminated string"));
                }
            }
            // Plain text up to the next special byte, a word at a time (over-long stores are
            // overwritten next).
            loop {
                if j + ROOM > buf.len() {
                    grow(out, j, base);
                    buf = out.as_mut_slice();
                }
                if let Some(chunk) = s.get(i..i + 8) {
                    buf[j..j + 8].copy_from_slice(chunk);
                    let m = special_mask(u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8])));
                    if m == 0 {
                        i += 8;
                        j += 8;
                        continue;
                    }
                    let k = (m.trailing_zeros() / 8) as usize;
                    i += k;
                    j += k;
                } else {
                    while let Some(&b) = s.get(i) {
                        if ESCAPE[b as usize] != 0 {
                            break;
                        }
                        buf[j] = b;
                        i += 1;
                        j += 1;
                    }
                }
                break;
            }
        }
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let h = self.s.get(at..at + 4)?;
        let mut v = 0u32;
        for &c in h {
            v = v << 4 | (c as char).to_digit(16)?;
        }
        Some(v)
    }

    /// `\uXXXX` (or a surrogate pair) at `pos`.
    fn unicode_escape(&mut self) -> Result<char> {
        let hi = self
            .hex4(self.pos + 2)
            .ok_or_else(|| self.err("invalid \\u escape"))?;
        self.pos += 6;
        let c = if (0xd800..0xdc00).contains(&hi) {
            let lo = (self.s.get(self.pos..self.pos + 2) == Some(b"\\u"))
                .then(|| self.hex4(self.pos + 2))
                .flatten()
                .filter(|lo| (0xdc00..0xe000).contains(lo))
                .ok_or_else(|| self.err("unpaired surrogate in \\u escape"))?;
            self.pos += 6;
            0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
        } else {
            hi
        };
        char::from_u32(c).ok_or_else(|| self.err("unpaired surrogate in \\u escape"))
    }

    /// A string's content into `scratch` (or borrowed when it has no escapes).
    #[inline]
    fn str_to<'x>(&mut self, scratch: &'x mut Vec<u8>) -> Result<&'x [u8]>
    where
        'p: 'x,
    {
        match self.plain_str()? {
            Ok(b) => Ok(b),
            Err(first) => {
                scratch.clear();
                self.escaped_str(first, scratch)?;
                Ok(scratch)
            }
        }
    }

    fn number(&mut self) -> Result<Num<'p>> {
        let s = self.s;
        let start = self.pos;
        let mut i = start;
        if s.get(i) == Some(&b'-') {
            i += 1;
        }
        let digits = i;
        // Up to 16 digits eight at a time, then one at a time; more than 19 digits (beyond
        // u64) again the slow way.
        let mut v: u64 = 0;
        for _ in 0..2 {
            match s.get(i..i + 8).and_then(eight_digits) {
                Some(d) => {
                    v = v * 100_000_000 + d;
                    i += 8;
                }
                None => break,
            }
        }
        while let Some(&c) = s.get(i) {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            v = v.wrapping_mul(10).wrapping_add(d as u64);
            i += 1;
        }
        let v = if i - digits <= 19 {
            v as i128
        } else {
            let mut big: i128 = 0;
            for &c in &s[digits..i] {
                // Saturates far beyond i64; range is checked by the caller.
                if big < (1 << 100) {
                    big = big * 10 + (c - b'0') as i128;
                }
            }
            big
        };
        if i == digits || (s[digits] == b'0' && i > digits + 1) {
            return Err(self.err("invalid number"));
        }
        let mut float = false;
        if s.get(i) == Some(&b'.') {
            float = true;
            i += 1;
            let d = i;
            while s.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == d {
                self.pos = i;
                return Err(self.err("invalid number"));
            }
        }
        if matches!(s.get(i), Some(b'e' | b'E')) {
            float = true;
            i += 1;
            if matches!(s.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            let d = i;
            while s.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == d {
                self.pos = i;
                return Err(self.err("invalid number"));
            }
        }
        self.pos = i;
        if float {
            // ASCII digits and signs only.
            Ok(Num::Float(std::str::from_utf8(&s[start..i]).unwrap_or("")))
        } else {
            Ok(Num::Int(if digits > start { -v } else { v }))
        }
    }

    fn struct_(&mut self, si: usize, depth: u32) -> Result<()> {
        let at = self.pos;
        let depth = dynthrift_core::wire::enter(depth, at)?;
        // Only the outermost struct of a partial run may lack fields.
        let partial = std::mem::take(&mut self.partial);
        let plan = self.plan;
        let s = &plan.structs[si];
        let tok = self.peek();
        if tok != Tok::Obj {
            return Err(self.err(format!(
                "expected an object ({}), found {}",
                s.name,
                tok_name(tok)
            )));
        }
        self.pos += 1;
        let saved = self.w.struct_begin();
        let mut seen = Seen::new(s.fields.len());
        let mut count = 0u32;
        let mut key_buf = Vec::new();
        let mut guess = 0;
        if !self.empty(b'}') {
            loop {
                self.ws();
                let key_at = self.pos;
                if self.s.get(self.pos) != Some(&b'"') {
                    return Err(self.err("expected a string key"));
                }
                // Keys usually come in declaration order, written as we write them: try the
                // next field's `"key":` first (key and colon in one comparison).
                let next = s.fields.get(guess).map(|f| &f.key[..]);
                let found = match next {
                    Some(k) if self.s.get(self.pos..self.pos + k.len()) == Some(k) => {
                        self.pos += k.len();
                        Some(guess)
                    }
                    _ => {
                        let key = self.str_to(&mut key_buf)?;
                        let found = match s.fields.get(guess) {
                            Some(f) if !plan.mapping.field_ids && f.name.as_bytes() == key => {
                                Some(guess)
                            }
                            _ => s.by_key(key),
                        };
                        self.colon()?;
                        if found.is_none() && !plan.mapping.ignore_unknown {
                            let key = String::from_utf8_lossy(key).into_owned();
                            self.pos = key_at;
                            return Err(self.err(format!("{} has no field '{key}'", s.name)));
                        }
                        found
                    }
                };
                if let Some(i) = found {
                    guess = i + 1;
                }
                match found {
                    // Unknown and ignored (else an error above).
                    None => self.skip_value(depth)?,
                    Some(i) => {
                        let f = &s.fields[i];
                        if self.peek() == Tok::Null {
                            // `null` means absent.
                            self.literal(b"null")?;
                        } else {
                            if seen.set(i) {
                                self.pos = key_at;
                                return Err(self.err(format!("duplicate field '{}'", f.name)));
                            }
                            count += 1;
                            self.w.field_begin(f.ttype, f.id);
                            self.value(&f.ty, depth).map_err(|e| e.in_field(&f.name))?;
                        }
                    }
                }
                if !self.next(b'}')? {
                    break;
                }
            }
        }
        if partial {
            self.w.stop();
            self.w.struct_end(saved);
            return Ok(());
        }
        for &i in &s.required {
            if !seen.get(i as usize) {
                return Err(crate::to_json::missing(&s.fields[i as usize].name, at));
            }
        }
        if s.union && count != 1 {
            return Err(Error::decode(
                ErrorKind::InvalidUnion,
                at,
                format!("a union needs exactly one field, found {count}"),
            ));
        }
        for &i in &s.defaulted {
            if !seen.get(i as usize) {
                let f = &s.fields[i as usize];
                if let Some(d) = &f.default {
                    self.w.field_begin(f.ttype, f.id);
                    match d.bool {
                        Some(b) => self.w.bool(b),
                        None => {
                            let bytes = match W::PROTOCOL {
                                Protocol::Binary => &d.binary,
                                Protocol::Compact => &d.compact,
                            };
                            self.w.out().extend_from_slice(bytes);
                        }
                    }
                }
            }
        }
        self.w.stop();
        self.w.struct_end(saved);
        Ok(())
    }

    fn int(&mut self, ty: &T) -> Result<i128> {
        let at = self.pos;
        let tok = self.peek();
        let v = match tok {
            Tok::Num => match self.number()? {
                Num::Int(v) => v,
                Num::Float(_) => {
                    self.pos = at;
                    return Err(self.err(format!("expected {}, found a fraction", ty.label())));
                }
            },
            Tok::Str => {
                let mut buf = Vec::new();
                let s = self.str_to(&mut buf)?;
                let v = std::str::from_utf8(s)
                    .ok()
                    .filter(|t| !t.starts_with('+'))
                    .and_then(|t| t.parse::<i128>().ok());
                match v {
                    Some(v) => v,
                    None => {
                        self.pos = at;
                        return Err(self.err(format!("expected {}, found a string", ty.label())));
                    }
                }
            }
            t => return Err(self.mismatch(ty, t)),
        };
        let (lo, hi) = match ty {
            T::I8 => (i8::MIN as i128, i8::MAX as i128),
            T::I16 => (i16::MIN as i128, i16::MAX as i128),
            T::I32 | T::Enum(_) => (i32::MIN as i128, i32::MAX as i128),
            _ => (i64::MIN as i128, i64::MAX as i128),
        };
        if v < lo || v > hi {
            self.pos = at;
            return Err(self.err(format!("{v} does not fit in {}", ty.label())));
        }
        Ok(v)
    }

    #[inline]
    fn value(&mut self, ty: &T, depth: u32) -> Result<()> {
        match ty {
            T::Bool => {
                let b = match self.peek() {
                    Tok::True => {
                        self.literal(b"true")?;
                        true
                    }
                    Tok::False => {
                        self.literal(b"false")?;
                        false
                    }
                    Tok::Str => {
                        let at = self.pos;
                        match self.plain_str()? {
                            Ok(b"true") => true,
                            Ok(b"false") => false,
                            _ => {
                                self.pos = at;
                                return Err(self.err("expected a bool, found a string"));
                            }
                        }
                    }
                    t => return Err(self.mismatch(ty, t)),
                };
                self.w.bool(b);
            }
            T::I8 => {
                let v = self.int(ty)?;
                self.w.i8(v as i8)
            }
            T::I16 => {
                let v = self.int(ty)?;
                self.w.i16(v as i16)
            }
            T::I32 => {
                let v = self.int(ty)?;
                self.w.i32(v as i32)
            }
            T::I64 => {
                let v = self.int(ty)?;
                self.w.i64(v as i64)
            }
            T::Enum(e) => {
                let at = self.pos;
                if self.peek() == Tok::Str {
                    let mut buf = Vec::new();
                    let name = self.str_to(&mut buf)?;
                    if let Some(&v) = self.plan.enums[*e as usize].values.get(name) {
                        self.w.i32(v);
                        return Ok(());
                    }
                    self.pos = at;
                    if !name
                        .first()
                        .is_some_and(|c| c.is_ascii_digit() || *c == b'-')
                    {
                        let name = String::from_utf8_lossy(name).into_owned();
                        return Err(self.err(format!("unknown enum name \"{name}\"")));
                    }
                }
                let v = self.int(ty)?;
                self.w.i32(v as i32);
            }
            T::Double => {
                let at = self.pos;
                let v = match self.peek() {
                    Tok::Num => match self.number()? {
                        Num::Int(v) if v.unsigned_abs() < (1 << 53) => v as f64,
                        // Large integers: parse the text for correct rounding.
                        Num::Int(_) => self.float_text(at)?,
                        Num::Float(t) => {
                            t.parse::<f64>().map_err(|_| self.err("invalid number"))?
                        }
                    },
                    Tok::Str => {
                        let mut buf = Vec::new();
                        let s = self.str_to(&mut buf)?;
                        match std::str::from_utf8(s).ok().and_then(double_parse) {
                            Some(v) => v,
                            None => {
                                self.pos = at;
                                return Err(self.err("expected a double, found a string"));
                            }
                        }
                    }
                    t => return Err(self.mismatch(ty, t)),
                };
                self.w.double(v);
            }
            T::String => {
                let t = self.peek();
                if t != Tok::Str {
                    return Err(self.mismatch(ty, t));
                }
                let at = self.pos;
                match self.plain_str()? {
                    Ok(b) => {
                        self.check_str_len(b.len(), at)?;
                        self.w.bytes(b)?;
                    }
                    Err(first) => {
                        let m = self.w.bytes_begin();
                        let start = self.w.out().len();
                        let mut out = std::mem::take(self.w.out());
                        let r = self.escaped_str(first, &mut out);
                        *self.w.out() = out;
                        r?;
                        let n = self.w.out().len() - start;
                        self.check_str_len(n, at)?;
                        self.w.bytes_end(m)?;
                    }
                }
            }
            T::Binary => {
                let t = self.peek();
                if t != Tok::Str {
                    return Err(self.mismatch(ty, t));
                }
                let at = self.pos;
                let m = self.w.bytes_begin();
                let start = self.w.out().len();
                // Whole groups straight from the JSON text, then the tail up to the quote.
                let s = self.s;
                let i = at + 1 + base64_decode_groups(&s[at + 1..], self.w.out());
                let end = next_special(s, i);
                if s.get(end) == Some(&b'"') {
                    if let Err(k) = base64_decode(&s[i..end], self.w.out()) {
                        self.pos = i + k;
                        return Err(self.err("invalid base64"));
                    }
                    self.pos = end + 1;
                } else {
                    // Escapes in the string (or a bad string): unescape first.
                    self.w.out().truncate(start);
                    let mut buf = Vec::new();
                    let text = self.str_to(&mut buf)?;
                    if let Err(k) = base64_decode(text, self.w.out()) {
                        self.pos = at + 1 + k;
                        return Err(self.err("invalid base64"));
                    }
                }
                let n = self.w.out().len() - start;
                self.check_str_len(n, at)?;
                self.w.bytes_end(m)?;
            }
            T::Uuid => {
                let t = self.peek();
                if t != Tok::Str {
                    return Err(self.mismatch(ty, t));
                }
                let at = self.pos;
                let mut buf = Vec::new();
                let text = self.str_to(&mut buf)?;
                match uuid_parse(text) {
                    Some(u) => self.w.uuid(&u),
                    None => {
                        self.pos = at;
                        return Err(
                            self.err("expected a uuid (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)")
                        );
                    }
                }
            }
            T::Struct(si) => self.struct_(*si as usize, depth)?,
            T::List(elem) | T::Set(elem) => {
                let depth = dynthrift_core::wire::enter(depth, self.pos)?;
                let t = self.peek();
                if t != Tok::Arr {
                    return Err(self.mismatch(ty, t));
                }
                self.pos += 1;
                let m = self.w.list_begin(elem.ttype());
                let mut n = 0;
                if !self.empty(b']') {
                    loop {
                        self.check_count(n)?;
                        self.value(elem, depth).map_err(|e| e.at_index(n))?;
                        n += 1;
                        if !self.next(b']')? {
                            break;
                        }
                    }
                }
                self.w.list_end(m, n)?;
            }
            T::Map(k, v) => {
                let depth = dynthrift_core::wire::enter(depth, self.pos)?;
                let t = self.peek();
                let m = self.w.map_begin(k.ttype(), v.ttype());
                let mut n = 0;
                match t {
                    Tok::Obj if k.scalar() => {
                        self.pos += 1;
                        if !self.empty(b'}') {
                            loop {
                                self.check_count(n)?;
                                self.ws();
                                if self.s.get(self.pos) != Some(&b'"') {
                                    return Err(self.err("expected a string key"));
                                }
                                let key_at = self.pos;
                                self.key(k).map_err(|e| e.push(PathSegment::KeyAt(n)))?;
                                let key_end = self.pos;
                                self.colon()?;
                                if let Err(e) = self.value(v, depth) {
                                    let key = String::from_utf8_lossy(&self.s[key_at..key_end]);
                                    return Err(e.push(PathSegment::Key(key.into_owned())));
                                }
                                n += 1;
                                if !self.next(b'}')? {
                                    break;
                                }
                            }
                        }
                    }
                    Tok::Arr => {
                        self.pos += 1;
                        if !self.empty(b']') {
                            loop {
                                self.check_count(n)?;
                                if self.peek() != Tok::Arr {
                                    return Err(self.err("expected a [key, value] pair"));
                                }
                                self.pos += 1;
                                self.value(k, depth)
                                    .map_err(|e| e.push(PathSegment::KeyAt(n)))?;
                                self.ws();
                                if self.s.get(self.pos) != Some(&b',') {
                                    return Err(self.err("expected ',' in a [key, value] pair"));
                                }
                                self.pos += 1;
                                self.value(v, depth).map_err(|e| e.at_index(n))?;
                                self.ws();
                                if self.s.get(self.pos) != Some(&b']') {
                                    return Err(
                                        self.err("expected ']' closing a [key, value] pair")
                                    );
                                }
                                self.pos += 1;
                                n += 1;
                                if !self.next(b']')? {
                                    break;
                                }
                            }
                        }
                    }
                    t => return Err(self.mismatch(ty, t)),
                }
                self.w.map_end(m, n)?;
            }
        }
        Ok(())
    }

    /// A scalar map key: an object key string holding the key's text form.
    fn key(&mut self, k: &T) -> Result<()> {
        match k {
            T::String
            | T::Binary
            | T::Uuid
            | T::Enum(_)
            | T::Bool
            | T::I8
            | T::I16
            | T::I32
            | T::I64
            | T::Double => self.value(k, 0),
            _ => Err(self.err("unsupported map key")),
        }
    }

    #[cold]
    fn float_text(&mut self, at: usize) -> Result<f64> {
        let end = self.pos;
        std::str::from_utf8(&self.s[at..end])
            .ok()
            .and_then(|t| t.trim_start().parse().ok())
            .ok_or_else(|| self.err("invalid number"))
    }

    #[inline]
    fn check_str_len(&self, n: usize, at: usize) -> Result<()> {
        if n > self.limits.max_string_len {
            return Err(Error::decode(
                ErrorKind::LengthLimit,
                at,
                format!(
                    "string length of {n} over the limit of {}",
                    self.limits.max_string_len
                ),
            ));
        }
        Ok(())
    }

    #[inline]
    fn check_count(&self, n: usize) -> Result<()> {
        if n >= self.limits.max_container_len {
            return Err(Error::decode(
                ErrorKind::LengthLimit,
                self.pos,
                format!(
                    "container length over the limit of {}",
                    self.limits.max_container_len
                ),
            ));
        }
        Ok(())
    }

    /// Skips one JSON value (of an ignored key), checking its syntax.
    fn skip_value(&mut self, depth: u32) -> Result<()> {
        match self.peek() {
            Tok::Obj => {
                let depth = dynthrift_core::wire::enter(depth, self.pos)?;
                self.pos += 1;
                if !self.empty(b'}') {
                    let mut scratch = Vec::new();
                    loop {
                        self.ws();
                        if self.s.get(self.pos) != Some(&b'"') {
                            return Err(self.err("expected a string key"));
                        }
                        self.str_to(&mut scratch)?;
                        self.colon()?;
                        self.skip_value(depth)?;
                        if !self.next(b'}')? {
                            break;
                        }
                    }
                }
            }
            Tok::Arr => {
                let depth = dynthrift_core::wire::enter(depth, self.pos)?;
                self.pos += 1;
                if !self.empty(b']') {
                    loop {
                        self.skip_value(depth)?;
                        if !self.next(b']')? {
                            break;
                        }
                    }
                }
            }
            Tok::Str => {
                let mut scratch = Vec::new();
                self.str_to(&mut scratch)?;
            }
            Tok::Num => {
                self.number()?;
            }
            Tok::True => self.literal(b"true")?,
            Tok::False => self.literal(b"false")?,
            Tok::Null => self.literal(b"null")?,
            t => return Err(self.err(format!("expected a value, found {}", tok_name(t)))),
        }
        Ok(())
    }
}
