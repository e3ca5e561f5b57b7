//! Batch settlements: the documented `batch_id` and client-side checks of the per-item limits.

use std::fmt::Write as _;

use sha2::{Digest, Sha512};

use crate::{Error, types};

/// Smallest amount of one batch item: 50,000 Rial.
pub const BATCH_ITEM_MIN_RIAL: i64 = 50_000;
/// Largest amount of one batch item: 500,000,000 Rial.
pub const BATCH_ITEM_MAX_RIAL: i64 = 500_000_000;

/// The `batch_id` of a batch as the docs define it: the SHA-512 of PHP's
/// `json_encode($batches_settlement)`, in lower-case hex (128 characters).
///
/// The items are encoded exactly as the SDK sends them (same field order), then escaped the
/// way PHP's `json_encode` does by default (`/` as `\/`, every non-ASCII character as a
/// `\uXXXX` UTF-16 escape). The same items always give the same id, so a batch repeated after
/// a lost answer keeps its id and can be looked up with `list_batch_settlements`.
pub fn batch_id(items: &[types::BatchSettlementItem]) -> String {
    let json = serde_json::to_string(items).expect("batch items always serialize");
    let php = php_json_escape(&json);
    let digest = Sha512::digest(php.as_bytes());
    let mut hex = String::with_capacity(128);
    for byte in digest {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// PHP `json_encode` default escaping applied to serde_json's compact output: outside strings
/// there is neither `/` nor non-ASCII, so a character-level pass is exact.
fn php_json_escape(json: &str) -> String {
    let mut out = String::with_capacity(json.len() * 2);
    for c in json.chars() {
        match c {
            '/' => out.push_str("\\/"),
            c if c.is_ascii() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out
}

/// A batch ready for `store_batch_settlement`: checks that there is at least one item and
/// that every amount is within 50,000..=500,000,000 Rial, and fills in [`batch_id`]. Keep the
/// returned `batch_id`: it is how the batch is found after a lost answer.
pub fn batch_request(
    items: Vec<types::BatchSettlementItem>,
) -> Result<types::BatchSettlementRequest, Error> {
    if items.is_empty() {
        return Err(Error::InvalidRequest(
            "a batch settlement needs at least one item".into(),
        ));
    }
    for (i, item) in items.iter().enumerate() {
        let amount = i64::from(item.amount);
        if !(BATCH_ITEM_MIN_RIAL..=BATCH_ITEM_MAX_RIAL).contains(&amount) {
            return Err(Error::InvalidRequest(format!(
                "batches_settlement[{i}].amount is {amount} Rial; each item must be between {BATCH_ITEM_MIN_RIAL} and {BATCH_ITEM_MAX_RIAL} Rial"
            )));
        }
    }
    let id = batch_id(&items);
    types::BatchSettlementRequest::builder()
        .batch_id(id)
        .batches_settlement(items)
        .try_into()
        .map_err(|e: types::error::ConversionError| Error::InvalidRequest(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use vandar_runtime::domain::{Iban, Rial};

    fn item(amount: i64, track: &str) -> types::BatchSettlementItem {
        types::BatchSettlementItem::builder()
            .amount(Rial::new(amount))
            .iban(Iban::parse("IR150620000000203214109001").unwrap())
            .track_id(track)
            .description(Some("توضیحات/1".parse().unwrap()))
            .try_into()
            .unwrap()
    }

    #[test]
    fn php_escaping() {
        assert_eq!(php_json_escape(r#"{"a":"x/y"}"#), r#"{"a":"x\/y"}"#);
        assert_eq!(php_json_escape("\"ت\""), "\"\\u062a\"");
        assert_eq!(php_json_escape("\"😀\""), "\"\\ud83d\\ude00\"");
    }

    #[test]
    fn batch_id_is_stable_sha512_hex() {
        let a = batch_id(&[item(50_000, "t1")]);
        assert_eq!(a.len(), 128);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_eq!(a, batch_id(&[item(50_000, "t1")]));
        assert_ne!(a, batch_id(&[item(50_000, "t2")]));
        // the hash covers PHP's encoding, not serde_json's
        let json = serde_json::to_string(&[item(50_000, "t1")]).unwrap();
        assert!(json.contains("توضیحات/1"));
        let php = php_json_escape(&json);
        assert!(php.contains(r"\u062a") && php.contains(r"\/1"), "{php}");
        let expected: String = Sha512::digest(php.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(a, expected);
    }

    #[test]
    fn limits_are_checked() {
        assert!(batch_request(vec![]).is_err());
        let low = batch_request(vec![item(49_999, "t")]).unwrap_err();
        assert!(
            low.to_string().contains("batches_settlement[0].amount"),
            "{low}"
        );
        assert!(batch_request(vec![item(500_000_001, "t")]).is_err());
        let ok = batch_request(vec![item(50_000, "a"), item(500_000_000, "b")]).unwrap();
        assert_eq!(ok.batch_id.len(), 128);
        assert_eq!(ok.batches_settlement.len(), 2);
    }
}
