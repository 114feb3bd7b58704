//! Recursive-descent parser: tokens of one file into a [`Document`]. Hand-written so that
//! every error names the exact place and the offending text. Field ids and enum values are
//! assigned here, the way the Apache compiler assigns them.

use std::path::Path;

use super::MAX_NESTING;
use super::ast::*;
use super::lexer::{self, DocComment, Tok, Token};
use crate::error::{Error, ErrorKind, Location, Result};
use crate::schema::{Annotations, Requiredness, Span, StructKind};

/// Words with a meaning in the IDL. They cannot name definitions, enum values or functions;
/// field and argument names may be any of them (as in Apache Thrift 0.20 and later).
/// Reserved words of target languages (`next`, `self`, ...) are ordinary names here: no code
/// is generated from a schema.
const KEYWORDS: &[&str] = &[
    "include",
    "cpp_include",
    "namespace",
    "const",
    "typedef",
    "enum",
    "senum",
    "struct",
    "union",
    "exception",
    "service",
    "extends",
    "throws",
    "oneway",
    "async",
    "void",
    "required",
    "optional",
    "bool",
    "byte",
    "i8",
    "i16",
    "i32",
    "i64",
    "double",
    "string",
    "binary",
    "uuid",
    "list",
    "set",
    "map",
    "slist",
    "true",
    "false",
    "cpp_type",
    "xsd_all",
    "xsd_optional",
    "xsd_nillable",
    "xsd_attrs",
];

/// Words that start a header or a definition: seeing one where a field, an enum value or a
/// function should be means a `}` is missing.
const ITEM_KEYWORDS: &[&str] = &[
    "include",
    "cpp_include",
    "namespace",
    "const",
    "typedef",
    "enum",
    "senum",
    "struct",
    "union",
    "exception",
    "service",
];

/// Namespace declarations removed from the language, and what replaced them.
const OLD_NAMESPACES: &[(&str, &str)] = &[
    ("cpp_namespace", "cpp"),
    ("java_package", "java"),
    ("csharp_namespace", "csharp"),
    ("delphi_namespace", "delphi"),
    ("php_namespace", "php"),
    ("py_module", "py"),
    ("perl_package", "perl"),
    ("ruby_namespace", "rb"),
    ("smalltalk_category", "st"),
    ("smalltalk_prefix", "st"),
    ("cocoa_prefix", "cocoa"),
    ("xsd_namespace", "xsd"),
];

fn is_keyword(word: &str) -> bool {
    KEYWORDS.contains(&word)
}

/// Parses one file.
pub(crate) fn parse(src: &str, file: &Path) -> Result<Document> {
    let lexed = lexer::lex(src, file)?;
    let mut p = Parser {
        src,
        file,
        tokens: lexed.tokens,
        docs: lexed.docs,
        pos: 0,
        depth: 0,
        first_header: None,
    };
    p.document()
}

struct Parser<'a> {
    src: &'a str,
    file: &'a Path,
    /// Never empty: the last token is `Eof`, and `pos` never moves past it.
    tokens: Vec<Token>,
    docs: Vec<DocComment>,
    pos: usize,
    depth: usize,
    /// Index of the first header token, for the file's doc comment.
    first_header: Option<usize>,
}

impl Parser<'_> {
    fn tok(&self) -> &Token {
        let last = self.tokens.len().saturating_sub(1);
        &self.tokens[self.pos.min(last)]
    }

    fn peek_tok(&self, n: usize) -> &Tok {
        let last = self.tokens.len().saturating_sub(1);
        &self.tokens[(self.pos + n).min(last)].tok
    }

    fn span(&self) -> Span {
        self.tok().span
    }

    fn advance(&mut self) {
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
    }

    fn is_sym(&self, c: u8) -> bool {
        self.tok().tok == Tok::Sym(c)
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(&self.tok().tok, Tok::Ident(s) if s == word)
    }

    fn eat_sym(&mut self, c: u8) -> bool {
        let hit = self.is_sym(c);
        if hit {
            self.advance();
        }
        hit
    }

    fn eat_word(&mut self, word: &str) -> bool {
        let hit = self.is_word(word);
        if hit {
            self.advance();
        }
        hit
    }

    /// Skips an optional `,` or `;`.
    fn separator(&mut self) {
        if !self.eat_sym(b',') {
            self.eat_sym(b';');
        }
    }

    fn doc_here(&self) -> Option<String> {
        let idx = self.tok().doc?;
        self.docs.get(idx)?.text.clone()
    }

    #[cold]
    fn error_at(&self, span: Span, detail: String) -> Error {
        let loc = Location {
            file: self.file.to_path_buf(),
            line: span.line,
            column: span.column,
        };
        Error::idl(ErrorKind::IdlSyntax, loc, detail)
    }

    /// How the current token reads in a message: `'text'` or `end of file`.
    fn found(&self) -> String {
        let t = self.tok();
        if t.tok == Tok::Eof {
            return "end of file".into();
        }
        let text = self.src.get(t.start..t.end).unwrap_or("");
        const MAX: usize = 40;
        if text.chars().count() > MAX {
            let cut: String = text.chars().take(MAX).collect();
            format!("'{cut}...'")
        } else {
            format!("'{text}'")
        }
    }

    #[cold]
    fn unexpected(&self, expected: &str) -> Error {
        self.error_at(
            self.span(),
            format!("expected {expected} but found {}", self.found()),
        )
    }

    fn expect_sym(&mut self, c: u8) -> Result<Span> {
        let span = self.span();
        if self.eat_sym(c) {
            Ok(span)
        } else {
            Err(self.unexpected(&format!("'{}'", c as char)))
        }
    }

    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.error_at(
                self.span(),
                format!("nesting deeper than {MAX_NESTING} levels"),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// A name for a definition, an enum value or a function: no keyword, no dot.
    fn name(&mut self, what: &str) -> Result<Name> {
        let span = self.span();
        match &self.tok().tok {
            Tok::Ident(s) if is_keyword(s) => Err(self.error_at(
                span,
                format!("expected {what} but found reserved word '{s}'"),
            )),
            Tok::Ident(s) if s.contains('.') => {
                Err(self.error_at(span, format!("{what} cannot contain a dot: '{s}'")))
            }
            Tok::Ident(s) => {
                let name = Name {
                    text: s.clone(),
                    span,
                };
                self.advance();
                Ok(name)
            }
            _ => Err(self.unexpected(what)),
        }
    }

    /// A reference to something named (`Foo`, `file.Foo`): dots allowed, keywords not.
    fn reference(&mut self, what: &str) -> Result<Name> {
        let span = self.span();
        match &self.tok().tok {
            Tok::Ident(s) if !is_keyword(s) => {
                let name = Name {
                    text: s.clone(),
                    span,
                };
                self.advance();
                Ok(name)
            }
            _ => Err(self.unexpected(what)),
        }
    }

    fn literal(&mut self, what: &str) -> Result<(String, Span)> {
        let span = self.span();
        if let Tok::Literal(s) = &self.tok().tok {
            let s = s.clone();
            self.advance();
            Ok((s, span))
        } else {
            Err(self.unexpected(what))
        }
    }

    fn document(&mut self) -> Result<Document> {
        let mut doc = Document::default();
        loop {
            let word = match &self.tok().tok {
                Tok::Eof => break,
                Tok::Sym(b';' | b',') => {
                    self.advance();
                    continue;
                }
                Tok::Ident(s) => s.clone(),
                _ => return Err(self.unexpected("a definition")),
            };
            match word.as_str() {
                "include" | "cpp_include" | "namespace" => {
                    self.first_header.get_or_insert(self.pos);
                    self.header(&word, &mut doc)?;
                }
                "const" => {
                    let d = self.const_def()?;
                    doc.definitions.push(Definition::Const(d));
                }
                "typedef" => {
                    let d = self.typedef()?;
                    doc.definitions.push(Definition::Typedef(d));
                }
                "enum" => {
                    let d = self.enum_def()?;
                    doc.definitions.push(Definition::Enum(d));
                }
                "struct" | "union" | "exception" => {
                    let d = self.struct_def()?;
                    doc.definitions.push(Definition::Struct(d));
                }
                "service" => {
                    let d = self.service()?;
                    doc.definitions.push(Definition::Service(d));
                }
                "senum" => {
                    return Err(self.error_at(
                        self.span(),
                        "'senum' is no longer supported, use 'string' instead".into(),
                    ));
                }
                w => {
                    if let Some((_, lang)) = OLD_NAMESPACES.iter().find(|(old, _)| *old == w) {
                        return Err(self.error_at(
                            self.span(),
                            format!("'{w}' is no longer supported, use 'namespace {lang}' instead"),
                        ));
                    }
                    return Err(self.unexpected("a definition"));
                }
            }
        }
        doc.doc = self.file_doc();
        Ok(doc)
    }

    /// The file's doc comment, as Apache decides it: the first doc comment of the file when
    /// no header comes before it and a header or the end of the file comes right after it.
    fn file_doc(&self) -> Option<String> {
        let first = self.docs.first()?;
        let eof = self.tokens.len().saturating_sub(1);
        let is_file_doc = match self.first_header {
            Some(h) => h == first.next_token,
            None => first.next_token == eof,
        };
        if is_file_doc {
            first.text.clone()
        } else {
            None
        }
    }

    fn header(&mut self, word: &str, doc: &mut Document) -> Result<()> {
        self.advance();
        match word {
            "include" => {
                let (path, span) = self.literal("a file name in quotes")?;
                doc.includes.push(Include { path, span });
            }
            "cpp_include" => {
                let (path, _) = self.literal("a file name in quotes")?;
                doc.cpp_includes.push(path);
            }
            _ => {
                let scope = if self.eat_sym(b'*') {
                    "*".to_owned()
                } else if let Tok::Ident(s) = &self.tok().tok {
                    let s = s.clone();
                    self.advance();
                    s
                } else {
                    return Err(self.unexpected("a language name or '*'"));
                };
                let Tok::Ident(value) = &self.tok().tok else {
                    return Err(self.unexpected("a namespace"));
                };
                let value = value.clone();
                self.advance();
                // Annotations on a namespace have no place in the model.
                self.annotations()?;
                doc.namespaces.push((scope, value));
            }
        }
        Ok(())
    }

    fn const_def(&mut self) -> Result<ConstDecl> {
        let doc = self.doc_here();
        self.advance();
        let ty = self.ty()?;
        let name = self.name("a constant name")?;
        self.expect_sym(b'=')?;
        let value = self.const_value()?;
        // thriftpy2 accepts annotations on constants; Apache does not. Accepted and dropped.
        self.annotations()?;
        self.separator();
        Ok(ConstDecl {
            name,
            ty,
            value,
            doc,
        })
    }

    fn typedef(&mut self) -> Result<TypedefDecl> {
        let doc = self.doc_here();
        self.advance();
        let ty = self.ty()?;
        let name = self.name("a typedef name")?;
        let annotations = self.annotations()?;
        self.separator();
        Ok(TypedefDecl {
            name,
            ty,
            annotations,
            doc,
        })
    }

    fn enum_def(&mut self) -> Result<EnumDecl> {
        let doc = self.doc_here();
        self.advance();
        let name = self.name("an enum name")?;
        self.expect_sym(b'{')?;
        let mut values = Vec::new();
        let mut last: i64 = -1;
        while !self.eat_sym(b'}') {
            if !matches!(&self.tok().tok, Tok::Ident(s) if !ITEM_KEYWORDS.contains(&s.as_str())) {
                return Err(self.unexpected("'}'"));
            }
            let value_doc = self.doc_here();
            let value_name = self.name("an enum value name")?;
            let value = if self.eat_sym(b'=') {
                let span = self.span();
                let Tok::Int(v) = self.tok().tok else {
                    return Err(self.unexpected("an integer"));
                };
                self.advance();
                if i32::try_from(v).is_err() {
                    return Err(self.error_at(
                        span,
                        format!("value {v} of '{}' is out of range for i32", value_name.text),
                    ));
                }
                v
            } else {
                last + 1
            };
            let Ok(value) = i32::try_from(value) else {
                return Err(self.error_at(
                    value_name.span,
                    format!(
                        "implicit value {value} of '{}' is out of range for i32",
                        value_name.text
                    ),
                ));
            };
            last = i64::from(value);
            let annotations = self.annotations()?;
            self.separator();
            values.push(EnumValueDecl {
                name: value_name,
                value,
                annotations,
                doc: value_doc,
            });
        }
        let annotations = self.annotations()?;
        Ok(EnumDecl {
            name,
            values,
            annotations,
            doc,
        })
    }

    fn struct_def(&mut self) -> Result<StructDecl> {
        let doc = self.doc_here();
        let kind = match &self.tok().tok {
            Tok::Ident(s) if s == "union" => StructKind::Union,
            Tok::Ident(s) if s == "exception" => StructKind::Exception,
            _ => StructKind::Struct,
        };
        self.advance();
        let name = self.name(match kind {
            StructKind::Struct => "a struct name",
            StructKind::Union => "a union name",
            StructKind::Exception => "an exception name",
        })?;
        if kind != StructKind::Exception {
            self.eat_word("xsd_all");
        }
        self.expect_sym(b'{')?;
        let fields = self.fields(b'}', false)?;
        let annotations = self.annotations()?;
        Ok(StructDecl {
            kind,
            name,
            fields,
            annotations,
            doc,
        })
    }

    fn service(&mut self) -> Result<ServiceDecl> {
        let doc = self.doc_here();
        self.advance();
        let name = self.name("a service name")?;
        let extends = if self.eat_word("extends") {
            Some(self.reference("a service name")?)
        } else {
            None
        };
        self.expect_sym(b'{')?;
        let mut functions = Vec::new();
        while !self.eat_sym(b'}') {
            if !matches!(&self.tok().tok, Tok::Ident(s) if !ITEM_KEYWORDS.contains(&s.as_str())) {
                return Err(self.unexpected("'}'"));
            }
            functions.push(self.function()?);
        }
        let annotations = self.annotations()?;
        Ok(ServiceDecl {
            name,
            extends,
            functions,
            annotations,
            doc,
        })
    }

    fn function(&mut self) -> Result<FunctionDecl> {
        let doc = self.doc_here();
        // `async` is the old spelling of `oneway`.
        let oneway = self.eat_word("oneway") || self.eat_word("async");
        let result = if self.eat_word("void") {
            None
        } else {
            Some(self.ty()?)
        };
        let name = self.name("a function name")?;
        self.expect_sym(b'(')?;
        let args = self.fields(b')', true)?;
        let throws = if self.eat_word("throws") {
            self.expect_sym(b'(')?;
            self.fields(b')', true)?
        } else {
            Vec::new()
        };
        let annotations = self.annotations()?;
        self.separator();
        Ok(FunctionDecl {
            name,
            oneway,
            result,
            args,
            throws,
            annotations,
            doc,
        })
    }

    /// Fields up to `close`. Fields without an id get -1, -2, ... in order, as in Apache; so
    /// do fields whose written id is zero or negative (Apache warns and renumbers them).
    fn fields(&mut self, close: u8, arglist: bool) -> Result<Vec<FieldDecl>> {
        let mut fields = Vec::new();
        let mut next_implicit: i32 = -1;
        while !self.eat_sym(close) {
            let starts_field = match &self.tok().tok {
                Tok::Int(_) => true,
                Tok::Ident(s) => !ITEM_KEYWORDS.contains(&s.as_str()) || s == "senum",
                _ => false,
            };
            if !starts_field {
                return Err(self.unexpected(&format!("'{}'", close as char)));
            }
            fields.push(self.field(&mut next_implicit, arglist)?);
        }
        Ok(fields)
    }

    fn field(&mut self, next_implicit: &mut i32, arglist: bool) -> Result<FieldDecl> {
        let doc = self.doc_here();
        let span = self.span();
        let mut explicit = None;
        if let (Tok::Int(v), Tok::Sym(b':')) = (&self.tok().tok, self.peek_tok(1)) {
            let v = *v;
            if v > i64::from(i16::MAX) {
                return Err(
                    self.error_at(span, format!("field id {v} is out of range (1 to 32767)"))
                );
            }
            self.advance();
            self.advance();
            if v > 0 {
                explicit = Some(v as i16);
            }
        }
        let (id, implicit_id) = match explicit {
            Some(id) => (id, false),
            None => {
                let Ok(id) = i16::try_from(*next_implicit) else {
                    return Err(self.error_at(span, "too many fields without an id".into()));
                };
                *next_implicit -= 1;
                (id, true)
            }
        };
        let req = if self.eat_word("required") {
            Requiredness::Required
        } else if self.eat_word("optional") {
            // Apache ignores `optional` in argument lists.
            if arglist {
                Requiredness::Default
            } else {
                Requiredness::Optional
            }
        } else {
            Requiredness::Default
        };
        let ty = self.ty()?;
        // `&` marks a C++ reference field (Recursive.thrift): no meaning on the wire.
        self.eat_sym(b'&');
        let name = self.field_name()?;
        let default = if self.eat_sym(b'=') {
            Some(self.const_value()?)
        } else {
            None
        };
        self.eat_word("xsd_optional");
        self.eat_word("xsd_nillable");
        if self.eat_word("xsd_attrs") {
            self.expect_sym(b'{')?;
            self.fields(b'}', false)?;
        }
        let annotations = self.annotations()?;
        self.separator();
        Ok(FieldDecl {
            id,
            implicit_id,
            id_span: span,
            req,
            ty,
            name,
            default,
            annotations,
            doc,
            span,
        })
    }

    /// Field names may be keywords (`1: string type`, `2: i32 required`), as in Apache 0.20+.
    fn field_name(&mut self) -> Result<Name> {
        let span = self.span();
        match &self.tok().tok {
            Tok::Ident(s) if s.contains('.') => {
                Err(self.error_at(span, format!("a field name cannot contain a dot: '{s}'")))
            }
            Tok::Ident(s) => {
                let name = Name {
                    text: s.clone(),
                    span,
                };
                self.advance();
                Ok(name)
            }
            _ => Err(self.unexpected("a field name")),
        }
    }

    fn ty(&mut self) -> Result<TypeExpr> {
        self.enter()?;
        let span = self.span();
        let Tok::Ident(word) = &self.tok().tok else {
            return Err(self.unexpected("a type"));
        };
        let word = word.clone();
        let base = match word.as_str() {
            "bool" => Some(BaseType::Bool),
            "byte" | "i8" => Some(BaseType::I8),
            "i16" => Some(BaseType::I16),
            "i32" => Some(BaseType::I32),
            "i64" => Some(BaseType::I64),
            "double" => Some(BaseType::Double),
            "string" => Some(BaseType::String),
            "binary" => Some(BaseType::Binary),
            "uuid" => Some(BaseType::Uuid),
            _ => None,
        };
        let kind = if let Some(base) = base {
            self.advance();
            TypeKind::Base(base)
        } else {
            match word.as_str() {
                "list" | "set" => {
                    let is_list = word == "list";
                    self.advance();
                    self.cpp_type()?;
                    self.expect_sym(b'<')?;
                    let elem = Box::new(self.ty()?);
                    self.expect_sym(b'>')?;
                    if is_list {
                        // The old place of `cpp_type`, after the list.
                        self.cpp_type()?;
                        TypeKind::List(elem)
                    } else {
                        TypeKind::Set(elem)
                    }
                }
                "map" => {
                    self.advance();
                    self.cpp_type()?;
                    self.expect_sym(b'<')?;
                    let key = Box::new(self.ty()?);
                    self.expect_sym(b',')?;
                    let value = Box::new(self.ty()?);
                    self.expect_sym(b'>')?;
                    TypeKind::Map(key, value)
                }
                "slist" | "senum" => {
                    return Err(self.error_at(
                        span,
                        format!("'{word}' is no longer supported, use 'string' instead"),
                    ));
                }
                w if is_keyword(w) => return Err(self.unexpected("a type")),
                w => {
                    let kind = TypeKind::Named(w.to_owned());
                    self.advance();
                    kind
                }
            }
        };
        let annotations = self.annotations()?;
        self.leave();
        Ok(TypeExpr {
            kind,
            annotations,
            span,
        })
    }

    /// `cpp_type "..."` on a container: accepted and ignored.
    fn cpp_type(&mut self) -> Result<()> {
        if self.eat_word("cpp_type") {
            self.literal("a type name in quotes")?;
        }
        Ok(())
    }

    fn const_value(&mut self) -> Result<ConstExpr> {
        self.enter()?;
        let span = self.span();
        let kind = match &self.tok().tok {
            Tok::Int(v) => {
                let v = *v;
                self.advance();
                ConstKind::Int(v)
            }
            Tok::Double(d) => {
                let d = *d;
                self.advance();
                ConstKind::Double(d)
            }
            Tok::Literal(s) => {
                let s = s.clone();
                self.advance();
                ConstKind::Str(s)
            }
            Tok::Ident(s) if s == "true" || s == "false" => {
                let b = s == "true";
                self.advance();
                ConstKind::Bool(b)
            }
            Tok::Ident(s) if !is_keyword(s) => {
                let s = s.clone();
                self.advance();
                ConstKind::Ident(s)
            }
            Tok::Sym(b'[') => {
                self.advance();
                let mut items = Vec::new();
                while !self.eat_sym(b']') {
                    if self.tok().tok == Tok::Eof {
                        return Err(self.unexpected("']'"));
                    }
                    items.push(self.const_value()?);
                    self.separator();
                }
                ConstKind::List(items)
            }
            Tok::Sym(b'{') => {
                self.advance();
                let mut entries = Vec::new();
                while !self.eat_sym(b'}') {
                    if self.tok().tok == Tok::Eof {
                        return Err(self.unexpected("'}'"));
                    }
                    let key = self.const_value()?;
                    self.expect_sym(b':')?;
                    let value = self.const_value()?;
                    self.separator();
                    entries.push((key, value));
                }
                ConstKind::Map(entries)
            }
            _ => return Err(self.unexpected("a constant value")),
        };
        self.leave();
        Ok(ConstExpr { kind, span })
    }

    /// `( key = "value", key2 )`, if present. A key without a value gets "1", as in Apache.
    fn annotations(&mut self) -> Result<Annotations> {
        let mut out = Vec::new();
        if !self.eat_sym(b'(') {
            return Ok(Annotations(out));
        }
        while !self.eat_sym(b')') {
            let Tok::Ident(key) = &self.tok().tok else {
                return Err(self.unexpected("an annotation name or ')'"));
            };
            let key = key.clone();
            self.advance();
            let value = if self.eat_sym(b'=') {
                self.literal("an annotation value in quotes")?.0
            } else {
                "1".to_owned()
            };
            out.push((key, value));
            self.separator();
        }
        Ok(Annotations(out))
    }
}
