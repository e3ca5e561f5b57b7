//! `vandar settlement create|show|list|cancel`.
//!
//! `create` is sent once (the SDK never retries it). When its answer is lost
//! (`err.is_outcome_unknown()`), nothing is said until the settlement has been looked up by its
//! track id (the settlement list, then the statement), a few times over a few seconds: found, it
//! is printed as created; not found, the exit code is 4 with how to go on safely (the same track
//! id cannot pay twice).
//!
//! Every command goes through the typed business client (`vandar::core::Client`): `create`,
//! `cancel` and the IBAN inquiry of the prompt decode their documented answers; the reads
//! `list`, `show` and the look-up by track id send typed, checked requests and keep the answer
//! whole (`send_as::<Value>()`), because the documented types drop fields these commands print
//! and match on. `ListedSettlement` (the v2.1 list and show answer, as S004 documents it) has
//! no `track_id`, `iban`, `transaction_id`, `is_instant`, `type`, `settlement_time` or `wage`,
//! and the statement's `Transaction` has no `track_id`; with them gone, `settlement show
//! <track-id>` could not find the track id the CLI told you to keep, and the list's IBAN and
//! TRACK_ID columns would be empty.

use std::io::IsTerminal as _;
use std::num::NonZeroU64;
use std::time::Duration;

use serde_json::{Value, json};
use vandar::core::types::{
    SettlementRequest, SettlementRequestDescription, SettlementRequestPaymentNumber,
};
use vandar::domain::{Iban, Toman, TrackId};

use crate::cli::SettlementCreate;
use crate::context::Ctx;
use crate::error::CliError;
use crate::output::{Unit, money, object_record, record};
use crate::workflows::{
    as_json, build, check_url, data, emit, flag, items, parse_flag, parse_toman, table_of,
};

/// Units of the v3 store answer (its `wallet` is Rial, like `amount`: see the store answer's
/// `x-contradictions` in spec/vandar-core.yaml).
const STORED_UNITS: &[(&str, Unit)] = &[
    ("amount", Unit::Rial),
    ("amount_toman", Unit::Toman),
    ("wage_toman", Unit::Toman),
    ("wallet", Unit::Rial),
];

/// Units of the v2.1 list and show answers (Toman).
const LISTED_UNITS: &[(&str, Unit)] = &[("amount", Unit::Toman), ("wallet", Unit::Toman)];

/// The unit of `vandar settlement` output unless `--unit` says otherwise: Toman, the unit of
/// `--amount` and of the list.
pub const DEFAULT_UNIT: Unit = Unit::Toman;

/// The fields every printed settlement has (null when the answer had none), so the shape is
/// the same whether it came from the store answer, the list, or a look-up after a lost answer.
const FIELDS: [&str; 13] = [
    "id",
    "transaction_id",
    "status",
    "amount",
    "wage",
    "iban",
    "track_id",
    "is_instant",
    "type",
    "settlement_date",
    "settlement_time",
    "payment_number",
    "description",
];

/// A settlement in the one printed shape: the fixed settlement fields with amounts in `out`, plus `unit`.
pub fn project(s: &Value, units: &[(&str, Unit)], out: Unit) -> Value {
    let n = crate::output::normalize(s, units, out);
    let mut m = serde_json::Map::new();
    for k in FIELDS {
        m.insert(k.into(), n.get(k).cloned().unwrap_or(Value::Null));
    }
    m.insert("unit".into(), Value::from(out.key()));
    Value::Object(m)
}

/// `key: value` lines of a projected settlement (amounts with their unit).
fn settlement_record(p: &Value, out: Unit) -> String {
    object_record(p, &[("amount", out), ("wage", out)], out)
}

/// Pauses between the look-ups after a lost answer.
const LOOKUP_PAUSES: [Duration; 3] = [
    Duration::ZERO,
    Duration::from_secs(1),
    Duration::from_secs(2),
];

/// The IBAN's holder as the API's IBAN inquiry (typed `core:inquiry_iban`) tells it, for the
/// confirmation prompt: `name (bank)`, or why it cannot be told. Asked only when a person is
/// about to confirm on a terminal (the inquiry may be billed).
///
/// The spec documents no body for the inquiry (`Undocumented`, a JSON object): it gets the
/// validated IBAN and a fresh track id, what third-party code sends (the spec's
/// `x-contradictions` note).
pub async fn iban_holder(ctx: &Ctx, iban: &Iban) -> String {
    let mut body = serde_json::Map::new();
    body.insert("iban".into(), Value::String(iban.to_string()));
    body.insert("track_id".into(), Value::String(TrackId::new().to_string()));
    let answer = match ctx.business() {
        Ok(business) => {
            ctx.vandar
                .core()
                .inquiry_iban()
                .business(business)
                .body(vandar::core::types::Undocumented::from(body))
                .send()
                .await
        }
        Err(e) => {
            tracing::info!(error = %e, "IBAN inquiry not asked");
            return "not known (no business to ask for)".into();
        }
    };
    let answer = match answer {
        Ok(a) => as_json(&a),
        Err(e) => {
            tracing::info!(error = %e, "IBAN inquiry failed");
            return "not known (the IBAN inquiry failed; check the IBAN yourself)".into();
        }
    };
    holder_of(data(&answer)).unwrap_or_else(|| "not known (the API did not tell)".into())
}

/// `first last` of each `account_owners[]` item (or its `name`), and `bank_name`.
fn holder_of(d: &Value) -> Option<String> {
    let owners: Vec<String> = d
        .get("account_owners")
        .and_then(Value::as_array)?
        .iter()
        .filter_map(|o| {
            let part = |k: &str| o.get(k).and_then(Value::as_str).map(str::trim);
            match (part("first_name"), part("last_name"), part("name")) {
                (Some(f), Some(l), _) => Some(format!("{f} {l}")),
                (_, _, Some(n)) => Some(n.to_owned()),
                (f, l, None) => f.or(l).map(str::to_owned),
            }
        })
        .filter(|n| !n.is_empty())
        .collect();
    if owners.is_empty() {
        return None;
    }
    let bank = d
        .get("bank_name")
        .and_then(Value::as_str)
        .map(|b| format!(" (bank: {b})"))
        .unwrap_or_default();
    Some(format!("{}{bank}", owners.join(", ")))
}

/// `vandar settlement create`.
pub async fn create(ctx: &Ctx, a: &SettlementCreate) -> Result<(), CliError> {
    let amount: Toman = parse_toman("amount", &a.amount)?;
    if amount.get() <= 0 {
        return Err(flag("amount", "must be above zero"));
    }
    let iban: Iban = parse_flag("iban", &a.iban)?;
    let business = ctx.business()?.to_owned();
    let (track, made) = match &a.track_id {
        Some(t) if !t.trim().is_empty() => (parse_flag::<TrackId>("track-id", t.trim())?, false),
        Some(_) => return Err(CliError::usage("--track-id is empty")),
        None => (TrackId::new(), true),
    };
    let track_id = track.as_str().to_owned();
    let payment_number = a
        .payment_number
        .as_deref()
        .map(|p| parse_flag::<SettlementRequestPaymentNumber>("payment-number", p))
        .transpose()?;
    let description = a
        .description
        .as_deref()
        .map(|d| parse_flag::<SettlementRequestDescription>("description", d))
        .transpose()?;
    if let Some(u) = &a.notify_url {
        check_url("notify-url", u)?;
    }
    let body = SettlementRequest::builder()
        .amount(amount)
        .iban(iban.clone())
        .track_id(track)
        .is_instant(Some(a.instant))
        .notify_url(a.notify_url.clone())
        .payment_number(payment_number)
        .description(description);
    let body = build::<SettlementRequest, _>(body)?;
    // everything is checked: now ask
    if !ctx.yes && std::io::stdin().is_terminal() {
        let holder = iban_holder(ctx, &iban).await;
        ctx.confirm(&format!(
            "Settle {amount:#} ({:#}) from business `{business}`\n  to IBAN {iban}\n  holder: {holder}\n  track id {track_id}{}\nSend it?",
            amount.try_to_rial().unwrap_or_default(),
            if a.instant { ", instant" } else { "" }
        ))?;
    } else {
        ctx.confirm(&format!(
            "settle {amount:#} to IBAN {iban}, track id {track_id}"
        ))?;
    }
    // sent once: the SDK never retries a settlement
    let sent = ctx
        .vandar
        .core()
        .store_settlement()
        .business(business.clone())
        .body(body)
        .send()
        .await;
    let stored = match sent {
        Ok(result) => {
            let answer = as_json(&result);
            let d = data(&answer);
            let s = d.get("settlement").map_or(d, |s| match s {
                Value::Array(a) => a.first().unwrap_or(s),
                other => other,
            });
            s.clone()
        }
        Err(e) if e.is_outcome_unknown() => {
            tracing::info!(error = %e, "store_settlement outcome unknown; looking it up");
            return after_lost_answer(ctx, &track_id, made).await;
        }
        Err(e) => return Err(e.into()),
    };
    let out = ctx.out_unit(DEFAULT_UNIT);
    let mut stored = stored;
    if let Some(m) = stored.as_object_mut() {
        // the store answer names the IBAN by id only: print the one that was sent
        m.entry("iban")
            .or_insert_with(|| Value::String(iban.to_string()));
        if m.get("track_id").is_none_or(Value::is_null) {
            m.insert("track_id".into(), Value::String(track_id.clone()));
        }
    }
    let stored = project(&stored, STORED_UNITS, out);
    let j = json!({"track_id": track_id, "track_id_made": made, "answer_lost": false, "settlement": stored});
    emit(
        ctx,
        || {
            format!(
                "settlement registered\ntrack id: {track_id}{}\n{}",
                if made {
                    " (made for this settlement; keep it: `vandar settlement show <track-id>`)"
                } else {
                    ""
                },
                settlement_record(&stored, out)
            )
        },
        &j,
    )
}

/// Look a settlement up by track id: the settlement list (newest first, a few pages), then the
/// statement (typed requests, answers kept whole: the documented types have no `track_id` to
/// match on, module docs).
pub async fn find_by_track_id(ctx: &Ctx, track_id: &str) -> Result<Option<Value>, CliError> {
    let per_page = NonZeroU64::new(100).unwrap_or(NonZeroU64::MIN);
    for page in (1..=5u64).filter_map(NonZeroU64::new) {
        let answer = settlements_page(ctx, page, per_page).await?;
        let list = data(&answer).get("settlements").unwrap_or(&Value::Null);
        if let Some(found) = items(list)
            .into_iter()
            .find(|s| s.get("track_id").and_then(Value::as_str) == Some(track_id))
        {
            return Ok(Some(found.clone()));
        }
        let last = list.get("last_page").and_then(Value::as_u64).unwrap_or(1);
        if page.get() >= last {
            break;
        }
    }
    let statement = ctx
        .vandar
        .core()
        .list_transactions()
        .business(ctx.business()?)
        .track_id(track_id)
        .send_as::<Value>()
        .await?
        .into_body();
    Ok(items(statement.get("data").unwrap_or(&Value::Null))
        .into_iter()
        .find(|t| t.get("track_id").and_then(Value::as_str) == Some(track_id))
        .cloned())
}

async fn after_lost_answer(ctx: &Ctx, track_id: &str, made: bool) -> Result<(), CliError> {
    let mut last_error = None;
    for pause in LOOKUP_PAUSES {
        tokio::time::sleep(pause).await;
        match find_by_track_id(ctx, track_id).await {
            Ok(Some(found)) => {
                let out = ctx.out_unit(DEFAULT_UNIT);
                let found = project(&found, LISTED_UNITS, out);
                let j = json!({"track_id": track_id, "track_id_made": made, "answer_lost": true, "settlement": found});
                eprintln!("the settlement was registered (found by its track id)");
                return emit(
                    ctx,
                    || {
                        format!(
                            "settlement registered (its answer was lost; found by track id)\n{}",
                            settlement_record(&found, out)
                        )
                    },
                    &j,
                );
            }
            Ok(None) => last_error = None,
            Err(e) => last_error = Some(e.to_string()),
        }
    }
    Err(CliError::OutcomeUnknown(match last_error {
        Some(e) => format!(
            "outcome unknown: the answer was lost and the look-up by track id {track_id} failed ({e}). Look again with `vandar settlement list`; to try again, pass the same --track-id {track_id} (Vandar refuses a repeated track id, so it cannot pay twice)"
        ),
        None => format!(
            "outcome unknown: the answer was lost and no settlement with track id {track_id} was found (yet). Look again with `vandar settlement list`; to try again, pass the same --track-id {track_id} (Vandar refuses a repeated track id, so it cannot pay twice)"
        ),
    }))
}

/// `vandar settlement show <id-or-track-id>`: by settlement id; when no settlement has that
/// id (HTTP 404 or 422), by track id (the settlement list, then the statement), so the track id
/// the CLI told you to keep works. The answer is kept whole: the typed `ListedSettlement`
/// drops the `track_id` and `iban` this prints (module docs).
pub async fn show(ctx: &Ctx, id: &str) -> Result<(), CliError> {
    let by_id = ctx
        .vandar
        .core()
        .get_settlement()
        .business(ctx.business()?)
        .settlement(id)
        .send_as::<Value>()
        .await
        .map(vandar::Answer::into_body)
        .map_err(CliError::from);
    let found = match by_id {
        Ok(answer) => {
            let d = data(&answer);
            d.get("settlement").unwrap_or(d).clone()
        }
        Err(CliError::Sdk(e))
            if e.api_error()
                .is_some_and(|a| matches!(a.http_status, 404 | 422)) =>
        {
            tracing::info!("no settlement with id {id}; looking it up by track id");
            find_by_track_id(ctx, id).await?.ok_or_else(|| {
                CliError::usage(format!(
                    "no settlement has the id or the track id `{id}` (see `vandar settlement list`)"
                ))
            })?
        }
        Err(e) => return Err(e),
    };
    let out = ctx.out_unit(DEFAULT_UNIT);
    let p = project(&found, LISTED_UNITS, out);
    emit(ctx, || settlement_record(&p, out), &p)
}

/// One page of the settlement list, typed request, answer kept whole (module docs).
async fn settlements_page(
    ctx: &Ctx,
    page: NonZeroU64,
    per_page: NonZeroU64,
) -> Result<Value, CliError> {
    Ok(ctx
        .vandar
        .core()
        .list_settlements()
        .business(ctx.business()?)
        .page(page)
        .per_page(per_page)
        .send_as::<Value>()
        .await?
        .into_body())
}

/// `vandar settlement list`. The answer is kept whole: the typed `ListedSettlement` drops the
/// `iban` and `track_id` columns (module docs).
pub async fn list(ctx: &Ctx, page: u64, per_page: u64) -> Result<(), CliError> {
    let page = NonZeroU64::new(page).ok_or_else(|| flag("page", "must be 1 or more"))?;
    let per_page =
        NonZeroU64::new(per_page).ok_or_else(|| flag("per-page", "must be 1 or more"))?;
    let answer = settlements_page(ctx, page, per_page).await?;
    let d = data(&answer);
    let unit = ctx.out_unit(DEFAULT_UNIT);
    let list = d.get("settlements").unwrap_or(&Value::Null);
    let at = |k: &str| d.get(k).unwrap_or(&Value::Null);
    let j = json!({
        "wallet": crate::output::rial_of(at("wallet"), Unit::Toman).map(|r| crate::output::number(r, unit)),
        "blocked": crate::output::rial_of(at("blocked_amount"), Unit::Toman).map(|r| crate::output::number(r, unit)),
        "unit": unit.key(),
        "page": list.get("current_page"),
        "last_page": list.get("last_page"),
        "total": list.get("total"),
        "settlements": items(list).into_iter().map(|s| project(s, LISTED_UNITS, unit)).collect::<Vec<_>>(),
    });
    emit(
        ctx,
        || {
            let mut out = record(&[
                ("wallet", money(at("wallet"), Unit::Toman, unit)),
                ("blocked", money(at("blocked_amount"), Unit::Toman, unit)),
                (
                    "page",
                    format!(
                        "{} of {} ({} settlements)",
                        crate::output::plain(list.get("current_page").unwrap_or(&Value::Null)),
                        crate::output::plain(list.get("last_page").unwrap_or(&Value::Null)),
                        crate::output::plain(list.get("total").unwrap_or(&Value::Null)),
                    ),
                ),
            ]);
            out.push('\n');
            out.push_str(&table_of(
                &items(list),
                &[
                    "id",
                    "status",
                    "amount",
                    "iban",
                    "track_id",
                    "settlement_date",
                ],
                LISTED_UNITS,
                unit,
            ));
            out
        },
        &j,
    )
}

/// `vandar settlement cancel` (typed `cancel_settlement`).
pub async fn cancel(ctx: &Ctx, id: &str) -> Result<(), CliError> {
    let business = ctx.business()?;
    ctx.confirm(&format!(
        "Cancel settlement {id}? The money returns to the wallet and is not paid out"
    ))?;
    let answer = ctx
        .vandar
        .core()
        .cancel_settlement()
        .business(business)
        .settlement(id)
        .send()
        .await?;
    let answer = as_json(&answer);
    emit(
        ctx,
        || {
            format!(
                "settlement {id} cancelled; the money returns to the wallet\n{}",
                answer
                    .get("message")
                    .and_then(Value::as_str)
                    .map(|m| format!("API message: {m}\n"))
                    .unwrap_or_default()
            )
        },
        &answer,
    )
}
