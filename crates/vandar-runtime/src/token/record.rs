//! The stored token record: the pair, its generation, and the refresh phase that coordinates
//! every replica. Stores keep it as an opaque blob ([`TokenRecord::to_bytes`]) plus its
//! revision, which is what their compare-and-swap compares.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::auth::TokenPair;
use crate::secret::Secret;

/// Where the refresh of one generation stands. Shared by every replica through the store; the
/// rules for moving between phases are in [`crate::token::protocol`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    /// Nobody is refreshing; the pair's refresh token has not been sent.
    Ready,
    /// `holder` may refresh, until `until` (store clock). Nothing has been sent yet, so once
    /// `until` has passed another replica may take the lease over.
    Leased {
        /// The replica holding the lease.
        holder: String,
        /// When the lease ends (store clock).
        until: SystemTime,
    },
    /// "About to send": `holder` may be sending the refresh token now. From this phase on no
    /// other replica ever sends this refresh token; only the holder's answer can move the
    /// record on. After `until` the others consider the token spent ([`Phase::Uncertain`]).
    Sending {
        /// The replica that may send.
        holder: String,
        /// The latest moment the holder may still be waiting for its answer (store clock).
        until: SystemTime,
    },
    /// The refresh token was (or may have been) sent and no rotated pair arrived: it is
    /// probably spent and is never sent again. Only a newer generation ends this (the holder's
    /// late answer, or a pair installed by an operator).
    Uncertain {
        /// The replica that held the send.
        holder: String,
    },
    /// Vandar refused the refresh token (HTTP `status`). Only a newer generation ends this.
    Rejected {
        /// The refusal's HTTP status.
        status: u16,
    },
}

/// What a [`TokenStore`](crate::TokenStore) keeps: one pair with its generation and the phase
/// of its refresh. `Debug` never shows a token.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// A fresh random id on every write (no ABA even after a store lost its data); the store's
    /// compare-and-swap compares it.
    pub revision: u64,
    /// Bumped only when a new pair is stored (a rotation, or an install); a replica adopts a
    /// record only if its generation is higher than the one it holds.
    pub generation: u64,
    /// The pair of this generation. Its expiry times are on the store's clock (measured from
    /// when the refresh was sent), never on one replica's or on the server's `Date`.
    pub pair: TokenPair,
    /// Where the refresh of this generation stands.
    pub phase: Phase,
    /// No refresh before this time (store clock): set after an answer that rotated nothing
    /// (a 500, a 429 with `Retry-After`).
    pub not_before: Option<SystemTime>,
    /// The Vandar environment the pair belongs to: the token endpoint's base URL (see
    /// [`environment_of`]) of the runtime that seeded or installed it. A runtime never adopts
    /// a record of another environment (a sandbox runtime never sends a production token).
    /// `None`: a record written before this field existed; any runtime adopts it and names
    /// its own environment on its next write.
    pub environment: Option<String>,
}

impl fmt::Debug for TokenRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRecord")
            .field("revision", &self.revision)
            .field("generation", &self.generation)
            .field("pair", &self.pair)
            .field("phase", &self.phase)
            .field("not_before", &self.not_before)
            .field("environment", &self.environment)
            .finish()
    }
}

/// The generation of a pair seeded from configuration into an empty store: the lowest, so any
/// pair a replica has seen since wins over it.
pub const SEED_GENERATION: u64 = 1;

impl TokenRecord {
    /// A record for a pair seeded into an empty store (generation [`SEED_GENERATION`]).
    pub fn seed(pair: TokenPair) -> Self {
        Self {
            revision: fresh_revision(),
            generation: SEED_GENERATION,
            pair,
            phase: Phase::Ready,
            not_before: None,
            environment: None,
        }
    }

    /// The same record, naming the environment it belongs to (see
    /// [`environment`](Self::environment)).
    pub fn in_environment(mut self, environment: impl Into<String>) -> Self {
        self.environment = Some(environment.into());
        self
    }

    /// A record for a pair an operator installs (`Runtime::set_token_pair`, `vandar token
    /// set`): its generation beats every earlier one, including generations a replica still
    /// holds after the store lost its data, because it is derived from the store's clock
    /// (milliseconds × 1024) as well as from the highest generation seen.
    pub fn install(pair: TokenPair, now: SystemTime, highest_seen: u64) -> Self {
        let millis = now
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_millis()
            .min(u128::from(u64::MAX >> 11)) as u64;
        Self {
            revision: fresh_revision(),
            generation: (millis << 10).max(highest_seen.saturating_add(1)),
            pair,
            phase: Phase::Ready,
            not_before: None,
            environment: None,
        }
    }

    /// The same record with this phase, written as revision `revision`.
    pub fn with_phase(&self, phase: Phase, revision: u64) -> Self {
        Self {
            revision,
            phase,
            ..self.clone()
        }
    }

    /// The next generation: a rotated pair, ready, written as revision `revision`.
    pub fn rotated(&self, pair: TokenPair, revision: u64) -> Self {
        Self {
            revision,
            generation: self.generation.saturating_add(1),
            pair,
            phase: Phase::Ready,
            not_before: None,
            environment: self.environment.clone(),
        }
    }

    /// Serialize for a store (JSON; the tokens are in it: a store that may be read by others
    /// should seal it, as `vandar-redis` can).
    pub fn to_bytes(&self) -> Vec<u8> {
        let wire = Wire {
            revision: self.revision,
            generation: self.generation,
            access_token: self.pair.access_token.expose(),
            refresh_token: self.pair.refresh_token.expose(),
            access_expires_ms: millis(self.pair.access_expires_at),
            refresh_expires_ms: millis(self.pair.refresh_expires_at),
            phase: self.phase.clone(),
            not_before_ms: self.not_before.map(millis),
            environment: self.environment.as_deref(),
        };
        serde_json::to_vec(&wire).unwrap_or_default()
    }

    /// Parse what [`to_bytes`](Self::to_bytes) wrote. The error names no token.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let w: OwnedWire = serde_json::from_slice(bytes).map_err(|e| {
            format!(
                "the stored token record is not readable ({})",
                e.classify_str()
            )
        })?;
        Ok(Self {
            revision: w.revision,
            generation: w.generation,
            pair: TokenPair {
                access_token: Secret::new(w.access_token),
                refresh_token: Secret::new(w.refresh_token),
                access_expires_at: from_millis(w.access_expires_ms),
                refresh_expires_at: from_millis(w.refresh_expires_ms),
            },
            phase: w.phase,
            not_before: w.not_before_ms.map(from_millis),
            environment: w.environment,
        })
    }
}

/// A new write id for a record.
pub fn fresh_revision() -> u64 {
    uuid::Uuid::new_v4().as_u64_pair().0
}

trait ClassifyStr {
    fn classify_str(&self) -> &'static str;
}

impl ClassifyStr for serde_json::Error {
    fn classify_str(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "read error",
            serde_json::error::Category::Syntax => "not JSON",
            serde_json::error::Category::Data => "unexpected fields",
            serde_json::error::Category::Eof => "cut off",
        }
    }
}

fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis()
        .min(u128::from(u64::MAX)) as u64
}

fn from_millis(ms: u64) -> SystemTime {
    UNIX_EPOCH
        .checked_add(Duration::from_millis(ms))
        .unwrap_or(UNIX_EPOCH)
}

#[derive(Serialize)]
struct Wire<'a> {
    revision: u64,
    generation: u64,
    access_token: &'a str,
    refresh_token: &'a str,
    access_expires_ms: u64,
    refresh_expires_ms: u64,
    phase: Phase,
    not_before_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    environment: Option<&'a str>,
}

#[derive(Deserialize)]
struct OwnedWire {
    revision: u64,
    generation: u64,
    access_token: String,
    refresh_token: String,
    access_expires_ms: u64,
    refresh_expires_ms: u64,
    phase: Phase,
    not_before_ms: Option<u64>,
    #[serde(default)]
    environment: Option<String>,
}

/// The environment of a token endpoint's base URL, as records name it: scheme, lowercased
/// host, port (the scheme's default when none is given) and path without a trailing slash;
/// no user info, query or fragment. `https://API.vandar.io/` is `https://api.vandar.io:443`.
pub fn environment_of(base_url: &url::Url) -> String {
    format!(
        "{}://{}:{}{}",
        base_url.scheme(),
        base_url.host_str().unwrap_or_default().to_ascii_lowercase(),
        base_url.port_or_known_default().unwrap_or(0),
        base_url.path().trim_end_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_hides_tokens_in_debug() {
        let pair = TokenPair::issued_at("acc-SECRET", "ref-SECRET", UNIX_EPOCH);
        let r = TokenRecord::seed(pair).with_phase(
            Phase::Sending {
                holder: "r1".into(),
                until: from_millis(5_000),
            },
            7,
        );
        let back = TokenRecord::from_bytes(&r.to_bytes()).unwrap();
        assert_eq!(back, r);
        assert!(!format!("{r:?}").contains("SECRET"));
        let err = TokenRecord::from_bytes(b"{\"access_token\":\"SECRET\"").unwrap_err();
        assert!(!err.contains("SECRET"), "{err}");
    }

    #[test]
    fn the_environment_round_trips_and_an_older_record_has_none() {
        let pair = TokenPair::issued_at("acc-SECRET", "ref-SECRET", UNIX_EPOCH);
        let url = url::Url::parse("https://API.vandar.io/").unwrap();
        assert_eq!(environment_of(&url), "https://api.vandar.io:443");
        let sandbox = url::Url::parse("http://127.0.0.1:8080/vandar/").unwrap();
        assert_eq!(environment_of(&sandbox), "http://127.0.0.1:8080/vandar");
        let r = TokenRecord::seed(pair).in_environment(environment_of(&url));
        let back = TokenRecord::from_bytes(&r.to_bytes()).unwrap();
        assert_eq!(
            back.environment.as_deref(),
            Some("https://api.vandar.io:443")
        );
        // A rotation keeps it; a record written before the field existed reads as `None`.
        assert_eq!(
            back.rotated(back.pair.clone(), 2).environment,
            back.environment
        );
        let mut older: serde_json::Value = serde_json::from_slice(&r.to_bytes()).unwrap();
        older.as_object_mut().unwrap().remove("environment");
        let older = TokenRecord::from_bytes(&serde_json::to_vec(&older).unwrap()).unwrap();
        assert_eq!(older.environment, None);
        assert_eq!(older.generation, r.generation);
    }

    #[test]
    fn an_install_beats_every_generation_seen_and_the_clock() {
        let pair = TokenPair::issued_at("a", "r", UNIX_EPOCH);
        let at = from_millis(1_700_000_000_000);
        let i = TokenRecord::install(pair.clone(), at, 5);
        assert_eq!(i.generation, 1_700_000_000_000 << 10);
        // Rotations after an install stay below a later install.
        let mut r = i.clone();
        for _ in 0..1000 {
            r = r.rotated(pair.clone(), 1);
        }
        let later = TokenRecord::install(pair.clone(), from_millis(1_700_000_000_001), 0);
        assert!(later.generation > r.generation);
        // A huge generation seen is still beaten.
        assert_eq!(
            TokenRecord::install(pair, at, u64::MAX - 1).generation,
            u64::MAX
        );
    }
}
