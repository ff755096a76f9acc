//! The notifications admin view, for system administrators: what was sent,
//! what is waiting, what failed and why. Recipients are masked; payloads
//! (which may hold codes) are never shown.

use std::time::Duration;

use api::audit::{self, Actor, Entry, Outcome};
use api::authz::{Principal, Role};
use api::error::{ApiError, ApiResult};
use api::http::extract::{ApiJson, ApiQuery};
use api::outbox::push::{Notification, notify_user};
use api::outbox::{Channel, OutboxStatus, SmsMessage, send_sms_now};
use api::pagination::page_limit;
use api::pii::Phone;
use api::state::AppState;
use api::{clock, on_db};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use sqlx::FromRow;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/notifications", get(list))
        .route("/api/v1/notifications/test-sms", post(test_sms))
        .route("/api/v1/notifications/test", post(test_notification))
        .route("/api/v1/notifications/{id}", get(one))
}

async fn require_admin(
    state: &AppState,
    principal: &Principal,
    action: &'static str,
) -> ApiResult<()> {
    if principal.has_role(Role::SystemAdmin) {
        return Ok(());
    }
    audit::record_denied(state, principal, action, "notification", "*").await;
    Err(ApiError::Forbidden)
}

#[derive(Debug, Serialize, ToSchema, FromRow)]
pub struct NotificationView {
    pub id: String,
    pub kind: String,
    #[schema(value_type = String)]
    pub channel: Channel,
    pub provider: String,
    /// e.g. `138****5678`.
    pub recipient_masked: String,
    /// `queued`, `sending`, `sent`, `failed` or `dead`.
    #[schema(value_type = String)]
    pub status: OutboxStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub provider_message_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub next_attempt_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub sent_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: OffsetDateTime,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationPage {
    pub items: Vec<NotificationView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this status.
    pub status: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
}

macro_rules! select_view {
    () => {
        "SELECT id, kind, channel, provider, recipient_masked, status, attempts, last_error, \
         provider_message_id, created_at, next_attempt_at, sent_at, expires_at FROM outbox "
    };
}

/// Notifications, newest first.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", params(ListQuery),
    responses(
        (status = 200, body = NotificationPage),
        (status = 401, body = api::error::Problem),
        (status = 403, description = "not a system administrator", body = api::error::Problem),
        (status = 422, body = api::error::Problem),
    ))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<NotificationPage>> {
    require_admin(&state, &principal, "notifications.read").await?;
    const SQL: &str = concat!(
        select_view!(),
        "WHERE ($1 = '' OR status = $1) AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3"
    );
    let limit = page_limit(q.limit)?;
    let status = match q.status.as_deref().unwrap_or_default() {
        "" => "",
        s => OutboxStatus::parse(s)
            .map(OutboxStatus::as_str)
            .ok_or_else(|| {
                ApiError::invalid("status", "须为 queued、sending、sent、failed 或 dead")
            })?,
    };
    let cursor = q.cursor.unwrap_or_default();
    let mut items: Vec<NotificationView> = on_db!(&state.db, p => sqlx::query_as(SQL)
        .bind(status).bind(&cursor).bind(limit + 1).fetch_all(p).await)?;
    let more = items.len() as i64 > limit;
    items.truncate(limit as usize);
    let next_cursor = if more {
        items.last().map(|i| i.id.clone())
    } else {
        None
    };
    Ok(Json(NotificationPage { items, next_cursor }))
}

/// One notification.
#[utoipa::path(get, path = "/api/v1/notifications/{id}", tag = "notifications",
    params(("id" = String, Path, description = "outbox id")),
    responses(
        (status = 200, body = NotificationView),
        (status = 403, body = api::error::Problem),
        (status = 404, body = api::error::Problem),
    ))]
pub async fn one(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<NotificationView>> {
    require_admin(&state, &principal, "notifications.read").await?;
    const SQL: &str = concat!(select_view!(), "WHERE id = $1");
    let row: Option<NotificationView> =
        on_db!(&state.db, p => sqlx::query_as(SQL).bind(&id).fetch_optional(p).await)?;
    row.map(Json).ok_or(ApiError::NotFound)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestNotification {
    /// The user to notify: by push to their devices, else by SMS.
    #[schema(value_type = String)]
    pub user_id: api::ids::UserId,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueuedMany {
    pub ids: Vec<String>,
}

/// Sends a test notification to a user the way every notification goes:
/// push to their active devices, SMS when they have none. Audited.
#[utoipa::path(post, path = "/api/v1/notifications/test", tag = "notifications", request_body = TestNotification,
    responses(
        (status = 202, body = QueuedMany),
        (status = 403, body = api::error::Problem),
        (status = 404, description = "no such user", body = api::error::Problem),
    ))]
pub async fn test_notification(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(req): ApiJson<TestNotification>,
) -> ApiResult<(StatusCode, Json<QueuedMany>)> {
    require_admin(&state, &principal, "notifications.test").await?;
    const USER: &str = "SELECT COUNT(*) FROM users WHERE id = $1 AND status = 'active'";
    let time = clock::now().to_offset(time::macros::offset!(+8));
    let time = format!("{:02}:{:02}", time.hour(), time.minute());
    let mut tx = state.db.begin().await?;
    let known: i64 =
        api::on_tx!(&mut tx, c => sqlx::query_scalar(USER).bind(&req.user_id).fetch_one(c).await)?;
    if known == 0 {
        return Err(ApiError::NotFound);
    }
    let n = Notification {
        kind: "notification_test",
        user_id: &req.user_id,
        params: &[("time", &time)],
        idempotency_key: None,
        ttl: Duration::from_secs(600),
    };
    let ids = notify_user(&mut tx, &state.pii, &state.config.notify, n).await?;
    let entry = Entry {
        actor: Actor::from(&principal),
        action: "notifications.test",
        target_type: Some("user"),
        target_id: Some(req.user_id.to_string()),
        outcome: Outcome::Success,
        detail: serde_json::json!({ "queued": ids.len() }),
    };
    audit::append(&mut tx, state.audit_key(), entry).await?;
    tx.commit().await?;
    state.outbox_wake.notify_one();
    Ok((StatusCode::ACCEPTED, Json(QueuedMany { ids })))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestSms {
    /// Mainland mobile number to send a test message to.
    pub phone: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Queued {
    pub id: String,
}

/// Sends a test SMS through the configured provider, so an operator can
/// check the configuration end to end. Audited.
#[utoipa::path(post, path = "/api/v1/notifications/test-sms", tag = "notifications", request_body = TestSms,
    responses(
        (status = 202, body = Queued),
        (status = 403, body = api::error::Problem),
        (status = 422, body = api::error::Problem),
    ))]
pub async fn test_sms(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(req): ApiJson<TestSms>,
) -> ApiResult<(StatusCode, Json<Queued>)> {
    require_admin(&state, &principal, "notifications.test_sms").await?;
    let phone = Phone::parse(&req.phone).map_err(|why| ApiError::invalid("phone", why))?;
    let time = clock::now().to_offset(time::macros::offset!(+8));
    let time = format!("{:02}:{:02}", time.hour(), time.minute());
    let msg = SmsMessage {
        kind: "notification_test",
        phone: &phone,
        params: &[("time", &time)],
        idempotency_key: None,
        ttl: Duration::from_secs(600),
    };
    let provider = state.config.notify.sms_provider.as_str();
    let id = send_sms_now(&state.db, &state.pii, provider, &state.outbox_wake, msg).await?;
    let entry = Entry {
        actor: Actor::from(&principal),
        action: "notifications.test_sms",
        target_type: Some("notification"),
        target_id: Some(id.clone()),
        outcome: Outcome::Success,
        detail: serde_json::json!({ "to": phone.masked() }),
    };
    audit::record(&state.db, state.audit_key(), entry).await?;
    Ok((StatusCode::ACCEPTED, Json(Queued { id })))
}
