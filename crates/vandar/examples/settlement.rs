//! Pay out to an IBAN safely: keep a `track_id` with the order before sending, and when the
//! answer is lost (`Error::OutcomeUnknown`: the request went out, nobody knows whether Vandar
//! registered it) look the settlement up by that `track_id` instead of sending it again.
//!
//! ```sh
//! cargo run -p vandar --example settlement --features core,sandbox
//! ```
//!
//! The sandbox's fault injection plays the network:
//!
//! 1. `drop` on the next `store_settlement`: the connection closes before the sandbox handles
//!    the call. The SDK says "outcome unknown"; the look-up finds nothing, so the example sends
//!    the same request again, with the same `track_id`.
//! 2. `drop_answer`: the sandbox registers the settlement, then closes the connection. The
//!    look-up finds it: the example does not send again (and shows that a resend with the
//!    same `track_id` would be refused, never paid twice).
//!
//! Then the 30-minute settlement cycle passes (the sandbox clock is advanced), the sandbox
//! POSTs the `notify_url` callback to a small local server, and the example confirms it with
//! the API (`confirm_settlement`), since the callback carries no signature.
#![forbid(unsafe_code)]

mod common;

use std::time::Duration;

use axum::Router;
use axum::routing::post;
use common::{BoxResult, Env, ensure};
use vandar::TryStreamExt;
use vandar::core::types::{SettlementRequest, Transaction};
use vandar::core::{Client, SettlementNotification};
use vandar::domain::{Iban, Toman, TrackId};

/// The payee's IBAN (a checksum-valid sample).
const IBAN: &str = "IR430550011480005587452001";

/// The statement line of a settlement, found by its `track_id` (`None`: never registered).
async fn find_by_track_id(
    core: &Client,
    business: &str,
    track_id: &TrackId,
) -> BoxResult<Option<Transaction>> {
    let request = core
        .list_transactions()
        .business(business)
        .status_kind("settlements")
        .track_id(track_id.to_string());
    let found: Vec<Transaction> = core.transactions(request).try_collect().await?;
    Ok(found.into_iter().next())
}

/// Store a settlement whose answer may be lost; returns the settlement's id.
async fn pay_out(
    core: &Client,
    business: &str,
    amount: Toman,
    track_id: &TrackId,
    notify_url: &str,
) -> BoxResult<String> {
    let request = SettlementRequest::builder()
        .amount(amount)
        .iban(Iban::parse(IBAN)?)
        .track_id(track_id.to_string())
        .notify_url(Some(notify_url.to_owned()));
    for attempt in 1..=3 {
        match core
            .store_settlement()
            .business(business)
            .body(request.clone())
            .send()
            .await
        {
            Ok(stored) => {
                let s = stored
                    .data
                    .settlement
                    .into_iter()
                    .next()
                    .ok_or("the answer holds no settlement")?;
                let id = s.id.map(|i| i.to_string()).ok_or("no settlement id")?;
                println!("attempt {attempt}: stored settlement {id}");
                return Ok(id);
            }
            Err(e) if e.is_outcome_unknown() => {
                tracing_free_debug(&e);
                println!("attempt {attempt}: outcome unknown; looking it up by track_id");
                match find_by_track_id(core, business, track_id).await? {
                    Some(line) => {
                        // registered after all: do NOT send again
                        let id = line.uuid.ok_or("the statement line has no uuid")?;
                        println!("attempt {attempt}: found it in the statement: settlement {id}");
                        return Ok(id);
                    }
                    None => {
                        println!("attempt {attempt}: not registered; sending again, same track_id");
                        continue;
                    }
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err("gave up after 3 attempts".into())
}

/// The SDK's full explanation of an unknown outcome, with `VANDAR_EXAMPLE_VERBOSE=1`.
fn tracing_free_debug(e: &vandar::Error) {
    if std::env::var_os("VANDAR_EXAMPLE_VERBOSE").is_some() {
        eprintln!("{e}");
    }
}

async fn wallet(core: &Client, business: &str) -> BoxResult<i64> {
    let balance = core.get_balance().business(business).send().await?;
    Ok(balance.data.wallet.ok_or("no wallet in the answer")?.get())
}

#[tokio::main]
async fn main() -> BoxResult<()> {
    let env = Env::start().await?;
    let business = env.credentials.business.clone();
    let vandar = env.vandar_with_token()?;
    let core = vandar.core();

    // a local server for the settlement callbacks
    let (tx, mut callbacks) = tokio::sync::mpsc::unbounded_channel::<String>();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let notify_url = format!("http://{}/settlement-callback", listener.local_addr()?);
    let router = Router::new().route(
        "/settlement-callback",
        post(move |body: String| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(body);
                "ok"
            }
        }),
    );
    let server = tokio::spawn(async move { axum::serve(listener, router).await });

    let before = wallet(&core, &business).await?;
    let amount = Toman::new(120_000);

    // 1. the request is lost on the way: nothing registered, sent again with the same track_id
    let first = TrackId::new();
    env.control(
        "faults",
        serde_json::json!({"operation": "store_settlement", "spec": "vandar-core", "kind": "drop"}),
    )
    .await?;
    let first_id = pay_out(&core, &business, amount, &first, &notify_url).await?;

    // 2. the answer is lost on the way back: registered, found, not sent again
    let second = TrackId::new();
    env.control(
        "faults",
        serde_json::json!({"operation": "store_settlement", "spec": "vandar-core", "kind": "drop_answer"}),
    )
    .await?;
    let second_id = pay_out(&core, &business, amount, &second, &notify_url).await?;

    // each settlement left the wallet exactly once
    let after = wallet(&core, &business).await?;
    ensure(
        before - after == 2 * amount.get(),
        format!(
            "the wallet fell by {} Toman, not {}",
            before - after,
            2 * amount.get()
        ),
    )?;
    println!("wallet {before} -> {after} Toman: each settlement paid once");

    // a resend with a used track_id is refused: it can never pay twice
    let resend = core
        .store_settlement()
        .business(business.as_str())
        .body(
            SettlementRequest::builder()
                .amount(amount)
                .iban(Iban::parse(IBAN)?)
                .track_id(second.to_string()),
        )
        .send()
        .await;
    match resend {
        Err(e) if e.http_status() == Some(422) => {
            println!("a resend with the same track_id was refused (422), as documented");
        }
        other => return Err(format!("a resend with a used track_id answered {other:?}").into()),
    }

    // 3. the 30-minute cycle passes: both settlements are DONE and the callbacks arrive
    env.control("clock/advance", serde_json::json!({"seconds": 31 * 60}))
        .await?;
    let mut confirmed = Vec::new();
    while confirmed.len() < 2 {
        let body = tokio::time::timeout(Duration::from_secs(10), callbacks.recv())
            .await?
            .ok_or("the callback server stopped")?;
        let notification = SettlementNotification::parse(&body)?;
        // the callback is a hint: ask the API
        let settlement = core.confirm_settlement(&business, &notification).await?;
        let id = settlement.id.map(|i| i.to_string()).unwrap_or_default();
        println!("callback for {id}: the API says {:?}", settlement.status);
        ensure(
            settlement.status.as_deref() == Some("DONE"),
            "the confirmed settlement is not DONE",
        )?;
        confirmed.push(id);
    }
    confirmed.sort();
    let mut expected = vec![first_id, second_id];
    expected.sort();
    ensure(
        confirmed == expected,
        format!("callbacks for {confirmed:?}, expected {expected:?}"),
    )?;
    println!("settlement: OK");
    server.abort();
    env.shutdown().await;
    Ok(())
}
