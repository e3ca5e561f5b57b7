//! The rate budget in Redis: GCRA in one Lua script per request, on the Redis server's clock.

use std::fmt;
use std::time::Duration;

use vandar_runtime::{
    LimiterKey, RateLimit, RateLimits, SharedLimiterFuture, SharedRateLimiter, SlotGrant,
    SlotRequest,
};

use crate::conn::RedisConnection;
use crate::error::RedisError;
use crate::scripts;
use crate::store::check_namespace;

/// A rate budget shared by every process of one Vandar account: implements the runtime's
/// [`SharedRateLimiter`] with GCRA in Redis. Install it with
/// `Config::builder().shared_rate_limiter(..)`.
///
/// For a limit of `max` requests per `per` with margin `m` (the runtime's [`RateLimit`]:
/// 30 POST and 100 other per 3 s, `m = per / 16`) and a burst `b` (default 1), the emission
/// interval is `T = ceil((per + m) / (max - b))`: at most `max` requests in any window of
/// `per + m`, the local sliding window's guarantee, so requests may reach Vandar up to `m` out
/// of step and still keep within its limit. The sustained rate is `(max - b) / (per + m)`:
/// 91 % of the POST limit and 93 % of the other limit with `b = 1`. Each request reserves its
/// slot atomically and sleeps until it (no polling); the Redis server's `TIME` is the one clock,
/// so the replicas' clocks do not matter.
///
/// Keys: `vandar:{<ns>:<credential key>}:post`, `...:other` (the theoretical arrival time, µs)
/// and `...:pause` (a 429's pause, shared by every replica). The credential key is the
/// runtime's [`LimiterKey::hex`], a SHA-256 digest, never the credential.
///
/// While Redis fails, the runtime falls back to its local limiter with
/// [`fallback_limits`](SharedRateLimiter::fallback_limits): the configured limits divided by
/// [`with_replicas`](Self::with_replicas) (default 1).
#[derive(Clone)]
pub struct RedisRateLimiter {
    conn: RedisConnection,
    namespace: String,
    burst: u32,
    replicas: u32,
}

impl fmt::Debug for RedisRateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisRateLimiter")
            .field("namespace", &self.namespace)
            .field("burst", &self.burst)
            .field("replicas", &self.replicas)
            .finish_non_exhaustive()
    }
}

/// GCRA parameters (µs): the emission interval and the tolerance.
pub(crate) fn gcra(limit: &RateLimit, burst: u32) -> (u64, u64) {
    let max = limit.max_requests().max(1);
    let burst = burst
        .min(limit.burst())
        .clamp(1, max.saturating_sub(1).max(1));
    let window = limit
        .per()
        .saturating_add(limit.margin())
        .as_micros()
        .max(1);
    let interval = if max == 1 {
        window + 1
    } else {
        window.div_ceil(u128::from(max - burst))
    };
    let interval = u64::try_from(interval).unwrap_or(u64::MAX / 4);
    let tolerance = interval.saturating_mul(u64::from(burst - 1));
    (interval, tolerance)
}

impl RedisRateLimiter {
    /// The limiter of the Vandar account named `namespace` (1 to 64 of
    /// `A-Z a-z 0-9 _ - . :`).
    pub fn new(conn: RedisConnection, namespace: &str) -> Result<Self, RedisError> {
        check_namespace(namespace)?;
        Ok(Self {
            conn,
            namespace: namespace.to_owned(),
            burst: 1,
            replicas: 1,
        })
    }

    /// How many requests may go at once across all processes (default 1, at most the
    /// limit's own burst). Each one more lowers the sustained rate by one request per window.
    pub fn with_burst(mut self, burst: u32) -> Self {
        self.burst = burst.max(1);
        self
    }

    /// How many processes share the budget, for the fallback while Redis fails: each then
    /// keeps to `1/replicas` of the limits (default 1: each keeps to the whole limits, so
    /// the sum may exceed them until Redis is back; a 429 is still honoured).
    pub fn with_replicas(mut self, replicas: u32) -> Self {
        self.replicas = replicas.max(1);
        self
    }

    fn key(&self, key: LimiterKey, what: &str) -> String {
        format!("vandar:{{{}:{}}}:{what}", self.namespace, key.hex())
    }

    /// Reserve a slot (see [`SharedRateLimiter::acquire`]).
    pub async fn reserve(&self, request: SlotRequest) -> Result<SlotGrant, RedisError> {
        let (interval, tolerance) = gcra(&request.limit, self.burst);
        let max_wait = u64::try_from(request.max_wait.as_micros()).unwrap_or(u64::MAX / 4);
        let (granted, wait): (i64, i64) = self
            .conn
            .run("rate limit", |mut c| {
                let mut inv = scripts::GCRA.prepare_invoke();
                inv.key(self.key(request.key, request.class.as_str()))
                    .key(self.key(request.key, "pause"))
                    .arg(interval)
                    .arg(tolerance)
                    .arg(max_wait);
                async move { inv.invoke_async(&mut c).await }
            })
            .await?;
        let wait = Duration::from_micros(wait.max(0) as u64);
        Ok(if granted == 1 {
            SlotGrant::Granted { wait }
        } else {
            SlotGrant::TooLate { next_in: wait }
        })
    }

    /// Hold back every process using `key` for `pause` (see
    /// [`SharedRateLimiter::pause`]).
    pub async fn hold_back(&self, key: LimiterKey, pause: Duration) -> Result<(), RedisError> {
        let micros = u64::try_from(pause.as_micros()).unwrap_or(u64::MAX / 4);
        let _: i64 = self
            .conn
            .run("rate limit pause", |mut c| {
                let mut inv = scripts::PAUSE.prepare_invoke();
                inv.key(self.key(key, "pause")).arg(micros);
                async move { inv.invoke_async(&mut c).await }
            })
            .await?;
        Ok(())
    }
}

fn share(limit: RateLimit, replicas: u32) -> RateLimit {
    let max = (limit.max_requests() / replicas).max(1);
    let burst = (limit.burst() / replicas).clamp(1, max);
    RateLimit::new(max, limit.per())
        .with_margin(limit.margin())
        .with_burst(burst)
}

impl SharedRateLimiter for RedisRateLimiter {
    fn acquire(&self, request: SlotRequest) -> SharedLimiterFuture<'_, SlotGrant> {
        Box::pin(async move { Ok(self.reserve(request).await?) })
    }

    fn pause(&self, key: LimiterKey, pause: Duration) -> SharedLimiterFuture<'_, ()> {
        Box::pin(async move { Ok(self.hold_back(key, pause).await?) })
    }

    fn fallback_limits(&self, limits: &RateLimits) -> RateLimits {
        RateLimits {
            post: limits.post.map(|l| share(l, self.replicas)),
            other: limits.other.map(|l| share(l, self.replicas)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GCRA's bound, `burst + floor(L / T)` in any closed window of length `L`, for the
    /// parameters this crate derives.
    #[test]
    fn parameters_keep_every_window_within_the_limit() {
        let w = Duration::from_secs(3);
        for (limit, burst) in [
            (RateLimit::new(30, w), 1),
            (RateLimit::new(30, w), 5),
            (RateLimit::new(100, w), 1),
            (RateLimit::new(100, w), 100),
            (RateLimit::new(1, w), 1),
            (RateLimit::new(2, w), 2),
        ] {
            let (t, tau) = gcra(&limit, burst);
            let b = tau / t + 1;
            let span = (limit.per() + limit.margin()).as_micros() as u64;
            assert!(
                b + span / t <= u64::from(limit.max_requests()),
                "{limit:?} {burst}"
            );
            // and within one request of it (no needless waste)
            assert!(
                b + span / t + 1 >= u64::from(limit.max_requests()),
                "{limit:?} {burst}"
            );
        }
        let (t, tau) = gcra(&RateLimit::new(30, w), 1);
        assert_eq!((t, tau), (109_914, 0));
        // sustained POST rate: 91 % of 30 per 3 s
        let rate = 3_000_000.0 / t as f64 / 30.0;
        assert!(rate > 0.90 && rate < 0.92, "{rate}");
    }

    #[test]
    fn fallback_divides_the_limits() {
        let w = Duration::from_secs(3);
        let limits = RateLimits::vandar();
        let post = share(limits.post.unwrap(), 4);
        assert_eq!((post.max_requests(), post.burst()), (7, 7));
        assert_eq!(post.margin(), w / 16);
        let other = share(limits.other.unwrap(), 4);
        assert_eq!(other.max_requests(), 25);
    }
}
