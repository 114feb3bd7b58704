//! The one error type of the library: a boxed record of what went wrong (kind and detail),
//! where in the value (field path, pushed while the error unwinds), where in the input (byte
//! offset) or where in an IDL file (file, line, column).
//!
//! The success path only carries a pointer-sized `Result`; everything is built in cold code.

use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// What went wrong, coarse enough to compare across backends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input ended in the middle of a value.
    UnexpectedEof,
    /// A type code that Thrift does not define.
    InvalidType,
    /// A varint longer than its type allows.
    VarintTooLong,
    /// A negative string or container length.
    NegativeLength,
    /// A declared length larger than the remaining input or than a configured limit.
    LengthLimit,
    /// Nesting deeper than the recursion limit.
    DepthLimit,
    /// A `string` that is not UTF-8.
    InvalidUtf8,
    /// A required field absent on decode, or unset on encode.
    MissingRequired,
    /// An enum value the host type cannot represent.
    UnknownEnumValue,
    /// A union with zero or more than one field set.
    InvalidUnion,
    /// A malformed message envelope (bad version, unknown message type, bad name).
    InvalidMessage,
    /// Input that is structurally wrong in some other way (a bad map key type, a bad bool).
    InvalidData,
    /// A value that cannot be written (a container longer than `i32::MAX`, ...).
    InvalidValue,
    /// A syntax error in an IDL file.
    IdlSyntax,
    /// An IDL file that parses but does not make sense (unknown type, duplicate id, ...).
    IdlSemantic,
    /// A schema or descriptor problem detected when a codec is built.
    Schema,
    /// An I/O error from a file or a transport.
    Io,
    /// A value that breaks a validation rule from the IDL (`vt.*` annotations).
    Validation,
}

impl ErrorKind {
    /// The generic message for this kind (lower-case, no trailing period).
    pub const fn message(self) -> &'static str {
        match self {
            ErrorKind::UnexpectedEof => "unexpected end of input",
            ErrorKind::InvalidType => "invalid type code",
            ErrorKind::VarintTooLong => "varint too long",
            ErrorKind::NegativeLength => "negative length",
            ErrorKind::LengthLimit => "length over limit",
            ErrorKind::DepthLimit => "nesting too deep",
            ErrorKind::InvalidUtf8 => "invalid utf-8",
            ErrorKind::MissingRequired => "missing required field",
            ErrorKind::UnknownEnumValue => "unknown enum value",
            ErrorKind::InvalidUnion => "invalid union",
            ErrorKind::InvalidMessage => "invalid message",
            ErrorKind::InvalidData => "invalid data",
            ErrorKind::InvalidValue => "invalid value",
            ErrorKind::IdlSyntax => "syntax error",
            ErrorKind::IdlSemantic => "invalid idl",
            ErrorKind::Schema => "schema error",
            ErrorKind::Io => "i/o error",
            ErrorKind::Validation => "validation failed",
        }
    }
}

/// Which operation failed; decides the prefix of the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    Decode,
    Encode,
    Idl,
    Schema,
    Io,
    Validate,
}

/// One step of the path from the outermost value to the place of the error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathSegment {
    /// The outermost type (a struct name), or a message name.
    Root(Arc<str>),
    /// A struct field by name.
    Field(Arc<str>),
    /// A list or set element by position.
    Index(usize),
    /// A map value, by its key as text (strings quoted).
    Key(String),
    /// A map key, by position (the key itself did not decode).
    KeyAt(usize),
}

/// A place in an IDL file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    /// 1-based.
    pub line: u32,
    /// 1-based, in characters.
    pub column: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// The library's error. One pointer wide; cheap to return on the success path.
pub struct Error(Box<Inner>);

struct Inner {
    op: Operation,
    kind: ErrorKind,
    detail: Cow<'static, str>,
    /// Innermost segment first: segments are pushed while the error unwinds.
    path: Vec<PathSegment>,
    offset: Option<usize>,
    location: Option<Location>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// The library's `Result`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    #[cold]
    #[inline(never)]
    fn build(op: Operation, kind: ErrorKind, detail: Cow<'static, str>) -> Error {
        Error(Box::new(Inner {
            op,
            kind,
            detail,
            path: Vec::new(),
            offset: None,
            location: None,
            source: None,
        }))
    }

    /// A decode error at byte `offset` of the input.
    #[cold]
    pub fn decode(kind: ErrorKind, offset: usize, detail: impl Into<Cow<'static, str>>) -> Error {
        let mut e = Error::build(Operation::Decode, kind, detail.into());
        e.0.offset = Some(offset);
        e
    }

    /// An encode error.
    #[cold]
    pub fn encode(kind: ErrorKind, detail: impl Into<Cow<'static, str>>) -> Error {
        Error::build(Operation::Encode, kind, detail.into())
    }

    /// An IDL error at a place in a file.
    #[cold]
    pub fn idl(kind: ErrorKind, location: Location, detail: impl Into<Cow<'static, str>>) -> Error {
        let mut e = Error::build(Operation::Idl, kind, detail.into());
        e.0.location = Some(location);
        e
    }

    /// A problem with a schema or descriptor, found when a codec is built or a value is used.
    #[cold]
    pub fn schema(detail: impl Into<Cow<'static, str>>) -> Error {
        Error::build(Operation::Schema, ErrorKind::Schema, detail.into())
    }

    /// A value that breaks a validation rule; `detail` names the rule and the value.
    #[cold]
    pub fn validation(detail: impl Into<Cow<'static, str>>) -> Error {
        Error::build(Operation::Validate, ErrorKind::Validation, detail.into())
    }

    /// An I/O error, optionally about a file.
    #[cold]
    pub fn io(err: std::io::Error, file: Option<PathBuf>) -> Error {
        let detail = match &file {
            Some(f) => Cow::Owned(format!("{}: {err}", f.display())),
            None => Cow::Owned(err.to_string()),
        };
        let mut e = Error::build(Operation::Io, ErrorKind::Io, detail);
        e.0.source = Some(Box::new(err));
        e
    }

    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    pub fn operation(&self) -> Operation {
        self.0.op
    }

    /// The specific message, without path or offset.
    pub fn detail(&self) -> &str {
        if self.0.detail.is_empty() {
            self.0.kind.message()
        } else {
            &self.0.detail
        }
    }

    /// Byte offset in the input where decoding failed.
    pub fn offset(&self) -> Option<usize> {
        self.0.offset
    }

    /// Where in an IDL file the error is.
    pub fn location(&self) -> Option<&Location> {
        self.0.location.as_ref()
    }

    /// The path segments, outermost first.
    pub fn path_segments(&self) -> impl Iterator<Item = &PathSegment> {
        self.0.path.iter().rev()
    }

    /// The path as text: `Nesting.ListSimple[3].StringField`; empty when unknown.
    pub fn path(&self) -> String {
        let mut s = String::new();
        for seg in self.path_segments() {
            match seg {
                PathSegment::Root(name) => s.push_str(name),
                PathSegment::Field(name) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(name);
                }
                PathSegment::Index(i) => {
                    s.push('[');
                    s.push_str(&i.to_string());
                    s.push(']');
                }
                PathSegment::Key(k) => {
                    s.push('[');
                    s.push_str(k);
                    s.push(']');
                }
                PathSegment::KeyAt(i) => {
                    s.push_str("<key ");
                    s.push_str(&i.to_string());
                    s.push('>');
                }
            }
        }
        s
    }

    /// Adds the next-outer segment of the path (call while unwinding).
    #[cold]
    #[inline(never)]
    pub fn push(mut self, seg: PathSegment) -> Error {
        // A root only names the outermost value; an inner struct's name is implied by its field.
        if let (PathSegment::Root(_), Some(PathSegment::Root(_))) = (&seg, self.0.path.last()) {
            return self;
        }
        self.0.path.push(seg);
        self
    }

    #[cold]
    #[inline(never)]
    pub fn in_field(self, name: &Arc<str>) -> Error {
        self.push(PathSegment::Field(name.clone()))
    }

    #[cold]
    #[inline(never)]
    pub fn at_index(self, index: usize) -> Error {
        self.push(PathSegment::Index(index))
    }

    /// Names the outermost value. Inner calls are ignored once a root is set, so every struct
    /// level may call it and the outermost one wins.
    #[cold]
    #[inline(never)]
    pub fn in_root(mut self, name: &Arc<str>) -> Error {
        // Replace an inner root by the outer one: only the outermost type name is shown.
        if let Some(PathSegment::Root(_)) = self.0.path.last() {
            self.0.path.pop();
        }
        self.0.path.push(PathSegment::Root(name.clone()));
        self
    }

    /// Sets the byte offset if none is set yet.
    #[cold]
    pub fn with_offset(mut self, offset: usize) -> Error {
        self.0.offset.get_or_insert(offset);
        self
    }

    /// Shifts the recorded offset by `base` (for errors from a reader over a sub-slice).
    #[cold]
    pub fn shift_offset(mut self, base: usize) -> Error {
        if let Some(o) = &mut self.0.offset {
            *o += base;
        }
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = match self.0.op {
            Operation::Decode => "decode error",
            Operation::Encode => "encode error",
            Operation::Idl => "idl error",
            Operation::Schema => "schema error",
            Operation::Io => "i/o error",
            Operation::Validate => "validation error",
        };
        f.write_str(prefix)?;
        if let Some(loc) = &self.0.location {
            write!(f, " at {loc}")?;
        } else if !self.0.path.is_empty() {
            write!(f, " at {}", self.path())?;
        }
        write!(f, ": {}", self.detail())?;
        if let Some(o) = self.0.offset {
            write!(f, " (offset {o})")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.0.kind)
            .field("message", &self.to_string())
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> std::io::Error {
        let kind = match e.kind() {
            ErrorKind::UnexpectedEof => std::io::ErrorKind::UnexpectedEof,
            ErrorKind::Io => std::io::ErrorKind::Other,
            _ => std::io::ErrorKind::InvalidData,
        };
        std::io::Error::new(kind, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_pinned() {
        let e = Error::decode(ErrorKind::InvalidUtf8, 41, "")
            .in_field(&Arc::from("StringField"))
            .at_index(3)
            .in_field(&Arc::from("ListSimple"))
            .in_root(&Arc::from("Simple"))
            .in_root(&Arc::from("Nesting"));
        assert_eq!(
            e.to_string(),
            "decode error at Nesting.ListSimple[3].StringField: invalid utf-8 (offset 41)"
        );
        assert_eq!(e.kind(), ErrorKind::InvalidUtf8);
        assert_eq!(e.offset(), Some(41));

        let e = Error::encode(ErrorKind::MissingRequired, "missing required field 'name'")
            .in_root(&Arc::from("User"));
        assert_eq!(
            e.to_string(),
            "encode error at User: missing required field 'name'"
        );

        let loc = Location {
            file: PathBuf::from("a.thrift"),
            line: 3,
            column: 14,
        };
        let e = Error::idl(ErrorKind::IdlSemantic, loc, "unknown type 'Foo'");
        assert_eq!(
            e.to_string(),
            "idl error at a.thrift:3:14: unknown type 'Foo'"
        );

        let e =
            Error::decode(ErrorKind::UnexpectedEof, 7, "").push(PathSegment::Key("\"k\"".into()));
        assert_eq!(
            e.to_string(),
            "decode error at [\"k\"]: unexpected end of input (offset 7)"
        );
    }

    #[test]
    fn error_is_one_pointer_and_converts_to_io() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
        assert_eq!(
            std::mem::size_of::<Result<()>>(),
            std::mem::size_of::<usize>()
        );
        let io: std::io::Error = Error::decode(ErrorKind::UnexpectedEof, 0, "").into();
        assert_eq!(io.kind(), std::io::ErrorKind::UnexpectedEof);
    }
}
