//! The SDK's error type. It never prints headers, bodies that
//! were not meant as messages, or secrets.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde_json::Value;

use crate::redact::Scrubber;

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
/// | Sanbod | `{"error":true,"message":{..} or [..] or "..."}` |
/// | broken JSON | `{ "unauthorized" }`, `{"status":0,"error": Unauthenticated }` (repaired) |
/// | not JSON | an HTML page: `message` says what arrived, without its content |
///
/// A failure body on HTTP 2xx (`status: 0`) is an error too; its `http_status` is the real one.
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
}

impl ApiError {
    /// Decode an error body of any documented shape. Card-, IBAN- and national-code-shaped
    /// digit runs are masked in every string kept (see [`crate::redact`]).
    pub fn from_body(http_status: u16, raw: Value) -> Self {
        Self::from_body_scrubbed(http_status, raw, &Scrubber::new())
    }

    /// [`ApiError::from_body`], also cutting the call's own secrets (its token, credentials
    /// and sensitive request fields) from every string kept.
    pub fn from_body_scrubbed(http_status: u16, mut raw: Value, scrubber: &Scrubber) -> Self {
        scrubber.scrub_json(&mut raw);
        let code_of = |c: &Value| match c {
            Value::String(s) => Some(s.clone()),
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

    /// Whether repeating the call later may succeed (HTTP 429, 502, 503, 504).
    pub fn is_retryable(&self) -> bool {
        crate::decide::is_retryable_status(self.http_status)
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

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "API error (HTTP {}", self.http_status)?;
        if let Some(s) = self.upstream_status {
            write!(f, ", status {s}")?;
        }
        if let Some(c) = &self.code {
            write!(f, ", code {c}")?;
        }
        f.write_str(")")?;
        let mut sep = ": ";
        for m in &self.messages {
            write!(f, "{sep}{m}")?;
            sep = "; ";
        }
        for (field, msgs) in &self.field_errors {
            write!(f, "{sep}{field}: {}", msgs.join(", "))?;
            sep = "; ";
        }
        if let Some(d) = self.retry_after {
            write!(f, " (retry after {} s)", d.as_secs())?;
        }
        Ok(())
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
            .finish_non_exhaustive()
    }
}

/// Every error the SDK returns. `Display` and `Debug` never show request headers, credentials,
/// URLs with credentials, or sensitive values a server echoed back (see [`crate::redact`]).
///
/// Every error built from an HTTP answer carries its status ([`Error::http_status`]). Whether
/// a money call may have taken effect is [`Error::is_outcome_unknown`]: check before sending it
/// again.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request was rejected before sending (a field failed validation, a credential is
    /// missing). Nothing was sent.
    #[error("invalid request (nothing was sent): {0}")]
    InvalidRequest(String),
    /// The configuration is invalid. Nothing was sent.
    #[error("invalid configuration (nothing was sent): {0}")]
    Config(#[from] ConfigError),
    /// Connecting, sending or receiving failed: either nothing was sent (a connect error), or
    /// the call is idempotent and its retries ran out. A non-idempotent call whose response was
    /// lost is [`Error::OutcomeUnknown`] instead.
    #[error("transport error: {0}")]
    Transport(#[source] reqwest::Error),
    /// A call that is not idempotent (a payment, verify, settlement, withdrawal, refund,
    /// transfer) was sent, and what came back does not say whether it took effect: the
    /// response was lost (connection reset, timeout), a gateway answered 500/502/504 (it may
    /// have forwarded the request), or a 2xx answer could not be read (not JSON, truncated,
    /// not the documented shape, larger than the response cap). The SDK did not repeat it.
    #[error(
        "outcome unknown: `{operation}` was sent and {reason}{}; it may or may not have taken effect and was not retried. Check before sending it again: for an IPG payment call get_transaction_info with its token (its `code` says whether it was verified); for a settlement, withdrawal or cash-in deposit look it up by the track_id you sent",
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
        "`{operation}` timed out after {} ms waiting for a rate-limit slot (nothing was sent); raise Timeouts::total or send fewer requests",
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
        "`{operation}` was rate limited (HTTP {http_status}) with Retry-After {} s, longer than the configured cap; try again later",
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
    /// not replayed).
    #[error("authentication failed: {0}")]
    Auth(#[from] AuthError),
    /// The API answered with an error body (boxed: it is large, and errors travel in every
    /// `Result`).
    #[error("{0}")]
    Api(Box<ApiError>),
    /// An idempotent call's answer arrived but its body did not match the spec (a
    /// non-idempotent call's is [`Error::OutcomeUnknown`]).
    #[error("could not decode the answer of `{operation}` (HTTP {http_status}): {reason}")]
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
    #[error("the answer of `{operation}` (HTTP {http_status}) is larger than {limit} bytes")]
    ResponseTooLarge {
        /// The operation id.
        operation: String,
        /// HTTP status of the answer.
        http_status: u16,
        /// The cap in bytes.
        limit: u64,
    },
    /// The API answered with a redirect (the SDK never follows one).
    #[error("`{operation}` was answered with a redirect (HTTP {http_status})")]
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
    #[error("unexpected HTTP {status} response")]
    UnexpectedStatus {
        /// HTTP status.
        status: u16,
    },
}

impl Error {
    /// HTTP status of the answer the error was built from, if there was one.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Error::Api(e) => Some(e.http_status),
            Error::UnexpectedStatus { status } => Some(*status),
            Error::OutcomeUnknown { http_status, .. } => *http_status,
            Error::RateLimited { http_status, .. }
            | Error::Decode { http_status, .. }
            | Error::ResponseTooLarge { http_status, .. }
            | Error::Redirect { http_status, .. } => Some(*http_status),
            Error::Transport(e) => e.status().map(|s| s.as_u16()),
            Error::Auth(e) => e.http_status(),
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
            Error::Auth(AuthError::RefreshRateLimited { retry_after }) => Some(*retry_after),
            _ => self.api_error().and_then(|e| e.retry_after),
        }
    }

    /// Whether the same call may succeed if made again later: transport errors (connect
    /// failures, or idempotent calls whose retries ran out), rate-limit waits, and HTTP
    /// 429/502/503/504. Never true for [`Error::OutcomeUnknown`]: check the outcome first.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport(_) | Error::Timeout { .. } | Error::RateLimited { .. } => true,
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

/// Why the configuration is invalid.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// A base URL did not parse, is not absolute http(s), or carries a user name or password.
    #[error("invalid base URL for host `{host}`: {reason}")]
    InvalidBaseUrl {
        /// The default host being overridden.
        host: String,
        /// What is wrong.
        reason: String,
    },
    /// The user agent contains characters not allowed in a header.
    #[error("invalid user agent: not a valid header value")]
    InvalidUserAgent,
    /// The HTTP client could not be built (TLS backend).
    #[error("could not build the HTTP client: {0}")]
    Http(String),
    /// A timeout, retry or rate-limit setting is out of range.
    #[error("invalid setting: {0}")]
    Invalid(String),
}

/// Why no access token could be had. Every variant is reported before the request is sent
/// (or, for a 401, instead of replaying it).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The token store holds no pair.
    #[error(
        "no Vandar token pair is configured (the token store is empty); issue a token in the Vandar dashboard (Settings > Tokens) and configure it"
    )]
    NoToken,
    /// The refresh token is past its 10-day lifetime, so the pair cannot be renewed.
    #[error(
        "the Vandar refresh token has expired (refresh tokens live 10 days); a new token pair must be issued in the Vandar dashboard (Settings > Tokens)"
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
    /// another one's).
    #[error(
        "no valid Vandar access token before the call's total timeout: a token refresh was still under way (here or in another replica sharing the token store); nothing was sent"
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
    #[error("the token store failed (no refresh was sent): {reason}")]
    Store {
        /// The store's message.
        reason: String,
    },
    /// A per-client [`BearerSource`](crate::BearerSource) (e.g. a Sanbod token manager) could
    /// not supply a token.
    #[error("no access token: {reason}")]
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
        assert_eq!(e.to_string(), "API error (HTTP 422, status 0): a; b");
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
        assert_eq!(e.to_string(), "API error (HTTP 422, status 0, code 01): m");
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
}
