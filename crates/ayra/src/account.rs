//! Whose key a client holds: the credentials of one account, checked once,
//! with a label that may be printed and an identity that keeps one
//! account's cached responses from another's.

use crate::error::{Error, Result};
use reqwest::header::HeaderValue;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, OnceLock};

/// The longest account label, in characters.
const MAX_LABEL_CHARS: usize = 64;

/// One account's credentials as a client holds them.
#[derive(Clone)]
pub(crate) struct Account {
    /// `Bearer <key>`, marked sensitive (hidden from `Debug` of headers).
    auth: HeaderValue,
    label: Arc<str>,
    /// A keyed hash of the key: equal for equal keys within this process,
    /// and no use to anyone who reads it. Never printed.
    id: u64,
}

impl Account {
    /// Checks `key` and `label` and builds the `Authorization` value. A key
    /// that is empty, holds whitespace or anything but visible ASCII is a
    /// [`Error::Config`] here, before anything is sent; so is a label that
    /// is empty, too long, not printable, or that holds the key.
    pub(crate) fn new(label: Option<String>, key: &str) -> Result<Account> {
        if key.trim().is_empty() {
            return Err(Error::Config("the API key is empty".to_string()));
        }
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::Config(
                "the API key has characters not allowed in a header (whitespace, control or non-ASCII characters)"
                    .to_string(),
            ));
        }
        let label = match label {
            Some(label) => check_label(label, key)?,
            None => default_label(key),
        };
        let mut auth = HeaderValue::from_str(&format!("Bearer {key}"))
            .map_err(|_| Error::Config("the API key is not a valid header value".to_string()))?;
        auth.set_sensitive(true);
        Ok(Account {
            auth,
            label: label.into(),
            id: fingerprint(key),
        })
    }

    pub(crate) fn auth(&self) -> &HeaderValue {
        &self.auth
    }

    pub(crate) fn label(&self) -> &str {
        &self.label
    }

    /// The label as errors keep it (a clone of a pointer, no copy).
    pub(crate) fn shared_label(&self) -> Arc<str> {
        self.label.clone()
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }
}

/// A label the caller gave, if it is fit to print.
fn check_label(label: String, key: &str) -> Result<String> {
    let label = label.trim().to_string();
    if label.is_empty() || label.chars().count() > MAX_LABEL_CHARS {
        return Err(Error::Config(format!(
            "an account label must have 1 to {MAX_LABEL_CHARS} characters"
        )));
    }
    if label.chars().any(char::is_control) {
        return Err(Error::Config(
            "an account label must be printable (no control characters)".to_string(),
        ));
    }
    if label.contains(key) {
        // The label is printed in errors and traces: it must not carry the key.
        return Err(Error::Config(
            "the account label contains the API key; give the account a name instead".to_string(),
        ));
    }
    Ok(label)
}

/// `…` and the key's last 4 characters, as dashboards show keys; a key too
/// short to spare 4 characters shows none.
fn default_label(key: &str) -> String {
    if key.len() >= 16 {
        format!("…{}", &key[key.len() - 4..])
    } else {
        "…".to_string()
    }
}

/// A hash of the key under a key drawn once per process.
fn fingerprint(key: &str) -> u64 {
    static STATE: OnceLock<std::collections::hash_map::RandomState> = OnceLock::new();
    let mut hasher = STATE.get_or_init(Default::default).build_hasher();
    hasher.write(key.as_bytes());
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::Account;

    #[test]
    fn keys_a_header_cannot_carry_are_refused() {
        for bad in [
            "",
            "   ",
            "sk_test key",
            "sk_test\tkey",
            "sk\nkey",
            "sk_tést",
            "\u{7f}",
        ] {
            let e = Account::new(None, bad).err().expect(bad);
            assert!(matches!(e, crate::Error::Config(_)), "{bad:?}: {e}");
        }
        assert!(Account::new(None, "sk_live_0123456789abcdef").is_ok());
    }

    #[test]
    fn labels_are_printable_and_never_the_key() {
        let key = "sk_live_0123456789abcdef";
        assert_eq!(Account::new(None, key).unwrap().label(), "…cdef");
        assert_eq!(Account::new(None, "sk_short").unwrap().label(), "…");
        assert_eq!(
            Account::new(Some(" acme ".into()), key).unwrap().label(),
            "acme"
        );
        for bad in [
            "",
            " ",
            "a\u{1b}[31m",
            &"x".repeat(65),
            &format!("acme {key}"),
        ] {
            assert!(Account::new(Some(bad.to_string()), key).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_identity_follows_the_key_not_the_label() {
        let a = Account::new(Some("a".into()), "sk_test_aaaaaaaaaaaa").unwrap();
        let a2 = Account::new(Some("b".into()), "sk_test_aaaaaaaaaaaa").unwrap();
        let b = Account::new(Some("a".into()), "sk_test_bbbbbbbbbbbb").unwrap();
        assert_eq!(a.id(), a2.id());
        assert_ne!(a.id(), b.id());
    }
}
