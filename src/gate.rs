//! The gate: which findings count against `--fail-on`. A finding an active waiver covers is
//! waived; one the baseline records is baselined; the others are open, and only open findings
//! at or above the threshold fail a run.
//!
//! Also the waiver register every report lists: each waiver with its state on the day
//! audited (active, expired, stale) and the findings it covers, and a warning for each expired
//! or stale waiver, located at the waiver. Judges no policy and renders nothing.

use crate::baseline::Baseline;
use crate::diagnostic::{Code, Diagnostic};
use crate::evaluate::Finding;
use crate::model::{Day, format_day};
use crate::report::sarif::fingerprint;
use crate::waivers::{LoadedWaiver, WaiverSet};

/// What the gate made of one finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Counts against `--fail-on`.
    Open,
    /// Covered by the waiver at this index of [`Gate::register`].
    Waived(usize),
    /// Recorded in the baseline.
    Baselined,
}

impl Disposition {
    /// Every spelling of [`Disposition::as_str`].
    pub const NAMES: [&'static str; 3] = ["open", "waived", "baselined"];

    /// `open`, `waived` or `baselined`, as the JSON report spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Open => "open",
            Disposition::Waived(_) => "waived",
            Disposition::Baselined => "baselined",
        }
    }
}

/// The state of a waiver on the day audited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaiverState {
    /// In force and covering at least one finding.
    Active,
    /// Past its `expires` day: it suppresses nothing and its findings count again.
    Expired,
    /// In force but covering no finding of this run.
    Stale,
}

impl WaiverState {
    pub const ALL: [WaiverState; 3] = [
        WaiverState::Active,
        WaiverState::Expired,
        WaiverState::Stale,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WaiverState::Active => "active",
            WaiverState::Expired => "expired",
            WaiverState::Stale => "stale",
        }
    }
}

/// One waiver of the register.
#[derive(Debug, Clone)]
pub struct RegisterEntry {
    pub waiver: LoadedWaiver,
    pub state: WaiverState,
    /// The findings it covers, by index in the evaluation's findings: those it waives when
    /// active, those it no longer waives when expired.
    pub findings: Vec<usize>,
}

/// A baseline as this run used it.
#[derive(Debug, Clone)]
pub struct BaselineUse {
    /// The file as users see it.
    pub file: String,
    /// Fingerprints it records.
    pub recorded: usize,
    /// Findings of this run it records.
    pub baselined: usize,
    /// Fingerprints it records that no finding of this run has (fixed since, or moved out of
    /// what this run evaluated).
    pub gone: usize,
}

/// The gate's verdict on every finding of a run, and the waiver register.
#[derive(Debug, Clone, Default)]
pub struct Gate {
    /// One per finding, in the evaluation's order; empty when no waiver or baseline was used.
    dispositions: Vec<Disposition>,
    /// One per finding when a baseline was used: whether it records the finding (a waived
    /// finding may be recorded too).
    recorded: Vec<bool>,
    /// The waivers file, as users see it, when one was used.
    pub waivers_file: Option<String>,
    /// Every waiver of the file, in file order.
    pub register: Vec<RegisterEntry>,
    pub baseline: Option<BaselineUse>,
    /// A warning for each expired or stale waiver, in file order.
    pub diagnostics: Vec<Diagnostic>,
    /// The waivers file's text, for snippets.
    text: Option<(String, String)>,
}

/// A gate with no waiver and no baseline: every finding is open.
pub static NONE: Gate = Gate {
    dispositions: Vec::new(),
    recorded: Vec::new(),
    waivers_file: None,
    register: Vec::new(),
    baseline: None,
    diagnostics: Vec::new(),
    text: None,
};

impl Gate {
    /// Decides every finding of `findings` on `today` (the report's date): waivers first, so
    /// a finding both waived and baselined is listed under its waiver.
    pub fn new(
        findings: &[Finding],
        waivers: Option<WaiverSet>,
        baseline: Option<&Baseline>,
        today: Day,
    ) -> Self {
        let mut dispositions = vec![Disposition::Open; findings.len()];
        let mut gate = Gate::default();
        if let Some(set) = waivers {
            gate.waivers_file = Some(set.file.clone());
            gate.text = Some((set.file, set.text));
            for waiver in set.waivers {
                let expired = today > waiver.expires;
                let covered: Vec<usize> = findings
                    .iter()
                    .enumerate()
                    .filter(|(i, f)| {
                        waiver.waiver.covers(&f.rule_id, &f.service, &f.flow)
                            && (expired || dispositions[*i] == Disposition::Open)
                    })
                    .map(|(i, _)| i)
                    .collect();
                let index = gate.register.len();
                let state = match (expired, covered.is_empty()) {
                    (true, _) => WaiverState::Expired,
                    (false, true) => WaiverState::Stale,
                    (false, false) => WaiverState::Active,
                };
                if state == WaiverState::Active {
                    for &i in &covered {
                        dispositions[i] = Disposition::Waived(index);
                    }
                }
                gate.diagnostics
                    .extend(warning(&waiver, state, covered.len(), today));
                gate.register.push(RegisterEntry {
                    waiver,
                    state,
                    findings: covered,
                });
            }
        }
        if let Some(baseline) = baseline {
            let mut seen = std::collections::BTreeSet::new();
            let mut baselined = 0;
            gate.recorded = vec![false; findings.len()];
            for (i, finding) in findings.iter().enumerate() {
                let print = fingerprint(finding);
                if baseline.fingerprints.contains(&print) {
                    gate.recorded[i] = true;
                    seen.insert(print);
                    if dispositions[i] == Disposition::Open {
                        dispositions[i] = Disposition::Baselined;
                        baselined += 1;
                    }
                }
            }
            gate.baseline = Some(BaselineUse {
                file: baseline.file.clone(),
                recorded: baseline.fingerprints.len(),
                baselined,
                gone: baseline.fingerprints.len() - seen.len(),
            });
        }
        gate.dispositions = dispositions;
        gate
    }

    /// What the gate made of the finding at `index` (open when no waiver or baseline was used).
    pub fn disposition(&self, index: usize) -> Disposition {
        self.dispositions
            .get(index)
            .copied()
            .unwrap_or(Disposition::Open)
    }

    /// With a baseline: whether it records the finding at `index` (`None` without one).
    pub fn in_baseline(&self, index: usize) -> Option<bool> {
        self.baseline
            .as_ref()
            .map(|_| self.recorded.get(index).copied().unwrap_or(false))
    }

    pub fn is_open(&self, index: usize) -> bool {
        self.disposition(index) == Disposition::Open
    }

    /// The waiver that waives the finding at `index`, if one does.
    pub fn waiver_of(&self, index: usize) -> Option<&RegisterEntry> {
        match self.disposition(index) {
            Disposition::Waived(at) => self.register.get(at),
            _ => None,
        }
    }

    /// How many findings are waived.
    pub fn waived(&self) -> usize {
        self.count(|d| matches!(d, Disposition::Waived(_)))
    }

    /// How many findings are baselined.
    pub fn baselined(&self) -> usize {
        self.count(|d| d == Disposition::Baselined)
    }

    fn count(&self, which: impl Fn(Disposition) -> bool) -> usize {
        self.dispositions.iter().filter(|d| which(**d)).count()
    }

    /// The waivers file's text by its shown name, for snippets.
    pub fn text(&self, shown: &str) -> Option<&str> {
        self.text
            .as_ref()
            .filter(|(file, _)| file == shown)
            .map(|(_, text)| text.as_str())
    }

    /// Whether a waiver or a baseline was used.
    pub fn in_use(&self) -> bool {
        self.waivers_file.is_some() || self.baseline.is_some()
    }
}

/// The warning an expired or stale waiver calls for.
fn warning(
    waiver: &LoadedWaiver,
    state: WaiverState,
    covered: usize,
    today: Day,
) -> Option<Diagnostic> {
    let w = &waiver.waiver;
    let findings = |n: usize| {
        if n == 1 {
            "1 finding".to_owned()
        } else {
            format!("{n} findings")
        }
    };
    let diagnostic = match state {
        WaiverState::Active => return None,
        WaiverState::Expired => Diagnostic::warning(
            Code::WaiverExpired,
            &waiver.file,
            format!(
                "the waiver of `{}` on {} expired on {} (today is {}); it no longer waives {}",
                w.rule,
                w.selector(),
                format_day(waiver.expires),
                format_day(today),
                findings(covered)
            ),
        )
        .with_span(waiver.expires_span)
        .with_path(waiver.path.key("expires"))
        .with_label("expired")
        .with_hint("fix the finding and remove the waiver, or renew it: a new approval, a new `created` and `expires`"),
        WaiverState::Stale => Diagnostic::warning(
            Code::WaiverStale,
            &waiver.file,
            format!("the waiver of `{}` on {} matches no finding", w.rule, w.selector()),
        )
        .with_span(waiver.span)
        .with_path(waiver.path.key("rule"))
        .with_label("nothing to waive")
        .with_hint("the finding is fixed (remove the waiver) or the rule, service or flow is misspelt; selectors match exactly"),
    };
    Some(diagnostic)
}

#[cfg(test)]
mod tests {
    use super::{Disposition, NONE};

    #[test]
    fn names_cover_every_disposition() {
        for d in [
            Disposition::Open,
            Disposition::Waived(0),
            Disposition::Baselined,
        ] {
            assert!(Disposition::NAMES.contains(&d.as_str()));
        }
        assert_eq!(NONE.disposition(7), Disposition::Open);
        assert_eq!(NONE.in_baseline(0), None);
    }
}
