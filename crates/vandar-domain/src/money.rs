//! Money: [`Rial`] and [`Toman`], two distinct integer amounts that never convert implicitly.
//!
//! Vandar mixes units per endpoint (IPG, refund, batch settlement, direct debit and cash-in use
//! Rial; the balance, transaction list and settlement list use Toman; some responses carry
//! both). 1 Toman = 10 Rial. Keeping the units as separate types makes passing a Toman amount
//! where Rial is expected a compile error:
//!
//! ```compile_fail,E0308
//! use vandar_domain::{Rial, Toman};
//! fn send_ipg_payment(amount: Rial) -> Rial { amount }
//! send_ipg_payment(Toman::new(1_000)); // error[E0308]: mismatched types
//! ```
//!
//! The explicit conversion compiles:
//!
//! ```
//! use vandar_domain::{Rial, Toman};
//! fn send_ipg_payment(amount: Rial) -> Rial { amount }
//! let rial = send_ipg_payment(Toman::new(1_000).try_to_rial()?);
//! assert_eq!(rial, Rial::new(10_000));
//! # Ok::<(), vandar_domain::MoneyError>(())
//! ```
//!
//! # Serde shapes
//! * accepted: JSON integer (`1000`), numeric string (`"1000"`), decimal string whose fraction
//!   is zero (`"1000.00"`), an integral JSON float (`1000.0`), Persian/Arabic digits, thousands
//!   separators (`"1,000"`) and a matching unit suffix (`"1000 Rial"`). A non-zero fraction
//!   (`"1000.50"`), a wrong unit (`"1000 Toman"` into [`Rial`]) or an out-of-range value is an
//!   error. Negative values are accepted (the API reports debits as negative amounts); use
//!   [`non_negative`] or [`Rial::try_non_negative`] where a negative amount makes no sense.
//! * emitted: a JSON integer. For endpoints that want a string use [`RialString`] /
//!   [`TomanString`] or `#[serde(with = "vandar_domain::money::as_string")]`.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::json_schema_impl;
use super::text::digit_value;

/// Errors from parsing or converting money amounts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MoneyError {
    /// The text had no digits.
    #[error("{unit} amount is empty")]
    Empty {
        /// `"Rial"` or `"Toman"`.
        unit: &'static str,
    },
    /// The text is not a decimal integer.
    #[error("{unit} amount {input:?} is not a number: {reason}")]
    Invalid {
        /// `"Rial"` or `"Toman"`.
        unit: &'static str,
        /// The offending text (amounts are not secret).
        input: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The amount has a non-zero fractional part (`"1000.50"`).
    #[error("{unit} amount {input:?} has a non-zero fraction; {unit} amounts must be whole")]
    NonZeroFraction {
        /// `"Rial"` or `"Toman"`.
        unit: &'static str,
        /// The offending text.
        input: String,
    },
    /// The amount is labelled with the other unit (`"1000 Toman"` parsed as Rial).
    #[error("expected an amount in {expected} but it is labelled {found:?}")]
    UnitMismatch {
        /// The unit of the target type.
        expected: &'static str,
        /// The label found in the text.
        found: String,
    },
    /// The amount does not fit a signed 64-bit integer (after unit conversion, if any).
    #[error("{unit} amount is out of range (must fit a signed 64-bit integer)")]
    Overflow {
        /// `"Rial"` or `"Toman"`.
        unit: &'static str,
    },
    /// A negative amount where only zero or positive amounts make sense.
    #[error("{unit} amount must not be negative, got {value}")]
    Negative {
        /// `"Rial"` or `"Toman"`.
        unit: &'static str,
        /// The negative value.
        value: i64,
    },
    /// A Rial amount that is not a multiple of 10 cannot become Toman exactly.
    #[error("{rial} Rial is not a whole number of Toman; use Rial::to_toman_rounded")]
    NotWholeToman {
        /// The Rial value.
        rial: i64,
    },
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Rial {}
    impl Sealed for super::Toman {}
}

/// Common behaviour of [`Rial`] and [`Toman`], used by the generic serde helper modules
/// [`as_string`] and [`non_negative`]. Sealed: only the two money types implement it.
pub trait Amount: sealed::Sealed + Copy + Sized {
    /// Unit name used in `Display` and error messages (`"Rial"`, `"Toman"`).
    const UNIT: &'static str;
    /// Wraps a raw value in this unit.
    fn from_i64(value: i64) -> Self;
    /// The raw value in this unit.
    fn to_i64(self) -> i64;
}

/// How to round when converting Rial to Toman drops a non-zero last digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rounding {
    /// Towards negative infinity (`15 Rial` → `1 Toman`, `-15 Rial` → `-2 Toman`).
    Floor,
    /// Towards positive infinity (`15 Rial` → `2 Toman`, `-15 Rial` → `-1 Toman`).
    Ceil,
    /// Drop the last digit (`15` → `1`, `-15` → `-1`).
    TowardZero,
    /// Away from zero on any remainder (`11` → `2`, `-11` → `-2`).
    AwayFromZero,
    /// To nearest; exactly half (5 Rial) rounds away from zero (`15` → `2`, `14` → `1`).
    HalfAwayFromZero,
    /// To nearest; exactly half rounds to the even Toman (banker's rounding: `15` → `2`,
    /// `25` → `2`).
    HalfEven,
}

/// Implements `JsonSchema` for an amount type named `$sname` in schemas: deserialisation
/// accepts every amount shape of `$unit` (integer, numeric string, decimal string with a zero
/// fraction); `ser` is the schema of what serialisation emits.
macro_rules! amount_json_schema {
    ($name:ident, $sname:literal, $unit:literal, ser: $ser:tt) => {
        json_schema_impl!($name, $sname,
            de: {
                "description": concat!(
                    "Amount in ", $unit,
                    ". Accepts an integer, a numeric string, or a decimal string with a zero fraction."
                ),
                "anyOf": [
                    { "type": "integer", "format": "int64" },
                    { "type": "string", "pattern": "^-?[0-9]+(\\.0+)?$" }
                ]
            },
            ser: $ser
        );
    };
}

macro_rules! money_type {
    ($(#[$meta:meta])* $name:ident, $unit:literal, [$($label:literal),+], [$($other_label:literal),+]) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(i64);

        impl $name {
            /// Zero.
            pub const ZERO: Self = Self(0);

            #[doc = concat!("An amount of `value` ", $unit, ".")]
            #[must_use]
            pub const fn new(value: i64) -> Self {
                Self(value)
            }

            #[doc = concat!("An amount of `value` ", $unit, ", rejecting negative values.")]
            ///
            /// # Errors
            /// [`MoneyError::Negative`] if `value < 0`.
            pub const fn try_non_negative(value: i64) -> Result<Self, MoneyError> {
                if value < 0 {
                    Err(MoneyError::Negative { unit: $unit, value })
                } else {
                    Ok(Self(value))
                }
            }

            #[doc = concat!("The raw value in ", $unit, ".")]
            #[must_use]
            pub const fn get(self) -> i64 {
                self.0
            }

            /// Whether the amount is below zero.
            #[must_use]
            pub const fn is_negative(self) -> bool {
                self.0 < 0
            }

            /// Sum, or `None` on overflow.
            #[must_use]
            pub const fn checked_add(self, rhs: Self) -> Option<Self> {
                match self.0.checked_add(rhs.0) {
                    Some(v) => Some(Self(v)),
                    None => None,
                }
            }

            /// Difference, or `None` on overflow.
            #[must_use]
            pub const fn checked_sub(self, rhs: Self) -> Option<Self> {
                match self.0.checked_sub(rhs.0) {
                    Some(v) => Some(Self(v)),
                    None => None,
                }
            }

            /// Multiplies by a unitless factor, or `None` on overflow.
            #[must_use]
            pub const fn checked_mul(self, factor: i64) -> Option<Self> {
                match self.0.checked_mul(factor) {
                    Some(v) => Some(Self(v)),
                    None => None,
                }
            }
        }

        impl Amount for $name {
            const UNIT: &'static str = $unit;
            fn from_i64(value: i64) -> Self {
                Self(value)
            }
            fn to_i64(self) -> i64 {
                self.0
            }
        }

        impl From<$name> for i64 {
            fn from(value: $name) -> i64 {
                value.0
            }
        }

        impl fmt::Display for $name {
            /// `1000 Rial`; with the alternate flag (`{:#}`) digits are grouped: `1,000 Rial`.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                if f.alternate() {
                    write!(f, "{} {}", group_thousands(self.0), $unit)
                } else {
                    write!(f, "{} {}", self.0, $unit)
                }
            }
        }

        impl FromStr for $name {
            type Err = MoneyError;

            /// Parses `1000`, `-1000`, `1,000`, `1000.00`, `۱۰۰۰`, and the same with a unit
            /// suffix of this type (case-insensitive).
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_amount(s, $unit, &[$($label),+], &[$($other_label),+]).map(Self)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_i64(self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_any(AmountVisitor::<$name>::new())
            }
        }

        amount_json_schema!($name, $unit, $unit,
            ser: {
                "description": concat!("Amount in ", $unit, "."),
                "type": "integer",
                "format": "int64"
            }
        );
    };
}

money_type!(
    /// An amount in Iranian Rial (IRR), the unit of IPG, refunds, batch settlement, direct
    /// debit, cash-in and customer wallets.
    ///
    /// `Display`: `1000 Rial` (`{:#}` → `1,000 Rial`). Serialises as a JSON integer.
    /// Deserialises from every shape listed in the [module docs](self).
    ///
    /// There is no implicit conversion from [`Toman`]; see [`Toman::try_to_rial`],
    /// [`Rial::try_to_toman`] and [`Rial::to_toman_rounded`].
    ///
    /// ```compile_fail,E0308
    /// use vandar_domain::{Rial, Toman};
    /// let amount: Rial = Toman::new(5_000); // Toman is not Rial
    /// ```
    Rial, "Rial", ["rial", "rials", "irr", "ریال"], ["toman", "tomans", "irt", "تومان"]
);

money_type!(
    /// An amount in Toman (1 Toman = 10 Rial), the unit of the business balance, the
    /// transaction list and the settlement list.
    ///
    /// `Display`: `1000 Toman` (`{:#}` → `1,000 Toman`). Serialises as a JSON integer.
    /// Deserialises from every shape listed in the [module docs](self).
    ///
    /// ```compile_fail,E0308
    /// use vandar_domain::{Rial, Toman};
    /// let amount: Toman = Rial::new(50_000); // Rial is not Toman
    /// ```
    Toman, "Toman", ["toman", "tomans", "irt", "تومان"], ["rial", "rials", "irr", "ریال"]
);

impl Toman {
    /// Converts to Rial exactly (× 10).
    ///
    /// # Errors
    /// [`MoneyError::Overflow`] if the Rial value does not fit an `i64`.
    pub const fn try_to_rial(self) -> Result<Rial, MoneyError> {
        match self.0.checked_mul(10) {
            Some(v) => Ok(Rial(v)),
            None => Err(MoneyError::Overflow { unit: "Rial" }),
        }
    }
}

impl Rial {
    /// Converts to Toman when exact (the Rial value is a multiple of 10).
    ///
    /// # Errors
    /// [`MoneyError::NotWholeToman`] otherwise; use [`Rial::to_toman_rounded`] to choose a
    /// rounding.
    pub const fn try_to_toman(self) -> Result<Toman, MoneyError> {
        if self.0 % 10 == 0 {
            Ok(Toman(self.0 / 10))
        } else {
            Err(MoneyError::NotWholeToman { rial: self.0 })
        }
    }

    /// Converts to Toman, rounding a non-zero last digit as `rounding` says. Never fails.
    #[must_use]
    pub const fn to_toman_rounded(self, rounding: Rounding) -> Toman {
        let q = self.0 / 10; // truncates toward zero
        let r = self.0 % 10; // same sign as self.0
        let away = if r > 0 { q + 1 } else { q - 1 };
        let abs_r = r.abs();
        let v = if r == 0 {
            q
        } else {
            match rounding {
                Rounding::TowardZero => q,
                Rounding::AwayFromZero => away,
                Rounding::Floor => {
                    if r < 0 {
                        q - 1
                    } else {
                        q
                    }
                }
                Rounding::Ceil => {
                    if r > 0 {
                        q + 1
                    } else {
                        q
                    }
                }
                Rounding::HalfAwayFromZero => {
                    if abs_r >= 5 {
                        away
                    } else {
                        q
                    }
                }
                Rounding::HalfEven => {
                    if abs_r > 5 || (abs_r == 5 && q % 2 != 0) {
                        away
                    } else {
                        q
                    }
                }
            }
        };
        Toman(v)
    }
}

/// Inserts `,` every three digits.
fn group_thousands(v: i64) -> String {
    let digits = v.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if v < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Parses the textual amount forms described on [`Rial::from_str`].
fn parse_amount(
    input: &str,
    unit: &'static str,
    labels: &[&str],
    other_labels: &[&str],
) -> Result<i64, MoneyError> {
    // What the API sends (`250000`, `"1000.00"`): read without splitting or collecting.
    match plain_amount(input) {
        Some(v) => Ok(v),
        None => parse_amount_general(input, unit, labels, other_labels),
    }
}

/// [`parse_amount`] for every accepted form: spaces, unit labels, signs, Persian and Arabic
/// digits, thousands separators.
fn parse_amount_general(
    input: &str,
    unit: &'static str,
    labels: &[&str],
    other_labels: &[&str],
) -> Result<i64, MoneyError> {
    let invalid = |reason: &'static str| MoneyError::Invalid {
        unit,
        input: input.to_owned(),
        reason,
    };
    let mut s = input.trim();

    // Optional unit label at the end: a trailing run of letters.
    let label_start = s
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphabetic())
        .last()
        .map(|(i, _)| i);
    if let Some(start) = label_start {
        let label = s[start..].to_lowercase();
        if labels.contains(&label.as_str()) {
            s = s[..start].trim_end();
        } else if other_labels.contains(&label.as_str()) {
            return Err(MoneyError::UnitMismatch {
                expected: unit,
                found: s[start..].to_owned(),
            });
        } else {
            return Err(invalid("unknown unit label"));
        }
    }

    let (negative, body) = match s.strip_prefix('-').or_else(|| s.strip_prefix('\u{2212}')) {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if body.is_empty() {
        return Err(MoneyError::Empty { unit });
    }

    // Split off a fraction at '.' or the Arabic decimal separator '٫'.
    let (int_part, frac_part) = match body.find(['.', '\u{066B}']) {
        Some(i) => {
            let sep_len = body[i..].chars().next().map_or(1, char::len_utf8);
            (&body[..i], Some(&body[i + sep_len..]))
        }
        None => (body, None),
    };

    // Integer part: digits, optionally grouped by ',' or '٬' in threes.
    let groups: Vec<&str> = int_part.split([',', '\u{066C}']).collect();
    if groups.len() > 1 {
        let first_ok = (1..=3).contains(&groups[0].chars().count());
        let rest_ok = groups[1..].iter().all(|g| g.chars().count() == 3);
        if !first_ok || !rest_ok {
            return Err(invalid("misplaced thousands separator"));
        }
    }
    let mut value: i64 = 0;
    let mut any_digit = false;
    for c in groups.concat().chars() {
        let d = digit_value(c).ok_or_else(|| invalid("expected digits"))?;
        any_digit = true;
        value = value
            .checked_mul(10)
            .and_then(|v| {
                if negative {
                    v.checked_sub(i64::from(d))
                } else {
                    v.checked_add(i64::from(d))
                }
            })
            .ok_or(MoneyError::Overflow { unit })?;
    }
    if !any_digit {
        return Err(invalid("expected digits before the decimal point"));
    }

    if let Some(frac) = frac_part {
        if frac.is_empty() {
            return Err(invalid("expected digits after the decimal point"));
        }
        for c in frac.chars() {
            match digit_value(c) {
                Some(0) => {}
                Some(_) => {
                    return Err(MoneyError::NonZeroFraction {
                        unit,
                        input: input.to_owned(),
                    });
                }
                None => return Err(invalid("expected digits after the decimal point")),
            }
        }
    }
    Ok(value)
}

/// An amount in the plain form: an optional `-`, 1 to 18 ASCII digits, and optionally `.`
/// followed by zeros only. `None` for anything else (the full parser decides); where it
/// answers, it answers as the full parser does (tested).
fn plain_amount(input: &str) -> Option<i64> {
    let b = input.as_bytes();
    let (negative, b) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, b),
    };
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 || digits > 18 {
        return None;
    }
    match &b[digits..] {
        [] => {}
        [b'.', zeros @ ..] if !zeros.is_empty() && zeros.iter().all(|&c| c == b'0') => {}
        _ => return None,
    }
    let value = b[..digits]
        .iter()
        .fold(0i64, |v, &c| v * 10 + i64::from(c - b'0'));
    Some(if negative { -value } else { value })
}

/// Visitor accepting every JSON shape of an amount.
struct AmountVisitor<T>(std::marker::PhantomData<T>);

impl<T> AmountVisitor<T> {
    fn new() -> Self {
        Self(std::marker::PhantomData)
    }
}

impl<T: Amount> AmountVisitor<T> {
    /// An integer of another type as an amount, or [`MoneyError::Overflow`] if it does not fit
    /// an `i64`.
    fn exact<V, E: de::Error>(v: V) -> Result<T, E>
    where
        i64: TryFrom<V>,
    {
        i64::try_from(v)
            .map(T::from_i64)
            .map_err(|_| E::custom(MoneyError::Overflow { unit: T::UNIT }))
    }
}

impl<T: Amount + FromStr<Err = MoneyError>> Visitor<'_> for AmountVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "an amount in {} (integer, numeric string, or decimal string with zero fraction)",
            T::UNIT
        )
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        Ok(T::from_i64(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        Self::exact(v)
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<T, E> {
        Self::exact(v)
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<T, E> {
        Self::exact(v)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        // Only integral floats that a double represents exactly (|v| <= 2^53).
        const MAX_EXACT: f64 = 9_007_199_254_740_992.0;
        if !v.is_finite() {
            return Err(E::custom(MoneyError::Invalid {
                unit: T::UNIT,
                input: v.to_string(),
                reason: "not a finite number",
            }));
        }
        if v.fract() != 0.0 {
            return Err(E::custom(MoneyError::NonZeroFraction {
                unit: T::UNIT,
                input: v.to_string(),
            }));
        }
        if v.abs() > MAX_EXACT {
            return Err(E::custom(MoneyError::Overflow { unit: T::UNIT }));
        }
        // Exact: integral and within ±2^53.
        #[allow(clippy::cast_possible_truncation)]
        Ok(T::from_i64(v as i64))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        v.parse::<T>().map_err(E::custom)
    }
}

/// Serialise an amount as a JSON string (`"1000"`) instead of an integer; deserialise every
/// shape. For use as `#[serde(with = "vandar_domain::money::as_string")]` on a
/// [`Rial`] or [`Toman`] field. For `Option` fields use [`RialString`] / [`TomanString`].
pub mod as_string {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::Amount;

    /// Serialises `value` as a decimal string without unit.
    ///
    /// # Errors
    /// Only those of the serializer.
    pub fn serialize<T: Amount, S: Serializer>(
        value: &T,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&value.to_i64())
    }

    /// Deserialises any accepted amount shape.
    ///
    /// # Errors
    /// As [`Rial`](super::Rial)'s `Deserialize`.
    pub fn deserialize<'de, T, D>(deserializer: D) -> Result<T, D::Error>
    where
        T: Amount + Deserialize<'de>,
        D: Deserializer<'de>,
    {
        T::deserialize(deserializer)
    }
}

/// Like the default representation (JSON integer), but deserialisation rejects negative
/// amounts with [`MoneyError::Negative`]. For use as
/// `#[serde(with = "vandar_domain::money::non_negative")]`.
pub mod non_negative {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    use super::{Amount, MoneyError};

    /// Serialises `value` as a JSON integer.
    ///
    /// # Errors
    /// Only those of the serializer.
    pub fn serialize<T: Amount, S: Serializer>(
        value: &T,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(value.to_i64())
    }

    /// Deserialises any accepted amount shape and rejects values below zero.
    ///
    /// # Errors
    /// As [`Rial`](super::Rial)'s `Deserialize`, plus [`MoneyError::Negative`].
    pub fn deserialize<'de, T, D>(deserializer: D) -> Result<T, D::Error>
    where
        T: Amount + Deserialize<'de>,
        D: Deserializer<'de>,
    {
        let value = T::deserialize(deserializer)?;
        if value.to_i64() < 0 {
            return Err(D::Error::custom(MoneyError::Negative {
                unit: T::UNIT,
                value: value.to_i64(),
            }));
        }
        Ok(value)
    }
}

macro_rules! string_wrapper {
    ($(#[$meta:meta])* $name:ident, $sname:literal, $inner:ident, $unit:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub $inner);

        impl $name {
            #[doc = concat!("Wraps an amount of `value` ", $unit, ".")]
            #[must_use]
            pub const fn new(value: i64) -> Self {
                Self($inner::new(value))
            }

            #[doc = concat!("The wrapped [`", stringify!($inner), "`].")]
            #[must_use]
            pub const fn get(self) -> $inner {
                self.0
            }
        }

        impl From<$inner> for $name {
            fn from(value: $inner) -> Self {
                Self(value)
            }
        }

        impl From<$name> for $inner {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = MoneyError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map(Self)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                as_string::serialize(&self.0, serializer)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $inner::deserialize(deserializer).map(Self)
            }
        }

        amount_json_schema!($name, $sname, $unit,
            ser: {
                "description": concat!("Amount in ", $unit, ", as a decimal string."),
                "type": "string",
                "pattern": "^-?[0-9]+$"
            }
        );
    };
}

string_wrapper!(
    /// A [`Rial`] amount that serialises as a JSON string (`"1000"`), for endpoints that
    /// document amounts as strings (e.g. refund `amount`, direct-debit withdrawal `amount`).
    /// Deserialises every amount shape. `Display` as [`Rial`].
    RialString,
    "RialString",
    Rial,
    "Rial"
);

string_wrapper!(
    /// A [`Toman`] amount that serialises as a JSON string (`"1000"`). Deserialises every
    /// amount shape. `Display` as [`Toman`].
    TomanString,
    "TomanString",
    Toman,
    "Toman"
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rial(json: &str) -> Result<Rial, serde_json::Error> {
        serde_json::from_str(json)
    }

    proptest! {
        /// Where the plain-form reader answers, the general parser gives the same amount.
        #[test]
        fn the_plain_form_reads_as_the_general_parser(
            text in "[-+]?[0-9]{0,20}([.][0-9]{0,3})?[ a-z]{0,2}"
        ) {
            if let Some(v) = plain_amount(&text) {
                prop_assert_eq!(
                    parse_amount_general(&text, "Rial", &["rial"], &["toman"]).ok(),
                    Some(v),
                    "{}",
                    text
                );
            }
            prop_assert_eq!(
                parse_amount(&text, "Rial", &["rial"], &["toman"]).ok(),
                parse_amount_general(&text, "Rial", &["rial"], &["toman"]).ok(),
                "{}",
                text
            );
        }
    }

    #[test]
    fn reference_amount_shapes() {
        // ipg.md: send amount integer, transaction amount "10000", verify "1000.00",
        // realAmount integer, wage "500".
        assert_eq!(rial("1000").unwrap(), Rial::new(1000));
        assert_eq!(rial("\"10000\"").unwrap(), Rial::new(10_000));
        assert_eq!(rial("\"1000.00\"").unwrap(), Rial::new(1000));
        assert_eq!(rial("\"500\"").unwrap(), Rial::new(500));
        // refund: "1500000000" (VD) and 50000 (MD); wage 7000; wallet "47999".
        assert_eq!(rial("\"1500000000\"").unwrap(), Rial::new(1_500_000_000));
        assert_eq!(rial("50000").unwrap(), Rial::new(50_000));
        assert_eq!(rial("\"47999\"").unwrap(), Rial::new(47_999));
        // settlement store: amount 50000 Rial + amount_toman 5000; wallet "221500".
        let t: Toman = serde_json::from_str("5000").unwrap();
        assert_eq!(t.try_to_rial().unwrap(), rial("50000").unwrap());
        assert_eq!(rial("\"221500\"").unwrap(), Rial::new(221_500));
        // withdrawal: amount "10000", wage_amount 200 and "200.00"; mandate limit "10200".
        assert_eq!(rial("\"200.00\"").unwrap(), Rial::new(200));
        assert_eq!(rial("200").unwrap(), Rial::new(200));
        assert_eq!(rial("\"10200\"").unwrap(), Rial::new(10_200));
        // balance (Toman): 22963, 13183, 9780; cash-in: 1500000 Rial / 150000 Toman.
        let w: Toman = serde_json::from_str("22963").unwrap();
        assert_eq!(w.get(), 22_963);
        let cash_in = rial("1500000").unwrap();
        assert_eq!(cash_in.try_to_toman().unwrap(), Toman::new(150_000));
        // customer transactions: negative amounts for withdrawals.
        assert_eq!(rial("-1000").unwrap(), Rial::new(-1000));
        // batch item amount "50000"; business deductible_amount "10500".
        let d: Toman = serde_json::from_str("\"10500\"").unwrap();
        assert_eq!(d, Toman::new(10_500));
        // Sanbod statement: transferAmount as negative string.
        assert_eq!(rial("\"-250000\"").unwrap(), Rial::new(-250_000));
    }

    #[test]
    fn rejects_bad_amounts_with_clear_errors() {
        let e = rial("\"1000.50\"").unwrap_err().to_string();
        assert!(e.contains("non-zero fraction"), "{e}");
        let e = rial("1000.5").unwrap_err().to_string();
        assert!(e.contains("non-zero fraction"), "{e}");
        let e = rial("\"12a\"").unwrap_err().to_string();
        assert!(e.contains("not a number"), "{e}");
        let e = rial("\"\"").unwrap_err().to_string();
        assert!(e.contains("empty"), "{e}");
        let e = rial("18446744073709551615").unwrap_err().to_string();
        assert!(e.contains("out of range"), "{e}");
        let e = rial("\"99999999999999999999\"").unwrap_err().to_string();
        assert!(e.contains("out of range"), "{e}");
        let e = rial("true").unwrap_err().to_string();
        assert!(e.contains("amount in Rial"), "{e}");
        assert!(rial("\"1000.\"").is_err());
        assert!(rial("\".00\"").is_err());
        assert!(rial("\"1,00\"").is_err());
        assert!(rial("\"-\"").is_err());
    }

    #[test]
    fn text_forms() {
        assert_eq!("1,000".parse::<Rial>().unwrap(), Rial::new(1000));
        assert_eq!(
            "1,234,567 Rial".parse::<Rial>().unwrap(),
            Rial::new(1_234_567)
        );
        assert_eq!("۱۰۰۰ ریال".parse::<Rial>().unwrap(), Rial::new(1000));
        assert_eq!("٥٠٠".parse::<Toman>().unwrap(), Toman::new(500));
        assert_eq!("+5 IRR".parse::<Rial>().unwrap(), Rial::new(5));
        assert_eq!("500 toman".parse::<Toman>().unwrap(), Toman::new(500));
        assert_eq!("-0".parse::<Rial>().unwrap(), Rial::ZERO);
        assert_eq!(
            "1000 Toman".parse::<Rial>().unwrap_err(),
            MoneyError::UnitMismatch {
                expected: "Rial",
                found: "Toman".into()
            }
        );
        assert!("1000 Rial".parse::<Toman>().is_err());
        assert!("1000 USD".parse::<Rial>().is_err());
        assert_eq!(
            "-9223372036854775808".parse::<Rial>().unwrap(),
            Rial::new(i64::MIN)
        );
    }

    #[test]
    fn display_shows_unit() {
        assert_eq!(Rial::new(1000).to_string(), "1000 Rial");
        assert_eq!(Toman::new(1000).to_string(), "1000 Toman");
        assert_eq!(format!("{:#}", Rial::new(1_234_567)), "1,234,567 Rial");
        assert_eq!(format!("{:#}", Toman::new(-1000)), "-1,000 Toman");
        assert_eq!(format!("{:#}", Rial::new(100)), "100 Rial");
        assert_eq!(
            format!("{:#}", Rial::new(i64::MIN)),
            "-9,223,372,036,854,775,808 Rial"
        );
    }

    #[test]
    fn serialize_shapes() {
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct Refund {
            #[serde(with = "super::as_string")]
            amount: Rial,
            #[serde(with = "super::non_negative")]
            wage: Rial,
            fee: Option<RialString>,
        }
        assert_eq!(serde_json::to_string(&Rial::new(1000)).unwrap(), "1000");
        assert_eq!(
            serde_json::to_string(&RialString::new(1000)).unwrap(),
            "\"1000\""
        );
        assert_eq!(
            serde_json::to_string(&TomanString::new(-5)).unwrap(),
            "\"-5\""
        );
        let r = Refund {
            amount: Rial::new(50_000),
            wage: Rial::new(7000),
            fee: Some(RialString::new(10)),
        };
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, r#"{"amount":"50000","wage":7000,"fee":"10"}"#);
        assert_eq!(serde_json::from_str::<Refund>(&json).unwrap(), r);
        let e = serde_json::from_str::<Refund>(r#"{"amount":1,"wage":-1,"fee":null}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("must not be negative"), "{e}");
    }

    #[test]
    fn conversions() {
        assert_eq!(Toman::new(5000).try_to_rial().unwrap(), Rial::new(50_000));
        assert_eq!(
            Toman::new(i64::MAX).try_to_rial().unwrap_err(),
            MoneyError::Overflow { unit: "Rial" }
        );
        assert_eq!(Rial::new(50_000).try_to_toman().unwrap(), Toman::new(5000));
        assert_eq!(
            Rial::new(1005).try_to_toman().unwrap_err(),
            MoneyError::NotWholeToman { rial: 1005 }
        );
        assert_eq!(
            Rial::try_non_negative(-1).unwrap_err(),
            MoneyError::Negative {
                unit: "Rial",
                value: -1
            }
        );
        assert_eq!(Toman::try_non_negative(0).unwrap(), Toman::ZERO);
        assert_eq!(Rial::new(1).checked_add(Rial::new(2)), Some(Rial::new(3)));
        assert_eq!(Rial::new(i64::MAX).checked_add(Rial::new(1)), None);
        assert_eq!(Rial::new(1).checked_sub(Rial::new(2)), Some(Rial::new(-1)));
        assert_eq!(Toman::new(3).checked_mul(4), Some(Toman::new(12)));
        assert!(Rial::new(-1).is_negative());
        assert_eq!(i64::from(Rial::new(7)), 7);
    }

    #[test]
    fn rounding_table() {
        use Rounding::*;
        let cases: &[(i64, Rounding, i64)] = &[
            (15, Floor, 1),
            (-15, Floor, -2),
            (15, Ceil, 2),
            (-15, Ceil, -1),
            (19, TowardZero, 1),
            (-19, TowardZero, -1),
            (11, AwayFromZero, 2),
            (-11, AwayFromZero, -2),
            (15, HalfAwayFromZero, 2),
            (14, HalfAwayFromZero, 1),
            (-15, HalfAwayFromZero, -2),
            (15, HalfEven, 2),
            (25, HalfEven, 2),
            (26, HalfEven, 3),
            (-25, HalfEven, -2),
            (-35, HalfEven, -4),
            (20, HalfEven, 2),
            (i64::MIN, Floor, i64::MIN / 10 - 1),
            (i64::MAX, Ceil, i64::MAX / 10 + 1),
        ];
        for &(rial, mode, toman) in cases {
            assert_eq!(
                Rial::new(rial).to_toman_rounded(mode),
                Toman::new(toman),
                "{rial} {mode:?}"
            );
        }
    }

    proptest! {
        #![proptest_config(super::super::proptest_config())]

        #[test]
        fn toman_rial_toman(v in (i64::MIN / 10)..=(i64::MAX / 10)) {
            let rial = Toman::new(v).try_to_rial().unwrap();
            prop_assert_eq!(rial.try_to_toman().unwrap(), Toman::new(v));
            for mode in [Rounding::Floor, Rounding::Ceil, Rounding::HalfEven, Rounding::TowardZero] {
                prop_assert_eq!(rial.to_toman_rounded(mode), Toman::new(v));
            }
        }

        #[test]
        fn rounding_brackets_exact_value(v in any::<i64>()) {
            let r = Rial::new(v);
            let floor = r.to_toman_rounded(Rounding::Floor).get();
            let ceil = r.to_toman_rounded(Rounding::Ceil).get();
            prop_assert!(i128::from(floor) * 10 <= i128::from(v));
            prop_assert!(i128::from(ceil) * 10 >= i128::from(v));
            prop_assert!(ceil - floor <= 1);
            let near = r.to_toman_rounded(Rounding::HalfEven).get();
            prop_assert!(near == floor || near == ceil);
        }

        #[test]
        fn display_parse_round_trip(v in any::<i64>()) {
            prop_assert_eq!(Rial::new(v).to_string().parse::<Rial>().unwrap(), Rial::new(v));
            prop_assert_eq!(format!("{:#}", Rial::new(v)).parse::<Rial>().unwrap(), Rial::new(v));
            prop_assert_eq!(Toman::new(v).to_string().parse::<Toman>().unwrap(), Toman::new(v));
            prop_assert_eq!(RialString::new(v).to_string().parse::<RialString>().unwrap(), RialString::new(v));
        }

        #[test]
        fn serde_round_trip(v in any::<i64>(), zeros in 0usize..4) {
            let r = Rial::new(v);
            prop_assert_eq!(serde_json::from_str::<Rial>(&serde_json::to_string(&r).unwrap()).unwrap(), r);
            let s = RialString::new(v);
            prop_assert_eq!(serde_json::from_str::<RialString>(&serde_json::to_string(&s).unwrap()).unwrap(), s);
            let t = Toman::new(v);
            prop_assert_eq!(serde_json::from_str::<Toman>(&serde_json::to_string(&t).unwrap()).unwrap(), t);
            let decimal = format!("\"{v}.{}\"", "0".repeat(zeros.max(1)));
            prop_assert_eq!(serde_json::from_str::<Rial>(&decimal).unwrap(), r);
        }
    }
}
