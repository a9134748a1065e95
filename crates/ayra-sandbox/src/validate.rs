//! Validation of request bodies and of the spec's string patterns.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};

use crate::error::ApiError;

/// `^<prefix>_[A-Za-z0-9]+$`
pub(crate) fn is_id(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix)
        .and_then(|r| r.strip_prefix('_'))
        .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// `^\+[1-9][0-9]{6,14}$`
pub(crate) fn is_e164(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('+') else {
        return false;
    };
    let b = rest.as_bytes();
    (7..=15).contains(&b.len())
        && (b'1'..=b'9').contains(&b[0])
        && b.iter().all(|c| c.is_ascii_digit())
}

/// `^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`
pub(crate) fn is_language(s: &str) -> bool {
    let mut parts = s.split('-');
    let first = parts.next().unwrap_or("");
    if !(2..=3).contains(&first.len()) || !first.bytes().all(|b| b.is_ascii_lowercase()) {
        return false;
    }
    parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// `^[a-z][a-z0-9_]*$`
pub(crate) fn is_field_key(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
}

/// A pragmatic email check (RFC 5321-ish): `local@domain.tld`.
pub(crate) fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    if local.is_empty() || local.len() > 64 || domain.len() > 253 {
        return false;
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let local_ok = if local.starts_with('"') && local.ends_with('"') && local.len() >= 2 {
        true
    } else {
        !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c))
    };
    if !local_ok {
        return false;
    }
    if domain.starts_with('[') && domain.ends_with(']') {
        return domain.len() > 2;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

/// `HH:MM`, 24-hour clock.
pub(crate) fn parse_hhmm(s: &str) -> Option<(u32, u32)> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let h: u32 = h.parse().ok()?;
    let m: u32 = m.parse().ok()?;
    (h < 24 && m < 60).then_some((h, m))
}

/// `YYYY-MM-DD`
pub(crate) fn is_date(s: &str) -> bool {
    s.len() == 10 && NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

/// RFC 3339 date-time.
pub(crate) fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    // The date-time format requires 'T' (or 't') between date and time.
    let b = s.as_bytes();
    if b.len() < 20 || !(b[10] == b'T' || b[10] == b't') {
        return None;
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// Like [`parse_datetime`], but also accepts a `+` that was decoded to a space in a query string.
pub(crate) fn parse_datetime_lenient(s: &str) -> Option<DateTime<Utc>> {
    parse_datetime(s).or_else(|| {
        if s.contains(' ') {
            parse_datetime(&s.replace(' ', "+"))
        } else {
            None
        }
    })
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// An integer-valued JSON number (`5` or `5.0`).
pub(crate) fn as_integer(v: &Value) -> Option<i64> {
    if let Some(i) = v.as_i64() {
        return Some(i);
    }
    let f = v.as_f64()?;
    (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
}

/// A JSON object being validated; `prefix` is prepended to field names in errors.
pub(crate) struct Obj<'a> {
    pub map: &'a Map<String, Value>,
    prefix: String,
}

impl<'a> Obj<'a> {
    /// The request body must be an object.
    pub fn body(v: &'a Value) -> Result<Obj<'a>, ApiError> {
        match v {
            Value::Object(map) => Ok(Obj {
                map,
                prefix: String::new(),
            }),
            other => Err(ApiError::invalid_json(format!(
                "The request body must be a JSON object, not {}.",
                type_name(other)
            ))),
        }
    }

    pub fn path(&self, k: &str) -> String {
        format!("{}{}", self.prefix, k)
    }

    pub fn has(&self, k: &str) -> bool {
        self.map.contains_key(k)
    }

    pub fn get(&self, k: &str) -> Option<&'a Value> {
        self.map.get(k)
    }

    fn wrong(&self, k: &str, what: &str, got: &Value) -> ApiError {
        let p = self.path(k);
        ApiError::invalid_field(
            &p,
            format!("The '{p}' field must be {what}, not {}.", type_name(got)),
        )
    }

    fn check_len(&self, k: &str, s: &str, min: usize, max: usize) -> Result<(), ApiError> {
        let n = s.chars().count();
        if n < min || n > max {
            let p = self.path(k);
            return Err(ApiError::invalid_field(
                &p,
                format!("The '{p}' field must be {min} to {max} characters long (got {n})."),
            ));
        }
        Ok(())
    }

    /// A required, non-null string.
    pub fn str_req(&self, k: &str, min: usize, max: usize) -> Result<String, ApiError> {
        match self.map.get(k) {
            None => Err(ApiError::missing(&self.path(k))),
            Some(Value::String(s)) => {
                self.check_len(k, s, min, max)?;
                Ok(s.clone())
            }
            Some(other) => Err(self.wrong(k, "a string", other)),
        }
    }

    /// An optional, non-nullable string.
    pub fn str_opt(&self, k: &str, min: usize, max: usize) -> Result<Option<String>, ApiError> {
        match self.map.get(k) {
            None => Ok(None),
            Some(_) => self.str_req(k, min, max).map(Some),
        }
    }

    /// An optional, nullable string: `None` absent, `Some(None)` null.
    pub fn str_nullable(
        &self,
        k: &str,
        min: usize,
        max: usize,
    ) -> Result<Option<Option<String>>, ApiError> {
        match self.map.get(k) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(_) => self.str_req(k, min, max).map(|s| Some(Some(s))),
        }
    }

    /// Checks a string field against a predicate (pattern or format).
    pub fn check(
        &self,
        k: &str,
        v: Option<&str>,
        ok: fn(&str) -> bool,
        what: &str,
    ) -> Result<(), ApiError> {
        if let Some(s) = v
            && !ok(s)
        {
            let p = self.path(k);
            return Err(ApiError::invalid_field(
                &p,
                format!("The '{p}' field must be {what}; got '{s}'."),
            ));
        }
        Ok(())
    }

    pub fn int_opt(&self, k: &str, min: i64, max: i64) -> Result<Option<i64>, ApiError> {
        match self.map.get(k) {
            None => Ok(None),
            Some(v) => self.int_value(k, v, min, max).map(Some),
        }
    }

    pub fn int_nullable(
        &self,
        k: &str,
        min: i64,
        max: i64,
    ) -> Result<Option<Option<i64>>, ApiError> {
        match self.map.get(k) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(v) => self.int_value(k, v, min, max).map(|n| Some(Some(n))),
        }
    }

    fn int_value(&self, k: &str, v: &Value, min: i64, max: i64) -> Result<i64, ApiError> {
        let n = as_integer(v).ok_or_else(|| self.wrong(k, "an integer", v))?;
        if n < min || n > max {
            let p = self.path(k);
            return Err(ApiError::invalid_field(
                &p,
                format!("The '{p}' field must be from {min} to {max} (got {n})."),
            ));
        }
        Ok(n)
    }

    pub fn datetime_req(&self, k: &str) -> Result<DateTime<Utc>, ApiError> {
        match self.map.get(k) {
            None => Err(ApiError::missing(&self.path(k))),
            Some(v) => self.datetime_value(k, v),
        }
    }

    pub fn datetime_opt(&self, k: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
        match self.map.get(k) {
            None => Ok(None),
            Some(v) => self.datetime_value(k, v).map(Some),
        }
    }

    pub fn datetime_nullable(&self, k: &str) -> Result<Option<Option<DateTime<Utc>>>, ApiError> {
        match self.map.get(k) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(v) => self.datetime_value(k, v).map(|d| Some(Some(d))),
        }
    }

    fn datetime_value(&self, k: &str, v: &Value) -> Result<DateTime<Utc>, ApiError> {
        let s = v
            .as_str()
            .ok_or_else(|| self.wrong(k, "an RFC 3339 date-time string", v))?;
        parse_datetime(s).ok_or_else(|| {
            let p = self.path(k);
            ApiError::invalid_field(
                &p,
                format!("The '{p}' field must be an RFC 3339 date-time (e.g. 2025-01-15T10:30:00Z); got '{s}'."),
            )
        })
    }

    pub fn enum_req(&self, k: &str, allowed: &[&str]) -> Result<String, ApiError> {
        match self.map.get(k) {
            None => Err(ApiError::missing(&self.path(k))),
            Some(v) => self.enum_value(k, v, allowed),
        }
    }

    pub fn enum_opt(&self, k: &str, allowed: &[&str]) -> Result<Option<String>, ApiError> {
        match self.map.get(k) {
            None => Ok(None),
            Some(v) => self.enum_value(k, v, allowed).map(Some),
        }
    }

    fn enum_value(&self, k: &str, v: &Value, allowed: &[&str]) -> Result<String, ApiError> {
        match v.as_str() {
            Some(s) if allowed.contains(&s) => Ok(s.to_string()),
            _ => {
                let p = self.path(k);
                Err(ApiError::invalid_field(
                    &p,
                    format!(
                        "The '{p}' field must be one of {}; got {v}.",
                        allowed.join(", ")
                    ),
                ))
            }
        }
    }

    pub fn object_req(&self, k: &str) -> Result<Obj<'a>, ApiError> {
        match self.map.get(k) {
            None => Err(ApiError::missing(&self.path(k))),
            Some(Value::Object(map)) => Ok(Obj {
                map,
                prefix: format!("{}.", self.path(k)),
            }),
            Some(other) => Err(self.wrong(k, "an object", other)),
        }
    }

    pub fn object_opt(&self, k: &str) -> Result<Option<Obj<'a>>, ApiError> {
        match self.map.get(k) {
            None => Ok(None),
            Some(_) => self.object_req(k).map(Some),
        }
    }

    /// An optional `metadata` object (the spec's `Metadata`): `None` absent,
    /// `Some(None)` null (allowed only when `nullable`). A value that is not
    /// a string is a 400; past the limits (50 keys of 1..=40 characters,
    /// values of at most 500) a 422 `invalid_metadata`.
    pub fn metadata(
        &self,
        k: &str,
        nullable: bool,
    ) -> Result<Option<Option<Map<String, Value>>>, ApiError> {
        let map = match self.map.get(k) {
            None => return Ok(None),
            Some(Value::Null) if nullable => return Ok(Some(None)),
            Some(Value::Object(map)) => map,
            Some(other) => return Err(self.wrong(k, "an object of strings", other)),
        };
        let p = self.path(k);
        let invalid =
            |message: String| ApiError::unprocessable("invalid_metadata", Some(&p), message);
        if map.len() > 50 {
            return Err(invalid(format!(
                "The '{p}' field holds at most 50 keys (got {}).",
                map.len()
            )));
        }
        for (key, value) in map {
            let Value::String(value) = value else {
                let ip = format!("{p}.{key}");
                return Err(ApiError::invalid_field(
                    &ip,
                    format!(
                        "The '{ip}' value must be a string, not {}.",
                        type_name(value)
                    ),
                ));
            };
            let n = key.chars().count();
            if !(1..=40).contains(&n) {
                return Err(invalid(format!(
                    "The keys of '{p}' must be 1 to 40 characters long (got {n})."
                )));
            }
            let n = value.chars().count();
            if n > 500 {
                return Err(invalid(format!(
                    "The values of '{p}' must be at most 500 characters long ('{key}' has {n})."
                )));
            }
        }
        Ok(Some(Some(map.clone())))
    }

    /// An optional array with a bound on its length; `what` names the
    /// expected type in the error.
    fn array_opt(
        &self,
        k: &str,
        what: &str,
        (min_items, max_items): (usize, usize),
    ) -> Result<Option<&'a Vec<Value>>, ApiError> {
        let Some(v) = self.map.get(k) else {
            return Ok(None);
        };
        let arr = v.as_array().ok_or_else(|| self.wrong(k, what, v))?;
        if arr.len() < min_items || arr.len() > max_items {
            let p = self.path(k);
            return Err(ApiError::invalid_field(
                &p,
                format!(
                    "The '{p}' field must have {min_items} to {max_items} items (got {}).",
                    arr.len()
                ),
            ));
        }
        Ok(Some(arr))
    }

    /// An optional array of strings with item and count bounds.
    pub fn string_array_opt(
        &self,
        k: &str,
        (min_items, max_items): (usize, usize),
        (min_len, max_len): (usize, usize),
    ) -> Result<Option<Vec<String>>, ApiError> {
        let Some(arr) = self.array_opt(k, "an array of strings", (min_items, max_items))? else {
            return Ok(None);
        };
        let p = self.path(k);
        let mut out = Vec::with_capacity(arr.len());
        for (i, item) in arr.iter().enumerate() {
            let ip = format!("{p}[{i}]");
            let s = item.as_str().ok_or_else(|| {
                ApiError::invalid_field(
                    &ip,
                    format!("The '{ip}' item must be a string, not {}.", type_name(item)),
                )
            })?;
            let n = s.chars().count();
            if n < min_len || n > max_len {
                return Err(ApiError::invalid_field(
                    &ip,
                    format!(
                        "The '{ip}' item must be {min_len} to {max_len} characters long (got {n})."
                    ),
                ));
            }
            out.push(s.to_string());
        }
        Ok(Some(out))
    }

    /// An optional array of objects.
    pub fn object_array_opt(
        &self,
        k: &str,
        (min_items, max_items): (usize, usize),
    ) -> Result<Option<Vec<Obj<'a>>>, ApiError> {
        let Some(arr) = self.array_opt(k, "an array", (min_items, max_items))? else {
            return Ok(None);
        };
        let p = self.path(k);
        let mut out = Vec::with_capacity(arr.len());
        for (i, item) in arr.iter().enumerate() {
            let ip = format!("{p}[{i}]");
            match item {
                Value::Object(map) => out.push(Obj {
                    map,
                    prefix: format!("{ip}."),
                }),
                other => {
                    return Err(ApiError::invalid_field(
                        &ip,
                        format!(
                            "The '{ip}' item must be an object, not {}.",
                            type_name(other)
                        ),
                    ));
                }
            }
        }
        Ok(Some(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(is_id("agt_8Kq2mZ4vT1", "agt"));
        assert!(!is_id("agt_", "agt"));
        assert!(!is_id("agt-1", "agt"));
        assert!(!is_id("agtx_1", "agt"));
        assert!(is_e164("+14155550123"));
        assert!(!is_e164("+0415555"));
        assert!(!is_e164("+123456"));
        assert!(is_e164("+1234567"));
        assert!(is_language("en-US"));
        assert!(is_language("fra"));
        assert!(!is_language("EN"));
        assert!(is_field_key("date_of_birth"));
        assert!(!is_field_key("1abc"));
        assert!(is_email("camille.martin@example.com"));
        assert!(!is_email("nope"));
        assert!(!is_email("a@b"));
        assert_eq!(parse_hhmm("09:30"), Some((9, 30)));
        assert_eq!(parse_hhmm("24:00"), None);
        assert!(is_date("1988-04-12"));
        assert!(!is_date("1988-02-30"));
        assert!(parse_datetime("2025-01-15T10:30:00Z").is_some());
        assert!(parse_datetime("2025-01-15T10:30:00+01:00").is_some());
        assert!(parse_datetime("2025-01-15 10:30:00Z").is_none());
        assert!(parse_datetime_lenient("2025-01-15T10:30:00 01:00").is_some());
    }
}
