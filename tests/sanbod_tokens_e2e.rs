//! Sanbod's token manager against hostile expiry numbers, lost refresh answers and a user's
//! tokens restored twice (regressions of the rev-b review, F3 and F7): nothing panics, a
//! rotated set is never lost, and no refresh token is sent twice by this process.

use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use vandar::sanbod::{CLIENT_SCHEME, ProviderCode, Scope, TokenKey, TokenSet, Tokens};
use vandar::{Config, Error, Vandar};
use vandar_runtime::test_util::{FaultServer, Reply};
use vandar_runtime::{AuthError, Secret};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SANBOD_HOST: &str = "https://api.sanbod.co";
const TOKEN_PATH: &str = "/sanbod/oauth/v1/token";

fn sanbod_at(uri: &str) -> vandar::sanbod::Client {
    let config = Config::builder()
        .all_hosts(&format!("{uri}/elsewhere"))
        .host(SANBOD_HOST, &format!("{uri}/sanbod"))
        .basic_auth(CLIENT_SCHEME, "test_sanbod", "client-secret-SECRET")
        .build()
        .unwrap();
    Vandar::new(config).unwrap().sanbod()
}

fn sanbod_client(server: &MockServer) -> vandar::sanbod::Client {
    sanbod_at(&server.uri())
}

fn ac_key() -> TokenKey {
    TokenKey::authorization_code("059", [Scope::Statement], "user-42")
}

fn first_set() -> TokenSet {
    TokenSet {
        access_token: Secret::new("ac-1-SECRET"),
        refresh_token: Some(Secret::new("ac-refresh-1-SECRET")),
        token_type: Some("Bearer".into()),
        expires_at: None,
    }
}

async fn consented(sanbod: &vandar::sanbod::Client) -> Tokens {
    let tokens = Tokens::new(sanbod);
    tokens.insert(&ac_key(), first_set()).await;
    tokens
}

async fn token_requests(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == TOKEN_PATH)
        .map(|r| serde_json::from_slice(&r.body).unwrap_or(Value::Null))
        .collect()
}

fn uses_of(sent: &[Value], refresh_token: &str) -> usize {
    sent.iter()
        .filter(|b| b["refresh_token"] == refresh_token)
        .count()
}

fn reason(e: &Error) -> &str {
    match e {
        Error::Auth(AuthError::TokenUnavailable { reason }) => reason,
        other => panic!("expected Auth(TokenUnavailable), got {other:?}"),
    }
}

/// A token endpoint (`POST` [`TOKEN_PATH`]) that answers 200 with `answer`, on a wiremock
/// server of its own.
async fn token_server(answer: Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer))
        .mount(&server)
        .await;
    server
}

/// A client-credentials token whose `expires_in` is i64::MAX seconds: the token is usable (its
/// expiry is "far away"), nothing panics.
#[tokio::test]
async fn sanbod_huge_expires_in_is_a_far_expiry_not_a_panic() {
    let server = token_server(json!({
        "access_token": "cc-1-SECRET", "refresh_token": "cc-r-1-SECRET",
        "token_type": "Bearer", "expires_in": i64::MAX
    }))
    .await;
    let sanbod = sanbod_client(&server);
    let tokens = Tokens::new(&sanbod);
    let key = TokenKey::client_credentials(ProviderCode::Pasargad, [Scope::CardToIban]);
    let got = tokens.access_token(&key).await;
    assert_eq!(
        got.as_ref().map(|s| s.expose().to_owned()).ok(),
        Some("cc-1-SECRET".to_owned()),
        "expires_in = i64::MAX: {got:?}"
    );
    // Far away, and used from the cache.
    let held = tokens.get(&key).await.unwrap();
    let ahead = held
        .expires_at
        .unwrap()
        .duration_since(SystemTime::now())
        .unwrap();
    assert!(ahead > Duration::from_secs(86_400 * 365 * 29), "{ahead:?}");
    tokens.access_token(&key).await.unwrap();
    assert_eq!(token_requests(&server).await.len(), 1);
}

/// An authorization-code refresh whose answer carries a huge `expires_in`: the rotated refresh
/// token must be kept; otherwise the spent one is sent again on the next renewal (and the user
/// is locked out).
#[tokio::test]
async fn sanbod_rotated_refresh_token_survives_a_huge_expires_in() {
    let server = token_server(json!({
        "access_token": "ac-2-SECRET", "refresh_token": "ac-refresh-2-SECRET",
        "token_type": "Bearer", "expires_in": i64::MAX
    }))
    .await;
    let sanbod = sanbod_client(&server);
    let tokens = consented(&sanbod).await;
    let _ = tokens.refresh(&ac_key()).await;
    let _ = tokens.refresh(&ac_key()).await;
    let sent: Vec<Value> = token_requests(&server).await;
    let spent = uses_of(&sent, "ac-refresh-1-SECRET");
    assert_eq!(
        spent, 1,
        "the first refresh token was sent {spent} times (rotated answer lost): {sent:?}"
    );
    assert_eq!(uses_of(&sent, "ac-refresh-2-SECRET"), 1, "{sent:?}");
    let held = tokens.get(&ac_key()).await.unwrap();
    assert_eq!(held.access_token.expose(), "ac-2-SECRET");
}

fn b64url(data: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..=c.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// An access token that is a JWT with an absurd `exp` (1e30 s) and no `expires_in`.
#[tokio::test]
async fn sanbod_jwt_with_absurd_exp_is_not_a_panic() {
    let server = MockServer::start().await;
    let jwt = format!(
        "{}.{}.sig",
        b64url(br#"{"alg":"HS256"}"#),
        b64url(br#"{"exp":1e30}"#)
    );
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": jwt, "token_type": "Bearer"
        })))
        .mount(&server)
        .await;
    let sanbod = sanbod_client(&server);
    let tokens = Tokens::new(&sanbod);
    let key = TokenKey::client_credentials(ProviderCode::Pasargad, [Scope::CardToIban]);
    let got = tokens.access_token(&key).await;
    assert_eq!(
        got.as_ref().map(|s| s.expose().to_owned()).ok(),
        Some(jwt),
        "JWT exp=1e30: {got:?}"
    );
}

/// Two managers of one process (two "replicas" sharing a process, or one backend that builds a
/// second `Tokens`) restored the same user's token set: only the first holder sends its refresh
/// token, once; the other's renewal sends nothing and says why. (Across processes the SDK
/// cannot see the other replica: the documented rule is one process per user's tokens.)
#[tokio::test]
async fn sanbod_two_replicas_with_the_same_consent_spend_the_refresh_token_once() {
    let server = token_server(json!({
            "access_token": "ac-2-SECRET", "refresh_token": "ac-refresh-2-SECRET",
            "expires_in": 3600}))
    .await;
    let a = consented(&sanbod_client(&server)).await;
    let b = consented(&sanbod_client(&server)).await;
    let first = a.refresh(&ac_key()).await;
    let second = b.refresh(&ac_key()).await;
    let uses = uses_of(&token_requests(&server).await, "ac-refresh-1-SECRET");
    assert_eq!(
        uses, 1,
        "the same Sanbod refresh token was sent {uses} times by two replicas"
    );
    assert_eq!(first.unwrap().access_token.expose(), "ac-2-SECRET");
    let err = second.unwrap_err();
    let why = reason(&err);
    assert!(
        why.contains("nothing was sent") && why.contains("already sent once"),
        "{why}"
    );
    assert!(!err.to_string().contains("SECRET"), "{err}");
    // b hands out no spent refresh token for persisting.
    assert_eq!(b.get(&ac_key()).await.unwrap().refresh_token, None);

    // Restored before anyone sent it: the first holder sends it, the other never does.
    let server = token_server(json!({
            "access_token": "ac-2-SECRET", "refresh_token": "ac-refresh-2-SECRET",
            "expires_in": 3600}))
    .await;
    let a = consented(&sanbod_client(&server)).await;
    let b = consented(&sanbod_client(&server)).await;
    let err = b.refresh(&ac_key()).await.unwrap_err();
    assert!(reason(&err).contains("another Tokens manager"), "{err}");
    assert!(token_requests(&server).await.is_empty(), "nothing was sent");
    a.refresh(&ac_key()).await.unwrap();
    assert_eq!(
        uses_of(&token_requests(&server).await, "ac-refresh-1-SECRET"),
        1
    );
    let err = b.refresh(&ac_key()).await.unwrap_err();
    assert!(reason(&err).contains("already sent once"), "{err}");
    assert_eq!(token_requests(&server).await.len(), 1);
}

/// The refresh was sent and the connection dropped before any answer: the refresh token is
/// probably spent. As with the Vandar token manager, it is never sent again: the access token
/// is used while valid, then the user must consent again; the set handed out for persisting
/// carries no refresh token.
#[tokio::test]
async fn a_refresh_whose_answer_was_lost_is_not_sent_again() {
    let server = FaultServer::scripted(
        vec![Reply::Close],
        Reply::json(
            200,
            json!({"access_token": "ac-2-SECRET", "refresh_token": "ac-refresh-2-SECRET"}),
        ),
    )
    .await;
    let sanbod = sanbod_at(&server.uri());
    let tokens = consented(&sanbod).await;
    let lost = tokens.refresh(&ac_key()).await.unwrap_err();
    assert!(reason(&lost).contains("probably spent"), "{lost}");
    let again = tokens.refresh(&ac_key()).await.unwrap_err();
    assert!(reason(&again).contains("nothing was sent"), "{again}");
    assert_eq!(
        server.count(TOKEN_PATH),
        1,
        "the refresh token was sent once"
    );
    let held = tokens.get(&ac_key()).await.unwrap();
    assert_eq!(held.access_token.expose(), "ac-1-SECRET");
    assert_eq!(held.refresh_token, None);
    // Restoring the set from before the lost refresh (an old row of the app's database)
    // sends nothing either.
    tokens.insert(&ac_key(), first_set()).await;
    assert!(tokens.refresh(&ac_key()).await.is_err());
    assert_eq!(server.count(TOKEN_PATH), 1);
    // A token still valid is used meanwhile.
    let mut valid = first_set();
    valid.expires_at = Some(SystemTime::now() + Duration::from_secs(3600));
    tokens.insert(&ac_key(), valid).await;
    assert_eq!(
        tokens.access_token(&ac_key()).await.unwrap().expose(),
        "ac-1-SECRET"
    );
}

/// A client-credentials refresh whose answer was lost: the refresh token is not sent again,
/// and a new client-credentials token is issued instead (that grant spends nothing).
#[tokio::test]
async fn a_lost_cc_refresh_issues_a_new_token_instead() {
    let server = FaultServer::scripted(
        vec![Reply::Close],
        Reply::json(
            200,
            json!({"access_token": "cc-2-SECRET", "expires_in": 600}),
        ),
    )
    .await;
    let sanbod = sanbod_at(&server.uri());
    let tokens = Tokens::new(&sanbod);
    let key = TokenKey::client_credentials(ProviderCode::Pasargad, [Scope::CardToIban]);
    tokens
        .insert(
            &key,
            TokenSet {
                access_token: Secret::new("cc-1-SECRET"),
                refresh_token: Some(Secret::new("cc-refresh-1-SECRET")),
                token_type: None,
                expires_at: Some(SystemTime::now() - Duration::from_secs(1)),
            },
        )
        .await;
    let token = tokens.access_token(&key).await.unwrap();
    assert_eq!(token.expose(), "cc-2-SECRET");
    let grants: Vec<String> = server
        .requests()
        .iter()
        .filter_map(|r| r.json())
        .map(|b| b["grant_type"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(grants, ["refresh_token", "client_credentials"]);
}

/// A refresh answered 500 rotated nothing: the refresh token stays usable and the next
/// renewal sends it again; the error does not send the user back to consent.
#[tokio::test]
async fn a_refresh_answered_500_keeps_the_refresh_token_usable() {
    let server = FaultServer::scripted(
        vec![Reply::json(500, json!({"error": "server_error"}))],
        Reply::json(
            200,
            json!({"access_token": "ac-2-SECRET", "refresh_token": "ac-refresh-2-SECRET"}),
        ),
    )
    .await;
    let sanbod = sanbod_at(&server.uri());
    let tokens = consented(&sanbod).await;
    let failed = tokens.refresh(&ac_key()).await.unwrap_err();
    let why = reason(&failed);
    assert!(
        why.contains("rotated nothing") && !why.contains("consent again"),
        "{why}"
    );
    assert_eq!(
        tokens
            .get(&ac_key())
            .await
            .unwrap()
            .refresh_token
            .unwrap()
            .expose(),
        "ac-refresh-1-SECRET"
    );
    let set = tokens.refresh(&ac_key()).await.unwrap();
    assert_eq!(set.access_token.expose(), "ac-2-SECRET");
    assert_eq!(server.count(TOKEN_PATH), 2);
}

/// A server that does not rotate (no refresh token in the answer, or the same one again): the
/// refresh token stays valid and is sent again on the next renewal.
#[tokio::test]
async fn a_refresh_token_that_was_not_rotated_stays_usable() {
    for answer in [
        json!({"access_token": "ac-2-SECRET", "expires_in": 3600}),
        json!({"access_token": "ac-2-SECRET", "refresh_token": "ac-refresh-1-SECRET"}),
    ] {
        let server = token_server(answer.clone()).await;
        let tokens = consented(&sanbod_client(&server)).await;
        for _ in 0..2 {
            let set = tokens.refresh(&ac_key()).await.unwrap();
            assert_eq!(
                set.refresh_token.unwrap().expose(),
                "ac-refresh-1-SECRET",
                "{answer}"
            );
        }
        let sent = token_requests(&server).await;
        assert_eq!(uses_of(&sent, "ac-refresh-1-SECRET"), 2, "{answer}");
        let held = tokens.get(&ac_key()).await.unwrap();
        assert_eq!(held.refresh_token.unwrap().expose(), "ac-refresh-1-SECRET");
    }
}

/// Twenty callers of one user's expired token renew it once (single flight per key, with the
/// spent mark in place).
#[tokio::test]
async fn sanbod_concurrent_callers_renew_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "ac-2-SECRET",
                    "refresh_token": "ac-refresh-2-SECRET", "expires_in": 3600}))
                .set_delay(Duration::from_millis(300)),
        )
        .mount(&server)
        .await;
    let tokens = Tokens::new(&sanbod_client(&server));
    let mut expired = first_set();
    expired.expires_at = Some(SystemTime::now() - Duration::from_secs(5));
    tokens.insert(&ac_key(), expired).await;
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let t = tokens.clone();
            tokio::spawn(async move { t.access_token(&ac_key()).await })
        })
        .collect();
    for c in calls {
        assert_eq!(c.await.unwrap().unwrap().expose(), "ac-2-SECRET");
    }
    assert_eq!(token_requests(&server).await.len(), 1);
}
