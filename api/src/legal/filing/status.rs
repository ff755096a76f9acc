//! Where a filing stands, the steps between the states, who takes each
//! and on which network. Pure: the handlers ask [`after`] and [`Step::side_allows`].

use crate::config::FilingSide;
use crate::error::{ApiError, ApiResult};

crate::text_enum! {
    /// A filing's review state.
    pub enum FilingStatus {
        /// 已报送: reported, waiting for the office.
        Submitted = "submitted",
        /// 审查中
        UnderReview = "under_review",
        /// 退回修改: the reporting unit changes the fields named.
        Returned = "returned",
        /// 准予备案
        Accepted = "accepted",
        /// 已公布
        Published = "published",
    }
}

impl FilingStatus {
    pub fn label_zh(self) -> &'static str {
        match self {
            FilingStatus::Submitted => "已报送",
            FilingStatus::UnderReview => "审查中",
            FilingStatus::Returned => "退回修改",
            FilingStatus::Accepted => "准予备案",
            FilingStatus::Published => "已公布",
        }
    }
}

crate::text_enum! {
    /// A step on a filing.
    pub enum Step {
        StartReview = "start_review",
        Return = "return",
        Accept = "accept",
        Publish = "publish",
        /// The reporting unit sends the changed filing back.
        Resubmit = "resubmit",
    }
}

/// Who takes a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taker {
    /// The legal affairs office, which reviews and publishes.
    Office,
    /// A reporting officer of the filing's unit.
    Reporter,
}

impl Step {
    pub fn taker(self) -> Taker {
        match self {
            Step::Resubmit => Taker::Reporter,
            _ => Taker::Office,
        }
    }

    /// Review happens on the internal network; reporting and publication
    /// on the internet-facing one; a single-network server does all.
    pub fn side_allows(self, side: FilingSide) -> bool {
        match self {
            Step::StartReview | Step::Return | Step::Accept => side != FilingSide::Internet,
            Step::Publish | Step::Resubmit => side != FilingSide::Internal,
        }
    }

    pub fn needs_opinion(self) -> bool {
        matches!(self, Step::Return | Step::Accept)
    }
}

/// The state `step` leads to from `from`, or 409 naming both.
pub fn after(from: FilingStatus, step: Step) -> ApiResult<FilingStatus> {
    use FilingStatus::*;
    let to = match (from, step) {
        (Submitted, Step::StartReview) => UnderReview,
        (UnderReview, Step::Return) => Returned,
        (UnderReview, Step::Accept) => Accepted,
        (Accepted, Step::Publish) => Published,
        (Returned, Step::Resubmit) => Submitted,
        _ => {
            return Err(ApiError::Conflict {
                code: "wrong_state",
                detail: format!("备案当前为“{}”，不能执行此操作", from.label_zh()),
            });
        }
    };
    Ok(to)
}

/// Reporting units create and edit on this side.
pub fn reports_here(side: FilingSide) -> bool {
    side != FilingSide::Internal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_state_has_its_steps_and_no_others() {
        use FilingStatus::*;
        assert_eq!(after(Submitted, Step::StartReview).unwrap(), UnderReview);
        assert_eq!(after(UnderReview, Step::Return).unwrap(), Returned);
        assert_eq!(after(Returned, Step::Resubmit).unwrap(), Submitted);
        assert_eq!(after(UnderReview, Step::Accept).unwrap(), Accepted);
        assert_eq!(after(Accepted, Step::Publish).unwrap(), Published);
        for s in Step::ALL {
            assert!(after(Published, s).is_err(), "published is final: {s:?}");
        }
        assert!(after(Submitted, Step::Accept).is_err());
        assert!(after(Accepted, Step::Return).is_err());
    }

    #[test]
    fn review_is_internal_and_reporting_is_not() {
        assert!(!Step::Accept.side_allows(FilingSide::Internet));
        assert!(Step::Accept.side_allows(FilingSide::Internal));
        assert!(!Step::Resubmit.side_allows(FilingSide::Internal));
        assert!(Step::Publish.side_allows(FilingSide::Single));
        assert!(!reports_here(FilingSide::Internal));
    }
}
