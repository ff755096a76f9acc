//! What a filing says of its document, the checks it passes, and the rule
//! of a returned filing: the reporting unit changes only the fields the
//! reviewer named. Pure.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::calendar::parse_ymd as parse_date;
use crate::error::FieldError;

crate::text_enum! {
    /// A field of the document that a reviewer can ask to change.
    pub enum Field {
        Title = "title",
        DocNo = "doc_no",
        IssuingUnit = "issuing_unit",
        IssuedOn = "issued_on",
        EffectiveOn = "effective_on",
        FullText = "full_text",
    }
}

/// The document filed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
#[serde(deny_unknown_fields)]
pub struct Content {
    pub title: String,
    /// 文号, e.g. 沪府规〔2025〕3号
    pub doc_no: String,
    /// 制定机关
    pub issuing_unit: String,
    /// 印发日期, YYYY-MM-DD
    pub issued_on: String,
    /// 施行日期, YYYY-MM-DD
    #[serde(default)]
    pub effective_on: Option<String>,
    /// 全文
    pub full_text: String,
}

/// A change to some fields of a returned filing.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Patch {
    pub title: Option<String>,
    pub doc_no: Option<String>,
    pub issuing_unit: Option<String>,
    pub issued_on: Option<String>,
    pub effective_on: Option<String>,
    pub full_text: Option<String>,
}

pub const MAX_FULL_TEXT: usize = 200_000;

fn problem(field: Field, reason: impl Into<String>) -> FieldError {
    FieldError {
        field: field.as_str().into(),
        reason: reason.into(),
    }
}

/// Every problem of `c`, by field; empty when it may be filed.
pub fn check(c: &Content) -> Vec<FieldError> {
    let mut out = Vec::new();
    let texts = [
        (Field::Title, &c.title, 200),
        (Field::DocNo, &c.doc_no, 100),
        (Field::IssuingUnit, &c.issuing_unit, 100),
        (Field::FullText, &c.full_text, MAX_FULL_TEXT),
    ];
    for (field, value, max) in texts {
        if value.trim().is_empty() {
            out.push(problem(field, "不能为空"));
        } else if value.chars().count() > max {
            out.push(problem(field, format!("不能超过 {max} 个字")));
        }
    }
    let issued = parse_date(&c.issued_on);
    if issued.is_none() {
        out.push(problem(Field::IssuedOn, "不是有效日期（YYYY-MM-DD）"));
    }
    if let Some(e) = &c.effective_on {
        match parse_date(e) {
            None => out.push(problem(Field::EffectiveOn, "不是有效日期（YYYY-MM-DD）")),
            Some(d) if issued.is_some_and(|i| d < i) => {
                out.push(problem(Field::EffectiveOn, "施行日期不能早于印发日期"))
            }
            Some(_) => {}
        }
    }
    out
}

impl Content {
    /// The content with `patch` applied, and the fields it really changes.
    pub fn patched(&self, patch: Patch) -> (Content, Vec<Field>) {
        let mut next = self.clone();
        let mut changed = Vec::new();
        let mut set = |field: Field, slot: &mut String, value: Option<String>| {
            if let Some(v) = value.filter(|v| v != slot) {
                *slot = v;
                changed.push(field);
            }
        };
        set(Field::Title, &mut next.title, patch.title);
        set(Field::DocNo, &mut next.doc_no, patch.doc_no);
        set(
            Field::IssuingUnit,
            &mut next.issuing_unit,
            patch.issuing_unit,
        );
        set(Field::IssuedOn, &mut next.issued_on, patch.issued_on);
        set(Field::FullText, &mut next.full_text, patch.full_text);
        if let Some(e) = patch.effective_on {
            let e = Some(e).filter(|e| !e.is_empty());
            if e != next.effective_on {
                next.effective_on = e;
                changed.push(Field::EffectiveOn);
            }
        }
        (next, changed)
    }
}

/// The changed fields the reviewer did not return, each a problem: the
/// reporting unit may change only what it was asked to.
pub fn outside(returned: &[Field], changed: &[Field]) -> Vec<FieldError> {
    changed
        .iter()
        .filter(|f| !returned.contains(f))
        .map(|f| problem(*f, "审查意见未要求修改此项，不能修改"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content() -> Content {
        Content {
            title: "上海市某某管理办法".into(),
            doc_no: "沪府规〔2025〕3号".into(),
            issuing_unit: "上海市人民政府".into(),
            issued_on: "2025-03-01".into(),
            effective_on: Some("2025-04-01".into()),
            full_text: "第一条 ……".into(),
        }
    }

    #[test]
    fn a_filing_is_checked_field_by_field() {
        assert!(check(&content()).is_empty());
        let mut c = content();
        c.title = " ".into();
        c.issued_on = "2025-13-01".into();
        let fields: Vec<String> = check(&c).into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["title", "issued_on"].map(String::from));
        let mut c = content();
        c.effective_on = Some("2025-02-01".into());
        assert_eq!(check(&c)[0].reason, "施行日期不能早于印发日期");
    }

    #[test]
    fn only_the_returned_fields_may_change() {
        let patch = Patch {
            title: Some("上海市某某管理规定".into()),
            doc_no: Some("沪府规〔2025〕3号".into()),
            full_text: Some("第一条 新".into()),
            ..Patch::default()
        };
        let (next, changed) = content().patched(patch);
        assert_eq!(changed, [Field::Title, Field::FullText]);
        assert_eq!(next.title, "上海市某某管理规定");
        let refused = outside(&[Field::Title], &changed);
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].field, "full_text");
        assert!(outside(&[Field::Title, Field::FullText], &changed).is_empty());
    }
}
