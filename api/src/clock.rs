//! Time as the database stores it: UTC, truncated to microseconds (the
//! precision of PostgreSQL's `timestamptz`), so a value reads back equal to
//! what was written on either backend.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1_000 * 1_000)
        .unwrap_or(now)
}

/// RFC 3339 in UTC, as every JSON answer shows times.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_default()
}
