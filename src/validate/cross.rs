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
    /// Whether the service is a `linking_gateway`: the services that pass holders on, so the
    /// initiators of a flow are looked for behind them.
    gateway: bool,
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
                gateway: json.pointer("/service/kind").and_then(Value::as_str)
                    == Some("linking_gateway"),
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
    let graph = FlowGraph::new(files, &services);
    let (cycles, on_cycle) = check_delegation_graph(files, &services, &graph);
    found.extend(cycles);
    found.extend(check_initiator_loops(files, &services, &graph, &on_cycle));
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

/// Every flow of the tree, with its `delegates_to` entries resolved to the flows they name.
struct FlowGraph<'a> {
    /// (service id, flow id), sorted.
    nodes: Vec<(&'a str, &'a str)>,
    edges: Vec<Vec<Delegation>>,
}

impl<'a> FlowGraph<'a> {
    fn new(files: &'a [LoadedFile], services: &BTreeMap<&'a str, Declared<'a>>) -> Self {
        let mut nodes: Vec<(&str, &str)> = Vec::new();
        let mut index: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        for (service, declared) in services {
            for flow in declared.flows.keys() {
                index.insert((service, flow), nodes.len());
                nodes.push((service, flow));
            }
        }
        let mut edges: Vec<Vec<Delegation>> = Vec::with_capacity(nodes.len());
        for &(service, flow) in &nodes {
            let refs = flow_json(files, services, service, flow)
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
        Self { nodes, edges }
    }

    fn name(&self, node: usize) -> String {
        format!("`{}/{}`", self.nodes[node].0, self.nodes[node].1)
    }
}

/// The JSON form of one flow of a declared service.
fn flow_json<'a>(
    files: &'a [LoadedFile],
    services: &BTreeMap<&str, Declared<'_>>,
    service: &str,
    flow: &str,
) -> Option<&'a Value> {
    files[services.get(service)?.file]
        .json
        .as_ref()?
        .get("flows")?
        .get(flow)
}

/// An error at one entry of a flow's list (`delegates_to[2]`, `initiated_by[0]`), in the file
/// of that flow's service.
fn entry_error(
    files: &[LoadedFile],
    services: &BTreeMap<&str, Declared<'_>>,
    (service, flow): (&str, &str),
    (list, entry): (&str, usize),
    code: Code,
    message: String,
) -> (usize, Diagnostic) {
    let file_index = services[service].file;
    let file = &files[file_index];
    let path = YamlPath::root()
        .key("flows")
        .key(flow.to_owned())
        .key(list)
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
}

/// Delegation cycles (`delegation-cycle`, at the entry that closes each) and chains longer than
/// [`MAX_DELEGATION_HOPS`] (`delegation-too-deep`, at the first entry of the chain), and which
/// flows lie on a cycle. One iterative depth-first walk over every flow of the tree: linear in
/// flows and entries, no recursion, whatever the length of the chains or the number of cycles.
fn check_delegation_graph(
    files: &[LoadedFile],
    services: &BTreeMap<&str, Declared<'_>>,
    graph: &FlowGraph<'_>,
) -> (Vec<(usize, Diagnostic)>, Vec<bool>) {
    let nodes = &graph.nodes;
    let edges = &graph.edges;
    let name = |node: usize| graph.name(node);
    let entry_at = |node: usize, entry: usize, code: Code, message: String| {
        entry_error(
            files,
            services,
            nodes[node],
            ("delegates_to", entry),
            code,
            message,
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
    let mut on_cycle = vec![false; nodes.len()];
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
                    for &member in &cycle {
                        on_cycle[member] = true;
                    }
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
    (found, on_cycle)
}

/// `a → b → … → z`, naming at most [`NAMED_FLOWS`] flows.
fn chain_text(chain: &[usize], name: &impl Fn(usize) -> String) -> String {
    chain_text_with(chain, name, " → ")
}

/// [`chain_text`] with another arrow.
fn chain_text_with(chain: &[usize], name: &impl Fn(usize) -> String, arrow: &str) -> String {
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
    named.join(arrow)
}

/// Why a flow is started by a gateway: an entry of its own `initiated_by`, or a flow of the
/// gateway that delegates to it (its node and `delegates_to` entry).
#[derive(Clone, Copy)]
enum StartedBy {
    Initiator(usize),
    Delegation(usize, usize),
}

/// Loops of `initiated_by` (and of delegations read as initiators) through linking gateways
/// that nothing outside the loop enters (`initiator-loop`), one diagnostic per loop.
///
/// A flow's initiators are its `initiated_by` services and the services whose flows delegate
/// to it; a gateway only passes holders on, so the initiators of a flow it starts are looked for
/// behind it, at whatever starts the gateway's account_linking flows (as `evaluate::facts`
/// does). When every flow of a loop is started only by gateways of that same loop, no wallet,
/// payment service or bank can start any of them: the policies claim a way in that does not
/// exist, and the facts computed behind the gateways would be empty. A loop with any way in (a
/// flow of it started by a service that is not a gateway, or by a gateway outside the loop) is
/// fine. Loops that are delegation cycles are reported as `delegation-cycle` instead.
///
/// Flows and gateways are the nodes (a gateway leads to its account_linking flows, so there is
/// no flow × gateway-flow product); one iterative Tarjan walk finds the loops and one
/// breadth-first search inside each closed loop names a shortest cycle: linear in flows and
/// entries, no recursion.
fn check_initiator_loops(
    files: &[LoadedFile],
    services: &BTreeMap<&str, Declared<'_>>,
    graph: &FlowGraph<'_>,
    on_cycle: &[bool],
) -> Vec<(usize, Diagnostic)> {
    let flows = graph.nodes.len();
    let mut gateway_node: BTreeMap<&str, usize> = BTreeMap::new();
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); flows];
    let mut gateways: Vec<&str> = Vec::new();
    for (service, declared) in services.iter().filter(|(_, d)| d.gateway) {
        gateway_node.insert(service, flows + gateways.len());
        gateways.push(service);
        next.push(
            declared
                .flows
                .iter()
                .filter(|(_, kind)| **kind == Some("account_linking"))
                .filter_map(|(flow, _)| graph.nodes.binary_search(&(service, flow)).ok())
                .collect(),
        );
    }
    // For each flow: the gateways that start it and why, and whether anything else does.
    let mut started_by: Vec<Vec<(usize, StartedBy)>> = vec![Vec::new(); flows];
    let mut entered = vec![false; flows];
    let mut start = |flow: usize, service: &str, why: StartedBy| match gateway_node.get(service) {
        Some(&gateway) => started_by[flow].push((gateway, why)),
        // Another kind of service, or an unknown one (reported as `unknown-service`).
        None => entered[flow] = true,
    };
    for (node, &(service, flow)) in graph.nodes.iter().enumerate() {
        let initiators = flow_json(files, services, service, flow)
            .and_then(|flow| flow.get("initiated_by"))
            .and_then(Value::as_array);
        for (entry, initiator) in initiators.into_iter().flatten().enumerate() {
            if let Some(initiator) = initiator.as_str() {
                start(node, initiator, StartedBy::Initiator(entry));
            }
        }
        for delegation in &graph.edges[node] {
            start(
                delegation.target,
                service,
                StartedBy::Delegation(node, delegation.entry),
            );
        }
    }
    for (node, starts) in started_by.iter().enumerate() {
        next[node].extend(starts.iter().map(|(gateway, _)| *gateway));
    }

    let component = strongly_connected(&next);
    let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (node, &c) in component.iter().enumerate() {
        members.entry(c).or_default().push(node);
    }
    let name = |node: usize| graph.name(node);
    let mut found = Vec::new();
    for loop_nodes in members.values().filter(|m| m.len() > 1) {
        let here = component[loop_nodes[0]];
        let closed = loop_nodes.iter().all(|&node| {
            next[node].iter().all(|&n| component[n] == here)
                && (node >= flows || (!entered[node] && !on_cycle[node]))
        });
        if !closed {
            continue;
        }
        // Nodes are numbered in (service, flow) order: the first flow of the loop.
        let first = loop_nodes[0];
        let cycle = shortest_cycle(first, &next, &component);
        // A flow leads only to gateways, so the second node is the gateway that starts it.
        let Some(gateway) = cycle.get(1).and_then(|&n| n.checked_sub(flows)) else {
            continue;
        };
        let cycle_flows: Vec<usize> = cycle.iter().copied().filter(|&n| n < flows).collect();
        let why = started_by[first]
            .iter()
            .filter(|(g, _)| *g == flows + gateway)
            .map(|(_, why)| *why)
            .min_by_key(|why| matches!(why, StartedBy::Delegation(..)))
            .unwrap_or(StartedBy::Initiator(0));
        let loop_flows = loop_nodes.iter().filter(|&&n| n < flows).count();
        let more = loop_flows + 1 - cycle_flows.len();
        let also = if more > 0 {
            format!(" ({more} more flows are started only from inside the loop)")
        } else {
            String::new()
        };
        let message = if cycle_flows.len() == 2 {
            format!(
                "flow {} can only be started by its own gateway `{}`, and nothing outside that gateway starts it{also}",
                name(first),
                gateways[gateway]
            )
        } else {
            format!(
                "initiator loop of {} flows: {}; each is started only by a gateway of the loop, so nothing outside it can start them{also}",
                cycle_flows.len() - 1,
                chain_text_with(&cycle_flows, &name, " ← ")
            )
        };
        let (file, diagnostic) = match why {
            StartedBy::Initiator(entry) => entry_error(
                files,
                services,
                graph.nodes[first],
                ("initiated_by", entry),
                Code::InitiatorLoop,
                message,
            ),
            StartedBy::Delegation(from, entry) => entry_error(
                files,
                services,
                graph.nodes[from],
                ("delegates_to", entry),
                Code::InitiatorLoop,
                message,
            ),
        };
        found.push((
            file,
            diagnostic
                .with_label(format!("started only by `{}`", gateways[gateway]))
                .with_hint(
                    "name in `initiated_by` the services that really send holders to these gateways (a wallet or payment service), or remove the entry that closes the loop",
                ),
        ));
    }
    found
}

/// The component of every node, by one iterative Tarjan walk (no recursion).
fn strongly_connected(next: &[Vec<usize>]) -> Vec<usize> {
    const UNSEEN: usize = usize::MAX;
    let n = next.len();
    let mut order = vec![UNSEEN; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut component = vec![UNSEEN; n];
    let mut components = 0;
    let mut stack: Vec<usize> = Vec::new();
    let mut calls: Vec<(usize, usize)> = Vec::new();
    let mut counter = 0;
    for root in 0..n {
        if order[root] != UNSEEN {
            continue;
        }
        order[root] = counter;
        low[root] = counter;
        counter += 1;
        stack.push(root);
        on_stack[root] = true;
        calls.push((root, 0));
        while let Some((node, edge)) = calls.last_mut() {
            let node = *node;
            if let Some(&target) = next[node].get(*edge) {
                *edge += 1;
                if order[target] == UNSEEN {
                    order[target] = counter;
                    low[target] = counter;
                    counter += 1;
                    stack.push(target);
                    on_stack[target] = true;
                    calls.push((target, 0));
                } else if on_stack[target] {
                    low[node] = low[node].min(order[target]);
                }
                continue;
            }
            calls.pop();
            if let Some(&(parent, _)) = calls.last() {
                low[parent] = low[parent].min(low[node]);
            }
            if low[node] != order[node] {
                continue;
            }
            while let Some(member) = stack.pop() {
                on_stack[member] = false;
                component[member] = components;
                if member == node {
                    break;
                }
            }
            components += 1;
        }
    }
    component
}

/// A shortest path from `start` back to itself inside its component (breadth-first, so the
/// message names the fewest flows), `start` first and last.
fn shortest_cycle(start: usize, next: &[Vec<usize>], component: &[usize]) -> Vec<usize> {
    let mut parent: BTreeMap<usize, usize> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    let mut last = start;
    'search: while let Some(node) = queue.pop_front() {
        for &target in &next[node] {
            if component[target] != component[start] {
                continue;
            }
            if target == start {
                last = node;
                break 'search;
            }
            if let std::collections::btree_map::Entry::Vacant(seen) = parent.entry(target) {
                seen.insert(node);
                queue.push_back(target);
            }
        }
    }
    let mut back = vec![start];
    let mut at = last;
    while at != start {
        back.push(at);
        let Some(&before) = parent.get(&at) else {
            break;
        };
        at = before;
    }
    back.push(start);
    back.reverse();
    back
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
