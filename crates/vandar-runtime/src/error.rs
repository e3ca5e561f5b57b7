//! The SDK's error type. Every message says what happened, where (the operation and the host,
//! when known) and what to do next; it never prints headers, bodies that were not meant as
//! messages, or secrets.
//!
//! `source()` never repeats the `Display` text: an error either tells its cause in its own
//! text (and has no source), or points to a cause whose text it does not repeat (a transport
//! error's [`reqwest::Error`]), so error-chain reporters (`anyhow`, `eyre`, `tracing`) print
//! every line once.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::redact::Scrubber;

/// Response headers that may carry a request id for support tickets, in the order they are
/// looked up. Vandar documents none; these are the usual names of gateways and proxies.
pub const REQUEST_ID_HEADERS: [&str; 4] = [
    "x-request-id",
    "request-id",
    "x-correlation-id",
    "x-trace-id",
];

/// The kind of credential a call carried, for a 401's advice (never the credential itself).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CredentialKind {
    /// The IPG `api_key` in the request body.
    ApiKey,
    /// A static Vandar access token ([`ConfigBuilder::access_token`](crate::ConfigBuilder::access_token)):
    /// never refreshed, it expires 5 days after it was issued.
    StaticToken,
    /// A Vandar access + refresh token pair, refreshed by the SDK
    /// ([`ConfigBuilder::token_pair`](crate::ConfigBuilder::token_pair) or a token store).
    TokenPair,
    /// A bearer token given to one client ([`Binding::with_bearer`](crate::Binding::with_bearer)).
    ClientToken,
    /// A per-client token source ([`Binding::with_bearer_source`](crate::Binding::with_bearer_source)),
    /// e.g. Sanbod's OAuth token manager.
    TokenSource,
    /// An OAuth client id and secret sent as HTTP Basic (Sanbod's token endpoint).
    ClientCredentials,
    /// No credential (the operation needs none, or none was configured).
    None,
}

impl CredentialKind {
    /// What to do when the API answered 401 to a call that carried this credential.
    fn unauthorized_advice(self) -> &'static str {
        match self {
            CredentialKind::ApiKey => {
                "the IPG api_key was refused: check it against the gateway's api_key in the Vandar dashboard (each gateway has its own)"
            }
            CredentialKind::StaticToken => {
                "the static access token was refused: static Vandar tokens expire 5 days after they are issued; issue a new one in the Vandar dashboard (Settings > Tokens), or configure a token pair with Config::builder().token_pair(..), which refreshes itself"
            }
            CredentialKind::TokenPair => {
                "the token pair's access token was refused even after a refresh: the pair was probably revoked or belongs to another business; issue a new pair in the Vandar dashboard (Settings > Tokens) and install it with Runtime::set_token_pair"
            }
            CredentialKind::ClientToken => {
                "the bearer token given to this client (with_bearer) was refused: it has expired or was revoked; replace it"
            }
            CredentialKind::TokenSource => {
                "the token from this client's token source was refused even after a refresh: for a Sanbod user token, ask the user for consent again"
            }
            CredentialKind::ClientCredentials => {
                "the client id and secret were refused: check them against the ones issued for this client"
            }
            CredentialKind::None => {
                "the call carried no credential: configure the one this host needs (an access token or token pair for api.vandar.io, client credentials for Sanbod)"
            }
        }
    }
}

impl fmt::Display for CredentialKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CredentialKind::ApiKey => "IPG api_key",
            CredentialKind::StaticToken => "static access token",
            CredentialKind::TokenPair => "refreshing token pair",
            CredentialKind::ClientToken => "client bearer token",
            CredentialKind::TokenSource => "client token source",
            CredentialKind::ClientCredentials => "client id and secret",
            CredentialKind::None => "no credential (none configured for this host)",
        })
    }
}

/// An error body from the API, decoded from any of the documented shapes:
///
/// | shape | example |
/// |---|---|
/// | auth | `{"status":0,"error":"Unauthenticated"}` |
/// | Laravel validation | `{"message":"The given data was invalid.","errors":{"amount":["..."]}}` |
/// | status + nested error | `{"status":0,"errors":{"error":"..."}}` |
/// | status + field map | `{"status":0,"errors":{"amount":["...","..."]}}` |
/// | field map only | `{"errors":{"amount":["..."]}}` |
/// | IPG list | `{"status":0,"errors":["...","..."]}` |
/// | IPG verify | `{"status":2,"errors":["..."]}` (already verified), `status` 3 (expired) |
/// | status + message | `{"status":0,"message":"..."}` (404, 409) |
/// | message only | `{"message":"..."}` (refund of another business's transaction) |
/// | Sanbod | `{"error":true,"message":{..} or [..] or "...","traceid":123}` |
/// | broken JSON | `{ "unauthorized" }`, `{"status":0,"error": Unauthenticated }` (repaired) |
/// | not JSON | an HTML page: `message` says what arrived, without its content |
///
/// A failure body on HTTP 2xx (`status: 0`) is an error too; its `http_status` is the real one.
/// Its `Display` names the operation and host (when the pipeline set them), the HTTP status,
/// the body's own status when it says more than "failed" (not 0), the messages, the request id
/// and the next step.
#[derive(Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status of the response.
    pub http_status: u16,
    /// The body's own `status` field (Vandar sends 0 for errors; IPG verify sends 2 and 3).
    pub upstream_status: Option<i64>,
    /// The body's `code` or `error_code` field, if any.
    pub code: Option<String>,
    /// Human-readable messages, in body order.
    pub messages: Vec<String>,
    /// Validation errors per field (`errors: {field: [..]}`).
    pub field_errors: BTreeMap<String, Vec<String>>,
    /// `Retry-After` of a 429 or 503, if the server sent one.
    pub retry_after: Option<Duration>,
    /// The whole body as JSON (as decoded by the operation's error schema when the spec
    /// documents the status; as received otherwise).
    pub raw: Value,
    /// The operation id of the call, when known.
    pub operation: Option<String>,
    /// The host (and port, if not the scheme's default) that answered, when known.
    pub host: Option<String>,
    /// The id the API gave this request, for a support ticket: a request-id header
    /// ([`REQUEST_ID_HEADERS`]) or the body's `traceid`/`trace_id` (Sanbod echoes the
    /// `traceid` the SDK sent).
    pub request_id: Option<String>,
    /// The kind of credential the call carried, when known.
    pub credential: Option<CredentialKind>,
}

impl ApiError {
    /// Decode an error body of any documented shape. Card-, IBAN- and national-code-shaped
    /// digit runs are masked in every string kept (see [`crate::redact`]). The answer to a
    /// call can echo that call's own secrets (its API key, a token), which no shape reveals:
    /// build its error with [`ApiError::from_body_scrubbed`] and a scrubber that knows them.
    pub fn from_body(http_status: u16, raw: Value) -> Self {
        Self::from_body_scrubbed(http_status, raw, &Scrubber::new())
    }

    /// [`ApiError::from_body`], also cutting the call's own secrets (its token, credentials
    /// and sensitive request fields) from every string kept.
    pub fn from_body_scrubbed(http_status: u16, mut raw: Value, scrubber: &Scrubber) -> Self {
        scrubber.scrub_json(&mut raw);
        let code_of = |c: &Value| match c {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        let mut e = ApiError {
            http_status,
            upstream_status: raw.get("status").and_then(as_int),
            code: raw
                .get("code")
                .and_then(code_of)
                .or_else(|| raw.get("error_code").and_then(code_of)),
            messages: Vec::new(),
            field_errors: BTreeMap::new(),
            retry_after: None,
            raw: Value::Null,
            operation: None,
            host: None,
            request_id: raw
                .get("traceid")
                .and_then(code_of)
                .or_else(|| raw.get("trace_id").and_then(code_of)),
            credential: None,
        };
        if let Value::String(s) = &raw {
            e.messages.push(s.clone());
        }
        for key in ["message", "error", "errors"] {
            if let Some(v) = raw.get(key) {
                e.absorb(v);
            }
        }
        e.raw = raw;
        e
    }

    /// The same error with the call it answered: the operation id and the host (`host` or
    /// `host:port`, never a path or query). Set by the pipeline.
    pub fn with_call(mut self, operation: &str, host: &str) -> Self {
        self.operation = Some(operation.to_owned());
        self.host = Some(host.to_owned());
        self
    }

    /// The same error with the credential kind the call carried. Set by the pipeline.
    pub fn with_credential(mut self, kind: CredentialKind) -> Self {
        self.credential = Some(kind);
        self
    }

    /// The same error with the request id of the answer's headers ([`REQUEST_ID_HEADERS`]),
    /// if one is there; a body's `traceid` found earlier is kept otherwise. Set by the
    /// pipeline.
    pub fn with_headers(mut self, headers: &HeaderMap) -> Self {
        if let Some(id) = request_id_of(headers) {
            self.request_id = Some(id);
        }
        self
    }

    /// The id the API gave this request (for a support ticket), if it sent one.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// Whether repeating the call later may succeed (HTTP 429, 502, 503, 504).
    pub fn is_retryable(&self) -> bool {
        crate::decide::is_retryable_status(self.http_status)
    }

    /// What to do next, by HTTP status (and, for a 401, by the credential used).
    fn advice(&self) -> Option<String> {
        let host = self.host.as_deref().unwrap_or("the server");
        Some(match self.http_status {
            401 => match self.credential {
                Some(kind) => kind.unauthorized_advice().to_owned(),
                None => "the credential was refused: a static access token expires 5 days after it is issued (a token pair configured with Config::builder().token_pair(..) refreshes itself); an IPG api_key must be the gateway's own".to_owned(),
            },
            403 => "the credential is valid but not allowed this call: check that it belongs to the business in the path and that the service is active for it in the Vandar dashboard".to_owned(),
            404 => "nothing was found: check the identifiers in the call (business slug, transaction id, track_id, token)".to_owned(),
            409 => "the call conflicts with an earlier one (e.g. a track_id used before): look the earlier call up instead of sending it again".to_owned(),
            400 | 422 => "fix the values named above and send the call again".to_owned(),
            429 => "rate limited: send fewer requests (Vandar allows 30 POST and 100 other requests per 3 s per credential)".to_owned(),
            500..=599 => format!("{host} failed to handle the call: try again later, and if it persists report it with the request id"),
            200..=299 => "the API answered with a failure body: fix what the messages name".to_owned(),
            _ => return None,
        })
    }

    fn absorb(&mut self, v: &Value) {
        match v {
            Value::String(s) if !s.is_empty() => self.messages.push(s.clone()),
            Value::Array(items) => items.iter().for_each(|i| self.absorb(i)),
            Value::Object(map) => {
                for (k, x) in map {
                    if matches!(k.as_str(), "error" | "message") {
                        self.absorb(x);
                    } else {
                        let list = self.field_errors.entry(k.clone()).or_default();
                        match x {
                            Value::String(s) => list.push(s.clone()),
                            Value::Array(a) => {
                                list.extend(a.iter().filter_map(|s| s.as_str().map(String::from)))
                            }
                            other => list.push(other.to_string()),
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(i64::from(*b)),
        _ => None,
    }
}

/// The request id of an answer's headers ([`REQUEST_ID_HEADERS`]), printable ASCII only and
/// at most 128 characters.
fn request_id_of(headers: &HeaderMap) -> Option<String> {
    REQUEST_ID_HEADERS.iter().find_map(|name| {
        let v = headers.get(*name)?.to_str().ok()?.trim();
        (!v.is_empty() && v.len() <= 128).then(|| v.to_owned())
    })
}

/// "`operation` on host" / "`operation`" / "host" / "the call", as the subject of a message.
fn subject(operation: Option<&str>, host: Option<&str>) -> String {
    match (operation, host) {
        (Some(op), Some(h)) => format!("`{op}` on {h}"),
        (Some(op), None) => format!("`{op}`"),
        (None, Some(h)) => format!("the call to {h}"),
        (None, None) => "the call".to_owned(),
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write as _;
        let mut out = format!(
            "{} was refused by the API (HTTP {}",
            subject(self.operation.as_deref(), self.host.as_deref()),
            self.http_status
        );
        // Vandar's `status: 0` only says "failed"; other values (IPG verify's 2 and 3) say more.
        if let Some(s) = self.upstream_status.filter(|s| *s != 0) {
            write!(out, ", status {s}")?;
        }
        if let Some(c) = &self.code {
            write!(out, ", code {c}")?;
        }
        if let (401, Some(kind)) = (self.http_status, self.credential) {
            write!(out, ", with the {kind}")?;
        }
        out.push(')');
        let mut sep = ": ";
        for m in &self.messages {
            write!(out, "{sep}{m}")?;
            sep = "; ";
        }
        for (field, msgs) in &self.field_errors {
            write!(out, "{sep}{field}: {}", msgs.join(", "))?;
            sep = "; ";
        }
        if let Some(d) = self.retry_after {
            write!(out, " (retry after {} s)", d.as_secs())?;
        }
        if let Some(id) = &self.request_id {
            write!(out, " [request id {id}]")?;
        }
        if let Some(advice) = self.advice() {
            if !out.ends_with('.') {
                out.push('.');
            }
            write!(out, " Next: {advice}")?;
        }
        f.write_str(&out)
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("http_status", &self.http_status)
            .field("upstream_status", &self.upstream_status)
            .field("code", &self.code)
            .field("messages", &self.messages)
            .field("field_errors", &self.field_errors)
            .field("retry_after", &self.retry_after)
            .field("operation", &self.operation)
            .field("host", &self.host)
            .field("request_id", &self.request_id)
            .field("credential", &self.credential)
            .finish_non_exhaustive()
    }
}

/// What kind of transport failure happened, from the HTTP client's error and its causes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportKind {
    /// The connection was refused: nothing listens at that host and port.
    ConnectionRefused,
    /// The host name could not be resolved.
    Dns,
    /// The TLS handshake failed (certificate, protocol, or not a TLS server).
    Tls,
    /// An `https` URL, but this build has no TLS backend (the `rustls` feature is off).
    TlsUnavailable,
    /// The connect timeout or the per-attempt timeout passed.
    Timeout,
    /// Connecting failed for another reason (network unreachable, reset while connecting).
    Connect,
    /// The connection closed or was reset before the whole answer arrived.
    ConnectionClosed,
    /// Something else (reading the body, the HTTP protocol).
    Other,
}

impl TransportKind {
    /// Classify a transport error by its causes.
    pub fn of(e: &reqwest::Error) -> Self {
        let mut io_kind = None;
        let mut text = String::new();
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(c) = cause {
            if io_kind.is_none() {
                io_kind = c.downcast_ref::<std::io::Error>().map(|io| io.kind());
            }
            text.push_str(&c.to_string().to_lowercase());
            text.push('\n');
            cause = c.source();
        }
        Self::classify(e.is_timeout(), e.is_connect(), io_kind, &text)
    }

    /// The classification, from the facts of an error chain (its lower-cased text).
    fn classify(
        timeout: bool,
        connect: bool,
        io_kind: Option<std::io::ErrorKind>,
        text: &str,
    ) -> Self {
        use std::io::ErrorKind as K;
        if text.contains("scheme is not http") {
            TransportKind::TlsUnavailable
        } else if timeout || io_kind == Some(K::TimedOut) {
            TransportKind::Timeout
        } else if io_kind == Some(K::ConnectionRefused) || text.contains("connection refused") {
            TransportKind::ConnectionRefused
        } else if text.contains("dns error") || text.contains("failed to lookup address") {
            TransportKind::Dns
        } else if [
            "tls",
            "certificate",
            "handshake",
            "invalidcontenttype",
            "corrupt message",
        ]
        .iter()
        .any(|t| text.contains(t))
        {
            TransportKind::Tls
        } else if connect {
            TransportKind::Connect
        } else if matches!(
            io_kind,
            Some(K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof)
        ) || text.contains("connection closed")
            || text.contains("incomplete message")
            || text.contains("connection reset")
        {
            TransportKind::ConnectionClosed
        } else {
            TransportKind::Other
        }
    }

    /// What happened (and where, for the DNS), then what to do.
    fn explain(self) -> (&'static str, &'static str) {
        match self {
            TransportKind::ConnectionRefused => (
                "connection refused (nothing listens there)",
                "check the base URL (Config::builder().host(..) or .all_hosts(..)) and that the server is running",
            ),
            TransportKind::Dns => (
                "the host name could not be resolved (DNS)",
                "check the base URL's spelling and this machine's DNS and network",
            ),
            TransportKind::Tls => (
                "the TLS handshake failed (certificate, protocol, or not a TLS server)",
                "check the base URL's scheme (http or https) and the server's certificate",
            ),
            TransportKind::TlsUnavailable => (
                "https needs TLS, and this build has no TLS backend",
                "turn on the `rustls` feature of `vandar` (a default feature)",
            ),
            TransportKind::Timeout => (
                "no answer in time (the connect or per-attempt timeout passed)",
                "check the network, or raise Config::builder().timeouts(..)",
            ),
            TransportKind::Connect => (
                "could not connect (network unreachable, or reset while connecting)",
                "check the network and the base URL",
            ),
            TransportKind::ConnectionClosed => (
                "the connection closed before the whole answer arrived",
                "try again; if it persists, check the proxies on the way",
            ),
            TransportKind::Other => (
                "the exchange failed (see the cause)",
                "try again; if it persists, report it with the cause",
            ),
        }
    }
}

/// A transport failure: the cause class, the host and the operation. Its [`source`](std::error::Error::source)
/// is the HTTP client's error (without its URL), whose text it does not repeat.
#[derive(Debug)]
pub struct TransportError {
    kind: TransportKind,
    host: Option<String>,
    operation: Option<String>,
    /// The answer's status when its status line had arrived (a body cut off).
    http_status: Option<u16>,
    source: reqwest::Error,
}

impl TransportError {
    /// Wrap an HTTP client error: the host (and port) is taken from its URL, then the URL
    /// (with its path and query) is dropped.
    pub fn new(e: reqwest::Error) -> Self {
        let host = e.url().and_then(host_of);
        TransportError {
            kind: TransportKind::of(&e),
            host,
            operation: None,
            http_status: None,
            source: e.without_url(),
        }
    }

    /// The same error, with the status of the answer whose status line arrived before the
    /// exchange failed (its body was cut off).
    pub fn with_http_status(mut self, status: Option<u16>) -> Self {
        self.http_status = status;
        self
    }

    /// The HTTP status of the answer, when its status line arrived before the failure.
    pub fn http_status(&self) -> Option<u16> {
        self.http_status
            .or_else(|| self.source.status().map(|s| s.as_u16()))
    }

    /// The same error, naming the operation.
    pub fn with_operation(mut self, operation: &str) -> Self {
        self.operation = Some(operation.to_owned());
        self
    }

    /// What kind of failure it was.
    pub fn kind(&self) -> TransportKind {
        self.kind
    }

    /// The host (and port, if not the scheme's default) the call went to, if known.
    pub fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }

    /// The operation id, if known.
    pub fn operation(&self) -> Option<&str> {
        self.operation.as_deref()
    }

    /// The HTTP client's error (without its URL).
    pub fn reqwest_error(&self) -> &reqwest::Error {
        &self.source
    }
}

/// `host` or `host:port` of a URL (never its user info, path or query).
fn host_of(url: &url::Url) -> Option<String> {
    let host = url.host_str()?;
    Some(match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    })
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = self.host.as_deref().unwrap_or("the server");
        let (what, next) = self.kind.explain();
        match &self.operation {
            Some(op) => write!(f, "`{op}` failed talking to {host}: {what}")?,
            None => write!(f, "the call failed talking to {host}: {what}")?,
        }
        if let Some(status) = self.http_status {
            write!(f, " (after the answer's status line, HTTP {status})")?;
        }
        write!(
            f,
            ". Nothing was sent, or the call is idempotent and safe to repeat. Next: {next}"
        )
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Every error the SDK returns. `Display` and `Debug` never show request headers, credentials,
/// URLs with credentials, or sensitive values a server echoed back (see [`crate::redact`]).
///
/// Every error built from an HTTP answer carries its status ([`Error::http_status`]), and its
/// request id where the API sent one ([`Error::request_id`]). Whether a money call may have
/// taken effect is [`Error::is_outcome_unknown`]: check before sending it again.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request was rejected before sending (a field failed validation, a credential is
    /// missing). Nothing was sent.
    #[error(
        "invalid request, nothing was sent: {}. Next: fix the value and call again",
        plain_request_message(.0)
    )]
    InvalidRequest(String),
    /// The configuration is invalid. Nothing was sent.
    #[error("invalid configuration, nothing was sent: {0}")]
    Config(ConfigError),
    /// Connecting, sending or receiving failed: either nothing was sent (a connect error), or
    /// the call is idempotent and its retries ran out. A non-idempotent call whose response was
    /// lost is [`Error::OutcomeUnknown`] instead. Its text names the cause class
    /// ([`TransportKind`]) and the host.
    #[error(transparent)]
    Transport(TransportError),
    /// A call that is not idempotent (a payment, verify, settlement, withdrawal, refund,
    /// transfer) was sent, and what came back does not say whether it took effect: the
    /// response was lost (connection reset, timeout), a gateway answered 500/502/504 (it may
    /// have forwarded the request), or a 2xx answer could not be read (not JSON, truncated,
    /// not the documented shape, larger than the response cap). The SDK did not repeat it.
    #[error(
        "outcome unknown: `{operation}` was sent and {reason}{}; it may or may not have taken effect and was not retried. Next: check before sending it again: for an IPG payment call get_transaction_info with its token (its `code` says whether it was verified); for a settlement, withdrawal or cash-in deposit look it up by the track_id you sent",
        .http_status.map(|s| format!(" (HTTP {s})")).unwrap_or_default()
    )]
    OutcomeUnknown {
        /// The operation id.
        operation: String,
        /// HTTP status of the answer, when one arrived.
        http_status: Option<u16>,
        /// What happened (no URL, no secrets).
        reason: String,
    },
    /// The total timeout passed while waiting for the rate limiter (or a 429's
    /// `Retry-After`). Nothing was sent.
    #[error(
        "`{operation}` timed out after {} ms waiting for a rate-limit slot, nothing was sent. Next: raise Timeouts::total or send fewer requests",
        .waited.as_millis()
    )]
    Timeout {
        /// The operation id.
        operation: String,
        /// How long the call waited.
        waited: Duration,
    },
    /// The server answered 429 with a `Retry-After` longer than the configured cap
    /// ([`ConfigBuilder::max_retry_after`](crate::ConfigBuilder::max_retry_after)); the SDK
    /// holds this credential back for at most the cap and leaves the longer wait to you.
    #[error(
        "`{operation}` was rate limited (HTTP {http_status}) with Retry-After {} s, longer than the configured cap, and was not retried. Next: try again after that time, or raise Config::builder().max_retry_after(..)",
        .retry_after.as_secs()
    )]
    RateLimited {
        /// The operation id.
        operation: String,
        /// HTTP status (429).
        http_status: u16,
        /// The server's `Retry-After`.
        retry_after: Duration,
    },
    /// No valid access token: the refresh token expired or was rejected (issue a new pair in
    /// the Vandar dashboard), or a refresh failed. The request was not sent (or, after a 401,
    /// not sent again).
    #[error("authentication failed, the call was not sent: {0}")]
    Auth(AuthError),
    /// The call was sent and answered HTTP 401, and no new access token could be had after it
    /// (`refresh` says why: an expired or rejected refresh token, a failed or rate-limited
    /// refresh). The call was not sent again; a 401 means it did not take effect.
    #[error(
        "`{operation}` was answered HTTP 401 and no new access token could be had, so it was not sent again: {refresh}"
    )]
    Unauthorized {
        /// The operation id.
        operation: String,
        /// Why no new token could be had.
        refresh: AuthError,
    },
    /// The API answered with an error body (boxed: it is large, and errors travel in every
    /// `Result`).
    #[error("{0}")]
    Api(Box<ApiError>),
    /// An idempotent call's answer arrived but its body did not match the spec (a
    /// non-idempotent call's is [`Error::OutcomeUnknown`]).
    #[error(
        "could not decode the answer of `{operation}` (HTTP {http_status}): {reason}. Next: the API answered in a shape the SDK's spec does not describe; the call is safe to repeat, and please report it with the operation and status"
    )]
    Decode {
        /// The operation id.
        operation: String,
        /// HTTP status of the answer.
        http_status: u16,
        /// What did not match (no body content).
        reason: String,
    },
    /// An answer was larger than the configured cap
    /// ([`ConfigBuilder::max_response_bytes`](crate::ConfigBuilder::max_response_bytes)) and
    /// was not read (a non-idempotent call's 2xx is [`Error::OutcomeUnknown`]).
    #[error(
        "the answer of `{operation}` (HTTP {http_status}) is larger than {limit} bytes and was not read. Next: ask for less (a smaller page), or raise Config::builder().max_response_bytes(..)"
    )]
    ResponseTooLarge {
        /// The operation id.
        operation: String,
        /// HTTP status of the answer.
        http_status: u16,
        /// The cap in bytes.
        limit: u64,
    },
    /// The API answered with a redirect (the SDK never follows one).
    #[error(
        "`{operation}` was answered with a redirect (HTTP {http_status}), which the SDK does not follow. Next: check the base URL (its scheme and path); the redirect's target is in `location`"
    )]
    Redirect {
        /// The operation id.
        operation: String,
        /// HTTP status (3xx).
        http_status: u16,
        /// The `Location` header, if any.
        location: Option<String>,
    },
    /// The API answered with a status the operation does not document and that is neither a
    /// success nor an error (or a success where a redirect was expected).
    #[error(
        "the API answered HTTP {status}, which this call does not document. Next: check the base URL; if it is right, report the operation and status"
    )]
    UnexpectedStatus {
        /// HTTP status.
        status: u16,
    },
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(e)
    }
}

impl From<AuthError> for Error {
    fn from(e: AuthError) -> Self {
        Error::Auth(e)
    }
}

impl Error {
    /// A transport error of `operation`: its host and cause class are kept, its URL dropped.
    pub fn transport(operation: &str, e: reqwest::Error) -> Self {
        Error::Transport(TransportError::new(e).with_operation(operation))
    }

    /// HTTP status of the answer the error was built from, if there was one (a refused
    /// refresh included).
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Error::Api(e) => Some(e.http_status),
            Error::UnexpectedStatus { status } => Some(*status),
            Error::OutcomeUnknown { http_status, .. } => *http_status,
            Error::RateLimited { http_status, .. }
            | Error::Decode { http_status, .. }
            | Error::ResponseTooLarge { http_status, .. }
            | Error::Redirect { http_status, .. } => Some(*http_status),
            Error::Auth(e) => e.http_status(),
            Error::Unauthorized { .. } => Some(401),
            Error::Transport(e) => e.http_status(),
            _ => None,
        }
    }

    /// The id the API gave the request (for a support ticket), where it sent one: a
    /// request-id header ([`REQUEST_ID_HEADERS`]) or Sanbod's echoed `traceid`.
    pub fn request_id(&self) -> Option<&str> {
        self.api_error().and_then(ApiError::request_id)
    }

    /// The operation id of the failed call, where the error knows it.
    pub fn operation(&self) -> Option<&str> {
        match self {
            Error::OutcomeUnknown { operation, .. }
            | Error::Timeout { operation, .. }
            | Error::RateLimited { operation, .. }
            | Error::Decode { operation, .. }
            | Error::ResponseTooLarge { operation, .. }
            | Error::Redirect { operation, .. }
            | Error::Unauthorized { operation, .. } => Some(operation),
            Error::Api(e) => e.operation.as_deref(),
            Error::Transport(e) => e.operation(),
            _ => None,
        }
    }

    /// Why no access token could be had: [`Error::Auth`] (before sending) or
    /// [`Error::Unauthorized`] (after a 401). An expired or rejected refresh token
    /// ([`AuthError::RefreshTokenExpired`], [`AuthError::RefreshRejected`]) needs a new token
    /// pair from the Vandar dashboard, in either case.
    pub fn auth_error(&self) -> Option<&AuthError> {
        match self {
            Error::Auth(e) | Error::Unauthorized { refresh: e, .. } => Some(e),
            _ => None,
        }
    }

    /// The decoded API error body, if the API answered with one.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// `Retry-After` of an API answer, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } => Some(*retry_after),
            Error::Auth(AuthError::RefreshRateLimited { retry_after })
            | Error::Unauthorized {
                refresh: AuthError::RefreshRateLimited { retry_after },
                ..
            } => Some(*retry_after),
            _ => self.api_error().and_then(|e| e.retry_after),
        }
    }

    /// Whether the same call may succeed if made again later: transport errors (connect
    /// failures, or idempotent calls whose retries ran out), rate-limit waits, a wait for a
    /// token refresh or the token store that ran out of time (nothing was sent), a refresh
    /// Vandar rate-limited, and HTTP 429/502/503/504. Never true for
    /// [`Error::OutcomeUnknown`]: check the outcome first.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport(_) | Error::Timeout { .. } | Error::RateLimited { .. } => true,
            Error::Auth(AuthError::RefreshTimeout | AuthError::RefreshRateLimited { .. })
            | Error::Unauthorized {
                refresh: AuthError::RefreshTimeout | AuthError::RefreshRateLimited { .. },
                ..
            } => true,
            Error::Api(e) => e.is_retryable(),
            Error::UnexpectedStatus { status } => crate::decide::is_retryable_status(*status),
            _ => false,
        }
    }

    /// Whether a non-idempotent call may have taken effect although its answer does not say.
    pub fn is_outcome_unknown(&self) -> bool {
        matches!(self, Error::OutcomeUnknown { .. })
    }

    /// An error of progenitor's request building (e.g. a body that cannot be form-encoded).
    /// Nothing was sent. Used by the generated code only.
    #[doc(hidden)]
    pub fn from_progenitor<E>(e: progenitor_client::Error<E>) -> Self {
        match e {
            progenitor_client::Error::InvalidRequest(s) => Error::InvalidRequest(s),
            other => Error::InvalidRequest(format!(
                "the request could not be built: {}",
                match other {
                    progenitor_client::Error::CommunicationError(e) => describe_transport(&e),
                    _ => "invalid request".to_owned(),
                }
            )),
        }
    }

    /// A request that could not be built (a header or URL the HTTP client refuses). Nothing
    /// was sent.
    pub fn from_build(e: reqwest::Error) -> Self {
        Error::InvalidRequest(format!(
            "the request could not be built: {}",
            describe_transport(&e)
        ))
    }
}

/// The generated builders' conversion messages in the user's words: the field they set, not
/// the generated type it converts to (``conversion to `TokenRequest` for body failed: error
/// converting supplied value for token: shorter than 1 characters`` becomes
/// ``field `token` is empty``).
fn plain_request_message(raw: &str) -> String {
    let mut text = raw;
    // "conversion to `X` for body failed: <rest>" / "conversion to `X` for <param> failed"
    let mut param = None;
    if let Some((_, after)) = text
        .strip_prefix("conversion to `")
        .and_then(|rest| rest.split_once("` for "))
    {
        match after.split_once(" failed") {
            Some((name, tail)) => {
                if name != "body" {
                    param = Some(name);
                }
                text = tail.strip_prefix(": ").unwrap_or(tail);
            }
            None => text = after,
        }
    }
    let mut out = if let Some(rest) = text.strip_prefix("error converting supplied value for ") {
        match rest.split_once(": ") {
            Some((field, why)) => field_problem(field, why),
            None => format!("field `{rest}` has an invalid value"),
        }
    } else if let Some(field) = text.strip_prefix("no value supplied for ") {
        format!("field `{field}` is required and was not set")
    } else {
        text.to_owned()
    };
    if let Some(p) = param {
        out = if out.is_empty() {
            format!("parameter `{p}` has an invalid value")
        } else {
            format!("parameter `{p}`: {out}")
        };
    }
    if out.is_empty() { raw.to_owned() } else { out }
}

/// `field `F` <problem>` from a typify conversion message.
fn field_problem(field: &str, why: &str) -> String {
    if why == "shorter than 1 characters" {
        format!("field `{field}` is empty")
    } else if let Some(n) = why
        .strip_prefix("shorter than ")
        .and_then(|r| r.strip_suffix(" characters"))
    {
        format!("field `{field}` is shorter than {n} characters")
    } else if let Some(n) = why
        .strip_prefix("longer than ")
        .and_then(|r| r.strip_suffix(" characters"))
    {
        format!("field `{field}` is longer than {n} characters")
    } else {
        format!("field `{field}`: {why}")
    }
}

/// Why the configuration is invalid.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// A base URL did not parse, is not absolute http(s), or carries a user name or password.
    #[error(
        "invalid base URL for host `{host}`: {reason}. Next: give an absolute http(s) URL without a user name or password"
    )]
    InvalidBaseUrl {
        /// The default host being overridden.
        host: String,
        /// What is wrong.
        reason: String,
    },
    /// The user agent contains characters not allowed in a header.
    #[error(
        "invalid user agent: not a valid header value. Next: use visible ASCII characters only"
    )]
    InvalidUserAgent,
    /// The HTTP client could not be built (TLS backend).
    #[error("could not build the HTTP client: {0}")]
    Http(String),
    /// A timeout, retry or rate-limit setting is out of range.
    #[error("invalid setting: {0}")]
    Invalid(String),
}

/// Why no access token could be had. Every variant is reported before the request is sent
/// (or, after a 401, instead of the 401).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The token store holds no pair.
    #[error(
        "no Vandar token pair is configured (the token store is empty). Next: issue a token in the Vandar dashboard (Settings > Tokens) and configure it"
    )]
    NoToken,
    /// The refresh token is past its 10-day lifetime, so the pair cannot be renewed.
    #[error(
        "the Vandar refresh token has expired (refresh tokens live 10 days). Next: issue a new token pair in the Vandar dashboard (Settings > Tokens) and install it with Runtime::set_token_pair"
    )]
    RefreshTokenExpired,
    /// Vandar refused the refresh token (expired, revoked, or already used). Not final: a
    /// newer pair in the token store ends it.
    #[error(
        "Vandar rejected the refresh token (HTTP {status}): it has expired, was revoked or was already used, and no newer pair is in the token store. To recover, issue a new token pair in the Vandar dashboard (Settings > Tokens) and install a new pair once, in any one process: Runtime::set_token_pair (or `vandar token set`); every replica sharing the token store picks it up within about a second"
    )]
    RefreshRejected {
        /// HTTP status of the refresh answer.
        status: u16,
    },
    /// The refresh did not complete and rotated nothing (a connect failure, a 500 or 503, a
    /// takeover by another replica). The current pair is unchanged and still usable; a later
    /// call tries again.
    #[error("refreshing the Vandar access token failed, and the token pair is unchanged: {reason}")]
    RefreshFailed {
        /// What went wrong (no tokens, no URL).
        reason: String,
        /// The HTTP status of the refresh answer, if one arrived.
        http_status: Option<u16>,
    },
    /// Vandar answered the refresh with 429: nothing was rotated; try again after
    /// `retry_after`.
    #[error(
        "Vandar rate-limited the token refresh (HTTP 429, Retry-After {} s); the token pair is unchanged and the refresh is tried again after that", retry_after.as_secs()
    )]
    RefreshRateLimited {
        /// The server's `Retry-After` (or the backoff).
        retry_after: std::time::Duration,
    },
    /// The call's total timeout ended while waiting for a token refresh (this replica's or
    /// another one's) or for the token store (its first load). Nothing was sent.
    #[error(
        "no valid Vandar access token before the call's total timeout: a token refresh was still under way (here or in another replica sharing the token store), or the token store had not answered; nothing was sent"
    )]
    RefreshTimeout,
    /// A refresh was sent but no rotated pair was stored (its answer was lost or unreadable,
    /// or the replica that sent it went quiet), so Vandar has probably rotated the pair and the
    /// refresh token is probably spent. The SDK never sends it again; a newer pair in the token
    /// store ends this.
    #[error(
        "the last token refresh was sent but no rotated pair was stored ({reason}); the refresh token is probably spent and is not sent again. To recover, issue a new token pair in the Vandar dashboard (Settings > Tokens) and install a new pair once, in any one process: Runtime::set_token_pair (or `vandar token set`); every replica sharing the token store picks it up within about a second"
    )]
    RefreshOutcomeUnknown {
        /// What happened to the answer (no tokens, no URL).
        reason: String,
    },
    /// The token store failed. Nothing was sent with a refresh token.
    #[error(
        "the token store failed (no refresh was sent): {reason}. Next: check the store (e.g. that Redis is reachable); calls with a valid access token keep working"
    )]
    Store {
        /// The store's message.
        reason: String,
    },
    /// The token store holds the pair of another Vandar environment (e.g. production's, and
    /// this runtime talks to the sandbox): it is never used, and nothing was sent.
    #[error(
        "the token store holds the Vandar token pair of another environment ({stored}) and this runtime talks to {runtime}; that pair is not used and nothing was sent. Next: give each environment its own token store (vandar-redis: an Account made with this runtime's base URL), or point the runtime at the environment of the store"
    )]
    EnvironmentMismatch {
        /// The environment the stored record names (its token endpoint's base URL).
        stored: String,
        /// The environment of this runtime (its token endpoint's base URL).
        runtime: String,
    },
    /// A per-client [`BearerSource`](crate::BearerSource) (e.g. a Sanbod token manager) could
    /// not supply a token.
    #[error("no access token from this client's token source: {reason}")]
    TokenUnavailable {
        /// Why (no tokens, no URL).
        reason: String,
    },
}

impl AuthError {
    /// The HTTP status of the refresh answer this error came from, if one arrived.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            AuthError::RefreshRejected { status } => Some(*status),
            AuthError::RefreshFailed { http_status, .. } => *http_status,
            AuthError::RefreshRateLimited { .. } => Some(429),
            _ => None,
        }
    }
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        Error::Api(Box::new(e))
    }
}

/// A transport error as text, with its causes and without any URL.
pub(crate) fn describe_transport(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    if let Some(u) = e.url() {
        text = text.replace(u.as_str(), "<url>");
    }
    if e.is_timeout() && !text.contains("timed out") {
        text.push_str(" (timed out)");
    }
    text
}

/// A serde_json error described without the input it quotes (which may hold personal data).
pub(crate) fn describe_json_error(e: &serde_json::Error) -> String {
    let kind = match e.classify() {
        serde_json::error::Category::Io => "I/O",
        serde_json::error::Category::Syntax => "syntax",
        serde_json::error::Category::Data => "data does not match the schema",
        serde_json::error::Category::Eof => "truncated",
    };
    format!("{kind} at line {} column {}", e.line(), e.column())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ipg_list_shape() {
        let e = ApiError::from_body(422, json!({"status": 0, "errors": ["a", "b"]}));
        assert_eq!(e.upstream_status, Some(0));
        assert_eq!(e.messages, vec!["a", "b"]);
        assert_eq!(
            e.to_string(),
            "the call was refused by the API (HTTP 422): a; b. Next: fix the values named above and send the call again"
        );
    }

    #[test]
    fn laravel_shape() {
        let e = ApiError::from_body(
            422,
            json!({"message": "The given data was invalid.", "errors": {"amount": ["required"]}}),
        );
        assert_eq!(e.messages, vec!["The given data was invalid."]);
        assert_eq!(e.field_errors["amount"], vec!["required"]);
        assert_eq!(e.upstream_status, None);
    }

    #[test]
    fn nested_error_and_string_status() {
        let e = ApiError::from_body(400, json!({"status": "0", "errors": {"error": "boom"}}));
        assert_eq!(e.upstream_status, Some(0));
        assert_eq!(e.messages, vec!["boom"]);
        assert!(e.field_errors.is_empty());
        let e = ApiError::from_body(401, json!({"status": 0, "error": "Unauthenticated"}));
        assert_eq!(e.messages, vec!["Unauthenticated"]);
    }

    #[test]
    fn decode_errors_do_not_quote_input() {
        let err = serde_json::from_str::<u32>("\"6037991234567890\"").unwrap_err();
        let text = describe_json_error(&err);
        assert!(!text.contains("6037991234567890"), "{text}");
    }

    #[test]
    fn debug_omits_raw_body() {
        let e = ApiError::from_body(422, json!({"status": 0, "echo": "secret-value"}));
        assert!(!format!("{e:?}").contains("secret-value"));
    }

    #[test]
    fn every_documented_shape_decodes() {
        let f = |pairs: &[(&str, &[&str])]| -> BTreeMap<String, Vec<String>> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
                .collect()
        };
        type Case = (
            Value,
            Option<i64>,
            Vec<&'static str>,
            BTreeMap<String, Vec<String>>,
        );
        let cases: Vec<Case> = vec![
            // auth
            (
                json!({"status": 0, "error": "Unauthenticated"}),
                Some(0),
                vec!["Unauthenticated"],
                f(&[]),
            ),
            // Laravel validation
            (
                json!({"message": "The given data was invalid.", "errors": {"iban": ["not acceptable", "not found"]}}),
                None,
                vec!["The given data was invalid."],
                f(&[("iban", &["not acceptable", "not found"])]),
            ),
            // status + nested error
            (
                json!({"status": 0, "errors": {"error": "tool not active"}}),
                Some(0),
                vec!["tool not active"],
                f(&[]),
            ),
            // status + field map
            (
                json!({"status": 0, "errors": {"amount": ["a", "b"]}}),
                Some(0),
                vec![],
                f(&[("amount", &["a", "b"])]),
            ),
            // field map only
            (
                json!({"errors": {"amount": ["insufficient"]}}),
                None,
                vec![],
                f(&[("amount", &["insufficient"])]),
            ),
            // IPG list
            (
                json!({"status": 0, "errors": ["x", "y"]}),
                Some(0),
                vec!["x", "y"],
                f(&[]),
            ),
            // IPG verify: already verified, with status as a string
            (
                json!({"status": "2", "errors": ["announced"]}),
                Some(2),
                vec!["announced"],
                f(&[]),
            ),
            // status + message (404, 409)
            (
                json!({"status": 0, "message": "not found"}),
                Some(0),
                vec!["not found"],
                f(&[]),
            ),
            // message only (refund of another business's transaction)
            (
                json!({"message": "not yours"}),
                None,
                vec!["not yours"],
                f(&[]),
            ),
            // Sanbod
            (
                json!({"error": true, "message": {"depositNumber": "invalid"}, "result_number": 0}),
                None,
                vec![],
                f(&[("depositNumber", &["invalid"])]),
            ),
            // repaired `{ "unauthorized" }`
            (
                json!({"message": "unauthorized"}),
                None,
                vec!["unauthorized"],
                f(&[]),
            ),
            // a bare string body
            (json!("Server Error"), None, vec!["Server Error"], f(&[])),
        ];
        for (body, upstream, messages, fields) in cases {
            let e = ApiError::from_body(422, body.clone());
            assert_eq!(e.upstream_status, upstream, "{body}");
            assert_eq!(e.messages, messages, "{body}");
            assert_eq!(e.field_errors, fields, "{body}");
            assert_eq!(e.raw, body);
        }
        let e = ApiError::from_body(
            422,
            json!({"status": 0, "error_code": "01", "message": "m"}),
        );
        assert_eq!(e.code.as_deref(), Some("01"));
        assert_eq!(
            e.to_string(),
            "the call was refused by the API (HTTP 422, code 01): m. Next: fix the values named above and send the call again"
        );
    }

    #[test]
    fn retryable_statuses_and_small_errors() {
        for (status, retryable) in [
            (429, true),
            (502, true),
            (503, true),
            (504, true),
            (500, false),
            (422, false),
        ] {
            let e = Error::from(ApiError::from_body(status, json!({})));
            assert_eq!(e.is_retryable(), retryable, "{status}");
            assert_eq!(Error::UnexpectedStatus { status }.is_retryable(), retryable);
        }
        assert!(
            std::mem::size_of::<Error>() < 128,
            "clippy::result_large_err in every crate"
        );
    }

    #[test]
    fn sanbod_trace_id_is_the_request_id() {
        let e = ApiError::from_body(
            400,
            json!({"error": true, "message": "bad deposit", "traceid": 123456}),
        );
        assert_eq!(e.request_id(), Some("123456"));
        let e = ApiError::from_body(400, json!({"error": true, "trace_id": "f3a1-uuid"}));
        assert_eq!(e.request_id(), Some("f3a1-uuid"));
        let mut headers = HeaderMap::new();
        headers.insert("x-request-id", "req-42".parse().unwrap());
        let e = e.with_headers(&headers);
        assert_eq!(Error::from(e).request_id(), Some("req-42"));
        // A header value that is empty or too long is no id.
        let mut headers = HeaderMap::new();
        headers.insert("request-id", "x".repeat(200).parse().unwrap());
        let e = ApiError::from_body(500, json!({})).with_headers(&headers);
        assert_eq!(e.request_id(), None);
    }

    #[test]
    fn refused_refresh_has_its_status() {
        let e = Error::from(AuthError::RefreshRejected { status: 401 });
        assert_eq!(e.http_status(), Some(401));
        assert_eq!(Error::from(AuthError::NoToken).http_status(), None);
    }

    #[test]
    fn generated_builder_messages_name_the_field_not_the_type() {
        let cases = [
            (
                "conversion to `TokenRequest` for body failed: error converting supplied value for token: shorter than 1 characters",
                "field `token` is empty",
            ),
            (
                "conversion to `PaymentRequest` for body failed: no value supplied for amount",
                "field `amount` is required and was not set",
            ),
            (
                "conversion to `PaymentRequest` for body failed: error converting supplied value for mobile_number: doesn't match pattern",
                "field `mobile_number`: doesn't match pattern",
            ),
            (
                "conversion to `BusinessSlug` for business failed",
                "parameter `business` has an invalid value",
            ),
            (
                "field `amount` of `send_payment` is below 1000",
                "field `amount` of `send_payment` is below 1000",
            ),
        ];
        for (raw, plain) in cases {
            assert_eq!(plain_request_message(raw), plain, "{raw}");
            let text = Error::InvalidRequest(raw.to_owned()).to_string();
            assert!(!text.contains("conversion to"), "{text}");
            assert!(!text.contains("Request`"), "{text}");
        }
    }

    #[test]
    fn transport_kinds_from_error_chains() {
        use std::io::ErrorKind as K;
        let c = TransportKind::classify;
        assert_eq!(
            c(
                false,
                true,
                Some(K::ConnectionRefused),
                "connection refused"
            ),
            TransportKind::ConnectionRefused
        );
        assert_eq!(
            c(
                false,
                true,
                None,
                "client error (connect)\ndns error\nfailed to lookup address information: name or service not known\n"
            ),
            TransportKind::Dns
        );
        assert_eq!(
            c(false, true, None, "invalid peer certificate: unknownissuer"),
            TransportKind::Tls
        );
        assert_eq!(
            c(false, true, None, "invalid url, scheme is not http"),
            TransportKind::TlsUnavailable
        );
        assert_eq!(
            c(true, true, None, "operation timed out"),
            TransportKind::Timeout
        );
        assert_eq!(
            c(
                false,
                true,
                Some(K::NetworkUnreachable),
                "network is unreachable"
            ),
            TransportKind::Connect
        );
        assert_eq!(
            c(
                false,
                false,
                None,
                "connection closed before message completed"
            ),
            TransportKind::ConnectionClosed
        );
        assert_eq!(
            c(false, false, None, "something else"),
            TransportKind::Other
        );
    }
}

/// The `Display` of every error, locked by snapshots (`src/snapshots/`), and the rule that a
/// `source()` never repeats its parent's text.
#[cfg(test)]
mod display_tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// Every `Error` variant by name; the match fails to compile when a variant is added, and
    /// `every_variant_is_shown` fails until a sample of it is in [`samples`].
    fn variant(e: &Error) -> &'static str {
        match e {
            Error::InvalidRequest(_) => "InvalidRequest",
            Error::Config(_) => "Config",
            Error::Transport(_) => "Transport",
            Error::OutcomeUnknown { .. } => "OutcomeUnknown",
            Error::Timeout { .. } => "Timeout",
            Error::RateLimited { .. } => "RateLimited",
            Error::Auth(_) => "Auth",
            Error::Unauthorized { .. } => "Unauthorized",
            Error::Api(_) => "Api",
            Error::Decode { .. } => "Decode",
            Error::ResponseTooLarge { .. } => "ResponseTooLarge",
            Error::Redirect { .. } => "Redirect",
            Error::UnexpectedStatus { .. } => "UnexpectedStatus",
        }
    }

    const VARIANTS: [&str; 13] = [
        "InvalidRequest",
        "Config",
        "Transport",
        "OutcomeUnknown",
        "Timeout",
        "RateLimited",
        "Auth",
        "Unauthorized",
        "Api",
        "Decode",
        "ResponseTooLarge",
        "Redirect",
        "UnexpectedStatus",
    ];

    /// A real transport error from a server on 127.0.0.1 that `behaviour` drives, shown as if
    /// the call went to `api.vandar.io` (the port differs per run).
    async fn transport(kind_wanted: TransportKind) -> Error {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut scheme = "http";
        match kind_wanted {
            TransportKind::ConnectionRefused => drop(listener),
            TransportKind::Timeout => {
                // Accept, never answer.
                tokio::spawn(async move {
                    let (_socket, _) = listener.accept().await.unwrap();
                    tokio::time::sleep(Duration::from_secs(30)).await;
                });
            }
            TransportKind::ConnectionClosed => {
                // Read the request, close without an answer.
                tokio::spawn(async move {
                    let (mut socket, _) = listener.accept().await.unwrap();
                    let mut buf = [0u8; 1024];
                    let _ = socket.read(&mut buf).await;
                    drop(socket);
                });
            }
            TransportKind::Tls | TransportKind::TlsUnavailable => {
                // Not a TLS server: plain HTTP bytes in answer to a ClientHello.
                scheme = "https";
                tokio::spawn(async move {
                    let (mut socket, _) = listener.accept().await.unwrap();
                    let mut buf = [0u8; 1024];
                    let _ = socket.read(&mut buf).await;
                    let _ = socket.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
                });
            }
            other => panic!("no local server for {other:?}"),
        }
        // Only the silent server needs the timeout to fire; the others end the exchange
        // themselves, so their timeout is far away (a loaded machine does not change the kind).
        let timeout = if kind_wanted == TransportKind::Timeout {
            Duration::from_millis(300)
        } else {
            Duration::from_secs(60)
        };
        let client = reqwest::Client::builder().timeout(timeout).build().unwrap();
        let e = client
            .get(format!(
                "{scheme}://{addr}/v2/business/acme/balance?secret=SECRET"
            ))
            .send()
            .await
            .unwrap_err();
        let Error::Transport(mut t) = Error::transport("get_balance", e) else {
            unreachable!()
        };
        assert_eq!(t.host(), Some(addr.to_string().as_str()));
        assert_eq!(t.kind(), kind_wanted, "{:?}", t.reqwest_error());
        t.host = Some("api.vandar.io".to_owned());
        Error::Transport(t)
    }

    async fn samples() -> Vec<(String, Error)> {
        let mut out: Vec<(String, Error)> = Vec::new();
        let mut add = |name: &str, e: Error| out.push((name.to_owned(), e));
        add(
            "InvalidRequest (a runtime check)",
            Error::InvalidRequest("field `amount` of `send_payment` is below 1000".into()),
        );
        add(
            "InvalidRequest (a generated builder)",
            Error::InvalidRequest("conversion to `TokenRequest` for body failed: error converting supplied value for token: shorter than 1 characters".into()),
        );
        add(
            "Config InvalidBaseUrl",
            Error::from(ConfigError::InvalidBaseUrl {
                host: "https://api.vandar.io".into(),
                reason: "a base URL must not carry a user name or password".into(),
            }),
        );
        add(
            "Config InvalidUserAgent",
            Error::from(ConfigError::InvalidUserAgent),
        );
        add(
            "Config Http",
            Error::from(ConfigError::Http(
                "the TLS backend could not load the platform's certificates".into(),
            )),
        );
        add(
            "Config Invalid",
            Error::from(ConfigError::Invalid(
                "Timeouts::total must be at least the per-attempt timeout".into(),
            )),
        );
        for kind in [
            TransportKind::ConnectionRefused,
            TransportKind::Timeout,
            TransportKind::ConnectionClosed,
        ] {
            let e = transport(kind).await;
            add(&format!("Transport {kind:?}"), e);
        }
        #[cfg(feature = "rustls")]
        let tls = TransportKind::Tls;
        #[cfg(not(feature = "rustls"))]
        let tls = TransportKind::TlsUnavailable;
        let e = transport(tls).await;
        // The same text with and without the feature, so the snapshot does not depend on it.
        // The last one: an answer whose body was cut off after its status line.
        for (kind, http_status) in [
            (TransportKind::Tls, None),
            (TransportKind::TlsUnavailable, None),
            (TransportKind::Dns, None),
            (TransportKind::Connect, None),
            (TransportKind::Other, None),
            (TransportKind::ConnectionClosed, Some(200)),
        ] {
            let Error::Transport(t) = &e else {
                unreachable!()
            };
            let t = TransportError {
                kind,
                host: t.host.clone(),
                operation: t.operation.clone(),
                http_status,
                source: transport_source(),
            };
            let cut = if http_status.is_some() {
                " (a body cut off)"
            } else {
                ""
            };
            add(&format!("Transport {kind:?}{cut}"), Error::Transport(t));
        }
        add(
            "OutcomeUnknown (lost)",
            Error::OutcomeUnknown {
                operation: "send_payment".into(),
                http_status: None,
                reason: "its answer was lost (connection closed)".into(),
            },
        );
        add(
            "OutcomeUnknown (gateway)",
            Error::OutcomeUnknown {
                operation: "create_settlement".into(),
                http_status: Some(502),
                reason: "a gateway answered".into(),
            },
        );
        add(
            "Timeout",
            Error::Timeout {
                operation: "list_transactions".into(),
                waited: Duration::from_millis(30_000),
            },
        );
        add(
            "RateLimited",
            Error::RateLimited {
                operation: "create_settlement".into(),
                http_status: 429,
                retry_after: Duration::from_secs(3600),
            },
        );
        for auth in [
            AuthError::NoToken,
            AuthError::RefreshTokenExpired,
            AuthError::RefreshRejected { status: 401 },
            AuthError::RefreshFailed {
                reason: "Vandar answered the refresh with HTTP 500 and rotated nothing".into(),
                http_status: Some(500),
            },
            AuthError::RefreshRateLimited {
                retry_after: Duration::from_secs(3600),
            },
            AuthError::RefreshTimeout,
            AuthError::RefreshOutcomeUnknown {
                reason: "connection closed".into(),
            },
            AuthError::Store {
                reason: "connection refused".into(),
            },
            AuthError::EnvironmentMismatch {
                stored: "https://api.vandar.io:443".into(),
                runtime: "https://sandbox.example:443".into(),
            },
            AuthError::TokenUnavailable {
                reason: "the user has not given consent".into(),
            },
        ] {
            let name = format!("Auth {auth:?}");
            add(&name, Error::from(auth));
        }
        add(
            "Unauthorized (a 401, then the refresh token had expired)",
            Error::Unauthorized {
                operation: "store_settlement".into(),
                refresh: AuthError::RefreshTokenExpired,
            },
        );
        let unauthenticated =
            || ApiError::from_body(401, json!({"status": 0, "error": "Unauthenticated"}));
        add(
            "Api 401, credential unknown",
            Error::from(unauthenticated()),
        );
        for kind in [
            CredentialKind::StaticToken,
            CredentialKind::TokenPair,
            CredentialKind::ApiKey,
            CredentialKind::ClientToken,
            CredentialKind::TokenSource,
            CredentialKind::ClientCredentials,
            CredentialKind::None,
        ] {
            add(
                &format!("Api 401, {kind:?}"),
                Error::from(
                    unauthenticated()
                        .with_call("get_balance", "api.vandar.io")
                        .with_credential(kind),
                ),
            );
        }
        let mut headers = HeaderMap::new();
        headers.insert("x-request-id", "8c1f0e2a".parse().unwrap());
        add(
            "Api 422 (Laravel validation, request id)",
            Error::from(
                ApiError::from_body(
                    422,
                    json!({"message": "The given data was invalid.", "errors": {"amount": ["The amount must be at least 1000."]}}),
                )
                .with_call("create_settlement", "api.vandar.io")
                .with_headers(&headers),
            ),
        );
        add(
            "Api 200 IPG verify, status 3",
            Error::from(
                ApiError::from_body(200, json!({"status": 3, "errors": ["expired"]}))
                    .with_call("verify_payment", "ipg.vandar.io"),
            ),
        );
        add(
            "Api 400 Sanbod (traceid)",
            Error::from(ApiError::from_body(400, json!({"error": true, "message": {"depositNumber": "invalid"}, "traceid": 123456})).with_call("internal_transfer", "api.sanbod.co")),
        );
        for (status, body) in [
            (
                403,
                json!({"status": 0, "message": "This action is unauthorized."}),
            ),
            (404, json!({"status": 0, "message": "not found"})),
            (
                409,
                json!({"status": 0, "message": "track_id already used", "code": "DUPLICATE"}),
            ),
            (429, json!({"message": "Too Many Attempts."})),
            (503, json!("Service Unavailable")),
            (418, json!({})),
        ] {
            let mut e = ApiError::from_body(status, body).with_call("get_balance", "api.vandar.io");
            if status == 429 {
                e.retry_after = Some(Duration::from_secs(3));
            }
            add(&format!("Api {status}"), Error::from(e));
        }
        add(
            "Decode",
            Error::Decode {
                operation: "list_transactions".into(),
                http_status: 200,
                reason: "data does not match the schema at line 1 column 42".into(),
            },
        );
        add(
            "ResponseTooLarge",
            Error::ResponseTooLarge {
                operation: "list_transactions".into(),
                http_status: 200,
                limit: 8 * 1024 * 1024,
            },
        );
        add(
            "Redirect",
            Error::Redirect {
                operation: "get_balance".into(),
                http_status: 301,
                location: Some("https://api.vandar.io/v2/business/acme/balance".into()),
            },
        );
        add("UnexpectedStatus", Error::UnexpectedStatus { status: 204 });
        out
    }

    /// A reqwest error with no text of interest (for the kinds no local server can produce).
    fn transport_source() -> reqwest::Error {
        reqwest::Client::new()
            .get("http://[::1")
            .build()
            .unwrap_err()
    }

    #[tokio::test]
    async fn every_error_display() {
        let samples = samples().await;
        let shown: std::collections::BTreeSet<_> =
            samples.iter().map(|(_, e)| variant(e)).collect();
        let all: std::collections::BTreeSet<_> = VARIANTS.into_iter().collect();
        assert_eq!(
            shown, all,
            "every_variant_is_shown: add a sample of the new variant"
        );
        let mut text = String::new();
        for (name, e) in &samples {
            let display = e.to_string();
            // No URL, no query string, no secret, no generated type name, no "status 0".
            for banned in [
                "SECRET",
                "http://",
                "127.0.0.1",
                "status 0",
                "TokenRequest",
                "Unauthenticated)",
            ] {
                assert!(!display.contains(banned), "{name}: {display}");
            }
            text.push_str(&format!("## {name}\n{display}\n"));
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                text.push_str(&format!("   caused by: {s}\n"));
                source = s.source();
            }
            text.push('\n');
        }
        // The chains of real reqwest errors differ by platform; keep their first line only.
        let text: String = text
            .lines()
            .filter(|l| !l.starts_with("   caused by: ") || l.contains("error sending request"))
            .map(|l| format!("{l}\n"))
            .collect();
        insta::assert_snapshot!("every_error_display", text);
    }

    #[tokio::test]
    async fn source_never_repeats_the_display() {
        for (name, e) in samples().await {
            let mut texts = vec![e.to_string()];
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                texts.push(s.to_string());
                source = s.source();
            }
            for pair in texts.windows(2) {
                assert!(
                    !pair[0].contains(&pair[1]),
                    "{name}: a source repeats its parent's text: {:?} contains {:?}",
                    pair[0],
                    pair[1]
                );
            }
        }
    }

    #[tokio::test]
    async fn transport_error_keeps_no_url() {
        let e = transport(TransportKind::ConnectionRefused).await;
        let Error::Transport(t) = &e else {
            unreachable!()
        };
        assert!(t.reqwest_error().url().is_none());
        assert!(!format!("{e:?}").contains("SECRET"));
        assert!(e.is_retryable());
        assert_eq!(e.operation(), Some("get_balance"));
    }

    /// A wait for the credential that ran out sent nothing and may pass later; a refresh
    /// token that is spent or refused will not.
    #[test]
    fn auth_errors_that_may_pass_later_are_retryable() {
        assert!(Error::Auth(AuthError::RefreshTimeout).is_retryable());
        assert!(
            Error::Auth(AuthError::RefreshRateLimited {
                retry_after: Duration::from_secs(3)
            })
            .is_retryable()
        );
        assert!(!Error::Auth(AuthError::RefreshTokenExpired).is_retryable());
        assert!(!Error::Auth(AuthError::NoToken).is_retryable());
    }
}
