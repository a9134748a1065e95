//! Walking the spec's JSON tree: the vocabulary every check and the emitter
//! share (the operation keys of a path item, `$ref`s, parameters, JSON
//! pointers), so that they depend on this module and not on each other.

use serde_json::Value;

/// The keys of a path item that are operations.
pub(crate) const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Where an operation lists the error codes it can return, and where each
/// shared error response lists the codes it carries.
pub(crate) const ERROR_CODES: &str = "x-ayra-error-codes";

/// Every operation of the spec: its path key, method and node, in the spec's order.
pub(crate) fn operations(root: &Value) -> impl Iterator<Item = (&str, &Value, &str, &Value)> {
    root["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter_map(move |method| Some((path.as_str(), item, *method, item.get(*method)?)))
        })
}

/// The component named by an event stream's `x-ayra-event-data`.
pub(crate) fn event_data(media: &Value) -> Option<&str> {
    media["x-ayra-event-data"]["$ref"]
        .as_str()?
        .strip_prefix("#/components/schemas/")
}

/// An operation's parameters with its path item's, `$ref`s resolved.
pub(crate) fn parameters<'a>(root: &'a Value, item: &'a Value, op: &'a Value) -> Vec<&'a Value> {
    let own = op["parameters"].as_array().into_iter().flatten();
    let shared = item["parameters"].as_array().into_iter().flatten();
    own.chain(shared).filter_map(|p| resolve(root, p)).collect()
}

/// The target of a `$ref`, written plainly or as `allOf: [{$ref}]` (the form
/// that lets a property carry its own `description` or `nullable`).
pub(crate) fn ref_of(value: &Value) -> Option<&str> {
    match value["allOf"].as_array().map(Vec::as_slice) {
        Some([only]) => only["$ref"].as_str(),
        _ => value["$ref"].as_str(),
    }
}

/// Follows local `$ref`s (a bounded number of hops) to the value they name.
pub(crate) fn resolve<'a>(root: &'a Value, mut value: &'a Value) -> Option<&'a Value> {
    for _ in 0..16 {
        match ref_of(value) {
            Some(target) => value = root.pointer(target.strip_prefix('#')?)?,
            None => return Some(value),
        }
    }
    None
}

/// Escapes a key for use in a JSON pointer (RFC 6901).
pub(crate) fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}
