//! Attacker profiles as data (`rules/attackers/*.yaml`): what an attacker knows about a victim,
//! what it controls and what it can do. The attack-path engine (`crate::paths`) reads only
//! these records; the loader checks them against the JSON Schema derived from these types.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One attacker profile: one file in `rules/attackers/`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "authaudit attacker profile")]
pub struct AttackerProfile {
    /// Stable id, e.g. `leaked-bank-credentials`; also the file name without `.yaml`. Unique
    /// across the bundled profiles and every `--attackers` folder.
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9-]{0,62}$"))]
    pub id: String,
    /// One line shown in listings and report headings.
    #[schemars(length(min = 1))]
    pub title: String,
    /// Who this attacker is and how it works, in a paragraph.
    #[schemars(length(min = 1))]
    pub description: String,
    /// Where this kind of attacker is documented: requirement or source ids of
    /// shared/regulations.md, or documents cited in full (with a publisher). At least one.
    #[schemars(length(min = 1))]
    pub sources: Vec<ProfileSource>,
    /// Factor names (from the factor catalogue) whose value the attacker holds for a victim:
    /// personal and account data, card data, and secrets from a leak or a phishing list. A
    /// secret listed here is known for every service the victim uses (reuse). Codes sent at
    /// each attempt and factors proved by a device or a body cannot be listed. No name twice.
    #[serde(default)]
    pub knows: Vec<String>,
    /// What the attacker controls besides its own e-mail addresses, phones and devices,
    /// which every attacker has. No value twice.
    #[serde(default)]
    pub controls: Vec<Control>,
    /// What the attacker can do beyond presenting what it knows or controls. No value twice.
    #[serde(default)]
    pub capabilities: Vec<Capability>,
}

/// Where a profile is documented.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileSource {
    /// A requirement or incident id of shared/regulations.md (e.g. `JP-FSA20`), when the
    /// source is catalogued there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The document's title.
    #[schemars(length(min = 1))]
    pub title: String,
    /// Who published the document; required when there is no `id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    /// The document's date, `YYYY-MM-DD`, or `YYYY-MM` when only the month is on record (never
    /// guess a day); a real calendar date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9]{4}-[0-9]{2}(-[0-9]{2})?$"))]
    pub date: Option<String>,
    /// Where the document is published: an `http://` or `https://` address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Things an attacker may control beyond its own contacts and devices.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Control {
    /// Opens accounts under any name wherever identity proofing does not stop it (proofing
    /// by e-mail or phone only, or none).
    NewAccountsUnderAnyName,
    /// Forged or borrowed identity documents, which pass proofing that rests on document
    /// images (upload, photo ID + selfie, bank reference).
    ForgedDocumentImages,
}

/// Capabilities beyond presenting what the attacker knows.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// Guesses secrets online, within the attempt limits the flow sets.
    OnlineGuessing,
    /// Relays, in real time, whatever the victim types or approves on a phishing page
    /// (passwords, one-time codes, push approvals) that is not phishing-resistant.
    RealtimePhishingRelay,
    /// Takes over the victim's phone number (SIM swap, port-out), receiving its SMS and
    /// voice calls.
    SimSwap,
}
