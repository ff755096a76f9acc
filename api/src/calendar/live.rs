//! The calendar requests count on, replaced whole when a year is imported.
//!
//! Readers take an `Arc` snapshot (one read lock, no copy), so a count never
//! mixes two versions of the calendar. The instance that imports a year swaps
//! at once; the others pick the new year up from the database within
//! `disclosure.calendar_refresh_secs` (30 s; see [`super::store::refresh`]),
//! well inside a working day, the unit every statutory period is counted in.

use super::{Arrangement, WorkCalendar};
use std::sync::{Arc, RwLock};

pub struct LiveCalendar {
    /// The built-in years and `disclosure.calendar_file`'s.
    base: WorkCalendar,
    current: RwLock<Arc<WorkCalendar>>,
}

impl LiveCalendar {
    pub fn new(base: WorkCalendar) -> Self {
        LiveCalendar {
            current: RwLock::new(Arc::new(base.clone())),
            base,
        }
    }

    /// The calendar as it is now.
    pub fn get(&self) -> Arc<WorkCalendar> {
        match self.current.read() {
            Ok(c) => c.clone(),
            // A writer panicked mid-swap: the Arc it held is still whole.
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The base calendar with the `imported` years over it.
    pub fn calendar_with(&self, imported: Vec<Arrangement>) -> WorkCalendar {
        self.base.with(imported)
    }

    pub fn set(&self, calendar: WorkCalendar) {
        let next = Arc::new(calendar);
        match self.current.write() {
            Ok(mut c) => *c = next,
            Err(poisoned) => *poisoned.into_inner() = next,
        }
    }
}
