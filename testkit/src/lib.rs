//! Shared by tests, benches and fuzz targets: the benchmark workload types (derived), their
//! sample values built exactly as `shared/workloads/README.md` says, the roundtrip check, a
//! counting allocator and hostile-input generators.

pub mod alloc;
pub mod fuzz;
pub mod hostile;
pub mod oracle;
pub mod schemagen;
pub mod shapes;
pub mod workloads;

use dynthrift::{Codec, Describe, Options};

/// Encodes `v` with `options`, checks `encoded_len`, decodes, and returns the bytes and the
/// decoded value.
pub fn roundtrip<T: Describe>(v: &T, options: Options) -> (Vec<u8>, T) {
    let codec = Codec::<T>::with_options(options).expect("codec");
    let bytes = codec.encode(v).expect("encode");
    assert_eq!(
        codec.encoded_len(v).expect("encoded_len"),
        bytes.len(),
        "encoded_len disagrees with encode"
    );
    let back = codec.decode(&bytes).expect("decode");
    (bytes, back)
}

/// Path of the repository's test data folder.
pub fn testdata(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(rel)
}

/// Checks that `encode` sized `bytes`' buffer once: the writer never had to grow it (which
/// would have reallocated and copied the whole output, and doubled its capacity).
pub fn assert_sized_once(bytes: &Vec<u8>) {
    assert!(
        bytes.capacity() <= bytes.len() + dynthrift::WRITE_SLACK,
        "encode grew its buffer: {} bytes in a capacity of {}",
        bytes.len(),
        bytes.capacity()
    );
}
