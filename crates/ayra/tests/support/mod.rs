//! A small scripted HTTP/1.1 server on 127.0.0.1 for the SDK's tests: each
//! request is answered by a closure, which can also drop the connection,
//! truncate the body or reply late. Every request is recorded.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// The key every test client uses; tests assert it never leaks.
pub const KEY: &str = "sk_test_SECRET_0123456789abcdef";

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub target: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

pub enum Reply {
    /// A response with a JSON body and an `X-Request-Id`.
    Json(u16, String),
    /// A response with extra headers.
    With(u16, Vec<(&'static str, String)>, String),
    /// Close the connection without answering.
    Drop,
    /// Promise `len` bytes, send the first half of `body`, close.
    Truncate(u16, String),
    /// Wait, then answer.
    Late(Duration, Box<Reply>),
    /// Promise `len` bytes, send the first half of `body`, wait, close.
    Stall(Duration, u16, String),
    /// These exact bytes (status line, headers, body), then close.
    Raw(Vec<u8>),
}

pub struct Server {
    pub url: String,
    pub requests: Arc<Mutex<Vec<Recorded>>>,
    /// TCP connections accepted so far.
    pub connections: Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    /// Starts a server answering with `handler(request, index)` where
    /// `index` counts requests from 0.
    pub async fn start<F>(handler: F) -> Server
    where
        F: Fn(&Recorded, usize) -> Reply + Send + Sync + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        let requests: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let handler = Arc::new(handler);
        let log = requests.clone();
        let connections: Arc<std::sync::atomic::AtomicUsize> = Arc::default();
        let accepted = connections.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                accepted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let (handler, log) = (handler.clone(), log.clone());
                tokio::spawn(async move {
                    let _ = serve(socket, handler, log).await;
                });
            }
        });
        Server {
            url,
            requests,
            connections,
            task,
        }
    }

    pub fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    pub fn recorded(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    pub fn client(&self) -> ayra::ClientBuilder {
        ayra::Client::builder()
            .api_key(KEY)
            .base_url(&self.url)
            .retry(ayra::RetryPolicy::default().base_delay(Duration::from_millis(5)))
    }
}

async fn serve<F>(
    socket: tokio::net::TcpStream,
    handler: Arc<F>,
    log: Arc<Mutex<Vec<Recorded>>>,
) -> std::io::Result<()>
where
    F: Fn(&Recorded, usize) -> Reply + Send + Sync + 'static,
{
    let mut reader = BufReader::new(socket);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_string();
        let target = parts.next().unwrap_or_default().to_string();
        let mut headers = HashMap::new();
        loop {
            let mut h = String::new();
            reader.read_line(&mut h).await?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        reader.read_exact(&mut body).await?;
        let request = Recorded {
            method,
            target,
            headers,
            body,
        };
        let index = {
            let mut log = log.lock().unwrap();
            log.push(request.clone());
            log.len() - 1
        };
        let mut reply = handler(&request, index);
        while let Reply::Late(delay, inner) = reply {
            tokio::time::sleep(delay).await;
            reply = *inner;
        }
        let id = format!("req_test_{index}");
        let socket = reader.get_mut();
        match reply {
            Reply::Json(status, body) => write(socket, status, &id, &[], &body, body.len()).await?,
            Reply::With(status, extra, body) => {
                write(socket, status, &id, &extra, &body, body.len()).await?
            }
            Reply::Truncate(status, body) => {
                let half = &body[..body.len() / 2];
                write(socket, status, &id, &[], half, body.len()).await?;
                return Ok(());
            }
            Reply::Stall(pause, status, body) => {
                let half = &body[..body.len() / 2];
                write(socket, status, &id, &[], half, body.len()).await?;
                tokio::time::sleep(pause).await;
                return Ok(());
            }
            Reply::Drop => return Ok(()),
            Reply::Raw(bytes) => {
                socket.write_all(&bytes).await?;
                return socket.flush().await;
            }
            Reply::Late(..) => unreachable!("unwrapped above"),
        }
    }
}

async fn write(
    socket: &mut tokio::net::TcpStream,
    status: u16,
    id: &str,
    extra: &[(&str, String)],
    body: &str,
    len: usize,
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\nx-request-id: {id}\r\ncontent-length: {len}\r\n"
    );
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    // One write: a head and a body in two small segments would wait on the
    // peer's delayed ACK (about 40 ms a response).
    head.push_str(body);
    socket.write_all(head.as_bytes()).await?;
    socket.flush().await
}

/// A success envelope around `data`, with the request id the server sends.
pub fn ok(data: serde_json::Value, index: usize) -> String {
    serde_json::json!({
        "data": data,
        "meta": {"request_id": format!("req_test_{index}"), "timestamp": "2025-01-15T10:30:00Z"}
    })
    .to_string()
}

/// The error envelope.
pub fn error(kind: &str, code: &str, field: Option<&str>, index: usize) -> String {
    serde_json::json!({
        "error": {"type": kind, "message": format!("{code} happened"), "code": code,
                  "field": field, "request_id": format!("req_test_{index}")}
    })
    .to_string()
}

/// An agent as the API returns it.
pub fn agent(id: &str, status: &str) -> serde_json::Value {
    serde_json::json!({
        "id": id, "name": "Front desk", "description": null, "status": status,
        "voice_id": "voice_ava", "language": "en-US", "prompt": "Be brief.",
        "first_message": null, "phone_number": null, "timezone": "Europe/Paris",
        "max_call_duration_seconds": 600, "metadata": {},
        "created_at": "2025-01-15T10:30:00Z", "updated_at": "2025-01-15T10:30:00Z"
    })
}

/// `n` retries with a 1 ms base delay, so that tests stay fast.
pub fn retries(n: u32) -> ayra::RetryPolicy {
    ayra::RetryPolicy::default()
        .max_retries(n)
        .base_delay(Duration::from_millis(1))
}

/// `GET /agents/agt_1`, which the test expects to fail.
pub async fn get_agent_error(client: &ayra::Client) -> ayra::Error {
    client
        .get_agent()
        .agent_id("agt_1")
        .send()
        .await
        .expect_err("the call should fail")
}
