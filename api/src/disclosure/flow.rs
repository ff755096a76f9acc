//! The statutory flow of a case (政府信息公开条例 art. 30–36) as a state
//! machine over its dates. Pure: `apply` checks a step against the case's
//! state and today's date and changes the state, or refuses with 409 and
//! changes nothing; the caller stores the result.
//!
//! - Registered → handling: sent for handling (送办理) or dispatch (送分办).
//! - Correction (补正, art. 30): once, within 7 working days of receipt. The
//!   clock stops; when the corrected request arrives it restarts from that
//!   day (a new receipt date, 20 working days again). No answer by the
//!   correction deadline closes the case as abandoned (Table 3: other,
//!   correction overdue).
//! - Consultation (征求意见, art. 32): the third party has 15 working days;
//!   the clock does not run meanwhile, and the deadline moves by the working
//!   days the consultation took.
//! - Extension (延期, art. 33): once, at most 20 working days.
//! - Conclusion (办结, art. 36): exactly one Table 3 result.

use time::Date;

use super::CaseStatus;
use crate::calendar::WorkCalendar;
use crate::error::{ApiError, ApiResult};

/// Working days after receipt within which a correction may be requested.
pub const CORRECTION_WINDOW: u32 = 7;
/// Working days a consulted third party has to answer.
pub const CONSULTATION_DAYS: u32 = 15;
/// The longest extension.
pub const MAX_EXTENSION: u32 = 20;

/// The part of a case the flow reads and changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub status: CaseStatus,
    pub received_on: Date,
    /// None while the clock is stopped for a correction.
    pub due_on: Option<Date>,
    pub extended_days: i32,
    pub corrections: i32,
    pub correction_due_on: Option<Date>,
    /// The day a consultation began (the clock's pause).
    pub paused_on: Option<Date>,
    pub consultation_due_on: Option<Date>,
}

crate::text_enum! {
    /// A step of the flow.
    pub enum Step {
        /// 送办理
        Assign = "assign",
        /// 送分办
        Dispatch = "dispatch",
        /// A unit's part of a dispatched case.
        Reply = "reply",
        /// 补正告知
        RequestCorrection = "request_correction",
        /// The corrected request arrived.
        Corrected = "corrected",
        /// No correction by its deadline: closed.
        Abandon = "abandon",
        /// 征求第三方意见
        StartConsultation = "start_consultation",
        /// The third party answered, or its time ran out.
        EndConsultation = "end_consultation",
        /// 延期答复
        Extend = "extend",
        /// 办结
        Conclude = "conclude",
    }
}

impl Step {
    pub fn label_zh(self) -> &'static str {
        match self {
            Step::Assign => "送办理",
            Step::Dispatch => "送分办",
            Step::Reply => "承办单位答复",
            Step::RequestCorrection => "告知补正",
            Step::Corrected => "收到补正",
            Step::Abandon => "逾期未补正，终止办理",
            Step::StartConsultation => "征求第三方意见",
            Step::EndConsultation => "第三方意见征求结束",
            Step::Extend => "延期答复",
            Step::Conclude => "办结",
        }
    }
}

fn illegal(status: CaseStatus, step: Step) -> ApiError {
    ApiError::Conflict {
        code: "illegal_transition",
        detail: format!(
            "案件当前状态为“{}”，不能{}",
            status.label_zh(),
            step.label_zh()
        ),
    }
}

fn refuse(code: &'static str, detail: &str) -> ApiError {
    ApiError::Conflict {
        code,
        detail: detail.to_owned(),
    }
}

/// Whether `step` is allowed from `status` at all.
pub fn allowed_from(status: CaseStatus, step: Step) -> bool {
    use CaseStatus as S;
    match step {
        Step::Assign | Step::Dispatch | Step::RequestCorrection => {
            matches!(status, S::Registered | S::Handling)
        }
        Step::Reply | Step::StartConsultation | Step::Extend | Step::Conclude => {
            status == S::Handling
        }
        Step::Corrected | Step::Abandon => status == S::Correction,
        Step::EndConsultation => status == S::Consultation,
    }
}

/// Applies `step` on `today`; `correction_days` is the applicant's time to
/// correct, `extension` the working days asked for an extension.
pub fn apply(
    cal: &WorkCalendar,
    facts: &mut Facts,
    step: Step,
    today: Date,
    correction_days: u32,
    extension: u32,
) -> ApiResult<()> {
    if !allowed_from(facts.status, step) {
        return Err(illegal(facts.status, step));
    }
    match step {
        Step::Assign | Step::Dispatch => facts.status = CaseStatus::Handling,
        Step::Reply => {}
        Step::RequestCorrection => {
            if facts.corrections > 0 {
                return Err(refuse("correction_once", "补正只能一次性告知"));
            }
            let window = cal
                .add_working_days(facts.received_on, CORRECTION_WINDOW)
                .date;
            if today > window {
                return Err(refuse(
                    "correction_window_passed",
                    "已超过收到申请之日起 7 个工作日的补正告知期限",
                ));
            }
            facts.status = CaseStatus::Correction;
            facts.corrections += 1;
            facts.due_on = None;
            facts.correction_due_on = Some(cal.add_working_days(today, correction_days).date);
        }
        Step::Corrected => {
            let received = cal.on_or_after(today).date;
            facts.status = CaseStatus::Handling;
            facts.received_on = received;
            facts.correction_due_on = None;
            let days = super::REPLY_WORKING_DAYS + facts.extended_days.unsigned_abs();
            facts.due_on = Some(cal.add_working_days(received, days).date);
        }
        Step::Abandon => {
            if facts.correction_due_on.is_some_and(|d| today <= d) {
                return Err(refuse("correction_not_overdue", "补正期限尚未届满"));
            }
            facts.status = CaseStatus::Concluded;
            facts.correction_due_on = None;
        }
        Step::StartConsultation => {
            facts.status = CaseStatus::Consultation;
            facts.paused_on = Some(today);
            facts.consultation_due_on = Some(cal.add_working_days(today, CONSULTATION_DAYS).date);
        }
        Step::EndConsultation => {
            let paused = facts.paused_on.unwrap_or(today);
            let lost = cal.working_days_left(paused, today).max(0);
            facts.status = CaseStatus::Handling;
            facts.due_on = facts
                .due_on
                .map(|due| cal.add_working_days(due, lost as u32).date);
            facts.paused_on = None;
            facts.consultation_due_on = None;
        }
        Step::Extend => {
            if facts.extended_days > 0 {
                return Err(refuse("extension_once", "延期答复只能一次"));
            }
            if !(1..=MAX_EXTENSION).contains(&extension) {
                return Err(ApiError::invalid(
                    "working_days",
                    "延长期限为 1 至 20 个工作日",
                ));
            }
            facts.extended_days = extension as i32;
            facts.due_on = facts
                .due_on
                .map(|due| cal.add_working_days(due, extension).date);
        }
        Step::Conclude => facts.status = CaseStatus::Concluded,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn cal() -> WorkCalendar {
        WorkCalendar::built_in()
    }

    fn received(on: Date) -> Facts {
        let cal = cal();
        Facts {
            status: CaseStatus::Registered,
            received_on: on,
            due_on: Some(cal.add_working_days(on, 20).date),
            extended_days: 0,
            corrections: 0,
            correction_due_on: None,
            paused_on: None,
            consultation_due_on: None,
        }
    }

    fn step(f: &mut Facts, s: Step, today: Date) -> ApiResult<()> {
        apply(&cal(), f, s, today, 15, 0)
    }

    fn code(r: ApiResult<()>) -> &'static str {
        match r {
            Err(ApiError::Conflict { code, .. }) => code,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_step_outside_its_states_is_refused() {
        use CaseStatus as S;
        for status in [
            S::Registered,
            S::Handling,
            S::Correction,
            S::Consultation,
            S::Concluded,
        ] {
            for s in Step::ALL {
                let mut f = received(date!(2026 - 03 - 02));
                f.status = status;
                let before = f.clone();
                let r = apply(&cal(), &mut f, s, date!(2026 - 03 - 03), 15, 5);
                if allowed_from(status, s) {
                    continue;
                }
                assert_eq!(code(r), "illegal_transition", "{status:?} {s:?}");
                assert_eq!(f, before, "a refused step changes nothing");
            }
        }
        // Nothing leaves a concluded case.
        assert!(Step::ALL.iter().all(|s| !allowed_from(S::Concluded, *s)));
    }

    #[test]
    fn correction_stops_the_clock_and_restarts_it_from_the_corrected_request() {
        // Received Mon 2026-03-02, due 2026-03-30.
        let mut f = received(date!(2026 - 03 - 02));
        assert_eq!(f.due_on, Some(date!(2026 - 03 - 30)));
        step(&mut f, Step::Assign, date!(2026 - 03 - 03)).unwrap();
        step(&mut f, Step::RequestCorrection, date!(2026 - 03 - 05)).unwrap();
        assert_eq!(f.status, CaseStatus::Correction);
        assert_eq!(f.due_on, None, "the clock is stopped");
        assert_eq!(f.correction_due_on, Some(date!(2026 - 03 - 26)));
        // Corrected on Sat 2026-03-14: received Mon 03-16, due 20 working
        // days later, 2026-04-14 (清明 4-4..6 off).
        step(&mut f, Step::Corrected, date!(2026 - 03 - 14)).unwrap();
        assert_eq!(f.received_on, date!(2026 - 03 - 16));
        assert_eq!(f.due_on, Some(date!(2026 - 04 - 14)));
        // Once only.
        assert_eq!(
            code(step(&mut f, Step::RequestCorrection, date!(2026 - 03 - 17))),
            "correction_once"
        );
    }

    #[test]
    fn correction_has_a_seven_working_day_window_and_a_deadline() {
        // Received Fri 2026-09-18; 7 working days: 9-20 (Sunday, make-up),
        // 9-21..24, then 9-25..27 (中秋) off, 9-28, 9-29 → 2026-09-29.
        let mut f = received(date!(2026 - 09 - 18));
        assert_eq!(
            code(step(&mut f, Step::RequestCorrection, date!(2026 - 09 - 30))),
            "correction_window_passed"
        );
        step(&mut f, Step::RequestCorrection, date!(2026 - 09 - 29)).unwrap();
        let due = f.correction_due_on.unwrap();
        assert_eq!(
            code(step(&mut f, Step::Abandon, due)),
            "correction_not_overdue"
        );
        step(&mut f, Step::Abandon, due.next_day().unwrap()).unwrap();
        assert_eq!(f.status, CaseStatus::Concluded);
    }

    #[test]
    fn consultation_moves_the_deadline_by_the_working_days_it_took() {
        let mut f = received(date!(2026 - 03 - 02));
        step(&mut f, Step::Assign, date!(2026 - 03 - 02)).unwrap();
        step(&mut f, Step::StartConsultation, date!(2026 - 03 - 10)).unwrap();
        assert_eq!(f.consultation_due_on, Some(date!(2026 - 03 - 31)));
        // Answered Fri 03-20: 8 working days (11..13, 16..20) lost.
        step(&mut f, Step::EndConsultation, date!(2026 - 03 - 20)).unwrap();
        assert_eq!(f.status, CaseStatus::Handling);
        // 2026-03-30 + 8 working days → 2026-04-10 (清明 4-4..6 off).
        assert_eq!(f.due_on, Some(date!(2026 - 04 - 10)));
    }

    #[test]
    fn one_extension_of_at_most_twenty_working_days() {
        let mut f = received(date!(2026 - 03 - 02));
        step(&mut f, Step::Assign, date!(2026 - 03 - 02)).unwrap();
        let before = f.clone();
        assert!(apply(&cal(), &mut f, Step::Extend, date!(2026 - 03 - 20), 15, 21).is_err());
        assert!(apply(&cal(), &mut f, Step::Extend, date!(2026 - 03 - 20), 15, 0).is_err());
        assert_eq!(f, before);
        apply(&cal(), &mut f, Step::Extend, date!(2026 - 03 - 20), 15, 20).unwrap();
        // 2026-03-30 + 20 working days: 3-31, 4-1..3, 4-7..10, 4-13..17,
        // 4-20..24, 4-27, 4-28 → 2026-04-28.
        assert_eq!(f.due_on, Some(date!(2026 - 04 - 28)));
        assert_eq!(
            code(apply(
                &cal(),
                &mut f,
                Step::Extend,
                date!(2026 - 03 - 21),
                15,
                5
            )),
            "extension_once"
        );
    }
}
