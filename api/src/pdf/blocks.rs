//! A document of titles, headings, paragraphs and ruled tables, laid out on
//! A4 pages with the page count in every footer. A table breaks between
//! rows and repeats its header rows on every page it reaches, so each page
//! can be read (and checked) on its own.

use krilla::Document;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::page::PageSettings;
use krilla::paint::Stroke;
use krilla::text::TextDirection;

use super::font::{CjkFont, text_width, wrap};

// A4 in points, with 2 cm margins.
const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 56.0;
const BOTTOM: f32 = PAGE_H - MARGIN;
const TITLE_SIZE: f32 = 16.0;
const HEADING_SIZE: f32 = 12.0;
const TEXT_SIZE: f32 = 10.5;
const CELL_SIZE: f32 = 8.5;
/// Space inside a cell's rule, in points.
const PAD: f32 = 3.0;
/// Line heights, in multiples of the font size.
const LEADING: f32 = 1.7;
const CELL_LEADING: f32 = 1.3;

pub enum Block {
    /// Centred, larger.
    Title(String),
    Heading(String),
    /// Wrapped, each paragraph indented two characters.
    Text(String),
    Table(Table),
}

/// A ruled table: its columns' relative widths, the rows repeated at the
/// top of every page, and the body. The first column is set flush left,
/// the others centred (they hold figures).
pub struct Table {
    pub widths: Vec<f32>,
    pub head: Vec<Vec<String>>,
    pub rows: Vec<Vec<String>>,
}

#[derive(Clone, Copy, PartialEq)]
enum Align {
    Left,
    Centre,
}

enum Op {
    Text { at: Point, size: f32, text: String },
    Rule(Rect),
}

/// The pages being filled, and the height used on the last.
struct Pages {
    pages: Vec<Vec<Op>>,
    y: f32,
}

impl Pages {
    fn new() -> Self {
        Pages {
            pages: vec![Vec::new()],
            y: MARGIN,
        }
    }

    /// Starts a new page unless `height` more fits on this one (or this
    /// one is still empty: what does not fit on a page never will).
    fn room(&mut self, height: f32) {
        if self.y + height > BOTTOM && self.y > MARGIN {
            self.pages.push(Vec::new());
            self.y = MARGIN;
        }
    }

    fn push(&mut self, op: Op) {
        if let Some(page) = self.pages.last_mut() {
            page.push(op);
        }
    }

    fn text(&mut self, text: &str, size: f32, align: Align, before: f32) {
        let width = PAGE_W - 2.0 * MARGIN;
        for (k, line) in wrap(text, width / size).into_iter().enumerate() {
            let above = if k == 0 { before } else { LEADING - 1.0 };
            self.room(size * (1.0 + above));
            self.y += size * (1.0 + above);
            let x = match align {
                Align::Left => MARGIN,
                Align::Centre => ((PAGE_W - text_width(&line, size)) / 2.0).max(MARGIN),
            };
            let at = Point::from_xy(x, self.y);
            self.push(Op::Text {
                at,
                size,
                text: line,
            });
        }
    }

    fn table(&mut self, t: &Table) {
        let total: f32 = t.widths.iter().sum::<f32>().max(f32::EPSILON);
        let widths: Vec<f32> = t
            .widths
            .iter()
            .map(|w| w / total * (PAGE_W - 2.0 * MARGIN))
            .collect();
        let head: Vec<Laid> = t.head.iter().map(|r| lay(r, &widths)).collect();
        let head_h: f32 = head.iter().map(|r| r.height).sum();
        self.y += TEXT_SIZE * 0.5;
        for (i, row) in t.rows.iter().enumerate() {
            let laid = lay(row, &widths);
            let page = self.pages.len();
            self.room(laid.height + if i == 0 { head_h } else { 0.0 });
            if i == 0 || self.pages.len() != page {
                head.iter().for_each(|h| self.row(h, &widths));
            }
            self.row(&laid, &widths);
        }
    }

    fn row(&mut self, laid: &Laid, widths: &[f32]) {
        let mut x = MARGIN;
        for (c, (lines, w)) in laid.cells.iter().zip(widths).enumerate() {
            if let Some(rect) = Rect::from_xywh(x, self.y, *w, laid.height) {
                self.push(Op::Rule(rect));
            }
            for (k, line) in lines.iter().enumerate() {
                let baseline = self.y + PAD + CELL_SIZE * (1.0 + k as f32 * CELL_LEADING);
                let left = if c == 0 {
                    x + PAD
                } else {
                    x + ((w - text_width(line, CELL_SIZE)) / 2.0).max(PAD)
                };
                let at = Point::from_xy(left, baseline);
                let text = line.clone();
                self.push(Op::Text {
                    at,
                    size: CELL_SIZE,
                    text,
                });
            }
            x += w;
        }
        self.y += laid.height;
    }
}

/// A row's cells broken into lines for their widths, and its height.
struct Laid {
    cells: Vec<Vec<String>>,
    height: f32,
}

fn lay(row: &[String], widths: &[f32]) -> Laid {
    let cells: Vec<Vec<String>> = widths
        .iter()
        .enumerate()
        .map(|(c, w)| {
            let text = row.get(c).map_or("", String::as_str);
            wrap(text, (w - 2.0 * PAD) / CELL_SIZE)
        })
        .collect();
    let lines = cells.iter().map(Vec::len).max().unwrap_or(1).max(1) as f32;
    let height = 2.0 * PAD + CELL_SIZE * (1.0 + (lines - 1.0) * CELL_LEADING) + CELL_SIZE * 0.3;
    Laid { cells, height }
}

/// Renders `blocks` as PDF; answers the bytes. CPU-bound (font subsetting):
/// call it off the async runtime.
pub fn render_blocks(font: &CjkFont, blocks: &[Block]) -> Result<Vec<u8>, String> {
    let mut pages = Pages::new();
    for b in blocks {
        match b {
            Block::Title(t) => pages.text(t, TITLE_SIZE, Align::Centre, 0.5),
            Block::Heading(t) => pages.text(t, HEADING_SIZE, Align::Left, 1.2),
            Block::Text(t) => {
                for paragraph in t.split('\n').filter(|p| !p.trim().is_empty()) {
                    let indented = format!("\u{3000}\u{3000}{}", paragraph.trim());
                    pages.text(&indented, TEXT_SIZE, Align::Left, LEADING - 1.0);
                }
            }
            Block::Table(t) => pages.table(t),
        }
    }
    draw(font, pages.pages)
}

fn draw(font: &CjkFont, pages: Vec<Vec<Op>>) -> Result<Vec<u8>, String> {
    let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or("page size")?;
    let total = pages.len();
    let mut document = Document::new();
    for (n, ops) in pages.into_iter().enumerate() {
        let mut page = document.start_page_with(settings.clone());
        let mut surface = page.surface();
        // Rules first, stroked; then the text, filled (a text drawn while a
        // stroke is set would be outlined).
        surface.set_fill(None);
        surface.set_stroke(Some(Stroke {
            width: 0.5,
            ..Default::default()
        }));
        for op in &ops {
            if let Op::Rule(rect) = op {
                let mut path = PathBuilder::new();
                path.push_rect(*rect);
                if let Some(path) = path.finish() {
                    surface.draw_path(&path);
                }
            }
        }
        surface.set_stroke(None);
        let footer = format!("第 {} 页 共 {} 页", n + 1, total);
        let footer_at = Point::from_xy(
            (PAGE_W - text_width(&footer, 9.0)) / 2.0,
            PAGE_H - MARGIN / 2.0,
        );
        let texts = ops.iter().filter_map(|op| match op {
            Op::Text { at, size, text } => Some((*at, *size, text.as_str())),
            Op::Rule(_) => None,
        });
        for (at, size, text) in texts.chain(std::iter::once((footer_at, 9.0, footer.as_str()))) {
            surface.draw_text(at, font.0.clone(), size, text, false, TextDirection::Auto);
        }
        surface.finish();
        page.finish();
    }
    document.finish().map_err(|e| format!("{e:?}"))
}
