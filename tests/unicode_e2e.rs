//! Review r9 (rev-a, F1–F3), kept as regression tests: path parameters and the browser-page
//! helpers refuse `.`/`..` padded with any default-ignorable or format character or written
//! with dot look-alikes that NFKC or UTS #46 read as `.`; typed URL fields refuse bidi
//! controls and an empty authority (`https:///shop.example/cb`) instead of sending them
//! re-hosted. Errors name the parameter or field, never the value. Servers are local
//! (127.0.0.1) and count what arrives. The tests are the reviewer's (`adv_c.rs`), with their
//! imports adapted.

use serde_json::{Value, json};
use vandar::{Error, Vandar};
use vandar_runtime::test_util::{FaultServer, RecordedRequest, Reply};
use vandar_runtime::{Binding, Route, Segment};
use vandar_tests::mock_vandar;

/// Every binding of the five clients with its route table.
fn bindings(v: &Vandar) -> Vec<(&'static str, Binding, &'static [Route])> {
    vec![
        ("ipg", v.ipg().binding().clone(), vandar::ipg::ROUTES),
        ("core", v.core().binding().clone(), vandar::core::ROUTES),
        (
            "subscription",
            v.subscription().binding().clone(),
            vandar::subscription::ROUTES,
        ),
        (
            "ravand",
            v.ravand().binding().clone(),
            vandar::ravand::ROUTES,
        ),
        (
            "sanbod",
            v.sanbod().binding().clone(),
            vandar::sanbod::ROUTES,
        ),
    ]
}

fn params(route: &Route) -> Vec<&'static str> {
    route
        .segments
        .iter()
        .filter_map(|s| match s {
            Segment::Param(n) => Some(*n),
            Segment::Lit(_) => None,
        })
        .collect()
}

/// For every path parameter of every operation of the five clients, put `bad` in that
/// parameter (the others get `ok-1`) and collect what was NOT refused with an error naming
/// the parameter.
fn sweep_routes(bad_values: &[&str]) -> Vec<String> {
    let v = mock_vandar("http://127.0.0.1:9/mock");
    let mut accepted = Vec::new();
    for (product, binding, routes) in bindings(&v) {
        for route in routes {
            let names = params(route);
            for (i, name) in names.iter().enumerate() {
                for bad in bad_values {
                    let values: Vec<&str> = (0..names.len())
                        .map(|j| if j == i { *bad } else { "ok-1" })
                        .collect();
                    match binding.url(route, &values) {
                        Ok(url) => accepted.push(format!(
                            "{product}:{} `{name}` = {bad:?} -> {url}",
                            route.operation_id
                        )),
                        Err(e) => {
                            let text = e.to_string();
                            if !matches!(e, Error::InvalidRequest(_))
                                || !text.contains(&format!("`{name}`"))
                            {
                                accepted.push(format!(
                                    "{product}:{} `{name}` = {bad:?}: error does not name it: {text}",
                                    route.operation_id
                                ));
                            }
                        }
                    }
                }
            }
        }
    }
    accepted
}

/// Dot segments padded with Unicode default-ignorable / format characters that
/// `path::is_invisible` does not list: U+061C ARABIC LETTER MARK (a bidi control, common in
/// Persian text), U+180E MONGOLIAN VOWEL SEPARATOR, U+034F COMBINING GRAPHEME JOINER,
/// U+FE0F VARIATION SELECTOR-16, U+E0001 LANGUAGE TAG, U+206A..U+206F deprecated format
/// controls, U+3164 / U+115F HANGUL FILLERs, U+FFA0 HALFWIDTH HANGUL FILLER. Every one is
/// `Default_Ignorable_Code_Point` (prints as nothing).
#[test]
fn path_dot_segments_padded_with_other_invisible_characters_are_refused() {
    let bad = [
        "..\u{061c}",
        "\u{061c}..",
        ".\u{061c}.",
        "..\u{180e}",
        "\u{034f}..",
        "..\u{fe0f}",
        "..\u{e0001}",
        ".\u{206a}.",
        "..\u{206f}",
        "\u{3164}..",
        "..\u{115f}",
        "..\u{ffa0}",
        "\u{061c}",
        "\u{180e}",
        "%D8%9C..",    // U+061C percent-encoded
        "..%E1%A0%8E", // U+180E percent-encoded
    ];
    let accepted = sweep_routes(&bad);
    assert!(
        accepted.is_empty(),
        "{} path values that read as `.`/`..`/empty once invisible characters are dropped were accepted, e.g.:\n{}",
        accepted.len(),
        accepted
            .iter()
            .take(12)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Look-alike dots that UTS #46 (IDNA) maps to `.`: U+3002 IDEOGRAPHIC FULL STOP and U+FF61
/// HALFWIDTH IDEOGRAPHIC FULL STOP (U+FF0E, which the SDK already refuses, is the third of the
/// same mapping); and the full-width `％２ｅ` that NFKC turns into `%2e`.
#[test]
fn path_idna_and_nfkc_dot_lookalikes_are_refused() {
    let bad = [
        "\u{3002}\u{3002}",
        "\u{ff61}\u{ff61}",
        "\u{3002}",
        ".\u{ff61}",
        "\u{ff05}\u{ff12}\u{ff45}\u{ff05}\u{ff12}\u{ff45}", // ％２ｅ％２ｅ
    ];
    let accepted = sweep_routes(&bad);
    assert!(
        accepted.is_empty(),
        "{} look-alike dot segments accepted, e.g.:\n{}",
        accepted.len(),
        accepted
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// A browser-page helper of one of the clients, taking the page's token.
type PageHelper<'a> = Box<dyn Fn(&str) -> Result<reqwest::Url, Error> + 'a>;

/// Every browser-page helper refuses what the operations refuse, naming the parameter, and
/// puts a value in exactly its own segment.
#[test]
fn page_url_helpers_refuse_dot_segments_and_keep_one_segment() {
    let v = mock_vandar("http://127.0.0.1:9/mock");
    let ipg = v.ipg();
    let sub = v.subscription();
    let rav = v.ravand();
    let helpers: Vec<(&str, PageHelper<'_>)> = vec![
        ("payment_page_url", Box::new(|t| ipg.payment_page_url(t))),
        (
            "authorization_page_url",
            Box::new(|t| sub.authorization_page_url(t)),
        ),
        (
            "card_activation_page_url",
            Box::new(|t| rav.card_activation_page_url(t)),
        ),
        (
            "card_change_pin_page_url",
            Box::new(|t| rav.card_change_pin_page_url(t)),
        ),
        (
            "card_block_page_url",
            Box::new(|t| rav.card_block_page_url(t)),
        ),
    ];
    let mut wrong = Vec::new();
    for (name, f) in &helpers {
        for bad in [
            "",
            ".",
            "..",
            "%2e%2e",
            " ..",
            "\u{ff0e}\u{ff0e}",
            "..\u{061c}",
            "\u{3002}\u{3002}",
            "..\u{180e}",
        ] {
            match f(bad) {
                Ok(u) => wrong.push(format!("{name}({bad:?}) accepted: {u}")),
                Err(e) if !e.to_string().contains("`token`") => {
                    wrong.push(format!("{name}({bad:?}) error does not name `token`: {e}"))
                }
                Err(_) => {}
            }
        }
        for good in ["a/b?c#d", r"..\..\x", "tok%2F..", "x y", "سلام", "a;b=c"] {
            let u = f(good).unwrap();
            let segs: Vec<&str> = u.path_segments().unwrap().collect();
            let last = percent_encoding::percent_decode_str(segs.last().unwrap())
                .decode_utf8()
                .unwrap();
            if last != good || u.query().is_some() || u.fragment().is_some() {
                wrong.push(format!("{name}({good:?}) -> {u}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

fn decoded_segments(r: &RecordedRequest) -> Vec<String> {
    r.path_only()
        .split('/')
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .unwrap()
                .into_owned()
        })
        .collect()
}

/// End to end: the server decodes exactly the value, in its own segment; a refused value
/// sends nothing and the error names the field and not the value.
#[tokio::test]
async fn path_values_reach_the_server_exactly_or_nothing_is_sent() {
    let server = FaultServer::start(|_| Reply::json(200, json!({"status": 1}))).await;
    let v = mock_vandar(&format!("{}/mock", server.uri()));
    let core = v.core();
    let weird = "a/..\\b?c=d#e%2F%252e;x \u{200c}ب";
    let _ = core
        .get_settlement()
        .business("shop")
        .settlement(weird)
        .send_as::<Value>()
        .await;
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    let segs = decoded_segments(&reqs[0]);
    assert_eq!(
        segs,
        ["", "mock", "v2.1", "business", "shop", "settlement", weird]
    );
    let mut wrong = Vec::new();
    for bad in [
        "..",
        "%2e%2e",
        " ..",
        "..\u{061c}",
        "\u{3002}\u{3002}",
        "..\u{180e}",
    ] {
        let before = server.requests().len();
        match core
            .get_settlement()
            .business("shop")
            .settlement(bad)
            .send_as::<Value>()
            .await
        {
            Err(e) if e.to_string().contains("`settlement`") => {}
            other => wrong.push(format!("{bad:?}: {other:?}")),
        }
        if let Some(r) = server.requests().get(before) {
            wrong.push(format!("{bad:?} was sent as {}", r.path));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(server.requests().len(), 1, "a refused path value was sent");
}

const BAD_URLS: &[&str] = &[
    "javascript:alert(1)",
    "//evil.example/cb",
    "https://shop.example@evil.example/cb",
    "https://:pw@shop.example/cb",
    "https://shop.example/c b",
    " https://shop.example/cb",
    "https://shop.example/cb\r\nX: y",
    "https://shop.example/cb\u{200b}",
    "https://shop.example/cb\u{061c}",
    "ftp://shop.example/cb",
    "https:///cb",
];

/// Every typed URL field of the five clients: bad values are refused naming the field, with
/// nothing sent, and the error does not echo the value; a value that needs normalizing is sent
/// normalized.
#[tokio::test]
async fn typed_url_fields_are_refused_or_sent_normalized() {
    let server = FaultServer::start(|_| Reply::json(500, json!({"status": 0}))).await;
    let v = mock_vandar(&format!("{}/mock", server.uri()));
    let (ipg, core, sub, sanbod) = (v.ipg(), v.core(), v.subscription(), v.sanbod());
    // (field, call with that URL) for every `format: uri` field
    async fn one(
        which: usize,
        url: &str,
        ipg: &vandar::ipg::Client,
        core: &vandar::core::Client,
        sub: &vandar::subscription::Client,
        sanbod: &vandar::sanbod::Client,
    ) -> Result<Value, Error> {
        use serde_json::from_value as fv;
        match which {
            0 => ipg
                .send_payment()
                .body(
                    fv::<vandar::ipg::types::PaymentRequest>(json!({
                    "api_key": "ipg-key-SECRET-1", "amount": 10000, "callback_url": url}))
                    .unwrap(),
                )
                .send_as::<Value>()
                .await
                .map(|a| a.into_body()),
            1 => core
                .refund_transaction()
                .business("shop")
                .transaction_id("1")
                .body(fv::<vandar::core::types::RefundRequest>(json!({"notify_url": url})).unwrap())
                .send_as::<Value>()
                .await
                .map(|a| a.into_body()),
            2 => core
                .store_settlement()
                .business("shop")
                .body(
                    fv::<vandar::core::types::SettlementRequest>(json!({
                    "amount": 5000, "iban": "IR820540102680020817909002",
                    "track_id": "t-1", "notify_url": url}))
                    .unwrap(),
                )
                .send_as::<Value>()
                .await
                .map(|a| a.into_body()),
            3 => sub
                .store_authorization()
                .business("shop")
                .body(
                    fv::<vandar::subscription::types::AuthorizationRequest>(json!({
                    "bank_code": "062", "mobile": "09123456789", "callback_url": url,
                    "count": 1, "limit": 10000, "expiration_date": "2030-01-01"}))
                    .unwrap(),
                )
                .send_as::<Value>()
                .await
                .map(|a| a.into_body()),
            4 => sub
                .store_withdrawal()
                .business("shop")
                .body(
                    fv::<vandar::subscription::types::WithdrawalRequest>(json!({
                    "authorization_id": "a-1", "amount": "10000", "track_id": "t-2",
                    "notify_url": url}))
                    .unwrap(),
                )
                .send_as::<Value>()
                .await
                .map(|a| a.into_body()),
            _ => sanbod
                .authorize()
                .body(
                    fv::<vandar::sanbod::types::AuthorizeRequest>(json!({
                    "provider_code": "059", "scope": ["statement"], "client_id": "c",
                    "response_type": "code", "redirect_uri": url}))
                    .unwrap(),
                )
                .send()
                .await
                .map(|_| Value::Null),
        }
    }
    let fields = [
        "callback_url",
        "notify_url",
        "notify_url",
        "callback_url",
        "notify_url",
        "redirect_uri",
    ];
    let mut wrong = Vec::new();
    for (i, field) in fields.iter().enumerate() {
        for bad in BAD_URLS {
            let before = server.requests().len();
            match one(i, bad, &ipg, &core, &sub, &sanbod).await {
                Err(Error::InvalidRequest(t)) if t.contains(field) => {
                    if bad.len() > 8 && t.contains(bad) {
                        wrong.push(format!("{field}: error echoes {bad:?}: {t}"))
                    }
                }
                other => wrong.push(format!("{field} = {bad:?}: {other:?}")),
            }
            if server.requests().len() != before {
                wrong.push(format!("{field} = {bad:?} was sent"));
            }
        }
        let before = server.requests().len();
        let _ = one(
            i,
            "HTTPS://Shop.EXAMPLE:443/a/./b/../cb?x=1",
            &ipg,
            &core,
            &sub,
            &sanbod,
        )
        .await;
        let reqs = server.requests();
        match reqs.get(before).and_then(|r| r.json()) {
            Some(body) if body[*field] == "https://shop.example/a/cb?x=1" => {}
            other => wrong.push(format!("{field} not sent normalized: {other:?}")),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// `https:///cb` has an empty authority (no host, RFC 3986); the WHATWG parser the SDK uses
/// reads `cb` as the host (the SDK sent `https://cb/`): a URL field without a host must be
/// refused, not re-hosted.
#[tokio::test]
async fn url_field_without_authority_is_refused_not_rehosted() {
    use vandar_runtime::check::normalize_http_url;
    let mut wrong = Vec::new();
    for raw in [
        "https:///shop.example/cb",
        "https:////evil.example/cb",
        "http:/\\evil.example/cb",
    ] {
        if let Ok(n) = normalize_http_url(raw) {
            wrong.push(format!("{raw:?} accepted and sent as {n:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
