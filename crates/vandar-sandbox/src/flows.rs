//! The stateful operations. Everything else answers from the spec's examples.

use serde_json::{Value, json};

use crate::business;
use crate::dd;
use crate::server::{Answer, Call, failure, invalid, json_response, redirect};
use crate::spec::ErrorStyle;
use crate::state::{
    LedgerEntry, PayState, Payment, Settlement, State, VERIFY_WINDOW, api_datetime, card_hash,
    gregorian_date, jalali_date, mask_card, random_token, statement_datetime, time_of_day,
};

/// The operations with a flow, as `(spec, operation id)`.
pub const STATEFUL: &[(&str, &str)] = &[
    ("vandar-ipg", "send_payment"),
    ("vandar-ipg", "get_transaction_info"),
    ("vandar-ipg", "verify_payment"),
    ("vandar-core", "refresh_token"),
    ("vandar-core", "get_balance"),
    ("vandar-core", "list_transactions"),
    ("vandar-core", "store_settlement"),
    ("vandar-core", "list_settlements"),
    ("vandar-core", "get_settlement"),
    ("vandar-core", "cancel_settlement"),
    ("sanbod", "authorize"),
    ("sanbod", "token"),
    ("sanbod", "revoke"),
    ("vandar-subscription", "store_authorization"),
    ("vandar-subscription", "verify_authorization"),
    ("vandar-subscription", "list_authorizations"),
    ("vandar-subscription", "search_authorization"),
    ("vandar-subscription", "get_authorization_calculation"),
    ("vandar-subscription", "revoke_authorization"),
    ("vandar-subscription", "store_withdrawal"),
    ("vandar-subscription", "get_withdrawal"),
    ("vandar-subscription", "get_withdrawal_by_track_id"),
    ("vandar-subscription", "list_withdrawals"),
    ("vandar-subscription", "cancel_withdrawal"),
    ("vandar-core", "create_customer"),
    ("vandar-core", "list_customers"),
    ("vandar-core", "get_customer"),
    ("vandar-core", "update_customer"),
    ("vandar-core", "delete_customer"),
    ("vandar-core", "get_customer_wallet"),
    ("vandar-core", "deposit_customer_wallet"),
    ("vandar-core", "withdraw_customer_wallet"),
    ("vandar-core", "list_customer_transactions"),
    ("vandar-core", "get_cash_in_account_balance"),
    ("vandar-core", "deposit_cash_in"),
    ("vandar-core", "store_batch_settlement"),
    ("vandar-core", "list_batches"),
    ("vandar-core", "list_batch_settlements"),
    ("vandar-core", "store_queued_settlement"),
    ("vandar-core", "list_queued_settlements"),
    ("vandar-core", "get_queued_settlement"),
    ("vandar-core", "cancel_queued_settlement"),
];

/// Run the flow of this operation, if it has one.
pub(crate) fn handle(call: &Call<'_>) -> Option<Answer> {
    let answer = match (call.op.spec, call.op.id.as_str()) {
        ("vandar-ipg", "send_payment") => send_payment(call),
        ("vandar-ipg", "get_transaction_info") => transaction_info(call),
        ("vandar-ipg", "verify_payment") => verify_payment(call),
        ("vandar-core", "refresh_token") => refresh_token(call),
        ("vandar-core", "get_balance") => balance(call),
        ("vandar-core", "list_transactions") => list_transactions(call),
        ("vandar-core", "store_settlement") => store_settlement(call),
        ("vandar-core", "list_settlements") => list_settlements(call),
        ("vandar-core", "get_settlement") => get_settlement(call),
        ("vandar-core", "cancel_settlement") => cancel_settlement(call),
        ("sanbod", "authorize") => sanbod_authorize(call),
        ("sanbod", "token") => sanbod_token(call),
        ("sanbod", "revoke") => sanbod_revoke(call),
        ("vandar-subscription", "store_authorization") => dd::store_authorization(call),
        ("vandar-subscription", "verify_authorization") => dd::verify_authorization(call),
        ("vandar-subscription", "list_authorizations") => dd::list_authorizations(call),
        ("vandar-subscription", "search_authorization") => dd::search_authorization(call),
        ("vandar-subscription", "get_authorization_calculation") => dd::calculation(call),
        ("vandar-subscription", "revoke_authorization") => dd::revoke(call),
        ("vandar-subscription", "store_withdrawal") => dd::store_withdrawal(call),
        ("vandar-subscription", "get_withdrawal") => dd::get_withdrawal(call),
        ("vandar-subscription", "get_withdrawal_by_track_id") => dd::get_withdrawal_by_track(call),
        ("vandar-subscription", "list_withdrawals") => dd::list_withdrawals(call),
        ("vandar-subscription", "cancel_withdrawal") => dd::cancel_withdrawal(call),
        ("vandar-core", "create_customer") => business::create_customer(call),
        ("vandar-core", "list_customers") => business::list_customers(call),
        ("vandar-core", "get_customer") => business::get_customer(call),
        ("vandar-core", "update_customer") => business::update_customer(call),
        ("vandar-core", "delete_customer") => business::delete_customer(call),
        ("vandar-core", "get_customer_wallet") => business::customer_wallet(call),
        ("vandar-core", "deposit_customer_wallet") => business::wallet_movement(call, true),
        ("vandar-core", "withdraw_customer_wallet") => business::wallet_movement(call, false),
        ("vandar-core", "list_customer_transactions") => business::customer_transactions(call),
        ("vandar-core", "get_cash_in_account_balance") => business::cash_in_balance(call),
        ("vandar-core", "deposit_cash_in") => business::deposit_cash_in(call),
        ("vandar-core", "store_batch_settlement") => business::store_batch(call),
        ("vandar-core", "list_batches") => business::list_batches(call),
        ("vandar-core", "list_batch_settlements") => business::list_batch_items(call),
        ("vandar-core", "store_queued_settlement") => business::store_queued(call),
        ("vandar-core", "list_queued_settlements") => business::list_queued(call),
        ("vandar-core", "get_queued_settlement") => business::get_queued(call),
        ("vandar-core", "cancel_queued_settlement") => business::cancel_queued(call),
        _ => return None,
    };
    Some(answer)
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
    let mut items: Vec<&LedgerEntry> = st
        .ledger
        .iter()
        .rev()
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
    let per_page = call
        .req
        .query("per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(10)
        .max(1);
    let page = call
        .req
        .query("page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let all: Vec<&Settlement> = st.settlements.iter().rev().collect();
    let total = all.len();
    let last_page = total.div_ceil(per_page).max(1);
    let items: Vec<Value> = all
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|s| listed_json(s))
        .collect();
    let from = (page - 1) * per_page + 1;
    let items_empty = items.is_empty();
    let to = from + items.len().saturating_sub(1);
    let path = format!(
        "{}/v2.1/business/{}/settlement",
        call.shared.base_url, st.creds.business
    );
    let page_url = |n: usize| format!("{path}?page={n}");
    let blocked: i64 = st
        .settlements
        .iter()
        .filter(|s| s.status == "PENDING")
        .map(|s| s.amount_toman)
        .sum();
    let mut out = json!({"status": 1, "data": {
        "wallet": st.wallet_toman(),
        "blocked_amount": blocked,
        "deductible_amount": st.wallet_toman(),
        "currency": "Toman",
        "settlements": {
            "data": items,
            "first": page_url(1),
            "last": page_url(last_page),
            "prev": (page > 1).then(|| page_url(page - 1)),
            "next": (page < last_page).then(|| page_url(page + 1)),
            "current_page": page,

            "last_page": last_page,
            "path": path,
            "per_page": per_page,

            "total": total,
        },
    }});
    // Laravel sends `from`/`to` null on an empty page; the spec's LenientInt is not nullable
    if !items_empty {
        out["data"]["settlements"]["from"] = json!(from);
        out["data"]["settlements"]["to"] = json!(to);
    }
    Answer::Json(200, out)
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
    s.status = "CANCELED".into();
    let amount = s.amount_toman;
    let tid = s.transaction_id;
    st.wallet_rial += amount * 10;
    let revised = st.next_id();
    let now = st.now();
    let wallet = st.wallet_toman();
    if let Some(e) = st.ledger.iter_mut().find(|e| e.id == tid) {
        e.status = -4;
    }
    st.ledger.push(LedgerEntry {
        id: revised,
        uuid: uuid::Uuid::new_v4().to_string(),
        amount_toman: amount,
        status: 4,
        channel: "settlements",
        created_ms: now,
        wallet_after_toman: wallet,
        description: format!("revised transaction of cancelled settlement {tid}"),
        factor_number: None,
        track_id: None,
        card_number: None,
        cid: None,
        tracking_code: None,
    });
    let snapshot = {
        find_settlement(&mut st, &key).map(|s| {
            s.revised_transaction_id = Some(revised);
            s.clone()
        })
    };
    if let Some(s) = snapshot {
        st.queue_settlement_notification(&s);
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
