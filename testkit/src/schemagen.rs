//! Random schemas and values from an [`arbitrary::Unstructured`], for the random-schema
//! differential tests and the fuzz targets.
//!
//! [`schema`] writes a random IDL text (every Thrift type: bool, byte, i16, i32, i64, double,
//! string, binary, uuid, enums, typedefs, lists, sets and maps nested, structs, unions and
//! exceptions; required, optional and default-requiredness fields, constant defaults, implicit
//! negative ids; recursion through optional fields and containers) and resolves it with the
//! IDL front end. [`value`] builds a random [`DynStruct`] of any struct of any resolved schema
//! (the generated ones, or fixed files like `ThriftTest.thrift`).
//!
//! Every choice is read from the `Unstructured`, so the same bytes give the same schema and
//! value (fuzzers and proptest shrink the bytes). An exhausted `Unstructured` yields zeros:
//! the smallest choices, so every byte string maps to a valid schema and value.

use std::fmt::Write as _;
use std::sync::Arc;

use arbitrary::{Arbitrary, Result, Unstructured};
use bytes::Bytes;
use dynthrift::{DynSchema, DynStruct, Schema, Value};
use dynthrift_core::schema::{Requiredness, StructId, StructKind, Ty};

/// Size knobs of the generator.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    pub max_enums: usize,
    pub max_structs: usize,
    pub max_fields: usize,
    /// Nesting of container types in one field type.
    pub max_type_depth: u32,
    /// Nesting of struct values in a generated value.
    pub max_value_depth: u32,
    pub max_container_len: usize,
    pub max_string_len: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            max_enums: 3,
            max_structs: 6,
            max_fields: 8,
            max_type_depth: 3,
            max_value_depth: 4,
            max_container_len: 4,
            max_string_len: 12,
        }
    }
}

/// A generated schema: its IDL text, resolved, and the names of its structs.
#[derive(Debug)]
pub struct GenSchema {
    pub idl: String,
    pub types: Arc<DynSchema>,
    /// Every struct, union and exception, in declaration order (`S0`, `S1`, ...).
    pub structs: Vec<String>,
}

/// Type shapes before rendering: struct references point at struct indices.
#[derive(Clone, Debug)]
enum GTy {
    Bool,
    Byte,
    I16,
    I32,
    I64,
    Double,
    String,
    Binary,
    Uuid,
    Enum(usize),
    Struct(usize),
    Typedef(usize),
    List(Box<GTy>),
    Set(Box<GTy>),
    Map(Box<GTy>, Box<GTy>),
}

impl GTy {
    fn render(&self, out: &mut String) {
        let s = match self {
            GTy::Bool => "bool",
            GTy::Byte => "byte",
            GTy::I16 => "i16",
            GTy::I32 => "i32",
            GTy::I64 => "i64",
            GTy::Double => "double",
            GTy::String => "string",
            GTy::Binary => "binary",
            GTy::Uuid => "uuid",
            GTy::Enum(i) => {
                let _ = write!(out, "E{i}");
                return;
            }
            GTy::Struct(i) => {
                let _ = write!(out, "S{i}");
                return;
            }
            GTy::Typedef(i) => {
                let _ = write!(out, "T{i}");
                return;
            }
            GTy::List(e) => {
                out.push_str("list<");
                e.render(out);
                out.push('>');
                return;
            }
            GTy::Set(e) => {
                out.push_str("set<");
                e.render(out);
                out.push('>');
                return;
            }
            GTy::Map(k, v) => {
                out.push_str("map<");
                k.render(out);
                out.push_str(", ");
                v.render(out);
                out.push('>');
                return;
            }
        };
        out.push_str(s);
    }
}

/// The typedefs every generated schema has (so `T<i>` is always valid).
const TYPEDEFS: [&str; 3] = ["i64", "list<i32>", "map<string, binary>"];

struct SchemaGen<'u, 'a> {
    u: &'u mut Unstructured<'a>,
    cfg: Config,
    n_enums: usize,
    n_structs: usize,
}

impl SchemaGen<'_, '_> {
    /// A field type for struct `owner`. Struct references from a field that is always
    /// written (`direct`) point only at later structs, so every struct has a finite value;
    /// optional fields and container elements may point anywhere (recursion).
    fn ty(&mut self, owner: usize, depth: u32, direct: bool) -> Result<GTy> {
        let leaf_kinds = 12u32;
        let kinds = if depth < self.cfg.max_type_depth {
            leaf_kinds + 3
        } else {
            leaf_kinds
        };
        Ok(match self.u.choose_index(kinds as usize)? {
            0 => GTy::Bool,
            1 => GTy::Byte,
            2 => GTy::I16,
            3 => GTy::I32,
            4 => GTy::I64,
            5 => GTy::Double,
            6 => GTy::String,
            7 => GTy::Binary,
            8 => GTy::Uuid,
            9 if self.n_enums > 0 => GTy::Enum(self.u.choose_index(self.n_enums)?),
            10 => {
                let lo = if direct { owner + 1 } else { 0 };
                if lo < self.n_structs {
                    GTy::Struct(self.u.int_in_range(lo..=self.n_structs - 1)?)
                } else {
                    GTy::I32
                }
            }
            11 => GTy::Typedef(self.u.choose_index(TYPEDEFS.len())?),
            12 => GTy::List(Box::new(self.ty(owner, depth + 1, false)?)),
            13 => GTy::Set(Box::new(self.ty(owner, depth + 1, false)?)),
            14 => {
                let k = self.ty(owner, depth + 1, false)?;
                GTy::Map(Box::new(k), Box::new(self.ty(owner, depth + 1, false)?))
            }
            _ => GTy::String,
        })
    }

    /// A constant default for `ty`, when the generator picks one and the type has a simple
    /// constant form.
    fn default(&mut self, ty: &GTy, enums: &[Vec<(String, i32)>]) -> Result<Option<String>> {
        if !self.u.ratio(1, 4)? {
            return Ok(None);
        }
        Ok(Some(match ty {
            GTy::Bool => if bool::arbitrary(self.u)? {
                "true"
            } else {
                "false"
            }
            .to_string(),
            GTy::Byte => i8::arbitrary(self.u)?.to_string(),
            GTy::I16 => i16::arbitrary(self.u)?.to_string(),
            GTy::I32 => i32::arbitrary(self.u)?.to_string(),
            GTy::I64 | GTy::Typedef(0) => i64::arbitrary(self.u)?.to_string(),
            GTy::Double => format!("{:?}", f64::from(i32::arbitrary(self.u)?) / 4.0),
            GTy::String | GTy::Binary => format!("\"{}\"", ident_text(self.u, 6)?),
            GTy::Enum(e) => {
                let vals = &enums[*e];
                let (name, _) = &vals[self.u.choose_index(vals.len())?];
                format!("E{e}.{name}")
            }
            GTy::List(e) if matches!(**e, GTy::I32 | GTy::I16 | GTy::Byte) => {
                let n = self.u.int_in_range(0..=3)?;
                let items: Vec<String> = (0..n)
                    .map(|_| i8::arbitrary(self.u).map(|x| x.to_string()))
                    .collect::<Result<_>>()?;
                format!("[{}]", items.join(", "))
            }
            _ => return Ok(None),
        }))
    }
}

/// Lower-case letters only (valid in identifiers and string constants).
fn ident_text(u: &mut Unstructured<'_>, max: usize) -> Result<String> {
    let n = u.int_in_range(0..=max)?;
    (0..n)
        .map(|_| u.int_in_range(b'a'..=b'z').map(char::from))
        .collect()
}

/// A random schema, rendered as IDL and resolved. Fails only when the `Unstructured` fails
/// (never on exhaustion) or when the front end rejects the text (a generator bug: the text
/// is in the error).
pub fn schema(u: &mut Unstructured<'_>, cfg: Config) -> std::result::Result<GenSchema, String> {
    let idl = idl_text(u, cfg).map_err(|e| format!("arbitrary: {e}"))?;
    let schema = dynthrift::idl::parse_str(&idl)
        .map_err(|e| format!("generated IDL rejected: {e}\n{idl}"))?;
    let types = DynSchema::new(schema).map_err(|e| format!("plan: {e}\n{idl}"))?;
    let structs = (0..types.schema().structs.len())
        .map(|i| types.schema().structs[i].name.clone())
        .collect();
    Ok(GenSchema {
        idl,
        types,
        structs,
    })
}

/// The IDL text of a random schema.
pub fn idl_text(u: &mut Unstructured<'_>, cfg: Config) -> Result<String> {
    let n_enums = u.int_in_range(0..=cfg.max_enums)?;
    let n_structs = u.int_in_range(1..=cfg.max_structs.max(1))?;
    let mut out = String::new();
    let mut enums: Vec<Vec<(String, i32)>> = Vec::new();
    for e in 0..n_enums {
        let n = u.int_in_range(1..=5)?;
        let mut vals: Vec<(String, i32)> = Vec::new();
        let mut next: i64 = 0;
        for k in 0..n {
            // Explicit values (distinct), or implicit (the previous plus one).
            let v = if u.ratio(1, 2)? {
                let v = i32::arbitrary(u)?;
                if vals.iter().any(|(_, x)| *x == v) {
                    continue;
                }
                Some(v)
            } else {
                None
            };
            let value = v.map_or(next, i64::from);
            if value > i64::from(i32::MAX) || vals.iter().any(|(_, x)| i64::from(*x) == value) {
                continue;
            }
            next = value + 1;
            vals.push((format!("V{k}"), value as i32));
        }
        if vals.is_empty() {
            vals.push(("V0".into(), 0));
        }
        let body: Vec<String> = vals.iter().map(|(n, v)| format!("{n} = {v}")).collect();
        let _ = writeln!(out, "enum E{e} {{ {} }}", body.join(", "));
        enums.push(vals);
    }
    for (i, t) in TYPEDEFS.iter().enumerate() {
        let _ = writeln!(out, "typedef {t} T{i}");
    }
    let mut g = SchemaGen {
        u,
        cfg,
        n_enums,
        n_structs,
    };
    for s in 0..n_structs {
        let kind = match g.u.choose_index(6)? {
            0 => "union",
            1 => "exception",
            _ => "struct",
        };
        let n_fields =
            g.u.int_in_range(usize::from(kind == "union")..=cfg.max_fields)?;
        let _ = writeln!(out, "{kind} S{s} {{");
        let mut ids: Vec<i16> = Vec::new();
        for f in 0..n_fields {
            // Ids: small positive mostly, sometimes large, sometimes implicit (negative).
            let id = match g.u.choose_index(8)? {
                0 => None,
                1 => Some(g.u.int_in_range(1..=i16::MAX)?),
                _ => Some(g.u.int_in_range(1..=20)?),
            };
            if let Some(id) = id {
                if ids.contains(&id) {
                    continue;
                }
                ids.push(id);
            }
            let req = if kind == "union" {
                ""
            } else {
                match g.u.choose_index(4)? {
                    0 => "required ",
                    1 => "optional ",
                    _ => "",
                }
            };
            let direct = req != "optional " && kind != "union";
            let ty = g.ty(s, 0, direct)?;
            let mut ty_text = String::new();
            ty.render(&mut ty_text);
            let default = if kind == "union" {
                None
            } else {
                g.default(&ty, &enums)?
            };
            let id_text = id.map(|i| format!("{i}: ")).unwrap_or_default();
            let default_text = default.map(|d| format!(" = {d}")).unwrap_or_default();
            let _ = writeln!(out, "  {id_text}{req}{ty_text} f{f}{default_text},");
        }
        out.push_str("}\n");
    }
    Ok(out)
}

/// A random value of struct `id` of `types`: required fields set, other fields set at
/// random, unions with exactly one field; struct nesting stops at `cfg.max_value_depth`
/// (optional fields stay unset, containers empty below it).
pub fn value(
    u: &mut Unstructured<'_>,
    types: &Arc<DynSchema>,
    id: StructId,
    cfg: Config,
) -> Result<DynStruct> {
    struct_value(u, types, id, cfg, cfg.max_value_depth, 0)
}

/// A random value of the struct named `name`.
pub fn value_named(
    u: &mut Unstructured<'_>,
    types: &Arc<DynSchema>,
    name: &str,
    cfg: Config,
) -> Result<DynStruct> {
    let id = types
        .schema()
        .expect_struct(name)
        .map_err(|_| arbitrary::Error::IncorrectFormat)?;
    value(u, types, id, cfg)
}

/// Struct levels allowed past the depth budget, for what must be written there (required
/// fields, a union's one field). A schema whose values cannot be finite (a union whose every
/// field leads back to it) gives an error instead of unbounded recursion.
const MAX_OVERDRAFT: u32 = 16;

/// `over`: struct levels already nested past the depth budget.
fn struct_value(
    u: &mut Unstructured<'_>,
    types: &Arc<DynSchema>,
    id: StructId,
    cfg: Config,
    depth: u32,
    over: u32,
) -> Result<DynStruct> {
    if over > MAX_OVERDRAFT {
        return Err(arbitrary::Error::IncorrectFormat);
    }
    let schema: &Schema = types.schema();
    let def = &schema.structs[id.0 as usize];
    let mut v = DynStruct::new_by_id(types, id).map_err(|_| arbitrary::Error::IncorrectFormat)?;
    if def.kind == StructKind::Union {
        if def.fields.is_empty() {
            return Ok(v);
        }
        // Below the depth budget, a field that does not nest another struct, if there is one.
        let leaf = def
            .fields
            .iter()
            .position(|f| !matches!(f.ty, Ty::Struct(_)));
        let f = match leaf {
            Some(i) if depth == 0 => &def.fields[i],
            _ => &def.fields[u.choose_index(def.fields.len())?],
        };
        let x = ty_value_in(u, types, &f.ty, cfg, depth, over)?;
        v.set_by_id(f.id, x)
            .map_err(|_| arbitrary::Error::IncorrectFormat)?;
        return Ok(v);
    }
    for f in &def.fields {
        let set = match f.req {
            Requiredness::Required => true,
            // Below the depth budget, only what must be written.
            _ if depth == 0 => false,
            _ => u.ratio(2, 3)?,
        };
        if !set {
            continue;
        }
        let x = ty_value_in(u, types, &f.ty, cfg, depth, over)?;
        v.set_by_id(f.id, x)
            .map_err(|_| arbitrary::Error::IncorrectFormat)?;
    }
    Ok(v)
}

/// A random value of type `ty`.
pub fn ty_value(
    u: &mut Unstructured<'_>,
    types: &Arc<DynSchema>,
    ty: &Ty,
    cfg: Config,
    depth: u32,
) -> Result<Value> {
    ty_value_in(u, types, ty, cfg, depth, 0)
}

fn ty_value_in(
    u: &mut Unstructured<'_>,
    types: &Arc<DynSchema>,
    ty: &Ty,
    cfg: Config,
    depth: u32,
    over: u32,
) -> Result<Value> {
    let len = |u: &mut Unstructured<'_>| -> Result<usize> {
        if depth == 0 {
            Ok(0)
        } else {
            u.int_in_range(0..=cfg.max_container_len)
        }
    };
    Ok(match ty {
        Ty::Bool => Value::Bool(bool::arbitrary(u)?),
        Ty::I8 => Value::I8(i8::arbitrary(u)?),
        Ty::I16 => Value::I16(i16::arbitrary(u)?),
        Ty::I32 => Value::I32(i32::arbitrary(u)?),
        Ty::I64 => Value::I64(i64::arbitrary(u)?),
        // Any bit pattern, NaNs included.
        Ty::Double => Value::Double(f64::from_bits(u64::arbitrary(u)?)),
        Ty::String => {
            let n = u.int_in_range(0..=cfg.max_string_len)?;
            let s: String = (0..n).map(|_| char::arbitrary(u)).collect::<Result<_>>()?;
            Value::String(s)
        }
        Ty::Binary => {
            let n = u.int_in_range(0..=cfg.max_string_len)?;
            Value::Binary(Bytes::copy_from_slice(u.bytes(n.min(u.len()))?))
        }
        Ty::Uuid => Value::Uuid(<[u8; 16]>::arbitrary(u)?),
        Ty::Enum(e) => {
            let vals = &types.schema().enums[e.0 as usize].values;
            // Declared values mostly; IDL-only enums are open, so any i32 too.
            if !vals.is_empty() && u.ratio(7, 8)? {
                Value::I32(vals[u.choose_index(vals.len())?].value)
            } else {
                Value::I32(i32::arbitrary(u)?)
            }
        }
        Ty::Struct(id) => {
            let over = if depth == 0 { over + 1 } else { over };
            Value::Struct(struct_value(
                u,
                types,
                *id,
                cfg,
                depth.saturating_sub(1),
                over,
            )?)
        }
        Ty::List(e) => {
            let n = len(u)?;
            Value::List(
                (0..n)
                    .map(|_| ty_value_in(u, types, e, cfg, depth.saturating_sub(1), over))
                    .collect::<Result<_>>()?,
            )
        }
        Ty::Set(e) => {
            let n = len(u)?;
            Value::Set(
                (0..n)
                    .map(|_| ty_value_in(u, types, e, cfg, depth.saturating_sub(1), over))
                    .collect::<Result<_>>()?,
            )
        }
        Ty::Map(k, v) => {
            let n = len(u)?;
            Value::Map(
                (0..n)
                    .map(|_| {
                        Ok((
                            ty_value_in(u, types, k, cfg, depth.saturating_sub(1), over)?,
                            ty_value_in(u, types, v, cfg, depth.saturating_sub(1), over)?,
                        ))
                    })
                    .collect::<Result<_>>()?,
            )
        }
    })
}
