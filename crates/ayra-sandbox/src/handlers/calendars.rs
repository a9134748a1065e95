//! Calendars, availability and appointments (with recurring series).

use chrono::{DateTime, Duration, Months, TimeZone, Utc};
use serde::Serialize;
use serde_json::json;

use crate::api::{ApiResult, Ctx};
use crate::error::ApiError;
use crate::filters::{AppointmentFilter, Source};
use crate::model::{Appointment, Calendar, ser_ts, to_value};
use crate::state::{State, lock};
use crate::validate::{Obj, is_id};

pub(crate) fn list(ctx: &Ctx) -> ApiResult {
    let pr = ctx.page()?;
    let st = lock(&ctx.state);
    let mut v: Vec<&Calendar> = st.calendars.iter().collect();
    v.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    ctx.list(pr, &v, |c| to_value(*c))
}

fn find_calendar<'s>(st: &'s State, id: &str) -> Result<&'s Calendar, ApiError> {
    st.calendar(id)
        .ok_or_else(|| ApiError::not_found("calendar_id", "calendar", id))
}

pub(crate) fn get(ctx: &Ctx, id: &str) -> ApiResult {
    let st = lock(&ctx.state);
    ctx.ok(200, to_value(find_calendar(&st, id)?))
}

#[derive(Serialize)]
struct Slot {
    #[serde(serialize_with = "ser_ts")]
    start: DateTime<Utc>,
    #[serde(serialize_with = "ser_ts")]
    end: DateTime<Utc>,
}

pub(crate) fn availability(ctx: &Ctx, id: &str) -> ApiResult {
    let start = ctx.q_datetime_req("start")?;
    let end = ctx.q_datetime_req("end")?;
    let duration = ctx.q_int("duration_minutes", 5, 480)?.unwrap_or(30);
    let tz = ctx.q_string("timezone", 1, 64)?;
    let st = lock(&ctx.state);
    let cal = find_calendar(&st, id)?;
    if let Some(tz) = &tz
        && !st.timezone_supported(tz)
    {
        return Err(ApiError::unprocessable(
            "invalid_timezone",
            Some("timezone"),
            format!("Unsupported time zone '{tz}'; see GET /timezones."),
        ));
    }
    if end <= start {
        return Err(ApiError::unprocessable(
            "invalid_time_range",
            Some("end"),
            "'end' must be after 'start'.",
        ));
    }
    if end - start > Duration::days(31) {
        return Err(ApiError::unprocessable(
            "invalid_time_range",
            Some("end"),
            "The range between 'start' and 'end' must be at most 31 days.",
        ));
    }
    let slots: Vec<Slot> = st
        .availability(cal, start, end, duration)
        .into_iter()
        .map(|(start, end)| Slot { start, end })
        .collect();
    ctx.ok(
        200,
        json!({
            "calendar_id": cal.id,
            "timezone": tz.unwrap_or_else(|| cal.timezone.clone()),
            "duration_minutes": duration,
            "slots": to_value(&slots),
        }),
    )
}

pub(crate) fn list_appointments(ctx: &Ctx) -> ApiResult {
    let pr = ctx.page()?;
    let f = AppointmentFilter::parse(&Source::Query(ctx))?;
    let st = lock(&ctx.state);
    let v = f.select(&st);
    ctx.list(pr, &v, |a| to_value(*a))
}

fn slot_unavailable(msg: String) -> ApiError {
    ApiError::unprocessable("slot_unavailable", Some("start"), msg)
}

fn bad_range(field: &str, msg: &str) -> ApiError {
    ApiError::unprocessable("invalid_time_range", Some(field), msg.to_string())
}

/// Occurrence start times of a recurrence, in the calendar's local time.
fn occurrences(
    cal: &Calendar,
    first: DateTime<Utc>,
    frequency: &str,
    interval: i64,
    count: Option<i64>,
    until: Option<DateTime<Utc>>,
) -> Result<Vec<DateTime<Utc>>, ApiError> {
    let invalid = |msg: &str| {
        ApiError::unprocessable("invalid_recurrence", Some("recurrence"), msg.to_string())
    };
    let local = first.with_timezone(&cal.tz).naive_local();
    let mut out = Vec::new();
    for n in 0..=100i64 {
        if let Some(c) = count
            && n >= c
        {
            break;
        }
        let step = n * interval;
        let naive = match frequency {
            "daily" => local.checked_add_signed(Duration::days(step)),
            "weekly" => local.checked_add_signed(Duration::weeks(step)),
            _ => u32::try_from(step)
                .ok()
                .and_then(|m| local.checked_add_months(Months::new(m))),
        };
        let Some(naive) = naive else {
            return Err(invalid("The recurrence goes past the supported dates."));
        };
        let t = match cal.tz.from_local_datetime(&naive).earliest() {
            Some(t) => t.with_timezone(&Utc),
            None => first
                .checked_add_signed(naive - local)
                .ok_or_else(|| invalid("The recurrence goes past the supported dates."))?,
        };
        if let Some(u) = until
            && t > u
        {
            break;
        }
        if n == 100 {
            return Err(invalid("A series has at most 100 occurrences."));
        }
        out.push(t);
    }
    Ok(out)
}

pub(crate) fn create_appointment(ctx: &Ctx) -> ApiResult {
    let body = ctx.json_body()?;
    let o = Obj::body(&body)?;
    let calendar_id = o.str_req("calendar_id", 1, usize::MAX)?;
    o.check(
        "calendar_id",
        Some(&calendar_id),
        |s| is_id(s, "cal"),
        "a calendar id (cal_...)",
    )?;
    let contact_id = o.str_nullable("contact_id", 1, usize::MAX)?.flatten();
    o.check(
        "contact_id",
        contact_id.as_deref(),
        |s| is_id(s, "cnt"),
        "a contact id (cnt_...)",
    )?;
    let title = o.str_req("title", 1, 200)?;
    let start = o.datetime_req("start")?;
    let end = o.datetime_opt("end")?;
    let duration = o.int_opt("duration_minutes", 5, 480)?;
    let notes = o.str_nullable("notes", 0, 2000)?.flatten();
    let recurrence = match o.get("recurrence") {
        None | Some(serde_json::Value::Null) => None,
        Some(_) => {
            let r = o.object_req("recurrence")?;
            let frequency = r.enum_req("frequency", &["daily", "weekly", "monthly"])?;
            let interval = r.int_opt("interval", 1, 52)?.unwrap_or(1);
            let count = r.int_nullable("count", 1, 100)?.flatten();
            let until = r.datetime_nullable("until")?.flatten();
            Some((frequency, interval, count, until))
        }
    };

    let mut st = lock(&ctx.state);
    let Some(cal) = st.calendar(&calendar_id).cloned() else {
        return Err(ApiError::unprocessable(
            "invalid_reference",
            Some("calendar_id"),
            format!("No calendar found with id '{calendar_id}'."),
        ));
    };
    if let Some(c) = &contact_id
        && !st.contacts.contains_key(c)
    {
        return Err(ApiError::unprocessable(
            "invalid_reference",
            Some("contact_id"),
            format!("No contact found with id '{c}'."),
        ));
    }
    let length = match (end, duration) {
        (Some(_), Some(_)) => {
            return Err(bad_range(
                "end",
                "Give 'end' or 'duration_minutes', not both.",
            ));
        }
        (Some(e), None) => {
            if e <= start {
                return Err(bad_range("end", "'end' must be after 'start'."));
            }
            e - start
        }
        (None, Some(d)) => Duration::minutes(d),
        (None, None) => Duration::minutes(cal.slot_duration_minutes),
    };
    let starts = match &recurrence {
        None => vec![start],
        Some((frequency, interval, count, until)) => {
            if count.is_some() == until.is_some() {
                return Err(ApiError::unprocessable(
                    "invalid_recurrence",
                    Some("recurrence"),
                    "Exactly one of 'recurrence.count' and 'recurrence.until' must be non-null.",
                ));
            }
            let v = occurrences(&cal, start, frequency, *interval, *count, *until)?;
            if v.is_empty() {
                return Err(ApiError::unprocessable(
                    "invalid_recurrence",
                    Some("recurrence.until"),
                    "'recurrence.until' is before 'start': the series would have no occurrence.",
                ));
            }
            v
        }
    };
    let mut spans = Vec::with_capacity(starts.len());
    for s in starts {
        let Some(e) = s.checked_add_signed(length) else {
            return Err(bad_range(
                "end",
                "The appointment ends past the supported dates.",
            ));
        };
        if !cal.fits(s, e) {
            return Err(slot_unavailable(format!(
                "The slot {} - {} is outside the working hours of calendar '{}' ({}-{} {}, days {:?}).",
                crate::model::ts(s),
                crate::model::ts(e),
                cal.id,
                cal.working_hours.start,
                cal.working_hours.end,
                cal.timezone,
                cal.working_hours.days
            )));
        }
        if st.overlaps(&cal.id, s, e, None) || spans.iter().any(|(ps, pe)| *ps < e && s < *pe) {
            return Err(slot_unavailable(format!(
                "The slot {} - {} is no longer available.",
                crate::model::ts(s),
                crate::model::ts(e)
            )));
        }
        spans.push((s, e));
    }
    let series_id = recurrence.as_ref().map(|_| st.new_id("ser"));
    let mut first = None;
    for (s, e) in spans {
        let id = st.new_id("apt");
        let seq = st.next_seq();
        let a = Appointment {
            id: id.clone(),
            calendar_id: cal.id.clone(),
            contact_id: contact_id.clone(),
            title: title.clone(),
            notes: notes.clone(),
            start: s,
            end: e,
            status: "scheduled",
            series_id: series_id.clone(),
            cancellation_reason: None,
            created_at: ctx.now,
            updated_at: ctx.now,
            seq,
        };
        if first.is_none() {
            first = Some(to_value(&a));
        }
        st.appointments.insert(id, a);
    }
    ctx.ok(201, first.unwrap_or_default())
}

fn find_apt<'s>(st: &'s mut State, id: &str) -> Result<&'s mut Appointment, ApiError> {
    st.appointments
        .get_mut(id)
        .ok_or_else(|| ApiError::not_found("appointment_id", "appointment", id))
}

fn not_scheduled(a: &Appointment) -> ApiError {
    ApiError::unprocessable(
        "appointment_not_scheduled",
        None,
        format!(
            "Appointment '{}' is {}; only scheduled appointments can be changed.",
            a.id, a.status
        ),
    )
}

pub(crate) fn get_appointment(ctx: &Ctx, id: &str) -> ApiResult {
    let mut st = lock(&ctx.state);
    let a = find_apt(&mut st, id)?;
    ctx.ok(200, to_value(&*a))
}

pub(crate) fn update_appointment(ctx: &Ctx, id: &str) -> ApiResult {
    let body = ctx.json_body()?;
    let o = Obj::body(&body)?;
    let title = o.str_opt("title", 1, 200)?;
    let notes = o.str_nullable("notes", 0, 2000)?;
    let start = o.datetime_opt("start")?;
    let end = o.datetime_opt("end")?;
    let mut st = lock(&ctx.state);
    let a = find_apt(&mut st, id)?;
    if a.status != "scheduled" {
        return Err(not_scheduled(a));
    }
    let (old_start, old_end, cal_id) = (a.start, a.end, a.calendar_id.clone());
    let (new_start, new_end) = match (start, end) {
        (None, None) => (old_start, old_end),
        (Some(s), None) => match s.checked_add_signed(old_end - old_start) {
            Some(e) => (s, e),
            None => {
                return Err(bad_range(
                    "start",
                    "The new time is past the supported dates.",
                ));
            }
        },
        (None, Some(e)) => (old_start, e),
        (Some(s), Some(e)) => (s, e),
    };
    if new_end <= new_start {
        return Err(bad_range("end", "'end' must be after 'start'."));
    }
    if (new_start, new_end) != (old_start, old_end) {
        let fits = st
            .calendar(&cal_id)
            .is_none_or(|c| c.fits(new_start, new_end));
        if !fits {
            return Err(slot_unavailable(format!(
                "The slot {} - {} is outside the calendar's working hours.",
                crate::model::ts(new_start),
                crate::model::ts(new_end)
            )));
        }
        if st.overlaps(&cal_id, new_start, new_end, Some(id)) {
            return Err(slot_unavailable(format!(
                "The slot {} - {} is no longer available.",
                crate::model::ts(new_start),
                crate::model::ts(new_end)
            )));
        }
    }
    let a = find_apt(&mut st, id)?;
    if let Some(t) = title {
        a.title = t;
    }
    if let Some(n) = notes {
        a.notes = n;
    }
    a.start = new_start;
    a.end = new_end;
    if !o.map.is_empty() {
        a.updated_at = ctx.now;
    }
    ctx.ok(200, to_value(&*a))
}

pub(crate) fn cancel_appointment(ctx: &Ctx, id: &str) -> ApiResult {
    let body = ctx.json_body()?;
    let o = Obj::body(&body)?;
    let scope = o.enum_req("scope", &["this", "series"])?;
    let reason = o.str_nullable("reason", 0, 500)?.flatten();
    let mut st = lock(&ctx.state);
    let a = find_apt(&mut st, id)?;
    if a.status != "scheduled" {
        return Err(not_scheduled(a));
    }
    let series = a.series_id.clone();
    let now = ctx.now;
    let cancel = |a: &mut Appointment| {
        a.status = "cancelled";
        a.cancellation_reason = reason.clone();
        a.updated_at = now;
    };
    match (scope.as_str(), series) {
        ("series", Some(sid)) => {
            for a in st.appointments.values_mut() {
                if a.series_id.as_deref() == Some(sid.as_str()) && a.status == "scheduled" {
                    cancel(a);
                }
            }
        }
        _ => cancel(find_apt(&mut st, id)?),
    }
    let a = find_apt(&mut st, id)?;
    ctx.ok(200, to_value(&*a))
}
