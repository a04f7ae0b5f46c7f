//! The factor catalogue: what each factor a policy may name is, as data (`rules/factors.yaml`).
//!
//! Policies name factors; the catalogue says which category each counts as, whether it is a
//! secret at all, how large its key space is and how it is delivered. The bundled catalogue is
//! compiled into the binary so the tool works from any directory.

use crate::model::PasswordPolicy;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

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

/// Who picks the value of a knowledge factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChosenBy {
    /// The holder: values skew towards birth dates and patterns.
    Holder,
    /// The issuer or service, at random: every value equally likely.
    Issuer,
}

/// One kind of thing a person can present. The header of `rules/factors.yaml` documents
/// every field and the checks [`Catalogue::parse`] makes.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Factor {
    pub name: String,
    pub category: Category,
    /// Whether the value is a secret at all.
    pub secret: bool,
    /// Number of values an online guesser must search, where guessable.
    #[serde(default)]
    pub key_space: Option<u64>,
    /// For a secret the holder chooses: the number of equally likely values that would give a
    /// guesser who knows every non-secret the same chance as the real, skewed choices. Used
    /// instead of `key_space` by [`Factor::guess_chance`].
    #[serde(default)]
    pub effective_key_space: Option<u64>,
    /// For a knowledge factor: who picks its value.
    #[serde(default)]
    pub chosen_by: Option<ChosenBy>,
    /// The guessable space follows the service's stated password policy ([`password_space`]).
    #[serde(default)]
    pub space_from_password_policy: bool,
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
    /// Whether presenting the factor signs the transaction itself: the amount and payee (or
    /// the changed data) are shown to the holder and bound into what the factor produces, so a
    /// code or approval for one transaction cannot authorise another (transaction signing,
    /// dynamic linking).
    #[serde(default)]
    pub signs_transaction: bool,
    /// Whether a real-time phishing relay can forward it: the holder types the value or
    /// approves the prompt on a page the attacker controls, and the attacker presents it to
    /// the real service at once (attack paths, capability `realtime_phishing_relay`).
    #[serde(default)]
    pub relayable: bool,
    /// The card issuer runs this factor against its own record of the cardholder, whichever
    /// service asks for it (3-D Secure): its code reaches the cardholder, never a contact the
    /// requesting service holds.
    #[serde(default)]
    pub run_by_issuer: bool,
    /// The factor counts only in a step that also has a factor of this category counting on
    /// its own (a biometric bound to a device the holder has). See
    /// [`Catalogue::counting_in_step`].
    #[serde(default)]
    pub counts_only_with: Option<Category>,
    /// Names that state what this one leaves open; policies should name one of them.
    #[serde(default)]
    pub replaced_by: Vec<String>,
    /// Requirement ids (shared/regulations.md) that justify the category assignment.
    #[serde(default)]
    pub basis: Vec<String>,
    pub description: String,
}

/// How many failed attempts an online guesser gets at a factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tries {
    /// The policy does not say: the chance cannot be judged.
    Undescribed,
    /// The policy says failures are not limited.
    Unlimited,
    /// At most this many failures before lockout.
    Limited(u32),
}

impl Factor {
    /// Whether presenting the factor proves something on its own: a secret of a real category
    /// that needs no other factor beside it. Which factors count in a step, bound ones
    /// included, is [`Catalogue::counting_in_step`].
    pub fn counts(&self) -> bool {
        self.secret && self.category != Category::None && self.counts_only_with.is_none()
    }

    /// Chance that an online guesser who knows every non-secret passes this factor, or `None`
    /// when it cannot be judged from what the policy describes.
    ///
    /// The chance is `tries / space`, at most 1, where `space` is the `effective_key_space`
    /// (holder-chosen secrets), else the `key_space`. Without either:
    /// - a non-secret is known to the guesser: 1 (this includes a biometric, which whoever
    ///   holds the device it is checked on can pass; bound to a possession factor, that
    ///   factor's chance settles the step);
    /// - a factor whose space follows the password policy takes it from [`password_space`]:
    ///   unknown when no policy is stated, never 0;
    /// - another secret knowledge factor (a challenge answer) cannot be judged: `None`;
    /// - a secret of another category is a key held in hardware or a bound device, not
    ///   guessable online: 0.
    ///
    /// Tries the policy does not describe make a guessable factor's chance unknown (`None`),
    /// never certain and never 0; tries described as not limited make it 1 (the password's
    /// too when its policy is not stated, since no policy is credited more than a finite
    /// space).
    pub fn guess_chance(&self, tries: Tries, password: Option<&PasswordPolicy>) -> Option<f64> {
        let space = match (self.effective_key_space.or(self.key_space), self.secret) {
            (Some(space), _) => Some(space as f64),
            // The guesser knows it (name, account number, birth date), or presents it
            // (a biometric on a device the guesser holds).
            (None, false) => return Some(1.0),
            // Unknown (`None`) when no password policy is stated.
            (None, true) if self.space_from_password_policy => password_space(password),
            // An answer drawn from no stated space.
            (None, true) if self.category == Category::Knowledge => return None,
            // A key held in hardware or a bound device: not guessable online.
            (None, true) => return Some(0.0),
        };
        match (tries, space) {
            // Every space credited is finite (a password's at most 1,000,000 values, whatever
            // its policy), so unlimited tries exhaust it.
            (Tries::Unlimited, _) => Some(1.0),
            (Tries::Undescribed, _) | (Tries::Limited(_), None) => None,
            (Tries::Limited(max), Some(space)) => Some((f64::from(max) / space).min(1.0)),
        }
    }
}

/// Values credited to a memorised secret that meets NIST's bar: a random 6-digit PIN.
const MEETS_THE_BAR: f64 = 1_000_000.0;
/// Divisor per safeguard missing from the stated policy (authaudit's assumption).
const PER_MISSING_SAFEGUARD: f64 = 100.0;
/// The effective key space of a holder-chosen 4-digit PIN (`pin_4` in `rules/factors.yaml`).
const HOLDER_PIN_4_EFFECTIVE_SPACE: f64 = 66.0;

/// Effective number of equally likely values an online guesser must search for a memorised
/// secret under the stated password policy; `None` when no policy is stated (never 0, and
/// never a default).
///
/// Model (also summarised in the header of `rules/factors.yaml`):
/// - A stated minimum length of at least 8 characters together with stated screening against
///   breached, common and expected values (`blocklist: true`) meets NIST's memorized-secret bar
///   (SP 800-63B §5.1.1.1–5.1.1.2; requirement US-NIST-63B-MEMSEC). NIST holds that bar
///   adequate against rate-limited online guessing, as it holds a random 6-digit PIN
///   ("6 digit randomly-generated PINs are still considered adequate for memorized secrets",
///   SP 800-63B Appendix A.4). Such a policy is credited as that PIN, 1,000,000 values, and
///   never more however long the minimum: NIST gives no larger figure to rely on.
/// - Each safeguard the stated policy lacks (a minimum below 8; screening stated as absent)
///   divides that by 100: 10,000 for one, 100 for both. Screening that is not mentioned leaves
///   the space unknown (`None`): not described is not "none". The divisor is authaudit's assumption, not a cited figure: NIST says only that
///   short and unscreened passwords "yield to brute force attacks as well as to dictionary
///   attacks using words and commonly chosen passwords" (Appendix A.2).
/// - A policy whose minimum admits 4-character secrets admits every 4-digit PIN, so it is
///   credited at most the effective space of a holder-chosen 4-digit PIN (66; see `pin_4` in
///   `rules/factors.yaml` for the source), screened or not: screening does not stop guesses
///   from a known birth date (Bonneau, Preibusch & Anderson, Financial Cryptography 2012).
///
/// The attempt limits are applied by [`Factor::guess_chance`], not here.
pub fn password_space(policy: Option<&PasswordPolicy>) -> Option<f64> {
    let policy = policy?;
    if policy.min_length <= 4 {
        // Whatever the screening, every 4-digit PIN is admitted (see below).
        return Some(HOLDER_PIN_4_EFFECTIVE_SPACE);
    }
    let screened = policy.blocklist?;
    let missing = u8::from(policy.min_length < 8) + u8::from(!screened);
    Some(MEETS_THE_BAR / PER_MISSING_SAFEGUARD.powi(i32::from(missing)))
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

    /// Parses a catalogue and refuses unknown fields, duplicate names and the field
    /// combinations the header of `rules/factors.yaml` marks as checked. All problems are
    /// reported, one per line.
    pub fn parse(text: &str) -> Result<Self, String> {
        let catalogue: Catalogue = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
        let problems = catalogue.problems();
        if problems.is_empty() {
            Ok(catalogue)
        } else {
            Err(problems.join("\n"))
        }
    }

    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut names: Vec<&str> = self.names().collect();
        names.sort_unstable();
        for pair in names.windows(2).filter(|w| w[0] == w[1]) {
            problems.push(format!("factor `{}` is listed twice", pair[0]));
        }
        for factor in &self.factors {
            for problem in factor.problems() {
                problems.push(format!("factor `{}`: {problem}", factor.name));
            }
            for other in &factor.replaced_by {
                let problem = match self.get(other) {
                    None => "is not in the catalogue",
                    Some(f) if f.name == factor.name => "is the factor itself",
                    Some(f) if !f.replaced_by.is_empty() => "is itself replaced",
                    Some(_) => continue,
                };
                problems.push(format!(
                    "factor `{}`: `replaced_by` names `{other}`, which {problem}",
                    factor.name
                ));
            }
        }
        problems.dedup();
        problems
    }

    pub fn get(&self, name: &str) -> Option<&Factor> {
        self.factors.iter().find(|f| f.name == name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.factors.iter().map(|f| f.name.as_str())
    }

    /// The names among one step's factors that count: those that count on their own
    /// ([`Factor::counts`]), and those that count only beside another (`counts_only_with`,
    /// a biometric) when the step also has a factor of that category counting on its own.
    /// Names not in the catalogue are skipped.
    ///
    /// Pass only the factors that can prove something in this step: leave out a code sent to
    /// a contact supplied in the flow (it is read, not guessed, and binds nothing). Whether
    /// the step is enforced at all is the caller's business.
    pub fn counting_in_step<'n>(
        &self,
        names: impl IntoIterator<Item = &'n str>,
    ) -> BTreeSet<&'n str> {
        let present: Vec<(&'n str, &Factor)> = names
            .into_iter()
            .filter_map(|name| self.get(name).map(|f| (name, f)))
            .collect();
        let alone: BTreeSet<Category> = present
            .iter()
            .filter(|(_, f)| f.counts())
            .map(|(_, f)| f.category)
            .collect();
        present
            .iter()
            .filter(|(_, f)| {
                f.counts()
                    || (f.category != Category::None
                        && f.counts_only_with.is_some_and(|c| alone.contains(&c)))
            })
            .map(|(name, _)| *name)
            .collect()
    }
}

impl Factor {
    /// The field combinations of this factor that the catalogue refuses.
    fn problems(&self) -> Vec<&'static str> {
        let mut problems = Vec::new();
        let mut refuse = |bad: bool, problem: &'static str| {
            if bad {
                problems.push(problem);
            }
        };
        let knowledge = self.category == Category::Knowledge;
        let holder = self.chosen_by == Some(ChosenBy::Holder);
        refuse(self.key_space == Some(0), "`key_space` must be at least 1");
        refuse(
            self.effective_key_space == Some(0),
            "`effective_key_space` must be at least 1",
        );
        if let Some(effective) = self.effective_key_space {
            refuse(
                self.key_space.is_none(),
                "`effective_key_space` needs a `key_space`",
            );
            refuse(
                self.key_space.is_some_and(|space| effective > space),
                "`effective_key_space` exceeds `key_space`",
            );
            refuse(
                !holder,
                "`effective_key_space` is only for `chosen_by: holder` (issuer-chosen values are equally likely)",
            );
        }
        refuse(
            holder && self.key_space.is_some() && self.effective_key_space.is_none(),
            "a holder-chosen secret with a `key_space` needs an `effective_key_space`",
        );
        refuse(
            knowledge && self.chosen_by.is_none(),
            "a knowledge factor must say who chooses it (`chosen_by: holder | issuer`)",
        );
        refuse(
            !knowledge && self.chosen_by.is_some(),
            "`chosen_by` is only for knowledge factors",
        );
        refuse(
            self.space_from_password_policy
                && !(self.secret && knowledge && holder && self.key_space.is_none()),
            "`space_from_password_policy` is only for a secret, holder-chosen knowledge factor without `key_space`",
        );
        refuse(
            self.relayable && (self.phishing_resistant || self.signs_transaction || !self.secret),
            "`relayable` contradicts `phishing_resistant`, `signs_transaction` or `secret: false`",
        );
        refuse(
            self.unlock == Some(Category::None),
            "`unlock` must be a real category",
        );
        refuse(
            self.unlock.is_some() && self.unlock == Some(self.category),
            "`unlock` must differ from the factor's own category",
        );
        if let Some(with) = self.counts_only_with {
            refuse(
                with == Category::None,
                "`counts_only_with` must be a real category",
            );
            refuse(
                with == self.category,
                "`counts_only_with` must differ from the factor's own category",
            );
            refuse(
                self.category == Category::None,
                "`counts_only_with` is meaningless on a factor of category `none`",
            );
        }
        refuse(
            !self.secret && self.category != Category::None && self.counts_only_with.is_none(),
            "a non-secret of a real category must say what it counts with (`counts_only_with`)",
        );
        refuse(
            self.description.contains('\n'),
            "`description` must be one line",
        );
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundled(name: &str) -> Factor {
        Catalogue::bundled()
            .get(name)
            .unwrap_or_else(|| panic!("`{name}` is not in the bundled catalogue"))
            .clone()
    }

    /// The categories one step proves: those of its counting factors and of their unlocks.
    fn categories(names: &[&str]) -> BTreeSet<Category> {
        let catalogue = Catalogue::bundled();
        let counting = catalogue.counting_in_step(names.iter().copied());
        counting
            .iter()
            .filter_map(|n| catalogue.get(n))
            .flat_map(|f| [Some(f.category), f.unlock])
            .flatten()
            .collect()
    }

    /// A one-factor catalogue text with `extra` fields added to a valid base.
    fn one(base: &str, extra: &str) -> String {
        format!(
            "factors:\n  - {{name: x, {base}, phishing_resistant: false, replay_resistant: false, description: d{extra}}}\n"
        )
    }

    const SECRET_KNOWLEDGE: &str = "category: knowledge, secret: true";

    fn refused(text: &str, expected: &str) {
        let error = Catalogue::parse(text).expect_err(text);
        assert!(error.contains(expected), "{error}\n(expected `{expected}`)");
    }

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-12)
    }

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

    #[test]
    fn unknown_fields_are_refused() {
        for extra in [
            ", chosen_by_holder: true",
            ", counts_with: possession",
            ", effective_space: 5",
        ] {
            let text = one("category: none, secret: false", extra);
            assert!(Catalogue::parse(&text).is_err(), "{text}");
        }
        refused(&one(SECRET_KNOWLEDGE, ", chosen_by: customer"), "chosen_by");
    }

    // --- 1. card-printed identifiers ---

    #[test]
    fn card_data_are_non_secrets_with_their_real_key_spaces() {
        for (name, space) in [
            ("card_number", None),
            ("card_number_last_digits", Some(10_000)),
            ("card_expiry", Some(60)),
            ("card_security_code", Some(1_000)),
        ] {
            let factor = bundled(name);
            assert!(!factor.secret, "{name} is printed on the card");
            assert_eq!(factor.category, Category::None, "{name}");
            assert!(!factor.counts(), "{name}");
            assert_eq!(factor.key_space, space, "{name}");
            assert_eq!(factor.effective_key_space, None, "{name}");
            assert!(
                factor.basis.iter().any(|b| b == "EU-EBA-CARDDATA"),
                "{name}"
            );
        }
        // The full number is taken to be known, whatever the attempt limits.
        let pan = bundled("card_number");
        for tries in [Tries::Undescribed, Tries::Unlimited, Tries::Limited(1)] {
            assert_eq!(pan.guess_chance(tries, None), Some(1.0));
        }
        assert!(close(
            bundled("card_security_code").guess_chance(Tries::Limited(5), None),
            5.0 / 1_000.0
        ));
        assert!(close(
            bundled("card_expiry").guess_chance(Tries::Limited(6), None),
            0.1
        ));
        assert!(close(
            bundled("card_number_last_digits").guess_chance(Tries::Limited(10), None),
            0.001
        ));
        assert!(categories(&["card_number", "card_expiry", "card_security_code"]).is_empty());
    }

    // --- 2. holder-chosen versus issuer-assigned PINs ---

    #[test]
    fn holder_chosen_pins_are_guessed_from_their_effective_key_space() {
        for name in ["cash_card_pin", "pin_4"] {
            let pin = bundled(name);
            assert_eq!(pin.chosen_by, Some(ChosenBy::Holder), "{name}");
            assert_eq!(pin.key_space, Some(10_000), "{name}");
            assert_eq!(pin.effective_key_space, Some(66), "{name}");
            // Six guesses with the birth date known: one card in eleven (Bonneau et al. 2012).
            assert!(
                close(pin.guess_chance(Tries::Limited(6), None), 1.0 / 11.0),
                "{name}"
            );
            // Far above what 10,000 equally likely values would give.
            let uniform = 6.0 / 10_000.0;
            assert!(pin.guess_chance(Tries::Limited(6), None).unwrap() > 100.0 * uniform);
            assert_eq!(pin.guess_chance(Tries::Limited(100), None), Some(1.0));
            assert_eq!(pin.guess_chance(Tries::Undescribed, None), None);
        }
        let issued = bundled("pin_4_issued");
        assert_eq!(issued.chosen_by, Some(ChosenBy::Issuer));
        assert_eq!(issued.effective_key_space, None);
        assert!(close(
            issued.guess_chance(Tries::Limited(3), None),
            3.0 / 10_000.0
        ));
        let issued = bundled("pin_6_issued");
        assert!(close(
            issued.guess_chance(Tries::Limited(3), None),
            3.0 / 1_000_000.0
        ));
        // The holder's 6-digit PIN is not credited its two extra digits.
        assert_eq!(
            bundled("pin_6").guess_chance(Tries::Limited(5), None),
            bundled("pin_4").guess_chance(Tries::Limited(5), None)
        );
    }

    #[test]
    fn every_knowledge_factor_says_who_chooses_it() {
        for factor in &Catalogue::bundled().factors {
            assert_eq!(
                factor.chosen_by.is_some(),
                factor.category == Category::Knowledge,
                "{}",
                factor.name
            );
        }
    }

    #[test]
    fn the_password_model_uses_the_bundled_holder_pin_space() {
        assert_eq!(
            bundled("pin_4").effective_key_space.map(|s| s as f64),
            Some(HOLDER_PIN_4_EFFECTIVE_SPACE)
        );
    }

    #[test]
    fn key_space_fields_are_checked() {
        refused(
            &one(SECRET_KNOWLEDGE, ", chosen_by: holder, key_space: 10000"),
            "needs an `effective_key_space`",
        );
        refused(
            &one(
                SECRET_KNOWLEDGE,
                ", chosen_by: issuer, key_space: 10000, effective_key_space: 66",
            ),
            "only for `chosen_by: holder`",
        );
        refused(
            &one(
                SECRET_KNOWLEDGE,
                ", chosen_by: holder, key_space: 10, effective_key_space: 66",
            ),
            "exceeds `key_space`",
        );
        refused(
            &one(
                SECRET_KNOWLEDGE,
                ", chosen_by: holder, effective_key_space: 66",
            ),
            "needs a `key_space`",
        );
        refused(
            &one("category: none, secret: false", ", key_space: 0"),
            "at least 1",
        );
        refused(&one(SECRET_KNOWLEDGE, ""), "must say who chooses it");
        refused(
            &one("category: possession, secret: true", ", chosen_by: issuer"),
            "only for knowledge factors",
        );
        refused(
            &one(
                "category: possession, secret: true",
                ", space_from_password_policy: true",
            ),
            "space_from_password_policy",
        );
        let fine = one(
            SECRET_KNOWLEDGE,
            ", chosen_by: holder, key_space: 10000, effective_key_space: 66",
        );
        assert!(Catalogue::parse(&fine).is_ok());
    }

    // --- 3. a biometric counts only bound to a possession factor ---

    #[test]
    fn a_biometric_alone_counts_as_nothing() {
        let bio = bundled("biometric_local");
        assert!(!bio.secret);
        assert_eq!(bio.category, Category::Inherence);
        assert_eq!(bio.counts_only_with, Some(Category::Possession));
        assert!(!bio.counts());
        let catalogue = Catalogue::bundled();
        assert!(catalogue.counting_in_step(["biometric_local"]).is_empty());
        // Whoever holds any device passes a check on it.
        assert_eq!(bio.guess_chance(Tries::Limited(5), None), Some(1.0));
    }

    #[test]
    fn a_biometric_counts_beside_a_possession_factor_that_counts() {
        let catalogue = Catalogue::bundled();
        for device in [
            "registered_device",
            "app_push",
            "sms_otp",
            "passkey_without_user_verification",
            "fido_security_key",
        ] {
            let counting = catalogue.counting_in_step([device, "biometric_local"]);
            assert_eq!(
                counting,
                BTreeSet::from([device, "biometric_local"]),
                "{device}"
            );
            assert_eq!(
                categories(&[device, "biometric_local"]),
                BTreeSet::from([Category::Possession, Category::Inherence]),
                "{device}"
            );
        }
        // Not beside knowledge, nor beside something that proves no possession.
        for other in [
            "password",
            "email_otp",
            "email_link",
            "device_unlock",
            "card_number",
        ] {
            let counting = catalogue.counting_in_step([other, "biometric_local"]);
            assert!(!counting.contains("biometric_local"), "{other}");
        }
        // Names outside the catalogue are skipped; the order and duplicates do not matter.
        let counting = catalogue.counting_in_step([
            "biometric_local",
            "no_such_factor",
            "registered_device",
            "biometric_local",
        ]);
        assert_eq!(
            counting,
            BTreeSet::from(["biometric_local", "registered_device"])
        );
        // Bound, the device's chance settles the step: 1 x 0.
        let step: f64 = ["registered_device", "biometric_local"]
            .iter()
            .map(|n| bundled(n).guess_chance(Tries::Limited(5), None).unwrap())
            .product();
        assert_eq!(step, 0.0);
    }

    #[test]
    fn counts_only_with_is_checked() {
        refused(
            &one("category: inherence, secret: false", ""),
            "must say what it counts with",
        );
        refused(
            &one(
                "category: inherence, secret: false",
                ", counts_only_with: none",
            ),
            "must be a real category",
        );
        refused(
            &one(
                "category: inherence, secret: false",
                ", counts_only_with: inherence",
            ),
            "must differ",
        );
        refused(
            &one(
                "category: none, secret: false",
                ", counts_only_with: possession",
            ),
            "meaningless",
        );
        let fine = one(
            "category: inherence, secret: false",
            ", counts_only_with: possession",
        );
        assert!(Catalogue::parse(&fine).is_ok());
    }

    // --- 4. user verification decides the second category ---

    #[test]
    fn passkeys_and_security_keys_count_two_categories_only_with_user_verification() {
        let two = BTreeSet::from([Category::Possession, Category::Inherence]);
        assert_eq!(categories(&["passkey"]), two);
        assert_eq!(
            categories(&["passkey_without_user_verification"]),
            BTreeSet::from([Category::Possession])
        );
        assert_eq!(
            categories(&["fido_security_key"]),
            BTreeSet::from([Category::Possession])
        );
        assert_eq!(
            categories(&["fido_security_key_with_user_verification"]),
            BTreeSet::from([Category::Possession, Category::Knowledge])
        );
        for name in [
            "passkey",
            "passkey_without_user_verification",
            "fido_security_key",
            "fido_security_key_with_user_verification",
        ] {
            let factor = bundled(name);
            assert!(
                factor.phishing_resistant && factor.replay_resistant,
                "{name}"
            );
            assert_eq!(
                factor.guess_chance(Tries::Undescribed, None),
                Some(0.0),
                "{name}"
            );
        }
        refused(
            &one("category: possession, secret: true", ", unlock: possession"),
            "`unlock` must differ",
        );
    }

    // --- 5. the issuer's 3-D Secure challenge states its channel ---

    #[test]
    fn issuer_challenges_name_their_channel() {
        let generic = bundled("issuer_3ds_challenge");
        assert_eq!(
            generic.replaced_by,
            [
                "issuer_3ds_sms_otp",
                "issuer_3ds_app",
                "issuer_3ds_email_otp"
            ]
        );
        // Judged as before, so existing files keep their results.
        assert!(generic.counts());
        assert_eq!(generic.category, Category::Possession);
        assert_eq!(generic.delivered_by, None);
        assert!(!generic.restricted);
        for (name, channel, category, restricted) in [
            (
                "issuer_3ds_sms_otp",
                DeliveryChannel::Sms,
                Category::Possession,
                true,
            ),
            (
                "issuer_3ds_app",
                DeliveryChannel::App,
                Category::Possession,
                false,
            ),
            (
                "issuer_3ds_email_otp",
                DeliveryChannel::Email,
                Category::None,
                false,
            ),
        ] {
            let factor = bundled(name);
            assert_eq!(factor.delivered_by, Some(channel), "{name}");
            assert_eq!(factor.category, category, "{name}");
            assert_eq!(factor.restricted, restricted, "{name}");
            assert!(factor.replaced_by.is_empty(), "{name}");
        }
        assert!(!bundled("issuer_3ds_email_otp").counts());
    }

    #[test]
    fn replaced_by_is_checked() {
        let base = "category: none, secret: false, phishing_resistant: false, replay_resistant: false, description: d";
        let text = |a: &str, b: &str| {
            format!("factors:\n  - {{name: a, {base}{a}}}\n  - {{name: b, {base}{b}}}\n")
        };
        refused(
            &text(", replaced_by: [c]", ""),
            "`c`, which is not in the catalogue",
        );
        refused(&text(", replaced_by: [a]", ""), "is the factor itself");
        refused(
            &text(", replaced_by: [b]", ", replaced_by: [a]"),
            "is itself replaced",
        );
        assert!(Catalogue::parse(&text(", replaced_by: [b]", "")).is_ok());
    }

    // --- 6. a password's guess chance follows the stated policy ---

    fn policy(min_length: u32, blocklist: Option<bool>) -> PasswordPolicy {
        PasswordPolicy {
            min_length,
            blocklist,
        }
    }

    #[test]
    fn password_space_follows_the_stated_policy() {
        assert_eq!(password_space(None), None);
        let cases = [
            (policy(8, Some(true)), 1_000_000.0),
            (policy(64, Some(true)), 1_000_000.0),
            (policy(8, Some(false)), 10_000.0),
            (policy(12, Some(false)), 10_000.0),
            (policy(6, Some(true)), 10_000.0),
            (policy(6, Some(false)), 100.0),
            (policy(5, Some(false)), 100.0),
            (policy(4, Some(true)), 66.0),
            (policy(4, None), 66.0),
            (policy(1, None), 66.0),
        ];
        for (stated, space) in cases {
            assert_eq!(password_space(Some(&stated)), Some(space), "{stated:?}");
        }
        // Screening not mentioned: unknown unless the minimum admits 4-digit PINs anyway.
        assert_eq!(password_space(Some(&policy(12, None))), None);
        assert_eq!(password_space(Some(&policy(6, None))), None);
        // Each safeguard only ever helps.
        let mut last = 0.0;
        for stated in [
            policy(6, Some(false)),
            policy(6, Some(true)),
            policy(8, Some(true)),
        ] {
            let space = password_space(Some(&stated)).unwrap();
            assert!(space > last, "{stated:?}");
            last = space;
        }
    }

    #[test]
    fn a_password_is_never_unguessable_by_default() {
        let password = bundled("password");
        assert!(password.space_from_password_policy);
        // No policy stated: unknown, not 0, with or without described limits.
        for tries in [Tries::Undescribed, Tries::Limited(5)] {
            assert_eq!(password.guess_chance(tries, None), None, "{tries:?}");
        }
        assert_eq!(password.guess_chance(Tries::Unlimited, None), Some(1.0));
        let strong = policy(8, Some(true));
        let weak = policy(6, Some(false));
        let chance = |p: &PasswordPolicy| password.guess_chance(Tries::Limited(10), Some(p));
        assert!(close(chance(&strong), 10.0 / 1_000_000.0));
        assert!(close(chance(&weak), 0.1));
        assert_eq!(
            password.guess_chance(Tries::Undescribed, Some(&strong)),
            None
        );
        for stated in [strong, weak, policy(1, None)] {
            assert!(
                password
                    .guess_chance(Tries::Limited(1), Some(&stated))
                    .unwrap()
                    > 0.0
            );
        }
        // A challenge answer has no stated space: unknown, never taken from the password policy.
        let question = bundled("security_question");
        assert!(!question.space_from_password_policy);
        assert_eq!(
            question.guess_chance(Tries::Limited(5), Some(&policy(8, Some(true)))),
            None
        );
    }

    // --- 7. codes sent to a registered phone ---

    #[test]
    fn a_code_with_undescribed_attempt_limits_has_an_unknown_guess_chance() {
        for name in ["sms_otp", "voice_otp", "issuer_3ds_sms_otp", "totp_app"] {
            let code = bundled(name);
            let chance = code.guess_chance(Tries::Undescribed, None);
            assert_eq!(chance, None, "{name}: unknown, not certain and not 0");
            assert!(close(
                code.guess_chance(Tries::Limited(5), None),
                5.0 / 1_000_000.0
            ));
            assert_eq!(
                code.guess_chance(Tries::Unlimited, None),
                Some(1.0),
                "{name}"
            );
        }
    }

    #[test]
    fn every_bundled_factor_cites_a_basis_and_has_a_one_line_description() {
        for factor in &Catalogue::bundled().factors {
            assert!(!factor.basis.is_empty(), "{} cites no basis", factor.name);
            assert!(!factor.description.contains('\n'), "{}", factor.name);
        }
    }
}
