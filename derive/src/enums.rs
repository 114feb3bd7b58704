//! Rust enums, in the two shapes that have a Thrift meaning:
//!
//! - all variants without fields: a Thrift `enum` (an i32 on the wire);
//! - all variants with exactly one unnamed field: a Thrift `union`, one field per variant.
//!
//! The emitted thunks are `unsafe fn`s whose only unsafe operation is turning the pointer they
//! are given into a reference to the enum; the descriptor contract (`Describe`, `EnumDesc`,
//! `UnionVTable`) requires callers to pass a pointer to a live value of the enum, with
//! exclusive access for the `*mut` ones. Everything else they do is safe Rust on that
//! reference, so variant indices, payload pointers and values cannot disagree with the
//! enum's definition: they come from `match`es over it. Payload pointers are taken from the
//! payload bindings themselves, and the payload types used for descriptors are checked
//! against the declared ones as in `structs`. The thunks never panic: `set_empty` with an
//! index out of range leaves the value alone and returns null.

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned as _;
use syn::{DataEnum, DeriveInput, Fields, Ident, LitStr, Variant};

use crate::attr::{self, Attrs, Position};
use crate::ctxt::Ctxt;
use crate::structs::{describe_type, type_name};
use crate::symbol::{ID, VALUE};
use crate::types::{replace_self, wire_name};

const SHAPES: &str = "#[derive(Thrift)] supports two enum shapes: all variants without fields \
                      (a Thrift enum), or all variants with exactly one unnamed field, like \
                      `A(String)` (a Thrift union)";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Unit,
    OneField,
}

pub fn expand(cx: &Ctxt, input: &DeriveInput, data: &DataEnum, type_attrs: &Attrs) -> TokenStream {
    let Some(first) = data.variants.first() else {
        cx.error_spanned_by(
            &input.ident,
            "#[derive(Thrift)] needs at least one variant: a Thrift enum needs a value and a union \
             a field for `empty()` to return",
        );
        return TokenStream::new();
    };
    let shapes: Vec<Option<Shape>> = data.variants.iter().map(|v| shape(cx, v)).collect();
    if shapes.iter().any(Option::is_none) {
        return TokenStream::new();
    }
    let first_shape = shapes[0];
    let mut mixed = false;
    for (variant, shape) in data.variants.iter().zip(&shapes).skip(1) {
        if *shape != first_shape {
            mixed = true;
            let (this, that) = match shape {
                Some(Shape::Unit) => ("has no field", "has one"),
                _ => ("has a field", "has none"),
            };
            cx.error_spanned_by(
                variant,
                format!(
                    "variant `{}` {this} but `{}` {that}; {SHAPES}",
                    variant.ident, first.ident
                ),
            );
        }
    }
    if mixed {
        return TokenStream::new();
    }
    match first_shape {
        Some(Shape::Unit) => expand_c_like(cx, input, data, type_attrs),
        _ => expand_union(cx, input, data, type_attrs),
    }
}

/// The shape of one variant, or an error if it fits neither.
fn shape(cx: &Ctxt, variant: &Variant) -> Option<Shape> {
    let problem = match &variant.fields {
        Fields::Unit => return Some(Shape::Unit),
        Fields::Unnamed(f) if f.unnamed.len() == 1 => return Some(Shape::OneField),
        Fields::Unnamed(f) => format!("has {} fields", f.unnamed.len()),
        Fields::Named(_) => "has named fields".to_owned(),
    };
    cx.error_spanned_by(
        &variant.fields,
        format!("variant `{}` {problem}; {SHAPES}", variant.ident),
    );
    None
}

/// Tracks the `#[thrift(default)]` variant: at most one.
fn default_variant<'a>(
    cx: &Ctxt,
    current: &mut Option<&'a Ident>,
    variant: &'a Variant,
    attrs: &Attrs,
) {
    let Some(d) = &attrs.default else { return };
    match current {
        Some(first) => cx.error_at(
            d.span,
            format!("only one variant may be `default`; `{first}` already is"),
        ),
        None => *current = Some(&variant.ident),
    }
}

/// Thrift names of variants, which must be unique.
fn variant_name(
    cx: &Ctxt,
    names: &mut HashMap<String, String>,
    variant: &Variant,
    attrs: &Attrs,
) -> LitStr {
    let lit = match &attrs.rename {
        Some(lit) => lit.clone(),
        None => LitStr::new(&wire_name(&variant.ident), variant.ident.span()),
    };
    let name = lit.value();
    match names.get(&name) {
        Some(first) => cx.error_at(
            lit.span(),
            format!("duplicate Thrift name \"{name}\" (already used by variant `{first}`)"),
        ),
        None => {
            names.insert(name, wire_name(&variant.ident));
        }
    }
    lit
}

fn expand_c_like(
    cx: &Ctxt,
    input: &DeriveInput,
    data: &DataEnum,
    type_attrs: &Attrs,
) -> TokenStream {
    let ident = &input.ident;
    let name = type_name(ident, type_attrs);
    let mut values: HashMap<i32, String> = HashMap::new();
    let mut names = HashMap::new();
    let mut default = None;
    // The value the next variant without an explicit one takes, as in Thrift (and Rust).
    let mut next: Option<i64> = Some(0);
    let mut entries = Vec::new();

    for variant in &data.variants {
        let attrs = Attrs::parse(cx, &variant.attrs, Position::EnumVariant);
        let wire = variant_name(cx, &mut names, variant, &attrs);
        default_variant(cx, &mut default, variant, &attrs);
        let mut implicit = false;
        let (value, span) = match (&attrs.value, &variant.discriminant) {
            (Some(v), _) => (Some(v.value), v.span),
            (None, _) if attrs.invalid.contains(&VALUE) => (None, variant.ident.span()),
            (None, Some((_, expr))) => match attr::int_literal(expr) {
                Some(v) => match v.and_then(|v| i32::try_from(v).ok()) {
                    Some(v) => (Some(v), expr.span()),
                    None => {
                        let why =
                            "Thrift enum values are i32; use #[thrift(value = N)] to give another";
                        cx.error_spanned_by(
                            expr,
                            attr::out_of_range::<i32>(expr, "enum value", why),
                        );
                        (None, expr.span())
                    }
                },
                None => {
                    cx.error_spanned_by(
                        expr,
                        "#[derive(Thrift)] needs the value of each variant: write the discriminant as \
                         an integer literal, or give the Thrift value with #[thrift(value = N)]",
                    );
                    (None, expr.span())
                }
            },
            (None, None) if next.is_none() => (None, variant.ident.span()),
            (None, None) => match next.and_then(|n| i32::try_from(n).ok()) {
                Some(v) => {
                    implicit = true;
                    (Some(v), variant.ident.span())
                }
                None => {
                    cx.error_spanned_by(
                        &variant.ident,
                        "this variant's implicit value (previous + 1) does not fit in i32; give one \
                         with #[thrift(value = N)]",
                    );
                    (None, variant.ident.span())
                }
            },
        };
        // After an error, later implicit values are unknown; do not report them too.
        next = value.map(|v| i64::from(v) + 1);
        let Some(value) = value else { continue };
        match values.get(&value) {
            Some(first) => {
                let how = if implicit {
                    " (implicit: previous + 1)"
                } else {
                    ""
                };
                cx.error_at(
                    span,
                    format!(
                        "duplicate enum value {value}{how} (already used by variant `{first}`)"
                    ),
                )
            }
            None => {
                values.insert(value, variant.ident.to_string());
            }
        }
        entries.push((&variant.ident, wire, value));
    }

    let empty = default.unwrap_or(&data.variants[0].ident);
    let value_pairs = entries
        .iter()
        .map(|(_, wire, value)| quote!((#wire, #value)));
    let to_arms = entries
        .iter()
        .map(|(v, _, value)| quote!(#ident::#v => #value));
    let from_arms = entries
        .iter()
        .map(|(v, _, value)| quote!(#value => #ident::#v));

    quote! {
        const _: () = {
            #[automatically_derived]
            unsafe impl ::dynthrift::__private::Describe for #ident {
                const TYPE: &'static ::dynthrift::__private::TypeDesc =
                    &::dynthrift::__private::TypeDesc::Enum(&::dynthrift::__private::EnumDesc {
                        name: #name,
                        values: &[#(#value_pairs),*],
                        to_i32: __dynthrift_to_i32,
                        from_i32: __dynthrift_from_i32,
                    });

                fn empty() -> Self {
                    #ident::#empty
                }
            }

            unsafe fn __dynthrift_to_i32(p: *const u8) -> i32 {
                match unsafe { &*p.cast::<#ident>() } {
                    #(#to_arms,)*
                }
            }

            unsafe fn __dynthrift_from_i32(p: *mut u8, v: i32) -> bool {
                let value = match v {
                    #(#from_arms,)*
                    _ => return false,
                };
                unsafe { p.cast::<#ident>().write(value) };
                true
            }
        };
    }
}

fn expand_union(
    cx: &Ctxt,
    input: &DeriveInput,
    data: &DataEnum,
    type_attrs: &Attrs,
) -> TokenStream {
    let ident = &input.ident;
    let name = type_name(ident, type_attrs);
    let mut ids: HashMap<i16, String> = HashMap::new();
    let mut names = HashMap::new();
    let mut default = None;
    let mut variants = Vec::new();

    for variant in &data.variants {
        let attrs = Attrs::parse(cx, &variant.attrs, Position::UnionVariant);
        let wire = variant_name(cx, &mut names, variant, &attrs);
        default_variant(cx, &mut default, variant, &attrs);
        let id = match attrs.id {
            Some(id) => {
                match ids.get(&id.value) {
                    Some(first) => cx.error_at(
                        id.span,
                        format!(
                            "duplicate field id {} (already used by variant `{first}`)",
                            id.value
                        ),
                    ),
                    None => {
                        ids.insert(id.value, variant.ident.to_string());
                    }
                }
                id.value
            }
            None => {
                if !attrs.invalid.contains(&ID) {
                    cx.error_spanned_by(
                        &variant.ident,
                        format!(
                            "missing field id: add #[thrift(id = N)] to variant `{}`",
                            variant.ident
                        ),
                    );
                }
                0
            }
        };
        let Fields::Unnamed(fields) = &variant.fields else {
            continue;
        };
        let payload = &fields.unnamed[0].ty;
        variants.push(UnionVariant {
            ident: &variant.ident,
            wire,
            id,
            ty: replace_self(payload, ident),
            ty_span: payload.span(),
        });
    }

    let field_descs = variants.iter().map(|v| {
        let UnionVariant { wire, id, .. } = v;
        let ty_desc = describe_type(&v.ty, v.ty_span);
        quote! {
            ::dynthrift::__private::FieldDesc {
                id: #id,
                name: #wire,
                ty: #ty_desc,
                req: ::dynthrift::__private::Requiredness::Default,
                offset: 0,
            }
        }
    });
    let variant_arms = variants.iter().enumerate().map(|(i, v)| {
        let vident = v.ident;
        quote!(#ident::#vident(_) => #i)
    });
    let payload_arms = variants.iter().map(|v| {
        let vident = v.ident;
        quote!(#ident::#vident(payload) => ::core::ptr::from_ref(payload).cast::<u8>())
    });
    let set_arms = variants.iter().enumerate().map(|(i, v)| {
        let vident = v.ident;
        let ty = &v.ty;
        let empty = quote_spanned!(v.ty_span=> <#ty as ::dynthrift::__private::Describe>::empty());
        quote! {
            #i => {
                *value = #ident::#vident(#empty);
                if let #ident::#vident(payload) = value {
                    return ::core::ptr::from_mut(payload).cast::<u8>();
                }
            }
        }
    });
    let type_checks = variants.iter().map(|v| {
        let vident = v.ident;
        let ty = &v.ty;
        let check = quote_spanned!(v.ty_span=> let _: *const #ty = &raw const *payload;);
        quote!(#ident::#vident(payload) => { #check })
    });
    let empty = default
        .and_then(|d| variants.iter().find(|v| v.ident == d))
        .or(variants.first());
    let Some(empty) = empty else {
        return TokenStream::new();
    };
    let empty_body = {
        let (vident, ty) = (empty.ident, &empty.ty);
        let payload =
            quote_spanned!(empty.ty_span=> <#ty as ::dynthrift::__private::Describe>::empty());
        quote!(#ident::#vident(#payload))
    };

    quote! {
        const _: () = {
            #[automatically_derived]
            unsafe impl ::dynthrift::__private::Describe for #ident {
                const TYPE: &'static ::dynthrift::__private::TypeDesc =
                    &::dynthrift::__private::TypeDesc::Struct(__dynthrift_desc);

                fn empty() -> Self {
                    #empty_body
                }
            }

            fn __dynthrift_desc() -> &'static ::dynthrift::__private::StructDesc {
                static __DYNTHRIFT_CACHE: ::dynthrift::__private::CodecCache =
                    ::dynthrift::__private::CodecCache::new();
                static __DYNTHRIFT_UNION: ::dynthrift::__private::UnionVTable =
                    ::dynthrift::__private::UnionVTable {
                        variant: __dynthrift_variant,
                        payload: __dynthrift_payload,
                        set_empty: __dynthrift_set_empty,
                    };
                static __DYNTHRIFT_DESC: ::dynthrift::__private::StructDesc =
                    ::dynthrift::__private::StructDesc {
                        name: #name,
                        kind: ::dynthrift::__private::StructKind::Union,
                        fields: &[#(#field_descs),*],
                        unknown_fields: ::core::option::Option::None,
                        union: ::core::option::Option::Some(&__DYNTHRIFT_UNION),
                        size: ::dynthrift::__private::size_of::<#ident>(),
                        align: ::dynthrift::__private::align_of::<#ident>(),
                        cache: &__DYNTHRIFT_CACHE,
                    };
                &__DYNTHRIFT_DESC
            }

            unsafe fn __dynthrift_variant(p: *const u8) -> usize {
                match unsafe { &*p.cast::<#ident>() } {
                    #(#variant_arms,)*
                }
            }

            unsafe fn __dynthrift_payload(p: *const u8) -> *const u8 {
                match unsafe { &*p.cast::<#ident>() } {
                    #(#payload_arms,)*
                }
            }

            #[allow(irrefutable_let_patterns)]
            unsafe fn __dynthrift_set_empty(p: *mut u8, index: usize) -> *mut u8 {
                let value = unsafe { &mut *p.cast::<#ident>() };
                match index {
                    #(#set_arms)*
                    _ => {}
                }
                ::core::ptr::null_mut()
            }

            #[allow(dead_code)]
            fn __dynthrift_check_payload_types(value: &#ident) {
                match value {
                    #(#type_checks)*
                }
            }
        };

        // pilota's `Message` when the facade has feature `volo` (the facade decides).
        ::dynthrift::__private::impl_volo_message!(#ident);
    }
}

struct UnionVariant<'a> {
    ident: &'a Ident,
    wire: LitStr,
    id: i16,
    /// The payload type, with `Self` replaced by the enum's name.
    ty: TokenStream,
    ty_span: Span,
}
