//! Every operation of every spec, from the generated route tables, and one generic way to call
//! any of them through the SDK's pipeline (`Binding::call::<serde_json::Value>`): spec checks,
//! host routing, auth, token refresh, rate limits, retries and the error model.

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use serde_json::Value;
use vandar::Vandar;
use vandar_runtime::{Binding, Route};

use crate::error::CliError;

/// A product: one spec, one generated client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Product {
    /// The payment gateway (`vandar::ipg`).
    Ipg,
    /// The business API (`vandar::core`).
    Core,
    /// Direct debit (`vandar::subscription`).
    Subscription,
    /// Ravand card issuing (`vandar::ravand`).
    Ravand,
    /// Sanbod open banking (`vandar::sanbod`).
    Sanbod,
}

impl Product {
    /// Every product, in listing order.
    pub const ALL: [Product; 5] = [
        Product::Ipg,
        Product::Core,
        Product::Subscription,
        Product::Ravand,
        Product::Sanbod,
    ];

    /// The product's name (the facade's module and feature name).
    pub fn name(self) -> &'static str {
        match self {
            Product::Ipg => "ipg",
            Product::Core => "core",
            Product::Subscription => "subscription",
            Product::Ravand => "ravand",
            Product::Sanbod => "sanbod",
        }
    }

    /// The generated route table.
    pub fn routes(self) -> &'static [Route] {
        match self {
            Product::Ipg => vandar::ipg::ROUTES,
            Product::Core => vandar::core::ROUTES,
            Product::Subscription => vandar::subscription::ROUTES,
            Product::Ravand => vandar::ravand::ROUTES,
            Product::Sanbod => vandar::sanbod::ROUTES,
        }
    }

    /// The product client's binding (its routes, pages and auto-values on the shared runtime).
    pub fn binding(self, vandar: &Vandar) -> Binding {
        match self {
            Product::Ipg => vandar.ipg().binding().clone(),
            Product::Core => vandar.core().binding().clone(),
            Product::Subscription => vandar.subscription().binding().clone(),
            Product::Ravand => vandar.ravand().binding().clone(),
            Product::Sanbod => vandar.sanbod().binding().clone(),
        }
    }
}

/// One operation: its product and route.
#[derive(Debug, Clone, Copy)]
pub struct Op {
    /// The product.
    pub product: Product,
    /// The generated route.
    pub route: &'static Route,
}

/// One parameter of an operation, from the spec (written by `build.rs`).
#[derive(Debug, Clone, Copy)]
pub struct ParamSpec {
    /// Its name.
    pub name: &'static str,
    /// `path` or `query`.
    pub location: &'static str,
    /// Whether the spec requires it (path parameters always; runtime-filled ones never).
    pub required: bool,
    /// The schema type: `string`, `integer`, `number`, `boolean`, `array`.
    pub kind: &'static str,
    /// The closed `enum` of the schema (empty: any value).
    pub enum_values: &'static [&'static str],
    /// Inclusive minimum of a number.
    pub minimum: Option<i64>,
    /// Inclusive maximum of a number.
    pub maximum: Option<i64>,
    /// Fewest characters of a string.
    pub min_length: Option<usize>,
}

/// An operation's summary and parameters, from the spec.
#[derive(Debug, Clone, Copy)]
pub struct OpSpec {
    /// The product (spec).
    pub product: &'static str,
    /// The `operationId`.
    pub operation_id: &'static str,
    /// The spec's one-line summary.
    pub summary: &'static str,
    /// Path and query parameters (headers are the runtime's).
    pub params: &'static [ParamSpec],
}

/// Every operation of every spec, with its summary and parameters.
pub static SPEC_TABLE: &[OpSpec] = include!(concat!(env!("OUT_DIR"), "/spec_table.rs"));

/// The operations that move or cancel money or a mandate: they need a confirmation (a "yes"
/// on a terminal, or `--yes`). Distinct from "not retried" (`Route::idempotent`), which many
/// harmless writes share.
pub const MOVES_MONEY: &[(&str, &str)] = &[
    ("core", "store_settlement"),
    ("core", "store_batch_settlement"),
    ("core", "store_queued_settlement"),
    ("core", "cancel_settlement"),
    ("core", "cancel_settlement_by_track_id"),
    ("core", "cancel_queued_settlement"),
    ("core", "refund_transaction"),
    ("core", "deposit_customer_wallet"),
    ("core", "withdraw_customer_wallet"),
    ("core", "deposit_cash_in"),
    ("subscription", "store_withdrawal"),
    ("subscription", "cancel_withdrawal"),
    ("subscription", "revoke_authorization"),
    ("subscription", "store_refund"),
    ("sanbod", "normal_transfer"),
    ("sanbod", "ach_transfer"),
    ("sanbod", "rtgs_transfer"),
    ("ravand", "transfer"),
    ("ravand", "confirm_transfer_otp"),
];

/// Up to three names from `candidates` close to `name` (Jaro-Winkler ≥ 0.8, or the name is a
/// part of one), best first.
pub fn suggestions<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut scored: Vec<(f64, &str)> = candidates
        .map(|c| {
            let score = strsim::jaro_winkler(name, c);
            let part = name.len() >= 4 && c.contains(name);
            (if part { score.max(0.8) } else { score }, c)
        })
        .filter(|(score, _)| *score >= 0.8)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(3).map(|(_, c)| c).collect()
}

fn did_you_mean(found: &[&str]) -> String {
    match found {
        [] => String::new(),
        [one] => format!("; did you mean `{one}`?"),
        many => format!(
            "; did you mean one of {}?",
            many.iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

impl Op {
    /// Whether the operation moves or cancels money or a mandate ([`MOVES_MONEY`]).
    pub fn moves_money(&self) -> bool {
        MOVES_MONEY.contains(&(self.product.name(), self.route.operation_id))
    }

    /// Whether the SDK retries it after a transient failure (GET or `x-idempotent: true`).
    pub fn retried(&self) -> bool {
        self.route.idempotent
    }

    /// Its summary and parameters from the spec.
    pub fn spec(&self) -> Option<&'static OpSpec> {
        SPEC_TABLE
            .iter()
            .find(|s| s.product == self.product.name() && s.operation_id == self.route.operation_id)
    }

    /// Check `vandar call` parameters against the spec before anything is sent: every name is
    /// a parameter of the operation, every value has its type, range and enum, every required
    /// parameter is there (`business` may come from the settings: `have_business`).
    pub fn check_params(
        &self,
        params: &[(String, String)],
        have_business: bool,
    ) -> Result<(), CliError> {
        let Some(spec) = self.spec() else {
            return Ok(());
        };
        let q = self.qualified();
        for (name, value) in params {
            let Some(p) = spec.params.iter().find(|p| p.name == name) else {
                let names: Vec<&str> = spec.params.iter().map(|p| p.name).collect();
                return Err(CliError::usage(format!(
                    "`{q}` has no parameter `{name}`{} (its parameters: {})",
                    did_you_mean(&suggestions(name, names.iter().copied())),
                    if names.is_empty() {
                        "none".to_owned()
                    } else {
                        names.join(", ")
                    }
                )));
            };
            check_value(&q, p, value)?;
        }
        for p in spec.params.iter().filter(|p| p.required) {
            let given =
                params.iter().any(|(k, _)| k == p.name) || (p.name == "business" && have_business);
            if !given {
                return Err(CliError::usage(format!(
                    "`{q}` needs the {} parameter `{}` (-p {}=...)",
                    p.location, p.name, p.name
                )));
            }
        }
        Ok(())
    }

    /// The `{param}` names of the path template.
    pub fn path_params(&self) -> Vec<&'static str> {
        self.route
            .path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect()
    }

    /// `product:operation`.
    pub fn qualified(&self) -> String {
        format!("{}:{}", self.product.name(), self.route.operation_id)
    }
}

/// Every operation of every spec.
pub fn all_ops() -> impl Iterator<Item = Op> {
    Product::ALL.into_iter().flat_map(|product| {
        product
            .routes()
            .iter()
            .map(move |route| Op { product, route })
    })
}

/// Find an operation by `operation_id` or `product:operation_id`. An id that several specs use
/// needs its product.
pub fn find_op(name: &str) -> Result<Op, CliError> {
    let (product, id) = match name.split_once(':') {
        Some((p, id)) => (Some(p), id),
        None => (None, name),
    };
    let found: Vec<Op> = all_ops()
        .filter(|op| op.route.operation_id == id)
        .filter(|op| product.is_none_or(|p| p == op.product.name()))
        .collect();
    match found.as_slice() {
        [op] => Ok(*op),
        [] => Err(CliError::usage(format!(
            "unknown operation `{name}`{} (see `vandar ops`)",
            did_you_mean(&suggestions(
                id,
                all_ops()
                    .filter(|op| product.is_none_or(|p| p == op.product.name()))
                    .map(|op| op.route.operation_id)
            ))
        ))),
        many => Err(CliError::usage(format!(
            "operation `{id}` exists in several products; name one: {}",
            many.iter()
                .map(Op::qualified)
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Checks one parameter's value against the spec. An error names the operation and the
/// parameter, never the value (it may be a card number or a token typed in the wrong place).
fn check_value(op: &str, p: &ParamSpec, value: &str) -> Result<(), CliError> {
    let bad = |why: String| {
        Err(CliError::usage(format!(
            "`{op}` parameter `{}`: {why}",
            p.name
        )))
    };
    match p.kind {
        "integer" => match value.trim().parse::<i64>() {
            Err(_) => return bad("is not an integer".to_owned()),
            Ok(n) => {
                if let Some(min) = p.minimum.filter(|m| n < *m) {
                    return bad(format!("{n} is below the minimum {min}"));
                }
                if let Some(max) = p.maximum.filter(|m| n > *m) {
                    return bad(format!("{n} is above the maximum {max}"));
                }
            }
        },
        "number" => {
            if value.trim().parse::<f64>().is_err() {
                return bad("is not a number".to_owned());
            }
        }
        "boolean" => {
            if !matches!(value, "true" | "false" | "0" | "1") {
                return bad("is not true or false".to_owned());
            }
        }
        _ => {
            if let Some(min) = p.min_length.filter(|m| value.chars().count() < *m) {
                return bad(format!("needs at least {min} characters"));
            }
        }
    }
    if !p.enum_values.is_empty() && !p.enum_values.contains(&value) {
        return bad(format!(
            "is not one of {}{}",
            p.enum_values.join(", "),
            did_you_mean(&suggestions(value, p.enum_values.iter().copied()))
        ));
    }
    Ok(())
}

/// The operation of a product (for the workflows).
pub fn op(product: Product, id: &str) -> Result<Op, CliError> {
    product
        .routes()
        .iter()
        .find(|r| r.operation_id == id)
        .map(|route| Op { product, route })
        .ok_or_else(|| {
            CliError::Other(format!("{}:{id} is not in the route table", product.name()))
        })
}

/// Build the request of `op`: the URL on the route's configured host with each `{param}`
/// percent-encoded as one segment (the runtime's path encoder), the query parameters, the JSON
/// body checked against the route's constraints.
pub fn build_request(
    binding: &Binding,
    op: &Op,
    path_params: &[(&str, &str)],
    query: &[(String, String)],
    body: Option<&Value>,
) -> Result<(reqwest::Request, Option<vandar_runtime::CheckedBody<Value>>), CliError> {
    let route = op.route;
    let mut url = binding
        .url_with(route, path_params)
        .map_err(|e| CliError::usage(format!("{e} (`{}`: --param name=...)", op.qualified())))?;
    if !query.is_empty() {
        let mut pairs = url.query_pairs_mut();
        for (k, v) in query {
            pairs.append_pair(k, v);
        }
    }
    let method = reqwest::Method::from_bytes(route.method.as_bytes())
        .map_err(|_| CliError::Other(format!("bad method {}", route.method)))?;
    let mut request = reqwest::Request::new(method, url);
    request
        .headers_mut()
        .insert(ACCEPT, HeaderValue::from_static("application/json"));
    let body = body
        .map(|body| vandar_runtime::CheckedBody::new(route, body.clone()))
        .transpose()?;
    if let Some(body) = &body {
        request
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        *request.body_mut() = Some(
            serde_json::to_vec(body)
                .map_err(std::io::Error::from)?
                .into(),
        );
    }
    Ok((request, body))
}

/// Call `op` through `binding` and return its JSON answer.
pub async fn call(
    binding: &Binding,
    op: &Op,
    path_params: &[(&str, &str)],
    query: &[(String, String)],
    body: Option<&Value>,
) -> Result<Value, CliError> {
    let (request, body) = build_request(binding, op, path_params, query, body)?;
    let answer = binding
        .call::<Value>(
            request,
            op.route,
            body.as_ref().map(|b| b as &dyn vandar_runtime::SentBody),
        )
        .await?;
    Ok(answer.into_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_listed_and_ambiguous_ids_need_a_product() {
        let total: usize = Product::ALL.iter().map(|p| p.routes().len()).sum();
        assert_eq!(all_ops().count(), total);
        assert!(total > 100, "{total}");
        let op = find_op("ipg:send_payment").unwrap();
        assert!(!op.moves_money() && !op.retried());
        assert_eq!(op.route.method, "POST");
        // every money operation exists; the ones that pay out are never retried (a cancel
        // may be: cancelling twice cannot move money twice)
        for (product, id) in MOVES_MONEY {
            let op = find_op(&format!("{product}:{id}")).unwrap();
            assert!(op.moves_money(), "{product}:{id}");
            assert!(id.starts_with("cancel") || !op.retried(), "{product}:{id}");
        }
        assert!(all_ops().all(|op| op.spec().is_some()));
        assert!(find_op("no_such_operation").is_err());
        let ids: Vec<&str> = all_ops().map(|o| o.route.operation_id).collect();
        if let Some(dup) = ids
            .iter()
            .find(|id| ids.iter().filter(|x| x == id).count() > 1)
        {
            let e = find_op(dup).unwrap_err().to_string();
            assert!(e.contains("several products"), "{e}");
        }
    }

    #[test]
    fn path_parameters_are_percent_encoded_segments() {
        let op = find_op("core:get_settlement").unwrap();
        let runtime = vandar_runtime::Runtime::new(vandar_runtime::Config::default()).unwrap();
        let binding = Binding::new(runtime, op.product.routes(), &[]);
        let (r, _) = build_request(
            &binding,
            &op,
            &[("business", "my shop"), ("settlement", "a/b")],
            &[("x".into(), "1 2".into())],
            None,
        )
        .unwrap();
        assert_eq!(
            r.url().as_str(),
            "https://api.vandar.io/v2.1/business/my%20shop/settlement/a%2Fb?x=1+2"
        );
        let missing = build_request(&binding, &op, &[("business", "s")], &[], None).unwrap_err();
        assert!(missing.to_string().contains("settlement"), "{missing}");
    }
}
