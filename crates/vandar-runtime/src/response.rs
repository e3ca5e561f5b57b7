//! Reading answers: whether a 2xx body is a failure (`status: 0`, `error: true`), repairs of
//! the broken JSON error bodies the docs show, and `Retry-After`.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde_json::{Map, Value};

/// Whether a 2xx body is a failure: a top-level `status` of 0 (number or string) or
/// `error: true` (Sanbod's envelope).
pub(crate) fn is_failure_body(v: &Value) -> bool {
    let Some(obj) = v.as_object() else {
        return false;
    };
    let status_zero = match obj.get("status") {
        Some(Value::Number(n)) => n.as_i64() == Some(0),
        Some(Value::String(s)) => s.trim() == "0",
        _ => false,
    };
    status_zero || obj.get("error") == Some(&Value::Bool(true))
}

/// [`is_failure_body`] straight from the bytes, without building a [`Value`]: the top-level
/// `status` and `error` are read, everything else is skipped (still checked to be JSON).
pub(crate) fn is_failure_json(body: &[u8]) -> bool {
    may_be_failure(body) && serde_json::from_slice::<FailureProbe>(body).is_ok_and(|p| p.failure)
}

/// Whether the bytes of `body` leave room for a failure at all; when they do not, the probe
/// (a second parse of every 2xx answer) is skipped. `false` only when no key can be written
/// with escapes (no `\u` anywhere) and every `"status"` key is followed by a value that cannot
/// be 0 (it starts with a digit 1-9, `t`, `f`, `n`, `[` or `{`) and every `"error"` key by a
/// value that cannot be `true`. A `"status"` inside a string is looked at too: that can only
/// make the answer "maybe", never hide a real key.
fn may_be_failure(body: &[u8]) -> bool {
    /// The first byte of the value after a key's closing quote (the `:` and white space
    /// skipped); `None` when no `:` follows (not a key).
    fn value_start(after_key: &[u8]) -> Option<Option<u8>> {
        let rest = after_key.trim_ascii_start().strip_prefix(b":")?;
        Some(rest.trim_ascii_start().first().copied())
    }
    // One pass over the bytes, looking at each `"` and `\` (issue 22: a search per key ran
    // as much code again as the rest of this check, on every 2xx answer). A `"status"` that
    // sits inside a string, or overlaps another, is looked at too: that only says "maybe".
    for (i, &byte) in body.iter().enumerate() {
        let rest = &body[i + 1..];
        match byte {
            b'\\' if rest.first() == Some(&b'u') => return true,
            b'"' => {
                if let Some(after) = rest.strip_prefix(b"status\"") {
                    let maybe_zero = value_start(after).is_some_and(|c| {
                        !matches!(c, Some(b'1'..=b'9' | b't' | b'f' | b'n' | b'[' | b'{'))
                    });
                    if maybe_zero {
                        return true;
                    }
                } else if let Some(after) = rest.strip_prefix(b"error\"")
                    && value_start(after).is_some_and(|c| matches!(c, None | Some(b't')))
                {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

/// The failure flags of a top-level JSON object (see [`is_failure_body`]); any other JSON
/// value is not a failure. Duplicate keys: the last one counts, as in a [`Value`].
struct FailureProbe {
    failure: bool,
}

impl<'de> serde::Deserialize<'de> for FailureProbe {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
        use std::fmt;

        /// Which flag a value is read for.
        #[derive(Clone, Copy)]
        enum Flag {
            /// `status`: the integer 0 or a string that trims to "0".
            StatusZero,
            /// `error`: `true`.
            ErrorTrue,
        }

        impl<'de> serde::de::DeserializeSeed<'de> for Flag {
            type Value = bool;
            fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
                d.deserialize_any(self)
            }
        }

        impl<'de> Visitor<'de> for Flag {
            type Value = bool;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E>(self, v: bool) -> Result<bool, E> {
                Ok(matches!(self, Flag::ErrorTrue) && v)
            }
            fn visit_i64<E>(self, v: i64) -> Result<bool, E> {
                Ok(matches!(self, Flag::StatusZero) && v == 0)
            }
            fn visit_u64<E>(self, v: u64) -> Result<bool, E> {
                Ok(matches!(self, Flag::StatusZero) && v == 0)
            }
            fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
                // `Value::as_i64` is `None` for a float: not a status 0
                Ok(false)
            }
            fn visit_str<E>(self, v: &str) -> Result<bool, E> {
                Ok(matches!(self, Flag::StatusZero) && v.trim() == "0")
            }
            fn visit_unit<E>(self) -> Result<bool, E> {
                Ok(false)
            }
            fn visit_none<E>(self) -> Result<bool, E> {
                Ok(false)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(false)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(false)
            }
        }

        struct Probe;

        impl<'de> Visitor<'de> for Probe {
            type Value = FailureProbe;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FailureProbe, A::Error> {
                let (mut status_zero, mut error_true) = (false, false);
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match key.as_ref() {
                        "status" => status_zero = map.next_value_seed(Flag::StatusZero)?,
                        "error" => error_true = map.next_value_seed(Flag::ErrorTrue)?,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(FailureProbe {
                    failure: status_zero || error_true,
                })
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FailureProbe, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(FailureProbe { failure: false })
            }
            fn visit_bool<E>(self, _: bool) -> Result<FailureProbe, E> {
                Ok(FailureProbe { failure: false })
            }
            fn visit_i64<E>(self, _: i64) -> Result<FailureProbe, E> {
                Ok(FailureProbe { failure: false })
            }
            fn visit_u64<E>(self, _: u64) -> Result<FailureProbe, E> {
                Ok(FailureProbe { failure: false })
            }
            fn visit_f64<E>(self, _: f64) -> Result<FailureProbe, E> {
                Ok(FailureProbe { failure: false })
            }
            fn visit_str<E>(self, _: &str) -> Result<FailureProbe, E> {
                Ok(FailureProbe { failure: false })
            }
            fn visit_unit<E>(self) -> Result<FailureProbe, E> {
                Ok(FailureProbe { failure: false })
            }
        }

        d.deserialize_any(Probe)
    }
}

/// `Retry-After` as seconds or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(text).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// Repair the broken JSON error bodies the docs show: `{ "unauthorized" }` (a lone string) and
/// `{"status":0,"error": Unauthenticated }` (an unquoted word). Only small `{...}` bodies are
/// tried; anything else is left alone.
pub(crate) fn repair(body: &[u8]) -> Option<Value> {
    let text = std::str::from_utf8(body).ok()?.trim();
    if text.len() > 2048 || !text.starts_with('{') || !text.ends_with('}') {
        return None;
    }
    let inner = text[1..text.len() - 1].trim();
    // `{ "unauthorized" }`
    if let Some(s) = unquote(inner) {
        return Some(serde_json::json!({ "message": s }));
    }
    let mut out = Map::new();
    for part in inner.split(',') {
        let (k, v) = part.split_once(':')?;
        let key = unquote(k.trim())?;
        let v = v.trim();
        let value = if let Ok(n) = v.parse::<i64>() {
            Value::from(n)
        } else if let Some(s) = unquote(v) {
            Value::from(s)
        } else if !v.is_empty() && !v.contains(['{', '}', '[', ']', '"']) {
            Value::from(v)
        } else {
            return None;
        };
        out.insert(key.to_string(), value);
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

fn unquote(s: &str) -> Option<&str> {
    let s = s.strip_prefix('"')?.strip_suffix('"')?;
    (!s.contains('"')).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use reqwest::header::HeaderValue;
    use serde_json::json;

    /// JSON-like text built from the pieces that matter to the probe: `status` and `error`
    /// keys (also escaped), values that are or are not a failure, nesting and whitespace.
    fn failure_like() -> impl Strategy<Value = String> {
        let piece = prop::sample::select(vec![
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            " ",
            "\n",
            "\"status\"",
            "\"error\"",
            "\"st\\u0061tus\"",
            "\"data\"",
            "0",
            "-0",
            "1",
            "0.0",
            "7",
            "true",
            "false",
            "null",
            "\"0\"",
            "\" 0 \"",
            "\"ok\"",
            "\"\\u0030\"",
            "1e3",
            "\"status\\\"\"",
        ]);
        prop::collection::vec(piece, 0..24).prop_map(|p| p.concat())
    }

    proptest! {
        /// The byte pre-check never hides a failure that the probe sees.
        #[test]
        fn the_pre_check_never_hides_a_failure(text in failure_like()) {
            let probe = serde_json::from_slice::<FailureProbe>(text.as_bytes())
                .is_ok_and(|p| p.failure);
            prop_assert!(!probe || may_be_failure(text.as_bytes()), "{}", text);
            prop_assert_eq!(is_failure_json(text.as_bytes()), probe, "{}", text);
        }
    }

    #[test]
    fn the_pre_check_skips_plain_successes() {
        for fine in [
            &br#"{"status":1,"token":"abc"}"#[..],
            br#"{"status": 1, "error": false, "data": {"status": 2}}"#,
            br#"{"token":"abc"}"#,
        ] {
            assert!(!may_be_failure(fine), "{}", String::from_utf8_lossy(fine));
        }
        for maybe in [
            &br#"{"status":0}"#[..],
            br#"{"status" : "0"}"#,
            br#"{"error": true}"#,
            br#"{"st\u0061tus": 1}"#,
            br#"{"data": {"status": 0}, "status": 1}"#,
        ] {
            assert!(may_be_failure(maybe), "{}", String::from_utf8_lossy(maybe));
        }
    }

    #[test]
    fn failure_bodies() {
        for failure in [
            json!({"status": 0, "errors": {"error": "boom"}}),
            json!({"status": "0"}),
            json!({"error": true, "message": {}}),
        ] {
            assert!(is_failure_body(&failure), "{failure}");
        }
        for fine in [
            json!({"status": 1}),
            json!({"status": 2, "errors": ["already verified"]}),
            json!({"error": false}),
            json!([{"status": 0}]),
            json!({"data": {"status": 0}}),
        ] {
            assert!(!is_failure_body(&fine), "{fine}");
        }
    }

    #[test]
    fn skimming_agrees_with_the_value_check() {
        for body in [
            r#"{"status":0,"errors":{"error":"boom"}}"#,
            r#"{"status":"0"}"#,
            r#"{"status":" 0 "}"#,
            r#"{"status":0.0}"#,
            r#"{"status":-0}"#,
            r#"{"status":1,"data":{"status":0,"error":true}}"#,
            r#"{"error":true,"message":{}}"#,
            r#"{"error":"true"}"#,
            r#"{"error":false,"status":2}"#,
            r#"{"status":0,"status":1}"#,
            r#"{"status":1,"status":0}"#,
            r#"{"st\u0061tus":0}"#,
            r#"[{"status":0}]"#,
            r#"[0,true]"#,
            r#"0"#,
            r#""0""#,
            r#"null"#,
            r#"{"status":0"#,
            r#"{"status":0} trailing"#,
            "not json",
            "",
        ] {
            let by_value =
                serde_json::from_slice::<Value>(body.as_bytes()).is_ok_and(|v| is_failure_body(&v));
            assert_eq!(is_failure_json(body.as_bytes()), by_value, "{body}");
        }
    }

    #[test]
    fn broken_documented_bodies_are_repaired() {
        assert_eq!(
            repair(br#"{ "unauthorized" }"#),
            Some(json!({"message": "unauthorized"}))
        );
        assert_eq!(
            repair(br#"{"status":0,"error": Unauthenticated }"#),
            Some(json!({"status": 0, "error": "Unauthenticated"}))
        );
        assert_eq!(repair(b"<html>bad gateway</html>"), None);
    }

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(
            retry_after(&h),
            Some(Duration::ZERO),
            "a past date means now"
        );
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
        // a server-controlled value cannot overflow anything: it is only a Duration here, and
        // every instant computed from it saturates (see `timeouts::instant_after`)
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("18446744073709551615"),
        );
        assert_eq!(retry_after(&h), Some(Duration::from_secs(u64::MAX)));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("99999999999999999999999"),
        );
        assert_eq!(retry_after(&h), None);
    }
}
