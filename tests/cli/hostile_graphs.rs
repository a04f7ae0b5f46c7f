//! Hostile delegation and initiator graphs (hardening issue, item 1): long chains, cycles and
//! self-delegation must neither overflow the stack nor take cubic time, cycles are located
//! validation errors, and chains longer than the documented hop limit are refused where they
//! start. Every large input is generated at test time.

use assert_cmd::Command;
use authaudit::evaluate::build_views;
use authaudit::evaluate::view::View;
use authaudit::factors::Catalogue;
use authaudit::load::Loader;
use authaudit::model::Policy;
use authaudit::source::SizeBudget;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

fn head(id: &str, kind: &str) -> String {
    format!(
        "version: 2\nservice: {{id: {id}, name: n, kind: {kind}, jurisdiction: JP, as_of: 2020-09-01, sources: [{{title: t}}]}}\nflows:\n"
    )
}

/// A linking flow `id` of the form every generated file uses, with optional extra lines.
fn linking_flow(id: &str, extra: &str) -> String {
    format!("  {id}:\n    kind: account_linking\n    steps: [{{verify: [cash_card_pin]}}]\n{extra}")
}

fn authaudit(dir: &Path, args: &[&str]) -> (i32, String, Duration) {
    let started = Instant::now();
    let output = Command::cargo_bin("authaudit")
        .expect("binary builds")
        .env_clear()
        .env("NO_COLOR", "1")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("authaudit runs");
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("overflow"), "{stderr}");
    let code = output
        .status
        .code()
        .unwrap_or_else(|| panic!("killed by a signal (stack overflow?): {stderr}"));
    (
        code,
        String::from_utf8(output.stdout).expect("UTF-8 output"),
        elapsed,
    )
}

/// The hop limit documented in docs/diagnostics.md (`delegation-too-deep`).
const MAX_DELEGATION_HOPS: usize = 32;

type Views = BTreeMap<(String, String), View>;

fn views_of(policies: &[Policy]) -> Views {
    let refs: Vec<&Policy> = policies.iter().collect();
    build_views(&refs, &Catalogue::bundled())
}

/// Runs `work` on a thread with a small stack: the old recursive walks needed a frame per hop
/// and overflowed here (and on the 8 MiB main thread at 20,000 services); an iterative walk
/// needs none.
fn on_small_stack<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(work)
        .expect("thread starts")
        .join()
        .expect("no panic")
}

/// The JSON form of one valid generated file, to stamp out policies without parsing each.
fn template(kind: &str) -> Value {
    let loader = Loader::new(Catalogue::bundled(), SizeBudget::default());
    let text = head("t", kind) + &linking_flow("link", "");
    let tree = loader.load_texts(&[("t.yaml".to_owned(), text)]);
    assert!(tree.files[0].is_valid(), "{:#?}", tree.files[0].diagnostics);
    tree.files[0].json.clone().expect("JSON form")
}

fn policy(template: &Value, id: &str, edit: impl FnOnce(&mut Value)) -> Policy {
    let mut json = template.clone();
    json["service"]["id"] = Value::from(id);
    edit(&mut json);
    serde_json::from_value(json).expect("a policy")
}

fn flow_key(service: &str, flow: &str) -> (String, String) {
    (service.to_owned(), flow.to_owned())
}

#[test]
fn a_chain_of_12000_flows_in_one_file_is_refused_where_it_starts() {
    let n = 12_000;
    let mut text = head("c", "bank");
    for i in 0..n {
        let extra = if i + 1 < n {
            format!("    delegates_to: [{{service: c, flow: f{}}}]\n", i + 1)
        } else {
            String::new()
        };
        text += &linking_flow(&format!("f{i}"), &extra);
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.yaml"), text).unwrap();
    let (code, out, elapsed) = authaudit(dir.path(), &["validate", "c.yaml"]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains(&format!(
            "error[delegation-too-deep]: delegation from `c/f0` goes 11999 hops deep, over the limit of {MAX_DELEGATION_HOPS}"
        )),
        "{out}"
    );
    assert!(out.contains("--> c.yaml:7:20"), "{out}");
    assert!(out.contains("path: flows.f0.delegates_to[0]"), "{out}");
    assert!(out.contains("failed: c.yaml (1 error)"), "{out}");
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
    // `check` refuses the invalid file instead of evaluating (and used to overflow) it.
    let (code, out, _) = authaudit(dir.path(), &["check", "c.yaml"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("delegation-too-deep"), "{out}");
}

#[test]
fn twenty_thousand_services_in_a_chain_are_evaluated_without_recursion() {
    let n = 20_000;
    let bank = template("bank");
    let policies: Vec<Policy> = (0..n)
        .map(|i| {
            policy(&bank, &format!("s{i}"), |json| {
                if i + 1 < n {
                    json["flows"]["link"]["delegates_to"] =
                        serde_json::json!([{"service": format!("s{}", i + 1)}]);
                }
            })
        })
        .collect();
    let started = Instant::now();
    let views = on_small_stack(move || views_of(&policies));
    assert!(started.elapsed() < Duration::from_secs(20));
    let first = &views[&flow_key("s0", "link")].flow;
    let delegated: Vec<&str> = first.delegated.iter().map(|d| d.flow.as_str()).collect();
    assert_eq!(delegated, [format!("s{}/link", n - 1)]);
    assert_eq!(first.weakest_delegate_categories, 1);
    let last = &views[&flow_key(&format!("s{}", n - 1), "link")].flow;
    assert_eq!(last.initiators, [format!("s{}", n - 2)]);
    assert!(last.delegated.is_empty());
}

#[test]
fn a_chain_of_services_across_files_is_refused_at_its_first_file() {
    let n = 2_000;
    let dir = tempfile::tempdir().unwrap();
    for i in 0..n {
        let extra = if i + 1 < n {
            format!("    delegates_to: [{{service: s{}}}]\n", i + 1)
        } else {
            String::new()
        };
        let text = head(&format!("s{i}"), "bank") + &linking_flow("link", &extra);
        std::fs::write(dir.path().join(format!("s{i:05}.yaml")), text).unwrap();
    }
    let (code, out, _) = authaudit(dir.path(), &["validate", "."]);
    assert_eq!(code, 2);
    assert!(
        out.contains(&format!(
            "error[delegation-too-deep]: delegation from `s0/link` goes {} hops deep",
            n - 1
        )),
        "{out}"
    );
    assert!(out.contains("--> ./s00000.yaml:7:20"), "{out}");
    assert!(
        out.contains(&format!(
            "summary: {n} files checked, {} valid, 1 invalid",
            n - 1
        )),
        "{out}"
    );
}

/// 800 linking flows of a gateway, each delegating to itself: the old initiator walk went
/// through every flow of the gateway from every flow it reached (cubic, minutes in debug).
fn self_delegating_gateway(n: usize) -> String {
    let mut text = head("g", "linking_gateway");
    for i in 0..n {
        text += &linking_flow(
            &format!("f{i}"),
            &format!("    delegates_to: [{{service: g, flow: f{i}}}]\n"),
        );
    }
    text
}

#[test]
fn eight_hundred_self_delegating_flows_are_cycles_found_in_seconds() {
    let n = 800;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("g.yaml"), self_delegating_gateway(n)).unwrap();
    let (code, out, elapsed) = authaudit(dir.path(), &["validate", "g.yaml"]);
    assert_eq!(code, 2, "{out}");
    assert_eq!(
        out.matches("error[delegation-cycle]: flow `g/f").count(),
        n,
        "{out}"
    );
    assert!(
        out.contains("error[delegation-cycle]: flow `g/f0` delegates to itself\n --> g.yaml:7:20"),
        "{out}"
    );
    assert!(
        out.contains(&format!("failed: g.yaml ({n} errors)")),
        "{out}"
    );
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    let (code, _, elapsed) = authaudit(dir.path(), &["check", "g.yaml"]);
    assert_eq!(code, 2);
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
}

#[test]
fn the_library_evaluates_self_delegating_flows_without_cubic_cost() {
    // Validation refuses these files; `build_views` must still be fast and total on them.
    let n = 800;
    let gateway = template("linking_gateway");
    let link = gateway["flows"]["link"].clone();
    let policies = vec![policy(&gateway, "g", |json| {
        let flows: serde_json::Map<String, Value> = (0..n)
            .map(|i| {
                let mut flow = link.clone();
                flow["delegates_to"] =
                    serde_json::json!([{"service": "g", "flow": format!("f{i}")}]);
                (format!("f{i}"), flow)
            })
            .collect();
        json["flows"] = Value::Object(flows);
    })];
    let started = Instant::now();
    let views = on_small_stack(move || views_of(&policies));
    assert!(started.elapsed() < Duration::from_secs(10));
    let f0 = &views[&flow_key("g", "f0")].flow;
    assert!(f0.delegated.is_empty());
    assert!(f0.initiators.is_empty(), "{:?}", f0.initiators);
}

#[test]
fn a_three_flow_cycle_across_three_files_is_located_in_the_file_that_closes_it() {
    let dir = tempfile::tempdir().unwrap();
    for (id, next) in [("a", "b"), ("b", "c"), ("c", "a")] {
        let text = head(id, "bank")
            + &linking_flow(
                "link",
                &format!("    delegates_to: [{{service: {next}}}]\n"),
            );
        std::fs::write(dir.path().join(format!("{id}.yaml")), text).unwrap();
    }
    let (code, out, _) = authaudit(dir.path(), &["validate", "."]);
    assert_eq!(code, 2, "{out}");
    assert_eq!(out.matches("error[").count(), 1, "{out}");
    assert!(
        out.contains(
            "error[delegation-cycle]: delegation cycle of 3 flows: `a/link` → `b/link` → `c/link` → `a/link`\n --> ./c.yaml:7:20"
        ),
        "{out}"
    );
    assert!(out.contains("path: flows.link.delegates_to[0]"), "{out}");
    assert!(out.contains("closes the cycle"), "{out}");
    assert!(out.contains("failed: ./c.yaml (1 error)"), "{out}");
    // Also through a second flow of one file and back.
    let text = head("d", "bank")
        + &linking_flow("x", "    delegates_to: [{service: d, flow: y}]\n")
        + &linking_flow("y", "    delegates_to: [{service: e, flow: z}]\n");
    std::fs::write(dir.path().join("d.yaml"), text).unwrap();
    let text =
        head("e", "bank") + &linking_flow("z", "    delegates_to: [{service: d, flow: x}]\n");
    std::fs::write(dir.path().join("e.yaml"), text).unwrap();
    let (_, out, _) = authaudit(dir.path(), &["validate", "d.yaml", "e.yaml"]);
    assert!(
        out.contains("delegation cycle of 3 flows: `d/x` → `d/y` → `e/z` → `d/x`\n --> e.yaml:"),
        "{out}"
    );
}

/// Files of a chain of `hops` delegations from `s0` to `s{hops}`, through gateways, the last a
/// bank with a strong flow.
fn legal_chain(hops: usize) -> Vec<(String, String)> {
    (0..=hops)
        .map(|i| {
            let (kind, flow) = if i == hops {
                (
                    "bank",
                    linking_flow(
                        "link",
                        &format!(
                            "    initiated_by: [s{}]\n",
                            i.saturating_sub(1)
                        ),
                    )
                    .replace(
                        "[{verify: [cash_card_pin]}]",
                        "[{verify: [cash_card_pin]}, {verify: [sms_otp], delivered_to: registered_contact}]",
                    ),
                )
            } else {
                let kind = if i == 0 {
                    "fund_transfer_operator"
                } else {
                    "linking_gateway"
                };
                (
                    kind,
                    linking_flow("link", &format!("    delegates_to: [{{service: s{}}}]\n", i + 1)),
                )
            };
            (format!("s{i:03}.yaml"), head(&format!("s{i}"), kind) + &flow)
        })
        .collect()
}

#[test]
fn a_chain_at_the_hop_limit_is_evaluated_and_one_more_hop_is_refused() {
    let loader = Loader::new(Catalogue::bundled(), SizeBudget::default());
    let tree = loader.load_texts(&legal_chain(MAX_DELEGATION_HOPS));
    for file in &tree.files {
        assert!(file.is_valid(), "{}: {:#?}", file.shown, file.diagnostics);
    }
    let policies: Vec<Policy> = tree.policies().map(|(_, p)| p.clone()).collect();
    let views = views_of(&policies);
    let last = format!("s{MAX_DELEGATION_HOPS}");
    for i in 0..MAX_DELEGATION_HOPS {
        let flow = &views[&flow_key(&format!("s{i}"), "link")].flow;
        let delegated: Vec<&str> = flow.delegated.iter().map(|d| d.flow.as_str()).collect();
        assert_eq!(delegated, [format!("{last}/link")], "s{i}");
        assert_eq!(flow.weakest_delegate_categories, 2, "s{i}");
    }
    // The bank sees, through the 31 gateways, the wallet that started the chain.
    let bank = &views[&flow_key(&last, "link")].flow;
    assert_eq!(bank.initiators, ["s0"]);
    assert_eq!(bank.independent_categories, 2);

    let tree = loader.load_texts(&legal_chain(MAX_DELEGATION_HOPS + 1));
    let refused: Vec<(&str, Vec<&str>)> = tree
        .files
        .iter()
        .filter(|f| !f.is_valid())
        .map(|f| {
            (
                f.shown.as_str(),
                f.diagnostics.iter().map(|d| d.message.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(refused.len(), 1, "{refused:#?}");
    assert_eq!(refused[0].0, "s000.yaml");
    assert!(
        refused[0].1[0].starts_with(&format!(
            "delegation from `s0/link` goes {} hops deep, over the limit of {MAX_DELEGATION_HOPS}: `s0/link` → `s1/link` → `s2/link` → `s3/link` → … (",
            MAX_DELEGATION_HOPS + 1
        )),
        "{refused:#?}"
    );
}

#[test]
fn gateways_that_start_each_other_loop_safely() {
    // Two gateways naming each other as initiators, with a wallet behind one of them: the
    // initiator walk goes round the loop once and finds the wallet from both.
    let mut texts = vec![(
        "w.yaml".to_owned(),
        head("w", "fund_transfer_operator")
            + &linking_flow("link", "    delegates_to: [{service: g1}]\n"),
    )];
    for (id, other) in [("g1", "g2"), ("g2", "g1")] {
        texts.push((
            format!("{id}.yaml"),
            head(id, "linking_gateway")
                + &linking_flow("link", &format!("    initiated_by: [{other}]\n")),
        ));
    }
    let loader = Loader::new(Catalogue::bundled(), SizeBudget::default());
    let tree = loader.load_texts(&texts);
    for file in &tree.files {
        assert!(file.is_valid(), "{}: {:#?}", file.shown, file.diagnostics);
    }
    let policies: Vec<Policy> = tree.policies().map(|(_, p)| p.clone()).collect();
    let views = views_of(&policies);
    let mut report = String::new();
    for id in ["g1", "g2"] {
        let flow = &views[&flow_key(id, "link")].flow;
        let _ = writeln!(report, "{id}: {:?}", flow.initiators);
        assert_eq!(flow.initiators, ["w"], "{report}");
    }
}

/// Gateway files `ids[i]` whose linking flow is initiated by `ids[i + 1]` (the last by the
/// first): a loop of `initiated_by` with no `delegates_to`.
fn gateway_loop(ids: &[&str]) -> Vec<(String, String)> {
    ids.iter()
        .enumerate()
        .map(|(i, id)| {
            let starter = ids[(i + 1) % ids.len()];
            (
                format!("{id}.yaml"),
                head(id, "linking_gateway")
                    + &linking_flow("link", &format!("    initiated_by: [{starter}]\n")),
            )
        })
        .collect()
}

#[test]
fn gateways_that_only_start_each_other_are_an_initiator_loop() {
    // Nothing outside the two gateways starts either: no holder can reach them, and the
    // initiators computed behind the gateways would silently be empty.
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in gateway_loop(&["g1", "g2"]) {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let (code, out, _) = authaudit(dir.path(), &["validate", "."]);
    assert_eq!(code, 2, "{out}");
    assert_eq!(out.matches("error[").count(), 1, "{out}");
    assert!(
        out.contains(
            "error[initiator-loop]: initiator loop of 2 flows: `g1/link` ← `g2/link` ← `g1/link`; each is started only by a gateway of the loop, so nothing outside it can start them\n --> ./g1.yaml:7:20"
        ),
        "{out}"
    );
    assert!(out.contains("path: flows.link.initiated_by[0]"), "{out}");
    assert!(out.contains("started only by `g2`"), "{out}");
    assert!(out.contains("failed: ./g1.yaml (1 error)"), "{out}");
    let (code, out, _) = authaudit(dir.path(), &["check", "."]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("initiator-loop"), "{out}");

    // A wallet delegating to one of them is a way in: the loop is valid (see
    // `gateways_that_start_each_other_loop_safely`), and so is a bank naming one.
    let wallet =
        head("w", "fund_transfer_operator") + &linking_flow("link", "    initiated_by: [g1]\n");
    std::fs::write(dir.path().join("w.yaml"), &wallet).unwrap();
    let (code, out, _) = authaudit(dir.path(), &["validate", "."]);
    assert_eq!(code, 2, "a wallet started by g1 does not start g1: {out}");
    let wallet = head("w", "fund_transfer_operator")
        + &linking_flow("link", "    delegates_to: [{service: g2}]\n");
    std::fs::write(dir.path().join("w.yaml"), &wallet).unwrap();
    let (code, out, _) = authaudit(dir.path(), &["validate", "."]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_gateway_started_only_by_itself_is_an_initiator_loop() {
    let dir = tempfile::tempdir().unwrap();
    let text = head("g", "linking_gateway")
        + &linking_flow("a", "    initiated_by: [g]\n")
        + &linking_flow("b", "    initiated_by: [g]\n");
    std::fs::write(dir.path().join("g.yaml"), text).unwrap();
    let (code, out, _) = authaudit(dir.path(), &["validate", "g.yaml"]);
    assert_eq!(code, 2, "{out}");
    assert_eq!(out.matches("error[").count(), 1, "{out}");
    assert!(
        out.contains(
            "error[initiator-loop]: flow `g/a` can only be started by its own gateway `g`, and nothing outside that gateway starts it (1 more flows are started only from inside the loop)\n --> g.yaml:7:20"
        ),
        "{out}"
    );
    // A bank's flow naming itself is not a loop: a bank does not pass holders on.
    let text = head("b", "bank") + &linking_flow("a", "    initiated_by: [b]\n");
    std::fs::write(dir.path().join("b.yaml"), text).unwrap();
    let (code, out, _) = authaudit(dir.path(), &["validate", "b.yaml"]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_loop_of_5000_gateways_is_one_located_error_found_in_seconds() {
    let n = 5_000;
    let names: Vec<String> = (0..n).map(|i| format!("g{i:04}")).collect();
    let ids: Vec<&str> = names.iter().map(String::as_str).collect();
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in gateway_loop(&ids) {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let (code, out, elapsed) = authaudit(dir.path(), &["validate", "."]);
    assert_eq!(code, 2);
    assert_eq!(out.matches("error[initiator-loop]").count(), 1, "{out}");
    assert!(
        out.contains(&format!(
            "error[initiator-loop]: initiator loop of {n} flows: `g0000/link` ← `g0001/link` ← `g0002/link` ← `g0003/link` ← … ({} more) … ← `g4998/link` ← `g4999/link` ← `g0000/link`;",
            n + 1 - 7
        )),
        "{out}"
    );
    assert!(out.contains("--> ./g0000.yaml:7:20"), "{out}");
    assert!(elapsed < Duration::from_secs(30), "{elapsed:?}");
}

#[test]
fn a_loop_that_is_a_delegation_cycle_is_reported_once() {
    // Both directions written, as docs/policy-format.md asks: the delegation cycle is the
    // error, and the same loop read through `initiated_by` is not reported again.
    let dir = tempfile::tempdir().unwrap();
    for (id, other) in [("g1", "g2"), ("g2", "g1")] {
        let text = head(id, "linking_gateway")
            + &linking_flow(
                "link",
                &format!("    initiated_by: [{other}]\n    delegates_to: [{{service: {other}}}]\n"),
            );
        std::fs::write(dir.path().join(format!("{id}.yaml")), text).unwrap();
    }
    let (code, out, _) = authaudit(dir.path(), &["validate", "."]);
    assert_eq!(code, 2, "{out}");
    assert_eq!(out.matches("error[").count(), 1, "{out}");
    assert!(out.contains("error[delegation-cycle]"), "{out}");
}
