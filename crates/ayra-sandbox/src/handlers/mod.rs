//! The operations of the spec (and the sandbox's own, in `sandbox.rs`).

pub(crate) mod agents;
pub(crate) mod analytics;
pub(crate) mod calendars;
pub(crate) mod contacts;
pub(crate) mod conversations;
pub(crate) mod sandbox;
pub(crate) mod workflows;

use crate::api::{ApiResult, Ctx};
use crate::router::Op;

pub(crate) fn dispatch(ctx: &Ctx, op: Op, params: &[String]) -> ApiResult {
    let p0 = params.first().map(String::as_str).unwrap_or("");
    let p1 = params.get(1).map(String::as_str).unwrap_or("");
    match op {
        Op::ListAgents => agents::list(ctx),
        Op::CreateAgent => agents::create(ctx),
        Op::GetAgent => agents::get(ctx, p0),
        Op::UpdateAgent => agents::update(ctx, p0),
        Op::DeleteAgent => agents::delete(ctx, p0),
        Op::EnableAgent => agents::set_status(ctx, p0, "active"),
        Op::DisableAgent => agents::set_status(ctx, p0, "disabled"),
        Op::ArchiveAgent => agents::set_status(ctx, p0, "archived"),
        Op::ListVoices => agents::list_voices(ctx),
        Op::ListTimezones => agents::list_timezones(ctx),
        Op::ListConversations => conversations::list(ctx),
        Op::GetConversation => conversations::get(ctx, p0),
        Op::GetTranscript => conversations::transcript(ctx, p0),
        Op::GetRecording => conversations::recording(ctx, p0),
        Op::StreamEvents => conversations::events(ctx, p0),
        Op::GetConversationAnalytics => conversations::analytics(ctx, p0),
        Op::ListContacts => contacts::list(ctx),
        Op::CreateContact => contacts::create(ctx),
        Op::GetContact => contacts::get(ctx, p0),
        Op::UpdateContact => contacts::update(ctx, p0),
        Op::DeleteContact => contacts::delete(ctx, p0),
        Op::AddContactTags => contacts::add_tags(ctx, p0),
        Op::RemoveContactTag => contacts::remove_tag(ctx, p0, p1),
        Op::ListInteractions => contacts::interactions(ctx, p0),
        Op::ListCustomFields => contacts::list_custom_fields(ctx),
        Op::CreateCustomField => contacts::create_custom_field(ctx),
        Op::ListCalendars => calendars::list(ctx),
        Op::GetCalendar => calendars::get(ctx, p0),
        Op::GetAvailability => calendars::availability(ctx, p0),
        Op::ListAppointments => calendars::list_appointments(ctx),
        Op::CreateAppointment => calendars::create_appointment(ctx),
        Op::GetAppointment => calendars::get_appointment(ctx, p0),
        Op::UpdateAppointment => calendars::update_appointment(ctx, p0),
        Op::CancelAppointment => calendars::cancel_appointment(ctx, p0),
        Op::ListWorkflows => workflows::list(ctx),
        Op::CreateWorkflow => workflows::create(ctx),
        Op::GetWorkflow => workflows::get(ctx, p0),
        Op::UpdateWorkflow => workflows::update(ctx, p0),
        Op::DeleteWorkflow => workflows::delete(ctx, p0),
        Op::TriggerWorkflow => workflows::trigger(ctx, p0),
        Op::ListExecutions => workflows::list_executions(ctx, p0),
        Op::GetExecution => workflows::get_execution(ctx, p0),
        Op::AnalyticsSummary => analytics::summary(ctx),
        Op::RealtimeMetrics => analytics::realtime(ctx),
        Op::ListReports => analytics::list_reports(ctx),
        Op::CreateReport => analytics::create_report(ctx),
        Op::GetReport => analytics::get_report(ctx, p0),
        Op::CreateExport => analytics::create_export(ctx),
        Op::GetExport => analytics::get_export(ctx, p0),
        Op::DownloadExport => analytics::download_export(ctx, p0),
        Op::SandboxClock => sandbox::clock(ctx),
        Op::AdvanceClock => sandbox::advance_clock(ctx),
    }
}
