//! Where the token record lives: a compare-and-swap register. The protocol
//! ([`crate::token::protocol`]) is written once, in the runtime, on top of two operations, so
//! the in-memory store (several runtimes in one process) and a shared store (`vandar-redis`,
//! many processes) behave alike.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use crate::auth::TokenPair;
use crate::token::record::TokenRecord;

/// A boxed future returned by [`TokenStore`] methods.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, TokenStoreError>> + Send + 'a>>;

/// What a store holds now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// The stored record, if any.
    pub record: Option<TokenRecord>,
    /// The store's clock at the read (Redis `TIME`), or `None` for a store in this process
    /// (the runtime's clock is then the one clock).
    pub now: Option<SystemTime>,
}

/// What [`TokenStore::swap`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Swap {
    /// The record was written.
    Done {
        /// The store's clock at the write (`None`: a store in this process).
        now: Option<SystemTime>,
    },
    /// The stored revision was not the expected one; nothing was written. This is what is
    /// stored now.
    Conflict(Snapshot),
}

/// Where the current token record lives: a register with compare-and-swap.
///
/// Vandar rotates both tokens on every refresh and a refresh token works once, so the store
/// is what keeps every replica (runtimes in one process, or processes sharing a store) from
/// sending one refresh token twice and from losing a rotated pair. The rules are written once,
/// in the runtime (see the [`token`](crate::token) module's protocol); a store only has to
/// make [`swap`](Self::swap) atomic and, if several machines share it, report its own clock.
///
/// The runtime waits for each operation at most the attempt timeout
/// ([`Timeouts::per_attempt`](crate::Timeouts::per_attempt)), and a call waits for the first
/// load at most until its total timeout: a store that does not answer fails like one that
/// answers with an error, and never holds a call past its deadline. Its late answer is
/// dropped, so a [`swap`](Self::swap) may have been written or not: the protocol reads the
/// store again before relying on it.
///
/// Implement it with `Box::pin(async move { .. })` bodies. Error messages must not contain
/// tokens.
pub trait TokenStore: Send + Sync + 'static {
    /// The stored record, and the store's clock.
    fn load(&self) -> StoreFuture<'_, Snapshot>;

    /// Write `record` if the stored record's revision is `expected` (`None`: only if nothing is
    /// stored), atomically.
    fn swap<'a>(&'a self, expected: Option<u64>, record: &'a TokenRecord) -> StoreFuture<'a, Swap>;
}

impl<T: TokenStore + ?Sized> TokenStore for Arc<T> {
    fn load(&self) -> StoreFuture<'_, Snapshot> {
        (**self).load()
    }

    fn swap<'a>(&'a self, expected: Option<u64>, record: &'a TokenRecord) -> StoreFuture<'a, Swap> {
        (**self).swap(expected, record)
    }
}

/// A [`TokenStore`] failure (its message must not contain tokens). It may carry the store's
/// own typed error as its [`source`](std::error::Error::source) (e.g. `vandar-redis`'s
/// `RedisError`).
#[derive(Clone, Debug)]
pub struct TokenStoreError {
    message: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync + 'static>>,
}

impl TokenStoreError {
    /// A store error with a message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source: None,
        }
    }

    /// A store error wrapping the store's own error (reachable through `source()` and
    /// [`downcast_ref`](Self::downcast_ref); the message does not repeat it).
    pub fn from_source(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            message: message.into(),
            source: Some(Arc::new(source)),
        }
    }

    /// The store's own error, if it is a `E`.
    pub fn downcast_ref<E: std::error::Error + 'static>(&self) -> Option<&E> {
        self.source.as_deref().and_then(|s| s.downcast_ref::<E>())
    }
}

impl fmt::Display for TokenStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TokenStoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

impl PartialEq for TokenStoreError {
    fn eq(&self, other: &Self) -> bool {
        self.message == other.message
    }
}

impl Eq for TokenStoreError {}

/// The default [`TokenStore`]: the record lives in this process's memory. Every runtime built
/// from one [`Config`](crate::Config) shares it, so they refresh once between them.
#[derive(Default)]
pub struct MemoryTokenStore {
    record: Mutex<Option<TokenRecord>>,
}

impl MemoryTokenStore {
    /// A store seeded with `pair` (as configuration seeds an empty store).
    pub fn new(pair: TokenPair) -> Self {
        Self {
            record: Mutex::new(Some(TokenRecord::seed(pair))),
        }
    }

    /// An empty store (calls fail until a pair is installed).
    pub fn empty() -> Self {
        Self::default()
    }

    /// The record held now.
    pub fn record(&self) -> Option<TokenRecord> {
        self.record
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The pair held now.
    pub fn current(&self) -> Option<TokenPair> {
        self.record().map(|r| r.pair)
    }

    /// Forget everything (tests: a store that lost its data).
    pub fn clear(&self) {
        *self.record.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

impl fmt::Debug for MemoryTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryTokenStore")
            .field("record", &self.record())
            .finish()
    }
}

impl TokenStore for MemoryTokenStore {
    fn load(&self) -> StoreFuture<'_, Snapshot> {
        let record = self.record();
        Box::pin(async move { Ok(Snapshot { record, now: None }) })
    }

    fn swap<'a>(&'a self, expected: Option<u64>, record: &'a TokenRecord) -> StoreFuture<'a, Swap> {
        let mut held = self.record.lock().unwrap_or_else(PoisonError::into_inner);
        let answer = if held.as_ref().map(|r| r.revision) == expected {
            *held = Some(record.clone());
            Swap::Done { now: None }
        } else {
            Swap::Conflict(Snapshot {
                record: held.clone(),
                now: None,
            })
        };
        drop(held);
        Box::pin(async move { Ok(answer) })
    }
}
