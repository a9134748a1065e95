//! Stage 7 (and 3, the CORS preflight): the operation a request asks for,
//! its path parameters checked, and whether the caller's key may run it.

use http::header::{self, HeaderValue};
use http::request::Parts;
use http::{Method, Response};

use super::render::{self, RespBody};
use crate::api::Reply;
use crate::error::ApiError;
use crate::router::{Op, RouteError, route as match_route};

const ALLOW_HEADERS: &str = "Authorization, Content-Type, Idempotency-Key, X-Sandbox-Fault, X-Sandbox-Fault-Times, X-Sandbox-Job, Accept, Last-Event-ID";

/// An operation with its path parameters, in path order.
pub(crate) struct Route {
    pub op: Op,
    pub params: Vec<String>,
}

pub(crate) fn route(parts: &Parts, read_only: bool) -> Result<Route, ApiError> {
    let path = parts.uri.path();
    let segs = segments(path).ok_or_else(|| not_found(&parts.method, path))?;
    let matched = match_route(&parts.method, &segs).map_err(|e| match e {
        RouteError::NotFound => not_found(&parts.method, path),
        RouteError::MethodNotAllowed(allow) => {
            let mut e = ApiError::new(
                405,
                "method_not_allowed",
                format!(
                    "{} is not supported on {path}; allowed: {allow}.",
                    parts.method
                ),
            );
            e.allow = Some(allow);
            e
        }
    })?;
    if read_only && matched.op.is_write() {
        return Err(ApiError::new(
            403,
            "insufficient_permissions",
            "This API key does not have permission to perform this operation (it is read-only).",
        ));
    }
    for (name, prefix, value) in &matched.params {
        check_param(name, prefix, value)?;
    }
    Ok(Route {
        op: matched.op,
        params: matched.params.into_iter().map(|(_, _, v)| v).collect(),
    })
}

/// A path parameter: an id with its prefix, or (no prefix) 1 to 64 characters.
fn check_param(name: &str, prefix: &str, value: &str) -> Result<(), ApiError> {
    let msg = if prefix.is_empty() {
        if (1..=64).contains(&value.chars().count()) {
            return Ok(());
        }
        format!("The '{name}' path parameter must be 1 to 64 characters long.")
    } else {
        if crate::validate::is_id(value, prefix) {
            return Ok(());
        }
        format!(
            "The '{name}' path parameter must be an id starting with '{prefix}_'; got '{value}'."
        )
    };
    Err(ApiError::invalid_param(name, msg))
}

/// Answers a CORS preflight with the methods of the path (404 for unknown paths).
pub(crate) fn preflight(parts: &Parts, rid: &str) -> Response<RespBody> {
    let allow =
        segments(parts.uri.path()).and_then(|segs| match match_route(&Method::OPTIONS, &segs) {
            Err(RouteError::MethodNotAllowed(allow)) => Some(allow),
            _ => None,
        });
    let Some(allow) = allow else {
        return render::error(&not_found(&parts.method, parts.uri.path()), rid);
    };
    let allow_headers = parts
        .headers
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .cloned()
        .unwrap_or(HeaderValue::from_static(ALLOW_HEADERS));
    let mut r = Reply::empty(204);
    r.headers.extend([
        (
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(allow),
        ),
        (header::ACCESS_CONTROL_ALLOW_HEADERS, allow_headers),
        (
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        ),
        (header::ALLOW, HeaderValue::from_static(allow)),
    ]);
    render::reply(r, rid, false)
}

/// The decoded path segments after `/v1/`. A trailing slash is an empty last
/// segment, so `/contacts/{id}/` is not `/contacts/{id}`: a client whose path
/// value resolved away must not reach another resource.
fn segments(path: &str) -> Option<Vec<String>> {
    let rest = if path == "/v1" {
        ""
    } else {
        path.strip_prefix("/v1/")?
    };
    let segs: Vec<String> = rest
        .split('/')
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    Some(segs)
}

fn not_found(method: &Method, path: &str) -> ApiError {
    ApiError::new(
        404,
        "route_not_found",
        format!("No route for {method} {path}; the API lives under /v1 (see the spec)."),
    )
}
