//! The facts of one service and of each of its flows that need nothing but policy data:
//! factor counting, guess chances, limits, notices and contacts. Every optional fact keeps
//! its three states (not described, described as none, described).

use super::view::{ContactView, FlowView, ServiceView, StepView};
use crate::factors::{Catalogue, Category, Tries};
use crate::model::{
    AttemptLimit, AttemptScope, Delivery, EkycMethod, Enforcement, Flow, FlowKind, Lockout,
    Notification, NotificationEvent, Policy, ProofingLevel, Recipient, Registrant, Step, name_of,
    parse_duration,
};
use std::collections::{BTreeMap, BTreeSet};

/// `yes`, `no` or `unknown` for an optional yes/no fact.
pub fn tri(value: Option<bool>) -> String {
    match value {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    }
    .to_owned()
}

fn seconds(duration: Option<&str>) -> i64 {
    duration
        .and_then(|d| parse_duration(d).ok())
        .map_or(0, |s| i64::try_from(s).unwrap_or(i64::MAX))
}

/// What the policy says about notifying `event`: the notice to a contact registered before
/// the event if there is one, else any other description of it.
fn notice_for(policy: &Policy, event: NotificationEvent) -> Option<&Notification> {
    let described = policy
        .notifications
        .iter()
        .flatten()
        .filter(|n| n.event == event);
    let mut best = None;
    for notice in described {
        if notice.sent != Some(false) && reaches_old_contact(notice) {
            return Some(notice);
        }
        best = best.or(Some(notice));
    }
    best
}

fn reaches_old_contact(notice: &Notification) -> bool {
    matches!(
        notice.recipient,
        Some(Recipient::RegisteredContact | Recipient::Both)
    )
}

/// `holder`, `new_contact_only`, `none` or `unknown`.
fn notice_state(notice: Option<&Notification>) -> &'static str {
    match notice {
        None => "unknown",
        Some(n) if n.sent == Some(false) => "none",
        Some(n) if reaches_old_contact(n) => "holder",
        Some(_) => "new_contact_only",
    }
}

/// Who registered a contact of `policy`: the registrant's name, `unknown` when the contact
/// or its registrant is not described.
fn registrant(policy: Option<&Policy>, contact: &str) -> String {
    policy
        .and_then(|p| p.contacts.as_ref())
        .and_then(|c| c.get(contact))
        .and_then(|c| c.registered_by)
        .map_or_else(|| "unknown".to_owned(), |r| name_of(&r))
}

pub fn service_view(policy: &Policy, flows: &BTreeMap<String, FlowView>) -> ServiceView {
    let proofing = policy
        .flows
        .values()
        .filter(|f| f.kind == FlowKind::Registration)
        .filter_map(|f| f.identity_proofing.as_ref())
        .min_by_key(|p| p.level);
    let mut notifies = BTreeSet::new();
    let mut new_only = BTreeSet::new();
    let mut none = BTreeSet::new();
    for notification in policy.notifications.iter().flatten() {
        let event = name_of(&notification.event);
        match notice_state(Some(notification)) {
            "holder" => notifies.insert(event),
            "none" => none.insert(event),
            _ => new_only.insert(event),
        };
    }
    let new_only = new_only.difference(&notifies).cloned().collect();
    let none = none.difference(&notifies).cloned().collect();
    let images = proofing.map(|p| match (p.level, p.method) {
        (ProofingLevel::DocumentUpload, _) => true,
        (ProofingLevel::Ekyc, Some(method)) => method.rests_on_document_images(),
        _ => false,
    });
    let monitoring = policy.monitoring.as_ref();
    let password = policy.password_policy.as_ref();
    ServiceView {
        id: policy.service.id.clone(),
        kind: name_of(&policy.service.kind),
        jurisdiction: policy.service.jurisdiction.clone(),
        proofing_level: proofing.map_or(-1, |p| p.level as i64),
        proofing: proofing.map_or_else(|| "unknown".to_owned(), |p| name_of(&p.level)),
        ekyc_method: proofing
            .and_then(|p| p.method)
            .map(|m: EkycMethod| name_of(&m))
            .unwrap_or_default(),
        proofing_accepts_document_images: tri(images),
        notifies: notifies.into_iter().collect(),
        notifies_new_contact_only: new_only,
        notices_none: none,
        monitoring_described: monitoring.is_some(),
        monitoring_level: monitoring.map_or(-1, |m| m.level as i64),
        monitoring_signals_described: monitoring.is_some_and(|m| m.signals.is_some()),
        monitoring_signals: monitoring
            .and_then(|m| m.signals.as_ref())
            .into_iter()
            .flatten()
            .map(name_of)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        holds_suspicious_outflow: tri(monitoring.and_then(|m| m.holds_suspicious_outflow)),
        kill_switch: tri(monitoring.and_then(|m| m.kill_switch)),
        compensation_described: policy.compensation.is_some(),
        compensation_published: policy.compensation.as_ref().is_some_and(|c| c.published),
        compensation_scope_described: policy
            .compensation
            .as_ref()
            .is_some_and(|c| c.scope.is_some()),
        compensation_scope: policy
            .compensation
            .iter()
            .filter_map(|c| c.scope.as_ref())
            .flatten()
            .map(name_of)
            .collect(),
        messages_contain_links: tri(policy.messages.as_ref().and_then(|m| m.contain_links)),
        password_policy_described: password.is_some(),
        password_min_length: password.map_or(0, |p| i64::from(p.min_length)),
        password_blocklist: tri(password.and_then(|p| p.blocklist)),
        contacts_described: policy.contacts.is_some(),
        contacts: contact_views(policy, flows),
    }
}

fn contact_views(policy: &Policy, flows: &BTreeMap<String, FlowView>) -> Vec<ContactView> {
    let Some(contacts) = &policy.contacts else {
        return Vec::new();
    };
    contacts
        .iter()
        .map(|(id, contact)| {
            let changes: Vec<(&String, &Flow)> = policy
                .flows
                .iter()
                .filter(|(_, f)| f.kind == FlowKind::ContactChange)
                .filter(|(_, f)| f.replaces_contact.as_deref() == Some(id.as_str()))
                .collect();
            let told: Vec<Option<bool>> = changes
                .iter()
                .map(|(_, f)| f.old_contact_notified)
                .collect();
            let change_tells_old_contact = if changes.is_empty() {
                String::new()
            } else if told.contains(&Some(false)) {
                "no".to_owned()
            } else if told.contains(&None) {
                "unknown".to_owned()
            } else {
                "yes".to_owned()
            };
            ContactView {
                id: id.clone(),
                kind: name_of(&contact.kind),
                registered_by: contact
                    .registered_by
                    .map_or_else(|| "unknown".to_owned(), |r: Registrant| name_of(&r)),
                replaced_by: changes.iter().map(|(f, _)| (*f).clone()).collect(),
                weakest_change_categories: changes
                    .iter()
                    .filter_map(|(f, _)| flows.get(*f))
                    .map(|v| v.independent_categories)
                    .min()
                    .unwrap_or(-1),
                change_tells_old_contact,
            }
        })
        .collect()
}

/// The attempt limit that covers a step: its own, else the flow's.
fn step_limit<'a>(flow: &'a Flow, step: &'a Step) -> Option<&'a AttemptLimit> {
    step.attempts
        .as_ref()
        .or_else(|| flow.limits.as_ref().and_then(|l| l.attempts.as_ref()))
}

fn tries(limit: Option<&AttemptLimit>) -> Tries {
    match limit {
        None => Tries::Undescribed,
        Some(l) if l.scope == AttemptScope::None => Tries::Unlimited,
        // A limit without `max` is refused by validation; treat it as not described.
        Some(l) => l.max.map_or(Tries::Undescribed, Tries::Limited),
    }
}

/// Facts of one flow that need only policy data (`policies` resolves `record_of`).
pub fn own_flow_view(
    policy: &Policy,
    id: &str,
    flow: &Flow,
    catalogue: &Catalogue,
    policies: &BTreeMap<&str, &Policy>,
) -> FlowView {
    let mut factors = BTreeSet::new();
    let mut counting = BTreeSet::new();
    let mut enumerable = BTreeSet::new();
    let mut categories = BTreeSet::new();
    let mut has_delivered = false;
    let mut supplied = false;
    let (mut restricted, mut phishing) = (false, false);
    let mut steps = Vec::new();
    let mut guessable_limits: Vec<Option<&AttemptLimit>> = Vec::new();
    let mut reach = BTreeSet::new();
    let mut signing = false;
    for step in &flow.steps {
        let limit = step_limit(flow, step);
        let opt_in = step.enforcement == Some(Enforcement::OptIn);
        let mut chance = Some(1.0_f64);
        let mut step_delivers = false;
        let mut step_guessable = false;
        // A code sent to a contact the requester chose binds nothing and proves nothing; a
        // factor such as a local biometric counts only beside a factor it is bound to.
        let supplied_contact = step.delivered_to == Some(Delivery::ContactSuppliedInFlow);
        let counting_here =
            catalogue.counting_in_step(step.verify.iter().map(String::as_str).filter(|n| {
                !(supplied_contact && catalogue.get(n).is_some_and(|f| f.delivered_by.is_some()))
            }));
        for name in &step.verify {
            factors.insert(name.clone());
            let Some(factor) = catalogue.get(name) else {
                continue;
            };
            let delivered = factor.delivered_by.is_some();
            let to_requester =
                delivered && step.delivered_to == Some(Delivery::ContactSuppliedInFlow);
            step_delivers |= delivered;
            has_delivered |= delivered;
            supplied |= to_requester;
            restricted |= factor.restricted;
            let guessable = factor.key_space.is_some()
                || (factor.secret && factor.category == Category::Knowledge);
            if guessable {
                enumerable.insert(name.clone());
                step_guessable = true;
            }
            // A code sent where the requester chose is read, not guessed, and proves nothing.
            if counting_here.contains(name.as_str()) && !opt_in {
                signing |= factor.signs_transaction;
                counting.insert(name.clone());
                categories.insert(name_of(&factor.category));
                if let Some(unlock) = factor.unlock {
                    categories.insert(name_of(&unlock));
                }
                phishing |= factor.phishing_resistant;
            }
            let factor_chance = if to_requester {
                Some(1.0)
            } else {
                factor.guess_chance(tries(limit), policy.password_policy.as_ref())
            };
            chance = match (chance, factor_chance) {
                (Some(a), Some(b)) => Some(a * b),
                // An unguessable factor settles the step whatever else is unknown.
                (Some(z), None) | (None, Some(z)) if z == 0.0 => Some(0.0),
                _ => None,
            };
        }
        if step_guessable && !opt_in {
            guessable_limits.push(limit);
        }
        let (contact, contact_registered_by) = step_contact(policy, step, step_delivers, policies);
        if step_delivers && !opt_in {
            reach.insert(contact_registered_by.clone());
        }
        steps.push(StepView {
            factors: step.verify.clone(),
            enforcement: step
                .enforcement
                .map_or_else(|| "unspecified".to_owned(), |e| name_of(&e)),
            attempts_described: limit.is_some(),
            attempt_limited: limit.is_some_and(|l| l.scope != AttemptScope::None),
            attempt_max: limit
                .filter(|l| l.scope != AttemptScope::None)
                .and_then(|l| l.max)
                .map_or(0, i64::from),
            attempt_scope: limit.map_or_else(|| "unknown".to_owned(), |l| name_of(&l.scope)),
            guess_chance: if opt_in { 1.0 } else { chance.unwrap_or(-1.0) },
            delivered_to: step.delivered_to.map(|d| name_of(&d)).unwrap_or_default(),
            contact,
            contact_registered_by,
        });
    }
    if guessable_limits.is_empty() {
        guessable_limits.push(flow.limits.as_ref().and_then(|l| l.attempts.as_ref()));
    }
    let limits = AttemptFacts::of(&guessable_limits);
    let step_chances: Vec<f64> = steps.iter().map(|s| s.guess_chance).collect();
    let guess_chance = flow_chance(&step_chances);
    let event = flow.kind.event();
    let notice = notice_for(policy, event);
    let notice_state = notice_state(notice);
    let non_counting = factors.difference(&counting).cloned().collect();
    let amounts = flow.limits.as_ref().and_then(|l| l.amounts.as_ref());
    let velocity = flow.limits.as_ref().and_then(|l| l.velocity.as_ref());
    let card = flow.kind == FlowKind::CardIssuance;
    let card_fact = |v: Option<bool>| if card { tri(v) } else { String::new() };
    let contact_change = flow.kind == FlowKind::ContactChange;
    FlowView {
        id: id.to_owned(),
        kind: name_of(&flow.kind),
        step_count: flow.steps.len() as i64,
        opt_in_steps: flow
            .steps
            .iter()
            .filter(|s| s.enforcement == Some(Enforcement::OptIn))
            .count() as i64,
        steps,
        factors: factors.into_iter().collect(),
        counting_factors: counting.iter().cloned().collect(),
        non_counting_factors: non_counting,
        enumerable_factors: enumerable.into_iter().collect(),
        // Only counting factors add a category, and none of them is of category `none`.
        independent_categories: categories.len() as i64,
        categories: categories.into_iter().collect(),
        has_delivered_factor: has_delivered,
        codes_to_supplied_contact: supplied,
        uses_restricted_factor: restricted,
        phishing_resistant: phishing,
        attempts_described: limits.described,
        attempt_limited: limits.limited,
        attempt_unlimited_step: limits.unlimited_step,
        attempt_max: limits.max,
        attempt_scope: limits.scope,
        attempt_scope_follows_target: limits.follows_target,
        lockout: limits.lockout,
        lockout_seconds: limits.lockout_seconds,
        guess_chance_known: guess_chance >= 0.0,
        guess_chance,
        step_guess_chances: step_chances,
        velocity_described: velocity.is_some(),
        velocity_limited: velocity.is_some_and(|v| !v.is_empty()),
        velocity_scopes: velocity
            .into_iter()
            .flatten()
            .map(|v| name_of(&v.scope))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        transaction_signing: signing,
        amounts_described: amounts.is_some(),
        amount_limited: amounts.is_some_and(|a| a.per_transaction.is_some() || a.per_day.is_some()),
        name_matching: flow
            .name_matching
            .map_or_else(|| "unspecified".to_owned(), |m| name_of(&m)),
        cooling_off_described: flow.cooling_off.is_some(),
        cooling_off_seconds: seconds(flow.cooling_off.as_deref().filter(|c| *c != "none")),
        payout_constraint: flow
            .payout
            .as_ref()
            .map_or_else(|| "unknown".to_owned(), |p| name_of(&p.constraint)),
        payout_services: flow
            .payout
            .as_ref()
            .and_then(|p| p.services.clone())
            .unwrap_or_default(),
        usable_before_activation: card_fact(flow.usable_before_activation),
        usable_before_delivery: card_fact(flow.usable_before_delivery),
        replaces_contact: flow.replaces_contact.clone().unwrap_or_default(),
        old_contact_notified: if contact_change {
            tri(flow.old_contact_notified)
        } else {
            String::new()
        },
        codes_reach: codes_reach(&reach),
        code_contact_weakest_change_categories: -1,
        notification: notice_state.to_owned(),
        notification_described: notice_state != "unknown",
        notifies_holder: notice_state == "holder",
        notice_reaches: notice_reaches(policy, notice.filter(|_| notice_state == "holder")),
        notification_timing: match notice.filter(|_| notice_state == "holder") {
            None if notice_state == "unknown" => "unknown".to_owned(),
            None => "none".to_owned(),
            Some(n) => n
                .timing
                .map_or_else(|| "unspecified".to_owned(), |t| name_of(&t)),
        },
        notification_threshold: notice
            .filter(|_| notice_state == "holder")
            .and_then(|n| n.threshold)
            .map_or(0, |t| i64::try_from(t).unwrap_or(i64::MAX)),
        delegates: !flow.delegates_to.is_empty(),
        delegated: Vec::new(),
        weakest_delegate_categories: -1,
        weakest_delegate_guess_chance: -1.0,
        initiators: Vec::new(),
        weakest_initiator_proofing_level: -1,
        attack_chains: Vec::new(),
        attack_chains_undetermined: Vec::new(),
    }
}

/// The contact a step's code goes to (`service/contact`) and who registered it.
fn step_contact(
    policy: &Policy,
    step: &Step,
    delivers: bool,
    policies: &BTreeMap<&str, &Policy>,
) -> (String, String) {
    if !delivers {
        return (String::new(), String::new());
    }
    if step.delivered_to == Some(Delivery::ContactSuppliedInFlow) {
        return (String::new(), "requester".to_owned());
    }
    let Some(contact) = &step.contact else {
        return (String::new(), "unknown".to_owned());
    };
    let service = step.record_of.as_deref().unwrap_or(&policy.service.id);
    let owner = if service == policy.service.id {
        Some(policy)
    } else {
        policies.get(service).copied()
    };
    (format!("{service}/{contact}"), registrant(owner, contact))
}

fn codes_reach(registrants: &BTreeSet<String>) -> String {
    let has = |r: &str| registrants.contains(r);
    if registrants.is_empty() {
        "none"
    } else if has("requester") {
        "requester"
    } else if has("account_opener") {
        "account_opener"
    } else if has("unknown") {
        "unknown"
    } else {
        "holder"
    }
    .to_owned()
}

fn notice_reaches(policy: &Policy, notice: Option<&Notification>) -> String {
    let Some(notice) = notice else {
        return String::new();
    };
    let Some(contacts) = &notice.contacts else {
        return "unknown".to_owned();
    };
    let registrants: BTreeSet<String> = contacts
        .iter()
        .map(|c| registrant(Some(policy), c))
        .collect();
    // One contact the holder registered is enough for the holder to learn of the event.
    if registrants.contains("holder_after_proofing") {
        "holder"
    } else if registrants.contains("unknown") {
        "unknown"
    } else {
        "account_opener"
    }
    .to_owned()
}

/// A flow's guess chance from its steps': any unguessable step makes it 0; otherwise any
/// step that cannot be judged makes it unknown (-1).
fn flow_chance(steps: &[f64]) -> f64 {
    if steps.contains(&0.0) {
        0.0
    } else if steps.iter().any(|c| *c < 0.0) {
        -1.0
    } else {
        steps.iter().product()
    }
}

/// The attempt-limit facts of a flow, from the limits of its guessable steps.
struct AttemptFacts {
    described: bool,
    limited: bool,
    unlimited_step: bool,
    max: i64,
    scope: String,
    follows_target: bool,
    lockout: String,
    lockout_seconds: i64,
}

impl AttemptFacts {
    fn of(limits: &[Option<&AttemptLimit>]) -> Self {
        let described = limits.iter().all(Option::is_some);
        let given: Vec<&AttemptLimit> = limits.iter().flatten().copied().collect();
        let limited = described && given.iter().all(|l| l.scope != AttemptScope::None);
        let unlimited_step = given.iter().any(|l| l.scope == AttemptScope::None);
        // The weakest limit the policy states, whatever other steps leave undescribed.
        let max = given
            .iter()
            .filter(|l| l.scope != AttemptScope::None)
            .filter_map(|l| l.max)
            .max()
            .map_or(0, i64::from);
        let scopes: BTreeSet<AttemptScope> = given.iter().map(|l| l.scope).collect();
        let scope = match (described, scopes.len()) {
            (false, _) => "unknown".to_owned(),
            (true, 1) => scopes.iter().next().map(name_of).unwrap_or_default(),
            _ => "mixed".to_owned(),
        };
        let temporary: Vec<i64> = given
            .iter()
            .filter(|l| l.lockout == Some(Lockout::Temporary))
            .map(|l| seconds(l.lockout_duration.as_deref()))
            .collect();
        let stated = given.iter().any(|l| l.scope != AttemptScope::None);
        // Like `max`: the weakest lockout the policy states.
        let lockout = if !stated {
            ""
        } else if !temporary.is_empty() {
            "temporary"
        } else {
            "permanent"
        };
        Self {
            described,
            limited,
            unlimited_step,
            max,
            scope,
            follows_target: limited && given.iter().all(|l| l.scope.follows_the_target()),
            lockout: lockout.to_owned(),
            lockout_seconds: temporary.into_iter().min().unwrap_or(0),
        }
    }
}
