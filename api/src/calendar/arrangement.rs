//! One year's holiday arrangement as the State Council publishes it
//! (国务院办公厅关于某年部分节假日安排的通知): the days off and the Saturdays
//! or Sundays worked instead (调休上班). It comes from the built-in data file,
//! from `gov-server calendar import FILE`, or from the PC API; all three go
//! through [`Arrangement::check`], so a year is loaded only whole and right.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{Date, Weekday};
use utoipa::ToSchema;

use super::ymd;

/// A published year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrangement {
    pub year: i32,
    /// The notice it comes from (title, number, date).
    pub source: String,
    /// Days off, weekends inside a holiday included, with the holiday's name.
    pub holidays: BTreeMap<Date, String>,
    /// Saturdays and Sundays worked.
    pub workdays: BTreeMap<Date, String>,
}

/// What is wrong with one date of an arrangement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DateProblem {
    /// YYYY-MM-DD (or the text that did not parse).
    pub date: String,
    pub reason: String,
}

/// Days as a person writes them: one date or a range `from..to`, and a name.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DaysInput {
    /// `2027-02-05` or `2027-02-05..2027-02-11`.
    pub dates: String,
    /// The holiday's name, e.g. 春节.
    pub name: String,
}

/// A year's arrangement as the PC API takes it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArrangementInput {
    pub source: String,
    pub holidays: Vec<DaysInput>,
    pub workdays: Vec<DaysInput>,
}

/// The longest range one line may name: a month.
const LONGEST_RANGE_DAYS: i64 = 31;

fn parse_date(s: &str) -> Option<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, format).ok()
}

/// The days `from..to` (or the one day) that `text` names.
pub fn parse_days(text: &str) -> Result<Vec<Date>, DateProblem> {
    let problem = |reason: &str| DateProblem {
        date: text.to_owned(),
        reason: reason.to_owned(),
    };
    let (first, last) = match text.split_once("..") {
        Some((a, b)) => (parse_date(a.trim()), parse_date(b.trim())),
        None => (parse_date(text.trim()), parse_date(text.trim())),
    };
    let (Some(first), Some(last)) = (first, last) else {
        return Err(problem("日期格式为 YYYY-MM-DD 或 YYYY-MM-DD..YYYY-MM-DD"));
    };
    if first > last || (last - first).whole_days() > LONGEST_RANGE_DAYS {
        return Err(problem("日期区间须从前往后，且不超过一个月"));
    }
    let mut days = vec![first];
    while let Some(next) = days
        .last()
        .and_then(|d| d.next_day())
        .filter(|d| *d <= last)
    {
        days.push(next);
    }
    Ok(days)
}

/// An arrangement as `calendar_years.arrangement` stores it: dates as
/// `YYYY-MM-DD` keys.
#[derive(Serialize, Deserialize)]
struct Stored {
    year: i32,
    source: String,
    holidays: BTreeMap<String, String>,
    workdays: BTreeMap<String, String>,
}

impl Arrangement {
    /// The stored JSON form.
    pub fn to_json(&self) -> String {
        let days =
            |m: &BTreeMap<Date, String>| m.iter().map(|(d, n)| (ymd(*d), n.clone())).collect();
        let stored = Stored {
            year: self.year,
            source: self.source.clone(),
            holidays: days(&self.holidays),
            workdays: days(&self.workdays),
        };
        serde_json::to_string(&stored).unwrap_or_default()
    }

    /// Reads the stored JSON form back, checked as on import.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let s: Stored = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let days = |m: BTreeMap<String, String>| -> Result<BTreeMap<Date, String>, String> {
            m.into_iter()
                .map(|(d, n)| super::parse_ymd(&d).map(|d| (d, n)).ok_or(d))
                .collect()
        };
        let a = Arrangement {
            year: s.year,
            source: s.source,
            holidays: days(s.holidays)?,
            workdays: days(s.workdays)?,
        };
        a.check().map_err(|p| format!("{p:?}"))?;
        Ok(a)
    }

    pub fn new(year: i32, source: &str) -> Self {
        Arrangement {
            year,
            source: source.to_owned(),
            holidays: BTreeMap::new(),
            workdays: BTreeMap::new(),
        }
    }

    /// `input` for `year`, checked; every problem names its date.
    pub fn from_input(year: i32, input: &ArrangementInput) -> Result<Self, Vec<DateProblem>> {
        let mut a = Arrangement::new(year, input.source.trim());
        let mut problems = Vec::new();
        for (list, into_holidays) in [(&input.holidays, true), (&input.workdays, false)] {
            for days in list {
                match parse_days(&days.dates) {
                    Ok(ds) => problems.extend(a.add(&ds, days.name.trim(), into_holidays)),
                    Err(p) => problems.push(p),
                }
            }
        }
        problems.extend(a.check().err().unwrap_or_default());
        if problems.is_empty() {
            Ok(a)
        } else {
            Err(problems)
        }
    }

    /// Adds `days` as holidays (or make-up working days); a day listed twice
    /// in the same list is a problem.
    pub fn add(&mut self, days: &[Date], name: &str, holidays: bool) -> Vec<DateProblem> {
        let list = if holidays {
            &mut self.holidays
        } else {
            &mut self.workdays
        };
        days.iter()
            .filter_map(|d| {
                list.insert(*d, name.to_owned())
                    .map(|_| problem(*d, "同一日期重复列出"))
            })
            .collect()
    }

    /// The rules of a published arrangement: every date inside the year, no
    /// day both off and worked, make-up working days only on weekends.
    pub fn check(&self) -> Result<(), Vec<DateProblem>> {
        let mut problems = Vec::new();
        if self.source.is_empty() {
            problems.push(DateProblem {
                date: self.year.to_string(),
                reason: "须注明来源（国务院办公厅通知的名称和文号）".into(),
            });
        }
        for d in self.holidays.keys().chain(self.workdays.keys()) {
            if d.year() != self.year {
                problems.push(problem(*d, &format!("不在 {} 年内", self.year)));
            }
        }
        for d in self.workdays.keys() {
            if self.holidays.contains_key(d) {
                problems.push(problem(*d, "同一天既是放假日又是调休上班日"));
            }
            if !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday) {
                problems.push(problem(*d, "调休上班日只能是周六或周日"));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

fn problem(d: Date, reason: &str) -> DateProblem {
    DateProblem {
        date: ymd(d),
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(holidays: &[(&str, &str)], workdays: &[(&str, &str)]) -> ArrangementInput {
        let days = |l: &[(&str, &str)]| {
            l.iter()
                .map(|(d, n)| DaysInput {
                    dates: (*d).into(),
                    name: (*n).into(),
                })
                .collect()
        };
        ArrangementInput {
            source: "国办发明电〔2026〕1号".into(),
            holidays: days(holidays),
            workdays: days(workdays),
        }
    }

    #[test]
    fn a_good_year_is_taken_whole() {
        let i = input(
            &[("2027-02-05..2027-02-11", "春节")],
            &[("2027-02-20", "春节调休上班")],
        );
        let a = Arrangement::from_input(2027, &i).unwrap();
        assert_eq!(a.holidays.len(), 7);
        assert_eq!(a.workdays.len(), 1);
    }

    #[test]
    fn every_bad_date_is_named() {
        let i = input(
            &[
                ("2028-01-01", "元旦"),
                ("2027-02-31", "春节"),
                ("2027-10-01", "国庆节"),
            ],
            &[("2027-10-01", "x"), ("2027-02-22", "周一")],
        );
        let problems = Arrangement::from_input(2027, &i).unwrap_err();
        let named: Vec<&str> = problems.iter().map(|p| p.date.as_str()).collect();
        assert_eq!(
            named,
            [
                "2027-02-31",
                "2028-01-01",
                "2027-02-22",
                "2027-10-01",
                "2027-10-01"
            ]
        );
        assert!(problems.iter().any(|p| p.reason.contains("既是放假日")));
        assert!(problems.iter().any(|p| p.reason.contains("周六或周日")));
    }

    #[test]
    fn the_stored_form_reads_back_the_same() {
        let i = input(
            &[("2027-10-01..2027-10-07", "国庆节")],
            &[("2027-10-09", "国庆节调休上班")],
        );
        let a = Arrangement::from_input(2027, &i).unwrap();
        assert!(a.to_json().contains("\"2027-10-01\":\"国庆节\""));
        assert_eq!(Arrangement::from_json(&a.to_json()).unwrap(), a);
    }

    #[test]
    fn ranges_run_forward_and_stay_short() {
        assert!(parse_days("2027-02-11..2027-02-05").is_err());
        assert!(parse_days("2027-01-01..2027-03-01").is_err());
        assert_eq!(parse_days("2027-01-30..2027-02-02").unwrap().len(), 4);
    }
}
