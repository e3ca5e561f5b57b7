//! Values that must never be printed: tokens, API keys. `Debug` and `Display` show
//! `[redacted]`; the value is reachable only through an explicit `expose()`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

const REDACTED: &str = "[redacted]";

/// A secret string (access token, refresh token, client secret).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// A gateway API key sent in request bodies (IPG). Serializes as the plain string because the
/// API needs it; `Debug` shows `[redacted]` so logged request bodies never carry it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(Secret);

impl ApiKey {
    /// Wrap an API key.
    pub fn new(value: impl Into<String>) -> Self {
        Self(Secret::new(value))
    }

    /// The key itself.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({REDACTED})")
    }
}

impl From<&str> for ApiKey {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl From<String> for ApiKey {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&ApiKey> for ApiKey {
    fn from(value: &ApiKey) -> Self {
        value.clone()
    }
}

impl Serialize for ApiKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        vandar_domain::sensitive::note_serialized(self.expose());
        serializer.serialize_str(self.expose())
    }
}

impl<'de> Deserialize<'de> for ApiKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}

impl schemars::JsonSchema for ApiKey {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ApiKey".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "Gateway API key (secret; redacted in Debug output)."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_printed() {
        let s = Secret::new("tok-abc-123");
        assert_eq!(format!("{s:?} {s}"), "[redacted] [redacted]");
        let k = ApiKey::from("key-xyz-789");
        assert!(!format!("{k:?}").contains("key-xyz-789"));
        assert_eq!(k.expose(), "key-xyz-789");
    }

    #[test]
    fn api_key_serializes_plainly() {
        let k = ApiKey::from("key-xyz-789");
        assert_eq!(serde_json::to_string(&k).unwrap(), "\"key-xyz-789\"");
        let back: ApiKey = serde_json::from_str("\"key-xyz-789\"").unwrap();
        assert_eq!(back, k);
    }
}
