//! Every field of the flow view is read by some bundled rule, or is listed here with the
//! reason it is kept. A field added to the view without a rule (or a reason) fails this test,
//! and so does a field listed here that a rule has started to read.

use authaudit::evaluate::view::View;
use authaudit::rules::RuleSet;
use serde_json::Value;
use std::collections::BTreeSet;

/// Fields no bundled rule reads, and why they stay in the view.
const KEPT: &[(&str, &str)] = &[
    ("flow.id", "names the flow for user rules"),
    ("flow.step_count", "a plain count for user rules"),
    (
        "flow.categories",
        "names the categories behind independent_categories",
    ),
    (
        "flow.non_counting_factors",
        "says which factors prove nothing (policy-format docs)",
    ),
    (
        "flow.opt_in_steps",
        "counts the opt-in steps that add no category",
    ),
    (
        "flow.attempt_scope",
        "summary of the step scopes that rules read per step",
    ),
    (
        "flow.notifies_holder",
        "shorthand for notification == 'holder'",
    ),
    (
        "flow.amount_limited",
        "attack paths (issue 10) cap each step's loss by it",
    ),
    (
        "flow.amounts_described",
        "attack paths (issue 10) cap each step's loss by it",
    ),
    (
        "flow.guess_chance",
        "the odds attack paths (issue 10) multiply along a chain",
    ),
    (
        "flow.guess_chance_known",
        "the odds attack paths (issue 10) multiply along a chain",
    ),
    (
        "flow.step_guess_chances",
        "the odds attack paths (issue 10) multiply along a chain",
    ),
    (
        "flow.steps[].guess_chance",
        "the odds attack paths (issue 10) multiply along a chain",
    ),
    (
        "flow.weakest_delegate_guess_chance",
        "the odds attack paths (issue 10) multiply",
    ),
    (
        "flow.delegated[].guess_chance",
        "the odds attack paths (issue 10) multiply",
    ),
    (
        "flow.delegated[].flow",
        "names each delegate for user rules and attack paths",
    ),
    (
        "flow.initiators",
        "the services behind weakest_initiator_proofing_level",
    ),
    (
        "flow.codes_reach",
        "who a flow's codes reach: attack paths (issue 10) follow it",
    ),
    (
        "flow.payout_constraint",
        "where money may go: attack paths (issue 10) end there",
    ),
    (
        "flow.payout_services",
        "where money may go: attack paths (issue 10) end there",
    ),
    (
        "service.contacts_described",
        "contacts with history (issue 7): attack paths follow them",
    ),
    (
        "service.contacts[].replaced_by",
        "contacts with history: attack paths follow them",
    ),
    (
        "service.contacts[].weakest_change_categories",
        "contacts with history: attack paths",
    ),
    (
        "service.contacts[].change_tells_old_contact",
        "contacts with history: attack paths",
    ),
    (
        "service.holds_suspicious_outflow",
        "response to an attack: attack paths (issue 10)",
    ),
    (
        "service.kill_switch",
        "response to an attack: attack paths (issue 10)",
    ),
    (
        "service.monitoring_signals",
        "what an attack would be seen by: attack paths (issue 10)",
    ),
    (
        "service.monitoring_signals_described",
        "what an attack would be seen by: attack paths",
    ),
    (
        "service.password_policy_described",
        "the password guess chance is read from it",
    ),
    (
        "service.password_min_length",
        "the password guess chance is read from it",
    ),
    (
        "service.password_blocklist",
        "the password guess chance is read from it",
    ),
    ("service.proofing", "proofing_level by name, for user rules"),
];

/// Every field path of the view's JSON Schema: `service.kind`, `flow.steps[].factors`, ...
fn fields(schema: &Value) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut pending = vec![
        ("service".to_owned(), "ServiceView"),
        ("flow".to_owned(), "FlowView"),
    ];
    while let Some((prefix, definition)) = pending.pop() {
        let properties = schema
            .pointer(&format!("/$defs/{definition}/properties"))
            .and_then(Value::as_object)
            .unwrap_or_else(|| panic!("no definition {definition}"));
        for (name, field) in properties {
            let path = format!("{prefix}.{name}");
            let nested = field
                .pointer("/items/$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.rsplit('/').next());
            if let Some(nested) = nested {
                let defs = schema.pointer("/$defs").and_then(Value::as_object).unwrap();
                let (key, _) = defs.get_key_value(nested).unwrap();
                pending.push((format!("{path}[]"), key.as_str()));
            }
            found.insert(path);
        }
    }
    found
}

/// Whether some condition reads `path`: the top-level name after `service.` / `flow.`, or a
/// nested field by its own name after a dot (`s.attempt_scope` inside `flow.steps.exists`).
fn read_by(conditions: &[String], path: &str) -> bool {
    let parts: Vec<&str> = path.split('.').collect();
    let last = parts.last().unwrap();
    if path.contains("[]") {
        let list = parts[..parts.len() - 1].join(".").replace("[]", "");
        conditions
            .iter()
            .any(|c| c.contains(&list) && c.contains(&format!(".{last}")))
    } else {
        conditions.iter().any(|c| {
            let mut rest = c.as_str();
            while let Some(at) = rest.find(path) {
                let after = &rest[at + path.len()..];
                if !after.starts_with(|ch: char| ch.is_ascii_alphanumeric() || ch == '_') {
                    return true;
                }
                rest = after;
            }
            false
        })
    }
}

#[test]
fn every_view_field_is_read_by_a_rule_or_kept_for_a_stated_reason() {
    let schema = serde_json::to_value(schemars::schema_for!(View)).unwrap();
    let set = RuleSet::bundled();
    let conditions: Vec<String> = set.rules().map(|(_, r)| r.spec.condition.clone()).collect();
    let unused: BTreeSet<String> = fields(&schema)
        .into_iter()
        .filter(|f| !read_by(&conditions, f))
        .collect();
    let kept: BTreeSet<String> = KEPT.iter().map(|(f, _)| (*f).to_owned()).collect();
    let unexplained: Vec<&String> = unused.difference(&kept).collect();
    let now_read: Vec<&String> = kept.difference(&unused).collect();
    assert!(
        unexplained.is_empty() && now_read.is_empty(),
        "view fields no rule reads and KEPT does not explain: {unexplained:#?}\nfields in KEPT that a rule now reads: {now_read:#?}"
    );
}
