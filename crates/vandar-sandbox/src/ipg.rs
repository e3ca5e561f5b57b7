//! The payment gateway (IPG v4): send, the buyer's decision, transaction info, verify once.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use serde_json::json;

use crate::answer::{Answer, Call, raw_invalid, str_field};
use crate::calendar::api_datetime;
use crate::http::json_response;
use crate::spec::ErrorStyle;
use crate::state::{LedgerEntry, State};
use crate::values::{DEFAULT_CARD, card_hash, digit_value, mask_card, random_token};
use crate::webhooks::Notification;

/// IPG verify window after the payment (documented: 20 minutes).
pub const VERIFY_WINDOW: Duration = Duration::from_secs(20 * 60);
/// How long an IPG pay page can be used after `send_payment` (20 minutes, the window upstream
/// documents from the redirect to verify); until then a reload shows the page again.
pub const PAY_PAGE_LIFETIME: Duration = Duration::from_secs(20 * 60);
/// At most this many IPG payments are kept; the oldest are forgotten first (bounded memory).
pub const MAX_PAYMENTS: usize = 200_000;
/// The state of one IPG payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayState {
    /// Registered; the buyer has not decided yet.
    Pending,
    /// Paid by the buyer; awaiting verify.
    Paid,
    /// The buyer cancelled or the payment failed.
    Failed,
    /// Verified by the merchant.
    Verified,
}

/// One IPG payment.
#[derive(Debug, Clone)]
pub struct Payment {
    pub token: String,
    pub trans_id: i64,
    pub amount: i64,
    pub callback_url: String,
    pub mobile: Option<String>,
    pub factor_number: Option<String>,
    pub description: Option<String>,
    pub created_ms: i64,
    pub state: PayState,
    pub paid_ms: Option<i64>,
    pub card: Option<String>,
}

/// The gateway's payments, bounded ([`MAX_PAYMENTS`], the oldest forgotten first).
#[derive(Debug, Default)]
pub struct IpgState {
    /// By token.
    pub payments: HashMap<String, Payment>,
    /// Tokens, oldest first.
    pub order: VecDeque<String>,
}

impl IpgState {
    /// Store a payment, forgetting the oldest beyond [`MAX_PAYMENTS`].
    pub fn insert(&mut self, p: Payment) {
        while self.order.len() >= MAX_PAYMENTS {
            if let Some(old) = self.order.pop_front() {
                self.payments.remove(&old);
            }
        }
        self.order.push_back(p.token.clone());
        self.payments.insert(p.token.clone(), p);
    }

    /// Record the buyer's decision on the pay page. Returns the callback URL, or an error text.
    pub fn decide(
        &mut self,
        books: &mut State,
        token: &str,
        pay: bool,
        card: Option<&str>,
    ) -> Result<String, String> {
        let now = books.now();
        let p = self
            .payments
            .get_mut(token)
            .ok_or_else(|| "unknown payment token".to_owned())?;
        if p.state != PayState::Pending {
            return Err("this payment was already decided".into());
        }
        if now >= p.created_ms + PAY_PAGE_LIFETIME.as_millis() as i64 {
            return Err("this payment page has expired".into());
        }
        if pay {
            // ASCII or Persian/Arabic-Indic digits, in groups or not
            let card: String = card
                .map(|c| {
                    c.chars()
                        .filter_map(digit_value)
                        .filter_map(|d| char::from_digit(d, 10))
                        .collect()
                })
                .filter(|c: &String| c.len() == 16)
                .unwrap_or_else(|| DEFAULT_CARD.to_owned());
            p.state = PayState::Paid;
            p.paid_ms = Some(now);
            p.card = Some(card);
        } else {
            p.state = PayState::Failed;
        }
        let mut url = url::Url::parse(&p.callback_url).map_err(|e| e.to_string())?;
        url.query_pairs_mut()
            .append_pair("token", token)
            .append_pair("payment_status", if pay { "OK" } else { "FAILED" });
        let url = url.to_string();
        books
            .outbox
            .push(Notification::browser_callback("ipg_callback", url.clone()));
        Ok(url)
    }
}

fn ipg_key_ok(st: &State, call: &Call<'_>) -> bool {
    call.body["api_key"].as_str() == Some(st.creds.ipg_api_key.as_str())
}

pub(crate) fn send_payment(st: &mut State, ipg: &mut IpgState, call: &Call<'_>) -> Answer {
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
    ipg.insert(Payment {
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

fn lookup_payment(st: &State, ipg: &IpgState, call: &Call<'_>) -> Result<Payment, Answer> {
    if !ipg_key_ok(st, call) {
        return Err(raw_invalid(
            ErrorStyle::Ipg,
            "api_key",
            "api_key is invalid",
        ));
    }
    let token = call.body["token"].as_str().unwrap_or_default();
    ipg.payments
        .get(token)
        .cloned()
        .ok_or_else(|| raw_invalid(ErrorStyle::Ipg, "token", "token is invalid"))
}

pub(crate) fn transaction_info(st: &mut State, ipg: &mut IpgState, call: &Call<'_>) -> Answer {
    let p = match lookup_payment(st, ipg, call) {
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

pub(crate) fn verify_payment(st: &mut State, ipg: &mut IpgState, call: &Call<'_>) -> Answer {
    let p = match lookup_payment(st, ipg, call) {
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
    if let Some(stored) = ipg.payments.get_mut(&p.token) {
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
