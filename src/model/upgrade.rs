//! Reading format v1: a v1 policy is upgraded in memory to v2, and every place where the
//! meaning had to be made explicit is reported as a note, so nothing changes silently.

use super::{Notification, NotificationEvent, Policy};

/// One change the upgrade made: the top-level field it concerns and what changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeNote {
    /// Top-level key of the policy file (`notifications`, `version`).
    pub field: &'static str,
    pub message: String,
}

/// The v1 events a v1 `notifications` list leaves out: v1 meant "no notice" for them, v2
/// reads an unlisted event as "not described", so the upgrade states them as `sent: false`.
pub fn v1_unlisted_events(notifications: &[Notification]) -> Vec<NotificationEvent> {
    NotificationEvent::V1
        .into_iter()
        .filter(|event| !notifications.iter().any(|n| n.event == *event))
        .collect()
}

/// The explicit "no notice" entry for `event`.
pub fn no_notice(event: NotificationEvent) -> Notification {
    Notification {
        event,
        sent: Some(false),
        channels: None,
        recipient: None,
        contacts: None,
        timing: None,
        threshold: None,
    }
}

/// Upgrades a v1 policy to v2 in place; a v2 policy is left alone and gives no notes.
pub fn upgrade(policy: &mut Policy) -> Vec<UpgradeNote> {
    if policy.version != 1 {
        return Vec::new();
    }
    policy.version = 2;
    let mut notes = vec![UpgradeNote {
        field: "version",
        message: "format v1, read as v2; `authaudit migrate` rewrites the file".to_owned(),
    }];
    if policy
        .compensation
        .as_ref()
        .is_some_and(|c| c.scope.is_none())
    {
        notes.push(UpgradeNote {
            field: "compensation",
            message: "v1 read an omitted `compensation.scope` as covering nothing; v2 reads it as not described (write `scope: []` if the policy covers nothing)".to_owned(),
        });
    }
    let no_velocity: Vec<&str> = policy
        .flows
        .iter()
        .filter(|(_, f)| f.limits.as_ref().is_some_and(|l| l.velocity.is_none()))
        .map(|(id, _)| id.as_str())
        .collect();
    if !no_velocity.is_empty() {
        notes.push(UpgradeNote {
            field: "flows",
            message: format!(
                "v1 read an omitted `limits.velocity` as \"no velocity limit\"; v2 reads it as not described (write `velocity: []` for none) in {}",
                no_velocity.iter().map(|id| format!("`{id}`")).collect::<Vec<_>>().join(", ")
            ),
        });
    }
    if let Some(list) = policy.notifications.as_mut() {
        let unlisted = v1_unlisted_events(list);
        if !unlisted.is_empty() {
            let names: Vec<String> = unlisted
                .iter()
                .map(|e| format!("`{}`", super::name_of(e)))
                .collect();
            notes.push(UpgradeNote {
                field: "notifications",
                message: format!(
                    "in v1 a `notifications` list meant \"no notice\" for every event it leaves out; read as `sent: false` for {}",
                    names.join(", ")
                ),
            });
            list.extend(unlisted.into_iter().map(no_notice));
        }
    }
    notes
}
