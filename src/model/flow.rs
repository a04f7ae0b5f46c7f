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
    /// Whether the service compares the holder name it verified with the name of the
    /// counterpart account or card (Verification / Confirmation of Payee style): flows that
    /// link an account or card, send money, or register or change a payout destination.
    /// Omitted means "not described".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_matching: Option<NameMatching>,
    /// Time after completion before the new link, payee, payout account, card, device or
    /// contact can be used to move money (`24h`), or `none` for no delay. Omitted means "not
    /// described". Only on flows that create something new.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^(none|[1-9][0-9]{0,8}(s|m|h|d|w))$"))]
    pub cooling_off: Option<String>,
    /// Where money may be paid out to (transfer, payee_registration, payout_account_change,
    /// trade and charge flows). Omitted means "not described". (v2)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payout: Option<Payout>,
    /// The contact of record this flow replaces (contact_change flows): an id under
    /// `contacts`. After the change, notices and codes sent to that contact reach the new one.
    /// (v2)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces_contact: Option<String>,
    /// Whether the contact being replaced is told of the change (contact_change flows).
    /// Omitted means "not described". (v2)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_contact_notified: Option<bool>,
    /// Whether the issued card can be used before the holder activates it (card_issuance
    /// flows). Omitted means "not described". (v2)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usable_before_activation: Option<bool>,
    /// Whether the issued card can be used before proof that it reached the holder
    /// (card_issuance flows; for a virtual card, whether it works before the holder confirms
    /// it in a channel bound earlier). Omitted means "not described". (v2)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usable_before_delivery: Option<bool>,
}

/// Where a flow may send money.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Payout {
    /// Which destinations are allowed.
    pub constraint: PayoutConstraint,
    /// Services (ids in the policy tree) the flow may pay out to, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub services: Option<Vec<String>>,
}

/// Destinations a flow may pay out to, weakest first; the order is meaningful.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PayoutConstraint {
    /// Any account the requester names.
    AnyAccount,
    /// Only accounts in the verified holder's own name.
    SameNameOnly,
    /// Only accounts registered earlier (through a payee_registration or
    /// payout_account_change flow).
    PreRegisteredOnly,
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
    /// A card or virtual card issued to the holder. (v2)
    CardIssuance,
    /// Registering a payee that transfers may go to. (v2)
    PayeeRegistration,
    /// Registering or changing the account money is withdrawn to. (v2)
    PayoutAccountChange,
    /// A securities order. (v2)
    Trade,
}

impl FlowKind {
    /// Kinds added by format v2, refused in a v1 file.
    pub fn since_v2(self) -> bool {
        matches!(
            self,
            Self::CardIssuance | Self::PayeeRegistration | Self::PayoutAccountChange | Self::Trade
        )
    }

    /// Flows that send money or register where it may go: name matching applies to them.
    pub fn moves_money_or_sets_destination(self) -> bool {
        matches!(
            self,
            Self::AccountLinking
                | Self::CardRegistration
                | Self::Transfer
                | Self::PayeeRegistration
                | Self::PayoutAccountChange
        )
    }

    /// Flows that create something new (a link, card, payee, payout account, device or
    /// contact): the only ones a cooling-off period can follow.
    pub fn can_cool_off(self) -> bool {
        matches!(
            self,
            Self::AccountLinking
                | Self::CardRegistration
                | Self::CardIssuance
                | Self::PayeeRegistration
                | Self::PayoutAccountChange
                | Self::DeviceActivation
                | Self::ContactChange
                | Self::PasswordReset
        )
    }

    /// The event a flow's completion tells the holder about (`notifications[].event`).
    pub fn event(self) -> crate::model::NotificationEvent {
        use crate::model::NotificationEvent as E;
        match self {
            Self::Registration => E::Registration,
            Self::Login => E::Login,
            Self::AccountLinking => E::AccountLinked,
            Self::CardRegistration => E::CardRegistered,
            Self::Charge => E::Charge,
            Self::Payment => E::Payment,
            Self::Transfer => E::Transfer,
            Self::PasswordReset => E::PasswordChanged,
            Self::ContactChange => E::ContactChanged,
            Self::DeviceActivation => E::NewDevice,
            Self::CardIssuance => E::CardIssued,
            Self::PayeeRegistration => E::PayeeRegistered,
            Self::PayoutAccountChange => E::PayoutAccountChanged,
            Self::Trade => E::Trade,
        }
    }

    /// Flows whose money can leave to a destination (`payout`).
    pub fn pays_out(self) -> bool {
        matches!(
            self,
            Self::Transfer
                | Self::PayeeRegistration
                | Self::PayoutAccountChange
                | Self::Trade
                | Self::Charge
        )
    }
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
    /// Which contact of record the code or link goes to (with `delivered_to:
    /// registered_contact`): a contact id declared under `contacts` of the service named by
    /// `record_of`. Omitted means "not described". (v2)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// Whose record `contact` is: a service id. Omitted means this service's own record. A
    /// bank's code sent to the wallet's record of the wallet holder goes to whoever opened the
    /// wallet. (v2)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_of: Option<String>,
    /// Failed-attempt limit on this step's secrets alone; overrides `limits.attempts` for
    /// this step. (v2)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<AttemptLimit>,
    /// Whether every holder must pass this step (`mandatory`), passes it unless they turned
    /// it off (`default_on`), or only if they turned it on (`opt_in`). Omitted means
    /// `mandatory`, as in v1: a step listed in a flow is one every holder passes. (v2)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforcement: Option<Enforcement>,
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

/// Whether a step applies to every holder.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Enforcement {
    /// Only holders who turned it on pass this step; an attacker picks those who did not.
    OptIn,
    /// On unless the holder turned it off.
    DefaultOn,
    /// Every holder, always.
    Mandatory,
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

impl EkycMethod {
    /// Whether the method rests on images of an identity document, which a forged or
    /// borrowed document passes (JP-APTCP-2027 abolishes such methods from April 2027).
    pub fn rests_on_document_images(self) -> bool {
        matches!(self, Self::PhotoIdSelfie | Self::BankReference)
    }
}

/// Limits on a flow.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Failed-attempt limit. Omitted means "not described"; `scope: none` means no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<AttemptLimit>,
    /// Limits on how often the flow may complete, e.g. cards registered per account per day.
    /// Omitted means "not described"; `[]` means there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub velocity: Option<Vec<VelocityLimit>>,
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
    /// Failures on the holder's account, across devices and addresses.
    Account,
    /// Failures on the credential itself (a card, a bank account's PIN), across accounts. (v2)
    Credential,
    Device,
    Ip,
    /// Failures on one card number, across accounts.
    CardNumber,
    None,
}

impl AttemptScope {
    /// Whether the counter follows the account or credential under attack, as clauses on
    /// consecutive failures require; a per-device or per-IP counter resets with a new device
    /// or address.
    pub fn follows_the_target(self) -> bool {
        matches!(self, Self::Account | Self::Credential | Self::CardNumber)
    }
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
