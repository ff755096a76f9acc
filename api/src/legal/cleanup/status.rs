//! The states of a unit's list in a campaign and the checked steps between
//! them (without I/O): the unit's reporting officer fills it and sends it
//! to the unit's reviewer, who sends it back or submits it to the level
//! above; that level returns it with a reason or accepts it. A returned
//! list is edited and goes round again; an accepted one is frozen.

use crate::error::{ApiError, ApiResult};

crate::text_enum! {
    pub enum ListStatus {
        /// 填报中
        Draft = "draft",
        /// 待本单位审核
        Checking = "checking",
        /// 已报送
        Submitted = "submitted",
        /// 已退回
        Returned = "returned",
        /// 已通过
        Accepted = "accepted",
    }
}

impl ListStatus {
    pub fn label_zh(self) -> &'static str {
        match self {
            ListStatus::Draft => "填报中",
            ListStatus::Checking => "待本单位审核",
            ListStatus::Submitted => "已报送",
            ListStatus::Returned => "已退回",
            ListStatus::Accepted => "已通过",
        }
    }

    /// Whether the reporting officer may change the documents.
    pub fn editable(self) -> bool {
        matches!(self, ListStatus::Draft | ListStatus::Returned)
    }
}

crate::text_enum! {
    /// What is done to a list.
    pub enum Step {
        /// The reporting officer hands the list to the unit's reviewer.
        SendForCheck = "send_for_check",
        /// The unit's reviewer hands it back (with a reason).
        SendBack = "send_back",
        /// The unit's reviewer submits it to the level above.
        Submit = "submit",
        /// The level above returns it (with a reason).
        Return = "return",
        /// The level above accepts it.
        Accept = "accept",
    }
}

/// Who takes a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Reporter,
    UnitReviewer,
    /// The legal affairs office, or the district government on line 2.
    Above,
}

impl Step {
    pub fn actor(self) -> Actor {
        match self {
            Step::SendForCheck => Actor::Reporter,
            Step::SendBack | Step::Submit => Actor::UnitReviewer,
            Step::Return | Step::Accept => Actor::Above,
        }
    }

    /// Whether the step must say why.
    pub fn needs_reason(self) -> bool {
        matches!(self, Step::SendBack | Step::Return)
    }
}

/// The state after `step`, or 409 naming why not.
pub fn after(status: ListStatus, step: Step) -> ApiResult<ListStatus> {
    use ListStatus as S;
    let to = match (status, step) {
        (S::Draft | S::Returned, Step::SendForCheck) => S::Checking,
        (S::Checking, Step::SendBack) => S::Draft,
        (S::Checking, Step::Submit) => S::Submitted,
        (S::Submitted, Step::Return) => S::Returned,
        (S::Submitted, Step::Accept) => S::Accepted,
        (S::Accepted, _) => return Err(conflict("list_frozen", "清单已通过，不能再变更")),
        _ => {
            let detail = format!("清单当前为“{}”，不能进行该操作", status.label_zh());
            return Err(conflict("wrong_list_state", &detail));
        }
    };
    Ok(to)
}

fn conflict(code: &'static str, detail: &str) -> ApiError {
    ApiError::Conflict {
        code,
        detail: detail.to_owned(),
    }
}

/// A district government submits its consolidated list only once every
/// list of its bureaus, towns and streets is accepted; else 409 saying how
/// many are not.
pub fn may_consolidate(subordinates: &[ListStatus]) -> ApiResult<()> {
    let open = subordinates
        .iter()
        .filter(|s| **s != ListStatus::Accepted)
        .count();
    if open == 0 {
        return Ok(());
    }
    let detail = format!("尚有 {open} 个区级部门或街镇的清单未审核通过");
    Err(conflict("subordinates_pending", &detail))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ListStatus as S;

    fn code(r: ApiResult<ListStatus>) -> &'static str {
        match r {
            Err(ApiError::Conflict { code, .. }) => code,
            other => panic!("expected a conflict, got {other:?}"),
        }
    }

    #[test]
    fn a_list_goes_round_and_freezes_when_accepted() {
        let mut s = S::Draft;
        for step in [
            Step::SendForCheck,
            Step::SendBack,
            Step::SendForCheck,
            Step::Submit,
        ] {
            s = after(s, step).unwrap();
        }
        assert_eq!(s, S::Submitted);
        s = after(s, Step::Return).unwrap();
        assert!(s.editable());
        for step in [Step::SendForCheck, Step::Submit, Step::Accept] {
            s = after(s, step).unwrap();
        }
        assert_eq!(s, S::Accepted);
        assert!(!s.editable());
        for step in [Step::SendForCheck, Step::Return, Step::Accept] {
            assert_eq!(code(after(s, step)), "list_frozen");
        }
    }

    #[test]
    fn steps_from_the_wrong_state_are_refused() {
        assert_eq!(code(after(S::Draft, Step::Submit)), "wrong_list_state");
        assert_eq!(code(after(S::Draft, Step::Accept)), "wrong_list_state");
        assert_eq!(code(after(S::Checking, Step::Accept)), "wrong_list_state");
        assert_eq!(
            code(after(S::Submitted, Step::SendForCheck)),
            "wrong_list_state"
        );
        assert!(!S::Checking.editable() && !S::Submitted.editable());
    }

    #[test]
    fn each_step_has_one_actor_and_the_backward_ones_need_a_reason() {
        assert_eq!(Step::SendForCheck.actor(), Actor::Reporter);
        assert_eq!(Step::Submit.actor(), Actor::UnitReviewer);
        assert_eq!(Step::Accept.actor(), Actor::Above);
        assert!(Step::Return.needs_reason() && Step::SendBack.needs_reason());
        assert!(!Step::Accept.needs_reason());
    }

    #[test]
    fn a_district_consolidates_only_when_every_subordinate_is_accepted() {
        assert!(may_consolidate(&[]).is_ok());
        assert!(may_consolidate(&[S::Accepted, S::Accepted]).is_ok());
        match may_consolidate(&[S::Accepted, S::Returned, S::Draft]) {
            Err(ApiError::Conflict { code, detail }) => {
                assert_eq!(code, "subordinates_pending");
                assert!(detail.contains('2'), "{detail}");
            }
            other => panic!("{other:?}"),
        }
    }
}
