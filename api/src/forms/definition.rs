//! A form's definition: sections of fields, each with its type and fill
//! rules, stored as a versioned JSON document. [`Definition::check`] is
//! what saving a form runs: keys unique and well formed, rules that fit the
//! type, computed fields that parse, read only numeric fields that exist,
//! and do not depend on themselves (a cycle is refused naming its fields).

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::expr::{self, Expr};

/// The version of the definition document's shape.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    /// The version of the document's shape; absent: the current one.
    #[serde(default = "current_format")]
    pub format: u32,
    pub sections: Vec<Section>,
}

fn current_format() -> u32 {
    FORMAT_VERSION
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    #[serde(default)]
    pub title: String,
    pub fields: Vec<Field>,
}

/// Unknown members are refused by [`Kind`], which receives every member
/// this struct does not name (serde cannot deny them here, beside a
/// flattened enum).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// Stable name in answers and expressions: `[a-z][a-z0-9_]*`.
    pub key: String,
    pub label: String,
    #[serde(flatten)]
    pub kind: Kind,
    #[serde(default)]
    pub required: bool,
    /// An expression over other fields ([`expr`]); the field is then not
    /// typed in but computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub computed: Option<String>,
}

/// The field's type and the rules that belong to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Kind {
    ShortText {
        #[serde(default)]
        min_length: Option<u32>,
        #[serde(default)]
        max_length: Option<u32>,
        /// A regular expression the whole value must match.
        #[serde(default)]
        pattern: Option<String>,
    },
    LongText {
        #[serde(default)]
        max_length: Option<u32>,
    },
    Integer {
        #[serde(default)]
        min: Option<i64>,
        #[serde(default)]
        max: Option<i64>,
    },
    /// A fixed-point number with `scale` decimal places (money, ratios).
    Decimal {
        scale: u32,
        #[serde(default)]
        min: Option<Decimal>,
        #[serde(default)]
        max: Option<Decimal>,
    },
    Date {
        #[serde(default)]
        min: Option<String>,
        #[serde(default)]
        max: Option<String>,
    },
    SingleChoice {
        options: Vec<String>,
    },
    MultipleChoice {
        options: Vec<String>,
    },
    YesNo,
    Phone,
    /// An 18-digit resident ID number with its GB 11643 check digit.
    IdCard,
    Attachment {
        max_files: u32,
        /// Allowed content types, e.g. `application/pdf`.
        types: Vec<String>,
    },
    /// Rows of the same columns (no nested tables).
    Table {
        columns: Vec<Field>,
    },
}

/// What is wrong with one field: its key (`table.column` inside a table,
/// `table[row].column` in answers, or `sections`) and the rule it broke.
/// The same shape as a 422's `errors`, so problems pass through as they are.
pub type FieldProblem = crate::error::FieldError;

/// The longest a scale may be, as rust_decimal holds at most 28 places.
const MAX_SCALE: u32 = 10;

impl Kind {
    pub fn is_numeric(&self) -> bool {
        matches!(self, Kind::Integer { .. } | Kind::Decimal { .. })
    }
}

fn valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && key.len() <= 40
        && key != "sum"
}

fn problem(field: &str, reason: impl Into<String>) -> FieldProblem {
    FieldProblem {
        field: field.to_owned(),
        reason: reason.into(),
    }
}

impl Definition {
    /// Every field, in order, with the table it sits in (None at top level).
    pub fn fields(&self) -> impl Iterator<Item = &Field> {
        self.sections.iter().flat_map(|s| s.fields.iter())
    }

    /// The checks of saving a form; every problem names its field.
    pub fn check(&self) -> Result<(), Vec<FieldProblem>> {
        let mut problems = Vec::new();
        if self.format != FORMAT_VERSION {
            problems.push(problem(
                "format",
                format!("不支持的表单定义格式版本 {}", self.format),
            ));
        }
        if self.fields().next().is_none() {
            problems.push(problem("sections", "表单至少需要一个字段"));
        }
        let mut seen = BTreeSet::new();
        for f in self.fields() {
            if !seen.insert(f.key.as_str()) {
                problems.push(problem(&f.key, "字段标识重复"));
            }
            check_field(f, &f.key, true, &mut problems);
        }
        if problems.is_empty() {
            problems.extend(self.check_computed());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// Computed fields parse, read numeric fields and table columns that
    /// exist, and form no cycle.
    fn check_computed(&self) -> Vec<FieldProblem> {
        let numeric: BTreeSet<&str> = self
            .fields()
            .filter(|f| f.kind.is_numeric())
            .map(|f| f.key.as_str())
            .collect();
        let columns: BTreeSet<(&str, &str)> = self
            .fields()
            .filter_map(|f| match &f.kind {
                Kind::Table { columns } => Some((f, columns)),
                _ => None,
            })
            .flat_map(|(t, cs)| {
                cs.iter()
                    .filter(|c| c.kind.is_numeric())
                    .map(move |c| (t.key.as_str(), c.key.as_str()))
            })
            .collect();
        let mut problems = Vec::new();
        let mut graph: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for f in self.fields() {
            let Some(text) = &f.computed else { continue };
            let e: Expr = match expr::parse(text) {
                Ok(e) => e,
                Err(err) => {
                    problems.push(problem(
                        &f.key,
                        format!("计算公式第 {} 个字符处：{}", err.at + 1, err.reason),
                    ));
                    continue;
                }
            };
            let refs = e.refs();
            for r in &refs.fields {
                if !numeric.contains(r.as_str()) {
                    problems.push(problem(
                        &f.key,
                        format!("计算公式引用的 {r} 不是本表单的数值字段"),
                    ));
                }
            }
            for (t, c) in &refs.columns {
                if !columns.contains(&(t.as_str(), c.as_str())) {
                    problems.push(problem(
                        &f.key,
                        format!("计算公式引用的 {t}.{c} 不是表格的数值列"),
                    ));
                }
            }
            graph.insert(&f.key, refs.fields.into_iter().collect());
        }
        if let Some(cycle) = find_cycle(&graph) {
            let names = cycle.join(" → ");
            problems.push(problem(&cycle[0], format!("计算公式循环引用：{names}")));
        }
        problems
    }
}

/// Checks one field (a column when `top` is false).
fn check_field(f: &Field, path: &str, top: bool, problems: &mut Vec<FieldProblem>) {
    if !valid_key(&f.key) {
        problems.push(problem(
            path,
            "字段标识须以小写字母开头，只含小写字母、数字和下划线，不超过 40 个字符",
        ));
    }
    if f.label.trim().is_empty() {
        problems.push(problem(path, "字段名称不能为空"));
    }
    if f.computed.is_some() && !f.kind.is_numeric() {
        problems.push(problem(path, "只有整数或小数字段可以设置计算公式"));
    }
    if f.computed.is_some() && !top {
        problems.push(problem(path, "表格的列不能设置计算公式"));
    }
    let bad = |reason: &str| problem(path, reason);
    match &f.kind {
        Kind::ShortText {
            min_length,
            max_length,
            pattern,
        } => {
            if min_length.zip(*max_length).is_some_and(|(a, b)| a > b) {
                problems.push(bad("最小长度大于最大长度"));
            }
            if pattern
                .as_deref()
                .is_some_and(|p| regex::Regex::new(p).is_err())
            {
                problems.push(bad("校验规则（正则表达式）无法解析"));
            }
        }
        Kind::Integer { min, max } if min.zip(*max).is_some_and(|(a, b)| a > b) => {
            problems.push(bad("最小值大于最大值"))
        }
        Kind::Decimal { scale, min, max } => {
            if *scale > MAX_SCALE {
                problems.push(bad("小数位数最多 10 位"));
            }
            if min.zip(*max).is_some_and(|(a, b)| a > b) {
                problems.push(bad("最小值大于最大值"));
            }
        }
        Kind::Date { min, max } => {
            for d in [min, max].into_iter().flatten() {
                if crate::calendar::parse_ymd(d).is_none() {
                    problems.push(bad("日期格式为 YYYY-MM-DD"));
                }
            }
        }
        Kind::SingleChoice { options } | Kind::MultipleChoice { options } => {
            let distinct: BTreeSet<&String> = options.iter().collect();
            if options.is_empty()
                || distinct.len() != options.len()
                || options.iter().any(|o| o.trim().is_empty())
            {
                problems.push(bad("选项不能为空或重复"));
            }
        }
        Kind::Attachment { max_files, types } if *max_files == 0 || types.is_empty() => {
            problems.push(bad("须设置附件数量上限和允许的文件类型"));
        }
        Kind::Table { columns } => check_table(columns, path, top, problems),
        _ => {}
    }
}

/// A table's own rules and each of its columns.
fn check_table(columns: &[Field], path: &str, top: bool, problems: &mut Vec<FieldProblem>) {
    if !top {
        problems.push(problem(path, "表格中不能再嵌套表格"));
    }
    if columns.is_empty() {
        problems.push(problem(path, "表格至少需要一列"));
    }
    let mut seen = BTreeSet::new();
    for c in columns {
        let at = format!("{path}.{}", c.key);
        if !seen.insert(c.key.as_str()) {
            problems.push(problem(&at, "列标识重复"));
        }
        check_field(c, &at, false, problems);
    }
}

/// A cycle among computed fields (field → the fields it reads), as the
/// fields along it with the first repeated at the end; None without one.
fn find_cycle(graph: &BTreeMap<&str, Vec<String>>) -> Option<Vec<String>> {
    fn visit<'a>(
        node: &'a str,
        graph: &'a BTreeMap<&str, Vec<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|n| *n == node) {
            let mut cycle: Vec<String> = path[i..].iter().map(|s| (*s).to_owned()).collect();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if !done.insert(node) {
            return None;
        }
        path.push(node);
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|start| visit(start, graph, &mut Vec::new(), &mut done))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(fields: serde_json::Value) -> Definition {
        serde_json::from_value(json!({ "sections": [{ "title": "基本情况", "fields": fields }] }))
            .unwrap()
    }

    fn problems(d: &Definition) -> Vec<(String, String)> {
        d.check()
            .unwrap_err()
            .into_iter()
            .map(|p| (p.field, p.reason))
            .collect()
    }

    #[test]
    fn a_report_form_with_computed_fields_and_a_table_is_accepted() {
        let d = def(json!([
            { "key": "received", "label": "收到申请数", "type": "integer", "min": 0, "required": true },
            { "key": "answered", "label": "已答复数", "type": "integer", "min": 0 },
            { "key": "pending", "label": "未答复数", "type": "integer", "computed": "received - answered" },
            { "key": "fees", "label": "收费（万元）", "type": "decimal", "scale": 4 },
            { "key": "docs", "label": "文件清单", "type": "table", "columns": [
                { "key": "title", "label": "文件名称", "type": "short_text", "max_length": 200 },
                { "key": "pages", "label": "页数", "type": "integer" } ] },
            { "key": "pages_total", "label": "总页数", "type": "integer", "computed": "sum(docs.pages)" },
            { "key": "kind", "label": "类别", "type": "single_choice", "options": ["规章", "规范性文件"] },
            { "key": "contact", "label": "联系电话", "type": "phone" },
            { "key": "id_no", "label": "身份证号", "type": "id_card" },
            { "key": "scan", "label": "扫描件", "type": "attachment", "max_files": 3, "types": ["application/pdf"] },
        ]));
        d.check().unwrap();
        // The stored document reads back the same.
        let again: Definition = serde_json::from_value(serde_json::to_value(&d).unwrap()).unwrap();
        assert_eq!(again, d);
    }

    #[test]
    fn a_cycle_between_computed_fields_is_refused_naming_them() {
        let d = def(json!([
            { "key": "a", "label": "甲", "type": "integer", "computed": "b + 1" },
            { "key": "b", "label": "乙", "type": "integer", "computed": "c * 2" },
            { "key": "c", "label": "丙", "type": "integer", "computed": "a" },
            { "key": "d", "label": "丁", "type": "integer", "computed": "a + 1" },
        ]));
        let p = problems(&d);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].1.contains("a → b → c → a"), "{p:?}");
        let selfish =
            def(json!([{ "key": "a", "label": "甲", "type": "integer", "computed": "a + 1" }]));
        assert!(problems(&selfish)[0].1.contains("a → a"));
    }

    #[test]
    fn every_bad_field_is_named() {
        let d = def(json!([
            { "key": "Bad-Key", "label": "x", "type": "integer" },
            { "key": "n", "label": "数", "type": "integer", "min": 5, "max": 1 },
            { "key": "n", "label": "重复", "type": "yes_no" },
            { "key": "t", "label": "文本", "type": "short_text", "computed": "n + 1", "pattern": "(" },
            { "key": "c", "label": "选", "type": "multiple_choice", "options": ["甲", "甲"] },
            { "key": "f", "label": "附", "type": "attachment", "max_files": 0, "types": [] },
            { "key": "tab", "label": "表", "type": "table", "columns": [
                { "key": "inner", "label": "内表", "type": "table", "columns": [] } ] },
        ]));
        let named: BTreeSet<String> = problems(&d).into_iter().map(|(f, _)| f).collect();
        let want: BTreeSet<String> = ["Bad-Key", "n", "t", "c", "f", "tab.inner"]
            .map(String::from)
            .into();
        assert_eq!(named, want);
    }

    #[test]
    fn computed_fields_read_only_numeric_fields_that_exist() {
        let d = def(json!([
            { "key": "name", "label": "名称", "type": "short_text" },
            { "key": "x", "label": "甲", "type": "integer", "computed": "name + missing + sum(t.c)" },
            { "key": "y", "label": "乙", "type": "integer", "computed": "1 +" },
        ]));
        let p = problems(&d);
        assert!(p.iter().any(|(f, r)| f == "x" && r.contains("name")));
        assert!(p.iter().any(|(f, r)| f == "x" && r.contains("missing")));
        assert!(p.iter().any(|(f, r)| f == "x" && r.contains("t.c")));
        assert!(
            p.iter().any(|(f, r)| f == "y" && r.contains("第 4 个字符")),
            "{p:?}"
        );
    }

    #[test]
    fn unknown_members_and_types_do_not_parse() {
        let bad = json!({ "sections": [{ "fields": [{ "key": "a", "label": "甲", "type": "integer", "colour": "red" }] }] });
        assert!(serde_json::from_value::<Definition>(bad).is_err());
        let bad =
            json!({ "sections": [{ "fields": [{ "key": "a", "label": "甲", "type": "float" }] }] });
        assert!(serde_json::from_value::<Definition>(bad).is_err());
        assert_eq!(problems(&def(json!([])))[0].0, "sections");
    }
}
