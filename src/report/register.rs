//! The waiver register and the baselined findings in the terminal report of `check`, and the
//! one-line texts the machine formats give a waived or baselined finding (JUnit's `skipped`,
//! SARIF's suppression justification). Every string from a waivers file reaches a terminal
//! through `visible_line`.

use super::check::CheckOutcome;
use super::snippet::{Style, visible_line, write_diagnostic};
use crate::gate::{RegisterEntry, WaiverState};
use crate::model::format_day;
use std::fmt::Write;

/// The warnings about expired and stale waivers, with snippets of the waivers file.
pub fn write_gate_diagnostics(out: &mut String, outcome: &CheckOutcome<'_>, style: Style) {
    let gate = outcome.gate;
    let source = |name: &str| gate.text(name);
    for diagnostic in &gate.diagnostics {
        write_diagnostic(out, diagnostic, &source, style);
    }
}

/// The register: every waiver with its state and the findings it covers, then the baselined
/// findings. Nothing when neither a waivers file nor a baseline was used.
pub fn write_register(out: &mut String, outcome: &CheckOutcome<'_>, style: Style) {
    let gate = outcome.gate;
    let findings = &outcome.evaluation.findings;
    let location = |i: usize| {
        findings.get(i).map_or_else(String::new, |f| {
            format!(
                "{}[{}] {}:{}:{}",
                f.severity.as_str(),
                visible_line(&f.rule_id),
                visible_line(&f.file),
                f.span.line,
                f.span.column
            )
        })
    };
    if let Some(file) = &gate.waivers_file {
        let _ = writeln!(
            out,
            "{} ({}):",
            style.bold("waiver register"),
            visible_line(file)
        );
        if gate.register.is_empty() {
            let _ = writeln!(out, "  no waivers");
        }
        for entry in &gate.register {
            let _ = writeln!(out, "  {}", headline(entry));
            let _ = writeln!(
                out,
                "    justification: {}",
                visible_line(entry.waiver.waiver.justification.trim())
            );
            let verb = match entry.state {
                WaiverState::Active => "waives",
                WaiverState::Expired => "no longer waives",
                WaiverState::Stale => {
                    let _ = writeln!(out, "    matches no finding");
                    continue;
                }
            };
            for &i in &entry.findings {
                let _ = writeln!(out, "    {verb}: {}", location(i));
            }
        }
    }
    if let Some(baseline) = &gate.baseline {
        let _ = writeln!(
            out,
            "{} ({}): {} recorded, {} baselined in this run, {} no longer found",
            style.bold("baseline"),
            visible_line(&baseline.file),
            baseline.recorded,
            baseline.baselined,
            baseline.gone
        );
        for i in (0..findings.len())
            .filter(|i| gate.disposition(*i) == crate::gate::Disposition::Baselined)
        {
            let _ = writeln!(out, "  baselined: {}", location(i));
        }
    }
    if gate.in_use() {
        out.push('\n');
    }
}

/// `active   RULE on service/flow, until DAY, approved by NAME (TICKET) on DAY`.
fn headline(entry: &RegisterEntry) -> String {
    let w = &entry.waiver;
    let until = match entry.state {
        WaiverState::Expired => format!("expired {}", format_day(w.expires)),
        _ => format!("until {}", format_day(w.expires)),
    };
    format!(
        "{:<7} {} on {}, {until}, {}",
        entry.state.as_str(),
        visible_line(&w.waiver.rule),
        visible_line(&w.waiver.selector()),
        visible_line(&approval(entry))
    )
}

/// `approved by NAME (TICKET) on DAY`.
pub fn approval(entry: &RegisterEntry) -> String {
    let w = &entry.waiver;
    let ticket = w
        .waiver
        .ticket
        .as_ref()
        .map(|t| format!(" ({t})"))
        .unwrap_or_default();
    format!(
        "approved by {}{ticket} on {}",
        w.waiver.approver,
        format_day(w.created)
    )
}

/// What JUnit's `skipped` and SARIF's suppression say of a waived finding.
pub fn waived_reason(entry: &RegisterEntry) -> String {
    let w = &entry.waiver;
    format!(
        "waived until {}, {}: {}",
        format_day(w.expires),
        approval(entry),
        w.waiver.justification.trim()
    )
}

/// The summary line of the gate: what is not counted against `--fail-on`.
pub fn summary_line(outcome: &CheckOutcome<'_>) -> Option<String> {
    let gate = outcome.gate;
    if !gate.in_use() {
        return None;
    }
    let expired = gate
        .register
        .iter()
        .filter(|e| e.state == WaiverState::Expired)
        .count();
    let stale = gate
        .register
        .iter()
        .filter(|e| e.state == WaiverState::Stale)
        .count();
    let mut line = format!(
        "  not counted against --fail-on: {} waived, {} baselined",
        gate.waived(),
        gate.baselined()
    );
    if gate.waivers_file.is_some() {
        let _ = write!(line, "; waivers: {expired} expired, {stale} stale");
    }
    Some(line)
}
