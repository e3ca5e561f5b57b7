//! [`TrackId`]: the client-chosen idempotency handle of a money call (settlement, batch item,
//! withdrawal, cash-in deposit). It is the only safe way to find out what happened to a call
//! whose outcome is unknown, so the SDK makes callers hold one before sending.

use std::fmt;

/// A client-chosen, unique `track_id`. [`TrackId::new`] makes a fresh one (a random UUID);
/// [`TrackId::parse`] keeps your own (1 to 64 printable ASCII characters, no spaces). Keep it
/// with the order before sending: after the SDK's `Error::OutcomeUnknown`
/// look the call up by it instead of sending again (Vandar refuses a repeated `track_id`).
///
/// ```
/// use vandar_domain::TrackId;
/// let fresh = TrackId::new();
/// assert_eq!(fresh.as_str().len(), 36);
/// let mine = TrackId::parse("order-1001-payout").unwrap();
/// assert_eq!(mine.to_string(), "order-1001-payout");
/// assert!(TrackId::parse("").is_err());
/// assert!(TrackId::parse("has space").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrackId(String);

/// Why a `track_id` was refused (the message never repeats the value).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrackIdError {
    /// Empty or only spaces.
    #[error("a track_id must not be empty")]
    Empty,
    /// Longer than 64 characters.
    #[error("a track_id has at most 64 characters")]
    TooLong,
    /// A character outside printable ASCII, or a space.
    #[error("a track_id has printable ASCII characters only, no spaces")]
    BadCharacter,
}

impl TrackId {
    /// The longest accepted `track_id`.
    pub const MAX_LEN: usize = 64;

    /// A fresh, random `track_id` (a version 4 UUID, hyphenated).
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self(uuid::Uuid::new_v4().hyphenated().to_string())
    }

    /// Your own `track_id`.
    pub fn parse(value: &str) -> Result<Self, TrackIdError> {
        let v = value.trim();
        if v.is_empty() {
            return Err(TrackIdError::Empty);
        }
        if v.len() > Self::MAX_LEN {
            return Err(TrackIdError::TooLong);
        }
        if !v.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(TrackIdError::BadCharacter);
        }
        Ok(Self(v.to_owned()))
    }

    /// The value as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TrackId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for TrackId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TrackId({:?})", self.0)
    }
}

impl std::str::FromStr for TrackId {
    type Err = TrackIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for TrackId {
    type Error = TrackIdError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl TryFrom<String> for TrackId {
    type Error = TrackIdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl TryFrom<&String> for TrackId {
    type Error = TrackIdError;
    fn try_from(s: &String) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl From<&TrackId> for TrackId {
    fn from(t: &TrackId) -> Self {
        t.clone()
    }
}

impl From<TrackId> for String {
    fn from(t: TrackId) -> Self {
        t.0
    }
}

impl serde::Serialize for TrackId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for TrackId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Answers echo the value the client sent; keep whatever arrives (a number too).
        let v = serde_json::Value::deserialize(d)?;
        let text = match v {
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            _ => return Err(serde::de::Error::custom("a track_id is a string")),
        };
        if text.trim().is_empty() {
            return Err(serde::de::Error::custom(TrackIdError::Empty));
        }
        Ok(Self(text))
    }
}

impl schemars::JsonSchema for TrackId {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "TrackId".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "minLength": 1,
            "maxLength": 64,
            "description": "Client-chosen unique track id (idempotency handle)."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_ids_differ_and_round_trip() {
        let a = TrackId::new();
        let b = TrackId::new();
        assert_ne!(a, b);
        let json = serde_json::to_string(&a).unwrap();
        let back: TrackId = serde_json::from_str(&json).unwrap();
        assert_eq!(a, back);
        let n: TrackId = serde_json::from_str("12345").unwrap();
        assert_eq!(n.as_str(), "12345");
        assert!(serde_json::from_str::<TrackId>("\"\"").is_err());
    }

    #[test]
    fn parse_rules() {
        assert_eq!(TrackId::parse(" x-1 ").unwrap().as_str(), "x-1");
        assert_eq!(TrackId::parse("  "), Err(TrackIdError::Empty));
        assert_eq!(TrackId::parse(&"a".repeat(65)), Err(TrackIdError::TooLong));
        assert_eq!(TrackId::parse("سلام"), Err(TrackIdError::BadCharacter));
        assert!(TrackId::parse(&"a".repeat(64)).is_ok());
    }
}
