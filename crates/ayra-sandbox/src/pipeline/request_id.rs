//! Stage 1: every request gets an id, echoed in `X-Request-Id` and in error envelopes.

use rand::Rng;

use crate::state::BASE62;

/// `req_` and 16 base62 characters.
pub(crate) fn new() -> String {
    let mut rng = rand::rng();
    let mut id = String::from("req_");
    for _ in 0..16 {
        id.push(BASE62[rng.random_range(0..BASE62.len())] as char);
    }
    id
}
