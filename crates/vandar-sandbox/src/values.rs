//! Values the API writes: random tokens, card hashes and masked cards, digits in three scripts.

use sha2::{Digest, Sha256};

/// The card the pay page uses unless the buyer types another one.
pub const DEFAULT_CARD: &str = "6037997599999993";

/// The value of an ASCII, Persian (`۰`–`۹`) or Arabic-Indic (`٠`–`٩`) digit.
pub fn digit_value(c: char) -> Option<u32> {
    match c {
        '0'..='9' => c.to_digit(10),
        '\u{06F0}'..='\u{06F9}' => Some(c as u32 - 0x06F0),
        '\u{0660}'..='\u{0669}' => Some(c as u32 - 0x0660),
        _ => None,
    }
}

/// A random alphanumeric string.
pub fn random_token(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in uuid::Uuid::new_v4().as_bytes() {
            if out.len() < len {
                out.push(ALPHABET[*b as usize % ALPHABET.len()] as char);
            }
        }
    }
    out
}

/// Upper-case hex SHA-256 of a card number (the `CID`/`cid` card hash).
pub fn card_hash(card: &str) -> String {
    let digest = Sha256::digest(card.as_bytes());
    digest.iter().map(|b| format!("{b:02X}")).collect()
}

/// `603799******9993`.
pub fn mask_card(card: &str) -> String {
    if card.len() < 10 {
        return card.to_owned();
    }
    format!("{}******{}", &card[..6], &card[card.len() - 4..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_in_three_scripts() {
        assert_eq!(digit_value('7'), Some(7));
        assert_eq!(digit_value('۷'), Some(7));
        assert_eq!(digit_value('٧'), Some(7));
        assert_eq!(digit_value(' '), None);
    }

    #[test]
    fn card_hash_is_upper_hex_sha256() {
        let h = card_hash("6037997599999993");
        assert_eq!(h.len(), 64);
        assert!(
            h.chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        );
        assert_eq!(mask_card("6037997599999993"), "603799******9993");
    }
}
