//! The settlement callback: what Vandar posts to a settlement's `notify_url`.

use vandar_runtime::domain::{ApiDate, ApiId, Rial};

/// The final state of a settlement as Vandar posts it to the `notify_url` given to
/// `store_settlement` (VD settlement/refund pages: sent as form parameters, `amount` in Rial).
///
/// **Not authenticated.** No signature or shared secret is documented, so anyone who knows the
/// URL can post one. Treat it as a hint that something changed and confirm with
/// [`Client::confirm_settlement`](crate::Client::confirm_settlement) (or `get_settlement`)
/// before acting on it.
///
/// ```
/// use vandar_core::SettlementNotification;
/// let n = SettlementNotification::parse(
///     "id=865e9d07-2c96-41ef-8f61-30de27fb9954&transaction_id=164258101221\
///      &amount=2500000&status=DONE&settlement_date=2022-01-19\
///      &settlement_date_jalali=1400%2F10%2F29&revised_transaction_id=&ref_code=140010290622047785",
/// )?;
/// assert!(n.is_done());
/// assert_eq!(n.amount.map(i64::from), Some(2_500_000)); // Rial
/// assert_eq!(n.revised_transaction_id, None); // "" means none
/// # Ok::<(), vandar_core::NotificationError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SettlementNotification {
    /// Settlement id (UUID); what [`Client::confirm_settlement`](crate::Client::confirm_settlement)
    /// looks up.
    pub id: Option<String>,
    /// Id of the destination IBAN.
    pub iban_id: Option<String>,
    /// Vandar transaction id of the settlement (the one `cancel_settlement` takes).
    pub transaction_id: Option<ApiId>,
    /// Amount in **Rial**.
    pub amount: Option<Rial>,
    /// Deposit id sent with the settlement.
    pub payment_number: Option<String>,
    /// Final state as sent (`DONE`, `FAILED`, `CANCELED`, ...).
    pub status: String,
    /// Settlement date (Gregorian).
    pub settlement_date: Option<ApiDate>,
    /// Settlement date (Jalali).
    pub settlement_date_jalali: Option<ApiDate>,
    /// Corrective transaction of a cancelled settlement (`None` when sent empty).
    pub revised_transaction_id: Option<String>,
    /// Bank reference (RRN) of a successful settlement.
    pub ref_code: Option<String>,
}

/// A callback body that cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotificationError {
    /// `status` is missing or empty.
    #[error("settlement notification has no `status`")]
    MissingStatus,
    /// Neither `id` nor `transaction_id` is present: nothing identifies the settlement.
    #[error("settlement notification has neither `id` nor `transaction_id`")]
    MissingId,
    /// A field is present but malformed (the value itself is not echoed).
    #[error("settlement notification field `{0}` is malformed")]
    Malformed(&'static str),
    /// The body looked like JSON but is not a JSON object.
    #[error("settlement notification body is not a form or a JSON object")]
    NotAnObject,
}

impl SettlementNotification {
    /// Read a notification from the request body: form-encoded (`id=..&status=DONE&..`, as
    /// documented) or, leniently, a flat JSON object (the docs draw the payload as one).
    pub fn parse(body: &str) -> Result<Self, NotificationError> {
        let text = body.trim();
        let pairs: Vec<(String, String)> = if text.starts_with('{') || text.starts_with('[') {
            let value: serde_json::Value =
                serde_json::from_str(text).map_err(|_| NotificationError::NotAnObject)?;
            let map = value.as_object().ok_or(NotificationError::NotAnObject)?;
            map.iter()
                .map(|(k, v)| {
                    let v = match v {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    (k.clone(), v)
                })
                .collect()
        } else {
            url::form_urlencoded::parse(text.trim_start_matches('?').as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        };
        Self::from_pairs(pairs)
    }

    /// Build from already-decoded form fields (e.g. a web framework's form extractor).
    pub fn from_pairs<K, V>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self, NotificationError>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut n = SettlementNotification {
            id: None,
            iban_id: None,
            transaction_id: None,
            amount: None,
            payment_number: None,
            status: String::new(),
            settlement_date: None,
            settlement_date_jalali: None,
            revised_transaction_id: None,
            ref_code: None,
        };
        for (k, v) in pairs {
            let v = v.as_ref().trim();
            if v.is_empty() {
                continue;
            }
            match k.as_ref() {
                "id" => n.id = Some(v.to_string()),
                "iban_id" => n.iban_id = Some(v.to_string()),
                "transaction_id" => {
                    n.transaction_id = Some(
                        v.parse()
                            .map_err(|_| NotificationError::Malformed("transaction_id"))?,
                    )
                }
                "amount" => {
                    n.amount = Some(
                        v.parse()
                            .map_err(|_| NotificationError::Malformed("amount"))?,
                    )
                }
                "payment_number" => n.payment_number = Some(v.to_string()),
                "status" => n.status = v.to_string(),
                "settlement_date" => {
                    n.settlement_date = Some(
                        ApiDate::parse(v)
                            .map_err(|_| NotificationError::Malformed("settlement_date"))?,
                    )
                }
                "settlement_date_jalali" => {
                    n.settlement_date_jalali = Some(
                        ApiDate::parse(v)
                            .map_err(|_| NotificationError::Malformed("settlement_date_jalali"))?,
                    )
                }
                "revised_transaction_id" => n.revised_transaction_id = Some(v.to_string()),
                "ref_code" => n.ref_code = Some(v.to_string()),
                _ => {}
            }
        }
        if n.status.is_empty() {
            return Err(NotificationError::MissingStatus);
        }
        if n.id.is_none() && n.transaction_id.is_none() {
            return Err(NotificationError::MissingId);
        }
        Ok(n)
    }

    /// Whether the callback reports success (`status` `DONE`, case-insensitive). Confirm with
    /// [`Client::confirm_settlement`](crate::Client::confirm_settlement) before relying on it.
    pub fn is_done(&self) -> bool {
        self.status.eq_ignore_ascii_case("DONE")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_payload_as_json() {
        // VD refund/settlement pages draw the payload as JSON without commas; with commas:
        let n = SettlementNotification::parse(
            r#"{"id":"865e9d07-2c96-41ef-8f61-30de27fb9954","iban_id":"72a8aab1-04c9-417e-9971-2f7bfe121b53",
                "transaction_id":"164258101221","amount":"2500000","payment_number":"123456","status":"DONE",
                "settlement_date":"2022-01-19","settlement_date_jalali":"1400/10/29",
                "revised_transaction_id":"","ref_code":"140010290622047785"}"#,
        )
        .unwrap();
        assert_eq!(
            n.transaction_id.as_ref().unwrap().as_u64(),
            Some(164_258_101_221)
        );
        assert_eq!(
            n.settlement_date_jalali.as_ref().unwrap().to_string(),
            "1400/10/29"
        );
        assert!(n.is_done());
    }

    #[test]
    fn errors() {
        assert_eq!(
            SettlementNotification::parse("id=x"),
            Err(NotificationError::MissingStatus)
        );
        assert_eq!(
            SettlementNotification::parse("status=DONE"),
            Err(NotificationError::MissingId)
        );
        assert_eq!(
            SettlementNotification::parse("id=x&status=DONE&amount=12.5"),
            Err(NotificationError::Malformed("amount"))
        );
        assert_eq!(
            SettlementNotification::parse("[1]"),
            Err(NotificationError::NotAnObject)
        );
        let failed = SettlementNotification::parse("transaction_id=7&status=FAILED").unwrap();
        assert!(!failed.is_done());
    }
}
