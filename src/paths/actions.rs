//! The actions an attacker can take: every flow of every service, on an account it opened or
//! on the victim's, with the ways through it and what each gains. Built once per profile.

use super::Ctx;
use super::facts::{Fact, Source};
use super::market::{FlowAt, LinkPath};
use super::options::{FlowCtx, MAX_WAYS, Subject, Way, flow_ways, prune};
use crate::attackers::Control;
use crate::model::{FlowKind, NameMatching, PayoutConstraint, ProofingLevel, ServiceKind};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub enum ActionKind {
    /// Opens an account at the service.
    Open {
        victims_name: bool,
    },
    /// Attaches the victim's account or card to the attacker's account.
    Link {
        source: Source,
    },
    SignIn,
    SetPassword,
    TakeContact,
    BindDevice,
    RegisterPayee,
    /// Moves the victim's money out.
    Drain {
        source: Source,
    },
}

#[derive(Debug, Clone)]
pub struct Action<'a> {
    pub service: u32,
    /// The flow id; empty for an account opening the policy does not describe.
    pub flow: &'a str,
    pub subject: Subject,
    /// For a linking action: the flows after the origin, in order, down to the account's bank.
    pub hops: Vec<FlowAt<'a>>,
    pub kind: ActionKind,
    pub ways: Vec<Way>,
    pub effects: Vec<Fact>,
}

/// Builds every action of the market for one profile; `capped` tells whether a flow had more
/// ways through it than are kept.
pub fn build<'a>(ctx: &Ctx<'a, '_>, links: &[LinkPath<'a>]) -> (Vec<Action<'a>>, bool) {
    let mut out = Vec::new();
    let mut capped = false;
    let market = ctx.market;
    let password = ctx
        .catalogue
        .factors
        .iter()
        .position(|f| f.space_from_password_policy);
    let mut links_from: BTreeMap<u32, Vec<&LinkPath<'a>>> = BTreeMap::new();
    for path in links {
        links_from
            .entry(path.hops[0].service)
            .or_default()
            .push(path);
    }
    for (i, s) in market.services.iter().enumerate() {
        let i = i as u32;
        let flows = &s.policy.flows;
        // Whether an attacker would open an account here when the policy does not say how
        // accounts are opened, judged from this service's own kind and flows only (so the
        // answer is the same in the whole tree and in the copies the fix search re-runs): it
        // attaches cards, or it is a payment service that starts links (a linking flow nobody
        // is said to initiate). A bank's linking flow authenticates its own depositors, and a
        // gateway holds no accounts.
        let kind = s.policy.service.kind;
        let needs_attacker_account = kind != ServiceKind::LinkingGateway
            && flows.values().any(|f| {
                f.kind == FlowKind::CardRegistration
                    || (kind != ServiceKind::Bank
                        && f.kind == FlowKind::AccountLinking
                        && f.initiated_by.is_empty())
            });
        let registrations: Vec<_> = flows
            .iter()
            .filter(|(_, f)| f.kind == FlowKind::Registration)
            .collect();
        // Opening an account.
        if registrations.is_empty() && needs_attacker_account {
            for victims_name in [false, true] {
                let mut way = Way::free();
                way.unknowns.push(ctx.unknown(
                    i,
                    "",
                    None,
                    "how accounts are opened is not described (no registration flow)".into(),
                ));
                out.push(open_action(i, "", victims_name, vec![way]));
            }
        }
        for (id, flow) in &registrations {
            let f = FlowCtx {
                service: i,
                flow_id: id,
                flow,
                subject: Subject::AttackerAccount,
                victim_data: false,
                attacker_service: Some(i),
            };
            let (ways, hit) = flow_ways(ctx, &f);
            capped |= hit;
            out.push(open_action(i, id, false, ways.clone()));
            let proofing = flow.identity_proofing.as_ref();
            let under_any_name = match proofing {
                None => Some(false),
                Some(p) => match p.level {
                    ProofingLevel::None | ProofingLevel::EmailOnly | ProofingLevel::PhoneOnly => {
                        ctx.has(Control::NewAccountsUnderAnyName).then_some(true)
                    }
                    ProofingLevel::DocumentUpload => {
                        ctx.has(Control::ForgedDocumentImages).then_some(true)
                    }
                    ProofingLevel::Ekyc => (p.method.is_some_and(|m| m.rests_on_document_images())
                        && ctx.has(Control::ForgedDocumentImages))
                    .then_some(true),
                    ProofingLevel::InPerson => None,
                },
            };
            if let Some(described) = under_any_name {
                let mut ways = ways;
                if !described {
                    let unknown = ctx.unknown(
                        i,
                        id,
                        None,
                        "identity proofing at registration is not described, so whether an account can be opened in someone else's name cannot be judged".into(),
                    );
                    for way in &mut ways {
                        way.unknowns.push(unknown.clone());
                    }
                }
                out.push(open_action(i, id, true, ways));
            }
        }
        // Attaching the victim's account (linking paths from this service) or card.
        for path in links_from.get(&i).into_iter().flatten() {
            let origin = path.hops[0];
            let Some(origin_flow) = flows.get(origin.flow) else {
                continue;
            };
            let f = FlowCtx {
                service: i,
                flow_id: origin.flow,
                flow: origin_flow,
                subject: Subject::AttackerAccount,
                victim_data: true,
                attacker_service: Some(i),
            };
            let (mut ways, hit) = flow_ways(ctx, &f);
            capped |= hit;
            let mut matching = vec![(i, origin.flow, origin_flow.name_matching)];
            for hop in &path.hops[1..] {
                let hs = market.service(hop.service);
                let Some(hop_flow) = hs.policy.flows.get(hop.flow) else {
                    ways.clear();
                    break;
                };
                let hf = FlowCtx {
                    service: hop.service,
                    flow_id: hop.flow,
                    flow: hop_flow,
                    subject: Subject::VictimAccount,
                    victim_data: true,
                    attacker_service: Some(i),
                };
                let (through, hit) = flow_ways(ctx, &hf);
                capped |= hit;
                ways = and_all(&ways, &through, &mut capped);
                matching.push((hop.service, hop.flow, hop_flow.name_matching));
            }
            if ways.is_empty() {
                continue;
            }
            let leaf = path.hops[path.hops.len() - 1].service;
            let ways = with_holder(ctx, i, &ways, &matching, &mut capped);
            if ways.is_empty() {
                continue;
            }
            out.push(Action {
                service: i,
                flow: origin.flow,
                subject: Subject::AttackerAccount,
                hops: path.hops[1..].to_vec(),
                kind: ActionKind::Link {
                    source: Source::AccountAt(leaf),
                },
                ways,
                effects: vec![Fact::Linked {
                    service: i,
                    source: Source::AccountAt(leaf),
                }],
            });
        }
        for (id, flow) in flows
            .iter()
            .filter(|(_, f)| f.kind == FlowKind::CardRegistration)
        {
            let f = FlowCtx {
                service: i,
                flow_id: id,
                flow,
                subject: Subject::AttackerAccount,
                victim_data: true,
                attacker_service: Some(i),
            };
            let (ways, hit) = flow_ways(ctx, &f);
            capped |= hit;
            let ways = with_holder(ctx, i, &ways, &[(i, id, flow.name_matching)], &mut capped);
            if !ways.is_empty() {
                out.push(Action {
                    service: i,
                    flow: id,
                    subject: Subject::AttackerAccount,
                    hops: Vec::new(),
                    kind: ActionKind::Link {
                        source: Source::Card,
                    },
                    ways,
                    effects: vec![Fact::Linked {
                        service: i,
                        source: Source::Card,
                    }],
                });
            }
        }
        // Spending what was attached, from the attacker's own account.
        let mut sources: Vec<Source> = links_from
            .get(&i)
            .into_iter()
            .flatten()
            .map(|p| Source::AccountAt(p.hops[p.hops.len() - 1].service))
            .collect();
        if flows.values().any(|f| f.kind == FlowKind::CardRegistration) {
            sources.push(Source::Card);
        }
        sources.sort();
        sources.dedup();
        for (id, flow) in flows
            .iter()
            .filter(|(_, f)| matches!(f.kind, FlowKind::Charge | FlowKind::Payment))
        {
            let f = FlowCtx {
                service: i,
                flow_id: id,
                flow,
                subject: Subject::AttackerAccount,
                victim_data: false,
                attacker_service: Some(i),
            };
            let (ways, hit) = flow_ways(ctx, &f);
            capped |= hit;
            for &source in &sources {
                let need = Fact::Linked { service: i, source };
                let ways: Vec<Way> = ways.iter().map(|w| with_need(w, need)).collect();
                out.push(drain_action(i, id, Subject::AttackerAccount, source, ways));
            }
        }
        // The victim's own account at this service.
        let session = s.has_login().then_some(Fact::Session { service: i });
        for (id, flow) in flows {
            let (kind, effects, extra): (ActionKind, Vec<Fact>, Vec<Way>) = match flow.kind {
                FlowKind::Login => (
                    ActionKind::SignIn,
                    vec![Fact::Session { service: i }],
                    vec![],
                ),
                FlowKind::PasswordReset => match password {
                    Some(p) => (
                        ActionKind::SetPassword,
                        vec![Fact::Secret {
                            service: i,
                            factor: p as u16,
                        }],
                        vec![],
                    ),
                    None => continue,
                },
                FlowKind::ContactChange => {
                    if flow.old_contact_notified == Some(true) {
                        continue;
                    }
                    let mut way = Way::free();
                    if flow.old_contact_notified.is_none() {
                        way.unknowns.push(ctx.unknown(
                            i,
                            id,
                            None,
                            "whether the replaced contact is told of the change is not described".into(),
                        ));
                    }
                    let contacts: Vec<String> = match &flow.replaces_contact {
                        Some(c) => vec![c.clone()],
                        None => {
                            way.unknowns.push(ctx.unknown(
                                i,
                                id,
                                None,
                                "which contact the change replaces is not described".into(),
                            ));
                            s.policy
                                .contacts
                                .iter()
                                .flat_map(|c| c.keys().cloned())
                                .collect()
                        }
                    };
                    let effects = contacts
                        .iter()
                        .map(|c| Fact::Contact {
                            service: i,
                            contact: ctx.contact_index(i, c),
                        })
                        .collect();
                    (ActionKind::TakeContact, effects, vec![way])
                }
                FlowKind::DeviceActivation => (
                    ActionKind::BindDevice,
                    vec![Fact::Device { service: i }],
                    vec![],
                ),
                FlowKind::PayeeRegistration | FlowKind::PayoutAccountChange => (
                    ActionKind::RegisterPayee,
                    vec![Fact::Payee { service: i }],
                    vec![],
                ),
                FlowKind::Charge => (
                    ActionKind::Drain {
                        source: Source::FundingAt(i),
                    },
                    vec![],
                    vec![],
                ),
                FlowKind::Payment => (
                    ActionKind::Drain {
                        source: Source::BalanceAt(i),
                    },
                    vec![],
                    vec![],
                ),
                FlowKind::Transfer => {
                    let mut way = Way::free();
                    match flow.payout.as_ref().map(|p| p.constraint) {
                        None => way.unknowns.push(ctx.unknown(
                            i,
                            id,
                            None,
                            "where the transfer may pay out to is not described".into(),
                        )),
                        Some(PayoutConstraint::AnyAccount) => {}
                        Some(PayoutConstraint::SameNameOnly) => {
                            way.needs.push(Fact::VictimsNameAccount)
                        }
                        Some(PayoutConstraint::PreRegisteredOnly) => {
                            way.needs.push(Fact::Payee { service: i })
                        }
                    }
                    (
                        ActionKind::Drain {
                            source: Source::BalanceAt(i),
                        },
                        vec![],
                        vec![way],
                    )
                }
                _ => continue,
            };
            let f = FlowCtx {
                service: i,
                flow_id: id,
                flow,
                subject: Subject::VictimAccount,
                victim_data: false,
                attacker_service: None,
            };
            let (mut ways, hit) = flow_ways(ctx, &f);
            capped |= hit;
            if ways.is_empty() {
                continue;
            }
            for e in &extra {
                ways = and_all(&ways, std::slice::from_ref(e), &mut capped);
            }
            if let (Some(session), false) = (
                session,
                matches!(kind, ActionKind::SignIn | ActionKind::SetPassword),
            ) {
                ways = ways.iter().map(|w| with_need(w, session)).collect();
            }
            let action = match kind {
                ActionKind::Drain { source } => {
                    drain_action(i, id, Subject::VictimAccount, source, ways)
                }
                kind => Action {
                    service: i,
                    flow: id,
                    subject: Subject::VictimAccount,
                    hops: Vec::new(),
                    kind,
                    ways,
                    effects,
                },
            };
            out.push(action);
        }
    }
    (out, capped)
}

fn open_action<'a>(service: u32, flow: &'a str, victims_name: bool, ways: Vec<Way>) -> Action<'a> {
    let mut effects = vec![Fact::Holds {
        service,
        victims_name,
    }];
    if victims_name {
        effects.push(Fact::VictimsNameAccount);
    }
    Action {
        service,
        flow,
        subject: Subject::AttackerAccount,
        hops: Vec::new(),
        kind: ActionKind::Open { victims_name },
        ways,
        effects,
    }
}

fn drain_action<'a>(
    service: u32,
    flow: &'a str,
    subject: Subject,
    source: Source,
    ways: Vec<Way>,
) -> Action<'a> {
    // The goal fact names the action itself; the search fills in the index.
    Action {
        service,
        flow,
        subject,
        hops: Vec::new(),
        kind: ActionKind::Drain { source },
        ways,
        effects: Vec::new(),
    }
}

fn with_need(way: &Way, fact: Fact) -> Way {
    let mut w = way.clone();
    if !w.needs.contains(&fact) {
        w.needs.push(fact);
        w.needs.sort();
    }
    w
}

fn and_all(a: &[Way], b: &[Way], capped: &mut bool) -> Vec<Way> {
    let mut next = Vec::with_capacity(a.len() * b.len());
    for x in a {
        for y in b {
            next.push(x.and(y));
        }
    }
    let (kept, hit) = prune(next, MAX_WAYS);
    *capped |= hit;
    kept
}

/// Adds what the attacker's account must be for the link to pass name matching: an account
/// under the victim's name always passes; one under another name passes unless a flow on the
/// way blocks mismatches, and cannot be judged where a flow does not say whether it compares.
fn with_holder(
    ctx: &Ctx,
    service: u32,
    ways: &[Way],
    matching: &[(u32, &str, Option<NameMatching>)],
    capped: &mut bool,
) -> Vec<Way> {
    let blocks = matching
        .iter()
        .any(|(_, _, m)| *m == Some(NameMatching::Block));
    let undescribed: Vec<_> = matching
        .iter()
        .filter(|(_, _, m)| m.is_none())
        .map(|(s, f, _)| {
            ctx.unknown(
                *s,
                f,
                None,
                "whether the holder's name is compared with the account's is not described".into(),
            )
        })
        .collect();
    let mut alternatives = Vec::new();
    let victims = Fact::Holds {
        service,
        victims_name: true,
    };
    let own = Fact::Holds {
        service,
        victims_name: false,
    };
    let mut own_way = Way::free();
    own_way.needs.push(own);
    own_way.unknowns = undescribed;
    let own_passes = !blocks;
    let own_certain = own_passes && own_way.unknowns.is_empty();
    if own_passes {
        alternatives.push(own_way);
    }
    if !own_certain {
        let mut w = Way::free();
        w.needs.push(victims);
        alternatives.push(w);
    }
    and_all(ways, &alternatives, capped)
}
