//! Single settlements: store with a `track_id`, the Laravel-paged list, show, cancel (the
//! 30-minute cycle and the notify webhook live with the books, `State::end_settlement`).

use serde_json::{Value, json};

use crate::answer::{Answer, Call, failure, raw_invalid, str_field};
use crate::business::{self, BizState};
use crate::calendar::{gregorian_date, jalali_date, time_of_day};
use crate::http::json_response;
use crate::pager::{LaravelPage, PageQuery};
use crate::spec::ErrorStyle;
use crate::state::{LedgerEntry, Settlement, SettlementEnd, State};

fn stored_json(s: &Settlement) -> Value {
    json!({
        "id": s.id,
        "iban_id": s.iban_id,
        "transaction_id": s.transaction_id,
        "amount": s.amount_toman * 10,
        "amount_toman": s.amount_toman,
        "wage_toman": 0,
        "payment_number": s.payment_number,
        "status": s.status,
        // Rial, like `amount` beside it (spec/vandar-core.yaml: the v3 store answer's wallet).
        "wallet": (s.wallet_after_toman * 10).to_string(),
        "description": s.description,
        "settlement_date": gregorian_date(s.created_ms),
        "settlement_time": time_of_day(s.created_ms),
        "settlement_date_jalali": jalali_date(s.created_ms),
        "settlement_done_time_prediction": null,
        "is_instant": s.is_instant,
        "prediction": null,
        "receipt_url": null,
        "type": s.kind,
        "track_id": s.track_id,
    })
}

fn listed_json(s: &Settlement) -> Value {
    json!({
        "id": s.id,
        "iban_id": s.iban_id,
        "gateway_transaction_id": s.transaction_id,
        "amount": s.amount_toman,
        "payment_number": s.payment_number,
        "status": s.status,
        "wallet": s.wallet_after_toman,
        "settlement_date": gregorian_date(s.created_ms),
        "description": s.description,
        "iban": s.iban,
        "track_id": s.track_id,
    })
}

pub(crate) fn store_settlement(st: &mut State, biz: &BizState, call: &Call<'_>) -> Answer {
    let b = &call.body;
    let amount = b["amount"].as_i64().unwrap_or_default();
    let track_id = b["track_id"].as_str().unwrap_or_default().to_owned();
    if business::track_id_taken(st, biz, &track_id) {
        return raw_invalid(
            ErrorStyle::Vandar,
            "track_id",
            "The track id has already been taken.",
        );
    }
    if amount > st.wallet_toman() {
        return raw_invalid(
            ErrorStyle::Vandar,
            "amount",
            "The amount may not be greater than the wallet balance.",
        );
    }
    let now = st.now();
    let is_instant = b["is_instant"].as_bool().unwrap_or(false);
    st.wallet_rial -= amount * 10;
    let transaction_id = st.next_id();
    let wallet = st.wallet_toman();
    let iban = b["iban"].as_str().unwrap_or_default().to_owned();
    let s = Settlement {
        id: uuid::Uuid::new_v4().to_string(),
        iban_id: iban_uuid(&iban),
        transaction_id,
        amount_toman: amount,
        iban,
        track_id: track_id.clone(),
        payment_number: str_field(b, "payment_number"),
        notify_url: str_field(b, "notify_url"),
        description: str_field(b, "description"),
        is_instant,
        kind: b["type"].as_str().unwrap_or("ACH").to_owned(),
        status: if is_instant { "DONE" } else { "PENDING" }.into(),
        wallet_after_toman: wallet,
        created_ms: now,
        ref_code: is_instant.then(|| format!("{}", 100_000_000 + transaction_id % 900_000_000)),
        revised_transaction_id: None,
    };
    st.ledger.push(LedgerEntry {
        id: transaction_id,
        uuid: s.id.clone(),
        amount_toman: -amount,
        status: if is_instant { 2 } else { -2 },
        channel: "settlements",
        created_ms: now,
        wallet_after_toman: wallet,
        description: s.description.clone().unwrap_or_else(|| "settlement".into()),
        factor_number: None,
        track_id: Some(track_id),
        card_number: None,
        cid: None,
        tracking_code: None,
    });
    if is_instant {
        st.queue_settlement_notification(&s);
    }
    let out = stored_json(&s);
    st.settlements.push(s);
    Answer::Json(200, json!({"status": 1, "data": {"settlement": [out]}}))
}

pub(crate) fn list_settlements(st: &mut State, call: &Call<'_>) -> Answer {
    let query = PageQuery::parse(
        call.req.query("page"),
        call.req.query("per_page"),
        10,
        usize::MAX,
    );
    let items: Vec<Value> = st.settlements.iter().rev().map(listed_json).collect();
    let path = format!(
        "{}/v2.1/business/{}/settlement",
        call.base_url, st.creds.business
    );
    let blocked: i64 = st
        .settlements
        .iter()
        .filter(|s| s.status == "PENDING")
        .map(|s| s.amount_toman)
        .sum();
    Answer::Json(
        200,
        json!({"status": 1, "data": {
            "wallet": st.wallet_toman(),
            "blocked_amount": blocked,
            "deductible_amount": st.wallet_toman(),
            "currency": "Toman",
            "settlements": LaravelPage::cut(items, query, &path).flat(),
        }}),
    )
}

fn find_settlement<'a>(st: &'a mut State, key: &str) -> Option<&'a mut Settlement> {
    st.settlements
        .iter_mut()
        .find(|s| s.id == key || s.transaction_id.to_string() == key)
}

pub(crate) fn get_settlement(st: &mut State, call: &Call<'_>) -> Answer {
    match find_settlement(st, call.param("settlement")) {
        Some(s) => Answer::Json(
            200,
            json!({"status": 1, "data": {"settlement": listed_json(s)}}),
        ),
        None => Answer::raw(failure(
            ErrorStyle::Vandar,
            404,
            "settlement not found",
            None,
        )),
    }
}

pub(crate) fn cancel_settlement(st: &mut State, call: &Call<'_>) -> Answer {
    let key = call.param("settlement").to_owned();
    let Some(s) = find_settlement(st, &key) else {
        return Answer::raw(failure(
            ErrorStyle::Vandar,
            404,
            "settlement not found",
            None,
        ));
    };
    if s.status != "PENDING" || s.is_instant {
        let msg = format!("settlement is {} and cannot be cancelled", s.status);
        return Answer::raw(json_response(
            422,
            &json!({"status": 0, "errors": {"error": msg}}),
        ));
    }
    if let Err(msg) = st.end_settlement(&key, SettlementEnd::Canceled) {
        return Answer::raw(json_response(
            422,
            &json!({"status": 0, "errors": {"error": msg}}),
        ));
    }
    Answer::Json(
        200,
        json!({"status": 1, "message": "درخواست تسویه شما از دستور پرداخت خارج شد و وجه تسویه به حساب شما برگشت داده شد"}),
    )
}

/// A stable id for an IBAN (the same IBAN always gets the same `iban_id`).
fn iban_uuid(iban: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(iban.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}
