//! `#[derive(Thrift)]`: emits descriptors that refer only to `::dynthrift::__private`.
//!
//! The derive writes no encode or decode code. For each type it emits an
//! `unsafe impl Describe` whose `TYPE` is static data (names, ids, requiredness, field
//! offsets, size and alignment) plus a few small thunks for what only the compiler knows (which
//! variant an enum holds, where its payload is). The reasons each emitted `unsafe` item is
//! sound are written where it is generated: [`structs`] and [`enums`].
//!
//! Everything the input gets wrong is reported together, each error at its own span; the
//! derive never panics.
#![forbid(unsafe_code)]

mod attr;
mod ctxt;
mod enums;
mod structs;
mod symbol;
mod types;

use proc_macro2::TokenStream;
use syn::{Data, DeriveInput, Fields};

use crate::attr::{Attrs, Position};
use crate::ctxt::Ctxt;

/// Derives `dynthrift::Describe`: a Thrift descriptor of a struct, enum or union.
///
/// - A struct with named fields is a Thrift `struct` (or `exception`, with
///   `#[thrift(exception)]`). Each field needs `#[thrift(id = N)]`. A field of type
///   `Option<T>` is `optional`; `#[thrift(required)]` makes a field `required`; any other
///   field has default requiredness.
/// - An enum whose variants have no fields is a Thrift `enum`. Values come from the
///   discriminants (`A = 3`) or `#[thrift(value = N)]`; otherwise previous + 1, from 0.
/// - An enum whose variants each have exactly one unnamed field is a Thrift `union`; each
///   variant needs `#[thrift(id = N)]`.
///
/// Types cannot be generic.
///
/// With the `dynthrift` feature `volo`, structs, exceptions and unions also implement pilota's
/// `Message` (the derive calls `dynthrift::__private::impl_volo_message!`, which the facade
/// defines according to its features).
///
/// | attribute | on | meaning |
/// |---|---|---|
/// | `rename = "Name"` | type, field, variant | the Thrift name (default: the Rust name) |
/// | `exception` | struct | a Thrift `exception` |
/// | `id = N` | field, union variant | the field id (i16, may be negative) |
/// | `required` | field | must be present; on `Option<T>`, `None` is an encode error |
/// | `optional` | field | optional (the default for `Option<T>`, allowed only there) |
/// | `default` | field | `empty()` starts the field at `Default::default()` |
/// | `default = expr` | field | `empty()` starts the field at `expr` |
/// | `skip` | field | left out of the descriptor; starts at its default |
/// | `unknown_fields` | field | an `UnknownFields` field keeping unrecognised fields |
/// | `value = N` | enum variant | the Thrift value (i32), overriding the discriminant |
/// | `default` | variant | the variant `empty()` returns (default: the first) |
///
/// ```ignore
/// use dynthrift::Thrift;
///
/// #[derive(Thrift)]
/// struct Node {
///     #[thrift(id = 1)]
///     name: String,
///     #[thrift(id = 2)]
///     children: Vec<Node>,
///     #[thrift(id = 3, rename = "next_node")]
///     next: Option<Box<Node>>,
/// }
///
/// #[derive(Thrift)]
/// enum Color { Red = 1, Green, #[thrift(value = 10)] Blue }
///
/// #[derive(Thrift)]
/// enum Shape { #[thrift(id = 1)] Circle(f64), #[thrift(id = 2)] Label(String) }
/// ```
#[proc_macro_derive(Thrift, attributes(thrift))]
pub fn derive_thrift(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    let input = syn::parse_macro_input!(input as DeriveInput);
    derive(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

fn derive(input: &DeriveInput) -> syn::Result<TokenStream> {
    let cx = Ctxt::new();
    // Descriptors are statics, and statics cannot depend on type parameters.
    if !input.generics.params.is_empty() {
        cx.error_spanned_by(
            &input.generics,
            "generic types are not supported by #[derive(Thrift)]",
        );
    }
    let out = match &input.data {
        Data::Struct(data) => {
            let attrs = Attrs::parse(&cx, &input.attrs, Position::Struct);
            match &data.fields {
                Fields::Named(named) => structs::expand(&cx, input, named, &attrs),
                Fields::Unnamed(_) => {
                    cx.error_spanned_by(
                        &input.ident,
                        "tuple structs are not supported by #[derive(Thrift)]: Thrift fields have \
                         names; use a struct with named fields",
                    );
                    TokenStream::new()
                }
                Fields::Unit => {
                    cx.error_spanned_by(
                        &input.ident,
                        "unit structs are not supported by #[derive(Thrift)]: for a Thrift struct \
                         without fields, write `struct Name {}`",
                    );
                    TokenStream::new()
                }
            }
        }
        Data::Enum(data) => {
            let attrs = Attrs::parse(&cx, &input.attrs, Position::Enum);
            enums::expand(&cx, input, data, &attrs)
        }
        Data::Union(data) => {
            cx.error_spanned_by(
                data.union_token,
                "Rust unions are not supported by #[derive(Thrift)]: for a Thrift union, use an \
                 enum whose variants each have one unnamed field, like `A(String)`",
            );
            TokenStream::new()
        }
    };
    cx.check()?;
    Ok(out)
}
