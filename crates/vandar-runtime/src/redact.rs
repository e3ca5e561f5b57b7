//! Scrubbing of text that an [`Error`](crate::Error) keeps: whatever a server echoes back (a
//! 422 that repeats the `api_key`, a 401 that repeats the client secret) is cut out before it
//! reaches `Display`, `Debug` or a log line.
//!
//! Two layers, both applied to every message, field error and raw body string of an error:
//!
//! * **the call's own secrets**: the bearer token or HTTP Basic credentials the request carried,
//!   and the values of sensitive request fields ([`SENSITIVE_FIELDS`]: api keys, tokens,
//!   passwords, card numbers, national codes, IBANs) are replaced by `[redacted]`;
//! * **shapes**: digit runs shaped like a card number (16–19 digits, optionally in groups of
//!   four), an IBAN (`IR` + 24 digits) or a national code (10 digits) are masked the way the
//!   domain types mask them (`603799******9993`, `IR06****************1234`, `******8416`),
//!   whoever they belong to.

use std::borrow::Cow;

use serde_json::Value;

/// Request fields whose values are secrets or personal data (matched case-insensitively, on
/// the whole name, at any depth of a JSON or form body).
pub const SENSITIVE_FIELDS: &[&str] = &[
    "api_key",
    "apikey",
    "access_token",
    "refresh_token",
    "refreshtoken",
    "client_secret",
    "password",
    "secret",
    "pin",
    "cvv2",
    "otp",
    "code_verifier",
    "card_number",
    "cardnumber",
    "valid_card_number",
    "source_card",
    "destination_card",
    "national_code",
    "nationalcode",
    "national_id",
    "nationalid",
    "iban",
    "sheba",
];

/// The shortest value treated as a secret (shorter ones would cut ordinary words).
const MIN_SECRET_LEN: usize = 4;

/// What is replaced for a known secret.
pub const REDACTED: &str = "[redacted]";

/// The secrets of one call, and the masking of sensitive shapes.
#[derive(Clone, Default)]
pub struct Scrubber {
    secrets: Vec<String>,
}

impl std::fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scrubber")
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

impl Scrubber {
    /// No known secrets (shapes are still masked).
    pub fn new() -> Self {
        Self::default()
    }

    /// Add one secret value (ignored when shorter than four characters).
    pub fn add(&mut self, secret: &str) {
        let secret = secret.trim();
        if secret.chars().count() >= MIN_SECRET_LEN && !self.secrets.iter().any(|s| s == secret) {
            self.secrets.push(secret.to_owned());
            // longest first, so a secret that contains another is cut whole
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// Add the values of every [`SENSITIVE_FIELDS`] member of a JSON body, at any depth.
    pub fn add_json_fields(&mut self, body: &Value) {
        match body {
            Value::Object(map) => {
                for (k, v) in map {
                    if is_sensitive(k) {
                        self.add_values(v);
                    } else {
                        self.add_json_fields(v);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| self.add_json_fields(v)),
            _ => {}
        }
    }

    fn add_values(&mut self, v: &Value) {
        match v {
            Value::String(s) => self.add(s),
            Value::Number(n) => self.add(&n.to_string()),
            Value::Array(items) => items.iter().for_each(|v| self.add_values(v)),
            Value::Object(map) => map.values().for_each(|v| self.add_values(v)),
            _ => {}
        }
    }

    /// Add the values of every [`SENSITIVE_FIELDS`] member of a form or query string.
    pub fn add_form_fields(&mut self, form: &[u8]) {
        for (k, v) in url::form_urlencoded::parse(form) {
            if is_sensitive(&k) {
                self.add(&v);
            }
        }
    }

    /// `text` without the known secrets and with sensitive shapes masked.
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out: Cow<'a, str> = Cow::Borrowed(text);
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = Cow::Owned(out.replace(s.as_str(), REDACTED));
            }
        }
        match mask_shapes(&out) {
            Some(masked) => Cow::Owned(masked),
            None => out,
        }
    }

    /// [`Scrubber::scrub`] on an owned string.
    pub fn scrub_owned(&self, text: String) -> String {
        match self.scrub(&text) {
            Cow::Borrowed(_) => text,
            Cow::Owned(s) => s,
        }
    }

    /// Scrub every string (and object key) of a JSON value in place.
    pub fn scrub_json(&self, v: &mut Value) {
        match v {
            Value::String(s) => {
                if let Cow::Owned(t) = self.scrub(s) {
                    *s = t;
                }
            }
            Value::Number(n) => {
                let text = n.to_string();
                if let Cow::Owned(t) = self.scrub(&text) {
                    *v = Value::String(t);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| self.scrub_json(i)),
            Value::Object(map) => {
                let needs_key_change = map.keys().any(|k| matches!(self.scrub(k), Cow::Owned(_)));
                if needs_key_change {
                    let old = std::mem::take(map);
                    for (k, mut x) in old {
                        self.scrub_json(&mut x);
                        map.insert(self.scrub_owned(k), x);
                    }
                } else {
                    map.values_mut().for_each(|x| self.scrub_json(x));
                }
            }
            _ => {}
        }
    }
}

fn is_sensitive(name: &str) -> bool {
    SENSITIVE_FIELDS
        .iter()
        .any(|f| f.eq_ignore_ascii_case(name.trim()))
}

/// Mask card-, IBAN- and national-code-shaped digit runs; `None` when there is none.
pub fn mask_shapes(text: &str) -> Option<String> {
    if text.bytes().filter(u8::is_ascii_digit).count() < 10 {
        return None;
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        let boundary = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        // IBAN: IR + 24 digits (spaces between groups allowed)
        if boundary
            && (bytes[i] == b'I' || bytes[i] == b'i')
            && bytes.get(i + 1).is_some_and(|b| *b == b'R' || *b == b'r')
            && let Some((digits, end)) = digit_run(bytes, i + 2, true)
            && digits.len() == 24
        {
            out.push_str(&text[copied..i]);
            out.push_str(&format!(
                "IR{}{}{}",
                &digits[..2],
                "*".repeat(18),
                &digits[20..]
            ));
            copied = end;
            i = end;
            changed = true;
            continue;
        }
        if boundary
            && bytes[i].is_ascii_digit()
            && let Some((digits, end)) = digit_run(bytes, i, true)
        {
            let masked = match digits.len() {
                16..=19 => Some(format!(
                    "{}{}{}",
                    &digits[..6],
                    "*".repeat(digits.len() - 10),
                    &digits[digits.len() - 4..]
                )),
                24 => Some(format!("{}{}", "*".repeat(20), &digits[20..])),
                10 => Some(format!("******{}", &digits[6..])),
                _ => None,
            };
            if let Some(m) = masked {
                out.push_str(&text[copied..i]);
                out.push_str(&m);
                changed = true;
            } else {
                out.push_str(&text[copied..end]);
            }
            copied = end;
            i = end;
            continue;
        }
        i += 1;
    }
    if !changed {
        return None;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

/// The digits of a run starting at `start` (ASCII or Persian/Arabic-Indic digits are not
/// mixed in: the API echoes ASCII), allowing single spaces or dashes between groups; the run
/// ends at the first other character, and must not run into a letter or digit.
fn digit_run(bytes: &[u8], start: usize, groups: bool) -> Option<(String, usize)> {
    let mut digits = String::new();
    let mut i = start;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_digit() {
            digits.push(b as char);
            i += 1;
        } else if groups
            && (b == b' ' || b == b'-')
            && !digits.is_empty()
            && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
            && digits.len().is_multiple_of(4)
        {
            i += 1;
        } else {
            break;
        }
    }
    if digits.is_empty() || bytes.get(i).is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    Some((digits, i))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shapes_are_masked_like_the_domain_types() {
        let cases = [
            (
                "card 6037997599999993 refused",
                "card 603799******9993 refused",
            ),
            ("card 6037-9975-9999-9993.", "card 603799******9993."),
            ("card 6037 9975 9999 9993", "card 603799******9993"),
            (
                "19 digits 6037997599999993123",
                "19 digits 603799*********3123",
            ),
            ("code 0499370899 invalid", "code ******0899 invalid"),
            (
                "iban IR820540102680020817909002 closed",
                "iban IR82******************9002 closed",
            ),
            (
                "sheba 820540102680020817909002",
                "sheba ********************9002",
            ),
            (
                "{\"national_code\":\"0499370899\"}",
                "{\"national_code\":\"******0899\"}",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(mask_shapes(input).as_deref(), Some(want), "{input}");
        }
        for keep in [
            "amount 250000 too small",
            "id 12345678901",
            "ref 123456789",
            "token ABC6037997599999993",
            "no digits",
        ] {
            assert_eq!(mask_shapes(keep), None, "{keep}");
        }
    }

    #[test]
    fn known_secrets_and_sensitive_fields_are_cut() {
        let mut s = Scrubber::new();
        s.add("client-SECRET-42");
        s.add("abc"); // too short: ignored
        s.add_json_fields(&json!({
            "api_key": "key-ABCDEFG",
            "amount": 1000,
            "nested": [{"Card_Number": "6037997599999993"}],
        }));
        s.add_form_fields(b"token=x&client_secret=form-secret-9&scope=a");
        let text = "bad key-ABCDEFG for client-SECRET-42 (form-secret-9), abc, amount 1000";
        assert_eq!(
            s.scrub(text),
            "bad [redacted] for [redacted] ([redacted]), abc, amount 1000"
        );
        let mut v =
            json!({"errors": {"key-ABCDEFG": ["echo key-ABCDEFG"]}, "n": 6037997599999993u64});
        s.scrub_json(&mut v);
        let text = v.to_string();
        assert!(
            !text.contains("key-ABCDEFG") && !text.contains("6037997599999993"),
            "{text}"
        );
        assert!(format!("{s:?}").contains("secrets: 4"));
        assert!(!format!("{s:?}").contains("SECRET"));
    }
}
