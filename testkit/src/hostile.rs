//! Hostile inputs for decoders, shared by the hostile-input tests and future fuzz targets:
//! single-byte mutations of a valid message, samples of truncation offsets, and a map of a
//! message's structure (where every item starts) read straight from the wire.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use dynthrift::wire::binary::BinaryReader;
use dynthrift::wire::compact::CompactReader;
use dynthrift::wire::{DEFAULT_DEPTH_LIMIT, ProtoRead, enter};
use dynthrift::{Protocol, Result, TType};

/// A change of one byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutation {
    Xor(u8),
    Set(u8),
}

impl Mutation {
    pub fn apply(self, b: u8) -> u8 {
        match self {
            Mutation::Xor(m) => b ^ m,
            Mutation::Set(v) => v,
        }
    }
}

/// The single-byte mutations the hostile tests try at each offset: flip the low bit (a type
/// code or a length off by one), flip the high bit (a varint continuation, a sign), invert,
/// zero (a stop byte, a length of zero), 0x7f (a large one-byte varint, an invalid type code).
pub const BYTE_MUTATIONS: [Mutation; 5] = [
    Mutation::Xor(0x01),
    Mutation::Xor(0x80),
    Mutation::Xor(0xff),
    Mutation::Set(0x00),
    Mutation::Set(0x7f),
];

/// `bytes` with byte `offset` mutated, or `None` when the mutation leaves it unchanged.
pub fn mutate(bytes: &[u8], offset: usize, m: Mutation) -> Option<Vec<u8>> {
    let old = *bytes.get(offset)?;
    let new = m.apply(old);
    if new == old {
        return None;
    }
    let mut v = bytes.to_vec();
    v[offset] = new;
    Some(v)
}

/// Every offset in `0..head` and `len - tail..len`, every `stride`-th offset, and the `extra`
/// offsets, restricted to `0..len`, sorted and without duplicates.
pub fn sample_offsets(
    len: usize,
    head: usize,
    tail: usize,
    stride: usize,
    extra: impl IntoIterator<Item = usize>,
) -> Vec<usize> {
    let mut s: BTreeSet<usize> = (0..head.min(len)).collect();
    s.extend(len.saturating_sub(tail)..len);
    if stride > 0 {
        s.extend((0..len).step_by(stride));
    }
    s.extend(extra.into_iter().filter(|&o| o < len));
    s.into_iter().collect()
}

/// A top-level field of a message, as found on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldSpan {
    pub id: i16,
    pub ttype: TType,
    /// Where the field header starts.
    pub header: usize,
    /// Where the value starts (right after the header).
    pub value: usize,
    /// Just past the value.
    pub end: usize,
}

/// The structure of one struct on the wire.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Structure {
    /// Offsets where an item starts (field headers, stop bytes, values, container headers,
    /// elements, keys, and the end of the struct), each with its nesting level: 0 for the
    /// outermost struct's field headers and values, one more inside each struct or container.
    pub boundaries: BTreeMap<usize, u32>,
    /// The outermost struct's fields in wire order.
    pub fields: Vec<FieldSpan>,
    /// The bytes of every string and binary value (without their length prefixes).
    pub payloads: Vec<Range<usize>>,
}

impl Structure {
    /// Boundaries at nesting level `max_level` or less.
    pub fn boundaries_within(&self, max_level: u32) -> impl Iterator<Item = usize> + '_ {
        self.boundaries
            .iter()
            .filter(move |&(_, &l)| l <= max_level)
            .map(|(&o, _)| o)
    }

    /// Whether byte `offset` is part of a string or binary value's data.
    pub fn in_payload(&self, offset: usize) -> bool {
        // Payloads are recorded in wire order, so they are sorted by start.
        let i = self.payloads.partition_point(|r| r.start <= offset);
        i > 0 && self.payloads[i - 1].contains(&offset)
    }

    fn mark(&mut self, offset: usize, level: u32) {
        let l = self.boundaries.entry(offset).or_insert(level);
        *l = (*l).min(level);
    }
}

/// Walks the struct at the start of `bytes` without a schema and maps where its items start.
pub fn structure(bytes: &[u8], protocol: Protocol) -> Result<Structure> {
    let mut s = Structure::default();
    match protocol {
        Protocol::Binary => walk_struct(&mut BinaryReader::new(bytes), &mut s, 0)?,
        Protocol::Compact => walk_struct(&mut CompactReader::new(bytes), &mut s, 0)?,
    }
    Ok(s)
}

fn walk_struct<'a, R: ProtoRead<'a>>(r: &mut R, s: &mut Structure, level: u32) -> Result<()> {
    enter(DEFAULT_DEPTH_LIMIT.saturating_sub(level), r.position())?;
    let saved = r.read_struct_begin();
    loop {
        let header = r.position();
        s.mark(header, level);
        let (t, id) = r.read_field_begin()?;
        if t == TType::Stop {
            break;
        }
        let value = r.position();
        s.mark(value, level);
        walk_value(r, t, s, level)?;
        if level == 0 {
            s.fields.push(FieldSpan {
                id,
                ttype: t,
                header,
                value,
                end: r.position(),
            });
        }
    }
    r.read_struct_end(saved);
    s.mark(r.position(), level);
    Ok(())
}

/// Walks one value of type `t` that starts at a boundary of level `level`.
fn walk_value<'a, R: ProtoRead<'a>>(
    r: &mut R,
    t: TType,
    s: &mut Structure,
    level: u32,
) -> Result<()> {
    let inner = level + 1;
    match t {
        TType::Struct => walk_struct(r, s, inner),
        TType::String => {
            let b = r.read_binary()?;
            let end = r.position();
            s.payloads.push(end - b.len()..end);
            Ok(())
        }
        TType::List | TType::Set => {
            enter(DEFAULT_DEPTH_LIMIT.saturating_sub(level), r.position())?;
            let (et, n) = r.read_list_begin()?;
            for _ in 0..n {
                s.mark(r.position(), inner);
                walk_value(r, et, s, inner)?;
            }
            Ok(())
        }
        TType::Map => {
            enter(DEFAULT_DEPTH_LIMIT.saturating_sub(level), r.position())?;
            let (kt, vt, n) = r.read_map_begin()?;
            for _ in 0..n {
                s.mark(r.position(), inner);
                walk_value(r, kt, s, inner)?;
                s.mark(r.position(), inner);
                walk_value(r, vt, s, inner)?;
            }
            Ok(())
        }
        _ => r.skip(t, DEFAULT_DEPTH_LIMIT),
    }
}

/// `bytes` as lower-case hex, for failure messages.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
