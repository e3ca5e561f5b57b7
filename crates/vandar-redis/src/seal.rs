//! Optional sealing of the stored token record: XChaCha20-Poly1305 (RustCrypto's
//! `chacha20poly1305`), a random 192-bit nonce per write, the revision and the key's name as
//! associated data.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::common::Generate as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::error::RedisError;

/// The prefix of a sealed blob: `sealed:v1:<key name>:<base64(nonce ‖ ciphertext)>`.
const PREFIX: &str = "sealed:v1:";
const NONCE_LEN: usize = 24;

/// A key that seals the token record before it is written to Redis, so that whoever reads
/// Redis (a dump, a replica, a backup) does not read the tokens. Give it a name (which is
/// stored next to each sealed record, so a record sealed with another key is a clear error,
/// not garbage) and 32 random bytes from your configuration.
///
/// `Debug` shows the name only.
#[derive(Clone)]
pub struct SealingKey {
    name: String,
    cipher: XChaCha20Poly1305,
}

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealingKey")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl SealingKey {
    /// A key named `name` (1 to 64 of `A-Z a-z 0-9 _ - .`, e.g. `"2026-12"`) with 32 bytes of
    /// key material.
    pub fn new(name: &str, key: [u8; 32]) -> Result<Self, RedisError> {
        let ok = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
        if !ok {
            return Err(RedisError::InvalidSealingKey {
                reason: "its name must be 1 to 64 of A-Z a-z 0-9 _ - .",
            });
        }
        Ok(Self {
            name: name.to_owned(),
            cipher: XChaCha20Poly1305::new(&key.into()),
        })
    }

    /// A key named `name` from 32 bytes in standard base64 (e.g. `openssl rand -base64 32`,
    /// kept in a secret store and passed in through the environment).
    pub fn from_base64(name: &str, encoded: &str) -> Result<Self, RedisError> {
        let bytes = STANDARD
            .decode(encoded.trim())
            .map_err(|_| RedisError::InvalidSealingKey {
                reason: "it is not base64",
            })?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| RedisError::InvalidSealingKey {
                reason: "it must be 32 bytes",
            })?;
        Self::new(name, key)
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn aad(&self, revision: u64) -> Vec<u8> {
        format!("vandar-redis token record v1\0{}\0{revision}", self.name).into_bytes()
    }

    /// Seal `plain` (the record of `revision`).
    pub(crate) fn seal(&self, revision: u64, plain: &[u8]) -> Vec<u8> {
        let nonce = XNonce::generate();
        let aad = self.aad(revision);
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plain,
                    aad: &aad,
                },
            )
            // Only a message of more than 2^38 bytes fails.
            .unwrap_or_default();
        let mut body = Vec::with_capacity(NONCE_LEN + sealed.len());
        body.extend_from_slice(nonce.as_slice());
        body.extend_from_slice(&sealed);
        format!("{PREFIX}{}:{}", self.name, STANDARD.encode(body)).into_bytes()
    }
}

/// Whether a stored blob is sealed, and with which key name.
pub(crate) fn sealed_with(blob: &[u8]) -> Option<&str> {
    let rest = blob.strip_prefix(PREFIX.as_bytes())?;
    let end = rest.iter().position(|b| *b == b':')?;
    std::str::from_utf8(&rest[..end]).ok()
}

/// Open a stored blob of `revision`: sealed ones with `key`, plain ones as they are.
pub(crate) fn open(
    key: Option<&SealingKey>,
    revision: u64,
    blob: &[u8],
) -> Result<Vec<u8>, RedisError> {
    let Some(stored) = sealed_with(blob) else {
        if key.is_some() {
            tracing::warn!(
                "the stored token record is not sealed; it will be sealed on the next write"
            );
        }
        return Ok(blob.to_vec());
    };
    let Some(key) = key.filter(|k| k.name == stored) else {
        return Err(RedisError::SealedWithAnotherKey {
            stored: stored.to_owned(),
            configured: key.map(|k| k.name.clone()),
        });
    };
    let encoded = &blob[PREFIX.len() + stored.len() + 1..];
    let body = STANDARD
        .decode(encoded)
        .ok()
        .filter(|b| b.len() > NONCE_LEN)
        .ok_or(RedisError::Corrupt {
            what: "sealed token record",
        })?;
    let (nonce, sealed) = body.split_at(NONCE_LEN);
    let nonce = XNonce::try_from(nonce).map_err(|_| RedisError::Corrupt {
        what: "sealed token record",
    })?;
    let aad = key.aad(revision);
    key.cipher
        .decrypt(
            &nonce,
            Payload {
                msg: sealed,
                aad: &aad,
            },
        )
        .map_err(|_| RedisError::Unseal {
            key: key.name.clone(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_opens_and_refuses_the_wrong_key_without_showing_secrets() {
        let k = SealingKey::new("k1", [7; 32]).unwrap();
        let plain = b"{\"access_token\":\"acc-SECRET\"}";
        let a = k.seal(5, plain);
        let b = k.seal(5, plain);
        assert_ne!(a, b, "a fresh nonce per write");
        assert!(!String::from_utf8_lossy(&a).contains("SECRET"));
        assert_eq!(sealed_with(&a), Some("k1"));
        assert_eq!(open(Some(&k), 5, &a).unwrap(), plain);
        // another revision (the associated data) does not open
        assert_eq!(
            open(Some(&k), 6, &a).unwrap_err(),
            RedisError::Unseal { key: "k1".into() }
        );
        // same name, other material: tampered or wrong key
        let forged = SealingKey::new("k1", [8; 32]).unwrap();
        assert!(matches!(
            open(Some(&forged), 5, &a),
            Err(RedisError::Unseal { .. })
        ));
        // another key name, or none: a clear error
        let k2 = SealingKey::new("k2", [7; 32]).unwrap();
        let err = open(Some(&k2), 5, &a).unwrap_err();
        assert_eq!(
            err,
            RedisError::SealedWithAnotherKey {
                stored: "k1".into(),
                configured: Some("k2".into())
            }
        );
        assert!(err.to_string().contains("`k1`"), "{err}");
        assert!(matches!(
            open(None, 5, &a),
            Err(RedisError::SealedWithAnotherKey {
                configured: None,
                ..
            })
        ));
        // plain records stay readable (turning sealing on)
        assert_eq!(open(Some(&k), 5, plain).unwrap(), plain);
        // Debug shows the name only
        let shown = format!("{k:?}");
        assert!(shown.contains("k1") && !shown.contains("7, 7"), "{shown}");
        // key parsing
        let b64 = STANDARD.encode([1u8; 32]);
        assert!(SealingKey::from_base64("ok", &b64).is_ok());
        assert!(SealingKey::from_base64("ok", "AAAA").is_err());
        assert!(SealingKey::from_base64("ok", "not base64!").is_err());
        assert!(SealingKey::new("a:b", [0; 32]).is_err());
    }
}
