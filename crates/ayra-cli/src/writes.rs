//! How `apply` runs its accounts: at most [`ACCOUNTS_AT_ONCE`] at a time,
//! each account's writes in its plan's order. The one place to switch to
//! the SDK's bulk runner (`ayra::bulk`, with per-account rate limits) once it
//! is on main: this function's body is the only edit.

use futures::StreamExt;
use std::future::Future;

/// Accounts planned or applied concurrently.
pub const ACCOUNTS_AT_ONCE: usize = 4;

/// Runs `work` on every item, at most [`ACCOUNTS_AT_ONCE`] at a time; the
/// outcomes come back in the items' order.
pub async fn for_each_account<T, F, Fut>(items: Vec<T>, work: F) -> Vec<Fut::Output>
where
    F: FnMut(T) -> Fut,
    Fut: Future,
{
    futures::stream::iter(items)
        .map(work)
        .buffered(ACCOUNTS_AT_ONCE)
        .collect()
        .await
}
