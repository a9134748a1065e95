//! Workflows and their executions.

use serde_json::{Map, Value, json};

use crate::api::{ApiResult, Ctx, Reply};
use crate::error::ApiError;
use crate::model::{Execution, Workflow, to_value};
use crate::state::{State, lock};
use crate::validate::{Obj, is_e164};

pub(crate) const WORKFLOW_STATUSES: &[&str] = &["active", "paused"];
pub(crate) const TRIGGER_TYPES: &[&str] = &[
    "api",
    "conversation_ended",
    "appointment_booked",
    "contact_created",
];

pub(crate) fn list(ctx: &Ctx) -> ApiResult {
    let pr = ctx.page()?;
    let st = lock(&ctx.state);
    let mut v: Vec<&Workflow> = st.workflows.values().collect();
    v.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.seq.cmp(&a.seq)));
    ctx.list(pr, &v, |w| to_value(*w))
}

fn find<'s>(st: &'s mut State, id: &str) -> Result<&'s mut Workflow, ApiError> {
    st.workflows
        .get_mut(id)
        .ok_or_else(|| ApiError::not_found("workflow_id", "workflow", id))
}

fn parse_steps(o: &Obj) -> Result<Option<Vec<Value>>, ApiError> {
    let Some(items) = o.object_array_opt("steps", (1, 50))? else {
        return Ok(None);
    };
    let mut steps = Vec::with_capacity(items.len());
    for s in items {
        let kind = s.str_req("type", 1, 64)?;
        let config = s.object_req("config")?;
        steps.push(json!({"type": kind, "config": Value::Object(config.map.clone())}));
    }
    Ok(Some(steps))
}

pub(crate) fn create(ctx: &Ctx) -> ApiResult {
    let body = ctx.json_body()?;
    let o = Obj::body(&body)?;
    let name = o.str_req("name", 1, 100)?;
    let description = o.str_nullable("description", 0, 500)?.flatten();
    let status = o.enum_opt("status", WORKFLOW_STATUSES)?;
    let trigger_type = o.enum_req("trigger_type", TRIGGER_TYPES)?;
    if !o.has("steps") {
        return Err(ApiError::missing("steps"));
    }
    let steps = parse_steps(&o)?.unwrap_or_default();
    let metadata = o.metadata("metadata", false)?.flatten().unwrap_or_default();
    let mut st = lock(&ctx.state);
    let id = st.new_id("wf");
    let seq = st.next_seq();
    let w = Workflow {
        id: id.clone(),
        name,
        description,
        status: status.unwrap_or_else(|| "active".into()),
        trigger_type,
        steps,
        metadata,
        created_at: ctx.now,
        updated_at: ctx.now,
        seq,
    };
    let v = to_value(&w);
    st.workflows.insert(id, w);
    ctx.ok(201, v)
}

pub(crate) fn get(ctx: &Ctx, id: &str) -> ApiResult {
    let mut st = lock(&ctx.state);
    let w = find(&mut st, id)?;
    ctx.ok(200, to_value(&*w))
}

pub(crate) fn update(ctx: &Ctx, id: &str) -> ApiResult {
    let body = ctx.json_body()?;
    let o = Obj::body(&body)?;
    let name = o.str_opt("name", 1, 100)?;
    let description = o.str_nullable("description", 0, 500)?;
    let status = o.enum_opt("status", WORKFLOW_STATUSES)?;
    let trigger_type = o.enum_opt("trigger_type", TRIGGER_TYPES)?;
    let steps = parse_steps(&o)?;
    let metadata = o.metadata("metadata", true)?;
    let mut st = lock(&ctx.state);
    let w = find(&mut st, id)?;
    if let Some(v) = name {
        w.name = v;
    }
    if let Some(v) = description {
        w.description = v;
    }
    if let Some(v) = status {
        w.status = v;
    }
    if let Some(v) = trigger_type {
        w.trigger_type = v;
    }
    if let Some(v) = steps {
        w.steps = v;
    }
    if let Some(v) = metadata {
        w.metadata = v.unwrap_or_default();
    }
    if !o.map.is_empty() {
        w.updated_at = ctx.now;
    }
    ctx.ok(200, to_value(&*w))
}

pub(crate) fn delete(ctx: &Ctx, id: &str) -> ApiResult {
    let mut st = lock(&ctx.state);
    match st.workflows.remove(id) {
        Some(_) => Ok(Reply::empty(204)),
        None => Err(ApiError::not_found("workflow_id", "workflow", id)),
    }
}

/// Whether the sandbox was asked to make this job fail (`X-Sandbox-Job: fail`).
pub(crate) fn job_should_fail(ctx: &Ctx) -> bool {
    ctx.header("x-sandbox-job")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("fail"))
}

/// What the steps produce: (result, error) — the error when a step fails.
pub(crate) fn simulate(
    w: &Workflow,
    input: &Map<String, Value>,
    fail: bool,
    exec_id: &str,
) -> (Value, String) {
    let mut result = Map::new();
    let tail: String = exec_id.chars().rev().take(6).collect();
    for (i, step) in w.steps.iter().enumerate() {
        let kind = step.get("type").and_then(Value::as_str).unwrap_or("step");
        let fails_here = fail && i == 0;
        let bad_phone = kind == "send_sms"
            && input
                .get("phone")
                .and_then(Value::as_str)
                .is_some_and(|p| !is_e164(p));
        if fails_here || bad_phone {
            let why = if bad_phone {
                "the SMS provider rejected the phone number".to_string()
            } else {
                "the step failed (the input asked for a failure)".to_string()
            };
            return (
                Value::Null,
                format!("Step {} ({kind}) failed: {why}.", i + 1),
            );
        }
        match kind {
            "send_sms" => {
                result.insert("sms_message_id".into(), json!(format!("SM{tail}")));
            }
            "send_email" => {
                result.insert("email_message_id".into(), json!(format!("EM{tail}")));
            }
            "http_request" => {
                result.insert("http_status".into(), json!(200));
            }
            "update_contact" => {
                result.insert("contact_updated".into(), json!(true));
            }
            _ => {}
        }
    }
    result.insert("steps_completed".into(), json!(w.steps.len()));
    (Value::Object(result), String::new())
}

pub(crate) fn trigger(ctx: &Ctx, id: &str) -> ApiResult {
    let body = ctx.json_body()?;
    let o = Obj::body(&body)?;
    let input = o.object_req("input")?.map.clone();
    let mut st = lock(&ctx.state);
    let w = find(&mut st, id)?.clone();
    if w.status == "paused" {
        return Err(ApiError::unprocessable(
            "workflow_paused",
            None,
            format!(
                "Workflow '{id}' is paused; resume it (PATCH status=active) before triggering it."
            ),
        ));
    }
    let fail = job_should_fail(ctx) || input.get("fail") == Some(&Value::Bool(true));
    let xid = st.new_id("wfx");
    let (result, error) = simulate(&w, &input, fail, &xid);
    let failed = !error.is_empty();
    let seq = st.next_seq();
    let x = Execution {
        id: xid.clone(),
        workflow_id: w.id.clone(),
        input,
        result,
        error,
        clock: st.job_clock(ctx.now, failed),
        seq,
    };
    // The 202 always shows the queued execution.
    let mut v = x.view(ctx.now);
    if let Some(m) = v.as_object_mut() {
        m.insert("status".into(), json!("queued"));
        m.insert("result".into(), Value::Null);
        m.insert("error".into(), Value::Null);
        m.insert("started_at".into(), Value::Null);
        m.insert("finished_at".into(), Value::Null);
    }
    let location = format!("/workflow-executions/{xid}");
    st.executions.insert(xid, x);
    ctx.accepted(&location, v)
}

pub(crate) fn list_executions(ctx: &Ctx, id: &str) -> ApiResult {
    let pr = ctx.page()?;
    let mut st = lock(&ctx.state);
    find(&mut st, id)?;
    let mut v: Vec<&Execution> = st
        .executions
        .values()
        .filter(|x| x.workflow_id == id)
        .collect();
    v.sort_by(|a, b| {
        b.clock
            .created
            .cmp(&a.clock.created)
            .then(b.seq.cmp(&a.seq))
    });
    ctx.list(pr, &v, |x| x.view(ctx.now))
}

pub(crate) fn get_execution(ctx: &Ctx, id: &str) -> ApiResult {
    let st = lock(&ctx.state);
    let x = st
        .executions
        .get(id)
        .ok_or_else(|| ApiError::not_found("execution_id", "workflow execution", id))?;
    ctx.ok(200, x.view(ctx.now))
}
