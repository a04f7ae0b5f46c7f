//! Checks across files: unique service ids and references between services.
//!
//! Reads service ids and flow ids from each file's JSON form, so a file with schema errors
//! still counts as defining its service and does not cause false "unknown service" reports.

use crate::diagnostic::{Code, Diagnostic};
use crate::load::LoadedFile;
use crate::suggest::closest;
use crate::yaml::{Span, YamlPath};
use serde_json::Value;
use std::collections::BTreeMap;

/// What one file declares: its service id and its flows with their kinds.
struct Declared<'a> {
    file: usize,
    span: Span,
    flows: BTreeMap<&'a str, Option<&'a str>>,
    /// Contact ids under `contacts`; `None` when the file declares none.
    contacts: Option<Vec<&'a str>>,
}

/// Diagnostics across the whole tree, each paired with the index of the file it belongs to.
pub fn check_tree(files: &[LoadedFile]) -> Vec<(usize, Diagnostic)> {
    let mut found = Vec::new();
    let mut services: BTreeMap<&str, Declared<'_>> = BTreeMap::new();
    for (index, file) in files.iter().enumerate() {
        let (Some(json), Some(tree)) = (&file.json, &file.tree) else {
            continue;
        };
        let Some(id) = json.pointer("/service/id").and_then(Value::as_str) else {
            continue;
        };
        let id_path = YamlPath::root().key("service").key("id");
        let span = tree.get(&id_path).map_or(tree.span, |n| n.span);
        if let Some(first) = services.get(id) {
            let first_file = &files[first.file].shown;
            found.push((
                index,
                Diagnostic::error(
                    Code::DuplicateServiceId,
                    &file.shown,
                    format!("service id `{id}` is already used by {first_file}"),
                )
                .with_span(span)
                .with_path(id_path)
                .with_label("used again here")
                .with_related(first_file, first.span, "first used here")
                .with_hint("service ids must be unique across all policy files: rename one"),
            ));
            continue;
        }
        let flows = json
            .get("flows")
            .and_then(Value::as_object)
            .map(|flows| {
                flows
                    .iter()
                    .map(|(flow_id, flow)| {
                        (flow_id.as_str(), flow.get("kind").and_then(Value::as_str))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let contacts = json
            .get("contacts")
            .and_then(Value::as_object)
            .map(|c| c.keys().map(String::as_str).collect());
        services.insert(
            id,
            Declared {
                file: index,
                span,
                flows,
                contacts,
            },
        );
    }
    for (index, file) in files.iter().enumerate() {
        found.extend(
            check_references(file, &services)
                .into_iter()
                .map(|d| (index, d)),
        );
    }
    found
}

fn check_references(file: &LoadedFile, services: &BTreeMap<&str, Declared<'_>>) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    let (Some(json), Some(tree)) = (&file.json, &file.tree) else {
        return found;
    };
    let Some(flows) = json.get("flows").and_then(Value::as_object) else {
        return found;
    };
    let at = |path: &YamlPath, code: Code, message: String| {
        let span = tree.get(path).map_or(tree.span, |n| n.span);
        Diagnostic::error(code, &file.shown, message)
            .with_span(span)
            .with_path(path.clone())
    };
    let known_ids = || services.keys().copied();
    for (flow_id, flow) in flows {
        let flow_path = YamlPath::root().key("flows").key(flow_id.clone());
        let refs = flow.get("delegates_to").and_then(Value::as_array);
        for (i, reference) in refs.into_iter().flatten().enumerate() {
            let path = flow_path.key("delegates_to").index(i);
            let Some(target) = reference.get("service").and_then(Value::as_str) else {
                continue;
            };
            let Some(declared) = services.get(target) else {
                found.push(unknown_service(
                    at(
                        &path.key("service"),
                        Code::UnknownService,
                        format!("delegates to unknown service `{target}`"),
                    ),
                    target,
                    known_ids(),
                ));
                continue;
            };
            match reference.get("flow").and_then(Value::as_str) {
                Some(target_flow) if !declared.flows.contains_key(target_flow) => {
                    let d = at(
                        &path.key("flow"),
                        Code::UnknownFlow,
                        format!("service `{target}` has no flow `{target_flow}`"),
                    );
                    let hint = match closest(target_flow, declared.flows.keys().copied()) {
                        Some(best) => format!("did you mean `{best}`?"),
                        None => format!(
                            "flows of `{target}`: {}",
                            declared
                                .flows
                                .keys()
                                .copied()
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    };
                    found.push(d.with_hint(hint));
                }
                Some(_) => {}
                None => {
                    let linking: Vec<&str> = declared
                        .flows
                        .iter()
                        .filter(|(_, kind)| **kind == Some("account_linking"))
                        .map(|(id, _)| *id)
                        .collect();
                    if linking.len() > 1 {
                        found.push(
                            at(
                                &path.key("service"),
                                Code::AmbiguousDelegation,
                                format!(
                                    "`{target}` has {} account_linking flows; which one is meant?",
                                    linking.len()
                                ),
                            )
                            .with_hint(format!("add `flow:` with one of: {}", linking.join(", "))),
                        );
                    }
                    if linking.is_empty() {
                        found.push(
                            at(
                                &path.key("service"),
                                Code::DelegationWithoutLinkingFlow,
                                format!(
                                    "delegates to `{target}`, which has no account_linking flow"
                                ),
                            )
                            .with_hint(format!(
                                "name the flow of `{target}` that authenticates the holder with `flow:`, or describe its account_linking flow"
                            )),
                        );
                    }
                }
            }
        }
        let payout = flow.pointer("/payout/services").and_then(Value::as_array);
        for (i, target) in payout.into_iter().flatten().enumerate() {
            let Some(target) = target.as_str() else {
                continue;
            };
            if !services.contains_key(target) {
                let path = flow_path.key("payout").key("services").index(i);
                found.push(unknown_service(
                    at(
                        &path,
                        Code::UnknownService,
                        format!("pays out to unknown service `{target}`"),
                    ),
                    target,
                    known_ids(),
                ));
            }
        }
        let steps = flow.get("steps").and_then(Value::as_array);
        for (i, step) in steps.into_iter().flatten().enumerate() {
            let Some(owner) = step.get("record_of").and_then(Value::as_str) else {
                continue;
            };
            let path = flow_path.key("steps").index(i);
            let Some(declared) = services.get(owner) else {
                found.push(unknown_service(
                    at(
                        &path.key("record_of"),
                        Code::UnknownService,
                        format!("code sent to a record of unknown service `{owner}`"),
                    ),
                    owner,
                    known_ids(),
                ));
                continue;
            };
            let Some(contact) = step.get("contact").and_then(Value::as_str) else {
                continue;
            };
            let known = declared.contacts.as_deref().unwrap_or_default();
            if !known.contains(&contact) {
                let hint = match closest(contact, known.iter().copied()) {
                    Some(best) => format!("did you mean `{best}`?"),
                    None => {
                        format!("declare `{contact}` under `contacts` in the policy of `{owner}`")
                    }
                };
                found.push(
                    at(
                        &path.key("contact"),
                        Code::UnknownContact,
                        format!("service `{owner}` declares no contact `{contact}`"),
                    )
                    .with_hint(hint),
                );
            }
        }
        let initiators = flow.get("initiated_by").and_then(Value::as_array);
        for (i, initiator) in initiators.into_iter().flatten().enumerate() {
            let Some(initiator) = initiator.as_str() else {
                continue;
            };
            if !services.contains_key(initiator) {
                let path = flow_path.key("initiated_by").index(i);
                found.push(unknown_service(
                    at(
                        &path,
                        Code::UnknownService,
                        format!("initiated by unknown service `{initiator}`"),
                    ),
                    initiator,
                    known_ids(),
                ));
            }
        }
    }
    found
}

fn unknown_service<'a>(
    diagnostic: Diagnostic,
    target: &str,
    known: impl Iterator<Item = &'a str>,
) -> Diagnostic {
    match closest(target, known) {
        Some(best) => diagnostic.with_hint(format!("did you mean `{best}`?")),
        None => diagnostic.with_hint(
            "describe that service in its own policy file and pass it to authaudit with this one",
        ),
    }
}
