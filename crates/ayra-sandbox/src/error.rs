//! The API's errors, rendered as the spec's error envelope.

/// An API error: rendered as the spec's error envelope.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub field: Option<String>,
    pub retry_after: Option<u64>,
    pub allow: Option<&'static str>,
}

impl ApiError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_string(),
            message: message.into(),
            field: None,
            retry_after: None,
            allow: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// 500 for a bug of the sandbox (a handler panicked).
    pub fn internal() -> Self {
        Self::new(
            500,
            "internal_error",
            "An unexpected error occurred in the sandbox (a bug: please report it with the request id).",
        )
    }

    /// 400 `invalid_field` about a body field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::new(400, "invalid_field", message).with_field(field)
    }

    /// 400 `missing_required_field`.
    pub fn missing(field: &str) -> Self {
        Self::new(
            400,
            "missing_required_field",
            format!("The '{field}' field is required."),
        )
        .with_field(field)
    }

    /// 400 `invalid_parameter` about a path, query or header parameter.
    pub fn invalid_param(param: &str, message: impl Into<String>) -> Self {
        Self::new(400, "invalid_parameter", message).with_field(param)
    }

    /// 400 `invalid_json`.
    pub fn invalid_json(message: impl Into<String>) -> Self {
        Self::new(400, "invalid_json", message)
    }

    /// 404 `resource_not_found` for the path parameter `param`.
    pub fn not_found(param: &str, kind: &str, id: &str) -> Self {
        Self::new(
            404,
            "resource_not_found",
            format!("No {kind} found with id '{id}'."),
        )
        .with_field(param)
    }

    /// 422 with a code.
    pub fn unprocessable(code: &str, field: Option<&str>, message: impl Into<String>) -> Self {
        let e = Self::new(422, code, message);
        match field {
            Some(f) => e.with_field(f),
            None => e,
        }
    }
}

/// The `type` of an error envelope, determined by the status.
pub(crate) fn error_type(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found",
        409 => "conflict",
        422 => "unprocessable_entity",
        429 => "rate_limit_exceeded",
        503 => "service_unavailable",
        500..=599 => "api_error",
        _ => "invalid_request",
    }
}
