//! One Redis connection (multiplexed, reconnecting) shared by the token store and the rate
//! limiter, with a timeout on every command and a short circuit breaker while Redis is down.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::error::RedisError;

/// Connection settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RedisOptions {
    /// The longest one command (or script) may take, reconnecting included (default 1 s).
    pub command_timeout: Duration,
    /// The longest one connection attempt may take (default 1 s).
    pub connect_timeout: Duration,
    /// Reconnection attempts after a lost connection before a command fails (default 1).
    pub reconnect_retries: usize,
    /// After Redis failed (unreachable or timed out), commands fail at once for this long
    /// instead of waiting for another timeout each (default 500 ms).
    pub retry_after_failure: Duration,
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self {
            command_timeout: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(1),
            reconnect_retries: 1,
            retry_after_failure: Duration::from_millis(500),
        }
    }
}

/// A connection to one Redis server, shared by [`RedisTokenStore`](crate::RedisTokenStore)
/// and [`RedisRateLimiter`](crate::RedisRateLimiter). Cheap to clone (one multiplexed
/// connection, reconnected in the background after a loss). `Debug` never shows the URL (it
/// may carry a password).
#[derive(Clone)]
pub struct RedisConnection {
    manager: ConnectionManager,
    options: RedisOptions,
    /// Milliseconds since `epoch` until which commands fail at once (0: not failing).
    failing_until: Arc<AtomicU64>,
    epoch: Instant,
}

impl fmt::Debug for RedisConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConnection")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl RedisConnection {
    /// A connection to `url` (`redis://host:port/db`, `redis://:password@host`, or
    /// `redis+unix:///path`) with the default [`RedisOptions`]. Connects on first use, so
    /// building it never waits for Redis; call it inside a tokio runtime.
    pub fn open(url: &str) -> Result<Self, RedisError> {
        Self::open_with(url, RedisOptions::default())
    }

    /// [`open`](Self::open) with explicit options.
    pub fn open_with(url: &str, options: RedisOptions) -> Result<Self, RedisError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(RedisError::NoRuntime);
        }
        let client = redis::Client::open(url).map_err(|e| RedisError::InvalidUrl {
            reason: e.category().to_owned(),
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.connect_timeout))
            .set_response_timeout(Some(options.command_timeout))
            .set_number_of_retries(options.reconnect_retries)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        let manager = ConnectionManager::new_lazy_with_config(client, config).map_err(|e| {
            RedisError::Unavailable {
                operation: "connect",
                reason: describe(&e),
            }
        })?;
        Ok(Self {
            manager,
            options,
            failing_until: Arc::new(AtomicU64::new(0)),
            epoch: Instant::now(),
        })
    }

    /// The options in use.
    pub fn options(&self) -> RedisOptions {
        self.options
    }

    /// Check that Redis answers.
    pub async fn ping(&self) -> Result<(), RedisError> {
        self.run("ping", |mut c| async move {
            redis::cmd("PING").query_async::<String>(&mut c).await
        })
        .await
        .map(|_| ())
    }

    /// Run one command with the timeout and the circuit breaker; map its failure.
    pub(crate) async fn run<T, F, Fut>(
        &self,
        operation: &'static str,
        f: F,
    ) -> Result<T, RedisError>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let now_ms = self.epoch.elapsed().as_millis() as u64;
        let until = self.failing_until.load(Ordering::Relaxed);
        if now_ms < until {
            return Err(RedisError::Unavailable {
                operation,
                reason: "it failed moments ago; not asking again yet".into(),
            });
        }
        let timeout = self.options.command_timeout;
        let outcome = tokio::time::timeout(timeout, f(self.manager.clone())).await;
        let result = match outcome {
            Ok(Ok(v)) => Ok(v),
            Err(_) => Err(RedisError::Timeout { operation, timeout }),
            Ok(Err(e)) if is_connection_error(&e) => Err(RedisError::Unavailable {
                operation,
                reason: describe(&e),
            }),
            Ok(Err(e)) => Err(RedisError::Command {
                operation,
                reason: describe(&e),
            }),
        };
        match &result {
            Err(e) if e.is_unavailable() => {
                let until = self.epoch.elapsed() + self.options.retry_after_failure;
                self.failing_until
                    .store(until.as_millis() as u64, Ordering::Relaxed);
            }
            _ => self.failing_until.store(0, Ordering::Relaxed),
        }
        result
    }
}

fn is_connection_error(e: &redis::RedisError) -> bool {
    e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_timeout()
        || e.is_unrecoverable_error()
}

/// A Redis error as text: its kind and detail (the redis crate never prints URLs or
/// passwords in them).
fn describe(e: &redis::RedisError) -> String {
    e.to_string()
}
