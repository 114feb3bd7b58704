//! JSON ↔ Thrift transcoding driven by an IDL type, with no intermediate tree.
//!
//! A [`Transcoder`] is built once per type and options: it computes a plan (per struct, field
//! id → field and JSON key → field tables, pre-rendered keys, required fields, defaults). Then
//! [`Transcoder::to_json`] walks Thrift bytes (Binary or Compact) with the plan and writes JSON
//! text as it reads, and [`Transcoder::from_json`] tokenizes JSON text with a hand-written
//! tokenizer and writes Thrift as it reads (fields in the order the JSON has them; container
//! lengths patched when each array or object ends).
//!
//! The mapping is the one of `dynthrift_interp::serde` (IDL-only values with serde):
//!
//! | Thrift | JSON |
//! |---|---|
//! | struct, exception | object keyed by field name (or id, [`Mapping::field_ids`]); input accepts names and ids |
//! | union | object with exactly one key |
//! | bool | `true` / `false` |
//! | byte, i16, i32 | number (input also accepts a string holding one) |
//! | i64 | number, or string with [`Mapping::i64_as_string`] (input accepts both) |
//! | double | number; NaN and ±infinity as the strings `"NaN"`, `"Infinity"`, `"-Infinity"` |
//! | string | string |
//! | binary | base64 string, standard alphabet, padded (input: URL-safe and unpadded too) |
//! | uuid | `"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"` |
//! | enum | number, or name with [`Mapping::enum_names`] (input accepts both; unknown values stay numbers) |
//! | list, set | array |
//! | map with string or other scalar keys | object; non-string keys as strings (`"7"`, `"true"`, base64, enum name or number); input also accepts an array of pairs |
//! | map with struct, list, set or map keys | array of `[key, value]` pairs |
//!
//! Absent fields: a required field is an error (both directions); a field of default
//! requiredness gets its default (the IDL's, else the type's zero value; a struct without an
//! IDL default stays absent), exactly what a decoded IDL-only value (`DynStruct`) holds; an
//! optional field stays absent. `null` as a field's value means absent. Unknown JSON keys are
//! an error, or skipped with [`Mapping::ignore_unknown`]; unknown field ids on the wire are
//! skipped (as the decoder does). Errors name the place: `$.ListSimple[3].StringField` and the
//! byte offset in the JSON text (JSON → Thrift), `Nesting.ListSimple[3]` and the offset in the
//! Thrift bytes (Thrift → JSON). Nesting is limited by [`Limits::depth`] (default 64) both ways.
//!
//! This transcoder is an interpreter over the plan; the Cranelift JIT does not compile it (yet).
//!
//! ```
//! use dynthrift_interp::DynSchema;
//! use dynthrift_json::{Mapping, Transcoder};
//! use dynthrift_core::wire::Protocol;
//!
//! let schema = dynthrift_core::idl::parse_str(r#"
//!     enum Kind { A = 1, B = 2 }
//!     struct Point { 1: required i32 x, 2: i64 y = 5, 3: optional list<string> tags, 4: Kind k }
//! "#).unwrap();
//! let types = DynSchema::new(schema).unwrap();
//! let t = Transcoder::new(&types, "Point", Mapping::default().enum_names(true)).unwrap();
//! let bytes = t.from_json(r#"{"tags": ["a"], "x": 1, "k": "B"}"#, Protocol::Compact).unwrap();
//! // Fields come out in wire order; `y` was absent and gets its default.
//! assert_eq!(
//!     t.to_json(&bytes, Protocol::Compact).unwrap(),
//!     r#"{"tags":["a"],"x":1,"k":"B","y":5}"#
//! );
//! let e = t.from_json(r#"{"x": 1, "tags": ["a", 2]}"#, Protocol::Binary).unwrap_err();
//! assert_eq!(e.to_string(), "decode error at $.tags[1]: expected a string, found a number (offset 23)");
//! ```

#![forbid(unsafe_code)]

mod from_json;
mod plan;
mod pretty;
mod sink;
mod text;
mod to_json;

use std::sync::Arc;

use dynthrift_core::schema::{FieldDef, Requiredness, Span, StructId};
use dynthrift_core::wire::binary::BinaryReader;
use dynthrift_core::wire::compact::CompactReader;
use dynthrift_core::wire::{ProtoRead, Protocol, utf8};
use dynthrift_core::{Error, ErrorKind, Result};
use dynthrift_interp::DynSchema;
pub use dynthrift_interp::Limits;
pub use dynthrift_interp::serde::Mapping;

pub use pretty::pretty;

/// JSON ↔ Thrift for one type, with one mapping. Cheap to share (`Clone` copies a pointer).
#[derive(Debug, Clone)]
pub struct Transcoder {
    plan: Arc<plan::Plan>,
    limits: Limits,
}

impl Transcoder {
    /// A transcoder for the struct, union or exception named `name` (`Name` or `file.Name`).
    pub fn new(types: &Arc<DynSchema>, name: &str, mapping: Mapping) -> Result<Transcoder> {
        let id = types.schema().expect_struct(name)?;
        Transcoder::for_struct(types, id, mapping)
    }

    pub fn for_struct(
        types: &Arc<DynSchema>,
        id: StructId,
        mapping: Mapping,
    ) -> Result<Transcoder> {
        if id.0 as usize >= types.schema().structs.len() {
            return Err(Error::schema(format!("no struct with id {}", id.0)));
        }
        let shape = plan::Shape::of_struct(types.schema(), id);
        Transcoder::build(types, shape, mapping)
    }

    /// A transcoder for the arguments of `service.method` (the struct a call message carries).
    pub fn for_args(
        types: &Arc<DynSchema>,
        service: &str,
        method: &str,
        mapping: Mapping,
    ) -> Result<Transcoder> {
        let f = find_function(types, service, method)?;
        let shape = plan::Shape::synthetic(format!("{method}_args"), f.args.clone());
        Transcoder::build(types, shape, mapping)
    }

    /// A transcoder for the result of `service.method` (the struct a reply message carries):
    /// field 0 `success` (unless the method is `void`) and one field per declared exception.
    pub fn for_result(
        types: &Arc<DynSchema>,
        service: &str,
        method: &str,
        mapping: Mapping,
    ) -> Result<Transcoder> {
        let f = find_function(types, service, method)?;
        let mut fields = Vec::new();
        if let Some(ty) = &f.result {
            fields.push(FieldDef {
                id: 0,
                implicit_id: false,
                name: "success".into(),
                ty: ty.clone(),
                req: Requiredness::Optional,
                default: None,
                annotations: Default::default(),
                type_annotations: Default::default(),
                doc: None,
                span: Span::default(),
            });
        }
        for t in &f.throws {
            let mut t = t.clone();
            t.req = Requiredness::Optional;
            fields.push(t);
        }
        let shape = plan::Shape::synthetic(format!("{method}_result"), fields);
        Transcoder::build(types, shape, mapping)
    }

    fn build(
        types: &Arc<DynSchema>,
        shape: plan::Shape<'static>,
        mapping: Mapping,
    ) -> Result<Transcoder> {
        Ok(Transcoder {
            plan: Arc::new(plan::Plan::build(types, shape, &mapping)?),
            limits: Limits::default(),
        })
    }

    /// Limits on nesting depth and on string and container lengths, both directions.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    pub fn mapping(&self) -> &Mapping {
        &self.plan.mapping
    }

    /// The name of the type transcoded.
    pub fn type_name(&self) -> &str {
        &self.plan.structs[0].name
    }

    /// The JSON text of the struct that fills `bytes`.
    pub fn to_json(&self, bytes: &[u8], protocol: Protocol) -> Result<String> {
        let mut out = Vec::with_capacity(bytes.len() * 2);
        let used = self.to_json_prefix(bytes, protocol, &mut out)?;
        if used != bytes.len() {
            return Err(Error::decode(
                ErrorKind::InvalidData,
                used,
                format!("{} bytes after the end of the struct", bytes.len() - used),
            ));
        }
        // Everything written is UTF-8: validated strings, ASCII otherwise.
        String::from_utf8(out).map_err(|_| Error::schema("json output is not utf-8"))
    }

    /// Appends the JSON text of the struct at the start of `bytes` to `out` (UTF-8); returns
    /// the number of bytes read. On error `out` is left as it was.
    pub fn to_json_prefix(
        &self,
        bytes: &[u8],
        protocol: Protocol,
        out: &mut Vec<u8>,
    ) -> Result<usize> {
        let start = out.len();
        let run = |out: &mut Vec<u8>, strict| match protocol {
            Protocol::Binary => self.run_to_json(BinaryReader::new(bytes), out, strict),
            Protocol::Compact => self.run_to_json(CompactReader::new(bytes), out, strict),
        };
        // Non-ASCII strings are checked together at the end, in one pass over the output
        // from the first of them (the output is valid UTF-8 exactly when every string is:
        // everything else written is valid, and ASCII bytes, such as the quotes around each
        // string, cannot be part of a multi-byte character). When that finds an error, or the
        // transcoding fails after unchecked text, a second run that checks each string as it
        // comes gives the error the tree path gives (the first bad string, its offset).
        let r = match run(out, false) {
            Ok((used, None)) => Ok(used),
            Ok((used, Some(from))) if utf8(&out[from..], 0).is_ok() => Ok(used),
            Err(e) if e.1.is_none() => Err(e.0),
            _ => {
                out.truncate(start);
                run(out, true).map(|(used, _)| used).map_err(|e| e.0)
            }
        };
        if r.is_err() {
            out.truncate(start);
        }
        r
    }

    /// Returns the bytes read and where the first unchecked non-ASCII string starts in `out`
    /// (`None` when every string was checked: all ASCII, or `strict`); the same on error.
    #[allow(clippy::type_complexity)]
    fn run_to_json<'a, R: ProtoRead<'a>>(
        &self,
        r: R,
        out: &mut Vec<u8>,
        strict: bool,
    ) -> std::result::Result<(usize, Option<usize>), (Error, Option<usize>)> {
        let mut t = to_json::ToJson {
            plan: &self.plan,
            r,
            input: std::marker::PhantomData,
            out,
            limits: &self.limits,
            ib: itoa::Buffer::new(),
            rb: zmij::Buffer::new(),
            strict,
            unchecked: usize::MAX,
        };
        let unchecked = |u| (u != usize::MAX).then_some(u);
        match t.root(0) {
            Ok(()) => Ok((t.r.position(), unchecked(t.unchecked))),
            Err(e) => Err((e, unchecked(t.unchecked))),
        }
    }

    /// The Thrift encoding of the JSON text `json`.
    pub fn from_json(&self, json: &str, protocol: Protocol) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(json.len());
        self.from_json_into(json, protocol, &mut out)?;
        Ok(out)
    }

    /// Appends the Thrift encoding of `json` to `out`. On error `out` is left as it was.
    pub fn from_json_into(&self, json: &str, protocol: Protocol, out: &mut Vec<u8>) -> Result<()> {
        from_json::transcode_into(
            &self.plan,
            0,
            json.as_bytes(),
            protocol,
            &self.limits,
            false,
            out,
        )
    }

    /// [`Transcoder::from_json`] for JSON as bytes (checked to be UTF-8 first).
    pub fn from_json_bytes(&self, json: &[u8], protocol: Protocol) -> Result<Vec<u8>> {
        let text = dynthrift_core::wire::utf8(json, 0)?;
        self.from_json(text, protocol)
    }
}

fn find_function<'s>(
    types: &'s Arc<DynSchema>,
    service: &str,
    method: &str,
) -> Result<&'s dynthrift_core::schema::FunctionDef> {
    let schema = types.schema();
    let sid = schema
        .service_id(service)
        .ok_or_else(|| Error::schema(format!("no service named '{service}'")))?;
    schema
        .all_functions(sid)
        .into_iter()
        .find(|f| f.name == method)
        .ok_or_else(|| Error::schema(format!("service '{service}' has no method '{method}'")))
}
