//! Find availability, book a recurring series, reschedule one, cancel the series.

use ayra::chrono::{Duration, Timelike};
use ayra::prelude::*;
use ayra_scenarios::Harness;

pub async fn run(h: &Harness) {
    let c = &h.client;
    let calendars = c.list_calendars().send().await.unwrap().into_inner().data;
    let calendar = c
        .get_calendar()
        .calendar_id(&calendars[0].id)
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(calendar, calendars[0]);

    let from = (h.now() + Duration::days(60))
        .with_minute(0)
        .unwrap()
        .with_second(0)
        .unwrap()
        .with_nanosecond(0)
        .unwrap();
    let to = from + Duration::days(7);
    let free = c
        .get_calendar_availability()
        .calendar_id(&calendar.id)
        .start(from)
        .end(to)
        .duration_minutes(30)
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert!(!free.slots.is_empty());
    assert!(
        free.slots
            .iter()
            .all(|s| s.start >= from && s.end <= to && s.end - s.start == Duration::minutes(30))
    );
    // The first free slot that is also free the next two weeks.
    let mut booked = None;
    for slot in free.slots.iter().take(30) {
        let recurrence = Recurrence::builder()
            .frequency(RecurrenceFrequency::Weekly)
            .count(3);
        let attempt = c
            .create_appointment()
            .body_map(|b| {
                b.calendar_id(calendar.id.clone())
                    .title("Weekly check-in")
                    .start(slot.start)
                    .duration_minutes(Some(30))
                    .recurrence(Some(Recurrence::try_from(recurrence).unwrap()))
            })
            .send()
            .await;
        match attempt {
            Ok(r) => {
                booked = Some((slot.clone(), r.into_inner().data));
                break;
            }
            Err(e) => assert_eq!(e.code(), Some("slot_unavailable"), "{e}"),
        }
    }
    let (slot, first) = booked.expect("a slot free three weeks running");
    let series_id = first.series_id.clone().expect("a series id");
    let booked = c
        .list_appointments()
        .calendar_id(&calendar.id)
        .status(AppointmentStatus::Scheduled)
        .start_after(from)
        .per_page(100)
        .send()
        .await
        .unwrap();
    let in_series: Vec<_> = booked
        .data
        .iter()
        .filter(|a| a.series_id.as_deref() == Some(&series_id))
        .collect();
    assert_eq!(in_series.len(), 3);

    // The slot is taken now: 422 slot_unavailable on `start`.
    let err = c
        .create_appointment()
        .body_map(|b| {
            b.calendar_id(calendar.id.clone())
                .title("Clash")
                .start(slot.start)
        })
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("slot_unavailable"));
    assert_eq!(err.error_code(), Some(ErrorCode::SlotUnavailable));
    assert_eq!(err.api().and_then(|a| a.field.as_deref()), Some("start"));
    let after = c
        .get_calendar_availability()
        .calendar_id(&calendar.id)
        .start(from)
        .end(to)
        .send()
        .await
        .unwrap();
    assert!(
        !after.data.slots.is_empty(),
        "the week still has free slots"
    );
    assert!(
        after.data.slots.iter().all(|s| s.start != slot.start),
        "a booked slot is no longer free"
    );

    // Move it to another slot the calendar still offers: a fixed offset (two
    // hours later) is past working hours when the run starts late in the
    // afternoon, Paris time (see `ayra_scenarios::START`).
    let target = after.data.slots[0].clone();
    let moved = c
        .update_appointment()
        .appointment_id(&first.id)
        .body_map(|b| {
            b.start(Some(target.start))
                .end(Some(target.end))
                .notes("moved")
        })
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!((moved.start, moved.end), (target.start, target.end));
    assert_eq!(
        c.get_appointment()
            .appointment_id(&first.id)
            .send()
            .await
            .unwrap()
            .data
            .notes
            .as_deref(),
        Some("moved")
    );

    let cancelled = c
        .cancel_appointment()
        .appointment_id(&first.id)
        .body_map(|b| b.scope(CancelScope::Series))
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(cancelled.status, AppointmentStatus::Cancelled);
    for appointment in in_series {
        let now = c
            .get_appointment()
            .appointment_id(&appointment.id)
            .send()
            .await
            .unwrap()
            .into_inner()
            .data;
        assert_eq!(
            now.status,
            AppointmentStatus::Cancelled,
            "{} was cancelled with its series",
            now.id
        );
    }
    let err = c
        .get_calendar()
        .calendar_id("cal_nope")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_not_found());
}
