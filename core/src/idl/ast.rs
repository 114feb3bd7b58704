//! The syntax tree of one IDL file as written: names not yet resolved, constants not yet
//! checked against their types. Field ids and enum values are already assigned.

use crate::schema::{Annotations, Requiredness, Span, StructKind};

#[derive(Debug, Default)]
pub(crate) struct Document {
    pub includes: Vec<Include>,
    pub cpp_includes: Vec<String>,
    pub namespaces: Vec<(String, String)>,
    pub definitions: Vec<Definition>,
    pub doc: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Include {
    pub path: String,
    /// Where the path literal is.
    pub span: Span,
}

#[derive(Clone, Debug)]
pub(crate) struct Name {
    pub text: String,
    pub span: Span,
}

#[derive(Debug)]
pub(crate) enum Definition {
    Const(ConstDecl),
    Typedef(TypedefDecl),
    Enum(EnumDecl),
    Struct(StructDecl),
    Service(ServiceDecl),
}

impl Definition {
    pub fn name(&self) -> &Name {
        match self {
            Definition::Const(d) => &d.name,
            Definition::Typedef(d) => &d.name,
            Definition::Enum(d) => &d.name,
            Definition::Struct(d) => &d.name,
            Definition::Service(d) => &d.name,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BaseType {
    Bool,
    I8,
    I16,
    I32,
    I64,
    Double,
    String,
    Binary,
    Uuid,
}

#[derive(Debug)]
pub(crate) enum TypeKind {
    Base(BaseType),
    /// A type name: `Foo`, `file.Foo`.
    Named(String),
    List(Box<TypeExpr>),
    Set(Box<TypeExpr>),
    Map(Box<TypeExpr>, Box<TypeExpr>),
}

#[derive(Debug)]
pub(crate) struct TypeExpr {
    pub kind: TypeKind,
    pub annotations: Annotations,
    pub span: Span,
}

#[derive(Debug)]
pub(crate) enum ConstKind {
    Int(i64),
    Double(f64),
    Bool(bool),
    Str(String),
    /// A reference to a constant or an enum value: `X`, `file.X`, `Enum.V`, `file.Enum.V`.
    Ident(String),
    List(Vec<ConstExpr>),
    Map(Vec<(ConstExpr, ConstExpr)>),
}

#[derive(Debug)]
pub(crate) struct ConstExpr {
    pub kind: ConstKind,
    pub span: Span,
}

#[derive(Debug)]
pub(crate) struct FieldDecl {
    pub id: i16,
    pub implicit_id: bool,
    /// Where the id is written, or where the field starts when it is implicit.
    pub id_span: Span,
    pub req: Requiredness,
    pub ty: TypeExpr,
    pub name: Name,
    pub default: Option<ConstExpr>,
    pub annotations: Annotations,
    pub doc: Option<String>,
    pub span: Span,
}

#[derive(Debug)]
pub(crate) struct StructDecl {
    pub kind: StructKind,
    pub name: Name,
    pub fields: Vec<FieldDecl>,
    pub annotations: Annotations,
    pub doc: Option<String>,
}

#[derive(Debug)]
pub(crate) struct EnumValueDecl {
    pub name: Name,
    pub value: i32,
    pub annotations: Annotations,
    pub doc: Option<String>,
}

#[derive(Debug)]
pub(crate) struct EnumDecl {
    pub name: Name,
    pub values: Vec<EnumValueDecl>,
    pub annotations: Annotations,
    pub doc: Option<String>,
}

#[derive(Debug)]
pub(crate) struct TypedefDecl {
    pub name: Name,
    pub ty: TypeExpr,
    pub annotations: Annotations,
    pub doc: Option<String>,
}

#[derive(Debug)]
pub(crate) struct ConstDecl {
    pub name: Name,
    pub ty: TypeExpr,
    pub value: ConstExpr,
    pub doc: Option<String>,
}

#[derive(Debug)]
pub(crate) struct FunctionDecl {
    pub name: Name,
    pub oneway: bool,
    /// `None` for `void`.
    pub result: Option<TypeExpr>,
    pub args: Vec<FieldDecl>,
    pub throws: Vec<FieldDecl>,
    pub annotations: Annotations,
    pub doc: Option<String>,
}

#[derive(Debug)]
pub(crate) struct ServiceDecl {
    pub name: Name,
    pub extends: Option<Name>,
    pub functions: Vec<FunctionDecl>,
    pub annotations: Annotations,
    pub doc: Option<String>,
}
