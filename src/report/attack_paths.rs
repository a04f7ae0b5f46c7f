//! The attack-path section of the Markdown and HTML reports: the analysis of `paths` made into
//! display rows once, so the templates only lay them out. Diagrams come from the paths
//! renderers: Mermaid for Markdown (GitHub draws it), inline SVG for HTML (no script).

use crate::paths::options::Subject;
use crate::paths::{Analysis, Chain};
use crate::report::paths::human::how_text;
use crate::report::paths::{chance_text, mermaid, source_text, svg};
use serde::Serialize;

/// What the report templates show of an attack-path analysis.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AttackPathsView {
    /// The profiles run, with their titles.
    pub attackers: Vec<AttackerRow>,
    pub determined: usize,
    pub undetermined: usize,
    pub chains: Vec<ChainView>,
    pub ranked_fixes: Vec<RankedFixRow>,
    /// Bounds reached, in words with their place: the results may be incomplete.
    pub bounds: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AttackerRow {
    pub id: String,
    pub title: String,
    pub determined: usize,
    pub undetermined: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChainView {
    pub id: String,
    pub attacker: String,
    pub determined: bool,
    pub chance: String,
    pub source: String,
    pub steps: Vec<StepView>,
    pub cannot_judge: Vec<String>,
    pub notices: Vec<String>,
    pub at_risk: String,
    pub fixes: Vec<String>,
    /// A Mermaid flowchart (Markdown report).
    pub mermaid: String,
    /// An inline SVG, escaped by construction (HTML report).
    pub svg: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepView {
    pub number: usize,
    pub flow: String,
    /// Whether the flow runs on an account the attacker opened (else the victim's).
    pub attacker_account: bool,
    pub place: String,
    pub via: Vec<String>,
    pub gains: String,
    pub defeated: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RankedFixRow {
    pub breaks: usize,
    pub changes: String,
}

fn flow_of(service: &str, flow: &str) -> String {
    if flow.is_empty() {
        format!("{service} (account opening, not described)")
    } else {
        format!("{service}/{flow}")
    }
}

impl AttackPathsView {
    pub fn new(analysis: &Analysis, titles: &[(String, String)]) -> Self {
        let attackers = analysis
            .attackers
            .iter()
            .map(|id| {
                let mine = analysis.chains.iter().filter(|c| &c.attacker == id);
                let determined = mine.clone().filter(|c| c.determined).count();
                AttackerRow {
                    id: id.clone(),
                    title: titles
                        .iter()
                        .find(|(i, _)| i == id)
                        .map(|(_, t)| t.clone())
                        .unwrap_or_default(),
                    determined,
                    undetermined: mine.count() - determined,
                }
            })
            .collect();
        let determined = analysis.determined().count();
        Self {
            attackers,
            determined,
            undetermined: analysis.chains.len() - determined,
            chains: analysis.chains.iter().map(chain_view).collect(),
            ranked_fixes: analysis
                .ranked_fixes
                .iter()
                .map(|f| RankedFixRow {
                    breaks: f.breaks,
                    changes: f
                        .changes
                        .iter()
                        .map(|c| format!("{}: {}", flow_of(&c.service, &c.flow), c.summary))
                        .collect::<Vec<_>>()
                        .join(" + "),
                })
                .collect(),
            bounds: analysis
                .bounds
                .iter()
                .map(|b| {
                    format!(
                        "{}:{}:{}: {} reached its limit of {} ({})",
                        b.at.file, b.at.line, b.at.column, b.what, b.limit, b.attacker
                    )
                })
                .collect(),
        }
    }
}

fn chain_view(chain: &Chain) -> ChainView {
    ChainView {
        id: chain.id.clone(),
        attacker: chain.attacker.clone(),
        determined: chain.determined,
        chance: chance_text(chain.chance),
        source: source_text(chain),
        steps: chain
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| StepView {
                number: i + 1,
                flow: flow_of(&s.at.service, &s.at.flow),
                attacker_account: s.account == Subject::AttackerAccount,
                place: format!("{}:{}:{}", s.at.file, s.at.line, s.at.column),
                via: s
                    .via
                    .iter()
                    .map(|v| {
                        format!(
                            "{} ({}:{}:{})",
                            flow_of(&v.service, &v.flow),
                            v.file,
                            v.line,
                            v.column
                        )
                    })
                    .collect(),
                gains: s.gains.clone(),
                defeated: s
                    .defeated
                    .iter()
                    .map(|d| {
                        format!(
                            "{} step {}: {}: {}",
                            flow_of(&d.service, &d.flow),
                            d.step + 1,
                            d.factor,
                            how_text(&d.how)
                        )
                    })
                    .collect(),
            })
            .collect(),
        cannot_judge: chain
            .depends_on
            .iter()
            .map(|u| format!("{}:{}:{}: {}", u.file, u.line, u.column, u.what))
            .collect(),
        notices: chain
            .notices
            .iter()
            .map(|n| match (n.status, n.reaches) {
                ("sent", Some(who)) => format!(
                    "{} {}: sent by {} to the {}",
                    n.service,
                    n.event,
                    if n.channels.is_empty() {
                        "an undescribed channel".to_owned()
                    } else {
                        n.channels.join("/")
                    },
                    who.replace('_', " and the ")
                ),
                ("not_sent", _) => format!("{} {}: none sent", n.service, n.event),
                _ => format!("{} {}: not described", n.service, n.event),
            })
            .collect(),
        at_risk: match (&chain.at_risk.amount, &chain.at_risk.currency) {
            (Some(a), Some(c)) => format!("{a} {c} per day ({})", chain.at_risk.basis),
            _ => chain.at_risk.basis.clone(),
        },
        fixes: chain
            .fixes
            .iter()
            .map(|f| {
                f.changes
                    .iter()
                    .map(|c| {
                        let edits: Vec<String> = c
                            .edits
                            .iter()
                            .map(|e| format!("{} `{}` {}", e.action, e.path, e.value))
                            .collect();
                        format!(
                            "{}: {} ({})",
                            flow_of(&c.service, &c.flow),
                            c.summary,
                            edits.join("; ")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" + ")
            })
            .collect(),
        mermaid: mermaid::flowchart(chain),
        // Inline in HTML the SVG namespace is implied; the report names no web address
        // outside its citations.
        svg: svg::chain_svg(chain).replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1),
    }
}
