//! `Debug` of free-form JSON (an undocumented body or answer, a `serde_json::Value` or map
//! field): printed as `serde_json` prints it, except that the value of a sensitive key
//! ([`is_sensitive_name`], at any depth) is `[redacted]` and every other string, number and
//! key has its card-, IBAN- and national-code-shaped numbers masked ([`mask_shapes`]). The
//! generated code wraps every such field in [`RedactedJson`] (the xtask's `redact_debug`).

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde_json::{Map, Number, Value};

use super::{REDACTED, is_sensitive_name, mask_shapes};

/// `Debug` of free-form JSON with secrets hidden: the values of sensitive keys at any depth,
/// and card, IBAN and national-code shapes (see [`crate::redact`]).
///
/// ```
/// use vandar_runtime::redact::RedactedJson;
///
/// let body = serde_json::json!({
///     "card_number": "6037997599999993",
///     "note": "card 6037997599999993",
/// });
/// let text = format!("{:?}", RedactedJson(&body));
/// assert_eq!(
///     text,
///     r#"Object {"card_number": [redacted], "note": String("card 603799******9993")}"#
/// );
/// ```
pub struct RedactedJson<'a, T: ?Sized>(pub &'a T);

impl<T: JsonDebug + ?Sized> fmt::Debug for RedactedJson<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt_redacted(f)
    }
}

/// A free-form JSON shape that [`RedactedJson`] prints: a [`Value`], a JSON object, a map of
/// strings or values, and `Option`, `Vec`, `Box` and `Result` (a builder's field) of one.
pub trait JsonDebug {
    /// Write the `Debug` text with secrets hidden.
    ///
    /// # Errors
    /// The formatter's.
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

/// A string as its `Debug` (quoted, escaped), shapes masked.
struct Text<'a>(&'a str);

impl fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match mask_shapes(self.0) {
            Some(masked) => fmt::Debug::fmt(&masked, f),
            None => fmt::Debug::fmt(self.0, f),
        }
    }
}

/// The value of a map entry: `[redacted]` under a sensitive key.
struct Entry<'a, V: ?Sized>(&'a str, &'a V);

impl<V: JsonDebug + ?Sized> fmt::Debug for Entry<'_, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if is_sensitive_name(self.0) {
            f.write_str(REDACTED)
        } else {
            self.1.fmt_redacted(f)
        }
    }
}

fn fmt_number(n: &Number, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let text = n.to_string();
    let shown = mask_shapes(&text).unwrap_or(text);
    write!(f, "Number({shown})")
}

fn fmt_entries<'a, V: JsonDebug + ?Sized + 'a>(
    entries: impl Iterator<Item = (&'a String, &'a V)>,
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    f.debug_map()
        .entries(entries.map(|(k, v)| (Text(k), Entry(k, v))))
        .finish()
}

impl JsonDebug for Value {
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("Null"),
            Value::Bool(b) => write!(f, "Bool({b})"),
            Value::Number(n) => fmt_number(n, f),
            Value::String(s) => write!(f, "String({:?})", Text(s)),
            Value::Array(items) => {
                f.write_str("Array ")?;
                f.debug_list()
                    .entries(items.iter().map(RedactedJson))
                    .finish()
            }
            Value::Object(map) => {
                f.write_str("Object ")?;
                map.fmt_redacted(f)
            }
        }
    }
}

impl JsonDebug for Map<String, Value> {
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_entries(self.iter(), f)
    }
}

impl JsonDebug for String {
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&Text(self), f)
    }
}

impl<V: JsonDebug, S> JsonDebug for HashMap<String, V, S> {
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_entries(self.iter(), f)
    }
}

impl<V: JsonDebug> JsonDebug for BTreeMap<String, V> {
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_entries(self.iter(), f)
    }
}

impl<T: JsonDebug> JsonDebug for Option<T> {
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Some(v) => f.debug_tuple("Some").field(&RedactedJson(v)).finish(),
            None => f.write_str("None"),
        }
    }
}

impl<T: JsonDebug> JsonDebug for Vec<T> {
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.iter().map(RedactedJson))
            .finish()
    }
}

impl<T: JsonDebug + ?Sized> JsonDebug for Box<T> {
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt_redacted(f)
    }
}

/// A builder's field: the value, or why it was refused (a message that names no value).
impl<T: JsonDebug, E: fmt::Debug> JsonDebug for Result<T, E> {
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ok(v) => f.debug_tuple("Ok").field(&RedactedJson(v)).finish(),
            Err(e) => f.debug_tuple("Err").field(e).finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CARD: &str = "6037997599999993";
    const NATIONAL: &str = "0499370899";
    const IBAN: &str = "IR820540102680020817909002";

    fn shown<T: JsonDebug + ?Sized>(v: &T) -> String {
        format!("{:?}", RedactedJson(v))
    }

    #[test]
    fn sensitive_keys_at_any_depth_are_redacted_and_shapes_masked() {
        let v = json!({
            "card_number": CARD,
            "individual_national_code": NATIONAL,
            "password": {"old": "pw-SECRET-1", "new": "pw-SECRET-2"},
            "nested": [{"iban": IBAN, "cardPan": CARD}],
            "note": format!("paid by {CARD}, sheba {IBAN}"),
            "ref": 6_037_997_599_999_993_u64,
            CARD: "a key shaped like a card",
            "amount": 250_000,
            "span": "visible-span",
        });
        let text = shown(&v);
        for secret in [CARD, NATIONAL, "pw-SECRET", "820540102680020817909002"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        for visible in [
            "\"card_number\": [redacted]",
            "\"password\": [redacted]",
            "\"cardPan\": [redacted]",
            "603799******9993",
            "IR82******************9002",
            "Number(250000)",
            "String(\"visible-span\")",
        ] {
            assert!(text.contains(visible), "{visible} missing: {text}");
        }
    }

    #[test]
    fn the_format_is_serde_json_s_when_nothing_is_hidden() {
        let v = json!({"a": [1, true, null, "x\"y"], "b": {"c": 1.5}});
        assert_eq!(shown(&v), format!("{v:?}"));
        let map = v.as_object().unwrap().clone();
        assert_eq!(shown(&map), format!("{map:?}"));
        let opt: Result<Option<Value>, String> = Ok(Some(json!({"a": 1})));
        assert_eq!(shown(&opt), format!("{opt:?}"));
        let err: Result<Option<Value>, String> = Err("extra: not valid".into());
        assert_eq!(shown(&err), format!("{err:?}"));
        let list = vec![json!(1), json!("two")];
        assert_eq!(shown(&list), format!("{list:?}"));
        assert_eq!(shown(&None::<Value>), "None");
    }

    #[test]
    fn maps_of_strings() {
        let form: HashMap<String, String> = [
            ("national_code".to_owned(), NATIONAL.to_owned()),
            ("title".to_owned(), format!("card {CARD}")),
        ]
        .into();
        let text = shown(&form);
        assert!(!text.contains(NATIONAL) && !text.contains(CARD), "{text}");
        assert!(text.contains("\"national_code\": [redacted]"), "{text}");
        let tree: BTreeMap<String, Value> = [("otp".to_owned(), json!("123456"))].into();
        assert_eq!(shown(&tree), "{\"otp\": [redacted]}");
    }
}
