//! Stateful business-API flows beyond single settlements: customers with wallets, cash-in
//! (pulling money from the business's bank account into the Vandar wallet), batch settlements
//! and queued settlements. Every movement of the business wallet adds a statement line, so the
//! statement keeps adding up to the balance.

use std::collections::VecDeque;

use serde_json::{Value, json};

use crate::answer::{Answer, Call, failure, invalid};
use crate::http::json_response;
use crate::pager::{LaravelPage, PageQuery};
use crate::spec::ErrorStyle;
use crate::state::{LedgerEntry, State};

/// The cash-in (Ayandeh) accounts of a fresh sandbox: `(IBAN, account number)`, the ones the
/// spec's `list_cash_in_accounts` example lists.
pub const CASH_IN_ACCOUNTS: [(&str, &str); 2] = [
    ("IR880620000000302956142002", "0302956142002"),
    ("IR880620000000302956142004", "0302956142004"),
];
/// Balance of each seeded cash-in account, in Rial (1,000,000,000 Toman).
pub const CASH_IN_ACCOUNT_RIAL: i64 = 10_000_000_000;
/// One cash-in record carries at most this much (documented: deposits above 100,000,000
/// Toman are split).
pub const CASH_IN_SPLIT_RIAL: i64 = 1_000_000_000;
/// Batch items leave `INIT` for `SUBMITTED` this long after the batch is stored.
pub const BATCH_SUBMIT_DELAY_MS: i64 = 60_000;
/// Batch items paying this IBAN fail (`FAILED`, "destination account is closed") and their
/// money returns to the wallet: the sandbox's way to exercise a failed item.
pub const BATCH_FAILING_IBAN: &str = "IR420120000000000000000019";
/// At most this many customers, batches and queued settlements are kept (bounded memory).
pub const MAX_RECORDS: usize = 100_000;

/// One customer of the business.
#[derive(Debug, Clone)]
pub struct Customer {
    pub id: String,
    pub fields: serde_json::Map<String, Value>,
    pub balance_rial: i64,
    pub created_ms: i64,
    pub transactions: Vec<CustomerTransaction>,
}

/// One customer wallet movement.
#[derive(Debug, Clone)]
pub struct CustomerTransaction {
    pub uuid: String,
    pub deposit: bool,
    pub amount_rial: i64,
    pub comment: Option<String>,
    pub track_id: String,
    pub balance_after_rial: i64,
    pub created_ms: i64,
}

/// One cash-in account.
#[derive(Debug, Clone)]
pub struct CashInAccount {
    pub iban: String,
    pub balance_rial: i64,
}

/// One batch.
#[derive(Debug, Clone)]
pub struct Batch {
    pub batch_id: String,
    pub created_ms: i64,
    pub items: Vec<BatchItem>,
}

/// One settlement of a batch.
#[derive(Debug, Clone)]
pub struct BatchItem {
    pub id: String,
    pub track_id: String,
    pub amount_rial: i64,
    pub iban: String,
    pub kind: String,
    pub payment_number: Option<String>,
    pub description: Option<String>,
    pub transaction_id: i64,
    pub status: &'static str,
    pub error_message: Option<String>,
}

/// One queued settlement (upstream undocumented: the shape is the sandbox's own).
#[derive(Debug, Clone)]
pub struct Queued {
    pub id: String,
    pub iban: String,
    pub amount_toman: i64,
    pub track_id: Option<String>,
    pub description: Option<String>,
    pub status: &'static str,
    pub created_ms: i64,
    pub sent_ms: Option<i64>,
    pub transaction_id: Option<i64>,
}

/// The business-API state of this module.
#[derive(Debug)]
pub struct BizState {
    pub customers: Vec<Customer>,
    pub cash_in: Vec<CashInAccount>,
    pub cash_in_track_ids: VecDeque<String>,
    pub batches: Vec<Batch>,
    pub queued: Vec<Queued>,
}

impl Default for BizState {
    fn default() -> Self {
        BizState {
            customers: Vec::new(),
            cash_in: CASH_IN_ACCOUNTS
                .iter()
                .map(|(iban, _)| CashInAccount {
                    iban: (*iban).to_owned(),
                    balance_rial: CASH_IN_ACCOUNT_RIAL,
                })
                .collect(),
            cash_in_track_ids: VecDeque::new(),
            batches: Vec::new(),
            queued: Vec::new(),
        }
    }
}

fn field_error(field: &str, message: &str) -> Answer {
    Answer::raw(invalid(
        ErrorStyle::Vandar,
        &[(field.to_owned(), message.to_owned())],
        None,
    ))
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.split('.').next().and_then(|s| s.trim().parse().ok()),
        _ => None,
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A Laravel page of `items` (`page` and `per_page`, at most 100, from the query).
fn laravel_page(call: &Call<'_>, items: Vec<Value>, per_page: usize, path: &str) -> Value {
    let query = PageQuery::parse(
        call.req.query("page"),
        call.req.query("per_page"),
        per_page,
        100,
    );
    LaravelPage::cut(items, query, path).resource(false)
}

/// Add a line to the business statement and move the wallet by `amount_toman`.
#[allow(clippy::too_many_arguments)]
fn book(
    st: &mut State,
    id: i64,
    amount_toman: i64,
    status: i64,
    channel: &'static str,
    description: String,
    track_id: Option<String>,
    uuid: String,
) {
    st.wallet_rial += amount_toman * 10;
    let wallet_after_toman = st.wallet_toman();
    let now = st.now();
    st.ledger.push(LedgerEntry {
        id,
        uuid,
        amount_toman,
        status,
        channel,
        created_ms: now,
        wallet_after_toman,
        description,
        factor_number: None,
        track_id,
        card_number: None,
        cid: None,
        tracking_code: None,
    });
}

pub(crate) fn track_id_taken(st: &State, biz: &BizState, track_id: &str) -> bool {
    st.settlements.iter().any(|s| s.track_id == track_id)
        || biz
            .batches
            .iter()
            .any(|b| b.items.iter().any(|i| i.track_id == track_id))
        || biz
            .queued
            .iter()
            .any(|q| q.track_id.as_deref() == Some(track_id))
}

// ---------------------------------------------------------------- customers

const CUSTOMER_FIELDS: &[&str] = &[
    "type",
    "first_name",
    "last_name",
    "legal_name",
    "agent_name",
    "mobile",
    "agent_mobile",
    "telephone",
    "individual_national_code",
    "legal_national_code",
    "province_id",
    "city_id",
    "address",
    "postal_code",
    "mcc_code",
];

fn customer_name(c: &Customer) -> String {
    let f = |k: &str| c.fields.get(k).and_then(Value::as_str).unwrap_or_default();
    if f("type") == "LEGAL" {
        f("legal_name").to_owned()
    } else {
        format!("{} {}", f("first_name"), f("last_name"))
            .trim()
            .to_owned()
    }
}

fn custom_fields(c: &Customer) -> Value {
    let values = c
        .fields
        .get("custom_fields")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    Value::Array(
        values
            .iter()
            .map(|v| {
                json!({
                    "key": text(&v["field_id"]).unwrap_or_default(),
                    "value": text(&v["field_value"]).unwrap_or_default(),
                })
            })
            .collect(),
    )
}

fn customer_summary(c: &Customer) -> Value {
    json!({
        "id": c.id,
        "name": customer_name(c),
        "balance": c.balance_rial,
        "created_at": customer_date(c.created_ms),
        "mobile": c.fields.get("mobile").cloned().unwrap_or(Value::Null),
        "custom_fields": custom_fields(c),
    })
}

/// `13:53 - 1400/07/07`.
fn customer_date(ms: i64) -> String {
    let stamp = crate::calendar::statement_datetime(ms); // `HH:MM:SS - Y/M/D`
    let (time, date) = stamp.split_once(" - ").unwrap_or((&stamp, ""));
    format!("{} - {date}", &time[..time.len().min(5)])
}

fn customer_detail(c: &Customer) -> Value {
    let mut out = serde_json::Map::new();
    out.insert("name".into(), json!(customer_name(c)));
    for k in CUSTOMER_FIELDS {
        out.insert(
            (*k).into(),
            c.fields.get(*k).cloned().unwrap_or(Value::Null),
        );
    }
    out.insert("balance".into(), json!(c.balance_rial));
    out.insert("mcc_name".into(), json!("-"));
    out.insert("custom_fields".into(), custom_fields(c));
    Value::Object(out)
}

fn customer_not_found() -> Answer {
    // documented: "404", observed as 422 with this body
    Answer::raw(json_response(
        422,
        &json!({"status": 0, "message": "خطای 404 رخ داده است."}),
    ))
}

fn keep_fields(body: &Value) -> serde_json::Map<String, Value> {
    body.as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| CUSTOMER_FIELDS.contains(&k.as_str()) || *k == "custom_fields")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn create_customer(st: &mut State, biz: &mut BizState, call: &Call<'_>) -> Answer {
    if biz.customers.len() >= MAX_RECORDS {
        biz.customers.remove(0);
    }
    let now = st.now();
    let id = uuid::Uuid::new_v4().to_string();
    biz.customers.push(Customer {
        id: id.clone(),
        fields: keep_fields(&call.body),
        balance_rial: 0,
        created_ms: now,
        transactions: Vec::new(),
    });
    Answer::Json(
        200,
        json!({"status": "1", "message": "مخاطب با موفقیت ثبت گردید.", "result": {"customer": {"id": id}}}),
    )
}

pub(crate) fn list_customers(st: &mut State, biz: &mut BizState, call: &Call<'_>) -> Answer {
    let items: Vec<Value> = biz.customers.iter().rev().map(customer_summary).collect();
    let path = format!(
        "{}/v2/business/{}/customers",
        call.base_url, st.creds.business
    );
    Answer::Json(200, laravel_page(call, items, 10, &path))
}

pub(crate) fn get_customer(biz: &mut BizState, call: &Call<'_>) -> Answer {
    match biz
        .customers
        .iter()
        .find(|c| c.id == call.param("customer"))
    {
        Some(c) => Answer::Json(200, json!({"customer": customer_detail(c)})),
        None => customer_not_found(),
    }
}

pub(crate) fn update_customer(biz: &mut BizState, call: &Call<'_>) -> Answer {
    let Some(c) = biz
        .customers
        .iter_mut()
        .find(|c| c.id == call.param("customer"))
    else {
        return customer_not_found();
    };
    for (k, v) in keep_fields(&call.body) {
        c.fields.insert(k, v);
    }
    Answer::Json(
        200,
        json!({"message": "مخاطب با موفقیت بهروزرسانی شد.", "customer": customer_detail(c)}),
    )
}

pub(crate) fn delete_customer(biz: &mut BizState, call: &Call<'_>) -> Answer {
    let before = biz.customers.len();
    biz.customers.retain(|c| c.id != call.param("customer"));
    if biz.customers.len() == before {
        return customer_not_found();
    }
    Answer::Json(
        200,
        json!({"status": 1, "message": "مخاطب با موفقیت حذف گردید."}),
    )
}

pub(crate) fn customer_wallet(biz: &mut BizState, call: &Call<'_>) -> Answer {
    match biz
        .customers
        .iter()
        .find(|c| c.id == call.param("customer"))
    {
        Some(c) => Answer::Json(
            200,
            json!({"status": 1, "balance": c.balance_rial, "currency": "RIAL"}),
        ),
        None => customer_not_found(),
    }
}

/// Deposit to or withdraw from a customer's wallet. The customer wallets are the business's
/// own book of what it holds for each customer: they do not move the business wallet.
pub(crate) fn wallet_movement(
    st: &mut State,
    biz: &mut BizState,
    call: &Call<'_>,
    deposit: bool,
) -> Answer {
    let amount = int(&call.body["amount"]).unwrap_or_default();
    let track_id = text(&call.body["track_id"]).unwrap_or_default();
    let comment = text(&call.body["comment"]);
    let now = st.now();
    let Some(c) = biz
        .customers
        .iter_mut()
        .find(|c| c.id == call.param("customer"))
    else {
        return customer_not_found();
    };
    if c.transactions.iter().any(|t| t.track_id == track_id) {
        return field_error("track_id", "The track id has already been taken.");
    }
    if !deposit && amount > c.balance_rial {
        return field_error(
            "amount",
            "The amount may not be greater than the customer's wallet balance.",
        );
    }
    c.balance_rial += if deposit { amount } else { -amount };
    let uuid = uuid::Uuid::new_v4().to_string();
    c.transactions.push(CustomerTransaction {
        uuid: uuid.clone(),
        deposit,
        amount_rial: amount,
        comment: comment.clone(),
        track_id: track_id.clone(),
        balance_after_rial: c.balance_rial,
        created_ms: now,
    });
    if c.transactions.len() > MAX_RECORDS {
        c.transactions.remove(0);
    }
    Answer::Json(
        200,
        json!({
            "id": uuid,
            "track_id": track_id,
            "status": 1,
            "message": if deposit { "واریز با موفقیت انجام شد" } else { "برداشت با موفقیت انجام شد" },
            "balance": c.balance_rial,
            "currency": "RIAL",
            "comment": comment,
        }),
    )
}

pub(crate) fn customer_transactions(st: &mut State, biz: &mut BizState, call: &Call<'_>) -> Answer {
    let Some(c) = biz
        .customers
        .iter()
        .find(|c| c.id == call.param("customer"))
    else {
        return customer_not_found();
    };
    let items: Vec<Value> = c
        .transactions
        .iter()
        .rev()
        .map(|t| {
            json!({
                "uuid": t.uuid,
                "type": if t.deposit { "deposit" } else { "withdraw" },
                "amount": if t.deposit { t.amount_rial } else { -t.amount_rial },
                "comment": t.comment.clone().unwrap_or_else(|| {
                    if t.deposit { "افزایش کیف پول مشتری" } else { "کاهش کیف پول مشتری" }.into()
                }),
                "balance": t.balance_after_rial.to_string(),
                "created_at": t.created_ms / 1000,
                "updated_at": t.created_ms / 1000,
            })
        })
        .collect();
    let path = format!(
        "{}/v2/business/{}/customers/{}/transactions",
        call.base_url, st.creds.business, c.id
    );
    let mut out = laravel_page(call, items, 20, &path);
    out["status"] = json!(1);
    Answer::Json(200, out)
}

// ---------------------------------------------------------------- cash-in

fn cash_in_account<'a>(biz: &'a mut BizState, iban: &str) -> Option<&'a mut CashInAccount> {
    biz.cash_in.iter_mut().find(|a| a.iban == iban)
}

pub(crate) fn cash_in_balance(biz: &mut BizState, call: &Call<'_>) -> Answer {
    let iban = text(&call.body["iban"]).unwrap_or_default();
    match cash_in_account(biz, &iban) {
        Some(a) => Answer::Json(
            200,
            json!({"balance": a.balance_rial, "available_balance": a.balance_rial}),
        ),
        None => field_error("iban", "شماره شبا یافت نشد!"),
    }
}

/// Pull money from a cash-in account into the business wallet: the account falls at once,
/// the wallet rises at once (one statement line per record, channel `cash-in`), and the
/// records answer `INIT` as documented. Above 100,000,000 Toman the deposit is split.
pub(crate) fn deposit_cash_in(st: &mut State, biz: &mut BizState, call: &Call<'_>) -> Answer {
    let b = &call.body;
    let iban = text(&b["iban"]).unwrap_or_default();
    let amount = int(&b["amount"]).unwrap_or_default();
    let track_id = text(&b["track_id"]).unwrap_or_default();
    let description = text(&b["description"]);
    if biz.cash_in_track_ids.iter().any(|t| *t == track_id) {
        return field_error("track_id", "شناسه پیگیری قبلا ثبت شده است.");
    }
    let Some(account) = cash_in_account(biz, &iban) else {
        return field_error("iban", "شماره شبا یافت نشد!");
    };
    if amount > account.balance_rial {
        return field_error(
            "amount",
            "The amount may not be greater than the account's available balance.",
        );
    }
    account.balance_rial -= amount;
    biz.cash_in_track_ids.push_back(track_id.clone());
    if biz.cash_in_track_ids.len() > MAX_RECORDS {
        biz.cash_in_track_ids.pop_front();
    }
    let mut records = Vec::new();
    let mut left = amount;
    while left > 0 {
        let part = left.min(CASH_IN_SPLIT_RIAL);
        left -= part;
        let id = st.next_id();
        book(
            st,
            id,
            part / 10,
            1,
            "cash-in",
            description
                .clone()
                .unwrap_or_else(|| "cash-in deposit".into()),
            Some(track_id.clone()),
            uuid::Uuid::new_v4().to_string(),
        );
        records.push(json!({
            "gateway_transaction_id": id,
            "amount": part,
            "amount_toman": part / 10,
            "wage": 0,
            "wage_toman": 0,
            "status": "INIT",
            "iban": iban,
            "receipt_url": format!("{}/__sandbox/receipts/{id}", call.base_url),
        }));
    }
    Answer::Json(
        200,
        json!({"status": 1, "message": "تراکنش های واریزبانکی با موفقیت ثبت شد", "data": {"cash_in": records}}),
    )
}

// ---------------------------------------------------------------- batch settlements

fn batch_summary(b: &Batch) -> Value {
    let count = |s: &str| b.items.iter().filter(|i| i.status == s).count();
    json!({
        "batch_id": b.batch_id,
        "status": {
            "total_count": b.items.len(),
            "init_count": count("INIT"),
            "submitted_count": count("SUBMITTED"),
            "failed_count": count("FAILED"),
        },
        "total_amount": b.items.iter().map(|i| i.amount_rial).sum::<i64>(),
        "created_at": b.created_ms / 1000,
    })
}

fn batch_item_json(i: &BatchItem) -> Value {
    json!({
        "id": i.id,
        "track_id": i.track_id,
        "payment_number": i.payment_number,
        "amount": i.amount_rial.to_string(),
        "iban": i.iban,
        "status": i.status,
        "type": i.kind,
        "transaction_id": i.transaction_id,
        "error_message": i.error_message,
        "description": i.description,
    })
}

/// Store a batch: every item is checked (amount 50,000..500,000,000 Rial, a `track_id` never
/// used by a settlement), the total must fit the wallet; the wallet falls by the total (one
/// statement line per item), the items start `INIT` and become `SUBMITTED` a minute later
/// (or `FAILED`, money back, for [`BATCH_FAILING_IBAN`]).
pub(crate) fn store_batch(st: &mut State, biz: &mut BizState, call: &Call<'_>) -> Answer {
    let b = &call.body;
    let batch_id = text(&b["batch_id"]).unwrap_or_default();
    let items = b["batches_settlement"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if biz.batches.iter().any(|x| x.batch_id == batch_id) {
        return field_error("batch_id", "The batch id has already been taken.");
    }
    let mut total = 0i64;
    let mut seen = Vec::new();
    for (n, item) in items.iter().enumerate() {
        let amount = int(&item["amount"]).unwrap_or_default();
        if !(50_000..=500_000_000).contains(&amount) {
            return field_error(
                &format!("batches_settlement.{n}.amount"),
                "The amount must be between 50000 and 500000000 Rial.",
            );
        }
        let track = text(&item["track_id"]).unwrap_or_default();
        if seen.contains(&track) || track_id_taken(st, biz, &track) {
            return field_error(
                &format!("batches_settlement.{n}.track_id"),
                "The track id has already been taken.",
            );
        }
        seen.push(track);
        total += amount;
    }
    if total > st.wallet_rial {
        return field_error(
            "amount",
            "The total amount may not be greater than the wallet balance.",
        );
    }
    let now = st.now();
    let mut stored = Vec::new();
    for item in &items {
        let amount = int(&item["amount"]).unwrap_or_default();
        let id = uuid::Uuid::new_v4().to_string();
        let transaction_id = st.next_id();
        let track_id = text(&item["track_id"]).unwrap_or_default();
        book(
            st,
            transaction_id,
            -(amount / 10),
            -2,
            "settlements",
            text(&item["description"]).unwrap_or_else(|| "batch settlement".into()),
            Some(track_id.clone()),
            id.clone(),
        );
        // keep the wallet exact in Rial even for amounts that are not whole Toman
        st.wallet_rial -= amount % 10;
        stored.push(BatchItem {
            id,
            track_id,
            amount_rial: amount,
            iban: text(&item["iban"]).unwrap_or_default(),
            kind: text(&item["type"]).unwrap_or_else(|| "ACH".into()),
            payment_number: text(&item["payment_number"]),
            description: text(&item["description"]),
            transaction_id,
            status: "INIT",
            error_message: None,
        });
    }
    let batch = Batch {
        batch_id,
        created_ms: now,
        items: stored,
    };
    let out = batch_summary(&batch);
    if biz.batches.len() >= MAX_RECORDS {
        biz.batches.remove(0);
    }
    biz.batches.push(batch);
    Answer::Json(200, out)
}

pub(crate) fn list_batches(st: &mut State, biz: &mut BizState, call: &Call<'_>) -> Answer {
    let items: Vec<Value> = biz.batches.iter().rev().map(batch_summary).collect();
    let path = format!(
        "{}/api/v2/business/{}/batches",
        call.base_url, st.creds.business
    );
    Answer::Json(200, laravel_page(call, items, 10, &path))
}

pub(crate) fn list_batch_items(st: &mut State, biz: &mut BizState, call: &Call<'_>) -> Answer {
    let id = call.param("batch_id");
    let Some(batch) = biz.batches.iter().find(|b| b.batch_id == id) else {
        return Answer::raw(failure(ErrorStyle::Vandar, 404, "batch not found", None));
    };
    let status = call.req.query("status");
    let items: Vec<Value> = batch
        .items
        .iter()
        .filter(|i| status.is_none_or(|s| s == i.status))
        .map(batch_item_json)
        .collect();
    let path = format!(
        "{}/api/v2/business/{}/batch-settlements/{id}",
        call.base_url, st.creds.business
    );
    Answer::Json(200, laravel_page(call, items, 10, &path))
}

// ---------------------------------------------------------------- queued settlements

fn queued_json(q: &Queued) -> Value {
    json!({
        "id": q.id,
        "iban": q.iban,
        "amount": q.amount_toman,
        "currency": "Toman",
        "track_id": q.track_id,
        "description": q.description,
        "status": q.status,
        "transaction_id": q.transaction_id,
        "created_at": crate::calendar::api_datetime(q.created_ms),
        "sent_at": q.sent_ms.map(crate::calendar::api_datetime),
    })
}

/// Queue a settlement (upstream: "registered when the wallet balance is insufficient; sent
/// once the wallet is funded"). Body as the v3 settlement: `iban`, `amount` (Toman), optional
/// `track_id` (unique) and `description`. It is sent at once when the wallet holds enough
/// and nothing is queued before it; otherwise it waits (`QUEUED`) and is sent, in order, as
/// soon as the wallet covers it. `SENT` moves the wallet and adds a statement line.
pub(crate) fn store_queued(st: &mut State, biz: &mut BizState, call: &Call<'_>) -> Answer {
    let b = &call.body;
    let iban = text(&b["iban"]).unwrap_or_default();
    let amount = int(&b["amount"]).unwrap_or_default();
    let track_id = text(&b["track_id"]);
    let mut errors = Vec::new();
    if iban.is_empty() {
        errors.push(("iban".to_owned(), "The iban field is required.".to_owned()));
    }
    if amount <= 0 {
        errors.push((
            "amount".to_owned(),
            "The amount field is required (Toman, at least 1).".to_owned(),
        ));
    }
    if !errors.is_empty() {
        return Answer::raw(invalid(ErrorStyle::Vandar, &errors, None));
    }
    if let Some(t) = &track_id
        && track_id_taken(st, biz, t)
    {
        return field_error("track_id", "The track id has already been taken.");
    }
    let now = st.now();
    if biz.queued.len() >= MAX_RECORDS
        && let Some(pos) = biz.queued.iter().position(|q| q.status != "QUEUED")
    {
        biz.queued.remove(pos);
    }
    let id = uuid::Uuid::new_v4().to_string();
    biz.queued.push(Queued {
        id: id.clone(),
        iban,
        amount_toman: amount,
        track_id,
        description: text(&b["description"]),
        status: "QUEUED",
        created_ms: now,
        sent_ms: None,
        transaction_id: None,
    });
    send_queued(st, biz);
    let out = biz
        .queued
        .iter()
        .find(|q| q.id == id)
        .map(queued_json)
        .unwrap_or_default();
    Answer::Json(200, json!({"status": 1, "data": out}))
}

/// Send queued settlements, oldest first, while the wallet covers the next one.
pub fn send_queued(st: &mut State, biz: &mut BizState) {
    loop {
        let Some(idx) = biz.queued.iter().position(|q| q.status == "QUEUED") else {
            return;
        };
        let amount = biz.queued[idx].amount_toman;
        if amount > st.wallet_toman() {
            return;
        }
        let transaction_id = st.next_id();
        let now = st.now();
        let (track, desc, uuid) = {
            let q = &mut biz.queued[idx];
            q.status = "SENT";
            q.sent_ms = Some(now);
            q.transaction_id = Some(transaction_id);
            (
                q.track_id.clone(),
                q.description
                    .clone()
                    .unwrap_or_else(|| "queued settlement".into()),
                q.id.clone(),
            )
        };
        book(
            st,
            transaction_id,
            -amount,
            2,
            "settlements",
            desc,
            track,
            uuid,
        );
    }
}

pub(crate) fn list_queued(biz: &mut BizState) -> Answer {
    let items: Vec<Value> = biz.queued.iter().rev().map(queued_json).collect();
    Answer::Json(200, json!({"status": 1, "data": items}))
}

pub(crate) fn get_queued(biz: &mut BizState, call: &Call<'_>) -> Answer {
    let key = call.param("id");
    match biz
        .queued
        .iter()
        .find(|q| q.id == key || q.track_id.as_deref() == Some(key))
    {
        Some(q) => Answer::Json(200, json!({"status": 1, "data": queued_json(q)})),
        None => Answer::raw(failure(
            ErrorStyle::Vandar,
            404,
            "queued settlement not found",
            None,
        )),
    }
}

/// Cancel a queued settlement (`{"id": ..}`) while it waits; a sent one cannot be cancelled.
pub(crate) fn cancel_queued(st: &mut State, biz: &mut BizState, call: &Call<'_>) -> Answer {
    let key = text(&call.body["id"]).unwrap_or_default();
    let Some(q) = biz.queued.iter_mut().find(|q| q.id == key) else {
        return field_error("id", "The selected id is invalid.");
    };
    if q.status != "QUEUED" {
        let msg = format!(
            "the queued settlement is {} and cannot be cancelled",
            q.status
        );
        return Answer::raw(json_response(
            422,
            &json!({"status": 0, "errors": {"error": msg}}),
        ));
    }
    q.status = "CANCELED";
    let out = queued_json(q);
    // the next one in line may fit now
    send_queued(st, biz);
    Answer::Json(200, json!({"status": 1, "data": out}))
}

/// Time-driven transitions: batch items leave `INIT`; queued settlements go out when funded.
pub fn tick(st: &mut State, biz: &mut BizState) {
    let now = st.now();
    let mut refunds = Vec::new();
    for b in &mut biz.batches {
        if now < b.created_ms + BATCH_SUBMIT_DELAY_MS {
            continue;
        }
        for i in &mut b.items {
            if i.status != "INIT" {
                continue;
            }
            if i.iban == BATCH_FAILING_IBAN {
                i.status = "FAILED";
                i.error_message = Some("the destination account is closed".into());
                refunds.push((i.transaction_id, i.amount_rial, i.track_id.clone()));
            } else {
                i.status = "SUBMITTED";
                refunds.push((i.transaction_id, 0, String::new()));
            }
        }
    }
    for (tid, amount, track) in refunds {
        if let Some(e) = st.ledger.iter_mut().find(|e| e.id == tid) {
            e.status = if amount > 0 { -4 } else { 2 };
        }
        if amount > 0 {
            let id = st.next_id();
            book(
                st,
                id,
                amount / 10,
                4,
                "settlements",
                format!("revised transaction of failed batch settlement {tid} ({track})"),
                None,
                uuid::Uuid::new_v4().to_string(),
            );
            st.wallet_rial += amount % 10;
        }
    }
    send_queued(st, biz);
}
