//! The rate budget in Redis: GCRA in one Lua script per request, on the Redis server's clock.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use vandar_runtime::{
    LimiterKey, RateLimit, RateLimits, SharedLimiterFuture, SharedRateLimiter, SlotGrant,
    SlotRequest,
};

use crate::conn::RedisConnection;
use crate::error::RedisError;
use crate::keys::{Account, scope};
use crate::scripts;

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
/// Keys (`<scope>` is `<namespace>:<business>.<fingerprint>`, see [`Account`]):
/// `vandar:{<scope>:<credential key>}:post`, `...:other` (the theoretical arrival time, µs),
/// `...:pause` (a 429's pause, shared by every replica), and `vandar:{<scope>}:replicas`
/// (the live replicas' heartbeats). The credential key is the runtime's [`LimiterKey::hex`],
/// a SHA-256 digest, never the credential.
///
/// While Redis fails, the runtime falls back to its local limiter with
/// [`fallback_limits`](SharedRateLimiter::fallback_limits): the configured limits divided by
/// the number of live replicas. Each limiter writes a heartbeat (every second, ended after
/// 3 s, see [`with_heartbeat`](Self::with_heartbeat)) and counts the live ones; while Redis is
/// down the last count is used. [`with_replicas`](Self::with_replicas) fixes the count
/// instead.
///
/// `Debug` shows the key scope and the settings.
#[derive(Clone)]
pub struct RedisRateLimiter {
    conn: RedisConnection,
    scope: String,
    burst: u32,
    /// A count set by the application, used instead of the live one.
    fixed: Option<u32>,
    /// This replica's heartbeat (written even with a fixed count, so others count it).
    beat: Arc<Heartbeat>,
}

/// One replica's heartbeat: the live count last seen. Its task holds a weak reference and
/// ends (removing this replica's beat) at the first tick after the last clone is dropped.
struct Heartbeat {
    live: AtomicU32,
}

impl fmt::Debug for RedisRateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisRateLimiter")
            .field("scope", &self.scope)
            .field("burst", &self.burst)
            .field("replicas", &self.replicas())
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

/// The default heartbeat: every second, ended after 3 s.
const BEAT: Duration = Duration::from_secs(1);
const BEAT_TTL: Duration = Duration::from_secs(3);

impl RedisRateLimiter {
    /// The limiter of `account` (see [`Account`]) in the namespace `namespace` (1 to 64 of
    /// `A-Z a-z 0-9 _ - . :`). Starts this replica's heartbeat (call it inside a tokio
    /// runtime, as [`RedisConnection::open`]); it stops when the last clone is dropped.
    pub fn new(
        conn: RedisConnection,
        namespace: &str,
        account: &Account,
    ) -> Result<Self, RedisError> {
        let scope = scope(namespace, account)?;
        let beat = start_heartbeat(conn.clone(), &scope, BEAT, BEAT_TTL)?;
        Ok(Self {
            conn,
            scope,
            burst: 1,
            fixed: None,
            beat,
        })
    }

    /// How many requests may go at once across all processes (default 1, at most the
    /// limit's own burst). Each one more lowers the sustained rate by one request per window.
    pub fn with_burst(mut self, burst: u32) -> Self {
        self.burst = burst.max(1);
        self
    }

    /// A fixed number of processes sharing the budget, for the fallback while Redis fails
    /// (each then keeps to `1/replicas` of the limits), instead of the live count. This
    /// replica still writes its heartbeat, so the others count it.
    pub fn with_replicas(mut self, replicas: u32) -> Self {
        self.fixed = Some(replicas.max(1));
        self
    }

    /// Beat every `every`, the beat ending after `ttl` (default 1 s and 3 s): a replica that
    /// stops (or dies) is no longer counted after at most `ttl`. Restarts the heartbeat.
    pub fn with_heartbeat(mut self, every: Duration, ttl: Duration) -> Result<Self, RedisError> {
        let every = every.max(Duration::from_millis(10));
        let ttl = ttl.max(every.saturating_add(Duration::from_millis(1)));
        self.beat = start_heartbeat(self.conn.clone(), &self.scope, every, ttl)?;
        Ok(self)
    }

    /// The replica count the fallback divides by now: the fixed one, or the live
    /// heartbeats last counted (at least 1).
    pub fn replicas(&self) -> u32 {
        self.fixed
            .unwrap_or_else(|| self.beat.live.load(Ordering::Relaxed))
            .max(1)
    }

    fn key(&self, key: LimiterKey, what: &str) -> String {
        format!("{}:{}}}:{what}", self.scope, key.hex())
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

/// Beat once now and then every `every` in a task that ends with the returned
/// [`Heartbeat`]; the live count lands in it. Needs a tokio runtime.
fn start_heartbeat(
    conn: RedisConnection,
    scope: &str,
    every: Duration,
    ttl: Duration,
) -> Result<Arc<Heartbeat>, RedisError> {
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| RedisError::NoRuntime)?;
    let key = format!("{scope}}}:replicas");
    let id = uuid::Uuid::new_v4().to_string();
    let ttl_ms = ttl.as_millis().max(1).to_string();
    Ok(Arc::new_cyclic(|me: &Weak<Heartbeat>| {
        let me = me.clone();
        runtime.spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let answer: Result<i64, RedisError> = conn
                    .run("replica heartbeat", |mut c| {
                        let mut inv = scripts::HEARTBEAT.prepare_invoke();
                        inv.key(&key).arg(&id).arg(&ttl_ms);
                        async move { inv.invoke_async(&mut c).await }
                    })
                    .await;
                let Some(beat) = me.upgrade() else { break };
                match answer {
                    Ok(n) => {
                        let n = u32::try_from(n).unwrap_or(u32::MAX).max(1);
                        if beat.live.swap(n, Ordering::Relaxed) != n {
                            tracing::debug!(replicas = n, "live replicas sharing the rate budget");
                        }
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "replica heartbeat failed; keeping the last count")
                    }
                }
            }
            // Leaving: others stop counting this replica at once (best effort).
            let _ = conn
                .run("replica leave", |mut c| {
                    let mut inv = scripts::LEAVE.prepare_invoke();
                    inv.key(&key).arg(&id);
                    async move { inv.invoke_async::<i64>(&mut c).await }
                })
                .await;
        });
        Heartbeat {
            live: AtomicU32::new(1),
        }
    }))
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
            post: limits.post.map(|l| share(l, self.replicas())),
            other: limits.other.map(|l| share(l, self.replicas())),
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
