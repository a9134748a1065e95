//! One walk-through per domain of the API, shared by the examples: `tour`
//! runs them all, `agents`, `contacts`, ... run one each.
#![allow(dead_code)]

use ayra::chrono::{Duration as Days, Utc};
use ayra::prelude::*;
use futures::TryStreamExt;
use std::time::Duration;

pub async fn agents(client: &Client) -> ayra::Result<()> {
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
                .voice_id(voice.id.clone())
                .prompt("You answer calls for a dental clinic. Be brief and kind.")
                .language("en-US")
        })
        .send()
        .await?
        .into_inner()
        .data;
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
        .into_inner()
        .data;
    println!(
        "  first message set: {:?}",
        agent.first_message.unwrap_or_default()
    );
    let disabled = client.disable_agent().agent_id(&agent.id).send().await?;
    println!("  disabled: status is now {}", disabled.data.status);
    let enabled = client.enable_agent().agent_id(&agent.id).send().await?;
    println!("  enabled: status is now {}", enabled.data.status);
    let archived = client.archive_agent().agent_id(&agent.id).send().await?;
    println!("  archived: status is now {}", archived.data.status);
    match client.enable_agent().agent_id(&agent.id).send().await {
        Err(e) => println!("  enabling it again is refused: {e}"),
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

pub async fn conversations(client: &Client) -> ayra::Result<()> {
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
        .into_inner()
        .data;
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

pub async fn contacts(client: &Client) -> ayra::Result<()> {
    println!("== Contacts");
    let key = format!("visits_{}", Utc::now().timestamp_subsec_nanos());
    client
        .create_custom_field()
        .body_map(|b| {
            b.key(key.clone())
                .label("Visits")
                .type_(CustomFieldType::Number)
        })
        .send()
        .await?;
    let mut fields = serde_json::Map::new();
    fields.insert(key.clone(), 3.into());
    let contact = client
        .create_contact()
        .body_map(|b| {
            b.first_name("Ada")
                .last_name("Lovelace")
                .email("ada@example.com")
                .custom_fields(fields)
        })
        .send()
        .await?
        .into_inner()
        .data;
    println!(
        "  created {} {} with {key} = {}",
        contact.id, contact.first_name, contact.custom_fields[&key]
    );
    let tagged = client
        .add_contact_tags()
        .contact_id(&contact.id)
        .body_map(|b| b.tags(vec!["vip".to_string(), "tour".to_string()]))
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
    let mut wrong = serde_json::Map::new();
    wrong.insert(key.clone(), "three".into());
    match client
        .update_contact()
        .contact_id(&contact.id)
        .body_map(|b| b.custom_fields(wrong))
        .send()
        .await
    {
        Err(e) => println!(
            "  a text value for a number field is refused on field {:?}",
            e.api().and_then(|a| a.field.clone())
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

pub async fn calendars(client: &Client) -> ayra::Result<()> {
    println!("== Calendars");
    let calendars = client.list_calendars().send().await?;
    let calendar = &calendars.data[0];
    println!(
        "  {} calendars; using {} ({})",
        calendars.meta.total, calendar.name, calendar.timezone
    );
    let start = Utc::now() + Days::days(21);
    let free = client
        .get_calendar_availability()
        .calendar_id(&calendar.id)
        .start(start)
        .end(start + Days::days(7))
        .duration_minutes(30)
        .send()
        .await?;
    println!(
        "  {} free 30-minute slots in that week",
        free.data.slots.len()
    );
    // A weekly series needs the same slot free four weeks running: try the
    // free slots in turn until one is (the whole series books or none does).
    let mut booked = None;
    for slot in free.data.slots.iter().take(20) {
        let recurrence = Recurrence::builder()
            .frequency(RecurrenceFrequency::Weekly)
            .count(Some(std::num::NonZeroU64::new(4).expect("non-zero")));
        let attempt = client
            .create_appointment()
            .body_map(|b| {
                b.calendar_id(calendar.id.clone())
                    .title("Check-up")
                    .start(slot.start)
                    .duration_minutes(Some(30))
                    .recurrence(Some(
                        Recurrence::try_from(recurrence).expect("valid recurrence"),
                    ))
            })
            .send()
            .await;
        match attempt {
            Ok(response) => {
                booked = Some(response.into_inner().data);
                break;
            }
            Err(e) if e.code() == Some("slot_unavailable") => {
                println!(
                    "  {} is taken in a later week, trying the next slot",
                    slot.start
                );
            }
            Err(e) => return Err(e),
        }
    }
    let Some(series) = booked else {
        println!("  no slot is free four weeks running");
        return Ok(());
    };
    let series_id = series.series_id.clone().unwrap_or_default();
    println!(
        "  booked weekly series {series_id} starting {}",
        series.start
    );
    let moved = client
        .update_appointment()
        .appointment_id(&series.id)
        .body_map(|b| {
            b.start(Some(series.start + Days::hours(1)))
                .end(Some(series.end + Days::hours(1)))
        })
        .send()
        .await?;
    println!("  moved the first one to {}", moved.data.start);
    client
        .cancel_appointment()
        .appointment_id(&series.id)
        .body_map(|b| b.scope(CancelScope::Series))
        .send()
        .await?;
    let cancelled = client
        .list_appointments()
        .calendar_id(&calendar.id)
        .status(AppointmentStatus::Cancelled)
        .send()
        .await?;
    println!(
        "  cancelled the series: {} cancelled appointments on this calendar",
        cancelled.meta.total
    );
    Ok(())
}

pub async fn workflows(client: &Client) -> ayra::Result<()> {
    println!("== Workflows");
    let step = WorkflowStep::builder()
        .type_("send_sms")
        .config(serde_json::Map::new());
    let workflow = client
        .create_workflow()
        .body_map(|b| {
            b.name("Follow up after a call")
                .trigger_type(WorkflowTriggerType::Api)
                .steps(vec![WorkflowStep::try_from(step).expect("valid step")])
        })
        .send()
        .await?
        .into_inner()
        .data;
    let mut input = serde_json::Map::new();
    input.insert("contact".into(), "cnt_demo".into());
    let run = client
        .trigger_workflow()
        .workflow_id(&workflow.id)
        .body_map(|b| b.input(input))
        .send()
        .await?
        .into_inner()
        .data;
    println!("  triggered {} on {}: {}", run.id, workflow.id, run.status);
    let run = client
        .wait_for_workflow_execution(&run.id, Duration::from_secs(30))
        .await?;
    println!(
        "  it {}: result {}",
        run.status,
        serde_json::Value::from(run.result.unwrap_or_default())
    );
    Ok(())
}

pub async fn analytics(client: &Client) -> ayra::Result<()> {
    println!("== Analytics");
    let end = Utc::now();
    let summary = client
        .get_analytics_summary()
        .start(end - Days::days(30))
        .end(end)
        .granularity(Granularity::Week)
        .send()
        .await?
        .into_inner()
        .data;
    println!(
        "  last 30 days: {} conversations, {} completed, avg {:.0}s, {} weekly buckets",
        summary.totals.conversations,
        summary.totals.completed,
        summary.totals.average_duration_seconds,
        summary.series.len()
    );
    let now = client
        .get_realtime_metrics()
        .send()
        .await?
        .into_inner()
        .data;
    println!(
        "  right now: {} active, {} queued",
        now.active_conversations, now.queued_conversations
    );
    let params = ReportParameters::builder()
        .start(end - Days::days(30))
        .end(end);
    let report = client
        .create_report()
        .body_map(|b| b.type_(ReportType::AgentPerformance).parameters(params))
        .send()
        .await?
        .into_inner()
        .data;
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
        .into_inner()
        .data;
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
