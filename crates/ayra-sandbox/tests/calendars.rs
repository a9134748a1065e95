//! Calendars: availability, booking, series, rescheduling and cancelling.

mod common;

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Europe::Paris;
use common::{Env, assert_list};
use serde_json::{Value, json};

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A UTC day a few days ahead of the sandbox's clock on the always-open
/// calendar (00:00 of that day).
fn day_ahead(env: &Env, days: i64) -> DateTime<Utc> {
    (env.sb.now() + Duration::days(days))
        .date_naive()
        .and_time(NaiveTime::MIN)
        .and_utc()
}

/// At `h:m` Paris time, the Monday a week after the demo data's booked one
/// (the first Monday after the day after tomorrow, in Paris): a week with
/// no demo appointment, whatever the day and hour. It once was "a Monday 8
/// days ahead in UTC", which on a Sunday was the booked week.
fn paris_monday(env: &Env, h: u32, m: u32) -> DateTime<Utc> {
    let today = env.sb.now().with_timezone(&Paris).date_naive();
    let mut d = today + Duration::days(10);
    while d.weekday() != Weekday::Mon {
        d = d.succ_opt().unwrap();
    }
    Paris
        .from_local_datetime(&d.and_hms_opt(h, m, 0).unwrap())
        .single()
        .expect("no clock change on a Monday")
        .to_utc()
}

async fn book(env: &Env, body: Value) -> common::Resp {
    env.post("/appointments", &body).await
}

#[tokio::test]
async fn availability_excludes_booked_slots() {
    let env = Env::new().await;
    let cal = env.sb.fixtures().calendar_always_open;
    let day = day_ahead(&env, 3);
    let path = format!(
        "/calendars/{cal}/availability?start={}&end={}&duration_minutes=60",
        ts(day),
        ts(day + Duration::days(1))
    );
    let r = env.get(&path).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.data()["timezone"], "UTC");
    assert_eq!(r.data()["duration_minutes"], 60);
    let slots = r.data()["slots"].as_array().unwrap().clone();
    // Every 30 minutes from 00:00, 60 minutes long, ending by 23:59.
    assert_eq!(slots.len(), 46);
    assert_eq!(slots[0]["start"], ts(day));
    assert_eq!(slots[0]["end"], ts(day + Duration::hours(1)));
    // Book 10:00-10:30: slots overlapping it disappear.
    let b = book(
        &env,
        json!({"calendar_id": cal, "title": "Demo", "start": ts(day + Duration::hours(10))}),
    )
    .await;
    assert_eq!(b.status, 201, "{}", b.json);
    assert_eq!(
        b.data()["end"],
        ts(day + Duration::minutes(630)),
        "calendar slot duration by default"
    );
    let after = env.get(&path).await.data()["slots"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(after.len(), slots.len() - 2);
    assert!(
        !after
            .iter()
            .any(|s| s["start"] == ts(day + Duration::minutes(570))
                || s["start"] == ts(day + Duration::hours(10)))
    );
    // Cancelled appointments free their slot.
    let id = b.data()["id"].as_str().unwrap();
    env.post(
        &format!("/appointments/{id}/cancel"),
        &json!({"scope": "this"}),
    )
    .await;
    assert_eq!(
        env.get(&path).await.data()["slots"]
            .as_array()
            .unwrap()
            .len(),
        slots.len()
    );
}

#[tokio::test]
async fn availability_follows_working_hours_and_time_zone() {
    let env = Env::new().await;
    let cal = env.sb.fixtures().calendar;
    let monday = paris_monday(&env, 0, 0);
    let r = env
        .get(&format!(
            "/calendars/{cal}/availability?start={}&end={}&timezone=America/New_York",
            ts(monday),
            ts(monday + Duration::days(7))
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.data()["timezone"], "America/New_York");
    let slots = r.data()["slots"].as_array().unwrap();
    // Monday to Friday, 09:00-17:30 Paris: 17 half-hour slots a day.
    assert_eq!(slots.len(), 5 * 17);
    assert_eq!(slots[0]["start"], ts(paris_monday(&env, 9, 0)));
    assert_eq!(slots[16]["end"], ts(paris_monday(&env, 17, 30)));
    // Errors.
    let base = format!("/calendars/{cal}/availability");
    env.get(&format!("{base}?start={}", ts(monday)))
        .await
        .assert_error(400, "invalid_parameter", Some("end"));
    env.get(&format!("{base}?start={}&end={}", ts(monday), ts(monday)))
        .await
        .assert_error(422, "invalid_time_range", Some("end"));
    env.get(&format!(
        "{base}?start={}&end={}",
        ts(monday),
        ts(monday + Duration::days(32))
    ))
    .await
    .assert_error(422, "invalid_time_range", Some("end"));
    env.get(&format!(
        "{base}?start={}&end={}&timezone=Mars/Base",
        ts(monday),
        ts(monday + Duration::days(1))
    ))
    .await
    .assert_error(422, "invalid_timezone", Some("timezone"));
    env.get(&format!(
        "{base}?start={}&end={}&duration_minutes=4",
        ts(monday),
        ts(monday + Duration::days(1))
    ))
    .await
    .assert_error(400, "invalid_parameter", Some("duration_minutes"));
    env.get(&format!(
        "/calendars/cal_nope/availability?start={}&end={}",
        ts(monday),
        ts(monday + Duration::days(1))
    ))
    .await
    .assert_error(404, "resource_not_found", Some("calendar_id"));
}

#[tokio::test]
async fn booking_rules() {
    let env = Env::new().await;
    let f = env.sb.fixtures();
    let cal = f.calendar;
    let nine = paris_monday(&env, 9, 0);
    let ok = book(&env, json!({"calendar_id": cal, "contact_id": f.contact, "title": "Cleaning", "start": ts(nine), "duration_minutes": 45})).await;
    assert_eq!(ok.status, 201, "{}", ok.json);
    assert_eq!(ok.data()["end"], ts(nine + Duration::minutes(45)));
    assert_eq!(ok.data()["status"], "scheduled");
    assert!(ok.data()["series_id"].is_null());
    // Overlap.
    book(
        &env,
        json!({"calendar_id": cal, "title": "Clash", "start": ts(nine + Duration::minutes(30))}),
    )
    .await
    .assert_error(422, "slot_unavailable", Some("start"));
    // Outside working hours (before 09:00, after 17:30, weekend).
    book(
        &env,
        json!({"calendar_id": cal, "title": "Early", "start": ts(paris_monday(&env, 8, 30))}),
    )
    .await
    .assert_error(422, "slot_unavailable", Some("start"));
    book(
        &env,
        json!({"calendar_id": cal, "title": "Late", "start": ts(paris_monday(&env, 17, 15))}),
    )
    .await
    .assert_error(422, "slot_unavailable", Some("start"));
    book(&env, json!({"calendar_id": cal, "title": "Sunday", "start": ts(paris_monday(&env, 10, 0) - Duration::days(1))}))
        .await
        .assert_error(422, "slot_unavailable", Some("start"));
    // Time range and references.
    book(&env, json!({"calendar_id": cal, "title": "x", "start": ts(paris_monday(&env, 11, 0)), "end": ts(paris_monday(&env, 11, 30)), "duration_minutes": 30}))
        .await
        .assert_error(422, "invalid_time_range", Some("end"));
    book(&env, json!({"calendar_id": cal, "title": "x", "start": ts(paris_monday(&env, 11, 0)), "end": ts(paris_monday(&env, 10, 0))}))
        .await
        .assert_error(422, "invalid_time_range", Some("end"));
    book(
        &env,
        json!({"calendar_id": "cal_nowhere", "title": "x", "start": ts(nine)}),
    )
    .await
    .assert_error(422, "invalid_reference", Some("calendar_id"));
    book(&env, json!({"calendar_id": cal, "contact_id": "cnt_nobody", "title": "x", "start": ts(paris_monday(&env, 12, 0))}))
        .await
        .assert_error(422, "invalid_reference", Some("contact_id"));
    book(
        &env,
        json!({"calendar_id": cal, "title": "x", "start": "monday"}),
    )
    .await
    .assert_error(400, "invalid_field", Some("start"));
    book(
        &env,
        json!({"calendar_id": cal, "title": "", "start": ts(nine)}),
    )
    .await
    .assert_error(400, "invalid_field", Some("title"));
}

#[tokio::test]
async fn series_booking_is_atomic_and_cancellable() {
    let env = Env::new().await;
    let cal = env.sb.fixtures().calendar_always_open;
    let day = day_ahead(&env, 2) + Duration::hours(15);
    // Occupy the 4th daily occurrence: the whole series must fail.
    let blocker = book(
        &env,
        json!({"calendar_id": cal, "title": "Blocker", "start": ts(day + Duration::days(3))}),
    )
    .await;
    assert_eq!(blocker.status, 201);
    let before = env.sb.count(ayra_sandbox::Resource::Appointments);
    let series = json!({"calendar_id": cal, "title": "Daily stand-up", "start": ts(day), "duration_minutes": 15,
        "recurrence": {"frequency": "daily", "interval": 1, "count": 5, "until": null}});
    book(&env, series.clone())
        .await
        .assert_error(422, "slot_unavailable", Some("start"));
    assert_eq!(
        env.sb.count(ayra_sandbox::Resource::Appointments),
        before,
        "nothing booked"
    );
    // Free it and book again.
    let bid = blocker.data()["id"].as_str().unwrap();
    env.post(
        &format!("/appointments/{bid}/cancel"),
        &json!({"scope": "this", "reason": "moved"}),
    )
    .await;
    let r = book(&env, series).await;
    assert_eq!(r.status, 201, "{}", r.json);
    let sid = r.data()["series_id"].as_str().unwrap().to_string();
    assert!(sid.starts_with("ser_"));
    assert_eq!(
        r.data()["start"],
        ts(day),
        "the response is the first occurrence"
    );
    let all = assert_list(
        &env.get(&format!("/appointments?calendar_id={cal}&per_page=100"))
            .await,
    );
    let occ: Vec<&Value> = all
        .iter()
        .filter(|a| a["series_id"] == sid.as_str())
        .collect();
    assert_eq!(occ.len(), 5);
    for (i, a) in occ.iter().enumerate() {
        assert_eq!(a["start"], ts(day + Duration::days(i as i64)));
    }
    // Cancel one occurrence, then the rest of the series.
    let second = occ[1]["id"].as_str().unwrap().to_string();
    let c = env
        .post(
            &format!("/appointments/{second}/cancel"),
            &json!({"scope": "this", "reason": "holiday"}),
        )
        .await;
    assert_eq!(c.data()["status"], "cancelled");
    assert_eq!(c.data()["cancellation_reason"], "holiday");
    env.post(
        &format!("/appointments/{second}/cancel"),
        &json!({"scope": "this"}),
    )
    .await
    .assert_error(422, "appointment_not_scheduled", None);
    let third = occ[2]["id"].as_str().unwrap().to_string();
    let c = env
        .post(
            &format!("/appointments/{third}/cancel"),
            &json!({"scope": "series"}),
        )
        .await;
    assert_eq!(c.status, 200, "{}", c.json);
    let after = assert_list(
        &env.get(&format!(
            "/appointments?calendar_id={cal}&status=cancelled&per_page=100"
        ))
        .await,
    );
    assert_eq!(
        after
            .iter()
            .filter(|a| a["series_id"] == sid.as_str())
            .count(),
        5
    );
    let holiday = after.iter().find(|a| a["id"] == second.as_str()).unwrap();
    assert_eq!(
        holiday["cancellation_reason"], "holiday",
        "already-cancelled occurrences keep their reason"
    );
}

#[tokio::test]
async fn recurrence_rules() {
    let env = Env::new().await;
    let cal = env.sb.fixtures().calendar_always_open;
    let day = day_ahead(&env, 2) + Duration::hours(6);
    let rec =
        |r: Value| json!({"calendar_id": cal, "title": "R", "start": ts(day), "recurrence": r});
    book(
        &env,
        rec(json!({"frequency": "weekly", "count": 3, "until": ts(day + Duration::days(30))})),
    )
    .await
    .assert_error(422, "invalid_recurrence", Some("recurrence"));
    book(&env, rec(json!({"frequency": "weekly"})))
        .await
        .assert_error(422, "invalid_recurrence", Some("recurrence"));
    book(
        &env,
        rec(json!({"frequency": "daily", "until": ts(day + Duration::days(200))})),
    )
    .await
    .assert_error(422, "invalid_recurrence", Some("recurrence"));
    book(&env, rec(json!({"frequency": "hourly", "count": 2})))
        .await
        .assert_error(400, "invalid_field", Some("recurrence.frequency"));
    book(&env, rec(json!({"frequency": "daily", "count": 101})))
        .await
        .assert_error(400, "invalid_field", Some("recurrence.count"));
    // Weekly every 2 weeks until a date: occurrences up to and including it.
    let r = book(
        &env,
        rec(json!({"frequency": "weekly", "interval": 2, "until": ts(day + Duration::weeks(4))})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let sid = r.data()["series_id"].as_str().unwrap();
    let all = assert_list(
        &env.get(&format!("/appointments?calendar_id={cal}&per_page=100"))
            .await,
    );
    let starts: Vec<&str> = all
        .iter()
        .filter(|a| a["series_id"] == sid)
        .map(|a| a["start"].as_str().unwrap())
        .collect();
    assert_eq!(
        starts,
        [
            ts(day),
            ts(day + Duration::weeks(2)),
            ts(day + Duration::weeks(4))
        ]
    );
    // Monthly.
    let r = book(&env, json!({"calendar_id": cal, "title": "M", "start": ts(day + Duration::hours(2)), "recurrence": {"frequency": "monthly", "count": 3}})).await;
    assert_eq!(r.status, 201, "{}", r.json);
}

#[tokio::test]
async fn reschedule_with_patch() {
    let env = Env::new().await;
    let f = env.sb.fixtures();
    let cal = f.calendar_always_open;
    let day = day_ahead(&env, 4);
    let a = book(&env, json!({"calendar_id": cal, "title": "A", "start": ts(day + Duration::hours(9)), "duration_minutes": 60})).await;
    let b = book(
        &env,
        json!({"calendar_id": cal, "title": "B", "start": ts(day + Duration::hours(11))}),
    )
    .await;
    let aid = a.data()["id"].as_str().unwrap();
    // Moving onto B is refused; moving next to it works and keeps the duration.
    env.patch(
        &format!("/appointments/{aid}"),
        &json!({"start": ts(day + Duration::minutes(10 * 60 + 45))}),
    )
    .await
    .assert_error(422, "slot_unavailable", Some("start"));
    let r = env
        .patch(
            &format!("/appointments/{aid}"),
            &json!({"start": ts(day + Duration::hours(12)), "notes": "moved"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.data()["end"], ts(day + Duration::hours(13)));
    assert_eq!(r.data()["notes"], "moved");
    // Overlapping itself is fine (extend by 30 minutes).
    let r = env
        .patch(
            &format!("/appointments/{aid}"),
            &json!({"end": ts(day + Duration::minutes(13 * 60 + 30))}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    env.patch(
        &format!("/appointments/{aid}"),
        &json!({"end": ts(day + Duration::hours(11))}),
    )
    .await
    .assert_error(422, "invalid_time_range", Some("end"));
    // Only scheduled appointments change.
    let bid = b.data()["id"].as_str().unwrap();
    env.post(
        &format!("/appointments/{bid}/cancel"),
        &json!({"scope": "this"}),
    )
    .await;
    env.patch(&format!("/appointments/{bid}"), &json!({"title": "B2"}))
        .await
        .assert_error(422, "appointment_not_scheduled", None);
    env.patch(
        &format!("/appointments/{}", f.appointment_completed),
        &json!({"notes": "x"}),
    )
    .await
    .assert_error(422, "appointment_not_scheduled", None);
    // Fixtures: the seeded series.
    let s = assert_list(
        &env.get(&format!(
            "/appointments?calendar_id={}&status=scheduled",
            f.calendar
        ))
        .await,
    );
    assert_eq!(s.iter().filter(|a| a["series_id"] == f.series).count(), 3);
}

#[tokio::test]
async fn appointment_list_filters() {
    let env = Env::with(ayra_sandbox::Sandbox::builder().seed_demo_data(11)).await;
    let f = env.sb.fixtures();
    let items = assert_list(
        &env.get(&format!(
            "/appointments?contact_id={}&per_page=100",
            f.contact
        ))
        .await,
    );
    assert!(items.iter().all(|a| a["contact_id"] == f.contact));
    assert!(items.iter().any(|a| a["id"] == f.appointment));
    let starts: Vec<&str> = items.iter().map(|a| a["start"].as_str().unwrap()).collect();
    let mut sorted = starts.clone();
    sorted.sort();
    assert_eq!(starts, sorted, "earliest first");
    let now = ts(env.sb.now());
    let future = assert_list(
        &env.get(&format!(
            "/appointments?start_after={now}&status=scheduled&per_page=100"
        ))
        .await,
    );
    assert!(!future.is_empty());
    assert!(
        future
            .iter()
            .all(|a| a["start"].as_str().unwrap() >= now.as_str() && a["status"] == "scheduled")
    );
    env.get("/appointments?status=done").await.assert_error(
        400,
        "invalid_parameter",
        Some("status"),
    );
}
