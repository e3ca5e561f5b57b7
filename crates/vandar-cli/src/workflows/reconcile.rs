//! `vandar reconcile`: the shop's orders against the Vandar side of the same period.
//!
//! Input: a CSV with a header naming `factor_number`, `amount` and `date` (any order, extra
//! columns ignored; `factorNumber` is accepted too). Amounts are in `--orders-unit` (Toman by
//! default; the report is in `--unit`, Toman by default), dates Jalali or Gregorian, with or
//! without a time.
//!
//! The Vandar side is the statement's IPG lines (`list_transactions`, `channel=ipg`, with
//! `fromDate`/`toDate`) streamed through the runtime's cursor pagination (`Paginate::items`),
//! newest first; the walk stops at the first line before the period.
//!
//! # Memory
//!
//! The orders are streamed (read twice when the period comes from them: once for the first
//! and last date, once to match). What is held: one small entry per Vandar line of the period
//! (factor number, amount, id, time, how many orders matched it), and the factor numbers of
//! orders missing at Vandar (to recognise a repeated one). Memory grows with the Vandar side
//! and the misses, not with the matched orders. Result rows are written as they are found.
//!
//! # Report
//!
//! Kinds: `matched`, `amount_mismatch`, `missing_at_vandar` (an order without a payment),
//! `unknown_to_shop` (a payment without an order), `duplicate_order` (a factor number ordered
//! twice), `duplicate_at_vandar` (a factor number paid twice). Matched rows are listed with
//! `--all` only; the summary counts every kind. The exit code is 6 when anything but
//! `matched` was found.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::num::NonZeroU64;

use chrono::NaiveDate;
use serde_json::{Value, json};
use vandar::domain::{ApiDate, ApiDateTime, JalaliCompactDate, JalaliDate};
use vandar::{Paginate as _, TryStreamExt as _};

use crate::cli::{ReconcileArgs, ReportFormat};
use crate::context::Ctx;
use crate::error::CliError;
use crate::output::{Unit, rial_of, show};

/// The unit of orders and report unless `--unit` says otherwise.
pub const DEFAULT_UNIT: Unit = Unit::Toman;

/// The kinds of result, in report order.
pub const KINDS: [&str; 6] = [
    "matched",
    "amount_mismatch",
    "missing_at_vandar",
    "unknown_to_shop",
    "duplicate_order",
    "duplicate_at_vandar",
];

/// One Vandar line held for matching.
#[derive(Debug)]
struct Paid {
    amount_rial: i64,
    id: String,
    at: String,
    matched: u32,
}

/// One result row.
#[derive(Debug, Default)]
struct Row<'a> {
    kind: &'static str,
    factor_number: &'a str,
    order_amount: Option<i64>,
    vandar_amount: Option<i64>,
    order_date: &'a str,
    vandar_id: &'a str,
    vandar_time: &'a str,
}

/// Counts per kind.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Per kind, in [`KINDS`] order.
    pub by_kind: [u64; 6],
    /// Orders read.
    pub orders: u64,
    /// Vandar lines of the period.
    pub vandar_lines: u64,
}

impl Counts {
    fn add(&mut self, kind: &str) {
        if let Some(i) = KINDS.iter().position(|k| *k == kind) {
            self.by_kind[i] += 1;
        }
    }

    /// Whether anything but `matched` was found.
    pub fn has_differences(&self) -> bool {
        self.by_kind[1..].iter().any(|n| *n > 0)
    }
}

/// Where the rows go.
struct Report {
    out: Box<dyn Write>,
    format: ReportFormat,
    unit: Unit,
    all: bool,
    first: bool,
}

const TABLE_HEAD: [&str; 7] = [
    "KIND",
    "FACTOR_NUMBER",
    "ORDER_AMOUNT",
    "VANDAR_AMOUNT",
    "ORDER_DATE",
    "VANDAR_ID",
    "VANDAR_TIME",
];

impl Report {
    fn start(&mut self) -> std::io::Result<()> {
        match self.format {
            ReportFormat::Table => writeln!(
                self.out,
                "{:<19}  {:<20}  {:>20}  {:>20}  {:<19}  {:<14}  {}",
                TABLE_HEAD[0],
                TABLE_HEAD[1],
                TABLE_HEAD[2],
                TABLE_HEAD[3],
                TABLE_HEAD[4],
                TABLE_HEAD[5],
                TABLE_HEAD[6]
            ),
            ReportFormat::Csv => writeln!(
                self.out,
                "kind,factor_number,order_amount,vandar_amount,unit,order_date,vandar_id,vandar_time"
            ),
            ReportFormat::Json => write!(self.out, "{{\"rows\": ["),
        }
    }

    fn row(&mut self, r: &Row<'_>) -> std::io::Result<()> {
        if r.kind == "matched" && !self.all {
            return Ok(());
        }
        let unit = self.unit;
        let num = |n: Option<i64>| n.map(|r| crate::output::number(r, unit));
        match self.format {
            ReportFormat::Table => {
                let money = |n: Option<i64>| n.map_or_else(|| "-".to_owned(), |r| show(r, unit));
                let dash = |s: &str| {
                    if s.is_empty() {
                        "-".to_owned()
                    } else {
                        s.to_owned()
                    }
                };
                writeln!(
                    self.out,
                    "{:<19}  {:<20}  {:>20}  {:>20}  {:<19}  {:<14}  {}",
                    r.kind,
                    dash(r.factor_number),
                    money(r.order_amount),
                    money(r.vandar_amount),
                    dash(r.order_date),
                    dash(r.vandar_id),
                    dash(r.vandar_time)
                )
            }
            ReportFormat::Csv => {
                let mut w = csv::WriterBuilder::new()
                    .has_headers(false)
                    .from_writer(&mut self.out);
                let n = |v: Option<Value>| v.map_or_else(String::new, |v| v.to_string());
                w.write_record([
                    r.kind,
                    r.factor_number,
                    &n(num(r.order_amount)),
                    &n(num(r.vandar_amount)),
                    unit.key(),
                    r.order_date,
                    r.vandar_id,
                    r.vandar_time,
                ])
                .map_err(std::io::Error::other)?;
                w.flush()
            }
            ReportFormat::Json => {
                let sep = if self.first { "\n" } else { ",\n" };
                self.first = false;
                let v = json!({
                    "kind": r.kind,
                    "factor_number": r.factor_number,
                    "order_amount": num(r.order_amount),
                    "vandar_amount": num(r.vandar_amount),
                    "unit": unit.key(),
                    "order_date": (!r.order_date.is_empty()).then_some(r.order_date),
                    "vandar_id": (!r.vandar_id.is_empty()).then_some(r.vandar_id),
                    "vandar_time": (!r.vandar_time.is_empty()).then_some(r.vandar_time),
                });
                write!(self.out, "{sep}{v}")
            }
        }
    }

    fn finish(mut self, c: &Counts, from: NaiveDate, to: NaiveDate) -> std::io::Result<()> {
        let summary: serde_json::Map<String, Value> = KINDS
            .iter()
            .zip(c.by_kind)
            .map(|(k, n)| ((*k).to_owned(), Value::from(n)))
            .collect();
        match self.format {
            ReportFormat::Json => {
                let s = json!({
                    "from": from.to_string(), "to": to.to_string(),
                    "orders": c.orders, "vandar_lines": c.vandar_lines,
                    "counts": summary, "unit": self.unit.key(),
                    "differences": c.has_differences(),
                });
                writeln!(self.out, "\n], \"summary\": {s}}}")?;
            }
            _ => {
                let parts: Vec<String> = KINDS
                    .iter()
                    .zip(c.by_kind)
                    .map(|(k, n)| format!("{k} {n}"))
                    .collect();
                eprintln!(
                    "reconciled {} orders against {} Vandar lines ({from} to {to}): {}",
                    c.orders,
                    c.vandar_lines,
                    parts.join(", ")
                );
            }
        }
        self.out.flush()
    }
}

/// One order of the CSV.
struct Order {
    factor: String,
    amount_rial: Option<i64>,
    date: Option<NaiveDate>,
    date_text: String,
}

struct Orders {
    reader: csv::Reader<BufReader<File>>,
    cols: [usize; 3],
    record: csv::StringRecord,
    line: u64,
    unit: Unit,
}

impl Orders {
    fn open(path: &std::path::Path, unit: Unit) -> Result<Orders, CliError> {
        let file = File::open(path)
            .map_err(|e| CliError::usage(format!("--orders {}: {e}", path.display())))?;
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(true)
            .from_reader(BufReader::with_capacity(256 * 1024, file));
        let headers = reader
            .headers()
            .map_err(|e| CliError::usage(format!("--orders: {e}")))?
            .clone();
        let find = |names: &[&str]| {
            headers
                .iter()
                .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
                .ok_or_else(|| {
                    CliError::usage(format!(
                        "--orders: the header has no `{}` column (it needs factor_number, amount, date)",
                        names[0]
                    ))
                })
        };
        let cols = [
            find(&["factor_number", "factorNumber", "factor"])?,
            find(&["amount"])?,
            find(&["date", "created_at", "paid_at"])?,
        ];
        Ok(Orders {
            reader,
            cols,
            record: csv::StringRecord::new(),
            line: 1,
            unit,
        })
    }

    fn next(&mut self) -> Result<Option<Order>, CliError> {
        let more = self
            .reader
            .read_record(&mut self.record)
            .map_err(|e| CliError::usage(format!("--orders line {}: {e}", self.line + 1)))?;
        if !more {
            return Ok(None);
        }
        self.line += 1;
        let line = self.line;
        let get = |i: usize| self.record.get(i).unwrap_or_default();
        let factor = get(self.cols[0]).to_owned();
        if factor.is_empty() {
            return Err(CliError::usage(format!(
                "--orders line {line}: field factor_number is empty"
            )));
        }
        let amount_text = get(self.cols[1]);
        let amount_rial = rial_of(&Value::String(amount_text.to_owned()), self.unit);
        if amount_rial.is_none() {
            return Err(CliError::usage(format!(
                "--orders line {line}: field amount `{amount_text}` is not an amount"
            )));
        }
        let date_text = get(self.cols[2]).to_owned();
        let date = if date_text.is_empty() {
            None
        } else {
            Some(day_of(&date_text).ok_or_else(|| {
                CliError::usage(format!(
                    "--orders line {line}: field date `{date_text}` is not a date (Jalali 1403/01/15 or Gregorian 2024-04-03, a time may follow)"
                ))
            })?)
        };
        Ok(Some(Order {
            factor,
            amount_rial,
            date,
            date_text,
        }))
    }
}

/// The Tehran day of a date or date-time text.
fn day_of(s: &str) -> Option<NaiveDate> {
    ApiDate::parse(s)
        .map(|d| d.gregorian())
        .ok()
        .or_else(|| ApiDateTime::parse(s).ok().map(|t| t.local().date()))
}

fn parse_flag_day(flag: &str, s: &str) -> Result<NaiveDate, CliError> {
    day_of(s).ok_or_else(|| {
        CliError::usage(format!(
            "--{flag} `{s}`: not a date (Jalali 1403/01/15 or Gregorian 2024-04-03)"
        ))
    })
}

/// Run the reconciliation; the counts (the caller turns differences into exit code 6).
pub async fn run(ctx: &Ctx, a: &ReconcileArgs) -> Result<Counts, CliError> {
    let unit = ctx.out_unit(DEFAULT_UNIT);
    let mut from = a
        .from
        .as_deref()
        .map(|s| parse_flag_day("from", s))
        .transpose()?;
    let mut to =
        a.to.as_deref()
            .map(|s| parse_flag_day("to", s))
            .transpose()?;
    if from.is_none() || to.is_none() {
        // first pass: the period of the orders
        let mut orders = Orders::open(&a.orders, a.orders_unit)?;
        let (mut lo, mut hi): (Option<NaiveDate>, Option<NaiveDate>) = (None, None);
        while let Some(o) = orders.next()? {
            if let Some(d) = o.date {
                lo = Some(lo.map_or(d, |l| l.min(d)));
                hi = Some(hi.map_or(d, |h| h.max(d)));
            }
        }
        from = from.or(lo);
        to = to.or(hi);
    }
    let (Some(from), Some(to)) = (from, to) else {
        return Err(CliError::usage(
            "no period: give --from and --to, or dates in the orders' date column",
        ));
    };
    if from > to {
        return Err(CliError::usage("--from is after --to"));
    }
    let jalali = |d: NaiveDate| {
        JalaliDate::from_gregorian(d)
            .map(JalaliCompactDate::from)
            .map_err(|e| CliError::usage(format!("date {d}: {e}")))
    };
    // the Vandar side of the period, streamed page by page
    let mut paid: HashMap<String, Paid> = HashMap::new();
    let mut counts = Counts::default();
    let out: Box<dyn Write> = match &a.output {
        Some(p) => Box::new(BufWriter::with_capacity(
            256 * 1024,
            File::create(p)
                .map_err(|e| CliError::usage(format!("--output {}: {e}", p.display())))?,
        )),
        None => Box::new(BufWriter::with_capacity(256 * 1024, std::io::stdout())),
    };
    let mut report = Report {
        out,
        format: a.format,
        unit,
        all: a.all,
        first: true,
    };
    report.start()?;
    let mut extra: Vec<(String, Paid)> = Vec::new();
    {
        let core = ctx.vandar.core();
        let mut lines = core
            .list_transactions()
            .business(ctx.business()?.to_owned())
            .channel("ipg")
            .per_page(NonZeroU64::new(100).unwrap_or(NonZeroU64::MIN))
            .from_date(jalali(from)?)
            .to_date(jalali(to)?)
            .items();
        while let Some(t) = lines.try_next().await? {
            let created = t.created_at.as_ref();
            let day = created.map(|c| c.local().date());
            if day.is_some_and(|d| d < from) {
                break; // newest first: the rest is before the period
            }
            if day.is_some_and(|d| d > to) {
                continue;
            }
            counts.vandar_lines += 1;
            let entry = Paid {
                amount_rial: t.amount.map_or(0, |m| m.get().saturating_mul(10)),
                id: t.id.as_ref().map_or_else(String::new, ToString::to_string),
                at: created.map_or_else(String::new, |c| {
                    c.utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                }),
                matched: 0,
            };
            match t.factor_number.filter(|f| !f.is_empty()) {
                Some(f) if paid.contains_key(&f) => {
                    counts.add("duplicate_at_vandar");
                    report.row(&Row {
                        kind: "duplicate_at_vandar",
                        factor_number: &f,
                        vandar_amount: Some(entry.amount_rial),
                        vandar_id: &entry.id,
                        vandar_time: &entry.at,
                        ..Row::default()
                    })?;
                }
                Some(f) => {
                    paid.insert(f, entry);
                }
                None => extra.push((String::new(), entry)),
            }
        }
    }
    tracing::info!(lines = counts.vandar_lines, "the Vandar side is read");
    // second pass: the orders, streamed
    let mut orders = Orders::open(&a.orders, a.orders_unit)?;
    let mut missing: HashSet<String> = HashSet::new();
    while let Some(o) = orders.next()? {
        if o.date.is_some_and(|d| d < from || d > to) {
            continue;
        }
        counts.orders += 1;
        let mut row = Row {
            factor_number: &o.factor,
            order_amount: o.amount_rial,
            order_date: &o.date_text,
            ..Row::default()
        };
        let kind = match paid.get_mut(&o.factor) {
            Some(p) => {
                p.matched += 1;
                row.vandar_amount = Some(p.amount_rial);
                row.vandar_id = &p.id;
                row.vandar_time = &p.at;
                if p.matched > 1 {
                    "duplicate_order"
                } else if o.amount_rial == Some(p.amount_rial) {
                    "matched"
                } else {
                    "amount_mismatch"
                }
            }
            None if missing.contains(&o.factor) => "duplicate_order",
            None => {
                missing.insert(o.factor.clone());
                "missing_at_vandar"
            }
        };
        row.kind = kind;
        counts.add(kind);
        report.row(&row)?;
    }
    let mut unknown: Vec<(&String, &Paid)> = paid.iter().filter(|(_, p)| p.matched == 0).collect();
    unknown.extend(extra.iter().map(|(f, p)| (f, p)));
    unknown.sort_by(|a, b| b.1.at.cmp(&a.1.at));
    for (f, p) in unknown {
        counts.add("unknown_to_shop");
        report.row(&Row {
            kind: "unknown_to_shop",
            factor_number: f,
            vandar_amount: Some(p.amount_rial),
            vandar_id: &p.id,
            vandar_time: &p.at,
            ..Row::default()
        })?;
    }
    report.finish(&counts, from, to)?;
    Ok(counts)
}

/// The arguments with `--json` applied (`--json` means a JSON report).
pub fn effective(a: &ReconcileArgs, json: bool) -> ReconcileArgs {
    ReconcileArgs {
        orders: a.orders.clone(),
        from: a.from.clone(),
        to: a.to.clone(),
        format: if json { ReportFormat::Json } else { a.format },
        output: a.output.clone(),
        all: a.all,
        orders_unit: a.orders_unit,
    }
}
