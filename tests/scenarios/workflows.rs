//! Create a workflow, trigger it, wait for its result.

use ayra::prelude::*;
use ayra_scenarios::Harness;
use std::time::Duration;

pub async fn run(h: &Harness) {
    let c = &h.client;
    let step = WorkflowStep::builder()
        .type_("send_sms")
        .config(serde_json::Map::new());
    let workflow = c
        .create_workflow()
        .body_map(|b| {
            b.name("After-call follow-up")
                .trigger_type(WorkflowTriggerType::Api)
                .steps(vec![WorkflowStep::try_from(step).unwrap()])
        })
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    let listed = c.list_workflows().per_page(100).send().await.unwrap();
    assert!(listed.data.iter().any(|w| w.id == workflow.id));
    let renamed = c
        .update_workflow()
        .workflow_id(&workflow.id)
        .body_map(|b| b.name("Follow-up"))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.data.name, "Follow-up");
    assert_eq!(
        c.get_workflow()
            .workflow_id(&workflow.id)
            .send()
            .await
            .unwrap()
            .data
            .name,
        "Follow-up"
    );

    let mut input = serde_json::Map::new();
    input.insert("contact_id".into(), "cnt_1".into());
    let triggered = c
        .trigger_workflow()
        .workflow_id(&workflow.id)
        .body_map(|b| b.input(input.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(triggered.status().as_u16(), 202);
    h.finish_jobs();
    let run = c
        .wait_for_workflow_execution(&triggered.data.id, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(run.status, JobStatus::Succeeded);
    assert_eq!(run.input, input);
    assert!(run.finished_at.is_some() && run.error.is_none());

    let mut failing = serde_json::Map::new();
    failing.insert("fail".into(), true.into());
    let triggered = c
        .trigger_workflow()
        .workflow_id(&workflow.id)
        .body_map(|b| b.input(failing))
        .send()
        .await
        .unwrap();
    h.finish_jobs();
    let failed = c
        .wait_for_workflow_execution(&triggered.data.id, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(failed.status, JobStatus::Failed);
    assert!(failed.error.is_some());

    let runs = c
        .list_workflow_executions()
        .workflow_id(&workflow.id)
        .send()
        .await
        .unwrap();
    assert_eq!(runs.meta.total, 2);

    // A deadline shorter than the job (which the clock does not finish) is a typed error.
    let slow = c
        .trigger_workflow()
        .workflow_id(&workflow.id)
        .body_map(|b| b.input(serde_json::Map::new()))
        .send()
        .await
        .unwrap();
    let err = c
        .wait_for_workflow_execution(&slow.data.id, Duration::from_millis(1))
        .await
        .unwrap_err();
    assert!(matches!(err, ayra::Error::Deadline { .. }), "{err:?}");

    c.delete_workflow()
        .workflow_id(&workflow.id)
        .send()
        .await
        .unwrap();
    assert!(
        c.get_workflow()
            .workflow_id(&workflow.id)
            .send()
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(
        c.get_workflow_execution()
            .execution_id("wfx_nope")
            .send()
            .await
            .unwrap_err()
            .is_not_found()
    );
}
