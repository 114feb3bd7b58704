//! Validation from IDL annotations, in the vocabulary of CloudWeGo's thrift-gen-validator
//! (`vt.*` on struct, union and exception fields). The rules are compiled once from a schema
//! into a [`Validator`], then checked on IDL-only values ([`Validator::check`]) or directly on
//! encoded bytes ([`Validator::check_bytes`], which reads only the fields that have rules and
//! skips the rest).
//!
//! ```thrift
//! struct Request {
//!     1: required string Message (vt.max_size = "30", vt.prefix = "Debug")
//!     2: i32 ID (vt.gt = "1000", vt.lt = "10000")
//!     3: list<double> Values (vt.elem.gt = "0.25")
//!     4: map<MapKey, binary> KeyValues (vt.key.defined_only = "true", vt.min_size = "1")
//!     5: string Level (vt.in = "Debug", vt.in = "Info")
//! }
//! ```
//!
//! # Rules
//!
//! | type | keys |
//! |---|---|
//! | `byte`, `i16`, `i32`, `i64`, `double` | `vt.const`, `vt.lt`, `vt.le`, `vt.gt`, `vt.ge`, `vt.in`, `vt.not_in`; `vt.min`/`vt.max` (aliases of `vt.ge`/`vt.le`, a dynthrift extension) |
//! | `bool` | `vt.const` |
//! | `string`, `binary` | `vt.const`, `vt.min_size`, `vt.max_size` (bytes), `vt.min_rune_size`, `vt.max_rune_size` (characters), `vt.pattern` (regex crate syntax, unanchored like Go's `MatchString`), `vt.prefix`, `vt.suffix`, `vt.contains`, `vt.not_contains`, `vt.in`, `vt.not_in` |
//! | enums | `vt.const`, `vt.in`, `vt.not_in` (by number or by name: `A` or `MapKey.A`), `vt.defined_only` |
//! | `list`, `set` | `vt.min_size`, `vt.max_size` (elements), `vt.elem.<rule>` |
//! | `map` | `vt.min_size`, `vt.max_size`, `vt.key.<rule>`, `vt.value.<rule>`, `vt.no_sparse` (always holds: a map value on the wire is never nil) |
//! | structs | `vt.skip` (do not validate inside) |
//! | any field | `vt.not_nil` (the field must be present) |
//!
//! `vt.elem`, `vt.key` and `vt.value` nest (`vt.value.elem.min_size`). Repeated `vt.in` /
//! `vt.not_in` keys add values; other repeated keys add rules that must all hold. Integer
//! values are read as Go's `strconv.ParseInt(s, 0, 64)` does (`0x1f`, `0o17`, `0b101`, and a
//! leading `0` meaning octal); booleans as Go's `ParseBool` (`true`, `1`, `t`, `false`, ...).
//! Struct values are validated recursively (fields, list elements, map keys and values)
//! unless `vt.skip = "true"`.
//!
//! Not supported, and reported when the validator is built: `vt.assert`, field references
//! (`$Field`), functions (`@len(...)`), any other `vt.*` key, a rule on a type it does not
//! apply to, a value that does not parse, an invalid regex. [`Validator::new`] fails with all
//! of them listed (file:line:column, field, key, why); [`Validator::lenient`] drops those rules
//! and lists them in [`Validator::warnings`].
//!
//! # Errors
//!
//! A violation is an [`Error`] of kind [`ErrorKind::Validation`](dynthrift_core::ErrorKind::Validation) whose path names the value
//! and whose detail names the rule, as written, and the value:
//! `validation error at Request.Values[2]: vt.elem.gt 0.25 violated (value 0.1)`.
//! Checking stops at the first violation. On bytes, malformed input gives the usual decode
//! errors; fields whose wire type differs from the schema's are skipped (as decoding does).

use std::fmt::{self, Write as _};
use std::sync::Arc;

use dynthrift_core::schema::{FieldDef, Schema, StructId, Ty};
use dynthrift_core::wire::binary::BinaryReader;
use dynthrift_core::wire::compact::CompactReader;
use dynthrift_core::wire::{DEFAULT_DEPTH_LIMIT, ProtoRead, Protocol, enter};
use dynthrift_core::{Error, PathSegment, Result, TType};
use dynthrift_interp::{DynStruct, Value};

/// Validation rules of every struct of a schema, compiled once. `Send + Sync`.
#[derive(Debug)]
pub struct Validator {
    structs: Vec<StructRules>,
    warnings: Vec<String>,
}

#[derive(Debug)]
struct StructRules {
    name: Arc<str>,
    /// Fields that have rules or lead to structs that do.
    fields: Vec<FieldRules>,
    /// Whether validating this struct can fail at all (computed over the whole schema).
    active: bool,
}

#[derive(Debug)]
struct FieldRules {
    id: i16,
    name: Arc<str>,
    ty: Ty,
    rules: Rules,
}

/// The rules for one position: a field, or the elements, keys or values below it.
#[derive(Debug, Default)]
struct Rules {
    checks: Vec<Check>,
    not_nil: bool,
    /// Do not validate inside struct values here.
    skip: bool,
    elem: Option<Box<Rules>>,
    key: Option<Box<Rules>>,
    value: Option<Box<Rules>>,
}

#[derive(Debug)]
struct Check {
    /// The annotation key as written (`vt.elem.gt`).
    key: String,
    /// The annotation value(s) as written, for messages.
    shown: String,
    kind: Kind,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug)]
enum Kind {
    Int(Cmp, i64),
    Float(Cmp, f64),
    IntIn(Vec<i64>, bool),
    FloatIn(Vec<f64>, bool),
    Bool(bool),
    BytesEq(Vec<u8>),
    BytesIn(Vec<Vec<u8>>, bool),
    Prefix(Vec<u8>),
    Suffix(Vec<u8>),
    Contains(Vec<u8>),
    NotContains(Vec<u8>),
    Pattern(regex::bytes::Regex),
    MinSize(u64),
    MaxSize(u64),
    MinRunes(u64),
    MaxRunes(u64),
    /// Sorted values of the enum.
    DefinedOnly(Vec<i32>),
}

/// A value as the checks see it.
#[derive(Clone, Copy)]
enum Scalar<'a> {
    Bool(bool),
    Int(i64),
    Float(f64),
    Bytes(&'a [u8]),
    /// A container's element count.
    Len(usize),
}

impl fmt::Display for Scalar<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Bool(b) => write!(f, "value {b}"),
            Scalar::Int(i) => write!(f, "value {i}"),
            Scalar::Float(x) => write!(f, "value {x}"),
            Scalar::Len(n) => write!(f, "size {n}"),
            Scalar::Bytes(b) => {
                const MAX: usize = 64;
                let s = String::from_utf8_lossy(&b[..b.len().min(MAX)]);
                write!(f, "value {s:?}")?;
                if b.len() > MAX {
                    write!(f, "... ({} bytes)", b.len())?;
                }
                Ok(())
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Compiling

impl Validator {
    /// Compiles the rules of every struct of `schema`. Any rule that cannot be honoured is an
    /// error listing all of them.
    pub fn new(schema: &Schema) -> Result<Validator> {
        let v = Validator::lenient(schema);
        if v.warnings.is_empty() {
            return Ok(v);
        }
        let mut msg = format!(
            "{} unsupported validation rule{}:",
            v.warnings.len(),
            if v.warnings.len() == 1 { "" } else { "s" }
        );
        for w in &v.warnings {
            msg.push_str("\n  ");
            msg.push_str(w);
        }
        Err(Error::schema(msg))
    }

    /// Compiles the rules it can; the others are dropped and described in [`warnings`].
    ///
    /// [`warnings`]: Validator::warnings
    pub fn lenient(schema: &Schema) -> Validator {
        let mut warnings = Vec::new();
        let mut structs: Vec<StructRules> = schema
            .structs
            .iter()
            .map(|s| {
                let file = schema
                    .files
                    .get(s.file.0 as usize)
                    .map(|f| f.path.display().to_string())
                    .unwrap_or_default();
                for (k, _) in &s.annotations.0 {
                    if k.starts_with("vt.") {
                        warnings.push(format!(
                            "{file}:{}:{}: {}: {k}: struct-level rules are not supported",
                            s.span.line, s.span.column, s.name
                        ));
                    }
                }
                let mut fields = Vec::new();
                for f in &s.fields {
                    let mut ctx = Ctx {
                        schema,
                        warnings: &mut warnings,
                        place: format!(
                            "{file}:{}:{}: {}.{}",
                            f.span.line, f.span.column, s.name, f.name
                        ),
                    };
                    let rules = ctx.field_rules(f);
                    fields.push(FieldRules {
                        id: f.id,
                        name: Arc::from(f.name.as_str()),
                        ty: f.ty.clone(),
                        rules,
                    });
                }
                StructRules {
                    name: Arc::from(s.name.as_str()),
                    fields,
                    active: false,
                }
            })
            .collect();
        // A struct is active if one of its fields has checks, or leads to an active struct;
        // iterate to a fixpoint (structs may be recursive).
        loop {
            let mut changed = false;
            for i in 0..structs.len() {
                if structs[i].active {
                    continue;
                }
                let active = structs[i]
                    .fields
                    .iter()
                    .any(|f| needs(&structs, &f.ty, Some(&f.rules)));
                if active {
                    structs[i].active = true;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        // Keep only the fields that can fail.
        let snapshot: Vec<bool> = structs.iter().map(|s| s.active).collect();
        for s in &mut structs {
            s.fields
                .retain(|f| needs_with(&snapshot, &f.ty, Some(&f.rules)));
        }
        Validator { structs, warnings }
    }

    /// The rules that were dropped, one line each (`file:line:col: Struct.field: key: why`).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Whether the struct named by `id` has any rule (in it or below it).
    pub fn has_rules(&self, id: StructId) -> bool {
        self.structs.get(id.0 as usize).is_some_and(|s| s.active)
    }
}

fn needs(structs: &[StructRules], ty: &Ty, rules: Option<&Rules>) -> bool {
    let active: Vec<bool> = structs.iter().map(|s| s.active).collect();
    needs_with(&active, ty, rules)
}

/// Whether a value of `ty` at a position with `rules` can fail validation.
fn needs_with(active: &[bool], ty: &Ty, rules: Option<&Rules>) -> bool {
    if let Some(r) = rules
        && (r.not_nil || !r.checks.is_empty())
    {
        return true;
    }
    let skip = rules.is_some_and(|r| r.skip);
    match ty {
        Ty::Struct(id) => !skip && active.get(id.0 as usize).copied().unwrap_or(false),
        Ty::List(e) | Ty::Set(e) => needs_with(active, e, rules.and_then(|r| r.elem.as_deref())),
        Ty::Map(k, v) => {
            needs_with(active, k, rules.and_then(|r| r.key.as_deref()))
                || needs_with(active, v, rules.and_then(|r| r.value.as_deref()))
        }
        _ => false,
    }
}

struct Ctx<'s, 'w> {
    schema: &'s Schema,
    warnings: &'w mut Vec<String>,
    place: String,
}

const REL: &[&str] = &["elem", "key", "value"];

impl Ctx<'_, '_> {
    fn warn(&mut self, key: &str, why: impl fmt::Display) {
        self.warnings.push(format!("{}: {key}: {why}", self.place));
    }

    fn field_rules(&mut self, f: &FieldDef) -> Rules {
        let mut rules = Rules::default();
        // `vt.in` values gathered per key, so that repeats make one set.
        let mut sets: Vec<(String, Vec<String>)> = Vec::new();
        for (key, value) in &f.annotations.0 {
            let Some(rest) = key.strip_prefix("vt.") else {
                continue;
            };
            let parts: Vec<&str> = rest.split('.').collect();
            let (rel, name) = parts.split_at(parts.len() - 1);
            let name = name[0];
            if let Some(bad) = rel.iter().find(|p| !REL.contains(p)) {
                self.warn(key, format!("unknown rule '{bad}'"));
                continue;
            }
            if is_field_reference(value) {
                self.warn(key, "field references are not supported");
                continue;
            }
            if is_function(value) {
                self.warn(key, "validation functions are not supported");
                continue;
            }
            if name == "in" || name == "not_in" {
                match sets.iter_mut().find(|(k, _)| k == key) {
                    Some((_, vals)) => vals.push(value.clone()),
                    None => sets.push((key.clone(), vec![value.clone()])),
                }
                continue;
            }
            self.add(
                &mut rules,
                &f.ty,
                rel,
                name,
                key,
                std::slice::from_ref(value),
            );
        }
        for (key, vals) in sets {
            let rest = &key["vt.".len()..];
            let parts: Vec<&str> = rest.split('.').collect();
            let (rel, name) = parts.split_at(parts.len() - 1);
            self.add(&mut rules, &f.ty, rel, name[0], &key, &vals);
        }
        rules
    }

    /// Adds rule `name` with `values`, below `rel` (`elem`, `key`, `value` steps) of a value
    /// of type `ty`.
    fn add(
        &mut self,
        rules: &mut Rules,
        ty: &Ty,
        rel: &[&str],
        name: &str,
        key: &str,
        values: &[String],
    ) {
        if let Some((first, rest)) = rel.split_first() {
            let (slot, inner) = match (*first, ty) {
                ("elem", Ty::List(e) | Ty::Set(e)) => (&mut rules.elem, &**e),
                ("key", Ty::Map(k, _)) => (&mut rules.key, &**k),
                ("value", Ty::Map(_, v)) => (&mut rules.value, &**v),
                _ => {
                    let t = self.schema.type_name(ty);
                    self.warn(key, format!("'{first}' does not apply to a {t}"));
                    return;
                }
            };
            let sub = slot.get_or_insert_with(Default::default);
            self.add(sub, inner, rest, name, key, values);
            return;
        }
        let value = values[0].as_str();
        let shown = if values.len() == 1 {
            value.to_owned()
        } else {
            format!("{values:?}")
        };
        let kind = match self.kind(ty, name, value, values) {
            Ok(Some(kind)) => kind,
            Ok(None) => return,
            Err(why) => {
                self.warn(key, why);
                return;
            }
        };
        match kind {
            Flag::Check(kind) => rules.checks.push(Check {
                key: key.to_owned(),
                shown,
                kind,
            }),
            Flag::NotNil(on) => rules.not_nil |= on,
            Flag::Skip(on) => rules.skip |= on,
        }
    }

    /// The rule `name = value` on a value of type `ty`; `Ok(None)` for a rule that always
    /// holds or is off.
    fn kind(
        &self,
        ty: &Ty,
        name: &str,
        value: &str,
        values: &[String],
    ) -> Result<Option<Flag>, String> {
        let t = self.schema.type_name(ty);
        let not_for = || format!("'{name}' does not apply to a {t}");
        let check = |k: Kind| Ok(Some(Flag::Check(k)));
        match name {
            "not_nil" => return Ok(Some(Flag::NotNil(parse_bool(value)?))),
            "skip" => {
                return match ty {
                    Ty::Struct(_) | Ty::List(_) | Ty::Set(_) | Ty::Map(..) => {
                        Ok(Some(Flag::Skip(parse_bool(value)?)))
                    }
                    _ => Err(not_for()),
                };
            }
            "assert" => return Err("expressions are not supported".into()),
            _ => {}
        }
        match ty {
            Ty::I8 | Ty::I16 | Ty::I32 | Ty::I64 => match name {
                "in" | "not_in" => check(Kind::IntIn(
                    values
                        .iter()
                        .map(|v| parse_int(v))
                        .collect::<Result<_, _>>()?,
                    name == "in",
                )),
                _ => match cmp_of(name) {
                    Some(c) => check(Kind::Int(c, parse_int(value)?)),
                    None => Err(unknown_or(name, &not_for)),
                },
            },
            Ty::Double => match name {
                "in" | "not_in" => check(Kind::FloatIn(
                    values
                        .iter()
                        .map(|v| parse_float(v))
                        .collect::<Result<_, _>>()?,
                    name == "in",
                )),
                _ => match cmp_of(name) {
                    Some(c) => check(Kind::Float(c, parse_float(value)?)),
                    None => Err(unknown_or(name, &not_for)),
                },
            },
            Ty::Bool => match name {
                "const" => check(Kind::Bool(parse_bool(value)?)),
                _ => Err(unknown_or(name, &not_for)),
            },
            Ty::Enum(eid) => {
                let def = self.schema.enum_def(*eid);
                let enum_value = |s: &str| -> Result<i64, String> {
                    if let Ok(n) = parse_int(s) {
                        return Ok(n);
                    }
                    let local = s.rsplit('.').next().unwrap_or(s);
                    def.value_by_name(local)
                        .map(i64::from)
                        .ok_or_else(|| format!("enum {} has no value '{s}'", def.name))
                };
                match name {
                    "const" => check(Kind::Int(Cmp::Eq, enum_value(value)?)),
                    "in" | "not_in" => check(Kind::IntIn(
                        values
                            .iter()
                            .map(|v| enum_value(v))
                            .collect::<Result<_, _>>()?,
                        name == "in",
                    )),
                    "defined_only" => {
                        if !parse_bool(value)? {
                            return Ok(None);
                        }
                        let mut vals: Vec<i32> = def.values.iter().map(|v| v.value).collect();
                        vals.sort_unstable();
                        check(Kind::DefinedOnly(vals))
                    }
                    _ => Err(unknown_or(name, &not_for)),
                }
            }
            Ty::String | Ty::Binary => {
                let b = || value.as_bytes().to_vec();
                match name {
                    "const" => check(Kind::BytesEq(b())),
                    "prefix" => check(Kind::Prefix(b())),
                    "suffix" => check(Kind::Suffix(b())),
                    "contains" => check(Kind::Contains(b())),
                    "not_contains" => check(Kind::NotContains(b())),
                    "in" | "not_in" => check(Kind::BytesIn(
                        values.iter().map(|v| v.as_bytes().to_vec()).collect(),
                        name == "in",
                    )),
                    "pattern" => match regex::bytes::Regex::new(value) {
                        Ok(re) => check(Kind::Pattern(re)),
                        Err(e) => {
                            // The regex crate's message spans lines; its last line says why.
                            let text = e.to_string();
                            let why = text.lines().last().unwrap_or("").trim();
                            let why = why.strip_prefix("error: ").unwrap_or(why);
                            Err(format!("invalid regex: {why}"))
                        }
                    },
                    "min_size" => check(Kind::MinSize(parse_size(value)?)),
                    "max_size" => check(Kind::MaxSize(parse_size(value)?)),
                    "min_rune_size" => check(Kind::MinRunes(parse_size(value)?)),
                    "max_rune_size" => check(Kind::MaxRunes(parse_size(value)?)),
                    _ => Err(unknown_or(name, &not_for)),
                }
            }
            Ty::List(_) | Ty::Set(_) | Ty::Map(..) => match name {
                "min_size" => check(Kind::MinSize(parse_size(value)?)),
                "max_size" => check(Kind::MaxSize(parse_size(value)?)),
                "no_sparse" if matches!(ty, Ty::Map(..)) => {
                    parse_bool(value)?;
                    Ok(None)
                }
                _ => Err(unknown_or(name, &not_for)),
            },
            Ty::Struct(_) | Ty::Uuid => Err(unknown_or(name, &not_for)),
        }
    }
}

fn is_ident(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// `$Field`: another field's value, in thrift-gen-validator.
fn is_field_reference(v: &str) -> bool {
    v.strip_prefix('$').is_some_and(is_ident)
}

/// `@name(args)`: a validation function, in thrift-gen-validator. Other values starting with
/// `@` are literals (as there, where a value that does not parse as a function is one).
fn is_function(v: &str) -> bool {
    v.strip_prefix('@')
        .and_then(|rest| rest.split_once('('))
        .is_some_and(|(name, args)| is_ident(name) && args.ends_with(')'))
}

enum Flag {
    Check(Kind),
    NotNil(bool),
    Skip(bool),
}

const KNOWN: &[&str] = &[
    "const",
    "lt",
    "le",
    "gt",
    "ge",
    "min",
    "max",
    "in",
    "not_in",
    "pattern",
    "prefix",
    "suffix",
    "contains",
    "not_contains",
    "min_size",
    "max_size",
    "min_rune_size",
    "max_rune_size",
    "defined_only",
    "not_nil",
    "skip",
    "no_sparse",
    "assert",
    "elem",
    "key",
    "value",
];

fn unknown_or(name: &str, not_for: &dyn Fn() -> String) -> String {
    if KNOWN.contains(&name) {
        not_for()
    } else {
        format!("unknown rule '{name}'")
    }
}

fn cmp_of(name: &str) -> Option<Cmp> {
    Some(match name {
        "const" => Cmp::Eq,
        "lt" => Cmp::Lt,
        "le" | "max" => Cmp::Le,
        "gt" => Cmp::Gt,
        "ge" | "min" => Cmp::Ge,
        _ => return None,
    })
}

/// An integer as Go's `strconv.ParseInt(s, 0, 64)` reads it.
fn parse_int(s: &str) -> Result<i64, String> {
    let bad = || format!("'{s}' is not an integer");
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = digits.to_ascii_lowercase();
    let (radix, body) = if let Some(h) = lower.strip_prefix("0x") {
        (16, h.to_owned())
    } else if let Some(o) = lower.strip_prefix("0o") {
        (8, o.to_owned())
    } else if let Some(b) = lower.strip_prefix("0b") {
        (2, b.to_owned())
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_owned())
    } else {
        (10, lower.clone())
    };
    // Go allows '_' between digits only with a base prefix.
    let body = if radix != 10 {
        body.replace('_', "")
    } else {
        body
    };
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(bad());
    }
    let mag = u64::from_str_radix(&body, radix).map_err(|_| bad())?;
    if neg {
        if mag > i64::MAX as u64 + 1 {
            return Err(bad());
        }
        Ok((mag as i64).wrapping_neg())
    } else {
        i64::try_from(mag).map_err(|_| bad())
    }
}

fn parse_float(s: &str) -> Result<f64, String> {
    s.trim()
        .parse::<f64>()
        .ok()
        .or_else(|| parse_int(s).ok().map(|i| i as f64))
        .ok_or_else(|| format!("'{s}' is not a number"))
}

fn parse_size(s: &str) -> Result<u64, String> {
    let n = parse_int(s)?;
    u64::try_from(n).map_err(|_| format!("'{s}' is not a size (negative)"))
}

/// A boolean as Go's `strconv.ParseBool` reads it.
fn parse_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(format!("'{s}' is not a boolean")),
    }
}

// ---------------------------------------------------------------------------------------------
// Checking

impl Check {
    /// `None` when the rule holds.
    fn violated(&self, v: Scalar<'_>) -> bool {
        let ok = match (&self.kind, v) {
            (Kind::Int(c, bound), Scalar::Int(x)) => cmp(*c, x.cmp(bound)),
            (Kind::Float(c, bound), Scalar::Float(x)) => match x.partial_cmp(bound) {
                Some(o) => cmp(*c, o),
                None => false,
            },
            (Kind::IntIn(set, want), Scalar::Int(x)) => set.contains(&x) == *want,
            (Kind::FloatIn(set, want), Scalar::Float(x)) => set.contains(&x) == *want,
            (Kind::Bool(b), Scalar::Bool(x)) => x == *b,
            (Kind::BytesEq(s), Scalar::Bytes(x)) => x == s.as_slice(),
            (Kind::BytesIn(set, want), Scalar::Bytes(x)) => {
                set.iter().any(|s| s.as_slice() == x) == *want
            }
            (Kind::Prefix(p), Scalar::Bytes(x)) => x.starts_with(p),
            (Kind::Suffix(p), Scalar::Bytes(x)) => x.ends_with(p),
            (Kind::Contains(p), Scalar::Bytes(x)) => contains(x, p),
            (Kind::NotContains(p), Scalar::Bytes(x)) => !contains(x, p),
            (Kind::Pattern(re), Scalar::Bytes(x)) => re.is_match(x),
            (Kind::MinSize(n), Scalar::Bytes(x)) => x.len() as u64 >= *n,
            (Kind::MaxSize(n), Scalar::Bytes(x)) => x.len() as u64 <= *n,
            (Kind::MinSize(n), Scalar::Len(x)) => x as u64 >= *n,
            (Kind::MaxSize(n), Scalar::Len(x)) => x as u64 <= *n,
            (Kind::MinRunes(n), Scalar::Bytes(x)) => runes(x) >= *n,
            (Kind::MaxRunes(n), Scalar::Bytes(x)) => runes(x) <= *n,
            (Kind::DefinedOnly(vals), Scalar::Int(x)) => {
                i32::try_from(x).is_ok_and(|x| vals.binary_search(&x).is_ok())
            }
            // A rule compiled for another kind of value never applies.
            _ => true,
        };
        !ok
    }

    #[cold]
    fn error(&self, v: Scalar<'_>) -> Error {
        let mut what = v.to_string();
        if matches!(self.kind, Kind::MinRunes(_) | Kind::MaxRunes(_))
            && let Scalar::Bytes(x) = v
        {
            let _ = write!(what, ", {} characters", runes(x));
        }
        if matches!(self.kind, Kind::MinSize(_) | Kind::MaxSize(_))
            && let Scalar::Bytes(x) = v
        {
            what = format!("size {}", x.len());
        }
        Error::validation(format!("{} {} violated ({what})", self.key, self.shown))
    }
}

fn cmp(c: Cmp, o: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::*;
    match c {
        Cmp::Eq => o == Equal,
        Cmp::Lt => o == Less,
        Cmp::Le => o != Greater,
        Cmp::Gt => o == Greater,
        Cmp::Ge => o != Less,
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// Characters, counting each byte of an invalid UTF-8 sequence as one (as Go's
/// `utf8.RuneCount` does).
fn runes(b: &[u8]) -> u64 {
    b.utf8_chunks()
        .map(|c| (c.valid().chars().count() + c.invalid().len()) as u64)
        .sum()
}

impl Rules {
    #[inline]
    fn check(&self, v: Scalar<'_>) -> Result<()> {
        for c in &self.checks {
            if c.violated(v) {
                return Err(c.error(v));
            }
        }
        Ok(())
    }
}

static NO_RULES: Rules = Rules {
    checks: Vec::new(),
    not_nil: false,
    skip: false,
    elem: None,
    key: None,
    value: None,
};

impl Validator {
    fn struct_rules(&self, id: StructId) -> Result<&StructRules> {
        self.structs
            .get(id.0 as usize)
            .ok_or_else(|| Error::schema(format!("no struct with id {} in the validator", id.0)))
    }

    fn active(&self, ty: &Ty, rules: &Rules) -> bool {
        if rules.not_nil || !rules.checks.is_empty() {
            return true;
        }
        match ty {
            Ty::Struct(id) => {
                !rules.skip && self.structs.get(id.0 as usize).is_some_and(|s| s.active)
            }
            Ty::List(e) | Ty::Set(e) => self.active(e, rules.elem.as_deref().unwrap_or(&NO_RULES)),
            Ty::Map(k, v) => {
                self.active(k, rules.key.as_deref().unwrap_or(&NO_RULES))
                    || self.active(v, rules.value.as_deref().unwrap_or(&NO_RULES))
            }
            _ => false,
        }
    }

    /// Checks an IDL-only value (after decoding it, or before encoding it). The validator must
    /// have been built from the schema the value belongs to.
    pub fn check(&self, v: &DynStruct) -> Result<()> {
        let s = self.struct_rules(v.struct_id())?;
        if *s.name != *v.name() {
            return Err(Error::schema(format!(
                "the validator's struct {} is not the value's {}: built from another schema",
                s.name,
                v.name()
            )));
        }
        self.check_dyn(v, 0).map_err(|e| e.in_root(&s.name))
    }

    fn check_dyn(&self, v: &DynStruct, depth: u32) -> Result<()> {
        if depth > DEFAULT_DEPTH_LIMIT {
            return Err(Error::validation("nesting too deep"));
        }
        let s = self.struct_rules(v.struct_id())?;
        for f in &s.fields {
            match v.get_by_id(f.id)? {
                None => {
                    if f.rules.not_nil {
                        return Err(not_nil_error(&f.name));
                    }
                }
                Some(val) => self
                    .check_value(&val, &f.ty, &f.rules, depth)
                    .map_err(|e| e.in_field(&f.name))?,
            }
        }
        Ok(())
    }

    fn check_value(&self, v: &Value, ty: &Ty, rules: &Rules, depth: u32) -> Result<()> {
        let scalar = match v {
            Value::Bool(b) => Scalar::Bool(*b),
            Value::I8(x) => Scalar::Int(*x as i64),
            Value::I16(x) => Scalar::Int(*x as i64),
            Value::I32(x) => Scalar::Int(*x as i64),
            Value::I64(x) => Scalar::Int(*x),
            Value::Double(x) => Scalar::Float(*x),
            Value::String(s) => Scalar::Bytes(s.as_bytes()),
            Value::Binary(b) => Scalar::Bytes(b),
            Value::Uuid(_) => return Ok(()),
            Value::Struct(s) => {
                if !rules.skip && self.has_rules(s.struct_id()) {
                    self.check_dyn(s, depth + 1)?;
                }
                return Ok(());
            }
            Value::List(items) | Value::Set(items) => {
                rules.check(Scalar::Len(items.len()))?;
                let (Ty::List(e) | Ty::Set(e)) = ty else {
                    return Ok(());
                };
                let er = rules.elem.as_deref().unwrap_or(&NO_RULES);
                if self.active(e, er) {
                    for (i, item) in items.iter().enumerate() {
                        self.check_value(item, e, er, depth + 1)
                            .map_err(|err| err.at_index(i))?;
                    }
                }
                return Ok(());
            }
            Value::Map(entries) => {
                rules.check(Scalar::Len(entries.len()))?;
                let Ty::Map(kt, vt) = ty else {
                    return Ok(());
                };
                let kr = rules.key.as_deref().unwrap_or(&NO_RULES);
                let vr = rules.value.as_deref().unwrap_or(&NO_RULES);
                let (ka, va) = (self.active(kt, kr), self.active(vt, vr));
                for (i, (k, val)) in entries.iter().enumerate() {
                    if ka {
                        self.check_value(k, kt, kr, depth + 1)
                            .map_err(|e| e.push(PathSegment::KeyAt(i)))?;
                    }
                    if va {
                        self.check_value(val, vt, vr, depth + 1)
                            .map_err(|e| e.push(key_segment(value_key(k), i)))?;
                    }
                }
                return Ok(());
            }
        };
        rules.check(scalar)
    }

    /// Checks encoded bytes of the struct named `root` (`Name` or `file.Name`; the schema is
    /// the one the validator was built from). Reads only fields with rules; skips the rest.
    pub fn check_bytes(
        &self,
        schema: &Schema,
        root: &str,
        bytes: &[u8],
        protocol: Protocol,
    ) -> Result<()> {
        let id = schema.expect_struct(root)?;
        self.check_bytes_of(id, bytes, protocol)
    }

    /// [`check_bytes`](Validator::check_bytes) by struct id.
    pub fn check_bytes_of(&self, root: StructId, bytes: &[u8], protocol: Protocol) -> Result<()> {
        let s = self.struct_rules(root)?;
        if !s.active {
            return Ok(());
        }
        let r = match protocol {
            Protocol::Binary => {
                self.check_struct(&mut BinaryReader::new(bytes), root, DEFAULT_DEPTH_LIMIT)
            }
            Protocol::Compact => {
                self.check_struct(&mut CompactReader::new(bytes), root, DEFAULT_DEPTH_LIMIT)
            }
        };
        r.map_err(|e| e.in_root(&s.name))
    }

    fn check_struct<'a, R: ProtoRead<'a>>(
        &self,
        r: &mut R,
        id: StructId,
        depth: u32,
    ) -> Result<()> {
        let depth = enter(depth, r.position())?;
        let s = self.struct_rules(id)?;
        let saved = r.read_struct_begin();
        // Presence of the fields with rules (bit i: `s.fields[i]`), for `vt.not_nil`.
        let mut seen = 0u128;
        loop {
            let (t, fid) = r.read_field_begin()?;
            if t == TType::Stop {
                break;
            }
            match s.fields.iter().position(|f| f.id == fid) {
                Some(i) if s.fields[i].ty.ttype() == t => {
                    let f = &s.fields[i];
                    if i < 128 {
                        seen |= 1 << i;
                    }
                    self.check_wire(r, &f.ty, &f.rules, depth)
                        .map_err(|e| e.in_field(&f.name))?;
                }
                _ => r.skip(t, depth)?,
            }
        }
        r.read_struct_end(saved);
        for (i, f) in s.fields.iter().enumerate() {
            if f.rules.not_nil && (i >= 128 || seen & (1 << i) == 0) {
                if i >= 128 {
                    // Not tracked: rare enough (over 128 fields with rules) to not check.
                    continue;
                }
                return Err(not_nil_error(&f.name));
            }
        }
        Ok(())
    }

    /// Checks the value of type `ty` at the reader's position, reading past it.
    fn check_wire<'a, R: ProtoRead<'a>>(
        &self,
        r: &mut R,
        ty: &Ty,
        rules: &Rules,
        depth: u32,
    ) -> Result<()> {
        if !self.active(ty, rules) {
            return r.skip(ty.ttype(), depth);
        }
        let scalar = match ty {
            Ty::Bool => Scalar::Bool(r.read_bool()?),
            Ty::I8 => Scalar::Int(r.read_i8()? as i64),
            Ty::I16 => Scalar::Int(r.read_i16()? as i64),
            Ty::I32 | Ty::Enum(_) => Scalar::Int(r.read_i32()? as i64),
            Ty::I64 => Scalar::Int(r.read_i64()?),
            Ty::Double => Scalar::Float(r.read_double()?),
            Ty::String => Scalar::Bytes(r.read_string()?.as_bytes()),
            Ty::Binary => Scalar::Bytes(r.read_binary()?),
            Ty::Uuid => return r.skip(TType::Uuid, depth),
            Ty::Struct(id) => {
                return if rules.skip {
                    r.skip(TType::Struct, depth)
                } else {
                    self.check_struct(r, *id, depth)
                };
            }
            Ty::List(e) | Ty::Set(e) => {
                let depth = enter(depth, r.position())?;
                let (t, n) = r.read_list_begin()?;
                if n > 0 && t != e.ttype() {
                    // Decoding skips such a container and leaves it empty.
                    for _ in 0..n {
                        r.skip(t, depth)?;
                    }
                    return rules.check(Scalar::Len(0));
                }
                rules.check(Scalar::Len(n))?;
                let er = rules.elem.as_deref().unwrap_or(&NO_RULES);
                for i in 0..n {
                    self.check_wire(r, e, er, depth)
                        .map_err(|err| err.at_index(i))?;
                }
                return Ok(());
            }
            Ty::Map(kt, vt) => {
                let depth = enter(depth, r.position())?;
                let (k, v, n) = r.read_map_begin()?;
                if n > 0 && (k != kt.ttype() || v != vt.ttype()) {
                    for _ in 0..n {
                        r.skip(k, depth)?;
                        r.skip(v, depth)?;
                    }
                    return rules.check(Scalar::Len(0));
                }
                rules.check(Scalar::Len(n))?;
                let kr = rules.key.as_deref().unwrap_or(&NO_RULES);
                let vr = rules.value.as_deref().unwrap_or(&NO_RULES);
                let va = self.active(vt, vr);
                for i in 0..n {
                    // Read a scalar key once: it is checked and it names the value's path.
                    let key = self
                        .wire_key(r, kt, kr, depth)
                        .map_err(|e| e.push(PathSegment::KeyAt(i)))?;
                    if va {
                        self.check_wire(r, vt, vr, depth)
                            .map_err(|e| e.push(key_segment(key, i)))?;
                    } else {
                        r.skip(v, depth)?;
                    }
                }
                return Ok(());
            }
        };
        rules.check(scalar)
    }

    /// Checks one map key and returns its text (for the path) when it is a scalar.
    fn wire_key<'a, R: ProtoRead<'a>>(
        &self,
        r: &mut R,
        ty: &Ty,
        rules: &Rules,
        depth: u32,
    ) -> Result<Option<String>> {
        let scalar = match ty {
            Ty::Bool => Scalar::Bool(r.read_bool()?),
            Ty::I8 => Scalar::Int(r.read_i8()? as i64),
            Ty::I16 => Scalar::Int(r.read_i16()? as i64),
            Ty::I32 | Ty::Enum(_) => Scalar::Int(r.read_i32()? as i64),
            Ty::I64 => Scalar::Int(r.read_i64()?),
            Ty::Double => Scalar::Float(r.read_double()?),
            Ty::String => Scalar::Bytes(r.read_string()?.as_bytes()),
            Ty::Binary => Scalar::Bytes(r.read_binary()?),
            _ => {
                self.check_wire(r, ty, rules, depth)?;
                return Ok(None);
            }
        };
        rules.check(scalar)?;
        Ok(Some(scalar_key(scalar)))
    }
}

fn scalar_key(s: Scalar<'_>) -> String {
    match s {
        Scalar::Bool(b) => b.to_string(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(x) => x.to_string(),
        Scalar::Bytes(b) => format!("{:?}", String::from_utf8_lossy(b)),
        Scalar::Len(n) => n.to_string(),
    }
}

fn value_key(v: &Value) -> Option<String> {
    Some(scalar_key(match v {
        Value::Bool(b) => Scalar::Bool(*b),
        Value::I8(x) => Scalar::Int(*x as i64),
        Value::I16(x) => Scalar::Int(*x as i64),
        Value::I32(x) => Scalar::Int(*x as i64),
        Value::I64(x) => Scalar::Int(*x),
        Value::Double(x) => Scalar::Float(*x),
        Value::String(s) => Scalar::Bytes(s.as_bytes()),
        Value::Binary(b) => Scalar::Bytes(b),
        _ => return None,
    }))
}

fn key_segment(key: Option<String>, i: usize) -> PathSegment {
    match key {
        Some(k) => PathSegment::Key(k),
        None => PathSegment::KeyAt(i),
    }
}

#[cold]
fn not_nil_error(name: &Arc<str>) -> Error {
    Error::validation("vt.not_nil violated (field is absent)").in_field(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_integers() {
        assert_eq!(parse_int("10"), Ok(10));
        assert_eq!(parse_int("-10"), Ok(-10));
        assert_eq!(parse_int("0x1f"), Ok(31));
        assert_eq!(parse_int("0o17"), Ok(15));
        assert_eq!(parse_int("017"), Ok(15));
        assert_eq!(parse_int("0b101"), Ok(5));
        assert_eq!(parse_int("0x_1f"), Ok(31));
        assert_eq!(parse_int("0"), Ok(0));
        assert_eq!(parse_int("-9223372036854775808"), Ok(i64::MIN));
        assert!(parse_int("9223372036854775808").is_err());
        assert!(parse_int("1_000").is_err());
        assert!(parse_int("").is_err());
        assert!(parse_int("12a").is_err());
        assert!(parse_int("08").is_err());
    }

    #[test]
    fn runes_count_invalid_bytes_one_each() {
        assert_eq!(runes("héllo".as_bytes()), 5);
        assert_eq!(runes(b"a\xff\xfeb"), 4);
    }
}
