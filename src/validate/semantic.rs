//! Checks within one file that JSON Schema cannot express well: real calendar dates, delivery
//! of one-time codes, consistency of attempt limits, fields that only make sense on some flows.
//!
//! Works part by part on the JSON form, so a schema error in one flow does not hide the
//! problems of the others.

use crate::diagnostic::{Code, Diagnostic};
use crate::factors::Catalogue;
use crate::model::{
    AttemptLimit, AttemptScope, Flow, FlowKind, IdentityProofing, Lockout, ProofingLevel,
    parse_date,
};
use crate::yaml::{Node, YamlPath};
use serde::de::DeserializeOwned;
use serde_json::Value;

struct FileContext<'a> {
    file: &'a str,
    tree: &'a Node,
    found: Vec<Diagnostic>,
}

impl FileContext<'_> {
    fn report(&mut self, code: Code, path: YamlPath, message: String, hint: &str) {
        let span = self
            .tree
            .get(&path)
            .map(|n| n.span)
            .or_else(|| self.tree.key_span(&path))
            .unwrap_or(self.tree.span);
        self.found.push(
            Diagnostic::error(code, self.file, message)
                .with_span(span)
                .with_path(path)
                .with_hint(hint),
        );
    }

    /// The value at `path` as `T`, if it has that shape (schema errors are reported elsewhere).
    fn typed<T: DeserializeOwned>(json: &Value, pointer: &str) -> Option<T> {
        json.pointer(pointer)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }
}

/// Semantic diagnostics for one file, given its tree and JSON form.
pub fn check_file(file: &str, tree: &Node, json: &Value, catalogue: &Catalogue) -> Vec<Diagnostic> {
    let mut cx = FileContext {
        file,
        tree,
        found: Vec::new(),
    };
    check_dates(&mut cx, json);
    if let Some(flows) = json.get("flows").and_then(Value::as_object) {
        for (id, flow_json) in flows {
            let Ok(flow) = serde_json::from_value::<Flow>(flow_json.clone()) else {
                continue;
            };
            let path = YamlPath::root().key("flows").key(id.clone());
            check_flow(&mut cx, &path, &flow, catalogue);
        }
    }
    cx.found
}

fn check_dates(cx: &mut FileContext<'_>, json: &Value) {
    let mut dates = Vec::new();
    if let Some(as_of) = FileContext::typed::<String>(json, "/service/as_of") {
        dates.push((YamlPath::root().key("service").key("as_of"), as_of));
    }
    if let Some(sources) = json.pointer("/service/sources").and_then(Value::as_array) {
        for (i, source) in sources.iter().enumerate() {
            if let Some(date) = source.get("date").and_then(Value::as_str) {
                let path = YamlPath::root()
                    .key("service")
                    .key("sources")
                    .index(i)
                    .key("date");
                dates.push((path, date.to_owned()));
            }
        }
    }
    for (path, text) in dates {
        // Malformed text is a schema (pattern) error; only well-formed impossible dates here.
        let well_formed = text.len() == 10 && text.chars().filter(|c| *c == '-').count() == 2;
        if let (true, Err(why)) = (well_formed, parse_date(&text)) {
            cx.report(
                Code::InvalidDate,
                path,
                format!("`{text}` is not a calendar date: {why}"),
                "write a date that exists, as YYYY-MM-DD",
            );
        }
    }
}

fn check_flow(cx: &mut FileContext<'_>, path: &YamlPath, flow: &Flow, catalogue: &Catalogue) {
    for (i, step) in flow.steps.iter().enumerate() {
        let step_path = path.key("steps").index(i);
        let delivered: Vec<&str> = step
            .verify
            .iter()
            .filter(|name| {
                catalogue
                    .get(name)
                    .is_some_and(|f| f.delivered_by.is_some())
            })
            .map(String::as_str)
            .collect();
        match (delivered.is_empty(), step.delivered_to.is_some()) {
            (false, false) => cx.report(
                Code::DeliveryMissing,
                step_path,
                format!(
                    "step sends {} but does not say where to",
                    delivered.iter().map(|d| format!("`{d}`")).collect::<Vec<_>>().join(", ")
                ),
                "add `delivered_to: registered_contact` or `delivered_to: contact_supplied_in_flow`",
            ),
            (true, true) => cx.report(
                Code::DeliveryWithoutDeliveredFactor,
                step_path.key("delivered_to"),
                "`delivered_to` is set but no factor of this step is sent to a contact".to_owned(),
                "remove `delivered_to`, or add the one-time code or link the step sends",
            ),
            _ => {}
        }
    }
    if let Some(proofing) = &flow.identity_proofing {
        check_proofing(cx, path, flow.kind, proofing);
    }
    if let Some(attempts) = flow.limits.as_ref().and_then(|l| l.attempts.as_ref()) {
        check_attempts(cx, &path.key("limits").key("attempts"), attempts);
    }
    if flow.name_matching.is_some()
        && !matches!(
            flow.kind,
            FlowKind::AccountLinking | FlowKind::CardRegistration
        )
    {
        cx.report(
            Code::MisplacedField,
            path.key("name_matching"),
            format!(
                "`name_matching` applies to account_linking and card_registration flows, not to kind `{}`",
                kind_name(flow.kind)
            ),
            "move it to the flow that links the account or card, or remove it",
        );
    }
}

fn check_proofing(
    cx: &mut FileContext<'_>,
    path: &YamlPath,
    kind: FlowKind,
    proofing: &IdentityProofing,
) {
    let here = path.key("identity_proofing");
    if kind != FlowKind::Registration {
        cx.report(
            Code::MisplacedField,
            here.clone(),
            format!(
                "`identity_proofing` describes account opening, but this flow is of kind `{}`",
                kind_name(kind)
            ),
            "move it to the service's registration flow",
        );
    }
    match (proofing.level, proofing.method) {
        (ProofingLevel::Ekyc, None) => cx.report(
            Code::MissingField,
            here,
            "`level: ekyc` needs the eKYC `method`".to_owned(),
            "add `method:` with one of photo_id_selfie, ic_chip, bank_reference, jpki",
        ),
        (level, Some(_)) if level != ProofingLevel::Ekyc => cx.report(
            Code::MisplacedField,
            here.key("method"),
            "`method` names an eKYC method, but `level` is not `ekyc`".to_owned(),
            "set `level: ekyc`, or remove `method`",
        ),
        _ => {}
    }
}

fn check_attempts(cx: &mut FileContext<'_>, here: &YamlPath, limit: &AttemptLimit) {
    if limit.scope == AttemptScope::None {
        let present = [
            ("max", limit.max.is_some()),
            ("window", limit.window.is_some()),
            ("lockout", limit.lockout.is_some()),
            ("lockout_duration", limit.lockout_duration.is_some()),
        ];
        for (field, _) in present.iter().filter(|(_, set)| *set) {
            cx.report(
                Code::InconsistentLimit,
                here.key(*field),
                format!("`{field}` contradicts `scope: none`, which says failures are not limited"),
                "remove it, or set `scope` to what the failure counter is kept per (account, device, ip, card_number)",
            );
        }
        return;
    }
    if limit.max.is_none() {
        cx.report(
            Code::MissingField,
            here.clone(),
            "an attempt limit needs `max`, the failures allowed before lockout".to_owned(),
            "add `max:`, or write `scope: none` if failures are not limited",
        );
    }
    match (limit.lockout, &limit.lockout_duration) {
        (None, _) => cx.report(
            Code::MissingField,
            here.clone(),
            "an attempt limit needs `lockout`: what happens at the limit".to_owned(),
            "add `lockout: temporary` with `lockout_duration`, or `lockout: permanent`",
        ),
        (Some(Lockout::Temporary), None) => cx.report(
            Code::MissingField,
            here.key("lockout"),
            "`lockout: temporary` needs `lockout_duration`".to_owned(),
            "add `lockout_duration:`, e.g. 30m",
        ),
        (Some(Lockout::Permanent), Some(_)) => cx.report(
            Code::InconsistentLimit,
            here.key("lockout_duration"),
            "`lockout_duration` contradicts `lockout: permanent`".to_owned(),
            "remove `lockout_duration`, or make the lockout temporary",
        ),
        _ => {}
    }
}

fn kind_name(kind: FlowKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
