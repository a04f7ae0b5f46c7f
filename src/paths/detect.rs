//! Detection along a chain: which notices fire at each action, on which channel, and whether
//! they reach the victim or the attacker (a notice to a contact the attacker registered or
//! replaced warns no one). Notices do not stop a chain; they tell the holder it is happening.

use super::actions::{Action, ActionKind};
use super::facts::{Fact, Source};
use super::market::Market;
use super::options::Subject;
use super::search::Derivation;
use crate::model::{NotificationEvent, Recipient, name_of};
use serde::Serialize;
use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    pub service: String,
    pub event: String,
    /// `sent`, `not_sent` (the policy says none is sent) or `not_described`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<String>,
    /// `victim`, `attacker` or `victim_and_attacker`, for a notice that is sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reaches: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timing: Option<String>,
}

/// The notices of every action of a derivation, in chain order.
pub fn notices(market: &Market, actions: &[Action], d: &Derivation) -> Vec<Notice> {
    let taken: BTreeSet<(u32, u16)> = d
        .steps
        .iter()
        .flat_map(|&(a, _)| actions[a as usize].effects.iter())
        .filter_map(|f| match *f {
            Fact::Contact { service, contact } => Some((service, contact)),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    for &(a, _) in &d.steps {
        let action = &actions[a as usize];
        let Some(flow) = market.service(action.service).policy.flows.get(action.flow) else {
            continue;
        };
        let event = flow.kind.event();
        out.push(notice(
            market,
            action.service,
            event,
            action.subject,
            &taken,
        ));
        for hop in &action.hops {
            if let Some(f) = market.service(hop.service).policy.flows.get(hop.flow) {
                out.push(notice(
                    market,
                    hop.service,
                    f.kind.event(),
                    Subject::VictimAccount,
                    &taken,
                ));
            }
        }
        // Money pulled from a linked bank account: the bank's own notice of the debit.
        if let ActionKind::Drain {
            source: Source::AccountAt(bank),
        } = action.kind
            && bank != action.service
        {
            out.push(notice(market, bank, event, Subject::VictimAccount, &taken));
        }
    }
    out.dedup();
    out
}

fn notice(
    market: &Market,
    service: u32,
    event: NotificationEvent,
    subject: Subject,
    taken: &BTreeSet<(u32, u16)>,
) -> Notice {
    let s = market.service(service);
    let mut n = Notice {
        service: s.id.to_owned(),
        event: name_of(&event),
        status: "not_described",
        channels: Vec::new(),
        reaches: None,
        timing: None,
    };
    let Some(listed) = s
        .policy
        .notifications
        .iter()
        .flatten()
        .find(|x| x.event == event)
    else {
        return n;
    };
    if listed.sent == Some(false) {
        n.status = "not_sent";
        return n;
    }
    n.status = "sent";
    n.channels = listed.channels.iter().flatten().map(name_of).collect();
    n.timing = listed.timing.as_ref().map(name_of);
    n.reaches = Some(if subject == Subject::AttackerAccount {
        // Every contact of an account the attacker opened is the attacker's.
        "attacker"
    } else {
        let names: Vec<&String> = listed.contacts.iter().flatten().collect();
        let index = |c: &str| {
            s.policy
                .contacts
                .as_ref()
                .and_then(|m| m.keys().position(|k| k == c))
                .map_or(u16::MAX, |i| i as u16)
        };
        let controlled = names
            .iter()
            .filter(|c| taken.contains(&(service, index(c))))
            .count();
        match listed.recipient {
            Some(Recipient::NewContact) if event == NotificationEvent::ContactChanged => "attacker",
            Some(Recipient::Both) if event == NotificationEvent::ContactChanged => {
                "victim_and_attacker"
            }
            _ if names.is_empty() || controlled == 0 => "victim",
            _ if controlled == names.len() => "attacker",
            _ => "victim_and_attacker",
        }
    });
    n
}
