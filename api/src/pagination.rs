//! Cursor pagination. A cursor is an opaque, URL-safe token naming the last
//! row of the previous page by its sort key, so pages stay stable while rows
//! are added (no OFFSET drift) and every page is one index range scan.

use crate::error::{ApiError, ApiResult};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// The page size a client asked for, checked. (List queries carry `cursor`
/// and `limit` as their own fields: serde's `flatten` breaks numbers in query
/// strings.)
pub fn page_limit(limit: Option<i64>) -> ApiResult<i64> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::invalid(
            "limit",
            format!("须在 1 到 {MAX_LIMIT} 之间"),
        )),
    }
}

/// Trims a page fetched with `limit + 1` rows; answers the next cursor (the
/// key of the page's last row) when there is a next page.
pub fn trim_page<T>(rows: &mut Vec<T>, limit: i64, key: impl Fn(&T) -> String) -> Option<String> {
    if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(key)
    } else {
        None
    }
}

/// Sorts after every ULID (in any collation: letters and digits only), so
/// a first page is `id < LAST_ID`.
pub const LAST_ID: &str = "ZZZZZZZZZZZZZZZZZZZZZZZZZZ";

/// Where a page of rows with ULID ids, newest first, starts: before the
/// cursor's id (the last id of the previous page), or at the top.
pub fn before_id(cursor: Option<&str>) -> ApiResult<String> {
    match cursor {
        Some(c) if ulid::Ulid::from_string(c).is_ok() => Ok(c.to_owned()),
        Some(_) => Err(ApiError::invalid("cursor", "分页游标无效")),
        None => Ok(LAST_ID.to_owned()),
    }
}

/// A `(sort_order, id)` key: the ordering of org-tree children.
pub fn encode_cursor(sort_order: i64, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{sort_order}:{id}"))
}

/// Decodes a cursor; no cursor means "before the first row".
pub fn decode_cursor(cursor: Option<&str>) -> ApiResult<(i64, String)> {
    let Some(cursor) = cursor else {
        return Ok((i64::MIN, String::new()));
    };
    let bad = || ApiError::invalid("cursor", "分页游标无效");
    let raw = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let raw = String::from_utf8(raw).map_err(|_| bad())?;
    let (order, id) = raw.split_once(':').ok_or_else(bad)?;
    Ok((order.parse().map_err(|_| bad())?, id.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let c = encode_cursor(-3, "01J0ABC");
        assert_eq!(decode_cursor(Some(&c)).unwrap(), (-3, "01J0ABC".to_owned()));
        assert_eq!(decode_cursor(None).unwrap().0, i64::MIN);
        for bad in ["!!!", "bm9jb2xvbg", &URL_SAFE_NO_PAD.encode("x:1")] {
            assert!(decode_cursor(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn limit_bounds() {
        assert_eq!(page_limit(None).unwrap(), 50);
        assert_eq!(page_limit(Some(200)).unwrap(), 200);
        assert!(page_limit(Some(0)).is_err());
        assert!(page_limit(Some(201)).is_err());
    }
}
