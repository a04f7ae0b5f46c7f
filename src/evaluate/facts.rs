//! Computes the flow view of every flow in a policy tree: the per-flow facts first, then the
//! facts that need other services (delegation, initiators).

use super::view::{DelegateView, FlowView, ServiceView, View};
use crate::factors::{Catalogue, Category};
use crate::model::{
    AttemptScope, Delivery, Flow, FlowKind, Lockout, NotificationEvent, Policy, Recipient,
    ServiceKind, parse_duration,
};
use std::collections::{BTreeMap, BTreeSet};

/// Snake-case name of a serde enum value.
pub fn name_of<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The event a flow's completion should tell the holder about.
fn event_of(kind: FlowKind) -> NotificationEvent {
    match kind {
        FlowKind::Registration => NotificationEvent::Registration,
        FlowKind::Login => NotificationEvent::Login,
        FlowKind::AccountLinking => NotificationEvent::AccountLinked,
        FlowKind::CardRegistration => NotificationEvent::CardRegistered,
        FlowKind::Charge => NotificationEvent::Charge,
        FlowKind::Payment => NotificationEvent::Payment,
        FlowKind::Transfer => NotificationEvent::Transfer,
        FlowKind::PasswordReset => NotificationEvent::PasswordChanged,
        FlowKind::ContactChange => NotificationEvent::ContactChanged,
        FlowKind::DeviceActivation => NotificationEvent::NewDevice,
    }
}

pub fn service_view(policy: &Policy) -> ServiceView {
    let proofing = policy
        .flows
        .values()
        .filter(|f| f.kind == FlowKind::Registration)
        .filter_map(|f| f.identity_proofing.as_ref())
        .min_by_key(|p| p.level);
    let mut notifies = BTreeSet::new();
    let mut new_only = BTreeSet::new();
    for notification in policy.notifications.iter().flatten() {
        let event = name_of(&notification.event);
        match notification.recipient {
            Recipient::RegisteredContact | Recipient::Both => notifies.insert(event),
            Recipient::NewContact => new_only.insert(event),
        };
    }
    let new_only = new_only.difference(&notifies).cloned().collect();
    ServiceView {
        id: policy.service.id.clone(),
        kind: name_of(&policy.service.kind),
        jurisdiction: policy.service.jurisdiction.clone(),
        proofing_level: proofing.map_or(-1, |p| p.level as i64),
        proofing: proofing.map_or_else(|| "unknown".to_owned(), |p| name_of(&p.level)),
        ekyc_method: proofing
            .and_then(|p| p.method)
            .map(|m| name_of(&m))
            .unwrap_or_default(),
        notifications_described: policy.notifications.is_some(),
        notifies: notifies.into_iter().collect(),
        notifies_new_contact_only: new_only,
        monitoring_level: policy.monitoring.as_ref().map_or(-1, |m| m.level as i64),
        compensation_published: policy.compensation.as_ref().is_some_and(|c| c.published),
        compensation_scope: policy
            .compensation
            .iter()
            .flat_map(|c| c.scope.iter().map(name_of))
            .collect(),
    }
}

/// Facts of one flow that need nothing outside its own policy.
pub fn own_flow_view(policy: &Policy, id: &str, flow: &Flow, catalogue: &Catalogue) -> FlowView {
    let attempts = flow.limits.as_ref().and_then(|l| l.attempts.as_ref());
    let attempt_limited = attempts.is_some_and(|a| a.scope != AttemptScope::None);
    let attempt_max = attempts.and_then(|a| a.max).filter(|_| attempt_limited);
    let mut factors = BTreeSet::new();
    let mut counting = BTreeSet::new();
    let mut enumerable = BTreeSet::new();
    let mut categories = BTreeSet::new();
    let mut has_delivered = false;
    let mut supplied = false;
    let (mut restricted, mut phishing, mut replay, mut any_replay) = (false, false, true, false);
    let mut step_chances = Vec::new();
    for step in &flow.steps {
        let mut chance = 1.0_f64;
        for name in &step.verify {
            factors.insert(name.clone());
            let Some(factor) = catalogue.get(name) else {
                continue;
            };
            let delivered = factor.delivered_by.is_some();
            let to_attacker =
                delivered && step.delivered_to == Some(Delivery::ContactSuppliedInFlow);
            has_delivered |= delivered;
            supplied |= to_attacker;
            restricted |= factor.restricted;
            if factor.key_space.is_some()
                || (factor.secret && factor.category == Category::Knowledge)
            {
                enumerable.insert(name.clone());
            }
            if factor.counts() {
                counting.insert(name.clone());
                categories.insert(name_of(&factor.category));
                if let Some(unlock) = factor.unlock {
                    categories.insert(name_of(&unlock));
                }
                phishing |= factor.phishing_resistant;
                replay &= factor.replay_resistant;
                any_replay |= factor.replay_resistant;
            }
            chance *= match (to_attacker, factor.key_space, factor.secret) {
                // The requester chose where the code goes: they simply read it.
                (true, _, _) => 1.0,
                (false, Some(space), _) => {
                    attempt_max.map_or(1.0, |max| (f64::from(max) / space as f64).min(1.0))
                }
                (false, None, false) => 1.0,
                (false, None, true) => 0.0,
            };
        }
        step_chances.push(chance);
    }
    let event = name_of(&event_of(flow.kind));
    let registered_notice = policy.notifications.iter().flatten().find(|n| {
        name_of(&n.event) == event
            && matches!(n.recipient, Recipient::RegisteredContact | Recipient::Both)
    });
    let non_counting = factors.difference(&counting).cloned().collect();
    FlowView {
        id: id.to_owned(),
        kind: name_of(&flow.kind),
        step_count: flow.steps.len() as i64,
        factors: factors.into_iter().collect(),
        counting_factors: counting.iter().cloned().collect(),
        non_counting_factors: non_counting,
        enumerable_factors: enumerable.into_iter().collect(),
        // Only counting factors add a category, and none of them is of category `none`.
        independent_categories: categories.len() as i64,
        categories: categories.into_iter().collect(),
        has_delivered_factor: has_delivered,
        codes_to_registered_contact_only: !supplied,
        codes_to_supplied_contact: supplied,
        uses_restricted_factor: restricted,
        phishing_resistant: phishing,
        replay_resistant: replay && !counting.is_empty(),
        any_replay_resistant: any_replay,
        attempts_described: attempts.is_some(),
        attempt_limited,
        attempt_max: attempt_max.map_or(0, i64::from),
        attempt_scope: attempts.map_or_else(|| "unknown".to_owned(), |a| name_of(&a.scope)),
        lockout_seconds: attempts
            .filter(|a| a.lockout == Some(Lockout::Temporary))
            .and_then(|a| a.lockout_duration.as_deref())
            .and_then(|d| parse_duration(d).ok())
            .map_or(0, |s| i64::try_from(s).unwrap_or(i64::MAX)),
        lockout: attempts
            .and_then(|a| a.lockout)
            .map(|l: Lockout| name_of(&l))
            .unwrap_or_default(),
        guess_chance: step_chances.iter().product(),
        step_guess_chances: step_chances,
        velocity_limited: flow.limits.as_ref().is_some_and(|l| !l.velocity.is_empty()),
        amount_limited: flow
            .limits
            .as_ref()
            .and_then(|l| l.amounts.as_ref())
            .is_some_and(|a| a.per_transaction.is_some() || a.per_day.is_some()),
        name_matching: flow
            .name_matching
            .map_or_else(|| "unspecified".to_owned(), |m| name_of(&m)),
        cooling_off_seconds: flow
            .cooling_off
            .as_deref()
            .and_then(|d| parse_duration(d).ok())
            .map_or(0, |s| i64::try_from(s).unwrap_or(i64::MAX)),
        notifies_holder: registered_notice.is_some(),
        notification_timing: registered_notice.map_or_else(
            || "none".to_owned(),
            |n| {
                n.timing
                    .map_or_else(|| "unspecified".to_owned(), |t| name_of(&t))
            },
        ),
        notification_threshold: registered_notice
            .and_then(|n| n.threshold)
            .map_or(0, |t| i64::try_from(t).unwrap_or(i64::MAX)),
        delegates: !flow.delegates_to.is_empty(),
        delegated: Vec::new(),
        weakest_delegate_categories: -1,
        weakest_delegate_guess_chance: -1.0,
        initiators: Vec::new(),
        weakest_initiator_proofing_level: -1,
    }
}

/// Key of a flow across the tree: (service id, flow id).
type FlowKey = (String, String);

/// Builds the views of every flow of `policies`, resolving links between services.
pub fn build_views(policies: &[&Policy], catalogue: &Catalogue) -> BTreeMap<FlowKey, View> {
    let by_id: BTreeMap<&str, &Policy> = policies
        .iter()
        .map(|p| (p.service.id.as_str(), *p))
        .collect();
    let mut views = BTreeMap::new();
    for policy in policies {
        let service = service_view(policy);
        for (id, flow) in &policy.flows {
            views.insert(
                (policy.service.id.clone(), id.clone()),
                View {
                    service: service.clone(),
                    flow: own_flow_view(policy, id, flow, catalogue),
                },
            );
        }
    }
    let initiators = initiator_map(policies, &by_id);
    let proofing: BTreeMap<String, i64> = views
        .iter()
        .map(|((service, _), view)| (service.clone(), view.service.proofing_level))
        .collect();
    let keys: Vec<FlowKey> = views.keys().cloned().collect();
    for key in keys {
        let policy = by_id[key.0.as_str()];
        let flow = &policy.flows[&key.1];
        let leaves = delegate_leaves(&key, flow, &by_id, &mut BTreeSet::new());
        let delegated: Vec<DelegateView> = leaves
            .iter()
            .filter_map(|leaf| views.get(leaf).map(|v| (leaf, v)))
            .map(|(leaf, v)| DelegateView {
                flow: format!("{}/{}", leaf.0, leaf.1),
                service_kind: v.service.kind.clone(),
                independent_categories: v.flow.independent_categories,
                guess_chance: v.flow.guess_chance,
                attempt_limited: v.flow.attempt_limited,
                notifies_holder: v.flow.notifies_holder,
            })
            .collect();
        let mut starters = BTreeSet::new();
        collect_initiators(
            &key,
            &initiators,
            &by_id,
            &mut starters,
            &mut BTreeSet::new(),
        );
        let weakest_initiator = starters
            .iter()
            .filter_map(|id| proofing.get(id))
            .copied()
            .filter(|level| *level >= 0)
            .min()
            .unwrap_or(-1);
        if let Some(view) = views.get_mut(&key) {
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
            view.flow.initiators = starters.into_iter().collect();
            view.flow.weakest_initiator_proofing_level = weakest_initiator;
        }
    }
    views
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

/// The flows that finally authenticate for `flow`, following delegation through gateways.
fn delegate_leaves(
    key: &FlowKey,
    flow: &Flow,
    by_id: &BTreeMap<&str, &Policy>,
    seen: &mut BTreeSet<FlowKey>,
) -> BTreeSet<FlowKey> {
    let mut leaves = BTreeSet::new();
    if !seen.insert(key.clone()) {
        return leaves;
    }
    for reference in &flow.delegates_to {
        let Some(target) = resolve_ref(&reference.service, reference.flow.as_deref(), by_id) else {
            continue;
        };
        let target_flow = &by_id[target.0.as_str()].flows[&target.1];
        if target_flow.delegates_to.is_empty() {
            leaves.insert(target);
        } else {
            leaves.extend(delegate_leaves(&target, target_flow, by_id, seen));
        }
    }
    leaves
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

/// The services that start `key`, looking through gateways to the services behind them.
fn collect_initiators(
    key: &FlowKey,
    map: &BTreeMap<FlowKey, BTreeSet<String>>,
    by_id: &BTreeMap<&str, &Policy>,
    out: &mut BTreeSet<String>,
    seen: &mut BTreeSet<FlowKey>,
) {
    if !seen.insert(key.clone()) {
        return;
    }
    for service in map.get(key).into_iter().flatten() {
        let gateway = by_id
            .get(service.as_str())
            .filter(|p| p.service.kind == ServiceKind::LinkingGateway);
        match gateway {
            Some(policy) => {
                for (id, flow) in &policy.flows {
                    if flow.kind == FlowKind::AccountLinking {
                        collect_initiators(&(service.clone(), id.clone()), map, by_id, out, seen);
                    }
                }
            }
            None => {
                out.insert(service.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Loader;
    use crate::source::SizeBudget;

    const HEAD: &str = "version: 1\nservice: {id: SERVICE, name: n, kind: KIND, jurisdiction: JP, as_of: 2020-09-01, sources: [{title: t}]}\n";

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
        assert!((a.guess_chance - 5.0 / 10_000.0).abs() < 1e-12);
        assert_eq!(a.independent_categories, 1);
        assert_eq!(a.categories, ["knowledge"]);
        assert_eq!(a.non_counting_factors, ["account_number", "holder_name"]);
        assert_eq!(a.enumerable_factors, ["cash_card_pin"]);
        assert!(a.attempt_limited && a.attempt_max == 5);
        assert!(
            !v[&("a".to_owned(), "link".to_owned())]
                .service
                .notifications_described
        );
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
        assert!(link.any_replay_resistant && !link.replay_resistant);
        let service = &v[&("k".to_owned(), "link".to_owned())].service;
        assert_eq!(service.notifies, ["account_linked"]);
        assert_eq!(service.notifies_new_contact_only, ["charge"]);
        assert!(service.notifications_described);
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
        assert!(r.codes_to_supplied_contact && !r.codes_to_registered_contact_only);
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
}
