//! What tests and benchmarks read of an account's data from the library,
//! without going through HTTP ([`crate::Sandbox::account`]).

use std::sync::atomic::Ordering;

use crate::accounts::Account;
use crate::state::lock;
use crate::stats::AccountStats;

/// The kinds of resources the sandbox stores, for [`AccountView::count`] and [`AccountView::ids`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Resource {
    /// Agents.
    Agents,
    /// Voices (reference data).
    Voices,
    /// Time zones (reference data).
    Timezones,
    /// Conversations.
    Conversations,
    /// Contacts.
    Contacts,
    /// Custom field definitions.
    CustomFields,
    /// Calendars.
    Calendars,
    /// Appointments (every occurrence of a series counts).
    Appointments,
    /// Workflows.
    Workflows,
    /// Workflow executions.
    WorkflowExecutions,
    /// Reports.
    Reports,
    /// Exports.
    Exports,
}

/// One account of a running sandbox: its data now and its counters.
pub struct AccountView<'a> {
    account: &'a Account,
}

impl std::fmt::Debug for AccountView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountView")
            .field("name", &self.account.name)
            .finish()
    }
}

impl<'a> AccountView<'a> {
    pub(crate) fn new(account: &'a Account) -> Self {
        AccountView { account }
    }

    /// The account's name ([`crate::DEFAULT_ACCOUNT`] for the default one).
    pub fn name(&self) -> &str {
        &self.account.name
    }

    /// How many resources of a kind the account holds now.
    pub fn count(&self, r: Resource) -> usize {
        let st = lock(&self.account.state);
        match r {
            Resource::Agents => st.agents.len(),
            Resource::Voices => st.voices.len(),
            Resource::Timezones => st.timezones.len(),
            Resource::Conversations => st.conversations.len(),
            Resource::Contacts => st.contacts.len(),
            Resource::CustomFields => st.custom_fields.len(),
            Resource::Calendars => st.calendars.len(),
            Resource::Appointments => st.appointments.len(),
            Resource::Workflows => st.workflows.len(),
            Resource::WorkflowExecutions => st.executions.len(),
            Resource::Reports => st.reports.len(),
            Resource::Exports => st.exports.len(),
        }
    }

    /// The ids of the account's resources of a kind, sorted.
    pub fn ids(&self, r: Resource) -> Vec<String> {
        let st = lock(&self.account.state);
        let mut v: Vec<String> = match r {
            Resource::Agents => st.agents.keys().cloned().collect(),
            Resource::Voices => st.voices.iter().map(|v| v.id.clone()).collect(),
            Resource::Timezones => st.timezones.iter().map(|v| v.id.clone()).collect(),
            Resource::Conversations => st.conversations.keys().cloned().collect(),
            Resource::Contacts => st.contacts.keys().cloned().collect(),
            Resource::CustomFields => st.custom_fields.iter().map(|v| v.id.clone()).collect(),
            Resource::Calendars => st.calendars.iter().map(|v| v.id.clone()).collect(),
            Resource::Appointments => st.appointments.keys().cloned().collect(),
            Resource::Workflows => st.workflows.keys().cloned().collect(),
            Resource::WorkflowExecutions => st.executions.keys().cloned().collect(),
            Resource::Reports => st.reports.keys().cloned().collect(),
            Resource::Exports => st.exports.keys().cloned().collect(),
        };
        v.sort();
        v
    }

    /// The ids of the account's contacts whose email is `email` (compared
    /// ignoring ASCII case), sorted: more than one is a duplicate.
    pub fn contacts_with_email(&self, email: &str) -> Vec<String> {
        let st = lock(&self.account.state);
        let mut v: Vec<String> = (st.contacts.values())
            .filter(|c| {
                c.email
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(email))
            })
            .map(|c| c.id.clone())
            .collect();
        v.sort();
        v
    }

    /// The account's counters.
    pub fn stats(&self) -> AccountStats {
        AccountStats {
            requests: self.account.requests.load(Ordering::Relaxed),
            writes_applied: self.account.writes_applied.load(Ordering::Relaxed),
        }
    }
}
