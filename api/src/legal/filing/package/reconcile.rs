//! What an imported record does to the one held here. Both sides count
//! one version per filing; `synced` is the version both last agreed on
//! (set when a package carrying it is made or imported), so a held version
//! above it is a change made here since. Two sides changing the same
//! agreed version both reach the same number, so a version is told apart
//! by its state's SM3 ([`state`]: the document, review state, returned
//! fields, opinion and files). Pure.

use serde::Serialize;

use super::super::content::{Content, Field};
use super::super::status::FilingStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub version: i64,
    pub synced: i64,
    pub state: [u8; 32],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Incoming {
    pub version: i64,
    /// The version the other side changed.
    pub base: i64,
    pub state: [u8; 32],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordOutcome {
    /// New here: written.
    Created,
    /// Changed only on the other side since the last exchange: written.
    Updated,
    /// Already held (the same state, an older version, or no change on the
    /// other side): nothing.
    Unchanged,
    /// Changed on both sides since the last exchange: reported, not written.
    Conflict,
}

pub fn reconcile(held: Option<Held>, incoming: Incoming) -> RecordOutcome {
    let Some(held) = held else {
        return RecordOutcome::Created;
    };
    let unchanged = held.state == incoming.state
        || incoming.version <= incoming.base
        || incoming.version < held.synced;
    if unchanged {
        return RecordOutcome::Unchanged;
    }
    let changed_here = held.version > held.synced && held.version != incoming.base;
    // The same number reached on both sides from the version agreed.
    let parallel = incoming.version == held.synced;
    if changed_here || parallel {
        return RecordOutcome::Conflict;
    }
    RecordOutcome::Updated
}

/// The SM3 of what a version says, the same on both sides.
pub fn state(
    content: &Content,
    status: FilingStatus,
    returned: &[Field],
    opinion: Option<&str>,
    files: &mut Vec<String>,
) -> [u8; 32] {
    #[derive(Serialize)]
    struct State<'a> {
        content: &'a Content,
        status: FilingStatus,
        returned: &'a [Field],
        opinion: Option<&'a str>,
        files: &'a [String],
    }
    files.sort_unstable();
    let s = State {
        content,
        status,
        returned,
        opinion,
        files,
    };
    crate::crypto::sm3(&serde_json::to_vec(&s).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: [u8; 32] = [1; 32];
    const B: [u8; 32] = [2; 32];
    const C: [u8; 32] = [3; 32];

    fn held(version: i64, synced: i64, state: [u8; 32]) -> Option<Held> {
        Some(Held {
            version,
            synced,
            state,
        })
    }

    fn incoming(version: i64, base: i64, state: [u8; 32]) -> Incoming {
        Incoming {
            version,
            base,
            state,
        }
    }

    #[test]
    fn a_change_on_one_side_applies_and_on_both_conflicts() {
        assert_eq!(reconcile(None, incoming(1, 0, A)), RecordOutcome::Created);
        // Reviewed and returned on the internal side (v3 from v1); the
        // internet side has not touched it since it sent v1.
        assert_eq!(
            reconcile(held(1, 1, A), incoming(3, 1, B)),
            RecordOutcome::Updated
        );
        // The same state again, an older version, a re-sent agreed one.
        assert_eq!(
            reconcile(held(3, 3, B), incoming(3, 1, B)),
            RecordOutcome::Unchanged
        );
        assert_eq!(
            reconcile(held(5, 5, C), incoming(3, 1, B)),
            RecordOutcome::Unchanged
        );
        assert_eq!(
            reconcile(held(4, 3, C), incoming(3, 3, B)),
            RecordOutcome::Unchanged
        );
        // Both sides changed v1: each side, on importing the other's v2.
        assert_eq!(
            reconcile(held(2, 1, A), incoming(2, 1, B)),
            RecordOutcome::Conflict
        );
        assert_eq!(
            reconcile(held(2, 2, B), incoming(2, 1, A)),
            RecordOutcome::Conflict
        );
        assert_eq!(
            reconcile(held(4, 2, A), incoming(3, 2, B)),
            RecordOutcome::Conflict
        );
    }

    #[test]
    fn the_state_does_not_depend_on_the_files_order() {
        let c = Content {
            title: "t".into(),
            doc_no: "n".into(),
            issuing_unit: "u".into(),
            issued_on: "2026-01-01".into(),
            effective_on: None,
            full_text: "x".into(),
        };
        let s = |files: &[&str]| {
            let mut f: Vec<String> = files.iter().map(|s| s.to_string()).collect();
            state(&c, FilingStatus::Submitted, &[], None, &mut f)
        };
        assert_eq!(s(&["a", "b"]), s(&["b", "a"]));
        assert_ne!(s(&["a"]), s(&["a", "b"]));
    }
}
