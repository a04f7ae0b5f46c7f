//! `authaudit report --verify REPORT [PATHS]...`: recomputes the digests and findings of the
//! given inputs, with the packs and day the report names, and says whether the report still
//! describes them. A regulator uses it to confirm that the report they were handed is about
//! the files they were shown.

use super::report_command::{AuditArgs, run_audit};
use super::{EXIT_ERROR, EXIT_INVALID, parse_at, print_or_exit};
use crate::report::audit::{self, FileDigest, Verification};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

pub fn run(report: &Path, args: &AuditArgs) -> ExitCode {
    let recorded = match read(report) {
        Ok(recorded) => recorded,
        Err(message) => {
            eprintln!("error: {}: {message}", report.display());
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let at = match (args.at, recorded.rules_in_force_on.as_deref()) {
        (Some(day), _) => Some(day),
        (None, Some(text)) => parse_at(text).ok(),
        (None, None) => None,
    };
    let mut packs = args.packs.clone();
    if packs.packs.is_empty() {
        packs.packs = recorded.packs_run.clone();
    }
    let audit = match run_audit(&args.load, &packs, at) {
        Ok(audit) => audit,
        Err(code) => return code,
    };
    let outcome = audit.outcome(args.fail_on(), args.lang());
    let now = audit::verification(&outcome, &audit.set);
    let mut out = String::new();
    let mut differs = compare_files(&mut out, "input", &recorded.inputs, &now.inputs);
    differs |= compare_files(&mut out, "rule pack", &recorded.rule_packs, &now.rule_packs);
    let before: BTreeSet<&String> = recorded.findings.iter().collect();
    let after: BTreeSet<&String> = now.findings.iter().collect();
    for gone in before.difference(&after) {
        let _ = writeln!(out, "  finding no longer produced: {gone}");
        differs = true;
    }
    for new in after.difference(&before) {
        let _ = writeln!(out, "  finding not in the report: {new}");
        differs = true;
    }
    if differs {
        let _ = writeln!(
            out,
            "{}: does NOT match the inputs (recorded digest {}, now {})",
            report.display(),
            recorded.combined,
            now.combined
        );
        print_or_exit(&out, ExitCode::from(EXIT_INVALID))
    } else {
        let _ = writeln!(
            out,
            "{}: matches the inputs ({} files, {} rule-pack files, {} findings; digest {})",
            report.display(),
            now.inputs.len(),
            now.rule_packs.len(),
            now.findings.len(),
            now.combined
        );
        print_or_exit(&out, ExitCode::SUCCESS)
    }
}

/// Reports every file whose digest changed, that is missing or that was added.
fn compare_files(out: &mut String, kind: &str, before: &[FileDigest], now: &[FileDigest]) -> bool {
    let mut differs = false;
    for old in before {
        match now.iter().find(|f| f.path == old.path) {
            None => {
                let _ = writeln!(out, "  {kind} missing: {}", old.path);
                differs = true;
            }
            Some(new) if new.sha256 != old.sha256 => {
                let _ = writeln!(out, "  {kind} changed: {}", old.path);
                differs = true;
            }
            Some(_) => {}
        }
    }
    for new in now
        .iter()
        .filter(|n| !before.iter().any(|o| o.path == n.path))
    {
        let _ = writeln!(out, "  {kind} not in the report: {}", new.path);
        differs = true;
    }
    differs
}

/// The verification data of a JSON report (its `verification` member) or of an HTML report
/// (the JSON block it embeds).
fn read(report: &Path) -> Result<Verification, String> {
    let text = std::fs::read_to_string(report).map_err(|e| e.to_string())?;
    let json = if text.trim_start().starts_with('{') {
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        value
            .get("verification")
            .cloned()
            .ok_or("this JSON report has no `verification` member")?
    } else {
        let start_tag = format!(
            "<script type=\"application/json\" id=\"{}\">",
            audit::VERIFICATION_ID
        );
        let start = text
            .find(&start_tag)
            .ok_or("no authaudit verification block: not an authaudit HTML report")?
            + start_tag.len();
        let end = text[start..]
            .find("</script>")
            .ok_or("the verification block is not closed")?;
        serde_json::from_str(&text[start..start + end]).map_err(|e| e.to_string())?
    };
    serde_json::from_value(json).map_err(|e| format!("unreadable verification data: {e}"))
}
