//! Compiling a plan: the host ISA, one JIT module per compiled type (finalized once), and the
//! handle that keeps the machine code alive for as long as anything can call it.

use std::sync::Arc;

use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::FunctionBuilderContext;
use cranelift_jit::{JITBuilder, JITModule};
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
    Ok(JITModule::new(JITBuilder::with_isa(
        isa,
        default_libcall_names(),
    )))
}

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
