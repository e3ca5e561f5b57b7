//! `vandar sanbod ...`: the OAuth steps (consent page, code exchange, client credentials,
//! revoke), transfers and the statement, through the typed Sanbod client
//! (`vandar::sanbod::Client`: `authorize_url`, `token`, `revoke`, `normal_transfer`,
//! `ach_transfer`, `rtgs_transfer`, `statement`). Tokens are kept in the secrets file under
//! `sanbod_tokens.<name>` and never printed.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use vandar::Secret;
use vandar::domain::{Iban, RialString};
use vandar::sanbod::OAuthToken;
use vandar::sanbod::types::{
    AchTransferRequest, AchTransferRequestSourceDepositNumber, AuthorizationCodeGrant,
    AuthorizationCodeGrantGrantType, AuthorizeRequest, AuthorizeRequestClientId,
    AuthorizeRequestResponseType, ClientCredentialsGrant, ClientCredentialsGrantGrantType,
    NormalTransferRequest, NormalTransferRequestDestinationDepositNumber,
    NormalTransferRequestSourceDepositNumber, RevokeRequest, RtgsTransferRequest,
    RtgsTransferRequestSourceDepositNumber, StatementRequest, StatementRequestDepositNumber,
    TokenRequest,
};

use crate::cli::{SanbodTransfer, TransferKind};
use crate::context::Ctx;
use crate::error::CliError;
use crate::output::{Unit, object_record, record};
use crate::workflows::{as_json, build, check_url, emit, flag, parse_flag, parse_rial, table_of};

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

/// `vandar sanbod authorize`: prints the consent page (the 302's `Location`, through
/// `sanbod::Client::authorize_url`).
pub async fn authorize(
    ctx: &Ctx,
    provider: &str,
    scope: &[String],
    redirect_uri: &str,
    state: Option<&str>,
) -> Result<(), CliError> {
    let client_id = client_id(ctx)?;
    // checked, and sent exactly as given (the bank compares it with the registered one)
    check_url("redirect-uri", redirect_uri)?;
    let body = AuthorizeRequest::builder()
        .client_id(
            AuthorizeRequestClientId::try_from(client_id.as_str())
                .map_err(|e| CliError::usage(format!("the Sanbod client id: {e}")))?,
        )
        .provider_code(non_empty("provider", provider)?)
        .redirect_uri(Some(redirect_uri.to_owned()))
        .response_type(AuthorizeRequestResponseType::Code)
        .scope(scopes(scope)?)
        .state(state.map(str::to_owned));
    let body = build::<AuthorizeRequest, _>(body)?;
    let location = ctx.vandar.sanbod().authorize_url(body).await?.to_string();
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

/// A flag that must not be empty.
fn non_empty(name: &str, value: &str) -> Result<String, CliError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(flag(name, "must not be empty"));
    }
    Ok(v.to_owned())
}

/// The `--scope` values (at least one, none empty).
fn scopes(scope: &[String]) -> Result<Vec<String>, CliError> {
    if scope.is_empty() {
        return Err(CliError::usage("--scope is needed"));
    }
    scope.iter().map(|s| non_empty("scope", s)).collect()
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
    let body: TokenRequest = match (code, client_credentials) {
        (Some(code), false) => build::<AuthorizationCodeGrant, _>(
            AuthorizationCodeGrant::builder()
                .code(OAuthToken::new(non_empty("code", code)?))
                .grant_type(AuthorizationCodeGrantGrantType::AuthorizationCode),
        )?
        .into(),
        (None, true) => {
            let provider = provider.ok_or_else(|| CliError::usage("--provider is needed"))?;
            build::<ClientCredentialsGrant, _>(
                ClientCredentialsGrant::builder()
                    .grant_type(ClientCredentialsGrantGrantType::ClientCredentials)
                    .provider_code(non_empty("provider", provider)?)
                    .scope(scopes(scope)?),
            )?
            .into()
        }
        _ => return Err(CliError::usage("give --code or --client-credentials")),
    };
    let answer = ctx.vandar.sanbod().token().body(body).send().await?;
    let access = answer
        .access_token
        .as_ref()
        .map(OAuthToken::expose)
        .ok_or_else(|| CliError::Other("the token answer has no access_token".into()))?;
    let expires_at = now_unix().saturating_add(
        answer
            .expires_in
            .and_then(|e| u64::try_from(e.get()).ok())
            .unwrap_or(3600),
    );
    // the token answer names no scope (RFC 6749 allows leaving it out): the asked ones are kept
    let kept = json!({
        "access_token": access,
        "refresh_token": answer.refresh_token.as_ref().map(OAuthToken::expose),
        "expires_at": expires_at,
        "scope": scope,
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

/// The Sanbod client that sends the kept token of `user`.
fn client_as(ctx: &Ctx, user: &str) -> Result<vandar::sanbod::Client, CliError> {
    Ok(ctx.vandar.sanbod().with_bearer(kept_token(ctx, user)?))
}

/// The receiver's name and the description PAYA and SATNA need.
fn receiver(a: &SanbodTransfer) -> Result<(String, String, String), CliError> {
    let need = |name: &str, v: &Option<String>| {
        v.as_deref()
            .ok_or_else(|| {
                CliError::usage(format!("--{name} is needed for a {:?} transfer", a.kind))
            })
            .and_then(|v| non_empty(name, v))
    };
    Ok((
        need("first-name", &a.first_name)?,
        need("last-name", &a.last_name)?,
        need("description", &a.description)?,
    ))
}

/// `vandar sanbod transfer normal|paya|satna` (typed `normal_transfer`, `ach_transfer`,
/// `rtgs_transfer`; never retried).
pub async fn transfer(ctx: &Ctx, a: &SanbodTransfer) -> Result<(), CliError> {
    let amount = RialString::from(parse_rial("amount", &a.amount)?);
    let from = &a.from_deposit;
    enum Body {
        Normal(NormalTransferRequest),
        Paya(AchTransferRequest),
        Satna(RtgsTransferRequest),
    }
    // PAYA and SATNA take the same fields under their own types (and IBAN field name)
    macro_rules! interbank {
        ($request:ident, $source:ident, $iban:ident) => {{
            let (first, last, description) = receiver(a)?;
            build::<$request, _>(
                $request::builder()
                    .source_deposit_number(parse_flag::<$source>("from-deposit", from)?)
                    .$iban(parse_flag::<Iban>("to", &a.to)?)
                    .transfer_amount(amount)
                    .receiver_first_name(first)
                    .receiver_last_name(last)
                    .description(description),
            )?
        }};
    }
    let body = match a.kind {
        TransferKind::Normal => {
            if a.first_name.is_some() || a.last_name.is_some() {
                tracing::info!("--first-name/--last-name are for PAYA and SATNA; not sent");
            }
            Body::Normal(build::<NormalTransferRequest, _>(
                NormalTransferRequest::builder()
                    .source_deposit_number(parse_flag::<NormalTransferRequestSourceDepositNumber>(
                        "from-deposit",
                        from,
                    )?)
                    .destination_deposit_number(parse_flag::<
                        NormalTransferRequestDestinationDepositNumber,
                    >("to", &a.to)?)
                    .transfer_amount(amount),
            )?)
        }
        TransferKind::Paya => Body::Paya(interbank!(
            AchTransferRequest,
            AchTransferRequestSourceDepositNumber,
            iban
        )),
        TransferKind::Satna => Body::Satna(interbank!(
            RtgsTransferRequest,
            RtgsTransferRequestSourceDepositNumber,
            destination_iban
        )),
    };
    let client = client_as(ctx, &a.user)?;
    ctx.confirm(&format!(
        "Transfer {amount:#} ({:?}) from deposit {} to {}?",
        a.kind, a.from_deposit, a.to
    ))?;
    // sent once, each through its own typed operation; the answer printed as JSON
    macro_rules! send_once {
        ($operation:ident, $body:expr) => {
            client
                .$operation()
                .body($body)
                .send()
                .await
                .map(|r| as_json(&r))
        };
    }
    let sent = match body {
        Body::Normal(b) => send_once!(normal_transfer, b),
        Body::Paya(b) => send_once!(ach_transfer, b),
        Body::Satna(b) => send_once!(rtgs_transfer, b),
    };
    match sent {
        Ok(answer) => emit(
            ctx,
            || format!("transfer sent\n{}", object_record(&answer, &[], Unit::Rial)),
            &answer,
        ),
        Err(e) if e.is_outcome_unknown() => Err(CliError::OutcomeUnknown(format!(
            "outcome unknown: the transfer's answer was lost ({e}). Check the account statement (`vandar sanbod statement`) or the PAYA/SATNA report (`vandar call sanbod:ach_report` / `sanbod:rtgs_report`) before sending it again"
        ))),
        Err(e) => Err(e.into()),
    }
}

/// `vandar sanbod statement` (typed `statement`).
pub async fn statement(ctx: &Ctx, deposit: &str, user: &str) -> Result<(), CliError> {
    let body = StatementRequest::builder().deposit_number(parse_flag::<
        StatementRequestDepositNumber,
    >("deposit", deposit)?);
    let answer = client_as(ctx, user)?.statement().body(body).send().await?;
    let answer = as_json(&answer);
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
        .vandar
        .sanbod()
        .revoke()
        .body(RevokeRequest::builder().access_token(OAuthToken::from(token)))
        .send()
        .await?;
    let answer = as_json(&answer);
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
