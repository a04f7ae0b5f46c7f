//! Waivers: accepted risks, each approved by someone for a limited time (`--waivers FILE`,
//! `waivers` in `authaudit.toml`; format in `docs/waivers.md`).
//!
//! Loaded in the stages policy files, rule packs and attacker profiles go through: read under
//! the size budgets, parsed with spans, checked against the JSON Schema derived from
//! [`WaiverFile`] (so a waiver without a justification, an approver or an expiry date is a
//! located `missing-field` error), deserialized, then checked for meaning: real dates, expiry
//! after creation, no longer than the configured maximum, a rule id the packs define, no
//! selector twice. A file with any problem is refused as a whole.
//!
//! Nothing here decides whether a waiver suppresses a finding: that is `crate::gate`'s job,
//! on the day audited.

use crate::config::Refused;
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Day, format_day, parse_date};
use crate::schema::SchemaChecker;
use crate::source::{self, SizeBudget};
use crate::suggest::closest;
use crate::yaml::{self, Node, Span, YamlPath};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::LazyLock;

/// Where users read about the format, for hints.
const DOCS: &str = "docs/waivers.md";

/// The version of the waivers format this build reads.
pub const VERSION: u32 = 1;

/// A waivers file.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "authaudit waivers")]
pub struct WaiverFile {
    /// The format version: 1.
    #[schemars(range(min = 1, max = 1))]
    pub version: u32,
    /// The waivers, each an accepted risk for one rule on one service (or one flow of it).
    pub waivers: Vec<Waiver>,
}

/// One accepted risk: a rule's findings on a service (or one of its flows) do not fail the
/// gate until `expires`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Waiver {
    /// The rule id, exactly as `rules list` shows it, e.g. `JP-JBA-LINK-01`.
    #[schemars(length(min = 1))]
    pub rule: String,
    /// The service id the waiver covers (matched exactly; no globs).
    #[schemars(length(min = 1))]
    pub service: String,
    /// The flow id the waiver covers (matched exactly); without it, every flow of the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub flow: Option<String>,
    /// Why the risk is accepted: the compensating controls, the plan to fix it.
    #[schemars(length(min = 1))]
    pub justification: String,
    /// Who accepted the risk (a name or role that can be asked).
    #[schemars(length(min = 1))]
    pub approver: String,
    /// The ticket or change reference that records the decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub ticket: Option<String>,
    /// The day the waiver was approved, `YYYY-MM-DD`.
    #[schemars(regex(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))]
    pub created: String,
    /// The last day the waiver applies, `YYYY-MM-DD`; from the next day its findings fail the
    /// gate again.
    #[schemars(regex(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))]
    pub expires: String,
}

impl Waiver {
    /// Whether the waiver covers a finding of `rule` on `service` / `flow`.
    pub fn covers(&self, rule: &str, service: &str, flow: &str) -> bool {
        self.rule == rule
            && self.service == service
            && self.flow.as_deref().is_none_or(|f| f == flow)
    }

    /// `service` or `service/flow`, as reports name the selector.
    pub fn selector(&self) -> String {
        match &self.flow {
            Some(flow) => format!("{}/{flow}", self.service),
            None => self.service.clone(),
        }
    }
}

/// The waivers schema, compiled once.
static CHECKER: LazyLock<SchemaChecker> = LazyLock::new(|| {
    let schema = serde_json::to_value(schemars::schema_for!(WaiverFile))
        .unwrap_or_else(|e| panic!("schema of the waivers model is not JSON: {e}"));
    SchemaChecker::from_schema(schema, DOCS)
});

/// The JSON Schema of a waivers file, as the loader checks it.
pub fn waivers_schema() -> serde_json::Value {
    CHECKER.schema().clone()
}

/// A waiver that loaded, with its dates read and where it is written.
#[derive(Debug, Clone)]
pub struct LoadedWaiver {
    pub waiver: Waiver,
    pub created: Day,
    pub expires: Day,
    /// The waivers file as users see it.
    pub file: String,
    /// Its entry in the file, `waivers[3]`.
    pub path: YamlPath,
    /// The entry's rule id, to point at.
    pub span: Span,
    /// Its `expires` value, to point at when it has passed.
    pub expires_span: Span,
}

/// A waivers file that loaded: every waiver in file order, and the file's text for snippets.
#[derive(Debug, Clone)]
pub struct WaiverSet {
    pub file: String,
    pub text: String,
    pub waivers: Vec<LoadedWaiver>,
}

/// What the meaning checks compare a waiver with.
pub struct Limits<'a> {
    /// The longest a waiver may run, from `created` to `expires`, in days.
    pub max_days: u32,
    /// Every rule id of the packs loaded.
    pub rule_ids: &'a [&'a str],
}

/// Reads and checks the waivers file at `path`.
pub fn load(path: &Path, limits: &Limits<'_>) -> Result<WaiverSet, Refused> {
    let shown = path.display().to_string();
    let text = source::read(path, &shown, SizeBudget::default()).map_err(|diagnostic| {
        let hint = format!("--waivers takes a YAML file of waivers; see {DOCS}");
        Refused {
            file: shown.clone(),
            text: None,
            diagnostics: vec![diagnostic.with_hint(hint)],
        }
    })?;
    match parse(&shown, &text, limits) {
        Ok(waivers) => Ok(WaiverSet {
            file: shown,
            text,
            waivers,
        }),
        Err(diagnostics) => Err(Refused {
            file: shown,
            text: Some(text),
            diagnostics,
        }),
    }
}

/// Parses and checks the text of a waivers file; every problem is returned, in file order.
pub fn parse(
    shown: &str,
    text: &str,
    limits: &Limits<'_>,
) -> Result<Vec<LoadedWaiver>, Vec<Diagnostic>> {
    let tree = yaml::parse(shown, text).map_err(|d| vec![d])?;
    let json = tree.to_json();
    let mut found = yaml::check_tree(shown, &tree);
    found.extend(CHECKER.check(shown, &tree, &json));
    if !found.is_empty() {
        found.sort_by_key(Diagnostic::sort_key);
        return Err(found);
    }
    let file: WaiverFile = serde_json::from_value(json).map_err(|error| {
        vec![
            Diagnostic::error(Code::SchemaViolation, shown, error.to_string())
                .with_span(tree.span)
                .with_hint(format!("see {DOCS}")),
        ]
    })?;
    let check = MeaningCheck {
        file: shown,
        tree: &tree,
        limits,
    };
    let mut loaded = Vec::new();
    let mut first: BTreeMap<(&str, &str, Option<&str>), YamlPath> = BTreeMap::new();
    for (index, waiver) in file.waivers.iter().enumerate() {
        let here = YamlPath::root().key("waivers").index(index);
        let dates = check.dates(waiver, &here, &mut found);
        check.rule_known(waiver, &here, &mut found);
        let key = (
            waiver.rule.as_str(),
            waiver.service.as_str(),
            waiver.flow.as_deref(),
        );
        if let Some(earlier) = first.get(&key) {
            found.push(
                check
                    .at(
                        Code::DuplicateEntry,
                        here.key("rule"),
                        format!(
                            "a second waiver of `{}` on {}",
                            waiver.rule,
                            waiver.selector()
                        ),
                    )
                    .with_related(shown, check.span(&earlier.key("rule")), "first waived here")
                    .with_hint("keep one waiver per rule and selector: merge the two"),
            );
        } else {
            first.insert(key, here.clone());
        }
        if let Some((created, expires)) = dates {
            loaded.push(LoadedWaiver {
                waiver: waiver.clone(),
                created,
                expires,
                file: shown.to_owned(),
                span: check.span(&here.key("rule")),
                expires_span: check.span(&here.key("expires")),
                path: here,
            });
        }
    }
    if found.is_empty() {
        Ok(loaded)
    } else {
        found.sort_by_key(Diagnostic::sort_key);
        Err(found)
    }
}

/// The second stage: what the schema cannot say.
struct MeaningCheck<'a> {
    file: &'a str,
    tree: &'a Node,
    limits: &'a Limits<'a>,
}

impl MeaningCheck<'_> {
    fn span(&self, path: &YamlPath) -> Span {
        crate::diagnostic::span_in(self.tree, path)
    }

    fn at(&self, code: Code, path: YamlPath, message: String) -> Diagnostic {
        crate::diagnostic::error_at(self.file, self.tree, code, path, message)
    }

    /// Both dates real, the expiry not before the creation, and the waiver no longer than the
    /// maximum; the dates when they are.
    fn dates(
        &self,
        waiver: &Waiver,
        here: &YamlPath,
        found: &mut Vec<Diagnostic>,
    ) -> Option<(Day, Day)> {
        let mut day = |field: &str, text: &str| match parse_date(text) {
            Ok(day) => Some(day),
            Err(why) => {
                found.push(
                    self.at(
                        Code::InvalidDate,
                        here.key(field),
                        format!("`{field}` is not a calendar date: {why}"),
                    )
                    .with_hint("write the day as YYYY-MM-DD, e.g. 2026-03-31"),
                );
                None
            }
        };
        let created = day("created", &waiver.created);
        let expires = day("expires", &waiver.expires);
        let (created, expires) = (created?, expires?);
        let days = unix_days(expires) - unix_days(created);
        if days < 0 {
            found.push(
                self.at(
                    Code::InvalidDate,
                    here.key("expires"),
                    format!(
                        "the waiver expires on {} before it was created on {}",
                        format_day(expires),
                        format_day(created)
                    ),
                )
                .with_hint("`expires` is the last day the waiver applies, on or after `created`"),
            );
            return None;
        }
        let max = i64::from(self.limits.max_days);
        if days > max {
            found.push(
                self.at(
                    Code::WaiverTooLong,
                    here.key("expires"),
                    format!(
                        "the waiver runs {days} days, from {} to {}: longer than the {max}-day maximum",
                        format_day(created),
                        format_day(expires)
                    ),
                )
                .with_label(format!("at most {}", format_day(day_after(created, max))))
                .with_hint(format!(
                    "set an earlier `expires` and renew the waiver with a new approval when it ends; the maximum is `max_waiver_days` in authaudit.toml (see {DOCS})"
                )),
            );
            return None;
        }
        Some((created, expires))
    }

    /// A waiver of a rule no pack defines would never apply: most likely a typo.
    fn rule_known(&self, waiver: &Waiver, here: &YamlPath, found: &mut Vec<Diagnostic>) {
        let ids = self.limits.rule_ids;
        if ids.contains(&waiver.rule.as_str()) {
            return;
        }
        let hint = match closest(&waiver.rule, ids.iter().copied()) {
            Some(near) => format!("did you mean `{near}`?"),
            None => "run `authaudit rules list` to see the rule ids (with `--rules DIR` for your own packs)".to_owned(),
        };
        found.push(
            self.at(
                Code::UnknownValue,
                here.key("rule"),
                format!("no rule pack loaded defines a rule `{}`", waiver.rule),
            )
            .with_hint(hint),
        );
    }
}

/// Days since 1970-01-01 of a civil day (proleptic Gregorian; H. Hinnant's algorithm, the
/// inverse of `model::day_from_unix_days`).
pub fn unix_days((year, month, day): Day) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The day `days` days after `day`.
fn day_after(day: Day, days: i64) -> Day {
    crate::model::day_from_unix_days(unix_days(day) + days)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::day_from_unix_days;

    const RULES: &[&str] = &["JP-JBA-LINK-01", "PCI-FAILED-ATTEMPTS-UNLIMITED"];

    fn limits() -> Limits<'static> {
        Limits {
            max_days: 90,
            rule_ids: RULES,
        }
    }

    const ONE: &str = "version: 1\nwaivers:\n  - rule: JP-JBA-LINK-01\n    service: bank\n    flow: link\n    justification: Compensating monitoring; fix planned.\n    approver: CISO\n    ticket: SEC-1\n    created: 2026-01-01\n    expires: 2026-03-31\n";

    #[test]
    fn a_complete_waiver_loads() {
        let waivers = parse("w.yaml", ONE, &limits()).unwrap();
        assert_eq!(waivers.len(), 1);
        let w = &waivers[0];
        assert_eq!((w.created, w.expires), ((2026, 1, 1), (2026, 3, 31)));
        assert_eq!(w.span, Span::new(3, 11, 14));
        assert!(w.waiver.covers("JP-JBA-LINK-01", "bank", "link"));
        assert!(!w.waiver.covers("JP-JBA-LINK-01", "bank", "login"));
    }

    #[test]
    fn a_waiver_without_approver_is_refused_at_its_entry() {
        let text = ONE.replace("    approver: CISO\n", "");
        let problems = parse("w.yaml", &text, &limits()).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].code, Code::MissingField);
        assert!(
            problems[0].message.contains("approver"),
            "{}",
            problems[0].message
        );
        assert_eq!(problems[0].span.map(|s| s.line), Some(3));
    }

    #[test]
    fn too_long_backwards_and_unknown_rules_are_refused() {
        // 2026-01-01 to 2026-04-01 is 90 days: the longest allowed.
        let longest = ONE.replace("2026-03-31", "2026-04-01");
        assert!(parse("w.yaml", &longest, &limits()).is_ok());
        let long = ONE.replace("2026-03-31", "2026-04-02");
        let problems = parse("w.yaml", &long, &limits()).unwrap_err();
        assert_eq!(problems[0].code, Code::WaiverTooLong);
        assert_eq!(problems[0].label.as_deref(), Some("at most 2026-04-01"));
        let backwards = ONE.replace("2026-03-31", "2025-12-31");
        assert_eq!(
            parse("w.yaml", &backwards, &limits()).unwrap_err()[0].code,
            Code::InvalidDate
        );
        let typo = ONE.replace("JP-JBA-LINK-01", "JP-JBA-LNK-01");
        let problems = parse("w.yaml", &typo, &limits()).unwrap_err();
        assert_eq!(problems[0].code, Code::UnknownValue);
        assert_eq!(
            problems[0].hint.as_deref(),
            Some("did you mean `JP-JBA-LINK-01`?")
        );
        let twice = format!("{ONE}{}", &ONE[ONE.find("  - rule").unwrap()..]);
        assert_eq!(
            parse("w.yaml", &twice, &limits()).unwrap_err()[0].code,
            Code::DuplicateEntry
        );
    }

    #[test]
    fn unix_days_inverts_the_calendar() {
        for days in [-800_000, -1, 0, 11_016, 18_506, 20_000, 2_932_896] {
            assert_eq!(unix_days(day_from_unix_days(days)), days);
        }
    }
}
