//! Export the business statement as CSV on stdout, walking the `has_more` / `start_after`
//! cursor with the SDK's stream (`client.transactions(request)`).
//!
//! ```sh
//! cargo run -p vandar --example statement_export --features core,sandbox > statement.csv
//! ```
//!
//! Against the in-process sandbox (or `VANDAR_BASE_URL`) the example first seeds 250 statement
//! lines with the sandbox's seeding control, so the export spans several pages, then checks
//! that every line came out exactly once and that the lines add up to the wallet balance.
//! Progress goes to stderr; only CSV goes to stdout.
#![forbid(unsafe_code)]

mod common;

use std::collections::HashSet;

use common::{BoxResult, Env, ensure};
use vandar::TryStreamExt;

/// Lines the example adds to the sandbox statement before exporting.
const SEED_LINES: u64 = 250;
/// Lines per page (the API allows up to 100).
const PER_PAGE: u64 = 100;

#[tokio::main]
async fn main() -> BoxResult<()> {
    let env = Env::start().await?;
    let business = env.credentials.business.clone();
    let seeded = env
        .control(
            "seed/transactions",
            serde_json::json!({ "count": SEED_LINES }),
        )
        .await?;
    eprintln!("seeded the sandbox statement: {seeded}");

    let vandar = env.vandar_with_token()?;
    let core = vandar.core();
    let wallet = core
        .get_balance()
        .business(business.as_str())
        .send()
        .await?
        .data
        .wallet
        .ok_or("the balance answer has no wallet")?;

    let request = core
        .list_transactions()
        .business(business.as_str())
        .per_page(PER_PAGE);
    let mut lines = std::pin::pin!(core.transactions(request));

    let mut out = csv::Writer::from_writer(std::io::stdout().lock());
    out.write_record([
        "id",
        "created_at",
        "channel",
        "status",
        "amount_toman",
        "wallet_toman",
        "factor_number",
        "card_number",
        "description",
    ])?;
    let mut seen = HashSet::new();
    let mut sum = 0i64;
    let mut previous_id: Option<u64> = None;
    while let Some(line) = lines.try_next().await? {
        let id = line
            .id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        ensure(seen.insert(id.clone()), format!("line {id} came twice"))?;
        // newest first: ids fall
        let numeric = line.id.as_ref().and_then(|i| i.as_u64());
        if let (Some(prev), Some(now)) = (previous_id, numeric) {
            ensure(
                now < prev,
                format!("line {now} after {prev}: not newest first"),
            )?;
        }
        previous_id = numeric;
        let amount = line.amount.map(|a| a.get()).unwrap_or_default();
        sum += amount;
        out.write_record([
            id,
            line.created_at
                .as_ref()
                .map(|t| t.tehran().to_rfc3339())
                .unwrap_or_default(),
            line.channel.clone().unwrap_or_default(),
            line.status.map(|s| s.to_string()).unwrap_or_default(),
            amount.to_string(),
            line.wallet.map(|w| w.get().to_string()).unwrap_or_default(),
            line.factor_number.clone().unwrap_or_default(),
            line.card_number
                .as_ref()
                .map(|c| c.to_string())
                .unwrap_or_default(),
            line.description.clone().unwrap_or_default(),
        ])?;
    }
    out.flush()?;
    drop(out);

    eprintln!(
        "exported {} lines; their sum is {sum} Toman; the wallet holds {} Toman",
        seen.len(),
        wallet.get()
    );
    // a fresh sandbox has one opening-balance line plus the seeded ones
    if std::env::var("VANDAR_BASE_URL").is_err() {
        ensure(
            seen.len() as u64 == SEED_LINES + 1,
            format!("expected {} lines, got {}", SEED_LINES + 1, seen.len()),
        )?;
        ensure(
            sum == wallet.get(),
            "the statement does not add up to the wallet",
        )?;
    } else {
        ensure(
            seen.len() as u64 > SEED_LINES,
            "fewer lines than were seeded",
        )?;
    }
    eprintln!("statement_export: OK");
    env.shutdown().await;
    Ok(())
}
