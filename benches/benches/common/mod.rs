//! The implementations compared and the operations timed, shared by the bench targets
//! (`codec`: criterion; `report`: the markdown table). [`groups`] checks every implementation
//! against the reference before anything is timed and panics on any difference.
//!
//! Rows (implementations):
//! - `interp`: dynthrift's interpreter on derived Rust types with std host types
//!   (`String`, `Bytes`, std `HashMap`; `dynthrift_testkit::workloads`);
//! - `interp-faststr`: the same on the host types pilota uses (`FastStr`, `Bytes`, ahash maps;
//!   [`samples::fast`]), decoding from `Bytes` so that strings and binaries share the input;
//! - `interp-idl`: IDL-only values (`DynStruct`) of `baseline.thrift` loaded at run time;
//! - `jit-write` (encode only): the `jit` row's codec writing without the size pass, as
//!   Apache's code does (`Codec::write` into the reused buffer);
//! - `pilota`: pilota 0.13 generated code, `TBinaryProtocol` (Binary only: pilota 0.13.1's
//!   Compact decoder is broken upstream, cloudwego/pilota#371), decoding from `Bytes`;
//! - `pilota-unsafe` (decode only): the same code through `TBinaryUnsafeInputProtocol`, which
//!   skips bounds checks (sound only on trusted, complete input);
//! - `apache`: Apache Thrift 0.17's generated Rust code and the `thrift` crate;
//! - `memcpy`: copying the same number of bytes (encode: into the reused buffer; decode: into
//!   a new `Vec`).
//!
//! Encode computes the size, reserves it in a reused buffer and writes (Apache's code has no
//! size computation: it writes into the reused buffer directly). Decode reads the reference
//! bytes into a fresh value, which is dropped inside the timed operation.

#![allow(dead_code)] // each bench target uses its own part of this module

pub mod json;
pub mod path;
pub mod samples;
pub mod shapes;

use std::fmt::Debug;
use std::hint::black_box;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use dynthrift::{Codec, Describe, DynCodec, DynSchema, DynStruct, Options, Protocol};
use dynthrift_baselines::apache::{baseline as ab, partial as ap};
use dynthrift_baselines::pilota::thrift::Message;
use dynthrift_baselines::pilota::thrift::binary::TBinaryProtocol;
use dynthrift_baselines::pilota::thrift::binary_unsafe::TBinaryUnsafeInputProtocol;
use dynthrift_baselines::pilota_gen::pilota::partial as pp;
use dynthrift_baselines::thrift::protocol::{
    TBinaryInputProtocol, TBinaryOutputProtocol, TCompactInputProtocol, TCompactOutputProtocol,
    TSerializable,
};
use dynthrift_testkit::workloads as tk;

/// The dynthrift backends measured. The interpreter gives the rows `interp`,
/// `interp-faststr` and `interp-idl`; the JIT gives `jit`, `jit-faststr` and `jit-idl`
/// (Binary and Compact).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Interp,
    Jit,
}

pub const BACKENDS: &[Backend] = &[Backend::Interp, Backend::Jit];

impl Backend {
    pub fn options(self, protocol: Protocol) -> Options {
        match self {
            Backend::Interp => Options::default()
                .protocol(protocol)
                .backend(dynthrift::Backend::Interpreter),
            Backend::Jit => Options::default().protocol(protocol),
        }
    }

    /// Whether this backend has rows for `protocol` and `variant`.
    fn measures(self, protocol: Protocol, _variant: Variant) -> bool {
        match self {
            Backend::Interp => true,
            // The JIT compiles both protocols.
            Backend::Jit => matches!(protocol, Protocol::Binary | Protocol::Compact),
        }
    }

    fn row(self, variant: Variant) -> &'static str {
        match (self, variant) {
            (Backend::Interp, Variant::Std) => "interp",
            (Backend::Interp, Variant::FastStr) => "interp-faststr",
            (Backend::Interp, Variant::Idl) => "interp-idl",
            (Backend::Jit, Variant::Std) => "jit",
            (Backend::Jit, Variant::FastStr) => "jit-faststr",
            (Backend::Jit, Variant::Idl) => "jit-idl",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Variant {
    Std,
    FastStr,
    Idl,
}

/// Every row name, in table order.
pub const ROWS: &[&str] = &[
    "interp",
    "interp-faststr",
    "interp-idl",
    "jit",
    "jit-faststr",
    "jit-idl",
    "jit-write",
    "pilota",
    "pilota-unsafe",
    "apache",
    "memcpy",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    Small,
    Medium,
    Large,
    /// Full `Simple` bytes decoded as `PartialSimple`.
    SkipSmall,
    /// Full `Nesting` bytes decoded as `PartialNesting`.
    SkipMedium,
}

impl Workload {
    pub fn name(self) -> &'static str {
        match self {
            Workload::Small => "small",
            Workload::Medium => "medium",
            Workload::Large => "large",
            Workload::SkipSmall => "skip-small",
            Workload::SkipMedium => "skip-medium",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Encode,
    Decode,
}

impl Direction {
    pub fn name(self) -> &'static str {
        match self {
            Direction::Encode => "encode",
            Direction::Decode => "decode",
        }
    }
}

/// One timed operation of one implementation.
pub struct Bench {
    pub name: &'static str,
    pub op: Box<dyn FnMut()>,
}

/// The implementations of one workload, protocol and direction.
pub struct Group {
    pub workload: Workload,
    pub protocol: Protocol,
    pub direction: Direction,
    /// Size of the encoded message (for skip decode: of the full message read).
    pub bytes: usize,
    pub benches: Vec<Bench>,
}

impl Group {
    /// `encode/small`, `decode/large-compact`, ...: criterion's group name.
    pub fn id(&self) -> String {
        format!(
            "{}/{}{}",
            self.direction.name(),
            self.workload.name(),
            protocol_suffix(self.protocol)
        )
    }
}

pub fn protocol_suffix(p: Protocol) -> &'static str {
    match p {
        Protocol::Binary => "",
        Protocol::Compact => "-compact",
    }
}

/// The IDL-only schemas: `baseline.thrift` and `partial.thrift` (which includes it).
pub struct Schemas {
    pub baseline: Arc<DynSchema>,
    pub partial: Arc<DynSchema>,
}

impl Schemas {
    pub fn load() -> Schemas {
        let load = |rel: &str| {
            let path = dynthrift_testkit::testdata(rel);
            let schema = dynthrift::idl::parse_file(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            DynSchema::new(schema).expect("plan of the IDL-only schema")
        };
        Schemas {
            baseline: load("idl/frugal/tests/baseline.thrift"),
            partial: load("workloads/partial.thrift"),
        }
    }
}

/// Builds (and checks) every group: small, medium, large in Binary and Compact, encode and
/// decode; then skip decode of small and medium in both.
pub fn groups(schemas: &Schemas) -> Vec<Group> {
    let mut out = Vec::new();
    for protocol in [Protocol::Binary, Protocol::Compact] {
        out.extend(workload::<_, _, _, ab::Simple>(
            Workload::Small,
            protocol,
            tk::simple(),
            samples::fast::simple(),
            samples::pilota::simple(),
            samples::apache::simple(),
            (&schemas.baseline, "Simple"),
        ));
        out.extend(workload::<_, _, _, ab::Nesting>(
            Workload::Medium,
            protocol,
            tk::nesting(),
            samples::fast::nesting(),
            samples::pilota::nesting(),
            samples::apache::nesting(),
            (&schemas.baseline, "Nesting"),
        ));
        out.extend(workload::<_, _, _, ab::Nesting2>(
            Workload::Large,
            protocol,
            tk::nesting2(),
            samples::fast::nesting2(),
            samples::pilota::nesting2(),
            samples::apache::nesting2(),
            (&schemas.baseline, "Nesting2"),
        ));
    }
    for protocol in [Protocol::Binary, Protocol::Compact] {
        out.push(skip::<
            tk::PartialSimple,
            samples::fast::PartialSimple,
            pp::PartialSimple,
            ap::PartialSimple,
        >(
            Workload::SkipSmall,
            protocol,
            &tk::simple(),
            (&schemas.partial, "PartialSimple"),
        ));
        out.push(skip::<
            tk::PartialNesting,
            samples::fast::PartialNesting,
            pp::PartialNesting,
            ap::PartialNesting,
        >(
            Workload::SkipMedium,
            protocol,
            &tk::nesting(),
            (&schemas.partial, "PartialNesting"),
        ));
    }
    out
}

/// The reference encoding of a workload, and how to compare another encoding with it.
struct Reference {
    what: String,
    protocol: Protocol,
    bytes: Bytes,
    /// The Apache-canonical form of `bytes`.
    canonical: Vec<u8>,
    canon: fn(&[u8], Protocol) -> Vec<u8>,
    /// No maps: encodings must be byte-identical.
    exact: bool,
}

impl Reference {
    /// `bytes` is our derived codec's encoding; `A` is Apache's type for the same struct.
    fn new<A: TSerializable>(
        what: String,
        protocol: Protocol,
        bytes: Vec<u8>,
        exact: bool,
    ) -> Self {
        let canonical = canon::<A>(&bytes, protocol);
        Reference {
            what,
            protocol,
            bytes: Bytes::from(bytes),
            canonical,
            canon: canon::<A>,
            exact,
        }
    }

    /// Panics unless `got` encodes the reference value: same length, and the same bytes once
    /// fields are put in id order and maps sorted (for map-free structs: the same bytes).
    fn check(&self, row: &str, got: &[u8]) {
        let what = &self.what;
        assert_eq!(
            got.len(),
            self.bytes.len(),
            "{what}: `{row}`'s encoding has another length than the reference"
        );
        if self.exact {
            assert!(
                got == &self.bytes[..],
                "{what}: `{row}`'s encoding differs from the reference"
            );
        }
        assert!(
            (self.canon)(got, self.protocol) == self.canonical,
            "{what}: `{row}`'s encoding differs from the reference (maps compared sorted)"
        );
    }
}

/// Decoded by Apache's generated code (fields in id order, `BTreeMap`s) and re-encoded.
fn canon<A: TSerializable>(bytes: &[u8], protocol: Protocol) -> Vec<u8> {
    let v: A = apache_decode(bytes, protocol);
    let mut out = Vec::new();
    apache_encode(&v, protocol, &mut out);
    out
}

fn apache_decode<A: TSerializable>(bytes: &[u8], protocol: Protocol) -> A {
    let mut input = bytes;
    let v = match protocol {
        Protocol::Binary => {
            A::read_from_in_protocol(&mut TBinaryInputProtocol::new(&mut input, true))
        }
        Protocol::Compact => A::read_from_in_protocol(&mut TCompactInputProtocol::new(&mut input)),
    }
    .expect("apache decode");
    assert!(input.is_empty(), "apache decode left {} bytes", input.len());
    v
}

fn apache_encode<A: TSerializable>(v: &A, protocol: Protocol, out: &mut Vec<u8>) {
    match protocol {
        Protocol::Binary => v.write_to_out_protocol(&mut TBinaryOutputProtocol::new(out, true)),
        Protocol::Compact => v.write_to_out_protocol(&mut TCompactOutputProtocol::new(out)),
    }
    .expect("apache encode")
}

fn pilota_encode<P: Message>(v: &P, out: &mut BytesMut) {
    let n = v.size(&mut TBinaryProtocol::new(&mut *out, true));
    out.reserve(n);
    v.encode(&mut TBinaryProtocol::new(&mut *out, true))
        .expect("pilota encode");
}

fn pilota_decode<P: Message>(input: &Bytes) -> P {
    let mut b = input.clone();
    P::decode(&mut TBinaryProtocol::new(&mut b, true)).expect("pilota decode")
}

fn pilota_unsafe_decode<P: Message>(input: &Bytes) -> P {
    let mut b = input.clone();
    // SAFETY: `input` is always the complete reference encoding, checked (bounds-checked,
    // by `pilota_decode` and our codec) before this runs: every length in it fits.
    let mut p = unsafe { TBinaryUnsafeInputProtocol::new(&mut b) };
    P::decode(&mut p).expect("pilota unsafe decode")
}

/// Encode and decode groups of one workload in one protocol.
fn workload<T, F, P, A>(
    workload: Workload,
    protocol: Protocol,
    derived: T,
    fast: F,
    pilota: P,
    apache: A,
    (types, idl_name): (&Arc<DynSchema>, &'static str),
) -> [Group; 2]
where
    T: Describe + PartialEq + Debug + Clone + 'static,
    F: Describe + PartialEq + Debug + Clone + 'static,
    P: Message + PartialEq + Debug + 'static,
    A: TSerializable + PartialEq + Debug + 'static,
{
    let what = format!("{}{}", workload.name(), protocol_suffix(protocol));
    let reference = {
        let bytes = Codec::<T>::with_options(Options::default().protocol(protocol))
            .expect("codec")
            .encode(&derived)
            .expect("encode");
        if protocol == Protocol::Binary {
            let size = match workload {
                Workload::Small => tk::SMALL_SIZE,
                Workload::Medium => tk::MEDIUM_SIZE,
                _ => tk::LARGE_SIZE,
            };
            assert_eq!(
                bytes.len(),
                size,
                "{what}: Binary size differs from the workload's"
            );
        }
        Reference::new::<A>(what, protocol, bytes, workload == Workload::Small)
    };
    let mut enc = Vec::new();
    let mut dec = Vec::new();
    for &backend in BACKENDS {
        if !backend.measures(protocol, Variant::Std) {
            continue;
        }
        let options = backend.options(protocol);
        let (e, d) = derived_rows(
            backend.row(Variant::Std),
            &derived,
            options,
            &reference,
            false,
        );
        enc.push(e);
        dec.push(d);
        if backend == Backend::Jit {
            enc.push(write_row("jit-write", &derived, options, &reference));
        }
        let (e, d) = derived_rows(
            backend.row(Variant::FastStr),
            &fast,
            options,
            &reference,
            true,
        );
        enc.push(e);
        dec.push(d);
        if backend.measures(protocol, Variant::Idl) {
            let (e, d) = idl_rows(
                backend.row(Variant::Idl),
                types,
                idl_name,
                &reference,
                backend.options(protocol),
            );
            enc.push(e);
            dec.push(d);
        }
    }
    if protocol == Protocol::Binary {
        let (e, d, du) = pilota_rows(pilota, &reference);
        enc.push(e);
        dec.push(d);
        dec.push(du);
    }
    let (e, d) = apache_rows(apache, &reference);
    enc.push(e);
    dec.push(d);
    let (e, d) = memcpy_rows(&reference.bytes);
    enc.push(e);
    dec.push(d);
    let group = |direction, benches| Group {
        workload,
        protocol,
        direction,
        bytes: reference.bytes.len(),
        benches,
    };
    [group(Direction::Encode, enc), group(Direction::Decode, dec)]
}

/// A row named for a backend must run that backend (a JIT row silently running the
/// interpreter would be a lie in the table).
fn check_backend<T: Describe>(name: &str, codec: &Codec<T>) {
    if name.starts_with("jit") {
        assert_eq!(
            codec.backend(),
            dynthrift::BackendInfo::Jit,
            "`{name}` is not compiled"
        );
        assert!(
            codec.decodes_compiled(),
            "`{name}`: the decoder is not compiled"
        );
    } else {
        assert!(
            matches!(codec.backend(), dynthrift::BackendInfo::Interpreter(_)),
            "`{name}` runs the JIT"
        );
    }
}

fn derived_rows<T: Describe + PartialEq + Debug + Clone + 'static>(
    name: &'static str,
    sample: &T,
    options: Options,
    reference: &Reference,
    from_bytes: bool,
) -> (Bench, Bench) {
    let codec = Codec::<T>::with_options(options).expect("codec");
    check_backend(name, &codec);
    let mut buf = Vec::new();
    codec.encode_into(sample, &mut buf).expect("encode");
    reference.check(name, &buf);
    let decode = move |codec: &Codec<T>, input: &Bytes| {
        if from_bytes {
            codec.decode_bytes(input)
        } else {
            codec.decode(input)
        }
    };
    let back = decode(&codec, &reference.bytes).expect("decode");
    assert!(
        back == *sample,
        "{}: `{name}` decodes the reference to another value",
        reference.what
    );
    let sample = sample.clone();
    let enc_codec = codec.clone();
    let encode = Bench {
        name,
        op: Box::new(move || {
            buf.clear();
            enc_codec
                .encode_into(black_box(&sample), &mut buf)
                .expect("encode");
            black_box(buf.len());
        }),
    };
    let input = reference.bytes.clone();
    let decode = Bench {
        name,
        op: Box::new(move || {
            black_box(decode(&codec, black_box(&input)).expect("decode"));
        }),
    };
    (encode, decode)
}

/// Encode without the size pass (`Codec::write` into the reused buffer), as Apache's row
/// does: the like-for-like comparison with it.
fn write_row<T: Describe + Clone + 'static>(
    name: &'static str,
    sample: &T,
    options: Options,
    reference: &Reference,
) -> Bench {
    let codec = Codec::<T>::with_options(options).expect("codec");
    check_backend(name, &codec);
    let mut buf = Vec::new();
    codec.write(sample, &mut buf).expect("write");
    reference.check(name, &buf);
    let sample = sample.clone();
    Bench {
        name,
        op: Box::new(move || {
            buf.clear();
            codec.write(black_box(&sample), &mut buf).expect("write");
            black_box(buf.len());
        }),
    }
}

/// A `DynCodec` for the IDL rows, checked to run the backend its row names.
fn idl_codec(name: &str, types: &Arc<DynSchema>, idl_name: &str, options: Options) -> DynCodec {
    let codec = DynCodec::new(types, idl_name, options).expect("DynCodec");
    if name.starts_with("jit") {
        assert_eq!(
            codec.backend(),
            dynthrift::BackendInfo::Jit,
            "`{name}` must run compiled code"
        );
    } else {
        assert!(
            matches!(codec.backend(), dynthrift::BackendInfo::Interpreter(_)),
            "`{name}` must run the interpreter"
        );
    }
    codec
}

fn idl_rows(
    name: &'static str,
    types: &Arc<DynSchema>,
    idl_name: &'static str,
    reference: &Reference,
    options: Options,
) -> (Bench, Bench) {
    let codec = idl_codec(name, types, idl_name, options);
    // The IDL-only sample is the reference decoded; its encoding must match the reference.
    let sample = codec.decode(&reference.bytes).expect("decode");
    let encode_into = {
        let codec = codec.clone();
        move |v: &DynStruct, out: &mut Vec<u8>| {
            codec.encode_into(v, out).expect("encode");
        }
    };
    let mut buf = Vec::new();
    encode_into(&sample, &mut buf);
    reference.check(name, &buf);
    assert!(
        codec.decode(&buf).expect("decode") == sample,
        "{}: `{name}` does not decode its own encoding to the same value",
        reference.what
    );
    let encode = Bench {
        name,
        op: Box::new(move || {
            buf.clear();
            encode_into(black_box(&sample), &mut buf);
            black_box(buf.len());
        }),
    };
    let input = reference.bytes.clone();
    let decode = Bench {
        name,
        op: Box::new(move || {
            black_box(codec.decode(black_box(&input)).expect("decode"));
        }),
    };
    (encode, decode)
}

fn pilota_rows<P: Message + PartialEq + Debug + 'static>(
    sample: P,
    reference: &Reference,
) -> (Bench, Bench, Bench) {
    let mut buf = BytesMut::new();
    pilota_encode(&sample, &mut buf);
    reference.check("pilota", &buf);
    assert!(
        pilota_decode::<P>(&reference.bytes) == sample,
        "{}: pilota decodes the reference to another value",
        reference.what
    );
    assert!(
        pilota_unsafe_decode::<P>(&reference.bytes) == sample,
        "{}: pilota-unsafe decodes the reference to another value",
        reference.what
    );
    let encode = Bench {
        name: "pilota",
        op: Box::new(move || {
            buf.clear();
            pilota_encode(black_box(&sample), &mut buf);
            black_box(buf.len());
        }),
    };
    let input = reference.bytes.clone();
    let decode = Bench {
        name: "pilota",
        op: Box::new(move || {
            black_box(pilota_decode::<P>(black_box(&input)));
        }),
    };
    let input = reference.bytes.clone();
    let decode_unsafe = Bench {
        name: "pilota-unsafe",
        op: Box::new(move || {
            black_box(pilota_unsafe_decode::<P>(black_box(&input)));
        }),
    };
    (encode, decode, decode_unsafe)
}

fn apache_rows<A: TSerializable + PartialEq + Debug + 'static>(
    sample: A,
    reference: &Reference,
) -> (Bench, Bench) {
    let protocol = reference.protocol;
    let mut buf = Vec::new();
    apache_encode(&sample, protocol, &mut buf);
    reference.check("apache", &buf);
    assert!(
        apache_decode::<A>(&reference.bytes, protocol) == sample,
        "{}: apache decodes the reference to another value",
        reference.what
    );
    let encode = Bench {
        name: "apache",
        op: Box::new(move || {
            buf.clear();
            apache_encode(black_box(&sample), protocol, &mut buf);
            black_box(buf.len());
        }),
    };
    let input = reference.bytes.clone();
    let decode = Bench {
        name: "apache",
        op: Box::new(move || {
            black_box(apache_decode::<A>(black_box(&input), protocol));
        }),
    };
    (encode, decode)
}

fn memcpy_rows(input: &Bytes) -> (Bench, Bench) {
    let mut buf = Vec::with_capacity(input.len());
    let src = input.clone();
    let encode = Bench {
        name: "memcpy",
        op: Box::new(move || {
            buf.clear();
            buf.extend_from_slice(black_box(&src));
            black_box(buf.len());
        }),
    };
    let input = input.clone();
    let decode = Bench {
        name: "memcpy",
        op: Box::new(move || {
            black_box(black_box(&input[..]).to_vec());
        }),
    };
    (encode, decode)
}

/// Skip decode: the full bytes of `full` read as the partial type `T` by each implementation
/// (no pilota row in Compact). Checked by re-encoding each result: it must equal the encoding
/// of our derived partial value.
fn skip<T, F, P, A>(
    workload: Workload,
    protocol: Protocol,
    full: &(impl Describe + 'static),
    (types, idl_name): (&Arc<DynSchema>, &'static str),
) -> Group
where
    T: Describe + Debug + 'static,
    F: Describe + Debug + 'static,
    P: Message + Debug + 'static,
    A: TSerializable + Debug + 'static,
{
    let what = workload.name().to_string();
    let input = Bytes::from(
        Codec::with_options(Options::default().protocol(protocol))
            .and_then(|c| c.encode(full))
            .expect("encode"),
    );
    let codec = Codec::<T>::with_options(Options::default().protocol(protocol)).expect("codec");
    let partial = codec.decode(&input).expect("partial decode");
    let reference = Reference::new::<A>(
        what,
        protocol,
        codec.encode(&partial).expect("encode"),
        workload == Workload::SkipSmall,
    );
    let mut benches = Vec::new();
    for &backend in BACKENDS {
        if !backend.measures(protocol, Variant::Std) {
            continue;
        }
        let options = backend.options(protocol);
        benches.push(derived_skip::<T>(
            backend.row(Variant::Std),
            options,
            &input,
            &reference,
            false,
        ));
        benches.push(derived_skip::<F>(
            backend.row(Variant::FastStr),
            options,
            &input,
            &reference,
            true,
        ));
        if !backend.measures(protocol, Variant::Idl) {
            continue;
        }
        let name = backend.row(Variant::Idl);
        let codec = idl_codec(name, types, idl_name, options);
        let v = codec.decode(&input).expect("IDL-only skip decode");
        reference.check(name, &v.encode(protocol).expect("encode"));
        let input = input.clone();
        benches.push(Bench {
            name,
            op: Box::new(move || {
                black_box(codec.decode(black_box(&input)).expect("decode"));
            }),
        });
    }
    if protocol == Protocol::Binary {
        let mut buf = BytesMut::new();
        pilota_encode(&pilota_decode::<P>(&input), &mut buf);
        reference.check("pilota", &buf);
        buf.clear();
        pilota_encode(&pilota_unsafe_decode::<P>(&input), &mut buf);
        reference.check("pilota-unsafe", &buf);
        let i = input.clone();
        benches.push(Bench {
            name: "pilota",
            op: Box::new(move || {
                black_box(pilota_decode::<P>(black_box(&i)));
            }),
        });
        let i = input.clone();
        benches.push(Bench {
            name: "pilota-unsafe",
            op: Box::new(move || {
                black_box(pilota_unsafe_decode::<P>(black_box(&i)));
            }),
        });
    }
    {
        let mut buf = Vec::new();
        apache_encode(&apache_decode::<A>(&input, protocol), protocol, &mut buf);
        reference.check("apache", &buf);
        let i = input.clone();
        benches.push(Bench {
            name: "apache",
            op: Box::new(move || {
                black_box(apache_decode::<A>(black_box(&i), protocol));
            }),
        });
    }
    benches.push(memcpy_rows(&input).1);
    Group {
        workload,
        protocol,
        direction: Direction::Decode,
        bytes: input.len(),
        benches,
    }
}

fn derived_skip<T: Describe + 'static>(
    name: &'static str,
    options: Options,
    input: &Bytes,
    reference: &Reference,
    from_bytes: bool,
) -> Bench {
    let codec = Codec::<T>::with_options(options).expect("codec");
    check_backend(name, &codec);
    let decode = move |codec: &Codec<T>, input: &Bytes| {
        if from_bytes {
            codec.decode_bytes(input)
        } else {
            codec.decode(input)
        }
    };
    let v = decode(&codec, input).expect("skip decode");
    reference.check(name, &codec.encode(&v).expect("encode"));
    let input = input.clone();
    Bench {
        name,
        op: Box::new(move || {
            black_box(decode(&codec, black_box(&input)).expect("decode"));
        }),
    }
}
