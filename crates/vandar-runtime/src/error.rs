//! The SDK's error type. It wraps progenitor's error without ever printing headers, bodies that
//! were not meant as messages, or secrets.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use crate::config::ConfigError;

/// An error body from the API, decoded from any of the documented shapes
/// (`{status:0,errors:[..]}`, `{status:0,error:".."}`, Laravel `{message,errors:{field:[..]}}`,
/// `{status:0,errors:{error:".."}}`, ...).
#[derive(Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status of the response.
    pub http_status: u16,
    /// The body's own `status` field (Vandar sends 0 for errors; IPG verify sends 2 and 3).
    pub upstream_status: Option<i64>,
    /// The body's `code` field, if any.
    pub code: Option<String>,
    /// Human-readable messages, in body order.
    pub messages: Vec<String>,
    /// Validation errors per field (`errors: {field: [..]}`).
    pub field_errors: BTreeMap<String, Vec<String>>,
    /// The whole body as JSON.
    pub raw: Value,
}

impl ApiError {
    /// Decode an error body of any documented shape.
    pub fn from_body(http_status: u16, raw: Value) -> Self {
        let mut e = ApiError {
            http_status,
            upstream_status: raw.get("status").and_then(as_int),
            code: raw.get("code").and_then(|c| match c {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            }),
            messages: Vec::new(),
            field_errors: BTreeMap::new(),
            raw: Value::Null,
        };
        for key in ["message", "error", "errors"] {
            if let Some(v) = raw.get(key) {
                e.absorb(key, v);
            }
        }
        e.raw = raw;
        e
    }

    fn absorb(&mut self, key: &str, v: &Value) {
        match v {
            Value::String(s) if !s.is_empty() => self.messages.push(s.clone()),
            Value::Array(items) => items.iter().for_each(|i| self.absorb(key, i)),
            Value::Object(map) => {
                for (k, x) in map {
                    if matches!(k.as_str(), "error" | "message") {
                        self.absorb(k, x);
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
            .finish_non_exhaustive()
    }
}

/// Every error the SDK returns.
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
    /// Connecting, sending or receiving failed. For a call that is not idempotent the outcome
    /// is unknown: look it up (e.g. by its track id) before trying again.
    #[error("transport error: {0}")]
    Transport(#[source] reqwest::Error),
    /// The API answered with an error body.
    #[error("{0}")]
    Api(ApiError),
    /// A response arrived but its body did not match the spec.
    #[error("could not decode the response body ({0})")]
    Decode(String),
    /// The API answered with a status the spec does not list.
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
            P::ErrorResponse(rv) => {
                let status = rv.status().as_u16();
                match serde_json::to_value(rv.into_inner()) {
                    Ok(body) => Error::Api(ApiError::from_body(status, body)),
                    Err(e) => Error::Decode(describe_json_error(&e)),
                }
            }
            P::InvalidResponsePayload(_, e) => Error::Decode(describe_json_error(&e)),
            P::UnexpectedResponse(r) => Error::UnexpectedStatus {
                status: r.status().as_u16(),
            },
            P::Custom(s) => Error::Hook(s),
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
}
