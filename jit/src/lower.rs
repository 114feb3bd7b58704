//! Translation of a plan into Cranelift IR: one encode and one size function per struct that
//! the JIT compiles (`lower_*` translate a construct, `emit_*` emit a small pattern). Values
//! the JIT does not compile yet are handed to the interpreter through `rt_node`, so every
//! type is encoded, and encoded the same way.

use cranelift_codegen::Context;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    self, AbiParam, Block, BlockArg, InstBuilder, MemFlagsData, SigRef, Signature, Type,
    UserFuncName, Value, types,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_jit::JITModule;
use cranelift_module::{FuncId, Linkage, Module};
use dynthrift_core::TType;
use dynthrift_core::desc::{BinRepr, MAP_ITER_STATE, MapDesc, SeqDesc, SetDesc, StrRepr};
use dynthrift_core::schema::{Requiredness, StructKind};
use dynthrift_core::wire::compact::{compact_code, varint_len, zigzag32};
use dynthrift_interp::Plan;
use dynthrift_interp::dynamic::{RawMap, RawVec};
use dynthrift_interp::plan::{
    EnumRepr, FieldPlan, MapRepr, Node, Presence, SeqRepr, SetRepr, StructPlan,
};

use crate::abi::{ENC_BUF, ENC_CAP, ENC_LEN, STATUS_ERROR, STATUS_OK};
use crate::rt;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Write,
    Size,
}

/// The protocol a function is compiled for (one module per protocol).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Proto {
    Binary,
    Compact,
}

/// Per struct: its write and size functions, if compiled.
pub(crate) type FuncTable = Vec<Option<[FuncId; 2]>>;

/// Declares the write and size functions of every `wanted` struct (`None` for the others).
pub(crate) fn declare(
    module: &mut JITModule,
    plan: &Plan,
    proto: Proto,
    wanted: &[bool],
) -> Result<FuncTable, String> {
    let p = proto as u8;
    let sig = struct_sig(module);
    debug_assert_eq!(wanted.len(), plan.structs.len());
    let mut table = Vec::with_capacity(wanted.len());
    for (i, &wanted) in wanted.iter().enumerate() {
        if !wanted {
            table.push(None);
            continue;
        }
        let w = module
            .declare_function(&format!("encode_{p}_{i}"), Linkage::Local, &sig)
            .map_err(|e| format!("declare: {e}"))?;
        let z = module
            .declare_function(&format!("size_{p}_{i}"), Linkage::Local, &sig)
            .map_err(|e| format!("declare: {e}"))?;
        table.push(Some([w, z]));
    }
    Ok(table)
}

fn struct_sig(module: &JITModule) -> Signature {
    let ptr = module.target_config().pointer_type();
    let mut sig = module.make_signature();
    sig.params.extend([
        AbiParam::new(ptr),
        AbiParam::new(ptr),
        AbiParam::new(types::I32),
    ]);
    sig.returns.push(AbiParam::new(types::I32));
    sig
}

/// Builds the IR of the write or size function of struct `si` in `ctx.func`; returns its id
/// (`None`: not compiled). The engine compiles and defines it.
#[allow(clippy::too_many_arguments)]
pub(crate) fn build(
    module: &mut JITModule,
    plan: &Plan,
    table: &FuncTable,
    si: usize,
    mode: Mode,
    proto: Proto,
    ctx: &mut Context,
    fctx: &mut FunctionBuilderContext,
) -> Option<FuncId> {
    let ids = table[si]?;
    let id = ids[mode as usize];
    ctx.func.signature = struct_sig(module);
    ctx.func.name = UserFuncName::user(0, id.as_u32());
    let ptr = module.target_config().pointer_type();
    // Direct references to every compiled struct function, for nested structs.
    let mut refs = Vec::with_capacity(table.len());
    for ids in table {
        refs.push(ids.map(|ids| module.declare_func_in_func(ids[mode as usize], &mut ctx.func)));
    }
    let mut b = FunctionBuilder::new(&mut ctx.func, fctx);
    let sigs = Sigs::import(&mut b, module, ptr);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let params = b.block_params(entry).to_vec();
    let frontend = module.target_config();
    let last = b.declare_var(types::I32);
    let len = b.declare_var(ptr);
    let mut l = Lower {
        b,
        ptr,
        mode,
        proto,
        sigs,
        cx: params[0],
        refs,
        last,
        count: None,
        len,
        iter_slot: None,
        fail: None,
    };
    l.reload_out();
    l.lower_struct(&plan.structs[si], params[1], params[2]);
    l.fill_fail();
    l.b.seal_all_blocks();
    l.b.finalize(frontend);
    Some(id)
}

/// Signatures of the runtime helpers, imported into the function being built.
struct Sigs {
    reserve: SigRef,
    str_op: SigRef,
    node: SigRef,
    option_get: SigRef,
    enum_i32: SigRef,
    field_err: SigRef,
    depth: SigRef,
    /// `(ctx, u32, usize) -> i32`: a container's depth or count error.
    container: SigRef,
    /// `(ptr, ptr) -> ptr`: sequence length and data pointer.
    seq: SigRef,
    /// `(ptr, ptr, ptr) -> ptr`: `memcpy`.
    copy: SigRef,
    /// `(ctx, ptr, u32, i32, i32) -> i32`: kept unknown fields.
    unknown: SigRef,
    /// `(ptr, ptr)`: a map walk's start.
    iter_start: SigRef,
    /// `(ptr, ptr, ptr) -> ptr`: a walk's next batch.
    fill: SigRef,
    /// `(ctx, node, key, index, i32) -> i32`: a map entry's path segment.
    map_err: SigRef,
}

impl Sigs {
    fn import(b: &mut FunctionBuilder<'_>, module: &JITModule, ptr: Type) -> Sigs {
        let mut sig = |params: &[Type], ret: Type| {
            let mut s = module.make_signature();
            s.params.extend(params.iter().map(|t| AbiParam::new(*t)));
            s.returns.push(AbiParam::new(ret));
            b.import_signature(s)
        };
        Sigs {
            reserve: sig(&[ptr, ptr], types::I32),
            str_op: sig(&[ptr, ptr, types::I32], types::I32),
            node: sig(&[ptr, ptr, ptr, types::I32, types::I32], types::I32),
            option_get: sig(&[ptr, ptr], ptr),
            enum_i32: sig(&[ptr, ptr], types::I32),
            field_err: sig(&[ptr, ptr], types::I32),
            depth: sig(&[ptr], types::I32),
            container: sig(&[ptr, types::I32, ptr], types::I32),
            seq: sig(&[ptr, ptr], ptr),
            copy: sig(&[ptr, ptr, ptr], ptr),
            unknown: sig(&[ptr, ptr, types::I32, types::I32, types::I32], types::I32),
            map_err: sig(&[ptr, ptr, ptr, ptr, types::I32], types::I32),
            fill: sig(&[ptr, ptr, ptr], ptr),
            iter_start: {
                let mut s = module.make_signature();
                s.params.extend([AbiParam::new(ptr), AbiParam::new(ptr)]);
                b.import_signature(s)
            },
        }
    }
}

struct Lower<'f> {
    b: FunctionBuilder<'f>,
    ptr: Type,
    mode: Mode,
    proto: Proto,
    sigs: Sigs,
    /// The context argument.
    cx: Value,
    refs: Vec<Option<ir::FuncRef>>,
    /// Compact: the id of the last field written (headers carry deltas).
    last: Variable,
    /// An IDL-only union: the number of members written so far.
    count: Option<Variable>,
    /// The context's output length, kept in a register: stored back before every call that
    /// takes the context and before returning, and read again after such calls (the buffer
    /// and capacity, which only helpers change, are read from the context where needed:
    /// keeping them in registers too cost compile time and gained nothing).
    len: Variable,
    /// Room for a map iterator, made when the first map is walked.
    iter_slot: Option<ir::StackSlot>,
    /// The function's one failure exit (made when first needed, filled last): adds the field
    /// its argument names (null: none) to the error path and returns `STATUS_ERROR`. One
    /// shared exit instead of one per check keeps the function small to compile.
    fail: Option<Block>,
}

/// Elements or entries fetched per call of a walk's `iter_fill` (see [`Lower::emit_walk`]).
const WALK_BATCH: usize = 16;

/// A walk over a set or map in progress, as [`Lower::emit_walk`] leaves it in its body.
struct Walk {
    /// Where the walk goes on: the position in the batch and in the walk.
    inner: Block,
    /// The current element's (or entry's) position in the whole walk.
    i: Value,
    /// Its position in the batch.
    j: Value,
    /// Pointers to it: a set's element; a map entry's key and value.
    ptrs: Vec<Value>,
}

impl Walk {
    /// After the current element: to `fail` (with `args`) when `status` is not OK, on to the
    /// next element otherwise.
    fn next(&self, l: &mut Lower<'_>, status: Value, fail: Block, args: &[BlockArg]) {
        let j = l.b.ins().iadd_imm_s(self.j, 1);
        let i = l.b.ins().iadd_imm_s(self.i, 1);
        l.b.ins().brif(
            status,
            fail,
            args,
            self.inner,
            &[BlockArg::Value(j), BlockArg::Value(i)],
        );
    }
}

/// How a map's walk goes on to its next entry.
enum Next {
    /// A descriptor's iterator.
    Walk(Walk),
    /// An IDL-only record's map: by position, at this loop head.
    Index(Block),
}

/// Where a list's or set's elements are.
#[derive(Clone, Copy)]
enum Seq {
    /// A `Vec<T>`: side by side.
    Vec(&'static SeqDesc),
    /// An IDL-only record's raw vector of elements this many bytes apart.
    Raw(usize),
    /// A `HashSet` or `BTreeSet`: walked.
    Set(&'static SetDesc),
}

/// How a list's elements lie: side by side in a `Vec` or in an IDL-only record's vector.
fn seq(repr: &SeqRepr) -> Seq {
    match repr {
        SeqRepr::Std(sd) => Seq::Vec(sd),
        SeqRepr::Raw(el) => Seq::Raw(el.size),
    }
}

/// A list's elements: their node, count, start and the distance between them.
#[derive(Clone, Copy)]
struct Elems<'a> {
    node: &'a Node,
    n: Value,
    base: Value,
    stride: i64,
}

/// A Binary field header (type code and id) still to be written: the value's first
/// reservation takes it along (see `Lower::payload_takes_head`).
type Head = Option<(TType, i16)>;

/// Loads from the context and from values: aligned, never trapping.
fn trusted() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// Stores into the output buffer: possibly unaligned.
fn out_flags() -> MemFlagsData {
    MemFlagsData::new().with_notrap()
}

impl Lower<'_> {
    fn iconst_ptr(&mut self, v: usize) -> Value {
        self.b.ins().iconst(self.ptr, v as i64)
    }

    /// Calls a runtime helper; one that takes the context sees (and may change) the output
    /// length kept in a register.
    fn call_helper(&mut self, sig: SigRef, addr: usize, args: &[Value]) -> Value {
        let f = self.iconst_ptr(addr);
        let uses_ctx = args.contains(&self.cx);
        if uses_ctx {
            self.flush_out();
        }
        let call = self.b.ins().call_indirect(sig, f, args);
        let r = self.b.inst_results(call)[0];
        if uses_ctx {
            self.reload_out();
        }
        r
    }

    /// Calls a compiled struct function (it takes the context).
    fn call_fn(&mut self, f: ir::FuncRef, args: &[Value]) -> Value {
        self.flush_out();
        let call = self.b.ins().call(f, args);
        let r = self.b.inst_results(call)[0];
        self.reload_out();
        r
    }

    /// Returns `status`, with the output length stored back in the context.
    fn ret(&mut self, status: Value) {
        self.flush_out();
        self.b.ins().return_(&[status]);
    }

    /// Adds `n` to the output length (size mode: the count so far).
    fn add_len(&mut self, n: Value) {
        let len = self.b.use_var(self.len);
        let len = self.b.ins().iadd(len, n);
        self.b.def_var(self.len, len);
    }

    /// Size mode: a Compact container header of one byte when `one_byte`, else a byte and
    /// the count `n` as a varint.
    fn size_count_header(&mut self, one_byte: Value, n: Value) {
        let vl = self.emit_varint_len(n);
        let long = self.b.ins().iadd_imm_s(vl, 1);
        let one = self.iconst_ptr(1);
        let h = self.b.ins().select(one_byte, one, long);
        self.add_len(h);
    }

    /// Stores the output length kept in a register into the context.
    fn flush_out(&mut self) {
        let len = self.b.use_var(self.len);
        self.b.ins().store(trusted(), len, self.cx, ENC_LEN);
    }

    /// Reads the context's output length into its register (at entry and after calls).
    fn reload_out(&mut self) {
        let cx = self.cx;
        let len = self.b.ins().load(self.ptr, trusted(), cx, ENC_LEN);
        self.b.def_var(self.len, len);
    }

    /// Returns `STATUS_ERROR` from the function when `status` is not `STATUS_OK`, adding
    /// `field` to the error path first when given (through the shared failure exit).
    fn emit_check(&mut self, status: Value, field: Option<&FieldPlan>) {
        let fail = self.fail_block();
        let cont = self.b.create_block();
        // The field's address (null: none) is made on the cold edge only.
        let stub = self.b.create_block();
        self.b.set_cold_block(stub);
        self.b.ins().brif(status, stub, &[], cont, &[]);
        self.b.switch_to_block(stub);
        let fp = self.iconst_ptr(field.map_or(0, |f| f as *const FieldPlan as usize));
        self.b.ins().jump(fail, &[BlockArg::Value(fp)]);
        self.b.switch_to_block(cont);
    }

    /// Ends a cold block: to the failure exit (no field) when `status` is not 0, else to
    /// `cont`.
    fn emit_check_to(&mut self, status: Value, cont: Block) {
        let fail = self.fail_block();
        let none = self.iconst_ptr(0);
        self.b
            .ins()
            .brif(status, fail, &[BlockArg::Value(none)], cont, &[]);
    }

    /// The function's failure exit (see [`Lower::fail`]).
    fn fail_block(&mut self) -> Block {
        *self.fail.get_or_insert_with(|| {
            let fail = self.b.create_block();
            self.b.append_block_param(fail, self.ptr);
            self.b.set_cold_block(fail);
            fail
        })
    }

    /// Fills the failure exit, if any check made it (after the body, which has returned).
    fn fill_fail(&mut self) {
        let Some(fail) = self.fail else { return };
        self.b.switch_to_block(fail);
        let fp = self.b.block_params(fail)[0];
        let cx = self.cx;
        self.call_helper(
            self.sigs.field_err,
            rt::rt_in_field as *const () as usize,
            &[cx, fp],
        );
        let e = self.b.ins().iconst(types::I32, STATUS_ERROR as i64);
        self.ret(e);
    }

    /// Room for `n` bytes: returns where to write them; the caller stores, then calls
    /// [`Self::emit_commit`]. In size mode, only counts.
    fn emit_reserve(&mut self, n: usize) -> Option<(Value, Value)> {
        let cx = self.cx;
        if self.mode == Mode::Size {
            let len = self.b.use_var(self.len);
            let len = self.b.ins().iadd_imm_s(len, n as i64);
            self.b.def_var(self.len, len);
            return None;
        }
        let len = self.b.use_var(self.len);
        let cap = self.b.ins().load(self.ptr, trusted(), self.cx, ENC_CAP);
        let avail = self.b.ins().isub(cap, len);
        let enough = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, avail, n as i64);
        let grow = self.b.create_block();
        let cont = self.b.create_block();
        self.b.set_cold_block(grow);
        self.b.ins().brif(enough, cont, &[], grow, &[]);
        self.b.switch_to_block(grow);
        let nv = self.iconst_ptr(n);
        let st = self.call_helper(
            self.sigs.reserve,
            rt::rt_reserve as *const () as usize,
            &[cx, nv],
        );
        self.emit_check_to(st, cont);
        self.b.switch_to_block(cont);
        let buf = self.b.ins().load(self.ptr, trusted(), self.cx, ENC_BUF);
        let len = self.b.use_var(self.len);
        let dst = self.b.ins().iadd(buf, len);
        Some((dst, len))
    }

    /// Compact field header for a field of id `id` and type code `code` at `dst` (write
    /// mode; room for 4 bytes reserved) or counted (size mode, `dst` is `None`). Returns the
    /// header's length.
    fn emit_cheader(&mut self, dst: Option<Value>, code: Value, id: i16) -> Value {
        let last = self.b.use_var(self.last);
        let idv = self.b.ins().iconst(types::I32, id as i64);
        let delta = self.b.ins().isub(idv, last);
        let dm1 = self.b.ins().iadd_imm_s(delta, -1);
        let short = self.b.ins().icmp_imm_u(IntCC::UnsignedLessThan, dm1, 15);
        let zz = zigzag32(id as i32) as u64;
        let long_len = 1 + varint_len(zz);
        self.b.def_var(self.last, idv);
        let Some(dst) = dst else {
            let one = self.iconst_ptr(1);
            let long = self.iconst_ptr(long_len);
            return self.b.ins().select(short, one, long);
        };
        let sb = self.b.create_block();
        let lb = self.b.create_block();
        let join = self.b.create_block();
        self.b.append_block_param(join, self.ptr);
        self.b.ins().brif(short, sb, &[], lb, &[]);
        self.b.switch_to_block(sb);
        let d = self.b.ins().ishl_imm_u(delta, 4);
        let d = self.b.ins().ireduce(types::I8, d);
        let byte = self.b.ins().bor(d, code);
        self.b.ins().store(out_flags(), byte, dst, 0);
        let one = self.iconst_ptr(1);
        self.b.ins().jump(join, &[BlockArg::Value(one)]);
        self.b.switch_to_block(lb);
        self.b.ins().store(out_flags(), code, dst, 0);
        let mut v = zz;
        let mut at = 1;
        loop {
            let byte = if v < 0x80 { v } else { (v & 0x7f) | 0x80 };
            let c = self.b.ins().iconst(types::I8, byte as i64);
            self.b.ins().store(out_flags(), c, dst, at);
            at += 1;
            v >>= 7;
            if v == 0 {
                break;
            }
        }
        let long = self.iconst_ptr(long_len);
        self.b.ins().jump(join, &[BlockArg::Value(long)]);
        self.b.switch_to_block(join);
        self.b.block_params(join)[0]
    }

    /// Writes `v` (i64) as a varint at `dst`; returns its length.
    fn emit_varint(&mut self, v: Value, dst: Value) -> Value {
        let head = self.b.create_block();
        let more = self.b.create_block();
        let last = self.b.create_block();
        let exit = self.b.create_block();
        self.b.append_block_param(head, types::I64);
        self.b.append_block_param(head, self.ptr);
        self.b.append_block_param(exit, self.ptr);
        self.b
            .ins()
            .jump(head, &[BlockArg::Value(v), BlockArg::Value(dst)]);
        self.b.switch_to_block(head);
        let (v, p) = (self.b.block_params(head)[0], self.b.block_params(head)[1]);
        let small = self.b.ins().icmp_imm_u(IntCC::UnsignedLessThan, v, 0x80);
        self.b.ins().brif(small, last, &[], more, &[]);
        self.b.switch_to_block(more);
        let low = self.b.ins().bor_imm_s(v, 0x80);
        let low = self.b.ins().ireduce(types::I8, low);
        self.b.ins().store(out_flags(), low, p, 0);
        let v2 = self.b.ins().ushr_imm_u(v, 7);
        let p2 = self.b.ins().iadd_imm_s(p, 1);
        self.b
            .ins()
            .jump(head, &[BlockArg::Value(v2), BlockArg::Value(p2)]);
        self.b.switch_to_block(last);
        let b = self.b.ins().ireduce(types::I8, v);
        self.b.ins().store(out_flags(), b, p, 0);
        let end = self.b.ins().iadd_imm_s(p, 1);
        self.b.ins().jump(exit, &[BlockArg::Value(end)]);
        self.b.switch_to_block(exit);
        let end = self.b.block_params(exit)[0];
        self.b.ins().isub(end, dst)
    }

    /// Writes `v` (i64) as a varint at `dst`, which has room for the longest (ten bytes; it
    /// may write past the varint's end within them); returns its length. One or two bytes:
    /// one store; up to eight, the 7-bit groups spread into a word in three steps and the
    /// continuation bits set by the length, one store; longer, eight bytes so and the last one
    /// or two by themselves. No branch per byte, unlike [`Self::emit_varint`]'s loop, which
    /// costs about a branch per byte of a long varint (the workloads' extreme i32s and i64s).
    fn emit_varint_wide(&mut self, v: Value, dst: Value) -> Value {
        let one = self.b.create_block();
        let many = self.b.create_block();
        let word = self.b.create_block();
        let long = self.b.create_block();
        let exit = self.b.create_block();
        self.b.append_block_param(exit, self.ptr);
        let small = self.b.ins().icmp_imm_u(IntCC::UnsignedLessThan, v, 0x80);
        self.b.ins().brif(small, one, &[], many, &[]);

        self.b.switch_to_block(one);
        let x = self.b.ins().ireduce(types::I8, v);
        self.b.ins().store(out_flags(), x, dst, 0);
        let n1 = self.iconst_ptr(1);
        self.b.ins().jump(exit, &[BlockArg::Value(n1)]);

        // Two bytes: one 16-bit store.
        self.b.switch_to_block(many);
        let pair = self.b.create_block();
        let more = self.b.create_block();
        let short = self.b.ins().icmp_imm_u(IntCC::UnsignedLessThan, v, 0x4000);
        self.b.ins().brif(short, pair, &[], more, &[]);
        self.b.switch_to_block(pair);
        let lo = self.b.ins().band_imm_s(v, 0x7f);
        let lo = self.b.ins().bor_imm_s(lo, 0x80);
        let hi = self.b.ins().ishl_imm_u(v, 1);
        let hi = self.b.ins().band_imm_s(hi, 0x7f00);
        let x = self.b.ins().bor(lo, hi);
        let x = self.b.ins().ireduce(types::I16, x);
        self.b.ins().store(out_flags(), x, dst, 0);
        let n2 = self.iconst_ptr(2);
        self.b.ins().jump(exit, &[BlockArg::Value(n2)]);

        self.b.switch_to_block(more);
        let n = self.emit_varint_len(v);
        let spread = self.emit_spread_groups(v);
        let fits = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedLessThanOrEqual, n, 8);
        self.b.ins().brif(fits, word, &[], long, &[]);

        // Two to eight bytes: continuation bits on all but the last (`n` - 1 of them).
        self.b.switch_to_block(word);
        let bits = self.b.ins().imul_imm_u(n, 8);
        let c72 = self.b.ins().iconst(types::I64, 72);
        let shift = self.b.ins().isub(c72, bits);
        let cont = self
            .b
            .ins()
            .iconst(types::I64, 0x8080_8080_8080_8080_u64 as i64);
        let cont = self.b.ins().ushr(cont, shift);
        let w = self.b.ins().bor(spread, cont);
        self.b.ins().store(out_flags(), w, dst, 0);
        self.b.ins().jump(exit, &[BlockArg::Value(n)]);

        // Nine or ten bytes: eight full ones, then bits 56-62 (continued when there is a
        // tenth) and bit 63.
        self.b.switch_to_block(long);
        let w = self
            .b
            .ins()
            .bor_imm_s(spread, 0x8080_8080_8080_8080_u64 as i64);
        self.b.ins().store(out_flags(), w, dst, 0);
        let hi = self.b.ins().ushr_imm_u(v, 56);
        let b8 = self.b.ins().band_imm_s(hi, 0x7f);
        let ten = self.b.ins().icmp_imm_u(IntCC::Equal, n, 10);
        let ten = self.b.ins().uextend(types::I64, ten);
        let c8 = self.b.ins().ishl_imm_u(ten, 7);
        let b8 = self.b.ins().bor(b8, c8);
        let b8 = self.b.ins().ireduce(types::I8, b8);
        self.b.ins().store(out_flags(), b8, dst, 8);
        let b9 = self.b.ins().ushr_imm_u(v, 63);
        let b9 = self.b.ins().ireduce(types::I8, b9);
        self.b.ins().store(out_flags(), b9, dst, 9);
        self.b.ins().jump(exit, &[BlockArg::Value(n)]);

        self.b.switch_to_block(exit);
        self.b.block_params(exit)[0]
    }

    /// The low 56 bits of `v` as eight 7-bit groups, one per byte, lowest first (top bits
    /// clear): halves of 28 bits into 32-bit lanes, then 14 into 16, then 7 into 8.
    fn emit_spread_groups(&mut self, v: Value) -> Value {
        let mut x = self.b.ins().band_imm_s(v, 0x00ff_ffff_ffff_ffff);
        for (keep, high, shift) in [
            (0x0000_0000_0fff_ffff_u64, 0x00ff_ffff_f000_0000_u64, 4),
            (0x0000_3fff_0000_3fff, 0x0fff_c000_0fff_c000, 2),
            (0x007f_007f_007f_007f, 0x3f80_3f80_3f80_3f80, 1),
        ] {
            let lo = self.b.ins().band_imm_s(x, keep as i64);
            let hi = self.b.ins().band_imm_s(x, high as i64);
            let hi = self.b.ins().ishl_imm_u(hi, shift);
            x = self.b.ins().bor(lo, hi);
        }
        x
    }

    /// The length of `v` (i64) as a varint.
    fn emit_varint_len(&mut self, v: Value) -> Value {
        let v1 = self.b.ins().bor_imm_s(v, 1);
        let lz = self.b.ins().clz(v1);
        let c64 = self.b.ins().iconst(types::I64, 64);
        let bits = self.b.ins().isub(c64, lz);
        // ceil(bits / 7) for bits in 1..=64.
        let x = self.b.ins().iadd_imm_s(bits, 6);
        let x = self.b.ins().imul_imm_u(x, 37);
        self.b.ins().ushr_imm_u(x, 8)
    }

    /// The zigzag encoding (as an i64 to write as a varint) of the integer `node` at `p`.
    fn emit_zigzag(&mut self, node: &Node, p: Value) -> Value {
        let x32 = match node {
            Node::I16 => {
                let x = self.b.ins().load(types::I16, trusted(), p, 0);
                self.b.ins().sextend(types::I32, x)
            }
            Node::I32 | Node::Enum(EnumRepr::Open) => {
                self.b.ins().load(types::I32, trusted(), p, 0)
            }
            Node::Enum(EnumRepr::Rust(ed)) => self.emit_enum_value(ed, p),
            _ => {
                let b = &mut self.b;
                let x = b.ins().load(types::I64, trusted(), p, 0);
                let l = b.ins().ishl_imm_u(x, 1);
                let r = b.ins().sshr_imm_u(x, 63);
                return b.ins().bxor(l, r);
            }
        };
        let b = &mut self.b;
        let l = b.ins().ishl_imm_u(x32, 1);
        let r = b.ins().sshr_imm_u(x32, 31);
        let z = b.ins().bxor(l, r);
        b.ins().uextend(types::I64, z)
    }

    /// Compact: header and value of a present field.
    fn lower_value_compact(&mut self, f: &FieldPlan, p: Value, depth: Value) {
        // Bools (boxed ones too): the value is the header's type code (1 true, 2 false).
        if is_bool(&f.node) {
            let p = self.emit_unbox(&f.node, p);
            let x = self.b.ins().load(types::I8, trusted(), p, 0);
            let two = self.b.ins().iconst(types::I8, 2);
            let code = self.b.ins().isub(two, x);
            if self.mode == Mode::Size {
                self.emit_add_len(None, f.id);
            } else if let Some((dst, len)) = self.emit_reserve(4) {
                let h = self.emit_cheader(Some(dst), code, f.id);
                let len = self.b.ins().iadd(len, h);
                self.b.def_var(self.len, len);
            }
            return;
        }
        let code = compact_code(f.ttype);
        let fixed = match &f.node {
            Node::I8 => Some(1),
            Node::I16 => Some(3),
            Node::I32 | Node::Enum(_) => Some(5),
            Node::I64 => Some(10),
            Node::Double => Some(8),
            Node::Uuid => Some(16),
            _ => None,
        };
        if let Some(max) = fixed {
            let varint = matches!(f.node, Node::I16 | Node::I32 | Node::Enum(_) | Node::I64);
            let zz = varint.then(|| self.emit_zigzag(&f.node, p));
            if self.mode == Mode::Size {
                let h = self.size_cheader(f.id);
                let v = match zz {
                    Some(zz) => self.emit_varint_len(zz),
                    None => self.iconst_ptr(max),
                };
                let n = self.b.ins().iadd(h, v);
                self.add_len(n);
                return;
            }
            // A varint is written in words: room for the longest.
            let room = if varint { 10 } else { max };
            let Some((dst, len)) = self.emit_reserve(4 + room) else {
                return;
            };
            let c = self.b.ins().iconst(types::I8, code as i64);
            let h = self.emit_cheader(Some(dst), c, f.id);
            let at = self.b.ins().iadd(dst, h);
            let v = match (&f.node, zz) {
                (_, Some(zz)) => self.emit_varint_wide(zz, at),
                (Node::Double, _) => {
                    // Little-endian on the wire, like the host.
                    let x = self.b.ins().load(types::I64, trusted(), p, 0);
                    self.b.ins().store(out_flags(), x, at, 0);
                    self.iconst_ptr(8)
                }
                (node, _) => {
                    // i8 and uuid: raw bytes, as in Binary.
                    self.emit_scalar(node, p, at, 0);
                    self.iconst_ptr(max)
                }
            };
            let n = self.b.ins().iadd(h, v);
            let len = self.b.ins().iadd(len, n);
            self.b.def_var(self.len, len);
            return;
        }
        if self.mode == Mode::Size {
            self.emit_add_len(None, f.id);
        } else if let Some((dst, len)) = self.emit_reserve(4) {
            let c = self.b.ins().iconst(types::I8, code as i64);
            let h = self.emit_cheader(Some(dst), c, f.id);
            let len = self.b.ins().iadd(len, h);
            self.b.def_var(self.len, len);
        }
        self.lower_payload(f, p, depth, None);
    }

    /// The boxed value inside `node` at `p` (`p` itself when `node` is not a box).
    fn emit_unbox(&mut self, node: &Node, p: Value) -> Value {
        if !matches!(node, Node::Boxed(..)) {
            return p;
        }
        let np = self.iconst_ptr(node as *const Node as usize);
        self.call_helper(
            self.sigs.option_get,
            rt::rt_unbox as *const () as usize,
            &[np, p],
        )
    }

    /// Size mode: the length of a Compact field header.
    fn size_cheader(&mut self, id: i16) -> Value {
        let code = self.b.ins().iconst(types::I8, 0);
        self.emit_cheader(None, code, id)
    }

    /// Size mode: adds a Compact field header's length (`extra` more bytes).
    fn emit_add_len(&mut self, extra: Option<Value>, id: i16) {
        let h = self.size_cheader(id);
        let n = match extra {
            Some(e) => self.b.ins().iadd(h, e),
            None => h,
        };
        self.add_len(n);
    }

    fn emit_commit(&mut self, len: Value, n: usize) {
        let len = self.b.ins().iadd_imm_s(len, n as i64);
        self.b.def_var(self.len, len);
    }

    /// Writes a Binary field header (type byte, big-endian id) at `dst`.
    fn emit_header(&mut self, dst: Value, ttype: TType, id: i16) {
        let t = self.b.ins().iconst(types::I8, ttype as i64);
        self.b.ins().store(out_flags(), t, dst, 0);
        let id = self
            .b
            .ins()
            .iconst(types::I16, i16::from_be_bytes(id.to_ne_bytes()) as i64);
        self.b.ins().store(out_flags(), id, dst, 1);
    }

    fn lower_struct(&mut self, s: &StructPlan, v: Value, depth: Value) {
        // The nesting budget: one level per struct, as in the interpreter.
        let out = self.b.create_block();
        let cont = self.b.create_block();
        self.b.set_cold_block(out);
        self.b.ins().brif(depth, cont, &[], out, &[]);
        self.b.switch_to_block(out);
        let cx = self.cx;
        let st = self.call_helper(self.sigs.depth, rt::rt_depth as *const () as usize, &[cx]);
        self.ret(st);
        self.b.switch_to_block(cont);
        let depth = self.b.ins().iadd_imm_s(depth, -1);
        let zero = self.b.ins().iconst(types::I32, 0);
        self.b.def_var(self.last, zero);

        if let Some(uv) = s.union {
            self.lower_union(s, uv, v, depth);
        } else if self.lower_fields(s, v, depth) {
            return;
        }
        if let Some(off) = s.unknown_fields {
            // Kept unknown fields go last, before the stop byte.
            let uf = self.b.ins().iadd_imm_s(v, off as i64);
            let last = self.b.use_var(self.last);
            let size = self
                .b
                .ins()
                .iconst(types::I32, (self.mode == Mode::Size) as i64);
            let helper = match self.proto {
                Proto::Binary => rt::rt_unknown as *const () as usize,
                Proto::Compact => rt::rt_cunknown as *const () as usize,
            };
            let cx = self.cx;
            let st = self.call_helper(self.sigs.unknown, helper, &[cx, uf, depth, last, size]);
            self.emit_check(st, None);
        }
        if let Some((dst, len)) = self.emit_reserve(1) {
            let zero = self.b.ins().iconst(types::I8, 0);
            self.b.ins().store(out_flags(), zero, dst, 0);
            self.emit_commit(len, 1);
        }
        let ok = self.b.ins().iconst(types::I32, STATUS_OK as i64);
        self.ret(ok);
    }

    /// A union held in a Rust enum: the variant its table reports, as that field.
    fn lower_union(
        &mut self,
        s: &StructPlan,
        uv: &'static dynthrift_core::desc::UnionVTable,
        v: Value,
        depth: Value,
    ) {
        let cx = self.cx;
        let uvp = self.iconst_ptr(uv as *const _ as usize);
        let i = self.call_helper(
            self.sigs.seq,
            rt::rt_union_variant as *const () as usize,
            &[uvp, v],
        );
        let payload = self.call_helper(
            self.sigs.seq,
            rt::rt_union_payload as *const () as usize,
            &[uvp, v],
        );
        let bad = self.b.create_block();
        let dispatch = self.b.create_block();
        let join = self.b.create_block();
        self.b.set_cold_block(bad);
        let fits = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedLessThan, i, s.fields.len() as i64);
        self.b.ins().brif(fits, dispatch, &[], bad, &[]);
        self.b.switch_to_block(bad);
        let st = self.call_helper(
            self.sigs.reserve,
            rt::rt_union_bad_variant as *const () as usize,
            &[cx, i],
        );
        self.ret(st);
        self.b.switch_to_block(dispatch);
        let blocks: Vec<Block> = s.fields.iter().map(|_| self.b.create_block()).collect();
        let pool = &mut self.b.func.dfg.value_lists;
        let entries: Vec<ir::BlockCall> = blocks
            .iter()
            .map(|&b| ir::BlockCall::new(b, std::iter::empty(), pool))
            .collect();
        let default = ir::BlockCall::new(bad, std::iter::empty(), pool);
        let jt = self
            .b
            .create_jump_table(ir::JumpTableData::new(default, &entries));
        let i32v = self.b.ins().ireduce(types::I32, i);
        self.b.ins().br_table(i32v, jt);
        for (f, &block) in s.fields.iter().zip(&blocks) {
            self.b.switch_to_block(block);
            self.lower_value(f, payload, depth);
            self.b.ins().jump(join, &[]);
        }
        self.b.switch_to_block(join);
    }

    /// The fields of a struct, exception or IDL-only union (whose members are counted: it
    /// must have exactly one set). True when the function is complete (a fixed run wrote
    /// the stop byte and returned).
    fn lower_fields(&mut self, s: &StructPlan, v: Value, depth: Value) -> bool {
        let counts = s.kind == StructKind::Union;
        if counts {
            let c = self.b.declare_var(self.ptr);
            let zero = self.iconst_ptr(0);
            self.b.def_var(c, zero);
            self.count = Some(c);
        }
        // Only a plain struct may end with a fixed run that includes the stop byte.
        let plain = !counts && s.unknown_fields.is_none();
        let mut i = 0;
        while i < s.fields.len() {
            // Binary: a run of always-present fixed-size fields (with the stop byte when the
            // run ends the struct) takes one reservation (write) or one addition (size).
            let run = if self.proto == Proto::Binary {
                s.fields[i..]
                    .iter()
                    .take_while(|f| {
                        matches!(f.presence, Presence::Always) && fixed_width(&f.node).is_some()
                    })
                    .count()
            } else {
                0
            };
            let ends = plain && i + run == s.fields.len();
            if run >= 2 || (run == 1 && ends) {
                self.lower_fixed_run(&s.fields[i..i + run], v, ends);
                if ends {
                    let ok = self.b.ins().iconst(types::I32, STATUS_OK as i64);
                    self.ret(ok);
                    return true;
                }
                i += run;
                continue;
            }
            let f = &s.fields[i];
            let next = self.b.create_block();
            self.lower_field(f, v, depth, next);
            self.b.ins().jump(next, &[]);
            self.b.switch_to_block(next);
            i += 1;
        }
        if let Some(c) = self.count.take() {
            let n = self.b.use_var(c);
            let one = self.b.ins().icmp_imm_s(IntCC::Equal, n, 1);
            let bad = self.b.create_block();
            let ok = self.b.create_block();
            self.b.set_cold_block(bad);
            self.b.ins().brif(one, ok, &[], bad, &[]);
            self.b.switch_to_block(bad);
            let cx = self.cx;
            let st = self.call_helper(
                self.sigs.reserve,
                rt::rt_union_count as *const () as usize,
                &[cx, n],
            );
            self.ret(st);
            self.b.switch_to_block(ok);
        }
        false
    }

    /// Binary: headers and values of always-present fixed-size fields `fs`, then the stop
    /// byte when `stop`, in one reservation (size mode: one addition).
    fn lower_fixed_run(&mut self, fs: &[FieldPlan], v: Value, stop: bool) {
        let total: usize = fs
            .iter()
            .map(|f| 3 + fixed_width(&f.node).unwrap_or(0))
            .sum::<usize>()
            + stop as usize;
        let Some((dst, len)) = self.emit_reserve(total) else {
            return;
        };
        let mut off = 0usize;
        for f in fs {
            let at = self.b.ins().iadd_imm_s(dst, off as i64);
            self.emit_header(at, f.ttype, f.id);
            let slot = self.b.ins().iadd_imm_s(v, f.offset as i64);
            self.emit_scalar(&f.node, slot, dst, (off + 3) as i32);
            off += 3 + fixed_width(&f.node).unwrap_or(0);
        }
        if stop {
            let zero = self.b.ins().iconst(types::I8, 0);
            self.b.ins().store(out_flags(), zero, dst, off as i32);
        }
        self.emit_commit(len, total);
    }

    /// Jumps to `absent` when the field is not present; returns a pointer to its value.
    fn lower_presence(&mut self, f: &FieldPlan, v: Value, absent: Block) -> Value {
        let slot = self.b.ins().iadd_imm_s(v, f.offset as i64);
        let value = match f.presence {
            Presence::Always => slot,
            Presence::Option(od) => {
                let odp = self.iconst_ptr(od as *const _ as usize);
                let q = self.call_helper(
                    self.sigs.option_get,
                    rt::rt_option_get as *const () as usize,
                    &[odp, slot],
                );
                let present = self.b.create_block();
                self.b.ins().brif(q, present, &[], absent, &[]);
                self.b.switch_to_block(present);
                q
            }
            Presence::Bit(n) => {
                let word = self
                    .b
                    .ins()
                    .load(types::I64, trusted(), v, ((n / 64) * 8) as i32);
                let bit = self.b.ins().band_imm_s(word, 1i64 << (n % 64));
                let present = self.b.create_block();
                self.b.ins().brif(bit, present, &[], absent, &[]);
                self.b.switch_to_block(present);
                slot
            }
        };
        if let Node::Record(_) = f.node {
            let rec = self.b.ins().load(self.ptr, trusted(), value, 0);
            let present = self.b.create_block();
            self.b.ins().brif(rec, present, &[], absent, &[]);
            self.b.switch_to_block(present);
        }
        value
    }

    fn lower_field(&mut self, f: &FieldPlan, v: Value, depth: Value, next: Block) {
        let absent = self.b.create_block();
        let p = self.lower_presence(f, v, absent);
        self.lower_value(f, p, depth);
        if let Some(c) = self.count {
            let n = self.b.use_var(c);
            let n = self.b.ins().iadd_imm_s(n, 1);
            self.b.def_var(c, n);
        }
        self.b.ins().jump(next, &[]);

        self.b.switch_to_block(absent);
        if f.req == Requiredness::Required {
            let fp = self.iconst_ptr(f as *const FieldPlan as usize);
            let cx = self.cx;
            let st = self.call_helper(
                self.sigs.field_err,
                rt::rt_missing as *const () as usize,
                &[cx, fp],
            );
            self.ret(st);
        } else {
            self.b.ins().jump(next, &[]);
        }
        // A fresh block for whatever the caller emits next (it is unreachable).
        let after = self.b.create_block();
        self.b.switch_to_block(after);
    }

    /// Header and value of a present field.
    fn lower_value(&mut self, f: &FieldPlan, p: Value, depth: Value) {
        if self.proto == Proto::Compact {
            return self.lower_value_compact(f, p, depth);
        }
        let fixed = fixed_width(&f.node);
        if let Some(n) = fixed {
            let Some((dst, len)) = self.emit_reserve(3 + n) else {
                return;
            };
            self.emit_header(dst, f.ttype, f.id);
            self.emit_scalar(&f.node, p, dst, 3);
            self.emit_commit(len, 3 + n);
            return;
        }
        // Strings and compiled containers write the header with their first bytes (one
        // reservation); everything else writes it first.
        let head = (f.ttype, f.id);
        if self.mode == Mode::Write && self.payload_takes_head(&f.node) {
            self.lower_payload(f, p, depth, Some(head));
            return;
        }
        self.emit_head(Some(head));
        self.lower_payload(f, p, depth, None);
    }

    /// Writes (size mode: counts) the Binary field header `head`, if any, on its own.
    fn emit_head(&mut self, head: Head) {
        let Some((ttype, id)) = head else { return };
        if let Some((dst, len)) = self.emit_reserve(3) {
            self.emit_header(dst, ttype, id);
            self.emit_commit(len, 3);
        }
    }

    /// Whether [`Self::lower_payload`] writes a value of `node` with the field header
    /// handed to it.
    fn payload_takes_head(&self, node: &Node) -> bool {
        match node {
            Node::String(_) | Node::Binary(_) => true,
            Node::List(elem, _) | Node::Set(elem, _) => self.elem_compiles(elem),
            Node::Map(key, value, _) => self.elem_compiles(key) && self.elem_compiles(value),
            _ => false,
        }
    }

    /// [`Self::emit_reserve`] for `n` bytes after the field header `head` (if any), which
    /// it writes: returns where the `n` bytes go and the output length before them.
    fn emit_reserve_after(&mut self, n: usize, head: Head) -> Option<(Value, Value)> {
        let Some((ttype, id)) = head else {
            return self.emit_reserve(n);
        };
        let (dst, len) = self.emit_reserve(3 + n)?;
        Some(self.emit_header_before(dst, len, ttype, id))
    }

    /// [`Self::emit_reserve_dyn`] for `n` bytes after the field header `head` (if any), as
    /// [`Self::emit_reserve_after`].
    fn emit_reserve_dyn_after(&mut self, n: Value, head: Head) -> (Value, Value) {
        let Some((ttype, id)) = head else {
            return self.emit_reserve_dyn(n);
        };
        let all = self.b.ins().iadd_imm_s(n, 3);
        let (dst, len) = self.emit_reserve_dyn(all);
        self.emit_header_before(dst, len, ttype, id)
    }

    /// Writes a field header at `dst` (the output length there: `len`); returns where the
    /// value goes and the length before it.
    fn emit_header_before(
        &mut self,
        dst: Value,
        len: Value,
        ttype: TType,
        id: i16,
    ) -> (Value, Value) {
        self.emit_header(dst, ttype, id);
        let dst = self.b.ins().iadd_imm_s(dst, 3);
        let len = self.b.ins().iadd_imm_s(len, 3);
        (dst, len)
    }

    /// A present field's value after its header (Binary write mode: with the header `head`,
    /// when [`Self::payload_takes_head`]): strings, structs, records, and lists, sets and
    /// maps of plain values, strings and compiled structs compiled; everything else through
    /// the interpreter (`rt_node`, `rt_cnode`); a failure names the field.
    fn lower_payload(&mut self, f: &FieldPlan, p: Value, depth: Value, head: Head) {
        let cx = self.cx;
        debug_assert!(head.is_none() || self.payload_takes_head(&f.node));
        let st = match &f.node {
            Node::List(elem, repr) if self.elem_compiles(elem) => {
                self.lower_list(elem, seq(repr), p, depth, head)
            }
            Node::Set(elem, repr) if self.elem_compiles(elem) => {
                let src = match repr {
                    SetRepr::Std(sd) => Seq::Set(sd),
                    SetRepr::Raw(el) => Seq::Raw(el.size),
                };
                self.lower_list(elem, src, p, depth, head)
            }
            Node::Map(key, value, repr) if self.elem_compiles(key) && self.elem_compiles(value) => {
                self.lower_map(key, value, repr, p, depth, head)
            }
            Node::String(_) | Node::Binary(_) => self.emit_str(&f.node, p, head),
            Node::Struct(si) if let Some(fref) = self.refs[*si] => {
                self.call_fn(fref, &[cx, p, depth])
            }
            // A record field: `lower_presence` checked the pointer is not null.
            Node::Record(si) if let Some(fref) = self.refs[*si] => {
                let rec = self.b.ins().load(self.ptr, trusted(), p, 0);
                self.call_fn(fref, &[cx, rec, depth])
            }
            node => {
                let np = self.iconst_ptr(node as *const Node as usize);
                let size = self
                    .b
                    .ins()
                    .iconst(types::I32, (self.mode == Mode::Size) as i64);
                let helper = match self.proto {
                    Proto::Binary => rt::rt_node as *const () as usize,
                    Proto::Compact => rt::rt_cnode as *const () as usize,
                };
                self.call_helper(self.sigs.node, helper, &[cx, np, p, depth, size])
            }
        };
        self.emit_check(st, Some(f));
    }

    /// Lists the JIT writes itself: elements that are plain, strings, or compiled structs.
    fn list_compiles(&self, elem: &Node) -> bool {
        match elem {
            Node::Bool
            | Node::I8
            | Node::I16
            | Node::I32
            | Node::I64
            | Node::Double
            | Node::Uuid => true,
            Node::String(_) | Node::Binary(_) => true,
            Node::Enum(EnumRepr::Open) => true,
            Node::Struct(si) => self.refs[*si].is_some(),
            _ => false,
        }
    }

    /// Container elements the JIT writes itself: what [`Self::list_compiles`] admits, and
    /// lists of those (`Vec<Vec<i32>>`, `HashMap<String, Vec<i64>>`). One level only, which
    /// bounds the code, and never a set or map inside: its walk would share the function's
    /// one walk state with the walk around it.
    fn elem_compiles(&self, elem: &Node) -> bool {
        match elem {
            Node::List(inner, _) => self.list_compiles(inner),
            _ => self.list_compiles(elem),
        }
    }

    /// Writes (or sizes) a list or set of plain values, strings, compiled structs or lists of
    /// those (see [`Self::elem_compiles`]), as the interpreter does: the header (Binary: the
    /// element type and a big-endian i32 count; Compact: the count in the high nibble up to
    /// 14, else 0xf and a varint), then the elements. Elements side by side (a `Vec`, an
    /// IDL-only record's raw vector): fixed-size ones in one reservation; Compact varints in
    /// runs as long as the buffer's room allows (see [`Self::lower_varint_elems`]); the
    /// others one call (or one inner list) each. A `HashSet` or
    /// `BTreeSet` is walked with its descriptor's iterator. Returns the status (element
    /// errors carry their index in the path).
    fn lower_list(&mut self, elem: &Node, src: Seq, p: Value, depth: Value, head: Head) -> Value {
        debug_assert!(head.is_none() || (self.proto, self.mode) == (Proto::Binary, Mode::Write));
        let done = self.b.create_block();
        self.b.append_block_param(done, types::I32);

        let (n, base, stride) = match src {
            Seq::Vec(sd) => {
                let sdp = self.iconst_ptr(sd as *const SeqDesc as usize);
                let n = self.call_helper(
                    self.sigs.seq,
                    rt::rt_seq_len as *const () as usize,
                    &[sdp, p],
                );
                let base = self.call_helper(
                    self.sigs.seq,
                    rt::rt_seq_ptr as *const () as usize,
                    &[sdp, p],
                );
                (n, Some(base), sd.elem_size)
            }
            Seq::Raw(size) => {
                let ptr = std::mem::offset_of!(RawVec, ptr) as i32;
                let len = std::mem::offset_of!(RawVec, len) as i32;
                let base = self.b.ins().load(self.ptr, trusted(), p, ptr);
                let n = self.b.ins().load(self.ptr, trusted(), p, len);
                (n, Some(base), size)
            }
            Seq::Set(sd) => {
                let sdp = self.iconst_ptr(sd as *const SetDesc as usize);
                let n = self.call_helper(
                    self.sigs.seq,
                    rt::rt_set_len as *const () as usize,
                    &[sdp, p],
                );
                (n, None, 0)
            }
        };
        // One nesting level for the list, as in the interpreter.
        let depth = self.emit_container_checks(depth, n, done);

        match self.proto {
            Proto::Binary => self.emit_list_header(elem, n, head),
            Proto::Compact => self.emit_clist_header(elem, n),
        }
        let zero = self.b.ins().iconst(types::I32, STATUS_OK as i64);
        let width = self.elem_width(elem);
        let Some(base) = base else {
            let Seq::Set(sd) = src else {
                unreachable!("only a set is walked")
            };
            if let (Mode::Size, Some(k)) = (self.mode, width) {
                let bytes = self.b.ins().imul_imm_u(n, k as i64);
                self.add_len(bytes);
                self.b.ins().jump(done, &[BlockArg::Value(zero)]);
            } else {
                self.lower_set_walk(elem, sd, p, depth, done, zero);
            }
            self.b.switch_to_block(done);
            return self.b.block_params(done)[0];
        };
        let elems = Elems {
            node: elem,
            n,
            base,
            stride: stride as i64,
        };
        if let Some(k) = width {
            self.lower_fixed_elems(elems, k);
            self.b.ins().jump(done, &[BlockArg::Value(zero)]);
        } else if self.elem_is_varint(elem) {
            self.lower_varint_elems(elems);
            self.b.ins().jump(done, &[BlockArg::Value(zero)]);
        } else {
            self.lower_elem_calls(elems, depth, done, zero);
        }
        self.b.switch_to_block(done);
        self.b.block_params(done)[0]
    }

    /// A set's elements, walked with its descriptor's iterator (in `for_each`'s order, as the
    /// interpreter walks it), each written by [`Self::emit_elem`]; on to `done` with `ok`
    /// after the last, or with the status of the first failure, which names the element's
    /// position.
    fn lower_set_walk(
        &mut self,
        elem: &Node,
        sd: &'static SetDesc,
        p: Value,
        depth: Value,
        done: Block,
        ok: Value,
    ) {
        let cx = self.cx;
        let w = self.emit_walk(
            p,
            sd.iter_start as usize,
            sd.iter_fill as usize,
            1,
            done,
            ok,
        );
        let fail = self.b.create_block();
        self.b.set_cold_block(fail);
        let st = self.emit_elem(elem, w.ptrs[0], depth);
        w.next(self, st, fail, &[]);
        self.b.switch_to_block(fail);
        let st = self.call_helper(
            self.sigs.reserve,
            rt::rt_at_index as *const () as usize,
            &[cx, w.i],
        );
        self.b.ins().jump(done, &[BlockArg::Value(st)]);
    }

    /// The walk over a set's elements (`per` 1) or a map's entries (`per` 2: key, value)
    /// with a descriptor's iterator: `start` writes it into the function's walk state, then
    /// each call of `fill` lists up to [`WALK_BATCH`] elements or entries in the state's
    /// batch; on to `done` with `ok` when one lists none. Returns the walk as it stands in its
    /// body (the current block): the element's position and pointers, and how to go on.
    fn emit_walk(
        &mut self,
        p: Value,
        start: usize,
        fill: usize,
        per: usize,
        done: Block,
        ok: Value,
    ) -> Walk {
        // The walk's thunks do not take the context: plain calls.
        let state = self.iter_state();
        let start = self.iconst_ptr(start);
        self.b
            .ins()
            .call_indirect(self.sigs.iter_start, start, &[p, state]);
        let batch = self.b.ins().iadd_imm_s(state, MAP_ITER_STATE as i64);
        let refill = self.b.create_block();
        let i_r = self.b.append_block_param(refill, self.ptr);
        let inner = self.b.create_block();
        let j = self.b.append_block_param(inner, self.ptr);
        let i = self.b.append_block_param(inner, self.ptr);
        let i0 = self.iconst_ptr(0);
        self.b.ins().jump(refill, &[BlockArg::Value(i0)]);

        // The next batch: how many it holds, from its first.
        self.b.switch_to_block(refill);
        let fill = self.iconst_ptr(fill);
        let cap = self.iconst_ptr(WALK_BATCH);
        let call = self
            .b
            .ins()
            .call_indirect(self.sigs.fill, fill, &[state, batch, cap]);
        let k = self.b.inst_results(call)[0];
        let got = self.b.create_block();
        let zero = self.iconst_ptr(0);
        self.b.ins().brif(
            k,
            inner,
            &[BlockArg::Value(zero), BlockArg::Value(i_r)],
            done,
            &[BlockArg::Value(ok)],
        );

        // The batch's element `j` (the walk's `i`): its pointers.
        self.b.switch_to_block(inner);
        let more = self.b.ins().icmp(IntCC::UnsignedLessThan, j, k);
        self.b
            .ins()
            .brif(more, got, &[], refill, &[BlockArg::Value(i)]);
        self.b.switch_to_block(got);
        let w = self.ptr.bytes() as usize;
        let off = self.b.ins().imul_imm_u(j, (per * w) as i64);
        let at = self.b.ins().iadd(batch, off);
        let ptrs = (0..per)
            .map(|n| self.b.ins().load(self.ptr, trusted(), at, (n * w) as i32))
            .collect();
        Walk { inner, i, j, ptrs }
    }

    /// Writes (or sizes) a map whose keys and values are ones lists are compiled for, as the
    /// interpreter does: the header (Binary: the key and value types and a big-endian i32
    /// count; Compact: 0 when empty, else the count as a varint and the two type codes in one
    /// byte), then each key and value inline or by one call. A `HashMap` or `BTreeMap` is
    /// walked with its descriptor's iterator (in `for_each`'s order, as the interpreter
    /// walks it), an IDL-only record's map by index. Binary maps of fixed-size entries are
    /// sized without walking them. Returns the status (entry errors carry the interpreter's
    /// path segment: the key's position, or the key of a failed value).
    fn lower_map(
        &mut self,
        key: &Node,
        value: &Node,
        repr: &MapRepr,
        p: Value,
        depth: Value,
        head: Head,
    ) -> Value {
        debug_assert!(head.is_none() || (self.proto, self.mode) == (Proto::Binary, Mode::Write));
        let cx = self.cx;
        let done = self.b.create_block();
        self.b.append_block_param(done, types::I32);
        let n = match repr {
            MapRepr::Std(md) => {
                let mdp = self.iconst_ptr(*md as *const MapDesc as usize);
                self.call_helper(
                    self.sigs.seq,
                    rt::rt_map_len as *const () as usize,
                    &[mdp, p],
                )
            }
            // Two raw vectors of equal length: the keys' length.
            MapRepr::Raw { .. } => {
                let off = std::mem::offset_of!(RawMap, keys) + std::mem::offset_of!(RawVec, len);
                self.b.ins().load(self.ptr, trusted(), p, off as i32)
            }
        };
        let depth = self.emit_container_checks(depth, n, done);
        self.emit_map_header(key, value, n, head);
        let ok = self.b.ins().iconst(types::I32, STATUS_OK as i64);
        if self.mode == Mode::Size
            && self.proto == Proto::Binary
            && let (Some(a), Some(b)) = (fixed_width(key), fixed_width(value))
        {
            let bytes = self.b.ins().imul_imm_u(n, (a + b) as i64);
            self.add_len(bytes);
            self.b.ins().jump(done, &[BlockArg::Value(ok)]);
            self.b.switch_to_block(done);
            return self.b.block_params(done)[0];
        }

        // The walk: the entry's key and value and its position, in the current block; then
        // on to the next entry.
        let (k, v, i, next) = match repr {
            MapRepr::Std(md) => {
                let (start, fill) = (md.iter_start as usize, md.iter_fill as usize);
                let w = self.emit_walk(p, start, fill, 2, done, ok);
                (w.ptrs[0], w.ptrs[1], w.i, Next::Walk(w))
            }
            MapRepr::Raw { key: kl, value: vl } => {
                let ptr = std::mem::offset_of!(RawVec, ptr);
                let (keys, values) = (
                    (std::mem::offset_of!(RawMap, keys) + ptr) as i32,
                    (std::mem::offset_of!(RawMap, values) + ptr) as i32,
                );
                let kbase = self.b.ins().load(self.ptr, trusted(), p, keys);
                let vbase = self.b.ins().load(self.ptr, trusted(), p, values);
                let head = self.b.create_block();
                let i = self.b.append_block_param(head, self.ptr);
                let i0 = self.iconst_ptr(0);
                self.b.ins().jump(head, &[BlockArg::Value(i0)]);
                self.b.switch_to_block(head);
                let more = self.b.ins().icmp(IntCC::UnsignedLessThan, i, n);
                let at = self.b.create_block();
                self.b
                    .ins()
                    .brif(more, at, &[], done, &[BlockArg::Value(ok)]);
                self.b.switch_to_block(at);
                let ko = self.b.ins().imul_imm_u(i, kl.size as i64);
                let kp = self.b.ins().iadd(kbase, ko);
                let vo = self.b.ins().imul_imm_u(i, vl.size as i64);
                let vp = self.b.ins().iadd(vbase, vo);
                (kp, vp, i, Next::Index(head))
            }
        };

        let fail = self.b.create_block();
        let is_value = self.b.append_block_param(fail, types::I32);
        self.b.set_cold_block(fail);
        let key_ok = self.b.create_block();
        let st = self.emit_elem(key, k, depth);
        let no = self.b.ins().iconst(types::I32, 0);
        self.b
            .ins()
            .brif(st, fail, &[BlockArg::Value(no)], key_ok, &[]);
        self.b.switch_to_block(key_ok);
        let st = self.emit_elem(value, v, depth);
        let yes = self.b.ins().iconst(types::I32, 1);
        let yes = [BlockArg::Value(yes)];
        match next {
            Next::Walk(w) => w.next(self, st, fail, &yes),
            Next::Index(head) => {
                let i1 = self.b.ins().iadd_imm_s(i, 1);
                self.b
                    .ins()
                    .brif(st, fail, &yes, head, &[BlockArg::Value(i1)]);
            }
        }
        self.b.switch_to_block(fail);
        let np = self.iconst_ptr(key as *const Node as usize);
        let st = self.call_helper(
            self.sigs.map_err,
            rt::rt_map_entry_err as *const () as usize,
            &[cx, np, k, i, is_value],
        );
        self.b.ins().jump(done, &[BlockArg::Value(st)]);
        self.b.switch_to_block(done);
        self.b.block_params(done)[0]
    }

    /// A container's checks, one branch for both: a nesting level taken from `depth`, and
    /// its count `n` fitting in an i32. A failure goes to `done` with the error the
    /// interpreter reports (the depth's first). Returns the elements' depth.
    fn emit_container_checks(&mut self, depth: Value, n: Value, done: Block) -> Value {
        let cx = self.cx;
        let deep = self.b.ins().icmp_imm_u(IntCC::Equal, depth, 0);
        let long = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedGreaterThan, n, i32::MAX as i64);
        let bad = self.b.ins().bor(deep, long);
        let fail = self.b.create_block();
        let ok = self.b.create_block();
        self.b.set_cold_block(fail);
        self.b.ins().brif(bad, fail, &[], ok, &[]);
        self.b.switch_to_block(fail);
        let st = self.call_helper(
            self.sigs.container,
            rt::rt_container_err as *const () as usize,
            &[cx, depth, n],
        );
        self.b.ins().jump(done, &[BlockArg::Value(st)]);
        self.b.switch_to_block(ok);
        self.b.ins().iadd_imm_s(depth, -1)
    }

    /// A map header for `n` entries (see [`Self::lower_map`]).
    fn emit_map_header(&mut self, key: &Node, value: &Node, n: Value, head: Head) {
        if self.proto == Proto::Binary {
            if let Some((dst, len)) = self.emit_reserve_after(6, head) {
                let t = (key.ttype() as u8 as u16) | ((value.ttype() as u8 as u16) << 8);
                let t = self.b.ins().iconst(types::I16, t as i64);
                self.b.ins().store(out_flags(), t, dst, 0);
                let n32 = self.b.ins().ireduce(types::I32, n);
                let n32 = self.b.ins().bswap(n32);
                self.b.ins().store(out_flags(), n32, dst, 2);
                self.emit_commit(len, 6);
            }
            return;
        }
        // Compact: `0`, or the count and then the key and value codes.
        let codes = (compact_code(key.ttype()) << 4) | compact_code(value.ttype());
        let empty = self.b.ins().icmp_imm_u(IntCC::Equal, n, 0);
        match self.mode {
            Mode::Size => {
                self.size_count_header(empty, n);
            }
            Mode::Write => {
                let (dst, len) = self.emit_reserve_dyn_const(6);
                let eb = self.b.create_block();
                let sb = self.b.create_block();
                let join = self.b.create_block();
                let h = self.b.append_block_param(join, self.ptr);
                self.b.ins().brif(empty, eb, &[], sb, &[]);
                self.b.switch_to_block(eb);
                let zero = self.b.ins().iconst(types::I8, 0);
                self.b.ins().store(out_flags(), zero, dst, 0);
                let one = self.iconst_ptr(1);
                self.b.ins().jump(join, &[BlockArg::Value(one)]);
                self.b.switch_to_block(sb);
                let k = self.emit_varint(n, dst);
                let at = self.b.ins().iadd(dst, k);
                let c = self.b.ins().iconst(types::I8, codes as i64);
                self.b.ins().store(out_flags(), c, at, 0);
                let h1 = self.b.ins().iadd_imm_s(k, 1);
                self.b.ins().jump(join, &[BlockArg::Value(h1)]);
                self.b.switch_to_block(join);
                let len = self.b.ins().iadd(len, h);
                self.b.def_var(self.len, len);
            }
        }
    }

    /// One container element of a kind lists are compiled for (no header): plain values
    /// inline, strings inline (or by their helper), structs by their compiled function.
    /// Returns the status.
    fn emit_elem(&mut self, node: &Node, p: Value, depth: Value) -> Value {
        let cx = self.cx;
        match node {
            Node::Struct(si) if let Some(fref) = self.refs[*si] => {
                return self.call_fn(fref, &[cx, p, depth]);
            }
            Node::String(_) | Node::Binary(_) => return self.emit_str(node, p, None),
            // `elem_compiles` admits only lists of what `list_compiles` admits.
            Node::List(inner, repr) => return self.lower_list(inner, seq(repr), p, depth, None),
            _ => {}
        }
        if self.elem_is_varint(node) {
            let zz = self.emit_zigzag(node, p);
            match self.mode {
                Mode::Size => {
                    let k = self.emit_varint_len(zz);
                    self.add_len(k);
                }
                Mode::Write => {
                    let (dst, len) = self.emit_reserve_dyn_const(10);
                    let k = self.emit_varint_wide(zz, dst);
                    let len = self.b.ins().iadd(len, k);
                    self.b.def_var(self.len, len);
                }
            }
        } else {
            // `list_compiles` admits only structs, strings, varints and fixed sizes.
            let k = self
                .elem_width(node)
                .unwrap_or_else(|| unreachable!("element {node:?} not compiled"));
            if let Some((dst, len)) = self.emit_reserve(k) {
                self.emit_fixed_elem(node, p, dst);
                self.emit_commit(len, k);
            }
        }
        self.b.ins().iconst(types::I32, STATUS_OK as i64)
    }

    /// The size of a container element of `node` in this protocol, when it is fixed.
    fn elem_width(&self, node: &Node) -> Option<usize> {
        match self.proto {
            Proto::Binary => fixed_width(node),
            Proto::Compact => match node {
                Node::Bool | Node::I8 => Some(1),
                Node::Double => Some(8),
                Node::Uuid => Some(16),
                _ => None,
            },
        }
    }

    /// Whether a container element of `node` is a zigzag varint in this protocol.
    fn elem_is_varint(&self, node: &Node) -> bool {
        self.proto == Proto::Compact
            && matches!(
                node,
                Node::I16 | Node::I32 | Node::I64 | Node::Enum(EnumRepr::Open)
            )
    }

    /// A fixed-size container element at `p`, stored at `dst` in the protocol's form
    /// (Compact: bools 1 true / 2 false, doubles little-endian; otherwise as Binary has it).
    fn emit_fixed_elem(&mut self, node: &Node, p: Value, dst: Value) {
        match (self.proto, node) {
            (Proto::Compact, Node::Bool) => {
                let x = self.b.ins().load(types::I8, trusted(), p, 0);
                let two = self.b.ins().iconst(types::I8, 2);
                let x = self.b.ins().isub(two, x);
                self.b.ins().store(out_flags(), x, dst, 0);
            }
            // Little-endian, like the host.
            (Proto::Compact, Node::Double) => {
                let x = self.b.ins().load(types::I64, trusted(), p, 0);
                self.b.ins().store(out_flags(), x, dst, 0);
            }
            (_, node) => self.emit_scalar(node, p, dst, 0),
        }
    }

    /// The function's walk state: room for a set's or map's iterator, then for a batch of
    /// [`WALK_BATCH`] entries' key and value pointers (one per function: a set's elements and
    /// a map's entries are never sets or maps walked in the same function).
    fn iter_state(&mut self) -> Value {
        let slot = *self.iter_slot.get_or_insert_with(|| {
            self.b.create_sized_stack_slot(ir::StackSlotData::new(
                ir::StackSlotKind::ExplicitSlot,
                (MAP_ITER_STATE + 2 * WALK_BATCH * self.ptr.bytes() as usize) as u32,
                4,
            ))
        });
        self.b.ins().stack_addr(self.ptr, slot, 0)
    }

    /// Binary list header: element type, big-endian i32 count `n`.
    fn emit_list_header(&mut self, elem: &Node, n: Value, head: Head) {
        if let Some((dst, len)) = self.emit_reserve_after(5, head) {
            let t = self.b.ins().iconst(types::I8, elem.ttype() as i64);
            self.b.ins().store(out_flags(), t, dst, 0);
            let n32 = self.b.ins().ireduce(types::I32, n);
            let n32 = self.b.ins().bswap(n32);
            self.b.ins().store(out_flags(), n32, dst, 1);
            self.emit_commit(len, 5);
        }
    }

    /// Compact list header: the count `n` in the high nibble up to 14, else 0xf and a varint.
    fn emit_clist_header(&mut self, elem: &Node, n: Value) {
        let code = compact_code(elem.ttype()) as i64;
        let short = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedLessThanOrEqual, n, 14);
        match self.mode {
            Mode::Size => {
                self.size_count_header(short, n);
            }
            Mode::Write => {
                let (dst, len) = self.emit_reserve_dyn_const(6);
                let sb = self.b.create_block();
                let lb = self.b.create_block();
                let join = self.b.create_block();
                self.b.append_block_param(join, self.ptr);
                self.b.ins().brif(short, sb, &[], lb, &[]);
                self.b.switch_to_block(sb);
                let x = self.b.ins().ishl_imm_u(n, 4);
                let x = self.b.ins().bor_imm_s(x, code);
                let x = self.b.ins().ireduce(types::I8, x);
                self.b.ins().store(out_flags(), x, dst, 0);
                let one = self.iconst_ptr(1);
                self.b.ins().jump(join, &[BlockArg::Value(one)]);
                self.b.switch_to_block(lb);
                let x = self.b.ins().iconst(types::I8, 0xf0 | code);
                self.b.ins().store(out_flags(), x, dst, 0);
                let at = self.b.ins().iadd_imm_s(dst, 1);
                let k = self.emit_varint(n, at);
                let h = self.b.ins().iadd_imm_s(k, 1);
                self.b.ins().jump(join, &[BlockArg::Value(h)]);
                self.b.switch_to_block(join);
                let h = self.b.block_params(join)[0];
                let len = self.b.ins().iadd(len, h);
                self.b.def_var(self.len, len);
            }
        }
    }

    /// List elements of `k` bytes each: counted at once, or written in one reservation by a
    /// copy loop.
    fn lower_fixed_elems(&mut self, e: Elems<'_>, k: usize) {
        let bytes = self.b.ins().imul_imm_u(e.n, k as i64);
        match self.mode {
            Mode::Size => {
                self.add_len(bytes);
            }
            Mode::Write => {
                let (dst, len) = self.emit_reserve_dyn(bytes);
                let (head, i, exit) = self.emit_loop_head(e.n);
                let src_off = self.b.ins().imul_imm_u(i, e.stride);
                let src = self.b.ins().iadd(e.base, src_off);
                let dst_off = self.b.ins().imul_imm_u(i, k as i64);
                let d = self.b.ins().iadd(dst, dst_off);
                self.emit_fixed_elem(e.node, src, d);
                let next = self.b.ins().iadd_imm_s(i, 1);
                self.b.ins().jump(head, &[BlockArg::Value(next)]);
                self.b.switch_to_block(exit);
                let len = self.b.ins().iadd(len, bytes);
                self.b.def_var(self.len, len);
            }
        }
    }

    /// Compact list elements that are zigzag varints. Sizing: a pass that sums their
    /// lengths. Writing: in runs, each as long as the buffer's room allows for the longest
    /// varints (every element in one run when a reused buffer has room); when the room left
    /// holds not even one, the rest are sized first and reserved at once, so an exactly sized
    /// buffer never grows.
    fn lower_varint_elems(&mut self, e: Elems<'_>) {
        if self.mode == Mode::Size {
            let i0 = self.iconst_ptr(0);
            let total = self.emit_varint_total(e, i0);
            self.add_len(total);
            return;
        }
        // The longest zigzag varint of the element type (an i16 is widened to 32 bits
        // before zigzag, so its 17 bits take three).
        let longest = match e.node {
            Node::I16 => 3,
            Node::I64 => 10,
            _ => 5,
        };
        let head = self.b.create_block();
        let from = self.b.append_block_param(head, self.ptr);
        let run = self.b.create_block();
        let roomy = self.b.create_block();
        let tight = self.b.create_block();
        let write = self.b.create_block();
        let (w_from, w_to, dst) = (
            self.b.append_block_param(write, self.ptr),
            self.b.append_block_param(write, self.ptr),
            self.b.append_block_param(write, self.ptr),
        );
        let exit = self.b.create_block();
        let i0 = self.iconst_ptr(0);
        self.b.ins().jump(head, &[BlockArg::Value(i0)]);

        // The next run: from `from`, as many as the room allows for the longest.
        self.b.switch_to_block(head);
        let all = self.b.ins().icmp(IntCC::Equal, from, e.n);
        self.b.ins().brif(all, exit, &[], run, &[]);
        self.b.switch_to_block(run);
        let len = self.b.use_var(self.len);
        let cap = self.b.ins().load(self.ptr, trusted(), self.cx, ENC_CAP);
        let avail = self.b.ins().isub(cap, len);
        let fits = self.b.ins().udiv_imm_u(avail, longest);
        let rest = self.b.ins().isub(e.n, from);
        let k = self.b.ins().umin(fits, rest);
        self.b.ins().brif(k, roomy, &[], tight, &[]);

        self.b.switch_to_block(roomy);
        let buf = self.b.ins().load(self.ptr, trusted(), self.cx, ENC_BUF);
        let at = self.b.ins().iadd(buf, len);
        let to = self.b.ins().iadd(from, k);
        self.b.ins().jump(
            write,
            &[
                BlockArg::Value(from),
                BlockArg::Value(to),
                BlockArg::Value(at),
            ],
        );

        // Not room for one: the rest sized, reserved and written in one run.
        self.b.switch_to_block(tight);
        let total = self.emit_varint_total(e, from);
        let (at, _) = self.emit_reserve_dyn(total);
        self.b.ins().jump(
            write,
            &[
                BlockArg::Value(from),
                BlockArg::Value(e.n),
                BlockArg::Value(at),
            ],
        );

        // Elements `w_from..w_to` written from `dst`, byte by byte: a run's lengths tend to
        // repeat, which the loop's branches predict well (measured faster here than the word
        // writer).
        self.b.switch_to_block(write);
        let loop_head = self.b.create_block();
        let body = self.b.create_block();
        let wrote = self.b.create_block();
        self.b.append_block_param(loop_head, self.ptr);
        self.b.append_block_param(loop_head, self.ptr);
        self.b.append_block_param(wrote, self.ptr);
        self.b
            .ins()
            .jump(loop_head, &[BlockArg::Value(w_from), BlockArg::Value(dst)]);
        self.b.switch_to_block(loop_head);
        let i = self.b.block_params(loop_head)[0];
        let q = self.b.block_params(loop_head)[1];
        let more = self.b.ins().icmp(IntCC::UnsignedLessThan, i, w_to);
        self.b
            .ins()
            .brif(more, body, &[], wrote, &[BlockArg::Value(q)]);
        self.b.switch_to_block(body);
        let off = self.b.ins().imul_imm_u(i, e.stride);
        let src = self.b.ins().iadd(e.base, off);
        let zz = self.emit_zigzag(e.node, src);
        let k = self.emit_varint(zz, q);
        let q = self.b.ins().iadd(q, k);
        let next = self.b.ins().iadd_imm_s(i, 1);
        self.b
            .ins()
            .jump(loop_head, &[BlockArg::Value(next), BlockArg::Value(q)]);
        self.b.switch_to_block(wrote);
        let end = self.b.block_params(wrote)[0];
        let written = self.b.ins().isub(end, dst);
        let len = self.b.use_var(self.len);
        let len = self.b.ins().iadd(len, written);
        self.b.def_var(self.len, len);
        self.b.ins().jump(head, &[BlockArg::Value(w_to)]);

        self.b.switch_to_block(exit);
    }

    /// The summed lengths of a list's zigzag varints from element `from` on (one pass).
    fn emit_varint_total(&mut self, e: Elems<'_>, from: Value) -> Value {
        let head = self.b.create_block();
        let body = self.b.create_block();
        let exit = self.b.create_block();
        self.b.append_block_param(head, self.ptr);
        self.b.append_block_param(head, self.ptr);
        self.b.append_block_param(exit, self.ptr);
        let zero = self.iconst_ptr(0);
        self.b
            .ins()
            .jump(head, &[BlockArg::Value(from), BlockArg::Value(zero)]);
        self.b.switch_to_block(head);
        let i = self.b.block_params(head)[0];
        let total = self.b.block_params(head)[1];
        let more = self.b.ins().icmp(IntCC::UnsignedLessThan, i, e.n);
        self.b
            .ins()
            .brif(more, body, &[], exit, &[BlockArg::Value(total)]);
        self.b.switch_to_block(body);
        let off = self.b.ins().imul_imm_u(i, e.stride);
        let src = self.b.ins().iadd(e.base, off);
        let zz = self.emit_zigzag(e.node, src);
        let k = self.emit_varint_len(zz);
        let total = self.b.ins().iadd(total, k);
        let next = self.b.ins().iadd_imm_s(i, 1);
        self.b
            .ins()
            .jump(head, &[BlockArg::Value(next), BlockArg::Value(total)]);
        self.b.switch_to_block(exit);
        self.b.block_params(exit)[0]
    }

    /// List elements that are strings or structs: one call each, on to `done` with `ok`
    /// (`STATUS_OK`) after the last, or with the status of the first failure, which names
    /// the element.
    fn lower_elem_calls(&mut self, e: Elems<'_>, depth: Value, done: Block, ok: Value) {
        let cx = self.cx;
        let head = self.b.create_block();
        let body = self.b.create_block();
        let fail = self.b.create_block();
        self.b.append_block_param(head, self.ptr);
        self.b.append_block_param(fail, self.ptr);
        self.b.set_cold_block(fail);
        let i0 = self.iconst_ptr(0);
        self.b.ins().jump(head, &[BlockArg::Value(i0)]);
        self.b.switch_to_block(head);
        let i = self.b.block_params(head)[0];
        let more = self.b.ins().icmp(IntCC::UnsignedLessThan, i, e.n);
        self.b
            .ins()
            .brif(more, body, &[], done, &[BlockArg::Value(ok)]);
        self.b.switch_to_block(body);
        let off = self.b.ins().imul_imm_u(i, e.stride);
        let p = self.b.ins().iadd(e.base, off);
        let st = self.emit_elem(e.node, p, depth);
        let next = self.b.ins().iadd_imm_s(i, 1);
        self.b.ins().brif(
            st,
            fail,
            &[BlockArg::Value(i)],
            head,
            &[BlockArg::Value(next)],
        );
        self.b.switch_to_block(fail);
        let i = self.b.block_params(fail)[0];
        let st = self.call_helper(
            self.sigs.reserve,
            rt::rt_at_index as *const () as usize,
            &[cx, i],
        );
        self.b.ins().jump(done, &[BlockArg::Value(st)]);
    }

    /// The head of a counted loop `i` in `0..n`: returns the head block (jump to it with
    /// `i + 1`), `i`, and the exit block; leaves the body current.
    fn emit_loop_head(&mut self, n: Value) -> (Block, Value, Block) {
        let head = self.b.create_block();
        let body = self.b.create_block();
        let exit = self.b.create_block();
        self.b.append_block_param(head, self.ptr);
        let i0 = self.iconst_ptr(0);
        self.b.ins().jump(head, &[BlockArg::Value(i0)]);
        self.b.switch_to_block(head);
        let i = self.b.block_params(head)[0];
        let more = self.b.ins().icmp(IntCC::UnsignedLessThan, i, n);
        self.b.ins().brif(more, body, &[], exit, &[]);
        self.b.switch_to_block(body);
        (head, i, exit)
    }

    /// Write mode: room for `n` bytes; returns where to write them and the length before.
    fn emit_reserve_dyn_const(&mut self, n: usize) -> (Value, Value) {
        let nv = self.iconst_ptr(n);
        self.emit_reserve_dyn(nv)
    }

    /// String or binary at `p`: length and data read at the probed layout offsets, written
    /// (or counted) inline after the length (Binary: big-endian i32; Compact: varint), after
    /// the field header `head` if any (Binary write mode); the helper when the layout is
    /// unknown or the length does not fit in an i32 (it reports the error; the header is
    /// written first). Returns the status.
    fn emit_str(&mut self, node: &Node, p: Value, head: Head) -> Value {
        debug_assert!(head.is_none() || (self.proto, self.mode) == (Proto::Binary, Mode::Write));
        let cx = self.cx;
        let kind = str_kind(node);
        let lay = match kind {
            rt::STR_STRING => rt::string_layout(),
            rt::STR_VEC => rt::vec_layout(),
            rt::STR_BYTES => rt::bytes_layout(),
            _ => None,
        };
        #[cfg(feature = "faststr")]
        let fast_str = if kind == rt::STR_FASTSTR {
            rt::faststr_layout()
        } else {
            None
        };
        #[cfg(not(feature = "faststr"))]
        let fast_str: Option<()> = None;
        let helper = |l: &mut Self| {
            if let Some((ttype, id)) = head {
                // The header, then the string, by one helper.
                let arg = rt::field_str_arg(kind, ttype as u8, id);
                let arg = l.b.ins().iconst(types::I32, arg as i64);
                let helper = rt::rt_write_field_str as *const () as usize;
                return l.call_helper(l.sigs.str_op, helper, &[cx, p, arg]);
            }
            let k = l.b.ins().iconst(types::I32, kind as i64);
            let helper = match (l.proto, l.mode) {
                (Proto::Binary, Mode::Write) => rt::rt_write_str as *const () as usize,
                (Proto::Binary, Mode::Size) => rt::rt_size_str as *const () as usize,
                (Proto::Compact, Mode::Write) => rt::rt_cwrite_str as *const () as usize,
                (Proto::Compact, Mode::Size) => rt::rt_csize_str as *const () as usize,
            };
            l.call_helper(l.sigs.str_op, helper, &[cx, p, k])
        };
        if lay.is_none() && fast_str.is_none() {
            return helper(self);
        }
        let done = self.b.create_block();
        self.b.append_block_param(done, types::I32);
        let slow = self.b.create_block();
        let fast = self.b.create_block();
        let have = self.b.create_block();
        self.b.append_block_param(have, self.ptr);
        self.b.append_block_param(have, self.ptr);
        self.b.set_cold_block(slow);
        if let Some(lay) = lay {
            let data = self.b.ins().load(self.ptr, trusted(), p, lay.ptr);
            let len = self.b.ins().load(self.ptr, trusted(), p, lay.len);
            self.b
                .ins()
                .jump(have, &[BlockArg::Value(data), BlockArg::Value(len)]);
        }
        #[cfg(feature = "faststr")]
        if let Some(fl) = fast_str {
            // The two common forms read inline (shared view; inline bytes), others by the
            // helper.
            let tag = self.b.ins().uload8(types::I32, trusted(), p, 0);
            let shared = self.b.create_block();
            let not_shared = self.b.create_block();
            let inline = self.b.create_block();
            let is = self
                .b
                .ins()
                .icmp_imm_s(IntCC::Equal, tag, fl.shared_tag as i64);
            self.b.ins().brif(is, shared, &[], not_shared, &[]);
            self.b.switch_to_block(shared);
            let data = self.b.ins().load(self.ptr, trusted(), p, fl.shared.ptr);
            let len = self.b.ins().load(self.ptr, trusted(), p, fl.shared.len);
            self.b
                .ins()
                .jump(have, &[BlockArg::Value(data), BlockArg::Value(len)]);
            self.b.switch_to_block(not_shared);
            let is = self
                .b
                .ins()
                .icmp_imm_s(IntCC::Equal, tag, fl.inline_tag as i64);
            self.b.ins().brif(is, inline, &[], slow, &[]);
            self.b.switch_to_block(inline);
            let len = self.b.ins().uload8(self.ptr, trusted(), p, 1);
            let data = self.b.ins().iadd_imm_s(p, 2);
            self.b
                .ins()
                .jump(have, &[BlockArg::Value(data), BlockArg::Value(len)]);
        }
        self.b.switch_to_block(have);
        let data = self.b.block_params(have)[0];
        let len = self.b.block_params(have)[1];
        let long = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedGreaterThan, len, i32::MAX as i64);
        self.b.ins().brif(long, slow, &[], fast, &[]);
        self.b.switch_to_block(slow);
        let st = helper(self);
        self.b.ins().jump(done, &[BlockArg::Value(st)]);
        self.b.switch_to_block(fast);
        let prefix = match self.proto {
            Proto::Binary => self.iconst_ptr(4),
            Proto::Compact => self.emit_varint_len(len),
        };
        let n = self.b.ins().iadd(len, prefix);
        let ok = self.b.ins().iconst(types::I32, STATUS_OK as i64);
        match self.mode {
            Mode::Size => {
                self.add_len(n);
            }
            Mode::Write => {
                let (dst, cur) = self.emit_reserve_dyn_after(n, head);
                match self.proto {
                    Proto::Binary => {
                        let l32 = self.b.ins().ireduce(types::I32, len);
                        let l32 = self.b.ins().bswap(l32);
                        self.b.ins().store(out_flags(), l32, dst, 0);
                    }
                    Proto::Compact => {
                        self.emit_varint(len, dst);
                    }
                }
                let to = self.b.ins().iadd(dst, prefix);
                self.call_helper(self.sigs.copy, rt::copy_fn(), &[to, data, len]);
                let cur = self.b.ins().iadd(cur, n);
                self.b.def_var(self.len, cur);
            }
        }
        self.b.ins().jump(done, &[BlockArg::Value(ok)]);
        self.b.switch_to_block(done);
        self.b.block_params(done)[0]
    }

    /// Like [`Self::emit_reserve`] for a run whose size is only known at run time.
    fn emit_reserve_dyn(&mut self, n: Value) -> (Value, Value) {
        let cx = self.cx;
        let len = self.b.use_var(self.len);
        let cap = self.b.ins().load(self.ptr, trusted(), self.cx, ENC_CAP);
        let avail = self.b.ins().isub(cap, len);
        let enough = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, avail, n);
        let grow = self.b.create_block();
        let cont = self.b.create_block();
        self.b.set_cold_block(grow);
        self.b.ins().brif(enough, cont, &[], grow, &[]);
        self.b.switch_to_block(grow);
        let st = self.call_helper(
            self.sigs.reserve,
            rt::rt_reserve as *const () as usize,
            &[cx, n],
        );
        self.emit_check_to(st, cont);
        self.b.switch_to_block(cont);
        let buf = self.b.ins().load(self.ptr, trusted(), self.cx, ENC_BUF);
        let len = self.b.use_var(self.len);
        let dst = self.b.ins().iadd(buf, len);
        (dst, len)
    }

    /// The value (an i32) of the Rust enum `ed` at `p`: from its tag byte when the tags count
    /// up with dense values ([`rt::enum_layout`]), else through the descriptor.
    fn emit_enum_value(&mut self, ed: &dynthrift_core::desc::EnumDesc, p: Value) -> Value {
        let b = &mut self.b;
        if let Some(l) = rt::enum_layout(ed) {
            let tag = b.ins().uload8(types::I32, trusted(), p, 0);
            return b
                .ins()
                .iadd_imm_s(tag, i64::from(l.min) - i64::from(l.tag0));
        }
        let edp = b.ins().iconst(self.ptr, ed as *const _ as i64);
        let f = b
            .ins()
            .iconst(self.ptr, rt::rt_enum_to_i32 as *const () as usize as i64);
        let call = b.ins().call_indirect(self.sigs.enum_i32, f, &[edp, p]);
        b.inst_results(call)[0]
    }

    /// Stores a plain value read from `p` at `dst + at`, big-endian.
    fn emit_scalar(&mut self, node: &Node, p: Value, dst: Value, at: i32) {
        let b = &mut self.b;
        match node {
            Node::Bool | Node::I8 => {
                let x = b.ins().load(types::I8, trusted(), p, 0);
                b.ins().store(out_flags(), x, dst, at);
            }
            Node::I16 => {
                let x = b.ins().load(types::I16, trusted(), p, 0);
                let x = b.ins().bswap(x);
                b.ins().store(out_flags(), x, dst, at);
            }
            Node::I32 | Node::Enum(EnumRepr::Open) => {
                let x = b.ins().load(types::I32, trusted(), p, 0);
                let x = b.ins().bswap(x);
                b.ins().store(out_flags(), x, dst, at);
            }
            Node::Enum(EnumRepr::Rust(ed)) => {
                let x = self.emit_enum_value(ed, p);
                let x = self.b.ins().bswap(x);
                self.b.ins().store(out_flags(), x, dst, at);
            }
            Node::I64 | Node::Double => {
                let x = b.ins().load(types::I64, trusted(), p, 0);
                let x = b.ins().bswap(x);
                b.ins().store(out_flags(), x, dst, at);
            }
            Node::Uuid => {
                // Raw bytes, in order; `[u8; 16]` has alignment 1.
                let flags = MemFlagsData::new().with_notrap();
                let lo = b.ins().load(types::I64, flags, p, 0);
                let hi = b.ins().load(types::I64, flags, p, 8);
                b.ins().store(out_flags(), lo, dst, at);
                b.ins().store(out_flags(), hi, dst, at + 8);
            }
            _ => {}
        }
    }
}

/// A bool, possibly boxed: in Compact, a field whose value is its header's type code.
pub(crate) fn is_bool(node: &Node) -> bool {
    match node {
        Node::Bool => true,
        Node::Boxed(inner, _) => is_bool(inner),
        _ => false,
    }
}

/// Bytes of a Binary value of fixed size (`None`: not fixed).
pub(crate) fn fixed_width(node: &Node) -> Option<usize> {
    match node {
        Node::Bool | Node::I8 => Some(1),
        Node::I16 => Some(2),
        Node::I32 | Node::Enum(_) => Some(4),
        Node::I64 | Node::Double => Some(8),
        Node::Uuid => Some(16),
        _ => None,
    }
}

pub(crate) fn str_kind(node: &Node) -> i32 {
    match node {
        Node::String(StrRepr::Std) => rt::STR_STRING,
        #[cfg(feature = "faststr")]
        Node::String(StrRepr::FastStr) => rt::STR_FASTSTR,
        Node::Binary(BinRepr::Vec) => rt::STR_VEC,
        _ => rt::STR_BYTES,
    }
}
