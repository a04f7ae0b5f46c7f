//! The second loading stage of a rule: its meaning. Citations must name documents of the pack
//! manifest, the condition must be valid CEL, and every field it reads must exist in the flow
//! view. Each problem becomes a located diagnostic.

use super::cel_check;
use super::pack::{PackManifest, RuleSpec};
use crate::diagnostic::{Code, Diagnostic};
use crate::evaluate::view::View;
use crate::model::{format_day, parse_day_or_month};
use crate::yaml::{Node, Span, YamlPath};
use serde_json::Value;
use std::sync::LazyLock;

/// The flow view's JSON Schema, against which conditions are checked.
static VIEW_SCHEMA: LazyLock<Value> =
    LazyLock::new(|| serde_json::to_value(schemars::schema_for!(View)).unwrap_or_default());

/// The dates of a manifest's sources: real days, `until` after `effective`, and
/// `superseded_by` naming a source of the same pack.
pub fn check_sources(file: &str, tree: &Node, manifest: &PackManifest) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    let at = |path: &YamlPath, message: String, code: Code, hint: &str| {
        Diagnostic::error(code, file, message)
            .with_span(tree.get(path).map_or(tree.span, |n| n.span))
            .with_path(path.clone())
            .with_hint(hint)
    };
    for (i, source) in manifest.sources.iter().enumerate() {
        let here = YamlPath::root().key("sources").index(i);
        let mut day = |field: &str, text: Option<&str>| {
            let text = text?;
            match parse_day_or_month(text) {
                Ok(day) => Some(day),
                Err(why) => {
                    found.push(at(
                        &here.key(field),
                        format!("`{text}` is not a calendar date: {why}"),
                        Code::InvalidDate,
                        "write YYYY-MM-DD, or YYYY-MM when only the month is on record",
                    ));
                    None
                }
            }
        };
        day("date", Some(&source.date));
        let effective = day("effective", source.effective.as_deref());
        let until = day("until", source.until.as_deref());
        if let (Some(from), Some(end)) = (effective, until)
            && end <= from
        {
            found.push(at(
                &here.key("until"),
                format!("`until` ({}) is not after `effective`", format_day(end)),
                Code::InvalidDate,
                "a source stops applying after it takes effect",
            ));
        }
        if source.until.is_some() && source.effective.is_none() {
            found.push(at(
                &here,
                format!("source `{}` has `until` but no `effective`", source.id),
                Code::MissingField,
                "add `effective:`, the day its requirements took effect",
            ));
        }
        if let Some(next) = &source.superseded_by
            && !manifest
                .sources
                .iter()
                .any(|s| &s.id == next && s.id != source.id)
        {
            found.push(at(
                &here.key("superseded_by"),
                format!("`superseded_by` names `{next}`, which is not another source of this pack"),
                Code::UnknownCitationDocument,
                "name the id of the source that replaces this one, listed in the same manifest",
            ));
        }
    }
    found
}

/// Checks the rules of one rule file.
pub struct RuleChecker<'a> {
    pub file: &'a str,
    pub source: &'a str,
    pub tree: &'a Node,
    pub manifest: &'a PackManifest,
}

impl RuleChecker<'_> {
    fn error(&self, code: Code, path: YamlPath, span: Option<Span>, message: String) -> Diagnostic {
        let span = span.unwrap_or_else(|| self.tree.get(&path).map_or(self.tree.span, |n| n.span));
        Diagnostic::error(code, self.file, message)
            .with_span(span)
            .with_path(path)
    }

    /// Citations naming documents the manifest does not list.
    pub fn citations(&self, spec: &RuleSpec, rule: &YamlPath) -> Vec<Diagnostic> {
        let known: Vec<&str> = self
            .manifest
            .sources
            .iter()
            .map(|s| s.id.as_str())
            .collect();
        spec.citations
            .iter()
            .enumerate()
            .filter(|(_, c)| !known.contains(&c.document.as_str()))
            .map(|(i, citation)| {
                self.error(
                    Code::UnknownCitationDocument,
                    rule.key("citations").index(i).key("document"),
                    None,
                    format!(
                        "citation names document `{}`, which the pack manifest does not list",
                        citation.document
                    ),
                )
                .with_hint(format!("documents of this pack: {}", known.join(", ")))
            })
            .collect()
    }

    /// A rule id already taken, by a loaded pack or earlier in this file.
    pub fn duplicate(&self, spec: &RuleSpec, rule: &YamlPath, first: (&str, &str)) -> Diagnostic {
        self.error(
            Code::DuplicateRuleId,
            rule.key("id"),
            None,
            format!(
                "rule id `{}` is already used in pack `{}` ({})",
                spec.id, first.0, first.1
            ),
        )
        .with_hint("rule ids are unique across all packs: rename this rule")
    }

    /// The compiled condition, or why it cannot be compiled or reads unknown fields.
    pub fn condition(
        &self,
        spec: &RuleSpec,
        rule: &YamlPath,
    ) -> Result<cel::Program, Vec<Diagnostic>> {
        let path = rule.key("condition");
        if let Some(refusal) = cel_check::check_source(&spec.condition) {
            return Err(vec![self.refused(spec, &path, refusal)]);
        }
        let program = cel::Program::compile(&spec.condition).map_err(|errors| {
            let first = errors.errors.first();
            let message = first.map_or_else(|| errors.to_string(), |e| readable(&e.msg));
            let value = self.tree.get(&path).map_or(self.tree.span, |n| n.span);
            let span = first.map_or(value, |e| self.point_into(value, &spec.condition, e.pos));
            vec![
                self.error(
                    Code::CelSyntax,
                    path.clone(),
                    Some(span),
                    format!("condition of `{}` is not valid CEL: {message}", spec.id),
                )
                .with_hint(
                    "conditions are CEL expressions, e.g. `flow.independent_categories < 2`",
                ),
            ]
        })?;
        let refusals = cel_check::check_shape(program.expression());
        if !refusals.is_empty() {
            return Err(refusals
                .into_iter()
                .map(|refusal| self.refused(spec, &path, refusal))
                .collect());
        }
        let unknown: Vec<Diagnostic> =
            cel_check::check_references(program.expression(), &VIEW_SCHEMA)
                .into_iter()
                .map(|(message, hint)| {
                    self.error(
                        Code::UnknownViewField,
                        path.clone(),
                        None,
                        format!("condition of `{}`: {message}", spec.id),
                    )
                    .with_hint(hint)
                })
                .collect();
        if unknown.is_empty() {
            Ok(program)
        } else {
            Err(unknown)
        }
    }

    /// A condition refused by the limits of `cel_check`, located at the condition (at the
    /// function's name for an unsupported function on a one-line condition).
    fn refused(&self, spec: &RuleSpec, path: &YamlPath, refusal: cel_check::Refusal) -> Diagnostic {
        use cel_check::Refusal;
        let value = self.tree.get(path).map_or(self.tree.span, |n| n.span);
        match refusal {
            Refusal::TooComplex(why) => self
                .error(
                    Code::CelTooComplex,
                    path.clone(),
                    Some(value),
                    format!("condition of `{}` is too complex: {why}", spec.id),
                )
                .with_hint(
                    "split the rule, or name the facts it needs in the flow view; the limits \
                     are listed under `cel-too-complex` in docs/diagnostics.md",
                ),
            Refusal::UnsupportedFunction(name) => {
                let column = spec
                    .condition
                    .find(&format!("{name}("))
                    .and_then(|byte| isize::try_from(spec.condition[..byte].chars().count()).ok());
                let span = column.map_or(value, |c| {
                    self.point_into(value, &spec.condition, (1, c + 1))
                });
                self.error(
                    Code::CelUnsupportedFunction,
                    path.clone(),
                    Some(span),
                    format!(
                        "condition of `{}` calls `{name}`, which is not available in rule conditions",
                        spec.id
                    ),
                )
                .with_hint(
                    "conditions may use operators, the macros `has`, `all`, `exists`, \
                     `exists_one`, `map` and `filter`, and the functions `size`, `int`, `uint`, \
                     `double`, `string`, `bool`, `bytes`, `dyn`, `type`, `contains`, \
                     `startsWith` and `endsWith`",
                )
            }
            Refusal::UnboundedIteration(why) => self
                .error(
                    Code::CelUnboundedIteration,
                    path.clone(),
                    Some(value),
                    format!("condition of `{}`: {why}", spec.id),
                )
                .with_hint(
                    "iterate over a list of the flow view, e.g. `flow.steps.exists(s, ...)`, \
                     so the work a rule does on a flow stays bounded by the flow's size",
                ),
        }
    }

    /// Where a CEL error at `pos` (1-based line and column within the expression) stands in
    /// the file, for a condition written on one line; else the condition's own span.
    fn point_into(&self, value: Span, condition: &str, pos: (isize, isize)) -> Span {
        let line = self
            .source
            .lines()
            .nth(value.line.saturating_sub(1) as usize)
            .unwrap_or_default();
        let first = line.chars().nth(value.column.saturating_sub(1) as usize);
        let quoted = matches!(first, Some('"' | '\''));
        let on_one_line = !condition.contains('\n') && pos.0 == 1;
        match (on_one_line, u32::try_from(pos.1 - 1)) {
            (true, Ok(offset)) => {
                Span::new(value.line, value.column + u32::from(quoted) + offset, 1)
            }
            _ => value,
        }
    }
}

/// A parser message without the Rust debug form some parser errors carry
/// (`OtherError(ParseError { …, msg: "Recursion limit of 96 exceeded", … })`).
fn readable(message: &str) -> String {
    if message.contains("Recursion limit") {
        return "the expression nests deeper than the CEL parser allows".to_owned();
    }
    match message.split_once("msg: \"") {
        Some((head, rest)) if message.contains("ParseError {") => {
            let inner = rest.split('"').next().unwrap_or_default();
            let head = head.split("OtherError(").next().unwrap_or(head).trim_end();
            format!("{head} {inner}").trim().to_owned()
        }
        _ => message.to_owned(),
    }
}
