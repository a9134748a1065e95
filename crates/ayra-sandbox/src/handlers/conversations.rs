//! Conversations: details, transcripts, recordings, live events and metrics.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use http::HeaderValue;
use serde::Serialize;
use serde_json::{Value, json};

use crate::api::{ApiResult, Ctx, Payload, Reply};
use crate::clock::Clock;
use crate::error::ApiError;
use crate::filters::{ConversationFilter, Source};
use crate::model::{Conversation, ser_ts, to_value};
use crate::state::{State, lock};

pub(crate) fn list(ctx: &Ctx) -> ApiResult {
    let pr = ctx.page()?;
    let f = ConversationFilter::parse(&Source::Query(ctx))?;
    let st = lock(&ctx.state);
    let v = f.select(&st);
    ctx.list(pr, &v, |c| to_value(*c))
}

fn find<'s>(st: &'s State, id: &str) -> Result<&'s Conversation, ApiError> {
    st.conversations
        .get(id)
        .ok_or_else(|| ApiError::not_found("conversation_id", "conversation", id))
}

pub(crate) fn get(ctx: &Ctx, id: &str) -> ApiResult {
    let st = lock(&ctx.state);
    ctx.ok(200, to_value(find(&st, id)?))
}

pub(crate) fn transcript(ctx: &Ctx, id: &str) -> ApiResult {
    let st = lock(&ctx.state);
    let c = find(&st, id)?;
    ctx.ok(
        200,
        json!({"conversation_id": c.id, "segments": to_value(&c.segments)}),
    )
}

pub(crate) fn recording(ctx: &Ctx, id: &str) -> ApiResult {
    let st = lock(&ctx.state);
    let c = find(&st, id)?;
    if !c.has_recording {
        return Err(ApiError::new(
            404,
            "recording_not_available",
            format!("Conversation '{id}' has no recording (has_recording is false)."),
        )
        .with_field("conversation_id"));
    }
    let secs = c.duration_seconds.unwrap_or(1).clamp(1, 5) as usize;
    let data = crate::media::silent_mp3(secs);
    let mut r = Reply {
        status: 200,
        headers: Vec::new(),
        payload: Payload::File {
            content_type: "audio/mpeg".into(),
            data: Bytes::from(data),
        },
    };
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{id}.mp3\"")) {
        r.headers.push((http::header::CONTENT_DISPOSITION, v));
    }
    Ok(r)
}

#[derive(Serialize)]
struct Analytics<'a> {
    conversation_id: &'a str,
    duration_seconds: i64,
    talk_ratio: f64,
    sentiment: f64,
    outcome: Option<&'static str>,
    interruptions: i64,
    words_per_minute: f64,
}

pub(crate) fn analytics(ctx: &Ctx, id: &str) -> ApiResult {
    let st = lock(&ctx.state);
    let c = find(&st, id)?;
    if !c.ended() {
        return Err(ApiError::unprocessable(
            "conversation_not_ended",
            None,
            format!(
                "Conversation '{id}' is {}; metrics exist once it has ended.",
                c.status
            ),
        ));
    }
    let m = &c.metrics;
    ctx.ok(
        200,
        to_value(&Analytics {
            conversation_id: &c.id,
            duration_seconds: c.duration_seconds.unwrap_or(0),
            talk_ratio: m.talk_ratio,
            sentiment: m.sentiment,
            outcome: c.outcome,
            interruptions: m.interruptions,
            words_per_minute: m.words_per_minute,
        }),
    )
}

// ---- events -------------------------------------------------------------------

#[derive(Serialize)]
struct Event<'a> {
    id: String,
    conversation_id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(serialize_with = "ser_ts")]
    time: DateTime<Utc>,
    payload: Value,
}

fn event_id(conv: &str, tag: &str) -> String {
    // FNV-1a, then a mixer: stable ids across connections.
    let mut h: u64 = 0xcbf29ce484222325;
    for b in conv.bytes().chain([0u8]).chain(tag.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    let mut id = String::from("evt_");
    for _ in 0..12 {
        h ^= h >> 31;
        h = h.wrapping_mul(0x9e3779b97f4a7c15);
        h ^= h >> 29;
        id.push(crate::state::BASE62[(h % 62) as usize] as char);
    }
    id
}

fn at(start: DateTime<Utc>, ms: i64) -> DateTime<Utc> {
    start
        .checked_add_signed(Duration::milliseconds(ms))
        .unwrap_or(start)
}

/// The events that already happened, in order (append-only as the conversation goes on).
fn past_events(c: &Conversation) -> Vec<String> {
    let mut out = Vec::new();
    if c.status == "queued" {
        return out;
    }
    let ev = |tag: &str, kind: &'static str, time: DateTime<Utc>, payload: Value| {
        let e = Event {
            id: event_id(&c.id, tag),
            conversation_id: &c.id,
            kind,
            time,
            payload,
        };
        let data = serde_json::to_string(&e).unwrap_or_default();
        format!("id: {}\nevent: {kind}\ndata: {data}\n\n", e.id)
    };
    out.push(ev(
        "started",
        "started",
        c.started_at,
        json!({"direction": c.direction, "from_number": c.from_number, "to_number": c.to_number}),
    ));
    let spoken_until = c.segments.iter().map(|s| s.end_ms).max().unwrap_or(0);
    // Segments and actions, by time.
    let mut items: Vec<(i64, usize, String)> = Vec::new();
    for (i, s) in c.segments.iter().enumerate() {
        items.push((
            s.end_ms,
            0,
            ev(
                &format!("s{i}"),
                "transcript_segment",
                at(c.started_at, s.end_ms),
                to_value(s),
            ),
        ));
    }
    for (i, a) in c.actions.iter().enumerate() {
        if c.ended() || a.at_ms <= spoken_until {
            items.push((
                a.at_ms,
                1,
                ev(
                    &format!("a{i}"),
                    "agent_action",
                    at(c.started_at, a.at_ms),
                    json!({"action": a.action, "details": a.details}),
                ),
            ));
        }
    }
    items.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    out.extend(items.into_iter().map(|(_, _, s)| s));
    if c.ended() {
        out.push(ev(
            "ended",
            "ended",
            c.ended_at.unwrap_or(c.started_at),
            json!({"status": c.status, "outcome": c.outcome, "duration_seconds": c.duration_seconds}),
        ));
    }
    out
}

pub(crate) fn events(ctx: &Ctx, id: &str) -> ApiResult {
    let last_event_id = ctx.header("last-event-id");
    if last_event_id.is_some_and(|v| v.is_empty() || v.chars().count() > 64) {
        return Err(ApiError::invalid_param(
            "Last-Event-ID",
            "The 'Last-Event-ID' header must be 1 to 64 characters long.",
        ));
    }
    let (so_far, live, step) = {
        let st = lock(&ctx.state);
        let c = find(&st, id)?;
        (past_events(c), !c.ended(), st.job_duration / 3)
    };
    // A reconnecting client resumes after the last event it received; an
    // unknown id replays everything.
    let resume_after = last_event_id
        .map(|last| format!("id: {}\n", last.trim()))
        .and_then(|prefix| so_far.iter().position(|e| e.starts_with(&prefix)))
        .map_or(0, |i| i + 1);
    let headers = vec![
        (
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        ),
        (
            http::header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ),
    ];
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(32);
    let playback = Playback {
        state: ctx.state.clone(),
        clock: ctx.clock.clone(),
        id: id.to_string(),
        step,
        tx,
    };
    tokio::spawn(playback.run(so_far, resume_after, live));
    let stream = futures::stream::poll_fn(move |cx| rx.poll_recv(cx));
    Ok(Reply {
        status: 200,
        headers,
        payload: Payload::Stream(Box::pin(stream)),
    })
}

/// Feeds one event stream: the events so far, then, for a live conversation,
/// one step of it every `step` of the sandbox's clock until it ends.
struct Playback {
    state: Arc<Mutex<State>>,
    clock: Arc<Clock>,
    id: String,
    step: Duration,
    tx: tokio::sync::mpsc::Sender<Bytes>,
}

impl Playback {
    /// `resume_after` events of `so_far` were received on an earlier
    /// connection (`Last-Event-ID`).
    async fn run(self, so_far: Vec<String>, resume_after: usize, live: bool) {
        let mut sent = resume_after;
        if !self.send(&so_far[resume_after..], &mut sent).await || !live {
            return;
        }
        if sent == 0 {
            let waiting = vec![": waiting for the conversation to start\n\n".to_string()];
            if !self.send(&waiting, &mut 0).await {
                return;
            }
        }
        let mut due = self.clock.now();
        for _ in 0..10_000 {
            due = due.checked_add_signed(self.step).unwrap_or(due);
            self.clock.sleep_until(due).await;
            let Some((all, ended)) = self.next_step() else {
                return;
            };
            if !self.send(&all[sent.min(all.len())..], &mut sent).await || ended {
                return;
            }
        }
    }

    /// Moves the conversation one step on; its events and whether it ended.
    fn next_step(&self) -> Option<(Vec<String>, bool)> {
        let mut st = lock(&self.state);
        let c = st.conversations.get_mut(&self.id)?;
        if c.status == "queued" {
            c.status = "in_progress";
        } else if let Some(p) = c.planned.as_mut().filter(|p| !p.pending.is_empty()) {
            let seg = p.pending.remove(0);
            c.segments.push(seg);
            c.metrics = crate::model::metrics(&c.segments);
        } else if !c.ended() {
            c.complete(self.clock.now());
        }
        Some((past_events(c), c.ended()))
    }

    /// Sends `chunks`, counting them in `sent`; false once the client is gone.
    async fn send(&self, chunks: &[String], sent: &mut usize) -> bool {
        for chunk in chunks {
            if self.tx.send(Bytes::from(chunk.clone())).await.is_err() {
                return false;
            }
            *sent += 1;
        }
        true
    }
}
