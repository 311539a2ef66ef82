//! Fuzz target `protocol_decode`: see `tests::fuzz_targets::protocol_decode`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tests::fuzz_targets::protocol_decode(data));
