//! The second loading stage of a rule: its meaning. Citations must name documents of the pack
//! manifest, the condition must be valid CEL, every field it reads must exist in the flow
//! view, and `at:` must name a place a flow can have. Each problem becomes a located
//! diagnostic.

use super::cel_check;
use super::pack::{PackManifest, RuleSpec};
use crate::diagnostic::{Code, Diagnostic};
use crate::evaluate::view::View;
use crate::model::{format_day, parse_day_or_month};
use crate::suggest::closest;
use crate::yaml::{Node, Segment, Span, YamlPath};
use serde_json::Value;
use std::sync::LazyLock;

/// The flow view's JSON Schema, against which conditions are checked.
static VIEW_SCHEMA: LazyLock<Value> =
    LazyLock::new(|| serde_json::to_value(schemars::schema_for!(View)).unwrap_or_default());

/// The policy format's JSON Schema (with the catalogue's factor names), against which `at:`
/// paths and `step_with:` values are checked.
static POLICY_SCHEMA: LazyLock<Value> =
    LazyLock::new(|| crate::schema::policy_schema(&crate::factors::Catalogue::bundled()));

/// Where a rule's findings point in the flow, from its `at:` (docs/rule-authoring.md, "Where
/// a finding points").
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum At {
    /// No `at:`: the flow's key.
    #[default]
    Flow,
    /// A path relative to the flow (`steps`, `limits.attempts`, `steps.0.verify`).
    Path(YamlPath),
    /// `step_with:FIELD=VALUE,...`: the first step whose `field` is one of the values (or,
    /// for a list such as `verify`, holds one), at that value; the steps when none does.
    StepWith {
        field: String,
        values: Vec<StepValue>,
    },
}

/// A value `step_with:` looks for in a step's field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepValue {
    /// A value as written in a policy (`sms_otp`, `contact_supplied_in_flow`).
    Literal(String),
    /// `flow.NAME`: any factor the flow view lists under `NAME` (`flow.enumerable_factors`).
    FlowList(String),
}

/// The step fields a `step_with:` may look at with `flow.NAME` values: lists of factor names.
const FACTOR_LIST_FIELD: &str = "verify";

/// At most this many schema nodes are looked at to resolve one segment of an `at:` path
/// (references and alternatives); the policy schema needs fewer than ten.
const SCHEMA_WALK_BUDGET: usize = 64;

/// The schema nodes `node` stands for: itself, what its `$ref` names, and its `anyOf`,
/// `oneOf` and `allOf` alternatives, followed within [`SCHEMA_WALK_BUDGET`].
fn alternatives<'s>(root: &'s Value, node: &'s Value) -> Vec<&'s Value> {
    let mut found = Vec::new();
    let mut work = vec![node];
    while let Some(next) = work.pop() {
        if found.len() >= SCHEMA_WALK_BUDGET {
            break;
        }
        found.push(next);
        if let Some(name) = next
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
            && let Some(target) = root.pointer(&format!("/$defs/{name}"))
        {
            work.push(target);
        }
        for key in ["anyOf", "oneOf", "allOf"] {
            if let Some(items) = next.get(key).and_then(Value::as_array) {
                work.extend(items.iter().rev());
            }
        }
    }
    found
}

/// The field names a schema node allows, sorted.
fn field_names<'s>(root: &'s Value, node: &'s Value) -> Vec<&'s str> {
    let mut names: Vec<&str> = alternatives(root, node)
        .into_iter()
        .filter_map(|n| n.get("properties").and_then(Value::as_object))
        .flat_map(|p| p.keys().map(String::as_str))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// The schema of field `key` under `node`, if it has one.
fn field<'s>(root: &'s Value, node: &'s Value, key: &str) -> Option<&'s Value> {
    alternatives(root, node)
        .into_iter()
        .find_map(|n| n.get("properties").and_then(|p| p.get(key)))
}

/// The schema of the items of `node`, if it is a list.
fn items<'s>(root: &'s Value, node: &'s Value) -> Option<&'s Value> {
    alternatives(root, node)
        .into_iter()
        .find_map(|n| n.get("items"))
}

/// The values a schema node allows when it is an enumeration (of its items, for a list); `None`
/// when any text is allowed (a contact id, a service id).
fn allowed_values(root: &Value, node: &Value) -> Option<Vec<String>> {
    let node = items(root, node).unwrap_or(node);
    let mut values: Vec<String> = Vec::new();
    for n in alternatives(root, node) {
        if let Some(list) = n.get("enum").and_then(Value::as_array) {
            values.extend(list.iter().filter_map(Value::as_str).map(str::to_owned));
        }
        if let Some(one) = n.get("const").and_then(Value::as_str) {
            values.push(one.to_owned());
        }
    }
    (!values.is_empty()).then_some(values)
}

/// `a.b.0` → a relative YAML path (numbers are list indexes).
fn parse_path(text: &str) -> YamlPath {
    let mut path = YamlPath::root();
    for part in text.split('.') {
        path = match part.parse::<usize>() {
            Ok(i) => path.index(i),
            Err(_) => path.key(part),
        };
    }
    path
}

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

    /// The rule's `at:`, parsed, or why it names no place a flow can have.
    pub fn at(&self, spec: &RuleSpec, rule: &YamlPath) -> Result<At, Diagnostic> {
        let Some(text) = spec.at.as_deref() else {
            return Ok(At::Flow);
        };
        let refuse = |message: String, hint: String| {
            self.error(
                Code::InvalidRuleAt,
                rule.key("at"),
                None,
                format!("`at` of `{}`: {message}", spec.id),
            )
            .with_hint(hint)
        };
        let forms = "`at` is a path in the flow (`steps`, `limits.attempts`) or \
                     `step_with:FIELD=VALUE,...` (docs/rule-authoring.md)";
        let root = &*POLICY_SCHEMA;
        let flow = root.pointer("/$defs/Flow").unwrap_or(&Value::Null);
        if let Some(selector) = text.strip_prefix("step_with:") {
            let step = root.pointer("/$defs/Step").unwrap_or(&Value::Null);
            let Some((name, list)) = selector.split_once('=') else {
                return Err(refuse(
                    format!("`{text}` gives no value to look for"),
                    "write `step_with:FIELD=VALUE[,VALUE...]`, e.g. `step_with:verify=sms_otp`"
                        .to_owned(),
                ));
            };
            let Some(schema) = field(root, step, name) else {
                let names = field_names(root, step);
                return Err(refuse(
                    format!("a step has no field `{name}`"),
                    suggestion(name, &names, "fields of a step"),
                ));
            };
            let value_schema = items(root, schema).unwrap_or(schema);
            if alternatives(root, value_schema)
                .iter()
                .any(|n| n.get("properties").is_some())
            {
                let names: Vec<&str> = field_names(root, step)
                    .into_iter()
                    .filter(|n| {
                        field(root, step, n).is_some_and(|f| {
                            let v = items(root, f).unwrap_or(f);
                            !alternatives(root, v)
                                .iter()
                                .any(|a| a.get("properties").is_some())
                        })
                    })
                    .collect();
                return Err(refuse(
                    format!("a step's `{name}` is a section, not a value to look for"),
                    format!("fields with values: {}", names.join(", ")),
                ));
            }
            let allowed = allowed_values(root, schema);
            let mut values = Vec::new();
            for value in list.split(',').map(str::trim) {
                if let Some(view_list) = value.strip_prefix("flow.") {
                    let lists = factor_lists();
                    if name != FACTOR_LIST_FIELD || !lists.contains(&view_list) {
                        return Err(refuse(
                            format!(
                                "`{value}` is not a list of factors the flow view has for `{name}`"
                            ),
                            format!(
                                "`flow.NAME` is for `step_with:{FACTOR_LIST_FIELD}=`, with NAME one of {}",
                                lists.join(", ")
                            ),
                        ));
                    }
                    values.push(StepValue::FlowList(view_list.to_owned()));
                    continue;
                }
                if let Some(allowed) = &allowed
                    && !allowed.iter().any(|a| a == value)
                {
                    let names: Vec<&str> = allowed.iter().map(String::as_str).collect();
                    return Err(refuse(
                        format!("`{value}` is not a value of a step's `{name}`"),
                        suggestion(value, &names, "values"),
                    ));
                }
                if value.is_empty() {
                    return Err(refuse(
                        format!("`{text}` has an empty value"),
                        "separate values with commas, e.g. `step_with:verify=sms_otp,voice_otp`"
                            .to_owned(),
                    ));
                }
                values.push(StepValue::Literal(value.to_owned()));
            }
            return Ok(At::StepWith {
                field: name.to_owned(),
                values,
            });
        }
        let path = parse_path(text);
        let mut node = flow;
        let mut walked = YamlPath::root();
        for segment in &path.0 {
            let next = match segment {
                Segment::Key(key) if key.is_empty() => {
                    return Err(refuse(
                        format!("`{text}` has an empty part"),
                        forms.to_owned(),
                    ));
                }
                Segment::Key(key) => field(root, node, key).ok_or_else(|| {
                    let names = field_names(root, node);
                    let place = if walked.is_root() {
                        "a flow".to_owned()
                    } else {
                        format!("`{walked}`")
                    };
                    refuse(
                        format!("{place} has no field `{key}`"),
                        suggestion(key, &names, "fields there"),
                    )
                })?,
                Segment::Index(i) => items(root, node).ok_or_else(|| {
                    refuse(
                        format!("`{walked}` is not a list, so `{i}` cannot follow it"),
                        forms.to_owned(),
                    )
                })?,
            };
            node = next;
            walked.0.push(segment.clone());
        }
        Ok(At::Path(path))
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

/// The flow view's lists of factor names (`factors`, `enumerable_factors`, ...), which a
/// `step_with:verify=flow.NAME` may name.
fn factor_lists() -> Vec<&'static str> {
    let root = &*VIEW_SCHEMA;
    let flow = root.pointer("/$defs/FlowView").unwrap_or(&Value::Null);
    let mut names: Vec<&str> = field_names(root, flow)
        .into_iter()
        .filter(|name| name.ends_with("factors"))
        .filter(|name| {
            field(root, flow, name)
                .and_then(|f| items(root, f))
                .and_then(|i| i.get("type"))
                .and_then(Value::as_str)
                == Some("string")
        })
        .collect();
    names.sort_unstable();
    names
}

/// "did you mean `x`?" when a name is close to one of `known`, else the list of them.
fn suggestion(given: &str, known: &[&str], what: &str) -> String {
    match closest(given, known.iter().copied()) {
        Some(best) => format!("did you mean `{best}`?"),
        None if known.len() <= 24 => format!("{what}: {}", known.join(", ")),
        None => format!("see docs/policy-format.md for the {what}"),
    }
}
