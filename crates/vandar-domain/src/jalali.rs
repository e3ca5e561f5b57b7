//! Jalali (Solar Hijri, شمسی) dates: [`JalaliDate`], [`JalaliDateTime`] (Tehran wall-clock
//! time) and [`JalaliCompactDate`] (the `14000102` query-parameter form).
//!
//! Calendar arithmetic is delegated to ICU4X's [`icu_calendar`] Persian calendar (Unicode
//! consortium, actively maintained). It uses the 33-year arithmetic rule with a correction
//! table that matches the official astronomical calendar for 1178–3000 AP; outside that range
//! it is proleptic. Tehran local time (incl. Iran's DST, abolished in 2022) comes from
//! [`chrono_tz`]'s `Asia/Tehran` (IANA tz database).
//!
//! Supported range: Jalali years 1 to 9999.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta,
    TimeZone, Timelike, Utc,
};
use chrono_tz::Asia::Tehran;
use chrono_tz::Tz;
use icu_calendar::Date;
use icu_calendar::cal::Persian;
use icu_calendar::types::RataDie;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::json_schema_impl;
use super::macros::deserialize_from_str;
use super::text::normalize_digits;

/// Errors from parsing dates and times or converting between calendars.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DateError {
    /// The text is empty.
    #[error("date is empty")]
    Empty,
    /// The text does not match any supported format.
    #[error("unrecognised date/time {input:?}: expected {expected}")]
    Format {
        /// The offending text (dates are not secret).
        input: String,
        /// What was expected.
        expected: &'static str,
    },
    /// A field is outside its range (month 13, hour 25, …).
    #[error("{field} {value} is out of range {min}..={max}")]
    FieldRange {
        /// Which field.
        field: &'static str,
        /// The value found.
        value: i64,
        /// Smallest allowed value.
        min: i64,
        /// Largest allowed value.
        max: i64,
    },
    /// The day does not exist in that month (e.g. Esfand 30 in a common year).
    #[error("day {day} does not exist: Jalali month {month} of {year} has {days_in_month} days")]
    NoSuchDay {
        /// Jalali year.
        year: i32,
        /// Jalali month.
        month: u8,
        /// The day asked for.
        day: u8,
        /// Days that month has.
        days_in_month: u8,
    },
    /// A Gregorian date that does not exist (e.g. 2023-02-29).
    #[error("Gregorian date {year:04}-{month:02}-{day:02} does not exist")]
    NoSuchGregorianDate {
        /// Year.
        year: i32,
        /// Month.
        month: u32,
        /// Day.
        day: u32,
    },
    /// The date is outside the supported range (Jalali years 1..=9999).
    #[error("date is outside the supported range (Jalali years 1 to 9999)")]
    OutOfRange,
    /// A Unix timestamp outside the representable range.
    #[error("Unix timestamp {value} is out of range")]
    Timestamp {
        /// The timestamp as received.
        value: i64,
    },
}

/// Smallest and largest supported Jalali year.
const MIN_YEAR: i32 = 1;
const MAX_YEAR: i32 = 9999;

/// Names of the Jalali months, 1-based (Farvardin … Esfand).
const MONTH_NAMES: [&str; 12] = [
    "Farvardin",
    "Ordibehesht",
    "Khordad",
    "Tir",
    "Mordad",
    "Shahrivar",
    "Mehr",
    "Aban",
    "Azar",
    "Dey",
    "Bahman",
    "Esfand",
];

/// A date in the Jalali (Solar Hijri) calendar, e.g. `1399/03/13` (= 2020-06-02).
///
/// * Constructors: [`JalaliDate::new`], [`JalaliDate::from_gregorian`], `FromStr`.
/// * `Display`: `1400/01/02`; [`JalaliDate::to_compact`]: `14000102` (query parameters).
/// * `FromStr`: `1400/01/02`, `1400/1/2`, `1400-01-02`, compact `14000102`, and the 6-digit
///   `980703` (two-digit year: `00`–`49` → 14xx, `50`–`99` → 13xx); Persian/Arabic digits.
/// * serde: emits `"1400/01/02"`; accepts every `FromStr` form (and a 6/8-digit integer).
/// * Ordering is chronological.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JalaliDate {
    year: i32,
    month: u8,
    day: u8,
    gregorian: NaiveDate,
}

/// `Date<Persian>` → chrono, through the day count both share (Rata Die: day 1 = 0001-01-01).
fn persian_to_naive(date: Date<Persian>) -> Option<NaiveDate> {
    let rd = date.to_rata_die().to_i64_date();
    NaiveDate::from_num_days_from_ce_opt(i32::try_from(rd).ok()?)
}

impl JalaliDate {
    /// A Jalali date from its parts.
    ///
    /// # Errors
    /// [`DateError::FieldRange`] for a year outside 1..=9999 or a month outside 1..=12,
    /// [`DateError::NoSuchDay`] for a day the month does not have.
    pub fn new(year: i32, month: u8, day: u8) -> Result<Self, DateError> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return Err(DateError::FieldRange {
                field: "Jalali year",
                value: i64::from(year),
                min: i64::from(MIN_YEAR),
                max: i64::from(MAX_YEAR),
            });
        }
        if !(1..=12).contains(&month) {
            return Err(DateError::FieldRange {
                field: "month",
                value: i64::from(month),
                min: 1,
                max: 12,
            });
        }
        let days_in_month = Self::days_in_month(year, month);
        if day == 0 || day > days_in_month {
            return Err(DateError::NoSuchDay {
                year,
                month,
                day,
                days_in_month,
            });
        }
        let persian = Date::try_new_persian(year, month, day).map_err(|_| DateError::OutOfRange)?;
        let gregorian = persian_to_naive(persian).ok_or(DateError::OutOfRange)?;
        Ok(Self {
            year,
            month,
            day,
            gregorian,
        })
    }

    /// The Jalali date of a Gregorian date.
    ///
    /// # Errors
    /// [`DateError::OutOfRange`] outside Jalali years 1..=9999 (Gregorian 622..≈10620).
    pub fn from_gregorian(date: NaiveDate) -> Result<Self, DateError> {
        let rd = RataDie::new(i64::from(date.num_days_from_ce()));
        let persian = Date::from_rata_die(rd, Persian);
        // `from_rata_die` clamps far-away dates; the round trip detects that.
        if persian.to_rata_die() != rd {
            return Err(DateError::OutOfRange);
        }
        let year = persian.year().extended_year();
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return Err(DateError::OutOfRange);
        }
        Ok(Self {
            year,
            month: persian.month().ordinal,
            day: persian.day_of_month().0,
            gregorian: date,
        })
    }

    /// Whether `year` is a Jalali leap year (Esfand has 30 days), e.g. 1399 and 1403.
    #[must_use]
    pub fn is_leap_year(year: i32) -> bool {
        Date::try_new_persian(year, 1, 1).is_ok_and(|d| d.is_in_leap_year())
    }

    /// Days in a Jalali month: 31 for months 1–6, 30 for 7–11, 29 or 30 (leap) for Esfand.
    /// Returns 0 for a month outside 1..=12.
    #[must_use]
    pub fn days_in_month(year: i32, month: u8) -> u8 {
        match month {
            1..=6 => 31,
            7..=11 => 30,
            12 if Self::is_leap_year(year) => 30,
            12 => 29,
            _ => 0,
        }
    }

    /// The Jalali year (e.g. 1400).
    #[must_use]
    pub const fn year(&self) -> i32 {
        self.year
    }

    /// The month, 1 (Farvardin) to 12 (Esfand).
    #[must_use]
    pub const fn month(&self) -> u8 {
        self.month
    }

    /// The day of the month, 1 to 31.
    #[must_use]
    pub const fn day(&self) -> u8 {
        self.day
    }

    /// The English transliteration of the month name (`Farvardin` … `Esfand`).
    #[must_use]
    pub fn month_name(&self) -> &'static str {
        MONTH_NAMES[usize::from(self.month - 1)]
    }

    /// The same day in the Gregorian calendar.
    #[must_use]
    pub const fn to_gregorian(&self) -> NaiveDate {
        self.gregorian
    }

    /// The compact query-parameter form `yyyymmdd`, e.g. `14000102`.
    #[must_use]
    pub fn to_compact(&self) -> String {
        format!("{:04}{:02}{:02}", self.year, self.month, self.day)
    }

    /// The next day, or `None` after 9999/12/29.
    #[must_use]
    pub fn succ(&self) -> Option<Self> {
        self.gregorian
            .succ_opt()
            .and_then(|d| Self::from_gregorian(d).ok())
    }
}

impl From<JalaliDate> for NaiveDate {
    fn from(value: JalaliDate) -> Self {
        value.gregorian
    }
}

impl TryFrom<NaiveDate> for JalaliDate {
    type Error = DateError;

    fn try_from(value: NaiveDate) -> Result<Self, Self::Error> {
        Self::from_gregorian(value)
    }
}

impl fmt::Debug for JalaliDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JalaliDate({self} = {})", self.gregorian)
    }
}

impl fmt::Display for JalaliDate {
    /// `1400/01/02`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}/{:02}/{:02}", self.year, self.month, self.day)
    }
}

/// Which calendar a `y/m/d` date part is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Calendar {
    Jalali,
    Gregorian,
}

/// A parsed calendar date, not yet converted.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DateParts {
    pub(crate) calendar: Calendar,
    pub(crate) year: i32,
    pub(crate) month: u32,
    pub(crate) day: u32,
}

impl DateParts {
    /// Converts to a Gregorian date, validating the fields.
    pub(crate) fn to_naive(self) -> Result<NaiveDate, DateError> {
        match self.calendar {
            Calendar::Jalali => {
                let month = u8::try_from(self.month).map_err(|_| DateError::FieldRange {
                    field: "month",
                    value: i64::from(self.month),
                    min: 1,
                    max: 12,
                })?;
                let day = u8::try_from(self.day).unwrap_or(u8::MAX);
                JalaliDate::new(self.year, month, day).map(|d| d.gregorian)
            }
            Calendar::Gregorian => {
                if !(1..=12).contains(&self.month) {
                    return Err(DateError::FieldRange {
                        field: "month",
                        value: i64::from(self.month),
                        min: 1,
                        max: 12,
                    });
                }
                NaiveDate::from_ymd_opt(self.year, self.month, self.day).ok_or(
                    DateError::NoSuchGregorianDate {
                        year: self.year,
                        month: self.month,
                        day: self.day,
                    },
                )
            }
        }
    }
}

/// Years below this are Jalali, from it on Gregorian (Jalali 1700 is Gregorian 2321).
pub(crate) const GREGORIAN_FROM_YEAR: i32 = 1700;

/// Parses a date part: `y/m/d` or `y-m-d` (1–2 digit month/day), `yyyymmdd`, or `yymmdd`
/// (Jalali). Digits must already be ASCII. `force` fixes the calendar; otherwise years below
/// 1700 are Jalali.
pub(crate) fn parse_date_part(s: &str, force: Option<Calendar>) -> Option<DateParts> {
    let guess = |year: i32| {
        force.unwrap_or(if year < GREGORIAN_FROM_YEAR {
            Calendar::Jalali
        } else {
            Calendar::Gregorian
        })
    };
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return match s.len() {
            8 => {
                let year: i32 = s[..4].parse().ok()?;
                Some(DateParts {
                    calendar: guess(year),
                    year,
                    month: s[4..6].parse().ok()?,
                    day: s[6..8].parse().ok()?,
                })
            }
            6 if force != Some(Calendar::Gregorian) => {
                let yy: i32 = s[..2].parse().ok()?;
                Some(DateParts {
                    calendar: Calendar::Jalali,
                    year: if yy < 50 { 1400 + yy } else { 1300 + yy },
                    month: s[2..4].parse().ok()?,
                    day: s[4..6].parse().ok()?,
                })
            }
            _ => None,
        };
    }
    // `y/m/d` or `y-m-d`: three runs of digits (1–4, 1–2, 1–2 long) joined by one separator,
    // `/` if the text has one, else `-`.
    let sep = if s.contains('/') { b'/' } else { b'-' };
    let mut fields = [0u32; 3];
    let mut lens = [0usize; 3];
    let mut k = 0;
    for b in s.bytes() {
        if b == sep {
            k += 1;
            if k == 3 {
                return None;
            }
        } else if b.is_ascii_digit() {
            lens[k] += 1;
            if lens[k] > 4 {
                return None;
            }
            fields[k] = fields[k] * 10 + u32::from(b - b'0');
        } else {
            return None;
        }
    }
    if k != 2
        || !(1..=4).contains(&lens[0])
        || !(1..=2).contains(&lens[1])
        || !(1..=2).contains(&lens[2])
    {
        return None;
    }
    let year = i32::try_from(fields[0]).ok()?;
    Some(DateParts {
        calendar: guess(year),
        year,
        month: fields[1],
        day: fields[2],
    })
}

/// Parses `HH:MM` or `HH:MM:SS` (optionally with a fraction of a second).
pub(crate) fn parse_time_part(s: &str) -> Option<NaiveTime> {
    // The spellings the API uses (`18:20:48`, `13:53`) without interpreting a format string
    // (a statement page has two or three dates per item); anything else, including leap
    // seconds and fractions, goes through chrono as before.
    if let Some(t) = parse_time_fast(s) {
        return Some(t);
    }
    NaiveTime::parse_from_str(s, "%H:%M:%S%.f")
        .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M"))
        .ok()
}

/// `HH:MM:SS` or `HH:MM` with two ASCII digits per field and values in range; `None` for
/// anything else (the caller then asks chrono, which agrees on every input accepted here).
fn parse_time_fast(s: &str) -> Option<NaiveTime> {
    let b = s.as_bytes();
    let two = |i: usize| -> Option<u32> {
        let (hi, lo) = (*b.get(i)?, *b.get(i + 1)?);
        (hi.is_ascii_digit() && lo.is_ascii_digit())
            .then(|| u32::from(hi - b'0') * 10 + u32::from(lo - b'0'))
    };
    match b.len() {
        5 if b[2] == b':' => NaiveTime::from_hms_opt(two(0)?, two(3)?, 0),
        8 if b[2] == b':' && b[5] == b':' => NaiveTime::from_hms_opt(two(0)?, two(3)?, two(6)?),
        _ => None,
    }
}

/// Normalises digits, trims, and undoes a JSON-style escaped slash (`1400\/04\/04`).
pub(crate) fn clean(s: &str) -> Cow<'_, str> {
    let s = s.trim();
    // ASCII without a backslash is already clean (the common case: nothing to map or undo,
    // nothing to allocate).
    if s.is_ascii() && !s.contains('\\') {
        return Cow::Borrowed(s);
    }
    Cow::Owned(normalize_digits(s).replace("\\/", "/"))
}

impl FromStr for JalaliDate {
    type Err = DateError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = clean(s);
        if t.is_empty() {
            return Err(DateError::Empty);
        }
        let parts =
            parse_date_part(&t, Some(Calendar::Jalali)).ok_or_else(|| DateError::Format {
                input: s.to_owned(),
                expected: "a Jalali date like 1400/01/02, 1400-1-2 or 14000102",
            })?;
        let month = u8::try_from(parts.month).unwrap_or(u8::MAX);
        let day = u8::try_from(parts.day).unwrap_or(u8::MAX);
        Self::new(parts.year, month, day)
    }
}

impl Serialize for JalaliDate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Visitor for string (or compact integer) Jalali dates.
struct JalaliDateVisitor;

impl Visitor<'_> for JalaliDateVisitor {
    type Value = JalaliDate;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Jalali date string like \"1400/01/02\" or \"14000102\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<JalaliDate, E> {
        v.parse().map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<JalaliDate, E> {
        v.to_string().parse().map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<JalaliDate, E> {
        v.to_string().parse().map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for JalaliDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JalaliDateVisitor)
    }
}

json_schema_impl!(JalaliDate, "JalaliDate",
    de: {
        "description": "Jalali (Solar Hijri) date: 1400/01/02, 1400-1-2, 14000102 or 980703.",
        "type": "string",
        "examples": ["1400/01/02"]
    },
    ser: {
        "description": "Jalali (Solar Hijri) date, yyyy/mm/dd.",
        "type": "string",
        "pattern": "^[0-9]{4}/[0-9]{2}/[0-9]{2}$",
        "examples": ["1400/01/02"]
    }
);

/// A [`JalaliDate`] that serialises in the compact query-parameter form `14000102` (the
/// transaction list's `fromDate`/`toDate`). `Display` is compact too; parsing accepts every
/// [`JalaliDate`] form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JalaliCompactDate(pub JalaliDate);

impl From<JalaliDate> for JalaliCompactDate {
    fn from(value: JalaliDate) -> Self {
        Self(value)
    }
}

impl fmt::Display for JalaliCompactDate {
    /// `14000102`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_compact())
    }
}

impl FromStr for JalaliCompactDate {
    type Err = DateError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(Self)
    }
}

impl Serialize for JalaliCompactDate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0.to_compact())
    }
}

impl<'de> Deserialize<'de> for JalaliCompactDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JalaliDateVisitor).map(Self)
    }
}

json_schema_impl!(JalaliCompactDate, "JalaliCompactDate",
    de: {
        "description": "Jalali date, compact yyyymmdd (e.g. 14000102); other Jalali spellings are accepted.",
        "type": "string",
        "examples": ["14000102"]
    },
    ser: {
        "description": "Jalali date, compact yyyymmdd.",
        "type": "string",
        "pattern": "^[0-9]{8}$",
        "examples": ["14000102"]
    }
);

/// A Jalali date and a wall-clock time in Tehran, e.g. `1399/04/04 14:47:09`.
///
/// * Constructors: [`JalaliDateTime::new`], [`JalaliDateTime::from_naive_gregorian`],
///   [`JalaliDateTime::from_utc`], `FromStr`.
/// * Conversions: [`to_naive_gregorian`](JalaliDateTime::to_naive_gregorian) (wall clock),
///   [`to_tehran`](JalaliDateTime::to_tehran) and [`to_utc`](JalaliDateTime::to_utc)
///   (instant; see there for DST edge cases).
/// * `Display`: `1399/04/04 14:47:09`.
/// * `FromStr`: `1399/04/04 14:47:09`, `1401-03-07 18:20:48`, `1400/8/8 16:00`, the
///   time-first `17:46:57 - 1401/3/7` and `13:53 - 1400/07/07`; Persian/Arabic digits.
/// * serde: emits the `Display` form; accepts every `FromStr` form.
/// * Ordering is by wall-clock time.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JalaliDateTime {
    date: JalaliDate,
    time: NaiveTime,
}

impl JalaliDateTime {
    /// A Jalali date and a Tehran wall-clock time.
    #[must_use]
    pub const fn new(date: JalaliDate, time: NaiveTime) -> Self {
        Self { date, time }
    }

    /// The Jalali date-time of a Gregorian wall-clock time (no time-zone conversion).
    ///
    /// # Errors
    /// [`DateError::OutOfRange`] outside the supported range.
    pub fn from_naive_gregorian(value: NaiveDateTime) -> Result<Self, DateError> {
        Ok(Self {
            date: JalaliDate::from_gregorian(value.date())?,
            time: value.time(),
        })
    }

    /// The Tehran wall-clock time of an instant.
    ///
    /// # Errors
    /// [`DateError::OutOfRange`] outside the supported range.
    pub fn from_utc(value: DateTime<Utc>) -> Result<Self, DateError> {
        Self::from_naive_gregorian(value.with_timezone(&Tehran).naive_local())
    }

    /// The date.
    #[must_use]
    pub const fn date(&self) -> JalaliDate {
        self.date
    }

    /// The wall-clock time.
    #[must_use]
    pub const fn time(&self) -> NaiveTime {
        self.time
    }

    /// The same wall-clock time with a Gregorian date.
    #[must_use]
    pub fn to_naive_gregorian(&self) -> NaiveDateTime {
        self.date.gregorian.and_time(self.time)
    }

    /// The instant, reading the wall clock as `Asia/Tehran` local time.
    ///
    /// DST (in force in Iran until 2022): a time that occurs twice (the autumn fall-back hour)
    /// resolves to the earlier instant; a time that does not exist (the spring-forward gap)
    /// is read with the UTC offset in force just before the gap.
    #[must_use]
    pub fn to_tehran(&self) -> DateTime<Tz> {
        tehran_from_local(self.to_naive_gregorian())
    }

    /// The instant in UTC; see [`to_tehran`](JalaliDateTime::to_tehran) for DST edge cases.
    #[must_use]
    pub fn to_utc(&self) -> DateTime<Utc> {
        self.to_tehran().with_timezone(&Utc)
    }

    /// The API's time-first form `17:46:57 - 1401/3/7` (month and day not zero-padded).
    #[must_use]
    pub fn to_time_first(&self) -> String {
        format!(
            "{:02}:{:02}:{:02} - {}/{}/{}",
            self.time.hour(),
            self.time.minute(),
            self.time.second(),
            self.date.year,
            self.date.month,
            self.date.day
        )
    }
}

/// Days remembered per thread by [`tehran_utc_from_local`] (a power of two).
const TEHRAN_DAY_SLOTS: usize = 64;

thread_local! {
    /// Days whose Tehran offset held all day (no DST change in them), with that offset in
    /// seconds east of UTC, each in the slot of its day number modulo [`TEHRAN_DAY_SLOTS`]: the
    /// dates of one statement page fall on a few days, and the items of a page alternate
    /// between them (created, paid, logged), so one remembered day is not enough.
    static TEHRAN_DAYS: [Cell<Option<(NaiveDate, i32)>>; TEHRAN_DAY_SLOTS] =
        const { [const { Cell::new(None) }; TEHRAN_DAY_SLOTS] };
}

/// The Tehran offset that holds for the whole of `day`, if no DST change falls in it: the
/// first and the last second of the day are both unambiguous and have the same offset (Iran
/// changed its clocks at most twice a year, at midnight).
fn whole_day_offset(day: NaiveDate) -> Option<i32> {
    let single = |t: NaiveDateTime| match Tehran.from_local_datetime(&t) {
        LocalResult::Single(t) => Some(t.offset().fix().local_minus_utc()),
        _ => None,
    };
    let first = single(day.and_time(NaiveTime::MIN))?;
    let last = single(day.and_hms_opt(23, 59, 59)?)?;
    (first == last).then_some(first)
}

/// [`tehran_from_local`] as a UTC instant, with the offset of the day cached per thread.
pub(crate) fn tehran_utc_from_local(local: NaiveDateTime) -> DateTime<Utc> {
    let day = local.date();
    // `num_days_from_ce` may be negative; the mask keeps the slot in range either way.
    #[allow(clippy::cast_sign_loss)]
    let slot = (day.num_days_from_ce() as usize) & (TEHRAN_DAY_SLOTS - 1);
    let offset = TEHRAN_DAYS.with(|days| match days[slot].get() {
        Some((d, offset)) if d == day => Some(offset),
        _ => {
            let offset = whole_day_offset(day);
            if let Some(offset) = offset {
                days[slot].set(Some((day, offset)));
            }
            offset
        }
    });
    match offset.and_then(|o| local.checked_sub_signed(TimeDelta::seconds(i64::from(o)))) {
        Some(utc) => utc.and_utc(),
        None => tehran_from_local(local).with_timezone(&Utc),
    }
}

/// Reads a wall-clock time as Tehran local time (see [`JalaliDateTime::to_tehran`]).
pub(crate) fn tehran_from_local(local: NaiveDateTime) -> DateTime<Tz> {
    match Tehran.from_local_datetime(&local) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t,
        LocalResult::None => {
            // Spring-forward gap: use the offset in force a day earlier (before the gap).
            // (Gaps only exist in Iran's DST years, far from chrono's range limits.)
            let before = local
                .checked_sub_signed(TimeDelta::days(1))
                .unwrap_or(local);
            let offset = Tehran.offset_from_utc_datetime(&before).fix();
            let utc = local
                .checked_sub_signed(TimeDelta::seconds(i64::from(offset.local_minus_utc())))
                .unwrap_or(local);
            Tehran.from_utc_datetime(&utc)
        }
    }
}

impl fmt::Debug for JalaliDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JalaliDateTime({self} Asia/Tehran)")
    }
}

impl fmt::Display for JalaliDateTime {
    /// `1399/04/04 14:47:09` (fractional seconds, if any, are appended: `14:47:09.250`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.date, self.time.format("%H:%M:%S%.f"))
    }
}

/// Splits `time - date` / `date time` text into its parts.
pub(crate) fn split_date_time(t: &str) -> Option<(&str, Option<&str>, bool)> {
    // `" - "` found by its `-` (a byte scan; cheaper than a substring searcher per date).
    let b = t.as_bytes();
    if let Some(i) = (1..b.len().saturating_sub(1))
        .find(|&i| b[i] == b'-' && b[i - 1] == b' ' && b[i + 1] == b' ')
    {
        return Some((t[i + 2..].trim(), Some(t[..i - 1].trim()), true));
    }
    let mut it = t.split_whitespace();
    let date = it.next()?;
    let time = it.next();
    if it.next().is_some() {
        return None;
    }
    Some((date, time, false))
}

impl FromStr for JalaliDateTime {
    type Err = DateError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const EXPECTED: &str = "a Jalali date-time like 1399/04/04 14:47:09 or 17:46:57 - 1401/3/7";
        let t = clean(s);
        if t.is_empty() {
            return Err(DateError::Empty);
        }
        let format_err = || DateError::Format {
            input: s.to_owned(),
            expected: EXPECTED,
        };
        let (date, time, _) = split_date_time(&t).ok_or_else(format_err)?;
        let time = parse_time_part(time.ok_or_else(format_err)?).ok_or_else(format_err)?;
        let date: JalaliDate = date.parse().map_err(|e| match e {
            DateError::Format { .. } => format_err(),
            other => other,
        })?;
        Ok(Self { date, time })
    }
}

impl Serialize for JalaliDateTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

deserialize_from_str!(
    JalaliDateTime,
    "a Jalali date-time string like \"1399/04/04 14:47:09\""
);

json_schema_impl!(JalaliDateTime, "JalaliDateTime",
    de: {
        "description": "Jalali date and Tehran wall-clock time: 1399/04/04 14:47:09, 1401-03-07 18:20:48 or 17:46:57 - 1401/3/7.",
        "type": "string",
        "examples": ["1399/04/04 14:47:09"]
    },
    ser: {
        "description": "Jalali date and Tehran wall-clock time, yyyy/mm/dd HH:MM:SS.",
        "type": "string",
        "examples": ["1399/04/04 14:47:09"]
    }
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The per-day offset cache gives the instant chrono-tz gives, on every day from 1977 to
    /// 2030 (Iran's DST years included: gaps, repeated hours) at times around midnight and
    /// noon, visiting days in an order that both hits and misses the cache.
    #[test]
    fn cached_tehran_offset_agrees_with_chrono_tz() {
        let start = NaiveDate::from_ymd_opt(1977, 1, 1).unwrap();
        let days = (NaiveDate::from_ymd_opt(2030, 12, 31).unwrap() - start).num_days();
        let times = [
            (0, 0, 0),
            (0, 30, 0),
            (1, 0, 0),
            (12, 0, 0),
            (23, 0, 0),
            (23, 30, 0),
            (23, 59, 59),
        ];
        let mut checked = 0;
        for step in [1, 7] {
            for i in (0..days).step_by(step) {
                let day = start + TimeDelta::days(i);
                for (h, m, sec) in times {
                    let local = day.and_hms_opt(h, m, sec).unwrap();
                    assert_eq!(
                        tehran_utc_from_local(local),
                        tehran_from_local(local).with_timezone(&Utc),
                        "{local}"
                    );
                    checked += 1;
                }
            }
        }
        // Days that share a slot (64 apart) and days seen again while still remembered, in a
        // scrambled order over windows of 100 days: hits, misses and evictions.
        for window in (0..days - 100).step_by(61) {
            for round in 0..2 {
                for k in 0..100 {
                    let day = start + TimeDelta::days(window + (k * 37 + round * 11) % 100);
                    let local = day.and_hms_opt(0, 30, 0).unwrap();
                    assert_eq!(
                        tehran_utc_from_local(local),
                        tehran_from_local(local).with_timezone(&Utc),
                        "{local}"
                    );
                    checked += 1;
                }
            }
        }
        // Before the common era (a negative day number still picks a slot in range).
        let ancient = NaiveDate::from_ymd_opt(-50, 3, 1)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        assert_eq!(
            tehran_utc_from_local(ancient),
            tehran_from_local(ancient).with_timezone(&Utc)
        );
        assert!(checked > 150_000, "{checked}");
        // Days with a DST change (a skipped or a repeated hour) are never cached: two a year
        // while Iran had DST (2008 here), none since it was abolished in 2022.
        let uncached = |year: i32| -> Vec<NaiveDate> {
            NaiveDate::from_ymd_opt(year, 1, 1)
                .unwrap()
                .iter_days()
                .take_while(|d| d.year() == year)
                .filter(|d| whole_day_offset(*d).is_none())
                .collect()
        };
        let changes = uncached(2008);
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert_eq!(changes[0].month(), 3, "{changes:?}");
        assert_eq!(changes[1].month(), 9, "{changes:?}");
        assert!(uncached(2024).is_empty());
        assert_eq!(
            whole_day_offset(NaiveDate::from_ymd_opt(2024, 6, 1).unwrap()),
            Some(12_600)
        );
    }

    #[test]
    fn separated_date_parts() {
        let p = parse_date_part("1401/3/7", None).unwrap();
        assert_eq!(
            (p.calendar, p.year, p.month, p.day),
            (Calendar::Jalali, 1401, 3, 7)
        );
        let p = parse_date_part("2019-02-19", None).unwrap();
        assert_eq!(
            (p.calendar, p.year, p.month, p.day),
            (Calendar::Gregorian, 2019, 2, 19)
        );
        for bad in [
            "1401/3",
            "1401/3/7/1",
            "/3/7",
            "1401//7",
            "1401/3/",
            "14011/3/7",
            "1401/123/7",
            "1401/3-7",
            "1401/3/x",
            "۱۴۰۱/3/7",
        ] {
            assert!(parse_date_part(bad, None).is_none(), "{bad}");
        }
        assert_eq!(
            split_date_time("17:46:57 - 1401/3/7"),
            Some(("1401/3/7", Some("17:46:57"), true))
        );
        assert_eq!(
            split_date_time("1401-03-07 17:46:57"),
            Some(("1401-03-07", Some("17:46:57"), false))
        );
        assert_eq!(
            split_date_time("1401-03-07"),
            Some(("1401-03-07", None, false))
        );
        // The byte scan finds the `" - "` that `str::split_once` finds.
        for t in [
            "- 1401",
            "1401 -",
            " - ",
            "a - b - c",
            "a -b",
            "a- b",
            "a  -  b",
            "-",
            "",
            "a - ",
            " - b",
        ] {
            let expected = t
                .split_once(" - ")
                .map(|(time, date)| (date.trim(), Some(time.trim()), true));
            match expected {
                Some(e) => assert_eq!(split_date_time(t), Some(e), "{t:?}"),
                None => assert!(
                    split_date_time(t).is_none_or(|(_, _, time_first)| !time_first),
                    "{t:?}"
                ),
            }
        }
    }

    fn g(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn j(y: i32, m: u8, d: u8) -> JalaliDate {
        JalaliDate::new(y, m, d).unwrap()
    }

    #[test]
    fn known_pairs() {
        let pairs = [
            ((1399, 3, 13), (2020, 6, 2)),
            ((1401, 3, 7), (2022, 5, 28)),
            ((1400, 8, 8), (2021, 10, 30)), // settlement_date_jalali vs settlement_date
            ((1399, 5, 21), (2020, 8, 11)), // withdrawal_date
            ((1400, 1, 2), (2021, 3, 22)),  // fromDate 14000102
            ((1400, 2, 1), (2021, 4, 21)),  // toDate 14000201
            ((1369, 7, 17), (1990, 10, 9)), // KYC birthday example
            ((1398, 7, 3), (2019, 9, 25)),  // PM23 980703
            ((1376, 1, 1), (1997, 3, 21)),
            ((1354, 1, 1), (1975, 3, 21)),
            ((1403, 12, 30), (2025, 3, 20)),
        ];
        for ((jy, jm, jd), (gy, gm, gd)) in pairs {
            let jal = j(jy, jm, jd);
            assert_eq!(jal.to_gregorian(), g(gy, gm, gd), "{jal}");
            assert_eq!(JalaliDate::from_gregorian(g(gy, gm, gd)).unwrap(), jal);
        }
    }

    #[test]
    fn nowruz_boundaries() {
        // 1 Farvardin falls on 20 or 21 March.
        for (jy, gy, gd) in [
            (1398, 2019, 21),
            (1399, 2020, 20),
            (1400, 2021, 21),
            (1401, 2022, 21),
            (1402, 2023, 21),
            (1403, 2024, 20),
            (1404, 2025, 21),
        ] {
            assert_eq!(j(jy, 1, 1).to_gregorian(), g(gy, 3, gd), "Nowruz {jy}");
            let eve = JalaliDate::from_gregorian(g(gy, 3, gd - 1)).unwrap();
            assert_eq!((eve.year(), eve.month()), (jy - 1, 12), "eve of {jy}");
            assert_eq!(eve.succ(), Some(j(jy, 1, 1)));
        }
    }

    #[test]
    fn leap_years() {
        for y in [1399, 1403, 1408, 1375, 1379] {
            assert!(JalaliDate::is_leap_year(y), "{y}");
            assert_eq!(JalaliDate::days_in_month(y, 12), 30);
            assert!(JalaliDate::new(y, 12, 30).is_ok());
        }
        for y in [1400, 1401, 1402, 1404, 1405] {
            assert!(!JalaliDate::is_leap_year(y), "{y}");
            assert_eq!(
                JalaliDate::new(y, 12, 30).unwrap_err(),
                DateError::NoSuchDay {
                    year: y,
                    month: 12,
                    day: 30,
                    days_in_month: 29
                }
            );
        }
        assert_eq!(j(1399, 12, 30).to_gregorian(), g(2021, 3, 20));
        assert_eq!(j(1403, 12, 30).succ(), Some(j(1404, 1, 1)));
    }

    #[test]
    fn field_errors() {
        assert!(matches!(
            JalaliDate::new(1400, 13, 1),
            Err(DateError::FieldRange { field: "month", .. })
        ));
        assert!(matches!(
            JalaliDate::new(1400, 7, 31),
            Err(DateError::NoSuchDay {
                days_in_month: 30,
                ..
            })
        ));
        assert!(JalaliDate::new(1400, 1, 0).is_err());
        assert!(JalaliDate::new(0, 1, 1).is_err());
        assert!(JalaliDate::new(10_000, 1, 1).is_err());
        assert_eq!(
            JalaliDate::from_gregorian(g(100, 1, 1)).unwrap_err(),
            DateError::OutOfRange
        );
        assert_eq!(
            JalaliDate::from_gregorian(NaiveDate::MAX).unwrap_err(),
            DateError::OutOfRange
        );
        let e = JalaliDate::new(1400, 12, 30).unwrap_err().to_string();
        assert!(e.contains("29 days"), "{e}");
    }

    #[test]
    fn parse_and_format_date() {
        let want = j(1400, 1, 2);
        for s in [
            "1400/01/02",
            "1400/1/2",
            "1400-01-02",
            "14000102",
            "۱۴۰۰/۰۱/۰۲",
            "١٤٠٠/١/٢",
            " 1400\\/01\\/02 ",
        ] {
            assert_eq!(s.parse::<JalaliDate>().unwrap(), want, "{s}");
        }
        assert_eq!(want.to_string(), "1400/01/02");
        assert_eq!(want.to_compact(), "14000102");
        assert_eq!(want.month_name(), "Farvardin");
        assert_eq!(j(1400, 12, 1).month_name(), "Esfand");
        assert_eq!("980703".parse::<JalaliDate>().unwrap(), j(1398, 7, 3));
        assert_eq!("030101".parse::<JalaliDate>().unwrap(), j(1403, 1, 1));
        assert_eq!("1400/8/8".parse::<JalaliDate>().unwrap(), j(1400, 8, 8));
        for bad in [
            "",
            "1400/13/01",
            "1400/01",
            "139/07/17x",
            "1400/01/02/03",
            "1400701",
        ] {
            assert!(bad.parse::<JalaliDate>().is_err(), "{bad}");
        }
        let e = "tomorrow".parse::<JalaliDate>().unwrap_err().to_string();
        assert!(e.contains("1400/01/02"), "{e}");
        assert_eq!(format!("{want:?}"), "JalaliDate(1400/01/02 = 2021-03-22)");
    }

    #[test]
    fn serde_date_and_compact() {
        let d = j(1400, 1, 2);
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"1400/01/02\"");
        assert_eq!(
            serde_json::from_str::<JalaliDate>("\"1400/1/2\"").unwrap(),
            d
        );
        assert_eq!(serde_json::from_str::<JalaliDate>("14000102").unwrap(), d);
        let c = JalaliCompactDate(d);
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"14000102\"");
        assert_eq!(c.to_string(), "14000102");
        assert_eq!(
            serde_json::from_str::<JalaliCompactDate>("\"14000102\"").unwrap(),
            c
        );
        assert_eq!(
            serde_json::from_str::<JalaliCompactDate>("\"1400/01/02\"").unwrap(),
            c
        );
        assert_eq!(
            serde_json::from_str::<JalaliCompactDate>("\"14000201\"").unwrap(),
            JalaliCompactDate(j(1400, 2, 1))
        );
        assert!(serde_json::from_str::<JalaliDate>("true").is_err());
    }

    #[test]
    fn reference_jalali_datetimes() {
        let cases = [
            ("1399/04/04 14:47:09", (2020, 6, 24), (14, 47, 9)),
            ("1400/04/04 14:47:09", (2021, 6, 25), (14, 47, 9)),
            ("1399/05/04 14:47:09", (2020, 7, 25), (14, 47, 9)),
            ("1400/03/08 15:57:43", (2021, 5, 29), (15, 57, 43)),
            ("1401/10/26 11:05:00", (2023, 1, 16), (11, 5, 0)),
            ("1401/10/25 07:29:44", (2023, 1, 15), (7, 29, 44)),
            ("1402/07/01 21:40:50", (2023, 9, 23), (21, 40, 50)),
            ("1403/11/01 00:00:00", (2025, 1, 20), (0, 0, 0)),
            ("1400/08/08 16:00:00", (2021, 10, 30), (16, 0, 0)),
            ("1401-03-07 18:20:48", (2022, 5, 28), (18, 20, 48)),
            ("17:46:57 - 1401/3/7", (2022, 5, 28), (17, 46, 57)),
            ("17:46:58 - 1401/3/7", (2022, 5, 28), (17, 46, 58)),
            ("13:53 - 1400/07/07", (2021, 9, 29), (13, 53, 0)),
            ("1400\\/04\\/04 14:47:09", (2021, 6, 25), (14, 47, 9)),
        ];
        for (s, (y, m, d), (hh, mm, ss)) in cases {
            let dt: JalaliDateTime = s.parse().unwrap();
            let want = g(y, m, d).and_hms_opt(hh, mm, ss).unwrap();
            assert_eq!(dt.to_naive_gregorian(), want, "{s}");
            let via_json: JalaliDateTime = serde_json::from_str(&format!("\"{s}\"")).unwrap();
            assert_eq!(via_json, dt);
        }
        let dt: JalaliDateTime = "17:46:57 - 1401/3/7".parse().unwrap();
        assert_eq!(dt.to_time_first(), "17:46:57 - 1401/3/7");
        assert_eq!(dt.to_string(), "1401/03/07 17:46:57");
        assert_eq!(
            serde_json::to_string(&dt).unwrap(),
            "\"1401/03/07 17:46:57\""
        );
        // Iran still observed DST in 2022 (UTC+04:30 in summer); abolished from 2023.
        assert_eq!(dt.to_utc().to_rfc3339(), "2022-05-28T13:16:57+00:00");
        for bad in [
            "1401/03/07",
            "1401/03/07 25:00:00",
            "x - 1401/3/7",
            "1401/13/01 10:00",
        ] {
            assert!(bad.parse::<JalaliDateTime>().is_err(), "{bad}");
        }
    }

    #[test]
    fn tehran_dst_history() {
        // Summer 1399 (2020): DST in force, UTC+04:30.
        let summer: JalaliDateTime = "1399/04/04 14:47:09".parse().unwrap();
        assert_eq!(summer.to_utc().to_rfc3339(), "2020-06-24T10:17:09+00:00");
        // Winter: UTC+03:30.
        let winter: JalaliDateTime = "1401/10/26 11:05:00".parse().unwrap();
        assert_eq!(winter.to_utc().to_rfc3339(), "2023-01-16T07:35:00+00:00");
        // Spring-forward gap 1399/01/02 (2020-03-21) 00:00–01:00 does not exist; read with
        // the pre-gap offset +03:30, i.e. 00:30 → 20:00 UTC the day before.
        let gap: JalaliDateTime = "1399/01/02 00:30:00".parse().unwrap();
        assert_eq!(gap.to_utc().to_rfc3339(), "2020-03-20T21:00:00+00:00");
        // Fall-back 1399/06/30 (2020-09-20) 23:00–24:00 happens twice; earlier instant wins.
        let twice: JalaliDateTime = "1399/06/30 23:30:00".parse().unwrap();
        assert_eq!(twice.to_utc().to_rfc3339(), "2020-09-20T19:00:00+00:00");
        // from_utc reverses to_utc outside the edge cases.
        assert_eq!(JalaliDateTime::from_utc(summer.to_utc()).unwrap(), summer);
    }

    proptest! {
        #![proptest_config(super::super::proptest_config())]

        #[test]
        fn gregorian_jalali_gregorian(days in 0i32..3_000_000) {
            // 622-03-22 (1/1/1 AP) plus up to ~8200 years.
            let start = g(622, 3, 22);
            let date = start + TimeDelta::days(i64::from(days));
            let jal = JalaliDate::from_gregorian(date).unwrap();
            prop_assert_eq!(jal.to_gregorian(), date);
            prop_assert_eq!(JalaliDate::new(jal.year(), jal.month(), jal.day()).unwrap(), jal);
        }

        #[test]
        fn jalali_gregorian_jalali(y in 1i32..=9999, m in 1u8..=12, d in 1u8..=31) {
            prop_assume!(d <= JalaliDate::days_in_month(y, m));
            let jal = JalaliDate::new(y, m, d).unwrap();
            let back = JalaliDate::from_gregorian(jal.to_gregorian()).unwrap();
            prop_assert_eq!(back, jal);
            prop_assert_eq!((back.year(), back.month(), back.day()), (y, m, d));
            // Consecutive days stay consecutive.
            if let Some(next) = jal.succ() {
                prop_assert_eq!(next.to_gregorian(), jal.to_gregorian() + TimeDelta::days(1));
                prop_assert!(next > jal);
            }
        }

        #[test]
        fn date_display_parse_and_serde(y in 1000i32..=9999, m in 1u8..=12, d in 1u8..=29) {
            let jal = JalaliDate::new(y, m, d).unwrap();
            prop_assert_eq!(jal.to_string().parse::<JalaliDate>().unwrap(), jal);
            prop_assert_eq!(jal.to_compact().parse::<JalaliDate>().unwrap(), jal);
            let json = serde_json::to_string(&jal).unwrap();
            prop_assert_eq!(serde_json::from_str::<JalaliDate>(&json).unwrap(), jal);
            let c = JalaliCompactDate(jal);
            prop_assert_eq!(c.to_string().parse::<JalaliCompactDate>().unwrap(), c);
            prop_assert_eq!(serde_json::from_str::<JalaliCompactDate>(&serde_json::to_string(&c).unwrap()).unwrap(), c);
        }

        #[test]
        fn datetime_display_parse_and_serde(
            y in 1300i32..=1500, m in 1u8..=12, d in 1u8..=29,
            h in 0u32..24, mi in 0u32..60, s in 0u32..60,
        ) {
            let dt = JalaliDateTime::new(JalaliDate::new(y, m, d).unwrap(), NaiveTime::from_hms_opt(h, mi, s).unwrap());
            prop_assert_eq!(dt.to_string().parse::<JalaliDateTime>().unwrap(), dt);
            prop_assert_eq!(dt.to_time_first().parse::<JalaliDateTime>().unwrap(), dt);
            let json = serde_json::to_string(&dt).unwrap();
            prop_assert_eq!(serde_json::from_str::<JalaliDateTime>(&json).unwrap(), dt);
            // The instant maps back to the same wall clock, except a time inside a DST
            // spring-forward gap, which comes back one hour later.
            let back = JalaliDateTime::from_utc(dt.to_utc()).unwrap();
            prop_assert!(back == dt || back.to_naive_gregorian() - dt.to_naive_gregorian() == TimeDelta::hours(1));
        }
    }

    #[test]
    fn time_fast_path_agrees_with_chrono() {
        let chrono = |s: &str| {
            NaiveTime::parse_from_str(s, "%H:%M:%S%.f")
                .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M"))
                .ok()
        };
        let mut inputs: Vec<String> = Vec::new();
        for h in [0, 7, 9, 12, 23, 24, 99] {
            for m in [0, 5, 59, 60] {
                inputs.push(format!("{h:02}:{m:02}"));
                for sec in [0, 30, 59, 60, 61] {
                    inputs.push(format!("{h:02}:{m:02}:{sec:02}"));
                }
            }
        }
        inputs.extend(
            [
                "7:05",
                "07:5",
                "07:05:3",
                "07:05:30.25",
                "0a:05",
                "07-05-30",
                "",
                ":::::",
                "ab:cd:ef",
            ]
            .map(String::from),
        );
        for s in &inputs {
            assert_eq!(parse_time_part(s), chrono(s), "{s:?}");
            if let Some(fast) = parse_time_fast(s) {
                assert_eq!(Some(fast), chrono(s), "{s:?}");
            }
        }
        assert_eq!(clean(" 1400\\/04\\/04 "), "1400/04/04");
        assert_eq!(clean(" ۱۴۰۰/۰۴/۰۴ "), "1400/04/04");
        assert_eq!(clean(" 17:46:57 - 1401/3/7 "), "17:46:57 - 1401/3/7");
    }
}
