//! Domain types: money, identifiers, IBAN, card, mobile, national code, Jalali dates.
//!
//! (Written under issue 3.)
