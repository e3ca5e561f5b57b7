//! The bridge between the generated code and the runtime, and the only place that knows what
//! progenitor builds. The xtask rewrites every generated operation's `send()` so that, once
//! progenitor's builder has made its `reqwest::Request`, it hands it to [`Binding::send_json`]
//! (a JSON answer) or [`Binding::call_raw`] (a body the spec does not type) and returns
//! `Result<T, vandar_runtime::Error>`; `send_with_response()` returns an [`Answer`] with the
//! status and headers too. No progenitor type reaches a user.
//!
//! The generated code builds the URL once on the route's own host ([`Binding::url`], the one
//! path encoder) and checks its typed body before serializing it ([`crate::CheckedBody`]). A call
//! then fills auto-values, resolves the credential, runs the attempt loop
//! ([`crate::pipeline`]), and reads the final answer:
//!
//! * 2xx whose body is a failure (`status: 0`, `error: true`): [`Error::Api`] with the real
//!   status;
//! * 2xx that decodes: the answer;
//! * 2xx that does not decode (HTML, empty, truncated, another shape): [`Error::Decode`] for
//!   an idempotent call, [`Error::OutcomeUnknown`] for a money call (the server processed it);
//! * 3xx: [`Error::Redirect`] with its scrubbed `Location` (redirects are never followed),
//!   or, for an operation whose answer is a redirect ([`Binding::with_redirect_answer`],
//!   Sanbod's `authorize`), an [`Answer`] from [`Binding::call_raw`] with the `Location` as
//!   sent;
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
use crate::check::SentBody;
use crate::decide;
use crate::error::{ApiError, Error, describe_json_error};
use crate::pipeline::{CallContext, Exchange};
use crate::response::{decode_flagged, is_failure_json, repair, retry_after};
use crate::route::Route;

/// A successful answer with its HTTP status and headers (from `send_with_response()`).
/// Dereferences to the body. `Debug` lists the headers' names only (a header may carry a
/// token or a session cookie).
#[derive(Clone)]
pub struct Answer<T> {
    status: u16,
    headers: HeaderMap,
    body: T,
}

impl<T: std::fmt::Debug> std::fmt::Debug for Answer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.keys().map(|k| k.as_str()).collect();
        f.debug_struct("Answer")
            .field("status", &self.status)
            .field("headers", &names)
            .field("body", &self.body)
            .finish()
    }
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

/// What a generated `send_as()` returns: the whole call (checks, credential, attempts,
/// decoding) boxed once, so that the futures around it (`send()`, `send_with_response()`, the
/// caller's own) hold a pointer instead of the call's state. A future is copied whole each
/// time it is moved into the one around it, on every call.
pub type SendFuture<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Answer<T>, Error>> + Send + 'a>>;

impl<T> Deref for Answer<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.body
    }
}

/// The body of a request given to a raw entry ([`Binding::call`], [`Binding::call_raw`]): the
/// checked body's JSON, or none. A body the request was built with is replaced, and without a
/// checked body only an upload (`multipart/form-data`) keeps its own; anything else is refused
/// before it is sent, naming the operation.
fn bind_body(
    request: &mut reqwest::Request,
    route: &Route,
    body: Option<&dyn SentBody>,
) -> Result<(), Error> {
    match body {
        Some(body) => {
            let json = body.to_json().map_err(|e| {
                Error::InvalidRequest(format!(
                    "the body of `{}` does not serialize as JSON: {e}",
                    route.operation_id
                ))
            })?;
            request.headers_mut().insert(
                reqwest::header::CONTENT_TYPE,
                reqwest::header::HeaderValue::from_static("application/json"),
            );
            *request.body_mut() = Some(json.into());
        }
        None if request.body().is_some() => {
            let upload = request
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(';').next())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("multipart/form-data"));
            if !upload {
                return Err(Error::InvalidRequest(format!(
                    "`{}`: a request body must be passed as the call's checked body \
                     (`CheckedBody::new`), not built into the request",
                    route.operation_id
                )));
            }
        }
        None => {}
    }
    Ok(())
}

impl Binding {
    /// The whole call of a generated `send_as()`, boxed once: `request` (its URL from
    /// [`Binding::url`], its body serialized from `body`) goes through the credential, the
    /// attempt loop and the decisions, and a JSON answer is decoded as `T`: a 2xx that decodes
    /// is the answer; a 2xx failure body (`status: 0`), a 4xx or a 5xx is [`Error::Api`]; a
    /// 2xx that does not decode is [`Error::Decode`] for an idempotent call and
    /// [`Error::OutcomeUnknown`] for a money call; a 3xx is [`Error::Redirect`]. Nothing is
    /// sent when no credential can be had.
    ///
    /// The checked body is moved in (it lives in the call's one box, next to the state that
    /// borrows it): the call's state is built in place once instead of being built and then
    /// copied into a box around it (issue 22: a future is copied whole each time it moves).
    pub fn send_json<'a, T, B>(
        &'a self,
        request: reqwest::Request,
        route: &'static Route,
        body: Option<B>,
    ) -> SendFuture<'a, T>
    where
        T: DeserializeOwned + 'a,
        B: SentBody + Send + 'a,
    {
        // The box is allocated first and the call's state written into it: `Box::pin(f)`
        // would build the state on the stack and then copy all of it (several KB).
        let state = Box::new_uninit();
        let state: std::pin::Pin<Box<_>> = Box::into_pin(Box::write(
            state,
            self.run(request, route, body, answer_json::<T>),
        ));
        state
    }

    /// A failed `send_as()` before anything was sent (a bad body, path or URL field), as the
    /// same future type.
    pub fn refused<'a, T: 'a>(error: Error) -> SendFuture<'a, T> {
        Box::pin(async move { Err(error) })
    }

    /// [`Binding::send_json`] with a borrowed body, awaited.
    ///
    /// # Errors
    /// As [`Binding::send_json`].
    /// The request's body is `body`'s JSON ([`SentBody::to_json`]), whatever `request` was
    /// built with: only a checked body is sent. Without `body`, a request that carries a body
    /// is refused unless it is `multipart/form-data` (an upload, which has no JSON fields to
    /// check).
    pub async fn call<T: DeserializeOwned>(
        &self,
        mut request: reqwest::Request,
        route: &'static Route,
        body: Option<&dyn SentBody>,
    ) -> Result<Answer<T>, Error> {
        bind_body(&mut request, route, body)?;
        self.run(request, route, body, answer_json::<T>).await
    }

    /// [`Binding::call`] for an answer the spec does not type: the raw body of a 2xx. A 3xx
    /// of an operation named with [`Binding::with_redirect_answer`] is an answer too, its
    /// headers (the `Location`) as the server sent them.
    ///
    /// # Errors
    /// As [`Binding::send_json`], without the decoding.
    pub async fn call_raw(
        &self,
        mut request: reqwest::Request,
        route: &'static Route,
        body: Option<&dyn SentBody>,
    ) -> Result<Answer<Bytes>, Error> {
        bind_body(&mut request, route, body)?;
        Box::pin(self.run(request, route, body, |ex, ctx| match ex.status {
            200..=299 if !is_failure_json(&ex.body) => Ok(Answer {
                status: ex.status,
                headers: ex.headers,
                body: ex.body,
            }),
            // The caller asked for this redirect's target: it is its own data, not an error
            // (only errors are scrubbed).
            300..=399 if self.answers_redirect(ctx.route) => Ok(Answer {
                status: ex.status,
                headers: ex.headers,
                body: ex.body,
            }),
            _ => Err(error_answer(ex, ctx)),
        }))
        .await
    }

    /// One call: auto-values, the credential, the attempt loop ([`Binding::exchange`]), then
    /// `finish` on the final exchange. The body is owned here so that the context can borrow
    /// it for the call's length (its api_key, the scrubbing of error text).
    async fn run<B, R, F>(
        &self,
        request: reqwest::Request,
        route: &'static Route,
        body: Option<B>,
        finish: F,
    ) -> Result<R, Error>
    where
        B: SentBody,
        F: FnOnce(Exchange, &CallContext<'_>) -> Result<R, Error>,
    {
        let body: Option<&dyn SentBody> = body.as_ref().map(|b| b as &dyn SentBody);
        let (ex, ctx) = self.exchange(request, route, body).await?;
        finish(ex, &ctx)
    }

    /// Everything of a call but the decoding, the same code for every operation and answer
    /// type (issue 22: a copy per operation was as many more lines of code for a program
    /// that makes two kinds of call): the final exchange and the call's context.
    async fn exchange<'b>(
        &'b self,
        mut request: reqwest::Request,
        route: &'static Route,
        body: Option<&'b dyn SentBody>,
    ) -> Result<(Exchange, CallContext<'b>), Error> {
        let op = route.operation_id;
        // The call's total timeout starts now: the credential (a token refresh), the rate
        // limiter and every attempt end by this deadline.
        let started = tokio::time::Instant::now();
        let deadline = crate::timeouts::instant_after(
            started,
            self.options
                .timeouts(self.runtime().config().timeouts())
                .total,
        );
        if !self.auto_values.is_empty() {
            self.fill_auto_values(op, request.url_mut());
        }
        let api_key = body.and_then(|b| b.api_key(route));
        let credential = match self.resolve_credential(route, api_key) {
            crate::credentials::Resolved::Ready(credential) => credential?,
            pending => self.wait_credential(route, pending, deadline).await?,
        };
        match &credential.header {
            Some(h) => {
                request.headers_mut().insert(AUTHORIZATION, h.clone());
            }
            // Only a request built by hand can carry one (a generated one never does).
            None if request.headers().contains_key(AUTHORIZATION) => {
                request.headers_mut().remove(AUTHORIZATION);
            }
            None => {}
        }
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
        let mut ctx = CallContext {
            route,
            body,
            query: request.url().query().map(str::to_owned),
            credential,
            deadline,
            started,
            gate: None,
            options: self.options,
            span,
        };
        // Not boxed again: this future is already on the heap (`SendFuture`, `call_raw`).
        // Entered around every poll only when it records anything (no subscriber wants it:
        // no clone, no enter and exit).
        let rt = &self.runtime().inner;
        let result = if ctx.span.is_disabled() {
            crate::pipeline::attempts(rt, request, &mut ctx).await
        } else {
            let span = ctx.span.clone();
            crate::pipeline::attempts(rt, request, &mut ctx)
                .instrument(span)
                .await
        };
        if !ctx.span.is_disabled() {
            // The call's latency, its credential included.
            ctx.span
                .record("latency_ms", started.elapsed().as_millis() as u64);
        }
        #[cfg(feature = "test-util")]
        match &result {
            Ok(ex) => crate::test_util::record_operation(route, ex.status),
            Err(e) => {
                if let Some(s) = e.http_status() {
                    crate::test_util::record_operation(route, s)
                }
            }
        }
        let ex = result?;
        let ok = (200..300).contains(&ex.status);
        ctx.span
            .record("outcome", if ok { "ok" } else { "api_error" });
        Ok((ex, ctx))
    }

    /// The credential's header for `route` on `request` (for the routing tests).
    #[cfg(test)]
    pub(crate) async fn authorize_for_test(
        &self,
        request: &mut reqwest::Request,
        route: &'static Route,
        body: Option<&dyn SentBody>,
    ) -> Result<(), Error> {
        if !self.auto_values.is_empty() {
            self.fill_auto_values(route.operation_id, request.url_mut());
        }
        let deadline = crate::timeouts::instant_after(
            tokio::time::Instant::now(),
            self.runtime().config().timeouts().total,
        );
        let credential = self
            .credential(route, body.and_then(|b| b.api_key(route)), deadline)
            .await?;
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
fn answer_json<T: DeserializeOwned>(
    ex: Exchange,
    ctx: &CallContext<'_>,
) -> Result<Answer<T>, Error> {
    if !(200..300).contains(&ex.status) {
        return Err(error_answer(ex, ctx));
    }
    // The usual answer: decoded and checked for a failure envelope in one pass.
    match decode_flagged::<T>(&ex.body) {
        Some((_, true)) => return Err(error_answer(ex, ctx)),
        Some((body, false)) => {
            return Ok(Answer {
                status: ex.status,
                headers: ex.headers,
                body,
            });
        }
        None => {}
    }
    // Anything else, the slow way: the envelope first, then the decoding error.
    if is_failure_json(&ex.body) {
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
            if decide::on_undecodable(ctx.route.idempotent) {
                Err(Error::OutcomeUnknown {
                    operation: ctx.route.operation_id.to_owned(),
                    http_status: Some(ex.status),
                    reason: format!("the server accepted it but answered with {what}"),
                })
            } else {
                Err(Error::Decode {
                    operation: ctx.route.operation_id.to_owned(),
                    http_status: ex.status,
                    reason: what,
                })
            }
        }
    }
}

/// The largest answer body an error is made from (64 KiB). An error is displayed and logged
/// whole, and holds its text more than once (the raw body, its messages, its field errors): a
/// body near the size cap became hundreds of megabytes and a Display of megabytes. A larger
/// one is described by its status and size.
const ERROR_BODY_KEPT: usize = 64 * 1024;

/// A non-success answer (or a 2xx failure body) as an error.
fn error_answer(ex: Exchange, ctx: &CallContext<'_>) -> Error {
    if (300..400).contains(&ex.status) {
        return Error::Redirect {
            operation: ctx.route.operation_id.to_owned(),
            http_status: ex.status,
            // The Location may carry an access token, an api_key or a card number (an OAuth
            // redirect, a bank page): it is scrubbed like every other string an error keeps.
            location: ex
                .headers
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(|v| ctx.scrubber().scrub_location(v)),
        };
    }
    if (100..200).contains(&ex.status) {
        return Error::UnexpectedStatus { status: ex.status };
    }
    let parsed = if ex.body.len() > ERROR_BODY_KEPT {
        Ok(serde_json::json!({
            "message": format!(
                "HTTP {} with a {}-byte body, too large to keep in an error",
                ex.status,
                ex.body.len()
            )
        }))
    } else {
        serde_json::from_slice::<Value>(&ex.body)
    };
    let raw = match parsed {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answer_debug_hides_header_values() {
        let mut headers = HeaderMap::new();
        headers.insert("set-cookie", "session=cookie-SECRET-9".parse().unwrap());
        headers.insert(
            LOCATION,
            "https://x.example/?access_token=tok-SECRET-1"
                .parse()
                .unwrap(),
        );
        let answer = Answer {
            status: 200,
            headers,
            body: 1,
        };
        let debug = format!("{answer:?}");
        assert!(!debug.contains("SECRET"), "{debug}");
        assert!(
            debug.contains("set-cookie") && debug.contains("location"),
            "{debug}"
        );
    }
}
