//! Rule packs cite only what the project's requirements catalogue (`../shared/regulations.md`)
//! lists, and never a row graded U (unconfirmed).

use authaudit::rules::RuleSet;
use std::collections::BTreeMap;
use std::path::Path;

/// Requirement id → verification grade, from the catalogue's tables.
fn catalogue() -> BTreeMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/regulations.md");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} is needed beside the repository: {e}", path.display()));
    text.lines()
        .filter(|l| l.starts_with("| ") && l.matches('|').count() >= 5)
        .filter_map(|l| {
            let cells: Vec<&str> = l
                .trim()
                .trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect();
            Some((cells.first()?.to_string(), cells.last()?.to_string()))
        })
        .collect()
}

#[test]
fn every_cited_requirement_is_in_the_catalogue_and_not_unconfirmed() {
    let rows = catalogue();
    assert!(rows.len() > 50, "catalogue tables not found");
    let set = RuleSet::bundled();
    let mut problems = Vec::new();
    let mut cited = 0;
    for (_, rule) in set.rules() {
        for citation in &rule.spec.citations {
            let Some(requirement) = &citation.requirement else {
                continue;
            };
            cited += 1;
            match rows.get(requirement) {
                None => problems.push(format!(
                    "{}: {requirement} is not in the catalogue",
                    rule.spec.id
                )),
                Some(grade) if grade == "U" || grade.ends_with("/U") => {
                    problems.push(format!("{}: {requirement} is graded {grade}", rule.spec.id));
                }
                Some(_) => {}
            }
        }
    }
    assert!(
        cited > 40,
        "too few citations carry a requirement id: {cited}"
    );
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn factor_catalogue_bases_are_in_the_catalogue_and_not_unconfirmed() {
    let rows = catalogue();
    let factors = authaudit::factors::Catalogue::bundled();
    for factor in &factors.factors {
        for id in &factor.basis {
            let grade = rows
                .get(id)
                .unwrap_or_else(|| panic!("{}: {id} is not in the catalogue", factor.name));
            assert!(
                !(grade == "U" || grade.ends_with("/U")),
                "{}: {id} is graded {grade}",
                factor.name
            );
        }
    }
}
