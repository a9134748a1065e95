//! The sandbox's in-memory state and the logic shared by several operations.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::model::*;

pub(crate) const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Every id any account handed out, so that ids stay unique across accounts
/// (each account draws them from its own random stream).
#[derive(Default)]
pub(crate) struct Ids(Mutex<HashSet<String>>);

impl Ids {
    /// Takes `id` if no account has it yet.
    pub fn claim(&self, id: &str) -> bool {
        let mut taken = lock(&self.0);
        !taken.contains(id) && taken.insert(id.to_string())
    }
}

/// One account's data.
pub(crate) struct State {
    pub agents: HashMap<String, Agent>,
    pub voices: Vec<Voice>,
    pub timezones: Vec<TimezoneInfo>,
    pub conversations: HashMap<String, Conversation>,
    pub contacts: HashMap<String, Contact>,
    pub custom_fields: Vec<CustomField>,
    pub calendars: Vec<Calendar>,
    pub appointments: HashMap<String, Appointment>,
    pub workflows: HashMap<String, Workflow>,
    pub executions: HashMap<String, Execution>,
    pub reports: HashMap<String, Report>,
    pub exports: HashMap<String, Export>,
    pub seq: u64,
    pub rng: StdRng,
    pub ids: Arc<Ids>,
    pub job_duration: Duration,
}

impl State {
    pub fn empty(rng_seed: u64, job_duration: Duration, ids: Arc<Ids>) -> State {
        State {
            agents: HashMap::new(),
            voices: Vec::new(),
            timezones: Vec::new(),
            conversations: HashMap::new(),
            contacts: HashMap::new(),
            custom_fields: Vec::new(),
            calendars: Vec::new(),
            appointments: HashMap::new(),
            workflows: HashMap::new(),
            executions: HashMap::new(),
            reports: HashMap::new(),
            exports: HashMap::new(),
            seq: 0,
            rng: StdRng::seed_from_u64(rng_seed),
            ids,
            job_duration,
        }
    }

    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Claims the ids of seeded data (the fixtures' ids are fixed), so that
    /// no account hands them out again.
    pub fn claim_ids(&self) {
        let mut taken = lock(&self.ids.0);
        let series = self
            .appointments
            .values()
            .filter_map(|a| a.series_id.as_ref());
        taken.extend(
            (self.agents.keys())
                .chain(self.conversations.keys())
                .chain(self.contacts.keys())
                .chain(self.appointments.keys())
                .chain(series)
                .chain(self.workflows.keys())
                .chain(self.executions.keys())
                .chain(self.reports.keys())
                .chain(self.exports.keys())
                .chain(self.custom_fields.iter().map(|c| &c.id))
                .chain(self.calendars.iter().map(|c| &c.id))
                .cloned(),
        );
    }

    /// A fresh id `<prefix>_<10 base62 chars>`, unique across accounts.
    pub fn new_id(&mut self, prefix: &str) -> String {
        loop {
            let id = random_id(&mut self.rng, prefix);
            if self.ids.claim(&id) {
                return id;
            }
        }
    }

    pub fn timezone_supported(&self, tz: &str) -> bool {
        self.timezones.iter().any(|t| t.id == tz)
    }

    pub fn calendar(&self, id: &str) -> Option<&Calendar> {
        self.calendars.iter().find(|c| c.id == id)
    }

    pub fn job_clock(&self, now: DateTime<Utc>, fail: bool) -> JobClock {
        JobClock {
            created: now,
            duration: self.job_duration,
            fail,
        }
    }

    /// Whether [start, end) overlaps a scheduled appointment of the calendar (other than `except`).
    pub fn overlaps(
        &self,
        calendar_id: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        except: Option<&str>,
    ) -> bool {
        self.appointments.values().any(|a| {
            a.calendar_id == calendar_id
                && a.status == "scheduled"
                && Some(a.id.as_str()) != except
                && a.start < end
                && start < a.end
        })
    }

    /// Free slots of a calendar.
    pub fn availability(
        &self,
        cal: &Calendar,
        range_start: DateTime<Utc>,
        range_end: DateTime<Utc>,
        duration_min: i64,
    ) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        let busy: Vec<(DateTime<Utc>, DateTime<Utc>)> = self
            .appointments
            .values()
            .filter(|a| a.calendar_id == cal.id && a.status == "scheduled")
            .filter(|a| a.end > range_start && a.start < range_end)
            .map(|a| (a.start, a.end))
            .collect();
        let mut out = Vec::new();
        let dur = Duration::minutes(duration_min);
        let step = Duration::minutes(cal.slot_duration_minutes.max(1));
        let Some(mut date) = range_start.with_timezone(&cal.tz).date_naive().pred_opt() else {
            return out;
        };
        let last = range_end.with_timezone(&cal.tz).date_naive();
        let mut guard = 0;
        while date <= last && guard < 40 {
            guard += 1;
            if let Some((open, close)) = cal.day_bounds(date) {
                let mut t = open;
                while let Some(e) = t.checked_add_signed(dur) {
                    if e > close {
                        break;
                    }
                    if t >= range_start
                        && e <= range_end
                        && !busy.iter().any(|(bs, be)| *bs < e && t < *be)
                    {
                        out.push((t, e));
                    }
                    match t.checked_add_signed(step) {
                        Some(n) => t = n,
                        None => break,
                    }
                }
            }
            match date.succ_opt() {
                Some(d) => date = d,
                None => break,
            }
        }
        out
    }
}

impl Calendar {
    /// Opening and closing instants of a local date, if it is a working day.
    pub fn day_bounds(&self, date: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        if !self
            .working_hours
            .days
            .contains(&date.weekday().number_from_monday())
        {
            return None;
        }
        let at = |min: u32| {
            let t = NaiveTime::from_hms_opt(min / 60, min % 60, 0)?;
            let local = self.tz.from_local_datetime(&date.and_time(t)).earliest()?;
            Some(local.with_timezone(&Utc))
        };
        Some((at(self.open_min)?, at(self.close_min)?))
    }

    /// Whether [start, end) lies inside the working hours of one working day.
    pub fn fits(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
        if end <= start {
            return false;
        }
        let ls = start.with_timezone(&self.tz);
        let le = end.with_timezone(&self.tz);
        if ls.date_naive() != le.date_naive() {
            return false;
        }
        if !self
            .working_hours
            .days
            .contains(&ls.weekday().number_from_monday())
        {
            return false;
        }
        let s = ls.num_seconds_from_midnight();
        let e = le.num_seconds_from_midnight();
        s >= self.open_min * 60 && e <= self.close_min * 60
    }
}

/// `<prefix>_<10 base62 chars>` drawn from `rng`.
pub(crate) fn random_id(rng: &mut StdRng, prefix: &str) -> String {
    let mut id = String::with_capacity(prefix.len() + 11);
    id.push_str(prefix);
    id.push('_');
    for _ in 0..10 {
        id.push(BASE62[rng.random_range(0..BASE62.len())] as char);
    }
    id
}

/// Locks a mutex; a panic in another request (caught by the pipeline) does
/// not make the data unusable.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
