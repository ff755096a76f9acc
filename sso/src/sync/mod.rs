//! Org and user sync with the unified office platform (GK-01).
//!
//! The platform describes its org tree as a feed of versioned changes
//! (`docs/integration/org-sync.md`). We pull the feed (full, or since a
//! cursor; scheduled and on demand) and the platform may push batches of
//! the same changes to us, signed with HMAC-SM3. Both paths end in
//! [`apply_batch`]: one transaction per batch, each change applied at most
//! once (by its id), and never over newer data (by its version). Every
//! change gets its own result, so one bad record does not hold up the rest.
//!
//! Effects are immediate: principals are loaded from the database on every
//! request, so a moved user's scope changes on their next request; a
//! disabled user's sessions end in the same transaction.

#[cfg(feature = "stand-ins")]
pub mod documents_standin;
pub mod pull;
pub mod push;
pub mod signature;
#[cfg(feature = "stand-ins")]
pub mod standin;

use api::audit::{self, Actor, Entry, Outcome};
use api::authz::Role;
use api::clock;
use api::db::Tx;
use api::error::{ApiError, ApiResult};
use api::ids::UserId;
use api::on_tx;
use api::org::users::PHONE_FIELD;
use api::org::{UnitKind, UserStatus};
use api::pii::Phone;
use api::state::AppState;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::sessions;

pub const MAX_CHANGES: usize = 10_000;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    pub changes: Vec<Change>,
}

/// One change. `version` is the platform's version of the record (any
/// increasing number, e.g. its update time in milliseconds).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Change {
    UpsertUnit {
        change_id: String,
        version: i64,
        unit: UnitRecord,
    },
    RemoveUnit {
        change_id: String,
        version: i64,
        code: String,
    },
    UpsertUser {
        change_id: String,
        version: i64,
        user: UserRecord,
    },
    RemoveUser {
        change_id: String,
        version: i64,
        platform_id: String,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitRecord {
    pub code: String,
    /// None for the root.
    pub parent_code: Option<String>,
    pub name: String,
    pub kind: UnitKind,
    #[serde(default)]
    pub sort_order: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserRecord {
    pub platform_id: String,
    pub login_name: String,
    pub name: String,
    pub unit_code: String,
    pub mobile: Option<String>,
    pub status: UserStatus,
    /// The complete list of the user's business roles; it replaces what
    /// the platform granted before. The system, security and audit
    /// administrator roles are managed locally and cannot be synced.
    pub roles: Vec<RoleRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleRecord {
    pub role: Role,
    pub unit_code: String,
}

api::text_enum! {
    /// What became of one change.
    pub enum ChangeOutcome {
        Applied = "applied",
        /// Seen before (by its id).
        Duplicate = "duplicate",
        /// Older than what we hold.
        Stale = "stale",
        /// Refused; see the reason.
        Rejected = "rejected",
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChangeResult {
    pub change_id: String,
    /// `applied`, `duplicate` (seen before), `stale` (older than what we
    /// hold) or `rejected` (see `reason`).
    #[schema(value_type = String)]
    pub result: ChangeOutcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Change {
    fn id(&self) -> &str {
        match self {
            Change::UpsertUnit { change_id, .. }
            | Change::RemoveUnit { change_id, .. }
            | Change::UpsertUser { change_id, .. }
            | Change::RemoveUser { change_id, .. } => change_id,
        }
    }

    fn version(&self) -> i64 {
        match self {
            Change::UpsertUnit { version, .. }
            | Change::RemoveUnit { version, .. }
            | Change::UpsertUser { version, .. }
            | Change::RemoveUser { version, .. } => *version,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Change::UpsertUnit { .. } => "upsert_unit",
            Change::RemoveUnit { .. } => "remove_unit",
            Change::UpsertUser { .. } => "upsert_user",
            Change::RemoveUser { .. } => "remove_user",
        }
    }
}

/// What one change did.
enum Effect {
    Applied,
    Stale,
    Rejected(String),
}

fn reject(why: impl Into<String>) -> Effect {
    Effect::Rejected(why.into())
}

/// Applies a batch in one transaction; answers one result per change.
pub async fn apply_batch(
    app: &AppState,
    source: &'static str,
    changes: &[Change],
) -> ApiResult<Vec<ChangeResult>> {
    const SEEN: &str = "SELECT COUNT(*) FROM sync_changes WHERE change_id = $1";
    const RECORD: &str = "INSERT INTO sync_changes (change_id, version, kind, result, applied_at) VALUES ($1, $2, $3, $4, $5)";
    if changes.len() > MAX_CHANGES {
        return Err(ApiError::invalid(
            "changes",
            format!("一批最多 {MAX_CHANGES} 条变更"),
        ));
    }
    if let Some(bad) = changes
        .iter()
        .find(|c| c.id().is_empty() || c.id().len() > 128)
    {
        return Err(ApiError::invalid(
            "change_id",
            format!("变更编号须为 1 到 128 个字符：{:?}", bad.id()),
        ));
    }
    if changes.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = app.db.begin().await?;
    let mut results = Vec::with_capacity(changes.len());
    let mut disabled = Vec::new();
    for change in changes {
        let seen: i64 =
            on_tx!(&mut tx, c => sqlx::query_scalar(SEEN).bind(change.id()).fetch_one(c).await)?;
        let outcome = match seen {
            0 => Some(apply_one(&mut tx, app, change, &mut disabled).await?),
            _ => None,
        };
        let (result, reason) = match outcome {
            None => (ChangeOutcome::Duplicate, None),
            Some(Effect::Applied) => (ChangeOutcome::Applied, None),
            Some(Effect::Stale) => (ChangeOutcome::Stale, None),
            Some(Effect::Rejected(why)) => (ChangeOutcome::Rejected, Some(why)),
        };
        if result != ChangeOutcome::Duplicate {
            on_tx!(&mut tx, c => sqlx::query(RECORD).bind(change.id()).bind(change.version()).bind(change.kind())
                .bind(result).bind(clock::now()).execute(c).await.map(|_| ()))?;
        }
        results.push(ChangeResult {
            change_id: change.id().to_owned(),
            result,
            reason,
        });
    }
    let count = |r: ChangeOutcome| results.iter().filter(|x| x.result == r).count();
    let entry = Entry {
        actor: Actor::system("org-sync"),
        action: "org.sync",
        target_type: None,
        target_id: None,
        outcome: Outcome::Success,
        detail: json!({
            "source": source,
            "applied": count(ChangeOutcome::Applied), "duplicate": count(ChangeOutcome::Duplicate),
            "stale": count(ChangeOutcome::Stale), "rejected": count(ChangeOutcome::Rejected),
            "disabled_users": disabled.iter().take(100).collect::<Vec<_>>(),
        }),
    };
    audit::append(&mut tx, app.audit_key(), entry).await?;
    tx.commit().await?;
    Ok(results)
}

/// Applies one change not seen before.
async fn apply_one(
    tx: &mut Tx,
    app: &AppState,
    change: &Change,
    disabled: &mut Vec<UserId>,
) -> ApiResult<Effect> {
    match change {
        Change::UpsertUnit { version, unit, .. } => upsert_unit(tx, *version, unit).await,
        Change::RemoveUnit { version, code, .. } => remove_unit(tx, *version, code).await,
        Change::UpsertUser { version, user, .. } => {
            upsert_user(tx, app, *version, user, disabled).await
        }
        Change::RemoveUser {
            version,
            platform_id,
            ..
        } => remove_user(tx, *version, platform_id, disabled).await,
    }
}

async fn unit_by_code(tx: &mut Tx, code: &str) -> ApiResult<Option<(String, String, i32, i64)>> {
    const SQL: &str = "SELECT id, path, depth, sync_version FROM org_units WHERE code = $1";
    Ok(on_tx!(tx, c => sqlx::query_as(SQL).bind(code).fetch_optional(c).await)?)
}

async fn upsert_unit(tx: &mut Tx, version: i64, unit: &UnitRecord) -> ApiResult<Effect> {
    const PARENT_OF: &str = "SELECT parent_id FROM org_units WHERE id = $1";
    const MOVE: &str = "UPDATE org_units SET path = $2 || substr(path, length($1) + 1), depth = depth + $3 \
         WHERE substr(path, 1, length($1)) = $1";
    const UPDATE: &str = "UPDATE org_units SET name = $2, kind = $3, parent_id = $4, sort_order = $5, \
         sync_version = $6, updated_at = $7 WHERE id = $1";
    const INSERT: &str = "INSERT INTO org_units (id, parent_id, code, name, kind, path, depth, sort_order, \
         created_at, updated_at, sync_version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10)";
    if unit.code.is_empty() || unit.name.trim().is_empty() || unit.name.chars().count() > 100 {
        return Ok(reject("单位编码和名称不能为空，名称最多 100 字"));
    }
    let parent = match &unit.parent_code {
        Some(code) => match unit_by_code(tx, code).await? {
            Some(p) => Some(p),
            None => return Ok(reject(format!("上级单位 {code} 不存在"))),
        },
        None => None,
    };
    let now = clock::now();
    let existing = unit_by_code(tx, &unit.code).await?;
    if let Some((id, old_path, old_depth, held)) = existing {
        if held >= version {
            return Ok(Effect::Stale);
        }
        let old_parent: Option<String> =
            on_tx!(tx, c => sqlx::query_scalar(PARENT_OF).bind(&id).fetch_one(c).await)?;
        let new_parent = parent.as_ref().map(|p| p.0.clone());
        if old_parent != new_parent {
            let (new_path, new_depth) = match &parent {
                Some((_, ppath, pdepth, _)) if ppath.starts_with(&old_path) => {
                    return Ok(reject("不能把单位移到它自己的下级单位之下"));
                }
                Some((_, ppath, pdepth, _)) => (format!("{ppath}{id}/"), pdepth + 1),
                None => (format!("/{id}/"), 0),
            };
            on_tx!(tx, c => sqlx::query(MOVE).bind(&old_path).bind(&new_path).bind(new_depth - old_depth)
                .execute(c).await.map(|_| ()))?;
        }
        on_tx!(tx, c => sqlx::query(UPDATE).bind(&id).bind(&unit.name).bind(unit.kind).bind(&new_parent)
            .bind(unit.sort_order).bind(version).bind(now).execute(c).await.map(|_| ()))?;
    } else {
        let id = ulid::Ulid::new().to_string();
        let (parent_id, path, depth) = match &parent {
            Some((pid, ppath, pdepth, _)) => {
                (Some(pid.clone()), format!("{ppath}{id}/"), pdepth + 1)
            }
            None => (None, format!("/{id}/"), 0),
        };
        on_tx!(tx, c => sqlx::query(INSERT).bind(&id).bind(&parent_id).bind(&unit.code).bind(&unit.name)
            .bind(unit.kind).bind(&path).bind(depth).bind(unit.sort_order).bind(now).bind(version)
            .execute(c).await.map(|_| ()))?;
    }
    Ok(Effect::Applied)
}

async fn remove_unit(tx: &mut Tx, version: i64, code: &str) -> ApiResult<Effect> {
    const IN_USE: &str = "SELECT (SELECT COUNT(*) FROM org_units WHERE parent_id = $1) \
         + (SELECT COUNT(*) FROM users WHERE unit_id = $1) \
         + (SELECT COUNT(*) FROM role_assignments WHERE unit_id = $1)";
    const DELETE: &str = "DELETE FROM org_units WHERE id = $1";
    let Some((id, _, _, held)) = unit_by_code(tx, code).await? else {
        return Ok(Effect::Applied);
    };
    if held >= version {
        return Ok(Effect::Stale);
    }
    let in_use: i64 = on_tx!(tx, c => sqlx::query_scalar(IN_USE).bind(&id).fetch_one(c).await)?;
    if in_use > 0 {
        return Ok(reject("单位下仍有下级单位、人员或授权，不能删除"));
    }
    on_tx!(tx, c => sqlx::query(DELETE).bind(&id).execute(c).await.map(|_| ()))?;
    Ok(Effect::Applied)
}

/// Roles the platform may grant: everything but the locally managed ones.
fn syncable(role: Role) -> bool {
    !Role::SEPARATED.contains(&role) && role != Role::Applicant
}

/// A user record that passed every check, with its unit and role grants
/// resolved to ids.
struct CheckedUser {
    unit_id: String,
    phone: Option<Phone>,
    grants: Vec<(Role, String)>,
}

/// Checks a pushed or pulled user record: its names, its unit, its phone,
/// that its login name is free, and that its roles are the platform's to
/// grant at units that exist. A refusal is the change's effect.
async fn check_user(tx: &mut Tx, user: &UserRecord) -> ApiResult<Result<CheckedUser, Effect>> {
    const LOGIN_TAKEN: &str = "SELECT COUNT(*) FROM users WHERE login_name = $1 AND (platform_id IS NULL OR platform_id <> $2)";
    let login_ok = !user.login_name.is_empty()
        && user.login_name.len() <= 64
        && user
            .login_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c));
    if user.platform_id.is_empty() || !login_ok || user.name.trim().is_empty() {
        return Ok(Err(reject(
            "platform_id、login_name（字母数字及 ._-@）和姓名不能为空",
        )));
    }
    let Some((unit_id, ..)) = unit_by_code(tx, &user.unit_code).await? else {
        return Ok(Err(reject(format!("单位 {} 不存在", user.unit_code))));
    };
    let phone = match user.mobile.as_deref().map(Phone::parse).transpose() {
        Ok(p) => p,
        Err(why) => return Ok(Err(reject(format!("手机号：{why}")))),
    };
    let taken: i64 = on_tx!(tx, c => sqlx::query_scalar(LOGIN_TAKEN).bind(&user.login_name).bind(&user.platform_id)
        .fetch_one(c).await)?;
    if taken > 0 {
        let why = format!("登录名 {} 已被其他用户使用", user.login_name);
        return Ok(Err(reject(why)));
    }
    let mut grants = Vec::with_capacity(user.roles.len());
    for r in &user.roles {
        if !syncable(r.role) {
            let why = format!("{}角色由本系统管理，不能同步", r.role.label_zh());
            return Ok(Err(reject(why)));
        }
        match unit_by_code(tx, &r.unit_code).await? {
            Some((id, ..)) => grants.push((r.role, id)),
            None => return Ok(Err(reject(format!("授权单位 {} 不存在", r.unit_code)))),
        }
    }
    grants.sort();
    grants.dedup();
    Ok(Ok(CheckedUser {
        unit_id,
        phone,
        grants,
    }))
}

async fn upsert_user(
    tx: &mut Tx,
    app: &AppState,
    version: i64,
    user: &UserRecord,
    disabled: &mut Vec<UserId>,
) -> ApiResult<Effect> {
    const FIND: &str = "SELECT id, sync_version, status FROM users WHERE platform_id = $1";
    let existing: Option<(UserId, i64, UserStatus)> =
        on_tx!(tx, c => sqlx::query_as(FIND).bind(&user.platform_id).fetch_optional(c).await)?;
    if existing.as_ref().is_some_and(|e| e.1 >= version) {
        return Ok(Effect::Stale);
    }
    let checked = match check_user(tx, user).await? {
        Ok(checked) => checked,
        Err(refused) => return Ok(refused),
    };
    let user_id = match existing {
        Some((id, _, old_status)) => {
            write_user(tx, app, Some(&id), version, user, &checked).await?;
            if old_status == UserStatus::Active && user.status == UserStatus::Disabled {
                sessions::end_all_for_user(tx, &id, "disabled_by_sync").await?;
                disabled.push(id.clone());
            }
            id
        }
        None => write_user(tx, app, None, version, user, &checked).await?,
    };
    replace_grants(tx, &user_id, &checked.grants).await?;
    Ok(Effect::Applied)
}

/// Updates user `id`, or creates the user when there is none; answers the
/// user's id.
async fn write_user(
    tx: &mut Tx,
    app: &AppState,
    id: Option<&UserId>,
    version: i64,
    user: &UserRecord,
    checked: &CheckedUser,
) -> ApiResult<UserId> {
    const UPDATE: &str = "UPDATE users SET login_name = $2, display_name = $3, unit_id = $4, phone_cipher = $5, \
         phone_index = $6, status = $7, sync_version = $8, updated_at = $9, platform_id = $10 WHERE id = $1";
    const INSERT: &str = "INSERT INTO users (id, login_name, display_name, unit_id, phone_cipher, phone_index, \
         status, sync_version, created_at, updated_at, platform_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10)";
    let phone = checked.phone.as_ref();
    let cipher = phone.map(|p| app.pii.encrypt(PHONE_FIELD, p.as_str()));
    let index = phone.map(|p| app.pii.blind_index(PHONE_FIELD, p.as_str()));
    let now = clock::now();
    let (sql, id) = match id {
        Some(id) => (UPDATE, id.clone()),
        None => (INSERT, UserId::generate()),
    };
    on_tx!(tx, c => sqlx::query(sql).bind(&id).bind(&user.login_name).bind(&user.name).bind(&checked.unit_id)
        .bind(&cipher).bind(&index).bind(user.status).bind(version).bind(now).bind(&user.platform_id)
        .execute(c).await.map(|_| ()))?;
    Ok(id)
}

/// Replaces the user's platform-granted roles with `grants`.
async fn replace_grants(tx: &mut Tx, user_id: &UserId, grants: &[(Role, String)]) -> ApiResult<()> {
    const CLEAR_ROLES: &str = "DELETE FROM role_assignments WHERE user_id = $1 \
         AND role NOT IN ('system_admin', 'security_admin', 'audit_admin', 'applicant')";
    const GRANT: &str = "INSERT INTO role_assignments (id, user_id, role, unit_id, granted_at, granted_by) \
         VALUES ($1, $2, $3, $4, $5, 'org-sync')";
    let now = clock::now();
    on_tx!(tx, c => sqlx::query(CLEAR_ROLES).bind(user_id).execute(c).await.map(|_| ()))?;
    for (role, unit) in grants {
        on_tx!(tx, c => sqlx::query(GRANT).bind(ulid::Ulid::new().to_string()).bind(user_id).bind(role)
            .bind(unit).bind(now).execute(c).await.map(|_| ()))?;
    }
    Ok(())
}

async fn remove_user(
    tx: &mut Tx,
    version: i64,
    platform_id: &str,
    disabled: &mut Vec<UserId>,
) -> ApiResult<Effect> {
    const FIND: &str = "SELECT id, sync_version FROM users WHERE platform_id = $1";
    const DISABLE: &str =
        "UPDATE users SET status = $4, sync_version = $2, updated_at = $3 WHERE id = $1";
    let found: Option<(UserId, i64)> =
        on_tx!(tx, c => sqlx::query_as(FIND).bind(platform_id).fetch_optional(c).await)?;
    let Some((id, held)) = found else {
        return Ok(Effect::Applied);
    };
    if held >= version {
        return Ok(Effect::Stale);
    }
    on_tx!(tx, c => sqlx::query(DISABLE).bind(&id).bind(version).bind(clock::now())
        .bind(UserStatus::Disabled).execute(c).await.map(|_| ()))?;
    sessions::end_all_for_user(tx, &id, "removed_by_sync").await?;
    disabled.push(id);
    Ok(Effect::Applied)
}
