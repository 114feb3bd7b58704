//! Access by path on encoded bytes: read one value (`ListSimple[3].StringField`) or produce
//! new bytes with one value replaced, without decoding the rest of the message.
//!
//! # Path syntax
//!
//! A path is compiled against a struct type of a schema ([`Path::compile`]) and walks from
//! that struct down:
//!
//! | step | meaning |
//! |---|---|
//! | `Name` (first step) or `.Name` | the field called `Name` |
//! | `5` (first step) or `.5`, `.-1` | the field with id 5 (-1) |
//! | `[3]` on a list or set | the element at position 3 (0-based, wire order) |
//! | `["k"]` on a map with `string`/`binary` keys | the value for key `k` (escapes: `\"`, `\\`, `\n`, `\t`, `\r`, `\0`) |
//! | `[42]`, `[-7]` on a map with integer keys | the value for that key |
//! | `[ValueA]` or `[1]` on a map with enum keys | by the enum value's name or number |
//! | `[true]` on a map with `bool` keys | the value for that key |
//!
//! Whitespace is not allowed. The empty path means the whole struct. Maps whose keys are
//! doubles, uuids, structs or containers cannot be indexed. Errors name the column:
//! `schema error: path 'ListSimple[x]' column 12: expected an index ...`.
//!
//! # Reading
//!
//! [`Path::get`] walks the bytes, skipping (not decoding) every field, element and entry
//! that is not on the path, and decodes only the value at the end. `Ok(None)` means the
//! value is not there: a field absent from the bytes, an index past the end of a list, a map
//! without the key, or a field or container whose wire type differs from the schema's (which
//! decoding skips too). When a field or key occurs more than once, the first one counts.
//! Bytes after the root struct are ignored. [`Path::locate`] returns the byte range of the
//! value instead of decoding it.
//!
//! # Replacing
//!
//! [`Path::set`] returns new bytes with the value at the path replaced, everything else
//! copied as it was. Thrift has no byte-length prefixes on structs or containers, so only the
//! replaced value changes size. What may be missing:
//! - the last step a field that is absent: the field is **inserted** at the end of its struct
//!   (before the stop byte; in Compact with a long-form header if its id is lower than the
//!   previous field's);
//! - the last step a map key that is absent: the entry is **appended** to the map and the
//!   map's count is increased (the header is rewritten, its size may change in Compact);
//! - anything else (a missing struct on the way, an index past the end, a container of the
//!   wrong wire type): an error saying which step is missing.
//!
//! Values must have the Rust variant that [`DynStruct::set`](dynthrift_interp::DynStruct::set)
//! expects: `I8` for `byte`, `I32` for `i32` and enums, `String` or `Binary` for `binary`,
//! `Struct` from the same schema, `List`/`Set`/`Map` with elements of those kinds.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use dynthrift_core::schema::{StructId, Ty};
use dynthrift_core::wire::binary::BinaryReader;
use dynthrift_core::wire::compact::{self, CompactReader, zigzag32};
use dynthrift_core::wire::{DEFAULT_DEPTH_LIMIT, ProtoRead, Protocol, enter};
use dynthrift_core::{Error, ErrorKind, Result, TType};
use dynthrift_interp::{DynSchema, Value};

use crate::wire_value::{Reader, read_value, type_error, write_value};

/// A path compiled against a struct type: cheap to apply many times, `Send + Sync`.
#[derive(Clone)]
pub struct Path {
    types: Arc<DynSchema>,
    root: StructId,
    text: String,
    steps: Vec<Step>,
    /// Type of the value the path ends at.
    leaf: Ty,
}

#[derive(Clone, Debug)]
enum Step {
    Field { id: i16, ty: Ty, name: Arc<str> },
    Index { index: usize, elem: Ty },
    Key { key: Key, key_ty: Ty, value_ty: Ty },
}

/// A map key to look for, in the form its wire value is compared with.
#[derive(Clone, Debug, PartialEq)]
enum Key {
    Bool(bool),
    Int(i64),
    Bytes(Vec<u8>),
}

impl fmt::Debug for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Path")
            .field("root", &self.root_name())
            .field("path", &self.text)
            .field("leaf", &self.types.schema().type_name(&self.leaf))
            .finish()
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.root_name())?;
        if !self.text.is_empty() && !self.text.starts_with('[') {
            f.write_str(".")?;
        }
        f.write_str(&self.text)
    }
}

/// Where a walk ended.
enum Hit {
    /// The value starts at the reader's position. `bool_header`: offset of the Compact field
    /// header that carries a bool field's value.
    Found { bool_header: Option<usize> },
    /// The last step is a field that is absent; its struct's stop byte is at `stop_at`.
    MissingField { stop_at: usize, last_id: i16 },
    /// The last step is a key that is absent from the map whose header spans `header` and
    /// whose entries end at `end`.
    MissingKey {
        header: Range<usize>,
        count: usize,
        end: usize,
    },
    /// Not there; the step (index into `steps`) that failed and why.
    Absent { step: usize, why: &'static str },
}

impl Path {
    /// Compiles `path` against the struct named `root` (`Name` or `file.Name`).
    pub fn compile(types: &Arc<DynSchema>, root: &str, path: &str) -> Result<Path> {
        let root_id = types.schema().expect_struct(root)?;
        let mut p = Parser {
            text: path,
            pos: 0,
            types,
        };
        let (steps, leaf) = p.parse(root_id)?;
        Ok(Path {
            types: types.clone(),
            root: root_id,
            text: path.to_owned(),
            steps,
            leaf,
        })
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn root_name(&self) -> &str {
        &self.types.schema().struct_def(self.root).name
    }

    /// The schema type of the value the path ends at.
    pub fn leaf_type(&self) -> &Ty {
        &self.leaf
    }

    pub fn types(&self) -> &Arc<DynSchema> {
        &self.types
    }

    /// The value at the path in `bytes` (which start with an encoded root struct), or `None`
    /// when it is not there (see the module documentation).
    pub fn get(&self, bytes: &[u8], protocol: Protocol) -> Result<Option<Value>> {
        match protocol {
            Protocol::Binary => self.get_in(BinaryReader::new(bytes), bytes),
            Protocol::Compact => self.get_in(CompactReader::new(bytes), bytes),
        }
    }

    fn get_in<'a, R: Reader<'a>>(&self, mut r: R, bytes: &'a [u8]) -> Result<Option<Value>> {
        match self.walk(&mut r)? {
            (Hit::Found { .. }, depth) => {
                read_value(&mut r, bytes, &self.types, &self.leaf, depth).map(Some)
            }
            _ => Ok(None),
        }
    }

    /// The byte range of the value at the path, or `None` when it is not there. A Compact
    /// `bool` field has no bytes of its own (its value is in the field header): its range is
    /// empty, at the end of the header.
    pub fn locate(&self, bytes: &[u8], protocol: Protocol) -> Result<Option<Range<usize>>> {
        fn go<'a, R: Reader<'a>>(p: &Path, mut r: R) -> Result<Option<Range<usize>>> {
            match p.walk(&mut r)? {
                (Hit::Found { .. }, depth) => {
                    let start = r.position();
                    r.skip_fast(p.leaf.ttype(), depth)?;
                    Ok(Some(start..r.position()))
                }
                _ => Ok(None),
            }
        }
        match protocol {
            Protocol::Binary => go(self, BinaryReader::new(bytes)),
            Protocol::Compact => go(self, CompactReader::new(bytes)),
        }
    }

    /// New bytes with the value at the path replaced by `value` (or inserted: see the module
    /// documentation). The input is not changed.
    pub fn set(&self, bytes: &[u8], protocol: Protocol, value: &Value) -> Result<Vec<u8>> {
        match protocol {
            Protocol::Binary => self.set_in(BinaryReader::new(bytes), bytes, protocol, value),
            Protocol::Compact => self.set_in(CompactReader::new(bytes), bytes, protocol, value),
        }
    }

    fn set_in<'a, R: Reader<'a>>(
        &self,
        mut r: R,
        bytes: &'a [u8],
        protocol: Protocol,
        value: &Value,
    ) -> Result<Vec<u8>> {
        let compact = protocol == Protocol::Compact;
        let (hit, depth) = self.walk(&mut r)?;
        match hit {
            Hit::Found { bool_header } => {
                if let Some(h) = bool_header {
                    // A Compact bool field: its value is the low nibble of the header's first byte.
                    let Value::Bool(b) = value else {
                        return Err(type_error(&self.types, &self.leaf, value));
                    };
                    let mut out = bytes.to_vec();
                    out[h] = (out[h] & 0xf0) | compact_bool(*b);
                    return Ok(out);
                }
                let start = r.position();
                r.skip_fast(self.leaf.ttype(), depth)?;
                let end = r.position();
                let mut out = Vec::with_capacity(bytes.len() + 16);
                out.extend_from_slice(&bytes[..start]);
                write_value(&mut out, protocol, &self.types, &self.leaf, value)?;
                out.extend_from_slice(&bytes[end..]);
                Ok(out)
            }
            Hit::MissingField { stop_at, last_id } => {
                let Some(Step::Field { id, ty, .. }) = self.steps.last() else {
                    return Err(Error::schema(
                        "internal: missing field without a field step",
                    ));
                };
                let mut out = Vec::with_capacity(bytes.len() + 16);
                out.extend_from_slice(&bytes[..stop_at]);
                if compact {
                    let code = match (ty, value) {
                        (Ty::Bool, Value::Bool(b)) => compact_bool(*b),
                        _ => compact::compact_code(ty.ttype()),
                    };
                    let delta = *id as i32 - last_id as i32;
                    if delta > 0 && delta <= 15 {
                        out.push(((delta as u8) << 4) | code);
                    } else {
                        out.push(code);
                        put_varint(&mut out, zigzag32(*id as i32) as u64);
                    }
                    if !matches!((ty, value), (Ty::Bool, Value::Bool(_))) {
                        write_value(&mut out, protocol, &self.types, ty, value)?;
                    }
                } else {
                    out.push(ty.ttype() as u8);
                    out.extend_from_slice(&id.to_be_bytes());
                    write_value(&mut out, protocol, &self.types, ty, value)?;
                }
                out.extend_from_slice(&bytes[stop_at..]);
                Ok(out)
            }
            Hit::MissingKey { header, count, end } => {
                let Some(Step::Key {
                    key,
                    key_ty,
                    value_ty,
                }) = self.steps.last()
                else {
                    return Err(Error::schema("internal: missing key without a key step"));
                };
                let n = count + 1;
                let mut out = Vec::with_capacity(bytes.len() + 32);
                out.extend_from_slice(&bytes[..header.start]);
                let (kt, vt) = (key_ty.ttype(), value_ty.ttype());
                if compact {
                    put_varint(&mut out, n as u64);
                    out.push((compact::compact_code(kt) << 4) | compact::compact_code(vt));
                } else {
                    let n = i32::try_from(n).map_err(|_| {
                        Error::encode(ErrorKind::InvalidValue, "map too long for one more entry")
                    })?;
                    out.extend_from_slice(&[kt as u8, vt as u8]);
                    out.extend_from_slice(&n.to_be_bytes());
                }
                out.extend_from_slice(&bytes[header.end..end]);
                write_value(
                    &mut out,
                    protocol,
                    &self.types,
                    key_ty,
                    &key.to_value(key_ty),
                )?;
                write_value(&mut out, protocol, &self.types, value_ty, value)?;
                out.extend_from_slice(&bytes[end..]);
                Ok(out)
            }
            Hit::Absent { step, why } => Err(Error::schema(format!(
                "cannot set {self}: {} {why}",
                self.step_text(step)
            ))),
        }
    }

    /// The path up to and including step `i`, for messages.
    fn step_text(&self, i: usize) -> String {
        let mut s = self.root_name().to_owned();
        for step in &self.steps[..=i.min(self.steps.len().saturating_sub(1))] {
            match step {
                Step::Field { name, .. } => {
                    s.push('.');
                    s.push_str(name);
                }
                Step::Index { index, .. } => s.push_str(&format!("[{index}]")),
                Step::Key { key, .. } => s.push_str(&format!("[{key}]")),
            }
        }
        s
    }

    /// Walks the steps; on `Found`, the reader stands at the value. Also returns the depth
    /// budget left for the value.
    fn walk<'a, R: Reader<'a>>(&self, r: &mut R) -> Result<(Hit, u32)> {
        let mut depth = enter(DEFAULT_DEPTH_LIMIT, 0)?;
        // Whether the reader stands at a struct (the root, or a struct field/element/value).
        let mut bool_header = None;
        r.read_struct_begin();
        let last = self.steps.len().wrapping_sub(1);
        for (i, step) in self.steps.iter().enumerate() {
            bool_header = None;
            match step {
                Step::Field { id, ty, .. } => {
                    let want = ty.ttype();
                    let mut last_id = 0i16;
                    loop {
                        let at = r.position();
                        let (t, fid) = r.read_field_begin()?;
                        if t == TType::Stop {
                            if i == last {
                                return Ok((
                                    Hit::MissingField {
                                        stop_at: at,
                                        last_id,
                                    },
                                    depth,
                                ));
                            }
                            return Ok((
                                Hit::Absent {
                                    step: i,
                                    why: "is absent",
                                },
                                depth,
                            ));
                        }
                        last_id = fid;
                        if fid == *id && t == want {
                            if t == TType::Bool && R::PROTOCOL == Protocol::Compact {
                                bool_header = Some(at);
                            }
                            break;
                        }
                        r.skip_fast(t, depth)?;
                    }
                    if i != last {
                        // The next step goes into this field's struct or container.
                        depth = enter(depth, r.position())?;
                        if let Ty::Struct(_) = ty {
                            r.read_struct_begin();
                        }
                    }
                }
                Step::Index { index, elem } => {
                    let (t, n) = r.read_list_begin()?;
                    if n > 0 && t != elem.ttype() {
                        return Ok((absent(i, "has elements of another wire type"), depth));
                    }
                    if *index >= n {
                        return Ok((absent(i, "is past the end of the list"), depth));
                    }
                    r.skip_n(t, *index, depth)?;
                    if i != last {
                        depth = enter(depth, r.position())?;
                        if let Ty::Struct(_) = elem {
                            r.read_struct_begin();
                        }
                    }
                }
                Step::Key {
                    key,
                    key_ty,
                    value_ty,
                } => {
                    let header_start = r.position();
                    let (kt, vt, n) = r.read_map_begin()?;
                    let header_end = r.position();
                    if n > 0 && (kt != key_ty.ttype() || vt != value_ty.ttype()) {
                        return Ok((absent(i, "is in a map of other wire types"), depth));
                    }
                    let mut found = false;
                    for _ in 0..n {
                        if key.matches(r, kt, depth)? {
                            found = true;
                            break;
                        }
                        r.skip_fast(vt, depth)?;
                    }
                    if !found {
                        if i == last {
                            return Ok((
                                Hit::MissingKey {
                                    header: header_start..header_end,
                                    count: n,
                                    end: r.position(),
                                },
                                depth,
                            ));
                        }
                        return Ok((absent(i, "is absent"), depth));
                    }
                    if i != last {
                        depth = enter(depth, r.position())?;
                        if let Ty::Struct(_) = value_ty {
                            r.read_struct_begin();
                        }
                    }
                }
            }
        }
        Ok((Hit::Found { bool_header }, depth))
    }
}

fn absent(step: usize, why: &'static str) -> Hit {
    Hit::Absent { step, why }
}

fn compact_bool(b: bool) -> u8 {
    if b { 1 } else { 2 }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

impl Key {
    /// Reads one key of wire type `t` and compares it; the reader ends after the key.
    fn matches<'a, R: Reader<'a>>(&self, r: &mut R, t: TType, depth: u32) -> Result<bool> {
        Ok(match (self, t) {
            (Key::Bool(b), TType::Bool) => r.read_bool()? == *b,
            (Key::Int(k), TType::I8) => r.read_i8()? as i64 == *k,
            (Key::Int(k), TType::I16) => r.read_i16()? as i64 == *k,
            (Key::Int(k), TType::I32) => r.read_i32()? as i64 == *k,
            (Key::Int(k), TType::I64) => r.read_i64()? == *k,
            (Key::Bytes(k), TType::String) => r.read_binary()? == k.as_slice(),
            _ => {
                r.skip_fast(t, depth)?;
                false
            }
        })
    }

    fn to_value(&self, ty: &Ty) -> Value {
        match (self, ty) {
            (Key::Bool(b), _) => Value::Bool(*b),
            (Key::Int(k), Ty::I8) => Value::I8(*k as i8),
            (Key::Int(k), Ty::I16) => Value::I16(*k as i16),
            (Key::Int(k), Ty::I64) => Value::I64(*k),
            (Key::Int(k), _) => Value::I32(*k as i32),
            (Key::Bytes(b), Ty::String) => Value::String(String::from_utf8_lossy(b).into_owned()),
            (Key::Bytes(b), _) => Value::Binary(bytes::Bytes::copy_from_slice(b)),
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Bool(b) => write!(f, "{b}"),
            Key::Int(i) => write!(f, "{i}"),
            Key::Bytes(b) => write!(f, "{:?}", String::from_utf8_lossy(b)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing

struct Parser<'t> {
    text: &'t str,
    pos: usize,
    types: &'t Arc<DynSchema>,
}

impl Parser<'_> {
    fn err(&self, at: usize, what: impl fmt::Display) -> Error {
        Error::schema(format!(
            "path '{}' column {}: {what}",
            self.text,
            self.text[..at.min(self.text.len())].chars().count() + 1
        ))
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn parse(&mut self, root: StructId) -> Result<(Vec<Step>, Ty)> {
        let mut ty = Ty::Struct(root);
        let mut steps = Vec::new();
        let mut first = true;
        while self.pos < self.text.len() {
            let at = self.pos;
            match self.peek() {
                Some(b'[') => {
                    self.pos += 1;
                    let (step, next) = self.index_step(&ty, at)?;
                    ty = next;
                    steps.push(step);
                    if self.peek() != Some(b']') {
                        return Err(self.err(self.pos, "expected ']'"));
                    }
                    self.pos += 1;
                }
                Some(b'.') if !first => {
                    self.pos += 1;
                    let (id, fty, name) = self.field(&ty, self.pos)?;
                    ty = fty.clone();
                    steps.push(Step::Field { id, ty: fty, name });
                }
                _ if first => {
                    let (id, fty, name) = self.field(&ty, self.pos)?;
                    ty = fty.clone();
                    steps.push(Step::Field { id, ty: fty, name });
                }
                _ => return Err(self.err(at, "expected '.' or '['")),
            }
            first = false;
        }
        Ok((steps, ty))
    }

    /// A field name or id at the position, resolved in the struct `ty`.
    fn field(&mut self, ty: &Ty, at: usize) -> Result<(i16, Ty, Arc<str>)> {
        let schema = self.types.schema();
        let Ty::Struct(sid) = ty else {
            return Err(self.err(
                at,
                format!(
                    "type {} has no fields (only structs do)",
                    schema.type_name(ty)
                ),
            ));
        };
        let def = schema.struct_def(*sid);
        let rest = &self.text[at..];
        let len = rest
            .bytes()
            .position(|b| b == b'.' || b == b'[' || b == b']')
            .unwrap_or(rest.len());
        let token = &rest[..len];
        if token.is_empty() {
            return Err(self.err(at, "expected a field name or id"));
        }
        self.pos = at + len;
        let field = if token.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
            let id: i16 = token
                .parse()
                .map_err(|_| self.err(at, format!("'{token}' is not a field id (an i16)")))?;
            def.field_by_id(id)
                .ok_or_else(|| self.err(at, format!("{} has no field with id {id}", def.name)))?
        } else {
            if !token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
            {
                return Err(self.err(at, format!("'{token}' is not a field name")));
            }
            def.field_by_name(token)
                .ok_or_else(|| self.err(at, format!("{} has no field '{token}'", def.name)))?
        };
        Ok((field.id, field.ty.clone(), Arc::from(field.name.as_str())))
    }

    /// The inside of `[...]`, for a container of type `ty`; and the type it leads to.
    fn index_step(&mut self, ty: &Ty, at: usize) -> Result<(Step, Ty)> {
        let schema = self.types.schema();
        match ty {
            Ty::List(e) | Ty::Set(e) => {
                let start = self.pos;
                let digits = self.text[start..]
                    .bytes()
                    .take_while(u8::is_ascii_digit)
                    .count();
                if digits == 0 {
                    return Err(self.err(start, "expected an index (a number from 0)"));
                }
                self.pos += digits;
                let index = self.text[start..self.pos]
                    .parse()
                    .map_err(|_| self.err(start, "index too large"))?;
                Ok((
                    Step::Index {
                        index,
                        elem: (**e).clone(),
                    },
                    (**e).clone(),
                ))
            }
            Ty::Map(k, v) => {
                let start = self.pos;
                let key = match &**k {
                    Ty::String | Ty::Binary => {
                        if self.peek() != Some(b'"') {
                            return Err(self.err(
                                start,
                                format!(
                                    "the map's keys are {}s: write the key in double quotes",
                                    schema.type_name(k)
                                ),
                            ));
                        }
                        Key::Bytes(self.quoted()?)
                    }
                    Ty::I8 | Ty::I16 | Ty::I32 | Ty::I64 => {
                        let n = self.integer()?;
                        let fits = match &**k {
                            Ty::I8 => i8::try_from(n).is_ok(),
                            Ty::I16 => i16::try_from(n).is_ok(),
                            Ty::I32 => i32::try_from(n).is_ok(),
                            _ => true,
                        };
                        if !fits {
                            return Err(self.err(
                                start,
                                format!("{n} does not fit in the key type {}", schema.type_name(k)),
                            ));
                        }
                        Key::Int(n)
                    }
                    Ty::Enum(eid) => {
                        if self.peek().is_some_and(|b| b.is_ascii_digit() || b == b'-') {
                            let n = self.integer()?;
                            if i32::try_from(n).is_err() {
                                return Err(self.err(start, format!("{n} is not an i32")));
                            }
                            Key::Int(n)
                        } else {
                            let name = self.ident().to_owned();
                            let name = name.as_str();
                            let def = schema.enum_def(*eid);
                            let v = def.value_by_name(name).ok_or_else(|| {
                                self.err(start, format!("enum {} has no value '{name}'", def.name))
                            })?;
                            Key::Int(v as i64)
                        }
                    }
                    Ty::Bool => match self.ident() {
                        "true" => Key::Bool(true),
                        "false" => Key::Bool(false),
                        _ => return Err(self.err(start, "expected true or false")),
                    },
                    other => {
                        return Err(self.err(
                            at,
                            format!(
                                "maps with {} keys cannot be indexed by a path",
                                schema.type_name(other)
                            ),
                        ));
                    }
                };
                Ok((
                    Step::Key {
                        key,
                        key_ty: (**k).clone(),
                        value_ty: (**v).clone(),
                    },
                    (**v).clone(),
                ))
            }
            other => Err(self.err(
                at,
                format!(
                    "type {} cannot be indexed (only lists, sets and maps)",
                    schema.type_name(other)
                ),
            )),
        }
    }

    fn ident(&mut self) -> &str {
        let start = self.pos;
        let n = self.text[start..]
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'.')
            .count();
        self.pos += n;
        let s = &self.text[start..self.pos];
        // `Enum.Value` is accepted: the last part names the value.
        s.rsplit('.').next().unwrap_or(s)
    }

    fn integer(&mut self) -> Result<i64> {
        let start = self.pos;
        let mut n = 0;
        if self.peek() == Some(b'-') {
            n += 1;
        }
        n += self.text[start + n..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        self.pos += n;
        self.text[start..self.pos]
            .parse()
            .map_err(|_| self.err(start, "expected an integer key"))
    }

    fn quoted(&mut self) -> Result<Vec<u8>> {
        let open = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        let bytes = self.text.as_bytes();
        loop {
            let Some(&b) = bytes.get(self.pos) else {
                return Err(self.err(open, "unterminated string"));
            };
            self.pos += 1;
            match b {
                b'"' => return Ok(out),
                b'\\' => {
                    let Some(&e) = bytes.get(self.pos) else {
                        return Err(self.err(open, "unterminated string"));
                    };
                    self.pos += 1;
                    out.push(match e {
                        b'"' => b'"',
                        b'\\' => b'\\',
                        b'n' => b'\n',
                        b't' => b'\t',
                        b'r' => b'\r',
                        b'0' => 0,
                        _ => {
                            return Err(
                                self.err(self.pos - 2, format!("unknown escape '\\{}'", e as char))
                            );
                        }
                    });
                }
                _ => out.push(b),
            }
        }
    }
}

/// One-shot [`Path::get`]: compiles `path` against `root` and reads the value.
pub fn get(
    types: &Arc<DynSchema>,
    root: &str,
    path: &str,
    bytes: &[u8],
    protocol: Protocol,
) -> Result<Option<Value>> {
    Path::compile(types, root, path)?.get(bytes, protocol)
}

/// One-shot [`Path::set`].
pub fn set(
    types: &Arc<DynSchema>,
    root: &str,
    path: &str,
    bytes: &[u8],
    protocol: Protocol,
    value: &Value,
) -> Result<Vec<u8>> {
    Path::compile(types, root, path)?.set(bytes, protocol, value)
}
