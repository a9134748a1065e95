//! Stage 5: the API key of the request, full access or read-only.

use std::collections::HashSet;

use http::HeaderMap;
use http::header;

use crate::error::ApiError;

/// The keys the sandbox accepts.
pub(crate) struct Keys {
    pub full: HashSet<String>,
    pub read_only: HashSet<String>,
}

/// The caller, once authenticated.
pub(crate) struct Caller {
    pub key: String,
    pub read_only: bool,
}

pub(crate) fn authenticate(keys: &Keys, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let Some(v) = headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::new(
            401,
            "missing_api_key",
            "No API key provided. Send it as 'Authorization: Bearer <api key>'.",
        ));
    };
    let invalid = || {
        ApiError::new(
            401,
            "invalid_api_key",
            "The API key provided is invalid or has been revoked.",
        )
    };
    let s = v.to_str().map_err(|_| invalid())?.trim();
    let (scheme, key) = s.split_once(' ').ok_or_else(invalid)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(invalid());
    }
    let key = key.trim();
    let read_only = if keys.full.contains(key) {
        false
    } else if keys.read_only.contains(key) {
        true
    } else {
        return Err(invalid());
    };
    Ok(Caller {
        key: key.to_string(),
        read_only,
    })
}
