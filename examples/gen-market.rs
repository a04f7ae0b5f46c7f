//! Writes a synthetic payment market as policy files (format v2), for benchmarks and tests at
//! national scale: banks whose account linking ranges from the docomo koza pattern (name,
//! account number and cash-card PIN) to a one-time code or a passkey, wallets that open
//! accounts with an e-mail address, a phone number or eKYC and link those banks directly or
//! through linking gateways.
//!
//! ```console
//! $ cargo run --release --example gen-market -- --banks 1500 --wallets 100 --links 50000 --seed 1 --out /tmp/market
//! ```
//!
//! `--links` is the number of direct wallet → bank delegations in the whole market, spread
//! unevenly across wallets (a few wallets link most banks, most link few); links through a
//! gateway come in addition. The same arguments always give byte-identical files. Files are
//! written one at a time; only the link graph (a few integers per link) is kept in memory.
//!
//! `--broken-percent P` adds broken files in `broken/`, P% of all the files written, cycling
//! through every way the loader refuses a file (see [`BrokenKind`]). They are services of
//! their own that no other file names, so the findings of the valid files are those of the
//! same market without them.

use clap::Parser;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The market to write.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Banks (kind bank), each with an account_linking flow.
    #[arg(long)]
    pub banks: u32,
    /// Wallets (fund_transfer_operator or code_payment).
    #[arg(long)]
    pub wallets: u32,
    /// Direct wallet → bank links in total; at most banks × wallets.
    #[arg(long)]
    pub links: u64,
    /// Linking gateways, each in front of a subset of the banks.
    #[arg(long, default_value_t = 3)]
    pub gateways: u32,
    /// Seed of the generator: the same seed gives the same files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Folder to write into; created if missing, and must be empty.
    #[arg(long)]
    pub out: PathBuf,
}

/// SplitMix64 (Steele, Lea and Flood 2014): small, fast and good enough to pick a market; a
/// crate would add a dev-dependency for nothing the benchmarks need.
struct Rng(u64);

impl Rng {
    /// A stream of its own for each service, so a file's content depends only on the seed and
    /// its id, never on how many draws other files made.
    fn stream(seed: u64, kind: u64, index: u64) -> Self {
        let mut r = Rng(seed ^ kind.wrapping_mul(0xA076_1D64_78BD_642F));
        r.0 ^= index.wrapping_mul(0xE703_7ED1_A0B4_28DB);
        r.next();
        r
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (Lemire's multiply-shift; the bias is below 2^-32 for these sizes).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const BANK: u64 = 1;
const WALLET: u64 = 2;
const GATEWAY: u64 = 3;
const GRAPH: u64 = 4;

/// Service ids, numbered from 1 with at least the issue's widths (`bank-0001`, `wallet-001`).
struct Ids {
    bank_width: usize,
    wallet_width: usize,
    gateway_width: usize,
}

impl Ids {
    fn new(args: &Args) -> Self {
        let digits = |n: u32| n.max(1).ilog10() as usize + 1;
        Self {
            bank_width: digits(args.banks).max(4),
            wallet_width: digits(args.wallets).max(3),
            gateway_width: digits(args.gateways).max(2),
        }
    }
    fn bank(&self, i: u32) -> String {
        format!("bank-{:0w$}", i + 1, w = self.bank_width)
    }
    fn wallet(&self, i: u32) -> String {
        format!("wallet-{:0w$}", i + 1, w = self.wallet_width)
    }
    fn gateway(&self, i: u32) -> String {
        format!("gateway-{:0w$}", i + 1, w = self.gateway_width)
    }
}

/// Who links whom. Indices only; the texts are written from it one file at a time.
struct Graph {
    /// Banks each wallet delegates to directly, ascending.
    wallet_banks: Vec<Vec<u32>>,
    /// Gateways each wallet delegates to, ascending.
    wallet_gateways: Vec<Vec<u32>>,
    /// Banks behind each gateway, ascending.
    gateway_banks: Vec<Vec<u32>>,
}

/// The largest banks (about 1%) are linked first by every wallet that links several, as every
/// wallet in Japan offers the megabanks; and they run strong linking.
fn major_banks(banks: u32) -> u32 {
    (banks / 100).max(1)
}

fn build_graph(args: &Args) -> Graph {
    let mut r = Rng::stream(args.seed, GRAPH, 0);
    let (banks, wallets) = (args.banks as usize, args.wallets as usize);

    // Link counts per wallet: Zipf-like weights over a shuffled order, capped at `banks`.
    let mut order: Vec<usize> = (0..wallets).collect();
    for i in (1..wallets).rev() {
        order.swap(i, r.below(i as u64 + 1) as usize);
    }
    let weights: Vec<f64> = (0..wallets)
        .map(|rank| 1.0 / (rank as f64 + 1.0).powf(0.8))
        .collect();
    let total: f64 = weights.iter().sum();
    let mut counts = vec![0usize; wallets];
    for (rank, &w) in order.iter().enumerate() {
        counts[w] = ((args.links as f64 * weights[rank] / total) as usize).min(banks);
    }
    let mut remaining = args.links as usize - counts.iter().sum::<usize>();
    // Hand out what rounding and the caps left, largest wallets first; ends because the
    // caller checked links <= banks * wallets.
    while remaining > 0 {
        for &w in &order {
            if remaining == 0 {
                break;
            }
            if counts[w] < banks {
                counts[w] += 1;
                remaining -= 1;
            }
        }
    }

    // Distinct banks per wallet: the majors first, the rest by a partial Fisher-Yates over one
    // permutation that is never reset (any permutation is a fair start for the next draw).
    let majors = major_banks(args.banks) as usize;
    let mut rest: Vec<u32> = (majors as u32..banks as u32).collect();
    let mut wallet_banks = Vec::with_capacity(wallets);
    for &count in &counts {
        let mut chosen: Vec<u32> = (0..majors.min(count) as u32).collect();
        let extra = count - chosen.len();
        for k in 0..extra {
            let j = k + r.below((rest.len() - k) as u64) as usize;
            rest.swap(k, j);
            chosen.push(rest[k]);
        }
        chosen.sort_unstable();
        wallet_banks.push(chosen);
    }

    // Gateways stand in front of regional banks (not the majors), about a third each.
    let mut gateway_banks = Vec::with_capacity(args.gateways as usize);
    for _ in 0..args.gateways {
        let mut behind: Vec<u32> = (majors as u32..banks as u32)
            .filter(|_| r.chance(0.3))
            .collect();
        if behind.is_empty() {
            behind.push(r.below(banks as u64) as u32);
        }
        gateway_banks.push(behind);
    }
    let mut wallet_gateways = Vec::with_capacity(wallets);
    for direct in &wallet_banks {
        let mut through: Vec<u32> = (0..args.gateways).filter(|_| r.chance(0.3)).collect();
        // A wallet without a direct link reaches banks through a gateway, when there is one.
        if through.is_empty() && direct.is_empty() && args.gateways > 0 {
            through.push(r.below(u64::from(args.gateways)) as u32);
        }
        wallet_gateways.push(through);
    }
    Graph {
        wallet_banks,
        wallet_gateways,
        gateway_banks,
    }
}

fn header(out: &mut String, what: &str, seed: u64) {
    let _ = writeln!(
        out,
        "# {what} of a SYNTHETIC market written by `cargo run --example gen-market` (seed {seed}).\n\
         # Not a real institution: every value is drawn at random to test and benchmark authaudit.\n\
         \n\
         version: 2\n"
    );
}

fn service(out: &mut String, id: &str, name: &str, kind: &str, description: &str, seed: u64) {
    let _ = writeln!(
        out,
        "service:\n  id: {id}\n  name: {name}\n  kind: {kind}\n  jurisdiction: JP\n  as_of: \"2025-04-01\"\n  \
         description: {description}\n  sources:\n    \
         - title: Synthetic market generated by authaudit's gen-market example (seed {seed})\n      \
         publisher: authaudit project\n      access: internal\n"
    );
}

/// An attempt limit in flow style, varied the way real designs vary.
fn attempts(r: &mut Rng, strong: bool) -> String {
    let max = *r.pick(&[3, 3, 5, 5, 6, 10]);
    if strong {
        return match r.below(3) {
            0 => format!("{{scope: account, max: {max}, lockout: permanent}}"),
            1 => format!("{{scope: credential, max: {max}, lockout: permanent}}"),
            _ => format!(
                "{{scope: account, max: {max}, window: 24h, lockout: temporary, lockout_duration: 24h}}"
            ),
        };
    }
    match r.below(5) {
        0 => format!("{{scope: account, max: {max}, lockout: permanent}}"),
        1 => format!("{{scope: credential, max: {max}, lockout: temporary, lockout_duration: 1h}}"),
        2 => "{scope: none}".to_owned(),
        3 => {
            "{scope: ip, max: 10, window: 1h, lockout: temporary, lockout_duration: 15m}".to_owned()
        }
        _ => format!("{{scope: account, max: {max}, lockout: temporary, lockout_duration: 30m}}"),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Linking {
    /// Data items and the 4-digit cash-card PIN only (the docomo koza pattern).
    Weak,
    /// Plus a one-time code by SMS to the phone the proofed holder registered.
    Otp,
    /// Plus the passkey of the bank's app.
    Passkey,
}

/// The text of bank `i`; `initiators` are the gateways and wallets that send holders to it.
fn bank(ids: &Ids, i: u32, majors: u32, seed: u64, initiators: &[String]) -> String {
    let mut r = Rng::stream(seed, BANK, u64::from(i));
    let id = ids.bank(i);
    let linking = if i < majors && r.chance(0.9) {
        *r.pick(&[Linking::Otp, Linking::Passkey])
    } else {
        // About 45% weak, as among the banks docomo koza could link in 2020.
        match r.below(20) {
            0..=8 => Linking::Weak,
            9..=15 => Linking::Otp,
            _ => Linking::Passkey,
        }
    };
    let mut out = String::with_capacity(4096);
    header(&mut out, "A bank", seed);
    let what = match linking {
        Linking::Weak => "links accounts on the holder's name, account number and cash-card PIN",
        Linking::Otp => {
            "links accounts on the cash-card PIN and a one-time code to the phone on file"
        }
        Linking::Passkey => "links accounts on the cash-card PIN and the passkey of its app",
    };
    service(
        &mut out,
        &id,
        &format!("架空銀行 {}", &id["bank-".len()..]),
        "bank",
        &format!("Synthetic bank; {what}."),
        seed,
    );

    let email = r.chance(0.5);
    out.push_str(
        "contacts:\n  mobile:\n    kind: phone\n    registered_by: holder_after_proofing\n",
    );
    out.push_str("  postal:\n    kind: postal_address\n    registered_by: holder_after_proofing\n");
    if email {
        out.push_str("  email:\n    kind: email\n    registered_by: holder_after_proofing\n");
    }
    if linking == Linking::Passkey {
        out.push_str("  app:\n    kind: app_push\n    registered_by: holder_after_proofing\n");
    }

    out.push_str("\nflows:\n  account_linking:\n    kind: account_linking\n    steps:\n");
    let data = if r.chance(0.4) {
        "holder_name, account_number, date_of_birth, cash_card_pin"
    } else {
        "holder_name, account_number, cash_card_pin"
    };
    let _ = writeln!(out, "      - verify: [{data}]");
    // Some weak banks count PIN failures on the step (per bank account, whichever wallet
    // asks); the others rely on the flow's limit, or describe none.
    let step_limit = linking == Linking::Weak && r.chance(0.25);
    if step_limit {
        let _ = writeln!(out, "        attempts: {}", attempts(&mut r, false));
    }
    match linking {
        Linking::Weak => {}
        Linking::Otp => out.push_str(
            "      - verify: [sms_otp]\n        delivered_to: registered_contact\n        contact: mobile\n",
        ),
        Linking::Passkey => out.push_str(
            "      - verify: [passkey]\n        note: The passkey of the bank's app on the holder's phone.\n",
        ),
    }
    if !initiators.is_empty() {
        let _ = writeln!(out, "    initiated_by: [{}]", initiators.join(", "));
    }
    match (linking, r.below(4)) {
        (Linking::Weak, 0) => {}
        (Linking::Weak, _) | (_, 0) => out.push_str("    name_matching: none\n"),
        (_, 1) => out.push_str("    name_matching: warn\n"),
        _ => out.push_str("    name_matching: block\n"),
    }
    if r.chance(0.5) {
        let _ = writeln!(
            out,
            "    cooling_off: {}",
            r.pick(&["none", "none", "24h", "3d"])
        );
    }
    // Strong banks always state their limit (a code guessed without one could not be
    // judged); about a fifth of the weak ones leave it undescribed.
    if linking != Linking::Weak || (!step_limit && r.chance(0.8)) {
        let strong = linking != Linking::Weak;
        let _ = writeln!(
            out,
            "    limits:\n      attempts: {}",
            attempts(&mut r, strong)
        );
    }

    let mut notices = String::new();
    match r.below(5) {
        0 => {}
        1 => notices.push_str("  - event: account_linked\n    sent: false\n"),
        2 => notices.push_str(
            "  - event: account_linked\n    channels: [post]\n    recipient: registered_contact\n    contacts: [postal]\n    timing: batched\n",
        ),
        _ => notices.push_str(
            "  - event: account_linked\n    channels: [sms]\n    recipient: registered_contact\n    contacts: [mobile]\n    timing: immediate\n",
        ),
    }
    match (email, r.below(3)) {
        (_, 0) => {}
        (true, 1) => notices.push_str(
            "  - event: charge\n    channels: [email]\n    recipient: registered_contact\n    contacts: [email]\n    timing: immediate\n",
        ),
        _ => notices.push_str("  - event: charge\n    sent: false\n"),
    }
    if !notices.is_empty() {
        out.push_str("\nnotifications:\n");
        out.push_str(&notices);
    }
    monitoring_and_compensation(&mut out, &mut r);
    out
}

fn monitoring_and_compensation(out: &mut String, r: &mut Rng) {
    match r.below(3) {
        0 => {}
        1 => out.push_str("\nmonitoring:\n  level: none\n"),
        _ => out.push_str(
            "\nmonitoring:\n  level: rule_based\n  action: alert_only\n  signals: [new_link, velocity, amount]\n",
        ),
    }
    match r.below(3) {
        0 => {}
        1 => out.push_str("\ncompensation:\n  published: false\n"),
        _ => out.push_str(
            "\ncompensation:\n  published: true\n  scope: [own_service, linked_services]\n",
        ),
    }
}

/// The text of wallet `w`, which delegates linking to `banks` and `gateways` (ids, ascending).
fn wallet(ids: &Ids, w: u32, seed: u64, banks: &[String], gateways: &[String]) -> String {
    let mut r = Rng::stream(seed, WALLET, u64::from(w));
    let id = ids.wallet(w);
    let kind = if r.chance(0.65) {
        "fund_transfer_operator"
    } else {
        "code_payment"
    };
    // (level, method): a third e-mail only, a third phone only, a third eKYC.
    let proofing = match r.below(9) {
        0..=2 => ("email_only", None),
        3..=5 => ("phone_only", None),
        _ => (
            "ekyc",
            Some(*r.pick(&["ic_chip", "jpki", "photo_id_selfie", "bank_reference"])),
        ),
    };
    let proofed = proofing.1.is_some();
    let registrant = if proofed {
        "holder_after_proofing"
    } else {
        "account_opener"
    };
    let passkey = r.chance(if proofed { 0.5 } else { 0.1 });
    let secret = if passkey { "passkey" } else { "password" };

    let mut out = String::with_capacity(2048 + 40 * (banks.len() + gateways.len()));
    header(&mut out, "A wallet", seed);
    let level = match proofing {
        (level, Some(method)) => format!("{level} ({method})"),
        (level, None) => level.to_owned(),
    };
    service(
        &mut out,
        &id,
        &format!("架空ウォレット {}", &id["wallet-".len()..]),
        kind,
        &format!(
            "Synthetic wallet; opens accounts with {level} proofing and hands linking to banks ({} directly, through {} linking gateways).",
            banks.len(),
            gateways.len()
        ),
        seed,
    );

    let _ = writeln!(
        out,
        "contacts:\n  email:\n    kind: email\n    registered_by: {registrant}\n  phone:\n    kind: phone\n    registered_by: {registrant}"
    );
    if passkey {
        let _ = writeln!(
            out,
            "  app:\n    kind: app_push\n    registered_by: {registrant}"
        );
    }

    out.push_str("\nflows:\n  registration:\n    kind: registration\n    identity_proofing:\n");
    let _ = writeln!(out, "      level: {}", proofing.0);
    if let Some(method) = proofing.1 {
        let _ = writeln!(out, "      method: {method}");
    }
    out.push_str("    steps:\n");
    if proofing.0 == "email_only" {
        out.push_str(
            "      - verify: [email_address]\n      - verify: [email_otp]\n        delivered_to: contact_supplied_in_flow\n",
        );
    } else {
        out.push_str(
            "      - verify: [phone_number]\n      - verify: [sms_otp]\n        delivered_to: contact_supplied_in_flow\n",
        );
    }
    match proofing.1 {
        Some("jpki") => out.push_str("      - verify: [jpki_signature]\n"),
        Some(_) => out.push_str(
            "      - verify: [holder_name, date_of_birth, postal_address]\n        note: Read from the identity document.\n",
        ),
        None => {}
    }

    out.push_str("\n  login:\n    kind: login\n    steps:\n");
    if passkey {
        out.push_str("      - verify: [passkey]\n");
    } else {
        out.push_str("      - verify: [email_address, password]\n");
        if r.chance(0.4) {
            out.push_str(
                "      - verify: [sms_otp]\n        delivered_to: registered_contact\n        contact: phone\n",
            );
        }
    }
    limits(&mut out, &mut r, 0.85, proofed);

    if r.chance(0.7) {
        out.push_str("\n  password_reset:\n    kind: password_reset\n    steps:\n");
        if r.chance(0.15) {
            // The 7pay pattern: personal data, and the link to any address typed in.
            out.push_str(
                "      - verify: [email_address, date_of_birth]\n      - verify: [email_link]\n        delivered_to: contact_supplied_in_flow\n",
            );
        } else {
            out.push_str(
                "      - verify: [email_address]\n      - verify: [email_link]\n        delivered_to: registered_contact\n        contact: email\n",
            );
        }
        if r.chance(0.5) {
            let _ = writeln!(out, "    cooling_off: {}", r.pick(&["none", "24h"]));
        }
        limits(&mut out, &mut r, 0.8, proofed);
    }

    if !banks.is_empty() || !gateways.is_empty() {
        let _ = writeln!(
            out,
            "\n  account_linking:\n    kind: account_linking\n    steps:\n      - verify: [{secret}]\n    delegates_to:"
        );
        for b in banks {
            let _ = writeln!(out, "      - {{service: {b}, flow: account_linking}}");
        }
        for g in gateways {
            let _ = writeln!(out, "      - {{service: {g}, flow: account_linking}}");
        }
        let matching = match (proofed, r.below(10)) {
            (true, 0..=6) => Some("block"),
            (true, 7) => Some("warn"),
            (_, 8) => None,
            _ => Some("none"),
        };
        if let Some(m) = matching {
            let _ = writeln!(out, "    name_matching: {m}");
        }
        if r.chance(0.7) {
            let _ = writeln!(out, "    cooling_off: {}", r.pick(&["none", "none", "24h"]));
        }
        limits(&mut out, &mut r, 0.85, proofed);
    }

    let _ = writeln!(
        out,
        "\n  charge:\n    kind: charge\n    steps:\n      - verify: [{secret}]"
    );
    let amounts = *r.pick(&[
        "{currency: JPY, per_transaction: 50000, per_day: 100000, per_month: 300000}",
        "{currency: JPY, per_month: 300000}",
        "{currency: JPY, per_transaction: 100000, per_day: 200000, per_month: 500000}",
        "{currency: JPY, per_day: 500000}",
        "{currency: JPY}",
    ]);
    limits_with(&mut out, &mut r, 0.85, proofed, Some(amounts));

    if r.chance(0.4) {
        out.push_str(
            "\n  card_registration:\n    kind: card_registration\n    steps:\n      - verify: [card_number, card_expiry, card_security_code]\n",
        );
        let three_ds = r.chance(0.5);
        if three_ds {
            out.push_str(
                "      - verify: [issuer_3ds_app]\n        delivered_to: registered_contact\n",
            );
        }
        let _ = writeln!(
            out,
            "    name_matching: {}",
            r.pick(&["none", "warn", "block"])
        );
        let limit = if three_ds || r.chance(0.5) {
            "{scope: card_number, max: 5, window: 24h, lockout: permanent}"
        } else {
            "{scope: none}"
        };
        let _ = writeln!(out, "    limits:\n      attempts: {limit}");
    }

    if kind == "code_payment" || r.chance(0.5) {
        out.push_str("\n  payment:\n    kind: payment\n    steps:\n");
        let _ = writeln!(
            out,
            "      - verify: [{}]",
            r.pick(&["registered_device, biometric_local", "registered_device"])
        );
        let amounts = *r.pick(&[
            "{currency: JPY, per_transaction: 50000, per_day: 100000}",
            "{currency: JPY, per_month: 500000}",
        ]);
        limits_with(&mut out, &mut r, 0.0, proofed, Some(amounts));
    }

    let mut notices = String::new();
    let contacts = if passkey { "[app, email]" } else { "[email]" };
    let channels = if passkey { "[push, email]" } else { "[email]" };
    for event in ["account_linked", "charge", "password_changed"] {
        match r.below(4) {
            0 => {}
            1 => {
                let _ = writeln!(notices, "  - event: {event}\n    sent: false");
            }
            _ => {
                let _ = writeln!(
                    notices,
                    "  - event: {event}\n    channels: {channels}\n    recipient: registered_contact\n    contacts: {contacts}\n    timing: immediate"
                );
            }
        }
    }
    if !notices.is_empty() {
        out.push_str("\nnotifications:\n");
        out.push_str(&notices);
    }
    if !passkey && r.chance(0.85) {
        let _ = writeln!(
            out,
            "\npassword_policy:\n  min_length: {}\n  blocklist: {}",
            r.pick(&[6, 8, 8, 10, 12]),
            r.chance(0.6)
        );
    }
    monitoring_and_compensation(&mut out, &mut r);
    out
}

/// A flow's `limits`: an attempt limit described with chance `described`, and `amounts`.
fn limits_with(out: &mut String, r: &mut Rng, described: f64, strong: bool, amounts: Option<&str>) {
    let attempts = r.chance(described).then(|| attempts(r, strong));
    if attempts.is_none() && amounts.is_none() {
        return;
    }
    out.push_str("    limits:\n");
    if let Some(a) = attempts {
        let _ = writeln!(out, "      attempts: {a}");
    }
    if let Some(a) = amounts {
        let _ = writeln!(out, "      amounts: {a}");
    }
}

fn limits(out: &mut String, r: &mut Rng, described: f64, strong: bool) {
    limits_with(out, r, described, strong, None);
}

/// The text of gateway `g`: it routes holders from `initiators` to `banks`.
fn gateway(ids: &Ids, g: u32, seed: u64, initiators: &[String], banks: &[String]) -> String {
    let mut r = Rng::stream(seed, GATEWAY, u64::from(g));
    let id = ids.gateway(g);
    let mut out = String::with_capacity(1024 + 40 * banks.len());
    header(&mut out, "A linking gateway", seed);
    service(
        &mut out,
        &id,
        &format!("架空口座振替ゲートウェイ {}", &id["gateway-".len()..]),
        "linking_gateway",
        &format!(
            "Synthetic linking gateway in front of {} banks.",
            banks.len()
        ),
        seed,
    );
    out.push_str(
        "flows:\n  account_linking:\n    kind: account_linking\n    steps:\n      - verify: [account_number]\n        note: Selects the bank and the account; the bank authenticates the holder.\n",
    );
    if !initiators.is_empty() {
        let _ = writeln!(out, "    initiated_by: [{}]", initiators.join(", "));
    }
    out.push_str("    delegates_to:\n");
    for b in banks {
        let _ = writeln!(out, "      - {{service: {b}, flow: account_linking}}");
    }
    out.push_str("    name_matching: none\n");
    if r.chance(0.5) {
        out.push_str("\nnotifications:\n  - event: account_linked\n    sent: false\n");
    }
    out
}

fn write(dir: &Path, id: &str, text: &str) -> Result<(), String> {
    let path = dir.join(format!("{id}.yaml"));
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Writes the market `args` describes; returns the number of files written.
pub fn generate(args: &Args) -> Result<usize, String> {
    if args.banks == 0 || args.wallets == 0 {
        return Err("--banks and --wallets must be at least 1".into());
    }
    let most = u64::from(args.banks) * u64::from(args.wallets);
    if args.links > most {
        return Err(format!(
            "--links {} is more than banks × wallets ({most}): a wallet links a bank at most once",
            args.links
        ));
    }
    match std::fs::read_dir(&args.out) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(format!(
                    "{} is not empty; give a new or empty folder, so no file of another market stays beside this one",
                    args.out.display()
                ));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot read {}: {e}", args.out.display())),
    }
    let ids = Ids::new(args);
    let graph = build_graph(args);
    let folders = ["banks", "wallets", "gateways"].map(|f| args.out.join(f));
    for folder in &folders {
        std::fs::create_dir_all(folder)
            .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
    }

    // Who sends holders to each bank and gateway: gateways first, then wallets, so that each
    // list is in id order.
    let mut bank_initiators: Vec<Vec<String>> = vec![Vec::new(); args.banks as usize];
    for (g, banks) in graph.gateway_banks.iter().enumerate() {
        for &b in banks {
            bank_initiators[b as usize].push(ids.gateway(g as u32));
        }
    }
    let mut gateway_initiators: Vec<Vec<String>> = vec![Vec::new(); args.gateways as usize];
    for w in 0..args.wallets {
        for &b in &graph.wallet_banks[w as usize] {
            bank_initiators[b as usize].push(ids.wallet(w));
        }
        for &g in &graph.wallet_gateways[w as usize] {
            gateway_initiators[g as usize].push(ids.wallet(w));
        }
    }

    let majors = major_banks(args.banks);
    for (b, initiators) in bank_initiators.iter().enumerate() {
        let b = b as u32;
        write(
            &folders[0],
            &ids.bank(b),
            &bank(&ids, b, majors, args.seed, initiators),
        )?;
    }
    drop(bank_initiators);
    for w in 0..args.wallets {
        let banks: Vec<String> = graph.wallet_banks[w as usize]
            .iter()
            .map(|&b| ids.bank(b))
            .collect();
        let gateways: Vec<String> = graph.wallet_gateways[w as usize]
            .iter()
            .map(|&g| ids.gateway(g))
            .collect();
        write(
            &folders[1],
            &ids.wallet(w),
            &wallet(&ids, w, args.seed, &banks, &gateways),
        )?;
    }
    for g in 0..args.gateways {
        let banks: Vec<String> = graph.gateway_banks[g as usize]
            .iter()
            .map(|&b| ids.bank(b))
            .collect();
        let text = gateway(&ids, g, args.seed, &gateway_initiators[g as usize], &banks);
        write(&folders[2], &ids.gateway(g), &text)?;
    }
    Ok((args.banks + args.wallets + args.gateways) as usize)
}

/// A way to break a policy file, each refused by a different check of the loader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokenKind {
    /// An unclosed flow sequence: a YAML syntax error.
    SyntaxError,
    /// A field the schema does not know, under `service`.
    UnknownField,
    /// A misspelt factor in a step's `verify` list.
    BadFactor,
    /// A line indented with a tab.
    Tabs,
    /// NUL bytes: binary content.
    Binary,
    /// Bytes that are not UTF-8 in a string.
    InvalidUtf8,
    /// A line longer than the default line budget (64 KiB).
    LongLine,
    /// The same key twice in one mapping.
    DuplicateKeys,
    /// `delegates_to` naming a service no file defines.
    DanglingDelegate,
}

impl BrokenKind {
    pub const ALL: [BrokenKind; 9] = [
        BrokenKind::SyntaxError,
        BrokenKind::UnknownField,
        BrokenKind::BadFactor,
        BrokenKind::Tabs,
        BrokenKind::Binary,
        BrokenKind::InvalidUtf8,
        BrokenKind::LongLine,
        BrokenKind::DuplicateKeys,
        BrokenKind::DanglingDelegate,
    ];

    pub fn name(self) -> &'static str {
        match self {
            BrokenKind::SyntaxError => "syntax-error",
            BrokenKind::UnknownField => "unknown-field",
            BrokenKind::BadFactor => "bad-factor",
            BrokenKind::Tabs => "tabs",
            BrokenKind::Binary => "binary",
            BrokenKind::InvalidUtf8 => "invalid-utf8",
            BrokenKind::LongLine => "long-line",
            BrokenKind::DuplicateKeys => "duplicate-keys",
            BrokenKind::DanglingDelegate => "dangling-delegate",
        }
    }
}

/// A broken file written by [`write_broken`]: its path under the output folder and its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub path: PathBuf,
    pub kind: BrokenKind,
}

/// How many broken files make `percent`% of a tree that holds `good` valid files besides them.
pub fn broken_count(good: usize, percent: f64) -> Result<usize, String> {
    if !(0.0..100.0).contains(&percent) {
        return Err(format!(
            "--broken-percent {percent} is not a share: give a number from 0 up to (not including) 100"
        ));
    }
    Ok((good as f64 * percent / (100.0 - percent)).ceil() as usize)
}

/// A valid policy of a service `id` of its own: a wallet whose linking delegates to a flow of
/// the same file, so every kind of damage below has a line to land on.
fn broken_base(id: &str, seed: u64) -> String {
    let mut out = String::with_capacity(1024);
    header(&mut out, "A deliberately broken file", seed);
    service(
        &mut out,
        id,
        &format!("架空の壊れたファイル {}", &id["broken-".len()..]),
        "fund_transfer_operator",
        "Synthetic service whose file is broken on purpose, to test bad input at scale.",
        seed,
    );
    out.push_str(
        "contacts:\n  email:\n    kind: email\n    registered_by: account_opener\n\n\
         flows:\n  login:\n    kind: login\n    steps:\n      - verify: [email_address, password]\n\n  \
         account_linking:\n    kind: account_linking\n    steps:\n      - verify: [password]\n    \
         delegates_to:\n      - {service: SELF, flow: login}\n",
    );
    out.replace("SELF", id)
}

/// The bytes of broken file `id` of `kind`.
fn broken_file(id: &str, kind: BrokenKind, seed: u64) -> Vec<u8> {
    let base = broken_base(id, seed);
    let text = match kind {
        BrokenKind::SyntaxError => {
            base.replace("[email_address, password]", "[email_address, password")
        }
        BrokenKind::UnknownField => base.replace(
            "  jurisdiction: JP\n",
            "  jurisdiction: JP\n  colour: blue\n",
        ),
        BrokenKind::BadFactor => {
            base.replace("[email_address, password]", "[email_address, pasword]")
        }
        BrokenKind::Tabs => base.replace("    kind: login\n", "\tkind: login\n"),
        BrokenKind::Binary => {
            base.replace("  jurisdiction: JP\n", "  jurisdiction: JP\n\0\0\0\0\n")
        }
        BrokenKind::InvalidUtf8 => {
            let mut bytes = base.into_bytes();
            let at = bytes.len() / 2;
            bytes.splice(at..at, [0xff, 0xfe, 0xfd]);
            return bytes;
        }
        BrokenKind::LongLine => base.replace(
            "  description: ",
            &format!("  description: {} ", "long ".repeat(64 * 1024 / 5 + 1)),
        ),
        BrokenKind::DuplicateKeys => base.replace(
            "  kind: fund_transfer_operator\n",
            "  kind: fund_transfer_operator\n  kind: bank\n",
        ),
        BrokenKind::DanglingDelegate => base.replace(
            &format!("{{service: {id}, flow: login}}"),
            "{service: no-such-bank, flow: account_linking}",
        ),
    };
    text.into_bytes()
}

/// Writes broken files into `args.out/broken/`, `percent`% of all the files once the `good`
/// ones are counted, cycling through [`BrokenKind::ALL`]. Ids `broken-00001`, ... collide with
/// no generated service.
pub fn write_broken(args: &Args, good: usize, percent: f64) -> Result<Vec<Broken>, String> {
    let count = broken_count(good, percent)?;
    if count == 0 {
        return Ok(Vec::new());
    }
    let folder = args.out.join("broken");
    std::fs::create_dir_all(&folder)
        .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
    let width = count.ilog10() as usize + 1;
    let mut written = Vec::with_capacity(count);
    for index in 0..count {
        let kind = BrokenKind::ALL[index % BrokenKind::ALL.len()];
        let id = format!("broken-{:0w$}", index + 1, w = width.max(5));
        let path = folder.join(format!("{id}-{}.yaml", kind.name()));
        std::fs::write(&path, broken_file(&id, kind, args.seed))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        written.push(Broken { path, kind });
    }
    Ok(written)
}

/// The command line: the market, and how much of it to break.
#[derive(Debug, Parser)]
#[command(
    about = "Writes a synthetic market of valid policy files (format v2), and broken ones on request"
)]
struct Cli {
    #[command(flatten)]
    market: Args,
    /// Also write broken files (in `broken/`) making up this percentage of all the files,
    /// one kind after another: syntax error, unknown field, bad factor, tabs, binary, invalid
    /// UTF-8, over-long line, duplicate keys, dangling delegates_to.
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    broken_percent: f64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let args = &cli.market;
    // Refused before anything is written, so a bad share leaves no half-made market.
    if let Err(message) = broken_count(0, cli.broken_percent) {
        eprintln!("error: {message}");
        return ExitCode::from(2);
    }
    let written = generate(args).and_then(|files| {
        write_broken(args, files, cli.broken_percent).map(|broken| (files, broken))
    });
    match written {
        Ok((files, broken)) => {
            println!(
                "wrote {files} policy files to {}: {} banks, {} wallets, {} gateways, {} direct wallet-bank links (seed {})",
                args.out.display(),
                args.banks,
                args.wallets,
                args.gateways,
                args.links,
                args.seed
            );
            if !broken.is_empty() {
                println!(
                    "wrote {} broken files to {} ({} kinds in turn: {})",
                    broken.len(),
                    args.out.join("broken").display(),
                    BrokenKind::ALL.len(),
                    BrokenKind::ALL.map(BrokenKind::name).join(", ")
                );
            }
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}
