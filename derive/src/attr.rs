//! Parsing of `#[thrift(...)]`: one pass per item that records every key it finds, with its
//! span, and reports unknown keys, misplaced keys, duplicates and ill-typed values without
//! stopping. What the keys mean together (requiredness, conflicts) is checked by the caller.

use proc_macro2::{Span, TokenTree};
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned as _;
use syn::{Attribute, Expr, ExprLit, Lit, LitStr, Token, UnOp};

use crate::ctxt::Ctxt;
use crate::symbol::*;

/// Where an attribute appears; decides which keys it accepts.
#[derive(Clone, Copy)]
pub enum Position {
    Struct,
    Enum,
    Field,
    EnumVariant,
    UnionVariant,
}

impl Position {
    fn keys(self) -> &'static [Symbol] {
        match self {
            Position::Struct => &[RENAME, EXCEPTION],
            Position::Enum => &[RENAME],
            Position::Field => &[
                ID,
                REQUIRED,
                OPTIONAL,
                DEFAULT,
                RENAME,
                SKIP,
                UNKNOWN_FIELDS,
            ],
            Position::EnumVariant => &[VALUE, RENAME, DEFAULT],
            Position::UnionVariant => &[ID, RENAME, DEFAULT],
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Position::Struct => "a struct",
            Position::Enum => "an enum",
            Position::Field => "a struct field",
            Position::EnumVariant => "a variant of a C-like enum",
            Position::UnionVariant => "a union variant",
        }
    }

    /// "`id`, `rename` and `default`".
    fn key_list(self) -> String {
        let keys: Vec<String> = self.keys().iter().map(|k| format!("`{k}`")).collect();
        match keys.split_last() {
            None => String::new(),
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        }
    }
}

const ALL_KEYS: &[Symbol] = &[
    ID,
    REQUIRED,
    OPTIONAL,
    DEFAULT,
    RENAME,
    SKIP,
    UNKNOWN_FIELDS,
    EXCEPTION,
    VALUE,
];

/// A value together with where it was written.
#[derive(Clone, Copy)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

/// `default` (the type's `Default`) or `default = expr`.
pub struct DefaultAttr {
    pub span: Span,
    pub expr: Option<Expr>,
}

/// Everything `#[thrift(...)]` attributes said about one item. A key that is not allowed in
/// the item's position is reported and left unset.
#[derive(Default)]
pub struct Attrs {
    pub id: Option<Spanned<i16>>,
    pub value: Option<Spanned<i32>>,
    pub required: Option<Span>,
    pub optional: Option<Span>,
    pub default: Option<DefaultAttr>,
    pub rename: Option<LitStr>,
    pub skip: Option<Span>,
    pub unknown_fields: Option<Span>,
    pub exception: Option<Span>,
    /// Keys given with a value that was reported as invalid: not "missing" as well.
    pub invalid: Vec<Symbol>,
}

impl Attrs {
    /// Parses all `#[thrift(...)]` attributes among `attrs`, recording errors in `cx`.
    pub fn parse(cx: &Ctxt, attrs: &[Attribute], pos: Position) -> Attrs {
        let mut out = Attrs::default();
        for attr in attrs.iter().filter(|a| *a.path() == THRIFT) {
            // A syntax error ends this attribute (its remaining tokens cannot be trusted);
            // everything else is recorded and parsing goes on.
            if let Err(err) = attr.parse_nested_meta(|meta| out.parse_key(cx, pos, meta)) {
                cx.syn_error(err);
            }
        }
        out
    }

    /// The keys that were given, with their spans, in a fixed order (for conflict messages).
    pub fn given(&self) -> Vec<(Symbol, Span)> {
        let mut keys = Vec::new();
        let mut push = |key, span: Option<Span>| keys.extend(span.map(|s| (key, s)));
        push(ID, self.id.map(|s| s.span));
        push(VALUE, self.value.map(|s| s.span));
        push(REQUIRED, self.required);
        push(OPTIONAL, self.optional);
        push(DEFAULT, self.default.as_ref().map(|d| d.span));
        push(RENAME, self.rename.as_ref().map(LitStr::span));
        push(SKIP, self.skip);
        push(UNKNOWN_FIELDS, self.unknown_fields);
        push(EXCEPTION, self.exception);
        keys
    }

    fn parse_key(
        &mut self,
        cx: &Ctxt,
        pos: Position,
        meta: ParseNestedMeta<'_>,
    ) -> syn::Result<()> {
        let Some(key) = ALL_KEYS.iter().copied().find(|k| meta.path == *k) else {
            let name = path_to_string(&meta.path);
            cx.error_spanned_by(
                &meta.path,
                format!(
                    "unknown thrift attribute `{name}`; {} accepts {}",
                    pos.describe(),
                    pos.key_list()
                ),
            );
            return skip_value(&meta);
        };
        if !pos.keys().contains(&key) {
            cx.error_spanned_by(
                &meta.path,
                format!(
                    "`{key}` does not apply to {}, which accepts {}",
                    pos.describe(),
                    pos.key_list()
                ),
            );
            return skip_value(&meta);
        }
        let span = meta.path.span();
        match key {
            ID => match int_value(cx, &meta, ID, "field id", "Thrift field ids are i16")? {
                Some(v) => set_once(cx, &mut self.id, key, span, v),
                None => self.invalid.push(key),
            },
            VALUE => {
                match int_value(cx, &meta, VALUE, "enum value", "Thrift enum values are i32")? {
                    Some(v) => set_once(cx, &mut self.value, key, span, v),
                    None => self.invalid.push(key),
                }
            }
            DEFAULT => {
                let expr = if meta.input.peek(Token![=]) {
                    let expr: Expr = meta.value()?.parse()?;
                    if let Position::EnumVariant | Position::UnionVariant = pos {
                        cx.error_spanned_by(
                            &expr,
                            "`default` on a variant takes no value: write `#[thrift(default)]` on the \
                             variant that `empty()` returns",
                        );
                        return Ok(());
                    }
                    Some(expr)
                } else {
                    flag(cx, &meta, key)?;
                    None
                };
                set_once(cx, &mut self.default, key, span, DefaultAttr { span, expr });
            }
            RENAME => match str_value(cx, &meta)? {
                Some(lit) => set_once(cx, &mut self.rename, key, span, lit),
                None => self.invalid.push(key),
            },
            REQUIRED => {
                flag(cx, &meta, key)?;
                set_once(cx, &mut self.required, key, span, span);
            }
            OPTIONAL => {
                flag(cx, &meta, key)?;
                set_once(cx, &mut self.optional, key, span, span);
            }
            SKIP => {
                flag(cx, &meta, key)?;
                set_once(cx, &mut self.skip, key, span, span);
            }
            UNKNOWN_FIELDS => {
                flag(cx, &meta, key)?;
                set_once(cx, &mut self.unknown_fields, key, span, span);
            }
            EXCEPTION => {
                flag(cx, &meta, key)?;
                set_once(cx, &mut self.exception, key, span, span);
            }
            _ => unreachable_key(cx, span, key),
        }
        Ok(())
    }
}

/// `ALL_KEYS` and the match in `parse_key` disagree: a bug in the derive, reported as an
/// error rather than a panic.
fn unreachable_key(cx: &Ctxt, span: Span, key: Symbol) {
    cx.error_at(
        span,
        format!("internal error in #[derive(Thrift)]: unhandled attribute `{key}`"),
    );
}

fn set_once<T>(cx: &Ctxt, slot: &mut Option<T>, key: Symbol, span: Span, value: T) {
    if slot.is_some() {
        cx.error_at(span, format!("duplicate thrift attribute `{key}`"));
    } else {
        *slot = Some(value);
    }
}

fn path_to_string(path: &syn::Path) -> String {
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    segments.join("::")
}

/// Consumes whatever follows a key that was rejected (`= expr` or `(...)`), so that parsing
/// goes on with the next key.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        let _: Expr = meta.value()?.parse()?;
    } else if meta.input.peek(syn::token::Paren) {
        let _: TokenTree = meta.input.parse()?;
    }
    Ok(())
}

/// A key that takes no value: reports and consumes one if given.
fn flag(cx: &Ctxt, meta: &ParseNestedMeta<'_>, key: Symbol) -> syn::Result<()> {
    if meta.input.peek(Token![=]) || meta.input.peek(syn::token::Paren) {
        cx.error_spanned_by(
            &meta.path,
            format!("`{key}` takes no value: write `#[thrift({key})]`"),
        );
        skip_value(meta)?;
    }
    Ok(())
}

/// `key = "string"`.
fn str_value(cx: &Ctxt, meta: &ParseNestedMeta<'_>) -> syn::Result<Option<LitStr>> {
    let expr: Expr = meta.value()?.parse()?;
    match strip_groups(&expr) {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) if lit.value().is_empty() => {
            cx.error_spanned_by(lit, "the Thrift name must not be empty");
            Ok(None)
        }
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Ok(Some(lit.clone())),
        _ => {
            cx.error_spanned_by(&expr, "expected a string literal: `rename = \"name\"`");
            Ok(None)
        }
    }
}

/// `key = N` or `key = -N` with an integer literal that fits `T`.
fn int_value<T: TryFrom<i128> + Bounded>(
    cx: &Ctxt,
    meta: &ParseNestedMeta<'_>,
    key: Symbol,
    what: &str,
    why: &str,
) -> syn::Result<Option<Spanned<T>>> {
    let expr: Expr = meta.value()?.parse()?;
    let Some(value) = int_literal(&expr) else {
        cx.error_spanned_by(&expr, format!("expected an integer literal: `{key} = 1`"));
        return Ok(None);
    };
    match value.and_then(|v| T::try_from(v).ok()) {
        Some(value) => Ok(Some(Spanned {
            value,
            span: expr.span(),
        })),
        None => {
            cx.error_spanned_by(&expr, out_of_range::<T>(&expr, what, why));
            Ok(None)
        }
    }
}

/// The value of an integer literal, possibly negated: `None` if `expr` is not one,
/// `Some(None)` if it does not even fit `i128`.
pub fn int_literal(expr: &Expr) -> Option<Option<i128>> {
    let (lit, negative) = match strip_groups(expr) {
        Expr::Lit(ExprLit {
            lit: Lit::Int(lit), ..
        }) => (lit, false),
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => match strip_groups(&u.expr) {
            Expr::Lit(ExprLit {
                lit: Lit::Int(lit), ..
            }) => (lit, true),
            _ => return None,
        },
        _ => return None,
    };
    Some(
        lit.base10_parse::<i128>()
            .ok()
            .map(|v| if negative { -v } else { v }),
    )
}

/// "field id 40000 is out of range: Thrift field ids are i16 (-32768 to 32767)".
pub fn out_of_range<T: Bounded>(expr: &Expr, what: &str, why: &str) -> String {
    let shown = quote::ToTokens::to_token_stream(expr)
        .to_string()
        .replace(' ', "");
    format!(
        "{what} {shown} is out of range: {why} ({} to {})",
        T::MIN,
        T::MAX
    )
}

/// Bounds of the integer types attributes take, for messages.
pub trait Bounded: std::fmt::Display + Sized {
    const MIN: Self;
    const MAX: Self;
}

impl Bounded for i16 {
    const MIN: i16 = i16::MIN;
    const MAX: i16 = i16::MAX;
}

impl Bounded for i32 {
    const MIN: i32 = i32::MIN;
    const MAX: i32 = i32::MAX;
}

/// Sees through the invisible groups that `macro_rules!` wraps around `$x:expr` fragments,
/// and through parentheses.
fn strip_groups(mut expr: &Expr) -> &Expr {
    loop {
        match expr {
            Expr::Group(g) => expr = &g.expr,
            Expr::Paren(p) => expr = &p.expr,
            _ => return expr,
        }
    }
}
