//! Rule packs as data: the records a pack manifest (`pack.yaml`) and its rule file
//! (`rules.yaml`) deserialize into. They also derive the JSON Schema used to check pack files,
//! so an unknown severity or a missing citation is reported like any policy error.

use crate::model::{FlowKind, ServiceKind};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `rules/<pack-id>/pack.yaml`: what the pack is and which documents it cites.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PackManifest {
    /// Stable pack id, e.g. `jp-fsa-jba-2020`; also the folder name.
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9-]{0,62}$"))]
    pub id: String,
    pub title: Text,
    /// The body that issued the source documents (regulator, association, standard setter).
    pub issuer: String,
    /// ISO 3166-1 alpha-2 codes (or `EU`) of the services the pack applies to; `["*"]` for all.
    #[schemars(length(min = 1))]
    pub jurisdictions: Vec<String>,
    /// Pack version, bumped when rules change meaning.
    pub version: String,
    /// The documents rules cite, by a local id.
    #[schemars(length(min = 1))]
    pub sources: Vec<SourceDocument>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A document a pack cites.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceDocument {
    /// Local id that citations use, e.g. `JP-FSA20` (the ids of shared/regulations.md).
    pub id: String,
    pub title: String,
    /// Publication date, `YYYY-MM-DD`, or `YYYY-MM` when only the month is on record (never
    /// guess a day).
    #[schemars(regex(pattern = r"^[0-9]{4}-[0-9]{2}(-[0-9]{2})?$"))]
    pub date: String,
    /// How the document numbers its parts (Article, Section, 別紙, Requirement ...).
    pub numbering: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Who issued the document, when it differs from the pack's issuer or the pack cites
    /// several issuers (regulator, association, standard setter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The edition or version cited (`Revision 4`, `v4.0.1`, `2021 revision`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edition: Option<String>,
    /// The official reference a regulator would look up (an Official Journal reference, a
    /// notice number), where the URL is not one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The date the document's requirements take effect, `YYYY-MM-DD` or `YYYY-MM` (read as
    /// the first of the month). Rules citing it are in force from then (`check --at`). Omit
    /// for material that sets no requirement (the project's own incident analysis); a rule
    /// citing only such material is always in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9]{4}-[0-9]{2}(-[0-9]{2})?$"))]
    pub effective: Option<String>,
    /// The date from which the document no longer applies (repealed or replaced), with the
    /// same format; rules citing only it are not in force from then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9]{4}-[0-9]{2}(-[0-9]{2})?$"))]
    pub until: Option<String>,
    /// The id of the source in this pack that replaces this one, when it is superseded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<String>,
}

/// Text in English and Japanese.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Text {
    #[schemars(length(min = 1))]
    pub en: String,
    #[schemars(length(min = 1))]
    pub ja: String,
}

/// `rules/<pack-id>/rules.yaml`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    #[schemars(length(min = 1))]
    pub rules: Vec<RuleSpec>,
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// Control themes: the columns of a report's compliance matrix.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    MultiFactor,
    IdentityProofing,
    AttemptLimits,
    HolderNotification,
    Recovery,
    Monitoring,
    Compensation,
    TransactionSigning,
    PayeeVerification,
    CoolingOff,
    CardControls,
    ContactsAndMessages,
}

impl Theme {
    pub const ALL: [Theme; 12] = [
        Theme::MultiFactor,
        Theme::IdentityProofing,
        Theme::AttemptLimits,
        Theme::HolderNotification,
        Theme::Recovery,
        Theme::Monitoring,
        Theme::Compensation,
        Theme::TransactionSigning,
        Theme::PayeeVerification,
        Theme::CoolingOff,
        Theme::CardControls,
        Theme::ContactsAndMessages,
    ];

    /// The snake_case name, as written in packs.
    pub fn as_str(self) -> String {
        crate::model::name_of(&self)
    }
}

/// One rule as written in a pack.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Stable id, upper case, e.g. `JP-JBA-LINK-01`. Named after the weakness it flags.
    #[schemars(regex(pattern = r"^[A-Z0-9][A-Z0-9-]{2,63}$"))]
    pub id: String,
    pub title: Text,
    /// What the finding says, in both languages.
    pub message: Text,
    pub severity: Severity,
    /// The control theme the rule belongs to, for the compliance matrix of reports. Every
    /// bundled rule has one (a test keeps it so); user packs may leave it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme: Option<Theme>,
    pub applies_to: AppliesTo,
    /// CEL expression over the flow view; `true` means the rule fires.
    #[schemars(length(min = 1))]
    pub condition: String,
    /// Where in the flow the finding points: a YAML path relative to the flow (`steps`,
    /// `limits.attempts`, `name_matching`), or `step_with:FIELD=VALUE,...` for the first step
    /// whose field holds one of the values (`step_with:verify=sms_otp`). Omitted, or not
    /// written in the policy: the flow itself. Checked when the pack loads
    /// (docs/rule-authoring.md, "Where a finding points").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    #[schemars(length(min = 1))]
    pub citations: Vec<Citation>,
    /// Why the rule exists (Markdown).
    #[schemars(length(min = 1))]
    pub rationale: String,
    /// What to change (Markdown).
    #[schemars(length(min = 1))]
    pub remediation: String,
    /// Incidents the rule would have stopped (`docomo-koza-2020`, `paypay-2018`, `7pay-2019`).
    #[serde(default)]
    pub incidents: Vec<String>,
    pub examples: Examples,
}

/// Which flows a rule looks at. Empty lists mean "all".
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AppliesTo {
    #[serde(default)]
    pub service_kinds: Vec<ServiceKind>,
    #[serde(default)]
    pub flow_kinds: Vec<FlowKind>,
}

/// Where a rule comes from.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Citation {
    /// Id of a document in the pack manifest's `sources`.
    pub document: String,
    /// Article, section or paragraph, in the document's own numbering.
    #[schemars(length(min = 1))]
    pub section: String,
    /// A one-line paraphrase in our own words.
    #[schemars(length(min = 1))]
    pub paraphrase: String,
    /// The requirement id in shared/regulations.md, where there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requirement: Option<String>,
}

/// A rule's own test vectors: policies it must fire on and policies it must pass.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Examples {
    #[schemars(length(min = 1))]
    pub fires: Vec<Example>,
    #[schemars(length(min = 1))]
    pub passes: Vec<Example>,
}

/// One example: a set of policy files evaluated together. The rule must fire (or stay silent)
/// on the first file.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Example {
    /// What the example shows.
    pub description: String,
    /// Policy files as YAML text; the first is the one under test, the rest are services it
    /// links to.
    #[schemars(length(min = 1))]
    pub policies: Vec<String>,
}
