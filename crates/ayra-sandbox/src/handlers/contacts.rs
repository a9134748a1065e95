//! Contacts, tags, custom fields and interaction history.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::api::{ApiResult, Ctx, Reply};
use crate::error::ApiError;
use crate::filters::{ContactFilter, Source};
use crate::model::{Contact, CustomField, ser_ts, to_value};
use crate::state::{State, lock};
use crate::validate::{Obj, is_date, is_e164, is_email, is_field_key};

pub(crate) const MAX_TAGS: usize = 50;
pub(crate) const CUSTOM_FIELD_TYPES: &[&str] = &["text", "number", "date", "boolean"];

pub(crate) fn list(ctx: &Ctx) -> ApiResult {
    let pr = ctx.page()?;
    let f = ContactFilter::parse(&Source::Query(ctx))?;
    let st = lock(&ctx.state);
    let mut v = f.select_unordered(&st);
    let start = (pr.page - 1).saturating_mul(pr.per_page);
    let start = usize::try_from(start).unwrap_or(usize::MAX);
    crate::filters::order_window(
        &mut v,
        start,
        pr.per_page as usize,
        crate::filters::newest_contact_first,
    );
    ctx.list(pr, &v, |c| to_value(*c))
}

fn find_mut<'s>(st: &'s mut State, id: &str) -> Result<&'s mut Contact, ApiError> {
    st.contacts
        .get_mut(id)
        .ok_or_else(|| ApiError::not_found("contact_id", "contact", id))
}

/// Checks custom field values against the definitions. Null values are
/// accepted (on update they remove the value, on create they set nothing).
fn check_custom_fields(st: &State, values: &Map<String, Value>) -> Result<(), ApiError> {
    for (k, v) in values {
        let field = format!("custom_fields.{k}");
        let Some(def) = st.custom_fields.iter().find(|d| d.key == *k) else {
            return Err(ApiError::unprocessable(
                "invalid_custom_field",
                Some(&field),
                format!("Unknown custom field '{k}'; define it with POST /custom-fields first."),
            ));
        };
        if v.is_null() {
            continue;
        }
        let ok = match def.kind.as_str() {
            "text" => v.is_string(),
            "number" => v.is_number(),
            "date" => v.as_str().is_some_and(is_date),
            "boolean" => v.is_boolean(),
            _ => true,
        };
        if !ok {
            let what = match def.kind.as_str() {
                "text" => "a string",
                "number" => "a number",
                "date" => "a date string YYYY-MM-DD",
                _ => "a boolean",
            };
            return Err(ApiError::unprocessable(
                "invalid_custom_field",
                Some(&field),
                format!(
                    "The custom field '{k}' is of type {}: its value must be {what}; got {v}.",
                    def.kind
                ),
            ));
        }
    }
    Ok(())
}

fn dedupe(tags: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for t in tags {
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

struct ContactFields {
    first_name: Option<String>,
    last_name: Option<Option<String>>,
    email: Option<Option<String>>,
    phone: Option<Option<String>>,
    tags: Option<Vec<String>>,
    custom_fields: Option<Map<String, Value>>,
}

impl ContactFields {
    fn parse(o: &Obj, create: bool) -> Result<ContactFields, ApiError> {
        let first_name = if create {
            Some(o.str_req("first_name", 1, 100)?)
        } else {
            o.str_opt("first_name", 1, 100)?
        };
        let last_name = o.str_nullable("last_name", 0, 100)?;
        let email = o.str_nullable("email", 1, 254)?;
        o.check(
            "email",
            email.as_ref().and_then(|e| e.as_deref()),
            is_email,
            "an email address",
        )?;
        let phone = o.str_nullable("phone", 1, 16)?;
        o.check(
            "phone",
            phone.as_ref().and_then(|p| p.as_deref()),
            is_e164,
            "an E.164 phone number such as +33612345678",
        )?;
        let tags = o
            .string_array_opt("tags", (0, MAX_TAGS), (1, 64))?
            .map(dedupe);
        let custom_fields = o.object_opt("custom_fields")?.map(|c| c.map.clone());
        Ok(ContactFields {
            first_name,
            last_name,
            email,
            phone,
            tags,
            custom_fields,
        })
    }
}

fn missing_contact_method() -> ApiError {
    ApiError::unprocessable(
        "missing_contact_method",
        None,
        "A contact needs an email address or a phone number (at least one must be non-null).",
    )
}

pub(crate) fn create(ctx: &Ctx) -> ApiResult {
    let body = ctx.json_body()?;
    let o = Obj::body(&body)?;
    let f = ContactFields::parse(&o, true)?;
    let mut st = lock(&ctx.state);
    let email = f.email.flatten();
    let phone = f.phone.flatten();
    if email.is_none() && phone.is_none() {
        return Err(missing_contact_method());
    }
    let mut custom = f.custom_fields.unwrap_or_default();
    check_custom_fields(&st, &custom)?;
    custom.retain(|_, v| !v.is_null());
    let id = st.new_id("cnt");
    let seq = st.next_seq();
    let c = Contact {
        id: id.clone(),
        first_name: f.first_name.unwrap_or_default(),
        last_name: f.last_name.flatten(),
        email,
        phone,
        tags: f.tags.unwrap_or_default(),
        custom_fields: custom,
        created_at: ctx.now,
        updated_at: ctx.now,
        seq,
    };
    let v = to_value(&c);
    st.contacts.insert(id, c);
    ctx.ok(201, v)
}

pub(crate) fn get(ctx: &Ctx, id: &str) -> ApiResult {
    let mut st = lock(&ctx.state);
    let c = find_mut(&mut st, id)?;
    ctx.ok(200, to_value(&*c))
}

pub(crate) fn update(ctx: &Ctx, id: &str) -> ApiResult {
    let body = ctx.json_body()?;
    let o = Obj::body(&body)?;
    let f = ContactFields::parse(&o, false)?;
    let mut st = lock(&ctx.state);
    find_mut(&mut st, id)?;
    if let Some(cf) = &f.custom_fields {
        check_custom_fields(&st, cf)?;
    }
    let c = find_mut(&mut st, id)?;
    let email = f.email.clone().unwrap_or_else(|| c.email.clone());
    let phone = f.phone.clone().unwrap_or_else(|| c.phone.clone());
    if email.is_none() && phone.is_none() {
        return Err(missing_contact_method());
    }
    if let Some(v) = f.first_name {
        c.first_name = v;
    }
    if let Some(v) = f.last_name {
        c.last_name = v;
    }
    c.email = email;
    c.phone = phone;
    if let Some(v) = f.tags {
        c.tags = v;
    }
    if let Some(cf) = f.custom_fields {
        for (k, v) in cf {
            if v.is_null() {
                c.custom_fields.remove(&k);
            } else {
                c.custom_fields.insert(k, v);
            }
        }
    }
    if !o.map.is_empty() {
        c.updated_at = ctx.now;
    }
    ctx.ok(200, to_value(&*c))
}

pub(crate) fn delete(ctx: &Ctx, id: &str) -> ApiResult {
    let mut st = lock(&ctx.state);
    if st.contacts.remove(id).is_none() {
        return Err(ApiError::not_found("contact_id", "contact", id));
    }
    for c in st.conversations.values_mut() {
        if c.contact_id.as_deref() == Some(id) {
            c.contact_id = None;
        }
    }
    for a in st.appointments.values_mut() {
        if a.contact_id.as_deref() == Some(id) {
            a.contact_id = None;
        }
    }
    Ok(Reply::empty(204))
}

pub(crate) fn add_tags(ctx: &Ctx, id: &str) -> ApiResult {
    let body = ctx.json_body()?;
    let o = Obj::body(&body)?;
    if !o.has("tags") {
        return Err(ApiError::missing("tags"));
    }
    let tags = o
        .string_array_opt("tags", (1, MAX_TAGS), (1, 64))?
        .unwrap_or_default();
    let mut st = lock(&ctx.state);
    let c = find_mut(&mut st, id)?;
    let mut merged = c.tags.clone();
    for t in tags {
        if !merged.contains(&t) {
            merged.push(t);
        }
    }
    if merged.len() > MAX_TAGS {
        return Err(ApiError::unprocessable(
            "too_many_tags",
            Some("tags"),
            format!(
                "A contact has at most {MAX_TAGS} tags; this would make {}.",
                merged.len()
            ),
        ));
    }
    if merged.len() != c.tags.len() {
        c.tags = merged;
        c.updated_at = ctx.now;
    }
    ctx.ok(200, to_value(&*c))
}

pub(crate) fn remove_tag(ctx: &Ctx, id: &str, tag: &str) -> ApiResult {
    let mut st = lock(&ctx.state);
    let c = find_mut(&mut st, id)?;
    let before = c.tags.len();
    c.tags.retain(|t| t != tag);
    if c.tags.len() != before {
        c.updated_at = ctx.now;
    }
    Ok(Reply::empty(204))
}

#[derive(Serialize)]
struct Interaction {
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(serialize_with = "ser_ts")]
    occurred_at: DateTime<Utc>,
    summary: String,
    resource_id: String,
}

fn interaction_id(resource_id: &str) -> String {
    let compact: String = resource_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    format!("int_{compact}")
}

fn human_duration(secs: i64) -> String {
    if secs < 60 {
        format!("{secs} s")
    } else {
        format!("{} min {} s", secs / 60, secs % 60)
    }
}

pub(crate) fn interactions(ctx: &Ctx, id: &str) -> ApiResult {
    let pr = ctx.page()?;
    let st = lock(&ctx.state);
    if !st.contacts.contains_key(id) {
        return Err(ApiError::not_found("contact_id", "contact", id));
    }
    let mut items: Vec<Interaction> = Vec::new();
    for c in st
        .conversations
        .values()
        .filter(|c| c.contact_id.as_deref() == Some(id))
    {
        let dir = if c.direction == "inbound" {
            "Inbound"
        } else {
            "Outbound"
        };
        let summary = match c.status {
            "queued" => format!("{dir} call queued"),
            "in_progress" => format!("{dir} call in progress"),
            "failed" => format!(
                "{dir} call failed{}",
                c.outcome
                    .map(|o| format!(", outcome {o}"))
                    .unwrap_or_default()
            ),
            _ => format!(
                "{dir} call ({}), outcome {}",
                human_duration(c.duration_seconds.unwrap_or(0)),
                c.outcome.unwrap_or("unknown")
            ),
        };
        items.push(Interaction {
            id: interaction_id(&c.id),
            kind: "conversation",
            occurred_at: c.started_at,
            summary,
            resource_id: c.id.clone(),
        });
    }
    for a in st
        .appointments
        .values()
        .filter(|a| a.contact_id.as_deref() == Some(id))
    {
        let mut summary = format!(
            "Appointment '{}' booked for {}",
            a.title,
            crate::model::ts(a.start)
        );
        if a.status != "scheduled" {
            summary.push_str(&format!(" ({})", a.status));
        }
        items.push(Interaction {
            id: interaction_id(&a.id),
            kind: "appointment",
            occurred_at: a.created_at,
            summary,
            resource_id: a.id.clone(),
        });
    }
    for x in st
        .executions
        .values()
        .filter(|x| x.input.get("contact_id").and_then(Value::as_str) == Some(id))
    {
        let name = st
            .workflows
            .get(&x.workflow_id)
            .map(|w| w.name.clone())
            .unwrap_or_else(|| x.workflow_id.clone());
        items.push(Interaction {
            id: interaction_id(&x.id),
            kind: "workflow_execution",
            occurred_at: x.clock.created,
            summary: format!("Workflow '{name}' {}", x.status(ctx.now)),
            resource_id: x.id.clone(),
        });
    }
    items.sort_by(|a, b| b.occurred_at.cmp(&a.occurred_at).then(b.id.cmp(&a.id)));
    ctx.list(pr, &items, to_value)
}

pub(crate) fn list_custom_fields(ctx: &Ctx) -> ApiResult {
    let pr = ctx.page()?;
    let st = lock(&ctx.state);
    ctx.list(pr, &st.custom_fields, to_value)
}

pub(crate) fn create_custom_field(ctx: &Ctx) -> ApiResult {
    let body = ctx.json_body()?;
    let o = Obj::body(&body)?;
    let key = o.str_req("key", 1, 64)?;
    o.check(
        "key",
        Some(&key),
        is_field_key,
        "lowercase letters, digits and '_', starting with a letter",
    )?;
    let label = o.str_req("label", 1, 100)?;
    let kind = o.enum_req("type", CUSTOM_FIELD_TYPES)?;
    let mut st = lock(&ctx.state);
    if st.custom_fields.iter().any(|c| c.key == key) {
        return Err(ApiError::unprocessable(
            "custom_field_exists",
            Some("key"),
            format!("A custom field with key '{key}' already exists."),
        ));
    }
    let id = st.new_id("cf");
    let cf = CustomField {
        id,
        key,
        label,
        kind,
        created_at: ctx.now,
    };
    let v = to_value(&cf);
    st.custom_fields.push(cf);
    ctx.ok(201, v)
}
