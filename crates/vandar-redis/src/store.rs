//! The token record in Redis: a compare-and-swap register on the server's clock.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::Value;
use vandar_runtime::token::{Snapshot, StoreFuture, Swap, TokenRecord, TokenStore};

use crate::conn::RedisConnection;
use crate::error::RedisError;
use crate::keys::{Account, scope};
use crate::scripts;
use crate::seal::{self, SealingKey};

/// The Vandar token record in Redis, shared by every process of one Vandar account: the
/// runtime's [`TokenStore`] (see the [crate docs](crate) for what Redis adds to the
/// runtime's protocol).
///
/// One hash, `vandar:{<namespace>:<business>.<fingerprint>}:token`, holds two fields: `rev`,
/// the record's revision in decimal (what the compare-and-swap compares), and `blob`, the
/// record ([`TokenRecord::to_bytes`]), sealed when a [`SealingKey`] is configured. No key
/// name holds or derives from a token.
///
/// `Debug` shows the key and the sealing key's name only.
#[derive(Clone)]
pub struct RedisTokenStore {
    conn: RedisConnection,
    key: String,
    sealing: Option<SealingKey>,
}

impl fmt::Debug for RedisTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTokenStore")
            .field("key", &self.key)
            .field("sealing", &self.sealing.as_ref().map(SealingKey::name))
            .finish_non_exhaustive()
    }
}

fn server_time(secs: &Value, micros: &Value) -> Result<SystemTime, RedisError> {
    let n = |v: &Value| -> Option<u64> {
        match v {
            Value::Int(i) => u64::try_from(*i).ok(),
            Value::BulkString(b) => std::str::from_utf8(b).ok()?.parse().ok(),
            Value::SimpleString(s) => s.parse().ok(),
            _ => None,
        }
    };
    match (n(secs), n(micros)) {
        // A number past what a SystemTime holds is corrupt, not a panic.
        (Some(s), Some(us)) => UNIX_EPOCH
            .checked_add(Duration::from_secs(s))
            .and_then(|t| t.checked_add(Duration::from_micros(us)))
            .ok_or(RedisError::Corrupt { what: "TIME" }),
        _ => Err(RedisError::Corrupt { what: "TIME" }),
    }
}

fn bytes(v: &Value) -> Option<&[u8]> {
    match v {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.as_bytes()),
        _ => None,
    }
}

impl RedisTokenStore {
    /// The store of `account` (see [`Account`]) in the namespace `namespace` (1 to 64 of
    /// `A-Z a-z 0-9 _ - . :`; the deployment's name, never a token). Two accounts, or two
    /// environments of one business, never share a record, whatever namespace they are
    /// given.
    pub fn new(
        conn: RedisConnection,
        namespace: &str,
        account: &Account,
    ) -> Result<Self, RedisError> {
        Ok(Self {
            key: format!("{}}}:token", scope(namespace, account)?),
            conn,
            sealing: None,
        })
    }

    /// Seal the record with `key` before it is written (and open it after it is read). A
    /// record sealed with another key is a [`RedisError::SealedWithAnotherKey`]; a record
    /// written unsealed is still read (so sealing can be turned on) and sealed on the next
    /// write.
    pub fn with_sealing_key(mut self, key: SealingKey) -> Self {
        self.sealing = Some(key);
        self
    }

    /// The Redis key of the record (a hash).
    pub fn key(&self) -> &str {
        &self.key
    }

    fn encode(&self, record: &TokenRecord) -> Vec<u8> {
        let plain = record.to_bytes();
        match &self.sealing {
            Some(k) => k.seal(record.revision, &plain),
            None => plain,
        }
    }

    fn decode(&self, rev: &Value, blob: &Value) -> Result<Option<TokenRecord>, RedisError> {
        let corrupt = RedisError::Corrupt {
            what: "token record",
        };
        let (rev, blob) = match (bytes(rev), bytes(blob)) {
            (None, None) => return Ok(None),
            (Some(r), Some(b)) => (r, b),
            _ => return Err(corrupt),
        };
        let revision: u64 = std::str::from_utf8(rev)
            .ok()
            .and_then(|r| r.parse().ok())
            .ok_or(RedisError::Corrupt {
                what: "token record",
            })?;
        let plain = seal::open(self.sealing.as_ref(), revision, blob)?;
        let record = TokenRecord::from_bytes(&plain).map_err(|_| RedisError::Corrupt {
            what: "token record",
        })?;
        if record.revision != revision {
            return Err(corrupt);
        }
        Ok(Some(record))
    }

    /// The stored record, if any, and Redis's `TIME` (one script).
    pub async fn get(&self) -> Result<Snapshot, RedisError> {
        let answer: Vec<Value> = self
            .conn
            .run("load token record", |mut c| {
                let mut inv = scripts::LOAD.prepare_invoke();
                inv.key(&self.key);
                async move { inv.invoke_async(&mut c).await }
            })
            .await?;
        let [secs, micros, rev, blob] = answer.as_slice() else {
            return Err(RedisError::Corrupt {
                what: "load answer",
            });
        };
        Ok(Snapshot {
            now: Some(server_time(secs, micros)?),
            record: self.decode(rev, blob)?,
        })
    }

    /// Write `record` if the stored revision is `expected` (`None`: only if none is stored),
    /// atomically (one script), with Redis's `TIME`.
    pub async fn compare_and_swap(
        &self,
        expected: Option<u64>,
        record: &TokenRecord,
    ) -> Result<Swap, RedisError> {
        let blob = self.encode(record);
        let answer: Vec<Value> = self
            .conn
            .run("swap token record", |mut c| {
                let mut inv = scripts::SWAP.prepare_invoke();
                inv.key(&self.key)
                    .arg(expected.map(|r| r.to_string()).unwrap_or_default())
                    .arg(record.revision.to_string())
                    .arg(blob);
                async move { inv.invoke_async(&mut c).await }
            })
            .await?;
        match answer.as_slice() {
            [Value::Int(1), secs, micros] => {
                tracing::debug!(key = %self.key, generation = record.generation, "token record written");
                Ok(Swap::Done {
                    now: Some(server_time(secs, micros)?),
                })
            }
            [Value::Int(0), secs, micros, rev, blob] => {
                tracing::debug!(key = %self.key, "token record changed meanwhile; not written");
                Ok(Swap::Conflict(Snapshot {
                    now: Some(server_time(secs, micros)?),
                    record: self.decode(rev, blob)?,
                }))
            }
            _ => Err(RedisError::Corrupt {
                what: "swap answer",
            }),
        }
    }
}

impl TokenStore for RedisTokenStore {
    fn load(&self) -> StoreFuture<'_, Snapshot> {
        Box::pin(async move { Ok(self.get().await?) })
    }

    fn swap<'a>(&'a self, expected: Option<u64>, record: &'a TokenRecord) -> StoreFuture<'a, Swap> {
        Box::pin(async move { Ok(self.compare_and_swap(expected, record).await?) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_time_past_what_a_system_time_holds_is_corrupt() {
        let at = server_time(&Value::Int(1_700_000_000), &Value::Int(250_000)).unwrap();
        assert_eq!(at, UNIX_EPOCH + Duration::from_millis(1_700_000_000_250));
        let huge = Value::BulkString(u64::MAX.to_string().into_bytes());
        for (secs, micros) in [(&huge, &Value::Int(0)), (&Value::Int(i64::MAX), &huge)] {
            assert!(matches!(
                server_time(secs, micros),
                Err(RedisError::Corrupt { what: "TIME" })
            ));
        }
    }

    #[test]
    fn opening_outside_a_runtime_is_an_error_not_a_panic() {
        assert_eq!(
            RedisConnection::open("redis://127.0.0.1:1/").unwrap_err(),
            RedisError::NoRuntime
        );
    }

    #[tokio::test]
    async fn a_malformed_url_is_refused() {
        let err = RedisConnection::open("not a url").unwrap_err();
        assert!(matches!(err, RedisError::InvalidUrl { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn keys_name_the_namespace_and_the_account() {
        let conn = RedisConnection::open("redis://127.0.0.1:1/").unwrap();
        let prod = Account::production("shop").unwrap();
        let s = RedisTokenStore::new(conn.clone(), "ns", &prod).unwrap();
        assert_eq!(
            s.key(),
            format!("vandar:{{ns:shop.{}}}:token", prod.fingerprint())
        );
        let staging = Account::new("shop", "https://staging.example").unwrap();
        assert_ne!(
            RedisTokenStore::new(conn.clone(), "ns", &staging)
                .unwrap()
                .key(),
            s.key()
        );
        assert!(RedisTokenStore::new(conn, "a b", &prod).is_err());
    }
}
