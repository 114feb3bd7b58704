//! Translation of a plan into native skip functions, Binary and Compact: per struct, a loop
//! that reads a field header, predicts the next field (then goes straight to its skip),
//! dispatches on the id otherwise, and skips a known field of the expected wire type with
//! what the type says (fixed widths after one bounds check, strings by their length, nested
//! structs through their own compiled skip, lists, sets and maps of such elements by their
//! header and then in one step (fixed sizes) or element by element); other containers,
//! unknown fields and fields of another type are skipped generically
//! (`rt_dec_skip`/`rt_cdec_skip`, the protocol's own skip). The offset lives in a register
//! and is written back to the context only around helper calls and at the end. The header,
//! dispatch, prediction and the inline skips of values are shared with the decoder
//! (`lower_read`).
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
    self, AbiParam, Block, InstBuilder, MemFlagsData, Signature, Type, UserFuncName, Value, types,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_jit::JITModule;
use cranelift_module::{FuncId, Module};
use dynthrift_core::TType;
use dynthrift_core::wire::compact::compact_code;
use dynthrift_interp::Plan;
use dynthrift_interp::plan::{FieldPlan, Node, StructPlan};

use crate::abi::{DEC_BUF, DEC_LEN, DEC_POS, STATUS_ERROR, STATUS_OK};
use crate::lower::Proto;
use crate::lower_read::{
    Inline, Input, ReadSigs, Reader, emit_dispatch, emit_is_type, emit_need_or, emit_skip_cbool,
    emit_small_varint, input_flags,
};
use crate::rt;

/// Declares the skip function of every `wanted` struct (`None` for the others).
pub(crate) fn declare(
    module: &mut JITModule,
    plan: &Plan,
    proto: Proto,
    wanted: &[bool],
) -> Result<Vec<Option<FuncId>>, String> {
    let sig = sig(module);
    crate::lower_read::declare_each(module, plan, proto, wanted, "skip", &sig)
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
    let sigs = ReadSigs::import(&mut b, module, ptr);
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
        input: Input {
            buf: zero,
            len: zero,
        },
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
    /// A value the input alone describes.
    Inline(Inline),
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

struct Lower<'f> {
    b: FunctionBuilder<'f>,
    ptr: Type,
    proto: Proto,
    sigs: ReadSigs,
    cx: Value,
    /// The input (loaded once).
    input: Input,
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

/// The offset lives in a register, written to the context only around calls.
impl<'f> Reader<'f> for Lower<'f> {
    fn b(&mut self) -> &mut FunctionBuilder<'f> {
        &mut self.b
    }

    fn ptr(&self) -> Type {
        self.ptr
    }

    fn proto(&self) -> Proto {
        self.proto
    }

    fn cx(&self) -> Value {
        self.cx
    }

    fn sigs(&self) -> &ReadSigs {
        &self.sigs
    }

    fn last(&self) -> Variable {
        self.last
    }

    fn cursor(&mut self) -> (Input, Value) {
        (self.input, self.b.use_var(self.pos))
    }

    fn set_pos(&mut self, p: Value) {
        self.b.def_var(self.pos, p);
    }

    fn sync_out(&mut self) {
        let p = self.b.use_var(self.pos);
        let cx = self.cx;
        self.b.ins().store(MemFlagsData::trusted(), p, cx, DEC_POS);
    }

    fn sync_in(&mut self) {
        let cx = self.cx;
        let p = self
            .b
            .ins()
            .load(self.ptr, MemFlagsData::trusted(), cx, DEC_POS);
        self.b.def_var(self.pos, p);
    }

    /// Through the shared end-of-input block.
    fn need(&mut self, input: Input, p: Value, n: usize, at: Value) {
        let avail = self.b.ins().isub(input.len, p);
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

    /// Through the shared failure block.
    fn fail_if(&mut self, cond: Value) {
        let fail = self.fail_block();
        let cont = self.b.create_block();
        self.b.ins().brif(cond, fail, &[], cont, &[]);
        self.b.switch_to_block(cont);
    }

    fn note_header(&mut self, _pos: Value) {}
}

impl Lower<'_> {
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

    /// The generic skip of a value of protocol code `code` at the offset.
    fn generic_code(&mut self, code: u8, depth: Value) {
        let t = self.b.ins().iconst(types::I32, code as i64);
        self.emit_generic_skip(t, depth);
    }

    fn lower_struct(&mut self, s: &StructPlan, depth: Value) {
        let depth = self.emit_enter(depth);
        let cx = self.cx;
        let flags = MemFlagsData::trusted();
        self.input = Input {
            buf: self.b.ins().load(self.ptr, flags, cx, DEC_BUF),
            len: self.b.ins().load(self.ptr, flags, cx, DEC_LEN),
        };
        self.sync_in();
        let zero = self.b.ins().iconst(types::I32, 0);
        self.b.def_var(self.last, zero);

        let head = self.head();
        let end = self.b.create_block();
        let unknown = self.b.create_block();
        self.b.append_block_param(unknown, types::I32);
        let skips: Vec<Block> = s.fields.iter().map(|_| self.b.create_block()).collect();
        // Binary fixed-width fields: the room for the value is checked with a predicted
        // header, or after the generic one before joining; the skip is then one add.
        let rooms: Vec<usize> = s
            .fields
            .iter()
            .map(|f| match (self.proto, Inline::of(self.proto, f.ttype)) {
                (Proto::Binary, Some(Inline::Fixed(n))) => n,
                _ => 0,
            })
            .collect();
        self.emit_predict(s, 0, &skips, &rooms, head, end, None);

        let (t, id) = self.lower_head(head, end);

        let blocks = emit_dispatch(&mut self.b, s, id, t, unknown);
        let unknown_call = [ir::BlockArg::Value(t)];
        for (i, f) in s.fields.iter().enumerate() {
            self.b.switch_to_block(blocks[i]);
            // A known id with another wire type is skipped like an unknown one.
            let same = emit_is_type(&mut self.b, self.proto, t, f.ttype);
            if rooms[i] == 0 {
                self.b
                    .ins()
                    .brif(same, skips[i], &[], unknown, &unknown_call);
            } else {
                let need = self.b.create_block();
                self.b.ins().brif(same, need, &[], unknown, &unknown_call);
                self.b.switch_to_block(need);
                let p = self.b.use_var(self.pos);
                self.need(self.input, p, rooms[i], p);
                self.b.ins().jump(skips[i], &[]);
            }
            self.b.switch_to_block(skips[i]);
            if rooms[i] == 0 {
                self.lower_field(f, depth);
            } else {
                let p = self.b.use_var(self.pos);
                let p = self.b.ins().iadd_imm_s(p, rooms[i] as i64);
                self.b.def_var(self.pos, p);
            }
            self.emit_predict(s, i + 1, &skips, &rooms, head, end, None);
        }

        self.b.switch_to_block(unknown);
        let t = self.b.block_params(unknown)[0];
        if self.proto == Proto::Compact {
            emit_skip_cbool(&mut self.b, t, head.at);
        }
        self.emit_inline_skip(t, head.at);
        self.emit_generic_skip(t, depth);
        self.b.ins().jump(head.at, &[]);

        self.b.switch_to_block(end);
        self.sync_out();
        let s = self.b.ins().iconst(types::I32, STATUS_OK as i64);
        self.b.ins().return_(&[s]);
        self.finish();
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
            self.fail_if(st);
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
            // A bool's value is in its header.
            (Proto::Compact, TType::Bool) => {}
            (proto, tt) => match Inline::of(proto, tt) {
                Some(Inline::Fixed(n)) => self.fixed(n),
                Some(kind) => self.with_slow(code, depth, |l, slow| {
                    l.emit_advance(|b, input, p| kind.emit(b, proto, input, p, slow))
                }),
                None => self.generic_code(code, depth),
            },
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
        let e = match tt {
            TType::Struct => Elem::Struct(self.refs[struct_of(node)?]?),
            tt => Elem::Inline(Inline::of(self.proto, tt)?),
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
        self.need(self.input, p, n, p);
        let p = self.b.ins().iadd_imm_s(p, n as i64);
        self.b.def_var(self.pos, p);
    }

    /// One element of a container (its wire type checked by the header); `depth` is the
    /// budget inside the container.
    fn elem(&mut self, e: Elem, depth: Value, slow: Block) {
        match e {
            Elem::Inline(kind) => {
                let proto = self.proto;
                self.emit_advance(|b, input, p| kind.emit(b, proto, input, p, slow));
            }
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
        let at = self.b.ins().iadd(self.input.buf, start);
        let elems_done = self.b.create_block();
        let n = match (self.proto, t) {
            (Proto::Binary, TType::Map) => {
                let Elems::Two(k, v) = elems else {
                    unreachable!("a map has keys and values")
                };
                emit_need_or(&mut self.b, self.input, start, 6, restart);
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
                emit_need_or(&mut self.b, self.input, start, 5, restart);
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
                let (n, q) = emit_small_varint(&mut self.b, self.input, start, restart);
                self.b.def_var(self.pos, q);
                // An empty map has no key and value types.
                let some = self.b.create_block();
                self.b.ins().brif(n, some, &[], elems_done, &[]);
                self.b.switch_to_block(some);
                emit_need_or(&mut self.b, self.input, q, 1, restart);
                let kvat = self.b.ins().iadd(self.input.buf, q);
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
                emit_need_or(&mut self.b, self.input, start, 1, restart);
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
                let (nl, q) = emit_small_varint(&mut self.b, self.input, p1, restart);
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
            Elems::One((Elem::Inline(Inline::Fixed(a)), _)) => Some(a),
            Elems::Two(
                (Elem::Inline(Inline::Fixed(a)), _),
                (Elem::Inline(Inline::Fixed(b)), _),
            ) => Some(a + b),
            _ => None,
        };
        if let Some(w) = widths {
            // All in one step (n < 2^31 and w <= 32: no overflow).
            let p = self.b.use_var(self.pos);
            let total = self.b.ins().imul_imm_u(n, w as i64);
            let rest = self.b.ins().isub(self.input.len, p);
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
}
