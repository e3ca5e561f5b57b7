//! Iranian bank codes and names, for the pages (the mandate's bank, Sanbod's provider).
//!
//! The three-digit codes are the ones inside an IBAN (`IR..062..` is Ayandeh) and the ones the
//! specs and docs use: direct debit's `bank_code` (`062`, `015`; the pseudo-banks `101`, `103`,
//! `104` of `docs/reference/subscription.md`) and Sanbod's `provider_code` (`057`, `054`, `059`).

/// `(code, Persian name, English name)`.
const BANKS: &[(&str, &str, &str)] = &[
    (
        "010",
        "بانک مرکزی جمهوری اسلامی ایران",
        "Central Bank of Iran",
    ),
    ("011", "بانک صنعت و معدن", "Bank of Industry and Mine"),
    ("012", "بانک ملت", "Bank Mellat"),
    ("013", "بانک رفاه کارگران", "Refah Kargaran Bank"),
    ("014", "بانک مسکن", "Bank Maskan"),
    ("015", "بانک سپه", "Bank Sepah"),
    ("016", "بانک کشاورزی", "Bank Keshavarzi"),
    ("017", "بانک ملی ایران", "Bank Melli Iran"),
    ("018", "بانک تجارت", "Tejarat Bank"),
    ("019", "بانک صادرات ایران", "Bank Saderat Iran"),
    (
        "020",
        "بانک توسعه صادرات ایران",
        "Export Development Bank of Iran",
    ),
    ("021", "پست بانک ایران", "Post Bank of Iran"),
    ("022", "بانک توسعه تعاون", "Tose'e Ta'avon Bank"),
    ("051", "موسسه اعتباری توسعه", "Tose'e Credit Institution"),
    ("053", "بانک کارآفرین", "Karafarin Bank"),
    ("054", "بانک پارسیان", "Parsian Bank"),
    ("055", "بانک اقتصاد نوین", "EN Bank (Eghtesad Novin)"),
    ("056", "بانک سامان", "Saman Bank"),
    ("057", "بانک پاسارگاد", "Bank Pasargad"),
    ("058", "بانک سرمایه", "Sarmayeh Bank"),
    ("059", "بانک سینا", "Sina Bank"),
    ("060", "بانک قرض‌الحسنه مهر ایران", "Mehr Iran Bank"),
    ("061", "بانک شهر", "Shahr Bank"),
    ("062", "بانک آینده", "Ayandeh Bank"),
    ("064", "بانک گردشگری", "Gardeshgari Bank"),
    ("066", "بانک دی", "Dey Bank"),
    ("069", "بانک ایران زمین", "Iran Zamin Bank"),
    ("070", "بانک قرض‌الحسنه رسالت", "Resalat Bank"),
    ("073", "موسسه اعتباری کوثر", "Kosar Credit Institution"),
    ("075", "موسسه اعتباری ملل", "Melal Credit Institution"),
    ("078", "بانک خاورمیانه", "Middle East Bank"),
    ("080", "موسسه اعتباری نور", "Noor Credit Institution"),
    (
        "095",
        "بانک ایران و ونزوئلا",
        "Iran-Venezuela Bi-National Bank",
    ),
    ("101", "همراه کارت", "Hamrah Card"),
    (
        "103",
        "حساب دیجیتال بانک پاسارگاد",
        "Bank Pasargad digital account",
    ),
    ("104", "بلو بانک", "Blu Bank"),
];

/// The bank's name in Persian (`fa`) or English, or `None` for an unknown code.
pub(crate) fn name(code: &str, persian: bool) -> Option<&'static str> {
    BANKS
        .iter()
        .find(|(c, ..)| *c == code)
        .map(|(_, fa, en)| if persian { *fa } else { *en })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_the_specs_use_have_names() {
        assert_eq!(name("062", true), Some("بانک آینده"));
        assert_eq!(name("062", false), Some("Ayandeh Bank"));
        assert_eq!(name("015", true), Some("بانک سپه"));
        for code in ["057", "054", "059", "101", "103", "104"] {
            assert!(name(code, true).is_some(), "{code}");
        }
        assert_eq!(name("999", true), None);
    }

    #[test]
    fn codes_are_unique_three_digits() {
        for (i, (code, fa, en)) in BANKS.iter().enumerate() {
            assert!(code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()));
            assert!(!fa.is_empty() && !en.is_empty());
            assert!(BANKS[i + 1..].iter().all(|(c, ..)| c != code), "{code}");
        }
    }
}
