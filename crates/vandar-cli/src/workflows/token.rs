//! `vandar token refresh|status|set`.

use std::time::{Duration, SystemTime};

use serde_json::json;
use vandar::TokenPair;
use vandar_runtime::timeouts::system_after;

use crate::config::TokenSource;
use crate::context::Ctx;
use crate::error::CliError;
use crate::output::record;
use crate::workflows::emit;

fn utc(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t)
        .format("%Y-%m-%d %H:%M:%S UTC")
        .to_string()
}

fn left(t: SystemTime, now: SystemTime) -> String {
    match t.duration_since(now) {
        Ok(d) => {
            let s = d.as_secs();
            format!(
                "in {}d {}h {}m",
                s / 86_400,
                s % 86_400 / 3600,
                s % 3600 / 60
            )
        }
        Err(_) => "expired".into(),
    }
}

/// `vandar token status`: where the token comes from and when it expires; never the token.
pub async fn status(ctx: &Ctx) -> Result<(), CliError> {
    let now = SystemTime::now();
    let (kind, origin) = match &ctx.secrets.token {
        TokenSource::None => ("none", None),
        TokenSource::Static(_, o) => ("static access token (not refreshed)", Some(o)),
        TokenSource::Pair(_, o) => ("refreshing token pair", Some(o)),
    };
    let pair = ctx.vandar.runtime().token_pair().await?;
    let write_back = match (&ctx.secrets.token, &ctx.secrets.file) {
        (TokenSource::Pair(..), Some(f)) => format!("secrets file {}", f.path.display()),
        (TokenSource::Pair(..), None) => "memory only (in-process sandbox)".into(),
        _ => "-".into(),
    };
    let mut j = json!({
        "profile": ctx.settings.profile,
        "kind": kind,
        "source": origin.map(ToString::to_string),
        "write_back": write_back,
        "expiry_assumed": ctx.secrets.expiry_assumed,
    });
    let mut pairs = vec![
        ("profile", ctx.settings.profile.clone()),
        ("credential", kind.to_owned()),
        ("source", origin.map_or("-".into(), ToString::to_string)),
    ];
    if let Some(p) = &pair {
        let edge = system_after(now, Duration::from_secs(3600));
        let due = p.access_expires_at <= edge || p.refresh_expires_at <= edge;
        pairs.push((
            "access expires",
            format!(
                "{} ({})",
                utc(p.access_expires_at),
                left(p.access_expires_at, now)
            ),
        ));
        pairs.push((
            "refresh expires",
            format!(
                "{} ({})",
                utc(p.refresh_expires_at),
                left(p.refresh_expires_at, now)
            ),
        ));
        pairs.push(("refresh due", if due { "yes" } else { "no" }.into()));
        j["access_expires_at"] = json!(utc(p.access_expires_at));
        j["refresh_expires_at"] = json!(utc(p.refresh_expires_at));
        j["access_valid"] = json!(p.access_expires_at > now);
        j["refresh_valid"] = json!(p.refresh_expires_at > now);
        j["refresh_due"] = json!(due);
    }
    if ctx.secrets.expiry_assumed {
        pairs.push((
            "note",
            "expiry assumed from now (set VANDAR_TOKEN_ISSUED_AT)".into(),
        ));
    }
    pairs.push(("write back", write_back.clone()));
    emit(ctx, || record(&pairs), &j)
}

/// `vandar token refresh`: rotate the pair now, through the SDK's own refresh (the same
/// protocol and pipeline as an automatic refresh: no second way to send a refresh token), and
/// write it back where it came from.
pub async fn refresh(ctx: &Ctx) -> Result<(), CliError> {
    if !matches!(ctx.secrets.token, TokenSource::Pair(..)) {
        return Err(CliError::usage(
            "no refresh token configured: set VANDAR_REFRESH_TOKEN or `refresh_token` in the secrets file",
        ));
    }
    let new = match ctx.vandar.runtime().refresh_token_pair().await {
        Err(e)
            if e.is_outcome_unknown()
                || matches!(
                    e,
                    vandar::Error::Auth(vandar::AuthError::RefreshOutcomeUnknown { .. })
                ) =>
        {
            return Err(CliError::OutcomeUnknown(format!("{e}")));
        }
        other => other?,
    };
    let saved = ctx
        .token_saved_to
        .as_ref()
        .and_then(|s| s.lock().ok().and_then(|g| g.clone()))
        .unwrap_or_else(|| "-".into());
    let j = json!({
        "rotated": true,
        "access_expires_at": utc(new.access_expires_at),
        "refresh_expires_at": utc(new.refresh_expires_at),
        "saved_to": saved,
    });
    emit(
        ctx,
        || {
            record(&[
                (
                    "rotated",
                    "yes (the old refresh token no longer works)".into(),
                ),
                ("access expires", utc(new.access_expires_at)),
                ("refresh expires", utc(new.refresh_expires_at)),
                ("saved to", saved.clone()),
            ])
        },
        &j,
    )
}

/// Read a new pair for `vandar token set` from standard input: a JSON object with
/// `access_token` and `refresh_token`, or the two tokens on two lines (never from the command
/// line, where other users of the machine could read them).
pub fn read_pair(input: &str) -> Result<TokenPair, CliError> {
    let trimmed = input.trim();
    let (access, refresh) = if trimmed.starts_with('{') {
        let v: serde_json::Value = serde_json::from_str(trimmed).map_err(|_| {
            CliError::usage(
                "standard input is not a JSON object with access_token and refresh_token",
            )
        })?;
        let field = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
        (field("access_token"), field("refresh_token"))
    } else {
        let mut lines = trimmed.lines().map(str::trim).filter(|l| !l.is_empty());
        (
            lines.next().map(str::to_owned),
            lines.next().map(str::to_owned),
        )
    };
    match (access, refresh) {
        (Some(a), Some(r)) if !a.is_empty() && !r.is_empty() => {
            Ok(TokenPair::issued_at(a, r, SystemTime::now()))
        }
        (None, _) | (Some(_), _) => Err(CliError::usage(
            "token set reads the new pair from standard input: {\"access_token\": \"...\", \"refresh_token\": \"...\"} or the two tokens on two lines",
        )),
    }
}

/// `vandar token set`: install a new pair (one just issued in the Vandar dashboard after a
/// lockout). It goes to the profile's secrets file, and with `--redis` into the shared Redis
/// token store every replica reads: each of them adopts it on its next look at the store
/// (within about a second for a replica that cannot refresh).
pub async fn set(ctx: &Ctx, args: &crate::cli::TokenSetArgs) -> Result<(), CliError> {
    use std::io::Read as _;
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| CliError::Other(format!("reading standard input: {e}")))?;
    let pair = read_pair(&input)?;
    let target = match &args.redis {
        Some(url) => into_redis(ctx, args, url, &pair).await?,
        None => {
            ctx.vandar.runtime().set_token_pair(pair.clone()).await?;
            ctx.token_saved_to
                .as_ref()
                .and_then(|s| s.lock().ok().and_then(|g| g.clone()))
                .unwrap_or_else(|| "-".into())
        }
    };
    let j = json!({
        "installed": true,
        "access_expires_at": utc(pair.access_expires_at),
        "refresh_expires_at": utc(pair.refresh_expires_at),
        "saved_to": target,
    });
    emit(
        ctx,
        || {
            record(&[
                (
                    "installed",
                    "yes: every replica sharing the store adopts it".into(),
                ),
                ("access expires", utc(pair.access_expires_at)),
                ("refresh expires", utc(pair.refresh_expires_at)),
                ("saved to", target.clone()),
            ])
        },
        &j,
    )
}

/// `vandar token set --redis URL`: the pair into the shared Redis token store.
#[cfg(feature = "redis")]
async fn into_redis(
    ctx: &Ctx,
    args: &crate::cli::TokenSetArgs,
    url: &str,
    pair: &TokenPair,
) -> Result<String, CliError> {
    let pair = pair.clone();
    let business = ctx.settings.business.clone().ok_or_else(|| {
        CliError::usage("--redis needs the business (--business or the profile's business)")
    })?;
    let conn = vandar::redis::RedisConnection::open(url)
        .map_err(|e| CliError::Other(format!("Redis: {e}")))?;
    let account = vandar::redis::Account::new(&business, &args.account_base_url)
        .map_err(|e| CliError::usage(format!("--redis: {e}")))?;
    let mut store = vandar::redis::RedisTokenStore::new(conn, &args.namespace, &account)
        .map_err(|e| CliError::Other(format!("Redis: {e}")))?;
    if let Ok(key) = std::env::var("VANDAR_REDIS_SEALING_KEY") {
        let key = vandar::redis::SealingKey::from_base64(&args.sealing_key_name, &key)
            .map_err(|e| CliError::usage(format!("VANDAR_REDIS_SEALING_KEY: {e}")))?;
        store = store.with_sealing_key(key);
    }
    // The runtime talks to the account's environment, so the record it writes names that
    // environment (a runtime of another one refuses it).
    let runtime = vandar::Runtime::new(
        vandar::Config::builder()
            .all_hosts(&args.account_base_url)
            .token_store(store)
            .build()
            .map_err(|e| CliError::Other(e.to_string()))?,
    )
    .map_err(|e| CliError::Other(e.to_string()))?;
    runtime.set_token_pair(pair).await?;
    Ok(format!(
        "Redis token store (namespace {}, business {business})",
        args.namespace
    ))
}

/// Without the `redis` feature, `--redis` says how to get a build that has it.
#[cfg(not(feature = "redis"))]
async fn into_redis(
    _ctx: &Ctx,
    _args: &crate::cli::TokenSetArgs,
    _url: &str,
    _pair: &TokenPair,
) -> Result<String, CliError> {
    Err(CliError::usage(
        "--redis: this build of vandar has no Redis support; install one with \
         `cargo install --path crates/vandar-cli --profile dist --features redis`",
    ))
}
