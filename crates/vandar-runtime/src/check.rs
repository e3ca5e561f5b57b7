//! A request body checked against its operation's constraints before anything is sent.
//!
//! The generated `send()` wraps its typed body in a [`CheckedBody`] ([`CheckedBody::new`]):
//! the body's [`CheckBody::check`], which the xtask generates per body type from the spec's
//! constraints, visits the typed fields themselves (no JSON tree, no reparse of serialized
//! bytes): numeric `minimum`/`maximum`, `maxItems`, `minLength` of runtime types, non-empty
//! required strings, and every URL field (`format: uri`), which is replaced by its parsed,
//! normalized form or refused. The request is then serialized once, from the typed value. The
//! credential a body carries (the IPG's `api_key`, named by the spec's `x-credential`) comes
//! from a generated accessor; the sensitive values are read only when an error must be
//! scrubbed.
//!
//! A [`serde_json::Value`] body (the CLI's generic `vandar call`, hand-written raw calls) is
//! checked against the route's [`FieldCheck`](crate::FieldCheck) table, the same constraints
//! as data.
//!
//! The free-form parts of a body (an undocumented object, a `Value` or map field, a `Value`
//! body) have no spec constraints: their URL fields are found by name at any depth and
//! normalized or refused ([`free_form`], [`Checker::free_form`]).

use std::fmt;
use std::num::{NonZeroU32, NonZeroU64};

use serde::Serialize;
use serde_json::Value;

use crate::error::Error;
use crate::redact::Scrubber;
use crate::route::Route;

pub mod free_form;
pub use free_form::FreeForm;

/// A request body the runtime can check: implemented by the xtask for every generated body
/// type, and by [`serde_json::Value`] (checked against [`Route::checks`]).
pub trait CheckBody: Serialize + Send + Sync {
    /// Check the fields against `route`'s constraints, normalizing URL fields in place; report
    /// the first violation to `c`.
    fn check(&mut self, route: &Route, c: &mut Checker);

    /// The credential this body carries (`x-credential: body-api-key`); none by default.
    fn api_key(&self, _route: &Route) -> Option<&str> {
        None
    }
}

/// [`Text`] and [`UrlText`] for string newtypes of the generated code (typify's constrained
/// strings: `Deref<Target = String>` and `TryFrom<String>`), as the xtask emits them.
#[doc(hidden)]
#[macro_export]
macro_rules! __string_newtype_checks {
    ($($t:ty),* $(,)?) => {$(
        impl $crate::check::Text for $t {
            fn text(&self) -> ::std::option::Option<&str> {
                ::std::option::Option::Some(self.as_str())
            }
        }
        impl $crate::check::UrlText for $t {
            fn replace(
                &mut self,
                normalized: ::std::string::String,
            ) -> ::std::result::Result<(), ::std::string::String> {
                *self = ::std::convert::TryFrom::try_from(normalized)
                    .map_err(|e| ::std::string::ToString::to_string(&e))?;
                ::std::result::Result::Ok(())
            }
        }
    )*};
}

/// Collects the first constraint violation of a body (see [`CheckBody::check`]). Messages
/// name the field and the operation, never a string value.
#[derive(Debug)]
pub struct Checker {
    operation: &'static str,
    error: Option<String>,
}

impl Checker {
    fn new(operation: &'static str) -> Self {
        Self {
            operation,
            error: None,
        }
    }

    fn fail(&mut self, message: String) {
        if self.error.is_none() {
            self.error = Some(message);
        }
    }

    /// `field` (a number, or a numeric string) within `minimum..=maximum`; absent is fine.
    pub fn range<N: Number + ?Sized>(
        &mut self,
        field: &str,
        value: &N,
        minimum: Option<i64>,
        maximum: Option<i64>,
    ) {
        if self.error.is_some() {
            return;
        }
        match value.number() {
            None => {}
            Some(Err(())) => self.fail(not_a_number(field, self.operation)),
            Some(Ok(n)) => {
                if let Err(e) = check_range(field, self.operation, n, minimum, maximum) {
                    self.fail(e)
                }
            }
        }
    }

    /// `field` (a string) has at least `min_length` characters once trimmed; absent is fine.
    pub fn min_length<T: Text + ?Sized>(&mut self, field: &str, value: &T, min_length: usize) {
        if self.error.is_some() {
            return;
        }
        if let Some(s) = value.text()
            && let Err(e) = check_length(field, self.operation, s, min_length)
        {
            self.fail(e)
        }
    }

    /// `field` (an array) has at most `max_items` items; absent is fine.
    pub fn max_items<I: Items + ?Sized>(&mut self, field: &str, value: &I, max_items: usize) {
        if self.error.is_some() {
            return;
        }
        if let Some(n) = value.count()
            && let Err(e) = check_items(field, self.operation, n, max_items)
        {
            self.fail(e)
        }
    }

    /// `field` is an absolute http(s) URL: replaced by its normalized form
    /// ([`normalize_http_url`]) or refused; absent is fine.
    pub fn http_url<U: UrlText + ?Sized>(&mut self, field: &str, value: &mut U) {
        if self.error.is_some() {
            return;
        }
        let Some(raw) = value.text() else { return };
        if recently_normal(raw) {
            return;
        }
        match normalize_http_url(raw) {
            Ok(n) if n == raw => remember_normal(raw),
            Ok(n) => {
                if let Err(why) = value.replace(n) {
                    self.fail(format!(
                        "field `{field}` of `{}` is not valid once normalized: {why}",
                        self.operation
                    ))
                }
            }
            Err(why) => self.fail(format!("field `{field}` of `{}` {why}", self.operation)),
        }
    }

    fn finish(self) -> Result<(), Error> {
        match self.error {
            None => Ok(()),
            Some(e) => Err(Error::InvalidRequest(e)),
        }
    }
}

thread_local! {
    /// The last few URL field values this thread found valid and already normalized (an
    /// application sends the same callback URL on every payment): an exact byte match skips the
    /// parse. Only strings that passed [`normalize_http_url`] unchanged are kept.
    static NORMAL_URLS: std::cell::RefCell<[Option<Box<str>>; 4]> = const {
        std::cell::RefCell::new([None, None, None, None])
    };
    static NEXT_SLOT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn recently_normal(raw: &str) -> bool {
    NORMAL_URLS.with(|k| k.borrow().iter().flatten().any(|s| &**s == raw))
}

fn remember_normal(raw: &str) {
    if raw.len() > 2048 {
        return;
    }
    let slot = NEXT_SLOT.with(|n| {
        let i = n.get();
        n.set((i + 1) % 4);
        i
    });
    NORMAL_URLS.with(|k| k.borrow_mut()[slot] = Some(raw.into()));
}

/// A field that holds a number (or a numeric string): what [`Checker::range`] reads.
pub trait Number {
    /// `None` when absent; `Some(Err(()))` when a string is not a number.
    fn number(&self) -> Option<Result<f64, ()>>;
}

/// A field that holds text: what [`Checker::min_length`] and [`Checker::http_url`] read.
pub trait Text {
    /// `None` when absent.
    fn text(&self) -> Option<&str>;
}

/// A text field the checker may replace with its normalized form ([`Checker::http_url`]).
pub trait UrlText: Text {
    /// Store `normalized`; `Err` says why the field's own type refuses it.
    fn replace(&mut self, normalized: String) -> Result<(), String>;
}

/// A field that holds a list: what [`Checker::max_items`] reads.
pub trait Items {
    /// `None` when absent.
    fn count(&self) -> Option<usize>;
}

impl<T: Number> Number for Option<T> {
    fn number(&self) -> Option<Result<f64, ()>> {
        self.as_ref().and_then(T::number)
    }
}

impl<T: Text> Text for Option<T> {
    fn text(&self) -> Option<&str> {
        self.as_ref().and_then(T::text)
    }
}

impl<T: UrlText> UrlText for Option<T> {
    fn replace(&mut self, normalized: String) -> Result<(), String> {
        match self {
            Some(v) => v.replace(normalized),
            None => Ok(()),
        }
    }
}

impl<T> Items for Vec<T> {
    fn count(&self) -> Option<usize> {
        Some(self.len())
    }
}

impl<T> Items for Option<Vec<T>> {
    fn count(&self) -> Option<usize> {
        self.as_ref().map(Vec::len)
    }
}

impl Text for String {
    fn text(&self) -> Option<&str> {
        Some(self)
    }
}

impl Text for str {
    fn text(&self) -> Option<&str> {
        Some(self)
    }
}

impl UrlText for String {
    fn replace(&mut self, normalized: String) -> Result<(), String> {
        *self = normalized;
        Ok(())
    }
}

impl Number for String {
    fn number(&self) -> Option<Result<f64, ()>> {
        self.as_str().number()
    }
}

impl Number for str {
    fn number(&self) -> Option<Result<f64, ()>> {
        Some(match self.trim().parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(n),
            _ => Err(()),
        })
    }
}

macro_rules! number_as_f64 {
    ($($t:ty),*) => {$(
        impl Number for $t {
            fn number(&self) -> Option<Result<f64, ()>> {
                Some(Ok(*self as f64))
            }
        }
    )*};
}
number_as_f64!(i64, i32, u64, u32, f64);

impl Number for NonZeroU64 {
    fn number(&self) -> Option<Result<f64, ()>> {
        Some(Ok(self.get() as f64))
    }
}

impl Number for NonZeroU32 {
    fn number(&self) -> Option<Result<f64, ()>> {
        Some(Ok(self.get() as f64))
    }
}

macro_rules! number_of_domain {
    ($($t:ident),*) => {$(
        impl Number for crate::domain::$t {
            fn number(&self) -> Option<Result<f64, ()>> {
                Some(Ok(self.get() as f64))
            }
        }
    )*};
}
number_of_domain!(Rial, Toman, LenientInt);

macro_rules! number_of_string_wrapper {
    ($($t:ident),*) => {$(
        impl Number for crate::domain::$t {
            fn number(&self) -> Option<Result<f64, ()>> {
                Some(Ok(self.get().get() as f64))
            }
        }
    )*};
}
number_of_string_wrapper!(RialString, TomanString);

impl Text for crate::ApiKey {
    fn text(&self) -> Option<&str> {
        Some(self.expose())
    }
}

impl Text for crate::OAuthToken {
    fn text(&self) -> Option<&str> {
        Some(self.expose())
    }
}

impl Text for crate::domain::ApiId {
    fn text(&self) -> Option<&str> {
        match self {
            crate::domain::ApiId::Str(s) => Some(s),
            // An integer id is never empty.
            _ => None,
        }
    }
}

impl Text for crate::domain::TrackId {
    fn text(&self) -> Option<&str> {
        Some(self.as_str())
    }
}

/// A request body that passed its operation's checks; serializes to exactly what is sent (the
/// typed body itself). `Debug` shows no values (a body holds api keys, card numbers, national
/// codes).
#[derive(Clone)]
pub struct CheckedBody<B> {
    body: B,
}

impl<B> fmt::Debug for CheckedBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CheckedBody([redacted])")
    }
}

impl<B: Serialize> Serialize for CheckedBody<B> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.body.serialize(s)
    }
}

impl<B: CheckBody> CheckedBody<B> {
    /// Check `body` against `route`'s constraints and normalize its URL fields. Nothing is
    /// sent when this fails; the error names the field and the operation, never a value.
    pub fn new(route: &Route, mut body: B) -> Result<Self, Error> {
        let mut c = Checker::new(route.operation_id);
        body.check(route, &mut c);
        c.finish()?;
        Ok(Self { body })
    }
}

impl<B> CheckedBody<B> {
    /// The body that is sent (URL fields normalized).
    pub fn body(&self) -> &B {
        &self.body
    }
}

/// What the runtime needs of a sent body after serialization: the credential it carries and,
/// only when an error is reported, its sensitive values. Implemented by [`CheckedBody`]; the
/// generated code hands its checked body to [`crate::Binding::send_json`] (or
/// [`NoBody`] for an operation without one).
pub trait SentBody: Sync {
    /// The credential in the body (see [`CheckBody::api_key`]).
    fn api_key(&self, route: &Route) -> Option<&str>;

    /// Add the body's sensitive values to `scrubber` (serializes the body: error path only).
    fn scrub_into(&self, scrubber: &mut Scrubber);

    /// The body as the JSON that is sent. The raw entries ([`crate::Binding::call`],
    /// [`crate::Binding::call_raw`]) send this, never a body the request was built with, so
    /// what goes out is what was checked.
    fn to_json(&self) -> serde_json::Result<Vec<u8>>;
}

/// The body of an operation that has none (its `Option<NoBody>` is always `None`).
#[derive(Debug)]
pub enum NoBody {}

impl SentBody for NoBody {
    fn api_key(&self, _: &Route) -> Option<&str> {
        match *self {}
    }

    fn scrub_into(&self, _: &mut Scrubber) {
        match *self {}
    }

    fn to_json(&self) -> serde_json::Result<Vec<u8>> {
        match *self {}
    }
}

impl<S: SentBody + ?Sized> SentBody for &S {
    fn api_key(&self, route: &Route) -> Option<&str> {
        (**self).api_key(route)
    }

    fn scrub_into(&self, scrubber: &mut Scrubber) {
        (**self).scrub_into(scrubber)
    }

    fn to_json(&self) -> serde_json::Result<Vec<u8>> {
        (**self).to_json()
    }
}

impl<B: CheckBody> SentBody for CheckedBody<B> {
    fn api_key(&self, route: &Route) -> Option<&str> {
        self.body
            .api_key(route)
            .filter(|k| !trim_text(k).is_empty())
    }

    fn scrub_into(&self, scrubber: &mut Scrubber) {
        // By name (`SENSITIVE_FIELDS`) and by type: the values of secret types (API keys,
        // OAuth tokens and codes, cards, national codes, IBANs), whatever their field is called.
        let (v, secrets) =
            vandar_domain::sensitive::collect_serialized(|| serde_json::to_value(&self.body));
        if let Ok(v) = v {
            scrubber.add_json_fields(&v);
        }
        for s in &secrets {
            scrubber.add(s);
        }
    }

    fn to_json(&self) -> serde_json::Result<Vec<u8>> {
        serde_json::to_vec(&self.body)
    }
}

impl CheckBody for Value {
    fn check(&mut self, route: &Route, c: &mut Checker) {
        for check in route.checks {
            if let Err(e) = check.apply(route.operation_id, self) {
                c.fail(e);
                return;
            }
        }
        // Fields the route does not list: URL fields by name.
        c.free_form("", self);
    }

    fn api_key(&self, route: &Route) -> Option<&str> {
        route
            .api_key_field
            .and_then(|f| self.get(f))
            .and_then(Value::as_str)
    }
}

pub(crate) fn not_a_number(field: &str, operation_id: &str) -> String {
    format!("field `{field}` of `{operation_id}` is not a number")
}

pub(crate) fn check_range(
    field: &str,
    operation_id: &str,
    n: f64,
    minimum: Option<i64>,
    maximum: Option<i64>,
) -> Result<(), String> {
    if let Some(min) = minimum.filter(|m| n < *m as f64) {
        return Err(format!(
            "field `{field}` of `{operation_id}` is {n}, below the minimum {min}"
        ));
    }
    if let Some(max) = maximum.filter(|m| n > *m as f64) {
        return Err(format!(
            "field `{field}` of `{operation_id}` is {n}, above the maximum {max}"
        ));
    }
    Ok(())
}

pub(crate) fn check_items(
    field: &str,
    operation_id: &str,
    count: usize,
    max_items: usize,
) -> Result<(), String> {
    if count > max_items {
        return Err(format!(
            "field `{field}` of `{operation_id}` has {count} items, more than {max_items}"
        ));
    }
    Ok(())
}

pub(crate) fn check_length(
    field: &str,
    operation_id: &str,
    s: &str,
    min_length: usize,
) -> Result<(), String> {
    let t = trim_text(s);
    // A character is 1 to 4 bytes: the byte length decides most cases without counting.
    let short = if t.len() < min_length {
        true
    } else if t.len() >= min_length.saturating_mul(4) {
        false
    } else {
        t.chars().count() < min_length
    };
    if short {
        return Err(if min_length <= 1 {
            format!("field `{field}` of `{operation_id}` is empty")
        } else {
            format!("field `{field}` of `{operation_id}` is shorter than {min_length} characters")
        });
    }
    Ok(())
}

/// `s.trim()`, without looking up the Unicode white space of a text whose first and last
/// bytes are visible ASCII (they are then not white space): the usual field value.
fn trim_text(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

/// Parse a URL field strictly and return its normalized form: an absolute `http`/`https` URL
/// written with `//` after the scheme and a host right after it (`https:///shop.example/cb`,
/// whose authority is empty, is refused: a WHATWG parser skips the extra slashes and makes the
/// first path segment the host), without a user name or password (no `@` in the authority),
/// with no whitespace, control or invisible character (every `Default_Ignorable_Code_Point`
/// and format character: zero-width characters, bidi controls such as U+061C ARABIC LETTER
/// MARK, the byte order mark, variation selectors, ...) anywhere in the raw text (a leading
/// space, an embedded space, CR LF, a tab are refused, not trimmed away).
///
/// The error says what is wrong and never holds the value.
pub fn normalize_http_url(raw: &str) -> Result<String, &'static str> {
    if raw.is_empty() {
        return Err("must not be empty");
    }
    if raw
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || crate::unicode::is_invisible(c))
    {
        return Err("must not contain whitespace, control or invisible characters");
    }
    let lower = raw.get(..8).unwrap_or(raw).to_ascii_lowercase();
    let rest = if lower.starts_with("http://") {
        &raw[7..]
    } else if lower.starts_with("https://") {
        &raw[8..]
    } else {
        return Err("must be an absolute http(s) URL starting with `http://` or `https://`");
    };
    // The authority as the raw text has it: up to the path, query or fragment (a WHATWG
    // parser also ends it at `\` for http(s)).
    let authority = rest
        .find(['/', '\\', '?', '#'])
        .map_or(rest, |end| &rest[..end]);
    if authority.is_empty() {
        return Err("must have a host right after `//`");
    }
    // `https://shop.example@evil.example/cb` reads as the shop's and goes to evil.example
    if authority.contains('@') {
        return Err("must not carry a user name or password (`user@host`)");
    }
    let url = url::Url::parse(raw).map_err(|_| "is not a valid URL")?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err("must be an absolute http(s) URL with a host");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry a user name or password (`user@host`)");
    }
    Ok(url.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::{Auth, FieldCheck};
    use proptest::prelude::*;
    use serde_json::json;

    proptest! {
        /// The ASCII shortcut trims exactly as `str::trim` (Unicode white space included).
        #[test]
        fn trim_text_is_trim(s in "[ \\t\\n\u{a0}\u{3000}\u{2028}a-z0-9\u{6f0}-\u{6f9}]{0,12}") {
            prop_assert_eq!(trim_text(&s), s.trim());
        }
    }

    /// A `BodyInput` gives the typed body set on it, builds one from its builder, and keeps
    /// the reason a value was refused.
    #[test]
    fn body_input_keeps_the_typed_body_and_builds_from_the_builder() {
        #[derive(Clone, Debug, Default, PartialEq)]
        struct Builder(Option<u32>);
        #[derive(Clone, Debug, PartialEq)]
        struct Body(u32);
        impl From<Body> for Builder {
            fn from(b: Body) -> Self {
                Builder(Some(b.0))
            }
        }
        impl TryFrom<Builder> for Body {
            type Error = String;
            fn try_from(b: Builder) -> Result<Self, String> {
                b.0.map(Body)
                    .ok_or_else(|| "no value supplied for n".to_owned())
            }
        }
        type Input = BodyInput<Body, Builder>;
        assert_eq!(Input::set(Body(7)).typed(), Ok(Body(7)));
        assert_eq!(Input::set(Builder(Some(8))).typed(), Ok(Body(8)));
        assert_eq!(
            Input::set(Builder(None)).typed(),
            Err("no value supplied for n".to_owned())
        );
        assert_eq!(
            Input::default().typed(),
            Err("no value supplied for n".to_owned())
        );
        let edited = Input::default().map(|b| Builder(b.0.or(Some(3))));
        assert_eq!(edited.typed(), Ok(Body(3)));
        let edited = Input::set(Body(5)).map(|b| Builder(b.0.map(|n| n + 1)));
        assert_eq!(edited.typed(), Ok(Body(6)));
    }

    static SEND: Route = Route {
        operation_id: "send_payment",
        method: "POST",
        host: "https://ipg.vandar.io",
        path: "/api/v4/send",
        segments: &[],
        auth: Auth::None,
        api_key_field: Some("api_key"),
        idempotent: false,
        checks: &[
            FieldCheck {
                minimum: Some(1000),
                ..FieldCheck::on("amount")
            },
            FieldCheck {
                http_url: true,
                ..FieldCheck::on("callback_url")
            },
            FieldCheck {
                http_url: true,
                ..FieldCheck::on("items[].notify_url")
            },
        ],
    };

    #[test]
    fn url_fields_are_sent_normalized_or_refused() {
        for bad in [
            "https:host/cb",
            "https:/host/cb",
            "https://shop.example/c b",
            " https://shop.example/cb",
            "https://shop.example/cb ",
            "https://shop.example/cb\r\nX-Evil: 1",
            "https://shop.example/\tcb",
            "https://",
            "ftp://shop.example/cb",
            "/cb",
            "",
            "javascript:alert(1)",
            "https://shop.example@evil.example/cb",
            "https://user:pass@shop.example/cb",
            "https://a@b.example/cb",
            "https://shop.example/\u{202e}bc",
            "https://shop.example/cb\u{feff}",
            "https://\u{200b}shop.example/cb",
            "https://shop.example/cb\u{061c}",
            "https://shop.example/cb\u{180e}",
            "https:///shop.example/cb",
            "https:////evil.example/cb",
            "https://shop.example/c\u{85}b",
            "https://shop.example/c\u{2028}b",
        ] {
            let e = CheckedBody::new(
                &SEND,
                json!({"amount": 1000, "callback_url": bad, "api_key": "k-123456"}),
            )
            .unwrap_err()
            .to_string();
            assert!(
                e.contains("`callback_url`") && e.contains("send_payment"),
                "{bad:?}: {e}"
            );
            assert!(!e.contains("k-123456"), "{e}");
        }
        // an untyped body: a URL field that is not a string is refused, not sent unchecked
        for bad in [
            json!(["javascript:alert(1)"]),
            json!({"href": "javascript:alert(1)"}),
            json!(12345),
            json!(true),
        ] {
            let e = CheckedBody::new(&SEND, json!({"amount": 1000, "callback_url": bad}))
                .unwrap_err()
                .to_string();
            assert!(e.contains("`callback_url`"), "{e}");
        }
        assert!(
            CheckedBody::new(&SEND, json!({"amount": 1000, "callback_url": null})).is_ok(),
            "null is an absent optional field"
        );
        let ok = CheckedBody::new(
            &SEND,
            json!({"amount": 1000, "callback_url": "HTTPS://Shop.Example:443/a/../cb?x=1",
                    "items": [{"notify_url": "http://n.example"}]}),
        )
        .unwrap();
        assert_eq!(ok.body()["callback_url"], "https://shop.example/cb?x=1");
        assert_eq!(ok.body()["items"][0]["notify_url"], "http://n.example/");
        let e = CheckedBody::new(
            &SEND,
            json!({"amount": 1000, "items": [{"notify_url": "http://n.example"}, {"notify_url": "x y"}]}),
        )
        .unwrap_err();
        assert!(e.to_string().contains("items[].notify_url"), "{e}");
    }

    /// Review r9 F3: every default-ignorable or format character (U+061C ARABIC LETTER MARK
    /// was missing from a hand-kept list), anywhere in the URL, is refused, not sent.
    #[test]
    fn every_invisible_character_in_a_url_is_refused() {
        let mut wrong = Vec::new();
        for &c in crate::unicode::testing::invisible_chars() {
            for raw in [
                format!("https://shop.example/cb{c}"),
                format!("https://shop.example/{c}cb?x=1"),
                format!("https://shop{c}.example/cb"),
                format!("https://shop.example/cb#{c}"),
            ] {
                if normalize_http_url(&raw).is_ok() {
                    wrong.push(format!("U+{:04X} {raw:?}", u32::from(c)));
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "{} accepted: {:?}",
            wrong.len(),
            &wrong[..wrong.len().min(20)]
        );
    }

    /// Review r9 F3: an empty authority (`https:///shop.example/cb`) is refused, not sent to
    /// the first path segment as the host; a URL with a host right after `//` is kept.
    #[test]
    fn a_url_without_an_authority_is_refused_not_rehosted() {
        for raw in [
            "https:///shop.example/cb",
            "https:////evil.example/cb",
            "HTTP:///evil.example",
            "https://\\evil.example/cb",
            "https://\\\\evil.example/cb",
            "https:///\\evil.example/cb",
            "http:/\\evil.example/cb",
            "https://?evil.example",
            "https://#evil.example",
            "https://@evil.example/cb",
            "https://shop.example@/cb",
        ] {
            let e = normalize_http_url(raw).expect_err(raw);
            assert!(!e.contains("evil"), "{e}");
        }
        for (raw, sent) in [
            ("https://shop.example", "https://shop.example/"),
            ("https://shop.example?x=1", "https://shop.example/?x=1"),
            ("https://shop.example#f", "https://shop.example/#f"),
            ("https://shop.example\\cb", "https://shop.example/cb"),
            ("http://127.0.0.1:8080//cb", "http://127.0.0.1:8080//cb"),
            ("https://[::1]/cb", "https://[::1]/cb"),
        ] {
            assert_eq!(normalize_http_url(raw).as_deref(), Ok(sent), "{raw}");
        }
    }

    #[test]
    fn api_key_comes_from_the_named_field_and_debug_hides_values() {
        let b = CheckedBody::new(
            &SEND,
            json!({"amount": 5000, "api_key": "key-SECRET-1", "callback_url": "https://a.example/"}),
        )
        .unwrap();
        assert_eq!(SentBody::api_key(&b, &SEND), Some("key-SECRET-1"));
        assert!(!format!("{b:?}").contains("SECRET"));
        let blank = CheckedBody::new(&SEND, json!({"amount": 5000, "api_key": " "})).unwrap();
        assert_eq!(SentBody::api_key(&blank, &SEND), None);
        let below = CheckedBody::new(&SEND, json!({"amount": 999})).unwrap_err();
        assert!(below.to_string().contains("`amount`"), "{below}");
        let mut s = Scrubber::new();
        b.scrub_into(&mut s);
        assert_eq!(s.scrub("echo key-SECRET-1"), "echo [redacted]");
    }
}

/// A generated operation's body as its builder holds it: the typed body given to `body(..)`
/// kept as it is, or progenitor's body builder (what `body_map(..)` edits, from its empty
/// default), or why the value given could not become the body. The typed body is no longer
/// turned into a builder and back on every call (issue 22: that ran the conversion and the
/// builder's checks twice). `typed()` gives the body to check and send.
#[derive(Clone, Debug, Default)]
pub enum BodyInput<T, B> {
    /// The body, typed (from `body(..)`).
    Typed(T),
    /// The body's builder (from `body_map(..)`, or nothing set yet).
    Building(B),
    /// `body(..)` was given a value that is not a valid body: the reason.
    Invalid(String),
    /// Nothing set yet: an empty builder (nothing to drop when `body(..)` replaces it).
    #[default]
    Empty,
}

impl<T, B> BodyInput<T, B> {
    /// The body from anything that converts into it (the typed body itself, or its builder).
    pub fn set<V>(value: V) -> Self
    where
        V: TryInto<T>,
        V::Error: std::fmt::Display,
    {
        match value.try_into() {
            Ok(body) => BodyInput::Typed(body),
            Err(e) => BodyInput::Invalid(e.to_string()),
        }
    }

    /// The body's builder changed by `f` (a typed body becomes a builder first).
    #[must_use]
    pub fn map(self, f: impl FnOnce(B) -> B) -> Self
    where
        B: From<T> + Default,
    {
        match self {
            BodyInput::Typed(body) => BodyInput::Building(f(B::from(body))),
            BodyInput::Building(builder) => BodyInput::Building(f(builder)),
            BodyInput::Empty => BodyInput::Building(f(B::default())),
            invalid @ BodyInput::Invalid(_) => invalid,
        }
    }

    /// The typed body, or why there is none (a field the builder lacks or refused).
    ///
    /// # Errors
    /// The reason, as the builder or the conversion gave it.
    pub fn typed(self) -> Result<T, String>
    where
        B: Default,
        T: TryFrom<B>,
        <T as TryFrom<B>>::Error: std::fmt::Display,
    {
        match self {
            BodyInput::Typed(body) => Ok(body),
            BodyInput::Building(builder) => T::try_from(builder).map_err(|e| e.to_string()),
            BodyInput::Invalid(reason) => Err(reason),
            BodyInput::Empty => T::try_from(B::default()).map_err(|e| e.to_string()),
        }
    }
}
