//! Where a form and a unit's return stand, and which step may move a
//! return from where it is: the pure rule, decided before anything is
//! written. A refused step names the state it found, in Chinese.

use crate::error::ApiError;

crate::text_enum! {
    /// A form version: a draft is edited; distributed, it is frozen.
    pub enum FormStatus {
        Draft = "draft",
        Distributed = "distributed",
    }
}

crate::text_enum! {
    /// A receiving unit's return of a distributed form.
    pub enum ReturnStatus {
        /// Distributed to the unit; nothing saved yet.
        Assigned = "assigned",
        /// Saved at least once, not submitted.
        Draft = "draft",
        Submitted = "submitted",
        /// Sent back by the sender with a reason: a draft again.
        Returned = "returned",
        /// Taken by the sender: frozen.
        Accepted = "accepted",
        /// Taken back by the sender: the unit no longer fills it.
        Withdrawn = "withdrawn",
    }
}

impl ReturnStatus {
    pub fn label_zh(self) -> &'static str {
        match self {
            ReturnStatus::Assigned => "待填报",
            ReturnStatus::Draft => "填报中",
            ReturnStatus::Submitted => "已提交",
            ReturnStatus::Returned => "已退回",
            ReturnStatus::Accepted => "已采纳",
            ReturnStatus::Withdrawn => "已撤回",
        }
    }

    /// The unit still has to fill it in (what reminders and "overdue" count).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            ReturnStatus::Assigned | ReturnStatus::Draft | ReturnStatus::Returned
        )
    }
}

/// What someone does to a return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A filler saves answers.
    Save,
    /// A filler submits.
    Submit,
    /// The sender sends it back, with a reason.
    Return,
    /// The sender takes it.
    Accept,
    /// The sender takes the assignment back.
    Withdraw,
    /// The sender reminds the unit.
    Remind,
}

/// The status `step` leads to from `from`, or a 409 saying why not.
/// Saving keeps a returned return returned (the reason stays shown) until
/// it is submitted again.
pub fn after(from: ReturnStatus, step: Step) -> Result<ReturnStatus, ApiError> {
    use ReturnStatus as S;
    let to = match (step, from) {
        (Step::Save, S::Assigned | S::Draft) => S::Draft,
        (Step::Save, S::Returned) => S::Returned,
        (Step::Submit, S::Assigned | S::Draft | S::Returned) => S::Submitted,
        (Step::Return, S::Submitted) => S::Returned,
        (Step::Accept, S::Submitted) => S::Accepted,
        (Step::Withdraw, S::Assigned | S::Draft | S::Returned | S::Submitted) => S::Withdrawn,
        (Step::Remind, s) if s.is_open() => s,
        (_, s) => return Err(refused(step, s)),
    };
    Ok(to)
}

fn refused(step: Step, s: ReturnStatus) -> ApiError {
    let what = match step {
        Step::Save => "保存",
        Step::Submit => "提交",
        Step::Return => "退回",
        Step::Accept => "采纳",
        Step::Withdraw => "撤回",
        Step::Remind => "催报",
    };
    ApiError::Conflict {
        code: "return_state",
        detail: format!("该填报{}，不能{what}", s.label_zh()),
    }
}

#[cfg(test)]
mod tests {
    use super::ReturnStatus as S;
    use super::*;

    #[test]
    fn a_return_goes_from_assigned_through_return_to_accepted() {
        let mut s = S::Assigned;
        for (step, want) in [
            (Step::Save, S::Draft),
            (Step::Submit, S::Submitted),
            (Step::Return, S::Returned),
            (Step::Save, S::Returned),
            (Step::Submit, S::Submitted),
            (Step::Accept, S::Accepted),
        ] {
            s = after(s, step).unwrap();
            assert_eq!(s, want, "{step:?}");
        }
    }

    #[test]
    fn steps_out_of_turn_are_refused() {
        for (from, step) in [
            (S::Submitted, Step::Save),
            (S::Accepted, Step::Save),
            (S::Accepted, Step::Return),
            (S::Draft, Step::Accept),
            (S::Assigned, Step::Return),
            (S::Withdrawn, Step::Submit),
            (S::Accepted, Step::Withdraw),
            (S::Submitted, Step::Remind),
        ] {
            let err = after(from, step).unwrap_err();
            assert_eq!(err.code(), "return_state", "{from:?} {step:?}");
        }
    }
}
