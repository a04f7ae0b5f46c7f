//! Computes the flow view of every flow in a policy tree: the per-flow facts first
//! (`own_facts`), then the facts that need other services (delegation, initiators, the
//! contacts another service's flows can replace).

use super::own_facts::{own_flow_view, service_view};
use super::view::{DelegateView, View};
use crate::factors::Catalogue;
use crate::model::{FlowKind, Policy, ServiceKind};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

pub use crate::model::name_of;

/// Key of a flow across the tree: (service id, flow id).
type FlowKey = (String, String);

/// Builds the views of every flow of `policies`, resolving links between services.
pub fn build_views(policies: &[&Policy], catalogue: &Catalogue) -> BTreeMap<FlowKey, View> {
    let by_id: BTreeMap<&str, &Policy> = policies
        .iter()
        .map(|p| (p.service.id.as_str(), *p))
        .collect();
    // What needs one policy only, on every core; gathered in policy order.
    let own = crate::parallel::map(policies, |policy| {
        let flows: BTreeMap<String, _> = policy
            .flows
            .iter()
            .map(|(id, flow)| {
                (
                    id.clone(),
                    own_flow_view(policy, id, flow, catalogue, &by_id),
                )
            })
            .collect();
        let service = service_view(policy, &flows);
        flows
            .into_iter()
            .map(|(id, flow)| {
                let view = View {
                    service: service.clone(),
                    flow,
                };
                ((policy.service.id.clone(), id), view)
            })
            .collect::<Vec<_>>()
    });
    let mut views = BTreeMap::new();
    for (key, view) in own.into_iter().flatten() {
        views.insert(key, view);
    }
    let contact_changes = contact_change_strength(&views);
    let proofing: BTreeMap<String, i64> = views
        .iter()
        .map(|((service, _), view)| (service.clone(), view.service.proofing_level))
        .collect();
    let keys: Vec<FlowKey> = views.keys().cloned().collect();
    let index: BTreeMap<&FlowKey, usize> = keys.iter().enumerate().map(|(i, k)| (k, i)).collect();
    let leaves = delegate_leaves(&keys, &index, &by_id);
    let starters = collect_initiators(&keys, &index, &initiator_map(policies, &by_id), &by_id);
    let delegated: Vec<Vec<DelegateView>> = leaves
        .iter()
        .map(|set| {
            set.iter()
                .map(|&leaf| {
                    let v = &views[&keys[leaf]];
                    DelegateView {
                        flow: format!("{}/{}", keys[leaf].0, keys[leaf].1),
                        independent_categories: v.flow.independent_categories,
                        guess_chance: v.flow.guess_chance,
                    }
                })
                .collect()
        })
        .collect();
    for ((key, delegated), starters) in keys.iter().zip(delegated).zip(starters) {
        let weakest_initiator = starters
            .iter()
            .filter_map(|id| proofing.get(id))
            .copied()
            .filter(|level| *level >= 0)
            .min()
            .unwrap_or(-1);
        if let Some(view) = views.get_mut(key) {
            view.flow.weakest_delegate_categories = delegated
                .iter()
                .map(|d| d.independent_categories)
                .min()
                .unwrap_or(-1);
            view.flow.weakest_delegate_guess_chance = delegated
                .iter()
                .map(|d| d.guess_chance)
                .fold(-1.0, f64::max);
            view.flow.delegated = delegated;
            view.flow.initiators = starters.iter().cloned().collect();
            view.flow.weakest_initiator_proofing_level = weakest_initiator;
            view.flow.code_contact_weakest_change_categories = view
                .flow
                .steps
                .iter()
                .filter_map(|s| contact_changes.get(&s.contact))
                .copied()
                .min()
                .unwrap_or(-1);
        }
    }
    {
        let _paths = crate::timings::span(crate::timings::Phase::Paths);
        add_attack_chains(policies, catalogue, &mut views);
    }
    views
}

/// Runs the bundled attacker profiles over the tree (without the fix search) and tells each
/// flow which profiles have chains through it.
fn add_attack_chains(
    policies: &[&Policy],
    catalogue: &Catalogue,
    views: &mut BTreeMap<FlowKey, View>,
) {
    // The bundled profiles are parsed and checked once per process, not once per evaluation.
    static BUNDLED: std::sync::OnceLock<Vec<crate::attackers::AttackerProfile>> =
        std::sync::OnceLock::new();
    let bundled = BUNDLED.get_or_init(|| {
        crate::attackers::AttackerSet::bundled(&Catalogue::bundled())
            .profiles()
            .to_vec()
    });
    let profiles: Vec<_> = bundled.iter().collect();
    let inputs: Vec<crate::paths::Input> = policies
        .iter()
        .map(|p| crate::paths::Input {
            file: "",
            policy: p,
            tree: None,
        })
        .collect();
    let crate::paths::FlowsOnChains {
        mut determined,
        mut undetermined,
    } = crate::paths::flows_on_chains(
        &inputs,
        catalogue,
        &profiles,
        crate::paths::Limits::default(),
    );
    for (key, view) in views.iter_mut() {
        let sure = determined.remove(key).unwrap_or_default();
        let unsure = undetermined.remove(key).unwrap_or_default();
        view.flow.attack_chains_undetermined = unsure.difference(&sure).cloned().collect();
        view.flow.attack_chains = sure.into_iter().collect();
    }
}

/// For each `service/contact`, the fewest independent categories of a flow that replaces it.
fn contact_change_strength(views: &BTreeMap<FlowKey, View>) -> BTreeMap<String, i64> {
    let mut strength = BTreeMap::new();
    for ((service, _), view) in views {
        for contact in &view.service.contacts {
            if contact.weakest_change_categories >= 0 {
                strength.insert(
                    format!("{service}/{}", contact.id),
                    contact.weakest_change_categories,
                );
            }
        }
    }
    strength
}

/// The flow a reference names: the named flow, or the service's first account_linking flow.
fn resolve_ref(
    service: &str,
    flow: Option<&str>,
    by_id: &BTreeMap<&str, &Policy>,
) -> Option<FlowKey> {
    let policy = by_id.get(service)?;
    let flow_id = match flow {
        Some(id) => policy.flows.contains_key(id).then(|| id.to_owned())?,
        None => policy
            .flows
            .iter()
            .find(|(_, f)| f.kind == FlowKind::AccountLinking)
            .map(|(id, _)| id.clone())?,
    };
    Some((service.to_owned(), flow_id))
}

/// For every flow (by its index in `keys`), the flows that finally authenticate for it:
/// every flow without `delegates_to` reachable through delegation (gateways included).
/// Computed once for the whole tree, without recursion, so a chain of any length or a cycle
/// (validation refuses cycles, but the library does not rely on it) costs time linear in the
/// flows, the delegations and the sets returned.
fn delegate_leaves(
    keys: &[FlowKey],
    index: &BTreeMap<&FlowKey, usize>,
    by_id: &BTreeMap<&str, &Policy>,
) -> Vec<Rc<BTreeSet<usize>>> {
    let flow_of = |key: &FlowKey| &by_id[key.0.as_str()].flows[&key.1];
    let mut direct = vec![BTreeSet::new(); keys.len()];
    let mut next = vec![Vec::new(); keys.len()];
    for (node, key) in keys.iter().enumerate() {
        for reference in &flow_of(key).delegates_to {
            let Some(target) = resolve_ref(&reference.service, reference.flow.as_deref(), by_id)
            else {
                continue;
            };
            let Some(&target_node) = index.get(&target) else {
                continue;
            };
            if flow_of(&target).delegates_to.is_empty() {
                direct[node].insert(target_node);
            } else {
                next[node].push(target_node);
            }
        }
    }
    reachable_union(&direct, &next)
}

/// For each flow, the services that may start it: its `initiated_by`, and every service
/// whose flows delegate to it.
fn initiator_map(
    policies: &[&Policy],
    by_id: &BTreeMap<&str, &Policy>,
) -> BTreeMap<FlowKey, BTreeSet<String>> {
    let mut map: BTreeMap<FlowKey, BTreeSet<String>> = BTreeMap::new();
    for policy in policies {
        for (id, flow) in &policy.flows {
            let key = (policy.service.id.clone(), id.clone());
            map.entry(key)
                .or_default()
                .extend(flow.initiated_by.iter().cloned());
            for reference in &flow.delegates_to {
                if let Some(target) =
                    resolve_ref(&reference.service, reference.flow.as_deref(), by_id)
                {
                    map.entry(target)
                        .or_default()
                        .insert(policy.service.id.clone());
                }
            }
        }
    }
    map
}

/// For every flow (by its index in `keys`), the services that start it, looking through
/// gateways to the services behind them. Each gateway is one node whose successors are its
/// account_linking flows, so the walk is linear in flows and initiators (no flow × gateway-flow
/// product), iterative, and safe on loops.
fn collect_initiators(
    keys: &[FlowKey],
    index: &BTreeMap<&FlowKey, usize>,
    map: &BTreeMap<FlowKey, BTreeSet<String>>,
    by_id: &BTreeMap<&str, &Policy>,
) -> Vec<Rc<BTreeSet<String>>> {
    let mut gateways: BTreeMap<&str, usize> = BTreeMap::new();
    let mut direct: Vec<BTreeSet<String>> = vec![BTreeSet::new(); keys.len()];
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); keys.len()];
    for (node, key) in keys.iter().enumerate() {
        for service in map.get(key).into_iter().flatten() {
            let gateway = by_id
                .get(service.as_str())
                .filter(|p| p.service.kind == ServiceKind::LinkingGateway);
            match gateway {
                Some(policy) => {
                    let gateway_node = *gateways.entry(service.as_str()).or_insert_with(|| {
                        direct.push(BTreeSet::new());
                        next.push(
                            policy
                                .flows
                                .iter()
                                .filter(|(_, flow)| flow.kind == FlowKind::AccountLinking)
                                .filter_map(|(id, _)| {
                                    index.get(&(service.clone(), id.clone())).copied()
                                })
                                .collect(),
                        );
                        next.len() - 1
                    });
                    next[node].push(gateway_node);
                }
                None => {
                    direct[node].insert(service.clone());
                }
            }
        }
    }
    let mut all = reachable_union(&direct, &next);
    all.truncate(keys.len());
    all
}

/// For every node, the union of `direct` over the nodes reachable from it through `next`
/// (itself included). One iterative Tarjan walk finds the strongly connected components in
/// reverse topological order, so each component's set is built once from its own members and
/// the finished sets of the components it reaches: no recursion, no revisits, cycles allowed.
fn reachable_union<T: Ord + Clone>(
    direct: &[BTreeSet<T>],
    next: &[Vec<usize>],
) -> Vec<Rc<BTreeSet<T>>> {
    const UNSEEN: usize = usize::MAX;
    let n = next.len();
    let mut order = vec![UNSEEN; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut component = vec![UNSEEN; n];
    let mut sets: Vec<Rc<BTreeSet<T>>> = Vec::new();
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
            let id = sets.len();
            let mut members = Vec::new();
            while let Some(member) = stack.pop() {
                on_stack[member] = false;
                component[member] = id;
                members.push(member);
                if member == node {
                    break;
                }
            }
            let mut set = BTreeSet::new();
            for &member in &members {
                set.extend(direct[member].iter().cloned());
                for &target in &next[member] {
                    if component[target] != id {
                        set.extend(sets[component[target]].iter().cloned());
                    }
                }
            }
            sets.push(Rc::new(set));
        }
    }
    component.iter().map(|&c| Rc::clone(&sets[c])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::view::{FlowView, ServiceView};
    use crate::load::Loader;
    use crate::source::SizeBudget;

    const HEAD: &str = "version: 2\nservice: {id: SERVICE, name: n, kind: KIND, jurisdiction: JP, as_of: 2020-09-01, sources: [{title: t}]}\n";

    fn views(files: &[(&str, &str, &str)]) -> BTreeMap<FlowKey, View> {
        let loader = Loader::new(Catalogue::bundled(), SizeBudget::default());
        let texts: Vec<(String, String)> = files
            .iter()
            .map(|(id, kind, body)| {
                (
                    format!("{id}.yaml"),
                    HEAD.replace("SERVICE", id).replace("KIND", kind) + body,
                )
            })
            .collect();
        let tree = loader.load_texts(&texts);
        for file in &tree.files {
            assert!(file.is_valid(), "{:#?}", file.diagnostics);
        }
        let policies: Vec<&Policy> = tree.policies().map(|(_, p)| p).collect();
        build_views(&policies, loader.catalogue())
    }

    fn flow<'a>(views: &'a BTreeMap<FlowKey, View>, service: &str, flow: &str) -> &'a FlowView {
        &views[&(service.to_owned(), flow.to_owned())].flow
    }

    #[test]
    fn pin_guess_chance_follows_the_attempt_limit() {
        let limited = "flows:\n  link:\n    kind: account_linking\n    steps: [{verify: [holder_name, account_number, cash_card_pin]}]\n    limits: {attempts: {scope: account, max: 5, lockout: permanent}}\n";
        let unlimited = "flows:\n  link:\n    kind: account_linking\n    steps: [{verify: [holder_name, account_number, cash_card_pin]}]\n    limits: {attempts: {scope: none}}\n";
        let v = views(&[("a", "bank", limited), ("b", "bank", unlimited)]);
        let a = flow(&v, "a", "link");
        // A holder-chosen PIN: the catalogue's effective key space, not 10,000.
        assert!((a.guess_chance - 5.0 / 66.0).abs() < 1e-12);
        assert_eq!(a.independent_categories, 1);
        assert_eq!(a.categories, ["knowledge"]);
        assert_eq!(a.non_counting_factors, ["account_number", "holder_name"]);
        assert_eq!(a.enumerable_factors, ["cash_card_pin"]);
        assert!(a.attempt_limited && a.attempt_max == 5);
        assert_eq!(flow(&v, "a", "link").notification, "unknown");
        let b = flow(&v, "b", "link");
        assert!((b.guess_chance - 1.0).abs() < 1e-12);
        assert!(b.attempts_described && !b.attempt_limited);
    }

    #[test]
    fn lockout_and_notification_timing_are_exposed() {
        let bank = "flows:\n  link:\n    kind: account_linking\n    steps: [{verify: [cash_card_pin]}, {verify: [app_push], delivered_to: registered_contact}]\n    limits: {attempts: {scope: account, max: 5, lockout: temporary, lockout_duration: 30m}}\nnotifications:\n  - {event: account_linked, channels: [push], recipient: registered_contact, timing: immediate}\n  - {event: charge, channels: [email], recipient: new_contact}\n";
        let v = views(&[("k", "bank", bank)]);
        let link = flow(&v, "k", "link");
        assert_eq!(link.lockout_seconds, 1_800);
        assert!(link.notifies_holder && link.notification_timing == "immediate");
        // The PIN can be replayed; the app approval cannot.
        let service = &v[&("k".to_owned(), "link".to_owned())].service;
        assert_eq!(service.notifies, ["account_linked"]);
        assert_eq!(service.notifies_new_contact_only, ["charge"]);
    }

    #[test]
    fn a_passkey_counts_its_unlock_as_a_second_category() {
        let app = "flows:\n  login:\n    kind: login\n    steps: [{verify: [passkey]}]\n";
        let v = views(&[("w", "code_payment", app)]);
        let login = flow(&v, "w", "login");
        assert_eq!(login.categories, ["inherence", "possession"]);
        assert_eq!(login.independent_categories, 2);
        assert!(login.phishing_resistant);
    }

    #[test]
    fn codes_to_a_supplied_contact_are_free_for_the_attacker() {
        let reset = "flows:\n  reset:\n    kind: password_reset\n    steps:\n      - verify: [email_address, date_of_birth]\n      - verify: [email_link]\n        delivered_to: contact_supplied_in_flow\n    limits: {attempts: {scope: account, max: 3, lockout: permanent}}\n";
        let v = views(&[("p", "code_payment", reset)]);
        let r = flow(&v, "p", "reset");
        assert!(r.codes_to_supplied_contact);
        assert_eq!(r.independent_categories, 0);
        assert!((r.guess_chance - 1.0).abs() < 1e-12, "{}", r.guess_chance);
    }

    #[test]
    fn delegation_is_followed_through_gateways_and_initiators_back() {
        let wallet = "flows:\n  open:\n    kind: registration\n    identity_proofing: {level: email_only}\n    steps: [{verify: [email_otp], delivered_to: contact_supplied_in_flow}]\n  link:\n    kind: account_linking\n    steps: [{verify: [account_number]}]\n    delegates_to: [{service: gw}]\n";
        let gateway = "flows:\n  link:\n    kind: account_linking\n    steps: [{verify: [account_number]}]\n    initiated_by: [wallet]\n    delegates_to: [{service: weak}, {service: strong}]\n";
        let weak = "flows:\n  link:\n    kind: account_linking\n    steps: [{verify: [holder_name, account_number, cash_card_pin]}]\n    initiated_by: [gw]\n";
        let strong = "flows:\n  link:\n    kind: account_linking\n    steps: [{verify: [cash_card_pin]}, {verify: [sms_otp], delivered_to: registered_contact}]\n    initiated_by: [gw]\n";
        let v = views(&[
            ("wallet", "fund_transfer_operator", wallet),
            ("gw", "linking_gateway", gateway),
            ("weak", "bank", weak),
            ("strong", "bank", strong),
        ]);
        let link = flow(&v, "wallet", "link");
        let delegated: Vec<&str> = link.delegated.iter().map(|d| d.flow.as_str()).collect();
        assert_eq!(delegated, ["strong/link", "weak/link"]);
        assert_eq!(link.weakest_delegate_categories, 1);
        assert_eq!(
            v[&("wallet".to_owned(), "link".to_owned())]
                .service
                .proofing_level,
            1
        );
        let bank = flow(&v, "weak", "link");
        assert_eq!(bank.initiators, ["wallet"]);
        assert_eq!(bank.weakest_initiator_proofing_level, 1);
        assert_eq!(flow(&v, "strong", "link").independent_categories, 2);
    }

    fn service<'a>(
        views: &'a BTreeMap<FlowKey, View>,
        service: &str,
        flow: &str,
    ) -> &'a ServiceView {
        &views[&(service.to_owned(), flow.to_owned())].service
    }

    #[test]
    fn notifications_are_described_event_by_event() {
        let bank = "flows:\n  link:\n    kind: account_linking\n    steps: [{verify: [passkey]}]\n  pay:\n    kind: transfer\n    steps: [{verify: [passkey]}]\n  top:\n    kind: charge\n    steps: [{verify: [passkey]}]\nnotifications:\n  - {event: transfer, channels: [push], recipient: registered_contact}\n  - {event: account_linked, sent: false}\n";
        let v = views(&[("b", "bank", bank)]);
        let transfer = flow(&v, "b", "pay");
        assert_eq!(transfer.notification, "holder");
        assert!(transfer.notifies_holder && transfer.notification_described);
        let link = flow(&v, "b", "link");
        assert_eq!(link.notification, "none");
        assert!(!link.notifies_holder && link.notification_described);
        // Describing two events says nothing about the charge notice.
        let charge = flow(&v, "b", "top");
        assert_eq!(charge.notification, "unknown");
        assert!(!charge.notification_described);
        let s = service(&v, "b", "pay");
        assert_eq!(s.notifies, ["transfer"]);
        assert_eq!(s.notices_none, ["account_linked"]);
    }

    #[test]
    fn a_v1_notification_list_still_means_none_for_the_events_it_leaves_out() {
        let loader = Loader::new(Catalogue::bundled(), SizeBudget::default());
        let text = "version: 1\nservice: {id: old, name: n, kind: bank, jurisdiction: JP, as_of: 2020-09-01, sources: [{title: t}]}\nflows:\n  top:\n    kind: charge\n    steps: [{verify: [passkey]}]\nnotifications:\n  - {event: transfer, channels: [push], recipient: registered_contact}\n";
        let tree = loader.load_texts(&[("old.yaml".to_owned(), text.to_owned())]);
        let file = &tree.files[0];
        assert!(file.is_valid(), "{:#?}", file.diagnostics);
        let notes: Vec<&str> = file
            .diagnostics
            .iter()
            .map(|d| d.message.as_str())
            .collect();
        assert!(notes.iter().any(|m| m.contains("`charge`")), "{notes:#?}");
        let policies: Vec<&Policy> = tree.policies().map(|(_, p)| p).collect();
        let v = build_views(&policies, loader.catalogue());
        assert_eq!(flow(&v, "old", "top").notification, "none");
    }

    #[test]
    fn undescribed_attempt_limits_leave_the_guess_chance_unknown() {
        let bank = "flows:\n  link:\n    kind: account_linking\n    steps:\n      - verify: [cash_card_pin]\n      - {verify: [sms_otp], delivered_to: registered_contact}\n";
        let v = views(&[("u", "bank", bank)]);
        let link = flow(&v, "u", "link");
        assert!(!link.attempts_described && !link.attempt_limited);
        assert_eq!(link.attempt_scope, "unknown");
        assert!(!link.guess_chance_known);
        assert!(link.guess_chance < 0.0);
        assert_eq!(link.step_guess_chances, [-1.0, -1.0]);
    }

    #[test]
    fn attempt_limits_can_cover_one_step_only() {
        let bank = "flows:\n  link:\n    kind: account_linking\n    steps:\n      - verify: [cash_card_pin]\n        attempts: {scope: credential, max: 3, lockout: permanent}\n      - verify: [card_security_code]\n    limits:\n      attempts: {scope: ip, max: 10, lockout: temporary, lockout_duration: 10m}\n";
        let v = views(&[("s", "bank", bank)]);
        let link = flow(&v, "s", "link");
        assert_eq!(link.steps[0].attempt_scope, "credential");
        assert_eq!(link.steps[1].attempt_scope, "ip");
        assert_eq!(link.attempt_scope, "mixed");
        assert!(link.attempt_limited && !link.attempt_scope_follows_target);
        assert_eq!(link.attempt_max, 10);
        assert_eq!(
            (link.lockout.as_str(), link.lockout_seconds),
            ("temporary", 600)
        );
    }

    #[test]
    fn an_opt_in_step_and_a_code_to_a_supplied_contact_add_no_category() {
        let app = "flows:\n  login:\n    kind: login\n    steps:\n      - verify: [password]\n      - verify: [totp_app]\n        enforcement: opt_in\n  reset:\n    kind: password_reset\n    steps:\n      - verify: [password]\n      - {verify: [sms_otp], delivered_to: contact_supplied_in_flow}\n";
        let v = views(&[("o", "code_payment", app)]);
        let login = flow(&v, "o", "login");
        assert_eq!(login.independent_categories, 1);
        assert_eq!(login.opt_in_steps, 1);
        assert_eq!(login.steps[1].enforcement, "opt_in");
        let reset = flow(&v, "o", "reset");
        assert_eq!(reset.categories, ["knowledge"]);
        assert_eq!(reset.codes_reach, "requester");
    }

    #[test]
    fn codes_follow_the_record_they_are_sent_to_and_its_changes() {
        let wallet = "contacts:\n  email: {kind: email, registered_by: account_opener}\nflows:\n  change:\n    kind: contact_change\n    replaces_contact: email\n    old_contact_notified: false\n    steps: [{verify: [password]}]\n";
        let bank = "contacts:\n  mobile: {kind: phone, registered_by: holder_after_proofing}\nflows:\n  link:\n    kind: account_linking\n    steps:\n      - verify: [cash_card_pin]\n      - {verify: [email_otp], delivered_to: registered_contact, record_of: w, contact: email}\n  own:\n    kind: account_linking\n    steps:\n      - verify: [cash_card_pin]\n      - {verify: [sms_otp], delivered_to: registered_contact, contact: mobile}\n";
        let v = views(&[("w", "fund_transfer_operator", wallet), ("k", "bank", bank)]);
        let link = flow(&v, "k", "link");
        assert_eq!(link.steps[1].contact, "w/email");
        assert_eq!(link.codes_reach, "account_opener");
        assert_eq!(link.code_contact_weakest_change_categories, 1);
        let own = flow(&v, "k", "own");
        assert_eq!(own.codes_reach, "holder");
        assert_eq!(own.code_contact_weakest_change_categories, -1);
        let w = service(&v, "w", "change");
        assert_eq!(w.contacts[0].replaced_by, ["change"]);
        assert_eq!(w.contacts[0].change_tells_old_contact, "no");
        assert_eq!(flow(&v, "w", "change").old_contact_notified, "no");
    }

    #[test]
    fn new_kinds_keep_three_states() {
        let bank = "flows:\n  card:\n    kind: card_issuance\n    steps: [{verify: [password]}]\n    usable_before_delivery: true\n  out:\n    kind: transfer\n    steps: [{verify: [password]}]\n    payout: {constraint: same_name_only, services: [k]}\n  payee:\n    kind: payee_registration\n    steps: [{verify: [password]}]\n    cooling_off: none\n";
        let v = views(&[("k", "bank", bank)]);
        let card = flow(&v, "k", "card");
        assert_eq!(card.usable_before_delivery, "yes");
        assert_eq!(card.usable_before_activation, "unknown");
        let out = flow(&v, "k", "out");
        assert_eq!(out.payout_constraint, "same_name_only");
        assert_eq!(out.payout_services, ["k"]);
        assert_eq!(out.usable_before_delivery, "");
        let payee = flow(&v, "k", "payee");
        assert!(payee.cooling_off_described && payee.cooling_off_seconds == 0);
        assert_eq!(payee.payout_constraint, "unknown");
        let s = service(&v, "k", "card");
        assert!(!s.compensation_described && !s.monitoring_described);
        assert_eq!(s.proofing_accepts_document_images, "unknown");
        assert_eq!(s.kill_switch, "unknown");
    }
}
