//! The market: every valid policy of the tree, indexed once by service id, with the linking
//! graph between account_linking flows. Built once per analysis, never per pair of files.

use crate::model::{FlowKind, Policy, ServiceKind};
use crate::yaml::{Node, Span, YamlPath};
use std::collections::BTreeMap;

/// Delegation chains longer than this are refused by validation (`delegation-too-deep`); the
/// walk stops there too, so a tree that skipped validation cannot make it run away.
pub const MAX_LINK_HOPS: usize = 32;

/// One policy as the engine sees it.
pub struct MarketService<'a> {
    pub id: &'a str,
    pub file: &'a str,
    pub policy: &'a Policy,
    pub tree: Option<&'a Node>,
}

impl MarketService<'_> {
    /// Where a YAML path of this file stands (1:1 when the tree is not kept).
    pub fn span(&self, path: &YamlPath) -> Span {
        self.tree
            .and_then(|t| t.key_span(path).or_else(|| t.get(path).map(|n| n.span)))
            .unwrap_or(Span::new(1, 1, 0))
    }

    pub fn has_login(&self) -> bool {
        self.policy
            .flows
            .values()
            .any(|f| f.kind == FlowKind::Login)
    }
}

/// A flow of the market: service index and flow id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FlowAt<'a> {
    pub service: u32,
    pub flow: &'a str,
}

/// A path from a linking origin (the flow that attaches an account to the attacker's
/// account) through gateways to the flow of the service that holds the money.
#[derive(Debug, Clone)]
pub struct LinkPath<'a> {
    pub hops: Vec<FlowAt<'a>>,
}

/// A walk bound that was reached: the engine reports it with the place it was hit.
#[derive(Debug, Clone)]
pub struct WalkBound<'a> {
    pub origin: FlowAt<'a>,
    pub limit: usize,
    pub what: &'static str,
}

pub struct Market<'a> {
    /// Services in id order; indices are `u32` service numbers.
    pub services: Vec<MarketService<'a>>,
    by_id: BTreeMap<&'a str, u32>,
}

impl<'a> Market<'a> {
    /// Indexes the services. When two files claim one id (an invalid tree), the first in id
    /// and file order is kept, so the result never depends on the order files were given.
    pub fn new(mut services: Vec<MarketService<'a>>) -> Self {
        services.sort_by(|a, b| (a.id, a.file).cmp(&(b.id, b.file)));
        services.dedup_by(|b, a| a.id == b.id);
        let by_id = services
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id, i as u32))
            .collect();
        Self { services, by_id }
    }

    pub fn index(&self, id: &str) -> Option<u32> {
        self.by_id.get(id).copied()
    }

    pub fn service(&self, index: u32) -> &MarketService<'a> {
        &self.services[index as usize]
    }

    fn flow(&self, at: FlowAt<'_>) -> Option<&'a crate::model::Flow> {
        self.services[at.service as usize].policy.flows.get(at.flow)
    }

    /// The account_linking flows each linking flow hands the holder to: the flows it
    /// `delegates_to`, and the account_linking flows of other services that name its service
    /// in `initiated_by` (a bank that accepts holders sent by a wallet or gateway).
    pub fn link_edges(&self) -> BTreeMap<FlowAt<'a>, Vec<FlowAt<'a>>> {
        let mut edges: BTreeMap<FlowAt<'a>, Vec<FlowAt<'a>>> = BTreeMap::new();
        let mut linking_of: BTreeMap<u32, Vec<&'a str>> = BTreeMap::new();
        for (i, s) in self.services.iter().enumerate() {
            for (id, flow) in &s.policy.flows {
                if flow.kind == FlowKind::AccountLinking {
                    linking_of.entry(i as u32).or_default().push(id.as_str());
                }
            }
        }
        for (i, s) in self.services.iter().enumerate() {
            let i = i as u32;
            for (id, flow) in &s.policy.flows {
                if flow.kind != FlowKind::AccountLinking {
                    continue;
                }
                let here = FlowAt {
                    service: i,
                    flow: id.as_str(),
                };
                for target in &flow.delegates_to {
                    let Some(t) = self.index(&target.service) else {
                        continue;
                    };
                    let name = target.flow.as_deref().unwrap_or("account_linking");
                    let Some((key, f)) = self.services[t as usize].policy.flows.get_key_value(name)
                    else {
                        continue;
                    };
                    if f.kind == FlowKind::AccountLinking && t != i {
                        edges.entry(here).or_default().push(FlowAt {
                            service: t,
                            flow: key.as_str(),
                        });
                    }
                }
                for initiator in &flow.initiated_by {
                    let Some(from) = self.index(initiator) else {
                        continue;
                    };
                    if from == i {
                        continue;
                    }
                    for origin in linking_of.get(&from).into_iter().flatten() {
                        edges
                            .entry(FlowAt {
                                service: from,
                                flow: origin,
                            })
                            .or_default()
                            .push(here);
                    }
                }
            }
        }
        for targets in edges.values_mut() {
            targets.sort();
            targets.dedup();
        }
        edges
    }

    /// Every path from a linking origin (an account_linking flow no other linking flow hands
    /// holders to) to a flow that hands them to nobody, in the service that holds the money.
    /// Iterative, cycle-free (a path never revisits a flow), at most [`MAX_LINK_HOPS`] hops
    /// and `max_paths` paths in all; bounds reached are returned with the origin.
    pub fn link_paths(&self, max_paths: usize) -> (Vec<LinkPath<'a>>, Vec<WalkBound<'a>>) {
        let edges = self.link_edges();
        let mut has_incoming = std::collections::BTreeSet::new();
        for targets in edges.values() {
            has_incoming.extend(targets.iter().copied());
        }
        let mut paths = Vec::new();
        let mut bounds = Vec::new();
        for &origin in edges.keys() {
            // A gateway only passes holders on: it holds no accounts, so nothing starts there.
            let gateway = self.services[origin.service as usize].policy.service.kind
                == ServiceKind::LinkingGateway;
            if has_incoming.contains(&origin) || gateway {
                continue;
            }
            let mut stack: Vec<Vec<FlowAt<'a>>> = vec![vec![origin]];
            while let Some(path) = stack.pop() {
                let last = *path.last().unwrap_or(&origin);
                match edges.get(&last) {
                    Some(next) if !next.is_empty() => {
                        if path.len() > MAX_LINK_HOPS {
                            bounds.push(WalkBound {
                                origin,
                                limit: MAX_LINK_HOPS,
                                what: "hops in one linking chain",
                            });
                            continue;
                        }
                        // Reverse so that paths come out in target order.
                        for &n in next.iter().rev() {
                            if !path.contains(&n) {
                                let mut longer = path.clone();
                                longer.push(n);
                                stack.push(longer);
                            }
                        }
                    }
                    _ => {
                        if path.len() < 2 {
                            continue;
                        }
                        let holder = self.services[last.service as usize].policy.service.kind;
                        if holder == ServiceKind::LinkingGateway || self.flow(last).is_none() {
                            continue;
                        }
                        if paths.len() >= max_paths {
                            bounds.push(WalkBound {
                                origin,
                                limit: max_paths,
                                what: "linking paths in the whole tree",
                            });
                            return (paths, bounds);
                        }
                        paths.push(LinkPath { hops: path });
                    }
                }
            }
        }
        (paths, bounds)
    }
}
