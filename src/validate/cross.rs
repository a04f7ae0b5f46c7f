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
    found.extend(check_delegation_graph(files, &services));
    found
}

/// The most delegation hops a chain may take (`a → b` is one hop). Real chains are short (a
/// wallet hands the holder to a gateway, which hands them to a bank: two hops); the bound keeps
/// what a hostile tree can make authaudit follow small and says so where it starts.
pub const MAX_DELEGATION_HOPS: usize = 32;

/// How many flows a cycle or chain message names before it elides the middle.
const NAMED_FLOWS: usize = 8;

/// One `delegates_to` entry, resolved to the flow it names.
struct Delegation {
    target: usize,
    entry: usize,
}

/// Delegation cycles (`delegation-cycle`, at the entry that closes each) and chains longer than
/// [`MAX_DELEGATION_HOPS`] (`delegation-too-deep`, at the first entry of the chain). One
/// iterative depth-first walk over every flow of the tree: linear in flows and entries, no
/// recursion, whatever the length of the chains or the number of cycles.
fn check_delegation_graph(
    files: &[LoadedFile],
    services: &BTreeMap<&str, Declared<'_>>,
) -> Vec<(usize, Diagnostic)> {
    let mut nodes: Vec<(&str, &str)> = Vec::new();
    let mut index: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for (service, declared) in services {
        for flow in declared.flows.keys() {
            index.insert((service, flow), nodes.len());
            nodes.push((service, flow));
        }
    }
    let flow_json = |node: usize| {
        let (service, flow) = nodes[node];
        files[services[service].file]
            .json
            .as_ref()
            .and_then(|json| json.get("flows"))
            .and_then(|flows| flows.get(flow))
    };
    let mut edges: Vec<Vec<Delegation>> = Vec::with_capacity(nodes.len());
    for node in 0..nodes.len() {
        let refs = flow_json(node)
            .and_then(|flow| flow.get("delegates_to"))
            .and_then(Value::as_array);
        let mut out = Vec::new();
        for (entry, reference) in refs.into_iter().flatten().enumerate() {
            let Some(target) = reference.get("service").and_then(Value::as_str) else {
                continue;
            };
            let Some(declared) = services.get(target) else {
                continue;
            };
            let flow = match reference.get("flow").and_then(Value::as_str) {
                Some(flow) => Some(flow),
                None => {
                    let mut linking = declared
                        .flows
                        .iter()
                        .filter(|(_, kind)| **kind == Some("account_linking"));
                    // Ambiguous or missing targets are reported above.
                    match (linking.next(), linking.next()) {
                        (Some((id, _)), None) => Some(*id),
                        _ => None,
                    }
                }
            };
            if let Some(&target) = flow.and_then(|flow| index.get(&(target, flow))) {
                out.push(Delegation { target, entry });
            }
        }
        edges.push(out);
    }

    let name = |node: usize| format!("`{}/{}`", nodes[node].0, nodes[node].1);
    let entry_at = |node: usize, entry: usize, code: Code, message: String| {
        let (service, flow) = nodes[node];
        let file_index = services[service].file;
        let file = &files[file_index];
        let path = YamlPath::root()
            .key("flows")
            .key(flow.to_owned())
            .key("delegates_to")
            .index(entry);
        let span = file
            .tree
            .as_ref()
            .map(|tree| tree.get(&path).map_or(tree.span, |n| n.span))
            .unwrap_or_default();
        (
            file_index,
            Diagnostic::error(code, &file.shown, message)
                .with_span(span)
                .with_path(path),
        )
    };

    const WHITE: u8 = 0;
    const GREY: u8 = 1;
    const BLACK: u8 = 2;
    let mut colour = vec![WHITE; nodes.len()];
    // Longest chain of hops from each flow (cycle-closing entries left out) and the entry
    // that starts it.
    let mut depth = vec![0usize; nodes.len()];
    let mut deepest: Vec<Option<usize>> = vec![None; nodes.len()];
    let mut reached = vec![false; nodes.len()];
    let mut found = Vec::new();
    let mut path: Vec<usize> = Vec::new();
    let mut calls: Vec<(usize, usize)> = Vec::new();
    for root in 0..nodes.len() {
        if colour[root] != WHITE {
            continue;
        }
        colour[root] = GREY;
        path.push(root);
        calls.push((root, 0));
        while let Some((node, edge)) = calls.last_mut() {
            let node = *node;
            let Some(delegation) = edges[node].get(*edge) else {
                calls.pop();
                path.pop();
                colour[node] = BLACK;
                if let Some(&(parent, edge)) = calls.last() {
                    let hops = depth[node] + 1;
                    if hops > depth[parent] {
                        depth[parent] = hops;
                        deepest[parent] = Some(edge - 1);
                    }
                }
                continue;
            };
            *edge += 1;
            let target = delegation.target;
            match colour[target] {
                WHITE => {
                    reached[target] = true;
                    colour[target] = GREY;
                    path.push(target);
                    calls.push((target, 0));
                }
                GREY => {
                    let start = path.iter().rposition(|&n| n == target).unwrap_or(0);
                    let cycle: Vec<usize> = path[start..].iter().copied().chain([target]).collect();
                    let message = if cycle.len() == 2 {
                        format!("flow {} delegates to itself", name(node))
                    } else {
                        format!(
                            "delegation cycle of {} flows: {}",
                            cycle.len() - 1,
                            chain_text(&cycle, &name)
                        )
                    };
                    let (file, diagnostic) =
                        entry_at(node, delegation.entry, Code::DelegationCycle, message);
                    found.push((
                        file,
                        diagnostic
                            .with_label("closes the cycle")
                            .with_hint(
                                "delegation must end at a flow that authenticates the holder itself: remove this entry or point it at that flow",
                            ),
                    ));
                }
                _ => {
                    reached[target] = true;
                    let hops = depth[target] + 1;
                    if hops > depth[node] {
                        depth[node] = hops;
                        deepest[node] = Some(*edge - 1);
                    }
                }
            }
        }
    }
    for node in 0..nodes.len() {
        if reached[node] || depth[node] <= MAX_DELEGATION_HOPS {
            continue;
        }
        let Some(first) = deepest[node] else {
            continue;
        };
        let mut chain = vec![node];
        let mut at = node;
        while let Some(edge) = deepest[at] {
            at = edges[at][edge].target;
            chain.push(at);
            if chain.len() > depth[node] {
                break;
            }
        }
        let message = format!(
            "delegation from {} goes {} hops deep, over the limit of {MAX_DELEGATION_HOPS}: {}",
            name(node),
            depth[node],
            chain_text(&chain, &name)
        );
        let (file, diagnostic) = entry_at(
            node,
            edges[node][first].entry,
            Code::DelegationTooDeep,
            message,
        );
        found.push((
            file,
            diagnostic.with_label("chain starts here").with_hint(format!(
                "authaudit follows at most {MAX_DELEGATION_HOPS} delegation hops; real chains (wallet → gateway → bank) take two or three: end the chain at the flow that authenticates the holder"
            )),
        ));
    }
    found
}

/// `a → b → … → z`, naming at most [`NAMED_FLOWS`] flows.
fn chain_text(chain: &[usize], name: &impl Fn(usize) -> String) -> String {
    let named: Vec<String> = if chain.len() <= NAMED_FLOWS {
        chain.iter().map(|&n| name(n)).collect()
    } else {
        let head = NAMED_FLOWS / 2;
        let tail = NAMED_FLOWS - head - 1;
        chain[..head]
            .iter()
            .map(|&n| name(n))
            .chain([format!("… ({} more) …", chain.len() - head - tail)])
            .chain(chain[chain.len() - tail..].iter().map(|&n| name(n)))
            .collect()
    };
    named.join(" → ")
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
