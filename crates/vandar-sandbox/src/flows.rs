//! The stateful operations. Everything else answers from the spec's examples.

use serde_json::{Value, json};

use crate::business;
use crate::calendar::{
    api_datetime, gregorian_date, jalali_date, jalali_day_number, statement_datetime, time_of_day,
};
use crate::dd;
use crate::pager::{LaravelPage, PageQuery};
use crate::server::{Answer, Call, failure, invalid, json_response, redirect};
use crate::spec::ErrorStyle;
use crate::state::{
    LedgerEntry, PayState, Payment, Settlement, SettlementEnd, State, VERIFY_WINDOW,
};
use crate::values::{card_hash, mask_card, random_token};

/// A stateful operation's handler.
type Handler = fn(&Call<'_>) -> Answer;

/// THE table of stateful operations: `(spec, operation id, handler)`. Routing to a flow, the
/// `stateful` flag of `/__sandbox/operations` and the check that every entry names a spec
/// operation are all derived from it; every other operation answers from its spec example.
const HANDLERS: &[(&str, &str, Handler)] = &[
    ("vandar-ipg", "send_payment", send_payment),
    ("vandar-ipg", "get_transaction_info", transaction_info),
    ("vandar-ipg", "verify_payment", verify_payment),
    ("vandar-core", "refresh_token", refresh_token),
    ("vandar-core", "get_balance", balance),
    ("vandar-core", "list_transactions", list_transactions),
    ("vandar-core", "store_settlement", store_settlement),
    ("vandar-core", "list_settlements", list_settlements),
    ("vandar-core", "get_settlement", get_settlement),
    ("vandar-core", "cancel_settlement", cancel_settlement),
    ("sanbod", "authorize", sanbod_authorize),
    ("sanbod", "token", sanbod_token),
    ("sanbod", "revoke", sanbod_revoke),
    (
        "vandar-subscription",
        "store_authorization",
        dd::store_authorization,
    ),
    (
        "vandar-subscription",
        "verify_authorization",
        dd::verify_authorization,
    ),
    (
        "vandar-subscription",
        "list_authorizations",
        dd::list_authorizations,
    ),
    (
        "vandar-subscription",
        "search_authorization",
        dd::search_authorization,
    ),
    (
        "vandar-subscription",
        "get_authorization_calculation",
        dd::calculation,
    ),
    ("vandar-subscription", "revoke_authorization", dd::revoke),
    (
        "vandar-subscription",
        "store_withdrawal",
        dd::store_withdrawal,
    ),
    ("vandar-subscription", "get_withdrawal", dd::get_withdrawal),
    (
        "vandar-subscription",
        "get_withdrawal_by_track_id",
        dd::get_withdrawal_by_track,
    ),
    (
        "vandar-subscription",
        "list_withdrawals",
        dd::list_withdrawals,
    ),
    (
        "vandar-subscription",
        "cancel_withdrawal",
        dd::cancel_withdrawal,
    ),
    ("vandar-core", "create_customer", business::create_customer),
    ("vandar-core", "list_customers", business::list_customers),
    ("vandar-core", "get_customer", business::get_customer),
    ("vandar-core", "update_customer", business::update_customer),
    ("vandar-core", "delete_customer", business::delete_customer),
    (
        "vandar-core",
        "get_customer_wallet",
        business::customer_wallet,
    ),
    ("vandar-core", "deposit_customer_wallet", |call| {
        business::wallet_movement(call, true)
    }),
    ("vandar-core", "withdraw_customer_wallet", |call| {
        business::wallet_movement(call, false)
    }),
    (
        "vandar-core",
        "list_customer_transactions",
        business::customer_transactions,
    ),
    (
        "vandar-core",
        "get_cash_in_account_balance",
        business::cash_in_balance,
    ),
    ("vandar-core", "deposit_cash_in", business::deposit_cash_in),
    (
        "vandar-core",
        "store_batch_settlement",
        business::store_batch,
    ),
    ("vandar-core", "list_batches", business::list_batches),
    (
        "vandar-core",
        "list_batch_settlements",
        business::list_batch_items,
    ),
    (
        "vandar-core",
        "store_queued_settlement",
        business::store_queued,
    ),
    (
        "vandar-core",
        "list_queued_settlements",
        business::list_queued,
    ),
    ("vandar-core", "get_queued_settlement", business::get_queued),
    (
        "vandar-core",
        "cancel_queued_settlement",
        business::cancel_queued,
    ),
];

/// Whether `(spec, operation)` has a flow (an entry in the handler table).
pub(crate) fn is_stateful(spec: &str, operation: &str) -> bool {
    HANDLERS
        .iter()
        .any(|(s, o, _)| *s == spec && *o == operation)
}

/// Run the flow of this operation, if it has one.
pub(crate) fn handle(call: &Call<'_>) -> Option<Answer> {
    HANDLERS
        .iter()
        .find(|(s, o, _)| *s == call.op.spec && *o == call.op.id)
        .map(|(_, _, handler)| handler(call))
}

fn raw_invalid(style: ErrorStyle, field: &str, message: &str) -> Answer {
    Answer::raw(invalid(
        style,
        &[(field.to_owned(), message.to_owned())],
        None,
    ))
}

fn str_field(body: &Value, name: &str) -> Option<String> {
    match body.get(name) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

fn ipg_key_ok(call: &Call<'_>) -> bool {
    call.body["api_key"].as_str() == Some(call.shared.lock().creds.ipg_api_key.as_str())
}

fn send_payment(call: &Call<'_>) -> Answer {
    if !ipg_key_ok(call) {
        return raw_invalid(ErrorStyle::Ipg, "api_key", "api_key is invalid");
    }
    let b = &call.body;
    let callback = b["callback_url"].as_str().unwrap_or_default();
    match url::Url::parse(callback) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => {}
        _ => return raw_invalid(ErrorStyle::Ipg, "callback_url", "callback_url is invalid"),
    }
    let amount = b["amount"].as_i64().unwrap_or_default();
    let mut st = call.shared.lock();
    let token = random_token(15);
    let trans_id = st.next_id();
    let now = st.now();
    st.insert_payment(Payment {
        token: token.clone(),
        trans_id,
        amount,
        callback_url: callback.to_owned(),
        mobile: str_field(b, "mobile_number"),
        factor_number: str_field(b, "factorNumber"),
        description: str_field(b, "description"),
        created_ms: now,
        state: PayState::Pending,
        paid_ms: None,
        card: None,
    });
    Answer::Json(200, json!({"status": 1, "token": token}))
}

/// The documented `code` of a payment now: 0 wrong data (not paid yet), 1 awaiting verify,
/// 2 verified, 3 expired, 4 failed.
pub(crate) fn payment_code(p: &Payment, now: i64) -> (i64, &'static str) {
    match p.state {
        PayState::Pending => (0, "the payment is not completed yet"),
        PayState::Failed => (4, "the payment failed"),
        PayState::Verified => (2, "already verified"),
        PayState::Paid => {
            if now - p.paid_ms.unwrap_or(now) > VERIFY_WINDOW.as_millis() as i64 {
                (3, "the verify window has expired")
            } else {
                (1, "Confirm requierd")
            }
        }
    }
}

fn lookup_payment(call: &Call<'_>) -> Result<Payment, Answer> {
    if !ipg_key_ok(call) {
        return Err(raw_invalid(
            ErrorStyle::Ipg,
            "api_key",
            "api_key is invalid",
        ));
    }
    let token = call.body["token"].as_str().unwrap_or_default();
    call.shared
        .lock()
        .payments
        .get(token)
        .cloned()
        .ok_or_else(|| raw_invalid(ErrorStyle::Ipg, "token", "token is invalid"))
}

fn transaction_info(call: &Call<'_>) -> Answer {
    let p = match lookup_payment(call) {
        Ok(p) => p,
        Err(a) => return a,
    };
    let now = call.shared.lock().now();
    let (code, message) = payment_code(&p, now);
    let mut out = json!({
        "status": 1,
        "amount": p.amount.to_string(),
        "transId": p.trans_id,
        "factorNumber": p.factor_number,
        "mobile": p.mobile,
        "description": p.description,
        "createdAt": api_datetime(p.created_ms),
        "code": code,
        "message": message,
    });
    if let (Some(card), Some(paid)) = (&p.card, p.paid_ms) {
        out["cardNumber"] = json!(mask_card(card));
        out["CID"] = json!(card_hash(card));
        out["paymentDate"] = json!(api_datetime(paid));
        out["refnumber"] = json!(format!("GmshtyjwKSv{}", p.trans_id % 100_000));
        out["trackingCode"] = json!(format!("{}", p.trans_id % 1_000_000));
    }
    Answer::Json(200, out)
}

fn verify_payment(call: &Call<'_>) -> Answer {
    let p = match lookup_payment(call) {
        Ok(p) => p,
        Err(a) => return a,
    };
    let mut st = call.shared.lock();
    let now = st.now();
    let (code, _) = payment_code(&p, now);
    let fail = |status: i64, msg: &str| {
        Answer::raw(json_response(
            422,
            &json!({"status": status, "errors": [msg]}),
        ))
    };
    match code {
        2 => return fail(2, "the result of this transaction was already announced"),
        3 => return fail(3, "the verify window of this transaction has expired"),
        4 => return fail(0, "the transaction failed"),
        0 => return fail(0, "the transaction is not paid"),
        _ => {}
    }
    let card = p.card.clone().unwrap_or_default();
    let paid = p.paid_ms.unwrap_or(now);
    if let Some(stored) = st.payments.get_mut(&p.token) {
        stored.state = PayState::Verified;
    }
    st.wallet_rial += p.amount;
    let wallet = st.wallet_toman();
    st.ledger.push(LedgerEntry {
        id: p.trans_id,
        uuid: uuid::Uuid::new_v4().to_string(),
        amount_toman: p.amount / 10,
        status: 1,
        channel: "ipg",
        created_ms: paid,
        wallet_after_toman: wallet,
        description: p
            .description
            .clone()
            .unwrap_or_else(|| "IPG payment".into()),
        factor_number: p.factor_number.clone(),
        track_id: None,
        card_number: Some(mask_card(&card)),
        cid: Some(card_hash(&card)),
        tracking_code: Some(format!("{}", p.trans_id % 1_000_000)),
    });
    st.ledger.sort_by_key(|e| e.id);
    Answer::Json(
        200,
        json!({
            "status": 1,
            "amount": format!("{}.00", p.amount),
            "realAmount": p.amount,
            "wage": "0",
            "transId": p.trans_id,
            "factorNumber": p.factor_number,
            "mobile": p.mobile,
            "description": p.description,
            "cardNumber": mask_card(&card),
            "paymentDate": api_datetime(paid),
            "cid": card_hash(&card),
            "message": "ok",
        }),
    )
}

fn refresh_token(call: &Call<'_>) -> Answer {
    let rt = call.body["refreshtoken"].as_str().unwrap_or_default();
    match call.shared.lock().refresh(rt) {
        Some(v) => Answer::Json(200, v),
        None => Answer::raw(json_response(401, &json!({"message": "unauthorized"}))),
    }
}

fn balance(call: &Call<'_>) -> Answer {
    let w = call.shared.lock().wallet_toman();
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

fn list_transactions(call: &Call<'_>) -> Answer {
    let st = call.shared.lock();
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

fn store_settlement(call: &Call<'_>) -> Answer {
    let b = &call.body;
    let amount = b["amount"].as_i64().unwrap_or_default();
    let track_id = b["track_id"].as_str().unwrap_or_default().to_owned();
    let mut st = call.shared.lock();
    if business::track_id_taken(&st, &track_id) {
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

fn list_settlements(call: &Call<'_>) -> Answer {
    let st = call.shared.lock();
    let query = PageQuery::parse(
        call.req.query("page"),
        call.req.query("per_page"),
        10,
        usize::MAX,
    );
    let items: Vec<Value> = st.settlements.iter().rev().map(listed_json).collect();
    let path = format!(
        "{}/v2.1/business/{}/settlement",
        call.shared.base_url, st.creds.business
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

fn get_settlement(call: &Call<'_>) -> Answer {
    let mut st = call.shared.lock();
    match find_settlement(&mut st, call.param("settlement")) {
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

fn cancel_settlement(call: &Call<'_>) -> Answer {
    let mut st = call.shared.lock();
    let key = call.param("settlement").to_owned();
    let Some(s) = find_settlement(&mut st, &key) else {
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

fn sanbod_authorize(call: &Call<'_>) -> Answer {
    let b = &call.body;
    let mut st = call.shared.lock();
    if b["client_id"].as_str() != Some(st.creds.sanbod_client_id.as_str()) {
        return Answer::raw(failure(
            ErrorStyle::Sanbod,
            400,
            "invalid client_id",
            call.traceid(),
        ));
    }
    let Some(redirect_uri) = str_field(b, "redirect_uri") else {
        return raw_invalid(
            ErrorStyle::Sanbod,
            "redirect_uri",
            "redirect_uri is required by the sandbox",
        );
    };
    if url::Url::parse(&redirect_uri).is_err() {
        return raw_invalid(
            ErrorStyle::Sanbod,
            "redirect_uri",
            "redirect_uri is invalid",
        );
    }
    let scope = b["scope"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let id = st.sanbod.start(
        str_field(b, "provider_code"),
        Some(redirect_uri),
        scope,
        str_field(b, "state"),
    );
    Answer::raw(redirect(&format!(
        "{}/__sandbox/sanbod/consent/{id}",
        call.shared.base_url
    )))
}

fn sanbod_token(call: &Call<'_>) -> Answer {
    let mut st = call.shared.lock();
    let now = st.now();
    match st.sanbod.grant(&call.body, now) {
        Ok(v) => Answer::Json(200, v),
        Err((code, description)) => Answer::raw(json_response(
            400,
            &json!({"error": code, "error_description": description}),
        )),
    }
}

fn sanbod_revoke(call: &Call<'_>) -> Answer {
    let token = call.body["access_token"].as_str().unwrap_or_default();
    if call.shared.lock().sanbod.revoke(token) {
        Answer::Json(
            200,
            json!({"error": false, "message": "revoked", "result_number": 1, "traceid": call.traceid()}),
        )
    } else {
        Answer::raw(failure(
            ErrorStyle::Sanbod,
            400,
            "unknown access token",
            call.traceid(),
        ))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_handler_names_one_spec_operation() {
        let catalog = crate::spec::Catalog::load().unwrap();
        let mut seen = std::collections::HashSet::new();
        for &(spec, op, _) in HANDLERS {
            assert_eq!(catalog.find(Some(spec), op).len(), 1, "{spec} {op}");
            assert!(seen.insert((spec, op)), "{spec} {op} twice");
            assert!(is_stateful(spec, op));
        }
        assert!(!is_stateful("vandar-core", "list_customer_fields"));
    }

    #[test]
    fn compact_jalali_dates() {
        assert_eq!(parse_jalali_compact("14000102"), Some(14_000_102));
        assert_eq!(parse_jalali_compact("980703"), Some(13_980_703));
        assert_eq!(parse_jalali_compact("14001302"), None);
        assert_eq!(parse_jalali_compact("1400-01-02"), None);
        assert_eq!(parse_jalali_compact("1400010"), None);
    }
}
