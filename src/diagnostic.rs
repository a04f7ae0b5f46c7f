//! Diagnostics: what went wrong with the user's input, where, and what to do about it.
//!
//! A diagnostic is a value; it is rendered only by the report layer. Every diagnostic about a
//! file's content carries a span (line and column) and, where one applies, the YAML path.

use crate::yaml::{Span, YamlPath};
use serde::Serialize;

/// Stable identifiers of every kind of diagnostic. The kebab-case spelling is part of the JSON
/// output contract and of the docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    // Reading the file.
    IoError,
    NotAFile,
    SymlinkLoop,
    ExternalSymlink,
    FileTooLarge,
    LineTooLong,
    BinaryFile,
    InvalidUtf8,
    ByteOrderMark,
    EmptyFile,
    NoPolicyFiles,
    // YAML.
    YamlSyntax,
    YamlBudget,
    MultipleDocuments,
    UnsupportedTag,
    DuplicateKey,
    // Schema.
    UnknownField,
    MissingField,
    WrongType,
    UnknownValue,
    UnknownFactor,
    OutOfRange,
    InvalidFormat,
    EmptyCollection,
    SchemaViolation,
    // Meaning within one file.
    InvalidDate,
    DeliveryMissing,
    DeliveryWithoutDeliveredFactor,
    InconsistentLimit,
    MisplacedField,
    FieldNeedsV2,
    FormatUpgraded,
    UnknownContact,
    ContactMismatch,
    InconsistentNotification,
    MigrationRefused,
    ReplacedFactor,
    Contradiction,
    InvisibleCharacter,
    // Across files.
    DuplicateServiceId,
    UnknownService,
    UnknownFlow,
    DelegationWithoutLinkingFlow,
    AmbiguousDelegation,
    DelegationCycle,
    DelegationTooDeep,
    InitiatorLoop,
    // Rule packs.
    CelSyntax,
    UnknownViewField,
    UnknownCitationDocument,
    DuplicateRuleId,
    RuleEvaluation,
    CelTooComplex,
    CelUnsupportedFunction,
    CelUnboundedIteration,
    InvalidRuleAt,
    // Attacker profiles.
    ProfileIdMismatch,
    DuplicateProfileId,
    DuplicateEntry,
    FactorNotKnowable,
    // Configuration, waivers and baselines.
    TomlSyntax,
    WaiverTooLong,
    WaiverExpired,
    WaiverStale,
    InvalidBaseline,
}

impl Code {
    pub const ALL: &'static [Code] = &[
        Code::IoError,
        Code::NotAFile,
        Code::SymlinkLoop,
        Code::ExternalSymlink,
        Code::FileTooLarge,
        Code::LineTooLong,
        Code::BinaryFile,
        Code::InvalidUtf8,
        Code::ByteOrderMark,
        Code::EmptyFile,
        Code::NoPolicyFiles,
        Code::YamlSyntax,
        Code::YamlBudget,
        Code::MultipleDocuments,
        Code::UnsupportedTag,
        Code::DuplicateKey,
        Code::UnknownField,
        Code::MissingField,
        Code::WrongType,
        Code::UnknownValue,
        Code::UnknownFactor,
        Code::OutOfRange,
        Code::InvalidFormat,
        Code::EmptyCollection,
        Code::SchemaViolation,
        Code::InvalidDate,
        Code::DeliveryMissing,
        Code::DeliveryWithoutDeliveredFactor,
        Code::InconsistentLimit,
        Code::MisplacedField,
        Code::FieldNeedsV2,
        Code::FormatUpgraded,
        Code::UnknownContact,
        Code::ContactMismatch,
        Code::InconsistentNotification,
        Code::MigrationRefused,
        Code::ReplacedFactor,
        Code::Contradiction,
        Code::InvisibleCharacter,
        Code::DuplicateServiceId,
        Code::UnknownService,
        Code::UnknownFlow,
        Code::DelegationWithoutLinkingFlow,
        Code::AmbiguousDelegation,
        Code::DelegationCycle,
        Code::DelegationTooDeep,
        Code::InitiatorLoop,
        Code::CelSyntax,
        Code::UnknownViewField,
        Code::UnknownCitationDocument,
        Code::DuplicateRuleId,
        Code::RuleEvaluation,
        Code::CelTooComplex,
        Code::CelUnsupportedFunction,
        Code::CelUnboundedIteration,
        Code::InvalidRuleAt,
        Code::ProfileIdMismatch,
        Code::DuplicateProfileId,
        Code::DuplicateEntry,
        Code::FactorNotKnowable,
        Code::TomlSyntax,
        Code::WaiverTooLong,
        Code::WaiverExpired,
        Code::WaiverStale,
        Code::InvalidBaseline,
    ];

    /// The code as users see it, e.g. `unknown-factor`.
    pub fn as_str(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// Whether the problem is with reading the input rather than its content (exit code 2).
    pub fn is_io(self) -> bool {
        matches!(self, Code::IoError | Code::NotAFile | Code::SymlinkLoop)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    /// Information that does not make the file invalid (a v1 file read as v2).
    Note,
}

/// A secondary location that explains the primary one (the first definition of a duplicate).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Related {
    pub file: String,
    pub span: Span,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: Code,
    pub message: String,
    /// The file as the user named it (relative paths stay relative).
    pub file: String,
    pub span: Option<Span>,
    pub path: Option<YamlPath>,
    /// Text shown under the underlined span.
    pub label: Option<String>,
    pub hint: Option<String>,
    pub related: Vec<Related>,
}

impl Diagnostic {
    pub fn error(code: Code, file: &str, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            code,
            message: message.into(),
            file: file.to_owned(),
            span: None,
            path: None,
            label: None,
            hint: None,
            related: Vec::new(),
        }
    }

    /// A note: shown to the user, but the file stays valid.
    pub fn note(code: Code, file: &str, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Note,
            ..Self::error(code, file, message)
        }
    }

    /// A warning: shown, counted apart, but the file stays valid.
    pub fn warning(code: Code, file: &str, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(code, file, message)
        }
    }

    /// Whether the diagnostic makes the file invalid (warnings and notes do not).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    pub fn with_span(mut self, span: Span) -> Self {
        self.span = Some(span);
        self
    }

    pub fn with_path(mut self, path: YamlPath) -> Self {
        self.path = Some(path);
        self
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn with_related(mut self, file: &str, span: Span, message: impl Into<String>) -> Self {
        self.related.push(Related {
            file: file.to_owned(),
            span,
            message: message.into(),
        });
        self
    }

    /// Orders diagnostics by position so output never depends on discovery order.
    pub fn sort_key(&self) -> (String, Span, Code, String) {
        (
            self.file.clone(),
            self.span.unwrap_or_default(),
            self.code,
            self.message.clone(),
        )
    }
}

impl serde::Serialize for YamlPath {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl serde::Serialize for Span {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Span", 3)?;
        st.serialize_field("line", &self.line)?;
        st.serialize_field("column", &self.column)?;
        st.serialize_field("length", &self.len)?;
        st.end()
    }
}

/// Where `path` stands in a parsed file: the node, else its key, else the document.
pub fn span_in(tree: &crate::yaml::Node, path: &YamlPath) -> Span {
    tree.get(path)
        .map(|n| n.span)
        .or_else(|| tree.key_span(path))
        .unwrap_or(tree.span)
}

/// An error about the node at `path` of a parsed data file (a profile, a waiver file).
pub fn error_at(
    file: &str,
    tree: &crate::yaml::Node,
    code: Code,
    path: YamlPath,
    message: String,
) -> Diagnostic {
    Diagnostic::error(code, file, message)
        .with_span(span_in(tree, &path))
        .with_path(path)
}

#[cfg(test)]
mod tests {
    use super::Code;

    #[test]
    fn codes_are_unique_kebab_case_and_all_listed() {
        let names: Vec<String> = Code::ALL.iter().map(|c| c.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len());
        assert!(names.iter().all(|n| {
            !n.is_empty()
                && n.chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-' || c.is_ascii_digit())
        }));
        assert_eq!(Code::UnknownFactor.as_str(), "unknown-factor");
    }
}
