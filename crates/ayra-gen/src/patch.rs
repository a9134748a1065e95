//! Partial updates: a PATCH body must tell "leave unchanged" (absent) from
//! "clear" (`null`) and from "replace with an empty list" (`[]`). typify
//! folds the three into `Option<T>` / an empty `Vec` skipped when serialised,
//! so the fields that need it are rewritten, as read from the spec: every
//! nullable property of a PATCH request body becomes the runtime's
//! `Patch<T>`, every array property an `Option<Vec<T>>`.

use crate::spec::resolve;
use serde_json::Value;
use std::collections::BTreeMap;
use syn::{Item, parse_quote};

/// How a field of a PATCH body is rewritten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Nullable: absent, `null` or a value (`Patch<T>`).
    Nullable,
    /// A list: absent or a list, even an empty one (`Option<Vec<T>>`).
    List,
}

/// The fields to rewrite, by type name then field name.
pub(crate) struct PatchBodies(BTreeMap<String, BTreeMap<String, Kind>>);

/// Reads the request-body schemas of the PATCH operations. A body that is not
/// a `$ref` to a component has no stable type name to rewrite: an error.
pub(crate) fn patch_bodies(root: &Value) -> Result<PatchBodies, String> {
    let mut out = BTreeMap::new();
    let paths = root["paths"].as_object().into_iter().flatten();
    for (path, item) in paths {
        let Some(op) = item.get("patch") else {
            continue;
        };
        let Some(body) = resolve(root, &op["requestBody"]) else {
            continue;
        };
        let Some(schema) = body["content"]["application/json"].get("schema") else {
            continue;
        };
        let Some(name) = schema["$ref"]
            .as_str()
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
        else {
            return Err(format!(
                "PATCH {path}: the request body must be a $ref to a component schema"
            ));
        };
        let Some(schema) = resolve(root, schema) else {
            continue;
        };
        let fields: BTreeMap<String, Kind> = schema["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(field, p)| {
                let p = resolve(root, p)?;
                let kind = if p["nullable"] == true {
                    Kind::Nullable
                } else if p["type"] == "array" {
                    Kind::List
                } else {
                    return None;
                };
                Some((field.clone(), kind))
            })
            .collect();
        if !fields.is_empty() {
            out.insert(name.to_string(), fields);
        }
    }
    Ok(PatchBodies(out))
}

impl PatchBodies {
    /// Rewrites the `types` module (structs and their `builder` submodule).
    /// Every field named by the spec must be found: a miss is an error, not a
    /// silently dropped `null`.
    pub(crate) fn rewrite(&self, types: &mut [Item], runtime: &syn::Path) -> Result<(), String> {
        let mut missing: BTreeMap<(String, String), u8> = self
            .0
            .iter()
            .flat_map(|(ty, fields)| fields.keys().map(|f| ((ty.clone(), f.clone()), 0)))
            .collect();
        for item in types.iter_mut() {
            match item {
                Item::Struct(s) => self.rewrite_struct(s, runtime, false, &mut missing),
                Item::Mod(m) if m.ident == "builder" => {
                    for item in m.content.iter_mut().flat_map(|(_, items)| items) {
                        match item {
                            Item::Struct(s) => self.rewrite_struct(s, runtime, true, &mut missing),
                            Item::Impl(imp) if imp.trait_.is_none() => {
                                self.rewrite_setters(imp, runtime, &mut missing)
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        // Each field is seen three times: the type, its builder, its setter.
        let unseen: Vec<String> = missing
            .into_iter()
            .filter(|(_, seen)| *seen != 3)
            .map(|((ty, f), _)| format!("{ty}.{f}"))
            .collect();
        if unseen.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "PATCH body fields not found in the generated types: {}",
                unseen.join(", ")
            ))
        }
    }

    fn kind(&self, ty: &str, field: &str) -> Option<Kind> {
        self.0.get(ty)?.get(field).copied()
    }

    fn rewrite_struct(
        &self,
        s: &mut syn::ItemStruct,
        runtime: &syn::Path,
        builder: bool,
        seen: &mut BTreeMap<(String, String), u8>,
    ) {
        let ty = s.ident.to_string();
        for field in s.fields.iter_mut() {
            let Some(name) = field.ident.as_ref().map(|i| i.to_string()) else {
                continue;
            };
            let Some(kind) = self.kind(&ty, &name) else {
                continue;
            };
            // The builder holds `Result<T, String>`; the type holds `T`.
            let target = if builder {
                first_generic_mut(&mut field.ty)
            } else {
                Some(&mut field.ty)
            };
            let Some(target) = target else { continue };
            let rewritten = match kind {
                Kind::Nullable => first_generic_mut(target).map(|inner| {
                    let inner = inner.clone();
                    parse_quote!(#runtime::Patch<#inner>)
                }),
                Kind::List => Some(parse_quote!(::std::option::Option<#target>)),
            };
            let Some(rewritten) = rewritten else { continue };
            *target = rewritten;
            if !builder {
                let skip = match kind {
                    Kind::Nullable => quote::quote!(#runtime::Patch::is_unchanged).to_string(),
                    Kind::List => "::std::option::Option::is_none".to_string(),
                }
                .replace(' ', "");
                field.attrs.retain(|a| !a.path().is_ident("serde"));
                field
                    .attrs
                    .push(parse_quote!(#[serde(default, skip_serializing_if = #skip)]));
            }
            *seen.entry((ty.clone(), name)).or_default() += 1;
        }
    }

    /// `self.field = <Result<T, String>>;` becomes `... .map(Patch::from)`
    /// (`None` clears) or `... .map(Some)` (an empty list is sent).
    fn rewrite_setters(
        &self,
        imp: &mut syn::ItemImpl,
        runtime: &syn::Path,
        seen: &mut BTreeMap<(String, String), u8>,
    ) {
        let syn::Type::Path(self_ty) = &*imp.self_ty else {
            return;
        };
        let Some(ty) = self_ty.path.segments.last().map(|s| s.ident.to_string()) else {
            return;
        };
        for impl_item in &mut imp.items {
            let syn::ImplItem::Fn(f) = impl_item else {
                continue;
            };
            let name = f.sig.ident.to_string();
            let Some(kind) = self.kind(&ty, &name) else {
                continue;
            };
            let Some(syn::Stmt::Expr(syn::Expr::Assign(assign), _)) = f.block.stmts.first_mut()
            else {
                continue;
            };
            let (wrap, doc): (syn::Path, &str) = match kind {
                Kind::Nullable => (
                    parse_quote!(#runtime::Patch::from),
                    "Sets the field; `None` clears it (sends `null`). Not calling this leaves it unchanged.",
                ),
                Kind::List => (
                    parse_quote!(::std::option::Option::Some),
                    "Replaces the whole list; an empty list clears it (sends `[]`). Not calling this leaves it unchanged.",
                ),
            };
            let value = &mut *assign.right;
            // `Ok(x)` (an infallible setter) becomes `Ok(wrap(x))`.
            let ok_arg = match value {
                syn::Expr::Call(call) if matches!(&*call.func, syn::Expr::Path(p) if p.path.is_ident("Ok")) => {
                    call.args.first_mut()
                }
                _ => None,
            };
            match ok_arg {
                Some(arg) => *arg = parse_quote!(#wrap(#arg)),
                None => *value = parse_quote!((#value).map(#wrap)),
            }
            f.attrs.push(parse_quote!(#[doc = #doc]));
            *seen.entry((ty.clone(), name)).or_default() += 1;
        }
    }
}

/// `T` in `Wrapper<T, ..>`.
fn first_generic_mut(ty: &mut syn::Type) -> Option<&mut syn::Type> {
    let syn::Type::Path(p) = ty else { return None };
    let syn::PathArguments::AngleBracketed(args) = &mut p.path.segments.last_mut()?.arguments
    else {
        return None;
    };
    match args.args.first_mut()? {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    }
}
