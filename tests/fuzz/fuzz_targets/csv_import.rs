//! Fuzz target `csv_import`: see `tests::fuzz_targets::csv_import`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tests::fuzz_targets::csv_import(data));
