//! What an attacker can hold part-way through a chain. Facts only ever accumulate (a chain
//! never loses what it gained), which is what lets the search combine them as sets.

use serde::Serialize;

/// Where the victim's money leaves from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    /// The victim's account at this service (a bank account reached by linking).
    AccountAt(u32),
    /// The victim's payment card, whose issuer is not in the tree.
    Card,
    /// The card or bank account the victim registered as a funding source at this service.
    FundingAt(u32),
    /// The balance of the victim's account at this service.
    BalanceAt(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fact {
    /// The attacker holds an account it opened at `service`, under the victim's name or its
    /// own (or a mule's).
    Holds { service: u32, victims_name: bool },
    /// The attacker holds some account under the victim's name.
    VictimsNameAccount,
    /// The attacker is signed in to the victim's account at `service`.
    Session { service: u32 },
    /// The attacker knows the victim's secret `factor` (catalogue index) at `service`.
    Secret { service: u32, factor: u16 },
    /// The attacker controls the victim's contact of record `contact` (index among the
    /// service's contacts) at `service`.
    Contact { service: u32, contact: u16 },
    /// A device of the attacker's is bound to the victim's account at `service`.
    Device { service: u32 },
    /// The victim's account or card is attached to the attacker's account at `service`.
    Linked { service: u32, source: Source },
    /// An attacker's payee or payout account is registered on the victim's account.
    Payee { service: u32 },
    /// Money left the victim (the goal), through the action with this index.
    MoneyOut { action: u32 },
}

/// A fact the chain rests on that the policy does not describe: the tool cannot judge it, so
/// the chain is reported as undetermined rather than proven or absent.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Unknown {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub path: String,
    pub service: String,
    pub flow: String,
    pub what: String,
}
