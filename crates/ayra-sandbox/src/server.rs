//! The HTTP server: the accept loop and the connections; each request goes
//! through the [`pipeline`](crate::pipeline).

use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::pipeline::faults::Connection;
use crate::pipeline::{Pipeline, handle};
use crate::stats::{OpenConnection, inc};

/// Resolves once shutdown was requested (or the handle is gone).
async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|v| *v).await;
}

pub(crate) async fn run(
    listener: TcpListener,
    pipeline: Arc<Pipeline>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut tasks = JoinSet::new();
    let conn_shutdown = shutdown.clone();
    loop {
        tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, _)) => {
                    inc(&pipeline.counters.connections_accepted);
                    let _ = stream.set_nodelay(true);
                    tasks.spawn(serve_conn(stream, pipeline.clone(), conn_shutdown.clone()));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
            _ = stopped(&mut shutdown) => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    drop(listener);
    let drain = async { while tasks.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(Duration::from_secs(2), drain).await;
    tasks.abort_all();
}

async fn serve_conn(
    stream: TcpStream,
    pipeline: Arc<Pipeline>,
    mut shutdown: watch::Receiver<bool>,
) {
    let p = pipeline.clone();
    let _open = OpenConnection::new(&p.counters);
    let ctl = Arc::new(Connection::default());
    let ctl2 = ctl.clone();
    let svc = service_fn(move |req| handle(pipeline.clone(), ctl2.clone(), req));
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .serve_connection(TokioIo::new(stream), svc);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = ctl.kill.notified() => return,
        _ = stopped(&mut shutdown) => {}
    }
    conn.as_mut().graceful_shutdown();
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = ctl.kill.notified() => {}
        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
    }
}
