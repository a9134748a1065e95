//! What the setters of a request body's builder accept: the values users
//! hold, not the exact types the fields are stored as. A value that cannot
//! become the field (a nested builder missing a required field, JSON that
//! is not an object) is kept as the builder's error and reported by `send()`
//! as [`Error::InvalidRequest`](crate::Error::InvalidRequest).

use serde_json::{Map, Value};

/// A value for an optional field: the value itself (`30`, `"text"`, a date,
/// an enum), `Some(value)`, `None`, or the builder of a nested object.
///
/// ```
/// use ayra::types::{AppointmentCreate, Recurrence, RecurrenceFrequency};
/// let start = ayra::chrono::Utc::now();
/// let body = AppointmentCreate::builder()
///     .calendar_id("cal_1")
///     .title("Check-up")
///     .start(start)
///     .duration_minutes(30)
///     .notes(None)
///     .recurrence(Recurrence::builder().frequency(RecurrenceFrequency::Weekly).count(4));
/// let body = AppointmentCreate::try_from(body).unwrap();
/// assert_eq!(body.duration_minutes, Some(30));
/// assert_eq!(body.notes, None);
/// let recurrence = body.recurrence.unwrap();
/// assert_eq!((recurrence.count, recurrence.interval), (Some(4), 1)); // interval: the spec's default
/// ```
pub trait IntoOptional<T> {
    /// The value as the field holds it, or why it cannot be.
    fn into_optional(self) -> Result<Option<T>, String>;
}

impl<T> IntoOptional<T> for T {
    fn into_optional(self) -> Result<Option<T>, String> {
        Ok(Some(self))
    }
}

impl<T> IntoOptional<T> for Option<T> {
    fn into_optional(self) -> Result<Option<T>, String> {
        Ok(self)
    }
}

impl IntoOptional<String> for &str {
    fn into_optional(self) -> Result<Option<String>, String> {
        Ok(Some(self.to_string()))
    }
}

impl IntoOptional<String> for &String {
    fn into_optional(self) -> Result<Option<String>, String> {
        Ok(Some(self.clone()))
    }
}

/// One item of a list field: the item itself, `&str` for text, or the
/// builder of a nested object.
pub trait IntoItem<T> {
    /// The value as the list holds it, or why it cannot be.
    fn into_item(self) -> Result<T, String>;
}

impl<T> IntoItem<T> for T {
    fn into_item(self) -> Result<T, String> {
        Ok(self)
    }
}

impl IntoItem<String> for &str {
    fn into_item(self) -> Result<String, String> {
        Ok(self.to_string())
    }
}

impl IntoItem<String> for &String {
    fn into_item(self) -> Result<String, String> {
        Ok(self.clone())
    }
}

/// A value for a list field: any array, `Vec` or iterator of items
/// ([`IntoItem`]): `["vip", "tour"]`, `vec![step]`, `tags.iter()`.
///
/// ```
/// use ayra::types::{ContactTagsAdd, WorkflowCreate, WorkflowStep, WorkflowTriggerType};
/// let tags = ContactTagsAdd::try_from(ContactTagsAdd::builder().tags(["vip", "tour"])).unwrap();
/// assert_eq!(tags.tags, ["vip", "tour"]);
/// let step = WorkflowStep::builder().type_("send_sms").config(ayra::json!({"template": "thanks"}));
/// let workflow = WorkflowCreate::builder()
///     .name("Follow up")
///     .trigger_type(WorkflowTriggerType::Api)
///     .steps([step]);
/// assert_eq!(WorkflowCreate::try_from(workflow).unwrap().steps[0].type_, "send_sms");
/// ```
pub trait IntoList<T> {
    /// The items as the field holds them, or why one cannot be.
    fn into_list(self) -> Result<Vec<T>, String>;
}

impl<T, I> IntoList<T> for I
where
    I: IntoIterator,
    I::Item: IntoItem<T>,
{
    fn into_list(self) -> Result<Vec<T>, String> {
        self.into_iter().map(IntoItem::into_item).collect()
    }
}

/// A value for a free-form JSON object field (custom fields, workflow input,
/// step config, export filters): anything that serialises to a JSON object,
/// such as `json!({...})`, a `serde_json::Map`, a `HashMap` or a struct
/// deriving `Serialize`. Anything else (`json!(3)`, a list) is refused when
/// the request is sent, with [`Error::InvalidRequest`](crate::Error::InvalidRequest).
///
/// ```
/// use std::collections::HashMap;
/// use ayra::types::ContactCreate;
/// #[derive(serde::Serialize)]
/// struct Visits { visits: u32 }
/// let from_json = ContactCreate::builder().first_name("Ada").custom_fields(ayra::json!({"visits": 3}));
/// let from_map = ContactCreate::builder().first_name("Ada").custom_fields(HashMap::from([("visits", 3)]));
/// let from_struct = ContactCreate::builder().first_name("Ada").custom_fields(Visits { visits: 3 });
/// for body in [from_json, from_map, from_struct] {
///     assert_eq!(ContactCreate::try_from(body).unwrap().custom_fields["visits"], 3);
/// }
/// let not_an_object = ContactCreate::builder().first_name("Ada").custom_fields(ayra::json!([3]));
/// assert!(ContactCreate::try_from(not_an_object).is_err());
/// ```
pub trait IntoJsonObject {
    /// The value as a JSON object, or why it is not one.
    fn into_json_object(self) -> Result<Map<String, Value>, String>;
}

impl<S: serde::Serialize> IntoJsonObject for S {
    fn into_json_object(self) -> Result<Map<String, Value>, String> {
        match serde_json::to_value(self) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(other) => Err(format!("expected a JSON object, got {}", kind(&other))),
            Err(e) => Err(format!("cannot be written as JSON: {e}")),
        }
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
