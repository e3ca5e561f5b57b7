//! URL fields inside the free-form parts of a request body: a JSON object the spec does not
//! describe (`Undocumented`), a `serde_json::Value` or map field of a typed body, and the
//! untyped [`serde_json::Value`] body of the CLI and hand-written calls. The spec cannot mark
//! their fields `format: uri`, so the keys are read by name, at any depth:
//!
//! * **URL keys** ([`UrlKey::Url`]): `url`, `uri`, or a name ending in `url`, `uri`, `urls`
//!   or `uris` (`notify_url`, `callbackUrl`, `redirect_uri`, `receipt_url`, `image_urls`).
//!   The value is a string (or each string of an array) that must be an absolute http(s) URL:
//!   it is replaced by its normalized form ([`normalize_http_url`]) or the call is refused. A
//!   number, a boolean or an object there is refused too (a URL field holds text);
//! * **URL-like keys** ([`UrlKey::Like`]): a name starting with `callback`, `redirect`,
//!   `notify` or `webhook` (`callback`, `redirect_to`, `webhook`). A string value that a
//!   browser or an HTTP client would follow elsewhere (it starts with a scheme such as
//!   `javascript:` or `https:`, or with `//`, once leading spaces and tabs are dropped) is
//!   checked the same way; other text (`POST`, `sms`, an e-mail address, `12:30`), a number, a
//!   boolean or `null` stays as it is, and an object or array is walked
//!   (`"webhook": {"url": ..}`).
//!
//! Names are compared ignoring ASCII case, `_` and `-` (`notify_url`, `notifyUrl` and
//! `NOTIFY-URL` are one name). Errors name the key by its path in the body (`notify_url`,
//! `items[2].callback_url`) and the operation, never the value.

use serde_json::{Map, Value};

use super::{Checker, normalize_http_url, recently_normal, remember_normal};

/// Nesting deeper than this is refused in a free-form body (the walk recurses).
const MAX_DEPTH: usize = 128;

/// How a key of a free-form body is read (see the [module](self) docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrlKey {
    /// Not a URL field.
    No,
    /// A URL field: its text must be an absolute http(s) URL.
    Url,
    /// Probably a URL field: its text is checked when it could be read as a URL.
    Like,
}

/// What a key of a free-form JSON body holds, by its name (see the [module](self) docs).
pub fn url_key(name: &str) -> UrlKey {
    fn norm(s: &str) -> impl DoubleEndedIterator<Item = u8> + Clone + '_ {
        s.bytes()
            .filter(|b| !matches!(b, b'_' | b'-'))
            .map(|b| b.to_ascii_lowercase())
    }
    let key = norm(name);
    let ends = |word: &str| key.clone().rev().take(word.len()).eq(word.bytes().rev());
    if ends("url") || ends("uri") || ends("urls") || ends("uris") {
        return UrlKey::Url;
    }
    let starts = |word: &str| key.clone().take(word.len()).eq(word.bytes());
    if ["callback", "redirect", "notify", "webhook"]
        .iter()
        .any(|w| starts(w))
    {
        return UrlKey::Like;
    }
    UrlKey::No
}

/// Whether the text of a [`UrlKey::Like`] key could take a browser or an HTTP client
/// elsewhere: read as the WHATWG URL parser reads it (leading and trailing spaces and control
/// characters dropped, tabs and line breaks removed anywhere), it starts with a scheme
/// (`javascript:`, `https:`) or with two slashes or backslashes (`//evil.example`). A word, a
/// sentence, an e-mail address, a mobile number or a time (`12:30`: no letter first) is not.
fn may_be_url(s: &str) -> bool {
    let mut chars = s
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'));
    match chars.next() {
        Some('/' | '\\') => matches!(chars.next(), Some('/' | '\\')),
        Some(c) if c.is_ascii_alphabetic() => {
            for c in chars {
                match c {
                    ':' => return true,
                    c if c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.') => {}
                    _ => return false,
                }
            }
            false
        }
        _ => false,
    }
}

/// A free-form part of a request body that [`Checker::free_form`] walks: a JSON value, a JSON
/// object, a map of strings or values, or an `Option`, `Vec` or `Box` of one. The xtask calls
/// it for every such body type and field; implemented by the runtime only.
pub trait FreeForm {
    /// Check (and normalize) the URL fields in `self`, found at `field` of the body (`""`:
    /// `self` is the body itself, or its keys are the body's, a `#[serde(flatten)]` map).
    fn check_urls(&mut self, field: &str, c: &mut Checker);
}

impl Checker {
    /// The URL fields of a free-form part of the body (see [`free_form`](crate::check::free_form)),
    /// found at `field` (`""` for the body itself): each normalized in place or refused,
    /// naming its key.
    pub fn free_form<F: FreeForm + ?Sized>(&mut self, field: &str, value: &mut F) {
        if self.error.is_none() {
            value.check_urls(field, self);
        }
    }
}

impl FreeForm for Value {
    fn check_urls(&mut self, field: &str, c: &mut Checker) {
        walk(c, &At::Root(field), self, 0);
    }
}

impl FreeForm for Map<String, Value> {
    fn check_urls(&mut self, field: &str, c: &mut Checker) {
        values(c, field, self.iter_mut());
    }
}

impl<S: std::hash::BuildHasher> FreeForm for std::collections::HashMap<String, Value, S> {
    fn check_urls(&mut self, field: &str, c: &mut Checker) {
        values(c, field, self.iter_mut());
    }
}

impl FreeForm for std::collections::BTreeMap<String, Value> {
    fn check_urls(&mut self, field: &str, c: &mut Checker) {
        values(c, field, self.iter_mut());
    }
}

impl<S: std::hash::BuildHasher> FreeForm for std::collections::HashMap<String, String, S> {
    fn check_urls(&mut self, field: &str, c: &mut Checker) {
        strings(c, field, self.iter_mut());
    }
}

impl FreeForm for std::collections::BTreeMap<String, String> {
    fn check_urls(&mut self, field: &str, c: &mut Checker) {
        strings(c, field, self.iter_mut());
    }
}

/// The members of a JSON object (or map) found at `field`; a map held by a URL key is refused
/// like an object there.
fn values<'a>(
    c: &mut Checker,
    field: &str,
    members: impl Iterator<Item = (&'a String, &'a mut Value)>,
) {
    let at = At::Root(field);
    if at.key().map(url_key) == Some(UrlKey::Url) {
        return not_text(c, &at);
    }
    for (k, x) in members {
        walk(c, &At::Key(&at, k), x, 1);
    }
}

/// The members of a map of strings found at `field` (see [`values`]).
fn strings<'a>(
    c: &mut Checker,
    field: &str,
    members: impl Iterator<Item = (&'a String, &'a mut String)>,
) {
    let at = At::Root(field);
    if at.key().map(url_key) == Some(UrlKey::Url) {
        return not_text(c, &at);
    }
    for (k, x) in members {
        text(c, &At::Key(&at, k), x);
    }
}

impl<T: FreeForm + ?Sized> FreeForm for Box<T> {
    fn check_urls(&mut self, field: &str, c: &mut Checker) {
        (**self).check_urls(field, c);
    }
}

impl<T: FreeForm> FreeForm for Option<T> {
    fn check_urls(&mut self, field: &str, c: &mut Checker) {
        if let Some(v) = self {
            v.check_urls(field, c);
        }
    }
}

impl<T: FreeForm> FreeForm for Vec<T> {
    fn check_urls(&mut self, field: &str, c: &mut Checker) {
        if self.is_empty() {
            return;
        }
        let field = format!("{field}[]");
        for v in self.iter_mut() {
            v.check_urls(&field, c);
        }
    }
}

/// One text field of a hand-written free-form body (a multipart form's text part) named
/// `key`: `Ok(None)` when it is sent as it is (not a URL field, or already normalized),
/// `Ok(Some(normalized))` when its URL is to be sent normalized, or the message of an
/// `Error::InvalidRequest` naming the key and `operation_id` (never the text).
///
/// # Errors
/// The key names a URL field ([`url_key`]) and the text is not an absolute http(s) URL.
pub fn check_text(
    operation_id: &'static str,
    key: &str,
    text: &str,
) -> Result<Option<String>, String> {
    if url_key(key) == UrlKey::No {
        return Ok(None);
    }
    let mut c = Checker::new(operation_id);
    let mut sent = text.to_owned();
    self::text(&mut c, &At::Key(&At::Root(""), key), &mut sent);
    match c.error {
        Some(e) => Err(e),
        None => Ok((sent != text).then_some(sent)),
    }
}

/// Where a value sits in the body: built on the stack as the walk descends, written out only
/// for an error.
enum At<'p> {
    /// The place the generated code names (`""`, `meta`, `items[].extra`).
    Root(&'p str),
    /// A member of an object.
    Key(&'p At<'p>, &'p str),
    /// An item of an array.
    Index(&'p At<'p>, usize),
}

impl At<'_> {
    /// The key the value is held by (an array item: its array's key).
    fn key(&self) -> Option<&str> {
        match self {
            At::Root(field) => {
                let mut name = *field;
                while let Some(n) = name.strip_suffix("[]") {
                    name = n;
                }
                let name = name.rsplit('.').next().unwrap_or(name);
                (!name.is_empty()).then_some(name)
            }
            At::Key(_, k) => Some(k),
            At::Index(parent, _) => parent.key(),
        }
    }

    fn write(&self, out: &mut String) {
        match self {
            At::Root(field) => out.push_str(field),
            At::Key(parent, k) => {
                parent.write(out);
                if !out.is_empty() {
                    out.push('.');
                }
                out.extend(k.chars().flat_map(char::escape_debug));
            }
            At::Index(parent, i) => {
                parent.write(out);
                out.push_str(&format!("[{i}]"));
            }
        }
    }

    /// The path for an error message; a key shaped like a card number, an IBAN or a national
    /// code is masked (keys are the caller's text).
    fn path(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        crate::redact::Scrubber::new().scrub_owned(out)
    }
}

fn walk(c: &mut Checker, at: &At<'_>, v: &mut Value, depth: usize) {
    if c.error.is_some() {
        return;
    }
    if depth > MAX_DEPTH {
        let path = at.path();
        c.fail(format!(
            "field `{path}` of `{}` is nested more than {MAX_DEPTH} levels deep",
            c.operation
        ));
        return;
    }
    let kind = at.key().map_or(UrlKey::No, url_key);
    match v {
        Value::String(s) => text(c, at, s),
        Value::Object(map) => {
            if kind == UrlKey::Url {
                not_text(c, at);
            } else {
                walk_map(c, at, map, depth);
            }
        }
        Value::Array(items) => {
            for (i, x) in items.iter_mut().enumerate() {
                walk(c, &At::Index(at, i), x, depth + 1);
            }
        }
        Value::Number(_) | Value::Bool(_) => {
            if kind == UrlKey::Url {
                not_text(c, at);
            }
        }
        Value::Null => {}
    }
}

fn walk_map(c: &mut Checker, at: &At<'_>, map: &mut Map<String, Value>, depth: usize) {
    for (k, x) in map.iter_mut() {
        if c.error.is_some() {
            return;
        }
        walk(c, &At::Key(at, k), x, depth + 1);
    }
}

/// A string held by a URL key: normalized in place, or the call refused.
fn text(c: &mut Checker, at: &At<'_>, s: &mut String) {
    let kind = at.key().map_or(UrlKey::No, url_key);
    if c.error.is_some() || kind == UrlKey::No || (kind == UrlKey::Like && !may_be_url(s)) {
        return;
    }
    if recently_normal(s) {
        return;
    }
    match normalize_http_url(s) {
        Ok(n) if n == *s => remember_normal(s),
        Ok(n) => *s = n,
        Err(why) => {
            let path = at.path();
            c.fail(format!("field `{path}` of `{}` {why}", c.operation));
        }
    }
}

fn not_text(c: &mut Checker, at: &At<'_>) {
    let path = at.path();
    c.fail(format!(
        "field `{path}` of `{}` must be an absolute http(s) URL (a string)",
        c.operation
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CheckedBody;
    use crate::route::{Auth, Route};
    use serde_json::json;

    static FREE: Route = Route {
        operation_id: "store_queued_settlement",
        method: "POST",
        host: "https://api.vandar.io",
        path: "/v3/queued",
        segments: &[],
        auth: Auth::None,
        api_key_field: None,
        idempotent: false,
        checks: &[],
    };

    fn refused(body: Value) -> String {
        CheckedBody::new(&FREE, body)
            .map(|_| ())
            .expect_err("refused")
            .to_string()
    }

    #[test]
    fn keys_are_read_by_name() {
        for name in [
            "url",
            "URI",
            "notify_url",
            "callbackUrl",
            "redirect_uri",
            "Return-URL",
            "receipt_url",
            "image_urls",
            "redirect_uris",
        ] {
            assert_eq!(url_key(name), UrlKey::Url, "{name}");
        }
        for name in [
            "callback",
            "redirect",
            "redirect_to",
            "notify",
            "notifyTo",
            "webhook",
            "webhook_target",
            "Callback-Address",
        ] {
            assert_eq!(url_key(name), UrlKey::Like, "{name}");
        }
        for name in [
            "amount",
            "description",
            "curly",
            "urlencoded",
            "security",
            "notice",
            "return",
            "",
            "_",
        ] {
            assert_eq!(url_key(name), UrlKey::No, "{name}");
        }
    }

    #[test]
    fn url_fields_at_any_depth_are_refused_naming_the_key() {
        let js = "javascript:alert(document.cookie)//https://shop.example/";
        for (body, path) in [
            (json!({"notify_url": js}), "`notify_url`"),
            (json!({"callbackUrl": "//evil.example/cb"}), "`callbackUrl`"),
            (
                json!({"settlement": {"redirect_uri": "https://a@evil.example/"}}),
                "`settlement.redirect_uri`",
            ),
            (
                json!({"items": [{"url": "https://ok.example/"}, {"url": js}]}),
                "`items[1].url`",
            ),
            (json!({"callback": js}), "`callback`"),
            (
                json!({"webhook": {"target": {"url": js}}}),
                "`webhook.target.url`",
            ),
            (json!({"urls": ["https://ok.example/", js]}), "`urls[1]`"),
            (json!({"notify_url": 12}), "`notify_url`"),
            (json!({"notify_url": {"href": js}}), "`notify_url`"),
            (json!({"redirect_to": "//evil.example/cb"}), "`redirect_to`"),
            (
                json!({"redirect_to": " \\\\evil.example/cb"}),
                "`redirect_to`",
            ),
            (json!({"notify": "java\tscript:alert(1)"}), "`notify`"),
            (json!({"webhook": "HTTPS:evil.example"}), "`webhook`"),
            (
                json!({"notify_url": "https://shop.example/\u{200b}"}),
                "`notify_url`",
            ),
        ] {
            let e = refused(body.clone());
            assert!(
                e.contains(path) && e.contains("store_queued_settlement"),
                "{body}: {e}"
            );
            assert!(!e.contains("javascript") && !e.contains("evil"), "{e}");
        }
    }

    #[test]
    fn url_fields_are_sent_normalized_and_other_values_untouched() {
        let body = json!({
            "amount": 1000,
            "notify_url": "HTTPS://Shop.EXAMPLE:443/a/./b/../cb",
            "nested": [{"callback_url": "http://n.example"}],
            "callback_method": "POST",
            "notify": true,
            "notify_mobile": "09120000000",
            "notify_email": "shop@shop.example",
            "notify_at": "12:30",
            "redirect_message": "Paid. Thanks: see you",
            "redirect": null,
            "description": "javascript:alert(1)",
            "callback_url": null,
        });
        let ok = CheckedBody::new(&FREE, body).unwrap();
        let b = ok.body();
        assert_eq!(b["notify_url"], "https://shop.example/a/cb");
        assert_eq!(b["nested"][0]["callback_url"], "http://n.example/");
        assert_eq!(b["callback_method"], "POST");
        assert_eq!(b["notify_mobile"], "09120000000");
        assert_eq!(b["notify_email"], "shop@shop.example");
        assert_eq!(b["notify_at"], "12:30");
        assert_eq!(b["description"], "javascript:alert(1)", "not a URL key");
    }

    #[test]
    fn text_fields_of_hand_written_bodies() {
        assert_eq!(check_text("op", "note", "javascript:x"), Ok(None));
        assert_eq!(
            check_text("op", "callback_url", "https://a.example/"),
            Ok(None)
        );
        assert_eq!(
            check_text("op", "callback_url", "HTTPS://A.example"),
            Ok(Some("https://a.example/".to_owned()))
        );
        let e = check_text("op", "callbackUrl", "javascript:x").unwrap_err();
        assert!(
            e.contains("`callbackUrl` of `op`") && !e.contains("javascript"),
            "{e}"
        );
        assert_eq!(check_text("op", "notify_to", "sms"), Ok(None));
    }

    #[test]
    fn a_key_shaped_like_a_card_number_is_masked_in_the_error() {
        let e = refused(json!({"6037997599999993": {"notify_url": "x y"}}));
        assert!(!e.contains("6037997599999993"), "{e}");
        assert!(e.contains("notify_url"), "{e}");
    }

    #[test]
    fn typed_places_maps_options_and_lists() {
        let mut c = Checker::new("op");
        let mut map: Map<String, Value> = json!({"notify_url": "http://a.example"})
            .as_object()
            .cloned()
            .unwrap();
        c.free_form("", &mut map);
        assert_eq!(map["notify_url"], "http://a.example/");
        let mut field = Some(json!("javascript:x"));
        c.free_form("meta.callback", &mut field);
        let e = c.finish().unwrap_err().to_string();
        assert!(e.contains("`meta.callback`"), "{e}");

        let mut c = Checker::new("op");
        let mut list = vec![json!({"url": "ftp://a.example/"})];
        c.free_form("items", &mut list);
        let e = c.finish().unwrap_err().to_string();
        assert!(e.contains("`items[].url`"), "{e}");

        let mut c = Checker::new("op");
        let mut form: std::collections::HashMap<String, String> =
            [("redirect_uri".to_owned(), "javascript:x".to_owned())].into();
        c.free_form("", &mut form);
        assert!(c.finish().is_err());

        let mut c = Checker::new("op");
        let mut deep = json!(null);
        for _ in 0..200 {
            deep = json!([deep]);
        }
        c.free_form("", &mut deep);
        let e = c.finish().unwrap_err().to_string();
        assert!(e.contains("nested more than"), "{e}");
    }
}
