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

/// A money unit (`--unit rial|toman`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
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

    /// `rial` or `toman` (the `unit` field of JSON output).
    pub fn key(self) -> &'static str {
        match self {
            Unit::Rial => "rial",
            Unit::Toman => "toman",
        }
    }

    /// Rial in one of this unit.
    fn rial_factor(self) -> i64 {
        match self {
            Unit::Rial => 1,
            Unit::Toman => 10,
        }
    }
}

/// An amount given in `src` as an exact number of Rial.
pub fn rial_of(v: &Value, src: Unit) -> Option<i64> {
    amount_of(v).and_then(|n| n.checked_mul(src.rial_factor()))
}

/// `rial` as a JSON number in `out` (a Toman amount that is not whole has one decimal).
pub fn number(rial: i64, out: Unit) -> Value {
    let f = out.rial_factor();
    if rial % f == 0 {
        Value::from(rial / f)
    } else {
        Value::from(rial as f64 / f as f64)
    }
}

/// `rial` as text in `out`, with the unit: `1,250,000 Toman`, `1,234.5 Toman`.
pub fn show(rial: i64, out: Unit) -> String {
    match out {
        Unit::Rial => format!("{:#}", Rial::new(rial)),
        Unit::Toman if rial % 10 == 0 => format!("{:#}", Toman::new(rial / 10)),
        Unit::Toman => {
            let whole = format!("{:#}", Toman::new(rial / 10));
            let digits = whole.trim_end_matches(" Toman");
            format!("{digits}.{} Toman", (rial % 10).abs())
        }
    }
}

/// An object with its money fields (`units`: field and the unit the API sends it in) turned
/// into numbers in `out`, and a `unit` field naming `out`. Fields the API duplicates in
/// another unit (`amount_toman`, `wage_toman`) are dropped: one unit per answer.
pub fn normalize(obj: &Value, units: &[(&str, Unit)], out: Unit) -> Value {
    let Some(map) = obj.as_object() else {
        return obj.clone();
    };
    let mut m = serde_json::Map::with_capacity(map.len() + 1);
    for (k, v) in map {
        if let Some(base) = k.strip_suffix("_toman")
            && (map.contains_key(base) || base == "wage")
            && units.iter().any(|(name, _)| name == k)
        {
            if base == "wage"
                && !map.contains_key("wage")
                && let Some(r) = rial_of(v, Unit::Toman)
            {
                m.insert("wage".into(), number(r, out));
            }
            continue;
        }
        let value = match units.iter().find(|(name, _)| name == k) {
            Some((_, src)) => rial_of(v, *src).map_or_else(|| v.clone(), |r| number(r, out)),
            None => v.clone(),
        };
        m.insert(k.clone(), value);
    }
    m.insert("unit".into(), Value::from(out.key()));
    Value::Object(m)
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

/// An amount sent in `src`, shown in `out` with its unit (`1,250,000 Toman`); a value that is
/// not an amount is shown as it is.
pub fn money(v: &Value, src: Unit, out: Unit) -> String {
    match rial_of(v, src) {
        Some(r) => show(r, out),
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

/// An object as `key: value` pairs: money fields (`units`: field and the unit the API sends
/// it in) shown in `out` with the unit, the rest as they are. API messages are labelled.
pub fn object_record(obj: &Value, units: &[(&str, Unit)], out: Unit) -> String {
    let Some(map) = normalize(obj, units, out).as_object().cloned() else {
        return format!("{}\n", plain(obj));
    };
    let pairs: Vec<(String, String)> = map
        .iter()
        .filter(|(k, _)| *k != "unit")
        .map(|(k, v)| {
            let text = match units
                .iter()
                .any(|(name, _)| name == k || *name == format!("{k}_toman"))
            {
                true if !v.is_null() => money(v, out, out),
                _ => plain(v),
            };
            let key = if k == "message" {
                "API message".to_owned()
            } else {
                k.clone()
            };
            (key, text)
        })
        .collect();
    let refs: Vec<(&str, String)> = pairs.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    record(&refs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn money_carries_its_unit() {
        use Unit::{Rial as R, Toman as T};
        assert_eq!(money(&json!(1250000), T, T), "1,250,000 Toman");
        assert_eq!(money(&json!("50000"), R, R), "50,000 Rial");
        assert_eq!(money(&json!(-1000), T, T), "-1,000 Toman");
        assert_eq!(money(&json!(null), T, T), "-");
        assert_eq!(money(&json!(5000), T, R), "50,000 Rial");
        assert_eq!(money(&json!(12345), R, T), "1,234.5 Toman");
        let n = normalize(
            &json!({"amount": 500000, "amount_toman": 50000, "wallet": "70000", "x": 1}),
            &[("amount", R), ("amount_toman", T), ("wallet", T)],
            T,
        );
        assert_eq!(
            n,
            json!({"amount": 50000, "wallet": 70000, "x": 1, "unit": "toman"})
        );
    }

    #[test]
    fn tables_align_columns() {
        let mut t = Table::new(&["A", "LONG"]);
        t.row(vec!["xyz".into(), "1".into()]);
        assert_eq!(t.render(), "A    LONG\nxyz  1\n");
    }
}
