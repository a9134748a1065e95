//! Waiting for asynchronous jobs (workflow executions, reports, exports),
//! which move queued -> running -> succeeded or failed.

use crate::error::{Error, Result};
use crate::types::{Export, JobStatus, Report, WorkflowExecution};
use crate::{Client, ResponseExt};
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// A resource that is an asynchronous job.
pub trait Job {
    /// Its current status.
    fn status(&self) -> &JobStatus;
    /// Whether it has stopped moving (see [`JobStatus::is_terminal`]).
    fn is_finished(&self) -> bool {
        self.status().is_terminal()
    }
    /// Whether it finished and succeeded.
    fn is_succeeded(&self) -> bool {
        self.status().is_succeeded()
    }
}

/// ```
/// use ayra::types::JobStatus;
/// assert!(!JobStatus::Running.is_terminal());
/// assert!(JobStatus::Failed.is_terminal() && !JobStatus::Failed.is_succeeded());
/// assert!(JobStatus::Succeeded.is_succeeded());
/// ```
impl JobStatus {
    /// Whether the job has stopped moving: succeeded, failed, or a final
    /// status this SDK does not know yet (anything but queued and running).
    pub fn is_terminal(&self) -> bool {
        !matches!(self, JobStatus::Queued | JobStatus::Running)
    }

    /// Whether the job finished and succeeded.
    pub fn is_succeeded(&self) -> bool {
        matches!(self, JobStatus::Succeeded)
    }
}

impl Job for WorkflowExecution {
    fn status(&self) -> &JobStatus {
        &self.status
    }
}

impl Job for Report {
    fn status(&self) -> &JobStatus {
        &self.status
    }
}

impl Job for Export {
    fn status(&self) -> &JobStatus {
        &self.status
    }
}

/// The first poll interval; it doubles up to [`MAX_POLL_INTERVAL`].
const FIRST_POLL_INTERVAL: Duration = Duration::from_millis(100);
/// The longest wait between two polls.
const MAX_POLL_INTERVAL: Duration = Duration::from_secs(5);

/// Polls `fetch` with backoff until the job is finished or `timeout` passes.
/// A failed job is returned as it is (check its `status` and `error`); only
/// the deadline and the calls themselves are errors. The deadline bounds
/// everything, the poll in flight and its retries included; any duration
/// works (`Duration::MAX` waits forever).
pub async fn wait<J, F, Fut>(what: &str, timeout: Duration, mut fetch: F) -> Result<J>
where
    J: Job,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<J>>,
{
    let deadline = Instant::now().checked_add(timeout);
    let mut interval = FIRST_POLL_INTERVAL;
    let mut last_status = "not yet polled".to_string();
    let past_deadline = |last_status: String| Error::Deadline {
        what: what.to_string(),
        last_status,
    };
    loop {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(past_deadline(last_status));
        }
        let poll = fetch();
        let job = match deadline {
            Some(deadline) => match tokio::time::timeout_at(deadline, poll).await {
                Ok(job) => job?,
                Err(_) => return Err(past_deadline(last_status)),
            },
            None => poll.await?,
        };
        if job.is_finished() {
            return Ok(job);
        }
        last_status = job.status().to_string();
        let pause = match deadline {
            Some(deadline) => {
                let now = Instant::now();
                if now >= deadline {
                    return Err(past_deadline(last_status));
                }
                interval.min(deadline - now)
            }
            None => interval,
        };
        tokio::time::sleep(pause).await;
        interval = (interval * 2).min(MAX_POLL_INTERVAL);
    }
}

impl Client {
    /// Waits for a workflow execution to succeed or fail.
    ///
    /// ```no_run
    /// # async fn run(client: ayra::Client) -> ayra::Result<()> {
    /// use std::time::Duration;
    /// let run = client.wait_for_workflow_execution("wfx_123", Duration::from_secs(60)).await?;
    /// println!("{}: {:?}", run.status, run.result);
    /// # Ok(()) }
    /// ```
    pub async fn wait_for_workflow_execution(
        &self,
        execution_id: &str,
        timeout: Duration,
    ) -> Result<WorkflowExecution> {
        wait(
            &format!("workflow execution {execution_id}"),
            timeout,
            || async {
                let r = self
                    .get_workflow_execution()
                    .execution_id(execution_id)
                    .send()
                    .await?;
                trace_poll(&r);
                Ok(r.into_data())
            },
        )
        .await
    }

    /// Waits for a report to succeed or fail.
    pub async fn wait_for_report(&self, report_id: &str, timeout: Duration) -> Result<Report> {
        wait(&format!("report {report_id}"), timeout, || async {
            let r = self.get_report().report_id(report_id).send().await?;
            trace_poll(&r);
            Ok(r.into_data())
        })
        .await
    }

    /// Waits for an export to succeed or fail.
    pub async fn wait_for_export(&self, export_id: &str, timeout: Duration) -> Result<Export> {
        wait(&format!("export {export_id}"), timeout, || async {
            let r = self.get_export().export_id(export_id).send().await?;
            trace_poll(&r);
            Ok(r.into_data())
        })
        .await
    }
}

fn trace_poll<T>(r: &crate::Response<T>) {
    tracing::trace!(request_id = r.request_id().unwrap_or(""), "polled job");
}
