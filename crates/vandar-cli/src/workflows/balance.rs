//! `vandar balance`.

use crate::api::Product;
use crate::context::Ctx;
use crate::error::CliError;
use crate::output::{Unit, money, plain, record};
use crate::workflows::{data, emit};

/// The business wallet (`get_balance`); amounts in the unit the answer names (Toman).
pub async fn run(ctx: &Ctx) -> Result<(), CliError> {
    let answer = ctx
        .call(Product::Core, "get_balance", &[], &[], None)
        .await?;
    let d = data(&answer);
    let unit = match d.get("currency").and_then(|c| c.as_str()) {
        Some(c) if c.eq_ignore_ascii_case("rial") => Unit::Rial,
        _ => Unit::Toman,
    };
    emit(
        ctx,
        || {
            let mut pairs = vec![("business", ctx.business().unwrap_or("-").to_owned())];
            if let Some(m) = d.as_object() {
                for (k, v) in m {
                    if k == "currency" {
                        continue;
                    }
                    let text = if v.is_number() || v.is_string() {
                        money(v, unit)
                    } else {
                        plain(v)
                    };
                    pairs.push((k.as_str(), text));
                }
            }
            record(&pairs)
        },
        d,
    )
}
