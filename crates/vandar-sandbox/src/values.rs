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

/// `text` for a log line: every path segment or word that holds 8 or more digits (a card
/// number, an IBAN, a national code, whoever's they are) becomes `***`. Percent-escapes are
/// decoded first, so an encoded number is caught too.
pub fn log_safe(text: &str) -> String {
    let decoded = percent_decode(text);
    let mut out = String::with_capacity(decoded.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.chars().filter(|c| digit_value(*c).is_some()).count() >= 8 {
            out.push_str("***");
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in decoded.chars() {
        if c.is_alphanumeric() || digit_value(c).is_some() || matches!(c, '-' | '_' | ' ' | '.') {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// `url` for a log line: its scheme, host, port and path ([`log_safe`]), without user info,
/// query or fragment (a merchant's notify URL may carry a token of theirs).
pub fn log_safe_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => {
            let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
            format!(
                "{}://{}{port}{}",
                u.scheme(),
                u.host_str().unwrap_or(""),
                log_safe(u.path())
            )
        }
        Err(_) => "(not a URL)".to_owned(),
    }
}

/// Percent-escapes decoded (lossily: bytes that are not UTF-8 become U+FFFD).
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_lose_numbers_that_may_be_secrets() {
        assert_eq!(
            log_safe("/v3/business/shop/customers/c1/cards/6037997599999993/inquiry"),
            "/v3/business/shop/customers/c1/cards/***/inquiry"
        );
        assert_eq!(log_safe("/ibans/IR062960000000100324200001"), "/ibans/***");
        assert_eq!(log_safe("/cards/6037%2D9975%2D9999%2D9993"), "/cards/***");
        assert_eq!(
            log_safe("/v2/business/shop/settlement/12345"),
            "/v2/business/shop/settlement/12345"
        );
        assert_eq!(
            log_safe_url("http://user:pw@127.0.0.1:9/hook/0499370899?token=abc#x"),
            "http://127.0.0.1:9/hook/***"
        );
        assert_eq!(log_safe_url("not a url"), "(not a URL)");
    }

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
