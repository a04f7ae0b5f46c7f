//! `docs/policy-format.md` is the reference of the policy format, so it is held to the model:
//!
//! - every ```yaml block in it that is a complete policy (its first line that is neither blank
//!   nor a comment starts with `version:`) is valid, with all such blocks loaded together as
//!   one policy tree, so that the examples may refer to each other's services;
//! - every field of the model (the properties of the JSON Schema derived from it, top level and
//!   every `$defs` object) appears in the first column of a field table of the doc, all the
//!   fields of one object in the same table; a field added to the model without docs fails;
//! - every enumeration value of the model appears in the first column of a table of the doc,
//!   all the values of one enumeration in the same table.

use authaudit::diagnostic::Code;
use authaudit::factors::Catalogue;
use authaudit::load::Loader;
use authaudit::schema::policy_schema;
use authaudit::source::SizeBudget;
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

const DOC: &str = "docs/policy-format.md";

fn doc() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(DOC);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {DOC}: {e}"))
}

/// One fenced ```yaml block of the doc.
struct Block {
    /// Line of the doc (1-based) of the block's first line of content.
    line: usize,
    text: String,
}

impl Block {
    /// The first line of the block, to name it in a failure.
    fn first_line(&self) -> &str {
        self.text.lines().next().unwrap_or("")
    }

    /// Whether the block is a complete policy file: its first line that is neither blank nor
    /// a comment starts with `version:`.
    fn is_complete_policy(&self) -> bool {
        self.text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .is_some_and(|l| l.starts_with("version:"))
    }

    /// The `version:` value the block states (`1` or `2`).
    fn version(&self) -> Option<&str> {
        self.text
            .lines()
            .find_map(|l| l.strip_prefix("version:"))
            .map(|v| v.split('#').next().unwrap_or("").trim())
    }
}

/// An open fence: its indentation, its backtick count, and (for a ```yaml block) the doc line
/// of its first line of content with the content so far.
struct Fence {
    indent: usize,
    ticks: usize,
    yaml: Option<Block>,
}

/// Every fenced block whose info string is exactly `yaml`, with its fence's indentation
/// removed (blocks may sit in list items).
fn yaml_blocks(doc: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<Fence> = None;
    for (index, line) in doc.lines().enumerate() {
        let trimmed = line.trim_start();
        let ticks = trimmed.chars().take_while(|c| *c == '`').count();
        match open.as_mut() {
            None => {
                if ticks >= 3 {
                    let yaml = (trimmed[ticks..].trim() == "yaml").then(|| Block {
                        line: index + 2,
                        text: String::new(),
                    });
                    open = Some(Fence {
                        indent: line.len() - trimmed.len(),
                        ticks,
                        yaml,
                    });
                }
            }
            Some(fence) if ticks >= fence.ticks && trimmed[ticks..].trim().is_empty() => {
                blocks.extend(fence.yaml.take());
                open = None;
            }
            Some(fence) => {
                if let Some(block) = fence.yaml.as_mut() {
                    let spaces = line.len() - line.trim_start_matches(' ').len();
                    block.text.push_str(&line[spaces.min(fence.indent)..]);
                    block.text.push('\n');
                }
            }
        }
    }
    assert!(open.is_none(), "{DOC} ends inside a fenced code block");
    blocks
}

#[test]
fn complete_policy_examples_are_valid_together() {
    let doc = doc();
    let blocks: Vec<Block> = yaml_blocks(&doc)
        .into_iter()
        .filter(Block::is_complete_policy)
        .collect();
    assert!(
        blocks.len() >= 8,
        "expected the complete examples of {DOC}, found {} blocks starting with `version:`",
        blocks.len()
    );
    let texts: Vec<(String, String)> = blocks
        .iter()
        .map(|b| (format!("{DOC}:{}", b.line), b.text.clone()))
        .collect();
    let loader = Loader::new(Catalogue::bundled(), SizeBudget::default());
    let tree = loader.load_texts(&texts);
    assert_eq!(tree.files.len(), blocks.len());

    let mut failures = String::new();
    for (block, file) in blocks.iter().zip(&tree.files) {
        let errors: Vec<_> = file.diagnostics.iter().filter(|d| d.is_error()).collect();
        if !errors.is_empty() {
            let _ = writeln!(
                failures,
                "\nthe example at {DOC}:{} starting `{}` is invalid:",
                block.line,
                block.first_line()
            );
            for d in errors {
                let at = d
                    .span
                    .map(|s| format!("{DOC}:{}", block.line + s.line as usize - 1))
                    .unwrap_or_default();
                let _ = writeln!(
                    failures,
                    "  error[{}] {} ({at}){}",
                    d.code.as_str(),
                    d.message,
                    d.hint
                        .as_deref()
                        .map(|h| format!("\n    help: {h}"))
                        .unwrap_or_default()
                );
            }
            continue;
        }
        // A v1 example shows the upgrade; a v2 example must be clean (no note, no warning).
        let upgraded = file
            .diagnostics
            .iter()
            .any(|d| d.code == Code::FormatUpgraded);
        match block.version() {
            Some("1") if !upgraded => {
                let _ = writeln!(
                    failures,
                    "\nthe v1 example at {DOC}:{} starting `{}` gave no `format-upgraded` note",
                    block.line,
                    block.first_line()
                );
            }
            Some("2") if !file.diagnostics.is_empty() => {
                let _ = writeln!(
                    failures,
                    "\nthe v2 example at {DOC}:{} starting `{}` gave notes or warnings: {:?}",
                    block.line,
                    block.first_line(),
                    file.diagnostics
                        .iter()
                        .map(|d| &d.message)
                        .collect::<Vec<_>>()
                );
            }
            Some("1" | "2") => {}
            other => {
                let _ = writeln!(
                    failures,
                    "\nthe example at {DOC}:{} starting `{}` says `version: {}`",
                    block.line,
                    block.first_line(),
                    other.unwrap_or("")
                );
            }
        }
    }
    assert!(
        failures.is_empty(),
        "complete policy examples of {DOC} must be valid, loaded together as one tree:{failures}"
    );
}

/// The tables of the doc, each as the code spans of its rows' first cells.
fn first_column_names(doc: &str) -> Vec<BTreeSet<String>> {
    let mut tables = Vec::new();
    let mut current: Option<BTreeSet<String>> = None;
    for line in doc.lines() {
        let line = line.trim();
        if !line.starts_with('|') {
            if let Some(table) = current.take() {
                tables.push(table);
            }
            continue;
        }
        let table = current.get_or_insert_with(BTreeSet::new);
        let first_cell = line[1..].split('|').next().unwrap_or("");
        // Every code span of the cell: `a` \| `b` documents both.
        let mut spans = first_cell.split('`');
        spans.next();
        while let (Some(name), Some(_)) = (spans.next(), spans.next()) {
            table.insert(name.trim().to_owned());
        }
    }
    tables.extend(current);
    tables
}

/// What a table must list: a name for the failure message and the names it must hold.
struct Listing {
    what: String,
    names: BTreeSet<String>,
}

/// Checks that each listing is held by one table of the doc, and says which names are missing.
fn missing_from_tables(doc: &str, listings: &[Listing]) -> String {
    let tables = first_column_names(doc);
    let mut report = String::new();
    for listing in listings {
        let best = tables
            .iter()
            .max_by_key(|t| listing.names.intersection(t).count())
            .cloned()
            .unwrap_or_default();
        let missing: Vec<&String> = listing.names.difference(&best).collect();
        if !missing.is_empty() {
            let _ = writeln!(
                report,
                "  {}: {} not in the table that lists its others",
                listing.what,
                missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    report
}

fn keys(object: Option<&Value>) -> BTreeSet<String> {
    object
        .and_then(Value::as_object)
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn every_field_of_the_model_is_documented() {
    let schema = policy_schema(&Catalogue::bundled());
    let mut listings = vec![Listing {
        what: "the top level of a policy file".to_owned(),
        names: keys(schema.get("properties")),
    }];
    let defs = schema
        .get("$defs")
        .and_then(Value::as_object)
        .expect("the policy schema has $defs");
    for (name, def) in defs {
        let names = keys(def.get("properties"));
        if !names.is_empty() {
            listings.push(Listing {
                what: format!("fields of `{name}`"),
                names,
            });
        }
    }
    let all: BTreeSet<&String> = listings.iter().flat_map(|l| &l.names).collect();
    assert!(
        all.len() > 40 && all.contains(&"replaces_contact".to_owned()),
        "the walk of the schema found too few fields: {all:?}"
    );
    let doc = doc();
    let unmentioned: Vec<&&String> = all
        .iter()
        .filter(|f| !doc.contains(&format!("`{f}`")))
        .collect();
    assert!(
        unmentioned.is_empty(),
        "{DOC} never mentions these fields of the model: {unmentioned:?}"
    );
    let report = missing_from_tables(&doc, &listings);
    assert!(
        report.is_empty(),
        "every field must be a row (`| `name` | ...`) of the field table of its object in {DOC}:\n{report}"
    );
}

/// The string values an enumeration schema admits (`enum` lists and `const`s, at any depth).
fn enum_values(schema: &Value, out: &mut BTreeSet<String>) {
    match schema {
        Value::Object(object) => {
            if let Some(Value::String(value)) = object.get("const") {
                out.insert(value.clone());
            }
            if let Some(Value::Array(values)) = object.get("enum") {
                out.extend(values.iter().filter_map(Value::as_str).map(str::to_owned));
            }
            for (key, value) in object {
                if key != "properties" {
                    enum_values(value, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| enum_values(v, out)),
        _ => {}
    }
}

#[test]
fn every_enumeration_value_is_documented() {
    let schema = policy_schema(&Catalogue::bundled());
    let defs = schema
        .get("$defs")
        .and_then(Value::as_object)
        .expect("the policy schema has $defs");
    let listings: Vec<Listing> = defs
        .iter()
        .filter(|(_, def)| def.get("properties").is_none())
        .map(|(name, def)| {
            let mut names = BTreeSet::new();
            enum_values(def, &mut names);
            Listing {
                what: format!("values of `{name}`"),
                names,
            }
        })
        .filter(|l| !l.names.is_empty())
        .collect();
    assert!(
        listings
            .iter()
            .any(|l| l.names.contains("payout_account_change")),
        "the walk of the schema found no flow kinds"
    );
    let report = missing_from_tables(&doc(), &listings);
    assert!(
        report.is_empty(),
        "every enumeration value must be a row of the table of its enumeration in {DOC}:\n{report}"
    );
}
