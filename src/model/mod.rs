//! The policy model: what one policy file says about one service, as typed Rust data.
//!
//! These types are the single source of the policy format: `authaudit schema` derives the JSON
//! Schema from them, and the loader deserializes validated YAML into them. They hold no spans;
//! locations are looked up in the file's node tree by YAML path when a diagnostic needs one.
//! This module must not read files or print anything.

mod contact;
mod flow;
mod service;
pub mod upgrade;
mod values;

pub use contact::*;
pub use flow::*;
pub use service::*;
pub use values::{
    Day, day_from_unix_days, format_day, parse_date, parse_day_or_month, parse_duration,
};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Snake-case name of a serde enum value, as written in policy files.
pub fn name_of<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The version of the policy format this build writes; it also reads version 1 (see `upgrade`).
pub const FORMAT_VERSION: u32 = 2;

/// One policy file: the description of one service's authentication flows.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "authaudit policy file (format v2)")]
pub struct Policy {
    /// Version of the policy format: 2 (1 is still read, and upgraded in memory).
    #[schemars(range(min = 1, max = 2))]
    pub version: u32,
    /// The service this file describes.
    pub service: Service,
    /// The contacts of record the service holds for an account, keyed by an id that steps
    /// (`contact`), notifications (`contacts`) and contact_change flows (`replaces_contact`)
    /// refer to. Omitted means "not described". (v2)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contacts: Option<BTreeMap<String, Contact>>,
    /// The service's authentication flows, keyed by a flow id unique within this file.
    /// Other files refer to a flow as `<service id>/<flow id>`.
    #[schemars(length(min = 1))]
    pub flows: BTreeMap<String, Flow>,
    /// What the holder is told, event by event. An event not listed is "not described";
    /// `{event: charge, sent: false}` states that no notice is sent. (In v1, a list meant that
    /// every unlisted event sends nothing; the upgrade makes that explicit.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notifications: Option<Vec<Notification>>,
    /// How the service watches transactions for fraud.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitoring: Option<Monitoring>,
    /// The service's published policy on compensating victims of unauthorised use. Omitted
    /// means "not described".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compensation: Option<Compensation>,
    /// What the service's messages to holders look like. (v2)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<Messages>,
    /// The policy for memorised passwords. Omitted means "not described": a password's guess
    /// chance is then unknown. (v2)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_policy: Option<PasswordPolicy>,
}
