//! `dynthrift`: look at Thrift data from the command line, with or without an IDL file.
//!
//! `check` loads an IDL and prints its types; `decode` turns Thrift bytes into JSON and
//! `encode` JSON into Thrift bytes, given an IDL type (or a service, for messages); `convert`
//! switches between the Binary and Compact protocols; `inspect` shows the structure of bytes
//! without any IDL; `get` reads one value by path without decoding the rest; `validate`
//! checks bytes against the IDL's `vt.*` annotations. See `dynthrift help <command>`.
#![forbid(unsafe_code)]

mod inspect;
mod io;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};
use dynthrift::json::{Mapping, Transcoder};
use dynthrift::wire::binary::{BinaryReader, BinaryWriter};
use dynthrift::wire::compact::{CompactReader, CompactWriter};
use dynthrift::wire::{ProtoRead, ProtoWrite};
use dynthrift::{DynSchema, DynStruct, Error, Protocol, TMessageType, TType};

use crate::io::{Input, Progress};

#[derive(Parser, Debug)]
#[command(
    name = "dynthrift",
    version,
    about = "Read, write and convert Apache Thrift data, with an IDL file loaded at run time or none at all",
    long_about = "Read, write and convert Apache Thrift data, with an IDL file loaded at run time \
                  or none at all.\n\n\
                  Thrift bytes are a bare struct, a message (method name, type, sequence id, then \
                  the arguments or result struct), optionally framed (each prefixed with its \
                  4-byte big-endian length, as the framed transport sends them). Input comes \
                  from a file or, with no file or `-`, from standard input.",
    after_help = "Examples:\n  \
        dynthrift check testdata/idl/frugal/tests/baseline.thrift\n  \
        dynthrift decode --idl testdata/idl/frugal/tests/baseline.thrift --type Nesting testdata/samples/nesting.bin\n  \
        dynthrift decode --idl svc.thrift --service Calculator --framed calls.bin\n  \
        echo '{\"I32Field\": 7}' | dynthrift encode --idl baseline.thrift --type Simple -o simple.bin\n  \
        dynthrift convert --from binary --to compact nesting.bin -o nesting.compact\n  \
        dynthrift inspect nesting.bin\n  \
        dynthrift get --idl baseline.thrift --type Nesting --path 'ListSimple[3].StringField' nesting.bin\n  \
        dynthrift validate --idl request.thrift --type Request request.bin"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Load an IDL file (and its includes), report errors, print the resolved types
    Check {
        /// The .thrift file
        idl: PathBuf,
        /// Extra directory to search for included files (repeatable)
        #[arg(short = 'I', long = "include")]
        include: Vec<PathBuf>,
    },
    /// Thrift bytes to JSON (one JSON document per line when there are several messages)
    Decode(DecodeArgs),
    /// JSON to Thrift bytes
    Encode(EncodeArgs),
    /// Re-encode Thrift bytes in the other protocol (no IDL needed)
    Convert(ConvertArgs),
    /// Show the structure of Thrift bytes without an IDL: field ids, wire types, offsets
    Inspect(InspectArgs),
    /// Print one value of a struct, found by its path, as JSON (the rest is skipped, not decoded)
    #[command(
        long_about = "Print one value of an encoded struct as JSON, found by its path; \
                      everything else in the bytes is skipped, not decoded.\n\n\
                      A path walks from the struct given by --type: `Name` or `.Name` is a field \
                      (or `5` / `.5` by id), `[3]` an element of a list or set (0-based), \
                      `[\"key\"]` the value of a map with string keys, `[42]` of a map with \
                      integer keys, `[ValueA]` of a map with enum keys. For example \
                      `ListSimple[3].StringField` or `MapStringSimple[\"3\"].I32Field`. The \
                      empty path is the whole struct.\n\n\
                      JSON as `decode` writes it with its default options (binary as base64, \
                      enums as numbers). A value that is not in the bytes (an absent field, an \
                      index past the end, a missing key) is an error.",
        after_help = "Example:\n  \
            dynthrift get --idl testdata/idl/frugal/tests/baseline.thrift --type Nesting \\\n      \
            --path 'MapStringSimple[\"3\"].I32Field' testdata/samples/nesting.bin"
    )]
    Get(GetArgs),
    /// Check Thrift bytes against the IDL's validation annotations (vt.min, vt.pattern, ...)
    #[command(
        long_about = "Check encoded structs against the validation rules written in the IDL as \
                      annotations, in the vocabulary of thrift-gen-validator: `vt.min`, `vt.max`, \
                      `vt.lt`, `vt.gt`, `vt.in`, `vt.not_in`, `vt.const`, `vt.min_size`, \
                      `vt.max_size`, `vt.pattern`, `vt.prefix`, `vt.suffix`, `vt.contains`, \
                      `vt.not_nil`, `vt.elem.*`, `vt.key.*`, `vt.value.*`, ...\n\n\
                      Prints `ok` and exits with status 0 when every rule holds; otherwise prints \
                      the first violation (which field, which rule, which value) on standard \
                      error and exits with status 1. Bytes that do not decode fail the same way. \
                      Annotations dynthrift does not support are an error, listed, unless \
                      --lenient (then they are warnings and ignored).",
        after_help = "Example:\n  \
            dynthrift validate --idl testdata/samples/request.thrift --type Request \\\n      \
            testdata/samples/request-bad.bin\n  \
            dynthrift: validation error at Request.Values[2]: vt.elem.gt 0.25 violated (value 0.1)"
    )]
    Validate(ValidateArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Proto {
    Binary,
    Compact,
}

impl From<Proto> for Protocol {
    fn from(p: Proto) -> Protocol {
        match p {
            Proto::Binary => Protocol::Binary,
            Proto::Compact => Protocol::Compact,
        }
    }
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["ty", "service"])))]
struct Schema {
    /// The .thrift file that declares the type
    #[arg(long)]
    idl: PathBuf,
    /// Extra directory to search for included files (repeatable)
    #[arg(short = 'I', long = "include")]
    include: Vec<PathBuf>,
    /// The struct, union or exception of a bare struct (`Name` or `file.Name`)
    #[arg(long = "type", value_name = "TYPE")]
    ty: Option<String>,
    /// The service whose messages these are: each message's method name selects its
    /// arguments (call, oneway) or result (reply) struct
    #[arg(long)]
    service: Option<String>,
}

#[derive(Args, Debug)]
struct Layout {
    /// Wire protocol
    #[arg(short, long, value_enum, default_value = "binary")]
    protocol: Proto,
    /// Each message or struct is prefixed by its 4-byte big-endian length; the input may hold
    /// many of them, one after the other
    #[arg(long)]
    framed: bool,
    /// The input is a message envelope (implied by --service)
    #[arg(long)]
    message: bool,
}

#[derive(Args, Debug)]
struct MappingArgs {
    /// Object keys are field ids instead of field names
    #[arg(long)]
    field_ids: bool,
    /// Write i64 values as strings (JavaScript cannot hold them all as numbers)
    #[arg(long)]
    i64_as_string: bool,
    /// Write enum values by name
    #[arg(long)]
    enum_names: bool,
    /// Skip JSON keys that name no field instead of failing
    #[arg(long)]
    ignore_unknown: bool,
}

impl MappingArgs {
    fn mapping(&self) -> Mapping {
        Mapping::default()
            .field_ids(self.field_ids)
            .i64_as_string(self.i64_as_string)
            .enum_names(self.enum_names)
            .ignore_unknown(self.ignore_unknown)
    }
}

#[derive(Args, Debug)]
struct DecodeArgs {
    #[command(flatten)]
    schema: Schema,
    #[command(flatten)]
    layout: Layout,
    #[command(flatten)]
    mapping: MappingArgs,
    /// Indent the JSON
    #[arg(long)]
    pretty: bool,
    /// Input file (standard input if absent or `-`)
    input: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct EncodeArgs {
    #[command(flatten)]
    schema: Schema,
    #[command(flatten)]
    layout: Layout,
    #[command(flatten)]
    mapping: MappingArgs,
    /// Output file (standard output if absent)
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// JSON input: one document, or with --framed one per line (standard input if absent or `-`).
    /// A message is `{"method": "...", "type": "call", "seqid": 1, "body": {...}}`
    input: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct ConvertArgs {
    /// Protocol of the input
    #[arg(long, value_enum)]
    from: Proto,
    /// Protocol of the output
    #[arg(long, value_enum)]
    to: Proto,
    /// Length-prefixed input and output (many frames allowed)
    #[arg(long)]
    framed: bool,
    /// The input is a message envelope (detected in Binary; needed for Compact)
    #[arg(long)]
    message: bool,
    /// Output file (standard output if absent)
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Input file (standard input if absent or `-`)
    input: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct InspectArgs {
    /// Wire protocol
    #[arg(short, long, value_enum, default_value = "binary")]
    protocol: Proto,
    /// Length-prefixed input (many frames allowed)
    #[arg(long)]
    framed: bool,
    /// Input file (standard input if absent or `-`)
    input: Option<PathBuf>,
}

/// The IDL and the struct type, for the commands that work on one struct type.
#[derive(Args, Debug)]
struct StructSchema {
    /// The .thrift file that declares the type
    #[arg(long)]
    idl: PathBuf,
    /// Extra directory to search for included files (repeatable)
    #[arg(short = 'I', long = "include")]
    include: Vec<PathBuf>,
    /// The struct, union or exception the bytes hold (`Name` or `file.Name`)
    #[arg(long = "type", value_name = "TYPE")]
    ty: String,
}

#[derive(Args, Debug)]
struct GetArgs {
    #[command(flatten)]
    schema: StructSchema,
    /// Where the value is, from the struct down: `Field`, `.Field`, `[index]`, `["key"]`
    #[arg(long)]
    path: String,
    /// Wire protocol
    #[arg(short, long, value_enum, default_value = "binary")]
    protocol: Proto,
    /// Indent the JSON
    #[arg(long)]
    pretty: bool,
    /// Input file (standard input if absent or `-`)
    input: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct ValidateArgs {
    #[command(flatten)]
    schema: StructSchema,
    /// Wire protocol
    #[arg(short, long, value_enum, default_value = "binary")]
    protocol: Proto,
    /// Each struct is prefixed by its 4-byte big-endian length; the input may hold many
    #[arg(long)]
    framed: bool,
    /// Ignore (with a warning) annotations that are not supported instead of failing
    #[arg(long)]
    lenient: bool,
    /// Input file (standard input if absent or `-`)
    input: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check { idl, include } => check(&idl, &include),
        Command::Decode(a) => decode(&a),
        Command::Encode(a) => encode(&a),
        Command::Convert(a) => convert(&a),
        Command::Inspect(a) => inspect::run(&a),
        Command::Get(a) => get(&a),
        Command::Validate(a) => validate(&a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = std::io::stdout().flush();
            eprintln!("dynthrift: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What the commands fail with: a library error, or a message of our own.
#[derive(Debug)]
enum CliError {
    Lib(Error),
    Msg(String),
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::Lib(e) => e.fmt(f),
            CliError::Msg(m) => f.write_str(m),
        }
    }
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        CliError::Lib(e)
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::Msg(e.to_string())
    }
}

type Result<T, E = CliError> = std::result::Result<T, E>;

fn msg(s: impl Into<String>) -> CliError {
    CliError::Msg(s.into())
}

fn load(idl: &std::path::Path, include: &[PathBuf]) -> Result<dynthrift::Schema> {
    let mut loader = dynthrift::idl::Loader::new();
    for dir in include {
        loader = loader.include_dir(dir);
    }
    Ok(loader.load_file(idl)?)
}

fn check(idl: &std::path::Path, include: &[PathBuf]) -> Result<()> {
    let schema = load(idl, include)?;
    // Planning checks what the parser does not (duplicate ids, default values).
    let types = DynSchema::new(schema)?;
    let s = types.schema();
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "// {}: {} file(s), {} struct(s)/union(s)/exception(s), {} enum(s), {} typedef(s), {} constant(s), {} service(s)",
        idl.display(),
        s.files.len(),
        s.structs.len(),
        s.enums.len(),
        s.typedefs.len(),
        s.consts.len(),
        s.services.len()
    )?;
    write!(out, "{s}")?;
    Ok(())
}

/// How each body is decoded/encoded: one type, or by method name through a service.
enum Target {
    Type(Transcoder),
    Service {
        types: Arc<DynSchema>,
        name: String,
        mapping: Mapping,
        cache: std::collections::HashMap<(String, bool), Transcoder>,
        exception: Transcoder,
    },
}

const APP_EXCEPTION_IDL: &str = "struct TApplicationException { 1: string message, 2: i32 type }";

impl Target {
    fn new(s: &Schema, mapping: Mapping) -> Result<Target> {
        let types = DynSchema::new(load(&s.idl, &s.include)?)?;
        if let Some(ty) = &s.ty {
            return Ok(Target::Type(Transcoder::new(&types, ty, mapping)?));
        }
        let name = s
            .service
            .clone()
            .ok_or_else(|| msg("give --type or --service"))?;
        if types.schema().service_id(&name).is_none() {
            return Err(msg(format!(
                "{}: no service named '{name}'",
                s.idl.display()
            )));
        }
        let app = DynSchema::new(dynthrift::idl::parse_str(APP_EXCEPTION_IDL)?)?;
        let exception = Transcoder::new(&app, "TApplicationException", mapping.clone())?;
        Ok(Target::Service {
            types,
            name,
            mapping,
            cache: Default::default(),
            exception,
        })
    }

    /// The transcoder of a message body.
    fn body(&mut self, method: &str, kind: TMessageType) -> Result<&Transcoder> {
        match self {
            Target::Type(t) => Ok(t),
            Target::Service {
                types,
                name,
                mapping,
                cache,
                exception,
            } => {
                if kind == TMessageType::Exception {
                    return Ok(exception);
                }
                let reply = kind == TMessageType::Reply;
                let key = (method.to_string(), reply);
                if !cache.contains_key(&key) {
                    let t = if reply {
                        Transcoder::for_result(types, name, method, mapping.clone())?
                    } else {
                        Transcoder::for_args(types, name, method, mapping.clone())?
                    };
                    cache.insert(key.clone(), t);
                }
                Ok(&cache[&key])
            }
        }
    }

    fn is_service(&self) -> bool {
        matches!(self, Target::Service { .. })
    }
}

fn kind_name(k: TMessageType) -> &'static str {
    match k {
        TMessageType::Call => "call",
        TMessageType::Reply => "reply",
        TMessageType::Exception => "exception",
        TMessageType::Oneway => "oneway",
    }
}

fn decode(a: &DecodeArgs) -> Result<()> {
    let mut target = Target::new(&a.schema, a.mapping.mapping())?;
    let protocol: Protocol = a.layout.protocol.into();
    let envelope = a.layout.message || target.is_service();
    let input = Input::read(a.input.as_deref())?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut json = Vec::new();
    let progress = Progress::new(input.bytes.len() as u64, a.layout.framed);
    for (n, unit) in input.units(a.layout.framed).enumerate() {
        let (base, bytes) = unit?;
        json.clear();
        decode_one(&mut target, bytes, protocol, envelope, &mut json)
            .map_err(|e| in_unit(e, a.layout.framed, n, base))?;
        if a.pretty {
            let text = String::from_utf8_lossy(&json);
            out.write_all(dynthrift::json::pretty(&text).as_bytes())?;
        } else {
            out.write_all(&json)?;
        }
        out.write_all(b"\n")?;
        progress.set((base + bytes.len()) as u64);
    }
    progress.finish();
    out.flush()?;
    Ok(())
}

/// Names the frame and shifts the offset to the whole input.
fn in_unit(e: CliError, framed: bool, n: usize, base: usize) -> CliError {
    match e {
        CliError::Lib(e) if framed => {
            let at = e.offset().map(|o| o + base);
            let mut text = e.to_string();
            if let (Some(o), Some(at)) = (e.offset(), at) {
                text = text.replace(
                    &format!("(offset {o})"),
                    &format!("(offset {at} in the input)"),
                );
            }
            msg(format!(
                "frame {n} (at offset {}): {text}",
                base.saturating_sub(4)
            ))
        }
        e => e,
    }
}

fn decode_one(
    target: &mut Target,
    bytes: &[u8],
    protocol: Protocol,
    envelope: bool,
    json: &mut Vec<u8>,
) -> Result<()> {
    if !envelope {
        let t = target.body("", TMessageType::Call)?;
        json.extend_from_slice(t.to_json(bytes, protocol)?.as_bytes());
        return Ok(());
    }
    let (name, kind, seqid, used) = match protocol {
        Protocol::Binary => header(BinaryReader::new(bytes))?,
        Protocol::Compact => header(CompactReader::new(bytes))?,
    };
    let t = target.body(&name, kind)?;
    json.extend_from_slice(b"{\"method\":");
    json.extend_from_slice(serde_json::to_string(&name).unwrap_or_default().as_bytes());
    json.extend_from_slice(
        format!(
            ",\"type\":\"{}\",\"seqid\":{seqid},\"body\":",
            kind_name(kind)
        )
        .as_bytes(),
    );
    let body = &bytes[used..];
    let text = t
        .to_json(body, protocol)
        .map_err(|e| e.shift_offset(used))?;
    json.extend_from_slice(text.as_bytes());
    json.push(b'}');
    Ok(())
}

fn header<'a, R: ProtoRead<'a>>(mut r: R) -> Result<(String, TMessageType, i32, usize)> {
    let h = r.read_message_begin()?;
    Ok((h.name.to_string(), h.kind, h.seqid, r.position()))
}

fn encode(a: &EncodeArgs) -> Result<()> {
    let mut target = Target::new(&a.schema, a.mapping.mapping())?;
    let protocol: Protocol = a.layout.protocol.into();
    let envelope = a.layout.message || target.is_service();
    let input = Input::read(a.input.as_deref())?;
    let text = std::str::from_utf8(&input.bytes).map_err(|e| {
        msg(format!(
            "the input is not UTF-8 (offset {})",
            e.valid_up_to()
        ))
    })?;
    let docs: Vec<(usize, &str)> = if a.layout.framed {
        let mut at = 0;
        text.split_inclusive('\n')
            .filter_map(|line| {
                let start = at;
                at += line.len();
                (!line.trim().is_empty()).then_some((start, line))
            })
            .collect()
    } else {
        vec![(0, text)]
    };
    let mut out = Vec::new();
    for (line, (start, doc)) in docs.into_iter().enumerate() {
        let frame_at = out.len();
        if a.layout.framed {
            out.extend_from_slice(&[0; 4]);
        }
        encode_one(&mut target, doc, protocol, envelope, &mut out).map_err(|e| match e {
            CliError::Lib(e) if a.layout.framed => {
                let shifted = e.offset().map(|o| o + start);
                let mut t = e.to_string();
                if let (Some(o), Some(s)) = (e.offset(), shifted) {
                    t = t.replace(
                        &format!("(offset {o})"),
                        &format!("(offset {s} in the input)"),
                    );
                }
                msg(format!("line {}: {t}", line + 1))
            }
            e => e,
        })?;
        if a.layout.framed {
            let n = u32::try_from(out.len() - frame_at - 4).map_err(|_| msg("frame too large"))?;
            out[frame_at..frame_at + 4].copy_from_slice(&n.to_be_bytes());
        }
    }
    io::write_output(a.output.as_deref(), &out)
}

fn encode_one(
    target: &mut Target,
    doc: &str,
    protocol: Protocol,
    envelope: bool,
    out: &mut Vec<u8>,
) -> Result<()> {
    if !envelope {
        let t = target.body("", TMessageType::Call)?;
        t.from_json_into(doc, protocol, out)?;
        return Ok(());
    }
    // The envelope is small: read it with serde_json, then transcode the body text directly.
    #[derive(serde::Deserialize)]
    struct Envelope<'a> {
        method: String,
        #[serde(rename = "type")]
        kind: String,
        #[serde(default)]
        seqid: i32,
        #[serde(borrow)]
        body: &'a serde_json::value::RawValue,
    }
    let env: Envelope<'_> = serde_json::from_str(doc).map_err(|e| {
        msg(format!(
            "expected a message {{\"method\": ..., \"type\": \"call\", \"seqid\": ..., \"body\": {{...}}}}: {e}"
        ))
    })?;
    let kind = match env.kind.as_str() {
        "call" => TMessageType::Call,
        "reply" => TMessageType::Reply,
        "exception" => TMessageType::Exception,
        "oneway" => TMessageType::Oneway,
        k => {
            return Err(msg(format!(
                "unknown message type '{k}' (call, reply, exception, oneway)"
            )));
        }
    };
    match protocol {
        Protocol::Binary => {
            BinaryWriter::new(out).write_message_begin(&env.method, kind, env.seqid)?
        }
        Protocol::Compact => {
            CompactWriter::new(out).write_message_begin(&env.method, kind, env.seqid)?
        }
    }
    let t = target.body(&env.method, kind)?;
    t.from_json_into(env.body.get(), protocol, out)?;
    Ok(())
}

fn convert(a: &ConvertArgs) -> Result<()> {
    let input = Input::read(a.input.as_deref())?;
    let (from, to): (Protocol, Protocol) = (a.from.into(), a.to.into());
    let mut out = Vec::with_capacity(input.bytes.len());
    let progress = Progress::new(input.bytes.len() as u64, a.framed);
    for (n, unit) in input.units(a.framed).enumerate() {
        let (base, bytes) = unit?;
        let frame_at = out.len();
        if a.framed {
            out.extend_from_slice(&[0; 4]);
        }
        // Binary envelopes are recognised by their version word; Compact ones need --message
        // (a Compact struct can start with the same bytes).
        let envelope =
            a.message || (from == Protocol::Binary && inspect::looks_like_message(bytes, from));
        let r = match from {
            Protocol::Binary => convert_one(BinaryReader::new(bytes), to, envelope, &mut out),
            Protocol::Compact => convert_one(CompactReader::new(bytes), to, envelope, &mut out),
        };
        let used = r.map_err(|e| in_unit(e.into(), a.framed, n, base))?;
        if used != bytes.len() {
            return Err(in_unit(
                Error::decode(
                    dynthrift::ErrorKind::InvalidData,
                    used,
                    format!("{} bytes after the end of the struct", bytes.len() - used),
                )
                .into(),
                a.framed,
                n,
                base,
            ));
        }
        if a.framed {
            let len =
                u32::try_from(out.len() - frame_at - 4).map_err(|_| msg("frame too large"))?;
            out[frame_at..frame_at + 4].copy_from_slice(&len.to_be_bytes());
        }
        progress.set((base + bytes.len()) as u64);
    }
    progress.finish();
    io::write_output(a.output.as_deref(), &out)
}

fn convert_one<'a, R: ProtoRead<'a>>(
    mut r: R,
    to: Protocol,
    envelope: bool,
    out: &mut Vec<u8>,
) -> std::result::Result<usize, Error> {
    fn go<'a, R: ProtoRead<'a>, W: ProtoWrite>(
        r: &mut R,
        w: &mut W,
        envelope: bool,
    ) -> dynthrift::Result<()> {
        if envelope {
            let h = r.read_message_begin()?;
            w.write_message_begin(h.name, h.kind, h.seqid)?;
        }
        dynthrift::wire::transcode(r, w, TType::Struct, 64)
    }
    match to {
        Protocol::Binary => go(&mut r, &mut BinaryWriter::new(out), envelope)?,
        Protocol::Compact => go(&mut r, &mut CompactWriter::new(out), envelope)?,
    }
    Ok(r.position())
}

fn get(a: &GetArgs) -> Result<()> {
    let types = DynSchema::new(load(&a.schema.idl, &a.schema.include)?)?;
    let path = dynthrift::path::Path::compile(&types, &a.schema.ty, &a.path)?;
    let input = Input::read(a.input.as_deref())?;
    let value = path
        .get(&input.bytes, a.protocol.into())?
        .ok_or_else(|| {
            msg(format!(
                "no value at '{}' in the input (an absent field, an index past the end or a missing key)",
                a.path
            ))
        })?;
    let text = serde_json::to_string(&value).map_err(|e| msg(format!("as JSON: {e}")))?;
    let mut out = std::io::stdout().lock();
    if a.pretty {
        writeln!(out, "{}", dynthrift::json::pretty(&text))?;
    } else {
        writeln!(out, "{text}")?;
    }
    Ok(())
}

fn validate(a: &ValidateArgs) -> Result<()> {
    use dynthrift::validate::Validator;
    let schema = load(&a.schema.idl, &a.schema.include)?;
    let validator = if a.lenient {
        let v = Validator::lenient(&schema);
        for w in v.warnings() {
            eprintln!("dynthrift: warning: {w}");
        }
        v
    } else {
        Validator::new(&schema)?
    };
    let types = DynSchema::new(schema)?;
    types.schema().expect_struct(&a.schema.ty)?;
    let input = Input::read(a.input.as_deref())?;
    let protocol: Protocol = a.protocol.into();
    let progress = Progress::new(input.bytes.len() as u64, a.framed);
    let mut count = 0;
    for (n, unit) in input.units(a.framed).enumerate() {
        let (base, bytes) = unit?;
        // Decoded in full first: the bytes must be a well-formed struct of the type (required
        // fields, UTF-8, nothing after it), not only satisfy the rules.
        DynStruct::decode(&types, &a.schema.ty, bytes, protocol)
            .and_then(|v| validator.check(&v))
            .map_err(|e| in_unit(e.into(), a.framed, n, base))?;
        count += 1;
        progress.set((base + bytes.len()) as u64);
    }
    progress.finish();
    if a.framed {
        println!("ok: {count} frame(s) valid");
    } else {
        println!("ok");
    }
    Ok(())
}
