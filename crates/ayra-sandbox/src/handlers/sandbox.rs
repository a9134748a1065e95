//! The sandbox's own routes, under `/v1/_sandbox` (not part of the API, not
//! in the spec): its clock.

use chrono::Duration;
use serde_json::json;

use crate::api::{ApiResult, Ctx};
use crate::error::ApiError;
use crate::model::ts;
use crate::validate::Obj;

/// Ten years: far enough for any test, small enough to never overflow.
const MAX_ADVANCE_SECONDS: i64 = 10 * 366 * 24 * 3600;

/// `GET /_sandbox/clock`: `{"data": {"now": ...}}`.
pub(crate) fn clock(ctx: &Ctx) -> ApiResult {
    ctx.ok(200, json!({"now": ts(ctx.clock.now())}))
}

/// `POST /_sandbox/clock/advance` with `{"seconds": N}`: moves the clock
/// forward by N seconds and answers with the new time.
pub(crate) fn advance_clock(ctx: &Ctx) -> ApiResult {
    let body = ctx.json_body()?;
    let obj = Obj::body(&body)?;
    let seconds = obj
        .int_opt("seconds", 0, MAX_ADVANCE_SECONDS)?
        .ok_or_else(|| ApiError::missing("seconds"))?;
    ctx.clock.advance(Duration::seconds(seconds));
    clock(ctx)
}
