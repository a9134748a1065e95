//! Puts the `schemars::JsonSchema` derives behind the `ayra` crate's
//! `schemars` feature: most users never ask for a schema, and compiling the
//! derive for every type is a large share of the crate's build.

use syn::visit_mut::{self, VisitMut};
use syn::{Attribute, Meta, parse_quote};

/// Rewrites every `#[derive(.., schemars::JsonSchema, ..)]` into the derive
/// without it followed by `#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]`,
/// and the helper attributes only that derive reads into their `cfg_attr`
/// form: `#[schemars(..)]` always, `#[serde(..)]` on types that implement
/// serde by hand (the open enums).
#[derive(Default)]
pub(crate) struct SchemarsFeature {
    /// Whether the item being visited keeps `#[serde]` only for `JsonSchema`.
    serde_for_schema: bool,
}

impl SchemarsFeature {
    fn item(&mut self, attrs: &mut Vec<Attribute>) -> bool {
        let derives = derives(attrs);
        let gated = derives.iter().any(|d| d == "JsonSchema");
        let serde = derives
            .iter()
            .any(|d| d == "Serialize" || d == "Deserialize");
        let outer = self.serde_for_schema;
        self.serde_for_schema = gated && !serde;
        self.helpers(attrs);
        outer
    }

    fn helpers(&self, attrs: &mut Vec<Attribute>) {
        let mut i = 0;
        while i < attrs.len() {
            let attr = &attrs[i];
            if attr.path().is_ident("schemars")
                || (self.serde_for_schema && attr.path().is_ident("serde"))
            {
                let meta = &attr.meta;
                attrs[i] = parse_quote!(#[cfg_attr(feature = "schemars", #meta)]);
            } else if let Some((kept, schema)) = split_derive(attr) {
                let gated: Attribute =
                    parse_quote!(#[cfg_attr(feature = "schemars", derive(#(#schema),*))]);
                if kept.is_empty() {
                    attrs[i] = gated;
                } else {
                    attrs[i] = parse_quote!(#[derive(#(#kept),*)]);
                    i += 1;
                    attrs.insert(i, gated);
                }
            }
            i += 1;
        }
    }
}

impl VisitMut for SchemarsFeature {
    fn visit_item_struct_mut(&mut self, item: &mut syn::ItemStruct) {
        let outer = self.item(&mut item.attrs);
        visit_mut::visit_item_struct_mut(self, item);
        self.serde_for_schema = outer;
    }
    fn visit_item_enum_mut(&mut self, item: &mut syn::ItemEnum) {
        let outer = self.item(&mut item.attrs);
        visit_mut::visit_item_enum_mut(self, item);
        self.serde_for_schema = outer;
    }
    fn visit_variant_mut(&mut self, variant: &mut syn::Variant) {
        self.helpers(&mut variant.attrs);
        visit_mut::visit_variant_mut(self, variant);
    }
    fn visit_field_mut(&mut self, field: &mut syn::Field) {
        self.helpers(&mut field.attrs);
        visit_mut::visit_field_mut(self, field);
    }
}

/// The last segment of every path the item derives.
fn derives(attrs: &[Attribute]) -> Vec<String> {
    attrs
        .iter()
        .filter_map(derive_paths)
        .flatten()
        .filter_map(|p| p.segments.last().map(|s| s.ident.to_string()))
        .collect()
}

fn derive_paths(attr: &Attribute) -> Option<Vec<syn::Path>> {
    let Meta::List(list) = &attr.meta else {
        return None;
    };
    if !list.path.is_ident("derive") {
        return None;
    }
    let paths = list
        .parse_args_with(syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated)
        .ok()?;
    Some(paths.into_iter().collect())
}

/// A derive's paths split into (the others, `JsonSchema`), if it has `JsonSchema`.
fn split_derive(attr: &Attribute) -> Option<(Vec<syn::Path>, Vec<syn::Path>)> {
    let (schema, kept): (Vec<_>, Vec<_>) = derive_paths(attr)?
        .into_iter()
        .partition(|p| p.segments.last().is_some_and(|s| s.ident == "JsonSchema"));
    (!schema.is_empty()).then_some((kept, schema))
}
