//! Maps a method and a path to an operation of the spec.

use http::Method;

/// The 50 operations of the spec, and the sandbox's own routes (under
/// `/v1/_sandbox`, not part of the API).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    ListAgents,
    CreateAgent,
    GetAgent,
    UpdateAgent,
    DeleteAgent,
    EnableAgent,
    DisableAgent,
    ArchiveAgent,
    ListVoices,
    ListTimezones,
    ListConversations,
    GetConversation,
    GetTranscript,
    GetRecording,
    StreamEvents,
    GetConversationAnalytics,
    ListContacts,
    CreateContact,
    GetContact,
    UpdateContact,
    DeleteContact,
    AddContactTags,
    RemoveContactTag,
    ListInteractions,
    ListCustomFields,
    CreateCustomField,
    ListCalendars,
    GetCalendar,
    GetAvailability,
    ListAppointments,
    CreateAppointment,
    GetAppointment,
    UpdateAppointment,
    CancelAppointment,
    ListWorkflows,
    CreateWorkflow,
    GetWorkflow,
    UpdateWorkflow,
    DeleteWorkflow,
    TriggerWorkflow,
    ListExecutions,
    GetExecution,
    AnalyticsSummary,
    RealtimeMetrics,
    ListReports,
    CreateReport,
    GetReport,
    CreateExport,
    GetExport,
    DownloadExport,
    /// `GET /_sandbox/clock` (sandbox only).
    SandboxClock,
    /// `POST /_sandbox/clock/advance` (sandbox only).
    AdvanceClock,
}

pub(crate) enum RouteError {
    NotFound,
    MethodNotAllowed(&'static str),
}

/// A matched route: the operation and its path parameters (decoded), each
/// with its name and the id prefix it must have (or "" for the tag).
pub(crate) struct Matched {
    pub op: Op,
    pub params: Vec<(&'static str, &'static str, String)>,
}

type Table = &'static [(&'static str, Op)];

pub(crate) fn route(method: &Method, segs: &[String]) -> Result<Matched, RouteError> {
    use Op::*;
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    // (methods table, path params)
    let (table, params): (Table, Vec<(&'static str, &'static str, String)>) = match s.as_slice() {
        ["agents"] => (&[("GET", ListAgents), ("POST", CreateAgent)], vec![]),
        ["agents", id] => (
            &[
                ("GET", GetAgent),
                ("PATCH", UpdateAgent),
                ("DELETE", DeleteAgent),
            ],
            vec![("agent_id", "agt", id.to_string())],
        ),
        ["agents", id, "enable"] => (
            &[("POST", EnableAgent)],
            vec![("agent_id", "agt", id.to_string())],
        ),
        ["agents", id, "disable"] => (
            &[("POST", DisableAgent)],
            vec![("agent_id", "agt", id.to_string())],
        ),
        ["agents", id, "archive"] => (
            &[("POST", ArchiveAgent)],
            vec![("agent_id", "agt", id.to_string())],
        ),
        ["voices"] => (&[("GET", ListVoices)], vec![]),
        ["timezones"] => (&[("GET", ListTimezones)], vec![]),
        ["conversations"] => (&[("GET", ListConversations)], vec![]),
        ["conversations", id] => (
            &[("GET", GetConversation)],
            vec![("conversation_id", "conv", id.to_string())],
        ),
        ["conversations", id, "transcript"] => (
            &[("GET", GetTranscript)],
            vec![("conversation_id", "conv", id.to_string())],
        ),
        ["conversations", id, "recording"] => (
            &[("GET", GetRecording)],
            vec![("conversation_id", "conv", id.to_string())],
        ),
        ["conversations", id, "events"] => (
            &[("GET", StreamEvents)],
            vec![("conversation_id", "conv", id.to_string())],
        ),
        ["conversations", id, "analytics"] => (
            &[("GET", GetConversationAnalytics)],
            vec![("conversation_id", "conv", id.to_string())],
        ),
        ["contacts"] => (&[("GET", ListContacts), ("POST", CreateContact)], vec![]),
        ["contacts", id] => (
            &[
                ("GET", GetContact),
                ("PATCH", UpdateContact),
                ("DELETE", DeleteContact),
            ],
            vec![("contact_id", "cnt", id.to_string())],
        ),
        ["contacts", id, "tags"] => (
            &[("POST", AddContactTags)],
            vec![("contact_id", "cnt", id.to_string())],
        ),
        ["contacts", id, "tags", tag] => (
            &[("DELETE", RemoveContactTag)],
            vec![
                ("contact_id", "cnt", id.to_string()),
                ("tag", "", tag.to_string()),
            ],
        ),
        ["contacts", id, "interactions"] => (
            &[("GET", ListInteractions)],
            vec![("contact_id", "cnt", id.to_string())],
        ),
        ["custom-fields"] => (
            &[("GET", ListCustomFields), ("POST", CreateCustomField)],
            vec![],
        ),
        ["calendars"] => (&[("GET", ListCalendars)], vec![]),
        ["calendars", id] => (
            &[("GET", GetCalendar)],
            vec![("calendar_id", "cal", id.to_string())],
        ),
        ["calendars", id, "availability"] => (
            &[("GET", GetAvailability)],
            vec![("calendar_id", "cal", id.to_string())],
        ),
        ["appointments"] => (
            &[("GET", ListAppointments), ("POST", CreateAppointment)],
            vec![],
        ),
        ["appointments", id] => (
            &[("GET", GetAppointment), ("PATCH", UpdateAppointment)],
            vec![("appointment_id", "apt", id.to_string())],
        ),
        ["appointments", id, "cancel"] => (
            &[("POST", CancelAppointment)],
            vec![("appointment_id", "apt", id.to_string())],
        ),
        ["workflows"] => (&[("GET", ListWorkflows), ("POST", CreateWorkflow)], vec![]),
        ["workflows", id] => (
            &[
                ("GET", GetWorkflow),
                ("PATCH", UpdateWorkflow),
                ("DELETE", DeleteWorkflow),
            ],
            vec![("workflow_id", "wf", id.to_string())],
        ),
        ["workflows", id, "trigger"] => (
            &[("POST", TriggerWorkflow)],
            vec![("workflow_id", "wf", id.to_string())],
        ),
        ["workflows", id, "executions"] => (
            &[("GET", ListExecutions)],
            vec![("workflow_id", "wf", id.to_string())],
        ),
        ["workflow-executions", id] => (
            &[("GET", GetExecution)],
            vec![("execution_id", "wfx", id.to_string())],
        ),
        ["analytics", "summary"] => (&[("GET", AnalyticsSummary)], vec![]),
        ["analytics", "realtime"] => (&[("GET", RealtimeMetrics)], vec![]),
        ["reports"] => (&[("GET", ListReports), ("POST", CreateReport)], vec![]),
        ["reports", id] => (
            &[("GET", GetReport)],
            vec![("report_id", "rpt", id.to_string())],
        ),
        ["exports"] => (&[("POST", CreateExport)], vec![]),
        ["exports", id] => (
            &[("GET", GetExport)],
            vec![("export_id", "exp", id.to_string())],
        ),
        ["exports", id, "download"] => (
            &[("GET", DownloadExport)],
            vec![("export_id", "exp", id.to_string())],
        ),
        ["_sandbox", "clock"] => (&[("GET", SandboxClock)], vec![]),
        ["_sandbox", "clock", "advance"] => (&[("POST", AdvanceClock)], vec![]),
        _ => return Err(RouteError::NotFound),
    };
    let m = if method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    match table.iter().find(|(tm, _)| *tm == m) {
        Some((_, op)) => Ok(Matched { op: *op, params }),
        None => Err(RouteError::MethodNotAllowed(allow_header(table))),
    }
}

fn allow_header(table: Table) -> &'static str {
    let names: Vec<&str> = table.iter().map(|(m, _)| *m).collect();
    match names.as_slice() {
        ["GET"] => "GET, HEAD, OPTIONS",
        ["POST"] => "POST, OPTIONS",
        ["DELETE"] => "DELETE, OPTIONS",
        ["GET", "POST"] => "GET, HEAD, POST, OPTIONS",
        ["GET", "PATCH"] => "GET, HEAD, PATCH, OPTIONS",
        ["GET", "PATCH", "DELETE"] => "GET, HEAD, PATCH, DELETE, OPTIONS",
        _ => "GET, HEAD, POST, PATCH, DELETE, OPTIONS",
    }
}

impl Op {
    /// Whether the operation changes something (read-only keys may not run it).
    pub fn is_write(self) -> bool {
        !matches!(
            self,
            Op::ListAgents
                | Op::GetAgent
                | Op::ListVoices
                | Op::ListTimezones
                | Op::ListConversations
                | Op::GetConversation
                | Op::GetTranscript
                | Op::GetRecording
                | Op::StreamEvents
                | Op::GetConversationAnalytics
                | Op::ListContacts
                | Op::GetContact
                | Op::ListInteractions
                | Op::ListCustomFields
                | Op::ListCalendars
                | Op::GetCalendar
                | Op::GetAvailability
                | Op::ListAppointments
                | Op::GetAppointment
                | Op::ListWorkflows
                | Op::GetWorkflow
                | Op::ListExecutions
                | Op::GetExecution
                | Op::AnalyticsSummary
                | Op::RealtimeMetrics
                | Op::ListReports
                | Op::GetReport
                | Op::GetExport
                | Op::DownloadExport
                | Op::SandboxClock
        )
    }
}
