//! Pull the analytics summary and real-time metrics, generate a report and
//! an export and download it.

use ayra::chrono::Duration;
use ayra::prelude::*;
use ayra_scenarios::Harness;
use futures::TryStreamExt;

pub async fn run(h: &Harness) {
    let c = &h.client;
    let end = h.now();
    let start = end - Duration::days(90);
    let summary = c
        .get_analytics_summary()
        .start(start)
        .end(end)
        .granularity(Granularity::Week)
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    let conversations: Vec<Conversation> = c
        .list_conversations()
        .started_after(start)
        .started_before(end)
        .per_page(100)
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        summary.totals.conversations as usize,
        conversations.len(),
        "the summary counts what the list holds"
    );
    let completed = conversations
        .iter()
        .filter(|x| x.status == ConversationStatus::Completed)
        .count();
    assert_eq!(summary.totals.completed as usize, completed);
    let bucketed: u64 = summary.series.iter().map(|b| b.conversations).sum();
    assert_eq!(bucketed, summary.totals.conversations);

    let realtime = c
        .get_realtime_metrics()
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    let live = conversations
        .iter()
        .filter(|x| x.status == ConversationStatus::InProgress)
        .count();
    assert_eq!(realtime.active_conversations as usize, live);

    let params = ReportParameters::builder().start(start).end(end);
    let report = c
        .create_report()
        .body_map(|b| b.type_(ReportType::ConversationSummary).parameters(params))
        .send()
        .await
        .unwrap();
    assert_eq!(report.status().as_u16(), 202);
    h.finish_jobs();
    let report = c
        .wait_for_report(&report.data.id, std::time::Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(report.status, JobStatus::Succeeded);
    assert!(report.result.is_some());
    let reports = c.list_reports().send().await.unwrap();
    assert!(reports.data.iter().any(|r| r.id == report.id));

    let export = c
        .create_export()
        .body_map(|b| {
            b.resource(ExportResource::Contacts)
                .format(ExportFormat::Ndjson)
        })
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    // 409 until the export has succeeded: it exists, its file does not yet.
    // The export cannot finish before the clock is moved on.
    let err = c
        .download_export()
        .export_id(&export.id)
        .send()
        .await
        .err()
        .expect("an unfinished export has no file to download");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(409));
    assert_eq!(err.error_code(), Some(ErrorCode::ExportNotReady));
    assert!(
        !err.is_retryable(),
        "a 409 is not retried: the caller waits for the job"
    );
    h.finish_jobs();
    let export = c
        .wait_for_export(&export.id, std::time::Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(export.status, JobStatus::Succeeded);
    let mut file = Vec::new();
    c.download_export()
        .export_id(&export.id)
        .send()
        .await
        .unwrap()
        .write_to(&mut file)
        .await
        .unwrap();
    let rows: Vec<serde_json::Value> = file
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("one JSON object per line"))
        .collect();
    let contacts = c.list_contacts().send().await.unwrap().meta.total;
    assert_eq!(rows.len() as u64, contacts);
    assert_eq!(export.row_count, Some(contacts));
    assert!(
        rows.iter()
            .all(|r| r["id"].as_str().is_some_and(|id| id.starts_with("cnt_")))
    );
    assert!(
        c.get_report()
            .report_id("rpt_nope")
            .send()
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(
        c.get_export()
            .export_id("exp_nope")
            .send()
            .await
            .unwrap_err()
            .is_not_found()
    );
}
