"""Schemathesis hooks for crates/ayra-sandbox/conformance.sh.

1. Fresh idempotency keys. Schemathesis sends the spec's example
   `Idempotency-Key` (or short generated strings such as "0") with many different
   bodies; the sandbox then rightly answers 422 `idempotency_key_reused`, and
   the write operations' real logic is never exercised. Every *valid* key is
   replaced by a fresh UUID in positive cases (negative cases are left alone). Idempotency itself is covered by the crate's own tests.

2. Known false positives of the tool, dropped with `filter_failure`:
   - stateful links that take an id from a nullable field (e.g. an
     appointment's `contact_id`) and send Python's `None` as the path
     parameter ("/contacts/None"): that value does not match the parameter's
     pattern, so the sandbox's 400 `invalid_parameter` is what the spec asks for.

3. Known SPEC issues (reported upstream), dropped unless AYRA_CONFORMANCE_STRICT=1:
   - `GET /conversations/{conversation_id}/events`: the `text/event-stream`
     schema is `type: string`; schemathesis (like OpenAPI 3.2) reads a
     pre-3.2 event-stream schema as the schema of ONE event, an object
     `{id, event, data, retry}`, so every event "violates" it.
"""

import os
import uuid

import schemathesis

STRICT = os.environ.get("AYRA_CONFORMANCE_STRICT") == "1"
ID_PARAMS = {
    "agent_id", "conversation_id", "contact_id", "calendar_id", "appointment_id",
    "workflow_id", "execution_id", "report_id", "export_id",
}


def _valid_key(value):
    return isinstance(value, str) and 1 <= len(value) <= 255 and value.isascii() and value.isprintable()


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    headers = case.headers
    if headers is None:
        return
    meta = case.meta
    if meta is not None and meta.generation.mode.is_negative:
        # Negative cases keep their headers as generated (changing them would
        # make schemathesis revalidate the case as positive); a 422 for a reused
        # key is a rejection, which is what negative cases expect anyway.
        return
    for name in list(headers.keys()):
        if name.lower() == "idempotency-key" and _valid_key(headers[name]):
            headers[name] = str(uuid.uuid4())


def _log(reason, failure, case):
    path = os.environ.get("AYRA_CONFORMANCE_FILTER_LOG")
    if path:
        with open(path, "a") as f:
            f.write(f"{reason}\t{failure.code}\t{failure.operation}\t{case.path_parameters}\t{failure.title}\n")


@schemathesis.hook
def filter_failure(ctx, failure, case, response):
    keep = _keep(failure, case)
    if not keep:
        _log("dropped", failure, case)
    return keep


def _keep(failure, case):
    params = case.path_parameters or {}
    if failure.code == "ST202" and any(k in ID_PARAMS and v in ("None", None) for k, v in params.items()):
        return False
    if not STRICT and failure.code == "ST108" and failure.title == "SSE event violates schema":
        op = failure.operation or ""
        if "/conversations/{conversation_id}/events" in op:
            return False
    return True
