//! What the setters of the body builders accept. typify's setters take
//! anything `TryInto` the field's exact type, so users write
//! `.count(Some(NonZeroU64::new(4).unwrap()))`, `vec!["a".to_string()]` or
//! convert a `json!` value to a `Map` by hand. Here they take the runtime's
//! conversion traits instead, chosen by the field's type:
//! - `Option<T>`: `IntoOptional<T>` (`4`, `"text"`, `Some(..)`, `None`, a
//!   nested builder);
//! - `Vec<T>`: `IntoList<T>` (`["a", "b"]`, `vec![builder]`, an iterator);
//! - a JSON object: `IntoJsonObject` (`json!({..})`, a map, a `Serialize` struct).
//!
//! A nested builder that is not valid becomes the outer builder's error,
//! which `send()` reports as `Error::InvalidRequest`: nothing panics.

use quote::ToTokens;
use std::collections::BTreeSet;
use syn::{ImplItem, Item, parse_quote};

/// Rewrites the setters of the `builder` submodule of the `types` module, and
/// adds what the new setters need: the conversion of each nested builder
/// into its type, and `Envelope` for the response bodies with a `data` field.
pub(crate) fn rewrite(types: &mut Vec<Item>, runtime: &syn::Path) {
    // The structs with a builder (a newtype such as `Metadata` has none).
    let structs: BTreeSet<String> = types
        .iter()
        .filter_map(|item| match item {
            Item::Mod(m) if m.ident == "builder" => m.content.as_ref(),
            _ => None,
        })
        .flat_map(|(_, items)| items)
        .filter_map(|item| match item {
            Item::Struct(s) => Some(s.ident.to_string()),
            _ => None,
        })
        .collect();
    let mut nested = BTreeSet::new();
    let mut envelopes = Vec::new();
    for item in types.iter_mut() {
        match item {
            Item::Struct(s) => {
                if let Some(data) = s
                    .fields
                    .iter()
                    .find(|f| f.ident.as_ref().is_some_and(|i| i == "data"))
                {
                    let (name, ty) = (&s.ident, &data.ty);
                    envelopes.push(parse_quote! {
                        impl #runtime::Envelope for #name {
                            type Data = #ty;
                            fn into_data(self) -> #ty {
                                self.data
                            }
                        }
                    });
                }
            }
            Item::Mod(m) if m.ident == "builder" => {
                let Some((_, items)) = &mut m.content else {
                    continue;
                };
                for item in items.iter_mut() {
                    if let Item::Impl(imp) = item
                        && imp.trait_.is_none()
                    {
                        for f in imp.items.iter_mut() {
                            if let ImplItem::Fn(f) = f {
                                rewrite_setter(f, runtime, &structs, &mut nested);
                            }
                        }
                    }
                }
                for name in &nested {
                    let name = quote::format_ident!("{name}");
                    items.push(parse_quote! {
                        impl #runtime::IntoOptional<super::#name> for #name {
                            fn into_optional(self) -> ::std::result::Result<::std::option::Option<super::#name>, ::std::string::String> {
                                super::#name::try_from(self).map(::std::option::Option::Some).map_err(|e| e.to_string())
                            }
                        }
                    });
                    items.push(parse_quote! {
                        impl #runtime::IntoItem<super::#name> for #name {
                            fn into_item(self) -> ::std::result::Result<super::#name, ::std::string::String> {
                                super::#name::try_from(self).map_err(|e| e.to_string())
                            }
                        }
                    });
                }
            }
            _ => {}
        }
    }
    types.extend(envelopes);
}

/// `fn field<T>(mut self, value: T) -> Self where T: TryInto<Field>` with a
/// field type this module knows: the bound and the assignment change.
fn rewrite_setter(
    f: &mut syn::ImplItemFn,
    runtime: &syn::Path,
    structs: &BTreeSet<String>,
    nested: &mut BTreeSet<String>,
) {
    let Some(target) = f.sig.generics.where_clause.as_ref().and_then(|w| {
        w.predicates.iter().find_map(|p| match p {
            syn::WherePredicate::Type(t) if t.bounded_ty.to_token_stream().to_string() == "T" => {
                t.bounds.iter().find_map(|b| match b {
                    syn::TypeParamBound::Trait(tr) => {
                        let last = tr.path.segments.last()?;
                        (last.ident == "TryInto").then(|| generic(&last.arguments))?
                    }
                    _ => None,
                })
            }
            _ => None,
        })
    }) else {
        return;
    };
    let text = target.to_token_stream().to_string().replace(' ', "");
    let (bound, convert): (syn::Type, syn::Expr) = if text.starts_with("::std::option::Option<") {
        let Some(inner) = last_generic(&target) else {
            return;
        };
        record(&inner, structs, nested);
        (
            parse_quote!(#runtime::IntoOptional<#inner>),
            parse_quote!(#runtime::IntoOptional::into_optional(value)),
        )
    } else if text.starts_with("::std::vec::Vec<") {
        let Some(inner) = last_generic(&target) else {
            return;
        };
        record(&inner, structs, nested);
        (
            parse_quote!(#runtime::IntoList<#inner>),
            parse_quote!(#runtime::IntoList::into_list(value)),
        )
    } else if text == "::serde_json::Map<::std::string::String,::serde_json::Value>" {
        (
            parse_quote!(#runtime::IntoJsonObject),
            parse_quote!(#runtime::IntoJsonObject::into_json_object(value)),
        )
    } else {
        return;
    };
    let field = &f.sig.ident;
    let message = format!(
        "invalid value for {}: {{e}}",
        field.to_string().trim_end_matches('_')
    );
    f.sig.generics.where_clause = Some(parse_quote!(where T: #bound));
    f.block = parse_quote!({
        self.#field = #convert.map_err(|e| format!(#message));
        self
    });
}

/// `super::Name` of a struct with a builder: its builder is accepted too.
fn record(ty: &syn::Type, structs: &BTreeSet<String>, nested: &mut BTreeSet<String>) {
    if let syn::Type::Path(p) = ty
        && p.path.segments.len() == 2
        && p.path.segments[0].ident == "super"
    {
        let name = p.path.segments[1].ident.to_string();
        if structs.contains(&name) {
            nested.insert(name);
        }
    }
}

fn generic(args: &syn::PathArguments) -> Option<syn::Type> {
    let syn::PathArguments::AngleBracketed(args) = args else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    }
}

fn last_generic(ty: &syn::Type) -> Option<syn::Type> {
    let syn::Type::Path(p) = ty else { return None };
    generic(&p.path.segments.last()?.arguments)
}
