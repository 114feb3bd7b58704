//! Translation of a plan into a decoder, Binary and Compact: per struct, a loop that reads a
//! field header, dispatches on the id (a jump table when ids are dense), reads scalars inline
//! and nested structs through their compiled decoder, skips unknown fields, and hands every
//! other value to the interpreter (`rt_dec_field_value`, `rt_cdec_field_value`) at the current
//! offset.
//! Semantics, errors and offsets are the interpreter's. The header, dispatch, prediction and
//! inline skips are shared with the skip (`lower_read`). The offset lives in a variable,
//! written to the context around the helpers that read or move it and on returning.

use cranelift_codegen::Context;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    self, AbiParam, Block, BlockArg, InstBuilder, MemFlagsData, SigRef, Signature, Type,
    UserFuncName, Value, types,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_jit::JITModule;
use cranelift_module::{FuncId, Module};
use dynthrift_core::desc::{EnumDesc, SeqDesc};
use dynthrift_core::schema::StructKind;
use dynthrift_core::wire::compact::compact_code;
use dynthrift_interp::Plan;
use dynthrift_interp::plan::{EnumRepr, FieldPlan, Node, Presence, SeqRepr, StructPlan};

use crate::abi::{DEC_BUF, DEC_LEN, DEC_POS, STATUS_ERROR, STATUS_OK};
use crate::lower::Proto;
use crate::lower_read::{
    Input, ReadSigs, Reader, emit_dispatch, emit_is_type, emit_read_varint, emit_skip_cbool,
    input_flags,
};
use crate::rt;

/// Declares the decoder of every `wanted` struct (`None` for the others).
pub(crate) fn declare(
    module: &mut JITModule,
    plan: &Plan,
    proto: Proto,
    wanted: &[bool],
) -> Result<Vec<Option<FuncId>>, String> {
    let sig = sig(module);
    crate::lower_read::declare_each(module, plan, proto, wanted, "decode", &sig)
}

fn sig(module: &JITModule) -> Signature {
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

/// Builds the IR of the decoder of struct `si` in `ctx.func`; returns its id (`None`: not
/// compiled). The engine compiles and defines it.
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
    ctx.func.name = UserFuncName::user(1, id.as_u32());
    let ptr = module.target_config().pointer_type();
    let refs: Vec<Option<ir::FuncRef>> = table
        .iter()
        .map(|f| f.map(|f| module.declare_func_in_func(f, &mut ctx.func)))
        .collect();
    let frontend = module.target_config();
    let mut b = FunctionBuilder::new(&mut ctx.func, fctx);
    let sigs = Sigs::import(&mut b, module, ptr);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let params = b.block_params(entry).to_vec();
    let seen = b.declare_var(types::I64);
    let last = b.declare_var(types::I32);
    let pos = b.declare_var(ptr);
    let p0 = b.ins().load(ptr, trusted(), params[0], DEC_POS);
    b.def_var(pos, p0);
    let input = Input {
        buf: b.ins().load(ptr, trusted(), params[0], DEC_BUF),
        len: b.ins().load(ptr, trusted(), params[0], DEC_LEN),
    };
    let mut l = Lower {
        b,
        ptr,
        proto,
        sigs,
        cx: params[0],
        refs,
        seen,
        last,
        pos,
        input,
        count: None,
        hdr: None,
        room_checked: false,
    };
    l.lower_struct(&plan.structs[si], params[1], params[2]);
    l.b.seal_all_blocks();
    l.b.finalize(frontend);
    Some(id)
}

struct Sigs {
    read: ReadSigs,
    /// `(ctx, ptr, ptr, u32) -> i32`
    node: SigRef,
    /// `(ptr, ptr) -> ptr`
    ptr_ptr_ptr: SigRef,
    /// `(ptr, ptr, i32) -> i32`
    enum_from: SigRef,
    /// `(ctx, ptr, i32, usize) -> i32`
    unknown_enum: SigRef,
    /// `(ctx, ptr, i64) -> i32`
    missing: SigRef,
    /// `(ctx, ptr) -> i32`
    ctx_ptr: SigRef,
    /// `(ctx, ptr, ptr) -> i32`
    ctx_ptr_ptr: SigRef,
    /// `(ctx, ptr, i32, usize, usize) -> i32`
    str_fast: SigRef,
    /// `(ctx, ptr, i32) -> i32`
    ctx_ptr_i32: SigRef,
    /// `(ptr, ptr, ptr) -> ptr`
    ptr3_ptr: SigRef,
    /// `(ctx, ptr, ptr, usize) -> ptr`: a list's room.
    list_begin: SigRef,
    /// `(ptr, ptr, usize) -> i32`: a list's elements made part of it.
    seq_commit: SigRef,
    /// `(ctx, ptr, u32, u32) -> i32`
    keep: SigRef,
    /// `(ctx, ptr, u32, i32, u32) -> i32`
    ckeep: SigRef,
}

impl Sigs {
    fn import(b: &mut FunctionBuilder<'_>, module: &JITModule, ptr: Type) -> Sigs {
        let read = ReadSigs::import(b, module, ptr);
        let mut sig = |params: &[Type], ret: Type| {
            let mut s = module.make_signature();
            s.params.extend(params.iter().map(|t| AbiParam::new(*t)));
            s.returns.push(AbiParam::new(ret));
            b.import_signature(s)
        };
        let i32t = types::I32;
        Sigs {
            read,
            node: sig(&[ptr, ptr, ptr, i32t], i32t),
            ptr_ptr_ptr: sig(&[ptr, ptr], ptr),
            enum_from: sig(&[ptr, ptr, i32t], i32t),
            unknown_enum: sig(&[ptr, ptr, i32t, ptr], i32t),
            missing: sig(&[ptr, ptr, types::I64], i32t),
            ctx_ptr: sig(&[ptr, ptr], i32t),
            ctx_ptr_ptr: sig(&[ptr, ptr, ptr], i32t),
            str_fast: sig(&[ptr, ptr, i32t, ptr, ptr], i32t),
            ctx_ptr_i32: sig(&[ptr, ptr, i32t], i32t),
            ptr3_ptr: sig(&[ptr, ptr, ptr], ptr),
            list_begin: sig(&[ptr, ptr, ptr, ptr], ptr),
            seq_commit: sig(&[ptr, ptr, ptr], i32t),
            keep: sig(&[ptr, ptr, i32t, i32t], i32t),
            ckeep: sig(&[ptr, ptr, i32t, i32t, i32t], i32t),
        }
    }
}

struct Lower<'f> {
    b: FunctionBuilder<'f>,
    ptr: Type,
    proto: Proto,
    sigs: Sigs,
    cx: Value,
    refs: Vec<Option<ir::FuncRef>>,
    seen: Variable,
    /// Compact: the id of the last field read (headers carry deltas).
    last: Variable,
    /// The offset (written back to the context around the helpers that read or move it, and
    /// on returning).
    pos: Variable,
    /// The input's start and length, loaded once on entry (they never change during a call).
    input: Input,
    /// A union: members read so far (0 or 1: a second one is an error).
    count: Option<Variable>,
    /// A union: where the last field header started (for the error on a second member).
    hdr: Option<Variable>,
    /// Every way into the field being lowered has already checked that its fixed-width value
    /// (a string's or binary's length) is in the input (see [`Lower::lower_struct`]).
    room_checked: bool,
}

fn trusted() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// Stores into values: aligned fields.
fn value_flags() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// The offset lives in a variable, written to the context only for the helpers (and the
/// compiled decoders) that read or move it, and on returning: every move through memory would
/// put a store and a load on the decode's critical path. The input's start and length are
/// loaded once, on entry (they never change).
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
        &self.sigs.read
    }

    fn last(&self) -> Variable {
        self.last
    }

    fn cursor(&mut self) -> (Input, Value) {
        let (buf, pos, len) = self.load_cursor();
        (Input { buf, len }, pos)
    }

    fn set_pos(&mut self, p: Value) {
        self.b.def_var(self.pos, p);
    }

    fn sync_out(&mut self) {
        let p = self.b.use_var(self.pos);
        let cx = self.cx;
        self.b.ins().store(trusted(), p, cx, DEC_POS);
    }

    fn sync_in(&mut self) {
        let cx = self.cx;
        let p = self.b.ins().load(self.ptr, trusted(), cx, DEC_POS);
        self.b.def_var(self.pos, p);
    }

    fn need(&mut self, input: Input, p: Value, n: usize, at: Value) {
        self.emit_need(p, input.len, n, at, None);
    }

    fn fail_if(&mut self, cond: Value) {
        self.emit_check(cond, None);
    }

    /// A union: records where the header starts (for the error on a second member).
    fn note_header(&mut self, pos: Value) {
        if let Some(h) = self.hdr {
            self.b.def_var(h, pos);
        }
    }
}

impl Lower<'_> {
    fn iconst_ptr(&mut self, v: usize) -> Value {
        self.b.ins().iconst(self.ptr, v as i64)
    }

    /// Returns `status`; the context's offset is the decode's result when it is `STATUS_OK`
    /// (and unused after an error, which carries its own).
    fn ret(&mut self, status: i32) {
        if status == STATUS_OK {
            self.sync_out();
        }
        let s = self.b.ins().iconst(types::I32, status as i64);
        self.b.ins().return_(&[s]);
    }

    /// Returns `STATUS_ERROR` when `status` is non-zero, adding `field` to the error path.
    fn emit_check(&mut self, status: Value, field: Option<&FieldPlan>) {
        let fail = self.b.create_block();
        let cont = self.b.create_block();
        self.b.set_cold_block(fail);
        self.b.ins().brif(status, fail, &[], cont, &[]);
        self.b.switch_to_block(fail);
        if let Some(f) = field {
            let fp = self.iconst_ptr(f as *const FieldPlan as usize);
            let cx = self.cx;
            self.call(
                self.sigs.ctx_ptr,
                rt::rt_dec_in_field as *const (),
                &[cx, fp],
            );
        }
        self.ret(STATUS_ERROR);
        self.b.switch_to_block(cont);
    }

    /// `(buf, pos, len)`: the input and the offset.
    fn load_cursor(&mut self) -> (Value, Value, Value) {
        let pos = self.b.use_var(self.pos);
        (self.input.buf, pos, self.input.len)
    }

    /// Calls a helper that reads the offset from the context or moves it there (or a
    /// compiled decoder, through `call`): the offset is written back before, read after.
    fn around_call(&mut self, call: impl FnOnce(&mut Self) -> Value) -> Value {
        self.sync_out();
        let r = call(self);
        self.sync_in();
        r
    }

    /// [`Reader::call`] of a helper that reads or moves the context's offset.
    fn call_moving(&mut self, sig: SigRef, addr: *const (), args: &[Value]) -> Value {
        self.around_call(|l| l.call(sig, addr, args))
    }

    /// Fails with an end-of-input error at `at` unless `n` bytes remain after `pos`.
    fn emit_need(
        &mut self,
        pos: Value,
        len: Value,
        n: usize,
        at: Value,
        field: Option<&FieldPlan>,
    ) {
        let avail = self.b.ins().isub(len, pos);
        let short = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedLessThan, avail, n as i64);
        let fail = self.b.create_block();
        let cont = self.b.create_block();
        self.b.set_cold_block(fail);
        self.b.ins().brif(short, fail, &[], cont, &[]);
        self.b.switch_to_block(fail);
        let cx = self.cx;
        let st = match field {
            Some(f) => {
                let fp = self.iconst_ptr(f as *const FieldPlan as usize);
                self.call(
                    self.sigs.ctx_ptr_ptr,
                    rt::rt_dec_eof_in as *const (),
                    &[cx, at, fp],
                )
            }
            None => self.call(
                self.sigs.read.ctx_usize,
                rt::rt_dec_eof as *const (),
                &[cx, at],
            ),
        };
        self.b.ins().return_(&[st]);
        self.b.switch_to_block(cont);
    }

    /// Moves the offset to `pos + add`.
    fn store_pos(&mut self, pos: Value, add: usize) {
        let p = self.b.ins().iadd_imm_s(pos, add as i64);
        self.set_pos(p);
    }

    fn lower_struct(&mut self, s: &StructPlan, v: Value, depth: Value) {
        let depth = self.emit_enter(depth);
        let zero = self.b.ins().iconst(types::I64, 0);
        self.b.def_var(self.seen, zero);
        let zero = self.b.ins().iconst(types::I32, 0);
        self.b.def_var(self.last, zero);
        let is_union = s.kind == StructKind::Union;
        if is_union {
            let count = self.b.declare_var(types::I32);
            self.b.def_var(count, zero);
            let hdr = self.b.declare_var(self.ptr);
            let z = self.iconst_ptr(0);
            self.b.def_var(hdr, z);
            self.count = Some(count);
            self.hdr = Some(hdr);
        }

        let head = self.head();
        let end = self.b.create_block();
        let unknown = self.b.create_block();
        self.b.append_block_param(unknown, types::I32);
        let decodes: Vec<Block> = s.fields.iter().map(|_| self.b.create_block()).collect();
        // Binary fixed-width fields (and the length of strings and binaries): a predicted
        // header checks the room for the value along with its own, and the generic header
        // checks it before joining; the value is then read unchecked. (Not in unions: a
        // second member's error comes before its value.)
        let plain = self.proto == Proto::Binary && !is_union && s.union.is_none();
        let rooms: Vec<usize> = s
            .fields
            .iter()
            .map(|f| match (&f.node, crate::lower::fixed_width(&f.node)) {
                _ if !plain => 0,
                (_, Some(n)) => n,
                (Node::String(_) | Node::Binary(_), None) => 4,
                _ => 0,
            })
            .collect();
        let gaps = if s.unknown_fields.is_none() {
            crate::lower_read::gaps(s, self.proto, depth)
        } else {
            vec![None; s.fields.len() + 1]
        };
        self.emit_predict(s, 0, &decodes, &rooms, head, end, gaps[0]);

        // Field header.
        let (t, id) = self.lower_head(head, end);

        let blocks = emit_dispatch(&mut self.b, s, id, t, unknown);
        let unknown_call = [ir::BlockArg::Value(t)];
        for (i, f) in s.fields.iter().enumerate() {
            self.b.switch_to_block(blocks[i]);
            // A known id with another wire type is skipped, like an unknown one.
            let same = emit_is_type(&mut self.b, self.proto, t, f.ttype);
            let decode = decodes[i];
            if rooms[i] == 0 {
                self.b.ins().brif(same, decode, &[], unknown, &unknown_call);
            } else {
                let need = self.b.create_block();
                self.b.ins().brif(same, need, &[], unknown, &unknown_call);
                self.b.switch_to_block(need);
                let (_, pos, len) = self.load_cursor();
                self.emit_need(pos, len, rooms[i], pos, Some(f));
                self.b.ins().jump(decode, &[]);
            }
            self.b.switch_to_block(decode);
            if is_union {
                self.lower_member();
            }
            self.room_checked = rooms[i] != 0;
            self.lower_field(s, i, v, depth, t);
            debug_assert!(!self.room_checked, "a checked room went unused");
            // Only required fields are tracked: an unused mask would still take a register
            // through the loop (nothing removes a dead variable's block parameters).
            if i < 64 && s.required_mask & (1 << i) != 0 {
                let seen = self.b.use_var(self.seen);
                let seen = self.b.ins().bor_imm_s(seen, 1i64 << i);
                self.b.def_var(self.seen, seen);
            }
            self.emit_predict(s, i + 1, &decodes, &rooms, head, end, gaps[i + 1]);
        }

        self.b.switch_to_block(unknown);
        let t = self.b.block_params(unknown)[0];
        let cx = self.cx;
        if let Some(off) = s.unknown_fields {
            // Kept, not skipped: Binary bytes as they are, Compact converted.
            let uf = self.b.ins().iadd_imm_s(v, off as i64);
            let st = match self.proto {
                Proto::Binary => self.call_moving(
                    self.sigs.keep,
                    rt::rt_dec_keep as *const (),
                    &[cx, uf, t, depth],
                ),
                Proto::Compact => {
                    let id = self.b.ins().sextend(types::I32, id);
                    self.call_moving(
                        self.sigs.ckeep,
                        rt::rt_cdec_keep as *const (),
                        &[cx, uf, t, id, depth],
                    )
                }
            };
            self.emit_check(st, None);
        } else {
            if self.proto == Proto::Compact {
                emit_skip_cbool(&mut self.b, t, head.at);
            }
            self.emit_inline_skip(t, head.at);
            self.emit_generic_skip(t, depth);
        }
        self.b.ins().jump(head.at, &[]);

        self.b.switch_to_block(end);
        self.lower_end(s);
    }

    /// A union member on the wire: an error if one was read already (at the header of this
    /// second one, as the interpreter reports), else counted.
    fn lower_member(&mut self) {
        let (Some(count), Some(hdr)) = (self.count, self.hdr) else {
            return;
        };
        let c = self.b.use_var(count);
        let second = self.b.create_block();
        let first = self.b.create_block();
        self.b.set_cold_block(second);
        self.b.ins().brif(c, second, &[], first, &[]);
        self.b.switch_to_block(second);
        let at = self.b.use_var(hdr);
        let two = self.b.ins().iconst(types::I32, 2);
        let cx = self.cx;
        let st = self.call(
            self.sigs.read.ctx_u32_usize,
            rt::rt_dec_union as *const (),
            &[cx, two, at],
        );
        self.b.ins().return_(&[st]);
        self.b.switch_to_block(first);
        let one = self.b.ins().iconst(types::I32, 1);
        self.b.def_var(count, one);
    }

    /// After the stop byte: required fields present; a union holds one member.
    fn lower_end(&mut self, s: &StructPlan) {
        if s.required_mask != 0 {
            let seen = self.b.use_var(self.seen);
            let have = self.b.ins().band_imm_s(seen, s.required_mask as i64);
            let missing = self
                .b
                .ins()
                .icmp_imm_s(IntCC::NotEqual, have, s.required_mask as i64);
            let fail = self.b.create_block();
            let ok = self.b.create_block();
            self.b.set_cold_block(fail);
            self.b.ins().brif(missing, fail, &[], ok, &[]);
            self.b.switch_to_block(fail);
            let sp = self.iconst_ptr(s as *const StructPlan as usize);
            let cx = self.cx;
            let st = self.call_moving(
                self.sigs.missing,
                rt::rt_dec_missing as *const (),
                &[cx, sp, seen],
            );
            self.b.ins().return_(&[st]);
            self.b.switch_to_block(ok);
        }
        if let Some(count) = self.count {
            let c = self.b.use_var(count);
            let none = self.b.create_block();
            let ok = self.b.create_block();
            self.b.set_cold_block(none);
            self.b.ins().brif(c, ok, &[], none, &[]);
            self.b.switch_to_block(none);
            let (_, pos, _) = self.load_cursor();
            let zero = self.b.ins().iconst(types::I32, 0);
            let cx = self.cx;
            let st = self.call(
                self.sigs.read.ctx_u32_usize,
                rt::rt_dec_union as *const (),
                &[cx, zero, pos],
            );
            self.b.ins().return_(&[st]);
            self.b.switch_to_block(ok);
        }
        self.ret(STATUS_OK);
    }

    fn lower_field(&mut self, s: &StructPlan, i: usize, v: Value, depth: Value, t: Value) {
        let f = &s.fields[i];
        if let Some(uv) = s.union {
            // A Rust enum: becomes variant `i` with an empty payload, then read into that.
            let uvp = self.iconst_ptr(uv as *const _ as usize);
            let iv = self.iconst_ptr(i);
            let target = self.call(
                self.sigs.ptr3_ptr,
                rt::rt_union_set_empty as *const (),
                &[uvp, v, iv],
            );
            return self.lower_target(f, target, depth, t);
        }
        if s.kind == StructKind::Union {
            self.emit_clear_members(s, f, v);
        }
        let slot = self.b.ins().iadd_imm_s(v, f.offset as i64);
        if let Presence::Bit(_) = f.presence
            && let Node::Record(_) = f.node
        {
            // A record field: presence bit, reuse or replacement of the record, its decoder.
            let fp = self.iconst_ptr(f as *const FieldPlan as usize);
            let cx = self.cx;
            let helper = match self.proto {
                Proto::Binary => rt::rt_dec_record_field as *const (),
                Proto::Compact => rt::rt_cdec_record_field as *const (),
            };
            let st = self.call_moving(self.sigs.node, helper, &[cx, fp, v, depth]);
            self.emit_check(st, Some(f));
            return;
        }
        let target = match f.presence {
            Presence::Bit(n) => {
                let off = ((n / 64) * 8) as i32;
                let word = self.b.ins().load(types::I64, value_flags(), v, off);
                let word = self.b.ins().bor_imm_s(word, 1i64 << (n % 64));
                self.b.ins().store(value_flags(), word, v, off);
                slot
            }
            Presence::Option(od) => {
                let odp = self.iconst_ptr(od as *const _ as usize);
                self.call(
                    self.sigs.ptr_ptr_ptr,
                    rt::rt_option_insert as *const (),
                    &[odp, slot],
                )
            }
            _ => slot,
        };
        self.lower_target(f, target, depth, t);
    }

    /// An IDL-only union: a member on the wire replaces any other, so every other member's
    /// presence bit is cleared (this one's is left for the field's own code to test and set).
    fn emit_clear_members(&mut self, s: &StructPlan, f: &FieldPlan, v: Value) {
        let own = match f.presence {
            Presence::Bit(n) => Some(n),
            _ => None,
        };
        let mut words = std::collections::BTreeMap::<u32, u64>::new();
        for g in &s.fields {
            if let Presence::Bit(b) = g.presence
                && Some(b) != own
            {
                *words.entry(b / 64).or_default() |= 1u64 << (b % 64);
            }
        }
        for (w, mask) in words {
            let off = (w * 8) as i32;
            let word = self.b.ins().load(types::I64, value_flags(), v, off);
            let word = self.b.ins().band_imm_s(word, !mask as i64);
            self.b.ins().store(value_flags(), word, v, off);
        }
    }

    /// Reads field `f`'s value into `target`.
    fn lower_target(&mut self, f: &FieldPlan, target: Value, depth: Value, t: Value) {
        if self.proto == Proto::Compact && self.lower_cscalar(f, target, t) {
            return;
        }
        let fixed = crate::lower::fixed_width(&f.node);
        if let Some(n) = fixed {
            let (buf, pos, len) = self.load_cursor();
            if !std::mem::take(&mut self.room_checked) {
                self.emit_need(pos, len, n, pos, Some(f));
            }
            let at = self.b.ins().iadd(buf, pos);
            self.lower_scalar(f, target, at, pos);
            self.store_pos(pos, n);
            return;
        }
        if let Node::String(_) | Node::Binary(_) = &f.node {
            match self.proto {
                Proto::Binary => self.lower_str(f, target, depth),
                Proto::Compact => self.lower_cstr(f, target, depth),
            }
            return;
        }
        if self.proto == Proto::Compact
            && let Node::List(elem, SeqRepr::Std(sd)) = &f.node
            && matches!(**elem, Node::I16 | Node::I32 | Node::I64)
        {
            return self.lower_cint_list(f, elem, sd, target, depth);
        }
        let cx = self.cx;
        match &f.node {
            Node::Struct(si) if let Some(fref) = self.refs[*si] => {
                let st = self.around_call(|l| {
                    let call = l.b.ins().call(fref, &[cx, target, depth]);
                    l.b.inst_results(call)[0]
                });
                self.emit_check(st, Some(f));
            }
            _ => self.emit_interp_value(f, target, depth),
        }
    }

    /// A Compact `Vec` of i16, i32 or i64 read inline, as the interpreter reads it: the
    /// header, then each zigzag varint straight into the vector's spare capacity. A header the
    /// inline code does not take (another element type, a count the input cannot hold or the
    /// limit refuses, the nesting budget spent) hands the whole list, from its start, to the
    /// general helper, which reports what the interpreter would. An element the inline reader
    /// cannot take (a long varint within ten bytes of the end, a malformed one) is read by the
    /// integer helper; its error keeps the elements before it and names the element's index.
    fn lower_cint_list(
        &mut self,
        f: &FieldPlan,
        elem: &Node,
        sd: &'static SeqDesc,
        target: Value,
        depth: Value,
    ) {
        let ptr = self.ptr;
        let cx = self.cx;
        let general = self.b.create_block();
        let done = self.b.create_block();
        self.b.set_cold_block(general);

        // The header: the element type and a count of up to 14 in one byte, or 15 and a
        // varint count.
        let header = self.b.create_block();
        self.b.ins().brif(depth, header, &[], general, &[]);
        self.b.switch_to_block(header);
        let (buf, pos, len) = self.load_cursor();
        let input = Input { buf, len };
        let counted = self.b.create_block();
        let n = self.b.append_block_param(counted, ptr);
        let q0 = self.b.append_block_param(counted, ptr);
        let have = self.b.create_block();
        let avail = self.b.ins().isub(len, pos);
        self.b.ins().brif(avail, have, &[], general, &[]);
        self.b.switch_to_block(have);
        let at = self.b.ins().iadd(buf, pos);
        let h = self.b.ins().uload8(types::I32, input_flags(), at, 0);
        let code = self.b.ins().band_imm_s(h, 0x0f);
        let want = compact_code(elem.ttype()) as i64;
        let same = self.b.ins().icmp_imm_s(IntCC::Equal, code, want);
        let typed = self.b.create_block();
        self.b.ins().brif(same, typed, &[], general, &[]);
        self.b.switch_to_block(typed);
        let short = self.b.ins().ushr_imm_u(h, 4);
        let short = self.b.ins().uextend(ptr, short);
        let p1 = self.b.ins().iadd_imm_s(pos, 1);
        let long = self.b.ins().icmp_imm_s(IntCC::Equal, short, 15);
        let read_count = self.b.create_block();
        self.b.ins().brif(
            long,
            read_count,
            &[],
            counted,
            &[BlockArg::Value(short), BlockArg::Value(p1)],
        );
        self.b.switch_to_block(read_count);
        let (c, q) = emit_read_varint(&mut self.b, input, p1, general);
        self.b
            .ins()
            .jump(counted, &[BlockArg::Value(c), BlockArg::Value(q)]);
        self.b.switch_to_block(counted);
        // Every element takes at least a byte: a count the rest of the input cannot hold
        // (the reader's error) goes to the helper, before anything is reserved.
        let rest = self.b.ins().isub(len, q0);
        let fits = self.b.ins().icmp(IntCC::UnsignedLessThanOrEqual, n, rest);
        let reserve = self.b.create_block();
        self.b.ins().brif(fits, reserve, &[], general, &[]);
        self.b.switch_to_block(reserve);
        let sdp = self.iconst_ptr(sd as *const SeqDesc as usize);
        let base = self.call(
            self.sigs.list_begin,
            rt::rt_list_begin as *const (),
            &[cx, sdp, target, n],
        );
        let begun = self.b.create_block();
        self.b.ins().brif(base, begun, &[], general, &[]);
        self.b.switch_to_block(begun);

        // The elements.
        let size = sd.elem_size as i64;
        let head = self.b.create_block();
        let i = self.b.append_block_param(head, ptr);
        let q = self.b.append_block_param(head, ptr);
        let body = self.b.create_block();
        let exit = self.b.create_block();
        let slow = self.b.create_block();
        self.b.set_cold_block(slow);
        let zero = self.iconst_ptr(0);
        self.b
            .ins()
            .jump(head, &[BlockArg::Value(zero), BlockArg::Value(q0)]);
        self.b.switch_to_block(head);
        let more = self.b.ins().icmp(IntCC::UnsignedLessThan, i, n);
        self.b.ins().brif(more, body, &[], exit, &[]);
        self.b.switch_to_block(body);
        let off = self.b.ins().imul_imm_u(i, size);
        let dst = self.b.ins().iadd(base, off);
        let (x, end) = emit_read_varint(&mut self.b, input, q, slow);
        let v = self.emit_unzigzag(x);
        let v = match elem {
            Node::I16 => self.b.ins().ireduce(types::I16, v),
            Node::I32 => self.b.ins().ireduce(types::I32, v),
            _ => v,
        };
        self.b.ins().store(value_flags(), v, dst, 0);
        let i1 = self.b.ins().iadd_imm_s(i, 1);
        self.b
            .ins()
            .jump(head, &[BlockArg::Value(i1), BlockArg::Value(end)]);

        // An element the inline reader did not take: the helper reads it or reports.
        self.b.switch_to_block(slow);
        self.set_pos(q);
        let off = self.b.ins().imul_imm_u(i, size);
        let dst = self.b.ins().iadd(base, off);
        let np = self.iconst_ptr(elem as *const Node as usize);
        let st = self.call_moving(
            self.sigs.ctx_ptr_ptr,
            rt::rt_cdec_int as *const (),
            &[cx, np, dst],
        );
        let resume = self.b.create_block();
        let failed = self.b.create_block();
        self.b.ins().brif(st, failed, &[], resume, &[]);
        self.b.switch_to_block(resume);
        let pos = self.b.use_var(self.pos);
        let i1 = self.b.ins().iadd_imm_s(i, 1);
        self.b
            .ins()
            .jump(head, &[BlockArg::Value(i1), BlockArg::Value(pos)]);
        self.b.switch_to_block(failed);
        self.call(
            self.sigs.seq_commit,
            rt::rt_seq_commit as *const (),
            &[sdp, target, i],
        );
        let st = self.call(
            self.sigs.read.ctx_usize,
            rt::rt_dec_at_index as *const (),
            &[cx, i],
        );
        self.emit_check(st, Some(f));
        self.b.ins().jump(done, &[]);

        self.b.switch_to_block(exit);
        self.call(
            self.sigs.seq_commit,
            rt::rt_seq_commit as *const (),
            &[sdp, target, n],
        );
        self.set_pos(q);
        self.b.ins().jump(done, &[]);

        self.b.switch_to_block(general);
        self.emit_interp_value(f, target, depth);
        self.b.ins().jump(done, &[]);
        self.b.switch_to_block(done);
    }

    /// The integer a zigzag varint `x` (an i64) holds.
    fn emit_unzigzag(&mut self, x: Value) -> Value {
        let half = self.b.ins().ushr_imm_u(x, 1);
        let sign = self.b.ins().band_imm_s(x, 1);
        let sign = self.b.ins().ineg(sign);
        self.b.ins().bxor(half, sign)
    }

    /// The interpreter reads the value of field `f` into `target` at the context's offset
    /// (`rt_dec_field_value`, `rt_cdec_field_value`), then fails if that failed (the
    /// helper named the field in the error).
    fn emit_interp_value(&mut self, f: &FieldPlan, target: Value, depth: Value) {
        let fp = self.iconst_ptr(f as *const FieldPlan as usize);
        let helper = match self.proto {
            Proto::Binary => rt::rt_dec_field_value as *const (),
            Proto::Compact => rt::rt_cdec_field_value as *const (),
        };
        let cx = self.cx;
        let st = self.call_moving(self.sigs.node, helper, &[cx, fp, target, depth]);
        self.emit_check(st, None);
    }

    /// Compact scalars: bools from the header's type code `t`, integers as zigzag varints
    /// (one-byte ones inline, longer ones through a helper), doubles little-endian, i8 and
    /// uuid raw. Returns false for other nodes.
    fn lower_cscalar(&mut self, f: &FieldPlan, target: Value, t: Value) -> bool {
        let cx = self.cx;
        match &f.node {
            Node::Bool => {
                let x = self.b.ins().icmp_imm_s(IntCC::Equal, t, 1);
                self.b.ins().store(value_flags(), x, target, 0);
                true
            }
            // A boxed bool: its value is in the header too.
            node @ Node::Boxed(..) if crate::lower::is_bool(node) => {
                let np = self.iconst_ptr(node as *const Node as usize);
                let q = self.call(
                    self.sigs.ptr_ptr_ptr,
                    rt::rt_unbox as *const (),
                    &[np, target],
                );
                let x = self.b.ins().icmp_imm_s(IntCC::Equal, t, 1);
                self.b.ins().store(value_flags(), x, q, 0);
                true
            }
            Node::I8 | Node::Double | Node::Uuid => {
                let n = match f.node {
                    Node::I8 => 1,
                    Node::Double => 8,
                    _ => 16,
                };
                let (buf, pos, len) = self.load_cursor();
                self.emit_need(pos, len, n, pos, Some(f));
                let at = self.b.ins().iadd(buf, pos);
                if let Node::Double = f.node {
                    let x = self.b.ins().load(types::I64, input_flags(), at, 0);
                    self.b.ins().store(value_flags(), x, target, 0);
                } else {
                    self.lower_scalar(f, target, at, pos);
                }
                self.store_pos(pos, n);
                true
            }
            Node::I16 | Node::I32 | Node::I64 | Node::Enum(_) => {
                let (buf, pos, len) = self.load_cursor();
                let slow = self.b.create_block();
                let done = self.b.create_block();
                self.b.set_cold_block(slow);
                let (x, end) = emit_read_varint(&mut self.b, Input { buf, len }, pos, slow);
                // Unzigzag, then the field's width (the interpreter truncates the same way).
                let v64 = self.emit_unzigzag(x);
                self.set_pos(end);
                let v = self.b.ins().ireduce(types::I32, v64);
                match &f.node {
                    Node::I16 => {
                        let v = self.b.ins().ireduce(types::I16, v64);
                        self.b.ins().store(value_flags(), v, target, 0);
                    }
                    Node::I64 => {
                        self.b.ins().store(value_flags(), v64, target, 0);
                    }
                    Node::Enum(EnumRepr::Rust(ed)) => self.emit_enum(f, ed, target, v, pos),
                    _ => {
                        self.b.ins().store(value_flags(), v, target, 0);
                    }
                }
                self.b.ins().jump(done, &[]);
                self.b.switch_to_block(slow);
                let np = self.iconst_ptr(&f.node as *const Node as usize);
                let st = self.call_moving(
                    self.sigs.ctx_ptr_ptr,
                    rt::rt_cdec_int as *const (),
                    &[cx, np, target],
                );
                self.emit_check(st, Some(f));
                self.b.ins().jump(done, &[]);
                self.b.switch_to_block(done);
                true
            }
            _ => false,
        }
    }

    /// Binary string or binary: the length read inline; when it fits in the input, one
    /// helper validates, stores and advances; otherwise (or on a limit or UTF-8 failure) the
    /// general helper runs from the same offset and reports the interpreter's error.
    fn lower_str(&mut self, f: &FieldPlan, target: Value, depth: Value) {
        let (buf, pos, len) = self.load_cursor();
        let avail = self.b.ins().isub(len, pos);
        let slow = self.b.create_block();
        let have = self.b.create_block();
        let call = self.b.create_block();
        let done = self.b.create_block();
        self.b.set_cold_block(slow);
        if std::mem::take(&mut self.room_checked) {
            self.b.ins().jump(have, &[]);
        } else {
            let room = self
                .b
                .ins()
                .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, avail, 4);
            self.b.ins().brif(room, have, &[], slow, &[]);
        }
        self.b.switch_to_block(have);
        let at = self.b.ins().iadd(buf, pos);
        let n = self.b.ins().load(types::I32, input_flags(), at, 0);
        let n = self.b.ins().bswap(n);
        // Sign-extended: a negative length never fits (even in an input over 2 GiB), so
        // the helper reports it.
        let n = self.b.ins().sextend(self.ptr, n);
        let rest = self.b.ins().iadd_imm_s(avail, -4);
        let fits = self.b.ins().icmp(IntCC::UnsignedLessThanOrEqual, n, rest);
        self.b.ins().brif(fits, call, &[], slow, &[]);
        self.b.switch_to_block(call);
        let cx = self.cx;
        let kind = self
            .b
            .ins()
            .iconst(types::I32, crate::lower::str_kind(&f.node) as i64);
        // The bytes' start is an argument; the helper moves the context's offset past them
        // when it stores the value, and leaves it at the value when not (for the general
        // helper). The offset goes through the context so that no offset lives across the
        // call: one that did would keep the register allocator from giving the offset a
        // register in the whole decode loop.
        let start = self.b.ins().iadd_imm_s(pos, 4);
        let st = self.call_moving(
            self.sigs.str_fast,
            rt::rt_dec_str as *const (),
            &[cx, target, kind, start, n],
        );
        self.b.ins().brif(st, slow, &[], done, &[]);
        self.b.switch_to_block(slow);
        self.emit_interp_value(f, target, depth);
        self.b.ins().jump(done, &[]);
        self.b.switch_to_block(done);
    }

    /// Compact string or binary: one helper reads the length, validates, stores and
    /// advances; on anything unusual the general helper runs from the same offset.
    fn lower_cstr(&mut self, f: &FieldPlan, target: Value, depth: Value) {
        let cx = self.cx;
        let kind = self
            .b
            .ins()
            .iconst(types::I32, crate::lower::str_kind(&f.node) as i64);
        let st = self.call_moving(
            self.sigs.ctx_ptr_i32,
            rt::rt_cdec_str as *const (),
            &[cx, target, kind],
        );
        let slow = self.b.create_block();
        let done = self.b.create_block();
        self.b.set_cold_block(slow);
        self.b.ins().brif(st, slow, &[], done, &[]);
        self.b.switch_to_block(slow);
        self.emit_interp_value(f, target, depth);
        self.b.ins().jump(done, &[]);
        self.b.switch_to_block(done);
    }

    /// Reads a plain value at `at` (bounds already checked) into `target`.
    fn lower_scalar(&mut self, f: &FieldPlan, target: Value, at: Value, pos: Value) {
        match &f.node {
            Node::Bool => {
                let x = self.b.ins().uload8(types::I32, input_flags(), at, 0);
                // Any non-zero byte is true; the value stored is 0 or 1.
                let x = self.b.ins().icmp_imm_s(IntCC::NotEqual, x, 0);
                self.b.ins().store(value_flags(), x, target, 0);
            }
            Node::I8 => {
                let x = self.b.ins().load(types::I8, input_flags(), at, 0);
                self.b.ins().store(value_flags(), x, target, 0);
            }
            Node::I16 | Node::I32 | Node::I64 | Node::Double | Node::Enum(EnumRepr::Open) => {
                let ty = match &f.node {
                    Node::I16 => types::I16,
                    Node::I64 | Node::Double => types::I64,
                    _ => types::I32,
                };
                let x = self.b.ins().load(ty, input_flags(), at, 0);
                let x = self.b.ins().bswap(x);
                self.b.ins().store(value_flags(), x, target, 0);
            }
            Node::Enum(EnumRepr::Rust(ed)) => {
                let x = self.b.ins().load(types::I32, input_flags(), at, 0);
                let x = self.b.ins().bswap(x);
                self.emit_enum(f, ed, target, x, pos);
            }
            Node::Uuid => {
                let lo = self.b.ins().load(types::I64, input_flags(), at, 0);
                let hi = self.b.ins().load(types::I64, input_flags(), at, 8);
                let flags = MemFlagsData::new().with_notrap();
                self.b.ins().store(flags, lo, target, 0);
                self.b.ins().store(flags, hi, target, 8);
            }
            _ => {}
        }
    }

    /// Stores the Rust enum `ed`'s variant of value `x` (an i32) at `target`; an unknown
    /// value is the interpreter's error at `pos`, in field `f`.
    fn emit_enum(&mut self, f: &FieldPlan, ed: &EnumDesc, target: Value, x: Value, pos: Value) {
        let edp = self.iconst_ptr(ed as *const EnumDesc as usize);
        let fail = self.b.create_block();
        let cont = self.b.create_block();
        self.b.set_cold_block(fail);
        match rt::enum_layout(ed) {
            // One byte counting up with dense values: a bounds check and an add.
            Some(l) => {
                let idx = self.b.ins().iadd_imm_s(x, -i64::from(l.min));
                let known =
                    self.b
                        .ins()
                        .icmp_imm_u(IntCC::UnsignedLessThan, idx, i64::from(l.count));
                let store = self.b.create_block();
                self.b.ins().brif(known, store, &[], fail, &[]);
                self.b.switch_to_block(store);
                let tag = self.b.ins().iadd_imm_s(idx, i64::from(l.tag0));
                let tag = self.b.ins().ireduce(types::I8, tag);
                self.b.ins().store(value_flags(), tag, target, 0);
                self.b.ins().jump(cont, &[]);
            }
            None => {
                let ok = self.call(
                    self.sigs.enum_from,
                    rt::rt_enum_from_i32 as *const (),
                    &[edp, target, x],
                );
                self.b.ins().brif(ok, cont, &[], fail, &[]);
            }
        }
        self.b.switch_to_block(fail);
        let cx = self.cx;
        self.call(
            self.sigs.unknown_enum,
            rt::rt_dec_unknown_enum as *const (),
            &[cx, edp, x, pos],
        );
        let fp = self.iconst_ptr(f as *const FieldPlan as usize);
        self.call(
            self.sigs.ctx_ptr,
            rt::rt_dec_in_field as *const (),
            &[cx, fp],
        );
        self.ret(STATUS_ERROR);
        self.b.switch_to_block(cont);
    }
}
