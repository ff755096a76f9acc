//! Section 3 of the national annual report (收到和处理政府信息公开申请情况,
//! 国办公开办函〔2021〕30号), computed from the cases without I/O: which
//! cases count in a year, in which row and column, and the parents' sums.
//! Every result the case flow records (`disclosure::result::RESULTS`) is
//! exactly one row; a case concluded without one is an error, listed, not
//! dropped.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use crate::disclosure::applicant::ApplicantColumn as Column;
use crate::disclosure::result::RESULTS;

/// The columns: the six applicant columns, then 总计.
pub const COLUMNS: usize = 7;

fn column_index(c: Column) -> usize {
    Column::ALL.iter().position(|x| *x == c).unwrap_or(0)
}

/// The six result categories, in the table's order, with their labels.
pub const CATEGORIES: [(&str, &str); 6] = [
    ("disclosed", "（一）予以公开"),
    (
        "partly_disclosed",
        "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
    ),
    ("withheld", "（三）不予公开"),
    ("unable", "（四）无法提供"),
    ("not_processed", "（五）不予处理"),
    ("other", "（六）其他处理"),
];

/// A row of the table: its key (`new`, `withheld.state_secret`, …), its
/// label, its depth (0 section, 1 category, 2 reason) and its parent.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RowDef {
    pub key: String,
    pub label: String,
    pub level: u8,
    /// The row this one is a part of (its sum includes this row).
    pub parent: Option<String>,
    /// Computed from cases (drill-down possible); false for sums.
    pub leaf: bool,
}

/// The rows in the national layout.
pub fn rows() -> Vec<RowDef> {
    let row = |key: &str, label: &str, level, parent: Option<&str>, leaf| RowDef {
        key: key.to_owned(),
        label: label.to_owned(),
        level,
        parent: parent.map(str::to_owned),
        leaf,
    };
    let mut out = vec![
        row("new", "一、本年新收政府信息公开申请数量", 0, None, true),
        row(
            "carried_over",
            "二、上年结转政府信息公开申请数量",
            0,
            None,
            true,
        ),
        row("results", "三、本年度办理结果", 0, None, false),
    ];
    for (category, label) in CATEGORIES {
        let reasons: Vec<&(&str, &str, &str)> = RESULTS
            .iter()
            .filter(|(c, r, _)| *c == category && !r.is_empty())
            .collect();
        out.push(row(category, label, 1, Some("results"), reasons.is_empty()));
        for (n, (c, r, full)) in reasons.into_iter().enumerate() {
            let short = full.split_once('：').map_or(*full, |(_, s)| s);
            let key = format!("{c}.{r}");
            out.push(row(
                &key,
                &format!("{}．{short}", n + 1),
                2,
                Some(category),
                true,
            ));
        }
    }
    out.push(row("results_total", "（七）总计", 1, None, false));
    out.push(row(
        "carried_forward",
        "四、结转下年度继续办理",
        0,
        None,
        true,
    ));
    out
}

/// The row key of a result (category and reason, as the case records it);
/// None when Table 3 has no such row.
pub fn result_row(category: &str, reason: Option<&str>) -> Option<String> {
    let reason = reason.unwrap_or("");
    RESULTS
        .iter()
        .find(|(c, r, _)| *c == category && *r == reason)
        .map(|(c, r, _)| {
            if r.is_empty() {
                (*c).to_owned()
            } else {
                format!("{c}.{r}")
            }
        })
}

/// A case as the table counts it.
#[derive(Debug, Clone)]
pub struct CaseFact {
    pub case_id: String,
    pub case_no: String,
    pub column: Column,
    /// `YYYY-MM-DD`, Shanghai.
    pub received_on: String,
    /// The Shanghai day it was concluded, if it was.
    pub concluded_on: Option<String>,
    pub result_category: Option<String>,
    pub result_reason: Option<String>,
}

/// Which of a year's rows a case counts in: new or carried over, and its
/// result or carried forward.
pub fn rows_of(f: &CaseFact, year: i32) -> Result<Vec<String>, String> {
    let (from, to) = (format!("{year:04}-01-01"), format!("{year:04}-12-31"));
    let mut out = Vec::new();
    if f.received_on > to {
        return Ok(out);
    }
    match f.concluded_on.as_deref() {
        Some(day) if day < from.as_str() => return Ok(out),
        _ => {}
    }
    out.push(
        if f.received_on >= from {
            "new"
        } else {
            "carried_over"
        }
        .to_owned(),
    );
    match f.concluded_on.as_deref() {
        Some(day) if day <= to.as_str() => {
            let row = f
                .result_category
                .as_deref()
                .and_then(|c| result_row(c, f.result_reason.as_deref()));
            match row {
                Some(r) => out.push(r),
                None => return Err(format!("案件 {} 已办结但没有年报表三的处理结果", f.case_no)),
            }
        }
        _ => out.push("carried_forward".to_owned()),
    }
    Ok(out)
}

/// The table's figures: per row key, one count per column and the total.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Counts(pub BTreeMap<String, [i64; 7]>);

impl Counts {
    fn add(&mut self, row: &str, column: Column) {
        let cells = self.0.entry(row.to_owned()).or_insert([0; 7]);
        cells[column_index(column)] += 1;
        cells[6] += 1;
    }

    pub fn get(&self, row: &str) -> [i64; 7] {
        self.0.get(row).copied().unwrap_or([0; 7])
    }

    /// Every row of the layout present, the parents as the sums of their
    /// parts, and 三 as the sum of the six categories.
    fn with_sums(mut self) -> Counts {
        let layout = rows();
        for r in &layout {
            self.0.entry(r.key.clone()).or_insert([0; 7]);
        }
        for level in [2u8, 1] {
            for r in layout.iter().filter(|r| r.level == level) {
                let Some(parent) = &r.parent else { continue };
                let part = self.get(&r.key);
                let whole = self.0.entry(parent.clone()).or_insert([0; 7]);
                for (w, p) in whole.iter_mut().zip(part) {
                    *w += p;
                }
            }
        }
        let results = self.get("results");
        self.0.insert("results_total".into(), results);
        self
    }

    /// The sum of several tables (a district's or the city's roll-up).
    pub fn sum<'a>(tables: impl IntoIterator<Item = &'a Counts>) -> Counts {
        let mut out = Counts::default();
        for t in tables {
            for (row, cells) in &t.0 {
                let into = out.0.entry(row.clone()).or_insert([0; 7]);
                for (i, c) in into.iter_mut().zip(cells) {
                    *i += c;
                }
            }
        }
        out
    }
}

/// The table of one agency's cases for `year`, and the cases that could
/// not be counted (concluded without a result).
pub fn compute(facts: &[CaseFact], year: i32) -> (Counts, Vec<String>) {
    let mut counts = Counts::default();
    let mut errors = Vec::new();
    for f in facts {
        match rows_of(f, year) {
            Ok(rows) => rows.iter().for_each(|r| counts.add(r, f.column)),
            Err(e) => errors.push(e),
        }
    }
    (counts.with_sums(), errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(
        received: &str,
        concluded: Option<&str>,
        result: Option<(&str, Option<&str>)>,
    ) -> CaseFact {
        CaseFact {
            case_id: "c".into(),
            case_no: "GK-1".into(),
            column: Column::NaturalPerson,
            received_on: received.into(),
            concluded_on: concluded.map(Into::into),
            result_category: result.map(|r| r.0.into()),
            result_reason: result.and_then(|r| r.1.map(Into::into)),
        }
    }

    #[test]
    fn the_layout_has_every_result_once() {
        let layout = rows();
        let leaves: Vec<&RowDef> = layout.iter().filter(|r| r.level > 0 && r.leaf).collect();
        assert_eq!(leaves.len(), RESULTS.len(), "one row per result");
        for (c, r, _) in RESULTS {
            let reason = (!r.is_empty()).then_some(*r);
            let key = result_row(c, reason).unwrap();
            assert!(layout.iter().any(|row| row.key == key), "{key}");
        }
        assert_eq!(result_row("withheld", None), None);
        assert_eq!(layout.len(), 3 + 6 + 19 + 2);
    }

    #[test]
    fn a_year_counts_new_carried_results_and_carried_forward() {
        let facts = [
            fact("2026-03-01", Some("2026-03-20"), Some(("disclosed", None))),
            fact(
                "2025-12-20",
                Some("2026-01-10"),
                Some(("withheld", Some("state_secret"))),
            ),
            fact("2026-12-28", None, None),
            fact("2025-06-01", Some("2025-06-20"), Some(("disclosed", None))),
            fact("2027-01-02", None, None),
        ];
        let (t, errors) = compute(&facts, 2026);
        assert!(errors.is_empty());
        assert_eq!(t.get("new")[6], 2);
        assert_eq!(t.get("carried_over")[6], 1);
        assert_eq!(t.get("withheld")[6], 1);
        assert_eq!(t.get("results")[6], 2);
        assert_eq!(t.get("results_total")[0], 2);
        assert_eq!(t.get("carried_forward")[6], 1);
    }

    #[test]
    fn a_case_concluded_without_a_result_is_an_error() {
        let (t, errors) = compute(&[fact("2026-03-01", Some("2026-03-20"), None)], 2026);
        assert_eq!(errors.len(), 1);
        // Counted nowhere until its result is recorded.
        assert_eq!((t.get("new")[6], t.get("results_total")[6]), (0, 0));
    }
}
