//! Live conversation events: the `text/event-stream` body parsed into typed
//! [`ConversationEvent`]s, ending when the conversation ends.

use crate::Client;
use crate::error::{Error, Result};
use crate::types::{ConversationEvent, ConversationEventType};
use bytes::{Buf, BytesMut};
use futures::stream::{self, BoxStream, StreamExt};

/// The longest event accepted; a longer line means a broken stream.
const MAX_EVENT_BYTES: usize = 1 << 20;

impl Client {
    /// Follows a conversation's events until it ends (the server sends an
    /// `ended` event and closes the stream).
    ///
    /// ```no_run
    /// # async fn run(client: ayra::Client) -> ayra::Result<()> {
    /// use futures::TryStreamExt;
    /// let mut events = client.conversation_events("conv_123");
    /// while let Some(event) = events.try_next().await? {
    ///     println!("{} {}", event.time, event.type_);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn conversation_events(
        &self,
        conversation_id: &str,
    ) -> BoxStream<'static, Result<ConversationEvent>> {
        let client = self.clone();
        let id = conversation_id.to_string();
        stream::once(async move {
            client
                .stream_conversation_events()
                .conversation_id(id)
                .send()
                .await
        })
        .flat_map(|response| match response {
            Ok(response) => {
                let request_id = crate::response::header_str(response.headers(), "x-request-id")
                    .map(str::to_string);
                parse(response.into_inner_stream(), request_id).boxed()
            }
            Err(e) => stream::once(async { Err(e) }).boxed(),
        })
        .boxed()
    }
}

struct Parser<S> {
    body: S,
    buffer: BytesMut,
    data: String,
    request_id: Option<String>,
    done: bool,
}

/// Parses server-sent events: `data:` lines accumulate, a blank line ends an
/// event, `:` lines are keep-alives; other fields are ignored.
fn parse<S>(
    body: S,
    request_id: Option<String>,
) -> impl futures::Stream<Item = Result<ConversationEvent>>
where
    S: futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin,
{
    let parser = Parser {
        body,
        buffer: BytesMut::new(),
        data: String::new(),
        request_id,
        done: false,
    };
    stream::unfold(parser, |mut p| async move {
        if p.done {
            return None;
        }
        loop {
            if let Some(line) = take_line(&mut p.buffer) {
                let line = String::from_utf8_lossy(&line);
                if line.is_empty() {
                    if p.data.is_empty() {
                        continue;
                    }
                    let data = std::mem::take(&mut p.data);
                    let event = serde_json::from_str::<ConversationEvent>(&data).map_err(|e| {
                        Error::decode(
                            None,
                            p.request_id.clone(),
                            data.as_bytes(),
                            e,
                            Default::default(),
                        )
                    });
                    match &event {
                        Ok(ev) if ev.type_ == ConversationEventType::Ended => p.done = true,
                        Err(_) => p.done = true,
                        Ok(_) => {}
                    }
                    return Some((event, p));
                }
                if let Some(value) = line.strip_prefix("data:") {
                    if !p.data.is_empty() {
                        p.data.push('\n');
                    }
                    p.data.push_str(value.strip_prefix(' ').unwrap_or(value));
                }
                continue;
            }
            if p.buffer.len() > MAX_EVENT_BYTES || p.data.len() > MAX_EVENT_BYTES {
                p.done = true;
                let e = Error::decode(
                    None,
                    p.request_id.clone(),
                    &p.buffer,
                    "an event exceeds 1 MiB",
                    Default::default(),
                );
                return Some((Err(e), p));
            }
            match p.body.next().await {
                Some(Ok(chunk)) => p.buffer.extend_from_slice(&chunk),
                Some(Err(e)) => {
                    p.done = true;
                    return Some((
                        Err(Error::from_reqwest(
                            e,
                            p.request_id.clone(),
                            "the next event",
                            Default::default(),
                        )),
                        p,
                    ));
                }
                None => return None,
            }
        }
    })
}

/// Takes one line (without its `\n` or `\r\n`) off the front of `buffer`.
fn take_line(buffer: &mut BytesMut) -> Option<BytesMut> {
    let end = buffer.iter().position(|&b| b == b'\n')?;
    let mut line = buffer.split_to(end);
    buffer.advance(1);
    if line.last() == Some(&b'\r') {
        line.truncate(line.len() - 1);
    }
    Some(line)
}
