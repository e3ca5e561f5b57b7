//! `vandar transactions export`: the statement, page by page, to CSV or JSON in constant memory.
//!
//! Each page (at most 100 lines) is fetched, written and dropped before the next one is asked
//! for (the `start_after` cursor), so memory does not grow with the statement. Dates are Jalali
//! or Gregorian; the range goes to the API as `fromDate`/`toDate`, and the walk stops at the
//! first page that ends before `--from` (the statement is newest first), so a server that
//! ignores the filter is not walked to its first line. Each line's `created_at` (Tehran wall
//! clock) is also checked against the range.
//!
//! Columns: `created_at` is an ISO-8601 instant (UTC, `2026-12-06T15:25:27Z`), and
//! `created_at_jalali` the Tehran wall clock in the Jalali calendar, zero-padded
//! (`1405/09/15 18:55:27`), so both sort as text. Amounts are numbers in one unit (Toman unless
//! `--unit rial`), named by the `unit` column. `status` is a name, `status_code` the API's code.
//! A summary (rows, sum of amounts with its unit) goes to stderr; a progress bar too, but only
//! when stderr is a terminal.
//!
//! The pages are asked for with the typed `list_transactions` (the flags are parsed first:
//! dates into Jalali compact dates, `--per-page` 1 to 100; the SDK checks every field before
//! sending) and read with `send_as::<Value>()`, for one column: the statement lines of
//! settlements carry their `track_id`, which the spec's `Transaction` does not name, so the
//! documented answer type would leave the export's `track_id` column empty.
//! `vandar reconcile`, which needs no track id, walks the same statement typed.

use std::fs::File;
use std::io::{BufWriter, IsTerminal as _, Write};

use chrono::NaiveDate;
use serde_json::{Value, json};
use vandar::domain::{ApiDate, ApiDateTime, JalaliCompactDate, JalaliDate};

use crate::cli::{ExportArgs, ExportFormat};
use crate::context::Ctx;
use crate::error::CliError;
use crate::output::{Unit, amount_of, number, rial_of, show};

/// The unit of an export unless `--unit` says otherwise.
pub const DEFAULT_UNIT: Unit = Unit::Toman;

/// CSV header (the `unit` column names the unit of `amount`, `wage` and `wallet`).
pub const COLUMNS: [&str; 16] = [
    "id",
    "created_at",
    "created_at_jalali",
    "amount",
    "wage",
    "wallet",
    "unit",
    "status",
    "status_code",
    "channel",
    "track_id",
    "factor_number",
    "tracking_code",
    "ref_id",
    "card_number",
    "description",
];

/// What an export wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Rows written.
    pub rows: u64,
    /// Sum of the `amount` column, Rial.
    pub sum_rial: i64,
    /// Pages fetched.
    pub pages: u64,
}

fn parse_day(flag: &str, s: &str) -> Result<NaiveDate, CliError> {
    ApiDate::parse(s).map(|d| d.gregorian()).map_err(|e| {
        CliError::usage(format!(
            "--{flag} `{s}`: {e} (use a Jalali date like 1403/01/15 or a Gregorian one like 2024-04-03)"
        ))
    })
}

fn text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// The name of a statement line's status code (the API sends the code only).
pub fn statement_status(code: Option<i64>) -> &'static str {
    match code {
        Some(1) => "succeeded",
        Some(0) => "failed",
        Some(_) => "other",
        None => "",
    }
}

/// One statement line as the export's cells (amounts in `unit`), its Tehran day and its
/// amount in Rial.
fn cells(item: &Value, unit: Unit) -> ([String; 16], Option<NaiveDate>, i64) {
    let created = ApiDateTime::parse(&text(item.get("created_at"))).ok();
    let amount = item
        .get("amount")
        .and_then(|v| rial_of(v, Unit::Toman))
        .unwrap_or(0);
    let money = |k: &str| {
        item.get(k)
            .and_then(|v| rial_of(v, Unit::Toman))
            .map(|r| number(r, unit).to_string())
            .unwrap_or_default()
    };
    let code = item.get("status").and_then(amount_of);
    (
        [
            text(item.get("id")),
            created.as_ref().map_or_else(String::new, |t| {
                t.utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            }),
            created
                .as_ref()
                .and_then(|t| t.jalali().ok())
                .map_or_else(String::new, |j| j.to_string()),
            number(amount, unit).to_string(),
            money("wage"),
            money("wallet"),
            unit.key().to_owned(),
            statement_status(code).to_owned(),
            code.map_or_else(String::new, |c| c.to_string()),
            text(item.get("channel")),
            text(item.get("track_id")),
            text(item.get("factorNumber")),
            text(item.get("tracking_code")),
            text(item.get("ref_id")),
            text(item.get("card_number")),
            text(item.get("description")),
        ],
        created.map(|t| t.local().date()),
        amount,
    )
}

enum Sink {
    Csv(Box<csv::Writer<Box<dyn Write>>>),
    Json { out: Box<dyn Write>, first: bool },
}

impl Sink {
    fn new(format: ExportFormat, out: Box<dyn Write>) -> Result<Sink, CliError> {
        Ok(match format {
            ExportFormat::Csv => {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(COLUMNS).map_err(csv_err)?;
                Sink::Csv(Box::new(w))
            }
            ExportFormat::Json => {
                let mut out = out;
                out.write_all(b"[")?;
                Sink::Json { out, first: true }
            }
        })
    }

    fn row(&mut self, cells: &[String; 16]) -> Result<(), CliError> {
        match self {
            Sink::Csv(w) => w.write_record(cells).map_err(csv_err),
            Sink::Json { out, first } => {
                let mut obj = serde_json::Map::with_capacity(COLUMNS.len());
                for (k, v) in COLUMNS.iter().zip(cells) {
                    let value = match *k {
                        "amount" | "wage" | "wallet" | "status_code" => {
                            serde_json::from_str::<serde_json::Number>(v)
                                .map_or(Value::Null, Value::Number)
                        }
                        _ if v.is_empty() => Value::Null,
                        _ => Value::String(v.clone()),
                    };
                    obj.insert((*k).to_owned(), value);
                }
                out.write_all(if *first { b"\n" } else { b",\n" })?;
                *first = false;
                serde_json::to_writer(&mut *out, &Value::Object(obj))
                    .map_err(std::io::Error::from)?;
                Ok(())
            }
        }
    }

    fn finish(self) -> Result<(), CliError> {
        match self {
            Sink::Csv(mut w) => w.flush().map_err(CliError::from),
            Sink::Json { mut out, .. } => {
                out.write_all(b"\n]\n")?;
                out.flush().map_err(CliError::from)
            }
        }
    }
}

fn csv_err(e: csv::Error) -> CliError {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => CliError::Io(io),
        other => CliError::Other(format!("csv: {other:?}")),
    }
}

/// Run the export.
pub async fn run(ctx: &Ctx, args: &ExportArgs) -> Result<Summary, CliError> {
    let from = args
        .from
        .as_deref()
        .map(|s| parse_day("from", s))
        .transpose()?;
    let to = args.to.as_deref().map(|s| parse_day("to", s)).transpose()?;
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(CliError::usage("--from is after --to"));
    }
    if !(1..=100).contains(&args.per_page) {
        return Err(CliError::usage("--per-page must be 1 to 100"));
    }
    let jalali = |d: NaiveDate| {
        JalaliDate::from_gregorian(d)
            .map(JalaliCompactDate::from)
            .map_err(|e| CliError::usage(format!("date {d}: {e}")))
    };
    let per_page = std::num::NonZeroU64::new(args.per_page)
        .ok_or_else(|| CliError::usage("--per-page must be 1 to 100"))?;
    let from_date = from.map(jalali).transpose()?;
    let to_date = to.map(jalali).transpose()?;
    let business = ctx.business()?;
    let core = ctx.vandar.core();
    // the typed request (every field checked before sending), the answer kept whole: the
    // statement lines of settlements carry a `track_id` the spec's `Transaction` does not name
    let page_request = |cursor: Option<&str>| {
        let mut r = core
            .list_transactions()
            .business(business)
            .per_page(per_page);
        if let Some(d) = &from_date {
            r = r.from_date(d);
        }
        if let Some(d) = &to_date {
            r = r.to_date(d);
        }
        if let Some(v) = &args.channel {
            r = r.channel(v);
        }
        if let Some(v) = &args.status_kind {
            r = r.status_kind(v);
        }
        if let Some(v) = &args.track_id {
            r = r.track_id(v);
        }
        if let Some(c) = cursor {
            r = r.start_after(c);
        }
        r
    };
    let out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(BufWriter::with_capacity(
            256 * 1024,
            File::create(path)
                .map_err(|e| CliError::usage(format!("cannot create {}: {e}", path.display())))?,
        )),
        None => Box::new(BufWriter::with_capacity(256 * 1024, std::io::stdout())),
    };
    let mut sink = Sink::new(args.format, out)?;
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar =
            indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {human_pos} rows [{elapsed}]")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar
    });
    let unit = ctx.out_unit(DEFAULT_UNIT);
    let mut summary = Summary::default();
    let mut cursor: Option<String> = None;
    loop {
        let page = page_request(cursor.as_deref())
            .send_as::<Value>()
            .await?
            .into_body();
        summary.pages += 1;
        let list = crate::workflows::items(page.get("data").unwrap_or(&Value::Null));
        let mut last = None;
        let mut oldest: Option<NaiveDate> = None;
        for item in &list {
            let (row, day, amount) = cells(item, unit);
            last = Some(row[0].clone());
            oldest = day.or(oldest);
            let in_range = match day {
                Some(d) => from.is_none_or(|f| d >= f) && to.is_none_or(|t| d <= t),
                None => true,
            };
            if !in_range {
                continue;
            }
            match sink.row(&row) {
                Err(CliError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                    return Ok(summary);
                }
                other => other?,
            }
            summary.rows += 1;
            summary.sum_rial += amount;
        }
        // newest first: a page that ends before --from ends the walk
        let before_range = matches!((oldest, from), (Some(o), Some(f)) if o < f);
        if let Some(bar) = &bar {
            bar.set_position(summary.rows);
        }
        let more = matches!(page.get("has_more"), Some(Value::Bool(true)))
            || page.get("has_more").and_then(Value::as_i64) == Some(1);
        match last {
            Some(_) if before_range => break,
            Some(id) if more && !id.is_empty() && cursor.as_deref() != Some(&id) => {
                cursor = Some(id);
            }
            Some(_) if more => {
                return Err(CliError::Other(
                    "the statement's cursor did not move (a line without an id, or the same page twice)".into(),
                ));
            }
            _ => break,
        }
    }
    match sink.finish() {
        Err(CliError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other?,
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let total = show(summary.sum_rial, unit);
    if ctx.json() && args.output.is_some() {
        crate::output::print_json(&json!({
            "rows": summary.rows, "sum": number(summary.sum_rial, unit), "unit": unit.key(), "pages": summary.pages,
        }))?;
    } else {
        eprintln!(
            "exported {} rows ({} pages); sum of amounts: {total}",
            summary.rows, summary.pages
        );
    }
    Ok(summary)
}
