//! A normative document on a clean-up list, and the checks a list passes:
//! always (every document named, numbered once, dated), and before it goes
//! to the unit's reviewer (every document decided, with a reason and a
//! legal basis unless it is kept as it is).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::FieldError;

crate::text_enum! {
    /// The clean-up decision on one document.
    pub enum Decision {
        /// 继续有效
        Keep = "keep",
        /// 修改
        Amend = "amend",
        /// 废止
        Repeal = "repeal",
        /// 宣布失效
        DeclareInvalid = "declare_invalid",
    }
}

impl Decision {
    pub fn label_zh(self) -> &'static str {
        match self {
            Decision::Keep => "继续有效",
            Decision::Amend => "修改",
            Decision::Repeal => "废止",
            Decision::DeclareInvalid => "宣布失效",
        }
    }

    /// The decision a sheet names, by its key or its Chinese label.
    pub fn from_text(text: &str) -> Option<Self> {
        let text = text.trim();
        Decision::ALL
            .iter()
            .copied()
            .find(|d| d.as_str() == text || d.label_zh() == text)
    }
}

/// One document of a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// 文号, e.g. 沪府规〔2021〕5号
    pub doc_no: String,
    pub title: String,
    /// 印发日期, YYYY-MM-DD
    pub issued_on: String,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub decision: Option<Decision>,
    /// 清理理由
    #[serde(default)]
    pub reason: String,
    /// 清理依据
    #[serde(default)]
    pub legal_basis: String,
}

/// A document number as written, compared without spaces and with the
/// usual variants of its brackets made one (〔〕, [], ［］, 【】).
pub fn doc_no_key(doc_no: &str) -> String {
    doc_no
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '[' | '［' | '【' => '〔',
            ']' | '］' | '】' => '〕',
            c => c,
        })
        .collect()
}

fn error(n: usize, field: &str, reason: &str) -> FieldError {
    FieldError {
        field: format!("documents[{n}].{field}"),
        reason: reason.to_owned(),
    }
}

/// What is wrong with `docs`; `complete` adds the checks of a list that
/// goes to review. Empty: nothing.
pub fn check(docs: &[Document], complete: bool) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (n, d) in docs.iter().enumerate() {
        if d.title.trim().is_empty() {
            errors.push(error(n, "title", "请填写文件名称"));
        }
        if d.doc_no.trim().is_empty() {
            errors.push(error(n, "doc_no", "请填写文号"));
        } else if let Some(first) = seen.insert(doc_no_key(&d.doc_no), n) {
            errors.push(error(
                n,
                "doc_no",
                &format!("文号与第 {} 件重复", first + 1),
            ));
        }
        if crate::calendar::parse_ymd(&d.issued_on).is_none() {
            errors.push(error(n, "issued_on", "印发日期须为 YYYY-MM-DD"));
        }
        if complete {
            errors.extend(decided(n, d));
        }
    }
    errors
}

/// A document ready for review: decided, and unless kept, with why and on
/// what basis.
fn decided(n: usize, d: &Document) -> Vec<FieldError> {
    let Some(decision) = d.decision else {
        return vec![error(n, "decision", "请选择清理意见")];
    };
    let mut errors = Vec::new();
    if decision != Decision::Keep {
        if d.reason.trim().is_empty() {
            errors.push(error(n, "reason", "修改、废止或宣布失效须说明理由"));
        }
        if d.legal_basis.trim().is_empty() {
            errors.push(error(n, "legal_basis", "修改、废止或宣布失效须写明依据"));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(no: &str, decision: Option<Decision>) -> Document {
        Document {
            doc_no: no.into(),
            title: "上海市某管理办法".into(),
            issued_on: "2021-03-05".into(),
            decision,
            reason: String::new(),
            legal_basis: String::new(),
        }
    }

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn the_same_number_written_two_ways_is_a_duplicate() {
        let docs = [
            doc("沪府规〔2021〕5号", None),
            doc("沪府规[2021] 5号", None),
        ];
        let errors = check(&docs, false);
        assert_eq!(fields(&errors), ["documents[1].doc_no"]);
        assert!(errors[0].reason.contains("第 1 件"));
    }

    #[test]
    fn a_draft_may_be_undecided_but_not_undated() {
        let mut d = doc("沪府规〔2021〕5号", None);
        assert!(check(std::slice::from_ref(&d), false).is_empty());
        d.issued_on = "2021-02-30".into();
        assert_eq!(fields(&check(&[d], false)), ["documents[0].issued_on"]);
    }

    #[test]
    fn a_list_for_review_is_decided_with_reasons() {
        let keep = doc("A1", Some(Decision::Keep));
        let repeal = doc("A2", Some(Decision::Repeal));
        let errors = check(&[keep, repeal, doc("A3", None)], true);
        assert_eq!(
            fields(&errors),
            [
                "documents[1].reason",
                "documents[1].legal_basis",
                "documents[2].decision"
            ]
        );
    }

    #[test]
    fn decisions_are_read_by_key_or_label_and_nothing_else() {
        assert_eq!(Decision::from_text("废止"), Some(Decision::Repeal));
        assert_eq!(Decision::from_text(" keep "), Some(Decision::Keep));
        assert_eq!(Decision::from_text("暂缓"), None);
    }
}
