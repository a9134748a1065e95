//! The resources the sandbox stores, serialized in the spec's field order.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

/// RFC 3339, whole seconds, `Z`.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub(crate) fn ser_ts<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&ts(*t))
}

pub(crate) fn ser_ts_opt<S: Serializer>(
    t: &Option<DateTime<Utc>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&ts(*t)),
        None => s.serialize_none(),
    }
}

pub(crate) fn to_value<T: Serialize>(t: &T) -> Value {
    serde_json::to_value(t).unwrap_or(Value::Null)
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Agent {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub status: String,
    pub voice_id: String,
    pub language: String,
    pub prompt: String,
    pub first_message: Option<String>,
    pub phone_number: Option<String>,
    pub timezone: String,
    pub max_call_duration_seconds: i64,
    pub metadata: Map<String, Value>,
    #[serde(serialize_with = "ser_ts")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "ser_ts")]
    pub updated_at: DateTime<Utc>,
    #[serde(skip)]
    pub seq: u64,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Voice {
    pub id: String,
    pub name: String,
    pub language: String,
    pub gender: String,
    pub preview_url: String,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct TimezoneInfo {
    pub id: String,
    pub name: String,
    pub utc_offset: String,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Segment {
    pub speaker: &'static str,
    pub text: String,
    pub start_ms: i64,
    pub end_ms: i64,
}

/// An action the agent took during a call (for `agent_action` events).
#[derive(Clone, Debug)]
pub(crate) struct AgentAction {
    pub at_ms: i64,
    pub action: &'static str,
    pub details: Value,
}

/// What a live (queued or in-progress) conversation will end as.
#[derive(Clone, Debug)]
pub(crate) struct Planned {
    pub outcome: &'static str,
    pub summary: String,
    pub has_recording: bool,
    /// Segments not spoken yet.
    pub pending: Vec<Segment>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Conversation {
    pub id: String,
    pub agent_id: String,
    pub contact_id: Option<String>,
    pub direction: &'static str,
    pub status: &'static str,
    /// Null (not omitted) while there is none: the spec's one convention.
    pub outcome: Option<&'static str>,
    pub from_number: String,
    pub to_number: String,
    #[serde(serialize_with = "ser_ts")]
    pub started_at: DateTime<Utc>,
    #[serde(serialize_with = "ser_ts_opt")]
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_seconds: Option<i64>,
    pub has_recording: bool,
    pub summary: Option<String>,
    #[serde(skip)]
    pub segments: Vec<Segment>,
    #[serde(skip)]
    pub actions: Vec<AgentAction>,
    #[serde(skip)]
    pub planned: Option<Planned>,
    /// Metrics of the transcript so far (kept up to date when it changes).
    #[serde(skip)]
    pub metrics: ConvMetrics,
    #[serde(skip)]
    pub seq: u64,
}

impl Conversation {
    pub fn ended(&self) -> bool {
        self.status == "completed" || self.status == "failed"
    }

    /// Ends a live conversation as planned.
    pub fn complete(&mut self, now: DateTime<Utc>) {
        if self.ended() {
            return;
        }
        let planned = self.planned.take();
        if let Some(p) = &planned {
            self.segments.extend(p.pending.iter().cloned());
        }
        let last_ms = self.segments.iter().map(|s| s.end_ms).max().unwrap_or(0);
        let min_end = self
            .started_at
            .checked_add_signed(Duration::milliseconds(last_ms + 999))
            .unwrap_or(now);
        let end = now.max(min_end);
        let end = end
            .checked_sub_signed(Duration::nanoseconds(i64::from(
                end.timestamp_subsec_nanos(),
            )))
            .unwrap_or(end);
        self.status = "completed";
        self.ended_at = Some(end);
        self.duration_seconds = Some((end - self.started_at).num_seconds().max(0));
        match planned {
            Some(p) => {
                self.outcome = Some(p.outcome);
                self.summary = Some(p.summary);
                self.has_recording = p.has_recording;
            }
            None => {
                self.outcome = Some("resolved");
                self.summary = Some("The call ended.".to_string());
                self.has_recording = true;
            }
        }
        self.metrics = metrics(&self.segments);
    }
}

/// Per-conversation metrics, computed from the transcript.
#[derive(Clone, Debug, Default)]
pub(crate) struct ConvMetrics {
    pub talk_ratio: f64,
    pub sentiment: f64,
    pub interruptions: i64,
    pub words_per_minute: f64,
}

fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

const POSITIVE: &[&str] = &[
    "thank",
    "thanks",
    "great",
    "perfect",
    "wonderful",
    "excellent",
    "good",
    "happy",
    "love",
    "appreciate",
    "helpful",
    "lovely",
    "awesome",
    "fantastic",
    "nice",
    "glad",
    "amazing",
];
const NEGATIVE: &[&str] = &[
    "problem",
    "unhappy",
    "bad",
    "terrible",
    "frustrated",
    "frustrating",
    "wrong",
    "angry",
    "complaint",
    "annoyed",
    "disappointed",
    "awful",
    "late",
    "never",
    "useless",
    "waiting",
];

/// Contact sentiment in -1..=1 from a small lexicon.
pub(crate) fn sentiment(segments: &[Segment]) -> f64 {
    let (mut pos, mut neg) = (0i64, 0i64);
    for s in segments.iter().filter(|s| s.speaker == "contact") {
        for w in s
            .text
            .split(|c: char| !c.is_alphanumeric() && c != '\'')
            .filter(|w| !w.is_empty())
        {
            let w = w.to_lowercase();
            if POSITIVE.contains(&w.as_str()) {
                pos += 1;
            } else if NEGATIVE.contains(&w.as_str()) {
                neg += 1;
            }
        }
    }
    if pos + neg == 0 {
        0.0
    } else {
        round((pos - neg) as f64 / (pos + neg) as f64, 2)
    }
}

pub(crate) fn metrics(segments: &[Segment]) -> ConvMetrics {
    let (mut agent_ms, mut contact_ms, mut agent_words) = (0i64, 0i64, 0i64);
    let mut interruptions = 0;
    let mut prev: Option<&Segment> = None;
    for s in segments {
        let len = (s.end_ms - s.start_ms).max(0);
        if s.speaker == "agent" {
            agent_ms += len;
            agent_words += s.text.split_whitespace().count() as i64;
        } else {
            contact_ms += len;
        }
        if let Some(p) = prev
            && p.speaker != s.speaker
            && s.start_ms < p.end_ms
        {
            interruptions += 1;
        }
        prev = Some(s);
    }
    let talk = agent_ms + contact_ms;
    ConvMetrics {
        talk_ratio: if talk == 0 {
            0.0
        } else {
            round(agent_ms as f64 / talk as f64, 2)
        },
        sentiment: sentiment(segments),
        interruptions,
        words_per_minute: if agent_ms == 0 {
            0.0
        } else {
            round(agent_words as f64 * 60_000.0 / agent_ms as f64, 1)
        },
    }
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Contact {
    pub id: String,
    pub first_name: String,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub tags: Vec<String>,
    pub custom_fields: Map<String, Value>,
    #[serde(serialize_with = "ser_ts")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "ser_ts")]
    pub updated_at: DateTime<Utc>,
    #[serde(skip)]
    pub seq: u64,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct CustomField {
    pub id: String,
    pub key: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(serialize_with = "ser_ts")]
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct WorkingHours {
    pub start: String,
    pub end: String,
    pub days: Vec<u32>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Calendar {
    pub id: String,
    pub name: String,
    pub timezone: String,
    pub slot_duration_minutes: i64,
    pub working_hours: WorkingHours,
    #[serde(serialize_with = "ser_ts")]
    pub created_at: DateTime<Utc>,
    #[serde(skip)]
    pub tz: chrono_tz::Tz,
    /// Opening and closing time, minutes after local midnight.
    #[serde(skip)]
    pub open_min: u32,
    #[serde(skip)]
    pub close_min: u32,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Appointment {
    pub id: String,
    pub calendar_id: String,
    pub contact_id: Option<String>,
    pub title: String,
    pub notes: Option<String>,
    #[serde(serialize_with = "ser_ts")]
    pub start: DateTime<Utc>,
    #[serde(serialize_with = "ser_ts")]
    pub end: DateTime<Utc>,
    pub status: &'static str,
    pub series_id: Option<String>,
    pub cancellation_reason: Option<String>,
    #[serde(serialize_with = "ser_ts")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "ser_ts")]
    pub updated_at: DateTime<Utc>,
    #[serde(skip)]
    pub seq: u64,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Workflow {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub status: String,
    pub trigger_type: String,
    pub steps: Vec<Value>,
    pub metadata: Map<String, Value>,
    #[serde(serialize_with = "ser_ts")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "ser_ts")]
    pub updated_at: DateTime<Utc>,
    #[serde(skip)]
    pub seq: u64,
}

/// The timing of an asynchronous job: queued for the first third of its
/// duration, then running, then finished.
#[derive(Clone, Debug)]
pub(crate) struct JobClock {
    pub created: DateTime<Utc>,
    pub duration: Duration,
    pub fail: bool,
}

impl JobClock {
    pub fn started(&self) -> DateTime<Utc> {
        self.created
            .checked_add_signed(self.duration / 3)
            .unwrap_or(self.created)
    }

    pub fn finished(&self) -> DateTime<Utc> {
        self.created
            .checked_add_signed(self.duration)
            .unwrap_or(self.created)
    }

    /// (status, started_at, finished_at) at `now`.
    pub fn at(
        &self,
        now: DateTime<Utc>,
    ) -> (&'static str, Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        if now >= self.finished() {
            let s = if self.fail { "failed" } else { "succeeded" };
            (s, Some(self.started()), Some(self.finished()))
        } else if now >= self.started() {
            ("running", Some(self.started()), None)
        } else {
            ("queued", None, None)
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Execution {
    pub id: String,
    pub workflow_id: String,
    pub input: Map<String, Value>,
    pub result: Value,
    pub error: String,
    pub clock: JobClock,
    pub seq: u64,
}

#[derive(Serialize)]
struct ExecutionView<'a> {
    id: &'a str,
    workflow_id: &'a str,
    status: &'static str,
    input: &'a Map<String, Value>,
    result: Option<&'a Value>,
    error: Option<&'a str>,
    #[serde(serialize_with = "ser_ts")]
    created_at: DateTime<Utc>,
    #[serde(serialize_with = "ser_ts_opt")]
    started_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "ser_ts_opt")]
    finished_at: Option<DateTime<Utc>>,
}

impl Execution {
    pub fn status(&self, now: DateTime<Utc>) -> &'static str {
        self.clock.at(now).0
    }

    pub fn view(&self, now: DateTime<Utc>) -> Value {
        let (status, started, finished) = self.clock.at(now);
        to_value(&ExecutionView {
            id: &self.id,
            workflow_id: &self.workflow_id,
            status,
            input: &self.input,
            result: (status == "succeeded").then_some(&self.result),
            error: (status == "failed").then_some(self.error.as_str()),
            created_at: self.clock.created,
            started_at: started,
            finished_at: finished,
        })
    }
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct ReportParams {
    #[serde(serialize_with = "ser_ts")]
    pub start: DateTime<Utc>,
    #[serde(serialize_with = "ser_ts")]
    pub end: DateTime<Utc>,
    pub agent_id: Option<String>,
}

#[derive(Clone, Debug)]
pub(crate) struct Report {
    pub id: String,
    pub kind: String,
    pub params: ReportParams,
    pub result: Value,
    pub error: String,
    pub clock: JobClock,
    pub seq: u64,
}

#[derive(Serialize)]
struct ReportView<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    status: &'static str,
    parameters: &'a ReportParams,
    result: Option<&'a Value>,
    error: Option<&'a str>,
    #[serde(serialize_with = "ser_ts")]
    created_at: DateTime<Utc>,
    #[serde(serialize_with = "ser_ts_opt")]
    finished_at: Option<DateTime<Utc>>,
}

impl Report {
    pub fn view(&self, now: DateTime<Utc>) -> Value {
        let (status, _, finished) = self.clock.at(now);
        to_value(&ReportView {
            id: &self.id,
            kind: &self.kind,
            status,
            parameters: &self.params,
            result: (status == "succeeded").then_some(&self.result),
            error: (status == "failed").then_some(self.error.as_str()),
            created_at: self.clock.created,
            finished_at: finished,
        })
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Export {
    pub id: String,
    pub resource: String,
    pub format: String,
    pub filters: Map<String, Value>,
    pub rows: i64,
    pub content: bytes::Bytes,
    pub error: String,
    pub clock: JobClock,
}

#[derive(Serialize)]
struct ExportView<'a> {
    id: &'a str,
    resource: &'a str,
    format: &'a str,
    status: &'static str,
    filters: &'a Map<String, Value>,
    row_count: Option<i64>,
    download_url: Option<String>,
    error: Option<&'a str>,
    #[serde(serialize_with = "ser_ts")]
    created_at: DateTime<Utc>,
    #[serde(serialize_with = "ser_ts_opt")]
    finished_at: Option<DateTime<Utc>>,
}

impl Export {
    pub fn view(&self, now: DateTime<Utc>, base_url: &str) -> Value {
        let (status, _, finished) = self.clock.at(now);
        let ok = status == "succeeded";
        to_value(&ExportView {
            id: &self.id,
            resource: &self.resource,
            format: &self.format,
            status,
            filters: &self.filters,
            row_count: ok.then_some(self.rows),
            download_url: ok.then(|| format!("{base_url}/exports/{}/download", self.id)),
            error: (status == "failed").then_some(self.error.as_str()),
            created_at: self.clock.created,
            finished_at: finished,
        })
    }
}
