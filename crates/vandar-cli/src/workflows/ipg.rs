//! `vandar ipg send|info|verify` (amounts in Rial).

use serde_json::{Value, json};

use crate::api::Product;
use crate::context::Ctx;
use crate::error::CliError;
use crate::output::{Unit, normalize, object_record, record};
use crate::workflows::{emit, parse_rial, put};

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

fn api_key(ctx: &Ctx) -> Result<String, CliError> {
    ctx.secrets
        .ipg_api_key
        .as_ref()
        .map(|(k, _)| k.expose().to_owned())
        .ok_or_else(|| {
            CliError::usage(
                "no IPG api key: set VANDAR_IPG_API_KEY or `ipg_api_key` in the secrets file",
            )
        })
}

/// `vandar ipg send`: register a payment; print its token and payment page.
pub async fn send(
    ctx: &Ctx,
    amount: &str,
    callback_url: &str,
    mobile: Option<&str>,
    factor_number: Option<&str>,
    description: Option<&str>,
) -> Result<(), CliError> {
    let amount = parse_rial(amount)?;
    let mut body = json!({
        "api_key": api_key(ctx)?,
        "amount": amount.get(),
        "callback_url": callback_url,
    });
    put(&mut body, "mobile_number", mobile);
    put(&mut body, "factorNumber", factor_number);
    put(&mut body, "description", description);
    let answer = ctx
        .call(Product::Ipg, "send_payment", &[], &[], Some(&body))
        .await?;
    let token = answer
        .get("token")
        .and_then(Value::as_str)
        .ok_or_else(|| CliError::Other("the gateway answered without a token".into()))?
        .to_owned();
    let page = Product::Ipg
        .binding(&ctx.vandar)
        .page_url("payment_page", &[("token", &token)])?
        .to_string();
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

/// `vandar ipg info`.
pub async fn info(ctx: &Ctx, token: &str) -> Result<(), CliError> {
    let body = json!({"api_key": api_key(ctx)?, "token": token});
    let answer = ctx
        .call(Product::Ipg, "get_transaction_info", &[], &[], Some(&body))
        .await?;
    let out = ctx.out_unit(Unit::Rial);
    let j = with_status(normalize(&answer, UNITS, out));
    emit(ctx, || object_record(&j, UNITS_OUT, out), &j)
}

/// `vandar ipg verify`: verified (exit 0), already verified (exit 0, said so), or the API's
/// refusal (expired, unpaid: exit 3).
pub async fn verify(ctx: &Ctx, token: &str) -> Result<(), CliError> {
    let body = json!({"api_key": api_key(ctx)?, "token": token});
    match ctx
        .call(Product::Ipg, "verify_payment", &[], &[], Some(&body))
        .await
    {
        Ok(answer) => {
            let out = ctx.out_unit(Unit::Rial);
            let answer = normalize(&answer, UNITS, out);
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
        Err(CliError::Sdk(e)) if e.api_error().and_then(|a| a.upstream_status) == Some(2) => {
            let raw = e.api_error().map(|a| a.raw.clone()).unwrap_or(Value::Null);
            let j = json!({"outcome": "already_verified", "answer": raw});
            emit(
                ctx,
                || "already verified earlier (deliver the order if not done yet)\n".into(),
                &j,
            )
        }
        Err(e) => Err(e),
    }
}
