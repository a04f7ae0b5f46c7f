//! The factor catalogue: what each factor a policy may name is, as data (`rules/factors.yaml`).
//!
//! Policies name factors; the catalogue says which category each counts as, whether it is a
//! secret at all, how large its key space is and how it is delivered. The bundled catalogue is
//! compiled into the binary so the tool works from any directory.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The bundled catalogue, embedded at build time.
pub const BUNDLED: &str = include_str!("../rules/factors.yaml");

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Knowledge,
    Possession,
    Inherence,
    /// Counts as no factor at all.
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryChannel {
    Sms,
    Voice,
    Email,
    App,
}

/// One kind of thing a person can present.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Factor {
    pub name: String,
    pub category: Category,
    /// Whether the value is a secret at all.
    pub secret: bool,
    /// Number of equally likely values an online guesser must search, where guessable.
    #[serde(default)]
    pub key_space: Option<u64>,
    /// How the code, link or prompt reaches the person, for factors sent to a contact.
    #[serde(default)]
    pub delivered_by: Option<DeliveryChannel>,
    pub phishing_resistant: bool,
    pub replay_resistant: bool,
    /// A NIST SP 800-63B "restricted" authenticator.
    #[serde(default)]
    pub restricted: bool,
    /// For a multi-factor authenticator: the second category it proves when used, through
    /// the biometric or PIN that unlocks it on the holder's device or card.
    #[serde(default)]
    pub unlock: Option<Category>,
    /// Requirement ids (shared/regulations.md) that justify the category assignment.
    #[serde(default)]
    pub basis: Vec<String>,
    pub description: String,
}

impl Factor {
    /// Whether presenting the factor proves anything: a secret of a real category.
    pub fn counts(&self) -> bool {
        self.secret && self.category != Category::None
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    pub factors: Vec<Factor>,
}

impl Catalogue {
    /// The catalogue shipped with authaudit.
    pub fn bundled() -> Self {
        Self::parse(BUNDLED).unwrap_or_else(|error| {
            // The bundled file is checked by the test suite; failing here is a build defect.
            panic!("the bundled factor catalogue is invalid: {error}")
        })
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let catalogue: Catalogue = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
        let mut names: Vec<&str> = catalogue.factors.iter().map(|f| f.name.as_str()).collect();
        names.sort_unstable();
        if let Some(pair) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("factor `{}` is listed twice", pair[0]));
        }
        Ok(catalogue)
    }

    pub fn get(&self, name: &str) -> Option<&Factor> {
        self.factors.iter().find(|f| f.name == name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.factors.iter().map(|f| f.name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_catalogue_loads_and_classifies_the_incident_factors() {
        let catalogue = Catalogue::bundled();
        let pin = catalogue.get("cash_card_pin").unwrap();
        assert_eq!(pin.category, Category::Knowledge);
        assert_eq!(pin.key_space, Some(10_000));
        assert!(pin.counts());
        for data in [
            "holder_name",
            "account_number",
            "date_of_birth",
            "card_security_code",
        ] {
            assert!(
                !catalogue.get(data).unwrap().counts(),
                "{data} must not count"
            );
        }
        assert_eq!(
            catalogue.get("card_security_code").unwrap().key_space,
            Some(1_000)
        );
        assert!(!catalogue.get("email_link").unwrap().counts());
        assert!(catalogue.get("sms_otp").unwrap().delivered_by.is_some());
    }

    #[test]
    fn duplicate_factor_names_are_refused() {
        let text = "factors:\n  - {name: a, category: none, secret: false, phishing_resistant: false, replay_resistant: false, description: x}\n  - {name: a, category: none, secret: false, phishing_resistant: false, replay_resistant: false, description: y}\n";
        assert!(Catalogue::parse(text).unwrap_err().contains("listed twice"));
    }
}
