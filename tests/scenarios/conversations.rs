//! List and filter conversations, read a transcript, download a recording,
//! follow a live conversation's events to the end, read its analytics.

use ayra::prelude::*;
use ayra_scenarios::Harness;
use futures::TryStreamExt;

pub async fn run(h: &Harness) {
    let c = &h.client;
    let all = c.list_conversations().per_page(100).send().await.unwrap();
    assert!(all.meta.total > 0);
    let completed: Vec<Conversation> = c
        .list_conversations()
        .status(ConversationStatus::Completed)
        .direction(ConversationDirection::Inbound)
        .per_page(100)
        .items()
        .try_collect()
        .await
        .unwrap();
    assert!(!completed.is_empty());
    assert!(
        completed
            .iter()
            .all(|x| x.status == ConversationStatus::Completed
                && x.direction == ConversationDirection::Inbound)
    );
    let agent_id = completed[0].agent_id.clone();
    let by_agent = c
        .list_conversations()
        .agent_id(&agent_id)
        .per_page(100)
        .send()
        .await
        .unwrap();
    assert!(!by_agent.data.is_empty(), "the agent has conversations");
    assert!(by_agent.data.iter().all(|x| x.agent_id == agent_id));

    let conv = completed
        .iter()
        .find(|x| x.has_recording)
        .expect("a recorded conversation");
    let detail = c
        .get_conversation()
        .conversation_id(&conv.id)
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(&detail, conv);

    let transcript = c
        .get_conversation_transcript()
        .conversation_id(&conv.id)
        .send()
        .await
        .unwrap();
    let segments = &transcript.data.segments;
    assert!(!segments.is_empty());
    assert!(
        segments.windows(2).all(|w| w[0].start_ms <= w[1].start_ms),
        "segments are in order"
    );
    assert!(segments.iter().all(|s| s.start_ms <= s.end_ms));

    let mut mp3 = Vec::new();
    let bytes = c
        .get_conversation_recording()
        .conversation_id(&conv.id)
        .send()
        .await
        .unwrap()
        .write_to(&mut mp3)
        .await
        .unwrap();
    assert_eq!(bytes as usize, mp3.len());
    assert!(
        mp3.starts_with(b"ID3") || (mp3[0] == 0xFF && mp3[1] & 0xE0 == 0xE0),
        "an MP3 frame or tag"
    );

    let metrics = c
        .get_conversation_analytics()
        .conversation_id(&conv.id)
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(metrics.conversation_id, conv.id);
    assert!((0.0..=1.0).contains(&metrics.talk_ratio));
    assert!((-1.0..=1.0).contains(&metrics.sentiment));
    assert_eq!(Some(metrics.duration_seconds), conv.duration_seconds);

    let live = c
        .list_conversations()
        .status(ConversationStatus::InProgress)
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    let live = live.first().expect("a conversation in progress");
    // The call plays one event every third of the job duration on the
    // sandbox's clock: move the clock on until the stream ends (at most 30 s).
    let mut stream = std::pin::pin!(c.conversation_events(&live.id).try_collect::<Vec<_>>());
    let mut ticks = 0;
    let events: Vec<ConversationEvent> = loop {
        tokio::select! {
            events = &mut stream => break events.unwrap(),
            _ = tokio::time::sleep(std::time::Duration::from_millis(10)) => {
                ticks += 1;
                assert!(ticks < 3000, "the stream ends");
                h.finish_jobs();
            }
        }
    };
    assert_eq!(
        events.first().map(|e| &e.type_),
        Some(&ConversationEventType::Started)
    );
    assert_eq!(
        events.last().map(|e| &e.type_),
        Some(&ConversationEventType::Ended)
    );
    assert!(events.iter().all(|e| e.conversation_id == live.id));
    assert!(events.windows(2).all(|w| w[0].time <= w[1].time));

    // 404 for an unknown conversation; a recording that does not exist.
    let err = c
        .get_conversation_transcript()
        .conversation_id("conv_nope")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_not_found());
    // A completed conversation without a recording (the sandbox's fixtures
    // hold one, an outbound voicemail): its recording is a 404, not an empty 200.
    let silent: Vec<Conversation> = c
        .list_conversations()
        .status(ConversationStatus::Completed)
        .per_page(100)
        .items()
        .try_filter(|x| std::future::ready(!x.has_recording))
        .try_collect()
        .await
        .unwrap();
    let silent = silent
        .iter()
        .find(|x| x.id == h.sandbox.fixtures().conversation_no_recording)
        .expect("the fixture's completed conversation without a recording is listed");
    let err = c
        .get_conversation_recording()
        .conversation_id(&silent.id)
        .send()
        .await
        .err()
        .expect("no recording, no 200");
    assert!(err.is_not_found(), "{err}");
    // 400 for a bad filter value.
    let err = c
        .list_conversations()
        .per_page(500)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(err.api().and_then(|a| a.field.as_deref()), Some("per_page"));
}
