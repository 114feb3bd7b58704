//! Resource limits under attack: decoding any input of `n` bytes requests at most
//! `c * n + K` bytes from the allocator, on both backends and both protocols.
//!
//! `K` is one constant ([`K`]); `c` is the most host memory one wire byte can describe,
//! derived from the schema's own sizes (a decoder must build what the input describes, and
//! the densest input is a container of minimal elements: an empty struct is one byte on the
//! wire and a whole record in memory). For IDL-only values `c` is the largest fresh record of
//! the schema plus [`SLOT`] bytes; for derived types, the largest of the types' sizes and
//! hash-table entries, plus [`SLOT`]. Every measured ratio is printed with `--nocapture`.
//!
//! Inputs, for every container field of every struct (workloads derived and IDL-only,
//! `ThriftTest.thrift`, purpose-made nested shapes, random schemas): a container of many
//! minimal elements (empty structs, empty strings, zeros, empty inner containers; maps with
//! all keys equal), the same field repeated many times with an empty container, declared
//! counts far past the input, plus random and mutated inputs.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use arbitrary::Unstructured;
use bytes::Bytes;
use dynthrift::wire::binary::BinaryWriter;
use dynthrift::wire::compact::CompactWriter;
use dynthrift::wire::{ProtoWrite, Protocol};
use dynthrift::{Describe, DynSchema, DynStruct, ErrorKind, Limits, TType, Thrift, Value};
use dynthrift_core::schema::{Requiredness, StructId, StructKind, Ty};
use dynthrift_testkit::alloc::{self, CountingAlloc};
use dynthrift_testkit::fuzz::{self, BASELINE_IDL};
use dynthrift_testkit::oracle::{PROTOCOLS, SIDES, Side, TypedPair, dyn_codec};
use dynthrift_testkit::schemagen::{self, Config};
use dynthrift_testkit::workloads::{Nesting, Nesting2, PartialNesting, PartialSimple, Simple};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// The fixed part: the error (box, detail, a path of up to ~130 segments), the root value
/// or record, a hash table's minimum capacity.
const K: usize = 16 * 1024;

/// Per-element overhead on top of the element's own value: a pointer slot or a raw vector
/// slot, the rounding of a hash table, a `String` header.
const SLOT: usize = 64;

/// Elements per crafted container.
const N: usize = 4000;

/// Purpose-made shapes: nested lists of empty structs, maps of empty strings, sets of lists.
const SHAPES_IDL: &str = r#"
struct E {}
struct R {
  1: list<list<E>> ll,
  2: map<string, string> m,
  3: list<E> l,
  4: set<list<E>> sl,
  5: map<byte, list<E>> ml,
  6: list<string> ls,
  7: list<bool> lb,
  8: list<i64> li,
  9: set<i64> si,
  10: list<list<list<i32>>> lll,
  11: map<E, E> me,
}
"#;

#[derive(Thrift, Debug, Default)]
#[thrift(rename = "E")]
struct E {}

#[derive(Thrift, Debug, Default)]
#[thrift(rename = "R")]
struct R {
    #[thrift(id = 1)]
    ll: Vec<Vec<E>>,
    #[thrift(id = 2)]
    m: HashMap<String, String>,
    #[thrift(id = 3)]
    l: Vec<E>,
    #[thrift(id = 5)]
    ml: BTreeMap<i8, Vec<E>>,
    #[thrift(id = 6)]
    ls: Vec<String>,
    #[thrift(id = 7)]
    lb: Vec<bool>,
    #[thrift(id = 8)]
    li: Vec<i64>,
    #[thrift(id = 9)]
    si: HashSet<i64>,
    #[thrift(id = 10)]
    lll: Vec<Vec<Vec<i32>>>,
}

fn load(text: &str) -> Arc<DynSchema> {
    DynSchema::new(dynthrift::idl::parse_str(text).unwrap()).unwrap()
}

/// The largest fresh record of the schema, as the allocator sees it (defaults included).
fn max_record(types: &Arc<DynSchema>) -> usize {
    (0..types.schema().structs.len())
        .map(|i| {
            let (_, s) = alloc::measure(|| DynStruct::new_by_id(types, StructId(i as u32)));
            s.requested
        })
        .max()
        .unwrap_or(0)
}

/// The smallest valid value of `ty`: zeros, empty strings and containers, structs with only
/// their required fields (unions: their first field).
fn minimal(types: &Arc<DynSchema>, ty: &Ty) -> Value {
    minimal_at(types, ty, 8)
}

fn minimal_at(types: &Arc<DynSchema>, ty: &Ty, depth: u32) -> Value {
    match ty {
        Ty::Bool => Value::Bool(false),
        Ty::I8 => Value::I8(0),
        Ty::I16 => Value::I16(0),
        Ty::I32 | Ty::Enum(_) => Value::I32(0),
        Ty::I64 => Value::I64(0),
        Ty::Double => Value::Double(0.0),
        Ty::String => Value::String(String::new()),
        Ty::Binary => Value::Binary(Bytes::new()),
        Ty::Uuid => Value::Uuid([0; 16]),
        Ty::List(_) => Value::List(vec![]),
        Ty::Set(_) => Value::Set(vec![]),
        Ty::Map(..) => Value::Map(vec![]),
        Ty::Struct(id) => Value::Struct(minimal_struct_at(types, *id, depth)),
    }
}

fn minimal_struct(types: &Arc<DynSchema>, id: StructId) -> DynStruct {
    minimal_struct_at(types, id, 8)
}

/// Below `depth` (a union that contains itself), the struct stays empty.
fn minimal_struct_at(types: &Arc<DynSchema>, id: StructId, depth: u32) -> DynStruct {
    let def = &types.schema().structs[id.0 as usize];
    let mut v = DynStruct::new_by_id(types, id).unwrap();
    if depth == 0 {
        return v;
    }
    for (i, f) in def.fields.iter().enumerate() {
        let must = f.req == Requiredness::Required || (def.kind == StructKind::Union && i == 0);
        if must {
            v.set_by_id(f.id, minimal_at(types, &f.ty, depth - 1))
                .unwrap();
        }
    }
    v
}

/// A container of `n` minimal elements (maps: all keys equal).
fn dense(types: &Arc<DynSchema>, ty: &Ty, n: usize) -> Option<Value> {
    Some(match ty {
        Ty::List(e) => Value::List((0..n).map(|_| minimal(types, e)).collect()),
        Ty::Set(e) => Value::Set((0..n).map(|_| minimal(types, e)).collect()),
        Ty::Map(k, v) => Value::Map(
            (0..n)
                .map(|_| (minimal(types, k), minimal(types, v)))
                .collect(),
        ),
        _ => return None,
    })
}

/// One value of `types`'s struct `id` per container field (directly in the struct, or one
/// level down inside a nested container, which makes nested lists of empty structs).
fn crafted_values(types: &Arc<DynSchema>, id: StructId) -> Vec<(String, DynStruct)> {
    let def = &types.schema().structs[id.0 as usize];
    let mut out = Vec::new();
    for f in &def.fields {
        let mut candidates = Vec::new();
        if let Some(v) = dense(types, &f.ty, N) {
            candidates.push((format!("{}: {N} minimal elements", f.name), v));
        }
        if let Ty::List(inner) | Ty::Set(inner) = &f.ty
            && let Some(inner_v) = dense(types, inner, 8)
        {
            let outer = (0..N / 8).map(|_| inner_v.clone()).collect();
            let v = if matches!(f.ty, Ty::List(_)) {
                Value::List(outer)
            } else {
                Value::Set(outer)
            };
            candidates.push((format!("{}: {} containers of 8", f.name, N / 8), v));
        }
        for (what, v) in candidates {
            let mut s = minimal_struct(types, id);
            if s.set_by_id(f.id, v).is_ok() {
                out.push((format!("{}.{what}", def.name), s));
            }
        }
    }
    out
}

/// `bytes` with one field repeated `n` times, each with an empty container of `t`.
fn repeated_empty(p: Protocol, id: i16, t: TType, n: usize) -> Vec<u8> {
    fn go<W: ProtoWrite>(w: &mut W, id: i16, t: TType, n: usize) {
        let saved = w.write_struct_begin();
        for _ in 0..n {
            w.write_field_begin(t, id);
            match t {
                TType::Map => w.write_map_begin(TType::I32, TType::I32, 0).unwrap(),
                TType::Set => w.write_set_begin(TType::I32, 0).unwrap(),
                _ => w.write_list_begin(TType::I32, 0).unwrap(),
            }
        }
        w.write_field_stop();
        w.write_struct_end(saved);
    }
    let mut out = Vec::new();
    match p {
        Protocol::Binary => go(&mut BinaryWriter::new(&mut out), id, t, n),
        Protocol::Compact => go(&mut CompactWriter::new(&mut out), id, t, n),
    }
    out
}

/// `[field header][container header declaring `count`]` and a few bytes.
fn huge_count(p: Protocol, id: i16, t: TType, count: usize) -> Vec<u8> {
    fn go<W: ProtoWrite>(w: &mut W, id: i16, t: TType, count: usize) {
        let _ = w.write_struct_begin();
        w.write_field_begin(t, id);
        let _ = match t {
            TType::Map => w.write_map_begin(TType::Struct, TType::Struct, count),
            TType::String if W::PROTOCOL == Protocol::Binary => {
                w.write_i32(count as i32);
                Ok(())
            }
            TType::String => {
                // A Compact length is an unsigned varint.
                let mut v = count as u64;
                let mut b = Vec::new();
                while v >= 0x80 {
                    b.push(v as u8 | 0x80);
                    v >>= 7;
                }
                b.push(v as u8);
                w.write_raw(&b);
                Ok(())
            }
            _ => w.write_list_begin(TType::Struct, count),
        };
        w.write_raw(&[0; 16]);
    }
    let mut out = Vec::new();
    match p {
        Protocol::Binary => go(&mut BinaryWriter::new(&mut out), id, t, count),
        Protocol::Compact => go(&mut CompactWriter::new(&mut out), id, t, count),
    }
    out
}

/// The worst ratios seen, for the report.
#[derive(Default)]
struct Report {
    worst: BTreeMap<String, (f64, usize, String)>,
    inputs: usize,
}

impl Report {
    /// Checks one measured decode against `c * n + K`.
    fn check(&mut self, subject: &str, c: usize, what: &str, n: usize, requested: usize) {
        self.inputs += 1;
        assert!(
            requested <= c * n + K,
            "{subject}: {what}: {n} input bytes requested {requested} B > {c}*n + {K}"
        );
        let ratio = requested.saturating_sub(K) as f64 / n.max(1) as f64;
        let e = self
            .worst
            .entry(subject.to_string())
            .or_insert((0.0, c, String::new()));
        if ratio > e.0 {
            *e = (ratio, c, format!("{what}: {n} B -> {requested} B"));
        }
    }

    /// The ten subjects with the highest ratio.
    fn print(&self) {
        let mut v: Vec<_> = self.worst.iter().collect();
        v.sort_by(|a, b| b.1.0.total_cmp(&a.1.0));
        for (s, (r, c, what)) in v.into_iter().take(10) {
            println!("{s}: worst {r:.1} B/B over K (bound c = {c}) [{what}]");
        }
        println!("{} inputs measured", self.inputs);
    }
}

/// An IDL-only struct under test, with its bound's `c`.
struct Subject<'a> {
    types: &'a Arc<DynSchema>,
    name: &'a str,
    c: usize,
}

/// Decodes `input` as the subject on both sides and checks the bound.
fn dyn_check(
    rep: &mut Report,
    Subject { types, name, c }: &Subject<'_>,
    p: Protocol,
    what: &str,
    input: &[u8],
    limits: &Limits,
) {
    let c = *c;
    for side in SIDES {
        let codec = dyn_codec(side, types, name, p, limits);
        let (r, stats) = alloc::measure(|| codec.decode(input).map(drop));
        if let Err(e) = &r {
            assert_ne!(e.kind(), ErrorKind::Schema, "{e}");
        }
        rep.check(
            &format!("idl {name} {p:?} {side:?}"),
            c,
            what,
            input.len(),
            stats.requested,
        );
    }
}

fn typed_check<T: Describe>(rep: &mut Report, c: usize, p: Protocol, what: &str, input: &[u8]) {
    let pair = TypedPair::<T>::new(p);
    for (side, codec) in [(Side::Auto, &pair.auto), (Side::Interp, &pair.interp)] {
        let (_, stats) = alloc::measure(|| codec.decode(input).map(drop));
        rep.check(
            &format!("derived {} {p:?} {side:?}", std::any::type_name::<T>()),
            c,
            what,
            input.len(),
            stats.requested,
        );
    }
}

/// Crafted, repeated-field and huge-count inputs for every struct of `types`, IDL-only.
fn idl_attack(rep: &mut Report, types: &Arc<DynSchema>, c: usize) {
    // Compiled code lives while a codec of the schema does: keep one, so the codecs made per
    // input reuse it.
    let _keep = dyn_codec(
        Side::Auto,
        types,
        &types.schema().structs[0].name,
        Protocol::Binary,
        &Limits::default(),
    );
    for (si, def) in types.schema().structs.iter().enumerate() {
        let id = StructId(si as u32);
        let subject = Subject {
            types,
            name: &def.name,
            c,
        };
        for p in PROTOCOLS {
            for (what, v) in crafted_values(types, id) {
                let Ok(bytes) = v.encode(p) else { continue };
                dyn_check(rep, &subject, p, &what, &bytes, &Limits::default());
            }
            for f in &def.fields {
                let t = f.ty.ttype();
                if matches!(t, TType::List | TType::Set | TType::Map) {
                    let b = repeated_empty(p, f.id, t, N);
                    dyn_check(rep, &subject, p, "repeated empty", &b, &Limits::default());
                }
                if matches!(t, TType::List | TType::Set | TType::Map | TType::String) {
                    for count in [1 << 20, i32::MAX as usize] {
                        let b = huge_count(p, f.id, t, count);
                        dyn_check(rep, &subject, p, "huge count", &b, &Limits::default());
                    }
                }
            }
        }
    }
}

fn baseline() -> Arc<DynSchema> {
    load(BASELINE_IDL)
}

#[test]
fn idl_only_decodes_are_bounded() {
    assert!(alloc::installed());
    let mut rep = Report::default();
    for types in [baseline(), load(fuzz::THRIFT_TEST_IDL), load(SHAPES_IDL)] {
        let c = max_record(&types) + SLOT;
        idl_attack(&mut rep, &types, c);
    }
    rep.print();
}

/// Derived types, fed the crafted encodings of the same shapes built as IDL-only values.
#[test]
fn derived_decodes_are_bounded() {
    assert!(alloc::installed());
    let mut rep = Report::default();
    let table = |entry: usize| (entry + 1) * 16 / 7 + 1;
    let c = [
        size_of::<Simple>(),
        size_of::<Nesting>(),
        size_of::<Nesting2>(),
        table(size_of::<(Simple, Nesting)>()),
        table(size_of::<(String, Simple)>()),
        size_of::<Vec<E>>(),
        table(size_of::<(String, String)>()),
    ]
    .into_iter()
    .max()
    .unwrap()
        + SLOT;
    let base = baseline();
    let shapes = load(SHAPES_IDL);
    for p in PROTOCOLS {
        for (types, name) in [
            (&base, "Simple"),
            (&base, "Nesting"),
            (&base, "Nesting2"),
            (&shapes, "R"),
        ] {
            let id = types.schema().expect_struct(name).unwrap();
            let mut inputs: Vec<(String, Vec<u8>)> = crafted_values(types, id)
                .into_iter()
                .filter_map(|(w, v)| v.encode(p).ok().map(|b| (w, b)))
                .collect();
            for f in &types.schema().structs[id.0 as usize].fields {
                let t = f.ty.ttype();
                if matches!(t, TType::List | TType::Set | TType::Map) {
                    inputs.push(("repeated empty".into(), repeated_empty(p, f.id, t, N)));
                    inputs.push(("huge count".into(), huge_count(p, f.id, t, 1 << 30)));
                }
            }
            for (what, b) in &inputs {
                match name {
                    "Simple" => typed_check::<Simple>(&mut rep, c, p, what, b),
                    "Nesting" => {
                        typed_check::<Nesting>(&mut rep, c, p, what, b);
                        typed_check::<PartialNesting>(&mut rep, c, p, what, b);
                    }
                    "Nesting2" => typed_check::<Nesting2>(&mut rep, c, p, what, b),
                    _ => typed_check::<R>(&mut rep, c, p, what, b),
                }
                typed_check::<PartialSimple>(&mut rep, c, p, what, b);
            }
        }
    }
    rep.print();
}

/// Random schemas: crafted inputs for each, and the bound from each schema's own records.
#[test]
fn random_schema_decodes_are_bounded() {
    assert!(alloc::installed());
    let mut rep = Report::default();
    for seed in 0..40u64 {
        let data: Vec<u8> = (0..2000u64)
            .map(|k| ((k + seed * 1_000_003).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as u8)
            .collect();
        let mut u = Unstructured::new(&data);
        let g = schemagen::schema(&mut u, Config::default()).unwrap();
        let c = max_record(&g.types) + SLOT;
        idl_attack(&mut rep, &g.types, c);
    }
    rep.print();
}

/// Arbitrary and mutated inputs (what the fuzzer feeds) stay within the same bounds, with
/// default and tight limits.
#[test]
fn arbitrary_inputs_are_bounded() {
    assert!(alloc::installed());
    let mut rep = Report::default();
    let subjects = fuzz::idl_subjects();
    // Holds a codec of every subject, so each schema is compiled once.
    let _keep = fuzz::idl_pairs();
    let mut x: u64 = 0x1234_5678_9abc_def1;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let records: HashMap<*const DynSchema, usize> = subjects
        .iter()
        .map(|(t, _)| (Arc::as_ptr(t), max_record(t) + SLOT))
        .collect();
    for round in 0..3000 {
        let (types, name) = &subjects[next() as usize % subjects.len()];
        let p = PROTOCOLS[round % 2];
        let limits = if round % 3 == 0 {
            fuzz::TIGHT
        } else {
            Limits::default()
        };
        // A valid encoding of a random value, then a few random byte changes.
        let seed: Vec<u8> = (0..800).map(|_| next() as u8).collect();
        let mut u = Unstructured::new(&seed);
        let v = schemagen::value_named(&mut u, types, name, Config::default()).unwrap();
        let Ok(mut bytes) = v.encode(p) else { continue };
        for _ in 0..(next() % 4) {
            if bytes.is_empty() {
                break;
            }
            let i = next() as usize % bytes.len();
            bytes[i] = next() as u8;
        }
        let c = records[&Arc::as_ptr(types)];
        dyn_check(
            &mut rep,
            &Subject { types, name, c },
            p,
            "mutated",
            &bytes,
            &limits,
        );
    }
    rep.print();
}

/// Encoding allocates the output once (`encode`: one buffer of the right size, never grown)
/// or not at all (`encode_into` a buffer reused from an earlier encode), on both backends and
/// both protocols.
#[test]
fn encodes_allocate_the_output_once_or_not_at_all() {
    fn check<T: Describe>(v: &T, what: &str) {
        for p in PROTOCOLS {
            for side in SIDES {
                let c = dynthrift::Codec::<T>::with_options(side.options(p)).unwrap();
                c.encode(v).unwrap(); // compiles on first use, outside the measure
                let (bytes, stats) = alloc::measure(|| c.encode(v).unwrap());
                assert_eq!(stats.count, 1, "{what} {p:?} {side:?}: encode allocations");
                dynthrift_testkit::assert_sized_once(&bytes);
                let mut out = Vec::new();
                c.encode_into(v, &mut out).unwrap();
                let ((), stats) = alloc::measure(|| {
                    out.clear();
                    c.encode_into(v, &mut out).unwrap();
                });
                assert_eq!(
                    stats.count, 0,
                    "{what} {p:?} {side:?}: encode_into a reused buffer"
                );
                assert_eq!(out, bytes);
                // A BytesMut grows once when fresh, never when reused; the thread's scratch
                // buffer is allocated on its first use only.
                c.encode_to_bytes_mut(v, &mut bytes::BytesMut::new())
                    .unwrap();
                let (bm, stats) = alloc::measure(|| {
                    let mut bm = bytes::BytesMut::new();
                    c.encode_to_bytes_mut(v, &mut bm).unwrap();
                    bm
                });
                assert_eq!(stats.count, 1, "{what} {p:?} {side:?}: encode_to_bytes_mut");
                assert_eq!(&bm[..], &bytes[..]);
                let mut bm = bytes::BytesMut::from(&b"head"[..]);
                c.encode_to_bytes_mut(v, &mut bm).unwrap();
                let ((), stats) = alloc::measure(|| {
                    bm.truncate(4);
                    c.encode_to_bytes_mut(v, &mut bm).unwrap();
                });
                assert_eq!(
                    stats.count, 0,
                    "{what} {p:?} {side:?}: encode_to_bytes_mut a reused BytesMut"
                );
                assert_eq!((&bm[..4], &bm[4..]), (&b"head"[..], &bytes[..]));
            }
        }
    }
    use dynthrift_testkit::workloads as w;
    check(&w::simple(), "Simple");
    check(&w::nesting(), "Nesting");
    check(&w::nesting2(), "Nesting2");
}
