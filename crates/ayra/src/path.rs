//! Path values as exactly one URL segment.
//!
//! A value that a URL parser would resolve must never reach the server: the
//! parser turns `..` into "the parent" and `\` into `/` in `http` URLs, so a
//! contact tag of `..` would make `DELETE /contacts/{id}/tags/{tag}` delete
//! the contact itself. Every generated request URL builds its path values
//! here.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything but RFC 3986's unreserved characters is percent-encoded, so a
/// value can hold `/`, `\`, `?`, `#`, `%` or spaces and stay one segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Encodes `value`, the path parameter `name`, as one path segment.
///
/// The values `""`, `.` and `..` are refused with
/// [`Error::InvalidRequest`](crate::Error::InvalidRequest) before anything is
/// sent: no encoding keeps them one segment, because URL parsers read
/// `%2e%2e` as `..` too.
// The error type is progenitor's, which the generated code returns.
#[allow(clippy::result_large_err)]
pub fn path_segment<E>(name: &str, value: &str) -> Result<String, progenitor_client::Error<E>> {
    match value {
        "" | "." | ".." => Err(progenitor_client::Error::InvalidRequest(format!(
            "path parameter `{name}` cannot be {value:?}: it would not name one resource"
        ))),
        _ => Ok(utf8_percent_encode(value, SEGMENT).to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::path_segment;

    #[test]
    fn encodes_separators_and_refuses_dot_segments() {
        let seg = |v: &str| path_segment::<()>("tag", v).ok();
        assert_eq!(seg("a\\..\\..").as_deref(), Some("a%5C..%5C.."));
        assert_eq!(seg("a/b?c#d%e f").as_deref(), Some("a%2Fb%3Fc%23d%25e%20f"));
        assert_eq!(seg(".%2e").as_deref(), Some(".%252e"));
        assert_eq!(seg("café").as_deref(), Some("caf%C3%A9"));
        assert_eq!(seg("..."), Some("...".to_string()));
        for refused in ["", ".", ".."] {
            assert!(seg(refused).is_none(), "{refused:?} must be refused");
        }
    }
}
