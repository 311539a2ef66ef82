//! Fuzz target `core_frames`: see `tests::fuzz_targets::core_frames`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tests::fuzz_targets::core_frames(data));
