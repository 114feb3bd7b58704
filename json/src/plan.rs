//! The transcoding plan: computed once per root type and options, it holds per struct the
//! field tables both directions need — field id → field (dense table), JSON key → field
//! (a hashed table over the key bytes), the pre-rendered `"key":` of each field, which fields
//! are required, and each field's default pre-rendered as JSON and as Thrift bytes in both
//! protocols (what is written when the input lacks a field that a decoded IDL-only value
//! would hold).

use std::collections::HashMap;
use std::sync::Arc;

use dynthrift_core::schema::{FieldDef, Requiredness, Schema, StructId, StructKind, Ty};
use dynthrift_core::{Error, Result, TType};
use dynthrift_interp::serde::{Mapped, Mapping};
use dynthrift_interp::{DynSchema, DynStruct};

/// A resolved type, with structs and enums by index into the plan's tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum T {
    Bool,
    I8,
    I16,
    I32,
    I64,
    Double,
    String,
    Binary,
    Uuid,
    Enum(u32),
    Struct(u32),
    List(Box<T>),
    Set(Box<T>),
    Map(Box<T>, Box<T>),
}

impl T {
    pub(crate) fn ttype(&self) -> TType {
        match self {
            T::Bool => TType::Bool,
            T::I8 => TType::I8,
            T::I16 => TType::I16,
            T::I32 | T::Enum(_) => TType::I32,
            T::I64 => TType::I64,
            T::Double => TType::Double,
            T::String | T::Binary => TType::String,
            T::Uuid => TType::Uuid,
            T::Struct(_) => TType::Struct,
            T::List(_) => TType::List,
            T::Set(_) => TType::Set,
            T::Map(..) => TType::Map,
        }
    }

    /// Map keys of this type are JSON object keys (else `[key, value]` pairs).
    pub(crate) fn scalar(&self) -> bool {
        !matches!(self, T::Struct(_) | T::List(_) | T::Set(_) | T::Map(..))
    }

    pub(crate) fn label(&self) -> &'static str {
        match self {
            T::Bool => "a bool",
            T::I8 => "a byte",
            T::I16 => "an i16",
            T::I32 => "an i32",
            T::I64 => "an i64",
            T::Double => "a double",
            T::String => "a string",
            T::Binary => "base64 binary",
            T::Uuid => "a uuid",
            T::Enum(_) => "an enum",
            T::Struct(_) => "an object",
            T::List(_) => "an array (list)",
            T::Set(_) => "an array (set)",
            T::Map(k, _) if k.scalar() => "an object (map)",
            T::Map(..) => "an array of [key, value] pairs (map)",
        }
    }
}

#[derive(Debug)]
pub(crate) struct FPlan {
    pub id: i16,
    pub name: Arc<str>,
    pub ty: T,
    pub ttype: TType,
    pub req: Requiredness,
    /// `"name":` or `"id":`, as written.
    pub key: Box<[u8]>,
    /// `,` and `key` (`[0]`), `{` and `key` (`[1]`, for the first field: it rewrites the
    /// struct's `{`), zero-padded to 32 bytes when they fit: written with one fixed-size copy.
    pub key32: Option<[[u8; 32]; 2]>,
    /// Written when the input lacks this field: the value as JSON, and as Thrift value bytes.
    pub default: Option<Default>,
}

#[derive(Debug)]
pub(crate) struct Default {
    pub json: Box<[u8]>,
    pub binary: Box<[u8]>,
    pub compact: Box<[u8]>,
    /// For a bool field (Compact writes it in the field header).
    pub bool: Option<bool>,
}

#[derive(Debug)]
pub(crate) struct SPlan {
    pub name: Arc<str>,
    pub union: bool,
    pub fields: Vec<FPlan>,
    /// `by_id[id - min_id]` = field index, `u16::MAX` for none (ids within 256 of each other);
    /// otherwise a hash map.
    min_id: i16,
    by_id: Vec<u16>,
    by_id_sparse: HashMap<i16, u16>,
    /// Open-addressed table of field indices by key hash; `names_mask + 1` slots.
    names: Vec<(u32, u16)>,
    names_mask: usize,
    /// Indices of required fields.
    pub required: Vec<u16>,
    /// Indices of fields with a default, in declaration order.
    pub defaulted: Vec<u16>,
}

#[inline]
pub(crate) fn hash(key: &[u8]) -> u32 {
    // FNV-1a: short keys, no allocation, good enough spread for field names.
    let mut h: u32 = 0x811c_9dc5;
    for &b in key {
        h = (h ^ b as u32).wrapping_mul(0x0100_0193);
    }
    h
}

impl SPlan {
    #[inline]
    pub(crate) fn by_id(&self, id: i16, guess: usize) -> Option<usize> {
        if let Some(f) = self.fields.get(guess)
            && f.id == id
        {
            return Some(guess);
        }
        if self.by_id.is_empty() {
            return self.by_id_sparse.get(&id).map(|&i| i as usize);
        }
        match self.by_id.get((id as i32 - self.min_id as i32) as usize) {
            Some(&i) if i != u16::MAX => Some(i as usize),
            _ => None,
        }
    }

    /// The field a JSON key names: a field name, else a field id in decimal.
    #[inline]
    pub(crate) fn by_key(&self, key: &[u8]) -> Option<usize> {
        let h = hash(key);
        let mut slot = h as usize & self.names_mask;
        loop {
            let (sh, i) = self.names[slot];
            if i == u16::MAX {
                break;
            }
            if sh == h && self.fields[i as usize].name.as_bytes() == key {
                return Some(i as usize);
            }
            slot = (slot + 1) & self.names_mask;
        }
        let s = std::str::from_utf8(key).ok()?;
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
            return None;
        }
        self.by_id(s.parse().ok()?, usize::MAX)
    }
}

#[derive(Debug)]
pub(crate) struct EPlan {
    /// Quoted JSON names by value.
    pub names: HashMap<i32, Box<[u8]>>,
    pub values: HashMap<Box<[u8]>, i32>,
}

/// A struct-like definition: a struct of the schema, or the arguments or result of a function.
pub(crate) struct Shape<'s> {
    pub name: String,
    pub kind: StructKind,
    pub fields: Vec<FieldDef>,
    /// The schema struct, when there is one (defaults come from its IDL-only value).
    pub id: Option<StructId>,
    _s: std::marker::PhantomData<&'s ()>,
}

impl Shape<'_> {
    pub(crate) fn of_struct(schema: &Schema, id: StructId) -> Shape<'static> {
        let def = schema.struct_def(id);
        Shape {
            name: def.name.clone(),
            kind: def.kind,
            fields: def.fields.clone(),
            id: Some(id),
            _s: std::marker::PhantomData,
        }
    }

    pub(crate) fn synthetic(name: String, fields: Vec<FieldDef>) -> Shape<'static> {
        Shape {
            name,
            kind: StructKind::Struct,
            fields,
            id: None,
            _s: std::marker::PhantomData,
        }
    }
}

#[derive(Debug)]
pub(crate) struct Plan {
    pub structs: Vec<SPlan>,
    pub enums: Vec<EPlan>,
    pub mapping: Mapping,
}

struct Builder<'a> {
    types: &'a Arc<DynSchema>,
    mapping: &'a Mapping,
    struct_index: HashMap<StructId, u32>,
    enum_index: HashMap<u32, u32>,
    queue: Vec<(u32, StructId)>,
    shapes: Vec<Option<Shape<'static>>>,
    enums: Vec<EPlan>,
}

impl Builder<'_> {
    fn struct_ref(&mut self, id: StructId) -> u32 {
        if let Some(&i) = self.struct_index.get(&id) {
            return i;
        }
        let i = self.shapes.len() as u32;
        self.shapes.push(None);
        self.struct_index.insert(id, i);
        self.queue.push((i, id));
        i
    }

    fn ty(&mut self, ty: &Ty) -> T {
        match ty {
            Ty::Bool => T::Bool,
            Ty::I8 => T::I8,
            Ty::I16 => T::I16,
            Ty::I32 => T::I32,
            Ty::I64 => T::I64,
            Ty::Double => T::Double,
            Ty::String => T::String,
            Ty::Binary => T::Binary,
            Ty::Uuid => T::Uuid,
            Ty::Enum(e) => {
                let next = self.enums.len() as u32;
                let i = *self.enum_index.entry(e.0).or_insert(next);
                if i == next {
                    let def = self.types.schema().enum_def(*e);
                    let mut names = HashMap::new();
                    let mut values = HashMap::new();
                    for v in &def.values {
                        names
                            .entry(v.value)
                            .or_insert_with(|| quoted(v.name.as_bytes()));
                        values.insert(v.name.as_bytes().into(), v.value);
                    }
                    self.enums.push(EPlan { names, values });
                }
                T::Enum(i)
            }
            Ty::Struct(id) => T::Struct(self.struct_ref(*id)),
            Ty::List(t) => T::List(Box::new(self.ty(t))),
            Ty::Set(t) => T::Set(Box::new(self.ty(t))),
            Ty::Map(k, v) => T::Map(Box::new(self.ty(k)), Box::new(self.ty(v))),
        }
    }
}

/// `"text"`, for texts that need no escaping (names from an IDL).
fn quoted(text: &[u8]) -> Box<[u8]> {
    let mut v = Vec::with_capacity(text.len() + 2);
    crate::text::write_str(&mut v, text);
    v.into()
}

impl Plan {
    /// The plan of `root` and everything it reaches; `root` is `structs[0]`.
    pub(crate) fn build(
        types: &Arc<DynSchema>,
        root: Shape<'static>,
        mapping: &Mapping,
    ) -> Result<Plan> {
        let mut b = Builder {
            types,
            mapping,
            struct_index: HashMap::new(),
            enum_index: HashMap::new(),
            queue: Vec::new(),
            shapes: vec![None],
            enums: Vec::new(),
        };
        if let Some(id) = root.id {
            b.struct_index.insert(id, 0);
        }
        let mut fields_of: Vec<Option<Vec<(FieldDef, T)>>> = Vec::new();
        let mut pending = vec![(0u32, root)];
        loop {
            while let Some((i, shape)) = pending.pop() {
                let fields: Vec<(FieldDef, T)> = shape
                    .fields
                    .iter()
                    .map(|f| (f.clone(), b.ty(&f.ty)))
                    .collect();
                if fields_of.len() <= i as usize {
                    fields_of.resize_with(i as usize + 1, || None);
                }
                fields_of[i as usize] = Some(fields);
                b.shapes[i as usize] = Some(shape);
            }
            let Some((i, id)) = b.queue.pop() else { break };
            pending.push((i, Shape::of_struct(types.schema(), id)));
        }
        let mut structs = Vec::with_capacity(b.shapes.len());
        for (shape, fields) in b.shapes.iter().zip(&fields_of) {
            let (Some(shape), Some(fields)) = (shape, fields) else {
                return Err(Error::schema("unplanned struct"));
            };
            structs.push(struct_plan(shape, fields, b.mapping)?);
        }
        let mut plan = Plan {
            structs,
            enums: b.enums,
            mapping: mapping.clone(),
        };
        // Defaults: the fields an empty IDL-only value holds, rendered with the plan itself
        // (nested defaults are already part of those values).
        let mut defaults = Vec::new();
        for (si, shape) in b.shapes.iter().enumerate() {
            let Some(shape) = shape else { continue };
            let Some(id) = shape.id else { continue };
            if shape.kind == StructKind::Union {
                continue;
            }
            let empty = DynStruct::new_by_id(types, id)?;
            for (i, f) in shape.fields.iter().enumerate() {
                if f.req == Requiredness::Optional || !empty.is_set(&f.name) {
                    continue;
                }
                let mut one = empty.try_clone()?;
                for g in &shape.fields {
                    if g.id != f.id {
                        one.unset(&g.name)?;
                    }
                }
                let json = serde_json::to_vec(&Mapped::new(one.view(), &plan.mapping))
                    .map_err(|e| Error::schema(format!("default of '{}': {e}", f.name)))?;
                defaults.push((si, i, json));
            }
        }
        for (si, i, obj) in defaults {
            // `obj` is `{"key":value}`: keep the value, and transcode the object to Thrift
            // (a field header, the value, a stop) to keep the value bytes.
            let key_len = plan.structs[si].fields[i].key.len();
            let json: Box<[u8]> = obj[1 + key_len..obj.len() - 1].into();
            let text = std::str::from_utf8(&obj).map_err(|_| Error::schema("default not utf-8"))?;
            let limits = dynthrift_interp::Limits::default();
            let binary = crate::from_json::transcode_partial(
                &plan,
                si,
                text,
                dynthrift_core::wire::Protocol::Binary,
                &limits,
            )?;
            let compact = crate::from_json::transcode_partial(
                &plan,
                si,
                text,
                dynthrift_core::wire::Protocol::Compact,
                &limits,
            )?;
            let f = &mut plan.structs[si].fields[i];
            let bool = match f.ty {
                T::Bool => Some(binary.get(3) == Some(&1)),
                _ => None,
            };
            // Binary: 3-byte header; Compact: header of a first field (one byte when the id is
            // 1..=15, else a byte and a zigzag varint); both end with a stop byte.
            let cstart = if (1..=15).contains(&f.id) {
                1
            } else {
                1 + dynthrift_core::wire::compact::varint_len(
                    dynthrift_core::wire::compact::zigzag32(f.id as i32) as u64,
                )
            };
            let cstart = if bool.is_some() {
                compact.len() - 1
            } else {
                cstart
            };
            f.default = Some(Default {
                json,
                binary: binary[3..binary.len() - 1].into(),
                compact: compact[cstart..compact.len() - 1].into(),
                bool,
            });
        }
        for s in &mut plan.structs {
            s.defaulted = (0..s.fields.len() as u16)
                .filter(|&i| s.fields[i as usize].default.is_some())
                .collect();
        }
        Ok(plan)
    }
}

fn struct_plan(shape: &Shape<'_>, fields: &[(FieldDef, T)], m: &Mapping) -> Result<SPlan> {
    let union = shape.kind == StructKind::Union;
    if fields.len() >= u16::MAX as usize {
        return Err(Error::schema(format!(
            "'{}' has too many fields",
            shape.name
        )));
    }
    let mut fs = Vec::with_capacity(fields.len());
    for (f, t) in fields {
        let mut key = Vec::new();
        if m.field_ids {
            key.push(b'"');
            key.extend_from_slice(itoa::Buffer::new().format(f.id).as_bytes());
            key.push(b'"');
        } else {
            crate::text::write_str(&mut key, f.name.as_bytes());
        }
        key.push(b':');
        fs.push(FPlan {
            id: f.id,
            name: f.name.as_str().into(),
            ty: t.clone(),
            ttype: t.ttype(),
            req: if union { Requiredness::Optional } else { f.req },
            key32: (key.len() < 32).then(|| {
                let mut k = [[b','; 32], [b'{'; 32]];
                for k in &mut k {
                    k[1..=key.len()].copy_from_slice(&key);
                }
                k
            }),
            key: key.into(),
            default: None,
        });
    }
    let (min_id, max_id) = (
        fs.iter().map(|f| f.id).min().unwrap_or(0),
        fs.iter().map(|f| f.id).max().unwrap_or(0),
    );
    let (mut by_id, mut by_id_sparse) = (Vec::new(), HashMap::new());
    if (max_id as i32 - min_id as i32) < 256 {
        by_id = vec![u16::MAX; (max_id as i32 - min_id as i32 + 1) as usize];
        for (i, f) in fs.iter().enumerate() {
            by_id[(f.id as i32 - min_id as i32) as usize] = i as u16;
        }
    } else {
        for (i, f) in fs.iter().enumerate() {
            by_id_sparse.insert(f.id, i as u16);
        }
    }
    let cap = (fs.len() * 2).next_power_of_two().max(4);
    let mut names = vec![(0u32, u16::MAX); cap];
    for (i, f) in fs.iter().enumerate() {
        let h = hash(f.name.as_bytes());
        let mut slot = h as usize & (cap - 1);
        while names[slot].1 != u16::MAX {
            slot = (slot + 1) & (cap - 1);
        }
        names[slot] = (h, i as u16);
    }
    Ok(SPlan {
        name: shape.name.as_str().into(),
        union,
        required: (0..fs.len() as u16)
            .filter(|&i| fs[i as usize].req == Requiredness::Required)
            .collect(),
        fields: fs,
        min_id,
        by_id,
        by_id_sparse,
        names,
        names_mask: cap - 1,
        defaulted: Vec::new(),
    })
}
