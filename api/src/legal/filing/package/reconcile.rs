//! What an imported record does to the one held here. Both sides count
//! one version per filing; `synced` is the version both last agreed on
//! (set when a package carrying it is made or imported), so a held
//! version above it is a change made here since. Pure.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub version: i64,
    pub synced: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Incoming {
    pub version: i64,
    /// The version the other side changed.
    pub base: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// New here: written.
    Created,
    /// Changed only on the other side since the last exchange: written.
    Updated,
    /// Already held (the same package again, or an older one): nothing.
    Unchanged,
    /// Changed on both sides since the last exchange: reported, not written.
    Conflict,
}

pub fn reconcile(held: Option<Held>, incoming: Incoming) -> Outcome {
    let Some(held) = held else {
        return Outcome::Created;
    };
    if incoming.version <= held.synced {
        return Outcome::Unchanged;
    }
    let changed_here = held.version > held.synced;
    if changed_here && held.version != incoming.base {
        return Outcome::Conflict;
    }
    Outcome::Updated
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(version: i64, synced: i64) -> Option<Held> {
        Some(Held { version, synced })
    }

    fn incoming(version: i64, base: i64) -> Incoming {
        Incoming { version, base }
    }

    #[test]
    fn a_change_on_one_side_applies_and_on_both_conflicts() {
        assert_eq!(reconcile(None, incoming(1, 0)), Outcome::Created);
        // Returned on the internal side (v2 from v1); the internet side
        // has not touched it since it sent v1.
        assert_eq!(reconcile(held(1, 1), incoming(2, 1)), Outcome::Updated);
        // The same package again.
        assert_eq!(reconcile(held(2, 2), incoming(2, 1)), Outcome::Unchanged);
        // An older package after a newer one.
        assert_eq!(reconcile(held(3, 3), incoming(2, 1)), Outcome::Unchanged);
        // Both sides changed v2 since they agreed on it.
        assert_eq!(reconcile(held(3, 2), incoming(3, 2)), Outcome::Conflict);
        assert_eq!(reconcile(held(4, 2), incoming(3, 2)), Outcome::Conflict);
    }
}
