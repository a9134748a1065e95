//! What handlers see and answer: the request context (query parameters,
//! body, pagination) and replies.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};

use crate::clock::Clock;
use crate::error::{ApiError, error_type};
use crate::model::ts;
use crate::state::State;

/// What a handler answers with.
pub(crate) enum Payload {
    /// A JSON body (already serialized).
    Json(Bytes),
    /// A file.
    File { content_type: String, data: Bytes },
    /// A server-sent event stream.
    Stream(BoxStream<'static, Bytes>),
    /// No body (204).
    Empty,
}

pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub payload: Payload,
}

impl Reply {
    pub fn json(status: u16, value: &Value) -> Reply {
        let bytes = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
        Reply {
            status,
            headers: Vec::new(),
            payload: Payload::Json(Bytes::from(bytes)),
        }
    }

    pub fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            payload: Payload::Empty,
        }
    }

    pub fn error(err: &ApiError, request_id: &str) -> Reply {
        let body = json!({"error": {
            "type": error_type(err.status),
            "message": err.message,
            "code": err.code,
            "field": err.field,
            "request_id": request_id,
        }});
        let mut r = Reply::json(err.status, &body);
        if let Some(secs) = err.retry_after {
            r.headers.push((
                http::header::RETRY_AFTER,
                HeaderValue::from_str(&secs.to_string()).unwrap_or(HeaderValue::from_static("1")),
            ));
        }
        if let Some(allow) = err.allow {
            r.headers
                .push((http::header::ALLOW, HeaderValue::from_static(allow)));
        }
        r
    }
}

pub(crate) type ApiResult = Result<Reply, ApiError>;

/// Everything a handler may look at.
pub(crate) struct Ctx {
    /// The data of the caller's account (and of no other).
    pub state: Arc<Mutex<State>>,
    /// For work that outlives the request (live event streams).
    pub clock: Arc<Clock>,
    pub request_id: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    /// `http://host:port/v1`
    pub base_url: String,
    pub body: Bytes,
    pub headers: HeaderMap,
    pub now: DateTime<Utc>,
}

impl Ctx {
    pub fn meta(&self) -> Value {
        json!({"request_id": self.request_id, "timestamp": ts(self.now)})
    }

    /// A `{data, meta}` envelope.
    pub fn ok(&self, status: u16, data: Value) -> ApiResult {
        Ok(Reply::json(
            status,
            &json!({"data": data, "meta": self.meta()}),
        ))
    }

    /// A 202 `{data, meta}` envelope for a job, with its `Location` (`path`
    /// under the base URL, e.g. `/reports/rpt_1`).
    pub fn accepted(&self, path: &str, data: Value) -> ApiResult {
        let mut reply = self.ok(202, data)?;
        if let Ok(v) = HeaderValue::from_str(&format!("{}{path}", self.base_url)) {
            reply.headers.push((http::header::LOCATION, v));
        }
        Ok(reply)
    }

    /// The first value of a query parameter.
    pub fn q(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Parses the request body as a JSON value (required body).
    pub fn json_body(&self) -> Result<Value, ApiError> {
        if let Some(ct) = self.header("content-type") {
            let mime = ct
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            let is_json = mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"));
            if !is_json {
                return Err(ApiError::new(
                    400,
                    "invalid_content_type",
                    format!("Request bodies must be JSON ('Content-Type: application/json'), not '{ct}'."),
                )
                .with_field("Content-Type"));
            }
        }
        if self.body.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(ApiError::invalid_json(
                "A JSON request body is required for this operation.",
            ));
        }
        serde_json::from_slice::<Value>(&self.body).map_err(|e| {
            ApiError::invalid_json(format!("The request body is not valid JSON: {e}."))
        })
    }

    // ---- query parameters -------------------------------------------------

    pub fn q_string(&self, name: &str, min: usize, max: usize) -> Result<Option<String>, ApiError> {
        match self.q(name) {
            None => Ok(None),
            Some(v) => {
                let n = v.chars().count();
                if n < min || n > max {
                    Err(ApiError::invalid_param(
                        name,
                        format!("The '{name}' parameter must be {min} to {max} characters long."),
                    ))
                } else {
                    Ok(Some(v.to_string()))
                }
            }
        }
    }

    pub fn q_enum(&self, name: &str, allowed: &[&str]) -> Result<Option<String>, ApiError> {
        match self.q(name) {
            None => Ok(None),
            Some(v) if allowed.contains(&v) => Ok(Some(v.to_string())),
            Some(v) => Err(ApiError::invalid_param(
                name,
                format!(
                    "The '{name}' parameter must be one of {}; got '{v}'.",
                    allowed.join(", ")
                ),
            )),
        }
    }

    pub fn q_id(&self, name: &str, prefix: &str) -> Result<Option<String>, ApiError> {
        match self.q(name) {
            None => Ok(None),
            Some(v) if crate::validate::is_id(v, prefix) => Ok(Some(v.to_string())),
            Some(v) => Err(ApiError::invalid_param(
                name,
                format!(
                    "The '{name}' parameter must be an id starting with '{prefix}_'; got '{v}'."
                ),
            )),
        }
    }

    pub fn q_datetime(&self, name: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
        match self.q(name) {
            None => Ok(None),
            Some(v) => crate::validate::parse_datetime_lenient(v)
                .map(Some)
                .ok_or_else(|| {
                    ApiError::invalid_param(
                        name,
                        format!("The '{name}' parameter must be an RFC 3339 date-time (e.g. 2025-01-15T10:30:00Z); got '{v}'."),
                    )
                }),
        }
    }

    pub fn q_datetime_req(&self, name: &str) -> Result<DateTime<Utc>, ApiError> {
        self.q_datetime(name)?.ok_or_else(|| {
            ApiError::invalid_param(name, format!("The '{name}' query parameter is required."))
        })
    }

    pub fn q_int(&self, name: &str, min: i64, max: i64) -> Result<Option<i64>, ApiError> {
        match self.q(name) {
            None => Ok(None),
            Some(v) => match v.parse::<i64>() {
                Ok(n) if n >= min && n <= max => Ok(Some(n)),
                _ => Err(ApiError::invalid_param(
                    name,
                    format!(
                        "The '{name}' parameter must be an integer from {min} to {max}; got '{v}'."
                    ),
                )),
            },
        }
    }

    /// `page` and `per_page`.
    pub fn page(&self) -> Result<PageReq, ApiError> {
        let page = match self.q("page") {
            None => 1,
            Some(v) => parse_big_positive(v).ok_or_else(|| {
                ApiError::invalid_param(
                    "page",
                    format!("The 'page' parameter must be an integer >= 1; got '{v}'."),
                )
            })?,
        };
        let per_page = match self.q("per_page") {
            None => 25,
            Some(v) => match parse_big_positive(v) {
                Some(n) if n <= 100 => n,
                _ => {
                    return Err(ApiError::invalid_param(
                        "per_page",
                        format!(
                            "The 'per_page' parameter must be an integer from 1 to 100; got '{v}'."
                        ),
                    ));
                }
            },
        };
        Ok(PageReq { page, per_page })
    }

    /// Builds a list reply: `items` are all the matching items in order.
    pub fn list<T>(&self, pr: PageReq, items: &[T], render: impl Fn(&T) -> Value) -> ApiResult {
        let total = items.len() as u64;
        let total_pages = total.div_ceil(pr.per_page);
        let start = (pr.page - 1).saturating_mul(pr.per_page);
        let data: Vec<Value> = if start >= total {
            Vec::new()
        } else {
            let end = start.saturating_add(pr.per_page).min(total);
            items[start as usize..end as usize]
                .iter()
                .map(render)
                .collect()
        };
        let last = total_pages.max(1);
        let link = |p: u64| Value::String(self.page_link(p, pr.per_page));
        let prev = if pr.page > 1 {
            link((pr.page - 1).min(last))
        } else {
            Value::Null
        };
        let next = if pr.page < total_pages {
            link(pr.page + 1)
        } else {
            Value::Null
        };
        let body = json!({
            "data": data,
            "meta": {
                "total": total,
                "page": pr.page,
                "per_page": pr.per_page,
                "total_pages": total_pages,
                "request_id": self.request_id,
                "timestamp": ts(self.now),
            },
            "links": {"first": link(1), "prev": prev, "next": next, "last": link(last)},
        });
        Ok(Reply::json(200, &body))
    }

    /// Absolute URL of this list with another page, keeping the other parameters.
    fn page_link(&self, page: u64, per_page: u64) -> String {
        let mut ser = form_urlencoded::Serializer::new(String::new());
        ser.append_pair("page", &page.to_string());
        ser.append_pair("per_page", &per_page.to_string());
        for (k, v) in &self.query {
            if k != "page" && k != "per_page" {
                ser.append_pair(k, v);
            }
        }
        format!("{}{}?{}", self.origin(), self.path, ser.finish())
    }

    /// `http://host:port`
    pub fn origin(&self) -> &str {
        self.base_url.strip_suffix("/v1").unwrap_or(&self.base_url)
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct PageReq {
    pub page: u64,
    pub per_page: u64,
}

/// A positive integer written in decimal; values too large for u64 saturate.
fn parse_big_positive(v: &str) -> Option<u64> {
    let digits = v.strip_prefix('+').unwrap_or(v);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let trimmed = digits.trim_start_matches('0');
    if trimmed.is_empty() {
        return None; // zero
    }
    Some(trimmed.parse::<u64>().unwrap_or(u64::MAX))
}
