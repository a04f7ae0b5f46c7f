//! The bundled factor catalogue as data: every field is documented in its header, and the
//! catalogue's judgements reach the flow view.

use authaudit::evaluate::build_views;
use authaudit::factors::{Catalogue, Factor};
use authaudit::load::Loader;
use authaudit::source::SizeBudget;

const CATALOGUE: &str = include_str!("../../rules/factors.yaml");

/// The comment block above `factors:`.
fn header() -> String {
    CATALOGUE
        .lines()
        .take_while(|l| !l.starts_with("factors:"))
        .filter(|l| l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_catalogue_field_is_documented_in_the_header() {
    let schema = serde_json::to_value(schemars::schema_for!(Factor)).unwrap();
    let fields: Vec<&String> = schema["properties"]
        .as_object()
        .expect("the factor schema lists its properties")
        .keys()
        .collect();
    assert!(fields.len() >= 15, "{fields:?}");
    let header = header();
    for field in fields {
        // Each field opens a line of the header: `# field:` or `# a / field:`.
        let documented = header.lines().any(|line| {
            let line = line.trim_start_matches('#').trim_start();
            line.split(':')
                .next()
                .is_some_and(|head| head.split(" / ").any(|name| name == field))
        });
        assert!(
            documented,
            "`{field}` is not documented in the header of rules/factors.yaml"
        );
    }
}

/// A service whose login sends a code by SMS to a registered phone, with `attempts` as given.
fn sms_login(attempts: &str) -> String {
    format!(
        "version: 2
service:
  id: ex-bank
  name: Example bank (fictional)
  kind: bank
  jurisdiction: JP
  as_of: \"2025-01-01\"
  sources:
    - title: Test fixture
contacts:
  mobile:
    kind: phone
    registered_by: holder_after_proofing
flows:
  login:
    kind: login
    steps:
      - verify: [sms_otp]
        delivered_to: registered_contact
        contact: mobile
{attempts}"
    )
}

fn flow_guess_chance(text: &str) -> (bool, f64) {
    let catalogue = Catalogue::bundled();
    let loader = Loader::new(catalogue.clone(), SizeBudget::default());
    let tree = loader.load_texts(&[("ex-bank.yaml".to_owned(), text.to_owned())]);
    assert!(
        tree.files.iter().all(|f| f.is_valid()),
        "the fixture is invalid: {:#?}",
        tree.files
            .iter()
            .flat_map(|f| f.diagnostics.iter().map(|d| d.message.clone()))
            .collect::<Vec<_>>()
    );
    let policies: Vec<_> = tree.policies().map(|(_, p)| p).collect();
    let views = build_views(&policies, &catalogue);
    let view = &views[&("ex-bank".to_owned(), "login".to_owned())];
    (view.flow.guess_chance_known, view.flow.guess_chance)
}

#[test]
fn a_code_to_a_registered_phone_with_undescribed_limits_has_an_unknown_guess_chance() {
    let (known, chance) = flow_guess_chance(&sms_login(""));
    assert!(
        !known,
        "undescribed attempt limits cannot give a known chance"
    );
    assert!(chance < 0.0, "unknown is -1, neither 0 nor 1: {chance}");

    let limited = "    limits:\n      attempts:\n        scope: account\n        max: 5\n        lockout: permanent\n";
    let (known, chance) = flow_guess_chance(&sms_login(limited));
    assert!(known);
    assert!((chance - 5.0 / 1_000_000.0).abs() < 1e-12, "{chance}");
}
