//! Runtime helpers called from generated code (`rt_*`). Each is `extern "C"`, never unwinds
//! (a panic is caught and turned into an error), and reports failure by storing the error in
//! the context and returning [`STATUS_ERROR`].

use std::panic::{AssertUnwindSafe, catch_unwind};

use bytes::Bytes;
use dynthrift_core::desc::{EnumDesc, OptionDesc};
use dynthrift_core::wire::ProtoWrite;
use dynthrift_core::wire::binary::{BinarySizer, BinaryWriter};
use dynthrift_core::{Error, ErrorKind};
use dynthrift_interp::plan::{FieldPlan, Node};
use dynthrift_interp::run;

use crate::abi::{EncCtx, STATUS_ERROR, STATUS_OK};

/// Host representation of a string or binary, as generated code names it.
pub const STR_STRING: i32 = 0;
pub const STR_VEC: i32 = 1;
pub const STR_BYTES: i32 = 2;
#[cfg(feature = "faststr")]
pub const STR_FASTSTR: i32 = 3;

fn fail(ctx: &mut EncCtx, e: Error) -> i32 {
    ctx.error = Some(e);
    STATUS_ERROR
}

fn guarded(ctx: *mut EncCtx, f: impl FnOnce(&mut EncCtx) -> Result<(), Error>) -> i32 {
    // SAFETY: generated code passes the context it was given, live for the whole call.
    let ctx = unsafe { &mut *ctx };
    match catch_unwind(AssertUnwindSafe(|| f(&mut *ctx))) {
        Ok(Ok(())) => STATUS_OK,
        Ok(Err(e)) => fail(ctx, e),
        Err(_) => fail(
            ctx,
            Error::encode(ErrorKind::InvalidValue, "a helper panicked"),
        ),
    }
}

/// Runs `f` on the output vector with the context's bytes committed, then re-reads it.
///
/// # Safety
/// `ctx.out` is the live output vector and `ctx.len` bytes of it are initialised.
unsafe fn with_vec(
    ctx: &mut EncCtx,
    f: impl FnOnce(&mut Vec<u8>) -> Result<(), Error>,
) -> Result<(), Error> {
    // SAFETY: the caller's contract; generated code only wrote inside the capacity.
    let out = unsafe { &mut *ctx.out };
    // SAFETY: bytes up to `ctx.len` were written (by generated code or helpers).
    unsafe { out.set_len(ctx.len) };
    let r = f(out);
    ctx.buf = out.as_mut_ptr();
    ctx.len = out.len();
    ctx.cap = out.capacity();
    r
}

/// Makes room for `n` more bytes.
pub extern "C" fn rt_reserve(ctx: *mut EncCtx, n: usize) -> i32 {
    guarded(ctx, |ctx| {
        // SAFETY: write mode: `out` is the live output vector.
        unsafe {
            with_vec(ctx, |out| {
                out.reserve(n);
                Ok(())
            })
        }
    })
}

/// Reads the string or binary at `p` (of representation `kind`).
///
/// # Safety
/// `p` points to a live value of that representation.
unsafe fn str_bytes<'a>(p: *const u8, kind: i32) -> &'a [u8] {
    // SAFETY: the caller's contract.
    unsafe {
        match kind {
            STR_STRING => (*(p as *const String)).as_bytes(),
            STR_VEC => &*(p as *const Vec<u8>),
            #[cfg(feature = "faststr")]
            STR_FASTSTR => (*(p as *const faststr::FastStr)).as_bytes(),
            _ => &*(p as *const Bytes),
        }
    }
}

/// Writes a length-prefixed string or binary.
pub extern "C" fn rt_write_str(ctx: *mut EncCtx, p: *const u8, kind: i32) -> i32 {
    guarded(ctx, |ctx| {
        // SAFETY: generated code passes a field of the representation it names.
        let b = unsafe { str_bytes(p, kind) };
        // SAFETY: write mode: `out` is the live output vector.
        unsafe { with_vec(ctx, |out| BinaryWriter::new(out).write_binary(b)) }
    })
}

/// Adds the size of a length-prefixed string or binary.
pub extern "C" fn rt_size_str(ctx: *mut EncCtx, p: *const u8, kind: i32) -> i32 {
    guarded(ctx, |ctx| {
        // SAFETY: generated code passes a field of the representation it names.
        let b = unsafe { str_bytes(p, kind) };
        let mut s = BinarySizer::new();
        s.write_binary(b)?;
        ctx.len += s.len;
        Ok(())
    })
}

/// Writes (`size == 0`) or sizes (`size != 0`) any value with the interpreter.
pub extern "C" fn rt_node(
    ctx: *mut EncCtx,
    node: *const Node,
    p: *const u8,
    depth: u32,
    size: i32,
) -> i32 {
    guarded(ctx, |ctx| {
        // SAFETY: the plan outlives the compiled code that embeds pointers into it.
        let (plan, node) = unsafe { (&*ctx.plan, &*node) };
        if size != 0 {
            let mut s = BinarySizer::new();
            // SAFETY: generated code passes the value the node describes.
            unsafe { run::encode_node(plan, node, p, &mut s, depth)? };
            ctx.len += s.len;
            Ok(())
        } else {
            // SAFETY: write mode; the value is the one the node describes.
            unsafe {
                with_vec(ctx, |out| {
                    run::encode_node(plan, node, p, &mut BinaryWriter::new(out), depth)
                })
            }
        }
    })
}

/// `Option<T>`'s value, or null.
pub extern "C" fn rt_option_get(od: *const OptionDesc, slot: *const u8) -> *const u8 {
    // SAFETY: `od` is a static descriptor and `slot` the `Option<T>` it describes.
    unsafe { ((*od).get)(slot) }
}

/// A C-like enum's value.
pub extern "C" fn rt_enum_to_i32(ed: *const EnumDesc, p: *const u8) -> i32 {
    // SAFETY: `ed` is a static descriptor and `p` the enum it describes.
    unsafe { ((*ed).to_i32)(p) }
}

/// Records that required field `f` is unset.
pub extern "C" fn rt_missing(ctx: *mut EncCtx, f: *const FieldPlan) -> i32 {
    guarded(ctx, |_| {
        // SAFETY: `f` points into the plan, which outlives the code.
        let f = unsafe { &*f };
        Err(Error::encode(
            ErrorKind::MissingRequired,
            format!("missing required field '{}'", f.name),
        )
        .in_field(&f.name))
    })
}

/// Adds field `f` to the path of the error being returned.
pub extern "C" fn rt_in_field(ctx: *mut EncCtx, f: *const FieldPlan) -> i32 {
    // SAFETY: generated code passes its live context; `f` points into the plan.
    let (ctx, f) = unsafe { (&mut *ctx, &*f) };
    if let Some(e) = ctx.error.take() {
        ctx.error = Some(e.in_field(&f.name));
    }
    STATUS_ERROR
}

/// Records that the nesting budget ran out.
pub extern "C" fn rt_depth(ctx: *mut EncCtx) -> i32 {
    guarded(ctx, |_| {
        Err(Error::encode(ErrorKind::DepthLimit, "nesting too deep"))
    })
}

// ---------------------------------------------------------------------------------------------
// Decode helpers

use dynthrift_core::wire::ProtoRead;
use dynthrift_core::wire::binary::BinaryReader;
use dynthrift_interp::plan::StructPlan;

use crate::abi::DecCtx;

fn dec_guarded(ctx: *mut DecCtx, f: impl FnOnce(&mut DecCtx) -> Result<(), Error>) -> i32 {
    // SAFETY: generated code passes the context it was given, live for the whole call.
    let ctx = unsafe { &mut *ctx };
    match catch_unwind(AssertUnwindSafe(|| f(&mut *ctx))) {
        Ok(Ok(())) => STATUS_OK,
        Ok(Err(e)) => {
            ctx.error = Some(e);
            STATUS_ERROR
        }
        Err(_) => {
            ctx.error = Some(Error::decode(
                ErrorKind::InvalidData,
                ctx.pos,
                "a helper panicked",
            ));
            STATUS_ERROR
        }
    }
}

/// The whole input.
///
/// # Safety
/// `ctx.buf`/`ctx.len` describe the live input of this decode call.
unsafe fn input<'a>(ctx: &DecCtx) -> &'a [u8] {
    // SAFETY: the caller's contract.
    unsafe { std::slice::from_raw_parts(ctx.buf, ctx.len) }
}

/// Runs `f` with a Binary reader over the rest of the input, then advances `pos`; error
/// offsets are made absolute.
fn with_reader(
    ctx: &mut DecCtx,
    f: impl for<'a> FnOnce(&mut BinaryReader<'a>, &'a [u8], Option<&'a Bytes>) -> Result<(), Error>,
) -> Result<(), Error> {
    // SAFETY: the context describes the live input (and source) of this decode call.
    let (all, source) = unsafe { (input(ctx), ctx.source.as_ref()) };
    let base = ctx.pos;
    let rest = &all[base..];
    let mut r = BinaryReader::new(rest);
    let res = f(&mut r, rest, source);
    ctx.pos = base + r.position();
    res.map_err(|e| e.shift_offset(base))
}

pub extern "C" fn rt_dec_eof(ctx: *mut DecCtx, at: usize) -> i32 {
    dec_guarded(ctx, |_| {
        Err(Error::decode(ErrorKind::UnexpectedEof, at, ""))
    })
}

pub extern "C" fn rt_dec_invalid_type(ctx: *mut DecCtx, code: u32, at: usize) -> i32 {
    dec_guarded(ctx, |_| {
        Err(Error::decode(
            ErrorKind::InvalidType,
            at,
            format!("invalid type code {code}"),
        ))
    })
}

pub extern "C" fn rt_dec_depth(ctx: *mut DecCtx) -> i32 {
    dec_guarded(ctx, |ctx| Err(dynthrift_core::wire::depth_error(ctx.pos)))
}

/// Skips a value of wire type `t` (an unknown field, or one with another type).
pub extern "C" fn rt_dec_skip(ctx: *mut DecCtx, t: u32, depth: u32) -> i32 {
    dec_guarded(ctx, |ctx| {
        let t = dynthrift_core::TType::from_u8(t as u8).ok_or_else(|| {
            Error::decode(
                ErrorKind::InvalidType,
                ctx.pos,
                format!("invalid type code {t}"),
            )
        })?;
        with_reader(ctx, |r, _, _| r.skip(t, depth))
    })
}

/// Decodes any value with the interpreter.
pub extern "C" fn rt_dec_node(ctx: *mut DecCtx, node: *const Node, p: *mut u8, depth: u32) -> i32 {
    dec_guarded(ctx, |ctx| {
        // SAFETY: the plan and limits outlive the call; `node` points into the plan.
        let (plan, limits, node) = unsafe { (&*ctx.plan, &*ctx.limits, &*node) };
        with_reader(ctx, |r, rest, source| {
            // SAFETY: generated code passes the value the node describes, exclusively.
            unsafe { run::decode_node(plan, node, p, r, rest, source, limits, depth) }
        })
    })
}

/// `Option<T>`: makes it `Some(empty)` if `None`; returns the value's address.
pub extern "C" fn rt_option_insert(od: *const OptionDesc, slot: *mut u8) -> *mut u8 {
    // SAFETY: `od` is a static descriptor and `slot` the `Option<T>` it describes, exclusively.
    unsafe { ((*od).get_or_insert_empty)(slot) }
}

/// Stores enum value `v`; 0 when the enum has no such value.
pub extern "C" fn rt_enum_from_i32(ed: *const EnumDesc, p: *mut u8, v: i32) -> i32 {
    // SAFETY: `ed` is a static descriptor and `p` the enum it describes, exclusively.
    unsafe { ((*ed).from_i32)(p, v) as i32 }
}

pub extern "C" fn rt_dec_unknown_enum(
    ctx: *mut DecCtx,
    ed: *const EnumDesc,
    v: i32,
    at: usize,
) -> i32 {
    dec_guarded(ctx, |_| {
        // SAFETY: a static descriptor.
        let name = unsafe { (*ed).name };
        Err(Error::decode(
            ErrorKind::UnknownEnumValue,
            at,
            format!("unknown value {v} for enum '{name}'"),
        ))
    })
}

/// Required fields of `s` not in `seen`.
pub extern "C" fn rt_dec_missing(ctx: *mut DecCtx, s: *const StructPlan, seen: u64) -> i32 {
    dec_guarded(ctx, |ctx| {
        // SAFETY: `s` points into the plan, which outlives the code.
        let s = unsafe { &*s };
        let i = (s.required_mask & !seen).trailing_zeros() as usize;
        Err(Error::decode(
            ErrorKind::MissingRequired,
            ctx.pos,
            format!("missing required field '{}'", s.fields[i].name),
        ))
    })
}

/// Adds field `f` to the path of the error being returned.
pub extern "C" fn rt_dec_in_field(ctx: *mut DecCtx, f: *const FieldPlan) -> i32 {
    // SAFETY: generated code passes its live context; `f` points into the plan.
    let (ctx, f) = unsafe { (&mut *ctx, &*f) };
    if let Some(e) = ctx.error.take() {
        ctx.error = Some(e.in_field(&f.name));
    }
    STATUS_ERROR
}

// ---------------------------------------------------------------------------------------------
// Sequence helpers (encode)

use dynthrift_core::desc::SeqDesc;

/// Length of the sequence at `p`.
pub extern "C" fn rt_seq_len(sd: *const SeqDesc, p: *const u8) -> usize {
    // SAFETY: `sd` is a static descriptor and `p` the sequence it describes.
    unsafe { ((*sd).len)(p) }
}

/// Address of the first element of the sequence at `p`.
pub extern "C" fn rt_seq_ptr(sd: *const SeqDesc, p: *const u8) -> *const u8 {
    // SAFETY: as for `rt_seq_len`.
    unsafe { ((*sd).as_ptr)(p) }
}

/// Records that a container is longer than `i32::MAX` (what the interpreter's writer says).
pub extern "C" fn rt_too_long(ctx: *mut EncCtx, len: usize) -> i32 {
    guarded(ctx, |_| {
        Err(Error::encode(
            ErrorKind::InvalidValue,
            format!("length {len} does not fit in an i32"),
        ))
    })
}

/// Adds list position `i` to the path of the error being returned.
pub extern "C" fn rt_at_index(ctx: *mut EncCtx, i: usize) -> i32 {
    // SAFETY: generated code passes its live context.
    let ctx = unsafe { &mut *ctx };
    if let Some(e) = ctx.error.take() {
        ctx.error = Some(e.at_index(i));
    }
    STATUS_ERROR
}
