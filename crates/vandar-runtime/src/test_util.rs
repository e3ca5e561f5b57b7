//! A fault-injecting HTTP/1.1 server on 127.0.0.1 for tests (feature `test-util`).
//!
//! Each connection carries one request (answers say `connection: close`, so no request is
//! ever retried by the HTTP client's connection pool). A handler decides, per request, to
//! answer, close the connection without answering (the response is lost), reset it, stall
//! forever, or do one of those after a delay. Every request is recorded with the tokio time it
//! arrived at, so tests under paused time can check spacing.
//!
//! [`RotatingVandar`] is a fake Vandar on this server that rotates single-use refresh tokens
//! (shared by the runtime's token tests and the Redis replica tests).
//!
//! ```no_run
//! # async fn demo() {
//! use vandar_runtime::test_util::{FaultServer, Reply};
//! let server = FaultServer::scripted(
//!     vec![Reply::Reset, Reply::json(503, serde_json::json!({"message": "busy"}))],
//!     Reply::json(200, serde_json::json!({"status": 1})),
//! )
//! .await;
//! // point a Config at server.uri(), make calls, then:
//! assert_eq!(server.requests().len(), 3);
//! # }
//! ```

mod rotating;

pub use rotating::{
    EXPIRES_IN, RefreshMode, RotatingVandar, RotatingVandarBuilder, access, refresh,
};

/// A bearer `GET` of a business's balance (`get_balance`, idempotent): the route of the
/// tests of the credential, the time budget and the token refresh.
pub static BEARER_GET: crate::Route = crate::Route {
    operation_id: "get_balance",
    method: "GET",
    host: "https://api.vandar.io",
    path: "/v3/business/shop/balance",
    segments: &[
        crate::Segment::Lit("v3"),
        crate::Segment::Lit("business"),
        crate::Segment::Lit("shop"),
        crate::Segment::Lit("balance"),
    ],
    auth: crate::Auth::Bearer("bearer"),
    api_key_field: None,
    idempotent: true,
    checks: &[],
};

/// A bearer `POST` that may move money (`store_settlement`, never idempotent).
pub static BEARER_MONEY: crate::Route = crate::Route {
    operation_id: "store_settlement",
    method: "POST",
    host: "https://api.vandar.io",
    path: "/v3/business/shop/settlement/store",
    segments: &[
        crate::Segment::Lit("v3"),
        crate::Segment::Lit("business"),
        crate::Segment::Lit("shop"),
        crate::Segment::Lit("settlement"),
        crate::Segment::Lit("store"),
    ],
    auth: crate::Auth::Bearer("bearer"),
    api_key_field: None,
    idempotent: false,
    checks: &[],
};

/// [`BEARER_GET`] and [`BEARER_MONEY`], as a binding's route table.
pub static BEARER_ROUTES: &[crate::Route] = &[BEARER_GET, BEARER_MONEY];

/// What a generated `send()` does, for an operation of `binding`'s routes with an untyped
/// body: build the URL and the request, check the body, then [`crate::Binding::call`]; the
/// answer as JSON.
pub async fn call_json(
    binding: &crate::Binding,
    operation_id: &'static str,
    body: Option<serde_json::Value>,
) -> Result<serde_json::Value, crate::Error> {
    let route = binding
        .route(operation_id)
        .ok_or_else(|| crate::Error::InvalidRequest(format!("no route `{operation_id}`")))?;
    let method = route
        .method
        .parse()
        .map_err(|_| crate::Error::InvalidRequest(format!("bad method {}", route.method)))?;
    let mut builder = binding
        .runtime()
        .http_client()
        .request(method, binding.url(route, &[])?)
        .header(reqwest::header::ACCEPT, "application/json");
    let body = body
        .map(|body| crate::CheckedBody::new(route, body))
        .transpose()?;
    if let Some(body) = &body {
        builder = builder.json(body);
    }
    let request = builder.build().map_err(crate::Error::from_build)?;
    binding
        .call::<serde_json::Value>(
            request,
            route,
            body.as_ref().map(|b| b as &dyn crate::SentBody),
        )
        .await
        .map(crate::Answer::into_body)
}

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

/// What the server does with one request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// Answer with this status, headers and body.
    Respond {
        /// HTTP status.
        status: u16,
        /// Extra headers.
        headers: Vec<(String, String)>,
        /// Body bytes.
        body: Vec<u8>,
    },
    /// Write these bytes as the whole answer (status line, headers and body exactly as
    /// given: a `Content-Length` that lies, a body cut short), then close the connection.
    Raw(Vec<u8>),
    /// Read the request, then close the connection without answering.
    Close,
    /// Read the request, then reset the connection (TCP RST).
    Reset,
    /// Read the request and never answer (the connection stays open).
    Stall,
    /// Wait (on tokio time), then do the inner reply.
    After(Duration, Box<Reply>),
}

impl Reply {
    /// A JSON answer.
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Reply::Respond {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    /// A plain-text (or any other) answer with the given content type.
    pub fn text(status: u16, content_type: &str, body: &str) -> Self {
        Reply::Respond {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.as_bytes().to_vec(),
        }
    }

    /// Add a header to a [`Reply::Respond`] (other replies are returned unchanged).
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        if let Reply::Respond { headers, .. } = &mut self {
            headers.push((name.into(), value.into()));
        }
        self
    }

    /// Do this reply after `delay`.
    pub fn after(self, delay: Duration) -> Self {
        Reply::After(delay, Box::new(self))
    }
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// Arrival order, from 0.
    pub seq: usize,
    /// Method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
    /// When the whole request had arrived (tokio time).
    pub at: Instant,
}

impl RecordedRequest {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The path without the query.
    pub fn path_only(&self) -> &str {
        self.path.split('?').next().unwrap_or("")
    }
}

type Handler = dyn Fn(&RecordedRequest) -> Reply + Send + Sync;

struct Shared {
    handler: Box<Handler>,
    log: Mutex<Vec<RecordedRequest>>,
    seq: AtomicUsize,
}

/// The server. Stops (and drops every open connection) when dropped.
pub struct FaultServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for FaultServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl FaultServer {
    /// Start on an ephemeral port of 127.0.0.1; `handler` picks the reply for each request.
    pub async fn start(
        handler: impl Fn(&RecordedRequest) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let shared = Arc::new(Shared {
            handler: Box::new(handler),
            log: Mutex::new(Vec::new()),
            seq: AtomicUsize::new(0),
        });
        let for_task = shared.clone();
        let task = tokio::spawn(async move {
            let mut connections = JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        if let Ok((stream, _)) = accepted {
                            connections.spawn(serve(stream, for_task.clone()));
                        }
                    }
                    Some(_) = connections.join_next(), if !connections.is_empty() => {}
                }
            }
        });
        Self { addr, shared, task }
    }

    /// Start with a script: the n-th request gets `script[n]`, later ones get `then`.
    pub async fn scripted(script: Vec<Reply>, then: Reply) -> Self {
        Self::start(move |req| script.get(req.seq).cloned().unwrap_or_else(|| then.clone())).await
    }

    /// `http://127.0.0.1:<port>`.
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        let mut log = self
            .shared
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        log.sort_by_key(|r| r.seq);
        log
    }

    /// How many requests arrived for `path` (query ignored).
    pub fn count(&self, path: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.path_only() == path)
            .count()
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(mut stream: TcpStream, shared: Arc<Shared>) {
    let Some(mut req) = read_request(&mut stream).await else {
        return;
    };
    req.seq = shared.seq.fetch_add(1, Ordering::SeqCst);
    shared
        .log
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(req.clone());
    let mut reply = (shared.handler)(&req);
    loop {
        match reply {
            Reply::After(delay, inner) => {
                tokio::time::sleep(delay).await;
                reply = *inner;
            }
            Reply::Respond {
                status,
                headers,
                body,
            } => {
                let mut head = format!(
                    "HTTP/1.1 {status} {}\r\ncontent-length: {}\r\nconnection: close\r\n",
                    reason(status),
                    body.len()
                );
                for (k, v) in headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                head.push_str("\r\n");
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(&body).await;
                let _ = stream.shutdown().await;
                return;
            }
            Reply::Raw(bytes) => {
                let _ = stream.write_all(&bytes).await;
                let _ = stream.shutdown().await;
                return;
            }
            Reply::Close => {
                let _ = stream.shutdown().await;
                return;
            }
            Reply::Reset => {
                let _ = stream.set_zero_linger();
                drop(stream);
                return;
            }
            Reply::Stall => {
                std::future::pending::<()>().await;
            }
        }
    }
}

async fn read_request(stream: &mut TcpStream) -> Option<RecordedRequest> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 || buf.len() > 1 << 20 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&buf[..head_end]).ok()?;
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(length);
    Some(RecordedRequest {
        seq: 0,
        method,
        path,
        headers,
        body,
        at: Instant::now(),
    })
}

fn reason(status: u16) -> &'static str {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Status")
}

/// Environment variable naming a directory where every operation a test process sends is
/// recorded (one `operation_id method path status` line per answered call), so that
/// `cargo xtask opcov DIR` can prove every operation of every spec was exercised by at least
/// one success and one error response. Unset: nothing is recorded.
pub const OPCOV_DIR_ENV: &str = "VANDAR_OPCOV_DIR";

/// Record one answered call for the operation-coverage check (see [`OPCOV_DIR_ENV`]).
pub fn record_operation(route: &crate::Route, status: u16) {
    use std::io::Write;
    static FILE: std::sync::OnceLock<Option<Mutex<std::fs::File>>> = std::sync::OnceLock::new();
    let file = FILE.get_or_init(|| {
        let dir = std::env::var_os(OPCOV_DIR_ENV)?;
        std::fs::create_dir_all(&dir).ok()?;
        let path = std::path::Path::new(&dir).join(format!("opcov-{}.txt", std::process::id()));
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .ok()
            .map(Mutex::new)
    });
    if let Some(f) = file {
        let mut f = f.lock().unwrap_or_else(PoisonError::into_inner);
        // One short line per write: appends from one process stay whole.
        let _ = writeln!(
            f,
            "{} {} {} {status}",
            route.operation_id, route.method, route.path
        );
    }
}

/// The most timestamps that fall in any closed window of length `window` starting at one of
/// them (for checking that no 3-second window exceeds a rate limit).
pub fn max_in_window<T>(times: &[T], window: Duration) -> usize
where
    T: Copy + PartialOrd + std::ops::Add<Duration, Output = T>,
{
    times
        .iter()
        .map(|t| {
            times
                .iter()
                .filter(|u| **u >= *t && **u <= *t + window)
                .count()
        })
        .max()
        .unwrap_or(0)
}

/// Run one `#[ignore]`d test of the current test binary alone, in a child process, and assert
/// that it ran and passed. For tests whose thread-local tracing subscriber (`set_default`)
/// could otherwise miss a span whose callsite another test thread registers at the same moment
/// (tracing caches callsite interest process-wide).
pub fn run_in_own_process(test_name: &str) {
    let out = std::process::Command::new(std::env::current_exe().expect("test binary path"))
        .args([
            "--exact",
            test_name,
            "--include-ignored",
            "--test-threads=1",
            "--nocapture",
        ])
        .output()
        .expect("the test binary runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("1 passed"),
        "the test `{test_name}` did not run: {text}"
    );
}

/// What `tracing` prints on the current thread (every level, span opening and closing
/// included, no colours), kept in memory for tests that check what reaches the logs.
#[derive(Clone, Default)]
pub struct CapturedTraces(Arc<Mutex<Vec<u8>>>);

impl CapturedTraces {
    /// Capture everything traced on this thread until the returned guard is dropped.
    pub fn start() -> (Self, tracing::subscriber::DefaultGuard) {
        let captured = Self::default();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
            .with_ansi(false)
            .with_writer(captured.clone())
            .finish();
        (captured, tracing::subscriber::set_default(subscriber))
    }

    /// The text printed so far.
    pub fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl std::io::Write for CapturedTraces {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for CapturedTraces {
    type Writer = CapturedTraces;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
