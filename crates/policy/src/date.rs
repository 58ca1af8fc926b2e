//! Calendar dates (ignore rules' `expires`) and RFC 3339 timestamps (VEX statements' order),
//! without a time-zone database: proleptic Gregorian arithmetic on days since 1970-01-01.

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

/// A calendar date, `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u32,
    day: u32,
}

impl Date {
    /// The date, when it exists (`2024-02-30` does not).
    pub fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        ((1..=12).contains(&month) && (1..=days_in_month(year, month)).contains(&day))
            .then_some(Date { year, month, day })
    }

    /// Today in UTC, from the system clock.
    pub fn today() -> Date {
        let seconds = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs());
        let days = i64::try_from(seconds / 86_400).unwrap_or(i64::MAX);
        Date::from_days(days)
    }

    /// Days since 1970-01-01 (negative before).
    fn days(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let year = i64::from(self.year) - i64::from(self.month <= 2);
        let era = year.div_euclid(400);
        let year_of_era = year.rem_euclid(400);
        let month = i64::from(self.month);
        let day_of_year =
            (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        era * 146_097 + day_of_era - 719_468
    }

    /// The date `days` after 1970-01-01 (Hinnant's civil_from_days).
    fn from_days(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let day_of_era = z.rem_euclid(146_097);
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let mp = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        Date {
            year: i32::try_from(year).unwrap_or(i32::MAX),
            month: u32::try_from(month).unwrap_or(1),
            day: u32::try_from(day).unwrap_or(1),
        }
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Why a date or timestamp did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a date (YYYY-MM-DD)")]
pub struct DateError(String);

impl FromStr for Date {
    type Err = DateError;
    fn from_str(s: &str) -> Result<Date, DateError> {
        let err = || DateError(s.to_string());
        let bytes = s.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return Err(err());
        }
        let number = |range: std::ops::Range<usize>| {
            let digits = s.get(range).ok_or_else(err)?;
            if !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err());
            }
            digits.parse::<u32>().map_err(|_| err())
        };
        let year = i32::try_from(number(0..4)?).map_err(|_| err())?;
        Date::new(year, number(5..7)?, number(8..10)?).ok_or_else(err)
    }
}

/// An RFC 3339 timestamp (`2023-01-09T21:23:03.579712389-06:00`), as nanoseconds since the
/// epoch in UTC: enough to order statements written in different time zones.
pub fn parse_timestamp(s: &str) -> Option<i128> {
    let (date, rest) = (s.get(..10)?, s.get(10..)?);
    let date: Date = date.parse().ok()?;
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let field = |range: std::ops::Range<usize>, max: i128| {
        let digits = rest.get(range)?;
        let value = digits
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| digits.parse::<i128>().ok())??;
        (value <= max).then_some(value)
    };
    let (hour, minute, second) = (field(0..2, 23)?, field(3..5, 59)?, field(6..8, 60)?);
    if rest.get(2..3)? != ":" || rest.get(5..6)? != ":" {
        return None;
    }
    let mut rest = rest.get(8..)?;
    let mut nanos = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let len = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 {
            return None;
        }
        for (i, b) in fraction.bytes().take(9).take(len).enumerate() {
            nanos += i128::from(b - b'0') * 10_i128.pow(8 - u32::try_from(i).ok()?);
        }
        rest = fraction.get(len..)?;
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.get(..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let (hours, minutes) = rest.get(1..)?.split_once(':')?;
            if hours.len() != 2 || minutes.len() != 2 {
                return None;
            }
            let hours: i128 = hours.parse().ok()?;
            let minutes: i128 = minutes.parse().ok()?;
            sign * (hours * 3600 + minutes * 60)
        }
    };
    let seconds = i128::from(date.days()) * 86_400 + hour * 3600 + minute * 60 + second - offset;
    Some(seconds * 1_000_000_000 + nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_strictly() {
        assert_eq!("2027-01-31".parse(), Ok(Date::new(2027, 1, 31).unwrap()));
        assert_eq!(
            "2024-02-29".parse::<Date>().unwrap().to_string(),
            "2024-02-29"
        );
        for bad in [
            "2023-02-29",
            "2027-13-01",
            "2027-1-31",
            "31-01-2027",
            "2027-01-31x",
            "",
        ] {
            assert!(bad.parse::<Date>().is_err(), "{bad}");
        }
        assert!(Date::new(2027, 1, 31) < Date::new(2027, 2, 1));
    }

    #[test]
    fn days_round_trip() {
        for (date, days) in [
            (Date::new(1970, 1, 1), 0),
            (Date::new(2000, 3, 1), 11_017),
            (Date::new(1969, 12, 31), -1),
            (Date::new(2024, 2, 29), 19_782),
        ] {
            let date = date.unwrap();
            assert_eq!(date.days(), days, "{date}");
            assert_eq!(Date::from_days(days), date);
        }
        assert!(Date::today() > Date::new(2024, 1, 1).unwrap());
    }

    #[test]
    fn timestamps_order_across_zones() {
        let utc = parse_timestamp("2023-01-10T03:23:03Z").unwrap();
        let chicago = parse_timestamp("2023-01-09T21:23:03.5-06:00").unwrap();
        assert_eq!(chicago - utc, 500_000_000);
        assert_eq!(
            parse_timestamp("1970-01-01T00:00:01+00:00"),
            Some(1_000_000_000)
        );
        for bad in [
            "2023-01-09",
            "2023-01-09T25:00:00Z",
            "2023-01-09T21:23:03",
            "2023-01-09T21:23:03.Z",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }
}
