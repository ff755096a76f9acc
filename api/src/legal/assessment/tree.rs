//! A year's indicator template as the office enters it: categories, each
//! with its indicators (a name, a maximum score, a scoring guide). Checked
//! whole, every problem named by its field, before anything is written.

use std::collections::HashSet;

use serde::Deserialize;
use utoipa::ToSchema;

use super::points::Points;
use crate::error::{ApiError, FieldError};

const MAX_CATEGORIES: usize = 50;
const MAX_INDICATORS: usize = 100;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndicatorInput {
    pub name: String,
    /// Points, at most one decimal.
    pub max_score: f64,
    /// 评分标准: how the score is given and what is deducted for.
    #[serde(default)]
    pub guide: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryInput {
    pub name: String,
    pub indicators: Vec<IndicatorInput>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TreeInput {
    pub categories: Vec<CategoryInput>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Indicator {
    pub name: String,
    pub max: Points,
    pub guide: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Category {
    pub name: String,
    pub indicators: Vec<Indicator>,
}

/// The tree, checked; or every problem.
pub fn check(tree: &TreeInput) -> Result<Vec<Category>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut fail = |field: String, reason: &str| {
        errors.push(FieldError {
            field,
            reason: reason.to_owned(),
        })
    };
    if tree.categories.is_empty() || tree.categories.len() > MAX_CATEGORIES {
        fail("categories".into(), "须有 1 至 50 个类别");
    }
    let mut names = HashSet::new();
    let mut out = Vec::new();
    for (i, c) in tree.categories.iter().enumerate() {
        let at = format!("categories[{i}]");
        let name = c.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            fail(format!("{at}.name"), "类别名称不能为空，且不超过 100 字");
        } else if !names.insert(name) {
            fail(format!("{at}.name"), "类别名称重复");
        }
        if c.indicators.is_empty() || c.indicators.len() > MAX_INDICATORS {
            fail(format!("{at}.indicators"), "每个类别须有 1 至 100 项指标");
        }
        let mut seen = HashSet::new();
        let mut indicators = Vec::new();
        for (j, ind) in c.indicators.iter().enumerate() {
            let at = format!("{at}.indicators[{j}]");
            let iname = ind.name.trim();
            if iname.is_empty() || iname.chars().count() > 200 {
                fail(format!("{at}.name"), "指标名称不能为空，且不超过 200 字");
            } else if !seen.insert(iname) {
                fail(format!("{at}.name"), "同一类别下指标名称重复");
            }
            if ind.guide.chars().count() > 2000 {
                fail(format!("{at}.guide"), "评分标准不超过 2000 字");
            }
            match Points::parse(&format!("{at}.max_score"), ind.max_score) {
                Ok(max) if max > Points(0) => indicators.push(Indicator {
                    name: iname.to_owned(),
                    max,
                    guide: ind.guide.trim().to_owned(),
                }),
                Ok(_) => fail(format!("{at}.max_score"), "满分须大于 0"),
                Err(ApiError::Invalid { field, reason }) => fail(field, &reason),
                Err(_) => fail(format!("{at}.max_score"), "分值无效"),
            }
        }
        out.push(Category {
            name: name.to_owned(),
            indicators,
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(v: serde_json::Value) -> TreeInput {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_good_tree_is_kept_in_order_with_its_maximums() {
        let t = tree(serde_json::json!({ "categories": [
            { "name": "依法决策", "indicators": [
                { "name": "重大行政决策程序", "max_score": 10, "guide": "未履行程序的，每项扣2分" },
                { "name": "合法性审查", "max_score": 7.5 } ] },
            { "name": "规范性文件管理", "indicators": [ { "name": "备案审查", "max_score": 5 } ] } ] }));
        let c = check(&t).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].indicators[1].max, Points(75));
        assert_eq!(c[1].indicators[0].name, "备案审查");
    }

    #[test]
    fn every_problem_is_named_by_its_field() {
        let t = tree(serde_json::json!({ "categories": [
            { "name": " ", "indicators": [
                { "name": "甲", "max_score": 0 },
                { "name": "甲", "max_score": 2.25 } ] },
            { "name": "乙", "indicators": [] } ] }));
        let fields: Vec<String> = check(&t)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "categories[0].name",
                "categories[0].indicators[0].max_score",
                "categories[0].indicators[1].name",
                "categories[0].indicators[1].max_score",
                "categories[1].indicators",
            ]
        );
        assert_eq!(
            check(&tree(serde_json::json!({ "categories": [] }))).unwrap_err()[0].field,
            "categories"
        );
    }
}
