//! Never a panic: thousands of deterministic mutations of the bundled policies (byte flips,
//! truncations, inserted YAML punctuation, duplicated lines) go through the loader, and the
//! ones that still load go through every bundled pack. Each input must end as a valid policy
//! or as located diagnostics.

use authaudit::evaluate::{PackSelection, evaluate};
use authaudit::factors::Catalogue;
use authaudit::load::Loader;
use authaudit::rules::RuleSet;
use authaudit::source::SizeBudget;
use std::path::Path;

/// xorshift64*: a fixed sequence, so a failure reproduces exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const PUNCTUATION: &[&[u8]] = &[
    b":",
    b"- ",
    b"[",
    b"]",
    b"{",
    b"}",
    b"&a ",
    b"*a",
    b"!!str ",
    b"!!python/object ",
    b"\t",
    b"\n",
    b"'",
    b"\"",
    b"#",
    b"|",
    b">",
    b"---\n",
    b"~",
    b"\xff",
    b"\x00",
    b"\xe3\x81",
    b"99999999999999999999",
];

fn mutate(rng: &mut Rng, text: &[u8]) -> Vec<u8> {
    let mut bytes = text.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(bytes.len());
        match rng.below(5) {
            0 => bytes[at] = (rng.next() & 0xff) as u8,
            1 => bytes.truncate(at),
            2 => {
                let piece = PUNCTUATION[rng.below(PUNCTUATION.len())];
                bytes.splice(at..at, piece.iter().copied());
            }
            3 => {
                let end = (at + rng.below(80)).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                bytes.splice(at..at, copy);
            }
            _ => {
                let end = (at + rng.below(40)).min(bytes.len());
                bytes.drain(at..end);
            }
        }
        if bytes.is_empty() {
            break;
        }
    }
    bytes
}

#[test]
fn mutated_policies_never_panic_the_loader_or_the_rules() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let mut files: Vec<_> = walkdir::WalkDir::new(&root)
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let originals: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(p).unwrap(),
            )
        })
        .collect();
    let loader = Loader::new(Catalogue::bundled(), SizeBudget::default());
    let rules = RuleSet::bundled();
    let mut rng = Rng(0x000A_717A_0D17_2020);
    let (mut rejected, mut accepted) = (0, 0);
    for round in 0..300 {
        // Mutate one file of the tree per round and load the whole tree, so cross-file checks
        // and delegation see broken neighbours too.
        let victim = rng.below(originals.len());
        let texts: Vec<(String, String)> = originals
            .iter()
            .enumerate()
            .map(|(i, (name, bytes))| {
                let bytes = if i == victim {
                    mutate(&mut rng, bytes)
                } else {
                    bytes.clone()
                };
                (name.clone(), String::from_utf8_lossy(&bytes).into_owned())
            })
            .collect();
        let tree = loader.load_texts(&texts);
        let broken = &tree.files[victim];
        if broken.is_valid() {
            accepted += 1;
        } else {
            rejected += 1;
            for diagnostic in &broken.diagnostics {
                assert!(
                    !diagnostic.message.is_empty(),
                    "round {round}: empty message"
                );
                assert!(
                    diagnostic.hint.is_some(),
                    "round {round}: no hint for {:?}",
                    diagnostic.code
                );
            }
        }
        let evaluation = evaluate(&tree, &rules, &PackSelection::All, loader.catalogue());
        assert!(
            evaluation.errors.is_empty(),
            "round {round}: {:#?}",
            evaluation.errors
        );
    }
    assert!(
        rejected > 100 && accepted > 10,
        "mutations too mild or too harsh: {rejected} rejected, {accepted} accepted"
    );
}
