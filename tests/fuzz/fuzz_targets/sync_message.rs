//! Fuzz target `sync_message`: see `tests::fuzz_targets::sync_message`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tests::fuzz_targets::sync_message(data));
