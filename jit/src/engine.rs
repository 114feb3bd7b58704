//! Compiling a plan: the host ISA, one JIT module per compiled type (finalized once), and the
//! handle that keeps the machine code alive for as long as anything can call it.

use std::sync::Arc;

use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::FunctionBuilderContext;
use cranelift_jit::{ArenaMemoryProvider, JITBuilder, JITModule};
use cranelift_module::{Module, default_libcall_names};
use dynthrift_core::{Error, ErrorKind, Result};
use dynthrift_interp::Plan;

use crate::abi::{EncCtx, EncodeFn, STATUS_OK};
use crate::lower::{self, Mode};

/// Machine code for one plan's Binary encoder and sizer.
pub struct JitEncoder {
    /// Owns the code. Never used after `finalize`; freed when the encoder drops.
    module: Option<JITModule>,
    plan: Arc<Plan>,
    write: EncodeFn,
    size: EncodeFn,
}

// SAFETY: after `finalize_definitions` the module is never touched again until it is freed in
// `drop` (which needs `&mut self`, so no call can be running). The generated functions only
// read the plan (immutable, shared through `Arc`) and their arguments.
unsafe impl Send for JitEncoder {}
// SAFETY: as above; calling the generated functions concurrently is safe because each call
// has its own context.
unsafe impl Sync for JitEncoder {}

impl Drop for JitEncoder {
    fn drop(&mut self) {
        if let Some(module) = self.module.take() {
            // SAFETY: no function of this module can run any more: calls need `&self`.
            unsafe { module.free_memory() };
        }
    }
}

impl std::fmt::Debug for JitEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JitEncoder({})", self.plan.root().name)
    }
}

fn new_module() -> std::result::Result<JITModule, String> {
    let mut flags = settings::builder();
    let set = |flags: &mut settings::Builder, k: &str, v: &str| {
        flags.set(k, v).map_err(|e| format!("flag {k}: {e}"))
    };
    set(&mut flags, "opt_level", "speed")?;
    set(&mut flags, "use_colocated_libcalls", "false")?;
    set(&mut flags, "is_pic", "false")?;
    let isa = cranelift_native::builder()
        .map_err(|e| format!("host not supported by Cranelift: {e}"))?
        .finish(settings::Flags::new(flags))
        .map_err(|e| format!("ISA: {e}"))?;
    let mut builder = JITBuilder::with_isa(isa, default_libcall_names());
    // One contiguous reservation per module, so calls between its functions and references to
    // its data (PC-relative, +-2 GiB) always reach. The default provider takes each piece from
    // the global allocator, which may place them far apart: under AddressSanitizer (and other
    // size-class allocators) finalize then panicked in cranelift-jit's relocation code.
    // Reserved as inaccessible address space; pages are committed as code is emitted, and a
    // module that outgrows it fails to compile (the interpreter then runs the type).
    let arena = ArenaMemoryProvider::new_with_size(JIT_ARENA_BYTES)
        .map_err(|e| format!("reserving JIT memory: {e}"))?;
    builder.memory_provider(Box::new(arena));
    Ok(JITModule::new(builder))
}

/// Address space reserved per compiled module (see [`new_module`]).
const JIT_ARENA_BYTES: usize = 64 << 20;

impl JitEncoder {
    /// Compiles the Binary encoder of `plan`'s root struct and everything it reaches. The
    /// error is the reason the JIT cannot be used for this type.
    pub fn compile(plan: Arc<Plan>) -> std::result::Result<JitEncoder, String> {
        if !lower::compiles(plan.root()) {
            return Err(format!(
                "'{}': unions and structs keeping unknown fields are not compiled yet",
                plan.root().name
            ));
        }
        let mut module = new_module()?;
        let compiled = (|| {
            let table = lower::declare(&mut module, &plan)?;
            let mut ctx = module.make_context();
            let mut fctx = FunctionBuilderContext::new();
            for si in 0..plan.structs.len() {
                for mode in [Mode::Write, Mode::Size] {
                    lower::define(&mut module, &plan, &table, si, mode, &mut ctx, &mut fctx)?;
                }
            }
            module
                .finalize_definitions()
                .map_err(|e| format!("finalize: {e}"))?;
            let ids = table[0].ok_or("root not compiled")?;
            Ok::<_, String>((
                module.get_finalized_function(ids[0]),
                module.get_finalized_function(ids[1]),
            ))
        })();
        match compiled {
            Ok((w, z)) => {
                // SAFETY: both functions were defined with the `EncodeFn` signature.
                let (write, size) = unsafe {
                    (
                        std::mem::transmute::<*const u8, EncodeFn>(w),
                        std::mem::transmute::<*const u8, EncodeFn>(z),
                    )
                };
                Ok(JitEncoder {
                    module: Some(module),
                    plan,
                    write,
                    size,
                })
            }
            Err(reason) => {
                // SAFETY: nothing from this module escaped.
                unsafe { module.free_memory() };
                Err(reason)
            }
        }
    }

    pub fn plan(&self) -> &Arc<Plan> {
        &self.plan
    }

    /// Appends the Binary encoding of the value at `value` to `out`.
    ///
    /// # Safety
    /// `value` points to a live value of the plan's root struct.
    pub unsafe fn encode(&self, value: *const u8, out: &mut Vec<u8>, depth: u32) -> Result<()> {
        let start = out.len();
        let mut ctx = EncCtx {
            buf: out.as_mut_ptr(),
            len: out.len(),
            cap: out.capacity(),
            out: out as *mut Vec<u8>,
            plan: Arc::as_ptr(&self.plan),
            error: None,
        };
        // SAFETY: the code was compiled from this plan; `value` is a live root value.
        let status = unsafe { (self.write)(&mut ctx, value, depth) };
        // SAFETY: generated code and helpers wrote exactly `ctx.len` initialised bytes into
        // the vector's buffer (helpers re-read the buffer after every reallocation).
        unsafe { out.set_len(ctx.len) };
        if status == STATUS_OK {
            return Ok(());
        }
        out.truncate(start);
        Err(self.error(ctx.error))
    }

    /// The Binary size of the value at `value`.
    ///
    /// # Safety
    /// `value` points to a live value of the plan's root struct.
    pub unsafe fn encoded_len(&self, value: *const u8, depth: u32) -> Result<usize> {
        let mut ctx = EncCtx {
            buf: std::ptr::null_mut(),
            len: 0,
            cap: 0,
            out: std::ptr::null_mut(),
            plan: Arc::as_ptr(&self.plan),
            error: None,
        };
        // SAFETY: as for `encode`; size functions never touch `buf`/`out`.
        let status = unsafe { (self.size)(&mut ctx, value, depth) };
        if status == STATUS_OK {
            Ok(ctx.len)
        } else {
            Err(self.error(ctx.error))
        }
    }

    fn error(&self, e: Option<Error>) -> Error {
        e.unwrap_or_else(|| {
            Error::encode(
                ErrorKind::InvalidValue,
                "compiled encoder failed without an error",
            )
        })
        .in_root(&self.plan.root().name)
    }
}

/// Machine code for one plan's Binary decoder.
pub struct JitDecoder {
    /// Owns the code; freed when the decoder drops.
    module: Option<JITModule>,
    plan: Arc<Plan>,
    decode: crate::abi::DecodeFn,
    /// Compiled decoders by struct index, for helpers that call back into compiled code.
    fns: Box<[Option<crate::abi::DecodeFn>]>,
}

// SAFETY: as for `JitEncoder`: the module is immutable after finalize and freed only in
// `drop`; each call has its own context.
unsafe impl Send for JitDecoder {}
// SAFETY: as above.
unsafe impl Sync for JitDecoder {}

impl Drop for JitDecoder {
    fn drop(&mut self) {
        if let Some(module) = self.module.take() {
            // SAFETY: no function of this module can run any more: calls need `&self`.
            unsafe { module.free_memory() };
        }
    }
}

impl std::fmt::Debug for JitDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JitDecoder({})", self.plan.root().name)
    }
}

impl JitDecoder {
    /// Compiles the Binary decoder of `plan`'s root struct and everything it reaches.
    pub fn compile(plan: Arc<Plan>) -> std::result::Result<JitDecoder, String> {
        if !crate::lower_decode::compiles(plan.root()) {
            return Err(format!(
                "'{}': unions and structs keeping unknown fields are not compiled yet",
                plan.root().name
            ));
        }
        let mut module = new_module()?;
        let compiled = (|| {
            let table = crate::lower_decode::declare(&mut module, &plan)?;
            let mut ctx = module.make_context();
            let mut fctx = FunctionBuilderContext::new();
            for si in 0..plan.structs.len() {
                crate::lower_decode::define(&mut module, &plan, &table, si, &mut ctx, &mut fctx)?;
            }
            module
                .finalize_definitions()
                .map_err(|e| format!("finalize: {e}"))?;
            table[0].ok_or("root not compiled")?;
            let fns: Box<[Option<crate::abi::DecodeFn>]> = table
                .iter()
                .map(|id| {
                    id.map(|id| {
                        let f = module.get_finalized_function(id);
                        // SAFETY: every decoder is defined with the `DecodeFn` signature.
                        unsafe { std::mem::transmute::<*const u8, crate::abi::DecodeFn>(f) }
                    })
                })
                .collect();
            Ok::<_, String>(fns)
        })();
        match compiled {
            Ok(fns) => {
                let decode = fns[0].ok_or("root not compiled")?;
                Ok(JitDecoder {
                    module: Some(module),
                    plan,
                    decode,
                    fns,
                })
            }
            Err(reason) => {
                // SAFETY: nothing from this module escaped.
                unsafe { module.free_memory() };
                Err(reason)
            }
        }
    }

    /// Decodes the struct at the start of `input` into the value at `value` (which starts as
    /// the type's empty value); returns the bytes used.
    ///
    /// # Safety
    /// `value` points to a live value of the plan's root struct, exclusively.
    pub unsafe fn decode(
        &self,
        value: *mut u8,
        input: &[u8],
        source: Option<&bytes::Bytes>,
        limits: &dynthrift_interp::Limits,
    ) -> Result<usize> {
        let mut ctx = crate::abi::DecCtx {
            buf: input.as_ptr(),
            pos: 0,
            len: input.len(),
            plan: Arc::as_ptr(&self.plan),
            source: source.map_or(std::ptr::null(), |s| s as *const bytes::Bytes),
            limits: limits as *const dynthrift_interp::Limits,
            fns: self.fns.as_ptr(),
            fns_len: self.fns.len(),
            error: None,
        };
        // SAFETY: the code was compiled from this plan; `value` is a live root value held
        // exclusively; the context describes `input`, which outlives the call.
        let status = unsafe { (self.decode)(&mut ctx, value, limits.depth) };
        if status == STATUS_OK {
            return Ok(ctx.pos);
        }
        Err(ctx
            .error
            .unwrap_or_else(|| {
                Error::decode(
                    ErrorKind::InvalidData,
                    ctx.pos,
                    "compiled decoder failed without an error",
                )
            })
            .in_root(&self.plan.root().name))
    }
}

// ---------------------------------------------------------------------------------------------
// IDL-only records: every struct of a schema compiled at once (encoder, sizer and decoder in
// one module, finalized once), shared by all codecs of that schema.

use dynthrift_interp::{DynSchema, DynStruct};

type EncFns = Box<[Option<(EncodeFn, EncodeFn)>]>;
type DecFns = Box<[Option<crate::abi::DecodeFn>]>;

/// Machine code for every struct of a [`DynSchema`]: Binary encode, size and decode of its
/// IDL-only records. Keeps the schema (and so the plan the code points into) alive.
pub struct DynJit {
    module: Option<JITModule>,
    types: Arc<DynSchema>,
    enc: EncFns,
    dec: DecFns,
}

// SAFETY: as for `JitEncoder`: the module is immutable after finalize and freed only in
// `drop`; the schema is immutable and shared through `Arc`; each call has its own context.
unsafe impl Send for DynJit {}
// SAFETY: as above.
unsafe impl Sync for DynJit {}

impl Drop for DynJit {
    fn drop(&mut self) {
        if let Some(module) = self.module.take() {
            // SAFETY: no function of this module can run any more: calls need `&self`.
            unsafe { module.free_memory() };
        }
    }
}

impl std::fmt::Debug for DynJit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DynJit({} structs)", self.types.plan().structs.len())
    }
}

/// Schemas compiled so far (weakly held: the code goes when the last codec using it goes).
type DynCache = std::sync::Mutex<Vec<(std::sync::Weak<DynSchema>, std::sync::Weak<DynJit>)>>;

fn dyn_cache() -> &'static DynCache {
    static CACHE: std::sync::OnceLock<DynCache> = std::sync::OnceLock::new();
    CACHE.get_or_init(|| std::sync::Mutex::new(Vec::new()))
}

impl DynJit {
    /// The compiled code of `types` (compiled on first use; shared while any handle lives;
    /// many threads asking at once compile it once).
    pub fn get(types: &Arc<DynSchema>) -> std::result::Result<Arc<DynJit>, String> {
        let mut cache = dyn_cache()
            .lock()
            .map_err(|_| "JIT cache poisoned".to_string())?;
        cache.retain(|(s, j)| s.strong_count() > 0 && j.strong_count() > 0);
        for (s, j) in cache.iter() {
            // The weak reference keeps the address from being reused while it is held.
            if std::ptr::eq(s.as_ptr(), Arc::as_ptr(types))
                && let Some(j) = j.upgrade()
            {
                return Ok(j);
            }
        }
        let jit = Arc::new(DynJit::compile(types.clone())?);
        cache.push((Arc::downgrade(types), Arc::downgrade(&jit)));
        Ok(jit)
    }

    /// Compiles every struct of `types` in one module.
    pub fn compile(types: Arc<DynSchema>) -> std::result::Result<DynJit, String> {
        let plan = types.plan();
        let mut module = new_module()?;
        let compiled = (|| {
            let enc_table = lower::declare(&mut module, plan)?;
            let dec_table = crate::lower_decode::declare(&mut module, plan)?;
            let mut ctx = module.make_context();
            let mut fctx = FunctionBuilderContext::new();
            for si in 0..plan.structs.len() {
                for mode in [Mode::Write, Mode::Size] {
                    lower::define(&mut module, plan, &enc_table, si, mode, &mut ctx, &mut fctx)?;
                }
                crate::lower_decode::define(
                    &mut module,
                    plan,
                    &dec_table,
                    si,
                    &mut ctx,
                    &mut fctx,
                )?;
            }
            module
                .finalize_definitions()
                .map_err(|e| format!("finalize: {e}"))?;
            let enc: EncFns = enc_table
                .iter()
                .map(|ids| {
                    ids.map(|[w, z]| {
                        let (w, z) = (
                            module.get_finalized_function(w),
                            module.get_finalized_function(z),
                        );
                        // SAFETY: both were defined with the `EncodeFn` signature.
                        unsafe {
                            (
                                std::mem::transmute::<*const u8, EncodeFn>(w),
                                std::mem::transmute::<*const u8, EncodeFn>(z),
                            )
                        }
                    })
                })
                .collect();
            let dec: DecFns = dec_table
                .iter()
                .map(|id| {
                    id.map(|id| {
                        let f = module.get_finalized_function(id);
                        // SAFETY: every decoder is defined with the `DecodeFn` signature.
                        unsafe { std::mem::transmute::<*const u8, crate::abi::DecodeFn>(f) }
                    })
                })
                .collect();
            Ok::<_, String>((enc, dec))
        })();
        match compiled {
            Ok((enc, dec)) => Ok(DynJit {
                module: Some(module),
                types,
                enc,
                dec,
            }),
            Err(reason) => {
                // SAFETY: nothing from this module escaped.
                unsafe { module.free_memory() };
                Err(reason)
            }
        }
    }

    pub fn types(&self) -> &Arc<DynSchema> {
        &self.types
    }

    /// Whether struct `si` has compiled code (unions and their like do not).
    pub fn compiles(&self, si: usize) -> bool {
        matches!(self.enc.get(si), Some(Some(_))) && matches!(self.dec.get(si), Some(Some(_)))
    }

    fn check(&self, v: &DynStruct) -> Result<usize> {
        let si = v.struct_id().0 as usize;
        if !Arc::ptr_eq(v.types(), &self.types) || !self.compiles(si) {
            return Err(Error::schema(
                "internal error: the value is not of this compiled schema",
            ));
        }
        Ok(si)
    }

    fn enc_error(&self, si: usize, e: Option<Error>) -> Error {
        e.unwrap_or_else(|| {
            Error::encode(
                ErrorKind::InvalidValue,
                "compiled encoder failed without an error",
            )
        })
        .in_root(&self.types.plan().structs[si].name)
    }

    /// Appends the Binary encoding of `v`; on error `out` is as it was.
    pub fn encode(&self, v: &DynStruct, out: &mut Vec<u8>, depth: u32) -> Result<()> {
        let si = self.check(v)?;
        let Some(Some((write, _))) = self.enc.get(si) else {
            return Err(Error::schema("internal error: not compiled"));
        };
        let start = out.len();
        let mut ctx = EncCtx {
            buf: out.as_mut_ptr(),
            len: out.len(),
            cap: out.capacity(),
            out: out as *mut Vec<u8>,
            plan: self.types.plan() as *const Plan,
            error: None,
        };
        // SAFETY: compiled from this schema's plan for struct `si`; the value's record is a
        // live record of `si` (checked above), borrowed for the call.
        let status = unsafe { write(&mut ctx, v.record_ptr(), depth) };
        // SAFETY: exactly `ctx.len` initialised bytes are in the vector's buffer (see
        // `JitEncoder::encode`).
        unsafe { out.set_len(ctx.len) };
        if status == STATUS_OK {
            return Ok(());
        }
        out.truncate(start);
        Err(self.enc_error(si, ctx.error))
    }

    /// The Binary size of `v`.
    pub fn encoded_len(&self, v: &DynStruct, depth: u32) -> Result<usize> {
        let si = self.check(v)?;
        let Some(Some((_, size))) = self.enc.get(si) else {
            return Err(Error::schema("internal error: not compiled"));
        };
        let mut ctx = EncCtx {
            buf: std::ptr::null_mut(),
            len: 0,
            cap: 0,
            out: std::ptr::null_mut(),
            plan: self.types.plan() as *const Plan,
            error: None,
        };
        // SAFETY: as for `encode`; size functions never touch `buf`/`out`.
        let status = unsafe { size(&mut ctx, v.record_ptr(), depth) };
        if status == STATUS_OK {
            Ok(ctx.len)
        } else {
            Err(self.enc_error(si, ctx.error))
        }
    }

    /// Decodes the Binary struct at the start of `input` into `v` (fields on the wire replace
    /// its fields); returns the bytes used.
    pub fn decode_into(
        &self,
        v: &mut DynStruct,
        input: &[u8],
        source: Option<&bytes::Bytes>,
        limits: &dynthrift_interp::Limits,
    ) -> Result<usize> {
        let si = self.check(v)?;
        let Some(Some(decode)) = self.dec.get(si) else {
            return Err(Error::schema("internal error: not compiled"));
        };
        let mut ctx = crate::abi::DecCtx {
            buf: input.as_ptr(),
            pos: 0,
            len: input.len(),
            plan: self.types.plan() as *const Plan,
            source: source.map_or(std::ptr::null(), |s| s as *const bytes::Bytes),
            limits: limits as *const dynthrift_interp::Limits,
            fns: self.dec.as_ptr(),
            fns_len: self.dec.len(),
            error: None,
        };
        // SAFETY: compiled from this schema's plan for struct `si`; the record is a live
        // record of `si` held exclusively through `&mut`; the context describes `input`.
        let status = unsafe { decode(&mut ctx, v.record_mut_ptr(), limits.depth) };
        if status == STATUS_OK {
            return Ok(ctx.pos);
        }
        Err(ctx
            .error
            .unwrap_or_else(|| {
                Error::decode(
                    ErrorKind::InvalidData,
                    ctx.pos,
                    "compiled decoder failed without an error",
                )
            })
            .in_root(&self.types.plan().structs[si].name))
    }
}
