//! Who is asking, and what they may see (SEC-02).
//!
//! A [`Principal`] is the authenticated user with their role grants. Each
//! grant is scoped to an org unit and covers that unit's whole subtree; a
//! grant at the root (上海市人民政府) spans the city. Queries are scoped in
//! SQL with [`VISIBLE_UNIT_SQL`], so a unit outside the principal's scope is
//! simply not found: cross-unit access answers 404 and leaks no existence.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use serde::Serialize;
use sqlx::FromRow;
use utoipa::ToSchema;

use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::ids::{UnitId, UserId};
use crate::on_db;
use crate::state::AppState;

crate::text_enum! {
    pub enum Role {
        SystemAdmin = "system_admin",
        SecurityAdmin = "security_admin",
        AuditAdmin = "audit_admin",
        UnitAdmin = "unit_admin",
        SealApprover = "seal_approver",
        Handler = "handler",
        Dispatcher = "dispatcher",
        /// The legal affairs office's administrator (法律事务处): clean-up
        /// campaigns and the work assessment (FW-01, FW-02).
        LegalAdmin = "legal_admin",
        /// Fills the unit's clean-up lists (FW-01).
        LegalReporter = "legal_reporter",
        /// Checks the unit's lists before they go up; at a district
        /// government, also decides its bureaus', towns' and streets'.
        LegalReviewer = "legal_reviewer",
        /// The General Office's disclosure administrator: warning rules and
        /// the city-wide warnings (GK-16 to GK-19).
        DisclosureAdmin = "disclosure_admin",
        /// Configures forms and distributes them to units (GK-11).
        FormSender = "form_sender",
        /// Fills and submits the returns of the unit's assignments (GK-12).
        FormFiller = "form_filler",
        Applicant = "applicant",
    }
}

impl Role {
    /// The three administrator roles of 三权分立: no user may hold two.
    pub const SEPARATED: [Role; 3] = [Role::SystemAdmin, Role::SecurityAdmin, Role::AuditAdmin];

    /// The name shown to people.
    pub fn label_zh(self) -> &'static str {
        match self {
            Role::SystemAdmin => "系统管理员",
            Role::SecurityAdmin => "安全管理员",
            Role::AuditAdmin => "审计管理员",
            Role::UnitAdmin => "单位管理员",
            Role::SealApprover => "用印审批人",
            Role::Handler => "经办人",
            Role::Dispatcher => "分办人",
            Role::LegalAdmin => "法律事务管理员",
            Role::LegalReporter => "法制工作填报人",
            Role::LegalReviewer => "法制工作审核人",
            Role::DisclosureAdmin => "政务公开管理员",
            Role::FormSender => "表单发布人",
            Role::FormFiller => "表单填报人",
            Role::Applicant => "申请人",
        }
    }
}

/// One role held at one unit (and, by extension, its subtree).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Grant {
    pub role: Role,
    #[schema(value_type = Option<String>)]
    pub unit_id: Option<UnitId>,
    pub unit_name: Option<String>,
    #[serde(skip)]
    pub unit_path: Option<String>,
}

/// The session a principal signed in with, when it came from a token.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub id: String,
    pub channel: String,
    /// The later of sign-in and the last step-up.
    pub authenticated_at: time::OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct Principal {
    pub session: Option<SessionInfo>,
    pub user_id: UserId,
    pub login_name: String,
    pub display_name: String,
    pub unit_id: Option<UnitId>,
    pub unit_name: Option<String>,
    pub grants: Vec<Grant>,
}

impl Principal {
    /// The system acting by itself (the deadline watch): no user behind it,
    /// no grants, audited under `login_name`.
    pub fn system(login_name: &str, display_name: &str) -> Self {
        Principal {
            session: None,
            user_id: UserId::new(""),
            login_name: login_name.into(),
            display_name: display_name.into(),
            unit_id: None,
            unit_name: None,
            grants: Vec::new(),
        }
    }

    /// "孙浩（法律事务处）": who did it, as a history shows it.
    pub fn actor_label(&self) -> String {
        match &self.unit_name {
            Some(unit) => format!("{}（{unit}）", self.display_name),
            None => self.display_name.clone(),
        }
    }

    pub fn is_system(&self) -> bool {
        self.user_id.as_str().is_empty()
    }

    /// The user acting, unless the system acts by itself.
    pub fn user(&self) -> Option<&UserId> {
        (!self.is_system()).then_some(&self.user_id)
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.grants.iter().any(|g| g.role == role)
    }

    /// Refuses unless the principal authenticated (signed in or stepped up)
    /// within `max_age`: for sensitive actions such as approving a seal.
    pub fn require_recent_auth(&self, max_age: std::time::Duration) -> ApiResult<()> {
        let recent = self
            .session
            .as_ref()
            .is_some_and(|s| crate::clock::now() - s.authenticated_at <= max_age);
        if recent {
            Ok(())
        } else {
            Err(ApiError::StepUpRequired {
                max_age_secs: max_age.as_secs(),
            })
        }
    }

    /// True when the principal holds one of `roles` at the unit with
    /// materialised `path`, or at a unit above it.
    pub fn covers(&self, roles: &[Role], path: &str) -> bool {
        self.grants.iter().any(|g| {
            roles.contains(&g.role)
                && g.unit_path
                    .as_deref()
                    .is_some_and(|gp| path.starts_with(gp))
        })
    }

    /// Refuses unless the principal holds one of `roles`. Use for actions
    /// whose target is not a unit-scoped row (those answer 404 instead).
    pub fn require_any(&self, roles: &[Role]) -> ApiResult<()> {
        if roles.iter().any(|r| self.has_role(*r)) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

/// A SQL condition, true when the org unit aliased `u` lies in the subtree of
/// a unit where the user bound to `$1` holds any role. Append it (with
/// `concat!`, so the statement stays a compile-time constant) to a query on
/// `org_units u` to scope the query to the principal.
#[macro_export]
macro_rules! visible_unit_sql {
    () => {
        "EXISTS (SELECT 1 FROM role_assignments ra JOIN org_units su ON su.id = ra.unit_id \
         WHERE ra.user_id = $1 AND substr(u.path, 1, length(su.path)) = su.path)"
    };
}

#[derive(FromRow)]
struct PrincipalRow {
    id: UserId,
    login_name: String,
    display_name: String,
    unit_id: Option<UnitId>,
    unit_name: Option<String>,
    status: crate::org::UserStatus,
}

#[derive(FromRow)]
struct GrantRow {
    role: Role,
    unit_id: Option<UnitId>,
    unit_name: Option<String>,
    unit_path: Option<String>,
}

/// How a user is named when a principal is loaded.
pub enum UserKey<'a> {
    Id(&'a UserId),
    LoginName(&'a str),
}

/// Loads an active user with their grants: two indexed queries. A disabled
/// or unknown user is unauthenticated.
pub async fn load_principal(db: &Db, key: UserKey<'_>) -> ApiResult<Principal> {
    let (sql, value) = user_query(&key);
    let row: Option<PrincipalRow> =
        on_db!(db, p => sqlx::query_as(sql).bind(value).fetch_optional(p).await)?;
    let row = active(row)?;
    let grants: Vec<GrantRow> =
        on_db!(db, p => sqlx::query_as(GRANTS_SQL).bind(&row.id).fetch_all(p).await)?;
    Ok(principal(row, grants))
}

/// [`load_principal`] inside a transaction: for checks made in the middle
/// of a change, without taking a second connection from the pool.
pub async fn load_principal_tx(tx: &mut crate::db::Tx, key: UserKey<'_>) -> ApiResult<Principal> {
    let (sql, value) = user_query(&key);
    let row: Option<PrincipalRow> =
        crate::on_tx!(tx, c => sqlx::query_as(sql).bind(value).fetch_optional(c).await)?;
    let row = active(row)?;
    let grants: Vec<GrantRow> =
        crate::on_tx!(tx, c => sqlx::query_as(GRANTS_SQL).bind(&row.id).fetch_all(c).await)?;
    Ok(principal(row, grants))
}

macro_rules! select_user {
    () => {
        "SELECT u.id, u.login_name, u.display_name, u.unit_id, o.name AS unit_name, u.status \
         FROM users u LEFT JOIN org_units o ON o.id = u.unit_id "
    };
}
const GRANTS_SQL: &str = "SELECT ra.role, ra.unit_id, ou.name AS unit_name, ou.path AS unit_path \
     FROM role_assignments ra LEFT JOIN org_units ou ON ou.id = ra.unit_id \
     WHERE ra.user_id = $1 ORDER BY ra.role, ra.unit_id";

fn user_query<'a>(key: &UserKey<'a>) -> (&'static str, &'a str) {
    const BY_ID: &str = concat!(select_user!(), "WHERE u.id = $1");
    const BY_LOGIN: &str = concat!(select_user!(), "WHERE u.login_name = $1");
    match key {
        UserKey::Id(v) => (BY_ID, v.as_str()),
        UserKey::LoginName(v) => (BY_LOGIN, v),
    }
}

/// A disabled or unknown user is unauthenticated.
fn active(row: Option<PrincipalRow>) -> ApiResult<PrincipalRow> {
    row.filter(|r| r.status == crate::org::UserStatus::Active)
        .ok_or(ApiError::Unauthenticated)
}

fn principal(row: PrincipalRow, grants: Vec<GrantRow>) -> Principal {
    Principal {
        session: None,
        user_id: row.id,
        login_name: row.login_name,
        display_name: row.display_name,
        unit_id: row.unit_id,
        unit_name: row.unit_name,
        grants: grants
            .into_iter()
            .map(|g| Grant {
                role: g.role,
                unit_id: g.unit_id,
                unit_name: g.unit_name,
                unit_path: g.unit_path,
            })
            .collect(),
    }
}

pub type AuthFuture<'a> = Pin<Box<dyn Future<Output = ApiResult<Principal>> + Send + 'a>>;

/// Turns a request's credentials into a principal. The `sso` crate provides
/// the implementations; the core only needs this seam.
pub trait Authenticate: Send + Sync + 'static {
    fn authenticate<'a>(&'a self, parts: &'a Parts, db: &'a Db) -> AuthFuture<'a>;
}

pub type Authenticator = Arc<dyn Authenticate>;

impl<S> FromRequestParts<S> for Principal
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<Self> {
        let app = AppState::from_ref(state);
        app.authn.authenticate(parts, &app.db).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
