//! What the decoder (`lower_decode`) and the skip (`lower_skip`) share: reading a field
//! header, dispatching on its id, predicting the next header, and skipping values inline.
//!
//! Both keep the offset in a variable and write it to the context only where a helper reads or
//! moves it (the skip around every call, the decoder around the calls that need it); they
//! differ in where they load the input from and how they fail. The emitters that move the
//! offset or fail are therefore provided methods of [`Reader`], which each implements;
//! those that only look at the input are free functions that take the offset of a value
//! and return the one after it, jumping to a block of the caller's on anything unusual.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    self, AbiParam, Block, BlockCall, InstBuilder, JumpTableData, MemFlagsData, SigRef, Type,
    Value, types,
};
use cranelift_frontend::{FunctionBuilder, Variable};
use cranelift_jit::JITModule;
use cranelift_module::{FuncId, Linkage, Module};
use dynthrift_core::TType;
use dynthrift_core::schema::StructKind;
use dynthrift_core::wire::compact::compact_code;
use dynthrift_interp::Plan;
use dynthrift_interp::plan::{Lookup, StructPlan};

use crate::lower::Proto;
use crate::rt;

/// Declares one function named `{prefix}_{proto}_{struct}` of signature `sig` per struct
/// that is `wanted` (`None` for the others).
pub(crate) fn declare_each(
    module: &mut JITModule,
    plan: &Plan,
    proto: Proto,
    wanted: &[bool],
    prefix: &str,
    sig: &ir::Signature,
) -> Result<Vec<Option<FuncId>>, String> {
    let p = proto as u8;
    debug_assert_eq!(wanted.len(), plan.structs.len());
    wanted
        .iter()
        .enumerate()
        .map(|(i, &wanted)| {
            if !wanted {
                return Ok(None);
            }
            module
                .declare_function(&format!("{prefix}_{p}_{i}"), Linkage::Local, sig)
                .map(Some)
                .map_err(|e| format!("declare: {e}"))
        })
        .collect()
}

/// The input: where it starts and how long it is (loaded from the context).
#[derive(Clone, Copy)]
pub(crate) struct Input {
    pub(crate) buf: Value,
    pub(crate) len: Value,
}

/// Where a struct reader reads a field header: `at` reads it at the offset; Binary's `parse`
/// takes its first four bytes already loaded (block parameters: the bytes as a little-endian
/// i32, the header's offset), which a missed prediction passes on instead of reading again.
#[derive(Clone, Copy)]
pub(crate) struct Head {
    pub(crate) at: Block,
    parse: Option<Block>,
}

/// Field ids between two fields of a struct, none of them its own (bounds excluded): a missed
/// prediction whose header has one of them skips that field inline and predicts again,
/// instead of going through the generic header and dispatch (see [`Reader::emit_predict`]).
/// `depth` is the nesting budget a skip may use.
#[derive(Clone, Copy)]
pub(crate) struct Gap {
    lo: i64,
    hi: i64,
    depth: Value,
}

/// The gap before each prediction `k` of `s` (field `k`, or the stop byte for `k` the field
/// count), Binary only: after field `k - 1`, the ids up to field `k`'s (up to any id, for the
/// stop byte) when no field of `s` has one. Only for structs that look like a partial view of
/// a larger one (the fields it leaves out come on the wire between those it reads): at least
/// as many ids missing between its first and last as it has fields. Others (a struct without
/// one retired field, say) get none, and no extra code to compile.
pub(crate) fn gaps(s: &StructPlan, proto: Proto, depth: Value) -> Vec<Option<Gap>> {
    let n = s.fields.len();
    let mut gaps = vec![None; n + 1];
    if proto != Proto::Binary || s.kind == StructKind::Union || s.union.is_some() || n == 0 {
        return gaps;
    }
    let ids: Vec<i64> = s.fields.iter().map(|f| i64::from(f.id)).collect();
    let (first, last) = (ids.iter().min(), ids.iter().max());
    let span = last.zip(first).map_or(0, |(l, f)| l - f + 1);
    if span - (n as i64) < n as i64 {
        return gaps;
    }
    for k in 1..=n {
        let lo = ids[k - 1];
        let hi = ids.get(k).copied().unwrap_or(i64::from(i16::MAX) + 1);
        if hi - lo > 1 && !ids.iter().any(|&id| lo < id && id < hi) {
            gaps[k] = Some(Gap { lo, hi, depth });
        }
    }
    if gaps[1..n].iter().all(Option::is_none) {
        gaps.fill(None);
    }
    gaps
}

/// Loads from the input: in bounds (checked first), possibly unaligned.
pub(crate) fn input_flags() -> MemFlagsData {
    MemFlagsData::new().with_notrap().with_readonly()
}

/// Signatures of the runtime helpers every reader calls.
pub(crate) struct ReadSigs {
    /// `(ctx, usize) -> i32`
    pub(crate) ctx_usize: SigRef,
    /// `(ctx, u32, usize) -> i32`
    pub(crate) ctx_u32_usize: SigRef,
    /// `(ctx) -> i32`
    pub(crate) ctx_only: SigRef,
    /// `(ctx, u32, u32) -> i32`
    pub(crate) ctx_u32_u32: SigRef,
}

impl ReadSigs {
    pub(crate) fn import(b: &mut FunctionBuilder<'_>, module: &JITModule, ptr: Type) -> ReadSigs {
        let mut sig = |params: &[Type]| {
            let mut s = module.make_signature();
            s.params.extend(params.iter().map(|t| AbiParam::new(*t)));
            s.returns.push(AbiParam::new(types::I32));
            b.import_signature(s)
        };
        let i32t = types::I32;
        ReadSigs {
            ctx_usize: sig(&[ptr, ptr]),
            ctx_u32_usize: sig(&[ptr, i32t, ptr]),
            ctx_only: sig(&[ptr]),
            ctx_u32_u32: sig(&[ptr, i32t, i32t]),
        }
    }
}

/// How a value is skipped inline (see [`Inline::of`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Inline {
    /// A value of this many bytes.
    Fixed(usize),
    /// A Compact varint.
    Varint,
    /// A string or binary: its length, then that many bytes.
    Str,
}

impl Inline {
    /// How a value of wire type `t` is skipped inline, if it is: fixed-size values, Compact
    /// integers and strings (a Compact bool takes a byte here, as a container's element; as
    /// a field its value is in the header).
    pub(crate) fn of(proto: Proto, t: TType) -> Option<Inline> {
        match (proto, t) {
            (_, TType::String) => Some(Inline::Str),
            (Proto::Binary, t) => t.binary_fixed_size().map(Inline::Fixed),
            (Proto::Compact, TType::Bool | TType::I8) => Some(Inline::Fixed(1)),
            (Proto::Compact, TType::Double) => Some(Inline::Fixed(8)),
            (Proto::Compact, TType::Uuid) => Some(Inline::Fixed(16)),
            (Proto::Compact, TType::I16 | TType::I32 | TType::I64) => Some(Inline::Varint),
            _ => None,
        }
    }

    /// How a value of header type code `code` is skipped inline, if it is (Compact bools,
    /// whose value is in the header, are not: [`emit_skip_cbool`]).
    fn of_code(proto: Proto, code: u8) -> Option<Inline> {
        let t = match proto {
            Proto::Binary => TType::from_u8(code)?,
            Proto::Compact => match dynthrift_core::wire::compact::ttype_of(code)? {
                TType::Stop | TType::Bool => return None,
                t => t,
            },
        };
        Inline::of(proto, t)
    }

    /// The offset after the value at `p`; `fail` on a value not all in the input, a varint
    /// over 10 bytes, or a Compact string length over 2 bytes.
    pub(crate) fn emit(
        self,
        b: &mut FunctionBuilder<'_>,
        proto: Proto,
        input: Input,
        p: Value,
        fail: Block,
    ) -> Value {
        match self {
            Inline::Fixed(n) => emit_skip_fixed(b, input, p, n, fail),
            Inline::Varint => emit_skip_varint(b, input, p, fail),
            Inline::Str => emit_skip_str(b, proto, input, p, fail),
        }
    }
}

/// Jumps to `fail` unless `n` bytes remain after `p`.
pub(crate) fn emit_need_or(
    b: &mut FunctionBuilder<'_>,
    input: Input,
    p: Value,
    n: usize,
    fail: Block,
) {
    let avail = b.ins().isub(input.len, p);
    let short = b.ins().icmp_imm_u(IntCC::UnsignedLessThan, avail, n as i64);
    let cont = b.create_block();
    b.ins().brif(short, fail, &[], cont, &[]);
    b.switch_to_block(cont);
}

/// A value of `n` bytes at `p`: the offset after it; `fail` when the input is shorter.
fn emit_skip_fixed(
    b: &mut FunctionBuilder<'_>,
    input: Input,
    p: Value,
    n: usize,
    fail: Block,
) -> Value {
    emit_need_or(b, input, p, n, fail);
    b.ins().iadd_imm_s(p, n as i64)
}

/// A string or binary at `p` whose bytes are all in the input: the offset after it; else
/// `fail`. Binary: a big-endian i32 length (sign-extended: a negative one is huge, so never
/// fits); Compact: a length varint of one or two bytes (longer ones go to `fail` too).
fn emit_skip_str(
    b: &mut FunctionBuilder<'_>,
    proto: Proto,
    input: Input,
    p: Value,
    fail: Block,
) -> Value {
    match proto {
        Proto::Binary => {
            let avail = b.ins().isub(input.len, p);
            let room = b
                .ins()
                .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, avail, 4);
            let have = b.create_block();
            b.ins().brif(room, have, &[], fail, &[]);
            b.switch_to_block(have);
            let at = b.ins().iadd(input.buf, p);
            let n = b.ins().load(types::I32, input_flags(), at, 0);
            let n = b.ins().bswap(n);
            let ptr = b.func.dfg.value_type(p);
            let n = b.ins().sextend(ptr, n);
            let rest = b.ins().iadd_imm_s(avail, -4);
            emit_fits_or(b, n, rest, fail);
            let q = b.ins().iadd(p, n);
            b.ins().iadd_imm_s(q, 4)
        }
        Proto::Compact => {
            let (n, data) = emit_small_varint(b, input, p, fail);
            let rest = b.ins().isub(input.len, data);
            emit_fits_or(b, n, rest, fail);
            b.ins().iadd(data, n)
        }
    }
}

/// Jumps to `fail` unless `n <= rest` (unsigned).
fn emit_fits_or(b: &mut FunctionBuilder<'_>, n: Value, rest: Value, fail: Block) {
    let fits = b.ins().icmp(IntCC::UnsignedLessThanOrEqual, n, rest);
    let ok = b.create_block();
    b.ins().brif(fits, ok, &[], fail, &[]);
    b.switch_to_block(ok);
}

/// Compact: a varint of one or two bytes at `p`: its value and the offset after it; longer
/// ones, or running out of input, go to `fail`.
pub(crate) fn emit_small_varint(
    b: &mut FunctionBuilder<'_>,
    input: Input,
    p: Value,
    fail: Block,
) -> (Value, Value) {
    let ptr = b.func.dfg.value_type(p);
    let one = b.create_block();
    let two_room = b.create_block();
    let two = b.create_block();
    let got = b.create_block();
    let n = b.append_block_param(got, ptr);
    let q = b.append_block_param(got, ptr);
    emit_need_or(b, input, p, 1, fail);
    let at = b.ins().iadd(input.buf, p);
    let b0 = b.ins().uload8(types::I32, input_flags(), at, 0);
    let big = b
        .ins()
        .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, b0, 0x80);
    b.ins().brif(big, two_room, &[], one, &[]);
    b.switch_to_block(one);
    let n1 = b.ins().uextend(ptr, b0);
    let q1 = b.ins().iadd_imm_s(p, 1);
    b.ins()
        .jump(got, &[ir::BlockArg::Value(n1), ir::BlockArg::Value(q1)]);
    b.switch_to_block(two_room);
    let avail = b.ins().isub(input.len, p);
    let room2 = b
        .ins()
        .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, avail, 2);
    b.ins().brif(room2, two, &[], fail, &[]);
    b.switch_to_block(two);
    let b1 = b.ins().uload8(types::I32, input_flags(), at, 1);
    let big1 = b
        .ins()
        .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, b1, 0x80);
    let two_ok = b.create_block();
    b.ins().brif(big1, fail, &[], two_ok, &[]);
    b.switch_to_block(two_ok);
    let lo = b.ins().band_imm_s(b0, 0x7f);
    let hi = b.ins().ishl_imm_s(b1, 7);
    let n2 = b.ins().bor(lo, hi);
    let n2 = b.ins().uextend(ptr, n2);
    let q2 = b.ins().iadd_imm_s(p, 2);
    b.ins()
        .jump(got, &[ir::BlockArg::Value(n2), ir::BlockArg::Value(q2)]);
    b.switch_to_block(got);
    (n, q)
}

/// Compact integer: the varint at `p`, zigzag still applied, as an `i64`, and the offset
/// after it. One byte is read whenever one remains; a longer varint only when ten bytes (the
/// longest a varint may be) remain, 7 bits a byte with bits past 64 dropped, as the
/// interpreter's reader does. Running out of input, fewer than ten bytes left for a longer
/// one, or one over ten bytes go to `fail`, where a helper reads it and reports.
pub(crate) fn emit_read_varint(
    b: &mut FunctionBuilder<'_>,
    input: Input,
    p: Value,
    fail: Block,
) -> (Value, Value) {
    let ptr = b.func.dfg.value_type(p);
    let got = b.create_block();
    let x = b.append_block_param(got, types::I64);
    let end = b.append_block_param(got, ptr);
    emit_need_or(b, input, p, 1, fail);
    let at = b.ins().iadd(input.buf, p);
    let b0 = b.ins().uload8(types::I64, input_flags(), at, 0);
    let big = b
        .ins()
        .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, b0, 0x80);
    let multi = b.create_block();
    let p1 = b.ins().iadd_imm_s(p, 1);
    b.ins().brif(
        big,
        multi,
        &[],
        got,
        &[ir::BlockArg::Value(b0), ir::BlockArg::Value(p1)],
    );
    b.switch_to_block(multi);
    emit_need_or(b, input, p, 10, fail);
    // Byte `i` (from 1) and the bits so far.
    let head = b.create_block();
    let i = b.append_block_param(head, ptr);
    let acc = b.append_block_param(head, types::I64);
    let one = b.ins().iconst(ptr, 1);
    let acc0 = b.ins().band_imm_s(b0, 0x7f);
    b.ins()
        .jump(head, &[ir::BlockArg::Value(one), ir::BlockArg::Value(acc0)]);
    b.switch_to_block(head);
    let byte_at = b.ins().iadd(at, i);
    let byte = b.ins().uload8(types::I64, input_flags(), byte_at, 0);
    let bits = b.ins().band_imm_s(byte, 0x7f);
    let shift = b.ins().imul_imm_u(i, 7);
    let bits = b.ins().ishl(bits, shift);
    let acc = b.ins().bor(acc, bits);
    let next = b.ins().iadd_imm_s(i, 1);
    let end_at = b.ins().iadd(p, next);
    let more = b
        .ins()
        .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, byte, 0x80);
    let again = b.create_block();
    b.ins().brif(
        more,
        again,
        &[],
        got,
        &[ir::BlockArg::Value(acc), ir::BlockArg::Value(end_at)],
    );
    b.switch_to_block(again);
    let too_long = b.ins().icmp_imm_u(IntCC::Equal, next, 10);
    b.ins().brif(
        too_long,
        fail,
        &[],
        head,
        &[ir::BlockArg::Value(next), ir::BlockArg::Value(acc)],
    );
    b.switch_to_block(got);
    (x, end)
}

/// Compact integer: a varint of at most 10 bytes at `p`, scanned for its last byte: the
/// offset after it; running out of input or a longer one goes to `fail`. With ten bytes left
/// (the usual case), the first eight are looked at in one load: the lowest byte whose top bit
/// is clear ends the varint; bytes 9 and 10 are checked one by one. Nearer the end of the
/// input, a byte at a time.
fn emit_skip_varint(b: &mut FunctionBuilder<'_>, input: Input, p: Value, fail: Block) -> Value {
    let ptr = b.func.dfg.value_type(p);
    let lp = b.create_block();
    let body = b.create_block();
    let next = b.create_block();
    let found = b.create_block();
    let i = b.append_block_param(lp, ptr);
    let end_at = b.append_block_param(found, ptr);

    let wide = b.create_block();
    let avail = b.ins().isub(input.len, p);
    let room = b
        .ins()
        .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, avail, 10);
    b.ins().brif(room, wide, &[], lp, &[ir::BlockArg::Value(p)]);
    b.switch_to_block(wide);
    let at = b.ins().iadd(input.buf, p);
    // Little-endian: byte k of the input is byte k of the word (the hosts Cranelift JITs for).
    let word = b.ins().load(types::I64, input_flags(), at, 0);
    let ends = b.ins().bnot(word);
    let ends = b.ins().band_imm_s(ends, 0x8080_8080_8080_8080_u64 as i64);
    let in_eight = b.create_block();
    let past_eight = b.create_block();
    b.ins().brif(ends, in_eight, &[], past_eight, &[]);
    b.switch_to_block(in_eight);
    let bit = b.ins().ctz(ends);
    let k = b.ins().ushr_imm_u(bit, 3);
    let k = b.ins().iadd_imm_s(k, 1);
    let end = b.ins().iadd(p, k);
    b.ins().jump(found, &[ir::BlockArg::Value(end)]);
    b.switch_to_block(past_eight);
    let ninth = b.create_block();
    let b8 = b.ins().uload8(types::I32, input_flags(), at, 8);
    let last8 = b.ins().icmp_imm_u(IntCC::UnsignedLessThan, b8, 0x80);
    let p9 = b.ins().iadd_imm_s(p, 9);
    b.ins()
        .brif(last8, found, &[ir::BlockArg::Value(p9)], ninth, &[]);
    b.switch_to_block(ninth);
    let b9 = b.ins().uload8(types::I32, input_flags(), at, 9);
    let last9 = b.ins().icmp_imm_u(IntCC::UnsignedLessThan, b9, 0x80);
    let p10 = b.ins().iadd_imm_s(p, 10);
    b.ins()
        .brif(last9, found, &[ir::BlockArg::Value(p10)], fail, &[]);

    b.switch_to_block(lp);
    let more = b.ins().icmp(IntCC::UnsignedLessThan, i, input.len);
    b.ins().brif(more, body, &[], fail, &[]);
    b.switch_to_block(body);
    let at = b.ins().iadd(input.buf, i);
    let byte = b.ins().uload8(types::I32, input_flags(), at, 0);
    let i1 = b.ins().iadd_imm_s(i, 1);
    let cont = b
        .ins()
        .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, byte, 0x80);
    b.ins()
        .brif(cont, next, &[], found, &[ir::BlockArg::Value(i1)]);
    b.switch_to_block(next);
    let k = b.ins().isub(i1, p);
    let long = b.ins().icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, k, 10);
    b.ins()
        .brif(long, fail, &[], lp, &[ir::BlockArg::Value(i1)]);
    b.switch_to_block(found);
    end_at
}

/// Compact: whether header type code `t` is a bool's (1 true, 2 false).
fn emit_is_cbool(b: &mut FunctionBuilder<'_>, t: Value) -> Value {
    let t1 = b.ins().iadd_imm_s(t, -1);
    b.ins().icmp_imm_u(IntCC::UnsignedLessThan, t1, 2)
}

/// Compact: a bool's value is in its header, nothing to skip: on to `head` when type code
/// `t` is a bool's; else leaves the block after current.
pub(crate) fn emit_skip_cbool(b: &mut FunctionBuilder<'_>, t: Value, head: Block) {
    let is_bool = emit_is_cbool(b, t);
    let other = b.create_block();
    b.ins().brif(is_bool, head, &[], other, &[]);
    b.switch_to_block(other);
}

/// Whether header type code `t` is the one expected for a field of wire type `ttype`.
pub(crate) fn emit_is_type(
    b: &mut FunctionBuilder<'_>,
    proto: Proto,
    t: Value,
    ttype: TType,
) -> Value {
    match (proto, ttype) {
        (Proto::Binary, _) => b.ins().icmp_imm_s(IntCC::Equal, t, ttype as i64),
        (Proto::Compact, TType::Bool) => emit_is_cbool(b, t),
        (Proto::Compact, _) => b
            .ins()
            .icmp_imm_s(IntCC::Equal, t, compact_code(ttype) as i64),
    }
}

/// Dispatches on field id `id` (an i16): to the returned block `i` for the id of field `i`
/// of `s`, to `unknown` (with the type code `t`) for any other; a jump table when the ids
/// are dense, else a chain of compares.
pub(crate) fn emit_dispatch(
    b: &mut FunctionBuilder<'_>,
    s: &StructPlan,
    id: Value,
    t: Value,
    unknown: Block,
) -> Vec<Block> {
    let blocks: Vec<Block> = s.fields.iter().map(|_| b.create_block()).collect();
    let unknown_call = [ir::BlockArg::Value(t)];
    match &s.lookup {
        Lookup::Dense { min, table } => {
            let idx = b.ins().sextend(types::I32, id);
            let idx = b.ins().iadd_imm_s(idx, -(*min as i64));
            let pool = &mut b.func.dfg.value_lists;
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
            let jt = b.create_jump_table(JumpTableData::new(default, &entries));
            b.ins().br_table(idx, jt);
        }
        Lookup::Sorted(_) => {
            for (i, f) in s.fields.iter().enumerate() {
                let is = b.ins().icmp_imm_s(IntCC::Equal, id, f.id as i64);
                let next = b.create_block();
                b.ins().brif(is, blocks[i], &[], next, &[]);
                b.switch_to_block(next);
            }
            b.ins().jump(unknown, &unknown_call);
        }
    }
    blocks
}

/// A compiled reader of struct fields (the decoder, the skip): how it keeps the offset and
/// fails. The provided methods are the emitters written against it.
pub(crate) trait Reader<'f> {
    fn b(&mut self) -> &mut FunctionBuilder<'f>;
    fn ptr(&self) -> Type;
    fn proto(&self) -> Proto;
    /// The context argument.
    fn cx(&self) -> Value;
    fn sigs(&self) -> &ReadSigs;
    /// Compact: the id of the last field read (headers carry deltas).
    fn last(&self) -> Variable;
    /// The input and the offset, at this point of the code.
    fn cursor(&mut self) -> (Input, Value);
    /// Moves the offset to `p`.
    fn set_pos(&mut self, p: Value);
    /// Writes the offset to the context, where a helper reads it.
    fn sync_out(&mut self);
    /// Takes the offset back from the context, after a helper moved it.
    fn sync_in(&mut self);
    /// Fails with an end-of-input error at `at` unless `n` bytes remain after `p`.
    fn need(&mut self, input: Input, p: Value, n: usize, at: Value);
    /// Returns the error status (the error is in the context) when `cond` is non-zero.
    fn fail_if(&mut self, cond: Value);
    /// A field header starts at `pos` (called before it is read).
    fn note_header(&mut self, pos: Value);

    /// Calls the runtime helper at `addr`; returns its result.
    fn call(&mut self, sig: SigRef, addr: *const (), args: &[Value]) -> Value {
        let ptr = self.ptr();
        let b = self.b();
        let f = b.ins().iconst(ptr, addr as usize as i64);
        let call = b.ins().call_indirect(sig, f, args);
        b.inst_results(call)[0]
    }

    /// A struct's nesting level: fails (the context's offset at the struct's start, where
    /// the interpreter reports it) when `depth` is spent; returns the budget inside.
    fn emit_enter(&mut self, depth: Value) -> Value {
        let b = self.b();
        let deep = b.create_block();
        let ok = b.create_block();
        b.set_cold_block(deep);
        b.ins().brif(depth, ok, &[], deep, &[]);
        b.switch_to_block(deep);
        let cx = self.cx();
        let st = self.call(self.sigs().ctx_only, rt::rt_dec_depth as *const (), &[cx]);
        let b = self.b();
        b.ins().return_(&[st]);
        b.switch_to_block(ok);
        b.ins().iadd_imm_s(depth, -1)
    }

    /// The blocks of a struct's field header (see [`Head`]).
    fn head(&mut self) -> Head {
        let binary = self.proto() == Proto::Binary;
        let ptr = self.ptr();
        let b = self.b();
        let at = b.create_block();
        let parse = binary.then(|| {
            let parse = b.create_block();
            b.append_block_param(parse, types::I32);
            b.append_block_param(parse, ptr);
            parse
        });
        Head { at, parse }
    }

    /// The field header at `h` (the stop byte jumps to `end`): its type code and id (an i16),
    /// in the block this leaves current.
    fn lower_head(&mut self, h: Head, end: Block) -> (Value, Value) {
        self.b().switch_to_block(h.at);
        match h.parse {
            Some(parse) => self.lower_header(parse, end),
            None => self.lower_cheader(end),
        }
    }

    /// Binary field header at the offset: with four bytes left, one load, parsed at `parse`;
    /// closer to the end of the input, byte by byte with the checks in the interpreter's order
    /// (type code, then the id's bytes), then parsed there too. Parsing: the stop byte jumps to
    /// `end`; else the type code and the id (the offset past them). The type code may be
    /// undefined: only a known field's is, so the unknown-field code checks it.
    fn lower_header(&mut self, parse: Block, end: Block) -> (Value, Value) {
        let (input, p) = self.cursor();
        let b = self.b();
        let at = b.ins().iadd(input.buf, p);
        let narrow = b.create_block();
        b.set_cold_block(narrow);
        emit_need_or(b, input, p, 4, narrow);
        let w = b.ins().load(types::I32, input_flags(), at, 0);
        b.ins()
            .jump(parse, &[ir::BlockArg::Value(w), ir::BlockArg::Value(p)]);

        b.switch_to_block(narrow);
        self.need(input, p, 1, p);
        let t = self.b().ins().uload8(types::I32, input_flags(), at, 0);
        self.emit_stop(t, p, end);
        self.emit_check_valid(t, p);
        let id_at = self.b().ins().iadd_imm_s(p, 1);
        self.need(input, p, 3, id_at);
        let b = self.b();
        let raw = b.ins().uload16(types::I32, input_flags(), at, 1);
        let raw = b.ins().ishl_imm_u(raw, 8);
        let w = b.ins().bor(raw, t);
        b.ins()
            .jump(parse, &[ir::BlockArg::Value(w), ir::BlockArg::Value(p)]);

        b.switch_to_block(parse);
        let w = b.block_params(parse)[0];
        let p = b.block_params(parse)[1];
        self.note_header(p);
        let t = self.b().ins().band_imm_s(w, 0xff);
        self.emit_stop(t, p, end);
        // An undefined type code is an error where unknown fields are handled: a known
        // field's code is defined ([`Reader::emit_inline_skip`]; `rt_dec_keep` when the
        // decoder keeps unknown fields).
        let b = self.b();
        // Little-endian hosts only (x86_64, aarch64): the id's bytes, big-endian, follow.
        let raw = b.ins().ushr_imm_u(w, 8);
        let raw = b.ins().ireduce(types::I16, raw);
        let id = b.ins().bswap(raw);
        let p3 = b.ins().iadd_imm_s(p, 3);
        self.set_pos(p3);
        (t, id)
    }

    /// Fails unless `t` (the type code at `p`) is one the Binary protocol defines.
    fn emit_check_valid(&mut self, t: Value, p: Value) {
        // The codes the protocol defines, one bit each.
        let valid_mask: u32 = (0..17u8)
            .filter(|&c| TType::from_u8(c).is_some())
            .fold(0, |m, c| m | (1 << c));
        let b = self.b();
        let small = b.ins().icmp_imm_u(IntCC::UnsignedLessThan, t, 17);
        let small = b.ins().uextend(types::I32, small);
        let mask = b.ins().iconst(types::I32, valid_mask as i64);
        let shifted = b.ins().ushr(mask, t);
        let bit = b.ins().band_imm_s(shifted, 1);
        let valid = b.ins().band(bit, small);
        self.emit_check_type(valid, t, p);
    }

    /// Compact field header at the offset (the stop byte jumps to `end`): type code and id
    /// (an i16; the last id is updated).
    fn lower_cheader(&mut self, end: Block) -> (Value, Value) {
        let (input, p) = self.cursor();
        self.note_header(p);
        self.need(input, p, 1, p);
        let b = self.b();
        let at = b.ins().iadd(input.buf, p);
        let byte = b.ins().uload8(types::I32, input_flags(), at, 0);
        let t = b.ins().band_imm_s(byte, 0x0f);
        // A stop code with a non-zero delta is still a stop, as in the interpreter.
        self.emit_stop(t, p, end);
        let valid = self
            .b()
            .ins()
            .icmp_imm_u(IntCC::UnsignedLessThanOrEqual, t, 13);
        self.emit_check_type(valid, t, p);
        let cx = self.cx();
        let p1 = self.b().ins().iadd_imm_s(p, 1);
        self.set_pos(p1);
        let last = self.last();
        let b = self.b();
        let delta = b.ins().ushr_imm_u(byte, 4);
        let short = b.create_block();
        let long = b.create_block();
        let got = b.create_block();
        b.append_block_param(got, types::I32);
        b.ins().brif(delta, short, &[], long, &[]);
        b.switch_to_block(short);
        let prev = b.use_var(last);
        let id = b.ins().iadd(prev, delta);
        // Wrapping i16 arithmetic, as the interpreter's.
        let id = b.ins().ireduce(types::I16, id);
        let id = b.ins().sextend(types::I32, id);
        b.ins().jump(got, &[ir::BlockArg::Value(id)]);
        b.switch_to_block(long);
        self.sync_out();
        let id = self.call(
            self.sigs().ctx_only,
            rt::rt_cdec_field_id as *const (),
            &[cx],
        );
        let failed = self.b().ins().icmp_imm_s(IntCC::Equal, id, i32::MIN as i64);
        self.fail_if(failed);
        self.sync_in();
        let b = self.b();
        b.ins().jump(got, &[ir::BlockArg::Value(id)]);
        b.switch_to_block(got);
        let id = b.block_params(got)[0];
        b.def_var(last, id);
        let id = b.ins().ireduce(types::I16, id);
        (t, id)
    }

    /// A header's type code `t` (in the byte at `p`): a stop (zero) moves past that byte and
    /// on to `end`; any other code goes on in the block this leaves current.
    fn emit_stop(&mut self, t: Value, p: Value, end: Block) {
        let b = self.b();
        let not_stop = b.create_block();
        let stop = b.create_block();
        b.ins().brif(t, not_stop, &[], stop, &[]);
        b.switch_to_block(stop);
        let p1 = b.ins().iadd_imm_s(p, 1);
        self.set_pos(p1);
        let b = self.b();
        b.ins().jump(end, &[]);
        b.switch_to_block(not_stop);
    }

    /// Unless `valid`, fails with the error of a type code `t` the protocol does not define,
    /// at its byte `p`.
    fn emit_check_type(&mut self, valid: Value, t: Value, p: Value) {
        let b = self.b();
        let invalid = b.create_block();
        let known = b.create_block();
        b.set_cold_block(invalid);
        b.ins().brif(valid, known, &[], invalid, &[]);
        b.switch_to_block(invalid);
        self.emit_invalid_type(t, p);
        self.b().switch_to_block(known);
    }

    /// Fails (returns) with the error of the undefined type code `t` at `p`.
    fn emit_invalid_type(&mut self, t: Value, p: Value) {
        let cx = self.cx();
        let st = self.call(
            self.sigs().ctx_u32_usize,
            rt::rt_dec_invalid_type as *const (),
            &[cx, t, p],
        );
        self.b().ins().return_(&[st]);
    }

    /// Checks that the next header is field `k`'s of `s` (the stop byte, for `k` the field
    /// count): a hit goes straight to `targets[k]` (to `end`), anything else to the generic
    /// header at `head`. A reader predicts field 0 on entering a struct and field `i + 1`
    /// after field `i`. Binary: a hit also has the `rooms[k]` bytes after the header in the
    /// input (missing or zero: none checked); with a `gap`, a miss on an id in it is skipped
    /// here and the prediction made again.
    #[allow(clippy::too_many_arguments)]
    fn emit_predict(
        &mut self,
        s: &StructPlan,
        k: usize,
        targets: &[Block],
        rooms: &[usize],
        head: Head,
        end: Block,
        gap: Option<Gap>,
    ) {
        match head.parse {
            Some(parse) => {
                let room = rooms.get(k).copied().unwrap_or(0);
                // With a gap: the prediction in a block of its own, to come back to after a
                // skip, and its miss to the gap's check.
                let gap = gap.map(|g| {
                    let ptr = self.ptr();
                    let b = self.b();
                    let again = b.create_block();
                    b.ins().jump(again, &[]);
                    b.switch_to_block(again);
                    let miss = b.create_block();
                    b.append_block_param(miss, types::I32);
                    b.append_block_param(miss, ptr);
                    (g, again, miss)
                });
                let miss = gap.map_or(parse, |(_, _, miss)| miss);
                self.emit_bpredict(s, k, targets, room, head.at, miss, end);
                if let Some((g, again, miss)) = gap {
                    self.emit_gap_skip(miss, g, again, parse);
                }
            }
            None => self.emit_cpredict(s, k, targets, head.at, end),
        }
    }

    /// A missed Binary prediction at `miss` (its parameters: the four bytes loaded, as a
    /// little-endian i32, and their offset): a field whose id is in `gap` is skipped, as an
    /// unknown field is after the generic header, then the prediction is made again at
    /// `again`; anything else (the stop byte too) goes to `parse`.
    fn emit_gap_skip(&mut self, miss: Block, gap: Gap, again: Block, parse: Block) {
        let b = self.b();
        b.switch_to_block(miss);
        let w = b.block_params(miss)[0];
        let p = b.block_params(miss)[1];
        let to_parse = [ir::BlockArg::Value(w), ir::BlockArg::Value(p)];
        let t = b.ins().band_imm_s(w, 0xff);
        let field = b.create_block();
        b.ins().brif(t, field, &[], parse, &to_parse);
        b.switch_to_block(field);
        // Little-endian hosts only (x86_64, aarch64): the id's bytes, big-endian, follow.
        let raw = b.ins().ushr_imm_u(w, 8);
        let raw = b.ins().ireduce(types::I16, raw);
        let id = b.ins().bswap(raw);
        let id = b.ins().sextend(types::I64, id);
        let above = b.ins().icmp_imm_s(IntCC::SignedGreaterThan, id, gap.lo);
        let below = b.ins().icmp_imm_s(IntCC::SignedLessThan, id, gap.hi);
        let inside = b.ins().band(above, below);
        let skip = b.create_block();
        b.ins().brif(inside, skip, &[], parse, &to_parse);
        b.switch_to_block(skip);
        let p3 = b.ins().iadd_imm_s(p, 3);
        self.set_pos(p3);
        self.emit_inline_skip(t, again);
        self.emit_generic_skip(t, gap.depth);
        self.b().ins().jump(again, &[]);
    }

    /// Binary: one compare of the three header bytes of field `k`; a miss with four bytes
    /// left hands them to `parse`. With `room` bytes of the value checked as well, less input
    /// than header and value goes to `head` (which reports what is missing). For `k` the
    /// field count, a test of the stop byte (the last of a message, so its miss goes to
    /// `head`).
    #[allow(clippy::too_many_arguments)]
    fn emit_bpredict(
        &mut self,
        s: &StructPlan,
        k: usize,
        targets: &[Block],
        room: usize,
        head: Block,
        parse: Block,
        end: Block,
    ) {
        let (input, p) = self.cursor();
        let b = self.b();
        let avail = b.ins().isub(input.len, p);
        let at = b.ins().iadd(input.buf, p);
        let check = b.create_block();
        let hit = b.create_block();
        match s.fields.get(k) {
            Some(next) => {
                let need = (3 + room).max(4) as i64;
                let room = b
                    .ins()
                    .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, avail, need);
                b.ins().brif(room, check, &[], head, &[]);
                b.switch_to_block(check);
                // Little-endian hosts only (x86_64, aarch64): type byte, then the id big-endian.
                let w = b.ins().load(types::I32, input_flags(), at, 0);
                let h = b.ins().band_imm_s(w, 0x00ff_ffff);
                let id = next.id as u16 as u32;
                let expect = (next.ttype as u32) | ((id >> 8) << 8) | ((id & 0xff) << 16);
                let same = b.ins().icmp_imm_s(IntCC::Equal, h, expect as i64);
                let miss = [ir::BlockArg::Value(w), ir::BlockArg::Value(p)];
                b.ins().brif(same, hit, &[], parse, &miss);
                b.switch_to_block(hit);
                self.note_header(p);
                let p3 = self.b().ins().iadd_imm_s(p, 3);
                self.set_pos(p3);
                self.b().ins().jump(targets[k], &[]);
            }
            None => {
                let room = b
                    .ins()
                    .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, avail, 1);
                b.ins().brif(room, check, &[], head, &[]);
                b.switch_to_block(check);
                let t = b.ins().uload8(types::I32, input_flags(), at, 0);
                b.ins().brif(t, head, &[], hit, &[]);
                b.switch_to_block(hit);
                let p1 = b.ins().iadd_imm_s(p, 1);
                self.set_pos(p1);
                self.b().ins().jump(end, &[]);
            }
        }
    }

    /// Compact: the last id is known before field `k` (0 before the first, field `k - 1`'s
    /// after it), so its short header is one constant byte (when the delta fits and the
    /// field is not a bool, whose header varies); before the stop byte (any delta: `head`
    /// handles those), a zero.
    fn emit_cpredict(
        &mut self,
        s: &StructPlan,
        k: usize,
        targets: &[Block],
        head: Block,
        end: Block,
    ) {
        let prev = k.checked_sub(1).map_or(0, |i| s.fields[i].id as i32);
        let (expect, target) = match s.fields.get(k) {
            Some(next) => {
                let delta = next.id as i32 - prev;
                if !(1..=15).contains(&delta) || next.ttype == TType::Bool {
                    self.b().ins().jump(head, &[]);
                    return;
                }
                let byte = (delta << 4) | compact_code(next.ttype) as i32;
                (byte, Some((targets[k], next.id)))
            }
            None => (0, None),
        };
        let (input, p) = self.cursor();
        let b = self.b();
        let room = b.ins().icmp(IntCC::UnsignedLessThan, p, input.len);
        let check = b.create_block();
        let hit = b.create_block();
        b.ins().brif(room, check, &[], head, &[]);
        b.switch_to_block(check);
        let at = b.ins().iadd(input.buf, p);
        let byte = b.ins().uload8(types::I32, input_flags(), at, 0);
        let same = b.ins().icmp_imm_s(IntCC::Equal, byte, expect as i64);
        b.ins().brif(same, hit, &[], head, &[]);
        b.switch_to_block(hit);
        self.note_header(p);
        let p1 = self.b().ins().iadd_imm_s(p, 1);
        self.set_pos(p1);
        let last = self.last();
        let b = self.b();
        match target {
            Some((block, id)) => {
                let id = b.ins().iconst(types::I32, id as i64);
                b.def_var(last, id);
                b.ins().jump(block, &[]);
            }
            None => {
                b.ins().jump(end, &[]);
            }
        }
    }

    /// The protocol's generic skip of a value of type code `t` at the offset (the helper
    /// reports any error).
    fn emit_generic_skip(&mut self, t: Value, depth: Value) {
        self.sync_out();
        let cx = self.cx();
        let helper = match self.proto() {
            Proto::Binary => rt::rt_dec_skip as *const (),
            Proto::Compact => rt::rt_cdec_skip as *const (),
        };
        let st = self.call(self.sigs().ctx_u32_u32, helper, &[cx, t, depth]);
        self.fail_if(st);
        self.sync_in();
    }

    /// Skips the values [`Inline::of_code`] knows of type code `t` inline (then on to `head`);
    /// a Binary code the protocol does not define fails, at the header just read; everything
    /// else, and everything that would fail or is long, falls through to the block this leaves
    /// current, for the generic skip (which reads again from the same offset and reports the
    /// error, if any).
    fn emit_inline_skip(&mut self, t: Value, head: Block) {
        let proto = self.proto();
        let codes = match proto {
            Proto::Binary => 0..=16u8,
            Proto::Compact => 0..=13u8,
        };
        let mut kinds: Vec<Inline> = codes
            .clone()
            .filter_map(|c| Inline::of_code(proto, c))
            .collect();
        kinds.sort();
        kinds.dedup();
        let b = self.b();
        let helper = b.create_block();
        // Binary: the header left undefined codes to this table (see `lower_header`).
        let invalid = (proto == Proto::Binary).then(|| b.create_block());
        let blocks: Vec<Block> = kinds.iter().map(|_| b.create_block()).collect();
        let pool = &mut b.func.dfg.value_lists;
        let entries: Vec<BlockCall> = codes
            .map(|code| {
                let target = match Inline::of_code(proto, code) {
                    Some(k) => kinds.binary_search(&k).map_or(helper, |i| blocks[i]),
                    None if TType::from_u8(code).is_none() => invalid.unwrap_or(helper),
                    None => helper,
                };
                BlockCall::new(target, std::iter::empty(), pool)
            })
            .collect();
        let default = BlockCall::new(invalid.unwrap_or(helper), std::iter::empty(), pool);
        let jt = b.create_jump_table(JumpTableData::new(default, &entries));
        b.ins().br_table(t, jt);
        for (kind, block) in kinds.into_iter().zip(blocks) {
            self.b().switch_to_block(block);
            self.emit_advance(|b, input, p| kind.emit(b, proto, input, p, helper));
            self.b().ins().jump(head, &[]);
        }
        if let Some(invalid) = invalid {
            let b = self.b();
            b.set_cold_block(invalid);
            b.switch_to_block(invalid);
            let (_, p) = self.cursor();
            let at = self.b().ins().iadd_imm_s(p, -3);
            self.emit_invalid_type(t, at);
        }
        self.b().switch_to_block(helper);
    }

    /// Moves the offset past the value there with `skip` (given the input and the offset of
    /// the value, it returns the offset after it).
    fn emit_advance(&mut self, skip: impl FnOnce(&mut FunctionBuilder<'f>, Input, Value) -> Value) {
        let (input, p) = self.cursor();
        let q = skip(self.b(), input, p);
        self.set_pos(q);
    }
}
