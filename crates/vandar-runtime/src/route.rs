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
        if let (Some(max), Some(items)) = (self.max_items, v.as_array()) {
            if items.len() > max {
                return Err(format!(
                    "field `{}` of `{operation_id}` has {} items, more than {max}",
                    self.field,
                    items.len()
                ));
            }
        }
        Ok(())
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
        let e = AMOUNT.check("send_payment", &json!({"amount": 999})).unwrap_err();
        assert!(e.contains("`amount`") && e.contains("send_payment") && e.contains("1000"), "{e}");
        assert!(AMOUNT.check("op", &json!({"amount": "999"})).is_err());
        assert!(AMOUNT.check("op", &json!({"amount": 1000})).is_ok());
        assert!(AMOUNT.check("op", &json!({})).is_ok());
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
