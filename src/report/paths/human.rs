//! `paths` for people: each chain as numbered actions with the controls defeated, the odds,
//! the notices and the fixes; then the fixes ranked across chains. Every string from a policy
//! or a profile goes through [`visible`], so nothing in an input reaches the terminal raw.

use super::chance_text;
use crate::load::PolicyTree;
use crate::paths::options::{How, Subject};
use crate::paths::{Analysis, Chain};
use crate::report::human::{write_failed_files, write_input_diagnostics};
use crate::report::snippet::{Style, visible_line as visible};
use std::fmt::Write as _;

pub fn render(analysis: &Analysis, tree: &PolicyTree, color: bool) -> String {
    let style = Style { color };
    let mut out = String::new();
    write_input_diagnostics(&mut out, tree, style);
    for chain in &analysis.chains {
        write_chain(&mut out, chain, style);
    }
    if !analysis.ranked_fixes.is_empty() {
        let _ = writeln!(out, "{}", style.bold("fixes ranked by chains broken:"));
        for fix in &analysis.ranked_fixes {
            let what: Vec<String> = fix
                .changes
                .iter()
                .map(|c| {
                    format!(
                        "{}/{}: {}",
                        visible(&c.service),
                        visible(&c.flow),
                        c.summary
                    )
                })
                .collect();
            let _ = writeln!(out, "  {:>4}  {}", fix.breaks, what.join(" + "));
        }
        out.push('\n');
    }
    for bound in &analysis.bounds {
        let _ = writeln!(
            out,
            "{}: {}:{}:{}: {} reached its limit of {} for {}; results may be incomplete",
            style.yellow("bound"),
            visible(&bound.at.file),
            bound.at.line,
            bound.at.column,
            bound.what,
            bound.limit,
            visible(&bound.attacker),
        );
    }
    write_failed_files(&mut out, tree);
    let determined = analysis.determined().count();
    let _ = writeln!(
        out,
        "summary: {} services, {} attacker profiles: {} chains to money out, {} more that rest on facts the policies do not describe",
        analysis.services,
        analysis.attackers.len(),
        determined,
        analysis.chains.len() - determined
    );
    out
}

fn write_chain(out: &mut String, chain: &Chain, style: Style) {
    let status = if chain.determined {
        style.red("chain")
    } else {
        style.yellow("undetermined chain")
    };
    let _ = writeln!(
        out,
        "{status} {} [{}]: money out of {}{} — chance per victim: {}",
        chain.id,
        visible(&chain.attacker),
        chain.source.kind.replace('_', " "),
        chain
            .source
            .service
            .as_deref()
            .map(|s| format!(" at {}", visible(s)))
            .unwrap_or_default(),
        chance_text(chain.chance),
    );
    for (n, step) in chain.steps.iter().enumerate() {
        let account = match step.account {
            Subject::AttackerAccount => "attacker's account",
            Subject::VictimAccount => "victim's account",
        };
        let flow = if step.at.flow.is_empty() {
            "(account opening, not described)".to_owned()
        } else {
            visible(&step.at.flow).into_owned()
        };
        let _ = writeln!(
            out,
            "  {}. {}/{} ({account}) at {}:{}:{}",
            n + 1,
            visible(&step.at.service),
            flow,
            visible(&step.at.file),
            step.at.line,
            step.at.column
        );
        for v in &step.via {
            let _ = writeln!(
                out,
                "       via {}/{} at {}:{}:{}",
                visible(&v.service),
                visible(&v.flow),
                visible(&v.file),
                v.line,
                v.column
            );
        }
        let _ = writeln!(out, "       gains: {}", visible(&step.gains));
        for d in &step.defeated {
            let _ = writeln!(
                out,
                "       - {}/{} step {}: {}: {}",
                visible(&d.service),
                visible(&d.flow),
                d.step + 1,
                visible(&d.factor),
                how_text(&d.how)
            );
        }
    }
    for u in &chain.depends_on {
        let _ = writeln!(
            out,
            "  cannot judge: {}:{}:{}: {}",
            visible(&u.file),
            u.line,
            u.column,
            visible(&u.what)
        );
    }
    let told: Vec<String> = chain
        .notices
        .iter()
        .map(|n| match (n.status, n.reaches) {
            ("sent", Some(who)) => format!(
                "{} {} by {} reaches the {}",
                visible(&n.service),
                n.event,
                if n.channels.is_empty() {
                    "an undescribed channel".to_owned()
                } else {
                    n.channels.join("/")
                },
                who.replace('_', " and the ")
            ),
            ("not_sent", _) => format!("{} {}: none sent", visible(&n.service), n.event),
            _ => format!("{} {}: not described", visible(&n.service), n.event),
        })
        .collect();
    if !told.is_empty() {
        let _ = writeln!(out, "  notices: {}", told.join("; "));
    }
    let risk = match (&chain.at_risk.amount, &chain.at_risk.currency) {
        (Some(a), Some(c)) => format!("{a} {c} per day ({})", chain.at_risk.basis),
        _ => chain.at_risk.basis.clone(),
    };
    let _ = writeln!(out, "  at risk: {risk}");
    if chain.fixes.is_empty() {
        let _ = writeln!(out, "  fixes: none found of at most two changes");
    }
    for fix in &chain.fixes {
        let what: Vec<String> = fix
            .changes
            .iter()
            .map(|c| {
                let edits: Vec<String> = c
                    .edits
                    .iter()
                    .map(|e| format!("{} {} {}", e.action, visible(&e.path), visible(&e.value)))
                    .collect();
                format!(
                    "{}/{}: {} ({})",
                    visible(&c.service),
                    visible(&c.flow),
                    c.summary,
                    edits.join("; ")
                )
            })
            .collect();
        let _ = writeln!(out, "  fix: {}", what.join(" + "));
    }
    out.push('\n');
}

pub fn how_text(how: &How) -> String {
    match how {
        How::Known => "known to the attacker".into(),
        How::AttackersOwn => "the attacker's own (its account)".into(),
        How::SuppliedContact => "sent to a contact the attacker supplies in the flow".into(),
        How::AttackersRecord { service } => {
            format!(
                "sent to the contact the attacker registered at {}",
                visible(service)
            )
        }
        How::ChangedContact { service, contact } => format!(
            "sent to {}'s contact `{}`, which the attacker replaced",
            visible(service),
            visible(contact)
        ),
        How::SetEarlier { service } => {
            format!("set by the attacker earlier at {}", visible(service))
        }
        How::BoundDevice { service } => format!(
            "on the attacker's device, bound earlier at {}",
            visible(service)
        ),
        How::Guessed { chance, tries } => {
            format!("guessed ({}; {})", visible(tries), chance_text(*chance))
        }
        How::Relayed => "relayed from the victim in real time".into(),
        How::SimSwap => "received through a SIM swap of the victim's number".into(),
        How::NotTurnedOn => "skipped: only holders who turned it on pass it".into(),
    }
}
