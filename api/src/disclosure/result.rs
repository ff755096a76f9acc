//! How a case ends (art. 36), in the categories and reasons of the national
//! annual report's Table 3 (国办公开办函〔2021〕30号), so that the annual
//! report can be computed from cases alone. A case has exactly one.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult};

/// The Table 3 rows: (category, reason or "", label).
pub const RESULTS: &[(&str, &str, &str)] = &[
    ("disclosed", "", "予以公开"),
    (
        "partly_disclosed",
        "",
        "部分公开（区分处理的，只计这一情形，不计其他情形）",
    ),
    ("withheld", "state_secret", "不予公开：属于国家秘密"),
    (
        "withheld",
        "other_laws",
        "不予公开：其他法律行政法规禁止公开",
    ),
    (
        "withheld",
        "security_stability",
        "不予公开：危及“三安全一稳定”",
    ),
    (
        "withheld",
        "third_party_rights",
        "不予公开：保护第三方合法权益",
    ),
    (
        "withheld",
        "internal_affairs",
        "不予公开：属于三类内部事务信息",
    ),
    (
        "withheld",
        "process_information",
        "不予公开：属于四类过程性信息",
    ),
    (
        "withheld",
        "enforcement_files",
        "不予公开：属于行政执法案卷",
    ),
    (
        "withheld",
        "administrative_query",
        "不予公开：属于行政查询事项",
    ),
    ("unable", "not_held", "无法提供：本机关不掌握相关政府信息"),
    (
        "unable",
        "needs_creation",
        "无法提供：没有现成信息需要另行制作",
    ),
    (
        "unable",
        "unclear_after_correction",
        "无法提供：补正后申请内容仍不明确",
    ),
    ("not_processed", "petition", "不予处理：信访举报投诉类申请"),
    ("not_processed", "repeat", "不予处理：重复申请"),
    (
        "not_processed",
        "publication",
        "不予处理：要求提供公开出版物",
    ),
    (
        "not_processed",
        "mass_requests",
        "不予处理：无正当理由大量反复申请",
    ),
    (
        "not_processed",
        "confirm_or_reissue",
        "不予处理：要求行政机关确认或重新出具已获取信息",
    ),
    (
        "other",
        "correction_overdue",
        "其他处理：申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
    ),
    (
        "other",
        "fee_unpaid",
        "其他处理：申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
    ),
    ("other", "other", "其他处理：其他"),
];

/// A case's result: one Table 3 row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CaseResult {
    /// disclosed, partly_disclosed, withheld, unable, not_processed, other
    pub category: String,
    /// Required for withheld, unable, not_processed and other (see
    /// `RESULTS`); absent for disclosed and partly_disclosed.
    #[serde(default)]
    pub reason: Option<String>,
}

impl CaseResult {
    /// Checks the pair against Table 3; answers its label.
    pub fn label(&self) -> ApiResult<&'static str> {
        let reason = self.reason.as_deref().unwrap_or("");
        if !RESULTS.iter().any(|(c, _, _)| *c == self.category) {
            return Err(ApiError::invalid(
                "result.category",
                "不是年报表三的处理结果类别",
            ));
        }
        RESULTS
            .iter()
            .find(|(c, r, _)| *c == self.category && *r == reason)
            .map(|(_, _, label)| *label)
            .ok_or_else(|| ApiError::invalid("result.reason", "该处理结果类别下没有这一理由"))
    }

    pub fn correction_overdue() -> Self {
        CaseResult {
            category: "other".into(),
            reason: Some("correction_overdue".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_three_has_its_rows_and_refuses_others() {
        let count = |c: &str| RESULTS.iter().filter(|r| r.0 == c).count();
        assert_eq!(
            [
                count("disclosed"),
                count("partly_disclosed"),
                count("withheld"),
                count("unable"),
                count("not_processed"),
                count("other")
            ],
            [1, 1, 8, 3, 5, 3]
        );
        let ok = |c: &str, r: Option<&str>| {
            CaseResult {
                category: c.into(),
                reason: r.map(Into::into),
            }
            .label()
        };
        assert!(ok("disclosed", None).is_ok());
        assert!(ok("withheld", Some("state_secret")).is_ok());
        assert!(ok("withheld", None).is_err(), "a reason is needed");
        assert!(ok("disclosed", Some("state_secret")).is_err());
        assert!(ok("granted", None).is_err());
        assert!(CaseResult::correction_overdue().label().is_ok());
    }
}
