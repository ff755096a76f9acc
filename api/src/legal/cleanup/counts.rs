//! The counts per decision that a campaign's report shows, for one list or
//! for many.

use serde::Serialize;
use utoipa::ToSchema;

use super::document::{Decision, Document};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct DecisionCounts {
    pub keep: usize,
    pub amend: usize,
    pub repeal: usize,
    pub declare_invalid: usize,
    /// Not decided yet.
    pub undecided: usize,
    pub total: usize,
}

impl DecisionCounts {
    pub fn add(&mut self, decision: Option<Decision>) {
        self.add_n(decision, 1);
    }

    /// `n` documents of one decision (a `GROUP BY` row).
    pub fn add_n(&mut self, decision: Option<Decision>, n: usize) {
        let cell = match decision {
            Some(Decision::Keep) => &mut self.keep,
            Some(Decision::Amend) => &mut self.amend,
            Some(Decision::Repeal) => &mut self.repeal,
            Some(Decision::DeclareInvalid) => &mut self.declare_invalid,
            None => &mut self.undecided,
        };
        *cell += n;
        self.total += n;
    }

    pub fn of<'a>(docs: impl IntoIterator<Item = &'a Document>) -> Self {
        let mut c = DecisionCounts::default();
        docs.into_iter().for_each(|d| c.add(d.decision));
        c
    }

    /// The sum of several lists' counts (a district's, the city's).
    pub fn merge(&mut self, other: &DecisionCounts) {
        self.keep += other.keep;
        self.amend += other.amend;
        self.repeal += other.repeal;
        self.declare_invalid += other.declare_invalid;
        self.undecided += other.undecided;
        self.total += other.total;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_document_is_counted_once() {
        let mut c = DecisionCounts::default();
        for d in [
            Some(Decision::Keep),
            Some(Decision::Keep),
            Some(Decision::Repeal),
            None,
        ] {
            c.add(d);
        }
        assert_eq!((c.keep, c.repeal, c.undecided, c.total), (2, 1, 1, 4));
        let mut sum = c.clone();
        sum.merge(&c);
        assert_eq!(sum.total, 8);
        assert_eq!(
            sum.keep + sum.amend + sum.repeal + sum.declare_invalid + sum.undecided,
            sum.total
        );
    }
}
