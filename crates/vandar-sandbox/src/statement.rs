//! The business account: the token pair's refresh, the wallet balance and the statement
//! (`start_after` cursor, filters, Jalali date range).

use serde_json::{Value, json};

use crate::answer::{Answer, Call, raw_invalid};
use crate::calendar::{jalali_day_number, statement_datetime};
use crate::http::json_response;
use crate::spec::ErrorStyle;
use crate::state::{LedgerEntry, State};

pub(crate) fn refresh_token(st: &mut State, call: &Call<'_>) -> Answer {
    let rt = call.body["refreshtoken"].as_str().unwrap_or_default();
    match st.refresh(rt) {
        Some(v) => Answer::Json(200, v),
        None => Answer::raw(json_response(401, &json!({"message": "unauthorized"}))),
    }
}

pub(crate) fn balance(st: &mut State) -> Answer {
    let w = st.wallet_toman();
    Answer::Json(
        200,
        json!({"status": 1, "data": {
            "wallet": w,
            "wallet_without_payment_facilitator_wallet": w,
            "payment_facilitator_wallet": 0,
            "currency": "Toman",
        }}),
    )
}

fn ledger_json(e: &LedgerEntry) -> Value {
    json!({
        "id": e.id,
        "uuid": e.uuid,
        "amount": e.amount_toman,
        "wage": 0,
        "status": e.status,
        "ref_id": null,
        "tracking_code": e.tracking_code,
        "card_number": e.card_number,
        "cid": e.cid,
        "verified": i64::from(e.status == 1),
        "channel": e.channel,
        "payment_date": statement_datetime(e.created_ms),
        "created_at": statement_datetime(e.created_ms),
        "updated_at": statement_datetime(e.created_ms),
        "wallet": e.wallet_after_toman,
        "description": e.description,
        "factorNumber": e.factor_number,
        "track_id": e.track_id,
    })
}

/// A compact Jalali date of a query (`14000102`, or the six-digit `980703` of the 1300s) as
/// the number `yyyymmdd`; `None` when it is not one.
fn parse_jalali_compact(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    if !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = raw.parse().ok()?;
    let n = match raw.len() {
        8 => n,
        6 => 13_000_000 + n,
        _ => return None,
    };
    let (m, d) = ((n / 100) % 100, n % 100);
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then_some(n)
}

pub(crate) fn list_transactions(st: &mut State, call: &Call<'_>) -> Answer {
    let per_page = call
        .req
        .query("per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(10)
        .clamp(1, 100);
    let start_after = call
        .req
        .query("start_after")
        .and_then(|v| v.parse::<i64>().ok());
    let kind = call.req.query("statusKind");
    let track = call.req.query("track_id");
    let factor = call.req.query("factor_number");
    let channel = call.req.query("channel");
    // fromDate/toDate: Jalali days (Tehran time), both ends included
    let mut range = [None, None];
    for (slot, name) in range.iter_mut().zip(["fromDate", "toDate"]) {
        if let Some(raw) = call.req.query(name) {
            match parse_jalali_compact(raw) {
                Some(day) => *slot = Some(day),
                None => {
                    return raw_invalid(
                        ErrorStyle::Vandar,
                        name,
                        &format!(
                            "The {name} is not a Jalali date in the form yyyymmdd (14000102)."
                        ),
                    );
                }
            }
        }
    }
    let [from_day, to_day] = range;
    let mut items: Vec<&LedgerEntry> = st
        .ledger
        .iter()
        .rev()
        .filter(|e| {
            let day = jalali_day_number(e.created_ms);
            from_day.is_none_or(|f| day >= f) && to_day.is_none_or(|t| day <= t)
        })
        .filter(|e| start_after.is_none_or(|s| e.id < s))
        .filter(|e| track.is_none_or(|t| e.track_id.as_deref() == Some(t)))
        .filter(|e| factor.is_none_or(|f| e.factor_number.as_deref() == Some(f)))
        .filter(|e| channel.is_none_or(|c| c == e.channel))
        .filter(|e| match kind {
            Some("settlements") => e.channel == "settlements",
            Some("transactions") => e.channel != "settlements",
            _ => true,
        })
        .collect();
    let has_more = items.len() > per_page;
    items.truncate(per_page);
    Answer::Json(
        200,
        json!({"status": 1, "has_more": has_more, "data": items.into_iter().map(ledger_json).collect::<Vec<_>>()}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_jalali_dates() {
        assert_eq!(parse_jalali_compact("14000102"), Some(14_000_102));
        assert_eq!(parse_jalali_compact("980703"), Some(13_980_703));
        assert_eq!(parse_jalali_compact("14001302"), None);
        assert_eq!(parse_jalali_compact("1400-01-02"), None);
        assert_eq!(parse_jalali_compact("1400010"), None);
    }
}
