//! Checks within one file that JSON Schema cannot express well: real calendar dates, delivery
//! of one-time codes, consistency of attempt limits, fields that only make sense on some flows.
//!
//! Works part by part on the JSON form, so a schema error in one flow does not hide the
//! problems of the others.

use crate::diagnostic::{Code, Diagnostic};
use crate::factors::Catalogue;
use crate::factors::DeliveryChannel;
use crate::model::{
    AttemptLimit, AttemptScope, Contact, ContactKind, Delivery, Flow, FlowKind, IdentityProofing,
    Lockout, Monitoring, MonitoringLevel, Notification, NotificationEvent, ProofingLevel,
    Recipient, Step, parse_date,
};
use crate::suggest::closest;
use crate::yaml::{Node, YamlPath};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeMap;

struct FileContext<'a> {
    file: &'a str,
    tree: &'a Node,
    found: Vec<Diagnostic>,
}

impl FileContext<'_> {
    fn report(&mut self, code: Code, path: YamlPath, message: String, hint: &str) {
        let span = self
            .tree
            .get(&path)
            .map(|n| n.span)
            .or_else(|| self.tree.key_span(&path))
            .unwrap_or(self.tree.span);
        // A replaced factor is still judged as before; naming it only loses precision.
        let diagnostic = if code == Code::ReplacedFactor {
            Diagnostic::warning(code, self.file, message)
        } else {
            Diagnostic::error(code, self.file, message)
        };
        self.found
            .push(diagnostic.with_span(span).with_path(path).with_hint(hint));
    }

    /// The value at `path` as `T`, if it has that shape (schema errors are reported elsewhere).
    fn typed<T: DeserializeOwned>(json: &Value, pointer: &str) -> Option<T> {
        json.pointer(pointer)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }
}

/// Semantic diagnostics for one file, given its tree and JSON form.
pub fn check_file(file: &str, tree: &Node, json: &Value, catalogue: &Catalogue) -> Vec<Diagnostic> {
    let mut cx = FileContext {
        file,
        tree,
        found: Vec::new(),
    };
    check_dates(&mut cx, json);
    let version = json.get("version").and_then(Value::as_u64);
    if version == Some(1) {
        super::versions::check_v1_fields(
            &mut |code, path, message, hint| cx.report(code, path, message, hint),
            json,
        );
    }
    check_ids(&mut cx, json);
    let contacts: Option<BTreeMap<String, Contact>> = FileContext::typed(json, "/contacts");
    if let Some(flows) = json.get("flows").and_then(Value::as_object) {
        for (id, flow_json) in flows {
            let Ok(flow) = serde_json::from_value::<Flow>(flow_json.clone()) else {
                continue;
            };
            let path = YamlPath::root().key("flows").key(id.clone());
            check_flow(&mut cx, &path, &flow, catalogue, contacts.as_ref());
            check_kind_fields(&mut cx, &path, &flow, version == Some(1));
            if version != Some(1) {
                check_replaced_factors(&mut cx, &path, &flow, catalogue);
            }
        }
    }
    if let Some(list) = json.get("notifications").and_then(Value::as_array) {
        let mut notices = Vec::new();
        for (i, notice) in list.iter().enumerate() {
            let Ok(notice) = serde_json::from_value::<Notification>(notice.clone()) else {
                continue;
            };
            let path = YamlPath::root().key("notifications").index(i);
            check_notification(&mut cx, &path, &notice, contacts.as_ref());
            notices.push((path, notice));
        }
        check_notices_agree(&mut cx, &notices);
        if list.is_empty() && version != Some(1) {
            cx.report(
                Code::InconsistentNotification,
                YamlPath::root().key("notifications"),
                "an empty `notifications` list says nothing in format v2: events are described one by one".to_owned(),
                "state each event without a notice as `- {event: charge, sent: false}`, or remove the list",
            );
        }
        if let Some(flows) = json.get("flows").and_then(Value::as_object) {
            check_old_contact_told(&mut cx, flows, &notices);
        }
    }
    if let Ok(Some(monitoring)) = serde_json::from_value::<Option<Monitoring>>(
        json.get("monitoring").cloned().unwrap_or(Value::Null),
    ) {
        check_monitoring(&mut cx, &monitoring);
    }
    cx.found
}

/// A setting that rules out other fields of the same object.
struct Against {
    code: Code,
    /// The setting, quoted and explained: "`scope: none`, which says ...".
    setting: &'static str,
    hint: &'static str,
}

/// Reports every field of `fields` that is set although `against` rules it out.
fn report_contradicting(
    cx: &mut FileContext<'_>,
    object: &YamlPath,
    fields: &[(&str, bool)],
    against: &Against,
) {
    for (field, _) in fields.iter().filter(|(_, set)| *set) {
        cx.report(
            against.code,
            object.key(*field),
            format!("`{field}` contradicts {}", against.setting),
            against.hint,
        );
    }
}

/// One event described both as sent and as not sent.
fn check_notices_agree(cx: &mut FileContext<'_>, notices: &[(YamlPath, Notification)]) {
    for (i, (path, notice)) in notices.iter().enumerate() {
        let silent = notice.sent == Some(false);
        let earlier = notices[..i].iter().find(|(_, other)| {
            other.event == notice.event && (other.sent == Some(false)) != silent
        });
        if let Some((first, _)) = earlier {
            let event = crate::model::name_of(&notice.event);
            cx.report(
                Code::Contradiction,
                path.key("event"),
                format!("`{event}` is described both as notified and as not notified (also at `{first}`)"),
                "keep one description of the event",
            );
        }
    }
}

/// A contact_change flow that says the old contact is not told, while the contact_changed
/// notice goes to the contact registered before the change.
fn check_old_contact_told(
    cx: &mut FileContext<'_>,
    flows: &serde_json::Map<String, Value>,
    notices: &[(YamlPath, Notification)],
) {
    let tells_old = notices.iter().find(|(_, n)| {
        n.event == NotificationEvent::ContactChanged
            && n.sent != Some(false)
            && matches!(
                n.recipient,
                Some(Recipient::RegisteredContact | Recipient::Both)
            )
    });
    let Some((notice_path, _)) = tells_old else {
        return;
    };
    for (id, flow) in flows {
        if flow.get("old_contact_notified").and_then(Value::as_bool) == Some(false) {
            cx.report(
                Code::Contradiction,
                YamlPath::root().key("flows").key(id.clone()).key("old_contact_notified"),
                format!("the old contact is said not to be told, but `{notice_path}` sends the contact_changed notice to it"),
                "correct one of the two",
            );
        }
    }
}

/// `level: none` with an action, signals or a hold.
fn check_monitoring(cx: &mut FileContext<'_>, monitoring: &Monitoring) {
    if monitoring.level != MonitoringLevel::None {
        return;
    }
    let given = [
        ("action", monitoring.action.is_some()),
        (
            "signals",
            monitoring.signals.as_ref().is_some_and(|s| !s.is_empty()),
        ),
        (
            "holds_suspicious_outflow",
            monitoring.holds_suspicious_outflow == Some(true),
        ),
    ];
    let against = Against {
        code: Code::Contradiction,
        setting: "`level: none`, which says nothing is monitored",
        hint: "remove it, or set `level` to rule_based or realtime_scoring",
    };
    report_contradicting(cx, &YamlPath::root().key("monitoring"), &given, &against);
}

/// Whether `c` is invisible or reorders text: two ids that differ only by such characters
/// would look identical in every report.
fn invisible(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}' | '\u{00ad}'
        )
}

/// Flow and contact ids (map keys the schema cannot constrain) free of invisible characters.
fn check_ids(cx: &mut FileContext<'_>, json: &Value) {
    for section in ["flows", "contacts"] {
        let Some(map) = json.get(section).and_then(Value::as_object) else {
            continue;
        };
        for id in map.keys().filter(|id| id.chars().any(invisible)) {
            let shown: String = id
                .chars()
                .map(|c| {
                    if invisible(c) {
                        format!("\\u{{{:x}}}", u32::from(c))
                    } else {
                        c.to_string()
                    }
                })
                .collect();
            let path = YamlPath::root().key(section).key(id.clone());
            let span = cx.tree.key_span(&path).unwrap_or(cx.tree.span);
            cx.found.push(
                Diagnostic::error(
                    Code::InvisibleCharacter,
                    cx.file,
                    format!("id `{shown}` contains an invisible or direction-changing character"),
                )
                .with_span(span)
                .with_path(path)
                .with_hint("ids are shown in every report: use letters, digits, `_` and `-` only"),
            );
        }
    }
}

/// Reports `contact` when it is not declared under `contacts`.
fn check_contact_declared(
    cx: &mut FileContext<'_>,
    path: YamlPath,
    contact: &str,
    contacts: Option<&BTreeMap<String, Contact>>,
) -> Option<ContactKind> {
    if let Some(found) = contacts.and_then(|c| c.get(contact)) {
        return Some(found.kind);
    }
    let hint = match contacts.and_then(|c| closest(contact, c.keys().map(String::as_str))) {
        Some(best) => format!("did you mean `{best}`?"),
        None => format!(
            "declare it: `contacts: {{{contact}: {{kind: phone, registered_by: holder_after_proofing}}}}`"
        ),
    };
    cx.report(
        Code::UnknownContact,
        path,
        format!("no contact `{contact}` is declared under `contacts`"),
        &hint,
    );
    None
}

fn check_notification(
    cx: &mut FileContext<'_>,
    path: &YamlPath,
    notice: &Notification,
    contacts: Option<&BTreeMap<String, Contact>>,
) {
    if notice.sent == Some(false) {
        let given = [
            ("channels", notice.channels.is_some()),
            ("recipient", notice.recipient.is_some()),
            ("contacts", notice.contacts.is_some()),
            ("timing", notice.timing.is_some()),
            ("threshold", notice.threshold.is_some()),
        ];
        let against = Against {
            code: Code::InconsistentNotification,
            setting: "`sent: false`, which says no notice is sent",
            hint: "remove it, or remove `sent: false` if the notice is sent",
        };
        report_contradicting(cx, path, &given, &against);
        return;
    }
    for (field, missing) in [
        ("channels", notice.channels.is_none()),
        ("recipient", notice.recipient.is_none()),
    ] {
        if missing {
            cx.report(
                Code::MissingField,
                path.clone(),
                format!("a notice that is sent needs `{field}`"),
                "add it, or write `sent: false` if no notice is sent for this event",
            );
        }
    }
    for (i, contact) in notice.contacts.iter().flatten().enumerate() {
        check_contact_declared(cx, path.key("contacts").index(i), contact, contacts);
    }
    if notice.recipient == Some(Recipient::NewContact) && notice.contacts.is_some() {
        cx.report(
            Code::Contradiction,
            path.key("contacts"),
            "`contacts` names contacts of record, but `recipient: new_contact` says the notice goes only to the contact supplied in the event".to_owned(),
            "use `recipient: both` if the contacts of record are told too, or remove `contacts`",
        );
    }
}

fn check_dates(cx: &mut FileContext<'_>, json: &Value) {
    let mut dates = Vec::new();
    if let Some(as_of) = FileContext::typed::<String>(json, "/service/as_of") {
        dates.push((YamlPath::root().key("service").key("as_of"), as_of));
    }
    if let Some(sources) = json.pointer("/service/sources").and_then(Value::as_array) {
        for (i, source) in sources.iter().enumerate() {
            if let Some(date) = source.get("date").and_then(Value::as_str) {
                let path = YamlPath::root()
                    .key("service")
                    .key("sources")
                    .index(i)
                    .key("date");
                dates.push((path, date.to_owned()));
            }
        }
    }
    for (path, text) in dates {
        // Malformed text is a schema (pattern) error; only well-formed impossible dates here.
        let well_formed = text.len() == 10 && text.chars().filter(|c| *c == '-').count() == 2;
        if let (true, Err(why)) = (well_formed, parse_date(&text)) {
            cx.report(
                Code::InvalidDate,
                path,
                format!("`{text}` is not a calendar date: {why}"),
                "write a date that exists, as YYYY-MM-DD",
            );
        }
    }
}

fn check_flow(
    cx: &mut FileContext<'_>,
    path: &YamlPath,
    flow: &Flow,
    catalogue: &Catalogue,
    contacts: Option<&BTreeMap<String, Contact>>,
) {
    for (i, step) in flow.steps.iter().enumerate() {
        let step_path = path.key("steps").index(i);
        check_step_contact(cx, &step_path, step, catalogue, contacts);
        if let Some(attempts) = &step.attempts {
            check_attempts(cx, &step_path.key("attempts"), attempts);
        }
        let delivered: Vec<&str> = step
            .verify
            .iter()
            .filter(|name| {
                catalogue
                    .get(name)
                    .is_some_and(|f| f.delivered_by.is_some())
            })
            .map(String::as_str)
            .collect();
        match (delivered.is_empty(), step.delivered_to.is_some()) {
            (false, false) => cx.report(
                Code::DeliveryMissing,
                step_path,
                format!(
                    "step sends {} but does not say where to",
                    delivered.iter().map(|d| format!("`{d}`")).collect::<Vec<_>>().join(", ")
                ),
                "add `delivered_to: registered_contact` or `delivered_to: contact_supplied_in_flow`",
            ),
            (true, true) => cx.report(
                Code::DeliveryWithoutDeliveredFactor,
                step_path.key("delivered_to"),
                "`delivered_to` is set but no factor of this step is sent to a contact".to_owned(),
                "remove `delivered_to`, or add the one-time code or link the step sends",
            ),
            _ => {}
        }
    }
    if let Some(proofing) = &flow.identity_proofing {
        check_proofing(cx, path, flow.kind, proofing);
    }
    if let Some(attempts) = flow.limits.as_ref().and_then(|l| l.attempts.as_ref()) {
        check_attempts(cx, &path.key("limits").key("attempts"), attempts);
    }
    if let Some(contact) = &flow.replaces_contact {
        check_contact_declared(cx, path.key("replaces_contact"), contact, contacts);
    }
}

/// Factors the catalogue has replaced by more precise ones (a 3-D Secure challenge that does
/// not say how it reaches the cardholder). Format v1 files may still name them.
fn check_replaced_factors(
    cx: &mut FileContext<'_>,
    path: &YamlPath,
    flow: &Flow,
    catalogue: &Catalogue,
) {
    for (i, step) in flow.steps.iter().enumerate() {
        for (j, name) in step.verify.iter().enumerate() {
            let Some(factor) = catalogue.get(name).filter(|f| !f.replaced_by.is_empty()) else {
                continue;
            };
            let choices: Vec<String> = factor
                .replaced_by
                .iter()
                .map(|r| format!("`{r}`"))
                .collect();
            cx.report(
                Code::ReplacedFactor,
                path.key("steps").index(i).key("verify").index(j),
                format!(
                    "`{name}` does not say how it reaches the person, which decides what it proves"
                ),
                &format!("name one of {} (with `delivered_to`)", choices.join(", ")),
            );
        }
    }
}

/// Fields that only some flow kinds may carry.
fn check_kind_fields(cx: &mut FileContext<'_>, path: &YamlPath, flow: &Flow, v1: bool) {
    let kind = flow.kind;
    if v1
        && flow.name_matching.is_some()
        && kind.moves_money_or_sets_destination()
        && !matches!(kind, FlowKind::AccountLinking | FlowKind::CardRegistration)
    {
        cx.report(
            Code::FieldNeedsV2,
            path.key("name_matching"),
            format!("`name_matching` on a `{}` flow is new in format v2, but the file says `version: 1`", kind_name(kind)),
            "set `version: 2` (run `authaudit migrate FILE` to upgrade the rest of the file)",
        );
    }
    let misplaced = [
        (
            "name_matching",
            flow.name_matching.is_some() && !kind.moves_money_or_sets_destination(),
            "flows that link an account or card, send money, or register a payee or payout account",
        ),
        (
            "cooling_off",
            // v1 took a cooling-off on any flow; the restriction is v2's.
            flow.cooling_off.is_some() && !kind.can_cool_off() && !v1,
            "flows that create a link, card, payee, payout account, device or contact, or reset a password",
        ),
        (
            "payout",
            flow.payout.is_some() && !kind.pays_out(),
            "transfer, payee_registration, payout_account_change, trade and charge flows",
        ),
        (
            "replaces_contact",
            flow.replaces_contact.is_some() && kind != FlowKind::ContactChange,
            "contact_change flows",
        ),
        (
            "old_contact_notified",
            flow.old_contact_notified.is_some() && kind != FlowKind::ContactChange,
            "contact_change flows",
        ),
        (
            "usable_before_activation",
            flow.usable_before_activation.is_some() && kind != FlowKind::CardIssuance,
            "card_issuance flows",
        ),
        (
            "usable_before_delivery",
            flow.usable_before_delivery.is_some() && kind != FlowKind::CardIssuance,
            "card_issuance flows",
        ),
    ];
    for (field, wrong, allowed) in misplaced {
        if wrong {
            cx.report(
                Code::MisplacedField,
                path.key(field),
                format!(
                    "`{field}` does not apply to a flow of kind `{}`",
                    kind_name(kind)
                ),
                &format!("it applies to {allowed}; move it there or remove it"),
            );
        }
    }
}

/// A step's `contact` and `record_of`: only with a code to a registered contact, declared,
/// and of a kind the code can be sent to.
fn check_step_contact(
    cx: &mut FileContext<'_>,
    path: &YamlPath,
    step: &Step,
    catalogue: &Catalogue,
    contacts: Option<&BTreeMap<String, Contact>>,
) {
    let registered = step.delivered_to == Some(Delivery::RegisteredContact);
    for (field, set) in [
        ("contact", step.contact.is_some()),
        ("record_of", step.record_of.is_some()),
    ] {
        if set && !registered {
            cx.report(
                Code::MisplacedField,
                path.key(field),
                format!("`{field}` names a contact of record, but the step does not send to one"),
                "use it with `delivered_to: registered_contact`, or remove it",
            );
        }
    }
    if step.record_of.is_some() && step.contact.is_none() && registered {
        cx.report(
            Code::MissingField,
            path.key("record_of"),
            "`record_of` says whose record the code goes to, but not which contact".to_owned(),
            "add `contact:` with the contact id declared by that service",
        );
    }
    // Another service's record is checked across files.
    let (Some(contact), None, true) = (&step.contact, &step.record_of, registered) else {
        return;
    };
    let Some(kind) = check_contact_declared(cx, path.key("contact"), contact, contacts) else {
        return;
    };
    for name in &step.verify {
        let Some(channel) = catalogue.get(name).and_then(|f| f.delivered_by) else {
            continue;
        };
        let fits = matches!(
            (channel, kind),
            (
                DeliveryChannel::Sms | DeliveryChannel::Voice,
                ContactKind::Phone
            ) | (DeliveryChannel::Email, ContactKind::Email)
                | (DeliveryChannel::App, ContactKind::AppPush)
        );
        if !fits {
            cx.report(
                Code::ContactMismatch,
                path.key("contact"),
                format!(
                    "`{name}` is sent by {}, but contact `{contact}` is of kind `{}`",
                    crate::model::name_of(&channel),
                    crate::model::name_of(&kind)
                ),
                "name a contact of the kind the factor is delivered to (sms and voice: phone; email: email; app: app_push)",
            );
        }
    }
}

fn check_proofing(
    cx: &mut FileContext<'_>,
    path: &YamlPath,
    kind: FlowKind,
    proofing: &IdentityProofing,
) {
    let here = path.key("identity_proofing");
    if kind != FlowKind::Registration {
        cx.report(
            Code::MisplacedField,
            here.clone(),
            format!(
                "`identity_proofing` describes account opening, but this flow is of kind `{}`",
                kind_name(kind)
            ),
            "move it to the service's registration flow",
        );
    }
    match (proofing.level, proofing.method) {
        (ProofingLevel::Ekyc, None) => cx.report(
            Code::MissingField,
            here,
            "`level: ekyc` needs the eKYC `method`".to_owned(),
            "add `method:` with one of photo_id_selfie, ic_chip, bank_reference, jpki",
        ),
        (level, Some(_)) if level != ProofingLevel::Ekyc => cx.report(
            Code::MisplacedField,
            here.key("method"),
            "`method` names an eKYC method, but `level` is not `ekyc`".to_owned(),
            "set `level: ekyc`, or remove `method`",
        ),
        _ => {}
    }
}

fn check_attempts(cx: &mut FileContext<'_>, here: &YamlPath, limit: &AttemptLimit) {
    if limit.scope == AttemptScope::None {
        let present = [
            ("max", limit.max.is_some()),
            ("window", limit.window.is_some()),
            ("lockout", limit.lockout.is_some()),
            ("lockout_duration", limit.lockout_duration.is_some()),
        ];
        let against = Against {
            code: Code::InconsistentLimit,
            setting: "`scope: none`, which says failures are not limited",
            hint: "remove it, or set `scope` to what the failure counter is kept per (account, credential, card_number, device, ip)",
        };
        report_contradicting(cx, here, &present, &against);
        return;
    }
    if limit.max.is_none() {
        cx.report(
            Code::MissingField,
            here.clone(),
            "an attempt limit needs `max`, the failures allowed before lockout".to_owned(),
            "add `max:`, or write `scope: none` if failures are not limited",
        );
    }
    match (limit.lockout, &limit.lockout_duration) {
        (None, _) => cx.report(
            Code::MissingField,
            here.clone(),
            "an attempt limit needs `lockout`: what happens at the limit".to_owned(),
            "add `lockout: temporary` with `lockout_duration`, or `lockout: permanent`",
        ),
        (Some(Lockout::Temporary), None) => cx.report(
            Code::MissingField,
            here.key("lockout"),
            "`lockout: temporary` needs `lockout_duration`".to_owned(),
            "add `lockout_duration:`, e.g. 30m",
        ),
        (Some(Lockout::Permanent), Some(_)) => cx.report(
            Code::InconsistentLimit,
            here.key("lockout_duration"),
            "`lockout_duration` contradicts `lockout: permanent`".to_owned(),
            "remove `lockout_duration`, or make the lockout temporary",
        ),
        _ => {}
    }
}

fn kind_name(kind: FlowKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
