//! The consistency checks a report must pass before it is submitted, each
//! naming the cells it compares (without I/O).

use serde::Serialize;
use utoipa::ToSchema;

use super::entered::Entered;
use super::table3::{Column, Counts, rows};

/// A check that failed.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Failed {
    /// `balance`, `parts`, `carried_over`, `negative`, `appeals_total`, `uncounted`.
    pub check: &'static str,
    /// The cells compared: `row/column` for section 3, field paths otherwise.
    pub cells: Vec<String>,
    pub message: String,
}

const COLUMN_KEYS: [&str; 7] = [
    "natural_person",
    "commercial_enterprise",
    "research_institution",
    "public_interest",
    "legal_service",
    "other_organisation",
    "total",
];

fn cell(row: &str, col: usize) -> String {
    format!("{row}/{}", COLUMN_KEYS[col])
}

fn column_label(col: usize) -> &'static str {
    Column::ALL.get(col).map_or("总计", |c| c.label_zh())
}

/// Every check of section 3 and 4. `last_year`: last year's section 3,
/// when that report exists in the system; `uncounted`: the cases the
/// computation could not place.
pub fn run(
    t: &Counts,
    e: &Entered,
    last_year: Option<&Counts>,
    uncounted: &[String],
) -> Vec<Failed> {
    let mut out = Vec::new();
    for (row, cells) in &t.0 {
        for (col, v) in cells.iter().enumerate() {
            if *v < 0 {
                out.push(Failed {
                    check: "negative",
                    cells: vec![cell(row, col)],
                    message: format!("{row} 的 {} 为负数", column_label(col)),
                });
            }
        }
    }
    let (new, carried, results, forward) = (
        t.get("new"),
        t.get("carried_over"),
        t.get("results_total"),
        t.get("carried_forward"),
    );
    for col in 0..7 {
        if new[col] + carried[col] != results[col] + forward[col] {
            out.push(Failed {
                check: "balance",
                cells: ["new", "carried_over", "results_total", "carried_forward"]
                    .map(|r| cell(r, col))
                    .to_vec(),
                message: format!(
                    "{}：本年新收 {} + 上年结转 {} ≠ 办理结果总计 {} + 结转下年度 {}",
                    column_label(col),
                    new[col],
                    carried[col],
                    results[col],
                    forward[col]
                ),
            });
        }
    }
    parts(t, &mut out);
    if let Some(last) = last_year {
        let before = last.get("carried_forward");
        for col in 0..7 {
            if before[col] != carried[col] {
                out.push(Failed {
                    check: "carried_over",
                    cells: vec![cell("carried_over", col)],
                    message: format!(
                        "{}：上年结转 {} 与上年度报告的结转下年度 {} 不一致",
                        column_label(col),
                        carried[col],
                        before[col]
                    ),
                });
            }
        }
    }
    appeals(e, &mut out);
    out.extend(uncounted.iter().map(|m| Failed {
        check: "uncounted",
        cells: Vec::new(),
        message: m.clone(),
    }));
    out
}

/// Every row with parts sums to them; 三 and （七）总计 agree.
fn parts(t: &Counts, out: &mut Vec<Failed>) {
    let layout = rows();
    for parent in layout.iter().filter(|r| !r.leaf || r.level == 1) {
        let children: Vec<&str> = layout
            .iter()
            .filter(|r| r.parent.as_deref() == Some(parent.key.as_str()))
            .map(|r| r.key.as_str())
            .collect();
        if children.is_empty() {
            continue;
        }
        for (col, whole) in t.get(&parent.key).into_iter().enumerate() {
            let sum: i64 = children.iter().map(|c| t.get(c)[col]).sum();
            if sum != whole {
                let mut cells = vec![cell(&parent.key, col)];
                cells.extend(children.iter().map(|c| cell(c, col)));
                out.push(Failed {
                    check: "parts",
                    cells,
                    message: format!(
                        "{}（{}）不等于其各项之和 {sum}",
                        parent.label,
                        column_label(col)
                    ),
                });
            }
        }
    }
    if t.get("results") != t.get("results_total") {
        out.push(Failed {
            check: "parts",
            cells: vec!["results/total".into(), "results_total/total".into()],
            message: "办理结果与（七）总计不一致".into(),
        });
    }
}

/// Each kind of proceedings: the four outcomes sum to the total.
fn appeals(e: &Entered, out: &mut Vec<Failed>) {
    for (name, o) in e.appeals.kinds() {
        let sum = o.upheld + o.corrected + o.other + o.pending;
        if sum != o.total {
            out.push(Failed {
                check: "appeals_total",
                cells: ["upheld", "corrected", "other", "pending", "total"]
                    .map(|c| format!("appeals.{name}.{c}"))
                    .to_vec(),
                message: format!(
                    "{name}：维持、纠正、其他、尚未审结之和 {sum} ≠ 总计 {}",
                    o.total
                ),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::table3::{CaseFact, compute};
    use super::*;

    fn fact(received: &str, concluded: Option<&str>) -> CaseFact {
        CaseFact {
            case_id: "c".into(),
            case_no: "GK-1".into(),
            column: Column::LegalService,
            received_on: received.into(),
            concluded_on: concluded.map(Into::into),
            result_category: concluded.map(|_| "disclosed".into()),
            result_reason: None,
        }
    }

    #[test]
    fn a_computed_table_balances_and_a_broken_one_names_its_cells() {
        let (t, uncounted) = compute(
            &[
                fact("2026-02-01", Some("2026-02-10")),
                fact("2026-12-30", None),
            ],
            2026,
        );
        let e = Entered::default();
        assert!(run(&t, &e, None, &uncounted).is_empty());
        let mut broken = t.clone();
        broken.0.get_mut("disclosed").unwrap()[4] = 5;
        let failed = run(&broken, &e, None, &[]);
        let checks: Vec<&str> = failed.iter().map(|f| f.check).collect();
        assert!(checks.contains(&"parts"), "{failed:?}");
        assert!(
            failed
                .iter()
                .any(|f| f.cells.contains(&"disclosed/legal_service".to_owned()))
        );
        let mut last = Counts::default();
        last.0
            .insert("carried_forward".into(), [0, 0, 0, 0, 3, 0, 3]);
        let failed = run(&t, &e, Some(&last), &[]);
        assert_eq!(failed.len(), 2, "legal services and the total: {failed:?}");
        assert!(failed.iter().all(|f| f.check == "carried_over"));
    }

    #[test]
    fn appeals_must_add_up() {
        let (t, _) = compute(&[], 2026);
        let mut e = Entered::default();
        e.appeals.reconsideration.upheld = 2;
        let failed = run(&t, &e, None, &[]);
        assert_eq!(failed[0].check, "appeals_total");
        e.appeals.reconsideration.total = 2;
        assert!(run(&t, &e, None, &[]).is_empty());
    }
}
