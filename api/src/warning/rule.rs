//! A warning rule and what it decides, without I/O: what is counted (an
//! applicant's requests, the agencies they went to, or the agencies one
//! request text went to), where (city-wide, one district, one agency), over
//! which window (rolling days, the calendar month, the calendar year), and
//! at which thresholds. Checked when saved; each problem names its field.

use serde::{Deserialize, Serialize};
use time::{Date, Duration, Month};
use utoipa::ToSchema;

use crate::error::FieldError;

crate::text_enum! {
    /// What a rule counts, per applicant.
    pub enum Measure {
        /// Requests filed.
        Requests = "requests",
        /// Distinct agencies the requests went to.
        Agencies = "agencies",
        /// Distinct agencies one (normalised) request text went to.
        SameText = "same_text",
    }
}

crate::text_enum! {
    /// Where the requests are counted.
    pub enum Scope {
        City = "city",
        /// Requests to agencies in one district's subtree.
        District = "district",
        /// Requests to one agency.
        Agency = "agency",
    }
}

crate::text_enum! {
    pub enum WindowKind {
        /// The last `window_days` days, today included.
        RollingDays = "rolling_days",
        CalendarMonth = "calendar_month",
        CalendarYear = "calendar_year",
    }
}

crate::text_enum! {
    pub enum Severity {
        Low = "low",
        Medium = "medium",
        High = "high",
    }
}

impl Severity {
    pub fn label_zh(self) -> &'static str {
        match self {
            Severity::Low => "一般",
            Severity::Medium => "较重",
            Severity::High => "严重",
        }
    }
}

/// A rule as the administrator writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub category_id: String,
    pub name: String,
    #[schema(value_type = String)]
    pub measure: Measure,
    #[schema(value_type = String)]
    pub scope: Scope,
    /// The district or agency, for those scopes.
    pub scope_unit_id: Option<String>,
    #[schema(value_type = String)]
    pub window: WindowKind,
    /// For `rolling_days`: 1 to 366.
    pub window_days: Option<u32>,
    /// A warning at this count or above.
    pub threshold: u32,
    /// A hint to the registering handler from this count (below the
    /// threshold); none: no hint.
    pub hint_threshold: Option<u32>,
    #[schema(value_type = String)]
    pub severity: Severity,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Tell the disclosure handlers of the agencies concerned (push, then
    /// SMS, and a to-do item); the General Office always sees the warning.
    #[serde(default = "yes")]
    pub notify_agencies: bool,
}

/// The rule's name from its stored JSON; empty if the JSON has none.
pub fn name_of_spec(spec: &str) -> String {
    serde_json::from_str::<serde_json::Value>(spec)
        .ok()
        .and_then(|v| v["name"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn yes() -> bool {
    true
}

fn problem(field: &str, reason: &str) -> FieldError {
    FieldError {
        field: field.to_owned(),
        reason: reason.to_owned(),
    }
}

impl RuleSpec {
    /// The checks of saving a rule (the category and unit are checked
    /// against the database by the caller).
    pub fn check(&self) -> Result<(), Vec<FieldError>> {
        let mut p = Vec::new();
        let name = self.name.trim().chars().count();
        if name == 0 || name > 100 {
            p.push(problem("name", "名称须为 1 至 100 个字符"));
        }
        if self.threshold == 0 {
            p.push(problem("threshold", "阈值须大于 0"));
        }
        if self
            .hint_threshold
            .is_some_and(|h| h == 0 || h >= self.threshold)
        {
            p.push(problem("hint_threshold", "提示阈值须大于 0 且小于预警阈值"));
        }
        match (self.window, self.window_days) {
            (WindowKind::RollingDays, Some(1..=366)) => {}
            (WindowKind::RollingDays, _) => p.push(problem("window_days", "滚动天数须为 1 至 366")),
            (_, Some(_)) => p.push(problem("window_days", "只有滚动窗口需要天数")),
            (_, None) => {}
        }
        match (self.scope, &self.scope_unit_id) {
            (Scope::City, None) | (Scope::District | Scope::Agency, Some(_)) => {}
            (Scope::City, Some(_)) => p.push(problem("scope_unit_id", "全市范围不需要指定单位")),
            _ => p.push(problem("scope_unit_id", "须指定区或机关")),
        }
        if p.is_empty() { Ok(()) } else { Err(p) }
    }

    /// The window that holds `today`: its first and last day, inclusive.
    pub fn window_on(&self, today: Date) -> (Date, Date) {
        match self.window {
            WindowKind::RollingDays => {
                let days = i64::from(self.window_days.unwrap_or(1).max(1));
                (today - Duration::days(days - 1), today)
            }
            WindowKind::CalendarMonth => {
                let first = today.replace_day(1).unwrap_or(today);
                let next = if today.month() == Month::December {
                    Date::from_calendar_date(today.year() + 1, Month::January, 1)
                } else {
                    Date::from_calendar_date(today.year(), today.month().next(), 1)
                };
                (first, next.map_or(today, |n| n - Duration::days(1)))
            }
            WindowKind::CalendarYear => {
                let first =
                    Date::from_calendar_date(today.year(), Month::January, 1).unwrap_or(today);
                let last =
                    Date::from_calendar_date(today.year(), Month::December, 31).unwrap_or(today);
                (first, last)
            }
        }
    }

    /// What a count in the window comes to.
    pub fn judge(&self, count: u32) -> Outcome {
        if count >= self.threshold {
            Outcome::Warning
        } else if self.hint_threshold.is_some_and(|h| count >= h) {
            Outcome::Hint
        } else {
            Outcome::Nothing
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Nothing,
    /// Shown to the registering handler only.
    Hint,
    Warning,
}

/// One of the applicant's requests, as the rules count it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Filed {
    pub unit_id: String,
    pub unit_path: String,
    pub text_key: String,
    /// `YYYY-MM-DD`, which sorts as the days do.
    pub received_on: String,
}

/// What a rule finds among an applicant's requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub requests: i64,
    pub agencies: i64,
    /// The rule's own measure: requests, or agencies.
    pub measured: i64,
}

impl RuleSpec {
    /// Counts the requests of `filed` in the window on `today`, under
    /// `scope_path` and, for the same-text rule, with `text_key`.
    pub fn tally(&self, filed: &[Filed], today: Date, scope_path: &str, text_key: &str) -> Tally {
        let (from, to) = self.window_on(today);
        let (from, to) = (crate::calendar::ymd(from), crate::calendar::ymd(to));
        let same_text = self.measure == Measure::SameText;
        let counted: Vec<&Filed> = filed
            .iter()
            .filter(|f| f.received_on >= from && f.received_on <= to)
            .filter(|f| f.unit_path.starts_with(scope_path))
            .filter(|f| !same_text || f.text_key == text_key)
            .collect();
        let agencies: std::collections::BTreeSet<&str> =
            counted.iter().map(|f| f.unit_id.as_str()).collect();
        let (requests, agencies) = (counted.len() as i64, agencies.len() as i64);
        let measured = match self.measure {
            Measure::Requests => requests,
            Measure::Agencies | Measure::SameText => agencies,
        };
        Tally {
            requests,
            agencies,
            measured,
        }
    }
}

/// A request's text for the same-text rule: letters and digits only, in
/// lower case, so that spacing, punctuation and width do not hide a copy.
pub fn normalise_text(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            // Full-width ASCII letters and digits as their half-width forms.
            '\u{ff10}'..='\u{ff5a}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn spec() -> RuleSpec {
        RuleSpec {
            category_id: "c".into(),
            name: "月度申请过多".into(),
            measure: Measure::Requests,
            scope: Scope::City,
            scope_unit_id: None,
            window: WindowKind::CalendarMonth,
            window_days: None,
            threshold: 10,
            hint_threshold: Some(8),
            severity: Severity::Medium,
            enabled: true,
            notify_agencies: true,
        }
    }

    #[test]
    fn bad_rules_are_refused_naming_each_field() {
        spec().check().unwrap();
        let mut s = spec();
        s.threshold = 0;
        s.hint_threshold = Some(12);
        s.window_days = Some(3);
        s.scope = Scope::District;
        s.name = " ".into();
        let fields: Vec<String> = s
            .check()
            .unwrap_err()
            .into_iter()
            .map(|p| p.field)
            .collect();
        assert_eq!(
            fields,
            [
                "name",
                "threshold",
                "hint_threshold",
                "window_days",
                "scope_unit_id"
            ]
        );
        let mut rolling = spec();
        rolling.window = WindowKind::RollingDays;
        assert_eq!(rolling.check().unwrap_err()[0].field, "window_days");
        rolling.window_days = Some(0);
        assert_eq!(rolling.check().unwrap_err()[0].field, "window_days");
    }

    fn filed(unit: &str, path: &str, text: &str, day: &str) -> Filed {
        Filed {
            unit_id: unit.into(),
            unit_path: path.into(),
            text_key: text.into(),
            received_on: day.into(),
        }
    }

    #[test]
    fn a_tally_counts_the_window_the_scope_and_the_text() {
        let history = [
            filed("a", "/sh/xh/", "t1", "2026-11-30"),
            filed("a", "/sh/xh/", "t1", "2026-12-01"),
            filed("b", "/sh/pd/", "t1", "2026-12-02"),
            filed("c", "/sh/xh/jd/", "t2", "2026-12-03"),
        ];
        let today = date!(2026 - 12 - 03);
        let month = spec();
        let all = month.tally(&history, today, "/", "t1");
        assert_eq!((all.requests, all.agencies, all.measured), (3, 3, 3));
        let xuhui = month.tally(&history, today, "/sh/xh/", "t1");
        assert_eq!((xuhui.requests, xuhui.agencies), (2, 2));
        let mut same = spec();
        same.measure = Measure::SameText;
        let t = same.tally(&history, today, "/", "t1");
        assert_eq!((t.requests, t.measured), (2, 2), "a and b, in December");
        let mut day = spec();
        day.window = WindowKind::RollingDays;
        day.window_days = Some(2);
        day.measure = Measure::Agencies;
        assert_eq!(day.tally(&history, today, "/", "").measured, 2);
    }

    #[test]
    fn windows_and_thresholds() {
        let s = spec();
        assert_eq!(
            s.window_on(date!(2026 - 12 - 03)),
            (date!(2026 - 12 - 01), date!(2026 - 12 - 31))
        );
        assert_eq!(
            s.window_on(date!(2028 - 02 - 10)),
            (date!(2028 - 02 - 01), date!(2028 - 02 - 29))
        );
        let mut r = spec();
        r.window = WindowKind::RollingDays;
        r.window_days = Some(365);
        assert_eq!(r.window_on(date!(2026 - 12 - 03)).0, date!(2025 - 12 - 04));
        r.window = WindowKind::CalendarYear;
        assert_eq!(
            r.window_on(date!(2026 - 12 - 03)),
            (date!(2026 - 01 - 01), date!(2026 - 12 - 31))
        );
        assert_eq!(
            (s.judge(7), s.judge(8), s.judge(10)),
            (Outcome::Nothing, Outcome::Hint, Outcome::Warning)
        );
        assert_eq!(
            normalise_text("请公开 2026年 预算！"),
            normalise_text("请公开２０２６年预算")
        );
    }
}
