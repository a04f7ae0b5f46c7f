//! "Did you mean" suggestions for misspelt names.

/// The candidate closest to `given`, if one is close enough to be a likely typo.
pub fn closest<'a>(given: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (strsim::jaro_winkler(given, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn suggests_near_misses_only() {
        let kinds = ["account_linking", "login", "password_reset"];
        assert_eq!(
            closest("acount_linking", kinds.into_iter()),
            Some("account_linking")
        );
        assert_eq!(
            closest("password_rest", kinds.into_iter()),
            Some("password_reset")
        );
        assert_eq!(closest("zzz", kinds.into_iter()), None);
    }
}
