//! The search: every minimal way to reach each fact, found by a worklist fixpoint over the
//! actions (an AND/OR graph, as attack-graph tools build for networks). A derivation is a set
//! of actions with an order in which they can run; it is kept only while no other derivation
//! of the same fact needs a subset of its actions, rests on fewer unknowns and succeeds as
//! often. All work is bounded: derivations per fact, combinations per action, and a total
//! budget, each reported when reached.

use super::actions::{Action, ActionKind};
use super::facts::{Fact, Unknown};
use std::collections::{BTreeSet, HashMap, VecDeque};

/// One way to reach a fact: the actions (with the way through each) in an order they can run.
#[derive(Debug, Clone)]
pub struct Derivation {
    pub steps: Vec<(u32, u16)>,
    /// The action indices, sorted, for subset tests.
    set: Vec<u32>,
    pub chance: f64,
    pub unknowns: BTreeSet<Unknown>,
}

impl Derivation {
    fn dominates(&self, other: &Derivation) -> bool {
        self.chance >= other.chance
            && self.unknowns.is_subset(&other.unknowns)
            && is_subset(&self.set, &other.set)
    }
}

fn is_subset(a: &[u32], b: &[u32]) -> bool {
    let mut j = 0;
    for x in a {
        while j < b.len() && b[j] < *x {
            j += 1;
        }
        if j == b.len() || b[j] != *x {
            return false;
        }
    }
    true
}

#[derive(Debug, Clone, Copy)]
pub struct SearchLimits {
    pub per_fact: usize,
    pub per_action: usize,
    pub budget: u64,
    pub min_chance: f64,
}

/// A bound the search reached, with the action where it was reached.
#[derive(Debug, Clone)]
pub struct SearchBound {
    pub action: u32,
    pub what: &'static str,
    pub limit: u64,
}

pub struct Search {
    pub facts: Vec<Fact>,
    pub derivations: Vec<Vec<Derivation>>,
    pub bounds: Vec<SearchBound>,
    index: HashMap<Fact, u32>,
}

impl Search {
    pub fn derivations_of(&self, fact: &Fact) -> &[Derivation] {
        self.index
            .get(fact)
            .map(|&i| self.derivations[i as usize].as_slice())
            .unwrap_or(&[])
    }
}

pub fn run(actions: &[Action], limits: SearchLimits) -> Search {
    let mut search = Search {
        facts: Vec::new(),
        derivations: Vec::new(),
        bounds: Vec::new(),
        index: HashMap::new(),
    };
    let intern = |s: &mut Search, f: Fact| -> u32 {
        if let Some(&i) = s.index.get(&f) {
            return i;
        }
        let i = s.facts.len() as u32;
        s.facts.push(f);
        s.derivations.push(Vec::new());
        s.index.insert(f, i);
        i
    };
    // Which actions read each fact, and what each action yields.
    let mut readers: Vec<Vec<u32>> = Vec::new();
    let mut yields: Vec<Vec<u32>> = Vec::with_capacity(actions.len());
    let mut needs: Vec<Vec<Vec<u32>>> = Vec::with_capacity(actions.len());
    for (a, action) in actions.iter().enumerate() {
        let mut effects: Vec<u32> = action
            .effects
            .iter()
            .map(|&f| intern(&mut search, f))
            .collect();
        if matches!(action.kind, ActionKind::Drain { .. }) {
            effects.push(intern(&mut search, Fact::MoneyOut { action: a as u32 }));
        }
        yields.push(effects);
        let mut per_way = Vec::with_capacity(action.ways.len());
        for way in &action.ways {
            let ids: Vec<u32> = way.needs.iter().map(|&f| intern(&mut search, f)).collect();
            for &id in &ids {
                if readers.len() <= id as usize {
                    readers.resize(id as usize + 1, Vec::new());
                }
                readers[id as usize].push(a as u32);
            }
            per_way.push(ids);
        }
        needs.push(per_way);
    }
    readers.resize(search.facts.len(), Vec::new());
    for r in &mut readers {
        r.sort_unstable();
        r.dedup();
    }
    let mut queue: VecDeque<u32> = (0..actions.len() as u32).collect();
    let mut queued = vec![true; actions.len()];
    let mut spent: u64 = 0;
    let mut out_of_budget = false;
    while let Some(a) = queue.pop_front() {
        queued[a as usize] = false;
        let action = &actions[a as usize];
        let mut fresh: Vec<Derivation> = Vec::new();
        for (w, way) in action.ways.iter().enumerate() {
            let lists: Vec<&[Derivation]> = needs[a as usize][w]
                .iter()
                .map(|&f| search.derivations[f as usize].as_slice())
                .collect();
            if lists.iter().any(|l| l.is_empty()) {
                continue;
            }
            // Odometer over one derivation of each need.
            let mut pick = vec![0usize; lists.len()];
            let mut combos: usize = 0;
            loop {
                combos += 1;
                spent = spent.saturating_add(1);
                if spent > limits.budget {
                    out_of_budget = true;
                    break;
                }
                if combos > limits.per_action {
                    search.bounds.push(SearchBound {
                        action: a,
                        what: "combinations of earlier steps tried for one action",
                        limit: limits.per_action as u64,
                    });
                    break;
                }
                let parts: Vec<&Derivation> =
                    pick.iter().zip(&lists).map(|(&i, l)| &l[i]).collect();
                if let Some(d) = combine(actions, a, w as u16, way.chance, &way.unknowns, &parts)
                    && d.chance >= limits.min_chance
                {
                    fresh.push(d);
                }
                // Advance the odometer.
                let mut k = 0;
                while k < pick.len() {
                    pick[k] += 1;
                    if pick[k] < lists[k].len() {
                        break;
                    }
                    pick[k] = 0;
                    k += 1;
                }
                if k == pick.len() {
                    break;
                }
            }
            if out_of_budget {
                break;
            }
        }
        for &fact in &yields[a as usize] {
            let mut changed = false;
            for d in &fresh {
                changed |= insert(&mut search, fact, d.clone(), limits.per_fact, a);
            }
            if changed {
                for &reader in &readers[fact as usize] {
                    if !queued[reader as usize] {
                        queued[reader as usize] = true;
                        queue.push_back(reader);
                    }
                }
            }
        }
        if out_of_budget {
            search.bounds.push(SearchBound {
                action: a,
                what: "combinations tried in the whole search",
                limit: limits.budget,
            });
            break;
        }
    }
    search.bounds.sort_by_key(|b| (b.action, b.what));
    search.bounds.dedup_by_key(|b| (b.action, b.what));
    search
}

fn combine(
    actions: &[Action],
    action: u32,
    way: u16,
    chance: f64,
    unknowns: &[Unknown],
    parts: &[&Derivation],
) -> Option<Derivation> {
    let mut steps: Vec<(u32, u16)> = Vec::new();
    for part in parts {
        for &(a, w) in &part.steps {
            match steps.iter().find(|(b, _)| *b == a) {
                // One action taken two different ways in one chain is not one chain.
                Some(&(_, v)) if v != w => return None,
                Some(_) => {}
                None => steps.push((a, w)),
            }
        }
    }
    if steps.iter().any(|(a, _)| *a == action) {
        // The action would need its own result: not a new way to reach anything.
        return None;
    }
    steps.push((action, way));
    let mut set: Vec<u32> = steps.iter().map(|(a, _)| *a).collect();
    set.sort_unstable();
    let mut total = 1.0;
    let mut all_unknowns: BTreeSet<Unknown> = BTreeSet::new();
    for &(a, w) in &steps[..steps.len() - 1] {
        let way = &actions[a as usize].ways[w as usize];
        total *= way.chance;
        all_unknowns.extend(way.unknowns.iter().cloned());
    }
    total *= chance;
    all_unknowns.extend(unknowns.iter().cloned());
    Some(Derivation {
        steps,
        set,
        chance: total,
        unknowns: all_unknowns,
    })
}

fn insert(search: &mut Search, fact: u32, d: Derivation, cap: usize, action: u32) -> bool {
    let list = &mut search.derivations[fact as usize];
    if list.iter().any(|k| k.dominates(&d)) {
        return false;
    }
    list.retain(|k| !d.dominates(k));
    let steps = d.steps.clone();
    list.push(d);
    if list.len() > cap {
        // Keep the most certain, likeliest and shortest; the order is total, so the result
        // does not depend on the order derivations arrived in.
        list.sort_by(|x, y| {
            (x.unknowns.len(), x.set.len())
                .cmp(&(y.unknowns.len(), y.set.len()))
                .then(y.chance.total_cmp(&x.chance))
                .then(x.steps.cmp(&y.steps))
        });
        list.truncate(cap);
        search.bounds.push(SearchBound {
            action,
            what: "ways kept to reach one fact",
            limit: cap as u64,
        });
        // Dropped at once: nothing changed that readers could use (and the search ends).
        return list.iter().any(|k| k.steps == steps);
    }
    true
}
