//! The SDK's error type. It wraps progenitor's error without ever printing headers, bodies that
//! were not meant as messages, or secrets.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde_json::Value;

use crate::auth::AuthError;
use crate::config::ConfigError;
use crate::response::ErrorBody;

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
    /// Decode an error body of any documented shape.
    pub fn from_body(http_status: u16, raw: Value) -> Self {
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

    /// Decode a documented error response of a generated operation (honours the real status
    /// of a rewritten 2xx failure body, and `Retry-After`).
    pub fn from_response<E: serde::Serialize>(rv: progenitor_client::ResponseValue<E>) -> Self {
        let status = original_status(rv.headers()).unwrap_or(rv.status().as_u16());
        let retry_after = crate::response::retry_after(rv.headers());
        let raw = serde_json::to_value(rv.into_inner()).unwrap_or(Value::Null);
        let mut e = ApiError::from_body(status, raw);
        e.retry_after = retry_after;
        e
    }

    /// Whether repeating the call later may succeed (HTTP 429, 502, 503, 504).
    pub fn is_retryable(&self) -> bool {
        crate::retry::is_retryable_status(self.http_status)
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

fn original_status(headers: &reqwest::header::HeaderMap) -> Option<u16> {
    headers
        .get(crate::response::ORIGINAL_STATUS_HEADER)?
        .to_str()
        .ok()?
        .parse()
        .ok()
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

/// Every error the SDK returns. `Display` and `Debug` never show request headers, credentials
/// or URLs.
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
    /// transfer) was sent, but its response was lost (connection reset, timeout). It may or
    /// may not have taken effect, and the SDK did not repeat it.
    #[error(
        "outcome unknown: `{operation}` was sent but its response was lost ({reason}); it may or may not have taken effect and was not retried. Check before sending it again: for an IPG payment call get_transaction_info with its token (its `code` says whether it was verified); for a settlement, withdrawal or cash-in deposit look it up by the track_id you sent"
    )]
    OutcomeUnknown {
        /// The operation id.
        operation: String,
        /// What happened to the response (no URL, no secrets).
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
    /// No valid access token: the refresh token expired or was rejected (issue a new pair in
    /// the Vandar dashboard), or a refresh failed. The request was not sent (or, after a 401,
    /// not replayed).
    #[error("authentication failed: {0}")]
    Auth(#[from] AuthError),
    /// The API answered with an error body (boxed: it is large, and errors travel in every
    /// `Result`).
    #[error("{0}")]
    Api(Box<ApiError>),
    /// A response arrived but its body did not match the spec.
    #[error("could not decode the response body ({0})")]
    Decode(String),
    /// The API answered with a status the spec does not list, without a JSON body.
    #[error("unexpected HTTP {status} response")]
    UnexpectedStatus {
        /// HTTP status.
        status: u16,
    },
    /// A runtime hook refused the request.
    #[error("{0}")]
    Hook(String),
}

impl Error {
    /// HTTP status of the response, if there was one.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Error::Api(e) => Some(e.http_status),
            Error::UnexpectedStatus { status } => Some(*status),
            Error::Transport(e) => e.status().map(|s| s.as_u16()),
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
        self.api_error().and_then(|e| e.retry_after)
    }

    /// Whether the same call may succeed if made again later: transport errors (connect
    /// failures, or idempotent calls whose retries ran out), rate-limit timeouts, and HTTP
    /// 429/502/503/504. Never true for [`Error::OutcomeUnknown`]: check the outcome first.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport(_) | Error::Timeout { .. } => true,
            Error::Api(e) => e.is_retryable(),
            Error::UnexpectedStatus { status } => crate::retry::is_retryable_status(*status),
            _ => false,
        }
    }

    /// Whether a non-idempotent call may have taken effect although no response arrived.
    pub fn is_outcome_unknown(&self) -> bool {
        matches!(self, Error::OutcomeUnknown { .. })
    }
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        Error::Api(Box::new(e))
    }
}

/// Failures the runtime's hooks report through progenitor's `Error::Custom(String)`: a readable
/// first line, then a marker line with the same facts as JSON, decoded back into the typed
/// [`Error`] variant by `From<progenitor_client::Error<E>>`.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Failure {
    OutcomeUnknown { operation: String, reason: String },
    Timeout { operation: String, waited_ms: u64 },
    Auth { error: AuthError },
}

const FAILURE_MARK: &str = "\nvandar-runtime-failure: ";

impl Failure {
    fn into_error(self) -> Error {
        match self {
            Failure::OutcomeUnknown { operation, reason } => {
                Error::OutcomeUnknown { operation, reason }
            }
            Failure::Timeout {
                operation,
                waited_ms,
            } => Error::Timeout {
                operation,
                waited: Duration::from_millis(waited_ms),
            },
            Failure::Auth { error } => Error::Auth(error),
        }
    }

    pub(crate) fn encode(&self) -> String {
        let text = self.clone().into_error().to_string();
        let json = serde_json::to_string(self).unwrap_or_default();
        format!("{text}{FAILURE_MARK}{json}")
    }

    pub(crate) fn decode(s: &str) -> Option<Self> {
        let (_, json) = s.rsplit_once(FAILURE_MARK)?;
        serde_json::from_str(json).ok()
    }
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

impl<E: serde::Serialize> From<progenitor_client::Error<E>> for Error {
    fn from(e: progenitor_client::Error<E>) -> Self {
        use progenitor_client::Error as P;
        match e {
            P::InvalidRequest(s) => Error::InvalidRequest(s),
            P::CommunicationError(e) | P::InvalidUpgrade(e) | P::ResponseBodyError(e) => {
                Error::Transport(e.without_url())
            }
            P::ErrorResponse(rv) => Error::from(ApiError::from_response(rv)),
            P::InvalidResponsePayload(_, e) => Error::Decode(describe_json_error(&e)),
            P::UnexpectedResponse(r) => {
                let status = r.status().as_u16();
                match r.extensions().get::<ErrorBody>() {
                    Some(ErrorBody(body)) => {
                        let mut e = ApiError::from_body(
                            original_status(r.headers()).unwrap_or(status),
                            body.clone(),
                        );
                        e.retry_after = crate::response::retry_after(r.headers());
                        Error::from(e)
                    }
                    None => Error::UnexpectedStatus { status },
                }
            }
            P::Custom(s) => match Failure::decode(&s) {
                Some(f) => f.into_error(),
                None => Error::Hook(s),
            },
        }
    }
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
    fn hook_failures_come_back_typed() {
        let cases = [
            Failure::OutcomeUnknown {
                operation: "verify_payment".into(),
                reason: "connection reset".into(),
            },
            Failure::Timeout {
                operation: "send_payment".into(),
                waited_ms: 2500,
            },
            Failure::Auth {
                error: AuthError::RefreshRejected { status: 401 },
            },
        ];
        for f in cases {
            let text = f.encode();
            let first_line = text.lines().next().unwrap().to_string();
            let e = Error::from(progenitor_client::Error::<()>::Custom(text));
            assert_eq!(e.to_string(), first_line, "readable without decoding");
            match (&f, &e) {
                (Failure::OutcomeUnknown { .. }, Error::OutcomeUnknown { operation, reason }) => {
                    assert_eq!(
                        (operation.as_str(), reason.as_str()),
                        ("verify_payment", "connection reset")
                    );
                    assert!(e.is_outcome_unknown() && !e.is_retryable());
                }
                (Failure::Timeout { .. }, Error::Timeout { waited, .. }) => {
                    assert_eq!(*waited, Duration::from_millis(2500));
                    assert!(e.is_retryable());
                }
                (Failure::Auth { .. }, Error::Auth(AuthError::RefreshRejected { status: 401 })) => {
                    assert!(!e.is_retryable());
                }
                other => panic!("{other:?}"),
            }
        }
        let e = Error::from(progenitor_client::Error::<()>::Custom(
            "something else".into(),
        ));
        assert!(matches!(e, Error::Hook(ref s) if s == "something else"));
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
