//! When a rule applies: the days its cited sources take effect and stop applying. A rule is in
//! force on a day when at least one of its citations names a source in force that day; a rule
//! that cites only undated material (the project's own analysis) is always in force.

use super::{Rule, RulePack};
use crate::model::{Day, parse_day_or_month};

/// The days a source applies: from `effective`, until (not including) `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: Day,
    pub until: Option<Day>,
}

impl Window {
    pub fn contains(&self, day: Day) -> bool {
        self.from <= day && self.until.is_none_or(|end| day < end)
    }
}

impl RulePack {
    /// The window of a source of this pack, when it states when it takes effect. Malformed
    /// dates are refused when the pack loads.
    pub fn window(&self, source: &str) -> Option<Window> {
        let doc = self.source(source)?;
        let from = parse_day_or_month(doc.effective.as_deref()?).ok()?;
        let until = doc
            .until
            .as_deref()
            .and_then(|u| parse_day_or_month(u).ok());
        Some(Window { from, until })
    }

    fn windows(&self, rule: &Rule) -> Vec<Window> {
        rule.spec
            .citations
            .iter()
            .filter_map(|c| self.window(&c.document))
            .collect()
    }

    /// Whether `rule` of this pack is in force on `day`.
    pub fn in_force(&self, rule: &Rule, day: Day) -> bool {
        let windows = self.windows(rule);
        windows.is_empty() || windows.iter().any(|w| w.contains(day))
    }

    /// The earliest day on which a source that makes `rule` apply on `day` took effect; `None`
    /// when the rule rests on no dated source.
    pub fn in_force_since(&self, rule: &Rule, day: Day) -> Option<Day> {
        self.windows(rule)
            .into_iter()
            .filter(|w| w.contains(day))
            .map(|w| w.from)
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::Window;

    #[test]
    fn a_window_includes_its_first_day_and_excludes_its_end() {
        let w = Window {
            from: (2020, 9, 15),
            until: Some((2025, 8, 1)),
        };
        assert!(!w.contains((2020, 9, 14)));
        assert!(w.contains((2020, 9, 15)));
        assert!(w.contains((2025, 7, 31)));
        assert!(!w.contains((2025, 8, 1)));
        let open = Window {
            from: (2019, 9, 14),
            until: None,
        };
        assert!(open.contains((2999, 1, 1)));
    }
}
