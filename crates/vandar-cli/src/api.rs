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

impl Op {
    /// Whether the operation moves money (its route is not idempotent).
    pub fn moves_money(&self) -> bool {
        !self.route.idempotent
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
            "unknown operation `{name}` (see `vandar ops`)"
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
) -> Result<(reqwest::Request, Option<vandar_runtime::CheckedBody>), CliError> {
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
        .map(|body| vandar_runtime::CheckedBody::new(route, body))
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
    let answer = binding.call::<Value>(request, op.route, body).await?;
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
        assert!(op.moves_money());
        assert_eq!(op.route.method, "POST");
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
