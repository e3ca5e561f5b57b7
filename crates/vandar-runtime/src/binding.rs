//! What each generated client holds: the runtime plus its spec's tables (routes, browser
//! pages, auto-filled parameters) and the client's own overrides. [`Binding::url`] builds an
//! operation's URL once, on the configured base of the route's own host, from the route's
//! typed segments and the one path encoder ([`crate::path`]).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use url::Url;

use crate::auth::BearerSource;
use crate::error::Error;
use crate::path;
use crate::route::{self, AutoValue, BrowserPage, Route};
use crate::runtime::Runtime;
use crate::secret::Secret;

/// What a generated client carries: the runtime plus its spec's route, page and auto-value
/// tables, and the client's own overrides (a bearer token or token source, operation paths).
/// Cloning is cheap; the `with_*` methods return a changed copy and leave the original alone.
#[derive(Clone)]
pub struct Binding {
    runtime: Runtime,
    routes: &'static [Route],
    pages: &'static [BrowserPage],
    pub(crate) auto_values: &'static [AutoValue],
    pub(crate) bearer: Option<BearerOverride>,
    paths: Arc<BTreeMap<&'static str, String>>,
    /// The configured base of every host of `routes` and `pages`, serialized without a
    /// trailing `/` (computed once: the configuration cannot change after it is built).
    bases: Arc<[(&'static str, Box<str>)]>,
    /// The same bases parsed (host → URL with no query): a call's URL is a clone of its
    /// host's with the path set, so the scheme and host (IDNA) are parsed once, not per call.
    parsed: Arc<[(&'static str, Url)]>,
    /// The whole URL of each route of `routes` that has no path parameter, in the same order
    /// (`None` for the others): such a call's URL is a clone of it, built when the client is.
    fixed: Arc<[Option<Url>]>,
    /// Per-call overrides of this client's calls.
    pub(crate) options: crate::intercept::CallOptions,
    /// Operations whose 3xx is their answer ([`Binding::with_redirect_answer`]).
    redirect_answers: Arc<[&'static str]>,
}

/// `base` (a parsed host base) with the path of `route` filled by `values` appended to its own.
fn with_route_path(base: &Url, route: &'static Route, values: &[&str]) -> Result<Url, Error> {
    let mut path = String::with_capacity(base.path().len() + route.path.len() + 16);
    path.push_str(base.path().trim_end_matches('/'));
    path::push_path(&mut path, route.segments, values)
        .map_err(|(name, why)| Error::InvalidRequest(why.message(name, route.operation_id)))?;
    let mut url = base.clone();
    // The encoded path holds only unreserved bytes, `%XX` and `/`: setting it parses the path
    // alone and changes nothing in it.
    url.set_path(&path);
    Ok(url)
}

/// A per-client bearer credential.
#[derive(Clone)]
pub(crate) enum BearerOverride {
    Static(Secret),
    Source(Arc<dyn BearerSource>),
}

impl fmt::Debug for Binding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bearer = match &self.bearer {
            None => "none",
            Some(BearerOverride::Static(_)) => "[static token]",
            Some(BearerOverride::Source(_)) => "[token source]",
        };
        f.debug_struct("Binding")
            .field("runtime", &self.runtime)
            .field("operations", &self.routes.len())
            .field("bearer_override", &bearer)
            .field("path_overrides", &self.paths)
            .field("redirect_answers", &self.redirect_answers)
            .finish()
    }
}

impl Binding {
    /// Bind a spec's tables to a runtime (called by the generated `Client::with_runtime`).
    pub fn new(runtime: Runtime, routes: &'static [Route], pages: &'static [BrowserPage]) -> Self {
        let mut bases: Vec<(&'static str, Box<str>)> = Vec::new();
        let mut parsed: Vec<(&'static str, Url)> = Vec::new();
        let hosts = routes
            .iter()
            .map(|r| r.host)
            .chain(pages.iter().map(|p| p.host));
        for host in hosts {
            if bases.iter().any(|(h, _)| *h == host) {
                continue;
            }
            // A host whose base cannot be had stays out: `url` then asks the configuration
            // again, which reports the error.
            if let Ok(base) = runtime.config().base_url(host) {
                let text = base.as_str().trim_end_matches('/');
                if let Ok(url) = Url::parse(text)
                    && url.query().is_none()
                    && url.fragment().is_none()
                    && !url.cannot_be_a_base()
                {
                    parsed.push((host, url));
                }
                bases.push((host, text.into()));
            }
        }
        let fixed = routes
            .iter()
            .map(|route| {
                let (_, base) = parsed.iter().find(|(h, _)| *h == route.host)?;
                let no_params = route
                    .segments
                    .iter()
                    .all(|s| matches!(s, path::Segment::Lit(_)));
                no_params.then(|| with_route_path(base, route, &[]).ok())?
            })
            .collect();
        Self {
            runtime,
            routes,
            pages,
            auto_values: &[],
            bearer: None,
            paths: Arc::new(BTreeMap::new()),
            bases: bases.into(),
            parsed: parsed.into(),
            fixed,
            options: crate::intercept::CallOptions::default(),
            redirect_answers: Arc::new([]),
        }
    }

    /// The configured base URL of `host`, without a trailing `/` (e.g.
    /// `http://127.0.0.1:8080/mock` when the host is overridden, else the host itself).
    pub fn base_prefix(&self, host: &str) -> String {
        let host = host.trim_end_matches('/');
        if let Some((_, base)) = self
            .bases
            .iter()
            .find(|(h, _)| h.trim_end_matches('/') == host)
        {
            return base.to_string();
        }
        self.runtime.config().base_url(host).map_or_else(
            |_| host.to_owned(),
            |u| u.as_str().trim_end_matches('/').to_owned(),
        )
    }

    /// Write the configured base of `host` (no trailing `/`) into `out`.
    fn push_base(&self, out: &mut String, host: &'static str) -> Result<(), Error> {
        match self.bases.iter().find(|(h, _)| *h == host) {
            Some((_, base)) => out.push_str(base),
            None => {
                let base = self.runtime.config().base_url(host)?;
                out.push_str(base.as_str().trim_end_matches('/'));
            }
        }
        Ok(())
    }

    /// The URL of `route` with its path parameters filled by `values`, in template order:
    /// the configured base of the route's own host, then each literal segment and each value
    /// percent-encoded as exactly one segment ([`crate::path`]); the path override set with
    /// [`Binding::with_path`], if any. Built once; nothing moves it afterwards.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] naming the parameter when a value is empty, `.` or `..` (also
    /// percent-encoded); [`Error::Config`] when the host has no usable base.
    pub fn url(&self, route: &'static Route, values: &[&str]) -> Result<Url, Error> {
        if self.paths.is_empty() {
            if let Some(url) = self.fixed_url(route).filter(|_| values.is_empty()) {
                return Ok(url.clone());
            }
            if let Some((_, base)) = self.parsed.iter().find(|(h, _)| *h == route.host) {
                return with_route_path(base, route, values);
            }
        }
        let mut text = String::with_capacity(64 + route.path.len());
        self.push_base(&mut text, route.host)?;
        match (!self.paths.is_empty())
            .then(|| self.paths.get(route.operation_id))
            .flatten()
        {
            Some(path) => text.push_str(path),
            None => path::push_path(&mut text, route.segments, values).map_err(|(name, why)| {
                Error::InvalidRequest(why.message(name, route.operation_id))
            })?,
        }
        Url::parse(&text).map_err(|e| {
            Error::InvalidRequest(format!(
                "the URL of `{}` is not valid: {e}",
                route.operation_id
            ))
        })
    }

    /// The prebuilt URL of `route` when it is one of this binding's own routes (the same
    /// static, found by its place in the table) and has no path parameter.
    fn fixed_url(&self, route: &'static Route) -> Option<&Url> {
        let offset = (route as *const Route as usize).wrapping_sub(self.routes.as_ptr() as usize);
        let index = offset / std::mem::size_of::<Route>();
        let own = self
            .routes
            .get(index)
            .is_some_and(|r| std::ptr::eq(r, route));
        if own {
            self.fixed[index].as_ref()
        } else {
            None
        }
    }

    /// [`Binding::url`] with the path parameters by name (for calls written by hand and the
    /// command line); a name the template does not have is an error.
    pub fn url_with(&self, route: &'static Route, params: &[(&str, &str)]) -> Result<Url, Error> {
        let values = path::values_in_order(route.segments, params)
            .map_err(|e| Error::InvalidRequest(format!("`{}` has {e}", route.operation_id)))?;
        self.url(route, &values)
    }

    /// The same binding with the spec's `x-auto-value` table (emitted by the generator as
    /// `AUTO_VALUES` for specs that have one): `pre` fills each listed query parameter the
    /// caller left out.
    pub fn with_auto_values(mut self, auto_values: &'static [AutoValue]) -> Self {
        self.auto_values = auto_values;
        self
    }

    /// The `x-auto-value` table.
    pub fn auto_values(&self) -> &'static [AutoValue] {
        self.auto_values
    }

    /// The same binding, sending `token` as `Authorization: Bearer` on every bearer operation
    /// instead of the configured token (a token that belongs to this client only, e.g. one
    /// Sanbod user's consent). Never printed; not refreshed (a 401 is returned as is).
    pub fn with_bearer(mut self, token: Secret) -> Self {
        self.bearer = Some(BearerOverride::Static(token));
        self
    }

    /// The same binding, asking `source` for the bearer token of every bearer operation (before
    /// each call, and once more after a 401: an idempotent call is then replayed with the
    /// refreshed token, a call that may move money is not sent again).
    pub fn with_bearer_source(mut self, source: Arc<dyn BearerSource>) -> Self {
        self.bearer = Some(BearerOverride::Source(source));
        self
    }

    /// The same binding, with `options` overriding the configuration's timeouts and retry
    /// policy for its calls. A zero timeout or an invalid retry policy is refused.
    pub fn with_call_options(
        mut self,
        options: crate::intercept::CallOptions,
    ) -> Result<Self, Error> {
        let zero = |d: Option<std::time::Duration>| d.is_some_and(|d| d.is_zero());
        if zero(options.total_timeout) || zero(options.attempt_timeout) {
            return Err(Error::Config(crate::error::ConfigError::Invalid(
                "call options: timeouts must be greater than zero".into(),
            )));
        }
        if let Some(retry) = &options.retry {
            retry.validate().map_err(Error::Config)?;
        }
        self.options = options;
        Ok(self)
    }

    /// A binding for another route table (hand-written routes next to a generated client's)
    /// that keeps this client's own bearer token or token source and its call options: a call
    /// made through it is this client's call. Path overrides name this table's operations and
    /// are not carried over.
    pub fn with_routes(&self, routes: &'static [Route]) -> Self {
        let mut other = Self::new(self.runtime.clone(), routes, self.pages);
        other.bearer = self.bearer.clone();
        other.options = self.options;
        other
    }

    /// The per-call overrides of this binding.
    pub fn call_options(&self) -> &crate::intercept::CallOptions {
        &self.options
    }

    /// Whether this binding carries its own bearer token or token source.
    pub fn has_bearer_override(&self) -> bool {
        self.bearer.is_some()
    }

    /// The same binding, sending `operation_id` to `path` (on its host, after any base-URL
    /// prefix) instead of the spec's path; for paths that the upstream docs get wrong or leave
    /// open. Only operations without path parameters can be moved. `path` starts with `/` and
    /// has no query.
    pub fn with_path(mut self, operation_id: &str, path: &str) -> Result<Self, Error> {
        let route = self.known_route(operation_id)?;
        if route.path.contains('{') {
            return Err(Error::InvalidRequest(format!(
                "`{operation_id}` has path parameters; its path cannot be overridden"
            )));
        }
        let valid = path.starts_with('/')
            && !path.contains(['?', '#', ' '])
            && Url::parse("http://x")
                .and_then(|u| u.join(path))
                .is_ok_and(|u| u.path() == path);
        if !valid {
            return Err(Error::InvalidRequest(format!(
                "path `{path}` for `{operation_id}` must start with `/` and be a plain URL path"
            )));
        }
        Arc::make_mut(&mut self.paths).insert(route.operation_id, path.to_string());
        Ok(self)
    }

    /// The same binding, answering a 3xx of `operation_id` from [`Binding::call_raw`] as an
    /// [`Answer`](crate::Answer) whose headers hold the `Location` as the server sent it,
    /// instead of an [`Error::Redirect`] whose `Location` is scrubbed. For an operation whose
    /// documented answer is a redirect to a page the caller opens (Sanbod's `authorize`): the
    /// URL is the caller's own data and must work. It is never logged; the caller must not log
    /// it either.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for an unknown operation.
    pub fn with_redirect_answer(mut self, operation_id: &str) -> Result<Self, Error> {
        let route = self.known_route(operation_id)?;
        if !self.redirect_answers.contains(&route.operation_id) {
            let mut ops = self.redirect_answers.to_vec();
            ops.push(route.operation_id);
            self.redirect_answers = ops.into();
        }
        Ok(self)
    }

    /// The route of `operation_id`, or an error naming it.
    fn known_route(&self, operation_id: &str) -> Result<&'static Route, Error> {
        self.route(operation_id)
            .ok_or_else(|| Error::InvalidRequest(format!("unknown operation `{operation_id}`")))
    }

    /// Whether a 3xx of `route` is its answer ([`Binding::with_redirect_answer`]).
    pub(crate) fn answers_redirect(&self, route: &Route) -> bool {
        self.redirect_answers.contains(&route.operation_id)
    }

    /// The path an operation is sent to: the override, else the spec's path.
    pub fn path_of(&self, operation_id: &str) -> Option<&str> {
        let route = self.route(operation_id)?;
        Some(
            self.paths
                .get(route.operation_id)
                .map_or(route.path, String::as_str),
        )
    }

    /// The runtime.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// The route of an operation.
    pub fn route(&self, operation_id: &str) -> Option<&'static Route> {
        route::find(self.routes, operation_id)
    }

    /// Every route of this client's spec.
    pub fn routes(&self) -> &'static [Route] {
        self.routes
    }

    /// The URL of a browser page (`payment_page`, ...) with its `{param}` placeholders filled
    /// by the same path encoder as the operations (each value exactly one segment; empty, `.`
    /// and `..` refused), on the configured host.
    pub fn page_url(&self, page: &str, params: &[(&str, &str)]) -> Result<Url, Error> {
        let p = self
            .pages
            .iter()
            .find(|p| p.name == page)
            .ok_or_else(|| Error::InvalidRequest(format!("unknown browser page `{page}`")))?;
        let values = path::values_in_order(p.segments, params)
            .map_err(|e| Error::InvalidRequest(format!("page `{page}` has {e}")))?;
        let mut text = String::with_capacity(64 + p.path.len());
        self.push_base(&mut text, p.host)?;
        path::push_path(&mut text, p.segments, &values)
            .map_err(|(name, why)| Error::InvalidRequest(why.message(name, page)))?;
        Url::parse(&text).map_err(|e| {
            Error::InvalidRequest(format!("the URL of page `{page}` is not valid: {e}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::AuthError;
    use crate::config::Config;
    use crate::route::{Auth, AutoValue, BrowserPage, Route, Segment};
    use reqwest::header::AUTHORIZATION;

    static PAGES: &[BrowserPage] = &[BrowserPage {
        name: "payment_page",
        host: "https://ipg.vandar.io",
        path: "/v4/{token}",
        segments: &[Segment::Lit("v4"), Segment::Param("token")],
    }];

    fn binding(config: Config) -> Binding {
        Binding::new(Runtime::new(config).unwrap(), &[], PAGES)
    }

    #[test]
    fn page_url_encodes_and_routes() {
        let b = binding(Config::default());
        let u = b.page_url("payment_page", &[("token", "AB C/1")]).unwrap();
        assert_eq!(u.as_str(), "https://ipg.vandar.io/v4/AB%20C%2F1");
        let b = binding(
            Config::builder()
                .all_hosts("http://127.0.0.1:1/x/")
                .build()
                .unwrap(),
        );
        let u = b.page_url("payment_page", &[("token", "T1")]).unwrap();
        assert_eq!(u.as_str(), "http://127.0.0.1:1/x/v4/T1");
        for bad in ["", "..", ".", "%2e%2e"] {
            let e = b.page_url("payment_page", &[("token", bad)]).unwrap_err();
            assert!(e.to_string().contains("`token`"), "{bad}: {e}");
        }
        let u = b
            .page_url("payment_page", &[("token", r"..\..\x")])
            .unwrap();
        assert_eq!(u.as_str(), "http://127.0.0.1:1/x/v4/..%5C..%5Cx");
        assert!(b.page_url("payment_page", &[("tokn", "T")]).is_err());
        assert!(b.page_url("nope", &[]).is_err());
    }

    static TWO_HOSTS: &[Route] = &[
        Route {
            operation_id: "send",
            method: "POST",
            host: "https://ipg.vandar.io",
            path: "/api/v4/send",
            segments: &[
                Segment::Lit("api"),
                Segment::Lit("v4"),
                Segment::Lit("send"),
            ],
            auth: Auth::None,
            api_key_field: Some("api_key"),
            idempotent: false,
            checks: &[],
        },
        Route {
            operation_id: "refund",
            method: "POST",
            host: "https://api.vandar.io",
            path: "/v3/business/{business}/transaction/{transaction_id}/refund",
            segments: crate::path::REFUND,
            auth: Auth::None,
            api_key_field: None,
            idempotent: false,
            checks: &[],
        },
    ];

    /// Every URL is built once on its route's own configured host; path parameters are one
    /// segment each; a path override replaces the path.
    #[test]
    fn urls_are_built_once_on_the_routes_host() {
        let config = Config::builder()
            .host("https://ipg.vandar.io", "http://127.0.0.1:9/mock/ipg/")
            .build()
            .unwrap();
        let b = Binding::new(Runtime::new(config).unwrap(), TWO_HOSTS, &[]);
        assert_eq!(
            b.base_prefix("https://ipg.vandar.io/"),
            "http://127.0.0.1:9/mock/ipg"
        );
        assert_eq!(
            b.url(&TWO_HOSTS[0], &[]).unwrap().as_str(),
            "http://127.0.0.1:9/mock/ipg/api/v4/send"
        );
        // The URL prebuilt for a route of the table and the one built for a copy of it that
        // is not in the table (the general path) are the same.
        let copy: &'static Route = Box::leak(Box::new(TWO_HOSTS[0]));
        assert!(b.fixed_url(&TWO_HOSTS[0]).is_some() && b.fixed_url(copy).is_none());
        assert_eq!(
            b.url(copy, &[]).unwrap(),
            b.url(&TWO_HOSTS[0], &[]).unwrap()
        );
        let attack = r"1\..\..\..\victim-biz\transaction\999";
        let u = b.url(&TWO_HOSTS[1], &["shop", attack]).unwrap();
        assert_eq!(
            u.as_str(),
            "https://api.vandar.io/v3/business/shop/transaction/1%5C..%5C..%5C..%5Cvictim-biz%5Ctransaction%5C999/refund"
        );
        let e = b.url(&TWO_HOSTS[1], &["shop", "%2E%2E"]).unwrap_err();
        assert!(
            e.to_string().contains("`transaction_id`") && e.to_string().contains("`refund`"),
            "{e}"
        );
        let named = b
            .url_with(&TWO_HOSTS[1], &[("transaction_id", "7"), ("business", "b")])
            .unwrap();
        assert_eq!(named.path(), "/v3/business/b/transaction/7/refund");
        assert!(b.url_with(&TWO_HOSTS[1], &[("nope", "7")]).is_err());
        let moved = b.clone().with_path("send", "/api/v5/send").unwrap();
        assert_eq!(
            moved.url(&TWO_HOSTS[0], &[]).unwrap().as_str(),
            "http://127.0.0.1:9/mock/ipg/api/v5/send"
        );
    }

    static ROUTES: &[Route] = &[
        Route {
            operation_id: "token",
            method: "POST",
            host: "https://api.sanbod.co",
            path: "/oauth/v1/token",
            segments: &[
                Segment::Lit("oauth"),
                Segment::Lit("v1"),
                Segment::Lit("token"),
            ],
            auth: Auth::Basic("sanbod_client"),
            api_key_field: None,
            idempotent: false,
            checks: &[],
        },
        Route {
            operation_id: "statement",
            method: "POST",
            host: "https://api.sanbod.co",
            path: "/statement",
            segments: &[Segment::Lit("statement")],
            auth: Auth::Bearer("sanbod_bearer"),
            api_key_field: None,
            idempotent: true,
            checks: &[],
        },
        Route {
            operation_id: "item",
            method: "GET",
            host: "https://api.sanbod.co",
            path: "/items/{id}",
            segments: &[Segment::Lit("items"), Segment::Param("id")],
            auth: Auth::None,
            api_key_field: None,
            idempotent: true,
            checks: &[],
        },
    ];

    static AUTO: &[AutoValue] = &[AutoValue {
        operation_id: "statement",
        param: "traceid",
        kind: crate::route::AutoKind::Uuid,
    }];

    fn sanbod_binding(config: Config) -> Binding {
        Binding::new(Runtime::new(config).unwrap(), ROUTES, &[]).with_auto_values(AUTO)
    }

    async fn prepared(
        b: &Binding,
        op: &'static str,
        url: &str,
    ) -> Result<reqwest::Request, String> {
        let mut request = b
            .runtime()
            .http_client()
            .post(url)
            .header(AUTHORIZATION, "Bearer from-the-generated-code")
            .build()
            .unwrap();
        let route = b.route(op).unwrap();
        b.authorize_for_test(&mut request, route, None)
            .await
            .map(|()| request)
            .map_err(|e| e.to_string())
    }

    fn header(r: &reqwest::Request) -> Option<&str> {
        r.headers().get(AUTHORIZATION).map(|v| v.to_str().unwrap())
    }

    #[tokio::test]
    async fn auto_values_fill_absent_and_empty_parameters_only() {
        let b = sanbod_binding(
            Config::builder()
                .bearer_token("sanbod_bearer", "t")
                .build()
                .unwrap(),
        );
        let trace = |r: &reqwest::Request| -> Vec<String> {
            r.url()
                .query_pairs()
                .filter(|(k, _)| k == "traceid")
                .map(|(_, v)| v.into_owned())
                .collect()
        };
        let r = prepared(&b, "statement", "https://api.sanbod.co/statement")
            .await
            .unwrap();
        let t = trace(&r);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].len(), 36);
        let r = prepared(
            &b,
            "statement",
            "https://api.sanbod.co/statement?a=1&traceid=mine",
        )
        .await
        .unwrap();
        assert_eq!(trace(&r), ["mine"]);
        let r = prepared(
            &b,
            "statement",
            "https://api.sanbod.co/statement?traceid=&a=x%20y",
        )
        .await
        .unwrap();
        let t = trace(&r);
        assert!(t.len() == 1 && t[0].len() == 36, "{t:?}");
        assert!(r.url().query_pairs().any(|(k, v)| k == "a" && v == "x y"));
        // Other operations are left alone.
        let b = sanbod_binding(
            Config::builder()
                .basic_auth("sanbod_client", "id", "s")
                .build()
                .unwrap(),
        );
        let r = prepared(&b, "token", "https://api.sanbod.co/oauth/v1/token")
            .await
            .unwrap();
        assert_eq!(r.url().query(), None);
    }

    #[tokio::test]
    async fn basic_auth_comes_from_the_configuration() {
        let b = sanbod_binding(
            Config::builder()
                .basic_auth("sanbod_client", "test_sanbod", "client-SECRET-42")
                .build()
                .unwrap(),
        );
        let r = prepared(&b, "token", "https://api.sanbod.co/oauth/v1/token")
            .await
            .unwrap();
        assert_eq!(
            header(&r),
            Some("Basic dGVzdF9zYW5ib2Q6Y2xpZW50LVNFQ1JFVC00Mg==")
        );
        let none = sanbod_binding(Config::default());
        let e = prepared(&none, "token", "https://api.sanbod.co/oauth/v1/token")
            .await
            .unwrap_err();
        assert!(e.contains("basic_auth(\"sanbod_client\""), "{e}");
    }

    struct Counting(std::sync::atomic::AtomicUsize);

    impl BearerSource for Counting {
        fn bearer<'a>(&'a self, stale: Option<&'a str>) -> crate::auth::BearerFuture<'a> {
            Box::pin(async move {
                let n = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                match stale {
                    Some(_) => Err(AuthError::TokenUnavailable {
                        reason: "refused".into(),
                    }),
                    None => Ok(Secret::new(format!("source-{n}"))),
                }
            })
        }

        fn identity(&self) -> String {
            "counting".into()
        }
    }

    #[tokio::test]
    async fn per_client_bearer_overrides_win() {
        let config = Config::builder()
            .bearer_token("sanbod_bearer", "configured")
            .build()
            .unwrap();
        let base = sanbod_binding(config);
        let url = "https://api.sanbod.co/statement";
        let r = prepared(&base, "statement", url).await.unwrap();
        assert_eq!(header(&r), Some("Bearer configured"));

        let own = base.clone().with_bearer(Secret::new("own-SECRET"));
        assert!(own.has_bearer_override() && !base.has_bearer_override());
        let r = prepared(&own, "statement", url).await.unwrap();
        assert_eq!(header(&r), Some("Bearer own-SECRET"));
        assert!(!format!("{own:?}").contains("own-SECRET"));

        let source = Arc::new(Counting(Default::default()));
        let sourced = base.clone().with_bearer_source(source.clone());
        let r = prepared(&sourced, "statement", url).await.unwrap();
        assert_eq!(header(&r), Some("Bearer source-0"));
        // Routes without bearer auth are not affected.
        let r = prepared(&sourced, "item", "https://api.sanbod.co/items/1")
            .await
            .unwrap();
        assert_eq!(header(&r), None);

        let unknown = sanbod_binding(Config::default());
        let e = prepared(&unknown, "statement", url).await.unwrap_err();
        assert!(
            e.contains("sanbod_bearer") && !e.contains("token_pair"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn operation_paths_can_be_overridden() {
        let b = sanbod_binding(
            Config::builder()
                .bearer_token("sanbod_bearer", "t")
                .build()
                .unwrap(),
        );
        let moved = b
            .clone()
            .with_path("statement", "/sanboom/v1/statement")
            .unwrap();
        assert_eq!(moved.path_of("statement"), Some("/sanboom/v1/statement"));
        assert_eq!(
            b.path_of("statement"),
            Some("/statement"),
            "the original is unchanged"
        );
        let route = moved.route("statement").unwrap();
        assert_eq!(
            moved.url(route, &[]).unwrap().as_str(),
            "https://api.sanbod.co/sanboom/v1/statement"
        );
        assert!(b.clone().with_path("nope", "/x").is_err());
        assert!(
            b.clone().with_path("item", "/x").is_err(),
            "path parameters"
        );
        assert!(b.clone().with_redirect_answer("nope").is_err());
        let keeps = b.clone().with_redirect_answer("statement").unwrap();
        assert!(keeps.answers_redirect(route) && !b.answers_redirect(route));
        let twice = keeps.with_redirect_answer("statement").unwrap();
        assert_eq!(twice.redirect_answers.len(), 1);
        for bad in ["x", "/a?b", "/a b", "/a#b"] {
            assert!(b.clone().with_path("statement", bad).is_err(), "{bad}");
        }
    }
}
