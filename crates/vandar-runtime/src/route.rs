//! The per-operation table the xtask emits from each spec: which host an operation goes to,
//! how it authenticates, and whether it is safe to retry. The runtime reads it in the hooks.

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
    /// Auth scheme.
    pub auth: Auth,
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

    fn check_value(&self, operation_id: &str, v: &serde_json::Value) -> Result<(), String> {
        use serde_json::Value;
        let field = self.field;
        let number = match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) if self.minimum.is_some() || self.maximum.is_some() => {
                match s.trim().parse::<f64>() {
                    Ok(n) if n.is_finite() => Some(n),
                    _ => {
                        return Err(format!(
                            "field `{field}` of `{operation_id}` is not a number"
                        ));
                    }
                }
            }
            _ => None,
        };
        if let Some(n) = number {
            if let Some(min) = self.minimum.filter(|m| n < *m as f64) {
                return Err(format!(
                    "field `{field}` of `{operation_id}` is {n}, below the minimum {min}"
                ));
            }
            if let Some(max) = self.maximum.filter(|m| n > *m as f64) {
                return Err(format!(
                    "field `{field}` of `{operation_id}` is {n}, above the maximum {max}"
                ));
            }
        }
        if let (Some(max), Some(items)) = (self.max_items, v.as_array())
            && items.len() > max
        {
            return Err(format!(
                "field `{field}` of `{operation_id}` has {} items, more than {max}",
                items.len()
            ));
        }
        if let Value::String(s) = v {
            if let Some(min) = self.min_length
                && s.trim().chars().count() < min
            {
                return Err(if min <= 1 {
                    format!("field `{field}` of `{operation_id}` is empty")
                } else {
                    format!("field `{field}` of `{operation_id}` is shorter than {min} characters")
                });
            }
            if self.http_url && !is_absolute_http_url(s) {
                return Err(format!(
                    "field `{field}` of `{operation_id}` must be an absolute http(s) URL"
                ));
            }
        }
        Ok(())
    }
}

/// Whether `s` is an absolute `http`/`https` URL with a host.
pub fn is_absolute_http_url(s: &str) -> bool {
    url::Url::parse(s.trim()).is_ok_and(|u| {
        matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())
    })
}

/// The values at `path` in `v` (see [`FieldCheck`]).
fn collect<'v>(v: &'v serde_json::Value, path: &str, out: &mut Vec<&'v serde_json::Value>) {
    let (head, rest) = match path.split_once('.') {
        Some((h, r)) => (h, Some(r)),
        None => (path, None),
    };
    let (name, each) = match head.strip_suffix("[]") {
        Some(n) => (n, true),
        None => (head, false),
    };
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

/// Check that every `{param}` of `template` was filled with a usable value in `url`: the last
/// segments of the URL's path must line up with the template (a literal segment equal, a
/// parameter non-empty and not `.` or `..`). An empty value (`/transaction//refund`,
/// `/v2/business/`) or a dot segment would change the URL; the message names the parameter.
pub fn check_path_params(operation_id: &str, template: &str, url: &url::Url) -> Result<(), String> {
    if !template.contains('{') {
        return Ok(());
    }
    let want: Vec<&str> = template.split('/').filter(|s| !s.is_empty()).collect();
    let path = url.path();
    let mut got: Vec<&str> = path.split('/').collect();
    if got.first() == Some(&"") {
        got.remove(0);
    }
    let first_param = || {
        want.iter()
            .find_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .unwrap_or("?")
    };
    if got.len() < want.len() {
        return Err(format!(
            "a path parameter of `{operation_id}` (`{}`) is empty or changes the URL",
            first_param()
        ));
    }
    let got = &got[got.len() - want.len()..];
    for (w, g) in want.iter().zip(got) {
        match w.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => {
                if g.is_empty()
                    || *g == "."
                    || *g == ".."
                    || g.eq_ignore_ascii_case("%2e")
                    || g.eq_ignore_ascii_case("%2e%2e")
                {
                    return Err(format!(
                        "path parameter `{name}` of `{operation_id}` is empty or not a usable path segment"
                    ));
                }
            }
            None => {
                if w != g {
                    return Err(format!(
                        "a path parameter of `{operation_id}` (`{}`) is empty or changes the URL",
                        first_param()
                    ));
                }
            }
        }
    }
    Ok(())
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
    fn path_parameters_must_fill_their_segment() {
        let u = |s: &str| url::Url::parse(s).unwrap();
        let t = "/v3/business/{business}/transaction/{transaction_id}/refund";
        let ok = u("http://127.0.0.1:9/mock/v3/business/shop/transaction/12%2F3/refund");
        assert!(check_path_params("refund", t, &ok).is_ok());
        for bad in [
            "http://h/v3/business/shop/transaction//refund",
            "http://h/v3/business//transaction/1/refund",
            "http://h/v3/business/shop/transaction/../refund",
            "http://h/v3/business/shop/transaction/./refund",
        ] {
            let e = check_path_params("refund", t, &u(bad)).unwrap_err();
            assert!(e.contains("refund") && e.contains('`'), "{bad}: {e}");
        }
        let e = check_path_params(
            "get_business",
            "/v2/business/{business}",
            &u("http://h/v2/business/"),
        )
        .unwrap_err();
        assert!(e.contains("`business`"), "{e}");
        assert!(check_path_params("x", "/v2/list", &u("http://h/v2/list")).is_ok());
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

/// One segment of a filled path template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathSegment<'a> {
    /// A literal segment of the template (already URL-safe).
    Literal(&'a str),
    /// The value given for a `{name}` placeholder, not yet percent-encoded.
    Value(&'a str),
}

/// Fill the `{name}` placeholders of a path template (`/v4/{token}`) from `params`. Every
/// placeholder needs a non-empty value; `Err` carries the name of the first one without.
pub fn fill_path<'a>(
    template: &'a str,
    params: &[(&str, &'a str)],
) -> Result<Vec<PathSegment<'a>>, &'a str> {
    template
        .split('/')
        .filter(|s| !s.is_empty())
        .map(
            |seg| match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => params
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| *v)
                    .filter(|v| !v.is_empty())
                    .map(PathSegment::Value)
                    .ok_or(name),
                None => Ok(PathSegment::Literal(seg)),
            },
        )
        .collect()
}
