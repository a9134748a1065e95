//! Filters shared by list operations and exports, and the order of lists.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::api::Ctx;
use crate::error::ApiError;
use crate::model::*;
use crate::state::State;

/// Where filter values come from: the query string (400 `invalid_parameter`)
/// or an export's `filters` object (422 `invalid_filter`).
pub(crate) enum Source<'a> {
    Query(&'a Ctx),
    Export(&'a Map<String, Value>),
}

impl Source<'_> {
    fn err(&self, name: &str, msg: String) -> ApiError {
        match self {
            Source::Query(_) => ApiError::invalid_param(name, msg),
            Source::Export(_) => {
                ApiError::unprocessable("invalid_filter", Some(&format!("filters.{name}")), msg)
            }
        }
    }

    fn raw(&self, name: &str) -> Result<Option<String>, ApiError> {
        match self {
            Source::Query(ctx) => Ok(ctx.q(name).map(str::to_string)),
            Source::Export(map) => match map.get(name) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(self.err(
                    name,
                    format!("The '{name}' filter must be a string; got {other}."),
                )),
            },
        }
    }

    pub fn string(&self, name: &str, min: usize, max: usize) -> Result<Option<String>, ApiError> {
        let v = self.raw(name)?;
        if let Some(s) = &v {
            let n = s.chars().count();
            if n < min || n > max {
                return Err(self.err(
                    name,
                    format!("The '{name}' filter must be {min} to {max} characters long."),
                ));
            }
        }
        Ok(v)
    }

    pub fn one_of(&self, name: &str, allowed: &[&str]) -> Result<Option<String>, ApiError> {
        let v = self.raw(name)?;
        if let Some(s) = &v
            && !allowed.contains(&s.as_str())
        {
            return Err(self.err(
                name,
                format!(
                    "The '{name}' filter must be one of {}; got '{s}'.",
                    allowed.join(", ")
                ),
            ));
        }
        Ok(v)
    }

    pub fn id(&self, name: &str, prefix: &str) -> Result<Option<String>, ApiError> {
        let v = self.raw(name)?;
        if let Some(s) = &v
            && !crate::validate::is_id(s, prefix)
        {
            return Err(self.err(
                name,
                format!("The '{name}' filter must be an id starting with '{prefix}_'; got '{s}'."),
            ));
        }
        Ok(v)
    }

    pub fn checked(
        &self,
        name: &str,
        ok: fn(&str) -> bool,
        what: &str,
    ) -> Result<Option<String>, ApiError> {
        let v = self.raw(name)?;
        if let Some(s) = &v
            && !ok(s)
        {
            return Err(self.err(
                name,
                format!("The '{name}' filter must be {what}; got '{s}'."),
            ));
        }
        Ok(v)
    }

    pub fn datetime(&self, name: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
        match self.raw(name)? {
            None => Ok(None),
            Some(s) => crate::validate::parse_datetime_lenient(&s).map(Some).ok_or_else(|| {
                self.err(
                    name,
                    format!("The '{name}' filter must be an RFC 3339 date-time (e.g. 2025-01-15T10:30:00Z); got '{s}'."),
                )
            }),
        }
    }

    /// For exports: every key must be a known filter.
    pub fn only(&self, known: &[&str]) -> Result<(), ApiError> {
        if let Source::Export(map) = self {
            for k in map.keys() {
                if !known.contains(&k.as_str()) {
                    return Err(self.err(
                        k,
                        format!(
                            "Unknown filter '{k}'; the filters of this resource are {}.",
                            known.join(", ")
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

pub(crate) const CONVERSATION_STATUSES: &[&str] = &["queued", "in_progress", "completed", "failed"];
pub(crate) const DIRECTIONS: &[&str] = &["inbound", "outbound"];
pub(crate) const APPOINTMENT_STATUSES: &[&str] = &["scheduled", "cancelled", "completed"];

#[derive(Default)]
pub(crate) struct ConversationFilter {
    agent_id: Option<String>,
    contact_id: Option<String>,
    status: Option<String>,
    direction: Option<String>,
    after: Option<DateTime<Utc>>,
    before: Option<DateTime<Utc>>,
}

impl ConversationFilter {
    pub const NAMES: &'static [&'static str] = &[
        "agent_id",
        "contact_id",
        "status",
        "direction",
        "started_after",
        "started_before",
    ];

    pub fn parse(src: &Source) -> Result<Self, ApiError> {
        src.only(Self::NAMES)?;
        Ok(ConversationFilter {
            agent_id: src.id("agent_id", "agt")?,
            contact_id: src.id("contact_id", "cnt")?,
            status: src.one_of("status", CONVERSATION_STATUSES)?,
            direction: src.one_of("direction", DIRECTIONS)?,
            after: src.datetime("started_after")?,
            before: src.datetime("started_before")?,
        })
    }

    pub fn matches(&self, c: &Conversation) -> bool {
        self.agent_id.as_ref().is_none_or(|a| *a == c.agent_id)
            && self
                .contact_id
                .as_ref()
                .is_none_or(|x| Some(x) == c.contact_id.as_ref())
            && self.status.as_ref().is_none_or(|s| s == c.status)
            && self.direction.as_ref().is_none_or(|d| d == c.direction)
            && self.after.is_none_or(|t| c.started_at >= t)
            && self.before.is_none_or(|t| c.started_at < t)
    }

    /// Matching conversations, most recently started first.
    pub fn select<'s>(&self, st: &'s State) -> Vec<&'s Conversation> {
        let mut v: Vec<&Conversation> = st
            .conversations
            .values()
            .filter(|c| self.matches(c))
            .collect();
        v.sort_by(|a, b| b.started_at.cmp(&a.started_at).then(b.seq.cmp(&a.seq)));
        v
    }
}

#[derive(Default)]
pub(crate) struct ContactFilter {
    q: Option<String>,
    tag: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    after: Option<DateTime<Utc>>,
    before: Option<DateTime<Utc>>,
}

impl ContactFilter {
    pub const NAMES: &'static [&'static str] = &[
        "q",
        "tag",
        "email",
        "phone",
        "created_after",
        "created_before",
    ];

    pub fn parse(src: &Source) -> Result<Self, ApiError> {
        src.only(Self::NAMES)?;
        Ok(ContactFilter {
            q: src.string("q", 1, 100)?.map(|s| s.to_lowercase()),
            tag: src.string("tag", 1, 64)?,
            email: src
                .checked("email", crate::validate::is_email, "an email address")?
                .map(|s| s.to_lowercase()),
            phone: src.checked("phone", crate::validate::is_e164, "an E.164 phone number")?,
            after: src.datetime("created_after")?,
            before: src.datetime("created_before")?,
        })
    }

    pub fn matches(&self, c: &Contact) -> bool {
        let q_ok = self.q.as_ref().is_none_or(|q| {
            let has = |s: Option<&str>| s.is_some_and(|s| s.to_lowercase().contains(q.as_str()));
            has(Some(&c.first_name))
                || has(c.last_name.as_deref())
                || has(c.email.as_deref())
                || has(c.phone.as_deref())
        });
        q_ok && self.tag.as_ref().is_none_or(|t| c.tags.contains(t))
            && self
                .email
                .as_ref()
                .is_none_or(|e| c.email.as_ref().is_some_and(|ce| ce.to_lowercase() == *e))
            && self
                .phone
                .as_ref()
                .is_none_or(|p| c.phone.as_ref() == Some(p))
            && self.after.is_none_or(|t| c.created_at >= t)
            && self.before.is_none_or(|t| c.created_at < t)
    }

    /// Matching contacts, newest first.
    pub fn select<'s>(&self, st: &'s State) -> Vec<&'s Contact> {
        let mut v = self.select_unordered(st);
        v.sort_by(newest_contact_first);
        v
    }

    /// Matching contacts in no order: with [`order_window`] a list page
    /// costs O(n), not O(n log n), which keeps a 100,000-contact account fast.
    pub fn select_unordered<'s>(&self, st: &'s State) -> Vec<&'s Contact> {
        st.contacts.values().filter(|c| self.matches(c)).collect()
    }
}

/// The order of contact lists: newest first.
pub(crate) fn newest_contact_first(a: &&Contact, b: &&Contact) -> std::cmp::Ordering {
    b.created_at.cmp(&a.created_at).then(b.seq.cmp(&a.seq))
}

/// Puts the items of positions `start..start + len` of the fully sorted order
/// in place, sorted, without sorting the rest (two quickselects and a sort of
/// `len` items).
pub(crate) fn order_window<T>(
    v: &mut [T],
    start: usize,
    len: usize,
    cmp: impl Fn(&T, &T) -> std::cmp::Ordering,
) {
    if start >= v.len() {
        return;
    }
    if start > 0 {
        v.select_nth_unstable_by(start, &cmp);
    }
    let rest = &mut v[start..];
    let end = len.min(rest.len());
    if end < rest.len() && end > 0 {
        rest.select_nth_unstable_by(end - 1, &cmp);
    }
    rest[..end].sort_by(&cmp);
}

#[derive(Default)]
pub(crate) struct AppointmentFilter {
    calendar_id: Option<String>,
    contact_id: Option<String>,
    status: Option<String>,
    after: Option<DateTime<Utc>>,
    before: Option<DateTime<Utc>>,
}

impl AppointmentFilter {
    pub const NAMES: &'static [&'static str] = &[
        "calendar_id",
        "contact_id",
        "status",
        "start_after",
        "start_before",
    ];

    pub fn parse(src: &Source) -> Result<Self, ApiError> {
        src.only(Self::NAMES)?;
        Ok(AppointmentFilter {
            calendar_id: src.id("calendar_id", "cal")?,
            contact_id: src.id("contact_id", "cnt")?,
            status: src.one_of("status", APPOINTMENT_STATUSES)?,
            after: src.datetime("start_after")?,
            before: src.datetime("start_before")?,
        })
    }

    pub fn matches(&self, a: &Appointment) -> bool {
        self.calendar_id
            .as_ref()
            .is_none_or(|c| *c == a.calendar_id)
            && self
                .contact_id
                .as_ref()
                .is_none_or(|x| Some(x) == a.contact_id.as_ref())
            && self.status.as_ref().is_none_or(|s| s == a.status)
            && self.after.is_none_or(|t| a.start >= t)
            && self.before.is_none_or(|t| a.start < t)
    }

    /// Matching appointments, earliest first.
    pub fn select<'s>(&self, st: &'s State) -> Vec<&'s Appointment> {
        let mut v: Vec<&Appointment> = st
            .appointments
            .values()
            .filter(|a| self.matches(a))
            .collect();
        v.sort_by(|a, b| a.start.cmp(&b.start).then(a.seq.cmp(&b.seq)));
        v
    }
}

#[cfg(test)]
mod order_window_tests {
    use super::order_window;

    #[test]
    fn the_window_matches_a_full_sort() {
        let mut seed = 12345u64;
        for n in [0usize, 1, 2, 7, 100, 1000] {
            let v: Vec<u64> = (0..n)
                .map(|_| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    seed >> 40
                })
                .collect();
            let mut sorted = v.clone();
            sorted.sort();
            for (start, len) in [
                (0, 10),
                (5, 3),
                (n / 2, 25),
                (n.saturating_sub(1), 10),
                (n, 5),
                (n + 3, 1),
            ] {
                let mut w = v.clone();
                order_window(&mut w, start, len, |a, b| a.cmp(b));
                let end = (start + len).min(n);
                if start < n {
                    assert_eq!(
                        w[start..end],
                        sorted[start..end],
                        "n {n} start {start} len {len}"
                    );
                }
            }
        }
    }
}
