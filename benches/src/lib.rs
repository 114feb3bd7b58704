//! Benchmarks of dynthrift against static codecs.
