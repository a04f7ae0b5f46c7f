//! Cross-party attack paths: every minimal chain from an attacker profile to money leaving a
//! victim's account or card, across all the services of a policy tree.
//!
//! The steps, one module each: [`market`] indexes the services and walks the linking graph;
//! [`options`] decides how each factor of each step can be defeated; [`actions`] turns flows
//! into actions with what they need and gain; [`search`] finds the minimal derivations of
//! every goal; [`detect`] lists the notices the holder receives on the way; [`fixes`] finds the
//! smallest control changes that break each chain. The semantics are in docs/attack-paths.md.
//! Nothing here reads files or prints.

mod actions;
pub mod detect;
pub mod facts;
pub mod fixes;
pub mod market;
pub mod options;
pub mod search;

use crate::attackers::{AttackerProfile, Capability, Control};
use crate::factors::Catalogue;
use crate::model::{FlowKind, Policy, name_of};
use crate::yaml::{Node, YamlPath};
use actions::{Action, ActionKind};
use facts::{Fact, Source, Unknown};
use market::{Market, MarketService, WalkBound};
use options::{Defeated, Subject};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// Bounds on the work of one analysis. Each bound reached is reported with where it was hit.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Chains less likely than this per victim are not reported (a one-time code guessed
    /// within a limit of five tries has a chance of 5 in 1,000,000).
    pub min_chance: f64,
    pub max_link_paths: usize,
    pub ways_per_fact: usize,
    pub combinations_per_action: usize,
    pub budget: u64,
    /// Fix search (re-running the chain under each candidate change) is done for at most this
    /// many chains; the others are listed without fixes, and the bound is reported.
    pub max_fix_chains: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            min_chance: 1e-4,
            max_link_paths: 1_000_000,
            ways_per_fact: 32,
            combinations_per_action: 4_096,
            budget: 50_000_000,
            max_fix_chains: 200_000,
        }
    }
}

/// A policy and where it came from, as the analysis takes it.
pub struct Input<'a> {
    pub file: &'a str,
    pub policy: &'a Policy,
    pub tree: Option<&'a Node>,
}

/// Shared state of one profile's analysis.
pub struct Ctx<'a, 'p> {
    pub catalogue: &'p Catalogue,
    pub market: &'p Market<'a>,
    pub profile: &'p AttackerProfile,
    pub limits: Limits,
    /// The ways through each flow, computed once: a bank's linking flow is reached by every
    /// wallet that links to it, and its ways do not depend on which (see `options::WaysKey`).
    pub ways:
        std::cell::RefCell<std::collections::HashMap<options::WaysKey, (Vec<options::Way>, bool)>>,
}

impl Ctx<'_, '_> {
    pub fn can(&self, capability: Capability) -> bool {
        self.profile.capabilities.contains(&capability)
    }

    pub fn has(&self, control: Control) -> bool {
        self.profile.controls.contains(&control)
    }

    pub fn factor_index(&self, name: &str) -> u16 {
        self.catalogue
            .factors
            .iter()
            .position(|f| f.name == name)
            .map_or(u16::MAX, |i| i as u16)
    }

    pub fn contact_index(&self, service: u32, contact: &str) -> u16 {
        self.market
            .service(service)
            .policy
            .contacts
            .as_ref()
            .and_then(|c| c.keys().position(|k| k == contact))
            .map_or(u16::MAX, |i| i as u16)
    }

    /// An undescribed fact at a flow (or a step of it; the service when `flow` is empty).
    pub fn unknown(&self, service: u32, flow: &str, step: Option<usize>, what: String) -> Unknown {
        let s = self.market.service(service);
        let path = flow_path(flow, step);
        let span = s.span(&path);
        Unknown {
            file: s.file.to_owned(),
            line: span.line,
            column: span.column,
            path: path.to_string(),
            service: s.id.to_owned(),
            flow: flow.to_owned(),
            what,
        }
    }
}

fn flow_path(flow: &str, step: Option<usize>) -> YamlPath {
    match (flow, step) {
        ("", _) => YamlPath::root().key("service"),
        (flow, None) => YamlPath::root().key("flows").key(flow),
        (flow, Some(i)) => YamlPath::root()
            .key("flows")
            .key(flow)
            .key("steps")
            .index(i),
    }
}

/// Where a chain step stands in its policy file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Place {
    pub service: String,
    /// Empty for an account opening the policy does not describe.
    pub flow: String,
    pub file: String,
    pub line: u32,
    pub column: u32,
}

/// One action of a chain.
#[derive(Debug, Clone, Serialize)]
pub struct ChainStep {
    #[serde(flatten)]
    pub at: Place,
    /// Whose account the flow acts on.
    pub account: Subject,
    /// For a link: the flows the holder is handed to, down to the account's bank.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub via: Vec<Place>,
    /// What the attacker gains, in words.
    pub gains: String,
    /// Every factor presented, and how the attacker got past it.
    pub defeated: Vec<Defeated>,
    /// The chance this step succeeds per victim (1 unless something is guessed).
    pub chance: f64,
}

/// Where the money leaves from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MoneySource {
    /// `bank_account`, `card`, `registered_funding` or `balance`.
    pub kind: &'static str,
    /// The service holding it (none for a card whose issuer is not in the tree).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

/// How much a victim can lose per day along the chain, from the amount limits of the flow
/// that moves the money.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AtRisk {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// How the figure follows from the limits, or why there is none.
    pub basis: String,
}

/// One chain from an attacker profile to money out.
#[derive(Debug, Clone, Serialize)]
pub struct Chain {
    /// Stable across runs and file order: a digest of the profile, the flows and the source.
    pub id: String,
    pub attacker: String,
    /// False when the chain rests on facts the policies do not describe (`depends_on`): the
    /// tool cannot tell whether it works.
    pub determined: bool,
    /// Chance of success per victim attempt (the product of the guessing odds); absent when a
    /// chance cannot be judged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chance: Option<f64>,
    pub source: MoneySource,
    pub steps: Vec<ChainStep>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<Unknown>,
    /// The notices the holder (or the attacker) receives on the way: detection, not
    /// prevention.
    pub notices: Vec<detect::Notice>,
    pub at_risk: AtRisk,
    /// The smallest sets of control changes that break this chain.
    pub fixes: Vec<fixes::FixSet>,
}

/// A bound of the analysis that was reached, located at the flow where it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BoundReached {
    pub attacker: String,
    #[serde(flatten)]
    pub at: Place,
    pub what: String,
    pub limit: u64,
}

/// Everything one analysis found.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    pub attackers: Vec<String>,
    pub services: usize,
    pub chains: Vec<Chain>,
    /// Single control changes, ranked by how many chains each breaks.
    pub ranked_fixes: Vec<fixes::RankedFix>,
    pub bounds: Vec<BoundReached>,
}

impl Analysis {
    pub fn determined(&self) -> impl Iterator<Item = &Chain> {
        self.chains.iter().filter(|c| c.determined)
    }
}

/// Runs every profile over the tree.
pub fn analyse(
    inputs: &[Input],
    catalogue: &Catalogue,
    profiles: &[&AttackerProfile],
    limits: Limits,
) -> Analysis {
    let mut analysis = analyse_without_fixes(inputs, catalogue, profiles, limits);
    fixes::attach(&mut analysis, inputs, catalogue, profiles, limits);
    analysis
}

/// The market of `inputs`, indexed once.
fn market_of<'a>(inputs: &[Input<'a>]) -> Market<'a> {
    Market::new(
        inputs
            .iter()
            .map(|i| MarketService {
                id: i.policy.service.id.as_str(),
                file: i.file,
                policy: i.policy,
                tree: i.tree,
            })
            .collect(),
    )
}

/// Each profile once, in id order.
fn unique_profiles<'p>(profiles: &[&'p AttackerProfile]) -> Vec<&'p AttackerProfile> {
    let mut profiles: Vec<&AttackerProfile> = profiles.to_vec();
    profiles.sort_by(|a, b| a.id.cmp(&b.id));
    profiles.dedup_by(|a, b| a.id == b.id);
    profiles
}

/// The profiles, each once in id order, the number of services in the market of `inputs`,
/// and what `read` made of each profile's search.
struct Searched<'p, R> {
    profiles: Vec<&'p AttackerProfile>,
    services: usize,
    results: Vec<R>,
}

/// Builds the market of `inputs` once, then each profile's actions and their search, and
/// hands each to `read` with the bounds the linking walk reached. The profiles' searches are
/// independent: they run on every core and are joined in profile order, so the result does
/// not depend on the number of threads.
fn search_profiles<'p, R: Send>(
    inputs: &[Input],
    catalogue: &Catalogue,
    profiles: &[&'p AttackerProfile],
    limits: Limits,
    read: impl Fn(&Ctx, &[WalkBound], &[Action], &search::Search) -> R + Sync,
) -> Searched<'p, R> {
    let market = market_of(inputs);
    let (links, walk_bounds) = market.link_paths(limits.max_link_paths);
    let profiles = unique_profiles(profiles);
    let results = crate::parallel::map(&profiles, |profile| {
        let ctx = Ctx {
            catalogue,
            market: &market,
            profile,
            limits,
            ways: Default::default(),
        };
        let (actions, _capped) = actions::build(&ctx, &links);
        let found = search::run(
            &actions,
            search::SearchLimits {
                per_fact: limits.ways_per_fact,
                per_action: limits.combinations_per_action,
                budget: limits.budget,
                min_chance: limits.min_chance,
            },
        );
        read(&ctx, &walk_bounds, &actions, &found)
    });
    Searched {
        profiles,
        services: market.services.len(),
        results,
    }
}

/// The derivations of money leaving a victim's account: one per chain.
fn chain_derivations<'s>(
    actions: &'s [Action],
    found: &'s search::Search,
) -> impl Iterator<Item = &'s search::Derivation> {
    actions
        .iter()
        .enumerate()
        .filter(|(_, action)| matches!(action.kind, ActionKind::Drain { .. }))
        .flat_map(move |(a, _)| found.derivations_of(&Fact::MoneyOut { action: a as u32 }))
}

/// The flows each profile's chains run through (`at` or `via`), by (service, flow): the
/// attackers with a determined chain through it, and those with only undetermined ones. What
/// `check` needs of the analysis, without building the chains: on a national market they
/// number in the hundreds of thousands.
pub fn flows_on_chains(
    inputs: &[Input],
    catalogue: &Catalogue,
    profiles: &[&AttackerProfile],
    limits: Limits,
) -> FlowsOnChains {
    let searched = search_profiles(
        inputs,
        catalogue,
        profiles,
        limits,
        |ctx, _, actions, found| {
            let mut flows: BTreeMap<(u32, &str), bool> = BTreeMap::new();
            for d in chain_derivations(actions, found) {
                let determined = d.unknowns.is_empty();
                for &(a, _) in &d.steps {
                    let action = &actions[a as usize];
                    let hops = action.hops.iter().map(|h| (h.service, h.flow));
                    for place in std::iter::once((action.service, action.flow)).chain(hops) {
                        *flows.entry(place).or_default() |= determined;
                    }
                }
            }
            flows
                .into_iter()
                .filter(|((_, flow), _)| !flow.is_empty())
                .map(|((service, flow), determined)| {
                    let id = ctx.market.service(service).id.to_owned();
                    ((id, flow.to_owned()), determined)
                })
                .collect::<Vec<_>>()
        },
    );
    let mut result = FlowsOnChains::default();
    for (profile, flows) in searched.profiles.iter().zip(searched.results) {
        for (key, determined) in flows {
            let target = if determined {
                &mut result.determined
            } else {
                &mut result.undetermined
            };
            target.entry(key).or_default().insert(profile.id.clone());
        }
    }
    result
}

/// What [`flows_on_chains`] finds: attacker ids by (service id, flow id).
#[derive(Debug, Default)]
pub struct FlowsOnChains {
    pub determined: BTreeMap<(String, String), BTreeSet<String>>,
    pub undetermined: BTreeMap<(String, String), BTreeSet<String>>,
}

/// The chains alone; [`analyse`] adds the fixes.
pub fn analyse_without_fixes(
    inputs: &[Input],
    catalogue: &Catalogue,
    profiles: &[&AttackerProfile],
    limits: Limits,
) -> Analysis {
    let searched = search_profiles(
        inputs,
        catalogue,
        profiles,
        limits,
        |ctx, walk_bounds, actions, found| {
            let (market, attacker) = (ctx.market, &ctx.profile.id);
            let mut bounds: Vec<BoundReached> = walk_bounds
                .iter()
                .map(|bound| BoundReached {
                    attacker: attacker.clone(),
                    at: place(market, bound.origin.service, bound.origin.flow, None),
                    what: bound.what.to_owned(),
                    limit: bound.limit as u64,
                })
                .collect();
            for bound in &found.bounds {
                let action = &actions[bound.action as usize];
                bounds.push(BoundReached {
                    attacker: attacker.clone(),
                    at: place(market, action.service, action.flow, None),
                    what: bound.what.to_owned(),
                    limit: bound.limit,
                });
            }
            let chains: Vec<Chain> = chain_derivations(actions, found)
                .map(|d| chain(ctx, actions, d))
                .collect();
            (chains, bounds)
        },
    );
    let mut chains = Vec::new();
    let mut bounds = Vec::new();
    for (found, reached) in searched.results {
        chains.extend(found);
        bounds.extend(reached);
    }
    chains.sort_by(|a, b| {
        (&a.attacker, !a.determined)
            .cmp(&(&b.attacker, !b.determined))
            .then(b.chance.unwrap_or(0.0).total_cmp(&a.chance.unwrap_or(0.0)))
            .then(a.id.cmp(&b.id))
    });
    chains.dedup_by(|a, b| a.id == b.id);
    Analysis {
        attackers: searched.profiles.iter().map(|p| p.id.clone()).collect(),
        services: searched.services,
        chains,
        ranked_fixes: Vec::new(),
        bounds,
    }
}

fn place(market: &Market, service: u32, flow: &str, step: Option<usize>) -> Place {
    let s = market.service(service);
    let span = s.span(&flow_path(flow, step));
    Place {
        service: s.id.to_owned(),
        flow: flow.to_owned(),
        file: s.file.to_owned(),
        line: span.line,
        column: span.column,
    }
}

fn source_of(market: &Market, source: Source) -> MoneySource {
    let (kind, service) = match source {
        Source::AccountAt(s) => ("bank_account", Some(s)),
        Source::Card => ("card", None),
        Source::FundingAt(s) => ("registered_funding", Some(s)),
        Source::BalanceAt(s) => ("balance", Some(s)),
    };
    MoneySource {
        kind,
        service: service.map(|s| market.service(s).id.to_owned()),
    }
}

fn gains(market: &Market, action: &Action) -> String {
    let here = market.service(action.service).id;
    match &action.kind {
        ActionKind::Open { victims_name: true } => {
            format!("an account at {here} opened in the victim's name")
        }
        ActionKind::Open {
            victims_name: false,
        } => format!("an account at {here} in the attacker's own (or a mule's) name"),
        ActionKind::Link { source } => match source {
            Source::Card => {
                format!("the victim's card registered to the attacker's {here} account")
            }
            other => format!(
                "the victim's account at {} linked to the attacker's {here} account",
                source_of(market, *other).service.unwrap_or_default()
            ),
        },
        ActionKind::SignIn => format!("a session on the victim's {here} account"),
        ActionKind::SetPassword => {
            format!("a password of the attacker's choosing on the victim's {here} account")
        }
        ActionKind::TakeContact => {
            format!("the victim's contact of record at {here} replaced by the attacker's")
        }
        ActionKind::BindDevice => {
            format!("the attacker's device bound to the victim's {here} account")
        }
        ActionKind::RegisterPayee => {
            format!("the attacker's payee registered on the victim's {here} account")
        }
        ActionKind::Drain { source } => {
            let s = source_of(market, *source);
            let from = match (s.kind, s.service) {
                ("card", _) => "the victim's card".to_owned(),
                ("bank_account", Some(b)) => format!("the victim's account at {b}"),
                ("registered_funding", Some(b)) => {
                    format!("the card or account the victim registered at {b}")
                }
                (_, Some(b)) => format!("the victim's balance at {b}"),
                _ => "the victim".to_owned(),
            };
            let flow = market
                .service(action.service)
                .policy
                .flows
                .get(action.flow)
                .map(|f| name_of(&f.kind))
                .unwrap_or_default();
            format!("money out of {from} ({flow} at {here})")
        }
    }
}

fn chain(ctx: &Ctx, actions: &[Action], d: &search::Derivation) -> Chain {
    let market = ctx.market;
    let last = &actions[d.steps[d.steps.len() - 1].0 as usize];
    let ActionKind::Drain { source } = last.kind else {
        unreachable!("chains end in a drain action")
    };
    let mut digest = Sha256::new();
    digest.update(ctx.profile.id.as_bytes());
    let mut steps = Vec::new();
    // Services where the chain set the victim's password itself.
    let set_here: Vec<String> = d
        .steps
        .iter()
        .map(|&(a, _)| &actions[a as usize])
        .filter(|a| a.kind == ActionKind::SetPassword)
        .map(|a| market.service(a.service).id.to_owned())
        .collect();
    for &(a, w) in &d.steps {
        let action = &actions[a as usize];
        let way = &action.ways[w as usize];
        let at = place(market, action.service, action.flow, None);
        digest.update([0]);
        digest.update(at.service.as_bytes());
        digest.update([1]);
        digest.update(at.flow.as_bytes());
        // The route, not the name the attacker's account is under: a chain that goes on
        // through an account in the victim's name once names are compared is the same chain.
        // Sources are named by service id, never by index (indices depend on the tree).
        let route_kind = match &action.kind {
            ActionKind::Open { .. } => "open".to_owned(),
            ActionKind::Link { source } | ActionKind::Drain { source } => {
                let s = source_of(market, *source);
                format!(
                    "{:?}:{}:{}",
                    std::mem::discriminant(&action.kind),
                    s.kind,
                    s.service.unwrap_or_default()
                )
            }
            other => format!("{other:?}"),
        };
        digest.update(route_kind.as_bytes());
        let via: Vec<Place> = action
            .hops
            .iter()
            .map(|h| place(market, h.service, h.flow, None))
            .collect();
        for v in &via {
            digest.update([2]);
            digest.update(v.service.as_bytes());
            digest.update([3]);
            digest.update(v.flow.as_bytes());
        }
        steps.push(ChainStep {
            at,
            account: action.subject,
            via,
            gains: gains(market, action),
            defeated: way
                .defeated
                .iter()
                .map(|x| relabel(ctx, x, &set_here))
                .collect(),
            chance: way.chance,
        });
    }
    let id = digest
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    let depends_on: Vec<Unknown> = d.unknowns.iter().cloned().collect();
    let guessed_unknown = steps.iter().any(|s| {
        s.defeated
            .iter()
            .any(|x| matches!(x.how, options::How::Guessed { chance: None, .. }))
    });
    Chain {
        id,
        attacker: ctx.profile.id.clone(),
        determined: depends_on.is_empty(),
        chance: (!guessed_unknown).then_some(d.chance),
        source: source_of(market, source),
        steps,
        depends_on,
        notices: detect::notices(market, actions, d),
        at_risk: at_risk(market, last),
        fixes: Vec::new(),
    }
}

/// A password "guessed" with certainty (no attempt limit) where the chain set it itself is
/// better told as set earlier: the chance is the same, and the reader sees the route.
fn relabel(ctx: &Ctx, d: &Defeated, set_here: &[String]) -> Defeated {
    let password = ctx
        .catalogue
        .get(&d.factor)
        .is_some_and(|f| f.space_from_password_policy);
    match &d.how {
        options::How::Guessed {
            chance: Some(p), ..
        } if *p >= 1.0 && password && set_here.contains(&d.service) => Defeated {
            how: options::How::SetEarlier {
                service: d.service.clone(),
            },
            ..d.clone()
        },
        _ => d.clone(),
    }
}

fn at_risk(market: &Market, drain: &Action) -> AtRisk {
    let flow = market.service(drain.service).policy.flows.get(drain.flow);
    let amounts = flow
        .and_then(|f| f.limits.as_ref())
        .and_then(|l| l.amounts.as_ref());
    match amounts {
        None => AtRisk {
            amount: None,
            currency: None,
            basis: "no amount limit is described for this flow".into(),
        },
        Some(a) => match (a.per_day, a.per_month, a.per_transaction) {
            (Some(day), _, _) => AtRisk {
                amount: Some(day),
                currency: Some(a.currency.clone()),
                basis: "the daily limit".into(),
            },
            (None, Some(month), _) => AtRisk {
                amount: Some(month),
                currency: Some(a.currency.clone()),
                basis: "the monthly limit, which can be drawn in one day (no daily limit)".into(),
            },
            (None, None, Some(tx)) => AtRisk {
                amount: None,
                currency: Some(a.currency.clone()),
                basis: format!(
                    "{tx} per transaction with no daily or monthly limit: the daily total is bounded only by how often the flow can run"
                ),
            },
            (None, None, None) => AtRisk {
                amount: None,
                currency: Some(a.currency.clone()),
                basis: "amount limits are listed without any figure".into(),
            },
        },
    }
}

/// Flow kinds that move money out (the ends of chains), for readers of the analysis.
pub fn drains(kind: FlowKind) -> bool {
    matches!(
        kind,
        FlowKind::Charge | FlowKind::Payment | FlowKind::Transfer
    )
}
