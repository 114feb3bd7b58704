//! `inspect`: the structure of Thrift bytes with no IDL — every field's id and wire type, every
//! element, with byte offsets — as an indented tree.

use std::io::Write;

use dynthrift::wire::binary::BinaryReader;
use dynthrift::wire::compact::CompactReader;
use dynthrift::wire::{ProtoRead, Protocol};
use dynthrift::{Error, TType};

use crate::io::Input;
use crate::{InspectArgs, Result};

/// Whether `bytes` start like a message envelope of `protocol`.
pub fn looks_like_message(bytes: &[u8], protocol: Protocol) -> bool {
    match protocol {
        Protocol::Binary => bytes.len() >= 4 && bytes[0] == 0x80 && bytes[1] == 0x01,
        Protocol::Compact => bytes.len() >= 2 && bytes[0] == 0x82 && bytes[1] & 0x1f == 1,
    }
}

pub fn run(a: &InspectArgs) -> Result<()> {
    let input = Input::read(a.input.as_deref())?;
    let protocol: Protocol = a.protocol.into();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (n, unit) in input.units(a.framed).enumerate() {
        let (base, bytes) = unit?;
        if a.framed {
            writeln!(out, "frame {n} at {} ({} bytes)", base - 4, bytes.len())?;
        }
        let mut text = Vec::new();
        // A message envelope is recognised by its first bytes (a bare struct cannot start so).
        let message = looks_like_message(bytes, protocol);
        let r = match protocol {
            Protocol::Binary => Tree::run(BinaryReader::new(bytes), base, &mut text, message),
            Protocol::Compact => Tree::run(CompactReader::new(bytes), base, &mut text, message),
        };
        // Show what was understood before the error.
        out.write_all(&text)?;
        match r {
            Ok(used) if used < bytes.len() => {
                writeln!(
                    out,
                    "@{} {} trailing bytes",
                    base + used,
                    bytes.len() - used
                )?;
            }
            Ok(_) => {}
            Err(e) => {
                out.flush()?;
                return Err(e.shift_offset(base).into());
            }
        }
    }
    out.flush()?;
    Ok(())
}

struct Tree<'o, R> {
    r: R,
    base: usize,
    out: &'o mut Vec<u8>,
}

fn type_name(t: TType) -> &'static str {
    match t {
        TType::Stop => "stop",
        TType::Void => "void",
        TType::Bool => "bool",
        TType::I8 => "byte",
        TType::I16 => "i16",
        TType::I32 => "i32",
        TType::I64 => "i64",
        TType::Double => "double",
        TType::String => "string/binary",
        TType::Struct => "struct",
        TType::Map => "map",
        TType::Set => "set",
        TType::List => "list",
        TType::Uuid => "uuid",
    }
}

impl<'a, R: ProtoRead<'a>> Tree<'_, R> {
    fn run(r: R, base: usize, out: &mut Vec<u8>, message: bool) -> Result<usize, Error> {
        let mut t = Tree { r, base, out };
        if message {
            let at = t.r.position();
            let h = t.r.read_message_begin()?;
            let line = format!(
                "@{} message {:?} {:?} seqid {}\n",
                base + at,
                h.name,
                h.kind,
                h.seqid
            );
            t.out.extend_from_slice(line.as_bytes());
        }
        let at = t.r.position();
        t.value(TType::Struct, at, 0, "", 64)?;
        Ok(t.r.position())
    }

    fn line(&mut self, at: usize, indent: usize, label: &str, what: &str) {
        let pad = "  ".repeat(indent);
        let s = format!("@{} {pad}{label}{what}\n", self.base + at);
        self.out.extend_from_slice(s.as_bytes());
    }

    /// One value; its line shows offset `at` (a field's header, or the value itself).
    fn value(
        &mut self,
        t: TType,
        at: usize,
        indent: usize,
        label: &str,
        depth: u32,
    ) -> Result<(), Error> {
        match t {
            TType::Struct => {
                let depth = dynthrift::wire::enter(depth, at)?;
                self.line(at, indent, label, "struct");
                let saved = self.r.read_struct_begin();
                loop {
                    let fat = self.r.position();
                    let (ft, id) = self.r.read_field_begin()?;
                    if ft == TType::Stop {
                        self.line(fat, indent + 1, "", "stop");
                        break;
                    }
                    self.value(ft, fat, indent + 1, &format!("field {id}: "), depth)?;
                }
                self.r.read_struct_end(saved);
            }
            TType::List | TType::Set => {
                let depth = dynthrift::wire::enter(depth, at)?;
                let (et, n) = self.r.read_list_begin()?;
                let kind = if t == TType::List { "list" } else { "set" };
                self.line(
                    at,
                    indent,
                    label,
                    &format!("{kind}<{}> ({n} elements)", type_name(et)),
                );
                for i in 0..n {
                    let at = self.r.position();
                    self.value(et, at, indent + 1, &format!("[{i}] "), depth)?;
                }
            }
            TType::Map => {
                let depth = dynthrift::wire::enter(depth, at)?;
                let (kt, vt, n) = self.r.read_map_begin()?;
                self.line(
                    at,
                    indent,
                    label,
                    &format!("map<{}, {}> ({n} entries)", type_name(kt), type_name(vt)),
                );
                for i in 0..n {
                    let at = self.r.position();
                    self.value(kt, at, indent + 1, &format!("key {i}: "), depth)?;
                    let at = self.r.position();
                    self.value(vt, at, indent + 1, &format!("value {i}: "), depth)?;
                }
            }
            TType::Bool => {
                let v = self.r.read_bool()?;
                self.line(at, indent, label, &format!("bool {v}"));
            }
            TType::I8 => {
                let v = self.r.read_i8()?;
                self.line(at, indent, label, &format!("byte {v}"));
            }
            TType::I16 => {
                let v = self.r.read_i16()?;
                self.line(at, indent, label, &format!("i16 {v}"));
            }
            TType::I32 => {
                let v = self.r.read_i32()?;
                self.line(at, indent, label, &format!("i32 {v}"));
            }
            TType::I64 => {
                let v = self.r.read_i64()?;
                self.line(at, indent, label, &format!("i64 {v}"));
            }
            TType::Double => {
                let v = self.r.read_double()?;
                self.line(at, indent, label, &format!("double {v:?}"));
            }
            TType::Uuid => {
                let v = self.r.read_uuid()?;
                let hex: String = v.iter().map(|b| format!("{b:02x}")).collect();
                self.line(at, indent, label, &format!("uuid {hex}"));
            }
            TType::String => {
                let b = self.r.read_binary()?;
                // Text when it is UTF-8 with few control characters, else hex.
                let controls = b
                    .iter()
                    .filter(|&&c| c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r'))
                    .count();
                let text = std::str::from_utf8(b)
                    .ok()
                    .filter(|_| controls * 10 <= b.len());
                let shown = match text {
                    Some(s) => {
                        let cut: String = s.chars().take(60).collect();
                        let more = if cut.len() < s.len() { "…" } else { "" };
                        format!("{cut:?}{more}")
                    }
                    None => {
                        let hex: String = b.iter().take(32).map(|x| format!("{x:02x}")).collect();
                        let more = if b.len() > 32 { "…" } else { "" };
                        format!("0x{hex}{more}")
                    }
                };
                self.line(
                    at,
                    indent,
                    label,
                    &format!("string/binary ({} bytes) {shown}", b.len()),
                );
            }
            TType::Stop | TType::Void => {
                return Err(Error::decode(
                    dynthrift::ErrorKind::InvalidType,
                    at,
                    format!("no value of type {t}"),
                ));
            }
        }
        Ok(())
    }
}
