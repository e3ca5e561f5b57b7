//! `vandar reconcile`: the shop's orders against the Vandar side of the same period.
//!
//! Input: a CSV with a header naming `factor_number`, `amount` and `date` (any order, extra
//! columns ignored; `factorNumber` is accepted too). Amounts are in `--orders-unit` (Toman by
//! default; the report is in `--unit`, Toman by default), dates Jalali or Gregorian, with or
//! without a time.
//!
//! The Vandar side is the statement's IPG lines (`list_transactions`, `channel=ipg`,
//! `per_page=100`, the most the API documents) of the period, through the typed client and the
//! runtime's cursor pagination (`Paginate::items`), newest first. The cursor (`start_after`)
//! makes one walk's pages strictly sequential, so the period is cut into at most 8 day windows
//! (`fromDate`/`toDate` each) and up to 4 windows are walked at once, each page a read-only
//! GET (the SDK's rate limiter still spaces them when it is on); their lines are taken newest
//! window first, so the report is the same as one walk's. A walk stops at its first line
//! before its window. A server that ignored `fromDate`/`toDate` would still give the right
//! report (every line's day is checked here), at the cost of extra pages.
//!
//! # Memory
//!
//! The orders are streamed (read twice when the period comes from them: once for the first
//! and last date, once to match). What is held: one small entry per Vandar line of the period
//! (factor number, amount, id, time, how many orders matched it), the lines walked ahead of
//! the matcher (at most 4 chunks of 100 per running window: a walk that gets that far ahead
//! waits), and the factor numbers of orders missing at Vandar (to recognise a repeated one). Memory grows with the Vandar side and the misses, not with the
//! matched orders. Result rows are written as they are found.
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

/// Day windows the period is split into (at most), and how many are walked at once.
const WINDOWS: usize = 8;
/// Windows walked at once: a small, bounded number of read-only page requests in flight (the
/// SDK's rate limiter still spaces them when it is on).
const IN_FLIGHT: usize = 4;
/// Lines a page asks for: the most `list_transactions` documents (`per_page` at most 100).
const PER_PAGE: u64 = 100;

/// One Vandar IPG line of the period, reduced to what matching needs.
struct Line {
    factor: Option<String>,
    paid: Paid,
    /// Without a `created_at` (its window cannot be checked).
    undated: bool,
}

/// The period as at most `n` consecutive day windows, newest first.
fn windows(from: NaiveDate, to: NaiveDate, n: usize) -> Vec<(NaiveDate, NaiveDate)> {
    let days = usize::try_from((to - from).num_days()).unwrap_or(0) + 1;
    let n = n.clamp(1, days);
    let per = days.div_ceil(n);
    let mut out = Vec::with_capacity(n);
    let mut end = to;
    while end >= from {
        let span = i64::try_from(per).unwrap_or(i64::MAX) - 1;
        let start = end
            .checked_sub_signed(chrono::Duration::days(span))
            .map_or(from, |s| s.max(from));
        out.push((start, end));
        match start.pred_opt() {
            Some(p) => end = p,
            None => break,
        }
    }
    out
}

/// Lines sent from a window's walk to the matcher at a time (one page's worth).
const CHUNK: usize = PER_PAGE as usize;
/// Chunks a window may have waiting for the matcher: a walk ahead of the matcher stops there,
/// so what is held ahead is at most `IN_FLIGHT × WAITING × CHUNK` lines, whatever the period.
const WAITING: usize = 4;

/// A chunk of a window's lines, or why its walk ended early.
type Chunk = Result<Vec<Line>, CliError>;

/// One window's IPG lines, newest first, through the typed, cursor-paged `list_transactions`
/// (`Paginate::items`: one page in memory at a time), sent to `tx` in chunks. The cursor makes
/// the pages of one window sequential; the windows are independent, which is what lets several
/// run at once.
async fn walk(
    core: vandar::core::Client,
    business: String,
    (from, to): (NaiveDate, NaiveDate),
    tx: tokio::sync::mpsc::Sender<Chunk>,
) {
    let jalali = |d: NaiveDate| {
        JalaliDate::from_gregorian(d)
            .map(JalaliCompactDate::from)
            .map_err(|e| CliError::usage(format!("date {d}: {e}")))
    };
    let (from_date, to_date) = match (jalali(from), jalali(to)) {
        (Ok(f), Ok(t)) => (f, t),
        (Err(e), _) | (_, Err(e)) => {
            let _ = tx.send(Err(e)).await;
            return;
        }
    };
    let mut lines = core
        .list_transactions()
        .business(business)
        .channel("ipg")
        .per_page(NonZeroU64::new(PER_PAGE).unwrap_or(NonZeroU64::MIN))
        .from_date(from_date)
        .to_date(to_date)
        .items();
    let mut chunk = Vec::with_capacity(CHUNK);
    loop {
        let t = match lines.try_next().await {
            Ok(Some(t)) => t,
            Ok(None) => break,
            Err(e) => {
                let _ = tx.send(Err(e.into())).await;
                return;
            }
        };
        let created = t.created_at.as_ref();
        let day = created.map(|c| c.local().date());
        if day.is_some_and(|d| d < from) {
            break; // newest first: the rest is before the window
        }
        if day.is_some_and(|d| d > to) {
            continue;
        }
        chunk.push(Line {
            factor: t.factor_number.filter(|f| !f.is_empty()),
            paid: Paid {
                amount_rial: t.amount.map_or(0, |m| m.get().saturating_mul(10)),
                id: t.id.as_ref().map_or_else(String::new, ToString::to_string),
                at: created.map_or_else(String::new, |c| {
                    c.utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                }),
                matched: 0,
            },
            undated: day.is_none(),
        });
        if chunk.len() == CHUNK {
            let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
            if tx.send(Ok(full)).await.is_err() {
                return; // the matcher stopped
            }
        }
    }
    if !chunk.is_empty() {
        let _ = tx.send(Ok(chunk)).await;
    }
}

/// The Vandar side of the period: [`walk`]s of its day windows, at most [`IN_FLIGHT`] at once,
/// each its own task (page decoding runs on both cores), read newest window first, so the lines
/// come in the statement's own order (newest first) whatever finishes first, and the report is
/// the same as one walk's.
struct Walks {
    core: vandar::core::Client,
    business: String,
    todo: std::vec::IntoIter<(NaiveDate, NaiveDate)>,
    running: std::collections::VecDeque<(
        tokio::task::JoinHandle<()>,
        tokio::sync::mpsc::Receiver<Chunk>,
    )>,
}

impl Walks {
    fn start(ctx: &Ctx, from: NaiveDate, to: NaiveDate) -> Result<Walks, CliError> {
        Ok(Walks {
            core: ctx.vandar.core(),
            business: ctx.business()?.to_owned(),
            todo: windows(from, to, WINDOWS).into_iter(),
            running: std::collections::VecDeque::new(),
        })
    }

    /// The next lines, in order; `None` after the oldest window.
    async fn next(&mut self) -> Result<Option<Vec<Line>>, CliError> {
        loop {
            while self.running.len() < IN_FLIGHT {
                let Some(window) = self.todo.next() else {
                    break;
                };
                let (tx, rx) = tokio::sync::mpsc::channel(WAITING);
                let task = tokio::spawn(walk(self.core.clone(), self.business.clone(), window, tx));
                self.running.push_back((task, rx));
            }
            let Some((_, rx)) = self.running.front_mut() else {
                return Ok(None);
            };
            match rx.recv().await {
                Some(chunk) => return chunk.map(Some),
                None => {
                    // the window's walk ended: a panic is an error, the end is the next window
                    if let Some((task, _)) = self.running.pop_front() {
                        task.await
                            .map_err(|e| CliError::Other(format!("a statement walk ended: {e}")))?;
                    }
                }
            }
        }
    }
}

impl Drop for Walks {
    /// Stop the walks still running (after an error, nothing more is read).
    fn drop(&mut self) {
        for (task, _) in &self.running {
            task.abort();
        }
    }
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
    // the Vandar side of the period, streamed page by page (a few day windows at once)
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
    let mut undated_ids: HashSet<String> = HashSet::new();
    let mut walks = Walks::start(ctx, from, to)?;
    while let Some(lines) = walks.next().await? {
        for line in lines {
            if line.undated && !line.paid.id.is_empty() && !undated_ids.insert(line.paid.id.clone())
            {
                continue; // an undated line another window returned too
            }
            counts.vandar_lines += 1;
            match line.factor {
                Some(f) if paid.contains_key(&f) => {
                    counts.add("duplicate_at_vandar");
                    report.row(&Row {
                        kind: "duplicate_at_vandar",
                        factor_number: &f,
                        vandar_amount: Some(line.paid.amount_rial),
                        vandar_id: &line.paid.id,
                        vandar_time: &line.paid.at,
                        ..Row::default()
                    })?;
                }
                Some(f) => {
                    paid.insert(f, line.paid);
                }
                None => extra.push((String::new(), line.paid)),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn windows_cover_the_period_newest_first_without_gaps() {
        for (from, to, n, expect) in [
            ("2026-11-01", "2026-11-30", 8, 8),
            ("2026-11-01", "2026-11-01", 8, 1),
            ("2026-11-01", "2026-11-03", 8, 3),
            ("2020-01-01", "2099-12-31", 8, 8),
            ("2026-11-01", "2026-11-30", 1, 1),
        ] {
            let (from, to) = (day(from), day(to));
            let w = windows(from, to, n);
            assert_eq!(w.len(), expect, "{from}..{to}: {w:?}");
            assert_eq!(w.first().map(|x| x.1), Some(to));
            assert_eq!(w.last().map(|x| x.0), Some(from));
            for pair in w.windows(2) {
                // newer first, each window starts the day after the next one ends
                assert!(pair[0].0 <= pair[0].1, "{pair:?}");
                assert_eq!(pair[1].1.succ_opt(), Some(pair[0].0), "{pair:?}");
            }
        }
    }
}
