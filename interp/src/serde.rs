//! IDL-only values and serde (feature `serde`): [`DynStruct`] serializes guided by its schema,
//! deserializes through [`StructSeed`] (a `DeserializeSeed` keyed by the struct type), and
//! converts to and from `serde_json::Value`. The JSON mapping is the one of the
//! `dynthrift-json` transcoder (see [`Mapping`]); both are tested to agree.
//!
//! | Thrift | JSON |
//! |---|---|
//! | struct, exception | object keyed by field name (or id, [`Mapping::field_ids`]) |
//! | union | object with exactly one key |
//! | bool | `true` / `false` |
//! | byte, i16, i32 | number (a string holding a number is accepted) |
//! | i64 | number, or a string with [`Mapping::i64_as_string`] (both accepted) |
//! | double | number; NaN and infinities as `"NaN"`, `"Infinity"`, `"-Infinity"` |
//! | string | string |
//! | binary | base64 string (standard alphabet, padded; URL-safe and unpadded accepted) |
//! | uuid | `"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"` (lower case; any case accepted) |
//! | enum | number, or name with [`Mapping::enum_names`] (both accepted) |
//! | list, set | array |
//! | map, scalar keys | object; non-string keys written as strings (`"1"`, `"true"`, base64) |
//! | map, struct/container keys | array of `[key, value]` pairs |
//!
//! A `null` field value means "absent". Absent fields follow the IDL-only value rules: default
//! requiredness fields keep their defaults, required ones are an error.

use std::fmt;
use std::sync::Arc;

use ::serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use ::serde::ser::{self, Serialize, SerializeMap, SerializeSeq, Serializer};
use bytes::Bytes;

use dynthrift_core::schema::{Requiredness, Schema, StructId, StructKind, Ty};
use dynthrift_core::{Error, ErrorKind, Result};

use crate::value::{DynSchema, DynStruct, MapRef, SeqRef, StructRef, Value, ValueRef};

/// How Thrift values map to JSON. The default: names as keys, i64 as numbers, enums as
/// numbers, unknown keys rejected.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mapping {
    /// Write field ids (`"1"`) instead of names as object keys. Input accepts both always.
    pub field_ids: bool,
    /// Write i64 values as strings (JavaScript loses precision above 2^53). Input accepts both.
    pub i64_as_string: bool,
    /// Write enum values by name (unknown values stay numbers). Input accepts both.
    pub enum_names: bool,
    /// Skip object keys that name no field, instead of failing.
    pub ignore_unknown: bool,
}

impl Mapping {
    pub fn field_ids(mut self, on: bool) -> Self {
        self.field_ids = on;
        self
    }
    pub fn i64_as_string(mut self, on: bool) -> Self {
        self.i64_as_string = on;
        self
    }
    pub fn enum_names(mut self, on: bool) -> Self {
        self.enum_names = on;
        self
    }
    pub fn ignore_unknown(mut self, on: bool) -> Self {
        self.ignore_unknown = on;
        self
    }
}

// ---------------------------------------------------------------------------------------------
// Text forms shared with the transcoder.

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Two base64 characters per 12 bits.
static B64_PAIRS: [[u8; 2]; 4096] = {
    let mut t = [[0u8; 2]; 4096];
    let mut i = 0;
    while i < 4096 {
        t[i] = [B64[i >> 6], B64[i & 63]];
        i += 1;
    }
    t
};

/// Appends the standard, padded base64 form of `data`.
pub fn base64_encode(data: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + data.len().div_ceil(3) * 4, 0);
    let dst = &mut out[start..];
    let mut chunks = data.chunks_exact(3);
    let mut outs = dst.chunks_exact_mut(4);
    for (c, d) in (&mut chunks).zip(&mut outs) {
        let n = (c[0] as usize) << 16 | (c[1] as usize) << 8 | c[2] as usize;
        let hi = B64_PAIRS[n >> 12];
        let lo = B64_PAIRS[n & 0xfff];
        d.copy_from_slice(&[hi[0], hi[1], lo[0], lo[1]]);
    }
    let tail = match *chunks.remainder() {
        [a] => {
            let n = (a as usize) << 16;
            [B64[n >> 18], B64[(n >> 12) & 63], b'=', b'=']
        }
        [a, b] => {
            let n = (a as usize) << 16 | (b as usize) << 8;
            [B64[n >> 18], B64[(n >> 12) & 63], B64[(n >> 6) & 63], b'=']
        }
        _ => return,
    };
    if let Some(d) = outs.next() {
        d.copy_from_slice(&tail);
    }
}

const fn b64_table() -> [u8; 256] {
    let mut t = [255u8; 256];
    let mut i = 0;
    while i < 64 {
        t[B64[i] as usize] = i as u8;
        i += 1;
    }
    // URL-safe alphabet too.
    t[b'-' as usize] = 62;
    t[b'_' as usize] = 63;
    t
}
static B64_DEC: [u8; 256] = b64_table();

/// Decodes base64 (standard or URL-safe alphabet, padding optional) onto `out`; `Err` with the
/// index of the first bad character (then `out` is left as it was).
pub fn base64_decode(text: &[u8], out: &mut Vec<u8>) -> std::result::Result<(), usize> {
    let mut end = text.len();
    while end > 0 && text[end - 1] == b'=' {
        end -= 1;
    }
    if text.len() - end > 2 || (text.len() != end && !text.len().is_multiple_of(4)) {
        return Err(end);
    }
    let body = &text[..end];
    if body.len() % 4 == 1 {
        return Err(body.len().saturating_sub(1));
    }
    let bad = |at: usize| {
        at + body[at..]
            .iter()
            .position(|&c| B64_DEC[c as usize] == 255)
            .unwrap_or(0)
    };
    let start = out.len();
    let full = body.len() / 4;
    out.resize(start + full * 3, 0);
    let mut ok = true;
    for (c, d) in body.chunks_exact(4).zip(out[start..].chunks_exact_mut(3)) {
        let (a, b, x, y) = (
            B64_DEC[c[0] as usize] as u32,
            B64_DEC[c[1] as usize] as u32,
            B64_DEC[c[2] as usize] as u32,
            B64_DEC[c[3] as usize] as u32,
        );
        ok &= (a | b | x | y) & 0xc0 == 0;
        let n = a << 18 | b << 12 | x << 6 | y;
        d.copy_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
    }
    if !ok {
        out.truncate(start);
        return Err(bad(0));
    }
    let rest = &body[full * 4..];
    if !rest.is_empty() {
        let mut n = 0u32;
        for &ch in rest {
            let d = B64_DEC[ch as usize];
            if d == 255 {
                out.truncate(start);
                return Err(bad(full * 4));
            }
            n = n << 6 | d as u32;
        }
        n <<= 6 * (4 - rest.len() as u32);
        out.push((n >> 16) as u8);
        if rest.len() == 3 {
            out.push((n >> 8) as u8);
        }
    }
    Ok(())
}

/// The canonical text of a uuid: 36 characters, lower case.
pub fn uuid_format(u: &[u8; 16]) -> [u8; 36] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = [b'-'; 36];
    let mut j = 0;
    for (i, b) in u.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            j += 1;
        }
        s[j] = HEX[(b >> 4) as usize];
        s[j + 1] = HEX[(b & 15) as usize];
        j += 2;
    }
    s
}

/// Parses `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (any case) or 32 hex digits.
pub fn uuid_parse(s: &[u8]) -> Option<[u8; 16]> {
    let hex = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    let dashed = s.len() == 36;
    if !dashed && s.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    let mut j = 0;
    for (i, o) in out.iter_mut().enumerate() {
        if dashed && matches!(i, 4 | 6 | 8 | 10) {
            if s[j] != b'-' {
                return None;
            }
            j += 1;
        }
        *o = hex(s[j])? << 4 | hex(s[j + 1])?;
        j += 2;
    }
    Some(out)
}

/// The JSON text of a double: shortest round-trip form (as serde_json writes), or the strings
/// `NaN`, `Infinity`, `-Infinity` (without quotes; the caller quotes them).
pub fn double_text(v: f64, buf: &mut zmij::Buffer) -> (&str, bool) {
    if v.is_finite() {
        (buf.format_finite(v), true)
    } else if v.is_nan() {
        ("NaN", false)
    } else if v > 0.0 {
        ("Infinity", false)
    } else {
        ("-Infinity", false)
    }
}

/// A double from its string form (`"NaN"`, `"Infinity"`, `"-Infinity"`, or a number).
pub fn double_parse(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        _ => s
            .parse()
            .ok()
            .filter(|_| !s.is_empty() && !s.starts_with(['+', 'i', 'I', 'n', 'N'])),
    }
}

/// Whether a map with keys of this type is a JSON object (keys as strings); otherwise it is
/// an array of `[key, value]` pairs.
pub fn key_is_scalar(ty: &Ty) -> bool {
    !matches!(ty, Ty::Struct(_) | Ty::List(_) | Ty::Set(_) | Ty::Map(..))
}

// ---------------------------------------------------------------------------------------------
// Serialize.

impl Serialize for DynStruct {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        Mapped::new(self.view(), &Mapping::default()).serialize(s)
    }
}

/// A struct with a mapping, ready to serialize: `serde_json::to_string(&Mapped::new(v.view(),
/// &mapping))`.
#[derive(Debug, Clone, Copy)]
pub struct Mapped<'a> {
    v: StructRef<'a>,
    m: &'a Mapping,
}

impl<'a> Mapped<'a> {
    pub fn new(v: StructRef<'a>, m: &'a Mapping) -> Self {
        Mapped { v, m }
    }
}

impl Serialize for Mapped<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        TypedStruct {
            v: self.v,
            m: self.m,
        }
        .serialize(s)
    }
}

struct TypedStruct<'a> {
    v: StructRef<'a>,
    m: &'a Mapping,
}

struct Typed<'a> {
    v: ValueRef<'a>,
    ty: &'a Ty,
    schema: &'a Schema,
    m: &'a Mapping,
}

impl Serialize for TypedStruct<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let schema = self.v.types().schema();
        let def = schema.struct_def(self.v.struct_id());
        let mut map = s.serialize_map(None)?;
        let mut idbuf = itoa::Buffer::new();
        for (name, i, v) in self.v.fields() {
            let f = &def.fields[i];
            if self.m.field_ids {
                map.serialize_key(idbuf.format(f.id))?;
            } else {
                map.serialize_key(name)?;
            }
            map.serialize_value(&Typed {
                v,
                ty: &f.ty,
                schema,
                m: self.m,
            })?;
        }
        map.end()
    }
}

impl Serialize for Typed<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let (schema, m) = (self.schema, self.m);
        match (self.v, self.ty) {
            (ValueRef::I32(x), Ty::Enum(e)) if m.enum_names => {
                match schema.enum_def(*e).name_of(x) {
                    Some(name) => s.serialize_str(name),
                    None => s.serialize_i32(x),
                }
            }
            (ValueRef::I64(x), _) if m.i64_as_string => s.collect_str(&x),
            (ValueRef::Struct(v), _) => TypedStruct { v, m }.serialize(s),
            (ValueRef::List(seq) | ValueRef::Set(seq), Ty::List(t) | Ty::Set(t)) => {
                let mut out = s.serialize_seq(Some(seq.len()))?;
                for v in seq.iter() {
                    out.serialize_element(&Typed {
                        v,
                        ty: t,
                        schema,
                        m,
                    })?;
                }
                out.end()
            }
            (ValueRef::Map(map), Ty::Map(kt, vt)) => serialize_map(map, kt, vt, schema, m, s),
            (v, _) => serialize_plain(v, s),
        }
    }
}

fn serialize_map<S: Serializer>(
    map: MapRef<'_>,
    kt: &Ty,
    vt: &Ty,
    schema: &Schema,
    m: &Mapping,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    if key_is_scalar(kt) {
        let mut out = s.serialize_map(Some(map.len()))?;
        for (k, v) in map.iter() {
            out.serialize_key(&KeyText {
                v: k,
                ty: kt,
                schema,
                m,
            })?;
            out.serialize_value(&Typed {
                v,
                ty: vt,
                schema,
                m,
            })?;
        }
        out.end()
    } else {
        let mut out = s.serialize_seq(Some(map.len()))?;
        for (k, v) in map.iter() {
            out.serialize_element(&(
                Typed {
                    v: k,
                    ty: kt,
                    schema,
                    m,
                },
                Typed {
                    v,
                    ty: vt,
                    schema,
                    m,
                },
            ))?;
        }
        out.end()
    }
}

/// A scalar map key as the string a JSON object key must be.
struct KeyText<'a> {
    v: ValueRef<'a>,
    ty: &'a Ty,
    schema: &'a Schema,
    m: &'a Mapping,
}

impl Serialize for KeyText<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut buf = Vec::new();
        key_text(self.v, self.ty, self.schema, self.m, &mut buf);
        // Built from UTF-8 pieces only.
        s.serialize_str(std::str::from_utf8(&buf).map_err(ser::Error::custom)?)
    }
}

/// Appends the object-key text of a scalar map key.
pub fn key_text(v: ValueRef<'_>, ty: &Ty, schema: &Schema, m: &Mapping, out: &mut Vec<u8>) {
    let mut ib = itoa::Buffer::new();
    match v {
        ValueRef::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
        ValueRef::I8(x) => out.extend_from_slice(ib.format(x).as_bytes()),
        ValueRef::I16(x) => out.extend_from_slice(ib.format(x).as_bytes()),
        ValueRef::I32(x) => match ty {
            Ty::Enum(e) if m.enum_names => match schema.enum_def(*e).name_of(x) {
                Some(n) => out.extend_from_slice(n.as_bytes()),
                None => out.extend_from_slice(ib.format(x).as_bytes()),
            },
            _ => out.extend_from_slice(ib.format(x).as_bytes()),
        },
        ValueRef::I64(x) => out.extend_from_slice(ib.format(x).as_bytes()),
        ValueRef::Double(x) => {
            let mut rb = zmij::Buffer::new();
            out.extend_from_slice(double_text(x, &mut rb).0.as_bytes())
        }
        ValueRef::String(x) => out.extend_from_slice(x.as_bytes()),
        ValueRef::Binary(x) => base64_encode(x, out),
        ValueRef::Uuid(x) => out.extend_from_slice(&uuid_format(x)),
        ValueRef::Struct(_) | ValueRef::List(_) | ValueRef::Set(_) | ValueRef::Map(_) => {}
    }
}

fn serialize_plain<S: Serializer>(v: ValueRef<'_>, s: S) -> std::result::Result<S::Ok, S::Error> {
    match v {
        ValueRef::Bool(b) => s.serialize_bool(b),
        ValueRef::I8(x) => s.serialize_i8(x),
        ValueRef::I16(x) => s.serialize_i16(x),
        ValueRef::I32(x) => s.serialize_i32(x),
        ValueRef::I64(x) => s.serialize_i64(x),
        ValueRef::Double(x) => {
            let mut rb = zmij::Buffer::new();
            match double_text(x, &mut rb) {
                (_, true) => s.serialize_f64(x),
                (t, false) => s.serialize_str(t),
            }
        }
        ValueRef::String(x) => s.serialize_str(x),
        ValueRef::Binary(x) => {
            let mut buf = Vec::new();
            base64_encode(x, &mut buf);
            s.serialize_str(std::str::from_utf8(&buf).map_err(ser::Error::custom)?)
        }
        ValueRef::Uuid(x) => {
            let t = uuid_format(x);
            s.serialize_str(std::str::from_utf8(&t).map_err(ser::Error::custom)?)
        }
        ValueRef::Struct(v) => TypedStruct {
            v,
            m: &Mapping::default(),
        }
        .serialize(s),
        ValueRef::List(seq) | ValueRef::Set(seq) => plain_seq(seq, s),
        ValueRef::Map(map) => {
            let mut out = s.serialize_seq(Some(map.len()))?;
            for (k, v) in map.iter() {
                out.serialize_element(&(Plain(k), Plain(v)))?;
            }
            out.end()
        }
    }
}

fn plain_seq<S: Serializer>(seq: SeqRef<'_>, s: S) -> std::result::Result<S::Ok, S::Error> {
    let mut out = s.serialize_seq(Some(seq.len()))?;
    for v in seq.iter() {
        out.serialize_element(&Plain(v))?;
    }
    out.end()
}

struct Plain<'a>(ValueRef<'a>);
impl Serialize for Plain<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        serialize_plain(self.0, s)
    }
}

/// A [`Value`] without a schema: enums are numbers, maps whose keys are strings or scalars are
/// objects, other maps arrays of pairs; structs use their own schema with the default mapping.
impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Value::Bool(b) => s.serialize_bool(*b),
            Value::I8(x) => s.serialize_i8(*x),
            Value::I16(x) => s.serialize_i16(*x),
            Value::I32(x) => s.serialize_i32(*x),
            Value::I64(x) => s.serialize_i64(*x),
            Value::Double(x) => serialize_plain(ValueRef::Double(*x), s),
            Value::String(x) => s.serialize_str(x),
            Value::Binary(x) => serialize_plain(ValueRef::Binary(x), s),
            Value::Uuid(x) => serialize_plain(ValueRef::Uuid(x), s),
            Value::Struct(v) => v.serialize(s),
            Value::List(items) | Value::Set(items) => {
                let mut out = s.serialize_seq(Some(items.len()))?;
                for v in items {
                    out.serialize_element(v)?;
                }
                out.end()
            }
            Value::Map(entries) => {
                let scalar = entries.iter().all(|(k, _)| {
                    !matches!(
                        k,
                        Value::Struct(_) | Value::List(_) | Value::Set(_) | Value::Map(_)
                    )
                });
                if scalar {
                    let mut out = s.serialize_map(Some(entries.len()))?;
                    for (k, v) in entries {
                        let mut buf = Vec::new();
                        let ty = Ty::Bool; // only enums use the type; a Value has none
                        key_text(
                            value_ref(k),
                            &ty,
                            &Schema::default(),
                            &Mapping::default(),
                            &mut buf,
                        );
                        out.serialize_key(std::str::from_utf8(&buf).map_err(ser::Error::custom)?)?;
                        out.serialize_value(v)?;
                    }
                    out.end()
                } else {
                    let mut out = s.serialize_seq(Some(entries.len()))?;
                    for e in entries {
                        out.serialize_element(&(&e.0, &e.1))?;
                    }
                    out.end()
                }
            }
        }
    }
}

/// The scalar view of a scalar [`Value`] (containers and structs map to `Bool(false)`; only
/// used for map keys that are scalars).
fn value_ref(v: &Value) -> ValueRef<'_> {
    match v {
        Value::Bool(b) => ValueRef::Bool(*b),
        Value::I8(x) => ValueRef::I8(*x),
        Value::I16(x) => ValueRef::I16(*x),
        Value::I32(x) => ValueRef::I32(*x),
        Value::I64(x) => ValueRef::I64(*x),
        Value::Double(x) => ValueRef::Double(*x),
        Value::String(x) => ValueRef::String(x),
        Value::Binary(x) => ValueRef::Binary(x),
        Value::Uuid(x) => ValueRef::Uuid(x),
        _ => ValueRef::Bool(false),
    }
}

// ---------------------------------------------------------------------------------------------
// serde_json::Value.

/// `v` as a `serde_json::Value`, with `mapping`.
pub fn to_json_value(v: &DynStruct, mapping: &Mapping) -> Result<serde_json::Value> {
    serde_json::to_value(Mapped::new(v.view(), mapping))
        .map_err(|e| Error::encode(ErrorKind::InvalidValue, e.to_string()))
}

/// A value of the struct named `name` from a `serde_json::Value`, with `mapping`.
pub fn from_json_value(
    types: &Arc<DynSchema>,
    name: &str,
    json: &serde_json::Value,
    mapping: &Mapping,
) -> Result<DynStruct> {
    let id = types.schema().expect_struct(name)?;
    StructSeed::new(types, id, mapping)
        .deserialize(json)
        .map_err(|e| Error::decode(ErrorKind::InvalidData, 0, e.to_string()))
}

/// A value of the struct named `name` from JSON text, with `mapping`.
pub fn from_json_str(
    types: &Arc<DynSchema>,
    name: &str,
    json: &str,
    mapping: &Mapping,
) -> Result<DynStruct> {
    let id = types.schema().expect_struct(name)?;
    let mut de = serde_json::Deserializer::from_str(json);
    let v = StructSeed::new(types, id, mapping)
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| {
            let at = line_col_offset(json, e.line(), e.column());
            Error::decode(ErrorKind::InvalidData, at, e.to_string())
        })?;
    Ok(v)
}

fn line_col_offset(text: &str, line: usize, col: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (start + col.saturating_sub(1)).min(text.len())
}

// ---------------------------------------------------------------------------------------------
// Deserialize.

/// Deserializes a [`DynStruct`] of one struct type: `StructSeed::new(&types, id,
/// &mapping).deserialize(&mut serde_json::Deserializer::from_str(text))`.
#[derive(Debug, Clone, Copy)]
pub struct StructSeed<'a> {
    types: &'a Arc<DynSchema>,
    id: StructId,
    m: &'a Mapping,
}

impl<'a> StructSeed<'a> {
    pub fn new(types: &'a Arc<DynSchema>, id: StructId, mapping: &'a Mapping) -> Self {
        StructSeed {
            types,
            id,
            m: mapping,
        }
    }
}

impl<'de> DeserializeSeed<'de> for StructSeed<'_> {
    type Value = DynStruct;
    fn deserialize<D: de::Deserializer<'de>>(
        self,
        d: D,
    ) -> std::result::Result<DynStruct, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for StructSeed<'_> {
    type Value = DynStruct;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "an object ({})",
            self.types.schema().struct_def(self.id).name
        )
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<DynStruct, A::Error> {
        let schema = self.types.schema();
        let def = schema.struct_def(self.id);
        let mut v = DynStruct::new_by_id(self.types, self.id).map_err(de::Error::custom)?;
        let mut seen = vec![false; def.fields.len()];
        let mut count = 0;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let i = def.fields.iter().position(|f| f.name == *key).or_else(|| {
                let id: i16 = key.parse().ok()?;
                def.fields.iter().position(|f| f.id == id)
            });
            let Some(i) = i else {
                if self.m.ignore_unknown {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
                return Err(de::Error::custom(format!(
                    "{} has no field '{key}'",
                    def.name
                )));
            };
            if seen[i] {
                return Err(de::Error::custom(format!(
                    "duplicate field '{}'",
                    def.fields[i].name
                )));
            }
            seen[i] = true;
            let f = &def.fields[i];
            let value = map.next_value_seed(Nullable(TySeed {
                types: self.types,
                ty: &f.ty,
                m: self.m,
            }))?;
            let Some(value) = value else {
                seen[i] = false;
                continue;
            };
            count += 1;
            v.set_by_id(f.id, value)
                .map_err(|e| de::Error::custom(format!("field '{}': {}", f.name, e.detail())))?;
        }
        if def.kind == StructKind::Union && count != 1 {
            return Err(de::Error::custom(format!(
                "union {} needs exactly one field, found {count}",
                def.name
            )));
        }
        for (f, seen) in def.fields.iter().zip(&seen) {
            if f.req == Requiredness::Required && !seen && !v.is_set(&f.name) {
                return Err(de::Error::custom(format!(
                    "missing required field '{}' of {}",
                    f.name, def.name
                )));
            }
        }
        Ok(v)
    }
}

/// `null` → `None`, anything else through the inner seed.
struct Nullable<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Nullable<S> {
    type Value = Option<S::Value>;
    fn deserialize<D: de::Deserializer<'de>>(
        self,
        d: D,
    ) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_option(NullableVisitor(self.0))
    }
}

struct NullableVisitor<S>(S);

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for NullableVisitor<S> {
    type Value = Option<S::Value>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value or null")
    }
    fn visit_none<E: de::Error>(self) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: de::Deserializer<'de>>(
        self,
        d: D,
    ) -> std::result::Result<Self::Value, D::Error> {
        self.0.deserialize(d).map(Some)
    }
}

/// One value of type `ty`.
#[derive(Clone, Copy)]
struct TySeed<'a> {
    types: &'a Arc<DynSchema>,
    ty: &'a Ty,
    m: &'a Mapping,
}

impl<'de> DeserializeSeed<'de> for TySeed<'_> {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<Value, D::Error> {
        match self.ty {
            Ty::Struct(id) => StructSeed::new(self.types, *id, self.m)
                .deserialize(d)
                .map(Value::Struct),
            _ => d.deserialize_any(self),
        }
    }
}

fn int_range<E: de::Error>(ty: &Ty, x: i128) -> std::result::Result<Value, E> {
    let bad = || E::custom(format!("{x} does not fit in {}", ty_label(ty)));
    Ok(match ty {
        Ty::I8 => Value::I8(i8::try_from(x).map_err(|_| bad())?),
        Ty::I16 => Value::I16(i16::try_from(x).map_err(|_| bad())?),
        Ty::I32 | Ty::Enum(_) => Value::I32(i32::try_from(x).map_err(|_| bad())?),
        Ty::I64 => Value::I64(i64::try_from(x).map_err(|_| bad())?),
        Ty::Double => Value::Double(x as f64),
        _ => {
            return Err(E::custom(format!(
                "expected {}, found a number",
                ty_label(ty)
            )));
        }
    })
}

fn ty_label(ty: &Ty) -> &'static str {
    match ty {
        Ty::Bool => "a bool",
        Ty::I8 => "a byte",
        Ty::I16 => "an i16",
        Ty::I32 => "an i32",
        Ty::I64 => "an i64",
        Ty::Double => "a double",
        Ty::String => "a string",
        Ty::Binary => "base64 binary",
        Ty::Uuid => "a uuid",
        Ty::List(_) => "a list",
        Ty::Set(_) => "a set",
        Ty::Map(..) => "a map",
        Ty::Struct(_) => "a struct",
        Ty::Enum(_) => "an enum",
    }
}

/// A scalar from its string form (string values, and object keys of maps).
pub fn scalar_from_str(schema: &Schema, ty: &Ty, s: &str) -> std::result::Result<Value, String> {
    let bad = || format!("expected {}, found \"{s}\"", ty_label(ty));
    Ok(match ty {
        Ty::String => Value::String(s.to_owned()),
        Ty::Bool => match s {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(bad()),
        },
        Ty::I8 | Ty::I16 | Ty::I32 | Ty::I64 => {
            let x: i128 = s.parse().map_err(|_| bad())?;
            int_range::<de::value::Error>(ty, x).map_err(|e| e.to_string())?
        }
        Ty::Enum(e) => match schema.enum_def(*e).value_by_name(s) {
            Some(x) => Value::I32(x),
            None => Value::I32(
                s.parse()
                    .map_err(|_| format!("unknown enum name \"{s}\""))?,
            ),
        },
        Ty::Double => Value::Double(double_parse(s).ok_or_else(bad)?),
        Ty::Binary => {
            let mut out = Vec::new();
            base64_decode(s.as_bytes(), &mut out).map_err(|_| format!("invalid base64 \"{s}\""))?;
            Value::Binary(Bytes::from(out))
        }
        Ty::Uuid => Value::Uuid(uuid_parse(s.as_bytes()).ok_or_else(bad)?),
        _ => return Err(bad()),
    })
}

impl<'de> Visitor<'de> for TySeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(ty_label(self.ty))
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> std::result::Result<Value, E> {
        match self.ty {
            Ty::Bool => Ok(Value::Bool(b)),
            _ => Err(E::invalid_type(de::Unexpected::Bool(b), &self)),
        }
    }
    fn visit_i64<E: de::Error>(self, x: i64) -> std::result::Result<Value, E> {
        int_range(self.ty, x as i128)
    }
    fn visit_u64<E: de::Error>(self, x: u64) -> std::result::Result<Value, E> {
        int_range(self.ty, x as i128)
    }
    fn visit_f64<E: de::Error>(self, x: f64) -> std::result::Result<Value, E> {
        match self.ty {
            Ty::Double => Ok(Value::Double(x)),
            _ => Err(E::invalid_type(de::Unexpected::Float(x), &self)),
        }
    }
    fn visit_str<E: de::Error>(self, s: &str) -> std::result::Result<Value, E> {
        scalar_from_str(self.types.schema(), self.ty, s).map_err(E::custom)
    }
    fn visit_string<E: de::Error>(self, s: String) -> std::result::Result<Value, E> {
        match self.ty {
            Ty::String => Ok(Value::String(s)),
            _ => self.visit_str(&s),
        }
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Value, A::Error> {
        match self.ty {
            Ty::List(t) | Ty::Set(t) => {
                let elem = TySeed { ty: t, ..self };
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
                while let Some(v) = seq.next_element_seed(elem)? {
                    items.push(v);
                }
                Ok(if matches!(self.ty, Ty::List(_)) {
                    Value::List(items)
                } else {
                    Value::Set(items)
                })
            }
            Ty::Map(kt, vt) => {
                let pair = PairSeed {
                    k: TySeed { ty: kt, ..self },
                    v: TySeed { ty: vt, ..self },
                };
                let mut entries = Vec::new();
                while let Some(e) = seq.next_element_seed(pair)? {
                    entries.push(e);
                }
                Ok(Value::Map(entries))
            }
            _ => Err(de::Error::invalid_type(de::Unexpected::Seq, &self)),
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Value, A::Error> {
        match self.ty {
            Ty::Map(kt, vt) if key_is_scalar(kt) => {
                let vseed = TySeed { ty: vt, ..self };
                let mut entries = Vec::new();
                while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    let k =
                        scalar_from_str(self.types.schema(), kt, &k).map_err(de::Error::custom)?;
                    entries.push((k, map.next_value_seed(vseed)?));
                }
                Ok(Value::Map(entries))
            }
            Ty::Struct(id) => StructSeed::new(self.types, *id, self.m)
                .visit_map(map)
                .map(Value::Struct),
            _ => Err(de::Error::invalid_type(de::Unexpected::Map, &self)),
        }
    }
}

#[derive(Clone, Copy)]
struct PairSeed<'a> {
    k: TySeed<'a>,
    v: TySeed<'a>,
}

impl<'de> DeserializeSeed<'de> for PairSeed<'_> {
    type Value = (Value, Value);
    fn deserialize<D: de::Deserializer<'de>>(
        self,
        d: D,
    ) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for PairSeed<'_> {
    type Value = (Value, Value);
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a [key, value] pair")
    }
    fn visit_seq<A: SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        let k = seq
            .next_element_seed(self.k)?
            .ok_or_else(|| de::Error::invalid_length(0, &self))?;
        let v = seq
            .next_element_seed(self.v)?
            .ok_or_else(|| de::Error::invalid_length(1, &self))?;
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(de::Error::invalid_length(3, &self));
        }
        Ok((k, v))
    }
}
