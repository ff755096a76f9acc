//! Evaluating the rules (GK-16, GK-18): every request registered by the
//! disclosure intake is recorded once, keyed by its applicant, and counted
//! against every enabled rule of an enabled category inside the
//! registration's own transaction. A count reads the applicant's requests
//! in the rule's window by index (`warning_requests (applicant_key,
//! received_on)`), so its cost is that applicant's requests in the window,
//! whatever the size of the history. At the threshold a warning is raised
//! (or, in the same window, raised further); at the hint threshold the
//! registering handler is shown a hint on the case. The applicant sees
//! neither.

use sqlx::FromRow;
use time::Date;

use super::raise::raise;
use super::rule::{Filed, Outcome, RuleSpec, Scope, Tally, normalise_text};
use crate::calendar::ymd;
use crate::db::Tx;
use crate::disclosure::applicant::{Identity, mask_id_number, mask_name};
use crate::error::{ApiError, ApiResult};
use crate::ids::{CaseId, UnitId};
use crate::on_tx;
use crate::pii::PiiCipher;
use crate::state::AppState;

const APPLICANT_FIELD: &str = "warning.applicant";
const TEXT_FIELD: &str = "warning.text";

/// The applicant across agencies: the blind index of the ID number
/// (natural persons) or the unified social credit code (organisations); the
/// verified phone's blind index when there is no number. Never plaintext.
pub fn applicant_key(pii: &PiiCipher, identity: &Identity, phone_index: &str) -> String {
    match identity {
        Identity::Citizen {
            id_type, id_number, ..
        } if !id_number.is_empty() => pii.blind_index(
            APPLICANT_FIELD,
            &format!("id:{id_type:?}:{}", id_number.to_uppercase()),
        ),
        Identity::Company { uscc, .. } if !uscc.is_empty() => {
            pii.blind_index(APPLICANT_FIELD, &format!("uscc:{}", uscc.to_uppercase()))
        }
        _ => format!("phone:{phone_index}"),
    }
}

/// How a warning names the applicant: masked.
pub fn applicant_masked(identity: &Identity) -> String {
    match identity {
        Identity::Citizen {
            name, id_number, ..
        } => format!("{}（{}）", mask_name(name), mask_id_number(id_number)),
        Identity::Company { name, uscc, .. } => format!("{name}（{}）", mask_id_number(uscc)),
    }
}

/// A request as the rules see it.
pub struct Registered<'a> {
    pub case_id: &'a CaseId,
    pub unit_id: &'a UnitId,
    pub identity: &'a Identity,
    pub phone_index: &'a str,
    pub description: &'a str,
    pub received_on: Date,
}

/// A live rule: its id, version and spec, and the path prefix of its
/// scope.
#[derive(Debug, Clone)]
pub struct LiveRule {
    pub id: String,
    pub version: i64,
    pub spec: RuleSpec,
    /// `/` city-wide; a district's or agency's path; a unit deleted since
    /// the rule was saved matches nothing.
    pub scope_path: String,
}

#[derive(FromRow)]
struct RuleRow {
    id: String,
    version: i64,
    spec: String,
}

/// The enabled rules of enabled categories, as they are now.
pub async fn live_rules(tx: &mut Tx) -> ApiResult<Vec<LiveRule>> {
    const SQL: &str = "SELECT r.id, r.version, r.spec FROM warning_rules r JOIN warning_categories c ON c.id = r.category_id \
         WHERE r.superseded_at IS NULL AND r.enabled AND c.enabled ORDER BY r.id";
    let rows: Vec<RuleRow> = on_tx!(tx, c => sqlx::query_as(SQL).fetch_all(c).await)?;
    resolve(tx, rows).await
}

/// Parses the rules' specs and finds their scopes' paths, in one query.
async fn resolve(tx: &mut Tx, rows: Vec<RuleRow>) -> ApiResult<Vec<LiveRule>> {
    let specs: Vec<(RuleRow, RuleSpec)> = rows
        .into_iter()
        .map(|r| {
            let spec = serde_json::from_str(&r.spec)
                .map_err(|e| ApiError::Internal(anyhow::anyhow!("rule {}: {e}", r.id)))?;
            Ok((r, spec))
        })
        .collect::<ApiResult<_>>()?;
    let units: Vec<&str> = specs
        .iter()
        .filter(|(_, s)| s.scope != Scope::City)
        .filter_map(|(_, s)| s.scope_unit_id.as_deref())
        .collect();
    let paths = unit_paths(tx, &units).await?;
    Ok(specs
        .into_iter()
        .map(|(r, spec)| {
            let scope_path = match (&spec.scope, &spec.scope_unit_id) {
                (Scope::City, _) | (_, None) => "/".to_owned(),
                (_, Some(unit)) => paths
                    .get(unit)
                    .cloned()
                    .unwrap_or_else(|| "/nowhere/".to_owned()),
            };
            LiveRule {
                id: r.id,
                version: r.version,
                spec,
                scope_path,
            }
        })
        .collect())
}

/// The paths of `units` (those that still exist).
async fn unit_paths(
    tx: &mut Tx,
    units: &[&str],
) -> ApiResult<std::collections::HashMap<String, String>> {
    let found: Vec<(String, String)> = crate::db::fetch_in_tx(
        tx,
        "SELECT id, path FROM org_units WHERE id IN ({in})",
        units,
    )
    .await?;
    Ok(found.into_iter().collect())
}

/// What a rule counts for one applicant on one day.
pub struct Counting<'a> {
    pub applicant_key: &'a str,
    pub text_key: &'a str,
    pub today: Date,
}

/// The applicant's requests received from `from` to `to`: one indexed
/// range of `(applicant_key, received_on)`.
async fn filed(
    tx: &mut Tx,
    applicant_key: &str,
    (from, to): (Date, Date),
) -> ApiResult<Vec<Filed>> {
    const SQL: &str = "SELECT unit_id, unit_path, text_key, received_on FROM warning_requests \
         WHERE applicant_key = $1 AND received_on BETWEEN $2 AND $3";
    Ok(
        on_tx!(tx, c => sqlx::query_as(SQL).bind(applicant_key).bind(ymd(from)).bind(ymd(to))
        .fetch_all(c).await)?,
    )
}

/// The span that holds every rule's window on `today`.
fn widest(rules: &[LiveRule], today: Date) -> (Date, Date) {
    rules
        .iter()
        .map(|r| r.spec.window_on(today))
        .fold((today, today), |(a, b), (f, t)| (a.min(f), b.max(t)))
}

/// Records the request and evaluates every live rule on it, in the
/// registering transaction.
pub async fn on_intake(app: &AppState, tx: &mut Tx, r: Registered<'_>) -> ApiResult<()> {
    const PATH: &str = "SELECT path FROM org_units WHERE id = $1";
    const INSERT: &str = "INSERT INTO warning_requests (case_id, applicant_key, unit_id, unit_path, text_key, received_on) \
         VALUES ($1, $2, $3, $4, $5, $6)";
    const HINT: &str = "UPDATE warning_requests SET hint = $2 WHERE case_id = $1";
    let key = applicant_key(&app.pii, r.identity, r.phone_index);
    let text_key = app
        .pii
        .blind_index(TEXT_FIELD, &normalise_text(r.description));
    let path: String =
        on_tx!(tx, c => sqlx::query_scalar(PATH).bind(r.unit_id).fetch_one(c).await)?;
    on_tx!(tx, c => sqlx::query(INSERT).bind(r.case_id).bind(&key).bind(r.unit_id).bind(&path).bind(&text_key)
        .bind(ymd(r.received_on)).execute(c).await.map(|_| ()))?;
    let counting = Counting {
        applicant_key: &key,
        text_key: &text_key,
        today: r.received_on,
    };
    let rules = live_rules(tx).await?;
    if rules.is_empty() {
        return Ok(());
    }
    // One read of the applicant's requests serves every rule.
    let history = filed(tx, &key, widest(&rules, r.received_on)).await?;
    let mut hints = Vec::new();
    for rule in rules {
        let Tally {
            requests,
            agencies,
            measured,
        } = rule
            .spec
            .tally(&history, r.received_on, &rule.scope_path, &text_key);
        let outcome = rule.spec.judge(u32::try_from(measured).unwrap_or(u32::MAX));
        if outcome == Outcome::Nothing {
            continue;
        }
        hints.push(hint_text(&rule.spec, outcome, requests, agencies));
        if outcome == Outcome::Warning {
            let masked = applicant_masked(r.identity);
            raise(app, tx, &rule, &counting, (measured, &masked), r.case_id).await?;
        }
    }
    if !hints.is_empty() {
        let text = hints.join("；");
        on_tx!(tx, c => sqlx::query(HINT).bind(r.case_id).bind(&text).execute(c).await.map(|_| ()))?;
    }
    Ok(())
}

/// "该申请人本月已提出 8 件申请，涉及 5 个机关（规则“…”预警阈值 10）".
fn hint_text(spec: &RuleSpec, outcome: Outcome, requests: i64, agencies: i64) -> String {
    use super::rule::WindowKind::*;
    let window = match spec.window {
        CalendarMonth => "本月".to_owned(),
        CalendarYear => "本年".to_owned(),
        RollingDays => format!("近{}天", spec.window_days.unwrap_or(1)),
    };
    let what = if outcome == Outcome::Warning {
        "已触发预警"
    } else {
        "提示"
    };
    format!(
        "{what}：该申请人{window}已提出 {requests} 件申请，涉及 {agencies} 个机关（规则“{}”，预警阈值 {}）",
        spec.name, spec.threshold
    )
}

/// The hint shown to the registering handler of `case`, if any.
pub async fn hint_of(app: &AppState, case: &CaseId) -> ApiResult<Option<String>> {
    const SQL: &str = "SELECT hint FROM warning_requests WHERE case_id = $1";
    let hint: Option<Option<String>> =
        crate::on_db!(&app.db, c => sqlx::query_scalar(SQL).bind(case).fetch_optional(c).await)?;
    Ok(hint.flatten())
}

/// The scheduled part, run inside the deadline watch's round (one
/// instance at a time, under its lease): a rule created or changed since
/// the last round is counted once against every applicant with requests in
/// its current window, so a new rule finds what is already there. Requests
/// arriving later are counted at registration.
pub async fn reevaluate(app: &AppState, today: Date) -> ApiResult<usize> {
    const PENDING: &str = "SELECT r.id, r.version, r.spec FROM warning_rules r JOIN warning_categories c ON c.id = r.category_id \
         WHERE r.superseded_at IS NULL AND r.evaluated_at IS NULL AND r.enabled AND c.enabled ORDER BY r.id LIMIT 20";
    const DONE: &str = "UPDATE warning_rules SET evaluated_at = $3 WHERE id = $1 AND version = $2";
    let rows: Vec<RuleRow> =
        crate::on_db!(&app.db, c => sqlx::query_as(PENDING).fetch_all(c).await)?;
    let mut raised = 0;
    let rules = {
        let mut tx = app.db.begin().await?;
        resolve(&mut tx, rows).await?
    };
    for rule in rules {
        let mut after = (String::new(), String::new());
        loop {
            let mut tx = app.db.begin().await?;
            let (n, last) = count_window(app, &mut tx, &rule, today, &after).await?;
            raised += n;
            let Some(last) = last else {
                on_tx!(&mut tx, c => sqlx::query(DONE).bind(&rule.id).bind(rule.version)
                    .bind(crate::clock::now()).execute(c).await.map(|_| ()))?;
                tx.commit().await?;
                break;
            };
            tx.commit().await?;
            after = last;
        }
    }
    Ok(raised)
}

/// Applicants (with their texts) counted per transaction when a rule is
/// re-evaluated: a long history is walked in pieces, never all at once.
const REEVALUATE_BATCH: i64 = 500;

/// Counts the next applicants (and, for the same-text rule, texts) after
/// `after` with requests in `rule`'s window, in key order; answers how many
/// reached the threshold, and the last (applicant, text) counted unless
/// this was the end.
async fn count_window(
    app: &AppState,
    tx: &mut Tx,
    rule: &LiveRule,
    today: Date,
    after: &(String, String),
) -> ApiResult<(usize, Option<(String, String)>)> {
    const SEEN: &str = "SELECT applicant_key, text_key, MAX(case_id) FROM warning_requests \
         WHERE (applicant_key > $4 OR (applicant_key = $4 AND text_key > $5)) \
         AND received_on BETWEEN $1 AND $2 AND substr(unit_path, 1, length($3)) = $3 \
         GROUP BY applicant_key, text_key ORDER BY applicant_key, text_key LIMIT $6";
    let (from, to) = rule.spec.window_on(today);
    let seen: Vec<(String, String, CaseId)> = on_tx!(tx, c => sqlx::query_as(SEEN).bind(ymd(from)).bind(ymd(to))
        .bind(&rule.scope_path).bind(&after.0).bind(&after.1).bind(REEVALUATE_BATCH).fetch_all(c).await)?;
    let last = (seen.len() as i64 == REEVALUATE_BATCH)
        .then(|| seen.last().map(|(k, t, _)| (k.clone(), t.clone())))
        .flatten();
    let mut raised = 0;
    for (key, text, case) in seen {
        let counting = Counting {
            applicant_key: &key,
            text_key: &text,
            today,
        };
        if judge_and_raise(app, tx, rule, &counting, &case).await? {
            raised += 1;
        }
    }
    Ok((raised, last))
}

/// Raises `rule`'s warning for the applicant if the window's count reaches
/// the threshold; answers whether it did.
async fn judge_and_raise(
    app: &AppState,
    tx: &mut Tx,
    rule: &LiveRule,
    counting: &Counting<'_>,
    case: &CaseId,
) -> ApiResult<bool> {
    const MASKED: &str = "SELECT applicant_masked FROM warnings WHERE applicant_key = $1 LIMIT 1";
    let history = filed(
        tx,
        counting.applicant_key,
        rule.spec.window_on(counting.today),
    )
    .await?;
    let measured = rule
        .spec
        .tally(
            &history,
            counting.today,
            &rule.scope_path,
            counting.text_key,
        )
        .measured;
    if rule.spec.judge(u32::try_from(measured).unwrap_or(u32::MAX)) != Outcome::Warning {
        return Ok(false);
    }
    let masked: Option<String> = on_tx!(tx, c => sqlx::query_scalar(MASKED).bind(counting.applicant_key)
        .fetch_optional(c).await)?;
    let masked = match masked {
        Some(m) => m,
        None => masked_of_case(app, tx, case).await?,
    };
    raise(app, tx, rule, counting, (measured, &masked), case).await?;
    Ok(true)
}

/// The masked applicant of a registered case.
async fn masked_of_case(app: &AppState, tx: &mut Tx, case: &CaseId) -> ApiResult<String> {
    const SQL: &str = "SELECT applicant_sealed FROM disclosure_cases WHERE id = $1";
    let sealed: Vec<u8> = on_tx!(tx, c => sqlx::query_scalar(SQL).bind(case).fetch_one(c).await)?;
    let applicant = crate::disclosure::intake::SealedApplicant::open(app, &sealed)?;
    Ok(applicant_masked(&applicant.identity))
}
