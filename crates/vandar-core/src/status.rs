//! The documented states of settlements and batch items, as open enums (values the docs do not
//! list are kept in `Unknown`), read from the answers' `status` strings.

use crate::types;

vandar_runtime::open_enum! {
    /// State of a settlement (`status` of [`types::StoredSettlement`] and
    /// [`types::ListedSettlement`], and of the settlement notification): `INIT`, `PENDING`,
    /// `DONE`, `FAILED`, `CANCELED` as documented.
    pub enum SettlementStatus {
        /// `INIT`: registered, not yet sent to the bank.
        Init = "INIT",
        /// `PENDING`: sent, waiting for the bank (cancellable until the bank takes it).
        Pending = "PENDING",
        /// `DONE`: paid to the IBAN.
        Done = "DONE",
        /// `FAILED`: not paid; the money is back in the wallet.
        Failed = "FAILED",
        /// `CANCELED`: cancelled; the money is back in the wallet.
        Canceled = "CANCELED" | "CANCELLED",
    }
}

impl SettlementStatus {
    /// Whether the settlement will not change any more on its own (`DONE`, `FAILED`,
    /// `CANCELED`). `INIT`, `PENDING` and unknown values are not final.
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Done | Self::Failed | Self::Canceled)
    }
}

vandar_runtime::open_enum! {
    /// State of one item of a batch settlement (`status` of [`types::BatchItem`]): `INIT`,
    /// `SUBMITTED`, `FAILED` as documented (docs/reference/settlement.md).
    pub enum BatchItemStatus {
        /// `INIT`: being sent to the bank.
        Init = "INIT",
        /// `SUBMITTED`: sent to the bank.
        Submitted = "SUBMITTED",
        /// `FAILED`: not paid; the money is back in the wallet.
        Failed = "FAILED",
    }
}

impl types::StoredSettlement {
    /// The settlement's state, if the answer had one.
    pub fn settlement_status(&self) -> Option<SettlementStatus> {
        self.status.as_deref().map(SettlementStatus::parse)
    }
}

impl types::ListedSettlement {
    /// The settlement's state, if the answer had one.
    pub fn settlement_status(&self) -> Option<SettlementStatus> {
        self.status.as_deref().map(SettlementStatus::parse)
    }
}

impl types::BatchItem {
    /// The item's state, if the answer had one.
    pub fn item_status(&self) -> Option<BatchItemStatus> {
        self.status.as_deref().map(BatchItemStatus::parse)
    }
}

impl crate::SettlementNotification {
    /// The notification's state (`status`, always present).
    pub fn settlement_status(&self) -> SettlementStatus {
        SettlementStatus::parse(&self.status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_parse_and_keep_unknown_values() {
        assert_eq!(SettlementStatus::parse("DONE"), SettlementStatus::Done);
        assert_eq!(
            SettlementStatus::parse("CANCELLED"),
            SettlementStatus::Canceled
        );
        assert!(SettlementStatus::Done.is_final() && !SettlementStatus::Pending.is_final());
        let new = SettlementStatus::parse("ON_HOLD");
        assert_eq!(new.as_str(), "ON_HOLD");
        assert!(!new.is_known() && !new.is_final());
        let s: types::ListedSettlement =
            serde_json::from_value(serde_json::json!({"id": "x", "status": "FAILED"})).unwrap();
        assert_eq!(s.settlement_status(), Some(SettlementStatus::Failed));
        assert_eq!(
            BatchItemStatus::parse("SUBMITTED"),
            BatchItemStatus::Submitted
        );
    }
}
