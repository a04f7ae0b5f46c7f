//! The examples and exit codes shown at the end of each command's `--help`. Every line that
//! starts with `  authaudit ` is a command a test runs against a copy of the repository's
//! `policies/` (tests/cli/traps_cli.rs), so the examples name real paths, packs, rule ids and
//! attacker profiles, and none may end in a usage error.

pub const MAIN: &str = "\
Examples:
  authaudit check policies/
  authaudit validate policies/
  authaudit rules list
  authaudit check --help

Exit codes: 0 clean, 1 findings at or above --fail-on (chains for `paths`), 2 invalid input,
no policy file found, refused rule packs, or a usage error.";

pub const VALIDATE: &str = "\
Examples:
  authaudit validate policies/
  authaudit validate policies/incidents/7pay-2019/7pay.yaml --format json
  authaudit validate . --exclude 'policies/incidents/**'

Folders are searched for policy files: YAML files with a top-level `service` or `flows` key.
Other YAML files there (docker-compose.yml, CI workflows) are skipped and counted in the
summary; a file named on the command line is always checked.

Exit codes: 0 every file valid, 2 invalid or unreadable input, no policy file found, or a
usage error.";

pub const CHECK: &str = "\
Examples:
  authaudit check policies/
  authaudit check policies/reference/ --pack all --fail-on critical
  authaudit check policies/ --lang ja --at 2020-09-01
  authaudit check policies/ --output sarif=authaudit.sarif --output junit=authaudit.xml

Exit codes: 0 clean (or only findings below --fail-on), 1 findings at or above --fail-on (the
bundled incident reconstructions under policies/incidents/ exit 1 on purpose), 2 invalid input,
no policy file found, refused rule packs, or a usage error.";

pub const RULES: &str = "\
Examples:
  authaudit rules list --pack jp-fsa-jba-2020
  authaudit rules explain JP-FSA-LINK-NO-MFA
  authaudit rules test --pack incidents";

pub const RULES_LIST: &str = "\
Examples:
  authaudit rules list
  authaudit rules list --pack eu-psd2-rts-sca --long
  authaudit rules list --severity critical --format json";

pub const RULES_EXPLAIN: &str = "\
Examples:
  authaudit rules explain JP-FSA-LINK-NO-MFA
  authaudit rules explain INC-CODE-TO-SUPPLIED-CONTACT";

pub const RULES_TEST: &str = "\
Examples:
  authaudit rules test
  authaudit rules test --pack nist-800-63b

Exit codes: 0 every example behaves, 1 a miss, a false positive, an invalid example or a
condition that fails to evaluate, 2 refused rule packs or a usage error.";

pub const RULES_DOCS: &str = "\
Examples:
  authaudit rules docs --out rule-docs
  authaudit rules docs --pack incidents --out incident-rule-docs

Without --out, the pages go to docs/rules only inside authaudit's own source tree (a folder
with Cargo.toml, rules/ and docs/rules/); anywhere else the command refuses rather than create
a docs/ folder in the current one.";

pub const SCHEMA: &str = "\
Examples:
  authaudit schema
  authaudit schema --report
  authaudit schema --attackers";

pub const FACTORS: &str = "\
Examples:
  authaudit factors
  authaudit factors --format json";

pub const MIGRATE: &str = "\
Examples:
  authaudit migrate --check policies/
  authaudit migrate policies/reference/ref-bank.yaml --stdout

Exit codes: 0 done (or nothing to do), 1 a file refused or, with --check, a file that would
change, 2 unreadable input or a failed write.";

pub const REPORT: &str = "\
Examples:
  authaudit report policies/ --format html --org 'Example Bank' -o report.html
  authaudit report policies/ --format md --lang ja -o report-ja.md
  authaudit report policies/ --format sarif -o authaudit.sarif
  authaudit report --verify report.html policies/

Exit codes: as `check`; with --verify, 0 the report still matches, 1 something changed.";

pub const PATHS: &str = "\
Examples:
  authaudit paths policies/incidents/docomo-koza-2020 --attacker leaked-bank-credentials
  authaudit paths policies/ --format mermaid --no-fixes

Exit codes: 0 no chain, 1 a chain the policies fully describe, 2 invalid input, no policy file
found, refused attacker profiles, or a usage error.";

pub const INIT: &str = "\
Examples:
  authaudit init
  authaudit init my-audit";

pub const DIFF: &str = "\
Examples:
  authaudit report policies/ --format json -o before.json
  authaudit report policies/reference/ --format json -o after.json
  authaudit diff before.json after.json --format md";

pub const COMPLETIONS: &str = "\
Examples:
  authaudit completions bash
  authaudit completions zsh";

pub const MAN: &str = "\
Examples:
  authaudit man
  authaudit man rules list
  authaudit man --out man";
