//! The shared runtime (configuration + one HTTP client) and the per-crate binding that the
//! generated `ClientHooks` implementation delegates to: host routing, auth, tracing.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use progenitor_client::{Error as PError, OperationInfo};
use reqwest::header::{AUTHORIZATION, HeaderValue};
use tracing::Instrument;
use url::Url;

use crate::config::{Config, ConfigError};
use crate::error::Error;
use crate::route::{self, Auth, BrowserPage, Route};

/// Configuration plus one shared `reqwest` client (rustls). Cheap to clone; every product
/// client built from the same runtime shares its connection pool.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<RuntimeInner>,
}

struct RuntimeInner {
    config: Config,
    http: reqwest::Client,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// Build the runtime: one HTTP client with rustls, the configured timeouts and user agent.
    /// Redirects are not followed: every documented answer is a direct one, and a followed
    /// redirect would turn a bank page into a bogus 200.
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        let t = config.timeouts();
        let http = reqwest::Client::builder()
            .user_agent(config.user_agent())
            .connect_timeout(t.connect)
            .timeout(t.per_attempt)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ConfigError::Http(e.without_url().to_string()))?;
        Ok(Self {
            inner: Arc::new(RuntimeInner { config, http }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The shared HTTP client.
    pub fn http_client(&self) -> &reqwest::Client {
        &self.inner.http
    }
}

/// What a generated client carries: the runtime plus its spec's route and page tables.
#[derive(Clone)]
pub struct Binding {
    runtime: Runtime,
    routes: &'static [Route],
    pages: &'static [BrowserPage],
}

impl fmt::Debug for Binding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Binding")
            .field("runtime", &self.runtime)
            .field("operations", &self.routes.len())
            .finish()
    }
}

impl Binding {
    /// Bind a spec's tables to a runtime (called by the generated `Client::with_runtime`).
    pub fn new(runtime: Runtime, routes: &'static [Route], pages: &'static [BrowserPage]) -> Self {
        Self {
            runtime,
            routes,
            pages,
        }
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

    /// Hook run before sending: send the request to the operation's host (honouring
    /// overrides) and apply its auth scheme. Fails, and nothing is sent, when the operation is
    /// unknown or its credential is missing.
    pub async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        info: &OperationInfo,
    ) -> Result<(), PError<E>> {
        let op = info.operation_id;
        let route = self.route(op).ok_or_else(|| {
            PError::Custom(format!("operation `{op}` has no route; regenerate with `cargo xtask gen`"))
        })?;
        let base = self
            .runtime
            .config()
            .base_url(route.host)
            .map_err(|e| PError::InvalidRequest(e.to_string()))?;
        if !route.checks.is_empty() {
            if let Some(bytes) = request.body().and_then(|b| b.as_bytes()) {
                if let Ok(body) = serde_json::from_slice::<serde_json::Value>(bytes) {
                    for check in route.checks {
                        check.check(op, &body).map_err(PError::InvalidRequest)?;
                    }
                }
            }
        }
        let url = rebase(&base, request.url());
        *request.url_mut() = url;

        let headers = request.headers_mut();
        match route.auth {
            Auth::None => {
                headers.remove(AUTHORIZATION);
            }
            Auth::Bearer(scheme) => {
                let token = self.runtime.config().bearer_token(scheme).ok_or_else(|| {
                    PError::InvalidRequest(format!(
                        "operation `{op}` needs a bearer token (scheme `{scheme}`); set it with Config::builder().access_token(..)"
                    ))
                })?;
                let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                    .map_err(|_| {
                        PError::InvalidRequest(format!(
                            "the bearer token for scheme `{scheme}` is not a valid header value"
                        ))
                    })?;
                value.set_sensitive(true);
                headers.insert(AUTHORIZATION, value);
            }
            Auth::Basic(scheme) => {
                return Err(PError::InvalidRequest(format!(
                    "operation `{op}` needs client credentials (scheme `{scheme}`), which this runtime does not configure yet"
                )));
            }
        }
        Ok(())
    }

    /// Hook that sends the request, inside a tracing span named `vandar.request` with the
    /// operation id, method, host, status and latency. Bodies are never logged.
    pub async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let span = tracing::info_span!(
            "vandar.request",
            operation = info.operation_id,
            method = %request.method(),
            host = request.url().host_str().unwrap_or(""),
            attempt = 1u32,
            status = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        let started = Instant::now();
        let client = self.runtime.http_client().clone();
        async move {
            let result = match client.execute(request).await {
                Ok(resp) if resp.status().as_u16() >= 400 => json_error_body(resp).await,
                other => other,
            };
            let span = tracing::Span::current();
            span.record("latency_ms", started.elapsed().as_millis() as u64);
            match &result {
                Ok(resp) => {
                    span.record("status", resp.status().as_u16());
                    tracing::debug!("response received");
                }
                Err(e) => tracing::debug!(error = %e.without_url_ref(), "transport error"),
            }
            result
        }
        .instrument(span)
        .await
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
            for seg in p.path.split('/').filter(|s| !s.is_empty()) {
                match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(name) => {
                        let value = params
                            .iter()
                            .find(|(k, _)| *k == name)
                            .map(|(_, v)| *v)
                            .filter(|v| !v.is_empty())
                            .ok_or_else(|| {
                                Error::InvalidRequest(format!(
                                    "page `{page}` needs a non-empty `{name}`"
                                ))
                            })?;
                        segs.push(value);
                    }
                    None => {
                        segs.push(seg);
                    }
                }
            }
        }
        Ok(url)
    }
}

/// Error responses whose body is not JSON (an HTML page from a proxy, an empty 404) would make
/// the generated code report a decode error and lose the HTTP status. Replace such a body with
/// a JSON `message` that says what arrived, so the caller gets `Error::Api` with the status.
async fn json_error_body(resp: reqwest::Response) -> reqwest::Result<reqwest::Response> {
    let status = resp.status();
    let version = resp.version();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await?;
    if serde_json::from_slice::<serde_json::Value>(&bytes).is_ok() {
        let mut rebuilt = http::Response::new(bytes);
        *rebuilt.status_mut() = status;
        *rebuilt.version_mut() = version;
        *rebuilt.headers_mut() = headers;
        return Ok(reqwest::Response::from(rebuilt));
    }
    let content_type = headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("no content type")
        .to_string();
    let body = serde_json::json!({
        "message": format!(
            "HTTP {} with a non-JSON body ({content_type}, {} bytes)",
            status.as_u16(),
            bytes.len()
        )
    });
    let mut rebuilt = http::Response::new(body.to_string());
    *rebuilt.status_mut() = status;
    *rebuilt.version_mut() = version;
    *rebuilt.headers_mut() = headers;
    rebuilt.headers_mut().insert(
        reqwest::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    rebuilt.headers_mut().remove(reqwest::header::CONTENT_LENGTH);
    Ok(reqwest::Response::from(rebuilt))
}

/// Put `original`'s path and query on `base` (keeping any path prefix of `base`).
fn rebase(base: &Url, original: &Url) -> Url {
    let mut url = base.clone();
    let prefix = base.path().trim_end_matches('/');
    url.set_path(&format!("{prefix}{}", original.path()));
    url.set_query(original.query());
    url
}

/// `reqwest::Error::without_url` takes `self`; this renders an error without its URL by
/// reference, for logging.
trait WithoutUrlRef {
    fn without_url_ref(&self) -> String;
}

impl WithoutUrlRef for reqwest::Error {
    fn without_url_ref(&self) -> String {
        let text = self.to_string();
        match self.url() {
            Some(u) => text.replace(u.as_str(), "<url>"),
            None => text,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
