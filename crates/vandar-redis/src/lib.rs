//! Many replicas, one Vandar token pair, one rate budget: coordination through Redis.
//!
//! A business that runs its backend as several processes shares one Vandar token pair and
//! one rate budget between them. Vandar rotates **both** tokens on every refresh and a
//! refresh token works once, so the replicas must agree on who refreshes; and the documented
//! limits (30 POST and 100 other requests per 3 s) are per credential, not per process. This
//! crate provides:
//!
//! * [`RedisTokenStore`]: the runtime's token record ([`vandar_runtime::token::TokenRecord`])
//!   in Redis, as the [`TokenStore`](vandar_runtime::token::TokenStore) of the runtime's
//!   protocol: a compare-and-swap register whose clock is Redis's `TIME`. Optionally sealed
//!   with a [`SealingKey`].
//! * [`RedisRateLimiter`]: the rate budget in Redis, GCRA in one atomic Lua script per request,
//!   keyed per credential ([`vandar_runtime::LimiterKey`]) and method class, so the sum over
//!   every process stays within the limits with the local limiter's safety margin; its
//!   fallback while Redis is down divides the limits by the live replicas (heartbeats).
//!
//! Both share one [`RedisConnection`]: one server (`redis://`, `rediss://` over rustls), a
//! master found through Sentinel, or a Cluster (see [`RedisConnectionBuilder::url`]); every
//! command has a timeout.
//!
//! # The protocol, and what Redis adds
//!
//! The token protocol (states, who may send a refresh token and when, what each failure
//! leaves behind) is written once, in the runtime: see [`vandar_runtime::token::protocol`].
//! A store only makes `swap` atomic and reports its clock. Redis adds:
//!
//! * **Atomicity**: `swap` is one Lua script: it compares the hash's `rev` field with the
//!   expected revision (an absent key when none is expected), writes `rev` and `blob`
//!   together, and returns `TIME`; on a conflict it returns the stored `rev`/`blob` and `TIME`
//!   instead. `load` is one script too (the record and `TIME`). A script runs whole or not at
//!   all, so a replica that dies mid-call leaves either the old record or the new one.
//! * **One clock**: every expiry, lease and send deadline is compared with Redis's `TIME`,
//!   never with a replica's own clock.
//! * **Key separation**: keys are derived from your namespace *and* the [`Account`] (business
//!   slug plus a SHA-256 fingerprint of the API base URL), so two accounts, or staging and
//!   production, given one namespace never share a pair or a budget. Every key of a script
//!   shares one Cluster hash tag. The `Account` is what you name; the record also names the
//!   environment the runtime really talks to (its token endpoint's base URL), so a runtime
//!   pointed at the sandbox with a store made for `Account::production` (or the reverse)
//!   never uses or sends the other environment's pair: its calls fail with
//!   `AuthError::EnvironmentMismatch`, naming both.
//! * **Sealing** (optional): the record is sealed with XChaCha20-Poly1305, a fresh random
//!   nonce per write, the revision and the key's name as associated data; a record sealed
//!   with another key is [`RedisError::SealedWithAnotherKey`], never garbage.
//!
//! # When Redis is down
//!
//! * Calls with a valid access token keep working: the runtime holds the record in memory.
//! * A refresh needs the store (the "about to send" marker is a `swap`): without Redis
//!   nothing is sent, and a call that needs a refresh fails with
//!   `Error::Auth(AuthError::Store { .. })`, whose text names the [`RedisError`].
//! * The rate limiter falls back to the runtime's local limiter with the limits divided by
//!   the replicas last counted ([`RedisRateLimiter::replicas`]).
//! * Redis then holds the only copy of each rotated pair: keep its persistence on (AOF).
//!   If it loses its data anyway, the runtime writes back the newest record a replica holds.
//!
//! # Example
//!
//! (With the facade: `vandar::redis::..`, feature `redis`.)
//!
//! ```no_run
//! use vandar_redis::{Account, RedisConnection, RedisRateLimiter, RedisTokenStore, SealingKey};
//! use vandar_runtime::{Config, Runtime};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! // redis://, rediss://, redis+sentinel://s1:26379,s2:26379/mymaster, redis+cluster://n1,n2
//! let redis = RedisConnection::open(&std::env::var("REDIS_URL")?)?;
//! let account = Account::production("my-business")?;
//! let store = RedisTokenStore::new(redis.clone(), "shop-backend", &account)?
//!     .with_sealing_key(SealingKey::from_base64("2026-12", &std::env::var("TOKEN_SEAL_KEY")?)?);
//! let runtime = Runtime::new(
//!     Config::builder()
//!         .token_store(store)
//!         .shared_rate_limiter(RedisRateLimiter::new(redis, "shop-backend", &account)?)
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
mod keys;
mod limiter;
mod scripts;
mod seal;
mod store;

pub use conn::{RedisConnection, RedisConnectionBuilder, RedisOptions};
pub use error::RedisError;
pub use keys::{Account, PRODUCTION_BASE_URL};
pub use limiter::RedisRateLimiter;
pub use seal::SealingKey;
pub use store::RedisTokenStore;
