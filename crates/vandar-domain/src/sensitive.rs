//! Secrets met while a value is serialized.
//!
//! The types whose value must never reach a log ([`CardNumber`](crate::CardNumber),
//! [`NationalCode`](crate::NationalCode), [`Iban`](crate::Iban), and the SDK's API keys and
//! OAuth tokens) note their value here while they are serialized. The SDK serializes a request
//! body inside [`collect_serialized`] when it reports an error, so an answer that echoes one of
//! those values is scrubbed by *type*, whatever the field that carried it is called (an OAuth
//! `code`, a `pan`, a free-form key).
//!
//! Outside [`collect_serialized`], noting a value costs one thread-local read.

use std::cell::RefCell;

thread_local! {
    /// The values noted on this thread since the innermost [`collect_serialized`] began
    /// (`None`: nobody is collecting).
    static NOTED: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

/// Runs `f` and returns, with its result, every value noted with [`note_serialized`] on this
/// thread while it ran. Nested calls each get their own values.
pub fn collect_serialized<R>(f: impl FnOnce() -> R) -> (R, Vec<String>) {
    /// Puts the outer collection back, also when `f` panics.
    struct Restore(Option<Option<Vec<String>>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(outer) = self.0.take() {
                NOTED.with(|n| *n.borrow_mut() = outer);
            }
        }
    }
    let outer = NOTED.with(|n| n.borrow_mut().replace(Vec::new()));
    let mut restore = Restore(Some(outer));
    let out = f();
    let noted = NOTED.with(|n| n.borrow_mut().take()).unwrap_or_default();
    if let Some(outer) = restore.0.take() {
        NOTED.with(|n| *n.borrow_mut() = outer);
    }
    (out, noted)
}

/// Notes a secret value being serialized (called by the `Serialize` impl of a secret type).
pub fn note_serialized(value: &str) {
    NOTED.with(|n| {
        if let Some(noted) = n.borrow_mut().as_mut() {
            noted.push(value.to_owned());
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CardNumber, Iban, Mobile, NationalCode};

    #[derive(serde::Serialize)]
    struct Body {
        whatever: CardNumber,
        nested: Vec<NationalCode>,
        account: Iban,
        phone: Mobile,
    }

    #[test]
    fn secret_types_are_noted_by_type_not_by_name() {
        let body = Body {
            whatever: "6037997599999993".parse().unwrap(),
            nested: vec!["0499370899".parse().unwrap()],
            account: "IR062960000000100324200001".parse().unwrap(),
            phone: "09123456789".parse().unwrap(),
        };
        let (json, noted) = collect_serialized(|| serde_json::to_string(&body).unwrap());
        assert!(
            json.contains("6037997599999993"),
            "the wire form is unchanged"
        );
        assert_eq!(
            noted,
            [
                "6037997599999993",
                "0499370899",
                "IR062960000000100324200001"
            ]
        );
        // Not collecting: nothing is kept.
        let _ = serde_json::to_string(&body).unwrap();
        let ((), noted) = collect_serialized(|| ());
        assert!(noted.is_empty());
    }

    #[test]
    fn nested_collections_are_separate_and_restored_after_a_panic() {
        let card: CardNumber = "6037997599999993".parse().unwrap();
        let (inner, outer) = collect_serialized(|| {
            let ((), inner) = collect_serialized(|| {
                let _ = serde_json::to_string(&card);
            });
            let code: NationalCode = "0499370899".parse().unwrap();
            let _ = serde_json::to_string(&code);
            inner
        });
        assert_eq!(inner, ["6037997599999993"]);
        assert_eq!(outer, ["0499370899"]);
        let caught = std::panic::catch_unwind(|| {
            collect_serialized(|| -> () { panic!("inside") });
        });
        assert!(caught.is_err());
        let _ = serde_json::to_string(&card);
        let ((), after) = collect_serialized(|| ());
        assert!(after.is_empty(), "no collection left behind by the panic");
    }
}
