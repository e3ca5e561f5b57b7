//! Many replicas, one Vandar token pair, one rate budget: coordination through Redis.
//!
//! A business that runs its backend as several processes shares one Vandar token pair and
//! one rate budget between them. Vandar rotates **both** tokens on every refresh, so two
//! processes refreshing with the same refresh token lock one of them out until a new pair is
//! issued in the dashboard; and the documented limits (30 POST and 100 other requests per
//! 3 s) are per credential, not per process. This crate provides:
//!
//! * [`RedisTokenStore`]: the pair in Redis, with a **refresh lease**. Of N processes holding
//!   an expiring pair exactly one refreshes; the others wait for it and take the pair it
//!   stored. A holder that dies loses the lease when it expires (the runtime's total timeout
//!   plus a slack), and another process refreshes. The new pair replaces the stored one only
//!   if that is still the pair that was refreshed (compare-and-set), so a slow holder never
//!   overwrites a newer pair. A refresh token whose refresh was refused, or whose answer was
//!   lost, is marked spent, so no other process sends it again.
//! * [`RedisRateLimiter`]: the rate budget in Redis, GCRA in one atomic Lua script per request,
//!   keyed per credential ([`vandar_runtime::LimiterKey`]) and method class, so the sum over
//!   every process stays within the limits with the local limiter's safety margin.
//!
//! Both share one [`RedisConnection`] (the `redis` crate's multiplexed `ConnectionManager`
//! on tokio: one socket per process, reconnected in the background; every command has a
//! timeout).
//!
//! # The protocol
//!
//! Every step is one Lua script, so it is atomic on the Redis server:
//!
//! * **Begin** (`begin_refresh`): if the stored pair's refresh-token fingerprint (128 bits of
//!   SHA-256) differs from the caller's, hand the stored pair back (`Newer`); if the caller's
//!   refresh token is marked spent, say so (`Spent`); else `SET lease <random id> NX PX
//!   <total timeout + slack>`: granted, or the caller polls (every 25 ms, jittered) until the
//!   holder finishes, the lease expires, or its own wait (the total timeout) ends
//!   ([`RedisError::LeaseWait`]).
//! * **Finish** (`finish_refresh`): compare-and-set: replace the pair only if the stored
//!   fingerprint is still the refreshed one (or nothing is stored), else return the stored,
//!   newer pair; delete the lease only if it still holds this holder's id.
//! * **Abandon** (`abandon_refresh`): delete the lease if it is this holder's; after a
//!   rejection or a lost answer, mark the refresh token's fingerprint spent.
//! * **Rate limit**: GCRA with reservation on the server's `TIME` (see
//!   [`RedisRateLimiter`]); a 429's pause is a shared key every reservation respects.
//!
//! # When Redis is down
//!
//! * Calls with a valid access token keep working: the runtime holds the pair in memory and
//!   only asks the store when a refresh is due.
//! * A refresh fails closed: without the lease nothing is sent, and the call fails with
//!   `Error::Auth(AuthError::Store { .. })`, whose text names the [`RedisError`] (connection
//!   loss is [`RedisError::Unavailable`] or [`RedisError::Timeout`]). While the access token is
//!   still valid (a refresh is due an hour ahead), calls keep using it.
//! * If Redis fails after a refresh was sent, the new pair is kept in memory (the only copy)
//!   and used; it is not sent again. Other processes find the old pair when Redis is back and
//!   their refresh is refused: store the pair again with `Runtime::set_token_pair`.
//! * The rate limiter falls back to the runtime's local limiter, which knows what this
//!   process sent, with the limits divided by [`RedisRateLimiter::with_replicas`]. It asks
//!   Redis again for the next request (after a failure, at most every 500 ms).
//! * Nothing is ever sent twice because Redis failed: no Redis failure leads to a retry.
//!
//! # Example
//!
//! (With the facade: `vandar::redis::..`, feature `redis`.)
//!
//! ```no_run
//! use vandar_redis::{RedisConnection, RedisRateLimiter, RedisTokenStore};
//! use vandar_runtime::{Config, Runtime, TokenPair};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let redis = RedisConnection::open("redis://127.0.0.1:6379")?;
//! let store = RedisTokenStore::new(redis.clone(), "my-shop")?;
//! // First deployment only: the dashboard-issued pair (kept if one is stored already).
//! store
//!     .seed(&TokenPair::issued_at("access", "refresh", std::time::SystemTime::now()))
//!     .await?;
//! let runtime = Runtime::new(
//!     Config::builder()
//!         .token_store(store)
//!         .shared_rate_limiter(RedisRateLimiter::new(redis, "my-shop")?.with_replicas(4))
//!         .build()?,
//! )?;
//! # let _ = runtime;
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod conn;
mod error;
mod limiter;
mod scripts;
mod store;

pub use conn::{RedisConnection, RedisOptions};
pub use error::RedisError;
pub use limiter::RedisRateLimiter;
pub use store::RedisTokenStore;
