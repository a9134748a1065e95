//! The fixed data set every sandbox starts with (with or without demo data).

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use serde_json::{Map, Value, json};

use crate::model::*;
use crate::state::State;

/// Ids of the fixed data set every sandbox holds (the spec's example ids where
/// the spec has one), so tests and examples can address them directly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fixtures {
    /// An `active` agent ("Front Desk Receptionist", phone +14155550100, voice `voice_aria01`; the spec's create_agent example (+14155550123) is free).
    pub agent_active: &'static str,
    /// The phone number of `agent_active` (taken: creating another agent with it is a 422).
    pub agent_active_phone: &'static str,
    /// A `disabled` agent.
    pub agent_disabled: &'static str,
    /// An `archived` agent (enable/disable/update are 422 `agent_archived`).
    pub agent_archived: &'static str,
    /// A voice that exists.
    pub voice: &'static str,
    /// A contact with email, phone, tags `patient` and `vip`, and custom fields.
    pub contact: &'static str,
    /// A contact with a phone number only.
    pub contact_phone_only: &'static str,
    /// A contact with an email only.
    pub contact_email_only: &'static str,
    /// A `completed` conversation with a recording, a transcript, outcome `appointment_booked`.
    pub conversation_completed: &'static str,
    /// A `completed` conversation without a known contact (outcome `resolved`).
    pub conversation_resolved: &'static str,
    /// A conversation `in_progress`: its event stream plays the rest of the call, then ends it.
    pub conversation_in_progress: &'static str,
    /// A `queued` conversation: its event stream starts it, plays it and ends it.
    pub conversation_queued: &'static str,
    /// A `failed` conversation (outcome `no_answer`, no recording).
    pub conversation_failed: &'static str,
    /// A `completed` conversation without a recording (recording is a 404).
    pub conversation_no_recording: &'static str,
    /// A calendar in Europe/Paris, Monday-Friday 09:00-17:30, 30-minute slots.
    pub calendar: &'static str,
    /// A calendar in America/New_York, Monday-Saturday 08:00-18:00, 15-minute slots.
    pub calendar_new_york: &'static str,
    /// A calendar in UTC open every day 00:00-23:59, 30-minute slots (easy to book in tests).
    pub calendar_always_open: &'static str,
    /// A `scheduled` appointment with `contact` on `calendar`, in the coming days.
    pub appointment: &'static str,
    /// A recurring series of 3 scheduled appointments on `calendar`.
    pub series: &'static str,
    /// The first appointment of `series`.
    pub series_first_appointment: &'static str,
    /// A `cancelled` appointment.
    pub appointment_cancelled: &'static str,
    /// A `completed` (past) appointment.
    pub appointment_completed: &'static str,
    /// Custom field keys that exist: text, date, boolean, number.
    pub custom_field_text: &'static str,
    /// A custom field of type `date`.
    pub custom_field_date: &'static str,
    /// A custom field of type `boolean`.
    pub custom_field_boolean: &'static str,
    /// A custom field of type `number`.
    pub custom_field_number: &'static str,
    /// An `active` workflow (2 steps).
    pub workflow_active: &'static str,
    /// A `paused` workflow (triggering it is a 422 `workflow_paused`).
    pub workflow_paused: &'static str,
    /// A succeeded execution of `workflow_active` for `contact`.
    pub execution_succeeded: &'static str,
    /// A failed execution of `workflow_active`.
    pub execution_failed: &'static str,
    /// A succeeded `agent_performance` report.
    pub report_succeeded: &'static str,
    /// A failed report.
    pub report_failed: &'static str,
    /// A succeeded CSV export of `agent_active`'s conversations.
    pub export_succeeded: &'static str,
}

/// The fixture ids.
pub const FIXTURES: Fixtures = Fixtures {
    agent_active: "agt_8Kq2mZ4vT1",
    agent_active_phone: "+14155550100",
    agent_disabled: "agt_3Hf9nR2pW7",
    agent_archived: "agt_5Rc8wQ1eZ6",
    voice: "voice_aria01",
    contact: "cnt_5hJ2kW8rY4",
    contact_phone_only: "cnt_9Lm3nB6vC1",
    contact_email_only: "cnt_2Xy7pD4sF8",
    conversation_completed: "conv_3nF7xQ9pL2",
    conversation_resolved: "conv_9Wd3eF6gH1",
    conversation_in_progress: "conv_7Tg2hY5uJ8",
    conversation_queued: "conv_4Bq8nM2kL6",
    conversation_failed: "conv_6Vp1cX9zR3",
    conversation_no_recording: "conv_1Ks5dG7hJ9",
    calendar: "cal_7tR4yU2iO9",
    calendar_new_york: "cal_2pL6kJ9hG3",
    calendar_always_open: "cal_0aV4lW8yX5",
    appointment: "apt_2wE5rT8yU1",
    series: "ser_9qA3sD6fG2",
    series_first_appointment: "apt_6yH1jK4lM7",
    appointment_cancelled: "apt_3cN6vB9xZ2",
    appointment_completed: "apt_4dF7gH0jK3",
    custom_field_text: "insurance_provider",
    custom_field_date: "date_of_birth",
    custom_field_boolean: "newsletter",
    custom_field_number: "loyalty_points",
    workflow_active: "wf_4zX7cV1bN3",
    workflow_paused: "wf_8Pn2mQ5rS9",
    execution_succeeded: "wfx_6mK9jH2gF5",
    execution_failed: "wfx_1Bv4cX7zA0",
    report_succeeded: "rpt_1pL4oK7iJ0",
    report_failed: "rpt_5Mn8bV2cX4",
    export_succeeded: "exp_3uY6tR9eW2",
};

pub(crate) fn ago(now: DateTime<Utc>, secs: i64) -> DateTime<Utc> {
    now.checked_sub_signed(Duration::seconds(secs))
        .unwrap_or(now)
}

pub(crate) fn plus(t: DateTime<Utc>, secs: i64) -> DateTime<Utc> {
    t.checked_add_signed(Duration::seconds(secs)).unwrap_or(t)
}

/// Segments from (speaker, text, start_ms, end_ms).
pub(crate) fn segs(v: &[(&'static str, &str, i64, i64)]) -> Vec<Segment> {
    v.iter()
        .map(|(speaker, text, s, e)| Segment {
            speaker,
            text: text.to_string(),
            start_ms: *s,
            end_ms: *e,
        })
        .collect()
}

/// The first `weekday` strictly after `from`.
fn next_weekday(from: NaiveDate, weekday: Weekday) -> NaiveDate {
    let mut d = from.succ_opt().unwrap_or(from);
    for _ in 0..7 {
        if d.weekday() == weekday {
            break;
        }
        d = d.succ_opt().unwrap_or(d);
    }
    d
}

fn paris(date: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    let t = NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN);
    chrono_tz::Europe::Paris
        .from_local_datetime(&date.and_time(t))
        .earliest()
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_else(|| date.and_time(t).and_utc())
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

#[allow(clippy::too_many_arguments)]
fn conversation(
    st: &mut State,
    id: &str,
    agent: &str,
    contact: Option<&str>,
    direction: &'static str,
    status: &'static str,
    outcome: Option<&'static str>,
    from: &str,
    to: &str,
    started: DateTime<Utc>,
    duration: Option<i64>,
    has_recording: bool,
    summary: Option<&str>,
    segments: Vec<Segment>,
    actions: Vec<AgentAction>,
    planned: Option<Planned>,
) {
    let seq = st.next_seq();
    let metrics = metrics(&segments);
    st.conversations.insert(
        id.to_string(),
        Conversation {
            id: id.to_string(),
            agent_id: agent.to_string(),
            contact_id: contact.map(str::to_string),
            direction,
            status,
            outcome,
            from_number: from.to_string(),
            to_number: to.to_string(),
            started_at: started,
            ended_at: duration.map(|d| plus(started, d)),
            duration_seconds: duration,
            has_recording,
            summary: summary.map(str::to_string),
            segments,
            actions,
            planned,
            metrics,
            seq,
        },
    );
}

/// The four custom field definitions of the fixtures; with `fixed_ids`
/// false each gets a fresh id (an account of its own that has demo data).
pub(crate) fn custom_fields(st: &mut State, now: DateTime<Utc>, fixed_ids: bool) {
    let f = FIXTURES;
    let day = 86_400;
    for (i, (id, key, label, kind)) in [
        (
            "cf_1aB2c3D4",
            f.custom_field_text,
            "Insurance provider",
            "text",
        ),
        ("cf_5eF6g7H8", f.custom_field_date, "Date of birth", "date"),
        (
            "cf_9iJ0k1L2",
            f.custom_field_boolean,
            "Newsletter opt-in",
            "boolean",
        ),
        (
            "cf_3mN4o5P6",
            f.custom_field_number,
            "Loyalty points",
            "number",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let id = if fixed_ids {
            id.to_string()
        } else {
            st.new_id("cf")
        };
        st.custom_fields.push(CustomField {
            id,
            key: key.into(),
            label: label.into(),
            kind: kind.into(),
            created_at: ago(now, 200 * day - i as i64 * 60),
        });
    }
}

/// Inserts the fixed data set.
pub(crate) fn seed(st: &mut State, now: DateTime<Utc>) {
    let f = FIXTURES;
    let day = 86_400;

    custom_fields(st, now, true);

    // Agents.
    let agent = |st: &mut State,
                 id: &str,
                 name: &str,
                 status: &str,
                 voice: &str,
                 lang: &str,
                 phone: Option<&str>,
                 created: i64| {
        let seq = st.next_seq();
        let (prompt, first) = if lang == "fr-FR" {
            (
                "Tu appelles les patients la veille de leur rendez-vous pour le confirmer.",
                None,
            )
        } else {
            (
                "You are Ava, the friendly receptionist of Lumiere Dental. Greet callers, answer questions about opening hours and book, move or cancel appointments.",
                Some("Hello, thanks for calling Lumiere Dental. How can I help you today?"),
            )
        };
        st.agents.insert(
            id.into(),
            Agent {
                id: id.into(),
                name: name.into(),
                description: (status == "active").then(|| {
                    "Answers inbound calls for the Paris clinic and books appointments.".to_string()
                }),
                status: status.into(),
                voice_id: voice.into(),
                language: lang.into(),
                prompt: prompt.into(),
                first_message: first.map(str::to_string),
                phone_number: phone.map(str::to_string),
                timezone: "Europe/Paris".into(),
                max_call_duration_seconds: if status == "active" { 1800 } else { 600 },
                metadata: Default::default(),
                created_at: ago(now, created),
                updated_at: ago(now, created / 2),
                seq,
            },
        );
    };
    agent(
        st,
        f.agent_active,
        "Front Desk Receptionist",
        "active",
        "voice_aria01",
        "en-US",
        Some(f.agent_active_phone),
        150 * day,
    );
    agent(
        st,
        f.agent_disabled,
        "Outbound Reminder Caller",
        "disabled",
        "voice_leo02",
        "fr-FR",
        None,
        140 * day,
    );
    agent(
        st,
        f.agent_archived,
        "Legacy IVR Agent",
        "archived",
        "voice_noah03",
        "en-US",
        None,
        300 * day,
    );

    // Contacts.
    let contact = |st: &mut State,
                   id: &str,
                   first: &str,
                   last: Option<&str>,
                   email: Option<&str>,
                   phone: Option<&str>,
                   tags: &[&str],
                   custom: Value,
                   created: i64| {
        let seq = st.next_seq();
        st.contacts.insert(
            id.into(),
            Contact {
                id: id.into(),
                first_name: first.into(),
                last_name: last.map(str::to_string),
                email: email.map(str::to_string),
                phone: phone.map(str::to_string),
                tags: tags.iter().map(|t| t.to_string()).collect(),
                custom_fields: obj(custom),
                created_at: ago(now, created),
                updated_at: ago(now, created / 3),
                seq,
            },
        );
    };
    contact(
        st,
        f.contact,
        "Camille",
        Some("Martin"),
        Some("camille.martin@example.com"),
        Some("+33612345678"),
        &["patient", "vip"],
        json!({"insurance_provider": "MGEN", "date_of_birth": "1988-04-12", "newsletter": true, "loyalty_points": 120}),
        120 * day,
    );
    contact(
        st,
        f.contact_phone_only,
        "Jordan",
        None,
        None,
        Some("+14155550199"),
        &[],
        json!({}),
        100 * day,
    );
    contact(
        st,
        f.contact_email_only,
        "Alex",
        Some("Chen"),
        Some("alex.chen@example.org"),
        None,
        &["lead"],
        json!({"newsletter": false}),
        90 * day,
    );

    // Calendar days.
    let today_paris = now.with_timezone(&chrono_tz::Europe::Paris).date_naive();
    let monday = next_weekday(
        today_paris
            .checked_add_signed(Duration::days(2))
            .unwrap_or(today_paris),
        Weekday::Mon,
    );
    let wednesday = next_weekday(monday, Weekday::Wed);
    let tuesday = next_weekday(monday, Weekday::Tue);
    let last_friday = next_weekday(
        today_paris
            .checked_sub_signed(Duration::days(14))
            .unwrap_or(today_paris),
        Weekday::Fri,
    );

    // Conversations.
    let booked_start = ago(now, 3 * 3600);
    conversation(
        st,
        f.conversation_completed,
        f.agent_active,
        Some(f.contact),
        "inbound",
        "completed",
        Some("appointment_booked"),
        "+33612345678",
        f.agent_active_phone,
        booked_start,
        Some(275),
        true,
        Some("Caller asked for a cleaning appointment; booked for Monday at 14:00."),
        segs(&[
            (
                "agent",
                "Hello, thanks for calling Lumiere Dental. How can I help you today?",
                0,
                3900,
            ),
            (
                "contact",
                "Hi, I'd like to book a cleaning next week.",
                4300,
                6800,
            ),
            (
                "agent",
                "Of course. I have Monday at 2 pm. Does that work for you?",
                7200,
                11100,
            ),
            ("contact", "Perfect, thank you.", 11600, 12700),
            (
                "agent",
                "You're all set. We'll text you a confirmation. Anything else?",
                13200,
                17000,
            ),
            ("contact", "No, that's great. Thanks, bye!", 17400, 19000),
        ]),
        vec![
            AgentAction {
                at_ms: 5000,
                action: "lookup_contact",
                details: json!({"contact_id": f.contact}),
            },
            AgentAction {
                at_ms: 12900,
                action: "book_appointment",
                details: json!({"appointment_id": f.appointment}),
            },
        ],
        None,
    );
    conversation(
        st,
        f.conversation_resolved,
        f.agent_active,
        None,
        "inbound",
        "completed",
        Some("resolved"),
        "+33655501234",
        f.agent_active_phone,
        ago(now, day + 2 * 3600),
        Some(82),
        true,
        Some("Caller asked for the opening hours."),
        segs(&[
            (
                "agent",
                "Hello, thanks for calling Lumiere Dental. How can I help you today?",
                0,
                3800,
            ),
            (
                "contact",
                "Hi, what are your opening hours on Saturday?",
                4200,
                6900,
            ),
            (
                "agent",
                "We are open from 9 am to 1 pm on Saturdays.",
                7300,
                10100,
            ),
            ("contact", "Great, thanks a lot!", 10500, 11800),
        ]),
        vec![],
        None,
    );
    conversation(
        st,
        f.conversation_in_progress,
        f.agent_active,
        None,
        "inbound",
        "in_progress",
        None,
        "+33698765432",
        f.agent_active_phone,
        ago(now, 20),
        None,
        false,
        None,
        segs(&[
            (
                "agent",
                "Hello, thanks for calling Lumiere Dental. How can I help you today?",
                0,
                3900,
            ),
            (
                "contact",
                "Hi, I'm calling to move my appointment.",
                4200,
                7000,
            ),
        ]),
        vec![AgentAction {
            at_ms: 11900,
            action: "lookup_contact",
            details: json!({"contact_id": null}),
        }],
        Some(Planned {
            outcome: "resolved",
            summary: "Caller asked to move an appointment; moved to Thursday at 10:00.".into(),
            has_recording: true,
            pending: segs(&[
                ("agent", "Sure, can I have your name please?", 7400, 9800),
                ("contact", "It's Dominique Laurent.", 10200, 11800),
                (
                    "agent",
                    "Thanks Dominique, I've moved it to Thursday at 10 am. Anything else?",
                    12300,
                    16900,
                ),
                ("contact", "No, thank you, that's perfect.", 17300, 18900),
            ]),
        }),
    );
    conversation(
        st,
        f.conversation_queued,
        f.agent_active,
        Some(f.contact_phone_only),
        "outbound",
        "queued",
        None,
        f.agent_active_phone,
        "+14155550199",
        ago(now, 5),
        None,
        false,
        None,
        vec![],
        vec![],
        Some(Planned {
            outcome: "resolved",
            summary: "Confirmed tomorrow's appointment with Jordan.".into(),
            has_recording: true,
            pending: segs(&[
                (
                    "agent",
                    "Hi Jordan, this is Ava from Lumiere Dental, calling to confirm your appointment tomorrow at 9.",
                    0,
                    5200,
                ),
                ("contact", "Yes, I'll be there, thanks.", 5600, 7100),
                ("agent", "Great, see you tomorrow!", 7500, 8900),
            ]),
        }),
    );
    conversation(
        st,
        f.conversation_failed,
        f.agent_disabled,
        Some(f.contact_phone_only),
        "outbound",
        "failed",
        Some("no_answer"),
        "+33180000001",
        "+14155550199",
        ago(now, 2 * day),
        Some(0),
        false,
        Some("No answer after 30 seconds of ringing."),
        vec![],
        vec![],
        None,
    );
    conversation(
        st,
        f.conversation_no_recording,
        f.agent_disabled,
        Some(f.contact),
        "outbound",
        "completed",
        Some("voicemail"),
        "+33180000001",
        "+33612345678",
        ago(now, 4 * day),
        Some(24),
        false,
        Some("Left a voicemail reminding Camille of her appointment."),
        segs(&[(
            "agent",
            "Bonjour Camille, c'est le cabinet Lumiere Dental: nous vous rappelons votre rendez-vous de demain.",
            1200,
            7800,
        )]),
        vec![],
        None,
    );

    // Appointments.
    let apt = |st: &mut State,
               id: &str,
               cal: &str,
               contact: Option<&str>,
               title: &str,
               start: DateTime<Utc>,
               mins: i64,
               status: &'static str,
               series: Option<&str>,
               created: DateTime<Utc>| {
        let seq = st.next_seq();
        st.appointments.insert(
            id.into(),
            Appointment {
                id: id.into(),
                calendar_id: cal.into(),
                contact_id: contact.map(str::to_string),
                title: title.into(),
                notes: (status == "scheduled" && series.is_none())
                    .then(|| "Booked by phone with the front desk agent.".to_string()),
                start,
                end: plus(start, mins * 60),
                status,
                series_id: series.map(str::to_string),
                cancellation_reason: (status == "cancelled")
                    .then(|| "Patient is travelling.".to_string()),
                created_at: created,
                updated_at: created,
                seq,
            },
        );
    };
    apt(
        st,
        f.appointment,
        f.calendar,
        Some(f.contact),
        "Dental cleaning",
        paris(monday, 14, 0),
        30,
        "scheduled",
        None,
        plus(booked_start, 13),
    );
    let series_ids = [
        f.series_first_appointment,
        "apt_7zJ2kL5mN8",
        "apt_8aK3lM6nO9",
    ];
    for (i, id) in series_ids.into_iter().enumerate() {
        let d = wednesday
            .checked_add_signed(Duration::weeks(2 * i as i64))
            .unwrap_or(wednesday);
        apt(
            st,
            id,
            f.calendar,
            Some(f.contact),
            "Orthodontic follow-up",
            paris(d, 10, 0),
            30,
            "scheduled",
            Some(f.series),
            ago(now, 10 * day),
        );
    }
    apt(
        st,
        f.appointment_cancelled,
        f.calendar,
        Some(f.contact_phone_only),
        "Check-up",
        paris(tuesday, 11, 0),
        30,
        "cancelled",
        None,
        ago(now, 6 * day),
    );
    apt(
        st,
        f.appointment_completed,
        f.calendar,
        Some(f.contact),
        "Consultation",
        paris(last_friday, 9, 30),
        30,
        "completed",
        None,
        ago(now, 30 * day),
    );

    // Workflows and executions.
    let wf = |st: &mut State,
              id: &str,
              name: &str,
              desc: Option<&str>,
              status: &str,
              trigger: &str,
              steps: Value,
              created: i64| {
        let seq = st.next_seq();
        st.workflows.insert(
            id.into(),
            Workflow {
                id: id.into(),
                name: name.into(),
                description: desc.map(str::to_string),
                status: status.into(),
                trigger_type: trigger.into(),
                steps: steps.as_array().cloned().unwrap_or_default(),
                metadata: Default::default(),
                created_at: ago(now, created),
                updated_at: ago(now, created - 3600),
                seq,
            },
        );
    };
    wf(
        st,
        f.workflow_active,
        "Send booking confirmation SMS",
        Some("Texts the contact a confirmation after an appointment is booked."),
        "active",
        "appointment_booked",
        json!([
            {"type": "send_sms", "config": {"to": "{{contact.phone}}", "body": "Your appointment on {{appointment.start}} is confirmed."}},
            {"type": "update_contact", "config": {"add_tags": ["confirmed"]}}
        ]),
        80 * day,
    );
    wf(
        st,
        f.workflow_paused,
        "Sync lead to CRM",
        None,
        "paused",
        "api",
        json!([{"type": "http_request", "config": {"method": "POST", "url": "https://crm.example.com/hooks/leads"}}]),
        70 * day,
    );
    let exec = |st: &mut State,
                id: &str,
                input: Value,
                result: Value,
                error: &str,
                created: DateTime<Utc>| {
        let seq = st.next_seq();
        st.executions.insert(
            id.into(),
            Execution {
                id: id.into(),
                workflow_id: f.workflow_active.into(),
                input: obj(input),
                result,
                error: error.into(),
                clock: JobClock {
                    created,
                    duration: Duration::seconds(3),
                    fail: !error.is_empty(),
                },
                seq,
            },
        );
    };
    exec(
        st,
        f.execution_succeeded,
        json!({"contact_id": f.contact, "appointment_id": f.appointment}),
        json!({"sms_message_id": "SM7f3a9c", "contact_updated": true, "steps_completed": 2}),
        "",
        plus(booked_start, 20),
    );
    exec(
        st,
        f.execution_failed,
        json!({"contact_id": f.contact_phone_only}),
        Value::Null,
        "Step 1 (send_sms) failed: the SMS provider rejected the number +14155550199.",
        ago(now, 3 * day),
    );
}

/// Reports and exports of the fixed set (computed once everything else is seeded).
pub(crate) fn seed_jobs(st: &mut State, now: DateTime<Utc>) {
    let f = FIXTURES;
    let day = 86_400;
    let params = ReportParams {
        start: ago(now, 30 * day),
        end: now,
        agent_id: None,
    };
    let result = crate::handlers::analytics::compute_report(st, "agent_performance", &params);
    let seq = st.next_seq();
    st.reports.insert(
        f.report_succeeded.into(),
        Report {
            id: f.report_succeeded.into(),
            kind: "agent_performance".into(),
            params,
            result,
            error: String::new(),
            clock: JobClock {
                created: ago(now, 3600),
                duration: Duration::seconds(9),
                fail: false,
            },
            seq,
        },
    );
    let seq = st.next_seq();
    st.reports.insert(
        f.report_failed.into(),
        Report {
            id: f.report_failed.into(),
            kind: "contact_growth".into(),
            params: ReportParams {
                start: ago(now, 60 * day),
                end: ago(now, 30 * day),
                agent_id: None,
            },
            result: Value::Null,
            error: "The report could not be computed; please retry.".into(),
            clock: JobClock {
                created: ago(now, 2 * day),
                duration: Duration::seconds(4),
                fail: true,
            },
            seq,
        },
    );
    let filters = obj(json!({"agent_id": f.agent_active}));
    if let Ok((rows, content)) =
        crate::handlers::analytics::render_export(st, "conversations", "csv", &filters)
    {
        st.exports.insert(
            f.export_succeeded.into(),
            Export {
                id: f.export_succeeded.into(),
                resource: "conversations".into(),
                format: "csv".into(),
                filters,
                rows,
                content,
                error: String::new(),
                clock: JobClock {
                    created: ago(now, 1800),
                    duration: Duration::seconds(12),
                    fail: false,
                },
            },
        );
    }
}
