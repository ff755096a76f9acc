//! Demo data of the legal affairs office: one clean-up campaign on each
//! report line, its lists in every state (a draft, one with its unit's
//! reviewer, one submitted, one returned with its reason, one accepted),
//! so that each demo user of FW-01 has something to do. Written with the
//! module's own store functions; no notice goes out. Loaded once.

use crate::authz::{Principal, UserKey, load_principal};
use crate::calendar::{shanghai_date, ymd};
use crate::db::Tx;
use crate::error::ApiResult;
use crate::ids::{CampaignId, UnitId};
use crate::legal::cleanup::campaigns::{NewCampaign, insert};
use crate::legal::cleanup::distribute::{insert_list, mark_distributed};
use crate::legal::cleanup::document::{Decision, Document};
use crate::legal::cleanup::line::ReportLine;
use crate::legal::cleanup::status::ListStatus;
use crate::legal::cleanup::store::{self, ListKind};
use crate::state::AppState;
use crate::{on_db, on_tx};

/// One list to write: its unit (by code), who decides it, its state (with
/// the return's reason) and its documents.
struct DemoList {
    unit: &'static str,
    reviewer: &'static str,
    kind: ListKind,
    status: ListStatus,
    reason: Option<&'static str>,
    documents: &'static [(&'static str, &'static str, &'static str, Option<Decision>)],
}

const OFFICE: &str = "SH-BGT-FW";

const GHZY_DOCS: &[(&str, &str, &str, Option<Decision>)] = &[
    (
        "沪规划资源规〔2018〕2号",
        "上海市建设用地容积率管理办法",
        "2018-04-12",
        Some(Decision::Keep),
    ),
    (
        "沪规划资源规〔2019〕5号",
        "上海市临时用地管理规定",
        "2019-08-30",
        Some(Decision::Amend),
    ),
    (
        "沪规土资规〔2016〕3号",
        "上海市土地储备成本认定办法",
        "2016-11-02",
        Some(Decision::Repeal),
    ),
];
const XH_DOCS: &[(&str, &str, &str, Option<Decision>)] = &[
    (
        "徐府规〔2018〕3号",
        "徐汇区停车场（库）管理办法",
        "2018-03-20",
        Some(Decision::Keep),
    ),
    (
        "徐府规〔2019〕1号",
        "徐汇区户外招牌设置管理规定",
        "2019-01-15",
        Some(Decision::Amend),
    ),
];
const XJH_DOCS: &[(&str, &str, &str, Option<Decision>)] = &[(
    "徐家汇办〔2020〕2号",
    "徐家汇街道门责管理实施办法",
    "2020-05-08",
    None,
)];
const TPL_DOCS: &[(&str, &str, &str, Option<Decision>)] = &[(
    "天平办〔2019〕4号",
    "天平路街道历史风貌区商铺管理规定",
    "2019-09-01",
    Some(Decision::DeclareInvalid),
)];
const CITY_DOCS: &[(&str, &str, &str, Option<Decision>)] = &[
    (
        "沪府规〔2017〕12号",
        "上海市人民政府关于进一步加强道路交通管理的若干规定",
        "2017-06-01",
        Some(Decision::Keep),
    ),
    (
        "沪府办规〔2018〕20号",
        "上海市人民政府办公厅关于推进政务公开标准化的实施意见",
        "2018-10-10",
        None,
    ),
];
const CITY_GHZY_DOCS: &[(&str, &str, &str, Option<Decision>)] = &[(
    "沪府规〔2016〕8号",
    "上海市人民政府关于加强城市更新用地管理的规定",
    "2016-07-15",
    None,
)];

fn own(
    unit: &'static str,
    reviewer: &'static str,
    status: ListStatus,
    documents: &'static [(&'static str, &'static str, &'static str, Option<Decision>)],
) -> DemoList {
    DemoList {
        unit,
        reviewer,
        kind: ListKind::Own,
        status,
        reason: None,
        documents,
    }
}

/// The campaigns: (title, line, days to the deadline, lists).
fn campaigns() -> Vec<(&'static str, ReportLine, i64, Vec<DemoList>)> {
    use ListStatus::*;
    let returned = DemoList {
        reason: Some("修改的文件请写明拟修改的条款和依据"),
        ..own("310104", OFFICE, Returned, XH_DOCS)
    };
    let consolidated = DemoList {
        kind: ListKind::Consolidated,
        ..own("310104", OFFICE, Draft, &[])
    };
    vec![
        (
            "2026年度规范性文件集中清理",
            ReportLine::Departments,
            30,
            vec![
                own("SH-GHZY", OFFICE, Submitted, GHZY_DOCS),
                returned,
                own("310115", OFFICE, Draft, &[]),
            ],
        ),
        (
            "徐汇区街镇规范性文件清理",
            ReportLine::Districts,
            20,
            vec![
                own("310104-XJH", "310104", Checking, XJH_DOCS),
                own("310104-TPL", "310104", Accepted, TPL_DOCS),
                own("310104-HJZ", "310104", Draft, &[]),
                consolidated,
            ],
        ),
        (
            "市政府及办公厅规范性文件清理",
            ReportLine::CityDocuments,
            25,
            vec![
                own(OFFICE, OFFICE, Draft, CITY_DOCS),
                own("SH-GHZY", OFFICE, Draft, CITY_GHZY_DOCS),
            ],
        ),
    ]
}

/// Loads the campaigns unless there are some; answers how many lists.
pub async fn load(app: &AppState) -> ApiResult<usize> {
    const ANY: &str = "SELECT COUNT(*) FROM cleanup_campaigns";
    let n: i64 = on_db!(&app.db, c => sqlx::query_scalar(ANY).fetch_one(c).await)?;
    if n > 0 {
        return Ok(0);
    }
    let admin = load_principal(&app.db, UserKey::LoginName("fw_staff")).await?;
    let today = shanghai_date(crate::clock::now());
    let mut tx = app.db.begin().await?;
    let mut written = 0;
    for (title, line, days, lists) in campaigns() {
        let deadline_on = ymd(today + time::Duration::days(days));
        let new = NewCampaign {
            office: &unit(&mut tx, OFFICE).await?,
            title,
            scope: "2020年12月31日前印发、现行有效的规范性文件",
            line,
            deadline_on: &deadline_on,
        };
        let id = insert(&mut tx, &new, &admin.user_id).await?;
        mark_distributed(&mut tx, &id).await?;
        for l in &lists {
            write_list(&mut tx, &admin, &id, l).await?;
            written += 1;
        }
    }
    tx.commit().await?;
    Ok(written)
}

async fn write_list(
    tx: &mut Tx,
    admin: &Principal,
    campaign: &CampaignId,
    l: &DemoList,
) -> ApiResult<()> {
    const STATE: &str =
        "UPDATE cleanup_lists SET status = $2, reason = $3, revision = 1 WHERE id = $1";
    let unit_id = unit(tx, l.unit).await?;
    let reviewer = unit(tx, l.reviewer).await?;
    let id = insert_list(tx, campaign, &unit_id, &reviewer, l.kind).await?;
    let docs: Vec<Document> = l.documents.iter().map(|d| document(d, l.status)).collect();
    store::replace_documents(tx, &id, &docs).await?;
    store::event(tx, &id, "distributed", admin, None).await?;
    on_tx!(tx, c => sqlx::query(STATE).bind(&id).bind(l.status).bind(l.reason).execute(c).await.map(|_| ()))?;
    if let Some(reason) = l.reason {
        store::event(tx, &id, "return", admin, Some(reason)).await?;
    }
    Ok(())
}

/// A demo document; past the draft, every document undecided is kept.
fn document(d: &(&str, &str, &str, Option<Decision>), status: ListStatus) -> Document {
    let decision = d.3.or((!status.editable()).then_some(Decision::Keep));
    let (reason, legal_basis) = match decision {
        Some(Decision::Keep) | None => ("", ""),
        Some(_) => (
            "上位法已修改，与现行规定不一致",
            "《中华人民共和国行政许可法》",
        ),
    };
    Document {
        doc_no: d.0.into(),
        title: d.1.into(),
        issued_on: d.2.into(),
        decision,
        reason: reason.into(),
        legal_basis: legal_basis.into(),
    }
}

async fn unit(tx: &mut Tx, code: &str) -> ApiResult<UnitId> {
    const SQL: &str = "SELECT id FROM org_units WHERE code = $1";
    Ok(on_tx!(tx, c => sqlx::query_scalar(SQL).bind(code).fetch_one(c).await)?)
}
