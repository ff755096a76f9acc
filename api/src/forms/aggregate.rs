//! The aggregate of a form's returns (GK-13), worked out from the returns
//! alone: for every numeric field (and numeric table column) the count,
//! sum, mean, min and max; for every choice field the count per option;
//! every table's rows one after another, each naming its unit; and the
//! numeric totals rolled up the org tree (each district over its bureaus).
//! Decimal arithmetic throughout, so totals of money add up to the cent.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::answers::decimal_of;
use super::definition::{Definition, Field, Kind};

/// One counted return: the unit it came from and its answers.
pub struct Counted<'a> {
    pub unit_id: &'a str,
    pub unit_name: &'a str,
    /// The unit's materialised path (`/root/…/self/`).
    pub unit_path: &'a str,
    pub answers: &'a Map<String, Value>,
}

#[derive(Debug, Serialize, ToSchema, PartialEq)]
pub struct NumberStat {
    /// The field's key, `table.column` for a table's column.
    pub key: String,
    pub label: String,
    /// Returns (rows, for a column) with a value.
    pub count: u64,
    /// Decimals as text, never binary floats; null when nothing counted.
    pub sum: String,
    pub mean: Option<String>,
    pub min: Option<String>,
    pub max: Option<String>,
}

#[derive(Debug, Serialize, ToSchema, PartialEq)]
pub struct OptionCount {
    pub option: String,
    pub count: u64,
}

#[derive(Debug, Serialize, ToSchema, PartialEq)]
pub struct ChoiceStat {
    pub key: String,
    pub label: String,
    pub counts: Vec<OptionCount>,
}

#[derive(Debug, Serialize, ToSchema, PartialEq)]
pub struct TableRow {
    pub unit_id: String,
    pub unit_name: String,
    #[schema(value_type = Object)]
    pub values: Map<String, Value>,
}

#[derive(Debug, Serialize, ToSchema, PartialEq)]
pub struct TableRows {
    pub key: String,
    pub label: String,
    pub rows: Vec<TableRow>,
}

/// The totals of the returns of one unit's subtree.
#[derive(Debug, Serialize, ToSchema, PartialEq)]
pub struct Rollup {
    pub unit_id: String,
    pub unit_name: String,
    /// Depth below the highest unit shown (0 for it).
    pub level: usize,
    pub returns: u64,
    /// Field key → sum, as text.
    pub sums: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, ToSchema, PartialEq)]
pub struct Aggregate {
    /// Returns counted: submitted or accepted.
    pub returns: u64,
    pub numbers: Vec<NumberStat>,
    pub choices: Vec<ChoiceStat>,
    pub tables: Vec<TableRows>,
    pub rollups: Vec<Rollup>,
}

#[derive(Default)]
struct Acc {
    count: u64,
    sum: Decimal,
    min: Option<Decimal>,
    max: Option<Decimal>,
}

impl Acc {
    fn add(&mut self, d: Decimal) {
        self.count += 1;
        self.sum = self.sum.checked_add(d).unwrap_or(self.sum);
        self.min = Some(self.min.map_or(d, |m| m.min(d)));
        self.max = Some(self.max.map_or(d, |m| m.max(d)));
    }

    fn stat(&self, key: String, label: &str) -> NumberStat {
        let mean = (self.count > 0)
            .then(|| self.sum.checked_div(Decimal::from(self.count)))
            .flatten()
            .map(|m| m.round_dp(4).normalize().to_string());
        NumberStat {
            key,
            label: label.to_owned(),
            count: self.count,
            sum: self.sum.normalize().to_string(),
            mean,
            min: self.min.map(|d| d.normalize().to_string()),
            max: self.max.map(|d| d.normalize().to_string()),
        }
    }
}

/// Aggregates `returns` of `def`; `names` gives the name of every unit on
/// their paths (for the roll-ups).
pub fn of(
    def: &Definition,
    returns: &[Counted<'_>],
    names: &BTreeMap<String, String>,
) -> Aggregate {
    let mut numbers = Vec::new();
    let mut choices = Vec::new();
    let mut tables = Vec::new();
    for f in def.fields() {
        match &f.kind {
            k if k.is_numeric() => numbers.push(number(f, returns)),
            Kind::SingleChoice { options } | Kind::MultipleChoice { options } => {
                choices.push(choice(f, options, returns))
            }
            Kind::YesNo => choices.push(choice(f, &["是".into(), "否".into()], returns)),
            Kind::Table { columns } => {
                tables.push(table(f, returns));
                numbers.extend(
                    columns
                        .iter()
                        .filter(|c| c.kind.is_numeric())
                        .map(|c| column(f, c, returns)),
                );
            }
            _ => {}
        }
    }
    Aggregate {
        returns: returns.len() as u64,
        numbers,
        choices,
        tables,
        rollups: rollups(def, returns, names),
    }
}

fn number(f: &Field, returns: &[Counted<'_>]) -> NumberStat {
    let mut acc = Acc::default();
    for r in returns {
        if let Some(d) = r.answers.get(&f.key).and_then(decimal_of) {
            acc.add(d);
        }
    }
    acc.stat(f.key.clone(), &f.label)
}

fn column(t: &Field, c: &Field, returns: &[Counted<'_>]) -> NumberStat {
    let mut acc = Acc::default();
    for r in returns {
        let rows = r.answers.get(&t.key).and_then(Value::as_array);
        for d in rows
            .into_iter()
            .flatten()
            .filter_map(|row| row.get(&c.key).and_then(decimal_of))
        {
            acc.add(d);
        }
    }
    acc.stat(
        format!("{}.{}", t.key, c.key),
        &format!("{}·{}", t.label, c.label),
    )
}

fn choice(f: &Field, options: &[String], returns: &[Counted<'_>]) -> ChoiceStat {
    let mut counts: Vec<OptionCount> = options
        .iter()
        .map(|o| OptionCount {
            option: o.clone(),
            count: 0,
        })
        .collect();
    let mut tally = |picked: &str| {
        if let Some(c) = counts.iter_mut().find(|c| c.option == picked) {
            c.count += 1;
        }
    };
    for r in returns {
        match r.answers.get(&f.key) {
            Some(Value::String(s)) => tally(s),
            Some(Value::Bool(b)) => tally(if *b { "是" } else { "否" }),
            Some(Value::Array(picked)) => {
                picked.iter().filter_map(Value::as_str).for_each(&mut tally)
            }
            _ => {}
        }
    }
    ChoiceStat {
        key: f.key.clone(),
        label: f.label.clone(),
        counts,
    }
}

fn table(f: &Field, returns: &[Counted<'_>]) -> TableRows {
    let rows = returns
        .iter()
        .flat_map(|r| {
            let rows = r.answers.get(&f.key).and_then(Value::as_array);
            rows.into_iter()
                .flatten()
                .filter_map(Value::as_object)
                .map(|values| TableRow {
                    unit_id: r.unit_id.to_owned(),
                    unit_name: r.unit_name.to_owned(),
                    values: values.clone(),
                })
        })
        .collect();
    TableRows {
        key: f.key.clone(),
        label: f.label.clone(),
        rows,
    }
}

/// The units of a path, top first.
fn path_units(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

/// Totals per unit of the tree, from the lowest unit above every return
/// down to the returning units themselves, in tree order.
fn rollups(
    def: &Definition,
    returns: &[Counted<'_>],
    names: &BTreeMap<String, String>,
) -> Vec<Rollup> {
    let paths: Vec<Vec<&str>> = returns.iter().map(|r| path_units(r.unit_path)).collect();
    let Some(first) = paths.first() else {
        return Vec::new();
    };
    // The common ancestors' count: the top shown is the deepest of them.
    let common = (0..first.len())
        .take_while(|&i| paths.iter().all(|p| p.get(i) == first.get(i)))
        .count();
    let top = common.saturating_sub(1);
    let numeric: Vec<&Field> = def.fields().filter(|f| f.kind.is_numeric()).collect();
    let mut groups: BTreeMap<Vec<&str>, (u64, Vec<Decimal>)> = BTreeMap::new();
    for (r, path) in returns.iter().zip(&paths) {
        for depth in top + 1..=path.len() {
            let g = groups
                .entry(path[..depth].to_vec())
                .or_insert_with(|| (0, vec![Decimal::ZERO; numeric.len()]));
            g.0 += 1;
            for (sum, f) in g.1.iter_mut().zip(&numeric) {
                if let Some(d) = r.answers.get(&f.key).and_then(decimal_of) {
                    *sum = sum.checked_add(d).unwrap_or(*sum);
                }
            }
        }
    }
    groups
        .into_iter()
        .map(|(path, (count, sums))| {
            let id = path.last().copied().unwrap_or_default();
            Rollup {
                unit_id: id.to_owned(),
                unit_name: names.get(id).cloned().unwrap_or_default(),
                level: path.len() - 1 - top,
                returns: count,
                sums: numeric
                    .iter()
                    .zip(sums)
                    .map(|(f, s)| (f.key.clone(), s.normalize().to_string()))
                    .collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def() -> Definition {
        serde_json::from_value(json!({ "sections": [{ "fields": [
            { "key": "received", "label": "收到申请数", "type": "integer" },
            { "key": "fees", "label": "收费", "type": "decimal", "scale": 2 },
            { "key": "kind", "label": "类别", "type": "single_choice", "options": ["甲", "乙"] },
            { "key": "tags", "label": "标签", "type": "multiple_choice", "options": ["A", "B"] },
            { "key": "online", "label": "网上", "type": "yes_no" },
            { "key": "docs", "label": "文件", "type": "table", "columns": [
                { "key": "title", "label": "名称", "type": "short_text" },
                { "key": "pages", "label": "页数", "type": "integer" } ] },
        ] }] }))
        .unwrap()
    }

    fn answers(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn numbers_choices_tables_and_rollups_add_up() {
        let a = answers(
            json!({ "received": 10, "fees": "0.10", "kind": "甲", "tags": ["A", "B"], "online": true,
            "docs": [{ "title": "一", "pages": 3 }] }),
        );
        let b = answers(
            json!({ "received": 5, "fees": "0.20", "kind": "甲", "tags": ["B"], "online": false,
            "docs": [{ "title": "二", "pages": 4 }, { "title": "三", "pages": 5 }] }),
        );
        let c = answers(json!({ "received": 1, "kind": "乙" }));
        let returns = [
            Counted {
                unit_id: "xjh",
                unit_name: "徐家汇街道",
                unit_path: "/sh/xh/xjh/",
                answers: &a,
            },
            Counted {
                unit_id: "tpl",
                unit_name: "天平路街道",
                unit_path: "/sh/xh/tpl/",
                answers: &b,
            },
            Counted {
                unit_id: "pd",
                unit_name: "浦东新区",
                unit_path: "/sh/pd/",
                answers: &c,
            },
        ];
        let names: BTreeMap<String, String> = [
            ("sh", "上海市"),
            ("xh", "徐汇区"),
            ("xjh", "徐家汇街道"),
            ("tpl", "天平路街道"),
            ("pd", "浦东新区"),
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .into();
        let agg = of(&def(), &returns, &names);
        assert_eq!(agg.returns, 3);
        let received = &agg.numbers[0];
        assert_eq!((received.sum.as_str(), received.count), ("16", 3));
        assert_eq!(received.mean.as_deref(), Some("5.3333"));
        assert_eq!(
            (received.min.as_deref(), received.max.as_deref()),
            (Some("1"), Some("10"))
        );
        // 0.1 + 0.2 is 0.3 exactly; the return without fees is not counted.
        let fees = &agg.numbers[1];
        assert_eq!(
            (fees.sum.as_str(), fees.count, fees.mean.as_deref()),
            ("0.3", 2, Some("0.15"))
        );
        let pages = agg.numbers.iter().find(|n| n.key == "docs.pages").unwrap();
        assert_eq!(pages.sum, "12");
        let count = |key: &str, option: &str| {
            let c = agg.choices.iter().find(|c| c.key == key).unwrap();
            c.counts.iter().find(|o| o.option == option).unwrap().count
        };
        assert_eq!((count("kind", "甲"), count("kind", "乙")), (2, 1));
        assert_eq!((count("tags", "A"), count("tags", "B")), (1, 2));
        assert_eq!((count("online", "是"), count("online", "否")), (1, 1));
        let rows = &agg.tables[0].rows;
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[2].unit_name, "天平路街道");
        let xh = agg.rollups.iter().find(|r| r.unit_id == "xh").unwrap();
        assert_eq!(
            (xh.returns, xh.sums["received"].as_str(), xh.level),
            (2, "15", 1)
        );
        let top = &agg.rollups[0];
        assert_eq!(
            (
                top.unit_name.as_str(),
                top.returns,
                top.sums["received"].as_str(),
                top.level
            ),
            ("上海市", 3, "16", 0)
        );
    }

    #[test]
    fn no_returns_aggregate_to_zero_counts_and_no_rollups() {
        let agg = of(&def(), &[], &BTreeMap::new());
        assert_eq!(agg.returns, 0);
        assert_eq!(agg.numbers[0].sum, "0");
        assert_eq!(agg.numbers[0].mean, None);
        assert!(agg.rollups.is_empty());
    }
}
