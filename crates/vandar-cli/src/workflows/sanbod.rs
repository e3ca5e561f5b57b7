//! `vandar sanbod ...`: the OAuth steps (consent page, code exchange, client credentials,
//! revoke), transfers and the statement. Tokens are kept in the secrets file under
//! `sanbod_tokens.<name>` and never printed.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use vandar::Secret;

use crate::api::{self, Product};
use crate::cli::{SanbodTransfer, TransferKind};
use crate::context::Ctx;
use crate::error::CliError;
use crate::output::{Unit, object_record, record};
use crate::workflows::{emit, parse_rial, put, table_of};

fn client_id(ctx: &Ctx) -> Result<String, CliError> {
    ctx.secrets
        .sanbod_client
        .as_ref()
        .map(|(id, _, _)| id.clone())
        .ok_or_else(|| {
            CliError::usage(
                "no Sanbod client: set SANBOD_CLIENT_ID and SANBOD_CLIENT_SECRET or `sanbod_client_id`/`sanbod_client_secret` in the secrets file",
            )
        })
}

/// `vandar sanbod authorize`: prints the consent page (the 302's `Location`).
pub async fn authorize(
    ctx: &Ctx,
    provider: &str,
    scope: &[String],
    redirect_uri: &str,
    state: Option<&str>,
) -> Result<(), CliError> {
    let mut body = json!({
        "client_id": client_id(ctx)?,
        "provider_code": provider,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": scope,
    });
    put(&mut body, "state", state);
    match ctx
        .call(Product::Sanbod, "authorize", &[], &[], Some(&body))
        .await
    {
        Err(CliError::Sdk(vandar::Error::Redirect {
            location: Some(location),
            ..
        })) => {
            let j = json!({"consent_url": location});
            emit(
                ctx,
                || {
                    format!(
                        "open this page in the account holder's browser:\n{location}\nthen run `vandar sanbod token --code <code>` with the code of the callback\n"
                    )
                },
                &j,
            )
        }
        Ok(answer) => emit(ctx, || object_record(&answer, &[], Unit::Rial), &answer),
        Err(e) => Err(e),
    }
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `vandar sanbod token`: exchange a consent code, or get a client-credentials token; keep it.
pub async fn token(
    ctx: &Ctx,
    code: Option<&str>,
    client_credentials: bool,
    scope: &[String],
    provider: Option<&str>,
    user: &str,
) -> Result<(), CliError> {
    client_id(ctx)?;
    let body = match (code, client_credentials) {
        (Some(code), false) => json!({"grant_type": "authorization_code", "code": code}),
        (None, true) => {
            let provider = provider.ok_or_else(|| CliError::usage("--provider is needed"))?;
            if scope.is_empty() {
                return Err(CliError::usage("--scope is needed"));
            }
            json!({"grant_type": "client_credentials", "scope": scope, "provider_code": provider})
        }
        _ => return Err(CliError::usage("give --code or --client-credentials")),
    };
    let answer = ctx
        .call(Product::Sanbod, "token", &[], &[], Some(&body))
        .await?;
    let access = answer
        .get("access_token")
        .and_then(Value::as_str)
        .ok_or_else(|| CliError::Other("the token answer has no access_token".into()))?;
    let expires_at = now_unix()
        + answer
            .get("expires_in")
            .and_then(Value::as_u64)
            .unwrap_or(3600);
    let kept = json!({
        "access_token": access,
        "refresh_token": answer.get("refresh_token"),
        "expires_at": expires_at,
        "scope": answer.get("scope").cloned().unwrap_or_else(|| json!(scope)),
    });
    let place = match &ctx.secrets.file {
        Some(file) => {
            file.update(|m| {
                let tokens = m
                    .entry("sanbod_tokens")
                    .or_insert_with(|| Value::Object(Default::default()));
                if let Some(t) = tokens.as_object_mut() {
                    t.insert(user.to_owned(), kept.clone());
                }
            })?;
            format!("secrets file {}", file.path.display())
        }
        None => "nowhere (the in-process sandbox ends with this command)".into(),
    };
    let scope_text = crate::output::plain(&kept["scope"]);
    let j = json!({"user": user, "kept_in": place, "scope": kept["scope"], "expires_in": expires_at.saturating_sub(now_unix())});
    emit(
        ctx,
        || {
            record(&[
                ("token", format!("kept as `{user}`")),
                ("scope", scope_text.clone()),
                ("kept in", place.clone()),
            ])
        },
        &j,
    )
}

/// The kept access token of `user`.
fn kept_token(ctx: &Ctx, user: &str) -> Result<Secret, CliError> {
    let file = ctx.secrets.file.as_ref().ok_or_else(|| {
        CliError::usage("no kept Sanbod token: the in-process sandbox keeps none between commands")
    })?;
    let stored = file.read()?.unwrap_or_default();
    let t = stored
        .get("sanbod_tokens")
        .and_then(|t| t.get(user))
        .ok_or_else(|| {
            CliError::usage(format!(
                "no Sanbod token kept as `{user}`: run `vandar sanbod token` first"
            ))
        })?;
    if t.get("expires_at")
        .and_then(Value::as_u64)
        .is_some_and(|e| e <= now_unix())
    {
        tracing::warn!(user, "the kept Sanbod token has expired");
    }
    t.get("access_token")
        .and_then(Value::as_str)
        .map(Secret::new)
        .ok_or_else(|| CliError::usage(format!("the kept Sanbod token `{user}` is empty")))
}

async fn call_as(ctx: &Ctx, user: &str, id: &str, body: &Value) -> Result<Value, CliError> {
    let binding = Product::Sanbod
        .binding(&ctx.vandar)
        .with_bearer(kept_token(ctx, user)?);
    let op = api::op(Product::Sanbod, id)?;
    api::call(&binding, &op, &[], &[], Some(body)).await
}

/// `vandar sanbod transfer normal|paya|satna`.
pub async fn transfer(ctx: &Ctx, a: &SanbodTransfer) -> Result<(), CliError> {
    let amount = parse_rial(&a.amount)?;
    let (id, mut body) = match a.kind {
        TransferKind::Normal => (
            "normal_transfer",
            json!({"sourceDepositNumber": a.from_deposit, "destinationDepositNumber": a.to}),
        ),
        TransferKind::Paya => (
            "ach_transfer",
            json!({"sourceDepositNumber": a.from_deposit, "iban": a.to}),
        ),
        TransferKind::Satna => (
            "rtgs_transfer",
            json!({"sourceDepositNumber": a.from_deposit, "destinationIban": a.to}),
        ),
    };
    body["transferAmount"] = json!(amount.get().to_string());
    put(&mut body, "receiverFirstName", a.first_name.as_deref());
    put(&mut body, "receiverLastName", a.last_name.as_deref());
    put(&mut body, "description", a.description.as_deref());
    ctx.confirm(&format!(
        "Transfer {amount:#} ({:?}) from deposit {} to {}?",
        a.kind, a.from_deposit, a.to
    ))?;
    match call_as(ctx, &a.user, id, &body).await {
        Ok(answer) => emit(
            ctx,
            || format!("transfer sent\n{}", object_record(&answer, &[], Unit::Rial)),
            &answer,
        ),
        Err(CliError::Sdk(e)) if e.is_outcome_unknown() => Err(CliError::OutcomeUnknown(format!(
            "outcome unknown: the transfer's answer was lost ({e}). Check the account statement (`vandar sanbod statement`) or the PAYA/SATNA report (`vandar call sanbod:ach_report` / `sanbod:rtgs_report`) before sending it again"
        ))),
        Err(e) => Err(e),
    }
}

/// `vandar sanbod statement`.
pub async fn statement(ctx: &Ctx, deposit: &str, user: &str) -> Result<(), CliError> {
    let answer = call_as(ctx, user, "statement", &json!({"depositNumber": deposit})).await?;
    emit(
        ctx,
        || {
            let list: Vec<&Value> = answer
                .get("message")
                .and_then(Value::as_array)
                .map(|a| a.iter().collect())
                .unwrap_or_default();
            let cols: Vec<String> = list
                .first()
                .and_then(|i| i.as_object())
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            table_of(
                &list,
                &cols.iter().map(String::as_str).collect::<Vec<_>>(),
                &[
                    ("transferAmount", crate::output::Unit::Rial),
                    ("balance", crate::output::Unit::Rial),
                ],
                ctx.out_unit(Unit::Rial),
            )
        },
        &answer,
    )
}

/// `vandar sanbod revoke`: end a kept token and forget it.
pub async fn revoke(ctx: &Ctx, user: &str) -> Result<(), CliError> {
    let token = kept_token(ctx, user)?;
    let answer = ctx
        .call(
            Product::Sanbod,
            "revoke",
            &[],
            &[],
            Some(&json!({"access_token": token.expose()})),
        )
        .await?;
    if let Some(file) = &ctx.secrets.file {
        file.update(|m| {
            if let Some(t) = m.get_mut("sanbod_tokens").and_then(Value::as_object_mut) {
                t.remove(user);
            }
        })?;
    }
    emit(
        ctx,
        || format!("token `{user}` revoked and forgotten\n"),
        &answer,
    )
}
