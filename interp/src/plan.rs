//! The plan: a backend-neutral program computed once per root type, from a derived
//! descriptor or from an IDL schema. It fixes everything the backends need to know: struct
//! table, fields in order with their wire types, offsets and host representations, a dense
//! id→field table, required-field masks, and how optional presence is stored.

use std::collections::HashMap;
use std::sync::Arc;

use dynthrift_core::desc::{
    BinRepr, BoxDesc, EnumDesc, MapDesc, OptionDesc, SeqDesc, SetDesc, StrRepr, StructDesc,
    TypeDesc, UnionVTable,
};
use dynthrift_core::schema::{Requiredness, StructKind};
use dynthrift_core::{Error, Result, TType};

/// A compiled program for one root struct and everything it reaches. `structs[0]` is the root.
#[derive(Debug)]
pub struct Plan {
    pub structs: Vec<StructPlan>,
    /// A backend's compiled code for this plan (set once, by the JIT; read without a lock).
    pub backend: std::sync::OnceLock<std::sync::Arc<dyn std::any::Any + Send + Sync>>,
}

/// One struct, union or exception.
#[derive(Debug)]
pub struct StructPlan {
    pub name: Arc<str>,
    pub kind: StructKind,
    /// In declaration order (the order the encoder writes, and the decoder predicts).
    pub fields: Vec<FieldPlan>,
    pub lookup: Lookup,
    /// Bits (by field index) of the fields that are `required`.
    pub required_mask: u64,
    pub unknown_fields: Option<usize>,
    /// A union held in a Rust enum.
    pub union: Option<&'static UnionVTable>,
    /// For IDL-only values: the record's layout.
    pub record: Option<RecordLayout>,
}

/// Layout of an IDL-only record (see [`crate::dynamic`]).
#[derive(Debug, Clone)]
pub struct RecordLayout {
    pub size: usize,
    pub align: usize,
    /// Pre-encoded (Binary) default values, decoded into a new record. Empty: none.
    pub defaults: Vec<u8>,
}

/// One field (or union variant).
#[derive(Debug)]
pub struct FieldPlan {
    pub id: i16,
    pub name: Arc<str>,
    pub ttype: TType,
    pub req: Requiredness,
    /// Byte offset of the field's slot in the struct (unused for Rust-enum unions).
    pub offset: usize,
    pub presence: Presence,
    pub node: Node,
}

/// How a field's presence is stored.
#[derive(Debug, Clone, Copy)]
pub enum Presence {
    /// Always present (a plain field).
    Always,
    /// `Option<T>` in a derived struct.
    Option(&'static OptionDesc),
    /// Bit `n` of an IDL-only record's presence bitmap.
    Bit(u32),
}

/// How one value is represented in host memory and on the wire.
#[derive(Debug)]
pub enum Node {
    Bool,
    I8,
    I16,
    I32,
    I64,
    Double,
    Uuid,
    String(StrRepr),
    Binary(BinRepr),
    Enum(EnumRepr),
    /// A struct stored inline, by index into [`Plan::structs`].
    Struct(usize),
    /// A pointer to an IDL-only record (null when unset), by struct index.
    Record(usize),
    List(Box<Node>, SeqRepr),
    Set(Box<Node>, SetRepr),
    Map(Box<Node>, Box<Node>, MapRepr),
    Boxed(Box<Node>, &'static BoxDesc),
}

#[derive(Debug, Clone, Copy)]
pub enum EnumRepr {
    /// A C-like Rust enum.
    Rust(&'static EnumDesc),
    /// An `i32` that holds any value (IDL-only values).
    Open,
}

/// Element size and alignment of a library-owned raw vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ElemLayout {
    pub size: usize,
    pub align: usize,
}

#[derive(Debug, Clone, Copy)]
pub enum SeqRepr {
    Std(&'static SeqDesc),
    Raw(ElemLayout),
}

#[derive(Debug, Clone, Copy)]
pub enum SetRepr {
    Std(&'static SetDesc),
    /// Elements in a raw vector, in wire order.
    Raw(ElemLayout),
}

#[derive(Debug, Clone, Copy)]
pub enum MapRepr {
    Std(&'static MapDesc),
    /// Keys and values in two raw vectors, in wire order.
    Raw {
        key: ElemLayout,
        value: ElemLayout,
    },
}

impl Node {
    #[inline]
    pub fn ttype(&self) -> TType {
        match self {
            Node::Bool => TType::Bool,
            Node::I8 => TType::I8,
            Node::I16 => TType::I16,
            Node::I32 | Node::Enum(_) => TType::I32,
            Node::I64 => TType::I64,
            Node::Double => TType::Double,
            Node::Uuid => TType::Uuid,
            Node::String(_) | Node::Binary(_) => TType::String,
            Node::Struct(_) | Node::Record(_) => TType::Struct,
            Node::List(..) => TType::List,
            Node::Set(..) => TType::Set,
            Node::Map(..) => TType::Map,
            Node::Boxed(inner, _) => inner.ttype(),
        }
    }
}

/// Field id → field index.
#[derive(Debug)]
pub enum Lookup {
    /// `table[id - min]`, `u16::MAX` for no field.
    Dense { min: i16, table: Vec<u16> },
    /// Sorted `(id, index)`.
    Sorted(Vec<(i16, u16)>),
}

/// Widest id range given a dense table.
const DENSE_SPAN: i32 = 256;

impl Lookup {
    fn build(fields: &[FieldPlan]) -> Lookup {
        let (Some(min), Some(max)) = (
            fields.iter().map(|f| f.id).min(),
            fields.iter().map(|f| f.id).max(),
        ) else {
            return Lookup::Sorted(Vec::new());
        };
        if (max as i32 - min as i32) < DENSE_SPAN {
            let mut table = vec![u16::MAX; (max as i32 - min as i32 + 1) as usize];
            for (i, f) in fields.iter().enumerate() {
                table[(f.id as i32 - min as i32) as usize] = i as u16;
            }
            Lookup::Dense { min, table }
        } else {
            let mut v: Vec<(i16, u16)> = fields
                .iter()
                .enumerate()
                .map(|(i, f)| (f.id, i as u16))
                .collect();
            v.sort_unstable();
            Lookup::Sorted(v)
        }
    }

    #[inline]
    pub fn find(&self, id: i16) -> Option<usize> {
        match self {
            Lookup::Dense { min, table } => {
                let i = (id as i32 - *min as i32) as usize;
                match table.get(i) {
                    Some(&x) if x != u16::MAX => Some(x as usize),
                    _ => None,
                }
            }
            Lookup::Sorted(v) => v
                .binary_search_by_key(&id, |e| e.0)
                .ok()
                .map(|i| v[i].1 as usize),
        }
    }
}

impl StructPlan {
    /// Index of the field with this id, trying `guess` first (fields usually arrive in order).
    #[inline]
    pub fn field_index(&self, id: i16, guess: usize) -> Option<usize> {
        if let Some(f) = self.fields.get(guess)
            && f.id == id
        {
            return Some(guess);
        }
        self.lookup.find(id)
    }

    /// Checks ids and names, computes the lookup table and the required mask.
    pub(crate) fn finish(
        name: Arc<str>,
        kind: StructKind,
        fields: Vec<FieldPlan>,
        unknown_fields: Option<usize>,
        union: Option<&'static UnionVTable>,
        record: Option<RecordLayout>,
    ) -> Result<StructPlan> {
        let mut required_mask = 0u64;
        for (i, f) in fields.iter().enumerate() {
            if fields[..i].iter().any(|g| g.id == f.id) {
                return Err(Error::schema(format!(
                    "duplicate field id {} in '{name}'",
                    f.id
                )));
            }
            if fields[..i].iter().any(|g| g.name == f.name) {
                return Err(Error::schema(format!(
                    "duplicate field name '{}' in '{name}'",
                    f.name
                )));
            }
            if f.req == Requiredness::Required {
                if i >= 64 {
                    return Err(Error::schema(format!(
                        "'{name}': required fields must be among the first 64 fields ('{}' is not)",
                        f.name
                    )));
                }
                required_mask |= 1 << i;
            }
        }
        if fields.len() > u16::MAX as usize - 1 {
            return Err(Error::schema(format!("'{name}' has too many fields")));
        }
        let lookup = Lookup::build(&fields);
        Ok(StructPlan {
            name,
            kind,
            fields,
            lookup,
            required_mask,
            unknown_fields,
            union,
            record,
        })
    }
}

impl Plan {
    /// The plan of a derived type and of every type it reaches.
    pub fn for_desc(root: &'static StructDesc) -> Result<Plan> {
        let mut b = DescBuilder {
            index: HashMap::new(),
            structs: Vec::new(),
            queue: Vec::new(),
        };
        b.struct_index(root);
        while let Some((i, desc)) = b.queue.pop() {
            let plan = b.struct_plan(desc)?;
            b.structs[i] = Some(plan);
        }
        let structs = b
            .structs
            .into_iter()
            .map(|s| s.ok_or_else(|| Error::schema("unbuilt struct")))
            .collect::<Result<_>>()?;
        Ok(Plan {
            structs,
            backend: std::sync::OnceLock::new(),
        })
    }

    pub fn root(&self) -> &StructPlan {
        &self.structs[0]
    }
}

struct DescBuilder {
    index: HashMap<*const StructDesc, usize>,
    structs: Vec<Option<StructPlan>>,
    queue: Vec<(usize, &'static StructDesc)>,
}

impl DescBuilder {
    fn struct_index(&mut self, desc: &'static StructDesc) -> usize {
        let key = desc as *const StructDesc;
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        let i = self.structs.len();
        self.structs.push(None);
        self.index.insert(key, i);
        self.queue.push((i, desc));
        i
    }

    fn struct_plan(&mut self, desc: &'static StructDesc) -> Result<StructPlan> {
        let is_union = desc.kind == StructKind::Union;
        let mut fields = Vec::with_capacity(desc.fields.len());
        for f in desc.fields {
            let (presence, ty) = match f.ty {
                TypeDesc::Option(od) => {
                    if is_union {
                        return Err(Error::schema(format!(
                            "union '{}': variant '{}' cannot be optional",
                            desc.name, f.name
                        )));
                    }
                    (Presence::Option(od), od.inner)
                }
                ty => (Presence::Always, ty),
            };
            let node = self.node(ty).map_err(|e| {
                Error::schema(format!("'{}.{}': {}", desc.name, f.name, e.detail()))
            })?;
            fields.push(FieldPlan {
                id: f.id,
                name: Arc::from(f.name),
                ttype: node.ttype(),
                req: f.req,
                offset: f.offset,
                presence,
                node,
            });
        }
        if is_union && desc.union.is_none() {
            return Err(Error::schema(format!(
                "union '{}' has no variant table",
                desc.name
            )));
        }
        StructPlan::finish(
            Arc::from(desc.name),
            desc.kind,
            fields,
            desc.unknown_fields,
            desc.union,
            None,
        )
    }

    fn node(&mut self, ty: &'static TypeDesc) -> Result<Node> {
        Ok(match ty {
            TypeDesc::Bool => Node::Bool,
            TypeDesc::I8 => Node::I8,
            TypeDesc::I16 => Node::I16,
            TypeDesc::I32 => Node::I32,
            TypeDesc::I64 => Node::I64,
            TypeDesc::Double => Node::Double,
            TypeDesc::Uuid => Node::Uuid,
            TypeDesc::String(r) => Node::String(*r),
            TypeDesc::Binary(r) => Node::Binary(*r),
            TypeDesc::Enum(e) => Node::Enum(EnumRepr::Rust(e)),
            TypeDesc::Struct(f) => Node::Struct(self.struct_index(f())),
            TypeDesc::List(s) => Node::List(Box::new(self.node(s.elem)?), SeqRepr::Std(s)),
            TypeDesc::Set(s) => Node::Set(Box::new(self.node(s.elem)?), SetRepr::Std(s)),
            TypeDesc::Map(m) => Node::Map(
                Box::new(self.node(m.key)?),
                Box::new(self.node(m.value)?),
                MapRepr::Std(m),
            ),
            TypeDesc::Boxed(b) => Node::Boxed(Box::new(self.node(b.inner)?), b),
            TypeDesc::Option(_) => {
                return Err(Error::schema(
                    "Option<T> is only supported as the type of a field",
                ));
            }
        })
    }
}
