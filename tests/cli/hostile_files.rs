//! Hostile files and names (hardening items 4–6): a file swapped for a FIFO after it was
//! listed, size budgets at the top of their range, numbers the model cannot hold, a large but
//! legal policy, non-UTF-8 names that look alike, and symlinks leading out of the tree.
//! Large inputs are generated here, not committed.

use authaudit::diagnostic::{Code, Diagnostic};
use authaudit::discover::ExternalSymlinks;
use authaudit::factors::Catalogue;
use authaudit::load::{Loader, PolicyTree};
use authaudit::source::{self, SizeBudget};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

const VALID: &str = "version: 2
service:
  id: hostile-bank
  name: 例銀行
  kind: bank
  jurisdiction: JP
  as_of: \"2020-06-01\"
  sources:
    - title: fixture
flows:
  link_bank:
    kind: account_linking
    steps:
      - verify: [holder_name, account_number, cash_card_pin]
";

fn loader() -> Loader {
    Loader::new(Catalogue::bundled(), SizeBudget::default())
}

fn load_text(text: &str) -> PolicyTree {
    loader().load_texts(&[("p.yaml".to_owned(), text.to_owned())])
}

fn errors(tree: &PolicyTree) -> Vec<&Diagnostic> {
    tree.files
        .iter()
        .flat_map(|f| &f.diagnostics)
        .filter(|d| d.is_error())
        .collect()
}

/// Runs the binary with a deadline, so a regression that blocks fails instead of hanging.
fn run(dir: &Path, args: &[&str]) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_authaudit"))
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("authaudit runs");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let mut out = String::new();
            std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out)
                .expect("UTF-8 output");
            return (status.code().expect("exit code"), out);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("authaudit {args:?} did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

// Item 4: file races.

/// The second half of reading (open, then check the opened descriptor) on a path that held a
/// regular file when it was listed and is a FIFO by the time it is opened: refused at once,
/// never read. Before the fix the open itself blocked, waiting for a writer.
#[test]
fn fifo_swapped_in_after_the_path_check_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.yaml");
    std::fs::write(&path, VALID).unwrap();
    assert!(std::fs::metadata(&path).unwrap().is_file());
    std::fs::remove_file(&path).unwrap();
    mkfifo(&path);
    let (tx, rx) = mpsc::channel();
    let opened = path.clone();
    std::thread::spawn(move || {
        let _ = tx.send(source::read_opened(
            &opened,
            "p.yaml",
            SizeBudget::default(),
        ));
    });
    let result = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("reading a FIFO must not block");
    let error = result.expect_err("a FIFO is not policy text");
    assert_eq!(error.code, Code::NotAFile, "{}", error.message);
    assert!(error.message.contains("FIFO"), "{}", error.message);
}

/// The race itself: one thread swaps a regular file and a FIFO under one name as fast as it
/// can while another reads it through the full path (check, open, check). Every read must
/// finish: text or `not-a-file`, never a hang.
#[test]
fn reading_while_a_fifo_is_swapped_in_never_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("p.yaml");
    let regular = dir.path().join("regular");
    let fifo = dir.path().join("fifo");
    std::fs::write(&regular, VALID).unwrap();
    mkfifo(&fifo);
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let (stop, target, regular, fifo) =
            (stop.clone(), target.clone(), regular.clone(), fifo.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let _ = std::fs::rename(&regular, &target);
                let _ = std::fs::rename(&target, &regular);
                let _ = std::fs::rename(&fifo, &target);
                let _ = std::fs::rename(&target, &fifo);
            }
        })
    };
    let (tx, rx) = mpsc::channel();
    {
        let target = target.clone();
        std::thread::spawn(move || {
            let end = Instant::now() + Duration::from_millis(1500);
            while Instant::now() < end {
                let outcome = source::read(&target, "p.yaml", SizeBudget::default());
                if tx.send(outcome.err().map(|d| d.code)).is_err() {
                    return;
                }
            }
        });
    }
    let mut reads = 0;
    loop {
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(code) => {
                assert!(
                    matches!(code, None | Some(Code::NotAFile | Code::IoError)),
                    "{code:?}"
                );
                reads += 1;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                stop.store(true, Ordering::Relaxed);
                panic!("a read blocked after {reads} reads (a FIFO was opened for reading)");
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();
    assert!(reads > 100, "only {reads} reads");
}

// Item 5: numbers and budgets.

/// `--max-file-bytes` at u64::MAX: the budget plus one used to wrap to 0 (release) or panic
/// (debug), so every file read as empty.
#[test]
fn largest_file_budget_does_not_wrap() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.yaml"), VALID).unwrap();
    let (code, out) = run(
        dir.path(),
        &[
            "validate",
            "--max-file-bytes",
            "18446744073709551615",
            "p.yaml",
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 valid"), "{out}");
    let budget = SizeBudget {
        max_file_bytes: u64::MAX,
        max_line_bytes: usize::MAX,
    };
    let text = source::read(&dir.path().join("p.yaml"), "p.yaml", budget).unwrap();
    assert_eq!(text, VALID);
}

/// Numbers JSON Schema counts as integers but the model cannot hold (`1.0`, `1e5`,
/// `100000.0`, 2^64), in fields with and without a maximum: each is a located error at its
/// field, never "the file passed the schema but not the model … this is a bug".
#[test]
fn whole_numbers_written_as_floats_are_located_at_their_field() {
    let cases = [
        ("version: 2", "version: 1.0", "version"),
        ("version: 2", "version: 1e5", "version"),
        ("version: 2", "version: 100000.0", "version"),
        ("version: 2", "version: 18446744073709551616", "version"),
        (
            "      - verify: [holder_name, account_number, cash_card_pin]\n",
            "      - verify: [holder_name, account_number, cash_card_pin]\n    limits:\n      amounts: {currency: JPY, per_day: 1e5}\n",
            "flows.link_bank.limits.amounts.per_day",
        ),
        (
            "      - verify: [holder_name, account_number, cash_card_pin]\n",
            "      - verify: [holder_name, account_number, cash_card_pin]\n    limits:\n      amounts: {currency: JPY, per_day: 18446744073709551616}\n",
            "flows.link_bank.limits.amounts.per_day",
        ),
        (
            "      - verify: [holder_name, account_number, cash_card_pin]\n",
            "      - verify: [holder_name, account_number, cash_card_pin]\n    limits:\n      attempts: {scope: account, max: 5.0, lockout: permanent}\n",
            "flows.link_bank.limits.attempts.max",
        ),
    ];
    for (from, to, field) in cases {
        let text = VALID.replacen(from, to, 1);
        assert_ne!(text, VALID);
        let tree = load_text(&text);
        let found = errors(&tree);
        assert!(!found.is_empty(), "{to}: accepted");
        for d in &found {
            assert!(
                !d.message.contains("passed the schema"),
                "{to}: {}",
                d.message
            );
            assert!(
                !d.hint.as_deref().unwrap_or("").contains("bug"),
                "{to}: {d:?}"
            );
            assert!(
                d.span.is_some_and(|s| s.line > 1 || field == "version"),
                "{to}: {d:?}"
            );
            assert_eq!(
                d.path.as_ref().map(ToString::to_string).as_deref(),
                Some(field),
                "{to}: {d:?}"
            );
            assert!(
                d.message.contains(&format!("`{field}`")),
                "{to}: {}",
                d.message
            );
        }
    }
}

/// `.inf`, `.nan` and `1e999` used to end the parse with one error at the number, hiding
/// every other problem of the file; now each is located at its field and the unknown field
/// elsewhere in the file is reported too.
#[test]
fn non_finite_numbers_do_not_hide_other_errors() {
    for number in [".inf", "-.inf", ".nan", "1e999"] {
        let text = VALID.replacen(
            "      - verify: [holder_name, account_number, cash_card_pin]\n",
            &format!(
                "      - verify: [holder_name, account_number, cash_card_pin]\n    limits:\n      amounts: {{currency: JPY, per_day: {number}}}\n"
            ),
            1,
        ) + "colour: blue\n";
        let tree = load_text(&text);
        let found = errors(&tree);
        let number_error = found
            .iter()
            .find(|d| d.code == Code::OutOfRange)
            .unwrap_or_else(|| panic!("{number}: {found:?}"));
        assert_eq!(
            number_error
                .path
                .as_ref()
                .map(ToString::to_string)
                .as_deref(),
            Some("flows.link_bank.limits.amounts.per_day"),
            "{number}"
        );
        assert_eq!(number_error.span.map(|s| s.line), Some(16), "{number}");
        assert!(
            number_error.message.contains("not a finite number"),
            "{number}: {}",
            number_error.message
        );
        assert!(
            found
                .iter()
                .any(|d| d.code == Code::UnknownField && d.message.contains("colour")),
            "{number}: {found:?}"
        );
        assert_eq!(
            found.len(),
            2,
            "{number}: one error each, no echo: {found:?}"
        );
    }
}

/// A plain policy of about 1.9 MB whose flow-style lists make more than the parser's default
/// 250,000 nodes: it used to be refused as an "alias bomb".
#[test]
fn large_legal_policy_is_not_an_alias_bomb() {
    let mut text = VALID.to_owned();
    let list = vec!["pin_4"; 40].join(",");
    let mut flows = 0;
    while text.len() < 1_900_000 {
        text.push_str(&format!(
            "  f{flows}:\n    kind: account_linking\n    steps:\n      - verify: [{list}]\n      - verify: [{list}]\n      - verify: [{list}]\n      - verify: [{list}]\n"
        ));
        flows += 1;
    }
    assert!(
        flows * 4 * 40 > 260_000,
        "{flows} flows are too few to prove anything"
    );
    assert!((text.len() as u64) < SizeBudget::DEFAULT_MAX_FILE_BYTES);
    let tree = load_text(&text);
    let found = errors(&tree);
    assert!(found.is_empty(), "{:?}", found.first());
}

/// An alias bomb is still refused, with the limit it hit named instead of a guess.
#[test]
fn alias_bomb_names_the_limit_it_hit() {
    let mut text = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for pair in names.windows(2) {
        let (prev, next) = (pair[0], pair[1]);
        let refs = vec![format!("*{prev}"); 9].join(",");
        text.push_str(&format!("{next}: &{next} [{refs}]\n"));
    }
    let tree = load_text(&text);
    let found = errors(&tree);
    assert_eq!(found.len(), 1, "{found:?}");
    let d = found[0];
    assert_eq!(d.code, Code::YamlBudget);
    assert!(d.message.contains("250000"), "{}", d.message);
    assert!(d.span.is_some());
}

// Item 6: names.

/// Two files whose names differ only in a byte that is not UTF-8 used to be shown as the same
/// `a�.yaml`, and each got the other's snippets. Each is now shown under its own name with
/// its own text.
#[test]
fn non_utf8_names_that_look_alike_keep_their_own_snippets() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let fe = dir.path().join(std::ffi::OsStr::from_bytes(b"a\xfe.yaml"));
    let ff = dir.path().join(std::ffi::OsStr::from_bytes(b"a\xff.yaml"));
    // Broken policies (a `service` key), so a folder walk loads and reports both.
    std::fs::write(&fe, "service: bogus_fe\n").unwrap();
    std::fs::write(&ff, "service: bogus_ff\n").unwrap();

    let tree = loader().load_paths(&[dir.path().to_path_buf()]);
    assert_eq!(tree.files.len(), 2);
    assert_ne!(tree.files[0].shown, tree.files[1].shown);
    for file in &tree.files {
        let own = if file.shown.ends_with("a\\xFE.yaml") {
            "bogus_fe"
        } else {
            assert!(file.shown.ends_with("a\\xFF.yaml"), "{}", file.shown);
            "bogus_ff"
        };
        assert!(tree.text(&file.shown).unwrap().contains(own));
        for d in &file.diagnostics {
            assert_eq!(d.file, file.shown);
        }
    }

    let (code, out) = run(dir.path(), &["validate", "."]);
    assert_eq!(code, 2, "{out}");
    // Every snippet line shown under a file's name is that file's own text.
    let mut current = "";
    for line in out.lines() {
        if let Some(location) = line.trim_start().strip_prefix("--> ") {
            current = location;
        }
        if line.contains("| bogus_") {
            let own = if current.contains("\\xFE") {
                "bogus_fe"
            } else {
                "bogus_ff"
            };
            assert!(line.contains(own), "{current}: {line}\n{out}");
        }
    }
    assert!(
        out.contains("a\\xFE.yaml") && out.contains("a\\xFF.yaml"),
        "{out}"
    );
}

/// A tree holding links out of itself: a file link to a "secrets" file and a folder link.
/// Neither is followed by default, each is named, and the secret's text is never printed;
/// links that stay inside are followed as before.
fn tree_with_links() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside");
    let policies = dir.path().join("policies");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::create_dir_all(&policies).unwrap();
    // Shaped like a policy (a `service` key), so once read it is loaded and its lines could be
    // shown in snippets: the worst case for a link that leads out of the tree.
    std::fs::write(
        outside.join("secret.yaml"),
        "service: leaked\napi_key: SECRET-TOKEN-123\n",
    )
    .unwrap();
    std::fs::write(policies.join("ok.yaml"), VALID).unwrap();
    std::os::unix::fs::symlink("../outside/secret.yaml", policies.join("leak.yaml")).unwrap();
    std::os::unix::fs::symlink("../outside", policies.join("more")).unwrap();
    std::fs::create_dir_all(policies.join("sub")).unwrap();
    std::os::unix::fs::symlink("../ok.yaml", policies.join("sub/again.yml")).unwrap();
    (dir, policies)
}

#[test]
fn symlinks_out_of_the_tree_are_not_followed() {
    let (dir, _) = tree_with_links();
    let (code, out) = run(dir.path(), &["validate", "policies"]);
    assert!(!out.contains("SECRET"), "{out}");
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("error[external-symlink]: symlink to `")
            && out.contains("--> policies/leak.yaml")
            && out.contains("--> policies/more"),
        "{out}"
    );
    assert!(
        out.contains("not checked: policies/leak.yaml (external-symlink)"),
        "{out}"
    );
    // The link inside the tree is followed: its service id clashes with the original's.
    assert!(out.contains("duplicate-service-id"), "{out}");

    // Named on its own, the link is refused too: it leads out of the folder it stands in.
    let (code, out) = run(dir.path(), &["validate", "policies/leak.yaml"]);
    assert!(!out.contains("SECRET"), "{out}");
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("external-symlink"), "{out}");
}

/// The library switch that `--follow-external-symlinks` sets: with it the links are read (so
/// it is the refusal, not something else, that keeps the secret out of the output).
#[test]
fn external_symlinks_can_be_followed_on_request() {
    let (_dir, policies) = tree_with_links();
    let refused = loader().load_paths(std::slice::from_ref(&policies));
    assert_eq!(refused.discovery.len(), 2, "{:?}", refused.discovery);
    assert!(
        refused
            .discovery
            .iter()
            .all(|d| d.code == Code::ExternalSymlink)
    );
    assert!(refused.files.iter().all(|f| !f.shown.contains("leak")));

    let followed = loader()
        .with_external_symlinks(ExternalSymlinks::Follow)
        .load_paths(&[policies]);
    assert!(followed.discovery.is_empty(), "{:?}", followed.discovery);
    let leak = followed
        .files
        .iter()
        .find(|f| f.shown.ends_with("leak.yaml"))
        .expect("followed");
    assert!(leak.text.as_deref().unwrap().contains("SECRET"));
    assert!(followed.files.iter().any(|f| f.shown.contains("more/")));
}
