//! Reading and writing one [`Value`] of a schema type straight from and to the wire, for the
//! path accessor: scalars directly, structs through [`DynStruct`]'s codec.

use std::sync::Arc;

use bytes::Bytes;
use dynthrift_core::schema::Ty;
use dynthrift_core::wire::binary::{BinaryReader, BinaryWriter};
use dynthrift_core::wire::compact::{CompactReader, CompactWriter};
use dynthrift_core::wire::{ProtoRead, ProtoWrite, Protocol, enter};
use dynthrift_core::{Error, ErrorKind, Result, TType};
use dynthrift_interp::{DynSchema, DynStruct, Limits, Value};

/// A protocol reader that can also jump over raw bytes.
pub(crate) trait Reader<'a>: ProtoRead<'a> {
    /// Moves `n` bytes forward, or fails at the end of the input.
    fn advance(&mut self, n: usize) -> Result<()>;

    /// Size of one element of type `t` when it is fixed in this protocol.
    fn fixed_size(t: TType) -> Option<usize>;

    /// Skips `n` values of type `t`: one jump when their size is fixed.
    fn skip_n(&mut self, t: TType, n: usize, depth: u32) -> Result<()> {
        match Self::fixed_size(t) {
            Some(size) => self.advance(size.checked_mul(n).ok_or_else(|| {
                Error::decode(ErrorKind::LengthLimit, self.position(), "length overflow")
            })?),
            None => {
                for _ in 0..n {
                    self.skip_fast(t, depth)?;
                }
                Ok(())
            }
        }
    }

    /// [`ProtoRead::skip`], jumping over containers of fixed-size elements at once.
    fn skip_fast(&mut self, t: TType, depth: u32) -> Result<()> {
        match t {
            TType::Struct => {
                let depth = enter(depth, self.position())?;
                let saved = self.read_struct_begin();
                loop {
                    let (ft, _) = self.read_field_begin()?;
                    if ft == TType::Stop {
                        break;
                    }
                    self.skip_fast(ft, depth)?;
                }
                self.read_struct_end(saved);
                Ok(())
            }
            TType::List | TType::Set => {
                let depth = enter(depth, self.position())?;
                let (et, n) = self.read_list_begin()?;
                self.skip_n(et, n, depth)
            }
            TType::Map => {
                let depth = enter(depth, self.position())?;
                let (kt, vt, n) = self.read_map_begin()?;
                match (Self::fixed_size(kt), Self::fixed_size(vt)) {
                    (Some(k), Some(v)) => {
                        self.advance((k + v).checked_mul(n).ok_or_else(|| {
                            Error::decode(
                                ErrorKind::LengthLimit,
                                self.position(),
                                "length overflow",
                            )
                        })?)
                    }
                    _ => {
                        for _ in 0..n {
                            self.skip_fast(kt, depth)?;
                            self.skip_fast(vt, depth)?;
                        }
                        Ok(())
                    }
                }
            }
            _ => self.skip(t, depth),
        }
    }
}

impl<'a> Reader<'a> for BinaryReader<'a> {
    fn advance(&mut self, n: usize) -> Result<()> {
        self.read_raw(n).map(drop)
    }

    fn fixed_size(t: TType) -> Option<usize> {
        t.binary_fixed_size()
    }
}

impl<'a> Reader<'a> for CompactReader<'a> {
    fn advance(&mut self, n: usize) -> Result<()> {
        self.read_raw(n).map(drop)
    }

    fn fixed_size(t: TType) -> Option<usize> {
        // Elements of these types have a fixed size in Compact (bools are one byte each);
        // only used for elements, never for bool fields (whose value is in the header).
        match t {
            TType::Bool | TType::I8 => Some(1),
            TType::Double => Some(8),
            TType::Uuid => Some(16),
            _ => None,
        }
    }
}

/// Reads a value of type `ty` at the reader's position. A container whose wire element types
/// differ from the schema's is skipped and read as empty (as decoding does).
pub(crate) fn read_value<'a, R: Reader<'a>>(
    r: &mut R,
    bytes: &'a [u8],
    types: &Arc<DynSchema>,
    ty: &Ty,
    depth: u32,
) -> Result<Value> {
    Ok(match ty {
        Ty::Bool => Value::Bool(r.read_bool()?),
        Ty::I8 => Value::I8(r.read_i8()?),
        Ty::I16 => Value::I16(r.read_i16()?),
        Ty::I32 | Ty::Enum(_) => Value::I32(r.read_i32()?),
        Ty::I64 => Value::I64(r.read_i64()?),
        Ty::Double => Value::Double(r.read_double()?),
        Ty::Uuid => Value::Uuid(r.read_uuid()?),
        Ty::String => Value::String(r.read_string()?.to_owned()),
        Ty::Binary => Value::Binary(Bytes::copy_from_slice(r.read_binary()?)),
        Ty::List(e) | Ty::Set(e) => {
            let depth = enter(depth, r.position())?;
            let (t, n) = r.read_list_begin()?;
            let mut items = Vec::new();
            if t == e.ttype() {
                items.reserve(n.min(r.remaining()));
                for _ in 0..n {
                    items.push(read_value(r, bytes, types, e, depth)?);
                }
            } else {
                r.skip_n(t, n, depth)?;
            }
            if matches!(ty, Ty::List(_)) {
                Value::List(items)
            } else {
                Value::Set(items)
            }
        }
        Ty::Map(k, v) => {
            let depth = enter(depth, r.position())?;
            let (kt, vt, n) = r.read_map_begin()?;
            let mut entries = Vec::new();
            if n > 0 && (kt != k.ttype() || vt != v.ttype()) {
                for _ in 0..n {
                    r.skip(kt, depth)?;
                    r.skip(vt, depth)?;
                }
            } else {
                entries.reserve(n.min(r.remaining()));
                for _ in 0..n {
                    let key = read_value(r, bytes, types, k, depth)?;
                    let val = read_value(r, bytes, types, v, depth)?;
                    entries.push((key, val));
                }
            }
            Value::Map(entries)
        }
        Ty::Struct(id) => {
            let start = r.position();
            let mut s = DynStruct::new_by_id(types, *id)?;
            let limits = Limits {
                depth,
                ..Limits::default()
            };
            let used = s
                .decode_in(&bytes[start..], None, R::PROTOCOL, &limits)
                .map_err(|e| e.shift_offset(start))?;
            r.advance(used)?;
            Value::Struct(s)
        }
    })
}

/// The error for a value that does not fit `ty`.
pub(crate) fn type_error(types: &DynSchema, ty: &Ty, v: &Value) -> Error {
    Error::schema(format!(
        "expected a value of type {}, got {}",
        types.schema().type_name(ty),
        value_label(v)
    ))
}

/// A short name of a value's variant, for error messages.
pub(crate) fn value_label(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "a bool",
        Value::I8(_) => "an i8",
        Value::I16(_) => "an i16",
        Value::I32(_) => "an i32",
        Value::I64(_) => "an i64",
        Value::Double(_) => "a double",
        Value::String(_) => "a string",
        Value::Binary(_) => "a binary",
        Value::Uuid(_) => "a uuid",
        Value::Struct(_) => "a struct",
        Value::List(_) => "a list",
        Value::Set(_) => "a set",
        Value::Map(_) => "a map",
    }
}

/// Appends `v`, checked against `ty` (the same rules as `DynStruct::set`: exact scalar
/// variants, `I32` for enums, a string for a binary, structs of the same schema).
pub(crate) fn write_value(
    out: &mut Vec<u8>,
    protocol: Protocol,
    types: &Arc<DynSchema>,
    ty: &Ty,
    v: &Value,
) -> Result<()> {
    match protocol {
        Protocol::Binary => write_with(&mut BinaryWriter::new(out), protocol, types, ty, v),
        Protocol::Compact => write_with(&mut CompactWriter::new(out), protocol, types, ty, v),
    }
}

fn write_with<W: ProtoWrite>(
    w: &mut W,
    protocol: Protocol,
    types: &Arc<DynSchema>,
    ty: &Ty,
    v: &Value,
) -> Result<()> {
    match (ty, v) {
        (Ty::Bool, Value::Bool(b)) => w.write_bool(*b),
        (Ty::I8, Value::I8(x)) => w.write_i8(*x),
        (Ty::I16, Value::I16(x)) => w.write_i16(*x),
        (Ty::I32 | Ty::Enum(_), Value::I32(x)) => w.write_i32(*x),
        (Ty::I64, Value::I64(x)) => w.write_i64(*x),
        (Ty::Double, Value::Double(x)) => w.write_double(*x),
        (Ty::Uuid, Value::Uuid(x)) => w.write_uuid(x),
        (Ty::String, Value::String(s)) => w.write_string(s)?,
        (Ty::Binary, Value::Binary(b)) => w.write_binary(b)?,
        (Ty::Binary, Value::String(s)) => w.write_binary(s.as_bytes())?,
        (Ty::List(e), Value::List(items))
        | (Ty::Set(e), Value::Set(items) | Value::List(items)) => {
            if matches!(ty, Ty::List(_)) {
                w.write_list_begin(e.ttype(), items.len())?;
            } else {
                w.write_set_begin(e.ttype(), items.len())?;
            }
            for item in items {
                write_with(w, protocol, types, e, item)?;
            }
        }
        (Ty::Map(k, vt), Value::Map(entries)) => {
            w.write_map_begin(k.ttype(), vt.ttype(), entries.len())?;
            for (key, val) in entries {
                write_with(w, protocol, types, k, key)?;
                write_with(w, protocol, types, vt, val)?;
            }
        }
        (Ty::Struct(id), Value::Struct(s)) => {
            let same = Arc::ptr_eq(s.types(), types) || s.types().schema() == types.schema();
            if !same || s.struct_id() != *id {
                return Err(Error::schema(format!(
                    "expected a {} of the path's schema, got a {}",
                    types.schema().struct_def(*id).name,
                    s.name()
                )));
            }
            let mut tmp = Vec::new();
            s.encode_into(&mut tmp, protocol, &Limits::default())?;
            w.write_raw(&tmp);
        }
        _ => return Err(type_error(types, ty, v)),
    }
    Ok(())
}
