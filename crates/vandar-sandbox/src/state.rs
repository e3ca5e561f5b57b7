//! The books every product writes to: the clock, the credentials and token pair, the wallet
//! and its statement lines, single settlements (with their 30-minute cycle),
//! outgoing notifications, faults and rate limits. The products' own state lives in their
//! modules; `world.rs` puts them together.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::calendar::{gregorian_date, jalali_date};
pub use crate::clock::Clock;
use crate::values::{DEFAULT_CARD, card_hash, mask_card, random_token};
use crate::webhooks::Notification;

/// Access token lifetime (documented: 5 days).
pub const ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(5 * 24 * 3600);
/// Refresh token lifetime (documented: 10 days).
pub const REFRESH_TOKEN_LIFETIME: Duration = Duration::from_secs(10 * 24 * 3600);
/// Non-instant settlements leave in 30-minute cycles (documented).
pub const SETTLEMENT_CYCLE: Duration = Duration::from_secs(30 * 60);
/// Rate-limit window (documented: per 3 seconds).
pub const RATE_WINDOW_MS: i64 = 3000;
/// POST calls allowed per window and credential.
pub const RATE_LIMIT_POST: usize = 30;
/// Other calls allowed per window and credential.
pub const RATE_LIMIT_OTHER: usize = 100;
/// Wallet balance of a fresh sandbox, in Rial (5,000,000 Toman).
pub const INITIAL_WALLET_RIAL: i64 = 50_000_000;

/// The most statement lines one seeding call adds (bounded memory).
pub const MAX_SEED_TRANSACTIONS: usize = 1_000_000;

/// What `Sandbox::seed_transactions` (or `POST /__sandbox/seed/transactions`) added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeededTransactions {
    /// Lines added.
    pub count: u64,
    /// Their signed sum, in Toman.
    pub sum_toman: i64,
    /// The wallet afterwards, in Toman.
    pub wallet_toman: i64,
}

/// The seeded credentials of a sandbox. `Debug` shows the business and the Sanbod client id
/// and redacts every key, token and secret (they are printed only where asked for: the
/// binary's start-up lines and `GET /__sandbox/credentials`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    /// The IPG gateway `api_key`.
    pub ipg_api_key: String,
    /// The current Vandar business access token (rotates on refresh).
    pub access_token: String,
    /// The current Vandar refresh token (rotates on refresh).
    pub refresh_token: String,
    /// The business slug for `{business}` path parameters.
    pub business: String,
    /// The Sanbod application's client id.
    pub sanbod_client_id: String,
    /// The Sanbod application's client secret.
    pub sanbod_client_secret: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const REDACTED: &str = "<redacted>";
        f.debug_struct("Credentials")
            .field("ipg_api_key", &REDACTED)
            .field("access_token", &REDACTED)
            .field("refresh_token", &REDACTED)
            .field("business", &self.business)
            .field("sanbod_client_id", &self.sanbod_client_id)
            .field("sanbod_client_secret", &REDACTED)
            .finish()
    }
}

impl Credentials {
    /// The fixed seeds of every fresh or reset sandbox.
    pub fn seeded() -> Self {
        Credentials {
            ipg_api_key: "sandbox-ipg-api-key".into(),
            access_token: "sandbox-access-token".into(),
            refresh_token: "sandbox-refresh-token".into(),
            business: "sandbox".into(),
            sanbod_client_id: "sandbox-sanbod-client".into(),
            sanbod_client_secret: "sandbox-sanbod-secret".into(),
        }
    }
}

/// A fault to inject on the next calls of an operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// Close the connection without an answer; the call is not processed.
    Drop,
    /// Process the call (its effects stay), then close the connection without an answer: the
    /// client's "outcome unknown" case.
    DropAnswer,
    /// Wait, then answer normally.
    Delay {
        /// Milliseconds to wait.
        ms: u64,
    },
    /// Answer with this HTTP status (e.g. 500, 503) and a JSON error body in the spec's shape.
    Status {
        /// The HTTP status code.
        status: u16,
    },
    /// Answer 429 with `Retry-After`.
    RateLimit {
        /// Seconds in `Retry-After`.
        retry_after: u64,
    },
    /// Answer with an HTML body (a proxy's error page) and this status.
    Html {
        /// The HTTP status code (e.g. 502, or 200 for a captive portal).
        status: u16,
    },
}

/// A fault rule: which operation, how many calls, what happens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    /// The operation id (e.g. `send_payment`).
    pub operation: String,
    /// The spec (e.g. `vandar-core`) when the id is used by several specs (`get_balance`).
    #[serde(default)]
    pub spec: Option<String>,
    /// How many of the next calls are hit.
    #[serde(default = "one")]
    pub count: u32,
    /// What happens.
    #[serde(flatten)]
    pub kind: FaultKind,
}

fn one() -> u32 {
    1
}

/// How a PENDING settlement ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettlementEnd {
    /// Paid out to the IBAN.
    Done,
    /// Cancelled by the business (the money back).
    Canceled,
    /// Refused by the bank (the money back).
    Failed,
}

/// One settlement.
#[derive(Debug, Clone)]
pub struct Settlement {
    pub id: String,
    pub iban_id: String,
    pub transaction_id: i64,
    pub amount_toman: i64,
    pub iban: String,
    pub track_id: String,
    pub payment_number: Option<String>,
    pub notify_url: Option<String>,
    pub description: Option<String>,
    pub is_instant: bool,
    pub kind: String,
    pub status: String,
    pub wallet_after_toman: i64,
    pub created_ms: i64,
    pub ref_code: Option<String>,
    pub revised_transaction_id: Option<i64>,
}

/// One line of the business statement (`list_transactions`).
#[derive(Debug, Clone)]
pub struct LedgerEntry {
    pub id: i64,
    pub uuid: String,
    /// Signed amount in Toman.
    pub amount_toman: i64,
    pub status: i64,
    pub channel: &'static str,
    pub created_ms: i64,
    pub wallet_after_toman: i64,
    pub description: String,
    pub factor_number: Option<String>,
    pub track_id: Option<String>,
    pub card_number: Option<String>,
    pub cid: Option<String>,
    pub tracking_code: Option<String>,
}

/// Everything mutable in a sandbox.
#[derive(Debug)]
pub struct State {
    pub clock: Clock,
    pub creds: Credentials,
    pub access_expires_ms: i64,
    pub refresh_expires_ms: i64,
    pub wallet_rial: i64,
    pub settlements: Vec<Settlement>,
    pub ledger: Vec<LedgerEntry>,
    pub faults: Vec<Fault>,
    pub rate_limit: bool,
    pub rate: HashMap<String, VecDeque<i64>>,
    pub outbox: Vec<Notification>,
    pub seq: i64,
}

impl State {
    /// A fresh sandbox.
    pub fn new(frozen: bool, rate_limit: bool) -> Self {
        let clock = Clock::new(frozen);
        let now = clock.now_ms();
        let mut s = State {
            clock,
            creds: Credentials::seeded(),
            access_expires_ms: now + ACCESS_TOKEN_LIFETIME.as_millis() as i64,
            refresh_expires_ms: now + REFRESH_TOKEN_LIFETIME.as_millis() as i64,
            wallet_rial: INITIAL_WALLET_RIAL,
            settlements: Vec::new(),
            ledger: Vec::new(),
            faults: Vec::new(),
            rate_limit,
            rate: HashMap::new(),
            outbox: Vec::new(),
            seq: 0,
        };
        let id = s.next_id();
        s.ledger.push(LedgerEntry {
            id,
            uuid: uuid::Uuid::new_v4().to_string(),
            amount_toman: INITIAL_WALLET_RIAL / 10,
            status: 5,
            channel: "p2p",
            created_ms: now,
            wallet_after_toman: INITIAL_WALLET_RIAL / 10,
            description: "sandbox opening balance".into(),
            factor_number: None,
            track_id: None,
            card_number: None,
            cid: None,
            tracking_code: None,
        });
        s
    }

    /// Reset everything but the clock mode and the rate-limit switch.
    pub fn reset(&mut self) {
        let frozen = self.clock.is_frozen();
        let rate = self.rate_limit;
        *self = State::new(frozen, rate);
    }

    /// A fresh 12-digit id (transaction ids look like `163559577615`).
    pub fn next_id(&mut self) -> i64 {
        self.seq += 1;
        170_000_000_000 + self.seq
    }

    /// Sandbox time, Unix milliseconds.
    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Wallet in Toman.
    pub fn wallet_toman(&self) -> i64 {
        self.wallet_rial / 10
    }

    /// Apply the time-driven transitions of the books (settlement cycles) and queue the
    /// webhooks; the products' ticks run from `World::tick`.
    pub fn tick(&mut self) {
        let now = self.now();
        let due: Vec<String> = self
            .settlements
            .iter()
            .filter(|s| {
                s.status == "PENDING" && now >= s.created_ms + SETTLEMENT_CYCLE.as_millis() as i64
            })
            .map(|s| s.id.clone())
            .collect();
        for id in due {
            let _ = self.end_settlement(&id, SettlementEnd::Done);
        }
    }

    /// End a PENDING settlement (found by id or transaction id) now: `Done` as the 30-minute
    /// cycle does (a `ref_code`, the statement line settled), or `Canceled`/`Failed` (the
    /// money back in the wallet with a revised statement line); the `notify_url` webhook is
    /// queued. Refused (with the reason) when the settlement is unknown or not PENDING.
    pub fn end_settlement(&mut self, key: &str, end: SettlementEnd) -> Result<Settlement, String> {
        let now = self.now();
        let idx = self
            .settlements
            .iter()
            .position(|s| s.id == key || s.transaction_id.to_string() == key)
            .ok_or_else(|| format!("no settlement {key}"))?;
        let s = &mut self.settlements[idx];
        if s.status != "PENDING" {
            return Err(format!("settlement {key} is {}, not PENDING", s.status));
        }
        let tid = s.transaction_id;
        let amount = s.amount_toman;
        match end {
            SettlementEnd::Done => {
                s.status = "DONE".into();
                s.ref_code = Some(format!("{}", 100_000_000 + tid % 900_000_000));
                if let Some(e) = self.ledger.iter_mut().find(|e| e.id == tid) {
                    e.status = 2;
                }
            }
            SettlementEnd::Canceled | SettlementEnd::Failed => {
                let (status, word) = match end {
                    SettlementEnd::Failed => ("FAILED", "failed"),
                    _ => ("CANCELED", "cancelled"),
                };
                s.status = status.into();
                let revised = self.next_id();
                self.settlements[idx].revised_transaction_id = Some(revised);
                self.wallet_rial += amount * 10;
                let wallet = self.wallet_toman();
                if let Some(e) = self.ledger.iter_mut().find(|e| e.id == tid) {
                    e.status = -4;
                }
                self.ledger.push(LedgerEntry {
                    id: revised,
                    uuid: uuid::Uuid::new_v4().to_string(),
                    amount_toman: amount,
                    status: 4,
                    channel: "settlements",
                    created_ms: now,
                    wallet_after_toman: wallet,
                    description: format!("revised transaction of {word} settlement {tid}"),
                    factor_number: None,
                    track_id: None,
                    card_number: None,
                    cid: None,
                    tracking_code: None,
                });
            }
        }
        let ended = self.settlements[idx].clone();
        self.queue_settlement_notification(&ended);
        Ok(ended)
    }

    /// Queue the `notify_url` form of a settlement in its final state.
    pub fn queue_settlement_notification(&mut self, s: &Settlement) {
        let Some(url) = s.notify_url.clone() else {
            return;
        };
        let form = vec![
            ("id".into(), s.id.clone()),
            ("iban_id".into(), s.iban_id.clone()),
            ("transaction_id".into(), s.transaction_id.to_string()),
            ("amount".into(), (s.amount_toman * 10).to_string()),
            (
                "payment_number".into(),
                s.payment_number.clone().unwrap_or_default(),
            ),
            ("status".into(), s.status.clone()),
            ("settlement_date".into(), gregorian_date(s.created_ms)),
            ("settlement_date_jalali".into(), jalali_date(s.created_ms)),
            (
                "revised_transaction_id".into(),
                s.revised_transaction_id
                    .map(|i| i.to_string())
                    .unwrap_or_default(),
            ),
            ("ref_code".into(), s.ref_code.clone().unwrap_or_default()),
            ("track_id".into(), s.track_id.clone()),
        ];
        self.outbox
            .push(Notification::webhook("settlement", url, form));
    }

    /// Count a call against the rate limit; `Some(retry_after_secs)` when it is over.
    pub fn rate_check(&mut self, key: &str, is_post: bool) -> Option<u64> {
        if !self.rate_limit {
            return None;
        }
        let now = self.now();
        let limit = if is_post {
            RATE_LIMIT_POST
        } else {
            RATE_LIMIT_OTHER
        };
        let bucket = self
            .rate
            .entry(format!("{}:{key}", if is_post { "POST" } else { "OTHER" }))
            .or_default();
        while bucket.front().is_some_and(|t| now - t >= RATE_WINDOW_MS) {
            bucket.pop_front();
        }
        if bucket.len() >= limit {
            let oldest = bucket.front().copied().unwrap_or(now);
            let wait_ms = (oldest + RATE_WINDOW_MS - now).max(1);
            return Some((wait_ms as u64).div_ceil(1000));
        }
        bucket.push_back(now);
        if self.rate.len() > 10_000 {
            // forget idle credentials (bounded memory)
            self.rate
                .retain(|_, b| b.back().is_some_and(|t| now - t < RATE_WINDOW_MS));
        }
        None
    }

    /// Take the next fault for an operation, if any.
    pub fn take_fault(&mut self, spec: &str, op: &str) -> Option<FaultKind> {
        let idx = self.faults.iter().position(|f| {
            f.operation == op && f.spec.as_deref().is_none_or(|s| s == spec) && f.count > 0
        })?;
        let f = &mut self.faults[idx];
        f.count -= 1;
        let kind = f.kind.clone();
        if f.count == 0 {
            self.faults.remove(idx);
        }
        Some(kind)
    }

    /// Whether a Vandar bearer token is the current, unexpired access token.
    pub fn access_ok(&self, token: &str) -> bool {
        token == self.creds.access_token && self.now() < self.access_expires_ms
    }

    /// Rotate the token pair if `refresh` is the current, unexpired refresh token.
    pub fn refresh(&mut self, refresh: &str) -> Option<Value> {
        if refresh != self.creds.refresh_token || self.now() >= self.refresh_expires_ms {
            return None;
        }
        let now = self.now();
        self.creds.access_token = format!("sbx-at-{}", random_token(32));
        self.creds.refresh_token = format!("sbx-rt-{}", random_token(40));
        self.access_expires_ms = now + ACCESS_TOKEN_LIFETIME.as_millis() as i64;
        self.refresh_expires_ms = now + REFRESH_TOKEN_LIFETIME.as_millis() as i64;
        Some(json!({
            "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_LIFETIME.as_secs(),
            "access_token": self.creds.access_token,
            "refresh_token": self.creds.refresh_token,
        }))
    }

    /// Append `count` synthetic statement lines (the seeding control, for volume tests): line
    /// `i` (from 0) is an IPG payment of `1,000 + (i × 7,919) mod 99,000` Toman, except every
    /// tenth, a refund debit of the same size; they are dated one per 30 s up to now and move
    /// the wallet, so the statement's sum stays equal to the balance. At most
    /// [`MAX_SEED_TRANSACTIONS`] per call.
    pub fn seed_transactions(&mut self, count: usize) -> Result<SeededTransactions, String> {
        if count > MAX_SEED_TRANSACTIONS {
            return Err(format!(
                "count {count} is above the limit of {MAX_SEED_TRANSACTIONS} per call"
            ));
        }
        let now = self.now();
        let cid = card_hash(DEFAULT_CARD);
        let card = mask_card(DEFAULT_CARD);
        let mut sum_toman = 0i64;
        self.ledger.reserve(count);
        for i in 0..count {
            let size = 1_000 + (i as i64 * 7_919) % 99_000;
            let refund = i % 10 == 9;
            let amount_toman = if refund { -size } else { size };
            sum_toman += amount_toman;
            self.wallet_rial += amount_toman * 10;
            let id = self.next_id();
            let wallet_after_toman = self.wallet_toman();
            self.ledger.push(LedgerEntry {
                id,
                uuid: uuid::Uuid::new_v4().to_string(),
                amount_toman,
                status: 1,
                channel: if refund { "refund" } else { "ipg" },
                created_ms: now - (count - 1 - i) as i64 * 30_000,
                wallet_after_toman,
                description: format!(
                    "sandbox seeded {} {i}",
                    if refund { "refund" } else { "payment" }
                ),
                factor_number: (!refund).then(|| format!("SEED-{i}")),
                track_id: None,
                card_number: (!refund).then(|| card.clone()),
                cid: (!refund).then(|| cid.clone()),
                tracking_code: None,
            });
        }
        Ok(SeededTransactions {
            count: count as u64,
            sum_toman,
            wallet_toman: self.wallet_toman(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_debug_redacts_every_secret() {
        let mut s = State::new(true, false);
        let seeded = s.creds.clone();
        let refresh = seeded.refresh_token.clone();
        assert!(s.refresh(&refresh).is_some(), "the pair rotates");
        for creds in [seeded, s.creds.clone()] {
            let shown = format!("{creds:?} {creds:#?}");
            for secret in [
                &creds.ipg_api_key,
                &creds.access_token,
                &creds.refresh_token,
                &creds.sanbod_client_secret,
            ] {
                assert!(!shown.contains(secret.as_str()), "{shown}");
            }
            assert!(shown.contains("<redacted>") && shown.contains(&creds.business));
            assert!(shown.contains(&creds.sanbod_client_id));
        }
        // the whole state's Debug goes through the same redaction
        let state = format!("{s:?}");
        assert!(!state.contains(&s.creds.access_token) && !state.contains(&s.creds.ipg_api_key));
    }

    #[test]
    fn seeded_lines_keep_the_statement_equal_to_the_wallet() {
        let mut s = State::new(true, false);
        let before = s.wallet_toman();
        let seeded = s.seed_transactions(1_000).unwrap();
        assert_eq!(seeded.count, 1_000);
        assert_eq!(s.ledger.len(), 1_001);
        let ledger_sum: i64 = s.ledger.iter().map(|e| e.amount_toman).sum();
        assert_eq!(ledger_sum, s.wallet_toman());
        assert_eq!(before + seeded.sum_toman, seeded.wallet_toman);
        assert_eq!(
            s.ledger.iter().filter(|e| e.channel == "refund").count(),
            100
        );
        assert!(s.seed_transactions(MAX_SEED_TRANSACTIONS + 1).is_err());
    }

    #[test]
    fn rate_limit_counts_per_window() {
        let mut s = State::new(true, true);
        for _ in 0..RATE_LIMIT_POST {
            assert_eq!(s.rate_check("k", true), None);
        }
        assert_eq!(s.rate_check("k", true), Some(3));
        assert_eq!(s.rate_check("other", true), None);
        s.clock.advance(Duration::from_millis(3000));
        assert_eq!(s.rate_check("k", true), None);
    }
}
