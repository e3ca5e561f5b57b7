//! What the generated setters accept: [`IntoField`].
//!
//! Every setter of a generated request builder (path parameters) and body builder (fields of
//! a domain type, string fields, and the string types the specs constrain) takes
//! `impl IntoField<T>` for its field type `T`, so a caller passes what they hold:
//!
//! | field type `T` | accepts |
//! |---|---|
//! | a domain type `D` ([`Mobile`], [`Rial`], [`ApiId`], ...) | `D`, `&D`, `&str`, `String`, `&String` (parsed) |
//! | `Option<D>` | the same, plus `Option<D>` (`None` clears the field) |
//! | a domain type with a `From` conversion | also what it converts from: `i64` → [`LenientInt`], `bool` → [`LenientBool`], `u64` → [`ApiId`], [`Rial`] → [`RialString`], [`Toman`] → [`TomanString`], [`JalaliDate`] → [`JalaliCompactDate`] |
//! | `String` | `&str`, `String`, `&String`, and the identifiers [`ApiId`] and [`TrackId`] |
//! | `Option<String>` | `&str`, `String`, `&String`, `Option<String>` (so `None` needs no annotation) |
//!
//! A string that does not parse is not a panic and not a compile error: the setter records
//! the error, and `build()` / `send()` return it naming the field
//! (`mobile_number: mobile number must start with 09 (or +98 9)`); nothing is sent. The
//! domain types' parse errors never echo a full card number or national code.
//!
//! ```
//! use vandar_runtime::IntoField;
//! use vandar_runtime::domain::Mobile;
//!
//! let set: Option<Mobile> = "09123456789".into_field()?;
//! assert_eq!(set.map(|m| m.to_string()).as_deref(), Some("09123456789"));
//! let err = IntoField::<Option<Mobile>>::into_field("12").unwrap_err();
//! assert!(err.to_string().starts_with("mobile number must have 10 digits"));
//! # Ok::<(), vandar_runtime::FieldError>(())
//! ```

use std::fmt::Display;
use std::str::FromStr;

use crate::domain::{
    ApiDate, ApiDateTime, ApiId, CardHash, CardNumber, Iban, JalaliCompactDate, JalaliDate,
    JalaliDateTime, LenientBool, LenientInt, MaskedCardNumber, Mobile, NationalCode, Rial,
    RialString, Toman, TomanString, TrackId,
};

/// Why a value could not fill a field: the parse error of the field's type (the setter adds
/// the field's name). Never holds the rejected value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FieldError(String);

impl FieldError {
    /// An error with this text (which must not echo a secret value).
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }
}

/// A value a generated setter accepts for a field of type `T`; see the [module](crate::field) for
/// the table.
pub trait IntoField<T> {
    /// The field's value, or why this value cannot be one.
    ///
    /// # Errors
    /// [`FieldError`] when a string does not parse as the field's type.
    fn into_field(self) -> Result<T, FieldError>;
}

/// A field type that a setter may parse from a string: the runtime's domain types and the
/// string types generated from the specs (each with `FromStr`).
pub trait FieldText: Sized {
    /// Parses `text` as this type.
    ///
    /// # Errors
    /// [`FieldError`] saying what is wrong (never echoing a secret value).
    fn from_field_text(text: &str) -> Result<Self, FieldError>;
}

/// [`FieldText::from_field_text`] for a type whose `FromStr` error says what is wrong: the
/// generated crates implement [`FieldText`] with it for their constrained string types.
///
/// # Errors
/// The `FromStr` error's text.
pub fn parse_field_text<T>(text: &str) -> Result<T, FieldError>
where
    T: FromStr,
    T::Err: Display,
{
    text.parse().map_err(|e: T::Err| FieldError(e.to_string()))
}

macro_rules! field_text_from_str {
    ($($ty:ty),* $(,)?) => {$(
        impl FieldText for $ty {
            fn from_field_text(text: &str) -> Result<Self, FieldError> {
                parse_field_text(text)
            }
        }
    )*};
}

field_text_from_str!(
    ApiDate,
    ApiDateTime,
    ApiId,
    CardHash,
    CardNumber,
    Iban,
    JalaliCompactDate,
    JalaliDate,
    JalaliDateTime,
    LenientBool,
    LenientInt,
    MaskedCardNumber,
    Mobile,
    NationalCode,
    Rial,
    RialString,
    Toman,
    TomanString,
    TrackId,
);

impl FieldText for crate::ApiKey {
    fn from_field_text(text: &str) -> Result<Self, FieldError> {
        Ok(Self::from(text))
    }
}

impl FieldText for crate::OAuthToken {
    fn from_field_text(text: &str) -> Result<Self, FieldError> {
        Ok(Self::from(text))
    }
}

impl<T: FieldText> IntoField<T> for T {
    fn into_field(self) -> Result<T, FieldError> {
        Ok(self)
    }
}

impl<T: FieldText + Clone> IntoField<T> for &T {
    fn into_field(self) -> Result<T, FieldError> {
        Ok(self.clone())
    }
}

impl<T: FieldText> IntoField<Option<T>> for T {
    fn into_field(self) -> Result<Option<T>, FieldError> {
        Ok(Some(self))
    }
}

impl<T: FieldText + Clone> IntoField<Option<T>> for &T {
    fn into_field(self) -> Result<Option<T>, FieldError> {
        Ok(Some(self.clone()))
    }
}

impl<T: FieldText> IntoField<Option<T>> for Option<T> {
    fn into_field(self) -> Result<Option<T>, FieldError> {
        Ok(self)
    }
}

/// The string forms: `&str`, `String` and `&String` parse into any [`FieldText`] type and its
/// `Option`, and fill `String` and `Option<String>` fields as they are.
macro_rules! from_text {
    ($($text:ty),*) => {$(
        impl<T: FieldText> IntoField<T> for $text {
            fn into_field(self) -> Result<T, FieldError> {
                T::from_field_text(&self)
            }
        }

        impl<T: FieldText> IntoField<Option<T>> for $text {
            fn into_field(self) -> Result<Option<T>, FieldError> {
                T::from_field_text(&self).map(Some)
            }
        }

        impl IntoField<String> for $text {
            fn into_field(self) -> Result<String, FieldError> {
                Ok(self.to_string())
            }
        }

        impl IntoField<Option<String>> for $text {
            fn into_field(self) -> Result<Option<String>, FieldError> {
                Ok(Some(self.to_string()))
            }
        }
    )*};
}

from_text!(&str, String, &String);

impl IntoField<Option<String>> for Option<String> {
    fn into_field(self) -> Result<Option<String>, FieldError> {
        Ok(self)
    }
}

/// The conversions the domain types have (`From`): an `i64` fills a `LenientInt` field, a
/// `bool` a `LenientBool`, a `u64` an `ApiId`, a `Rial` a `RialString`, a `Toman` a
/// `TomanString`, a `JalaliDate` a `JalaliCompactDate` (and their `Option`s).
macro_rules! converts {
    ($($from:ty => $to:ty),* $(,)?) => {$(
        impl IntoField<$to> for $from {
            fn into_field(self) -> Result<$to, FieldError> {
                Ok(<$to>::from(self))
            }
        }

        impl IntoField<Option<$to>> for $from {
            fn into_field(self) -> Result<Option<$to>, FieldError> {
                Ok(Some(<$to>::from(self)))
            }
        }
    )*};
}

converts!(
    i64 => LenientInt,
    bool => LenientBool,
    u64 => ApiId,
    Rial => RialString,
    Toman => TomanString,
    JalaliDate => JalaliCompactDate,
);

/// Identifiers fill string fields (path parameters such as `transaction_id` or `track_id`) in
/// their wire form.
macro_rules! id_as_string {
    ($($ty:ty),*) => {$(
        impl IntoField<String> for $ty {
            fn into_field(self) -> Result<String, FieldError> {
                Ok(self.to_string())
            }
        }

        impl IntoField<String> for &$ty {
            fn into_field(self) -> Result<String, FieldError> {
                Ok(self.to_string())
            }
        }
    )*};
}

id_as_string!(ApiId, TrackId);

#[cfg(test)]
mod tests {
    use super::*;

    fn field<T>(v: impl IntoField<T>) -> Result<T, FieldError> {
        v.into_field()
    }

    #[test]
    fn domain_fields_take_the_type_its_option_and_strings() {
        let m: Mobile = "09123456789".parse().unwrap();
        assert_eq!(field::<Mobile>(m.clone()).unwrap(), m);
        assert_eq!(field::<Mobile>(&m).unwrap(), m);
        assert_eq!(field::<Option<Mobile>>(m.clone()).unwrap(), Some(m.clone()));
        assert_eq!(field::<Option<Mobile>>(&m).unwrap(), Some(m.clone()));
        assert_eq!(field::<Option<Mobile>>(None::<Mobile>).unwrap(), None);
        assert_eq!(
            field::<Option<Mobile>>("+98 912 345 6789").unwrap(),
            Some(m.clone())
        );
        let owned = String::from("09123456789");
        assert_eq!(field::<Mobile>(&owned).unwrap(), m);
        assert_eq!(field::<Option<Mobile>>(owned).unwrap(), Some(m));
        assert_eq!(field::<Rial>("1000").unwrap(), Rial::new(1000));
        assert_eq!(field::<ApiId>(7).unwrap(), ApiId::Int(7));
        assert_eq!(field::<Option<LenientInt>>(3).unwrap(), Some(LenientInt(3)));
        assert_eq!(
            field::<RialString>(Rial::new(5)).unwrap(),
            RialString::from(Rial::new(5))
        );
    }

    #[test]
    fn a_bad_string_says_why_without_echoing_a_secret() {
        let e = field::<Option<Mobile>>("0912").unwrap_err();
        assert_eq!(
            e.to_string(),
            "mobile number must have 10 digits after the leading 0 or +98 (09xxxxxxxxx), got 3"
        );
        let e = field::<CardNumber>("6037997400000008").unwrap_err();
        assert!(!e.to_string().contains("6037997400000008"), "{e}");
        let e = field::<NationalCode>("2993968417").unwrap_err();
        assert!(!e.to_string().contains("2993968417"), "{e}");
    }

    #[test]
    fn string_fields_take_strings_and_identifiers() {
        let s = String::from("my-shop");
        assert_eq!(field::<String>("my-shop").unwrap(), "my-shop");
        assert_eq!(field::<String>(&s).unwrap(), "my-shop");
        assert_eq!(field::<String>(s.clone()).unwrap(), "my-shop");
        assert_eq!(field::<String>(ApiId::Int(42)).unwrap(), "42");
        let track: TrackId = "order-1".parse().unwrap();
        assert_eq!(field::<String>(&track).unwrap(), "order-1");
        assert_eq!(field::<Option<String>>("x").unwrap().as_deref(), Some("x"));
        assert_eq!(field::<Option<String>>(None).unwrap(), None);
        assert_eq!(field::<Option<Mobile>>(None).unwrap(), None);
        assert_eq!(
            field::<Option<String>>(Some(s)).unwrap().as_deref(),
            Some("my-shop")
        );
    }
}
