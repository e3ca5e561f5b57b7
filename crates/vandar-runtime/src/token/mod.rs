//! The Vandar token lifecycle as a protocol every replica follows: the stored record
//! ([`TokenRecord`]), the store it lives in ([`TokenStore`], a compare-and-swap register), the
//! rules as pure functions ([`protocol`]) and the manager that carries them out.
//!
//! See [`protocol`] for the states, the transitions, who may send a refresh token and when, and
//! what each failure leaves behind.

pub(crate) mod manager;
pub mod protocol;
pub mod record;
pub mod store;

pub use record::{Phase, SEED_GENERATION, TokenRecord, environment_of, fresh_revision};
pub use store::{MemoryTokenStore, Snapshot, StoreFuture, Swap, TokenStore, TokenStoreError};
