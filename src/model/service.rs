use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Identity of the described service and the material its description rests on.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Identifier unique across the whole policy tree: lowercase letters, digits and `-`.
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9-]{0,62}$"))]
    pub id: String,
    /// Display name in any script, e.g. `ドコモ口座`.
    #[schemars(length(min = 1, max = 200))]
    pub name: String,
    /// What kind of institution runs the service.
    pub kind: ServiceKind,
    /// ISO 3166-1 alpha-2 country code, or `EU`.
    #[schemars(regex(pattern = r"^[A-Z]{2}$"))]
    pub jurisdiction: String,
    /// The date the description is true of, as `YYYY-MM-DD`.
    #[schemars(regex(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))]
    pub as_of: String,
    /// Public or internal material the description rests on.
    #[schemars(length(min = 1))]
    pub sources: Vec<Source>,
    /// Free-text remarks about the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Kinds of institution authaudit knows how to judge.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ServiceKind {
    Bank,
    FundTransferOperator,
    PrepaidIssuer,
    CardIssuer,
    CodePayment,
    Securities,
    LinkingGateway,
}

/// One piece of material a description rests on.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Title of the report, notice or document.
    #[schemars(length(min = 1))]
    pub title: String,
    /// Who published it (newspaper, regulator, the service itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    /// Publication date, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))]
    pub date: Option<String>,
    /// Where to read it. Never fetched by authaudit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Whether the material is public or internal to the institution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<SourceAccess>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SourceAccess {
    Public,
    Internal,
}

/// What the service does about one event: a notice to the holder, or (`sent: false`) none.
/// Events not listed are "not described".
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Notification {
    /// The event that triggers the notice.
    pub event: NotificationEvent,
    /// `false` states that no notice is sent for this event; then nothing else may be given.
    /// Default `true`. (v2)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent: Option<bool>,
    /// Channels the notice goes out on. Required when the notice is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub channels: Option<Vec<Channel>>,
    /// Whether the notice goes to a contact registered before the event, to a contact supplied
    /// in the event itself (no notice at all for a hijacked account), or to both. Required
    /// when the notice is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<Recipient>,
    /// Which contacts of record the notice goes to: ids under `contacts`. Omitted means "not
    /// described". (v2)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contacts: Option<Vec<String>>,
    /// When the notice is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing: Option<NotificationTiming>,
    /// Only amounts at or above this threshold trigger the notice (currency of the service).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<u64>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum NotificationEvent {
    Registration,
    Login,
    AccountLinked,
    CardRegistered,
    Charge,
    Payment,
    Transfer,
    PasswordChanged,
    ContactChanged,
    NewDevice,
    /// A card or virtual card issued. (v2)
    CardIssued,
    /// A payee registered. (v2)
    PayeeRegistered,
    /// The payout account registered or changed. (v2)
    PayoutAccountChanged,
    /// A securities order placed. (v2)
    Trade,
}

impl NotificationEvent {
    /// The events format v1 could name.
    pub const V1: [NotificationEvent; 10] = [
        Self::Registration,
        Self::Login,
        Self::AccountLinked,
        Self::CardRegistered,
        Self::Charge,
        Self::Payment,
        Self::Transfer,
        Self::PasswordChanged,
        Self::ContactChanged,
        Self::NewDevice,
    ];
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Sms,
    Push,
    InApp,
    Post,
    Phone,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Recipient {
    /// A contact registered before the event.
    RegisteredContact,
    /// Only the contact supplied in the event (e.g. the new address after a change).
    NewContact,
    /// Both the previously registered and the new contact.
    Both,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotificationTiming {
    Immediate,
    Batched,
}

/// Transaction monitoring and the operator's means to respond.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Monitoring {
    pub level: MonitoringLevel,
    /// What the monitoring does when it fires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<MonitoringAction>,
    /// Signals the monitoring watches. Omitted means "not described". (v2)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signals: Option<Vec<MonitoringSignal>>,
    /// Whether a suspicious outflow is held until reviewed. Omitted means "not described".
    /// (v2)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holds_suspicious_outflow: Option<bool>,
    /// Whether the operator can stop a flow for everyone at once (a kill switch), as banks did
    /// with linking in September 2020. Omitted means "not described". (v2)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill_switch: Option<bool>,
}

/// What transaction monitoring looks at.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum MonitoringSignal {
    NewDevice,
    NewLink,
    NewPayee,
    /// Many operations in a short time, or many accounts from one source.
    Velocity,
    /// Unusual amounts for the holder.
    Amount,
    Geolocation,
    /// A contact changed shortly before money moves.
    RecentContactChange,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum MonitoringLevel {
    None,
    RuleBased,
    RealtimeScoring,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MonitoringAction {
    AlertOnly,
    HoldForReview,
    Block,
}

/// Compensation for losses from unauthorised use.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Compensation {
    /// Whether a compensation policy is published.
    pub published: bool,
    /// What the policy covers. Omitted means "not described"; `[]` means it covers nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Vec<CompensationScope>>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CompensationScope {
    OwnService,
    LinkedServices,
    FullAmount,
}
