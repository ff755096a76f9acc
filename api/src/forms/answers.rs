//! A return's answers checked against the form's definition, and its
//! computed fields worked out: what saving a draft and submitting run. A
//! draft may leave required fields empty; a submission may not. Every
//! problem names its field (`table[row].column` inside a table) and rule.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Map, Value, json};

use super::definition::{Definition, Field, FieldProblem, Kind};
use super::expr::{self, Values};

/// Whether the return is being saved as a draft or submitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Draft,
    Submit,
}

/// Checks `answers` (a JSON object: field key → value) and answers them
/// normalised (decimals as text at their scale), with every computed field
/// filled in; or every problem.
pub fn check(
    def: &Definition,
    answers: &Value,
    stage: Stage,
) -> Result<Map<String, Value>, Vec<FieldProblem>> {
    let Some(given) = answers.as_object() else {
        return Err(vec![problem("answers", "须为以字段标识为键的对象")]);
    };
    let mut problems = Vec::new();
    for key in given.keys() {
        if !def.fields().any(|f| &f.key == key) {
            problems.push(problem(key, "表单中没有该字段"));
        }
    }
    let mut out = Map::new();
    for f in def.fields() {
        let value = given.get(&f.key).filter(|v| !v.is_null());
        if f.computed.is_some() {
            if value.is_some() {
                problems.push(problem(&f.key, "计算字段由系统计算，不能填写"));
            }
            continue;
        }
        match value {
            None if f.required && stage == Stage::Submit => problems.push(problem(&f.key, "必填")),
            None => {}
            Some(v) => match normalise(f, &f.key, v, stage) {
                Ok(v) => {
                    out.insert(f.key.clone(), v);
                }
                Err(mut p) => problems.append(&mut p),
            },
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    compute(def, &mut out);
    Ok(out)
}

/// Fills the computed fields in dependency order (the definition was
/// checked for cycles when it was saved, so the order exists).
fn compute(def: &Definition, out: &mut Map<String, Value>) {
    let mut pending: Vec<(&Field, expr::Expr)> = def
        .fields()
        .filter_map(|f| Some((f, expr::parse(f.computed.as_deref()?).ok()?)))
        .collect();
    while !pending.is_empty() {
        let before = pending.len();
        pending.retain(|(f, e)| {
            let waiting = e
                .refs()
                .fields
                .iter()
                .any(|r| pending_key(def, r) && !out.contains_key(r));
            if waiting {
                return true;
            }
            let value = e.eval(&Answers(out)).map(|d| number_value(f, d));
            out.insert(f.key.clone(), value.unwrap_or(Value::Null));
            false
        });
        if pending.len() == before {
            break;
        }
    }
}

/// Whether `key` is a computed field (whose value may still be coming).
fn pending_key(def: &Definition, key: &str) -> bool {
    def.fields().any(|f| f.key == key && f.computed.is_some())
}

fn number_value(f: &Field, d: Decimal) -> Value {
    match f.kind {
        Kind::Integer { .. } => d.round().to_i64().map_or(Value::Null, |n| json!(n)),
        Kind::Decimal { scale, .. } => json!(d.round_dp(scale).to_string()),
        _ => Value::Null,
    }
}

struct Answers<'a>(&'a Map<String, Value>);

/// A number as a return holds it: an integer, or a decimal's text.
pub fn decimal_of(v: &Value) -> Option<Decimal> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.to_string().parse().ok(),
        _ => None,
    }
}

impl Values for Answers<'_> {
    fn number(&self, field: &str) -> Option<Decimal> {
        self.0.get(field).and_then(decimal_of)
    }

    fn column(&self, table: &str, column: &str) -> Vec<Option<Decimal>> {
        let rows = self.0.get(table).and_then(Value::as_array);
        rows.into_iter()
            .flatten()
            .map(|r| r.get(column).and_then(decimal_of))
            .collect()
    }
}

fn problem(field: &str, reason: impl Into<String>) -> FieldProblem {
    FieldProblem {
        field: field.to_owned(),
        reason: reason.into(),
    }
}

/// One value checked against its field; `at` names it in problems.
fn normalise(f: &Field, at: &str, v: &Value, stage: Stage) -> Result<Value, Vec<FieldProblem>> {
    let bad = |reason: &str| vec![problem(at, reason)];
    match &f.kind {
        Kind::ShortText {
            min_length,
            max_length,
            pattern,
        } => short_text(at, v, (*min_length, *max_length), pattern.as_deref()),
        Kind::LongText { max_length } => {
            let s = v.as_str().ok_or_else(|| bad("须为文本"))?;
            if max_length.is_some_and(|m| s.chars().count() as u32 > m) {
                return Err(bad("长度超过上限"));
            }
            Ok(json!(s))
        }
        Kind::Integer { min, max } => {
            let n = v
                .as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .ok_or_else(|| bad("须为整数"))?;
            if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) {
                return Err(bad("数值超出范围"));
            }
            Ok(json!(n))
        }
        Kind::Decimal { scale, min, max } => decimal(at, v, *scale, (*min, *max)),
        Kind::Date { min, max } => {
            let s = v.as_str().ok_or_else(|| bad("日期格式为 YYYY-MM-DD"))?;
            let d = crate::calendar::parse_ymd(s).ok_or_else(|| bad("日期格式为 YYYY-MM-DD"))?;
            let limit = |l: &Option<String>| l.as_deref().and_then(crate::calendar::parse_ymd);
            if limit(min).is_some_and(|m| d < m) || limit(max).is_some_and(|m| d > m) {
                return Err(bad("日期超出范围"));
            }
            Ok(json!(s))
        }
        Kind::SingleChoice { options } => match v.as_str() {
            Some(s) if options.iter().any(|o| o == s) => Ok(json!(s)),
            _ => Err(bad("须为给定选项之一")),
        },
        Kind::MultipleChoice { options } => {
            let items = v.as_array().ok_or_else(|| bad("须为选项的列表"))?;
            let mut chosen = Vec::new();
            for item in items {
                match item.as_str() {
                    Some(s) if options.iter().any(|o| o == s) && !chosen.contains(&s) => {
                        chosen.push(s)
                    }
                    _ => return Err(bad("选项须为给定选项且不重复")),
                }
            }
            Ok(json!(chosen))
        }
        Kind::YesNo => v
            .as_bool()
            .map(Value::Bool)
            .ok_or_else(|| bad("须为是或否")),
        Kind::Phone => {
            let s = v.as_str().ok_or_else(|| bad("须为手机号码"))?;
            crate::pii::Phone::parse(s)
                .map(|p| json!(p.as_str()))
                .map_err(&bad)
        }
        Kind::IdCard => match v.as_str() {
            Some(s) if crate::validate::resident_id_is_valid(s) => {
                Ok(json!(s.to_ascii_uppercase()))
            }
            _ => Err(bad("身份证号码须为 18 位且校验码正确")),
        },
        Kind::Attachment { max_files, .. } => {
            let ids = v.as_array().ok_or_else(|| bad("须为附件编号的列表"))?;
            if ids.len() as u32 > *max_files || ids.iter().any(|i| !i.is_string()) {
                return Err(vec![problem(at, format!("最多 {max_files} 个附件"))]);
            }
            Ok(v.clone())
        }
        Kind::Table { columns } => table(columns, at, v, stage),
    }
}

/// A short text within its length and pattern.
fn short_text(
    at: &str,
    v: &Value,
    (min_length, max_length): (Option<u32>, Option<u32>),
    pattern: Option<&str>,
) -> Result<Value, Vec<FieldProblem>> {
    let bad = |reason: &str| vec![problem(at, reason)];
    let s = v.as_str().ok_or_else(|| bad("须为文本"))?;
    let n = s.chars().count() as u32;
    if min_length.is_some_and(|m| n < m) || max_length.is_some_and(|m| n > m) {
        return Err(bad("长度不符合要求"));
    }
    if let Some(p) = pattern {
        let whole = whole_match(p).ok_or_else(|| bad("校验规则无效"))?;
        if !whole.is_match(s) {
            return Err(bad("格式不符合要求"));
        }
    }
    Ok(json!(s))
}

/// A fixed-point number at most `scale` places, within its bounds, kept at
/// its scale as text.
fn decimal(
    at: &str,
    v: &Value,
    scale: u32,
    (min, max): (Option<Decimal>, Option<Decimal>),
) -> Result<Value, Vec<FieldProblem>> {
    let bad = |reason: &str| vec![problem(at, reason)];
    let d = decimal_of(v).ok_or_else(|| bad("须为数字"))?;
    if d.scale() > scale {
        return Err(vec![problem(at, format!("最多 {scale} 位小数"))]);
    }
    if min.is_some_and(|m| d < m) || max.is_some_and(|m| d > m) {
        return Err(bad("数值超出范围"));
    }
    let mut d = d;
    d.rescale(scale);
    Ok(json!(d.to_string()))
}

/// `pattern` anchored to the whole value, compiled once per process (a
/// table of 50 rows checks the same pattern 50 times per save). The cache
/// is small: patterns come from form definitions, a few per form.
fn whole_match(pattern: &str) -> Option<regex::Regex> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<String, regex::Regex>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut map = cache.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(r) = map.get(pattern) {
        return Some(r.clone());
    }
    let r = regex::Regex::new(&format!("^(?:{pattern})$")).ok()?;
    if map.len() >= 1_000 {
        map.clear();
    }
    map.insert(pattern.to_owned(), r.clone());
    Some(r)
}

/// A repeating table: a list of rows, each an object of its columns.
fn table(columns: &[Field], at: &str, v: &Value, stage: Stage) -> Result<Value, Vec<FieldProblem>> {
    let rows = v
        .as_array()
        .ok_or_else(|| vec![problem(at, "须为行的列表")])?;
    let mut problems = Vec::new();
    let mut out = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let Some(cells) = row.as_object() else {
            problems.push(problem(&format!("{at}[{i}]"), "每行须为对象"));
            continue;
        };
        let mut clean = BTreeMap::new();
        for key in cells
            .keys()
            .filter(|k| !columns.iter().any(|c| &c.key == *k))
        {
            problems.push(problem(&format!("{at}[{i}].{key}"), "表格中没有该列"));
        }
        for c in columns {
            let cell_at = format!("{at}[{i}].{}", c.key);
            match cells.get(&c.key).filter(|v| !v.is_null()) {
                None if c.required && stage == Stage::Submit => {
                    problems.push(problem(&cell_at, "必填"))
                }
                None => {}
                Some(v) => match normalise(c, &cell_at, v, stage) {
                    Ok(v) => {
                        clean.insert(c.key.clone(), v);
                    }
                    Err(mut p) => problems.append(&mut p),
                },
            }
        }
        out.push(json!(clean));
    }
    if problems.is_empty() {
        Ok(Value::Array(out))
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def() -> Definition {
        serde_json::from_value(json!({ "sections": [{ "fields": [
            { "key": "received", "label": "收到申请数", "type": "integer", "min": 0, "required": true },
            { "key": "answered", "label": "已答复数", "type": "integer", "min": 0 },
            { "key": "rate", "label": "答复率", "type": "decimal", "scale": 2, "computed": "answered / received * 100" },
            { "key": "pending", "label": "未答复数", "type": "integer", "computed": "received - answered" },
            { "key": "fees", "label": "收费（万元）", "type": "decimal", "scale": 4, "max": "1000" },
            { "key": "code", "label": "文号", "type": "short_text", "pattern": "沪府发〔\\d{4}〕\\d+号" },
            { "key": "kinds", "label": "类别", "type": "multiple_choice", "options": ["规章", "规范性文件"] },
            { "key": "contact", "label": "联系电话", "type": "phone" },
            { "key": "id_no", "label": "身份证号", "type": "id_card" },
            { "key": "docs", "label": "文件清单", "type": "table", "columns": [
                { "key": "title", "label": "文件名称", "type": "short_text", "required": true },
                { "key": "pages", "label": "页数", "type": "integer", "min": 1 } ] },
            { "key": "pages_total", "label": "总页数", "type": "integer", "computed": "sum(docs.pages)" },
        ] }] }))
        .unwrap()
    }

    fn named(r: Result<Map<String, Value>, Vec<FieldProblem>>) -> Vec<String> {
        r.unwrap_err().into_iter().map(|p| p.field).collect()
    }

    #[test]
    fn a_good_return_is_normalised_and_computed() {
        let answers = json!({
            "received": 120, "answered": "90", "fees": 12.5, "code": "沪府发〔2026〕12号",
            "kinds": ["规章"], "contact": "19912345678", "id_no": "310112197802010039",
            "docs": [{ "title": "甲", "pages": 3 }, { "title": "乙", "pages": 4 }],
        });
        let out = check(&def(), &answers, Stage::Submit).unwrap();
        assert_eq!(out["rate"], "75.00");
        assert_eq!(out["pending"], 30);
        assert_eq!(out["fees"], "12.5000", "fixed scale, no float");
        assert_eq!(out["pages_total"], 7);
        assert_eq!(out["answered"], 90);
    }

    #[test]
    fn a_draft_may_be_incomplete_a_submission_may_not() {
        let answers = json!({ "answered": 1, "docs": [{ "pages": 2 }] });
        let out = check(&def(), &answers, Stage::Draft).unwrap();
        assert_eq!(out["rate"], Value::Null, "no received yet: no rate");
        assert_eq!(
            named(check(&def(), &answers, Stage::Submit)),
            ["received", "docs[0].title"]
        );
    }

    #[test]
    fn every_bad_value_is_named() {
        let answers = json!({
            "received": -1, "answered": "many", "rate": "99", "fees": "1.23456", "code": "沪府发〔26〕1号",
            "kinds": ["规章", "规章"], "contact": "123", "id_no": "310112197802010030",
            "docs": [{ "title": "甲", "pages": 0, "colour": "红" }, "row"], "extra": 1,
        });
        let mut got = named(check(&def(), &answers, Stage::Draft));
        got.sort();
        let mut want = vec![
            "extra",
            "received",
            "answered",
            "rate",
            "fees",
            "code",
            "kinds",
            "contact",
            "id_no",
            "docs[0].colour",
            "docs[0].pages",
            "docs[1]",
        ];
        want.sort();
        assert_eq!(got, want);
        assert_eq!(named(check(&def(), &json!([1]), Stage::Draft)), ["answers"]);
    }
}
