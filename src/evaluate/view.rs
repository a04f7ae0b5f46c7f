//! The flow view: the facts a rule's CEL condition reads, computed natively once per flow.
//!
//! Every field is documented here; `docs/rule-authoring.md` is generated from these doc
//! comments (through the view's JSON Schema), and rule conditions are checked at load time
//! against the same schema, so a rule cannot name a field that does not exist.

use schemars::JsonSchema;
use serde::Serialize;

/// The variables a condition sees: `service` and `flow`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct View {
    /// Facts about the service that owns the flow.
    pub service: ServiceView,
    /// Facts about the flow under evaluation.
    pub flow: FlowView,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ServiceView {
    /// Service id.
    pub id: String,
    /// Service kind: `bank`, `fund_transfer_operator`, `prepaid_issuer`, `card_issuer`,
    /// `code_payment`, `securities`, `linking_gateway`.
    pub kind: String,
    /// Jurisdiction code, e.g. `JP`.
    pub jurisdiction: String,
    /// Identity proofing at account opening as an ordered level: 0 none, 1 email_only,
    /// 2 phone_only, 3 document_upload, 4 ekyc, 5 in_person; -1 when the policy has no
    /// registration flow that states it.
    pub proofing_level: i64,
    /// The same level by name (`none` ... `in_person`, or `unknown`).
    pub proofing: String,
    /// The eKYC method (`photo_id_selfie`, `ic_chip`, `bank_reference`, `jpki`) or `""`.
    pub ekyc_method: String,
    /// Whether the policy describes notifications at all (`notifications: []` says "none";
    /// omitting the field says nothing).
    pub notifications_described: bool,
    /// Events that notify the holder on a contact registered before the event (recipient
    /// `registered_contact` or `both`): `account_linked`, `charge`, `password_changed`, ...
    pub notifies: Vec<String>,
    /// Events whose only notice goes to the contact supplied in the event itself.
    pub notifies_new_contact_only: Vec<String>,
    /// Transaction monitoring as an ordered level: 0 none, 1 rule_based, 2 realtime_scoring;
    /// -1 when not described.
    pub monitoring_level: i64,
    /// Whether a compensation policy is published.
    pub compensation_published: bool,
    /// What the compensation policy covers: `own_service`, `linked_services`, `full_amount`.
    pub compensation_scope: Vec<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FlowView {
    /// Flow id.
    pub id: String,
    /// Flow kind: `registration`, `login`, `account_linking`, `card_registration`, `charge`,
    /// `payment`, `transfer`, `password_reset`, `contact_change`, `device_activation`.
    pub kind: String,
    /// Number of steps.
    pub step_count: i64,
    /// Every factor named in any step.
    pub factors: Vec<String>,
    /// Factors that count: secrets of a real category (knowledge, possession, inherence).
    pub counting_factors: Vec<String>,
    /// Factors that prove nothing: non-secrets (name, account number, date of birth, card
    /// data) and factors of category none (email codes and links).
    pub non_counting_factors: Vec<String>,
    /// Factors an online guesser can search: those with a key space in the catalogue (PINs,
    /// one-time codes, a card's security code and expiry) and knowledge secrets without one
    /// (passwords, answers to questions).
    pub enumerable_factors: Vec<String>,
    /// Distinct categories of the counting factors, sorted; a multi-factor authenticator adds
    /// the category of what unlocks it (a passkey's biometric: inherence).
    pub categories: Vec<String>,
    /// Number of independent categories among the counting factors (0 to 3). Non-secrets do
    /// not count as knowledge, so name + account number + PIN is 1.
    pub independent_categories: i64,
    /// Whether any step sends a code, link or prompt to a contact.
    pub has_delivered_factor: bool,
    /// Whether every code, link or prompt goes to a contact registered earlier (true when the
    /// flow sends none).
    pub codes_to_registered_contact_only: bool,
    /// Whether any code or link goes to a contact supplied in the same flow (the 7pay reset).
    pub codes_to_supplied_contact: bool,
    /// Whether an SMS or voice code is used (NIST "restricted" authenticators).
    pub uses_restricted_factor: bool,
    /// Whether at least one counting factor is phishing-resistant.
    pub phishing_resistant: bool,
    /// Whether every counting factor is replay-resistant (false when none counts).
    pub replay_resistant: bool,
    /// Whether at least one counting factor is replay-resistant (NIST AAL2).
    pub any_replay_resistant: bool,
    /// Whether the failed-attempt limit is described at all.
    pub attempts_described: bool,
    /// Whether failed attempts are limited (described with a scope other than `none`).
    pub attempt_limited: bool,
    /// Failures allowed before lockout; 0 when not limited.
    pub attempt_max: i64,
    /// What the failure counter is kept per: `account`, `device`, `ip`, `card_number`, `none`,
    /// or `unknown` when not described.
    pub attempt_scope: String,
    /// `temporary`, `permanent`, or `""`.
    pub lockout: String,
    /// How long a temporary lockout lasts, in seconds; 0 when permanent or not limited.
    pub lockout_seconds: i64,
    /// Chance that an online guesser passes each step, in step order: the product over the
    /// step's factors of min(1, attempts / key space) for factors with a key space (attempts
    /// is `attempt_max`; without a limit any such factor gives 1), 1 for a non-secret without
    /// a key space (the guesser knows it), 0 for a secret without one (a device key), and 1
    /// for a code or link sent to a contact the requester supplied.
    pub step_guess_chances: Vec<f64>,
    /// Chance that such a guesser passes the whole flow: the product of the step chances.
    pub guess_chance: f64,
    /// Whether completions of the flow are rate-limited (`limits.velocity`).
    pub velocity_limited: bool,
    /// Whether a per-transaction or per-day amount limit is set.
    pub amount_limited: bool,
    /// Name matching: `none`, `warn`, `block`, or `unspecified`.
    pub name_matching: String,
    /// Cooling-off before the new link, token or device can move money, in seconds (0: none).
    pub cooling_off_seconds: i64,
    /// Whether the holder is told of this flow's event (account_linking → `account_linked`,
    /// charge → `charge`, password_reset → `password_changed`, ...) on a contact registered
    /// before the event.
    pub notifies_holder: bool,
    /// When that notice goes out: `immediate`, `batched`, `unspecified` (no timing given), or
    /// `none` when there is no such notice.
    pub notification_timing: String,
    /// Amount at or above which that notice is sent; 0 when every event is notified or there
    /// is no notice.
    pub notification_threshold: i64,
    /// Whether this flow hands authentication to other services' flows (`delegates_to`).
    pub delegates: bool,
    /// The flows that finally authenticate the holder for this one, following delegation
    /// through gateways; empty when the flow does not delegate.
    pub delegated: Vec<DelegateView>,
    /// Fewest independent categories among the delegated flows; -1 when none.
    pub weakest_delegate_categories: i64,
    /// Highest guess chance among the delegated flows; -1 when none.
    pub weakest_delegate_guess_chance: f64,
    /// Services allowed to start this flow (`initiated_by`), following gateways back to the
    /// services that start them.
    pub initiators: Vec<String>,
    /// Lowest identity-proofing level among the initiators; -1 when none or unknown.
    pub weakest_initiator_proofing_level: i64,
}

/// A flow of another service that authenticates the holder for a delegating flow.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DelegateView {
    /// `<service id>/<flow id>`.
    pub flow: String,
    /// Kind of the delegate's service.
    pub service_kind: String,
    /// `independent_categories` of that flow.
    pub independent_categories: i64,
    /// `guess_chance` of that flow.
    pub guess_chance: f64,
    /// `attempt_limited` of that flow.
    pub attempt_limited: bool,
    /// `notifies_holder` of that flow.
    pub notifies_holder: bool,
}
