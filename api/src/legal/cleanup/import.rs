//! The legal affairs office's list of city documents (line 3) read from a
//! sheet, row by row, without I/O: the caller hands the cells as text (a
//! date cell as its serial number or as `YYYY-MM-DD`). Columns are found by
//! their header, in any order. Every problem is reported with its row and
//! column, and one problem anywhere means nothing is imported.

use std::collections::HashMap;

use serde::Serialize;
use time::{Date, Duration, Month};
use utoipa::ToSchema;

use super::document::{Decision, Document, doc_no_key};

/// The columns: (header, required).
pub const COLUMNS: [(&str, bool); 7] = [
    ("文件名称", true),
    ("文号", true),
    ("印发日期", true),
    ("起草单位", true),
    ("清理意见", false),
    ("理由", false),
    ("依据", false),
];

/// A row of the sheet, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    pub document: Document,
    /// The drafting unit's name, as the sheet writes it.
    pub drafting_unit: String,
    /// The sheet's row number (1 is the header).
    pub row: usize,
}

/// One problem, where it is.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RowError {
    /// The sheet's row number (1 is the header).
    pub row: usize,
    /// The column's header.
    pub column: String,
    pub reason: String,
}

fn problem(row: usize, column: &str, reason: impl Into<String>) -> RowError {
    RowError {
        row,
        column: column.to_owned(),
        reason: reason.into(),
    }
}

/// Where each column is; every header problem at once.
fn header(cells: &[String]) -> Result<HashMap<&'static str, usize>, Vec<RowError>> {
    let mut at = HashMap::new();
    let mut errors = Vec::new();
    for (i, cell) in cells.iter().enumerate() {
        let name = cell.trim();
        match COLUMNS.iter().find(|(h, _)| *h == name) {
            Some((h, _)) if at.insert(*h, i).is_some() => errors.push(problem(1, h, "列重复")),
            Some(_) => {}
            None if name.is_empty() => {}
            None => errors.push(problem(1, name, "不是清单的列")),
        }
    }
    for (h, required) in COLUMNS {
        if required && !at.contains_key(h) {
            errors.push(problem(1, h, "缺少该列"));
        }
    }
    if errors.is_empty() {
        Ok(at)
    } else {
        Err(errors)
    }
}

/// A date as sheets write it: `2021-03-05`, `2021/3/5`, `2021年3月5日`, or a
/// spreadsheet serial number (days since 1899-12-30).
pub fn parse_date(text: &str) -> Option<Date> {
    let t = text.trim();
    if let Ok(serial) = t.parse::<f64>() {
        let base = Date::from_calendar_date(1899, Month::December, 30).ok()?;
        return (1.0..=2_958_465.0)
            .contains(&serial)
            .then(|| base + Duration::days(serial.trunc() as i64));
    }
    let parts: Vec<&str> = t
        .split(['-', '/', '年', '月', '日'])
        .filter(|p| !p.is_empty())
        .collect();
    let [y, m, d] = parts[..] else { return None };
    let month = Month::try_from(m.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()
}

/// The documents of `rows` (the first is the header); blank rows are
/// skipped. Err: every problem, by row.
pub fn read(rows: &[Vec<String>]) -> Result<Vec<Imported>, Vec<RowError>> {
    let Some((head, body)) = rows.split_first() else {
        return Err(vec![problem(1, "", "表格为空")]);
    };
    let at = header(head)?;
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut numbers: HashMap<String, usize> = HashMap::new();
    for (i, cells) in body.iter().enumerate() {
        let row = i + 2;
        let cell = |h: &str| {
            at.get(h)
                .and_then(|&c| cells.get(c))
                .map_or("", |s| s.trim())
        };
        if COLUMNS.iter().all(|(h, _)| cell(h).is_empty()) {
            continue;
        }
        match read_row(row, cell, &mut numbers) {
            Ok(doc) => out.push(doc),
            Err(mut e) => errors.append(&mut e),
        }
    }
    match (errors.is_empty(), out.is_empty()) {
        (false, _) => Err(errors),
        (true, true) => Err(vec![problem(2, "", "没有可导入的文件")]),
        (true, false) => Ok(out),
    }
}

/// One non-blank row, or its problems. `numbers` holds the document
/// numbers of the rows before (compared by [`doc_no_key`]).
fn read_row<'a>(
    row: usize,
    cell: impl Fn(&str) -> &'a str,
    numbers: &mut HashMap<String, usize>,
) -> Result<Imported, Vec<RowError>> {
    let mut errors = Vec::new();
    for (h, required) in COLUMNS {
        if required && cell(h).is_empty() {
            errors.push(problem(row, h, "不能为空"));
        }
    }
    let issued = parse_date(cell("印发日期"));
    if issued.is_none() && !cell("印发日期").is_empty() {
        errors.push(problem(row, "印发日期", "不是日期"));
    }
    let decision = match cell("清理意见") {
        "" => None,
        text => {
            let d = Decision::from_text(text);
            if d.is_none() {
                errors.push(problem(
                    row,
                    "清理意见",
                    "须为继续有效、修改、废止或宣布失效",
                ));
            }
            d
        }
    };
    let no = cell("文号");
    if !no.is_empty()
        && let Some(first) = numbers.insert(doc_no_key(no), row)
    {
        errors.push(problem(row, "文号", format!("与第 {first} 行重复")));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Imported {
        document: Document {
            doc_no: no.to_owned(),
            title: cell("文件名称").to_owned(),
            issued_on: issued.map(crate::calendar::ymd).unwrap_or_default(),
            decision,
            reason: cell("理由").to_owned(),
            legal_basis: cell("依据").to_owned(),
        },
        drafting_unit: cell("起草单位").to_owned(),
        row,
    })
}

/// The most rows a sheet may have: a city's list is a few hundred.
pub const MAX_ROWS: usize = 5_000;

/// [`read`] of an uploaded `.xlsx` (its first sheet).
pub fn read_xlsx(bytes: &[u8]) -> Result<Vec<Imported>, Vec<RowError>> {
    let rows =
        crate::xlsx::read_first_sheet(bytes, MAX_ROWS).map_err(|e| vec![problem(0, "", e)])?;
    read(&rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet(rows: &[&[&str]]) -> Vec<Vec<String>> {
        rows.iter()
            .map(|r| r.iter().map(|c| (*c).to_owned()).collect())
            .collect()
    }

    const HEAD: &[&str] = &["文号", "文件名称", "印发日期", "起草单位", "清理意见"];

    #[test]
    fn columns_in_any_order_and_dates_as_sheets_write_them() {
        let rows = sheet(&[
            HEAD,
            &[
                "沪府规〔2021〕5号",
                "某管理办法",
                "2021年3月5日",
                "市司法局",
                "废止",
            ],
            &["", "", "", "", ""],
            &["沪府办规〔2020〕2号", "某实施意见", "44000", "市财政局", ""],
        ]);
        let docs = read(&rows).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].document.issued_on, "2021-03-05");
        assert_eq!(docs[0].document.decision, Some(Decision::Repeal));
        assert_eq!(docs[1].row, 4);
        assert_eq!(docs[1].document.issued_on, "2020-06-18");
        assert_eq!(docs[1].drafting_unit, "市财政局");
    }

    #[test]
    fn a_missing_or_unknown_column_is_reported_before_any_row() {
        let rows = sheet(&[&["文号", "文件名称", "备注"], &["A", "B", "C"]]);
        let errors = read(&rows).unwrap_err();
        let named: Vec<(&str, &str)> = errors
            .iter()
            .map(|e| (e.column.as_str(), e.reason.as_str()))
            .collect();
        assert!(named.contains(&("备注", "不是清单的列")), "{named:?}");
        assert!(named.contains(&("印发日期", "缺少该列")));
        assert!(named.contains(&("起草单位", "缺少该列")));
        assert!(errors.iter().all(|e| e.row == 1));
    }

    #[test]
    fn every_bad_row_is_named_and_nothing_is_imported() {
        let rows = sheet(&[
            HEAD,
            &[
                "沪府规〔2021〕5号",
                "某管理办法",
                "2021-13-01",
                "市司法局",
                "",
            ],
            &[
                "沪府规[2021]5号",
                "另一办法",
                "2021-01-01",
                "市司法局",
                "暂缓",
            ],
            &["沪府规〔2021〕6号", "", "2021-01-01", "市司法局", ""],
            &[
                "沪府规〔2021〕7号",
                "好的一行",
                "2021-01-01",
                "市司法局",
                "",
            ],
        ]);
        let errors = read(&rows).unwrap_err();
        let at: Vec<(usize, &str)> = errors.iter().map(|e| (e.row, e.column.as_str())).collect();
        assert_eq!(
            at,
            [
                (2, "印发日期"),
                (3, "清理意见"),
                (3, "文号"),
                (4, "文件名称")
            ]
        );
        assert!(errors[2].reason.contains("第 2 行"));
    }

    #[test]
    fn an_empty_sheet_imports_nothing() {
        assert!(read(&[]).is_err());
        assert!(read(&sheet(&[HEAD])).is_err());
    }

    #[test]
    fn dates_that_do_not_exist_are_not_dates() {
        assert_eq!(
            parse_date("2024/2/29").map(crate::calendar::ymd),
            Some("2024-02-29".into())
        );
        assert!(parse_date("2023-02-29").is_none());
        assert!(parse_date("2023-02").is_none());
        assert!(parse_date("明年").is_none());
        assert!(parse_date("-5").is_none());
    }

    #[test]
    fn an_uploaded_workbook_is_read_with_its_date_cells() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (c, h) in ["文件名称", "文号", "印发日期", "起草单位"]
            .iter()
            .enumerate()
        {
            sheet.write_string(0, c as u16, *h).unwrap();
        }
        sheet.write_string(1, 0, "某管理办法").unwrap();
        sheet.write_string(1, 1, "沪府规〔2021〕5号").unwrap();
        let day = Date::from_calendar_date(2021, Month::March, 5).unwrap();
        crate::xlsx::write_date(sheet, 1, 2, day).unwrap();
        sheet.write_string(1, 3, "市司法局").unwrap();
        let docs = read_xlsx(&book.save_to_buffer().unwrap()).unwrap();
        assert_eq!(docs[0].document.issued_on, "2021-03-05");
        let bad = read_xlsx(b"not a workbook").unwrap_err();
        assert_eq!(
            (bad[0].row, bad[0].reason.as_str()),
            (0, "不是有效的 .xlsx 文件")
        );
    }
}
