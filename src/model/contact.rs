//! Contacts of record (format v2): where a service sends codes and notices, and who put each
//! contact there. A code is only as good as the record it goes to.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A contact the service holds for the account: an e-mail address, a phone number, a postal
/// address, or push to an app on a bound device.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// What the contact is.
    pub kind: ContactKind,
    /// Who registered it: the holder after identity proofing, or whoever opened the account
    /// (who may be an attacker using someone else's name). Omitted means "not described".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_by: Option<Registrant>,
    /// Free-text remark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ContactKind {
    Email,
    Phone,
    PostalAddress,
    /// Push to the service's app on a device bound to the account.
    AppPush,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Registrant {
    /// Whoever opened the account; nothing ties them to the named holder.
    AccountOpener,
    /// The holder, after the service proved their identity (in person, by post to a verified
    /// address, with eKYC).
    HolderAfterProofing,
}

/// Whether the service's messages to holders contain links: phishing lures imitate them.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Messages {
    /// Whether e-mails and SMS from the service contain clickable links. Omitted means "not
    /// described".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contain_links: Option<bool>,
}

/// The stated policy for memorised passwords, which sets how guessable a password is.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordPolicy {
    /// Minimum length in characters.
    #[schemars(range(min = 1, max = 256))]
    pub min_length: u32,
    /// Whether new passwords are screened against lists of breached and common passwords.
    /// Omitted means "not described".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocklist: Option<bool>,
}
