//! How an attacker can get past one step of one flow: for each factor, the ways it is
//! defeated (known, set by the attacker, delivered to a contact it controls, guessed within
//! the attempt limits, relayed, SIM swap), and what each way needs from earlier in the chain.
//! The semantics are written out in docs/attack-paths.md.

use super::Ctx;
use super::facts::{Fact, Unknown};
use crate::attackers::Capability;
use crate::factors::{Category, DeliveryChannel, Factor, Tries};
use crate::model::{AttemptLimit, AttemptScope, ContactKind, Delivery, Enforcement, Flow, Step};
use serde::Serialize;

/// Whose account a flow acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// An account the attacker opened itself: its contacts, devices and secrets are the
    /// attacker's own.
    AttackerAccount,
    /// The victim's account (or, in a linking chain, the victim's account at the bank or
    /// gateway the link goes through).
    VictimAccount,
}

/// How one factor was defeated.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "how", rename_all = "snake_case")]
pub enum How {
    /// The attacker holds the value (the profile's `knows`).
    Known,
    /// The attacker's own: it opened the account and set or enrolled this itself.
    AttackersOwn,
    /// Sent to a contact the requester supplies in the same flow: the attacker's.
    SuppliedContact,
    /// Sent to a contact of record the attacker registered (an account it opened).
    AttackersRecord { service: String },
    /// Sent to a contact of the victim's record that the attacker replaced earlier.
    ChangedContact { service: String, contact: String },
    /// The attacker set this secret earlier in the chain (a password reset).
    SetEarlier { service: String },
    /// Presented on a device the attacker bound to the victim's account earlier.
    BoundDevice { service: String },
    /// Guessed online within the attempt limit; `chance` is per victim (None: cannot judge).
    Guessed { chance: Option<f64>, tries: String },
    /// Forwarded in real time from the victim by a phishing relay.
    Relayed,
    /// The step binds only holders who turned it on; the attacker picks one who did not.
    NotTurnedOn,
    /// Received through a SIM swap of the victim's phone number.
    SimSwap,
}

/// One factor of one step and how it fell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Defeated {
    pub service: String,
    pub flow: String,
    pub step: usize,
    pub factor: String,
    #[serde(flatten)]
    pub how: How,
}

/// One way through a step or a flow: what it needs, its chance, and what it rests on that
/// the policy does not describe.
#[derive(Debug, Clone, PartialEq)]
pub struct Way {
    pub needs: Vec<Fact>,
    pub chance: f64,
    pub unknowns: Vec<Unknown>,
    pub defeated: Vec<Defeated>,
}

impl Way {
    pub fn free() -> Self {
        Self {
            needs: Vec::new(),
            chance: 1.0,
            unknowns: Vec::new(),
            defeated: Vec::new(),
        }
    }

    /// Both ways together.
    pub fn and(&self, other: &Way) -> Way {
        let mut needs = self.needs.clone();
        needs.extend(other.needs.iter().cloned());
        needs.sort();
        needs.dedup();
        let mut unknowns = self.unknowns.clone();
        unknowns.extend(other.unknowns.iter().cloned());
        unknowns.sort();
        unknowns.dedup();
        let mut defeated = self.defeated.clone();
        defeated.extend(other.defeated.iter().cloned());
        Way {
            needs,
            chance: self.chance * other.chance,
            unknowns,
            defeated,
        }
    }

    /// Whether `self` is at least as good as `other` in every respect: needs no more, rests on
    /// no more unknowns, and succeeds at least as often.
    pub fn dominates(&self, other: &Way) -> bool {
        self.needs.iter().all(|n| other.needs.contains(n))
            && self.unknowns.iter().all(|u| other.unknowns.contains(u))
            && self.chance >= other.chance
    }
}

/// Keeps the ways no other way dominates (the first of equals), at most `cap` of them.
pub fn prune(ways: Vec<Way>, cap: usize) -> (Vec<Way>, bool) {
    let mut kept: Vec<Way> = Vec::new();
    for way in ways {
        if kept.iter().any(|k| k.dominates(&way)) {
            continue;
        }
        kept.retain(|k| !way.dominates(k));
        kept.push(way);
    }
    let capped = kept.len() > cap;
    kept.truncate(cap);
    (kept, capped)
}

/// What the engine needs to know about the flow a step belongs to.
pub struct FlowCtx<'f> {
    pub service: u32,
    pub flow_id: &'f str,
    pub flow: &'f Flow,
    pub subject: Subject,
    /// In an attacker-held flow that attaches a victim's account or card (linking origin,
    /// card registration): data and instrument secrets in it are the victim's.
    pub victim_data: bool,
    /// The service where the attacker holds the account this action serves, if any: a code
    /// sent to that service's record reaches the attacker.
    pub attacker_service: Option<u32>,
}

/// At most this many ways through one step or one flow are kept.
pub const MAX_WAYS: usize = 16;

/// What the ways through a flow depend on: the flow itself (by address, stable for one
/// analysis), whose account it runs on, whether its data is the victim's, and the attacker's
/// service only where a step sends a code to another service's record (`record_of`).
pub type WaysKey = (usize, Subject, bool, Option<u32>);

/// The ways through every step of a flow (steps are all required), or none when a step
/// cannot be passed. Computed once per [`WaysKey`].
pub fn flow_ways(ctx: &Ctx, f: &FlowCtx) -> (Vec<Way>, bool) {
    let depends_on_attacker = f.flow.steps.iter().any(|s| s.record_of.is_some());
    let key: WaysKey = (
        std::ptr::from_ref(f.flow) as usize,
        f.subject,
        f.victim_data,
        if depends_on_attacker {
            f.attacker_service
        } else {
            None
        },
    );
    if let Some(found) = ctx.ways.borrow().get(&key) {
        return found.clone();
    }
    let computed = compute_flow_ways(ctx, f);
    ctx.ways.borrow_mut().insert(key, computed.clone());
    computed
}

fn compute_flow_ways(ctx: &Ctx, f: &FlowCtx) -> (Vec<Way>, bool) {
    let mut ways = vec![Way::free()];
    let mut capped = false;
    for (index, step) in f.flow.steps.iter().enumerate() {
        let through = step_ways(ctx, f, index, step);
        if through.is_empty() {
            return (Vec::new(), capped);
        }
        let mut next = Vec::with_capacity(ways.len() * through.len());
        for a in &ways {
            for b in &through {
                next.push(a.and(b));
            }
        }
        let (kept, hit) = prune(next, MAX_WAYS);
        capped |= hit;
        ways = kept;
    }
    let service = ctx.market.service(f.service).id;
    for way in &mut ways {
        for d in way.defeated.iter_mut().filter(|d| d.service.is_empty()) {
            d.service = service.to_owned();
            d.flow = f.flow_id.to_owned();
        }
    }
    (ways, capped)
}

fn step_ways(ctx: &Ctx, f: &FlowCtx, index: usize, step: &Step) -> Vec<Way> {
    if f.subject == Subject::VictimAccount && step.enforcement == Some(Enforcement::OptIn) {
        // The attacker picks holders who never turned the step on.
        let mut way = Way::free();
        way.defeated.push(Defeated {
            service: String::new(),
            flow: String::new(),
            step: index,
            factor: step.verify.join(", "),
            how: How::NotTurnedOn,
        });
        return vec![way];
    }
    let mut ways = vec![Way::free()];
    for name in &step.verify {
        let Some(factor) = ctx.catalogue.get(name) else {
            // Validation refuses unknown factors; a tree that skipped it gets no way through.
            return Vec::new();
        };
        let options = factor_ways(ctx, f, index, step, factor);
        if options.is_empty() {
            return Vec::new();
        }
        let mut next = Vec::with_capacity(ways.len() * options.len());
        for a in &ways {
            for b in &options {
                next.push(a.and(b));
            }
        }
        ways = prune(next, MAX_WAYS).0;
    }
    ways
}

fn one(step: usize, factor: &Factor, how: How) -> Way {
    let mut way = Way::free();
    way.defeated.push(Defeated {
        service: String::new(),
        flow: String::new(),
        step,
        factor: factor.name.clone(),
        how,
    });
    way
}

fn needing(mut way: Way, fact: Fact) -> Way {
    way.needs.push(fact);
    way.needs.sort();
    way
}

fn factor_ways(ctx: &Ctx, f: &FlowCtx, index: usize, step: &Step, factor: &Factor) -> Vec<Way> {
    let known = ctx.profile.knows.contains(&factor.name);
    if known {
        return vec![one(index, factor, How::Known)];
    }
    let attacker_side = f.subject == Subject::AttackerAccount;
    if factor.delivered_by.is_some() {
        return delivered_ways(ctx, f, index, step, factor);
    }
    let password_like = factor.space_from_password_policy;
    if attacker_side {
        let victims = f.victim_data
            && ((!factor.secret && factor.category == Category::None)
                || (factor.category == Category::Knowledge && !password_like));
        if !victims {
            return vec![one(index, factor, How::AttackersOwn)];
        }
        // Data about the account or card being attached, or its PIN: the victim's.
        return guess_ways(ctx, f, index, step, factor);
    }
    let service = ctx.market.service(f.service).id.to_owned();
    let mut ways = Vec::new();
    match factor.category {
        Category::Knowledge => {
            if password_like {
                ways.push(needing(
                    one(index, factor, How::SetEarlier { service }),
                    Fact::Secret {
                        service: f.service,
                        factor: ctx.factor_index(&factor.name),
                    },
                ));
            }
            ways.extend(guess_ways(ctx, f, index, step, factor));
        }
        Category::Possession | Category::Inherence => {
            ways.push(needing(
                one(index, factor, How::BoundDevice { service }),
                Fact::Device { service: f.service },
            ));
            ways.extend(guess_ways(ctx, f, index, step, factor));
        }
        Category::None => ways.extend(guess_ways(ctx, f, index, step, factor)),
    }
    if factor.relayable && ctx.can(Capability::RealtimePhishingRelay) {
        ways.push(one(index, factor, How::Relayed));
    }
    ways
}

fn tries_of(limit: Option<&AttemptLimit>) -> (Tries, String) {
    match limit {
        None => (Tries::Undescribed, "attempt limit not described".into()),
        Some(l) if l.scope == AttemptScope::None => (Tries::Unlimited, "no attempt limit".into()),
        Some(l) if !l.scope.follows_the_target() => (
            Tries::Unlimited,
            format!(
                "counted per {} only, reset by a new one",
                crate::model::name_of(&l.scope)
            ),
        ),
        Some(l) => match l.max {
            Some(max) => (
                Tries::Limited(max),
                format!("{max} tries per {}", crate::model::name_of(&l.scope)),
            ),
            None => (Tries::Undescribed, "attempt maximum not described".into()),
        },
    }
}

fn guess_ways(ctx: &Ctx, f: &FlowCtx, index: usize, step: &Step, factor: &Factor) -> Vec<Way> {
    let guessable = factor.effective_key_space.or(factor.key_space).is_some()
        || factor.space_from_password_policy;
    if !guessable || !ctx.can(Capability::OnlineGuessing) {
        return Vec::new();
    }
    let limit = step
        .attempts
        .as_ref()
        .or(f.flow.limits.as_ref().and_then(|l| l.attempts.as_ref()));
    let (tries, described) = tries_of(limit);
    let password = ctx
        .market
        .service(f.service)
        .policy
        .password_policy
        .as_ref();
    let chance = factor.guess_chance(tries, password);
    let mut way = one(
        index,
        factor,
        How::Guessed {
            chance,
            tries: described.clone(),
        },
    );
    match chance {
        Some(p) if p <= 0.0 || p < ctx.limits.min_chance => return Vec::new(),
        Some(p) => way.chance = p,
        None => {
            let what = if matches!(tries, Tries::Undescribed) {
                format!("the attempt limit on `{}`", factor.name)
            } else {
                format!(
                    "the password policy that sets how guessable `{}` is",
                    factor.name
                )
            };
            way.unknowns.push(ctx.unknown(
                f.service,
                f.flow_id,
                Some(index),
                format!("{what} is not described, so the chance of guessing it cannot be judged"),
            ));
        }
    }
    let _ = described;
    vec![way]
}

fn delivered_ways(ctx: &Ctx, f: &FlowCtx, index: usize, step: &Step, factor: &Factor) -> Vec<Way> {
    let attacker_side = f.subject == Subject::AttackerAccount;
    let channel = factor.delivered_by;
    let mut ways = Vec::new();
    match step.delivered_to {
        Some(Delivery::ContactSuppliedInFlow) => {
            return vec![one(index, factor, How::SuppliedContact)];
        }
        None => {
            // Validation requires `delivered_to`; without it nothing can be judged.
            let mut way = one(index, factor, How::SuppliedContact);
            way.unknowns.push(ctx.unknown(
                f.service,
                f.flow_id,
                Some(index),
                format!("where `{}` is delivered is not described", factor.name),
            ));
            return vec![way];
        }
        Some(Delivery::RegisteredContact) => {}
    }
    let record = if factor.run_by_issuer {
        None
    } else {
        match &step.record_of {
            Some(id) => ctx.market.index(id),
            None => Some(f.service),
        }
    };
    let attackers_record = match record {
        Some(r) if Some(r) == f.attacker_service => true,
        Some(r) if r == f.service && attacker_side => true,
        _ => false,
    };
    if attackers_record {
        let service = ctx
            .market
            .service(record.unwrap_or(f.service))
            .id
            .to_owned();
        return vec![one(index, factor, How::AttackersRecord { service })];
    }
    // The victim's contact of record (or the card issuer's record of the cardholder).
    if let Some(r) = record {
        let holder = ctx.market.service(r);
        let contacts = holder.policy.contacts.as_ref();
        let mut targets: Vec<(&str, bool)> = Vec::new();
        match &step.contact {
            Some(c) => targets.push((c.as_str(), true)),
            None => {
                for (id, contact) in contacts.into_iter().flatten() {
                    if channel_reaches(channel, contact.kind) {
                        targets.push((id.as_str(), false));
                    }
                }
            }
        }
        for (contact, named) in targets {
            let mut way = needing(
                one(
                    index,
                    factor,
                    How::ChangedContact {
                        service: holder.id.to_owned(),
                        contact: contact.to_owned(),
                    },
                ),
                Fact::Contact {
                    service: r,
                    contact: ctx.contact_index(r, contact),
                },
            );
            if !named {
                way.unknowns.push(ctx.unknown(
                    f.service,
                    f.flow_id,
                    Some(index),
                    format!(
                        "which contact of record `{}` goes to is not described",
                        factor.name
                    ),
                ));
            }
            ways.push(way);
        }
    }
    let phone = matches!(
        channel,
        Some(DeliveryChannel::Sms) | Some(DeliveryChannel::Voice)
    );
    if phone && ctx.can(Capability::SimSwap) {
        ways.push(one(index, factor, How::SimSwap));
    }
    if factor.relayable && ctx.can(Capability::RealtimePhishingRelay) {
        ways.push(one(index, factor, How::Relayed));
    }
    ways.extend(guess_ways(ctx, f, index, step, factor));
    ways
}

fn channel_reaches(channel: Option<DeliveryChannel>, kind: ContactKind) -> bool {
    matches!(
        (channel, kind),
        (
            Some(DeliveryChannel::Sms | DeliveryChannel::Voice),
            ContactKind::Phone
        ) | (Some(DeliveryChannel::Email), ContactKind::Email)
            | (Some(DeliveryChannel::App), ContactKind::AppPush)
    )
}
