//! The resolved schema as IDL text (`Display for Schema`): each file with its headers, then
//! its typedefs, enums, constants, structs and services, with field ids, requiredness,
//! resolved types, defaults and annotations. Names from other files are qualified with the
//! file name. Docs are left out. A schema of one file prints as IDL that parses back to the
//! same model.

use std::collections::HashMap;
use std::fmt::{self, Write as _};

use crate::schema::*;

pub(super) fn write_schema(s: &Schema, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    // Lookups by value and by id, built once: enums and structs may be large.
    let enum_names: Vec<HashMap<i32, &str>> = s
        .enums
        .iter()
        .map(|e| {
            let mut m = HashMap::new();
            for v in &e.values {
                m.entry(v.value).or_insert(v.name.as_str());
            }
            m
        })
        .collect();
    let field_index: Vec<HashMap<i16, usize>> = s
        .structs
        .iter()
        .map(|st| {
            st.fields
                .iter()
                .enumerate()
                .map(|(j, fd)| (fd.id, j))
                .collect()
        })
        .collect();
    for (i, file) in s.files.iter().enumerate() {
        let here = FileId(u32::try_from(i).unwrap_or(u32::MAX));
        if i > 0 {
            writeln!(f)?;
        }
        writeln!(f, "// file '{}': {}", file.name, file.path.display())?;
        for inc in &file.includes {
            if let Some(inc) = s.files.get(inc.0 as usize) {
                let label = inc
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default();
                writeln!(f, "include {}", quote(&label))?;
            }
        }
        for inc in &file.cpp_includes {
            writeln!(f, "cpp_include {}", quote(inc))?;
        }
        for (scope, ns) in &file.namespaces {
            writeln!(f, "namespace {scope} {ns}")?;
        }
        let p = Printer {
            s,
            here,
            enum_names: &enum_names,
            field_index: &field_index,
        };
        for t in s.typedefs.iter().filter(|t| t.file == here) {
            writeln!(
                f,
                "typedef {} {}{}",
                p.ty(&t.ty),
                t.name,
                annotations(&t.annotations)
            )?;
        }
        for e in s.enums.iter().filter(|e| e.file == here) {
            writeln!(f, "enum {} {{", e.name)?;
            for v in &e.values {
                writeln!(
                    f,
                    "  {} = {}{}",
                    v.name,
                    v.value,
                    annotations(&v.annotations)
                )?;
            }
            writeln!(f, "}}{}", annotations(&e.annotations))?;
        }
        for c in s.consts.iter().filter(|c| c.file == here) {
            writeln!(
                f,
                "const {} {} = {}",
                p.ty(&c.ty),
                c.name,
                p.value(&c.value, &c.ty)
            )?;
        }
        for st in s.structs.iter().filter(|st| st.file == here) {
            let kw = match st.kind {
                StructKind::Struct => "struct",
                StructKind::Union => "union",
                StructKind::Exception => "exception",
            };
            writeln!(f, "{kw} {} {{", st.name)?;
            for field in &st.fields {
                writeln!(f, "  {}", p.field(field))?;
            }
            writeln!(f, "}}{}", annotations(&st.annotations))?;
        }
        for sv in s.services.iter().filter(|sv| sv.file == here) {
            write!(f, "service {}", sv.name)?;
            if let Some(base) = sv.extends {
                let base = s.service_def(base);
                write!(f, " extends {}", p.qualified(base.file, &base.name))?;
            }
            writeln!(f, " {{")?;
            for func in &sv.functions {
                let result = func
                    .result
                    .as_ref()
                    .map_or_else(|| "void".to_owned(), |t| p.ty(t));
                let args: Vec<String> = func.args.iter().map(|a| p.field(a)).collect();
                write!(
                    f,
                    "  {}{result} {}({})",
                    if func.oneway { "oneway " } else { "" },
                    func.name,
                    args.join(", ")
                )?;
                if !func.throws.is_empty() {
                    let throws: Vec<String> = func.throws.iter().map(|t| p.field(t)).collect();
                    write!(f, " throws ({})", throws.join(", "))?;
                }
                writeln!(f, "{}", annotations(&func.annotations))?;
            }
            writeln!(f, "}}{}", annotations(&sv.annotations))?;
        }
    }
    Ok(())
}

fn annotations(a: &Annotations) -> String {
    if a.is_empty() {
        return String::new();
    }
    let parts: Vec<String> =
        a.0.iter()
            .map(|(k, v)| format!("{k} = {}", quote(v)))
            .collect();
    format!(" ({})", parts.join(", "))
}

/// A string literal that the lexer reads back to the same text.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

struct Printer<'a> {
    s: &'a Schema,
    here: FileId,
    /// Per enum: the first name of each value.
    enum_names: &'a [HashMap<i32, &'a str>],
    /// Per struct: field position by id.
    field_index: &'a [HashMap<i16, usize>],
}

impl Printer<'_> {
    fn qualified(&self, file: FileId, name: &str) -> String {
        if file == self.here {
            name.to_owned()
        } else {
            let prefix = self
                .s
                .files
                .get(file.0 as usize)
                .map_or("?", |f| f.name.as_str());
            format!("{prefix}.{name}")
        }
    }

    fn ty(&self, t: &Ty) -> String {
        match t {
            Ty::List(e) => format!("list<{}>", self.ty(e)),
            Ty::Set(e) => format!("set<{}>", self.ty(e)),
            Ty::Map(k, v) => format!("map<{}, {}>", self.ty(k), self.ty(v)),
            Ty::Struct(id) => {
                let d = self.s.struct_def(*id);
                self.qualified(d.file, &d.name)
            }
            Ty::Enum(id) => {
                let d = self.s.enum_def(*id);
                self.qualified(d.file, &d.name)
            }
            base => self.s.type_name(base),
        }
    }

    fn field(&self, field: &FieldDef) -> String {
        let req = match field.req {
            Requiredness::Required => "required ",
            Requiredness::Optional => "optional ",
            Requiredness::Default => "",
        };
        let mut out = format!(
            "{}: {req}{}{} {}",
            field.id,
            self.ty(&field.ty),
            annotations(&field.type_annotations),
            field.name
        );
        if let Some(v) = &field.default {
            let _ = write!(out, " = {}", self.value(v, &field.ty));
        }
        out.push_str(&annotations(&field.annotations));
        out
    }

    fn value(&self, v: &ConstValue, ty: &Ty) -> String {
        match (v, ty) {
            (ConstValue::Bool(b), _) => b.to_string(),
            (ConstValue::Int(i), Ty::Enum(id)) => {
                let e = self.s.enum_def(*id);
                let names = self.enum_names.get(id.0 as usize);
                match i32::try_from(*i).ok().and_then(|x| names?.get(&x)) {
                    Some(name) => format!("{}.{name}", self.qualified(e.file, &e.name)),
                    None => i.to_string(),
                }
            }
            (ConstValue::Int(i), _) => i.to_string(),
            (ConstValue::Double(d), _) => format!("{d:?}"),
            (ConstValue::String(s), _) => quote(s),
            (ConstValue::Binary(b), _) => quote(&String::from_utf8_lossy(b)),
            (ConstValue::Uuid(u), _) => {
                let hex: String = u.iter().map(|b| format!("{b:02x}")).collect();
                format!(
                    "\"{}-{}-{}-{}-{}\"",
                    &hex[0..8],
                    &hex[8..12],
                    &hex[12..16],
                    &hex[16..20],
                    &hex[20..32]
                )
            }
            (ConstValue::List(items) | ConstValue::Set(items), _) => {
                let elem = match ty {
                    Ty::List(e) | Ty::Set(e) => e.as_ref(),
                    _ => ty,
                };
                let parts: Vec<String> = items.iter().map(|x| self.value(x, elem)).collect();
                format!("[{}]", parts.join(", "))
            }
            (ConstValue::Map(entries), _) => {
                let (kt, vt) = match ty {
                    Ty::Map(k, v) => (k.as_ref(), v.as_ref()),
                    _ => (ty, ty),
                };
                let parts: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| format!("{}: {}", self.value(k, kt), self.value(v, vt)))
                    .collect();
                format!("{{{}}}", parts.join(", "))
            }
            (ConstValue::Struct(fields), _) => {
                let def = match ty {
                    Ty::Struct(id) => {
                        Some((self.s.struct_def(*id), self.field_index.get(id.0 as usize)))
                    }
                    _ => None,
                };
                let field = |fid: i16| {
                    let (d, index) = def?;
                    d.fields.get(*index?.get(&fid)?)
                };
                let parts: Vec<String> = fields
                    .iter()
                    .map(|(id, v)| match field(*id) {
                        Some(fd) => format!("{}: {}", quote(&fd.name), self.value(v, &fd.ty)),
                        None => format!("\"{id}\": {}", self.value(v, ty)),
                    })
                    .collect();
                format!("{{{}}}", parts.join(", "))
            }
        }
    }
}
