//! The whole report as PDF, in the order of the national format: the texts
//! and the three tables, ruled, set by the shared pipeline of
//! [`crate::pdf`]. Pure: the view in, the blocks out.

use super::reports::ReportView;
use super::table3::RowDef;
use crate::pdf::{Block, Table};

fn cells<const N: usize>(label: &str, figures: [i64; N]) -> Vec<String> {
    std::iter::once(label.to_owned())
        .chain(figures.iter().map(i64::to_string))
        .collect()
}

fn heads(labels: &[&str]) -> Vec<Vec<String>> {
    vec![labels.iter().map(|l| (*l).to_owned()).collect()]
}

fn text(t: &str) -> Block {
    Block::Text(if t.trim().is_empty() {
        "（未填写）".to_owned()
    } else {
        t.to_owned()
    })
}

/// Section 2 as three tables, as the national format has them.
fn proactive(v: &ReportView) -> Vec<Block> {
    let p = &v.entered.proactive;
    let docs =
        |label, d: &super::entered::Documents| cells(label, [d.issued, d.repealed, d.in_force]);
    vec![
        Block::Heading("二、主动公开政府信息情况".into()),
        Block::Table(Table {
            widths: vec![3.0, 2.0, 2.0, 2.0],
            head: heads(&["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"]),
            rows: vec![
                docs("规章", &p.rules),
                docs("行政规范性文件", &p.normative_documents),
            ],
        }),
        Block::Table(Table {
            widths: vec![3.0, 6.0],
            head: heads(&["信息内容", "本年处理决定数量"]),
            rows: vec![
                cells("行政许可", [p.licensing_decisions]),
                cells("行政处罚", [p.penalties]),
                cells("行政强制", [p.coercive_measures]),
            ],
        }),
        Block::Table(Table {
            widths: vec![3.0, 6.0],
            head: heads(&["信息内容", "本年收费金额（单位：万元）"]),
            rows: vec![vec!["行政事业性收费".into(), p.fees_10k_yuan.to_string()]],
        }),
    ]
}

/// A row's label, indented by its depth; a category with reasons is their
/// subtotal.
fn label(v: &ReportView, r: &RowDef) -> String {
    let has_parts = v.rows.iter().any(|x| x.parent.as_deref() == Some(&r.key));
    let indent = "\u{3000}".repeat(usize::from(r.level));
    if r.level == 1 && has_parts {
        format!("{indent}{}　小计", r.label)
    } else {
        format!("{indent}{}", r.label)
    }
}

fn requests(v: &ReportView) -> Vec<Block> {
    let mut head = vec!["（一＋二＝三＋四）".to_owned()];
    head.extend(v.columns.iter().map(|c| c.label.clone()));
    let rows = v
        .rows
        .iter()
        .map(|r| cells(&label(v, r), v.table3.get(&r.key)))
        .collect();
    let mut widths = vec![11.0];
    widths.extend([3.0; 7]);
    let mut blocks = vec![Block::Heading("三、收到和处理政府信息公开申请情况".into())];
    if !v.has_data {
        blocks.push(Block::Text("本年度系统中无申请数据。".into()));
    }
    blocks.push(Block::Table(Table {
        widths,
        head: vec![head],
        rows,
    }));
    blocks
}

fn appeals(v: &ReportView) -> Vec<Block> {
    let a = &v.entered.appeals;
    let kinds = [
        ("行政复议", &a.reconsideration),
        ("行政诉讼：未经复议直接起诉", &a.litigation_direct),
        ("行政诉讼：复议后起诉", &a.litigation_after_reconsideration),
    ];
    let rows = kinds
        .into_iter()
        .map(|(l, o)| cells(l, o.cells().map(|(_, n)| n)))
        .collect();
    vec![
        Block::Heading("四、政府信息公开行政复议、行政诉讼情况".into()),
        Block::Table(Table {
            widths: vec![5.0, 2.0, 2.0, 2.0, 2.0, 2.0],
            head: heads(&["", "结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]),
            rows,
        }),
    ]
}

/// An RFC 3339 instant as a person in Shanghai reads it.
fn shanghai_time(rfc3339: &str) -> String {
    use time::format_description::well_known::Rfc3339;
    match time::OffsetDateTime::parse(rfc3339, &Rfc3339) {
        Ok(t) => {
            let local = t.to_offset(crate::calendar::SHANGHAI);
            let date = crate::calendar::chinese_date(local.date());
            format!("{date} {:02}:{:02}", local.hour(), local.minute())
        }
        Err(_) => rfc3339.to_owned(),
    }
}

/// The report's blocks, in the national order.
pub fn blocks(v: &ReportView) -> Vec<Block> {
    let mut out = vec![
        Block::Title(format!(
            "{}{}年政府信息公开工作年度报告",
            v.unit_name, v.year
        )),
        Block::Text(format!(
            "状态：{}；第三部分数据计算于{}。",
            v.status_label,
            shanghai_time(&v.computed_at)
        )),
        Block::Heading("一、总体情况".into()),
        text(&v.entered.overview),
    ];
    out.extend(proactive(v));
    out.extend(requests(v));
    out.extend(appeals(v));
    out.push(Block::Heading("五、存在的主要问题及改进情况".into()));
    out.push(text(&v.entered.problems));
    out.push(Block::Heading("六、其他需要报告的事项".into()));
    out.push(text(&v.entered.other_matters));
    out
}
