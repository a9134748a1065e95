//! Stage 5: the API key of the request resolved to its account, with full
//! access or read-only. From here on the request sees only that account's data.

use std::sync::Arc;

use http::HeaderMap;
use http::header;

use crate::accounts::{Account, Accounts};
use crate::error::ApiError;

/// The caller, once authenticated.
pub(crate) struct Caller {
    pub key: String,
    pub read_only: bool,
    pub account: Arc<Account>,
}

pub(crate) fn authenticate(accounts: &Accounts, headers: &HeaderMap) -> Result<Caller, ApiError> {
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
    let grant = accounts.resolve(key).ok_or_else(invalid)?;
    Ok(Caller {
        key: key.to_string(),
        read_only: grant.read_only,
        account: grant.account.clone(),
    })
}
