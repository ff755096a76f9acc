//! Org units: the tree, read by PC users within their scope.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use sqlx::FromRow;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use super::UnitKind;
use crate::authz::Principal;
use crate::clock;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::ApiQuery;
use crate::pagination::{decode_cursor, encode_cursor, page_limit};
use crate::state::AppState;
use crate::{on_db, visible_unit_sql};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/org/units", get(list_units))
        .route("/api/v1/org/units/{id}", get(get_unit))
}

/// One unit in a list of siblings.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitSummary {
    pub id: String,
    pub name: String,
    pub kind: UnitKind,
    /// The kind as people read it, e.g. 区人民政府.
    pub kind_label: String,
    pub parent_id: Option<String>,
    pub child_count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnitPage {
    pub items: Vec<UnitSummary>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnitRef {
    #[schema(value_type = String)]
    pub id: crate::ids::UnitId,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnitDetail {
    pub id: String,
    pub name: String,
    pub kind: UnitKind,
    pub kind_label: String,
    /// The unit's code at the unified office platform.
    pub code: String,
    pub parent_id: Option<String>,
    pub child_count: i64,
    /// The ancestors the caller may see, from the top down (breadcrumbs).
    pub ancestors: Vec<UnitRef>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(FromRow)]
struct UnitRow {
    id: String,
    parent_id: Option<String>,
    code: String,
    name: String,
    kind: UnitKind,
    path: String,
    sort_order: i64,
    child_count: i64,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl UnitRow {
    fn summary(self) -> UnitSummary {
        let kind = self.kind;
        UnitSummary {
            id: self.id,
            name: self.name,
            kind,
            kind_label: kind.label_zh().to_owned(),
            parent_id: self.parent_id,
            child_count: self.child_count,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListUnitsQuery {
    /// List this unit's children. Without it, the top units of the caller's
    /// scope are listed.
    pub parent_id: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
}

macro_rules! select_units {
    () => {
        "SELECT u.id, u.parent_id, u.code, u.name, u.kind, u.path, u.sort_order, \
         (SELECT COUNT(*) FROM org_units c WHERE c.parent_id = u.id) AS child_count, \
         u.created_at, u.updated_at FROM org_units u "
    };
}

/// Lists org units, one level at a time.
#[utoipa::path(get, path = "/api/v1/org/units", tag = "org",
    params(ListUnitsQuery),
    responses(
        (status = 200, body = UnitPage),
        (status = 401, body = crate::error::Problem),
        (status = 404, description = "parent not found or not in the caller's scope", body = crate::error::Problem),
        (status = 422, body = crate::error::Problem),
    ))]
pub async fn list_units(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<ListUnitsQuery>,
) -> ApiResult<Json<UnitPage>> {
    let limit = page_limit(q.limit)?;
    let (after_order, after_id) = decode_cursor(q.cursor.as_deref())?;
    let db = &state.db;
    let rows: Vec<UnitRow> = match &q.parent_id {
        Some(parent) => {
            find_visible(&state, &principal, parent).await?;
            const SQL: &str = concat!(
                select_units!(),
                "WHERE u.parent_id = $1 AND (u.sort_order, u.id) > ($2, $3) \
                 ORDER BY u.sort_order, u.id LIMIT $4"
            );
            on_db!(db, p => sqlx::query_as(SQL)
                .bind(parent).bind(after_order).bind(&after_id).bind(limit + 1)
                .fetch_all(p).await)?
        }
        None => {
            // The caller's scope roots: units where they hold a grant that
            // are not inside another unit where they hold one.
            const SQL: &str = concat!(
                select_units!(),
                "WHERE u.id IN (SELECT unit_id FROM role_assignments WHERE user_id = $1) \
                 AND NOT EXISTS (SELECT 1 FROM role_assignments ra JOIN org_units su ON su.id = ra.unit_id \
                     WHERE ra.user_id = $1 AND su.id <> u.id \
                     AND substr(u.path, 1, length(su.path)) = su.path) \
                 AND (u.sort_order, u.id) > ($2, $3) ORDER BY u.sort_order, u.id LIMIT $4"
            );
            on_db!(db, p => sqlx::query_as(SQL)
                .bind(&principal.user_id).bind(after_order).bind(&after_id).bind(limit + 1)
                .fetch_all(p).await)?
        }
    };
    Ok(Json(page_of(rows, limit)))
}

fn page_of(mut rows: Vec<UnitRow>, limit: i64) -> UnitPage {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = more
        .then(|| rows.last().map(|r| encode_cursor(r.sort_order, &r.id)))
        .flatten();
    UnitPage {
        items: rows.into_iter().map(UnitRow::summary).collect(),
        next_cursor,
    }
}

/// One unit with its breadcrumbs.
#[utoipa::path(get, path = "/api/v1/org/units/{id}", tag = "org",
    params(("id" = String, Path, description = "unit id")),
    responses(
        (status = 200, body = UnitDetail),
        (status = 401, body = crate::error::Problem),
        (status = 404, description = "no such unit in the caller's scope", body = crate::error::Problem),
    ))]
pub async fn get_unit(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<UnitDetail>> {
    let row = find_visible(&state, &principal, &id).await?;
    const SQL: &str = concat!(
        "SELECT u.id, u.name FROM org_units u WHERE u.id <> $2 \
         AND substr($3, 1, length(u.path)) = u.path AND ",
        visible_unit_sql!(),
        " ORDER BY u.depth"
    );
    let ancestors: Vec<(crate::ids::UnitId, String)> = on_db!(&state.db, p => sqlx::query_as(SQL)
        .bind(&principal.user_id).bind(&row.id).bind(&row.path)
        .fetch_all(p).await)?;
    let kind = row.kind;
    Ok(Json(UnitDetail {
        kind,
        kind_label: kind.label_zh().to_owned(),
        code: row.code,
        parent_id: row.parent_id,
        child_count: row.child_count,
        ancestors: ancestors
            .into_iter()
            .map(|(id, name)| UnitRef { id, name })
            .collect(),
        created_at: clock::rfc3339(row.created_at),
        updated_at: clock::rfc3339(row.updated_at),
        id: row.id,
        name: row.name,
    }))
}

/// The unit, if it exists and lies in the principal's scope; otherwise 404
/// whichever it is, so existence does not leak across units.
async fn find_visible(state: &AppState, principal: &Principal, id: &str) -> ApiResult<UnitRow> {
    const SQL: &str = concat!(select_units!(), "WHERE u.id = $2 AND ", visible_unit_sql!());
    let row: Option<UnitRow> = on_db!(&state.db, p => sqlx::query_as(SQL)
        .bind(&principal.user_id).bind(id)
        .fetch_optional(p).await)?;
    row.ok_or(ApiError::NotFound)
}
