//! Demo data, generated deterministically from a seed: agents, contacts,
//! conversations with transcripts over the last 90 days, appointments,
//! workflows and executions.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

use crate::fixtures::{FIXTURES, ago, plus};
use crate::model::*;
use crate::state::{Ids, State, random_id};

pub(crate) const DEMO_CONTACTS: usize = 3000;
pub(crate) const DEMO_CONVERSATIONS: usize = 3000;

/// A fresh id from the demo data's own random stream, unique across accounts.
fn id(rng: &mut StdRng, ids: &Ids, prefix: &str) -> String {
    loop {
        let id = random_id(rng, prefix);
        if ids.claim(&id) {
            return id;
        }
    }
}

fn pick<T: Copy>(rng: &mut StdRng, v: &[T]) -> T {
    v[rng.random_range(0..v.len())]
}

const FIRST: &[&str] = &[
    "Camille", "Jordan", "Alex", "Sam", "Lea", "Hugo", "Chloe", "Lucas", "Emma", "Nathan", "Ines",
    "Louis", "Manon", "Jules", "Sarah", "Adam", "Zoe", "Gabriel", "Alice", "Raphael", "Olivia",
    "Noah", "Mia", "Liam", "Sofia", "Ethan", "Ava", "Mason", "Isabella", "Lucia", "Mateo", "Yuki",
    "Aiko", "Omar", "Fatima", "Priya", "Arjun", "Chen", "Mei", "Kofi",
];
const LAST: &[&str] = &[
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "Smith", "Johnson", "Williams",
    "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor", "Nguyen", "Kim", "Chen",
    "Singh", "Patel", "Rossi", "Muller", "Schmidt", "Tanaka", "Sato", "Silva", "Santos", "Novak",
    "Kowalski", "Okafor",
];
const TAGS: &[&str] = &[
    "patient",
    "vip",
    "lead",
    "new",
    "follow_up",
    "newsletter",
    "returning",
    "insurance_pending",
];
const INSURERS: &[&str] = &[
    "MGEN",
    "AXA",
    "Allianz",
    "Harmonie",
    "Aetna",
    "Cigna",
    "Blue Cross",
];
const SERVICES: &[&str] = &[
    "cleaning",
    "check-up",
    "whitening",
    "filling",
    "consultation",
    "X-ray",
];
const DAYS: &[&str] = &["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"];
const TIMES: &[&str] = &["9 am", "10:30", "11 am", "2 pm", "3:30", "4 pm"];

/// (name, voice, language, business)
const AGENTS: &[(&str, &str, &str, &str)] = &[
    (
        "After-hours Answering Service",
        "voice_kai06",
        "en-US",
        "Lumiere Dental",
    ),
    (
        "Sales Qualifier",
        "voice_noah03",
        "en-GB",
        "Brightside Solar",
    ),
    (
        "Appointment Reminder",
        "voice_ava",
        "en-US",
        "Lumiere Dental",
    ),
    (
        "Customer Support Line",
        "voice_wren09",
        "en-AU",
        "Koala Internet",
    ),
    (
        "Clinic Reception Lyon",
        "voice_camille05",
        "fr-FR",
        "Clinique des Terreaux",
    ),
    (
        "Billing Assistant",
        "voice_aria01",
        "en-US",
        "Lumiere Dental",
    ),
    ("Survey Caller", "voice_sofia04", "es-ES", "Encuestas Sol"),
];

fn dialogue(
    rng: &mut StdRng,
    outcome: &str,
    name: &str,
    business: &str,
) -> Vec<(&'static str, String)> {
    let service = pick(rng, SERVICES);
    let day = pick(rng, DAYS);
    let time = pick(rng, TIMES);
    let greet = format!("Hello, thanks for calling {business}. How can I help you today?");
    let s = |x: &str| x.to_string();
    match outcome {
        "appointment_booked" => vec![
            ("agent", greet),
            (
                "contact",
                format!("Hi, this is {name}. I'd like to book a {service}, please."),
            ),
            (
                "agent",
                format!("Of course, {name}. I have {day} at {time}. Does that work for you?"),
            ),
            (
                "contact",
                s(pick(
                    rng,
                    &[
                        "Perfect, thank you.",
                        "That works, great.",
                        "Yes, that's good.",
                    ],
                )),
            ),
            (
                "agent",
                s("You're all set. We'll send you a confirmation by text. Anything else?"),
            ),
            (
                "contact",
                s(pick(
                    rng,
                    &[
                        "No, that's all. Thanks!",
                        "No thanks, have a nice day.",
                        "That's wonderful, bye!",
                    ],
                )),
            ),
        ],
        "transferred" => vec![
            ("agent", greet),
            (
                "contact",
                s(pick(
                    rng,
                    &[
                        "I have a problem with my last invoice, it's wrong.",
                        "I've been waiting for a refund for weeks, this is frustrating.",
                        "I need to talk to someone about a complaint.",
                    ],
                )),
            ),
            (
                "agent",
                s("I'm sorry to hear that. Let me transfer you to a colleague who can help."),
            ),
            (
                "contact",
                s(pick(
                    rng,
                    &["Okay.", "Fine, thanks.", "Please hurry, I'm annoyed."],
                )),
            ),
        ],
        "voicemail" => vec![(
            "agent",
            format!(
                "Hi {name}, this is {business} calling about your {service}. Please call us back. Thank you!"
            ),
        )],
        "abandoned" => vec![
            ("agent", greet),
            (
                "contact",
                s(pick(
                    rng,
                    &["Hello? ...", "Sorry, wrong number.", "Ugh, never mind."],
                )),
            ),
        ],
        _ => vec![
            ("agent", greet),
            (
                "contact",
                s(pick(
                    rng,
                    &[
                        "Hi, what are your opening hours on Saturday?",
                        "Hello, do you accept my insurance?",
                        "Hi, where exactly is your office?",
                        "Can you tell me how much a cleaning costs?",
                    ],
                )),
            ),
            (
                "agent",
                s(pick(
                    rng,
                    &[
                        "We are open from 9 am to 1 pm on Saturdays.",
                        "Yes, we work with most insurers, including yours.",
                        "We're at 12 rue de la Paix, on the second floor.",
                        "A standard cleaning is 80 euros.",
                    ],
                )),
            ),
            (
                "contact",
                s(pick(
                    rng,
                    &[
                        "Great, thanks a lot!",
                        "Good to know, thank you.",
                        "Okay, thanks.",
                        "That's helpful, thanks!",
                    ],
                )),
            ),
        ],
    }
}

/// Timed segments: about 320 ms per word, short gaps, rare interruptions.
fn timed(rng: &mut StdRng, lines: Vec<(&'static str, String)>) -> Vec<Segment> {
    let mut t = rng.random_range(0..800i64);
    let mut out = Vec::with_capacity(lines.len());
    for (speaker, text) in lines {
        let words = text.split_whitespace().count() as i64;
        let len = words * 320 + rng.random_range(300..900);
        let start = if !out.is_empty() && rng.random_bool(0.06) {
            (t - rng.random_range(200..600)).max(0)
        } else {
            t + rng.random_range(250..900)
        };
        out.push(Segment {
            speaker,
            text,
            start_ms: start,
            end_ms: start + len,
        });
        t = start + len;
    }
    out
}

fn phone(rng: &mut StdRng, n: usize) -> String {
    if rng.random_bool(0.5) {
        format!("+33{}{:08}", pick(rng, &[6, 7]), n * 7919 % 100_000_000)
    } else {
        format!("+1415{:07}", 1_000_000 + (n * 104_729) % 9_000_000)
    }
}

pub(crate) fn seed(st: &mut State, seed: u64, now: DateTime<Utc>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let ids = st.ids.clone();
    let day = 86_400i64;

    // Agents: the fixtures' active one (in the default account) plus 7 generated ones.
    let mut agents: Vec<(String, String, &str)> = Vec::new();
    if st.agents.contains_key(FIXTURES.agent_active) {
        agents.push((
            FIXTURES.agent_active.to_string(),
            FIXTURES.agent_active_phone.to_string(),
            "Lumiere Dental",
        ));
    }
    for (i, (name, voice, lang, business)) in AGENTS.iter().enumerate() {
        let aid = id(&mut rng, &ids, "agt");
        let number = format!("+1415555{:04}", 200 + i);
        let status = if i == 5 { "disabled" } else { "active" };
        let created = ago(now, (120 - i as i64 * 10) * day);
        let seq = st.next_seq();
        st.agents.insert(
            aid.clone(),
            Agent {
                id: aid.clone(),
                name: name.to_string(),
                description: Some(format!("{name} for {business}.")),
                status: status.into(),
                voice_id: voice.to_string(),
                language: lang.to_string(),
                prompt: format!(
                    "You are the {name} of {business}. Be brief, friendly and accurate."
                ),
                first_message: Some(format!(
                    "Hello, thanks for calling {business}. How can I help you today?"
                )),
                phone_number: Some(number.clone()),
                timezone: if *lang == "fr-FR" {
                    "Europe/Paris"
                } else {
                    "America/New_York"
                }
                .into(),
                max_call_duration_seconds: 1200,
                metadata: Default::default(),
                created_at: created,
                updated_at: created,
                seq,
            },
        );
        agents.push((aid, number, business));
    }

    // Contacts, oldest first.
    let mut contacts: Vec<(String, String, Option<String>)> = Vec::with_capacity(DEMO_CONTACTS);
    for n in 0..DEMO_CONTACTS {
        let cid = id(&mut rng, &ids, "cnt");
        let first = pick(&mut rng, FIRST).to_string();
        let last = (!rng.random_bool(0.1)).then(|| pick(&mut rng, LAST).to_string());
        let has_email = rng.random_bool(0.8);
        let has_phone = !has_email || rng.random_bool(0.75);
        let email = has_email.then(|| {
            format!(
                "{}.{}{}@{}",
                first.to_lowercase(),
                last.as_deref().unwrap_or("contact").to_lowercase(),
                n,
                pick(&mut rng, &["example.com", "example.org", "example.net"])
            )
        });
        let ph = has_phone.then(|| phone(&mut rng, n + 17));
        let mut tags: Vec<String> = Vec::new();
        for _ in 0..rng.random_range(0..4) {
            let t = pick(&mut rng, TAGS).to_string();
            if !tags.contains(&t) {
                tags.push(t);
            }
        }
        let mut custom = Map::new();
        if rng.random_bool(0.5) {
            custom.insert("insurance_provider".into(), json!(pick(&mut rng, INSURERS)));
        }
        if rng.random_bool(0.4) {
            let y = rng.random_range(1945..2006);
            let m = rng.random_range(1..13);
            let d = rng.random_range(1..29);
            custom.insert(
                "date_of_birth".into(),
                json!(format!("{y:04}-{m:02}-{d:02}")),
            );
        }
        if rng.random_bool(0.5) {
            custom.insert("newsletter".into(), json!(rng.random_bool(0.6)));
        }
        if rng.random_bool(0.3) {
            custom.insert("loyalty_points".into(), json!(rng.random_range(0..2000)));
        }
        // Spread over the last 180 days, in creation order.
        let created = ago(
            now,
            180 * day - (n as i64 * 180 * day / DEMO_CONTACTS as i64) + rng.random_range(0..3600),
        );
        let seq = st.next_seq();
        contacts.push((cid.clone(), first.clone(), ph.clone()));
        st.contacts.insert(
            cid.clone(),
            Contact {
                id: cid,
                first_name: first,
                last_name: last,
                email,
                phone: ph,
                tags,
                custom_fields: custom,
                created_at: created,
                updated_at: plus(created, rng.random_range(0..day)).min(now),
                seq,
            },
        );
    }

    // Conversations over the last 90 days.
    let outcomes: &[(&str, u32)] = &[
        ("resolved", 35),
        ("appointment_booked", 25),
        ("transferred", 10),
        ("voicemail", 10),
        ("no_answer", 8),
        ("abandoned", 7),
        ("failed", 5),
    ];
    let total_w: u32 = outcomes.iter().map(|o| o.1).sum();
    let mut booked: Vec<(String, Option<String>, DateTime<Utc>)> = Vec::new();
    for n in 0..DEMO_CONVERSATIONS {
        let cid = id(&mut rng, &ids, "conv");
        let agent = &agents[if rng.random_bool(0.35) {
            0
        } else {
            rng.random_range(0..agents.len())
        }];
        let contact = rng
            .random_bool(0.75)
            .then(|| contacts[rng.random_range(0..contacts.len())].clone());
        let mut w = rng.random_range(0..total_w);
        let mut outcome = "resolved";
        for (o, weight) in outcomes {
            if w < *weight {
                outcome = o;
                break;
            }
            w -= weight;
        }
        let direction = if outcome == "voicemail" || outcome == "no_answer" || rng.random_bool(0.2)
        {
            "outbound"
        } else {
            "inbound"
        };
        // Business-hours-ish start times.
        let days_ago = rng.random_range(0..90i64);
        let base = now.date_naive().and_time(NaiveTime::MIN).and_utc();
        let mut started = plus(
            ago(base, days_ago * day),
            rng.random_range(7 * 3600..20 * 3600),
        );
        if started > ago(now, 900) {
            started = ago(now, 900 + rng.random_range(0..3 * 3600));
        }
        let name = contact
            .as_ref()
            .map(|c| c.1.clone())
            .unwrap_or_else(|| "there".into());
        let other = contact
            .as_ref()
            .and_then(|c| c.2.clone())
            .unwrap_or_else(|| phone(&mut rng, n + 50_000));
        let (from, to) = if direction == "inbound" {
            (other, agent.1.clone())
        } else {
            (agent.1.clone(), other)
        };
        let (status, outcome_v, segments) = match outcome {
            "no_answer" => ("failed", Some("no_answer"), vec![]),
            "failed" => ("failed", None, vec![]),
            o => {
                let lines = dialogue(&mut rng, o, &name, agent.2);
                ("completed", Some(o), timed(&mut rng, lines))
            }
        };
        let last_ms = segments.iter().map(|s| s.end_ms).max().unwrap_or(0);
        let duration = if segments.is_empty() {
            0
        } else {
            last_ms / 1000 + rng.random_range(2..40)
        };
        let mut actions = Vec::new();
        if let Some(c) = &contact
            && !segments.is_empty()
        {
            actions.push(AgentAction {
                at_ms: segments[0].end_ms + 200,
                action: "lookup_contact",
                details: json!({"contact_id": c.0}),
            });
        }
        if outcome == "transferred" {
            actions.push(AgentAction {
                at_ms: last_ms.saturating_sub(500).max(0),
                action: "transfer_call",
                details: json!({"to": "+33180000000"}),
            });
        }
        if outcome == "appointment_booked" {
            booked.push((cid.clone(), contact.as_ref().map(|c| c.0.clone()), started));
        }
        let summary = match outcome {
            "appointment_booked" => format!("{name} booked an appointment."),
            "transferred" => format!("{name} was transferred to a colleague."),
            "voicemail" => "Left a voicemail.".to_string(),
            "no_answer" => "No answer.".to_string(),
            "abandoned" => "The caller hung up early.".to_string(),
            "failed" => "The call could not be connected.".to_string(),
            _ => format!("Answered {name}'s question."),
        };
        let has_recording = status == "completed" && outcome != "voicemail"
            || (outcome == "voicemail" && rng.random_bool(0.5));
        let seq = st.next_seq();
        let metrics = metrics(&segments);
        st.conversations.insert(
            cid.clone(),
            Conversation {
                id: cid,
                agent_id: agent.0.clone(),
                contact_id: contact.map(|c| c.0),
                direction,
                status,
                outcome: outcome_v,
                from_number: from,
                to_number: to,
                started_at: started,
                ended_at: Some(plus(started, duration)),
                duration_seconds: Some(duration),
                has_recording,
                summary: Some(summary),
                segments,
                actions,
                planned: None,
                metrics,
                seq,
            },
        );
    }
    // A few live calls right now.
    for i in 0..3 {
        let cid = id(&mut rng, &ids, "conv");
        let agent = &agents[1 + i % (agents.len() - 1)];
        let lines = dialogue(&mut rng, "resolved", "there", agent.2);
        let mut segments = timed(&mut rng, lines);
        let pending = segments.split_off(2);
        let seq = st.next_seq();
        let metrics = metrics(&segments);
        st.conversations.insert(
            cid.clone(),
            Conversation {
                id: cid,
                agent_id: agent.0.clone(),
                contact_id: None,
                direction: "inbound",
                status: "in_progress",
                outcome: None,
                from_number: phone(&mut rng, 90_000 + i),
                to_number: agent.1.clone(),
                started_at: ago(now, 10 + i as i64 * 7),
                ended_at: None,
                duration_seconds: None,
                has_recording: false,
                summary: None,
                segments,
                actions: vec![],
                planned: Some(Planned {
                    outcome: "resolved",
                    summary: "Answered the caller's question.".into(),
                    has_recording: true,
                    pending,
                }),
                metrics,
                seq,
            },
        );
    }

    // Appointments on the calendars, 30 days back to 30 days ahead, never overlapping.
    let cals: Vec<Calendar> = st.calendars.clone();
    let mut taken: Vec<(String, DateTime<Utc>, DateTime<Utc>)> = st
        .appointments
        .values()
        .map(|a| (a.calendar_id.clone(), a.start, a.end))
        .collect();
    let today = now.date_naive();
    for offset in -30i64..=30 {
        let Some(date) = today.checked_add_signed(Duration::days(offset)) else {
            continue;
        };
        for cal in &cals {
            let local_date = date;
            let Some((open, close)) = cal.day_bounds(local_date) else {
                continue;
            };
            let slot = Duration::minutes(cal.slot_duration_minutes);
            let mut t = open;
            let per_day = if cal.open_min == 0 { 2 } else { 4 };
            let mut made = 0;
            while let Some(e) = t.checked_add_signed(slot) {
                if e > close || made >= per_day {
                    break;
                }
                if rng.random_bool(0.12)
                    && !taken
                        .iter()
                        .any(|(c, s, en)| *c == cal.id && *s < e && t < *en)
                {
                    let aid = id(&mut rng, &ids, "apt");
                    let contact = rng
                        .random_bool(0.85)
                        .then(|| contacts[rng.random_range(0..contacts.len())].0.clone());
                    let status = if e < now {
                        if rng.random_bool(0.9) {
                            "completed"
                        } else {
                            "cancelled"
                        }
                    } else if rng.random_bool(0.1) {
                        "cancelled"
                    } else {
                        "scheduled"
                    };
                    let created = ago(t.min(now), rng.random_range(day..14 * day));
                    let seq = st.next_seq();
                    st.appointments.insert(
                        aid.clone(),
                        Appointment {
                            id: aid,
                            calendar_id: cal.id.clone(),
                            contact_id: contact,
                            title: format!("{} appointment", capitalize(pick(&mut rng, SERVICES))),
                            notes: None,
                            start: t,
                            end: e,
                            status,
                            series_id: None,
                            cancellation_reason: (status == "cancelled")
                                .then(|| "Rescheduled by the contact.".to_string()),
                            created_at: created,
                            updated_at: created,
                            seq,
                        },
                    );
                    if status != "cancelled" {
                        taken.push((cal.id.clone(), t, e));
                    }
                    made += 1;
                }
                t = e;
            }
        }
    }

    // Workflows and executions.
    let steps_email = json!([{"type": "send_email", "config": {"to": "{{contact.email}}", "subject": "Your call summary"}}]);
    let steps_welcome = json!([
        {"type": "send_sms", "config": {"to": "{{contact.phone}}", "body": "Welcome!"}},
        {"type": "update_contact", "config": {"add_tags": ["welcomed"]}}
    ]);
    let mut wf_ids: Vec<String> = st
        .workflows
        .contains_key(FIXTURES.workflow_active)
        .then(|| FIXTURES.workflow_active.to_string())
        .into_iter()
        .collect();
    for (name, trigger, steps) in [
        ("Post-call summary email", "conversation_ended", steps_email),
        ("Welcome new contact", "contact_created", steps_welcome),
    ] {
        let wid = id(&mut rng, &ids, "wf");
        let created = ago(now, 60 * day);
        let seq = st.next_seq();
        st.workflows.insert(
            wid.clone(),
            Workflow {
                id: wid.clone(),
                name: name.into(),
                description: None,
                status: "active".into(),
                trigger_type: trigger.into(),
                steps: steps.as_array().cloned().unwrap_or_default(),
                metadata: Default::default(),
                created_at: created,
                updated_at: created,
                seq,
            },
        );
        wf_ids.push(wid);
    }
    for (conv_id, contact, started) in booked.iter().take(80) {
        let xid = id(&mut rng, &ids, "wfx");
        let fail = rng.random_bool(0.08);
        let wid = wf_ids[rng.random_range(0..wf_ids.len())].clone();
        let mut input = Map::new();
        input.insert("conversation_id".into(), json!(conv_id));
        if let Some(c) = contact {
            input.insert("contact_id".into(), json!(c));
        }
        let seq = st.next_seq();
        st.executions.insert(
            xid.clone(),
            Execution {
                id: xid,
                workflow_id: wid,
                input,
                result: if fail {
                    Value::Null
                } else {
                    json!({"steps_completed": 1})
                },
                error: if fail {
                    "Step 1 failed: the provider timed out.".into()
                } else {
                    String::new()
                },
                clock: JobClock {
                    created: plus(*started, 300),
                    duration: Duration::seconds(2),
                    fail,
                },
                seq,
            },
        );
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
