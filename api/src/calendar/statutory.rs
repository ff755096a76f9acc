//! The days off a year has by law alone, before the State Council publishes
//! its arrangement for that year: the fallback for a year the calendar data
//! does not cover.
//!
//! The rule is 《全国年节及纪念日放假办法》 (State Council Decree No. 795,
//! in force from 2025-01-01), art. 2 and art. 6:
//! - 元旦 1 day (January 1); 春节 4 days (the lunar New Year's eve and the
//!   first three days of the first lunar month); 清明节 1 day (the day of the
//!   solar term); 劳动节 2 days (May 1 and 2); 端午节 1 day (5th of the 5th
//!   lunar month); 中秋节 1 day (15th of the 8th lunar month); 国庆节 3 days
//!   (October 1 to 3);
//! - a holiday of all citizens that falls on a Saturday or Sunday is made up
//!   on a working day (补假). We take the first following weekday that is not
//!   itself a holiday, which is where the State Council's notices put it.
//!
//! What the fallback cannot know is the State Council's bridging (a weekday
//! between a holiday and a weekend given off, paid back by a Saturday or
//! Sunday worked): deadlines counted on it stay provisional.
//!
//! Lunar dates come from the `chinese-lunisolar-calendar` crate (its tables
//! run 1901–2100); the day of 清明 from the 寿星 formula for the 21st
//! century (`[Y × 0.2422 + 4.81] − [Y / 4]`, Y the year's last two digits),
//! which has no exception for 清明 between 2000 and 2099.

use chinese_lunisolar_calendar::LunisolarDate;
use time::{Date, Duration, Month, Weekday};

/// The first and last years the fallback can compute.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2099;

/// A statutory festival, as the law names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Festival {
    NewYear,
    SpringFestival,
    Qingming,
    LabourDay,
    DragonBoat,
    MidAutumn,
    NationalDay,
}

impl Festival {
    pub fn name(self) -> &'static str {
        match self {
            Festival::NewYear => "元旦",
            Festival::SpringFestival => "春节",
            Festival::Qingming => "清明节",
            Festival::LabourDay => "劳动节",
            Festival::DragonBoat => "端午节",
            Festival::MidAutumn => "中秋节",
            Festival::NationalDay => "国庆节",
        }
    }
}

/// The statutory days off of `year`, make-up days (补假) included, in date
/// order; None outside [`YEARS`].
pub fn days_off(year: i32) -> Option<Vec<(Date, Festival)>> {
    let mut days = festival_days(year)?;
    days.sort_by_key(|(d, _)| *d);
    let mut made_up = Vec::new();
    for (day, festival) in &days {
        if is_weekend(*day) {
            let mut d = *day + Duration::DAY;
            while is_weekend(d)
                || days.iter().any(|(h, _)| *h == d)
                || made_up.iter().any(|(h, _)| *h == d)
            {
                d += Duration::DAY;
            }
            made_up.push((d, *festival));
        }
    }
    days.extend(made_up);
    days.sort_by_key(|(d, _)| *d);
    days.dedup_by_key(|(d, _)| *d);
    Some(days)
}

/// The festival days themselves (two festivals may share a day).
fn festival_days(year: i32) -> Option<Vec<(Date, Festival)>> {
    if !YEARS.contains(&year) {
        return None;
    }
    let ymd = |m: Month, d: u8| Date::from_calendar_date(year, m, d).ok();
    let new_year = lunar(year, 1, 1)?;
    let mut days = vec![
        (ymd(Month::January, 1)?, Festival::NewYear),
        (new_year - Duration::DAY, Festival::SpringFestival),
        (new_year, Festival::SpringFestival),
        (new_year + Duration::DAY, Festival::SpringFestival),
        (new_year + Duration::days(2), Festival::SpringFestival),
        (ymd(Month::April, qingming_day(year))?, Festival::Qingming),
        (ymd(Month::May, 1)?, Festival::LabourDay),
        (ymd(Month::May, 2)?, Festival::LabourDay),
        (lunar(year, 5, 5)?, Festival::DragonBoat),
        (lunar(year, 8, 15)?, Festival::MidAutumn),
    ];
    for d in 1..=3 {
        days.push((ymd(Month::October, d)?, Festival::NationalDay));
    }
    Some(days)
}

/// The Gregorian date of lunar `month`/`day` (not a leap month) of the
/// lunar year that begins in Gregorian `year`.
fn lunar(year: i32, month: u8, day: u8) -> Option<Date> {
    let y = u16::try_from(year).ok()?;
    let solar = LunisolarDate::from_ymd(y, month, false, day)
        .ok()?
        .to_solar_date();
    let ordinal = solar.the_n_day_in_this_year();
    let solar_year = i32::from(solar.to_solar_year().to_u16());
    Date::from_ordinal_date(solar_year, ordinal).ok()
}

/// The April day of the solar term 清明 (21st century).
fn qingming_day(year: i32) -> u8 {
    let y = year.rem_euclid(100);
    // [Y × D + C] − L with D = 0.2422, C = 4.81, L = [Y / 4], in
    // ten-thousandths so that no float is rounded.
    let day = (y * 2422 + 48_100) / 10_000 - y / 4;
    day as u8
}

fn is_weekend(day: Date) -> bool {
    matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn day(ymd: &str) -> Date {
        crate::calendar::parse_ymd(ymd).unwrap()
    }

    fn dates(year: i32) -> Vec<Date> {
        days_off(year)
            .unwrap()
            .into_iter()
            .map(|(d, _)| d)
            .collect()
    }

    #[test]
    fn lunar_festivals_and_qingming_match_the_published_dates() {
        // From the State Council's notices for 2025 and 2026 and the
        // almanac for 2027 and 2028.
        for (year, eve, qingming, dragon, autumn) in [
            (2025, "2025-01-28", 4, "2025-05-31", "2025-10-06"),
            (2026, "2026-02-16", 5, "2026-06-19", "2026-09-25"),
            (2027, "2027-02-05", 5, "2027-06-09", "2027-09-15"),
            (2028, "2028-01-25", 4, "2028-05-28", "2028-10-03"),
        ] {
            let (eve, dragon, autumn) = (day(eve), day(dragon), day(autumn));
            let days = festival_days(year).unwrap();
            let of = |f: Festival| {
                days.iter()
                    .filter(|(_, g)| *g == f)
                    .map(|(d, _)| *d)
                    .collect::<Vec<_>>()
            };
            assert_eq!(of(Festival::SpringFestival)[0], eve, "{year}");
            assert_eq!(of(Festival::Qingming)[0].day(), qingming, "{year}");
            assert_eq!(of(Festival::DragonBoat), [dragon], "{year}");
            assert_eq!(of(Festival::MidAutumn), [autumn], "{year}");
        }
    }

    #[test]
    fn a_holiday_on_a_weekend_is_made_up_on_the_next_free_weekday() {
        // 2028: National Day Sun 10-01, Mon 10-02, Tue 10-03 (also
        // Mid-Autumn): Sunday is made up on Wed 10-04. Labour Day Mon 05-01,
        // Tue 05-02: nothing to make up.
        let d = dates(2028);
        assert!(d.contains(&date!(2028 - 10 - 04)));
        assert!(!d.contains(&date!(2028 - 10 - 05)));
        assert!(!d.contains(&date!(2028 - 05 - 03)));
        // 2027 Spring Festival: eve Fri 02-05, Sat, Sun, Mon 02-08; the two
        // weekend days are made up on Tue 02-09 and Wed 02-10.
        let d = dates(2027);
        for day in [date!(2027 - 02 - 09), date!(2027 - 02 - 10)] {
            assert!(d.contains(&day), "{day}");
        }
        assert!(!d.contains(&date!(2027 - 02 - 11)));
    }

    #[test]
    fn outside_the_lunar_tables_there_is_no_fallback() {
        assert!(days_off(1999).is_none());
        assert!(days_off(2100).is_none());
        assert_eq!(
            dates(2099).len(),
            dates(2099)
                .iter()
                .collect::<std::collections::BTreeSet<_>>()
                .len()
        );
    }
}
