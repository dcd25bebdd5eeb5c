//! Calendar time to UNIX seconds, for the date-at-boot response.

/// A calendar date and time as the UEFI `GetTime` service reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CivilTime {
    /// Year, e.g. 2025.
    pub year: u16,
    /// Month, 1..=12.
    pub month: u8,
    /// Day of the month, 1..=31.
    pub day: u8,
    /// Hour, 0..=23.
    pub hour: u8,
    /// Minute, 0..=59.
    pub minute: u8,
    /// Second, 0..=59.
    pub second: u8,
}

/// Seconds since 1970-01-01T00:00:00, or `None` for an impossible date.
/// The firmware's time zone is ignored, as real Limine does.
pub fn unix_seconds(t: CivilTime) -> Option<i64> {
    let valid = (1..=12).contains(&t.month)
        && (1..=31).contains(&t.day)
        && t.hour < 24
        && t.minute < 60
        && t.second < 60;
    if !valid {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm), with March as month 0.
    let y = i64::from(t.year) - i64::from(t.month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(t.month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(t.day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + i64::from(t.hour) * 3600 + i64::from(t.minute) * 60 + i64::from(t.second))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(year: u16, month: u8, day: u8, hour: u8, minute: u8, second: u8) -> CivilTime {
        CivilTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
        }
    }

    #[test]
    fn known_dates() {
        assert_eq!(unix_seconds(t(1970, 1, 1, 0, 0, 0)), Some(0));
        assert_eq!(unix_seconds(t(2000, 3, 1, 0, 0, 0)), Some(951_868_800));
        assert_eq!(
            unix_seconds(t(2024, 2, 29, 12, 34, 56)),
            Some(1_709_210_096)
        );
        assert_eq!(unix_seconds(t(1969, 12, 31, 23, 59, 59)), Some(-1));
    }

    #[test]
    fn impossible_dates() {
        assert_eq!(unix_seconds(t(2024, 13, 1, 0, 0, 0)), None);
        assert_eq!(unix_seconds(t(2024, 0, 1, 0, 0, 0)), None);
        assert_eq!(unix_seconds(t(2024, 1, 0, 0, 0, 0)), None);
        assert_eq!(unix_seconds(t(2024, 1, 1, 24, 0, 0)), None);
    }
}
