//! Generates the client: progenitor's output, rewritten so that enums are
//! open and every `send()` goes through the runtime, plus the tables the
//! runtime needs (operations, list operations) derived from the spec.

use crate::load::Spec;
use crate::problem::{Failure, Problem};
use crate::spec::{ERROR_CODES, METHODS, escape, event_data, resolve};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{ImplItem, Item, parse_quote};

/// What the generator knows about one operation, read from the spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The `operationId`, which is also the client's method name.
    pub id: String,
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path template, e.g. `/agents/{agent_id}`.
    pub path: String,
    /// The domain tag.
    pub tag: String,
    /// The one-line `summary`.
    pub summary: String,
    /// The schema names of the list envelope and its item, for list operations.
    pub list: Option<(String, String)>,
    /// Whether the list's items have a required string `id` (streams use it
    /// to drop an item a changing list shows twice).
    pub item_id: bool,
    /// Whether the operation takes an `Idempotency-Key` header.
    pub idempotency_key: bool,
    /// Whether the success body is a byte stream (not JSON).
    pub streaming: bool,
    /// For a server-sent event stream, the schema of each event's `data`
    /// (`x-ayra-event-data`).
    pub events: Option<String>,
    /// Whether clients may cache its responses (`x-ayra-cache: true`).
    pub cacheable: bool,
    /// The codes of its 404, 409 and 422 responses (`x-ayra-error-codes`).
    pub error_codes: Vec<String>,
}

/// The generated client.
#[derive(Debug, Clone)]
pub struct Generated {
    /// Formatted Rust source, to be `include!`d by the client crate.
    pub code: String,
    /// Every operation of the spec, in the spec's order.
    pub operations: Vec<Operation>,
}

/// Generates the client from a checked spec.
pub fn emit(spec: &Spec, settings: &crate::Settings) -> Result<Generated, Failure> {
    let generator_failure = |message: String| Failure::Generator {
        file: spec.file.clone(),
        message,
    };
    let runtime: syn::Path = syn::parse_str(&settings.runtime)
        .map_err(|e| generator_failure(format!("runtime path {:?}: {e}", settings.runtime)))?;
    let mut options = progenitor::GenerationSettings::default();
    options
        .with_interface(progenitor::InterfaceStyle::Builder)
        .with_tag(progenitor::TagStyle::Merged)
        .with_inner_type(quote!(#runtime::Inner))
        .with_hooks(progenitor::HooksMode::Expected)
        .with_derive("schemars::JsonSchema")
        .with_derive("PartialEq");
    // progenitor asserts on some inputs it does not support; a panic there
    // must come back as an error that names the file, not abort the build.
    let api = relaxed(spec).map_err(|e| generator_failure(e.to_string()))?;
    let tokens =
        std::panic::catch_unwind(|| progenitor::Generator::new(&options).generate_tokens(&api));
    let tokens = match tokens {
        Ok(Ok(tokens)) => tokens,
        Ok(Err(e)) => return Err(generator_failure(e.to_string())),
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "progenitor panicked".to_string());
            return Err(generator_failure(message));
        }
    };
    let mut file: syn::File = syn::parse2(tokens)
        .map_err(|e| generator_failure(format!("progenitor emitted invalid Rust: {e}")))?;
    let operations = operations(spec);
    let missing = missing_methods(&file, &operations);
    if !missing.is_empty() {
        return Err(Failure::invalid(&spec.file, missing));
    }
    for item in &mut file.items {
        if let Item::Mod(module) = item
            && let Some((_, items)) = &mut module.content
        {
            match module.ident.to_string().as_str() {
                "types" => {
                    crate::enums::open_enums(items, &crate::enums::extensible(&spec.raw));
                    crate::setters::rewrite(items, &runtime);
                }
                "builder" => route_sends(items, &runtime, &operations),
                _ => {}
            }
        }
    }
    document_errors(&mut file.items, &operations);
    syn::visit_mut::VisitMut::visit_file_mut(&mut UntestedExamples, &mut file);
    // After `setters::rewrite`, whose setters it wraps.
    let patch_bodies = crate::patch::patch_bodies(&spec.raw).map_err(generator_failure)?;
    for item in &mut file.items {
        if let Item::Mod(module) = item
            && module.ident == "types"
            && let Some((_, items)) = &mut module.content
        {
            patch_bodies
                .rewrite(items, &runtime)
                .map_err(generator_failure)?;
        }
    }
    syn::visit_mut::VisitMut::visit_file_mut(&mut PathSegments(&runtime), &mut file);
    syn::visit_mut::VisitMut::visit_file_mut(
        &mut crate::feature_gates::SchemarsFeature::default(),
        &mut file,
    );
    let code = quote!(#file).to_string();
    if code.contains("client . pre (") {
        return Err(generator_failure(
            "a builder's `send` was left as progenitor wrote it: teach `route_sends` in \
             ayra-gen's emit.rs this form"
                .to_string(),
        ));
    }
    if code.contains("encode_path (") {
        return Err(generator_failure(
            "a request URL still uses progenitor's `encode_path`, which lets `..` through: \
             teach `PathSegments` in ayra-gen's emit.rs this form"
                .to_string(),
        ));
    }
    let mut tables = tables(&operations, &runtime);
    tables.extend(domain_docs(&spec.raw, &operations));
    let tables: syn::File =
        syn::parse2(tables).map_err(|e| generator_failure(format!("operation tables: {e}")))?;
    file.items.extend(tables.items);
    let code = format!(
        "// @generated by ayra-gen from {}: do not edit; change the spec and run `cargo xtask regen`.\n\n{}",
        display_name(&spec.file),
        prettyplease::unparse(&file)
    );
    Ok(Generated { code, operations })
}

/// The spec as the client should see it: string `pattern`, `minLength` and
/// `maxLength` removed. They document what the server validates; checked on
/// the client they would make an id in a new format fail to decode (the
/// versioning note says clients must tolerate such changes) and turn every
/// id into a newtype. The server and the spec keep them. Likewise an integer
/// with `minimum: 1` loses its bounds but not its sign (`minimum: 0`): typify
/// would make it a `NonZeroU64`, which users cannot write as a plain `4`, and
/// with a `maximum` an `i64`; the server refuses a 0 or a value too large.
fn relaxed(spec: &Spec) -> Result<openapiv3::OpenAPI, serde_json::Error> {
    fn strip(node: &mut serde_json::Value) {
        match node {
            serde_json::Value::Object(map) => {
                match map.get("type").and_then(|t| t.as_str()) {
                    Some("string") => {
                        for key in ["pattern", "minLength", "maxLength"] {
                            map.remove(key);
                        }
                    }
                    Some("integer") if map.get("minimum") == Some(&serde_json::json!(1)) => {
                        map.insert("minimum".into(), serde_json::json!(0));
                        map.remove("maximum");
                    }
                    _ => {}
                }
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut raw = spec.raw.clone();
    strip(&mut raw);
    nullable_enums_as_options(&mut raw);
    serde_json::from_value(raw)
}

/// OpenAPI 3.0 can only say "this enum or null" on the enum itself
/// (`nullable: true` and `null` among its values); typify would make that a
/// newtype around `Option<Inner>`. For the client the enum loses its null and
/// each property that refers to it becomes nullable: `Option<Enum>`.
fn nullable_enums_as_options(raw: &mut serde_json::Value) {
    use serde_json::Value;
    let mut nullable = Vec::new();
    if let Some(schemas) = raw
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (name, schema) in schemas.iter_mut() {
            let Some(values) = schema.get_mut("enum").and_then(Value::as_array_mut) else {
                continue;
            };
            if values.contains(&Value::Null) {
                values.retain(|v| !v.is_null());
                schema.as_object_mut().map(|s| s.remove("nullable"));
                nullable.push(format!("#/components/schemas/{name}"));
            }
        }
    }
    fn mark(node: &mut Value, nullable: &[String]) {
        match node {
            Value::Object(map) => {
                let target = match map.get("allOf").and_then(Value::as_array) {
                    Some(one) if one.len() == 1 => one[0].get("$ref"),
                    _ => map.get("$ref"),
                };
                if target
                    .and_then(Value::as_str)
                    .is_some_and(|t| nullable.iter().any(|n| n == t))
                {
                    if let Some(r) = map.remove("$ref") {
                        map.insert("allOf".into(), serde_json::json!([{ "$ref": r }]));
                    }
                    map.insert("nullable".into(), Value::Bool(true));
                    return;
                }
                map.values_mut().for_each(|v| mark(v, nullable));
            }
            Value::Array(items) => items.iter_mut().for_each(|v| mark(v, nullable)),
            _ => {}
        }
    }
    if !nullable.is_empty() {
        mark(raw, &nullable);
    }
}

/// progenitor's per-method examples use placeholder variables and are marked
/// `ignore`; shown as `text` they still document the call's shape without
/// counting as (ignored) doctests.
struct UntestedExamples;

impl syn::visit_mut::VisitMut for UntestedExamples {
    fn visit_attribute_mut(&mut self, attr: &mut syn::Attribute) {
        if let syn::Meta::NameValue(nv) = &mut attr.meta
            && nv.path.is_ident("doc")
            && let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(text),
                ..
            }) = &mut nv.value
            && text.value().contains("```ignore")
        {
            *text = syn::LitStr::new(&text.value().replace("```ignore", "```text"), text.span());
        }
    }
}

/// progenitor percent-encodes path values but leaves `.` and `\\` as they
/// are, and the URL parser then resolves `..` (and `\\` as `/`): a tag of
/// `..` would turn `DELETE /contacts/{id}/tags/{tag}` into a delete of the
/// contact. Every `encode_path(&value.to_string())` in a request URL becomes
/// `runtime::path_segment("value", &value.to_string())?`, which encodes a
/// value as exactly one segment or refuses it before anything is sent.
struct PathSegments<'a>(&'a syn::Path);

impl syn::visit_mut::VisitMut for PathSegments<'_> {
    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        if !mac.path.is_ident("format") && !mac.path.is_ident("format_args") {
            return;
        }
        let parser = syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated;
        let Ok(mut args) = syn::parse::Parser::parse2(parser, mac.tokens.clone()) else {
            return;
        };
        let runtime = self.0;
        for arg in args.iter_mut() {
            let syn::Expr::Call(call) = arg else { continue };
            let syn::Expr::Path(func) = &*call.func else {
                continue;
            };
            if !func.path.is_ident("encode_path") || call.args.len() != 1 {
                continue;
            }
            let value = &call.args[0];
            // `&name.to_string()`: the parameter's name is the receiver.
            let name = match value {
                syn::Expr::Reference(r) => match &*r.expr {
                    syn::Expr::MethodCall(m) => quote!(#m).to_string(),
                    other => quote!(#other).to_string(),
                },
                other => quote!(#other).to_string(),
            };
            let name = name
                .split(['.', ' '])
                .next()
                .unwrap_or_default()
                .to_string();
            *arg = parse_quote!(#runtime::path_segment(#name, #value)?);
        }
        mac.tokens = quote!(#args);
    }
}

/// Appends to each `Client` method's docs the error codes the operation can
/// return, as the typed `ErrorCode` values `Error::error_code()` gives.
fn document_errors(items: &mut [Item], operations: &[Operation]) {
    for item in items {
        let Item::Impl(imp) = item else { continue };
        let is_client = matches!(&*imp.self_ty, syn::Type::Path(p) if p.path.is_ident("Client"));
        if imp.trait_.is_some() || !is_client {
            continue;
        }
        for impl_item in &mut imp.items {
            let ImplItem::Fn(f) = impl_item else { continue };
            let Some(op) = operations.iter().find(|o| f.sig.ident == o.id) else {
                continue;
            };
            let specific: Vec<String> = op
                .error_codes
                .iter()
                .map(|c| format!("`{c}` (`ErrorCode::{}`)", pascal(c)))
                .collect();
            let doc = if specific.is_empty() {
                "\n\nError codes: only those any operation can return (400, 401, 403, 429, 500, 503).".to_string()
            } else {
                format!(
                    "\n\nError codes: {}, besides those any operation can return (400, 401, 403, 429, 500, 503).",
                    specific.join(", ")
                )
            };
            f.attrs.push(parse_quote!(#[doc = #doc]));
        }
    }
}

/// Only the file name, so the output does not depend on the checkout's path.
fn display_name(file: &str) -> &str {
    file.rsplit(['/', '\\']).next().unwrap_or(file)
}

/// Splits each builder's `send` in two. progenitor's body up to the built
/// `reqwest::Request` becomes `request()`; the rest (hooks, the status
/// match, `ResponseValue::from_response` over the response) is replaced by
/// one call into the runtime, which retries, reads the body once and
/// decodes it from those bytes. Which runtime function depends on the
/// success body: JSON, none (204) or a byte stream.
fn route_sends(items: &mut [Item], runtime: &syn::Path, operations: &[Operation]) {
    for item in items {
        let Item::Impl(imp) = item else { continue };
        let mut added = Vec::new();
        for impl_item in &mut imp.items {
            let ImplItem::Fn(f) = impl_item else { continue };
            if f.sig.ident != "send" {
                continue;
            }
            let Some(success) = success_type(&f.sig.output) else {
                continue;
            };
            let Some(index) =
                operation_id(&f.block).and_then(|id| operations.iter().position(|op| op.id == id))
            else {
                continue;
            };
            let Some(built) = f.block.stmts.iter().position(|stmt| {
                matches!(stmt, syn::Stmt::Local(syn::Local { pat: syn::Pat::Ident(p), .. })
                    if p.ident == "request")
            }) else {
                continue;
            };
            f.block.stmts.truncate(built + 1);
            lean_request(&mut f.block, runtime);
            f.block
                .stmts
                .push(syn::Stmt::Expr(parse_quote!(Ok((client, request))), None));
            f.sig.ident = format_ident!("request");
            f.sig.asyncness = None;
            f.sig.output = parse_quote!(
                -> Result<(&'a super::Client, ::reqwest::Request), Error<types::ErrorEnvelope>>
            );
            f.vis = parse_quote!(pub(crate));
            f.attrs.retain(|a| !a.path().is_ident("doc"));
            let kind = match quote!(#success).to_string().as_str() {
                "()" => format_ident!("empty"),
                "ByteStream" => format_ident!("stream"),
                _ => format_ident!("json"),
            };
            let doc = "Sends the request and returns the decoded response.\n\n\
                       Transient failures are retried (see `ayra::RetryPolicy`); a POST or \
                       PATCH keeps one `Idempotency-Key` across its retries.";
            added.push(ImplItem::Fn(parse_quote! {
                #[doc = #doc]
                pub async fn send(self) -> #runtime::Result<#runtime::Response<#success>> {
                    let (client, request) = self.request().map_err(#runtime::invalid_request)?;
                    #runtime::#kind(client, request, &super::OPERATIONS[#index])
                        .await
                        .map(#runtime::Response::from)
                }
            }));
        }
        imp.items.extend(added);
    }
}

/// Takes two per-call costs out of progenitor's request construction: the
/// URL, `format!`ted from the base URL's text and parsed again, is the
/// parsed base URL with its path set (`runtime::url`); the `api-version`
/// header, which needed its own header map on every call, is set by the
/// runtime with the credentials (the map stays, empty unless the operation
/// has header parameters, and allocates nothing until they are set).
fn lean_request(block: &mut syn::Block, runtime: &syn::Path) {
    block.stmts.retain(|stmt| {
        let syn::Stmt::Expr(expr, _) = stmt else {
            return true;
        };
        !quote!(#expr)
            .to_string()
            .contains("from_static (\"api-version\")")
    });
    let appends = block.stmts.iter().any(|stmt| {
        matches!(stmt, syn::Stmt::Expr(..)) && quote!(#stmt).to_string().contains("header_map")
    });
    for stmt in &mut block.stmts {
        let syn::Stmt::Local(local) = stmt else {
            continue;
        };
        let syn::Pat::Ident(name) = &mut local.pat else {
            continue;
        };
        let Some(init) = &mut local.init else {
            continue;
        };
        if name.ident == "header_map" {
            let expr = &init.expr;
            if quote!(#expr)
                .to_string()
                .contains("HeaderMap :: with_capacity")
            {
                init.expr = parse_quote!(::reqwest::header::HeaderMap::new());
            }
            if !appends {
                name.mutability = None;
            }
        } else if name.ident == "url"
            && let syn::Expr::Macro(mac) = &mut *init.expr
            && mac.mac.path.is_ident("format")
        {
            let parser = syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated;
            let Ok(args) = syn::parse::Parser::parse2(parser, mac.mac.tokens.clone()) else {
                continue;
            };
            let mut args = args.into_iter();
            let (Some(syn::Expr::Lit(template)), Some(base)) = (args.next(), args.next()) else {
                continue;
            };
            let syn::Lit::Str(template) = &template.lit else {
                continue;
            };
            let Some(path) = template.value().strip_prefix("{}").map(str::to_string) else {
                continue;
            };
            if quote!(#base).to_string() != "client . baseurl" {
                continue;
            }
            let args: Vec<syn::Expr> = args.collect();
            init.expr = parse_quote!(#runtime::url(client, format_args!(#path, #(#args),*)));
        }
    }
}

/// The `operation_id` of progenitor's `OperationInfo` in a `send` body.
fn operation_id(block: &syn::Block) -> Option<String> {
    let text = quote!(#block).to_string();
    let rest = &text[text.find("operation_id : \"")? + "operation_id : \"".len()..];
    Some(rest[..rest.find('"')?].to_string())
}

/// `T` out of `Result<ResponseValue<T>, Error<E>>`.
fn success_type(output: &syn::ReturnType) -> Option<syn::Type> {
    let syn::ReturnType::Type(_, ty) = output else {
        return None;
    };
    let result = last_generic(ty)?;
    last_generic(&result)
}

fn last_generic(ty: &syn::Type) -> Option<syn::Type> {
    let syn::Type::Path(p) = ty else { return None };
    let syn::PathArguments::AngleBracketed(args) = &p.path.segments.last()?.arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    }
}

/// Every operation of the spec is a method of progenitor's `Client`, named
/// after its `operationId`: progenitor skips (or renames) an operation it
/// cannot place without a word, which would ship a client missing a call.
fn missing_methods(file: &syn::File, operations: &[Operation]) -> Vec<Problem> {
    let methods: Vec<String> = file
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Impl(i)
                if i.trait_.is_none()
                    && matches!(&*i.self_ty, syn::Type::Path(t) if t.path.is_ident("Client")) =>
            {
                Some(i)
            }
            _ => None,
        })
        .flat_map(|i| &i.items)
        .filter_map(|item| match item {
            ImplItem::Fn(f) => Some(f.sig.ident.to_string()),
            _ => None,
        })
        .collect();
    operations
        .iter()
        .filter(|op| !methods.contains(&op.id))
        .map(|op| Problem {
            operation: Some(op.id.clone()),
            ..Problem::new(
                format!("/paths/{}/{}", escape(&op.path), op.method.to_lowercase()),
                format!(
                    "progenitor generated no client method `{}` for this operation (it skips \
                     or renames some without a word): check its path key and `operationId`",
                    op.id
                ),
            )
        })
        .collect()
}

/// Reads each operation's facts from the spec (already checked).
fn operations(spec: &Spec) -> Vec<Operation> {
    let root = &spec.raw;
    let mut out = Vec::new();
    let Some(paths) = root["paths"].as_object() else {
        return out;
    };
    for (path, item) in paths {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let params: Vec<&serde_json::Value> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| resolve(root, p))
                .collect();
            let success = op["responses"].as_object().and_then(|r| {
                r.iter()
                    .find(|(code, _)| code.starts_with('2'))
                    .and_then(|(_, resp)| resolve(root, resp))
            });
            let content = success.and_then(|s| s["content"].as_object());
            let streaming = content.is_some_and(|c| !c.contains_key("application/json"));
            let events = content
                .and_then(|c| c.get("text/event-stream"))
                .and_then(event_data)
                .map(str::to_string);
            let list = content
                .and_then(|c| c.get("application/json"))
                .and_then(|m| m["schema"]["$ref"].as_str())
                .and_then(|r| {
                    let name = r.rsplit('/').next()?;
                    let schema = root.pointer(r.strip_prefix('#')?)?;
                    let data = resolve(root, &schema["properties"]["data"])?;
                    let item = data["items"]["$ref"].as_str()?.rsplit('/').next()?;
                    (schema["properties"].get("links").is_some() && data["type"] == "array")
                        .then(|| (name.to_string(), item.to_string()))
                });
            let item_id = list.as_ref().is_some_and(|(_, item)| {
                let schema = &root["components"]["schemas"][item];
                schema["properties"]["id"]["type"] == "string"
                    && schema["required"]
                        .as_array()
                        .is_some_and(|r| r.iter().any(|f| f == "id"))
            });
            out.push(Operation {
                id: op["operationId"].as_str().unwrap_or_default().to_string(),
                method: method.to_uppercase(),
                path: path.clone(),
                tag: op["tags"][0].as_str().unwrap_or_default().to_string(),
                summary: op["summary"].as_str().unwrap_or_default().to_string(),
                list,
                item_id,
                idempotency_key: params.iter().any(|p| {
                    p["in"] == "header"
                        && p["name"]
                            .as_str()
                            .is_some_and(|n| n.eq_ignore_ascii_case("Idempotency-Key"))
                }),
                streaming,
                events,
                cacheable: op["x-ayra-cache"] == true,
                error_codes: op[ERROR_CODES]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c.as_str().map(str::to_string))
                    .collect(),
            });
        }
    }
    out
}

/// The operation table and the list-operation impls the runtime uses.
fn tables(operations: &[Operation], runtime: &syn::Path) -> TokenStream {
    let rows = operations.iter().map(|op| {
        let Operation {
            id,
            method,
            path,
            tag,
            idempotency_key,
            streaming,
            cacheable,
            ..
        } = op;
        let list = op.list.is_some();
        quote! {
            #runtime::Operation {
                id: #id,
                method: #method,
                path: #path,
                tag: #tag,
                list: #list,
                idempotency_key: #idempotency_key,
                streaming: #streaming,
                cacheable: #cacheable,
            }
        }
    });
    let ids = operations.iter().map(|op| op.id.as_str());
    let index = 0..operations.len();
    let mut envelopes = std::collections::BTreeSet::new();
    let lists = operations.iter().filter_map(|op| {
        let (page, item) = op.list.as_ref()?;
        let builder = format_ident!("{}", pascal(&op.id));
        let page = format_ident!("{page}");
        let item = format_ident!("{item}");
        let id = if op.item_id {
            quote!(::std::option::Option::Some(&item.id))
        } else {
            quote!(::std::option::Option::None)
        };
        let envelope = envelopes.insert(page.to_string()).then(|| {
            quote! {
                impl #runtime::ListEnvelope for types::#page {
                    type Item = types::#item;
                    fn into_parts(self) -> (::std::vec::Vec<types::#item>, types::ListMeta, types::Links) {
                        (self.data, self.meta, self.links)
                    }
                    fn id(item: &types::#item) -> ::std::option::Option<&str> {
                        #id
                    }
                }
            }
        });
        Some(quote! {
            impl<'a> #runtime::ListOperation<'a> for builder::#builder<'a> {
                type Page = types::#page;
                fn with_page(self, page: u64) -> Self {
                    self.page(page)
                }
                fn send_page(self) -> #runtime::BoxFuture<'a, #runtime::Result<#runtime::Response<types::#page>>> {
                    ::std::boxed::Box::pin(self.send())
                }
            }
            #envelope
        })
    });
    let lists: Vec<TokenStream> = lists.collect();
    quote! {
        /// Every operation of the spec, in the spec's order.
        pub const OPERATIONS: &[#runtime::Operation] = &[#(#rows),*];

        /// The operation with this `operationId`.
        pub fn operation(id: &str) -> ::std::option::Option<&'static #runtime::Operation> {
            match id {
                #(#ids => ::std::option::Option::Some(&OPERATIONS[#index]),)*
                _ => ::std::option::Option::None,
            }
        }

        #(#lists)*
    }
}

/// A module of docs only, `domains`, with a page per tag (in the spec's
/// order): its description and its operations, each with its HTTP verb and
/// path, the `Client` method and the summary; the module's own page maps
/// every REST operation to its method. A reader of the REST docs finds the
/// method in one step, and the list cannot drift from the spec.
fn domain_docs(root: &serde_json::Value, operations: &[Operation]) -> TokenStream {
    let row = |op: &Operation| {
        format!(
            "| `{} {}` | [`{}`](crate::api::Client::{}) | {} |",
            op.method,
            op.path,
            op.id,
            op.id,
            op.summary.replace('|', "\\|")
        )
    };
    let header = "| REST | method | what it does |\n| --- | --- | --- |";
    let tags: Vec<(String, String)> = root["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| {
            let name = t["name"].as_str()?.to_string();
            let description = t["description"].as_str().unwrap_or_default().to_string();
            Some((name, description))
        })
        .collect();
    let modules = tags.iter().map(|(tag, description)| {
        let rows: Vec<String> = operations.iter().filter(|op| &op.tag == tag).map(row).collect();
        let doc = format!(
            "{description}\n\nEach operation is a method of [`Client`](crate::Client): \
             `client.{first}()` returns its request builder, `.send().await` runs it.\n\n{header}\n{}",
            rows.join("\n"),
            first = operations.iter().find(|op| &op.tag == tag).map_or("", |op| op.id.as_str()),
        );
        let name = format_ident!("{}", tag.replace('-', "_"));
        quote! {
            #[doc = #doc]
            pub mod #name {}
        }
    });
    let mut by_path: Vec<&Operation> = operations.iter().collect();
    by_path.sort_by(|a, b| (&a.path, &a.method).cmp(&(&b.path, &b.method)));
    let links: Vec<String> = tags
        .iter()
        .map(|(tag, d)| {
            format!(
                "- [`{tag}`](crate::api::domains::{tag}): {}",
                d.split(':').next().unwrap_or(d)
            )
        })
        .collect();
    let doc = format!(
        "The API by domain, generated from the spec: one page per domain, and below, every \
         REST operation (verb and path, by path) with its `Client` method.\n\n{}\n\n\
         # From REST to the SDK\n\n{header}\n{}",
        links.join("\n"),
        by_path.into_iter().map(row).collect::<Vec<_>>().join("\n"),
    );
    quote! {
        #[doc = #doc]
        pub mod domains {
            #(#modules)*
        }
    }
}

/// `list_agents` -> `ListAgents`, as progenitor names builders.
fn pascal(id: &str) -> String {
    id.split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}
