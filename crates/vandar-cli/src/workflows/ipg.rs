//! `vandar ipg send|info|verify` (amounts in Rial unless `--unit toman`), through the typed
//! IPG client (`send_payment`, `get_transaction_info`, `Client::verify` and its
//! `VerifyOutcome`).

use serde_json::{Value, json};

use crate::context::Ctx;
use crate::error::CliError;
use crate::output::{Unit, normalize, object_record, record};
use crate::workflows::{as_json, check_url, emit, parse_flag, parse_rial};

const UNITS: &[(&str, Unit)] = &[
    ("amount", Unit::Rial),
    ("realAmount", Unit::Rial),
    ("wage", Unit::Rial),
];

/// The answer's `status` code as `name (code)` in `status`, the code in `status_code`.
fn with_status(mut v: Value) -> Value {
    if let Some(m) = v.as_object_mut() {
        let code = m.get("status").and_then(crate::output::amount_of);
        let name = match code {
            Some(1) => "ok",
            Some(0) => "error",
            Some(_) => "other",
            None => return v,
        };
        m.insert("status_code".into(), json!(code));
        m.insert("status".into(), json!(name));
    }
    v
}

/// The money fields after [`normalize`] (already in the output unit).
const UNITS_OUT: &[(&str, Unit)] = &[
    ("amount", Unit::Rial),
    ("realAmount", Unit::Rial),
    ("wage", Unit::Rial),
];

fn api_key(ctx: &Ctx) -> Result<vandar::ApiKey, CliError> {
    ctx.secrets
        .ipg_api_key
        .as_ref()
        .map(|(k, _)| k.clone())
        .ok_or_else(|| {
            CliError::usage(
                "no IPG api key: set VANDAR_IPG_API_KEY or `ipg_api_key` in the secrets file",
            )
        })
}

/// `vandar ipg send`: register a payment (typed `send_payment`); print its token and page.
pub async fn send(
    ctx: &Ctx,
    amount: &str,
    callback_url: &str,
    mobile: Option<&str>,
    factor_number: Option<&str>,
    description: Option<&str>,
) -> Result<(), CliError> {
    let amount = parse_rial("amount", amount)?;
    let mobile = mobile
        .map(|m| parse_flag::<vandar::domain::Mobile>("mobile", m))
        .transpose()?;
    let description = description
        .map(|d| parse_flag::<vandar::ipg::types::PaymentRequestDescription>("description", d))
        .transpose()?;
    check_url("callback-url", callback_url)?;
    let callback =
        parse_flag::<vandar::ipg::types::PaymentRequestCallbackUrl>("callback-url", callback_url)?;
    let body = vandar::ipg::types::PaymentRequest::builder()
        .api_key(api_key(ctx)?)
        .amount(amount)
        .callback_url(callback)
        .mobile_number(mobile)
        .factor_number(factor_number.map(str::to_owned))
        .description(description);
    let ipg = ctx.vandar.ipg();
    let answer = ipg.send_payment().body(body).send().await?;
    let token = answer.token.to_string();
    let page = ipg.payment_page_url(&token)?.to_string();
    let out = ctx.out_unit(Unit::Rial);
    let j = json!({"token": token, "amount": crate::output::number(amount.get(), out), "unit": out.key(), "payment_url": page});
    emit(
        ctx,
        || {
            record(&[
                ("token", token.clone()),
                ("amount", crate::output::show(amount.get(), out)),
                ("payment page", page.clone()),
            ])
        },
        &j,
    )
}

/// `vandar ipg info` (typed `get_transaction_info`).
pub async fn info(ctx: &Ctx, token: &str) -> Result<(), CliError> {
    let body = vandar::ipg::types::TokenRequest::builder()
        .api_key(api_key(ctx)?)
        .token(token);
    let answer = ctx
        .vandar
        .ipg()
        .get_transaction_info()
        .body(body)
        .send()
        .await?;
    let out = ctx.out_unit(Unit::Rial);
    let j = with_status(normalize(&as_json(&answer), UNITS, out));
    emit(ctx, || object_record(&j, UNITS_OUT, out), &j)
}

/// `vandar ipg verify` through `ipg::Client::verify` and its [`vandar::ipg::VerifyOutcome`]: verified (exit
/// 0), already verified (exit 0, said so), expired (exit 3, said so), or the API's refusal.
pub async fn verify(ctx: &Ctx, token: &str) -> Result<(), CliError> {
    use vandar::ipg::VerifyOutcome;
    let out = ctx.out_unit(Unit::Rial);
    match ctx.vandar.ipg().verify(&api_key(ctx)?, token).await? {
        VerifyOutcome::Verified(payment) => {
            let answer = normalize(&as_json(&payment), UNITS, out);
            let j = json!({"outcome": "verified", "answer": answer});
            emit(
                ctx,
                || {
                    format!(
                        "verified: the money is yours\n{}",
                        object_record(&answer, UNITS_OUT, out)
                    )
                },
                &j,
            )
        }
        VerifyOutcome::AlreadyVerified(e) => {
            let j = json!({"outcome": "already_verified", "answer": e.raw});
            emit(
                ctx,
                || "already verified earlier (deliver the order if not done yet)\n".into(),
                &j,
            )
        }
        VerifyOutcome::Expired(e) => Err(CliError::Sdk(vandar::Error::from(e))),
    }
}
