//! Notices as PDF: the layout of an official letter (title, addressee,
//! indented body, signature at the right) in the shared CJK font of
//! [`crate::pdf`].

use krilla::Document;
use krilla::geom::Point;
use krilla::page::PageSettings;
use krilla::text::TextDirection;

use crate::pdf::{CjkFont, text_width, wrap};

// A4 in points, with 2.5 cm margins.
const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 72.0;
const TITLE_SIZE: f32 = 18.0;
const BODY_SIZE: f32 = 12.0;
/// Line height, in multiples of the font size.
const LEADING: f32 = 1.8;

#[derive(Clone, Copy, PartialEq)]
enum Align {
    Left,
    Centre,
    Right,
}

/// One line of the laid-out notice.
struct Line {
    text: String,
    size: f32,
    align: Align,
    /// Space above the line, in multiples of its size.
    before: f32,
}

fn line(text: impl Into<String>, size: f32, align: Align, before: f32) -> Line {
    Line {
        text: text.into(),
        size,
        align,
        before,
    }
}

/// The notice's lines: the title centred; the addressee; the body wrapped,
/// each paragraph indented two characters; the agency, the date and, while
/// the seal is missing, a mark, at the right.
fn lay_out(text: &str, awaiting_seal: bool) -> Vec<Line> {
    let mut parts = text.splitn(2, "\n\n");
    let title = parts.next().unwrap_or_default();
    let rest = parts.next().unwrap_or_default();
    let (body, signature) = rest.rsplit_once("\n\n").unwrap_or((rest, ""));
    let max_em = (PAGE_W - 2.0 * MARGIN) / BODY_SIZE;
    let mut lines = vec![line(title, TITLE_SIZE, Align::Centre, 0.0)];
    for (n, paragraph) in body.split('\n').enumerate() {
        // The first paragraph is the addressee, flush left.
        let text = if n == 0 {
            paragraph.to_owned()
        } else {
            format!("\u{3000}\u{3000}{paragraph}")
        };
        for (k, l) in wrap(&text, max_em).into_iter().enumerate() {
            let before = match (n, k) {
                (0, 0) => 2.0,
                _ => LEADING - 1.0,
            };
            lines.push(line(l, BODY_SIZE, Align::Left, before));
        }
    }
    let mut closing: Vec<&str> = signature.lines().collect();
    if awaiting_seal {
        closing.push("（待加盖印章）");
    }
    for (k, l) in closing.into_iter().enumerate() {
        let before = if k == 0 { 3.0 } else { LEADING - 1.0 };
        lines.push(line(l, BODY_SIZE, Align::Right, before));
    }
    lines
}

/// Renders a notice's text as PDF; answers the bytes. CPU-bound (font
/// subsetting): call it off the async runtime.
pub fn render(font: &CjkFont, text: &str, awaiting_seal: bool) -> Result<Vec<u8>, String> {
    let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or("page size")?;
    let bottom = PAGE_H - MARGIN;
    // Paginate first, so that every page can say how many there are.
    let mut pages: Vec<Vec<(Line, f32)>> = vec![Vec::new()];
    let mut y = MARGIN;
    for l in lay_out(text, awaiting_seal) {
        let mut baseline = y + l.size * (1.0 + l.before);
        if baseline > bottom {
            pages.push(Vec::new());
            baseline = MARGIN + l.size;
        }
        y = baseline;
        if let Some(page) = pages.last_mut() {
            page.push((l, baseline));
        }
    }
    let total = pages.len();
    let mut document = Document::new();
    for (n, lines) in pages.into_iter().enumerate() {
        let mut page = document.start_page_with(settings.clone());
        let mut surface = page.surface();
        let footer = line(
            format!("第 {} 页 共 {} 页", n + 1, total),
            9.0,
            Align::Centre,
            0.0,
        );
        let footer_y = PAGE_H - MARGIN / 2.0;
        for (l, y) in lines.iter().chain(std::iter::once(&(footer, footer_y))) {
            let x = match l.align {
                Align::Left => MARGIN,
                Align::Centre => ((PAGE_W - text_width(&l.text, l.size)) / 2.0).max(MARGIN / 2.0),
                Align::Right => (PAGE_W - MARGIN - text_width(&l.text, l.size)).max(MARGIN),
            };
            surface.draw_text(
                Point::from_xy(x, *y),
                font.0.clone(),
                l.size,
                &l.text,
                false,
                TextDirection::Auto,
            );
        }
        surface.finish();
        page.finish();
    }
    document.finish().map_err(|e| format!("{e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_renders_with_an_embedded_font() {
        let Some(font) = CjkFont::load("", 0) else {
            assert!(std::env::var("CI").is_err(), "CI installs a CJK font");
            return;
        };
        let text = format!(
            "政府信息公开申请答复书\n\n周明：\n{}\n\n徐家汇街道办事处\n2026-03-05",
            "本机关于2026-03-02收到您提出的政府信息公开申请。".repeat(40)
        );
        let pdf = render(&font, &text, true).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        // A subset of the font travels with the document.
        let has = |needle: &[u8]| pdf.windows(needle.len()).any(|w| w == needle);
        assert!(
            has(b"/FontFile2") || has(b"/FontFile3"),
            "font not embedded"
        );
        assert!(has(b"/ToUnicode"), "text not extractable");
        assert!(
            pdf.len() < 200_000,
            "the font is subsetted: {} bytes",
            pdf.len()
        );
        if let Ok(path) = std::env::var("NOTICE_PDF_OUT") {
            std::fs::write(path, &pdf).unwrap();
        }
    }
}
