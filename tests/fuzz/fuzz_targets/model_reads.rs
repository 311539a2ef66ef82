//! Fuzz target `model_reads`: see `tests::fuzz_targets::model_reads`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tests::fuzz_targets::model_reads(data));
