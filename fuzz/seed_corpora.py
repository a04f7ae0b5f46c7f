#!/usr/bin/env python3
"""Writes the seed inputs of the fuzz targets from the repository's own files.

    python3 fuzz/seed_corpora.py OUT     # OUT/<target>/<seed>, one folder per target

The seeds are then minimised into fuzz/corpus/<target> (docs/fuzzing.md). Standard library
only; run from anywhere. Files within one input are separated by a NUL byte, as the targets
(fuzz/src/lib.rs) split them.
"""

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SEP = b"\0"


def read(path):
    return (ROOT / path).read_bytes()


def yaml_files(folder):
    return sorted(p for p in (ROOT / folder).rglob("*") if p.suffix in (".yaml", ".yml"))


def write(out, target, name, data):
    folder = out / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def slug(path):
    return str(path.relative_to(ROOT)).replace("/", "_")


def policy_seeds(out):
    """Every policy and every bad-input fixture alone, and linked policies together."""
    folders = ["policies", "tests/fixtures/bad", "tests/fixtures/v1", "tests/fixtures/tree",
               "tests/fixtures/traps", "tests/fixtures/dated-policies", "tests/fixtures/ci"]
    for folder in folders:
        for path in yaml_files(folder):
            write(out, "policy_loader", slug(path), path.read_bytes())
    docomo = "policies/incidents/docomo-koza-2020/"
    groups = {
        "wallet-bank": ["policies/reference/ref-wallet.yaml", "policies/reference/ref-bank.yaml"],
        "docomo-two-banks": [docomo + "docomo-koza.yaml", docomo + "jp-regional-bank-a.yaml",
                             docomo + "jp-chigin-web-kofuri.yaml"],
        "delegation": [str(p.relative_to(ROOT)) for p in
                       yaml_files("tests/fixtures/tree/delegation")][:3],
        "dup-ids": [str(p.relative_to(ROOT)) for p in
                    yaml_files("tests/fixtures/tree/dup-ids")][:3],
    }
    for name, paths in groups.items():
        if len(paths) >= 2:
            write(out, "policy_loader", "group-" + name, SEP.join(read(p) for p in paths))


def check_seeds(out):
    """Policies to sit beside the docomo reconstruction: every other policy, a second wallet
    delegating to the docomo banks, and the bad-input fixtures."""
    for folder in ["policies/reference", "policies/incidents/7pay-2019",
                   "policies/incidents/paypay-2018", "tests/fixtures/bad", "tests/fixtures/v1",
                   "tests/fixtures/dated-policies"]:
        for path in yaml_files(folder):
            write(out, "check_and_render", slug(path), path.read_bytes())
    wallet = read("policies/incidents/docomo-koza-2020/docomo-koza.yaml")
    renamed = re.sub(rb"(?m)^(  id: )docomo-koza$", rb"\1second-wallet", wallet, count=1)
    assert renamed != wallet, "docomo-koza.yaml no longer has `  id: docomo-koza`"
    write(out, "check_and_render", "second-wallet.yaml", renamed)


def without_comments(text):
    return "".join(line for line in text.splitlines(keepends=True)
                   if not line.lstrip().startswith("#"))


def split_top(text, key):
    """(before, entries, after) of the top-level list `key:` whose entries start `  - id:`."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith(key + ":"))
    end = next((i for i in range(start + 1, len(lines))
                if lines[i].strip() and not lines[i].startswith((" ", "-"))), len(lines))
    entries, current = [], None
    for line in lines[start + 1:end]:
        if line.startswith("  - id:"):
            current = [line]
            entries.append(current)
        elif current is not None:
            current.append(line)
    return "".join(lines[:start + 1]), ["".join(e) for e in entries], "".join(lines[end:])


def pack_seeds(out):
    """Each bundled rule alone, in a copy of its pack renamed so its ids do not collide with
    the bundled pack it sits beside, with only the sources it cites; and the pack fixtures."""
    for manifest_path in sorted((ROOT / "rules").glob("*/pack.yaml")):
        pack = manifest_path.parent.name
        manifest = without_comments(manifest_path.read_text())
        manifest = re.sub(r"(?m)^id: (\S+)$", r"id: fuzz-\1", manifest, count=1)
        head, sources, tail = split_top(manifest, "sources")
        rules_text = without_comments((manifest_path.parent / "rules.yaml").read_text())
        rules_head, rules, rules_tail = split_top(rules_text, "rules")
        for index, rule in enumerate(rules):
            cited = set(re.findall(r"document: *\"?([^\s\"]+)", rule))
            kept = [s for s in sources if re.match(r"  - id: *\"?([^\s\"]+)", s).group(1) in cited]
            rule = re.sub(r"^  - id: (\S+)", r"  - id: FUZZ-\1", rule, count=1)
            data = (head + "".join(kept) + tail).encode() + SEP + \
                (rules_head + rule + rules_tail).encode()
            write(out, "rule_pack", f"{pack}-{index:02}", data)
    for folder in sorted((ROOT / "tests/fixtures/packs").iterdir()):
        if (folder / "pack.yaml").is_file():
            data = (folder / "pack.yaml").read_bytes() + SEP + (folder / "rules.yaml").read_bytes()
            write(out, "rule_pack", "fixture-" + folder.name, data)
    hostile = ROOT / "tests/fixtures/ci/hostile-pack"
    write(out, "rule_pack", "fixture-hostile",
          (hostile / "pack.yaml").read_bytes() + SEP + (hostile / "rules.yaml").read_bytes())


def profile_seeds(out):
    """Each bundled profile renamed (a bundled id would be refused as a duplicate) with its file
    name, and every profile fixture under its own name."""
    for path in yaml_files("rules/attackers"):
        text = path.read_bytes()
        renamed = re.sub(rb"(?m)^id: (\S+)$", rb"id: fuzz-\1", text, count=1)
        assert renamed != text, f"{path} has no top-level `id:`"
        write(out, "attacker_profile", path.name, b"fuzz-" + path.name.encode() + SEP + renamed)
    for path in yaml_files("tests/fixtures/attackers"):
        write(out, "attacker_profile", slug(path), path.name.encode() + SEP + path.read_bytes())


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = pathlib.Path(sys.argv[1])
    policy_seeds(out)
    check_seeds(out)
    pack_seeds(out)
    profile_seeds(out)
    for target in sorted(out.iterdir()):
        files = list(target.iterdir())
        size = sum(f.stat().st_size for f in files)
        print(f"{target.name}: {len(files)} seeds, {size // 1024} KiB")


if __name__ == "__main__":
    main()
