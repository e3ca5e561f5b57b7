//! `vandar mandate ...`: direct debit mandates and withdrawals (amounts in Rial), through the
//! typed direct-debit client (`vandar::subscription::Client`). Every flag is parsed into the
//! request's own type (mobile, national code, Rial, Gregorian date, track id, ...) before
//! anything is sent, and a bad one is refused naming the flag.

use serde_json::{Value, json};
use vandar::domain::{Mobile, NationalCode, RialString, TrackId};
use vandar::subscription::types::{
    AuthorizationRequest, AuthorizationRequestBankCode, AuthorizationRequestCallbackUrl,
    GregorianDate, WageType, WithdrawalRequest, WithdrawalRequestAuthorizationId,
};

use crate::cli::MandateCreate;
use crate::context::Ctx;
use crate::error::CliError;
use crate::output::{Unit, object_record, record};
use crate::workflows::{
    as_json, build, check_url, data, emit, flag, items, parse_flag, parse_rial, table_of,
};

const UNITS: &[(&str, Unit)] = &[
    ("limit", Unit::Rial),
    ("daily_limit", Unit::Rial),
    ("amount", Unit::Rial),
];

/// The mandate or withdrawal object of an answer.
fn inner<'a>(v: &'a Value, key: &str) -> &'a Value {
    let d = data(v);
    [key.to_owned(), format!("{key}s")]
        .iter()
        .find_map(|k| d.get(k.as_str()).filter(|x| x.is_object()))
        .unwrap_or(d)
}

/// `vandar mandate banks` (typed `list_active_banks`).
pub async fn banks(ctx: &Ctx) -> Result<(), CliError> {
    let answer = ctx
        .vandar
        .subscription()
        .list_active_banks()
        .business(ctx.business()?)
        .send()
        .await?;
    let banks: Vec<Value> = answer
        .result
        .map(|r| r.banks.iter().map(as_json).collect())
        .unwrap_or_default();
    let list = Value::Array(banks);
    emit(
        ctx,
        || {
            let items = items(&list);
            let cols: Vec<String> = items
                .first()
                .and_then(|i| i.as_object())
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            table_of(
                &items,
                &cols.iter().map(String::as_str).collect::<Vec<_>>(),
                UNITS,
                ctx.out_unit(Unit::Rial),
            )
        },
        &list,
    )
}

/// The typed mandate request of `vandar mandate create`; a bad flag is named.
fn mandate_request(a: &MandateCreate) -> Result<AuthorizationRequest, CliError> {
    let limit = parse_rial("limit", &a.limit)?;
    check_url("callback-url", &a.callback_url)?;
    let expiration: GregorianDate =
        GregorianDate::parse(&a.expiration_date).map_err(|e| flag("expiration-date", e))?;
    let body = AuthorizationRequest::builder()
        .bank_code(parse_flag::<AuthorizationRequestBankCode>(
            "bank-code",
            &a.bank_code,
        )?)
        .mobile(parse_flag::<Mobile>("mobile", &a.mobile)?)
        .limit(limit)
        .count(i64::from(a.count))
        .expiration_date(expiration)
        .callback_url(parse_flag::<AuthorizationRequestCallbackUrl>(
            "callback-url",
            &a.callback_url,
        )?)
        .national_code(
            a.national_code
                .as_deref()
                .map(|n| parse_flag::<NationalCode>("national-code", n))
                .transpose()?,
        )
        .name(a.name.clone())
        .wage_type(
            a.wage_type
                .as_deref()
                .map(|w| {
                    parse_flag::<WageType>("wage-type", w).map_err(|e| {
                        CliError::usage(format!("{e} (APPLICATION_SELF or APPLICATION_USER)"))
                    })
                })
                .transpose()?,
        );
    build::<AuthorizationRequest, _>(body)
}

/// `vandar mandate create` (typed `store_authorization`): prints the bank page the customer
/// must open.
pub async fn create(ctx: &Ctx, a: &MandateCreate) -> Result<(), CliError> {
    let body = mandate_request(a)?;
    let limit = body.limit;
    let dd = ctx.vandar.subscription();
    let answer = dd
        .store_authorization()
        .business(ctx.business()?)
        .body(body)
        .send()
        .await?;
    let token = answer.result.authorization.token;
    let page = dd.authorization_page_url(&token)?.to_string();
    let j = json!({"token": token, "bank_page_url": page});
    emit(
        ctx,
        || {
            record(&[
                ("token", token.clone()),
                ("limit", format!("{limit:#}")),
                ("bank page", page.clone()),
            ])
        },
        &j,
    )
}

/// `vandar mandate verify` (typed `verify_authorization`).
pub async fn verify(ctx: &Ctx, id: &str) -> Result<(), CliError> {
    let answer = ctx
        .vandar
        .subscription()
        .verify_authorization()
        .business(ctx.business()?)
        .authorization_id(id)
        .send()
        .await?;
    let answer = as_json(&answer);
    let m = inner(&answer, "authorization");
    emit(
        ctx,
        || {
            format!(
                "verified\n{}",
                object_record(m, UNITS, ctx.out_unit(Unit::Rial))
            )
        },
        m,
    )
}

/// `vandar mandate list` (typed `list_authorizations`).
pub async fn list(ctx: &Ctx) -> Result<(), CliError> {
    let page = ctx
        .vandar
        .subscription()
        .list_authorizations()
        .business(ctx.business()?)
        .send()
        .await?;
    let list = Value::Array(page.data.iter().map(as_json).collect());
    emit(
        ctx,
        || {
            table_of(
                &items(&list),
                &[
                    "id",
                    "status",
                    "bank_code",
                    "limit",
                    "count",
                    "expiration_date",
                ],
                UNITS,
                ctx.out_unit(Unit::Rial),
            )
        },
        &list,
    )
}

/// `vandar mandate show` (typed `search_authorization`; its answer is undocumented, so it
/// stays a JSON object).
pub async fn show(ctx: &Ctx, id: &str) -> Result<(), CliError> {
    let answer = ctx
        .vandar
        .subscription()
        .search_authorization()
        .business(ctx.business()?)
        .authorization_id(id)
        .send()
        .await?;
    let answer = as_json(&answer);
    let m = inner(&answer, "authorization");
    emit(ctx, || object_record(m, UNITS, ctx.out_unit(Unit::Rial)), m)
}

/// `vandar mandate revoke` (typed `revoke_authorization`).
pub async fn revoke(ctx: &Ctx, id: &str) -> Result<(), CliError> {
    let business = ctx.business()?;
    ctx.confirm(&format!(
        "Revoke mandate {id}? No withdrawal can be made under it afterwards"
    ))?;
    let answer = ctx
        .vandar
        .subscription()
        .revoke_authorization()
        .business(business)
        .authorization_id(id)
        .send()
        .await?;
    emit(ctx, || format!("mandate {id} revoked\n"), &as_json(&answer))
}

/// One withdrawal, looked up by id or by track id (typed `get_withdrawal` /
/// `get_withdrawal_by_track_id`), as JSON.
async fn find_withdrawal(
    ctx: &Ctx,
    id: Option<&str>,
    track_id: Option<&str>,
) -> Result<Value, CliError> {
    let dd = ctx.vandar.subscription();
    let business = ctx.business()?;
    let answer = match (id, track_id) {
        (Some(id), None) => {
            dd.get_withdrawal()
                .business(business)
                .withdrawal_id(id)
                .send()
                .await?
        }
        (None, Some(t)) => {
            dd.get_withdrawal_by_track_id()
                .business(business)
                .track_id(t)
                .send()
                .await?
        }
        _ => {
            return Err(CliError::usage(
                "give a withdrawal id or --track-id (one of them)",
            ));
        }
    };
    Ok(inner(&as_json(&answer), "withdrawal").clone())
}

/// `vandar mandate withdraw` (typed `store_withdrawal`): sent once; after a lost answer it is
/// looked up by track id.
pub async fn withdraw(
    ctx: &Ctx,
    mandate: &str,
    amount: &str,
    track_id: Option<&str>,
) -> Result<(), CliError> {
    let business = ctx.business()?;
    let amount = parse_rial("amount", amount)?;
    let (track, made) = match track_id {
        Some(t) => (parse_flag::<TrackId>("track-id", t)?, false),
        None => (TrackId::new(), true),
    };
    let track_id = track.as_str().to_owned();
    let body = WithdrawalRequest::builder()
        .authorization_id(parse_flag::<WithdrawalRequestAuthorizationId>(
            "mandate", mandate,
        )?)
        .amount(RialString::from(amount))
        .track_id(track);
    let body = build::<WithdrawalRequest, _>(body)?;
    ctx.confirm(&format!(
        "Withdraw {amount:#} under mandate {mandate}, track id {track_id}?"
    ))?;
    let sent = ctx
        .vandar
        .subscription()
        .store_withdrawal()
        .business(business)
        .body(body)
        .send()
        .await;
    let answer = match sent {
        Ok(a) => as_json(&a),
        Err(e) if e.is_outcome_unknown() => {
            tracing::info!(error = %e, "store_withdrawal outcome unknown; looking it up");
            return match find_withdrawal(ctx, None, Some(&track_id)).await {
                Ok(w) => {
                    let j = json!({"track_id": track_id, "track_id_made": made, "answer_lost": true, "withdrawal": w});
                    eprintln!("the withdrawal was registered (found by its track id)");
                    emit(
                        ctx,
                        || {
                            format!(
                                "withdrawal registered (its answer was lost; found by track id)\n{}",
                                object_record(&w, UNITS, ctx.out_unit(Unit::Rial))
                            )
                        },
                        &j,
                    )
                }
                Err(_) => Err(CliError::OutcomeUnknown(format!(
                    "outcome unknown: the answer was lost and withdrawal track id {track_id} was not found. Look again with `vandar mandate withdrawal --track-id {track_id}`; retry only with the same --track-id"
                ))),
            };
        }
        Err(e) => return Err(e.into()),
    };
    let w = inner(&answer, "withdrawal");
    let j =
        json!({"track_id": track_id, "track_id_made": made, "answer_lost": false, "withdrawal": w});
    emit(
        ctx,
        || {
            format!(
                "withdrawal registered\ntrack id: {track_id}{}\n{}",
                if made {
                    " (made for this withdrawal; keep it)"
                } else {
                    ""
                },
                object_record(w, UNITS, ctx.out_unit(Unit::Rial))
            )
        },
        &j,
    )
}

/// `vandar mandate withdrawal`.
pub async fn withdrawal(
    ctx: &Ctx,
    id: Option<&str>,
    track_id: Option<&str>,
) -> Result<(), CliError> {
    let w = find_withdrawal(ctx, id, track_id).await?;
    emit(
        ctx,
        || object_record(&w, UNITS, ctx.out_unit(Unit::Rial)),
        &w,
    )
}
