//! `vandar token refresh|status`.

use std::time::{Duration, SystemTime};

use serde_json::json;
use vandar::TokenPair;

use crate::api::Product;
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
        let due = p.access_expires_at <= now + Duration::from_secs(3600)
            || p.refresh_expires_at <= now + Duration::from_secs(3600);
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

/// `vandar token refresh`: rotate the pair now (`refresh_token`, never retried) and save the
/// new pair through the runtime's token store (the secrets file it came from).
pub async fn refresh(ctx: &Ctx) -> Result<(), CliError> {
    if !matches!(ctx.secrets.token, TokenSource::Pair(..)) {
        return Err(CliError::usage(
            "no refresh token configured: set VANDAR_REFRESH_TOKEN or `refresh_token` in the secrets file",
        ));
    }
    let pair = ctx
        .vandar
        .runtime()
        .token_pair()
        .await?
        .ok_or_else(|| CliError::usage("no token pair"))?;
    let body = json!({"refreshtoken": pair.refresh_token.expose()});
    let answer = match ctx
        .call(Product::Core, "refresh_token", &[], &[], Some(&body))
        .await
    {
        Err(CliError::Sdk(e)) if e.is_outcome_unknown() => {
            return Err(CliError::OutcomeUnknown(
                "the refresh answer was lost: Vandar may have rotated the pair, and the old refresh token may no longer work. Run a command (e.g. `vandar balance`); if it fails with 401, issue a new pair in the Vandar dashboard".into(),
            ));
        }
        other => other?,
    };
    let field = |k: &str| {
        answer
            .get(k)
            .or_else(|| answer.get("data").and_then(|d| d.get(k)))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let (Some(access), Some(refresh)) = (field("access_token"), field("refresh_token")) else {
        return Err(CliError::Other(
            "the refresh answer has no access_token/refresh_token".into(),
        ));
    };
    let now = SystemTime::now();
    let expires_in = answer
        .get("expires_in")
        .and_then(|v| v.as_u64())
        .map_or(vandar_runtime::ACCESS_TOKEN_LIFETIME, Duration::from_secs);
    let new = TokenPair::new(
        access,
        refresh,
        now + expires_in,
        now + vandar_runtime::REFRESH_TOKEN_LIFETIME,
    );
    ctx.vandar.runtime().set_token_pair(new.clone()).await?;
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
