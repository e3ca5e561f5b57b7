//! Identifiers and lenient scalars.
//!
//! * [`ApiId`]: an identifier the API sends as an integer (`transId` `166958852971`) or as a
//!   string (`"159714176734"`, UUIDs such as `"0bbc76c0-9489-11ed-b643-ed25e49760ca"`). It keeps
//!   the original JSON representation and serialises it back unchanged.
//! * [`LenientInt`]: a status or code that arrives as `1` or `"1"`; serialises as an integer.
//! * [`LenientBool`]: a flag that arrives as `true`, `1`, `0`, `"1"` or `"true"` (e.g.
//!   `is_instant`); serialises as a JSON boolean.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::json_schema_impl;
use super::text::normalize_digits;

/// Errors from parsing identifiers and lenient scalars.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// An empty identifier.
    #[error("identifier is empty")]
    EmptyId,
    /// A negative integer where an identifier was expected.
    #[error("identifier must not be a negative integer, got {0}")]
    NegativeId(i64),
    /// The text is not an integer.
    #[error("expected an integer (like 1 or \"1\"), got {0:?}")]
    NotAnInteger(String),
    /// The text is not a boolean.
    #[error("expected a boolean (true/false, 1/0, \"1\"/\"0\"), got {0:?}")]
    NotABoolean(String),
}

/// An identifier that the API sends as an integer or as a string (numeric or UUID).
///
/// Lossless: the original representation is kept and re-serialised the same way (`13` stays
/// `13`, `"13"` stays `"13"`).
///
/// Equality and hashing are by *meaning*: `ApiId::Int(159714176734)` equals
/// `ApiId::Str("159714176734")` (the withdrawal `gateway_transaction_id` is a string in one
/// response and an integer in another). Strings are compared exactly, so `"013"` ≠ `13`.
///
/// * `Display`: the value as text (`13`, `0bbc76c0-…`).
/// * `FromStr`: canonical decimal digits become [`ApiId::Int`], anything else [`ApiId::Str`];
///   empty text is an error.
/// * serde: accepts a non-negative JSON integer or any string; emits what it was built from.
#[derive(Debug, Clone)]
pub enum ApiId {
    /// Sent as a JSON integer.
    Int(u64),
    /// Sent as a JSON string.
    Str(String),
}

impl ApiId {
    /// The id as an integer, if it is one (a JSON integer or a canonical numeric string).
    #[must_use]
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Self::Int(v) => Some(*v),
            Self::Str(s) => canonical_u64(s),
        }
    }

    /// The id as a string slice when it was sent as a string.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::Int(_) => None,
            Self::Str(s) => Some(s),
        }
    }

    /// Whether the id looks like a hyphenated UUID (`8-4-4-4-12` hex digits).
    #[must_use]
    pub fn is_uuid(&self) -> bool {
        match self {
            Self::Int(_) => false,
            Self::Str(s) => {
                let groups: Vec<&str> = s.split('-').collect();
                groups.len() == 5
                    && groups
                        .iter()
                        .zip([8, 4, 4, 4, 12])
                        .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
            }
        }
    }

    /// The text a string id would have (the canonical form used for equality and hashing).
    fn key(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Self::Int(v) => std::borrow::Cow::Owned(v.to_string()),
            Self::Str(s) => std::borrow::Cow::Borrowed(s),
        }
    }
}

/// `Some(v)` when `s` is the canonical decimal spelling of `v` (no sign, no leading zero).
fn canonical_u64(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

impl PartialEq for ApiId {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Int(a), Self::Int(b)) => a == b,
            (Self::Str(a), Self::Str(b)) => a == b,
            _ => self.key() == other.key(),
        }
    }
}

impl Eq for ApiId {}

impl Hash for ApiId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

impl From<u64> for ApiId {
    fn from(value: u64) -> Self {
        Self::Int(value)
    }
}

impl From<String> for ApiId {
    fn from(value: String) -> Self {
        Self::Str(value)
    }
}

impl From<&str> for ApiId {
    fn from(value: &str) -> Self {
        Self::Str(value.to_owned())
    }
}

impl fmt::Display for ApiId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Int(v) => write!(f, "{v}"),
            Self::Str(s) => f.write_str(s),
        }
    }
}

impl FromStr for ApiId {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(IdError::EmptyId);
        }
        Ok(canonical_u64(s).map_or_else(|| Self::Str(s.to_owned()), Self::Int))
    }
}

impl Serialize for ApiId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Int(v) => serializer.serialize_u64(*v),
            Self::Str(s) => serializer.serialize_str(s),
        }
    }
}

impl<'de> Deserialize<'de> for ApiId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ApiId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an identifier (non-negative integer or string)")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ApiId, E> {
                Ok(ApiId::Int(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ApiId, E> {
                u64::try_from(v)
                    .map(ApiId::Int)
                    .map_err(|_| E::custom(IdError::NegativeId(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ApiId, E> {
                Ok(ApiId::Str(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<ApiId, E> {
                Ok(ApiId::Str(v))
            }
        }
        deserializer.deserialize_any(V)
    }
}

json_schema_impl!(ApiId, "ApiId", {
    "description": "Identifier sent as a non-negative integer or as a string (numeric or UUID).",
    "anyOf": [
        { "type": "integer", "format": "uint64", "minimum": 0 },
        { "type": "string" }
    ]
});

/// An integer status or code that the API sends as `1` or `"1"` (customer create, field
/// create and Shahkar send `"status": "1"`; refunds send `"retry_count": "01"`).
///
/// * serde: accepts a JSON integer, an integral float, or a string of an optionally signed
///   integer (leading zeros, surrounding spaces and Persian digits allowed); emits a JSON
///   integer.
/// * `Display`/`FromStr`: the decimal integer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LenientInt(pub i64);

impl LenientInt {
    /// The integer value.
    #[must_use]
    pub const fn get(self) -> i64 {
        self.0
    }
}

impl From<i64> for LenientInt {
    fn from(value: i64) -> Self {
        Self(value)
    }
}

impl From<LenientInt> for i64 {
    fn from(value: LenientInt) -> Self {
        value.0
    }
}

impl PartialEq<i64> for LenientInt {
    fn eq(&self, other: &i64) -> bool {
        self.0 == *other
    }
}

impl fmt::Display for LenientInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for LenientInt {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = normalize_digits(s.trim());
        let t = t.strip_prefix('+').unwrap_or(&t);
        t.parse::<i64>()
            .map(Self)
            .map_err(|_| IdError::NotAnInteger(s.to_owned()))
    }
}

impl Serialize for LenientInt {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(self.0)
    }
}

impl<'de> Deserialize<'de> for LenientInt {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = LenientInt;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer or a string holding an integer")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<LenientInt, E> {
                Ok(LenientInt(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<LenientInt, E> {
                i64::try_from(v)
                    .map(LenientInt)
                    .map_err(|_| E::custom(IdError::NotAnInteger(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<LenientInt, E> {
                const MAX_EXACT: f64 = 9_007_199_254_740_992.0;
                if v.is_finite() && v.fract() == 0.0 && v.abs() <= MAX_EXACT {
                    #[allow(clippy::cast_possible_truncation)]
                    Ok(LenientInt(v as i64))
                } else {
                    Err(E::custom(IdError::NotAnInteger(v.to_string())))
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<LenientInt, E> {
                v.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_any(V)
    }
}

json_schema_impl!(LenientInt, "LenientInt",
    de: {
        "description": "Integer sent as a number or as a numeric string.",
        "anyOf": [
            { "type": "integer", "format": "int64" },
            { "type": "string", "pattern": "^\\s*[+-]?[0-9]+\\s*$" }
        ]
    },
    ser: { "type": "integer", "format": "int64" }
);

/// A flag that the API sends as `true`/`false`, `1`/`0` or as strings of those (direct-debit
/// `is_instant` is documented as 0/1, sent by Postman as `true`, returned as `true`, `1` or `0`).
///
/// * serde: accepts booleans, the integers 0 and 1, and the strings `"0"`, `"1"`, `"true"`,
///   `"false"` (case-insensitive); emits a JSON boolean.
/// * `Display`: `true`/`false`; `FromStr` accepts the same strings as serde.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LenientBool(pub bool);

impl LenientBool {
    /// The boolean value.
    #[must_use]
    pub const fn get(self) -> bool {
        self.0
    }
}

impl From<bool> for LenientBool {
    fn from(value: bool) -> Self {
        Self(value)
    }
}

impl From<LenientBool> for bool {
    fn from(value: LenientBool) -> Self {
        value.0
    }
}

impl fmt::Display for LenientBool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for LenientBool {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match normalize_digits(s.trim()).to_ascii_lowercase().as_str() {
            "1" | "true" => Ok(Self(true)),
            "0" | "false" => Ok(Self(false)),
            _ => Err(IdError::NotABoolean(s.to_owned())),
        }
    }
}

impl Serialize for LenientBool {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bool(self.0)
    }
}

impl<'de> Deserialize<'de> for LenientBool {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = LenientBool;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a boolean, 0/1, or a string of those")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<LenientBool, E> {
                Ok(LenientBool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<LenientBool, E> {
                match v {
                    0 => Ok(LenientBool(false)),
                    1 => Ok(LenientBool(true)),
                    _ => Err(E::custom(IdError::NotABoolean(v.to_string()))),
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<LenientBool, E> {
                match v {
                    0 => Ok(LenientBool(false)),
                    1 => Ok(LenientBool(true)),
                    _ => Err(E::custom(IdError::NotABoolean(v.to_string()))),
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<LenientBool, E> {
                v.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_any(V)
    }
}

json_schema_impl!(LenientBool, "LenientBool",
    de: {
        "description": "Boolean sent as true/false, 0/1, or a string of those.",
        "anyOf": [
            { "type": "boolean" },
            { "type": "integer", "enum": [0, 1] },
            { "type": "string", "enum": ["0", "1", "true", "false"] }
        ]
    },
    ser: { "type": "boolean" }
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    fn id(json: &str) -> ApiId {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn reference_ids_round_trip_losslessly() {
        for json in [
            "166958852971",                              // refund transaction_id
            "167368910957",                              // refund gateway_transaction_id
            "165374316188",                              // transaction id
            "163559577615",                              // settlement transaction_id
            "159024236678",                              // settlement gateway_transaction_id
            "161113594985",                              // cash-in gateway_transaction_id
            "22822",                                     // v2.1 iban_id (integer)
            "662",                                       // business id
            "1",                                         // custom field id
            "\"159714176734\"",                          // withdrawal gateway id (string)
            "\"0bbc76c0-9489-11ed-b643-ed25e49760ca\"",  // refund id
            "\"406f20d0-397a-11ec-b752-6b667e3fe6ba\"",  // settlement id
            "\"083510a0-f998-11eb-8c11-27d425426e06\"",  // v3 iban_id (uuid)
            "\"35e431e0-210c-11ec-9200-79b42496d8e0\"",  // customer id
            "\"9f307e30-dc77-11ea-830e-7533ca1787c5\"",  // mandate id
            "\"8c6e27c0-dbbd-11ea-a2f6-e9c8bf97463f\"",  // withdrawal id
            "\"73b82710-de88-11ec-ae19-47c5d7c58ae4\"",  // transaction uuid
            "\"406f20de-397a-11ec-bf52-6b667e3feg6ba\"", // MD's invalid UUID: kept as text
            "\"143992020000736\"",                       // cash-in code (15 digits)
            "\"123456\"",                                // track_id
            "\"d2c5bf5a-280f-4ee5-8888-3d220b63bcc0\"",  // track_id uuid
            "\"4FFSKSZ9I3CJWOA\"",                       // IPG token
        ] {
            let v = id(json);
            assert_eq!(serde_json::to_string(&v).unwrap(), json);
        }
    }

    #[test]
    fn int_and_string_ids_are_equal_by_meaning() {
        let a = id("159714176734");
        let b = id("\"159714176734\"");
        assert_eq!(a, b);
        assert_eq!(a.as_u64(), Some(159_714_176_734));
        assert_eq!(b.as_u64(), Some(159_714_176_734));
        let set: HashSet<ApiId> = [a, b].into_iter().collect();
        assert_eq!(set.len(), 1);
        assert_ne!(id("13"), id("\"013\""));
        assert_eq!(id("\"013\"").as_u64(), None);
    }

    #[test]
    fn uuid_detection_and_accessors() {
        let u = id("\"0bbc76c0-9489-11ed-b643-ed25e49760ca\"");
        assert!(u.is_uuid());
        assert_eq!(u.as_str(), Some("0bbc76c0-9489-11ed-b643-ed25e49760ca"));
        assert_eq!(u.as_u64(), None);
        assert!(!id("\"406f20de-397a-11ec-bf52-6b667e3feg6ba\"").is_uuid());
        assert!(!id("166958852971").is_uuid());
        assert_eq!(id("166958852971").as_str(), None);
        assert_eq!(u.to_string(), "0bbc76c0-9489-11ed-b643-ed25e49760ca");
    }

    #[test]
    fn id_errors() {
        assert_eq!("".parse::<ApiId>().unwrap_err(), IdError::EmptyId);
        let e = serde_json::from_str::<ApiId>("-5").unwrap_err().to_string();
        assert!(e.contains("negative"), "{e}");
        assert!(serde_json::from_str::<ApiId>("1.5").is_err());
        assert!(serde_json::from_str::<ApiId>("null").is_err());
        assert_eq!(
            "166958852971".parse::<ApiId>().unwrap(),
            ApiId::Int(166_958_852_971)
        );
        assert!(matches!("0012".parse::<ApiId>().unwrap(), ApiId::Str(_)));
    }

    #[test]
    fn lenient_int_shapes() {
        for (json, want) in [
            ("1", 1),
            ("\"1\"", 1),
            ("0", 0),
            ("-1", -1),
            ("\"-3\"", -3),
            ("\"01\"", 1), // refund retry_count
            ("2", 2),      // IPG verify status 2 = already verified
            ("432000", 432_000),
            ("1.0", 1),
            ("\" 7 \"", 7),
            ("\"۱\"", 1),
        ] {
            let v: LenientInt = serde_json::from_str(json).unwrap();
            assert_eq!(v, want, "{json}");
        }
        assert_eq!(serde_json::to_string(&LenientInt(1)).unwrap(), "1");
        for bad in ["\"one\"", "1.5", "\"\"", "true", "18446744073709551615"] {
            assert!(serde_json::from_str::<LenientInt>(bad).is_err(), "{bad}");
        }
        let e = serde_json::from_str::<LenientInt>("\"x\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected an integer"), "{e}");
    }

    #[test]
    fn lenient_bool_shapes() {
        for (json, want) in [
            ("true", true),
            ("false", false),
            ("1", true),
            ("0", false),
            ("\"1\"", true),
            ("\"0\"", false),
            ("\"TRUE\"", true),
            ("\"false\"", false),
        ] {
            let v: LenientBool = serde_json::from_str(json).unwrap();
            assert_eq!(v.get(), want, "{json}");
        }
        assert_eq!(serde_json::to_string(&LenientBool(true)).unwrap(), "true");
        for bad in ["2", "\"yes\"", "null", "-1"] {
            assert!(serde_json::from_str::<LenientBool>(bad).is_err(), "{bad}");
        }
    }

    fn any_id() -> impl Strategy<Value = ApiId> {
        prop_oneof![
            any::<u64>().prop_map(ApiId::Int),
            "[0-9a-zA-Z-]{1,40}".prop_map(ApiId::Str),
            "[0-9]{1,25}".prop_map(ApiId::Str),
        ]
    }

    proptest! {
        #![proptest_config(super::super::proptest_config())]

        #[test]
        fn api_id_serde_is_lossless(v in any_id()) {
            let json = serde_json::to_string(&v).unwrap();
            let back: ApiId = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(serde_json::to_string(&back).unwrap(), json);
            prop_assert_eq!(back, v);
        }

        #[test]
        fn api_id_display_parse(v in any_id()) {
            prop_assert_eq!(v.to_string().parse::<ApiId>().unwrap(), v);
        }

        #[test]
        fn lenient_int_round_trips(v in any::<i64>()) {
            let l = LenientInt(v);
            prop_assert_eq!(l.to_string().parse::<LenientInt>().unwrap(), l);
            let json = serde_json::to_string(&l).unwrap();
            prop_assert_eq!(serde_json::from_str::<LenientInt>(&json).unwrap(), l);
            prop_assert_eq!(serde_json::from_str::<LenientInt>(&format!("\"{v}\"")).unwrap(), l);
        }

        #[test]
        fn lenient_bool_round_trips(v in any::<bool>()) {
            let b = LenientBool(v);
            prop_assert_eq!(b.to_string().parse::<LenientBool>().unwrap(), b);
            let json = serde_json::to_string(&b).unwrap();
            prop_assert_eq!(serde_json::from_str::<LenientBool>(&json).unwrap(), b);
        }
    }
}
