//! Structs with named fields: a Thrift `struct` or `exception`.
//!
//! The emitted `unsafe impl Describe` is sound because, for every field in the descriptor,
//! `offset` is `offset_of!(T, field)` and `ty` is `<FieldTy as Describe>::TYPE` where
//! `FieldTy` is the type written on that field, and a hidden function checks (with
//! `&raw const v.field` assigned to `*const FieldTy`, which allows no coercion between sized
//! types) that the two really are the same type, even where `Self` was substituted or a type
//! macro was expanded again. `repr(packed)` is rejected, so every field is aligned. The
//! `unknown_fields` offset is checked the same way against `UnknownFields`.

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned as _;
use syn::{DeriveInput, FieldsNamed, Ident, LitStr};

use crate::attr::{Attrs, Position};
use crate::ctxt::Ctxt;
use crate::symbol::*;
use crate::types::{is_option, replace_self, wire_name};

/// What a field contributes.
enum Role {
    /// A field in the descriptor.
    Wire {
        id: i16,
        name: String,
        req: TokenStream,
    },
    /// Not in the descriptor; starts at its default.
    Skip,
    /// The `UnknownFields` field.
    Unknown,
}

struct Field<'a> {
    ident: &'a Ident,
    /// The field type, with `Self` replaced by the struct's name.
    ty: TokenStream,
    ty_span: Span,
    attrs: Attrs,
    role: Role,
}

pub fn expand(
    cx: &Ctxt,
    input: &DeriveInput,
    named: &FieldsNamed,
    type_attrs: &Attrs,
) -> TokenStream {
    check_repr(cx, input);
    let ident = &input.ident;
    let fields = collect_fields(cx, ident, named);

    let name = type_name(ident, type_attrs);
    let kind = if type_attrs.exception.is_some() {
        quote!(::dynthrift::__private::StructKind::Exception)
    } else {
        quote!(::dynthrift::__private::StructKind::Struct)
    };

    let field_descs = fields.iter().filter_map(|f| {
        let Role::Wire { id, name, req } = &f.role else {
            return None;
        };
        let fident = f.ident;
        let ty_desc = describe_type(&f.ty, f.ty_span);
        Some(quote! {
            ::dynthrift::__private::FieldDesc {
                id: #id,
                name: #name,
                ty: #ty_desc,
                req: #req,
                offset: ::dynthrift::__private::offset_of!(#ident, #fident),
            }
        })
    });

    let unknown = fields.iter().find(|f| matches!(f.role, Role::Unknown));
    let unknown_fields = match unknown {
        Some(f) => {
            let fident = f.ident;
            quote!(::core::option::Option::Some(
                ::dynthrift::__private::offset_of!(#ident, #fident)
            ))
        }
        None => quote!(::core::option::Option::None),
    };

    let inits = fields.iter().map(|f| {
        let fident = f.ident;
        let ty = &f.ty;
        let value = match (&f.role, &f.attrs.default) {
            (_, Some(d)) if d.expr.is_some() => {
                let expr = &d.expr;
                quote!(#expr)
            }
            (Role::Wire { .. }, None) => {
                quote_spanned!(f.ty_span=> <#ty as ::dynthrift::__private::Describe>::empty())
            }
            _ => quote_spanned!(f.ty_span=> ::core::default::Default::default()),
        };
        quote!(#fident: #value)
    });

    // `*const DeclaredTy` assigned to `*const DescribedTy`: compiles only if they are equal.
    // Spanned at the field type (field name included), so that a mismatch is reported there.
    let type_checks = fields.iter().filter_map(|f| {
        let mut fident = f.ident.clone();
        fident.set_span(f.ty_span);
        let ty = match f.role {
            Role::Wire { .. } => f.ty.clone(),
            Role::Unknown => quote_spanned!(f.ty_span=> ::dynthrift::__private::UnknownFields),
            Role::Skip => return None,
        };
        Some(quote_spanned!(f.ty_span=> let _: *const #ty = &raw const __dynthrift_value.#fident;))
    });

    quote! {
        const _: () = {
            #[automatically_derived]
            unsafe impl ::dynthrift::__private::Describe for #ident {
                const TYPE: &'static ::dynthrift::__private::TypeDesc =
                    &::dynthrift::__private::TypeDesc::Struct(__dynthrift_desc);

                fn empty() -> Self {
                    #ident { #(#inits,)* }
                }
            }

            fn __dynthrift_desc() -> &'static ::dynthrift::__private::StructDesc {
                static __DYNTHRIFT_CACHE: ::dynthrift::__private::CodecCache =
                    ::dynthrift::__private::CodecCache::new();
                static __DYNTHRIFT_DESC: ::dynthrift::__private::StructDesc =
                    ::dynthrift::__private::StructDesc {
                        name: #name,
                        kind: #kind,
                        fields: &[#(#field_descs),*],
                        unknown_fields: #unknown_fields,
                        union: ::core::option::Option::None,
                        size: ::dynthrift::__private::size_of::<#ident>(),
                        align: ::dynthrift::__private::align_of::<#ident>(),
                        cache: &__DYNTHRIFT_CACHE,
                    };
                &__DYNTHRIFT_DESC
            }

            #[allow(dead_code)]
            fn __dynthrift_check_field_types(__dynthrift_value: &#ident) {
                #(#type_checks)*
            }
        };

        // pilota's `Message` when the facade has feature `volo` (the facade decides).
        ::dynthrift::__private::impl_volo_message!(#ident);
    }
}

/// The Thrift name of a type: `rename` or the Rust name.
pub fn type_name(ident: &Ident, attrs: &Attrs) -> LitStr {
    match &attrs.rename {
        Some(lit) => lit.clone(),
        None => LitStr::new(&wire_name(ident), ident.span()),
    }
}

/// `<ty as Describe>::TYPE`, spanned at the type so that a type without a descriptor is
/// reported there.
pub fn describe_type(ty: &TokenStream, span: Span) -> TokenStream {
    quote_spanned!(span=> <#ty as ::dynthrift::__private::Describe>::TYPE)
}

/// Packed structs have unaligned fields, which backends read through aligned pointers.
fn check_repr(cx: &Ctxt, input: &DeriveInput) {
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("repr")) {
        // Other `repr` syntax errors are the compiler's to report.
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("packed") {
                cx.error_spanned_by(
                    &meta.path,
                    "#[derive(Thrift)] does not support #[repr(packed)]: fields must be aligned",
                );
            }
            if meta.input.peek(syn::token::Paren) {
                let _: proc_macro2::TokenTree = meta.input.parse()?;
            }
            Ok(())
        });
    }
}

fn collect_fields<'a>(cx: &Ctxt, type_ident: &Ident, named: &'a FieldsNamed) -> Vec<Field<'a>> {
    let mut fields = Vec::new();
    // id -> (field name, for messages)
    let mut ids: HashMap<i16, String> = HashMap::new();
    let mut names: HashMap<String, String> = HashMap::new();
    let mut unknown: Option<&Ident> = None;

    for field in &named.named {
        let Some(ident) = &field.ident else { continue };
        let attrs = Attrs::parse(cx, &field.attrs, Position::Field);
        let rust_name = wire_name(ident);

        let role = if let Some(span) = attrs.unknown_fields {
            conflicts(cx, &attrs, UNKNOWN_FIELDS, &[UNKNOWN_FIELDS]);
            if let Some(first) = unknown {
                cx.error_at(
                    span,
                    format!(
                        "only one field may keep unknown fields; `{}` already does",
                        wire_name(first)
                    ),
                );
            }
            unknown = Some(ident);
            Role::Unknown
        } else if attrs.skip.is_some() {
            conflicts(cx, &attrs, SKIP, &[SKIP, DEFAULT]);
            Role::Skip
        } else {
            let req = requiredness(cx, field, &attrs);
            let name = attrs
                .rename
                .as_ref()
                .map_or_else(|| rust_name.clone(), LitStr::value);
            let name_span = attrs
                .rename
                .as_ref()
                .map_or_else(|| ident.span(), LitStr::span);
            if let Some(first) = names.get(&name) {
                cx.error_at(
                    name_span,
                    format!(
                        "duplicate Thrift field name \"{name}\" (already used by field `{first}`)"
                    ),
                );
            } else {
                names.insert(name.clone(), rust_name.clone());
            }
            let id = match attrs.id {
                Some(id) => {
                    if let Some(first) = ids.get(&id.value) {
                        cx.error_at(
                            id.span,
                            format!(
                                "duplicate field id {} (already used by field `{first}`)",
                                id.value
                            ),
                        );
                    } else {
                        ids.insert(id.value, rust_name.clone());
                    }
                    id.value
                }
                None => {
                    if !attrs.invalid.contains(&ID) {
                        cx.error_spanned_by(
                        ident,
                        format!("missing field id: add #[thrift(id = N)] to `{rust_name}`, or #[thrift(skip)]"),
                    );
                    }
                    0
                }
            };
            Role::Wire { id, name, req }
        };

        fields.push(Field {
            ident,
            ty: replace_self(&field.ty, type_ident),
            ty_span: field.ty.span(),
            attrs,
            role,
        });
    }
    fields
}

/// Reports every key of `attrs` other than `allowed` as conflicting with `key`.
fn conflicts(cx: &Ctxt, attrs: &Attrs, key: Symbol, allowed: &[Symbol]) {
    for (other, span) in attrs.given() {
        if !allowed.contains(&other) {
            cx.error_at(span, format!("`{other}` cannot be combined with `{key}`"));
        }
    }
}

fn requiredness(cx: &Ctxt, field: &syn::Field, attrs: &Attrs) -> TokenStream {
    let option = is_option(&field.ty);
    if let (Some(_), Some(opt)) = (attrs.required, attrs.optional) {
        cx.error_at(opt, "a field cannot be both `required` and `optional`");
    }
    if let (Some(_), Some(default)) = (attrs.required, &attrs.default) {
        cx.error_at(
            default.span,
            "a `required` field cannot have a `default`: it is always present on the wire, so the \
             default would never be used",
        );
    }
    if attrs.optional.is_some() && !option {
        cx.error_spanned_by(&field.ty, "optional fields must have type Option<T>");
    }
    if attrs.required.is_some() {
        quote!(::dynthrift::__private::Requiredness::Required)
    } else if option {
        quote!(::dynthrift::__private::Requiredness::Optional)
    } else {
        quote!(::dynthrift::__private::Requiredness::Default)
    }
}
