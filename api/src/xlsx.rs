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
