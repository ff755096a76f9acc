//! The Shanghai working-day calendar, for statutory deadlines counted in
//! working days (政府信息公开条例 art. 30, 32, 33).
//!
//! A year is either published (the State Council's arrangement, from the
//! built-in `cn_shanghai.txt` or imported into the database, see
//! [`arrangement`]) or not yet: then its statutory days off by law alone
//! ([`statutory`]) are skipped and every answer that relied on such a year
//! says it is provisional, so that a deadline is never presented as certain
//! when it is not. The year's bridging days and the weekends worked for them
//! are what the fallback cannot know.

pub mod arrangement;
pub mod live;
pub mod reminder;
pub mod routes;
pub mod statutory;
pub mod store;

use std::collections::BTreeMap;

use time::{Date, Duration, OffsetDateTime, UtcOffset, Weekday};

pub use arrangement::Arrangement;

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

/// ISO 8601 (JSON, storage): 2026-12-03.
pub fn ymd(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

pub fn parse_ymd(s: &str) -> Option<Date> {
    Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

/// A date as an official document writes it (GB/T 9704-2012 §7.3.5.3: the
/// year in full, no leading zeros): 2026年12月3日.
pub fn chinese_date(d: Date) -> String {
    format!("{}年{}月{}日", d.year(), u8::from(d.month()), d.day())
}

/// What a person is told of a deadline: the date the Chinese way, and when
/// it was counted on a year not yet published, that it is an estimate.
pub fn deadline_label(due: Date, provisional: bool) -> String {
    if provisional {
        format!("预计{}（以国务院公布的节假日安排为准）", chinese_date(due))
    } else {
        chinese_date(due)
    }
}

/// [`deadline_label`] of a stored `YYYY-MM-DD`; the text itself when it is
/// not a date.
pub fn deadline_label_of(due: &str, provisional: bool) -> String {
    parse_ymd(due).map_or_else(|| due.to_owned(), |d| deadline_label(d, provisional))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DayKind {
    Holiday,
    Workday,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkCalendar {
    days: BTreeMap<Date, DayKind>,
    /// The published years, whose days are certain.
    published: BTreeMap<i32, Arrangement>,
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

impl WorkCalendar {
    /// The calendar of `published` years; every other year by the
    /// statutory fallback.
    pub fn new(published: impl IntoIterator<Item = Arrangement>) -> Self {
        let published: BTreeMap<i32, Arrangement> =
            published.into_iter().map(|a| (a.year, a)).collect();
        let mut days = BTreeMap::new();
        for year in statutory::YEARS.filter(|y| !published.contains_key(y)) {
            for (d, _) in statutory::days_off(year).unwrap_or_default() {
                days.insert(d, DayKind::Holiday);
            }
        }
        for a in published.values() {
            days.extend(a.holidays.keys().map(|d| (*d, DayKind::Holiday)));
            days.extend(a.workdays.keys().map(|d| (*d, DayKind::Workday)));
        }
        WorkCalendar { days, published }
    }

    /// The calendar compiled into this build.
    pub fn built_in() -> Self {
        // The built-in data is checked by the unit tests below.
        Self::new(parse(BUILT_IN).unwrap_or_default())
    }

    /// The built-in years and those of `file` (`disclosure.calendar_file`,
    /// which wins for a year both hold); the built-in ones alone when
    /// `file` is empty.
    pub fn from_file(file: &str) -> anyhow::Result<Self> {
        use anyhow::Context;
        let mut years = parse(BUILT_IN).context("built-in calendar")?;
        if !file.is_empty() {
            let text = std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?;
            years.extend(parse(&text).with_context(|| format!("calendar file {file}"))?);
        }
        Ok(Self::new(years))
    }

    /// This calendar with `years` published as well (replacing what it had
    /// for them).
    pub fn with(&self, years: impl IntoIterator<Item = Arrangement>) -> Self {
        let mut all = self.published.clone();
        all.extend(years.into_iter().map(|a| (a.year, a)));
        Self::new(all.into_values())
    }

    pub fn is_published(&self, year: i32) -> bool {
        self.published.contains_key(&year)
    }

    pub fn published(&self) -> impl Iterator<Item = &Arrangement> {
        self.published.values()
    }

    pub fn is_working_day(&self, day: Date) -> bool {
        match self.days.get(&day) {
            Some(DayKind::Holiday) => false,
            Some(DayKind::Workday) => true,
            None => !is_weekend(day),
        }
    }

    /// Whether a count over `from..=to` relies on an unpublished year.
    pub fn provisional_between(&self, from: Date, to: Date) -> bool {
        (from.year()..=to.year()).any(|y| !self.is_published(y))
    }

    /// `day` itself when it is a working day, else the next one: when an
    /// application submitted online on a day off counts as received.
    pub fn on_or_after(&self, day: Date) -> Reckoned {
        let mut d = day;
        while !self.is_working_day(d) {
            d += Duration::DAY;
        }
        Reckoned {
            date: d,
            provisional: self.provisional_between(day, d),
        }
    }

    /// The `n`th working day after `start` (the start day itself is not
    /// counted, as in every statutory period).
    pub fn add_working_days(&self, start: Date, n: u32) -> Reckoned {
        let mut d = start;
        let mut left = n;
        while left > 0 {
            d += Duration::DAY;
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        Reckoned {
            date: d,
            provisional: n > 0 && self.provisional_between(start + Duration::DAY, d),
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

/// The years of a calendar file: `year YYYY SOURCE` opens a year; then
/// `holiday DATE[..DATE] NAME` and `workday DATE NAME` lines.
pub fn parse(text: &str) -> Result<Vec<Arrangement>, ParseError> {
    let mut years: Vec<(usize, Arrangement)> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |reason: &str| ParseError {
            line: n + 1,
            reason: reason.to_owned(),
        };
        let mut words = line.splitn(3, char::is_whitespace);
        let (Some(kind), Some(what)) = (words.next(), words.next()) else {
            return Err(err("expected `KIND DATE NAME`"));
        };
        let name = words.next().unwrap_or_default().trim();
        if kind == "year" {
            let y: i32 = what.parse().map_err(|_| err("bad year"))?;
            years.push((n + 1, Arrangement::new(y, name)));
            continue;
        }
        let holiday = match kind {
            "holiday" => true,
            "workday" => false,
            _ => return Err(err("a line is `year`, `holiday` or `workday`")),
        };
        let days = arrangement::parse_days(what).map_err(|p| err(&p.reason))?;
        let Some((_, year)) = years.last_mut() else {
            return Err(err("a day must follow the `year` line of its year"));
        };
        if let Some(p) = year.add(&days, name, holiday).first() {
            return Err(err(&format!("{} {}", p.date, p.reason)));
        }
    }
    years
        .into_iter()
        .map(|(line, a)| match a.check() {
            Ok(()) => Ok(a),
            Err(problems) => Err(ParseError {
                line,
                reason: problems
                    .iter()
                    .map(|p| format!("{} {}", p.date, p.reason))
                    .collect::<Vec<_>>()
                    .join("; "),
            }),
        })
        .collect()
}

fn is_weekend(day: Date) -> bool {
    matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn count(a: &Arrangement) -> (usize, usize) {
        (a.holidays.len(), a.workdays.len())
    }

    #[test]
    fn built_in_data_parses_and_covers_2025_and_2026() {
        let years = parse(BUILT_IN).unwrap();
        // Published totals: 2025 has 28 listed days off (1+8+3+5+3+8) and 5
        // make-up days; 2026 has 33 (3+9+3+5+3+3+7) and 6.
        let counts: Vec<_> = years.iter().map(|a| (a.year, count(a))).collect();
        assert_eq!(counts, [(2025, (28, 5)), (2026, (33, 6))]);
        let cal = WorkCalendar::built_in();
        assert!(cal.is_published(2026) && !cal.is_published(2027));
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
            WorkCalendar::new(parse("year 2025 x\nholiday 2025-01-28..2025-02-04 春节").unwrap());
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
        // 2027-01-01 is a statutory holiday before 调休 is published.
        assert!(!cal.is_working_day(date!(2027 - 01 - 01)));
        assert!(!cal.add_working_days(date!(2026 - 11 - 02), 20).provisional);
    }

    /// The case: received Thu 2028-09-28, a year nobody has
    /// published. National Day (Sun 10-01 to Tue 10-03, Mid-Autumn on 10-03)
    /// and the Sunday made up on Wed 10-04 are skipped: the 20th working day
    /// is Tue 2028-10-31, not the Monday–Friday week's 2028-10-26.
    #[test]
    fn a_request_just_before_a_long_holiday_in_a_fallback_year() {
        let cal = WorkCalendar::built_in();
        let due = cal.add_working_days(date!(2028 - 09 - 28), 20);
        assert_eq!(due.date, date!(2028 - 10 - 31));
        assert!(due.provisional);
        // Spring Festival 2028: eve Tue 01-25 to Fri 01-28 off.
        let due = cal.add_working_days(date!(2028 - 01 - 24), 1);
        assert_eq!(due.date, date!(2028 - 01 - 31));
    }

    /// The fallback for 2026 against the published 2026: every statutory
    /// day off is off in the notice too; where they differ, the notice
    /// either gave a bridging day off or named a weekend day worked.
    #[test]
    fn the_fallback_differs_from_the_published_year_only_by_bridging_and_make_up_days() {
        let published = WorkCalendar::built_in();
        let fallback = WorkCalendar::new(
            parse(BUILT_IN)
                .unwrap()
                .into_iter()
                .filter(|a| a.year != 2026),
        );
        let notice = published
            .published()
            .find(|a| a.year == 2026)
            .unwrap()
            .clone();
        let mut day = date!(2026 - 01 - 01);
        let (mut bridging, mut worked) = (0, 0);
        while day.year() == 2026 {
            match (fallback.is_working_day(day), published.is_working_day(day)) {
                (false, true) => {
                    // A weekend worked, never a day the law gives off.
                    let by_law = statutory::days_off(2026)
                        .unwrap()
                        .iter()
                        .any(|(d, _)| *d == day);
                    assert!(
                        notice.workdays.contains_key(&day) && is_weekend(day) && !by_law,
                        "{day}"
                    );
                    worked += 1;
                }
                (true, false) => {
                    assert!(
                        notice.holidays.contains_key(&day) && !is_weekend(day),
                        "{day}"
                    );
                    bridging += 1;
                }
                _ => {}
            }
            day += Duration::DAY;
        }
        // 2026's notice bridges 01-02, 02-20, 02-23, 05-05, 10-06 and 10-07,
        // and pays them back with six Saturdays and Sundays worked.
        assert_eq!((bridging, worked), (6, 6));
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
            ("year 2025 x\nholiday 2025-13-01 x", 2),
            ("holiday 2025-01-01 x", 1),
            ("year 2025 x\nworkday 2025-01-06 周一", 1),
            ("year 2025 x\nholiday 2025-01-01 a\nholiday 2025-01-01 b", 3),
            ("year 2025 x\nholiday 2025-02-04..2025-01-28 x", 2),
            ("year 2025 x\nholiday 2026-01-01 x", 1),
        ] {
            assert_eq!(parse(text).unwrap_err().line, line, "{text}");
        }
    }

    #[test]
    fn dates_the_chinese_way() {
        assert_eq!(chinese_date(date!(2026 - 12 - 03)), "2026年12月3日");
        assert_eq!(chinese_date(date!(2027 - 01 - 15)), "2027年1月15日");
        assert_eq!(
            deadline_label(date!(2027 - 01 - 15), false),
            "2027年1月15日"
        );
        assert_eq!(
            deadline_label_of("2027-01-15", true),
            "预计2027年1月15日（以国务院公布的节假日安排为准）"
        );
    }
}
