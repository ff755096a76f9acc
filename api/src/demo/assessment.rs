//! Demo data of the work assessment: this year's indicators for the
//! district governments, published, with three districts scored (one
//! deduction each, with its reason), and the municipal units' indicators
//! still a draft. Written with the module's own tree writer; no notice
//! goes out. Loaded once, with the clean-up campaigns.

use crate::authz::{UserKey, load_principal};
use crate::db::Tx;
use crate::error::ApiResult;
use crate::ids::{AssessmentId, IndicatorId, UnitId};
use crate::legal::assessment::points::Points;
use crate::legal::assessment::store::Track;
use crate::legal::assessment::templates::write_tree;
use crate::legal::assessment::tree::{Category, Indicator};
use crate::state::AppState;
use crate::{on_db, on_tx};

fn indicator(name: &str, max: i64, guide: &str) -> Indicator {
    Indicator {
        name: name.into(),
        max: Points(max * 10),
        guide: guide.into(),
    }
}

fn tree() -> Vec<Category> {
    vec![
        Category {
            name: "依法全面履行政府职能".into(),
            indicators: vec![
                indicator("权责清单动态调整", 10, "未按时调整的扣2分"),
                indicator("行政审批制度改革", 10, "每发现一项违规设定许可扣2分"),
            ],
        },
        Category {
            name: "依法决策".into(),
            indicators: vec![
                indicator(
                    "重大行政决策程序",
                    15,
                    "未履行公众参与、专家论证等程序的，每项扣3分",
                ),
                indicator("合法性审查", 15, "未经合法性审查的，每件扣3分"),
            ],
        },
        Category {
            name: "规范性文件管理".into(),
            indicators: vec![
                indicator("备案审查", 10, "逾期报备的，每件扣1分"),
                indicator("清理工作", 10, "未按期报送清理清单的扣5分"),
            ],
        },
    ]
}

/// (district code, indicator index, score, reason) of the deductions; the
/// other indicators of these districts get full marks.
const DEDUCTIONS: &[(&str, usize, i64, &str)] = &[
    ("310104", 3, 120, "1件规章草案未经合法性审查"),
    ("310115", 4, 80, "2件规范性文件逾期报备"),
    (
        "310101",
        2,
        90,
        "1项重大行政决策未经专家论证；1项未公开征求意见",
    ),
];

pub async fn load(app: &AppState) -> ApiResult<usize> {
    const ANY: &str = "SELECT COUNT(*) FROM assessments";
    let n: i64 = on_db!(&app.db, c => sqlx::query_scalar(ANY).fetch_one(c).await)?;
    if n > 0 {
        return Ok(0);
    }
    let admin = load_principal(&app.db, UserKey::LoginName("fw_staff")).await?;
    let year = i64::from(crate::calendar::shanghai_date(crate::clock::now()).year());
    let mut tx = app.db.begin().await?;
    let district = insert(&mut tx, &admin.user_id, year, Track::District, "published").await?;
    write_tree(&mut tx, &district, &tree()).await?;
    insert(&mut tx, &admin.user_id, year, Track::Municipal, "draft").await?;
    let units = assess_districts(&mut tx, &district).await?;
    let leaves = leaves(&mut tx, &district).await?;
    let mut scored = 0;
    for (code, at, score, why) in DEDUCTIONS {
        let unit: UnitId = on_tx!(&mut tx, c => sqlx::query_scalar("SELECT id FROM org_units WHERE code = $1")
            .bind(*code).fetch_one(c).await)?;
        for (i, (leaf, max)) in leaves.iter().enumerate() {
            let (s, reason) = if i == *at {
                (*score, Some(*why))
            } else {
                (*max, None)
            };
            score_one(&mut tx, &admin.user_id, &district, leaf, &unit, s, reason).await?;
            scored += 1;
        }
    }
    tx.commit().await?;
    tracing::info!(units, scored, "demo assessment loaded");
    Ok(units)
}

async fn insert(
    tx: &mut Tx,
    by: &crate::ids::UserId,
    year: i64,
    track: Track,
    status: &str,
) -> ApiResult<AssessmentId> {
    const SQL: &str = "INSERT INTO assessments (id, office_unit_id, year, track, deadline_on, status, created_by, \
         created_at, published_at) SELECT $1, id, $2, $3, $4, $5, $6, $7, CASE WHEN $5 = 'draft' THEN NULL ELSE $7 END \
         FROM org_units WHERE code = 'SH-BGT-FW'";
    let id = AssessmentId::generate();
    let deadline = format!("{}-01-31", year + 1);
    on_tx!(tx, c => sqlx::query(SQL).bind(&id).bind(year).bind(track).bind(&deadline).bind(status).bind(by)
        .bind(crate::clock::now()).execute(c).await.map(|_| ()))?;
    Ok(id)
}

async fn assess_districts(tx: &mut Tx, id: &AssessmentId) -> ApiResult<usize> {
    const SQL: &str = "INSERT INTO assessment_units (assessment_id, unit_id) \
         SELECT $1, id FROM org_units WHERE kind = 'district_government'";
    let n = on_tx!(tx, c => sqlx::query(SQL).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n as usize)
}

async fn leaves(tx: &mut Tx, id: &AssessmentId) -> ApiResult<Vec<(IndicatorId, i64)>> {
    const SQL: &str = "SELECT i.id, i.max_tenths FROM assessment_indicators i JOIN assessment_indicators c \
         ON c.id = i.parent_id WHERE i.assessment_id = $1 ORDER BY c.position, i.position";
    Ok(on_tx!(tx, c => sqlx::query_as(SQL).bind(id).fetch_all(c).await)?)
}

async fn score_one(
    tx: &mut Tx,
    by: &crate::ids::UserId,
    id: &AssessmentId,
    indicator: &IndicatorId,
    unit: &UnitId,
    tenths: i64,
    reason: Option<&str>,
) -> ApiResult<()> {
    const SQL: &str = "INSERT INTO assessment_scores (assessment_id, indicator_id, unit_id, score_tenths, \
         deduction_reason, scored_by, scored_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
    on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(indicator).bind(unit).bind(tenths).bind(reason).bind(by)
        .bind(crate::clock::now()).execute(c).await.map(|_| ()))?;
    Ok(())
}
