//! Client-side rate limits: Vandar allows POST 30 requests and other methods 100 requests per
//! 3 seconds, per token. Callers wait for a slot instead of receiving 429; a 429 that gets
//! through anyway pauses every caller of that credential for its `Retry-After`.
//!
//! Two ways to keep under a limit of `max` per `per`, both reading tokio's time (so waits are
//! `tokio::time::sleep`s and tests run them under paused time):
//!
//! * **Sliding window** (the default, `burst == max`): a request goes when fewer than `max`
//!   requests went in the last `per + margin`. Up to `max` go at once, and the sustained rate is
//!   `max` per `per + margin`: with the default margin (`per / 16`, 187.5 ms for 3 s) 94 % of
//!   the documented limit, and a request arriving up to `margin` later than its neighbours
//!   (network jitter, a slow connect) still lands inside the server's limit.
//! * **Smoothed** (`with_burst(b)`, `b < max`): [`governor`]'s GCRA with burst `b` and emission
//!   interval `T = per / (max - b)` (rounded up), which admits at most `b + floor(L / T)`
//!   requests in any closed interval of length `L`, so at most `max` in every window of length
//!   `per`; `b` go at once and the rest are spread evenly, at a sustained rate of
//!   `(max - b) / per`.
//!
//! Both count one process's requests. When several processes share a credential, a
//! [`SharedRateLimiter`] (installed with
//! [`ConfigBuilder::shared_rate_limiter`](crate::ConfigBuilder::shared_rate_limiter), e.g.
//! `vandar-redis`'s) decides instead, for the sum over all of them; the local limiter is the
//! fallback while it fails.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::num::NonZeroU32;
use std::ops::Add;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use governor::clock::{Clock, Reference};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use tokio::time::Instant;

use std::fmt;

use crate::error::ConfigError;
use crate::secret::Secret;
use crate::timeouts::instant_after;

/// A limit of `max_requests` in any window of length `per`: a sliding window (the default) or,
/// with a smaller burst, a smoothed GCRA; see [`RateLimit::new`] and [`RateLimit::with_burst`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    max_requests: u32,
    per: Duration,
    burst: u32,
    margin: Duration,
}

impl fmt::Debug for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RateLimit");
        d.field("max_requests", &self.max_requests)
            .field("per", &self.per)
            .field("burst", &self.burst)
            .field("margin", &self.margin);
        d.finish()
    }
}

impl RateLimit {
    /// At most `max_requests` per `per`, as a sliding window: all of them may go at once, and
    /// the sustained rate is `max_requests` per `per + margin` (default margin `per / 16`,
    /// 6.25 %: 187.5 ms for 3 s).
    pub fn new(max_requests: u32, per: Duration) -> Self {
        Self {
            max_requests,
            per,
            burst: max_requests,
            margin: per / 16,
        }
    }

    /// How many requests may go at once. `max_requests` (the default) is the sliding window;
    /// a smaller burst spreads the rest evenly (GCRA) and lowers the sustained rate to
    /// `(max_requests - burst) / per`.
    pub fn with_burst(mut self, burst: u32) -> Self {
        self.burst = burst;
        self
    }

    /// The sliding window's safety margin: the window is `per + margin` long, so requests may
    /// reach the server up to `margin` out of step and still keep within its limit. Not used
    /// with a smaller burst.
    pub fn with_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// The most requests in any window.
    pub fn max_requests(&self) -> u32 {
        self.max_requests
    }

    /// The window length.
    pub fn per(&self) -> Duration {
        self.per
    }

    /// The burst size.
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// The sliding window's safety margin.
    pub fn margin(&self) -> Duration {
        self.margin
    }

    fn is_window(&self) -> bool {
        self.burst >= self.max_requests
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.max_requests == 0 || self.per.is_zero() || self.burst == 0 {
            return Err(ConfigError::Invalid(
                "a rate limit needs max_requests, per and burst above zero".into(),
            ));
        }
        if self.burst > self.max_requests {
            return Err(ConfigError::Invalid(format!(
                "a rate-limit burst ({}) must not exceed max_requests ({})",
                self.burst, self.max_requests
            )));
        }
        Ok(())
    }

    fn quota(&self) -> Quota {
        let max = self.max_requests.max(1);
        let burst = if max == 1 {
            1
        } else {
            self.burst.clamp(1, max - 1)
        };
        let per = self.per.as_nanos().max(1);
        // With max == 1 the single request per window needs an interval just above `per`.
        let period = if max == 1 {
            per + 1
        } else {
            per.div_ceil(u128::from(max - burst))
        };
        let period = Duration::from_nanos(u64::try_from(period).unwrap_or(u64::MAX));
        Quota::with_period(period)
            .expect("period is above zero")
            .allow_burst(NonZeroU32::new(burst).expect("burst is above zero"))
    }
}

/// The limits per credential: one for POST, one for every other method. `None` means
/// unlimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimits {
    /// Limit for POST requests (Vandar: 30 per 3 s).
    pub post: Option<RateLimit>,
    /// Limit for every other method (Vandar: 100 per 3 s).
    pub other: Option<RateLimit>,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self::vandar()
    }
}

impl RateLimits {
    /// The documented Vandar limits: POST 30 and other methods 100 per 3 seconds.
    pub fn vandar() -> Self {
        Self {
            post: Some(RateLimit::new(30, Duration::from_secs(3))),
            other: Some(RateLimit::new(100, Duration::from_secs(3))),
        }
    }

    /// No client-side limits (a 429 is still honoured).
    pub fn unlimited() -> Self {
        Self {
            post: None,
            other: None,
        }
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        self.post
            .iter()
            .chain(&self.other)
            .try_for_each(RateLimit::validate)
    }
}

/// Which of a credential's two budgets a request spends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MethodClass {
    /// POST requests (Vandar: 30 per 3 s).
    Post,
    /// Every other method (Vandar: 100 per 3 s).
    Other,
}

impl MethodClass {
    /// The class of an HTTP method.
    pub fn of(method: &http::Method) -> Self {
        if method == http::Method::POST {
            Self::Post
        } else {
            Self::Other
        }
    }

    /// `"post"` or `"other"` (for store keys and logs).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Post => "post",
            Self::Other => "other",
        }
    }
}

/// One request for a slot of a shared budget (see [`SharedRateLimiter`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotRequest {
    /// The credential whose budget is spent.
    pub key: LimiterKey,
    /// POST or another method.
    pub class: MethodClass,
    /// The configured limit of that class (the whole budget, shared by every replica).
    pub limit: RateLimit,
    /// The longest the caller can wait for its slot (the rest of its total timeout). A slot
    /// further away must not be reserved.
    pub max_wait: Duration,
}

/// A shared limiter's answer to a [`SlotRequest`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotGrant {
    /// A slot is reserved for the caller `wait` from now (zero: send now). The caller sleeps
    /// for `wait`, then sends; a `wait` that ends after the caller's total timeout is not
    /// slept (the call fails at once with [`Error::Timeout`](crate::Error::Timeout), nothing
    /// sent).
    Granted {
        /// How long to wait before sending.
        wait: Duration,
    },
    /// The next slot is more than `max_wait` away; nothing was reserved.
    TooLate {
        /// When the next slot would be free.
        next_in: Duration,
    },
}

/// A boxed future returned by [`SharedRateLimiter`] methods.
pub type SharedLimiterFuture<'a, T> =
    Pin<Box<dyn Future<Output = Result<T, SharedLimiterError>> + Send + 'a>>;

/// A [`SharedRateLimiter`] could not answer (its store is unreachable, timed out, or answered
/// with an error). The runtime then falls back to its local limiter.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SharedLimiterError {
    message: String,
}

impl SharedLimiterError {
    /// An error with a message (no secrets).
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// A rate budget shared by every process that uses the same credential (e.g. several
/// replicas of a backend), consulted by the runtime before each request and each token
/// refresh. Install one with
/// [`ConfigBuilder::shared_rate_limiter`](crate::ConfigBuilder::shared_rate_limiter); the
/// `vandar-redis` crate implements it with Redis.
///
/// While it answers, it alone decides when a request goes (the runtime's local limiter only
/// keeps a record of what this process sent). When it fails, the runtime logs a warning and
/// falls back to a local limiter with [`fallback_limits`](Self::fallback_limits) (which sees
/// what this process sent through the shared one), and asks the shared limiter again for the
/// next request. A failure never causes a request to be sent twice.
///
/// The runtime waits for [`acquire`](Self::acquire) at most until the call's total timeout
/// ends: a limiter that has not answered by then ends the call with
/// [`Error::Timeout`](crate::Error::Timeout), nothing sent, and its late answer is dropped.
/// Give the limiter's own store a timeout shorter than that (as `vandar-redis` does): an error
/// lets the call go on under the local fallback, where a wait to the deadline ends it.
///
/// Implement it with `Box::pin(async move { .. })` bodies.
pub trait SharedRateLimiter: Send + Sync + 'static {
    /// Reserve a slot for one request, or say that none is free within
    /// `request.max_wait`.
    fn acquire(&self, request: SlotRequest) -> SharedLimiterFuture<'_, SlotGrant>;

    /// The server answered 429: hold back every process using `key` for `pause`. By default
    /// only this process is held back.
    fn pause(&self, key: LimiterKey, pause: Duration) -> SharedLimiterFuture<'_, ()> {
        let _ = (key, pause);
        Box::pin(async { Ok(()) })
    }

    /// The limits this process keeps to while the shared limiter fails (default: the
    /// configured limits; with `n` replicas, `1/n` of them keeps the sum within the limits).
    fn fallback_limits(&self, limits: &RateLimits) -> RateLimits {
        *limits
    }
}

impl<T: SharedRateLimiter + ?Sized> SharedRateLimiter for Arc<T> {
    fn acquire(&self, request: SlotRequest) -> SharedLimiterFuture<'_, SlotGrant> {
        (**self).acquire(request)
    }

    fn pause(&self, key: LimiterKey, pause: Duration) -> SharedLimiterFuture<'_, ()> {
        (**self).pause(key, pause)
    }

    fn fallback_limits(&self, limits: &RateLimits) -> RateLimits {
        (**self).fallback_limits(limits)
    }
}

/// tokio's clock as a governor clock: paused time in tests moves it.
#[derive(Clone, Copy, Debug, Default)]
struct TokioClock;

/// A tokio instant as a governor reference point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct TokioInstant(Instant);

impl Add<Nanos> for TokioInstant {
    type Output = Self;

    fn add(self, other: Nanos) -> Self {
        TokioInstant(instant_after(self.0, Duration::from(other)))
    }
}

impl Reference for TokioInstant {
    fn duration_since(&self, earlier: Self) -> Nanos {
        self.0.saturating_duration_since(earlier.0).into()
    }

    fn saturating_sub(&self, duration: Nanos) -> Self {
        self.0
            .checked_sub(duration.into())
            .map(TokioInstant)
            .unwrap_or(*self)
    }
}

impl Clock for TokioClock {
    type Instant = TokioInstant;

    fn now(&self) -> TokioInstant {
        TokioInstant(Instant::now())
    }
}

type Gcra = RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<TokioInstant>>;

/// The total timeout would pass before a slot frees up.
#[derive(Debug)]
pub(crate) struct DeadlineExceeded;

/// The admissions of the last `span`, oldest first (at most `max`).
struct Window {
    max: usize,
    span: Duration,
    admitted: Mutex<VecDeque<Instant>>,
}

impl Window {
    /// Admit at `now`, or say when the oldest admission leaves the window.
    fn check(&self, now: Instant) -> Result<(), Instant> {
        let mut admitted = self.admitted.lock().unwrap_or_else(PoisonError::into_inner);
        while admitted
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= self.span)
        {
            admitted.pop_front();
        }
        match admitted.front() {
            Some(oldest) if admitted.len() >= self.max => Err(instant_after(*oldest, self.span)),
            _ => {
                admitted.push_back(now);
                Ok(())
            }
        }
    }
}

/// One method class's limit.
enum Lane {
    Window(Window),
    Gcra(Gcra),
}

impl Lane {
    fn new(limit: &RateLimit) -> Self {
        if limit.is_window() {
            let max = limit.max_requests.max(1) as usize;
            Lane::Window(Window {
                max,
                span: limit.per.saturating_add(limit.margin),
                admitted: Mutex::new(VecDeque::with_capacity(max)),
            })
        } else {
            Lane::Gcra(Gcra::direct_with_clock(limit.quota(), TokioClock))
        }
    }

    /// Note a request that went at `now` on the shared limiter's word, so that a fallback to
    /// this lane knows what this process sent.
    fn record(&self, now: Instant) {
        match self {
            Lane::Window(w) => {
                let mut admitted = w.admitted.lock().unwrap_or_else(PoisonError::into_inner);
                while admitted
                    .front()
                    .is_some_and(|t| now.saturating_duration_since(*t) >= w.span)
                {
                    admitted.pop_front();
                }
                admitted.push_back(now);
                // The window only needs its newest `max` admissions to wait correctly.
                while admitted.len() > w.max {
                    admitted.pop_front();
                }
            }
            Lane::Gcra(g) => {
                let _ = g.check();
            }
        }
    }

    /// Admit at `now`, or say when to ask again.
    fn check(&self, now: Instant) -> Result<(), Instant> {
        match self {
            Lane::Window(w) => w.check(now),
            Lane::Gcra(g) => g.check().map_err(|not_until| {
                instant_after(now, not_until.wait_time_from(TokioClock.now()))
            }),
        }
    }
}

/// The shared budget of one credential.
struct SharedLane {
    limiter: Arc<dyn SharedRateLimiter>,
    key: LimiterKey,
    limits: RateLimits,
    /// The shared limiter failed last time (for logging the switch once).
    degraded: AtomicBool,
}

impl SharedLane {
    fn failed(&self, error: &SharedLimiterError) {
        if !self.degraded.swap(true, AtomicOrdering::Relaxed) {
            tracing::warn!(
                limiter = ?self.key,
                error = %error,
                "shared rate limiter unavailable; falling back to the local limiter"
            );
        } else {
            tracing::debug!(limiter = ?self.key, error = %error, "shared rate limiter still unavailable");
        }
    }

    /// The shared limiter did not answer within the `waited` the call had left.
    fn no_answer(&self, waited: Duration) {
        tracing::warn!(
            limiter = ?self.key,
            waited_ms = waited.as_millis() as u64,
            "shared rate limiter did not answer before the call's total timeout; nothing was sent"
        );
    }

    fn answered(&self) {
        if self.degraded.swap(false, AtomicOrdering::Relaxed) {
            tracing::info!(limiter = ?self.key, "shared rate limiter available again");
        }
    }
}

/// The limiters of one credential.
pub(crate) struct Limiter {
    post: Option<(Lane, Duration)>,
    other: Option<(Lane, Duration)>,
    blocked_until: Mutex<Option<Instant>>,
    shared: Option<SharedLane>,
}

impl Limiter {
    #[cfg(test)]
    fn new(limits: &RateLimits) -> Self {
        Self::build(limits, None)
    }

    /// The limiter of one credential; with a shared limiter, the local lanes keep to its
    /// fallback limits.
    fn build(
        limits: &RateLimits,
        shared: Option<(Arc<dyn SharedRateLimiter>, LimiterKey)>,
    ) -> Self {
        let local = match &shared {
            Some((s, _)) => s.fallback_limits(limits),
            None => *limits,
        };
        let make = |l: &RateLimit| (Lane::new(l), l.per);
        Self {
            post: local.post.as_ref().map(make),
            other: local.other.as_ref().map(make),
            blocked_until: Mutex::new(None),
            shared: shared.map(|(limiter, key)| SharedLane {
                limiter,
                key,
                limits: *limits,
                degraded: AtomicBool::new(false),
            }),
        }
    }

    fn paused_at(&self, now: Instant) -> Option<Instant> {
        let blocked = *self
            .blocked_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        blocked.filter(|u| *u > now)
    }

    fn lane(&self, method: &reqwest::Method) -> Option<&(Lane, Duration)> {
        if method == reqwest::Method::POST {
            self.post.as_ref()
        } else {
            self.other.as_ref()
        }
    }

    /// A slot now, without waiting, when one is free and nothing else is to be asked: no
    /// pause after a 429, no shared limiter, and the method's lane (if any) has room. `None`
    /// means "ask [`Limiter::acquire`]" (nothing was taken). The usual call takes this path
    /// and never runs the waiting code (issue 22: the code one call runs).
    pub(crate) fn slot_now(&self, method: &reqwest::Method) -> Option<Instant> {
        if self.shared.is_some() {
            return None;
        }
        let now = Instant::now();
        if self.paused_at(now).is_some() {
            return None;
        }
        match self.lane(method) {
            None => Some(now),
            Some((lane, _)) => lane.check(now).ok().map(|()| now),
        }
    }

    /// Wait for a slot. Fails, without waiting, when the slot would come after `deadline`, and
    /// at `deadline` when the shared limiter has not answered by then. Returns the instant the
    /// slot was granted (the caller reads no clock of its own).
    pub(crate) async fn acquire(
        &self,
        method: &reqwest::Method,
        deadline: Instant,
    ) -> Result<Instant, DeadlineExceeded> {
        loop {
            let now = Instant::now();
            if let Some(until) = self.paused_at(now) {
                if until > deadline {
                    return Err(DeadlineExceeded);
                }
                tokio::time::sleep_until(until).await;
                continue;
            }
            let local = self.lane(method).map(|(lane, _)| lane);
            if let Some(shared) = &self.shared {
                let class = MethodClass::of(method);
                let limit = match class {
                    MethodClass::Post => shared.limits.post,
                    MethodClass::Other => shared.limits.other,
                };
                if let Some(limit) = limit {
                    let request = SlotRequest {
                        key: shared.key,
                        class,
                        limit,
                        max_wait: deadline.saturating_duration_since(now),
                    };
                    // Bounded by the deadline like every other wait of the call: a shared
                    // limiter that does not answer (or answers late) ends the call at its
                    // deadline, with nothing sent.
                    let answer =
                        tokio::time::timeout_at(deadline, shared.limiter.acquire(request)).await;
                    let Ok(answer) = answer else {
                        shared.no_answer(deadline.saturating_duration_since(now));
                        return Err(DeadlineExceeded);
                    };
                    match answer {
                        Ok(SlotGrant::Granted { wait }) => {
                            shared.answered();
                            if !wait.is_zero() {
                                // A slot after the deadline is refused at once, as the local
                                // lanes refuse one (the limiter was told `max_wait`, but may
                                // not keep to it).
                                let until = instant_after(Instant::now(), wait);
                                if until > deadline {
                                    return Err(DeadlineExceeded);
                                }
                                tokio::time::sleep_until(until).await;
                            }
                            let at = Instant::now();
                            if self.paused_at(at).is_some() {
                                // A 429 came in while this caller waited for its slot: the
                                // slot is given up and the pause honoured.
                                continue;
                            }
                            if let Some(lane) = local {
                                lane.record(at);
                            }
                            return Ok(at);
                        }
                        Ok(SlotGrant::TooLate { .. }) => {
                            shared.answered();
                            return Err(DeadlineExceeded);
                        }
                        Err(e) => shared.failed(&e),
                    }
                }
            }
            let Some(lane) = local else {
                return Ok(now);
            };
            let now = Instant::now();
            match lane.check(now) {
                Ok(()) => return Ok(now),
                Err(at) => {
                    if at > deadline {
                        return Err(DeadlineExceeded);
                    }
                    if at <= now {
                        tokio::task::yield_now().await;
                    } else {
                        tokio::time::sleep_until(at).await;
                    }
                }
            }
        }
    }

    /// The window of the method's lane (3 s when it is unlimited).
    pub(crate) fn window(&self, method: &reqwest::Method) -> Duration {
        self.lane(method)
            .map(|(_, per)| *per)
            .unwrap_or(Duration::from_secs(3))
    }

    /// The server answered 429: hold every caller of this credential back for `pause` (the
    /// caller caps it; see [`crate::decide::pause_after_429`]).
    pub(crate) fn pause(&self, pause: Duration) {
        let until = instant_after(Instant::now(), pause);
        let mut blocked = self
            .blocked_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if blocked.is_none_or(|b| b < until) {
            *blocked = Some(until);
        }
        drop(blocked);
        if let Some(shared) = &self.shared
            && let Ok(handle) = tokio::runtime::Handle::try_current()
        {
            let limiter = shared.limiter.clone();
            let key = shared.key;
            handle.spawn(async move {
                if let Err(e) = limiter.pause(key, pause).await {
                    tracing::warn!(limiter = ?key, error = %e, "could not share a 429 pause");
                }
            });
        }
    }
}

/// Which credential a limiter belongs to: the first 16 bytes of SHA-256 over the kind and the
/// credential (a token, an api_key, a client id). Never the credential itself, so a key can be
/// logged or used as a shared-store key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LimiterKey([u8; 16]);

impl fmt::Debug for LimiterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LimiterKey({})", self.hex())
    }
}

impl LimiterKey {
    /// The key of a credential of some kind (`"api_key"`, `"bearer"`, `"basic"`, ...).
    ///
    /// Every call of a credential asks for its key, so the last few keys of each thread are
    /// kept (next to the credential they belong to, in this thread's memory only): a repeated
    /// credential costs a string comparison instead of a SHA-256.
    pub fn of(kind: &str, credential: &str) -> Self {
        /// How many credentials a thread remembers.
        const KEPT: usize = 4;
        type Kept = [Option<(String, Secret, LimiterKey)>; KEPT];
        thread_local! {
            static RECENT: std::cell::RefCell<(Kept, usize)> =
                const { std::cell::RefCell::new(([const { None }; KEPT], 0)) };
        }
        RECENT.with(|recent| {
            let mut recent = recent.borrow_mut();
            let (kept, next) = &mut *recent;
            if let Some((_, _, key)) = kept
                .iter()
                .flatten()
                .find(|(k, c, _)| k == kind && c.expose() == credential)
            {
                return *key;
            }
            let key = Self::digest(kind, credential);
            kept[*next] = Some((kind.to_owned(), Secret::new(credential), key));
            *next = (*next + 1) % KEPT;
            key
        })
    }

    fn digest(kind: &str, credential: &str) -> Self {
        use sha2::Digest as _;
        let mut h = sha2::Sha256::new();
        h.update(kind.as_bytes());
        h.update([0u8]);
        h.update(credential.as_bytes());
        let digest = h.finalize();
        let mut out = [0u8; 16];
        out.copy_from_slice(&digest[..16]);
        Self(out)
    }

    /// Unauthenticated calls without an api_key (one budget per runtime).
    pub fn anonymous() -> Self {
        static KEY: std::sync::LazyLock<LimiterKey> =
            std::sync::LazyLock::new(|| LimiterKey::digest("anonymous", ""));
        *KEY
    }

    /// The Vandar token pair of a runtime (its calls and its refreshes).
    pub fn token_pair() -> Self {
        static KEY: std::sync::LazyLock<LimiterKey> =
            std::sync::LazyLock::new(|| LimiterKey::digest("token_pair", crate::VANDAR_BEARER));
        *KEY
    }

    /// Lower-case hex of the key.
    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The limiters of a runtime, one per credential, created on first use.
pub(crate) struct Limiters {
    /// Unique per `Limiters` (the per-thread memory of the last limiter is keyed by it).
    id: u64,
    limits: RateLimits,
    shared: Option<Arc<dyn SharedRateLimiter>>,
    by_key: Mutex<KeyMap>,
}

/// The limiters by key, bounded: past [`MAX_IDLE_KEYS`] entries, limiters nobody holds that
/// were last used more than [`IDLE_AFTER`] ago are dropped (a one-off key, e.g. one Sanbod user,
/// does not stay forever). A limiter in use or recently used is never dropped, so no pause and
/// no window is forgotten while it matters.
#[derive(Default)]
struct KeyMap {
    map: HashMap<LimiterKey, (Arc<Limiter>, std::time::Instant)>,
    inserts: usize,
}

/// How many limiters are kept before idle ones are dropped.
pub(crate) const MAX_IDLE_KEYS: usize = 256;
/// How long a limiter must be unused before it may be dropped (longer than any window plus the
/// `Retry-After` cap's default).
pub(crate) const IDLE_AFTER: Duration = Duration::from_secs(120);

impl Limiters {
    /// The limiters of `limits`, consulting `shared` (if any) first.
    pub(crate) fn with_shared(
        limits: RateLimits,
        shared: Option<Arc<dyn SharedRateLimiter>>,
    ) -> Self {
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        Self {
            id: NEXT_ID.fetch_add(1, AtomicOrdering::Relaxed),
            limits,
            shared,
            by_key: Mutex::new(KeyMap::default()),
        }
    }

    /// The limiter of `key`. Each thread remembers the last limiter it was given (weakly: it
    /// keeps nothing alive), so a run of calls with one credential takes no lock and no
    /// clock read here; a remembered limiter is never dropped as idle (see [`Self::get_at`]).
    pub(crate) fn get(&self, key: LimiterKey) -> Arc<Limiter> {
        type Last = Option<(u64, LimiterKey, std::sync::Weak<Limiter>)>;
        thread_local! {
            static LAST: std::cell::RefCell<Last> = const { std::cell::RefCell::new(None) };
        }
        let remembered = LAST.with(|last| match &*last.borrow() {
            Some((id, k, limiter)) if *id == self.id && *k == key => limiter.upgrade(),
            _ => None,
        });
        if let Some(limiter) = remembered {
            return limiter;
        }
        let limiter = self.get_at(key, std::time::Instant::now());
        LAST.with(|last| *last.borrow_mut() = Some((self.id, key, Arc::downgrade(&limiter))));
        limiter
    }

    fn get_at(&self, key: LimiterKey, now: std::time::Instant) -> Arc<Limiter> {
        let mut keys = self.by_key.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((limiter, used)) = keys.map.get_mut(&key) {
            *used = now;
            return limiter.clone();
        }
        keys.inserts += 1;
        if keys.map.len() >= MAX_IDLE_KEYS && keys.inserts.is_multiple_of(16) {
            // In use (held), remembered by a thread (its calls skip this map, see `get`), or
            // used recently: kept.
            keys.map.retain(|_, (limiter, used)| {
                Arc::strong_count(limiter) > 1
                    || Arc::weak_count(limiter) > 0
                    || now.saturating_duration_since(*used) < IDLE_AFTER
            });
        }
        let limiter = Arc::new(Limiter::build(
            &self.limits,
            self.shared.clone().map(|s| (s, key)),
        ));
        keys.map.insert(key, (limiter.clone(), now));
        limiter
    }

    /// How many limiters are held (tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.by_key
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .map
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::max_in_window;
    use std::sync::atomic::AtomicU64;

    /// Admission times of `n` back-to-back callers, under paused time.
    async fn admissions(limit: RateLimit, method: reqwest::Method, n: usize) -> Vec<Duration> {
        let limiter = Limiter::new(&RateLimits {
            post: Some(limit),
            other: Some(limit),
        });
        let start = Instant::now();
        let far = start + Duration::from_secs(3600);
        let mut out = Vec::new();
        for _ in 0..n {
            limiter.acquire(&method, far).await.unwrap();
            out.push(Instant::now() - start);
        }
        out
    }

    /// The per-thread memory of recent keys gives the same key as the digest, for more
    /// credentials than it keeps, in any order, and never mixes kinds.
    #[test]
    fn limiter_keys_remembered_per_thread_are_the_digests() {
        let creds: Vec<String> = (0..10).map(|i| format!("api-key-{i}")).collect();
        for round in 0..3 {
            for (i, c) in creds.iter().enumerate().rev().skip(round) {
                assert_eq!(
                    LimiterKey::of("api_key", c),
                    LimiterKey::digest("api_key", c)
                );
                assert_eq!(LimiterKey::of("bearer", c), LimiterKey::digest("bearer", c));
                assert_ne!(LimiterKey::of("api_key", c), LimiterKey::of("bearer", c));
                if i > 0 {
                    assert_ne!(
                        LimiterKey::of("api_key", c),
                        LimiterKey::of("api_key", &creds[i - 1])
                    );
                }
            }
        }
        assert_eq!(LimiterKey::anonymous(), LimiterKey::digest("anonymous", ""));
        assert_eq!(
            LimiterKey::token_pair(),
            LimiterKey::digest("token_pair", crate::VANDAR_BEARER)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn no_closed_window_exceeds_the_limit() {
        let w = Duration::from_secs(3);
        for (limit, n) in [
            (RateLimit::new(30, w), 200),
            (RateLimit::new(100, w), 400),
            (RateLimit::new(30, w).with_burst(29), 120),
            (RateLimit::new(30, w).with_burst(1), 120),
            (RateLimit::new(1, w), 5),
        ] {
            let times = admissions(limit, reqwest::Method::POST, n).await;
            let most = max_in_window(&times, w);
            let max = limit.max_requests() as usize;
            // never above the limit; the emission interval is rounded up, so one below is fine
            assert!(most <= max && most + 1 >= max, "{limit:?}: {most}");
            // the burst goes at once
            let at_start = times.iter().filter(|t| t.is_zero()).count();
            assert_eq!(at_start, limit.burst() as usize, "{limit:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn post_and_other_methods_have_separate_lanes() {
        let limiter = Limiter::new(&RateLimits::vandar());
        let start = Instant::now();
        let far = start + Duration::from_secs(60);
        for _ in 0..30 {
            limiter.acquire(&reqwest::Method::POST, far).await.unwrap();
        }
        // the 30 POSTs of the window are spent; GETs still go at once
        for _ in 0..100 {
            limiter.acquire(&reqwest::Method::GET, far).await.unwrap();
        }
        assert_eq!(Instant::now(), start);
        // the 31st POST waits for the first to leave the window (3 s + 3 s / 16, on tokio's
        // millisecond timer)
        limiter.acquire(&reqwest::Method::POST, far).await.unwrap();
        let waited = Instant::now() - start;
        assert!(
            waited >= Duration::from_micros(3_187_500) && waited <= Duration::from_millis(3_188),
            "{waited:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_default_sustains_the_documented_rate() {
        let w = Duration::from_secs(3);
        for (limit, n) in [(RateLimit::new(30, w), 300), (RateLimit::new(100, w), 1000)] {
            let times = admissions(limit, reqwest::Method::POST, n).await;
            let max = limit.max_requests() as usize;
            let span = w + limit.margin();
            // batches of `max`, one window (+ margin, + tokio's 1 ms timer tick) apart
            for (i, t) in times.iter().enumerate() {
                let batch = times[i - i % max];
                assert_eq!(*t, batch, "{limit:?} admission {i}");
                if i >= max {
                    let gap = batch - times[i - max];
                    assert!(
                        gap >= span && gap <= span + Duration::from_millis(1),
                        "{gap:?}"
                    );
                }
            }
            // sustained: `max` per `per + margin`, at least 93 % of the limit (94.1 % with the
            // default margin of per / 16)
            let last = *times.last().unwrap();
            let batches = (n / max) as f64;
            let sustained =
                batches * max as f64 * w.as_secs_f64() / (last.as_secs_f64() + span.as_secs_f64());
            assert!(sustained >= 0.93 * max as f64, "{limit:?}: {sustained}");
            assert!(max_in_window(&times, w) <= max);
        }
    }

    /// The slot taken without waiting is a slot of the same lane: it counts against the
    /// window, and it is not given while the window is full, after a 429, or when a shared
    /// limiter must be asked.
    #[tokio::test(start_paused = true)]
    async fn a_free_slot_is_taken_at_once_and_counts() {
        let post = reqwest::Method::POST;
        let limiter = Limiter::new(&RateLimits {
            post: Some(RateLimit::new(2, Duration::from_secs(10))),
            other: None,
        });
        let start = Instant::now();
        assert_eq!(limiter.slot_now(&post), Some(start));
        assert_eq!(limiter.slot_now(&post), Some(start));
        assert_eq!(limiter.slot_now(&post), None, "the window holds two");
        assert!(
            limiter
                .acquire(&post, start + Duration::from_secs(1))
                .await
                .is_err(),
            "the slots taken at once count for the waiting path too"
        );
        assert_eq!(limiter.slot_now(&reqwest::Method::GET), Some(start));
        limiter.pause(Duration::from_secs(5));
        assert_eq!(limiter.slot_now(&reqwest::Method::GET), None, "paused");
        tokio::time::advance(Duration::from_secs(11)).await;
        assert!(limiter.slot_now(&post).is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn deadline_and_pause() {
        let limiter = Limiter::new(&RateLimits {
            post: Some(RateLimit::new(2, Duration::from_secs(10))),
            other: None,
        });
        let start = Instant::now();
        let soon = start + Duration::from_secs(1);
        limiter.acquire(&reqwest::Method::POST, soon).await.unwrap();
        limiter.acquire(&reqwest::Method::POST, soon).await.unwrap();
        // the next slot is 10 s away: refused at once, no waiting
        assert!(limiter.acquire(&reqwest::Method::POST, soon).await.is_err());
        assert_eq!(Instant::now(), start);
        // the same with a smoothed limit
        let smooth = Limiter::new(&RateLimits {
            post: Some(RateLimit::new(2, Duration::from_secs(10)).with_burst(1)),
            other: None,
        });
        smooth.acquire(&reqwest::Method::POST, soon).await.unwrap();
        assert!(smooth.acquire(&reqwest::Method::POST, soon).await.is_err());
        assert_eq!(Instant::now(), start);
        // a 429 pauses even the unlimited lane
        limiter.pause(Duration::from_secs(7));
        let granted = limiter
            .acquire(&reqwest::Method::GET, start + Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(granted - start, Duration::from_secs(7));
    }

    /// A shared limiter that grants at once while `up`, and fails otherwise.
    struct Switch {
        up: AtomicBool,
        asked: AtomicU64,
    }

    impl SharedRateLimiter for Switch {
        fn acquire(&self, _: SlotRequest) -> SharedLimiterFuture<'_, SlotGrant> {
            self.asked.fetch_add(1, AtomicOrdering::SeqCst);
            let up = self.up.load(AtomicOrdering::SeqCst);
            Box::pin(async move {
                if up {
                    Ok(SlotGrant::Granted {
                        wait: Duration::ZERO,
                    })
                } else {
                    Err(SharedLimiterError::new("down"))
                }
            })
        }

        fn fallback_limits(&self, limits: &RateLimits) -> RateLimits {
            RateLimits {
                post: limits
                    .post
                    .map(|_| RateLimit::new(2, Duration::from_secs(10))),
                other: limits.other,
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_shared_limiter_decides_and_the_local_one_is_the_fallback() {
        let switch = Arc::new(Switch {
            up: AtomicBool::new(true),
            asked: AtomicU64::new(0),
        });
        let shared: Arc<dyn SharedRateLimiter> = switch.clone();
        let limiters = Limiters::with_shared(RateLimits::vandar(), Some(shared));
        let limiter = limiters.get(LimiterKey::token_pair());
        let start = Instant::now();
        let far = start + Duration::from_secs(60);
        // while it answers, the shared limiter alone decides (the fallback allows 2 per 10 s)
        for _ in 0..5 {
            limiter.acquire(&reqwest::Method::POST, far).await.unwrap();
        }
        assert_eq!(Instant::now(), start);
        assert_eq!(switch.asked.load(AtomicOrdering::SeqCst), 5);
        // it fails: the local fallback knows the 5 POSTs just sent and waits a window
        switch.up.store(false, AtomicOrdering::SeqCst);
        limiter.acquire(&reqwest::Method::POST, far).await.unwrap();
        let waited = Instant::now() - start;
        assert!(waited >= Duration::from_secs(10), "{waited:?}");
        // every request asks the shared limiter first
        assert!(switch.asked.load(AtomicOrdering::SeqCst) >= 6);
        // a deadline before the fallback's slot fails without waiting
        let now = Instant::now();
        limiter.acquire(&reqwest::Method::POST, far).await.unwrap();
        let soon = Instant::now() + Duration::from_secs(1);
        assert!(limiter.acquire(&reqwest::Method::POST, soon).await.is_err());
        assert!(Instant::now() - now < Duration::from_secs(1));
    }

    /// A shared limiter that answers after `delay` (never, for `None`) with `answer`.
    struct Slow {
        delay: Option<Duration>,
        answer: Result<SlotGrant, SharedLimiterError>,
    }

    impl SharedRateLimiter for Slow {
        fn acquire(&self, _: SlotRequest) -> SharedLimiterFuture<'_, SlotGrant> {
            let (delay, answer) = (self.delay, self.answer.clone());
            Box::pin(async move {
                match delay {
                    Some(d) => tokio::time::sleep(d).await,
                    None => std::future::pending().await,
                }
                answer
            })
        }
    }

    /// Every wait on a shared limiter ends by the caller's deadline: one that never answers or
    /// fails late ends at the deadline, a grant further away than the deadline is refused at
    /// once (as the local lanes refuse one), and the same limiter with time to spare is waited
    /// for.
    #[tokio::test(start_paused = true)]
    async fn waits_on_a_shared_limiter_end_by_the_deadline() {
        let post = reqwest::Method::POST;
        let granted = |wait| Ok(SlotGrant::Granted { wait });
        let secs = Duration::from_secs;
        for (name, delay, answer, refused_after) in [
            ("never answers", None, granted(Duration::ZERO), secs(1)),
            (
                "fails after 5 s",
                Some(secs(5)),
                Err(SharedLimiterError::new("down")),
                secs(1),
            ),
            (
                "grants a slot 10 s away",
                Some(Duration::ZERO),
                granted(secs(10)),
                Duration::ZERO,
            ),
            (
                "grants late, 10 s away",
                Some(secs(5)),
                granted(secs(10)),
                secs(1),
            ),
        ] {
            let shared: Arc<dyn SharedRateLimiter> = Arc::new(Slow { delay, answer });
            let limiters = Limiters::with_shared(RateLimits::vandar(), Some(shared));
            let limiter = limiters.get(LimiterKey::token_pair());
            let start = Instant::now();
            let refused = limiter.acquire(&post, start + secs(1)).await;
            assert!(refused.is_err(), "{name}");
            assert_eq!(Instant::now() - start, refused_after, "{name}");
            // with time to spare, the same answer is waited for
            let start = Instant::now();
            let later = limiter.acquire(&post, start + secs(60)).await;
            if name == "never answers" {
                assert!(later.is_err());
                assert_eq!(Instant::now() - start, secs(60));
            } else {
                // a failure falls back to the local lane; a grant is slept
                let at = later.expect(name);
                assert!(at - start >= delay.unwrap_or_default(), "{name}");
            }
        }
    }

    #[test]
    fn the_config_carries_the_shared_limiter_to_the_runtime() {
        let switch: Arc<dyn SharedRateLimiter> = Arc::new(Switch {
            up: AtomicBool::new(true),
            asked: AtomicU64::new(0),
        });
        let config = crate::Config::builder()
            .shared_rate_limiter(switch)
            .build()
            .unwrap();
        assert!(config.shared_rate_limiter().is_some());
        assert!(format!("{config:?}").contains("shared_rate_limiter: Some(\"[configured]\")"));
        let plain = crate::Config::builder().build().unwrap();
        assert!(plain.shared_rate_limiter().is_none());
        assert_eq!(plain.rate_limits(), &RateLimits::vandar());
    }

    #[test]
    fn invalid_limits_are_rejected() {
        let w = Duration::from_secs(3);
        assert!(RateLimits::vandar().validate().is_ok());
        for bad in [
            RateLimit::new(0, w),
            RateLimit::new(30, Duration::ZERO),
            RateLimit::new(30, w).with_burst(31),
            RateLimit::new(30, w).with_burst(0),
        ] {
            let limits = RateLimits {
                post: Some(bad),
                other: None,
            };
            assert!(limits.validate().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn idle_limiters_are_dropped_and_busy_ones_kept() {
        let limiters = Limiters::with_shared(RateLimits::default(), None);
        let t0 = std::time::Instant::now();
        let busy = limiters.get_at(LimiterKey::of("source", "busy"), t0);
        for i in 0..MAX_IDLE_KEYS * 4 {
            limiters.get_at(LimiterKey::of("source", &format!("user-{i}")), t0);
        }
        let later = t0 + IDLE_AFTER + Duration::from_secs(1);
        for i in 0..64 {
            limiters.get_at(LimiterKey::of("source", &format!("new-{i}")), later);
        }
        assert!(
            limiters.len() < MAX_IDLE_KEYS,
            "{} limiters held",
            limiters.len()
        );
        // The one still held elsewhere is the same limiter (its pause and window survive).
        let again = limiters.get_at(LimiterKey::of("source", "busy"), later);
        assert!(Arc::ptr_eq(&busy, &again));
    }

    /// `get` remembers the last limiter of the thread: the same key of the same runtime gives
    /// the same limiter (through the map or the memory), another key or another runtime's
    /// `Limiters` never gets it, and a remembered limiter is not dropped as idle.
    #[test]
    fn the_last_limiter_of_a_thread_is_the_one_of_its_key_and_runtime() {
        let a = Limiters::with_shared(RateLimits::default(), None);
        let b = Limiters::with_shared(RateLimits::default(), None);
        let k1 = LimiterKey::of("api_key", "one");
        let k2 = LimiterKey::of("api_key", "two");
        let first = a.get(k1);
        assert!(Arc::ptr_eq(&first, &a.get(k1)));
        assert!(Arc::ptr_eq(
            &first,
            &a.get_at(k1, std::time::Instant::now())
        ));
        assert!(!Arc::ptr_eq(&first, &b.get(k1)));
        assert!(!Arc::ptr_eq(&first, &a.get(k2)));
        assert!(Arc::ptr_eq(&first, &a.get(k1)));
        // remembered by this thread (and held by nobody): survives the idle sweep
        drop(first);
        let t0 = std::time::Instant::now();
        let later = t0 + IDLE_AFTER + Duration::from_secs(1);
        let remembered = Arc::downgrade(&a.get(k1));
        for i in 0..MAX_IDLE_KEYS * 2 {
            a.get_at(LimiterKey::of("source", &format!("user-{i}")), later);
        }
        let kept = remembered
            .upgrade()
            .expect("the remembered limiter is kept");
        assert!(Arc::ptr_eq(&kept, &a.get(k1)));
    }
}
