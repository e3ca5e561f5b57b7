//! Tehran time and the Jalali calendar, as the APIs write dates. Pure functions; a
//! differential property test holds them to the runtime's calendar.

/// Tehran local date-time parts (UTC+03:30; Iran has had no DST since 2022).
pub(crate) fn tehran(ms: i64) -> (i64, u32, u32, u32, u32, u32) {
    let secs = ms.div_euclid(1000) + 3 * 3600 + 1800;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    (
        y,
        m,
        d,
        (rem / 3600) as u32,
        ((rem % 3600) / 60) as u32,
        (rem % 60) as u32,
    )
}

/// Howard Hinnant's days-to-civil algorithm.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Gregorian to Jalali (the standard arithmetic conversion).
pub(crate) fn to_jalali(gy: i64, gm: u32, gd: u32) -> (i64, u32, u32) {
    const G_D_M: [i64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let gy2 = if gm > 2 { gy + 1 } else { gy };
    let mut days = 355_666 + 365 * gy + (gy2 + 3) / 4 - (gy2 + 99) / 100
        + (gy2 + 399) / 400
        + gd as i64
        + G_D_M[gm as usize - 1];
    let mut jy = -1595 + 33 * (days / 12_053);
    days %= 12_053;
    jy += 4 * (days / 1461);
    days %= 1461;
    if days > 365 {
        jy += (days - 1) / 365;
        days = (days - 1) % 365;
    }
    let (jm, jd) = if days < 186 {
        (1 + days / 31, 1 + days % 31)
    } else {
        (7 + (days - 186) / 30, 1 + (days - 186) % 30)
    };
    (jy, jm as u32, jd as u32)
}

/// `2020-06-10 14:36:30` (Tehran time).
pub fn api_datetime(ms: i64) -> String {
    let (y, m, d, h, mi, s) = tehran(ms);
    format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}")
}

/// `2020-06-10`.
pub fn gregorian_date(ms: i64) -> String {
    let (y, m, d, ..) = tehran(ms);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `1400/08/08`.
pub fn jalali_date(ms: i64) -> String {
    let (y, m, d, ..) = tehran(ms);
    let (jy, jm, jd) = to_jalali(y, m, d);
    format!("{jy:04}/{jm:02}/{jd:02}")
}

/// The Jalali day (Tehran time) as the number `yyyymmdd` (`14000808`), for date filters.
pub fn jalali_day_number(ms: i64) -> i64 {
    let (y, m, d, ..) = tehran(ms);
    let (jy, jm, jd) = to_jalali(y, m, d);
    jy * 10_000 + i64::from(jm) * 100 + i64::from(jd)
}

/// `15:39:36`.
pub fn time_of_day(ms: i64) -> String {
    let (_, _, _, h, mi, s) = tehran(ms);
    format!("{h:02}:{mi:02}:{s:02}")
}

/// `17:46:57 - 1401/3/7` (the statement's `created_at`).
pub fn statement_datetime(ms: i64) -> String {
    let (y, m, d, h, mi, s) = tehran(ms);
    let (jy, jm, jd) = to_jalali(y, m, d);
    format!("{h:02}:{mi:02}:{s:02} - {jy}/{jm}/{jd}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jalali_conversion_matches_known_dates() {
        // 2021-10-30 is 1400/08/08 (the settlement example).
        assert_eq!(to_jalali(2021, 10, 30), (1400, 8, 8));
        // 2020-03-20 is Nowruz 1399/01/01.
        assert_eq!(to_jalali(2020, 3, 20), (1399, 1, 1));
    }

    proptest::proptest! {
        /// The sandbox's arithmetic calendar (Tehran civil date, then Jalali) agrees with the
        /// runtime's (`vandar_runtime::domain::JalaliDate`, ICU's Persian calendar) and with
        /// chrono on every day of Gregorian 1800..=2123. (From 2124 on the 33-year arithmetic
        /// rule and ICU part ways on the day of Nowruz in some years; a full scan found no
        /// difference before 2124-03. Sandbox dates are "now" plus what a test advances.)
        #[test]
        fn calendar_agrees_with_the_runtime(days in -62_091i64..56_247) {
            let (y, m, d) = civil_from_days(days);
            let date = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()
                + chrono::Duration::days(days);
            proptest::prop_assert_eq!(
                (y, m, d),
                (i64::from(chrono::Datelike::year(&date)), chrono::Datelike::month(&date), chrono::Datelike::day(&date))
            );
            let runtime = vandar_runtime::domain::JalaliDate::from_gregorian(date).unwrap();
            proptest::prop_assert_eq!(
                to_jalali(y, m, d),
                (i64::from(runtime.year()), u32::from(runtime.month()), u32::from(runtime.day()))
            );
            // and a sandbox timestamp at Tehran noon of that day lands on the same Jalali day
            let noon_tehran_ms = (days * 86_400 + 12 * 3600 - 3 * 3600 - 1800) * 1000;
            proptest::prop_assert_eq!(
                jalali_day_number(noon_tehran_ms),
                i64::from(runtime.year()) * 10_000 + i64::from(runtime.month()) * 100 + i64::from(runtime.day())
            );
        }
    }
}
