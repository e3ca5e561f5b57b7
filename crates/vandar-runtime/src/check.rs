//! A request body checked against its route before anything is sent.
//!
//! The generated `send()` turns its typed body into a [`CheckedBody`] once
//! ([`CheckedBody::new`]): the typed value is serialized into a JSON tree (never into bytes
//! that are parsed back), the spec's constraints ([`FieldCheck`]s from the route) run on it,
//! every URL field (`format: uri`) is replaced by its parsed, normalized form or refused, and
//! the request is then serialized from that tree. The same tree gives the credential its
//! `api_key` (the field the route names, from the spec's `x-credential: body-api-key`) and,
//! only when an error has to be scrubbed, the values of the sensitive fields.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::error::Error;
use crate::redact::Scrubber;
use crate::route::Route;

/// A request body that passed its route's checks; serializes to exactly what is sent.
/// `Debug` shows no values (the body holds api keys, card numbers, national codes).
#[derive(Clone)]
pub struct CheckedBody {
    value: Value,
}

impl fmt::Debug for CheckedBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CheckedBody([redacted])")
    }
}

impl Serialize for CheckedBody {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

impl CheckedBody {
    /// Check `body` against `route`'s constraints and normalize its URL fields. Nothing is
    /// sent when this fails; the error names the field and the operation, never a value.
    pub fn new<B: Serialize + ?Sized>(route: &Route, body: &B) -> Result<Self, Error> {
        let op = route.operation_id;
        let mut value = serde_json::to_value(body).map_err(|e| {
            Error::InvalidRequest(format!("the body of `{op}` cannot be serialized: {e}"))
        })?;
        for check in route.checks {
            check.apply(op, &mut value).map_err(Error::InvalidRequest)?;
        }
        Ok(Self { value })
    }

    /// The JSON that is sent.
    pub fn json(&self) -> &Value {
        &self.value
    }

    /// The credential in the body: the non-empty string at `route.api_key_field`.
    pub(crate) fn api_key(&self, route: &Route) -> Option<&str> {
        route
            .api_key_field
            .and_then(|f| self.value.get(f))
            .and_then(Value::as_str)
            .filter(|k| !k.trim().is_empty())
    }

    /// Add the body's sensitive values to `scrubber`.
    pub(crate) fn scrub_into(&self, scrubber: &mut Scrubber) {
        scrubber.add_json_fields(&self.value);
    }
}

/// Parse a URL field strictly and return its normalized form: an absolute `http`/`https` URL
/// with a host, written with `//` after the scheme, with no whitespace or control character
/// anywhere in the raw text (a leading space, an embedded space, CR LF, a tab are refused, not
/// trimmed away).
pub fn normalize_http_url(raw: &str) -> Result<String, &'static str> {
    if raw.is_empty() {
        return Err("must not be empty");
    }
    if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain whitespace or control characters");
    }
    let lower = raw.get(..8).unwrap_or(raw).to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err("must be an absolute http(s) URL starting with `http://` or `https://`");
    }
    let url = url::Url::parse(raw).map_err(|_| "is not a valid URL")?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err("must be an absolute http(s) URL with a host");
    }
    Ok(url.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::{Auth, FieldCheck};
    use serde_json::json;

    static SEND: Route = Route {
        operation_id: "send_payment",
        method: "POST",
        host: "https://ipg.vandar.io",
        path: "/api/v4/send",
        segments: &[],
        auth: Auth::None,
        api_key_field: Some("api_key"),
        idempotent: false,
        checks: &[
            FieldCheck {
                minimum: Some(1000),
                ..FieldCheck::on("amount")
            },
            FieldCheck {
                http_url: true,
                ..FieldCheck::on("callback_url")
            },
            FieldCheck {
                http_url: true,
                ..FieldCheck::on("items[].notify_url")
            },
        ],
    };

    #[test]
    fn url_fields_are_sent_normalized_or_refused() {
        for bad in [
            "https:host/cb",
            "https:/host/cb",
            "https://shop.example/c b",
            " https://shop.example/cb",
            "https://shop.example/cb ",
            "https://shop.example/cb\r\nX-Evil: 1",
            "https://shop.example/\tcb",
            "https://",
            "ftp://shop.example/cb",
            "/cb",
            "",
            "javascript:alert(1)",
        ] {
            let e = CheckedBody::new(
                &SEND,
                &json!({"amount": 1000, "callback_url": bad, "api_key": "k-123456"}),
            )
            .unwrap_err()
            .to_string();
            assert!(
                e.contains("`callback_url`") && e.contains("send_payment"),
                "{bad:?}: {e}"
            );
            assert!(!e.contains("k-123456"), "{e}");
        }
        let ok = CheckedBody::new(
            &SEND,
            &json!({"amount": 1000, "callback_url": "HTTPS://Shop.Example:443/a/../cb?x=1",
                    "items": [{"notify_url": "http://n.example"}]}),
        )
        .unwrap();
        assert_eq!(ok.json()["callback_url"], "https://shop.example/cb?x=1");
        assert_eq!(ok.json()["items"][0]["notify_url"], "http://n.example/");
        let e = CheckedBody::new(
            &SEND,
            &json!({"amount": 1000, "items": [{"notify_url": "http://n.example"}, {"notify_url": "x y"}]}),
        )
        .unwrap_err();
        assert!(e.to_string().contains("items[].notify_url"), "{e}");
    }

    #[test]
    fn api_key_comes_from_the_named_field_and_debug_hides_values() {
        let b = CheckedBody::new(
            &SEND,
            &json!({"amount": 5000, "api_key": "key-SECRET-1", "callback_url": "https://a.example/"}),
        )
        .unwrap();
        assert_eq!(b.api_key(&SEND), Some("key-SECRET-1"));
        assert!(!format!("{b:?}").contains("SECRET"));
        let blank = CheckedBody::new(&SEND, &json!({"amount": 5000, "api_key": " "})).unwrap();
        assert_eq!(blank.api_key(&SEND), None);
        let below = CheckedBody::new(&SEND, &json!({"amount": 999})).unwrap_err();
        assert!(below.to_string().contains("`amount`"), "{below}");
        let mut s = Scrubber::new();
        b.scrub_into(&mut s);
        assert_eq!(s.scrub("echo key-SECRET-1"), "echo [redacted]");
    }
}
