//! What a nullable field of a partial update (a PATCH body) holds.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A nullable field of a PATCH body: left unchanged (absent from the JSON),
/// cleared (`null`), or set to a value.
///
/// The builder reads naturally: not calling a setter leaves the field
/// unchanged, `None` clears it, a value sets it. List fields of PATCH bodies
/// are `Option<Vec<T>>`: an empty list is sent as `[]` and replaces the set.
///
/// ```
/// use ayra::Patch;
/// use ayra::types::ContactUpdate;
/// let update = ContactUpdate::builder()
///     .first_name("Ada")
///     .last_name(None)
///     .tags(Vec::<String>::new());
/// let update = ContactUpdate::try_from(update).unwrap();
/// assert_eq!(update.last_name, Patch::Clear);
/// assert_eq!(update.email, Patch::Unchanged);
/// assert_eq!(
///     serde_json::to_value(&update).unwrap(),
///     serde_json::json!({"first_name": "Ada", "last_name": null, "tags": []}),
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum Patch<T> {
    /// Not sent: the server keeps the current value.
    #[default]
    Unchanged,
    /// Sent as `null`: the server clears the field.
    Clear,
    /// Sent as the value.
    Set(T),
}

impl<T> Patch<T> {
    /// Whether the field is left out of the body (what serde skips).
    pub fn is_unchanged(&self) -> bool {
        matches!(self, Patch::Unchanged)
    }

    /// The value being set, if any.
    pub fn as_set(&self) -> Option<&T> {
        match self {
            Patch::Set(v) => Some(v),
            _ => None,
        }
    }
}

/// `None` clears, `Some(v)` sets: what the builders' setters use.
impl<T> From<Option<T>> for Patch<T> {
    fn from(value: Option<T>) -> Self {
        match value {
            Some(v) => Patch::Set(v),
            None => Patch::Clear,
        }
    }
}

impl<T: Serialize> Serialize for Patch<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Patch::Set(v) => v.serialize(serializer),
            // `Unchanged` is skipped by the field's `skip_serializing_if`.
            Patch::Clear | Patch::Unchanged => serializer.serialize_none(),
        }
    }
}

/// A present field is `null` or a value; an absent one is `Unchanged` (the
/// field's `#[serde(default)]`).
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Option::<T>::deserialize(deserializer).map(Patch::from)
    }
}

/// With the `schemars` feature, like the generated types.
#[cfg(feature = "schemars")]
impl<T: schemars::JsonSchema> schemars::JsonSchema for Patch<T> {
    fn schema_name() -> String {
        Option::<T>::schema_name()
    }

    fn json_schema(generator: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        Option::<T>::json_schema(generator)
    }

    fn is_referenceable() -> bool {
        false
    }
}
