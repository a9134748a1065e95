//! Agents, voices and time zones.

use crate::api::{ApiResult, Ctx, Reply};
use crate::error::ApiError;
use crate::model::{Agent, to_value};
use crate::state::{State, lock};
use crate::validate::{Obj, is_e164, is_id, is_language};
use serde_json::{Map, Value};

pub(crate) const AGENT_STATUSES: &[&str] = &["active", "disabled", "archived"];

pub(crate) fn list(ctx: &Ctx) -> ApiResult {
    let pr = ctx.page()?;
    let status = ctx.q_enum("status", AGENT_STATUSES)?;
    let q = ctx.q_string("q", 1, 100)?.map(|s| s.to_lowercase());
    let after = ctx.q_datetime("created_after")?;
    let before = ctx.q_datetime("created_before")?;
    let st = lock(&ctx.state);
    let mut v: Vec<&Agent> = st
        .agents
        .values()
        .filter(|a| status.as_ref().is_none_or(|s| *s == a.status))
        .filter(|a| {
            q.as_ref()
                .is_none_or(|q| a.name.to_lowercase().contains(q.as_str()))
        })
        .filter(|a| after.is_none_or(|t| a.created_at >= t))
        .filter(|a| before.is_none_or(|t| a.created_at < t))
        .collect();
    v.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.seq.cmp(&a.seq)));
    ctx.list(pr, &v, |a| to_value(*a))
}

fn get_agent<'s>(st: &'s mut State, id: &str) -> Result<&'s mut Agent, ApiError> {
    st.agents
        .get_mut(id)
        .ok_or_else(|| ApiError::not_found("agent_id", "agent", id))
}

/// Fields of a create or update body, validated against the schema.
#[derive(Default)]
struct AgentFields {
    name: Option<String>,
    description: Option<Option<String>>,
    voice_id: Option<String>,
    language: Option<String>,
    prompt: Option<String>,
    first_message: Option<Option<String>>,
    phone_number: Option<Option<String>>,
    timezone: Option<String>,
    max_call_duration_seconds: Option<i64>,
    metadata: Option<Option<Map<String, Value>>>,
}

impl AgentFields {
    fn parse(o: &Obj, create: bool) -> Result<AgentFields, ApiError> {
        let name = if create {
            Some(o.str_req("name", 1, 100)?)
        } else {
            o.str_opt("name", 1, 100)?
        };
        let description = o.str_nullable("description", 0, 500)?;
        let voice_id = if create {
            Some(o.str_req("voice_id", 1, usize::MAX)?)
        } else {
            o.str_opt("voice_id", 1, usize::MAX)?
        };
        o.check(
            "voice_id",
            voice_id.as_deref(),
            |s| is_id(s, "voice"),
            "a voice id (voice_...)",
        )?;
        let language = o.str_opt("language", 1, usize::MAX)?;
        o.check(
            "language",
            language.as_deref(),
            is_language,
            "a BCP-47 language tag such as en-US",
        )?;
        let prompt = if create {
            Some(o.str_req("prompt", 1, 32000)?)
        } else {
            o.str_opt("prompt", 1, 32000)?
        };
        let first_message = o.str_nullable("first_message", 1, 1000)?;
        let phone_number = o.str_nullable("phone_number", 1, 16)?;
        o.check(
            "phone_number",
            phone_number.as_ref().and_then(|p| p.as_deref()),
            is_e164,
            "an E.164 phone number such as +14155550123",
        )?;
        let timezone = o.str_opt("timezone", 1, 64)?;
        let max_call_duration_seconds = o.int_opt("max_call_duration_seconds", 60, 7200)?;
        let metadata = o.metadata("metadata", !create)?;
        Ok(AgentFields {
            name,
            description,
            voice_id,
            language,
            prompt,
            first_message,
            phone_number,
            timezone,
            max_call_duration_seconds,
            metadata,
        })
    }

    /// The 422 checks against the state.
    fn check(&self, st: &State, except: Option<&str>) -> Result<(), ApiError> {
        if let Some(v) = &self.voice_id
            && !st.voices.iter().any(|x| x.id == *v)
        {
            return Err(ApiError::unprocessable(
                "invalid_reference",
                Some("voice_id"),
                format!("No voice found with id '{v}'; see GET /voices."),
            ));
        }
        if let Some(tz) = &self.timezone
            && !st.timezone_supported(tz)
        {
            return Err(ApiError::unprocessable(
                "invalid_timezone",
                Some("timezone"),
                format!("Unsupported time zone '{tz}'; see GET /timezones."),
            ));
        }
        if let Some(Some(p)) = &self.phone_number
            && st
                .agents
                .values()
                .any(|a| a.phone_number.as_ref() == Some(p) && Some(a.id.as_str()) != except)
        {
            return Err(ApiError::unprocessable(
                "phone_number_in_use",
                Some("phone_number"),
                format!("The phone number {p} is already used by another agent."),
            ));
        }
        Ok(())
    }
}

pub(crate) fn create(ctx: &Ctx) -> ApiResult {
    let body = ctx.json_body()?;
    let o = Obj::body(&body)?;
    let f = AgentFields::parse(&o, true)?;
    let mut st = lock(&ctx.state);
    f.check(&st, None)?;
    let id = st.new_id("agt");
    let seq = st.next_seq();
    let now = ctx.now;
    let agent = Agent {
        id: id.clone(),
        name: f.name.unwrap_or_default(),
        description: f.description.flatten(),
        status: "active".into(),
        voice_id: f.voice_id.unwrap_or_default(),
        language: f.language.unwrap_or_else(|| "en-US".into()),
        prompt: f.prompt.unwrap_or_default(),
        first_message: f.first_message.flatten(),
        phone_number: f.phone_number.flatten(),
        timezone: f.timezone.unwrap_or_else(|| "UTC".into()),
        max_call_duration_seconds: f.max_call_duration_seconds.unwrap_or(1800),
        metadata: f.metadata.flatten().unwrap_or_default(),
        created_at: now,
        updated_at: now,
        seq,
    };
    let v = to_value(&agent);
    st.agents.insert(id, agent);
    ctx.ok(201, v)
}

pub(crate) fn get(ctx: &Ctx, id: &str) -> ApiResult {
    let mut st = lock(&ctx.state);
    let a = get_agent(&mut st, id)?;
    ctx.ok(200, to_value(&*a))
}

pub(crate) fn update(ctx: &Ctx, id: &str) -> ApiResult {
    let body = ctx.json_body()?;
    let o = Obj::body(&body)?;
    let f = AgentFields::parse(&o, false)?;
    let mut st = lock(&ctx.state);
    let a = get_agent(&mut st, id)?;
    if a.status == "archived" {
        return Err(ApiError::unprocessable(
            "agent_archived",
            None,
            format!("Agent '{id}' is archived; archived agents cannot be changed."),
        ));
    }
    f.check(&st, Some(id))?;
    let a = get_agent(&mut st, id)?;
    let changed = !o.map.is_empty();
    if let Some(v) = f.name {
        a.name = v;
    }
    if let Some(v) = f.description {
        a.description = v;
    }
    if let Some(v) = f.voice_id {
        a.voice_id = v;
    }
    if let Some(v) = f.language {
        a.language = v;
    }
    if let Some(v) = f.prompt {
        a.prompt = v;
    }
    if let Some(v) = f.first_message {
        a.first_message = v;
    }
    if let Some(v) = f.phone_number {
        a.phone_number = v;
    }
    if let Some(v) = f.timezone {
        a.timezone = v;
    }
    if let Some(v) = f.max_call_duration_seconds {
        a.max_call_duration_seconds = v;
    }
    if let Some(v) = f.metadata {
        a.metadata = v.unwrap_or_default();
    }
    if changed {
        a.updated_at = ctx.now;
    }
    ctx.ok(200, to_value(&*a))
}

pub(crate) fn delete(ctx: &Ctx, id: &str) -> ApiResult {
    let mut st = lock(&ctx.state);
    match st.agents.remove(id) {
        Some(_) => Ok(Reply::empty(204)),
        None => Err(ApiError::not_found("agent_id", "agent", id)),
    }
}

/// enable / disable / archive.
pub(crate) fn set_status(ctx: &Ctx, id: &str, target: &str) -> ApiResult {
    let mut st = lock(&ctx.state);
    let a = get_agent(&mut st, id)?;
    if a.status == "archived" && target != "archived" {
        return Err(ApiError::unprocessable(
            "agent_archived",
            None,
            format!(
                "Agent '{id}' is archived; archived is final (it cannot be enabled or disabled)."
            ),
        ));
    }
    if a.status != target {
        a.status = target.to_string();
        if target == "archived" {
            a.phone_number = None;
        }
        a.updated_at = ctx.now;
    }
    ctx.ok(200, to_value(&*a))
}

pub(crate) fn list_voices(ctx: &Ctx) -> ApiResult {
    let pr = ctx.page()?;
    let st = lock(&ctx.state);
    ctx.list(pr, &st.voices, to_value)
}

pub(crate) fn list_timezones(ctx: &Ctx) -> ApiResult {
    let pr = ctx.page()?;
    let st = lock(&ctx.state);
    ctx.list(pr, &st.timezones, to_value)
}
