//! Demo data of filings and of the major-decision catalogue: 徐汇区's
//! filings in every review state (one returned naming the title, one
//! pushed by the district's office platform), and three years of
//! declarations by district governments and municipal departments at
//! every progress. Written with the modules' own inserts; loaded once,
//! with the clean-up campaigns.

use crate::db::Tx;
use crate::error::ApiResult;
use crate::ids::{FilingId, MajorDecisionId, UnitId};
use crate::legal::decisions::progress::Progress;
use crate::legal::filing::content::Content;
use crate::legal::filing::records::insert;
use crate::legal::filing::status::FilingStatus;
use crate::legal::filing::store::{Source, event};
use crate::state::AppState;
use crate::{on_db, on_tx};

const REPORTER: &str = "钱伟（上海市徐汇区人民政府）";
const OFFICE: &str = "孙浩（法律事务处）";

/// (document number, title, state reached, source).
const FILINGS: &[(&str, &str, FilingStatus, Source)] = &[
    (
        "徐府规〔2026〕3号",
        "上海市徐汇区公共停车场管理办法",
        FilingStatus::Submitted,
        Source::Unit,
    ),
    (
        "徐府规〔2026〕2号",
        "徐汇区老旧小区加装电梯实施办法",
        FilingStatus::UnderReview,
        Source::Unit,
    ),
    (
        "徐府规〔2026〕1号",
        "徐汇区户外招牌设置管理规定",
        FilingStatus::Returned,
        Source::Unit,
    ),
    (
        "徐府规〔2025〕9号",
        "徐汇区社区养老服务补贴办法",
        FilingStatus::Accepted,
        Source::Unit,
    ),
    (
        "徐府规〔2025〕6号",
        "徐汇区政府信息公开工作规则",
        FilingStatus::Published,
        Source::Unit,
    ),
    (
        "徐府发〔2026〕12号",
        "徐汇区2026年优化营商环境工作要点",
        FilingStatus::Submitted,
        Source::Platform,
    ),
];

/// The steps on the way to each state, in order.
fn steps(to: FilingStatus) -> &'static [&'static str] {
    match to {
        FilingStatus::Submitted => &[],
        FilingStatus::UnderReview => &["start_review"],
        FilingStatus::Returned => &["start_review", "return"],
        FilingStatus::Accepted => &["start_review", "accept"],
        FilingStatus::Published => &["start_review", "accept", "publish"],
    }
}

/// (unit code, year, title, progress).
const DECISIONS: &[(&str, i64, &str, Progress)] = &[
    (
        "310104",
        2026,
        "徐汇滨江公共空间更新方案",
        Progress::Declared,
    ),
    (
        "310104",
        2026,
        "徐汇区养老服务设施布局规划",
        Progress::Catalogued,
    ),
    (
        "310104",
        2025,
        "徐汇区生活垃圾分类收运体系调整",
        Progress::Published,
    ),
    (
        "310115",
        2026,
        "浦东新区产业园区更新行动方案",
        Progress::Filed,
    ),
    (
        "310115",
        2025,
        "浦东新区公共交通线网优化方案",
        Progress::Published,
    ),
    (
        "310101",
        2024,
        "黄浦区历史风貌保护区管理办法",
        Progress::Published,
    ),
    (
        "SH-GHZY",
        2026,
        "上海市国土空间生态修复规划",
        Progress::Catalogued,
    ),
    (
        "SH-GHZY",
        2025,
        "上海市地下空间开发利用规划",
        Progress::Filed,
    ),
    (
        "SH-JW",
        2025,
        "上海市中小学课后服务收费办法",
        Progress::Published,
    ),
    (
        "SH-WJW",
        2024,
        "上海市社区卫生服务中心布局调整",
        Progress::Published,
    ),
];

pub async fn load(app: &AppState) -> ApiResult<usize> {
    const ANY: &str = "SELECT COUNT(*) FROM filings";
    let n: i64 = on_db!(&app.db, c => sqlx::query_scalar(ANY).fetch_one(c).await)?;
    if n > 0 {
        return Ok(0);
    }
    let mut tx = app.db.begin().await?;
    let xuhui = unit(&mut tx, "310104").await?;
    for (doc_no, title, to, source) in FILINGS {
        filing(&mut tx, &xuhui, doc_no, title, *to, *source).await?;
    }
    for (code, year, title, progress) in DECISIONS {
        decision(&mut tx, code, *year, title, *progress).await?;
    }
    tx.commit().await?;
    Ok(FILINGS.len() + DECISIONS.len())
}

async fn unit(tx: &mut Tx, code: &str) -> ApiResult<UnitId> {
    const SQL: &str = "SELECT id FROM org_units WHERE code = $1";
    Ok(on_tx!(tx, c => sqlx::query_scalar(SQL).bind(code).fetch_one(c).await)?)
}

async fn filing(
    tx: &mut Tx,
    unit: &UnitId,
    doc_no: &str,
    title: &str,
    to: FilingStatus,
    source: Source,
) -> ApiResult<()> {
    const STATE: &str = "UPDATE filings SET status = $2, version = version + $3, review_opinion = $4, \
         returned_fields = $5 WHERE id = $1";
    let content = Content {
        title: title.into(),
        doc_no: doc_no.into(),
        issuing_unit: "上海市徐汇区人民政府".into(),
        issued_on: "2026-03-01".into(),
        effective_on: Some("2026-04-01".into()),
        full_text: format!(
            "{title}\n\n第一条 为了规范本区相关管理工作，根据有关法律、法规，结合本区实际，制定本办法。"
        ),
    };
    let id = FilingId::generate();
    insert(tx, &id, unit, &content, source).await?;
    let first = if source == Source::Platform {
        ("intake", "统一办公平台（310104）")
    } else {
        ("submit", REPORTER)
    };
    event(tx, &id, first.0, first.1, None).await?;
    let (opinion, fields) = match to {
        FilingStatus::Returned => (Some("标题与所规范的事项不一致，请修改标题"), r#"["title"]"#),
        FilingStatus::Accepted | FilingStatus::Published => (Some("经审查，准予备案"), "[]"),
        _ => (None, "[]"),
    };
    for s in steps(to) {
        let note = matches!(*s, "return" | "accept")
            .then_some(opinion)
            .flatten();
        event(tx, &id, s, OFFICE, note).await?;
    }
    let n = steps(to).len() as i64;
    on_tx!(tx, c => sqlx::query(STATE).bind(&id).bind(to).bind(n).bind(opinion).bind(fields)
        .execute(c).await.map(|_| ()))?;
    Ok(())
}

async fn decision(
    tx: &mut Tx,
    code: &str,
    year: i64,
    title: &str,
    progress: Progress,
) -> ApiResult<()> {
    const SQL: &str = "INSERT INTO major_decisions (id, year, unit_id, title, progress, declared_by, declared_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 'demo', $6, $6)";
    let unit = unit(tx, code).await?;
    let id = MajorDecisionId::generate();
    on_tx!(tx, c => sqlx::query(SQL).bind(&id).bind(year).bind(&unit).bind(title).bind(progress)
        .bind(crate::clock::now()).execute(c).await.map(|_| ()))?;
    Ok(())
}
