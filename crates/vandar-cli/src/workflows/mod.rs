//! One module per workflow. Each is a thin layer over the typed clients of the SDK facade
//! (`ctx.vandar.ipg()`, `.core()`, `.subscription()`, `.sanbod()`): requests are built from the
//! generated request types, with every flag parsed into its domain type (Rial, Iban, Mobile,
//! NationalCode, TrackId, dates, ...) first, so a bad flag is refused, naming the flag, before
//! anything is sent. Answers are printed from the typed answer (serialized to JSON where the
//! output code works on JSON). Only `vandar call` ([`ops`]) is generic by design. A few reads
//! (the settlement list and show, the look-up by track id, the export's pages) send their typed
//! request but keep the answer whole with the builders' `send_as::<Value>()`, and say why where
//! they do: the documented answer types drop fields the commands print (`track_id`, `iban`).

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

/// Parse the Toman amount of flag `--{name}`; a Rial amount (`500000 Rial`) is converted
/// exactly. A bad one is refused naming the flag.
pub fn parse_toman(name: &str, s: &str) -> Result<Toman, CliError> {
    if let Ok(t) = s.parse::<Toman>() {
        return Ok(t);
    }
    match s.parse::<Rial>() {
        Ok(r) => r
            .try_to_toman()
            .map_err(|e| flag(name, format!("`{s}`: {e} (settlements are whole Toman)"))),
        Err(e) => Err(flag(name, format!("`{s}`: {e}"))),
    }
}

/// Parse the Rial amount of flag `--{name}`; a Toman amount (`5000 Toman`) is converted. A bad
/// one is refused naming the flag.
pub fn parse_rial(name: &str, s: &str) -> Result<Rial, CliError> {
    if let Ok(r) = s.parse::<Rial>() {
        return Ok(r);
    }
    match s.parse::<Toman>() {
        Ok(t) => t
            .try_to_rial()
            .map_err(|e| flag(name, format!("`{s}`: {e}"))),
        Err(e) => Err(flag(name, format!("`{s}`: {e}"))),
    }
}

/// A typed answer as JSON, for the output code that works on JSON.
pub fn as_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// The usage error of a bad flag: `--{name}: {why}`.
pub fn flag(name: &str, why: impl std::fmt::Display) -> CliError {
    CliError::usage(format!("--{name}: {why}"))
}

/// Parse a flag's value into its request type (`Mobile`, `NationalCode`, a generated string
/// type with its length and format checks, ...); a bad value is refused naming the flag.
pub fn parse_flag<T>(name: &str, value: &str) -> Result<T, CliError>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    value.parse::<T>().map_err(|e| flag(name, e))
}

/// Finish a generated request builder: every field was parsed from its flag already, so what
/// is left to fail is a missing required field (a usage error).
pub fn build<T, B>(builder: B) -> Result<T, CliError>
where
    T: TryFrom<B>,
    <T as TryFrom<B>>::Error: std::fmt::Display,
{
    T::try_from(builder).map_err(|e| CliError::usage(e.to_string()))
}

/// Check that a URL flag is an absolute http(s) URL (what the specs' `format: uri` fields
/// need), naming the flag.
pub fn check_url(name: &str, value: &str) -> Result<(), CliError> {
    match url::Url::parse(value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => Ok(()),
        _ => Err(flag(name, "not an absolute http(s) URL")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_parse_with_units() {
        assert_eq!(parse_toman("amount", "50,000").unwrap(), Toman::new(50_000));
        assert_eq!(
            parse_toman("amount", "500000 Rial").unwrap(),
            Toman::new(50_000)
        );
        let e = parse_toman("amount", "5 Rial").unwrap_err().to_string();
        assert!(
            e.starts_with("--amount: `5 Rial`") && e.contains("whole Toman"),
            "{e}"
        );
        assert_eq!(
            parse_rial("limit", "5000 Toman").unwrap(),
            Rial::new(50_000)
        );
        let e = parse_rial("limit", "abc").unwrap_err().to_string();
        assert!(e.starts_with("--limit: `abc`"), "{e}");
    }
}
