//! Calls progenitor does not generate, sent through the same runtime path as the generated
//! ones ([`Binding::call`]: spec checks, host routing with overrides, bearer auth with token
//! refresh, rate limit, timeouts, 401 refresh-and-replay, retries only when the route is
//! idempotent, the same error model).

use progenitor_client::ClientInfo;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use vandar_runtime::{Binding, Route};

use crate::{Client, types};

/// What a raw call returns: the same as every generated Ravand operation.
pub(crate) type RawResult = Result<types::Undocumented, vandar_runtime::Error>;

/// A raw call's answer with its status and headers.
pub(crate) type RawAnswer =
    Result<vandar_runtime::Answer<types::Undocumented>, vandar_runtime::Error>;

/// A request body that is not JSON.
pub(crate) struct RawBody {
    pub(crate) content_type: String,
    pub(crate) bytes: Vec<u8>,
}

/// Build and send one request of `route` through `binding`'s hooks, and decode the answer like
/// the generated operations do (2xx: `Undocumented`; 4xx: `VandarError`; else unexpected).
pub(crate) async fn send(
    binding: &Binding,
    route: &'static Route,
    path_params: &[(&str, &str)],
    query: &[(&str, &str)],
    body: Option<RawBody>,
) -> RawAnswer {
    // The URL is built on the route's configured host by the runtime's path encoder: every
    // `{param}` needs a usable value and every given name must be a placeholder.
    let url = binding.url_with(route, path_params)?;
    let method = reqwest::Method::from_bytes(route.method.as_bytes()).map_err(|_| {
        vandar_runtime::Error::InvalidRequest(format!("bad method `{}`", route.method))
    })?;
    let mut builder = binding
        .runtime()
        .http_client()
        .request(method, url)
        .header(ACCEPT, HeaderValue::from_static("application/json"))
        .header("api-version", Client::api_version());
    if !query.is_empty() {
        builder = builder.query(query);
    }
    if let Some(body) = body {
        builder = builder
            .header(CONTENT_TYPE, body.content_type)
            .body(body.bytes);
    }
    let request = builder.build().map_err(vandar_runtime::Error::from_build)?;
    binding
        .call::<types::Undocumented>(request, route, None)
        .await
}

impl Client {
    /// Send a documented GET operation of this crate with extra query parameters.
    ///
    /// The Ravand docs name no query parameters besides `card_number`, although some calls
    /// surely take them (cities of a province, statement dates, which transfer to track).
    /// The SDK does not invent them; when Vandar gives you their names, pass them here. The
    /// call goes to the same host, with the same auth, rate limit and retries as
    /// `operation_id`'s generated method.
    ///
    /// ```no_run
    /// # async fn f(ravand: &vandar_ravand::Client) -> Result<(), vandar_ravand::Error> {
    /// let statement = ravand
    ///     .get_with_query(
    ///         "get_bank_statement",
    ///         &[("business", "my-shop"), ("provider", "PROVIDER"), ("cardholder_id", "42")],
    ///         &[("from", "1403/01/01")], // a name Vandar gave you; not documented
    ///     )
    ///     .await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidRequest`](vandar_runtime::Error::InvalidRequest) (nothing sent) when
    /// `operation_id` is not a GET operation of this crate, a path parameter is missing, empty
    /// or unknown; otherwise the errors of any generated operation.
    pub async fn get_with_query(
        &self,
        operation_id: &str,
        path_params: &[(&str, &str)],
        query: &[(&str, &str)],
    ) -> RawResult {
        let route = self
            .binding()
            .route(operation_id)
            .filter(|r| r.method == "GET")
            .ok_or_else(|| {
                vandar_runtime::Error::InvalidRequest(format!(
                    "`{operation_id}` is not a GET operation of the Ravand client"
                ))
            })?;
        send(self.binding(), route, path_params, query, None)
            .await
            .map(vandar_runtime::Answer::into_body)
    }
}

#[cfg(test)]
mod tests {
    use vandar_runtime::{Config, Error, Runtime};

    use crate::Client;

    /// A client whose every host is a closed port of 127.0.0.1: a request that got as far as
    /// being sent fails as a transport error, never as `InvalidRequest`.
    fn client() -> Client {
        let config = Config::builder()
            .all_hosts("http://127.0.0.1:9/mock")
            .build()
            .unwrap();
        Client::with_runtime(&Runtime::new(config).unwrap())
    }

    #[test]
    fn the_generated_route_is_filled_by_the_runtime() {
        let c = client();
        let route = c.binding().route("get_bank_statement").unwrap();
        let u = c
            .binding()
            .url_with(
                route,
                &[
                    ("cardholder_id", "a b/c"),
                    ("business", "shop"),
                    ("provider", "P"),
                ],
            )
            .unwrap();
        assert_eq!(
            u.as_str(),
            "http://127.0.0.1:9/mock/v1/business/shop/ravand/provider/P/cardholder/a%20b%2Fc/bank-statement"
        );
    }

    /// `get_with_query` refuses the call with `InvalidRequest` naming `needle`: nothing sent.
    async fn refused(c: &Client, op: &str, params: &[(&str, &str)], needle: &str) {
        let e = c
            .get_with_query(op, params, &[("from", "1403/01/01")])
            .await
            .unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, Error::InvalidRequest(_)), "{op}: {e:?}");
        assert!(text.contains(needle), "{op}: {text}");
    }

    #[tokio::test]
    async fn bad_calls_are_refused_before_sending() {
        let c = client();
        let full = [("business", "s"), ("provider", "P"), ("cardholder_id", "1")];
        let op = "get_bank_statement";
        refused(&c, op, &full[1..], "`business`").await;
        let empty = [("business", ""), full[1], full[2]];
        refused(&c, op, &empty, "`business`").await;
        let unknown = [("busines", "t"), full[0], full[1], full[2]];
        refused(&c, op, &unknown, "`busines`").await;
        let post = "create_card_activation_token";
        refused(&c, post, &full, "not a GET operation").await;
        refused(&c, "no_such_operation", &[], "not a GET operation").await;
    }
}
