//! Asynchronous jobs: workflow executions, reports, exports (and their files).

mod common;

use std::time::Duration;

use common::{Env, assert_list};
use serde_json::{Value, json};

async fn env() -> Env {
    Env::with(ayra_sandbox::Sandbox::builder().job_duration(Duration::from_secs(600))).await
}

#[tokio::test]
async fn workflow_crud() {
    let env = env().await;
    let body = json!({"name": "Follow-up email", "trigger_type": "conversation_ended",
        "steps": [{"type": "send_email", "config": {"to": "{{contact.email}}"}}]});
    let r = env.post("/workflows", &body).await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.data()["status"], "active");
    assert!(r.data()["description"].is_null());
    let id = r.data()["id"].as_str().unwrap().to_string();
    let u = env
        .patch(
            &format!("/workflows/{id}"),
            &json!({"status": "paused", "description": "d"}),
        )
        .await;
    assert_eq!(
        (
            u.data()["status"].as_str(),
            u.data()["description"].as_str()
        ),
        (Some("paused"), Some("d"))
    );
    assert_eq!(u.data()["steps"], body["steps"]);
    env.post(&format!("/workflows/{id}/trigger"), &json!({"input": {}}))
        .await
        .assert_error(422, "workflow_paused", None);
    env.post(
        "/workflows",
        &json!({"name": "x", "trigger_type": "api", "steps": []}),
    )
    .await
    .assert_error(400, "invalid_field", Some("steps"));
    env.post(
        "/workflows",
        &json!({"name": "x", "trigger_type": "api", "steps": [{"type": "wait"}]}),
    )
    .await
    .assert_error(400, "missing_required_field", Some("steps[0].config"));
    env.post(
        "/workflows",
        &json!({"name": "x", "trigger_type": "cron", "steps": [{"type": "wait", "config": {}}]}),
    )
    .await
    .assert_error(400, "invalid_field", Some("trigger_type"));
    let list = assert_list(&env.get("/workflows").await);
    assert_eq!(list[0]["id"], id.as_str(), "newest first");
    assert_eq!(env.delete(&format!("/workflows/{id}")).await.status, 204);
    env.get(&format!("/workflows/{id}")).await.assert_error(
        404,
        "resource_not_found",
        Some("workflow_id"),
    );
}

#[tokio::test]
async fn executions_move_through_their_states() {
    // An hour-long job that only the sandbox's clock moves on.
    let env =
        Env::with(ayra_sandbox::Sandbox::builder().job_duration(Duration::from_secs(3600))).await;
    let f = env.sb.fixtures();
    let r = env
        .post(
            &format!("/workflows/{}/trigger", f.workflow_active),
            &json!({"input": {"contact_id": f.contact}}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.json);
    let x = r.data();
    assert_eq!(x["status"], "queued");
    assert!(
        x["result"].is_null()
            && x["error"].is_null()
            && x["started_at"].is_null()
            && x["finished_at"].is_null()
    );
    assert_eq!(x["input"]["contact_id"], f.contact);
    let path = format!("/workflow-executions/{}", x["id"].as_str().unwrap());
    // Queued for the first third of the hour, running until its end.
    let mut seen: Vec<String> = Vec::new();
    for _ in 0..3 {
        let s = env.get(&path).await.data()["status"]
            .as_str()
            .unwrap()
            .to_string();
        seen.push(s);
        env.sb.advance(Duration::from_secs(30 * 60));
    }
    assert_eq!(seen, ["queued", "running", "succeeded"]);
    let done = env.get(&path).await;
    assert_eq!(done.data()["result"]["steps_completed"], 2);
    assert!(done.data()["finished_at"].is_string() && done.data()["started_at"].is_string());
    // Failing input.
    let r = env
        .post(
            &format!("/workflows/{}/trigger", f.workflow_active),
            &json!({"input": {"fail": true}}),
        )
        .await;
    let failed = env
        .wait_job(&format!(
            "/workflow-executions/{}",
            r.data()["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(failed.data()["status"], "failed");
    assert!(failed.data()["error"].as_str().unwrap().contains("Step 1"));
    assert!(failed.data()["result"].is_null());
    // Listed newest first under the workflow.
    let list = assert_list(
        &env.get(&format!("/workflows/{}/executions", f.workflow_active))
            .await,
    );
    assert_eq!(list[0]["id"], r.data()["id"]);
    assert!(list.iter().all(|e| e["workflow_id"] == f.workflow_active));
    env.post(
        &format!("/workflows/{}/trigger", f.workflow_active),
        &json!({"input": "x"}),
    )
    .await
    .assert_error(400, "invalid_field", Some("input"));
    env.post(
        &format!("/workflows/{}/trigger", f.workflow_paused),
        &json!({"input": {}}),
    )
    .await
    .assert_error(422, "workflow_paused", None);
    env.get("/workflows/wf_none/executions").await.assert_error(
        404,
        "resource_not_found",
        Some("workflow_id"),
    );
    // Executions stay readable after their workflow is deleted.
    env.delete(&format!("/workflows/{}", f.workflow_active))
        .await;
    assert_eq!(env.get(&path).await.status, 200);
}

#[tokio::test]
async fn reports() {
    let env = env().await;
    let body = json!({"type": "conversation_summary", "parameters": {"start": "2020-01-01T00:00:00Z", "end": "2030-01-01T00:00:00Z"}});
    let r = env.post("/reports", &body).await;
    assert_eq!(r.status, 202, "{}", r.json);
    assert_eq!(r.data()["status"], "queued");
    assert!(
        r.data()["parameters"]["agent_id"].is_null(),
        "always included"
    );
    let done = env
        .wait_job(&format!("/reports/{}", r.data()["id"].as_str().unwrap()))
        .await;
    assert_eq!(done.data()["status"], "succeeded");
    let res = &done.data()["result"];
    let total = env.get("/conversations?per_page=1").await.json["meta"]["total"]
        .as_u64()
        .unwrap();
    assert_eq!(res["conversations"].as_u64(), Some(total));
    let outcomes: u64 = res["outcomes"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert!(outcomes <= total);
    for kind in ["agent_performance", "contact_growth"] {
        let r = env.post("/reports", &json!({"type": kind, "parameters": {"start": "2026-01-01T00:00:00Z", "end": "2027-01-01T00:00:00Z"}})).await;
        let done = env
            .wait_job(&format!("/reports/{}", r.data()["id"].as_str().unwrap()))
            .await;
        assert_eq!(done.data()["status"], "succeeded");
        assert!(done.data()["result"].is_object());
    }
    env.post("/reports", &json!({"type": "conversation_summary", "parameters": {"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"}}))
        .await
        .assert_error(422, "invalid_time_range", Some("parameters.end"));
    let failing = env
        .post_h("/reports", &body, &[("x-sandbox-job", "fail")])
        .await;
    let failed = env
        .wait_job(&format!(
            "/reports/{}",
            failing.data()["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(failed.data()["status"], "failed");
    assert!(failed.data()["error"].is_string() && failed.data()["result"].is_null());
    let list = assert_list(&env.get("/reports").await);
    assert_eq!(list[0]["id"], failing.data()["id"]);
    let f = env.sb.fixtures();
    assert_eq!(
        env.get(&format!("/reports/{}", f.report_succeeded))
            .await
            .data()["status"],
        "succeeded"
    );
    assert_eq!(
        env.get(&format!("/reports/{}", f.report_failed))
            .await
            .data()["status"],
        "failed"
    );
}

fn parse_csv_line(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

#[tokio::test]
async fn exports_csv_and_ndjson() {
    let env = Env::with(
        ayra_sandbox::Sandbox::builder()
            .seed_demo_data(5)
            .job_duration(Duration::from_secs(600)),
    )
    .await;
    let f = env.sb.fixtures();
    let r = env
        .post("/exports", &json!({"resource": "conversations", "format": "csv", "filters": {"agent_id": f.agent_active, "status": "completed"}}))
        .await;
    assert_eq!(r.status, 202, "{}", r.json);
    assert_eq!(r.data()["status"], "queued");
    assert!(r.data()["download_url"].is_null() && r.data()["row_count"].is_null());
    let id = r.data()["id"].as_str().unwrap().to_string();
    // The 202 points to the job (absolute, as the spec's Location header says).
    let location = r.header("location").expect("a Location on the 202");
    assert!(
        location.starts_with("http://") && location.ends_with(&format!("/v1/exports/{id}")),
        "{location}"
    );
    // 409 until it has succeeded: the export exists, its file does not yet.
    env.get(&format!("/exports/{id}/download"))
        .await
        .assert_error(409, "export_not_ready", None);
    let done = env.wait_job(&format!("/exports/{id}")).await;
    assert_eq!(done.data()["status"], "succeeded");
    let url = done.data()["download_url"].as_str().unwrap();
    assert_eq!(url, env.url(&format!("/exports/{id}/download")));
    let file = env.get(url.trim_start_matches(&env.base)).await;
    assert_eq!(file.status, 200);
    assert!(file.header("content-type").unwrap().starts_with("text/csv"));
    let text = file.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "id,agent_id,contact_id,direction,status,outcome,from_number,to_number,started_at,ended_at,duration_seconds,has_recording,summary"
    );
    let expected = env
        .get(&format!(
            "/conversations?agent_id={}&status=completed&per_page=1",
            f.agent_active
        ))
        .await
        .json["meta"]["total"]
        .as_u64()
        .unwrap();
    assert_eq!(lines.len() as u64 - 1, expected);
    assert_eq!(done.data()["row_count"].as_u64(), Some(expected));
    assert!(
        lines.len() > 1,
        "the fixtures' agent has completed conversations"
    );
    for l in &lines[1..] {
        let cells = parse_csv_line(l);
        assert_eq!(cells.len(), 13, "{l}");
        assert_eq!(cells[1], f.agent_active);
        assert_eq!(cells[4], "completed");
    }
    // NDJSON of contacts with a tag.
    let r = env
        .post(
            "/exports",
            &json!({"resource": "contacts", "format": "ndjson", "filters": {"tag": "vip"}}),
        )
        .await;
    let id = r.data()["id"].as_str().unwrap().to_string();
    env.wait_job(&format!("/exports/{id}")).await;
    let file = env.get(&format!("/exports/{id}/download")).await;
    assert_eq!(file.header("content-type"), Some("application/x-ndjson"));
    let rows: Vec<Value> = file
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let vip_total = env.get("/contacts?tag=vip&per_page=1").await.json["meta"]["total"]
        .as_u64()
        .unwrap();
    assert_eq!(rows.len() as u64, vip_total);
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|c| c["tags"].as_array().unwrap().contains(&json!("vip")))
    );
    // Appointments, no filters.
    let r = env
        .post(
            "/exports",
            &json!({"resource": "appointments", "format": "csv"}),
        )
        .await;
    let id = r.data()["id"].as_str().unwrap().to_string();
    assert_eq!(r.data()["filters"], json!({}));
    env.wait_job(&format!("/exports/{id}")).await;
    let text = env.get(&format!("/exports/{id}/download")).await.text();
    assert!(text.starts_with("id,calendar_id,contact_id,title,notes,start,end,status,series_id,cancellation_reason,created_at,updated_at\n"));
    assert_eq!(
        text.lines().count() - 1,
        env.sb.count(ayra_sandbox::Resource::Appointments)
    );
}

#[tokio::test]
async fn export_errors() {
    let env = env().await;
    env.post(
        "/exports",
        &json!({"resource": "conversations", "format": "csv", "filters": {"colour": "blue"}}),
    )
    .await
    .assert_error(422, "invalid_filter", Some("filters.colour"));
    env.post(
        "/exports",
        &json!({"resource": "conversations", "format": "csv", "filters": {"status": "sleeping"}}),
    )
    .await
    .assert_error(422, "invalid_filter", Some("filters.status"));
    env.post(
        "/exports",
        &json!({"resource": "contacts", "format": "csv", "filters": {"created_after": 5}}),
    )
    .await
    .assert_error(422, "invalid_filter", Some("filters.created_after"));
    env.post("/exports", &json!({"resource": "calls", "format": "csv"}))
        .await
        .assert_error(400, "invalid_field", Some("resource"));
    env.post("/exports", &json!({"resource": "contacts"}))
        .await
        .assert_error(400, "missing_required_field", Some("format"));
    let r = env
        .post_h(
            "/exports",
            &json!({"resource": "contacts", "format": "csv"}),
            &[("x-sandbox-job", "fail")],
        )
        .await;
    let id = r.data()["id"].as_str().unwrap().to_string();
    let done = env.wait_job(&format!("/exports/{id}")).await;
    assert_eq!(done.data()["status"], "failed");
    assert!(done.data()["download_url"].is_null());
    env.get(&format!("/exports/{id}/download"))
        .await
        .assert_error(409, "export_failed", None);
    env.get("/exports/exp_nope/download").await.assert_error(
        404,
        "resource_not_found",
        Some("export_id"),
    );
    // The seeded export is downloadable.
    let f = env.sb.fixtures();
    let file = env
        .get(&format!("/exports/{}/download", f.export_succeeded))
        .await;
    assert_eq!(file.status, 200);
    assert!(file.text().lines().count() >= 2);
}
