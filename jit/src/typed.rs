//! The safe face of the JIT for derived types: compiled once per type, cached process-wide.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use dynthrift_core::Result;
use dynthrift_core::desc::Describe;
use dynthrift_interp::TypedPlan;

use crate::engine::{JitDecoder, JitEncoder};

/// Compiled code for `T`.
pub struct TypedJit<T> {
    enc: Arc<JitEncoder>,
    dec: Option<Arc<JitDecoder>>,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for TypedJit<T> {
    fn clone(&self) -> Self {
        TypedJit {
            enc: self.enc.clone(),
            dec: self.dec.clone(),
            _t: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for TypedJit<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.enc.fmt(f)
    }
}

/// Per plan: the encoder (or why none) and the decoder (if it compiled).
type Entry = std::result::Result<(Arc<JitEncoder>, Option<Arc<JitDecoder>>), String>;
type Cache = Mutex<HashMap<usize, Entry>>;

fn cache() -> &'static Cache {
    static CACHE: std::sync::OnceLock<Cache> = std::sync::OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

impl<T: Describe> TypedJit<T> {
    /// `T`'s compiled code (compiled on first use, once per process, even when many threads
    /// ask at once), or why there is none.
    pub fn get(plan: &TypedPlan<T>) -> std::result::Result<TypedJit<T>, String> {
        // Plans of derived types live for the whole process, so their address is a key.
        let key = Arc::as_ptr(plan.plan()) as usize;
        let mut map = cache()
            .lock()
            .map_err(|_| "JIT cache poisoned".to_string())?;
        let entry = map.entry(key).or_insert_with(|| {
            let enc = JitEncoder::compile(plan.plan().clone()).map(Arc::new)?;
            let dec = JitDecoder::compile(plan.plan().clone()).map(Arc::new)?;
            Ok((enc, Some(dec)))
        });
        entry.clone().map(|(enc, dec)| TypedJit {
            enc,
            dec,
            _t: PhantomData,
        })
    }

    /// Appends the Binary encoding of `v` to `out`.
    pub fn encode(&self, v: &T, out: &mut Vec<u8>, depth: u32) -> Result<()> {
        // SAFETY: the code was compiled from `T`'s plan (the cache key is that plan); `v` is
        // a live `T`.
        unsafe { self.enc.encode(v as *const T as *const u8, out, depth) }
    }

    /// Whether the Binary decoder is compiled too.
    pub fn decodes(&self) -> bool {
        self.dec.is_some()
    }

    /// Decodes the struct at the start of `input` into `v` (fields on the wire replace its
    /// fields); returns the bytes used. `None` when the decoder is not compiled.
    pub fn decode_into(
        &self,
        v: &mut T,
        input: &[u8],
        source: Option<&bytes::Bytes>,
        limits: &dynthrift_interp::Limits,
    ) -> Option<Result<usize>> {
        let dec = self.dec.as_ref()?;
        // SAFETY: compiled from `T`'s plan; `v` is a live `T`, borrowed exclusively.
        Some(unsafe { dec.decode(v as *mut T as *mut u8, input, source, limits) })
    }

    /// The Binary size of `v`.
    pub fn encoded_len(&self, v: &T, depth: u32) -> Result<usize> {
        // SAFETY: as for `encode`.
        unsafe { self.enc.encoded_len(v as *const T as *const u8, depth) }
    }
}
