//! Baselines: the findings a team has recorded as known (`check --write-baseline FILE`), so
//! that `--baseline FILE` fails only on new ones.
//!
//! A finding is recorded by its SARIF fingerprint (`report::sarif::fingerprint`: rule,
//! service, flow and YAML path, never the line), so edits that move it keep it baselined. The
//! file is small, versioned JSON, sorted so the same findings always give the same bytes; the
//! rule, service, flow and path beside each fingerprint are for people reading a diff of it.

use crate::config::Refused;
use crate::diagnostic::{Code, Diagnostic};
use crate::evaluate::Finding;
use crate::report::sarif::{FINGERPRINT_KEY, fingerprint};
use crate::source::{self, SizeBudget};
use crate::yaml::Span;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::Path;

/// The version of the baseline format this build writes and reads.
pub const VERSION: u32 = 1;

/// A baseline file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineFile {
    pub version: u32,
    pub tool: String,
    /// The kind of fingerprint recorded: the SARIF `partialFingerprints` key.
    pub fingerprint_kind: String,
    /// One entry per fingerprint, sorted by fingerprint.
    pub findings: Vec<Entry>,
}

/// One recorded finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub fingerprint: String,
    pub rule_id: String,
    pub service: String,
    pub flow: String,
    pub path: String,
}

impl BaselineFile {
    /// The baseline of `findings`.
    pub fn of(findings: &[Finding]) -> Self {
        let entries: BTreeSet<Entry> = findings
            .iter()
            .map(|f| Entry {
                fingerprint: fingerprint(f),
                rule_id: f.rule_id.clone(),
                service: f.service.clone(),
                flow: f.flow.clone(),
                path: f.path.to_string(),
            })
            .collect();
        Self {
            version: VERSION,
            tool: "authaudit".to_owned(),
            fingerprint_kind: FINGERPRINT_KEY.to_owned(),
            findings: entries.into_iter().collect(),
        }
    }

    /// Pretty JSON with a trailing newline.
    pub fn render(&self) -> String {
        let mut text = serde_json::to_string_pretty(self)
            .unwrap_or_else(|e| panic!("baseline is not serializable: {e}"));
        text.push('\n');
        text
    }

    /// The fingerprints recorded.
    pub fn fingerprints(&self) -> BTreeSet<String> {
        self.findings
            .iter()
            .map(|e| e.fingerprint.clone())
            .collect()
    }
}

/// A baseline in use: where it came from and what it records.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// The file as users see it.
    pub file: String,
    pub fingerprints: BTreeSet<String>,
}

/// Reads the baseline at `path`.
pub fn load(path: &Path) -> Result<Baseline, Refused> {
    let shown = path.display().to_string();
    let refused = |text: Option<String>, diagnostic: Diagnostic| Refused {
        file: shown.clone(),
        text,
        diagnostics: vec![diagnostic],
    };
    let text = source::read(path, &shown, SizeBudget::default()).map_err(|d| {
        refused(
            None,
            d.with_hint(
                "--baseline takes a file written by `authaudit check --write-baseline FILE`",
            ),
        )
    })?;
    match parse(&shown, &text) {
        Ok(file) => Ok(Baseline {
            file: shown,
            fingerprints: file.fingerprints(),
        }),
        Err(diagnostic) => Err(refused(Some(text), diagnostic)),
    }
}

/// Parses the text of a baseline file.
pub fn parse(shown: &str, text: &str) -> Result<BaselineFile, Diagnostic> {
    let rewrite = "write it again with `authaudit check --write-baseline FILE`";
    let file: BaselineFile = serde_json::from_str(text).map_err(|error| {
        let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Diagnostic::error(
            Code::InvalidBaseline,
            shown,
            format!("not a baseline file: {error}"),
        )
        .with_span(Span::new(
            clamp(error.line().max(1)),
            clamp(error.column().max(1)),
            0,
        ))
        .with_hint(format!(
            "a baseline is the JSON `check --write-baseline` writes; {rewrite}"
        ))
    })?;
    let at_start = Span::new(1, 1, 0);
    if file.version != VERSION {
        return Err(Diagnostic::error(
            Code::InvalidBaseline,
            shown,
            format!(
                "baseline format version {} is not one this authaudit reads ({VERSION})",
                file.version
            ),
        )
        .with_span(at_start)
        .with_hint(rewrite));
    }
    if file.fingerprint_kind != FINGERPRINT_KEY {
        return Err(Diagnostic::error(
            Code::InvalidBaseline,
            shown,
            format!(
                "the baseline records `{}` fingerprints; this authaudit computes `{FINGERPRINT_KEY}`",
                file.fingerprint_kind
            ),
        )
        .with_span(at_start)
        .with_hint(rewrite));
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_baseline_reads_back() {
        let file = BaselineFile {
            version: VERSION,
            tool: "authaudit".to_owned(),
            fingerprint_kind: FINGERPRINT_KEY.to_owned(),
            findings: vec![Entry {
                fingerprint: "ab".repeat(32),
                rule_id: "R".to_owned(),
                service: "s".to_owned(),
                flow: "f".to_owned(),
                path: "flows.f".to_owned(),
            }],
        };
        let text = file.render();
        assert_eq!(parse("b.json", &text).unwrap(), file);
    }

    #[test]
    fn a_broken_baseline_is_located() {
        let error = parse("b.json", "{\n  \"version\": 1,\n  \"tool\" 3\n}").unwrap_err();
        assert_eq!(error.code, Code::InvalidBaseline);
        assert_eq!(error.span.map(|s| s.line), Some(3));
        let old = "{\"version\": 2, \"tool\": \"authaudit\", \"fingerprint_kind\": \"authaudit/v1\", \"findings\": []}";
        assert!(
            parse("b.json", old)
                .unwrap_err()
                .message
                .contains("version 2")
        );
    }
}
