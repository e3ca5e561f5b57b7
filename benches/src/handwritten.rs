//! The baseline: plain serde structs with the documented fields (`i64`, `String`, `Option`,
//! `serde_json::Value` for undocumented ones) and `reqwest` calls written by hand, sending the
//! same JSON and headers as the generated client.

use reqwest::header::{ACCEPT, AUTHORIZATION};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::fixtures::{ACCESS_TOKEN, API_KEY, BUSINESS, PAGE_ITEMS};

/// A statement page, as a hand-written client would declare it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TransactionPage {
    /// 1 on success.
    pub status: i64,
    /// More items after this page.
    pub has_more: bool,
    /// The items.
    pub data: Vec<Transaction>,
}

/// One statement item (the documented fields, plain types).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Transaction {
    pub id: i64,
    pub uuid: String,
    pub amount: i64,
    pub wage: i64,
    pub status: i64,
    pub ref_id: Option<String>,
    pub tracking_code: Option<String>,
    pub card_number: Option<String>,
    pub cid: Option<String>,
    pub verified: i64,
    pub channel: String,
    pub payment_date: Option<String>,
    pub payment_number: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub wallet: i64,
    pub result: Option<String>,
    pub description: Option<String>,
    #[serde(rename = "factorNumber")]
    pub factor_number: Option<String>,
    pub mobile: Option<String>,
    pub callback_url: Option<String>,
    pub form_title: Option<String>,
    pub settlement: Option<Value>,
    pub settlement_port: Option<Value>,
    pub comments: Vec<Value>,
    pub api_token: Option<String>,
    pub logs: Option<TransactionLog>,
    pub revised_transaction_id: Option<Value>,
    pub refund: Option<Value>,
    pub refund_detail_ids: Vec<Value>,
    pub port: String,
    pub is_deposit: bool,
    pub payer: Payer,
    pub receiver: Receiver,
    pub receipt_url: Option<String>,
    pub time_prediction: Map<String, Value>,
}

/// PSP log line.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct TransactionLog {
    pub transaction_id: i64,
    pub result_code: String,
    pub result_message: String,
    pub log_date: String,
    pub group: String,
}

/// Payer details.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Payer {
    pub ip: Option<String>,
    pub iban: Option<String>,
    pub name: Option<String>,
    pub slug: Option<String>,
    pub avatar: Option<String>,
    pub legal_name: Option<String>,
    pub business_owner: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub mobile: Option<String>,
    pub additional_fields: Option<Value>,
    pub description: Option<String>,
}

/// Receiver details.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Receiver {
    pub name: Option<String>,
    pub legal_name: Option<String>,
    pub slug: Option<String>,
    pub avatar: Option<String>,
    pub business_owner: Option<String>,
    pub iban: Option<String>,
    pub bank_name: Option<String>,
}

/// `send_payment` body with the fields the benchmark sends, in the generated struct's order.
#[derive(Debug, Clone, Serialize)]
pub struct PaymentRequest {
    /// Rial.
    pub amount: i64,
    /// Gateway key.
    pub api_key: String,
    /// Return URL.
    pub callback_url: String,
    /// Description.
    pub description: String,
    /// Invoice number.
    #[serde(rename = "factorNumber")]
    pub factor_number: String,
}

/// `send_payment` answer.
#[derive(Debug, Clone, Deserialize)]
pub struct PaymentToken {
    /// 1 on success.
    pub status: i64,
    /// The payment token.
    pub token: Option<String>,
}

/// `verify_payment` answer, as a hand-written client would declare it.
#[derive(Debug, Clone, Deserialize)]
#[allow(missing_docs)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedPayment {
    pub status: i64,
    pub amount: String,
    pub real_amount: i64,
    pub wage: String,
    pub trans_id: i64,
    pub factor_number: Option<String>,
    pub mobile: Option<String>,
    pub description: Option<String>,
    pub card_number: String,
    pub payment_date: String,
    pub cid: Option<String>,
    pub message: String,
}

/// `verify_payment` body.
#[derive(Debug, Clone, Serialize)]
pub struct TokenRequest<'a> {
    /// Gateway key.
    pub api_key: &'a str,
    /// The payment token.
    pub token: &'a str,
}

/// The callback URL of every benchmark payment.
pub const CALLBACK_URL: &str = "https://shop.example/payment/callback";

/// The body of order `order`.
pub fn payment_request(order: u64) -> PaymentRequest {
    PaymentRequest {
        amount: 250_000,
        api_key: API_KEY.to_string(),
        callback_url: CALLBACK_URL.to_string(),
        description: format!("Order {order}"),
        factor_number: format!("INV-{order}"),
    }
}

/// A hand-written `send_payment`: POST the JSON, check the status, decode the answer.
pub async fn send_payment(
    client: &reqwest::Client,
    base: &str,
    order: u64,
) -> Result<PaymentToken, reqwest::Error> {
    client
        .post(format!("{base}/api/v4/send"))
        .header(ACCEPT, "application/json")
        .header("api-version", "4")
        .json(&payment_request(order))
        .send()
        .await?
        .error_for_status()?
        .json::<PaymentToken>()
        .await
}

/// A hand-written `list_transactions` with `per_page=100`.
pub async fn list_transactions(
    client: &reqwest::Client,
    base: &str,
) -> Result<TransactionPage, reqwest::Error> {
    client
        .get(format!("{base}/v3/business/{BUSINESS}/transaction"))
        .header(ACCEPT, "application/json")
        .header("api-version", "3")
        .header(AUTHORIZATION, format!("Bearer {ACCESS_TOKEN}"))
        .query(&[("per_page", PAGE_ITEMS)])
        .send()
        .await?
        .error_for_status()?
        .json::<TransactionPage>()
        .await
}

/// A hand-written `verify_payment` of `token`.
pub async fn verify_payment(
    client: &reqwest::Client,
    base: &str,
    token: &str,
) -> Result<VerifiedPayment, reqwest::Error> {
    client
        .post(format!("{base}/api/v4/verify"))
        .header(ACCEPT, "application/json")
        .header("api-version", "4")
        .json(&TokenRequest {
            api_key: API_KEY,
            token,
        })
        .send()
        .await?
        .error_for_status()?
        .json::<VerifiedPayment>()
        .await
}

/// The `reqwest` client a hand-written integration would build: the same settings as the SDK's
/// (user agent, connect and request timeouts, no redirects), so connection reuse is the same.
pub fn client() -> reqwest::Client {
    let defaults = vandar::Config::default();
    let t = defaults.timeouts();
    reqwest::Client::builder()
        .user_agent(defaults.user_agent())
        .connect_timeout(t.connect)
        .timeout(t.per_attempt)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a reqwest client")
}
