//! A keep-alive HTTP/1.1 server on 127.0.0.1 (hyper) answering the benchmark's calls from
//! memory:
//!
//! * `POST …/api/v4/send` → `{"status":1,"token":…}`;
//! * `POST …/api/v4/verify` → the documented success body, every field;
//! * `GET …/v3/business/{business}/transaction` → the 100-item statement page;
//! * `GET /__stats` → what the rate-limit mode saw; `POST /__reset` clears it.
//!
//! With [`Limits`], every request is first checked against the documented limits as a strict
//! sliding window (a request is refused with 429 when `max` requests were already accepted in
//! the `per` before it, separately for POST and other methods), and accepted arrival times are
//! kept for the analysis.
//!
//! The `bench-server` binary runs it in its own process ([`spawn`]) so the benchmark measures
//! the client's CPU time alone.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use crate::fixtures;

/// Server-side rate limits (the documented ones: POST 30, others 100 per 3 s).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Most POSTs in any window.
    pub post: usize,
    /// Most other requests in any window.
    pub other: usize,
    /// Window length.
    pub per: Duration,
}

impl Limits {
    /// Vandar's documented limits.
    pub fn vandar() -> Self {
        Self {
            post: 30,
            other: 100,
            per: Duration::from_secs(3),
        }
    }
}

/// What one lane (POST or other) saw since the last reset.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LaneStats {
    /// Arrival times of accepted requests, in seconds since the reset.
    pub accepted: Vec<f64>,
    /// Requests refused with 429.
    pub rejected: u64,
}

/// `GET /__stats`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Stats {
    /// POST lane.
    pub post: LaneStats,
    /// Every other method.
    pub other: LaneStats,
    /// Requests served since start (all paths).
    pub requests: u64,
}

#[derive(Default)]
struct Lane {
    window: VecDeque<Instant>,
    stats: LaneStats,
}

struct Log {
    since: Instant,
    post: Lane,
    other: Lane,
}

struct State {
    page: Bytes,
    token: Bytes,
    verified: Bytes,
    limits: Option<Limits>,
    log: Mutex<Log>,
    requests: AtomicU64,
}

fn json(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

async fn handle(
    req: Request<Incoming>,
    st: Arc<State>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let post = req.method() == Method::POST;
    let path = req.uri().path().to_string();
    // Read the whole body, as a real server would before answering.
    let _body = req
        .into_body()
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    st.requests.fetch_add(1, Ordering::Relaxed);

    if path == "/__stats" {
        let log = st.log.lock().unwrap_or_else(PoisonError::into_inner);
        let stats = Stats {
            post: log.post.stats.clone(),
            other: log.other.stats.clone(),
            requests: st.requests.load(Ordering::Relaxed),
        };
        let body = serde_json::to_vec(&stats).unwrap_or_default();
        return Ok(json(StatusCode::OK, Bytes::from(body)));
    }
    if path == "/__reset" {
        let mut log = st.log.lock().unwrap_or_else(PoisonError::into_inner);
        *log = Log {
            since: Instant::now(),
            post: Lane::default(),
            other: Lane::default(),
        };
        return Ok(json(StatusCode::OK, Bytes::from_static(b"{}")));
    }

    if let Some(limits) = st.limits {
        let now = Instant::now();
        let mut log = st.log.lock().unwrap_or_else(PoisonError::into_inner);
        let since = log.since;
        let (lane, max) = if post {
            (&mut log.post, limits.post)
        } else {
            (&mut log.other, limits.other)
        };
        while lane
            .window
            .front()
            .is_some_and(|t| now.duration_since(*t) >= limits.per)
        {
            lane.window.pop_front();
        }
        if lane.window.len() >= max {
            lane.stats.rejected += 1;
            let mut r = json(
                StatusCode::TOO_MANY_REQUESTS,
                Bytes::from_static(b"{\"status\":0,\"error\":\"Too Many Attempts.\"}"),
            );
            r.headers_mut()
                .insert("retry-after", HeaderValue::from_static("3"));
            return Ok(r);
        }
        lane.window.push_back(now);
        lane.stats
            .accepted
            .push(now.duration_since(since).as_secs_f64());
    }

    let resp = if post && path.ends_with("/api/v4/send") {
        json(StatusCode::OK, st.token.clone())
    } else if post && path.ends_with("/api/v4/verify") {
        json(StatusCode::OK, st.verified.clone())
    } else if !post && path.contains("/v3/business/") && path.ends_with("/transaction") {
        json(StatusCode::OK, st.page.clone())
    } else {
        json(
            StatusCode::NOT_FOUND,
            Bytes::from_static(b"{\"status\":0,\"error\":\"not found\"}"),
        )
    };
    Ok(resp)
}

/// Serve on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, limits: Option<Limits>) {
    let state = Arc::new(State {
        page: Bytes::from(fixtures::transaction_page(fixtures::PAGE_ITEMS)),
        token: Bytes::from(fixtures::payment_token_body()),
        verified: Bytes::from(fixtures::verified_payment_body()),
        limits,
        log: Mutex::new(Log {
            since: Instant::now(),
            post: Lane::default(),
            other: Lane::default(),
        }),
        requests: AtomicU64::new(0),
    });
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let st = state.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| handle(req, st.clone()));
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// The server in a child process (the `bench-server` binary). Killed when dropped.
pub struct ServerProcess {
    child: Child,
    addr: SocketAddr,
}

impl ServerProcess {
    /// `http://127.0.0.1:<port>`.
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The server's process id (for its CPU time).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `exe` (the `bench-server` binary) and wait for the address it prints. `limits` turns
/// on the rate-limit mode. The server exits on its own when its stdin closes or after
/// `max_lifetime`.
pub fn spawn(exe: &str, limits: Option<Limits>, max_lifetime: Duration) -> ServerProcess {
    let mut cmd = Command::new(exe);
    cmd.arg("--max-seconds")
        .arg(max_lifetime.as_secs().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(l) = limits {
        cmd.arg("--limits")
            .arg(format!("{},{},{}", l.post, l.other, l.per.as_millis()));
    }
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("starting {exe}: {e}"));
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("the server prints its address");
    let addr: SocketAddr = line
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("bad server address {line:?}: {e}"));
    ServerProcess { child, addr }
}

/// Parse `post,other,per_ms`.
pub fn parse_limits(s: &str) -> Option<Limits> {
    let mut it = s.split(',').map(str::trim);
    let post = it.next()?.parse().ok()?;
    let other = it.next()?.parse().ok()?;
    let per = Duration::from_millis(it.next()?.parse().ok()?);
    Some(Limits { post, other, per })
}

/// Fetch the server's stats (`GET /__stats`).
pub async fn stats(client: &reqwest::Client, uri: &str) -> Stats {
    client
        .get(format!("{uri}/__stats"))
        .send()
        .await
        .expect("stats request")
        .json()
        .await
        .expect("stats body")
}

/// Clear the server's rate-limit log (`POST /__reset`).
pub async fn reset(client: &reqwest::Client, uri: &str) {
    client
        .post(format!("{uri}/__reset"))
        .send()
        .await
        .expect("reset request");
}
