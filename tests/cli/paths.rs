//! Cross-party attack paths on the bundled policies: the chains the incidents had, none in the
//! reference designs, the fixes the issue names breaking them when applied to copies, every
//! reported fix really removing the chains it claims, and results that do not depend on file
//! order. Rendering is tested in tests/cli/paths_render.rs.

use assert_cmd::Command;
use authaudit::attackers::{AttackerProfile, AttackerSet};
use authaudit::factors::Catalogue;
use authaudit::load::{Loader, PolicyTree};
use authaudit::model::{
    AttemptLimit, AttemptScope, Contact, ContactKind, Delivery, Lockout, Policy, Registrant, Step,
};
use authaudit::paths::fixes::apply;
use authaudit::paths::{Analysis, Input, Limits, analyse, analyse_without_fixes};
use authaudit::source::SizeBudget;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;

const DOCOMO: &str = "policies/incidents/docomo-koza-2020";
const WEAK_BANKS: [&str; 3] = [
    "jp-regional-bank-a",
    "jp-regional-bank-b",
    "jp-regional-bank-c",
];

fn load(path: &str) -> PolicyTree {
    Loader::new(Catalogue::bundled(), SizeBudget::default()).load_paths(&[PathBuf::from(path)])
}

fn policies(tree: &PolicyTree) -> Vec<(String, Policy)> {
    tree.policies()
        .map(|(f, p)| (f.shown.clone(), p.clone()))
        .collect()
}

fn inputs(copies: &[(String, Policy)]) -> Vec<Input<'_>> {
    copies
        .iter()
        .map(|(file, policy)| Input {
            file,
            policy,
            tree: None,
        })
        .collect()
}

fn profiles(set: &AttackerSet, ids: &[&str]) -> Vec<AttackerProfile> {
    if ids.is_empty() {
        return set.profiles().to_vec();
    }
    ids.iter()
        .map(|id| {
            set.get(id)
                .unwrap_or_else(|| panic!("no profile {id}"))
                .clone()
        })
        .collect()
}

fn run(copies: &[(String, Policy)], ids: &[&str], fixes: bool) -> Analysis {
    let catalogue = Catalogue::bundled();
    let set = AttackerSet::bundled(&catalogue);
    assert!(set.diagnostics().is_empty(), "{:?}", set.diagnostics());
    let chosen = profiles(&set, ids);
    let refs: Vec<&AttackerProfile> = chosen.iter().collect();
    let input = inputs(copies);
    if fixes {
        analyse(&input, &catalogue, &refs, Limits::default())
    } else {
        analyse_without_fixes(&input, &catalogue, &refs, Limits::default())
    }
}

/// The banks whose accounts the determined chains drain.
fn drained_banks(analysis: &Analysis) -> BTreeSet<String> {
    analysis
        .determined()
        .filter(|c| c.source.kind == "bank_account")
        .filter_map(|c| c.source.service.clone())
        .collect()
}

/// Every service a chain passes through, hops included.
fn services_of(chain: &authaudit::paths::Chain) -> BTreeSet<String> {
    chain
        .steps
        .iter()
        .flat_map(|s| std::iter::once(&s.at).chain(s.via.iter()))
        .map(|p| p.service.clone())
        .collect()
}

fn policy_mut<'a>(copies: &'a mut [(String, Policy)], id: &str) -> &'a mut Policy {
    &mut copies
        .iter_mut()
        .find(|(_, p)| p.service.id == id)
        .unwrap_or_else(|| panic!("no service {id}"))
        .1
}

#[test]
fn docomo_yields_one_chain_per_weak_bank_and_none_through_the_bank_with_a_code() {
    let tree = load(DOCOMO);
    let located: Vec<Input> = tree
        .policies()
        .map(|(f, policy)| Input {
            file: &f.shown,
            policy,
            tree: f.tree.as_ref(),
        })
        .collect();
    let catalogue = Catalogue::bundled();
    let set = AttackerSet::bundled(&catalogue);
    let profile = set.get("leaked-bank-credentials").expect("profile");
    let analysis = analyse_without_fixes(&located, &catalogue, &[profile], Limits::default());
    let linked: Vec<_> = analysis
        .determined()
        .filter(|c| c.source.kind == "bank_account")
        .collect();
    assert_eq!(linked.len(), 3, "one chain per weak bank");
    assert_eq!(
        drained_banks(&analysis),
        WEAK_BANKS.iter().map(|s| s.to_string()).collect()
    );
    for chain in &analysis.chains {
        assert!(
            !services_of(chain).contains("jp-regional-bank-d"),
            "no chain passes the bank that sends a code to the registered phone: {chain:?}"
        );
    }
    for chain in &linked {
        // Wallet opened with an e-mail only, linked through the gateway, charged.
        let flows: Vec<String> = chain
            .steps
            .iter()
            .map(|s| format!("{}/{}", s.at.service, s.at.flow))
            .collect();
        assert_eq!(
            flows,
            [
                "docomo-koza/registration",
                "docomo-koza/account_linking",
                "docomo-koza/charge"
            ]
        );
        assert_eq!(chain.steps[1].via[0].service, "jp-chigin-web-kofuri");
        assert_eq!(chain.chance, Some(1.0));
        assert_eq!(chain.at_risk.amount, Some(300_000));
        // The wallet's notice of the new link goes to the address the attacker registered.
        assert!(chain.notices.iter().any(|n| n.service == "docomo-koza"
            && n.event == "account_linked"
            && n.reaches == Some("attacker")));
        // Each chain is traceable to the lines of the files it runs through.
        assert!(
            chain
                .steps
                .iter()
                .all(|s| s.at.line > 1 && s.at.file.ends_with(".yaml"))
        );
    }
}

#[test]
fn wallet_ekyc_plus_name_matching_breaks_every_docomo_chain_and_neither_does_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    for entry in std::fs::read_dir(DOCOMO).expect("docomo folder") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, dir.path().join(path.file_name().expect("name"))).expect("copy");
    }
    let wallet = dir.path().join("docomo-koza.yaml");
    let original = std::fs::read_to_string(&wallet).expect("wallet");
    let ekyc = original.replace(
        "identity_proofing:\n      level: email_only",
        "identity_proofing:\n      level: ekyc\n      method: ic_chip",
    );
    assert_ne!(ekyc, original, "the edit applies");
    let matching = original.replace("    name_matching: none\n", "    name_matching: block\n");
    assert_ne!(matching, original, "the edit applies");
    let both = ekyc.replace("    name_matching: none\n", "    name_matching: block\n");
    let chains_with = |text: &str| -> usize {
        std::fs::write(&wallet, text).expect("write");
        let out = Command::cargo_bin("authaudit")
            .expect("binary")
            .args([
                "paths",
                "--attacker",
                "leaked-bank-credentials",
                "--format",
                "json",
            ])
            .arg("--no-fixes")
            .arg(dir.path())
            .output()
            .expect("run");
        let json: Value = serde_json::from_slice(&out.stdout).expect("json");
        json["chains"]
            .as_array()
            .expect("chains")
            .iter()
            .filter(|c| c["determined"] == true && c["source"]["kind"] == "bank_account")
            .count()
    };
    assert_eq!(chains_with(&original), 3);
    // eKYC alone: the attacker links from a wallet in its own name, as nothing compares names.
    assert_eq!(chains_with(&ekyc), 3);
    // Name matching alone: the attacker opens the wallet in the victim's name.
    assert_eq!(chains_with(&matching), 3);
    assert_eq!(chains_with(&both), 0);
}

#[test]
fn a_second_factor_to_the_holders_phone_at_every_bank_breaks_every_docomo_chain() {
    let mut copies = policies(&load(DOCOMO));
    assert_eq!(
        run(&copies, &["leaked-bank-credentials"], false)
            .determined()
            .count(),
        3
    );
    for bank in WEAK_BANKS {
        let policy = policy_mut(&mut copies, bank);
        policy.contacts.get_or_insert_with(Default::default).insert(
            "mobile".into(),
            Contact {
                kind: ContactKind::Phone,
                registered_by: Some(Registrant::HolderAfterProofing),
                note: None,
            },
        );
        let flow = policy
            .flows
            .get_mut("account_linking")
            .expect("linking flow");
        flow.steps.push(Step {
            verify: vec!["sms_otp".into()],
            delivered_to: Some(Delivery::RegisteredContact),
            contact: Some("mobile".into()),
            record_of: None,
            attempts: Some(AttemptLimit {
                scope: AttemptScope::Account,
                max: Some(5),
                window: None,
                lockout: Some(Lockout::Permanent),
                lockout_duration: None,
            }),
            enforcement: None,
            note: None,
        });
    }
    let analysis = run(&copies, &["leaked-bank-credentials"], false);
    assert!(drained_banks(&analysis).is_empty(), "{:?}", analysis.chains);
    // The same data with a SIM swap defeats the code (the bundled sim-swap profile does not
    // know the PINs, so it is given here as a user's own profile).
    let mut swapper = AttackerSet::bundled(&Catalogue::bundled())
        .get("leaked-bank-credentials")
        .expect("profile")
        .clone();
    swapper.id = "leaked-bank-credentials-with-sim-swap".into();
    swapper
        .capabilities
        .push(authaudit::attackers::Capability::SimSwap);
    let catalogue = Catalogue::bundled();
    let again = analyse_without_fixes(&inputs(&copies), &catalogue, &[&swapper], Limits::default());
    // Bank D's code to the registered phone falls to the swap as well.
    assert_eq!(
        drained_banks(&again).len(),
        4,
        "SMS does not stop a SIM swap"
    );
}

#[test]
fn paypay_and_7pay_yield_their_chains_under_their_profiles() {
    let paypay = run(
        &policies(&load("policies/incidents/paypay-2018")),
        &["card-data-enumeration"],
        false,
    );
    let chain = paypay
        .determined()
        .find(|c| c.source.kind == "card")
        .expect("a chain drains the victim's card");
    let guessed = chain.steps[1]
        .defeated
        .iter()
        .find(|d| d.factor == "card_security_code")
        .expect("security code");
    assert_eq!(
        serde_json::to_value(guessed).expect("json")["how"],
        "guessed",
        "the security code is guessed with no attempt limit"
    );
    assert!(
        chain
            .notices
            .iter()
            .any(|n| n.event == "card_registered" && n.status == "not_sent")
    );

    let sevenpay = run(
        &policies(&load("policies/incidents/7pay-2019")),
        &["leaked-personal-data"],
        false,
    );
    let chain = sevenpay
        .determined()
        .find(|c| c.source.kind == "registered_funding")
        .expect("a chain drains what the victim registered at 7pay");
    let flows: Vec<&str> = chain.steps.iter().map(|s| s.at.flow.as_str()).collect();
    assert_eq!(flows, ["password_reset", "login", "charge"]);
    let link = &chain.steps[0].defeated[3];
    assert_eq!(link.factor, "email_link");
    assert_eq!(
        serde_json::to_value(link).expect("json")["how"],
        "supplied_contact"
    );
}

#[test]
fn the_reference_designs_yield_no_chain_under_any_profile() {
    let analysis = run(&policies(&load("policies/reference")), &[], true);
    assert!(analysis.attackers.len() >= 6);
    assert!(analysis.chains.is_empty(), "{:#?}", analysis.chains);
}

#[test]
fn every_reported_fix_applied_to_the_policies_removes_the_chains_it_claims() {
    let copies = policies(&load("policies"));
    let analysis = run(&copies, &[], true);
    assert!(!analysis.ranked_fixes.is_empty());
    for fix in &analysis.ranked_fixes {
        let mut changed = copies.clone();
        for change in &fix.changes {
            apply(policy_mut(&mut changed, &change.service), change);
        }
        let after = run(&changed, &[], false);
        let remaining: BTreeSet<&str> = after.chains.iter().map(|c| c.id.as_str()).collect();
        for id in &fix.chains {
            assert!(
                !remaining.contains(id.as_str()),
                "fix {:?} claims to break {id}, which remains",
                fix.changes
            );
        }
    }
    // The docomo chains have both kinds of fix: one at the bank, and the wallet pair.
    let docomo = analysis
        .determined()
        .find(|c| c.source.service.as_deref() == Some("jp-regional-bank-a"))
        .expect("bank A chain");
    assert!(docomo.fixes.iter().any(|f| f.changes.len() == 1
        && f.changes[0].service == "jp-regional-bank-a"
        && f.changes[0].kind == "second-factor"));
    assert!(docomo.fixes.iter().any(|f| {
        let kinds: BTreeSet<&str> = f.changes.iter().map(|c| c.kind).collect();
        kinds == BTreeSet::from(["identity-proofing", "name-matching"])
            && f.changes.iter().all(|c| c.service == "docomo-koza")
    }));
}

#[test]
fn results_do_not_depend_on_file_order() {
    let copies = policies(&load("policies"));
    let mut reversed = copies.clone();
    reversed.reverse();
    let a = serde_json::to_string(&run(&copies, &[], true)).expect("json");
    let b = serde_json::to_string(&run(&reversed, &[], true)).expect("json");
    assert_eq!(a, b);
}

#[test]
fn a_reached_bound_is_reported_at_the_flow_where_it_was_reached() {
    let copies = policies(&load(DOCOMO));
    let catalogue = Catalogue::bundled();
    let set = AttackerSet::bundled(&catalogue);
    let profile = set.get("leaked-bank-credentials").expect("profile");
    let limits = Limits {
        max_link_paths: 1,
        ..Limits::default()
    };
    let analysis = analyse_without_fixes(&inputs(&copies), &catalogue, &[profile], limits);
    let bound = analysis.bounds.first().expect("the path bound is reported");
    assert_eq!(bound.at.service, "docomo-koza");
    assert_eq!(bound.at.flow, "account_linking");
    assert_eq!(bound.limit, 1);
    assert_eq!(drained_banks(&analysis).len(), 1);
}

#[test]
fn cli_exit_codes_and_unknown_profiles() {
    let bin = || Command::cargo_bin("authaudit").expect("binary");
    let out = bin()
        .args(["paths", "policies/", "--no-fixes"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "chains found");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(text.contains("summary: 12 services"), "{text}");
    let out = bin()
        .args(["paths", "policies/reference"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "no chain");
    let out = bin()
        .args(["paths", "policies/", "--attacker", "leaked-bank-credential"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).expect("utf-8");
    assert!(
        err.contains("did you mean `leaked-bank-credentials`?"),
        "{err}"
    );
    let out = bin()
        .args(["paths", "policies/", "--min-chance", "2"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn an_invalid_file_is_named_and_never_gives_a_clean_result() {
    let dir = tempfile::tempdir().expect("tempdir");
    for entry in std::fs::read_dir("policies/reference").expect("reference") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, dir.path().join(path.file_name().expect("name"))).expect("copy");
    }
    std::fs::write(dir.path().join("broken.yaml"), "version: 2\nservice: [").expect("write");
    let out = Command::cargo_bin("authaudit")
        .expect("binary")
        .args(["paths", "--format", "json"])
        .arg(dir.path())
        .output()
        .expect("run");
    assert_ne!(out.status.code(), Some(0));
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    let failed = json["files_not_analysed"].as_array().expect("list");
    assert!(
        failed
            .iter()
            .any(|f| f.as_str().is_some_and(|f| f.ends_with("broken.yaml")))
    );
    assert_eq!(json["services"], 4, "the valid files are still analysed");
}
