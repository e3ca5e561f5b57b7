//! The payment gateway (IPG v4): send, the buyer's decision, transaction info, verify once.

use serde_json::json;

use crate::answer::{Answer, Call, raw_invalid, str_field};
use crate::calendar::api_datetime;
use crate::http::json_response;
use crate::spec::ErrorStyle;
use crate::state::{LedgerEntry, PayState, Payment, State, VERIFY_WINDOW};
use crate::values::{card_hash, mask_card, random_token};

fn ipg_key_ok(st: &State, call: &Call<'_>) -> bool {
    call.body["api_key"].as_str() == Some(st.creds.ipg_api_key.as_str())
}

pub(crate) fn send_payment(st: &mut State, call: &Call<'_>) -> Answer {
    if !ipg_key_ok(st, call) {
        return raw_invalid(ErrorStyle::Ipg, "api_key", "api_key is invalid");
    }
    let b = &call.body;
    let callback = b["callback_url"].as_str().unwrap_or_default();
    match url::Url::parse(callback) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => {}
        _ => return raw_invalid(ErrorStyle::Ipg, "callback_url", "callback_url is invalid"),
    }
    let amount = b["amount"].as_i64().unwrap_or_default();
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

fn lookup_payment(st: &State, call: &Call<'_>) -> Result<Payment, Answer> {
    if !ipg_key_ok(st, call) {
        return Err(raw_invalid(
            ErrorStyle::Ipg,
            "api_key",
            "api_key is invalid",
        ));
    }
    let token = call.body["token"].as_str().unwrap_or_default();
    st.payments
        .get(token)
        .cloned()
        .ok_or_else(|| raw_invalid(ErrorStyle::Ipg, "token", "token is invalid"))
}

pub(crate) fn transaction_info(st: &mut State, call: &Call<'_>) -> Answer {
    let p = match lookup_payment(st, call) {
        Ok(p) => p,
        Err(a) => return a,
    };
    let now = st.now();
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

pub(crate) fn verify_payment(st: &mut State, call: &Call<'_>) -> Answer {
    let p = match lookup_payment(st, call) {
        Ok(p) => p,
        Err(a) => return a,
    };
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
