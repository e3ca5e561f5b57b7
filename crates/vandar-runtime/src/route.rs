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
    /// Constraints on top-level body fields that the generated types do not enforce (numeric
    /// `minimum`/`maximum`, array `maxItems`); checked before sending.
    pub checks: &'static [FieldCheck],
}

/// A constraint from the spec on one top-level request-body field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldCheck {
    /// JSON field name.
    pub field: &'static str,
    /// Inclusive minimum of a number (a numeric string counts as its number).
    pub minimum: Option<i64>,
    /// Inclusive maximum of a number.
    pub maximum: Option<i64>,
    /// Most items of an array.
    pub max_items: Option<usize>,
}

impl FieldCheck {
    /// Check one body; the message names the field and the operation.
    pub fn check(&self, operation_id: &str, body: &serde_json::Value) -> Result<(), String> {
        let Some(v) = body.get(self.field) else {
            return Ok(());
        };
        let number = match v {
            serde_json::Value::Number(n) => n.as_f64(),
            serde_json::Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        if let Some(n) = number {
            if let Some(min) = self.minimum.filter(|m| n < *m as f64) {
                return Err(format!(
                    "field `{}` of `{operation_id}` is {n}, below the minimum {min}",
                    self.field
                ));
            }
            if let Some(max) = self.maximum.filter(|m| n > *m as f64) {
                return Err(format!(
                    "field `{}` of `{operation_id}` is {n}, above the maximum {max}",
                    self.field
                ));
            }
        }
        if let (Some(max), Some(items)) = (self.max_items, v.as_array())
            && items.len() > max
        {
            return Err(format!(
                "field `{}` of `{operation_id}` has {} items, more than {max}",
                self.field,
                items.len()
            ));
        }
        Ok(())
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
        field: "amount",
        minimum: Some(1000),
        maximum: None,
        max_items: None,
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
            field: "cards",
            minimum: None,
            maximum: None,
            max_items: Some(2),
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
