//! Output: readable tables and records for people, JSON for scripts; money always with its unit.

use std::io::Write;

use serde_json::Value;
use vandar::domain::{Rial, Toman};

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Tables and `key: value` records.
    Human,
    /// One JSON document on stdout.
    Json,
}

/// A money unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Iranian Rial.
    Rial,
    /// Toman (10 Rial).
    Toman,
}

impl Unit {
    /// `Rial` or `Toman`.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Rial => "Rial",
            Unit::Toman => "Toman",
        }
    }
}

/// A JSON amount (number or numeric string, as the API sends it) as an integer.
pub fn amount_of(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.parse::<Toman>().ok().map(i64::from).or_else(|| {
            s.trim()
                .split('.')
                .next()
                .and_then(|i| i.replace(',', "").parse().ok())
        }),
        _ => None,
    }
}

/// `1,250,000 Toman`; a value that is not an amount is shown as it is.
pub fn money(v: &Value, unit: Unit) -> String {
    match amount_of(v) {
        Some(n) => match unit {
            Unit::Rial => format!("{:#}", Rial::new(n)),
            Unit::Toman => format!("{:#}", Toman::new(n)),
        },
        None => plain(v),
    }
}

/// A scalar as text (`-` for null), an object or array as compact JSON.
pub fn plain(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// A table: a header row and rows of cells.
#[derive(Debug, Default)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers.
    pub fn new(headers: &[&str]) -> Self {
        Table {
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Add a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Render with aligned columns (by character count), two spaces apart.
    pub fn render(&self) -> String {
        let width = |s: &str| s.chars().count();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| width(h)).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                if i < widths.len() {
                    widths[i] = widths[i].max(width(c));
                }
            }
        }
        let mut out = String::new();
        let mut line = |cells: &[String]| {
            let last = cells.len().saturating_sub(1);
            for (i, c) in cells.iter().enumerate() {
                out.push_str(c);
                if i < last {
                    out.push_str(&" ".repeat(widths[i].saturating_sub(width(c)) + 2));
                }
            }
            out.push('\n');
        };
        line(&self.headers);
        for r in &self.rows {
            line(r);
        }
        out
    }
}

/// A `key: value` record (one object).
pub fn record(pairs: &[(&str, String)]) -> String {
    let w = pairs
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (k, v) in pairs {
        out.push_str(&format!("{k}:{} {v}\n", " ".repeat(w - k.chars().count())));
    }
    out
}

/// Print to stdout (a closed pipe ends the output quietly).
pub fn print(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Print a JSON value, pretty, on stdout.
pub fn print_json(v: &Value) -> std::io::Result<()> {
    print(&format!(
        "{}\n",
        serde_json::to_string_pretty(v).map_err(std::io::Error::from)?
    ))
}

/// The money fields of an object, with their units, as `key: value` pairs; other scalar
/// fields as they are. `units` names the money fields.
pub fn object_record(obj: &Value, units: &[(&str, Unit)]) -> String {
    let Some(map) = obj.as_object() else {
        return format!("{}\n", plain(obj));
    };
    let pairs: Vec<(&str, String)> = map
        .iter()
        .map(|(k, v)| {
            let text = match units.iter().find(|(name, _)| name == k) {
                Some((_, unit)) if !v.is_null() => money(v, *unit),
                _ => plain(v),
            };
            (k.as_str(), text)
        })
        .collect();
    record(&pairs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn money_carries_its_unit() {
        assert_eq!(money(&json!(1250000), Unit::Toman), "1,250,000 Toman");
        assert_eq!(money(&json!("50000"), Unit::Rial), "50,000 Rial");
        assert_eq!(money(&json!(-1000), Unit::Toman), "-1,000 Toman");
        assert_eq!(money(&json!(null), Unit::Toman), "-");
    }

    #[test]
    fn tables_align_columns() {
        let mut t = Table::new(&["A", "LONG"]);
        t.row(vec!["xyz".into(), "1".into()]);
        assert_eq!(t.render(), "A    LONG\nxyz  1\n");
    }
}
