//! The policy model: what one policy file says about one service, as typed Rust data.
//!
//! These types are the single source of the policy format: `authaudit schema` derives the JSON
//! Schema from them, and the loader deserializes validated YAML into them. They hold no spans;
//! locations are looked up in the file's node tree by YAML path when a diagnostic needs one.
//! This module must not read files or print anything.

mod flow;
mod service;
mod values;

pub use flow::*;
pub use service::*;
pub use values::{parse_date, parse_duration};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The version of the policy format this build reads.
pub const FORMAT_VERSION: u32 = 1;

/// One policy file: the description of one service's authentication flows.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "authaudit policy file (format v1)")]
pub struct Policy {
    /// Version of the policy format. Must be 1.
    #[schemars(range(min = 1, max = 1))]
    pub version: u32,
    /// The service this file describes.
    pub service: Service,
    /// The service's authentication flows, keyed by a flow id unique within this file.
    /// Other files refer to a flow as `<service id>/<flow id>`.
    #[schemars(length(min = 1))]
    pub flows: BTreeMap<String, Flow>,
    /// Which events tell the holder, on which channel. Omitted means "not described";
    /// `[]` means the service sends no notices at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notifications: Option<Vec<Notification>>,
    /// How the service watches transactions for fraud.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitoring: Option<Monitoring>,
    /// The service's published policy on compensating victims of unauthorised use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compensation: Option<Compensation>,
}
