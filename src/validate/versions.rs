//! Fields and values that format v2 added: a file that says `version: 1` may not use them,
//! because a v1 reader would not understand them and the author may have meant v1 semantics.

use crate::diagnostic::Code;
use crate::yaml::YamlPath;
use serde_json::Value;

const TOP: &[&str] = &["contacts", "messages", "password_policy"];
const FLOW: &[&str] = &[
    "payout",
    "replaces_contact",
    "old_contact_notified",
    "usable_before_activation",
    "usable_before_delivery",
];
const STEP: &[&str] = &["contact", "record_of", "attempts", "enforcement"];
const NOTICE: &[&str] = &["sent", "contacts"];
const MONITORING: &[&str] = &["signals", "holds_suspicious_outflow", "kill_switch"];
const KINDS: &[&str] = &[
    "card_issuance",
    "payee_registration",
    "payout_account_change",
    "trade",
];
const EVENTS: &[&str] = &[
    "card_issued",
    "payee_registered",
    "payout_account_changed",
    "trade",
];

/// Where a diagnostic goes: code, path, message, hint.
pub type Report<'a> = dyn FnMut(Code, YamlPath, String, &str) + 'a;

const HINT: &str =
    "set `version: 2` (run `authaudit migrate FILE` to upgrade the rest of the file)";

/// Reports every v2 field or value in a file that says `version: 1`.
pub fn check_v1_fields(report: &mut Report<'_>, json: &Value) {
    let root = YamlPath::root();
    fields(report, json, &root, TOP);
    if let Some(monitoring) = json.get("monitoring") {
        fields(report, monitoring, &root.key("monitoring"), MONITORING);
    }
    for (i, notice) in array(json.get("notifications")).iter().enumerate() {
        let path = root.key("notifications").index(i);
        fields(report, notice, &path, NOTICE);
        value(report, notice, &path, "event", EVENTS);
    }
    let Some(flows) = json.get("flows").and_then(Value::as_object) else {
        return;
    };
    for (id, flow) in flows {
        let path = root.key("flows").key(id.clone());
        fields(report, flow, &path, FLOW);
        value(report, flow, &path, "kind", KINDS);
        value(report, flow, &path, "cooling_off", &["none"]);
        if let Some(attempts) = flow.pointer("/limits/attempts") {
            let at = path.key("limits").key("attempts");
            value(report, attempts, &at, "scope", &["credential"]);
        }
        for (i, step) in array(flow.get("steps")).iter().enumerate() {
            fields(report, step, &path.key("steps").index(i), STEP);
        }
    }
}

fn array(value: Option<&Value>) -> &[Value] {
    value.and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

fn fields(report: &mut Report<'_>, object: &Value, path: &YamlPath, names: &[&str]) {
    for name in names {
        if object.get(*name).is_some() {
            report(
                Code::FieldNeedsV2,
                path.key(*name),
                format!("`{name}` is new in format v2, but the file says `version: 1`"),
                HINT,
            );
        }
    }
}

fn value(report: &mut Report<'_>, object: &Value, path: &YamlPath, field: &str, new: &[&str]) {
    if let Some(text) = object.get(field).and_then(Value::as_str)
        && new.contains(&text)
    {
        report(
            Code::FieldNeedsV2,
            path.key(field),
            format!("`{field}: {text}` is new in format v2, but the file says `version: 1`"),
            HINT,
        );
    }
}
