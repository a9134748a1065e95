//! The enum extension policy: each enum schema says in `x-ayra-extensible`
//! whether the API may add values, and the generated enums of those that say
//! `true` are open: a value the API adds after this SDK was built decodes to
//! `Unknown(String)` instead of failing the call.
//!
//! typify emits closed enums with serde derives. For each such enum whose
//! variants are all unit variants, this drops the serde derives and the
//! conversions typify wrote, adds the `Unknown` variant, and writes serde and
//! conversion impls that keep the unknown string.

use crate::problem::Problem;
use crate::spec::escape;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;
use syn::{Fields, Item, ItemEnum, Meta, parse_quote};

/// The marker every enum schema carries: `true` when new values may appear.
const EXTENSIBLE: &str = "x-ayra-extensible";

/// Every `enum` is a named schema under `components/schemas` that states its
/// extension policy.
pub(crate) fn check(root: &Value, out: &mut Vec<Problem>) {
    fn walk(node: &Value, pointer: String, named: bool, out: &mut Vec<Problem>) {
        match node {
            Value::Object(map) => {
                if map.contains_key("enum") {
                    if !named {
                        out.push(Problem::new(
                            format!("{pointer}/enum"),
                            format!("an inline enum: name it under `components/schemas` (with `{EXTENSIBLE}`) and `$ref` it"),
                        ));
                    } else if !map.get(EXTENSIBLE).is_some_and(Value::is_boolean) {
                        out.push(Problem::new(
                            pointer.clone(),
                            format!("an enum without its extension policy: add `{EXTENSIBLE}: true` if the API may add values (the SDK then accepts unknown ones), `false` for a closed set"),
                        ));
                    }
                }
                for (key, value) in map {
                    walk(value, format!("{pointer}/{}", escape(key)), false, out);
                }
            }
            Value::Array(items) => {
                for (i, value) in items.iter().enumerate() {
                    walk(value, format!("{pointer}/{i}"), false, out);
                }
            }
            _ => {}
        }
    }
    for (key, value) in root.as_object().into_iter().flatten() {
        if key == "components" {
            for (section, entries) in value.as_object().into_iter().flatten() {
                for (name, entry) in entries.as_object().into_iter().flatten() {
                    let pointer = format!("/components/{}/{}", escape(section), escape(name));
                    walk(entry, pointer, section == "schemas", out);
                }
            }
        } else {
            walk(value, format!("/{}", escape(key)), false, out);
        }
    }
}

/// The schemas marked `x-ayra-extensible: true`: the enums to open.
pub(crate) fn extensible(root: &Value) -> Vec<String> {
    root["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, s)| s[EXTENSIBLE] == true)
        .map(|(name, _)| name.clone())
        .collect()
}

/// Rewrites the items of the `types` module in place, opening the enums named
/// in `extensible`.
pub(crate) fn open_enums(items: &mut Vec<Item>, extensible: &[String]) {
    let mut opened = Vec::new();
    for item in items.iter_mut() {
        if let Item::Enum(e) = item
            && extensible.contains(&e.ident.to_string())
            && let Some(values) = unit_values(e)
        {
            open(e);
            opened.push((e.ident.clone(), values));
        }
    }
    if opened.is_empty() {
        return;
    }
    let names: Vec<String> = opened.iter().map(|(i, _)| i.to_string()).collect();
    items.retain(|item| !is_replaced_impl(item, &names));
    items.push(parse_quote! {
        /// Decodes an open enum from a borrowed or owned string.
        struct OpenEnumVisitor<T>(::std::marker::PhantomData<T>);
    });
    items.push(parse_quote! {
        impl<'de, T> ::serde::de::Visitor<'de> for OpenEnumVisitor<T>
        where
            T: for<'a> ::std::convert::From<&'a str> + ::std::convert::From<::std::string::String>,
        {
            type Value = T;
            fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: ::serde::de::Error>(self, v: &str) -> ::std::result::Result<T, E> {
                Ok(T::from(v))
            }
            fn visit_string<E: ::serde::de::Error>(
                self,
                v: ::std::string::String,
            ) -> ::std::result::Result<T, E> {
                Ok(T::from(v))
            }
        }
    });
    for (ident, values) in opened {
        let file: syn::File = syn::parse2(impls(&ident, &values)).expect("enum impls parse");
        items.extend(file.items);
    }
}

/// The wire values of an enum whose variants are all unit variants.
fn unit_values(e: &ItemEnum) -> Option<Vec<(syn::Ident, String)>> {
    if e.variants.is_empty() || !derives(e, "Deserialize") {
        return None;
    }
    e.variants
        .iter()
        .map(|v| {
            matches!(v.fields, Fields::Unit).then(|| {
                let wire = serde_rename(&v.attrs).unwrap_or_else(|| v.ident.to_string());
                (v.ident.clone(), wire)
            })
        })
        .collect()
}

fn derives(e: &ItemEnum, name: &str) -> bool {
    e.attrs
        .iter()
        .any(|a| a.path().is_ident("derive") && quote!(#a).to_string().contains(name))
}

fn serde_rename(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().find_map(|a| {
        if !a.path().is_ident("serde") {
            return None;
        }
        let Meta::List(list) = &a.meta else {
            return None;
        };
        let nv: syn::MetaNameValue = syn::parse2(list.tokens.clone()).ok()?;
        if !nv.path.is_ident("rename") {
            return None;
        }
        match nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        }
    })
}

/// Drops the serde derives and `Copy`, and adds the `Unknown` variant.
fn open(e: &mut ItemEnum) {
    for attr in &mut e.attrs {
        if !attr.path().is_ident("derive") {
            continue;
        }
        let Meta::List(list) = &attr.meta else {
            continue;
        };
        let kept: Vec<syn::Path> = list
            .parse_args_with(
                syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
            )
            .map(|paths| {
                paths
                    .into_iter()
                    .filter(|p| {
                        let last = p.segments.last().map(|s| s.ident.to_string());
                        !matches!(last.as_deref(), Some("Serialize" | "Deserialize" | "Copy"))
                    })
                    .collect()
            })
            .unwrap_or_default();
        *attr = parse_quote!(#[derive(#(#kept),*)]);
    }
    e.variants.push(parse_quote! {
        /// A value this version of the SDK does not know yet (the API added
        /// it later), kept as the API sent it.
        #[schemars(skip)]
        Unknown(::std::string::String)
    });
}

/// Whether `item` is one of typify's conversions for an enum made open.
fn is_replaced_impl(item: &Item, names: &[String]) -> bool {
    let Item::Impl(imp) = item else { return false };
    let Some((trait_path, _)) = &imp.trait_ else {
        return false;
    };
    let self_name = match &*imp.self_ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    };
    let trait_name = trait_path.segments.last().map(|s| s.ident.to_string());
    self_name.is_some_and(|n| names.contains(&n))
        && matches!(
            trait_name.as_deref(),
            Some("Display" | "FromStr" | "TryFrom")
        )
}

fn impls(ident: &syn::Ident, values: &[(syn::Ident, String)]) -> TokenStream {
    let variants: Vec<&syn::Ident> = values.iter().map(|(v, _)| v).collect();
    let wires: Vec<&str> = values.iter().map(|(_, w)| w.as_str()).collect();
    let visitor = format_ident!("OpenEnumVisitor");
    quote! {
        impl #ident {
            /// The value as the API spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    #(Self::#variants => #wires,)*
                    Self::Unknown(value) => value.as_str(),
                }
            }
            /// Whether the API sent a value this SDK does not know.
            pub fn is_unknown(&self) -> bool {
                matches!(self, Self::Unknown(_))
            }
        }
        impl ::std::convert::From<&str> for #ident {
            fn from(value: &str) -> Self {
                match value {
                    #(#wires => Self::#variants,)*
                    other => Self::Unknown(other.to_string()),
                }
            }
        }
        impl ::std::convert::From<::std::string::String> for #ident {
            fn from(value: ::std::string::String) -> Self {
                match value.as_str() {
                    #(#wires => Self::#variants,)*
                    _ => Self::Unknown(value),
                }
            }
        }
        impl ::std::str::FromStr for #ident {
            type Err = ::std::convert::Infallible;
            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }
        impl ::std::fmt::Display for #ident {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl ::serde::Serialize for #ident {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> ::serde::Deserialize<'de> for #ident {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                d.deserialize_str(#visitor(::std::marker::PhantomData))
            }
        }
    }
}
