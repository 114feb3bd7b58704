//! `#[derive(Thrift)]`: emits descriptors that refer only to `::dynthrift::__private`.
#![forbid(unsafe_code)]
