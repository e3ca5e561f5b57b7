//! The attempt loop: wait for a rate-limit slot, send with the attempt's timeout, read the
//! body up to the size cap, and carry out what [`crate::decide`] says (finish, retry after a
//! delay, refresh and replay, or fail). It holds no rules of its own.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::future::BoxFuture;
use reqwest::header::{AUTHORIZATION, HeaderMap};
use tokio::time::Instant;

use crate::credentials::Credential;
use crate::decide::{self, Decision, Facts, Observed};
use crate::error::{Error, describe_transport};
use crate::intercept::{AttemptInfo, AttemptResult};
use crate::redact::Scrubber;
use crate::response::retry_after;
use crate::route::Route;
use crate::runtime::RuntimeInner;
use crate::secret::Secret;

/// An answer whose body was read whole.
pub(crate) struct Exchange {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

/// What one attempt produced.
enum Attempt {
    Answer(Exchange),
    TooLarge {
        status: u16,
    },
    /// The transport failed; `status` when the answer's status line had arrived (a body cut
    /// off).
    Transport(reqwest::Error, Option<u16>),
    /// No answer within the attempt's time (a gated call's own timer, see [`within`]).
    TimedOut,
}

impl Attempt {
    fn observed(&self) -> Observed {
        match self {
            Attempt::Answer(ex) => Observed::Answer {
                status: ex.status,
                retry_after: if ex.status == 429 || ex.status == 503 {
                    retry_after(&ex.headers)
                } else {
                    None
                },
            },
            Attempt::TooLarge { status } => Observed::TooLarge { status: *status },
            Attempt::TimedOut => Observed::Transport {
                nothing_sent: false,
            },
            Attempt::Transport(e, _) => Observed::Transport {
                nothing_sent: nothing_sent(e),
            },
        }
    }
}

/// A check made right before each request leaves (after its rate-limit slot): the token
/// refresh writes its "about to send" marker here and refuses to send past its deadline. `Ok`
/// carries the longest the attempt may take; `Err` ends the call with nothing sent.
pub(crate) trait Gate: Send + Sync {
    fn before_send(&self) -> BoxFuture<'_, Result<Duration, Error>>;
}

/// What a call needs to report errors: its operation, its route's safety, and (lazily) the
/// secrets to cut from error text.
pub(crate) struct CallContext<'b> {
    /// The end of the call's total timeout: everything the call waits for (a token refresh,
    /// the rate limiter, every attempt) ends by then.
    pub(crate) deadline: Instant,
    /// When the call started (the total timeout counts from here).
    pub(crate) started: Instant,
    /// Checked right before each request leaves.
    pub(crate) gate: Option<Arc<dyn Gate>>,
    /// Per-call overrides.
    pub(crate) options: crate::intercept::CallOptions,
    /// The call's route: its operation, idempotency and the body's credential field.
    pub(crate) route: &'static Route,
    /// The checked body the request was serialized from (it holds the sensitive fields) and
    /// the query string.
    pub(crate) body: Option<&'b dyn crate::check::SentBody>,
    pub(crate) query: Option<String>,
    pub(crate) credential: Credential,
    /// The call's `vandar.request` span (the attempt loop records into it).
    pub(crate) span: tracing::Span,
}

impl CallContext<'_> {
    /// The secrets of this call, for scrubbing error text.
    pub(crate) fn scrubber(&self) -> Scrubber {
        let mut s = Scrubber::new();
        self.credential.scrub_into(&mut s);
        if let Some(body) = &self.body {
            // The body's credential (the IPG's `api_key`) is not copied into the credential
            // on every call: it is read back from the body here, on the error path only.
            if let Some(key) = body.api_key(self.route) {
                s.add(key);
            }
            body.scrub_into(&mut s);
        }
        if let Some(q) = &self.query {
            s.add_form_fields(q.as_bytes());
        }
        s
    }

    fn outcome_unknown(&self, http_status: Option<u16>, reason: String) -> Error {
        let reason = self.scrubber().scrub_owned(reason);
        tracing::warn!(outcome = "outcome_unknown", http_status, reason = %reason, "money call outcome unknown");
        Error::OutcomeUnknown {
            operation: self.route.operation_id.to_owned(),
            http_status,
            reason,
        }
    }

    /// A failed exchange; `status` when the answer's status line had arrived.
    fn transport(&self, e: reqwest::Error, status: Option<u16>) -> Error {
        Error::Transport(
            crate::error::TransportError::new(e)
                .with_operation(self.route.operation_id)
                .with_http_status(status),
        )
    }
}

/// Send a prepared request through the attempt loop. `Ok` is the final answer (any status);
/// `Err` a failure the decisions ended the call with. Every exchange goes through here: the
/// generated operations and the token refresh.
pub(crate) async fn attempts(
    rt: &RuntimeInner,
    mut request: reqwest::Request,
    ctx: &mut CallContext<'_>,
) -> Result<Exchange, Error> {
    let route = ctx.route;
    let config = &rt.config;
    let timeouts = ctx.options.timeouts(config.timeouts());
    let cap = config.max_response_bytes();
    let max_retry_after = config.max_retry_after();
    let deadline = ctx.deadline;
    let limiter = rt.limiters.get(ctx.credential.key);
    let method = request.method().clone();
    // Only an idempotent call is ever retried (`decide::after_attempt`): a money call builds
    // no backoff.
    let mut delays = route
        .idempotent
        .then(|| ctx.options.retry.unwrap_or(*config.retry()).delays());
    let mut next_backoff = delays.as_mut().and_then(Iterator::next);
    let mut replayed = false;
    let mut previous: Option<Attempt> = None;
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        // The clock is read as few times as a call needs (issue 22: client CPU per call):
        // the limiter's grant instant, the attempt's end.
        let slot = match limiter.slot_now(&method) {
            Some(at) => Ok(at),
            None => limiter.acquire(&method, deadline).await,
        };
        let (granted, refused) = match slot {
            Ok(at) => (at, false),
            Err(_) => (Instant::now(), true),
        };
        let remaining = deadline.saturating_duration_since(granted);
        if refused || remaining.is_zero() {
            if let Some(last) = previous.take() {
                return settle(rt, last, ctx);
            }
            return Err(no_slot(ctx, granted));
        }
        ctx.span.record("attempt", attempt);
        // A copy is kept only when it can be used: a retry or a 401 replay, both only ever of
        // an idempotent call.
        let spare = if route.idempotent {
            request.try_clone()
        } else {
            None
        };
        let mut allowed = timeouts.per_attempt.min(remaining);
        if let Some(gate) = &ctx.gate {
            allowed = allowed.min(gate.before_send().await?);
        }
        // A gated call (the token refresh) keeps its own timer (see `within`): the HTTP
        // client's would win the race with an answer that arrived during a pause. Its own
        // timeout is then only a far backstop (the client's default would apply otherwise).
        // The HTTP client was built with the configured attempt timeout: a request whose
        // allowance is exactly that needs no timeout of its own (setting one allocates the
        // request's extension map, on every call).
        match ctx.gate {
            None if allowed == config.timeouts().per_attempt => {}
            None => *request.timeout_mut() = Some(allowed),
            Some(_) => {
                *request.timeout_mut() = Some(allowed.saturating_add(Duration::from_secs(3600)))
            }
        }
        // Interceptors, logging and errors are out of line (below): the attempt's own code is
        // then short, and fits in fewer cache lines on every call.
        let hooked = !rt.config.interceptors.0.is_empty();
        let host = if hooked {
            before_send(rt, ctx, &method, &mut request, attempt)
        } else {
            String::new()
        };
        // A gate (the token refresh's "about to send" marker) may have waited on a store.
        let sent_at = if ctx.gate.is_some() {
            Instant::now()
        } else {
            granted
        };
        // Not boxed: the call's whole state is already in the one box `send_json` made, so
        // the exchange's state lives there too (a box per attempt cost an allocation and a
        // copy of the exchange's state on every call).
        let result = if ctx.gate.is_some() {
            within(exchange(rt, request, cap), allowed).await
        } else {
            exchange(rt, request, cap).await
        };
        let ended = Instant::now();
        let latency = ended.saturating_duration_since(sent_at);
        if hooked {
            after_attempt(rt, ctx, &method, &host, attempt, &result, latency);
        }
        let observed = result.observed();
        if tracing::enabled!(tracing::Level::DEBUG) {
            log_attempt(&result, attempt, latency);
        }
        if let Observed::Answer {
            status: 429,
            retry_after,
        } = observed
        {
            limiter.pause(decide::pause_after_429(
                retry_after,
                max_retry_after,
                limiter.window(&method),
            ));
        }
        let facts = Facts {
            idempotent: route.idempotent,
            can_refresh: ctx.credential.refresher.is_some() && !replayed,
            can_resend: spare.is_some(),
            next_backoff,
            remaining: deadline.saturating_duration_since(ended),
            max_retry_after,
        };
        match decide::after_attempt(&facts, observed) {
            Decision::Finish | Decision::Fail => return settle(rt, result, ctx),
            Decision::Retry { after } => {
                tracing::info!(
                    attempt,
                    delay_ms = after.as_millis() as u64,
                    "transient failure, retrying"
                );
                let Some(next) = spare else {
                    return settle(rt, result, ctx);
                };
                tokio::time::sleep(after).await;
                next_backoff = delays.as_mut().and_then(Iterator::next);
                previous = Some(result);
                request = next;
            }
            Decision::RefreshThenFinish => {
                return refresh_then_finish(rt, result, ctx, deadline).await;
            }
            Decision::RefreshAndReplay => {
                let stale = ctx.credential.token.clone();
                match token_after_401(ctx, deadline).await? {
                    Some(token) if Some(&token) != stale.as_ref() => {
                        let Some(mut next) = spare else {
                            return settle(rt, result, ctx);
                        };
                        if !ctx.credential.with_token(token) {
                            return settle(rt, result, ctx);
                        }
                        if let Some(h) = &ctx.credential.header {
                            next.headers_mut().insert(AUTHORIZATION, h.clone());
                        }
                        replayed = true;
                        tracing::info!(attempt, "401: token refreshed, replaying once");
                        request = next;
                    }
                    _ => return settle(rt, result, ctx),
                }
            }
            Decision::OutcomeUnknown => return Err(outcome_unknown(ctx, &result, cap)),
            Decision::RateLimited { retry_after } => {
                ctx.span.record("outcome", "rate_limited");
                return Err(Error::RateLimited {
                    operation: ctx.route.operation_id.to_owned(),
                    http_status: 429,
                    retry_after,
                });
            }
        }
    }
}

/// A 401 to a call that is not sent again (one that may move money, or whose body cannot be
/// copied): the token is refreshed for the calls that follow, and the 401 is the answer.
#[cold]
#[inline(never)]
async fn refresh_then_finish(
    rt: &RuntimeInner,
    result: Attempt,
    ctx: &mut CallContext<'_>,
    deadline: Instant,
) -> Result<Exchange, Error> {
    if token_after_401(ctx, deadline).await?.is_some() {
        tracing::warn!(
            "401: the access token was refreshed; this call is not sent again (it may move \
             money): the next call uses the new token"
        );
    }
    settle(rt, result, ctx)
}

/// After a 401: a token from the call's refresher, asked with the refused one (`None`: the
/// call has no refresher). When none could be had the call ends with
/// [`Error::Unauthorized`]: it was sent and answered (401), which [`Error::Auth`] ("not
/// sent") would deny.
async fn token_after_401(
    ctx: &CallContext<'_>,
    deadline: Instant,
) -> Result<Option<Secret>, Error> {
    let Some(refresher) = ctx.credential.refresher.clone() else {
        return Ok(None);
    };
    let stale = ctx.credential.token.as_ref().map(|s| s.expose());
    match refresher.token(stale, deadline).await {
        Ok(token) => Ok(Some(token)),
        Err(error) => {
            ctx.span.record("outcome", "auth_error");
            tracing::warn!(error = %error, "401 and no new access token");
            Err(Error::Unauthorized {
                operation: ctx.route.operation_id.to_owned(),
                refresh: error,
            })
        }
    }
}

/// A money call's attempt whose outcome cannot be known (a 5xx, a lost or cut-off answer).
#[cold]
#[inline(never)]
fn outcome_unknown(ctx: &CallContext<'_>, result: &Attempt, cap: u64) -> Error {
    ctx.span.record("outcome", "outcome_unknown");
    let (status, reason) = match result {
        Attempt::Answer(ex) => (
            Some(ex.status),
            "a gateway or the server answered with a server error".to_owned(),
        ),
        Attempt::TooLarge { status } => (
            Some(*status),
            format!("its answer was larger than {cap} bytes and was not read"),
        ),
        Attempt::Transport(e, status) => (
            *status,
            format!("its response was lost ({})", describe_transport(e)),
        ),
        Attempt::TimedOut => (None, "no answer came within the attempt's time".to_owned()),
    };
    ctx.outcome_unknown(status, reason)
}

/// No rate-limit slot before the total timeout: nothing was sent.
#[cold]
#[inline(never)]
fn no_slot(ctx: &CallContext<'_>, granted: Instant) -> Error {
    let waited = granted.saturating_duration_since(ctx.started);
    tracing::warn!(
        waited_ms = waited.as_millis() as u64,
        "no rate-limit slot before the total timeout; nothing was sent"
    );
    ctx.span.record("outcome", "timeout");
    Error::Timeout {
        operation: ctx.route.operation_id.to_owned(),
        waited,
    }
}

/// The interceptors' `before_send` for this attempt; returns the request's host (for
/// `after_attempt`).
#[inline(never)]
fn before_send(
    rt: &RuntimeInner,
    ctx: &CallContext<'_>,
    method: &reqwest::Method,
    request: &mut reqwest::Request,
    attempt: u32,
) -> String {
    let host = request.url().host_str().unwrap_or("").to_owned();
    let info = AttemptInfo {
        operation: ctx.route.operation_id,
        method: method.as_str(),
        host: &host,
        attempt,
        idempotent: ctx.route.idempotent,
    };
    rt.config
        .interceptors
        .before_send(&info, request.headers_mut());
    host
}

/// The interceptors' `after_attempt` for this attempt.
#[inline(never)]
fn after_attempt(
    rt: &RuntimeInner,
    ctx: &CallContext<'_>,
    method: &reqwest::Method,
    host: &str,
    attempt: u32,
    result: &Attempt,
    latency: Duration,
) {
    let info = AttemptInfo {
        operation: ctx.route.operation_id,
        method: method.as_str(),
        host,
        attempt,
        idempotent: ctx.route.idempotent,
    };
    rt.config.interceptors.after_attempt(
        &info,
        &AttemptResult {
            status: match result {
                Attempt::Answer(ex) => Some(ex.status),
                Attempt::TooLarge { status } => Some(*status),
                Attempt::Transport(_, status) => *status,
                Attempt::TimedOut => None,
            },
            latency,
        },
    );
}

/// The attempt's debug line.
#[inline(never)]
fn log_attempt(result: &Attempt, attempt: u32, latency: Duration) {
    let latency_ms = latency.as_millis() as u64;
    match result {
        Attempt::Answer(ex) => {
            tracing::debug!(attempt, status = ex.status, latency_ms, "attempt answered")
        }
        Attempt::TooLarge { status } => {
            tracing::debug!(attempt, status, latency_ms, "answer over the size cap")
        }
        Attempt::TimedOut => tracing::debug!(attempt, latency_ms, "no answer in time"),
        Attempt::Transport(e, _) => tracing::debug!(
            attempt,
            latency_ms,
            error = %describe_transport(e),
            "attempt failed"
        ),
    }
}

/// The final attempt as the call's result.
fn settle(rt: &RuntimeInner, last: Attempt, ctx: &CallContext<'_>) -> Result<Exchange, Error> {
    let span = &ctx.span;
    match last {
        Attempt::Answer(ex) => {
            span.record("status", ex.status);
            Ok(ex)
        }
        Attempt::TooLarge { status } => {
            span.record("status", status);
            span.record("outcome", "too_large");
            Err(Error::ResponseTooLarge {
                operation: ctx.route.operation_id.to_owned(),
                http_status: status,
                limit: rt.config.max_response_bytes(),
            })
        }
        Attempt::Transport(e, status) => {
            span.record("outcome", "transport_error");
            if let Some(status) = status {
                span.record("status", status);
            }
            tracing::warn!(error = %describe_transport(&e), "call failed");
            Err(ctx.transport(e, status))
        }
        Attempt::TimedOut => {
            span.record("outcome", "timeout");
            Err(Error::Timeout {
                operation: ctx.route.operation_id.to_owned(),
                waited: rt.config.timeouts().per_attempt,
            })
        }
    }
}

/// Send `request` and read its answer up to `cap` bytes.
async fn exchange(rt: &RuntimeInner, request: reqwest::Request, cap: u64) -> Attempt {
    match rt.http.execute(request).await {
        Ok(resp) => read_capped(resp, cap).await,
        Err(e) => Attempt::Transport(e, None),
    }
}

/// How long an exchange may still finish after its time passed: after a pause of the process
/// (SIGSTOP, a VM freeze) the timer and an answer that arrived meanwhile become ready together.
const PAUSE_GRACE: Duration = Duration::from_millis(250);

/// Wait for `exchange` up to `limit`, the answer first: when the limit passes, the exchange
/// gets [`PAUSE_GRACE`] more, so an answer already in the socket is read rather than dropped.
/// For the token refresh that answer is the only copy of the rotated pair.
async fn within(exchange: impl std::future::Future<Output = Attempt>, limit: Duration) -> Attempt {
    let exchange = std::pin::pin!(exchange);
    let timer = std::pin::pin!(tokio::time::sleep(limit));
    // `select` polls the exchange first: an answer that is ready wins over the timer.
    match futures::future::select(exchange, timer).await {
        futures::future::Either::Left((answer, _)) => answer,
        futures::future::Either::Right(((), exchange)) => {
            tokio::time::timeout(PAUSE_GRACE, exchange)
                .await
                .unwrap_or(Attempt::TimedOut)
        }
    }
}

/// Read an answer's body, up to `cap` bytes.
async fn read_capped(mut resp: reqwest::Response, cap: u64) -> Attempt {
    let status = resp.status().as_u16();
    // The length the HTTP layer read from `Content-Length` (it refuses an answer whose header
    // is not a number): no second look-up and parse of the header here.
    if resp.content_length().is_some_and(|n| n > cap) {
        return Attempt::TooLarge { status };
    }
    let headers = std::mem::take(resp.headers_mut());
    let first = match resp.chunk().await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return Attempt::Answer(Exchange {
                status,
                headers,
                body: Bytes::new(),
            });
        }
        Err(e) => return Attempt::Transport(e, Some(status)),
    };
    if first.len() as u64 > cap {
        return Attempt::TooLarge { status };
    }
    let second = match resp.chunk().await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return Attempt::Answer(Exchange {
                status,
                headers,
                body: first,
            });
        }
        Err(e) => return Attempt::Transport(e, Some(status)),
    };
    // Sized from what arrived, never from the server's Content-Length.
    let mut buf = BytesMut::with_capacity(first.len() + second.len());
    buf.extend_from_slice(&first);
    let mut next = Some(second);
    while let Some(chunk) = next {
        if (buf.len() + chunk.len()) as u64 > cap {
            return Attempt::TooLarge { status };
        }
        buf.extend_from_slice(&chunk);
        next = match resp.chunk().await {
            Ok(c) => c,
            Err(e) => return Attempt::Transport(e, Some(status)),
        };
    }
    Attempt::Answer(Exchange {
        status,
        headers,
        body: buf.freeze(),
    })
}

/// Whether a transport error came before anything was sent: a failed connect (or TLS
/// handshake), or a request that could not be built.
fn nothing_sent(e: &reqwest::Error) -> bool {
    e.is_connect() || e.is_builder()
}
