//! The safe face of the JIT for derived types: compiled once per type, kept in the type's
//! plan (so that getting it again is one atomic load, no lock).

use std::marker::PhantomData;
use std::sync::Arc;

use dynthrift_core::Result;
use dynthrift_core::desc::Describe;
use dynthrift_core::wire::Protocol;
use dynthrift_interp::TypedPlan;

use crate::engine::PlanJit;

/// Compiled code for `T`.
pub struct TypedJit<T> {
    code: Arc<PlanJit>,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for TypedJit<T> {
    fn clone(&self) -> Self {
        TypedJit {
            code: self.code.clone(),
            _t: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for TypedJit<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.code.fmt(f)
    }
}

type Slot = std::sync::OnceLock<std::result::Result<Arc<PlanJit>, String>>;

/// What a plan's backend slot holds: per protocol, the code or why there is none.
#[derive(Default)]
struct Entry {
    binary: Slot,
    compact: Slot,
}

impl<T: Describe> TypedJit<T> {
    /// `T`'s compiled code for `protocol` (compiled on first use, once per process, even
    /// when many threads ask at once), or why there is none. Encoder, sizer and decoder of
    /// `T` and of every struct it reaches are compiled together, so this is also the way to
    /// compile ahead of time.
    pub fn get(
        plan: &TypedPlan<T>,
        protocol: Protocol,
    ) -> std::result::Result<TypedJit<T>, String> {
        // The code keeps its plan alive and the plan keeps the code: plans of derived types
        // live for the whole process anyway.
        let entry = plan
            .plan()
            .backend
            .get_or_init(|| Arc::new(Entry::default()));
        let Some(entry) = entry.downcast_ref::<Entry>() else {
            return Err("the plan holds another backend's code".into());
        };
        let slot = match protocol {
            Protocol::Binary => &entry.binary,
            Protocol::Compact => &entry.compact,
        };
        match slot.get_or_init(|| PlanJit::compile(plan.plan().clone(), protocol).map(Arc::new)) {
            Ok(code) => Ok(TypedJit {
                code: code.clone(),
                _t: PhantomData,
            }),
            Err(reason) => Err(reason.clone()),
        }
    }

    /// Appends the encoding of `v` to `out`.
    pub fn encode(&self, v: &T, out: &mut Vec<u8>, depth: u32) -> Result<()> {
        // SAFETY: the code was compiled from `T`'s plan (it is kept in that plan); `v` is a
        // live `T`.
        unsafe { self.code.encode(v as *const T as *const u8, out, depth) }
    }

    /// Whether the decoder is compiled too (always, when the encoder is).
    pub fn decodes(&self) -> bool {
        true
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
        // SAFETY: compiled from `T`'s plan; `v` is a live `T`, borrowed exclusively.
        Some(unsafe {
            self.code
                .decode(v as *mut T as *mut u8, input, source, limits)
        })
    }

    /// The length of the struct at the start of `input` without decoding it, through the
    /// compiled skip of `T` (the same length or error as the generic skip of any struct).
    /// `None` when the skip is not compiled.
    pub fn skip(&self, input: &[u8], depth: u32) -> Option<Result<usize>> {
        self.code.skip(input, depth)
    }

    /// `Ok` when [`TypedJit::skip`] runs compiled code, or why it does not. Compiles the
    /// skips if no call has yet.
    pub fn skip_status(&self) -> std::result::Result<(), String> {
        self.code.skip_status()
    }

    /// The encoded size of `v`.
    pub fn encoded_len(&self, v: &T, depth: u32) -> Result<usize> {
        // SAFETY: as for `encode`.
        unsafe { self.code.encoded_len(v as *const T as *const u8, depth) }
    }
}
