//! Live conversation events: the `text/event-stream` body parsed into typed
//! [`ConversationEvent`]s, ending when the conversation ends. A stream cut
//! before its `ended` event is resumed with `Last-Event-ID`, or ends with an
//! error: it never just stops.

use crate::Client;
use crate::error::{Error, Result};
use crate::types::{ConversationEvent, ConversationEventType};
use bytes::{Buf, Bytes, BytesMut};
use futures::stream::{self, BoxStream, StreamExt};
use std::collections::HashSet;
use std::time::Duration;

/// The longest event accepted; a longer line means a broken stream.
const MAX_EVENT_BYTES: usize = 1 << 20;
/// Reconnections in a row that bring no new event before giving up.
const MAX_RESUMES: u32 = 3;
/// The wait before reconnecting, unless the server sent `retry:`.
const DEFAULT_RECONNECT_DELAY: Duration = Duration::from_millis(500);
/// The longest `retry:` honoured.
const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(10);

impl Client {
    /// Follows a conversation's events until it ends (the server sends an
    /// `ended` event and closes the stream).
    ///
    /// If the connection closes or breaks before `ended`, the stream
    /// reconnects with `Last-Event-ID` (the server resumes after that event;
    /// events already yielded are dropped by id if it replays them), up to 3
    /// times in a row without a new event, after the server's `retry:` delay
    /// (500 ms by default). When it cannot resume it yields an error (the
    /// transport error, or [`Error::Decode`] saying the stream ended early)
    /// and ends.
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
        let follow = Follow {
            client: self.clone(),
            conversation_id: conversation_id.to_string(),
            connection: None,
            last_event_id: None,
            yielded: HashSet::new(),
            resumes_left: MAX_RESUMES,
            reconnect_delay: DEFAULT_RECONNECT_DELAY,
            done: false,
        };
        stream::unfold(follow, |mut f| async move {
            let event = f.next().await?;
            Some((event, f))
        })
        .fuse()
        .boxed()
    }
}

/// One conversation's events across connections.
struct Follow {
    client: Client,
    conversation_id: String,
    connection: Option<Connection>,
    /// The `id` of the last event received, sent as `Last-Event-ID`.
    last_event_id: Option<String>,
    /// Ids of the events yielded (one conversation's worth), so that a
    /// server replaying from the start does not repeat them.
    yielded: HashSet<String>,
    resumes_left: u32,
    reconnect_delay: Duration,
    done: bool,
}

impl Follow {
    async fn next(&mut self) -> Option<Result<ConversationEvent>> {
        loop {
            if self.done {
                return None;
            }
            let connection = match &mut self.connection {
                Some(c) => c,
                None => match connect(
                    self.client.clone(),
                    self.conversation_id.clone(),
                    self.last_event_id.clone(),
                )
                .await
                {
                    Ok(c) => self.connection.insert(c),
                    Err(e) => return self.fail(e),
                },
            };
            let request_id = connection.request_id.clone();
            match connection.next().await {
                Read::Event { id, data } => {
                    let event = match serde_json::from_str::<ConversationEvent>(&data) {
                        Ok(event) => event,
                        Err(e) => {
                            return self.fail(Error::decode(
                                None,
                                request_id,
                                data.as_bytes(),
                                e,
                                Default::default(),
                            ));
                        }
                    };
                    self.last_event_id = Some(id.unwrap_or_else(|| event.id.clone()));
                    if !self.yielded.insert(event.id.clone()) {
                        continue;
                    }
                    self.resumes_left = MAX_RESUMES;
                    if event.type_ == ConversationEventType::Ended {
                        self.done = true;
                    }
                    return Some(Ok(event));
                }
                Read::Retry(delay) => self.reconnect_delay = delay.min(MAX_RECONNECT_DELAY),
                Read::Failed(e) => return self.fail(e),
                Read::Closed(cause) => {
                    self.connection = None;
                    if self.resumes_left == 0 {
                        let e = match cause {
                            Some(e) => Error::from_reqwest(
                                e,
                                request_id,
                                "the next event",
                                Default::default(),
                            ),
                            None => Error::decode(
                                None,
                                request_id,
                                b"",
                                format!(
                                    "the event stream closed before the conversation's `ended` event, \
                                     and {MAX_RESUMES} reconnections with Last-Event-ID brought no new event"
                                ),
                                Default::default(),
                            ),
                        };
                        return self.fail(e);
                    }
                    self.resumes_left -= 1;
                    tokio::time::sleep(self.reconnect_delay).await;
                }
            }
        }
    }

    fn fail(&mut self, e: Error) -> Option<Result<ConversationEvent>> {
        self.done = true;
        self.connection = None;
        Some(Err(e))
    }
}

/// Opens the stream, resuming after `last_event_id` when there is one.
async fn connect(
    client: Client,
    conversation_id: String,
    last_event_id: Option<String>,
) -> Result<Connection> {
    let mut request = client
        .stream_conversation_events()
        .conversation_id(conversation_id);
    if let Some(id) = last_event_id {
        request = request.last_event_id(id);
    }
    let response = request.send().await?;
    let request_id =
        crate::response::header_str(response.headers(), "x-request-id").map(str::to_string);
    Ok(Connection {
        body: response.into_value().into_inner_stream().boxed(),
        buffer: BytesMut::new(),
        id: None,
        data: String::new(),
        request_id,
    })
}

/// One response body being parsed.
struct Connection {
    body: BoxStream<'static, reqwest::Result<Bytes>>,
    buffer: BytesMut,
    /// The event being read: its `id:` and `data:` so far.
    id: Option<String>,
    data: String,
    request_id: Option<String>,
}

/// What the next lines of a body amount to.
enum Read {
    /// An event with data (its `id:` when it had one).
    Event { id: Option<String>, data: String },
    /// The server's `retry:` reconnection delay.
    Retry(Duration),
    /// The body ended (cleanly, or with the transport error).
    Closed(Option<reqwest::Error>),
    /// The body is not a usable event stream.
    Failed(Error),
}

impl Connection {
    /// Parses server-sent events: `data:` lines accumulate, a blank line ends
    /// an event, `:` lines are keep-alives, `id:` and `retry:` are kept;
    /// other fields are ignored.
    async fn next(&mut self) -> Read {
        loop {
            if let Some(line) = take_line(&mut self.buffer) {
                let line = String::from_utf8_lossy(&line);
                if line.is_empty() {
                    if self.data.is_empty() {
                        continue;
                    }
                    let data = std::mem::take(&mut self.data);
                    return Read::Event {
                        id: self.id.take(),
                        data,
                    };
                }
                let (field, value) = line.split_once(':').unwrap_or((&line, ""));
                let value = value.strip_prefix(' ').unwrap_or(value);
                match field {
                    "data" => {
                        if !self.data.is_empty() {
                            self.data.push('\n');
                        }
                        self.data.push_str(value);
                    }
                    "id" if !value.contains('\0') => self.id = Some(value.to_string()),
                    "retry" => {
                        if let Ok(ms) = value.parse::<u64>() {
                            return Read::Retry(Duration::from_millis(ms));
                        }
                    }
                    _ => {}
                }
                if self.data.len() > MAX_EVENT_BYTES {
                    return self.too_long();
                }
                continue;
            }
            if self.buffer.len() > MAX_EVENT_BYTES {
                return self.too_long();
            }
            match self.body.next().await {
                Some(Ok(chunk)) => self.buffer.extend_from_slice(&chunk),
                Some(Err(e)) => return Read::Closed(Some(e)),
                None => return Read::Closed(None),
            }
        }
    }

    fn too_long(&self) -> Read {
        Read::Failed(Error::decode(
            None,
            self.request_id.clone(),
            &self.buffer,
            "an event exceeds 1 MiB",
            Default::default(),
        ))
    }
}

/// Takes one line off the front of `buffer`, without its end: `\n`, `\r\n`
/// or a lone `\r`, all three allowed by the SSE format. A `\r` that ends the
/// buffer may be half of a `\r\n`: the line waits for the next byte.
fn take_line(buffer: &mut BytesMut) -> Option<BytesMut> {
    let end = buffer.iter().position(|&b| b == b'\n' || b == b'\r')?;
    let cr = buffer[end] == b'\r';
    if cr && end + 1 == buffer.len() {
        return None;
    }
    let line = buffer.split_to(end);
    let ending = if cr && buffer.get(1) == Some(&b'\n') {
        2
    } else {
        1
    };
    buffer.advance(ending);
    Some(line)
}
