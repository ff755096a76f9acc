//! The CJK font, and how wide its text is: a system font file (Debian's
//! fonts-wqy-microhei by default, or `disclosure.notice_font`), read once
//! at start.

use std::path::Path;

use krilla::text::Font;

/// Where a CJK font is looked for when none is configured: (file, index in
/// the collection of its Simplified Chinese face).
const SEARCH: &[(&str, u32)] = &[
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
];

/// The font documents are set in.
#[derive(Clone)]
pub struct CjkFont(pub(crate) Font);

impl CjkFont {
    /// The configured font file (`path`, face `index`), or the first CJK
    /// font found on the system; None when there is none.
    pub fn load(path: &str, index: u32) -> Option<Self> {
        let candidates: Vec<(&str, u32)> = if path.is_empty() {
            SEARCH.to_vec()
        } else {
            vec![(path, index)]
        };
        candidates.into_iter().find_map(|(file, index)| {
            let data = std::fs::read(Path::new(file)).ok()?;
            let font = Font::new(data.into(), index)?;
            tracing::info!(file, index, "CJK font loaded");
            Some(CjkFont(font))
        })
    }
}

/// Display width of `c` in ems: CJK and full-width forms are square, the
/// rest about half as wide (generous, so lines never overrun).
fn width(c: char) -> f32 {
    if (c as u32) < 0x2E80 { 0.6 } else { 1.0 }
}

/// The width of `text` set at `size` points.
pub fn text_width(text: &str, size: f32) -> f32 {
    text.chars().map(width).sum::<f32>() * size
}

/// Breaks `text` into lines at most `max_em` ems wide, keeping its own line
/// breaks and leading full-width indentation.
pub fn wrap(text: &str, max_em: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        let mut used = 0.0;
        for c in paragraph.chars() {
            let w = width(c);
            if used + w > max_em && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                used = 0.0;
            }
            line.push(c);
            used += w;
        }
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_wrap_by_width_and_keep_their_breaks() {
        let lines = wrap(&format!("{}\n短行", "政".repeat(45)), 37.0);
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].chars().count(), 37);
        assert_eq!(lines[1].chars().count(), 8);
        assert_eq!(lines[2], "短行");
        // Latin text is narrower: more of it fits on a line.
        assert_eq!(wrap(&"a".repeat(100), 37.0)[0].len(), 61);
    }
}
