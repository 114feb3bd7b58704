//! Tests of the wire primitives: proptest roundtrips (writer → reader) per wire type and
//! protocol, sizers against writers, `skip` and `transcode` over generated values, fixed bytes
//! from Apache Thrift's Python library, and the error of every malformed input we know of.
//!
//! Values are generated as a small tree ([`Val`]) that carries its own wire types, written with
//! a writer by [`write_val`] and read back by [`read_val`], which use nothing but the traits.

use proptest::collection::vec;
use proptest::prelude::*;

use super::binary::{BinaryReader, BinarySizer, BinaryWriter};
use super::compact::{
    CompactReader, CompactSizer, CompactWriter, unzigzag, varint_len, zigzag32, zigzag64,
};
use super::test_util::value_ttype;
use super::*;

// ---------------------------------------------------------------------------------------------
// Generated values

/// A value of any wire type, with the element and key types of its containers.
#[derive(Clone, Debug, PartialEq)]
enum Val {
    Bool(bool),
    I8(i8),
    I16(i16),
    I32(i32),
    I64(i64),
    /// By bit pattern, so that NaNs compare.
    Double(u64),
    Uuid([u8; 16]),
    Bin(Vec<u8>),
    Struct(Vec<(i16, Val)>),
    List(TType, Vec<Val>),
    Set(TType, Vec<Val>),
    Map(TType, TType, Vec<(Val, Val)>),
}

impl Val {
    fn ttype(&self) -> TType {
        match self {
            Val::Bool(_) => TType::Bool,
            Val::I8(_) => TType::I8,
            Val::I16(_) => TType::I16,
            Val::I32(_) => TType::I32,
            Val::I64(_) => TType::I64,
            Val::Double(_) => TType::Double,
            Val::Uuid(_) => TType::Uuid,
            Val::Bin(_) => TType::String,
            Val::Struct(_) => TType::Struct,
            Val::List(..) => TType::List,
            Val::Set(..) => TType::Set,
            Val::Map(..) => TType::Map,
        }
    }

    /// Levels of structs and containers (what the depth limit counts).
    fn nesting(&self) -> u32 {
        match self {
            Val::Struct(fields) => 1 + fields.iter().map(|(_, v)| v.nesting()).max().unwrap_or(0),
            Val::List(_, items) | Val::Set(_, items) => {
                1 + items.iter().map(Val::nesting).max().unwrap_or(0)
            }
            Val::Map(_, _, entries) => {
                1 + entries
                    .iter()
                    .map(|(k, v)| k.nesting().max(v.nesting()))
                    .max()
                    .unwrap_or(0)
            }
            _ => 0,
        }
    }

    /// What survives the Compact protocol: an empty map has no key and value types there.
    fn compact_view(&self) -> Val {
        match self {
            Val::Struct(fields) => Val::Struct(
                fields
                    .iter()
                    .map(|(id, v)| (*id, v.compact_view()))
                    .collect(),
            ),
            Val::List(t, items) => Val::List(*t, items.iter().map(Val::compact_view).collect()),
            Val::Set(t, items) => Val::Set(*t, items.iter().map(Val::compact_view).collect()),
            Val::Map(_, _, entries) if entries.is_empty() => {
                Val::Map(TType::Stop, TType::Stop, Vec::new())
            }
            Val::Map(k, v, entries) => Val::Map(
                *k,
                *v,
                entries
                    .iter()
                    .map(|(a, b)| (a.compact_view(), b.compact_view()))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

fn write_val<W: ProtoWrite>(w: &mut W, v: &Val) -> Result<()> {
    match v {
        Val::Bool(b) => w.write_bool(*b),
        Val::I8(x) => w.write_i8(*x),
        Val::I16(x) => w.write_i16(*x),
        Val::I32(x) => w.write_i32(*x),
        Val::I64(x) => w.write_i64(*x),
        Val::Double(bits) => w.write_double(f64::from_bits(*bits)),
        Val::Uuid(u) => w.write_uuid(u),
        Val::Bin(b) => w.write_binary(b)?,
        Val::Struct(fields) => {
            let saved = w.write_struct_begin();
            for (id, f) in fields {
                w.write_field_begin(f.ttype(), *id);
                write_val(w, f)?;
            }
            w.write_field_stop();
            w.write_struct_end(saved);
        }
        Val::List(t, items) => {
            w.write_list_begin(*t, items.len())?;
            for i in items {
                write_val(w, i)?;
            }
        }
        Val::Set(t, items) => {
            w.write_set_begin(*t, items.len())?;
            for i in items {
                write_val(w, i)?;
            }
        }
        Val::Map(k, v, entries) => {
            w.write_map_begin(*k, *v, entries.len())?;
            for (a, b) in entries {
                write_val(w, a)?;
                write_val(w, b)?;
            }
        }
    }
    Ok(())
}

fn read_val<'a, R: ProtoRead<'a>>(r: &mut R, t: TType, depth: u32) -> Result<Val> {
    Ok(match t {
        TType::Bool => Val::Bool(r.read_bool()?),
        TType::I8 => Val::I8(r.read_i8()?),
        TType::I16 => Val::I16(r.read_i16()?),
        TType::I32 => Val::I32(r.read_i32()?),
        TType::I64 => Val::I64(r.read_i64()?),
        TType::Double => Val::Double(r.read_double()?.to_bits()),
        TType::Uuid => Val::Uuid(r.read_uuid()?),
        TType::String => Val::Bin(r.read_binary()?.to_vec()),
        TType::Struct => {
            let depth = enter(depth, r.position())?;
            let saved = r.read_struct_begin();
            let mut fields = Vec::new();
            loop {
                let (t, id) = r.read_field_begin()?;
                if t == TType::Stop {
                    break;
                }
                fields.push((id, read_val(r, t, depth)?));
            }
            r.read_struct_end(saved);
            Val::Struct(fields)
        }
        TType::List | TType::Set => {
            let depth = enter(depth, r.position())?;
            let (et, n) = if t == TType::List {
                r.read_list_begin()?
            } else {
                r.read_set_begin()?
            };
            let items = (0..n)
                .map(|_| read_val(r, et, depth))
                .collect::<Result<_>>()?;
            if t == TType::List {
                Val::List(et, items)
            } else {
                Val::Set(et, items)
            }
        }
        TType::Map => {
            let depth = enter(depth, r.position())?;
            let (k, v, n) = r.read_map_begin()?;
            let entries = (0..n)
                .map(|_| Ok((read_val(r, k, depth)?, read_val(r, v, depth)?)))
                .collect::<Result<_>>()?;
            Val::Map(k, v, entries)
        }
        TType::Stop | TType::Void => {
            return Err(Error::decode(
                ErrorKind::InvalidType,
                r.position(),
                "test reader: no value",
            ));
        }
    })
}

fn binary_bytes(v: &Val) -> Vec<u8> {
    let mut out = Vec::new();
    write_val(&mut BinaryWriter::new(&mut out), v).unwrap();
    out
}

fn compact_bytes(v: &Val) -> Vec<u8> {
    let mut out = Vec::new();
    write_val(&mut CompactWriter::new(&mut out), v).unwrap();
    out
}

fn read_binary_val(bytes: &[u8], t: TType) -> Result<(Val, usize)> {
    let mut r = BinaryReader::new(bytes);
    let v = read_val(&mut r, t, DEFAULT_DEPTH_LIMIT)?;
    Ok((v, r.position()))
}

fn read_compact_val(bytes: &[u8], t: TType) -> Result<(Val, usize)> {
    let mut r = CompactReader::new(bytes);
    let v = read_val(&mut r, t, DEFAULT_DEPTH_LIMIT)?;
    Ok((v, r.position()))
}

fn scalar_ttype() -> impl Strategy<Value = TType> + Clone {
    prop_oneof![
        Just(TType::Bool),
        Just(TType::I8),
        Just(TType::I16),
        Just(TType::I32),
        Just(TType::I64),
        Just(TType::Double),
        Just(TType::String),
        Just(TType::Uuid),
    ]
}

fn any_ttype(depth: u32) -> BoxedStrategy<TType> {
    if depth == 0 {
        scalar_ttype().boxed()
    } else {
        prop_oneof![
            3 => scalar_ttype(),
            1 => prop_oneof![
                Just(TType::Struct),
                Just(TType::List),
                Just(TType::Set),
                Just(TType::Map),
            ],
        ]
        .boxed()
    }
}

/// Doubles with the bit patterns that matter: NaNs (quiet, signalling, with payloads),
/// signed zeros, infinities, subnormals, and anything else.
fn double_bits() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(f64::NAN.to_bits()),
        Just(0x7ff0_0000_0000_0001), // signalling NaN
        Just(0xfff8_0000_0000_0000), // negative quiet NaN
        Just(0x7fff_ffff_ffff_ffff), // NaN with every payload bit
        Just((-0.0f64).to_bits()),
        Just(0.0f64.to_bits()),
        Just(f64::INFINITY.to_bits()),
        Just(f64::NEG_INFINITY.to_bits()),
        Just(f64::MIN_POSITIVE.to_bits()),
        Just(1), // smallest subnormal
        Just(f64::MAX.to_bits()),
        any::<u64>(),
        any::<f64>().prop_map(f64::to_bits),
    ]
}

fn bytes_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => vec(any::<u8>(), 0..12),
        1 => vec(any::<u8>(), 120..300),
    ]
}

fn val_of(t: TType, depth: u32) -> BoxedStrategy<Val> {
    let inner = depth.saturating_sub(1);
    match t {
        TType::Bool => any::<bool>().prop_map(Val::Bool).boxed(),
        TType::I8 => any::<i8>().prop_map(Val::I8).boxed(),
        TType::I16 => any::<i16>().prop_map(Val::I16).boxed(),
        TType::I32 => any::<i32>().prop_map(Val::I32).boxed(),
        TType::I64 => any::<i64>().prop_map(Val::I64).boxed(),
        TType::Double => double_bits().prop_map(Val::Double).boxed(),
        TType::Uuid => any::<[u8; 16]>().prop_map(Val::Uuid).boxed(),
        TType::String => bytes_value().prop_map(Val::Bin).boxed(),
        TType::Struct => vec((field_id(), any_ttype(inner)), 0..5)
            .prop_flat_map(move |fields| {
                fields
                    .into_iter()
                    .map(|(id, t)| val_of(t, inner).prop_map(move |v| (id, v)))
                    .collect::<Vec<_>>()
            })
            .prop_map(Val::Struct)
            .boxed(),
        TType::List | TType::Set => (any_ttype(inner), 0..5usize)
            .prop_flat_map(move |(et, n)| {
                vec(val_of(et, inner), n).prop_map(move |items| {
                    if t == TType::List {
                        Val::List(et, items)
                    } else {
                        Val::Set(et, items)
                    }
                })
            })
            .boxed(),
        TType::Map => (any_ttype(inner), any_ttype(inner), 0..4usize)
            .prop_flat_map(move |(k, v, n)| {
                vec((val_of(k, inner), val_of(v, inner)), n)
                    .prop_map(move |entries| Val::Map(k, v, entries))
            })
            .boxed(),
        TType::Stop | TType::Void => unreachable!("no values of {t}"),
    }
}

/// Field ids with small deltas (Compact short form), zero, negative and far ones.
fn field_id() -> impl Strategy<Value = i16> {
    prop_oneof![
        3 => 1i16..20,
        1 => Just(0i16),
        1 => any::<i16>(),
        1 => prop_oneof![Just(i16::MIN), Just(i16::MAX), Just(-1i16)],
    ]
}

fn any_val() -> impl Strategy<Value = Val> {
    any_ttype(3).prop_flat_map(|t| val_of(t, 3))
}

/// Whether `v` has no empty map whose key and value types the Compact protocol would lose.
fn survives_compact(v: &Val) -> bool {
    v.compact_view() == *v
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn generated_values_cover_nesting_and_empty_maps() {
    // The properties below are only as good as the values: check the generator reaches
    // nested containers, structs in containers, and empty maps.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = any_val();
    let (mut deep, mut lossy, mut structs) = (0, 0, 0);
    for _ in 0..500 {
        let v = strategy.new_tree(&mut runner).unwrap().current();
        deep += (v.nesting() >= 3) as u32;
        lossy += !survives_compact(&v) as u32;
        structs += matches!(v, Val::Struct(ref f) if !f.is_empty()) as u32;
    }
    assert!(
        deep > 10 && lossy > 10 && structs > 10,
        "{deep} {lossy} {structs}"
    );
}

// ---------------------------------------------------------------------------------------------
// Scalars, one wire type at a time, each protocol

/// Writes `v` with a Binary and a Compact writer, checks the sizers, reads both back, and
/// checks the reader stops exactly at the end.
fn check_scalar(v: Val) -> std::result::Result<(), TestCaseError> {
    let t = v.ttype();
    for protocol in [Protocol::Binary, Protocol::Compact] {
        let (bytes, sized) = match protocol {
            Protocol::Binary => {
                let mut s = BinarySizer::new();
                write_val(&mut s, &v).unwrap();
                (binary_bytes(&v), s.len)
            }
            Protocol::Compact => {
                let mut s = CompactSizer::new();
                write_val(&mut s, &v).unwrap();
                (compact_bytes(&v), s.len)
            }
        };
        prop_assert_eq!(sized, bytes.len(), "{:?} sizer", protocol);
        let (back, used) = match protocol {
            Protocol::Binary => read_binary_val(&bytes, t).unwrap(),
            Protocol::Compact => read_compact_val(&bytes, t).unwrap(),
        };
        prop_assert_eq!(&back, &v, "{:?}", protocol);
        prop_assert_eq!(used, bytes.len());
    }
    Ok(())
}

proptest! {
    #[test]
    fn bool_element_roundtrip(b in any::<bool>()) {
        check_scalar(Val::Bool(b))?;
        prop_assert_eq!(binary_bytes(&Val::Bool(b)), vec![b as u8]);
        // Compact elements: 1 for true, 2 for false, as Apache writes them.
        prop_assert_eq!(compact_bytes(&Val::Bool(b)), vec![if b { 1 } else { 2 }]);
    }

    #[test]
    fn bool_field_roundtrip(b in any::<bool>(), id in field_id(), before in 0i16..3) {
        // A bool field after `before` other fields: folded into the Compact header.
        let mut fields: Vec<(i16, Val)> = (0..before).map(|i| (i, Val::I8(i as i8))).collect();
        fields.push((id, Val::Bool(b)));
        fields.push((id.wrapping_add(1), Val::Bool(!b)));
        check_scalar(Val::Struct(fields.clone()))?;
        // No value byte after a Compact bool field's header.
        let alone = compact_bytes(&Val::Struct(vec![(1, Val::Bool(b))]));
        prop_assert_eq!(alone, vec![if b { 0x11 } else { 0x12 }, 0]);
    }

    #[test]
    fn i8_roundtrip(x in any::<i8>()) {
        check_scalar(Val::I8(x))?;
        prop_assert_eq!(binary_bytes(&Val::I8(x)), vec![x as u8]);
        prop_assert_eq!(compact_bytes(&Val::I8(x)), vec![x as u8]);
    }

    #[test]
    fn i16_roundtrip(x in any::<i16>()) {
        check_scalar(Val::I16(x))?;
        prop_assert_eq!(binary_bytes(&Val::I16(x)), x.to_be_bytes().to_vec());
        prop_assert_eq!(compact_bytes(&Val::I16(x)).len(), varint_len(zigzag32(x as i32) as u64));
    }

    #[test]
    fn i32_roundtrip(x in prop_oneof![any::<i32>(), Just(i32::MIN), Just(i32::MAX), Just(0), Just(-1)]) {
        check_scalar(Val::I32(x))?;
        prop_assert_eq!(binary_bytes(&Val::I32(x)), x.to_be_bytes().to_vec());
        prop_assert_eq!(compact_bytes(&Val::I32(x)).len(), varint_len(zigzag32(x) as u64));
    }

    #[test]
    fn i64_roundtrip(x in prop_oneof![any::<i64>(), Just(i64::MIN), Just(i64::MAX), Just(0), Just(-1)]) {
        check_scalar(Val::I64(x))?;
        prop_assert_eq!(binary_bytes(&Val::I64(x)), x.to_be_bytes().to_vec());
        prop_assert_eq!(compact_bytes(&Val::I64(x)).len(), varint_len(zigzag64(x)));
    }

    #[test]
    fn double_roundtrip_keeps_bits(bits in double_bits()) {
        check_scalar(Val::Double(bits))?;
        prop_assert_eq!(binary_bytes(&Val::Double(bits)), bits.to_be_bytes().to_vec());
        prop_assert_eq!(compact_bytes(&Val::Double(bits)), bits.to_le_bytes().to_vec());
    }

    #[test]
    fn uuid_roundtrip(u in any::<[u8; 16]>()) {
        check_scalar(Val::Uuid(u))?;
        prop_assert_eq!(binary_bytes(&Val::Uuid(u)), u.to_vec());
        prop_assert_eq!(compact_bytes(&Val::Uuid(u)), u.to_vec());
    }

    #[test]
    fn binary_roundtrip(b in prop_oneof![bytes_value(), vec(any::<u8>(), 0..5000)]) {
        check_scalar(Val::Bin(b.clone()))?;
        let bin = binary_bytes(&Val::Bin(b.clone()));
        prop_assert_eq!(&bin[..4], &(b.len() as u32).to_be_bytes()[..]);
        let c = compact_bytes(&Val::Bin(b.clone()));
        prop_assert_eq!(c.len(), varint_len(b.len() as u64) + b.len());
    }

    #[test]
    fn string_roundtrip(s in ".{0,40}") {
        for protocol in [Protocol::Binary, Protocol::Compact] {
            let mut out = Vec::new();
            match protocol {
                Protocol::Binary => BinaryWriter::new(&mut out).write_string(&s).unwrap(),
                Protocol::Compact => CompactWriter::new(&mut out).write_string(&s).unwrap(),
            }
            let back = match protocol {
                Protocol::Binary => BinaryReader::new(&out).read_string().unwrap(),
                Protocol::Compact => CompactReader::new(&out).read_string().unwrap(),
            };
            prop_assert_eq!(back, s.as_str());
        }
    }

    #[test]
    fn varint_roundtrip(v in prop_oneof![any::<u64>(), 0u64..300, Just(u64::MAX)]) {
        let mut out = Vec::new();
        CompactWriter::new(&mut out).write_varint(v);
        prop_assert_eq!(out.len(), varint_len(v));
        prop_assert!(out.len() <= 10);
        let mut r = CompactReader::new(&out);
        prop_assert_eq!(r.read_varint().unwrap(), v);
        prop_assert_eq!(r.position(), out.len());
    }

    #[test]
    fn zigzag_is_a_bijection(a in any::<i32>(), b in any::<i64>()) {
        prop_assert_eq!(unzigzag(zigzag32(a) as u64) as i32, a);
        prop_assert_eq!(unzigzag(zigzag64(b)), b);
        prop_assert_eq!(zigzag32(a) as u64, zigzag64(a as i64));
    }
}

#[test]
fn empty_binary_and_string() {
    assert_eq!(binary_bytes(&Val::Bin(Vec::new())), [0, 0, 0, 0]);
    assert_eq!(compact_bytes(&Val::Bin(Vec::new())), [0]);
    assert_eq!(
        read_binary_val(&[0, 0, 0, 0], TType::String).unwrap().0,
        Val::Bin(vec![])
    );
    assert_eq!(
        read_compact_val(&[0], TType::String).unwrap().0,
        Val::Bin(vec![])
    );
    assert_eq!(BinaryReader::new(&[0, 0, 0, 0]).read_string().unwrap(), "");
    assert_eq!(CompactReader::new(&[0]).read_string().unwrap(), "");
}

#[test]
fn read_binary_borrows_the_input() {
    let bytes = [0, 0, 0, 2, b'h', b'i'];
    let s = BinaryReader::new(&bytes).read_binary().unwrap();
    assert!(std::ptr::eq(s.as_ptr(), bytes[4..].as_ptr()));
    let bytes = [2, b'h', b'i'];
    let s = CompactReader::new(&bytes).read_binary().unwrap();
    assert!(std::ptr::eq(s.as_ptr(), bytes[1..].as_ptr()));
}

#[test]
fn bool_reading_rules() {
    // Binary: any non-zero byte is true.
    for (b, want) in [(0u8, false), (1, true), (2, true), (0xff, true)] {
        assert_eq!(BinaryReader::new(&[b]).read_bool().unwrap(), want, "{b}");
    }
    // Compact elements: 1 is true, anything else is false.
    for (b, want) in [
        (1u8, true),
        (2, false),
        (0, false),
        (3, false),
        (0xff, false),
    ] {
        assert_eq!(CompactReader::new(&[b]).read_bool().unwrap(), want, "{b}");
    }
    // A Compact bool field's header carries its value; no byte follows.
    let bytes = [0x11, 0x22, 0x00];
    let mut r = CompactReader::new(&bytes);
    assert_eq!(r.read_field_begin().unwrap(), (TType::Bool, 1));
    assert!(r.read_bool().unwrap());
    assert_eq!(r.read_field_begin().unwrap(), (TType::Bool, 3));
    assert!(!r.read_bool().unwrap());
    assert_eq!(r.read_field_begin().unwrap(), (TType::Stop, 0));
    assert_eq!(r.remaining(), 0);
}

#[test]
fn integer_extremes_fixed_bytes() {
    // Compact bytes of these lists come from Apache Thrift's Python `TCompactProtocol` (0.25.0),
    // each list written as field 1 of a struct: `19 <list header> ... 00`.
    let cases: [(&str, Val); 4] = [
        (
            "1956 00 01 02 ffffffffffffffffff01 feffffffffffffffff01 00",
            Val::List(
                TType::I64,
                [0, -1, 1, i64::MIN, i64::MAX].map(Val::I64).to_vec(),
            ),
        ),
        (
            "1955 ffffffff0f feffffff0f 00 02 01 00",
            Val::List(
                TType::I32,
                [i32::MIN, i32::MAX, 0, 1, -1].map(Val::I32).to_vec(),
            ),
        ),
        (
            "1954 ffff03 feff03 00 02 01 00",
            Val::List(
                TType::I16,
                [i16::MIN, i16::MAX, 0, 1, -1].map(Val::I16).to_vec(),
            ),
        ),
        (
            "1957 0000000000000000 0000000000000080 000000000000f07f 000000000000f0ff \
             000000000000f03f 00",
            Val::List(
                TType::Double,
                [0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY, 1.0]
                    .map(|d: f64| Val::Double(d.to_bits()))
                    .to_vec(),
            ),
        ),
    ];
    for (want, list) in cases {
        let v = Val::Struct(vec![(1, list)]);
        assert_eq!(compact_bytes(&v), hex(want), "{v:?}");
        assert_eq!(read_compact_val(&hex(want), TType::Struct).unwrap().0, v);
    }
    // Binary doubles (Python `TBinaryProtocol`): big-endian IEEE 754.
    let doubles = [0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY];
    let mut out = Vec::new();
    let mut w = BinaryWriter::new(&mut out);
    for d in doubles {
        w.write_double(d);
    }
    assert_eq!(
        out,
        hex("0000000000000000 8000000000000000 7ff0000000000000 fff0000000000000")
    );
}

// ---------------------------------------------------------------------------------------------
// Field headers and struct state

/// Writes a struct whose fields are `i32`s with the given ids; returns the header sizes.
fn compact_headers(ids: &[i16]) -> (Vec<u8>, Vec<usize>) {
    let mut out = Vec::new();
    let mut sizes = Vec::new();
    let mut w = CompactWriter::new(&mut out);
    let saved = w.write_struct_begin();
    for &id in ids {
        w.write_field_begin(TType::I32, id);
        w.write_i32(0);
        sizes.push(0);
    }
    w.write_field_stop();
    w.write_struct_end(saved);
    // Recompute the header sizes from the rule: short form iff 0 < delta <= 15.
    let mut last = 0i32;
    for (s, &id) in sizes.iter_mut().zip(ids) {
        let delta = id as i32 - last;
        *s = if (1..=15).contains(&delta) {
            1
        } else {
            1 + varint_len(zigzag32(id as i32) as u64)
        };
        last = id as i32;
    }
    (out, sizes)
}

proptest! {
    #[test]
    fn field_headers_roundtrip(ids in vec(field_id(), 0..12)) {
        let (bytes, header_sizes) = compact_headers(&ids);
        // Each `i32` 0 is one byte; plus the stop byte.
        prop_assert_eq!(bytes.len(), header_sizes.iter().sum::<usize>() + ids.len() + 1);
        let v = Val::Struct(ids.iter().map(|&id| (id, Val::I32(0))).collect());
        let mut sizer = CompactSizer::new();
        write_val(&mut sizer, &v).unwrap();
        prop_assert_eq!(sizer.len, bytes.len());
        prop_assert_eq!(read_compact_val(&bytes, TType::Struct).unwrap().0, v.clone());
        let bin = binary_bytes(&v);
        prop_assert_eq!(bin.len(), ids.len() * 7 + 1);
        prop_assert_eq!(read_binary_val(&bin, TType::Struct).unwrap().0, v);
    }

    #[test]
    fn nested_structs_restore_the_last_field_id(
        outer in 1i16..100, inner in vec(field_id(), 0..4), next in 1i16..16,
    ) {
        // After a nested struct ends, the outer struct's deltas continue from `outer`.
        let nested = Val::Struct(inner.iter().map(|&id| (id, Val::I8(1))).collect());
        let v = Val::Struct(vec![(outer, nested), (outer.saturating_add(next), Val::I8(2))]);
        let bytes = compact_bytes(&v);
        prop_assert_eq!(read_compact_val(&bytes, TType::Struct).unwrap().0, v.clone());
        // The field after the nested struct uses the one-byte form: `next` is its delta.
        prop_assert_eq!(bytes[bytes.len() - 3], ((next as u8) << 4) | 3);
    }
}

#[test]
fn compact_field_header_forms() {
    // Short form: delta 1..=15 in the high nibble.
    assert_eq!(compact_headers(&[1, 16]).0, hex("15 00 f5 00 00"));
    // Delta 0 (same id again), a decrease, a jump over 15, id 0, negative ids: long form,
    // the type byte then the zigzag varint of the id.
    assert_eq!(compact_headers(&[5, 5]).0, hex("55 00 05 0a 00 00"));
    assert_eq!(compact_headers(&[5, 3]).0, hex("55 00 05 06 00 00"));
    assert_eq!(compact_headers(&[1, 100]).0, hex("15 00 05 c801 00 00"));
    assert_eq!(compact_headers(&[0]).0, hex("05 00 00 00"));
    assert_eq!(compact_headers(&[-1]).0, hex("05 01 00 00"));
    assert_eq!(
        compact_headers(&[i16::MIN, i16::MAX]).0,
        hex("05 ffff03 00 05 feff03 00 00")
    );
    // A long-form bool field carries its value in the type nibble.
    let v = Val::Struct(vec![(-1, Val::Bool(true)), (40, Val::Bool(false))]);
    assert_eq!(compact_bytes(&v), hex("01 01 02 50 00"));
    assert_eq!(
        read_compact_val(&hex("01 01 02 50 00"), TType::Struct)
            .unwrap()
            .0,
        v
    );
    // Readers: a stop byte with a non-zero high nibble is still a stop.
    let mut r = CompactReader::new(&[0xf0]);
    assert_eq!(r.read_field_begin().unwrap(), (TType::Stop, 0));
    // Binary headers: type byte and a big-endian i16; the stop is one byte.
    let v = Val::Struct(vec![(-2, Val::I8(7)), (0x1234, Val::I16(1))]);
    assert_eq!(binary_bytes(&v), hex("03 fffe 07 06 1234 0001 00"));
}

#[test]
fn compact_struct_state_save_and_restore() {
    let mut out = Vec::new();
    let mut w = CompactWriter::new(&mut out);
    let top = w.write_struct_begin();
    w.write_field_begin(TType::Struct, 5);
    let s = w.write_struct_begin();
    assert_eq!(s, 5);
    w.write_field_begin(TType::I32, 1);
    w.write_i32(1);
    w.write_field_stop();
    w.write_struct_end(s);
    w.write_field_begin(TType::I16, 6);
    w.write_i16(-1);
    w.write_field_stop();
    w.write_struct_end(top);
    // 5c: field 5 struct; 15 02: field 1 (delta from 0, not 5) = 1; 00; 14 01: field 6 = -1.
    assert_eq!(out, hex("5c 15 02 00 14 01 00"));

    let mut r = CompactReader::new(&out);
    let top = r.read_struct_begin();
    assert_eq!(r.read_field_begin().unwrap(), (TType::Struct, 5));
    let s = r.read_struct_begin();
    assert_eq!(s, 5);
    assert_eq!(r.read_field_begin().unwrap(), (TType::I32, 1));
    assert_eq!(r.read_i32().unwrap(), 1);
    assert_eq!(r.read_field_begin().unwrap(), (TType::Stop, 0));
    r.read_struct_end(s);
    assert_eq!(r.read_field_begin().unwrap(), (TType::I16, 6));
    assert_eq!(r.read_i16().unwrap(), -1);
    assert_eq!(r.read_field_begin().unwrap(), (TType::Stop, 0));
    r.read_struct_end(top);
}

// ---------------------------------------------------------------------------------------------
// Container headers

proptest! {
    #[test]
    fn list_and_set_headers(et in value_ttype(), n in prop_oneof![0usize..=14, 15usize..100, 0usize..=i32::MAX as usize]) {
        for set in [false, true] {
            let mut out = Vec::new();
            let mut w = CompactWriter::new(&mut out);
            if set { w.write_set_begin(et, n).unwrap() } else { w.write_list_begin(et, n).unwrap() }
            let mut sizer = CompactSizer::new();
            sizer.write_list_begin(et, n).unwrap();
            prop_assert_eq!(sizer.len, out.len());
            if n <= 14 {
                prop_assert_eq!(out.len(), 1);
                prop_assert_eq!(out[0] >> 4, n as u8);
            } else {
                prop_assert_eq!(out[0] >> 4, 15);
                prop_assert_eq!(out.len(), 1 + varint_len(n as u64));
            }
            // The reader checks the count against the input; give it enough bytes.
            let room = n.saturating_mul(compact::min_size(et));
            if room <= 1 << 16 {
                out.resize(out.len() + room, 0);
                let mut r = CompactReader::new(&out);
                let got = if set { r.read_set_begin().unwrap() } else { r.read_list_begin().unwrap() };
                prop_assert_eq!(got, (et, n));
            }

            let mut out = Vec::new();
            let mut w = BinaryWriter::new(&mut out);
            if set { w.write_set_begin(et, n).unwrap() } else { w.write_list_begin(et, n).unwrap() }
            prop_assert_eq!(out.len(), 5);
            prop_assert_eq!(out[0], et as u8);
            prop_assert_eq!(&out[1..], &(n as u32).to_be_bytes()[..]);
            let room = n.saturating_mul(binary::min_size(et));
            if room <= 1 << 16 {
                out.resize(out.len() + room, 0);
                let got = BinaryReader::new(&out).read_list_begin().unwrap();
                prop_assert_eq!(got, (et, n));
            }
        }
    }

    #[test]
    fn map_headers(k in value_ttype(), v in value_ttype(), n in prop_oneof![0usize..20, 0usize..=i32::MAX as usize]) {
        let mut out = Vec::new();
        CompactWriter::new(&mut out).write_map_begin(k, v, n).unwrap();
        let mut sizer = CompactSizer::new();
        sizer.write_map_begin(k, v, n).unwrap();
        prop_assert_eq!(sizer.len, out.len());
        if n == 0 {
            prop_assert_eq!(&out, &vec![0u8]);
        } else {
            prop_assert_eq!(out.len(), varint_len(n as u64) + 1);
        }
        let room = n.saturating_mul(compact::min_size(k) + compact::min_size(v));
        if room <= 1 << 16 {
            out.resize(out.len() + room, 0);
            let got = CompactReader::new(&out).read_map_begin().unwrap();
            let want = if n == 0 { (TType::Stop, TType::Stop, 0) } else { (k, v, n) };
            prop_assert_eq!(got, want);
        }

        let mut out = Vec::new();
        BinaryWriter::new(&mut out).write_map_begin(k, v, n).unwrap();
        prop_assert_eq!(out.len(), 6);
        let room = n.saturating_mul(binary::min_size(k) + binary::min_size(v));
        if room <= 1 << 16 {
            out.resize(out.len() + room, 0);
            // Binary keeps the types of an empty map.
            prop_assert_eq!(BinaryReader::new(&out).read_map_begin().unwrap(), (k, v, n));
        }
    }
}

#[test]
fn compact_list_header_short_and_long_forms() {
    // From Apache Thrift's Python `TCompactProtocol`: a list<string> of 14 empty strings
    // (short form, `e8`), and a list<byte> of 15 (long form, `f3 0f`), as field 1.
    let fourteen = Val::Struct(vec![(
        1,
        Val::List(TType::String, vec![Val::Bin(vec![]); 14]),
    )]);
    assert_eq!(
        compact_bytes(&fourteen),
        hex("19 e8 0000000000000000000000000000 00")
    );
    let fifteen = Val::Struct(vec![(
        1,
        Val::List(TType::I8, (0..15).map(Val::I8).collect()),
    )]);
    assert_eq!(
        compact_bytes(&fifteen),
        hex("19 f30f 000102030405060708090a0b0c0d0e 00")
    );
    assert_eq!(
        read_compact_val(&compact_bytes(&fifteen), TType::Struct)
            .unwrap()
            .0,
        fifteen
    );
}

#[test]
fn empty_compact_map_is_one_zero_byte() {
    let v = Val::Map(TType::I32, TType::String, vec![]);
    assert_eq!(compact_bytes(&v), [0]);
    assert_eq!(
        read_compact_val(&[0], TType::Map).unwrap(),
        (Val::Map(TType::Stop, TType::Stop, vec![]), 1)
    );
    assert_eq!(binary_bytes(&v), hex("08 0b 00000000"));
}

#[test]
fn container_lengths_over_i32_are_refused_by_writers_and_sizers() {
    let n = i32::MAX as usize + 1;
    let mut out = Vec::new();
    let errs = [
        BinaryWriter::new(&mut out).write_list_begin(TType::I8, n),
        BinaryWriter::new(&mut out).write_map_begin(TType::I8, TType::I8, n),
        CompactWriter::new(&mut out).write_list_begin(TType::I8, n),
        CompactWriter::new(&mut out).write_map_begin(TType::I8, TType::I8, n),
        BinarySizer::new().write_set_begin(TType::I8, n),
        BinarySizer::new().write_map_begin(TType::I8, TType::I8, n),
        CompactSizer::new().write_list_begin(TType::I8, n),
        CompactSizer::new().write_map_begin(TType::I8, TType::I8, n),
    ];
    for e in errs {
        assert_eq!(e.unwrap_err().kind(), ErrorKind::InvalidValue);
    }
    // The largest length is fine.
    BinaryWriter::new(&mut out)
        .write_list_begin(TType::I8, i32::MAX as usize)
        .unwrap();
    CompactWriter::new(&mut out)
        .write_list_begin(TType::I8, i32::MAX as usize)
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// Message headers

fn message_kind() -> impl Strategy<Value = TMessageType> {
    prop_oneof![
        Just(TMessageType::Call),
        Just(TMessageType::Reply),
        Just(TMessageType::Exception),
        Just(TMessageType::Oneway),
    ]
}

fn write_message(protocol: &str, name: &str, kind: TMessageType, seqid: i32) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let sized = match protocol {
        "strict" => {
            BinaryWriter::new(&mut out)
                .write_message_begin(name, kind, seqid)
                .unwrap();
            let mut s = BinarySizer::new();
            s.write_message_begin(name, kind, seqid).unwrap();
            s.len
        }
        "non-strict" => {
            BinaryWriter::new_non_strict(&mut out)
                .write_message_begin(name, kind, seqid)
                .unwrap();
            let mut s = BinarySizer::new_non_strict();
            s.write_message_begin(name, kind, seqid).unwrap();
            s.len
        }
        _ => {
            CompactWriter::new(&mut out)
                .write_message_begin(name, kind, seqid)
                .unwrap();
            let mut s = CompactSizer::new();
            s.write_message_begin(name, kind, seqid).unwrap();
            s.len
        }
    };
    (out, sized)
}

proptest! {
    #[test]
    fn message_headers_roundtrip(
        name in ".{0,20}",
        kind in message_kind(),
        seqid in prop_oneof![any::<i32>(), Just(i32::MIN), Just(i32::MAX), Just(0), Just(-1)],
    ) {
        for protocol in ["strict", "non-strict", "compact"] {
            let (mut bytes, sized) = write_message(protocol, &name, kind, seqid);
            prop_assert_eq!(sized, bytes.len());
            let end = bytes.len();
            bytes.push(0xAB); // the payload that follows
            let header = if protocol == "compact" {
                let mut r = CompactReader::new(&bytes);
                let h = r.read_message_begin().unwrap();
                prop_assert_eq!(r.position(), end);
                h
            } else {
                let mut r = BinaryReader::new(&bytes);
                let h = r.read_message_begin().unwrap();
                prop_assert_eq!(r.position(), end);
                h
            };
            prop_assert_eq!(header, MessageHeader { name: name.as_str(), kind, seqid });
        }
    }
}

#[test]
fn message_headers_fixed_bytes() {
    // From Apache Thrift's Python library (0.25.0): `writeMessageBegin("ping", kind, seqid)` with
    // `TBinaryProtocol` (strict), `TBinaryProtocol(strictWrite=False)` and `TCompactProtocol`.
    let cases = [
        (
            TMessageType::Call,
            0,
            "800100010000000470696e6700000000",
            "0000000470696e670100000000",
            "8221000470696e67",
        ),
        (
            TMessageType::Call,
            1,
            "800100010000000470696e6700000001",
            "0000000470696e670100000001",
            "8221010470696e67",
        ),
        (
            TMessageType::Reply,
            i32::MAX,
            "800100020000000470696e677fffffff",
            "0000000470696e67027fffffff",
            "8241ffffffff070470696e67",
        ),
        (
            TMessageType::Exception,
            1,
            "800100030000000470696e6700000001",
            "0000000470696e670300000001",
            "8261010470696e67",
        ),
        (
            TMessageType::Oneway,
            0,
            "800100040000000470696e6700000000",
            "0000000470696e670400000000",
            "8281000470696e67",
        ),
    ];
    for (kind, seqid, strict, non_strict, compact) in cases {
        assert_eq!(write_message("strict", "ping", kind, seqid).0, hex(strict));
        assert_eq!(
            write_message("non-strict", "ping", kind, seqid).0,
            hex(non_strict)
        );
        assert_eq!(
            write_message("compact", "ping", kind, seqid).0,
            hex(compact)
        );
        let want = MessageHeader {
            name: "ping",
            kind,
            seqid,
        };
        assert_eq!(
            BinaryReader::new(&hex(strict))
                .read_message_begin()
                .unwrap(),
            want
        );
        assert_eq!(
            BinaryReader::new(&hex(non_strict))
                .read_message_begin()
                .unwrap(),
            want
        );
        assert_eq!(
            CompactReader::new(&hex(compact))
                .read_message_begin()
                .unwrap(),
            want
        );
    }
    // Negative seqids. Binary, from Python: ("", call, i32::MIN) strict, ("", call, -1)
    // non-strict. Compact, by hand (Python's varint writer loops forever on negative numbers):
    // the seqid is a plain (not zigzag) varint of its 32 bits, as Apache Java writes it.
    assert_eq!(
        write_message("strict", "", TMessageType::Call, i32::MIN).0,
        hex("80010001 00000000 80000000")
    );
    assert_eq!(
        write_message("non-strict", "", TMessageType::Call, -1).0,
        hex("00000000 01 ffffffff")
    );
    assert_eq!(
        write_message("compact", "", TMessageType::Call, -1).0,
        hex("82 21 ffffffff0f 00")
    );
    assert_eq!(
        write_message("compact", "", TMessageType::Call, i32::MIN).0,
        hex("82 21 8080808008 00")
    );
}

// ---------------------------------------------------------------------------------------------
// Whole values: roundtrip, sizers, skip, transcode

proptest! {
    #[test]
    fn values_roundtrip_in_both_protocols(v in any_val()) {
        let t = v.ttype();
        let bin = binary_bytes(&v);
        prop_assert_eq!(read_binary_val(&bin, t).unwrap(), (v.clone(), bin.len()));
        let c = compact_bytes(&v);
        prop_assert_eq!(read_compact_val(&c, t).unwrap(), (v.compact_view(), c.len()));
    }

    #[test]
    fn sizers_count_what_writers_write(v in any_val()) {
        let mut s = BinarySizer::new();
        write_val(&mut s, &v).unwrap();
        prop_assert_eq!(s.len, binary_bytes(&v).len());
        let mut s = CompactSizer::new();
        write_val(&mut s, &v).unwrap();
        prop_assert_eq!(s.len, compact_bytes(&v).len());
    }

    #[test]
    fn skip_stops_exactly_at_the_end(v in any_val(), trailing in vec(any::<u8>(), 0..4)) {
        let t = v.ttype();
        for protocol in [Protocol::Binary, Protocol::Compact] {
            let mut bytes = if protocol == Protocol::Binary { binary_bytes(&v) } else { compact_bytes(&v) };
            let end = bytes.len();
            bytes.extend_from_slice(&trailing);
            let pos = if protocol == Protocol::Binary {
                let mut r = BinaryReader::new(&bytes);
                r.skip(t, DEFAULT_DEPTH_LIMIT).unwrap();
                r.position()
            } else {
                let mut r = CompactReader::new(&bytes);
                r.skip(t, DEFAULT_DEPTH_LIMIT).unwrap();
                r.position()
            };
            prop_assert_eq!(pos, end, "{:?}", protocol);
        }
    }

    #[test]
    fn skip_depth_is_exactly_the_nesting(v in any_val()) {
        let t = v.ttype();
        let n = v.nesting();
        let bin = binary_bytes(&v);
        let c = compact_bytes(&v);
        prop_assert!(BinaryReader::new(&bin).skip(t, n).is_ok());
        prop_assert!(CompactReader::new(&c).skip(t, n).is_ok());
        if n > 0 {
            prop_assert_eq!(BinaryReader::new(&bin).skip(t, n - 1).unwrap_err().kind(), ErrorKind::DepthLimit);
            prop_assert_eq!(CompactReader::new(&c).skip(t, n - 1).unwrap_err().kind(), ErrorKind::DepthLimit);
        }
    }

    #[test]
    fn transcode_binary_compact_binary(v in any_val()) {
        let t = v.ttype();
        let bin = binary_bytes(&v);
        // Binary → Compact gives what the Compact writer gives.
        let mut c = Vec::new();
        let mut r = BinaryReader::new(&bin);
        transcode(&mut r, &mut CompactWriter::new(&mut c), t, DEFAULT_DEPTH_LIMIT).unwrap();
        prop_assert_eq!(r.position(), bin.len());
        prop_assert_eq!(&c, &compact_bytes(&v));
        // Compact → Binary gives the Binary bytes back, except that an empty map comes back
        // with `stop` key and value types (the Compact form does not carry them).
        let mut back = Vec::new();
        let mut r = CompactReader::new(&c);
        transcode(&mut r, &mut BinaryWriter::new(&mut back), t, DEFAULT_DEPTH_LIMIT).unwrap();
        prop_assert_eq!(r.position(), c.len());
        prop_assert_eq!(&back, &binary_bytes(&v.compact_view()));
        if survives_compact(&v) {
            prop_assert_eq!(&back, &bin);
        }
        // Each protocol to itself: the identity.
        let mut same = Vec::new();
        transcode(&mut BinaryReader::new(&bin), &mut BinaryWriter::new(&mut same), t, DEFAULT_DEPTH_LIMIT).unwrap();
        prop_assert_eq!(&same, &bin);
        let mut same = Vec::new();
        transcode(&mut CompactReader::new(&c), &mut CompactWriter::new(&mut same), t, DEFAULT_DEPTH_LIMIT).unwrap();
        prop_assert_eq!(&same, &c);
        // Sizers see the same calls.
        let mut s = CompactSizer::new();
        transcode(&mut BinaryReader::new(&bin), &mut s, t, DEFAULT_DEPTH_LIMIT).unwrap();
        prop_assert_eq!(s.len, c.len());
    }

    #[test]
    fn every_truncation_is_an_error(v in any_val()) {
        let t = v.ttype();
        for protocol in [Protocol::Binary, Protocol::Compact] {
            let bytes = if protocol == Protocol::Binary { binary_bytes(&v) } else { compact_bytes(&v) };
            for cut in 0..bytes.len() {
                let prefix = &bytes[..cut];
                let (read, skipped) = if protocol == Protocol::Binary {
                    (read_binary_val(prefix, t).map(drop), BinaryReader::new(prefix).skip(t, 64))
                } else {
                    (read_compact_val(prefix, t).map(drop), CompactReader::new(prefix).skip(t, 64))
                };
                for e in [read.unwrap_err(), skipped.unwrap_err()] {
                    prop_assert!(
                        matches!(e.kind(), ErrorKind::UnexpectedEof | ErrorKind::LengthLimit),
                        "{:?} cut at {}: {}", protocol, cut, e
                    );
                    prop_assert!(e.offset().unwrap() <= cut);
                }
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(t in value_ttype(), bytes in vec(any::<u8>(), 0..64)) {
        // Any result is fine; a panic fails the test.
        let _ = read_binary_val(&bytes, t);
        let _ = read_compact_val(&bytes, t);
        let _ = BinaryReader::new(&bytes).skip(t, 64);
        let _ = CompactReader::new(&bytes).skip(t, 64);
        let mut out = Vec::new();
        let _ = transcode(&mut BinaryReader::new(&bytes), &mut CompactWriter::new(&mut out), t, 64);
        let _ = transcode(&mut CompactReader::new(&bytes), &mut BinaryWriter::new(&mut out), t, 64);
        let _ = BinaryReader::new(&bytes).read_message_begin();
        let _ = CompactReader::new(&bytes).read_message_begin();
        let mut r = CompactReader::new(&bytes);
        while r.read_field_begin().is_ok_and(|(t, _)| t != TType::Stop) {}
        let mut r = BinaryReader::new(&bytes);
        while r.read_field_begin().is_ok_and(|(t, _)| t != TType::Stop) {}
    }
}

/// A writer call, for random call sequences.
#[derive(Clone, Debug)]
enum Op {
    Message(String, TMessageType, i32),
    StructBegin,
    StructEnd,
    /// A field of a non-bool type.
    Field(TType, i16),
    /// A bool field: its header, then its value (folded together in Compact).
    BoolField(i16, bool),
    Stop,
    Bool(bool),
    I8(i8),
    I16(i16),
    I32(i32),
    I64(i64),
    Double(f64),
    Uuid([u8; 16]),
    Binary(Vec<u8>),
    List(TType, usize),
    Set(TType, usize),
    Map(TType, TType, usize),
    Raw(Vec<u8>),
}

fn op() -> impl Strategy<Value = Op> {
    let len = || prop_oneof![0usize..20, 0usize..=i32::MAX as usize];
    prop_oneof![
        (".{0,8}", message_kind(), any::<i32>()).prop_map(|(n, k, s)| Op::Message(n, k, s)),
        Just(Op::StructBegin),
        Just(Op::StructEnd),
        (
            value_ttype().prop_filter("not bool", |t| *t != TType::Bool),
            field_id()
        )
            .prop_map(|(t, id)| Op::Field(t, id)),
        (field_id(), any::<bool>()).prop_map(|(id, b)| Op::BoolField(id, b)),
        Just(Op::Stop),
        any::<bool>().prop_map(Op::Bool),
        any::<i8>().prop_map(Op::I8),
        any::<i16>().prop_map(Op::I16),
        any::<i32>().prop_map(Op::I32),
        any::<i64>().prop_map(Op::I64),
        any::<f64>().prop_map(Op::Double),
        any::<[u8; 16]>().prop_map(Op::Uuid),
        bytes_value().prop_map(Op::Binary),
        (value_ttype(), len()).prop_map(|(t, n)| Op::List(t, n)),
        (value_ttype(), len()).prop_map(|(t, n)| Op::Set(t, n)),
        (value_ttype(), value_ttype(), len()).prop_map(|(k, v, n)| Op::Map(k, v, n)),
        vec(any::<u8>(), 0..8).prop_map(Op::Raw),
    ]
}

fn apply<W: ProtoWrite>(w: &mut W, ops: &[Op]) {
    let mut stack = Vec::new();
    for op in ops {
        match op {
            Op::Message(n, k, s) => w.write_message_begin(n, *k, *s).unwrap(),
            Op::StructBegin => stack.push(w.write_struct_begin()),
            Op::StructEnd => {
                if let Some(saved) = stack.pop() {
                    w.write_struct_end(saved);
                }
            }
            Op::Field(t, id) => w.write_field_begin(*t, *id),
            Op::BoolField(id, b) => {
                w.write_field_begin(TType::Bool, *id);
                w.write_bool(*b);
            }
            Op::Stop => w.write_field_stop(),
            Op::Bool(b) => w.write_bool(*b),
            Op::I8(x) => w.write_i8(*x),
            Op::I16(x) => w.write_i16(*x),
            Op::I32(x) => w.write_i32(*x),
            Op::I64(x) => w.write_i64(*x),
            Op::Double(x) => w.write_double(*x),
            Op::Uuid(u) => w.write_uuid(u),
            Op::Binary(b) => w.write_binary(b).unwrap(),
            Op::List(t, n) => w.write_list_begin(*t, *n).unwrap(),
            Op::Set(t, n) => w.write_set_begin(*t, *n).unwrap(),
            Op::Map(k, v, n) => w.write_map_begin(*k, *v, *n).unwrap(),
            Op::Raw(b) => w.write_raw(b),
        }
    }
}

proptest! {
    #[test]
    fn sizers_match_writers_on_any_call_sequence(ops in vec(op(), 0..40)) {
        let mut out = Vec::new();
        apply(&mut BinaryWriter::new(&mut out), &ops);
        let mut s = BinarySizer::new();
        apply(&mut s, &ops);
        prop_assert_eq!(s.len, out.len(), "binary");

        let mut out = Vec::new();
        apply(&mut BinaryWriter::new_non_strict(&mut out), &ops);
        let mut s = BinarySizer::new_non_strict();
        apply(&mut s, &ops);
        prop_assert_eq!(s.len, out.len(), "binary non-strict");

        let mut out = Vec::new();
        apply(&mut CompactWriter::new(&mut out), &ops);
        let mut s = CompactSizer::new();
        apply(&mut s, &ops);
        prop_assert_eq!(s.len, out.len(), "compact");
    }
}

// ---------------------------------------------------------------------------------------------
// Fixed bytes from Apache Thrift

/// The struct that `apache_struct_*` compare against Apache Thrift's Python library. The
/// script wrote each field with `writeFieldBegin(name, type, id)` and the value, in this order.
fn apache_struct() -> Val {
    let uuid = hex("00112233445566778899aabbccddeeff").try_into().unwrap();
    Val::Struct(vec![
        (1, Val::Bool(true)),
        (2, Val::Bool(false)),
        (3, Val::I8(-2)),
        (4, Val::I16(-300)),
        (5, Val::I32(100_000)),
        (6, Val::I64(-(1 << 40))),
        (7, Val::Double(1.5f64.to_bits())),
        (8, Val::Bin("héllo".as_bytes().to_vec())),
        (9, Val::Uuid(uuid)),
        (
            10,
            Val::List(TType::I32, vec![Val::I32(1), Val::I32(-1), Val::I32(64)]),
        ),
        (
            11,
            Val::Set(TType::Bool, vec![Val::Bool(true), Val::Bool(false)]),
        ),
        (
            12,
            Val::Map(
                TType::String,
                TType::I64,
                vec![(Val::Bin(b"k".to_vec()), Val::I64(7))],
            ),
        ),
        (13, Val::Map(TType::I32, TType::String, vec![])),
        (30, Val::Struct(vec![(1, Val::I32(1))])),
        (31, Val::I16(5)),
        (-1, Val::Bool(true)),
        (2, Val::I8(0)),
    ])
}

/// `TBinaryProtocol` (thrift 0.25.0, Python) writing [`apache_struct`].
const APACHE_BINARY: &str = "0200010102000200030003fe060004fed4080005000186a00a0006ffffff0000000000\
    0400073ff80000000000000b00080000000668c3a96c6c6f10000900112233445566778899aabbccddeeff0f000a\
    080000000300000001ffffffff000000400e000b020000000201000d000c0b0a00000001000000016b00000000\
    000000070d000d080b000000000c001e080001000000010006001f000502ffff010300020000";

/// `TCompactProtocol` (thrift 0.25.0, Python) writing [`apache_struct`].
const APACHE_COMPACT: &str = "111213fe14d70415c09a0c16ffffffffff3f17000000000000f83f180668c3a96c6c\
    6f1d00112233445566778899aabbccddeeff1935020180011a2101021b0186016b0e1b000c3c150200140a0101330000";

#[test]
fn apache_struct_binary() {
    let v = apache_struct();
    assert_eq!(binary_bytes(&v), hex(APACHE_BINARY));
    let bytes = hex(APACHE_BINARY);
    assert_eq!(
        read_binary_val(&bytes, TType::Struct).unwrap(),
        (v, bytes.len())
    );
}

#[test]
fn apache_struct_compact() {
    let v = apache_struct();
    assert_eq!(compact_bytes(&v), hex(APACHE_COMPACT));
    let bytes = hex(APACHE_COMPACT);
    assert_eq!(
        read_compact_val(&bytes, TType::Struct).unwrap(),
        (v.compact_view(), bytes.len())
    );
}

#[test]
fn hand_derived_encodings() {
    // Derived from the specifications (thrift/doc/specs/thrift-binary-protocol.md and
    // thrift-compact-protocol.md), independently of the writers.
    let v = Val::Struct(vec![
        (1, Val::I32(42)),
        (2, Val::Bin(b"hi".to_vec())),
        (3, Val::I64(300)),
    ]);
    // Binary: type, big-endian id, value; stop.
    assert_eq!(
        binary_bytes(&v),
        hex("08 0001 0000002a  0b 0002 00000002 6869  0a 0003 000000000000012c  00")
    );
    // Compact: (delta << 4) | type; zigzag varints (42 → 84 = 0x54; 300 → 600 = d8 04).
    assert_eq!(compact_bytes(&v), hex("15 54  18 02 6869  16 d804  00"));
    // list<bool> [true, false, true]: Binary elements 1/0; Compact elements 1/2, header 0x31.
    let l = Val::List(TType::Bool, [true, false, true].map(Val::Bool).to_vec());
    assert_eq!(binary_bytes(&l), hex("02 00000003 01 00 01"));
    assert_eq!(compact_bytes(&l), hex("31 01 02 01"));
    // map<i16, double> {1: 0.5}: Compact size varint, then key/value nibbles (4, 7).
    let m = Val::Map(
        TType::I16,
        TType::Double,
        vec![(Val::I16(1), Val::Double(0.5f64.to_bits()))],
    );
    assert_eq!(
        binary_bytes(&m),
        hex("06 04 00000001 0001 3fe0000000000000")
    );
    assert_eq!(compact_bytes(&m), hex("01 47 02 000000000000e03f"));
    // set<uuid> in Compact: element type 13.
    let s = Val::Set(TType::Uuid, vec![Val::Uuid([7; 16])]);
    assert_eq!(compact_bytes(&s), [&[0x1d][..], &[7; 16]].concat());
    assert_eq!(
        binary_bytes(&s),
        [&hex("10 00000001")[..], &[7; 16]].concat()
    );
}

// ---------------------------------------------------------------------------------------------
// Errors

fn err_of<T: std::fmt::Debug>(r: Result<T>) -> (ErrorKind, usize) {
    let e = r.unwrap_err();
    (e.kind(), e.offset().expect("decode errors carry an offset"))
}

#[test]
fn truncated_binary_struct_at_every_offset() {
    // {1: i32 42, 2: string "hi"}: a fixed-width item that is cut reports where it starts; a
    // string whose declared length exceeds the rest reports where its length starts.
    let bytes = hex("08 0001 0000002a 0b 0002 00000002 6869 00");
    let want = [
        (ErrorKind::UnexpectedEof, 0), // 0: field type
        (ErrorKind::UnexpectedEof, 1), // 1..3: field id
        (ErrorKind::UnexpectedEof, 1),
        (ErrorKind::UnexpectedEof, 3), // 3..7: the i32
        (ErrorKind::UnexpectedEof, 3),
        (ErrorKind::UnexpectedEof, 3),
        (ErrorKind::UnexpectedEof, 3),
        (ErrorKind::UnexpectedEof, 7), // field type
        (ErrorKind::UnexpectedEof, 8), // field id
        (ErrorKind::UnexpectedEof, 8),
        (ErrorKind::UnexpectedEof, 10), // 10..14: the length
        (ErrorKind::UnexpectedEof, 10),
        (ErrorKind::UnexpectedEof, 10),
        (ErrorKind::UnexpectedEof, 10),
        (ErrorKind::LengthLimit, 10), // 14, 15: the data
        (ErrorKind::LengthLimit, 10),
        (ErrorKind::UnexpectedEof, 16), // stop
    ];
    assert_eq!(want.len(), bytes.len());
    for (cut, want) in want.into_iter().enumerate() {
        let prefix = &bytes[..cut];
        assert_eq!(
            err_of(read_binary_val(prefix, TType::Struct)),
            want,
            "read, cut {cut}"
        );
        assert_eq!(
            err_of(BinaryReader::new(prefix).skip(TType::Struct, 64)),
            want,
            "skip, cut {cut}"
        );
    }
    assert!(read_binary_val(&bytes, TType::Struct).is_ok());
}

#[test]
fn truncated_compact_struct_at_every_offset() {
    // {1: i32 42, 2: string "hi", 3: i64 300}. A cut varint reports where the input ended
    // (the reader fails on the byte it is missing), not where the varint started.
    let bytes = hex("15 54 18 02 6869 16 d804 00");
    let want = [
        (ErrorKind::UnexpectedEof, 0), // field header
        (ErrorKind::UnexpectedEof, 1), // the i32
        (ErrorKind::UnexpectedEof, 2), // field header
        (ErrorKind::UnexpectedEof, 3), // the length
        (ErrorKind::LengthLimit, 3),   // 4, 5: the data
        (ErrorKind::LengthLimit, 3),
        (ErrorKind::UnexpectedEof, 6), // field header
        (ErrorKind::UnexpectedEof, 7), // the i64's first byte
        (ErrorKind::UnexpectedEof, 8), // the i64's second byte: where the input ends
        (ErrorKind::UnexpectedEof, 9), // stop
    ];
    assert_eq!(want.len(), bytes.len());
    for (cut, want) in want.into_iter().enumerate() {
        let prefix = &bytes[..cut];
        assert_eq!(
            err_of(read_compact_val(prefix, TType::Struct)),
            want,
            "read, cut {cut}"
        );
        assert_eq!(
            err_of(CompactReader::new(prefix).skip(TType::Struct, 64)),
            want,
            "skip, cut {cut}"
        );
    }
    assert!(read_compact_val(&bytes, TType::Struct).is_ok());
}

#[test]
fn truncated_doubles_uuids_and_containers() {
    // Fixed-width items are not consumed in part: the error is at their start.
    assert_eq!(
        err_of(BinaryReader::new(&[0; 7]).read_double()),
        (ErrorKind::UnexpectedEof, 0)
    );
    assert_eq!(
        err_of(CompactReader::new(&[0; 7]).read_double()),
        (ErrorKind::UnexpectedEof, 0)
    );
    assert_eq!(
        err_of(BinaryReader::new(&[0; 15]).read_uuid()),
        (ErrorKind::UnexpectedEof, 0)
    );
    assert_eq!(
        err_of(CompactReader::new(&[0; 15]).read_uuid()),
        (ErrorKind::UnexpectedEof, 0)
    );
    // Container headers cut short.
    assert_eq!(
        err_of(BinaryReader::new(&hex("08 0000")).read_list_begin()),
        (ErrorKind::UnexpectedEof, 1)
    );
    assert_eq!(
        err_of(BinaryReader::new(&hex("08 0b 00")).read_map_begin()),
        (ErrorKind::UnexpectedEof, 2)
    );
    assert_eq!(
        err_of(CompactReader::new(&hex("f5")).read_list_begin()),
        (ErrorKind::UnexpectedEof, 1)
    );
    assert_eq!(
        err_of(CompactReader::new(&hex("02")).read_map_begin()),
        (ErrorKind::UnexpectedEof, 1)
    );
}

#[test]
fn varint_over_ten_bytes() {
    // Ten bytes with the continuation bit and one more: VarintTooLong at the varint's start.
    let mut bytes = vec![0x15];
    bytes.extend_from_slice(&[0x80; 10]);
    bytes.push(0x01);
    assert_eq!(
        err_of(read_compact_val(&bytes, TType::Struct)),
        (ErrorKind::VarintTooLong, 1)
    );
    assert_eq!(
        err_of(CompactReader::new(&bytes[1..]).read_varint()),
        (ErrorKind::VarintTooLong, 0)
    );
    assert_eq!(
        err_of(CompactReader::new(&bytes).skip(TType::Struct, 64)),
        (ErrorKind::VarintTooLong, 1)
    );
    // Ten bytes is the most a u64 needs, and it is accepted.
    let max = hex("ffffffffffffffffff01");
    assert_eq!(CompactReader::new(&max).read_varint().unwrap(), u64::MAX);
    assert_eq!(CompactReader::new(&max).read_i64().unwrap(), i64::MIN);
    // A too-long varint in a length, a field id, a message seqid.
    let long = [0xffu8; 11];
    assert_eq!(
        err_of(CompactReader::new(&long).read_binary()),
        (ErrorKind::VarintTooLong, 0)
    );
    let mut field = vec![0x05];
    field.extend_from_slice(&long);
    assert_eq!(
        err_of(CompactReader::new(&field).read_field_begin()),
        (ErrorKind::VarintTooLong, 1)
    );
    let mut msg = vec![0x82, 0x21];
    msg.extend_from_slice(&long);
    assert_eq!(
        err_of(CompactReader::new(&msg).read_message_begin()),
        (ErrorKind::VarintTooLong, 2)
    );
}

#[test]
fn negative_lengths() {
    // Binary: a negative i32, at the length's offset.
    let mut b = hex("ffffffff");
    b.extend_from_slice(&[0; 8]);
    assert_eq!(
        err_of(BinaryReader::new(&b).read_binary()),
        (ErrorKind::NegativeLength, 0)
    );
    let l = hex("08 80000000 00000000");
    assert_eq!(
        err_of(BinaryReader::new(&l).read_list_begin()),
        (ErrorKind::NegativeLength, 1)
    );
    let m = hex("08 08 fffffffe 00000000");
    assert_eq!(
        err_of(BinaryReader::new(&m).read_map_begin()),
        (ErrorKind::NegativeLength, 2)
    );
    // In a struct, through skip.
    let s = hex("0b 0001 ffffffff 00");
    assert_eq!(
        err_of(BinaryReader::new(&s).skip(TType::Struct, 64)),
        (ErrorKind::NegativeLength, 3)
    );
    // Compact: a varint over i32::MAX that fits 32 bits is a negative i32.
    assert_eq!(
        err_of(CompactReader::new(&hex("ffffffff0f")).read_binary()),
        (ErrorKind::NegativeLength, 0)
    );
    assert_eq!(
        err_of(CompactReader::new(&hex("8080808008")).read_binary()),
        (ErrorKind::NegativeLength, 0)
    );
    // Past 32 bits it is not a negative i32 any more: reported as too long, with its value.
    assert_eq!(
        err_of(CompactReader::new(&hex("8080808080808080 01")).read_binary()),
        (ErrorKind::LengthLimit, 0)
    );
    assert_eq!(
        err_of(CompactReader::new(&hex("f5 ffffffff0f")).read_list_begin()),
        (ErrorKind::NegativeLength, 1)
    );
    assert_eq!(
        err_of(CompactReader::new(&hex("ffffffff0f 55")).read_map_begin()),
        (ErrorKind::NegativeLength, 0)
    );
    // i32::MAX itself is a length, just a too long one here.
    assert_eq!(
        err_of(CompactReader::new(&hex("ffffffff07")).read_binary()),
        (ErrorKind::LengthLimit, 0)
    );
}

#[test]
fn lengths_over_the_remaining_input() {
    // Strings: declared 5, 4 remain.
    assert_eq!(
        err_of(BinaryReader::new(&hex("00000005 61626364")).read_binary()),
        (ErrorKind::LengthLimit, 0)
    );
    assert_eq!(
        err_of(CompactReader::new(&hex("05 61626364")).read_binary()),
        (ErrorKind::LengthLimit, 0)
    );
    // Containers, by the smallest size of their elements: 3 i64s need 24 bytes (Binary), 3
    // (Compact); 2 doubles need 16 in both.
    let mut l = hex("0a 00000003");
    l.extend_from_slice(&[0; 23]);
    assert_eq!(
        err_of(BinaryReader::new(&l).read_list_begin()),
        (ErrorKind::LengthLimit, 0)
    );
    l.push(0);
    assert!(BinaryReader::new(&l).read_list_begin().is_ok());
    assert_eq!(
        err_of(CompactReader::new(&hex("36 0000")).read_list_begin()),
        (ErrorKind::LengthLimit, 0)
    );
    assert!(
        CompactReader::new(&hex("36 000000"))
            .read_list_begin()
            .is_ok()
    );
    let mut d = vec![0x27];
    d.extend_from_slice(&[0; 15]);
    assert_eq!(
        err_of(CompactReader::new(&d).read_list_begin()),
        (ErrorKind::LengthLimit, 0)
    );
    // Maps count key and value: 2 × (i32 + uuid) = 40 bytes in Binary, 34 in Compact.
    let mut m = hex("08 10 00000002");
    m.extend_from_slice(&[0; 39]);
    assert_eq!(
        err_of(BinaryReader::new(&m).read_map_begin()),
        (ErrorKind::LengthLimit, 0)
    );
    let mut m = hex("02 5d");
    m.extend_from_slice(&[0; 33]);
    assert_eq!(
        err_of(CompactReader::new(&m).read_map_begin()),
        (ErrorKind::LengthLimit, 0)
    );
    // A huge count is refused before anything is read.
    assert_eq!(
        err_of(BinaryReader::new(&hex("0c 7fffffff 00")).read_list_begin()),
        (ErrorKind::LengthLimit, 0)
    );
    assert_eq!(
        err_of(CompactReader::new(&hex("fc ffffffff07 00")).read_list_begin()),
        (ErrorKind::LengthLimit, 0)
    );
}

#[test]
fn unknown_type_codes() {
    // Binary field types: every code Thrift does not define.
    for code in (0..=255u8).filter(|c| TType::from_u8(*c).is_none()) {
        let bytes = [0x0b, 0, 1, 0, 0, 0, 0, code, 0, 2, 0];
        assert_eq!(
            err_of(BinaryReader::new(&bytes).skip(TType::Struct, 64)),
            (ErrorKind::InvalidType, 7),
            "code {code}"
        );
        assert_eq!(
            err_of(BinaryReader::new(&[code, 0, 0, 0, 0]).read_list_begin()),
            (ErrorKind::InvalidType, 0)
        );
        assert_eq!(
            err_of(BinaryReader::new(&[8, code, 0, 0, 0, 0]).read_map_begin()),
            (ErrorKind::InvalidType, 1)
        );
    }
    // Compact field types 14 and 15.
    for code in [14u8, 15] {
        assert_eq!(
            err_of(CompactReader::new(&[0x10 | code]).read_field_begin()),
            (ErrorKind::InvalidType, 0)
        );
        assert_eq!(
            err_of(CompactReader::new(&[0x10 | code, 0]).read_list_begin()),
            (ErrorKind::InvalidType, 0)
        );
        assert_eq!(
            err_of(CompactReader::new(&[1, code << 4 | 5]).read_map_begin()),
            (ErrorKind::InvalidType, 1)
        );
        assert_eq!(
            err_of(CompactReader::new(&[1, 0x50 | code]).read_map_begin()),
            (ErrorKind::InvalidType, 1)
        );
    }
    // Compact containers of `stop` elements do not exist.
    assert_eq!(
        err_of(CompactReader::new(&[0x10]).read_list_begin()),
        (ErrorKind::InvalidType, 0)
    );
    assert_eq!(
        err_of(CompactReader::new(&[1, 0x05]).read_map_begin()),
        (ErrorKind::InvalidType, 1)
    );
    // Binary: containers of `stop` or `void` elements are read, but not their elements.
    let l = hex("00 00000001 00");
    assert_eq!(
        BinaryReader::new(&l).read_list_begin().unwrap(),
        (TType::Stop, 1)
    );
    assert_eq!(
        err_of(BinaryReader::new(&l).skip(TType::List, 64)),
        (ErrorKind::InvalidType, 5)
    );
    let l = hex("01 00000001 00");
    assert_eq!(
        err_of(BinaryReader::new(&l).skip(TType::List, 64)),
        (ErrorKind::InvalidType, 5)
    );
    // Nothing skips or transcodes a `stop` or `void` value.
    for t in [TType::Stop, TType::Void] {
        assert_eq!(
            err_of(BinaryReader::new(&[0; 4]).skip(t, 64)),
            (ErrorKind::InvalidType, 0)
        );
        assert_eq!(
            err_of(CompactReader::new(&[0; 4]).skip(t, 64)),
            (ErrorKind::InvalidType, 0)
        );
        let mut out = Vec::new();
        let r = transcode(
            &mut BinaryReader::new(&[0; 4]),
            &mut CompactWriter::new(&mut out),
            t,
            64,
        );
        assert_eq!(err_of(r), (ErrorKind::InvalidType, 0));
    }
}

#[test]
fn invalid_utf8_strings() {
    let bytes = hex("00000003 61 ff 62");
    assert_eq!(
        err_of(BinaryReader::new(&bytes).read_string()),
        (ErrorKind::InvalidUtf8, 5)
    );
    // `read_binary` does not validate.
    assert_eq!(BinaryReader::new(&bytes).read_binary().unwrap(), b"a\xffb");
    let bytes = hex("03 61 62 c3");
    assert_eq!(
        err_of(CompactReader::new(&bytes).read_string()),
        (ErrorKind::InvalidUtf8, 3)
    );
}

#[test]
fn skip_depth_limit() {
    // list<list<i32>> [[]]: two levels.
    let bytes = hex("0f 00000001 08 00000000");
    assert!(BinaryReader::new(&bytes).skip(TType::List, 2).is_ok());
    // With one level, the inner list (at offset 5) is one too many.
    assert_eq!(
        err_of(BinaryReader::new(&bytes).skip(TType::List, 1)),
        (ErrorKind::DepthLimit, 5)
    );
    assert_eq!(
        err_of(BinaryReader::new(&bytes).skip(TType::List, 0)),
        (ErrorKind::DepthLimit, 0)
    );
    // Structs nested 100 deep, each as field 1 of the next: `1c 1c ... 00 00 ...`, Compact.
    let mut deep = vec![0x1c; 99];
    deep.extend_from_slice(&[0; 100]);
    let mut r = CompactReader::new(&deep);
    assert_eq!(
        err_of(r.skip(TType::Struct, DEFAULT_DEPTH_LIMIT)),
        (ErrorKind::DepthLimit, 64)
    );
    assert!(CompactReader::new(&deep).skip(TType::Struct, 100).is_ok());
    let mut out = Vec::new();
    let r = transcode(
        &mut CompactReader::new(&deep),
        &mut BinaryWriter::new(&mut out),
        TType::Struct,
        64,
    );
    assert_eq!(err_of(r), (ErrorKind::DepthLimit, 64));
    // A deeply nested input far beyond any limit fails cleanly (no stack overflow).
    let mut huge = vec![0x19; 100_000];
    huge.push(0x00);
    assert_eq!(
        err_of(CompactReader::new(&huge).skip(TType::Struct, DEFAULT_DEPTH_LIMIT)).0,
        ErrorKind::DepthLimit
    );
}

#[test]
fn bad_message_headers() {
    // Binary strict: a version other than 0x8001.
    let bytes = hex("80020001 00000000 00000000");
    assert_eq!(
        err_of(BinaryReader::new(&bytes).read_message_begin()),
        (ErrorKind::InvalidMessage, 0)
    );
    let bytes = hex("ffff0001 00000000 00000000");
    assert_eq!(
        err_of(BinaryReader::new(&bytes).read_message_begin()),
        (ErrorKind::InvalidMessage, 0)
    );
    // Binary strict: message types 0 and 5..=255, reported at the type byte.
    for kind in [0u8, 5, 0x7f, 0xff] {
        let bytes = [0x80, 0x01, 0x00, kind, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            err_of(BinaryReader::new(&bytes).read_message_begin()),
            (ErrorKind::InvalidMessage, 3)
        );
    }
    // Binary non-strict: the type byte after the name.
    let bytes = hex("00000001 61 05 00000000");
    assert_eq!(
        err_of(BinaryReader::new(&bytes).read_message_begin()),
        (ErrorKind::InvalidMessage, 5)
    );
    // A name that is not UTF-8, either form.
    let bytes = hex("80010001 00000002 61ff 00000000");
    assert_eq!(
        err_of(BinaryReader::new(&bytes).read_message_begin()),
        (ErrorKind::InvalidMessage, 9)
    );
    let bytes = hex("00000002 61ff 01 00000000");
    assert_eq!(
        err_of(BinaryReader::new(&bytes).read_message_begin()),
        (ErrorKind::InvalidMessage, 5)
    );
    // A name longer than the input.
    let bytes = hex("80010001 00000010 61");
    assert_eq!(
        err_of(BinaryReader::new(&bytes).read_message_begin()),
        (ErrorKind::LengthLimit, 4)
    );
    // Compact: protocol id, version, message type.
    let bytes = hex("80 21 00 00");
    assert_eq!(
        err_of(CompactReader::new(&bytes).read_message_begin()),
        (ErrorKind::InvalidMessage, 0)
    );
    let bytes = hex("82 22 00 00");
    assert_eq!(
        err_of(CompactReader::new(&bytes).read_message_begin()),
        (ErrorKind::InvalidMessage, 1)
    );
    for kind in [0u8, 5, 6, 7] {
        let bytes = [0x82, 0x01 | kind << 5, 0, 0];
        assert_eq!(
            err_of(CompactReader::new(&bytes).read_message_begin()),
            (ErrorKind::InvalidMessage, 1)
        );
    }
    let bytes = hex("82 21 00 02 61ff");
    assert_eq!(
        err_of(CompactReader::new(&bytes).read_message_begin()),
        (ErrorKind::InvalidMessage, 5)
    );
    // Truncated headers.
    for bytes in [
        &hex("800100")[..],
        &hex("80010001 000000")[..],
        &hex("80010001 00000000 0000")[..],
    ] {
        assert_eq!(
            err_of(BinaryReader::new(bytes).read_message_begin()).0,
            ErrorKind::UnexpectedEof
        );
    }
    for bytes in [
        &hex("")[..],
        &hex("82")[..],
        &hex("82 21")[..],
        &hex("82 21 00")[..],
    ] {
        assert_eq!(
            err_of(CompactReader::new(bytes).read_message_begin()).0,
            ErrorKind::UnexpectedEof
        );
    }
}

/// The Binary reader's skip (fixed-width lists, sets and maps stepped over at once, strings
/// in them one length at a time) ends where the element-by-element skip ends, or fails with
/// the same error: on containers of every kind of element, cut at every length and with
/// each byte replaced by a few others.
#[test]
fn binary_skip_agrees_with_skipping_one_element_at_a_time() {
    let mut cases: Vec<(TType, Vec<u8>)> = Vec::new();
    let mut add = |t: TType, f: &dyn Fn(&mut BinaryWriter<'_>)| {
        let mut out = Vec::new();
        f(&mut BinaryWriter::new(&mut out));
        cases.push((t, out));
    };
    add(TType::List, &|w| {
        w.write_list_begin(TType::I32, 5).unwrap();
        (0..5).for_each(|i| w.write_i32(i - 2));
    });
    add(TType::List, &|w| {
        w.write_list_begin(TType::Bool, 3).unwrap();
        [true, false, true]
            .into_iter()
            .for_each(|b| w.write_bool(b));
    });
    add(TType::Set, &|w| {
        w.write_set_begin(TType::Double, 2).unwrap();
        w.write_double(1.5);
        w.write_double(-0.0);
    });
    add(TType::List, &|w| {
        w.write_list_begin(TType::Uuid, 2).unwrap();
        w.write_uuid(&[7; 16]);
        w.write_uuid(&[0; 16]);
    });
    add(TType::List, &|w| {
        w.write_list_begin(TType::String, 3).unwrap();
        ["a", "你好", ""]
            .into_iter()
            .for_each(|s| w.write_string(s).unwrap());
    });
    add(TType::Map, &|w| {
        w.write_map_begin(TType::I32, TType::I64, 3).unwrap();
        for i in 0..3 {
            w.write_i32(i);
            w.write_i64(-i as i64);
        }
    });
    add(TType::Map, &|w| {
        w.write_map_begin(TType::String, TType::I16, 2).unwrap();
        w.write_string("k").unwrap();
        w.write_i16(1);
        w.write_string("key").unwrap();
        w.write_i16(2);
    });
    add(TType::Map, &|w| {
        w.write_map_begin(TType::I64, TType::String, 2).unwrap();
        w.write_i64(1);
        w.write_string("one").unwrap();
        w.write_i64(2);
        w.write_string("").unwrap();
    });
    add(TType::List, &|w| {
        w.write_list_begin(TType::List, 2).unwrap();
        w.write_list_begin(TType::I16, 2).unwrap();
        w.write_i16(1);
        w.write_i16(2);
        w.write_list_begin(TType::I8, 1).unwrap();
        w.write_i8(3);
    });
    add(TType::List, &|w| {
        w.write_list_begin(TType::Struct, 1).unwrap();
        w.write_field_begin(TType::I32, 1);
        w.write_i32(9);
        w.write_field_stop();
    });
    add(TType::List, &|w| w.write_list_begin(TType::I64, 0).unwrap());
    add(TType::Map, &|w| {
        w.write_map_begin(TType::I8, TType::Bool, 0).unwrap()
    });

    let outcome = |r: &BinaryReader<'_>, res: Result<()>| match res {
        Ok(()) => Ok(r.position()),
        Err(e) => Err(e.to_string()),
    };
    let mut inputs = 0;
    let mut failures = 0;
    for (t, bytes) in &cases {
        let mut variants: Vec<Vec<u8>> = (0..=bytes.len()).map(|n| bytes[..n].to_vec()).collect();
        for i in 0..bytes.len() {
            for b in [0x00, 0x01, 0x7f, 0x80, 0xff] {
                let mut v = bytes.clone();
                v[i] = b;
                variants.push(v);
            }
        }
        for v in &variants {
            for depth in [0, 1, 64] {
                let mut fast = BinaryReader::new(v);
                let got = fast.skip(*t, depth);
                let got = outcome(&fast, got);
                let mut slow = BinaryReader::new(v);
                let want = skip_value(&mut slow, *t, depth);
                let want = outcome(&slow, want);
                assert_eq!(got, want, "{t:?} at depth {depth}: {v:02x?}");
                inputs += 1;
                failures += usize::from(got.is_err());
            }
        }
    }
    assert!(
        inputs > 1000 && failures > 300,
        "{inputs} inputs, {failures} failing"
    );
}
