//! Sanbod open banking with the account holder's consent: authorize (302 to the consent page)
//! → the user allows → the redirect brings `code` and `state` → check `state` against the
//! user's session → exchange the code for tokens → a transfer from the user's account.
//!
//! ```sh
//! cargo run -p vandar --example sanbod_oauth --features sanbod,sandbox
//! ```
//!
//! The user's click is a real HTTP submission of the sandbox consent page's Allow (or Deny)
//! form; the redirect to `redirect_uri` is read from its `Location`. The example also shows a
//! redirect whose `state` does not match being refused, a denied consent, a scope that was not
//! granted (403), a refresh and a revoke. Exits 0 when all of that behaved as expected.
#![forbid(unsafe_code)]

mod common;

use common::{BoxResult, Env, click, ensure};
use vandar::Vandar;
use vandar::domain::RialString;
use vandar::sanbod::types::{AchReportRequest, NormalTransferRequest};
use vandar::sanbod::{AuthorizationCallback, CallbackError, ProviderCode, Scope, TokenKey, Tokens};

/// The application's redirect URI (never called here: the example reads the `Location`).
const REDIRECT_URI: &str = "http://127.0.0.1:9/sanbod/callback";
/// The user's account and a destination at the same bank (the Sanbod docs' test accounts).
const SOURCE: &str = "119-813-218257-4";
const DESTINATION: &str = "119-813-218257-5";

/// A fresh, unguessable `state` for one consent (kept in the user's session).
fn new_state() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Send the user through consent; returns the redirect the bank sends back.
async fn consent(
    env: &Env,
    tokens: &Tokens,
    key: &TokenKey,
    state: &str,
    button: &str,
) -> BoxResult<String> {
    let page = tokens.authorize_url(key, REDIRECT_URI, state).await?;
    println!("302 Location: {page}");
    let back = click(env, page.as_str(), button).await?;
    ensure(
        back.starts_with(REDIRECT_URI),
        format!("the consent redirected to {back}"),
    )?;
    Ok(back)
}

/// What the application's callback handler does: read the redirect, check `state`, return the
/// code.
fn read_callback(redirect: &str, session_state: &str) -> BoxResult<String> {
    let callback = AuthorizationCallback::parse(redirect)?;
    if callback.state.as_deref() != Some(session_state) {
        return Err("the state does not match this session: refusing the code".into());
    }
    Ok(callback.code)
}

#[tokio::main]
async fn main() -> BoxResult<()> {
    let env = Env::start().await?;
    let vandar = Vandar::new(
        env.config()
            .basic_auth(
                vandar::sanbod::CLIENT_SCHEME,
                env.credentials.sanbod_client_id.clone(),
                env.credentials.sanbod_client_secret.clone(),
            )
            .build()?,
    )?;
    let tokens = Tokens::new(&vandar.sanbod());
    let key = TokenKey::authorization_code(
        ProviderCode::Sina,
        [Scope::Statement, Scope::NormalTransfer],
        "user-42",
    );

    // 1. a redirect carrying another session's state is refused
    let state = new_state();
    let redirect = consent(&env, &tokens, &key, &state, "allow-form").await?;
    ensure(
        read_callback(&redirect, &new_state()).is_err(),
        "a callback with a foreign state was accepted",
    )?;
    println!("a redirect with a foreign state was refused");

    // 2. the user declines: no code
    let state = new_state();
    let redirect = consent(&env, &tokens, &key, &state, "deny-form").await?;
    match AuthorizationCallback::parse(&redirect) {
        Err(CallbackError::Denied { error, .. }) => println!("declined: {error}"),
        other => return Err(format!("a declined consent gave {other:?}").into()),
    }

    // 3. the user allows: state checked, code exchanged
    let state = new_state();
    let redirect = consent(&env, &tokens, &key, &state, "allow-form").await?;
    let code = read_callback(&redirect, &state)?;
    let set = tokens.exchange_code(&key, &code).await?;
    let lifetime = set
        .expires_at
        .and_then(|t| t.duration_since(std::time::SystemTime::now()).ok())
        .map(|d| d.as_secs());
    println!("tokens issued; the access token lives {lifetime:?} s");
    // a code works once
    ensure(
        tokens.exchange_code(&key, &code).await.is_err(),
        "an authorization code was accepted twice",
    )?;

    // 4. a transfer from the user's account, with a client bound to the user's tokens
    let account = tokens.client(&key);
    let transfer = account
        .normal_transfer()
        .body(
            NormalTransferRequest::builder()
                .source_deposit_number(SOURCE)
                .destination_deposit_number(DESTINATION)
                .transfer_amount(RialString::new(1_500_000)),
        )
        .send()
        .await?;
    ensure(
        transfer.error != Some(true),
        format!("the transfer failed: {transfer:?}"),
    )?;
    println!("transfer: {:?}", transfer.message);

    // a service outside the granted scopes is refused
    let report = account
        .ach_report()
        .body(AchReportRequest::builder().deposit_number(SOURCE))
        .send()
        .await;
    let status = report.as_ref().err().and_then(|e| e.http_status());
    ensure(
        status == Some(403),
        format!("achreport without its scope answered {status:?}"),
    )?;
    println!("achreport without consent for it: 403");

    // 5. refresh (rotates the pair), then revoke
    tokens.refresh(&key).await?;
    tokens.revoke(&key).await?;
    println!("sanbod_oauth: OK");
    env.shutdown().await;
    Ok(())
}
