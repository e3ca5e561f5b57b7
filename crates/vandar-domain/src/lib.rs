//! Domain types of the Vandar and Sanbod APIs: money, identifiers, IBAN, card, mobile,
//! national code, Jalali dates, track ids.
//!
//! (Written under issue 3; a crate of its own since issue 22.)
//!
//! This crate has no HTTP dependency (no reqwest, hyper, http or tokio): a project that only
//! needs the types, such as a web backend validating an IBAN, a card number or a Jalali date
//! from a form, can depend on `vandar-domain` alone. The SDK re-exports it unchanged as
//! `vandar_runtime::domain` and `vandar::domain`.
//!
//! The Vandar API is loose about types: amounts arrive as `1000`, `"1000"` or `"1000.00"`,
//! identifiers as integers or UUID strings, `status` as `1` or `"1"`, and dates in half a
//! dozen Jalali and Gregorian spellings. The types in this crate absorb every observed
//! shape on input and emit one well-defined shape on output, so the generated API types can
//! embed them and user code never sees the mess.
//!
//! | Module | Types |
//! |---|---|
//! | [`money`] | [`Rial`], [`Toman`], [`RialString`], [`TomanString`], [`Rounding`] |
//! | [`id`] | [`ApiId`], [`LenientInt`], [`LenientBool`] |
//! | [`iban`] | [`Iban`] |
//! | [`card`] | [`CardNumber`], [`MaskedCardNumber`], [`CardHash`] |
//! | [`mobile`] | [`Mobile`] |
//! | [`national_code`] | [`NationalCode`] |
//! | [`jalali`] | [`JalaliDate`], [`JalaliDateTime`], [`JalaliCompactDate`] |
//! | [`api_time`] | [`ApiDate`], [`ApiDateTime`], [`DateFormat`], [`DateTimeFormat`] |
//! | [`one_or_many`] | [`OneOrMany`] |
//! | [`track_id`] | [`TrackId`] |
//!
//! Every type implements `Serialize`, `Deserialize`, `Display`, `FromStr` and
//! `schemars::JsonSchema`. Validated types ([`Iban`], [`CardNumber`], [`Mobile`],
//! [`NationalCode`]) reject bad input with an error that says what is wrong without echoing a
//! full card number or national code.
//!
//! Digits: every parser accepts Persian (`۰`–`۹`) and Arabic-Indic (`٠`–`٩`) digits as well as
//! ASCII digits, and normalises to ASCII.
//!
//! ```
//! use vandar_domain::{Iban, JalaliDate, Rial};
//! let iban: Iban = "IR06 2960 0000 0010 0324 2000 01".parse()?;
//! assert_eq!(iban.as_str(), "IR062960000000100324200001");
//! let date: JalaliDate = "۱۴۰۳/۰۱/۰۱".parse()?;
//! assert_eq!(date.to_string(), "1403/01/01");
//! let amount: Rial = serde_json::from_str("\"10000.00\"")?;
//! assert_eq!(amount.try_to_toman()?.get(), 1000);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod api_time;
pub mod card;
pub mod iban;
pub mod id;
pub mod jalali;
mod macros;
pub mod mobile;
pub mod money;
pub mod national_code;
pub mod one_or_many;
pub mod sensitive;
mod text;
pub mod track_id;

pub use api_time::{ApiDate, ApiDateTime, DateFormat, DateTimeFormat};
pub use card::{CardError, CardHash, CardNumber, MaskedCardNumber};
pub use iban::{Iban, IbanError};
pub use id::{ApiId, IdError, LenientBool, LenientInt};
pub use jalali::{DateError, JalaliCompactDate, JalaliDate, JalaliDateTime};
pub use mobile::{Mobile, MobileError};
pub use money::{MoneyError, Rial, RialString, Rounding, Toman, TomanString};
pub use national_code::{NationalCode, NationalCodeError};
pub use one_or_many::OneOrMany;
pub use track_id::{TrackId, TrackIdError};

/// Any error produced while parsing or converting a domain value.
///
/// Each module has its own error type; this enum wraps them for callers that want one type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DomainError {
    /// A money amount was malformed or a conversion was not exact.
    #[error(transparent)]
    Money(#[from] MoneyError),
    /// An identifier or lenient integer was malformed.
    #[error(transparent)]
    Id(#[from] IdError),
    /// An IBAN was malformed.
    #[error(transparent)]
    Iban(#[from] IbanError),
    /// A card number, masked card number or card hash was malformed.
    #[error(transparent)]
    Card(#[from] CardError),
    /// A mobile number was malformed.
    #[error(transparent)]
    Mobile(#[from] MobileError),
    /// A national code was malformed.
    #[error(transparent)]
    NationalCode(#[from] NationalCodeError),
    /// A date or date-time was malformed or out of range.
    #[error(transparent)]
    Date(#[from] DateError),
}

/// Implements `schemars::JsonSchema` for a domain type.
///
/// `$de` is the schema describing what deserialisation accepts, `$ser` what serialisation
/// emits (schemars 1.x asks for one or the other through `SchemaGenerator::contract`).
macro_rules! json_schema_impl {
    ($ty:ty, $name:literal, de: $de:tt, ser: $ser:tt) => {
        impl ::schemars::JsonSchema for $ty {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                ::std::borrow::Cow::Borrowed($name)
            }

            fn schema_id() -> ::std::borrow::Cow<'static, str> {
                ::std::borrow::Cow::Borrowed(concat!("vandar_domain::", $name))
            }

            fn json_schema(generator: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {
                if generator.contract().is_serialize() {
                    ::schemars::json_schema!($ser)
                } else {
                    ::schemars::json_schema!($de)
                }
            }
        }
    };
    ($ty:ty, $name:literal, $both:tt) => {
        $crate::json_schema_impl!($ty, $name, de: $both, ser: $both);
    };
}
pub(crate) use json_schema_impl;

/// Proptest settings for the domain tests: default case count, and no failure-persistence
/// files written into the source tree.
#[cfg(test)]
pub(crate) fn proptest_config() -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_error_wraps_module_errors() {
        let err: DomainError = "IR12".parse::<Iban>().unwrap_err().into();
        assert!(matches!(err, DomainError::Iban(IbanError::Length { .. })));
        assert!(err.to_string().contains("26"));
    }

    #[test]
    fn json_schema_contract_differs_for_money() {
        use schemars::generate::{Contract, SchemaSettings};
        let de = SchemaSettings::default()
            .with(|s| s.contract = Contract::Deserialize)
            .into_generator()
            .into_root_schema_for::<Rial>();
        let ser = SchemaSettings::default()
            .with(|s| s.contract = Contract::Serialize)
            .into_generator()
            .into_root_schema_for::<Rial>();
        assert!(de.get("anyOf").is_some(), "{de:?}");
        assert_eq!(
            ser.get("type").and_then(|t| t.as_str()),
            Some("integer"),
            "{ser:?}"
        );
    }
}
