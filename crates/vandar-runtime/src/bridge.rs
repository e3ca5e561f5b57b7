//! The bridge between the generated code and the runtime, and the only place that knows what
//! progenitor builds. The xtask rewrites every generated operation's `send()` so that, once
//! progenitor's builder has made its `reqwest::Request`, it hands it to [`Binding::call`] (a
//! JSON answer) or [`Binding::call_raw`] (a body the spec does not type) and returns
//! `Result<T, vandar_runtime::Error>`; `send_with_response()` returns an [`Answer`] with the
//! status and headers too. No progenitor type reaches a user.
//!
//! A call: check the request against the spec (path parameters, body constraints), route it
//! to its host, fill auto-values, resolve the credential, run the attempt loop
//! ([`crate::pipeline`]), then read the final answer:
//!
//! * 2xx whose body is a failure (`status: 0`, `error: true`): [`Error::Api`] with the real
//!   status;
//! * 2xx that decodes: the answer;
//! * 2xx that does not decode (HTML, empty, truncated, another shape): [`Error::Decode`] for
//!   an idempotent call, [`Error::OutcomeUnknown`] for a money call (the server processed it);
//! * 3xx: [`Error::Redirect`] with its `Location` (redirects are never followed);
//! * 4xx/5xx: [`Error::Api`] from any documented error shape, a repaired broken one, or a
//!   message saying what non-JSON body arrived.
//!
//! Every string an error keeps is scrubbed of the call's secrets ([`crate::redact`]).

use std::ops::Deref;

use bytes::Bytes;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, LOCATION};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tracing::Instrument;
use tracing::field::Empty;

use crate::binding::Binding;
use crate::decide;
use crate::error::{ApiError, Error, describe_json_error};
use crate::pipeline::{CallContext, Exchange};
use crate::response::{is_failure_json, repair, retry_after};
use crate::route::{self, Auth, Route};
use crate::runtime::rebase;

/// A successful answer with its HTTP status and headers (from `send_with_response()`).
/// Dereferences to the body.
#[derive(Clone, Debug)]
pub struct Answer<T> {
    status: u16,
    headers: HeaderMap,
    body: T,
}

impl<T> Answer<T> {
    /// HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The decoded body.
    pub fn body(&self) -> &T {
        &self.body
    }

    /// The decoded body, owned.
    pub fn into_body(self) -> T {
        self.body
    }

    /// Status, headers and body.
    pub fn into_parts(self) -> (u16, HeaderMap, T) {
        (self.status, self.headers, self.body)
    }
}

impl<T> Deref for Answer<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.body
    }
}

impl Binding {
    /// Send a request built for `operation_id` and decode its JSON answer as `T`: a 2xx that
    /// decodes is the answer; a 2xx failure body (`status: 0`), a 4xx or a 5xx is
    /// [`Error::Api`]; a 2xx that does not decode is [`Error::Decode`] for an idempotent call
    /// and [`Error::OutcomeUnknown`] for a money call; a 3xx is [`Error::Redirect`]. Nothing is
    /// sent when the request breaks a spec constraint or no credential can be had.
    pub async fn call<T: DeserializeOwned>(
        &self,
        request: reqwest::Request,
        operation_id: &'static str,
    ) -> Result<Answer<T>, Error> {
        let (ex, ctx) = self.exchange(request, operation_id).await?;
        answer_json(ex, &ctx)
    }

    /// [`Binding::call`] for an answer the spec does not type: the raw body of a 2xx.
    pub async fn call_raw(
        &self,
        request: reqwest::Request,
        operation_id: &'static str,
    ) -> Result<Answer<Bytes>, Error> {
        let (ex, ctx) = self.exchange(request, operation_id).await?;
        match ex.status {
            200..=299 if !is_failure_json(&ex.body) => Ok(Answer {
                status: ex.status,
                headers: ex.headers,
                body: ex.body,
            }),
            _ => Err(error_answer(ex, &ctx)),
        }
    }

    async fn exchange(
        &self,
        mut request: reqwest::Request,
        op: &'static str,
    ) -> Result<(Exchange, CallContext), Error> {
        let route = self.route(op).ok_or_else(|| {
            Error::InvalidRequest(format!(
                "operation `{op}` has no route; regenerate with `cargo xtask gen`"
            ))
        })?;
        // The call's total timeout starts now: the credential (a token refresh), the rate
        // limiter and every attempt end by this deadline.
        let deadline = crate::timeouts::instant_after(
            tokio::time::Instant::now(),
            self.options
                .timeouts(self.runtime().config().timeouts())
                .total,
        );
        let body = self.prepare(&mut request, route)?;
        let credential = self.credential(route, body.as_ref(), deadline).await?;
        match &credential.header {
            Some(h) => {
                request.headers_mut().insert(AUTHORIZATION, h.clone());
            }
            None => {
                request.headers_mut().remove(AUTHORIZATION);
            }
        }
        let mut ctx = CallContext {
            operation: op,
            idempotent: route.idempotent,
            body: request
                .body()
                .and_then(|b| b.as_bytes())
                .map(Bytes::copy_from_slice),
            query: request.url().query().map(str::to_owned),
            credential,
            deadline,
            gate: None,
            options: self.options,
        };
        let span = tracing::info_span!(
            "vandar.request",
            operation = op,
            method = %request.method(),
            host = request.url().host_str().unwrap_or(""),
            idempotent = route.idempotent,
            attempt = Empty,
            status = Empty,
            latency_ms = Empty,
            outcome = Empty,
        );
        let started = tokio::time::Instant::now();
        let result = self
            .attempts(request, route, &mut ctx)
            .instrument(span.clone())
            .await;
        span.record("latency_ms", started.elapsed().as_millis() as u64);
        #[cfg(feature = "test-util")]
        match &result {
            Ok(ex) => crate::test_util::record_operation(route, ex.status),
            Err(e) => {
                if let Some(s) = e.http_status() {
                    crate::test_util::record_operation(route, s)
                }
            }
        }
        match result {
            Ok(ex) => {
                let ok = (200..300).contains(&ex.status);
                span.record("outcome", if ok { "ok" } else { "api_error" });
                Ok((ex, ctx))
            }
            Err(e) => Err(e),
        }
    }

    /// Check the request against the spec and put it on its host: path parameters fill their
    /// segments, body constraints hold, the URL moves to the configured base (and any path
    /// override), auto-values are filled. Returns the JSON body when it was read (for the
    /// credential). Nothing is sent when it fails.
    fn prepare(
        &self,
        request: &mut reqwest::Request,
        route: &'static Route,
    ) -> Result<Option<Value>, Error> {
        let op = route.operation_id;
        route::check_path_params(op, route.path, request.url()).map_err(Error::InvalidRequest)?;
        let body = if !route.checks.is_empty() || route.auth == Auth::None {
            let wanted = |name: &str| {
                (route.auth == Auth::None && name == "api_key")
                    || route.checks.iter().any(|c| top_level(c.field) == name)
            };
            request
                .body()
                .and_then(|b| b.as_bytes())
                .and_then(|b| fields_of(b, &wanted))
        } else {
            None
        };
        if let Some(b) = &body {
            for check in route.checks {
                check.check(op, b).map_err(Error::InvalidRequest)?;
            }
        }
        match self.routed_url(route, request.url()) {
            Ok(None) => {}
            Ok(Some(url)) => *request.url_mut() = url,
            Err(()) => {
                let base = self.runtime().config().base_url(route.host)?;
                let mut original = request.url().clone();
                if let Some(path) = self.path_override(route.operation_id) {
                    original.set_path(path);
                }
                *request.url_mut() = rebase(&base, &original);
            }
        }
        if !self.auto_values.is_empty() {
            self.fill_auto_values(op, request.url_mut());
        }
        Ok(body)
    }

    /// `prepare` plus the credential's header, for the routing tests.
    #[cfg(test)]
    pub(crate) async fn prepare_for_test(
        &self,
        request: &mut reqwest::Request,
        op: &'static str,
    ) -> Result<(), Error> {
        let route = self
            .route(op)
            .ok_or_else(|| Error::InvalidRequest(format!("no route `{op}`")))?;
        let body = self.prepare(request, route)?;
        let deadline = crate::timeouts::instant_after(
            tokio::time::Instant::now(),
            self.runtime().config().timeouts().total,
        );
        let credential = self.credential(route, body.as_ref(), deadline).await?;
        match credential.header {
            Some(h) => request.headers_mut().insert(AUTHORIZATION, h),
            None => request.headers_mut().remove(AUTHORIZATION),
        };
        Ok(())
    }

    /// Add every `x-auto-value` query parameter of `op` that the URL lacks (or carries empty).
    fn fill_auto_values(&self, op: &str, url: &mut url::Url) {
        for auto in self.auto_values.iter().filter(|a| a.operation_id == op) {
            let mut present = false;
            let mut empty = false;
            for (k, v) in url.query_pairs() {
                if k == auto.param {
                    present |= !v.is_empty();
                    empty |= v.is_empty();
                }
            }
            if present {
                continue;
            }
            if empty {
                let kept: Vec<(String, String)> = url
                    .query_pairs()
                    .filter(|(k, _)| k != auto.param)
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                url.set_query(None);
                if !kept.is_empty() {
                    url.query_pairs_mut().extend_pairs(&kept);
                }
            }
            url.query_pairs_mut()
                .append_pair(auto.param, &auto.kind.generate());
        }
    }
}

/// The final answer decoded as `T` (see the module docs).
fn answer_json<T: DeserializeOwned>(ex: Exchange, ctx: &CallContext) -> Result<Answer<T>, Error> {
    if !(200..300).contains(&ex.status) || is_failure_json(&ex.body) {
        return Err(error_answer(ex, ctx));
    }
    match serde_json::from_slice::<T>(&ex.body) {
        Ok(body) => Ok(Answer {
            status: ex.status,
            headers: ex.headers,
            body,
        }),
        Err(e) => {
            let what = if ex.body.iter().all(u8::is_ascii_whitespace) {
                "an empty body".to_owned()
            } else {
                format!("a body that does not decode ({})", describe_json_error(&e))
            };
            if decide::on_undecodable(ctx.idempotent) {
                Err(Error::OutcomeUnknown {
                    operation: ctx.operation.to_owned(),
                    http_status: Some(ex.status),
                    reason: format!("the server accepted it but answered with {what}"),
                })
            } else {
                Err(Error::Decode {
                    operation: ctx.operation.to_owned(),
                    http_status: ex.status,
                    reason: what,
                })
            }
        }
    }
}

/// A non-success answer (or a 2xx failure body) as an error.
fn error_answer(ex: Exchange, ctx: &CallContext) -> Error {
    if (300..400).contains(&ex.status) {
        return Error::Redirect {
            operation: ctx.operation.to_owned(),
            http_status: ex.status,
            location: ex
                .headers
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty()),
        };
    }
    if (100..200).contains(&ex.status) {
        return Error::UnexpectedStatus { status: ex.status };
    }
    let raw = match serde_json::from_slice::<Value>(&ex.body) {
        Ok(v) => v,
        Err(_) => match repair(&ex.body) {
            Some(v) => v,
            None => {
                let content_type = ex
                    .headers
                    .get(CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("no content type");
                serde_json::json!({
                    "message": format!(
                        "HTTP {} with a non-JSON body ({content_type}, {} bytes)",
                        ex.status,
                        ex.body.len()
                    )
                })
            }
        },
    };
    let mut e = ApiError::from_body_scrubbed(ex.status, raw, &ctx.scrubber());
    e.retry_after = retry_after(&ex.headers);
    Error::from(e)
}

/// The top-level field a check path starts with (`items` of `items[].amount`).
fn top_level(path: &str) -> &str {
    let end = path.find(['.', '[']).unwrap_or(path.len());
    &path[..end]
}

/// The top-level fields of a JSON body that `wanted` names, as a JSON object (the other fields
/// are skipped, not built); an empty object for JSON that is not an object; `None` for bytes
/// that are not JSON (a form body). Duplicate keys: the last one counts, as in a [`Value`].
fn fields_of(body: &[u8], wanted: &dyn Fn(&str) -> bool) -> Option<Value> {
    use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
    use serde_json::Map;
    use std::fmt;

    struct Fields<'a>(&'a dyn Fn(&str) -> bool);

    impl<'de> DeserializeSeed<'de> for Fields<'_> {
        type Value = Map<String, Value>;
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for Fields<'_> {
        type Value = Map<String, Value>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Map::new();
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if (self.0)(key.as_ref()) {
                    out.insert(key.into_owned(), map.next_value::<Value>()?);
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(out)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(Map::new())
        }
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(Map::new())
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(Map::new())
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(Map::new())
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(Map::new())
        }
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(Map::new())
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(Map::new())
        }
    }

    let mut de = serde_json::Deserializer::from_slice(body);
    let fields = Fields(wanted).deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(Value::Object(fields))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::FieldCheck;

    /// Checking the fields read by `fields_of` gives the same results as checking the whole
    /// body.
    #[test]
    fn partial_fields_agree_with_the_whole_body() {
        let checks = [
            FieldCheck {
                minimum: Some(1000),
                maximum: Some(1_000_000),
                ..FieldCheck::on("amount")
            },
            FieldCheck {
                max_items: Some(2),
                ..FieldCheck::on("cards")
            },
            FieldCheck {
                minimum: Some(1),
                ..FieldCheck::on("items[].amount")
            },
        ];
        let wanted = |name: &str| checks.iter().any(|c| top_level(c.field) == name);
        for body in [
            r#"{"amount":999,"api_key":"k","callback_url":"https://x"}"#,
            r#"{"amount":"1000","cards":[1,2,3],"other":{"amount":1}}"#,
            r#"{"amount":5,"amount":5000}"#,
            r#"{"\u0061mount":10}"#,
            r#"{"cards":[1,2],"items":[{"amount":0}]}"#,
            r#"[{"amount":1}]"#,
            r#"1"#,
            r#"{"amount":1"#,
            "",
        ] {
            let whole = serde_json::from_slice::<Value>(body.as_bytes()).ok();
            let part = fields_of(body.as_bytes(), &wanted);
            assert_eq!(whole.is_some(), part.is_some(), "{body}");
            if let (Some(whole), Some(part)) = (whole, part) {
                for c in &checks {
                    assert_eq!(c.check("op", &whole), c.check("op", &part), "{body}");
                }
            }
        }
        assert_eq!(top_level("items[].amount"), "items");
        assert_eq!(top_level("payer.name"), "payer");
        assert_eq!(top_level("amount"), "amount");
    }
}
