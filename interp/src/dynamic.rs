//! IDL-only values in memory: records whose field slots sit at offsets computed from the
//! schema, so that backends address them exactly like derived Rust structs.
//!
//! A record is one allocation: a presence bitmap (one bit per field, at offset 0), then one
//! slot per field. Slot host types are fixed: scalars inline, `i32` for enums (any value),
//! `String`, `bytes::Bytes`, a nullable pointer to another record for structs, a [`RawVec`]
//! for lists and sets, a [`RawMap`] (keys and values in two raw vectors, wire order) for maps.
//! The plan of a schema holds every struct of the schema, at the index of its `StructId`.

use std::alloc::{self, Layout};

use bytes::Bytes;
use dynthrift_core::desc::{BinRepr, StrRepr};
use dynthrift_core::schema::{ConstValue, Requiredness, Schema, StructKind, Ty};
use dynthrift_core::wire::binary::{BinaryReader, BinaryWriter};
use dynthrift_core::wire::{ProtoRead, ProtoWrite};
use dynthrift_core::{Error, Result};

use crate::plan::{
    ElemLayout, EnumRepr, FieldPlan, MapRepr, Node, Plan, Presence, RecordLayout, SeqRepr, SetRepr,
    StructPlan,
};
use crate::run::{self, Limits};

/// A growable array of elements whose layout the plan knows (`len` initialised elements).
#[repr(C)]
#[derive(Debug)]
pub struct RawVec {
    pub ptr: *mut u8,
    pub len: usize,
    pub cap: usize,
}

/// A map as two raw vectors of equal length.
#[repr(C)]
#[derive(Debug)]
pub struct RawMap {
    pub keys: RawVec,
    pub values: RawVec,
}

/// Host layout of a node inside a record or raw vector.
pub fn node_layout(node: &Node) -> ElemLayout {
    let (size, align) = match node {
        Node::Bool | Node::I8 => (1, 1),
        Node::I16 => (2, 2),
        Node::I32 | Node::Enum(_) => (4, 4),
        Node::I64 | Node::Double => (8, 8),
        Node::Uuid => (16, 1),
        Node::String(_) => (size_of::<String>(), align_of::<String>()),
        Node::Binary(_) => (size_of::<Bytes>(), align_of::<Bytes>()),
        Node::Record(_) => (size_of::<*mut u8>(), align_of::<*mut u8>()),
        Node::List(..) | Node::Set(..) => (size_of::<RawVec>(), align_of::<RawVec>()),
        Node::Map(..) => (size_of::<RawMap>(), align_of::<RawMap>()),
        // Not used in records; a derived value never lives in one.
        Node::Struct(_) | Node::Boxed(..) => (0, 1),
    };
    ElemLayout { size, align }
}

/// Bytes of presence bitmap for `n` fields (whole `u64` words).
pub fn bitmap_size(n: usize) -> usize {
    n.div_ceil(64) * 8
}

/// Whether bit `n` of the record at `rec` is set.
///
/// # Safety
/// `rec` points to a live record with more than `n` fields.
#[inline]
pub unsafe fn bit(rec: *const u8, n: u32) -> bool {
    // SAFETY: the bitmap is at offset 0, in aligned u64 words, and covers bit `n`.
    let word = unsafe { *(rec as *const u64).add((n / 64) as usize) };
    word & (1 << (n % 64)) != 0
}

/// Sets or clears bit `n` of the record at `rec`.
///
/// # Safety
/// `rec` points to a live record with more than `n` fields, exclusively.
#[inline]
pub unsafe fn set_bit(rec: *mut u8, n: u32, on: bool) {
    // SAFETY: as for `bit`, with exclusive access.
    let word = unsafe { &mut *(rec as *mut u64).add((n / 64) as usize) };
    if on {
        *word |= 1 << (n % 64);
    } else {
        *word &= !(1 << (n % 64));
    }
}

fn record_layout(s: &StructPlan) -> Result<Layout> {
    let rl = s
        .record
        .as_ref()
        .ok_or_else(|| Error::schema(format!("'{}' is not an IDL-only record", s.name)))?;
    Layout::from_size_align(rl.size, rl.align).map_err(|_| Error::schema("record too large"))
}

/// Writes the empty value of `node` into uninitialised memory at `p`.
///
/// # Safety
/// `p` is valid for writes of `node`'s host layout and aligned for it.
unsafe fn write_empty(node: &Node, p: *mut u8) {
    let el = node_layout(node);
    // SAFETY: the caller gives room for `el.size` bytes; all-zero is the empty value of every
    // slot type except `String` and `Bytes`, which are written properly below.
    unsafe {
        std::ptr::write_bytes(p, 0, el.size);
        match node {
            Node::String(_) => (p as *mut String).write(String::new()),
            Node::Binary(_) => (p as *mut Bytes).write(Bytes::new()),
            _ => {}
        }
    }
}

/// A new record of struct `si`: fields at their zero values, IDL defaults applied; fields of
/// default requiredness are present, optional and required ones absent.
/// The result is a raw allocation that the caller must free with [`free_record`] (or own
/// through a handle that does).
pub fn new_record(plan: &Plan, si: usize) -> Result<*mut u8> {
    let s = &plan.structs[si];
    let layout = record_layout(s)?;
    // SAFETY: the layout is non-zero-sized (it holds at least the bitmap word).
    let rec = unsafe { alloc::alloc(layout) };
    if rec.is_null() {
        alloc::handle_alloc_error(layout);
    }
    // SAFETY: `rec` is a fresh allocation of the record's layout; each slot is in bounds.
    unsafe {
        std::ptr::write_bytes(rec, 0, bitmap_size(s.fields.len()));
        for (i, f) in s.fields.iter().enumerate() {
            write_empty(&f.node, rec.add(f.offset));
            let present = f.req == Requiredness::Default
                && !matches!(f.node, Node::Record(_))
                && s.kind != StructKind::Union;
            set_bit(rec, i as u32, present);
        }
    }
    let defaults = &s
        .record
        .as_ref()
        .map(|r| r.defaults.as_slice())
        .unwrap_or_default();
    if !defaults.is_empty() {
        let mut r = BinaryReader::new(defaults);
        // Defaults cover some fields only: required ones may be absent until set.
        // SAFETY: `rec` is a live record of `si`, exclusively ours.
        let filled =
            unsafe { run::decode_partial(plan, si, rec, &mut r, defaults, &Limits::default()) };
        if let Err(e) = filled {
            // SAFETY: `rec` is a live record of `si` that nothing else refers to.
            unsafe { free_record(plan, si, rec) };
            return Err(Error::schema(format!(
                "default values of '{}' do not decode: {e}",
                s.name
            )));
        }
    }
    Ok(rec)
}

/// Drops every slot of the record at `rec` and frees it.
///
/// # Safety
/// `rec` is a live record of struct `si` made by [`new_record`], not used afterwards.
pub unsafe fn free_record(plan: &Plan, si: usize, rec: *mut u8) {
    let s = &plan.structs[si];
    // SAFETY: each slot holds a live value of its node; the layout is the allocation's.
    unsafe {
        for f in &s.fields {
            drop_value(plan, &f.node, rec.add(f.offset));
        }
        if let Ok(layout) = record_layout(s) {
            alloc::dealloc(rec, layout);
        }
    }
}

/// Drops the value of `node` at `p` in place (the slot itself is not freed).
///
/// # Safety
/// `p` holds a live value of `node`'s representation, not used afterwards.
pub unsafe fn drop_value(plan: &Plan, node: &Node, p: *mut u8) {
    // SAFETY: `p` holds a live value of `node`'s host representation.
    unsafe {
        match node {
            Node::String(_) => std::ptr::drop_in_place(p as *mut String),
            Node::Binary(_) => std::ptr::drop_in_place(p as *mut Bytes),
            Node::Record(si) => {
                let rec = *(p as *mut *mut u8);
                if !rec.is_null() {
                    free_record(plan, *si, rec);
                }
            }
            Node::List(elem, SeqRepr::Raw(el)) | Node::Set(elem, SetRepr::Raw(el)) => {
                raw_free(plan, p as *mut RawVec, elem, *el);
            }
            Node::Map(k, v, MapRepr::Raw { key, value }) => {
                let m = p as *mut RawMap;
                raw_free(plan, &raw mut (*m).keys, k, *key);
                raw_free(plan, &raw mut (*m).values, v, *value);
            }
            _ => {}
        }
    }
}

/// # Safety
/// `v` is a live raw vector of `elem` values, not used afterwards.
unsafe fn raw_free(plan: &Plan, v: *mut RawVec, elem: &Node, el: ElemLayout) {
    // SAFETY: `len` elements are initialised; the buffer was allocated with `cap` elements.
    unsafe {
        raw_truncate(plan, v, elem, el);
        let v = &mut *v;
        if v.cap != 0
            && let Ok(layout) = Layout::from_size_align(v.cap * el.size, el.align)
        {
            alloc::dealloc(v.ptr, layout);
        }
        v.ptr = std::ptr::null_mut();
        v.cap = 0;
    }
}

/// Drops all elements, keeping the buffer.
///
/// # Safety
/// `v` is a live raw vector of `elem` values, exclusively.
unsafe fn raw_truncate(plan: &Plan, v: *mut RawVec, elem: &Node, el: ElemLayout) {
    // SAFETY: elements `0..len` are initialised values of `elem`.
    unsafe {
        let v = &mut *v;
        let len = std::mem::take(&mut v.len);
        if needs_drop(elem) {
            for i in 0..len {
                drop_value(plan, elem, v.ptr.add(i * el.size));
            }
        }
    }
}

fn needs_drop(node: &Node) -> bool {
    !matches!(
        node,
        Node::Bool
            | Node::I8
            | Node::I16
            | Node::I32
            | Node::I64
            | Node::Double
            | Node::Uuid
            | Node::Enum(_)
    )
}

/// Drops the elements and makes room for `n` (raw vectors in decode).
///
/// # Safety
/// `v` is a live raw vector of `elem` values, exclusively.
pub unsafe fn raw_clear_reserve(
    plan: &Plan,
    v: *mut RawVec,
    elem: &Node,
    el: ElemLayout,
    n: usize,
) -> Result<()> {
    // SAFETY: forwarded contract.
    unsafe {
        raw_truncate(plan, v, elem, el);
        raw_grow(&mut *v, el, n)
    }
}

fn raw_grow(v: &mut RawVec, el: ElemLayout, want: usize) -> Result<()> {
    if want <= v.cap {
        return Ok(());
    }
    let new_layout =
        Layout::from_size_align(want.checked_mul(el.size).ok_or_else(too_big)?, el.align)
            .map_err(|_| too_big())?;
    let ptr = if v.cap == 0 {
        // SAFETY: `want > 0` and element sizes are non-zero, so the layout is non-empty.
        unsafe { alloc::alloc(new_layout) }
    } else {
        let old = Layout::from_size_align(v.cap * el.size, el.align).map_err(|_| too_big())?;
        // SAFETY: `v.ptr` was allocated with `old`; the new size is non-zero.
        unsafe { alloc::realloc(v.ptr, old, new_layout.size()) }
    };
    if ptr.is_null() {
        alloc::handle_alloc_error(new_layout);
    }
    v.ptr = ptr;
    v.cap = want;
    Ok(())
}

#[cold]
fn too_big() -> Error {
    Error::schema("container too large for memory")
}

/// Appends an empty element and returns a pointer to it.
///
/// # Safety
/// `v` is a live raw vector of `elem` values, exclusively.
pub unsafe fn raw_push_empty(v: *mut RawVec, elem: &Node, el: ElemLayout) -> Result<*mut u8> {
    // SAFETY: forwarded contract; the new element is inside the (grown) capacity.
    unsafe {
        let v = &mut *v;
        if v.len == v.cap {
            raw_grow(v, el, (v.cap * 2).max(4))?;
        }
        let p = v.ptr.add(v.len * el.size);
        write_empty(elem, p);
        v.len += 1;
        Ok(p)
    }
}

/// An empty record, freed on drop (what an unset nested struct encodes as).
#[derive(Debug)]
pub struct EmptyRecord<'p> {
    plan: &'p Plan,
    si: usize,
    rec: *mut u8,
}

impl<'p> EmptyRecord<'p> {
    pub fn new(plan: &'p Plan, si: usize) -> Result<EmptyRecord<'p>> {
        Ok(EmptyRecord {
            plan,
            si,
            rec: new_record(plan, si)?,
        })
    }

    pub fn ptr(&self) -> *const u8 {
        self.rec
    }
}

impl Drop for EmptyRecord<'_> {
    fn drop(&mut self) {
        // SAFETY: `rec` came from `new_record` for `si` and is used by nothing else.
        unsafe { free_record(self.plan, self.si, self.rec) }
    }
}

// ---------------------------------------------------------------------------------------------
// Plans from a schema

impl Plan {
    /// The plan of every struct in `schema`, at the index of its `StructId`.
    pub fn for_schema(schema: &Schema) -> Result<Plan> {
        let mut structs = Vec::with_capacity(schema.structs.len());
        for def in &schema.structs {
            let mut fields = Vec::with_capacity(def.fields.len());
            let mut offset = bitmap_size(def.fields.len());
            let mut align = 8;
            for (i, f) in def.fields.iter().enumerate() {
                let node = schema_node(&f.ty);
                let el = node_layout(&node);
                offset = offset.next_multiple_of(el.align);
                align = align.max(el.align);
                fields.push(FieldPlan {
                    id: f.id,
                    name: f.name.as_str().into(),
                    ttype: node.ttype(),
                    req: if def.kind == StructKind::Union {
                        Requiredness::Optional
                    } else {
                        f.req
                    },
                    offset,
                    presence: Presence::Bit(i as u32),
                    node,
                });
                offset += el.size;
            }
            let size = offset.next_multiple_of(align).max(8);
            let defaults = encode_defaults(schema, def)?;
            let record = RecordLayout {
                size,
                align,
                defaults,
            };
            structs.push(StructPlan::finish(
                def.name.as_str().into(),
                def.kind,
                fields,
                None,
                None,
                Some(record),
            )?);
        }
        Ok(Plan {
            structs,
            backend: std::sync::OnceLock::new(),
        })
    }
}

/// The node of an IDL type in a record.
pub fn schema_node(ty: &Ty) -> Node {
    let raw = |n: &Node| node_layout(n);
    match ty {
        Ty::Bool => Node::Bool,
        Ty::I8 => Node::I8,
        Ty::I16 => Node::I16,
        Ty::I32 => Node::I32,
        Ty::I64 => Node::I64,
        Ty::Double => Node::Double,
        Ty::Uuid => Node::Uuid,
        Ty::String => Node::String(StrRepr::Std),
        Ty::Binary => Node::Binary(BinRepr::Bytes),
        Ty::Enum(_) => Node::Enum(EnumRepr::Open),
        Ty::Struct(id) => Node::Record(id.0 as usize),
        Ty::List(t) => {
            let e = schema_node(t);
            let el = raw(&e);
            Node::List(Box::new(e), SeqRepr::Raw(el))
        }
        Ty::Set(t) => {
            let e = schema_node(t);
            let el = raw(&e);
            Node::Set(Box::new(e), SetRepr::Raw(el))
        }
        Ty::Map(k, v) => {
            let (k, v) = (schema_node(k), schema_node(v));
            let (kl, vl) = (raw(&k), raw(&v));
            Node::Map(
                Box::new(k),
                Box::new(v),
                MapRepr::Raw { key: kl, value: vl },
            )
        }
    }
}

/// The non-optional fields' IDL defaults as a Binary struct (empty when there are none).
fn encode_defaults(schema: &Schema, def: &dynthrift_core::schema::StructDef) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut w = BinaryWriter::new(&mut out);
    let mut any = false;
    for f in &def.fields {
        let Some(v) = &f.default else { continue };
        if f.req == Requiredness::Optional || def.kind == StructKind::Union {
            continue;
        }
        any = true;
        w.write_field_begin(f.ty.ttype(), f.id);
        write_const(schema, &mut w, &f.ty, v).map_err(|e| {
            Error::schema(format!(
                "default of '{}.{}': {}",
                def.name,
                f.name,
                e.detail()
            ))
        })?;
    }
    if !any {
        return Ok(Vec::new());
    }
    w.write_field_stop();
    Ok(out)
}

/// Writes a resolved constant of type `ty`.
pub fn write_const<W: ProtoWrite>(
    schema: &Schema,
    w: &mut W,
    ty: &Ty,
    v: &ConstValue,
) -> Result<()> {
    let mismatch = || {
        Error::schema(format!(
            "constant does not match type {}",
            schema.type_name(ty)
        ))
    };
    match (ty, v) {
        (Ty::Bool, ConstValue::Bool(b)) => w.write_bool(*b),
        (Ty::Bool, ConstValue::Int(i)) => w.write_bool(*i != 0),
        (Ty::I8, ConstValue::Int(i)) => w.write_i8(*i as i8),
        (Ty::I16, ConstValue::Int(i)) => w.write_i16(*i as i16),
        (Ty::I32 | Ty::Enum(_), ConstValue::Int(i)) => w.write_i32(*i as i32),
        (Ty::I64, ConstValue::Int(i)) => w.write_i64(*i),
        (Ty::Double, ConstValue::Double(d)) => w.write_double(*d),
        (Ty::Double, ConstValue::Int(i)) => w.write_double(*i as f64),
        (Ty::String, ConstValue::String(s)) => w.write_string(s)?,
        (Ty::Binary, ConstValue::Binary(b)) => w.write_binary(b)?,
        (Ty::Binary, ConstValue::String(s)) => w.write_binary(s.as_bytes())?,
        (Ty::Uuid, ConstValue::Uuid(u)) => w.write_uuid(u),
        (Ty::List(t), ConstValue::List(items) | ConstValue::Set(items)) => {
            w.write_list_begin(t.ttype(), items.len())?;
            for item in items {
                write_const(schema, w, t, item)?;
            }
        }
        (Ty::Set(t), ConstValue::List(items) | ConstValue::Set(items)) => {
            w.write_set_begin(t.ttype(), items.len())?;
            for item in items {
                write_const(schema, w, t, item)?;
            }
        }
        (Ty::Map(k, vt), ConstValue::Map(entries)) => {
            w.write_map_begin(k.ttype(), vt.ttype(), entries.len())?;
            for (key, val) in entries {
                write_const(schema, w, k, key)?;
                write_const(schema, w, vt, val)?;
            }
        }
        (Ty::Struct(id), ConstValue::Struct(fields)) => {
            let def = schema.struct_def(*id);
            let saved = w.write_struct_begin();
            for (fid, val) in fields {
                let f = def.field_by_id(*fid).ok_or_else(mismatch)?;
                w.write_field_begin(f.ty.ttype(), f.id);
                write_const(schema, w, &f.ty, val)?;
            }
            w.write_field_stop();
            w.write_struct_end(saved);
        }
        _ => return Err(mismatch()),
    }
    Ok(())
}

/// A deep copy of the record at `src` (presence bits included).
///
/// # Safety
/// `src` is a live record of struct `si`.
pub unsafe fn clone_record(plan: &Plan, si: usize, src: *const u8) -> Result<*mut u8> {
    let s = &plan.structs[si];
    let layout = record_layout(s)?;
    // SAFETY: non-zero layout (the bitmap word).
    let rec = unsafe { alloc::alloc(layout) };
    if rec.is_null() {
        alloc::handle_alloc_error(layout);
    }
    // SAFETY: `rec` is a fresh record allocation; slots are filled one by one, each with a
    // copy of the live slot at the same offset in `src`. On failure the filled slots are
    // dropped and the allocation freed.
    unsafe {
        std::ptr::copy_nonoverlapping(src, rec, bitmap_size(s.fields.len()));
        for (i, f) in s.fields.iter().enumerate() {
            if let Err(e) = clone_value(plan, &f.node, src.add(f.offset), rec.add(f.offset)) {
                for g in &s.fields[..i] {
                    drop_value(plan, &g.node, rec.add(g.offset));
                }
                alloc::dealloc(rec, layout);
                return Err(e);
            }
        }
    }
    Ok(rec)
}

/// Writes a deep copy of the value at `src` into uninitialised memory at `dst`.
///
/// # Safety
/// `src` holds a live value of `node`'s record representation; `dst` has room for one.
unsafe fn clone_value(plan: &Plan, node: &Node, src: *const u8, dst: *mut u8) -> Result<()> {
    // SAFETY: forwarded contract; each arm writes one value of the node's representation.
    unsafe {
        match node {
            Node::String(_) => (dst as *mut String).write((*(src as *const String)).clone()),
            Node::Binary(_) => (dst as *mut Bytes).write((*(src as *const Bytes)).clone()),
            Node::Record(si) => {
                let r = *(src as *const *const u8);
                let copy = if r.is_null() {
                    std::ptr::null_mut()
                } else {
                    clone_record(plan, *si, r)?
                };
                (dst as *mut *mut u8).write(copy);
            }
            Node::List(elem, SeqRepr::Raw(el)) | Node::Set(elem, SetRepr::Raw(el)) => {
                (dst as *mut RawVec).write(clone_raw(plan, &*(src as *const RawVec), elem, *el)?);
            }
            Node::Map(k, v, MapRepr::Raw { key, value }) => {
                let m = &*(src as *const RawMap);
                let keys = clone_raw(plan, &m.keys, k, *key)?;
                let mut keys_guard = RawVecGuard {
                    plan,
                    v: keys,
                    elem: k,
                    el: *key,
                };
                let values = clone_raw(plan, &m.values, v, *value)?;
                let keys = std::mem::replace(
                    &mut keys_guard.v,
                    RawVec {
                        ptr: std::ptr::null_mut(),
                        len: 0,
                        cap: 0,
                    },
                );
                (dst as *mut RawMap).write(RawMap { keys, values });
            }
            _ => std::ptr::copy_nonoverlapping(src, dst, node_layout(node).size),
        }
    }
    Ok(())
}

/// Frees a raw vector on an early return.
struct RawVecGuard<'a> {
    plan: &'a Plan,
    v: RawVec,
    elem: &'a Node,
    el: ElemLayout,
}

impl Drop for RawVecGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: the guard owns `v`, a live raw vector of `elem` values.
        unsafe { raw_free(self.plan, &mut self.v, self.elem, self.el) }
    }
}

/// # Safety
/// `src` is a live raw vector of `elem` values.
unsafe fn clone_raw(plan: &Plan, src: &RawVec, elem: &Node, el: ElemLayout) -> Result<RawVec> {
    let mut g = RawVecGuard {
        plan,
        v: RawVec {
            ptr: std::ptr::null_mut(),
            len: 0,
            cap: 0,
        },
        elem,
        el,
    };
    raw_grow(&mut g.v, el, src.len)?;
    for i in 0..src.len {
        // SAFETY: element `i` of `src` is live; slot `i` of the copy is inside its capacity.
        unsafe {
            clone_value(
                plan,
                elem,
                src.ptr.add(i * el.size),
                g.v.ptr.add(i * el.size),
            )?
        };
        g.v.len = i + 1;
    }
    Ok(std::mem::replace(
        &mut g.v,
        RawVec {
            ptr: std::ptr::null_mut(),
            len: 0,
            cap: 0,
        },
    ))
}
