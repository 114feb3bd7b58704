//! dynthrift-interp: the reference backend. It runs a descriptor plan over host memory.
#![deny(unsafe_code)]
