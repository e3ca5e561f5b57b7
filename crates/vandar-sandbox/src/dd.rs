//! Direct debit (subscription): banks, mandates, the bank page, verify, withdrawals, revoke.

use std::time::Duration;

use serde_json::{Value, json};

use crate::answer::{Answer, Call, failure, invalid};
use crate::calendar::{gregorian_date, jalali_date};
use crate::http::json_response;
use crate::pager::{LaravelPage, PageQuery};
use crate::spec::Catalog;
use crate::spec::ErrorStyle;
use crate::state::{LedgerEntry, State};
use crate::webhooks::Notification;

/// Mandate tokens and unverified mandates lapse after 20 minutes (documented).
pub const MANDATE_WINDOW: Duration = Duration::from_secs(20 * 60);
/// An instant withdrawal settles at its first inquiry or after this much sandbox time.
pub const INSTANT_SETTLE: Duration = Duration::from_secs(60);
/// The balance of every sandbox payer account, in Rial: a larger withdrawal fails with
/// `error_code` `01` (insufficient balance, documented).
pub const PAYER_BALANCE_RIAL: i64 = 50_000_000;

/// A mandate's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MandateState {
    /// Token issued; the customer has not been to the bank page yet.
    TokenIssued,
    /// The bank page failed or the customer refused.
    Failed,
    /// Approved at the bank, waiting for `verify_authorization`.
    PendingVerify,
    /// Verified: withdrawals allowed.
    Active,
    /// Revoked by the merchant.
    Revoked,
    /// Not verified within 20 minutes: cancelled.
    Lapsed,
}

impl MandateState {
    fn label(self) -> &'static str {
        match self {
            MandateState::TokenIssued => "INIT",
            MandateState::Failed => "FAILED",
            MandateState::PendingVerify => "PENDING_VERIFY",
            MandateState::Active => "ACTIVE",
            MandateState::Revoked => "REVOKED",
            MandateState::Lapsed => "CANCELED",
        }
    }
}

/// One mandate.
#[derive(Debug, Clone)]
pub struct Mandate {
    pub id: String,
    pub token: String,
    pub customer_uuid: String,
    pub bank_code: String,
    pub healthy: bool,
    pub mobile: String,
    pub callback_url: String,
    pub count: i64,
    pub daily_count: Option<i64>,
    pub limit: i64,
    pub daily_limit: Option<i64>,
    pub expiration_date: String,
    pub national_code: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub state: MandateState,
    pub created_ms: i64,
    pub approved_ms: Option<i64>,
    pub revoked_ms: Option<i64>,
    pub payer_balance: i64,
}

/// One withdrawal.
#[derive(Debug, Clone)]
pub struct Withdrawal {
    pub id: String,
    pub authorization_id: String,
    pub gateway_transaction_id: i64,
    pub amount: i64,
    pub track_id: Option<String>,
    pub status: String,
    pub is_instant: bool,
    pub withdrawal_date: String,
    pub notify_url: Option<String>,
    pub description: Option<String>,
    pub max_retry_count: i64,
    pub created_ms: i64,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

/// All direct-debit state.
#[derive(Debug, Default)]
pub struct DdState {
    pub mandates: Vec<Mandate>,
    pub withdrawals: Vec<Withdrawal>,
}

fn jalali_datetime(ms: i64) -> String {
    format!("{} {}", jalali_date(ms), crate::calendar::time_of_day(ms))
}

fn mandate_json(m: &Mandate) -> Value {
    json!({
        "id": m.id,
        "customer_uuid": m.customer_uuid,
        "token": m.token,
        "bank_code": m.bank_code,
        "callback_url": m.callback_url,
        "count": m.count,
        "limit": m.limit.to_string(),
        "mobile": m.mobile,
        "name": m.name,
        "email": m.email,
        "national_code": m.national_code,
        "expiration_date": format!("{} 00:00:00", m.expiration_date),
        "status": m.state.label(),
        "payer_account": {"account_number": "0201794880100", "pan": "6362********9805"},
        "created_at": jalali_datetime(m.created_ms),
        "revoked_at": m.revoked_ms.map(jalali_datetime),
    })
}

fn withdrawal_json(w: &Withdrawal) -> Value {
    json!({
        "id": w.id,
        "authorization_id": w.authorization_id,
        "retry_count": 1,
        "max_retry_count": w.max_retry_count,
        "gateway_transaction_id": w.gateway_transaction_id,
        "amount": w.amount.to_string(),
        "wage_amount": 0,
        "payment_number": null,
        "track_id": w.track_id,
        "status": w.status,
        "description": w.description,
        "withdrawal_date": w.withdrawal_date,
        "notify_url": w.notify_url,
        "is_instant": w.is_instant,
        "error_code": w.error_code,
        "error_message": w.error_message,
    })
}

/// Settle a due withdrawal: DONE (the payer's money reaches the business wallet) or FAILED
/// with `01` (insufficient balance).
fn settle(st: &mut State, dd: &mut DdState, idx: usize) {
    let w = dd.withdrawals[idx].clone();
    if w.status != "PENDING" {
        return;
    }
    let now = st.now();
    let Some(m) = dd.mandates.iter_mut().find(|m| m.id == w.authorization_id) else {
        return;
    };
    if m.payer_balance < w.amount {
        let w = &mut dd.withdrawals[idx];
        w.status = "FAILED".into();
        w.error_code = Some("01".into());
        w.error_message = Some("insufficient balance".into());
    } else {
        m.payer_balance -= w.amount;
        dd.withdrawals[idx].status = "DONE".into();
        st.wallet_rial += w.amount;
        let wallet = st.wallet_toman();
        st.ledger.push(LedgerEntry {
            id: w.gateway_transaction_id,
            uuid: w.id.clone(),
            amount_toman: w.amount / 10,
            status: 1,
            channel: "subscription",
            created_ms: now,
            wallet_after_toman: wallet,
            description: w
                .description
                .clone()
                .unwrap_or_else(|| "direct debit withdrawal".into()),
            factor_number: None,
            track_id: w.track_id.clone(),
            card_number: None,
            cid: None,
            tracking_code: None,
        });
        st.ledger.sort_by_key(|e| e.id);
    }
    let w = dd.withdrawals[idx].clone();
    if let Some(url) = w.notify_url.clone() {
        st.outbox.push(Notification::webhook(
            "withdrawal",
            url,
            vec![
                ("withdrawal_id".into(), w.id.clone()),
                ("authorization_id".into(), w.authorization_id.clone()),
                (
                    "gateway_transaction_id".into(),
                    w.gateway_transaction_id.to_string(),
                ),
                ("status".into(), w.status.clone()),
                ("amount".into(), w.amount.to_string()),
                ("payment_number".into(), String::new()),
                ("track_id".into(), w.track_id.clone().unwrap_or_default()),
            ],
        ));
    }
}

/// Time-driven transitions: unverified mandates lapse, due withdrawals settle.
pub fn tick(st: &mut State, dd: &mut DdState) {
    let now = st.now();
    let window = MANDATE_WINDOW.as_millis() as i64;
    for m in &mut dd.mandates {
        if m.state == MandateState::PendingVerify && now >= m.approved_ms.unwrap_or(now) + window {
            m.state = MandateState::Lapsed;
        }
    }
    let today = gregorian_date(now);
    let due: Vec<usize> = dd
        .withdrawals
        .iter()
        .enumerate()
        .filter(|(_, w)| w.status == "PENDING")
        .filter(|(_, w)| {
            if w.is_instant {
                now >= w.created_ms + INSTANT_SETTLE.as_millis() as i64
            } else {
                // scheduled: on its (Gregorian) day, kept in `description`-independent field
                scheduled_day(w).is_some_and(|d| d <= today.as_str())
            }
        })
        .map(|(i, _)| i)
        .collect();
    for i in due {
        settle(st, dd, i);
    }
}

/// The Gregorian day of a scheduled withdrawal (kept in `withdrawal_date` as `Y-m-d|Jalali`).
fn scheduled_day(w: &Withdrawal) -> Option<&str> {
    w.withdrawal_date
        .split('|')
        .next()
        .filter(|d| d.contains('-'))
}

fn public_withdrawal(w: &Withdrawal) -> Value {
    let mut v = withdrawal_json(w);
    v["withdrawal_date"] = json!(
        w.withdrawal_date
            .split('|')
            .nth(1)
            .unwrap_or(&w.withdrawal_date)
    );
    v
}

/// The banks of the spec's `list_active_banks` example: `(code, can debit, healthy)`.
fn banks(catalog: &Catalog) -> Vec<(String, bool, bool)> {
    catalog
        .find(Some("vandar-subscription"), "list_active_banks")
        .first()
        .and_then(|op| op.canned.clone())
        .and_then(|v| v["result"]["banks"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .map(|b| {
            (
                b["code"].as_str().unwrap_or_default().to_owned(),
                b["has_direct_debit_ability"].as_bool().unwrap_or(false),
                b["is_healthy_on_direct_debit"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

fn field_error(field: &str, message: &str) -> Answer {
    Answer::raw(invalid(
        ErrorStyle::Vandar,
        &[(field.to_owned(), message.to_owned())],
        None,
    ))
}

fn status_errors(field: &str, message: &str) -> Answer {
    Answer::raw(json_response(
        422,
        &json!({"status": 0, "errors": {field: [message]}}),
    ))
}

fn not_found(message: &str) -> Answer {
    Answer::raw(failure(ErrorStyle::Vandar, 404, message, None))
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.split('.').next().and_then(|s| s.parse().ok()),
        _ => None,
    }
}

pub(crate) fn store_authorization(st: &mut State, dd: &mut DdState, call: &Call<'_>) -> Answer {
    let b = &call.body;
    let code = b["bank_code"].as_str().unwrap_or_default().to_owned();
    let Some((_, able, healthy)) = banks(call.catalog).into_iter().find(|(c, ..)| *c == code)
    else {
        return field_error("bank_code", "The selected bank code is invalid.");
    };
    if !able {
        return field_error("bank_code", "This bank does not support direct debit.");
    }
    let callback = b["callback_url"].as_str().unwrap_or_default().to_owned();
    if url::Url::parse(&callback).is_err() {
        return field_error("callback_url", "The callback url format is invalid.");
    }
    let now = st.now();
    let expiration = b["expiration_date"].as_str().unwrap_or_default().to_owned();
    if expiration.as_str() <= gregorian_date(now).as_str() {
        return field_error(
            "expiration_date",
            "The expiration date must be a date after today.",
        );
    }
    let token = uuid::Uuid::new_v4().to_string();
    dd.mandates.push(Mandate {
        id: uuid::Uuid::new_v4().to_string(),
        token: token.clone(),
        customer_uuid: uuid::Uuid::new_v4().to_string(),
        bank_code: code,
        healthy,
        mobile: b["mobile"].as_str().unwrap_or_default().to_owned(),
        callback_url: callback,
        count: int(&b["count"]).unwrap_or(0),
        daily_count: int(&b["daily_count"]),
        limit: int(&b["limit"]).unwrap_or(0),
        daily_limit: int(&b["daily_limit"]),
        expiration_date: expiration,
        national_code: b["national_code"].as_str().map(str::to_owned),
        name: b["name"].as_str().map(str::to_owned),
        email: b["email"].as_str().map(str::to_owned),
        state: MandateState::TokenIssued,
        created_ms: now,
        approved_ms: None,
        revoked_ms: None,
        payer_balance: PAYER_BALANCE_RIAL,
    });
    Answer::Json(
        200,
        json!({"status": 1, "message": "درخواست توکن با موفقیت ثبت شد.", "result": {"authorization": {"token": token}}}),
    )
}

/// What the bank page does with a token: `Ok(None)` show the page, `Ok(Some(url))` redirect at
/// once (bank unreachable or token expired), `Err` unknown or used token.
pub(crate) fn page_visit(
    st: &mut State,
    dd: &mut DdState,
    token: &str,
) -> Result<Option<String>, String> {
    let now = st.now();
    let m = dd
        .mandates
        .iter_mut()
        .find(|m| m.token == token)
        .ok_or_else(|| "unknown authorization token".to_owned())?;
    // a reload before the decision shows the page again; after it the token is used
    if m.state != MandateState::TokenIssued {
        return Err("this authorization token was already used".into());
    }
    if !m.healthy {
        m.state = MandateState::Failed;
        return Ok(Some(callback(
            &m.callback_url,
            &[("token", token), ("status", "FAILED_TO_ACCESS_BANK")],
        )?));
    }
    if now >= m.created_ms + MANDATE_WINDOW.as_millis() as i64 {
        m.state = MandateState::Failed;
        return Ok(Some(callback(
            &m.callback_url,
            &[("token", token), ("status", "FAILED"), ("error_code", "29")],
        )?));
    }
    Ok(None)
}

fn callback(base: &str, pairs: &[(&str, &str)]) -> Result<String, String> {
    let mut url = url::Url::parse(base).map_err(|e| e.to_string())?;
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
    }
    Ok(url.to_string())
}

/// The customer's decision at the bank: the callback URL with `status` (and `authorization_id`
/// or `error_code`), logged as the mandate callback the browser follows.
pub fn decide(
    st: &mut State,
    dd: &mut DdState,
    token: &str,
    approve: bool,
    error_code: Option<&str>,
) -> Result<String, String> {
    let url = decision_url(st, dd, token, approve, error_code)?;
    st.outbox.push(Notification::browser_callback(
        "mandate_callback",
        url.clone(),
    ));
    Ok(url)
}

fn decision_url(
    st: &mut State,
    dd: &mut DdState,
    token: &str,
    approve: bool,
    error_code: Option<&str>,
) -> Result<String, String> {
    let now = st.now();
    let m = dd
        .mandates
        .iter_mut()
        .find(|m| m.token == token)
        .ok_or_else(|| "unknown authorization token".to_owned())?;
    if m.state != MandateState::TokenIssued {
        return Err("this authorization was already decided".into());
    }
    if now >= m.created_ms + MANDATE_WINDOW.as_millis() as i64 {
        m.state = MandateState::Failed;
        return callback(
            &m.callback_url,
            &[("token", token), ("status", "FAILED"), ("error_code", "29")],
        );
    }
    if approve {
        m.state = MandateState::PendingVerify;
        m.approved_ms = Some(now);
        let id = m.id.clone();
        callback(
            &m.callback_url,
            &[
                ("token", token),
                ("authorization_id", &id),
                ("status", "SUCCEED"),
            ],
        )
    } else {
        m.state = MandateState::Failed;
        let code = error_code.unwrap_or("02");
        callback(
            &m.callback_url,
            &[("token", token), ("status", "FAILED"), ("error_code", code)],
        )
    }
}

pub(crate) fn verify_authorization(dd: &mut DdState, call: &Call<'_>) -> Answer {
    let id = call.param("authorization_id");
    let Some(m) = dd.mandates.iter_mut().find(|m| m.id == id) else {
        return not_found("چنین مجوزی یافت نشد.");
    };
    match m.state {
        MandateState::PendingVerify => {
            m.state = MandateState::Active;
            Answer::Json(
                200,
                json!({"status": 1, "message": "مجوز با موفقیت تایید شد."}),
            )
        }
        MandateState::Active => Answer::raw(json_response(
            422,
            &json!({"status": 0, "message": "مجوز پیش از این تایید شده است."}),
        )),
        MandateState::Lapsed => Answer::raw(json_response(
            422,
            &json!({"status": 0, "message": "the authorization was not verified within 20 minutes and was cancelled"}),
        )),
        MandateState::Revoked => field_error("message", "مجوز باطل شده است."),
        MandateState::TokenIssued | MandateState::Failed => Answer::raw(json_response(
            422,
            &json!({"status": 0, "message": "the customer has not approved this authorization"}),
        )),
    }
}

/// A page of 20 (`page` from the query), with Laravel 8's `meta.links`.
fn page_of(call: &Call<'_>, items: Vec<Value>, path: &str) -> Value {
    let query = PageQuery::parse(call.req.query("page"), None, 20, 20);
    LaravelPage::cut(items, query, path).resource(true)
}

pub(crate) fn list_authorizations(st: &mut State, dd: &mut DdState, call: &Call<'_>) -> Answer {
    let mobile = call.req.query("mobile");
    let status = call.req.query("status");
    let items: Vec<Value> = dd
        .mandates
        .iter()
        .rev()
        .filter(|m| matches!(m.state, MandateState::PendingVerify | MandateState::Active))
        .filter(|m| mobile.is_none_or(|x| x == m.mobile))
        .filter(|m| status.is_none_or(|x| x.eq_ignore_ascii_case(m.state.label())))
        .map(mandate_json)
        .collect();
    let path = format!(
        "{}/v3/business/{}/subscription/authorization",
        call.base_url, st.creds.business
    );
    Answer::Json(200, page_of(call, items, &path))
}

pub(crate) fn search_authorization(dd: &mut DdState, call: &Call<'_>) -> Answer {
    let id = call.param("authorization_id");
    match dd.mandates.iter().find(|m| m.id == id) {
        Some(m) if m.state == MandateState::Revoked => field_error("message", "مجوز باطل شده است."),
        Some(m) => Answer::Json(
            200,
            json!({"status": 1, "message": "مجوز با موفقیت به نمایش در آمد.", "result": {"authorizations": mandate_json(m)}}),
        ),
        None => not_found("چنین مجوزی یافت نشد."),
    }
}

struct Usage {
    month_count: i64,
    day_count: i64,
    total_count: i64,
    month_amount: i64,
    day_amount: i64,
    total_amount: i64,
}

fn usage(dd: &DdState, now: i64, mandate: &str) -> Usage {
    let today = jalali_date(now);
    let month = &today[..7];
    let mut u = Usage {
        month_count: 0,
        day_count: 0,
        total_count: 0,
        month_amount: 0,
        day_amount: 0,
        total_amount: 0,
    };
    for w in dd.withdrawals.iter().filter(|w| {
        w.authorization_id == mandate && !matches!(w.status.as_str(), "FAILED" | "CANCELED")
    }) {
        let day = jalali_date(w.created_ms);
        u.total_count += 1;
        u.total_amount += w.amount;
        if day.starts_with(month) {
            u.month_count += 1;
            u.month_amount += w.amount;
        }
        if day == today {
            u.day_count += 1;
            u.day_amount += w.amount;
        }
    }
    u
}

pub(crate) fn calculation(st: &mut State, dd: &mut DdState, call: &Call<'_>) -> Answer {
    let id = call.param("authorization_id");
    let Some(m) = dd.mandates.iter().find(|m| m.id == id) else {
        return not_found("چنین مجوزی یافت نشد.");
    };
    let u = usage(dd, st.now(), &m.id);
    let days_left = days_until(&m.expiration_date, st.now());
    let daily_count = m.daily_count.unwrap_or(m.count);
    let daily_limit = m.daily_limit.unwrap_or(m.limit * daily_count);
    Answer::Json(
        200,
        json!({"status": 1, "message": "گزارش محاسبات تجمیعی مجوز", "result": {
            "authorization_id": m.id,
            "status": m.state.label(),
            "count": m.count,
            "current_month_withdrawal_count": u.month_count,
            "current_day_withdrawal_count": u.day_count,
            "total_withdrawal_count": u.total_count,
            "current_month_remaining_count": (m.count - u.month_count).max(0),
            "current_day_remaining_count": (daily_count - u.day_count).max(0),
            "total_remaining_count": (m.count - u.month_count).max(0),
            "limit": m.limit,
            "current_month_withdrawal_amount": u.month_amount,
            "current_day_withdrawal_amount": u.day_amount,
            "total_withdrawal_amount": u.total_amount,
            "current_month_remaining_withdrawal_amount": (m.limit * m.count - u.month_amount).max(0),
            "current_day_remaining_withdrawal_amount": (daily_limit - u.day_amount).max(0),
            "total_remaining_withdrawal_amount": (m.limit * m.count - u.month_amount).max(0),
            "created_at": jalali_datetime(m.created_ms),
            "expiration_date": format!("{} 00:00:00", m.expiration_date),
            "remaining_expiration": {"years": days_left / 365, "months": (days_left % 365) / 30, "days": (days_left % 365) % 30},
        }}),
    )
}

/// Whole days from `now` until a `Y-m-d` date (0 when past).
fn days_until(date: &str, now_ms: i64) -> i64 {
    let mut parts = date.split('-').filter_map(|p| p.parse::<i64>().ok());
    let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
        return 0;
    };
    // days from civil (Howard Hinnant)
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    (days - now_ms.div_euclid(86_400_000)).max(0)
}

pub(crate) fn revoke(st: &mut State, dd: &mut DdState, call: &Call<'_>) -> Answer {
    let now = st.now();
    let id = call.param("authorization_id");
    let Some(m) = dd
        .mandates
        .iter_mut()
        .find(|m| m.id == id && m.state != MandateState::Revoked)
    else {
        return not_found("خطای ۴۰۴ رخ داده است");
    };
    m.state = MandateState::Revoked;
    m.revoked_ms = Some(now);
    Answer::Json(
        200,
        json!({"status": 1, "message": "مجوز با موفقیت لغو گردید.", "result": {"authorization": {"id": m.id}}}),
    )
}

pub(crate) fn store_withdrawal(st: &mut State, dd: &mut DdState, call: &Call<'_>) -> Answer {
    let b = &call.body;
    let now = st.now();
    let id = b["authorization_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let amount = int(&b["amount"]).unwrap_or(0);
    let track_id = b["track_id"].as_str().map(str::to_owned);
    if track_id.is_some() && dd.withdrawals.iter().any(|w| w.track_id == track_id) {
        return field_error("track_id", "The track id has already been taken.");
    }
    let Some(m) = dd.mandates.iter().find(|m| m.id == id).cloned() else {
        return status_errors(
            "authorization_id",
            "The selected authorization id is invalid.",
        );
    };
    if m.state != MandateState::Active {
        return status_errors("authorization_id", "The authorization is not active.");
    }
    if m.expiration_date.as_str() < gregorian_date(now).as_str() {
        return status_errors("authorization_id", "The authorization has expired.");
    }
    if amount <= 0 || amount > m.limit {
        return status_errors(
            "amount",
            "The amount exceeds the authorization's limit per withdrawal.",
        );
    }
    let u = usage(dd, now, &m.id);
    if u.month_count >= m.count {
        return status_errors(
            "authorization_id",
            "The monthly maximum count of withdrawals is reached.",
        );
    }
    if m.daily_count.is_some_and(|d| u.day_count >= d) {
        return status_errors(
            "authorization_id",
            "The daily maximum count of withdrawals is reached.",
        );
    }
    if m.daily_limit.is_some_and(|d| u.day_amount + amount > d) {
        return status_errors(
            "amount",
            "The daily maximum amount of withdrawals is reached.",
        );
    }
    let is_instant = int(&b["is_instant"]).unwrap_or(1) == 1;
    let withdrawal_date = if is_instant {
        format!("{}|{}", gregorian_date(now), jalali_date(now))
    } else {
        let Some(day) = b["withdrawal_date"].as_str() else {
            return field_error(
                "withdrawal_date",
                "The withdrawal date field is required when is instant is 0.",
            );
        };
        if day <= gregorian_date(now).as_str() {
            return field_error(
                "withdrawal_date",
                "The withdrawal date must be a date after today.",
            );
        }
        format!("{day}|{day}")
    };
    let gateway_transaction_id = st.next_id();
    let w = Withdrawal {
        id: uuid::Uuid::new_v4().to_string(),
        authorization_id: id,
        gateway_transaction_id,
        amount,
        track_id,
        status: "PENDING".into(),
        is_instant,
        withdrawal_date,
        notify_url: b["notify_url"].as_str().map(str::to_owned),
        description: b["description"].as_str().map(str::to_owned),
        max_retry_count: if is_instant {
            1
        } else {
            int(&b["max_retry_count"]).unwrap_or(1)
        },
        created_ms: now,
        error_code: None,
        error_message: None,
    };
    let out = public_withdrawal(&w);
    dd.withdrawals.push(w);
    Answer::Json(
        200,
        json!({"status": 1, "message": "درخواست برداشت وجه با موفقیت ثبت شد.", "result": {"withdrawal": out}}),
    )
}

fn show(st: &mut State, dd: &mut DdState, call: &Call<'_>, by_track: bool) -> Answer {
    let key = if by_track {
        call.param("track_id")
    } else {
        call.param("withdrawal_id")
    };
    let Some(idx) = dd.withdrawals.iter().position(|w| {
        if by_track {
            w.track_id.as_deref() == Some(key)
        } else {
            w.id == key
        }
    }) else {
        return not_found("withdrawal not found");
    };
    // an instant withdrawal gets its final status at the first inquiry (documented)
    if dd.withdrawals[idx].is_instant {
        settle(st, dd, idx);
    }
    let out = public_withdrawal(&dd.withdrawals[idx]);
    Answer::Json(
        200,
        json!({"status": 1, "message": "برداشت وجه با موفقیت به نمایش درآمد.", "result": {"withdrawal": out}}),
    )
}

pub(crate) fn get_withdrawal(st: &mut State, dd: &mut DdState, call: &Call<'_>) -> Answer {
    show(st, dd, call, false)
}

pub(crate) fn get_withdrawal_by_track(st: &mut State, dd: &mut DdState, call: &Call<'_>) -> Answer {
    show(st, dd, call, true)
}

pub(crate) fn list_withdrawals(st: &mut State, dd: &mut DdState, call: &Call<'_>) -> Answer {
    let q = call.req.query("q");
    let items: Vec<Value> = dd
        .withdrawals
        .iter()
        .rev()
        .filter(|w| q.is_none_or(|q| q == w.authorization_id))
        .map(public_withdrawal)
        .collect();
    let path = format!(
        "{}/v3/business/{}/subscription/withdrawal",
        call.base_url, st.creds.business
    );
    Answer::Json(200, page_of(call, items, &path))
}

pub(crate) fn cancel_withdrawal(dd: &mut DdState, call: &Call<'_>) -> Answer {
    let id = call.param("withdrawal_id");
    let Some(w) = dd.withdrawals.iter_mut().find(|w| w.id == id) else {
        return not_found("withdrawal not found");
    };
    if w.is_instant || w.status != "PENDING" {
        let msg = format!("the withdrawal is {} and cannot be cancelled", w.status);
        return Answer::raw(json_response(422, &json!({"status": 0, "message": msg})));
    }
    w.status = "CANCELED".into();
    Answer::Json(
        200,
        json!({"status": 1, "message": "برداشت وجه با موفقیت لغو گردید.", "result": {"withdrawal": {"id": w.id}}}),
    )
}
