//! Key names: every key of this crate is derived from the user's namespace **and** the
//! Vandar account (business slug plus a fingerprint of the environment), so two accounts, or
//! staging and production, given one namespace never share a token record or a budget.

use sha2::Digest as _;

use crate::error::RedisError;

/// The Vandar production API, the base URL of [`Account::production`].
pub const PRODUCTION_BASE_URL: &str = "https://api.vandar.io";

/// Check a name that becomes part of a key: 1 to 64 of `A-Z a-z 0-9 _ - . :`.
fn name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
}

/// Check a namespace: 1 to 64 of `A-Z a-z 0-9 _ - . :`.
pub(crate) fn check_namespace(namespace: &str) -> Result<(), RedisError> {
    if name_ok(namespace) {
        Ok(())
    } else {
        Err(RedisError::InvalidNamespace {
            namespace: namespace.chars().take(64).collect(),
        })
    }
}

/// The Vandar account whose token record and budget the keys hold: the business slug and a
/// fingerprint of the API base URL it talks to (its environment).
///
/// The fingerprint is the first 64 bits of SHA-256 over a version tag, the slug and the
/// normalised base URL (scheme, host, port and path, without a trailing slash), in hex. So
/// `Account::production("shop")` and `Account::new("shop", "https://sandbox.example")` get
/// different keys, and so do two businesses, whatever namespace they are given. Neither part
/// is a secret (no token goes into a key); `Debug` shows both.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Account {
    business: String,
    fingerprint: String,
}

impl Account {
    /// The account of business `business` (its Vandar slug, the `{business}` of the API
    /// paths) on the API at `base_url` (the base URL the runtime is configured with, e.g.
    /// [`PRODUCTION_BASE_URL`] or a staging/sandbox URL).
    pub fn new(business: &str, base_url: &str) -> Result<Self, RedisError> {
        if !name_ok(business) {
            return Err(RedisError::InvalidAccount {
                reason: "the business slug must be 1 to 64 of A-Z a-z 0-9 _ - . :".into(),
            });
        }
        let url = url::Url::parse(base_url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or_else(|| RedisError::InvalidAccount {
                reason: "the base URL must be an absolute http(s) URL".into(),
            })?;
        let environment = format!(
            "{}://{}:{}{}",
            url.scheme(),
            url.host_str().unwrap_or_default().to_ascii_lowercase(),
            url.port_or_known_default().unwrap_or(0),
            url.path().trim_end_matches('/')
        );
        let mut h = sha2::Sha256::new();
        h.update(b"vandar-redis account v1\0");
        h.update(business.as_bytes());
        h.update([0u8]);
        h.update(environment.as_bytes());
        let digest = h.finalize();
        let fingerprint = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        Ok(Self {
            business: business.to_owned(),
            fingerprint,
        })
    }

    /// The account of business `business` on Vandar's production API
    /// ([`PRODUCTION_BASE_URL`]).
    pub fn production(business: &str) -> Result<Self, RedisError> {
        Self::new(business, PRODUCTION_BASE_URL)
    }

    /// The business slug.
    pub fn business(&self) -> &str {
        &self.business
    }

    /// The environment fingerprint (16 hex digits).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

/// The key prefix of one account in one namespace: `vandar:{<ns>:<business>.<fp>` — the
/// opening of a Redis Cluster hash tag, closed by the caller, so that every key of one
/// script lands in one slot.
pub(crate) fn scope(namespace: &str, account: &Account) -> Result<String, RedisError> {
    check_namespace(namespace)?;
    Ok(format!(
        "vandar:{{{namespace}:{}.{}",
        account.business, account.fingerprint
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_and_environments_get_different_scopes() {
        let prod = Account::production("shop").unwrap();
        let same = Account::new("shop", "https://API.vandar.io/").unwrap();
        let staging = Account::new("shop", "https://staging.example/vandar").unwrap();
        let other = Account::production("shop2").unwrap();
        assert_eq!(prod, same, "normalised: case, default port, trailing slash");
        assert_ne!(prod.fingerprint(), staging.fingerprint());
        assert_ne!(prod.fingerprint(), other.fingerprint());
        assert_eq!(prod.fingerprint().len(), 16);
        let scopes: Vec<_> = [&prod, &staging, &other]
            .iter()
            .map(|a| scope("ns", a).unwrap())
            .collect();
        assert_ne!(scopes[0], scopes[1]);
        assert_ne!(scopes[0], scopes[2]);
        assert!(scopes[0].starts_with("vandar:{ns:shop."));
    }

    #[test]
    fn bad_names_are_refused() {
        assert!(check_namespace("shop-1.prod:eu").is_ok());
        for bad in ["", "a b", "x{y}", &"n".repeat(65)] {
            assert!(matches!(
                check_namespace(bad),
                Err(RedisError::InvalidNamespace { .. })
            ));
            assert!(matches!(
                Account::production(bad),
                Err(RedisError::InvalidAccount { .. })
            ));
        }
        for bad in ["api.vandar.io", "ftp://x", "", "https://"] {
            assert!(Account::new("shop", bad).is_err(), "{bad}");
        }
    }
}
