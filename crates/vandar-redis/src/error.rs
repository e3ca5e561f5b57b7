//! The crate's one error type.

use std::time::Duration;

use vandar_runtime::SharedLimiterError;
use vandar_runtime::token::TokenStoreError;

/// What went wrong with Redis. No variant carries a token or the Redis URL.
///
/// Through the SDK, a token-store failure reaches a call as
/// `vandar::Error::Auth(AuthError::Store { reason })` (the reason is this error's text); the
/// store's own methods return it as the [`source`](std::error::Error::source) of a
/// [`TokenStoreError`] (see [`TokenStoreError::downcast_ref`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RedisError {
    /// The Redis URL is malformed.
    #[error("invalid redis URL: {reason}")]
    InvalidUrl {
        /// Why (the URL itself is not repeated: it may carry a password).
        reason: String,
    },
    /// [`RedisConnection::open`](crate::RedisConnection::open) or
    /// [`RedisRateLimiter::new`](crate::RedisRateLimiter::new) was called outside a tokio
    /// runtime (they run a background task on it).
    #[error("a redis connection or rate limiter must be made inside a tokio runtime")]
    NoRuntime,
    /// The namespace is empty, too long, or has characters other than `A-Z a-z 0-9 _ - . :`.
    #[error(
        "invalid namespace `{namespace}`: use 1 to 64 of the characters A-Z a-z 0-9 _ - . : (it names Redis keys; never put a token in it)"
    )]
    InvalidNamespace {
        /// The namespace given.
        namespace: String,
    },
    /// Redis could not be reached, or the connection was lost (the command may or may not
    /// have run).
    #[error("redis is unavailable ({operation}): {reason}")]
    Unavailable {
        /// What was being done.
        operation: &'static str,
        /// The connection error.
        reason: String,
    },
    /// Redis did not answer in time.
    #[error("redis did not answer ({operation}) within {timeout:?}")]
    Timeout {
        /// What was being done.
        operation: &'static str,
        /// The command timeout.
        timeout: Duration,
    },
    /// Redis answered with an error (e.g. scripting disabled, out of memory, wrong type).
    #[error("redis refused {operation}: {reason}")]
    Command {
        /// What was being done.
        operation: &'static str,
        /// Redis's error.
        reason: String,
    },
    /// A stored value is not what this crate writes (another program uses the keys?).
    #[error("the value stored in redis for {what} is unreadable")]
    Corrupt {
        /// Which value.
        what: &'static str,
    },
    /// The account given to a store or limiter is malformed.
    #[error("invalid Vandar account for redis keys: {reason}")]
    InvalidAccount {
        /// Why.
        reason: String,
    },
    /// The sealing key is malformed (its material is never repeated).
    #[error("invalid sealing key: {reason}")]
    InvalidSealingKey {
        /// Why.
        reason: &'static str,
    },
    /// The stored token record is sealed with a key this process does not have.
    #[error(
        "the token record in redis is sealed with the key named `{stored}`, but this process has {}; configure the key `{stored}` (or install a new pair with `Runtime::set_token_pair` / `vandar token set`)",
        configured.as_ref().map_or_else(|| "no sealing key".to_owned(), |k| format!("the key `{k}`"))
    )]
    SealedWithAnotherKey {
        /// The name of the key the record was sealed with.
        stored: String,
        /// The name of this process's key, if any.
        configured: Option<String>,
    },
    /// The stored token record did not open with the key of its name: other key material
    /// under the same name, or the record was altered.
    #[error(
        "the token record in redis did not open with the sealing key `{key}`: the key material differs from the one that sealed it, or the record was altered"
    )]
    Unseal {
        /// The key's name.
        key: String,
    },
}

impl RedisError {
    /// Whether Redis was unreachable or did not answer in time (rather than answering with
    /// an error): connection loss.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable { .. } | Self::Timeout { .. })
    }
}

impl From<RedisError> for TokenStoreError {
    fn from(e: RedisError) -> Self {
        TokenStoreError::from_source(e.to_string(), e)
    }
}

impl From<RedisError> for SharedLimiterError {
    fn from(e: RedisError) -> Self {
        SharedLimiterError::new(e.to_string())
    }
}
