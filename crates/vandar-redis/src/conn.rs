//! One Redis connection shared by the token store and the rate limiter: a single server
//! (`redis://`, `rediss://` with rustls, a unix socket), a master found through Sentinel, or a
//! Cluster. A timeout on every command and a short circuit breaker while Redis is down.

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use redis::aio::{
    ConnectionLike, ConnectionManager, ConnectionManagerConfig, MultiplexedConnection,
};
use redis::cluster::{ClusterClient, ClusterClientBuilder};
use redis::cluster_async::ClusterConnection;
use redis::sentinel::{SentinelClient, SentinelClientBuilder, SentinelServerType};
use redis::{AsyncConnectionConfig, ClientTlsConfig, ConnectionAddr, TlsCertificates, TlsMode};

use crate::error::RedisError;

/// Connection settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RedisOptions {
    /// The longest one command (or script) may take, reconnecting included (default 1 s).
    pub command_timeout: Duration,
    /// The longest one connection attempt may take (default 1 s).
    pub connect_timeout: Duration,
    /// Reconnection attempts after a lost connection before a command fails (default 1).
    pub reconnect_retries: usize,
    /// After Redis failed (unreachable or timed out), commands fail at once for this long
    /// instead of waiting for another timeout each (default 500 ms).
    pub retry_after_failure: Duration,
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self {
            command_timeout: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(1),
            reconnect_retries: 1,
            retry_after_failure: Duration::from_millis(500),
        }
    }
}

/// Where Redis is.
#[derive(Clone)]
enum Target {
    /// One server: a `redis://`, `rediss://` or `redis+unix://` URL.
    Server(String),
    /// A master found through Sentinel.
    Sentinel {
        sentinels: Vec<(String, u16)>,
        master: String,
        tls: bool,
        username: Option<String>,
        password: Option<String>,
        db: i64,
    },
    /// A Redis Cluster, from one or more of its nodes.
    Cluster {
        nodes: Vec<(String, u16)>,
        tls: bool,
        username: Option<String>,
        password: Option<String>,
    },
}

/// How to open a [`RedisConnection`]: a URL, or the parts of one, plus TLS material for a
/// private CA. Build it with [`RedisConnection::builder`]. `Debug` shows neither passwords
/// nor certificates.
#[derive(Clone)]
pub struct RedisConnectionBuilder {
    target: Result<Target, RedisError>,
    options: RedisOptions,
    root_certificate: Option<Vec<u8>>,
    client_identity: Option<(Vec<u8>, Vec<u8>)>,
}

impl fmt::Debug for RedisConnectionBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.target {
            Ok(Target::Server(_)) => "server",
            Ok(Target::Sentinel { .. }) => "sentinel",
            Ok(Target::Cluster { .. }) => "cluster",
            Err(_) => "invalid",
        };
        f.debug_struct("RedisConnectionBuilder")
            .field("kind", &kind)
            .field("options", &self.options)
            .field("root_certificate", &self.root_certificate.is_some())
            .field("client_identity", &self.client_identity.is_some())
            .finish()
    }
}

fn invalid(reason: &str) -> RedisError {
    RedisError::InvalidUrl {
        reason: reason.to_owned(),
    }
}

/// `user:password@h1:p1,h2:p2/rest` after the scheme: credentials, nodes, path.
type Parts = (Option<String>, Option<String>, Vec<(String, u16)>, String);

fn split_nodes(rest: &str, default_port: u16) -> Result<Parts, RedisError> {
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (userinfo, hosts) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let decode = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .filter(|v| !v.is_empty())
    };
    let (username, password) = match userinfo {
        Some(u) => match u.split_once(':') {
            Some((user, pass)) => (decode(user), decode(pass)),
            None => (decode(u), None),
        },
        None => (None, None),
    };
    let mut nodes = Vec::new();
    for h in hosts.split(',').filter(|h| !h.is_empty()) {
        let (host, port) = match h.rsplit_once(':') {
            Some((host, port)) => (
                host,
                port.parse::<u16>()
                    .map_err(|_| invalid("a node's port is not a number"))?,
            ),
            None => (h, default_port),
        };
        if host.is_empty() {
            return Err(invalid("a node has no host"));
        }
        nodes.push((host.trim_matches(['[', ']']).to_owned(), port));
    }
    if nodes.is_empty() {
        return Err(invalid("no node given"));
    }
    Ok((username, password, nodes, path.to_owned()))
}

fn parse(url: &str) -> Result<Target, RedisError> {
    let (scheme, rest) = url.split_once("://").ok_or_else(|| invalid("not a URL"))?;
    match scheme {
        "redis" | "rediss" | "redis+unix" | "unix" => {
            redis::Client::open(url).map_err(|e| invalid(e.category()))?;
            Ok(Target::Server(url.to_owned()))
        }
        "redis+sentinel" | "rediss+sentinel" => {
            let (username, password, sentinels, path) = split_nodes(rest, 26379)?;
            let mut segments = path.split('/').filter(|s| !s.is_empty());
            let master = segments
                .next()
                .ok_or_else(|| {
                    invalid("a sentinel URL names the master: redis+sentinel://host:26379/<master>")
                })?
                .to_owned();
            let db = match segments.next() {
                Some(db) => db
                    .parse()
                    .map_err(|_| invalid("the database is not a number"))?,
                None => 0,
            };
            Ok(Target::Sentinel {
                sentinels,
                master,
                tls: scheme == "rediss+sentinel",
                username,
                password,
                db,
            })
        }
        "redis+cluster" | "rediss+cluster" => {
            let (username, password, nodes, _) = split_nodes(rest, 6379)?;
            Ok(Target::Cluster {
                nodes,
                tls: scheme == "rediss+cluster",
                username,
                password,
            })
        }
        _ => Err(invalid(
            "the scheme must be redis, rediss, redis+unix, redis+sentinel, rediss+sentinel, redis+cluster or rediss+cluster",
        )),
    }
}

impl RedisConnectionBuilder {
    /// Redis at `url`:
    ///
    /// * one server: `redis://[user:password@]host:port[/db]`, `rediss://...` (TLS, rustls,
    ///   the system's roots unless [`root_certificate`](Self::root_certificate)),
    ///   `redis+unix:///path`;
    /// * Sentinel: `redis+sentinel://[user:password@]s1:26379,s2:26379/<master>[/db]`
    ///   (`rediss+sentinel://` for TLS to the master; the credentials are the master's);
    /// * Cluster: `redis+cluster://[user:password@]n1:6379,n2:6379` (`rediss+cluster://`).
    pub fn url(mut self, url: &str) -> Self {
        self.target = parse(url);
        self
    }

    /// The master named `master`, found through the sentinels at `sentinels` (host, port).
    pub fn sentinel(mut self, sentinels: &[(&str, u16)], master: &str) -> Self {
        self.target = Ok(Target::Sentinel {
            sentinels: sentinels
                .iter()
                .map(|(h, p)| ((*h).to_owned(), *p))
                .collect(),
            master: master.to_owned(),
            tls: false,
            username: None,
            password: None,
            db: 0,
        });
        self
    }

    /// The Cluster that `nodes` (host, port) belong to.
    pub fn cluster(mut self, nodes: &[(&str, u16)]) -> Self {
        self.target = Ok(Target::Cluster {
            nodes: nodes.iter().map(|(h, p)| ((*h).to_owned(), *p)).collect(),
            tls: false,
            username: None,
            password: None,
        });
        self
    }

    /// Trust this CA (PEM) instead of the system's roots for TLS connections.
    pub fn root_certificate(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificate = Some(pem.into());
        self
    }

    /// Present this client certificate and key (PEM) to the server (mutual TLS).
    pub fn client_certificate(
        mut self,
        cert_pem: impl Into<Vec<u8>>,
        key_pem: impl Into<Vec<u8>>,
    ) -> Self {
        self.client_identity = Some((cert_pem.into(), key_pem.into()));
        self
    }

    /// Timeouts and the circuit breaker.
    pub fn options(mut self, options: RedisOptions) -> Self {
        self.options = options;
        self
    }

    fn certificates(&self) -> Option<TlsCertificates> {
        if self.root_certificate.is_none() && self.client_identity.is_none() {
            return None;
        }
        Some(TlsCertificates {
            client_tls: self.client_identity.as_ref().map(|(c, k)| ClientTlsConfig {
                client_cert: c.clone(),
                client_key: k.clone(),
            }),
            root_cert: self.root_certificate.clone(),
        })
    }

    /// Open the connection. Connects on first use, so it never waits for Redis; call it
    /// inside a tokio runtime.
    pub fn open(self) -> Result<RedisConnection, RedisError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(RedisError::NoRuntime);
        }
        let options = self.options;
        let certificates = self.certificates();
        let setup = |e: redis::RedisError| invalid(e.category());
        let backend = match self.target.clone()? {
            Target::Server(url) => {
                let client = match certificates {
                    Some(certs) if url.starts_with("rediss://") => {
                        redis::Client::build_with_tls(url.as_str(), certs).map_err(setup)?
                    }
                    _ => redis::Client::open(url.as_str()).map_err(setup)?,
                };
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(options.connect_timeout))
                    .set_response_timeout(Some(options.command_timeout))
                    .set_number_of_retries(options.reconnect_retries)
                    .set_min_delay(Duration::from_millis(50))
                    .set_max_delay(Duration::from_millis(500));
                let manager =
                    ConnectionManager::new_lazy_with_config(client, config).map_err(|e| {
                        RedisError::Unavailable {
                            operation: "connect",
                            reason: describe(&e),
                        }
                    })?;
                Backend::Server(manager)
            }
            Target::Sentinel {
                sentinels,
                master,
                tls,
                username,
                password,
                db,
            } => {
                let addrs = sentinels
                    .into_iter()
                    .map(|(h, p)| ConnectionAddr::Tcp(h, p));
                let b = SentinelClientBuilder::new(addrs, &master, SentinelServerType::Master)
                    .map_err(setup)?
                    .set_client_to_redis_db(db)
                    .login(username, password, tls.then_some(certificates));
                Backend::Sentinel(Arc::new(SentinelBackend {
                    client: tokio::sync::Mutex::new(b.build().map_err(setup)?),
                    current: Mutex::new(None),
                    config: AsyncConnectionConfig::new()
                        .set_connection_timeout(Some(options.connect_timeout))
                        .set_response_timeout(Some(options.command_timeout)),
                }))
            }
            Target::Cluster {
                nodes,
                tls,
                username,
                password,
            } => {
                let addrs: Vec<String> = nodes
                    .into_iter()
                    .map(|(h, p)| format!("{}://{h}:{p}", if tls { "rediss" } else { "redis" }))
                    .collect();
                let b = ClusterClient::builder(addrs)
                    .connection_timeout(options.connect_timeout)
                    .response_timeout(options.command_timeout)
                    .login(username, password, tls.then_some(certificates));
                Backend::Cluster(Arc::new(ClusterBackend {
                    client: tokio::sync::Mutex::new(b.build().map_err(setup)?),
                    current: Mutex::new(None),
                }))
            }
        };
        Ok(RedisConnection {
            backend,
            options,
            failing_until: Arc::new(AtomicU64::new(0)),
            epoch: Instant::now(),
        })
    }
}

/// Credentials and TLS, set the same way on the Sentinel and the Cluster builders.
trait Login: Sized {
    fn username(self, username: String) -> Self;
    fn password(self, password: String) -> Self;
    fn tls(self, certificates: Option<TlsCertificates>) -> Self;

    /// Set what is given; `tls`: `Some(roots)` turns TLS on (verified).
    fn login(
        mut self,
        username: Option<String>,
        password: Option<String>,
        tls: Option<Option<TlsCertificates>>,
    ) -> Self {
        if let Some(u) = username {
            self = self.username(u);
        }
        if let Some(p) = password {
            self = self.password(p);
        }
        match tls {
            Some(certificates) => self.tls(certificates),
            None => self,
        }
    }
}

impl Login for SentinelClientBuilder {
    fn username(self, username: String) -> Self {
        self.set_client_to_redis_username(username)
    }

    fn password(self, password: String) -> Self {
        self.set_client_to_redis_password(password)
    }

    fn tls(self, certificates: Option<TlsCertificates>) -> Self {
        let b = self.set_client_to_redis_tls_mode(TlsMode::Secure);
        match certificates {
            Some(c) => b.set_client_to_redis_certificates(c),
            None => b,
        }
    }
}

impl Login for ClusterClientBuilder {
    fn username(self, username: String) -> Self {
        ClusterClientBuilder::username(self, username)
    }

    fn password(self, password: String) -> Self {
        ClusterClientBuilder::password(self, password)
    }

    fn tls(self, certificates: Option<TlsCertificates>) -> Self {
        let b = ClusterClientBuilder::tls(self, TlsMode::Secure);
        match certificates {
            Some(c) => b.certs(c),
            None => b,
        }
    }
}

/// The master of a Sentinel set-up: the connection to the master last named by the
/// sentinels, dropped (and the sentinels asked again) after a connection error or a
/// `READONLY` answer (a failover demoted it).
struct SentinelBackend {
    client: tokio::sync::Mutex<SentinelClient>,
    current: Mutex<Option<MultiplexedConnection>>,
    config: AsyncConnectionConfig,
}

impl SentinelBackend {
    fn cached(&self) -> Option<MultiplexedConnection> {
        self.current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set(&self, master: Option<MultiplexedConnection>) {
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = master;
    }
}

/// A Cluster: its connection (made on first use), dropped (and made again) after a
/// connection error or a timeout. The connection's task runs on the tokio runtime that made
/// it: if that runtime is gone, commands fail with a connection error and the next one
/// connects on the caller's runtime.
struct ClusterBackend {
    client: tokio::sync::Mutex<ClusterClient>,
    current: Mutex<Option<ClusterConnection>>,
}

impl ClusterBackend {
    fn cached(&self) -> Option<ClusterConnection> {
        self.current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set(&self, connection: Option<ClusterConnection>) {
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = connection;
    }
}

#[derive(Clone)]
enum Backend {
    Server(ConnectionManager),
    Sentinel(Arc<SentinelBackend>),
    Cluster(Arc<ClusterBackend>),
}

/// A connection a command runs on.
#[derive(Clone)]
pub(crate) enum Conn {
    Manager(ConnectionManager),
    Multiplexed(MultiplexedConnection),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(
        &'a mut self,
        cmd: &'a redis::Cmd,
    ) -> redis::RedisFuture<'a, redis::Value> {
        match self {
            Self::Manager(c) => c.req_packed_command(cmd),
            Self::Multiplexed(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        match self {
            Self::Manager(c) => c.req_packed_commands(pipeline, offset, count),
            Self::Multiplexed(c) => c.req_packed_commands(pipeline, offset, count),
            Self::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Manager(c) => c.get_db(),
            Self::Multiplexed(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
        }
    }
}

/// A connection to Redis (one server, a Sentinel-managed master, or a Cluster), shared by
/// [`RedisTokenStore`](crate::RedisTokenStore) and
/// [`RedisRateLimiter`](crate::RedisRateLimiter). Cheap to clone (one multiplexed
/// connection, reconnected after a loss). `Debug` never shows the URL (it may carry a
/// password).
#[derive(Clone)]
pub struct RedisConnection {
    backend: Backend,
    options: RedisOptions,
    /// Milliseconds since `epoch` until which commands fail at once (0: not failing).
    failing_until: Arc<AtomicU64>,
    epoch: Instant,
}

impl fmt::Debug for RedisConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.backend {
            Backend::Server(_) => "server",
            Backend::Sentinel(_) => "sentinel",
            Backend::Cluster(_) => "cluster",
        };
        f.debug_struct("RedisConnection")
            .field("kind", &kind)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl RedisConnection {
    /// A builder: a URL or its parts, TLS roots, options.
    pub fn builder() -> RedisConnectionBuilder {
        RedisConnectionBuilder {
            target: Err(invalid("no URL given")),
            options: RedisOptions::default(),
            root_certificate: None,
            client_identity: None,
        }
    }

    /// A connection to `url` (see [`RedisConnectionBuilder::url`] for the forms: one server,
    /// `rediss://`, Sentinel, Cluster) with the default [`RedisOptions`]. Connects on first
    /// use, so building it never waits for Redis; call it inside a tokio runtime.
    pub fn open(url: &str) -> Result<Self, RedisError> {
        Self::builder().url(url).open()
    }

    /// [`open`](Self::open) with explicit options.
    pub fn open_with(url: &str, options: RedisOptions) -> Result<Self, RedisError> {
        Self::builder().url(url).options(options).open()
    }

    /// The options in use.
    pub fn options(&self) -> RedisOptions {
        self.options
    }

    /// Check that Redis answers.
    pub async fn ping(&self) -> Result<(), RedisError> {
        self.run("ping", |mut c| async move {
            redis::cmd("PING").query_async::<String>(&mut c).await
        })
        .await
        .map(|_| ())
    }

    async fn connection(&self) -> redis::RedisResult<Conn> {
        match &self.backend {
            Backend::Server(m) => Ok(Conn::Manager(m.clone())),
            Backend::Cluster(c) => {
                if let Some(conn) = c.cached() {
                    return Ok(Conn::Cluster(conn));
                }
                let client = c.client.lock().await;
                if let Some(conn) = c.cached() {
                    return Ok(Conn::Cluster(conn));
                }
                let conn = client.get_async_connection().await?;
                c.set(Some(conn.clone()));
                Ok(Conn::Cluster(conn))
            }
            Backend::Sentinel(s) => {
                if let Some(c) = s.cached() {
                    return Ok(Conn::Multiplexed(c));
                }
                let mut client = s.client.lock().await;
                if let Some(c) = s.cached() {
                    return Ok(Conn::Multiplexed(c));
                }
                let master = client.async_get_client().await?;
                let c = master
                    .get_multiplexed_async_connection_with_config(&s.config)
                    .await?;
                tracing::debug!("connected to the master named by the sentinels");
                s.set(Some(c.clone()));
                Ok(Conn::Multiplexed(c))
            }
        }
    }

    /// After a failure: forget a Sentinel master that failed or was demoted, or a Cluster
    /// connection that failed (its task may have gone with the runtime that made it).
    fn forget_master(&self, e: &redis::RedisError) {
        match &self.backend {
            Backend::Sentinel(s) if is_connection_error(e) || e.code() == Some("READONLY") => {
                s.set(None);
            }
            Backend::Cluster(c) if is_connection_error(e) => c.set(None),
            _ => {}
        }
    }

    /// Run one command with the timeout and the circuit breaker; map its failure.
    pub(crate) async fn run<T, F, Fut>(
        &self,
        operation: &'static str,
        f: F,
    ) -> Result<T, RedisError>
    where
        F: FnOnce(Conn) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let now_ms = self.epoch.elapsed().as_millis() as u64;
        let until = self.failing_until.load(Ordering::Relaxed);
        if now_ms < until {
            return Err(RedisError::Unavailable {
                operation,
                reason: "it failed moments ago; not asking again yet".into(),
            });
        }
        let timeout = self.options.command_timeout;
        let outcome = tokio::time::timeout(timeout, async {
            let conn = self.connection().await?;
            f(conn).await
        })
        .await;
        let result = match outcome {
            Ok(Ok(v)) => Ok(v),
            Err(_) => {
                match &self.backend {
                    Backend::Sentinel(s) => s.set(None),
                    Backend::Cluster(c) => c.set(None),
                    Backend::Server(_) => {}
                }
                Err(RedisError::Timeout { operation, timeout })
            }
            Ok(Err(e)) => {
                self.forget_master(&e);
                if is_connection_error(&e) {
                    Err(RedisError::Unavailable {
                        operation,
                        reason: describe(&e),
                    })
                } else {
                    Err(RedisError::Command {
                        operation,
                        reason: describe(&e),
                    })
                }
            }
        };
        match &result {
            Err(e) if e.is_unavailable() => {
                let until = self.epoch.elapsed() + self.options.retry_after_failure;
                self.failing_until
                    .store(until.as_millis() as u64, Ordering::Relaxed);
            }
            _ => self.failing_until.store(0, Ordering::Relaxed),
        }
        result
    }
}

fn is_connection_error(e: &redis::RedisError) -> bool {
    e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_timeout()
        || e.is_unrecoverable_error()
        || e.is_cluster_error()
}

/// A Redis error as text: its kind and detail (the redis crate never prints URLs or
/// passwords in them).
fn describe(e: &redis::RedisError) -> String {
    e.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_of_every_kind_parse() {
        assert!(matches!(
            parse("redis://127.0.0.1:6379/0"),
            Ok(Target::Server(_))
        ));
        assert!(matches!(parse("rediss://h:6380"), Ok(Target::Server(_))));
        let Ok(Target::Sentinel {
            sentinels,
            master,
            tls,
            password,
            db,
            ..
        }) = parse("rediss+sentinel://:p%40ss@a:26379,b/mymaster/2")
        else {
            panic!("sentinel");
        };
        assert_eq!(
            sentinels,
            [("a".to_owned(), 26379), ("b".to_owned(), 26379)]
        );
        assert_eq!(
            (master.as_str(), tls, password.as_deref(), db),
            ("mymaster", true, Some("p@ss"), 2)
        );
        let Ok(Target::Cluster { nodes, tls, .. }) = parse("redis+cluster://n1:7000,n2:7001")
        else {
            panic!("cluster");
        };
        assert_eq!(nodes.len(), 2);
        assert!(!tls);
        for bad in [
            "nope",
            "http://x",
            "redis+sentinel://a:1",
            "redis+cluster://",
            "redis+cluster://a:x",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        // errors never repeat the URL (it may carry a password)
        let Err(err) = parse("redis+sentinel://:SECRET@a:1") else {
            panic!("no master named");
        };
        assert!(!err.to_string().contains("SECRET"), "{err}");
    }
}
