//! Checking a plan (typically of a derived Rust type) against an IDL struct: same field ids,
//! same wire types all the way down, compatible requiredness and enum values. Every
//! difference is reported, with the path where it is.

use std::collections::HashSet;
use std::fmt;

use dynthrift_core::schema::{Requiredness, Schema, StructId, Ty};

use crate::plan::{EnumRepr, Node, Plan, Presence};

/// One difference between a plan and an IDL type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// Where: `Nesting.ListSimple[].StringField`.
    pub path: String,
    pub problem: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.problem)
    }
}

/// Compares struct `si` of `plan` with struct `id` of `schema`; empty when they agree.
pub fn check(plan: &Plan, si: usize, schema: &Schema, id: StructId) -> Vec<Mismatch> {
    let mut c = Checker {
        plan,
        schema,
        out: Vec::new(),
        seen: HashSet::new(),
    };
    let name = schema.struct_def(id).name.clone();
    c.structs(si, id, &name);
    c.out
}

struct Checker<'a> {
    plan: &'a Plan,
    schema: &'a Schema,
    out: Vec<Mismatch>,
    seen: HashSet<(usize, StructId)>,
}

impl Checker<'_> {
    fn report(&mut self, path: &str, problem: String) {
        self.out.push(Mismatch {
            path: path.to_string(),
            problem,
        });
    }

    fn structs(&mut self, si: usize, id: StructId, path: &str) {
        if !self.seen.insert((si, id)) {
            return;
        }
        let s = &self.plan.structs[si];
        let def = self.schema.struct_def(id);
        if s.kind != def.kind {
            self.report(
                path,
                format!("is a {:?} in Rust but a {:?} in the IDL", s.kind, def.kind).to_lowercase(),
            );
        }
        for f in &def.fields {
            let fpath = format!("{path}.{}", f.name);
            let Some(i) = s.lookup.find(f.id) else {
                self.report(
                    &fpath,
                    format!(
                        "field {} ({}) is missing from the Rust type",
                        f.id,
                        self.schema.type_name(&f.ty)
                    ),
                );
                continue;
            };
            let rf = &s.fields[i];
            if *rf.name != *f.name {
                self.report(
                    &fpath,
                    format!("field {} is named '{}' in Rust", f.id, rf.name),
                );
            }
            match (f.req, rf.req, rf.presence) {
                (Requiredness::Required, r, _) if r != Requiredness::Required => {
                    self.report(&fpath, "is required in the IDL but not in Rust".into())
                }
                (Requiredness::Optional, _, Presence::Always) => self.report(
                    &fpath,
                    "is optional in the IDL but always written by Rust (use Option<T>)".into(),
                ),
                _ => {}
            }
            self.types(&rf.node, &f.ty, &fpath);
        }
        for rf in &s.fields {
            if def.field_by_id(rf.id).is_none() {
                self.report(
                    &format!("{path}.{}", rf.name),
                    format!("field {} is not in the IDL", rf.id),
                );
            }
        }
    }

    fn types(&mut self, node: &Node, ty: &Ty, path: &str) {
        let node = match node {
            Node::Boxed(inner, _) => inner,
            n => n,
        };
        if node.ttype() != ty.ttype() {
            self.report(
                path,
                format!(
                    "is {} on the wire in Rust but {} in the IDL",
                    node.ttype(),
                    self.schema.type_name(ty)
                ),
            );
            return;
        }
        match (node, ty) {
            (Node::Struct(si) | Node::Record(si), Ty::Struct(id)) => self.structs(*si, *id, path),
            (Node::List(e, _), Ty::List(t)) | (Node::Set(e, _), Ty::Set(t)) => {
                self.types(e, t, &format!("{path}[]"))
            }
            (Node::Map(k, v, _), Ty::Map(kt, vt)) => {
                self.types(k, kt, &format!("{path}<key>"));
                self.types(v, vt, &format!("{path}<value>"));
            }
            (Node::Enum(EnumRepr::Rust(ed)), Ty::Enum(id)) => {
                let def = self.schema.enum_def(*id);
                for v in &def.values {
                    if !ed.values.iter().any(|(_, x)| *x == v.value) {
                        self.report(
                            path,
                            format!(
                                "enum value {} ({}) has no variant in {}",
                                v.name, v.value, ed.name
                            ),
                        );
                    }
                }
            }
            (Node::Enum(EnumRepr::Rust(ed)), _) => {
                self.report(
                    path,
                    format!("is the Rust enum {} but not an enum in the IDL", ed.name),
                );
            }
            (Node::String(_), Ty::Binary) | (Node::Binary(_), Ty::String) => {
                // Same wire type; only UTF-8 validation differs.
            }
            _ => {}
        }
    }
}
