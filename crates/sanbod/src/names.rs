//! The words the API names, as enums that keep values the docs do not list
//! (`Unknown(String)`): provider codes, scopes, PAYA and SATNA statuses.

vandar_runtime::open_enum! {
    /// A bank's provider code (`provider_code`, `provider`). The docs name the three sandbox
    /// banks; any other code (`"999"` in the client-credentials example, other banks in
    /// production) is kept as [`ProviderCode::Unknown`].
    pub enum ProviderCode {
        /// `057`: Bank Pasargad.
        Pasargad = "057",
        /// `054`: Parsian Bank.
        Parsian = "054",
        /// `059`: Sina Bank.
        Sina = "059",
    }
}

vandar_runtime::open_enum! {
    /// A service scope of a token. Authorization-code (account) scopes and client-credentials
    /// (conversion) scopes; [`Scope::is_account_scope`] tells them apart. The docs' CC table
    /// capitalises the names (`Cardtoiban`); they are read case-sensitively as the example
    /// spells them (lower case), and other spellings are kept as [`Scope::Unknown`].
    pub enum Scope {
        /// `statement` (AC): account statement.
        Statement = "statement",
        /// `normaltransfer` (AC): transfer within the bank.
        NormalTransfer = "normaltransfer",
        /// `achtransfer` (AC): PAYA transfer.
        AchTransfer = "achtransfer",
        /// `achreport` (AC): PAYA report.
        AchReport = "achreport",
        /// `rtgstransfer` (AC): SATNA transfer.
        RtgsTransfer = "rtgstransfer",
        /// `rtgsreport` (AC): SATNA report.
        RtgsReport = "rtgsreport",
        /// `ibaninquiry` (CC): IBAN inquiry ([`iban_inquiry`](crate::Client::iban_inquiry)).
        IbanInquiry = "ibaninquiry",
        /// `cardtoiban` (CC): card number to IBAN.
        CardToIban = "cardtoiban",
        /// `cardtodeposit` (CC): card number to account number.
        CardToDeposit = "cardtodeposit",
        /// `deposittoiban` (CC): account number to IBAN.
        DepositToIban = "deposittoiban",
        /// `ibantodeposit` (CC): IBAN to account number.
        IbanToDeposit = "ibantodeposit",
        /// `mobilenationalid` (CC): mobile number and national id matching (requested by
        /// independent clients; not in the Sanbod docs).
        MobileNationalId = "mobilenationalid",
        /// `cardnationalid` (CC): card and national id matching (requested by an independent
        /// client; not in the Sanbod docs).
        CardNationalId = "cardnationalid",
        /// `personalinquiry` (CC): civil-registry record (requested by independent clients).
        PersonalInquiry = "personalinquiry",
        /// `personalimageinquiry` (CC): registry photo inquiry (requested by an independent
        /// client).
        PersonalImageInquiry = "personalimageinquiry",
        /// `personalimage` (CC): registry photos (requested by an independent client).
        PersonalImage = "personalimage",
        /// `personal` (CC): requested by an independent client, meaning undocumented.
        Personal = "personal",
        /// `citizenshipverification` (CC): requested by an independent client, meaning
        /// undocumented.
        CitizenshipVerification = "citizenshipverification",
        /// `foreignersiddenty` (CC, spelt so): requested by an independent client, meaning
        /// undocumented.
        ForeignersIdentity = "foreignersiddenty",
        /// `inquery` (CC, spelt so): bills inquiry (requested by an independent client).
        Inquery = "inquery",
    }
}

impl Scope {
    /// Whether the scope is one of the account (authorization-code) services.
    pub fn is_account_scope(&self) -> bool {
        matches!(
            self,
            Scope::Statement
                | Scope::NormalTransfer
                | Scope::AchTransfer
                | Scope::AchReport
                | Scope::RtgsTransfer
                | Scope::RtgsReport
        )
    }
}

vandar_runtime::open_enum! {
    /// Status of a PAYA transfer (`achreport` `status`, `achtransfer` `transferStatus`).
    pub enum PayaStatus {
        /// `WAIT_FOR_CUSTOMER_ACCEPT`: waiting for the customer's approval.
        WaitForCustomerAccept = "WAIT_FOR_CUSTOMER_ACCEPT",
        /// `WAIT_FOR_BRANCH_ACCEPT`: waiting for the branch's approval.
        WaitForBranchAccept = "WAIT_FOR_BRANCH_ACCEPT",
        /// `BRANCH_REJECT`: rejected by the branch.
        BranchReject = "BRANCH_REJECT",
        /// `READY_TO_TRANSFER`: ready to be sent in the next PAYA cycle.
        ReadyToTransfer = "READY_TO_TRANSFER",
        /// `SUSPEND`: suspended.
        Suspend = "SUSPEND",
        /// `CANCEL`: cancelled.
        Cancel = "CANCEL",
        /// `PROCESSED`: done.
        Processed = "PROCESSED",
    }
}

impl PayaStatus {
    /// Whether the transfer will not change any more (`BRANCH_REJECT`, `CANCEL`,
    /// `PROCESSED`). Unknown values are not final.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            PayaStatus::BranchReject | PayaStatus::Cancel | PayaStatus::Processed
        )
    }
}

vandar_runtime::open_enum! {
    /// Status of a SATNA transfer (`rtgsreport` `status`). The docs spell "settled"
    /// `TASFIYEH_SHODEH` in the table and `TASFIYEH_SHODE` in the example; both read as
    /// [`SatnaStatus::TasfiyehShode`].
    pub enum SatnaStatus {
        /// `SABT_SHODE`: registered.
        SabtShode = "SABT_SHODE",
        /// `TAEED_SHOBE_SHODE`: approved by the branch.
        TaeedShobeShode = "TAEED_SHOBE_SHODE",
        /// `ADAM_TAEED_SHODE`: not approved by the branch.
        AdamTaeedShode = "ADAM_TAEED_SHODE",
        /// `HAZF_SHODE`: deleted.
        HazfShode = "HAZF_SHODE",
        /// `TAEED_SHOBE_SATNA`: approved by the SATNA branch.
        TaeedShobeSatna = "TAEED_SHOBE_SATNA",
        /// `ADAM_TAEED_SHOBE_SATNA`: not approved by the SATNA branch.
        AdamTaeedShobeSatna = "ADAM_TAEED_SHOBE_SATNA",
        /// `ERSAL_SHODE`: sent.
        ErsalShode = "ERSAL_SHODE",
        /// `TASFIYEH_SHODE` (also `TASFIYEH_SHODEH`): settled.
        TasfiyehShode = "TASFIYEH_SHODE" | "TASFIYEH_SHODEH",
        /// `TASFIYEH_NASHODE`: not settled.
        TasfiyehNashode = "TASFIYEH_NASHODE",
    }
}

impl SatnaStatus {
    /// Whether the transfer will not change any more (rejected, deleted, settled, not
    /// settled). Unknown values are not final.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            SatnaStatus::AdamTaeedShode
                | SatnaStatus::HazfShode
                | SatnaStatus::AdamTaeedShobeSatna
                | SatnaStatus::TasfiyehShode
                | SatnaStatus::TasfiyehNashode
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_values() {
        assert_eq!(ProviderCode::from("057"), ProviderCode::Pasargad);
        assert_eq!(
            ProviderCode::from("999"),
            ProviderCode::Unknown("999".into())
        );
        assert_eq!(ProviderCode::Unknown("999".into()).as_str(), "999");
        assert_eq!(String::from(ProviderCode::Sina), "059");
        assert_eq!(Scope::parse("cardtoiban"), Scope::CardToIban);
        assert!(!Scope::parse("Cardtoiban").is_known());
        assert!(Scope::Statement.is_account_scope() && !Scope::CardToIban.is_account_scope());
        assert_eq!(Scope::ALL.len(), 20);
        assert_eq!(PayaStatus::parse("PROCESSED"), PayaStatus::Processed);
        assert!(PayaStatus::Processed.is_final() && !PayaStatus::ReadyToTransfer.is_final());
        assert_eq!(
            SatnaStatus::parse("TASFIYEH_SHODEH"),
            SatnaStatus::TasfiyehShode
        );
        assert_eq!(SatnaStatus::TasfiyehShode.as_str(), "TASFIYEH_SHODE");
        assert_eq!(
            SatnaStatus::parse("NEW_STATE"),
            SatnaStatus::Unknown("NEW_STATE".into())
        );
        assert_eq!(
            serde_json::to_value(Scope::IbanToDeposit).unwrap(),
            "ibantodeposit"
        );
        let p: PayaStatus = serde_json::from_value(serde_json::json!("SUSPEND")).unwrap();
        assert_eq!(p, PayaStatus::Suspend);
        for s in SatnaStatus::ALL {
            assert_eq!(&SatnaStatus::parse(s.as_str()), s);
        }
    }
}
