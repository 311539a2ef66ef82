//! Writes the fuzz targets' seed inputs ([`tests::fuzz_targets::seeds`]) into
//! `tests/fuzz/corpus/<target>/seed-<name>`, where the fuzzers start and the corpus replay
//! test reads them. Run after changing the seeds; the files are committed.

use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    for (target, name, data) in tests::fuzz_targets::seeds() {
        let dir = corpus.join(target);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(format!("seed-{name}")), data)?;
    }
    Ok(())
}
