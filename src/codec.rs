//! `Codec<T>`: the typed handle users hold, and the one-line `encode`/`decode`.

use std::marker::PhantomData;

use bytes::{Bytes, BytesMut};
use dynthrift_core::desc::Describe;
use dynthrift_core::wire::binary::{BinaryReader, BinarySizer, BinaryWriter};
use dynthrift_core::wire::compact::{CompactReader, CompactSizer, CompactWriter};
use dynthrift_core::wire::{MessageHeader, ProtoRead, ProtoWrite, Protocol};
use dynthrift_core::{Error, ErrorKind, Result, TMessageType};
use dynthrift_interp::{Limits, TypedPlan};

/// Which backend runs a codec.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Backend {
    /// The JIT where it can compile the type, the interpreter otherwise.
    #[default]
    Auto,
    /// Always the interpreter.
    Interpreter,
}

/// Spare bytes that [`Codec::encode`] and [`Codec::encode_into`] (and `DynCodec`'s) reserve
/// beyond a value's exact size when compiled code writes it: compiled writers check for room
/// for a value's longest form (a Compact header and a ten-byte varint, say) before writing it,
/// so with only the exact size reserved the last fields would grow (reallocate and copy) the
/// whole buffer. Reserve `encoded_len + WRITE_SLACK` before [`Codec::write`] for the same
/// guarantee. Zero without the `jit` feature.
#[cfg(feature = "jit")]
pub const WRITE_SLACK: usize = dynthrift_jit::WRITE_SLACK;
/// Spare bytes reserved beyond a value's exact size (none without the `jit` feature).
#[cfg(not(feature = "jit"))]
pub const WRITE_SLACK: usize = 0;

/// What a codec actually runs (see [`Codec::backend`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BackendInfo {
    /// Compiled code for the codec's protocol (Binary or Compact): encoder, sizer and decoder
    /// of every struct the type reaches (derived types, and IDL-only records through
    /// [`crate::DynCodec`]), compiled on first use or by `pretouch`. Containers and strings are
    /// handled by runtime helpers that call back into compiled code for their struct and
    /// record elements. `skip` is compiled too, on its first call (unknown fields and nested
    /// containers skipped by the generic protocol skip); [`Codec::skip_backend`] tells.
    Jit,
    /// The interpreter, and why.
    Interpreter(String),
}

/// How a codec reads and writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Options {
    pub protocol: Protocol,
    /// The JIT where possible (default), or always the interpreter. The environment variable
    /// `DYNTHRIFT_JIT=off` forces the interpreter too.
    pub backend: Backend,
    pub limits: Limits,
    /// Accept bytes after the struct in `decode` (they are an error by default).
    pub allow_trailing: bool,
    /// Write Binary message headers in the old non-strict form (reading accepts both).
    pub binary_non_strict: bool,
}

impl Options {
    pub fn binary() -> Options {
        Options::default()
    }

    pub fn compact() -> Options {
        Options {
            protocol: Protocol::Compact,
            ..Options::default()
        }
    }

    pub fn backend(mut self, backend: Backend) -> Options {
        self.backend = backend;
        self
    }

    pub fn protocol(mut self, protocol: Protocol) -> Options {
        self.protocol = protocol;
        self
    }

    /// Maximum nesting of structs and containers, on decode and encode (default 64).
    pub fn max_depth(mut self, depth: u32) -> Options {
        self.limits.depth = depth;
        self
    }

    /// Maximum element count of one container on decode.
    pub fn max_container_len(mut self, n: usize) -> Options {
        self.limits.max_container_len = n;
        self
    }

    /// Maximum length of one string or binary on decode.
    pub fn max_string_len(mut self, n: usize) -> Options {
        self.limits.max_string_len = n;
        self
    }

    pub fn binary_non_strict(mut self, on: bool) -> Options {
        self.binary_non_strict = on;
        self
    }

    pub fn allow_trailing(mut self, allow: bool) -> Options {
        self.allow_trailing = allow;
        self
    }
}

/// Encodes and decodes `T`. Built once (the plan is cached process-wide per type), cheap to
/// clone, `Send + Sync`.
pub struct Codec<T> {
    plan: TypedPlan<T>,
    options: Options,
    /// The compiled code, or why the interpreter runs: decided on first use (or by
    /// [`Codec::pretouch`]), shared by clones made after that.
    #[cfg(feature = "jit")]
    jit: std::sync::OnceLock<std::result::Result<dynthrift_jit::TypedJit<T>, String>>,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for Codec<T> {
    fn clone(&self) -> Self {
        Codec {
            plan: self.plan.clone(),
            options: self.options,
            #[cfg(feature = "jit")]
            jit: self.jit.clone(),
            _t: PhantomData,
        }
    }
}

#[cfg(feature = "jit")]
/// Whether `DYNTHRIFT_JIT` turns the JIT off (`off`, `0`, `false`, `no`). Read once, when the
/// first codec is made.
pub(crate) fn jit_disabled_by_env() -> bool {
    static OFF: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *OFF.get_or_init(|| {
        std::env::var("DYNTHRIFT_JIT").is_ok_and(|v| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "off" | "0" | "false" | "no"
            )
        })
    })
}

impl<T> std::fmt::Debug for Codec<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Codec")
            .field("plan", &self.plan)
            .field("options", &self.options)
            .finish()
    }
}

impl<T: Describe> Codec<T> {
    /// A Binary-protocol codec.
    pub fn new() -> Result<Codec<T>> {
        Codec::with_options(Options::default())
    }

    /// A codec with `options`. Cheap: with the JIT, `T` is compiled on first use (or by
    /// [`Codec::pretouch`]), once per process.
    pub fn with_options(options: Options) -> Result<Codec<T>> {
        let plan = TypedPlan::get()?;
        Ok(Codec {
            plan,
            options,
            #[cfg(feature = "jit")]
            jit: std::sync::OnceLock::new(),
            _t: PhantomData,
        })
    }

    /// Why the interpreter runs rather than compiled code, decided without compiling.
    #[cfg(feature = "jit")]
    fn ruled_out(options: &Options) -> Option<String> {
        if options.backend == Backend::Interpreter {
            return Some("the interpreter was chosen in the options".into());
        }
        if jit_disabled_by_env() {
            return Some("DYNTHRIFT_JIT=off".into());
        }
        None
    }

    /// The compiled code, compiling `T` (and all it reaches) on the first call; `None` when
    /// the interpreter runs.
    #[cfg(feature = "jit")]
    #[inline]
    fn jit(&self) -> Option<&dynthrift_jit::TypedJit<T>> {
        self.jit
            .get_or_init(|| match Self::ruled_out(&self.options) {
                Some(reason) => Err(reason),
                None => dynthrift_jit::TypedJit::get(&self.plan, self.options.protocol),
            })
            .as_ref()
            .ok()
    }

    /// Compiles `T` and every type it reaches now, rather than on first use, and returns the
    /// backend the codec runs (with the reason when it is the interpreter). Compiled code is
    /// shared process-wide: one `pretouch` serves every codec of `T`.
    pub fn pretouch(&self) -> BackendInfo {
        self.backend()
    }

    /// Whether decode runs compiled code (compiles on first call, see
    /// [`Codec::pretouch`]).
    pub fn decodes_compiled(&self) -> bool {
        #[cfg(feature = "jit")]
        if let Some(jit) = self.jit() {
            return jit.decodes();
        }
        false
    }

    /// Which backend this codec runs, and why not the JIT when it is the interpreter
    /// (compiles on first call, see [`Codec::pretouch`]).
    pub fn backend(&self) -> BackendInfo {
        #[cfg(feature = "jit")]
        {
            self.jit();
            match self.jit.get() {
                Some(Ok(_)) => BackendInfo::Jit,
                Some(Err(reason)) => BackendInfo::Interpreter(reason.clone()),
                None => BackendInfo::Interpreter("not selected".into()),
            }
        }
        #[cfg(not(feature = "jit"))]
        BackendInfo::Interpreter(if self.options.backend == Backend::Interpreter {
            "the interpreter was chosen in the options".into()
        } else {
            "built without the `jit` feature".into()
        })
    }

    /// Which backend [`Codec::skip`] runs, and why not the JIT when it is the generic skip.
    /// The skip code is compiled on the first `skip` (or by this call), apart from the rest.
    pub fn skip_backend(&self) -> BackendInfo {
        #[cfg(feature = "jit")]
        if let Some(jit) = self.jit() {
            return match jit.skip_status() {
                Ok(()) => BackendInfo::Jit,
                Err(reason) => BackendInfo::Interpreter(reason),
            };
        }
        self.backend()
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The encoding of `v` in a new buffer of the right size (one allocation).
    pub fn encode(&self, v: &T) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(self.room(self.encoded_len(v)?));
        self.write(v, &mut out)?;
        Ok(out)
    }

    /// Appends the encoding of `v` to `out`, reserving its size first (the buffer does not
    /// grow while it is written).
    pub fn encode_into(&self, v: &T, out: &mut Vec<u8>) -> Result<()> {
        out.reserve(self.room(self.encoded_len(v)?));
        self.write(v, out)
    }

    /// What to reserve for writing `len` bytes: compiled writers want a few spare bytes (see
    /// [`crate::WRITE_SLACK`]), the interpreter none.
    fn room(&self, len: usize) -> usize {
        #[cfg(feature = "jit")]
        if self.jit().is_some() {
            return len + crate::WRITE_SLACK;
        }
        len
    }

    /// Appends the encoding of `v` to `out` without computing its size first (`out` grows as
    /// needed; [`Codec::encode_into`] reserves the room first).
    pub fn write(&self, v: &T, out: &mut Vec<u8>) -> Result<()> {
        #[cfg(feature = "jit")]
        if let Some(jit) = self.jit() {
            return jit.encode(v, out, self.options.limits.depth);
        }
        let start = out.len();
        let r = match self.options.protocol {
            Protocol::Binary => {
                self.plan
                    .encode(v, &mut BinaryWriter::new(out), &self.options.limits)
            }
            Protocol::Compact => {
                self.plan
                    .encode(v, &mut CompactWriter::new(out), &self.options.limits)
            }
        };
        if r.is_err() {
            out.truncate(start);
        }
        r
    }

    /// Appends the encoding of `v` to a `BytesMut`. The value is encoded into a buffer the
    /// thread keeps (up to 1 MiB), then copied: after a thread's first call, `out` grows at
    /// most once and, for encodings up to 1 MiB, nothing else is allocated. On error `out`
    /// keeps what it had.
    pub fn encode_to_bytes_mut(&self, v: &T, out: &mut BytesMut) -> Result<()> {
        crate::scratch::with(|buf| {
            self.encode_into(v, buf)?;
            out.extend_from_slice(buf);
            Ok(())
        })
    }

    /// Exactly `encode(v)?.len()`, without writing.
    pub fn encoded_len(&self, v: &T) -> Result<usize> {
        #[cfg(feature = "jit")]
        if let Some(jit) = self.jit() {
            return jit.encoded_len(v, self.options.limits.depth);
        }
        match self.options.protocol {
            Protocol::Binary => {
                let mut s = BinarySizer::new();
                self.plan.encode(v, &mut s, &self.options.limits)?;
                Ok(s.len)
            }
            Protocol::Compact => {
                let mut s = CompactSizer::new();
                self.plan.encode(v, &mut s, &self.options.limits)?;
                Ok(s.len)
            }
        }
    }

    /// Decodes one `T` that fills `bytes`.
    pub fn decode(&self, bytes: &[u8]) -> Result<T> {
        // Built in place (no intermediate tuple: one move of `T` fewer).
        let mut v = T::empty();
        let used = self.run_any(&mut v, bytes, None)?;
        self.check_trailing(bytes, used)?;
        Ok(v)
    }

    /// Decodes one `T` from `Bytes`; `Bytes` and `FastStr` fields share its memory.
    pub fn decode_bytes(&self, bytes: &Bytes) -> Result<T> {
        let mut v = T::empty();
        let used = self.run_any(&mut v, bytes, Some(bytes))?;
        self.check_trailing(bytes, used)?;
        Ok(v)
    }

    /// Decodes one `T` at the start of `bytes`; returns it and the number of bytes it took.
    pub fn decode_prefix(&self, bytes: &[u8]) -> Result<(T, usize)> {
        self.decode_from(bytes, None)
    }

    /// Decodes into an existing value: fields on the wire replace its fields, others stay.
    pub fn decode_into(&self, bytes: &[u8], v: &mut T) -> Result<usize> {
        self.run_any(v, bytes, None)
    }

    /// Decode: compiled code when there is, the interpreter otherwise.
    #[inline]
    fn run_any(&self, v: &mut T, bytes: &[u8], source: Option<&Bytes>) -> Result<usize> {
        #[cfg(feature = "jit")]
        if let Some(jit) = self.jit()
            && let Some(r) = jit.decode_into(v, bytes, source, &self.options.limits)
        {
            return r;
        }
        match self.options.protocol {
            Protocol::Binary => self.run(v, BinaryReader::new(bytes), bytes, source),
            Protocol::Compact => self.run(v, CompactReader::new(bytes), bytes, source),
        }
    }

    fn decode_from(&self, bytes: &[u8], source: Option<&Bytes>) -> Result<(T, usize)> {
        let mut v = T::empty();
        let used = self.run_any(&mut v, bytes, source)?;
        Ok((v, used))
    }

    #[inline]
    fn run<'a, R: ProtoRead<'a>>(
        &self,
        v: &mut T,
        mut r: R,
        input: &'a [u8],
        source: Option<&'a Bytes>,
    ) -> Result<usize> {
        self.plan
            .decode_into(v, &mut r, input, source, &self.options.limits)?;
        Ok(r.position())
    }

    fn check_trailing(&self, bytes: &[u8], used: usize) -> Result<()> {
        if used != bytes.len() && !self.options.allow_trailing {
            return Err(Error::decode(
                ErrorKind::InvalidData,
                used,
                format!("{} bytes after the end of the struct", bytes.len() - used),
            ));
        }
        Ok(())
    }

    /// Appends a whole message: envelope header `(name, kind, seqid)`, then `v`.
    pub fn encode_message(
        &self,
        name: &str,
        kind: TMessageType,
        seqid: i32,
        v: &T,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        let start = out.len();
        let r = match self.options.protocol {
            Protocol::Binary => {
                let mut w = if self.options.binary_non_strict {
                    BinaryWriter::new_non_strict(out)
                } else {
                    BinaryWriter::new(out)
                };
                w.write_message_begin(name, kind, seqid)
                    .and_then(|()| self.plan.encode(v, &mut w, &self.options.limits))
            }
            Protocol::Compact => {
                let mut w = CompactWriter::new(out);
                w.write_message_begin(name, kind, seqid)
                    .and_then(|()| self.plan.encode(v, &mut w, &self.options.limits))
            }
        };
        if r.is_err() {
            out.truncate(start);
        }
        r
    }

    /// Decodes a whole message: its header and the `T` after it (which must fill the rest).
    pub fn decode_message<'a>(&self, bytes: &'a [u8]) -> Result<(MessageHeader<'a>, T)> {
        let (header, at) = read_message_header(bytes, self.options.protocol)?;
        let body = &bytes[at..];
        let v = self.decode(body).map_err(|e| e.shift_offset(at))?;
        Ok((header, v))
    }

    /// Compares `T` with the IDL struct named `name`: field ids, wire types (all the way
    /// down), requiredness, enum values. Returns every difference; empty when they agree.
    pub fn check_against(
        &self,
        schema: &dynthrift_core::Schema,
        name: &str,
    ) -> Result<Vec<dynthrift_interp::Mismatch>> {
        let id = schema.expect_struct(name)?;
        Ok(dynthrift_interp::check::check(
            self.plan.plan(),
            0,
            schema,
            id,
        ))
    }

    /// The length of the struct at the start of `bytes`, without decoding it.
    /// With the JIT, `T`'s compiled skip runs: it accepts the same bytes (any struct) and
    /// returns the same length or error as [`skip_struct`].
    pub fn skip(&self, bytes: &[u8]) -> Result<usize> {
        #[cfg(feature = "jit")]
        if let Some(jit) = self.jit()
            && let Some(r) = jit.skip(bytes, self.options.limits.depth)
        {
            return r;
        }
        skip_struct(bytes, &self.options)
    }
}

/// The length of the struct at the start of `bytes` (any struct), without decoding it.
pub fn skip_struct(bytes: &[u8], options: &Options) -> Result<usize> {
    fn go<'a, R: ProtoRead<'a>>(mut r: R, depth: u32) -> Result<usize> {
        r.skip(dynthrift_core::TType::Struct, depth)?;
        Ok(r.position())
    }
    match options.protocol {
        Protocol::Binary => go(BinaryReader::new(bytes), options.limits.depth),
        Protocol::Compact => go(CompactReader::new(bytes), options.limits.depth),
    }
}

/// Reads a message header; returns it and where the payload starts.
pub fn read_message_header(bytes: &[u8], protocol: Protocol) -> Result<(MessageHeader<'_>, usize)> {
    fn go<'a, R: ProtoRead<'a>>(mut r: R) -> Result<(MessageHeader<'a>, usize)> {
        let h = r.read_message_begin()?;
        Ok((h, r.position()))
    }
    match protocol {
        Protocol::Binary => go(BinaryReader::new(bytes)),
        Protocol::Compact => go(CompactReader::new(bytes)),
    }
}

/// Encodes `v` with the Binary protocol.
pub fn encode<T: Describe>(v: &T) -> Result<Vec<u8>> {
    Codec::<T>::new()?.encode(v)
}

/// Decodes a `T` from Binary-protocol bytes.
pub fn decode<T: Describe>(bytes: &[u8]) -> Result<T> {
    Codec::<T>::new()?.decode(bytes)
}

/// Encodes `v` with the Compact protocol.
pub fn encode_compact<T: Describe>(v: &T) -> Result<Vec<u8>> {
    Codec::<T>::with_options(Options::compact())?.encode(v)
}

/// Decodes a `T` from Compact-protocol bytes.
pub fn decode_compact<T: Describe>(bytes: &[u8]) -> Result<T> {
    Codec::<T>::with_options(Options::compact())?.decode(bytes)
}
