//! PDF documents with their Chinese text in an embedded, subsetted CJK font
//! (krilla), so that they print the same everywhere and the text can be
//! extracted: the notices of the case flow (`disclosure/pdf.rs`) and the
//! annual report's tables (`annual_report/pdf.rs`) share the font, the line
//! breaking and the download.

mod blocks;
mod font;

pub use blocks::{Block, Table, render_blocks};
pub use font::{CjkFont, text_width, wrap};

use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Renders off the async runtime (font subsetting is CPU-bound) and answers
/// the file as a download; 503 when the machine has no CJK font.
pub async fn download<F>(app: &AppState, file_name: String, render: F) -> ApiResult<Response>
where
    F: FnOnce(&CjkFont) -> Result<Vec<u8>, String> + Send + 'static,
{
    let font = app.notice_font.clone().ok_or(ApiError::Unavailable)?;
    let name = file_name.clone();
    let pdf = tokio::task::spawn_blocking(move || render(&font))
        .await
        .map_err(anyhow::Error::from)?
        .map_err(|e| anyhow::anyhow!("rendering {name}: {e}"))?;
    let disposition = format!("attachment; filename=\"{file_name}\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        pdf,
    )
        .into_response())
}
