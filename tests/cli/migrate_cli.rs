//! `authaudit migrate` against the real binary. The fixtures in `tests/fixtures/v1/` are the
//! bundled policies as they were written in format v1; each must become v2 text that reads as
//! exactly the policy the loader's in-memory upgrade gives, keeping every comment and line.

use assert_cmd::Command;
use authaudit::diagnostic::Code;
use authaudit::factors::Catalogue;
use authaudit::load::{Loader, PolicyTree};
use authaudit::source::SizeBudget;
use std::path::{Path, PathBuf};

fn authaudit() -> Command {
    let mut cmd = Command::cargo_bin("authaudit").expect("binary builds");
    cmd.env_clear().env("NO_COLOR", "1");
    cmd
}

fn v1_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1")
}

/// Every v1 fixture as (path relative to the fixture folder, text), in a fixed order.
fn v1_fixtures() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = walkdir::WalkDir::new(v1_dir())
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let name = e.path().strip_prefix(v1_dir()).unwrap();
            let text = std::fs::read_to_string(e.path()).unwrap();
            (name.to_string_lossy().into_owned(), text)
        })
        .collect();
    files.sort();
    assert_eq!(files.len(), 11, "the 11 bundled v1 policies: {files:?}");
    files
}

/// Writes `files` under `dir`, keeping their folders.
fn write_all(dir: &Path, files: &[(String, String)]) {
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

fn read_all(dir: &Path, files: &[(String, String)]) -> Vec<(String, String)> {
    files
        .iter()
        .map(|(name, _)| {
            (
                name.clone(),
                std::fs::read_to_string(dir.join(name)).unwrap(),
            )
        })
        .collect()
}

/// Runs `migrate` in `dir` and returns (exit code, stdout, stderr).
fn migrate_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = authaudit()
        .current_dir(dir)
        .arg("migrate")
        .args(args)
        .output()
        .expect("authaudit runs");
    (
        output.status.code().expect("exit code, not a signal"),
        String::from_utf8(output.stdout).expect("UTF-8 output"),
        String::from_utf8(output.stderr).expect("UTF-8 output"),
    )
}

/// The v1 fixtures copied to a temporary folder and migrated there in one run.
fn migrated_fixtures() -> (tempfile::TempDir, Vec<(String, String)>) {
    let originals = v1_fixtures();
    let dir = tempfile::tempdir().unwrap();
    write_all(dir.path(), &originals);
    let names: Vec<&str> = originals.iter().map(|(n, _)| n.as_str()).collect();
    let (code, stdout, stderr) = migrate_in(dir.path(), &names);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("summary: migrated 11 files, 0 already v2, 0 failed"),
        "{stdout}"
    );
    let migrated = read_all(dir.path(), &originals);
    (dir, migrated)
}

fn load(files: &[(String, String)]) -> PolicyTree {
    Loader::new(Catalogue::bundled(), SizeBudget::default()).load_texts(files)
}

/// Whether `needles` appear in `lines` in the same order (other lines may come between).
fn in_order<'a>(needles: impl IntoIterator<Item = &'a str>, lines: &[&str]) -> Result<(), String> {
    let mut rest = lines.iter();
    for needle in needles {
        if !rest.any(|line| *line == needle) {
            return Err(needle.to_owned());
        }
    }
    Ok(())
}

#[test]
fn every_v1_fixture_migrates_to_what_the_in_memory_upgrade_reads() {
    let originals = v1_fixtures();
    let (_dir, migrated) = migrated_fixtures();
    let before = load(&originals);
    let after = load(&migrated);
    for (old, new) in before.files.iter().zip(&after.files) {
        assert!(
            old.diagnostics
                .iter()
                .any(|d| d.code == Code::FormatUpgraded),
            "{} must be a v1 fixture",
            old.shown
        );
        // Only the warning that a replaced factor (a 3-D Secure challenge without its channel)
        // should be made precise may remain: migration cannot know the channel.
        assert!(
            new.diagnostics
                .iter()
                .all(|d| d.code == Code::ReplacedFactor),
            "{} must load as v2 with no errors and no notes: {:#?}",
            new.shown,
            new.diagnostics
        );
        let upgraded = serde_json::to_value(old.policy.as_ref().unwrap()).unwrap();
        let rewritten = serde_json::to_value(new.policy.as_ref().unwrap()).unwrap();
        assert_eq!(rewritten, upgraded, "{}", new.shown);
    }
}

#[test]
fn every_comment_and_every_untouched_line_survives_in_order() {
    let originals = v1_fixtures();
    let (_dir, migrated) = migrated_fixtures();
    for ((name, old), (_, new)) in originals.iter().zip(&migrated) {
        let new_lines: Vec<&str> = new.lines().collect();
        let comments = old.lines().filter(|l| l.trim_start().starts_with('#'));
        in_order(comments, &new_lines)
            .unwrap_or_else(|line| panic!("{name} lost the comment {line:?}\n{new}"));
        // Only the version line and an empty `notifications: []` are rewritten.
        let untouched = old
            .lines()
            .filter(|l| *l != "version: 1" && *l != "notifications: []");
        in_order(untouched, &new_lines)
            .unwrap_or_else(|line| panic!("{name} lost the line {line:?}\n{new}"));
    }
}

#[test]
fn migrating_again_changes_nothing() {
    let (dir, migrated) = migrated_fixtures();
    let names: Vec<&str> = migrated.iter().map(|(n, _)| n.as_str()).collect();
    let (code, stdout, _) = migrate_in(dir.path(), &names);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("summary: migrated 0 files, 11 already v2, 0 failed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("already v2: incidents/7pay-2019/7pay.yaml"),
        "{stdout}"
    );
    assert_eq!(read_all(dir.path(), &migrated), migrated);
}

#[test]
fn check_exits_1_while_work_remains_and_writes_nothing() {
    let originals = v1_fixtures();
    let dir = tempfile::tempdir().unwrap();
    write_all(dir.path(), &originals);
    let (code, stdout, _) = migrate_in(dir.path(), &["--check", "."]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("summary: would migrate 11 files, 0 already v2, 0 failed"),
        "{stdout}"
    );
    assert_eq!(read_all(dir.path(), &originals), originals);

    let (code, stdout, _) = migrate_in(dir.path(), &["."]);
    assert_eq!(code, 0, "{stdout}");
    let (code, stdout, _) = migrate_in(dir.path(), &["--check", "."]);
    assert_eq!(code, 0, "{stdout}");
}

#[test]
fn stdout_prints_the_migrated_text_and_leaves_the_file_alone() {
    let file = "incidents/7pay-2019/7pay.yaml";
    let (code, stdout, stderr) = migrate_in(&v1_dir(), &["--stdout", file]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("migrated: incidents/7pay-2019/7pay.yaml"),
        "{stderr}"
    );
    insta::assert_snapshot!("7pay_v2", stdout);
    let original = std::fs::read_to_string(v1_dir().join(file)).unwrap();
    assert!(original.contains("\nversion: 1\n"));

    let (code, _, stderr) = migrate_in(&v1_dir(), &["--stdout", file, file]);
    assert_eq!(code, 2, "--stdout takes one file: {stderr}");
}

#[test]
fn a_file_migrates_alone_although_it_refers_to_files_not_given() {
    // docomo-koza delegates to the gateway described in another file: that is `validate`'s
    // concern across the tree, not a reason to refuse the rewrite of this one file.
    let file = "incidents/docomo-koza-2020/docomo-koza.yaml";
    let (code, stdout, stderr) = migrate_in(&v1_dir(), &["--stdout", file]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("\nversion: 2\n"), "{stdout}");
}

#[test]
fn an_invalid_file_is_refused_with_its_location_and_the_others_still_migrate() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(v1_dir().join("incidents/paypay-2018/paypay.yaml")).unwrap();
    let seven = std::fs::read_to_string(v1_dir().join("incidents/7pay-2019/7pay.yaml")).unwrap();
    let bad = seven.replace("[email_address, password]", "[email_address, passwrd]");
    assert_ne!(bad, seven);
    std::fs::write(dir.path().join("bad.yaml"), &bad).unwrap();
    std::fs::write(dir.path().join("good.yaml"), &good).unwrap();

    let (code, stdout, _) = migrate_in(dir.path(), &["bad.yaml", "good.yaml"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("--> bad.yaml:"), "located: {stdout}");
    insta::assert_snapshot!("refused_invalid_v1", stdout);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("bad.yaml")).unwrap(),
        bad
    );
    let migrated = std::fs::read_to_string(dir.path().join("good.yaml")).unwrap();
    assert!(migrated.contains("\nversion: 2\n"), "{migrated}");
}

#[test]
fn a_missing_file_is_an_io_error_and_the_others_still_migrate() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(v1_dir().join("incidents/paypay-2018/paypay.yaml")).unwrap();
    std::fs::write(dir.path().join("good.yaml"), &good).unwrap();

    let (code, stdout, _) = migrate_in(dir.path(), &["missing.yaml", "good.yaml"]);
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stdout.contains("not checked: missing.yaml (io-error)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("summary: migrated 1 file, 0 already v2, 1 failed"),
        "{stdout}"
    );
    let migrated = std::fs::read_to_string(dir.path().join("good.yaml")).unwrap();
    assert!(migrated.contains("\nversion: 2\n"), "{migrated}");
}

/// A v1 file of service `id` whose linking flow delegates to `next` (if any).
fn v1_linking(id: &str, next: Option<&str>) -> String {
    let delegates = next.map_or_else(String::new, |next| {
        format!("    delegates_to: [{{service: {next}}}]\n")
    });
    format!(
        "version: 1\nservice: {{id: {id}, name: n, kind: bank, jurisdiction: JP, as_of: 2020-09-01, sources: [{{title: t}}]}}\nflows:\n  link:\n    kind: account_linking\n    steps: [{{verify: [cash_card_pin]}}]\n{delegates}"
    )
}

#[test]
fn delegation_cycles_and_chains_between_files_do_not_stop_migration() {
    // Like an unknown service, a cycle or an over-long chain depends on which files were
    // given together: `validate` reports it, and each file still migrates.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), v1_linking("a", Some("b"))).unwrap();
    std::fs::write(dir.path().join("b.yaml"), v1_linking("b", Some("a"))).unwrap();
    let hops = 33;
    for i in 0..=hops {
        let next = (i < hops).then(|| format!("c{}", i + 1));
        let text = v1_linking(&format!("c{i}"), next.as_deref());
        std::fs::write(dir.path().join(format!("c{i:02}.yaml")), text).unwrap();
    }
    let validated = authaudit()
        .current_dir(dir.path())
        .args(["validate", "."])
        .output()
        .unwrap();
    let validated = String::from_utf8(validated.stdout).unwrap();
    assert!(validated.contains("error[delegation-cycle]"), "{validated}");
    assert!(
        validated.contains("error[delegation-too-deep]"),
        "{validated}"
    );

    let (code, stdout, stderr) = migrate_in(dir.path(), &["."]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!(
            "summary: migrated {} files, 0 already v2, 0 failed",
            hops + 3
        )),
        "{stdout}"
    );
    for name in ["a.yaml", "b.yaml", "c00.yaml"] {
        let text = std::fs::read_to_string(dir.path().join(name)).unwrap();
        assert!(text.starts_with("version: 2\n"), "{name}: {text}");
    }
}

#[test]
fn follow_external_symlinks_applies_to_migrate_as_to_validate() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside");
    let policies = dir.path().join("policies");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::create_dir_all(&policies).unwrap();
    let original = v1_linking("shared", None);
    std::fs::write(outside.join("shared.yaml"), &original).unwrap();
    std::os::unix::fs::symlink("../outside/shared.yaml", policies.join("shared.yaml")).unwrap();

    // Refused by default, as `validate` refuses it, and left unchanged.
    let (code, stdout, _) = migrate_in(dir.path(), &["policies"]);
    assert_eq!(code, 2, "{stdout}");
    assert!(stdout.contains("error[external-symlink]"), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(outside.join("shared.yaml")).unwrap(),
        original
    );

    // With the flag the link is followed and the file it points at rewritten; the link stays.
    let (code, stdout, stderr) =
        migrate_in(dir.path(), &["--follow-external-symlinks", "policies"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("migrated: policies/shared.yaml"),
        "{stdout}"
    );
    let migrated = std::fs::read_to_string(outside.join("shared.yaml")).unwrap();
    assert!(migrated.starts_with("version: 2\n"), "{migrated}");
    assert!(
        std::fs::symlink_metadata(policies.join("shared.yaml"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}
