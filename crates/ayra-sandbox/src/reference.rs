//! Reference data that always exists: voices, time zones, calendars.

use chrono::{TimeZone, Utc};

use crate::model::{Calendar, TimezoneInfo, Voice, WorkingHours};
use crate::validate::parse_hhmm;

/// (id, name, language, gender)
const VOICES: &[(&str, &str, &str, &str)] = &[
    ("voice_aria01", "Aria", "en-US", "female"),
    ("voice_ava", "Ava", "en-US", "female"),
    ("voice_camille05", "Camille", "fr-FR", "female"),
    ("voice_hana08", "Hana", "ja-JP", "female"),
    ("voice_kai06", "Kai", "en-US", "neutral"),
    ("voice_leo02", "Leo", "fr-FR", "male"),
    ("voice_lukas07", "Lukas", "de-DE", "male"),
    ("voice_noah03", "Noah", "en-GB", "male"),
    ("voice_sofia04", "Sofia", "es-ES", "female"),
    ("voice_wren09", "Wren", "en-AU", "neutral"),
];

/// (IANA id, name, standard offset)
pub(crate) const TIMEZONES: &[(&str, &str, &str)] = &[
    ("Africa/Cairo", "Eastern European Time (Cairo)", "+02:00"),
    (
        "Africa/Johannesburg",
        "South Africa Standard Time (Johannesburg)",
        "+02:00",
    ),
    ("Africa/Lagos", "West Africa Time (Lagos)", "+01:00"),
    ("Africa/Nairobi", "East Africa Time (Nairobi)", "+03:00"),
    ("America/Anchorage", "Alaska Time (Anchorage)", "-09:00"),
    (
        "America/Argentina/Buenos_Aires",
        "Argentina Time (Buenos Aires)",
        "-03:00",
    ),
    ("America/Bogota", "Colombia Time (Bogota)", "-05:00"),
    ("America/Chicago", "Central Time (Chicago)", "-06:00"),
    ("America/Denver", "Mountain Time (Denver)", "-07:00"),
    ("America/Halifax", "Atlantic Time (Halifax)", "-04:00"),
    (
        "America/Los_Angeles",
        "Pacific Time (Los Angeles)",
        "-08:00",
    ),
    (
        "America/Mexico_City",
        "Central Time (Mexico City)",
        "-06:00",
    ),
    ("America/New_York", "Eastern Time (New York)", "-05:00"),
    (
        "America/Phoenix",
        "Mountain Standard Time (Phoenix)",
        "-07:00",
    ),
    ("America/Sao_Paulo", "Brasilia Time (Sao Paulo)", "-03:00"),
    (
        "America/St_Johns",
        "Newfoundland Time (St. John's)",
        "-03:30",
    ),
    ("America/Toronto", "Eastern Time (Toronto)", "-05:00"),
    ("America/Vancouver", "Pacific Time (Vancouver)", "-08:00"),
    ("Asia/Bangkok", "Indochina Time (Bangkok)", "+07:00"),
    ("Asia/Dubai", "Gulf Standard Time (Dubai)", "+04:00"),
    ("Asia/Hong_Kong", "Hong Kong Time", "+08:00"),
    ("Asia/Jakarta", "Western Indonesia Time (Jakarta)", "+07:00"),
    ("Asia/Jerusalem", "Israel Time (Jerusalem)", "+02:00"),
    ("Asia/Kathmandu", "Nepal Time (Kathmandu)", "+05:45"),
    ("Asia/Kolkata", "India Standard Time (Kolkata)", "+05:30"),
    ("Asia/Manila", "Philippine Time (Manila)", "+08:00"),
    ("Asia/Seoul", "Korean Standard Time (Seoul)", "+09:00"),
    ("Asia/Shanghai", "China Standard Time (Shanghai)", "+08:00"),
    ("Asia/Singapore", "Singapore Time", "+08:00"),
    ("Asia/Tokyo", "Japan Standard Time (Tokyo)", "+09:00"),
    (
        "Atlantic/Reykjavik",
        "Greenwich Mean Time (Reykjavik)",
        "+00:00",
    ),
    (
        "Australia/Adelaide",
        "Australian Central Time (Adelaide)",
        "+09:30",
    ),
    (
        "Australia/Brisbane",
        "Australian Eastern Standard Time (Brisbane)",
        "+10:00",
    ),
    (
        "Australia/Perth",
        "Australian Western Time (Perth)",
        "+08:00",
    ),
    (
        "Australia/Sydney",
        "Australian Eastern Time (Sydney)",
        "+10:00",
    ),
    (
        "Europe/Amsterdam",
        "Central European Time (Amsterdam)",
        "+01:00",
    ),
    ("Europe/Athens", "Eastern European Time (Athens)", "+02:00"),
    ("Europe/Berlin", "Central European Time (Berlin)", "+01:00"),
    (
        "Europe/Brussels",
        "Central European Time (Brussels)",
        "+01:00",
    ),
    ("Europe/Dublin", "Irish Time (Dublin)", "+00:00"),
    (
        "Europe/Helsinki",
        "Eastern European Time (Helsinki)",
        "+02:00",
    ),
    ("Europe/Istanbul", "Turkey Time (Istanbul)", "+03:00"),
    ("Europe/Lisbon", "Western European Time (Lisbon)", "+00:00"),
    ("Europe/London", "UK Time (London)", "+00:00"),
    ("Europe/Madrid", "Central European Time (Madrid)", "+01:00"),
    ("Europe/Moscow", "Moscow Time", "+03:00"),
    ("Europe/Paris", "Central European Time (Paris)", "+01:00"),
    ("Europe/Rome", "Central European Time (Rome)", "+01:00"),
    (
        "Europe/Stockholm",
        "Central European Time (Stockholm)",
        "+01:00",
    ),
    ("Europe/Warsaw", "Central European Time (Warsaw)", "+01:00"),
    ("Europe/Zurich", "Central European Time (Zurich)", "+01:00"),
    ("Pacific/Auckland", "New Zealand Time (Auckland)", "+12:00"),
    (
        "Pacific/Honolulu",
        "Hawaii-Aleutian Time (Honolulu)",
        "-10:00",
    ),
    ("UTC", "Coordinated Universal Time", "+00:00"),
];

pub(crate) fn voices() -> Vec<Voice> {
    VOICES
        .iter()
        .map(|(id, name, language, gender)| Voice {
            id: id.to_string(),
            name: name.to_string(),
            language: language.to_string(),
            gender: gender.to_string(),
            preview_url: format!("https://cdn.ayra.ai/voices/{id}/preview.mp3"),
        })
        .collect()
}

pub(crate) fn timezones() -> Vec<TimezoneInfo> {
    let mut v: Vec<TimezoneInfo> = TIMEZONES
        .iter()
        .map(|(id, name, off)| TimezoneInfo {
            id: id.to_string(),
            name: name.to_string(),
            utc_offset: off.to_string(),
        })
        .collect();
    v.sort_by(|a, b| a.id.cmp(&b.id));
    v
}

fn calendar(
    id: &str,
    name: &str,
    tz: &str,
    slot: i64,
    start: &str,
    end: &str,
    days: &[u32],
) -> Calendar {
    let (oh, om) = parse_hhmm(start).unwrap_or((9, 0));
    let (ch, cm) = parse_hhmm(end).unwrap_or((17, 0));
    Calendar {
        id: id.to_string(),
        name: name.to_string(),
        timezone: tz.to_string(),
        slot_duration_minutes: slot,
        working_hours: WorkingHours {
            start: start.to_string(),
            end: end.to_string(),
            days: days.to_vec(),
        },
        created_at: Utc
            .with_ymd_and_hms(2024, 12, 1, 8, 0, 0)
            .single()
            .unwrap_or_default(),
        tz: tz.parse().unwrap_or(chrono_tz::UTC),
        open_min: oh * 60 + om,
        close_min: ch * 60 + cm,
    }
}

pub(crate) fn calendars() -> Vec<Calendar> {
    use crate::fixtures::FIXTURES as F;
    vec![
        calendar(
            F.calendar,
            "Dr. Dubois - Cleanings",
            "Europe/Paris",
            30,
            "09:00",
            "17:30",
            &[1, 2, 3, 4, 5],
        ),
        calendar(
            F.calendar_new_york,
            "Front Desk - Consultations (New York)",
            "America/New_York",
            15,
            "08:00",
            "18:00",
            &[1, 2, 3, 4, 5, 6],
        ),
        calendar(
            F.calendar_always_open,
            "Sandbox Room - Always Open",
            "UTC",
            30,
            "00:00",
            "23:59",
            &[1, 2, 3, 4, 5, 6, 7],
        ),
    ]
}

#[cfg(test)]
mod tests {
    #[test]
    fn timezones_are_iana() {
        for (id, _, _) in super::TIMEZONES {
            assert!(id.parse::<chrono_tz::Tz>().is_ok(), "{id}");
        }
    }
}
