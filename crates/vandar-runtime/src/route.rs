//! What the xtask emits per operation from each spec: a `&'static` [`Route`] (host, path as
//! typed segments, auth, where an api_key travels, retry safety, constraints) that the
//! generated `send()` hands to the runtime by reference.

pub use crate::path::Segment;

/// How an operation authenticates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    /// No credentials (the IPG: its `api_key` travels in the body).
    None,
    /// `Authorization: Bearer <token>` with the token configured for the named security scheme.
    Bearer(&'static str),
    /// `Authorization: Basic <id:secret>` with the client credentials of the named scheme.
    Basic(&'static str),
}

/// One operation of a spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    /// The spec's `operationId`.
    pub operation_id: &'static str,
    /// Upper-case HTTP method.
    pub method: &'static str,
    /// Default host (scheme and authority, no path), e.g. `https://ipg.vandar.io`.
    pub host: &'static str,
    /// Path template from the spec.
    pub path: &'static str,
    /// The same path as typed segments: the URL is built from them ([`crate::path`]).
    pub segments: &'static [Segment],
    /// Auth scheme.
    pub auth: Auth,
    /// The body field that carries the credential (`x-credential: body-api-key` in the spec:
    /// the IPG's `api_key`); it picks the rate-limit budget and is scrubbed from errors.
    pub api_key_field: Option<&'static str>,
    /// Whether a retry after a transient failure cannot repeat a side effect (GET, or
    /// `x-idempotent: true` in the spec). Money-moving calls are never idempotent.
    pub idempotent: bool,
    /// Constraints on body fields that the generated types do not enforce (numeric
    /// `minimum`/`maximum`, array `maxItems`, `minLength` of runtime types, `format: uri`);
    /// checked before sending.
    pub checks: &'static [FieldCheck],
}

/// A constraint from the spec on one request-body field that the generated types do not
/// enforce themselves.
///
/// `field` is a path: `amount`, `payer.mobile` (a field of an object) or `items[].amount`
/// (the field of every item of an array). An absent or `null` field is not checked (whether a
/// field is required is enforced by the generated types).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldCheck {
    /// JSON field path.
    pub field: &'static str,
    /// Inclusive minimum of a number (a numeric string counts as its number).
    pub minimum: Option<i64>,
    /// Inclusive maximum of a number.
    pub maximum: Option<i64>,
    /// Most items of an array.
    pub max_items: Option<usize>,
    /// Fewest characters of a string (`minLength`; 1 means "not empty").
    pub min_length: Option<usize>,
    /// The string must be an absolute `http`/`https` URL (`format: uri`).
    pub http_url: bool,
}

impl FieldCheck {
    /// A check of `field` with no constraint yet (for building tables by hand).
    pub const fn on(field: &'static str) -> Self {
        Self {
            field,
            minimum: None,
            maximum: None,
            max_items: None,
            min_length: None,
            http_url: false,
        }
    }

    /// Check one body; the message names the field and the operation, never a string value.
    pub fn check(&self, operation_id: &str, body: &serde_json::Value) -> Result<(), String> {
        let mut found = Vec::new();
        collect(body, self.field, &mut found);
        for v in found {
            self.check_value(operation_id, v)?;
        }
        Ok(())
    }

    /// [`FieldCheck::check`], and for a URL field (`format: uri`) the strict parse: the value
    /// is replaced by its normalized form ([`crate::check::normalize_http_url`]).
    pub fn apply(&self, operation_id: &str, body: &mut serde_json::Value) -> Result<(), String> {
        self.check(operation_id, body)?;
        if !self.http_url {
            return Ok(());
        }
        let mut result = Ok(());
        for_each_mut(body, self.field, &mut |v| {
            if result.is_err() {
                return;
            }
            if let serde_json::Value::String(s) = v {
                match crate::check::normalize_http_url(s) {
                    Ok(n) => *s = n,
                    Err(why) => {
                        result = Err(format!("field `{}` of `{operation_id}` {why}", self.field))
                    }
                }
            }
        });
        result
    }

    fn check_value(&self, operation_id: &str, v: &serde_json::Value) -> Result<(), String> {
        use crate::check::{Number, check_items, check_length, check_range, not_a_number};
        use serde_json::Value;
        let field = self.field;
        let number = match v {
            Value::Number(n) => n.as_f64().map(Ok),
            Value::String(s) if self.minimum.is_some() || self.maximum.is_some() => s.number(),
            _ => None,
        };
        match number {
            Some(Err(())) => return Err(not_a_number(field, operation_id)),
            Some(Ok(n)) => check_range(field, operation_id, n, self.minimum, self.maximum)?,
            None => {}
        }
        if let (Some(max), Some(items)) = (self.max_items, v.as_array()) {
            check_items(field, operation_id, items.len(), max)?;
        }
        // A URL field of an untyped body holds a string (or nothing): an array or an object
        // around a `javascript:` text would go out unchecked.
        if self.http_url && !matches!(v, Value::String(_) | Value::Null) {
            return Err(format!(
                "field `{field}` of `{operation_id}` must be an absolute http(s) URL (a string)"
            ));
        }
        if let Value::String(s) = v {
            if let Some(min) = self.min_length {
                check_length(field, operation_id, s, min)?;
            }
            if self.http_url && crate::check::normalize_http_url(s).is_err() {
                return Err(format!(
                    "field `{field}` of `{operation_id}` must be an absolute http(s) URL"
                ));
            }
        }
        Ok(())
    }
}

/// Whether `s` is an absolute `http`/`https` URL with a host, with no whitespace or control
/// character (see [`crate::check::normalize_http_url`]).
pub fn is_absolute_http_url(s: &str) -> bool {
    crate::check::normalize_http_url(s).is_ok()
}

/// The first step of a field path: `items[].amount` → (`items`, every item, `amount`).
fn step(path: &str) -> (&str, bool, Option<&str>) {
    let (head, rest) = match path.split_once('.') {
        Some((h, r)) => (h, Some(r)),
        None => (path, None),
    };
    match head.strip_suffix("[]") {
        Some(n) => (n, true, rest),
        None => (head, false, rest),
    }
}

/// Call `f` on every value at `path` in `v` (see [`FieldCheck`]).
fn for_each_mut(v: &mut serde_json::Value, path: &str, f: &mut dyn FnMut(&mut serde_json::Value)) {
    let (name, each, rest) = step(path);
    let Some(x) = v.get_mut(name).filter(|x| !x.is_null()) else {
        return;
    };
    let mut one = |item: &mut serde_json::Value| match rest {
        Some(r) => for_each_mut(item, r, f),
        None => f(item),
    };
    match (each, x) {
        (true, serde_json::Value::Array(a)) => a.iter_mut().for_each(&mut one),
        (true, _) => {}
        (false, x) => one(x),
    }
}

/// The values at `path` in `v` (see [`FieldCheck`]).
fn collect<'v>(v: &'v serde_json::Value, path: &str, out: &mut Vec<&'v serde_json::Value>) {
    let (name, each, rest) = step(path);
    let Some(x) = v.get(name).filter(|x| !x.is_null()) else {
        return;
    };
    let items: Vec<&serde_json::Value> = match (each, x) {
        (true, serde_json::Value::Array(a)) => a.iter().collect(),
        (true, _) => return,
        (false, x) => vec![x],
    };
    for item in items {
        match rest {
            Some(r) => collect(item, r, out),
            None => {
                if !item.is_null() {
                    out.push(item)
                }
            }
        }
    }
}

/// A query parameter the runtime fills in when the caller leaves it out: the spec's
/// `x-auto-value` on a parameter (Sanbod's `traceid`, a fresh UUID per call). A value the caller
/// sets is sent unchanged; an absent or empty one gets a generated value. The value is made
/// once per call in `pre`, so every attempt of a retried call carries the same one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AutoValue {
    /// The spec's `operationId`.
    pub operation_id: &'static str,
    /// Name of the query parameter.
    pub param: &'static str,
    /// How the value is made.
    pub kind: AutoKind,
}

/// How an [`AutoValue`] is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AutoKind {
    /// A random (version 4) UUID in its hyphenated lower-case form
    /// (`x-auto-value: uuid`).
    Uuid,
}

impl AutoKind {
    /// The spelling in the spec (`uuid`).
    pub fn name(self) -> &'static str {
        match self {
            AutoKind::Uuid => "uuid",
        }
    }

    /// The kind a spec names, if the runtime knows it.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "uuid" => Some(AutoKind::Uuid),
            _ => None,
        }
    }

    /// A fresh value.
    pub fn generate(self) -> String {
        match self {
            AutoKind::Uuid => uuid::Uuid::new_v4().hyphenated().to_string(),
        }
    }
}

/// A page the user's browser opens (payment page, bank authorization page); not an API call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BrowserPage {
    /// Stable name from the spec (`payment_page`).
    pub name: &'static str,
    /// Default host.
    pub host: &'static str,
    /// Path template with `{param}` placeholders.
    pub path: &'static str,
    /// The same path as typed segments (the URL is built from them).
    pub segments: &'static [Segment],
}

/// Find an operation's route.
pub fn find<'a>(routes: &'a [Route], operation_id: &str) -> Option<&'a Route> {
    routes.iter().find(|r| r.operation_id == operation_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const AMOUNT: FieldCheck = FieldCheck {
        minimum: Some(1000),
        maximum: Some(1_000_000_000_000),
        ..FieldCheck::on("amount")
    };

    #[test]
    fn minimum_names_field_and_operation() {
        let e = AMOUNT
            .check("send_payment", &json!({"amount": 999}))
            .unwrap_err();
        assert!(
            e.contains("`amount`") && e.contains("send_payment") && e.contains("1000"),
            "{e}"
        );
        assert!(AMOUNT.check("op", &json!({"amount": "999"})).is_err());
        assert!(AMOUNT.check("op", &json!({"amount": 1000})).is_ok());
        assert!(AMOUNT.check("op", &json!({})).is_ok());
        assert!(AMOUNT.check("op", &json!({"amount": i64::MAX})).is_err());
        assert!(
            AMOUNT
                .check("op", &json!({"amount": "9223372036854775807"}))
                .is_err()
        );
        assert!(AMOUNT.check("op", &json!({"amount": "NaN"})).is_err());
        assert!(AMOUNT.check("op", &json!({"amount": "abc"})).is_err());
    }

    #[test]
    fn nested_paths_strings_and_urls() {
        let items = FieldCheck {
            minimum: Some(1),
            ..FieldCheck::on("batch[].amount")
        };
        assert!(
            items
                .check("op", &json!({"batch": [{"amount": 5}, {"amount": 0}]}))
                .is_err()
        );
        assert!(
            items
                .check("op", &json!({"batch": [{"amount": 5}]}))
                .is_ok()
        );
        let key = FieldCheck {
            min_length: Some(1),
            ..FieldCheck::on("api_key")
        };
        let e = key
            .check("send_payment", &json!({"api_key": "  "}))
            .unwrap_err();
        assert_eq!(e, "field `api_key` of `send_payment` is empty");
        let url = FieldCheck {
            http_url: true,
            ..FieldCheck::on("callback_url")
        };
        for bad in [
            "",
            "/callback",
            "shop.example/cb",
            "ftp://shop.example/cb",
            "https://",
        ] {
            assert!(
                url.check("op", &json!({"callback_url": bad})).is_err(),
                "{bad}"
            );
        }
        assert!(
            url.check(
                "op",
                &json!({"callback_url": "https://shop.example/cb?x=1"})
            )
            .is_ok()
        );
        let nested = FieldCheck {
            min_length: Some(1),
            ..FieldCheck::on("payer.name")
        };
        assert!(nested.check("op", &json!({"payer": {"name": ""}})).is_err());
        assert!(nested.check("op", &json!({"payer": null})).is_ok());
    }

    #[test]
    fn auto_uuid_is_fresh_and_hyphenated() {
        let a = AutoKind::Uuid.generate();
        let b = AutoKind::Uuid.generate();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(a.matches('-').count(), 4);
        assert_eq!(AutoKind::from_name("uuid"), Some(AutoKind::Uuid));
        assert_eq!(AutoKind::Uuid.name(), "uuid");
        assert_eq!(AutoKind::from_name("counter"), None);
    }

    #[test]
    fn max_items() {
        let c = FieldCheck {
            max_items: Some(2),
            ..FieldCheck::on("cards")
        };
        assert!(c.check("op", &json!({"cards": [1, 2, 3]})).is_err());
        assert!(c.check("op", &json!({"cards": [1, 2]})).is_ok());
    }
}
