//! Scrubbing of text that an [`Error`](crate::Error) keeps: whatever a server echoes back (a
//! 422 that repeats the `api_key`, a 401 that repeats the client secret, a redirect whose
//! `Location` carries a token) is cut out before it reaches `Display`, `Debug` or a log line.
//! Only errors, `Debug` and logs are scrubbed: what a call returns to its caller as data (the
//! consent page of Sanbod's `authorize_url`) is returned as the server sent it.
//!
//! Two layers, both applied to every message, field error and raw body string of an error:
//!
//! * **the call's own secrets**: the bearer token or HTTP Basic credentials the request carried,
//!   and the values of sensitive request fields ([`SENSITIVE_FIELDS`]: api keys, tokens,
//!   passwords, card numbers, national codes, IBANs) are replaced by `[redacted]`, in any of
//!   the forms a server echoes them in (see [Encoded echoes](#encoded-echoes));
//! * **shapes**: digit runs shaped like a card number, an IBAN or a national code are masked
//!   the way the domain types mask them (`603799******9993`, `IR06******************1234`,
//!   `******8416`), whoever they belong to (see [Shapes](#shapes)).
//!
//! A `Location` ([`Scrubber::scrub_location`]) also loses the values of its sensitive query and
//! fragment parameters ([`SENSITIVE_FIELDS`] plus [`LOCATION_FIELDS`]) and any user info.
//!
//! # Names
//!
//! A field or parameter name is sensitive when it equals a listed name ignoring ASCII case and
//! every `_` and `-`: `access_token`, `accessToken`, `Access-Token` and `ACCESSTOKEN` are one
//! name. [`LOCATION_FIELDS`] (OAuth's `code`, `token`, ...) count only in a `Location`'s
//! query and fragment: `code` is too generic for the fields of a JSON error body.
//!
//! `Debug` of free-form JSON ([`RedactedJson`]) and of the generated types (the xtask's
//! `redact_debug`, with the same list and rule) also hides a name that *ends* with a listed one
//! (`individual_national_code`, `destination_iban`, `new_password`): see
//! [`is_sensitive_name`].
//!
//! # Encoded echoes
//!
//! The text is not decoded (it stays as readable as it came); instead each secret is searched
//! for in every form it can take in it. At each position a secret's characters may appear,
//! independently of each other:
//!
//! * as themselves;
//! * percent-encoded, byte by byte, in upper- or lower-case hex (`%2B`, `%2b`), or encoded
//!   twice (`%252B`);
//! * form-encoded: `+` for a space;
//! * JSON-escaped: `\/`, `\\`, `\"`, `\n`-style escapes, and `\uXXXX` (either case, surrogate
//!   pairs for characters outside the BMP).
//!
//! So `tok+SECRET/abc==` is cut from `tok%2BSECRET%2Fabc%3D%3D`, `tok%2bSECRET%2fabc%3d%3d`,
//! `tok\u002bSECRET\/abc==` and any mix of them. Other encodings (base64, HTML entities) are
//! not searched for.
//!
//! # Shapes
//!
//! A **digit** is any Unicode decimal digit (general category `Nd`: ASCII, Persian `۰`–`۹`,
//! Arabic-Indic `٠`–`٩`, Devanagari, full-width, ...), read as its value; one number may mix
//! scripts. A **group** is a maximal run of digits. Two groups are **joined** when only a
//! **gap** stands between them: one to three characters, each a whitespace character (a space,
//! a no-break space U+00A0, a tab, ...), an invisible character (every
//! `Default_Ignorable_Code_Point` and format character, from Unicode's data: ZWNJ/ZWJ, the
//! direction marks and isolates, U+061C, a zero-width space, the soft hyphen, variation
//! selectors, ...), `-` or another dash (U+2010–U+2015, U+2212), `.`, `_` or
//! `+`; `%20` counts as one such character. A chain of joined groups is searched for these
//! **patterns** of consecutive groups (lengths in digits):
//!
//! | shape | groups | masked as |
//! |---|---|---|
//! | card (16–19 digits) | one group of 16–19; or `4 4 4 4`, optionally followed by a group of 1–3 | first 6, `*` for the middle, last 4: `603799******9993` |
//! | national code (10) | one group of 10; or `3 6 1` (`049-937089-9`) | `******` and the last 4: `******0899` |
//! | IBAN | `IR` (any case, then at most a gap) and groups, any grouping, of 24 digits in all | `IR`, the 2 check digits, 18 `*`, the last 4: `IR82******************9002` |
//! | IBAN without `IR` | one group of 24; or `2 4 4 4 4 4 2` | 20 `*` and the last 4 |
//!
//! The masked form replaces everything from the first digit (or the `I` of `IR`) to the last
//! one, gaps included; the digits it keeps are written as they were (a Persian card keeps
//! Persian digits). Where patterns overlap, the one that covers all the others is used (a
//! 19-digit `4 4 4 4 3` over the `4 4 4 4` inside it, an IBAN over the cards inside it); where
//! none does (`1234 6037 9975 9999 9993`: two overlapping `4 4 4 4`), the whole overlapping
//! stretch becomes `*` but for its last 4 digits.
//!
//! What this means:
//!
//! * A letter next to a number does not protect it: `6037997599999993x`, `0499370899th` and
//!   `card6037997599999993` are masked (so are 10 or 16 digits in a row inside a hex token
//!   or hash).
//! * A digit next to a number does: a group is maximal, so a 13-digit transaction id, an
//!   11-digit mobile number or a 20-digit run contains no national code or card.
//! * Ordinary numbers stay: amounts (`250000`, `1,000,000`, `1 000 000 000`), dates and times
//!   (`2024-01-15 12:30:45`, `1402/05/12`: their groups match no pattern), millisecond
//!   timestamps (13 digits). A bare 10-digit number (a Unix time in seconds, an amount of
//!   1,000,000,000 written without separators) is masked like a national code: it has the
//!   shape of one, and no check digit is consulted, because an echo of a mistyped national
//!   code or card number (one that fails its check) is what a 422 repeats.

use std::borrow::Cow;
use std::ops::Range;

use serde_json::Value;

/// Request fields whose values are secrets or personal data (matched at any depth of a JSON or
/// form body, ignoring ASCII case, `_` and `-`: see [Names](self#names)).
pub const SENSITIVE_FIELDS: &[&str] = &[
    "api_key",
    "apikey",
    "access_token",
    "refresh_token",
    "refreshtoken",
    "id_token",
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
    "pan",
];

/// Entries of [`SENSITIVE_FIELDS`] that [`is_sensitive_name`] matches only as the whole name:
/// as an ending they would catch ordinary words (`shipping`, `laptop`).
pub const WHOLE_NAME_ONLY: &[&str] = &["pin", "otp"];

/// Entries of [`SENSITIVE_FIELDS`] that [`is_sensitive_name`] matches as the whole name or as
/// the name's last word (after `_`, `-` or a lower-case letter or digit followed by an
/// upper-case one): `pan`, `card_pan`, `cardPan`, but not `span`, `japan` or `timespan`.
pub const LAST_WORD_ONLY: &[&str] = &["pan"];

/// Whether a field called `name` holds a secret or personal data, for `Debug`: ignoring ASCII
/// case, `_` and `-` (and a leading `r#`), the name equals an entry of [`SENSITIVE_FIELDS`]
/// or ends with one (`individual_national_code`, `cardNumber`), except [`WHOLE_NAME_ONLY`]
/// (whole name) and [`LAST_WORD_ONLY`] (whole name or last word). The xtask's
/// `redact_debug::is_sensitive_name` is the same rule on the same list (a workspace test
/// compares them).
pub fn is_sensitive_name(name: &str) -> bool {
    fn norm(s: &str) -> impl DoubleEndedIterator<Item = u8> + Clone + '_ {
        s.bytes()
            .filter(|c| !matches!(c, b'_' | b'-'))
            .map(|c| c.to_ascii_lowercase())
    }
    let name = name.strip_prefix("r#").unwrap_or(name);
    SENSITIVE_FIELDS.iter().any(|entry| {
        if norm(name).eq(norm(entry)) {
            return true;
        }
        if WHOLE_NAME_ONLY.contains(entry) {
            return false;
        }
        if LAST_WORD_ONLY.contains(entry) {
            return norm(last_word(name)).eq(norm(entry));
        }
        let n = norm(entry).count();
        norm(name).rev().take(n).eq(norm(entry).rev())
    })
}

/// The last word of a field name: after its last `_` or `-`, or from its last upper-case
/// letter that follows a lower-case letter or a digit (`cardPan` → `Pan`).
fn last_word(name: &str) -> &str {
    let b = name.as_bytes();
    let mut start = 0;
    for i in 0..b.len() {
        if matches!(b[i], b'_' | b'-') {
            start = i + 1;
        } else if i > 0
            && b[i].is_ascii_uppercase()
            && (b[i - 1].is_ascii_lowercase() || b[i - 1].is_ascii_digit())
        {
            start = i;
        }
    }
    &name[start..]
}

mod json_debug;
pub use json_debug::{JsonDebug, RedactedJson};

/// Query and fragment parameters whose values are cut from a redirect's `Location`, besides
/// [`SENSITIVE_FIELDS`] (which has OAuth's `id_token`): OAuth's authorization `code`, bearer
/// `token`s, login `session`s and URL `signature`s. Only for a `Location`: in a JSON body `code` is an error
/// code. `state` is not a secret and stays.
pub const LOCATION_FIELDS: &[&str] = &["code", "token", "session", "session_id", "signature"];

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

    /// `text` without the known secrets (in any [encoded form](self#encoded-echoes)) and with
    /// sensitive [shapes](self#shapes) masked.
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let out = self.cut_secrets(text);
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

    /// A redirect target as an error may keep it: the user info (`user:password@`) and the
    /// values of sensitive query and fragment parameters ([`SENSITIVE_FIELDS`] and
    /// [`LOCATION_FIELDS`], names compared as described in [Names](self#names), after
    /// percent-decoding) replaced by `[redacted]`, a parameter value whose decoded text has a
    /// sensitive [shape](self#shapes) masked, then [`Scrubber::scrub`].
    pub fn scrub_location(&self, location: &str) -> String {
        let split = location.find(['?', '#']).unwrap_or(location.len());
        let (head, params) = location.split_at(split);
        let mut out = String::with_capacity(location.len());
        push_without_userinfo(&mut out, head);
        let mut rest = params;
        while !rest.is_empty() {
            // `rest` starts with a delimiter (`?`, `#`, `&`, `;`) or is the first piece
            let (delim, body) = match rest.chars().next() {
                Some(c @ ('?' | '#' | '&' | ';')) => (Some(c), &rest[1..]),
                _ => (None, rest),
            };
            let end = body.find(['?', '#', '&', ';']).unwrap_or(body.len());
            if let Some(d) = delim {
                out.push(d);
            }
            push_param(&mut out, &body[..end]);
            rest = &body[end..];
        }
        self.scrub_owned(out)
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

    /// `text` with every known secret, in any encoded form, replaced by [`REDACTED`].
    fn cut_secrets<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.secrets.is_empty() {
            return Cow::Borrowed(text);
        }
        let t = text.as_bytes();
        // Without `%`, `\` or `+` a secret can only appear as itself.
        let plain = !t.iter().any(|b| matches!(b, b'%' | b'\\' | b'+'));
        let mut found: Vec<Range<usize>> = Vec::new();
        for s in &self.secrets {
            if plain {
                found.extend(text.match_indices(s.as_str()).map(|(i, m)| i..i + m.len()));
            } else {
                find_encoded(text, s, &mut found);
            }
        }
        if found.is_empty() {
            return Cow::Borrowed(text);
        }
        found.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        let mut i = 0;
        while i < found.len() {
            let start = found[i].start;
            let mut end = found[i].end;
            i += 1;
            while i < found.len() && found[i].start < end {
                end = end.max(found[i].end);
                i += 1;
            }
            out.push_str(&text[copied..start]);
            out.push_str(REDACTED);
            copied = end;
        }
        out.push_str(&text[copied..]);
        Cow::Owned(out)
    }
}

/// Whether `name` is one of [`SENSITIVE_FIELDS`].
fn is_sensitive(name: &str) -> bool {
    SENSITIVE_FIELDS.iter().any(|f| same_name(f, name))
}

/// Whether two field names are the same ignoring ASCII case, `_`, `-` and surrounding
/// whitespace.
fn same_name(a: &str, b: &str) -> bool {
    fn key(s: &str) -> impl Iterator<Item = u8> + '_ {
        s.trim()
            .bytes()
            .filter(|c| !matches!(c, b'_' | b'-'))
            .map(|c| c.to_ascii_lowercase())
    }
    key(a).next().is_some() && key(a).eq(key(b))
}

/// `head` (a URL before its query and fragment) with any `user:password@` replaced.
fn push_without_userinfo(out: &mut String, head: &str) {
    let authority_start = head.find("://").map_or(0, |i| i + 3);
    let authority_end = head[authority_start..]
        .find('/')
        .map_or(head.len(), |i| authority_start + i);
    match head[authority_start..authority_end].rfind('@') {
        Some(at) if head.contains("://") => {
            out.push_str(&head[..authority_start]);
            out.push_str(REDACTED);
            out.push_str(&head[authority_start + at..]);
        }
        _ => out.push_str(head),
    }
}

/// One `name=value` piece of a query or fragment, its value cut when the name is sensitive,
/// masked when its decoded text has a sensitive shape.
fn push_param(out: &mut String, piece: &str) {
    let Some((name, value)) = piece.split_once('=') else {
        out.push_str(piece);
        return;
    };
    let decoded_name = form_decode(name);
    out.push_str(name);
    out.push('=');
    if is_sensitive(&decoded_name) || LOCATION_FIELDS.iter().any(|f| same_name(f, &decoded_name)) {
        if !value.is_empty() {
            out.push_str(REDACTED);
        }
        return;
    }
    // A value with Persian digits or encoded separators shows its shape only once decoded.
    let decoded = form_decode(value);
    match (decoded != value).then(|| mask_shapes(&decoded)).flatten() {
        Some(masked) => out.extend(url::form_urlencoded::byte_serialize(masked.as_bytes())),
        None => out.push_str(value),
    }
}

/// `+` as a space and `%XX` decoded (invalid UTF-8 replaced).
fn form_decode(s: &str) -> String {
    let plus = s.replace('+', " ");
    percent_encoding::percent_decode_str(&plus)
        .decode_utf8_lossy()
        .into_owned()
}

/// Push the byte range of every match of `secret` in `text`, in any encoded form.
fn find_encoded(text: &str, secret: &str, found: &mut Vec<Range<usize>>) {
    let t = text.as_bytes();
    let s = secret.as_bytes();
    let Some(&first) = s.first() else { return };
    let mut p = 0;
    while p < t.len() {
        let b = t[p];
        let may_start = b == first || b == b'%' || b == b'\\' || (first == b' ' && b == b'+');
        if may_start
            && text.is_char_boundary(p)
            && let Some(end) = match_encoded(t, p, secret)
            && text.is_char_boundary(end)
        {
            found.push(p..end);
            p = end;
        } else {
            p += 1;
        }
    }
}

/// Where a match of `secret` starting at `t[start]` ends, each of its characters as itself or
/// in one of the encoded forms; a depth-first search over the (rare) ambiguous choices, with a
/// step budget.
fn match_encoded(t: &[u8], start: usize, secret: &str) -> Option<usize> {
    let s = secret.as_bytes();
    let mut budget = 8 * s.len() + 64;
    // (position in the secret's bytes, position in the text)
    let mut stack: Vec<(usize, usize)> = vec![(0, start)];
    while let Some((k, p)) = stack.pop() {
        if k == s.len() {
            return Some(p);
        }
        if budget == 0 {
            return None;
        }
        budget -= 1;
        let b = s[k];
        // pushed last = tried first: the raw byte
        if secret.is_char_boundary(k)
            && let Some(c) = secret[k..].chars().next()
            && let Some(end) = json_escape_at(t, p, c)
        {
            stack.push((k + c.len_utf8(), end));
        }
        if b == b' ' && t.get(p) == Some(&b'+') {
            stack.push((k + 1, p + 1));
        }
        if t.get(p..p + 3)
            .is_some_and(|x| x.eq_ignore_ascii_case(b"%25"))
            && hex_byte(t, p + 3) == Some(b)
        {
            stack.push((k + 1, p + 5));
        }
        if t.get(p) == Some(&b'%') && hex_byte(t, p + 1) == Some(b) {
            stack.push((k + 1, p + 3));
        }
        if t.get(p) == Some(&b) {
            stack.push((k + 1, p + 1));
        }
    }
    None
}

/// The byte written as two hex digits (either case) at `t[i..i + 2]`.
fn hex_byte(t: &[u8], i: usize) -> Option<u8> {
    let h = t.get(i..i + 2)?;
    let d = |x: u8| char::from(x).to_digit(16);
    u8::try_from(d(h[0])? * 16 + d(h[1])?).ok()
}

/// Where a JSON escape of `c` starting at `t[p]` ends.
fn json_escape_at(t: &[u8], p: usize, c: char) -> Option<usize> {
    if t.get(p) != Some(&b'\\') {
        return None;
    }
    let short = match t.get(p + 1)? {
        b'/' => Some('/'),
        b'\\' => Some('\\'),
        b'"' => Some('"'),
        b'n' => Some('\n'),
        b'r' => Some('\r'),
        b't' => Some('\t'),
        b'b' => Some('\u{8}'),
        b'f' => Some('\u{c}'),
        b'u' => None,
        _ => return None,
    };
    if let Some(e) = short {
        return (e == c).then_some(p + 2);
    }
    let unit = |i: usize| -> Option<u32> {
        t.get(i..i + 4)?
            .iter()
            .try_fold(0, |acc, x| Some(acc * 16 + char::from(*x).to_digit(16)?))
    };
    let hi = unit(p + 2)?;
    if (0xD800..0xDC00).contains(&hi) {
        if t.get(p + 6..p + 8) != Some(b"\\u") {
            return None;
        }
        let lo = unit(p + 8)?;
        if !(0xDC00..0xE000).contains(&lo) {
            return None;
        }
        let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
        return (char::from_u32(cp) == Some(c)).then_some(p + 12);
    }
    (char::from_u32(hi) == Some(c)).then_some(p + 6)
}

/// The code point of the `0` of every block of ten Unicode decimal digits (category `Nd`,
/// Unicode 15), ascending.
const DIGIT_ZEROS: [u32; 68] = [
    0x0030, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6,
    0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80,
    0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
    0xFF10, 0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0,
    0x11650, 0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x11F50, 0x16A60,
    0x16AC0, 0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E4F0,
    0x1E950, 0x1FBF0,
];

/// The value of a Unicode decimal digit.
fn digit_value(c: char) -> Option<u32> {
    let cp = u32::from(c);
    if c.is_ascii() {
        return c.to_digit(10);
    }
    let i = DIGIT_ZEROS.partition_point(|&z| z <= cp);
    let zero = DIGIT_ZEROS[i.checked_sub(1)?];
    (cp - zero < 10).then_some(cp - zero)
}

/// A character that may stand between the groups of one number.
fn is_gap_char(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '-' | '.' | '_' | '+' | '\u{2010}'..='\u{2015}' | '\u{2212}'
        )
        || crate::unicode::is_invisible(c)
}

/// Whether `s` is a gap: one to three gap characters (`%20` counting as one).
fn is_gap(s: &str) -> bool {
    let mut n = 0;
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if rest.starts_with("%20") {
            rest = &rest[3..];
        } else if is_gap_char(c) {
            rest = &rest[c.len_utf8()..];
        } else {
            return false;
        }
        n += 1;
        if n > 3 {
            return false;
        }
    }
    n >= 1
}

/// The byte index of the `I` of an `IR` standing right before `at` (at most a gap between).
fn iban_prefix(text: &str, at: usize) -> Option<usize> {
    let before = &text[..at];
    let mut cut = at;
    // the longest gap (at most 3 characters, `%20` as one) that ends at `at`
    for (i, _) in before.char_indices().rev().take(9) {
        if is_gap(&before[i..]) {
            cut = i;
        }
    }
    let b = &before.as_bytes()[..cut];
    b.len()
        .checked_sub(2)
        .filter(|&i| b[i].eq_ignore_ascii_case(&b'I') && b[i + 1].eq_ignore_ascii_case(&b'R'))
}

/// A maximal run of digits.
struct Group {
    start: usize,
    end: usize,
    len: usize,
}

/// What a pattern found, most specific first.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Shape {
    /// `IR` and 24 digits.
    Iban,
    /// 24 digits without `IR`.
    BareIban,
    Card,
    NationalCode,
    /// Overlapping patterns, none covering the others.
    Overlap,
}

/// Consecutive groups `first..=last` of one chain that match a pattern.
#[derive(Clone, Copy, Debug)]
struct Found {
    first: usize,
    last: usize,
    shape: Shape,
}

/// Mask card-, IBAN- and national-code-shaped numbers (the [rule](self#shapes)); `None` when
/// there is none.
pub fn mask_shapes(text: &str) -> Option<String> {
    if text
        .chars()
        .filter(|c| digit_value(*c).is_some())
        .take(10)
        .count()
        < 10
    {
        return None;
    }
    let mut groups: Vec<Group> = Vec::new();
    let mut current: Option<(usize, usize)> = None;
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        if digit_value(c).is_some() {
            current = Some(current.map_or((i, 1), |(s, n)| (s, n + 1)));
            continue;
        }
        if let Some((start, len)) = current.take() {
            groups.push(Group { start, end: i, len });
        }
        if text[i..].starts_with("%20") {
            // an encoded space: its `20` is no digit of a group
            chars.nth(1);
        }
    }
    if let Some((start, len)) = current {
        groups.push(Group {
            start,
            end: text.len(),
            len,
        });
    }
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut a = 0;
    while a < groups.len() {
        let mut b = a + 1;
        while b < groups.len() && is_gap(&text[groups[b - 1].end..groups[b].start]) {
            b += 1;
        }
        let chain = &groups[a..b];
        let prefix = iban_prefix(text, chain[0].start);
        for (first, last, shape) in clusters(chain, prefix.is_some()) {
            let start = match prefix {
                Some(p) if first == 0 && matches!(shape, Shape::Iban | Shape::Overlap) => p,
                _ => chain[first].start,
            };
            let digits: Vec<&str> = chain[first..=last]
                .iter()
                .flat_map(|g| {
                    text[g.start..g.end]
                        .char_indices()
                        .map(move |(i, c)| &text[g.start + i..g.start + i + c.len_utf8()])
                })
                .collect();
            out.push_str(&text[copied..start]);
            out.push_str(&masked(&digits, shape, start != chain[first].start));
            copied = chain[last].end;
        }
        a = b;
    }
    if copied == 0 {
        return None;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

/// The patterns of one chain of joined groups, overlapping ones merged, in order:
/// `(first group, last group, shape)`.
fn clusters(chain: &[Group], iban_prefix: bool) -> Vec<(usize, usize, Shape)> {
    let lens: Vec<usize> = chain.iter().map(|g| g.len).collect();
    let n = lens.len();
    let mut found: Vec<Found> = Vec::new();
    let mut push = |first: usize, last: usize, shape: Shape| {
        found.push(Found { first, last, shape });
    };
    if iban_prefix {
        let mut sum = 0;
        for (i, l) in lens.iter().enumerate() {
            sum += l;
            if sum >= 24 {
                if sum == 24 {
                    push(0, i, Shape::Iban);
                }
                break;
            }
        }
    }
    for s in 0..n {
        match lens[s] {
            10 => push(s, s, Shape::NationalCode),
            16..=19 => push(s, s, Shape::Card),
            24 => push(s, s, Shape::BareIban),
            _ => {}
        }
        let rest = &lens[s..];
        if rest.len() >= 4 && rest[..4].iter().all(|l| *l == 4) {
            push(s, s + 3, Shape::Card);
            if rest.get(4).is_some_and(|l| (1..=3).contains(l)) {
                push(s, s + 4, Shape::Card);
            }
        }
        if rest.starts_with(&[3, 6, 1]) {
            push(s, s + 2, Shape::NationalCode);
        }
        if rest.starts_with(&[2, 4, 4, 4, 4, 4, 2]) {
            push(s, s + 6, Shape::BareIban);
        }
    }
    found.sort_by_key(|f| (f.first, std::cmp::Reverse(f.last), f.shape));
    let mut out = Vec::new();
    let mut i = 0;
    while i < found.len() {
        let head = found[i];
        let mut last = head.last;
        let mut j = i + 1;
        while j < found.len() && found[j].first <= last {
            last = last.max(found[j].last);
            j += 1;
        }
        // sorted by first, then longest: the head covers the cluster if any pattern does
        let shape = if head.last == last {
            head.shape
        } else {
            Shape::Overlap
        };
        out.push((head.first, last, shape));
        i = j;
    }
    out
}

/// The masked form of `digits` (one string per digit, as written).
fn masked(digits: &[&str], shape: Shape, with_ir: bool) -> String {
    let n = digits.len();
    let keep = |r: Range<usize>| digits[r].concat();
    let stars = |k: usize| "*".repeat(k);
    let ir = if with_ir { "IR" } else { "" };
    match shape {
        Shape::Iban => format!("IR{}{}{}", keep(0..2), stars(18), keep(20..24)),
        Shape::BareIban => format!("{}{}", stars(20), keep(20..24)),
        Shape::Card => format!("{}{}{}", keep(0..6), stars(n - 10), keep(n - 4..n)),
        Shape::NationalCode => format!("{}{}", stars(6), keep(6..10)),
        Shape::Overlap => format!("{ir}{}{}", stars(n - 4), keep(n - 4..n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn debug_names_match_whole_names_endings_and_last_words() {
        for name in [
            "access_token",
            "refreshToken",
            "individual_national_code",
            "destination_iban",
            "cardNumber",
            "card-number",
            "IBAN",
            "new_password",
            "pin",
            "OTP",
            "id_token",
            "r#iban",
            "pan",
            "PAN",
            "card_pan",
            "cardPan",
            "cardPAN",
            "payer-pan",
            "card2Pan",
        ] {
            assert!(is_sensitive_name(name), "{name}");
        }
        for name in [
            "iban_compatibility",
            "shipping",
            "laptop",
            "pin_code",
            "token",
            "card",
            "amount",
            "span",
            "time_span",
            "timespan",
            "TIMESPAN",
            "japan",
            "company",
            "pane",
            "panel",
            "",
        ] {
            assert!(!is_sensitive_name(name), "{name}");
        }
    }

    fn mask(text: &str) -> String {
        mask_shapes(text).unwrap_or_else(|| text.to_owned())
    }

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
            // A letter next to a number no longer protects it (it used to be kept).
            ("token ABC6037997599999993", "token ABC603799******9993"),
        ];
        for (input, want) in cases {
            assert_eq!(mask_shapes(input).as_deref(), Some(want), "{input}");
        }
        for keep in [
            "amount 250000 too small",
            "id 12345678901",
            "ref 123456789",
            "no digits",
        ] {
            assert_eq!(mask_shapes(keep), None, "{keep}");
        }
    }

    #[test]
    fn print_formats_scripts_and_neighbours_are_masked() {
        let cases = [
            // IBAN print format, dashes, lower case, a gap after IR, Persian digits
            (
                "IR82 0540 1026 8002 0817 9090 02",
                "IR82******************9002",
            ),
            (
                "شبا: IR82-0540-1026-8002-0817-9090-02 بسته است",
                "شبا: IR82******************9002 بسته است",
            ),
            ("ir820540102680020817909002", "IR82******************9002"),
            (
                "Ir82 0540 1026 8002 0817 9090 02.",
                "IR82******************9002.",
            ),
            ("IR 820540102680020817909002", "IR82******************9002"),
            ("IR۸۲۰۵۴۰۱۰۲۶۸۰۰۲۰۸۱۷۹۰۹۰۰۲", "IR۸۲******************۹۰۰۲"),
            (
                "sheba 82 0540 1026 8002 0817 9090 02",
                "sheba ********************9002",
            ),
            // Persian and Arabic-Indic digits, and a mix of scripts in one number
            (
                "شماره کارت ۶۰۳۷۹۹۷۵۹۹۹۹۹۹۹۳ نامعتبر است",
                "شماره کارت ۶۰۳۷۹۹******۹۹۹۳ نامعتبر است",
            ),
            ("کد ملی ۰۴۹۹۳۷۰۸۹۹ نادرست", "کد ملی ******۰۸۹۹ نادرست"),
            ("٦٠٣٧٩٩٧٥٩٩٩٩٩٩٩٣", "٦٠٣٧٩٩******٩٩٩٣"),
            ("٠٤٩٩٣٧٠٨٩٩", "******٠٨٩٩"),
            ("6037۹۹۷۵99999993", "6037۹۹******9993"),
            ("۶۰۳۷ 9975 ۹۹۹۹ 9993", "۶۰۳۷99******9993"),
            ("04۹۹37089۹", "******089۹"),
            // other Unicode decimal digits: Devanagari, full-width
            ("०४९९३७०८९९", "******०८९९"),
            (
                "６０３７９９７５９９９９９９９３",
                "６０３７９９******９９９３",
            ),
            // national code with dashes
            (
                "کد ملی 049-937089-9 تکراری است",
                "کد ملی ******0899 تکراری است",
            ),
            ("049 937089 9", "******0899"),
            // card separators
            ("6037.9975.9999.9993", "603799******9993"),
            ("6037\u{a0}9975\u{a0}9999\u{a0}9993", "603799******9993"),
            ("6037  9975  9999  9993", "603799******9993"),
            ("6037_9975_9999_9993", "603799******9993"),
            ("6037 - 9975 - 9999 - 9993", "603799******9993"),
            (
                "6037\u{200c}9975\u{200c}9999\u{200c}9993",
                "603799******9993",
            ),
            ("6037+9975+9999+9993", "603799******9993"),
            ("6037\u{ad}9975\u{ad}9999\u{ad}9993", "603799******9993"),
            (
                "6037\u{61c}9975\u{180e}9999\u{2063}9993",
                "603799******9993",
            ),
            ("6037%209975%209999%209993", "603799******9993"),
            ("6037 9975 9999 9993 123", "603799*********3123"),
            // letters next to a number
            ("6037997599999993x", "603799******9993x"),
            ("0499370899th", "******0899th"),
            ("card6037997599999993", "card603799******9993"),
            ("کارت6037997599999993را", "کارت603799******9993را"),
            // two numbers, and overlapping patterns
            ("0499370899 6037997599999993", "******0899 603799******9993"),
            ("1234 6037 9975 9999 9993", "****************9993"),
            ("12 6037 9975 9999 9993", "12 603799******9993"),
        ];
        for (input, want) in cases {
            assert_eq!(mask(input), want, "{input}");
        }
    }

    /// Every default-ignorable or format character joins the groups of a number, as the
    /// direction marks and ZWNJ did (review r9: the soft hyphen, U+180E, U+2063, variation
    /// selectors and tags were missing from a hand-kept list, and a card written with them
    /// kept all its digits).
    #[test]
    fn every_invisible_character_is_a_gap() {
        let mut wrong = Vec::new();
        for &c in crate::unicode::testing::invisible_chars() {
            let card = format!("6037{c}9975{c}9999{c}9993");
            if mask(&card) != "603799******9993" {
                wrong.push(format!("U+{:04X}", u32::from(c)));
            }
            let national = format!("049{c}937089{c}9");
            if mask(&national) != "******0899" {
                wrong.push(format!("U+{:04X} (national code)", u32::from(c)));
            }
        }
        assert!(
            wrong.is_empty(),
            "{} not joined: {:?}",
            wrong.len(),
            &wrong[..wrong.len().min(20)]
        );
    }

    #[test]
    fn ordinary_numbers_are_kept() {
        for keep in [
            "amount 250000 too small",
            "مبلغ ۲۵۰۰۰۰ ریال کمتر از حداقل است",
            "amount 1,000,000,000 rial",
            "amount 1 000 000 000 rial",
            "amount 1.250.000.000",
            "at 2024-01-15 12:30:45",
            "at 2024-01-15T12:30:45.123Z",
            "تاریخ ۱۴۰۲/۰۵/۱۲ ساعت ۱۰:۳۰",
            "at 1700000000123 ms",
            "transaction 1234567890123",
            "mobile 09123456789",
            "mobile +98 912 345 6789",
            "id 550e8400-e29b-41d4-a716-446655440000",
            "twenty 12345678901234567890",
            "version 1.2.3, 12.5%",
        ] {
            assert_eq!(mask_shapes(keep), None, "{keep}");
        }
    }

    #[test]
    fn masking_is_stable() {
        let once = mask("IR82 0540 1026 8002 0817 9090 02 and 6037 9975 9999 9993 and 0499370899");
        assert_eq!(mask(&once), once);
    }

    #[test]
    fn digit_table_is_unicode_nd() {
        for zero in DIGIT_ZEROS {
            for v in 0..10 {
                let c = char::from_u32(zero + v).unwrap();
                assert!(c.is_numeric(), "{c:?}");
                assert_eq!(digit_value(c), Some(v), "{c:?}");
            }
            if !DIGIT_ZEROS.contains(&(zero + 10)) {
                assert_eq!(digit_value(char::from_u32(zero + 10).unwrap()), None);
            }
        }
        assert_eq!(digit_value('a'), None);
        assert_eq!(digit_value('½'), None);
        assert_eq!(digit_value('Ⅻ'), None);
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

    #[test]
    fn field_names_ignore_case_underscores_and_dashes() {
        let mut s = Scrubber::new();
        s.add_json_fields(&json!({
            "accessToken": "camel-SECRET-1",
            "Refresh-Token": "dash-SECRET-2",
            "NATIONAL_CODE": "upper-SECRET-3",
            "code": "not-a-secret",
        }));
        s.add_form_fields(b"API-KEY=form-SECRET-4&state=st-1");
        let text =
            s.scrub("camel-SECRET-1 dash-SECRET-2 upper-SECRET-3 form-SECRET-4 not-a-secret st-1");
        assert_eq!(
            text,
            "[redacted] [redacted] [redacted] [redacted] not-a-secret st-1"
        );
        assert!(same_name("access_token", "AccessToken"));
        assert!(!same_name("access_token", "access_tokens"));
        assert!(!same_name("", "_"));
    }

    #[test]
    fn encoded_echoes_of_a_secret_are_cut() {
        let mut s = Scrubber::new();
        s.add("tok+SECRET/abc==");
        s.add("pass word\"q");
        s.add("رمز-SECRET");
        s.add("emoji-😀-SECRET");
        for echo in [
            "tok+SECRET/abc==",
            "tok%2BSECRET%2Fabc%3D%3D",
            "tok%2bSECRET%2fabc%3d%3d",
            "tok%252BSECRET%252Fabc%253D%253D",
            "tok\\u002bSECRET\\/abc==",
            "tok\\u002BSECRET\\u002Fabc\\u003d=",
            "tok%2BSECRET\\/abc%3d=",
            "%74%6F%6B%2B%53ECRET%2Fabc==",
            "pass+word%22q",
            "pass%20word\\\"q",
            "pass\\u0020word\\u0022q",
            "%D8%B1%D9%85%D8%B2-SECRET",
            "%d8%b1%d9%85%d8%b2-SECRET",
            "\\u0631\\u0645\\u0632-SECRET",
            "emoji-\\ud83d\\ude00-SECRET",
            "emoji-%F0%9F%98%80-SECRET",
        ] {
            let text = format!("echo: x={echo}&y=1 \"{echo}\"");
            let out = s.scrub(&text);
            assert_eq!(out, "echo: x=[redacted]&y=1 \"[redacted]\"", "{echo}");
        }
        // near misses stay
        for keep in [
            "tok%2BSECRET%2Fabc%3D",
            "tok%2CSECRET/abc==",
            "tok\\u002cSECRET/abc==",
        ] {
            assert_eq!(s.scrub(keep), keep);
        }
    }

    #[test]
    fn locations_lose_sensitive_parameters_and_user_info() {
        let mut call = Scrubber::new();
        call.add("tok+SECRET/abc==");
        let loc = call.scrub_location(
            "https://user:pw-SECRET@bank.example/cb?access_token=tok%2BSECRET%2Fabc%3D%3D&x=tok%2BSECRET%2Fabc%3D%3D&code=oauth-code-SECRET&ID_TOKEN=idt-SECRET&accessToken=cam-SECRET&access%5Ftoken=enc-SECRET&state=st-7&ref=6037997599999993&p=%DB%B6%DB%B0%DB%B3%DB%B7%DB%B9%DB%B9%DB%B7%DB%B5%DB%B9%DB%B9%DB%B9%DB%B9%DB%B9%DB%B9%DB%B9%DB%B3&q=6037+9975+9999+9993&api_key=key-SECRET#id_token=frag-SECRET&token=t-SECRET&refresh_token=ref-SECRET",
        );
        for secret in [
            "SECRET",
            "6037997599999993",
            "%DB%B7%DB%B5%DB%B9%DB%B9",
            "7599",
        ] {
            assert!(!loc.contains(secret), "{secret} in {loc}");
        }
        assert!(loc.starts_with("https://[redacted]@bank.example/cb?access_token=[redacted]&x=[redacted]&code=[redacted]&ID_TOKEN=[redacted]&accessToken=[redacted]&access%5Ftoken=[redacted]&state=st-7&ref=603799******9993&p="), "{loc}");
        assert!(
            loc.ends_with(
                "&api_key=[redacted]#id_token=[redacted]&token=[redacted]&refresh_token=[redacted]"
            ),
            "{loc}"
        );
        // a relative Location and one with nothing to hide are kept as they are
        let s = Scrubber::new();
        assert_eq!(s.scrub_location("/login?s=1&state=a"), "/login?s=1&state=a");
        assert_eq!(
            s.scrub_location("https://bank.example/x?lang=fa#top"),
            "https://bank.example/x?lang=fa#top"
        );
        assert_eq!(s.scrub_location("/cb?code=&state=s"), "/cb?code=&state=s");
    }

    // ------------------------------------------------------------------ property tests

    /// The digits of the other numbers in the text (Bengali): masked the same way, told apart
    /// from the secret's digits when checking what survived.
    const OTHER_SCRIPT: u32 = 0x09E6;

    /// The `0` of a digit script: ASCII, Persian, Arabic-Indic, Devanagari, full-width.
    fn script() -> impl Strategy<Value = u32> {
        prop_oneof![
            4 => Just(0x30),
            3 => Just(0x06F0),
            2 => Just(0x0660),
            1 => Just(0x0966),
            1 => Just(0xFF10),
        ]
    }

    /// A gap a number may be written with.
    fn gap() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            " ", "-", ".", "_", "\u{a0}", "  ", " - ", "\u{200c}", "\u{202f}", "+", "%20",
            "\u{2013}",
        ])
    }

    /// A piece of filler text: Persian or ASCII words, punctuation, short numbers.
    fn filler() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            prop::sample::select(vec![
                "شماره",
                "کارت",
                "کد ملی",
                "شبا",
                "نامعتبر است",
                "card",
                "invalid",
                "IR",
                "ir",
                "x",
                "th",
                "،",
                ":",
                "(",
                ")",
                ",",
                "!",
                " ",
                "\u{200c}",
                "\"",
                "=",
                "/",
            ])
            .prop_map(str::to_owned),
            prop::collection::vec(0u32..10, 1..10)
                .prop_map(|d| render(&d, &vec![OTHER_SCRIPT; d.len()])),
        ];
        prop::collection::vec(piece, 0..6).prop_map(|v| v.concat())
    }

    fn render(digits: &[u32], scripts: &[u32]) -> String {
        digits
            .iter()
            .zip(scripts)
            .map(|(d, z)| char::from_u32(z + d).unwrap())
            .collect()
    }

    /// `digits` split before each index of `splits`, joined by `gaps`.
    fn grouped(text: &[char], splits: &[usize], gaps: &[&str]) -> String {
        let mut out = String::new();
        for (i, c) in text.iter().enumerate() {
            if let Some(k) = splits.iter().position(|s| *s == i) {
                out.push_str(gaps[k % gaps.len()]);
            }
            out.push(*c);
        }
        out
    }

    /// A card (16–19 digits), national code or IBAN, its ASCII digits and a rendering of it in
    /// one of the documented formats, in random digit scripts.
    fn sensitive() -> impl Strategy<Value = (String, String)> {
        let kind = prop_oneof![Just(0usize), (16usize..20), Just(24usize)]
            .prop_map(|n| if n == 0 { 10 } else { n });
        kind.prop_flat_map(|n| {
            (
                prop::collection::vec(0u32..10, n),
                prop::collection::vec(script(), n),
                prop::collection::vec(gap(), 1..3),
                prop::collection::btree_set(1usize..24, 0..8),
                0usize..4,
                prop::sample::select(vec!["IR", "ir", "Ir"]),
                prop::option::of(gap()),
            )
        })
        .prop_map(|(digits, scripts, gaps, free_splits, style, ir, ir_gap)| {
            let n = digits.len();
            let ascii: String = digits
                .iter()
                .map(|d| char::from_digit(*d, 10).unwrap())
                .collect();
            let chars: Vec<char> = render(&digits, &scripts).chars().collect();
            let text = match (n, style) {
                (24, _) => {
                    // any grouping after IR
                    let splits: Vec<usize> = free_splits.into_iter().collect();
                    format!(
                        "{ir}{}{}",
                        ir_gap.unwrap_or(""),
                        grouped(&chars, &splits, &gaps)
                    )
                }
                (10, 1 | 2) => grouped(&chars, &[3, 9], &gaps),
                (_, 1 | 2) if n >= 16 => grouped(&chars, &[4, 8, 12, 16], &gaps),
                _ => chars.iter().collect(),
            };
            (ascii, text)
        })
    }

    /// The text with the secret's digits read as ASCII and gaps dropped: a number that
    /// survived shows as its digits in a row (the other numbers' digits stay Bengali).
    fn digits_in_a_row(text: &str) -> String {
        let other = OTHER_SCRIPT..OTHER_SCRIPT + 10;
        text.replace("%20", "")
            .chars()
            .filter(|c| !is_gap_char(*c))
            .map(|c| match digit_value(c) {
                Some(d) if !other.contains(&u32::from(c)) => char::from_digit(d, 10).unwrap(),
                _ => c,
            })
            .collect()
    }

    fn boundary(s: String, at_end: bool) -> String {
        let touching = if at_end {
            s.chars().last()
        } else {
            s.chars().next()
        };
        if touching.is_some_and(|c| digit_value(c).is_some()) {
            if at_end { s + "ک" } else { format!("ک{s}") }
        } else {
            s
        }
    }

    /// Maybe another number, any length, right next to the secret with a gap between.
    fn neighbour() -> impl Strategy<Value = Option<(String, &'static str)>> {
        prop::option::of(
            (prop::collection::vec(0u32..10, 1..20), gap())
                .prop_map(|(d, gap)| (render(&d, &vec![OTHER_SCRIPT; d.len()]), gap)),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// A card, national code or IBAN in any documented format and digit script, inside
        /// Persian/ASCII text with other numbers around it, never survives `scrub`.
        #[test]
        fn a_sensitive_number_never_survives(
            (ascii, rendered) in sensitive(),
            before in filler(),
            after in filler(),
            left in neighbour(),
            right in neighbour(),
        ) {
            let mut text = boundary(before, true);
            if let Some((n, gap)) = &left {
                text = format!("{text}{n}{gap}");
            }
            text.push_str(&rendered);
            if let Some((n, gap)) = &right {
                text = format!("{text}{gap}{n}");
            }
            text.push_str(&boundary(after, false));
            let out = Scrubber::new().scrub(&text).into_owned();
            prop_assert!(!out.contains(&rendered), "{text:?} -> {out:?}");
            // at most the 6 leading or 4 trailing digits a mask shows: no 7 in a row
            let shown = digits_in_a_row(&out);
            let digits: Vec<char> = ascii.chars().collect();
            for run in digits.windows(7) {
                let run: String = run.iter().collect();
                prop_assert!(!shown.contains(&run), "{run} of {ascii}: {text:?} -> {out:?}");
            }
            prop_assert_eq!(Scrubber::new().scrub(&out).into_owned(), out.clone());
        }

        /// Numbers of no sensitive length, kept apart by words or punctuation, are left alone.
        #[test]
        fn ordinary_numbers_are_left_alone(
            parts in prop::collection::vec(
                (
                    prop_oneof![1usize..10, 11usize..16, 20usize..24],
                    prop::collection::vec(0u32..10, 23),
                    script(),
                    prop::sample::select(vec![" ریال، ", ", ", " toman; ", ":", "/", " و "]),
                ),
                1..8,
            ),
        ) {
            let text: String = parts
                .iter()
                .map(|(n, d, z, sep)| format!("{}{sep}", render(&d[..*n], &vec![*z; *n])))
                .collect();
            prop_assert_eq!(mask_shapes(&text), None, "{:?}", text);
        }

        /// A secret echoed with each character as itself, percent-encoded (either case,
        /// once or twice), form-encoded or JSON-escaped never survives `scrub`.
        #[test]
        fn an_encoded_secret_never_survives(
            secret in "[a-zA-Z0-9+/=%\\\\\" ?&آ-ی😀-😃-]{4,24}",
            choices in prop::collection::vec(0u8..6, 24),
            before in "[a-z آ-ی:=&]{0,8}",
            after in "[a-z آ-ی:=&]{0,8}",
        ) {
            let secret = secret.trim().to_owned();
            prop_assume!(secret.chars().count() >= MIN_SECRET_LEN);
            let echo: String = secret
                .chars()
                .zip(choices.iter().cycle())
                .map(|(c, how)| encode(c, *how))
                .collect();
            let mut s = Scrubber::new();
            s.add(&secret);
            let out = s.scrub(&format!("{before}{echo}{after}")).into_owned();
            prop_assert!(!out.contains(&echo), "{echo:?} -> {out:?}");
            prop_assert!(out.contains(REDACTED), "{echo:?} -> {out:?}");
        }
    }

    /// `c` written one of six ways.
    fn encode(c: char, how: u8) -> String {
        let mut buf = [0; 4];
        let bytes = c.encode_utf8(&mut buf).as_bytes();
        let percent = |upper: bool, twice: bool| -> String {
            bytes
                .iter()
                .map(|b| {
                    let hex = if upper {
                        format!("{b:02X}")
                    } else {
                        format!("{b:02x}")
                    };
                    if twice {
                        format!("%25{hex}")
                    } else {
                        format!("%{hex}")
                    }
                })
                .collect()
        };
        match how {
            1 => percent(true, false),
            2 => percent(false, false),
            3 => percent(true, true),
            4 if c == ' ' => "+".to_owned(),
            4 => percent(true, false),
            5 => {
                let json = serde_json::to_string(&c.to_string()).unwrap();
                let inner = &json[1..json.len() - 1];
                if inner == c.to_string() {
                    let mut units = [0u16; 2];
                    c.encode_utf16(&mut units)
                        .iter()
                        .map(|u| format!("\\u{u:04x}"))
                        .collect()
                } else {
                    inner.to_owned()
                }
            }
            _ => c.to_string(),
        }
    }
}
