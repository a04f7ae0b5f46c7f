//! The fixed texts of the terminal output (`check` findings and summaries, and the summary
//! lines `validate`, `paths` and `migrate` share) in each `--lang`, kept in one table so a
//! test can prove that no English fixed text is left in a Japanese run. What comes from
//! packs and policies (titles, messages, citations, remediation) is picked by the caller;
//! severity names and rule ids in `high[RULE-ID]` heads stay as written, like codes, so a
//! run can be searched the same way in either language.

use super::check::Lang;
use std::fmt::Display;

/// `(key, English, Japanese)`; `{name}` stands for a value given by the caller.
pub const FIXED_TEXTS: &[(&str, &str, &str)] = &[
    // The `= key:` labels of a finding.
    ("label.flow", "flow", "フロー"),
    ("label.note", "note", "注記"),
    ("label.help", "help", "是正策"),
    ("label.also", "also", "同じ箇所"),
    (
        "flow",
        "{service}/{flow} (pack {pack})",
        "{service}/{flow}（ルールパック {pack}）",
    ),
    (
        "also",
        "{level}[{rule}] {title} (pack {pack})",
        "{level}[{rule}] {title}（ルールパック {pack}）",
    ),
    (
        "effective_after",
        "this rule applies from {date}, after the policy's as_of date: the design is judged against guidance that came later",
        "このルールは {date} から適用され、ポリシーが記述する時点より後です：設計を後から出された指針に照らして判定しています",
    ),
    (
        "superseded_by_from",
        "superseded by {next} from {until}",
        "{until} から {next} に置き換え",
    ),
    ("superseded_by", "superseded by {next}", "{next} に置き換え"),
    (
        "no_longer",
        "no longer applies from {until}",
        "{until} 以降は適用されない",
    ),
    // Summaries.
    ("summary", "summary", "集計"),
    (
        "files",
        "{total} {files} checked, {valid} valid, {invalid} invalid",
        "{total} ファイルを検査、有効 {valid}、無効 {invalid}",
    ),
    ("file", "file", "ファイル"),
    ("files_plural", "files", "ファイル"),
    (
        "packs_run",
        "packs run: {packs}",
        "実行したルールパック: {packs}",
    ),
    ("none", "none", "なし"),
    (
        "findings",
        "findings: {count} ({by_severity})",
        "指摘: {count} 件（{by_severity}）",
    ),
    (
        "evaluated",
        "in {evaluated} evaluated {files}",
        "評価したファイル {evaluated} 件",
    ),
    (
        "not_evaluated",
        "{count} {files} not evaluated (invalid or unreadable)",
        "評価できなかったファイル {count} 件（無効または読み取れない）",
    ),
    (
        "rule_errors",
        "{count} rule {evaluations} failed",
        "ルールの評価失敗 {count} 件",
    ),
    ("evaluation", "evaluation", "評価"),
    ("evaluations", "evaluations", "評価"),
    (
        "in_force",
        "rules in force on {date}",
        "{date} 時点で適用されるルール",
    ),
    (
        "not_in_force",
        "not yet or no longer in force, not run: {rules}",
        "適用前または適用終了のため実行せず: {rules}",
    ),
    (
        "failed",
        "failed: {file} ({count} {errors})",
        "失敗: {file}（エラー {count} 件）",
    ),
    ("error", "error", "エラー"),
    ("errors", "errors", "エラー"),
    (
        "not_checked",
        "not checked: {file} ({code})",
        "未検査: {file}（{code}）",
    ),
    (
        "skipped",
        "{count} other YAML {files} skipped (not policies: no top-level `service` or `flows` key)",
        "ポリシーではない YAML ファイル {count} 件を対象外（最上位に `service` も `flows` もない）",
    ),
    (
        "excluded",
        "{count} YAML {files} left out by the include/exclude globs",
        "include/exclude の指定で除外した YAML ファイル {count} 件",
    ),
    (
        "failing",
        "{count} at or above --fail-on {severity}",
        "--fail-on {severity} 以上: {count} 件",
    ),
    ("severity.critical", "critical", "致命的"),
    ("severity.high", "high", "高"),
    ("severity.medium", "medium", "中"),
    ("severity.low", "low", "低"),
    ("severity.info", "info", "情報"),
];

impl Lang {
    /// The fixed text `key` in this language; empty for a key not in the table (the CLI test
    /// of `--lang ja` would show the gap).
    pub fn fixed(self, key: &str) -> &'static str {
        FIXED_TEXTS
            .iter()
            .find(|(k, _, _)| *k == key)
            .map_or("", |(_, en, ja)| match self {
                Lang::En => en,
                Lang::Ja => ja,
            })
    }

    /// [`Self::fixed`] with each `{name}` replaced by its value.
    pub fn format(self, key: &str, values: &[(&str, &dyn Display)]) -> String {
        let mut text = self.fixed(key).to_owned();
        for (name, value) in values {
            text = text.replace(&format!("{{{name}}}"), &value.to_string());
        }
        text
    }

    /// `one` or `many` by count: English plurals; Japanese has one form, so both keys give
    /// the same text there.
    pub fn plural(self, n: usize, one: &str, many: &str) -> &'static str {
        self.fixed(if n == 1 { one } else { many })
    }

    /// A severity's name in this language, for summaries.
    pub fn severity(self, severity: crate::rules::Severity) -> &'static str {
        self.fixed(&format!("severity.{}", severity.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::FIXED_TEXTS;
    use std::collections::BTreeSet;

    fn placeholders(text: &str) -> BTreeSet<&str> {
        text.split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
            .collect()
    }

    #[test]
    fn keys_are_unique_and_both_languages_take_the_same_values() {
        let mut keys = BTreeSet::new();
        for (key, en, ja) in FIXED_TEXTS {
            assert!(keys.insert(*key), "{key} twice");
            assert!(!en.is_empty() && !ja.is_empty(), "{key}");
            // Plural words are English only: the Japanese text counts without them.
            let mut english = placeholders(en);
            english.remove("files");
            english.remove("errors");
            english.remove("evaluations");
            assert_eq!(english, placeholders(ja), "{key}");
        }
    }

    #[test]
    fn japanese_texts_hold_no_english_words() {
        for (key, _, ja) in FIXED_TEXTS {
            let outside: String = ja
                .split('{')
                .map(|part| part.split_once('}').map_or(part, |(_, rest)| rest))
                .collect::<Vec<_>>()
                .join(" ");
            let words: Vec<&str> = outside
                .split(|c: char| !c.is_ascii_alphabetic())
                .filter(|w| {
                    w.len() > 2
                        && !["service", "flows", "include", "exclude", "fail", "YAML"].contains(w)
                })
                .collect();
            assert!(words.is_empty(), "{key}: {words:?}");
        }
    }
}
