//! `DynCodec`: the handle for IDL-only values ([`DynStruct`]) of one struct of a schema, with
//! the same options and backend selection as [`crate::Codec`].

use std::sync::Arc;

use dynthrift_core::schema::StructId;
use dynthrift_core::{Error, ErrorKind, Result};
use dynthrift_interp::{DynSchema, DynStruct};

use crate::codec::{Backend, BackendInfo, Options, skip_struct};

/// Encodes and decodes IDL-only values of one struct of a [`DynSchema`]. Cheap to clone,
/// `Send + Sync`. With the JIT (Binary or Compact), the struct and every struct it reaches
/// are compiled on first use, once, and shared by every codec of those structs (a codec of a
/// struct already compiled with another reuses that code); the rest of the schema is not
/// compiled.
#[derive(Clone, Debug)]
pub struct DynCodec {
    types: Arc<DynSchema>,
    id: StructId,
    options: Options,
    /// The compiled code of the schema, or why the interpreter runs: decided on first use
    /// (or by [`DynCodec::pretouch`]).
    #[cfg(feature = "jit")]
    jit: std::sync::OnceLock<std::result::Result<Arc<dynthrift_jit::DynJit>, String>>,
}

impl DynCodec {
    /// A codec for the struct named `name` (`Name` or `file.Name`) of `types`.
    pub fn new(types: &Arc<DynSchema>, name: &str, options: Options) -> Result<DynCodec> {
        let id = types.schema().expect_struct(name)?;
        Ok(DynCodec {
            types: types.clone(),
            id,
            options,
            #[cfg(feature = "jit")]
            jit: std::sync::OnceLock::new(),
        })
    }

    /// The compiled code (compiling it on the first call); `None` when the
    /// interpreter runs.
    #[cfg(feature = "jit")]
    #[inline]
    fn jit(&self) -> Option<&Arc<dynthrift_jit::DynJit>> {
        self.jit
            .get_or_init(|| Self::select(&self.types, self.id, &self.options))
            .as_ref()
            .ok()
    }

    /// Compiles the struct and everything it reaches now rather than on first use, and
    /// returns the backend this codec runs, with the reason when it is the interpreter. The
    /// code is shared by every codec of the structs it holds.
    pub fn pretouch(&self) -> BackendInfo {
        self.backend()
    }

    #[cfg(feature = "jit")]
    fn select(
        types: &Arc<DynSchema>,
        id: StructId,
        options: &Options,
    ) -> std::result::Result<Arc<dynthrift_jit::DynJit>, String> {
        if options.backend == Backend::Interpreter {
            return Err("the interpreter was chosen in the options".into());
        }
        if crate::codec::jit_disabled_by_env() {
            return Err("DYNTHRIFT_JIT=off".into());
        }
        let si = id.0 as usize;
        let s = &types.plan().structs[si];
        let jit = dynthrift_jit::DynJit::get(types, si, options.protocol)?;
        if !jit.compiles(si) {
            return Err(format!("'{}' is not compiled", s.name));
        }
        Ok(jit)
    }

    /// Which backend this codec runs, and why not the JIT when it is the interpreter.
    /// Compiles on the first call (see [`DynCodec::pretouch`]).
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

    /// Which backend [`DynCodec::skip`] runs, and why not the JIT when it is the generic
    /// skip. The skip code is compiled on the first `skip` (or by this call), apart from the
    /// rest.
    pub fn skip_backend(&self) -> BackendInfo {
        #[cfg(feature = "jit")]
        if let Some(jit) = self.jit() {
            return match jit.skip_status(self.id.0 as usize) {
                Ok(()) => BackendInfo::Jit,
                Err(reason) => BackendInfo::Interpreter(reason),
            };
        }
        self.backend()
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    pub fn types(&self) -> &Arc<DynSchema> {
        &self.types
    }

    /// The struct this codec reads and writes.
    pub fn struct_id(&self) -> StructId {
        self.id
    }

    /// A new value of this codec's struct, fields at their defaults.
    pub fn new_value(&self) -> Result<DynStruct> {
        DynStruct::new_by_id(&self.types, self.id)
    }

    fn check_value(&self, v: &DynStruct) -> Result<()> {
        if !Arc::ptr_eq(v.types(), &self.types) || v.struct_id() != self.id {
            return Err(Error::schema(format!(
                "this codec is for '{}' of its own schema, the value is a '{}'",
                self.types.plan().structs[self.id.0 as usize].name,
                v.name()
            )));
        }
        Ok(())
    }

    /// The encoding of `v` in a new buffer of the right size (one allocation).
    pub fn encode(&self, v: &DynStruct) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(self.room(self.encoded_len(v)?));
        self.write(v, &mut out)?;
        Ok(out)
    }

    /// Appends the encoding of `v` to `out`, reserving its size first (the buffer does not
    /// grow while it is written).
    pub fn encode_into(&self, v: &DynStruct, out: &mut Vec<u8>) -> Result<()> {
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
    /// needed; [`DynCodec::encode_into`] reserves the room first); on error `out` is left as
    /// it was.
    pub fn write(&self, v: &DynStruct, out: &mut Vec<u8>) -> Result<()> {
        self.check_value(v)?;
        #[cfg(feature = "jit")]
        if let Some(jit) = self.jit() {
            return jit.encode(v, out, self.options.limits.depth);
        }
        let start = out.len();
        let r = v.encode_into(out, self.options.protocol, &self.options.limits);
        if r.is_err() {
            out.truncate(start);
        }
        r
    }

    /// Exactly `encode(v)?.len()`, without writing.
    pub fn encoded_len(&self, v: &DynStruct) -> Result<usize> {
        self.check_value(v)?;
        #[cfg(feature = "jit")]
        if let Some(jit) = self.jit() {
            return jit.encoded_len(v, self.options.limits.depth);
        }
        v.encoded_len_with(self.options.protocol, &self.options.limits)
    }

    /// Decodes one value that fills `bytes` (trailing bytes are an error unless the options
    /// allow them).
    pub fn decode(&self, bytes: &[u8]) -> Result<DynStruct> {
        let (v, used) = self.decode_prefix(bytes)?;
        if used != bytes.len() && !self.options.allow_trailing {
            return Err(Error::decode(
                ErrorKind::InvalidData,
                used,
                format!("{} bytes after the end of the struct", bytes.len() - used),
            ));
        }
        Ok(v)
    }

    /// Decodes one value at the start of `bytes`; returns it and the number of bytes it took.
    pub fn decode_prefix(&self, bytes: &[u8]) -> Result<(DynStruct, usize)> {
        let mut v = self.new_value()?;
        let used = self.decode_into(bytes, &mut v)?;
        Ok((v, used))
    }

    /// Decodes into an existing value of this codec's struct: fields on the wire replace its
    /// fields, others stay. Returns the number of bytes used.
    pub fn decode_into(&self, bytes: &[u8], v: &mut DynStruct) -> Result<usize> {
        self.check_value(v)?;
        #[cfg(feature = "jit")]
        if let Some(jit) = self.jit() {
            return jit.decode_into(v, bytes, None, &self.options.limits);
        }
        v.decode_in(bytes, None, self.options.protocol, &self.options.limits)
    }

    /// The length of the struct at the start of `bytes`, without decoding it.
    /// With the JIT, the struct's compiled skip runs: it accepts the same bytes (any struct)
    /// and returns the same length or error as [`crate::skip_struct`].
    pub fn skip(&self, bytes: &[u8]) -> Result<usize> {
        #[cfg(feature = "jit")]
        if let Some(jit) = self.jit()
            && let Some(r) = jit.skip(self.id.0 as usize, bytes, self.options.limits.depth)
        {
            return r;
        }
        skip_struct(bytes, &self.options)
    }
}
