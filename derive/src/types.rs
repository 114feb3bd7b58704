//! Syntactic helpers on the user's types and names.

use proc_macro2::{Group, Ident, TokenStream, TokenTree};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::{GenericArgument, PathArguments, Type};

/// Whether `ty` is written as `Option<T>` (any path whose last segment is `Option` with one
/// type argument: `Option<T>`, `std::option::Option<T>`). A type alias of `Option` is not
/// recognised; its field then has default requiredness.
pub fn is_option(ty: &Type) -> bool {
    let ty = strip_groups(ty);
    let Type::Path(p) = ty else { return false };
    if p.qself.is_some() {
        return false;
    }
    let Some(last) = p.path.segments.last() else {
        return false;
    };
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return false;
    };
    last.ident == "Option"
        && args.args.len() == 1
        && matches!(args.args[0], GenericArgument::Type(_))
}

fn strip_groups(mut ty: &Type) -> &Type {
    loop {
        match ty {
            Type::Group(g) => ty = &g.elem,
            Type::Paren(p) => ty = &p.elem,
            _ => return ty,
        }
    }
}

/// `ty` with every `Self` replaced by `name`: field types may say `Box<Self>`, but the
/// descriptor statics live in free functions, where `Self` means nothing. (The type cannot be
/// generic, so `Self` is exactly `name`.)
pub fn replace_self(ty: &Type, name: &Ident) -> TokenStream {
    replace_in(ty.to_token_stream(), name)
}

fn replace_in(tokens: TokenStream, name: &Ident) -> TokenStream {
    tokens
        .into_iter()
        .map(|tt| match tt {
            TokenTree::Ident(ident) if ident == "Self" => {
                let mut renamed = name.clone();
                renamed.set_span(ident.span());
                TokenTree::Ident(renamed)
            }
            TokenTree::Group(g) => {
                let mut inner = Group::new(g.delimiter(), replace_in(g.stream(), name));
                inner.set_span(g.span());
                TokenTree::Group(inner)
            }
            other => other,
        })
        .collect()
}

/// The Thrift name of a Rust identifier: the identifier without any `r#`.
pub fn wire_name(ident: &Ident) -> String {
    ident.unraw().to_string()
}
