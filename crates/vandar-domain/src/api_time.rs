//! Flexible date/date-time values for API fields whose format varies: [`ApiDateTime`] and
//! [`ApiDate`].
//!
//! Accepted inputs (digits may be Persian/Arabic; `\/` is read as `/`):
//!
//! | Input | Read as | [`DateTimeFormat`] |
//! |---|---|---|
//! | `"2019-02-19 18:19:55"` | Gregorian, Tehran wall clock | `GregorianDateTime` |
//! | `"2022-11-12T13:41:40.000000Z"` | RFC 3339 instant (without offset: Tehran wall clock) | `Rfc3339` / `GregorianDateTime` |
//! | `"1399/04/04 14:47:09"`, `"1401-03-07 18:20:48"` | Jalali, Tehran wall clock | `JalaliDateTime` |
//! | `"17:46:57 - 1401/3/7"`, `"13:53 - 1400/07/07"` | Jalali, time first | `JalaliTimeFirst` |
//! | `"2020-05-31"` | Gregorian date, 00:00 Tehran | `GregorianDate` |
//! | `"1400/08/08"`, `"1400/8/8"` | Jalali date, 00:00 Tehran | `JalaliDate` |
//! | `"14000102"`, `"980703"` | compact Jalali date (8 or 6 digits) | `JalaliCompact` |
//! | `1670222123`, `"1670222123"` | Unix seconds | `UnixSeconds` |
//! | `1670222123000` | Unix milliseconds | `UnixMillis` |
//!
//! Rules: a year below 1700 is Jalali, from 1700 on Gregorian (Jalali 1700 = Gregorian 2321,
//! so no real date is ambiguous). A number whose magnitude is at least 10^11 is milliseconds,
//! otherwise seconds (10^11 s is in the year 5138; 10^11 ms is 1973-03-03). A JSON integer is
//! always a timestamp; a numeric *string* is a compact date if it has 6 or 8 digits, else a
//! timestamp. So millisecond timestamps before 1973-03-03 cannot be told from seconds.
//!
//! Both types are lossless: they keep the original text or number and serialise it back
//! unchanged. Equality, ordering and hashing compare the moment (or day), not the spelling.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, Utc};
use chrono_tz::Asia::Tehran;
use chrono_tz::Tz;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::jalali::{
    Calendar, DateError, JalaliDate, JalaliDateTime, clean, parse_date_part, parse_time_part,
    split_date_time, tehran_utc_from_local,
};
use super::json_schema_impl;

/// Magnitude from which a Unix timestamp is taken to be in milliseconds.
const MILLIS_THRESHOLD: u64 = 100_000_000_000;

/// The spelling of an [`ApiDateTime`]: detected when parsing, chosen when constructing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DateTimeFormat {
    /// `2019-02-19 18:19:55`: Gregorian, Tehran wall clock (IPG `createdAt`, `paymentDate`).
    GregorianDateTime,
    /// RFC 3339 with offset, `2022-11-12T13:41:40Z`: an instant.
    Rfc3339,
    /// `1399/04/04 14:47:09`: Jalali, Tehran wall clock.
    JalaliDateTime,
    /// `17:46:57 - 1401/3/7`: time first, Jalali, Tehran wall clock (transaction list).
    JalaliTimeFirst,
    /// `2020-05-31`: Gregorian date at 00:00 Tehran.
    GregorianDate,
    /// `1400/08/08`: Jalali date at 00:00 Tehran.
    JalaliDate,
    /// `14000102`: compact Jalali date at 00:00 Tehran.
    JalaliCompact,
    /// Unix seconds, a JSON integer (`1670222123`).
    UnixSeconds,
    /// Unix milliseconds, a JSON integer (`1670222123000`).
    UnixMillis,
}

/// The spelling of an [`ApiDate`] built with [`ApiDate::from_gregorian`] /
/// [`ApiDate::from_jalali`], or rendered with [`ApiDate::format_as`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DateFormat {
    /// `2023-01-01` (Gregorian `Y-m-d`, e.g. mandate `expiration_date`, `withdrawal_date`).
    Gregorian,
    /// `1400/01/02`.
    Jalali,
    /// `14000102` (transaction list `fromDate`/`toDate`).
    JalaliCompact,
}

/// What was received, re-emitted unchanged.
#[derive(Debug, Clone)]
enum Raw {
    Text(String),
    Int(i64),
}

impl Raw {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Text(s) => serializer.serialize_str(s),
            Self::Int(v) => serializer.serialize_i64(*v),
        }
    }
}

impl fmt::Display for Raw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text(s) => f.write_str(s),
            Self::Int(v) => write!(f, "{v}"),
        }
    }
}

/// Implements, for a struct with a `raw: Raw` field and a `parse` constructor, the traits that
/// [`ApiDateTime`] and [`ApiDate`] share:
///
/// * `PartialEq`, `Eq`, `PartialOrd`, `Ord`, `Hash`: by the `$key` field only (the moment or the
///   day, not the spelling);
/// * `Display` and `Serialize`: the raw text or number, unchanged;
/// * `FromStr`: `parse`.
macro_rules! lossless_by_key {
    ($ty:ident, $key:ident) => {
        impl PartialEq for $ty {
            fn eq(&self, other: &Self) -> bool {
                self.$key == other.$key
            }
        }

        impl Eq for $ty {}

        impl PartialOrd for $ty {
            fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
                Some(self.cmp(other))
            }
        }

        impl Ord for $ty {
            fn cmp(&self, other: &Self) -> Ordering {
                self.$key.cmp(&other.$key)
            }
        }

        impl Hash for $ty {
            fn hash<H: Hasher>(&self, state: &mut H) {
                self.$key.hash(state);
            }
        }

        impl fmt::Display for $ty {
            /// The text as received (or as rendered by the constructor).
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.raw.fmt(f)
            }
        }

        impl FromStr for $ty {
            type Err = DateError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                self.raw.serialize(serializer)
            }
        }
    };
}

/// The outcome of parsing: the instant, the Tehran wall clock and the spelling.
struct Parsed {
    utc: DateTime<Utc>,
    local: NaiveDateTime,
    format: DateTimeFormat,
}

fn from_wall_clock(local: NaiveDateTime, format: DateTimeFormat) -> Parsed {
    Parsed {
        utc: tehran_utc_from_local(local),
        local,
        format,
    }
}

fn from_instant(utc: DateTime<Utc>, format: DateTimeFormat) -> Parsed {
    Parsed {
        utc,
        local: utc.with_timezone(&Tehran).naive_local(),
        format,
    }
}

fn parse_unix(value: i64) -> Result<Parsed, DateError> {
    let (utc, format) = if value.unsigned_abs() >= MILLIS_THRESHOLD {
        (
            DateTime::from_timestamp_millis(value),
            DateTimeFormat::UnixMillis,
        )
    } else {
        (
            DateTime::from_timestamp(value, 0),
            DateTimeFormat::UnixSeconds,
        )
    };
    let utc = utc.ok_or(DateError::Timestamp { value })?;
    Ok(from_instant(utc, format))
}

const EXPECTED: &str = "a date/time such as 2019-02-19 18:19:55, 1399/04/04 14:47:09, \
                        17:46:57 - 1401/3/7, 2020-05-31, 1400/08/08, 14000102 or a Unix timestamp";

fn parse_text(input: &str) -> Result<Parsed, DateError> {
    let t = clean(input);
    if t.is_empty() {
        return Err(DateError::Empty);
    }
    let format_err = || DateError::Format {
        input: input.to_owned(),
        expected: EXPECTED,
    };

    // Numbers: compact dates (6/8 digits) or Unix timestamps.
    let unsigned = t.strip_prefix('-').unwrap_or(&t);
    if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        if unsigned.len() == t.len() && (t.len() == 6 || t.len() == 8) {
            let parts = parse_date_part(&t, None).ok_or_else(format_err)?;
            let format = match parts.calendar {
                Calendar::Jalali => DateTimeFormat::JalaliCompact,
                Calendar::Gregorian => DateTimeFormat::GregorianDate,
            };
            return Ok(from_wall_clock(
                parts.to_naive()?.and_time(NaiveTime::MIN),
                format,
            ));
        }
        let value: i64 = t.parse().map_err(|_| format_err())?;
        return parse_unix(value);
    }

    // ISO 8601 with a 'T'.
    if t.contains('T') {
        if let Ok(dt) = DateTime::parse_from_rfc3339(&t) {
            return Ok(from_instant(
                dt.with_timezone(&Utc),
                DateTimeFormat::Rfc3339,
            ));
        }
        let local = NaiveDateTime::parse_from_str(&t, "%Y-%m-%dT%H:%M:%S%.f")
            .or_else(|_| NaiveDateTime::parse_from_str(&t, "%Y-%m-%dT%H:%M"))
            .map_err(|_| format_err())?;
        return Ok(from_wall_clock(local, DateTimeFormat::GregorianDateTime));
    }

    // "date time", "time - date", or "date".
    let (date, time, time_first) = split_date_time(&t).ok_or_else(format_err)?;
    let parts = parse_date_part(date, None).ok_or_else(format_err)?;
    let day = parts.to_naive()?;
    let jalali = parts.calendar == Calendar::Jalali;
    let compact = date.bytes().all(|b| b.is_ascii_digit());
    let (time, format) = match time {
        Some(s) => {
            let time = parse_time_part(s).ok_or_else(format_err)?;
            let format = match (jalali, time_first) {
                (true, true) => DateTimeFormat::JalaliTimeFirst,
                (true, false) => DateTimeFormat::JalaliDateTime,
                (false, _) => DateTimeFormat::GregorianDateTime,
            };
            (time, format)
        }
        None if jalali && compact => (NaiveTime::MIN, DateTimeFormat::JalaliCompact),
        None if jalali => (NaiveTime::MIN, DateTimeFormat::JalaliDate),
        None => (NaiveTime::MIN, DateTimeFormat::GregorianDate),
    };
    Ok(from_wall_clock(day.and_time(time), format))
}

/// Renders an instant/wall clock pair in `format`.
fn render(
    utc: DateTime<Utc>,
    local: NaiveDateTime,
    format: DateTimeFormat,
) -> Result<Raw, DateError> {
    let jalali = || JalaliDateTime::from_naive_gregorian(local);
    Ok(match format {
        DateTimeFormat::GregorianDateTime => {
            Raw::Text(local.format("%Y-%m-%d %H:%M:%S").to_string())
        }
        DateTimeFormat::Rfc3339 => Raw::Text(utc.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
        DateTimeFormat::JalaliDateTime => {
            let j = jalali()?;
            Raw::Text(format!("{} {}", j.date(), j.time().format("%H:%M:%S")))
        }
        DateTimeFormat::JalaliTimeFirst => Raw::Text(jalali()?.to_time_first()),
        DateTimeFormat::GregorianDate => Raw::Text(local.format("%Y-%m-%d").to_string()),
        DateTimeFormat::JalaliDate => Raw::Text(jalali()?.date().to_string()),
        DateTimeFormat::JalaliCompact => Raw::Text(jalali()?.date().to_compact()),
        DateTimeFormat::UnixSeconds => Raw::Int(utc.timestamp()),
        DateTimeFormat::UnixMillis => Raw::Int(utc.timestamp_millis()),
    })
}

/// A point in time from an API field of any observed date/time format (see the
/// [module docs](self)).
///
/// * Constructors: `FromStr`/[`ApiDateTime::parse`], [`ApiDateTime::from_unix`],
///   [`ApiDateTime::from_utc`], [`ApiDateTime::from_jalali`].
/// * Views: [`utc`](ApiDateTime::utc), [`tehran`](ApiDateTime::tehran),
///   [`local`](ApiDateTime::local) (Tehran wall clock), [`jalali`](ApiDateTime::jalali),
///   [`format`](ApiDateTime::format).
/// * serde: accepts a string in any listed format or an integer timestamp; emits exactly what
///   was received (or what the constructor rendered). `Display` shows the same text.
/// * Equality, ordering and hashing are by instant.
#[derive(Debug, Clone)]
pub struct ApiDateTime {
    utc: DateTime<Utc>,
    local: NaiveDateTime,
    format: DateTimeFormat,
    raw: Raw,
}

impl ApiDateTime {
    /// Parses any supported text form.
    ///
    /// # Errors
    /// [`DateError`] when no format matches or a field is out of range.
    pub fn parse(input: &str) -> Result<Self, DateError> {
        let p = parse_text(input)?;
        Ok(Self {
            utc: p.utc,
            local: p.local,
            format: p.format,
            raw: Raw::Text(input.to_owned()),
        })
    }

    /// A Unix timestamp, seconds or milliseconds by magnitude (see the module docs).
    ///
    /// # Errors
    /// [`DateError::Timestamp`] if out of range.
    pub fn from_unix(value: i64) -> Result<Self, DateError> {
        let p = parse_unix(value)?;
        Ok(Self {
            utc: p.utc,
            local: p.local,
            format: p.format,
            raw: Raw::Int(value),
        })
    }

    /// An instant, rendered in `format` (wall-clock formats use Tehran time).
    ///
    /// # Errors
    /// [`DateError::OutOfRange`] if a Jalali format is asked for a date outside its range.
    pub fn from_utc(utc: DateTime<Utc>, format: DateTimeFormat) -> Result<Self, DateError> {
        let local = utc.with_timezone(&Tehran).naive_local();
        Ok(Self {
            utc,
            local,
            format,
            raw: render(utc, local, format)?,
        })
    }

    /// A Jalali Tehran wall-clock time, rendered in `format`.
    ///
    /// # Errors
    /// Only if rendering fails (it cannot for in-range values).
    pub fn from_jalali(value: JalaliDateTime, format: DateTimeFormat) -> Result<Self, DateError> {
        let local = value.to_naive_gregorian();
        let utc = value.to_utc();
        Ok(Self {
            utc,
            local,
            format,
            raw: render(utc, local, format)?,
        })
    }

    /// The instant in UTC.
    #[must_use]
    pub fn utc(&self) -> DateTime<Utc> {
        self.utc
    }

    /// The instant in `Asia/Tehran`.
    #[must_use]
    pub fn tehran(&self) -> DateTime<Tz> {
        self.utc.with_timezone(&Tehran)
    }

    /// The Tehran wall-clock time (as written, for wall-clock formats).
    #[must_use]
    pub fn local(&self) -> NaiveDateTime {
        self.local
    }

    /// The Tehran wall-clock time in the Jalali calendar.
    ///
    /// # Errors
    /// [`DateError::OutOfRange`] outside Jalali years 1..=9999.
    pub fn jalali(&self) -> Result<JalaliDateTime, DateError> {
        JalaliDateTime::from_naive_gregorian(self.local)
    }

    /// The spelling that was detected (or chosen).
    #[must_use]
    pub fn format(&self) -> DateTimeFormat {
        self.format
    }

    /// The same moment rendered in another format (e.g. for a query parameter).
    ///
    /// # Errors
    /// [`DateError::OutOfRange`] if a Jalali format is asked for a date outside its range.
    pub fn format_as(&self, format: DateTimeFormat) -> Result<String, DateError> {
        render(self.utc, self.local, format).map(|r| r.to_string())
    }
}

lossless_by_key!(ApiDateTime, utc);

/// Visitor shared by [`ApiDateTime`] and [`ApiDate`].
struct AnyTimeVisitor;

impl Visitor<'_> for AnyTimeVisitor {
    type Value = ApiDateTime;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(EXPECTED)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<ApiDateTime, E> {
        ApiDateTime::from_unix(v).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<ApiDateTime, E> {
        let v =
            i64::try_from(v).map_err(|_| E::custom(DateError::Timestamp { value: i64::MAX }))?;
        ApiDateTime::from_unix(v).map_err(E::custom)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<ApiDateTime, E> {
        // Only integral timestamps that a double holds exactly.
        const MAX_EXACT: f64 = 9_007_199_254_740_992.0;
        if v.is_finite() && v.fract() == 0.0 && v.abs() <= MAX_EXACT {
            #[allow(clippy::cast_possible_truncation)]
            ApiDateTime::from_unix(v as i64).map_err(E::custom)
        } else {
            Err(E::custom(DateError::Format {
                input: v.to_string(),
                expected: "an integer Unix timestamp",
            }))
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<ApiDateTime, E> {
        ApiDateTime::parse(v).map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for ApiDateTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(AnyTimeVisitor)
    }
}

json_schema_impl!(ApiDateTime, "ApiDateTime", {
    "description": "Date/time in any format the API uses: 2019-02-19 18:19:55 (Tehran), 1399/04/04 14:47:09 (Jalali, Tehran), 17:46:57 - 1401/3/7, RFC 3339, dates, or a Unix timestamp (seconds or milliseconds).",
    "anyOf": [
        { "type": "string" },
        { "type": "integer", "format": "int64" }
    ]
});

/// A calendar day from an API field of any observed format (see the [module docs](self));
/// inputs with a time keep only the Tehran date.
///
/// * Constructors: `FromStr`/[`ApiDate::parse`], [`ApiDate::from_gregorian`],
///   [`ApiDate::from_jalali`].
/// * Views: [`gregorian`](ApiDate::gregorian), [`jalali`](ApiDate::jalali),
///   [`format_as`](ApiDate::format_as).
/// * serde and `Display`: lossless, like [`ApiDateTime`]. Equality, ordering and hashing are
///   by day.
#[derive(Debug, Clone)]
pub struct ApiDate {
    date: NaiveDate,
    raw: Raw,
}

impl ApiDate {
    /// Parses any supported text form.
    ///
    /// # Errors
    /// [`DateError`] when no format matches or a field is out of range.
    pub fn parse(input: &str) -> Result<Self, DateError> {
        let p = parse_text(input)?;
        Ok(Self {
            date: p.local.date(),
            raw: Raw::Text(input.to_owned()),
        })
    }

    /// A Gregorian date, rendered in `format`.
    ///
    /// # Errors
    /// [`DateError::OutOfRange`] if a Jalali format is asked for a date outside its range.
    pub fn from_gregorian(date: NaiveDate, format: DateFormat) -> Result<Self, DateError> {
        let raw = Raw::Text(render_date(date, format)?);
        Ok(Self { date, raw })
    }

    /// A Jalali date, rendered in `format`.
    #[must_use]
    pub fn from_jalali(date: JalaliDate, format: DateFormat) -> Self {
        let text = match format {
            DateFormat::Gregorian => date.to_gregorian().format("%Y-%m-%d").to_string(),
            DateFormat::Jalali => date.to_string(),
            DateFormat::JalaliCompact => date.to_compact(),
        };
        Self {
            date: date.to_gregorian(),
            raw: Raw::Text(text),
        }
    }

    /// The day in the Gregorian calendar.
    #[must_use]
    pub fn gregorian(&self) -> NaiveDate {
        self.date
    }

    /// The day in the Jalali calendar.
    ///
    /// # Errors
    /// [`DateError::OutOfRange`] outside Jalali years 1..=9999.
    pub fn jalali(&self) -> Result<JalaliDate, DateError> {
        JalaliDate::from_gregorian(self.date)
    }

    /// The day rendered in another format (e.g. `14000102` for a query parameter).
    ///
    /// # Errors
    /// [`DateError::OutOfRange`] if a Jalali format is asked for a date outside its range.
    pub fn format_as(&self, format: DateFormat) -> Result<String, DateError> {
        render_date(self.date, format)
    }
}

fn render_date(date: NaiveDate, format: DateFormat) -> Result<String, DateError> {
    Ok(match format {
        DateFormat::Gregorian => date.format("%Y-%m-%d").to_string(),
        DateFormat::Jalali => JalaliDate::from_gregorian(date)?.to_string(),
        DateFormat::JalaliCompact => JalaliDate::from_gregorian(date)?.to_compact(),
    })
}

lossless_by_key!(ApiDate, date);

impl<'de> Deserialize<'de> for ApiDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let dt = deserializer.deserialize_any(AnyTimeVisitor)?;
        Ok(Self {
            date: dt.local.date(),
            raw: dt.raw,
        })
    }
}

json_schema_impl!(ApiDate, "ApiDate", {
    "description": "Calendar day in any format the API uses: 2020-05-31, 1400/08/08, 1400/8/8, 14000102, or a date-time/timestamp (its Tehran date).",
    "anyOf": [
        { "type": "string" },
        { "type": "integer", "format": "int64" }
    ]
});

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn dt(json: &str) -> ApiDateTime {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn reference_datetimes() {
        use DateTimeFormat as F;
        let cases = [
            // ipg.md createdAt (Gregorian, Tehran wall clock; February: +03:30).
            (
                "\"2019-02-19 18:19:55\"",
                "2019-02-19T14:49:55Z",
                F::GregorianDateTime,
            ),
            // June 2020: DST, +04:30.
            (
                "\"2020-06-10 14:36:30\"",
                "2020-06-10T10:06:30Z",
                F::GregorianDateTime,
            ),
            (
                "\"1399/04/04 14:47:09\"",
                "2020-06-24T10:17:09Z",
                F::JalaliDateTime,
            ),
            (
                "\"1400/03/08 15:57:43\"",
                "2021-05-29T11:27:43Z",
                F::JalaliDateTime,
            ),
            (
                "\"1401/10/26 11:05:00\"",
                "2023-01-16T07:35:00Z",
                F::JalaliDateTime,
            ),
            (
                "\"1403/11/01 00:00:00\"",
                "2025-01-19T20:30:00Z",
                F::JalaliDateTime,
            ),
            (
                "\"1401-03-07 18:20:48\"",
                "2022-05-28T13:50:48Z",
                F::JalaliDateTime,
            ),
            (
                "\"17:46:57 - 1401/3/7\"",
                "2022-05-28T13:16:57Z",
                F::JalaliTimeFirst,
            ),
            (
                "\"13:53 - 1400/07/07\"",
                "2021-09-29T10:23:00Z",
                F::JalaliTimeFirst,
            ),
            (
                "\"1400\\/04\\/04 14:47:09\"",
                "2021-06-25T10:17:09Z",
                F::JalaliDateTime,
            ),
            (
                "\"2022-11-12T13:41:40.000000Z\"",
                "2022-11-12T13:41:40Z",
                F::Rfc3339,
            ),
            ("\"2020-05-31\"", "2020-05-30T19:30:00Z", F::GregorianDate),
            ("\"1400/08/08\"", "2021-10-29T20:30:00Z", F::JalaliDate),
            ("\"1400/8/8\"", "2021-10-29T20:30:00Z", F::JalaliDate),
            // 00:00 on 2 Farvardin 1400 fell in the DST spring-forward gap: read at +03:30.
            ("\"14000102\"", "2021-03-21T20:30:00Z", F::JalaliCompact),
            ("\"980703\"", "2019-09-24T20:30:00Z", F::JalaliCompact),
            ("1670222123", "2022-12-05T06:35:23Z", F::UnixSeconds),
            ("1629672276", "2021-08-22T22:44:36Z", F::UnixSeconds),
            ("\"1670222123\"", "2022-12-05T06:35:23Z", F::UnixSeconds),
            ("1629672276000", "2021-08-22T22:44:36Z", F::UnixMillis),
        ];
        for (json, want, format) in cases {
            let v = dt(json);
            assert_eq!(v.utc(), utc(want), "{json}");
            assert_eq!(v.format(), format, "{json}");
            // Lossless: serialises back to the same JSON value as received.
            assert_eq!(
                serde_json::to_value(&v).unwrap(),
                serde_json::from_str::<serde_json::Value>(json).unwrap(),
                "{json}"
            );
        }
    }

    #[test]
    fn unix_values_from_reference_docs() {
        for (v, want) in [
            (1_669_185_629, "2022-11-23T06:40:29Z"),
            (1_670_222_052, "2022-12-05T06:34:12Z"),
            (1_670_225_515, "2022-12-05T07:31:55Z"),
            (1_672_655_515, "2023-01-02T10:31:55Z"),
            (1_672_655_517, "2023-01-02T10:31:57Z"),
        ] {
            let d = ApiDateTime::from_unix(v).unwrap();
            assert_eq!(d.utc(), utc(want));
            assert_eq!(d.format(), DateTimeFormat::UnixSeconds);
        }
        let d = ApiDateTime::from_unix(1_629_672_276).unwrap();
        assert_eq!(d.local().to_string(), "2021-08-23 03:14:36");
        assert_eq!(d.jalali().unwrap().to_string(), "1400/06/01 03:14:36");
        assert_eq!(d.tehran().to_rfc3339(), "2021-08-23T03:14:36+04:30");
        assert!(ApiDateTime::from_unix(i64::MAX).is_err());
        assert!(ApiDateTime::from_unix(-1).is_ok());
    }

    #[test]
    fn views_and_rendering() {
        use DateTimeFormat as F;
        let v: ApiDateTime = "17:46:57 - 1401/3/7".parse().unwrap();
        assert_eq!(v.local().to_string(), "2022-05-28 17:46:57");
        assert_eq!(v.jalali().unwrap().to_string(), "1401/03/07 17:46:57");
        assert_eq!(v.to_string(), "17:46:57 - 1401/3/7");
        let expect = [
            (F::GregorianDateTime, "2022-05-28 17:46:57"),
            (F::Rfc3339, "2022-05-28T13:16:57Z"),
            (F::JalaliDateTime, "1401/03/07 17:46:57"),
            (F::JalaliTimeFirst, "17:46:57 - 1401/3/7"),
            (F::GregorianDate, "2022-05-28"),
            (F::JalaliDate, "1401/03/07"),
            (F::JalaliCompact, "14010307"),
            (F::UnixSeconds, "1653743817"),
            (F::UnixMillis, "1653743817000"),
        ];
        for (format, want) in expect {
            assert_eq!(v.format_as(format).unwrap(), want, "{format:?}");
            let built = ApiDateTime::from_utc(v.utc(), format).unwrap();
            assert_eq!(built.to_string(), want);
            assert_eq!(built.format(), format);
        }
        let built = ApiDateTime::from_utc(v.utc(), F::UnixMillis).unwrap();
        assert_eq!(serde_json::to_string(&built).unwrap(), "1653743817000");
        let j = ApiDateTime::from_jalali(v.jalali().unwrap(), F::JalaliDateTime).unwrap();
        assert_eq!(j, v);
        assert_eq!(j.to_string(), "1401/03/07 17:46:57");
    }

    #[test]
    fn equality_is_by_instant() {
        let a: ApiDateTime = "1399/04/04 14:47:09".parse().unwrap();
        let b: ApiDateTime = "2020-06-24 14:47:09".parse().unwrap();
        let c: ApiDateTime = "2020-06-24T10:17:09Z".parse().unwrap();
        assert_eq!(a, b);
        assert_eq!(b, c);
        let set: std::collections::HashSet<ApiDateTime> = [a, b, c].into_iter().collect();
        assert_eq!(set.len(), 1);
        let earlier: ApiDateTime = "1399/04/04 14:47:08".parse().unwrap();
        assert!(earlier < "1399/04/04 14:47:09".parse().unwrap());
    }

    #[test]
    fn errors() {
        for bad in [
            "",
            "yesterday",
            "1400/13/01",
            "1400/12/30",
            "2023-02-29",
            "1400/01/01 25:00",
            "12345678901234567890",
            "1400/01/32",
            "2022-11-12T99:00:00Z",
            "1400/01/01 10:00 extra",
        ] {
            assert!(bad.parse::<ApiDateTime>().is_err(), "{bad:?}");
            assert!(bad.parse::<ApiDate>().is_err(), "{bad:?}");
        }
        let e = "yesterday".parse::<ApiDateTime>().unwrap_err().to_string();
        assert!(e.contains("1399/04/04 14:47:09"), "{e}");
        let e = "1400/12/30".parse::<ApiDate>().unwrap_err().to_string();
        assert!(e.contains("29 days"), "{e}");
        assert!(serde_json::from_str::<ApiDateTime>("true").is_err());
        assert!(serde_json::from_str::<ApiDateTime>("1.5").is_err());
    }

    #[test]
    fn reference_dates() {
        for (json, y, m, d) in [
            ("\"2020-05-31\"", 2020, 5, 31),
            ("\"2021-10-30\"", 2021, 10, 30),
            ("\"2023-01-01\"", 2023, 1, 1),
            ("\"2020-07-04\"", 2020, 7, 4),
            ("\"1400/08/08\"", 2021, 10, 30),
            ("\"1400/8/8\"", 2021, 10, 30),
            ("\"1399/05/21\"", 2020, 8, 11),
            ("\"1369/07/17\"", 1990, 10, 9),
            ("\"1376/01/01\"", 1997, 3, 21),
            ("\"14000102\"", 2021, 3, 22),
            ("\"14000201\"", 2021, 4, 21),
            ("\"980703\"", 2019, 9, 25),
            ("\"1403/11/01 00:00:00\"", 2025, 1, 20),
            ("\"13:53 - 1400/07/07\"", 2021, 9, 29),
            ("1670222123", 2022, 12, 5),
            // 22:44 UTC is already the next day in Tehran.
            ("1629672276", 2021, 8, 23),
        ] {
            let v: ApiDate = serde_json::from_str(json).unwrap();
            assert_eq!(
                v.gregorian(),
                NaiveDate::from_ymd_opt(y, m, d).unwrap(),
                "{json}"
            );
            assert_eq!(serde_json::to_string(&v).unwrap(), json);
        }
        let v: ApiDate = "2021-10-30".parse().unwrap();
        assert_eq!(v.jalali().unwrap().to_string(), "1400/08/08");
        assert_eq!(v.format_as(DateFormat::JalaliCompact).unwrap(), "14000808");
        assert_eq!(v.format_as(DateFormat::Jalali).unwrap(), "1400/08/08");
        assert_eq!(v.format_as(DateFormat::Gregorian).unwrap(), "2021-10-30");
        assert_eq!(v, "1400/08/08".parse::<ApiDate>().unwrap());
        let q = ApiDate::from_jalali(
            JalaliDate::new(1400, 1, 2).unwrap(),
            DateFormat::JalaliCompact,
        );
        assert_eq!(q.to_string(), "14000102");
        assert_eq!(serde_json::to_string(&q).unwrap(), "\"14000102\"");
        let e = ApiDate::from_gregorian(
            NaiveDate::from_ymd_opt(2023, 1, 1).unwrap(),
            DateFormat::Gregorian,
        )
        .unwrap();
        assert_eq!(e.to_string(), "2023-01-01");
        assert!(ApiDate::from_gregorian(NaiveDate::MIN, DateFormat::Jalali).is_err());
        // A sentinel far-future Gregorian date parses and still has a Jalali view.
        let far: ApiDate = "9999-12-31".parse().unwrap();
        assert_eq!(
            far.gregorian(),
            NaiveDate::from_ymd_opt(9999, 12, 31).unwrap()
        );
        assert_eq!(far.jalali().unwrap().year(), 9378);
    }

    fn instant() -> impl Strategy<Value = DateTime<Utc>> {
        // 1925 .. 2100, whole seconds.
        (-1_420_070_400i64..4_102_444_800).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap())
    }

    fn any_format() -> impl Strategy<Value = DateTimeFormat> {
        use DateTimeFormat as F;
        prop_oneof![
            Just(F::GregorianDateTime),
            Just(F::Rfc3339),
            Just(F::JalaliDateTime),
            Just(F::JalaliTimeFirst),
            Just(F::UnixSeconds),
            Just(F::UnixMillis),
        ]
    }

    proptest! {
        #![proptest_config(super::super::proptest_config())]

        #[test]
        fn datetime_round_trips(t in instant(), format in any_format()) {
            // Millisecond timestamps below 10^11 (before 1973-03-03) read back as seconds.
            prop_assume!(format != DateTimeFormat::UnixMillis || t.timestamp_millis().unsigned_abs() >= MILLIS_THRESHOLD);
            let v = ApiDateTime::from_utc(t, format).unwrap();
            // serde: lossless.
            let json = serde_json::to_string(&v).unwrap();
            let back: ApiDateTime = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(serde_json::to_string(&back).unwrap(), json);
            prop_assert_eq!(back.format(), format);
            // Display/FromStr: same wall clock (same instant except in a DST fall-back hour,
            // where a wall-clock spelling resolves to the earlier instant). A timestamp shown
            // with exactly 6 or 8 digits reads back as a compact date, by design.
            let shown = v.to_string();
            let digits = shown.trim_start_matches('-');
            prop_assume!(!(digits.bytes().all(|b| b.is_ascii_digit()) && matches!(shown.len(), 6 | 8)));
            let parsed: ApiDateTime = shown.parse().unwrap();
            prop_assert_eq!(parsed.local(), v.local());
            let diff = (parsed.utc() - t).num_seconds();
            prop_assert!(diff == 0 || diff == -3600, "diff {}", diff);
        }

        #[test]
        fn date_round_trips(days in -20_000i64..60_000) {
            let date = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::TimeDelta::days(days);
            for format in [DateFormat::Gregorian, DateFormat::Jalali, DateFormat::JalaliCompact] {
                let v = ApiDate::from_gregorian(date, format).unwrap();
                prop_assert_eq!(v.gregorian(), date);
                let parsed: ApiDate = v.to_string().parse().unwrap();
                prop_assert_eq!(&parsed, &v);
                let json = serde_json::to_string(&v).unwrap();
                let back: ApiDate = serde_json::from_str(&json).unwrap();
                prop_assert_eq!(serde_json::to_string(&back).unwrap(), json);
                prop_assert_eq!(back.gregorian(), date);
                let jal = v.jalali().unwrap();
                prop_assert_eq!(ApiDate::from_jalali(jal, format), v);
            }
        }
    }
}
