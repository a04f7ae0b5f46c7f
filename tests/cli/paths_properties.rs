//! Property tests of the attack-path engine (issue 10, item 6) on random small markets: one to
//! three wallets, at most one linking gateway and one to five banks, linked at random, with
//! random steps, attempt limits, identity proofing, name matching and notices.
//!
//! Every generated market is written out as text and loaded through the real `Loader` before it
//! is analysed, and so is every market a property changes: a property never runs on input the
//! tool would refuse, and what is analysed is exactly what `authaudit paths` would analyse.
//!
//! The properties: adding a control never adds an attack; removing a service or one link never
//! adds an attack; results do not depend on input order; every reported fix removes the chains
//! it claims; every chain is well formed and the same on a second run. Two engine bugs they
//! found are kept at the end as minimal concrete tests, now fixed;
//! meanwhile the properties leave out exactly the chains those bugs make, and nothing else.
//!
//! Runs 48 cases per property from a fixed seed, so CI is deterministic; `PROPTEST_CASES` and
//! `PROPTEST_RNG_SEED` override both when exploring.

use authaudit::attackers::{AttackerProfile, AttackerSet};
use authaudit::factors::Catalogue;
use authaudit::load::Loader;
use authaudit::model::{
    AmountLimits, AttemptLimit, AttemptScope, Channel, Contact, ContactKind, Delivery, EkycMethod,
    Enforcement, Flow, FlowKind, FlowRef, IdentityProofing, Limits as FlowLimits, Lockout,
    NameMatching, Notification, NotificationEvent, PasswordPolicy, Payout, PayoutConstraint,
    Policy, ProofingLevel, Recipient, Registrant, Service, ServiceKind, Source, Step,
};
use authaudit::paths::fixes::apply;
use authaudit::paths::{Analysis, Chain, Input, Limits, analyse, analyse_without_fixes};
use authaudit::source::SizeBudget;
use proptest::prelude::*;
use proptest::sample::{Index, subsequence};
use proptest::test_runner::{Config, RngSeed};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

const CASES: u32 = 48;
const SEED: u64 = 0x0a7a_c4ed_2020_0901;

fn config() -> Config {
    fixed_config(CASES, SEED)
}

/// `cases` cases from `seed`, unless PROPTEST_CASES or PROPTEST_RNG_SEED say otherwise.
pub(crate) fn fixed_config(cases: u32, seed: u64) -> Config {
    // `Config::default()` reads the PROPTEST_* variables; only what they leave unset is fixed.
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = RngSeed::Fixed(seed);
    }
    // A failing case is printed, shrunk; nothing is written next to the sources.
    config.failure_persistence = None;
    config
}

// ---------------------------------------------------------------------------------------------
// Shared fixtures: built once, read by every case.

struct World {
    loader: Loader,
    catalogue: Catalogue,
    profiles: Vec<AttackerProfile>,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let catalogue = Catalogue::bundled();
        let set = AttackerSet::bundled(&catalogue);
        assert!(set.diagnostics().is_empty(), "{:?}", set.diagnostics());
        World {
            loader: Loader::new(Catalogue::bundled(), SizeBudget::default()),
            profiles: set.profiles().to_vec(),
            catalogue,
        }
    })
}

/// A market as the engine takes it: (file name, policy), one per service.
pub(crate) type Market = Vec<(String, Policy)>;

fn inputs(market: &Market) -> Vec<Input<'_>> {
    market
        .iter()
        .map(|(file, policy)| Input {
            file,
            policy,
            tree: None,
        })
        .collect()
}

fn run(market: &Market, fixes: bool) -> Analysis {
    let w = world();
    let profiles: Vec<&AttackerProfile> = w.profiles.iter().collect();
    let input = inputs(market);
    if fixes {
        analyse(&input, &w.catalogue, &profiles, Limits::default())
    } else {
        analyse_without_fixes(&input, &w.catalogue, &profiles, Limits::default())
    }
}

/// The market as text, one file per service (JSON, which the YAML loader reads as YAML).
pub(crate) fn texts(market: &Market) -> Vec<(String, String)> {
    market
        .iter()
        .map(|(file, policy)| {
            (
                file.clone(),
                serde_json::to_string_pretty(policy).expect("a policy serialises"),
            )
        })
        .collect()
}

/// Loads the market through the real loader, as `authaudit paths` would: every file must be
/// valid, and the policies analysed are the loaded ones.
fn loaded(market: &Market) -> Result<Market, String> {
    let tree = world().loader.load_texts(&texts(market));
    let errors: Vec<String> = tree
        .files
        .iter()
        .flat_map(|f| f.diagnostics.iter())
        .filter(|d| d.is_error())
        .map(|d| {
            format!(
                "{}: {} at {} [{}]",
                d.file,
                d.message,
                d.path.as_ref().map(|p| p.to_string()).unwrap_or_default(),
                d.code.as_str()
            )
        })
        .collect();
    if !errors.is_empty() {
        return Err(format!(
            "the tool refuses the market:\n{}\n{}",
            errors.join("\n"),
            shown(market)
        ));
    }
    Ok(tree
        .policies()
        .map(|(f, p)| (f.shown.clone(), p.clone()))
        .collect())
}

/// The market in one line per file, for failure messages.
fn shown(market: &Market) -> String {
    market
        .iter()
        .map(|(file, policy)| {
            format!(
                "{file}: {}",
                serde_json::to_string(policy).unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn policy_mut<'a>(market: &'a mut Market, id: &str) -> &'a mut Policy {
    &mut market
        .iter_mut()
        .find(|(_, p)| p.service.id == id)
        .unwrap_or_else(|| panic!("no service {id}"))
        .1
}

// ---------------------------------------------------------------------------------------------
// Building blocks of policies.

fn flow(kind: FlowKind, steps: Vec<Step>) -> Flow {
    Flow {
        kind,
        description: None,
        steps,
        identity_proofing: None,
        limits: None,
        delegates_to: Vec::new(),
        initiated_by: Vec::new(),
        name_matching: None,
        cooling_off: None,
        payout: None,
        replaces_contact: None,
        old_contact_notified: None,
        usable_before_activation: None,
        usable_before_delivery: None,
    }
}

fn with_attempts(mut flow: Flow, attempts: Option<AttemptLimit>) -> Flow {
    if attempts.is_some() {
        flow.limits.get_or_insert_with(FlowLimits::default).attempts = attempts;
    }
    flow
}

/// A step of data or secrets typed in (nothing sent anywhere).
fn typed(verify: &[&str], attempts: Option<AttemptLimit>) -> Step {
    Step {
        verify: verify.iter().map(|s| (*s).to_owned()).collect(),
        delivered_to: None,
        contact: None,
        record_of: None,
        attempts,
        enforcement: None,
        note: None,
    }
}

/// A step with a code or link sent to `contact` of record, or (None) to a contact supplied in
/// the same flow.
fn sent(factor: &str, contact: Option<&str>, attempts: Option<AttemptLimit>) -> Step {
    Step {
        verify: vec![factor.to_owned()],
        delivered_to: Some(match contact {
            Some(_) => Delivery::RegisteredContact,
            None => Delivery::ContactSuppliedInFlow,
        }),
        contact: contact.map(str::to_owned),
        record_of: None,
        attempts,
        enforcement: None,
        note: None,
    }
}

fn limited(scope: AttemptScope, max: u32) -> AttemptLimit {
    AttemptLimit {
        scope,
        max: Some(max),
        window: None,
        lockout: Some(Lockout::Permanent),
        lockout_duration: None,
    }
}

fn unlimited() -> AttemptLimit {
    AttemptLimit {
        scope: AttemptScope::None,
        max: None,
        window: None,
        lockout: None,
        lockout_duration: None,
    }
}

fn contact(kind: ContactKind, registered_by: Option<Registrant>) -> Contact {
    Contact {
        kind,
        registered_by,
        note: None,
    }
}

fn notice(event: NotificationEvent, how: u8) -> Option<Notification> {
    let silent = Notification {
        event,
        sent: Some(false),
        channels: None,
        recipient: None,
        contacts: None,
        timing: None,
        threshold: None,
    };
    match how {
        0 => None,
        1 => Some(silent),
        _ => Some(Notification {
            sent: None,
            channels: Some(vec![if how == 2 {
                Channel::Email
            } else {
                Channel::Sms
            }]),
            // A contact_changed notice to the old contact would contradict a flow that says the
            // old contact is not told; the new contact alone never does.
            recipient: Some(if event == NotificationEvent::ContactChanged {
                Recipient::NewContact
            } else {
                Recipient::RegisteredContact
            }),
            ..silent
        }),
    }
}

fn service(id: &str, kind: ServiceKind) -> Service {
    Service {
        id: id.to_owned(),
        name: format!("Generated {id}"),
        kind,
        jurisdiction: "JP".into(),
        as_of: "2024-04-01".into(),
        sources: vec![Source {
            title: "generated by tests/cli/paths_properties.rs".into(),
            publisher: None,
            date: None,
            url: None,
            access: None,
        }],
        description: None,
    }
}

fn policy(
    id: &str,
    kind: ServiceKind,
    contacts: Option<BTreeMap<String, Contact>>,
    flows: BTreeMap<String, Flow>,
    notifications: Vec<Notification>,
) -> Policy {
    Policy {
        version: 2,
        service: service(id, kind),
        contacts,
        flows,
        notifications: (!notifications.is_empty()).then_some(notifications),
        monitoring: None,
        compensation: None,
        messages: None,
        password_policy: None,
    }
}

// ---------------------------------------------------------------------------------------------
// Strategies.

/// An attempt limit: not described, none, per device or address (resets with a new one), or
/// counted on the target.
fn attempts() -> BoxedStrategy<Option<AttemptLimit>> {
    prop_oneof![
        2 => Just(None),
        2 => Just(Some(unlimited())),
        1 => (
            prop::sample::select(vec![AttemptScope::Device, AttemptScope::Ip]),
            1u32..=10
        )
            .prop_map(|(scope, max)| Some(limited(scope, max))),
        4 => (
            prop::sample::select(vec![AttemptScope::Account, AttemptScope::Credential]),
            1u32..=10,
            any::<bool>()
        )
            .prop_map(|(scope, max, temporary)| {
                let mut limit = limited(scope, max);
                if temporary {
                    limit.lockout = Some(Lockout::Temporary);
                    limit.lockout_duration = Some("30m".into());
                }
                Some(limit)
            }),
    ]
    .boxed()
}

/// A step's own limit: mostly none, so the flow's applies.
fn step_attempts() -> BoxedStrategy<Option<AttemptLimit>> {
    prop_oneof![3 => Just(None), 1 => attempts()].boxed()
}

fn name_matching() -> BoxedStrategy<Option<NameMatching>> {
    prop_oneof![
        Just(None),
        Just(Some(NameMatching::None)),
        Just(Some(NameMatching::Warn)),
        Just(Some(NameMatching::Block)),
    ]
    .boxed()
}

fn enforcement() -> BoxedStrategy<Option<Enforcement>> {
    prop_oneof![
        3 => Just(None),
        1 => Just(Some(Enforcement::OptIn)),
        1 => Just(Some(Enforcement::DefaultOn)),
        1 => Just(Some(Enforcement::Mandatory)),
    ]
    .boxed()
}

const BANK_DATA: [&str; 5] = [
    "holder_name",
    "account_number",
    "cash_card_pin",
    "date_of_birth",
    "pin_4",
];

/// A step of a bank's linking flow, from the pool the issue names.
fn bank_step() -> BoxedStrategy<Step> {
    prop_oneof![
        4 => (subsequence(BANK_DATA.to_vec(), 1..=4), step_attempts())
            .prop_map(|(verify, a)| typed(&verify, a)),
        2 => (any::<bool>(), step_attempts())
            .prop_map(|(registered, a)| sent("sms_otp", registered.then_some("mobile"), a)),
        1 => step_attempts().prop_map(|a| typed(&["passkey"], a)),
    ]
    .boxed()
}

#[derive(Debug, Clone)]
struct BankSpec {
    steps: Vec<Step>,
    attempts: Option<AttemptLimit>,
    name_matching: Option<NameMatching>,
    /// Bits 0–2: initiated by wallet 1–3; bit 3: by the gateway.
    initiators: u8,
    notices: Vec<u8>,
}

fn bank() -> impl Strategy<Value = BankSpec> {
    (
        prop::collection::vec(bank_step(), 1..=3),
        attempts(),
        name_matching(),
        0u8..16,
        prop::collection::vec(0u8..4, 2),
    )
        .prop_map(
            |(steps, attempts, name_matching, initiators, notices)| BankSpec {
                steps,
                attempts,
                name_matching,
                initiators,
                notices,
            },
        )
}

#[derive(Debug, Clone)]
struct GatewaySpec {
    steps: Vec<Step>,
    name_matching: Option<NameMatching>,
    /// Bits 0–2: initiated by wallet 1–3.
    initiators: u8,
    /// Bits 0–4: delegates to bank 1–5.
    delegates: u8,
}

fn gateway() -> impl Strategy<Value = GatewaySpec> {
    (
        prop_oneof![
            Just(vec![typed(&["account_number"], None)]),
            Just(vec![typed(&["account_number", "holder_name"], None)]),
            Just(vec![
                typed(&["account_number"], None),
                typed(&["date_of_birth"], None)
            ]),
        ],
        name_matching(),
        0u8..8,
        0u8..32,
    )
        .prop_map(
            |(steps, name_matching, initiators, delegates)| GatewaySpec {
                steps,
                name_matching,
                initiators,
                delegates,
            },
        )
}

fn proofing() -> BoxedStrategy<Option<IdentityProofing>> {
    let level = |level| {
        Just(Some(IdentityProofing {
            level,
            method: None,
        }))
    };
    prop_oneof![
        level(ProofingLevel::None),
        level(ProofingLevel::EmailOnly),
        level(ProofingLevel::PhoneOnly),
        level(ProofingLevel::DocumentUpload),
        level(ProofingLevel::InPerson),
        Just(None),
        prop::sample::select(vec![
            EkycMethod::PhotoIdSelfie,
            EkycMethod::IcChip,
            EkycMethod::BankReference,
            EkycMethod::Jpki,
        ])
        .prop_map(|m| Some(IdentityProofing {
            level: ProofingLevel::Ekyc,
            method: Some(m),
        })),
    ]
    .boxed()
}

#[derive(Debug, Clone)]
struct WalletSpec {
    kind: ServiceKind,
    /// Every flow but account_linking.
    flows: BTreeMap<String, Flow>,
    /// The linking flow with, in bits 0–4, the banks it delegates to and, in bit 5, the gateway.
    linking: Option<(Flow, u8)>,
    mobile_registrant: Option<Registrant>,
    password_policy: Option<PasswordPolicy>,
    notices: Vec<u8>,
}

const WALLET_EVENTS: [NotificationEvent; 9] = [
    NotificationEvent::Registration,
    NotificationEvent::Login,
    NotificationEvent::AccountLinked,
    NotificationEvent::CardRegistered,
    NotificationEvent::Charge,
    NotificationEvent::Payment,
    NotificationEvent::Transfer,
    NotificationEvent::PasswordChanged,
    NotificationEvent::ContactChanged,
];

fn registration() -> BoxedStrategy<Flow> {
    (
        prop_oneof![
            Just(vec![
                typed(&["email_address"], None),
                sent("email_otp", None, None)
            ]),
            Just(vec![
                typed(&["phone_number"], None),
                sent("sms_otp", None, None)
            ]),
            Just(vec![typed(&["email_address", "password"], None)]),
            Just(vec![
                typed(&["email_address"], None),
                sent("email_otp", Some("email"), None)
            ]),
        ],
        proofing(),
    )
        .prop_map(|(steps, proofing)| {
            let mut f = flow(FlowKind::Registration, steps);
            f.identity_proofing = proofing;
            f
        })
        .boxed()
}

/// An optional second step to the holder's phone of record.
fn second_code() -> BoxedStrategy<Option<Step>> {
    prop_oneof![
        2 => Just(None),
        1 => (step_attempts(), enforcement()).prop_map(|(a, e)| {
            let mut s = sent("sms_otp", Some("mobile"), a);
            s.enforcement = e;
            Some(s)
        }),
    ]
    .boxed()
}

fn charge() -> BoxedStrategy<Flow> {
    (
        second_code(),
        attempts(),
        prop::option::of((
            prop::option::of(10_000u64..=500_000),
            prop::option::of(100_000u64..=1_000_000),
        )),
    )
        .prop_map(|(code, attempts, amounts)| {
            let mut steps = vec![typed(&["password"], None)];
            steps.extend(code);
            let mut f = with_attempts(flow(FlowKind::Charge, steps), attempts);
            if let Some((per_day, per_month)) = amounts {
                f.limits.get_or_insert_with(FlowLimits::default).amounts = Some(AmountLimits {
                    currency: "JPY".into(),
                    per_transaction: None,
                    per_day,
                    per_month,
                });
            }
            f
        })
        .boxed()
}

fn linking() -> BoxedStrategy<(Flow, u8)> {
    (
        subsequence(
            vec![
                "account_number",
                "holder_name",
                "cash_card_pin",
                "date_of_birth",
            ],
            1..=3,
        ),
        attempts(),
        name_matching(),
        0u8..64,
    )
        .prop_map(|(verify, attempts, matching, links)| {
            let mut f = with_attempts(
                flow(FlowKind::AccountLinking, vec![typed(&verify, None)]),
                attempts,
            );
            f.name_matching = matching;
            (f, links)
        })
        .boxed()
}

fn card_registration() -> BoxedStrategy<Flow> {
    (any::<bool>(), attempts(), name_matching())
        .prop_map(|(code, attempts, matching)| {
            let mut steps = vec![typed(&["card_number", "card_expiry"], None)];
            if code {
                steps.push(typed(&["card_security_code"], None));
            }
            let mut f = with_attempts(flow(FlowKind::CardRegistration, steps), attempts);
            f.name_matching = matching;
            f
        })
        .boxed()
}

fn payment() -> BoxedStrategy<Flow> {
    (
        prop::sample::select(vec!["password", "registered_device", "passkey"]),
        attempts(),
    )
        .prop_map(|(factor, attempts)| {
            with_attempts(
                flow(FlowKind::Payment, vec![typed(&[factor], None)]),
                attempts,
            )
        })
        .boxed()
}

fn login() -> BoxedStrategy<Flow> {
    (second_code(), attempts())
        .prop_map(|(code, attempts)| {
            let mut steps = vec![typed(&["email_address", "password"], None)];
            steps.extend(code);
            with_attempts(flow(FlowKind::Login, steps), attempts)
        })
        .boxed()
}

fn password_reset() -> BoxedStrategy<Flow> {
    (
        prop_oneof![
            Just(vec![
                typed(&["email_address", "date_of_birth"], None),
                sent("email_link", None, None)
            ]),
            Just(vec![
                typed(&["email_address", "date_of_birth"], None),
                sent("email_link", Some("email"), None)
            ]),
            Just(vec![
                typed(&["phone_number"], None),
                sent("sms_otp", Some("mobile"), None)
            ]),
        ],
        attempts(),
    )
        .prop_map(|(steps, attempts)| with_attempts(flow(FlowKind::PasswordReset, steps), attempts))
        .boxed()
}

fn contact_change() -> BoxedStrategy<Flow> {
    (
        prop_oneof![
            Just(vec![typed(&["password"], None)]),
            Just(vec![typed(&["email_address", "date_of_birth"], None)]),
        ],
        prop::option::of(prop::sample::select(vec!["email", "mobile"])),
        prop::option::of(any::<bool>()),
    )
        .prop_map(|(steps, replaces, told)| {
            let mut f = flow(FlowKind::ContactChange, steps);
            f.replaces_contact = replaces.map(str::to_owned);
            f.old_contact_notified = told;
            f
        })
        .boxed()
}

fn transfer() -> BoxedStrategy<Flow> {
    (
        prop::option::of(prop::sample::select(vec![
            PayoutConstraint::AnyAccount,
            PayoutConstraint::SameNameOnly,
            PayoutConstraint::PreRegisteredOnly,
        ])),
        attempts(),
    )
        .prop_map(|(payout, attempts)| {
            let mut f = with_attempts(
                flow(FlowKind::Transfer, vec![typed(&["password"], None)]),
                attempts,
            );
            f.payout = payout.map(|constraint| Payout {
                constraint,
                services: None,
            });
            f
        })
        .boxed()
}

/// A flow present about a third of the time.
fn sometimes(s: BoxedStrategy<Flow>) -> BoxedStrategy<Option<Flow>> {
    prop_oneof![2 => Just(None), 1 => s.prop_map(Some)].boxed()
}

fn wallet() -> impl Strategy<Value = WalletSpec> {
    (
        (
            prop::sample::select(vec![
                ServiceKind::FundTransferOperator,
                ServiceKind::PrepaidIssuer,
                ServiceKind::CodePayment,
            ]),
            // A wallet that describes no registration flow is valid: how its accounts are opened
            // is then undescribed, and chains that need one are undetermined.
            prop_oneof![1 => Just(None), 7 => registration().prop_map(Some)],
            prop_oneof![1 => Just(None), 5 => linking().prop_map(Some)],
            charge(),
        ),
        (
            sometimes(card_registration()),
            sometimes(payment()),
            sometimes(login()),
            sometimes(password_reset()),
            sometimes(contact_change()),
            sometimes(transfer()),
        ),
        prop::option::of(prop::sample::select(vec![
            Registrant::AccountOpener,
            Registrant::HolderAfterProofing,
        ])),
        prop::option::of((4u32..=12, prop::option::of(any::<bool>()))),
        prop::collection::vec(0u8..4, WALLET_EVENTS.len()),
    )
        .prop_map(
            |(
                (kind, registration, linking, charge),
                (card, payment, login, reset, change, transfer),
                mobile_registrant,
                password,
                notices,
            )| {
                let mut flows = BTreeMap::new();
                flows.insert("charge".to_owned(), charge);
                for (id, f) in [
                    ("registration", registration),
                    ("card_registration", card),
                    ("payment", payment),
                    ("login", login),
                    ("password_reset", reset),
                    ("contact_change", change),
                    ("transfer", transfer),
                ] {
                    if let Some(f) = f {
                        flows.insert(id.to_owned(), f);
                    }
                }
                WalletSpec {
                    kind,
                    flows,
                    linking,
                    mobile_registrant,
                    password_policy: password.map(|(min_length, blocklist)| PasswordPolicy {
                        min_length,
                        blocklist,
                    }),
                    notices,
                }
            },
        )
}

#[derive(Debug, Clone)]
pub(crate) struct MarketSpec {
    wallets: Vec<WalletSpec>,
    gateway: Option<GatewaySpec>,
    banks: Vec<BankSpec>,
    /// Notices of the gateway, which holds no accounts: none or a silent `account_linked`.
    gateway_notice: bool,
}

pub(crate) fn market() -> impl Strategy<Value = MarketSpec> {
    (
        prop::collection::vec(wallet(), 1..=3),
        prop::option::of(gateway()),
        prop::collection::vec(bank(), 1..=5),
        any::<bool>(),
    )
        .prop_map(|(wallets, gateway, banks, gateway_notice)| MarketSpec {
            wallets,
            gateway,
            banks,
            gateway_notice,
        })
}

fn wallet_id(i: usize) -> String {
    format!("wallet-{}", i + 1)
}

fn bank_id(i: usize) -> String {
    format!("bank-{}", i + 1)
}

const GATEWAY: &str = "gateway";

fn linking_of(service: &str) -> FlowRef {
    FlowRef {
        service: service.to_owned(),
        flow: Some("account_linking".into()),
    }
}

/// The policies of a market; links to services the market does not have are left out.
pub(crate) fn build(spec: &MarketSpec) -> Market {
    let mut out = Vec::new();
    let has_gateway = spec.gateway.is_some();
    let banks = spec.banks.len();
    for (i, w) in spec.wallets.iter().enumerate() {
        let id = wallet_id(i);
        let mut flows = w.flows.clone();
        if let Some((linking, links)) = &w.linking {
            let mut linking = linking.clone();
            linking.delegates_to = (0..banks)
                .filter(|b| links & (1 << b) != 0)
                .map(|b| linking_of(&bank_id(b)))
                .collect();
            if has_gateway && links & (1 << 5) != 0 {
                linking.delegates_to.push(linking_of(GATEWAY));
            }
            flows.insert("account_linking".into(), linking);
        }
        let contacts = BTreeMap::from([
            (
                "email".to_owned(),
                contact(ContactKind::Email, Some(Registrant::AccountOpener)),
            ),
            (
                "mobile".to_owned(),
                contact(ContactKind::Phone, w.mobile_registrant),
            ),
        ]);
        let notices = WALLET_EVENTS
            .iter()
            .zip(&w.notices)
            .filter_map(|(e, how)| notice(*e, *how))
            .collect();
        let mut p = policy(&id, w.kind, Some(contacts), flows, notices);
        p.password_policy = w.password_policy.clone();
        out.push((format!("{id}.yaml"), p));
    }
    let wallets = spec.wallets.len();
    if let Some(g) = &spec.gateway {
        let mut linking = flow(FlowKind::AccountLinking, g.steps.clone());
        linking.name_matching = g.name_matching;
        linking.initiated_by = (0..wallets)
            .filter(|w| g.initiators & (1 << w) != 0)
            .map(wallet_id)
            .collect();
        linking.delegates_to = (0..banks)
            .filter(|b| g.delegates & (1 << b) != 0)
            .map(|b| linking_of(&bank_id(b)))
            .collect();
        let notices = if spec.gateway_notice {
            notice(NotificationEvent::AccountLinked, 1)
                .into_iter()
                .collect()
        } else {
            Vec::new()
        };
        out.push((
            format!("{GATEWAY}.yaml"),
            policy(
                GATEWAY,
                ServiceKind::LinkingGateway,
                None,
                BTreeMap::from([("account_linking".to_owned(), linking)]),
                notices,
            ),
        ));
    }
    for (i, b) in spec.banks.iter().enumerate() {
        let id = bank_id(i);
        let mut linking = with_attempts(
            flow(FlowKind::AccountLinking, b.steps.clone()),
            b.attempts.clone(),
        );
        linking.name_matching = b.name_matching;
        linking.initiated_by = (0..wallets)
            .filter(|w| b.initiators & (1 << w) != 0)
            .map(wallet_id)
            .collect();
        if has_gateway && b.initiators & (1 << 3) != 0 {
            linking.initiated_by.push(GATEWAY.into());
        }
        let contacts = BTreeMap::from([
            (
                "mobile".to_owned(),
                contact(ContactKind::Phone, Some(Registrant::HolderAfterProofing)),
            ),
            (
                "postal".to_owned(),
                contact(
                    ContactKind::PostalAddress,
                    Some(Registrant::HolderAfterProofing),
                ),
            ),
        ]);
        let notices = [NotificationEvent::AccountLinked, NotificationEvent::Charge]
            .iter()
            .zip(&b.notices)
            .filter_map(|(e, how)| notice(*e, *how))
            .collect();
        out.push((
            format!("{id}.yaml"),
            policy(
                &id,
                ServiceKind::Bank,
                Some(contacts),
                BTreeMap::from([("account_linking".to_owned(), linking)]),
                notices,
            ),
        ));
    }
    out
}

/// A generated market, loaded; a market the tool refuses fails the case (a generator bug).
fn valid(spec: &MarketSpec) -> Result<Market, TestCaseError> {
    loaded(&build(spec)).map_err(TestCaseError::fail)
}

// ---------------------------------------------------------------------------------------------
// Changes a property makes to a market.

/// A control added to one flow (or one step) of one service.
#[derive(Debug, Clone)]
enum Strengthen {
    /// Appends a passkey step (with an attempt limit of its own).
    Passkey {
        service: String,
        flow: String,
    },
    /// Appends a code by SMS to a phone the holder registered after proofing (declared when
    /// the service has none), with an attempt limit of its own.
    SmsToHolderPhone {
        service: String,
        flow: String,
    },
    /// eKYC reading the IC chip at registration.
    Proofing {
        service: String,
        flow: String,
    },
    NameMatchingBlock {
        service: String,
        flow: String,
    },
    /// Three tries per account where a flow states no limit, or one that is not described or
    /// resets with a new device or address; `step` when the step's own limit is the weak one.
    AttemptLimit {
        service: String,
        flow: String,
        step: Option<usize>,
    },
    NotifyOldContact {
        service: String,
        flow: String,
    },
    PayoutPreRegistered {
        service: String,
        flow: String,
    },
}

/// Whether an attempt limit lets an attacker guess without bound, or does not say.
fn weak(limit: Option<&AttemptLimit>) -> bool {
    limit.is_none_or(|l| !l.scope.follows_the_target())
}

/// Every strengthening that applies to the market.
fn strengthenings(market: &Market) -> Vec<Strengthen> {
    let mut out = Vec::new();
    for (_, p) in market {
        let service = p.service.id.clone();
        for (id, f) in &p.flows {
            let here = || (service.clone(), id.clone());
            let (service, flow) = here();
            out.push(Strengthen::Passkey { service, flow });
            let (service, flow) = here();
            out.push(Strengthen::SmsToHolderPhone { service, flow });
            if weak(f.limits.as_ref().and_then(|l| l.attempts.as_ref())) {
                let (service, flow) = here();
                out.push(Strengthen::AttemptLimit {
                    service,
                    flow,
                    step: None,
                });
            }
            for (i, s) in f.steps.iter().enumerate() {
                if s.attempts.as_ref().is_some_and(|a| weak(Some(a))) {
                    let (service, flow) = here();
                    out.push(Strengthen::AttemptLimit {
                        service,
                        flow,
                        step: Some(i),
                    });
                }
            }
            let proofed = f.identity_proofing.as_ref().is_some_and(|p| {
                p.level == ProofingLevel::Ekyc && p.method == Some(EkycMethod::IcChip)
            });
            if f.kind == FlowKind::Registration && !proofed {
                let (service, flow) = here();
                out.push(Strengthen::Proofing { service, flow });
            }
            if f.kind.moves_money_or_sets_destination()
                && f.name_matching != Some(NameMatching::Block)
            {
                let (service, flow) = here();
                out.push(Strengthen::NameMatchingBlock { service, flow });
            }
            let pre_registered = f.payout.as_ref().map(|p| p.constraint)
                == Some(PayoutConstraint::PreRegisteredOnly);
            if f.kind == FlowKind::Transfer && !pre_registered {
                let (service, flow) = here();
                out.push(Strengthen::PayoutPreRegistered { service, flow });
            }
            if f.kind == FlowKind::ContactChange && f.old_contact_notified != Some(true) {
                let (service, flow) = here();
                out.push(Strengthen::NotifyOldContact { service, flow });
            }
        }
    }
    out
}

fn strengthen(market: &mut Market, change: &Strengthen) {
    let added_limit = || Some(limited(AttemptScope::Account, 5));
    match change {
        Strengthen::Passkey { service, flow } => {
            let p = policy_mut(market, service);
            let f = p.flows.get_mut(flow).expect("flow");
            f.steps.push(typed(&["passkey"], added_limit()));
        }
        Strengthen::SmsToHolderPhone { service, flow } => {
            let p = policy_mut(market, service);
            let contacts = p.contacts.get_or_insert_with(BTreeMap::new);
            let holders = contacts
                .iter()
                .find(|(_, c)| {
                    c.kind == ContactKind::Phone
                        && c.registered_by == Some(Registrant::HolderAfterProofing)
                })
                .map(|(id, _)| id.clone());
            let phone = holders.unwrap_or_else(|| {
                contacts.insert(
                    "holder_phone".into(),
                    contact(ContactKind::Phone, Some(Registrant::HolderAfterProofing)),
                );
                "holder_phone".into()
            });
            let f = p.flows.get_mut(flow).expect("flow");
            f.steps
                .push(sent("sms_otp", Some(phone.as_str()), added_limit()));
        }
        Strengthen::Proofing { service, flow } => {
            let f = policy_mut(market, service)
                .flows
                .get_mut(flow)
                .expect("flow");
            f.identity_proofing = Some(IdentityProofing {
                level: ProofingLevel::Ekyc,
                method: Some(EkycMethod::IcChip),
            });
        }
        Strengthen::NameMatchingBlock { service, flow } => {
            let f = policy_mut(market, service)
                .flows
                .get_mut(flow)
                .expect("flow");
            f.name_matching = Some(NameMatching::Block);
        }
        Strengthen::AttemptLimit {
            service,
            flow,
            step,
        } => {
            let f = policy_mut(market, service)
                .flows
                .get_mut(flow)
                .expect("flow");
            let three = Some(limited(AttemptScope::Account, 3));
            match step {
                Some(i) => f.steps[*i].attempts = three,
                None => f.limits.get_or_insert_with(FlowLimits::default).attempts = three,
            }
        }
        Strengthen::NotifyOldContact { service, flow } => {
            let f = policy_mut(market, service)
                .flows
                .get_mut(flow)
                .expect("flow");
            f.old_contact_notified = Some(true);
        }
        Strengthen::PayoutPreRegistered { service, flow } => {
            let f = policy_mut(market, service)
                .flows
                .get_mut(flow)
                .expect("flow");
            f.payout = Some(Payout {
                constraint: PayoutConstraint::PreRegisteredOnly,
                services: None,
            });
        }
    }
}

/// A service or one link taken out of the market.
#[derive(Debug, Clone)]
enum Removal {
    /// The service, and every reference to it (so the rest stays valid).
    Service(String),
    Delegation {
        service: String,
        flow: String,
        entry: usize,
    },
    Initiator {
        service: String,
        flow: String,
        entry: usize,
    },
}

fn removals(market: &Market) -> Vec<Removal> {
    let mut out = Vec::new();
    for (_, p) in market {
        out.push(Removal::Service(p.service.id.clone()));
        for (id, f) in &p.flows {
            for entry in 0..f.delegates_to.len() {
                out.push(Removal::Delegation {
                    service: p.service.id.clone(),
                    flow: id.clone(),
                    entry,
                });
            }
            for entry in 0..f.initiated_by.len() {
                out.push(Removal::Initiator {
                    service: p.service.id.clone(),
                    flow: id.clone(),
                    entry,
                });
            }
        }
    }
    out
}

fn remove(market: &mut Market, removal: &Removal) {
    match removal {
        Removal::Service(id) => {
            market.retain(|(_, p)| &p.service.id != id);
            for (_, p) in market.iter_mut() {
                for f in p.flows.values_mut() {
                    f.delegates_to.retain(|d| &d.service != id);
                    f.initiated_by.retain(|s| s != id);
                }
            }
        }
        Removal::Delegation {
            service,
            flow,
            entry,
        } => {
            let f = policy_mut(market, service)
                .flows
                .get_mut(flow)
                .expect("flow");
            f.delegates_to.remove(*entry);
        }
        Removal::Initiator {
            service,
            flow,
            entry,
        } => {
            let f = policy_mut(market, service)
                .flows
                .get_mut(flow)
                .expect("flow");
            f.initiated_by.remove(*entry);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What the properties compare.

/// One action of a chain by where it runs: service, flow, whose account, and the flows a link
/// goes through.
type Place = (String, String, String, Vec<(String, String)>);

fn places(chain: &Chain) -> BTreeSet<Place> {
    chain
        .steps
        .iter()
        .map(|s| {
            (
                s.at.service.clone(),
                s.at.flow.clone(),
                format!("{:?}", s.account),
                s.via
                    .iter()
                    .map(|v| (v.service.clone(), v.flow.clone()))
                    .collect(),
            )
        })
        .collect()
}

/// Whether `chain` (found after a change that only takes something away from the attacker)
/// was already open before it: some chain before, of the same attacker to the same money,
/// ran through a subset of its places.
///
/// Chain ids alone cannot be compared: the search reports only minimal chains, so a longer
/// chain hidden behind a shorter one surfaces once the shorter one is broken (eKYC at a
/// wallet's registration, with a flow on the way that does not compare names, turns the
/// chain through a wallet in the victim's name into one through the attacker's own). Such a
/// chain is not a new attack: everything it runs through was already open.
fn covered(chain: &Chain, before: &Analysis) -> bool {
    let here = places(chain);
    before.chains.iter().any(|b| {
        b.attacker == chain.attacker && b.source == chain.source && places(b).is_subset(&here)
    })
}

fn uncovered<'a>(after: &'a Analysis, before: &Analysis) -> Vec<&'a Chain> {
    after
        .chains
        .iter()
        .filter(|c| !covered(c, before))
        .collect()
}

fn certain(analysis: &Analysis) -> usize {
    analysis
        .determined()
        .filter(|c| c.chance == Some(1.0))
        .count()
}

fn brief(chains: &[&Chain]) -> String {
    chains
        .iter()
        .map(|c| {
            let route: Vec<String> = c
                .steps
                .iter()
                .map(|s| {
                    let via: Vec<String> = s
                        .via
                        .iter()
                        .map(|v| format!("{}/{}", v.service, v.flow))
                        .collect();
                    format!(
                        "{}/{} ({:?}{}{})",
                        s.at.service,
                        s.at.flow,
                        s.account,
                        if via.is_empty() { "" } else { " via " },
                        via.join(" > ")
                    )
                })
                .collect();
            format!(
                "  {} [{}] determined={} chance={:?} from {} {:?}: {}",
                c.id,
                c.attacker,
                c.determined,
                c.chance,
                c.source.kind,
                c.source.service,
                route.join(" -> ")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn all_of(analysis: &Analysis) -> String {
    brief(&analysis.chains.iter().collect::<Vec<_>>())
}

/// The chains of `after` (the analysis of `market`) that no chain of `before` covers.
fn opened<'a>(after: &'a Analysis, before: &Analysis, _market: &Market) -> Vec<&'a Chain> {
    uncovered(after, before)
}

// ---------------------------------------------------------------------------------------------
// The properties.

proptest! {
    #![proptest_config(config())]

    /// The generator makes only markets the tool accepts, and loading keeps them as built.
    #[test]
    fn generated_markets_are_valid_and_load_as_built(spec in market()) {
        let built = build(&spec);
        let market = valid(&spec)?;
        prop_assert_eq!(market.len(), built.len());
        for ((file, a), (shown, b)) in built.iter().zip(&market) {
            prop_assert_eq!(file, shown);
            prop_assert_eq!(
                serde_json::to_value(a).expect("json"),
                serde_json::to_value(b).expect("json")
            );
        }
    }

    /// Each strengthening only takes ways through a flow away (or, for name matching, swaps
    /// the attacker's own account for one in the victim's name at the same place), so every
    /// chain after is covered by one before. Chains that are determined and certain can only
    /// be lost: none of them hides behind a chain that is undetermined or less likely, so a
    /// broken one cannot uncover more of them.
    #[test]
    fn adding_a_control_never_adds_an_attack(spec in market(), pick in any::<Index>()) {
        let market = valid(&spec)?;
        let options = strengthenings(&market);
        let change = pick.get(&options).clone();
        let mut stronger = market.clone();
        strengthen(&mut stronger, &change);
        let stronger = loaded(&stronger).map_err(TestCaseError::fail)?;
        let before = run(&market, false);
        let after = run(&stronger, false);
        let new = opened(&after, &before, &stronger);
        prop_assert!(
            new.is_empty(),
            "{change:?} opened chains no chain before covers:\n{}\nbefore:\n{}\n{}",
            brief(&new),
            all_of(&before),
            shown(&market)
        );
        prop_assert!(
            certain(&after) <= certain(&before),
            "{change:?} made more certain chains:\nbefore:\n{}\nafter:\n{}\n{}",
            all_of(&before),
            all_of(&after),
            shown(&market)
        );
    }

    /// Removing a service also removes every reference to it, so the rest stays valid.
    #[test]
    fn removing_a_service_or_a_link_never_adds_an_attack(
        spec in market(),
        pick in any::<Index>(),
    ) {
        let market = valid(&spec)?;
        let options = removals(&market);
        let removal = pick.get(&options).clone();
        let mut smaller = market.clone();
        remove(&mut smaller, &removal);
        let smaller = loaded(&smaller).map_err(TestCaseError::fail)?;
        let before = run(&market, false);
        let after = run(&smaller, false);
        let new = opened(&after, &before, &smaller);
        prop_assert!(
            new.is_empty(),
            "{removal:?} opened chains no chain before covers:\n{}\nbefore:\n{}\n{}",
            brief(&new),
            all_of(&before),
            shown(&market)
        );
    }

    /// Fixes included: they re-run the analysis on copies, which must not depend on order
    /// either.
    #[test]
    fn results_do_not_depend_on_input_order(
        spec in market(),
        keys in prop::collection::vec(any::<u32>(), 9),
    ) {
        let market = valid(&spec)?;
        let mut order: Vec<usize> = (0..market.len()).collect();
        order.sort_by_key(|&i| (keys[i], i));
        let shuffled: Market = order.iter().map(|&i| market[i].clone()).collect();
        let a = serde_json::to_string(&run(&market, true)).expect("json");
        let b = serde_json::to_string(&run(&shuffled, true)).expect("json");
        prop_assert!(a == b, "order {order:?} changed the analysis of\n{}", shown(&market));
    }

    /// Each ranked fix applied to copies of the whole market (not only to the services of the
    /// chains it claims), and the analysis re-run.
    #[test]
    fn every_reported_fix_removes_the_chains_it_claims(spec in market()) {
        let market = valid(&spec)?;
        let analysis = run(&market, true);
        for fix in &analysis.ranked_fixes {
            let mut fixed = market.clone();
            for change in &fix.changes {
                apply(policy_mut(&mut fixed, &change.service), change);
            }
            // A fix is stated as policy edits a user applies and re-runs: the result must be a
            // market the tool accepts.
            let fixed = loaded(&fixed).map_err(|e| {
                TestCaseError::fail(format!("fix {:?} makes an invalid policy: {e}", fix.changes))
            })?;
            let after = run(&fixed, false);
            let remaining: BTreeSet<&str> = after.chains.iter().map(|c| c.id.as_str()).collect();
            for id in &fix.chains {
                prop_assert!(
                    !remaining.contains(id.as_str()),
                    "fix {:?} claims to break {id}, which remains:\n{}\n{}",
                    fix.changes,
                    all_of(&after),
                    shown(&market)
                );
            }
        }
    }

    #[test]
    fn every_chain_is_well_formed_and_stable(spec in market()) {
        let market = valid(&spec)?;
        let analysis = run(&market, false);
        for chain in &analysis.chains {
            let last = chain.steps.last();
            prop_assert!(
                last.is_some_and(|s| s.gains.starts_with("money out")),
                "chain {} does not end in money out:\n{}",
                chain.id,
                brief(&[chain])
            );
            if let Some(p) = chain.chance {
                prop_assert!(p > 0.0 && p <= 1.0, "chain {} has chance {p}", chain.id);
                prop_assert!(
                    p >= Limits::default().min_chance,
                    "chain {} is below the reporting threshold: {p}",
                    chain.id
                );
            }
            for step in &chain.steps {
                prop_assert!(step.chance > 0.0 && step.chance <= 1.0);
            }
            prop_assert_eq!(chain.determined, chain.depends_on.is_empty(), "chain {}", &chain.id);
        }
        let ids = |a: &Analysis| a.chains.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
        prop_assert_eq!(ids(&analysis), ids(&run(&market, false)));
    }
}

// ---------------------------------------------------------------------------------------------
// Engine bugs the properties found, kept as minimal concrete cases: a gateway nothing enters
// was taken for a place to open accounts, and the fix search re-ran on copies that lacked the
// services that made an account opening exist (now judged from each service's own flows).

/// A policy file of one service, with the boilerplate every file needs.
fn file(id: &str, kind: &str, rest: &str) -> (String, String) {
    (
        format!("{id}.yaml"),
        format!(
            "version: 2
service:
  id: {id}
  name: {id}
  kind: {kind}
  jurisdiction: JP
  as_of: \"2024-04-01\"
  sources:
    - title: a case found by tests/cli/paths_properties.rs
{rest}"
        ),
    )
}

fn load_files(files: &[(String, String)]) -> Market {
    let tree = world().loader.load_texts(files);
    let market: Market = tree
        .policies()
        .map(|(f, p)| (f.shown.clone(), p.clone()))
        .collect();
    assert_eq!(
        market.len(),
        files.len(),
        "every file is valid: {:#?}",
        tree.files
    );
    market
}

/// Removing the only entry into a gateway makes the gateway's linking flow a linking origin;
/// the engine then takes the gateway for a service where the attacker holds an account
/// ("how accounts are opened is not described"), opened in the victim's name, which satisfies
/// the `same_name_only` payout of a transfer at the wallet. A linking gateway holds no
/// accounts (docs/attack-paths.md: it only passes holders on), so no chain can open one there.
/// Found by `removing_a_service_or_a_link_never_adds_an_attack`; it also makes fixes claim to
/// break chains they do not (the fix search's copy lacks the bank that makes the gateway an
/// origin).
#[test]
fn a_gateway_nothing_enters_holds_no_accounts() {
    let wallet = file(
        "wallet",
        "fund_transfer_operator",
        "flows:
  registration:
    kind: registration
    identity_proofing: {level: in_person}
    steps:
      - verify: [email_address, password]
  account_linking:
    kind: account_linking
    steps:
      - verify: [account_number]
  transfer:
    kind: transfer
    steps:
      - verify: [password]
    payout: {constraint: same_name_only}
",
    );
    let gateway = |initiated_by: &str| {
        file(
            "gateway",
            "linking_gateway",
            &format!(
                "flows:
  account_linking:
    kind: account_linking
    steps:
      - verify: [account_number]
    initiated_by: [{initiated_by}]
    delegates_to:
      - {{service: bank, flow: account_linking}}
"
            ),
        )
    };
    let bank = file(
        "bank",
        "bank",
        "flows:
  account_linking:
    kind: account_linking
    steps:
      - verify: [holder_name, account_number]
",
    );
    let before = run(
        &load_files(&[wallet.clone(), gateway("wallet"), bank.clone()]),
        false,
    );
    let after = run(&load_files(&[wallet, gateway(""), bank]), false);
    let at_gateway: Vec<&Chain> = after
        .chains
        .iter()
        .filter(|c| c.steps.iter().any(|s| s.at.service == "gateway"))
        .collect();
    assert!(
        at_gateway.is_empty(),
        "chains open an account at the gateway:\n{}",
        brief(&at_gateway)
    );
    let new = uncovered(&after, &before);
    assert!(
        new.is_empty(),
        "removing the gateway's only initiator opened:\n{}",
        brief(&new)
    );
}

/// The fix search re-runs the analysis on copies of the services a chain's steps run through
/// only (`fixes::still_there`). Whether an action exists can depend on other services: a
/// wallet that describes no registration flow gets its (undescribed) account opening only
/// because it has a linking path to a bank. A chain that uses that opening for something else
/// (an account in the victim's name, for the `same_name_only` payout of a transfer at another
/// wallet) does not pass the bank, so in the copy the opening, and the chain, vanish whatever
/// the change: every candidate is reported as breaking it, including an attempt limit on the
/// transfer that leaves the chain (its password guess cannot be judged either way) intact.
/// Found by `every_reported_fix_removes_the_chains_it_claims`.
#[test]
fn a_fix_breaks_the_chain_in_the_whole_market_not_only_in_a_copy_of_its_services() {
    let market = load_files(&[
        file(
            "wallet-1",
            "fund_transfer_operator",
            "flows:
  account_linking:
    kind: account_linking
    steps:
      - verify: [cash_card_pin]
  charge:
    kind: charge
    steps:
      - verify: [password]
",
        ),
        file(
            "wallet-2",
            "fund_transfer_operator",
            "flows:
  transfer:
    kind: transfer
    steps:
      - verify: [password]
    payout: {constraint: same_name_only}
",
        ),
        file(
            "bank",
            "bank",
            "flows:
  account_linking:
    kind: account_linking
    steps:
      - verify: [pin_4]
    initiated_by: [wallet-1]
",
        ),
    ]);
    let analysis = run(&market, true);
    let mut wrong = Vec::new();
    for fix in &analysis.ranked_fixes {
        let mut fixed = market.clone();
        for change in &fix.changes {
            apply(policy_mut(&mut fixed, &change.service), change);
        }
        let after = run(&fixed, false);
        for id in &fix.chains {
            if let Some(chain) = after.chains.iter().find(|c| &c.id == id) {
                wrong.push(format!(
                    "{} {} at {}/{}: {}",
                    fix.changes[0].kind,
                    fix.changes.len(),
                    fix.changes[0].service,
                    fix.changes[0].flow,
                    brief(&[chain])
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "fixes claim to break chains that remain:\n{}",
        wrong.join("\n")
    );
}
