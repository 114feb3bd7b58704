//! The interpreter: walks a [`Plan`] over host memory, reading or writing one protocol.
//!
//! Every entry point is an `unsafe fn` whose contract is the same: the pointer refers to a
//! live value of the plan's struct `si` (a derived Rust value, or an IDL-only record), with
//! shared access for encode and exclusive access for decode. Inside, each memory access is
//! justified by the plan: offsets and thunks come from the type's descriptor, and raw
//! vectors and records from [`crate::dynamic`], which allocated them with the plan's layout.

use bytes::Bytes;
use dynthrift_core::desc::{BinRepr, StrRepr, UnknownFields};
use dynthrift_core::schema::{Requiredness, StructKind};
use dynthrift_core::wire::binary::{BinaryReader, BinaryWriter};
use dynthrift_core::wire::{ProtoRead, ProtoWrite, Protocol, enter, transcode};
use dynthrift_core::{Error, ErrorKind, PathSegment, Result, TType};

use crate::dynamic::{self, RawMap, RawVec};
use crate::plan::{
    EnumRepr, FieldPlan, MapRepr, Node, Plan, Presence, SeqRepr, SetRepr, StructPlan,
};

/// Resource limits applied while decoding (depth applies to encoding too).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Maximum nesting of structs and containers.
    pub depth: u32,
    /// Maximum declared element count of one list, set or map.
    pub max_container_len: usize,
    /// Maximum length in bytes of one string or binary.
    pub max_string_len: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            depth: dynthrift_core::wire::DEFAULT_DEPTH_LIMIT,
            max_container_len: usize::MAX,
            max_string_len: usize::MAX,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Encode

/// Writes struct `si` of `plan`, stored at `p`, with `w`.
///
/// # Safety
///
/// `p` points to a live value of the plan's struct `si`.
pub unsafe fn encode<W: ProtoWrite>(
    plan: &Plan,
    si: usize,
    p: *const u8,
    w: &mut W,
    limits: &Limits,
) -> Result<()> {
    let mut e = Encoder { plan, w };
    // SAFETY: forwarded contract.
    unsafe { e.encode_struct(si, p, limits.depth) }
        .map_err(|err| err.in_root(&plan.structs[si].name))
}

/// Writes one value (any node of the plan) with `w`; `depth` is the nesting budget left.
/// The JIT uses this for the parts of a type it does not compile.
///
/// # Safety
///
/// `node` belongs to `plan`, and `p` points to a live value of its representation.
pub unsafe fn encode_node<W: ProtoWrite>(
    plan: &Plan,
    node: &Node,
    p: *const u8,
    w: &mut W,
    depth: u32,
) -> Result<()> {
    let mut e = Encoder { plan, w };
    // SAFETY: forwarded contract.
    unsafe { e.encode_value(node, p, depth) }
}

struct Encoder<'p, 'w, W> {
    plan: &'p Plan,
    w: &'w mut W,
}

#[cold]
#[inline(never)]
fn encode_depth_error() -> Error {
    Error::encode(ErrorKind::DepthLimit, "nesting too deep")
}

#[cold]
#[inline(never)]
fn encode_missing(f: &FieldPlan) -> Error {
    Error::encode(
        ErrorKind::MissingRequired,
        format!("missing required field '{}'", f.name),
    )
}

impl<W: ProtoWrite> Encoder<'_, '_, W> {
    /// # Safety
    /// `p` points to a live value of struct `si`.
    unsafe fn encode_struct(&mut self, si: usize, p: *const u8, depth: u32) -> Result<()> {
        let depth = depth.checked_sub(1).ok_or_else(encode_depth_error)?;
        let s = &self.plan.structs[si];
        let saved = self.w.write_struct_begin();
        if let Some(uv) = s.union {
            // SAFETY: `p` is the Rust enum the union table was made for.
            let (i, payload) = unsafe { ((uv.variant)(p), (uv.payload)(p)) };
            let f = &s.fields[i];
            self.w.write_field_begin(f.ttype, f.id);
            // SAFETY: the payload of variant `i` has the type of field `i`.
            unsafe { self.encode_value(&f.node, payload, depth) }
                .map_err(|e| e.in_field(&f.name))?;
        } else {
            let mut written = 0u32;
            for f in &s.fields {
                // SAFETY: `f.offset` is the offset of the field in this struct.
                let slot = unsafe { p.add(f.offset) };
                // SAFETY: `slot` holds the field, `p` the record when presence is a bit.
                let Some(v) = (unsafe { present(p, slot, f) }) else {
                    if f.req == Requiredness::Required {
                        return Err(encode_missing(f).in_field(&f.name));
                    }
                    continue;
                };
                written += 1;
                self.w.write_field_begin(f.ttype, f.id);
                // SAFETY: `v` points to the field's value.
                unsafe { self.encode_value(&f.node, v, depth) }.map_err(|e| e.in_field(&f.name))?;
            }
            if s.kind == StructKind::Union && written != 1 {
                return Err(Error::encode(
                    ErrorKind::InvalidUnion,
                    format!("a union must have exactly one field set, found {written}"),
                ));
            }
        }
        if let Some(off) = s.unknown_fields {
            // SAFETY: the descriptor says an `UnknownFields` lives at `off`.
            let unknown = unsafe { &*(p.add(off) as *const UnknownFields) };
            if !unknown.bytes.is_empty() {
                self.write_unknown(unknown, depth)?;
            }
        }
        self.w.write_field_stop();
        self.w.write_struct_end(saved);
        Ok(())
    }

    fn write_unknown(&mut self, unknown: &UnknownFields, depth: u32) -> Result<()> {
        if W::PROTOCOL == Protocol::Binary {
            self.w.write_raw(&unknown.bytes);
            return Ok(());
        }
        let mut r = BinaryReader::new(&unknown.bytes);
        while r.remaining() > 0 {
            let (t, id) = r.read_field_begin()?;
            self.w.write_field_begin(t, id);
            transcode(&mut r, self.w, t, depth)?;
        }
        Ok(())
    }

    /// # Safety
    /// `p` points to a live value represented as `node` says.
    unsafe fn encode_value(&mut self, node: &Node, p: *const u8, depth: u32) -> Result<()> {
        // SAFETY: (whole body) `p` holds a value of `node`'s host representation.
        unsafe {
            match node {
                Node::Bool => self.w.write_bool(*(p as *const bool)),
                Node::I8 => self.w.write_i8(*(p as *const i8)),
                Node::I16 => self.w.write_i16(*(p as *const i16)),
                Node::I32 => self.w.write_i32(*(p as *const i32)),
                Node::I64 => self.w.write_i64(*(p as *const i64)),
                Node::Double => self.w.write_double(*(p as *const f64)),
                Node::Uuid => self.w.write_uuid(&*(p as *const [u8; 16])),
                Node::String(StrRepr::Std) => self.w.write_string(&*(p as *const String))?,
                #[cfg(feature = "faststr")]
                Node::String(StrRepr::FastStr) => {
                    self.w.write_string(&*(p as *const faststr::FastStr))?
                }
                Node::Binary(BinRepr::Vec) => self.w.write_binary(&*(p as *const Vec<u8>))?,
                Node::Binary(BinRepr::Bytes) => self.w.write_binary(&*(p as *const Bytes))?,
                Node::Enum(EnumRepr::Rust(ed)) => self.w.write_i32((ed.to_i32)(p)),
                Node::Enum(EnumRepr::Open) => self.w.write_i32(*(p as *const i32)),
                Node::Struct(si) => self.encode_struct(*si, p, depth)?,
                Node::Record(si) => {
                    let rec = *(p as *const *const u8);
                    if rec.is_null() {
                        // An unset nested record inside a container: its empty value.
                        let empty = dynamic::EmptyRecord::new(self.plan, *si)?;
                        self.encode_struct(*si, empty.ptr(), depth)?
                    } else {
                        self.encode_struct(*si, rec, depth)?
                    }
                }
                Node::Boxed(inner, bd) => self.encode_value(inner, (bd.get)(p), depth)?,
                Node::List(elem, repr) => {
                    let depth = depth.checked_sub(1).ok_or_else(encode_depth_error)?;
                    let (base, len, stride) = match repr {
                        SeqRepr::Std(sd) => ((sd.as_ptr)(p), (sd.len)(p), sd.elem_size),
                        SeqRepr::Raw(el) => {
                            let v = &*(p as *const RawVec);
                            (v.ptr as *const u8, v.len, el.size)
                        }
                    };
                    self.w.write_list_begin(elem.ttype(), len)?;
                    for i in 0..len {
                        self.encode_value(elem, base.add(i * stride), depth)
                            .map_err(|e| e.at_index(i))?;
                    }
                }
                Node::Set(elem, repr) => {
                    let depth = depth.checked_sub(1).ok_or_else(encode_depth_error)?;
                    match repr {
                        SetRepr::Std(sd) => {
                            self.w.write_set_begin(elem.ttype(), (sd.len)(p))?;
                            let mut i = 0;
                            (sd.for_each)(p, &mut |e| {
                                let r = self
                                    .encode_value(elem, e, depth)
                                    .map_err(|err| err.at_index(i));
                                i += 1;
                                r
                            })?;
                        }
                        SetRepr::Raw(el) => {
                            let v = &*(p as *const RawVec);
                            self.w.write_set_begin(elem.ttype(), v.len)?;
                            for i in 0..v.len {
                                self.encode_value(elem, v.ptr.add(i * el.size), depth)
                                    .map_err(|e| e.at_index(i))?;
                            }
                        }
                    }
                }
                Node::Map(key, value, repr) => {
                    let depth = depth.checked_sub(1).ok_or_else(encode_depth_error)?;
                    match repr {
                        MapRepr::Std(md) => {
                            self.w
                                .write_map_begin(key.ttype(), value.ttype(), (md.len)(p))?;
                            let mut i = 0;
                            (md.for_each)(p, &mut |k, v| {
                                self.encode_value(key, k, depth)
                                    .map_err(|e| e.push(PathSegment::KeyAt(i)))?;
                                self.encode_value(value, v, depth)
                                    .map_err(|e| e.push(key_segment(key, k, i)))?;
                                i += 1;
                                Ok(())
                            })?;
                        }
                        MapRepr::Raw { key: kl, value: vl } => {
                            let m = &*(p as *const RawMap);
                            self.w
                                .write_map_begin(key.ttype(), value.ttype(), m.keys.len)?;
                            for i in 0..m.keys.len {
                                let k = m.keys.ptr.add(i * kl.size);
                                self.encode_value(key, k, depth)
                                    .map_err(|e| e.push(PathSegment::KeyAt(i)))?;
                                self.encode_value(value, m.values.ptr.add(i * vl.size), depth)
                                    .map_err(|e| e.push(key_segment(key, k, i)))?;
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Where a field's value is, or `None` when it is absent (an unset optional, a null record).
///
/// # Safety
/// `slot` points to the field's slot inside the struct or record at `base`.
#[inline]
unsafe fn present(base: *const u8, slot: *const u8, f: &FieldPlan) -> Option<*const u8> {
    let v = match f.presence {
        Presence::Always => slot,
        Presence::Option(od) => {
            // SAFETY: the slot holds the `Option<T>` the descriptor was made for.
            let q = unsafe { (od.get)(slot) };
            if q.is_null() {
                return None;
            }
            q
        }
        Presence::Bit(n) => {
            // SAFETY: `base` is a record, whose presence bitmap starts at offset 0.
            if !unsafe { dynamic::bit(base, n) } {
                return None;
            }
            slot
        }
    };
    if let Node::Record(_) = f.node {
        // SAFETY: a record slot holds a pointer.
        if unsafe { *(v as *const *const u8) }.is_null() {
            return None;
        }
    }
    Some(v)
}

/// A path segment naming a map entry by its key, when the key is a scalar or a string.
///
/// # Safety
/// `k` points to a live key of `node`'s representation.
#[cold]
pub unsafe fn key_segment(node: &Node, k: *const u8, i: usize) -> PathSegment {
    // SAFETY: `k` holds a value of `node`'s host representation.
    let text = unsafe {
        match node {
            Node::String(StrRepr::Std) => format!("{:?}", &*(k as *const String)),
            Node::I8 => (*(k as *const i8)).to_string(),
            Node::I16 => (*(k as *const i16)).to_string(),
            Node::I32 | Node::Enum(EnumRepr::Open) => (*(k as *const i32)).to_string(),
            Node::I64 => (*(k as *const i64)).to_string(),
            Node::Bool => (*(k as *const bool)).to_string(),
            Node::Enum(EnumRepr::Rust(ed)) => (ed.to_i32)(k).to_string(),
            _ => return PathSegment::KeyAt(i),
        }
    };
    PathSegment::Key(text)
}

// ---------------------------------------------------------------------------------------------
// Decode

/// Reads struct `si` of `plan` with `r` into the value at `p`, which starts as the type's
/// empty value (or any valid value: fields present on the wire replace its fields).
///
/// `input` is the whole buffer `r` reads (for kept unknown fields); `source`, when given, is
/// the same bytes as a `Bytes`, so that binary fields held as `Bytes` share it.
///
/// # Safety
///
/// `p` points to a live value of the plan's struct `si`, with exclusive access.
pub unsafe fn decode<'a, R: ProtoRead<'a>>(
    plan: &Plan,
    si: usize,
    p: *mut u8,
    r: &mut R,
    input: &'a [u8],
    source: Option<&'a Bytes>,
    limits: &Limits,
) -> Result<()> {
    let mut d = Decoder {
        plan,
        r,
        input,
        source,
        limits,
        complete: true,
        #[cfg(feature = "faststr")]
        strs: SharedInput::default(),
    };
    // SAFETY: forwarded contract.
    unsafe { d.decode_struct(si, p, limits.depth) }
        .map_err(|err| err.in_root(&plan.structs[si].name))
}

/// Like [`decode`], for input that covers only some fields (IDL defaults, which a record is
/// filled with when it is made): required fields may be absent, and a union may have none.
///
/// # Safety
///
/// As for [`decode`].
pub unsafe fn decode_partial<'a, R: ProtoRead<'a>>(
    plan: &Plan,
    si: usize,
    p: *mut u8,
    r: &mut R,
    input: &'a [u8],
    limits: &Limits,
) -> Result<()> {
    let mut d = Decoder {
        plan,
        r,
        input,
        source: None,
        limits,
        complete: false,
        #[cfg(feature = "faststr")]
        strs: SharedInput::default(),
    };
    // SAFETY: forwarded contract.
    unsafe { d.decode_struct(si, p, limits.depth) }
        .map_err(|err| err.in_root(&plan.structs[si].name))
}

/// Reads one value (any node of the plan) with `r` into `p`; `depth` is the nesting budget
/// left. The JIT uses this for the parts of a type it does not compile.
///
/// # Safety
///
/// `node` belongs to `plan`, and `p` points to a live value of its representation, exclusively.
#[allow(clippy::too_many_arguments)]
pub unsafe fn decode_node<'a, R: ProtoRead<'a>>(
    plan: &Plan,
    node: &Node,
    p: *mut u8,
    r: &mut R,
    input: &'a [u8],
    source: Option<&'a Bytes>,
    limits: &Limits,
    depth: u32,
) -> Result<()> {
    let mut d = Decoder {
        plan,
        r,
        input,
        source,
        limits,
        complete: true,
        #[cfg(feature = "faststr")]
        strs: SharedInput::default(),
    };
    // SAFETY: forwarded contract.
    unsafe { d.decode_value(node, p, depth) }
}

struct Decoder<'p, 'r, 'a, R> {
    plan: &'p Plan,
    r: &'r mut R,
    input: &'a [u8],
    source: Option<&'a Bytes>,
    limits: &'p Limits,
    /// Check that each struct is complete (required fields present, a union's field set).
    complete: bool,
    /// The input shared once for every `FastStr` of this call.
    #[cfg(feature = "faststr")]
    strs: SharedInput,
}

/// Stores a copy of `s` in `dst`, reusing its buffer when it is big enough, else one
/// allocation of exactly `s.len()` (no growth policy: a fresh value gets what it needs).
#[inline]
pub fn set_string(dst: &mut String, s: &str) {
    if dst.capacity() < s.len() {
        *dst = s.to_owned();
    } else {
        dst.clear();
        dst.push_str(s);
    }
}

/// [`set_string`] for bytes.
#[inline]
pub fn set_vec(dst: &mut Vec<u8>, b: &[u8]) {
    if dst.capacity() < b.len() {
        *dst = b.to_vec();
    } else {
        dst.clear();
        dst.extend_from_slice(b);
    }
}

/// The input (`source`) shared as a `faststr::BytesRef` for the `FastStr`s of one decode call,
/// so that each string after the first only bumps one reference count (no allocation). Made at
/// the second shared string: the first shares the input on its own, as cheaply when it is the
/// only one; the flag says whether a first one was made.
#[cfg(feature = "faststr")]
#[derive(Default)]
pub struct SharedInput(Option<faststr::BytesRef>, bool);

#[cfg(feature = "faststr")]
impl std::fmt::Debug for SharedInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "SharedInput(made)"
        } else {
            "SharedInput(none)"
        })
    }
}

/// Strings up to this long are copied into a `FastStr` (which keeps them inline, no
/// allocation) rather than sharing the input: no reference count to touch, now or on drop.
#[cfg(feature = "faststr")]
const FASTSTR_INLINE: usize = 30;

/// Stores in `dst` a `FastStr` holding `s`, which was read from the input: when decoding from
/// `Bytes` (`source`) and `s` is not short, a view of the input (the first as `FastStr` makes
/// one on its own, the others through `strs`); otherwise a copy. (Stored here rather than
/// returned: a returned `FastStr` is built on the stack and copied, and reading it back so
/// soon after it was written stalls the copy, a few percent of a decode.)
#[cfg(feature = "faststr")]
#[inline]
pub fn set_shared_faststr(
    dst: &mut faststr::FastStr,
    strs: &mut SharedInput,
    source: Option<&Bytes>,
    s: &str,
) {
    let inside = |src: &&Bytes| {
        let (lo, at) = (src.as_ptr() as usize, s.as_ptr() as usize);
        at >= lo && at + s.len() <= lo + src.len()
    };
    let Some(src) = source.filter(|src| s.len() > FASTSTR_INLINE && inside(src)) else {
        *dst = faststr::FastStr::new(s);
        return;
    };
    if !strs.1 {
        strs.1 = true;
        // SAFETY: `s` is a `str` (valid UTF-8) inside `src` (just checked), so the view holds
        // its bytes.
        *dst = unsafe { faststr::FastStr::from_bytes_unchecked(view_in(src, s.as_bytes())) };
        return;
    }
    let base = strs
        .0
        .get_or_insert_with(|| faststr::BytesRef::from(src.clone()));
    // SAFETY: `base` views all of `src`, which holds `s` (just checked), valid UTF-8.
    *dst = unsafe { faststr::FastStr::from_bytes_ref_unchecked(base.slice_ref(s.as_bytes())) };
}

/// `b` as a view of `src` when `src` holds it (`b` was read from the input `src` is), by
/// offsets; a copy otherwise. (`Bytes::slice_ref` makes the same view after checks of its
/// own that panic outside: about 40 instructions a call under callgrind, against 15 here.)
#[inline]
pub fn view_in(src: &Bytes, b: &[u8]) -> Bytes {
    let (lo, at) = (src.as_ptr() as usize, b.as_ptr() as usize);
    if at >= lo && at + b.len() <= lo + src.len() {
        let off = at - lo;
        src.slice(off..off + b.len())
    } else {
        Bytes::copy_from_slice(b)
    }
}

#[cold]
#[inline(never)]
fn missing_required(s: &StructPlan, seen: u64, offset: usize) -> Error {
    let missing = s.required_mask & !seen;
    let i = missing.trailing_zeros() as usize;
    Error::decode(
        ErrorKind::MissingRequired,
        offset,
        format!("missing required field '{}'", s.fields[i].name),
    )
}

#[cold]
#[inline(never)]
fn union_error(count: u32, offset: usize) -> Error {
    let detail = if count == 0 {
        "union has no field set".to_string()
    } else {
        "union has more than one field set".to_string()
    };
    Error::decode(ErrorKind::InvalidUnion, offset, detail)
}

#[cold]
#[inline(never)]
fn limit_error(what: &str, n: usize, limit: usize, offset: usize) -> Error {
    Error::decode(
        ErrorKind::LengthLimit,
        offset,
        format!("{what} of {n} over the limit of {limit}"),
    )
}

impl<'a, R: ProtoRead<'a>> Decoder<'_, '_, 'a, R> {
    /// # Safety
    /// `p` points to a live value of struct `si`, exclusively.
    unsafe fn decode_struct(&mut self, si: usize, p: *mut u8, depth: u32) -> Result<()> {
        let depth = enter(depth, self.r.position())?;
        let plan = self.plan;
        let s = &plan.structs[si];
        let is_union = s.kind == StructKind::Union;
        let saved = self.r.read_struct_begin();
        let mut seen = 0u64;
        let mut count = 0u32;
        let mut guess = 0usize;
        loop {
            let header_at = self.r.position();
            let (t, id) = self.r.read_field_begin()?;
            if t == TType::Stop {
                break;
            }
            match s.field_index(id, guess) {
                Some(i) if s.fields[i].ttype == t => {
                    guess = i + 1;
                    let f = &s.fields[i];
                    if is_union {
                        count += 1;
                        if count > 1 {
                            return Err(union_error(count, header_at));
                        }
                    }
                    // SAFETY: `p` is a live value of struct `si`; `i` is one of its fields.
                    unsafe { self.decode_field(s, i, p, depth) }
                        .map_err(|e| e.in_field(&f.name))?;
                    if i < 64 {
                        seen |= 1 << i;
                    }
                }
                // Unknown id, or a known id with another wire type (schema evolution): skip,
                // or keep when the struct has room for unknown fields.
                _ => match s.unknown_fields {
                    // SAFETY: the descriptor says an `UnknownFields` lives at `off`.
                    Some(off) => unsafe {
                        self.keep_unknown(
                            &mut *(p.add(off) as *mut UnknownFields),
                            header_at,
                            t,
                            id,
                            depth,
                        )?
                    },
                    None => self.r.skip(t, depth)?,
                },
            }
        }
        self.r.read_struct_end(saved);
        if !self.complete {
            return Ok(());
        }
        if s.required_mask & !seen != 0 {
            return Err(missing_required(s, seen, self.r.position()));
        }
        if is_union && count == 0 {
            return Err(union_error(0, self.r.position()));
        }
        Ok(())
    }

    /// # Safety
    /// `p` points to a live value of `s`, exclusively; `i` indexes `s.fields`.
    #[inline]
    unsafe fn decode_field(
        &mut self,
        s: &StructPlan,
        i: usize,
        p: *mut u8,
        depth: u32,
    ) -> Result<()> {
        let f = &s.fields[i];
        // SAFETY: (whole body) offsets, thunks and presence bits come from the plan of `s`.
        unsafe {
            let target = if let Some(uv) = s.union {
                (uv.set_empty)(p, i)
            } else {
                let slot = p.add(f.offset);
                match f.presence {
                    Presence::Always => slot,
                    Presence::Option(od) => (od.get_or_insert_empty)(slot),
                    Presence::Bit(n) => {
                        // An absent struct field may still hold a record (unset, or another
                        // union member's): decode into a new one, as into a `None` `Option`.
                        if !dynamic::bit(p, n) && matches!(f.node, Node::Record(_)) {
                            dynamic::drop_value(self.plan, &f.node, slot);
                            *(slot as *mut *mut u8) = std::ptr::null_mut();
                        }
                        if s.kind == StructKind::Union {
                            // A union holds one member: the one on the wire replaces any other.
                            for g in &s.fields {
                                if let Presence::Bit(b) = g.presence {
                                    dynamic::set_bit(p, b, false);
                                }
                            }
                        }
                        dynamic::set_bit(p, n, true);
                        slot
                    }
                }
            };
            self.decode_value(&f.node, target, depth)
        }
    }

    /// Copies (Binary) or converts (Compact) an unrecognised field into `unknown`.
    fn keep_unknown(
        &mut self,
        unknown: &mut UnknownFields,
        header_at: usize,
        t: TType,
        id: i16,
        depth: u32,
    ) -> Result<()> {
        if R::PROTOCOL == Protocol::Binary {
            self.r.skip(t, depth)?;
            unknown
                .bytes
                .extend_from_slice(&self.input[header_at..self.r.position()]);
        } else {
            let start = unknown.bytes.len();
            let mut w = BinaryWriter::new(&mut unknown.bytes);
            w.write_field_begin(t, id);
            if let Err(e) = transcode(self.r, &mut w, t, depth) {
                // Keep whole fields only, as the Binary branch does: a partial one would be
                // re-encoded as garbage by a value decoded into again (`decode_into`).
                unknown.bytes.truncate(start);
                return Err(e);
            }
        }
        Ok(())
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

    #[inline]
    fn read_bytes(&mut self) -> Result<&'a [u8]> {
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
    fn read_str(&mut self) -> Result<&'a str> {
        let b = self.read_bytes()?;
        dynthrift_core::wire::utf8(b, self.r.position() - b.len())
    }

    /// Skips `n` elements of a container whose element type differs from the schema's.
    fn skip_elems(&mut self, t: TType, n: usize, depth: u32) -> Result<()> {
        for _ in 0..n {
            self.r.skip(t, depth)?;
        }
        Ok(())
    }

    /// # Safety
    /// `p` points to a live value of `node`'s representation, exclusively.
    unsafe fn decode_value(&mut self, node: &Node, p: *mut u8, depth: u32) -> Result<()> {
        // SAFETY: (whole body) `p` holds a value of `node`'s host representation; containers
        // are manipulated through their descriptor's thunks or `dynamic`'s raw vectors.
        unsafe {
            match node {
                Node::Bool => *(p as *mut bool) = self.r.read_bool()?,
                Node::I8 => *(p as *mut i8) = self.r.read_i8()?,
                Node::I16 => *(p as *mut i16) = self.r.read_i16()?,
                Node::I32 => *(p as *mut i32) = self.r.read_i32()?,
                Node::I64 => *(p as *mut i64) = self.r.read_i64()?,
                Node::Double => *(p as *mut f64) = self.r.read_double()?,
                Node::Uuid => *(p as *mut [u8; 16]) = self.r.read_uuid()?,
                Node::String(StrRepr::Std) => {
                    let s = self.read_str()?;
                    set_string(&mut *(p as *mut String), s);
                }
                #[cfg(feature = "faststr")]
                Node::String(StrRepr::FastStr) => {
                    let s = self.read_str()?;
                    let dst = &mut *(p as *mut faststr::FastStr);
                    set_shared_faststr(dst, &mut self.strs, self.source, s);
                }
                Node::Binary(BinRepr::Vec) => {
                    let b = self.read_bytes()?;
                    set_vec(&mut *(p as *mut Vec<u8>), b);
                }
                Node::Binary(BinRepr::Bytes) => {
                    let b = self.read_bytes()?;
                    *(p as *mut Bytes) = match self.source {
                        Some(src) => view_in(src, b),
                        None => Bytes::copy_from_slice(b),
                    };
                }
                Node::Enum(EnumRepr::Rust(ed)) => {
                    let at = self.r.position();
                    let v = self.r.read_i32()?;
                    if !(ed.from_i32)(p, v) {
                        return Err(Error::decode(
                            ErrorKind::UnknownEnumValue,
                            at,
                            format!("unknown value {v} for enum '{}'", ed.name),
                        ));
                    }
                }
                Node::Enum(EnumRepr::Open) => *(p as *mut i32) = self.r.read_i32()?,
                Node::Struct(si) => self.decode_struct(*si, p, depth)?,
                Node::Record(si) => {
                    let slot = p as *mut *mut u8;
                    if (*slot).is_null() {
                        *slot = dynamic::new_record(self.plan, *si)?;
                    }
                    self.decode_struct(*si, *slot, depth)?
                }
                Node::Boxed(inner, bd) => {
                    self.decode_value(inner, (bd.get)(p) as *mut u8, depth)?
                }
                Node::List(elem, repr) => {
                    let at = self.r.position();
                    let depth = enter(depth, at)?;
                    let (t, n) = self.r.read_list_begin()?;
                    self.check_len(n, at)?;
                    let matches = n == 0 || t == elem.ttype();
                    match repr {
                        SeqRepr::Std(sd) => {
                            (sd.clear_reserve)(p, if matches { n } else { 0 });
                            if !matches {
                                return self.skip_elems(t, n, depth);
                            }
                            if is_plain(elem) {
                                // Plain values go straight into the spare capacity.
                                let base = (sd.spare_ptr)(p);
                                let mut done = 0;
                                let res = (|| {
                                    while done < n {
                                        self.read_plain(elem, base.add(done * sd.elem_size))?;
                                        done += 1;
                                    }
                                    Ok(())
                                })();
                                (sd.commit)(p, done);
                                res.map_err(|e: Error| e.at_index(done))?;
                            } else {
                                for i in 0..n {
                                    let e = (sd.push_empty)(p);
                                    self.decode_value(elem, e, depth)
                                        .map_err(|e| e.at_index(i))?;
                                }
                            }
                        }
                        SeqRepr::Raw(el) => {
                            let v = p as *mut RawVec;
                            dynamic::raw_clear_reserve(
                                self.plan,
                                v,
                                elem,
                                *el,
                                if matches { n } else { 0 },
                            )?;
                            if !matches {
                                return self.skip_elems(t, n, depth);
                            }
                            for i in 0..n {
                                let e = dynamic::raw_push_empty(v, elem, *el)?;
                                self.decode_value(elem, e, depth)
                                    .map_err(|e| e.at_index(i))?;
                            }
                        }
                    }
                }
                Node::Set(elem, repr) => {
                    let at = self.r.position();
                    let depth = enter(depth, at)?;
                    let (t, n) = self.r.read_set_begin()?;
                    self.check_len(n, at)?;
                    let matches = n == 0 || t == elem.ttype();
                    match repr {
                        SetRepr::Std(sd) => {
                            (sd.clear_reserve)(p, if matches { n } else { 0 });
                            if !matches {
                                return self.skip_elems(t, n, depth);
                            }
                            for i in 0..n {
                                (sd.insert_with)(p, &mut |e| self.decode_value(elem, e, depth))
                                    .map_err(|e| e.at_index(i))?;
                            }
                        }
                        SetRepr::Raw(el) => {
                            let v = p as *mut RawVec;
                            dynamic::raw_clear_reserve(
                                self.plan,
                                v,
                                elem,
                                *el,
                                if matches { n } else { 0 },
                            )?;
                            if !matches {
                                return self.skip_elems(t, n, depth);
                            }
                            for i in 0..n {
                                let e = dynamic::raw_push_empty(v, elem, *el)?;
                                self.decode_value(elem, e, depth)
                                    .map_err(|e| e.at_index(i))?;
                            }
                        }
                    }
                }
                Node::Map(key, value, repr) => {
                    let at = self.r.position();
                    let depth = enter(depth, at)?;
                    let (kt, vt, n) = self.r.read_map_begin()?;
                    self.check_len(n, at)?;
                    let matches = n == 0 || (kt == key.ttype() && vt == value.ttype());
                    match repr {
                        MapRepr::Std(md) => {
                            (md.clear_reserve)(p, if matches { n } else { 0 });
                            if !matches {
                                for _ in 0..n {
                                    self.r.skip(kt, depth)?;
                                    self.r.skip(vt, depth)?;
                                }
                                return Ok(());
                            }
                            for i in 0..n {
                                (md.insert_with)(p, &mut |k, v| {
                                    self.decode_value(key, k, depth)
                                        .map_err(|e| e.push(PathSegment::KeyAt(i)))?;
                                    self.decode_value(value, v, depth)
                                        .map_err(|e| e.push(key_segment(key, k, i)))
                                })?;
                            }
                        }
                        MapRepr::Raw { key: kl, value: vl } => {
                            let m = p as *mut RawMap;
                            let (keys, values) = (&raw mut (*m).keys, &raw mut (*m).values);
                            let n_res = if matches { n } else { 0 };
                            dynamic::raw_clear_reserve(self.plan, keys, key, *kl, n_res)?;
                            dynamic::raw_clear_reserve(self.plan, values, value, *vl, n_res)?;
                            if !matches {
                                for _ in 0..n {
                                    self.r.skip(kt, depth)?;
                                    self.r.skip(vt, depth)?;
                                }
                                return Ok(());
                            }
                            for i in 0..n {
                                let k = dynamic::raw_push_empty(keys, key, *kl)?;
                                let v = dynamic::raw_push_empty(values, value, *vl)?;
                                self.decode_value(key, k, depth)
                                    .map_err(|e| e.push(PathSegment::KeyAt(i)))?;
                                self.decode_value(value, v, depth)
                                    .map_err(|e| e.push(key_segment(key, k, i)))?;
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Reads one plain value (see [`is_plain`]) into uninitialised memory.
    ///
    /// # Safety
    /// `p` is valid for writes of the node's type and suitably aligned.
    #[inline(always)]
    unsafe fn read_plain(&mut self, node: &Node, p: *mut u8) -> Result<()> {
        // SAFETY: the caller provides writable, aligned room for one value.
        unsafe {
            match node {
                Node::Bool => (p as *mut bool).write(self.r.read_bool()?),
                Node::I8 => (p as *mut i8).write(self.r.read_i8()?),
                Node::I16 => (p as *mut i16).write(self.r.read_i16()?),
                Node::I32 => (p as *mut i32).write(self.r.read_i32()?),
                Node::I64 => (p as *mut i64).write(self.r.read_i64()?),
                Node::Double => (p as *mut f64).write(self.r.read_double()?),
                Node::Uuid => (p as *mut [u8; 16]).write(self.r.read_uuid()?),
                _ => {
                    return Err(Error::schema(
                        "internal error: bulk read of a non-plain value",
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Values that are plain bytes in memory and can be written into uninitialised capacity.
#[inline]
fn is_plain(node: &Node) -> bool {
    matches!(
        node,
        Node::Bool | Node::I8 | Node::I16 | Node::I32 | Node::I64 | Node::Double | Node::Uuid
    )
}

#[cfg(test)]
mod view_tests {
    use super::*;

    /// Inside the source: a view of the same bytes (no copy), at every offset and length,
    /// empty ones included; outside it (or overlapping its end): an equal copy.
    #[test]
    fn view_in_shares_inside_and_copies_outside() {
        let src = Bytes::from((0u8..32).collect::<Vec<u8>>());
        for start in 0..=src.len() {
            for end in start..=src.len() {
                let b = &src[start..end];
                let v = view_in(&src, b);
                assert_eq!(&v[..], b);
                if !b.is_empty() {
                    assert_eq!(v.as_ptr(), b.as_ptr(), "{start}..{end} copied");
                }
            }
        }
        let other = vec![7u8; 8];
        let v = view_in(&src, &other);
        assert_eq!(&v[..], &other[..]);
        assert_ne!(v.as_ptr(), other.as_ptr());
        let wider = Bytes::from((0u8..40).collect::<Vec<u8>>());
        let short = wider.slice(..16);
        let v = view_in(&short, &wider[8..24]);
        assert_eq!(&v[..], &wider[8..24]);
        assert_ne!(v.as_ptr(), wider[8..].as_ptr());
    }
}
