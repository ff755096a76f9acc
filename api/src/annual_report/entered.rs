//! What an agency enters itself (the figures that do not come from cases):
//! section 2, proactive disclosure (主动公开); section 4, administrative
//! reconsideration and litigation (行政复议、行政诉讼); and the free-text
//! sections. A figure left out is 0. Checked on save, each problem naming
//! its field.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::FieldError;

/// Issued this year, repealed this year, in force (件).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Documents {
    pub issued: i64,
    pub repealed: i64,
    pub in_force: i64,
}

/// Section 2 (主动公开政府信息情况).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Proactive {
    /// 规章
    pub rules: Documents,
    /// 行政规范性文件
    pub normative_documents: Documents,
    /// 行政许可：本年处理决定数量
    pub licensing_decisions: i64,
    /// 行政处罚：本年处理决定数量
    pub penalties: i64,
    /// 行政强制：本年处理决定数量
    pub coercive_measures: i64,
    /// 行政事业性收费：本年收费金额（万元）, at most 4 decimals.
    #[schema(value_type = String, example = "12.5")]
    pub fees_10k_yuan: Decimal,
}

/// One kind of proceedings: upheld, corrected, other, pending, total.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Outcomes {
    /// 结果维持
    pub upheld: i64,
    /// 结果纠正
    pub corrected: i64,
    /// 其他结果
    pub other: i64,
    /// 尚未审结
    pub pending: i64,
    /// 总计
    pub total: i64,
}

/// Section 4 (政府信息公开行政复议、行政诉讼情况).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Appeals {
    /// 行政复议
    pub reconsideration: Outcomes,
    /// 行政诉讼：未经复议直接起诉
    pub litigation_direct: Outcomes,
    /// 行政诉讼：复议后起诉
    pub litigation_after_reconsideration: Outcomes,
}

/// Everything the agency enters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Entered {
    pub proactive: Proactive,
    pub appeals: Appeals,
    /// 一、总体情况
    pub overview: String,
    /// 五、存在的主要问题及改进情况
    pub problems: String,
    /// 六、其他需要报告的事项
    pub other_matters: String,
}

const MAX_TEXT: usize = 20_000;
const MAX_COUNT: i64 = 100_000_000;

impl Entered {
    /// Every entered figure is a non-negative count (fees: an amount with at
    /// most 4 decimals); texts are bounded.
    pub fn check(&self) -> Vec<FieldError> {
        let mut problems = Vec::new();
        let mut count = |field: String, v: i64| {
            if !(0..=MAX_COUNT).contains(&v) {
                problems.push(FieldError {
                    field,
                    reason: "须为不小于 0 的整数".into(),
                });
            }
        };
        let p = &self.proactive;
        for (name, d) in [
            ("rules", &p.rules),
            ("normative_documents", &p.normative_documents),
        ] {
            count(format!("proactive.{name}.issued"), d.issued);
            count(format!("proactive.{name}.repealed"), d.repealed);
            count(format!("proactive.{name}.in_force"), d.in_force);
        }
        count(
            "proactive.licensing_decisions".into(),
            p.licensing_decisions,
        );
        count("proactive.penalties".into(), p.penalties);
        count("proactive.coercive_measures".into(), p.coercive_measures);
        for (name, o) in self.appeals.kinds() {
            for (cell, v) in o.cells() {
                count(format!("appeals.{name}.{cell}"), v);
            }
        }
        if p.fees_10k_yuan.is_sign_negative() || p.fees_10k_yuan.scale() > 4 {
            problems.push(FieldError {
                field: "proactive.fees_10k_yuan".into(),
                reason: "须为不小于 0 的金额（万元），最多 4 位小数".into(),
            });
        }
        for (field, text) in [
            ("overview", &self.overview),
            ("problems", &self.problems),
            ("other_matters", &self.other_matters),
        ] {
            if text.chars().count() > MAX_TEXT {
                problems.push(FieldError {
                    field: field.into(),
                    reason: format!("最多 {MAX_TEXT} 个字符"),
                });
            }
        }
        problems
    }
}

impl Appeals {
    pub fn kinds(&self) -> [(&'static str, &Outcomes); 3] {
        [
            ("reconsideration", &self.reconsideration),
            ("litigation_direct", &self.litigation_direct),
            (
                "litigation_after_reconsideration",
                &self.litigation_after_reconsideration,
            ),
        ]
    }
}

impl Outcomes {
    pub fn cells(&self) -> [(&'static str, i64); 5] {
        [
            ("upheld", self.upheld),
            ("corrected", self.corrected),
            ("other", self.other),
            ("pending", self.pending),
            ("total", self.total),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_figures_and_long_amounts_are_refused_by_field() {
        let mut e = Entered::default();
        assert!(e.check().is_empty());
        e.proactive.rules.issued = -1;
        e.appeals.litigation_direct.pending = -3;
        e.proactive.fees_10k_yuan = Decimal::new(-1, 0);
        let fields: Vec<String> = e.check().into_iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            [
                "proactive.rules.issued",
                "appeals.litigation_direct.pending",
                "proactive.fees_10k_yuan"
            ]
        );
        e = Entered::default();
        e.proactive.fees_10k_yuan = Decimal::new(123_456, 5);
        assert_eq!(e.check()[0].field, "proactive.fees_10k_yuan");
        e.proactive.fees_10k_yuan = Decimal::new(12_345, 4);
        assert!(e.check().is_empty());
    }
}
