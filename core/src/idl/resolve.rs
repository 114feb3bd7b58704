//! Resolution: the parsed files (root first, includes already found) become a [`Schema`].
//! Names are looked up per file (own names, and `file.Name` for direct includes), typedefs
//! are followed, field lists and services are checked, and constants are evaluated against
//! their declared types.
//!
//! Forward references are allowed everywhere (types, constants, `extends`); cycles are errors.
//! Every recursion is bounded by [`MAX_NESTING`], and all constants together by
//! [`MAX_CONST_VALUES`], so hostile input cannot overflow the stack or exhaust memory.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use super::MAX_NESTING;
use super::ast::*;
use crate::error::{Error, ErrorKind, Location, Result};
use crate::schema::*;

/// The most values (scalars and containers, counted one each) all constants and defaults of
/// one schema may hold: constants that reference constants can grow exponentially.
pub(crate) const MAX_CONST_VALUES: usize = 1_000_000;

/// One parsed file and what its includes resolved to.
#[derive(Debug)]
pub(crate) struct SourceFile {
    pub path: PathBuf,
    /// The file stem: how including files refer to it.
    pub name: String,
    pub doc: Document,
    pub includes: Vec<FileId>,
    /// Include name (file stem) to file.
    pub include_names: HashMap<String, FileId>,
}

pub(crate) fn resolve(files: &[SourceFile]) -> Result<Schema> {
    let mut r = Resolver {
        files,
        schema: Schema::default(),
        structs: Vec::new(),
        typedefs: Vec::new(),
        typedef_state: Vec::new(),
        consts: Vec::new(),
        const_state: Vec::new(),
        services: Vec::new(),
        enum_names: Vec::new(),
        enum_values: Vec::new(),
        field_names: Vec::new(),
        budget: MAX_CONST_VALUES,
    };
    r.declare()?;
    for i in 0..r.typedefs.len() {
        r.typedef(i, 0)?;
    }
    r.struct_fields()?;
    r.services()?;
    r.service_cycles()?;
    for i in 0..r.consts.len() {
        r.constant(i, 0)?;
    }
    r.defaults()?;
    Ok(r.schema)
}

#[derive(Clone, Debug, Default)]
enum Progress<T> {
    #[default]
    Todo,
    Active,
    Done(T),
}

/// What is known of a resolved typedef besides its type.
#[derive(Clone, Debug)]
struct TypedefInfo {
    depth: usize,
    /// Annotations written on the target type (`typedef list<i32> (cpp.template = "x") L`),
    /// passed on to fields declared with the typedef.
    type_annotations: Annotations,
}

/// Size of a constant value: nesting depth and number of values.
#[derive(Clone, Copy, Debug)]
struct ValueInfo {
    depth: usize,
    nodes: usize,
}

const SCALAR: ValueInfo = ValueInfo { depth: 1, nodes: 1 };

struct Resolver<'a> {
    files: &'a [SourceFile],
    schema: Schema,
    structs: Vec<(FileId, &'a StructDecl)>,
    typedefs: Vec<(FileId, &'a TypedefDecl)>,
    typedef_state: Vec<Progress<TypedefInfo>>,
    consts: Vec<(FileId, &'a ConstDecl)>,
    const_state: Vec<Progress<ValueInfo>>,
    services: Vec<(FileId, &'a ServiceDecl)>,
    /// Per enum: value by name, and the set of values (enums may be large).
    enum_names: Vec<HashMap<&'a str, i32>>,
    enum_values: Vec<HashSet<i32>>,
    /// Per struct: field position by name.
    field_names: Vec<HashMap<&'a str, usize>>,
    /// Constant values still allowed.
    budget: usize,
}

fn id32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn base_ty(b: BaseType) -> Ty {
    match b {
        BaseType::Bool => Ty::Bool,
        BaseType::I8 => Ty::I8,
        BaseType::I16 => Ty::I16,
        BaseType::I32 => Ty::I32,
        BaseType::I64 => Ty::I64,
        BaseType::Double => Ty::Double,
        BaseType::String => Ty::String,
        BaseType::Binary => Ty::Binary,
        BaseType::Uuid => Ty::Uuid,
    }
}

fn int_range(ty: &Ty) -> Option<(i64, i64)> {
    match ty {
        Ty::I8 => Some((i8::MIN.into(), i8::MAX.into())),
        Ty::I16 => Some((i16::MIN.into(), i16::MAX.into())),
        Ty::I32 => Some((i32::MIN.into(), i32::MAX.into())),
        Ty::I64 => Some((i64::MIN, i64::MAX)),
        _ => None,
    }
}

fn is_integral(ty: &Ty) -> bool {
    int_range(ty).is_some() || matches!(ty, Ty::Enum(_))
}

/// Parses `00112233-4455-6677-8899-aabbccddeeff`, optionally in braces, any case.
pub(crate) fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    let s = text
        .strip_prefix('{')
        .and_then(|r| r.strip_suffix('}'))
        .unwrap_or(text);
    let b = s.as_bytes();
    if b.len() != 36 {
        return None;
    }
    let mut out = [0u8; 16];
    let mut nibbles = 0usize;
    for (i, &c) in b.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if c != b'-' {
                return None;
            }
            continue;
        }
        let v = (c as char).to_digit(16)? as u8;
        let byte = out.get_mut(nibbles / 2)?;
        *byte = (*byte << 4) | v;
        nibbles += 1;
    }
    Some(out)
}

/// A constant expression in a message: `integer 5`, `string "abc"`, `a list`.
fn describe(e: &ConstExpr) -> String {
    match &e.kind {
        ConstKind::Int(i) => format!("integer {i}"),
        ConstKind::Double(d) => format!("double {d}"),
        ConstKind::Bool(b) => format!("'{b}'"),
        ConstKind::Str(s) => {
            let short: String = s.chars().take(40).collect();
            let dots = if short.len() < s.len() { "..." } else { "" };
            format!("string {:?}", format!("{short}{dots}"))
        }
        ConstKind::Ident(name) => format!("'{name}'"),
        ConstKind::List(_) => "a list".into(),
        ConstKind::Map(_) => "a map".into(),
    }
}

impl<'a> Resolver<'a> {
    #[cold]
    fn error(&self, file: FileId, span: Span, detail: String) -> Error {
        let path = self
            .files
            .get(file.0 as usize)
            .map(|f| f.path.clone())
            .unwrap_or_default();
        let loc = Location {
            file: path,
            line: span.line,
            column: span.column,
        };
        Error::idl(ErrorKind::IdlSemantic, loc, detail)
    }

    fn lookup(&self, file: FileId, name: &str) -> Option<Item> {
        let scope = self.schema.scopes.get(file.0 as usize)?;
        if let Some(item) = scope.get(name) {
            return Some(*item);
        }
        let (prefix, rest) = name.split_once('.')?;
        let inc = self.files.get(file.0 as usize)?.include_names.get(prefix)?;
        self.schema.scopes.get(inc.0 as usize)?.get(rest).copied()
    }

    fn enum_value(&self, id: EnumId, name: &str) -> Option<i32> {
        self.enum_names.get(id.0 as usize)?.get(name).copied()
    }

    fn enum_has(&self, id: EnumId, value: i64) -> bool {
        let set = self.enum_values.get(id.0 as usize);
        i32::try_from(value).is_ok_and(|v| set.is_some_and(|s| s.contains(&v)))
    }

    /// "unknown type 'x.Foo'", with a hint when `x` is not an included file.
    fn unknown(&self, file: FileId, span: Span, what: &str, name: &str) -> Error {
        let hint = match name.split_once('.') {
            Some((prefix, _))
                if self
                    .files
                    .get(file.0 as usize)
                    .is_some_and(|f| !f.include_names.contains_key(prefix)) =>
            {
                format!(" ('{prefix}' is not an included file)")
            }
            _ => String::new(),
        };
        self.error(file, span, format!("unknown {what} '{name}'{hint}"))
    }

    /// Allocates every definition and fills the per-file scopes. Enums are complete after this.
    fn declare(&mut self) -> Result<()> {
        for (fi, src) in self.files.iter().enumerate() {
            let fid = FileId(id32(fi));
            let mut scope: HashMap<String, Item> = HashMap::new();
            let mut first: HashMap<&str, Span> = HashMap::new();
            for def in &src.doc.definitions {
                let name = def.name();
                if let Some(prev) = first.get(name.text.as_str()) {
                    return Err(self.error(
                        fid,
                        name.span,
                        format!(
                            "duplicate definition '{}' (first defined at line {})",
                            name.text, prev.line
                        ),
                    ));
                }
                first.insert(&name.text, name.span);
                let item = match def {
                    Definition::Struct(d) => {
                        let id = StructId(id32(self.schema.structs.len()));
                        self.schema.structs.push(StructDef {
                            name: d.name.text.clone(),
                            file: fid,
                            kind: d.kind,
                            fields: Vec::new(),
                            annotations: d.annotations.clone(),
                            doc: d.doc.clone(),
                            span: d.name.span,
                        });
                        self.structs.push((fid, d));
                        Item::Struct(id)
                    }
                    Definition::Enum(d) => {
                        let mut seen: HashMap<&str, Span> = HashMap::new();
                        for v in &d.values {
                            if let Some(prev) = seen.insert(&v.name.text, v.name.span) {
                                return Err(self.error(
                                    fid,
                                    v.name.span,
                                    format!(
                                        "duplicate value '{}' in enum '{}' (first declared at line {})",
                                        v.name.text, d.name.text, prev.line
                                    ),
                                ));
                            }
                        }
                        self.enum_names.push(
                            d.values
                                .iter()
                                .map(|v| (v.name.text.as_str(), v.value))
                                .collect(),
                        );
                        self.enum_values
                            .push(d.values.iter().map(|v| v.value).collect());
                        let id = EnumId(id32(self.schema.enums.len()));
                        self.schema.enums.push(EnumDef {
                            name: d.name.text.clone(),
                            file: fid,
                            values: d
                                .values
                                .iter()
                                .map(|v| EnumValueDef {
                                    name: v.name.text.clone(),
                                    value: v.value,
                                    annotations: v.annotations.clone(),
                                    doc: v.doc.clone(),
                                    span: v.name.span,
                                })
                                .collect(),
                            annotations: d.annotations.clone(),
                            doc: d.doc.clone(),
                            span: d.name.span,
                        });
                        Item::Enum(id)
                    }
                    Definition::Typedef(d) => {
                        let idx = id32(self.schema.typedefs.len());
                        self.schema.typedefs.push(TypedefDef {
                            name: d.name.text.clone(),
                            file: fid,
                            ty: Ty::Bool,
                            annotations: d.annotations.clone(),
                            doc: d.doc.clone(),
                            span: d.name.span,
                        });
                        self.typedefs.push((fid, d));
                        self.typedef_state.push(Progress::Todo);
                        Item::Typedef(idx)
                    }
                    Definition::Const(d) => {
                        let idx = id32(self.schema.consts.len());
                        self.schema.consts.push(ConstDef {
                            name: d.name.text.clone(),
                            file: fid,
                            ty: Ty::Bool,
                            value: ConstValue::Bool(false),
                            doc: d.doc.clone(),
                            span: d.name.span,
                        });
                        self.consts.push((fid, d));
                        self.const_state.push(Progress::Todo);
                        Item::Const(idx)
                    }
                    Definition::Service(d) => {
                        let id = ServiceId(id32(self.schema.services.len()));
                        self.schema.services.push(ServiceDef {
                            name: d.name.text.clone(),
                            file: fid,
                            extends: None,
                            functions: Vec::new(),
                            annotations: d.annotations.clone(),
                            doc: d.doc.clone(),
                            span: d.name.span,
                        });
                        self.services.push((fid, d));
                        Item::Service(id)
                    }
                };
                scope.insert(name.text.clone(), item);
            }
            self.schema.scopes.push(scope);
            self.schema.files.push(FileDef {
                path: src.path.clone(),
                name: src.name.clone(),
                namespaces: src.doc.namespaces.clone(),
                includes: src.includes.clone(),
                cpp_includes: src.doc.cpp_includes.clone(),
                doc: src.doc.doc.clone(),
            });
        }
        Ok(())
    }

    /// Resolves a type written at nesting `level` (containers and typedef hops both count).
    /// Returns the type and its depth.
    fn ty(&mut self, file: FileId, t: &TypeExpr, level: usize) -> Result<(Ty, usize)> {
        if level >= MAX_NESTING {
            return Err(self.too_deep(file, t.span));
        }
        Ok(match &t.kind {
            TypeKind::Base(b) => (base_ty(*b), 1),
            TypeKind::List(e) => {
                let (e, d) = self.ty(file, e, level + 1)?;
                (Ty::List(Box::new(e)), d + 1)
            }
            TypeKind::Set(e) => {
                let (e, d) = self.ty(file, e, level + 1)?;
                (Ty::Set(Box::new(e)), d + 1)
            }
            TypeKind::Map(k, v) => {
                let (k, dk) = self.ty(file, k, level + 1)?;
                let (v, dv) = self.ty(file, v, level + 1)?;
                (Ty::Map(Box::new(k), Box::new(v)), dk.max(dv) + 1)
            }
            TypeKind::Named(name) => match self.lookup(file, name) {
                Some(Item::Struct(id)) => (Ty::Struct(id), 1),
                Some(Item::Enum(id)) => (Ty::Enum(id), 1),
                Some(Item::Typedef(i)) => {
                    let (ty, info) = self.typedef(i as usize, level + 1)?;
                    if level + info.depth > MAX_NESTING {
                        return Err(self.too_deep(file, t.span));
                    }
                    (ty, info.depth)
                }
                Some(Item::Const(_)) => {
                    return Err(self.error(
                        file,
                        t.span,
                        format!("'{name}' is a constant, not a type"),
                    ));
                }
                Some(Item::Service(_)) => {
                    return Err(self.error(
                        file,
                        t.span,
                        format!("'{name}' is a service, not a type"),
                    ));
                }
                None => return Err(self.unknown(file, t.span, "type", name)),
            },
        })
    }

    #[cold]
    fn too_deep(&self, file: FileId, span: Span) -> Error {
        self.error(
            file,
            span,
            format!(
                "type nested deeper than {MAX_NESTING} levels (counting containers and typedefs)"
            ),
        )
    }

    /// The annotations that go with a field's type: those written on it, else those of the
    /// typedef it names.
    fn type_annotations(&self, file: FileId, t: &TypeExpr) -> Annotations {
        if !t.annotations.is_empty() {
            return t.annotations.clone();
        }
        if let TypeKind::Named(name) = &t.kind
            && let Some(Item::Typedef(i)) = self.lookup(file, name)
            && let Some(Progress::Done(info)) = self.typedef_state.get(i as usize)
        {
            return info.type_annotations.clone();
        }
        Annotations::default()
    }

    fn typedef(&mut self, i: usize, level: usize) -> Result<(Ty, TypedefInfo)> {
        let (file, decl) = self.typedefs[i];
        match &self.typedef_state[i] {
            Progress::Done(info) => return Ok((self.schema.typedefs[i].ty.clone(), info.clone())),
            Progress::Active => {
                return Err(self.error(
                    file,
                    decl.name.span,
                    format!("typedef '{}' refers to itself", decl.name.text),
                ));
            }
            Progress::Todo => {}
        }
        self.typedef_state[i] = Progress::Active;
        let (ty, depth) = self.ty(file, &decl.ty, level)?;
        let info = TypedefInfo {
            depth,
            type_annotations: self.type_annotations(file, &decl.ty),
        };
        self.schema.typedefs[i].ty = ty.clone();
        self.typedef_state[i] = Progress::Done(info.clone());
        Ok((ty, info))
    }

    /// Resolves a field list; `what` names it in messages (`struct 'A'`).
    fn fields(&mut self, file: FileId, decls: &[FieldDecl], what: &str) -> Result<Vec<FieldDef>> {
        let mut out: Vec<FieldDef> = Vec::with_capacity(decls.len());
        let mut by_id: HashMap<i16, usize> = HashMap::new();
        let mut by_name: HashMap<&str, usize> = HashMap::new();
        for f in decls {
            if let Some(&prev) = by_id.get(&f.id) {
                let prev = &out[prev];
                return Err(self.error(
                    file,
                    f.id_span,
                    format!(
                        "duplicate field id {} in {what} (first used by '{}' at line {})",
                        f.id, prev.name, prev.span.line
                    ),
                ));
            }
            if let Some(&prev) = by_name.get(f.name.text.as_str()) {
                return Err(self.error(
                    file,
                    f.name.span,
                    format!(
                        "duplicate field name '{}' in {what} (first declared at line {})",
                        f.name.text, out[prev].span.line
                    ),
                ));
            }
            by_id.insert(f.id, out.len());
            by_name.insert(&f.name.text, out.len());
            let (ty, _) = self.ty(file, &f.ty, 0)?;
            out.push(FieldDef {
                id: f.id,
                implicit_id: f.implicit_id,
                name: f.name.text.clone(),
                ty,
                req: f.req,
                default: None,
                annotations: f.annotations.clone(),
                type_annotations: self.type_annotations(file, &f.ty),
                doc: f.doc.clone(),
                span: f.span,
            });
        }
        Ok(out)
    }

    fn struct_fields(&mut self) -> Result<()> {
        for i in 0..self.structs.len() {
            let (file, decl) = self.structs[i];
            let kind = match decl.kind {
                StructKind::Struct => "struct",
                StructKind::Union => "union",
                StructKind::Exception => "exception",
            };
            let mut fields =
                self.fields(file, &decl.fields, &format!("{kind} '{}'", decl.name.text))?;
            if decl.kind == StructKind::Union {
                // As in Apache: union members are optional, whatever is written.
                for f in &mut fields {
                    f.req = Requiredness::Optional;
                }
            }
            self.field_names.push(
                decl.fields
                    .iter()
                    .enumerate()
                    .map(|(j, f)| (f.name.text.as_str(), j))
                    .collect(),
            );
            self.schema.structs[i].fields = fields;
        }
        Ok(())
    }

    fn services(&mut self) -> Result<()> {
        for i in 0..self.services.len() {
            let (file, decl) = self.services[i];
            if let Some(ext) = &decl.extends {
                match self.lookup(file, &ext.text) {
                    Some(Item::Service(id)) => self.schema.services[i].extends = Some(id),
                    Some(_) => {
                        return Err(self.error(
                            file,
                            ext.span,
                            format!("'{}' is not a service", ext.text),
                        ));
                    }
                    None => return Err(self.unknown(file, ext.span, "service", &ext.text)),
                }
            }
            let mut functions: Vec<FunctionDef> = Vec::with_capacity(decl.functions.len());
            let mut seen: HashMap<&str, Span> = HashMap::new();
            for f in &decl.functions {
                if let Some(prev) = seen.insert(&f.name.text, f.name.span) {
                    return Err(self.error(
                        file,
                        f.name.span,
                        format!(
                            "duplicate function '{}' in service '{}' (first declared at line {})",
                            f.name.text, decl.name.text, prev.line
                        ),
                    ));
                }
                functions.push(self.function(file, &decl.name.text, f)?);
            }
            self.schema.services[i].functions = functions;
        }
        Ok(())
    }

    fn function(&mut self, file: FileId, service: &str, f: &FunctionDecl) -> Result<FunctionDef> {
        let result = match &f.result {
            Some(t) => Some(self.ty(file, t, 0)?.0),
            None => None,
        };
        let full = format!("{service}.{}", f.name.text);
        let args = self.fields(file, &f.args, &format!("arguments of '{full}'"))?;
        let throws = self.fields(file, &f.throws, &format!("throws of '{full}'"))?;
        for (t, decl) in throws.iter().zip(&f.throws) {
            let is_exception = match t.ty {
                Ty::Struct(id) => self.schema.struct_def(id).kind == StructKind::Exception,
                _ => false,
            };
            if !is_exception {
                let name = self.schema.type_name(&t.ty);
                return Err(self.error(
                    file,
                    decl.ty.span,
                    format!("'{name}' in the throws of '{full}' is not an exception"),
                ));
            }
        }
        if f.oneway && result.is_some() {
            return Err(self.error(
                file,
                f.name.span,
                format!("oneway function '{full}' must return void"),
            ));
        }
        if f.oneway && !throws.is_empty() {
            return Err(self.error(
                file,
                f.name.span,
                format!("oneway function '{full}' cannot throw exceptions"),
            ));
        }
        Ok(FunctionDef {
            name: f.name.text.clone(),
            oneway: f.oneway,
            result,
            args,
            throws,
            annotations: f.annotations.clone(),
            doc: f.doc.clone(),
            span: f.name.span,
        })
    }

    /// Finds `extends` cycles, walking each chain once.
    fn service_cycles(&self) -> Result<()> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            OnWalk,
            Done,
        }
        let mut mark = vec![Mark::New; self.schema.services.len()];
        for start in 0..mark.len() {
            let mut walk = Vec::new();
            let mut cur = Some(start);
            while let Some(c) = cur {
                match mark[c] {
                    Mark::Done => break,
                    Mark::OnWalk => {
                        let pos = walk.iter().position(|&w| w == c).unwrap_or(0);
                        let names: Vec<String> = walk[pos..]
                            .iter()
                            .chain([&c])
                            .map(|&w| format!("'{}'", self.schema.services[w].name))
                            .collect();
                        let (file, decl) = self.services[c];
                        let span = decl.extends.as_ref().map_or(decl.name.span, |e| e.span);
                        return Err(self.error(
                            file,
                            span,
                            format!("service inheritance cycle: {}", names.join(" -> ")),
                        ));
                    }
                    Mark::New => {}
                }
                mark[c] = Mark::OnWalk;
                walk.push(c);
                cur = self.schema.services[c].extends.map(|e| e.0 as usize);
            }
            for w in walk {
                mark[w] = Mark::Done;
            }
        }
        Ok(())
    }

    fn spend(&mut self, nodes: usize, file: FileId, span: Span) -> Result<()> {
        if nodes > self.budget {
            return Err(self.error(
                file,
                span,
                format!("constants too large: more than {MAX_CONST_VALUES} values in all"),
            ));
        }
        self.budget -= nodes;
        Ok(())
    }

    /// Evaluates constant `i`, reached at reference depth `level`.
    fn constant(&mut self, i: usize, level: usize) -> Result<ValueInfo> {
        let (file, decl) = self.consts[i];
        match &self.const_state[i] {
            Progress::Done(info) => return Ok(*info),
            Progress::Active => {
                return Err(self.error(
                    file,
                    decl.name.span,
                    format!("constant '{}' refers to itself", decl.name.text),
                ));
            }
            Progress::Todo => {}
        }
        self.const_state[i] = Progress::Active;
        let (ty, _) = self.ty(file, &decl.ty, 0)?;
        let (value, info) = self.value(file, &decl.value, &ty, level)?;
        self.schema.consts[i].ty = ty;
        self.schema.consts[i].value = value;
        self.const_state[i] = Progress::Done(info);
        Ok(info)
    }

    fn defaults(&mut self) -> Result<()> {
        for i in 0..self.structs.len() {
            let (file, decl) = self.structs[i];
            for (j, f) in decl.fields.iter().enumerate() {
                if let Some(e) = &f.default {
                    let ty = self.schema.structs[i].fields[j].ty.clone();
                    let (v, _) = self.value(file, e, &ty, 0)?;
                    self.schema.structs[i].fields[j].default = Some(v);
                }
            }
        }
        for i in 0..self.services.len() {
            let (file, decl) = self.services[i];
            for (k, func) in decl.functions.iter().enumerate() {
                for (throws, list) in [(false, &func.args), (true, &func.throws)] {
                    for (j, f) in list.iter().enumerate() {
                        let Some(e) = &f.default else { continue };
                        let def = &self.schema.services[i].functions[k];
                        let ty = if throws {
                            def.throws[j].ty.clone()
                        } else {
                            def.args[j].ty.clone()
                        };
                        let (v, _) = self.value(file, e, &ty, 0)?;
                        let def = &mut self.schema.services[i].functions[k];
                        let field = if throws {
                            &mut def.throws[j]
                        } else {
                            &mut def.args[j]
                        };
                        field.default = Some(v);
                    }
                }
            }
        }
        Ok(())
    }

    #[cold]
    fn mismatch(&self, file: FileId, e: &ConstExpr, ty: &Ty) -> Error {
        let expected = self.schema.type_name(ty);
        self.error(
            file,
            e.span,
            format!("expected {expected} but found {}", describe(e)),
        )
    }

    fn check_int(&self, file: FileId, span: Span, i: i64, ty: &Ty) -> Result<ConstValue> {
        match ty {
            Ty::Bool => match i {
                0 | 1 => Ok(ConstValue::Bool(i == 1)),
                _ => Err(self.error(
                    file,
                    span,
                    format!("value {i} is out of range for bool (use true, false, 0 or 1)"),
                )),
            },
            Ty::Double => Ok(ConstValue::Double(i as f64)),
            Ty::Enum(id) => {
                if self.enum_has(*id, i) {
                    Ok(ConstValue::Int(i))
                } else {
                    let name = &self.schema.enum_def(*id).name;
                    Err(self.error(file, span, format!("{i} is not a value of enum '{name}'")))
                }
            }
            _ => match int_range(ty) {
                Some((lo, hi)) if (lo..=hi).contains(&i) => Ok(ConstValue::Int(i)),
                Some(_) => Err(self.error(
                    file,
                    span,
                    format!(
                        "value {i} is out of range for {}",
                        self.schema.type_name(ty)
                    ),
                )),
                None => Err(self.error(
                    file,
                    span,
                    format!(
                        "expected {} but found integer {i}",
                        self.schema.type_name(ty)
                    ),
                )),
            },
        }
    }

    /// Evaluates `e` as a value of type `ty`, at nesting `level` (values and references).
    fn value(
        &mut self,
        file: FileId,
        e: &ConstExpr,
        ty: &Ty,
        level: usize,
    ) -> Result<(ConstValue, ValueInfo)> {
        if level >= MAX_NESTING {
            return Err(self.error(
                file,
                e.span,
                format!("constant nested deeper than {MAX_NESTING} levels"),
            ));
        }
        if let ConstKind::Ident(name) = &e.kind {
            return self.reference(file, e, name, ty, level);
        }
        self.spend(1, file, e.span)?;
        let value = match (ty, &e.kind) {
            (Ty::Bool, ConstKind::Bool(b)) => ConstValue::Bool(*b),
            (
                Ty::Bool | Ty::I8 | Ty::I16 | Ty::I32 | Ty::I64 | Ty::Double | Ty::Enum(_),
                ConstKind::Int(i),
            ) => self.check_int(file, e.span, *i, ty)?,
            (Ty::Double, ConstKind::Double(d)) => ConstValue::Double(*d),
            (Ty::String, ConstKind::Str(s)) => ConstValue::String(s.clone()),
            (Ty::Binary, ConstKind::Str(s)) => ConstValue::Binary(s.as_bytes().to_vec()),
            (Ty::Uuid, ConstKind::Str(s)) => match parse_uuid(s) {
                Some(u) => ConstValue::Uuid(u),
                None => return Err(self.error(file, e.span, format!("invalid uuid {s:?}"))),
            },
            (Ty::List(t) | Ty::Set(t), ConstKind::List(items)) => {
                let mut out = Vec::with_capacity(items.len());
                let mut info = ValueInfo { depth: 1, nodes: 1 };
                for item in items {
                    let (v, i) = self.value(file, item, t, level + 1)?;
                    info.depth = info.depth.max(i.depth + 1);
                    info.nodes += i.nodes;
                    out.push(v);
                }
                let v = if matches!(ty, Ty::Set(_)) {
                    ConstValue::Set(out)
                } else {
                    ConstValue::List(out)
                };
                return Ok((v, info));
            }
            // Apache accepts `{}` for an empty list or set and `[]` for an empty map.
            (Ty::List(_), ConstKind::Map(m)) if m.is_empty() => ConstValue::List(Vec::new()),
            (Ty::Set(_), ConstKind::Map(m)) if m.is_empty() => ConstValue::Set(Vec::new()),
            (Ty::Map(..), ConstKind::List(l)) if l.is_empty() => ConstValue::Map(Vec::new()),
            (Ty::Map(kt, vt), ConstKind::Map(entries)) => {
                let mut out = Vec::with_capacity(entries.len());
                let mut info = ValueInfo { depth: 1, nodes: 1 };
                for (k, v) in entries {
                    let (k, ki) = self.value(file, k, kt, level + 1)?;
                    let (v, vi) = self.value(file, v, vt, level + 1)?;
                    info.depth = info.depth.max(ki.depth + 1).max(vi.depth + 1);
                    info.nodes += ki.nodes + vi.nodes;
                    out.push((k, v));
                }
                return Ok((ConstValue::Map(out), info));
            }
            (Ty::Struct(id), ConstKind::Map(entries)) => {
                return self.struct_value(file, *id, entries, level);
            }
            _ => return Err(self.mismatch(file, e, ty)),
        };
        Ok((value, SCALAR))
    }

    fn struct_value(
        &mut self,
        file: FileId,
        id: StructId,
        entries: &[(ConstExpr, ConstExpr)],
        level: usize,
    ) -> Result<(ConstValue, ValueInfo)> {
        let mut out = Vec::with_capacity(entries.len());
        let mut info = ValueInfo { depth: 1, nodes: 1 };
        for (k, v) in entries {
            let ConstKind::Str(field_name) = &k.kind else {
                return Err(self.error(
                    file,
                    k.span,
                    format!("expected a field name in quotes but found {}", describe(k)),
                ));
            };
            let def = self.schema.struct_def(id);
            let index = self
                .field_names
                .get(id.0 as usize)
                .and_then(|m| m.get(field_name.as_str()));
            let Some(field) = index.and_then(|&j| def.fields.get(j)) else {
                return Err(self.error(
                    file,
                    k.span,
                    format!("'{}' has no field '{field_name}'", def.name),
                ));
            };
            let (fid, fty) = (field.id, field.ty.clone());
            let (v, vi) = self.value(file, v, &fty, level + 1)?;
            info.depth = info.depth.max(vi.depth + 1);
            info.nodes += vi.nodes;
            out.push((fid, v));
        }
        Ok((ConstValue::Struct(out), info))
    }

    /// A name used as a value: a constant, or an enum value written `Enum.VALUE`.
    fn reference(
        &mut self,
        file: FileId,
        e: &ConstExpr,
        name: &str,
        ty: &Ty,
        level: usize,
    ) -> Result<(ConstValue, ValueInfo)> {
        if let Some(Item::Const(ci)) = self.lookup(file, name) {
            let ci = ci as usize;
            let info = self.constant(ci, level + 1)?;
            if level + info.depth > MAX_NESTING {
                return Err(self.error(
                    file,
                    e.span,
                    format!("constant nested deeper than {MAX_NESTING} levels"),
                ));
            }
            self.spend(info.nodes, file, e.span)?;
            let c = &self.schema.consts[ci];
            let v = self.convert(&c.value, &c.ty, ty).map_err(|why| {
                let why = why.unwrap_or_else(|| {
                    format!(
                        "constant '{name}' has type {}, expected {}",
                        self.schema.type_name(&c.ty),
                        self.schema.type_name(ty)
                    )
                });
                self.error(file, e.span, why)
            })?;
            return Ok((v, info));
        }
        if let Some((prefix, member)) = name.rsplit_once('.')
            && let Some(Item::Enum(eid)) = self.lookup(file, prefix)
        {
            self.spend(1, file, e.span)?;
            let Some(value) = self.enum_value(eid, member) else {
                let def = self.schema.enum_def(eid);
                return Err(self.error(
                    file,
                    e.span,
                    format!("enum '{}' has no value '{member}'", def.name),
                ));
            };
            let value = match ty {
                Ty::Enum(want) if *want != eid => {
                    return Err(self.error(
                        file,
                        e.span,
                        format!(
                            "expected a value of enum '{}' but found '{name}'",
                            self.schema.enum_def(*want).name
                        ),
                    ));
                }
                Ty::Enum(_) => ConstValue::Int(value.into()),
                _ if is_integral(ty) || *ty == Ty::Double => {
                    self.check_int(file, e.span, value.into(), ty)?
                }
                _ => return Err(self.mismatch(file, e, ty)),
            };
            return Ok((value, SCALAR));
        }
        if let Ty::Enum(eid) = ty {
            let def = self.schema.enum_def(*eid);
            if self.enum_value(*eid, name).is_some() {
                return Err(self.error(
                    file,
                    e.span,
                    format!(
                        "unqualified enum value '{name}', write '{}.{name}'",
                        def.name
                    ),
                ));
            }
        }
        Err(self.unknown(file, e.span, "constant", name))
    }

    /// A constant's value used where type `to` is expected. `Err(None)`: the types do not fit.
    fn convert(
        &self,
        v: &ConstValue,
        from: &Ty,
        to: &Ty,
    ) -> std::result::Result<ConstValue, Option<String>> {
        if from == to {
            return Ok(v.clone());
        }
        let name = |t: &Ty| self.schema.type_name(t);
        match (v, to) {
            (ConstValue::Int(i), _) if is_integral(from) => match to {
                Ty::Double => Ok(ConstValue::Double(*i as f64)),
                Ty::Bool if matches!(i, 0 | 1) => Ok(ConstValue::Bool(*i == 1)),
                Ty::Enum(id) => {
                    if self.enum_has(*id, *i) {
                        Ok(ConstValue::Int(*i))
                    } else {
                        let name = &self.schema.enum_def(*id).name;
                        Err(Some(format!("{i} is not a value of enum '{name}'")))
                    }
                }
                _ => match int_range(to) {
                    Some((lo, hi)) if (lo..=hi).contains(i) => Ok(ConstValue::Int(*i)),
                    Some(_) => Err(Some(format!("value {i} is out of range for {}", name(to)))),
                    None => Err(None),
                },
            },
            (ConstValue::String(s), Ty::Binary) => Ok(ConstValue::Binary(s.as_bytes().to_vec())),
            (ConstValue::String(s), Ty::Uuid) => parse_uuid(s).map(ConstValue::Uuid).ok_or(None),
            _ => Err(None),
        }
    }
}
