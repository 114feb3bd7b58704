//! Compiling a plan: the host ISA, one JIT module per compiled type (finalized once), and the
//! handle that keeps the machine code alive for as long as anything can call it.

use std::sync::Arc;

use cranelift_codegen::Context;
use cranelift_codegen::ir;
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::FunctionBuilderContext;
use cranelift_jit::{ArenaMemoryProvider, JITBuilder, JITModule};
use cranelift_module::{FuncId, Module, ModuleReloc, default_libcall_names};
use dynthrift_core::wire::Protocol;
use dynthrift_core::{Error, ErrorKind, Result};
use dynthrift_interp::Plan;
use dynthrift_interp::plan::Node;

use crate::abi::{EncCtx, EncodeFn, STATUS_OK};
pub(crate) use crate::lower::Proto;
use crate::lower::{self, Mode};

/// The host ISA, built once per process and shared by every module (building it probes the
/// CPU and parses the flags, which is most of the cost of setting up a module).
fn host_isa() -> std::result::Result<OwnedTargetIsa, String> {
    static ISA: std::sync::OnceLock<std::result::Result<OwnedTargetIsa, String>> =
        std::sync::OnceLock::new();
    ISA.get_or_init(|| {
        // The generated code reads and writes multi-byte values as little-endian words
        // (Compact doubles, header pairs, varint scans).
        if cfg!(target_endian = "big") {
            return Err("big-endian hosts are not supported by the JIT".to_string());
        }
        let mut flags = settings::builder();
        let set = |flags: &mut settings::Builder, k: &str, v: &str| {
            flags.set(k, v).map_err(|e| format!("flag {k}: {e}"))
        };
        // Measured on `Nesting` (callgrind, instructions): "speed" runs no faster than "none"
        // (the IR is already direct and the time is in helpers) and compiles 20 % slower;
        // the single-pass register allocator compiles 40 % faster but runs 4 % slower.
        set(&mut flags, "opt_level", "none")?;
        set(&mut flags, "regalloc_algorithm", "backtracking")?;
        set(&mut flags, "use_colocated_libcalls", "false")?;
        set(&mut flags, "is_pic", "false")?;
        // The IR verifier costs about as much as the rest of compilation; tests (debug
        // builds) keep it on.
        set(
            &mut flags,
            "enable_verifier",
            if cfg!(debug_assertions) {
                "true"
            } else {
                "false"
            },
        )?;
        cranelift_native::builder()
            .map_err(|e| format!("host not supported by Cranelift: {e}"))?
            .finish(settings::Flags::new(flags))
            .map_err(|e| format!("ISA: {e}"))
    })
    .clone()
}

/// Builds the IR of every function declared in the tables: per struct, writer, sizer,
/// decoder and skip.
fn build_all(
    module: &mut JITModule,
    plan: &Plan,
    proto: Proto,
    enc_table: &lower::FuncTable,
    dec_table: &[Option<FuncId>],
    skip_table: &[Option<FuncId>],
) -> Vec<Job> {
    let mut ctx = module.make_context();
    let mut fctx = FunctionBuilderContext::new();
    let mut jobs = Vec::new();
    for si in 0..plan.structs.len() {
        let name = &plan.structs[si].name;
        for mode in [Mode::Write, Mode::Size] {
            let id = lower::build(
                module, plan, enc_table, si, mode, proto, &mut ctx, &mut fctx,
            );
            if let Some(id) = id {
                jobs.push(Job::take(id, name, module, &mut ctx));
            }
        }
        let id =
            crate::lower_decode::build(module, plan, dec_table, si, proto, &mut ctx, &mut fctx);
        if let Some(id) = id {
            jobs.push(Job::take(id, name, module, &mut ctx));
        }
        let id = crate::lower_skip::build(module, plan, skip_table, si, proto, &mut ctx, &mut fctx);
        if let Some(id) = id {
            jobs.push(Job::take(id, name, module, &mut ctx));
        }
    }
    jobs
}

/// A function's IR, built and waiting to be compiled.
struct Job {
    id: FuncId,
    name: String,
    func: ir::Function,
}

impl Job {
    /// Takes the function just built in `ctx` (which is then ready for the next one).
    fn take(id: FuncId, name: &str, module: &mut JITModule, ctx: &mut Context) -> Job {
        let func = std::mem::replace(&mut ctx.func, ir::Function::new());
        module.clear_context(ctx);
        Job {
            id,
            name: name.to_string(),
            func,
        }
    }
}

/// A function's machine code, ready to be defined in the module.
struct Compiled {
    id: FuncId,
    name: String,
    code: Vec<u8>,
    align: u64,
    relocs: Vec<ModuleReloc>,
}

/// Below this many IR instructions in all, compiling on one thread is faster than starting
/// another (a thread start costs about as much as compiling 50 instructions).
const PARALLEL_MIN_INSTS: usize = 1500;

/// Compiles every job, in order. Functions are independent once built, so with more than one
/// core and enough work they are split (by instruction count) between this thread and others:
/// the wall time of compiling a closure like `Nesting2`'s then nearly halves on two cores.
fn compile_all(jobs: Vec<Job>, threads: usize) -> std::result::Result<Vec<Compiled>, String> {
    let isa = host_isa()?;
    let total: usize = jobs.iter().map(|j| j.func.dfg.num_insts()).sum();
    let threads = threads.min(jobs.len());
    if threads < 2 || total < PARALLEL_MIN_INSTS {
        let mut ctx = Context::new();
        return jobs
            .into_iter()
            .map(|mut j| {
                let func = std::mem::replace(&mut j.func, ir::Function::new());
                compile_one(&*isa, &mut ctx, &j, func)
            })
            .collect();
    }
    // Largest first; every thread takes the next job left. This thread never waits for
    // another: whatever is not done when it has been through the queue (a helper that starts
    // late on a loaded machine, or not at all, or is still busy) it compiles itself, and a
    // helper's late result is dropped. So the wall time is at worst about that of one thread.
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(jobs[i].func.dfg.num_insts()));
    let mut jobs: Vec<Option<Job>> = jobs.into_iter().map(Some).collect();
    let work = std::sync::Arc::new(Work {
        queue: order
            .into_iter()
            .filter_map(|i| {
                jobs[i].take().map(|job| Slot {
                    index: i,
                    job,
                    done: std::sync::Mutex::new(None),
                })
            })
            .collect(),
        next: std::sync::atomic::AtomicUsize::new(0),
    });
    for _ in 1..threads {
        let (work, isa) = (work.clone(), isa.clone());
        // A helper that cannot start leaves its part to this thread.
        let _ = std::thread::Builder::new()
            .name("dynthrift-jit".into())
            .spawn(move || work.run(&*isa));
    }
    work.run(&*isa);
    let mut ctx = Context::new();
    let mut done = Vec::with_capacity(work.queue.len());
    for slot in &work.queue {
        let compiled = slot.lock().take();
        let compiled = match compiled {
            Some(c) => c,
            None => compile_one(&*isa, &mut ctx, &slot.job, slot.job.func.clone()),
        };
        done.push((slot.index, compiled?));
    }
    done.sort_by_key(|(i, _)| *i);
    Ok(done.into_iter().map(|(_, c)| c).collect())
}

/// Jobs shared by the threads compiling one module (see [`compile_all`]).
struct Work {
    /// Largest first.
    queue: Vec<Slot>,
    /// The next slot to take.
    next: std::sync::atomic::AtomicUsize,
}

/// A job, its place among the module's functions, and its result once a thread has one.
struct Slot {
    index: usize,
    job: Job,
    done: std::sync::Mutex<Option<std::result::Result<Compiled, String>>>,
}

impl Slot {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<std::result::Result<Compiled, String>>> {
        // A result is one store: a panic elsewhere cannot leave it half written.
        self.done.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Work {
    /// Compiles the jobs not taken yet, one at a time, until none is left.
    fn run(&self, isa: &dyn cranelift_codegen::isa::TargetIsa) {
        let mut ctx = Context::new();
        loop {
            let k = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(slot) = self.queue.get(k) else {
                return;
            };
            let compiled = compile_one(isa, &mut ctx, &slot.job, slot.job.func.clone());
            let mut done = slot.lock();
            if done.is_none() {
                *done = Some(compiled);
            }
        }
    }
}

/// Compile threads at most (one of them the caller's).
const MAX_COMPILE_THREADS: usize = 4;

/// Threads compiling one module: the cores available, at most [`MAX_COMPILE_THREADS`], or
/// `DYNTHRIFT_JIT_THREADS` (read once; `1`: compile on the caller's thread only).
fn compile_threads() -> usize {
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| {
        std::env::var("DYNTHRIFT_JIT_THREADS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .clamp(1, MAX_COMPILE_THREADS)
    })
}

/// Compiles one function into machine code and the relocations it needs.
fn compile_one(
    isa: &dyn cranelift_codegen::isa::TargetIsa,
    ctx: &mut Context,
    job: &Job,
    func: ir::Function,
) -> std::result::Result<Compiled, String> {
    ctx.clear();
    ctx.func = func;
    let mut plane = cranelift_codegen::control::ControlPlane::default();
    ctx.compile(isa, &mut plane)
        .map_err(|e| format!("compile {}: {:?}", job.name, e.inner))?;
    let compiled = ctx
        .compiled_code()
        .ok_or_else(|| format!("compile {}: no code", job.name))?;
    let relocs = compiled
        .buffer
        .relocs()
        .iter()
        .map(|r| ModuleReloc::from_mach_reloc(r, &ctx.func, job.id))
        .collect();
    Ok(Compiled {
        id: job.id,
        name: job.name.clone(),
        code: compiled.code_buffer().to_vec(),
        align: u64::from(compiled.buffer.alignment),
        relocs,
    })
}

fn new_module() -> std::result::Result<JITModule, String> {
    let mut builder = JITBuilder::with_isa(host_isa()?, default_libcall_names());
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

/// Spare bytes to reserve beyond a value's exact encoded size so that compiled writers never
/// grow the buffer: before writing a Compact value they check for room for its longest
/// encoding (a field header and a ten-byte varint, say), up to 12 bytes more than they
/// then write. With an exactly sized buffer that check would fail at the last fields and
/// reallocate the whole output.
pub const WRITE_SLACK: usize = 16;

/// Address space reserved per compiled module (see [`new_module`]).
const JIT_ARENA_BYTES: usize = 64 << 20;

type EncFns = Box<[Option<(EncodeFn, EncodeFn)>]>;

/// What one module holds: encoders, sizers and decoders (compiled on first use or by
/// `pretouch`), or skips (compiled on the first `skip`, in a module of their own: they
/// would add about half to the compile time of every type, and most users never skip).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    Codec,
    Skip,
}

/// A plan's skip code, compiled on first use (or why there is none).
type LazySkip = std::sync::OnceLock<std::result::Result<Code, String>>;
type DecFns = Box<[Option<crate::abi::DecodeFn>]>;
type SkipFns = Box<[Option<crate::abi::SkipFn>]>;

/// Machine code for every struct of a plan that the JIT compiles: encoder, sizer and decoder
/// (or skip, see [`Part`]) of one protocol, in one module finalized once. Frees the code
/// when dropped.
struct Code {
    module: Option<JITModule>,
    enc: EncFns,
    dec: DecFns,
    skip: SkipFns,
    proto: Proto,
}

// SAFETY: after `finalize_definitions` the module is never touched again until it is freed in
// `drop` (which needs `&mut self`, so no call can be running). The generated functions only
// read the plan (immutable, kept alive by the owner of the `Code`) and their arguments.
unsafe impl Send for Code {}
// SAFETY: as above; calling the generated functions concurrently is safe because each call
// has its own context.
unsafe impl Sync for Code {}

impl Drop for Code {
    fn drop(&mut self) {
        if let Some(module) = self.module.take() {
            // SAFETY: no function of this module can run any more: calls need `&self`.
            unsafe { module.free_memory() };
        }
    }
}

impl Code {
    /// Compiles every `wanted` struct of `plan` the JIT compiles, encoder, sizer and decoder
    /// (or skip), in one module with one finalize. `wanted` must hold every struct a wanted
    /// struct reaches (see [`reached`]).
    fn compile(
        plan: &Plan,
        proto: Proto,
        part: Part,
        wanted: &[bool],
    ) -> std::result::Result<Code, String> {
        let mut module = new_module()?;
        let compiled = (|| {
            let n = plan.structs.len();
            let (enc_table, dec_table, skip_table) = match part {
                Part::Codec => (
                    lower::declare(&mut module, plan, proto, wanted)?,
                    crate::lower_decode::declare(&mut module, plan, proto, wanted)?,
                    vec![None; n],
                ),
                Part::Skip => (
                    vec![None; n],
                    vec![None; n],
                    crate::lower_skip::declare(&mut module, plan, proto, wanted)?,
                ),
            };
            // Build every function's IR, then compile them (on several threads when that
            // pays) and define the machine code.
            let jobs = build_all(
                &mut module,
                plan,
                proto,
                &enc_table,
                &dec_table,
                &skip_table,
            );
            for f in compile_all(jobs, compile_threads())? {
                module
                    .define_function_bytes(f.id, f.align, &f.code, &f.relocs)
                    .map_err(|e| format!("define {}: {e}", f.name))?;
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
            let skip: SkipFns = skip_table
                .iter()
                .map(|id| {
                    id.map(|id| {
                        let f = module.get_finalized_function(id);
                        // SAFETY: every skip is defined with the `SkipFn` signature.
                        unsafe { std::mem::transmute::<*const u8, crate::abi::SkipFn>(f) }
                    })
                })
                .collect();
            Ok::<_, String>((enc, dec, skip))
        })();
        match compiled {
            Ok((enc, dec, skip)) => Ok(Code {
                module: Some(module),
                enc,
                dec,
                skip,
                proto,
            }),
            Err(reason) => {
                // SAFETY: nothing from this module escaped.
                unsafe { module.free_memory() };
                Err(reason)
            }
        }
    }

    /// Whether struct `si` has compiled code.
    fn compiles(&self, si: usize) -> bool {
        matches!(self.enc.get(si), Some(Some(_))) && matches!(self.dec.get(si), Some(Some(_)))
    }

    /// Appends the Binary encoding of the value of struct `si` at `value` to `out`.
    ///
    /// # Safety
    /// The code was compiled from `plan`; `value` points to a live value of struct `si`.
    unsafe fn encode(
        &self,
        plan: &Plan,
        si: usize,
        value: *const u8,
        out: &mut Vec<u8>,
        depth: u32,
    ) -> Result<()> {
        let Some(Some((write, _))) = self.enc.get(si) else {
            return Err(Error::schema("internal error: not compiled"));
        };
        let start = out.len();
        let mut ctx = EncCtx {
            buf: out.as_mut_ptr(),
            len: out.len(),
            cap: out.capacity(),
            out: out as *mut Vec<u8>,
            plan: plan as *const Plan,
            fns: self.enc.as_ptr(),
            fns_len: self.enc.len(),
            error: None,
        };
        // SAFETY: the caller guarantees the code and value match.
        let status = unsafe { write(&mut ctx, value, depth) };
        // SAFETY: generated code and helpers wrote exactly `ctx.len` initialised bytes into
        // the vector's buffer (helpers re-read the buffer after every reallocation).
        unsafe { out.set_len(ctx.len) };
        if status == STATUS_OK {
            return Ok(());
        }
        out.truncate(start);
        Err(enc_error(plan, si, ctx.error))
    }

    /// The Binary size of the value of struct `si` at `value`.
    ///
    /// # Safety
    /// As for [`Code::encode`].
    unsafe fn encoded_len(
        &self,
        plan: &Plan,
        si: usize,
        value: *const u8,
        depth: u32,
    ) -> Result<usize> {
        let Some(Some((_, size))) = self.enc.get(si) else {
            return Err(Error::schema("internal error: not compiled"));
        };
        let mut ctx = EncCtx {
            buf: std::ptr::null_mut(),
            len: 0,
            cap: 0,
            out: std::ptr::null_mut(),
            plan: plan as *const Plan,
            fns: self.enc.as_ptr(),
            fns_len: self.enc.len(),
            error: None,
        };
        // SAFETY: as for `encode`; size functions never touch `buf`/`out`.
        let status = unsafe { size(&mut ctx, value, depth) };
        if status == STATUS_OK {
            Ok(ctx.len)
        } else {
            Err(enc_error(plan, si, ctx.error))
        }
    }

    /// Decodes the struct at the start of `input` into the value of struct `si` at `value`;
    /// returns the bytes used.
    ///
    /// # Safety
    /// The code was compiled from `plan`; `value` points to a live value of struct `si`,
    /// held exclusively.
    unsafe fn decode(
        &self,
        plan: &Plan,
        si: usize,
        value: *mut u8,
        input: &[u8],
        source: Option<&bytes::Bytes>,
        limits: &dynthrift_interp::Limits,
    ) -> Result<usize> {
        let Some(Some(decode)) = self.dec.get(si) else {
            return Err(Error::schema("internal error: not compiled"));
        };
        let mut ctx = crate::abi::DecCtx {
            buf: input.as_ptr(),
            pos: 0,
            len: input.len(),
            plan: plan as *const Plan,
            source: source.map_or(std::ptr::null(), |s| s as *const bytes::Bytes),
            limits: limits as *const dynthrift_interp::Limits,
            fns: self.dec.as_ptr(),
            fns_len: self.dec.len(),
            error: None,
            #[cfg(feature = "faststr")]
            strs: Default::default(),
        };
        // SAFETY: the caller guarantees the code and value match; the context describes
        // `input`, which outlives the call.
        let status = unsafe { decode(&mut ctx, value, limits.depth) };
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
            .in_root(&plan.structs[si].name))
    }
}

thread_local! {
    /// Compiled skips run on this thread (see [`compiled_skips`]).
    static SKIPS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How many compiled skips (of any type) this thread has run: lets tests check that a
/// codec's `skip` runs compiled code. Thread-local, so free of contention.
#[doc(hidden)]
pub fn compiled_skips() -> u64 {
    SKIPS.with(|c| c.get())
}

impl Code {
    /// The length of the struct at the start of `input`, without decoding it: what the
    /// generic skip of any struct returns (the same length, or the same error), through the
    /// compiled skip of struct `si`. `None` when that is not compiled.
    fn skip(&self, plan: &Plan, si: usize, input: &[u8], depth: u32) -> Option<Result<usize>> {
        let Some(Some(skip)) = self.skip.get(si) else {
            return None;
        };
        SKIPS.with(|c| c.set(c.get().wrapping_add(1)));
        // Skip functions and the helpers they call read only `buf`, `pos` and `len`; the
        // rest is filled as for a decode.
        let limits = dynthrift_interp::Limits::default();
        let mut ctx = crate::abi::DecCtx {
            buf: input.as_ptr(),
            pos: 0,
            len: input.len(),
            plan: plan as *const Plan,
            source: std::ptr::null(),
            limits: &limits as *const dynthrift_interp::Limits,
            fns: self.dec.as_ptr(),
            fns_len: self.dec.len(),
            error: None,
            #[cfg(feature = "faststr")]
            strs: Default::default(),
        };
        // SAFETY: the code was compiled from `plan`; the context describes `input`, which
        // outlives the call; skip functions write nothing but the context.
        let status = unsafe { skip(&mut ctx, depth) };
        Some(if status == STATUS_OK {
            Ok(ctx.pos)
        } else {
            Err(ctx.error.unwrap_or_else(|| {
                Error::decode(
                    ErrorKind::InvalidData,
                    ctx.pos,
                    "compiled skip failed without an error",
                )
            }))
        })
    }
}

/// Which structs of `plan` struct `root` reaches, itself included, through fields, elements,
/// keys, values and boxes: what must be compiled with it.
fn reached(plan: &Plan, root: usize) -> Vec<bool> {
    let mut seen = vec![false; plan.structs.len()];
    let mut structs = vec![root];
    let mut nodes: Vec<&Node> = Vec::new();
    while let Some(si) = structs.pop() {
        if std::mem::replace(&mut seen[si], true) {
            continue;
        }
        nodes.extend(plan.structs[si].fields.iter().map(|f| &f.node));
        while let Some(node) = nodes.pop() {
            match node {
                Node::Struct(i) | Node::Record(i) => structs.push(*i),
                Node::List(e, _) | Node::Set(e, _) | Node::Boxed(e, _) => nodes.push(e),
                Node::Map(k, v, _) => nodes.extend([&**k, &**v]),
                _ => {}
            }
        }
    }
    seen
}

/// The skip code of the `wanted` structs of `plan` in `slot`, compiled on the first call;
/// `None` when it does not compile (the generic skip then runs; [`skip_status`] says why).
fn skip_code<'a>(
    slot: &'a LazySkip,
    plan: &Plan,
    proto: Proto,
    wanted: &[bool],
) -> Option<&'a Code> {
    slot.get_or_init(|| Code::compile(plan, proto, Part::Skip, wanted))
        .as_ref()
        .ok()
}

/// Whether `skip` of struct `si` runs compiled code (compiling the skips now if that has not
/// happened yet), or why it does not.
fn skip_status(
    slot: &LazySkip,
    plan: &Plan,
    proto: Proto,
    wanted: &[bool],
    si: usize,
) -> std::result::Result<(), String> {
    match slot.get_or_init(|| Code::compile(plan, proto, Part::Skip, wanted)) {
        Err(e) => Err(format!("the skip code did not compile: {e}")),
        Ok(code) if matches!(code.skip.get(si), Some(Some(_))) => Ok(()),
        Ok(_) => Err(format!(
            "no compiled skip for struct {}",
            plan.structs.get(si).map_or("?", |s| &s.name)
        )),
    }
}

fn proto_of(p: Protocol) -> Proto {
    match p {
        Protocol::Binary => Proto::Binary,
        Protocol::Compact => Proto::Compact,
    }
}

fn enc_error(plan: &Plan, si: usize, e: Option<Error>) -> Error {
    e.unwrap_or_else(|| {
        Error::encode(
            ErrorKind::InvalidValue,
            "compiled encoder failed without an error",
        )
    })
    .in_root(&plan.structs[si].name)
}

/// Machine code for a derived type's plan in one protocol: encoder, sizer and decoder of its
/// root and of every struct it reaches (one module, one finalize).
pub struct PlanJit {
    code: Code,
    skip: LazySkip,
    plan: Arc<Plan>,
    /// The structs compiled: the root and what it reaches (all of a derived type's plan).
    wanted: Vec<bool>,
}

impl std::fmt::Debug for PlanJit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PlanJit({})", self.plan.root().name)
    }
}

impl PlanJit {
    /// Compiles `plan`'s root struct and everything it reaches. The error is the reason the
    /// JIT cannot be used for this type.
    pub fn compile(plan: Arc<Plan>, protocol: Protocol) -> std::result::Result<PlanJit, String> {
        let proto = proto_of(protocol);
        let wanted = reached(&plan, 0);
        let code = Code::compile(&plan, proto, Part::Codec, &wanted)?;
        if !code.compiles(0) {
            return Err("root not compiled".into());
        }
        Ok(PlanJit {
            code,
            skip: LazySkip::new(),
            plan,
            wanted,
        })
    }

    pub fn plan(&self) -> &Arc<Plan> {
        &self.plan
    }

    /// The length of the struct at the start of `input` without decoding it, as the generic
    /// skip of any struct (same length, same error), nested at most `depth` levels. `None`
    /// when the skip is not compiled.
    /// Compiles the skips on the first call.
    pub fn skip(&self, input: &[u8], depth: u32) -> Option<Result<usize>> {
        let code = skip_code(&self.skip, &self.plan, self.code.proto, &self.wanted)?;
        code.skip(&self.plan, 0, input, depth)
    }

    /// `Ok` when [`PlanJit::skip`] runs compiled code, or why it does not (the generic skip
    /// runs then). Compiles the skips if no call has yet.
    pub fn skip_status(&self) -> std::result::Result<(), String> {
        skip_status(&self.skip, &self.plan, self.code.proto, &self.wanted, 0)
    }

    /// Appends the Binary encoding of the root value at `value` to `out`.
    ///
    /// # Safety
    /// `value` points to a live value of the plan's root struct.
    pub unsafe fn encode(&self, value: *const u8, out: &mut Vec<u8>, depth: u32) -> Result<()> {
        // SAFETY: compiled from this plan; the caller guarantees the value.
        unsafe { self.code.encode(&self.plan, 0, value, out, depth) }
    }

    /// The Binary size of the root value at `value`.
    ///
    /// # Safety
    /// As for [`PlanJit::encode`].
    pub unsafe fn encoded_len(&self, value: *const u8, depth: u32) -> Result<usize> {
        // SAFETY: as for `encode`.
        unsafe { self.code.encoded_len(&self.plan, 0, value, depth) }
    }

    /// Decodes the struct at the start of `input` into the root value at `value`; returns
    /// the bytes used.
    ///
    /// # Safety
    /// `value` points to a live value of the plan's root struct, held exclusively.
    pub unsafe fn decode(
        &self,
        value: *mut u8,
        input: &[u8],
        source: Option<&bytes::Bytes>,
        limits: &dynthrift_interp::Limits,
    ) -> Result<usize> {
        // SAFETY: as for `encode`, exclusively.
        unsafe {
            self.code
                .decode(&self.plan, 0, value, input, source, limits)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// IDL-only records: a struct of a schema and every struct it reaches compiled at once
// (encoder, sizer and decoder in one module, finalized once), shared by all codecs of those
// structs.

use dynthrift_interp::{DynSchema, DynStruct};

/// Machine code for one struct of a [`DynSchema`] and every struct it reaches: encode, size
/// and decode of their IDL-only records in one protocol. Keeps the schema (and so the plan
/// the code points into) alive.
pub struct DynJit {
    code: Code,
    skip: LazySkip,
    types: Arc<DynSchema>,
    protocol: Protocol,
    /// The structs compiled (by index into the schema's plan).
    wanted: Vec<bool>,
}

impl std::fmt::Debug for DynJit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.wanted.iter().filter(|w| **w).count();
        write!(f, "DynJit({n} of {} structs)", self.wanted.len())
    }
}

/// Code compiled so far (weakly held: the code goes when the last codec using it goes); the
/// protocol and structs of each entry are the `DynJit`'s own.
type DynCache = std::sync::Mutex<Vec<(std::sync::Weak<DynSchema>, std::sync::Weak<DynJit>)>>;

fn dyn_cache() -> &'static DynCache {
    static CACHE: std::sync::OnceLock<DynCache> = std::sync::OnceLock::new();
    CACHE.get_or_init(|| std::sync::Mutex::new(Vec::new()))
}

impl DynJit {
    /// The compiled code of struct `si` of `types`: code already compiled with it (for it or
    /// for a struct that reaches it), or else it and every struct it reaches, compiled now.
    /// Shared while any handle lives; many threads asking at once compile it once.
    pub fn get(
        types: &Arc<DynSchema>,
        si: usize,
        protocol: Protocol,
    ) -> std::result::Result<Arc<DynJit>, String> {
        if si >= types.plan().structs.len() {
            return Err(format!("no struct {si} in the schema"));
        }
        let mut cache = dyn_cache()
            .lock()
            .map_err(|_| "JIT cache poisoned".to_string())?;
        cache.retain(|(s, j)| s.strong_count() > 0 && j.strong_count() > 0);
        for (s, j) in cache.iter() {
            // The weak reference keeps the address from being reused while it is held.
            if std::ptr::eq(s.as_ptr(), Arc::as_ptr(types))
                && let Some(j) = j.upgrade()
                && j.protocol == protocol
                && j.wanted[si]
            {
                return Ok(j);
            }
        }
        let jit = Arc::new(DynJit::compile(types.clone(), si, protocol)?);
        cache.push((Arc::downgrade(types), Arc::downgrade(&jit)));
        Ok(jit)
    }

    /// Compiles struct `si` of `types` and every struct it reaches, in one module.
    pub fn compile(
        types: Arc<DynSchema>,
        si: usize,
        protocol: Protocol,
    ) -> std::result::Result<DynJit, String> {
        let wanted = reached(types.plan(), si);
        let code = Code::compile(types.plan(), proto_of(protocol), Part::Codec, &wanted)?;
        Ok(DynJit {
            code,
            skip: LazySkip::new(),
            types,
            protocol,
            wanted,
        })
    }

    pub fn types(&self) -> &Arc<DynSchema> {
        &self.types
    }

    /// Whether struct `si` has compiled code here (a struct this code was compiled for,
    /// unless the JIT does not compile it).
    pub fn compiles(&self, si: usize) -> bool {
        self.code.compiles(si)
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

    /// Appends the Binary encoding of `v`; on error `out` is as it was.
    pub fn encode(&self, v: &DynStruct, out: &mut Vec<u8>, depth: u32) -> Result<()> {
        let si = self.check(v)?;
        // SAFETY: compiled from this schema's plan; the value's record is a live record of
        // `si` (checked above), borrowed for the call.
        unsafe {
            self.code
                .encode(self.types.plan(), si, v.record_ptr(), out, depth)
        }
    }

    /// The Binary size of `v`.
    pub fn encoded_len(&self, v: &DynStruct, depth: u32) -> Result<usize> {
        let si = self.check(v)?;
        // SAFETY: as for `encode`.
        unsafe {
            self.code
                .encoded_len(self.types.plan(), si, v.record_ptr(), depth)
        }
    }

    /// The length of the struct at the start of `input` without decoding it, through the
    /// compiled skip of struct `si` (the same length or error as the generic skip of any
    /// struct), nested at most `depth` levels. `None` when that is not compiled.
    /// Compiles the skips of the structs this code holds on the first call.
    pub fn skip(&self, si: usize, input: &[u8], depth: u32) -> Option<Result<usize>> {
        let plan = self.types.plan();
        skip_code(&self.skip, plan, self.code.proto, &self.wanted)?.skip(plan, si, input, depth)
    }

    /// `Ok` when [`DynJit::skip`] of struct `si` runs compiled code, or why it does not (the
    /// generic skip runs then). Compiles the skips if no call has yet.
    pub fn skip_status(&self, si: usize) -> std::result::Result<(), String> {
        skip_status(
            &self.skip,
            self.types.plan(),
            self.code.proto,
            &self.wanted,
            si,
        )
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
        let plan = self.types.plan();
        // SAFETY: compiled from this schema's plan for struct `si`; the record is a live
        // record of `si` held exclusively through `&mut`.
        unsafe {
            self.code
                .decode(plan, si, v.record_mut_ptr(), input, source, limits)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds every function of `plan` in a fresh module.
    fn jobs(plan: &Plan) -> (JITModule, Vec<Job>) {
        let mut module = new_module().expect("module");
        let all = vec![true; plan.structs.len()];
        let enc = lower::declare(&mut module, plan, Proto::Binary, &all).expect("declare");
        let dec =
            crate::lower_decode::declare(&mut module, plan, Proto::Binary, &all).expect("declare");
        let skip =
            crate::lower_skip::declare(&mut module, plan, Proto::Binary, &all).expect("declare");
        let jobs = build_all(&mut module, plan, Proto::Binary, &enc, &dec, &skip);
        (module, jobs)
    }

    /// A struct's code holds it and what it reaches through fields, elements, keys, values
    /// and union members, nothing else; a struct already compiled with another reuses that
    /// code; each protocol has its own.
    #[test]
    fn idl_codecs_compile_what_their_struct_reaches() {
        let text = r#"
            struct Leaf { 1: i32 n }
            struct Key { 1: string k }
            struct Item { 1: i64 x }
            struct Node {
                1: optional Node next,
                2: list<list<Leaf>> leaves,
                3: map<Key, set<Item>> m,
            }
            union Pick { 1: Node node, 2: i32 n }
            struct Top { 1: Pick pick }
            struct Alone { 1: string s }
        "#;
        let schema = dynthrift_core::idl::parse_str(text).expect("parse");
        let types = DynSchema::new(schema).expect("plan");
        let id = |name: &str| types.schema().expect_struct(name).expect("struct").0 as usize;
        let holds = |jit: &DynJit, names: &[&str]| {
            let got: Vec<&str> = (0..jit.wanted.len())
                .filter(|&i| jit.wanted[i])
                .map(|i| &*types.plan().structs[i].name)
                .collect();
            let mut want = names.to_vec();
            want.sort_by_key(|n| id(n));
            assert_eq!(got, want);
            for n in names {
                assert!(jit.compiles(id(n)), "{n} not compiled");
            }
        };
        let node = DynJit::get(&types, id("Node"), Protocol::Binary).expect("compile");
        holds(&node, &["Leaf", "Key", "Item", "Node"]);
        for name in ["Top", "Pick", "Alone"] {
            assert!(!node.compiles(id(name)), "{name} compiled with Node");
        }
        let leaf = DynJit::get(&types, id("Leaf"), Protocol::Binary).expect("reuse");
        assert!(Arc::ptr_eq(&node, &leaf), "Leaf compiled again");
        let top = DynJit::get(&types, id("Top"), Protocol::Binary).expect("compile");
        holds(&top, &["Leaf", "Key", "Item", "Node", "Pick", "Top"]);
        assert!(!Arc::ptr_eq(&node, &top));
        let alone = DynJit::get(&types, id("Alone"), Protocol::Binary).expect("compile");
        holds(&alone, &["Alone"]);
        let compact = DynJit::get(&types, id("Leaf"), Protocol::Compact).expect("compile");
        holds(&compact, &["Leaf"]);
        assert!(DynJit::get(&types, 99, Protocol::Binary).is_err());
        // The skips compile for the same structs.
        assert!(node.skip_status(id("Node")).is_ok());
        assert!(node.skip_status(id("Top")).is_err());
    }

    /// Threads asking at once for the code of a struct no one compiled yet all get the same
    /// code: it is compiled once.
    #[test]
    fn threads_asking_at_once_share_one_compile() {
        let text = "struct A { 1: list<B> bs } struct B { 1: string s }";
        let schema = dynthrift_core::idl::parse_str(text).expect("parse");
        let types = DynSchema::new(schema).expect("plan");
        let a = types.schema().expect_struct("A").expect("struct").0 as usize;
        let barrier = std::sync::Barrier::new(4);
        let got: Vec<Arc<DynJit>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        DynJit::get(&types, a, Protocol::Binary).expect("compile")
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .collect()
        });
        assert!(got.iter().all(|j| Arc::ptr_eq(j, &got[0])));
    }

    /// Compiling on several threads gives the same machine code, in the same order, as on one.
    #[test]
    fn parallel_compile_matches_serial() {
        let text = include_str!("../../testdata/idl/frugal/tests/baseline.thrift");
        let schema = dynthrift_core::idl::parse_str(text).expect("parse");
        let types = dynthrift_interp::DynSchema::new(schema).expect("plan");
        // The code refers to the plan by address: both builds use the same one.
        let (m1, serial) = jobs(types.plan());
        let (m2, parallel) = jobs(types.plan());
        let total: usize = parallel.iter().map(|j| j.func.dfg.num_insts()).sum();
        assert!(
            total >= PARALLEL_MIN_INSTS && parallel.len() >= 3,
            "the schema must be big enough to take the parallel path ({total} instructions)"
        );
        let serial = compile_all(serial, 1).expect("serial");
        let parallel = compile_all(parallel, 3).expect("parallel");
        assert_eq!(serial.len(), parallel.len());
        for (a, b) in serial.iter().zip(&parallel) {
            assert_eq!((a.id, &a.name), (b.id, &b.name));
            assert!(a.code == b.code, "{}: other machine code", a.name);
            assert_eq!(a.relocs.len(), b.relocs.len(), "{}", a.name);
            assert_eq!(a.align, b.align);
        }
        for m in [m1, m2] {
            // SAFETY: nothing was defined in these modules, so no code from them can run.
            unsafe { m.free_memory() };
        }
    }
}
