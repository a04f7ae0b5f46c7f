//! Parsing of the scalar formats the policy format uses: calendar dates and durations.

/// A calendar date `YYYY-MM-DD` that exists (no 30 February).
pub fn parse_date(text: &str) -> Result<(i32, u32, u32), String> {
    let parts: Vec<&str> = text.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err("expected YYYY-MM-DD".to_owned());
    };
    let year: i32 = y.parse().map_err(|_| format!("`{y}` is not a year"))?;
    let month: u32 = m.parse().map_err(|_| format!("`{m}` is not a month"))?;
    let day: u32 = d.parse().map_err(|_| format!("`{d}` is not a day"))?;
    if !(1..=12).contains(&month) {
        return Err(format!("there is no month {month}"));
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if !(1..=days).contains(&day) {
        return Err(format!("{year:04}-{month:02} has {days} days, not {day}"));
    }
    Ok((year, month, day))
}

/// A calendar day, ordered by time: (year, month, day).
pub type Day = (i32, u32, u32);

/// A day written `YYYY-MM-DD`, or a month `YYYY-MM` read as its first day (dates only known to
/// the month are recorded that way, never with a guessed day).
pub fn parse_day_or_month(text: &str) -> Result<Day, String> {
    match text.len() {
        7 => parse_date(&format!("{text}-01")),
        _ => parse_date(text),
    }
}

/// `YYYY-MM-DD`.
pub fn format_day((year, month, day): Day) -> String {
    format!("{year:04}-{month:02}-{day:02}")
}

/// The civil day `days` days after 1970-01-01 (proleptic Gregorian; H. Hinnant's algorithm).
pub fn day_from_unix_days(days: i64) -> Day {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        i32::try_from(year).unwrap_or(i32::MAX),
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

/// A duration `<n><unit>` with unit s, m, h, d or w, in seconds.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let unit_at = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("`{text}` has no unit (s, m, h, d, w)"))?;
    let (number, unit) = text.split_at(unit_at);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` does not start with a whole number"))?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 604_800,
        other => return Err(format!("unknown unit `{other}`; use s, m, h, d or w")),
    };
    n.checked_mul(scale)
        .ok_or_else(|| format!("`{text}` is too long a duration"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_must_exist() {
        assert_eq!(parse_date("2020-09-10"), Ok((2020, 9, 10)));
        assert_eq!(parse_date("2020-02-29"), Ok((2020, 2, 29)));
        assert!(parse_date("2019-02-29").unwrap_err().contains("28 days"));
        assert!(
            parse_date("2020-13-01")
                .unwrap_err()
                .contains("no month 13")
        );
        assert!(parse_date("2020-04-31").is_err());
    }

    #[test]
    fn days_and_months() {
        assert_eq!(parse_day_or_month("2020-09"), Ok((2020, 9, 1)));
        assert_eq!(parse_day_or_month("2020-09-15"), Ok((2020, 9, 15)));
        assert!(parse_day_or_month("2020-13").is_err());
        assert_eq!(format_day((2027, 4, 1)), "2027-04-01");
        assert_eq!(day_from_unix_days(0), (1970, 1, 1));
        assert_eq!(day_from_unix_days(18_506), (2020, 9, 1));
        assert_eq!(day_from_unix_days(11_016), (2000, 2, 29));
        assert_eq!(day_from_unix_days(-1), (1969, 12, 31));
    }

    #[test]
    fn durations_are_in_seconds() {
        assert_eq!(parse_duration("30m"), Ok(1_800));
        assert_eq!(parse_duration("24h"), Ok(86_400));
        assert_eq!(parse_duration("2w"), Ok(1_209_600));
        assert!(parse_duration("10y").is_err());
        assert!(parse_duration("10").is_err());
    }
}
