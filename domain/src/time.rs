//! Calendar arithmetic for Unix-millisecond timestamps, without a time zone database: storage
//! keeps milliseconds, the UI shows UTC, and expiry dates are typed as `YYYY-MM-DD`.

const MS_PER_DAY: i64 = 86_400_000;

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Parses `YYYY-MM-DD` into the millisecond at the *end* of that UTC day (a key "expiring on"
/// a date still works all that day).
pub fn parse_date_end_ms(s: &str) -> Option<i64> {
    let mut it = s.trim().split('-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: u32 = it.next()?.parse().ok()?;
    let d: u32 = it.next()?.parse().ok()?;
    if it.next().is_some() || !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || d == 0 {
        return None;
    }
    let days = days_from_civil(y, m, d);
    // Reject 2026-02-30 and friends: the round trip must land on the same date.
    if civil_from_days(days) != (y, m, d) {
        return None;
    }
    Some((days + 1) * MS_PER_DAY - 1)
}

/// Parses `YYYY-MM-DD` into the first millisecond of that UTC day.
pub fn parse_date_start_ms(s: &str) -> Option<i64> {
    parse_date_end_ms(s).map(|end| end + 1 - MS_PER_DAY)
}

/// `2026-11-22T09:38:05.123Z` (RFC 3339, UTC), for exports that other tools read.
pub fn iso_ms(ms: i64) -> String {
    let rem = ms.rem_euclid(MS_PER_DAY);
    let (y, m, d) = civil_from_days(ms.div_euclid(MS_PER_DAY));
    let secs = rem / 1000;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60,
        rem % 1000
    )
}

/// `2026-11-22 09:38 UTC`.
pub fn format_ms(ms: i64) -> String {
    let days = ms.div_euclid(MS_PER_DAY);
    let rem = ms.rem_euclid(MS_PER_DAY) / 1000;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// `2026-11-22 09:38:05 UTC`, for logs where seconds matter.
pub fn format_ms_seconds(ms: i64) -> String {
    let rem = ms.rem_euclid(MS_PER_DAY) / 1000;
    let (y, m, d) = civil_from_days(ms.div_euclid(MS_PER_DAY));
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// `2026-11-22`.
pub fn format_date(ms: i64) -> String {
    let (y, m, d) = civil_from_days(ms.div_euclid(MS_PER_DAY));
    format!("{y:04}-{m:02}-{d:02}")
}

/// How far `at` is from `now`, floored to its largest unit: `in 12 min`, `in 23 h`,
/// `in 3 days`, `5 min ago`. Floored, so a deadline is never shown later than it is; hours run
/// up to 48 so "in 1 day" never stands for 47 hours.
pub fn relative(at: i64, now: i64) -> String {
    const MIN: u64 = 60_000;
    const HOUR: u64 = 60 * MIN;
    const DAY: u64 = 24 * HOUR;
    let gap = at.saturating_sub(now);
    let span = gap.unsigned_abs();
    let amount = match span {
        s if s < MIN => {
            let words = if gap >= 0 {
                "in under a minute"
            } else {
                "under a minute ago"
            };
            return words.to_owned();
        }
        s if s < HOUR => format!("{} min", s / MIN),
        s if s < 48 * HOUR => format!("{} h", s / HOUR),
        s => format!("{} days", s / DAY),
    };
    if gap >= 0 {
        format!("in {amount}")
    } else {
        format!("{amount} ago")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn iso_and_day_bounds() {
        assert_eq!(super::iso_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(super::iso_ms(1_764_619_200_123), "2025-12-01T20:00:00.123Z");
        let start = super::parse_date_start_ms("2026-12-01").expect("date");
        assert_eq!(super::iso_ms(start), "2026-12-01T00:00:00.000Z");
        assert_eq!(
            super::parse_date_end_ms("2026-12-01"),
            Some(start + 86_400_000 - 1)
        );
        assert_eq!(super::parse_date_start_ms("2026-02-30"), None);
    }

    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(20_414), (2025, 11, 22));
        assert_eq!(format_ms(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_ms(1_763_804_280_000), "2025-11-22 09:38 UTC");
        assert_eq!(format_date(1_763_804_280_000), "2025-11-22");
        assert_eq!(
            format_ms_seconds(1_763_804_287_000),
            "2025-11-22 09:38:07 UTC"
        );
    }

    #[test]
    fn round_trips_every_day_for_centuries() {
        for z in -50_000..150_000 {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
    }

    #[test]
    fn parses_end_of_day_and_rejects_nonsense() {
        let end = parse_date_end_ms("2026-11-22").expect("valid");
        assert_eq!(format_ms(end), "2026-11-22 23:59 UTC");
        assert_eq!(
            parse_date_end_ms("2024-02-29").map(format_date).as_deref(),
            Some("2024-02-29")
        );
        for bad in [
            "2026-02-30",
            "2025-02-29",
            "2026-13-01",
            "2026-00-10",
            "26-1-1x",
            "",
            "2026-11",
            "1969-12-31",
        ] {
            assert_eq!(parse_date_end_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn relative_durations_floor_to_one_unit() {
        let (min, hour, day) = (60_000, 3_600_000, MS_PER_DAY);
        let now = 1_763_804_280_000;
        let rows = [
            (0, "in under a minute"),
            (59_999, "in under a minute"),
            (min, "in 1 min"),
            (12 * min + 59_999, "in 12 min"),
            (hour - 1, "in 59 min"),
            (hour, "in 1 h"),
            (24 * hour - 1_000, "in 23 h"),
            (24 * hour, "in 24 h"),
            (48 * hour - 1, "in 47 h"),
            (2 * day, "in 2 days"),
            (3 * day + 14 * hour, "in 3 days"),
            (7 * day - 1, "in 6 days"),
            (400 * day, "in 400 days"),
            (-1, "under a minute ago"),
            (-5 * min, "5 min ago"),
            (-3 * hour, "3 h ago"),
            (-9 * day, "9 days ago"),
        ];
        for (gap, want) in rows {
            assert_eq!(relative(now + gap, now), want, "{gap}");
        }
        // The extremes saturate instead of overflowing.
        assert!(relative(i64::MIN, i64::MAX).ends_with(" days ago"));
        assert!(relative(i64::MAX, i64::MIN).starts_with("in "));
    }
}
