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
    /// Whether an account can be opened on images of an identity document (document upload,
    /// or eKYC by photo ID and selfie), which a forged document passes: `yes`, `no`, or
    /// `unknown` when the proofing is not described.
    pub proofing_accepts_document_images: String,
    /// Events that notify the holder on a contact registered before the event (recipient
    /// `registered_contact` or `both`): `account_linked`, `charge`, `password_changed`, ...
    pub notifies: Vec<String>,
    /// Events whose only notice goes to the contact supplied in the event itself.
    pub notifies_new_contact_only: Vec<String>,
    /// Events for which the policy states that no notice is sent (`sent: false`).
    pub notices_none: Vec<String>,
    /// Whether monitoring is described.
    pub monitoring_described: bool,
    /// Transaction monitoring as an ordered level: 0 none, 1 rule_based, 2 realtime_scoring;
    /// -1 when not described.
    pub monitoring_level: i64,
    /// Whether the signals monitoring watches are described.
    pub monitoring_signals_described: bool,
    /// Signals watched: `new_device`, `new_link`, `new_payee`, `velocity`, `amount`,
    /// `geolocation`, `recent_contact_change`.
    pub monitoring_signals: Vec<String>,
    /// Whether a suspicious outflow is held for review: `yes`, `no`, `unknown`.
    pub holds_suspicious_outflow: String,
    /// Whether the operator can stop a flow for everyone at once: `yes`, `no`, `unknown`.
    pub kill_switch: String,
    /// Whether the policy describes compensation at all.
    pub compensation_described: bool,
    /// Whether a compensation policy is published (false also when not described: read
    /// `compensation_described` first).
    pub compensation_published: bool,
    /// Whether what the compensation policy covers is described (`compensation.scope`).
    pub compensation_scope_described: bool,
    /// What the compensation policy covers: `own_service`, `linked_services`, `full_amount`.
    pub compensation_scope: Vec<String>,
    /// Whether the service's messages contain links: `yes`, `no`, `unknown`.
    pub messages_contain_links: String,
    /// Whether a password policy is described.
    pub password_policy_described: bool,
    /// Minimum password length; 0 when not described.
    pub password_min_length: i64,
    /// Whether passwords are screened against breached lists: `yes`, `no`, `unknown`.
    pub password_blocklist: String,
    /// Whether the contacts of record are described (`contacts`).
    pub contacts_described: bool,
    /// The contacts of record, by id.
    pub contacts: Vec<ContactView>,
}

/// A contact of record and what can replace it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ContactView {
    /// Contact id.
    pub id: String,
    /// `email`, `phone`, `postal_address`, `app_push`.
    pub kind: String,
    /// `holder_after_proofing`, `account_opener`, or `unknown`.
    pub registered_by: String,
    /// Ids of the contact_change flows that replace it.
    pub replaced_by: Vec<String>,
    /// Fewest independent categories among those flows; -1 when none replaces it.
    pub weakest_change_categories: i64,
    /// Whether every such change tells the old contact: `yes`, `no` (one does not),
    /// `unknown`, or `""` when none replaces it.
    pub change_tells_old_contact: String,
}

/// One step of a flow.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct StepView {
    /// Factors named in the step.
    pub factors: Vec<String>,
    /// `mandatory`, `default_on`, `opt_in`, or `unspecified` (read as mandatory: a listed
    /// step is passed by everyone unless the policy says otherwise).
    pub enforcement: String,
    /// Whether a failed-attempt limit covers this step (its own `attempts` or the flow's).
    pub attempts_described: bool,
    /// Whether failures at this step are limited.
    pub attempt_limited: bool,
    /// Failures allowed; 0 when not limited.
    pub attempt_max: i64,
    /// Counter scope: `account`, `credential`, `card_number`, `device`, `ip`, `none`, or
    /// `unknown`.
    pub attempt_scope: String,
    /// Chance an online guesser passes the step; -1 when it cannot be judged.
    pub guess_chance: f64,
    /// `registered_contact`, `contact_supplied_in_flow`, or `""` when nothing is sent.
    pub delivered_to: String,
    /// `<service>/<contact>` the code goes to, or `""` when not described or nothing is sent.
    pub contact: String,
    /// Who registered that contact: `holder_after_proofing`, `account_opener`, `requester`
    /// (supplied in this flow), `unknown`, or `""` when nothing is sent.
    pub contact_registered_by: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FlowView {
    /// Flow id.
    pub id: String,
    /// Flow kind: `registration`, `login`, `account_linking`, `card_registration`, `charge`,
    /// `payment`, `transfer`, `password_reset`, `contact_change`, `device_activation`,
    /// `card_issuance`, `payee_registration`, `payout_account_change`, `trade`.
    pub kind: String,
    /// Number of steps.
    pub step_count: i64,
    /// The steps, in order.
    pub steps: Vec<StepView>,
    /// Number of steps only holders who opted in pass (`enforcement: opt_in`); they add no
    /// category below.
    pub opt_in_steps: i64,
    /// Every factor named in any step.
    pub factors: Vec<String>,
    /// Factors that count: secrets of a real category (knowledge, possession, inherence), in
    /// steps every holder passes, and not sent to a contact the requester supplied.
    pub counting_factors: Vec<String>,
    /// Factors that prove nothing: non-secrets (name, account number, date of birth, card
    /// data), factors of category none (email codes and links), codes sent to a contact the
    /// requester supplied, and factors of opt-in steps.
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
    /// Whether any code or link goes to a contact supplied in the same flow (the 7pay reset).
    pub codes_to_supplied_contact: bool,
    /// Whether an SMS or voice code is used (NIST "restricted" authenticators).
    pub uses_restricted_factor: bool,
    /// Whether at least one counting factor is phishing-resistant.
    pub phishing_resistant: bool,
    /// Whether a failed-attempt limit is described for every step with a guessable factor
    /// (for the flow when no step has one).
    pub attempts_described: bool,
    /// Whether failed attempts are limited at every such step.
    pub attempt_limited: bool,
    /// Whether the policy states that failures are not limited (`scope: none`) at some step
    /// with a guessable factor.
    pub attempt_unlimited_step: bool,
    /// Most failures allowed at any such step whose limit is described (the weakest stated
    /// limit, even when other steps leave theirs undescribed); 0 when none is stated.
    pub attempt_max: i64,
    /// What the failure counter is kept per: `account`, `credential`, `card_number`,
    /// `device`, `ip`, `none`, `mixed` (steps differ), or `unknown` when not described.
    pub attempt_scope: String,
    /// Whether every limited step's counter follows the account, credential or card under
    /// attack (not only a device or IP address, which a guesser changes at will).
    pub attempt_scope_follows_target: bool,
    /// `temporary` (any stated limit's lockout is temporary), `permanent`, or `""` when no
    /// limit is stated.
    pub lockout: String,
    /// Shortest temporary lockout of any stated limit, in seconds; 0 when all are permanent
    /// or none is stated.
    pub lockout_seconds: i64,
    /// Chance that an online guesser passes each step, in step order; -1 for a step whose
    /// chance cannot be judged (a guessable factor whose attempt limit, or a password whose
    /// policy, is not described). Per factor: min(1, attempts / key space) for a guessable
    /// secret, 1 for a non-secret (the guesser knows it), 0 for a key held in a device, and 1
    /// for a code sent to a contact the requester supplied.
    pub step_guess_chances: Vec<f64>,
    /// Whether the flow's guess chance can be judged.
    pub guess_chance_known: bool,
    /// Chance that such a guesser passes the whole flow: the product of the step chances;
    /// 0 when some step cannot be guessed at all; -1 when it cannot be judged.
    pub guess_chance: f64,
    /// Whether velocity limits are described (`limits.velocity`; `[]` says none).
    pub velocity_described: bool,
    /// Whether completions of the flow are rate-limited.
    pub velocity_limited: bool,
    /// What the velocity limits are kept per: `account`, `device`, `ip`, `card_number`,
    /// `bank_account` (sorted, without repeats).
    pub velocity_scopes: Vec<String>,
    /// Whether a factor of a step every holder passes signs the transaction itself (amount and
    /// payee, or the changed data, shown and bound into the approval: transaction signing,
    /// dynamic linking). An SMS code or a plain approval prompt does not.
    pub transaction_signing: bool,
    /// Whether amount limits are described (`limits.amounts`).
    pub amounts_described: bool,
    /// Whether a per-transaction or per-day amount limit is set.
    pub amount_limited: bool,
    /// Name matching: `none`, `warn`, `block`, or `unspecified`.
    pub name_matching: String,
    /// Whether the cooling-off is described (`cooling_off`, `none` included).
    pub cooling_off_described: bool,
    /// Cooling-off before the new link, payee, card, device or contact can move money, in
    /// seconds; 0 when `none` or not described.
    pub cooling_off_seconds: i64,
    /// Where the flow may pay out to: `any_account`, `same_name_only`, `pre_registered_only`,
    /// or `unknown`.
    pub payout_constraint: String,
    /// Services the flow may pay out to, when described.
    pub payout_services: Vec<String>,
    /// card_issuance: usable before activation: `yes`, `no`, `unknown` (`""` other kinds).
    pub usable_before_activation: String,
    /// card_issuance: usable before proof of delivery: `yes`, `no`, `unknown`.
    pub usable_before_delivery: String,
    /// contact_change: the contact id it replaces, or `""`.
    pub replaces_contact: String,
    /// contact_change: whether the old contact is told: `yes`, `no`, `unknown`.
    pub old_contact_notified: String,
    /// Who receives this flow's codes: `none` (no code), `requester` (a contact supplied in
    /// the flow), `account_opener` (a record whoever opened the account registered),
    /// `holder` (every code to a record registered by the proofed holder), or `unknown`.
    pub codes_reach: String,
    /// Fewest independent categories of a contact_change flow that can replace a contact
    /// this flow's codes go to; -1 when none can or the contacts are not described.
    pub code_contact_weakest_change_categories: i64,
    /// The state of the notice for this flow's event: `holder` (to a contact registered
    /// before the event), `new_contact_only`, `none` (stated: no notice), `unknown`.
    pub notification: String,
    /// Whether the notice for this flow's event is described (any state but `unknown`).
    pub notification_described: bool,
    /// Whether the holder is told of this flow's event (account_linking → `account_linked`,
    /// charge → `charge`, password_reset → `password_changed`, ...) on a contact registered
    /// before the event.
    pub notifies_holder: bool,
    /// Who that notice reaches: `holder`, `account_opener` (a contact the account's opener
    /// registered), or `unknown` (contacts not named or not described); `""` without notice.
    pub notice_reaches: String,
    /// When that notice goes out: `immediate`, `batched`, `unspecified` (no timing given),
    /// `none` when there is no such notice, or `unknown` when the notice is not described.
    pub notification_timing: String,
    /// Amount at or above which that notice is sent; 0 when every event is notified, there is
    /// no notice, or the notice is not described (read `notification` first).
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
    /// Bundled attacker profiles (`rules/attackers/`, e.g. `leaked-bank-credentials`) with a
    /// chain to money out that runs through this flow, as a step or as a flow a link is handed
    /// to (`authaudit paths`); sorted. Only chains the policies fully describe count.
    pub attack_chains: Vec<String>,
    /// Profiles whose only chains through this flow rest on facts the policies do not
    /// describe: the tool cannot judge whether they work.
    pub attack_chains_undetermined: Vec<String>,
}

/// A flow of another service that authenticates the holder for a delegating flow.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DelegateView {
    /// `<service id>/<flow id>`.
    pub flow: String,
    /// `independent_categories` of that flow.
    pub independent_categories: i64,
    /// `guess_chance` of that flow.
    pub guess_chance: f64,
}
