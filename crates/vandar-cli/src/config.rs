//! Configuration: flags, environment and a TOML config file with profiles; secrets from the
//! environment or a JSON secrets file that must not be world-readable; the rotated token pair
//! written back where it came from.
//!
//! # Precedence
//!
//! A flag beats its environment variable (clap reads both), which beats the profile in the config
//! file, which beats the built-in profile. Built-in profiles: `production` (the real hosts) and
//! `sandbox` (an in-process sandbox, unless the profile sets a `base_url`).
//!
//! # Config file
//!
//! `--config PATH` / `VANDAR_CONFIG`, else `$XDG_CONFIG_HOME/vandar/config.toml` (or
//! `~/.config/vandar/config.toml`); a missing default file is fine, a missing named one is an
//! error. It never holds secrets.
//!
//! ```toml
//! default_profile = "production"
//!
//! [profiles.production]
//! business = "my-shop"
//! secrets_file = "~/.config/vandar/production.secrets.json"   # the default shown
//!
//! [profiles.staging]
//! base_url = "http://127.0.0.1:8910"   # every host; or per host:
//! hosts = { "https://ipg.vandar.io" = "http://127.0.0.1:8911" }
//! rate_limit = true
//! timeout_secs = 30
//!
//! [profiles.sandbox]
//! seed_transactions = 25   # statement lines seeded into the in-process sandbox
//! ```
//!
//! # Secrets
//!
//! Environment: `VANDAR_ACCESS_TOKEN` + `VANDAR_REFRESH_TOKEN` (a refreshing pair;
//! `VANDAR_TOKEN_ISSUED_AT`, Unix seconds, tells when it was issued, else now is assumed),
//! `VANDAR_ACCESS_TOKEN` alone (a static token), `VANDAR_IPG_API_KEY`, `SANBOD_CLIENT_ID` +
//! `SANBOD_CLIENT_SECRET`. The secrets file (`--secrets-file`, `VANDAR_SECRETS_FILE`, the
//! profile's `secrets_file`, else `<config dir>/vandar/<profile>.secrets.json`) is a JSON object
//! with any of `access_token`, `refresh_token`, `access_expires_at`, `refresh_expires_at` (Unix
//! seconds), `ipg_api_key`, `sanbod_client_id`, `sanbod_client_secret`; the CLI adds
//! `sanbod_tokens` and `base_url`. On Unix it is refused when its group or others have any
//! permission bit (mode `& 0o077`, like ssh): `chmod 600` it.
//!
//! # A profile binds its base URL and its secrets file
//!
//! A run whose base URL (`--base-url`, `VANDAR_BASE_URL`) is not its profile's never touches
//! the profile's secrets file: without `--secrets-file` it uses
//! `<config dir>/vandar/<profile>@<host_port>.secrets.json` and says so on stderr. Every write
//! records the base URL in the file (`base_url`), and a file bound to another base URL is
//! refused, so even an explicit `--secrets-file` cannot mix production and sandbox tokens.
//!
//! A rotated token pair is written back to the secrets file (atomically, mode 0600). When the
//! pair came from the environment, the file records a hash of the environment's (now spent)
//! refresh token in `rotated_from_env`, and later runs with the same environment use the
//! file's newer pair.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use vandar::{ApiKey, Secret, TokenPair, TokenStore, TokenStoreError};
use vandar_runtime::timeouts::{FAR_FUTURE, system_after};
use vandar_runtime::{Snapshot, StoreFuture, Swap, TokenRecord};

use crate::error::CliError;

/// The built-in profile names.
pub const BUILTIN_PROFILES: [&str; 2] = ["production", "sandbox"];

/// The config file (`config.toml`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The profile used without `--profile`.
    pub default_profile: Option<String>,
    /// Profiles by name.
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

/// One profile of the config file. Every field is optional.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Send every host's requests here.
    pub base_url: Option<String>,
    /// Per-host base URLs (`"https://ipg.vandar.io" = "http://..."`).
    #[serde(default)]
    pub hosts: BTreeMap<String, String>,
    /// The business slug for `{business}`.
    pub business: Option<String>,
    /// The secrets file of this profile.
    pub secrets_file: Option<String>,
    /// Run against an in-process sandbox (default: true for `sandbox`, false otherwise).
    pub in_process_sandbox: Option<bool>,
    /// Statement lines seeded into the in-process sandbox (default 25).
    pub seed_transactions: Option<usize>,
    /// Client-side rate limits (default on: POST 30, others 100 per 3 s).
    pub rate_limit: Option<bool>,
    /// Per-attempt timeout in seconds.
    pub timeout_secs: Option<u64>,
}

/// What the global flags (and their environment variables) say.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--config`.
    pub config: Option<PathBuf>,
    /// `--profile`.
    pub profile: Option<String>,
    /// `--sandbox`.
    pub sandbox: bool,
    /// `--sandbox-seed`.
    pub sandbox_seed: Option<usize>,
    /// `--base-url`.
    pub base_url: Option<String>,
    /// `--business`.
    pub business: Option<String>,
    /// `--secrets-file`.
    pub secrets_file: Option<PathBuf>,
    /// `--no-rate-limit`.
    pub no_rate_limit: bool,
    /// `--timeout`.
    pub timeout_secs: Option<u64>,
}

/// The resolved, non-secret settings of a run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The profile's name.
    pub profile: String,
    /// The config file that was read, if any.
    pub config_path: Option<PathBuf>,
    /// Whether to start an in-process sandbox.
    pub in_process_sandbox: bool,
    /// Statement lines to seed into the in-process sandbox.
    pub sandbox_seed: usize,
    /// All-hosts base URL.
    pub base_url: Option<String>,
    /// Per-host base URLs.
    pub hosts: BTreeMap<String, String>,
    /// The business slug.
    pub business: Option<String>,
    /// Where the secrets file is (it may not exist yet).
    pub secrets_file: PathBuf,
    /// The base URL this run sends to (`production` for the real hosts): the secrets file is
    /// bound to it (see [`SecretsFile`]).
    pub target: String,
    /// Set when the run's base URL is not its profile's: what happened to the secrets file.
    pub off_profile_note: Option<String>,
    /// Client-side rate limits on.
    pub rate_limit: bool,
    /// Per-attempt timeout.
    pub timeout: Option<Duration>,
}

/// `$XDG_CONFIG_HOME/vandar` or `~/.config/vandar`.
pub fn config_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|x| !x.is_empty()) {
        return PathBuf::from(x).join("vandar");
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".config").join("vandar")
}

fn expand_home(p: &str) -> PathBuf {
    match p.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME")
            .map_or_else(|| PathBuf::from(p), |h| PathBuf::from(h).join(rest)),
        None => PathBuf::from(p),
    }
}

impl Settings {
    /// Resolve the settings from the flags and the config file.
    pub fn resolve(o: &Overrides) -> Result<Settings, CliError> {
        let (file, config_path) = match &o.config {
            Some(p) => {
                let text = fs::read_to_string(p).map_err(|e| {
                    CliError::usage(format!("cannot read config file {}: {e}", p.display()))
                })?;
                (parse_config(&text, p)?, Some(p.clone()))
            }
            None => {
                let p = config_dir().join("config.toml");
                match fs::read_to_string(&p) {
                    Ok(text) => (parse_config(&text, &p)?, Some(p)),
                    Err(_) => (ConfigFile::default(), None),
                }
            }
        };
        let profile = if o.sandbox {
            "sandbox".to_owned()
        } else {
            o.profile
                .clone()
                .or(file.default_profile.clone())
                .unwrap_or_else(|| "production".to_owned())
        };
        let p = match file.profiles.get(&profile) {
            Some(p) => p.clone(),
            None if BUILTIN_PROFILES.contains(&profile.as_str()) => Profile::default(),
            None => {
                return Err(CliError::usage(format!(
                    "unknown profile `{profile}` (built in: production, sandbox; the config file defines: {})",
                    file.profiles.keys().cloned().collect::<Vec<_>>().join(", ")
                )));
            }
        };
        let base_url = o.base_url.clone().or(p.base_url.clone());
        let in_process_sandbox = o.sandbox && o.base_url.is_none()
            || p.in_process_sandbox
                .unwrap_or(profile == "sandbox" && base_url.is_none());
        let target = target_of(base_url.as_deref());
        let profile_target = target_of(p.base_url.as_deref());
        // A profile binds its base URL and its secrets file together: a run sent elsewhere
        // (--base-url) uses a file named for that URL, never the profile's.
        let (secrets_file, off_profile_note) = match &o.secrets_file {
            Some(f) => (f.clone(), None),
            None if target == profile_target => (
                p.secrets_file.as_deref().map_or_else(
                    || config_dir().join(format!("{profile}.secrets.json")),
                    expand_home,
                ),
                None,
            ),
            None => {
                let f = config_dir().join(format!("{profile}@{}.secrets.json", slug(&target)));
                let note = format!(
                    "base URL {target} is not profile `{profile}`'s ({profile_target}): its secrets are read from and written to {}, never to the profile's secrets file",
                    f.display()
                );
                (f, Some(note))
            }
        };
        Ok(Settings {
            target,
            off_profile_note,
            in_process_sandbox,
            sandbox_seed: o.sandbox_seed.or(p.seed_transactions).unwrap_or(25),
            base_url,
            hosts: p.hosts.clone(),
            business: o.business.clone().or(p.business.clone()),
            secrets_file,
            rate_limit: !o.no_rate_limit && p.rate_limit.unwrap_or(true),
            timeout: o
                .timeout_secs
                .or(p.timeout_secs)
                .map(|s| Duration::from_secs(s.max(1))),
            profile,
            config_path,
        })
    }
}

/// The binding name of a base URL: the URL without a trailing `/`, or `production` for the
/// real hosts.
pub fn target_of(base_url: Option<&str>) -> String {
    base_url.map_or_else(
        || "production".to_owned(),
        |u| u.trim().trim_end_matches('/').to_owned(),
    )
}

/// A file-name-safe form of a base URL (`http://127.0.0.1:8910` → `127.0.0.1_8910`).
pub fn slug(target: &str) -> String {
    let rest = target.split_once("://").map_or(target, |(_, r)| r);
    rest.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn parse_config(text: &str, path: &Path) -> Result<ConfigFile, CliError> {
    toml::from_str(text)
        .map_err(|e| CliError::usage(format!("config file {}: {e}", path.display())))
}

/// Where a secret came from (shown by `vandar token status`; never the value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// An environment variable.
    Env(&'static str),
    /// The secrets file.
    File(PathBuf),
    /// The in-process sandbox's seeded credentials.
    Sandbox,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Env(name) => write!(f, "environment ({name})"),
            Origin::File(p) => write!(f, "secrets file {}", p.display()),
            Origin::Sandbox => f.write_str("in-process sandbox"),
        }
    }
}

/// The Vandar business credential.
#[derive(Debug, Clone)]
pub enum TokenSource {
    /// None configured.
    None,
    /// A static access token (not refreshed).
    Static(Secret, Origin),
    /// A refreshing pair.
    Pair(TokenPair, Origin),
}

/// The secrets of a run.
#[derive(Debug, Clone)]
pub struct Secrets {
    /// The Vandar business credential.
    pub token: TokenSource,
    /// Whether the expiry of an environment pair was assumed (no `VANDAR_TOKEN_ISSUED_AT`).
    pub expiry_assumed: bool,
    /// The IPG api key.
    pub ipg_api_key: Option<(ApiKey, Origin)>,
    /// The Sanbod application's id and secret.
    pub sanbod_client: Option<(String, Secret, Origin)>,
    /// The secrets file (written back to), unless the in-process sandbox is used.
    pub file: Option<SecretsFile>,
    /// A hash of the environment's refresh token, when the pair came from the environment.
    pub rotated_from_env: Option<String>,
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Hex SHA-256 of a token (to recognise a spent environment token without storing it).
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Unix seconds from the secrets file or the environment; a number past what a time holds is
/// `now` + `FAR_FUTURE` (never a panic), and no time is put later than that.
fn from_unix(s: u64, now: SystemTime) -> SystemTime {
    let far = system_after(now, FAR_FUTURE);
    UNIX_EPOCH
        .checked_add(Duration::from_secs(s))
        .map_or(far, |t| t.min(far))
}

impl Secrets {
    /// Read the secrets from the environment and the secrets file.
    pub fn load(settings: &Settings) -> Result<Secrets, CliError> {
        let file = SecretsFile::new(settings.secrets_file.clone()).bound_to(&settings.target);
        let stored = file.read()?.unwrap_or_default();
        let file_origin = || Origin::File(file.path.clone());
        let s = |k: &str| stored.get(k).and_then(Value::as_str).map(str::to_owned);
        let n = |k: &str| stored.get(k).and_then(Value::as_u64);
        let now = SystemTime::now();
        let file_pair = || -> Option<TokenPair> {
            let (a, r) = (s("access_token")?, s("refresh_token")?);
            let issued = TokenPair::issued_at(a.clone(), r.clone(), now);
            Some(TokenPair::new(
                a,
                r,
                n("access_expires_at").map_or(issued.access_expires_at, |t| from_unix(t, now)),
                n("refresh_expires_at").map_or(issued.refresh_expires_at, |t| from_unix(t, now)),
            ))
        };
        let mut expiry_assumed = false;
        let mut rotated_from_env = None;
        let token = match (
            env_nonempty("VANDAR_ACCESS_TOKEN"),
            env_nonempty("VANDAR_REFRESH_TOKEN"),
        ) {
            (access, Some(refresh)) => {
                let hash = token_hash(&refresh);
                match file_pair().filter(|_| s("rotated_from_env").as_deref() == Some(&hash)) {
                    Some(newer) => {
                        // keep the mark, so later rotations still replace the spent pair
                        rotated_from_env = Some(hash);
                        TokenSource::Pair(newer, file_origin())
                    }
                    None => {
                        let issued = match env_nonempty("VANDAR_TOKEN_ISSUED_AT") {
                            Some(v) => from_unix(
                                v.trim().parse().map_err(|_| {
                                    CliError::usage("VANDAR_TOKEN_ISSUED_AT must be Unix seconds")
                                })?,
                                now,
                            ),
                            None => {
                                expiry_assumed = true;
                                now
                            }
                        };
                        rotated_from_env = Some(hash);
                        // Without an access token the pair is refreshed on first use.
                        let pair = match access {
                            Some(a) => TokenPair::issued_at(a, refresh, issued),
                            None => TokenPair::new(
                                "",
                                refresh,
                                UNIX_EPOCH,
                                TokenPair::issued_at("", "", issued).refresh_expires_at,
                            ),
                        };
                        TokenSource::Pair(pair, Origin::Env("VANDAR_REFRESH_TOKEN"))
                    }
                }
            }
            (Some(access), None) => {
                TokenSource::Static(Secret::new(access), Origin::Env("VANDAR_ACCESS_TOKEN"))
            }
            (None, None) => match (file_pair(), s("access_token")) {
                (Some(pair), _) => TokenSource::Pair(pair, file_origin()),
                (None, Some(access)) => TokenSource::Static(Secret::new(access), file_origin()),
                (None, None) => TokenSource::None,
            },
        };
        let ipg_api_key = env_nonempty("VANDAR_IPG_API_KEY")
            .map(|k| (ApiKey::new(k), Origin::Env("VANDAR_IPG_API_KEY")))
            .or_else(|| s("ipg_api_key").map(|k| (ApiKey::new(k), file_origin())));
        let sanbod_client = match (
            env_nonempty("SANBOD_CLIENT_ID"),
            env_nonempty("SANBOD_CLIENT_SECRET"),
        ) {
            (Some(id), Some(secret)) => {
                Some((id, Secret::new(secret), Origin::Env("SANBOD_CLIENT_SECRET")))
            }
            _ => match (s("sanbod_client_id"), s("sanbod_client_secret")) {
                (Some(id), Some(secret)) => Some((id, Secret::new(secret), file_origin())),
                _ => None,
            },
        };
        Ok(Secrets {
            token,
            expiry_assumed,
            ipg_api_key,
            sanbod_client,
            file: Some(file),
            rotated_from_env,
        })
    }

    /// The seeded credentials of an in-process sandbox (nothing is written anywhere).
    #[cfg(feature = "sandbox")]
    pub fn sandbox(creds: &vandar_sandbox::Credentials) -> Secrets {
        Secrets {
            token: TokenSource::Pair(
                TokenPair::issued_at(
                    creds.access_token.clone(),
                    creds.refresh_token.clone(),
                    SystemTime::now(),
                ),
                Origin::Sandbox,
            ),
            expiry_assumed: false,
            ipg_api_key: Some((ApiKey::new(creds.ipg_api_key.clone()), Origin::Sandbox)),
            sanbod_client: Some((
                creds.sanbod_client_id.clone(),
                Secret::new(creds.sanbod_client_secret.clone()),
                Origin::Sandbox,
            )),
            file: None,
            rotated_from_env: None,
        }
    }
}

/// The JSON secrets file: refused when its group or others have any permission bit (like
/// ssh); written atomically with mode 0600.
///
/// It is bound to one base URL: every write records it as `base_url`, and a file that records
/// another base URL than the run's is neither read nor written (a sandbox run can never
/// overwrite production tokens, and production tokens are never sent to a sandbox).
#[derive(Debug, Clone)]
pub struct SecretsFile {
    /// Its path.
    pub path: PathBuf,
    /// The base URL it belongs to (`production` for the real hosts); `None`: unchecked.
    pub bound_to: Option<String>,
}

impl SecretsFile {
    /// A secrets file at `path` (not read yet), not bound to a base URL.
    pub fn new(path: PathBuf) -> Self {
        SecretsFile {
            path,
            bound_to: None,
        }
    }

    /// Bind it to `target` (see [`target_of`]).
    pub fn bound_to(mut self, target: &str) -> Self {
        self.bound_to = Some(target.to_owned());
        self
    }

    fn check_binding(&self, m: &Map<String, Value>) -> Result<(), CliError> {
        match (m.get("base_url").and_then(Value::as_str), &self.bound_to) {
            (Some(theirs), Some(ours)) if theirs != ours => Err(CliError::usage(format!(
                "secrets file {} belongs to base URL {theirs}, but this run sends to {ours}: refusing to read or write it (use the profile of {ours}, or --secrets-file with that URL's own file)",
                self.path.display()
            ))),
            _ => Ok(()),
        }
    }

    /// The file's JSON object, `None` when it does not exist.
    pub fn read(&self) -> Result<Option<Map<String, Value>>, CliError> {
        let text = match fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(CliError::usage(format!(
                    "cannot read secrets file {}: {e}",
                    self.path.display()
                )));
            }
        };
        self.check_permissions()?;
        match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(m)) => {
                self.check_binding(&m)?;
                Ok(Some(m))
            }
            // The parser's message could quote the file's content: name the file only.
            _ => Err(CliError::usage(format!(
                "secrets file {} is not a JSON object",
                self.path.display()
            ))),
        }
    }

    #[cfg(unix)]
    fn check_permissions(&self) -> Result<(), CliError> {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = fs::metadata(&self.path)?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(CliError::usage(format!(
                "secrets file {} is accessible to its group or other users (mode {:o}); refusing to use it: run `chmod 600 {}`",
                self.path.display(),
                mode & 0o777,
                self.path.display()
            )));
        }
        Ok(())
    }

    #[cfg(not(unix))]
    fn check_permissions(&self) -> Result<(), CliError> {
        Ok(())
    }

    /// Change the file's object with `f` and write it back atomically (mode 0600), creating
    /// the file (and its directory, mode 0700) when needed.
    pub fn update(&self, f: impl FnOnce(&mut Map<String, Value>)) -> Result<(), CliError> {
        let mut map = self.read()?.unwrap_or_default();
        f(&mut map);
        if let Some(target) = &self.bound_to {
            map.insert("base_url".into(), Value::String(target.clone()));
        }
        let dir = self
            .path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        create_private_dir(dir)?;
        let tmp = dir.join(format!(
            ".{}.tmp-{}",
            self.path
                .file_name()
                .map_or_else(|| "secrets".into(), |n| n.to_string_lossy()),
            std::process::id()
        ));
        let mut out = private_file(&tmp)?;
        let text =
            serde_json::to_string_pretty(&Value::Object(map)).map_err(std::io::Error::from)?;
        out.write_all(text.as_bytes())?;
        out.write_all(b"\n")?;
        out.sync_all()?;
        drop(out);
        fs::rename(&tmp, &self.path)?;
        Ok(())
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    if dir.exists() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)
}

#[cfg(unix)]
fn private_file(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn private_file(path: &Path) -> std::io::Result<fs::File> {
    fs::File::create(path)
}

/// The runtime's token store: starts with the resolved pair and writes every rotated pair back
/// to the secrets file (with `rotated_from_env` when the first pair came from the environment).
pub struct FileTokenStore {
    record: Mutex<Option<TokenRecord>>,
    file: Option<SecretsFile>,
    rotated_from_env: Option<String>,
    saved: Arc<Mutex<Option<String>>>,
}

impl std::fmt::Debug for FileTokenStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileTokenStore")
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

impl FileTokenStore {
    /// A store holding `pair`, writing rotations to `file` (none: memory only).
    pub fn new(
        pair: TokenPair,
        file: Option<SecretsFile>,
        rotated_from_env: Option<String>,
    ) -> Self {
        FileTokenStore {
            record: Mutex::new(Some(TokenRecord::seed(pair))),
            file,
            rotated_from_env,
            saved: Arc::new(Mutex::new(None)),
        }
    }

    /// Where the last rotated pair was saved (a description), shared with the caller.
    pub fn saved_to(&self) -> Arc<Mutex<Option<String>>> {
        self.saved.clone()
    }

    /// Write a new pair to the secrets file (or note that it lives in memory only).
    fn persist(&self, pair: &TokenPair) -> Result<(), TokenStoreError> {
        match &self.file {
            None => {
                *self.saved.lock().unwrap_or_else(PoisonError::into_inner) =
                    Some("memory only (in-process sandbox)".into());
                Ok(())
            }
            Some(file) => file
                .update(|m| {
                    m.insert("access_token".into(), pair.access_token.expose().into());
                    m.insert("refresh_token".into(), pair.refresh_token.expose().into());
                    m.insert(
                        "access_expires_at".into(),
                        unix(pair.access_expires_at).into(),
                    );
                    m.insert(
                        "refresh_expires_at".into(),
                        unix(pair.refresh_expires_at).into(),
                    );
                    match &self.rotated_from_env {
                        Some(h) => m.insert("rotated_from_env".into(), h.clone().into()),
                        None => m.remove("rotated_from_env"),
                    };
                })
                .map(|()| {
                    tracing::info!(path = %file.path.display(), "saved the rotated token pair");
                    *self.saved.lock().unwrap_or_else(PoisonError::into_inner) =
                        Some(format!("secrets file {}", file.path.display()));
                })
                // The message names the file, never a token.
                .map_err(|e| TokenStoreError::new(e.to_string())),
        }
    }
}

impl TokenStore for FileTokenStore {
    fn load(&self) -> StoreFuture<'_, Snapshot> {
        let record = self
            .record
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        Box::pin(async move { Ok(Snapshot { record, now: None }) })
    }

    fn swap<'a>(&'a self, expected: Option<u64>, record: &'a TokenRecord) -> StoreFuture<'a, Swap> {
        let result = (|| {
            let mut held = self.record.lock().unwrap_or_else(PoisonError::into_inner);
            if held.as_ref().map(|r| r.revision) != expected {
                return Ok(Swap::Conflict(Snapshot {
                    record: held.clone(),
                    now: None,
                }));
            }
            // A new pair goes to the file before it counts as stored: the old refresh token
            // no longer works once Vandar rotated it.
            let new_pair = held.as_ref().is_none_or(|r| r.pair != record.pair);
            if new_pair {
                self.persist(&record.pair)?;
            }
            *held = Some(record.clone());
            Ok(Swap::Done { now: None })
        })();
        Box::pin(async move { result })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_seconds_past_what_a_time_holds_are_far_not_a_panic() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(from_unix(1_700_000_060, now), now + Duration::from_secs(60));
        assert_eq!(from_unix(u64::MAX, now), system_after(now, FAR_FUTURE));
    }

    #[test]
    fn config_file_profiles_parse_and_unknown_keys_are_refused() {
        let c: ConfigFile = toml::from_str(
            r#"
default_profile = "staging"
[profiles.staging]
base_url = "http://127.0.0.1:1"
business = "shop"
hosts = { "https://ipg.vandar.io" = "http://127.0.0.1:2" }
"#,
        )
        .unwrap();
        assert_eq!(c.default_profile.as_deref(), Some("staging"));
        assert_eq!(c.profiles["staging"].business.as_deref(), Some("shop"));
        assert_eq!(c.profiles["staging"].hosts.len(), 1);
        assert!(toml::from_str::<ConfigFile>("[profiles.x]\naccess_token = \"t\"\n").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn world_readable_secrets_file_is_refused_and_writes_are_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        fs::write(&path, r#"{"ipg_api_key":"k-123"}"#).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let f = SecretsFile::new(path.clone());
        let err = f.read().unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
        assert!(!err.contains("k-123"), "{err}");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        f.update(|m| {
            m.insert("access_token".into(), "a".into());
        })
        .unwrap();
        let m = f.read().unwrap().unwrap();
        assert_eq!(m["ipg_api_key"], "k-123");
        assert_eq!(m["access_token"], "a");
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let fresh = SecretsFile::new(dir.path().join("sub/new.json"));
        fresh.update(|_| {}).unwrap();
        let mode = fs::metadata(dir.path().join("sub/new.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
