//! The API of IDL-only values: [`DynSchema`] (a schema with its plan), [`DynStruct`] (an
//! owned record of one of its structs, read and written by field name or id) and [`Value`]
//! (an owned value of any Thrift type, for getting and setting fields).

use std::fmt;
use std::ptr::NonNull;
use std::sync::Arc;

use bytes::Bytes;
use dynthrift_core::schema::{Schema, StructId};
use dynthrift_core::wire::binary::{BinaryReader, BinarySizer, BinaryWriter};
use dynthrift_core::wire::compact::{CompactReader, CompactSizer, CompactWriter};
use dynthrift_core::wire::{ProtoRead, Protocol};
use dynthrift_core::{Error, ErrorKind, Result};

use crate::dynamic::{self, RawMap, RawVec};
use crate::plan::{MapRepr, Node, Plan, Presence, SeqRepr, SetRepr};
use crate::run::{self, Limits};

/// A schema ready for IDL-only values: the resolved IDL and the plan of every struct in it.
#[derive(Debug)]
pub struct DynSchema {
    schema: Schema,
    plan: Plan,
}

impl DynSchema {
    pub fn new(schema: Schema) -> Result<Arc<DynSchema>> {
        let plan = Plan::for_schema(&schema)?;
        Ok(Arc::new(DynSchema { schema, plan }))
    }

    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    pub fn plan(&self) -> &Plan {
        &self.plan
    }
}

/// An owned value of any Thrift type.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    I8(i8),
    I16(i16),
    /// Also the value of an enum.
    I32(i32),
    I64(i64),
    Double(f64),
    String(String),
    Binary(Bytes),
    Uuid([u8; 16]),
    Struct(DynStruct),
    List(Vec<Value>),
    Set(Vec<Value>),
    /// Entries in wire order.
    Map(Vec<(Value, Value)>),
}

macro_rules! value_from {
    ($($t:ty => $v:ident),*) => {$(
        impl From<$t> for Value {
            fn from(x: $t) -> Value { Value::$v(x.into()) }
        }
    )*};
}
value_from!(bool => Bool, i8 => I8, i16 => I16, i32 => I32, i64 => I64, f64 => Double, String => String,
    &str => String, Bytes => Binary, Vec<u8> => Binary, DynStruct => Struct);

/// An IDL-only struct value: a record laid out from the schema, owned by this handle.
pub struct DynStruct {
    types: Arc<DynSchema>,
    si: usize,
    rec: NonNull<u8>,
}

// SAFETY: a record is plain owned data (scalars, `String`, `Bytes`, raw vectors and records it
// owns exclusively); nothing in it is shared or thread-bound.
unsafe impl Send for DynStruct {}
// SAFETY: `&DynStruct` only allows reads.
unsafe impl Sync for DynStruct {}

impl Drop for DynStruct {
    fn drop(&mut self) {
        // SAFETY: `rec` is a live record of `si`, owned by this handle alone.
        unsafe { dynamic::free_record(&self.types.plan, self.si, self.rec.as_ptr()) }
    }
}

fn field_error(name: &str, what: &str) -> Error {
    Error::schema(format!("{what} '{name}'"))
}

impl DynStruct {
    /// A new value of the struct named `name` (`Name` or `file.Name`), fields at their defaults.
    pub fn new(types: &Arc<DynSchema>, name: &str) -> Result<DynStruct> {
        let id = types.schema.expect_struct(name)?;
        DynStruct::new_by_id(types, id)
    }

    pub fn new_by_id(types: &Arc<DynSchema>, id: StructId) -> Result<DynStruct> {
        let si = id.0 as usize;
        if si >= types.plan.structs.len() {
            return Err(Error::schema(format!("no struct with id {}", id.0)));
        }
        let rec = dynamic::new_record(&types.plan, si)?;
        Ok(DynStruct {
            types: types.clone(),
            si,
            rec: NonNull::new(rec).ok_or_else(|| Error::schema("null record"))?,
        })
    }

    /// Decodes a value of the struct named `name` that fills `bytes`.
    pub fn decode(
        types: &Arc<DynSchema>,
        name: &str,
        bytes: &[u8],
        protocol: Protocol,
    ) -> Result<DynStruct> {
        DynStruct::decode_with(types, name, bytes, None, protocol, &Limits::default())
    }

    /// Decodes with a source `Bytes` (binary fields share it) and limits.
    pub fn decode_with(
        types: &Arc<DynSchema>,
        name: &str,
        bytes: &[u8],
        source: Option<&Bytes>,
        protocol: Protocol,
        limits: &Limits,
    ) -> Result<DynStruct> {
        let mut v = DynStruct::new(types, name)?;
        let used = v.decode_in(bytes, source, protocol, limits)?;
        if used != bytes.len() {
            return Err(Error::decode(
                ErrorKind::InvalidData,
                used,
                format!("{} bytes after the end of the struct", bytes.len() - used),
            ));
        }
        Ok(v)
    }

    /// Decodes into this value (fields on the wire replace its fields); returns bytes used.
    pub fn decode_in(
        &mut self,
        bytes: &[u8],
        source: Option<&Bytes>,
        protocol: Protocol,
        limits: &Limits,
    ) -> Result<usize> {
        fn go<'a, R: ProtoRead<'a>>(
            v: &mut DynStruct,
            mut r: R,
            bytes: &'a [u8],
            source: Option<&'a Bytes>,
            limits: &Limits,
        ) -> Result<usize> {
            // SAFETY: `rec` is a live record of `si` of this plan, exclusively borrowed.
            unsafe {
                run::decode(
                    &v.types.plan,
                    v.si,
                    v.rec.as_ptr(),
                    &mut r,
                    bytes,
                    source,
                    limits,
                )?
            };
            Ok(r.position())
        }
        match protocol {
            Protocol::Binary => go(self, BinaryReader::new(bytes), bytes, source, limits),
            Protocol::Compact => go(self, CompactReader::new(bytes), bytes, source, limits),
        }
    }

    /// Appends the encoding of this value to `out`.
    pub fn encode_into(
        &self,
        out: &mut Vec<u8>,
        protocol: Protocol,
        limits: &Limits,
    ) -> Result<()> {
        let plan = &self.types.plan;
        let p = self.rec.as_ptr() as *const u8;
        // SAFETY: `rec` is a live record of `si` of this plan.
        unsafe {
            match protocol {
                Protocol::Binary => {
                    run::encode(plan, self.si, p, &mut BinaryWriter::new(out), limits)
                }
                Protocol::Compact => {
                    run::encode(plan, self.si, p, &mut CompactWriter::new(out), limits)
                }
            }
        }
    }

    pub fn encode(&self, protocol: Protocol) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(self.encoded_len(protocol)?);
        self.encode_into(&mut out, protocol, &Limits::default())?;
        Ok(out)
    }

    pub fn encoded_len(&self, protocol: Protocol) -> Result<usize> {
        self.encoded_len_with(protocol, &Limits::default())
    }

    /// Exactly the length of [`DynStruct::encode_into`]'s output with these limits.
    pub fn encoded_len_with(&self, protocol: Protocol, limits: &Limits) -> Result<usize> {
        let plan = &self.types.plan;
        let p = self.rec.as_ptr() as *const u8;
        // SAFETY: `rec` is a live record of `si` of this plan.
        unsafe {
            match protocol {
                Protocol::Binary => {
                    let mut s = BinarySizer::new();
                    run::encode(plan, self.si, p, &mut s, limits)?;
                    Ok(s.len)
                }
                Protocol::Compact => {
                    let mut s = CompactSizer::new();
                    run::encode(plan, self.si, p, &mut s, limits)?;
                    Ok(s.len)
                }
            }
        }
    }

    /// The record this handle owns, for backends (the JIT) that read it through the plan.
    #[doc(hidden)]
    pub fn record_ptr(&self) -> *const u8 {
        self.rec.as_ptr()
    }

    /// The record this handle owns, for backends that decode into it through the plan.
    #[doc(hidden)]
    pub fn record_mut_ptr(&mut self) -> *mut u8 {
        self.rec.as_ptr()
    }

    pub fn types(&self) -> &Arc<DynSchema> {
        &self.types
    }

    pub fn struct_id(&self) -> StructId {
        StructId(self.si as u32)
    }

    /// The struct's name.
    pub fn name(&self) -> &str {
        &self.types.plan.structs[self.si].name
    }

    fn index_of(&self, name: &str) -> Result<usize> {
        let s = &self.types.plan.structs[self.si];
        s.fields
            .iter()
            .position(|f| &*f.name == name)
            .ok_or_else(|| field_error(name, &format!("{} has no field", s.name)))
    }

    fn index_of_id(&self, id: i16) -> Result<usize> {
        let s = &self.types.plan.structs[self.si];
        s.lookup
            .find(id)
            .ok_or_else(|| Error::schema(format!("{} has no field with id {id}", s.name)))
    }

    fn is_set_at(&self, i: usize) -> bool {
        let f = &self.types.plan.structs[self.si].fields[i];
        let Presence::Bit(b) = f.presence else {
            return false;
        };
        // SAFETY: `rec` is a live record with field `i`.
        let on = unsafe { dynamic::bit(self.rec.as_ptr(), b) };
        // SAFETY: a record slot holds a pointer (checked by the match).
        on && !matches!(f.node, Node::Record(_) if unsafe { (*(self.rec.as_ptr().add(f.offset) as *const *const u8)).is_null() })
    }

    /// Whether the field is present (it will be written).
    pub fn is_set(&self, name: &str) -> bool {
        self.index_of(name)
            .map(|i| self.is_set_at(i))
            .unwrap_or(false)
    }

    /// A copy of a field's value; `None` when it is absent; an error for an unknown name.
    pub fn get(&self, name: &str) -> Result<Option<Value>> {
        self.get_at(self.index_of(name)?)
    }

    pub fn get_by_id(&self, id: i16) -> Result<Option<Value>> {
        self.get_at(self.index_of_id(id)?)
    }

    fn get_at(&self, i: usize) -> Result<Option<Value>> {
        if !self.is_set_at(i) {
            return Ok(None);
        }
        let f = &self.types.plan.structs[self.si].fields[i];
        // SAFETY: the slot holds a live value of the field's node.
        unsafe { read_value(&self.types, &f.node, self.rec.as_ptr().add(f.offset)) }.map(Some)
    }

    /// Sets a field (type-checked against the schema) and marks it present.
    pub fn set(&mut self, name: &str, value: impl Into<Value>) -> Result<()> {
        let i = self.index_of(name)?;
        self.set_at(i, value.into())
    }

    pub fn set_by_id(&mut self, id: i16, value: impl Into<Value>) -> Result<()> {
        let i = self.index_of_id(id)?;
        self.set_at(i, value.into())
    }

    fn set_at(&mut self, i: usize, value: Value) -> Result<()> {
        let types = self.types.clone();
        let s = &types.plan.structs[self.si];
        let f = &s.fields[i];
        // SAFETY: the slot holds a live value of the field's node, exclusively ours.
        unsafe {
            let slot = self.rec.as_ptr().add(f.offset);
            let new = build_value(&types, &f.node, value).map_err(|e| e.in_field(&f.name))?;
            dynamic::drop_value(&types.plan, &f.node, slot);
            std::ptr::copy_nonoverlapping(new.as_ptr(), slot, new.len());
            if let Presence::Bit(b) = f.presence {
                dynamic::set_bit(self.rec.as_ptr(), b, true);
            }
            if s.kind == dynthrift_core::schema::StructKind::Union {
                // A union holds one field: setting one unsets the others.
                for (j, g) in s.fields.iter().enumerate() {
                    if j != i
                        && let Presence::Bit(b) = g.presence
                    {
                        dynamic::set_bit(self.rec.as_ptr(), b, false);
                    }
                }
            }
        }
        Ok(())
    }

    /// Marks a field absent (it will not be written).
    pub fn unset(&mut self, name: &str) -> Result<()> {
        let i = self.index_of(name)?;
        let f = &self.types.plan.structs[self.si].fields[i];
        if let Presence::Bit(b) = f.presence {
            // SAFETY: `rec` is a live record with field `i`, exclusively ours.
            unsafe { dynamic::set_bit(self.rec.as_ptr(), b, false) };
        }
        Ok(())
    }

    /// Present fields as `(name, value)`, in declaration order.
    pub fn fields(&self) -> Result<Vec<(&str, Value)>> {
        let s = &self.types.plan.structs[self.si];
        let mut out = Vec::new();
        for i in 0..s.fields.len() {
            if let Some(v) = self.get_at(i)? {
                out.push((&*s.fields[i].name, v));
            }
        }
        Ok(out)
    }
}

impl DynStruct {
    /// A deep copy.
    pub fn try_clone(&self) -> Result<DynStruct> {
        // SAFETY: `rec` is a live record of `si`.
        let rec = unsafe { dynamic::clone_record(&self.types.plan, self.si, self.rec.as_ptr()) }?;
        Ok(DynStruct {
            types: self.types.clone(),
            si: self.si,
            rec: NonNull::new(rec).ok_or_else(|| Error::schema("null record"))?,
        })
    }
}

impl Clone for DynStruct {
    /// A deep copy. Aborts like any allocation failure if memory runs out.
    fn clone(&self) -> DynStruct {
        match self.try_clone() {
            Ok(v) => v,
            // `try_clone` only fails when a container is too large for the address space,
            // which the original's existence rules out.
            Err(_) => std::alloc::handle_alloc_error(std::alloc::Layout::new::<DynStruct>()),
        }
    }
}

impl PartialEq for DynStruct {
    fn eq(&self, other: &DynStruct) -> bool {
        Arc::ptr_eq(&self.types, &other.types)
            && self.si == other.si
            && matches!((self.fields(), other.fields()), (Ok(a), Ok(b)) if a == b)
    }
}

impl fmt::Debug for DynStruct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct(self.name());
        match self.fields() {
            Ok(fields) => {
                for (name, v) in fields {
                    d.field(name, &v);
                }
            }
            Err(e) => {
                d.field("<error>", &e.to_string());
            }
        }
        d.finish()
    }
}

/// Copies the value at `p` out as a [`Value`].
///
/// # Safety
/// `p` holds a live value of `node`'s record representation.
unsafe fn read_value(types: &Arc<DynSchema>, node: &Node, p: *const u8) -> Result<Value> {
    // SAFETY: `p` holds a value of `node`'s representation (see `dynamic`).
    Ok(unsafe {
        match node {
            Node::Bool => Value::Bool(*(p as *const bool)),
            Node::I8 => Value::I8(*(p as *const i8)),
            Node::I16 => Value::I16(*(p as *const i16)),
            Node::I32 | Node::Enum(_) => Value::I32(*(p as *const i32)),
            Node::I64 => Value::I64(*(p as *const i64)),
            Node::Double => Value::Double(*(p as *const f64)),
            Node::Uuid => Value::Uuid(*(p as *const [u8; 16])),
            Node::String(_) => Value::String((*(p as *const String)).clone()),
            Node::Binary(_) => Value::Binary((*(p as *const Bytes)).clone()),
            Node::Record(si) => {
                let rec = *(p as *const *mut u8);
                let copy = if rec.is_null() {
                    // Left by a decode that failed half-way: the struct's empty value.
                    dynamic::new_record(&types.plan, *si)?
                } else {
                    dynamic::clone_record(&types.plan, *si, rec)?
                };
                let rec = NonNull::new(copy).ok_or_else(|| Error::schema("null record"))?;
                Value::Struct(DynStruct {
                    types: types.clone(),
                    si: *si,
                    rec,
                })
            }
            Node::List(elem, SeqRepr::Raw(el)) | Node::Set(elem, SetRepr::Raw(el)) => {
                let v = &*(p as *const RawVec);
                let items = (0..v.len)
                    .map(|i| read_value(types, elem, v.ptr.add(i * el.size)))
                    .collect::<Result<_>>()?;
                if matches!(node, Node::List(..)) {
                    Value::List(items)
                } else {
                    Value::Set(items)
                }
            }
            Node::Map(k, v, MapRepr::Raw { key, value }) => {
                let m = &*(p as *const RawMap);
                Value::Map(
                    (0..m.keys.len)
                        .map(|i| {
                            Ok((
                                read_value(types, k, m.keys.ptr.add(i * key.size))?,
                                read_value(types, v, m.values.ptr.add(i * value.size))?,
                            ))
                        })
                        .collect::<Result<_>>()?,
                )
            }
            _ => {
                return Err(Error::schema(
                    "a derived representation inside an IDL-only record",
                ));
            }
        }
    })
}

/// A slot's bytes holding `value` converted to `node`'s representation (ownership moves into
/// the returned bytes; the caller copies them into the slot).
fn build_value(types: &Arc<DynSchema>, node: &Node, value: Value) -> Result<SlotBuf> {
    let el = dynamic::node_layout(node);
    let mut buf = SlotBuf::new(el.size);
    let p = buf.as_mut_ptr();
    let mismatch = |v: &Value| {
        Error::schema(format!(
            "expected a value of type {}, got {}",
            type_label(node),
            value_label(v)
        ))
    };
    // SAFETY: `buf` is an aligned buffer of the node's size; each arm writes one value of the
    // node's representation into it, and nothing else owns that value.
    unsafe {
        match (node, value) {
            (Node::Bool, Value::Bool(b)) => (p as *mut bool).write(b),
            (Node::I8, Value::I8(x)) => (p as *mut i8).write(x),
            (Node::I16, Value::I16(x)) => (p as *mut i16).write(x),
            (Node::I32 | Node::Enum(_), Value::I32(x)) => (p as *mut i32).write(x),
            (Node::I64, Value::I64(x)) => (p as *mut i64).write(x),
            (Node::Double, Value::Double(x)) => (p as *mut f64).write(x),
            (Node::Uuid, Value::Uuid(x)) => (p as *mut [u8; 16]).write(x),
            (Node::String(_), Value::String(s)) => (p as *mut String).write(s),
            (Node::Binary(_), Value::Binary(b)) => (p as *mut Bytes).write(b),
            (Node::Binary(_), Value::String(s)) => (p as *mut Bytes).write(Bytes::from(s)),
            (Node::Record(si), Value::Struct(s)) => {
                if !Arc::ptr_eq(&s.types, types) || s.si != *si {
                    return Err(Error::schema(format!(
                        "expected a {} from the same schema, got a {}",
                        types.plan.structs[*si].name,
                        s.name()
                    )));
                }
                let s = std::mem::ManuallyDrop::new(s);
                (p as *mut *mut u8).write(s.rec.as_ptr());
                // The record now belongs to the slot; release the handle's schema reference.
                drop(std::ptr::read(&s.types));
            }
            (Node::List(elem, SeqRepr::Raw(el)), Value::List(items))
            | (Node::Set(elem, SetRepr::Raw(el)), Value::Set(items) | Value::List(items)) => {
                (p as *mut RawVec).write(RawVec {
                    ptr: std::ptr::null_mut(),
                    len: 0,
                    cap: 0,
                });
                let v = p as *mut RawVec;
                let res = fill_raw(types, v, elem, *el, items);
                if let Err(e) = res {
                    dynamic::drop_value(&types.plan, node, p);
                    return Err(e);
                }
            }
            (Node::Map(k, v, MapRepr::Raw { key, value }), Value::Map(entries)) => {
                let m = p as *mut RawMap;
                m.write(RawMap {
                    keys: RawVec {
                        ptr: std::ptr::null_mut(),
                        len: 0,
                        cap: 0,
                    },
                    values: RawVec {
                        ptr: std::ptr::null_mut(),
                        len: 0,
                        cap: 0,
                    },
                });
                let (ks, vs): (Vec<Value>, Vec<Value>) = entries.into_iter().unzip();
                let res = fill_raw(types, &raw mut (*m).keys, k, *key, ks)
                    .and_then(|()| fill_raw(types, &raw mut (*m).values, v, *value, vs));
                if let Err(e) = res {
                    dynamic::drop_value(&types.plan, node, p);
                    return Err(e);
                }
            }
            (_, v) => return Err(mismatch(&v)),
        }
    }
    Ok(buf)
}

/// # Safety
/// `v` is a live, empty raw vector of `elem` values.
unsafe fn fill_raw(
    types: &Arc<DynSchema>,
    v: *mut RawVec,
    elem: &Node,
    el: crate::plan::ElemLayout,
    items: Vec<Value>,
) -> Result<()> {
    // SAFETY: forwarded contract; each pushed slot is overwritten with a built value after its
    // empty value is dropped.
    unsafe {
        dynamic::raw_clear_reserve(&types.plan, v, elem, el, items.len())?;
        for (i, item) in items.into_iter().enumerate() {
            let built = build_value(types, elem, item).map_err(|e| e.at_index(i))?;
            let slot = dynamic::raw_push_empty(v, elem, el)?;
            dynamic::drop_value(&types.plan, elem, slot);
            std::ptr::copy_nonoverlapping(built.as_ptr(), slot, built.len());
        }
    }
    Ok(())
}

fn type_label(node: &Node) -> &'static str {
    match node {
        Node::Bool => "bool",
        Node::I8 => "i8",
        Node::I16 => "i16",
        Node::I32 => "i32",
        Node::Enum(_) => "enum (i32)",
        Node::I64 => "i64",
        Node::Double => "double",
        Node::Uuid => "uuid",
        Node::String(_) => "string",
        Node::Binary(_) => "binary",
        Node::Struct(_) | Node::Record(_) => "struct",
        Node::List(..) => "list",
        Node::Set(..) => "set",
        Node::Map(..) => "map",
        Node::Boxed(..) => "box",
    }
}

fn value_label(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "bool",
        Value::I8(_) => "i8",
        Value::I16(_) => "i16",
        Value::I32(_) => "i32",
        Value::I64(_) => "i64",
        Value::Double(_) => "double",
        Value::String(_) => "string",
        Value::Binary(_) => "binary",
        Value::Uuid(_) => "uuid",
        Value::Struct(_) => "struct",
        Value::List(_) => "list",
        Value::Set(_) => "set",
        Value::Map(_) => "map",
    }
}

/// An 8-byte-aligned buffer holding one slot's value in transit (its ownership is moved out
/// by a bitwise copy; the buffer itself never drops what it holds).
struct SlotBuf {
    words: Vec<u64>,
    len: usize,
}

impl SlotBuf {
    fn new(len: usize) -> SlotBuf {
        SlotBuf {
            words: vec![0; len.div_ceil(8).max(1)],
            len,
        }
    }
    fn as_mut_ptr(&mut self) -> *mut u8 {
        self.words.as_mut_ptr() as *mut u8
    }
    fn as_ptr(&self) -> *const u8 {
        self.words.as_ptr() as *const u8
    }
    fn len(&self) -> usize {
        self.len
    }
}
