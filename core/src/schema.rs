//! The resolved Thrift model: what an IDL file (with its includes) declares, with every type
//! reference resolved to an id, typedefs followed, and constants checked against their types.
//!
//! A [`Schema`] is built by the IDL front end ([`crate::idl`]) and is immutable afterwards.
//! Items from all files live in flat tables; ids index those tables.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::ttype::TType;

/// Index of a file in [`Schema::files`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);
/// Index of a struct, union or exception in [`Schema::structs`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StructId(pub u32);
/// Index of an enum in [`Schema::enums`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EnumId(pub u32);
/// Index of a service in [`Schema::services`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceId(pub u32);

/// A place in a source file (1-based line and column).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Span {
    pub line: u32,
    pub column: u32,
}

/// `(key = "value")` pairs in source order. Keys may repeat.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Annotations(pub Vec<(String, String)>);

impl Annotations {
    /// The first value for `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A resolved type: typedefs are followed to what they name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Ty {
    Bool,
    /// `byte` and `i8`.
    I8,
    I16,
    I32,
    I64,
    Double,
    String,
    Binary,
    Uuid,
    List(Box<Ty>),
    Set(Box<Ty>),
    Map(Box<Ty>, Box<Ty>),
    Struct(StructId),
    Enum(EnumId),
}

impl Ty {
    /// The wire type code of values of this type.
    pub fn ttype(&self) -> TType {
        match self {
            Ty::Bool => TType::Bool,
            Ty::I8 => TType::I8,
            Ty::I16 => TType::I16,
            Ty::I32 | Ty::Enum(_) => TType::I32,
            Ty::I64 => TType::I64,
            Ty::Double => TType::Double,
            Ty::String | Ty::Binary => TType::String,
            Ty::Uuid => TType::Uuid,
            Ty::List(_) => TType::List,
            Ty::Set(_) => TType::Set,
            Ty::Map(..) => TType::Map,
            Ty::Struct(_) => TType::Struct,
        }
    }
}

/// Requiredness of a field, as the IDL declares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Requiredness {
    /// Must be present on the wire; an error if absent on decode or unset on encode.
    Required,
    /// May be absent; not written when unset.
    Optional,
    /// Neither keyword ("default requiredness"): always written, may be absent on decode.
    #[default]
    Default,
}

/// A constant value, resolved against its declared type: enum references are integers,
/// struct constants list fields by id, `double` constants written as integers are doubles,
/// `binary` constants are bytes.
#[derive(Clone, Debug, PartialEq)]
pub enum ConstValue {
    Bool(bool),
    /// Every integer type and enums.
    Int(i64),
    Double(f64),
    String(String),
    Binary(Vec<u8>),
    /// A uuid in its 16 wire bytes.
    Uuid([u8; 16]),
    List(Vec<ConstValue>),
    Set(Vec<ConstValue>),
    Map(Vec<(ConstValue, ConstValue)>),
    /// Field id and value, in the order written.
    Struct(Vec<(i16, ConstValue)>),
}

/// One field of a struct, union or exception, or one argument of a function.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldDef {
    pub id: i16,
    /// The id was not written and was assigned (negative, counting down from -1) as Apache does.
    pub implicit_id: bool,
    pub name: String,
    pub ty: Ty,
    pub req: Requiredness,
    pub default: Option<ConstValue>,
    /// Annotations after the field.
    pub annotations: Annotations,
    /// Annotations on the field's type, `list<i32> (cpp.template = "...")`.
    pub type_annotations: Annotations,
    pub doc: Option<String>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StructKind {
    Struct,
    Union,
    Exception,
}

/// A struct, union or exception.
#[derive(Clone, Debug, PartialEq)]
pub struct StructDef {
    pub name: String,
    pub file: FileId,
    pub kind: StructKind,
    /// In declaration order.
    pub fields: Vec<FieldDef>,
    pub annotations: Annotations,
    pub doc: Option<String>,
    pub span: Span,
}

impl StructDef {
    pub fn field_by_id(&self, id: i16) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.id == id)
    }

    pub fn field_by_name(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct EnumValueDef {
    pub name: String,
    pub value: i32,
    pub annotations: Annotations,
    pub doc: Option<String>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EnumDef {
    pub name: String,
    pub file: FileId,
    /// In declaration order.
    pub values: Vec<EnumValueDef>,
    pub annotations: Annotations,
    pub doc: Option<String>,
    pub span: Span,
}

impl EnumDef {
    pub fn value_by_name(&self, name: &str) -> Option<i32> {
        self.values.iter().find(|v| v.name == name).map(|v| v.value)
    }

    pub fn name_of(&self, value: i32) -> Option<&str> {
        self.values
            .iter()
            .find(|v| v.value == value)
            .map(|v| v.name.as_str())
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct TypedefDef {
    pub name: String,
    pub file: FileId,
    /// The resolved target (chains followed).
    pub ty: Ty,
    pub annotations: Annotations,
    pub doc: Option<String>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ConstDef {
    pub name: String,
    pub file: FileId,
    pub ty: Ty,
    pub value: ConstValue,
    pub doc: Option<String>,
    pub span: Span,
}

/// One function of a service.
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionDef {
    pub name: String,
    pub oneway: bool,
    /// `None` for `void`.
    pub result: Option<Ty>,
    pub args: Vec<FieldDef>,
    pub throws: Vec<FieldDef>,
    pub annotations: Annotations,
    pub doc: Option<String>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ServiceDef {
    pub name: String,
    pub file: FileId,
    pub extends: Option<ServiceId>,
    /// Functions declared by this service (not the inherited ones).
    pub functions: Vec<FunctionDef>,
    pub annotations: Annotations,
    pub doc: Option<String>,
    pub span: Span,
}

/// One loaded IDL file.
#[derive(Clone, Debug, PartialEq)]
pub struct FileDef {
    pub path: PathBuf,
    /// The name other files use to refer to it: the file stem (`shared` for `shared.thrift`).
    pub name: String,
    /// `(scope, namespace)` pairs, `("*", ...)` for `namespace * x`.
    pub namespaces: Vec<(String, String)>,
    pub includes: Vec<FileId>,
    pub cpp_includes: Vec<String>,
    pub doc: Option<String>,
}

/// A name declared in a file's scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item {
    Struct(StructId),
    Enum(EnumId),
    Typedef(u32),
    Const(u32),
    Service(ServiceId),
}

/// Everything an IDL file and its includes declare, resolved.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Schema {
    /// The root file is `files[0]`.
    pub files: Vec<FileDef>,
    pub structs: Vec<StructDef>,
    pub enums: Vec<EnumDef>,
    pub typedefs: Vec<TypedefDef>,
    pub consts: Vec<ConstDef>,
    pub services: Vec<ServiceDef>,
    /// Per file: its own names.
    pub scopes: Vec<HashMap<String, Item>>,
}

impl Schema {
    /// Looks up `Name` in the root file, or `file.Name` in a file the root file includes
    /// (or any loaded file by that name).
    pub fn lookup(&self, name: &str) -> Option<Item> {
        if let Some(item) = self.scopes.first().and_then(|s| s.get(name)) {
            return Some(*item);
        }
        let (file, local) = name.split_once('.')?;
        let idx = self.files.iter().position(|f| f.name == file)?;
        self.scopes.get(idx)?.get(local).copied()
    }

    pub fn struct_id(&self, name: &str) -> Option<StructId> {
        match self.lookup(name)? {
            Item::Struct(id) => Some(id),
            _ => None,
        }
    }

    pub fn enum_id(&self, name: &str) -> Option<EnumId> {
        match self.lookup(name)? {
            Item::Enum(id) => Some(id),
            _ => None,
        }
    }

    pub fn service_id(&self, name: &str) -> Option<ServiceId> {
        match self.lookup(name)? {
            Item::Service(id) => Some(id),
            _ => None,
        }
    }

    pub fn struct_def(&self, id: StructId) -> &StructDef {
        &self.structs[id.0 as usize]
    }

    pub fn enum_def(&self, id: EnumId) -> &EnumDef {
        &self.enums[id.0 as usize]
    }

    pub fn service_def(&self, id: ServiceId) -> &ServiceDef {
        &self.services[id.0 as usize]
    }

    /// The struct with this name, or a schema error naming what was looked for.
    pub fn expect_struct(&self, name: &str) -> crate::Result<StructId> {
        self.struct_id(name).ok_or_else(|| {
            crate::Error::schema(format!("no struct, union or exception named '{name}'"))
        })
    }

    /// A service's functions, inherited ones first (as `extends` chains them).
    pub fn all_functions(&self, id: ServiceId) -> Vec<&FunctionDef> {
        let mut chain = Vec::new();
        let mut cur = Some(id);
        while let Some(s) = cur {
            if chain.contains(&s) {
                break;
            }
            chain.push(s);
            cur = self.service_def(s).extends;
        }
        chain
            .iter()
            .rev()
            .flat_map(|s| self.service_def(*s).functions.iter())
            .collect()
    }

    /// The type as the IDL would write it (`list<map<string, Simple>>`).
    pub fn type_name(&self, ty: &Ty) -> String {
        match ty {
            Ty::Bool => "bool".into(),
            Ty::I8 => "i8".into(),
            Ty::I16 => "i16".into(),
            Ty::I32 => "i32".into(),
            Ty::I64 => "i64".into(),
            Ty::Double => "double".into(),
            Ty::String => "string".into(),
            Ty::Binary => "binary".into(),
            Ty::Uuid => "uuid".into(),
            Ty::List(t) => format!("list<{}>", self.type_name(t)),
            Ty::Set(t) => format!("set<{}>", self.type_name(t)),
            Ty::Map(k, v) => format!("map<{}, {}>", self.type_name(k), self.type_name(v)),
            Ty::Struct(id) => self.struct_def(*id).name.clone(),
            Ty::Enum(id) => self.enum_def(*id).name.clone(),
        }
    }
}
