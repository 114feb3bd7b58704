//! Fuzz target `roundtrip`: see `dynthrift_testkit::fuzz::roundtrip` (the corpus replay in
//! `tests/fuzz_corpus.rs` runs the same function).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| dynthrift_testkit::fuzz::roundtrip(data));
