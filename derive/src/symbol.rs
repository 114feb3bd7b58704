//! The words of `#[thrift(...)]`, as constants, so that parsers and messages agree.

use std::fmt;

use syn::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Symbol(&'static str);

/// The attribute itself: `#[thrift(...)]`.
pub const THRIFT: Symbol = Symbol("thrift");

/// Field id of a struct field or union variant: `id = 1`.
pub const ID: Symbol = Symbol("id");
/// Requiredness `required`.
pub const REQUIRED: Symbol = Symbol("required");
/// Requiredness `optional` (only on `Option<T>` fields, where it is also the default).
pub const OPTIONAL: Symbol = Symbol("optional");
/// A field's initial value (`default` or `default = expr`); on a variant, the variant that
/// `empty()` returns.
pub const DEFAULT: Symbol = Symbol("default");
/// The Thrift name of a type, field or variant.
pub const RENAME: Symbol = Symbol("rename");
/// A field left out of the descriptor.
pub const SKIP: Symbol = Symbol("skip");
/// The field of type `UnknownFields` that keeps what decode did not recognise.
pub const UNKNOWN_FIELDS: Symbol = Symbol("unknown_fields");
/// A struct that is a Thrift `exception`.
pub const EXCEPTION: Symbol = Symbol("exception");
/// The i32 value of a Thrift enum variant.
pub const VALUE: Symbol = Symbol("value");

impl PartialEq<Symbol> for Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}
