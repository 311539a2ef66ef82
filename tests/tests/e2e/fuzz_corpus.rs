//! Replays every fuzz input committed under `tests/fuzz/` (the corpora the fuzzers grew and
//! every crash they ever found, in `crashers/`) through the same target bodies, so the
//! ordinary test run keeps them fixed. The fuzzers themselves run in `scripts/test.sh`.

use std::path::PathBuf;

use tests::fuzz_targets::{self, TARGETS};

#[test]
fn every_committed_fuzz_input_runs_without_a_panic() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut replayed = 0;
    for target in TARGETS {
        for kind in ["corpus", "crashers"] {
            let dir = root.join(kind).join(target);
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries {
                let path = entry.expect("entry").path();
                let data = std::fs::read(&path).expect("read input");
                fuzz_targets::run(target, &data);
                replayed += 1;
            }
        }
    }
    assert!(
        replayed >= 20,
        "the seed corpus is committed ({replayed} inputs)"
    );
}

#[test]
fn every_seed_runs_without_a_panic() {
    // The seeds as built now (the committed `seed-*` files are one such build; documents
    // get fresh actor ids, so their bytes differ from run to run).
    for (target, _, data) in fuzz_targets::seeds() {
        fuzz_targets::run(target, &data);
    }
}
