//! `vandar mandate ...`: direct debit mandates and withdrawals (amounts in Rial).

use serde_json::{Value, json};
use vandar::domain::{ApiDate, DateFormat};

use crate::api::Product;
use crate::cli::MandateCreate;
use crate::context::Ctx;
use crate::error::CliError;
use crate::output::{Unit, object_record, record};
use crate::workflows::{data, emit, items, new_track_id, parse_rial, put, table_of};

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

/// `vandar mandate banks`.
pub async fn banks(ctx: &Ctx) -> Result<(), CliError> {
    let answer = ctx
        .call(Product::Subscription, "list_active_banks", &[], &[], None)
        .await?;
    let list = answer
        .pointer("/result/banks")
        .or_else(|| data(&answer).get("banks"))
        .unwrap_or_else(|| data(&answer));
    emit(
        ctx,
        || {
            let items = items(list);
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
        list,
    )
}

/// `vandar mandate create`: prints the bank page the customer must open.
pub async fn create(ctx: &Ctx, a: &MandateCreate) -> Result<(), CliError> {
    let limit = parse_rial(&a.limit)?;
    let expiration = ApiDate::parse(&a.expiration_date)
        .and_then(|d| d.format_as(DateFormat::Gregorian))
        .map_err(|e| CliError::usage(format!("--expiration-date: {e}")))?;
    let mut body = json!({
        "bank_code": a.bank_code,
        "mobile": a.mobile,
        "limit": limit.get(),
        "count": a.count,
        "expiration_date": expiration,
        "callback_url": a.callback_url,
    });
    put(&mut body, "national_code", a.national_code.as_deref());
    put(&mut body, "name", a.name.as_deref());
    put(&mut body, "wage_type", a.wage_type.as_deref());
    let answer = ctx
        .call(
            Product::Subscription,
            "store_authorization",
            &[],
            &[],
            Some(&body),
        )
        .await?;
    let token = [
        "/result/authorization/token",
        "/data/authorization/token",
        "/result/token",
        "/data/token",
        "/token",
    ]
    .iter()
    .find_map(|p| answer.pointer(p))
    .and_then(Value::as_str)
    .ok_or_else(|| CliError::Other("the answer has no mandate token".into()))?
    .to_owned();
    let page = Product::Subscription
        .binding(&ctx.vandar)
        .page_url("authorization_page", &[("token", &token)])?
        .to_string();
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

/// `vandar mandate verify`.
pub async fn verify(ctx: &Ctx, id: &str) -> Result<(), CliError> {
    let answer = ctx
        .call(
            Product::Subscription,
            "verify_authorization",
            &[("authorization_id", id)],
            &[],
            None,
        )
        .await?;
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

/// `vandar mandate list`.
pub async fn list(ctx: &Ctx) -> Result<(), CliError> {
    let answer = ctx
        .call(Product::Subscription, "list_authorizations", &[], &[], None)
        .await?;
    let d = data(&answer);
    let list = d.get("authorizations").unwrap_or(d);
    emit(
        ctx,
        || {
            table_of(
                &items(list),
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
        list,
    )
}

/// `vandar mandate show`.
pub async fn show(ctx: &Ctx, id: &str) -> Result<(), CliError> {
    let answer = ctx
        .call(
            Product::Subscription,
            "search_authorization",
            &[("authorization_id", id)],
            &[],
            None,
        )
        .await?;
    let m = inner(&answer, "authorization");
    emit(ctx, || object_record(m, UNITS, ctx.out_unit(Unit::Rial)), m)
}

/// `vandar mandate revoke`.
pub async fn revoke(ctx: &Ctx, id: &str) -> Result<(), CliError> {
    ctx.confirm(&format!(
        "Revoke mandate {id}? No withdrawal can be made under it afterwards"
    ))?;
    let answer = ctx
        .call(
            Product::Subscription,
            "revoke_authorization",
            &[("authorization_id", id)],
            &[],
            None,
        )
        .await?;
    emit(ctx, || format!("mandate {id} revoked\n"), &answer)
}

/// `vandar mandate withdraw`: sent once; after a lost answer it is looked up by track id.
pub async fn withdraw(
    ctx: &Ctx,
    mandate: &str,
    amount: &str,
    track_id: Option<&str>,
) -> Result<(), CliError> {
    let amount = parse_rial(amount)?;
    let (track_id, made) = match track_id {
        Some(t) => (t.to_owned(), false),
        None => (new_track_id(), true),
    };
    ctx.confirm(&format!(
        "Withdraw {amount:#} under mandate {mandate}, track id {track_id}?"
    ))?;
    let body = json!({
        "authorization_id": mandate,
        "amount": amount.get().to_string(),
        "track_id": track_id,
    });
    let answer = match ctx
        .call(
            Product::Subscription,
            "store_withdrawal",
            &[],
            &[],
            Some(&body),
        )
        .await
    {
        Ok(a) => a,
        Err(CliError::Sdk(e)) if e.is_outcome_unknown() => {
            tracing::info!(error = %e, "store_withdrawal outcome unknown; looking it up");
            return match ctx
                .call(
                    Product::Subscription,
                    "get_withdrawal_by_track_id",
                    &[("track_id", &track_id)],
                    &[],
                    None,
                )
                .await
            {
                Ok(found) => {
                    let w = inner(&found, "withdrawal").clone();
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
        Err(e) => return Err(e),
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
    let answer = match (id, track_id) {
        (Some(id), None) => {
            ctx.call(
                Product::Subscription,
                "get_withdrawal",
                &[("withdrawal_id", id)],
                &[],
                None,
            )
            .await?
        }
        (None, Some(t)) => {
            ctx.call(
                Product::Subscription,
                "get_withdrawal_by_track_id",
                &[("track_id", t)],
                &[],
                None,
            )
            .await?
        }
        _ => {
            return Err(CliError::usage(
                "give a withdrawal id or --track-id (one of them)",
            ));
        }
    };
    let w = inner(&answer, "withdrawal");
    emit(ctx, || object_record(w, UNITS, ctx.out_unit(Unit::Rial)), w)
}
