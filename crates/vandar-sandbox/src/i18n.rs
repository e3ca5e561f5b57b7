//! The pages' two languages: Persian (right-to-left, Persian digits, the default, as on the real
//! pages) and English (`?lang=en`). Pure functions, no state.

/// A page language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    /// Persian: `lang="fa" dir="rtl"`, Persian digits, `٬` between thousands.
    Fa,
    /// English: `lang="en" dir="ltr"`, ASCII digits, `,` between thousands.
    En,
}

impl Lang {
    /// `en` (any case) is English; anything else, or nothing, is Persian.
    pub(crate) fn parse(value: Option<&str>) -> Lang {
        match value {
            Some(v) if v.eq_ignore_ascii_case("en") => Lang::En,
            _ => Lang::Fa,
        }
    }

    /// The `lang` attribute.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Lang::Fa => "fa",
            Lang::En => "en",
        }
    }

    /// The `dir` attribute.
    pub(crate) fn dir(self) -> &'static str {
        match self {
            Lang::Fa => "rtl",
            Lang::En => "ltr",
        }
    }

    /// The other language (for the switch link).
    pub(crate) fn other(self) -> Lang {
        match self {
            Lang::Fa => Lang::En,
            Lang::En => Lang::Fa,
        }
    }

    /// The name of this language, written in itself (the switch link's text).
    pub(crate) fn own_name(self) -> &'static str {
        match self {
            Lang::Fa => "فارسی",
            Lang::En => "English",
        }
    }

    /// Pick the text of this language.
    pub(crate) fn t<'a>(self, fa: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Fa => fa,
            Lang::En => en,
        }
    }

    /// Digits of this language (Persian `۰`–`۹` for `fa`); other characters unchanged.
    pub(crate) fn digits(self, text: &str) -> String {
        match self {
            Lang::En => text.to_owned(),
            Lang::Fa => text
                .chars()
                .map(|c| match c.to_digit(10) {
                    Some(d) if c.is_ascii_digit() => char::from_u32(0x06F0 + d).unwrap_or(c),
                    _ => c,
                })
                .collect(),
        }
    }

    /// A number grouped by thousands: `۲۵۰٬۰۰۰` in Persian, `250,000` in English.
    pub(crate) fn number(self, n: i64) -> String {
        let sep = match self {
            Lang::Fa => '\u{066C}',
            Lang::En => ',',
        };
        self.digits(&group_thousands(n, sep))
    }
}

/// Group the digits of `n` by thousands with `sep` (`-1,250,000`).
pub(crate) fn group_thousands(n: i64, sep: char) -> String {
    let s = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// Escape text for HTML (element content and quoted attribute values).
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_in_each_language() {
        assert_eq!(Lang::En.number(250_000), "250,000");
        assert_eq!(Lang::En.number(999), "999");
        assert_eq!(Lang::En.number(-1_000), "-1,000");
        assert_eq!(Lang::En.number(i64::MIN), "-9,223,372,036,854,775,808");
        assert_eq!(Lang::Fa.number(250_000), "۲۵۰٬۰۰۰");
        assert_eq!(Lang::Fa.number(25_000), "۲۵٬۰۰۰");
        assert_eq!(Lang::Fa.digits("12:05 - 1403/01/09"), "۱۲:۰۵ - ۱۴۰۳/۰۱/۰۹");
    }

    #[test]
    fn the_switch_and_attributes() {
        assert_eq!(Lang::parse(Some("EN")), Lang::En);
        assert_eq!(Lang::parse(Some("fa")), Lang::Fa);
        assert_eq!(Lang::parse(Some("de")), Lang::Fa);
        assert_eq!(Lang::parse(None), Lang::Fa);
        assert_eq!((Lang::Fa.code(), Lang::Fa.dir()), ("fa", "rtl"));
        assert_eq!((Lang::En.code(), Lang::En.dir()), ("en", "ltr"));
        assert_eq!(Lang::Fa.other(), Lang::En);
        assert_eq!(escape("<a&\"'>"), "&lt;a&amp;&quot;&#39;&gt;");
    }
}
