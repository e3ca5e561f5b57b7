//! What each generated client holds: the runtime plus its spec's tables (routes, browser
//! pages, auto-filled parameters) and the client's own overrides. [`Binding::prepare`] turns a
//! request the generated code built into one ready to send: routed to its host, checked
//! against the spec's constraints, auto-values filled. Nothing is sent when it fails.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use url::Url;

use crate::auth::BearerSource;
use crate::error::Error;
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
    /// The configured base of every host of `routes`, serialized without a trailing `/`
    /// (computed once: the configuration cannot change after it is built).
    bases: Arc<[(&'static str, Box<str>)]>,
    /// The base the generated code builds its URLs on (see [`Binding::building_on`]).
    built_on: Option<Box<str>>,
    /// Per-call overrides of this client's calls.
    pub(crate) options: crate::intercept::CallOptions,
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
            .finish()
    }
}

impl Binding {
    /// Bind a spec's tables to a runtime (called by the generated `Client::with_runtime`).
    pub fn new(runtime: Runtime, routes: &'static [Route], pages: &'static [BrowserPage]) -> Self {
        let mut bases: Vec<(&'static str, Box<str>)> = Vec::new();
        for route in routes {
            if bases.iter().any(|(host, _)| *host == route.host) {
                continue;
            }
            // A host whose base cannot be had stays out: `pre` then takes the general path,
            // which reports the error.
            if let Ok(base) = runtime.config().base_url(route.host) {
                bases.push((route.host, base.as_str().trim_end_matches('/').into()));
            }
        }
        Self {
            runtime,
            routes,
            pages,
            auto_values: &[],
            bearer: None,
            paths: Arc::new(BTreeMap::new()),
            bases: bases.into(),
            built_on: None,
            options: crate::intercept::CallOptions::default(),
        }
    }

    /// The same binding, told that the generated client builds its URLs on the configured base
    /// of `default_host` (the base URL it is given is [`Binding::base_prefix`] of that host).
    /// `pre` then leaves the URL of an operation on that host as it is, and moves the others by
    /// swapping the prefix, instead of re-parsing every URL.
    pub fn building_on(mut self, default_host: &str) -> Self {
        self.built_on = Some(self.base_prefix(default_host).into());
        self
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

    /// The request URL for `route` when the generated code built `current` on `built_on`:
    /// `Ok(None)` when it is right as it is, `Ok(Some(url))` when it moves (another host, or a
    /// path override), `Err(())` when `current` was not built on `built_on` (a client made
    /// with another base URL), for the general path to handle.
    pub(crate) fn routed_url(&self, route: &Route, current: &Url) -> Result<Option<Url>, ()> {
        let (Some(built_on), Some((_, target))) = (
            self.built_on.as_deref(),
            self.bases.iter().find(|(h, _)| *h == route.host),
        ) else {
            return Err(());
        };
        let rest = current.as_str().strip_prefix(built_on).ok_or(())?;
        if !rest.starts_with('/') {
            return Err(());
        }
        let path_override = self.paths.get(route.operation_id);
        if path_override.is_none() && **target == *built_on {
            return Ok(None);
        }
        let (path, query) = match rest.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (rest, None),
        };
        let path = path_override.map_or(path, String::as_str);
        let mut text = String::with_capacity(target.len() + rest.len() + 8);
        text.push_str(target);
        text.push_str(path);
        if let Some(query) = query {
            text.push('?');
            text.push_str(query);
        }
        Url::parse(&text).map(Some).map_err(|_| ())
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
    /// each call, and once more after a 401 to replay the call with a refreshed token).
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
        let route = self
            .route(operation_id)
            .ok_or_else(|| Error::InvalidRequest(format!("unknown operation `{operation_id}`")))?;
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

    /// The path an operation is sent to: the override, else the spec's path.
    pub fn path_of(&self, operation_id: &str) -> Option<&str> {
        let route = self.route(operation_id)?;
        Some(
            self.paths
                .get(route.operation_id)
                .map_or(route.path, String::as_str),
        )
    }

    /// The path override of an operation, if any.
    pub(crate) fn path_override(&self, operation_id: &str) -> Option<&str> {
        self.paths.get(operation_id).map(String::as_str)
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
    /// (each value percent-encoded as one path segment), on the configured host.
    pub fn page_url(&self, page: &str, params: &[(&str, &str)]) -> Result<Url, Error> {
        let p = self
            .pages
            .iter()
            .find(|p| p.name == page)
            .ok_or_else(|| Error::InvalidRequest(format!("unknown browser page `{page}`")))?;
        let mut url = self.runtime.config().base_url(p.host)?;
        {
            let mut segs = url
                .path_segments_mut()
                .map_err(|_| Error::InvalidRequest("base URL cannot take a path".into()))?;
            segs.pop_if_empty();
            let filled = route::fill_path(p.path, params).map_err(|name| {
                Error::InvalidRequest(format!("page `{page}` needs a non-empty `{name}`"))
            })?;
            for seg in filled {
                match seg {
                    route::PathSegment::Literal(s) | route::PathSegment::Value(s) => {
                        segs.push(s);
                    }
                }
            }
        }
        Ok(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::AuthError;
    use crate::config::Config;
    use crate::route::{Auth, AutoValue, BrowserPage, Route};
    use crate::runtime::rebase;
    use reqwest::header::AUTHORIZATION;

    #[test]
    fn rebase_keeps_prefix_and_query() {
        let base = Url::parse("http://127.0.0.1:8080/mock/ipg").unwrap();
        let orig = Url::parse("https://ipg.vandar.io/api/v4/send?a=1&b=%20").unwrap();
        assert_eq!(
            rebase(&base, &orig).as_str(),
            "http://127.0.0.1:8080/mock/ipg/api/v4/send?a=1&b=%20"
        );
        let base = Url::parse("http://127.0.0.1:8080/").unwrap();
        assert_eq!(
            rebase(&base, &orig).as_str(),
            "http://127.0.0.1:8080/api/v4/send?a=1&b=%20"
        );
    }

    static PAGES: &[BrowserPage] = &[BrowserPage {
        name: "payment_page",
        host: "https://ipg.vandar.io",
        path: "/v4/{token}",
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
        assert!(b.page_url("payment_page", &[("token", "")]).is_err());
        assert!(b.page_url("nope", &[]).is_err());
    }

    static TWO_HOSTS: &[Route] = &[
        Route {
            operation_id: "send",
            method: "POST",
            host: "https://ipg.vandar.io",
            path: "/api/v4/send",
            auth: Auth::None,
            idempotent: false,
            checks: &[],
        },
        Route {
            operation_id: "refresh",
            method: "POST",
            host: "https://api.vandar.io",
            path: "/v3/refreshtoken",
            auth: Auth::None,
            idempotent: false,
            checks: &[],
        },
    ];

    /// Every way `pre` routes a URL gives what the general `rebase` gives: the URL is left as
    /// it is when it was built on its own host's base, moved to the other host's base, moved
    /// to an overridden path, and rebased when the client was made with another base URL.
    #[tokio::test]
    async fn routing_by_prefix_matches_the_general_path() {
        let config = Config::builder()
            .host("https://ipg.vandar.io", "http://127.0.0.1:9/mock/ipg/")
            .build()
            .unwrap();
        let b = Binding::new(Runtime::new(config).unwrap(), TWO_HOSTS, &[])
            .building_on("https://ipg.vandar.io");
        assert_eq!(
            b.base_prefix("https://ipg.vandar.io/"),
            "http://127.0.0.1:9/mock/ipg"
        );
        assert_eq!(
            b.base_prefix("https://api.vandar.io"),
            "https://api.vandar.io"
        );
        let built = "http://127.0.0.1:9/mock/ipg";
        let cases = [
            // (operation, URL the generated code built, where it must go)
            (
                "send",
                format!("{built}/api/v4/send?a=1&b=%20"),
                "http://127.0.0.1:9/mock/ipg/api/v4/send?a=1&b=%20",
            ),
            (
                "refresh",
                format!("{built}/v3/refreshtoken"),
                "https://api.vandar.io/v3/refreshtoken",
            ),
            (
                "send",
                "https://elsewhere.example/p/api/v4/send?x=1".to_owned(),
                "http://127.0.0.1:9/mock/ipg/p/api/v4/send?x=1",
            ),
            (
                "send",
                format!("{built}x/api/v4/send"),
                "http://127.0.0.1:9/mock/ipg/mock/ipgx/api/v4/send",
            ),
        ];
        for (op, from, to) in &cases {
            let r = prepared(&b, op, from).await.unwrap();
            assert_eq!(r.url().as_str(), *to, "{op} from {from}");
        }
        let moved = b.clone().with_path("send", "/api/v5/send").unwrap();
        let r = prepared(&moved, "send", &format!("{built}/api/v4/send?q=2"))
            .await
            .unwrap();
        assert_eq!(
            r.url().as_str(),
            "http://127.0.0.1:9/mock/ipg/api/v5/send?q=2"
        );
        // Without `building_on` every URL takes the general path, with the same results.
        let general = Binding::new(b.runtime().clone(), TWO_HOSTS, &[]);
        let r = prepared(&general, "refresh", "https://ipg.vandar.io/v3/refreshtoken")
            .await
            .unwrap();
        assert_eq!(r.url().as_str(), "https://api.vandar.io/v3/refreshtoken");
    }

    static ROUTES: &[Route] = &[
        Route {
            operation_id: "token",
            method: "POST",
            host: "https://api.sanbod.co",
            path: "/oauth/v1/token",
            auth: Auth::Basic("sanbod_client"),
            idempotent: false,
            checks: &[],
        },
        Route {
            operation_id: "statement",
            method: "POST",
            host: "https://api.sanbod.co",
            path: "/statement",
            auth: Auth::Bearer("sanbod_bearer"),
            idempotent: true,
            checks: &[],
        },
        Route {
            operation_id: "item",
            method: "GET",
            host: "https://api.sanbod.co",
            path: "/items/{id}",
            auth: Auth::None,
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
        let mut request = reqwest::Client::new()
            .post(url)
            .header(AUTHORIZATION, "Bearer from-the-generated-code")
            .build()
            .unwrap();
        b.prepare_for_test(&mut request, op)
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
        let r = prepared(
            &moved,
            "statement",
            "https://api.sanbod.co/statement?traceid=x",
        )
        .await
        .unwrap();
        assert_eq!(
            r.url().as_str(),
            "https://api.sanbod.co/sanboom/v1/statement?traceid=x"
        );
        assert!(b.clone().with_path("nope", "/x").is_err());
        assert!(
            b.clone().with_path("item", "/x").is_err(),
            "path parameters"
        );
        for bad in ["x", "/a?b", "/a b", "/a#b"] {
            assert!(b.clone().with_path("statement", bad).is_err(), "{bad}");
        }
    }
}
