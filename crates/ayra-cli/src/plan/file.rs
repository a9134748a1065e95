//! The declarative file of `ayra plan` / `ayra apply` (YAML), and what it
//! wants in each account once `${name}` values are filled in.
//!
//! ```yaml
//! project: clinics               # the owner marker: metadata ayra.managed-by = clinics
//! agents:                        # shared: wanted in every account below
//!   front-desk:                  # the key: metadata ayra.key = front-desk
//!     name: ${clinic} front desk
//!     voice_id: voice_ava
//!     prompt: You answer the phone for ${clinic}.
//!     first_message: ${greeting}
//!     phone_number: ${phone}
//!     timezone: ${timezone}
//! workflows:
//!   booking-sms:
//!     name: Booking confirmation
//!     trigger_type: appointment_booked
//!     steps: [{type: send_sms, config: {to: "{{contact.phone}}", body: See you soon!}}]
//! custom_fields:
//!   insurance_provider: {label: Insurance provider, type: string}
//! accounts:
//!   acme:
//!     values: {clinic: Acme Dental, greeting: Hello!, phone: "+14155550100", timezone: Europe/Paris}
//!     agents:                    # optional: fields over the shared ones, or more resources
//!       front-desk: {max_call_duration_seconds: 600}
//! ```
//!
//! A field the file leaves out is not managed (the account's value stays);
//! `null` clears a nullable field. See `crates/ayra-cli/examples/clinics.yaml`.

use crate::exit::Failure;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The metadata key naming the file's project on every resource it manages.
pub const MANAGED_BY: &str = "ayra.managed-by";
/// The metadata key holding the resource's key in the file.
pub const KEY: &str = "ayra.key";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    /// The marker's value; the file's name without extension when absent.
    #[serde(default)]
    pub project: Option<String>,
    #[serde(default)]
    pub agents: BTreeMap<String, Agent>,
    #[serde(default)]
    pub workflows: BTreeMap<String, Workflow>,
    #[serde(default)]
    pub custom_fields: BTreeMap<String, CustomField>,
    #[serde(default)]
    pub accounts: BTreeMap<String, AccountSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountSpec {
    /// The `${name}` values of this account.
    #[serde(default)]
    pub values: BTreeMap<String, String>,
    #[serde(default)]
    pub agents: BTreeMap<String, Agent>,
    #[serde(default)]
    pub workflows: BTreeMap<String, Workflow>,
    #[serde(default)]
    pub custom_fields: BTreeMap<String, CustomField>,
}

/// `Some(None)` for an explicit `null`, `None` when absent.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentStatus {
    Active,
    Disabled,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Agent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub first_message: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub phone_number: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_call_duration_seconds: Option<i64>,
    /// Managed through `enable` / `disable`; left alone when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<AgentStatus>,
    /// The caller's own keys; the marker is added to them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkflowStatus {
    Active,
    Paused,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Workflow {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<WorkflowStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<Step>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub config: Map<String, Value>,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct CustomField {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// Parses the file; an error names `file:line:column` and the field's path.
pub fn parse(name: &str, text: &str) -> Result<File, Failure> {
    let de = serde_norway::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let at = inner
            .location()
            .map(|l| format!("{}:{}", l.line(), l.column()))
            .unwrap_or_else(|| "1:1".to_string());
        let message = inner.to_string();
        let field = if path.is_empty() || path == "." || message.contains(&path) {
            String::new()
        } else {
            format!(" (at {path})")
        };
        Failure::bad_input(format!("{name}:{at}: {message}{field}"))
    })
}

/// The resource kinds the file manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    CustomField,
    Agent,
    Workflow,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Agent => "agent",
            Kind::Workflow => "workflow",
            Kind::CustomField => "custom field",
        }
    }
}

/// One resource wanted in one account: its fields as the API takes them
/// (values filled in, the marker in `metadata`), and an agent's status.
#[derive(Debug, Clone)]
pub struct Wanted {
    pub kind: Kind,
    pub key: String,
    pub fields: Map<String, Value>,
    pub status: Option<String>,
}

/// What each account named in the file wants, every `${name}` filled in.
pub fn wanted(file: &File, project: &str) -> Result<BTreeMap<String, Vec<Wanted>>, Failure> {
    let mut out = BTreeMap::new();
    for (account, spec) in &file.accounts {
        let mut list = Vec::new();
        for (key, field) in merged(&file.custom_fields, &spec.custom_fields, |a, b| {
            CustomField {
                label: b.label.clone().or(a.label.clone()),
                kind: b.kind.clone().or(a.kind.clone()),
            }
        }) {
            let mut fields = to_map(&field);
            fields.insert("key".into(), Value::String(key.clone()));
            list.push(Wanted {
                kind: Kind::CustomField,
                key,
                fields,
                status: None,
            });
        }
        for (key, agent) in merged(&file.agents, &spec.agents, merge_agent) {
            let status = agent.status.map(|s| to_value(&s));
            let mut agent = agent.clone();
            agent.status = None;
            list.push(Wanted {
                kind: Kind::Agent,
                fields: with_marker(to_map(&agent), project, &key),
                key,
                status: status.and_then(|s| s.as_str().map(str::to_string)),
            });
        }
        for (key, wf) in merged(&file.workflows, &spec.workflows, merge_workflow) {
            list.push(Wanted {
                kind: Kind::Workflow,
                fields: with_marker(to_map(&wf), project, &key),
                key,
                status: None,
            });
        }
        for w in &mut list {
            for (name, v) in w.fields.iter_mut() {
                fill(v, &spec.values).map_err(|var| {
                    Failure::bad_input(format!(
                        "accounts.{account}: {} {}: {name}: no value for ${{{var}}} in accounts.{account}.values",
                        w.kind.name(),
                        w.key
                    ))
                })?;
            }
        }
        out.insert(account.clone(), list);
    }
    Ok(out)
}

fn to_value<T: serde::Serialize>(t: &T) -> Value {
    serde_json::to_value(t).unwrap_or(Value::Null)
}

fn to_map<T: serde::Serialize>(t: &T) -> Map<String, Value> {
    match to_value(t) {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn with_marker(mut fields: Map<String, Value>, project: &str, key: &str) -> Map<String, Value> {
    let mut metadata = match fields.remove("metadata") {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    metadata.insert(MANAGED_BY.into(), Value::String(project.into()));
    metadata.insert(KEY.into(), Value::String(key.into()));
    fields.insert("metadata".into(), Value::Object(metadata));
    fields
}

/// The shared resources with the account's over them, then the account's own.
fn merged<T: Clone>(
    shared: &BTreeMap<String, T>,
    own: &BTreeMap<String, T>,
    merge: impl Fn(&T, &T) -> T,
) -> Vec<(String, T)> {
    let mut out: BTreeMap<String, T> = shared.clone();
    for (key, spec) in own {
        let value = match shared.get(key) {
            Some(base) => merge(base, spec),
            None => spec.clone(),
        };
        out.insert(key.clone(), value);
    }
    out.into_iter().collect()
}

fn merge_agent(a: &Agent, b: &Agent) -> Agent {
    Agent {
        name: b.name.clone().or(a.name.clone()),
        description: b.description.clone().or(a.description.clone()),
        voice_id: b.voice_id.clone().or(a.voice_id.clone()),
        language: b.language.clone().or(a.language.clone()),
        prompt: b.prompt.clone().or(a.prompt.clone()),
        first_message: b.first_message.clone().or(a.first_message.clone()),
        phone_number: b.phone_number.clone().or(a.phone_number.clone()),
        timezone: b.timezone.clone().or(a.timezone.clone()),
        max_call_duration_seconds: b.max_call_duration_seconds.or(a.max_call_duration_seconds),
        status: b.status.or(a.status),
        metadata: b.metadata.clone().or(a.metadata.clone()),
    }
}

fn merge_workflow(a: &Workflow, b: &Workflow) -> Workflow {
    Workflow {
        name: b.name.clone().or(a.name.clone()),
        description: b.description.clone().or(a.description.clone()),
        status: b.status.or(a.status),
        trigger_type: b.trigger_type.clone().or(a.trigger_type.clone()),
        steps: b.steps.clone().or(a.steps.clone()),
        metadata: b.metadata.clone().or(a.metadata.clone()),
    }
}

/// Replaces every `${name}` in the strings of `v`; `$${` is a literal `${`.
/// Returns the first name without a value.
fn fill(v: &mut Value, values: &BTreeMap<String, String>) -> Result<(), String> {
    match v {
        Value::String(s) if s.contains("${") => {
            let mut out = String::with_capacity(s.len());
            let mut rest = s.as_str();
            while let Some(i) = rest.find("${") {
                if rest[..i].ends_with('$') {
                    out.push_str(&rest[..i - 1]);
                    out.push_str("${");
                    rest = &rest[i + 2..];
                    continue;
                }
                out.push_str(&rest[..i]);
                let Some(end) = rest[i..].find('}') else {
                    return Err(rest[i + 2..].to_string());
                };
                let name = &rest[i + 2..i + end];
                out.push_str(values.get(name).ok_or_else(|| name.to_string())?);
                rest = &rest[i + end + 1..];
            }
            out.push_str(rest);
            *s = out;
            Ok(())
        }
        Value::Array(items) => items.iter_mut().try_for_each(|i| fill(i, values)),
        Value::Object(map) => map.values_mut().try_for_each(|i| fill(i, values)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_fill_strings_and_a_missing_one_is_named() {
        let values: BTreeMap<String, String> = [("clinic".to_string(), "Acme".to_string())].into();
        let mut v =
            serde_json::json!({"a": "${clinic} desk", "b": ["$${clinic}", "{{contact.phone}}"]});
        fill(&mut v, &values).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"a": "Acme desk", "b": ["${clinic}", "{{contact.phone}}"]})
        );
        let mut v = serde_json::json!("${phone}");
        assert_eq!(fill(&mut v, &values), Err("phone".to_string()));
    }

    #[test]
    fn an_unknown_field_names_line_and_column() {
        let text = "agents:\n  desk:\n    nmae: x\n";
        let e = parse("f.yaml", text).unwrap_err();
        assert!(e.line.contains("f.yaml:3:5"), "{}", e.line);
        assert!(e.line.contains("nmae"), "{}", e.line);
    }
}
