//! The approval rule, pure: whose decision an application awaits, and what
//! a decision does to it. The caller loads the application, asks here, and
//! stores the answer; nothing here reads or writes.

use super::{ApplicationStatus, Decision};
use crate::error::{ApiError, ApiResult};
use crate::ids::UserId;
use crate::seal::approvers::Policy;

/// One approver's step of an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub position: i32,
    pub approver_id: UserId,
    pub decided: bool,
}

/// The part of an application the rule reads.
#[derive(Debug, Clone)]
pub struct Approval {
    pub status: ApplicationStatus,
    pub policy: Policy,
    pub seal_active: bool,
    pub steps: Vec<Step>,
}

/// What a decision does.
#[derive(Debug, PartialEq, Eq)]
pub struct Ruling {
    /// The application's status after it.
    pub status: ApplicationStatus,
    /// Approvers whose to-do items are void: under "any", the others who had
    /// not decided yet, once one has decided for all.
    pub cancelled: Vec<UserId>,
    /// Under "sequential", the next approver in line while still pending.
    pub next: Option<UserId>,
}

fn conflict(code: &'static str, detail: &str) -> ApiError {
    ApiError::Conflict {
        code,
        detail: detail.to_owned(),
    }
}

impl Approval {
    fn undecided(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(|s| !s.decided)
    }

    /// The approvers whose decision is awaited now: every undecided one
    /// under "any", the first undecided in line under "sequential".
    pub fn open_items(&self) -> Vec<UserId> {
        let mut open: Vec<&Step> = self.undecided().collect();
        if self.policy == Policy::Sequential {
            open.sort_by_key(|s| s.position);
            open.truncate(1);
        }
        open.into_iter().map(|s| s.approver_id.clone()).collect()
    }

    /// True when `user`'s decision is awaited now.
    pub fn awaits(&self, user: &UserId) -> bool {
        self.status == ApplicationStatus::Pending && self.open_items().iter().any(|u| u == user)
    }

    /// Rules on `decision` by `user`; `grant_live` says whether the
    /// applicant still holds a grant of the seal. Refuses with 403 when
    /// `user` is no approver of this application (whatever its state), and
    /// 409 when it is decided, not their turn, or an approval meets a
    /// suspended seal or a revoked grant.
    pub fn rule(&self, user: &UserId, decision: Decision, grant_live: bool) -> ApiResult<Ruling> {
        let Some(mine) = self.steps.iter().find(|s| &s.approver_id == user) else {
            return Err(ApiError::Forbidden);
        };
        if self.status != ApplicationStatus::Pending || mine.decided {
            return Err(conflict("application_decided", "该用印申请已处理"));
        }
        if !self.awaits(user) {
            return Err(conflict("not_your_turn", "依次审批：尚未轮到您审批"));
        }
        if decision == Decision::Approve && !self.seal_active {
            return Err(conflict("seal_suspended", "该印章已停用，不能批准"));
        }
        if decision == Decision::Approve && !grant_live {
            return Err(conflict(
                "grant_revoked",
                "申请人的印章授权已撤销，不能批准",
            ));
        }
        let others: Vec<&Step> = self
            .undecided()
            .filter(|s| &s.approver_id != user)
            .collect();
        let status = match decision {
            Decision::Reject => ApplicationStatus::Rejected,
            Decision::Approve if self.policy == Policy::Any || others.is_empty() => {
                ApplicationStatus::Approved
            }
            Decision::Approve => ApplicationStatus::Pending,
        };
        let decided_for_all = status != ApplicationStatus::Pending && self.policy == Policy::Any;
        Ok(Ruling {
            status,
            cancelled: match decided_for_all {
                true => others.iter().map(|s| s.approver_id.clone()).collect(),
                false => Vec::new(),
            },
            next: match status {
                ApplicationStatus::Pending => others
                    .iter()
                    .min_by_key(|s| s.position)
                    .map(|s| s.approver_id.clone()),
                _ => None,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(id: &str) -> UserId {
        UserId::new(id)
    }

    fn us(ids: &[&str]) -> Vec<UserId> {
        ids.iter().map(|id| u(id)).collect()
    }

    fn approval(policy: Policy, decided: &[bool]) -> Approval {
        Approval {
            status: ApplicationStatus::Pending,
            policy,
            seal_active: true,
            steps: decided
                .iter()
                .enumerate()
                .map(|(i, d)| Step {
                    position: i as i32 + 1,
                    approver_id: u(&format!("u{}", i + 1)),
                    decided: *d,
                })
                .collect(),
        }
    }

    fn code(r: ApiResult<Ruling>) -> &'static str {
        match r {
            Err(ApiError::Conflict { code, .. }) => code,
            Err(ApiError::Forbidden) => "forbidden",
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn under_any_the_first_decision_decides_for_everyone() {
        let a = approval(Policy::Any, &[false, false, false]);
        assert_eq!(a.open_items(), us(&["u1", "u2", "u3"]));
        let r = a.rule(&u("u2"), Decision::Approve, true).unwrap();
        assert_eq!(r.status, ApplicationStatus::Approved);
        assert_eq!(r.cancelled, us(&["u1", "u3"]));
        assert_eq!(r.next, None);
        let r = a.rule(&u("u3"), Decision::Reject, true).unwrap();
        assert_eq!(r.status, ApplicationStatus::Rejected);
        assert_eq!(r.cancelled, us(&["u1", "u2"]));
    }

    #[test]
    fn in_order_each_approver_waits_for_the_one_before() {
        let a = approval(Policy::Sequential, &[false, false]);
        assert_eq!(a.open_items(), us(&["u1"]));
        assert_eq!(
            code(a.rule(&u("u2"), Decision::Approve, true)),
            "not_your_turn"
        );
        let r = a.rule(&u("u1"), Decision::Approve, true).unwrap();
        assert_eq!(r.status, ApplicationStatus::Pending);
        assert_eq!(r.next, Some(u("u2")));
        assert!(r.cancelled.is_empty());
        let last = approval(Policy::Sequential, &[true, false]);
        let r = last.rule(&u("u2"), Decision::Approve, true).unwrap();
        assert_eq!((r.status, r.next), (ApplicationStatus::Approved, None));
        // A rejection ends it at once; later approvers are never asked.
        let r = a.rule(&u("u1"), Decision::Reject, true).unwrap();
        assert_eq!((r.status, r.next), (ApplicationStatus::Rejected, None));
        assert!(r.cancelled.is_empty());
    }

    #[test]
    fn refusals_say_why_and_a_non_approver_is_forbidden_in_any_state() {
        let mut a = approval(Policy::Any, &[false]);
        assert_eq!(
            code(a.rule(&u("stranger"), Decision::Approve, true)),
            "forbidden"
        );
        assert_eq!(
            code(a.rule(&u("u1"), Decision::Approve, false)),
            "grant_revoked"
        );
        assert!(
            a.rule(&u("u1"), Decision::Reject, false).is_ok(),
            "a rejection needs no grant"
        );
        a.seal_active = false;
        assert_eq!(
            code(a.rule(&u("u1"), Decision::Approve, true)),
            "seal_suspended"
        );
        for status in [ApplicationStatus::Approved, ApplicationStatus::Withdrawn] {
            a.status = status;
            assert_eq!(
                code(a.rule(&u("u1"), Decision::Reject, true)),
                "application_decided"
            );
            assert_eq!(
                code(a.rule(&u("stranger"), Decision::Reject, true)),
                "forbidden"
            );
            assert!(!a.awaits(&u("u1")));
        }
    }
}
