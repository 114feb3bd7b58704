//! Oracles: checks that panic (with the input in the message) when the backends disagree or
//! a roundtrip is unstable. Shared by the random-schema proptests, the fuzz targets and the
//! corpus replay.
//!
//! - [`decode_dyn`] / [`decode_typed`]: arbitrary bytes decoded by both backends give equal
//!   values or errors of equal kind and path; a value that decodes then roundtrips stably
//!   ([`roundtrip_dyn`], [`roundtrip_typed`]).
//! - [`differential_dyn`]: a value encoded by both backends gives identical bytes,
//!   `encoded_len` equal to the length, and decodes back to an equal value on both.
//!
//! Values are compared with [`same_value`]: doubles by their bits (NaN equals itself), maps,
//! sets and lists in order (IDL-only values keep wire order). Derived values (whose maps
//! and sets may iterate in any order) are compared through [`canonical`] encodings.

use std::fmt;
use std::sync::Arc;

use dynthrift::wire::binary::BinaryReader;
use dynthrift::wire::compact::CompactReader;
use dynthrift::wire::{ProtoRead, enter};
use dynthrift::{
    Backend, Codec, Describe, DynCodec, DynSchema, DynStruct, Error, ErrorKind, Limits, Options,
    Protocol, Result, StructRef, TType, Value, ValueRef,
};

use crate::hostile::hex;

pub const PROTOCOLS: [Protocol; 2] = [Protocol::Binary, Protocol::Compact];

/// The two backends the oracles compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The facade's choice: the JIT where it compiles the type.
    Auto,
    /// The reference interpreter.
    Interp,
}

pub const SIDES: [Side; 2] = [Side::Auto, Side::Interp];

impl Side {
    pub fn options(self, protocol: Protocol) -> Options {
        let o = Options::default().protocol(protocol);
        match self {
            Side::Auto => o,
            Side::Interp => o.backend(Backend::Interpreter),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// IDL-only values through one backend (the facade's `DynCodec`). The only place that names the
// IDL-only codec API.

/// A codec for struct `name` of `types` on one backend.
pub fn dyn_codec(
    side: Side,
    types: &Arc<DynSchema>,
    name: &str,
    protocol: Protocol,
    limits: &Limits,
) -> DynCodec {
    let mut o = side.options(protocol);
    o.limits = *limits;
    let codec = DynCodec::new(types, name, o).expect("struct of the schema");
    // Compile now (the JIT compiles lazily on first use), so that compilation never falls
    // inside a measurement of what decoding allocates.
    codec.pretouch();
    codec
}

/// Both backends' codecs of one IDL-only struct, protocol and limits. Hold it for as long as
/// it is used: compiled code lives as long as a codec of the schema does, so a pair made per
/// operation would compile the schema again each time.
#[derive(Clone, Debug)]
pub struct DynPair {
    pub auto: DynCodec,
    pub interp: DynCodec,
    pub protocol: Protocol,
    pub name: String,
}

impl DynPair {
    pub fn new(types: &Arc<DynSchema>, name: &str, protocol: Protocol, limits: &Limits) -> DynPair {
        DynPair {
            auto: dyn_codec(Side::Auto, types, name, protocol, limits),
            interp: dyn_codec(Side::Interp, types, name, protocol, limits),
            protocol,
            name: name.to_string(),
        }
    }

    pub fn side(&self, side: Side) -> &DynCodec {
        match side {
            Side::Auto => &self.auto,
            Side::Interp => &self.interp,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Comparisons

/// An error reduced to what the backends must agree on.
#[derive(Clone, PartialEq, Eq)]
pub struct ErrorId {
    pub kind: ErrorKind,
    pub path: String,
}

impl ErrorId {
    pub fn of(e: &Error) -> ErrorId {
        ErrorId {
            kind: e.kind(),
            path: e.path(),
        }
    }
}

impl fmt::Debug for ErrorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} at '{}'", self.kind, self.path)
    }
}

/// Structural equality of values, doubles compared bit for bit.
pub fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Double(x), Value::Double(y)) => x.to_bits() == y.to_bits(),
        (Value::Struct(x), Value::Struct(y)) => same_struct(x, y),
        (Value::List(x), Value::List(y)) | (Value::Set(x), Value::Set(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_value(a, b))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| same_value(ka, kb) && same_value(va, vb))
        }
        _ => a == b,
    }
}

/// Same struct of the same schema, same fields present, equal values.
pub fn same_struct(a: &DynStruct, b: &DynStruct) -> bool {
    same_struct_ref(a.view(), b.view())
}

/// [`same_struct`] on borrowed views (no copies: the fuzz targets compare many values).
fn same_struct_ref(a: StructRef<'_>, b: StructRef<'_>) -> bool {
    if !Arc::ptr_eq(a.types(), b.types()) || a.struct_id() != b.struct_id() {
        return false;
    }
    let (mut x, mut y) = (a.fields(), b.fields());
    loop {
        match (x.next(), y.next()) {
            (None, None) => return true,
            (Some((_, i, va)), Some((_, j, vb))) if i == j && same_ref(va, vb) => {}
            _ => return false,
        }
    }
}

fn same_ref(a: ValueRef<'_>, b: ValueRef<'_>) -> bool {
    use ValueRef as V;
    match (a, b) {
        (V::Bool(x), V::Bool(y)) => x == y,
        (V::I8(x), V::I8(y)) => x == y,
        (V::I16(x), V::I16(y)) => x == y,
        (V::I32(x), V::I32(y)) => x == y,
        (V::I64(x), V::I64(y)) => x == y,
        (V::Double(x), V::Double(y)) => x.to_bits() == y.to_bits(),
        (V::String(x), V::String(y)) => x == y,
        (V::Binary(x), V::Binary(y)) => x == y,
        (V::Uuid(x), V::Uuid(y)) => x == y,
        (V::Struct(x), V::Struct(y)) => same_struct_ref(x, y),
        (V::List(x), V::List(y)) | (V::Set(x), V::Set(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(a, b)| same_ref(a, b))
        }
        (V::Map(x), V::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|((ka, va), (kb, vb))| same_ref(ka, kb) && same_ref(va, vb))
        }
        _ => false,
    }
}

/// A schema-free canonical form of an encoded struct: fields sorted by id, map entries and
/// set elements sorted (their order is the host container's, not the value's), doubles as
/// bits. Two encodings of equal values have equal canonical forms.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Canon {
    Scalar(u8, Vec<u8>),
    Struct(Vec<(i16, Canon)>),
    List(u8, Vec<Canon>),
    Set(u8, Vec<Canon>),
    Map(u8, u8, Vec<(Canon, Canon)>),
}

/// The canonical form of the struct that fills `bytes`.
pub fn canonical(bytes: &[u8], protocol: Protocol) -> Result<Canon> {
    fn go<'a, R: ProtoRead<'a>>(mut r: R, len: usize) -> Result<Canon> {
        let c = canon_value(&mut r, TType::Struct, 1000)?;
        if r.position() != len {
            return Err(Error::decode(
                ErrorKind::InvalidData,
                r.position(),
                "trailing bytes",
            ));
        }
        Ok(c)
    }
    match protocol {
        Protocol::Binary => go(BinaryReader::new(bytes), bytes.len()),
        Protocol::Compact => go(CompactReader::new(bytes), bytes.len()),
    }
}

fn canon_value<'a, R: ProtoRead<'a>>(r: &mut R, t: TType, depth: u32) -> Result<Canon> {
    let code = t as u8;
    Ok(match t {
        TType::Bool => Canon::Scalar(code, vec![r.read_bool()? as u8]),
        TType::I8 => Canon::Scalar(code, r.read_i8()?.to_le_bytes().to_vec()),
        TType::I16 => Canon::Scalar(code, r.read_i16()?.to_le_bytes().to_vec()),
        TType::I32 => Canon::Scalar(code, r.read_i32()?.to_le_bytes().to_vec()),
        TType::I64 => Canon::Scalar(code, r.read_i64()?.to_le_bytes().to_vec()),
        TType::Double => Canon::Scalar(code, r.read_double()?.to_bits().to_le_bytes().to_vec()),
        TType::Uuid => Canon::Scalar(code, r.read_uuid()?.to_vec()),
        TType::String => Canon::Scalar(code, r.read_binary()?.to_vec()),
        TType::Struct => {
            let depth = enter(depth, r.position())?;
            let saved = r.read_struct_begin();
            let mut fields = Vec::new();
            loop {
                let (t, id) = r.read_field_begin()?;
                if t == TType::Stop {
                    break;
                }
                fields.push((id, canon_value(r, t, depth)?));
            }
            r.read_struct_end(saved);
            fields.sort();
            Canon::Struct(fields)
        }
        TType::List | TType::Set => {
            let depth = enter(depth, r.position())?;
            let (et, n) = r.read_list_begin()?;
            let mut items = (0..n)
                .map(|_| canon_value(r, et, depth))
                .collect::<Result<Vec<_>>>()?;
            if t == TType::Set {
                items.sort();
                Canon::Set(et as u8, items)
            } else {
                Canon::List(et as u8, items)
            }
        }
        TType::Map => {
            let depth = enter(depth, r.position())?;
            let (kt, vt, n) = r.read_map_begin()?;
            let mut items = (0..n)
                .map(|_| Ok((canon_value(r, kt, depth)?, canon_value(r, vt, depth)?)))
                .collect::<Result<Vec<_>>>()?;
            items.sort();
            // An empty Compact map has no element types on the wire.
            let (kc, vc) = if n == 0 { (0, 0) } else { (kt as u8, vt as u8) };
            Canon::Map(kc, vc, items)
        }
        TType::Stop | TType::Void => {
            return Err(Error::decode(
                ErrorKind::InvalidType,
                r.position(),
                "no value of this type",
            ));
        }
    })
}

fn show<T, E: fmt::Debug>(r: &std::result::Result<T, E>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => format!("{e:?}"),
    }
}

fn ids<T>(r: &Result<T>) -> std::result::Result<(), ErrorId> {
    match r {
        Ok(_) => Ok(()),
        Err(e) => Err(ErrorId::of(e)),
    }
}

// ---------------------------------------------------------------------------------------------
// IDL-only oracles

/// Decodes `bytes` with both backends of `pair`: equal values or equal error (kind and
/// path); `skip` agrees with decode on the length. Checks the roundtrip of a value that
/// decodes. Returns the value.
pub fn decode_dyn(pair: &DynPair, bytes: &[u8]) -> Option<DynStruct> {
    let (name, protocol) = (&pair.name, pair.protocol);
    let a = pair.auto.decode(bytes);
    let b = pair.interp.decode(bytes);
    let ctx = || format!("{name} {protocol:?} decode of {}", hex(bytes));
    match (&a, &b) {
        (Ok(x), Ok(y)) => assert!(
            same_struct(x, y),
            "{}: values differ\n auto:   {x:?}\n interp: {y:?}",
            ctx()
        ),
        _ => assert_eq!(
            ids(&a),
            ids(&b),
            "{}: outcomes differ ({} vs {})",
            ctx(),
            show(&a),
            show(&b)
        ),
    }
    // Skips (compiled on the JIT's side, generic on the interpreter's) agree on any input:
    // the same length, or the same error.
    let skips = SIDES.map(|side| pair.side(side).skip(bytes).map_err(|e| e.to_string()));
    assert_eq!(skips[0], skips[1], "{}: skips differ", ctx());
    // The length of the struct at the start: all of it when the whole input decoded.
    let used = match &b {
        Ok(_) => Some(bytes.len()),
        Err(_) => pair.interp.decode_prefix(bytes).ok().map(|(_, n)| n),
    };
    if let Some(used) = used {
        for side in SIDES {
            let n = pair.side(side).skip(bytes);
            assert_eq!(n.ok(), Some(used), "{}: {side:?} skip", ctx());
        }
    }
    if let Err(e) = &b {
        check_decode_error(e, bytes.len(), &ctx);
    }
    let v = b.ok()?;
    roundtrip_dyn(pair, &v);
    Some(v)
}

/// A decode error of untrusted input: a decode-kind error with an offset inside the input.
pub fn check_decode_error(e: &Error, len: usize, ctx: &dyn Fn() -> String) {
    assert!(
        matches!(
            e.kind(),
            ErrorKind::UnexpectedEof
                | ErrorKind::InvalidType
                | ErrorKind::VarintTooLong
                | ErrorKind::NegativeLength
                | ErrorKind::LengthLimit
                | ErrorKind::DepthLimit
                | ErrorKind::InvalidUtf8
                | ErrorKind::MissingRequired
                | ErrorKind::UnknownEnumValue
                | ErrorKind::InvalidUnion
                | ErrorKind::InvalidData
        ),
        "{}: unexpected error kind: {e}",
        ctx()
    );
    if let Some(o) = e.offset() {
        assert!(o <= len, "{}: offset {o} past the input: {e}", ctx());
    }
}

/// A decoded value re-encodes (both backends, identically, `encoded_len` exact), and the
/// encoding decodes to an equal value which re-encodes to the same bytes.
pub fn roundtrip_dyn(pair: &DynPair, v: &DynStruct) {
    let p = pair.protocol;
    let bytes = differential_dyn(pair, v).unwrap_or_else(|e| {
        panic!(
            "{} {p:?}: a decoded value does not encode: {e}\n{v:?}",
            v.name()
        )
    });
    let again = pair
        .interp
        .decode(&bytes)
        .unwrap_or_else(|e| panic!("{} {p:?}: re-decode failed: {e}", v.name()));
    let bytes2 = pair.interp.encode(&again).unwrap();
    if bytes != bytes2 {
        panic!(
            "{} {p:?}: encoding not stable\n first:  {}\n second: {}",
            v.name(),
            hex(&bytes),
            hex(&bytes2)
        );
    }
}

/// Encodes `v` with both backends of `pair`: identical bytes (or equal errors),
/// `encoded_len` equal to the length on both; then decodes the bytes with both, and both
/// must give back a value equal to `v`. Returns the bytes, or the (common) encode error.
pub fn differential_dyn(pair: &DynPair, v: &DynStruct) -> Result<Vec<u8>> {
    let protocol = pair.protocol;
    let a = pair.auto.encode(v);
    let b = pair.interp.encode(v);
    let ctx = || format!("{} {protocol:?} encode of {v:?}", v.name());
    match (&a, &b) {
        (Ok(x), Ok(y)) => {
            // Hex only on failure: the fuzz targets run this millions of times.
            if x != y {
                panic!(
                    "{}: bytes differ\n auto:   {}\n interp: {}",
                    ctx(),
                    hex(x),
                    hex(y)
                );
            }
        }
        _ => assert_eq!(
            ids(&a),
            ids(&b),
            "{}: outcomes differ ({} vs {})",
            ctx(),
            show(&a),
            show(&b)
        ),
    }
    for side in SIDES {
        let len = pair.side(side).encoded_len(v);
        match (&len, &b) {
            (Ok(n), Ok(bytes)) => assert_eq!(*n, bytes.len(), "{}: {side:?} encoded_len", ctx()),
            _ => assert_eq!(ids(&len), ids(&b), "{}: {side:?} encoded_len", ctx()),
        }
    }
    let bytes = b?;
    for side in SIDES {
        let back = pair
            .side(side)
            .decode(&bytes)
            .unwrap_or_else(|e| panic!("{}: {side:?} decode of {}: {e}", ctx(), hex(&bytes)));
        assert!(
            same_struct(v, &back),
            "{}: {side:?} decoded value differs\n back: {back:?}",
            ctx()
        );
    }
    Ok(bytes)
}

// ---------------------------------------------------------------------------------------------
// Derived-type oracles

/// A `Codec<T>` per side and protocol, built once.
#[derive(Debug)]
pub struct TypedPair<T> {
    pub auto: Codec<T>,
    pub interp: Codec<T>,
    pub protocol: Protocol,
}

impl<T: Describe> TypedPair<T> {
    pub fn new(protocol: Protocol) -> TypedPair<T> {
        TypedPair::with_limits(protocol, Limits::default())
    }

    pub fn with_limits(protocol: Protocol, limits: Limits) -> TypedPair<T> {
        let codec = |side: Side| {
            let mut o = side.options(protocol);
            o.limits = limits;
            let codec = Codec::with_options(o).unwrap();
            codec.pretouch(); // compile now, not inside a measured decode
            codec
        };
        TypedPair {
            auto: codec(Side::Auto),
            interp: codec(Side::Interp),
            protocol,
        }
    }
}

/// Decodes `bytes` as `T` with both backends: equal values (through their canonical
/// encodings) or equal errors; a value that decodes roundtrips.
pub fn decode_typed<T: Describe>(pair: &TypedPair<T>, bytes: &[u8]) -> Option<T> {
    let p = pair.protocol;
    let name = std::any::type_name::<T>();
    let ctx = || format!("{name} {p:?} decode of {}", hex(bytes));
    let a = pair.auto.decode(bytes);
    let b = pair.interp.decode(bytes);
    match (&a, &b) {
        (Ok(x), Ok(y)) => {
            let ex = pair.interp.encode(x).unwrap();
            let ey = pair.interp.encode(y).unwrap();
            assert_eq!(
                canonical(&ex, p).unwrap(),
                canonical(&ey, p).unwrap(),
                "{}: values differ",
                ctx()
            );
        }
        _ => assert_eq!(
            ids(&a),
            ids(&b),
            "{}: outcomes differ ({} vs {})",
            ctx(),
            show(&a),
            show(&b)
        ),
    }
    // `skip` agrees with decode on where the struct ends.
    let used = pair.interp.decode_prefix(bytes).map(|(_, n)| n);
    if let Ok(n) = used {
        assert_eq!(pair.auto.skip(bytes).ok(), Some(n), "{}: skip", ctx());
    }
    if let Err(e) = &b {
        check_decode_error(e, bytes.len(), &ctx);
    }
    let v = b.ok()?;
    roundtrip_typed(pair, &v);
    Some(v)
}

/// Encodes `v` with both backends (identical bytes, exact `encoded_len`), decodes with
/// both, and the re-encoding has the same canonical form.
pub fn roundtrip_typed<T: Describe>(pair: &TypedPair<T>, v: &T) {
    let p = pair.protocol;
    let name = std::any::type_name::<T>();
    let a = pair.auto.encode(v);
    let b = pair.interp.encode(v);
    match (&a, &b) {
        // One value iterates its hash containers in one order: the bytes must be identical.
        (Ok(x), Ok(y)) => {
            if x != y {
                panic!(
                    "{name} {p:?}: encodings differ\n auto:   {}\n interp: {}",
                    hex(x),
                    hex(y)
                );
            }
        }
        _ => assert_eq!(ids(&a), ids(&b), "{name} {p:?}: encode outcomes differ"),
    }
    let Ok(bytes) = b else { return };
    assert_eq!(pair.auto.encoded_len(v).unwrap(), bytes.len(), "{name}");
    assert_eq!(pair.interp.encoded_len(v).unwrap(), bytes.len(), "{name}");
    let canon = canonical(&bytes, p).unwrap();
    for c in [&pair.auto, &pair.interp] {
        let back = c
            .decode(&bytes)
            .unwrap_or_else(|e| panic!("{name} {p:?}: re-decode of {}: {e}", hex(&bytes)));
        let again = pair.interp.encode(&back).unwrap();
        assert_eq!(
            canonical(&again, p).unwrap(),
            canon,
            "{name} {p:?}: roundtrip changed the value"
        );
    }
}

/// `jit` and `interp` (two codecs of `T` on the same options, one per backend) encode `v` to
/// the same bytes or fail alike; `encoded_len` agrees; `encode` sized its buffer once; and
/// `write` after existing bytes, into a buffer too small to start with, appends the same bytes
/// (or, failing, leaves the buffer as it was). Returns the bytes (empty on an error).
pub fn same_encoding<T: Describe>(jit: &Codec<T>, interp: &Codec<T>, v: &T) -> Vec<u8> {
    let a = jit.encode(v).map_err(|e| e.to_string());
    let b = interp.encode(v).map_err(|e| e.to_string());
    if let Ok(bytes) = &a {
        crate::assert_sized_once(bytes);
    }
    assert_eq!(a, b);
    assert_eq!(
        jit.encoded_len(v).map_err(|e| e.to_string()),
        interp.encoded_len(v).map_err(|e| e.to_string())
    );
    let mut out = vec![0xAA; 3];
    out.shrink_to_fit();
    let r = jit.write(v, &mut out);
    match (&r, &b) {
        (Ok(()), Ok(bytes)) => assert_eq!(&out[3..], &bytes[..]),
        (Err(_), Err(_)) => assert_eq!(
            out,
            vec![0xAA; 3],
            "a failed encode leaves the buffer as it was"
        ),
        _ => panic!("write and encode disagree: {r:?} vs {b:?}"),
    }
    b.unwrap_or_default()
}

/// `jit` and `interp` decode `bytes` to equal values or the same error (kind, path, offset,
/// message), from a slice and from `Bytes`.
pub fn same_decoding<T: Describe + PartialEq + fmt::Debug>(
    jit: &Codec<T>,
    interp: &Codec<T>,
    bytes: &[u8],
) {
    let b = interp.decode(bytes).map_err(|e| e.to_string());
    let a = jit.decode(bytes).map_err(|e| e.to_string());
    let short = |r: &std::result::Result<T, String>| match r {
        Ok(_) => "a value".to_string(),
        Err(e) => e.clone(),
    };
    assert!(
        a == b,
        "jit {} / interpreter {} on {} bytes {:02x?}",
        short(&a),
        short(&b),
        bytes.len(),
        &bytes[..bytes.len().min(64)]
    );
    let shared = bytes::Bytes::copy_from_slice(bytes);
    let a = jit.decode_bytes(&shared).map_err(|e| e.to_string());
    assert!(
        a == b,
        "from Bytes: jit {} / interpreter {}",
        short(&a),
        short(&b)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_struct_sees_every_difference() {
        let types =
            DynSchema::new(dynthrift::idl::parse_str(crate::fuzz::BASELINE_IDL).unwrap()).unwrap();
        let bytes = dynthrift::encode(&crate::workloads::nesting()).unwrap();
        let a = DynStruct::decode(&types, "Nesting", &bytes, Protocol::Binary).unwrap();
        let b = DynStruct::decode(&types, "Nesting", &bytes, Protocol::Binary).unwrap();
        assert!(same_struct(&a, &b));
        // A changed scalar deep in a list element.
        let mut c = b.clone();
        let Some(Value::List(mut list)) = c.get("ListSimple").unwrap() else {
            panic!("ListSimple")
        };
        let Value::Struct(s) = &mut list[1] else {
            panic!("element")
        };
        s.set("I32Field", 12345).unwrap();
        c.set("ListSimple", Value::List(list)).unwrap();
        assert!(!same_struct(&a, &c));
        // An unset field.
        let mut d = b.clone();
        d.unset("String").unwrap();
        assert!(!same_struct(&a, &d) && !same_struct(&d, &a));
        // Doubles compare by bits.
        let mut e = b.clone();
        e.set("Double", -0.0).unwrap();
        let mut f = b.clone();
        f.set("Double", 0.0).unwrap();
        assert!(!same_struct(&e, &f));
    }
}
