//! `vandar balance` (Toman unless `--unit rial`), through the typed `core:get_balance`.

use serde_json::Value;

use crate::context::Ctx;
use crate::error::CliError;
use crate::output::{Unit, money, normalize, plain, record};
use crate::workflows::{as_json, data, emit};

/// The unit of `vandar balance` unless `--unit` says otherwise.
pub const DEFAULT_UNIT: Unit = Unit::Toman;

/// The business wallet (`get_balance`): every amount in one unit, JSON amounts as numbers with
/// a `unit` field. The answer names its own unit (`currency`, Toman today).
pub async fn run(ctx: &Ctx) -> Result<(), CliError> {
    let answer = ctx
        .vandar
        .core()
        .get_balance()
        .business(ctx.business()?)
        .send()
        .await?;
    let answer = as_json(&answer);
    let d = data(&answer);
    let src = match d.get("currency").and_then(Value::as_str) {
        Some(c) if c.eq_ignore_ascii_case("rial") => Unit::Rial,
        _ => Unit::Toman,
    };
    let out = ctx.out_unit(DEFAULT_UNIT);
    let money_fields: Vec<(&str, Unit)> = d
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, v)| *k != "currency" && (v.is_number() || v.is_string()))
                .map(|(k, _)| (k.as_str(), src))
                .collect()
        })
        .unwrap_or_default();
    let mut j = normalize(d, &money_fields, out);
    if let Some(m) = j.as_object_mut() {
        m.remove("currency");
    }
    emit(
        ctx,
        || {
            let mut pairs = vec![("business", ctx.business().unwrap_or("-").to_owned())];
            if let Some(m) = d.as_object() {
                for (k, v) in m.iter().filter(|(k, _)| *k != "currency") {
                    let text = if money_fields.iter().any(|(f, _)| f == k) {
                        money(v, src, out)
                    } else {
                        plain(v)
                    };
                    pairs.push((k.as_str(), text));
                }
            }
            record(&pairs)
        },
        &j,
    )
}
