//! One chain as a small inline SVG for the HTML report: a left-to-right row of boxes, one per
//! flow the chain passes through (the hops of a link included), joined by arrows. Red borders
//! for a determined chain, amber and dashed for one that rests on undescribed facts.
//!
//! The layout is computed from the text alone (a fixed width per terminal column, no font
//! measured), so the same chain gives the same bytes everywhere. Labels longer than a box are
//! cut with an ellipsis; each box's `<title>` keeps the full text. No script, no style, no id
//! (several diagrams share one HTML page), no reference to anything outside the element.

use super::{chance_text, flow_label, shown, source_text};
use crate::paths::options::Subject;
use crate::paths::{Chain, Place};
use std::fmt::Write as _;
use unicode_width::UnicodeWidthChar;

/// Pixels per terminal column at the 12px font size used; double-width characters count two.
const COLUMN: u32 = 7;
const MAX_COLUMNS: u32 = 28;
const PAD: u32 = 10;
const MIN_BOX: u32 = 64;
const BOX_HEIGHT: u32 = 40;
const GAP: u32 = 34;
const MARGIN: u32 = 8;
const CAPTION: u32 = 16;
const DETERMINED: &str = "#b91c1c";
const UNDETERMINED: &str = "#d97706";

struct FlowBox {
    caption: String,
    service: String,
    flow: String,
    title: String,
    width: u32,
}

pub fn chain_svg(chain: &Chain) -> String {
    let boxes = flow_boxes(chain);
    let gaps = u32::try_from(boxes.len().saturating_sub(1)).unwrap_or(u32::MAX);
    let width = boxes
        .iter()
        .fold(2 * MARGIN, |w, b| w.saturating_add(b.width))
        .saturating_add(gaps.saturating_mul(GAP));
    let height = 2 * MARGIN + CAPTION + BOX_HEIGHT;
    let (colour, dash) = if chain.determined {
        (DETERMINED, "")
    } else {
        (UNDETERMINED, " stroke-dasharray=\"5 3\"")
    };
    let status = if chain.determined {
        "chain"
    } else {
        "undetermined chain"
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" font-family=\"sans-serif\" font-size=\"12\">"
    );
    let _ = writeln!(
        out,
        "<title>{}</title>",
        xml(&format!(
            "{status} {} ({}): {}; chance per victim: {}",
            chain.id,
            shown(&chain.attacker),
            source_text(chain),
            chance_text(chain.chance)
        ))
    );
    let top = MARGIN + CAPTION;
    let middle = top + BOX_HEIGHT / 2;
    let mut x = MARGIN;
    for (i, b) in boxes.iter().enumerate() {
        let centre = x + b.width / 2;
        let _ = writeln!(out, "<g>");
        let _ = writeln!(out, "<title>{}</title>", xml(&b.title));
        let _ = writeln!(
            out,
            "<text x=\"{x}\" y=\"{}\" font-size=\"10\" fill=\"#4b5563\">{}</text>",
            MARGIN + 10,
            xml(&b.caption)
        );
        let _ = writeln!(
            out,
            "<rect x=\"{x}\" y=\"{top}\" width=\"{}\" height=\"{BOX_HEIGHT}\" rx=\"4\" fill=\"#ffffff\" stroke=\"{colour}\" stroke-width=\"2\"{dash}/>",
            b.width
        );
        let _ = writeln!(
            out,
            "<text x=\"{centre}\" y=\"{}\" text-anchor=\"middle\" font-weight=\"bold\" fill=\"#111827\">{}</text>",
            top + 16,
            xml(&b.service)
        );
        let _ = writeln!(
            out,
            "<text x=\"{centre}\" y=\"{}\" text-anchor=\"middle\" fill=\"#111827\">{}</text>",
            top + 32,
            xml(&b.flow)
        );
        let _ = writeln!(out, "</g>");
        x = x.saturating_add(b.width);
        if i + 1 < boxes.len() {
            let tip = x + GAP - 2;
            let _ = writeln!(
                out,
                "<line x1=\"{}\" y1=\"{middle}\" x2=\"{}\" y2=\"{middle}\" stroke=\"{colour}\" stroke-width=\"2\"{dash}/>",
                x + 2,
                tip - 7
            );
            let _ = writeln!(
                out,
                "<polygon points=\"{tip},{middle} {},{} {},{}\" fill=\"{colour}\"/>",
                tip - 8,
                middle - 5,
                tip - 8,
                middle + 5
            );
            x = x.saturating_add(GAP);
        }
    }
    out.push_str("</svg>\n");
    out
}

fn flow_boxes(chain: &Chain) -> Vec<FlowBox> {
    let mut boxes = Vec::new();
    for (n, step) in chain.steps.iter().enumerate() {
        let account = match step.account {
            Subject::AttackerAccount => "attacker's account",
            Subject::VictimAccount => "victim's account",
        };
        let title = format!(
            "{}. {}/{} ({account}) at {}: gains {}",
            n + 1,
            shown(&step.at.service),
            flow_label(&step.at),
            location(&step.at),
            shown(&step.gains)
        );
        boxes.push(flow_box((n + 1).to_string(), &step.at, title));
        for v in &step.via {
            let title = format!(
                "via {}/{} at {}",
                shown(&v.service),
                flow_label(v),
                location(v)
            );
            boxes.push(flow_box("via".to_owned(), v, title));
        }
    }
    boxes
}

fn flow_box(caption: String, place: &Place, title: String) -> FlowBox {
    let service = clip(&shown(&place.service));
    let flow = clip(&flow_label(place));
    let widest = [&caption, &service, &flow]
        .iter()
        .map(|t| columns(t))
        .max()
        .unwrap_or(0);
    FlowBox {
        caption,
        service,
        flow,
        title,
        width: (widest * COLUMN + 2 * PAD).max(MIN_BOX),
    }
}

fn location(place: &Place) -> String {
    format!("{}:{}:{}", shown(&place.file), place.line, place.column)
}

fn columns(text: &str) -> u32 {
    text.chars()
        .map(|c| u32::try_from(c.width().unwrap_or(0)).unwrap_or(0))
        .fold(0, u32::saturating_add)
}

/// At most [`MAX_COLUMNS`] columns, the last one an ellipsis when the text is cut.
fn clip(text: &str) -> String {
    if columns(text) <= MAX_COLUMNS {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = u32::try_from(c.width().unwrap_or(0)).unwrap_or(0);
        if used + w > MAX_COLUMNS - 1 {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// Text content and attribute values alike. Control characters never get here: [`shown`] has
/// written them out.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{MAX_COLUMNS, clip, columns};

    #[test]
    fn long_labels_are_cut_to_the_box_by_display_width() {
        let wide = "銀行".repeat(20);
        let cut = clip(&wide);
        assert!(columns(&cut) <= MAX_COLUMNS, "{cut}");
        assert!(cut.ends_with('…'));
        assert_eq!(clip("short"), "short");
    }
}
