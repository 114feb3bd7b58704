//! Hostile input: untrusted bytes never panic, abort, or make a decode allocate more than the
//! input can justify; every malformed input is a typed error with a sensible path and offset.
//!
//! Subjects: the benchmark workloads `Simple`, `Nesting`, `Nesting2`, as derived Rust types
//! (`dynthrift_testkit::workloads`) and as IDL-only `DynStruct`s loaded from
//! `testdata/idl/frugal/tests/baseline.thrift`, each in the Binary and Compact protocols; plus
//! small purpose-made types (recursive, unions, required fields, bools, enums, limits), derived
//! and IDL-only. Every decode goes through [`feed`], which runs it under `catch_unwind` and the
//! counting allocator and checks the error (kind, offset, path) or the re-encoding.
//!
//! Inputs tried (the counts are printed with `--nocapture`):
//! - truncation at every offset of `Simple` and `Nesting`; `Nesting2` (~300 KB, and a debug
//!   decode of a long prefix costs about a millisecond) is sampled: every offset in the first
//!   4 KB and the last 512 bytes (the tail fields), every item boundary and the byte after it
//!   in the first 20 KB (the first map entry: a `Simple` key and a whole `Nesting` value),
//!   every boundary at nesting level 2 or less anywhere (top-level fields, the elements of
//!   top-level containers and the fields of those), and a stride of 4093 bytes. Every
//!   truncation must fail with `UnexpectedEof` or `LengthLimit`, naming the top-level field
//!   whose value was cut;
//! - single-byte corruption with `hostile::BYTE_MUTATIONS` (xor 0x01, xor 0x80, xor 0xff,
//!   set 0x00, set 0x7f): every offset of `Simple`; for `Nesting` every byte outside string
//!   and binary data (headers, lengths, integers, doubles) plus the first, middle and last
//!   byte of every string and binary value; for `Nesting2` each top-level field header and
//!   the first five bytes of its value. A corruption that still decodes must re-encode, and
//!   the re-encoding decode;
//! - the same truncations and corruptions of `Simple` and `Nesting` decoded into types that
//!   know one field and keep the rest as unknown fields, and corruptions decoded into values
//!   that already hold data (`decode_into`, `DynStruct::decode_in`);
//! - crafted inputs: wrong field and element types, invalid type codes, extreme field ids,
//!   negative and huge lengths, over-long varints, nesting past the depth limit (decode and
//!   encode, default and custom limits), container and string limits, invalid UTF-8, odd
//!   bool bytes, unknown enum values, missing required fields, unions with zero or two
//!   fields, message envelopes, and inputs made to maximise allocation.
//!
//! Allocation bound: a decode of `n` input bytes may request at most `per_byte * n + FIXED`
//! bytes, `per_byte` derived per subject from host sizes (see [`Bounds`]); the worst ratios
//! measured are printed by `allocation_worst_cases`.

use std::collections::{BTreeMap, BTreeSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use dynthrift::wire::compact::{compact_code, zigzag32, zigzag64};
use dynthrift::{
    Codec, Describe, DynSchema, DynStruct, Error, ErrorKind, Limits, Options, Protocol, TType,
    Thrift, UnknownFields, Value,
};
use dynthrift_testkit::alloc::{self, AllocStats, CountingAlloc};
use dynthrift_testkit::hostile::{self, BYTE_MUTATIONS, Structure};
use dynthrift_testkit::workloads::{self, Enums, Nesting, Nesting2, Simple};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

const PROTOCOLS: [Protocol; 2] = [Protocol::Binary, Protocol::Compact];

/// Bytes any decode may request whatever its input: the error (a box, its detail text and a
/// path of up to ~130 segments at the depth limit), the boxed decoded value, the root
/// `DynStruct` record, a hash table's minimum capacity (4 buckets). The most seen is under
/// 4 KB (a depth-limit error with its 64-level path).
const FIXED: usize = 8 * 1024;

/// Every kind a decode of untrusted bytes may fail with.
const DECODE_KINDS: [ErrorKind; 11] = [
    ErrorKind::UnexpectedEof,
    ErrorKind::InvalidType,
    ErrorKind::VarintTooLong,
    ErrorKind::NegativeLength,
    ErrorKind::LengthLimit,
    ErrorKind::DepthLimit,
    ErrorKind::InvalidUtf8,
    ErrorKind::MissingRequired,
    ErrorKind::UnknownEnumValue,
    ErrorKind::InvalidUnion,
    ErrorKind::InvalidData,
];

// ---------------------------------------------------------------------------------------------
// Types made for these tests (derived), and the same shapes in IDL.

/// Recursion through a list: each level is a struct and a list (two levels of depth).
#[derive(Thrift, Debug, PartialEq)]
struct Tree {
    #[thrift(id = 1)]
    children: Vec<Tree>,
}

/// Recursion through `Option<Box<Self>>`: each level is one struct.
#[derive(Thrift, Debug, PartialEq)]
struct Chain {
    #[thrift(id = 1)]
    value: i32,
    #[thrift(id = 2)]
    next: Option<Box<Self>>,
}

#[derive(Thrift, Debug, PartialEq)]
struct Flags {
    #[thrift(id = 1)]
    flag: bool,
    #[thrift(id = 2)]
    flags: Vec<bool>,
    #[thrift(id = 3)]
    by_key: BTreeMap<i8, bool>,
}

#[derive(Thrift, Debug, PartialEq)]
struct Req {
    #[thrift(id = 1, required)]
    id: i64,
    #[thrift(id = 2, required)]
    name: String,
    #[thrift(id = 3)]
    note: String,
}

#[derive(Thrift, Debug, PartialEq)]
struct Outer {
    #[thrift(id = 1)]
    inner: Req,
    #[thrift(id = 2)]
    list: Vec<Req>,
    #[thrift(id = 3)]
    by_name: BTreeMap<String, Req>,
}

#[derive(Thrift, Debug, PartialEq)]
enum Choice {
    #[thrift(id = 1)]
    Num(i32),
    #[thrift(id = 2)]
    Text(String),
}

#[derive(Thrift, Debug, PartialEq)]
struct Holder {
    #[thrift(id = 1)]
    choice: Choice,
    #[thrift(id = 2)]
    many: Vec<Choice>,
}

#[derive(Thrift, Debug, PartialEq)]
struct Limited {
    #[thrift(id = 1)]
    ints: Vec<i32>,
    #[thrift(id = 2)]
    set: BTreeSet<i64>,
    #[thrift(id = 3)]
    map: BTreeMap<i32, i32>,
    #[thrift(id = 4)]
    s: String,
    #[thrift(id = 5)]
    b: Vec<u8>,
}

#[derive(Thrift, Debug, PartialEq)]
struct Lists3 {
    #[thrift(id = 1)]
    x: Vec<Vec<Vec<i32>>>,
}

/// `Simple` knowing only its first field, keeping the others.
#[derive(Thrift, Debug, PartialEq)]
#[thrift(rename = "Simple")]
struct SimpleKeep {
    #[thrift(id = 1, rename = "ByteField")]
    byte_field: i8,
    #[thrift(unknown_fields)]
    extra: UnknownFields,
}

/// `Nesting` knowing only its first field, keeping the others.
#[derive(Thrift, Debug, PartialEq)]
#[thrift(rename = "Nesting")]
struct NestingKeep {
    #[thrift(id = 1, rename = "String")]
    string: String,
    #[thrift(unknown_fields)]
    extra: UnknownFields,
}

const EXTRA_IDL: &str = r#"
struct Tree { 1: list<Tree> children }
struct Chain { 1: i32 value, 2: optional Chain next }
struct Flags { 1: bool flag, 2: list<bool> flags, 3: map<byte, bool> by_key }
struct Req { 1: required i64 id, 2: required string name, 3: string note }
struct Outer { 1: Req inner, 2: list<Req> list, 3: map<string, Req> by_name }
union Choice { 1: i32 Num, 2: string Text }
struct Holder { 1: Choice choice, 2: list<Choice> many }
struct Limited { 1: list<i32> ints, 2: set<i64> set, 3: map<i32, i32> map, 4: string s, 5: binary b }
"#;

/// How deep the IDL-only `Deep` list type is.
const DEEP_IDL_LISTS: usize = 100;

fn baseline() -> &'static Arc<DynSchema> {
    static T: OnceLock<Arc<DynSchema>> = OnceLock::new();
    T.get_or_init(|| {
        let path = dynthrift_testkit::testdata("idl/frugal/tests/baseline.thrift");
        DynSchema::new(dynthrift::idl::parse_file(path).unwrap()).unwrap()
    })
}

fn extra() -> &'static Arc<DynSchema> {
    static T: OnceLock<Arc<DynSchema>> = OnceLock::new();
    T.get_or_init(|| {
        let mut deep = String::from("i32");
        for _ in 0..DEEP_IDL_LISTS {
            deep = format!("list<{deep}>");
        }
        let text = format!("{EXTRA_IDL}\nstruct Deep {{ 1: {deep} x }}\n");
        DynSchema::new(dynthrift::idl::parse_str(&text).unwrap()).unwrap()
    })
}

// ---------------------------------------------------------------------------------------------
// Subjects: one type, one representation, one protocol.

type Reencode = Box<dyn FnOnce() -> dynthrift::Result<Vec<u8>>>;
type DecodeFn = Box<dyn Fn(&[u8]) -> dynthrift::Result<Reencode>>;

struct Subject {
    label: String,
    root: &'static str,
    protocol: Protocol,
    /// Bytes a decode may request per input byte (plus [`FIXED`]).
    per_byte: usize,
    /// A valid message (the workload sample), when there is one.
    valid: Vec<u8>,
    /// The field ids the type knows, when it keeps the others as unknown fields.
    known: Option<&'static [i16]>,
    decode: DecodeFn,
}

impl Subject {
    fn derived<T: Describe + 'static>(
        root: &'static str,
        options: Options,
        per_byte: usize,
        sample: Option<&T>,
    ) -> Subject {
        let codec = Codec::<T>::with_options(options).unwrap();
        // Compile now (codecs compile on first use), not inside the allocation measurements.
        codec.pretouch();
        let valid = sample.map(|v| codec.encode(v).unwrap()).unwrap_or_default();
        Subject {
            label: format!("{root}/derived/{:?}", options.protocol),
            root,
            protocol: options.protocol,
            per_byte,
            valid,
            known: None,
            decode: Box::new(move |b| {
                let v = codec.decode(b)?;
                let c = codec.clone();
                Ok(Box::new(move || c.encode(&v)) as Reencode)
            }),
        }
    }

    fn dynamic(
        types: &Arc<DynSchema>,
        root: &'static str,
        protocol: Protocol,
        limits: Limits,
        per_byte: usize,
        valid: Vec<u8>,
    ) -> Subject {
        let types = types.clone();
        Subject {
            label: format!("{root}/idl/{protocol:?}"),
            root,
            protocol,
            per_byte,
            valid,
            known: None,
            decode: Box::new(move |b| {
                let v = DynStruct::decode_with(&types, root, b, None, protocol, &limits)?;
                Ok(Box::new(move || {
                    let mut out = Vec::new();
                    v.encode_into(&mut out, protocol, &limits)?;
                    Ok(out)
                }) as Reencode)
            }),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Workload {
    Simple,
    Nesting,
    Nesting2,
}

/// The allocation constants, from host sizes. A decoder must build the values the input
/// describes, so the worst input is the one describing the most host memory per wire byte:
/// a container of minimal elements. The smallest element is one byte (an empty struct: its
/// stop byte; a Compact varint 0; an empty Compact string), two for a map entry.
struct Bounds;

impl Bounds {
    /// Bytes per entry of a `HashMap` reserved for `n` entries: hashbrown rounds the bucket
    /// count up to a power of two at 7/8 load, so up to 16/7 buckets per entry, each with
    /// one control byte.
    fn table(entry: usize) -> usize {
        (entry + 1) * 16 / 7 + 1
    }

    /// Derived types: `Simple` copies its string and binary data once (one byte per byte).
    /// `Nesting`: the largest of a `Simple` per list element (1 wire byte), a
    /// `(String, Simple)` table entry per map entry (2 wire bytes), and the smaller
    /// containers. `Nesting2`: also a `Nesting` per list element and a `(Simple, Nesting)`
    /// table entry per map entry.
    fn derived(w: Workload) -> usize {
        let simple = 1;
        let nesting = [
            simple,
            size_of::<Simple>(),
            Self::table(size_of::<(String, Simple)>()) / 2,
            Self::table(size_of::<(String, String)>()) / 2,
            Self::table(size_of::<(i64, String)>()) / 2,
            Self::table(size_of::<(i32, i64)>()) / 2,
            size_of::<String>(),
            size_of::<i64>(),
        ]
        .into_iter()
        .max()
        .unwrap();
        match w {
            Workload::Simple => simple,
            Workload::Nesting => nesting,
            Workload::Nesting2 => nesting
                .max(size_of::<Nesting>())
                .max(Self::table(size_of::<(Simple, Nesting)>()) / 2),
        }
    }

    /// IDL-only records: a list element is a pointer plus the element's record, a map entry
    /// a key slot plus a value slot (plus records), with no rounding (raw vectors are
    /// reserved exactly).
    fn idl(w: Workload) -> usize {
        let rec = |name| {
            let (_, s) = alloc::measure(|| DynStruct::new(baseline(), name).unwrap());
            s.requested
        };
        let (simple, nesting) = (rec("Simple"), rec("Nesting"));
        let ptr = size_of::<usize>();
        let string = size_of::<String>();
        let n = (ptr + simple)
            .max((string + ptr + simple) / 2)
            .max(string * 2 / 2);
        match w {
            Workload::Simple => 1,
            Workload::Nesting => n,
            Workload::Nesting2 => n.max(ptr + nesting).max((ptr + simple + ptr + nesting) / 2),
        }
    }
}

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Workload::Simple => "Simple",
            Workload::Nesting => "Nesting",
            Workload::Nesting2 => "Nesting2",
        }
    }

    /// Derived and IDL-only subjects in both protocols, each with the sample's encoding.
    fn subjects(self) -> Vec<Subject> {
        let mut out = Vec::new();
        for p in PROTOCOLS {
            let o = Options::default().protocol(p);
            let d = Bounds::derived(self);
            let s = match self {
                Workload::Simple => {
                    Subject::derived::<Simple>("Simple", o, d, Some(&workloads::simple()))
                }
                Workload::Nesting => {
                    Subject::derived::<Nesting>("Nesting", o, d, Some(&workloads::nesting()))
                }
                Workload::Nesting2 => {
                    Subject::derived::<Nesting2>("Nesting2", o, d, Some(&workloads::nesting2()))
                }
            };
            let valid = s.valid.clone();
            out.push(s);
            let dynamic = Subject::dynamic(
                baseline(),
                self.name(),
                p,
                Limits::default(),
                Bounds::idl(self),
                valid,
            );
            out.push(dynamic);
        }
        out
    }

    /// Derived types that know one field of the workload and keep the others as unknown
    /// fields (copied in Binary, transcoded to Binary from Compact), in both protocols.
    /// Not for `Nesting2`.
    fn keep_subjects(self) -> Vec<Subject> {
        let mut out = Vec::new();
        for p in PROTOCOLS {
            let o = Options::default().protocol(p);
            let valid = match self {
                Workload::Simple => Codec::<Simple>::with_options(o)
                    .unwrap()
                    .encode(&workloads::simple()),
                _ => Codec::<Nesting>::with_options(o)
                    .unwrap()
                    .encode(&workloads::nesting()),
            }
            .unwrap();
            // Kept bytes: copied once (Binary) or transcoded (Compact, at most 8 Binary
            // bytes per Compact byte: a one-byte varint 0 becomes an 8-byte i64), in a
            // vector that grows by doubling.
            let per_byte = 16;
            let mut s = match self {
                Workload::Simple => Subject::derived::<SimpleKeep>("Simple", o, per_byte, None),
                _ => Subject::derived::<NestingKeep>("Nesting", o, per_byte, None),
            };
            s.label = format!("{}/keep-unknown/{p:?}", self.name());
            s.known = Some(&[1]);
            s.valid = valid;
            out.push(s);
        }
        out
    }

    fn field_name(self, id: i16) -> String {
        let schema = baseline().schema();
        let def = schema.struct_def(schema.expect_struct(self.name()).unwrap());
        def.field_by_id(id).unwrap().name.to_string()
    }
}

// ---------------------------------------------------------------------------------------------
// Feeding one input

/// Decodes `input` with `s` under `catch_unwind` and the counting allocator. A panic fails
/// the test (with the input); so does an allocation over the bound. An error is checked for
/// sanity; a success must re-encode, and the re-encoding must decode again.
fn feed(s: &Subject, input: &[u8], what: &dyn Fn() -> String) -> Result<Vec<u8>, Error> {
    feed_measured(s, input, what).0
}

/// [`feed`], also returning what the decode asked of the allocator.
fn feed_measured(
    s: &Subject,
    input: &[u8],
    what: &dyn Fn() -> String,
) -> (Result<Vec<u8>, Error>, AllocStats) {
    let (r, stats) = alloc::measure(|| catch_unwind(AssertUnwindSafe(|| (s.decode)(input))));
    let r = r.unwrap_or_else(|p| {
        panic!(
            "{}: decode panicked ({}) on {}; input {}",
            s.label,
            panic_text(&p),
            what(),
            excerpt(input)
        )
    });
    let limit = s.per_byte * input.len() + FIXED;
    assert!(
        stats.requested <= limit,
        "{}: decode of {} bytes requested {} bytes (> {} x {} + {FIXED}) on {}; input {}",
        s.label,
        input.len(),
        stats.requested,
        s.per_byte,
        input.len(),
        what(),
        excerpt(input)
    );
    let r = match r {
        Ok(reencode) => {
            let bytes = catch_unwind(AssertUnwindSafe(reencode))
                .unwrap_or_else(|p| {
                    panic!(
                        "{}: re-encode panicked ({}) on {}",
                        s.label,
                        panic_text(&p),
                        what()
                    )
                })
                .unwrap_or_else(|e| {
                    panic!(
                        "{}: decoded but does not re-encode ({e}) on {}; input {}",
                        s.label,
                        what(),
                        excerpt(input)
                    )
                });
            if let Err(e) = (s.decode)(&bytes) {
                panic!(
                    "{}: the re-encoding does not decode ({e}) on {}; input {}",
                    s.label,
                    what(),
                    excerpt(input)
                );
            }
            Ok(bytes)
        }
        Err(e) => {
            check_error(s, &e, input, what);
            Err(e)
        }
    };
    (r, stats)
}

/// What every decode error must satisfy.
fn check_error(s: &Subject, e: &Error, input: &[u8], what: &dyn Fn() -> String) {
    let ctx = || {
        format!(
            "{}: error {e} on {}; input {}",
            s.label,
            what(),
            excerpt(input)
        )
    };
    let text = e.to_string();
    assert!(
        text.starts_with("decode error"),
        "not a decode error: {}",
        ctx()
    );
    assert!(
        DECODE_KINDS.contains(&e.kind()),
        "unexpected kind: {}",
        ctx()
    );
    let off = e.offset().unwrap_or_else(|| panic!("no offset: {}", ctx()));
    assert!(off <= input.len(), "offset past the input: {}", ctx());
    assert!(
        text.ends_with(&format!("(offset {off})")),
        "display: {}",
        ctx()
    );
    assert!(!e.detail().is_empty(), "empty detail: {}", ctx());
    let path = e.path();
    if path.is_empty() {
        // Only the whole-message check has no value to name.
        assert!(
            e.kind() == ErrorKind::InvalidData
                && e.detail().ends_with("after the end of the struct"),
            "empty path: {}",
            ctx()
        );
    } else {
        assert!(
            path == s.root || path.starts_with(&format!("{}.", s.root)),
            "path does not start at the root: {}",
            ctx()
        );
    }
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-text panic".into()
    }
}

/// The input as hex, in full up to 4 KB (otherwise its length and first 1 KB: the failure
/// message also says how the input was made from the sample).
fn excerpt(input: &[u8]) -> String {
    if input.len() <= 4096 {
        hostile::hex(input)
    } else {
        format!(
            "({} bytes) {}...",
            input.len(),
            hostile::hex(&input[..1024])
        )
    }
}

fn expect_err(s: &Subject, input: &[u8], what: &str) -> Error {
    match feed(s, input, &|| what.to_string()) {
        Ok(_) => panic!("{}: {what}: decoded; input {}", s.label, excerpt(input)),
        Err(e) => e,
    }
}

fn expect_ok(s: &Subject, input: &[u8], what: &str) -> Vec<u8> {
    feed(s, input, &|| what.to_string())
        .unwrap_or_else(|e| panic!("{}: {what}: {e}; input {}", s.label, excerpt(input)))
}

#[track_caller]
fn assert_error(s: &Subject, e: &Error, kind: ErrorKind, path: &str, offset: usize) {
    assert_eq!(
        (e.kind(), e.path().as_str(), e.offset()),
        (kind, path, Some(offset)),
        "{}: {e}",
        s.label
    );
}

// ---------------------------------------------------------------------------------------------
// A writer of (possibly malformed) wire bytes.

struct Wire {
    p: Protocol,
    buf: Vec<u8>,
    /// Compact: last field id of each open struct.
    last: Vec<i16>,
}

impl Wire {
    fn new(p: Protocol) -> Wire {
        Wire {
            p,
            buf: Vec::new(),
            last: vec![0],
        }
    }

    fn pos(&self) -> usize {
        self.buf.len()
    }

    fn raw(&mut self, b: &[u8]) -> &mut Wire {
        self.buf.extend_from_slice(b);
        self
    }

    fn varint(&mut self, mut v: u64) -> &mut Wire {
        while v >= 0x80 {
            self.buf.push(v as u8 | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
        self
    }

    fn compact_header(&mut self, code: u8, id: i16) -> &mut Wire {
        let last = self.last.last_mut().unwrap();
        let delta = id as i32 - *last as i32;
        *last = id;
        if (1..=15).contains(&delta) {
            self.buf.push((delta as u8) << 4 | code);
        } else {
            self.buf.push(code);
            self.varint(zigzag32(id as i32) as u64);
        }
        self
    }

    fn field(&mut self, t: TType, id: i16) -> &mut Wire {
        match self.p {
            Protocol::Binary => {
                self.buf.push(t as u8);
                self.raw(&id.to_be_bytes())
            }
            Protocol::Compact => self.compact_header(compact_code(t), id),
        }
    }

    fn bool_field(&mut self, id: i16, v: bool) -> &mut Wire {
        match self.p {
            Protocol::Binary => self.field(TType::Bool, id).raw(&[v as u8]),
            Protocol::Compact => self.compact_header(if v { 1 } else { 2 }, id),
        }
    }

    /// Opens a nested struct value.
    fn begin(&mut self) -> &mut Wire {
        self.last.push(0);
        self
    }

    /// Ends a struct (the outermost one, or one opened with `begin`).
    fn stop(&mut self) -> &mut Wire {
        self.buf.push(0);
        if self.last.len() > 1 {
            self.last.pop();
        }
        self
    }

    /// An empty struct value.
    fn empty(&mut self) -> &mut Wire {
        self.begin().stop()
    }

    /// A string or binary length, or a map's count: Binary `n as i32`, Compact `n as u64`.
    fn len(&mut self, n: i64) -> &mut Wire {
        match self.p {
            Protocol::Binary => self.raw(&(n as i32).to_be_bytes()),
            Protocol::Compact => self.varint(n as u64),
        }
    }

    fn bytes(&mut self, b: &[u8]) -> &mut Wire {
        self.len(b.len() as i64).raw(b)
    }

    fn list(&mut self, elem: TType, n: i64) -> &mut Wire {
        match self.p {
            Protocol::Binary => {
                self.buf.push(elem as u8);
                self.len(n)
            }
            Protocol::Compact if (0..=14).contains(&n) => {
                self.buf.push((n as u8) << 4 | compact_code(elem));
                self
            }
            Protocol::Compact => {
                self.buf.push(0xf0 | compact_code(elem));
                self.varint(n as u64)
            }
        }
    }

    fn map(&mut self, k: TType, v: TType, n: i64) -> &mut Wire {
        match self.p {
            Protocol::Binary => {
                self.buf.push(k as u8);
                self.buf.push(v as u8);
                self.len(n)
            }
            Protocol::Compact if n == 0 => self.raw(&[0]),
            Protocol::Compact => {
                self.len(n);
                let kv = compact_code(k) << 4 | compact_code(v);
                self.raw(&[kv])
            }
        }
    }

    fn i32(&mut self, v: i32) -> &mut Wire {
        match self.p {
            Protocol::Binary => self.raw(&v.to_be_bytes()),
            Protocol::Compact => self.varint(zigzag32(v) as u64),
        }
    }

    fn i64(&mut self, v: i64) -> &mut Wire {
        match self.p {
            Protocol::Binary => self.raw(&v.to_be_bytes()),
            Protocol::Compact => self.varint(zigzag64(v)),
        }
    }

    fn done(&self) -> Vec<u8> {
        self.buf.clone()
    }
}

fn drop_wire(_: &mut Wire) {}

// ---------------------------------------------------------------------------------------------
// Truncation

fn truncate_all(s: &Subject, w: Workload, offsets: &[usize], st: &Structure) -> usize {
    let valid = &s.valid;
    let again = expect_ok(s, valid, "the valid sample");
    if s.known.is_some() {
        // Unknown fields come back as they were (the sample writes field 1 first).
        assert_eq!(&again, valid, "{}", s.label);
    }
    for &k in offsets {
        assert!(k < valid.len());
        let what = || format!("the sample truncated to {k} of {} bytes", valid.len());
        let e = match feed(s, &valid[..k], &what) {
            Ok(_) => panic!("{}: {} decoded", s.label, what()),
            Err(e) => e,
        };
        assert!(
            matches!(e.kind(), ErrorKind::UnexpectedEof | ErrorKind::LengthLimit),
            "{}: {}: {e}",
            s.label,
            what()
        );
        // Cut inside a top-level field's value: the path names the field; elsewhere (in a
        // field header, before the stop byte) only the root.
        let path = e.path();
        let known = |id| s.known.is_none_or(|k| k.contains(&id));
        match st.fields.iter().find(|f| f.value <= k && k < f.end) {
            Some(f) if known(f.id) => {
                let want = format!("{}.{}", s.root, w.field_name(f.id));
                assert!(
                    path == want
                        || path.starts_with(&format!("{want}."))
                        || path.starts_with(&format!("{want}["))
                        || path.starts_with(&format!("{want}<")),
                    "{}: {}: path {path}, want {want}...",
                    s.label,
                    what()
                );
            }
            // Skipped and kept values have no path of their own.
            _ => assert_eq!(path, s.root, "{}: {}", s.label, what()),
        }
    }
    offsets.len()
}

fn truncation(w: Workload, p: Protocol, pick: impl Fn(usize, &Structure) -> Vec<usize>) {
    let keep = if w == Workload::Nesting2 {
        vec![]
    } else {
        w.keep_subjects()
    };
    for s in w
        .subjects()
        .into_iter()
        .chain(keep)
        .filter(|s| s.protocol == p)
    {
        let st = hostile::structure(&s.valid, s.protocol).unwrap();
        assert_eq!(
            st.boundaries.last_key_value().map(|(&o, _)| o),
            Some(s.valid.len())
        );
        let offsets = pick(s.valid.len(), &st);
        let n = truncate_all(&s, w, &offsets, &st);
        println!("{}: {n} truncations of {} bytes", s.label, s.valid.len());
    }
}

#[test]
fn truncation_simple() {
    for p in PROTOCOLS {
        truncation(Workload::Simple, p, |len, _| (0..len).collect());
    }
}

#[test]
fn truncation_nesting_binary() {
    truncation(Workload::Nesting, Protocol::Binary, |len, _| {
        (0..len).collect()
    });
}

#[test]
fn truncation_nesting_compact() {
    truncation(Workload::Nesting, Protocol::Compact, |len, _| {
        (0..len).collect()
    });
}

/// `Nesting2` is ~300 KB and a debug decode of a long prefix takes about a millisecond, so
/// offsets are sampled: everything near the start is cheap and covered densely; the rest of
/// the message repeats the same shapes, covered by their shallow boundaries and the tail.
fn nesting2_truncations(len: usize, st: &Structure) -> Vec<usize> {
    let first_entry = st
        .boundaries
        .keys()
        .copied()
        .filter(|&o| o < 20 * 1024)
        .flat_map(|o| [o, o + 1]);
    let extra: Vec<usize> = first_entry.chain(st.boundaries_within(2)).collect();
    hostile::sample_offsets(len, 4096, 512, 4093, extra)
}

#[test]
fn truncation_nesting2_binary() {
    truncation(Workload::Nesting2, Protocol::Binary, nesting2_truncations);
}

#[test]
fn truncation_nesting2_compact() {
    truncation(Workload::Nesting2, Protocol::Compact, nesting2_truncations);
}

// ---------------------------------------------------------------------------------------------
// Single-byte corruption

fn corrupt_all(s: &Subject, offsets: &[usize]) -> (usize, usize) {
    let (mut ok, mut failed) = (0, 0);
    for &o in offsets {
        for m in BYTE_MUTATIONS {
            let Some(input) = hostile::mutate(&s.valid, o, m) else {
                continue;
            };
            let what = || {
                format!(
                    "the sample with byte {o} ({:#04x}) changed by {m:?}",
                    s.valid[o]
                )
            };
            match feed(s, &input, &what) {
                Ok(_) => ok += 1,
                Err(_) => failed += 1,
            }
        }
    }
    (ok, failed)
}

/// Every byte outside string and binary data, and the first, middle and last byte of each
/// string and binary value, within `range`.
fn structural_offsets(st: &Structure, len: usize, keep: impl Fn(usize) -> bool) -> Vec<usize> {
    let mut v: BTreeSet<usize> = (0..len).filter(|&o| keep(o) && !st.in_payload(o)).collect();
    for r in &st.payloads {
        if !r.is_empty() {
            v.extend(
                [r.start, r.start + r.len() / 2, r.end - 1]
                    .into_iter()
                    .filter(|&o| keep(o)),
            );
        }
    }
    v.into_iter().collect()
}

fn corruption(w: Workload, p: Protocol, pick: impl Fn(usize, &Structure) -> Vec<usize>) {
    let keep = if w == Workload::Nesting2 {
        vec![]
    } else {
        w.keep_subjects()
    };
    for s in w
        .subjects()
        .into_iter()
        .chain(keep)
        .filter(|s| s.protocol == p)
    {
        let st = hostile::structure(&s.valid, s.protocol).unwrap();
        let offsets = pick(s.valid.len(), &st);
        let (ok, failed) = corrupt_all(&s, &offsets);
        println!(
            "{}: {} corruptions at {} offsets of {} bytes: {ok} decoded, {failed} errors",
            s.label,
            ok + failed,
            offsets.len(),
            s.valid.len()
        );
        assert!(failed > 0);
    }
}

#[test]
fn corruption_simple() {
    for p in PROTOCOLS {
        corruption(Workload::Simple, p, |len, _| (0..len).collect());
    }
}

#[test]
fn corruption_nesting_binary() {
    corruption(Workload::Nesting, Protocol::Binary, |len, st| {
        structural_offsets(st, len, |_| true)
    });
}

#[test]
fn corruption_nesting_compact() {
    corruption(Workload::Nesting, Protocol::Compact, |len, st| {
        structural_offsets(st, len, |_| true)
    });
}

/// A corrupted `Nesting2` that still decodes costs three full passes (decode, re-encode,
/// decode again), so only the outermost structure is corrupted: every byte of each
/// top-level field header and the first five bytes of its value (length, list or map
/// header, integer).
fn nesting2_corruptions(_: usize, st: &Structure) -> Vec<usize> {
    st.fields
        .iter()
        .flat_map(|f| f.header..(f.value + 5).min(f.end))
        .collect()
}

#[test]
fn corruption_nesting2() {
    for p in PROTOCOLS {
        corruption(Workload::Nesting2, p, nesting2_corruptions);
    }
}

/// Decoding corrupted input into a value that already holds data (`Codec::decode_into`,
/// `DynStruct::decode_in`): the containers and records being reused stay valid, and the value
/// always re-encodes (`Nesting` has no required fields and no unions).
#[test]
fn corruption_into_a_reused_value() {
    for p in PROTOCOLS {
        let o = Options::default().protocol(p);
        let c = Codec::<Nesting>::with_options(o).unwrap();
        let valid = c.encode(&workloads::nesting()).unwrap();
        let st = hostile::structure(&valid, p).unwrap();
        let offsets = structural_offsets(&st, valid.len(), |o| o < 4096);
        let mut v = workloads::nesting();
        let mut d = DynStruct::decode(baseline(), "Nesting", &valid, p).unwrap();
        let mut n = 0;
        for &o in &offsets {
            for m in BYTE_MUTATIONS {
                let Some(input) = hostile::mutate(&valid, o, m) else {
                    continue;
                };
                n += 1;
                let what =
                    || format!("{p:?}: byte {o} changed by {m:?}, decoded into a used value");
                catch_unwind(AssertUnwindSafe(|| {
                    let _ = c.decode_into(&input, &mut v);
                    c.encode(&v).unwrap();
                    let _ = d.decode_in(&input, None, p, &Limits::default());
                    d.encode(p).unwrap();
                }))
                .unwrap_or_else(|e| panic!("{}: {}", what(), panic_text(&e)));
            }
            // Every other time, start again from the whole sample.
            if o.is_multiple_of(2) {
                c.decode_into(&valid, &mut v).unwrap();
                d.decode_in(&valid, None, p, &Limits::default()).unwrap();
            }
        }
        println!("{p:?}: {n} corruptions decoded into used values");
    }
}

/// A value keeping unknown fields, decoded into again from truncated and corrupted input:
/// whatever the outcome, it encodes (in either protocol) to bytes that decode, or not at all.
/// (A Compact unknown field cut short must not leave half a field among the kept bytes.)
#[test]
fn truncation_into_a_reused_keep_value() {
    let codecs = PROTOCOLS
        .map(|p| Codec::<NestingKeep>::with_options(Options::default().protocol(p)).unwrap());
    for (c, p) in codecs.iter().zip(PROTOCOLS) {
        let valid = Codec::<Nesting>::with_options(Options::default().protocol(p))
            .unwrap()
            .encode(&workloads::nesting())
            .unwrap();
        let st = hostile::structure(&valid, p).unwrap();
        let cuts = hostile::sample_offsets(valid.len(), 0, 0, 97, st.boundaries_within(1));
        let mut inputs: Vec<(String, Vec<u8>)> = cuts
            .iter()
            .map(|&k| (format!("truncated to {k}"), valid[..k].to_vec()))
            .collect();
        for o in structural_offsets(&st, valid.len(), |o| o < 2048) {
            for m in BYTE_MUTATIONS {
                if let Some(b) = hostile::mutate(&valid, o, m) {
                    inputs.push((format!("byte {o} changed by {m:?}"), b));
                }
            }
        }
        for (what, input) in &inputs {
            let mut v = c.decode(&valid).unwrap();
            let _ = c.decode_into(input, &mut v);
            for q in &codecs {
                if let Ok(bytes) = q.encode(&v)
                    && let Err(e) = q.decode(&bytes)
                {
                    panic!(
                        "{p:?} input {what}, decoded into a used value, re-encoded in {:?}: {e}",
                        q.options().protocol
                    );
                }
            }
        }
        println!(
            "{p:?}: {} inputs decoded into used values keeping unknown fields",
            inputs.len()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Wrong types

/// A known field id arriving with another wire type is skipped; so is a container whose
/// element types differ. The value keeps its defaults.
#[test]
fn wrong_field_types_are_skipped() {
    for w in [Workload::Simple, Workload::Nesting, Workload::Nesting2] {
        for s in w.subjects() {
            let mut m = Wire::new(s.protocol);
            match w {
                Workload::Simple => {
                    m.field(TType::I32, 1).i32(5); // ByteField is a byte
                    m.field(TType::Struct, 5)
                        .begin()
                        .field(TType::I64, 1)
                        .i64(1)
                        .stop(); // string
                    m.field(TType::List, 7).list(TType::I32, 2).i32(1).i32(2); // enum
                    m.field(TType::String, 2).bytes(b"not an i64");
                }
                Workload::Nesting => {
                    m.field(TType::List, 5).list(TType::I64, 2).i64(1).i64(2); // list<i32>
                    m.field(TType::List, 2).list(TType::I32, 1).i32(7); // list<Simple>
                    m.field(TType::Map, 9)
                        .map(TType::I64, TType::I64, 1)
                        .i64(1)
                        .i64(2); // i32 keys
                    m.field(TType::Map, 7)
                        .map(TType::String, TType::I32, 1)
                        .bytes(b"k")
                        .i32(3);
                    m.field(TType::Set, 10)
                        .list(TType::String, 1)
                        .bytes(b"set, not list");
                }
                Workload::Nesting2 => {
                    m.field(TType::List, 1).list(TType::Struct, 1).empty(); // a map
                    m.field(TType::Map, 5)
                        .map(TType::I32, TType::Struct, 1)
                        .i32(1)
                        .empty();
                    m.field(TType::I64, 7).i64(9); // a struct
                }
            }
            m.stop();
            let out = expect_ok(&s, &m.done(), "fields of the wrong type");
            // Nothing was kept: the re-encoding is the empty value's.
            let o = Options::default().protocol(s.protocol);
            let empty = if s.label.contains("/idl/") {
                DynStruct::new(baseline(), w.name())
                    .unwrap()
                    .encode(s.protocol)
                    .unwrap()
            } else {
                match w {
                    Workload::Simple => Codec::<Simple>::with_options(o)
                        .unwrap()
                        .encode(&Simple::empty()),
                    Workload::Nesting => Codec::<Nesting>::with_options(o)
                        .unwrap()
                        .encode(&Nesting::empty()),
                    Workload::Nesting2 => Codec::<Nesting2>::with_options(o)
                        .unwrap()
                        .encode(&Nesting2::empty()),
                }
                .unwrap()
            };
            assert_eq!(out, empty, "{}", s.label);
        }
    }
}

/// Unknown field ids at the ends of the i16 range, zero and negative, are skipped.
#[test]
fn extreme_field_ids_are_skipped() {
    for w in [Workload::Simple, Workload::Nesting] {
        for s in w.subjects() {
            let mut m = Wire::new(s.protocol);
            for id in [i16::MIN, -1, 0, 100, i16::MAX] {
                m.field(TType::I32, id).i32(id as i32);
                m.field(TType::Struct, id).empty();
            }
            m.stop();
            expect_ok(&s, &m.done(), "extreme field ids");
        }
    }
}

/// Type codes Thrift does not define, and `void`/`stop` where a value is needed.
#[test]
fn invalid_type_codes() {
    for s in Workload::Nesting.subjects() {
        let p = s.protocol;
        // A field header with an undefined type code.
        let bad = match p {
            Protocol::Binary => [5u8, 17, 0xff],
            Protocol::Compact => [0x1e, 0x1f, 0xff],
        };
        for code in bad {
            let input = [code, 0, 1, 0];
            let e = expect_err(&s, &input, "an undefined field type code");
            assert_error(&s, &e, ErrorKind::InvalidType, "Nesting", 0);
            // The same with a known field's id (4, an i32), with the header cut short (the
            // type code is reported first), and after a field (where a compiled decoder has
            // predicted another header).
            let (known, cut): (&[u8], &[u8]) = match p {
                Protocol::Binary => (&[code, 0, 4, 0], &[code, 0]),
                Protocol::Compact => (&[0x40 | (code & 0x0f), 0], &[code]),
            };
            for input in [known, cut, &cut[..1]] {
                let e = expect_err(&s, input, "an undefined type code, known id or cut short");
                assert_error(&s, &e, ErrorKind::InvalidType, "Nesting", 0);
            }
            let mut m = Wire::new(p);
            m.field(TType::I32, 4).i32(1);
            let at = m.pos();
            match p {
                Protocol::Binary => m.raw(&[code, 0, 9, 0, 0, 0, 0]),
                Protocol::Compact => m.raw(&[0x50 | (code & 0x0f), 0, 0, 0, 0]),
            };
            m.stop();
            let e = expect_err(&s, &m.done(), "an undefined type code after a field");
            assert_error(&s, &e, ErrorKind::InvalidType, "Nesting", at);
        }
        // List elements of an undefined type, in a known list field (after 3 fine fields).
        let mut m = Wire::new(p);
        m.field(TType::I32, 4).i32(1).field(TType::I64, 6).i64(2);
        let at = m.pos();
        m.field(TType::List, 5);
        let header = m.pos();
        match p {
            Protocol::Binary => m.raw(&[0x07, 0, 0, 0, 1, 0]),
            Protocol::Compact => m.raw(&[0x1e, 0]),
        };
        m.stop();
        let e = expect_err(&s, &m.done(), "list of an undefined element type");
        assert_error(&s, &e, ErrorKind::InvalidType, "Nesting.ListI32", header);
        assert!(at < header);
        // Map keys of an undefined type.
        let mut m = Wire::new(p);
        m.field(TType::Map, 9);
        let header = m.pos();
        match p {
            Protocol::Binary => m.raw(&[0x09, 0x08, 0, 0, 0, 1]),
            Protocol::Compact => m.raw(&[0x01, 0xe5]),
        };
        m.raw(&[0; 16]).stop();
        let e = expect_err(&s, &m.done(), "map keys of an undefined type");
        let at = if p == Protocol::Binary {
            header
        } else {
            header + 1
        };
        assert_error(&s, &e, ErrorKind::InvalidType, "Nesting.MapI32I64", at);
        // `stop` as a list element type with elements; `void` as a field type (Binary only:
        // Compact has no code for them).
        if p == Protocol::Binary {
            let input = [15, 0, 5, 0, 0, 0, 0, 2, 0, 0, 0];
            let e = expect_err(&s, &input, "list of stop elements");
            assert_eq!(e.kind(), ErrorKind::InvalidType, "{e}");
            assert_eq!(e.path(), "Nesting.ListI32");
            let input = [1, 0, 99, 0];
            let e = expect_err(&s, &input, "a void field");
            assert_error(&s, &e, ErrorKind::InvalidType, "Nesting", 3);
            // An empty list of stop elements is merely empty.
            expect_ok(
                &s,
                &[15, 0, 5, 0, 0, 0, 0, 0, 0],
                "empty list of stop elements",
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Lengths

#[test]
fn negative_and_huge_lengths() {
    for s in Workload::Nesting.subjects() {
        let p = s.protocol;
        let bin = p == Protocol::Binary;
        let negative = |n: i64| if bin { n } else { n & 0xffff_ffff };

        // list<i64> declaring 2^31 elements (negative as an i32) and 2^31 - 1, in 10 bytes.
        for (n, kind) in [
            (1i64 << 31, ErrorKind::NegativeLength),
            (i32::MAX as i64, ErrorKind::LengthLimit),
        ] {
            let mut m = Wire::new(p);
            m.field(TType::List, 13);
            let at = m.pos();
            m.list(TType::I64, n).raw(&[0; 10]);
            let e = expect_err(&s, &m.done(), &format!("list<i64> of {n} in 10 bytes"));
            let off = if kind == ErrorKind::NegativeLength {
                at + 1
            } else {
                at
            };
            assert_error(&s, &e, kind, "Nesting.ListI64", off);
        }
        // Strings of -1, i32::MIN and i32::MAX bytes.
        for (n, kind) in [
            (negative(-1), ErrorKind::NegativeLength),
            (negative(i32::MIN as i64), ErrorKind::NegativeLength),
            (i32::MAX as i64, ErrorKind::LengthLimit),
        ] {
            let mut m = Wire::new(p);
            m.field(TType::String, 1);
            let at = m.pos();
            m.len(n).raw(b"0123456789").stop();
            let e = expect_err(&s, &m.done(), &format!("a string of {n} bytes"));
            assert_error(&s, &e, kind, "Nesting.String", at);
        }
        // Maps: negative, and more entries than bytes.
        for (n, kind) in [
            (negative(-5), ErrorKind::NegativeLength),
            (1_000_000, ErrorKind::LengthLimit),
        ] {
            let mut m = Wire::new(p);
            m.field(TType::Map, 15);
            let at = m.pos();
            m.map(TType::String, TType::Struct, n).raw(&[0; 64]);
            let e = expect_err(&s, &m.done(), &format!("a map of {n} entries"));
            let off = match (p, kind) {
                (Protocol::Binary, ErrorKind::NegativeLength) => at + 2,
                _ => at,
            };
            assert_error(&s, &e, kind, "Nesting.MapStringSimple", off);
        }
        // An unknown field (skipped, never allocated) with a huge string: no field to name.
        let mut m = Wire::new(p);
        m.field(TType::String, 99).len(i32::MAX as i64).raw(&[0; 8]);
        let e = expect_err(&s, &m.done(), "an unknown field with a huge string");
        assert_error(&s, &e, ErrorKind::LengthLimit, "Nesting", 3);

        if !bin {
            // Compact lengths beyond i32: up to u32::MAX they are negative i32s (as a 32-bit
            // writer would have meant them); beyond, not 32-bit at all. Either way a typed
            // error at the length, and no allocation.
            for n in [
                1u64 << 31,
                u32::MAX as u64,
                (1 << 32) + 5,
                1 << 63,
                u64::MAX,
            ] {
                let (kind, detail) = if n <= u32::MAX as u64 {
                    (
                        ErrorKind::NegativeLength,
                        format!("negative length {}", n as u32 as i32),
                    )
                } else {
                    (
                        ErrorKind::LengthLimit,
                        format!("length {n} does not fit in an i32"),
                    )
                };
                let mut m = Wire::new(p);
                m.field(TType::String, 1);
                let at = m.pos();
                m.varint(n).raw(b"abc").stop();
                let e = expect_err(&s, &m.done(), &format!("a string of {n} bytes"));
                assert_error(&s, &e, kind, "Nesting.String", at);
                assert_eq!(e.detail(), detail);
                let mut m = Wire::new(p);
                m.field(TType::List, 10);
                let at = m.pos() + 1;
                m.raw(&[0xf8]).varint(n).raw(b"abc").stop();
                let e = expect_err(&s, &m.done(), &format!("a list of {n} strings"));
                assert_error(&s, &e, kind, "Nesting.ListString", at);
                let mut m = Wire::new(p);
                m.field(TType::Map, 7);
                let at = m.pos();
                m.varint(n).raw(&[0x88]).raw(b"abc").stop();
                let e = expect_err(&s, &m.done(), &format!("a map of {n} entries"));
                assert_error(&s, &e, kind, "Nesting.MapStringString", at);
            }
            // Varints longer than 10 bytes: as a length, an i64, a field id.
            let long = [0xffu8; 11];
            let mut m = Wire::new(p);
            m.field(TType::String, 1);
            let at = m.pos();
            m.raw(&long).raw(&[1]);
            let e = expect_err(&s, &m.done(), "an 11-byte varint length");
            assert_error(&s, &e, ErrorKind::VarintTooLong, "Nesting.String", at);
            let mut m = Wire::new(p);
            m.field(TType::I64, 6);
            let at = m.pos();
            m.raw(&[0x80; 12]).raw(&[0]);
            let e = expect_err(&s, &m.done(), "a 12-byte varint i64");
            assert_error(&s, &e, ErrorKind::VarintTooLong, "Nesting.I64", at);
            let e = expect_err(
                &s,
                &[
                    0x06, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00,
                ],
                "an 11-byte field id",
            );
            assert_error(&s, &e, ErrorKind::VarintTooLong, "Nesting", 1);
            // Ten bytes is the most a varint may take: this one is fine (field 6 = 0).
            let mut m = Wire::new(p);
            m.field(TType::I64, 6).raw(&[0x80; 9]).raw(&[0]).stop();
            expect_ok(&s, &m.done(), "a 10-byte varint");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Depth

/// `n` levels of `Tree` (struct, list of one struct, ...): `Tree.children[0].children[0]...`.
fn tree_wire(p: Protocol, levels: usize) -> Vec<u8> {
    let mut m = Wire::new(p);
    for _ in 0..levels {
        m.field(TType::List, 1).list(TType::Struct, 1).begin();
    }
    // The innermost tree has an empty list, as a derived `Tree` writes it.
    m.field(TType::List, 1).list(TType::Struct, 0);
    for _ in 0..levels {
        m.stop();
    }
    m.stop();
    m.done()
}

/// `n` nested `Chain`s below the root (an i32 field, then the next chain in field 2).
fn chain_wire(p: Protocol, levels: usize) -> Vec<u8> {
    let mut m = Wire::new(p);
    for _ in 0..levels {
        m.field(TType::I32, 1)
            .i32(7)
            .field(TType::Struct, 2)
            .begin();
    }
    m.field(TType::I32, 1).i32(7);
    for _ in 0..levels {
        m.stop();
    }
    m.stop();
    m.done()
}

fn tree_value(levels: usize) -> Tree {
    let mut t = Tree { children: vec![] };
    for _ in 0..levels {
        t = Tree { children: vec![t] };
    }
    t
}

fn chain_value(levels: usize) -> Chain {
    let mut c = Chain {
        value: 0,
        next: None,
    };
    for i in 0..levels {
        c = Chain {
            value: i as i32,
            next: Some(Box::new(c)),
        };
    }
    c
}

fn tree_subjects(depth: u32) -> Vec<Subject> {
    let mut v = Vec::new();
    let limits = Options::default().max_depth(depth).limits;
    for p in PROTOCOLS {
        let o = Options::default().protocol(p).max_depth(depth);
        v.push(Subject::derived::<Tree>("Tree", o, size_of::<Tree>(), None));
        v.push(Subject::derived::<Chain>(
            "Chain",
            o,
            2 * size_of::<Chain>(),
            None,
        ));
        v.push(Subject::dynamic(extra(), "Tree", p, limits, 64, vec![]));
        v.push(Subject::dynamic(extra(), "Chain", p, limits, 64, vec![]));
    }
    v
}

/// For a depth limit `d`: the most levels that decode, and for one more level the offset and
/// path of the error. `Tree` spends two levels per step (the struct, then its list), `Chain`
/// one.
fn depth_expectation(s: &Subject, d: usize) -> (usize, usize, String) {
    let bin = s.protocol == Protocol::Binary;
    if s.root == "Tree" {
        // Per level: field header and list header (Binary 3 + 5, Compact 1 + 1). With `k`
        // levels there are k + 1 structs and k + 1 lists: 2k + 2 levels of depth.
        let (step, header) = if bin { (8, 3) } else { (2, 1) };
        let max = (d - 2) / 2;
        let prefix = format!("Tree{}", ".children[0]".repeat(max + 1));
        if d.is_multiple_of(2) {
            // The struct at level max + 1 is one too many.
            (max, step * (max + 1), prefix)
        } else {
            // The list in the struct at level max + 1 is one too many.
            (max, step * (max + 1) + header, format!("{prefix}.children"))
        }
    } else {
        // Per level: an i32 field and a struct field header (Binary 3 + 4 + 3, Compact 3).
        let step = if bin { 10 } else { 3 };
        let max = d - 1;
        (
            max,
            step * (max + 1),
            format!("Chain{}", ".next".repeat(max + 1)),
        )
    }
}

#[test]
fn depth_limit_on_decode() {
    for depth in [64u32, 6, 5, 2] {
        for s in tree_subjects(depth) {
            let (max, at, path) = depth_expectation(&s, depth as usize);
            let wire = |k| {
                if s.root == "Tree" {
                    tree_wire(s.protocol, k)
                } else {
                    chain_wire(s.protocol, k)
                }
            };
            expect_ok(&s, &wire(max), &format!("{max} levels, limit {depth}"));
            for k in [max + 1, max + 2, 1000] {
                let e = expect_err(&s, &wire(k), &format!("{k} levels, limit {depth}"));
                assert_error(&s, &e, ErrorKind::DepthLimit, &path, at);
                assert_eq!(e.detail(), "nesting too deep");
            }
        }
    }
}

/// Deeply nested lists and structs in unknown and mistyped fields of the workloads are
/// skipped up to the depth limit, then refused.
#[test]
fn depth_limit_on_skipped_values() {
    for s in Workload::Simple
        .subjects()
        .into_iter()
        .chain(Workload::Nesting.subjects())
    {
        let p = s.protocol;
        // Field 99 is unknown; field 5 is a string in `Simple` (a list is mistyped) and a
        // `list<i32>` in `Nesting` (a list of lists has mistyped elements).
        for (id, what) in [(99i16, "an unknown field"), (5, "a mistyped field")] {
            // `k` nested lists: the root struct takes one level, each list one.
            let header = Wire::new(p).field(TType::List, id).pos();
            let lists = |k: usize| {
                let mut m = Wire::new(p);
                m.field(TType::List, id);
                for _ in 0..k - 1 {
                    m.list(TType::List, 1);
                }
                m.list(TType::I32, 0).stop();
                m.done()
            };
            expect_ok(&s, &lists(63), &format!("63 nested lists in {what}"));
            for k in [64, 200] {
                let e = expect_err(&s, &lists(k), &format!("{k} nested lists in {what}"));
                assert_eq!(e.kind(), ErrorKind::DepthLimit, "{}: {e}", s.label);
                // The 64th list header.
                let at = header + if p == Protocol::Binary { 5 * 63 } else { 63 };
                assert_eq!(e.offset(), Some(at), "{}: {e}", s.label);
                // Skipped values have no path below the field that holds them, if any.
                assert!(e.path().starts_with(s.root), "{}: {e}", s.label);
            }
            // Structs.
            let mut m = Wire::new(p);
            m.field(TType::Struct, id);
            for _ in 0..200 {
                m.begin().field(TType::Struct, 1);
            }
            m.empty();
            for _ in 0..200 {
                m.stop();
            }
            m.stop();
            let e = expect_err(&s, &m.done(), &format!("200 nested structs in {what}"));
            assert_eq!(e.kind(), ErrorKind::DepthLimit, "{}: {e}", s.label);
            // Maps of maps.
            let mut m = Wire::new(p);
            m.field(TType::Map, id);
            for _ in 0..200 {
                m.map(TType::I32, TType::Map, 1).i32(0);
            }
            m.map(TType::I32, TType::I32, 0).stop();
            let e = expect_err(&s, &m.done(), &format!("200 nested maps in {what}"));
            assert_eq!(e.kind(), ErrorKind::DepthLimit, "{}: {e}", s.label);
        }
    }
}

/// An IDL type with 100 nested lists: refused past the limit, accepted within it.
#[test]
fn depth_limit_on_deep_idl_lists() {
    for p in PROTOCOLS {
        for depth in [64u32, 10] {
            let limits = Options::default().max_depth(depth).limits;
            let s = Subject::dynamic(extra(), "Deep", p, limits, 64, vec![]);
            let wire = |k: usize| {
                let mut m = Wire::new(p);
                m.field(TType::List, 1);
                for _ in 0..k - 1 {
                    m.list(TType::List, 1);
                }
                m.list(TType::I32, 1).i32(5).stop();
                m.done()
            };
            // The root struct takes one level.
            let max = depth as usize - 1;
            expect_ok(&s, &wire(max), "lists at the limit");
            let e = expect_err(&s, &wire(max + 1), "lists past the limit");
            assert_eq!(e.kind(), ErrorKind::DepthLimit, "{e}");
            let mut path = "Deep.x".to_string();
            for _ in 0..max {
                path.push_str("[0]");
            }
            let at = if p == Protocol::Binary {
                3 + 5 * max
            } else {
                1 + max
            };
            assert_error(&s, &e, ErrorKind::DepthLimit, &path, at);
            let e = expect_err(&s, &wire(DEEP_IDL_LISTS), "100 nested lists");
            assert_eq!(e.kind(), ErrorKind::DepthLimit, "{e}");
        }
    }
}

/// Values deeper than the limit do not encode (an error, not a stack overflow).
#[test]
fn depth_limit_on_encode() {
    for p in PROTOCOLS {
        for depth in [64u32, 7, 6] {
            let o = Options::default().protocol(p).max_depth(depth);
            let d = depth as usize;
            let tree = Codec::<Tree>::with_options(o).unwrap();
            let chain = Codec::<Chain>::with_options(o).unwrap();
            // A derived `Tree` writes its (empty) list at the innermost level too: k levels
            // take 2k + 2. A chain of k takes k + 1.
            let max_tree = (d - 2) / 2;
            let max_chain = d - 1;
            let v = tree_value(max_tree);
            let bytes = tree.encode(&v).unwrap();
            assert_eq!(bytes, tree_wire(p, max_tree));
            assert_eq!(tree.decode(&bytes).unwrap(), v);
            let v = chain_value(max_chain);
            let chain_bytes = chain.encode(&v).unwrap();
            assert_eq!(chain.decode(&chain_bytes).unwrap(), v);
            for k in [max_tree + 1, 1000] {
                let v = tree_value(k);
                let e = tree.encode(&v).unwrap_err();
                assert_eq!(e.kind(), ErrorKind::DepthLimit, "{e}");
                assert!(
                    e.to_string()
                        .starts_with("encode error at Tree.children[0]"),
                    "{e}"
                );
                assert_eq!(e.offset(), None);
                assert_eq!(
                    tree.encoded_len(&v).unwrap_err().kind(),
                    ErrorKind::DepthLimit
                );
                let mut out = vec![1, 2, 3];
                assert!(tree.write(&v, &mut out).is_err());
                assert_eq!(out, [1, 2, 3], "a failed write leaves the buffer as it was");
            }
            for k in [max_chain + 1, 1000] {
                let e = chain.encode(&chain_value(k)).unwrap_err();
                assert_eq!(e.kind(), ErrorKind::DepthLimit, "{e}");
                assert_eq!(e.path(), format!("Chain{}", ".next".repeat(max_chain + 1)));
                assert_eq!(
                    e.to_string(),
                    format!("encode error at {}: nesting too deep", e.path())
                );
            }
            // IDL-only: a chain of DynStructs.
            let limits = o.limits;
            let chain_dyn = |k: usize| {
                let mut c = DynStruct::new(extra(), "Chain").unwrap();
                for i in 0..k {
                    let mut outer = DynStruct::new(extra(), "Chain").unwrap();
                    outer.set("value", i as i32).unwrap();
                    outer.set("next", Value::Struct(c)).unwrap();
                    c = outer;
                }
                c
            };
            let mut out = Vec::new();
            chain_dyn(max_chain)
                .encode_into(&mut out, p, &limits)
                .unwrap();
            assert_eq!(out, chain_bytes);
            for k in [max_chain + 1, 200] {
                let mut out = Vec::new();
                let e = chain_dyn(k).encode_into(&mut out, p, &limits).unwrap_err();
                assert_eq!(e.kind(), ErrorKind::DepthLimit, "{e}");
                assert_eq!(e.path(), format!("Chain{}", ".next".repeat(max_chain + 1)));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Container and string limits

#[test]
fn container_and_string_limits() {
    for p in PROTOCOLS {
        let o = Options::default()
            .protocol(p)
            .max_container_len(3)
            .max_string_len(4);
        let limits = o.limits;
        let subjects = [
            Subject::derived::<Limited>("Limited", o, 64, None),
            Subject::dynamic(extra(), "Limited", p, limits, 64, vec![]),
        ];
        for s in &subjects {
            let ok = {
                let mut m = Wire::new(p);
                m.field(TType::List, 1)
                    .list(TType::I32, 3)
                    .i32(1)
                    .i32(2)
                    .i32(3);
                m.field(TType::Set, 2)
                    .list(TType::I64, 3)
                    .i64(1)
                    .i64(2)
                    .i64(3);
                m.field(TType::Map, 3).map(TType::I32, TType::I32, 3);
                for i in 0..3 {
                    m.i32(i).i32(i);
                }
                m.field(TType::String, 4).bytes(b"abcd");
                m.field(TType::String, 5).bytes(&[0xff; 4]);
                m.stop();
                m.done()
            };
            expect_ok(s, &ok, "at the limits");
            type Case = (i16, &'static str, fn(&mut Wire));
            let cases: [Case; 5] = [
                (1, "ints", |m| {
                    m.field(TType::List, 1).list(TType::I32, 4);
                    (0..4).for_each(|i| {
                        m.i32(i);
                    });
                }),
                (2, "set", |m| {
                    m.field(TType::Set, 2).list(TType::I64, 4);
                    (0..4).for_each(|i| {
                        m.i64(i);
                    });
                }),
                (3, "map", |m| {
                    m.field(TType::Map, 3).map(TType::I32, TType::I32, 4);
                    (0..8).for_each(|i| {
                        m.i32(i);
                    });
                }),
                (4, "s", |m| {
                    m.field(TType::String, 4).bytes(b"abcde");
                }),
                (5, "b", |m| {
                    m.field(TType::String, 5).bytes(&[0; 5]);
                }),
            ];
            for (id, name, build) in cases {
                let mut m = Wire::new(p);
                m.field(TType::I32, 10).i32(0); // an unknown field first
                m.field(TType::Bool, 11)
                    .raw(if p == Protocol::Binary { &[1] } else { &[] });
                let before = m.pos();
                build(&mut m);
                m.stop();
                let input = m.done();
                let e = expect_err(s, &input, &format!("field {id} over its limit"));
                let header = match (p, id) {
                    (Protocol::Binary, _) => 3,
                    (Protocol::Compact, _) => 2,
                };
                assert_error(
                    s,
                    &e,
                    ErrorKind::LengthLimit,
                    &format!("Limited.{name}"),
                    before + header,
                );
                let detail = if id <= 3 {
                    "container length of 4 over the limit of 3"
                } else {
                    "string length of 5 over the limit of 4"
                };
                assert_eq!(e.detail(), detail, "{}", s.label);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Strings and binary

#[test]
fn invalid_utf8() {
    for s in Workload::Nesting.subjects() {
        let p = s.protocol;
        // In a string field: the offset is the bad byte's.
        for (text, bad) in [
            (&b"abcd\xffefg"[..], 4usize),
            (b"\x80", 0),
            (b"ok \xe4\xbd", 3),            // truncated 3-byte sequence
            (b"\xed\xa0\x80 surrogate", 0), // UTF-16 surrogate
            (b"\xc0\xaf overlong", 0),
        ] {
            let mut m = Wire::new(p);
            m.field(TType::I32, 4).i32(1);
            m.field(TType::String, 1).len(text.len() as i64);
            let data = m.pos();
            m.raw(text).stop();
            let e = expect_err(&s, &m.done(), "invalid utf-8 in a string field");
            assert_error(&s, &e, ErrorKind::InvalidUtf8, "Nesting.String", data + bad);
        }
        // In a list element, a map key, a map value, a nested struct's field.
        let mut m = Wire::new(p);
        m.field(TType::List, 10)
            .list(TType::String, 3)
            .bytes(b"a")
            .bytes(b"b");
        let data = m.pos() + if p == Protocol::Binary { 4 } else { 1 };
        m.bytes(b"\xfe").stop();
        let e = expect_err(&s, &m.done(), "invalid utf-8 in a list element");
        assert_error(
            &s,
            &e,
            ErrorKind::InvalidUtf8,
            "Nesting.ListString[2]",
            data,
        );

        let mut m = Wire::new(p);
        m.field(TType::Map, 7).map(TType::String, TType::String, 2);
        m.bytes(b"k1").bytes(b"v1");
        let data = m.pos() + if p == Protocol::Binary { 4 } else { 1 };
        m.bytes(b"k\xff").bytes(b"v2").stop();
        let e = expect_err(&s, &m.done(), "invalid utf-8 in a map key");
        assert_error(
            &s,
            &e,
            ErrorKind::InvalidUtf8,
            "Nesting.MapStringString<key 1>",
            data + 1,
        );

        let mut m = Wire::new(p);
        m.field(TType::Map, 12)
            .map(TType::I64, TType::String, 1)
            .i64(-3);
        let data = m.pos() + if p == Protocol::Binary { 4 } else { 1 };
        m.bytes(b"\xff").stop();
        let e = expect_err(&s, &m.done(), "invalid utf-8 in a map value");
        assert_error(
            &s,
            &e,
            ErrorKind::InvalidUtf8,
            "Nesting.MapI64String[-3]",
            data,
        );

        let mut m = Wire::new(p);
        m.field(TType::Map, 15)
            .map(TType::String, TType::Struct, 1)
            .bytes(b"key");
        m.begin().field(TType::String, 5);
        let data = m.pos() + if p == Protocol::Binary { 4 } else { 1 };
        m.bytes(b"x\xc3").stop().stop();
        let e = expect_err(&s, &m.done(), "invalid utf-8 in a nested struct");
        assert_error(
            &s,
            &e,
            ErrorKind::InvalidUtf8,
            "Nesting.MapStringSimple[\"key\"].StringField",
            data + 1,
        );
    }
}

#[test]
fn binary_accepts_any_bytes() {
    let all: Vec<u8> = (0..=255).collect();
    for s in Workload::Simple.subjects() {
        let mut m = Wire::new(s.protocol);
        m.field(TType::String, 6).bytes(&all).stop();
        expect_ok(&s, &m.done(), "all byte values in a binary field");
    }
    for p in PROTOCOLS {
        let c = Codec::<Simple>::with_options(Options::default().protocol(p)).unwrap();
        let mut m = Wire::new(p);
        m.field(TType::String, 6).bytes(&all).stop();
        assert_eq!(
            c.decode(&m.done()).unwrap().binary_field,
            Bytes::from(all.clone())
        );
        let v = DynStruct::decode(baseline(), "Simple", &m.done(), p).unwrap();
        assert_eq!(
            v.get("BinaryField").unwrap(),
            Some(Value::Binary(Bytes::from(all.clone())))
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Bools

#[test]
fn bools_are_normalised() {
    let odd = [0u8, 1, 2, 0x7f, 0x80, 0xfe, 0xff];
    for p in PROTOCOLS {
        // Binary: nonzero is true. Compact elements: 1 is true, anything else false.
        let truth = |b: u8| {
            if p == Protocol::Binary {
                b != 0
            } else {
                b == 1
            }
        };
        let mut m = Wire::new(p);
        match p {
            Protocol::Binary => m.field(TType::Bool, 1).raw(&[0x42]),
            Protocol::Compact => m.bool_field(1, true),
        };
        m.field(TType::List, 2)
            .list(TType::Bool, odd.len() as i64)
            .raw(&odd);
        m.field(TType::Map, 3)
            .map(TType::I8, TType::Bool, odd.len() as i64);
        for (i, b) in odd.iter().enumerate() {
            m.raw(&[i as u8, *b]);
        }
        m.stop();
        let input = m.done();

        let o = Options::default().protocol(p);
        let s = Subject::derived::<Flags>("Flags", o, 64, None);
        let out = expect_ok(&s, &input, "odd bool bytes");
        let v = Codec::<Flags>::with_options(o)
            .unwrap()
            .decode(&input)
            .unwrap();
        assert!(v.flag);
        let want: Vec<bool> = odd.iter().map(|&b| truth(b)).collect();
        assert_eq!(v.flags, want, "{p:?}");
        // The raw byte is never stored: every bool in memory is 0 or 1.
        for b in v.flags.iter().chain(v.by_key.values()) {
            assert!((*b as u8) <= 1);
        }
        assert_eq!(v.by_key.values().copied().collect::<Vec<_>>(), want);
        // Re-encoding writes canonical bools.
        let again = Codec::<Flags>::with_options(o)
            .unwrap()
            .decode(&out)
            .unwrap();
        assert_eq!(again, v);

        let s = Subject::dynamic(extra(), "Flags", p, Limits::default(), 64, vec![]);
        let out_dyn = expect_ok(&s, &input, "odd bool bytes");
        assert_eq!(out_dyn, out, "IDL-only and derived agree");
        let d = DynStruct::decode(extra(), "Flags", &input, p).unwrap();
        assert_eq!(d.get("flag").unwrap(), Some(Value::Bool(true)));
        assert_eq!(
            d.get("flags").unwrap(),
            Some(Value::List(want.iter().map(|&b| Value::Bool(b)).collect()))
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Enums

#[test]
fn unknown_enum_values() {
    for s in Workload::Nesting.subjects() {
        let p = s.protocol;
        for v in [3, -1, i32::MAX, i32::MIN] {
            // In a nested struct's enum field.
            let mut m = Wire::new(p);
            m.field(TType::Struct, 8)
                .begin()
                .field(TType::I32, 1)
                .i32(0);
            m.field(TType::I32, 7);
            let at = m.pos();
            m.i32(v).stop().stop();
            let input = m.done();
            match feed(&s, &input, &|| format!("enum value {v}")) {
                Err(e) => {
                    assert!(s.label.contains("derived"), "{}: {e}", s.label);
                    assert_error(
                        &s,
                        &e,
                        ErrorKind::UnknownEnumValue,
                        "Nesting.SimpleStruct.enumField",
                        at,
                    );
                    assert_eq!(e.detail(), format!("unknown value {v} for enum 'Enums'"));
                }
                Ok(out) => {
                    // IDL-only values keep any i32.
                    assert!(s.label.contains("idl"), "{}", s.label);
                    let d = DynStruct::decode(baseline(), "Nesting", &out, p).unwrap();
                    let Some(Value::Struct(inner)) = d.get("SimpleStruct").unwrap() else {
                        panic!("{}", s.label)
                    };
                    assert_eq!(inner.get("enumField").unwrap(), Some(Value::I32(v)));
                }
            }
            // In a list element: the path has the index.
            let mut m = Wire::new(p);
            m.field(TType::List, 2)
                .list(TType::Struct, 2)
                .empty()
                .begin();
            m.field(TType::I32, 7);
            let at = m.pos();
            m.i32(v).stop().stop();
            if let Err(e) = feed(&s, &m.done(), &|| format!("enum value {v} in a list")) {
                assert_error(
                    &s,
                    &e,
                    ErrorKind::UnknownEnumValue,
                    "Nesting.ListSimple[1].enumField",
                    at,
                );
            }
        }
        // Known values decode as themselves.
        let mut m = Wire::new(p);
        m.field(TType::Struct, 8)
            .begin()
            .field(TType::I32, 7)
            .i32(2)
            .stop()
            .stop();
        expect_ok(&s, &m.done(), "a known enum value");
    }
    let c = Codec::<Simple>::new().unwrap();
    let mut m = Wire::new(Protocol::Binary);
    m.field(TType::I32, 7).i32(2).stop();
    assert_eq!(c.decode(&m.done()).unwrap().enum_field, Enums::ValueC);
}

// ---------------------------------------------------------------------------------------------
// Required fields

#[test]
fn missing_required_fields() {
    for p in PROTOCOLS {
        let o = Options::default().protocol(p);
        let subjects = [
            Subject::derived::<Outer>("Outer", o, 64, None),
            Subject::dynamic(extra(), "Outer", p, Limits::default(), 256, vec![]),
        ];
        for s in &subjects {
            // inner: has id, lacks name.
            let mut m = Wire::new(p);
            m.field(TType::Struct, 1)
                .begin()
                .field(TType::I64, 1)
                .i64(1);
            m.field(TType::String, 3).bytes(b"note").stop();
            let end = m.pos();
            m.stop();
            let e = expect_err(s, &m.done(), "inner lacks name");
            assert_error(s, &e, ErrorKind::MissingRequired, "Outer.inner", end);
            assert_eq!(e.detail(), "missing required field 'name'");
            // The second list element lacks id (and name): the first missing is named.
            let mut m = Wire::new(p);
            m.field(TType::Struct, 1)
                .begin()
                .field(TType::I64, 1)
                .i64(1);
            m.field(TType::String, 2).bytes(b"n").stop();
            m.field(TType::List, 2).list(TType::Struct, 2);
            m.begin()
                .field(TType::String, 2)
                .bytes(b"a")
                .field(TType::I64, 1)
                .i64(2)
                .stop();
            m.begin().field(TType::String, 3).bytes(b"x");
            let end = m.pos() + 1;
            m.stop().stop();
            let e = expect_err(s, &m.done(), "list element lacks id");
            assert_error(s, &e, ErrorKind::MissingRequired, "Outer.list[1]", end);
            assert_eq!(e.detail(), "missing required field 'id'");
            // A map value.
            let mut m = Wire::new(p);
            m.field(TType::Struct, 1)
                .begin()
                .field(TType::I64, 1)
                .i64(1);
            m.field(TType::String, 2).bytes(b"n").stop();
            m.field(TType::Map, 3)
                .map(TType::String, TType::Struct, 1)
                .bytes(b"k");
            m.begin().field(TType::I64, 1).i64(3);
            let end = m.pos() + 1;
            m.stop().stop();
            let e = expect_err(s, &m.done(), "map value lacks name");
            assert_error(
                s,
                &e,
                ErrorKind::MissingRequired,
                "Outer.by_name[\"k\"]",
                end,
            );
            // A required field of the wrong type does not count as present.
            let mut m = Wire::new(p);
            m.field(TType::Struct, 1)
                .begin()
                .field(TType::I32, 1)
                .i32(1);
            m.field(TType::String, 2).bytes(b"n");
            let end = m.pos() + 1;
            m.stop().stop();
            let e = expect_err(s, &m.done(), "id of the wrong type");
            assert_error(s, &e, ErrorKind::MissingRequired, "Outer.inner", end);
            assert_eq!(e.detail(), "missing required field 'id'");
            // Absent entirely: the empty input misses inner's... nothing: inner is optional
            // in Outer; but an empty Req at top level misses `id`.
        }
        let s = Subject::derived::<Req>("Req", o, 64, None);
        let e = expect_err(&s, &[0], "an empty Req");
        assert_error(&s, &e, ErrorKind::MissingRequired, "Req", 1);
        assert_eq!(e.detail(), "missing required field 'id'");
        let s = Subject::dynamic(extra(), "Req", p, Limits::default(), 64, vec![]);
        let e = expect_err(&s, &[0], "an empty Req");
        assert_error(&s, &e, ErrorKind::MissingRequired, "Req", 1);
    }
}

// ---------------------------------------------------------------------------------------------
// Unions

#[test]
fn invalid_unions() {
    for p in PROTOCOLS {
        let o = Options::default().protocol(p);
        let subjects = [
            Subject::derived::<Holder>("Holder", o, 64, None),
            Subject::dynamic(extra(), "Holder", p, Limits::default(), 64, vec![]),
        ];
        for s in &subjects {
            // Zero fields.
            let mut m = Wire::new(p);
            m.field(TType::Struct, 1).begin();
            let end = m.pos() + 1;
            m.stop().stop();
            let e = expect_err(s, &m.done(), "a union with no field");
            assert_error(s, &e, ErrorKind::InvalidUnion, "Holder.choice", end);
            assert_eq!(e.detail(), "union has no field set");
            // Only unknown or mistyped fields: still none.
            let mut m = Wire::new(p);
            m.field(TType::Struct, 1)
                .begin()
                .field(TType::I64, 1)
                .i64(1);
            m.field(TType::I32, 9).i32(1);
            let end = m.pos() + 1;
            m.stop().stop();
            let e = expect_err(s, &m.done(), "a union with only unknown fields");
            assert_error(s, &e, ErrorKind::InvalidUnion, "Holder.choice", end);
            // Two fields (different, then the same twice).
            for second in [2i16, 1] {
                let mut m = Wire::new(p);
                m.field(TType::Struct, 1)
                    .begin()
                    .field(TType::I32, 1)
                    .i32(5);
                let at = m.pos();
                match second {
                    2 => m.field(TType::String, 2).bytes(b"two"),
                    _ => m.field(TType::I32, 1).i32(6),
                };
                m.stop().stop();
                let e = expect_err(s, &m.done(), "a union with two fields");
                assert_error(s, &e, ErrorKind::InvalidUnion, "Holder.choice", at);
                assert_eq!(e.detail(), "union has more than one field set");
            }
            // In a list: the index is in the path.
            let mut m = Wire::new(p);
            m.field(TType::Struct, 1)
                .begin()
                .field(TType::I32, 1)
                .i32(5)
                .stop();
            m.field(TType::List, 2).list(TType::Struct, 2);
            m.begin().field(TType::String, 2).bytes(b"x").stop();
            m.begin();
            let end = m.pos() + 1;
            m.stop().stop();
            let e = expect_err(s, &m.done(), "an empty union in a list");
            assert_error(s, &e, ErrorKind::InvalidUnion, "Holder.many[1]", end);
            // One field: fine.
            let mut m = Wire::new(p);
            m.field(TType::Struct, 1)
                .begin()
                .field(TType::String, 2)
                .bytes(b"ok")
                .stop()
                .stop();
            expect_ok(s, &m.done(), "a union with one field");
        }
        // A union field repeated in its struct, with another member: the last one wins, as
        // for any repeated field, and the union still holds one member.
        let num = |m: &mut Wire| drop_wire(m.begin().field(TType::I32, 1).i32(5).stop());
        let text = |m: &mut Wire| drop_wire(m.begin().field(TType::String, 2).bytes(b"x").stop());
        let mut m = Wire::new(p);
        m.field(TType::Struct, 1);
        num(&mut m);
        m.field(TType::Struct, 1);
        text(&mut m);
        m.stop();
        let mut want = Wire::new(p);
        want.field(TType::Struct, 1);
        text(&mut want);
        want.field(TType::List, 2).list(TType::Struct, 0).stop();
        for s in &subjects {
            let out = expect_ok(s, &m.done(), "a repeated union field");
            assert_eq!(out, want.done(), "{}", s.label);
        }
        // The same for an IDL-only union decoded into again.
        let (mut a, mut b) = (Wire::new(p), Wire::new(p));
        num(&mut a);
        text(&mut b);
        let mut d = DynStruct::decode(extra(), "Choice", &a.done(), p).unwrap();
        d.decode_in(&b.done(), None, p, &Limits::default()).unwrap();
        assert_eq!(d.get("Num").unwrap(), None);
        assert_eq!(d.get("Text").unwrap(), Some(Value::String("x".into())));
        assert_eq!(d.encode(p).unwrap(), b.done());
        // A derived union at top level.
        let s = Subject::derived::<Choice>("Choice", o, 64, None);
        let e = expect_err(&s, &[0], "an empty top-level union");
        assert_error(&s, &e, ErrorKind::InvalidUnion, "Choice", 1);
        let s = Subject::dynamic(extra(), "Choice", p, Limits::default(), 64, vec![]);
        let e = expect_err(&s, &[0], "an empty top-level union");
        assert_error(&s, &e, ErrorKind::InvalidUnion, "Choice", 1);
        // An IDL-only union with no field set does not encode either.
        let empty = DynStruct::new(extra(), "Choice").unwrap();
        let e = empty.encode(p).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidUnion, "{e}");
    }
}

// ---------------------------------------------------------------------------------------------
// Allocation

/// Inputs made to describe as much host memory per byte as possible: lists of empty structs,
/// maps of minimal entries (duplicate keys included: the table is reserved for the declared
/// count), many empty containers, one big string. Prints the ratio measured for each.
#[test]
fn allocation_worst_cases() {
    assert!(
        alloc::installed(),
        "the counting allocator is not installed"
    );
    const N: i64 = 10_000;
    let mut worst: BTreeMap<String, (f64, String)> = BTreeMap::new();
    for w in [Workload::Simple, Workload::Nesting, Workload::Nesting2] {
        for s in w.subjects() {
            let p = s.protocol;
            let mut inputs: Vec<(&str, Vec<u8>)> = Vec::new();
            let mut m = Wire::new(p);
            match w {
                Workload::Simple => {
                    m.field(TType::String, 5).bytes(&vec![b'a'; 100_000]);
                    m.field(TType::String, 6).bytes(&vec![0; 100_000]);
                    m.field(TType::String, 5).bytes(&vec![b'b'; 50_000]);
                    m.stop();
                    inputs.push(("big string and binary", m.done()));
                }
                Workload::Nesting => {
                    m.field(TType::List, 2).list(TType::Struct, N);
                    (0..N).for_each(|_| {
                        m.empty();
                    });
                    inputs.push(("list of empty Simples", m.stop().done()));
                    let mut m = Wire::new(p);
                    m.field(TType::Map, 15).map(TType::String, TType::Struct, N);
                    (0..N).for_each(|_| {
                        m.bytes(b"").empty();
                    });
                    inputs.push(("map of empty keys to empty Simples", m.stop().done()));
                    let mut m = Wire::new(p);
                    m.field(TType::Map, 9).map(TType::I32, TType::I64, N);
                    (0..N).for_each(|_| {
                        m.i32(0).i64(0);
                    });
                    inputs.push(("map<i32,i64> of zeros", m.stop().done()));
                    let mut m = Wire::new(p);
                    m.field(TType::Map, 7).map(TType::String, TType::String, N);
                    (0..N).for_each(|i| {
                        m.bytes(b"").bytes(if i % 2 == 0 { b"" } else { b"x" });
                    });
                    inputs.push(("map<string,string> of empties", m.stop().done()));
                    let mut m = Wire::new(p);
                    m.field(TType::List, 10).list(TType::String, N);
                    (0..N).for_each(|_| {
                        m.bytes(b"");
                    });
                    m.field(TType::List, 13).list(TType::I64, N);
                    (0..N).for_each(|_| {
                        m.i64(0);
                    });
                    inputs.push(("lists of empty strings and zeros", m.stop().done()));
                    let mut m = Wire::new(p);
                    for i in 0..N {
                        let id = [2, 5, 7, 9, 10, 12, 13, 15][i as usize % 8];
                        match id {
                            7 | 9 | 12 | 15 => {
                                m.field(TType::Map, id).map(TType::I32, TType::I32, 0)
                            }
                            _ => m.field(TType::List, id).list(TType::I32, 0),
                        };
                    }
                    inputs.push(("many empty containers", m.stop().done()));
                }
                Workload::Nesting2 => {
                    m.field(TType::List, 5).list(TType::Struct, N);
                    (0..N).for_each(|_| {
                        m.empty();
                    });
                    inputs.push(("list of empty Nestings", m.stop().done()));
                    let mut m = Wire::new(p);
                    m.field(TType::Map, 1).map(TType::Struct, TType::Struct, N);
                    (0..N).for_each(|_| {
                        m.empty().empty();
                    });
                    inputs.push(("map of empty Simples to empty Nestings", m.stop().done()));
                    let mut m = Wire::new(p);
                    m.field(TType::List, 5).list(TType::Struct, N / 8);
                    for _ in 0..N / 8 {
                        m.begin()
                            .field(TType::Map, 15)
                            .map(TType::String, TType::Struct, 1);
                        m.bytes(b"").empty();
                        m.field(TType::List, 2).list(TType::Struct, 1).empty();
                        m.stop();
                    }
                    inputs.push(("Nestings with one-entry maps", m.stop().done()));
                }
            }
            for (what, input) in &inputs {
                let (_, stats) = feed_measured(&s, input, &|| what.to_string());
                let ratio = stats.requested as f64 / input.len() as f64;
                let e = worst.entry(s.label.clone()).or_insert((0.0, String::new()));
                if ratio > e.0 {
                    *e = (
                        ratio,
                        format!("{what}: {} B -> {} B", input.len(), stats.requested),
                    );
                }
            }
        }
    }
    for (label, (ratio, what)) in &worst {
        println!("{label}: worst {ratio:.1} B/B ({what})");
    }
    for w in [Workload::Simple, Workload::Nesting, Workload::Nesting2] {
        println!(
            "{}: bound {} B/B derived, {} B/B idl, + {FIXED} B",
            w.name(),
            Bounds::derived(w),
            Bounds::idl(w)
        );
    }
}

/// Declared lengths larger than the input allocate nothing.
#[test]
fn huge_declarations_allocate_nothing() {
    for s in Workload::Nesting2.subjects() {
        let p = s.protocol;
        let mut m = Wire::new(p);
        m.field(TType::List, 5)
            .list(TType::Struct, i32::MAX as i64)
            .raw(&[0; 32])
            .stop();
        let input = m.done();
        let (r, stats) = alloc::measure(|| (s.decode)(&input).map(drop));
        let e = r.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::LengthLimit, "{e}");
        // Only the error and the root record: far below one element per declared entry.
        assert!(stats.requested < 4096, "{}: {stats:?}", s.label);
    }
}

// ---------------------------------------------------------------------------------------------
// Messages

#[test]
fn error_display_is_pinned() {
    let c = Codec::<Simple>::new().unwrap();
    let mut m = Wire::new(Protocol::Binary);
    m.field(TType::String, 5).bytes(b"ab\xffc").stop();
    assert_eq!(
        c.decode(&m.done()).unwrap_err().to_string(),
        "decode error at Simple.StringField: invalid utf-8 (offset 9)"
    );

    let c = Codec::<Nesting>::with_options(Options::compact()).unwrap();
    let mut m = Wire::new(Protocol::Compact);
    m.field(TType::List, 2)
        .list(TType::Struct, 2)
        .empty()
        .begin();
    m.field(TType::I32, 7).i32(9).stop().stop();
    assert_eq!(
        c.decode(&m.done()).unwrap_err().to_string(),
        "decode error at Nesting.ListSimple[1].enumField: unknown value 9 for enum 'Enums' (offset 4)"
    );

    let c = Codec::<Nesting>::new().unwrap();
    let mut m = Wire::new(Protocol::Binary);
    m.field(TType::List, 13)
        .list(TType::I64, i32::MAX as i64)
        .raw(&[0; 10]);
    assert_eq!(
        c.decode(&m.done()).unwrap_err().to_string(),
        "decode error at Nesting.ListI64: declared 2147483647 elements but only 10 bytes remain (offset 3)"
    );

    let c = Codec::<Outer>::new().unwrap();
    let mut m = Wire::new(Protocol::Binary);
    m.field(TType::Struct, 1)
        .begin()
        .field(TType::I64, 1)
        .i64(1)
        .stop()
        .stop();
    assert_eq!(
        c.decode(&m.done()).unwrap_err().to_string(),
        "decode error at Outer.inner: missing required field 'name' (offset 15)"
    );
}

/// Truncated and corrupted envelopes, around a small valid body.
#[test]
fn message_envelopes() {
    for p in PROTOCOLS {
        let c = Codec::<Simple>::with_options(Options::default().protocol(p)).unwrap();
        let mut msg = Vec::new();
        c.encode_message(
            "ping",
            dynthrift::TMessageType::Call,
            7,
            &Simple::empty(),
            &mut msg,
        )
        .unwrap();
        let decode = |b: &[u8]| {
            catch_unwind(AssertUnwindSafe(|| {
                c.decode_message(b).map(|(h, v)| (h.seqid, v))
            }))
            .unwrap_or_else(|_| panic!("{p:?}: decode_message panicked on {}", hostile::hex(b)))
        };
        assert_eq!(decode(&msg).unwrap(), (7, Simple::empty()));
        let mut n = 0;
        for k in 0..msg.len() {
            let e = decode(&msg[..k]).unwrap_err();
            assert!(e.offset().unwrap() <= k, "{e}");
            n += 1;
        }
        for o in 0..msg.len() {
            for mu in BYTE_MUTATIONS {
                if let Some(b) = hostile::mutate(&msg, o, mu) {
                    if let Err(e) = decode(&b) {
                        assert!(e.offset().unwrap() <= b.len(), "{e}");
                        assert!(e.to_string().starts_with("decode error"), "{e}");
                    }
                    n += 1;
                }
            }
        }
        println!("{p:?} envelopes: {n} inputs");
    }
}
