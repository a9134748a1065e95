//! One walk-through per domain of the API, shared by the examples (`tour`
//! runs them all, `agents`, `contacts`, ... run one each) and by the test
//! that runs the tour at many instants (`crates/ayra/tests/tour.rs`).
//! Times come from the server (`meta.timestamp`), never from this machine,
//! so that the walk holds whatever time the server says it is.
#![allow(dead_code)]

use std::fmt;
use std::time::Duration;

use ayra::StatusCode;
use ayra::chrono::{DateTime, Duration as Days, Utc};
use ayra::prelude::*;
use futures::TryStreamExt;

/// The domains of the API, in the tour's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Domain {
    Agents,
    Conversations,
    Contacts,
    Calendars,
    Workflows,
    Analytics,
}

pub const ALL: &[Domain] = &[
    Domain::Agents,
    Domain::Conversations,
    Domain::Contacts,
    Domain::Calendars,
    Domain::Workflows,
    Domain::Analytics,
];

impl Domain {
    pub fn name(self) -> &'static str {
        match self {
            Domain::Agents => "agents",
            Domain::Conversations => "conversations",
            Domain::Contacts => "contacts",
            Domain::Calendars => "calendars",
            Domain::Workflows => "workflows",
            Domain::Analytics => "analytics",
        }
    }

    pub async fn run(self, client: &Client) -> Result<(), Failure> {
        let result = match self {
            Domain::Agents => agents(client).await,
            Domain::Conversations => conversations(client).await,
            Domain::Contacts => contacts(client).await,
            Domain::Calendars => calendars(client).await,
            Domain::Workflows => workflows(client).await,
            Domain::Analytics => analytics(client).await,
        };
        result.map_err(|mut f| {
            f.domain = self.name();
            f
        })
    }
}

/// Runs the domains in order, stopping at the first failure.
pub async fn walk(client: &Client, domains: &[Domain]) -> Result<(), Failure> {
    for domain in domains {
        domain.run(client).await?;
    }
    Ok(())
}

/// What failed and where, for a person: one line.
#[derive(Debug)]
pub struct Failure {
    pub domain: &'static str,
    pub step: &'static str,
    pub error: ayra::Error,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.domain)?;
        if !self.step.is_empty() {
            write!(f, ", {}", self.step)?;
        }
        write!(f, ": {}", self.error)
    }
}

impl From<ayra::Error> for Failure {
    fn from(error: ayra::Error) -> Self {
        Failure {
            domain: "",
            step: "",
            error,
        }
    }
}

/// Names the step a call belongs to, for the failure message.
trait Step<T> {
    fn step(self, what: &'static str) -> Result<T, Failure>;
}

impl<T> Step<T> for ayra::Result<T> {
    fn step(self, what: &'static str) -> Result<T, Failure> {
        self.map_err(|error| Failure {
            domain: "",
            step: what,
            error,
        })
    }
}

pub async fn agents(client: &Client) -> Result<(), Failure> {
    println!("== Agents");
    let voices = client.list_voices().send().await?;
    let voice = &voices.data[0];
    println!(
        "  {} voices, e.g. {} ({})",
        voices.meta.total, voice.name, voice.language
    );
    let zones = client.list_timezones().per_page(100).send().await?;
    println!("  {} time zones", zones.meta.total);
    let agent = client
        .create_agent()
        .body_map(|b| {
            b.name("Tour front desk")
                .voice_id(&voice.id)
                .prompt("You answer calls for a dental clinic. Be brief and kind.")
                .language("en-US")
        })
        .send()
        .await?
        .into_data();
    println!(
        "  created {} \"{}\" ({})",
        agent.id, agent.name, agent.status
    );
    let agent = client
        .update_agent()
        .agent_id(&agent.id)
        .body_map(|b| b.first_message("Hello, this is the clinic."))
        .send()
        .await?
        .into_data();
    println!(
        "  first message set: \"{}\"",
        agent.first_message.unwrap_or_default()
    );
    let disabled = client.disable_agent().agent_id(&agent.id).send().await?;
    println!("  disabled: status is now {}", disabled.data.status);
    let enabled = client.enable_agent().agent_id(&agent.id).send().await?;
    println!("  enabled: status is now {}", enabled.data.status);
    let archived = client.archive_agent().agent_id(&agent.id).send().await?;
    println!("  archived: status is now {}", archived.data.status);
    match client.enable_agent().agent_id(&agent.id).send().await {
        Err(e) if e.status() == Some(StatusCode::UNPROCESSABLE_ENTITY) => {
            println!("  enabling it again is refused: {e}")
        }
        Err(e) => return Err(e).step("enabling an archived agent"),
        Ok(_) => println!("  (the server re-enabled an archived agent)"),
    }
    let active = client
        .list_agents()
        .status(AgentStatus::Active)
        .send()
        .await?;
    println!("  {} active agents", active.meta.total);
    Ok(())
}

pub async fn conversations(client: &Client) -> Result<(), Failure> {
    println!("== Conversations");
    let done = client
        .list_conversations()
        .status(ConversationStatus::Completed)
        .per_page(5)
        .send()
        .await?;
    println!("  {} completed conversations", done.meta.total);
    let Some(conv) = done.data.iter().find(|c| c.has_recording) else {
        println!("  (none with a recording)");
        return Ok(());
    };
    println!(
        "  {} {} {} -> {}, {}s, outcome {}",
        conv.id,
        conv.direction,
        conv.from_number,
        conv.to_number,
        conv.duration_seconds.unwrap_or(0),
        conv.outcome
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default()
    );
    let transcript = client
        .get_conversation_transcript()
        .conversation_id(&conv.id)
        .send()
        .await?;
    for segment in transcript.data.segments.iter().take(3) {
        println!("    [{}] {}", segment.speaker, segment.text);
    }
    let path = std::env::temp_dir().join(format!("{}.mp3", conv.id));
    let bytes = client
        .get_conversation_recording()
        .conversation_id(&conv.id)
        .send()
        .await?
        .save(&path)
        .await?;
    println!("  recording saved to {} ({bytes} bytes)", path.display());
    let metrics = client
        .get_conversation_analytics()
        .conversation_id(&conv.id)
        .send()
        .await?
        .into_data();
    println!(
        "  talk ratio {:.2}, sentiment {:.2}",
        metrics.talk_ratio, metrics.sentiment
    );
    let live = client
        .list_conversations()
        .status(ConversationStatus::InProgress)
        .per_page(1)
        .send()
        .await?;
    if let Some(live) = live.data.first() {
        let events: Vec<_> = client.conversation_events(&live.id).try_collect().await?;
        let kinds: Vec<String> = events.iter().map(|e| e.type_.to_string()).collect();
        println!(
            "  followed live {} to its end: {} events ({})",
            live.id,
            events.len(),
            kinds.join(", ")
        );
    }
    Ok(())
}

pub async fn contacts(client: &Client) -> Result<(), Failure> {
    println!("== Contacts");
    let key = format!("visits_{}", Utc::now().timestamp_subsec_nanos());
    client
        .create_custom_field()
        .body_map(|b| b.key(&key).label("Visits").type_(CustomFieldType::Number))
        .send()
        .await?;
    // Sent twice under one Idempotency-Key: the second is a replay of the
    // first, and no second contact is created.
    let create = || {
        client
            .create_contact()
            .idempotency_key(format!("tour-{key}"))
            .body_map(|b| {
                b.first_name("Ada")
                    .last_name("Lovelace")
                    .email("ada@example.com")
                    .custom_fields(json!({ &key: 3 }))
            })
    };
    let contact = create().send().await?.into_data();
    println!(
        "  created {} {} with {key} = {}",
        contact.id, contact.first_name, contact.custom_fields[&key]
    );
    let again = create().send().await?;
    println!(
        "  sent again with the same key: replayed {}, same contact {}",
        again.is_replay(),
        again.data.id == contact.id
    );
    let tagged = client
        .add_contact_tags()
        .contact_id(&contact.id)
        .body_map(|b| b.tags(["vip", "tour"]))
        .send()
        .await?;
    println!("  tags: {}", tagged.data.tags.join(", "));
    let vips: Vec<_> = client
        .list_contacts()
        .tag("vip")
        .per_page(100)
        .collect_up_to(1000)
        .await?;
    println!(
        "  {} contacts tagged vip (streamed across pages)",
        vips.len()
    );
    match client
        .update_contact()
        .contact_id(&contact.id)
        .body_map(|b| b.custom_fields(json!({ &key: "three" })))
        .send()
        .await
    {
        Err(e) => println!(
            "  a text value for a number field is refused on field {}",
            e.api().and_then(|a| a.field.as_deref()).unwrap_or("-")
        ),
        Ok(_) => println!("  (the server accepted a text value for a number field)"),
    }
    let someone = client.list_conversations().per_page(1).send().await?;
    if let Some(contact_id) = someone.data.first().and_then(|c| c.contact_id.clone()) {
        let history = client
            .list_contact_interactions()
            .contact_id(&contact_id)
            .send()
            .await?;
        println!(
            "  {contact_id} has {} interactions, latest: {}",
            history.meta.total,
            history
                .data
                .first()
                .map(|i| i.summary.as_str())
                .unwrap_or("-")
        );
    }
    Ok(())
}

pub async fn calendars(client: &Client) -> Result<(), Failure> {
    println!("== Calendars");
    let calendars = client
        .list_calendars()
        .send()
        .await
        .step("listing calendars")?;
    let calendar = &calendars.data[0];
    println!(
        "  {} calendars; using {} ({})",
        calendars.meta.total, calendar.name, calendar.timezone
    );
    let start = calendars.meta.timestamp + Days::days(21);
    let free = free_slots(client, &calendar.id, start, start + Days::days(7)).await?;
    println!("  {} free 30-minute slots in that week", free.len());
    // A weekly series needs the same slot free four weeks running: try the
    // free slots in turn until one is (the whole series books or none does).
    let mut booked = None;
    for slot in free.iter().take(20) {
        let attempt = client
            .create_appointment()
            .body_map(|b| {
                b.calendar_id(&calendar.id)
                    .title("Check-up")
                    .start(slot.start)
                    .duration_minutes(30)
                    .recurrence(
                        Recurrence::builder()
                            .frequency(RecurrenceFrequency::Weekly)
                            .count(4),
                    )
            })
            .send()
            .await;
        match attempt {
            Ok(response) => {
                booked = Some(response.into_data());
                break;
            }
            Err(e) if e.error_code() == Some(ErrorCode::SlotUnavailable) => {
                println!(
                    "  {} is taken in a later week, trying the next slot",
                    slot.start
                );
            }
            Err(e) => return Err(e).step("booking a weekly series"),
        }
    }
    let Some(series) = booked else {
        println!("  no slot is free four weeks running");
        return Ok(());
    };
    println!(
        "  booked weekly series {} starting {}",
        series.series_id.as_deref().unwrap_or("-"),
        series.start
    );
    // Move the first appointment to the next slot still free after it (asked
    // of the server: other bookings may sit right after it).
    let later = free_slots(
        client,
        &calendar.id,
        series.end,
        series.start + Days::days(7),
    )
    .await?;
    match later.first() {
        Some(slot) => {
            let moved = client
                .update_appointment()
                .appointment_id(&series.id)
                .body_map(|b| b.start(slot.start).end(slot.end))
                .send()
                .await
                .step("moving the first appointment")?;
            println!("  moved the first one to {}", moved.data.start);
        }
        None => println!("  no free slot in the week after it to move the first one to"),
    }
    client
        .cancel_appointment()
        .appointment_id(&series.id)
        .body_map(|b| b.scope(CancelScope::Series))
        .send()
        .await
        .step("cancelling the series")?;
    let cancelled = client
        .list_appointments()
        .calendar_id(&calendar.id)
        .status(AppointmentStatus::Cancelled)
        .send()
        .await
        .step("listing cancelled appointments")?;
    println!(
        "  cancelled the series: {} cancelled appointments on this calendar",
        cancelled.meta.total
    );
    Ok(())
}

/// The free 30-minute slots of a calendar between two instants.
async fn free_slots(
    client: &Client,
    calendar_id: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<ayra::types::Slot>, Failure> {
    let free = client
        .get_calendar_availability()
        .calendar_id(calendar_id)
        .start(start)
        .end(end)
        .duration_minutes(30)
        .send()
        .await
        .step("asking for free slots")?;
    Ok(free.into_data().slots)
}

pub async fn workflows(client: &Client) -> Result<(), Failure> {
    println!("== Workflows");
    let workflow = client
        .create_workflow()
        .body_map(|b| {
            b.name("Follow up after a call")
                .trigger_type(WorkflowTriggerType::Api)
                .steps([WorkflowStep::builder().type_("send_sms").config(json!({}))])
        })
        .send()
        .await?
        .into_data();
    let run = client
        .trigger_workflow()
        .workflow_id(&workflow.id)
        .body_map(|b| b.input(json!({ "contact": "cnt_demo" })))
        .send()
        .await?
        .into_data();
    println!("  triggered {} on {}: {}", run.id, workflow.id, run.status);
    let run = client
        .wait_for_workflow_execution(&run.id, Duration::from_secs(30))
        .await?;
    if run.is_succeeded() {
        println!("  it succeeded: result {}", json!(run.result));
    } else {
        println!("  it ended {}", run.status);
    }
    Ok(())
}

pub async fn analytics(client: &Client) -> Result<(), Failure> {
    println!("== Analytics");
    let now = client
        .get_realtime_metrics()
        .send()
        .await
        .step("reading realtime metrics")?;
    println!(
        "  right now: {} active, {} queued",
        now.data.active_conversations, now.data.queued_conversations
    );
    let end = now.meta.timestamp;
    let summary = client
        .get_analytics_summary()
        .start(end - Days::days(30))
        .end(end)
        .granularity(Granularity::Week)
        .send()
        .await?
        .into_data();
    println!(
        "  last 30 days: {} conversations, {} completed, avg {:.0}s, {} weekly buckets",
        summary.totals.conversations,
        summary.totals.completed,
        summary.totals.average_duration_seconds,
        summary.series.len()
    );
    let report = client
        .create_report()
        .body_map(|b| {
            b.type_(ReportType::AgentPerformance).parameters(
                ReportParameters::builder()
                    .start(end - Days::days(30))
                    .end(end),
            )
        })
        .send()
        .await?
        .into_data();
    let report = client
        .wait_for_report(&report.id, Duration::from_secs(30))
        .await?;
    println!("  report {} {}", report.id, report.status);
    let export = client
        .create_export()
        .body_map(|b| {
            b.resource(ExportResource::Contacts)
                .format(ExportFormat::Csv)
        })
        .send()
        .await?
        .into_data();
    let export = client
        .wait_for_export(&export.id, Duration::from_secs(30))
        .await?;
    let mut csv = Vec::new();
    client
        .download_export()
        .export_id(&export.id)
        .send()
        .await?
        .write_to(&mut csv)
        .await?;
    let lines = csv.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count();
    println!(
        "  export {} {}: {} CSV lines, header: {}",
        export.id,
        export.status,
        lines,
        String::from_utf8_lossy(csv.split(|b| *b == b'\n').next().unwrap_or_default())
    );
    Ok(())
}
