//! Hooks around every attempt ([`Interceptor`]) and per-call overrides ([`CallOptions`]), as
//! users of the AWS SDK and Stripe's libraries expect: add a header, record a metric, give one
//! call a shorter timeout or a different retry policy.
//!
//! An interceptor sees only what is safe to see: the operation, method, host, attempt number,
//! status and latency, never the URL's query, the body or a credential (the request's
//! credentials, [`SECRET_HEADERS`], are taken out while it runs). Headers it adds are sent as
//! given, except the ones the SDK owns, which stay the SDK's:
//!
//! * every header the SDK put on the request before the interceptors ran (`accept`,
//!   `api-version`, `content-type`, the credential, ...): an interceptor can read them (but
//!   not the credential) and cannot change them;
//! * [`RESERVED_HEADERS`], whether the request had them or not: the credential, the headers
//!   that frame the request on the wire or change how the server reads its body or method,
//!   and `user-agent` (the client's own). An interceptor that sets `content-length: 0` would
//!   otherwise send a payment with an empty body, and one that sets
//!   `x-http-method-override: DELETE` would change what a POST does.
//!
//! What an interceptor sets for one of those is dropped, with a warning naming the header.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{self, HeaderMap, HeaderName};

use crate::retry::RetryPolicy;
use crate::timeouts::Timeouts;

/// What an interceptor knows about an attempt.
#[derive(Clone, Copy, Debug)]
pub struct AttemptInfo<'a> {
    /// The spec's `operationId` (`refresh_token` for the token refresh).
    pub operation: &'a str,
    /// The HTTP method.
    pub method: &'a str,
    /// The host the attempt goes to.
    pub host: &'a str,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// Whether the call may be repeated without repeating a side effect.
    pub idempotent: bool,
}

/// What one attempt produced, for [`Interceptor::after_attempt`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttemptResult {
    /// The answer's HTTP status (`None`: no answer arrived).
    pub status: Option<u16>,
    /// From sending to the end of the answer (or the failure).
    pub latency: Duration,
}

/// A hook around every attempt of every call (the token refresh included). Install it with
/// [`ConfigBuilder::interceptor`](crate::ConfigBuilder::interceptor). Both methods run inline
/// on the request path: keep them short and never block.
pub trait Interceptor: Send + Sync + 'static {
    /// Right before an attempt is sent (after its rate-limit slot): add headers.
    fn before_send(&self, info: &AttemptInfo<'_>, headers: &mut HeaderMap) {
        let _ = (info, headers);
    }

    /// After an attempt, with its status and latency.
    fn after_attempt(&self, info: &AttemptInfo<'_>, result: &AttemptResult) {
        let _ = (info, result);
    }
}

/// The interceptors of a configuration, in the order they were added.
#[derive(Clone, Default)]
pub(crate) struct Interceptors(pub(crate) Vec<Arc<dyn Interceptor>>);

impl fmt::Debug for Interceptors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} interceptor(s)", self.0.len())
    }
}

/// The headers an interceptor cannot read: the credentials. They are taken out of the
/// request while the interceptors run and put back after.
pub static SECRET_HEADERS: [HeaderName; 3] = [
    header::AUTHORIZATION,
    header::PROXY_AUTHORIZATION,
    header::COOKIE,
];

/// The headers an interceptor cannot change even when the request does not carry them (what
/// it sets for one of them is dropped): [`SECRET_HEADERS`], the headers that frame the request
/// on the wire, those that change how a server reads its body or method, and the client's
/// `user-agent`. Every header the SDK itself put on the request is kept as well.
pub static RESERVED_HEADERS: [HeaderName; 18] = [
    header::AUTHORIZATION,
    header::PROXY_AUTHORIZATION,
    header::COOKIE,
    header::CONTENT_LENGTH,
    header::CONTENT_TYPE,
    header::CONTENT_ENCODING,
    header::TRANSFER_ENCODING,
    header::HOST,
    header::CONNECTION,
    header::TE,
    header::UPGRADE,
    header::EXPECT,
    header::ACCEPT,
    header::USER_AGENT,
    HeaderName::from_static("x-http-method-override"),
    HeaderName::from_static("x-http-method"),
    HeaderName::from_static("x-method-override"),
    HeaderName::from_static("api-version"),
];

impl Interceptors {
    pub(crate) fn before_send(&self, info: &AttemptInfo<'_>, headers: &mut HeaderMap) {
        if self.0.is_empty() {
            return;
        }
        // The SDK's headers, all of them; the interceptors get a copy without the credentials.
        let sdk = std::mem::take(headers);
        for (name, value) in &sdk {
            if !SECRET_HEADERS.contains(name) {
                headers.append(name.clone(), value.clone());
            }
        }
        for i in &self.0 {
            i.before_send(info, headers);
        }
        // What the interceptors did to a header the SDK owns is undone: they saw the SDK's
        // values (no credential at all) and must have left them as they were.
        let owned = RESERVED_HEADERS
            .iter()
            .chain(sdk.keys().filter(|n| !RESERVED_HEADERS.contains(n)));
        for name in owned {
            let changed = if SECRET_HEADERS.contains(name) {
                headers.contains_key(name)
            } else {
                !headers.get_all(name).iter().eq(sdk.get_all(name).iter())
            };
            headers.remove(name);
            if changed {
                tracing::warn!(
                    operation = info.operation,
                    header = name.as_str(),
                    "an interceptor changed a header the SDK owns; the SDK's value is sent"
                );
            }
        }
        for (name, value) in &sdk {
            headers.append(name.clone(), value.clone());
        }
    }

    pub(crate) fn after_attempt(&self, info: &AttemptInfo<'_>, result: &AttemptResult) {
        for i in &self.0 {
            i.after_attempt(info, result);
        }
    }
}

/// Overrides for the calls of one client (see `Binding::with_call_options` and each
/// generated client's `with_options`): what is set replaces the configuration's value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CallOptions {
    /// The total timeout of each call (everything it waits for: a token refresh, the rate
    /// limiter, every attempt).
    pub total_timeout: Option<Duration>,
    /// The timeout of each attempt (cut to what is left of the total).
    pub attempt_timeout: Option<Duration>,
    /// The retry policy. It applies to idempotent calls only: a call that may move money is
    /// never retried, whatever the policy says.
    pub retry: Option<RetryPolicy>,
}

impl CallOptions {
    /// No overrides.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replace the total timeout.
    pub fn total_timeout(mut self, total: Duration) -> Self {
        self.total_timeout = Some(total);
        self
    }

    /// Replace the per-attempt timeout.
    pub fn attempt_timeout(mut self, attempt: Duration) -> Self {
        self.attempt_timeout = Some(attempt);
        self
    }

    /// Replace the retry policy (idempotent calls only).
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = Some(retry);
        self
    }

    /// The configuration's timeouts with these overrides.
    pub(crate) fn timeouts(&self, base: Timeouts) -> Timeouts {
        let mut t = base;
        if let Some(total) = self.total_timeout {
            t = t.with_total(total);
        }
        if let Some(attempt) = self.attempt_timeout {
            t = t.with_per_attempt(attempt);
        }
        t
    }
}
