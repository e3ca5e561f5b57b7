//! End-to-end tests over raw HTTP on 127.0.0.1. Time moves only through the sandbox clock
//! (every sandbox here is started with a frozen clock).

use std::time::Duration;

use reqwest::{Client, StatusCode, redirect::Policy};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use vandar_sandbox::{Fault, FaultKind, Sandbox};

async fn sandbox() -> Sandbox {
    Sandbox::builder()
        .frozen_clock(true)
        .rate_limit(false)
        .start()
        .await
        .expect("sandbox starts")
}

fn client() -> Client {
    Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client")
}

async fn post(c: &Client, url: String, body: Value) -> (StatusCode, Value) {
    let r = c.post(url).json(&body).send().await.expect("sent");
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn get_bearer(c: &Client, url: String, token: &str) -> (StatusCode, Value) {
    let r = c.get(url).bearer_auth(token).send().await.expect("sent");
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

fn query_of(url: &str) -> Vec<(String, String)> {
    url::Url::parse(url)
        .expect("url")
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// GET a page and read its text.
async fn page_text(c: &Client, url: String) -> String {
    c.get(url).send().await.unwrap().text().await.unwrap()
}

async fn send_payment(sb: &Sandbox, c: &Client, amount: i64) -> String {
    let (s, v) = post(
        c,
        format!("{}/api/v4/send", sb.base_url()),
        json!({"api_key": sb.credentials().ipg_api_key, "amount": amount,
               "callback_url": "https://shop.example/cb?order=7", "factorNumber": "INV-7"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], 1);
    v["token"].as_str().expect("token").to_owned()
}

#[tokio::test]
async fn credentials_endpoint_and_operation_list() {
    let sb = sandbox().await;
    let c = client();
    let v: Value = c
        .get(format!("{}/__sandbox/credentials", sb.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let creds = sb.credentials();
    assert_eq!(v["ipg_api_key"], creds.ipg_api_key);
    assert_eq!(v["access_token"], creds.access_token);
    assert_eq!(v["refresh_token"], creds.refresh_token);
    assert_eq!(v["business"], creds.business);
    assert_eq!(v["sanbod_client_id"], creds.sanbod_client_id);
    assert_eq!(v["sanbod_client_secret"], creds.sanbod_client_secret);
    let ops: Value = c
        .get(format!("{}/__sandbox/operations", sb.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let list = ops["operations"].as_array().unwrap();
    assert!(list.len() >= 120);
    for spec in [
        "vandar-ipg",
        "vandar-core",
        "vandar-subscription",
        "vandar-ravand",
        "sanbod",
    ] {
        assert!(list.iter().any(|o| o["spec"] == spec), "{spec} missing");
    }
    // the specs' five browser pages plus the sandbox's Sanbod consent page
    let pages = ops["pages"].as_array().unwrap();
    assert_eq!(pages.len(), 6);
    assert!(pages.iter().any(|p| p["name"] == "consent_page"
        && p["path"] == "/__sandbox/sanbod/consent/{session}"
        && p["simulated"] == true));
}

/// Every operation of every spec answers with a schema-valid success on one base URL (the
/// server checks each success answer against its schema and answers 500 otherwise).
#[tokio::test]
async fn every_operation_answers_on_one_base_url() {
    let sb = sandbox().await;
    let c = client();
    let creds = sb.credentials();
    let base = sb.base_url().to_owned();
    let ops: Value = c
        .get(format!("{base}/__sandbox/operations"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // a CC token with every service scope, for the Sanbod services
    let scopes: Vec<String> = ops["operations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["spec"] == "sanbod" && o["auth"] == "SanbodBearer")
        // the scope of a service is the last segment of its path
        .map(|o| {
            o["path"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    let r = c
        .post(format!("{base}/oauth/v1/token?traceid=t1"))
        .basic_auth(&creds.sanbod_client_id, Some(&creds.sanbod_client_secret))
        .json(&json!({"grant_type": "client_credentials", "scope": scopes, "provider_code": "059"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let sanbod_token = r.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut called = 0;
    for op in ops["operations"].as_array().unwrap() {
        if op["stateful"] == true {
            continue;
        }
        let mut path = op["path"].as_str().unwrap().to_owned();
        path = path.replace("{business}", &creds.business);
        while let (Some(a), Some(b)) = (path.find('{'), path.find('}')) {
            path.replace_range(a..=b, "1");
        }
        let mut url = url::Url::parse(&format!("{base}{path}")).unwrap();
        for pair in op["example_query"].as_array().unwrap() {
            url.query_pairs_mut()
                .append_pair(pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
        }
        let method: reqwest::Method = op["method"].as_str().unwrap().parse().unwrap();
        let mut rb = c.request(method, url.clone());
        rb = match op["auth"].as_str().unwrap() {
            "VandarBearer" => rb.bearer_auth(&creds.access_token),
            "SanbodBearer" => rb.bearer_auth(&sanbod_token),
            "SanbodBasic" => {
                rb.basic_auth(&creds.sanbod_client_id, Some(&creds.sanbod_client_secret))
            }
            _ => rb,
        };
        if !op["example_request"].is_null() {
            rb = rb.json(&op["example_request"]);
        }
        let r = rb.send().await.unwrap();
        let status = r.status();
        let body = r.text().await.unwrap();
        assert_eq!(
            status.as_u16(),
            op["success_status"].as_u64().unwrap() as u16,
            "{} {} {url}: {body}",
            op["spec"],
            op["operation"]
        );
        called += 1;
    }
    assert!(called >= 90, "{called}");
}

#[tokio::test]
async fn ipg_pay_verify_once_and_statement() {
    let sb = sandbox().await;
    let c = client();
    let creds = sb.credentials();
    let base = sb.base_url();
    let token = send_payment(&sb, &c, 250_000).await;

    // the pay page: Persian, right-to-left, the amount in Rial and Toman with Persian digits,
    // both buttons; a reload before the decision shows it again
    let page_url = format!("{base}/v4/{token}");
    for _ in 0..2 {
        let page = c.get(&page_url).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains("<html lang=\"fa\" dir=\"rtl\">"), "{html}");
        assert!(
            html.contains("۲۵۰٬۰۰۰ ریال") && html.contains("۲۵٬۰۰۰ تومان"),
            "{html}"
        );
        assert!(html.contains("id=\"pay\"") && html.contains("id=\"cancel\""));
    }
    let en = c.get(format!("{page_url}?lang=en")).send().await.unwrap();
    let html = en.text().await.unwrap();
    assert!(html.contains("<html lang=\"en\" dir=\"ltr\">"), "{html}");
    assert!(
        html.contains("250,000 Rial") && html.contains("25,000 Toman"),
        "{html}"
    );

    // not paid yet: code 0, verify refused with status 0
    let info_url = format!("{base}/api/v4/transaction");
    let key = json!({"api_key": creds.ipg_api_key, "token": token});
    let (_, info) = post(&c, info_url.clone(), key.clone()).await;
    assert_eq!(info["code"], 0);

    // the buyer's click (a browser form post) redirects to the callback
    let r = c
        .post(format!("{base}/__sandbox/ipg/{token}/pay"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("redirect=1&card=6104337812345678")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with("https://shop.example/cb?"),
        "{location}"
    );
    let q = query_of(&location);
    assert!(q.contains(&("order".into(), "7".into())));
    assert!(q.contains(&("token".into(), token.clone())));
    assert!(q.contains(&("payment_status".into(), "OK".into())));
    // after Pay the one-time rule applies: the page answers 404
    assert_eq!(
        c.get(&page_url).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );

    let (s, info) = post(&c, info_url.clone(), key.clone()).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(info["code"], 1);
    assert_eq!(info["amount"], "250000");
    assert_eq!(info["cardNumber"], "610433******5678");
    assert_eq!(info["factorNumber"], "INV-7");
    let cid = info["CID"].as_str().unwrap().to_owned();
    assert_eq!(cid.len(), 64);

    let verify_url = format!("{base}/api/v4/verify");
    let (s, v) = post(&c, verify_url.clone(), key.clone()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], 1);
    assert_eq!(v["amount"], "250000.00");
    assert_eq!(v["realAmount"], 250_000);
    assert_eq!(v["cid"], cid.as_str());
    assert_eq!(v["transId"], info["transId"]);

    // verify answers once
    let (s, v) = post(&c, verify_url, key.clone()).await;
    assert!(s.is_client_error());
    assert_eq!(v["status"], 2);
    let (_, info) = post(&c, info_url, key).await;
    assert_eq!(info["code"], 2);

    // the wallet (Toman) and the statement reflect the payment
    let (s, bal) = get_bearer(
        &c,
        format!("{base}/v2/business/{}/balance", creds.business),
        &creds.access_token,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(bal["data"]["wallet"], 5_000_000 + 25_000);
    let (_, st) = get_bearer(
        &c,
        format!(
            "{base}/v3/business/{}/transaction?per_page=1",
            creds.business
        ),
        &creds.access_token,
    )
    .await;
    assert_eq!(st["data"][0]["id"], v_trans(&st));
    assert_eq!(st["data"][0]["amount"], 25_000);
    assert_eq!(st["data"][0]["status"], 1);
    assert_eq!(st["data"][0]["factorNumber"], "INV-7");
    assert_eq!(st["has_more"], true);
}

fn v_trans(st: &Value) -> Value {
    st["data"][0]["id"].clone()
}

#[tokio::test]
async fn ipg_cancel_and_verify_window() {
    let sb = sandbox().await;
    let c = client();
    let creds = sb.credentials();
    let base = sb.base_url();

    // Cancel: FAILED callback, code 4, verify refused
    let token = send_payment(&sb, &c, 10_000).await;
    let r = c
        .post(format!("{base}/__sandbox/ipg/{token}/fail"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("redirect=1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let q = query_of(r.headers()["location"].to_str().unwrap());
    assert!(q.contains(&("payment_status".into(), "FAILED".into())));
    let key = json!({"api_key": creds.ipg_api_key, "token": token});
    let (_, info) = post(&c, format!("{base}/api/v4/transaction"), key.clone()).await;
    assert_eq!(info["code"], 4);
    let (s, v) = post(&c, format!("{base}/api/v4/verify"), key).await;
    assert!(s.is_client_error());
    assert_eq!(v["status"], 0);
    // deciding twice is refused
    let r = c
        .post(format!("{base}/__sandbox/ipg/{token}/pay"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);

    // paid, then 20 minutes pass: code 3, verify status 3
    let token = send_payment(&sb, &c, 10_000).await;
    let callback = sb.pay_ipg(&token).await.expect("paid");
    assert!(callback.contains("payment_status=OK"));
    sb.advance_clock(Duration::from_secs(20 * 60 - 1)).await;
    let key = json!({"api_key": creds.ipg_api_key, "token": token});
    let (_, info) = post(&c, format!("{base}/api/v4/transaction"), key.clone()).await;
    assert_eq!(info["code"], 1, "still inside the window");
    sb.advance_clock(Duration::from_secs(2)).await;
    let (_, info) = post(&c, format!("{base}/api/v4/transaction"), key.clone()).await;
    assert_eq!(info["code"], 3);
    let (s, v) = post(&c, format!("{base}/api/v4/verify"), key).await;
    assert!(s.is_client_error());
    assert_eq!(v["status"], 3);
}

#[tokio::test]
async fn validation_errors_use_documented_shapes() {
    let sb = sandbox().await;
    let c = client();
    let creds = sb.credentials();
    let base = sb.base_url();
    // IPG: {status:0, errors:[..]}
    let (s, v) = post(
        &c,
        format!("{base}/api/v4/send"),
        json!({"api_key": creds.ipg_api_key, "amount": 999}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["status"], 0);
    let errors = v["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e.as_str().unwrap().contains("callback_url"))
    );
    assert!(
        errors
            .iter()
            .any(|e| e.as_str().unwrap().contains("amount"))
    );
    // wrong api_key
    let (s, v) = post(
        &c,
        format!("{base}/api/v4/send"),
        json!({"api_key": "nope", "amount": 1000, "callback_url": "https://a.example/"}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["errors"][0], "api_key is invalid");
    // Vandar: Laravel {message, errors:{field:[..]}}
    let r = c
        .post(format!(
            "{base}/v3/business/{}/settlement/store",
            creds.business
        ))
        .bearer_auth(&creds.access_token)
        .json(&json!({"amount": 6000, "iban": "IR430550011480005587452001"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["message"], "The given data was invalid.");
    assert_eq!(
        v["errors"]["track_id"][0],
        "The track id field is required."
    );
    assert!(v["errors"].get("amount").is_none());
    // query parameters are validated too (per_page at most 100)
    let (s, v) = get_bearer(
        &c,
        format!(
            "{base}/v3/business/{}/transaction?per_page=500",
            creds.business
        ),
        &creds.access_token,
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v["errors"]["per_page"].is_array(), "{v}");
    // Sanbod: {error:true, message:{field:[..]}}
    let r = c
        .post(format!("{base}/oautht/v1/authorize?traceid=42"))
        .json(&json!({"provider_code": "059"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], true);
    assert!(v["message"]["client_id"].is_array(), "{v}");
    assert_eq!(v["traceid"], "42");
    // unknown business
    let (s, _) = get_bearer(
        &c,
        format!("{base}/v2/business/other/balance"),
        &creds.access_token,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bearer_tokens_expire_and_refresh_rotates_both() {
    let sb = sandbox().await;
    let c = client();
    let creds = sb.credentials();
    let base = sb.base_url();
    let balance = format!("{base}/v2/business/{}/balance", creds.business);
    let (s, v) = get_bearer(&c, balance.clone(), "wrong").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(v, json!({"status": 0, "error": "Unauthenticated"}));
    let r = c.get(&balance).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // 5 days: the access token expires, the refresh token (10 days) still works
    sb.advance_clock(Duration::from_secs(5 * 24 * 3600)).await;
    let (s, _) = get_bearer(&c, balance.clone(), &creds.access_token).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, v) = post(
        &c,
        format!("{base}/v3/refreshtoken"),
        json!({"refreshtoken": creds.refresh_token}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 432_000);
    let access = v["access_token"].as_str().unwrap().to_owned();
    let refresh = v["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(access, creds.access_token);
    assert_ne!(refresh, creds.refresh_token);
    assert_eq!(sb.credentials().access_token, access);
    let (s, _) = get_bearer(&c, balance.clone(), &access).await;
    assert_eq!(s, StatusCode::OK);
    // the old refresh token is refused
    let (s, v) = post(
        &c,
        format!("{base}/v3/refreshtoken"),
        json!({"refreshtoken": creds.refresh_token}),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(v["message"], "unauthorized");
    // the new refresh token lapses after 10 days
    sb.advance_clock(Duration::from_secs(10 * 24 * 3600)).await;
    let (s, _) = post(
        &c,
        format!("{base}/v3/refreshtoken"),
        json!({"refreshtoken": refresh}),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

/// A one-shot HTTP receiver for webhooks: returns the URL and a channel with each body.
/// A local receiver of webhooks and callbacks: each request as `(request line, body)`.
async fn request_receiver() -> (
    String,
    tokio::sync::mpsc::UnboundedReceiver<(String, String)>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/notify", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            loop {
                let n = s.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        let line = text.lines().next().unwrap_or_default().to_owned();
                        let _ = tx.send((line, text[end + 4..end + 4 + len].to_owned()));
                        break;
                    }
                }
            }
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
                .await;
        }
    });
    (url, rx)
}

/// A local receiver of webhooks: each request's body.
async fn receiver() -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let (url, mut requests) = request_receiver().await;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some((_, body)) = requests.recv().await {
            let _ = tx.send(body);
        }
    });
    (url, rx)
}

/// `store_settlement` of `amount` Toman to a fixed IBAN, with a `notify_url`.
fn store_settlement(
    c: &Client,
    base: &str,
    creds: &vandar_sandbox::Credentials,
    track: &str,
    amount: i64,
    notify_url: &str,
) -> reqwest::RequestBuilder {
    c.post(format!(
        "{base}/v3/business/{}/settlement/store",
        creds.business
    ))
    .bearer_auth(&creds.access_token)
    .json(
        &json!({"amount": amount, "iban": "IR430550011480005587452001", "track_id": track,
                  "notify_url": notify_url}),
    )
}

#[tokio::test]
async fn settlements_move_the_wallet_and_notify() {
    let sb = sandbox().await;
    let c = client();
    let creds = sb.credentials();
    let base = sb.base_url();
    let biz = &creds.business;
    let (notify_url, mut notified) = receiver().await;
    let store = |track: &str, amount: i64| {
        store_settlement(&c, base, &creds, track, amount, &notify_url).send()
    };
    let r = store("track-1", 100_000).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    let s1 = &v["data"]["settlement"][0];
    assert_eq!(s1["amount"], 1_000_000, "Rial");
    assert_eq!(s1["amount_toman"], 100_000);
    assert_eq!(s1["status"], "PENDING");
    assert_eq!(s1["wallet"], "49000000", "Rial, like amount");
    let id1 = s1["id"].as_str().unwrap().to_owned();
    let tid1 = s1["transaction_id"].as_i64().unwrap();

    // a repeated track_id is refused (Laravel unique rule), the wallet is unchanged
    let r = store("track-1", 100_000).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v: Value = r.json().await.unwrap();
    assert!(
        v["errors"]["track_id"][0]
            .as_str()
            .unwrap()
            .contains("taken")
    );
    // more than the wallet is refused
    let r = store("track-big", 99_000_000).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let (_, bal) = get_bearer(
        &c,
        format!("{base}/v2/business/{biz}/balance"),
        &creds.access_token,
    )
    .await;
    assert_eq!(bal["data"]["wallet"], 4_900_000);

    let r = store("track-2", 50_000).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    let tid2 = v["data"]["settlement"][0]["transaction_id"]
        .as_i64()
        .unwrap();

    // list: a Laravel page, newest first
    let (s, list) = get_bearer(
        &c,
        format!("{base}/v2.1/business/{biz}/settlement?per_page=1&page=2"),
        &creds.access_token,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let page = &list["data"]["settlements"];
    assert_eq!(page["total"], 2);
    assert_eq!(page["last_page"], 2);
    assert_eq!(page["current_page"], 2);
    assert!(page["next"].is_null());
    assert!(page["prev"].as_str().unwrap().ends_with("page=1"));
    assert_eq!(page["data"][0]["id"], id1.as_str());
    assert_eq!(page["data"][0]["amount"], 100_000);

    // show
    let (s, one) = get_bearer(
        &c,
        format!("{base}/v2.1/business/{biz}/settlement/{id1}"),
        &creds.access_token,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(one["data"]["settlement"]["status"], "PENDING");

    // statement: the cursor walks the two settlements and the opening balance
    let (_, p1) = get_bearer(
        &c,
        format!("{base}/v3/business/{biz}/transaction?per_page=2"),
        &creds.access_token,
    )
    .await;
    assert_eq!(p1["has_more"], true);
    assert_eq!(p1["data"][0]["id"], tid2);
    assert_eq!(p1["data"][0]["status"], -2);
    assert_eq!(p1["data"][1]["id"], tid1);
    assert_eq!(p1["data"][1]["amount"], -100_000);
    let (_, p2) = get_bearer(
        &c,
        format!("{base}/v3/business/{biz}/transaction?per_page=2&start_after={tid1}"),
        &creds.access_token,
    )
    .await;
    assert_eq!(p2["has_more"], false);
    assert_eq!(p2["data"].as_array().unwrap().len(), 1);
    let (_, by_track) = get_bearer(
        &c,
        format!("{base}/v3/business/{biz}/transaction?track_id=track-2"),
        &creds.access_token,
    )
    .await;
    assert_eq!(by_track["data"][0]["id"], tid2);

    // cancel the second: money back, a repeat is refused, the webhook says CANCELED
    let r = c
        .delete(format!("{base}/v2.1/business/{biz}/settlement/{tid2}"))
        .bearer_auth(&creds.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = c
        .delete(format!("{base}/v2.1/business/{biz}/settlement/{tid2}"))
        .bearer_auth(&creds.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (_, bal) = get_bearer(
        &c,
        format!("{base}/v2/business/{biz}/balance"),
        &creds.access_token,
    )
    .await;
    assert_eq!(bal["data"]["wallet"], 4_900_000);
    let form = tokio::time::timeout(Duration::from_secs(10), notified.recv())
        .await
        .unwrap()
        .unwrap();
    let fields: Vec<(String, String)> = serde_urlencoded::from_str(&form).unwrap();
    assert!(
        fields.contains(&("status".into(), "CANCELED".into())),
        "{form}"
    );
    assert!(fields.contains(&("transaction_id".into(), tid2.to_string())));

    // the 30-minute cycle sends the first one: DONE, webhook with the Rial amount
    sb.advance_clock(Duration::from_secs(30 * 60)).await;
    let form = tokio::time::timeout(Duration::from_secs(10), notified.recv())
        .await
        .unwrap()
        .unwrap();
    let fields: Vec<(String, String)> = serde_urlencoded::from_str(&form).unwrap();
    assert!(fields.contains(&("status".into(), "DONE".into())), "{form}");
    assert!(fields.contains(&("id".into(), id1.clone())));
    assert!(fields.contains(&("amount".into(), "1000000".into())));
    let (_, one) = get_bearer(
        &c,
        format!("{base}/v2.1/business/{biz}/settlement/{id1}"),
        &creds.access_token,
    )
    .await;
    assert_eq!(one["data"]["settlement"]["status"], "DONE");
    // a DONE settlement cannot be cancelled
    let r = c
        .delete(format!("{base}/v2.1/business/{biz}/settlement/{tid1}"))
        .bearer_auth(&creds.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn faults_hit_the_next_calls_only() {
    let sb = sandbox().await;
    let c = client();
    let creds = sb.credentials();
    let base = sb.base_url().to_owned();
    let balance = format!("{base}/v2/business/{}/balance", creds.business);
    // over HTTP: drop the connection once
    let r = c
        .post(format!("{base}/__sandbox/faults"))
        .json(&json!({"operation": "get_balance", "spec": "vandar-core", "kind": "drop"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        c.get(&balance)
            .bearer_auth(&creds.access_token)
            .send()
            .await
            .is_err()
    );
    assert_eq!(
        c.get(&balance)
            .bearer_auth(&creds.access_token)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    // 5xx twice
    sb.inject_fault(Fault {
        operation: "get_balance".into(),
        spec: Some("vandar-core".into()),
        count: 2,
        kind: FaultKind::Status { status: 503 },
    })
    .await
    .unwrap();
    for _ in 0..2 {
        let r = c
            .get(&balance)
            .bearer_auth(&creds.access_token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
    assert_eq!(
        c.get(&balance)
            .bearer_auth(&creds.access_token)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    // 429 with Retry-After
    sb.inject_fault(Fault {
        operation: "send_payment".into(),
        spec: None,
        count: 1,
        kind: FaultKind::RateLimit { retry_after: 7 },
    })
    .await
    .unwrap();
    let r = c
        .post(format!("{base}/api/v4/send"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "7");
    // an HTML body
    sb.inject_fault(Fault {
        operation: "send_payment".into(),
        spec: None,
        count: 1,
        kind: FaultKind::Html { status: 502 },
    })
    .await
    .unwrap();
    let r = c
        .post(format!("{base}/api/v4/send"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_GATEWAY);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(r.text().await.unwrap().contains("<html>"));
    // a delay (lower bound only)
    sb.inject_fault(Fault {
        operation: "get_balance".into(),
        spec: None,
        count: 1,
        kind: FaultKind::Delay { ms: 300 },
    })
    .await
    .unwrap();
    let t = std::time::Instant::now();
    let r = c
        .get(&balance)
        .bearer_auth(&creds.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(t.elapsed() >= Duration::from_millis(300));
    // unknown operations are refused; clear works
    assert!(
        sb.inject_fault(Fault {
            operation: "nope".into(),
            spec: None,
            count: 1,
            kind: FaultKind::Drop
        })
        .await
        .is_err()
    );
    sb.inject_fault(Fault {
        operation: "get_balance".into(),
        spec: None,
        count: 5,
        kind: FaultKind::Drop,
    })
    .await
    .unwrap();
    let r = c
        .delete(format!("{base}/__sandbox/faults"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        c.get(&balance)
            .bearer_auth(&creds.access_token)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn rate_limits_as_documented() {
    let sb = Sandbox::builder().frozen_clock(true).start().await.unwrap();
    let c = client();
    let creds = sb.credentials();
    let base = sb.base_url().to_owned();
    let send = || {
        c.post(format!("{base}/api/v4/send"))
            .json(&json!({"api_key": creds.ipg_api_key, "amount": 1000, "callback_url": "https://a.example/"}))
            .send()
    };
    for i in 0..30 {
        assert_eq!(send().await.unwrap().status(), StatusCode::OK, "call {i}");
    }
    let r = send().await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "3");
    // other methods have their own budget of 100
    let balance = format!("{base}/v2/business/{}/balance", creds.business);
    for _ in 0..100 {
        assert_eq!(
            c.get(&balance)
                .bearer_auth(&creds.access_token)
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::OK
        );
    }
    let r = c
        .get(&balance)
        .bearer_auth(&creds.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // the window is 3 seconds of sandbox time
    let r = c
        .post(format!("{base}/__sandbox/clock/advance"))
        .json(&json!({"seconds": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(send().await.unwrap().status(), StatusCode::OK);
    // switched off
    let r = c
        .post(format!("{base}/__sandbox/rate-limit"))
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    for _ in 0..40 {
        assert_eq!(send().await.unwrap().status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn sanbod_oauth_consent_tokens_and_services() {
    let sb = sandbox().await;
    let c = client();
    let creds = sb.credentials();
    let base = sb.base_url().to_owned();
    let r = c
        .post(format!("{base}/oautht/v1/authorize?traceid=1"))
        .json(&json!({"provider_code": "059", "redirect_uri": "https://app.example/back", "scope": ["statement"],
                      "client_id": creds.sanbod_client_id, "response_type": "code", "state": "xyz"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let consent = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(consent.starts_with(&format!("{base}/__sandbox/sanbod/consent/")));
    // the consent page names the app, the bank (059: Sina), the scope in Persian and where the
    // user goes next; a reload shows it again
    for _ in 0..2 {
        let html = page_text(&c, consent.clone()).await;
        assert!(html.contains("id=\"allow\"") && html.contains("data-scope=\"statement\""));
        assert!(
            html.contains("صورت‌حساب") && html.contains("بانک سینا"),
            "{html}"
        );
        assert!(html.contains("https://app.example/back"), "{html}");
    }
    let en = page_text(&c, format!("{consent}?lang=en")).await;
    assert!(
        en.contains("Sina Bank") && en.contains("You will be sent to"),
        "{en}"
    );
    let r = c
        .post(format!("{consent}/allow"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("redirect=1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let back = r.headers()["location"].to_str().unwrap().to_owned();
    let q = query_of(&back);
    assert!(back.starts_with("https://app.example/back?"));
    assert!(q.contains(&("state".into(), "xyz".into())));
    let code = q.iter().find(|(k, _)| k == "code").unwrap().1.clone();

    let token = |body: Value| {
        c.post(format!("{base}/oauth/v1/token?traceid=2"))
            .basic_auth(&creds.sanbod_client_id, Some(&creds.sanbod_client_secret))
            .json(&body)
            .send()
    };
    let r = token(json!({"grant_type": "authorization_code", "code": code}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let t: Value = r.json().await.unwrap();
    let access = t["access_token"].as_str().unwrap().to_owned();
    let refresh = t["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(access.split('.').count(), 3, "JWT-shaped");
    // the code is single-use
    let r = token(json!({"grant_type": "authorization_code", "code": code}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_grant");
    // wrong client secret
    let r = c
        .post(format!("{base}/oauth/v1/token?traceid=3"))
        .basic_auth(&creds.sanbod_client_id, Some("wrong"))
        .json(&json!({"grant_type": "refresh_token", "refresh_token": refresh}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // the granted service answers; another is refused
    let r = c
        .post(format!("{base}/statement?traceid=77"))
        .bearer_auth(&access)
        .json(&json!({"depositNumber": "119-813-2618257-1", "fromDate": "1402/01/01", "toDate": "1402/01/31"}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    assert!(
        status == StatusCode::OK || status == StatusCode::BAD_REQUEST,
        "{status} {text}"
    );
    let r = c
        .post(format!("{base}/normaltransfer?traceid=78"))
        .bearer_auth(&access)
        .json(&json!({"destinationDepositNumber": "1", "sourceDepositNumber": "2", "transferAmount": "20000"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], true);
    assert_eq!(v["traceid"], "78");

    // refresh rotates; the old refresh token is refused
    let r = token(json!({"grant_type": "refresh_token", "refresh_token": refresh}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let t2: Value = r.json().await.unwrap();
    let access2 = t2["access_token"].as_str().unwrap().to_owned();
    let r = token(json!({"grant_type": "refresh_token", "refresh_token": refresh}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // revoke ends the token
    let r = c
        .post(format!("{base}/oauth/v1/revoke?traceid=4"))
        .json(&json!({"access_token": access2}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = c
        .post(format!("{base}/statement?traceid=79"))
        .bearer_auth(&access2)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // deny: the redirect carries error=access_denied and no code
    let r = c
        .post(format!("{base}/oautht/v1/authorize?traceid=5"))
        .json(&json!({"provider_code": "057", "redirect_uri": "https://app.example/back", "scope": ["achtransfer"],
                      "client_id": creds.sanbod_client_id, "response_type": "code"}))
        .send()
        .await
        .unwrap();
    let consent = r.headers()["location"].to_str().unwrap().to_owned();
    let session = consent.rsplit('/').next().unwrap().to_owned();
    let back = sb.decide_sanbod_consent(&session, false).await.unwrap();
    assert!(back.contains("error=access_denied") && !back.contains("code="));
    assert!(sb.decide_sanbod_consent(&session, true).await.is_err());
}

#[tokio::test]
async fn reset_and_shutdown() {
    let sb = sandbox().await;
    let c = client();
    let base = sb.base_url().to_owned();
    let token = send_payment(&sb, &c, 5000).await;
    let r = c
        .post(format!("{base}/__sandbox/reset"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(sb.pay_ipg(&token).await.is_err(), "payments are forgotten");
    let token = send_payment(&sb, &c, 5000).await;
    sb.reset().await;
    let r = c
        .post(format!("{base}/__sandbox/ipg/{token}/pay"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    sb.shutdown().await;
    let c2 = client();
    assert!(
        c2.get(format!("{base}/__sandbox/credentials"))
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn direct_debit_mandate_withdrawals_and_revoke() {
    let sb = sandbox().await;
    let c = client();
    let creds = sb.credentials();
    let base = sb.base_url().to_owned();
    let sub = format!("{base}/v3/business/{}/subscription", creds.business);
    let tok = creds.access_token.clone();

    // banks
    let (s, banks) = get_bearer(&c, format!("{sub}/banks/actives"), &tok).await;
    assert_eq!(s, StatusCode::OK);
    let bank = banks["result"]["banks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["has_direct_debit_ability"] == true && b["is_healthy_on_direct_debit"] == true)
        .expect("a healthy bank in the spec example")["code"]
        .as_str()
        .unwrap()
        .to_owned();

    let store = |body: Value| {
        c.post(format!("{sub}/authorization/store"))
            .bearer_auth(&tok)
            .json(&body)
            .send()
    };
    let mandate = json!({"bank_code": bank, "mobile": "09123456789", "callback_url": "https://shop.example/dd",
                         "count": 2, "limit": 1_000_000, "expiration_date": "2999-01-01"});
    // a past expiration date is refused (Laravel shape)
    let mut past = mandate.clone();
    past["expiration_date"] = json!("2001-01-01");
    let r = store(past).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json::<Value>().await.unwrap()["errors"]["expiration_date"].is_array());

    let r = store(mandate.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let token = r.json::<Value>().await.unwrap()["result"]["authorization"]["token"]
        .as_str()
        .unwrap()
        .to_owned();

    // the bank page (the bank's Persian name, the limits; shown again on a reload), then the
    // customer's approval (a browser form post)
    for _ in 0..2 {
        let page = c
            .get(format!("{base}/authorizations/{token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(
            html.contains("id=\"approve\"") && html.contains("۱٬۰۰۰٬۰۰۰"),
            "{html}"
        );
        assert!(html.contains("بانک آینده") || bank != "062", "{html}");
    }
    let en = page_text(&c, format!("{base}/authorizations/{token}?lang=en")).await;
    assert!(
        en.contains("1,000,000 Rial") && en.contains("dir=\"ltr\""),
        "{en}"
    );
    let r = c
        .post(format!("{base}/__sandbox/mandates/{token}/approve"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("redirect=1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let q = query_of(r.headers()["location"].to_str().unwrap());
    assert!(q.contains(&("status".into(), "SUCCEED".into())));
    assert!(q.contains(&("token".into(), token.clone())));
    let id = q
        .iter()
        .find(|(k, _)| k == "authorization_id")
        .unwrap()
        .1
        .clone();

    // not verified yet: withdrawals refused
    let withdraw = |body: Value| {
        c.post(format!("{sub}/withdrawal/store"))
            .bearer_auth(&tok)
            .json(&body)
            .send()
    };
    let r =
        withdraw(json!({"authorization_id": id, "amount": "10000", "track_id": "w-unverified"}))
            .await
            .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // verify once
    let r = c
        .patch(format!("{sub}/authorization/{id}/verify"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = c
        .patch(format!("{sub}/authorization/{id}/verify"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // list and search
    let (_, list) = get_bearer(&c, format!("{sub}/authorization?mobile=09123456789"), &tok).await;
    assert_eq!(list["data"][0]["id"], id.as_str());
    assert_eq!(list["data"][0]["status"], "ACTIVE");
    assert_eq!(list["meta"]["total"], 1);
    let (s, found) = get_bearer(&c, format!("{sub}/authorization/{id}/search"), &tok).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(found["result"]["authorizations"]["id"], id.as_str());

    // limits: per withdrawal
    let r = withdraw(json!({"authorization_id": id, "amount": "1000001", "track_id": "w-over"}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json::<Value>().await.unwrap()["errors"]["amount"].is_array());
    // an instant withdrawal settles at the first inquiry; the wallet receives it
    let (notify_url, mut notified) = receiver().await;
    let r = withdraw(json!({"authorization_id": id, "amount": "1000000", "track_id": "w-1", "notify_url": notify_url}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let w: Value = r.json().await.unwrap();
    assert_eq!(w["result"]["withdrawal"]["status"], "PENDING");
    let wid = w["result"]["withdrawal"]["id"].as_str().unwrap().to_owned();
    let (_, shown) = get_bearer(&c, format!("{sub}/withdrawal/{wid}"), &tok).await;
    assert_eq!(shown["result"]["withdrawal"]["status"], "DONE");
    let form = tokio::time::timeout(Duration::from_secs(10), notified.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(
        form.contains("status=DONE") && form.contains(&format!("withdrawal_id={wid}")),
        "{form}"
    );
    let (_, bal) = get_bearer(
        &c,
        format!("{base}/v2/business/{}/balance", creds.business),
        &tok,
    )
    .await;
    assert_eq!(bal["data"]["wallet"], 5_000_000 + 100_000);
    // track id: look-up and uniqueness
    let (s, by_track) = get_bearer(&c, format!("{sub}/withdrawal/track-id/w-1"), &tok).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(by_track["result"]["withdrawal"]["id"], wid.as_str());
    let r = withdraw(json!({"authorization_id": id, "amount": "1000", "track_id": "w-1"}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json::<Value>().await.unwrap()["errors"]["track_id"].is_array());
    // a scheduled one can be cancelled; the monthly count (2) is then free again
    let r = withdraw(json!({"authorization_id": id, "amount": "5000", "is_instant": 0, "withdrawal_date": "2998-01-01", "track_id": "w-scheduled"}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let sid = r.json::<Value>().await.unwrap()["result"]["withdrawal"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = withdraw(json!({"authorization_id": id, "amount": "5000", "track_id": "w-count"}))
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "monthly count reached"
    );
    assert!(r.json::<Value>().await.unwrap()["errors"]["authorization_id"].is_array());
    let r = c
        .put(format!("{sub}/withdrawal/{sid}"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = c
        .put(format!("{sub}/withdrawal/{wid}"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "instant withdrawals cannot be cancelled"
    );
    let (_, usage) = get_bearer(&c, format!("{sub}/authorization/{id}/calculation"), &tok).await;
    assert_eq!(usage["result"]["current_month_withdrawal_count"], 1);
    assert_eq!(usage["result"]["current_month_remaining_count"], 1);
    let (_, ws) = get_bearer(&c, format!("{sub}/withdrawal?q={id}"), &tok).await;
    assert_eq!(ws["meta"]["total"], 2);

    // revoke: gone from the list, search says revoked, withdrawals refused
    let r = c
        .delete(format!("{sub}/authorization/{id}"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (_, list) = get_bearer(&c, format!("{sub}/authorization"), &tok).await;
    assert_eq!(list["meta"]["total"], 0);
    let (s, _) = get_bearer(&c, format!("{sub}/authorization/{id}/search"), &tok).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let r = withdraw(json!({"authorization_id": id, "amount": "1000", "track_id": "w-revoked"}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // a refusal at the bank: FAILED with the error code
    let r = store(mandate.clone()).await.unwrap();
    let token = r.json::<Value>().await.unwrap()["result"]["authorization"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let back = sb.fail_mandate(&token, Some("08")).await.unwrap();
    assert!(
        back.contains("status=FAILED") && back.contains("error_code=08"),
        "{back}"
    );

    // approved but not verified within 20 minutes: the mandate lapses
    let r = store(mandate).await.unwrap();
    let token = r.json::<Value>().await.unwrap()["result"]["authorization"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let back = sb.approve_mandate(&token).await.unwrap();
    let id = query_of(&back)
        .into_iter()
        .find(|(k, _)| k == "authorization_id")
        .unwrap()
        .1;
    sb.advance_clock(Duration::from_secs(20 * 60)).await;
    let r = c
        .patch(format!("{sub}/authorization/{id}/verify"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (_, list) = get_bearer(&c, format!("{sub}/authorization"), &tok).await;
    assert_eq!(list["meta"]["total"], 0);
}

#[tokio::test]
async fn empty_pages_are_schema_valid() {
    let sb = sandbox().await;
    let c = client();
    let creds = sb.credentials();
    let base = sb.base_url();
    let biz = &creds.business;
    for path in [
        format!("/v2.1/business/{biz}/settlement"),
        format!("/v3/business/{biz}/subscription/authorization"),
        format!("/v3/business/{biz}/subscription/withdrawal"),
    ] {
        let (s, v) = get_bearer(&c, format!("{base}{path}"), &creds.access_token).await;
        assert_eq!(s, StatusCode::OK, "{path}: {v}");
    }
    // the statement of a fresh sandbox holds the opening balance only
    let (_, st) = get_bearer(
        &c,
        format!("{base}/v3/business/{biz}/transaction"),
        &creds.access_token,
    )
    .await;
    assert_eq!(st["has_more"], false);
    assert_eq!(st["data"][0]["amount"], 5_000_000);
}

#[tokio::test]
async fn seeding_control_fills_the_statement_and_keeps_it_equal_to_the_wallet() {
    let sb = sandbox().await;
    let c = client();
    let (s, v) = post(
        &c,
        format!("{}/__sandbox/seed/transactions", sb.base_url()),
        json!({"count": 240}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["count"], 240);
    let library = sb.seed_transactions(10).await.expect("seeded");
    assert_eq!(library.count, 10);
    let (s, v) = post(
        &c,
        format!("{}/__sandbox/seed/transactions", sb.base_url()),
        json!({"count": "many"}),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");

    let token = sb.credentials().access_token;
    let business = sb.credentials().business;
    let (mut rows, mut sum, mut cursor) = (0i64, 0i64, None::<i64>);
    loop {
        let mut url = format!(
            "{}/v3/business/{business}/transaction?per_page=100",
            sb.base_url()
        );
        if let Some(c) = cursor {
            url.push_str(&format!("&start_after={c}"));
        }
        let (s, page) = get_bearer(&c, url, &token).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        let items = page["data"].as_array().expect("items");
        for item in items {
            rows += 1;
            sum += item["amount"].as_i64().expect("amount");
        }
        cursor = items.last().and_then(|i| i["id"].as_i64());
        if page["has_more"] != json!(true) {
            break;
        }
    }
    // the opening balance plus 250 seeded lines
    assert_eq!(rows, 251);
    let (s, balance) = get_bearer(
        &c,
        format!("{}/v2/business/{business}/balance", sb.base_url()),
        &token,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{balance}");
    assert_eq!(balance["data"]["wallet"].as_i64(), Some(sum));
    assert_eq!(library.wallet_toman, sum);
}

/// All statement lines a query selects (following the `start_after` cursor), as their
/// Jalali days `yyyymmdd` read from `created_at` (`17:46:57 - 1401/3/7`).
async fn statement_days(c: &Client, base: &str, token: &str, biz: &str, filter: &str) -> Vec<i64> {
    let mut days = Vec::new();
    let mut cursor = String::new();
    loop {
        let (s, page) = get_bearer(
            c,
            format!("{base}/v3/business/{biz}/transaction?per_page=100{filter}{cursor}"),
            token,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{page}");
        let lines = page["data"].as_array().unwrap();
        for line in lines {
            let date = line["created_at"]
                .as_str()
                .unwrap()
                .rsplit(" - ")
                .next()
                .unwrap();
            let parts: Vec<i64> = date.split('/').map(|p| p.parse().unwrap()).collect();
            days.push(parts[0] * 10_000 + parts[1] * 100 + parts[2]);
        }
        if page["has_more"] != true {
            return days;
        }
        cursor = format!("&start_after={}", lines.last().unwrap()["id"]);
    }
}

#[tokio::test]
async fn statement_date_filters_select_jalali_days() {
    let sb = Sandbox::builder()
        .frozen_clock(true)
        .rate_limit(false)
        .start()
        .await
        .unwrap();
    // one line per 30 s: 3,000 lines span 25 hours, so at least two Tehran days
    sb.seed_transactions(3_000).await.unwrap();
    let c = client();
    let creds = sb.credentials();
    let (base, tok, biz) = (sb.base_url(), &creds.access_token, &creds.business);
    let all = statement_days(&c, base, tok, biz, "").await;
    assert_eq!(all.len(), 3_001);
    // the statement is in id order; the seeded lines are dated back from now
    let (newest, oldest) = (*all.iter().max().unwrap(), *all.iter().min().unwrap());
    assert!(oldest < newest, "{oldest} {newest}");
    let count =
        |day: i64, pick: fn(i64, i64) -> bool| all.iter().filter(|d| pick(**d, day)).count();

    let today = statement_days(&c, base, tok, biz, &format!("&fromDate={newest}")).await;
    assert_eq!(today.len(), count(newest, |d, x| d >= x));
    assert!(today.iter().all(|d| *d == newest));
    let first_day = statement_days(&c, base, tok, biz, &format!("&toDate={oldest}")).await;
    assert_eq!(first_day.len(), count(oldest, |d, x| d <= x));
    assert!(!first_day.is_empty() && first_day.iter().all(|d| *d == oldest));
    let both = format!("&fromDate={oldest}&toDate={newest}");
    assert_eq!(
        statement_days(&c, base, tok, biz, &both).await.len(),
        all.len()
    );
    let none = format!("&fromDate={newest}&toDate={oldest}");
    assert!(statement_days(&c, base, tok, biz, &none).await.is_empty());

    // a date that is not yyyymmdd is refused, naming the field
    let (s, v) = get_bearer(
        &c,
        format!("{base}/v3/business/{biz}/transaction?fromDate=1400-01-02"),
        tok,
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v["errors"]["fromDate"].is_array(), "{v}");
}

/// The controls a `vandar trigger <event>` tool fires: settlement done / failed, the IPG
/// payment paid, and any webhook or callback sent again.
#[tokio::test]
async fn trigger_controls_end_settlements_and_resend_notifications() {
    let sb = sandbox().await;
    let c = client();
    let creds = sb.credentials();
    let base = sb.base_url();
    let biz = &creds.business;
    let (notify_url, mut requests) = request_receiver().await;
    let store =
        |track: &str| store_settlement(&c, base, &creds, track, 100_000, &notify_url).send();
    let ids = {
        let mut ids = Vec::new();
        for track in ["trigger-1", "trigger-2"] {
            let v: Value = store(track).await.unwrap().json().await.unwrap();
            ids.push(
                v["data"]["settlement"][0]["id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        ids
    };
    let wallet = |sb: &Sandbox| {
        let (c, base, biz, tok) = (
            client(),
            sb.base_url().to_owned(),
            biz.clone(),
            creds.access_token.clone(),
        );
        async move {
            get_bearer(&c, format!("{base}/v2/business/{biz}/balance"), &tok)
                .await
                .1["data"]["wallet"]
                .clone()
        }
    };
    assert_eq!(wallet(&sb).await, 4_800_000);

    // settlement done: the webhook says DONE, no money moves
    let r = c
        .post(format!("{base}/__sandbox/settlements/{}/done", ids[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "DONE");
    assert!(v["ref_code"].is_string());
    let (line, form) = requests.recv().await.unwrap();
    assert!(line.starts_with("POST /notify"), "{line}");
    assert!(
        form.contains("status=DONE") && form.contains(&format!("id={}", ids[0])),
        "{form}"
    );
    // a second time: refused, it is no longer PENDING
    let r = c
        .post(format!("{base}/__sandbox/settlements/{}/done", ids[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);

    // settlement failed: the money is back, with a revised transaction; the webhook says FAILED
    sb.end_settlement(&ids[1], false).await.unwrap();
    let (_, form) = requests.recv().await.unwrap();
    assert!(
        form.contains("status=FAILED") && form.contains("revised_transaction_id=1"),
        "{form}"
    );
    assert_eq!(wallet(&sb).await, 4_900_000);
    let r = c
        .post(format!("{base}/__sandbox/settlements/nope/failed"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // the IPG payment paid: the callback the browser follows is logged
    let token = send_payment(&sb, &c, 120_000).await;
    let r = c
        .post(format!("{base}/__sandbox/ipg/{token}/pay"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // the log: newest first, with each attempt
    let log: Value = c
        .get(format!("{base}/__sandbox/notifications"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let list = log["notifications"].as_array().unwrap();
    assert_eq!(list.len(), 3, "{log}");
    assert_eq!(list[0]["kind"], "ipg_callback");
    assert_eq!(list[0]["method"], "GET");
    assert_eq!(list[0]["attempts"][0]["by"], "browser");
    assert!(
        list[0]["url"]
            .as_str()
            .unwrap()
            .contains("payment_status=OK")
    );
    assert_eq!(list[1]["kind"], "settlement");
    // the delivery result arrives in the background: wait for it (polled, up to 10 s)
    let mut delivered = Value::Null;
    for _ in 0..500 {
        let log: Value = c
            .get(format!("{base}/__sandbox/notifications"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        delivered = log["notifications"][2]["attempts"][0]["status"].clone();
        if !delivered.is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(delivered, 200);

    // send the DONE webhook again: the same form, a second attempt
    let done_id = list[2]["id"].as_u64().unwrap();
    let r = c
        .post(format!("{base}/__sandbox/notifications/{done_id}/resend"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["attempts"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v["attempts"][1]["status"], 200);
    let (_, again) = requests.recv().await.unwrap();
    assert_eq!(again, form_of(&list[2]));

    // the IPG callback again, pointed at our receiver: the sandbox GETs it
    let token = {
        let r = c
            .post(format!("{base}/api/v4/send"))
            .json(&json!({"api_key": creds.ipg_api_key, "amount": 10_000, "callback_url": notify_url}))
            .send()
            .await
            .unwrap();
        r.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    sb.fail_ipg(&token).await.unwrap();
    let cb = sb
        .notifications()
        .into_iter()
        .find(|n| n.kind == "ipg_callback" && n.url.contains(&token))
        .unwrap();
    let resent = sb.resend_notification(cb.id).await.unwrap();
    assert_eq!(resent.attempts.last().unwrap().status, Some(200));
    let (line, _) = requests.recv().await.unwrap();
    assert!(
        line.starts_with("GET /notify?token=") && line.contains("payment_status=FAILED"),
        "{line}"
    );
    let r = c
        .post(format!("{base}/__sandbox/notifications/99999/resend"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

/// A logged POST's form, encoded as the sandbox sends it.
fn form_of(entry: &Value) -> String {
    let pairs: Vec<(String, String)> = entry["form"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p[0].as_str().unwrap().to_owned(),
                p[1].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    serde_urlencoded::to_string(pairs).unwrap()
}
