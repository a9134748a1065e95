//! Analytics (summary, real-time), reports and exports.

use std::collections::BTreeMap;

use bytes::Bytes;
use chrono::{DateTime, Datelike, Duration, NaiveTime, Utc};
use http::HeaderValue;
use serde_json::{Map, Value, json};

use crate::api::{ApiResult, Ctx, Payload, Reply};
use crate::error::ApiError;
use crate::filters::{AppointmentFilter, ContactFilter, ConversationFilter, Source};
use crate::handlers::workflows::job_should_fail;
use crate::model::{Conversation, Export, Report, ReportParams};
use crate::state::{State, lock};
use crate::validate::{Obj, is_id};

fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

/// Aggregates of a set of conversations.
#[derive(Default)]
struct Agg {
    conversations: i64,
    completed: i64,
    failed: i64,
    ended: i64,
    duration: i64,
    sentiment: f64,
    booked: i64,
}

impl Agg {
    fn add(&mut self, c: &Conversation) {
        self.conversations += 1;
        match c.status {
            "completed" => self.completed += 1,
            "failed" => self.failed += 1,
            _ => {}
        }
        if c.ended() {
            self.ended += 1;
            self.duration += c.duration_seconds.unwrap_or(0);
            self.sentiment += c.metrics.sentiment;
        }
        if c.outcome == Some("appointment_booked") {
            self.booked += 1;
        }
    }

    fn avg_duration(&self) -> f64 {
        if self.ended == 0 {
            0.0
        } else {
            round(self.duration as f64 / self.ended as f64, 1)
        }
    }

    fn avg_sentiment(&self) -> Value {
        if self.ended == 0 {
            Value::Null
        } else {
            json!(round(self.sentiment / self.ended as f64, 2).clamp(-1.0, 1.0))
        }
    }
}

fn invalid_range(field: &str, msg: &str) -> ApiError {
    ApiError::unprocessable("invalid_time_range", Some(field), msg.to_string())
}

/// Start of the bucket containing `t`.
fn floor(t: DateTime<Utc>, granularity: &str) -> Option<DateTime<Utc>> {
    let date = t.date_naive();
    let day = match granularity {
        "week" => date.checked_sub_signed(Duration::days(i64::from(
            date.weekday().num_days_from_monday(),
        )))?,
        _ => date,
    };
    let mut start = day.and_time(NaiveTime::MIN).and_utc();
    if granularity == "hour" {
        start = start.checked_add_signed(Duration::hours(i64::from(chrono::Timelike::hour(&t))))?;
    }
    Some(start)
}

pub(crate) fn summary(ctx: &Ctx) -> ApiResult {
    let start = ctx.q_datetime_req("start")?;
    let end = ctx.q_datetime_req("end")?;
    let granularity = ctx
        .q_enum("granularity", &["hour", "day", "week"])?
        .unwrap_or_else(|| "day".into());
    let agent_id = ctx.q_id("agent_id", "agt")?;
    if end <= start {
        return Err(invalid_range("end", "'end' must be after 'start'."));
    }
    let width = match granularity.as_str() {
        "hour" => Duration::hours(1),
        "week" => Duration::weeks(1),
        _ => Duration::days(1),
    };
    let first = floor(start, &granularity)
        .ok_or_else(|| invalid_range("start", "'start' is out of range."))?;
    let span = (end - first).num_seconds();
    let n_buckets = (span + width.num_seconds() - 1) / width.num_seconds();
    if n_buckets > 1000 {
        return Err(invalid_range(
            "end",
            &format!("The range has {n_buckets} {granularity} buckets; at most 1000 are allowed."),
        ));
    }
    let st = lock(&ctx.state);
    let mut totals = Agg::default();
    let mut buckets: Vec<Agg> = (0..n_buckets).map(|_| Agg::default()).collect();
    for c in st.conversations.values() {
        if c.started_at < start || c.started_at >= end {
            continue;
        }
        if agent_id.as_ref().is_some_and(|a| *a != c.agent_id) {
            continue;
        }
        totals.add(c);
        let i = ((c.started_at - first).num_seconds() / width.num_seconds()) as usize;
        if let Some(b) = buckets.get_mut(i) {
            b.add(c);
        }
    }
    let series: Vec<Value> = buckets
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let t = first.checked_add_signed(width * i as i32).unwrap_or(first);
            json!({
                "bucket_start": crate::model::ts(t),
                "conversations": b.conversations,
                "completed": b.completed,
                "average_duration_seconds": b.avg_duration(),
            })
        })
        .collect();
    ctx.ok(
        200,
        json!({
            "start": crate::model::ts(start),
            "end": crate::model::ts(end),
            "granularity": granularity,
            "agent_id": agent_id,
            "totals": {
                "conversations": totals.conversations,
                "completed": totals.completed,
                "failed": totals.failed,
                "total_duration_seconds": totals.duration,
                "average_duration_seconds": totals.avg_duration(),
                "average_sentiment": totals.avg_sentiment(),
                "appointments_booked": totals.booked,
            },
            "series": series,
        }),
    )
}

pub(crate) fn realtime(ctx: &Ctx) -> ApiResult {
    let st = lock(&ctx.state);
    let today = ctx.now.date_naive().and_time(NaiveTime::MIN).and_utc();
    let mut active = 0;
    let mut queued = 0;
    let mut agg = Agg::default();
    for c in st.conversations.values() {
        match c.status {
            "in_progress" => active += 1,
            "queued" => queued += 1,
            _ => {}
        }
        if c.started_at >= today && c.started_at <= ctx.now {
            agg.add(c);
        }
    }
    ctx.ok(
        200,
        json!({
            "active_conversations": active,
            "queued_conversations": queued,
            "today": {
                "conversations": agg.conversations,
                "completed": agg.completed,
                "failed": agg.failed,
                "average_duration_seconds": agg.avg_duration(),
            },
            "as_of": crate::model::ts(ctx.now),
        }),
    )
}

// ---- reports ------------------------------------------------------------------

pub(crate) const REPORT_TYPES: &[&str] = &[
    "conversation_summary",
    "agent_performance",
    "contact_growth",
];

pub(crate) fn compute_report(st: &State, kind: &str, p: &ReportParams) -> Value {
    let in_range = |c: &&Conversation| {
        c.started_at >= p.start
            && c.started_at < p.end
            && p.agent_id.as_ref().is_none_or(|a| *a == c.agent_id)
    };
    match kind {
        "conversation_summary" => {
            let mut agg = Agg::default();
            let mut outcomes: BTreeMap<&str, i64> = BTreeMap::new();
            for c in st.conversations.values().filter(in_range) {
                agg.add(c);
                if let Some(o) = c.outcome {
                    *outcomes.entry(o).or_default() += 1;
                }
            }
            json!({
                "conversations": agg.conversations,
                "completed": agg.completed,
                "failed": agg.failed,
                "average_duration_seconds": agg.avg_duration(),
                "outcomes": outcomes,
            })
        }
        "agent_performance" => {
            let mut by_agent: BTreeMap<&str, Agg> = BTreeMap::new();
            for c in st.conversations.values().filter(in_range) {
                by_agent.entry(c.agent_id.as_str()).or_default().add(c);
            }
            let mut rows: Vec<(&str, Agg)> = by_agent.into_iter().collect();
            rows.sort_by(|a, b| b.1.conversations.cmp(&a.1.conversations).then(a.0.cmp(b.0)));
            let agents: Vec<Value> = rows
                .iter()
                .map(|(id, a)| {
                    json!({
                        "agent_id": id,
                        "conversations": a.conversations,
                        "completed": a.completed,
                        "average_duration_seconds": a.avg_duration(),
                        "average_sentiment": a.avg_sentiment(),
                    })
                })
                .collect();
            json!({ "agents": agents })
        }
        _ => {
            let mut by_day: BTreeMap<chrono::NaiveDate, i64> = BTreeMap::new();
            let mut new_contacts = 0;
            let mut total = 0;
            for c in st.contacts.values() {
                if c.created_at < p.end {
                    total += 1;
                }
                if c.created_at >= p.start && c.created_at < p.end {
                    new_contacts += 1;
                    *by_day.entry(c.created_at.date_naive()).or_default() += 1;
                }
            }
            // Every day of the range when it is short enough, else only days with new contacts.
            let days = (p.end - p.start).num_days();
            if days <= 366 {
                let mut d = p.start.date_naive();
                let last = p.end.date_naive();
                let mut guard = 0;
                while d <= last && guard < 400 {
                    let day_start = d.and_time(NaiveTime::MIN).and_utc();
                    if day_start < p.end {
                        by_day.entry(d).or_default();
                    }
                    guard += 1;
                    match d.succ_opt() {
                        Some(n) => d = n,
                        None => break,
                    }
                }
            }
            let by_day: Vec<Value> = by_day
                .into_iter()
                .map(|(d, n)| json!({"date": d.format("%Y-%m-%d").to_string(), "new_contacts": n}))
                .collect();
            json!({"new_contacts": new_contacts, "total_contacts": total, "by_day": by_day})
        }
    }
}

pub(crate) fn list_reports(ctx: &Ctx) -> ApiResult {
    let pr = ctx.page()?;
    let st = lock(&ctx.state);
    let mut v: Vec<&Report> = st.reports.values().collect();
    v.sort_by(|a, b| {
        b.clock
            .created
            .cmp(&a.clock.created)
            .then(b.seq.cmp(&a.seq))
    });
    ctx.list(pr, &v, |r| r.view(ctx.now))
}

pub(crate) fn create_report(ctx: &Ctx) -> ApiResult {
    let body = ctx.json_body()?;
    let o = Obj::body(&body)?;
    let kind = o.enum_req("type", REPORT_TYPES)?;
    let p = o.object_req("parameters")?;
    let start = p.datetime_req("start")?;
    let end = p.datetime_req("end")?;
    let agent_id = p.str_nullable("agent_id", 1, usize::MAX)?.flatten();
    p.check(
        "agent_id",
        agent_id.as_deref(),
        |s| is_id(s, "agt"),
        "an agent id (agt_...)",
    )?;
    if end <= start {
        return Err(invalid_range(
            "parameters.end",
            "'parameters.end' must be after 'parameters.start'.",
        ));
    }
    let params = ReportParams {
        start,
        end,
        agent_id,
    };
    let mut st = lock(&ctx.state);
    let result = compute_report(&st, &kind, &params);
    let fail = job_should_fail(ctx);
    let id = st.new_id("rpt");
    let seq = st.next_seq();
    let r = Report {
        id: id.clone(),
        kind,
        params,
        result,
        error: "The report could not be computed; please retry.".into(),
        clock: st.job_clock(ctx.now, fail),
        seq,
    };
    let mut v = r.view(ctx.now);
    if let Some(m) = v.as_object_mut() {
        m.insert("status".into(), json!("queued"));
        m.insert("result".into(), Value::Null);
        m.insert("error".into(), Value::Null);
        m.insert("finished_at".into(), Value::Null);
    }
    let location = format!("/reports/{id}");
    st.reports.insert(id, r);
    ctx.accepted(&location, v)
}

pub(crate) fn get_report(ctx: &Ctx, id: &str) -> ApiResult {
    let st = lock(&ctx.state);
    let r = st
        .reports
        .get(id)
        .ok_or_else(|| ApiError::not_found("report_id", "report", id))?;
    ctx.ok(200, r.view(ctx.now))
}

// ---- exports ------------------------------------------------------------------

const CONVERSATION_COLUMNS: &[&str] = &[
    "id",
    "agent_id",
    "contact_id",
    "direction",
    "status",
    "outcome",
    "from_number",
    "to_number",
    "started_at",
    "ended_at",
    "duration_seconds",
    "has_recording",
    "summary",
];
const CONTACT_COLUMNS: &[&str] = &[
    "id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "tags",
    "custom_fields",
    "created_at",
    "updated_at",
];
const APPOINTMENT_COLUMNS: &[&str] = &[
    "id",
    "calendar_id",
    "contact_id",
    "title",
    "notes",
    "start",
    "end",
    "status",
    "series_id",
    "cancellation_reason",
    "created_at",
    "updated_at",
];

/// The rows of an export (validating its filters) and the file's content.
pub(crate) fn render_export(
    st: &State,
    resource: &str,
    format: &str,
    filters: &Map<String, Value>,
) -> Result<(i64, Bytes), ApiError> {
    let src = Source::Export(filters);
    let (columns, lines): (&[&str], Vec<String>) = match resource {
        "conversations" => {
            let f = ConversationFilter::parse(&src)?;
            let rows = f.select(st);
            (
                CONVERSATION_COLUMNS,
                rows.iter()
                    .map(|c| serde_json::to_string(c).unwrap_or_default())
                    .collect(),
            )
        }
        "contacts" => {
            let f = ContactFilter::parse(&src)?;
            let rows = f.select(st);
            (
                CONTACT_COLUMNS,
                rows.iter()
                    .map(|c| serde_json::to_string(c).unwrap_or_default())
                    .collect(),
            )
        }
        _ => {
            let f = AppointmentFilter::parse(&src)?;
            let rows = f.select(st);
            (
                APPOINTMENT_COLUMNS,
                rows.iter()
                    .map(|a| serde_json::to_string(a).unwrap_or_default())
                    .collect(),
            )
        }
    };
    let n = lines.len() as i64;
    let content = if format == "csv" {
        let values: Vec<Value> = lines
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
            .collect();
        crate::media::csv(columns, &values)
    } else {
        let mut s = String::new();
        for l in lines {
            s.push_str(&l);
            s.push('\n');
        }
        s
    };
    Ok((n, Bytes::from(content)))
}

pub(crate) fn create_export(ctx: &Ctx) -> ApiResult {
    let body = ctx.json_body()?;
    let o = Obj::body(&body)?;
    let resource = o.enum_req("resource", &["conversations", "contacts", "appointments"])?;
    let format = o.enum_req("format", &["csv", "ndjson"])?;
    let filters = o
        .object_opt("filters")?
        .map(|f| f.map.clone())
        .unwrap_or_default();
    let mut st = lock(&ctx.state);
    let (rows, content) = render_export(&st, &resource, &format, &filters)?;
    let fail = job_should_fail(ctx);
    let id = st.new_id("exp");
    let e = Export {
        id: id.clone(),
        resource,
        format,
        filters,
        rows,
        content,
        error: "The export could not be generated; please retry.".into(),
        clock: st.job_clock(ctx.now, fail),
    };
    let mut v = e.view(ctx.now, &ctx.base_url);
    if let Some(m) = v.as_object_mut() {
        m.insert("status".into(), json!("queued"));
        m.insert("row_count".into(), Value::Null);
        m.insert("download_url".into(), Value::Null);
        m.insert("error".into(), Value::Null);
        m.insert("finished_at".into(), Value::Null);
    }
    let location = format!("/exports/{id}");
    st.exports.insert(id, e);
    ctx.accepted(&location, v)
}

pub(crate) fn get_export(ctx: &Ctx, id: &str) -> ApiResult {
    let st = lock(&ctx.state);
    let e = st
        .exports
        .get(id)
        .ok_or_else(|| ApiError::not_found("export_id", "export", id))?;
    ctx.ok(200, e.view(ctx.now, &ctx.base_url))
}

pub(crate) fn download_export(ctx: &Ctx, id: &str) -> ApiResult {
    let st = lock(&ctx.state);
    let e = st
        .exports
        .get(id)
        .ok_or_else(|| ApiError::not_found("export_id", "export", id))?;
    let (status, _, _) = e.clock.at(ctx.now);
    match status {
        "succeeded" => {}
        "failed" => {
            return Err(ApiError::new(
                409,
                "export_failed",
                format!("Export '{id}' failed; request a new export."),
            ));
        }
        _ => {
            return Err(ApiError::new(
                409,
                "export_not_ready",
                format!("Export '{id}' is {status}; retry when its status is 'succeeded'."),
            ));
        }
    }
    let (ct, ext) = if e.format == "csv" {
        ("text/csv; charset=utf-8", "csv")
    } else {
        ("application/x-ndjson", "ndjson")
    };
    let mut r = Reply {
        status: 200,
        headers: Vec::new(),
        payload: Payload::File {
            content_type: ct.into(),
            data: e.content.clone(),
        },
    };
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{id}.{ext}\"")) {
        r.headers.push((http::header::CONTENT_DISPOSITION, v));
    }
    Ok(r)
}
