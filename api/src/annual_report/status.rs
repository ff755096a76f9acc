//! The report's states and the checked steps between them (without I/O).

use crate::error::{ApiError, ApiResult};

crate::text_enum! {
    pub enum ReportStatus {
        /// 草稿: the agency is preparing it.
        Draft = "draft",
        /// 已报送: with the unit above, frozen.
        Submitted = "submitted",
        /// 已退回: back with the agency, with a reason.
        Returned = "returned",
        /// 已采纳: accepted by the unit above, frozen for good.
        Accepted = "accepted",
    }
}

impl ReportStatus {
    pub fn label_zh(self) -> &'static str {
        match self {
            ReportStatus::Draft => "草稿",
            ReportStatus::Submitted => "已报送",
            ReportStatus::Returned => "已退回",
            ReportStatus::Accepted => "已采纳",
        }
    }
}

crate::text_enum! {
    /// What happened to a report, as its history lists it.
    pub enum EventKind {
        Created = "created",
        Refreshed = "refreshed",
        Saved = "saved",
        Submitted = "submitted",
        Returned = "returned",
        Accepted = "accepted",
    }
}

impl EventKind {
    pub fn label_zh(self) -> &'static str {
        match self {
            EventKind::Created => "创建并计算",
            EventKind::Refreshed => "重新计算",
            EventKind::Saved => "保存填报内容",
            EventKind::Submitted => "报送",
            EventKind::Returned => "退回",
            EventKind::Accepted => "采纳",
        }
    }
}

/// What is done to a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Entered sections saved, or the tables computed again.
    Edit,
    Submit,
    Return,
    Accept,
}

/// The state after `step`, or 409 naming why not.
pub fn after(status: ReportStatus, step: Step) -> ApiResult<ReportStatus> {
    use ReportStatus::*;
    match (status, step) {
        (Draft | Returned, Step::Edit) => Ok(status),
        (Draft | Returned, Step::Submit) => Ok(Submitted),
        (Submitted, Step::Return) => Ok(Returned),
        (Submitted, Step::Accept) => Ok(Accepted),
        (Submitted | Accepted, Step::Edit | Step::Submit) => Err(ApiError::Conflict {
            code: "report_frozen",
            detail: format!("报告{}，不能修改", status.label_zh()),
        }),
        _ => Err(ApiError::Conflict {
            code: "report_not_submitted",
            detail: format!("报告{}，不能退回或采纳", status.label_zh()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_drafts_change_and_only_submitted_reports_are_decided() {
        use ReportStatus::*;
        assert_eq!(after(Draft, Step::Submit).unwrap(), Submitted);
        assert_eq!(after(Returned, Step::Edit).unwrap(), Returned);
        assert_eq!(after(Submitted, Step::Return).unwrap(), Returned);
        assert_eq!(after(Submitted, Step::Accept).unwrap(), Accepted);
        for (s, step) in [
            (Submitted, Step::Edit),
            (Accepted, Step::Submit),
            (Draft, Step::Accept),
            (Accepted, Step::Return),
        ] {
            assert!(after(s, step).is_err(), "{s:?} {step:?}");
        }
    }
}
