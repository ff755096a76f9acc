//! Demo data of the expert library: a few experts in four categories,
//! written as the library writes them (checked, contacts sealed).

use crate::error::{ApiError, ApiResult};
use crate::ids::ExpertId;
use crate::legal::experts::library::save;
use crate::legal::experts::record::{ExpertInput, check};
use crate::on_db;
use crate::state::AppState;

/// (category, name, unit, post, fields, phone).
type Row = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static str,
);

const EXPERTS: &[Row] = &[
    (
        "法学",
        "张明",
        "华东政法大学",
        "教授",
        &["行政法", "规范性文件审查"],
        "13900001001",
    ),
    (
        "法学",
        "王立新",
        "复旦大学法学院",
        "教授、博士生导师",
        &["宪法与行政法", "立法学"],
        "13900001002",
    ),
    (
        "法学",
        "陈静",
        "上海市律师协会",
        "律师、行政法专业委员会主任",
        &["政府法律顾问", "行政复议"],
        "13900001003",
    ),
    (
        "经济",
        "刘洋",
        "上海社会科学院",
        "研究员",
        &["区域经济", "营商环境"],
        "13900001004",
    ),
    (
        "规划",
        "赵磊",
        "同济大学",
        "教授",
        &["国土空间规划", "城市更新"],
        "13900001005",
    ),
    (
        "环境",
        "周芳",
        "上海交通大学",
        "副教授",
        &["生态环境", "环境影响评价"],
        "13900001006",
    ),
];

pub async fn load(app: &AppState) -> ApiResult<usize> {
    const ANY: &str = "SELECT COUNT(*) FROM experts";
    let n: i64 = on_db!(&app.db, c => sqlx::query_scalar(ANY).fetch_one(c).await)?;
    if n > 0 {
        return Ok(0);
    }
    let mut tx = app.db.begin().await?;
    for (category, name, unit, post, fields, phone) in EXPERTS {
        let input = ExpertInput {
            category: (*category).into(),
            name: (*name).into(),
            unit_name: (*unit).into(),
            post: (*post).into(),
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
            phone: Some((*phone).into()),
            email: None,
            profile: format!("{unit}{post}，研究方向：{}。", fields.join("、")),
        };
        let expert = check(input).map_err(ApiError::InvalidFields)?;
        save(&mut tx, &app.pii, &ExpertId::generate(), &expert).await?;
    }
    tx.commit().await?;
    Ok(EXPERTS.len())
}
