//! Embeds the bundled rule packs (`rules/<pack>/pack.yaml` and `rules.yaml`) and attacker
//! profiles (`rules/attackers/*.yaml`) in the binary, so `authaudit` runs from any directory.
//! Both are found by walking `rules/`, so adding a pack or a profile needs no code change.

use std::fmt::Write;
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut packs: Vec<_> = std::fs::read_dir(&root)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                // A pack still being written (no rules.yaml yet) is left out rather than breaking the build;
                // the test suite checks that every expected pack is bundled.
                .filter(|p| p.join("pack.yaml").is_file() && p.join("rules.yaml").is_file())
                .collect()
        })
        .unwrap_or_default();
    packs.sort();
    let mut code = String::from(
        "/// (pack folder name, pack.yaml, rules.yaml) of every bundled pack.\npub const BUNDLED_PACKS: &[(&str, &str, &str)] = &[\n",
    );
    for pack in packs {
        let name = pack.file_name().unwrap().to_string_lossy().into_owned();
        for file in ["pack.yaml", "rules.yaml"] {
            println!("cargo:rerun-if-changed={}", pack.join(file).display());
        }
        writeln!(
            code,
            "    ({name:?}, include_str!({:?}), include_str!({:?})),",
            pack.join("pack.yaml").display().to_string(),
            pack.join("rules.yaml").display().to_string()
        )
        .unwrap();
    }
    code.push_str("];\n");
    let out_dir = std::env::var("OUT_DIR").unwrap();
    std::fs::write(Path::new(&out_dir).join("bundled_packs.rs"), code).unwrap();
    std::fs::write(
        Path::new(&out_dir).join("bundled_attackers.rs"),
        attacker_profiles(&root.join("attackers")),
    )
    .unwrap();
}

/// `rules/attackers/*.yaml`, sorted, as a constant of (file name, text). The loader checks each
/// one when the set is built, so nothing is validated here; a test keeps the set error-free.
fn attacker_profiles(dir: &Path) -> String {
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yaml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut code = String::from(
        "/// (file name, text) of every bundled attacker profile, `rules/attackers/*.yaml`.\npub const BUNDLED_PROFILES: &[(&str, &str)] = &[\n",
    );
    for file in files {
        println!("cargo:rerun-if-changed={}", file.display());
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        writeln!(
            code,
            "    ({name:?}, include_str!({:?})),",
            file.display().to_string()
        )
        .unwrap();
    }
    code.push_str("];\n");
    code
}
