//! No bundled rule concludes an absence from a fact the policy does not describe.
//!
//! For every optional fact of every flow and service, in the bundled policies and in every
//! rule's own examples, the policy is evaluated twice: once with the fact left undescribed and
//! once with it described at its strongest (a tight attempt limit, a blocking name match, an
//! immediate notice to a contact the proofed holder registered, ...). A finding that appears
//! when the fact is undescribed but not when it is described strongly came from reading
//! "not described" as "none"; only rules whose id says `UNDESCRIBED` may do that.

use authaudit::evaluate::{PackSelection, evaluate};
use authaudit::factors::{Catalogue, DeliveryChannel};
use authaudit::load::{Loader, PolicyTree};
use authaudit::model::{
    AmountLimits, AttemptLimit, AttemptScope, Channel, Compensation, CompensationScope, Contact,
    ContactKind, Delivery, Flow, FlowKind, IdentityProofing, Lockout, Messages, Monitoring,
    MonitoringAction, MonitoringLevel, MonitoringSignal, NameMatching, Notification,
    NotificationEvent, NotificationTiming, PasswordPolicy, Payout, PayoutConstraint, Policy,
    ProofingLevel, Recipient, Registrant, VelocityLimit, VelocityScope,
};
use authaudit::rules::RuleSet;
use authaudit::source::SizeBudget;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// One optional fact: how to leave it undescribed and how to describe it at its strongest.
struct Fact {
    name: &'static str,
    undescribe: fn(&mut Policy, Option<&str>),
    strengthen: fn(&mut Policy, Option<&str>, &Catalogue),
    /// Whether the fact belongs to a flow (applied per flow) or to the service.
    per_flow: bool,
}

fn flows_of<'a>(policy: &'a mut Policy, only: Option<&str>) -> Vec<&'a mut Flow> {
    policy
        .flows
        .iter_mut()
        .filter(|(id, _)| only.is_none_or(|o| o == id.as_str()))
        .map(|(_, f)| f)
        .collect()
}

const STRONG_CONTACTS: [(&str, ContactKind); 3] = [
    ("strong-phone", ContactKind::Phone),
    ("strong-email", ContactKind::Email),
    ("strong-app", ContactKind::AppPush),
];

/// Declares contacts the proofed holder registered, which no flow can replace.
fn add_strong_contacts(policy: &mut Policy) {
    let contacts = policy.contacts.get_or_insert_with(BTreeMap::new);
    for (id, kind) in STRONG_CONTACTS {
        contacts.insert(
            id.to_owned(),
            Contact {
                kind,
                registered_by: Some(Registrant::HolderAfterProofing),
                note: None,
            },
        );
    }
}

fn strong_limit() -> AttemptLimit {
    AttemptLimit {
        scope: AttemptScope::Account,
        max: Some(3),
        window: None,
        lockout: Some(Lockout::Permanent),
        lockout_duration: None,
    }
}

fn facts() -> Vec<Fact> {
    vec![
        Fact {
            name: "attempt limits",
            per_flow: true,
            undescribe: |p, only| {
                for flow in flows_of(p, only) {
                    if let Some(limits) = flow.limits.as_mut() {
                        limits.attempts = None;
                    }
                    flow.steps.iter_mut().for_each(|s| s.attempts = None);
                }
            },
            strengthen: |p, only, _| {
                for flow in flows_of(p, only) {
                    flow.limits.get_or_insert_with(Default::default).attempts =
                        Some(strong_limit());
                    flow.steps.iter_mut().for_each(|s| s.attempts = None);
                }
            },
        },
        Fact {
            name: "velocity limits",
            per_flow: true,
            undescribe: |p, only| {
                for flow in flows_of(p, only) {
                    if let Some(limits) = flow.limits.as_mut() {
                        limits.velocity = None;
                    }
                }
            },
            strengthen: |p, only, _| {
                for flow in flows_of(p, only) {
                    flow.limits.get_or_insert_with(Default::default).velocity =
                        Some(vec![VelocityLimit {
                            max: 1,
                            window: "1d".to_owned(),
                            scope: VelocityScope::Account,
                        }]);
                }
            },
        },
        Fact {
            name: "amount limits",
            per_flow: true,
            undescribe: |p, only| {
                for flow in flows_of(p, only) {
                    if let Some(limits) = flow.limits.as_mut() {
                        limits.amounts = None;
                    }
                }
            },
            strengthen: |p, only, _| {
                for flow in flows_of(p, only) {
                    flow.limits.get_or_insert_with(Default::default).amounts = Some(AmountLimits {
                        currency: "JPY".to_owned(),
                        per_transaction: Some(1),
                        per_day: Some(1),
                        per_month: Some(1),
                    });
                }
            },
        },
        Fact {
            name: "name matching",
            per_flow: true,
            undescribe: |p, only| {
                flows_of(p, only)
                    .into_iter()
                    .for_each(|f| f.name_matching = None)
            },
            strengthen: |p, only, _| {
                for flow in flows_of(p, only) {
                    if flow.kind.moves_money_or_sets_destination() {
                        flow.name_matching = Some(NameMatching::Block);
                    }
                }
            },
        },
        Fact {
            name: "cooling-off",
            per_flow: true,
            undescribe: |p, only| {
                flows_of(p, only)
                    .into_iter()
                    .for_each(|f| f.cooling_off = None)
            },
            strengthen: |p, only, _| {
                for flow in flows_of(p, only) {
                    if flow.kind.can_cool_off() {
                        flow.cooling_off = Some("2w".to_owned());
                    }
                }
            },
        },
        Fact {
            name: "payout destination",
            per_flow: true,
            undescribe: |p, only| flows_of(p, only).into_iter().for_each(|f| f.payout = None),
            strengthen: |p, only, _| {
                for flow in flows_of(p, only) {
                    if flow.kind.pays_out() {
                        flow.payout = Some(Payout {
                            constraint: PayoutConstraint::PreRegisteredOnly,
                            services: None,
                        });
                    }
                }
            },
        },
        Fact {
            name: "card usable before activation or delivery",
            per_flow: true,
            undescribe: |p, only| {
                for flow in flows_of(p, only) {
                    flow.usable_before_activation = None;
                    flow.usable_before_delivery = None;
                }
            },
            strengthen: |p, only, _| {
                for flow in flows_of(p, only) {
                    if flow.kind == FlowKind::CardIssuance {
                        flow.usable_before_activation = Some(false);
                        flow.usable_before_delivery = Some(false);
                    }
                }
            },
        },
        Fact {
            name: "old contact told of a change",
            per_flow: true,
            undescribe: |p, only| {
                flows_of(p, only)
                    .into_iter()
                    .for_each(|f| f.old_contact_notified = None)
            },
            strengthen: |p, only, _| {
                for flow in flows_of(p, only) {
                    if flow.kind == FlowKind::ContactChange {
                        flow.old_contact_notified = Some(true);
                    }
                }
            },
        },
        Fact {
            name: "contact a code goes to",
            per_flow: true,
            undescribe: |p, only| {
                for flow in flows_of(p, only) {
                    for step in &mut flow.steps {
                        step.contact = None;
                        step.record_of = None;
                    }
                }
            },
            strengthen: |p, only, catalogue| {
                add_strong_contacts(p);
                for flow in flows_of(p, only) {
                    for step in &mut flow.steps {
                        if step.delivered_to != Some(Delivery::RegisteredContact) {
                            continue;
                        }
                        let channel = step
                            .verify
                            .iter()
                            .find_map(|f| catalogue.get(f).and_then(|f| f.delivered_by));
                        step.record_of = None;
                        step.contact = Some(
                            match channel {
                                Some(DeliveryChannel::Email) => "strong-email",
                                Some(DeliveryChannel::App) => "strong-app",
                                _ => "strong-phone",
                            }
                            .to_owned(),
                        );
                    }
                }
            },
        },
        Fact {
            name: "identity proofing at opening",
            per_flow: false,
            undescribe: |p, _| {
                for flow in p.flows.values_mut() {
                    flow.identity_proofing = None;
                }
            },
            strengthen: |p, _, _| {
                let strongest = IdentityProofing {
                    level: ProofingLevel::InPerson,
                    method: None,
                };
                let mut any = false;
                for flow in p.flows.values_mut() {
                    if flow.kind == FlowKind::Registration {
                        flow.identity_proofing = Some(strongest.clone());
                        any = true;
                    }
                }
                if !any {
                    let mut opening: Flow = serde_json::from_value(serde_json::json!({
                        "kind": "registration",
                        "steps": [{"verify": ["password"]}],
                    }))
                    .expect("a registration flow");
                    opening.identity_proofing = Some(strongest);
                    p.flows.insert("strong-opening".to_owned(), opening);
                }
            },
        },
        Fact {
            name: "monitoring",
            per_flow: false,
            undescribe: |p, _| p.monitoring = None,
            strengthen: |p, _, _| {
                p.monitoring = Some(Monitoring {
                    level: MonitoringLevel::RealtimeScoring,
                    action: Some(MonitoringAction::Block),
                    signals: Some(vec![
                        MonitoringSignal::NewDevice,
                        MonitoringSignal::NewLink,
                        MonitoringSignal::NewPayee,
                        MonitoringSignal::Velocity,
                        MonitoringSignal::Amount,
                        MonitoringSignal::Geolocation,
                        MonitoringSignal::RecentContactChange,
                    ]),
                    holds_suspicious_outflow: Some(true),
                    kill_switch: Some(true),
                })
            },
        },
        Fact {
            name: "compensation",
            per_flow: false,
            undescribe: |p, _| p.compensation = None,
            strengthen: |p, _, _| {
                p.compensation = Some(Compensation {
                    published: true,
                    scope: Some(vec![
                        CompensationScope::OwnService,
                        CompensationScope::LinkedServices,
                        CompensationScope::FullAmount,
                    ]),
                })
            },
        },
        Fact {
            name: "compensation scope",
            per_flow: false,
            undescribe: |p, _| {
                if let Some(c) = p.compensation.as_mut() {
                    c.scope = None;
                }
            },
            strengthen: |p, _, _| {
                if let Some(c) = p.compensation.as_mut() {
                    c.scope = Some(vec![
                        CompensationScope::OwnService,
                        CompensationScope::LinkedServices,
                        CompensationScope::FullAmount,
                    ]);
                }
            },
        },
        Fact {
            name: "links in messages",
            per_flow: false,
            undescribe: |p, _| p.messages = None,
            strengthen: |p, _, _| {
                p.messages = Some(Messages {
                    contain_links: Some(false),
                })
            },
        },
        Fact {
            name: "password policy",
            per_flow: false,
            undescribe: |p, _| p.password_policy = None,
            strengthen: |p, _, _| {
                p.password_policy = Some(PasswordPolicy {
                    min_length: 64,
                    blocklist: Some(true),
                })
            },
        },
    ]
}

const EVENTS: [NotificationEvent; 14] = [
    NotificationEvent::Registration,
    NotificationEvent::Login,
    NotificationEvent::AccountLinked,
    NotificationEvent::CardRegistered,
    NotificationEvent::Charge,
    NotificationEvent::Payment,
    NotificationEvent::Transfer,
    NotificationEvent::PasswordChanged,
    NotificationEvent::ContactChanged,
    NotificationEvent::NewDevice,
    NotificationEvent::CardIssued,
    NotificationEvent::PayeeRegistered,
    NotificationEvent::PayoutAccountChanged,
    NotificationEvent::Trade,
];

fn undescribe_notice(policy: &mut Policy, event: NotificationEvent) {
    if let Some(list) = policy.notifications.as_mut() {
        list.retain(|n| n.event != event);
    }
}

fn strengthen_notice(policy: &mut Policy, event: NotificationEvent) {
    undescribe_notice(policy, event);
    add_strong_contacts(policy);
    policy
        .notifications
        .get_or_insert_with(Vec::new)
        .push(Notification {
            event,
            sent: Some(true),
            channels: Some(vec![Channel::Push, Channel::Sms, Channel::Email]),
            recipient: Some(Recipient::Both),
            contacts: Some(
                STRONG_CONTACTS
                    .iter()
                    .map(|(id, _)| (*id).to_owned())
                    .collect(),
            ),
            timing: Some(NotificationTiming::Immediate),
            threshold: None,
        });
}

type FindingKey = (String, String, String);

fn findings(tree: &PolicyTree, rules: &RuleSet, catalogue: &Catalogue) -> BTreeSet<FindingKey> {
    let evaluation = evaluate(tree, rules, &PackSelection::All, catalogue);
    assert!(evaluation.errors.is_empty(), "{:#?}", evaluation.errors);
    evaluation
        .findings
        .into_iter()
        .filter(|f| !f.rule_id.contains("UNDESCRIBED"))
        .map(|f| (f.rule_id, f.service, f.flow))
        .collect()
}

fn with_policy(tree: &PolicyTree, index: usize, policy: Policy) -> PolicyTree {
    let files = tree
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| authaudit::load::LoadedFile {
            shown: f.shown.clone(),
            text: f.text.clone(),
            tree: f.tree.clone(),
            json: None,
            policy: if i == index {
                Some(policy.clone())
            } else {
                f.policy.clone()
            },
            diagnostics: Vec::new(),
        })
        .collect();
    PolicyTree {
        files,
        discovery: Vec::new(),
        walk: Default::default(),
    }
}

/// Every finding that appears with a fact undescribed but not with it described strongly.
fn violations(
    label: &str,
    tree: &PolicyTree,
    rules: &RuleSet,
    catalogue: &Catalogue,
) -> Vec<String> {
    let mut found = Vec::new();
    let mut compare = |what: String, weak: Policy, strong: Policy, index: usize| {
        let weak = findings(&with_policy(tree, index, weak), rules, catalogue);
        let strong = findings(&with_policy(tree, index, strong), rules, catalogue);
        for (rule, service, flow) in weak.difference(&strong) {
            found.push(format!(
                "{rule} fires on {service}/{flow} when {what} is not described ({label})"
            ));
        }
    };
    for (index, file) in tree.files.iter().enumerate() {
        let Some(policy) = &file.policy else {
            continue;
        };
        let service = &policy.service.id;
        for fact in facts() {
            let targets: Vec<Option<String>> = if fact.per_flow {
                policy.flows.keys().cloned().map(Some).collect()
            } else {
                vec![None]
            };
            for target in targets {
                let (mut weak, mut strong) = (policy.clone(), policy.clone());
                (fact.undescribe)(&mut weak, target.as_deref());
                (fact.strengthen)(&mut strong, target.as_deref(), catalogue);
                let what = match &target {
                    Some(flow) => format!("{} of {service}/{flow}", fact.name),
                    None => format!("{} of {service}", fact.name),
                };
                compare(what, weak, strong, index);
            }
        }
        for event in EVENTS {
            let (mut weak, mut strong) = (policy.clone(), policy.clone());
            undescribe_notice(&mut weak, event);
            strengthen_notice(&mut strong, event);
            let what = format!(
                "the {} notice of {service}",
                authaudit::model::name_of(&event)
            );
            compare(what, weak, strong, index);
        }
    }
    found
}

#[test]
fn no_rule_concludes_an_absence_from_an_undescribed_fact() {
    let catalogue = Catalogue::bundled();
    let loader = Loader::new(catalogue.clone(), SizeBudget::default());
    let rules = RuleSet::bundled();
    let mut found = Vec::new();
    let bundled = loader.load_paths(&[PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("policies")]);
    assert!(bundled.files.iter().all(|f| f.is_valid()));
    found.extend(violations("policies/", &bundled, &rules, &catalogue));
    for (_, rule) in rules.rules() {
        let examples = rule
            .spec
            .examples
            .fires
            .iter()
            .chain(&rule.spec.examples.passes);
        for (i, example) in examples.enumerate() {
            let texts: Vec<(String, String)> = example
                .policies
                .iter()
                .enumerate()
                .map(|(j, text)| (format!("{}-{i}-{j}.yaml", rule.spec.id), text.clone()))
                .collect();
            let tree = loader.load_texts(&texts);
            if tree.files.iter().all(|f| f.is_valid()) {
                let label = format!("example {i} of {}", rule.spec.id);
                found.extend(violations(&label, &tree, &rules, &catalogue));
            }
        }
    }
    found.sort();
    found.dedup();
    assert!(
        found.is_empty(),
        "{} violations:\n{}",
        found.len(),
        found.join("\n")
    );
}

#[test]
fn the_check_itself_catches_a_rule_that_reads_undescribed_as_none() {
    // A deliberately wrong pack: "no compensation" concluded from an undescribed policy.
    let catalogue = Catalogue::bundled();
    let loader = Loader::new(catalogue.clone(), SizeBudget::default());
    let dir = tempfile::tempdir().unwrap();
    let bundled_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/packs/valid");
    let manifest = std::fs::read_to_string(bundled_dir.join("pack.yaml")).unwrap();
    let rules_text = std::fs::read_to_string(bundled_dir.join("rules.yaml")).unwrap();
    std::fs::write(dir.path().join("pack.yaml"), manifest).unwrap();
    let condition_line = rules_text
        .lines()
        .find(|l| l.trim_start().starts_with("condition:"))
        .unwrap();
    let indent = &condition_line[..condition_line.len() - condition_line.trim_start().len()];
    let wrong = rules_text.replacen(
        condition_line,
        &format!("{indent}condition: \"!service.compensation_published\""),
        1,
    );
    std::fs::write(dir.path().join("rules.yaml"), wrong).unwrap();
    let mut rules = RuleSet::bundled().filtered(&|_| false);
    rules.add_dir(dir.path());
    assert!(rules.diagnostics.is_empty(), "{:#?}", rules.diagnostics);
    let text = "version: 2\nservice: {id: s, name: n, kind: bank, jurisdiction: JP, as_of: 2021-01-01, sources: [{title: t}]}\nflows:\n  link:\n    kind: account_linking\n    steps: [{verify: [passkey]}]\n";
    let tree = loader.load_texts(&[("s.yaml".to_owned(), text.to_owned())]);
    let found = violations("fixture", &tree, &rules, &catalogue);
    assert!(
        found.iter().any(|v| v.contains("compensation of s")),
        "{found:#?}"
    );
}
