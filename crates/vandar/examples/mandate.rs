//! Direct debit end to end: pick a healthy bank → request a mandate → the customer approves it
//! on the bank page → read the callback → verify once → charge the customer (a withdrawal with
//! a `track_id`) → see what the mandate still allows → revoke it.
//!
//! ```sh
//! cargo run -p vandar --example mandate --features subscription,sandbox
//! ```
//!
//! The customer's click on the bank page is a real HTTP submission of the sandbox page's
//! Approve form; the bank's redirect to `callback_url` is read from its `Location` (no shop
//! server is needed for that). Exits 0 when every step behaved as documented.
#![forbid(unsafe_code)]

mod common;

use common::{BoxResult, Env, click, ensure};
use vandar::domain::{ApiDateTime, Mobile, Rial, RialString, TrackId};
use vandar::subscription::types::{AuthorizationRequest, GregorianDate, WithdrawalRequest};
use vandar::subscription::{Callback, WithdrawalStatus};

/// The shop's callback for the bank's redirect (never called here: the example reads the
/// redirect's `Location`).
const CALLBACK_URL: &str = "http://127.0.0.1:9/direct-debit/callback";

#[tokio::main]
async fn main() -> BoxResult<()> {
    let env = Env::start().await?;
    let business = env.credentials.business.as_str();
    let vandar = env.vandar_with_token()?;
    let dd = vandar.subscription();

    // 1. a bank that can do direct debit right now
    let banks = dd.list_active_banks().business(business).send().await?;
    let bank = banks
        .result
        .into_iter()
        .flat_map(|r| r.banks)
        .find(|b| {
            b.is_healthy_on_direct_debit
                .as_ref()
                .is_some_and(|h| h.get())
        })
        .ok_or("no healthy direct-debit bank")?;
    let bank_code = bank.code.clone().ok_or("the bank has no code")?;
    println!(
        "bank: {} ({bank_code})",
        bank.name.clone().unwrap_or_default()
    );

    // 2. the mandate: at most 4 withdrawals a month, each at most 500,000 Rial, for a year
    let expires = GregorianDate::parse(&next_year()?)?;
    let created = dd
        .store_authorization()
        .business(business)
        .body(
            AuthorizationRequest::builder()
                .bank_code(bank_code)
                .mobile(Mobile::parse("09123456789")?)
                .callback_url(CALLBACK_URL)
                .count(4)
                .limit(Rial::new(500_000))
                .expiration_date(expires),
        )
        .send()
        .await?;
    let token = created.result.authorization.token;

    // 3. the customer's browser goes to the bank page and clicks Approve
    let page = dd.authorization_page_url(&token)?;
    let back_to = click(&env, page.as_str(), "approve-form").await?;
    ensure(
        back_to.starts_with(CALLBACK_URL),
        format!("the bank sent the customer to {back_to}"),
    )?;

    // 4. the callback
    let callback = Callback::parse(&back_to)?;
    let Some(authorization_id) = callback.approved_authorization_id() else {
        return Err(format!("the mandate was not approved: {callback:?}").into());
    };
    println!("approved: authorization {authorization_id}");

    // 5. verify once, within 20 minutes
    dd.verify_authorization()
        .business(business)
        .authorization_id(authorization_id)
        .send()
        .await?;
    let again = dd
        .verify_authorization()
        .business(business)
        .authorization_id(authorization_id)
        .send()
        .await;
    ensure(again.is_err(), "a second verify was accepted")?;

    // 6. charge 100,000 Rial; the track id is kept with the order before sending
    let track_id = TrackId::new();
    let stored = dd
        .store_withdrawal()
        .business(business)
        .body(
            WithdrawalRequest::builder()
                .authorization_id(authorization_id)
                .amount(RialString::new(100_000))
                .track_id(&track_id),
        )
        .send()
        .await;
    if let Err(e) = &stored {
        if !e.is_outcome_unknown() {
            return Err(format!("store_withdrawal failed: {e}").into());
        }
        println!("outcome unknown: looking the withdrawal up by its track_id");
    }
    // whatever the answer was, the track id finds the withdrawal
    let found = dd
        .get_withdrawal_by_track_id()
        .business(business)
        .track_id(track_id.to_string())
        .send()
        .await?;
    let withdrawal = found
        .result
        .and_then(|r| r.withdrawal)
        .ok_or("the withdrawal is not found by its track_id")?;
    let status = withdrawal.withdrawal_status();
    println!("withdrawal {:?}: {:?}", withdrawal.id, status);
    ensure(
        status == Some(WithdrawalStatus::Done),
        format!("an instant withdrawal should be DONE at its first inquiry, is {status:?}"),
    )?;

    // a withdrawal above the mandate's limit is refused by the API
    let too_much = dd
        .store_withdrawal()
        .business(business)
        .body(
            WithdrawalRequest::builder()
                .authorization_id(authorization_id)
                .amount(RialString::new(600_000))
                .track_id(TrackId::new()),
        )
        .send()
        .await;
    ensure(
        too_much.as_ref().err().and_then(|e| e.http_status()) == Some(422),
        format!("a withdrawal above the limit answered {too_much:?}"),
    )?;

    // what the mandate still allows this month
    let usage = dd
        .get_authorization_calculation()
        .business(business)
        .authorization_id(authorization_id)
        .send()
        .await?
        .result
        .ok_or("the calculation has no result")?;
    let left = usage.current_month_remaining_count.map(i64::from);
    println!(
        "this month: {} withdrawals left, up to {} Rial",
        left.unwrap_or_default(),
        usage
            .current_month_remaining_withdrawal_amount
            .map(|a| a.get())
            .unwrap_or_default()
    );
    ensure(
        left == Some(3),
        "the mandate's monthly count did not fall by one",
    )?;

    // 7. the subscription ends
    let revoked = dd
        .revoke_authorization()
        .business(business)
        .authorization_id(authorization_id)
        .send()
        .await?;
    println!("revoked: {:?}", revoked.revoked_id());
    let after = dd
        .store_withdrawal()
        .business(business)
        .body(
            WithdrawalRequest::builder()
                .authorization_id(authorization_id)
                .amount(RialString::new(1_000))
                .track_id(TrackId::new()),
        )
        .send()
        .await;
    ensure(after.is_err(), "a revoked mandate could still withdraw")?;
    println!("mandate: OK");
    env.shutdown().await;
    Ok(())
}

/// A Gregorian date a year from now (`Y-m-d`, Tehran's calendar day).
fn next_year() -> BoxResult<String> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
    let then = i64::try_from(now.as_secs())? + 365 * 86_400;
    Ok(ApiDateTime::from_unix(then)?
        .tehran()
        .date_naive()
        .to_string())
}
