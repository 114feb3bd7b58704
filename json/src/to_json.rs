//! Thrift → JSON: a reader of either protocol walked by the plan, writing JSON text as it goes.

use std::sync::Arc;

use dynthrift_core::error::PathSegment;
use dynthrift_core::wire::{ProtoRead, enter, utf8};
use dynthrift_core::{Error, ErrorKind, Result, TType};
use dynthrift_interp::Limits;
use dynthrift_interp::serde::uuid_format;

use crate::plan::{Plan, T};
use crate::text::{base64_encode, write_str};

/// A bitmap of the fields seen in one struct.
pub(crate) enum Seen {
    Small(u64),
    Big(Vec<u64>),
}

impl Seen {
    #[inline]
    pub(crate) fn new(n: usize) -> Seen {
        if n <= 64 {
            Seen::Small(0)
        } else {
            Seen::Big(vec![0; n.div_ceil(64)])
        }
    }
    /// Sets bit `i`; returns whether it was set already.
    #[inline]
    pub(crate) fn set(&mut self, i: usize) -> bool {
        let (w, b) = match self {
            Seen::Small(w) => (w, i),
            Seen::Big(v) => (&mut v[i / 64], i % 64),
        };
        let was = *w & (1 << b) != 0;
        *w |= 1 << b;
        was
    }
    #[inline]
    pub(crate) fn get(&self, i: usize) -> bool {
        match self {
            Seen::Small(w) => w & (1 << i) != 0,
            Seen::Big(v) => v[i / 64] & (1 << (i % 64)) != 0,
        }
    }
}

pub(crate) struct ToJson<'p, 'a, R> {
    pub plan: &'p Plan,
    pub r: R,
    pub input: std::marker::PhantomData<&'a [u8]>,
    pub out: &'p mut Vec<u8>,
    pub limits: &'p Limits,
    pub ib: itoa::Buffer,
    pub rb: zmij::Buffer,
    /// Check each non-ASCII string as it comes (else only note where the first one starts).
    pub strict: bool,
    /// Where the first non-ASCII string not checked yet starts in `out` (`usize::MAX`: none).
    pub unchecked: usize,
}

#[cold]
fn limit_error(what: &str, n: usize, limit: usize, offset: usize) -> Error {
    Error::decode(
        ErrorKind::LengthLimit,
        offset,
        format!("{what} of {n} over the limit of {limit}"),
    )
}

impl<'a, R: ProtoRead<'a>> ToJson<'_, 'a, R> {
    pub(crate) fn root(&mut self, si: usize) -> Result<()> {
        let depth = self.limits.depth;
        self.struct_(si, depth)
            .map_err(|e| e.in_root(&self.plan.structs[si].name))
    }

    fn struct_(&mut self, si: usize, depth: u32) -> Result<()> {
        let depth = enter(depth, self.r.position())?;
        let plan = self.plan;
        let s = &plan.structs[si];
        let saved = self.r.read_struct_begin();
        self.out.push(b'{');
        let mut first = true;
        let mut seen = Seen::new(s.fields.len());
        let mut count = 0u32;
        let mut guess = 0;
        loop {
            let at = self.r.position();
            let (t, id) = self.r.read_field_begin()?;
            if t == TType::Stop {
                break;
            }
            match s.by_id(id, guess) {
                Some(i) if s.fields[i].ttype == t => {
                    guess = i + 1;
                    let f = &s.fields[i];
                    if seen.set(i) {
                        return Err(Error::decode(
                            ErrorKind::InvalidData,
                            at,
                            format!("field '{}' appears twice", f.name),
                        ));
                    }
                    count += 1;
                    if s.union && count > 1 {
                        return Err(Error::decode(
                            ErrorKind::InvalidUnion,
                            at,
                            "union has more than one field set",
                        ));
                    }
                    put_key(self.out, f, first);
                    first = false;
                    self.value(&f.ty, depth).map_err(|e| e.in_field(&f.name))?;
                }
                // Unknown id, or a known id with another wire type (schema evolution): skip.
                _ => self.r.skip(t, depth)?,
            }
        }
        self.r.read_struct_end(saved);
        for &i in &s.required {
            if !seen.get(i as usize) {
                return Err(missing(&s.fields[i as usize].name, self.r.position()));
            }
        }
        if s.union && count == 0 {
            return Err(Error::decode(
                ErrorKind::InvalidUnion,
                self.r.position(),
                "union has no field set",
            ));
        }
        for &i in &s.defaulted {
            if !seen.get(i as usize) {
                let f = &s.fields[i as usize];
                if let Some(d) = &f.default {
                    if !first {
                        self.out.push(b',');
                    }
                    first = false;
                    self.out.extend_from_slice(&f.key);
                    self.out.extend_from_slice(&d.json);
                }
            }
        }
        self.out.push(b'}');
        Ok(())
    }

    #[inline]
    fn value(&mut self, ty: &T, depth: u32) -> Result<()> {
        match ty {
            T::Bool => {
                let b = self.r.read_bool()?;
                self.out
                    .extend_from_slice(if b { b"true" } else { b"false" });
            }
            T::I8 => {
                let v = self.r.read_i8()?;
                self.out.extend_from_slice(self.ib.format(v).as_bytes());
            }
            T::I16 => {
                let v = self.r.read_i16()?;
                self.out.extend_from_slice(self.ib.format(v).as_bytes());
            }
            T::I32 => {
                let v = self.r.read_i32()?;
                self.out.extend_from_slice(self.ib.format(v).as_bytes());
            }
            T::Enum(e) => {
                let v = self.r.read_i32()?;
                let name = match self.plan.mapping.enum_names {
                    true => self.plan.enums[*e as usize].names.get(&v),
                    false => None,
                };
                match name {
                    Some(name) => self.out.extend_from_slice(name),
                    None => self.out.extend_from_slice(self.ib.format(v).as_bytes()),
                }
            }
            T::I64 => {
                let v = self.r.read_i64()?;
                if self.plan.mapping.i64_as_string {
                    self.out.push(b'"');
                    self.out.extend_from_slice(self.ib.format(v).as_bytes());
                    self.out.push(b'"');
                } else {
                    self.out.extend_from_slice(self.ib.format(v).as_bytes());
                }
            }
            T::Double => {
                let v = self.r.read_double()?;
                self.double(v);
            }
            T::String => {
                let b = self.bytes()?;
                // ASCII text is valid UTF-8: only other text is checked, here or (not
                // `strict`) with the rest of the output at the end.
                let at = self.out.len();
                if !write_str(self.out, b) {
                    if self.strict {
                        utf8(b, self.r.position() - b.len())?;
                    } else {
                        self.unchecked = self.unchecked.min(at);
                    }
                }
            }
            T::Binary => {
                let b = self.bytes()?;
                base64_encode(b, self.out);
            }
            T::Uuid => {
                let u = self.r.read_uuid()?;
                self.out.push(b'"');
                self.out.extend_from_slice(&uuid_format(&u));
                self.out.push(b'"');
            }
            T::Struct(si) => self.struct_(*si as usize, depth)?,
            T::List(elem) | T::Set(elem) => {
                let at = self.r.position();
                let depth = enter(depth, at)?;
                let (t, n) = self.r.read_list_begin()?;
                self.check_len(n, at)?;
                self.out.push(b'[');
                if n > 0 && t != elem.ttype() {
                    // Another element type than the schema's: skipped, left empty.
                    for _ in 0..n {
                        self.r.skip(t, depth)?;
                    }
                } else {
                    for i in 0..n {
                        if i > 0 {
                            self.out.push(b',');
                        }
                        self.value(elem, depth).map_err(|e| e.at_index(i))?;
                    }
                }
                self.out.push(b']');
            }
            T::Map(k, v) => {
                let at = self.r.position();
                let depth = enter(depth, at)?;
                let (kt, vt, n) = self.r.read_map_begin()?;
                self.check_len(n, at)?;
                let scalar = k.scalar();
                self.out.push(if scalar { b'{' } else { b'[' });
                if n > 0 && (kt != k.ttype() || vt != v.ttype()) {
                    for _ in 0..n {
                        self.r.skip(kt, depth)?;
                        self.r.skip(vt, depth)?;
                    }
                } else {
                    for i in 0..n {
                        if i > 0 {
                            self.out.push(b',');
                        }
                        let key_at = self.out.len();
                        if scalar {
                            self.key(k).map_err(|e| e.push(PathSegment::KeyAt(i)))?;
                            self.out.push(b':');
                        } else {
                            self.out.push(b'[');
                            self.value(k, depth)
                                .map_err(|e| e.push(PathSegment::KeyAt(i)))?;
                            self.out.push(b',');
                        }
                        let key_end = self.out.len() - 1;
                        if let Err(e) = self.value(v, depth) {
                            let key = String::from_utf8_lossy(&self.out[key_at..key_end]);
                            let seg = if scalar {
                                PathSegment::Key(key.into_owned())
                            } else {
                                PathSegment::KeyAt(i)
                            };
                            return Err(e.push(seg));
                        }
                        if !scalar {
                            self.out.push(b']');
                        }
                    }
                }
                self.out.push(if scalar { b'}' } else { b']' });
            }
        }
        Ok(())
    }

    /// A scalar map key, as a JSON string.
    fn key(&mut self, k: &T) -> Result<()> {
        match k {
            T::String | T::Binary | T::Uuid => self.value(k, 0),
            T::Enum(_) if self.plan.mapping.enum_names => {
                let at = self.out.len();
                self.value(k, 0)?;
                if self.out[at] != b'"' {
                    self.out.insert(at, b'"');
                    self.out.push(b'"');
                }
                Ok(())
            }
            T::I64 if self.plan.mapping.i64_as_string => self.value(k, 0),
            T::Double => {
                let v = self.r.read_double()?;
                self.out.push(b'"');
                let (t, _) = dynthrift_interp::serde::double_text(v, &mut self.rb);
                self.out.extend_from_slice(t.as_bytes());
                self.out.push(b'"');
                Ok(())
            }
            _ => {
                self.out.push(b'"');
                self.value(k, 0)?;
                self.out.push(b'"');
                Ok(())
            }
        }
    }

    #[inline]
    fn double(&mut self, v: f64) {
        if v.is_finite() {
            self.out
                .extend_from_slice(self.rb.format_finite(v).as_bytes());
        } else {
            let (t, _) = dynthrift_interp::serde::double_text(v, &mut self.rb);
            self.out.push(b'"');
            self.out.extend_from_slice(t.as_bytes());
            self.out.push(b'"');
        }
    }

    #[inline(always)]
    fn bytes(&mut self) -> Result<&'a [u8]> {
        let at = self.r.position();
        let b = self.r.read_binary()?;
        if b.len() > self.limits.max_string_len {
            return Err(limit_error(
                "string length",
                b.len(),
                self.limits.max_string_len,
                at,
            ));
        }
        Ok(b)
    }

    #[inline]
    fn check_len(&self, n: usize, at: usize) -> Result<()> {
        if n > self.limits.max_container_len {
            return Err(limit_error(
                "container length",
                n,
                self.limits.max_container_len,
                at,
            ));
        }
        Ok(())
    }
}

/// Writes a field's `"key":`, after a `,` unless it is the first (then right after the
/// struct's `{`): short keys with one fixed-size copy (no call to `memcpy`, one update of the
/// length).
#[inline(always)]
fn put_key(out: &mut Vec<u8>, f: &crate::plan::FPlan, first: bool) {
    match &f.key32 {
        Some(ks) => {
            let at = out.len().saturating_sub(first as usize);
            out.truncate(at);
            out.extend_from_slice(&ks[first as usize]);
            out.truncate(at + 1 + f.key.len());
        }
        None => {
            if !first {
                out.push(b',');
            }
            out.extend_from_slice(&f.key)
        }
    }
}

#[cold]
pub(crate) fn missing(name: &Arc<str>, offset: usize) -> Error {
    Error::decode(
        ErrorKind::MissingRequired,
        offset,
        format!("missing required field '{name}'"),
    )
}
