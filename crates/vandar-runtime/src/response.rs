//! Reading answers: whether a 2xx body is a failure (`status: 0`, `error: true`), repairs of
//! the broken JSON error bodies the docs show, and `Retry-After`.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde::Deserialize;
use serde::de::value::{BorrowedStrDeserializer, MapAccessDeserializer, StringDeserializer};
use serde::de::{DeserializeOwned, DeserializeSeed, Deserializer, Error as _, MapAccess, Visitor};
use serde_json::{Map, Value};

/// Whether a 2xx body is a failure: a top-level `status` of 0 (number or string) or
/// `error: true` (Sanbod's envelope).
pub(crate) fn is_failure_body(v: &Value) -> bool {
    let Some(obj) = v.as_object() else {
        return false;
    };
    obj.get("status").is_some_and(status_is_zero) || obj.get("error") == Some(&Value::Bool(true))
}

/// Whether a `status` value says failure: the integer 0 or a string that trims to "0".
fn status_is_zero(status: &Value) -> bool {
    match status {
        Value::Number(n) => n.as_i64() == Some(0),
        Value::String(s) => s.trim() == "0",
        _ => false,
    }
}

/// [`is_failure_body`] straight from the bytes, without building a [`Value`]: the top-level
/// `status` and `error` are read, everything else is skipped (still checked to be JSON).
pub(crate) fn is_failure_json(body: &[u8]) -> bool {
    may_be_failure(body) && serde_json::from_slice::<FailureProbe>(body).is_ok_and(|p| p.failure)
}

/// A 2xx body decoded as `T` in one pass that also reads the failure flags of its top-level
/// object (issue 22: the check was a second parse of every answer that could be one, a whole
/// statement page among them): `(value, failure)`, `failure` as [`is_failure_body`] would say.
///
/// `None` when the body does not decode as `T` this way (not JSON, not a `T`, or a `T` that
/// cannot be read from a map alone); the caller then asks [`is_failure_json`] and decodes on
/// its own, so every answer is the one the two separate passes give.
pub(crate) fn decode_flagged<T: DeserializeOwned>(body: &[u8]) -> Option<(T, bool)> {
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        // any other JSON value is never a failure
        return serde_json::from_slice(body)
            .ok()
            .map(|value| (value, false));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let decoded = de.deserialize_map(TopLevel(PhantomData::<T>)).ok()?;
    de.end().ok()?;
    Some(decoded)
}

/// The top-level object's `status` and `error` as [`is_failure_body`] reads them (the last of
/// duplicate keys counts).
#[derive(Default)]
struct Flags {
    status_zero: bool,
    error_true: bool,
}

/// Which flag the value after the current key sets.
#[derive(Clone, Copy)]
enum Flag {
    Status,
    Error,
}

/// Reads the top-level object for [`decode_flagged`]: `T` from its entries, through [`Flagged`].
struct TopLevel<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for TopLevel<T> {
    type Value = (T, bool);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(T, bool), A::Error> {
        let mut flags = Flags::default();
        let value = T::deserialize(Entries(Flagged {
            map,
            flags: &mut flags,
            pending: None,
        }))?;
        Ok((value, flags.status_zero || flags.error_true))
    }
}

/// The entries of the top-level object as a deserializer of `T`: a map (also for an
/// `Option`, a newtype or an enum that wraps one).
struct Entries<'f, A>(Flagged<'f, A>);

impl<'de, A: MapAccess<'de>> Deserializer<'de> for Entries<'_, A> {
    type Error = A::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        visitor.visit_map(self.0)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        visitor.visit_enum(MapAccessDeserializer::new(self.0))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

/// The top-level entries, passed on as they are, except that each key is read first (to know
/// whether it is `status` or `error`) and the value of such a key is read as a [`Value`] to
/// set its flag, then given to `T`.
struct Flagged<'f, A> {
    map: A,
    flags: &'f mut Flags,
    pending: Option<Flag>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Flagged<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        let Some(KeyText(key)) = self.map.next_key::<KeyText<'de>>()? else {
            return Ok(None);
        };
        self.pending = match key.as_ref() {
            "status" => Some(Flag::Status),
            "error" => Some(Flag::Error),
            _ => None,
        };
        match key {
            Cow::Borrowed(key) => seed.deserialize(BorrowedStrDeserializer::new(key)),
            Cow::Owned(key) => seed.deserialize(StringDeserializer::new(key)),
        }
        .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        let Some(flag) = self.pending.take() else {
            return self.map.next_value_seed(seed);
        };
        let value: Value = self.map.next_value()?;
        match flag {
            Flag::Status => self.flags.status_zero = status_is_zero(&value),
            Flag::Error => self.flags.error_true = value == Value::Bool(true),
        }
        seed.deserialize(value).map_err(A::Error::custom)
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

/// A key's text, borrowed from the body when it has no escapes.
struct KeyText<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for KeyText<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Text;
        impl<'de> Visitor<'de> for Text {
            type Value = KeyText<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<KeyText<'de>, E> {
                Ok(KeyText(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<KeyText<'de>, E> {
                Ok(KeyText(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<KeyText<'de>, E> {
                Ok(KeyText(Cow::Owned(v)))
            }
        }
        d.deserialize_str(Text)
    }
}

/// Whether the bytes of `body` leave room for a failure at all; when they do not, the probe
/// (a second parse of every 2xx answer) is skipped.
///
/// Only the keys of the top-level object are looked at (issue 22: a 100-item page whose items
/// carry a `status` of their own was parsed twice). `false` when the body is not an object,
/// or when no top-level key is written with escapes, every top-level `"status"` is followed
/// by a value that cannot be 0 and every top-level `"error"` by one that cannot be `true`.
/// The bytes are not validated: for a body that is not JSON the answer may be anything,
/// which is sound because the probe finds no failure in a body that is not JSON either.
fn may_be_failure(body: &[u8]) -> bool {
    let Some(open) = body.iter().position(|b| !b.is_ascii_whitespace()) else {
        return false;
    };
    if body[open] != b'{' {
        return false;
    }
    let mut depth = 1usize;
    // at depth 1, whether the next string is a key (after `{` or `,`) or a value
    let mut key_next = true;
    let mut i = open + 1;
    while let Some(&byte) = body.get(i) {
        i += 1;
        match byte {
            b'"' => {
                let Some((end, escaped)) = string_end(body, i) else {
                    return false;
                };
                let text = &body[i..end];
                i = end + 1;
                if depth == 1 && key_next {
                    key_next = false;
                    if escaped {
                        return true;
                    }
                    let maybe = match text {
                        b"status" => value_after_key(&body[i..]).is_some_and(may_be_zero),
                        b"error" => value_after_key(&body[i..])
                            .is_some_and(|v| matches!(v.first(), None | Some(b't'))),
                        _ => false,
                    };
                    if maybe {
                        return true;
                    }
                }
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return false;
                }
            }
            b',' if depth == 1 => key_next = true,
            _ => {}
        }
    }
    false
}

/// The bytes of the value after a key's closing quote, from its first byte (the `:` and white
/// space skipped); `None` when no `:` follows (not a key).
fn value_after_key(after_key: &[u8]) -> Option<&[u8]> {
    let rest = after_key.trim_ascii_start().strip_prefix(b":")?;
    Some(rest.trim_ascii_start())
}

/// Whether a `status` value starting at `value` may be 0 as [`is_failure_body`] reads it: a
/// number that may be zero, or a string that may trim to "0".
fn may_be_zero(value: &[u8]) -> bool {
    match value {
        [b'1'..=b'9' | b't' | b'f' | b'n' | b'[' | b'{', ..] => false,
        [b'-', b'1'..=b'9', ..] => false,
        [b'"', rest @ ..] => match string_end(rest, 0) {
            Some((end, false)) => {
                std::str::from_utf8(&rest[..end]).map_or(true, |t| t.trim() == "0")
            }
            _ => true,
        },
        _ => true,
    }
}

/// The index of the `"` that closes the string whose text starts at `body[from]`, and
/// whether the text holds an escape; `None` when it is not closed.
fn string_end(body: &[u8], from: usize) -> Option<(usize, bool)> {
    let mut escaped = false;
    let mut i = from;
    loop {
        i += body
            .get(i..)?
            .iter()
            .position(|&b| b == b'"' || b == b'\\')?;
        if body[i] == b'"' {
            return Some((i, escaped));
        }
        escaped = true;
        i += 2;
    }
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

    /// Valid JSON text built from the same pieces, nested: top-level and nested `status` and
    /// `error` keys (also escaped), strings with escapes, Persian text and white space.
    fn json_like() -> impl Strategy<Value = String> {
        let leaf = prop::sample::select(vec![
            "0",
            "-0",
            "1",
            "-1",
            "0.0",
            "-12.5e3",
            "true",
            "false",
            "null",
            "\"0\"",
            "\" 0 \"",
            "\"\u{a0}0\u{2003}\"",
            "\"1\"",
            "\"\\u0030\"",
            "\"a\\\"b\\\\\"",
            "\"سلام دنیا، پرداخت موفق\"",
            "\"status\"",
            "\"0123456789abcdef0123456789\"",
        ])
        .prop_map(str::to_owned);
        // `status` and `error` the most often, at the top as in the nested objects
        let key = prop::sample::select(vec![
            "status",
            "status",
            "status",
            "error",
            "error",
            "data",
            "st\\u0061tus",
            "\\u0065rror",
            "sta\\\"tus",
            "توضیحات",
        ]);
        let gap = prop::sample::select(vec!["", " ", "\n  ", "\t"]);
        let object = move |values: BoxedStrategy<String>| {
            prop::collection::vec((key.clone(), gap.clone(), values), 0..6).prop_map(|entries| {
                let body: Vec<String> = entries
                    .into_iter()
                    .map(|(k, g, v)| format!("{g}\"{k}\"{g}:{g}{v}"))
                    .collect();
                format!("{{{}}}", body.join(","))
            })
        };
        let nested = object.clone();
        let value = leaf.clone().prop_recursive(3, 32, 5, move |inner| {
            prop_oneof![
                nested(inner.clone().boxed()),
                prop::collection::vec(inner, 0..5)
                    .prop_map(|items| format!("[{}]", items.join(", "))),
            ]
        });
        // mostly an object at the top (what the pre-check reads), sometimes any value
        let top_value = prop_oneof![3 => leaf, 1 => value.clone()].boxed();
        prop_oneof![4 => object(top_value), 1 => value]
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Ignoring {
        data: Option<Value>,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Typed {
        status: Option<i64>,
        error: Option<bool>,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Flattened {
        status: Option<Value>,
        #[serde(flatten)]
        rest: Map<String, Value>,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(untagged)]
    enum Either {
        Typed(Typed),
        Other(Value),
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Newtype(Map<String, Value>);

    /// [`decode_flagged`] gives what the two separate passes give, and it gives an answer
    /// (no fall back) whenever the plain decoding succeeds.
    fn one_pass_agrees<T: DeserializeOwned + PartialEq + std::fmt::Debug>(
        text: &str,
    ) -> Result<(), TestCaseError> {
        let failure = is_failure_json(text.as_bytes());
        let decoded = serde_json::from_slice::<T>(text.as_bytes()).ok();
        match decode_flagged::<T>(text.as_bytes()) {
            Some((value, flagged)) => {
                prop_assert_eq!(flagged, failure, "{}", text);
                prop_assert_eq!(Some(value), decoded, "{}", text);
            }
            None => prop_assert!(decoded.is_none(), "fell back on {}", text),
        }
        Ok(())
    }

    #[test]
    fn one_pass_reads_the_top_level_flags_only() {
        let page = br#"{"status": 1, "data": [{"status": 0, "error": true}], "error": false}"#;
        let (value, failure) = decode_flagged::<Value>(page).unwrap();
        assert!(!failure);
        assert_eq!(value["data"][0]["status"], 0);
        for (body, expected) in [
            (&br#"{"status": 0, "message": "x"}"#[..], true),
            (br#"{"status": " 0 "}"#, true),
            (br#"{"st\u0061tus": 0}"#, true),
            (br#"{"status": 0, "status": 1}"#, false),
            (br#"{"status": 1, "error": true}"#, true),
            (br#"{"error": "true"}"#, false),
            (br#"[{"status": 0}]"#, false),
        ] {
            let (_, failure) = decode_flagged::<Value>(body).unwrap();
            assert_eq!(failure, expected, "{}", String::from_utf8_lossy(body));
        }
        // a typed answer keeps its own `status`, and an untyped one skips it
        let (typed, failure) = decode_flagged::<Typed>(br#"{"status": 0, "x": 1}"#).unwrap();
        assert_eq!((typed.status, failure), (Some(0), true));
        let (_, failure) = decode_flagged::<Ignoring>(br#"{"status": "0"}"#).unwrap();
        assert!(failure);
        // not a `T`, or not JSON: the caller takes the slow way
        assert!(decode_flagged::<Typed>(br#"{"status": "one"}"#).is_none());
        assert!(decode_flagged::<Value>(br#"{"status": 0"#).is_none());
        assert!(decode_flagged::<Value>(br#"{"status": 0} trailing"#).is_none());
    }

    proptest! {
        /// The one-pass decoding agrees with the separate check and decoding, for a typed
        /// answer, one that ignores `status`, a flattened one, an untagged enum, a newtype, an
        /// `Option` and a plain value.
        #[test]
        fn one_pass_agrees_with_two(text in json_like()) {
            one_pass_agrees::<Value>(&text)?;
            one_pass_agrees::<Typed>(&text)?;
            one_pass_agrees::<Ignoring>(&text)?;
            one_pass_agrees::<Flattened>(&text)?;
            one_pass_agrees::<Either>(&text)?;
            one_pass_agrees::<Newtype>(&text)?;
            one_pass_agrees::<Option<Typed>>(&text)?;
        }

        /// On valid JSON, nested any deep, the byte pre-check never hides a failure that the
        /// value check sees, and the whole check agrees with it.
        #[test]
        fn the_pre_check_agrees_with_the_value_check_on_json(text in json_like()) {
            let value: Value = serde_json::from_str(&text).expect("the strategy writes JSON");
            let failure = is_failure_body(&value);
            prop_assert!(!failure || may_be_failure(text.as_bytes()), "{}", text);
            prop_assert_eq!(is_failure_json(text.as_bytes()), failure, "{}", text);
        }

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
            br#"{"data": {"status": 0}, "status": 1}"#,
            br#"{"status": -1, "data": [{"status": 0, "error": true}, {"st\u0061tus": 0}]}"#,
            br#"{"status": "1", "message": "\u067e\u0631\u062f\u0627\u062e\u062a \"0\""}"#,
            br#"[{"status": 0}]"#,
            br#"  "status""#,
        ] {
            assert!(!may_be_failure(fine), "{}", String::from_utf8_lossy(fine));
        }
        for maybe in [
            &br#"{"status":0}"#[..],
            br#"{"status" : "0"}"#,
            br#"{"error": true}"#,
            br#"{"st\u0061tus": 1}"#,
            br#"{"data": {"status": 1}, "status": -0}"#,
            br#"{"status": 1, "status": "\u0030"}"#,
            br#"{"data": [1, "]"], "error": true}"#,
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
