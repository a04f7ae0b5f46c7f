use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A duration written as a whole number and a unit: `30s`, `15m`, `24h`, `7d`, `2w`.
pub const DURATION_PATTERN: &str = r"^[1-9][0-9]{0,8}(s|m|h|d|w)$";

/// One authentication flow of a service.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Flow {
    /// What the flow does.
    pub kind: FlowKind,
    /// Free-text description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// What the person must present, in order. Each step must be passed.
    #[schemars(length(min = 1))]
    pub steps: Vec<Step>,
    /// Identity proofing performed when the account is opened (registration flows only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_proofing: Option<IdentityProofing>,
    /// Attempt, velocity and amount limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<Limits>,
    /// Other services' flows that authenticate the holder for this one (a wallet's
    /// account_linking flow names the bank or gateway flows it hands the holder to).
    #[serde(default)]
    pub delegates_to: Vec<FlowRef>,
    /// Services allowed to start this flow (a bank's linking flow names the gateways and
    /// payment services that may send holders to it).
    #[serde(default)]
    pub initiated_by: Vec<String>,
    /// Whether the service compares its verified holder name with the name on the linked
    /// account or card (account_linking and card_registration flows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_matching: Option<NameMatching>,
    /// Time after completion before the new link, token or device can move money.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[1-9][0-9]{0,8}(s|m|h|d|w)$"))]
    pub cooling_off: Option<String>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FlowKind {
    /// Opening an account.
    Registration,
    Login,
    /// A third party attaches a bank account to its service (direct-debit registration).
    AccountLinking,
    CardRegistration,
    /// Top-up pulled from a linked account.
    Charge,
    Payment,
    /// Money leaving to another party or bank.
    Transfer,
    /// Credential recovery.
    PasswordReset,
    /// Change of email, phone or postal address.
    ContactChange,
    /// New device, token or app.
    DeviceActivation,
}

/// One step of a flow: the factors presented together.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Factor names from the factor catalogue (`authaudit factors`).
    #[schemars(length(min = 1))]
    pub verify: Vec<String>,
    /// Where one-time codes and links of this step are sent. Required when the step uses a
    /// delivered factor (sms_otp, email_link, ...), forbidden otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_to: Option<Delivery>,
    /// Free-text remark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// A contact registered earlier with the party that authenticates.
    RegisteredContact,
    /// A contact the requester supplies in this same flow (the 7pay weakness).
    ContactSuppliedInFlow,
}

/// Identity proofing at account opening.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityProofing {
    pub level: ProofingLevel,
    /// The eKYC method; required when `level` is `ekyc`, forbidden otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<EkycMethod>,
}

/// Identity-proofing levels, weakest first; the order is meaningful.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ProofingLevel {
    None,
    EmailOnly,
    PhoneOnly,
    DocumentUpload,
    Ekyc,
    InPerson,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EkycMethod {
    /// Photo ID image plus a live selfie.
    PhotoIdSelfie,
    /// Data read from the IC chip of a photo ID.
    IcChip,
    /// ID document plus a check through a bank (reference or small deposit).
    BankReference,
    /// JPKI signature certificate of the My Number Card.
    Jpki,
}

/// Limits on a flow.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Failed-attempt limit. Omitted means "not described"; `scope: none` means no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<AttemptLimit>,
    /// Limits on how often the flow may complete, e.g. cards registered per account per day.
    #[serde(default)]
    pub velocity: Vec<VelocityLimit>,
    /// Amount limits, in the service's currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amounts: Option<AmountLimits>,
}

/// How failed attempts are counted and what happens at the limit.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AttemptLimit {
    /// What the failure counter is kept per; `none` means failures are not limited at all.
    pub scope: AttemptScope,
    /// Failed attempts allowed before lockout. Required unless `scope` is `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1000000))]
    pub max: Option<u32>,
    /// Window the failures are counted in (`24h`); omitted means never reset except on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[1-9][0-9]{0,8}(s|m|h|d|w)$"))]
    pub window: Option<String>,
    /// What happens at the limit. Required unless `scope` is `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lockout: Option<Lockout>,
    /// How long a temporary lockout lasts (`30m`). Required when `lockout` is `temporary`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[1-9][0-9]{0,8}(s|m|h|d|w)$"))]
    pub lockout_duration: Option<String>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AttemptScope {
    Account,
    Device,
    Ip,
    CardNumber,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Lockout {
    Temporary,
    Permanent,
}

/// At most `max` completions of the flow per `window` per `scope`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VelocityLimit {
    #[schemars(range(min = 1, max = 1000000))]
    pub max: u32,
    #[schemars(regex(pattern = r"^[1-9][0-9]{0,8}(s|m|h|d|w)$"))]
    pub window: String,
    pub scope: VelocityScope,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum VelocityScope {
    Account,
    Device,
    Ip,
    CardNumber,
    BankAccount,
}

/// Amount limits in the service's currency.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AmountLimits {
    /// ISO 4217 currency code.
    #[schemars(regex(pattern = r"^[A-Z]{3}$"))]
    pub currency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_transaction: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_day: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_month: Option<u64>,
}

/// A reference to a flow of another service: `service` id and optional `flow` id. Without
/// `flow`, the service's account_linking flow is meant.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowRef {
    pub service: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow: Option<String>,
}

/// Comparison of the holder name the service verified with the linked account's name.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum NameMatching {
    /// No comparison.
    None,
    /// Compared; a mismatch only warns.
    Warn,
    /// Compared; a mismatch stops the flow.
    Block,
}
