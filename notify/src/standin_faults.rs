//! Failures a test injects into a stand-in: each fault applies to the next
//! `times` requests, in the order they were injected.

use std::collections::VecDeque;

pub struct Faults<F> {
    queue: VecDeque<(F, u32)>,
}

impl<F> Default for Faults<F> {
    fn default() -> Self {
        Faults {
            queue: VecDeque::new(),
        }
    }
}

impl<F: Clone> Faults<F> {
    pub fn push(&mut self, fault: F, times: u32) {
        if times > 0 {
            self.queue.push_back((fault, times));
        }
    }

    /// The fault for this request, if any is left.
    pub fn take(&mut self) -> Option<F> {
        let (fault, left) = self.queue.front_mut()?;
        let fault = fault.clone();
        *left -= 1;
        if *left == 0 {
            self.queue.pop_front();
        }
        Some(fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_apply_in_order_as_many_times_as_asked() {
        let mut f = Faults::default();
        f.push('a', 2);
        f.push('b', 1);
        f.push('c', 0);
        assert_eq!(
            [f.take(), f.take(), f.take(), f.take()],
            [Some('a'), Some('a'), Some('b'), None]
        );
    }
}
