//! What every `.xlsx` export shares: dates and times as real cells that a
//! spreadsheet can sort, filter and count by, in Shanghai time, since the
//! periods they sit in are counted in Shanghai days (JSON answers keep
//! RFC 3339 with its offset).

use axum::http::header;
use axum::response::{IntoResponse, Response};
use rust_xlsxwriter::{ExcelDateTime, Format, Worksheet, XlsxError};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

use crate::calendar::SHANGHAI;

/// The number formats, in the Chinese way of writing them.
pub fn date_format() -> Format {
    Format::new().set_num_format("yyyy\"年\"m\"月\"d\"日\"")
}

pub fn datetime_format() -> Format {
    Format::new().set_num_format("yyyy-mm-dd hh:mm:ss")
}

fn excel_date(d: Date) -> Result<ExcelDateTime, XlsxError> {
    let year = u16::try_from(d.year()).map_err(|_| XlsxError::DateTimeRangeError(d.to_string()))?;
    ExcelDateTime::from_ymd(year, u8::from(d.month()), d.day())
}

/// A calendar date as a date cell.
pub fn write_date(sheet: &mut Worksheet, row: u32, col: u16, d: Date) -> Result<(), XlsxError> {
    sheet.write_datetime_with_format(row, col, excel_date(d)?, &date_format())?;
    Ok(())
}

/// An instant as a date-time cell in Shanghai time.
pub fn write_instant(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    t: OffsetDateTime,
) -> Result<(), XlsxError> {
    let local = t.to_offset(SHANGHAI);
    let cell = excel_date(local.date())?.and_hms(
        u16::from(local.hour()),
        local.minute(),
        local.second(),
    )?;
    sheet.write_datetime_with_format(row, col, cell, &datetime_format())?;
    Ok(())
}

/// An RFC 3339 text (as the JSON answers carry it) as a date-time cell; an
/// empty text leaves the cell empty.
pub fn write_rfc3339(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    text: &str,
) -> Result<(), XlsxError> {
    if text.is_empty() {
        return Ok(());
    }
    match OffsetDateTime::parse(text, &Rfc3339) {
        Ok(t) => write_instant(sheet, row, col, t),
        Err(_) => sheet.write_string(row, col, text).map(|_| ()),
    }
}

pub const CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A workbook written by `build` on the blocking pool (writing and zipping
/// it is CPU work), answered as a download named `file_name` (ASCII).
pub async fn download(
    file_name: String,
    build: impl FnOnce() -> Result<Vec<u8>, XlsxError> + Send + 'static,
) -> crate::error::ApiResult<Response> {
    let bytes = tokio::task::spawn_blocking(build)
        .await
        .map_err(anyhow::Error::from)?
        .map_err(|e| anyhow::anyhow!("writing the workbook: {e}"))?;
    let disposition = format!("attachment; filename=\"{file_name}\"");
    Ok((
        [
            (header::CONTENT_TYPE, CONTENT_TYPE.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

/// The first sheet of an uploaded workbook as text, row by row: a string as
/// written, a number without a fraction when it has none, a date cell as
/// its serial number (days since 1899-12-30, which the importers' date
/// reading understands), an empty or error cell as "". Err (in Chinese, for
/// the person who uploaded it): not an `.xlsx`, no sheet, or more than
/// `max_rows` rows.
pub fn read_first_sheet(bytes: &[u8], max_rows: usize) -> Result<Vec<Vec<String>>, String> {
    use calamine::{Data, Reader, Xlsx};
    let mut book = Xlsx::new(std::io::Cursor::new(bytes)).map_err(|_| "不是有效的 .xlsx 文件")?;
    let range = book
        .worksheet_range_at(0)
        .ok_or("工作簿中没有工作表")?
        .map_err(|_| "工作表无法读取")?;
    if range.height() > max_rows {
        return Err(format!("行数超过 {max_rows} 行"));
    }
    let text = |cell: &Data| match cell {
        Data::String(s) | Data::DateTimeIso(s) => s.trim().to_owned(),
        Data::Int(n) => n.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => format!("{}", d.as_f64().trunc() as i64),
        Data::DurationIso(_) | Data::Error(_) | Data::Empty => String::new(),
    };
    Ok(range.rows().map(|r| r.iter().map(text).collect()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_xlsxwriter::Workbook;

    #[test]
    fn a_sheet_reads_back_as_text_with_dates_as_serials() {
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, " 文号 ").unwrap();
        sheet.write_number(0, 1, 5.0).unwrap();
        sheet.write_number(0, 2, 2.5).unwrap();
        let day = Date::from_calendar_date(2020, time::Month::June, 18).unwrap();
        write_date(sheet, 1, 0, day).unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let rows = read_first_sheet(&bytes, 10).unwrap();
        assert_eq!(rows[0], ["文号", "5", "2.5"]);
        assert_eq!(rows[1][0], "44000");
        assert_eq!(read_first_sheet(&bytes, 1).unwrap_err(), "行数超过 1 行");
        assert!(read_first_sheet(b"%PDF-1.4", 10).is_err());
    }
}
