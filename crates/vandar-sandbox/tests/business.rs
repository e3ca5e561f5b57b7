//! Customers with wallets, cash-in, batch and queued settlements over raw HTTP on 127.0.0.1,
//! with a frozen sandbox clock. Every test checks that the statement still adds up to the
//! wallet after the money moved.

use std::time::Duration;

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use vandar_sandbox::{
    BATCH_FAILING_IBAN, CASH_IN_ACCOUNT_RIAL, CASH_IN_ACCOUNTS, Fault, FaultKind, Sandbox,
};

const IBAN: &str = "IR150620000000203214109001";

struct Api {
    sb: Sandbox,
    c: Client,
    token: String,
    root: String,
}

impl Api {
    async fn start() -> Api {
        let sb = Sandbox::builder()
            .frozen_clock(true)
            .rate_limit(false)
            .start()
            .await
            .expect("sandbox starts");
        let creds = sb.credentials();
        let root = sb.base_url().to_owned();
        Api {
            token: creds.access_token,
            c: Client::new(),
            root,
            sb,
        }
    }

    /// `path` with `{b}` for the business.
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let url = format!("{}{}", self.root, path.replace("{b}", "sandbox"));
        let mut rb = self.c.request(method, url).bearer_auth(&self.token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.expect("sent");
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    async fn wallet_toman(&self) -> i64 {
        let (s, v) = self
            .call(Method::GET, "/v2/business/{b}/balance", None)
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v["data"]["wallet"].as_i64().expect("wallet")
    }

    /// Every statement line (following the cursor): `(sum of amounts, lines)`.
    async fn statement(&self) -> (i64, Vec<Value>) {
        let mut lines = Vec::new();
        let mut after: Option<i64> = None;
        loop {
            let mut path = "/v3/business/{b}/transaction?per_page=100".to_owned();
            if let Some(a) = after {
                path.push_str(&format!("&start_after={a}"));
            }
            let (s, v) = self.call(Method::GET, &path, None).await;
            assert_eq!(s, StatusCode::OK, "{v}");
            let page = v["data"].as_array().cloned().unwrap_or_default();
            after = page.last().and_then(|l| l["id"].as_i64());
            lines.extend(page);
            if v["has_more"] != true {
                break;
            }
        }
        let sum = lines
            .iter()
            .map(|l| l["amount"].as_i64().unwrap_or(0))
            .sum();
        (sum, lines)
    }

    async fn assert_statement_matches_wallet(&self) {
        let (sum, _) = self.statement().await;
        assert_eq!(sum, self.wallet_toman().await, "statement sum vs wallet");
    }
}

#[tokio::test]
async fn customers_crud_and_wallets() {
    let api = Api::start().await;
    let (s, v) = api
        .call(
            Method::POST,
            "/v2/business/{b}/customers",
            Some(json!({"type": "INDIVIDUAL", "first_name": "Elnaz", "last_name": "Norouzi",
                         "mobile": "09121234567", "custom_fields": [{"field_id": 1, "field_value": "25"}]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let id = v["result"]["customer"]["id"].as_str().unwrap().to_owned();
    let wallet_before = api.wallet_toman().await;

    let (s, v) = api
        .call(
            Method::GET,
            &format!("/v2/business/{{b}}/customers/{id}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["customer"]["name"], "Elnaz Norouzi");
    assert_eq!(v["customer"]["custom_fields"][0]["value"], "25");

    // the list shows it; an update changes it
    let (_, list) = api
        .call(Method::GET, "/v2/business/{b}/customers", None)
        .await;
    assert_eq!(list["meta"]["total"], 1, "{list}");
    assert_eq!(list["data"][0]["id"], id.as_str());
    let (s, v) = api
        .call(
            Method::PUT,
            &format!("/v2/business/{{b}}/customers/{id}"),
            Some(json!({"type": "INDIVIDUAL", "first_name": "Ela"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["customer"]["name"], "Ela Norouzi");

    // wallet: deposit 5,000, withdraw 2,000; a repeated track_id and an overdraft are refused
    let wallet = format!("/v2/business/{{b}}/customers/{id}/wallet");
    let (s, v) = api
        .call(
            Method::POST,
            &format!("{wallet}/deposit"),
            Some(json!({"amount": 5000, "track_id": "t-1", "comment": "top-up"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["balance"], 5000);
    let (s, v) = api
        .call(
            Method::POST,
            &format!("{wallet}/deposit"),
            Some(json!({"amount": 5000, "track_id": "t-1"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["errors"]["track_id"].is_array(), "{v}");
    let (s, v) = api
        .call(
            Method::POST,
            &format!("{wallet}/withdraw"),
            Some(json!({"amount": 9000, "track_id": "t-2"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["errors"]["amount"].is_array(), "{v}");
    let (s, v) = api
        .call(
            Method::POST,
            &format!("{wallet}/withdraw"),
            Some(json!({"amount": 2000, "track_id": "t-3"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["balance"], 3000);
    let (_, v) = api.call(Method::GET, &wallet, None).await;
    assert_eq!(v, json!({"status": 1, "balance": 3000, "currency": "RIAL"}));

    // the customer's statement: newest first, running balance as a string
    let (s, v) = api
        .call(
            Method::POST,
            &format!("/v2/business/{{b}}/customers/{id}/transactions"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let items = v["data"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{v}");
    assert_eq!(items[0]["type"], "withdraw");
    assert_eq!(items[0]["amount"], -2000);
    assert_eq!(items[0]["balance"], "3000");
    assert_eq!(items[1]["amount"], 5000);
    let (_, list) = api
        .call(Method::GET, "/v2/business/{b}/customers", None)
        .await;
    assert_eq!(list["data"][0]["balance"], 3000);

    // customer wallets are the business's own book: the business wallet did not move
    assert_eq!(api.wallet_toman().await, wallet_before);
    api.assert_statement_matches_wallet().await;

    // delete; then it is gone
    let (s, _) = api
        .call(
            Method::DELETE,
            &format!("/v2/business/{{b}}/customers/{id}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = api
        .call(
            Method::GET,
            &format!("/v2/business/{{b}}/customers/{id}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, _) = api.call(Method::GET, &wallet, None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn cash_in_fills_the_wallet_and_splits_large_deposits() {
    let api = Api::start().await;
    let (iban, _) = CASH_IN_ACCOUNTS[0];
    let before = api.wallet_toman().await;
    // 1,200,000,000 Rial: two records (1,000,000,000 + 200,000,000), as documented
    let (s, v) = api
        .call(
            Method::POST,
            "/v3/business/{b}/cash-in/account/deposit",
            Some(json!({"iban": iban, "amount": 1_200_000_000i64, "track_id": "ci-1"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let records = v["data"]["cash_in"].as_array().unwrap();
    assert_eq!(records.len(), 2, "{v}");
    assert_eq!(records[0]["amount"], 1_000_000_000i64);
    assert_eq!(records[1]["amount_toman"], 20_000_000);
    assert_eq!(records[0]["status"], "INIT");
    assert_eq!(api.wallet_toman().await, before + 120_000_000);

    // the account fell by as much
    let (s, v) = api
        .call(
            Method::POST,
            "/v3/business/{b}/cash-in/account/balance",
            Some(json!({"iban": iban})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["balance"], CASH_IN_ACCOUNT_RIAL - 1_200_000_000);

    // a repeated track_id, an unknown IBAN and more than the account holds are refused
    for (body, field) in [
        (
            json!({"iban": iban, "amount": 1000, "track_id": "ci-1"}),
            "track_id",
        ),
        (
            json!({"iban": IBAN, "amount": 1000, "track_id": "ci-2"}),
            "iban",
        ),
        (
            json!({"iban": iban, "amount": CASH_IN_ACCOUNT_RIAL, "track_id": "ci-3"}),
            "amount",
        ),
    ] {
        let (s, v) = api
            .call(
                Method::POST,
                "/v3/business/{b}/cash-in/account/deposit",
                Some(body),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert!(v["errors"][field].is_array(), "{field}: {v}");
    }
    assert_eq!(api.wallet_toman().await, before + 120_000_000);
    let (_, lines) = api.statement().await;
    assert_eq!(
        lines.iter().filter(|l| l["channel"] == "cash-in").count(),
        2
    );
    api.assert_statement_matches_wallet().await;
}

#[tokio::test]
async fn batches_move_the_wallet_submit_and_fail_with_refund() {
    let api = Api::start().await;
    let before = api.wallet_toman().await;
    let batch = json!({
        "batch_id": "b1",
        "batches_settlement": [
            {"track_id": "bt-1", "iban": IBAN, "amount": 500_000, "payment_number": "2"},
            {"track_id": "bt-2", "iban": BATCH_FAILING_IBAN, "amount": 300_000},
        ]
    });
    let (s, v) = api
        .call(
            Method::POST,
            "/api/v2/business/{b}/batches-settlement",
            Some(batch.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["total_amount"], 800_000);
    assert_eq!(v["status"]["init_count"], 2);
    assert_eq!(api.wallet_toman().await, before - 80_000);
    api.assert_statement_matches_wallet().await;

    // the same batch_id again, a used track_id, an amount out of range: refused
    let (s, v) = api
        .call(
            Method::POST,
            "/api/v2/business/{b}/batches-settlement",
            Some(batch),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["errors"]["batch_id"].is_array(), "{v}");
    let (s, v) = api
        .call(
            Method::POST,
            "/api/v2/business/{b}/batches-settlement",
            Some(json!({"batch_id": "b2", "batches_settlement": [
                {"track_id": "bt-1", "iban": IBAN, "amount": 60_000}]})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, _) = api
        .call(
            Method::POST,
            "/api/v2/business/{b}/batches-settlement",
            Some(json!({"batch_id": "b3", "batches_settlement": [
                {"track_id": "bt-9", "iban": IBAN, "amount": 40_000}]})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // a single settlement cannot reuse a batch item's track_id either
    let (s, v) = api
        .call(
            Method::POST,
            "/v3/business/{b}/settlement/store",
            Some(json!({"amount": 10_000, "iban": IBAN, "track_id": "bt-2"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");

    // a minute later: one SUBMITTED, one FAILED with its money back
    api.sb.advance_clock(Duration::from_secs(61)).await;
    let (s, v) = api
        .call(
            Method::GET,
            "/api/v2/business/{b}/batch-settlements/b1",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let items = v["data"].as_array().unwrap();
    assert_eq!(items[0]["status"], "SUBMITTED");
    assert_eq!(items[0]["amount"], "500000");
    assert_eq!(items[1]["status"], "FAILED");
    assert!(items[1]["error_message"].is_string());
    let (_, v) = api
        .call(
            Method::GET,
            "/api/v2/business/{b}/batch-settlements/b1?status=FAILED",
            None,
        )
        .await;
    assert_eq!(v["data"].as_array().unwrap().len(), 1);
    let (_, v) = api
        .call(Method::GET, "/api/v2/business/{b}/batches", None)
        .await;
    assert_eq!(v["data"][0]["status"]["submitted_count"], 1, "{v}");
    assert_eq!(v["data"][0]["status"]["failed_count"], 1);
    assert_eq!(api.wallet_toman().await, before - 50_000);
    api.assert_statement_matches_wallet().await;
}

#[tokio::test]
async fn queued_settlements_wait_for_funds_and_cancel() {
    let api = Api::start().await;
    let wallet = api.wallet_toman().await;
    // more than the wallet holds: it waits
    let (s, v) = api
        .call(
            Method::POST,
            "/v3/business/{b}/settlement/queued",
            Some(json!({"iban": IBAN, "amount": wallet + 1_000, "track_id": "q-1"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["status"], "QUEUED");
    let big = v["data"]["id"].as_str().unwrap().to_owned();
    // a small one behind it waits its turn (in order)
    let (_, v) = api
        .call(
            Method::POST,
            "/v3/business/{b}/settlement/queued",
            Some(json!({"iban": IBAN, "amount": 1_000})),
        )
        .await;
    assert_eq!(v["data"]["status"], "QUEUED");
    let small = v["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(api.wallet_toman().await, wallet);
    // missing fields are refused
    let (s, v) = api
        .call(
            Method::POST,
            "/v3/business/{b}/settlement/queued",
            Some(json!({})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");

    // cancelling the big one lets the small one go out
    let (s, v) = api
        .call(
            Method::POST,
            "/v3/business/{b}/settlement/queued/cancel",
            Some(json!({"id": big})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["status"], "CANCELED");
    let (_, v) = api
        .call(
            Method::GET,
            &format!("/v3/business/{{b}}/settlement/queued/{small}"),
            None,
        )
        .await;
    assert_eq!(v["data"]["status"], "SENT", "{v}");
    assert_eq!(api.wallet_toman().await, wallet - 1_000);
    // a sent one cannot be cancelled
    let (s, _) = api
        .call(
            Method::POST,
            "/v3/business/{b}/settlement/queued/cancel",
            Some(json!({"id": small})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

    // one that waits goes out when money arrives (a cash-in deposit)
    let (_, v) = api
        .call(
            Method::POST,
            "/v3/business/{b}/settlement/queued",
            Some(json!({"iban": IBAN, "amount": wallet, "track_id": "q-3"})),
        )
        .await;
    assert_eq!(v["data"]["status"], "QUEUED", "{v}");
    let (s, v) = api
        .call(
            Method::POST,
            "/v3/business/{b}/cash-in/account/deposit",
            Some(json!({"iban": CASH_IN_ACCOUNTS[0].0, "amount": 100_000, "track_id": "ci-q"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, v) = api
        .call(Method::GET, "/v3/business/{b}/settlement/queued/q-3", None)
        .await;
    assert_eq!(v["data"]["status"], "SENT", "{v}");
    assert_eq!(api.wallet_toman().await, 10_000 - 1_000);
    let (_, v) = api
        .call(Method::GET, "/v3/business/{b}/settlement/queued", None)
        .await;
    assert_eq!(v["data"].as_array().unwrap().len(), 3);
    api.assert_statement_matches_wallet().await;
}

#[tokio::test]
async fn drop_answer_fault_keeps_the_effect_and_loses_the_answer() {
    let api = Api::start().await;
    let before = api.wallet_toman().await;
    api.sb
        .inject_fault(Fault {
            operation: "store_settlement".into(),
            spec: Some("vandar-core".into()),
            count: 1,
            kind: FaultKind::DropAnswer,
        })
        .await
        .unwrap();
    let sent = api
        .c
        .post(format!("{}/v3/business/sandbox/settlement/store", api.root))
        .bearer_auth(&api.token)
        .json(&json!({"amount": 10_000, "iban": IBAN, "track_id": "lost-1"}))
        .send()
        .await;
    assert!(sent.is_err(), "the answer should be lost: {sent:?}");
    // the settlement was registered: the statement finds it by track_id, the wallet fell
    let (s, v) = api
        .call(
            Method::GET,
            "/v3/business/{b}/transaction?track_id=lost-1",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(api.wallet_toman().await, before - 10_000);
    // the fault was used up: the next call answers
    let (s, v) = api
        .call(
            Method::POST,
            "/v3/business/{b}/settlement/store",
            Some(json!({"amount": 10_000, "iban": IBAN, "track_id": "lost-1"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    api.assert_statement_matches_wallet().await;
}
