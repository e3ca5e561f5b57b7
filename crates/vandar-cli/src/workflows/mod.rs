//! One module per workflow. Each is a thin layer over [`Ctx::call`](crate::context::Ctx::call)
//! (the generic `Binding::call::<serde_json::Value>` path), so changes to the generated types
//! do not reach the CLI.

pub mod balance;
pub mod docs;
pub mod export;
pub mod ipg;
pub mod mandate;
pub mod ops;
pub mod reconcile;
pub mod sanbod;
pub mod sandbox;
pub mod settlement;
pub mod token;

use serde_json::Value;
use vandar::domain::{Rial, Toman};

use crate::context::Ctx;
use crate::error::CliError;
use crate::output::{self, Table, Unit};

/// Print `human` on a terminal/table run, `json` with `--json`.
pub fn emit(ctx: &Ctx, human: impl FnOnce() -> String, json: &Value) -> Result<(), CliError> {
    if ctx.json() {
        output::print_json(json)?;
    } else {
        output::print(&human())?;
    }
    Ok(())
}

/// The `data` (Vandar) or `result` (direct debit) of an answer, or the answer itself.
pub fn data(v: &Value) -> &Value {
    v.get("data")
        .or_else(|| v.get("result"))
        .filter(|d| !d.is_null())
        .unwrap_or(v)
}

/// The items of a list: an array, or one object as one item, or a Laravel page's `data`.
pub fn items(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        Value::Object(m) if m.contains_key("data") && m.contains_key("current_page") => {
            items(&m["data"])
        }
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// A table of `columns` from a list of objects; money columns with their unit.
pub fn table_of(list: &[&Value], columns: &[&str], units: &[(&str, Unit)], out: Unit) -> String {
    let headers: Vec<String> = columns.iter().map(|c| c.to_uppercase()).collect();
    let mut t = Table::new(&headers.iter().map(String::as_str).collect::<Vec<_>>());
    for item in list {
        t.row(
            columns
                .iter()
                .map(|c| {
                    let v = item.get(*c).unwrap_or(&Value::Null);
                    match units.iter().find(|(k, _)| k == c) {
                        Some((_, u)) if !v.is_null() => output::money(v, *u, out),
                        _ => output::plain(v),
                    }
                })
                .collect(),
        );
    }
    if t.is_empty() {
        return "(none)\n".into();
    }
    t.render()
}

/// Parse a Toman amount; a Rial amount (`500000 Rial`) is converted exactly.
pub fn parse_toman(s: &str) -> Result<Toman, CliError> {
    if let Ok(t) = s.parse::<Toman>() {
        return Ok(t);
    }
    match s.parse::<Rial>() {
        Ok(r) => r.try_to_toman().map_err(|e| {
            CliError::usage(format!("amount `{s}`: {e} (settlements are whole Toman)"))
        }),
        Err(e) => Err(CliError::usage(format!("amount `{s}`: {e}"))),
    }
}

/// Parse a Rial amount; a Toman amount (`5000 Toman`) is converted.
pub fn parse_rial(s: &str) -> Result<Rial, CliError> {
    if let Ok(r) = s.parse::<Rial>() {
        return Ok(r);
    }
    match s.parse::<Toman>() {
        Ok(t) => t
            .try_to_rial()
            .map_err(|e| CliError::usage(format!("amount `{s}`: {e}"))),
        Err(e) => Err(CliError::usage(format!("amount `{s}`: {e}"))),
    }
}

/// A fresh track id (UUID v4).
pub fn new_track_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Insert `key: value` into a JSON object when `value` is set.
pub fn put(body: &mut Value, key: &str, value: Option<&str>) {
    if let (Some(v), Some(m)) = (value, body.as_object_mut()) {
        m.insert(key.to_owned(), Value::String(v.to_owned()));
    }
}

/// An IBAN (validated; the error never echoes it whole).
pub fn parse_iban(s: &str) -> Result<String, CliError> {
    s.parse::<vandar::domain::Iban>()
        .map(|i| i.to_string())
        .map_err(|e| CliError::usage(format!("IBAN: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_parse_with_units() {
        assert_eq!(parse_toman("50,000").unwrap(), Toman::new(50_000));
        assert_eq!(parse_toman("500000 Rial").unwrap(), Toman::new(50_000));
        assert!(parse_toman("5 Rial").is_err());
        assert_eq!(parse_rial("5000 Toman").unwrap(), Rial::new(50_000));
        assert!(parse_rial("abc").is_err());
    }
}
