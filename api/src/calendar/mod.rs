//! The Shanghai working-day calendar, for statutory deadlines counted in
//! working days (政府信息公开条例 art. 30, 32, 33).
//!
//! The calendar is data (`cn_shanghai.txt`, compiled in; an operator may
//! load a newer copy with `disclosure.calendar_file`): the State Council's
//! holidays and make-up working days (调休) per year. Days of a year the data
//! does not cover, or covers only provisionally, count by the Monday–Friday
//! week and the statutory days, and every answer says whether it relied on
//! such a day, so that a deadline is never presented as certain when it is
//! not.

use std::collections::{BTreeMap, BTreeSet};

use time::{Date, Duration, OffsetDateTime, UtcOffset, Weekday};

/// The built-in calendar data.
pub const BUILT_IN: &str = include_str!("cn_shanghai.txt");

/// Shanghai is UTC+8 all year (no daylight saving).
pub const SHANGHAI: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(offset) => offset,
    Err(_) => UtcOffset::UTC,
};

/// The calendar date in Shanghai at instant `t`.
pub fn shanghai_date(t: OffsetDateTime) -> Date {
    t.to_offset(SHANGHAI).date()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DayKind {
    Holiday,
    Workday,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkCalendar {
    days: BTreeMap<Date, DayKind>,
    /// Years whose 调休 arrangement the data holds as published.
    confirmed: BTreeSet<i32>,
}

/// A date computed on the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reckoned {
    pub date: Date,
    /// True when the count crossed a day of a year whose arrangement is not
    /// yet published: the date may move when it is.
    pub provisional: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("calendar line {line}: {reason}")]
pub struct ParseError {
    pub line: usize,
    pub reason: String,
}

fn parse_date(s: &str) -> Option<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, format).ok()
}

impl WorkCalendar {
    /// The calendar compiled into this build.
    pub fn built_in() -> Self {
        // The built-in data is checked by the unit tests below.
        Self::parse(BUILT_IN).unwrap_or_else(|_| Self {
            days: BTreeMap::new(),
            confirmed: BTreeSet::new(),
        })
    }

    /// The calendar in `file` (`disclosure.calendar_file`), or the built-in
    /// one when `file` is empty.
    pub fn from_file(file: &str) -> anyhow::Result<Self> {
        use anyhow::Context;
        if file.is_empty() {
            return Ok(Self::built_in());
        }
        let text = std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?;
        Self::parse(&text).with_context(|| format!("calendar file {file}"))
    }

    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let mut days = BTreeMap::new();
        let mut confirmed = BTreeSet::new();
        let mut year: Option<i32> = None;
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let err = |reason: &str| ParseError {
                line: n + 1,
                reason: reason.to_owned(),
            };
            let mut words = line.split_whitespace();
            let (Some(kind), Some(what)) = (words.next(), words.next()) else {
                return Err(err("expected `KIND DATE NAME`"));
            };
            if kind == "year" {
                let y: i32 = what.parse().map_err(|_| err("bad year"))?;
                match words.next() {
                    Some("confirmed") => {
                        confirmed.insert(y);
                    }
                    Some("provisional") => {}
                    _ => return Err(err("a year is `confirmed` or `provisional`")),
                }
                year = Some(y);
                continue;
            }
            let kind = match kind {
                "holiday" => DayKind::Holiday,
                "workday" => DayKind::Workday,
                _ => return Err(err("a line is `year`, `holiday` or `workday`")),
            };
            let (first, last) = match what.split_once("..") {
                Some((a, b)) => (parse_date(a), parse_date(b)),
                None => (parse_date(what), parse_date(what)),
            };
            let (Some(first), Some(last)) = (first, last) else {
                return Err(err("dates are YYYY-MM-DD"));
            };
            if first > last || (last - first).whole_days() > 31 {
                return Err(err("a range runs forward and spans at most a month"));
            }
            if year != Some(first.year()) || year != Some(last.year()) {
                return Err(err("a day must follow the `year` line of its year"));
            }
            let mut day = first;
            loop {
                if kind == DayKind::Workday && !is_weekend(day) {
                    return Err(err("a make-up working day falls on a weekend"));
                }
                if days.insert(day, kind).is_some() {
                    return Err(err("a day is listed twice"));
                }
                if day == last {
                    break;
                }
                day = day.next_day().ok_or_else(|| err("date out of range"))?;
            }
        }
        Ok(Self { days, confirmed })
    }

    pub fn is_working_day(&self, day: Date) -> bool {
        match self.days.get(&day) {
            Some(DayKind::Holiday) => false,
            Some(DayKind::Workday) => true,
            None => !is_weekend(day),
        }
    }

    fn is_certain(&self, day: Date) -> bool {
        self.confirmed.contains(&day.year())
    }

    /// `day` itself when it is a working day, else the next one: when an
    /// application submitted online on a day off counts as received.
    pub fn on_or_after(&self, day: Date) -> Reckoned {
        let mut provisional = !self.is_certain(day);
        let mut d = day;
        while !self.is_working_day(d) {
            d += Duration::DAY;
            provisional |= !self.is_certain(d);
        }
        Reckoned {
            date: d,
            provisional,
        }
    }

    /// The `n`th working day after `start` (the start day itself is not
    /// counted, as in every statutory period).
    pub fn add_working_days(&self, start: Date, n: u32) -> Reckoned {
        let mut d = start;
        let mut left = n;
        let mut provisional = false;
        while left > 0 {
            d += Duration::DAY;
            provisional |= !self.is_certain(d);
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        Reckoned {
            date: d,
            provisional,
        }
    }

    /// Working days from `today` (exclusive) up to `due` (inclusive);
    /// negative when `due` has passed (counting the working days since).
    pub fn working_days_left(&self, today: Date, due: Date) -> i64 {
        let (from, to, sign) = if due >= today {
            (today, due, 1)
        } else {
            (due, today, -1)
        };
        let mut n = 0i64;
        let mut d = from;
        while d < to {
            d += Duration::DAY;
            if self.is_working_day(d) {
                n += 1;
            }
        }
        sign * n
    }
}

fn is_weekend(day: Date) -> bool {
    matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn built_in_data_parses_and_covers_2025_to_2027() {
        let cal = WorkCalendar::parse(BUILT_IN).unwrap();
        assert!(cal.confirmed.contains(&2025) && cal.confirmed.contains(&2026));
        assert!(!cal.confirmed.contains(&2027), "2027 is provisional");
        assert!(cal.days.keys().any(|d| d.year() == 2027));
        // Published totals: 2025 has 28 listed days off (1+8+3+5+3+8) and 5
        // make-up days; 2026 has 33 (3+9+3+5+3+3+7) and 6.
        for (year, off, on) in [(2025, 28, 5), (2026, 33, 6)] {
            let count = |k| {
                cal.days
                    .iter()
                    .filter(|(d, kind)| d.year() == year && **kind == k)
                    .count()
            };
            assert_eq!(count(DayKind::Holiday), off, "{year} days off");
            assert_eq!(count(DayKind::Workday), on, "{year} make-up days");
        }
    }

    #[test]
    fn holidays_weekends_and_make_up_days() {
        let cal = WorkCalendar::built_in();
        assert!(!cal.is_working_day(date!(2025 - 01 - 29)), "春节");
        assert!(cal.is_working_day(date!(2025 - 01 - 26)), "a Sunday worked");
        assert!(
            cal.is_working_day(date!(2025 - 02 - 08)),
            "a Saturday worked"
        );
        assert!(!cal.is_working_day(date!(2025 - 02 - 09)), "a plain Sunday");
        assert!(cal.is_working_day(date!(2025 - 02 - 05)), "back at work");
        assert!(!cal.is_working_day(date!(2026 - 10 - 07)));
        assert!(cal.is_working_day(date!(2026 - 10 - 10)));
    }

    #[test]
    fn twenty_working_days_across_the_spring_festival() {
        let cal = WorkCalendar::built_in();
        // Received Fri 2025-01-24. Working days after it: Sun 1-26 (make-up),
        // Mon 1-27, then 1-28..2-4 off; 2-5, 2-6, 2-7, Sat 2-8 (make-up),
        // then 2-10..14, 2-17..21, 2-24..27 → the 20th is Thu 2025-02-27.
        let due = cal.add_working_days(date!(2025 - 01 - 24), 20);
        assert_eq!(due.date, date!(2025 - 02 - 27));
        assert!(!due.provisional);
        // Without the make-up days it would be two working days later.
        let plain =
            WorkCalendar::parse("year 2025 confirmed x\nholiday 2025-01-28..2025-02-04 春节")
                .unwrap();
        assert_eq!(
            plain.add_working_days(date!(2025 - 01 - 24), 20).date,
            date!(2025 - 03 - 03)
        );
    }

    #[test]
    fn received_on_a_day_off_counts_from_the_next_working_day() {
        let cal = WorkCalendar::built_in();
        // Submitted at 23:30 Shanghai time on Sat 2026-10-03 (国庆).
        let t = datetime!(2026-10-03 15:30 UTC);
        assert_eq!(shanghai_date(t), date!(2026 - 10 - 03));
        assert_eq!(
            cal.on_or_after(shanghai_date(t)).date,
            date!(2026 - 10 - 08)
        );
        // 16:30 UTC is already the next day in Shanghai.
        assert_eq!(
            shanghai_date(datetime!(2026-01-04 16:30 UTC)),
            date!(2026 - 01 - 05)
        );
    }

    #[test]
    fn deadlines_reaching_an_unpublished_year_are_provisional() {
        let cal = WorkCalendar::built_in();
        let due = cal.add_working_days(date!(2026 - 12 - 15), 20);
        assert!(due.provisional);
        // 2027-01-01 is a statutory holiday even before 调休 is published.
        assert!(!cal.is_working_day(date!(2027 - 01 - 01)));
        assert!(!cal.add_working_days(date!(2026 - 11 - 02), 20).provisional);
        // Beyond the data the week still counts.
        assert_eq!(
            cal.add_working_days(date!(2030 - 06 - 07), 1).date,
            date!(2030 - 06 - 10)
        );
    }

    #[test]
    fn remaining_working_days_count_both_ways() {
        let cal = WorkCalendar::built_in();
        let due = date!(2025 - 02 - 27);
        assert_eq!(cal.working_days_left(date!(2025 - 01 - 24), due), 20);
        assert_eq!(cal.working_days_left(due, due), 0);
        assert_eq!(cal.working_days_left(date!(2025 - 03 - 03), due), -2);
    }

    #[test]
    fn bad_data_is_refused_with_its_line() {
        for (text, line) in [
            ("year 2025 confirmed x\nholiday 2025-13-01 x", 2),
            ("holiday 2025-01-01 x", 1),
            ("year 2025 confirmed x\nworkday 2025-01-06 周一", 2),
            (
                "year 2025 confirmed x\nholiday 2025-01-01 a\nholiday 2025-01-01 b",
                3,
            ),
            ("year 2025 maybe x", 1),
            ("year 2025 confirmed x\nholiday 2025-02-04..2025-01-28 x", 2),
        ] {
            assert_eq!(WorkCalendar::parse(text).unwrap_err().line, line, "{text}");
        }
    }
}
