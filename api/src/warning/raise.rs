//! Raising a warning, inside the transaction that registers the request
//! that reaches a rule's threshold: the warning for (rule, applicant,
//! window) is created or raised further, each agency the counted requests
//! went to is added once and, if the rule says so, told (push, then SMS)
//! and given a to-do item.

use std::time::Duration;

use super::evaluate::{Counting, LiveRule};
use super::rule::Measure;
use crate::calendar::ymd;
use crate::db::Tx;
use crate::error::ApiResult;
use crate::ids::{CaseId, UnitId, UserId};
use crate::outbox::push::{Notification, notify_user};
use crate::state::AppState;
use crate::{on_tx, todo};

/// Raises (or raises further) `rule`'s warning for the applicant in this
/// window, and tells every agency concerned that was not told yet.
pub async fn raise(
    app: &AppState,
    tx: &mut Tx,
    rule: &LiveRule,
    c: &Counting<'_>,
    (count, masked): (i64, &str),
    case: &CaseId,
) -> ApiResult<()> {
    const FIND: &str =
        "SELECT id FROM warnings WHERE rule_id = $1 AND applicant_key = $2 AND window_from = $3";
    const INSERT: &str = "INSERT INTO warnings (id, rule_id, rule_version, category_id, severity, applicant_key, \
         applicant_masked, window_from, window_to, count, case_id, raised_on, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)";
    const UPDATE: &str =
        "UPDATE warnings SET count = $2, case_id = $3, updated_at = $4 WHERE id = $1";
    let (from, to) = rule.spec.window_on(c.today);
    let now = crate::clock::now();
    let found: Option<String> = on_tx!(tx, t => sqlx::query_scalar(FIND).bind(&rule.id).bind(c.applicant_key)
        .bind(ymd(from)).fetch_optional(t).await)?;
    let id = match found {
        Some(id) => {
            on_tx!(tx, t => sqlx::query(UPDATE).bind(&id).bind(count).bind(case).bind(now).execute(t).await.map(|_| ()))?;
            id
        }
        None => {
            let id = ulid::Ulid::new().to_string();
            on_tx!(tx, t => sqlx::query(INSERT).bind(&id).bind(&rule.id).bind(rule.version).bind(&rule.spec.category_id)
                .bind(rule.spec.severity).bind(c.applicant_key).bind(masked).bind(ymd(from)).bind(ymd(to))
                .bind(count).bind(case).bind(ymd(c.today)).bind(now).execute(t).await.map(|_| ()))?;
            id
        }
    };
    for (unit, path) in agencies(tx, rule, c).await? {
        if add_agency(tx, &id, &unit, &path).await? && rule.spec.notify_agencies {
            tell(app, tx, &id, &unit, rule, (count, masked)).await?;
        }
    }
    Ok(())
}

/// The agencies the applicant's counted requests in the window went to.
async fn agencies(
    tx: &mut Tx,
    rule: &LiveRule,
    c: &Counting<'_>,
) -> ApiResult<Vec<(UnitId, String)>> {
    const SQL: &str = "SELECT DISTINCT unit_id, unit_path FROM warning_requests \
         WHERE applicant_key = $1 AND received_on BETWEEN $2 AND $3 \
         AND substr(unit_path, 1, length($4)) = $4 AND ($5 IS NULL OR text_key = $5) ORDER BY unit_id";
    let (from, to) = rule.spec.window_on(c.today);
    let text = (rule.spec.measure == Measure::SameText).then_some(c.text_key);
    Ok(
        on_tx!(tx, t => sqlx::query_as(SQL).bind(c.applicant_key).bind(ymd(from)).bind(ymd(to)).bind(&rule.scope_path)
        .bind(text).fetch_all(t).await)?,
    )
}

/// Adds `unit` to the warning; false when it was there already.
async fn add_agency(tx: &mut Tx, warning: &str, unit: &UnitId, path: &str) -> ApiResult<bool> {
    const SQL: &str = "INSERT INTO warning_agencies (warning_id, unit_id, unit_path, told_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (warning_id, unit_id) DO NOTHING";
    let n = on_tx!(tx, t => sqlx::query(SQL).bind(warning).bind(unit).bind(path).bind(crate::clock::now())
        .execute(t).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Tells the agency's dispatchers and handlers (push, then SMS) and puts the
/// warning on their to-do lists.
async fn tell(
    app: &AppState,
    tx: &mut Tx,
    warning: &str,
    unit: &UnitId,
    rule: &LiveRule,
    (count, masked): (i64, &str),
) -> ApiResult<()> {
    const SQL: &str = "SELECT DISTINCT ra.user_id FROM role_assignments ra JOIN users u ON u.id = ra.user_id \
         WHERE ra.unit_id = $1 AND ra.role IN ('dispatcher', 'handler') AND u.status = 'active' ORDER BY ra.user_id";
    let users: Vec<UserId> =
        on_tx!(tx, t => sqlx::query_scalar(SQL).bind(unit).fetch_all(t).await)?;
    let count = count.to_string();
    for user in &users {
        let key = format!("application-warning:{warning}:{user}");
        let n = Notification {
            kind: "application_warning",
            user_id: user,
            params: &[
                ("applicant", masked),
                ("rule", &rule.spec.name),
                ("count", &count),
                ("warning_id", warning),
            ],
            idempotency_key: Some(&key),
            ttl: Duration::from_secs(3 * 86_400),
        };
        notify_user(tx, &app.pii, &app.config.notify, n).await?;
    }
    let title = format!("申请预警：{}（{}）", rule.spec.name, masked);
    todo::push(
        app,
        tx,
        &task(warning, unit.as_str(), &title),
        &users,
        todo::Action::Create,
    )
    .await
}

/// An agency's to-do item of a warning.
pub(super) fn task<'a>(warning: &str, unit: &str, title: &'a str) -> todo::Task<'a> {
    todo::Task {
        kind: "application_warning",
        subject: format!("application-warning:{warning}:{unit}"),
        title,
        pc_path: format!("/api/v1/warnings/{warning}"),
        mobile_url: format!("govapp://warnings/{warning}"),
        created_at: crate::clock::now(),
    }
}
