//! Translation of a plan into native skip functions, Binary and Compact: per struct, a loop
//! that reads a field header, predicts the next field (then goes straight to its skip),
//! dispatches on the id otherwise, and skips a known field of the expected wire type with
//! what the type says (fixed widths after one bounds check, strings by their length, nested
//! structs through their own compiled skip, lists, sets and maps of such elements by their
//! header and then in one step (fixed sizes) or element by element); other containers,
//! unknown fields and fields of another type are skipped generically
//! (`rt_dec_skip`/`rt_cdec_skip`, the protocol's own skip). The offset lives in a register
//! and is written back to the context only around helper calls and at the end.
//!
//! A skip accepts exactly what the generic struct skip (`ProtoRead::skip` of a struct)
//! accepts, and fails with the same error (kind, offset, message): every path that is not
//! plainly valid falls back to the generic helper from the value's start (a container's
//! start, even from the middle of its elements: skipping has no effects), which then reports
//! the error the generic skip would. No UTF-8 check, no string or container limits, only the
//! nesting depth, as there.

use cranelift_codegen::Context;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    self, AbiParam, Block, BlockCall, InstBuilder, JumpTableData, MemFlagsData, SigRef, Signature,
    Type, UserFuncName, Value, types,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_jit::JITModule;
use cranelift_module::{FuncId, Linkage, Module};
use dynthrift_core::TType;
use dynthrift_core::wire::compact::compact_code;
use dynthrift_interp::Plan;
use dynthrift_interp::plan::{FieldPlan, Lookup, Node, StructPlan};

use crate::abi::{DEC_BUF, DEC_LEN, DEC_POS, STATUS_ERROR, STATUS_OK};
use crate::lower::Proto;
use crate::rt;

pub(crate) fn declare(
    module: &mut JITModule,
    plan: &Plan,
    proto: Proto,
) -> Result<Vec<Option<FuncId>>, String> {
    let sig = sig(module);
    let p = proto as u8;
    (0..plan.structs.len())
        .map(|i| {
            module
                .declare_function(&format!("skip_{p}_{i}"), Linkage::Local, &sig)
                .map(Some)
                .map_err(|e| format!("declare: {e}"))
        })
        .collect()
}

/// `(ctx, depth) -> status`: see [`crate::abi::SkipFn`].
fn sig(module: &JITModule) -> Signature {
    let ptr = module.target_config().pointer_type();
    let mut sig = module.make_signature();
    sig.params
        .extend([AbiParam::new(ptr), AbiParam::new(types::I32)]);
    sig.returns.push(AbiParam::new(types::I32));
    sig
}

/// Builds the IR of the skip function of struct `si` in `ctx.func`; returns its id (`None`:
/// not compiled). The engine compiles and defines it.
pub(crate) fn build(
    module: &mut JITModule,
    plan: &Plan,
    table: &[Option<FuncId>],
    si: usize,
    proto: Proto,
    ctx: &mut Context,
    fctx: &mut FunctionBuilderContext,
) -> Option<FuncId> {
    let id = table[si]?;
    ctx.func.signature = sig(module);
    ctx.func.name = UserFuncName::user(2, id.as_u32());
    let ptr = module.target_config().pointer_type();
    // Only the structs this one's fields name are called directly.
    let mut refs: Vec<Option<ir::FuncRef>> = vec![None; table.len()];
    for f in &plan.structs[si].fields {
        let node = unboxed(&f.node);
        let mut named: Vec<&Node> = vec![node];
        match node {
            Node::List(e, _) | Node::Set(e, _) => named.push(e),
            Node::Map(k, v, _) => named.extend([&**k, &**v]),
            _ => {}
        }
        for n in named {
            if let Some(target) = struct_of(n)
                && refs[target].is_none()
                && let Some(fid) = table[target]
            {
                refs[target] = Some(module.declare_func_in_func(fid, &mut ctx.func));
            }
        }
    }
    let frontend = module.target_config();
    let mut b = FunctionBuilder::new(&mut ctx.func, fctx);
    let sigs = Sigs::import(&mut b, module, ptr);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let params = b.block_params(entry).to_vec();
    let pos = b.declare_var(ptr);
    let last = b.declare_var(types::I32);
    let zero = b.ins().iconst(ptr, 0);
    let mut l = Lower {
        b,
        ptr,
        proto,
        sigs,
        cx: params[0],
        buf: zero,
        len: zero,
        pos,
        last,
        refs,
        eof: None,
        fail: None,
    };
    l.lower_struct(&plan.structs[si], params[1]);
    l.b.seal_all_blocks();
    l.b.finalize(frontend);
    Some(id)
}

/// The struct a field's value is, when it is one (inline, a record, or boxed).
fn struct_of(node: &Node) -> Option<usize> {
    match node {
        Node::Struct(si) | Node::Record(si) => Some(*si),
        Node::Boxed(inner, _) => struct_of(inner),
        _ => None,
    }
}

/// A node without its boxes.
fn unboxed(node: &Node) -> &Node {
    match node {
        Node::Boxed(inner, _) => unboxed(inner),
        n => n,
    }
}

/// How one container element is skipped inline.
#[derive(Clone, Copy)]
enum Elem {
    /// A value of this many bytes.
    Fixed(usize),
    /// A Compact varint.
    Varint,
    /// A string or binary.
    Str,
    /// A struct, by its compiled skip.
    Struct(ir::FuncRef),
}

/// A container's elements (list, set) or keys and values (map), each with the wire type
/// code expected for it.
#[derive(Clone, Copy)]
enum Elems {
    One((Elem, u8)),
    Two((Elem, u8), (Elem, u8)),
}

/// Bytes a value of wire type `t` takes when that is fixed (Binary).
fn binary_width(t: TType) -> Option<usize> {
    match t {
        TType::Bool | TType::I8 => Some(1),
        TType::I16 => Some(2),
        TType::I32 => Some(4),
        TType::I64 | TType::Double => Some(8),
        TType::Uuid => Some(16),
        _ => None,
    }
}

struct Sigs {
    /// `(ctx, usize) -> i32`
    ctx_usize: SigRef,
    /// `(ctx, u32, usize) -> i32`
    ctx_u32_usize: SigRef,
    /// `(ctx) -> i32`
    ctx_only: SigRef,
    /// `(ctx, u32, u32) -> i32`
    ctx_u32_u32: SigRef,
}

impl Sigs {
    fn import(b: &mut FunctionBuilder<'_>, module: &JITModule, ptr: Type) -> Sigs {
        let mut sig = |params: &[Type]| {
            let mut s = module.make_signature();
            s.params.extend(params.iter().map(|t| AbiParam::new(*t)));
            s.returns.push(AbiParam::new(types::I32));
            b.import_signature(s)
        };
        let i32t = types::I32;
        Sigs {
            ctx_usize: sig(&[ptr, ptr]),
            ctx_u32_usize: sig(&[ptr, i32t, ptr]),
            ctx_only: sig(&[ptr]),
            ctx_u32_u32: sig(&[ptr, i32t, i32t]),
        }
    }
}

struct Lower<'f> {
    b: FunctionBuilder<'f>,
    ptr: Type,
    proto: Proto,
    sigs: Sigs,
    cx: Value,
    /// Start and length of the input (loaded once).
    buf: Value,
    len: Value,
    /// The offset (written back to the context around helper calls).
    pos: Variable,
    /// Compact: the id of the last field read (headers carry deltas).
    last: Variable,
    /// Skip functions of the structs the fields name.
    refs: Vec<Option<ir::FuncRef>>,
    /// Shared cold block: an end-of-input error at its parameter.
    eof: Option<Block>,
    /// Shared cold block: a helper failed (the error is in the context).
    fail: Option<Block>,
}

/// Loads from the input: in bounds (checked first), possibly unaligned.
fn input_flags() -> MemFlagsData {
    MemFlagsData::new().with_notrap().with_readonly()
}

impl Lower<'_> {
    fn call(&mut self, sig: SigRef, addr: *const (), args: &[Value]) -> Value {
        let f = self.b.ins().iconst(self.ptr, addr as usize as i64);
        let call = self.b.ins().call_indirect(sig, f, args);
        self.b.inst_results(call)[0]
    }

    /// The shared end-of-input block (its parameter: the error's offset), filled by
    /// [`Lower::finish`].
    fn eof_block(&mut self) -> Block {
        if let Some(b) = self.eof {
            return b;
        }
        let blk = self.b.create_block();
        self.b.set_cold_block(blk);
        self.b.append_block_param(blk, self.ptr);
        self.eof = Some(blk);
        blk
    }

    /// The shared failure block, filled by [`Lower::finish`].
    fn fail_block(&mut self) -> Block {
        if let Some(b) = self.fail {
            return b;
        }
        let blk = self.b.create_block();
        self.b.set_cold_block(blk);
        self.fail = Some(blk);
        blk
    }

    /// Fills the shared blocks used.
    fn finish(&mut self) {
        if let Some(blk) = self.eof {
            self.b.switch_to_block(blk);
            let at = self.b.block_params(blk)[0];
            let cx = self.cx;
            let st = self.call(self.sigs.ctx_usize, rt::rt_dec_eof as *const (), &[cx, at]);
            self.b.ins().return_(&[st]);
        }
        if let Some(blk) = self.fail {
            self.b.switch_to_block(blk);
            let s = self.b.ins().iconst(types::I32, STATUS_ERROR as i64);
            self.b.ins().return_(&[s]);
        }
    }

    /// Fails with an end-of-input error at `at` unless `n` bytes remain after `p`.
    fn need(&mut self, p: Value, n: usize, at: Value) {
        let avail = self.b.ins().isub(self.len, p);
        let short = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedLessThan, avail, n as i64);
        let eof = self.eof_block();
        let cont = self.b.create_block();
        self.b
            .ins()
            .brif(short, eof, &[ir::BlockArg::Value(at)], cont, &[]);
        self.b.switch_to_block(cont);
    }

    /// Fails (returns the error status) when `status` is non-zero.
    fn check(&mut self, status: Value) {
        let fail = self.fail_block();
        let cont = self.b.create_block();
        self.b.ins().brif(status, fail, &[], cont, &[]);
        self.b.switch_to_block(cont);
    }

    /// Writes the offset back to the context (before a helper or a call reads it).
    fn sync_out(&mut self) {
        let p = self.b.use_var(self.pos);
        let cx = self.cx;
        self.b.ins().store(MemFlagsData::trusted(), p, cx, DEC_POS);
    }

    /// Reads the offset back from the context (after a helper or a call moved it).
    fn sync_in(&mut self) {
        let cx = self.cx;
        let p = self
            .b
            .ins()
            .load(self.ptr, MemFlagsData::trusted(), cx, DEC_POS);
        self.b.def_var(self.pos, p);
    }

    /// The generic skip of a value of wire type code `t` (the protocol's code) at the offset.
    fn generic(&mut self, t: Value, depth: Value) {
        self.sync_out();
        let cx = self.cx;
        let helper = match self.proto {
            Proto::Binary => rt::rt_dec_skip as *const (),
            Proto::Compact => rt::rt_cdec_skip as *const (),
        };
        let st = self.call(self.sigs.ctx_u32_u32, helper, &[cx, t, depth]);
        self.check(st);
        self.sync_in();
    }

    fn generic_code(&mut self, code: u8, depth: Value) {
        let t = self.b.ins().iconst(types::I32, code as i64);
        self.generic(t, depth);
    }

    fn lower_struct(&mut self, s: &StructPlan, depth: Value) {
        let deep = self.b.create_block();
        let ok = self.b.create_block();
        self.b.set_cold_block(deep);
        self.b.ins().brif(depth, ok, &[], deep, &[]);
        self.b.switch_to_block(deep);
        let cx = self.cx;
        // The context's offset is the struct's start, where the generic skip reports it.
        let st = self.call(self.sigs.ctx_only, rt::rt_dec_depth as *const (), &[cx]);
        self.b.ins().return_(&[st]);
        self.b.switch_to_block(ok);
        let depth = self.b.ins().iadd_imm_s(depth, -1);
        self.buf = self
            .b
            .ins()
            .load(self.ptr, MemFlagsData::trusted(), cx, DEC_BUF);
        self.len = self
            .b
            .ins()
            .load(self.ptr, MemFlagsData::trusted(), cx, DEC_LEN);
        self.sync_in();
        let zero = self.b.ins().iconst(types::I32, 0);
        self.b.def_var(self.last, zero);

        let head = self.b.create_block();
        let end = self.b.create_block();
        let unknown = self.b.create_block();
        self.b.append_block_param(unknown, types::I32);
        self.b.ins().jump(head, &[]);

        self.b.switch_to_block(head);
        let (t, id) = match self.proto {
            Proto::Binary => self.lower_header(end),
            Proto::Compact => self.lower_cheader(end),
        };

        // Dispatch on the id.
        let blocks: Vec<Block> = s.fields.iter().map(|_| self.b.create_block()).collect();
        let skips: Vec<Block> = s.fields.iter().map(|_| self.b.create_block()).collect();
        let unknown_call = [ir::BlockArg::Value(t)];
        match &s.lookup {
            Lookup::Dense { min, table } => {
                let idx = self.b.ins().sextend(types::I32, id);
                let idx = self.b.ins().iadd_imm_s(idx, -(*min as i64));
                let pool = &mut self.b.func.dfg.value_lists;
                let default = BlockCall::new(unknown, unknown_call.iter().copied(), pool);
                let entries: Vec<BlockCall> = table
                    .iter()
                    .map(|&fi| {
                        if fi == u16::MAX {
                            BlockCall::new(unknown, unknown_call.iter().copied(), pool)
                        } else {
                            BlockCall::new(blocks[fi as usize], std::iter::empty(), pool)
                        }
                    })
                    .collect();
                let jt = self
                    .b
                    .create_jump_table(JumpTableData::new(default, &entries));
                self.b.ins().br_table(idx, jt);
            }
            Lookup::Sorted(_) => {
                for (i, f) in s.fields.iter().enumerate() {
                    let is = self.b.ins().icmp_imm_s(IntCC::Equal, id, f.id as i64);
                    let next = self.b.create_block();
                    self.b.ins().brif(is, blocks[i], &[], next, &[]);
                    self.b.switch_to_block(next);
                }
                self.b.ins().jump(unknown, &unknown_call);
            }
        }

        for (i, f) in s.fields.iter().enumerate() {
            self.b.switch_to_block(blocks[i]);
            // A known id with another wire type is skipped like an unknown one.
            let same = match (self.proto, f.ttype) {
                (Proto::Binary, _) => self.b.ins().icmp_imm_s(IntCC::Equal, t, f.ttype as i64),
                // Compact bools: type code 1 (true) or 2 (false).
                (Proto::Compact, TType::Bool) => {
                    let t1 = self.b.ins().iadd_imm_s(t, -1);
                    self.b.ins().icmp_imm_u(IntCC::UnsignedLessThan, t1, 2)
                }
                (Proto::Compact, tt) => {
                    self.b
                        .ins()
                        .icmp_imm_s(IntCC::Equal, t, compact_code(tt) as i64)
                }
            };
            self.b
                .ins()
                .brif(same, skips[i], &[], unknown, &unknown_call);
            self.b.switch_to_block(skips[i]);
            self.lower_field(f, depth);
            match self.proto {
                Proto::Binary => self.predict(s, i, &skips, head, end),
                Proto::Compact => self.cpredict(s, i, &skips, head, end),
            }
        }

        self.b.switch_to_block(unknown);
        let t = self.b.block_params(unknown)[0];
        match self.proto {
            Proto::Binary => self.inline_skip(t, head),
            Proto::Compact => {
                // A bool's value is in its header: nothing to skip.
                let t1 = self.b.ins().iadd_imm_s(t, -1);
                let is_bool = self.b.ins().icmp_imm_u(IntCC::UnsignedLessThan, t1, 2);
                let other = self.b.create_block();
                self.b.ins().brif(is_bool, head, &[], other, &[]);
                self.b.switch_to_block(other);
            }
        }
        self.generic(t, depth);
        self.b.ins().jump(head, &[]);

        self.b.switch_to_block(end);
        self.sync_out();
        let s = self.b.ins().iconst(types::I32, STATUS_OK as i64);
        self.b.ins().return_(&[s]);
        self.finish();
    }

    /// Binary field header at the offset (the stop byte jumps to `end`): type code and id.
    fn lower_header(&mut self, end: Block) -> (Value, Value) {
        let p = self.b.use_var(self.pos);
        self.need(p, 1, p);
        let at = self.b.ins().iadd(self.buf, p);
        let t = self.b.ins().uload8(types::I32, input_flags(), at, 0);
        let not_stop = self.b.create_block();
        let stop = self.b.create_block();
        self.b.ins().brif(t, not_stop, &[], stop, &[]);
        self.b.switch_to_block(stop);
        let p1 = self.b.ins().iadd_imm_s(p, 1);
        self.b.def_var(self.pos, p1);
        self.b.ins().jump(end, &[]);

        self.b.switch_to_block(not_stop);
        // Codes the protocol does not define: an error at the type byte.
        let valid_mask: u32 = (0..17u8)
            .filter(|&c| TType::from_u8(c).is_some())
            .fold(0, |m, c| m | (1 << c));
        let small = self.b.ins().icmp_imm_u(IntCC::UnsignedLessThan, t, 17);
        let small = self.b.ins().uextend(types::I32, small);
        let mask = self.b.ins().iconst(types::I32, valid_mask as i64);
        let shifted = self.b.ins().ushr(mask, t);
        let bit = self.b.ins().band_imm_s(shifted, 1);
        let valid = self.b.ins().band(bit, small);
        let invalid = self.b.create_block();
        let known = self.b.create_block();
        self.b.set_cold_block(invalid);
        self.b.ins().brif(valid, known, &[], invalid, &[]);
        self.b.switch_to_block(invalid);
        let cx = self.cx;
        let st = self.call(
            self.sigs.ctx_u32_usize,
            rt::rt_dec_invalid_type as *const (),
            &[cx, t, p],
        );
        self.b.ins().return_(&[st]);

        self.b.switch_to_block(known);
        let id_at = self.b.ins().iadd_imm_s(p, 1);
        self.need(p, 3, id_at);
        let raw = self.b.ins().load(types::I16, input_flags(), at, 1);
        let id = self.b.ins().bswap(raw);
        let p3 = self.b.ins().iadd_imm_s(p, 3);
        self.b.def_var(self.pos, p3);
        (t, id)
    }

    /// Compact field header at the offset (the stop byte jumps to `end`): type code and id.
    fn lower_cheader(&mut self, end: Block) -> (Value, Value) {
        let p = self.b.use_var(self.pos);
        self.need(p, 1, p);
        let at = self.b.ins().iadd(self.buf, p);
        let byte = self.b.ins().uload8(types::I32, input_flags(), at, 0);
        let t = self.b.ins().band_imm_s(byte, 0x0f);
        let p1 = self.b.ins().iadd_imm_s(p, 1);
        let not_stop = self.b.create_block();
        let stop = self.b.create_block();
        // A stop code with a non-zero delta is still a stop, as in the generic skip.
        self.b.ins().brif(t, not_stop, &[], stop, &[]);
        self.b.switch_to_block(stop);
        self.b.def_var(self.pos, p1);
        self.b.ins().jump(end, &[]);

        self.b.switch_to_block(not_stop);
        let invalid = self.b.ins().icmp_imm_u(IntCC::UnsignedGreaterThan, t, 13);
        let bad = self.b.create_block();
        let known = self.b.create_block();
        self.b.set_cold_block(bad);
        self.b.ins().brif(invalid, bad, &[], known, &[]);
        self.b.switch_to_block(bad);
        let cx = self.cx;
        let st = self.call(
            self.sigs.ctx_u32_usize,
            rt::rt_dec_invalid_type as *const (),
            &[cx, t, p],
        );
        self.b.ins().return_(&[st]);

        self.b.switch_to_block(known);
        self.b.def_var(self.pos, p1);
        let delta = self.b.ins().ushr_imm_u(byte, 4);
        let short = self.b.create_block();
        let long = self.b.create_block();
        let got = self.b.create_block();
        self.b.append_block_param(got, types::I32);
        self.b.ins().brif(delta, short, &[], long, &[]);
        self.b.switch_to_block(short);
        let last = self.b.use_var(self.last);
        let id = self.b.ins().iadd(last, delta);
        // Wrapping i16 arithmetic, as the generic reader's.
        let id = self.b.ins().ireduce(types::I16, id);
        let id = self.b.ins().sextend(types::I32, id);
        self.b.ins().jump(got, &[ir::BlockArg::Value(id)]);
        self.b.switch_to_block(long);
        self.sync_out();
        let id = self.call(self.sigs.ctx_only, rt::rt_cdec_field_id as *const (), &[cx]);
        let failed = self.b.ins().icmp_imm_s(IntCC::Equal, id, i32::MIN as i64);
        let fail = self.fail_block();
        let ok = self.b.create_block();
        self.b.ins().brif(failed, fail, &[], ok, &[]);
        self.b.switch_to_block(ok);
        self.sync_in();
        self.b.ins().jump(got, &[ir::BlockArg::Value(id)]);
        self.b.switch_to_block(got);
        let id = self.b.block_params(got)[0];
        self.b.def_var(self.last, id);
        let id = self.b.ins().ireduce(types::I16, id);
        (t, id)
    }

    /// Skips field `f`'s value, its wire type being the expected one.
    fn lower_field(&mut self, f: &FieldPlan, depth: Value) {
        let node = unboxed(&f.node);
        if f.ttype == TType::Struct
            && let Some(si) = struct_of(node)
            && let Some(fref) = self.refs[si]
        {
            self.sync_out();
            let cx = self.cx;
            let call = self.b.ins().call(fref, &[cx, depth]);
            let st = self.b.inst_results(call)[0];
            self.check(st);
            self.sync_in();
            return;
        }
        let code = self.code(f.ttype);
        if matches!(f.ttype, TType::List | TType::Set | TType::Map)
            && f.ttype == node.ttype()
            && let Some(elems) = self.elems_of(node)
        {
            self.with_slow(code, depth, |l, slow| {
                l.container(f.ttype, elems, depth, slow)
            });
            return;
        }
        match (self.proto, f.ttype) {
            (_, TType::String) => self.with_slow(code, depth, |l, slow| l.str_in(slow)),
            (Proto::Binary, tt) if let Some(n) = binary_width(tt) => self.fixed(n),
            (Proto::Compact, TType::Bool) => {}
            (Proto::Compact, TType::I8) => self.fixed(1),
            (Proto::Compact, TType::Double) => self.fixed(8),
            (Proto::Compact, TType::Uuid) => self.fixed(16),
            (Proto::Compact, TType::I16 | TType::I32 | TType::I64) => {
                self.with_slow(code, depth, |l, slow| l.varint_in(slow))
            }
            _ => self.generic_code(code, depth),
        }
    }

    /// The protocol's code of wire type `t`.
    fn code(&self, t: TType) -> u8 {
        match self.proto {
            Proto::Binary => t as u8,
            Proto::Compact => compact_code(t),
        }
    }

    /// A container's element (or key and value) as skipped inline, with the wire codes
    /// expected for them; `None` when some element is not skipped inline.
    fn elems_of(&self, node: &Node) -> Option<Elems> {
        match node {
            Node::List(e, _) | Node::Set(e, _) => Some(Elems::One(self.elem_of(e)?)),
            Node::Map(k, v, _) => Some(Elems::Two(self.elem_of(k)?, self.elem_of(v)?)),
            _ => None,
        }
    }

    fn elem_of(&self, node: &Node) -> Option<(Elem, u8)> {
        let node = unboxed(node);
        let tt = node.ttype();
        let e = match (self.proto, tt) {
            (_, TType::Struct) => Elem::Struct(self.refs[struct_of(node)?]?),
            (_, TType::String) => Elem::Str,
            (Proto::Binary, tt) => Elem::Fixed(binary_width(tt)?),
            (Proto::Compact, TType::Bool | TType::I8) => Elem::Fixed(1),
            (Proto::Compact, TType::Double) => Elem::Fixed(8),
            (Proto::Compact, TType::Uuid) => Elem::Fixed(16),
            (Proto::Compact, TType::I16 | TType::I32 | TType::I64) => Elem::Varint,
            _ => return None,
        };
        Some((e, self.code(tt)))
    }

    /// Runs `fast` with a cold block it jumps to on anything unusual (the offset variable
    /// then at the value's start): there the generic skip of a value of protocol code
    /// `code` runs from that offset. Leaves the block after both current.
    fn with_slow(&mut self, code: u8, depth: Value, fast: impl FnOnce(&mut Self, Block)) {
        let slow = self.b.create_block();
        let done = self.b.create_block();
        self.b.set_cold_block(slow);
        fast(self, slow);
        self.b.ins().jump(done, &[]);
        self.b.switch_to_block(slow);
        self.generic_code(code, depth);
        self.b.ins().jump(done, &[]);
        self.b.switch_to_block(done);
    }

    /// A value of `n` bytes: one bounds check, then past it.
    fn fixed(&mut self, n: usize) {
        let p = self.b.use_var(self.pos);
        self.need(p, n, p);
        let p = self.b.ins().iadd_imm_s(p, n as i64);
        self.b.def_var(self.pos, p);
    }

    /// Jumps to `slow` unless `n` bytes remain after `p`.
    fn need_or(&mut self, p: Value, n: usize, slow: Block) {
        let avail = self.b.ins().isub(self.len, p);
        let short = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedLessThan, avail, n as i64);
        let cont = self.b.create_block();
        self.b.ins().brif(short, slow, &[], cont, &[]);
        self.b.switch_to_block(cont);
    }

    /// A string or binary whose bytes are all in the input: past it; else on to `slow`.
    fn str_in(&mut self, slow: Block) {
        let p = self.b.use_var(self.pos);
        let (n, data) = match self.proto {
            Proto::Binary => {
                self.need_or(p, 4, slow);
                let at = self.b.ins().iadd(self.buf, p);
                let n = self.b.ins().load(types::I32, input_flags(), at, 0);
                let n = self.b.ins().bswap(n);
                // Sign-extended: a negative length is huge, so never fits.
                let n = self.b.ins().sextend(self.ptr, n);
                (n, self.b.ins().iadd_imm_s(p, 4))
            }
            Proto::Compact => self.small_varint(p, slow),
        };
        let rest = self.b.ins().isub(self.len, data);
        let fits = self.b.ins().icmp(IntCC::UnsignedLessThanOrEqual, n, rest);
        let ok = self.b.create_block();
        self.b.ins().brif(fits, ok, &[], slow, &[]);
        self.b.switch_to_block(ok);
        let q = self.b.ins().iadd(data, n);
        self.b.def_var(self.pos, q);
    }

    /// Compact: a varint of one or two bytes at `p`: its value and the offset after it;
    /// longer ones, or running out of input, go to `slow`.
    fn small_varint(&mut self, p: Value, slow: Block) -> (Value, Value) {
        let one = self.b.create_block();
        let two_room = self.b.create_block();
        let two = self.b.create_block();
        let got = self.b.create_block();
        let n = self.b.append_block_param(got, self.ptr);
        let q = self.b.append_block_param(got, self.ptr);
        self.need_or(p, 1, slow);
        let at = self.b.ins().iadd(self.buf, p);
        let b0 = self.b.ins().uload8(types::I32, input_flags(), at, 0);
        let big = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, b0, 0x80);
        self.b.ins().brif(big, two_room, &[], one, &[]);
        self.b.switch_to_block(one);
        let n1 = self.b.ins().uextend(self.ptr, b0);
        let q1 = self.b.ins().iadd_imm_s(p, 1);
        self.b
            .ins()
            .jump(got, &[ir::BlockArg::Value(n1), ir::BlockArg::Value(q1)]);
        self.b.switch_to_block(two_room);
        let avail = self.b.ins().isub(self.len, p);
        let room2 = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, avail, 2);
        self.b.ins().brif(room2, two, &[], slow, &[]);
        self.b.switch_to_block(two);
        let b1 = self.b.ins().uload8(types::I32, input_flags(), at, 1);
        let big1 = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, b1, 0x80);
        let two_ok = self.b.create_block();
        self.b.ins().brif(big1, slow, &[], two_ok, &[]);
        self.b.switch_to_block(two_ok);
        let lo = self.b.ins().band_imm_s(b0, 0x7f);
        let hi = self.b.ins().ishl_imm_s(b1, 7);
        let n2 = self.b.ins().bor(lo, hi);
        let n2 = self.b.ins().uextend(self.ptr, n2);
        let q2 = self.b.ins().iadd_imm_s(p, 2);
        self.b
            .ins()
            .jump(got, &[ir::BlockArg::Value(n2), ir::BlockArg::Value(q2)]);
        self.b.switch_to_block(got);
        (n, q)
    }

    /// Compact integer: a varint of at most 10 bytes scanned inline; running out of input
    /// or a longer one goes to `slow`.
    fn varint_in(&mut self, slow: Block) {
        let p = self.b.use_var(self.pos);
        let lp = self.b.create_block();
        let body = self.b.create_block();
        let next = self.b.create_block();
        let found = self.b.create_block();
        let i = self.b.append_block_param(lp, self.ptr);
        let end_at = self.b.append_block_param(found, self.ptr);
        self.b.ins().jump(lp, &[ir::BlockArg::Value(p)]);
        self.b.switch_to_block(lp);
        let more = self.b.ins().icmp(IntCC::UnsignedLessThan, i, self.len);
        self.b.ins().brif(more, body, &[], slow, &[]);
        self.b.switch_to_block(body);
        let at = self.b.ins().iadd(self.buf, i);
        let byte = self.b.ins().uload8(types::I32, input_flags(), at, 0);
        let i1 = self.b.ins().iadd_imm_s(i, 1);
        let cont = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, byte, 0x80);
        self.b
            .ins()
            .brif(cont, next, &[], found, &[ir::BlockArg::Value(i1)]);
        self.b.switch_to_block(next);
        let k = self.b.ins().isub(i1, p);
        let long = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, k, 10);
        self.b
            .ins()
            .brif(long, slow, &[], lp, &[ir::BlockArg::Value(i1)]);
        self.b.switch_to_block(found);
        self.b.def_var(self.pos, end_at);
    }

    /// One element of a container (its wire type checked by the header); `depth` is the
    /// budget inside the container.
    fn elem(&mut self, e: Elem, depth: Value, slow: Block) {
        match e {
            Elem::Fixed(n) => {
                let p = self.b.use_var(self.pos);
                self.need_or(p, n, slow);
                let q = self.b.ins().iadd_imm_s(p, n as i64);
                self.b.def_var(self.pos, q);
            }
            Elem::Str => self.str_in(slow),
            Elem::Varint => self.varint_in(slow),
            Elem::Struct(fref) => {
                self.sync_out();
                let cx = self.cx;
                let call = self.b.ins().call(fref, &[cx, depth]);
                let st = self.b.inst_results(call)[0];
                let ok = self.b.create_block();
                self.b.ins().brif(st, slow, &[], ok, &[]);
                self.b.switch_to_block(ok);
                self.sync_in();
            }
        }
    }

    /// A list, set or map (wire type `t`) whose elements are skipped inline: the header
    /// read inline, then fixed-size elements in one step and others one by one. Anything
    /// unexpected (element types, lengths, the input running out, an element failing, the
    /// depth) goes to `slow`, which skips the whole container generically from its start:
    /// the generic skip then returns what it would have, length or error.
    fn container(&mut self, t: TType, elems: Elems, depth: Value, slow: Block) {
        let start = self.b.use_var(self.pos);
        // Reached from the middle of the container too: restart from its start.
        let restart = self.b.create_block();
        self.b.set_cold_block(restart);
        let ok = self.b.create_block();
        // The container takes one level.
        self.b.ins().brif(depth, ok, &[], restart, &[]);
        self.b.switch_to_block(ok);
        let inner = self.b.ins().iadd_imm_s(depth, -1);
        let at = self.b.ins().iadd(self.buf, start);
        let elems_done = self.b.create_block();
        let n = match (self.proto, t) {
            (Proto::Binary, TType::Map) => {
                let Elems::Two(k, v) = elems else {
                    unreachable!("a map has keys and values")
                };
                self.need_or(start, 6, restart);
                let kt = self.b.ins().uload8(types::I32, input_flags(), at, 0);
                let vt = self.b.ins().uload8(types::I32, input_flags(), at, 1);
                let kt = self.b.ins().icmp_imm_s(IntCC::NotEqual, kt, k.1 as i64);
                let vt = self.b.ins().icmp_imm_s(IntCC::NotEqual, vt, v.1 as i64);
                let bad = self.b.ins().bor(kt, vt);
                let cont = self.b.create_block();
                self.b.ins().brif(bad, restart, &[], cont, &[]);
                self.b.switch_to_block(cont);
                let n = self.b.ins().load(types::I32, input_flags(), at, 2);
                let n = self.b.ins().bswap(n);
                let q = self.b.ins().iadd_imm_s(start, 6);
                self.b.def_var(self.pos, q);
                self.b.ins().sextend(self.ptr, n)
            }
            (Proto::Binary, _) => {
                let Elems::One(e) = elems else {
                    unreachable!("a list has elements")
                };
                self.need_or(start, 5, restart);
                let et = self.b.ins().uload8(types::I32, input_flags(), at, 0);
                let bad = self.b.ins().icmp_imm_s(IntCC::NotEqual, et, e.1 as i64);
                let cont = self.b.create_block();
                self.b.ins().brif(bad, restart, &[], cont, &[]);
                self.b.switch_to_block(cont);
                let n = self.b.ins().load(types::I32, input_flags(), at, 1);
                let n = self.b.ins().bswap(n);
                let q = self.b.ins().iadd_imm_s(start, 5);
                self.b.def_var(self.pos, q);
                self.b.ins().sextend(self.ptr, n)
            }
            (Proto::Compact, TType::Map) => {
                let Elems::Two(k, v) = elems else {
                    unreachable!("a map has keys and values")
                };
                let (n, q) = self.small_varint(start, restart);
                self.b.def_var(self.pos, q);
                // An empty map has no key and value types.
                let some = self.b.create_block();
                self.b.ins().brif(n, some, &[], elems_done, &[]);
                self.b.switch_to_block(some);
                self.need_or(q, 1, restart);
                let kvat = self.b.ins().iadd(self.buf, q);
                let kv = self.b.ins().uload8(types::I32, input_flags(), kvat, 0);
                let expect_kv = ((k.1 as i64) << 4) | (v.1 as i64);
                let bad = self.b.ins().icmp_imm_s(IntCC::NotEqual, kv, expect_kv);
                let cont = self.b.create_block();
                self.b.ins().brif(bad, restart, &[], cont, &[]);
                self.b.switch_to_block(cont);
                let q = self.b.ins().iadd_imm_s(q, 1);
                self.b.def_var(self.pos, q);
                n
            }
            (Proto::Compact, _) => {
                let Elems::One(e) = elems else {
                    unreachable!("a list has elements")
                };
                self.need_or(start, 1, restart);
                let b = self.b.ins().uload8(types::I32, input_flags(), at, 0);
                let et = self.b.ins().band_imm_s(b, 0x0f);
                let bad = self.b.ins().icmp_imm_s(IntCC::NotEqual, et, e.1 as i64);
                let cont = self.b.create_block();
                self.b.ins().brif(bad, restart, &[], cont, &[]);
                self.b.switch_to_block(cont);
                let short = self.b.ins().ushr_imm_u(b, 4);
                let is_long = self.b.ins().icmp_imm_s(IntCC::Equal, short, 15);
                let long = self.b.create_block();
                let small = self.b.create_block();
                let got = self.b.create_block();
                let n = self.b.append_block_param(got, self.ptr);
                self.b.ins().brif(is_long, long, &[], small, &[]);
                self.b.switch_to_block(small);
                let ns = self.b.ins().uextend(self.ptr, short);
                let q = self.b.ins().iadd_imm_s(start, 1);
                self.b.def_var(self.pos, q);
                self.b.ins().jump(got, &[ir::BlockArg::Value(ns)]);
                self.b.switch_to_block(long);
                let p1 = self.b.ins().iadd_imm_s(start, 1);
                let (nl, q) = self.small_varint(p1, restart);
                self.b.def_var(self.pos, q);
                self.b.ins().jump(got, &[ir::BlockArg::Value(nl)]);
                self.b.switch_to_block(got);
                n
            }
        };
        // Binary lengths are signed: a negative one is the generic skip's error.
        let neg = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, n, 0);
        let counted = self.b.create_block();
        self.b.ins().brif(neg, restart, &[], counted, &[]);
        self.b.switch_to_block(counted);
        let widths = match elems {
            Elems::One((Elem::Fixed(a), _)) => Some(a),
            Elems::Two((Elem::Fixed(a), _), (Elem::Fixed(b), _)) => Some(a + b),
            _ => None,
        };
        if let Some(w) = widths {
            // All in one step (n < 2^31 and w <= 32: no overflow).
            let p = self.b.use_var(self.pos);
            let total = self.b.ins().imul_imm_u(n, w as i64);
            let rest = self.b.ins().isub(self.len, p);
            let fits = self
                .b
                .ins()
                .icmp(IntCC::UnsignedLessThanOrEqual, total, rest);
            let ok = self.b.create_block();
            self.b.ins().brif(fits, ok, &[], restart, &[]);
            self.b.switch_to_block(ok);
            let q = self.b.ins().iadd(p, total);
            self.b.def_var(self.pos, q);
            self.b.ins().jump(elems_done, &[]);
        } else {
            let lp = self.b.create_block();
            let body = self.b.create_block();
            let i = self.b.append_block_param(lp, self.ptr);
            self.b.ins().jump(lp, &[ir::BlockArg::Value(n)]);
            self.b.switch_to_block(lp);
            self.b.ins().brif(i, body, &[], elems_done, &[]);
            self.b.switch_to_block(body);
            match elems {
                Elems::One((e, _)) => self.elem(e, inner, restart),
                Elems::Two((k, _), (v, _)) => {
                    self.elem(k, inner, restart);
                    self.elem(v, inner, restart);
                }
            }
            let i1 = self.b.ins().iadd_imm_s(i, -1);
            self.b.ins().jump(lp, &[ir::BlockArg::Value(i1)]);
        }
        self.b.switch_to_block(restart);
        self.b.def_var(self.pos, start);
        self.b.ins().jump(slow, &[]);
        self.b.switch_to_block(elems_done);
    }

    /// Binary: skips values of fixed size, and strings that fit in the input, inline (then on
    /// to `head`); everything else, and every error, falls through to the generic skip (the
    /// block this leaves current).
    fn inline_skip(&mut self, t: Value, head: Block) {
        let helper = self.b.create_block();
        let strb = self.b.create_block();
        let sizes = [1usize, 2, 4, 8, 16];
        let fixed: Vec<Block> = sizes.iter().map(|_| self.b.create_block()).collect();
        let index_of = |code: u32| {
            let w = binary_width(TType::from_u8(code as u8)?)?;
            sizes.iter().position(|&n| n == w)
        };
        let pool = &mut self.b.func.dfg.value_lists;
        let entries: Vec<BlockCall> = (0..=16u32)
            .map(|code| {
                let target = if code == TType::String as u32 {
                    strb
                } else {
                    index_of(code).map_or(helper, |k| fixed[k])
                };
                BlockCall::new(target, std::iter::empty(), pool)
            })
            .collect();
        let default = BlockCall::new(helper, std::iter::empty(), pool);
        let jt = self
            .b
            .create_jump_table(JumpTableData::new(default, &entries));
        self.b.ins().br_table(t, jt);
        for (k, &n) in sizes.iter().enumerate() {
            self.b.switch_to_block(fixed[k]);
            let p = self.b.use_var(self.pos);
            let avail = self.b.ins().isub(self.len, p);
            let ok = self.b.create_block();
            let room = self
                .b
                .ins()
                .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, avail, n as i64);
            self.b.ins().brif(room, ok, &[], helper, &[]);
            self.b.switch_to_block(ok);
            let q = self.b.ins().iadd_imm_s(p, n as i64);
            self.b.def_var(self.pos, q);
            self.b.ins().jump(head, &[]);
        }
        self.b.switch_to_block(strb);
        let p = self.b.use_var(self.pos);
        let avail = self.b.ins().isub(self.len, p);
        let have = self.b.create_block();
        let fits = self.b.create_block();
        let room = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, avail, 4);
        self.b.ins().brif(room, have, &[], helper, &[]);
        self.b.switch_to_block(have);
        let at = self.b.ins().iadd(self.buf, p);
        let n = self.b.ins().load(types::I32, input_flags(), at, 0);
        let n = self.b.ins().bswap(n);
        let n = self.b.ins().sextend(self.ptr, n);
        let rest = self.b.ins().iadd_imm_s(avail, -4);
        let ok = self.b.ins().icmp(IntCC::UnsignedLessThanOrEqual, n, rest);
        self.b.ins().brif(ok, fits, &[], helper, &[]);
        self.b.switch_to_block(fits);
        let q = self.b.ins().iadd(p, n);
        let q = self.b.ins().iadd_imm_s(q, 4);
        self.b.def_var(self.pos, q);
        self.b.ins().jump(head, &[]);
        self.b.switch_to_block(helper);
    }

    /// Binary: after field `i`, predicts the next header is field `i + 1`'s (or the stop
    /// byte after the last field): one compare of the three header bytes, then straight to
    /// its skip; anything else takes the general path at `head`.
    fn predict(&mut self, s: &StructPlan, i: usize, skips: &[Block], head: Block, end: Block) {
        let p = self.b.use_var(self.pos);
        let avail = self.b.ins().isub(self.len, p);
        let at = self.b.ins().iadd(self.buf, p);
        let check = self.b.create_block();
        let hit = self.b.create_block();
        match s.fields.get(i + 1) {
            Some(next) => {
                let room = self
                    .b
                    .ins()
                    .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, avail, 4);
                self.b.ins().brif(room, check, &[], head, &[]);
                self.b.switch_to_block(check);
                // Little-endian hosts only (x86_64, aarch64): type byte, then the id big-endian.
                let w = self.b.ins().load(types::I32, input_flags(), at, 0);
                let w = self.b.ins().band_imm_s(w, 0x00ff_ffff);
                let id = next.id as u16 as u32;
                let expect = (next.ttype as u32) | ((id >> 8) << 8) | ((id & 0xff) << 16);
                let same = self.b.ins().icmp_imm_s(IntCC::Equal, w, expect as i64);
                self.b.ins().brif(same, hit, &[], head, &[]);
                self.b.switch_to_block(hit);
                let q = self.b.ins().iadd_imm_s(p, 3);
                self.b.def_var(self.pos, q);
                self.b.ins().jump(skips[i + 1], &[]);
            }
            None => {
                let room = self
                    .b
                    .ins()
                    .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, avail, 1);
                self.b.ins().brif(room, check, &[], head, &[]);
                self.b.switch_to_block(check);
                let t = self.b.ins().uload8(types::I32, input_flags(), at, 0);
                self.b.ins().brif(t, head, &[], hit, &[]);
                self.b.switch_to_block(hit);
                let q = self.b.ins().iadd_imm_s(p, 1);
                self.b.def_var(self.pos, q);
                self.b.ins().jump(end, &[]);
            }
        }
    }

    /// Compact: after field `i` the last id is known, so the short header of field `i + 1`
    /// is one constant byte (when the delta fits and the field is not a bool, whose header
    /// varies); after the last field, the stop byte (any delta: `head` handles those).
    fn cpredict(&mut self, s: &StructPlan, i: usize, skips: &[Block], head: Block, end: Block) {
        let cur = s.fields[i].id as i32;
        let (expect, target) = match s.fields.get(i + 1) {
            Some(next) => {
                let delta = next.id as i32 - cur;
                if !(1..=15).contains(&delta) || next.ttype == TType::Bool {
                    self.b.ins().jump(head, &[]);
                    return;
                }
                let byte = (delta << 4) | compact_code(next.ttype) as i32;
                (byte, Some((skips[i + 1], next.id)))
            }
            None => (0, None),
        };
        let p = self.b.use_var(self.pos);
        let room = self.b.ins().icmp(IntCC::UnsignedLessThan, p, self.len);
        let check = self.b.create_block();
        let hit = self.b.create_block();
        self.b.ins().brif(room, check, &[], head, &[]);
        self.b.switch_to_block(check);
        let at = self.b.ins().iadd(self.buf, p);
        let b = self.b.ins().uload8(types::I32, input_flags(), at, 0);
        let same = self.b.ins().icmp_imm_s(IntCC::Equal, b, expect as i64);
        self.b.ins().brif(same, hit, &[], head, &[]);
        self.b.switch_to_block(hit);
        let q = self.b.ins().iadd_imm_s(p, 1);
        self.b.def_var(self.pos, q);
        match target {
            Some((block, id)) => {
                let id = self.b.ins().iconst(types::I32, id as i64);
                self.b.def_var(self.last, id);
                self.b.ins().jump(block, &[]);
            }
            None => {
                self.b.ins().jump(end, &[]);
            }
        }
    }
}
