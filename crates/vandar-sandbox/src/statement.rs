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
    let at = statement_datetime(e.created_ms);
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
        "payment_date": at,
        "created_at": at,
        "updated_at": at,
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

/// One statement page, newest first: the lines below the cursor `start_after` (an id) that
/// pass `keep`, at most `per_page + 1` of them (the extra one tells `has_more`).
///
/// The ledger is in id order (every booking takes a fresh, larger id, or re-sorts it: IPG
/// verify and direct-debit withdrawals), so the cursor is found by binary search and the walk
/// stops as soon as the page is full: a page costs the lines it looks at, not a scan of the
/// whole ledger (`list_transactions` used to filter every line, the date conversion included,
/// for every page).
fn page_of(
    ledger: &[LedgerEntry],
    start_after: Option<i64>,
    per_page: usize,
    keep: impl Fn(&LedgerEntry) -> bool,
) -> Vec<&LedgerEntry> {
    debug_assert!(
        ledger.is_sorted_by_key(|e| e.id),
        "the ledger is kept in id order"
    );
    let end = start_after.map_or(ledger.len(), |s| ledger.partition_point(|e| e.id < s));
    ledger[..end]
        .iter()
        .rev()
        .filter(|e| keep(e))
        .take(per_page.saturating_add(1))
        .collect()
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
    let mut items = page_of(&st.ledger, start_after, per_page, |e| {
        track.is_none_or(|t| e.track_id.as_deref() == Some(t))
            && factor.is_none_or(|f| e.factor_number.as_deref() == Some(f))
            && channel.is_none_or(|c| c == e.channel)
            && match kind {
                Some("settlements") => e.channel == "settlements",
                Some("transactions") => e.channel != "settlements",
                _ => true,
            }
            && {
                // the date last: the calendar conversion is the dearest test
                let day = jalali_day_number(e.created_ms);
                from_day.is_none_or(|f| day >= f) && to_day.is_none_or(|t| day <= t)
            }
    });
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

    #[test]
    fn a_page_is_the_full_scan_cut_at_the_cursor() {
        let mut st = State::new(true, false);
        st.seed_transactions(2_000).unwrap();
        let ipg = |e: &LedgerEntry| e.channel == "ipg";
        // the old way: every line, newest first, filtered, then cut
        let naive = |after: Option<i64>, n: usize| -> Vec<i64> {
            st.ledger
                .iter()
                .rev()
                .filter(|e| ipg(e) && after.is_none_or(|s| e.id < s))
                .take(n + 1)
                .map(|e| e.id)
                .collect()
        };
        let ids = |page: Vec<&LedgerEntry>| page.iter().map(|e| e.id).collect::<Vec<_>>();
        let mut cursor = None;
        let mut pages = 0;
        loop {
            let page = ids(page_of(&st.ledger, cursor, 100, ipg));
            assert_eq!(page, naive(cursor, 100), "after {cursor:?}");
            pages += 1;
            if page.len() <= 100 {
                break;
            }
            cursor = Some(page[99]);
        }
        assert_eq!(pages, 18, "1,800 IPG lines in pages of 100");
        // a cursor inside the ledger, below every line, and above every line
        for c in [st.ledger[700].id + 1, 0, i64::MAX] {
            assert_eq!(ids(page_of(&st.ledger, Some(c), 7, ipg)), naive(Some(c), 7));
        }
    }
}
