//! The smallest control changes that break each chain. Candidates come from the controls the
//! chain defeats; each is applied to a copy of the policies the chain runs through and the
//! analysis is re-run on them, so a fix is reported only when the chain's route is really gone
//! (not when it merely changed: eKYC alone leaves a route through an account in the
//! attacker's own name open when nothing compares names).

use super::options::{How, Subject};
use super::{Analysis, Chain, Input, Limits, analyse_without_fixes};
use crate::attackers::{AttackerProfile, Capability};
use crate::factors::Catalogue;
use crate::model::{
    AttemptLimit, AttemptScope, Contact, ContactKind, Delivery, EkycMethod, Enforcement, FlowKind,
    IdentityProofing, Limits as FlowLimits, Lockout, NameMatching, Payout, PayoutConstraint,
    Policy, ProofingLevel, Registrant, Step,
};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One control change, stated as the policy-field edits that make it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Change {
    pub service: String,
    pub file: String,
    pub flow: String,
    /// `second-factor`, `identity-proofing`, `name-matching`, `registered-delivery`,
    /// `notify-old-contact`, `mandatory-step`, `attempt-limit`, `payout-pre-registered`.
    pub kind: &'static str,
    pub summary: String,
    pub edits: Vec<Edit>,
    #[serde(skip)]
    op: Op,
}

/// One field edit: set (or append to) the YAML path, with the value in YAML flow syntax.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Edit {
    pub path: String,
    /// `set` or `append`.
    pub action: &'static str,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    AppendStep {
        flow: String,
        factor: String,
        contact: Option<(String, bool)>,
    },
    Proofing {
        flow: String,
    },
    NameMatching {
        flow: String,
    },
    RegisteredDelivery {
        flow: String,
        step: usize,
        contact: String,
    },
    NotifyOldContact {
        flow: String,
    },
    Mandatory {
        flow: String,
        step: usize,
    },
    AttemptLimit {
        flow: String,
        scope: AttemptScope,
    },
    PreRegisteredPayout {
        flow: String,
    },
}

/// A smallest set of changes that breaks one chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FixSet {
    pub changes: Vec<Change>,
}

/// A set of changes and every chain it breaks.
#[derive(Debug, Clone, Serialize)]
pub struct RankedFix {
    pub changes: Vec<Change>,
    pub breaks: usize,
    pub chains: Vec<String>,
}

/// At most this many candidate changes are paired up for one chain.
const MAX_PAIR_CANDIDATES: usize = 8;

/// The attempt limit every added step states: a fix that left its own limit undescribed
/// would leave the chain undetermined rather than broken.
fn added_step_limit() -> AttemptLimit {
    AttemptLimit {
        scope: AttemptScope::Account,
        max: Some(5),
        window: None,
        lockout: Some(Lockout::Permanent),
        lockout_duration: None,
    }
}

/// How an added step's limit reads in a policy file.
const ADDED_STEP_LIMIT: &str = "attempts: {scope: account, max: 5, lockout: permanent}";

/// Applies `change` to a policy (of the change's service).
pub fn apply(policy: &mut Policy, change: &Change) {
    let flows = &mut policy.flows;
    match &change.op {
        Op::AppendStep {
            flow,
            factor,
            contact,
        } => {
            if let Some((id, add)) = contact
                && *add
            {
                policy.contacts.get_or_insert_with(BTreeMap::new).insert(
                    id.clone(),
                    Contact {
                        kind: ContactKind::Phone,
                        registered_by: Some(Registrant::HolderAfterProofing),
                        note: None,
                    },
                );
            }
            if let Some(f) = flows.get_mut(flow) {
                f.steps.push(Step {
                    verify: vec![factor.clone()],
                    delivered_to: contact
                        .as_ref()
                        .map(|_| Delivery::RegisteredContact)
                        .or_else(|| {
                            factor
                                .starts_with("issuer_3ds")
                                .then_some(Delivery::RegisteredContact)
                        }),
                    contact: contact.as_ref().map(|(c, _)| c.clone()),
                    record_of: None,
                    attempts: Some(added_step_limit()),
                    enforcement: None,
                    note: None,
                });
            }
        }
        Op::Proofing { flow } => {
            if let Some(f) = flows.get_mut(flow) {
                f.identity_proofing = Some(IdentityProofing {
                    level: ProofingLevel::Ekyc,
                    method: Some(EkycMethod::IcChip),
                });
            }
        }
        Op::NameMatching { flow } => {
            if let Some(f) = flows.get_mut(flow) {
                f.name_matching = Some(NameMatching::Block);
            }
        }
        Op::RegisteredDelivery {
            flow,
            step,
            contact,
        } => {
            if let Some(s) = flows.get_mut(flow).and_then(|f| f.steps.get_mut(*step)) {
                s.delivered_to = Some(Delivery::RegisteredContact);
                s.contact = Some(contact.clone());
                s.record_of = None;
            }
        }
        Op::NotifyOldContact { flow } => {
            if let Some(f) = flows.get_mut(flow) {
                f.old_contact_notified = Some(true);
            }
        }
        Op::Mandatory { flow, step } => {
            if let Some(s) = flows.get_mut(flow).and_then(|f| f.steps.get_mut(*step)) {
                s.enforcement = Some(Enforcement::Mandatory);
            }
        }
        Op::AttemptLimit { flow, scope } => {
            if let Some(f) = flows.get_mut(flow) {
                f.limits.get_or_insert_with(FlowLimits::default).attempts = Some(AttemptLimit {
                    scope: *scope,
                    max: Some(3),
                    window: None,
                    lockout: Some(Lockout::Permanent),
                    lockout_duration: None,
                });
                for s in &mut f.steps {
                    s.attempts = None;
                }
            }
        }
        Op::PreRegisteredPayout { flow } => {
            if let Some(f) = flows.get_mut(flow) {
                f.payout = Some(Payout {
                    constraint: PayoutConstraint::PreRegisteredOnly,
                    services: f.payout.as_ref().and_then(|p| p.services.clone()),
                });
            }
        }
    }
}

/// Adds to every chain its smallest fixes, and ranks the fixes across chains.
pub fn attach(
    analysis: &mut Analysis,
    inputs: &[Input],
    catalogue: &Catalogue,
    profiles: &[&AttackerProfile],
    limits: Limits,
) {
    let by_service: BTreeMap<&str, &Input> = inputs
        .iter()
        .map(|i| (i.policy.service.id.as_str(), i))
        .collect();
    let todo = analysis.chains.len().min(limits.max_fix_chains);
    // Each chain's fixes depend on that chain alone: split the chains over the cores and
    // put the results back in chain order, so the output does not depend on the split.
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, 8);
    let per_thread = todo.div_ceil(threads).max(1);
    let found: Vec<Vec<FixSet>> = {
        let chains = &analysis.chains[..todo];
        let by_service = &by_service;
        std::thread::scope(|scope| {
            let handles: Vec<_> = chains
                .chunks(per_thread)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .map(|chain| fixes_of(chain, by_service, catalogue, profiles, limits))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        })
    };
    let mut ranked: BTreeMap<Vec<Change>, BTreeSet<String>> = BTreeMap::new();
    for (chain, fixes) in analysis.chains.iter_mut().zip(found) {
        for fix in &fixes {
            ranked
                .entry(fix.changes.clone())
                .or_default()
                .insert(chain.id.clone());
        }
        chain.fixes = fixes;
    }
    let mut list: Vec<RankedFix> = ranked
        .into_iter()
        .map(|(changes, chains)| RankedFix {
            breaks: chains.len(),
            chains: chains.into_iter().collect(),
            changes,
        })
        .collect();
    list.sort_by(|a, b| {
        b.breaks
            .cmp(&a.breaks)
            .then(a.changes.len().cmp(&b.changes.len()))
            .then(a.changes.cmp(&b.changes))
    });
    analysis.ranked_fixes = list;
    if todo < analysis.chains.len() {
        let first = &analysis.chains[todo];
        analysis.bounds.push(super::BoundReached {
            attacker: first.attacker.clone(),
            at: first.steps[0].at.clone(),
            what: format!(
                "chains whose fixes are searched ({} chains listed without fixes)",
                analysis.chains.len() - todo
            ),
            limit: limits.max_fix_chains as u64,
        });
    }
}

/// The smallest fixes of one chain: single changes that break it, then pairs of changes
/// neither of which is enough alone.
fn fixes_of(
    chain: &Chain,
    by_service: &BTreeMap<&str, &Input>,
    catalogue: &Catalogue,
    profiles: &[&AttackerProfile],
    limits: Limits,
) -> Vec<FixSet> {
    let Some(profile) = profiles.iter().find(|p| p.id == chain.attacker) else {
        return Vec::new();
    };
    let candidates = candidates(chain, by_service, profile);
    let breaks = |set: &[&Change]| !still_there(chain, set, by_service, catalogue, profile, limits);
    let mut fixes: Vec<FixSet> = Vec::new();
    let mut alone_not_enough: Vec<&Change> = Vec::new();
    for c in &candidates {
        if breaks(&[c]) {
            fixes.push(FixSet {
                changes: vec![c.clone()],
            });
        } else {
            alone_not_enough.push(c);
        }
    }
    let pool: Vec<&Change> = alone_not_enough
        .into_iter()
        .take(MAX_PAIR_CANDIDATES)
        .collect();
    for (i, a) in pool.iter().enumerate() {
        for b in &pool[i + 1..] {
            if a.service == b.service && a.flow == b.flow && a.kind == b.kind {
                continue;
            }
            if breaks(&[a, b]) {
                fixes.push(FixSet {
                    changes: vec![(*a).clone(), (*b).clone()],
                });
            }
        }
    }
    fixes
}

/// A copy of `policy` for a re-run over the services in `keep`: links to other services are
/// left out (a wallet may list a thousand banks; the chain passes one of them).
fn trimmed(policy: &Policy, keep: &BTreeSet<&str>) -> Policy {
    let flows = policy
        .flows
        .iter()
        .map(|(id, f)| {
            let flow = crate::model::Flow {
                kind: f.kind,
                description: None,
                steps: f.steps.clone(),
                identity_proofing: f.identity_proofing.clone(),
                limits: f.limits.clone(),
                delegates_to: f
                    .delegates_to
                    .iter()
                    .filter(|r| keep.contains(r.service.as_str()))
                    .cloned()
                    .collect(),
                initiated_by: f
                    .initiated_by
                    .iter()
                    .filter(|s| keep.contains(s.as_str()))
                    .cloned()
                    .collect(),
                name_matching: f.name_matching,
                cooling_off: f.cooling_off.clone(),
                payout: f.payout.clone(),
                replaces_contact: f.replaces_contact.clone(),
                old_contact_notified: f.old_contact_notified,
                usable_before_activation: f.usable_before_activation,
                usable_before_delivery: f.usable_before_delivery,
            };
            (id.clone(), flow)
        })
        .collect();
    Policy {
        version: policy.version,
        service: policy.service.clone(),
        contacts: policy.contacts.clone(),
        flows,
        notifications: policy.notifications.clone(),
        monitoring: policy.monitoring.clone(),
        compensation: policy.compensation.clone(),
        messages: policy.messages.clone(),
        password_policy: policy.password_policy.clone(),
    }
}

/// Whether the chain's route survives the changes: the analysis re-run on copies of the
/// policies it runs through, with the changes applied.
fn still_there(
    chain: &Chain,
    changes: &[&Change],
    by_service: &BTreeMap<&str, &Input>,
    catalogue: &Catalogue,
    profile: &AttackerProfile,
    limits: Limits,
) -> bool {
    let mut involved: BTreeSet<&str> = BTreeSet::new();
    for step in &chain.steps {
        involved.insert(step.at.service.as_str());
        for v in &step.via {
            involved.insert(v.service.as_str());
        }
    }
    let mut copies: Vec<(String, Policy)> = Vec::new();
    for id in &involved {
        let Some(input) = by_service.get(id) else {
            continue;
        };
        let mut policy = trimmed(input.policy, &involved);
        for change in changes.iter().filter(|c| c.service == *id) {
            apply(&mut policy, change);
        }
        copies.push((input.file.to_owned(), policy));
    }
    let inputs: Vec<Input> = copies
        .iter()
        .map(|(file, policy)| Input {
            file,
            policy,
            tree: by_service
                .get(policy.service.id.as_str())
                .and_then(|i| i.tree),
        })
        .collect();
    let rerun = analyse_without_fixes(&inputs, catalogue, &[profile], limits);
    rerun.chains.iter().any(|c| c.id == chain.id)
}

fn candidates(
    chain: &Chain,
    by_service: &BTreeMap<&str, &Input>,
    profile: &AttackerProfile,
) -> Vec<Change> {
    let mut out: Vec<Change> = Vec::new();
    let relay_or_swap = profile
        .capabilities
        .contains(&Capability::RealtimePhishingRelay)
        || profile.capabilities.contains(&Capability::SimSwap);
    let mut push = |c: Option<Change>| {
        if let Some(c) = c
            && !out.contains(&c)
        {
            out.push(c);
        }
    };
    for step in &chain.steps {
        let Some(input) = by_service.get(step.at.service.as_str()) else {
            continue;
        };
        let flow = input.policy.flows.get(&step.at.flow);
        let kind = flow.map(|f| f.kind);
        match kind {
            Some(FlowKind::Registration) if step.account == Subject::AttackerAccount => {
                push(Some(change(
                    input,
                    &step.at.flow,
                    "identity-proofing",
                    "identity proofing with eKYC that reads the IC chip of a photo ID".into(),
                    vec![edit(
                        &format!("flows.{}.identity_proofing", step.at.flow),
                        "set",
                        "{level: ekyc, method: ic_chip}",
                    )],
                    Op::Proofing {
                        flow: step.at.flow.clone(),
                    },
                )));
            }
            Some(FlowKind::AccountLinking | FlowKind::CardRegistration)
                if step.account == Subject::AttackerAccount =>
            {
                push(Some(change(
                    input,
                    &step.at.flow,
                    "name-matching",
                    "compare the verified holder name with the account's or card's and stop on a mismatch".into(),
                    vec![edit(
                        &format!("flows.{}.name_matching", step.at.flow),
                        "set",
                        "block",
                    )],
                    Op::NameMatching {
                        flow: step.at.flow.clone(),
                    },
                )));
                if kind == Some(FlowKind::CardRegistration) {
                    push(Some(change(
                        input,
                        &step.at.flow,
                        "second-factor",
                        "3-D Secure approved in the card issuer's app".into(),
                        vec![edit(
                            &format!("flows.{}.steps", step.at.flow),
                            "append",
                            &format!(
                                "{{verify: [issuer_3ds_app], delivered_to: registered_contact, {ADDED_STEP_LIMIT}}}"
                            ),
                        )],
                        Op::AppendStep {
                            flow: step.at.flow.clone(),
                            factor: "issuer_3ds_app".into(),
                            contact: None,
                        },
                    )));
                }
            }
            Some(FlowKind::Transfer)
                if flow.and_then(|f| f.payout.as_ref()).map(|p| p.constraint)
                    != Some(PayoutConstraint::PreRegisteredOnly) =>
            {
                push(Some(change(
                    input,
                    &step.at.flow,
                    "payout-pre-registered",
                    "pay out only to accounts registered earlier".into(),
                    vec![edit(
                        &format!("flows.{}.payout.constraint", step.at.flow),
                        "set",
                        "pre_registered_only",
                    )],
                    Op::PreRegisteredPayout {
                        flow: step.at.flow.clone(),
                    },
                )));
            }
            Some(FlowKind::ContactChange) => {
                push(Some(change(
                    input,
                    &step.at.flow,
                    "notify-old-contact",
                    "tell the replaced contact of the change".into(),
                    vec![edit(
                        &format!("flows.{}.old_contact_notified", step.at.flow),
                        "set",
                        "true",
                    )],
                    Op::NotifyOldContact {
                        flow: step.at.flow.clone(),
                    },
                )));
            }
            _ => {}
        }
        for d in &step.defeated {
            let Some(input) = by_service.get(d.service.as_str()) else {
                continue;
            };
            let Some(flow) = input.policy.flows.get(&d.flow) else {
                continue;
            };
            // A defeated control of the attacker's own account is no control to strengthen.
            let own_side = d.service == step.at.service
                && d.flow == step.at.flow
                && step.account == Subject::AttackerAccount
                && !matches!(
                    flow.kind,
                    FlowKind::CardRegistration | FlowKind::AccountLinking
                );
            if own_side || matches!(d.how, How::AttackersOwn | How::AttackersRecord { .. }) {
                continue;
            }
            // A gateway routes holders to their bank and holds no record of them to send a
            // code to; the bank it routes to is where a factor can be added.
            if input.policy.service.kind == crate::model::ServiceKind::LinkingGateway {
                continue;
            }
            if flow.kind == FlowKind::AccountLinking
                && step.account == Subject::AttackerAccount
                && d.service == step.at.service
            {
                // The linking origin's own steps run on the attacker's account; the account
                // holder is authenticated by the bank the link goes to.
                continue;
            }
            match &d.how {
                How::SuppliedContact => {
                    let want = input
                        .policy
                        .flows
                        .get(&d.flow)
                        .and_then(|f| f.steps.get(d.step))
                        .map(|s| s.verify.clone())
                        .unwrap_or_default();
                    let kind = if want
                        .iter()
                        .any(|f| f.contains("sms") || f.contains("voice"))
                    {
                        ContactKind::Phone
                    } else {
                        ContactKind::Email
                    };
                    let contact = input
                        .policy
                        .contacts
                        .iter()
                        .flatten()
                        .find(|(_, c)| c.kind == kind);
                    push(contact.map(|(id, _)| {
                        change(
                            input,
                            &d.flow,
                            "registered-delivery",
                            format!("send the code or link to the contact of record `{id}`, not to one typed in the flow"),
                            vec![
                                edit(&format!("flows.{}.steps[{}].delivered_to", d.flow, d.step), "set", "registered_contact"),
                                edit(&format!("flows.{}.steps[{}].contact", d.flow, d.step), "set", id),
                            ],
                            Op::RegisteredDelivery { flow: d.flow.clone(), step: d.step, contact: id.clone() },
                        )
                    }));
                }
                How::NotTurnedOn => push(Some(change(
                    input,
                    &d.flow,
                    "mandatory-step",
                    format!("make step {} mandatory for every holder", d.step + 1),
                    vec![edit(
                        &format!("flows.{}.steps[{}].enforcement", d.flow, d.step),
                        "set",
                        "mandatory",
                    )],
                    Op::Mandatory {
                        flow: d.flow.clone(),
                        step: d.step,
                    },
                ))),
                how => {
                    if matches!(how, How::Guessed { .. }) {
                        let scope = if d.factor.starts_with("card_") {
                            AttemptScope::CardNumber
                        } else {
                            AttemptScope::Credential
                        };
                        push(Some(change(
                            input,
                            &d.flow,
                            "attempt-limit",
                            format!(
                                "lock after 3 failures per {}",
                                crate::model::name_of(&scope)
                            ),
                            vec![edit(
                                &format!("flows.{}.limits.attempts", d.flow),
                                "set",
                                &format!(
                                    "{{scope: {}, max: 3, lockout: permanent}}",
                                    crate::model::name_of(&scope)
                                ),
                            )],
                            Op::AttemptLimit {
                                flow: d.flow.clone(),
                                scope,
                            },
                        )));
                    }
                    push(Some(second_factor(input, &d.flow, relay_or_swap)));
                }
            }
        }
    }
    out
}

/// A one-time code to the holder's phone of record, or, against an attacker who relays codes
/// or takes over phone numbers, a passkey.
fn second_factor(input: &Input, flow: &str, relay_or_swap: bool) -> Change {
    if relay_or_swap {
        return change(
            input,
            flow,
            "second-factor",
            "a passkey (phishing-resistant, with user verification)".into(),
            vec![edit(
                &format!("flows.{flow}.steps"),
                "append",
                &format!("{{verify: [passkey], {ADDED_STEP_LIMIT}}}"),
            )],
            Op::AppendStep {
                flow: flow.to_owned(),
                factor: "passkey".into(),
                contact: None,
            },
        );
    }
    let phone = input.policy.contacts.iter().flatten().find(|(_, c)| {
        c.kind == ContactKind::Phone && c.registered_by == Some(Registrant::HolderAfterProofing)
    });
    let (id, add) = match phone {
        Some((id, _)) => (id.clone(), false),
        None => {
            let taken = |n: &str| {
                input
                    .policy
                    .contacts
                    .as_ref()
                    .is_some_and(|c| c.contains_key(n))
            };
            let id = ["phone", "mobile", "registered_phone"]
                .into_iter()
                .find(|n| !taken(n))
                .unwrap_or("phone_of_record");
            (id.to_owned(), true)
        }
    };
    let mut edits = Vec::new();
    if add {
        edits.push(edit(
            &format!("contacts.{id}"),
            "set",
            "{kind: phone, registered_by: holder_after_proofing}",
        ));
    }
    edits.push(edit(
        &format!("flows.{flow}.steps"),
        "append",
        &format!(
            "{{verify: [sms_otp], delivered_to: registered_contact, contact: {id}, {ADDED_STEP_LIMIT}}}"
        ),
    ));
    change(
        input,
        flow,
        "second-factor",
        format!(
            "a one-time code by SMS to the phone of record `{id}` (registered after identity proofing)"
        ),
        edits,
        Op::AppendStep {
            flow: flow.to_owned(),
            factor: "sms_otp".into(),
            contact: Some((id, add)),
        },
    )
}

fn change(
    input: &Input,
    flow: &str,
    kind: &'static str,
    summary: String,
    edits: Vec<Edit>,
    op: Op,
) -> Change {
    Change {
        service: input.policy.service.id.clone(),
        file: input.file.to_owned(),
        flow: flow.to_owned(),
        kind,
        summary,
        edits,
        op,
    }
}

fn edit(path: &str, action: &'static str, value: &str) -> Edit {
    Edit {
        path: path.to_owned(),
        action,
        value: value.to_owned(),
    }
}
