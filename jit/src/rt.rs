//! Runtime helpers called from generated code (`rt_*`). Each is `extern "C"`, never unwinds
//! (a panic is caught and turned into an error), and reports failure by storing the error in
//! the context and returning [`STATUS_ERROR`].

use std::panic::{AssertUnwindSafe, catch_unwind};

use bytes::Bytes;
use dynthrift_core::desc::{EnumDesc, OptionDesc};
use dynthrift_core::wire::ProtoWrite;
use dynthrift_core::wire::binary::{BinarySizer, BinaryWriter};
use dynthrift_core::wire::compact::{
    CompactReader, CompactSizer, CompactWriter, compact_code, varint_len, zigzag32, zigzag64,
};
use dynthrift_core::{Error, ErrorKind};
use dynthrift_interp::plan::{FieldPlan, Node, Presence};
use dynthrift_interp::run;

use crate::abi::{EncCtx, EncodeFn, STATUS_ERROR, STATUS_OK};

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

/// The writer and sizer of one protocol, for the helpers.
trait Proto {
    const BINARY: bool;
    fn write(
        out: &mut Vec<u8>,
        f: impl FnOnce(&mut dyn WriteAny) -> Result<(), Error>,
    ) -> Result<(), Error>;
    fn size(f: impl FnOnce(&mut dyn WriteAny) -> Result<(), Error>) -> Result<usize, Error>;
}

/// What the helpers do with a writer (object-safe).
trait WriteAny {
    fn binary(&mut self, b: &[u8]) -> Result<(), Error>;
    /// # Safety
    /// `p` is a live value of `node`'s representation.
    unsafe fn node(
        &mut self,
        plan: &dynthrift_interp::Plan,
        node: &Node,
        p: *const u8,
        depth: u32,
    ) -> Result<(), Error>;
}

impl<W: ProtoWrite> WriteAny for W {
    fn binary(&mut self, b: &[u8]) -> Result<(), Error> {
        self.write_binary(b)
    }
    unsafe fn node(
        &mut self,
        plan: &dynthrift_interp::Plan,
        node: &Node,
        p: *const u8,
        depth: u32,
    ) -> Result<(), Error> {
        // SAFETY: forwarded contract.
        unsafe { run::encode_node(plan, node, p, self, depth) }
    }
}

struct Bin;
struct Cpt;

impl Proto for Bin {
    const BINARY: bool = true;
    fn write(
        out: &mut Vec<u8>,
        f: impl FnOnce(&mut dyn WriteAny) -> Result<(), Error>,
    ) -> Result<(), Error> {
        f(&mut BinaryWriter::new(out))
    }
    fn size(f: impl FnOnce(&mut dyn WriteAny) -> Result<(), Error>) -> Result<usize, Error> {
        let mut s = BinarySizer::new();
        f(&mut s)?;
        Ok(s.len)
    }
}

impl Proto for Cpt {
    const BINARY: bool = false;
    fn write(
        out: &mut Vec<u8>,
        f: impl FnOnce(&mut dyn WriteAny) -> Result<(), Error>,
    ) -> Result<(), Error> {
        f(&mut CompactWriter::new(out))
    }
    fn size(f: impl FnOnce(&mut dyn WriteAny) -> Result<(), Error>) -> Result<usize, Error> {
        let mut s = CompactSizer::new();
        f(&mut s)?;
        Ok(s.len)
    }
}

fn write_str<P: Proto>(ctx: *mut EncCtx, p: *const u8, kind: i32) -> i32 {
    if P::BINARY {
        // SAFETY: generated code passes its live context (in write mode) and a field of the
        // representation it names.
        let (c, b) = unsafe { (&mut *ctx, str_bytes(p, kind)) };
        if b.len() <= i32::MAX as usize && c.cap - c.len >= 4 + b.len() {
            // SAFETY: the room was just checked; the context's buffer is the output's.
            unsafe {
                let dst = c.buf.add(c.len);
                std::ptr::copy_nonoverlapping((b.len() as u32).to_be_bytes().as_ptr(), dst, 4);
                std::ptr::copy_nonoverlapping(b.as_ptr(), dst.add(4), b.len());
            }
            c.len += 4 + b.len();
            return STATUS_OK;
        }
    } else {
        // SAFETY: as above.
        let (c, b) = unsafe { (&mut *ctx, str_bytes(p, kind)) };
        if b.len() <= i32::MAX as usize && c.cap - c.len >= 5 + b.len() {
            // SAFETY: room for the longest length varint and the bytes was just checked.
            unsafe {
                let dst = c.buf.add(c.len);
                let k = put_varint(b.len() as u64, dst);
                std::ptr::copy_nonoverlapping(b.as_ptr(), dst.add(k), b.len());
                c.len += k + b.len();
            }
            return STATUS_OK;
        }
    }
    guarded(ctx, |ctx| {
        // SAFETY: generated code passes a field of the representation it names.
        let b = unsafe { str_bytes(p, kind) };
        // SAFETY: write mode: `out` is the live output vector.
        unsafe { with_vec(ctx, |out| P::write(out, |w| w.binary(b))) }
    })
}

fn size_str<P: Proto>(ctx: *mut EncCtx, p: *const u8, kind: i32) -> i32 {
    if P::BINARY {
        // SAFETY: generated code passes its live context and a field of the representation
        // it names.
        let (c, n) = unsafe { (&mut *ctx, str_bytes(p, kind).len()) };
        if n <= i32::MAX as usize {
            c.len += 4 + n;
            return STATUS_OK;
        }
    } else {
        // SAFETY: as above.
        let (c, n) = unsafe { (&mut *ctx, str_bytes(p, kind).len()) };
        if n <= i32::MAX as usize {
            c.len += varint_len(n as u64) + n;
            return STATUS_OK;
        }
    }
    guarded(ctx, |ctx| {
        // SAFETY: generated code passes a field of the representation it names.
        let b = unsafe { str_bytes(p, kind) };
        ctx.len += P::size(|w| w.binary(b))?;
        Ok(())
    })
}

/// Encodes (or sizes) values the generated code hands over: containers walked here, mirroring
/// the interpreter's `encode_value` (same depth accounting and error paths), with every
/// compiled struct they hold encoded by its compiled function; leaves by the interpreter.
struct EncFast<'a, P> {
    ctx: *mut EncCtx,
    plan: &'a dynthrift_interp::Plan,
    fns: &'a [Option<(EncodeFn, EncodeFn)>],
    size: bool,
    _p: std::marker::PhantomData<P>,
}

impl<P: Proto> EncFast<'_, P> {
    /// Runs `f` on a writer (or sizer) of the output, kept in step with the context.
    fn emit(&self, f: impl FnOnce(&mut dyn WriteAny) -> Result<(), Error>) -> Result<(), Error> {
        // SAFETY: the context is live for the call; no other reference to it is held now.
        let c = unsafe { &mut *self.ctx };
        if self.size {
            c.len += P::size(f)?;
            Ok(())
        } else {
            // SAFETY: write mode: `out` is the live output vector.
            unsafe { with_vec(c, |out| P::write(out, f)) }
        }
    }

    /// # Safety
    /// `p` is a live value of `node`'s representation.
    unsafe fn value(&self, node: &Node, p: *const u8, depth: u32) -> Result<(), Error> {
        let compiled = |si: usize| self.fns.get(si).copied().flatten();
        // SAFETY: (whole body) `p` holds a value of `node`'s representation; containers are
        // read through their descriptors, as the interpreter does.
        unsafe {
            if P::BINARY
                && let Some(r) = self.bin_leaves(node, p, depth)
            {
                return r;
            }
            if !P::BINARY
                && let Some(r) = self.cpt_leaves(node, p, depth)
            {
                return r;
            }
            match node {
                // Containers of leaves: the interpreter writes them in one go.
                Node::List(elem, _) | Node::Set(elem, _) if is_leaf(elem) => {
                    self.emit(|w| w.node(self.plan, node, p, depth))
                }
                Node::Map(key, value, _) if is_leaf(key) && is_leaf(value) => {
                    self.emit(|w| w.node(self.plan, node, p, depth))
                }
                Node::Struct(si) if let Some(fs) = compiled(*si) => self.call(fs, p, depth),
                Node::Record(si)
                    if let Some(fs) = compiled(*si)
                        && !(*(p as *const *const u8)).is_null() =>
                {
                    self.call(fs, *(p as *const *const u8), depth)
                }
                Node::Boxed(inner, bd) => self.value(inner, (bd.get)(p), depth),
                Node::List(elem, SeqRepr::Std(sd)) => {
                    let depth = depth.checked_sub(1).ok_or_else(enc_depth_error)?;
                    let (base, len, stride) = ((sd.as_ptr)(p), (sd.len)(p), sd.elem_size);
                    self.header(&[elem.ttype()], len)?;
                    let e = self.elem(elem);
                    for i in 0..len {
                        self.elem_value(e, elem, base.add(i * stride), depth)
                            .map_err(|e| e.at_index(i))?;
                    }
                    Ok(())
                }
                Node::Set(elem, SetRepr::Std(sd)) => {
                    let depth = depth.checked_sub(1).ok_or_else(enc_depth_error)?;
                    self.header(&[elem.ttype()], (sd.len)(p))?;
                    let e = self.elem(elem);
                    let mut i = 0;
                    (sd.for_each)(p, &mut |x| {
                        let r = self
                            .elem_value(e, elem, x, depth)
                            .map_err(|err| err.at_index(i));
                        i += 1;
                        r
                    })
                }
                Node::Map(key, value, MapRepr::Std(md)) => {
                    let depth = depth.checked_sub(1).ok_or_else(enc_depth_error)?;
                    self.header(&[key.ttype(), value.ttype()], (md.len)(p))?;
                    let (ke, ve) = (self.elem(key), self.elem(value));
                    let mut i = 0;
                    (md.for_each)(p, &mut |k, v| {
                        self.elem_value(ke, key, k, depth)
                            .map_err(|e| e.push(PathSegment::KeyAt(i)))?;
                        self.elem_value(ve, value, v, depth)
                            .map_err(|e| e.push(run::key_segment(key, k, i)))?;
                        i += 1;
                        Ok(())
                    })
                }
                // IDL-only records' containers: raw vectors, in wire order.
                Node::List(elem, SeqRepr::Raw(el)) | Node::Set(elem, SetRepr::Raw(el)) => {
                    let depth = depth.checked_sub(1).ok_or_else(enc_depth_error)?;
                    let v = &*(p as *const RawVec);
                    self.header(&[elem.ttype()], v.len)?;
                    let e = self.elem(elem);
                    for i in 0..v.len {
                        self.elem_value(e, elem, v.ptr.add(i * el.size), depth)
                            .map_err(|e| e.at_index(i))?;
                    }
                    Ok(())
                }
                Node::Map(key, value, MapRepr::Raw { key: kl, value: vl }) => {
                    let depth = depth.checked_sub(1).ok_or_else(enc_depth_error)?;
                    let m = &*(p as *const RawMap);
                    self.header(&[key.ttype(), value.ttype()], m.keys.len)?;
                    let (ke, ve) = (self.elem(key), self.elem(value));
                    for i in 0..m.keys.len {
                        let k = m.keys.ptr.add(i * kl.size);
                        self.elem_value(ke, key, k, depth)
                            .map_err(|e| e.push(PathSegment::KeyAt(i)))?;
                        self.elem_value(ve, value, m.values.ptr.add(i * vl.size), depth)
                            .map_err(|e| e.push(run::key_segment(key, k, i)))?;
                    }
                    Ok(())
                }
                _ => self.emit(|w| w.node(self.plan, node, p, depth)),
            }
        }
    }

    /// A container header: the element type codes (list and set: one; map: two), then the
    /// count, written (or counted) straight into the context.
    fn header(&self, types: &[TType], n: usize) -> Result<(), Error> {
        if P::BINARY {
            // SAFETY: the context is live for the call; no other reference to it is held now.
            let c = unsafe { &mut *self.ctx };
            let codes: [u8; 2] = [types[0] as u8, types.get(1).map_or(0, |t| *t as u8)];
            return self.bin_header(c, &codes[..types.len()], n);
        }
        // Compact: a list and a set header are the same.
        let (h, len) = match types {
            [t] => cpt_list_header(compact_code(*t), n)?,
            [k, v] => cpt_map_header(compact_code(*k), compact_code(*v), n)?,
            _ => return Ok(()),
        };
        // SAFETY: the context is live for the call; no other reference to it is held now.
        let c = unsafe { &mut *self.ctx };
        if self.size {
            c.len += len;
        } else {
            // SAFETY: write mode.
            unsafe { put_bytes(c, &h[..len]) };
        }
        Ok(())
    }

    /// How elements of `node` are written: decided once per container.
    fn elem<'n>(&self, node: &'n Node) -> Elem<'n> {
        if P::BINARY
            && let Some(l) = BinLeaf::of(node)
        {
            return Elem::Leaf(l);
        }
        if !P::BINARY
            && let Some(l) = CptLeaf::of(node)
        {
            return Elem::CptLeaf(l);
        }
        match node {
            Node::Struct(si) => match self.fns.get(*si).copied().flatten() {
                Some(fs) => Elem::Compiled(fs),
                None => Elem::Other,
            },
            Node::Record(si) => match self.fns.get(*si).copied().flatten() {
                Some(fs) => Elem::CompiledRecord(fs),
                None => Elem::Other,
            },
            _ => Elem::Other,
        }
    }

    /// One element, as [`Self::elem`] decided.
    ///
    /// # Safety
    /// `p` is a live value of `node`'s representation.
    #[inline]
    unsafe fn elem_value(
        &self,
        e: Elem<'_>,
        node: &Node,
        p: *const u8,
        depth: u32,
    ) -> Result<(), Error> {
        // SAFETY: (whole body) the caller's contract; the context is live and not otherwise
        // borrowed now.
        unsafe {
            match e {
                Elem::Leaf(l) => {
                    let c = &mut *self.ctx;
                    if self.size {
                        c.len += l.size(p)?;
                        Ok(())
                    } else {
                        l.put_ctx(c, p)
                    }
                }
                Elem::CptLeaf(l) => {
                    let c = &mut *self.ctx;
                    if self.size {
                        c.len += l.size(p)?;
                        Ok(())
                    } else {
                        l.put_ctx(c, p)
                    }
                }
                Elem::Compiled(fs) => self.call(fs, p, depth),
                Elem::CompiledRecord(fs) => match *(p as *const *const u8) {
                    // An unset record: its empty value, as the interpreter writes it.
                    rec if rec.is_null() => self.value(node, p, depth),
                    rec => self.call(fs, rec, depth),
                },
                Elem::Other => self.value(node, p, depth),
            }
        }
    }

    /// Binary: a leaf, or a list, set or map of leaves, written (or sized) here in one
    /// monomorphic loop instead of the interpreter's walk; fixed-width runs are sized without
    /// looking at them. Same bytes, limits and errors as the interpreter. `None`: not such a
    /// value.
    ///
    /// # Safety
    /// `p` is a live value of `node`'s representation.
    unsafe fn bin_leaves(
        &self,
        node: &Node,
        p: *const u8,
        depth: u32,
    ) -> Option<Result<(), Error>> {
        // SAFETY: the context is live for the call; no other reference to it is held now.
        let c = unsafe { &mut *self.ctx };
        if let Some(leaf) = BinLeaf::of(node) {
            // SAFETY: `p` is a live leaf of that representation; write mode: `out` is the
            // live output vector.
            return Some(unsafe {
                if self.size {
                    leaf.size(p).map(|n| c.len += n)
                } else {
                    leaf.put_ctx(c, p)
                }
            });
        }
        let (t, count) = match node {
            // SAFETY: (these arms) `p` is the container the descriptor describes.
            Node::List(elem, SeqRepr::Std(sd)) => (BinLeaf::of(elem)?, unsafe { (sd.len)(p) }),
            Node::Set(elem, SetRepr::Std(sd)) => {
                // SAFETY: as above.
                (BinLeaf::of(elem)?, unsafe { (sd.len)(p) })
            }
            Node::List(elem, SeqRepr::Raw(_)) | Node::Set(elem, SetRepr::Raw(_)) => {
                // SAFETY: as above (a raw vector).
                (BinLeaf::of(elem)?, unsafe { (*(p as *const RawVec)).len })
            }
            Node::Map(key, value, MapRepr::Raw { key: kl, value: vl }) => {
                let (k, v) = (BinLeaf::of(key)?, BinLeaf::of(value)?);
                // SAFETY: as above (two raw vectors of equal length).
                let m = unsafe { &*(p as *const RawMap) };
                if depth == 0 {
                    return Some(Err(enc_depth_error()));
                }
                let header = [key.ttype() as u8, value.ttype() as u8];
                let (kl, vl) = (*kl, *vl);
                // SAFETY: `m.keys.len` live keys and values, `size` apart.
                return Some(unsafe {
                    self.bin_header(c, &header, m.keys.len).and_then(|()| {
                        self.bin_run(c, k, Some(v), Some(key), m.keys.len, |f| {
                            for i in 0..m.keys.len {
                                f(m.keys.ptr.add(i * kl.size), m.values.ptr.add(i * vl.size))?;
                            }
                            Ok(())
                        })
                    })
                });
            }
            Node::Map(key, value, MapRepr::Std(md)) => {
                let (k, v) = (BinLeaf::of(key)?, BinLeaf::of(value)?);
                // SAFETY: as above.
                let n = unsafe { (md.len)(p) };
                // A container takes one level of the budget (its leaves none).
                if depth == 0 {
                    return Some(Err(enc_depth_error()));
                }
                let header = [key.ttype() as u8, value.ttype() as u8];
                // SAFETY: as above; entries are live leaves of the key and value types.
                return Some(unsafe {
                    self.bin_header(c, &header, n).and_then(|()| {
                        self.bin_run(c, k, Some(v), Some(key), n, |f| {
                            (md.for_each)(p, &mut |a, b| f(a, b))
                        })
                    })
                });
            }
            _ => return None,
        };
        if depth == 0 {
            return Some(Err(enc_depth_error()));
        }
        let elem_t = match node {
            Node::List(elem, _) | Node::Set(elem, _) => elem.ttype() as u8,
            _ => return None,
        };
        // SAFETY: as above; elements are live leaves of the element type.
        Some(unsafe {
            self.bin_header(c, &[elem_t], count).and_then(|()| {
                self.bin_run(c, t, None, None, count, |f| match node {
                    Node::List(_, SeqRepr::Std(sd)) => {
                        let (base, stride) = ((sd.as_ptr)(p), sd.elem_size);
                        for i in 0..count {
                            f(base.add(i * stride), std::ptr::null())?;
                        }
                        Ok(())
                    }
                    Node::Set(_, SetRepr::Std(sd)) => {
                        (sd.for_each)(p, &mut |e| f(e, std::ptr::null()))
                    }
                    Node::List(_, SeqRepr::Raw(el)) | Node::Set(_, SetRepr::Raw(el)) => {
                        let v = &*(p as *const RawVec);
                        for i in 0..count {
                            f(v.ptr.add(i * el.size), std::ptr::null())?;
                        }
                        Ok(())
                    }
                    _ => Ok(()),
                })
            })
        })
    }

    /// Writes (or sizes) a container header: `types` then the count.
    fn bin_header(&self, c: &mut EncCtx, types: &[u8], n: usize) -> Result<(), Error> {
        if n > i32::MAX as usize {
            return Err(too_long(n));
        }
        if self.size {
            c.len += types.len() + 4;
            return Ok(());
        }
        // SAFETY: write mode: `out` is the live output vector.
        unsafe {
            with_vec(c, |out| {
                out.extend_from_slice(types);
                out.extend_from_slice(&(n as i32).to_be_bytes());
                Ok(())
            })
        }
    }

    /// Writes (or sizes) `n` leaves (pairs when `second` is set: a map whose key node is
    /// `map_key`) that `each` visits; errors get the interpreter's path segments.
    ///
    /// # Safety
    /// `each` hands over live values of the leaves' representations.
    unsafe fn bin_run(
        &self,
        c: &mut EncCtx,
        first: BinLeaf<'_>,
        second: Option<BinLeaf<'_>>,
        map_key: Option<&Node>,
        n: usize,
        each: impl FnOnce(
            &mut dyn FnMut(*const u8, *const u8) -> Result<(), Error>,
        ) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let fixed = first.width().zip(second.map_or(Some(0), |s| s.width()));
        if self.size {
            if let Some((a, b)) = fixed {
                c.len += n * (a + b);
                return Ok(());
            }
            let (mut total, mut i) = (0usize, 0usize);
            each(&mut |x, y| {
                // SAFETY: the caller's contract.
                unsafe {
                    total += first
                        .size(x)
                        .map_err(|e| leaf_path(e, map_key, x, i, false))?;
                    if let Some(s) = second {
                        total += s.size(y).map_err(|e| leaf_path(e, map_key, x, i, true))?;
                    }
                }
                i += 1;
                Ok(())
            })?;
            c.len += total;
            return Ok(());
        }
        if let Some((a, b)) = fixed {
            let need = n * (a + b);
            if c.cap - c.len < need {
                // SAFETY: write mode: `out` is the live output vector.
                unsafe {
                    with_vec(c, |out| {
                        out.reserve(need);
                        Ok(())
                    })?
                };
            }
        }
        // Straight into the context's buffer, the vector only when it must grow.
        let mut i = 0usize;
        each(&mut |x, y| {
            // SAFETY: the caller's contract; write mode: the context's buffer is the output's.
            unsafe {
                first
                    .put_ctx(c, x)
                    .map_err(|e| leaf_path(e, map_key, x, i, false))?;
                if let Some(s) = second {
                    s.put_ctx(c, y)
                        .map_err(|e| leaf_path(e, map_key, x, i, true))?;
                }
            }
            i += 1;
            Ok(())
        })
    }

    /// Runs a compiled struct encoder (or sizer) on the value at `p`.
    ///
    /// # Safety
    /// `fs` was compiled for the struct at `p`.
    unsafe fn call(&self, fs: (EncodeFn, EncodeFn), p: *const u8, depth: u32) -> Result<(), Error> {
        let f = if self.size { fs.1 } else { fs.0 };
        // SAFETY: the context is live and in step with the output (helpers re-sync after
        // every write); compiled from this plan for the struct at `p`.
        let st = unsafe { f(self.ctx, p, depth) };
        if st == STATUS_OK {
            return Ok(());
        }
        // SAFETY: as above.
        let e = unsafe { (*self.ctx).error.take() };
        Err(e.unwrap_or_else(|| Error::encode(ErrorKind::InvalidValue, "compiled encoder failed")))
    }
}

/// How the elements of a container are written.
#[derive(Clone, Copy)]
enum Elem<'a> {
    /// Binary leaves, written here.
    Leaf(BinLeaf<'a>),
    /// Compact leaves, written here.
    CptLeaf(CptLeaf<'a>),
    /// Structs with compiled code.
    Compiled((EncodeFn, EncodeFn)),
    /// IDL-only records (a pointer to the record) with compiled code.
    CompiledRecord((EncodeFn, EncodeFn)),
    /// Anything else: [`EncFast::value`].
    Other,
}

/// A leaf value of a container: what it is and how it is held (as [`BinLeaf`] and
/// [`CptLeaf`], how each protocol writes it).
#[derive(Clone, Copy)]
enum Leaf<'a> {
    Bool,
    I8,
    I16,
    I32,
    I64,
    Double,
    Uuid,
    Enum(&'a EnumDesc),
    /// A string or binary of this representation (`STR_*`).
    Str(i32),
}

impl<'a> Leaf<'a> {
    fn of(node: &'a Node) -> Option<Leaf<'a>> {
        Some(match node {
            Node::Bool => Leaf::Bool,
            Node::I8 => Leaf::I8,
            Node::I16 => Leaf::I16,
            Node::I32 | Node::Enum(EnumRepr::Open) => Leaf::I32,
            Node::I64 => Leaf::I64,
            Node::Double => Leaf::Double,
            Node::Uuid => Leaf::Uuid,
            Node::Enum(EnumRepr::Rust(ed)) => Leaf::Enum(ed),
            Node::String(_) | Node::Binary(_) => Leaf::Str(crate::lower::str_kind(node)),
            _ => return None,
        })
    }
}

/// A leaf value as the Binary protocol writes it.
#[derive(Clone, Copy)]
struct BinLeaf<'a>(Leaf<'a>);

/// The interpreter's path segment for a failed element `i` of a container: an index, a map
/// key's position, or (`is_value`) the key `k` of a map value.
#[cold]
#[inline(never)]
fn leaf_path(e: Error, map_key: Option<&Node>, k: *const u8, i: usize, is_value: bool) -> Error {
    match map_key {
        None => e.at_index(i),
        Some(_) if !is_value => e.push(PathSegment::KeyAt(i)),
        // SAFETY: `k` is the live key of the entry that failed.
        Some(key) => e.push(unsafe { run::key_segment(key, k, i) }),
    }
}

#[cold]
#[inline(never)]
fn too_long(n: usize) -> Error {
    // The interpreter's writer reports lengths over `i32::MAX` the same way.
    let mut probe = BinarySizer::new();
    match probe.write_list_begin(TType::I32, n) {
        Err(e) => e,
        Ok(()) => Error::encode(ErrorKind::LengthLimit, format!("length {n} over i32")),
    }
}

impl<'a> BinLeaf<'a> {
    fn of(node: &'a Node) -> Option<BinLeaf<'a>> {
        Leaf::of(node).map(BinLeaf)
    }

    fn width(self) -> Option<usize> {
        Some(match self.0 {
            Leaf::Bool | Leaf::I8 => 1,
            Leaf::I16 => 2,
            Leaf::I32 | Leaf::Enum(_) => 4,
            Leaf::I64 | Leaf::Double => 8,
            Leaf::Uuid => 16,
            Leaf::Str(_) => return None,
        })
    }

    /// # Safety
    /// `p` is a live value of this leaf's representation.
    #[inline]
    unsafe fn size(self, p: *const u8) -> Result<usize, Error> {
        match self.0 {
            Leaf::Str(kind) => {
                // SAFETY: the caller's contract.
                let n = unsafe { str_bytes(p, kind) }.len();
                if n > i32::MAX as usize {
                    return Err(too_long(n));
                }
                Ok(4 + n)
            }
            _ => Ok(self.width().unwrap_or(0)),
        }
    }

    /// The fixed-width encoding of the leaf at `p` (`None` for strings and binaries).
    ///
    /// # Safety
    /// `p` is a live value of this leaf's representation.
    #[inline]
    unsafe fn fixed(self, p: *const u8) -> Option<([u8; 16], usize)> {
        let mut a = [0u8; 16];
        let mut put = |b: &[u8]| {
            a[..b.len()].copy_from_slice(b);
            b.len()
        };
        // SAFETY: (whole body) the caller's contract.
        let n = unsafe {
            match self.0 {
                Leaf::Bool => put(&[*(p as *const bool) as u8]),
                Leaf::I8 => put(&[*(p as *const i8) as u8]),
                Leaf::I16 => put(&(*(p as *const i16)).to_be_bytes()),
                Leaf::I32 => put(&(*(p as *const i32)).to_be_bytes()),
                Leaf::I64 => put(&(*(p as *const i64)).to_be_bytes()),
                Leaf::Double => put(&(*(p as *const f64)).to_bits().to_be_bytes()),
                Leaf::Uuid => put(&*(p as *const [u8; 16])),
                Leaf::Enum(ed) => put(&(ed.to_i32)(p).to_be_bytes()),
                Leaf::Str(_) => return None,
            }
        };
        Some((a, n))
    }

    /// Writes the leaf at `p` straight into the context's buffer when it has room (else
    /// through the output vector, which grows).
    ///
    /// # Safety
    /// `p` is a live value of this leaf's representation; `c` is a write-mode context.
    #[inline]
    unsafe fn put_ctx(self, c: &mut EncCtx, p: *const u8) -> Result<(), Error> {
        let room = c.cap - c.len;
        match self.0 {
            Leaf::Str(kind) => {
                // SAFETY: the caller's contract.
                let b = unsafe { str_bytes(p, kind) };
                if b.len() <= i32::MAX as usize && room >= 4 + b.len() {
                    // SAFETY: room checked; the context's buffer is the output's.
                    unsafe {
                        let dst = c.buf.add(c.len);
                        let n = (b.len() as u32).to_be_bytes();
                        std::ptr::copy_nonoverlapping(n.as_ptr(), dst, 4);
                        std::ptr::copy_nonoverlapping(b.as_ptr(), dst.add(4), b.len());
                    }
                    c.len += 4 + b.len();
                    return Ok(());
                }
            }
            _ if room >= 16 => {
                // SAFETY: the caller's contract.
                if let Some((a, n)) = unsafe { self.fixed(p) } {
                    // SAFETY: room for 16 bytes checked; only the first `n` count.
                    unsafe { std::ptr::copy_nonoverlapping(a.as_ptr(), c.buf.add(c.len), 16) };
                    c.len += n;
                    return Ok(());
                }
            }
            _ => {}
        }
        // SAFETY: write mode: `out` is the live output vector; `p` as above.
        unsafe { with_vec(c, |out| self.put(p, out)) }
    }

    /// # Safety
    /// `p` is a live value of this leaf's representation.
    #[inline]
    unsafe fn put(self, p: *const u8, out: &mut Vec<u8>) -> Result<(), Error> {
        // SAFETY: (whole body) the caller's contract.
        unsafe {
            match self.0 {
                Leaf::Bool => out.push(*(p as *const bool) as u8),
                Leaf::I8 => out.push(*(p as *const i8) as u8),
                Leaf::I16 => out.extend_from_slice(&(*(p as *const i16)).to_be_bytes()),
                Leaf::I32 => out.extend_from_slice(&(*(p as *const i32)).to_be_bytes()),
                Leaf::I64 => out.extend_from_slice(&(*(p as *const i64)).to_be_bytes()),
                Leaf::Double => {
                    out.extend_from_slice(&(*(p as *const f64)).to_bits().to_be_bytes())
                }
                Leaf::Uuid => out.extend_from_slice(&*(p as *const [u8; 16])),
                Leaf::Enum(ed) => out.extend_from_slice(&(ed.to_i32)(p).to_be_bytes()),
                Leaf::Str(kind) => {
                    let b = str_bytes(p, kind);
                    if b.len() > i32::MAX as usize {
                        return Err(too_long(b.len()));
                    }
                    out.reserve(4 + b.len());
                    out.extend_from_slice(&(b.len() as i32).to_be_bytes());
                    out.extend_from_slice(b);
                }
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Compact leaves: lists, sets and maps of leaves written (or sized) here in one loop each,
// straight into the context's buffer, with the bytes of `CompactWriter` (zigzag varints,
// little-endian doubles, bools as 1/2, short list headers, map headers with both type codes).

/// A leaf value as the Compact protocol writes it.
#[derive(Clone, Copy)]
struct CptLeaf<'a>(Leaf<'a>);

/// Writes `v` as a varint at `dst` (room for 10 bytes); returns its length.
///
/// # Safety
/// `dst` has room for `varint_len(v)` bytes.
#[inline(always)]
unsafe fn put_varint(mut v: u64, dst: *mut u8) -> usize {
    let mut i = 0;
    while v >= 0x80 {
        // SAFETY: the caller's contract (one byte per 7 bits).
        unsafe { *dst.add(i) = (v as u8) | 0x80 };
        v >>= 7;
        i += 1;
    }
    // SAFETY: as above.
    unsafe { *dst.add(i) = v as u8 };
    i + 1
}

/// Appends `b` at the context's length (the output grows when there is no room).
///
/// # Safety
/// `c` is a write-mode context.
#[inline]
unsafe fn put_bytes(c: &mut EncCtx, b: &[u8]) {
    if c.cap - c.len >= b.len() {
        // SAFETY: room checked; the context's buffer is the output's.
        unsafe { std::ptr::copy_nonoverlapping(b.as_ptr(), c.buf.add(c.len), b.len()) };
        c.len += b.len();
        return;
    }
    // SAFETY: the caller's contract.
    let _ = unsafe {
        with_vec(c, |out| {
            out.extend_from_slice(b);
            Ok(())
        })
    };
}

/// A list or set header (`n` elements of Compact type `code`), as `write_list_begin`.
fn cpt_list_header(code: u8, n: usize) -> Result<([u8; 6], usize), Error> {
    let mut h = [0u8; 6];
    if n <= 14 {
        h[0] = ((n as u8) << 4) | code;
        return Ok((h, 1));
    }
    if n > i32::MAX as usize {
        return Err(too_long(n));
    }
    h[0] = 0xf0 | code;
    // SAFETY: five bytes of room for a varint of at most 31 bits.
    let k = unsafe { put_varint(n as u64, h.as_mut_ptr().add(1)) };
    Ok((h, 1 + k))
}

/// A map header, as `write_map_begin`: one zero byte when empty, else the count then the key
/// and value type codes.
fn cpt_map_header(k: u8, v: u8, n: usize) -> Result<([u8; 6], usize), Error> {
    let mut h = [0u8; 6];
    if n == 0 {
        return Ok((h, 1));
    }
    if n > i32::MAX as usize {
        return Err(too_long(n));
    }
    // SAFETY: five bytes of room for a varint of at most 31 bits.
    let len = unsafe { put_varint(n as u64, h.as_mut_ptr()) };
    h[len] = (k << 4) | v;
    Ok((h, len + 1))
}

impl<'a> CptLeaf<'a> {
    fn of(node: &'a Node) -> Option<CptLeaf<'a>> {
        Leaf::of(node).map(CptLeaf)
    }

    /// Bytes of every value, when that does not depend on the value.
    fn width(self) -> Option<usize> {
        match self.0 {
            Leaf::Bool | Leaf::I8 => Some(1),
            Leaf::Double => Some(8),
            Leaf::Uuid => Some(16),
            _ => None,
        }
    }

    /// # Safety
    /// `p` is a live value of this leaf's representation.
    #[inline]
    unsafe fn size(self, p: *const u8) -> Result<usize, Error> {
        // SAFETY: (whole body) the caller's contract.
        unsafe {
            Ok(match self.0 {
                Leaf::Bool | Leaf::I8 => 1,
                Leaf::Double => 8,
                Leaf::Uuid => 16,
                Leaf::I16 => varint_len(zigzag32(*(p as *const i16) as i32) as u64),
                Leaf::I32 => varint_len(zigzag32(*(p as *const i32)) as u64),
                Leaf::Enum(ed) => varint_len(zigzag32((ed.to_i32)(p)) as u64),
                Leaf::I64 => varint_len(zigzag64(*(p as *const i64))),
                Leaf::Str(kind) => {
                    let n = str_bytes(p, kind).len();
                    if n > i32::MAX as usize {
                        return Err(too_long(n));
                    }
                    varint_len(n as u64) + n
                }
            })
        }
    }

    /// Writes a value that is not a string or binary at `dst` (room for 16 bytes); returns
    /// its length. Strings and binaries: 0, nothing written.
    ///
    /// # Safety
    /// `p` is a live value of this leaf's representation; `dst` has room for 16 bytes.
    #[inline(always)]
    unsafe fn put_raw(self, p: *const u8, dst: *mut u8) -> usize {
        // SAFETY: (whole body) the caller's contract; unaligned stores into the output.
        unsafe {
            match self.0 {
                // 1 true, 2 false, as `write_bool` outside a field header.
                Leaf::Bool => {
                    *dst = 2 - *(p as *const bool) as u8;
                    1
                }
                Leaf::I8 => {
                    *dst = *p;
                    1
                }
                Leaf::I16 => put_varint(zigzag32(*(p as *const i16) as i32) as u64, dst),
                Leaf::I32 => put_varint(zigzag32(*(p as *const i32)) as u64, dst),
                Leaf::Enum(ed) => put_varint(zigzag32((ed.to_i32)(p)) as u64, dst),
                Leaf::I64 => put_varint(zigzag64(*(p as *const i64)), dst),
                Leaf::Double => {
                    (dst as *mut [u8; 8])
                        .write_unaligned((*(p as *const f64)).to_bits().to_le_bytes());
                    8
                }
                Leaf::Uuid => {
                    std::ptr::copy_nonoverlapping(p, dst, 16);
                    16
                }
                Leaf::Str(_) => 0,
            }
        }
    }

    /// Writes the leaf at `p` into the context's buffer (which grows when needed).
    ///
    /// # Safety
    /// `p` is a live value of this leaf's representation; `c` is a write-mode context.
    #[inline]
    unsafe fn put_ctx(self, c: &mut EncCtx, p: *const u8) -> Result<(), Error> {
        // SAFETY: (whole body) the caller's contract; room is checked before every store.
        unsafe {
            if let Leaf::Str(kind) = self.0 {
                let b = str_bytes(p, kind);
                if b.len() > i32::MAX as usize {
                    return Err(too_long(b.len()));
                }
                if c.cap - c.len >= 5 + b.len() {
                    let dst = c.buf.add(c.len);
                    let k = put_varint(b.len() as u64, dst);
                    std::ptr::copy_nonoverlapping(b.as_ptr(), dst.add(k), b.len());
                    c.len += k + b.len();
                    return Ok(());
                }
                let mut h = [0u8; 5];
                let k = put_varint(b.len() as u64, h.as_mut_ptr());
                return with_vec(c, |out| {
                    out.reserve(k + b.len());
                    out.extend_from_slice(&h[..k]);
                    out.extend_from_slice(b);
                    Ok(())
                });
            }
            if c.cap - c.len >= 16 {
                c.len += self.put_raw(p, c.buf.add(c.len));
            } else {
                // Near the end of an exactly sized buffer: no more than the value's bytes.
                let mut a = [0u8; 16];
                let n = self.put_raw(p, a.as_mut_ptr());
                put_bytes(c, &a[..n]);
            }
            Ok(())
        }
    }
}

/// Writes (`size`: sizes) `n` leaves of a vector at `base + i * stride`: for values that are
/// not strings, one loop per kind writing runs straight into the buffer, a run as long as the
/// room left allows for values of the largest size (so an exactly sized buffer never grows).
///
/// # Safety
/// `base` holds `n` live values of `leaf`'s representation, `stride` bytes apart; `c` is a
/// write-mode context unless `size`.
unsafe fn cpt_seq(
    c: &mut EncCtx,
    leaf: CptLeaf<'_>,
    base: *const u8,
    n: usize,
    stride: usize,
    size: bool,
) -> Result<(), Error> {
    /// # Safety
    /// As `cpt_seq`, write mode; `put` writes at most `max` bytes.
    #[inline(always)]
    unsafe fn run(
        c: &mut EncCtx,
        base: *const u8,
        n: usize,
        stride: usize,
        max: usize,
        put: impl Fn(*const u8, *mut u8) -> usize,
    ) {
        let mut i = 0;
        while i < n {
            let room = (c.cap - c.len) / max;
            if room == 0 {
                // SAFETY: the caller's contract.
                unsafe {
                    let mut a = [0u8; 16];
                    let k = put(base.add(i * stride), a.as_mut_ptr());
                    put_bytes(c, &a[..k]);
                }
                i += 1;
                continue;
            }
            let end = n.min(i + room);
            // SAFETY: room for `end - i` values of at most `max` bytes; values as above.
            unsafe {
                let mut dst = c.buf.add(c.len);
                let start = dst;
                while i < end {
                    dst = dst.add(put(base.add(i * stride), dst));
                    i += 1;
                }
                c.len += dst.offset_from(start) as usize;
            }
        }
    }
    /// # Safety
    /// `base` holds `n` live values for `len`, `stride` bytes apart.
    #[inline(always)]
    unsafe fn total(
        base: *const u8,
        n: usize,
        stride: usize,
        len: impl Fn(*const u8) -> usize,
    ) -> usize {
        // SAFETY: the caller's contract.
        (0..n).map(|i| len(unsafe { base.add(i * stride) })).sum()
    }
    // SAFETY: (whole body) the caller's contract; the closures read values of the leaf's
    // representation and write within the room `run` checked.
    unsafe {
        if size {
            c.len += match leaf.0 {
                Leaf::Str(_) => {
                    let mut t = 0;
                    for i in 0..n {
                        t += leaf.size(base.add(i * stride)).map_err(|e| e.at_index(i))?;
                    }
                    t
                }
                Leaf::I16 => total(base, n, stride, |p| {
                    varint_len(zigzag32(*(p as *const i16) as i32) as u64)
                }),
                Leaf::I32 => total(base, n, stride, |p| {
                    varint_len(zigzag32(*(p as *const i32)) as u64)
                }),
                Leaf::I64 => total(base, n, stride, |p| {
                    varint_len(zigzag64(*(p as *const i64)))
                }),
                Leaf::Enum(ed) => total(base, n, stride, |p| {
                    varint_len(zigzag32((ed.to_i32)(p)) as u64)
                }),
                _ => n * leaf.width().unwrap_or(0),
            };
            return Ok(());
        }
        match leaf.0 {
            Leaf::Str(_) => {
                for i in 0..n {
                    leaf.put_ctx(c, base.add(i * stride))
                        .map_err(|e| e.at_index(i))?;
                }
            }
            Leaf::Bool => run(c, base, n, stride, 1, |p, d| {
                *d = 2 - *(p as *const bool) as u8;
                1
            }),
            Leaf::I8 => run(c, base, n, stride, 1, |p, d| {
                *d = *p;
                1
            }),
            Leaf::I16 => run(c, base, n, stride, 3, |p, d| {
                put_varint(zigzag32(*(p as *const i16) as i32) as u64, d)
            }),
            Leaf::I32 => run(c, base, n, stride, 5, |p, d| {
                put_varint(zigzag32(*(p as *const i32)) as u64, d)
            }),
            Leaf::Enum(ed) => run(c, base, n, stride, 5, |p, d| {
                put_varint(zigzag32((ed.to_i32)(p)) as u64, d)
            }),
            Leaf::I64 => run(c, base, n, stride, 10, |p, d| {
                put_varint(zigzag64(*(p as *const i64)), d)
            }),
            Leaf::Double => run(c, base, n, stride, 8, |p, d| {
                (d as *mut [u8; 8]).write_unaligned((*(p as *const f64)).to_bits().to_le_bytes());
                8
            }),
            Leaf::Uuid => run(c, base, n, stride, 16, |p, d| {
                std::ptr::copy_nonoverlapping(p, d, 16);
                16
            }),
        }
        Ok(())
    }
}

impl<P: Proto> EncFast<'_, P> {
    /// Compact: a leaf, or a list, set or map of leaves, written (or sized) here instead of
    /// the interpreter's walk: the same bytes, limits, errors and paths. `None`: not such a
    /// value.
    ///
    /// # Safety
    /// `p` is a live value of `node`'s representation.
    unsafe fn cpt_leaves(
        &self,
        node: &Node,
        p: *const u8,
        depth: u32,
    ) -> Option<Result<(), Error>> {
        // SAFETY: the context is live for the call; no other reference to it is held now.
        let c = unsafe { &mut *self.ctx };
        let size = self.size;
        if let Some(leaf) = CptLeaf::of(node) {
            // SAFETY: `p` is a live leaf of that representation.
            return Some(unsafe {
                if size {
                    leaf.size(p).map(|n| c.len += n)
                } else {
                    leaf.put_ctx(c, p)
                }
            });
        }
        let header = |c: &mut EncCtx, h: Result<([u8; 6], usize), Error>| {
            let (h, n) = h?;
            if size {
                c.len += n;
            } else {
                // SAFETY: write mode.
                unsafe { put_bytes(c, &h[..n]) };
            }
            Ok::<(), Error>(())
        };
        match node {
            Node::List(elem, repr) => {
                let leaf = CptLeaf::of(elem)?;
                if depth == 0 {
                    return Some(Err(enc_depth_error()));
                }
                // SAFETY: `p` is the container its representation describes.
                let (base, n, stride) = unsafe {
                    match repr {
                        SeqRepr::Std(sd) => ((sd.as_ptr)(p), (sd.len)(p), sd.elem_size),
                        SeqRepr::Raw(el) => {
                            let v = &*(p as *const RawVec);
                            (v.ptr as *const u8, v.len, el.size)
                        }
                    }
                };
                let code = compact_code(elem.ttype());
                Some(
                    header(c, cpt_list_header(code, n))
                        // SAFETY: `n` live elements at `base`, `stride` apart.
                        .and_then(|()| unsafe { cpt_seq(c, leaf, base, n, stride, size) }),
                )
            }
            Node::Set(elem, repr) => {
                let leaf = CptLeaf::of(elem)?;
                if depth == 0 {
                    return Some(Err(enc_depth_error()));
                }
                let code = compact_code(elem.ttype());
                Some(match repr {
                    SetRepr::Std(sd) => {
                        // SAFETY: `p` is the set its descriptor describes.
                        let n = unsafe { (sd.len)(p) };
                        header(c, cpt_list_header(code, n)).and_then(|()| {
                            if size && let Some(w) = leaf.width() {
                                c.len += n * w;
                                return Ok(());
                            }
                            let mut i = 0;
                            // SAFETY: the set hands over live elements.
                            unsafe {
                                (sd.for_each)(p, &mut |e| {
                                    let r = if size {
                                        leaf.size(e).map(|k| c.len += k)
                                    } else {
                                        leaf.put_ctx(c, e)
                                    };
                                    let r = r.map_err(|err| err.at_index(i));
                                    i += 1;
                                    r
                                })
                            }
                        })
                    }
                    SetRepr::Raw(el) => {
                        // SAFETY: `p` is a raw vector of the set's elements.
                        let v = unsafe { &*(p as *const RawVec) };
                        header(c, cpt_list_header(code, v.len)).and_then(|()| {
                            // SAFETY: `v.len` live elements, `el.size` apart.
                            unsafe { cpt_seq(c, leaf, v.ptr, v.len, el.size, size) }
                        })
                    }
                })
            }
            Node::Map(key, value, repr) => {
                let (kl, vl) = (CptLeaf::of(key)?, CptLeaf::of(value)?);
                if depth == 0 {
                    return Some(Err(enc_depth_error()));
                }
                let (kc, vc) = (compact_code(key.ttype()), compact_code(value.ttype()));
                // One entry: key then value, errors with the interpreter's path segments.
                let entry = |c: &mut EncCtx, k: *const u8, v: *const u8, i: usize| {
                    // SAFETY: `k` and `v` are a live entry of the map.
                    unsafe {
                        if size {
                            c.len += kl
                                .size(k)
                                .map_err(|e| leaf_path(e, Some(key), k, i, false))?;
                            c.len += vl
                                .size(v)
                                .map_err(|e| leaf_path(e, Some(key), k, i, true))?;
                        } else {
                            kl.put_ctx(c, k)
                                .map_err(|e| leaf_path(e, Some(key), k, i, false))?;
                            vl.put_ctx(c, v)
                                .map_err(|e| leaf_path(e, Some(key), k, i, true))?;
                        }
                    }
                    Ok::<(), Error>(())
                };
                Some(match repr {
                    MapRepr::Std(md) => {
                        // SAFETY: `p` is the map its descriptor describes.
                        let n = unsafe { (md.len)(p) };
                        header(c, cpt_map_header(kc, vc, n)).and_then(|()| {
                            if size && let (Some(a), Some(b)) = (kl.width(), vl.width()) {
                                c.len += n * (a + b);
                                return Ok(());
                            }
                            let mut i = 0;
                            // SAFETY: the map hands over live entries.
                            unsafe {
                                (md.for_each)(p, &mut |k, v| {
                                    entry(c, k, v, i)?;
                                    i += 1;
                                    Ok(())
                                })
                            }
                        })
                    }
                    MapRepr::Raw { key: ka, value: va } => {
                        // SAFETY: `p` is a raw map of the entries.
                        let m = unsafe { &*(p as *const RawMap) };
                        let n = m.keys.len;
                        header(c, cpt_map_header(kc, vc, n)).and_then(|()| {
                            for i in 0..n {
                                // SAFETY: `n` live keys and values in the two vectors.
                                let (k, v) = unsafe {
                                    (
                                        m.keys.ptr.add(i * ka.size) as *const u8,
                                        m.values.ptr.add(i * va.size) as *const u8,
                                    )
                                };
                                entry(c, k, v, i)?;
                            }
                            Ok(())
                        })
                    }
                })
            }
            _ => None,
        }
    }
}

/// Values with no struct inside (nothing compiled to call back into).
fn is_leaf(node: &Node) -> bool {
    matches!(
        node,
        Node::Bool
            | Node::I8
            | Node::I16
            | Node::I32
            | Node::I64
            | Node::Double
            | Node::Uuid
            | Node::String(_)
            | Node::Binary(_)
            | Node::Enum(_)
    )
}

/// Values the decoder reads with `Fast::leaf`: scalars, open enums (any i32), strings and
/// binaries. Rust enums are not: their values are checked against the variants.
fn is_dec_leaf(node: &Node) -> bool {
    matches!(
        node,
        Node::Bool
            | Node::I8
            | Node::I16
            | Node::I32
            | Node::Enum(EnumRepr::Open)
            | Node::I64
            | Node::Double
            | Node::Uuid
            | Node::String(_)
            | Node::Binary(_)
    )
}

fn enc_depth_error() -> Error {
    Error::encode(ErrorKind::DepthLimit, "nesting too deep")
}

fn enc_node<P: Proto>(
    ctx: *mut EncCtx,
    node: *const Node,
    p: *const u8,
    depth: u32,
    size: i32,
) -> i32 {
    // Not `guarded`: compiled code called from inside needs the context too, so no
    // reference to it lives across the call.
    let r = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: generated code passes its live context; the plan and function table it
        // names outlive the call; `node` points into the plan.
        let (fast, node) = unsafe {
            let c = &*ctx;
            (
                EncFast::<P> {
                    ctx,
                    plan: &*c.plan,
                    fns: if c.fns.is_null() {
                        &[]
                    } else {
                        std::slice::from_raw_parts(c.fns, c.fns_len)
                    },
                    size: size != 0,
                    _p: std::marker::PhantomData,
                },
                &*node,
            )
        };
        // SAFETY: generated code passes the value the node describes.
        unsafe { fast.value(node, p, depth) }
    }));
    // SAFETY: no other reference to the context is live now.
    let c = unsafe { &mut *ctx };
    match r {
        Ok(Ok(())) => STATUS_OK,
        Ok(Err(e)) => fail(c, e),
        Err(_) => fail(
            c,
            Error::encode(ErrorKind::InvalidValue, "a helper panicked"),
        ),
    }
}

/// Writes a length-prefixed string or binary (Binary).
pub extern "C" fn rt_write_str(ctx: *mut EncCtx, p: *const u8, kind: i32) -> i32 {
    write_str::<Bin>(ctx, p, kind)
}

/// [`rt_write_str`]'s work after the Binary field header it writes first, both through the
/// protocol's writer (the string's slow path: no room, or a form read by no probe): `arg`
/// holds the representation (bits 0 to 7), the header's type code (bits 8 to 15) and its id
/// (bits 16 to 31; see [`field_str_arg`]).
pub extern "C" fn rt_write_field_str(ctx: *mut EncCtx, p: *const u8, arg: i32) -> i32 {
    let arg = arg as u32;
    guarded(ctx, |ctx| {
        let ttype = TType::from_u8((arg >> 8) as u8)
            .ok_or_else(|| Error::schema("internal error: a field header without a type"))?;
        let id = (arg >> 16) as u16 as i16;
        // SAFETY: generated code passes a field of the representation it names.
        let b = unsafe { str_bytes(p, (arg & 0xff) as i32) };
        // SAFETY: write mode: `out` is the live output vector.
        unsafe {
            with_vec(ctx, |out| {
                let mut w = BinaryWriter::new(out);
                w.write_field_begin(ttype, id);
                w.write_binary(b)
            })
        }
    })
}

/// The argument of [`rt_write_field_str`]: representation `kind`, field type code `ttype`
/// and id `id`.
pub fn field_str_arg(kind: i32, ttype: u8, id: i16) -> i32 {
    (kind as u32 & 0xff | (ttype as u32) << 8 | (id as u16 as u32) << 16) as i32
}

/// Adds the size of a length-prefixed string or binary (Binary).
pub extern "C" fn rt_size_str(ctx: *mut EncCtx, p: *const u8, kind: i32) -> i32 {
    size_str::<Bin>(ctx, p, kind)
}

/// Writes (`size == 0`) or sizes (`size != 0`) any value with the interpreter (Binary).
pub extern "C" fn rt_node(
    ctx: *mut EncCtx,
    n: *const Node,
    p: *const u8,
    depth: u32,
    size: i32,
) -> i32 {
    enc_node::<Bin>(ctx, n, p, depth, size)
}

/// [`rt_write_str`] in Compact.
pub extern "C" fn rt_cwrite_str(ctx: *mut EncCtx, p: *const u8, kind: i32) -> i32 {
    write_str::<Cpt>(ctx, p, kind)
}

/// [`rt_size_str`] in Compact.
pub extern "C" fn rt_csize_str(ctx: *mut EncCtx, p: *const u8, kind: i32) -> i32 {
    size_str::<Cpt>(ctx, p, kind)
}

/// [`rt_node`] in Compact.
pub extern "C" fn rt_cnode(
    ctx: *mut EncCtx,
    n: *const Node,
    p: *const u8,
    depth: u32,
    size: i32,
) -> i32 {
    enc_node::<Cpt>(ctx, n, p, depth, size)
}

/// `Option<T>`'s value, or null.
pub extern "C" fn rt_option_get(od: *const OptionDesc, slot: *const u8) -> *const u8 {
    // SAFETY: `od` is a static descriptor and `slot` the `Option<T>` it describes.
    unsafe { ((*od).get)(slot) }
}

/// The value inside the (possibly nested) boxes of `node` at `p`.
pub extern "C" fn rt_unbox(node: *const Node, p: *const u8) -> *const u8 {
    // SAFETY: `node` points into the plan; `p` holds a value of its representation, whose
    // box descriptors give the boxed value's address.
    unsafe {
        let (mut node, mut p) = (&*node, p);
        while let Node::Boxed(inner, bd) = node {
            p = (bd.get)(p);
            node = inner;
        }
        p
    }
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

/// Adds a path segment (by `add`) to the error in `slot`, if there is one; `STATUS_ERROR`.
/// What the path helpers of both directions share.
fn add_to_path(slot: &mut Option<Error>, add: impl FnOnce(Error) -> Error) -> i32 {
    if let Some(e) = slot.take() {
        *slot = Some(add(e));
    }
    STATUS_ERROR
}

/// Adds field `f` (null: none) to the path of the error being returned.
pub extern "C" fn rt_in_field(ctx: *mut EncCtx, f: *const FieldPlan) -> i32 {
    // SAFETY: generated code passes its live context and null or a field of the plan.
    let (ctx, f) = unsafe { (&mut *ctx, f.as_ref()) };
    match f {
        Some(f) => add_to_path(&mut ctx.error, |e| e.in_field(&f.name)),
        None => STATUS_ERROR,
    }
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

/// A reader the helpers can start at an offset.
trait Reader<'a>: ProtoRead<'a> {
    fn raw(&mut self, n: usize) -> Result<&'a [u8], Error>;
}

impl<'a> Reader<'a> for BinaryReader<'a> {
    #[inline]
    fn raw(&mut self, n: usize) -> Result<&'a [u8], Error> {
        self.read_raw(n)
    }
}

impl<'a> Reader<'a> for CompactReader<'a> {
    #[inline]
    fn raw(&mut self, n: usize) -> Result<&'a [u8], Error> {
        self.read_raw(n)
    }
}

/// A protocol's reader, for any input lifetime.
trait Family {
    type R<'a>: Reader<'a>;
}

struct BinF;
struct CptF;

impl Family for BinF {
    type R<'a> = BinaryReader<'a>;
}

impl Family for CptF {
    type R<'a> = CompactReader<'a>;
}

/// Skips a value of wire type `t` with a reader of protocol `F` at the context's offset.
fn skip_at<F: Family>(ctx: &mut DecCtx, t: TType, depth: u32) -> Result<(), Error> {
    // SAFETY: the context describes the live input of this decode call.
    let all = unsafe { input(ctx) };
    let mut r = F::R::new(all);
    r.raw(ctx.pos)?;
    let res = r.skip(t, depth);
    ctx.pos = r.position();
    res
}

pub extern "C" fn rt_dec_eof(ctx: *mut DecCtx, at: usize) -> i32 {
    dec_guarded(ctx, |_| {
        Err(Error::decode(ErrorKind::UnexpectedEof, at, ""))
    })
}

/// [`rt_dec_eof`] inside field `f` (one call where generated code would make two).
pub extern "C" fn rt_dec_eof_in(ctx: *mut DecCtx, at: usize, f: *const FieldPlan) -> i32 {
    let st = rt_dec_eof(ctx, at);
    rt_dec_in_field(ctx, f);
    st
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
        skip_at::<BinF>(ctx, t, depth)
    })
}

/// [`rt_dec_skip`] in Compact, for a field of Compact type code `code` (never a bool: its
/// value is in the field header).
pub extern "C" fn rt_cdec_skip(ctx: *mut DecCtx, code: u32, depth: u32) -> i32 {
    dec_guarded(ctx, |ctx| {
        let t = compact_ttype(code).ok_or_else(|| {
            Error::decode(
                ErrorKind::InvalidType,
                ctx.pos,
                format!("invalid type code {code}"),
            )
        })?;
        if matches!(code, 9..=11) && depth > 0 {
            // SAFETY: the context describes the live input of this decode call.
            let all = unsafe { input(ctx) };
            if let Some(end) = cskip_flat(all, ctx.pos, code == 11) {
                ctx.pos = end;
                return Ok(());
            }
        }
        skip_at::<CptF>(ctx, t, depth)
    })
}

/// The wire type of a Compact field type code other than a bool's.
fn compact_ttype(code: u32) -> Option<TType> {
    match u8::try_from(code)
        .ok()
        .and_then(dynthrift_core::wire::compact::ttype_of)?
    {
        TType::Stop | TType::Bool => None,
        t => Some(t),
    }
}

/// Compact: a varint of at most `max` bytes at `at`: its value and the offset after it.
#[inline]
fn cvarint(all: &[u8], mut at: usize, max: usize) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for i in 0..max {
        let b = *all.get(at)?;
        at += 1;
        v |= ((b & 0x7f) as u64) << (7 * i);
        if b < 0x80 {
            return Some((v, at));
        }
    }
    None
}

/// Compact: skips one value of element type code `code` (a scalar, string or binary) at
/// `at`; `None` for other types and whenever the reader would fail.
#[inline]
fn cskip_leaf(all: &[u8], at: usize, code: u8) -> Option<usize> {
    let fixed = |n: usize| Some(at + n).filter(|&end| end <= all.len());
    match code {
        // Bool elements are one byte each.
        1..=3 => fixed(1),
        7 => fixed(8),
        13 => fixed(16),
        4..=6 => cvarint(all, at, 10).map(|(_, end)| end),
        8 => {
            let (n, at) = cvarint(all, at, 5)?;
            let end = at.checked_add(usize::try_from(n).ok()?)?;
            (n <= i32::MAX as u64 && end <= all.len()).then_some(end)
        }
        _ => None,
    }
}

/// Compact: skips a list or set (`map`: a map) of scalars, strings or binaries at `at` in one
/// loop, without the reader's dispatch per element; returns the offset after it, or `None`
/// when it holds anything else or anything is unusual (the reader then skips it from the same
/// offset and reports its error). The caller checked the nesting budget.
fn cskip_flat(all: &[u8], at: usize, map: bool) -> Option<usize> {
    let (n, mut at, codes) = if map {
        let (n, at) = cvarint(all, at, 5)?;
        if n == 0 {
            return Some(at);
        }
        let kv = *all.get(at)?;
        (n, at + 1, [kv >> 4, kv & 0x0f])
    } else {
        let b = *all.get(at)?;
        let (n, at) = match b >> 4 {
            15 => cvarint(all, at + 1, 5)?,
            short => (short as u64, at + 1),
        };
        (n, at, [b & 0x0f, 0])
    };
    if n > i32::MAX as u64 {
        return None;
    }
    let width = |c: u8| match c {
        1..=6 | 8 => Some(1),
        7 => Some(8),
        13 => Some(16),
        _ => None,
    };
    // The reader's check of the count against the input left.
    let min = width(codes[0])? + if map { width(codes[1])? } else { 0 };
    if (n as usize).saturating_mul(min) > all.len() - at {
        return None;
    }
    for _ in 0..n {
        at = cskip_leaf(all, at, codes[0])?;
        if map {
            at = cskip_leaf(all, at, codes[1])?;
        }
    }
    Some(at)
}

/// Compact: the zigzag varint field id of a long-form field header at the context's offset
/// (the type byte already read); `i32::MIN` on error.
pub extern "C" fn rt_cdec_field_id(ctx: *mut DecCtx) -> i32 {
    let mut id = 0i32;
    let st = dec_guarded(ctx, |ctx| {
        // SAFETY: the context describes the live input of this decode call.
        let all = unsafe { input(ctx) };
        let mut r = CompactReader::new(all);
        r.raw(ctx.pos)?;
        let v = r.read_varint()?;
        ctx.pos = r.position();
        id = dynthrift_core::wire::compact::unzigzag(v) as i16 as i32;
        Ok(())
    });
    if st == STATUS_OK { id } else { i32::MIN }
}

/// Compact: reads an integer (i16, i32, i64 or enum) into `p` at the context's offset.
pub extern "C" fn rt_cdec_int(ctx: *mut DecCtx, node: *const Node, p: *mut u8) -> i32 {
    dec_guarded(ctx, |ctx| {
        // SAFETY: the context describes the live input of this decode call.
        let all = unsafe { input(ctx) };
        let mut r = CompactReader::new(all);
        r.raw(ctx.pos)?;
        let at = ctx.pos;
        // SAFETY: `node` points into the plan; `p` holds a value of its representation,
        // exclusively.
        unsafe {
            match &*node {
                Node::I16 => *(p as *mut i16) = r.read_i16()?,
                Node::I32 | Node::Enum(EnumRepr::Open) => *(p as *mut i32) = r.read_i32()?,
                Node::I64 => *(p as *mut i64) = r.read_i64()?,
                Node::Enum(EnumRepr::Rust(ed)) => {
                    let v = r.read_i32()?;
                    if !(ed.from_i32)(p, v) {
                        return Err(Error::decode(
                            ErrorKind::UnknownEnumValue,
                            at,
                            format!("unknown value {v} for enum '{}'", ed.name),
                        ));
                    }
                }
                _ => return Err(Error::schema("internal error: not an integer")),
            }
        }
        ctx.pos = r.position();
        Ok(())
    })
}

/// `Option<T>`: makes it `Some(empty)` if `None`; returns the value's address.
pub extern "C" fn rt_option_insert(od: *const OptionDesc, slot: *mut u8) -> *mut u8 {
    // SAFETY: `od` is a static descriptor and `slot` the `Option<T>` it describes, exclusively.
    unsafe { ((*od).get_or_insert_empty)(slot) }
}

/// A Rust enum whose values are dense (`min`, `min + 1`, ... `count` of them) and held in one
/// byte (its tag) that counts up with them from `tag0`: generated code converts by adding,
/// with a bounds check when decoding, instead of calling the descriptor's thunks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnumLayout {
    pub min: i32,
    pub count: u32,
    pub tag0: u8,
}

/// Probes `ed`'s enum through its own thunks on a scratch buffer: every value is stored twice
/// (over zeros and over ones) to see which bytes the enum is, then read back. `None` (the
/// thunks stay in use) unless every value is one byte, the values are dense, the tags count up
/// with them, and each tag reads back as its value.
pub fn enum_layout(ed: &EnumDesc) -> Option<EnumLayout> {
    let mut values: Vec<i32> = ed.values.iter().map(|&(_, v)| v).collect();
    values.sort_unstable();
    let (&min, &max) = (values.first()?, values.last()?);
    let count = u32::try_from(values.len()).ok()?;
    if i64::from(max) - i64::from(min) + 1 != i64::from(count) || count > 256 {
        return None;
    }
    /// Room for any C-like enum: its discriminant, at most a `u128`.
    #[repr(C, align(16))]
    struct Scratch([u8; 16]);
    let tag = |v: i32| -> Option<u8> {
        let (mut zeros, mut ones) = (Scratch([0; 16]), Scratch([0xff; 16]));
        // SAFETY: `from_i32` writes one value of the C-like enum `ed` describes (at most 16
        // bytes, aligned to at most 16) at the start of each buffer, without reading what the
        // buffer held (its contract).
        let stored = unsafe {
            (ed.from_i32)(zeros.0.as_mut_ptr(), v) && (ed.from_i32)(ones.0.as_mut_ptr(), v)
        };
        // The bytes written read the same over zeros and over ones; the others differ. The
        // first byte only.
        let (a, b) = (&zeros.0, &ones.0);
        if !stored || a[0] != b[0] || a[1..].iter().zip(&b[1..]).any(|(x, y)| x == y) {
            return None;
        }
        // SAFETY: `zeros` holds a value of the enum, stored just above.
        let back = unsafe { (ed.to_i32)(zeros.0.as_ptr()) };
        (back == v).then_some(a[0])
    };
    let tag0 = tag(min)?;
    for (i, &v) in values.iter().enumerate() {
        if u32::from(tag(v)?) != u32::from(tag0) + i as u32 {
            return None;
        }
    }
    Some(EnumLayout { min, count, tag0 })
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

/// Adds field `f` to the path of the decode error being returned.
pub extern "C" fn rt_dec_in_field(ctx: *mut DecCtx, f: *const FieldPlan) -> i32 {
    // SAFETY: generated code passes its live context; `f` points into the plan.
    let (ctx, f) = unsafe { (&mut *ctx, &*f) };
    add_to_path(&mut ctx.error, |e| e.in_field(&f.name))
}

// ---------------------------------------------------------------------------------------------
// Sequence helpers (encode)

use dynthrift_core::desc::{MapDesc, SeqDesc, SetDesc};

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

/// A container's error: no nesting level left (`depth` 0), else a count `n` over `i32::MAX`
/// (the interpreter's order).
pub extern "C" fn rt_container_err(ctx: *mut EncCtx, depth: u32, n: usize) -> i32 {
    if depth == 0 {
        rt_depth(ctx)
    } else {
        container_too_long(ctx, n)
    }
}

/// Records that a container is longer than `i32::MAX` (what the interpreter's writer says).
fn container_too_long(ctx: *mut EncCtx, len: usize) -> i32 {
    guarded(ctx, |_| {
        Err(Error::encode(
            ErrorKind::InvalidValue,
            format!("length {len} does not fit in an i32"),
        ))
    })
}

/// A decoded list of `n` plain elements (at most what the input can still hold): when `n` is
/// within the container limit, empties the `Vec` at `p` (descriptor `sd`) and makes room for
/// `n` elements, and returns where the first goes (its spare capacity); null (nothing
/// changed) over the limit, which the general helper then reports.
pub extern "C" fn rt_list_begin(
    ctx: *mut DecCtx,
    sd: *const SeqDesc,
    p: *mut u8,
    n: usize,
) -> *mut u8 {
    // SAFETY: generated code passes its live context (its limits live for the call), a
    // static descriptor and the vector it describes, held exclusively.
    unsafe {
        if n > (*(*ctx).limits).max_container_len {
            return std::ptr::null_mut();
        }
        ((*sd).clear_reserve)(p, n);
        ((*sd).spare_ptr)(p)
    }
}

/// The first `n` elements written into the spare capacity of the `Vec` at `p` become part of
/// it.
pub extern "C" fn rt_seq_commit(sd: *const SeqDesc, p: *mut u8, n: usize) -> i32 {
    // SAFETY: `sd` is a static descriptor and `p` the vector it describes, whose first `n`
    // spare elements generated code has written.
    unsafe { ((*sd).commit)(p, n) };
    STATUS_OK
}

/// Adds list position `i` to the path of the decode error being returned.
pub extern "C" fn rt_dec_at_index(ctx: *mut DecCtx, i: usize) -> i32 {
    // SAFETY: generated code passes its live context.
    add_to_path(unsafe { &mut (*ctx).error }, |e| e.at_index(i))
}

/// Number of elements of the set at `p`.
pub extern "C" fn rt_set_len(sd: *const SetDesc, p: *const u8) -> usize {
    // SAFETY: `sd` is a static descriptor and `p` the set it describes.
    unsafe { ((*sd).len)(p) }
}

/// Number of entries of the map at `p`.
pub extern "C" fn rt_map_len(md: *const MapDesc, p: *const u8) -> usize {
    // SAFETY: `md` is a static descriptor and `p` the map it describes.
    unsafe { ((*md).len)(p) }
}

/// Adds the path segment of a failed map entry to the error being returned, as the
/// interpreter names it: `KeyAt(i)` when key `k` failed, the key itself (or its position)
/// when its value did. `key` is the map's key node.
pub extern "C" fn rt_map_entry_err(
    ctx: *mut EncCtx,
    key: *const Node,
    k: *const u8,
    i: usize,
    is_value: i32,
) -> i32 {
    // SAFETY: generated code passes its live context, the key node of its plan and the live
    // key of the entry that failed.
    let (ctx, key) = unsafe { (&mut *ctx, &*key) };
    add_to_path(&mut ctx.error, |e| {
        leaf_path(e, Some(key), k, i, is_value != 0)
    })
}

/// Adds list position `i` to the path of the error being returned.
pub extern "C" fn rt_at_index(ctx: *mut EncCtx, i: usize) -> i32 {
    // SAFETY: generated code passes its live context.
    add_to_path(unsafe { &mut (*ctx).error }, |e| e.at_index(i))
}

// ---------------------------------------------------------------------------------------------
// Values the decoder does not compile inline: strings, binaries, containers, boxes and structs
// that are not compiled. One helper call per value; inside, a Binary-only reader specialised
// per node that calls back into compiled code for every compiled struct it meets (container
// elements, map keys and values), and reads runs of plain elements in one bulk loop.
// Semantics, errors, offsets and paths are the interpreter's (`run::Decoder`), which it
// mirrors; parts it does not specialise (raw vectors of IDL-only records, structs that are not
// compiled) run on the interpreter over the same reader.

use dynthrift_core::desc::{BinRepr, StrRepr};
use dynthrift_core::wire::enter;
use dynthrift_core::{PathSegment, TType};
use dynthrift_interp::Limits;
use dynthrift_interp::plan::{EnumRepr, MapRepr, SeqRepr, SetRepr};

use dynthrift_interp::dynamic::{self, RawMap, RawVec};

use crate::abi::DecodeFn;

/// How the elements of a container are read.
#[derive(Clone, Copy)]
enum DecElem {
    /// Scalars: [`Fast::leaf`].
    Leaf,
    /// Strings and binaries of a representation (`STR_*`): [`Fast::text`].
    Text(i32),
    /// Structs with a compiled decoder.
    Compiled(DecodeFn),
    /// Anything else: [`Fast::value`].
    Other,
}

struct Fast<'a> {
    ctx: *mut DecCtx,
    plan: &'a dynthrift_interp::Plan,
    limits: &'a Limits,
    all: &'a [u8],
    source: Option<&'a Bytes>,
    fns: &'a [Option<DecodeFn>],
}

#[cold]
#[inline(never)]
fn limit_error(what: &str, n: usize, limit: usize, offset: usize) -> Error {
    Error::decode(
        ErrorKind::LengthLimit,
        offset,
        format!("{what} of {n} over the limit of {limit}"),
    )
}

fn is_plain(node: &Node) -> bool {
    matches!(
        node,
        Node::Bool | Node::I8 | Node::I16 | Node::I32 | Node::I64 | Node::Double | Node::Uuid
    )
}

impl<'a> Fast<'a> {
    /// A reader over the whole input at `pos` (offsets in errors are absolute).
    fn reader<R: Reader<'a>>(&self, pos: usize) -> Result<R, Error> {
        let mut r = R::new(self.all);
        r.raw(pos)?;
        Ok(r)
    }

    #[inline]
    fn read_bytes<R: Reader<'a>>(&self, r: &mut R) -> Result<&'a [u8], Error> {
        let at = r.position();
        let b = r.read_binary()?;
        if b.len() > self.limits.max_string_len {
            return Err(limit_error(
                "string length",
                b.len(),
                self.limits.max_string_len,
                at,
            ));
        }
        Ok(b)
    }

    #[inline]
    fn read_str<R: Reader<'a>>(&self, r: &mut R) -> Result<&'a str, Error> {
        let b = self.read_bytes(r)?;
        dynthrift_core::wire::utf8(b, r.position() - b.len())
    }

    #[inline]
    fn check_len(&self, n: usize, at: usize) -> Result<(), Error> {
        if n > self.limits.max_container_len {
            return Err(limit_error(
                "container length",
                n,
                self.limits.max_container_len,
                at,
            ));
        }
        Ok(())
    }

    /// Runs compiled struct decoder `f` at the reader's position.
    ///
    /// # Safety
    /// `f` decodes the struct `p` holds, exclusively.
    #[inline]
    unsafe fn call<R: Reader<'a>>(
        &self,
        r: &mut R,
        f: DecodeFn,
        p: *mut u8,
        depth: u32,
    ) -> Result<(), Error> {
        let start = r.position();
        // SAFETY: the context is live for the whole decode call; no reference to it is held.
        unsafe { (*self.ctx).pos = start };
        // SAFETY: compiled from this plan for the struct `p` holds; the context describes the
        // input this reader reads.
        let st = unsafe { f(self.ctx, p, depth) };
        if st != STATUS_OK {
            // SAFETY: as above.
            let e = unsafe { (*self.ctx).error.take() };
            return Err(e.unwrap_or_else(|| {
                Error::decode(ErrorKind::InvalidData, start, "compiled decoder failed")
            }));
        }
        // SAFETY: as above.
        let end = unsafe { (*self.ctx).pos };
        r.raw(end.saturating_sub(start))?;
        Ok(())
    }

    /// Reads a scalar, string or binary (what [`Fast::value`] hands here).
    ///
    /// # Safety
    /// As for [`Fast::value`].
    #[inline(always)]
    unsafe fn leaf<R: Reader<'a>>(&self, r: &mut R, node: &Node, p: *mut u8) -> Result<(), Error> {
        // SAFETY: (whole body) `p` holds a value of `node`'s host representation.
        unsafe {
            match node {
                Node::Bool => *(p as *mut bool) = r.read_bool()?,
                Node::I8 => *(p as *mut i8) = r.read_i8()?,
                Node::I16 => *(p as *mut i16) = r.read_i16()?,
                Node::I32 | Node::Enum(EnumRepr::Open) => *(p as *mut i32) = r.read_i32()?,
                Node::I64 => *(p as *mut i64) = r.read_i64()?,
                Node::Double => *(p as *mut f64) = r.read_double()?,
                Node::Uuid => *(p as *mut [u8; 16]) = r.read_uuid()?,
                Node::String(StrRepr::Std) => {
                    let s = self.read_str(r)?;
                    run::set_string(&mut *(p as *mut String), s);
                }
                #[cfg(feature = "faststr")]
                Node::String(StrRepr::FastStr) => {
                    let s = self.read_str(r)?;
                    // `s` was validated as UTF-8 by `read_str`.
                    // The context is live; no other reference to it is held here.
                    let strs = &mut (*self.ctx).strs;
                    let dst = &mut *(p as *mut faststr::FastStr);
                    dynthrift_interp::run::set_shared_faststr(dst, strs, self.source, s);
                }
                Node::Binary(BinRepr::Vec) => {
                    let b = self.read_bytes(r)?;
                    run::set_vec(&mut *(p as *mut Vec<u8>), b);
                }
                Node::Binary(BinRepr::Bytes) => {
                    let b = self.read_bytes(r)?;
                    *(p as *mut Bytes) = match self.source {
                        Some(src) => run::view_in(src, b),
                        None => Bytes::copy_from_slice(b),
                    };
                }
                _ => return Err(Error::schema("internal error: not a leaf")),
            }
        }
        Ok(())
    }

    /// The bytes of a string or binary at the reader's position and the offset after them,
    /// when the quick path takes them: a length (Binary: 4 bytes; Compact: a varint of at
    /// most 5 bytes) of at most `i32::MAX` and the length limit, whose bytes are in the
    /// input. `None`: not taken (the general path reads the value again and reports what it
    /// finds).
    #[inline(always)]
    fn quick_bytes<R: Reader<'a>>(&self, r: &R) -> Option<(&'a [u8], usize)> {
        let pos = r.position();
        let (n, start) = if R::PROTOCOL == dynthrift_core::wire::Protocol::Binary {
            let h: [u8; 4] = self.all.get(pos..pos.checked_add(4)?)?.try_into().ok()?;
            (u32::from_be_bytes(h) as usize, pos + 4)
        } else {
            let mut n = 0usize;
            let mut at = pos;
            let mut shift = 0;
            loop {
                let b = *self.all.get(at)?;
                at += 1;
                n |= ((b & 0x7f) as usize) << shift;
                if b < 0x80 {
                    break;
                }
                shift += 7;
                if shift > 28 {
                    return None;
                }
            }
            (n, at)
        };
        if n > i32::MAX as usize || n > self.limits.max_string_len {
            return None;
        }
        let end = start + n;
        Some((self.all.get(start..end)?, end))
    }

    /// Reads a string or binary of representation `kind` (`STR_*`; `node` is its node) into
    /// `p`: the quick path when it takes the value, else [`Self::leaf`].
    ///
    /// # Safety
    /// As for [`Fast::value`].
    #[inline(always)]
    unsafe fn text<R: Reader<'a>>(
        &self,
        r: &mut R,
        kind: i32,
        node: &Node,
        p: *mut u8,
    ) -> Result<(), Error> {
        if let Some((b, end)) = self.quick_bytes(r) {
            // SAFETY: (whole block) `p` holds a value of the representation `kind` names.
            let done = unsafe {
                match kind {
                    STR_STRING => match dynthrift_core::wire::utf8_ok(b) {
                        Some(s) => {
                            run::set_string(&mut *(p as *mut String), s);
                            true
                        }
                        None => false,
                    },
                    #[cfg(feature = "faststr")]
                    STR_FASTSTR => match dynthrift_core::wire::utf8_ok(b) {
                        Some(s) => {
                            // The context is live; no other reference to it is held here.
                            let strs = &mut (*self.ctx).strs;
                            let dst = &mut *(p as *mut faststr::FastStr);
                            dynthrift_interp::run::set_shared_faststr(dst, strs, self.source, s);
                            true
                        }
                        None => false,
                    },
                    STR_VEC => {
                        run::set_vec(&mut *(p as *mut Vec<u8>), b);
                        true
                    }
                    _ => {
                        *(p as *mut Bytes) = match self.source {
                            Some(src) => run::view_in(src, b),
                            None => Bytes::copy_from_slice(b),
                        };
                        true
                    }
                }
            };
            if done {
                r.raw(end - r.position())?;
                return Ok(());
            }
        }
        // SAFETY: the caller's contract.
        unsafe { self.leaf(r, node, p) }
    }

    /// How elements of `node` are read: decided once per container.
    fn dec_elem(&self, node: &Node) -> DecElem {
        match node {
            Node::String(StrRepr::Std) => DecElem::Text(STR_STRING),
            #[cfg(feature = "faststr")]
            Node::String(StrRepr::FastStr) => DecElem::Text(STR_FASTSTR),
            Node::Binary(BinRepr::Vec) => DecElem::Text(STR_VEC),
            Node::Binary(BinRepr::Bytes) => DecElem::Text(STR_BYTES),
            n if is_dec_leaf(n) => DecElem::Leaf,
            Node::Struct(si) => match self.fns.get(*si).copied().flatten() {
                Some(f) => DecElem::Compiled(f),
                None => DecElem::Other,
            },
            _ => DecElem::Other,
        }
    }

    /// One element, as [`Self::dec_elem`] decided.
    ///
    /// # Safety
    /// As for [`Fast::value`].
    #[inline(always)]
    unsafe fn elem_value<R: Reader<'a>>(
        &self,
        e: DecElem,
        r: &mut R,
        node: &Node,
        p: *mut u8,
        depth: u32,
    ) -> Result<(), Error> {
        // SAFETY: the caller's contract.
        unsafe {
            match e {
                DecElem::Leaf => self.leaf(r, node, p),
                DecElem::Text(kind) => self.text(r, kind, node, p),
                DecElem::Compiled(f) => self.call(r, f, p, depth),
                DecElem::Other => self.value(r, node, p, depth),
            }
        }
    }

    /// # Safety
    /// `p` holds a live value of `node`'s representation, exclusively.
    unsafe fn value<R: Reader<'a>>(
        &self,
        r: &mut R,
        node: &Node,
        p: *mut u8,
        depth: u32,
    ) -> Result<(), Error> {
        // SAFETY: (whole body) `p` holds a value of `node`'s host representation; containers
        // are manipulated through their descriptor's thunks, exactly as the interpreter does.
        unsafe {
            match node {
                n if is_dec_leaf(n) => self.leaf(r, node, p)?,
                Node::Enum(EnumRepr::Rust(ed)) => {
                    let at = r.position();
                    let v = r.read_i32()?;
                    if !(ed.from_i32)(p, v) {
                        return Err(Error::decode(
                            ErrorKind::UnknownEnumValue,
                            at,
                            format!("unknown value {v} for enum '{}'", ed.name),
                        ));
                    }
                }
                Node::Struct(si) => match self.fns.get(*si).copied().flatten() {
                    Some(f) => self.call(r, f, p, depth)?,
                    None => self.interp(r, node, p, depth)?,
                },
                Node::Boxed(inner, bd) => self.value(r, inner, (bd.get)(p) as *mut u8, depth)?,
                Node::List(elem, SeqRepr::Std(sd)) => {
                    let at = r.position();
                    let depth = enter(depth, at)?;
                    let (t, n) = r.read_list_begin()?;
                    self.check_len(n, at)?;
                    let matches = n == 0 || t == elem.ttype();
                    (sd.clear_reserve)(p, if matches { n } else { 0 });
                    if !matches {
                        return skip_elems(r, t, n, depth);
                    }
                    let binary = R::PROTOCOL == dynthrift_core::wire::Protocol::Binary;
                    let fixed = binary
                        || matches!(**elem, Node::Bool | Node::I8 | Node::Double | Node::Uuid);
                    if is_plain(elem) && fixed {
                        // Fixed-size plain values, as wide on the wire as in memory: the
                        // header check guarantees all `n` are there.
                        let base = (sd.spare_ptr)(p);
                        let raw = r.raw(n * sd.elem_size)?;
                        read_plain_run(elem, binary, raw, base, n);
                        (sd.commit)(p, n);
                    } else if is_plain(elem) {
                        // Compact varints: read one by one straight into the spare capacity,
                        // those read so far kept on an error.
                        let base = (sd.spare_ptr)(p);
                        let mut done = 0;
                        let res = (|| {
                            while done < n {
                                self.leaf(r, elem, base.add(done * sd.elem_size))?;
                                done += 1;
                            }
                            Ok(())
                        })();
                        (sd.commit)(p, done);
                        res.map_err(|e: Error| e.at_index(done))?;
                    } else if let Node::String(_) | Node::Binary(_) = **elem {
                        // Strings and binaries: each made empty in the spare capacity, then
                        // read into (what `push_empty` and the interpreter do, without a call
                        // per element); one that fails stays, empty, as in the interpreter.
                        let base = (sd.spare_ptr)(p);
                        let how = self.dec_elem(elem);
                        let mut made = 0;
                        let res = (|| {
                            while made < n {
                                let e = base.add(made * sd.elem_size);
                                write_empty(elem, e);
                                made += 1;
                                self.elem_value(how, r, elem, e, depth)?;
                            }
                            Ok(())
                        })();
                        (sd.commit)(p, made);
                        res.map_err(|e: Error| e.at_index(made - 1))?;
                    } else {
                        let how = self.dec_elem(elem);
                        for i in 0..n {
                            let e = (sd.push_empty)(p);
                            self.elem_value(how, r, elem, e, depth)
                                .map_err(|e| e.at_index(i))?;
                        }
                    }
                }
                Node::Set(elem, SetRepr::Std(sd)) => {
                    let at = r.position();
                    let depth = enter(depth, at)?;
                    let (t, n) = r.read_set_begin()?;
                    self.check_len(n, at)?;
                    let matches = n == 0 || t == elem.ttype();
                    (sd.clear_reserve)(p, if matches { n } else { 0 });
                    if !matches {
                        return skip_elems(r, t, n, depth);
                    }
                    let how = self.dec_elem(elem);
                    for i in 0..n {
                        (sd.insert_with)(p, &mut |e| self.elem_value(how, r, elem, e, depth))
                            .map_err(|e| e.at_index(i))?;
                    }
                }
                Node::Map(key, value, MapRepr::Std(md)) => {
                    let at = r.position();
                    let depth = enter(depth, at)?;
                    let (kt, vt, n) = r.read_map_begin()?;
                    self.check_len(n, at)?;
                    let matches = n == 0 || (kt == key.ttype() && vt == value.ttype());
                    (md.clear_reserve)(p, if matches { n } else { 0 });
                    if !matches {
                        for _ in 0..n {
                            r.skip(kt, depth)?;
                            r.skip(vt, depth)?;
                        }
                        return Ok(());
                    }
                    let (kh, vh) = (self.dec_elem(key), self.dec_elem(value));
                    for i in 0..n {
                        (md.insert_with)(p, &mut |k, v| {
                            self.elem_value(kh, r, key, k, depth)
                                .map_err(|e| e.push(PathSegment::KeyAt(i)))?;
                            self.elem_value(vh, r, value, v, depth)
                                .map_err(|e| e.push(run::key_segment(key, k, i)))
                        })?;
                    }
                }
                Node::Record(si) => {
                    let slot = p as *mut *mut u8;
                    if (*slot).is_null() {
                        *slot = dynamic::new_record(self.plan, *si)?;
                    }
                    match self.fns.get(*si).copied().flatten() {
                        Some(f) => self.call(r, f, *slot, depth)?,
                        None => self.interp(r, &Node::Struct(*si), *slot, depth)?,
                    }
                }
                Node::List(elem, SeqRepr::Raw(el)) | Node::Set(elem, SetRepr::Raw(el)) => {
                    let at = r.position();
                    let depth = enter(depth, at)?;
                    let (t, n) = if matches!(node, Node::List(..)) {
                        r.read_list_begin()?
                    } else {
                        r.read_set_begin()?
                    };
                    self.check_len(n, at)?;
                    let matches = n == 0 || t == elem.ttype();
                    let v = p as *mut RawVec;
                    dynamic::raw_clear_reserve(
                        self.plan,
                        v,
                        elem,
                        *el,
                        if matches { n } else { 0 },
                    )?;
                    if !matches {
                        return skip_elems(r, t, n, depth);
                    }
                    for i in 0..n {
                        let e = dynamic::raw_push_empty(v, elem, *el)?;
                        self.value(r, elem, e, depth).map_err(|e| e.at_index(i))?;
                    }
                }
                Node::Map(key, value, MapRepr::Raw { key: kl, value: vl }) => {
                    let at = r.position();
                    let depth = enter(depth, at)?;
                    let (kt, vt, n) = r.read_map_begin()?;
                    self.check_len(n, at)?;
                    let matches = n == 0 || (kt == key.ttype() && vt == value.ttype());
                    let m = p as *mut RawMap;
                    let (keys, values) = (&raw mut (*m).keys, &raw mut (*m).values);
                    let n_res = if matches { n } else { 0 };
                    dynamic::raw_clear_reserve(self.plan, keys, key, *kl, n_res)?;
                    dynamic::raw_clear_reserve(self.plan, values, value, *vl, n_res)?;
                    if !matches {
                        for _ in 0..n {
                            r.skip(kt, depth)?;
                            r.skip(vt, depth)?;
                        }
                        return Ok(());
                    }
                    for i in 0..n {
                        let k = dynamic::raw_push_empty(keys, key, *kl)?;
                        let v = dynamic::raw_push_empty(values, value, *vl)?;
                        self.value(r, key, k, depth)
                            .map_err(|e| e.push(PathSegment::KeyAt(i)))?;
                        self.value(r, value, v, depth)
                            .map_err(|e| e.push(run::key_segment(key, k, i)))?;
                    }
                }
                // Representations this reader does not specialise.
                #[allow(unreachable_patterns)]
                _ => self.interp(r, node, p, depth)?,
            }
        }
        Ok(())
    }

    /// The interpreter, on the same reader.
    ///
    /// # Safety
    /// As for [`Fast::value`].
    unsafe fn interp<R: Reader<'a>>(
        &self,
        r: &mut R,
        node: &Node,
        p: *mut u8,
        depth: u32,
    ) -> Result<(), Error> {
        // SAFETY: forwarded contract; `all` is the buffer `r` reads.
        unsafe {
            run::decode_node(
                self.plan,
                node,
                p,
                r,
                self.all,
                self.source,
                self.limits,
                depth,
            )
        }
    }
}

fn skip_elems<'a, R: Reader<'a>>(r: &mut R, t: TType, n: usize, depth: u32) -> Result<(), Error> {
    for _ in 0..n {
        r.skip(t, depth)?;
    }
    Ok(())
}

/// Converts `n` plain values from `raw` (Binary: big-endian; Compact: bools a byte, 1 for
/// true; doubles little-endian) into host values at `base` (uninitialised spare capacity).
/// One tight loop per type, which the compiler vectorises.
///
/// # Safety
/// `raw` holds exactly `n` wire values of `elem`, each as wide as its host value; `base` has
/// room for `n` host values, aligned.
unsafe fn read_plain_run(elem: &Node, binary: bool, raw: &[u8], base: *mut u8, n: usize) {
    macro_rules! run_of {
        ($t:ty, $w:expr) => {
            run_of!($t, $w, from_be_bytes)
        };
        ($t:ty, $w:expr, $from:ident) => {{
            let dst = base as *mut $t;
            for (i, c) in raw.chunks_exact($w).take(n).enumerate() {
                let mut a = [0u8; $w];
                a.copy_from_slice(c);
                // SAFETY: `i < n`, inside the room the caller gives.
                unsafe { dst.add(i).write(<$t>::$from(a)) };
            }
        }};
    }
    match elem {
        Node::Bool => {
            let dst = base as *mut bool;
            // Binary: any non-zero byte is true; Compact: 1 is (as its reader says).
            for (i, &b) in raw.iter().take(n).enumerate() {
                let t = if binary { b != 0 } else { b == 1 };
                // SAFETY: as above.
                unsafe { dst.add(i).write(t) };
            }
        }
        Node::I8 => run_of!(i8, 1),
        Node::I16 => run_of!(i16, 2),
        Node::I32 => run_of!(i32, 4),
        Node::I64 => run_of!(i64, 8),
        Node::Double if binary => run_of!(f64, 8),
        Node::Double => run_of!(f64, 8, from_le_bytes),
        Node::Uuid => {
            // SAFETY: as above; `[u8; 16]` has no alignment and no byte order.
            unsafe { std::ptr::copy_nonoverlapping(raw.as_ptr(), base, n.min(raw.len() / 16) * 16) }
        }
        _ => {}
    }
}

/// Writes an empty string or binary of `node`'s representation at `p` (uninitialised room for
/// one), as its `Describe::empty` makes it.
///
/// # Safety
/// `p` is writable and aligned for the representation.
#[inline(always)]
unsafe fn write_empty(node: &Node, p: *mut u8) {
    // SAFETY: (whole body) the caller's contract.
    unsafe {
        match node {
            Node::String(StrRepr::Std) => (p as *mut String).write(String::new()),
            #[cfg(feature = "faststr")]
            Node::String(StrRepr::FastStr) => {
                (p as *mut faststr::FastStr).write(faststr::FastStr::empty())
            }
            Node::Binary(BinRepr::Vec) => (p as *mut Vec<u8>).write(Vec::new()),
            Node::Binary(BinRepr::Bytes) => (p as *mut Bytes).write(Bytes::new()),
            _ => unreachable!("not a string or binary: {node:?}"),
        }
    }
}

/// Runs `f` with a [`Fast`] reader at the context's offset, then stores the new offset; an
/// error goes into the context. Never unwinds.
fn with_fast<F: Family>(
    ctx: *mut DecCtx,
    f: impl for<'a> FnOnce(&Fast<'a>, &mut F::R<'a>) -> Result<(), Error>,
) -> i32 {
    // Not `dec_guarded`: compiled code called from inside needs the context too, so no
    // reference to it lives across the call.
    let r = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: generated code passes its live context; the plan, limits, compiled-function
        // table and input it names outlive the call.
        let fast = unsafe {
            let c = &*ctx;
            Fast {
                ctx,
                plan: &*c.plan,
                limits: &*c.limits,
                all: std::slice::from_raw_parts(c.buf, c.len),
                source: c.source.as_ref(),
                fns: if c.fns.is_null() {
                    &[]
                } else {
                    std::slice::from_raw_parts(c.fns, c.fns_len)
                },
            }
        };
        // SAFETY: as above.
        let pos = unsafe { (*ctx).pos };
        let mut r: F::R<'_> = fast.reader(pos)?;
        f(&fast, &mut r)?;
        // SAFETY: as above.
        unsafe { (*ctx).pos = r.position() };
        Ok::<(), Error>(())
    }));
    // SAFETY: no other reference to the context is live now.
    let c = unsafe { &mut *ctx };
    match r {
        Ok(Ok(())) => STATUS_OK,
        Ok(Err(e)) => {
            c.error = Some(e);
            STATUS_ERROR
        }
        Err(_) => {
            c.error = Some(Error::decode(
                ErrorKind::InvalidData,
                c.pos,
                "a helper panicked",
            ));
            STATUS_ERROR
        }
    }
}

/// Decodes one value (not a compiled struct) at the current offset.
fn dec_value<F: Family>(ctx: *mut DecCtx, node: *const Node, p: *mut u8, depth: u32) -> i32 {
    with_fast::<F>(ctx, |fast, r| {
        // SAFETY: `node` points into the plan; generated code passes the value it describes,
        // exclusively.
        unsafe { fast.value(r, &*node, p, depth) }
    })
}

/// Decodes record field `f` of the record at `rec` (not a union): as the interpreter, an
/// absent field's stale record is replaced by a new one; the bit is set; then its decoder.
fn dec_record_field<F: Family>(
    ctx: *mut DecCtx,
    f: *const FieldPlan,
    rec: *mut u8,
    depth: u32,
) -> i32 {
    with_fast::<F>(ctx, |fast, r| {
        // SAFETY: `f` points into the plan and is a field of the record at `rec`, which
        // generated code holds exclusively; its slot holds a record pointer.
        unsafe {
            let f = &*f;
            let Presence::Bit(n) = f.presence else {
                return Err(Error::schema("internal error: record field without a bit"));
            };
            let slot = rec.add(f.offset);
            if !dynamic::bit(rec, n) {
                dynamic::drop_value(fast.plan, &f.node, slot);
                *(slot as *mut *mut u8) = std::ptr::null_mut();
            }
            dynamic::set_bit(rec, n, true);
            fast.value(r, &f.node, slot, depth)
        }
    })
}

/// Decodes the value of field `f` (not a compiled struct) at the current offset; an error
/// names the field (as [`rt_dec_in_field`] would: one call where generated code would make
/// two).
fn dec_field_value<F: Family>(
    ctx: *mut DecCtx,
    f: *const FieldPlan,
    p: *mut u8,
    depth: u32,
) -> i32 {
    // SAFETY: generated code passes a field of the plan.
    let node = unsafe { &(*f).node };
    let st = dec_value::<F>(ctx, node, p, depth);
    if st != STATUS_OK {
        rt_dec_in_field(ctx, f);
    }
    st
}

/// Decodes the value of field `f` at the current offset (Binary; see `dec_field_value`).
pub extern "C" fn rt_dec_field_value(
    ctx: *mut DecCtx,
    f: *const FieldPlan,
    p: *mut u8,
    depth: u32,
) -> i32 {
    dec_field_value::<BinF>(ctx, f, p, depth)
}

/// [`rt_dec_field_value`] in Compact.
pub extern "C" fn rt_cdec_field_value(
    ctx: *mut DecCtx,
    f: *const FieldPlan,
    p: *mut u8,
    depth: u32,
) -> i32 {
    dec_field_value::<CptF>(ctx, f, p, depth)
}

/// Decodes a record field (Binary; see `dec_record_field`).
pub extern "C" fn rt_dec_record_field(
    ctx: *mut DecCtx,
    f: *const FieldPlan,
    rec: *mut u8,
    depth: u32,
) -> i32 {
    dec_record_field::<BinF>(ctx, f, rec, depth)
}

/// [`rt_dec_record_field`] in Compact.
pub extern "C" fn rt_cdec_record_field(
    ctx: *mut DecCtx,
    f: *const FieldPlan,
    rec: *mut u8,
    depth: u32,
) -> i32 {
    dec_record_field::<CptF>(ctx, f, rec, depth)
}

/// Compact fast path for a string or binary field of representation `kind` at the
/// context's offset: a varint length of at most 5 bytes that fits in the input and the limit,
/// then as [`rt_dec_str`]. Returns 0 when done; 1 (context untouched) when the general helper
/// must run.
pub extern "C" fn rt_cdec_str(ctx: *mut DecCtx, p: *mut u8, kind: i32) -> i32 {
    // SAFETY: generated code passes its live context.
    let (pos, all) = unsafe { ((*ctx).pos, input(&*ctx)) };
    let mut n = 0usize;
    let mut at = pos;
    for shift in [0, 7, 14, 21, 28] {
        let Some(&b) = all.get(at) else {
            return STATUS_ERROR;
        };
        at += 1;
        n |= ((b & 0x7f) as usize) << shift;
        if b < 0x80 {
            if n > i32::MAX as usize {
                return STATUS_ERROR;
            }
            return rt_dec_str(ctx, p, kind, at, n);
        }
    }
    STATUS_ERROR
}

/// Binary fast path for a string or binary field of representation `kind` whose `n` bytes
/// start at `start` (generated code read the length before them and checked that they are
/// in the input): checks the length limit and UTF-8, stores the value into `p` and moves the
/// context's offset past it. Returns 0 when done; 1 (nothing changed) when the general
/// helper must run to report the error. The context's offset is not read (the Compact fast
/// path, [`rt_cdec_str`], calls this after reading the length itself).
pub extern "C" fn rt_dec_str(
    ctx: *mut DecCtx,
    p: *mut u8,
    kind: i32,
    start: usize,
    n: usize,
) -> i32 {
    let done = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: generated code passes its live context (input, source and limits live for
        // the call) and a field of the representation `kind` names, held exclusively.
        unsafe {
            let c = &mut *ctx;
            if n > (*c.limits).max_string_len {
                return false;
            }
            let Some(b) = input(c).get(start..start.saturating_add(n)) else {
                return false;
            };
            let source = c.source.as_ref();
            match kind {
                STR_STRING => {
                    let Some(s) = dynthrift_core::wire::utf8_ok(b) else {
                        return false;
                    };
                    run::set_string(&mut *(p as *mut String), s);
                }
                STR_VEC => {
                    run::set_vec(&mut *(p as *mut Vec<u8>), b);
                }
                #[cfg(feature = "faststr")]
                STR_FASTSTR => {
                    let Some(s) = dynthrift_core::wire::utf8_ok(b) else {
                        return false;
                    };
                    // Validated just above.
                    let dst = &mut *(p as *mut faststr::FastStr);
                    dynthrift_interp::run::set_shared_faststr(dst, &mut c.strs, source, s);
                }
                _ => {
                    *(p as *mut Bytes) = match source {
                        Some(src) => run::view_in(src, b),
                        None => Bytes::copy_from_slice(b),
                    };
                }
            }
            true
        }
    }));
    match done {
        Ok(true) => {
            // SAFETY: as above; no other reference to the context is live now.
            unsafe { (*ctx).pos = start + n };
            STATUS_OK
        }
        _ => STATUS_ERROR,
    }
}

// ---------------------------------------------------------------------------------------------
// Host layouts of `String`, `Vec<u8>` and `Bytes` (not fixed by Rust): the byte offsets of
// their data pointer and length, probed once per process on live values and verified on a
// second pair; `None` (so: helpers) when the probe is not conclusive.

/// Byte offsets of a string-like value's data pointer and length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PtrLen {
    pub ptr: i32,
    pub len: i32,
}

/// The words of `v`.
fn words<T>(v: &T) -> Vec<usize> {
    let n = size_of::<T>() / size_of::<usize>();
    // SAFETY: `v` is a live `T` of at least `n` words, aligned to a word (all the types
    // probed hold pointers); reading its bytes as integers is fine for these types (no
    // padding: every word is a pointer, a length or a capacity).
    (0..n)
        .map(|i| unsafe { (v as *const T as *const usize).add(i).read_unaligned() })
        .collect()
}

/// Finds the one word of every sample equal to its pointer, and the one equal to its length.
fn probe<T>(samples: &[(T, usize, usize)]) -> Option<PtrLen> {
    if !size_of::<T>().is_multiple_of(size_of::<usize>()) || align_of::<T>() < align_of::<usize>() {
        return None;
    }
    let n = size_of::<T>() / size_of::<usize>();
    let only = |want: &dyn Fn(&(T, usize, usize)) -> usize| -> Option<usize> {
        let hits: Vec<usize> = (0..n)
            .filter(|&i| samples.iter().all(|s| words(&s.0)[i] == want(s)))
            .collect();
        (hits.len() == 1).then(|| hits[0])
    };
    let ptr = only(&|s| s.1)?;
    let len = only(&|s| s.2)?;
    let w = size_of::<usize>() as i32;
    (ptr != len).then_some(PtrLen {
        ptr: ptr as i32 * w,
        len: len as i32 * w,
    })
}

pub fn string_layout() -> Option<PtrLen> {
    static L: std::sync::OnceLock<Option<PtrLen>> = std::sync::OnceLock::new();
    *L.get_or_init(|| {
        let mk = |cap: usize, s: &str| {
            let mut v = String::with_capacity(cap);
            v.push_str(s);
            let (p, n) = (v.as_ptr() as usize, v.len());
            (v, p, n)
        };
        probe(&[mk(40, "abc"), mk(72, "defghij"), mk(9, "k")])
    })
}

pub fn vec_layout() -> Option<PtrLen> {
    static L: std::sync::OnceLock<Option<PtrLen>> = std::sync::OnceLock::new();
    *L.get_or_init(|| {
        let mk = |cap: usize, s: &[u8]| {
            let mut v = Vec::with_capacity(cap);
            v.extend_from_slice(s);
            let (p, n) = (v.as_ptr() as usize, v.len());
            (v, p, n)
        };
        probe(&[mk(40, b"abc"), mk(72, b"defghij"), mk(9, b"k")])
    })
}

pub fn bytes_layout() -> Option<PtrLen> {
    static L: std::sync::OnceLock<Option<PtrLen>> = std::sync::OnceLock::new();
    *L.get_or_init(|| {
        static A: [u8; 11] = *b"abcdefghijk";
        let mk = |b: Bytes| {
            let (p, n) = (b.as_ptr() as usize, b.len());
            (b, p, n)
        };
        let shared = Bytes::from(vec![7u8; 13]);
        probe(&[
            mk(Bytes::from_static(&A[..3])),
            mk(Bytes::from_static(&A[2..9])),
            mk(shared.slice(1..6)),
            mk(Bytes::from(vec![1u8; 21])),
        ])
    })
}

/// Where generated code finds the bytes of a `faststr::FastStr` in its two common forms:
/// sharing a buffer (tag byte `shared_tag`, data pointer and length at `shared`) and inline
/// (tag byte `inline_tag`, length byte at offset 1, data from offset 2). Any other tag: the
/// helper. Probed once per process on live values of every form and verified.
#[cfg(feature = "faststr")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FastStrLayout {
    pub shared_tag: u8,
    pub shared: PtrLen,
    pub inline_tag: u8,
}

#[cfg(feature = "faststr")]
pub fn faststr_layout() -> Option<FastStrLayout> {
    use faststr::FastStr;
    static L: std::sync::OnceLock<Option<FastStrLayout>> = std::sync::OnceLock::new();
    *L.get_or_init(|| {
        let w = size_of::<usize>();
        if size_of::<FastStr>() < 4 * w || align_of::<FastStr>() < align_of::<usize>() {
            return None;
        }
        // SAFETY: `v` is a live `FastStr`; its first byte is the initialised tag of its
        // (`repr(u8)`) representation.
        let tag = |v: &FastStr| unsafe { *(v as *const FastStr as *const u8) };
        // SAFETY: `v` is a live `FastStr` of at least four words (checked above); this is only
        // read on values with the tag of a long string made by `FastStr::new` (faststr 0.2:
        // its `repr(u8)` `Repr::Bytes(BytesRef)`, whose words 1 to 3 are a pointer, a pointer
        // and a length, all initialised), which the checks below then pin down.
        let word = |v: &FastStr, i: usize| unsafe {
            (v as *const FastStr as *const usize)
                .add(i)
                .read_unaligned()
        };
        let long = |n: usize| "ab\u{e9}cd".repeat(n);
        let shared_samples = [
            FastStr::new(long(9)),
            FastStr::from_bytes(Bytes::from(long(13).into_bytes())).ok()?,
            FastStr::from_bytes(Bytes::from(long(20).into_bytes()).slice(6..60)).ok()?,
        ];
        let shared_tag = tag(&shared_samples[0]);
        if shared_samples.iter().any(|v| tag(v) != shared_tag) {
            return None;
        }
        let only = |want: &dyn Fn(&FastStr) -> usize| -> Option<usize> {
            let hits: Vec<usize> = (1..4)
                .filter(|&i| shared_samples.iter().all(|v| word(v, i) == want(v)))
                .collect();
            (hits.len() == 1).then(|| hits[0])
        };
        let ptr = only(&|v| v.as_ptr() as usize)?;
        let len = only(&|v| v.len())?;
        if ptr == len {
            return None;
        }
        let inline_samples = [
            FastStr::new("a"),
            FastStr::new("h\u{e9}llo, w"),
            FastStr::new(long(4)),
        ];
        let inline_tag = tag(&inline_samples[0]);
        for v in &inline_samples {
            let base = v as *const FastStr as usize;
            // SAFETY: as above; the inline form's bytes 0 and 1 are its tag and length.
            let n = unsafe { *(v as *const FastStr as *const u8).add(1) } as usize;
            if tag(v) != inline_tag || n != v.len() || v.as_ptr() as usize != base + 2 {
                return None;
            }
        }
        // Every other way to make one: a form with one of these tags is where they say.
        let others = [
            FastStr::empty(),
            FastStr::from_static_str("a static string, long enough not to be inlined"),
            FastStr::from_arc_str(std::sync::Arc::from(long(8).as_str())),
            FastStr::from_arc_string(std::sync::Arc::new(long(8))),
            FastStr::from_string(long(7)),
        ];
        let right = |v: &FastStr| {
            let t = tag(v);
            if t == shared_tag {
                word(v, ptr) == v.as_ptr() as usize && word(v, len) == v.len()
            } else if t == inline_tag {
                v.as_ptr() as usize == v as *const FastStr as usize + 2 && v.len() <= 30
            } else {
                true
            }
        };
        if shared_tag == inline_tag || !others.iter().all(right) {
            return None;
        }
        Some(FastStrLayout {
            shared_tag,
            shared: PtrLen {
                ptr: (ptr * w) as i32,
                len: (len * w) as i32,
            },
            inline_tag,
        })
    })
}

unsafe extern "C" {
    /// The C library's `memcpy`, which Rust's own copies call too.
    fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8;
}

/// The address generated code calls to copy a string's or binary's bytes into the output
/// (room checked, never overlapping: the output is not a value being encoded): `memcpy`
/// itself, without a wrapper's frame (a few percent of a string-heavy encode).
pub fn copy_fn() -> usize {
    memcpy as *const () as usize
}

// ---------------------------------------------------------------------------------------------
// Unions and kept unknown fields: the variant table of a Rust enum, the member count of an
// IDL-only union, and the `UnknownFields` of a struct that keeps what it did not recognise.
// Semantics, errors and offsets are the interpreter's (`run::Encoder::encode_struct`,
// `run::Decoder::decode_struct` and `keep_unknown`).

use dynthrift_core::desc::{UnionVTable, UnknownFields};
use dynthrift_core::wire::binary::BinaryWriter as BinWriter;
use dynthrift_core::wire::transcode;

/// Index of the variant the Rust enum at `p` holds.
pub extern "C" fn rt_union_variant(uv: *const UnionVTable, p: *const u8) -> usize {
    // SAFETY: `uv` is the static table of the enum at `p`, which generated code passes live.
    unsafe { ((*uv).variant)(p) }
}

/// Address of the payload of the variant the Rust enum at `p` holds.
pub extern "C" fn rt_union_payload(uv: *const UnionVTable, p: *const u8) -> *const u8 {
    // SAFETY: as for `rt_union_variant`.
    unsafe { ((*uv).payload)(p) }
}

/// Replaces the Rust enum at `p` by variant `i` holding an empty payload; returns the
/// payload's address.
pub extern "C" fn rt_union_set_empty(uv: *const UnionVTable, p: *mut u8, i: usize) -> *mut u8 {
    // SAFETY: `uv` is the static table of the enum at `p`, which generated code holds
    // exclusively; `i` indexes its variants (a field of the struct being decoded).
    unsafe { ((*uv).set_empty)(p, i) }
}

/// Records that a Rust enum holds a variant its table does not list (a broken descriptor).
pub extern "C" fn rt_union_bad_variant(ctx: *mut EncCtx, i: usize) -> i32 {
    guarded(ctx, |_| {
        Err(Error::schema(format!(
            "internal error: union variant {i} out of range"
        )))
    })
}

/// Records that an IDL-only union has `written` members set (not exactly one).
pub extern "C" fn rt_union_count(ctx: *mut EncCtx, written: usize) -> i32 {
    guarded(ctx, |_| {
        Err(Error::encode(
            ErrorKind::InvalidUnion,
            format!("a union must have exactly one field set, found {written}"),
        ))
    })
}

/// Writes (`size == 0`) or sizes the kept unknown fields `uf` before the stop byte: Binary,
/// their bytes as they are; Compact (`compact != 0`), converted field by field, the first
/// header's id delta taken from `last`, the id of the field written before.
fn put_unknown(
    ctx: *mut EncCtx,
    uf: *const UnknownFields,
    depth: u32,
    last: i32,
    size: i32,
    compact: bool,
) -> i32 {
    guarded(ctx, |ctx| {
        // SAFETY: generated code passes the `UnknownFields` slot of the live struct it
        // encodes, at the offset its descriptor gives.
        let bytes = unsafe { &(*uf).bytes };
        if bytes.is_empty() {
            return Ok(());
        }
        if !compact {
            if size != 0 {
                ctx.len += bytes.len();
                return Ok(());
            }
            // SAFETY: write mode: `out` is the live output vector.
            return unsafe {
                with_vec(ctx, |out| {
                    out.extend_from_slice(bytes);
                    Ok(())
                })
            };
        }
        fn convert<W: ProtoWrite<StructState = i16>>(
            w: &mut W,
            bytes: &[u8],
            depth: u32,
            last: i32,
        ) -> Result<(), Error> {
            // The writer continues the struct: its last field id is the JIT's.
            w.write_struct_end(last as i16);
            let mut r = BinaryReader::new(bytes);
            while r.remaining() > 0 {
                let (t, id) = r.read_field_begin()?;
                w.write_field_begin(t, id);
                transcode(&mut r, w, t, depth)?;
            }
            Ok(())
        }
        if size != 0 {
            let mut s = CompactSizer::new();
            convert(&mut s, bytes, depth, last)?;
            ctx.len += s.len;
            Ok(())
        } else {
            // SAFETY: write mode: `out` is the live output vector.
            unsafe {
                with_vec(ctx, |out| {
                    convert(&mut CompactWriter::new(out), bytes, depth, last)
                })
            }
        }
    })
}

/// Writes or sizes kept unknown fields (Binary; see `put_unknown`).
pub extern "C" fn rt_unknown(
    ctx: *mut EncCtx,
    uf: *const UnknownFields,
    depth: u32,
    last: i32,
    size: i32,
) -> i32 {
    put_unknown(ctx, uf, depth, last, size, false)
}

/// [`rt_unknown`] in Compact.
pub extern "C" fn rt_cunknown(
    ctx: *mut EncCtx,
    uf: *const UnknownFields,
    depth: u32,
    last: i32,
    size: i32,
) -> i32 {
    put_unknown(ctx, uf, depth, last, size, true)
}

/// A union with `count` members on the wire: none at the end (`count == 0`), or a second
/// one whose header starts at `at`.
pub extern "C" fn rt_dec_union(ctx: *mut DecCtx, count: u32, at: usize) -> i32 {
    dec_guarded(ctx, |_| {
        let detail = if count == 0 {
            "union has no field set"
        } else {
            "union has more than one field set"
        };
        Err(Error::decode(ErrorKind::InvalidUnion, at, detail))
    })
}

/// Binary: keeps the field of wire type `t` whose 3-byte header was just read (an unknown
/// id, or a known id with another type): skips its value, then appends header and value to
/// `uf` as they are.
pub extern "C" fn rt_dec_keep(ctx: *mut DecCtx, uf: *mut UnknownFields, t: u32, depth: u32) -> i32 {
    dec_guarded(ctx, |ctx| {
        let header_at = ctx.pos.checked_sub(3).ok_or_else(|| {
            Error::decode(ErrorKind::InvalidData, ctx.pos, "internal error: no header")
        })?;
        let t = TType::from_u8(t as u8).ok_or_else(|| {
            Error::decode(
                ErrorKind::InvalidType,
                header_at,
                format!("invalid type code {t}"),
            )
        })?;
        skip_at::<BinF>(ctx, t, depth)?;
        // SAFETY: the context describes the live input of this decode call; `uf` is the
        // `UnknownFields` slot of the struct generated code decodes, held exclusively.
        unsafe {
            let all = input(ctx);
            (*uf).bytes.extend_from_slice(&all[header_at..ctx.pos]);
        }
        Ok(())
    })
}

/// Compact: keeps the field of type code `code` and id `id` whose header was just read,
/// converted to Binary (header, then value) and appended to `uf`; on failure nothing of it
/// is kept. A bool's value is its type code.
pub extern "C" fn rt_cdec_keep(
    ctx: *mut DecCtx,
    uf: *mut UnknownFields,
    code: u32,
    id: i32,
    depth: u32,
) -> i32 {
    dec_guarded(ctx, |ctx| {
        // SAFETY: `uf` is the `UnknownFields` slot of the struct generated code decodes,
        // held exclusively.
        let kept = unsafe { &mut (*uf).bytes };
        let start = kept.len();
        let mut w = BinWriter::new(kept);
        let id = id as i16;
        if code == 1 || code == 2 {
            w.write_field_begin(TType::Bool, id);
            w.write_bool(code == 1);
            return Ok(());
        }
        let Some(t) = compact_ttype(code) else {
            return Err(Error::decode(
                ErrorKind::InvalidType,
                ctx.pos,
                format!("invalid type code {code}"),
            ));
        };
        w.write_field_begin(t, id);
        // SAFETY: the context describes the live input of this decode call.
        let all = unsafe { input(ctx) };
        let mut r = CompactReader::new(all);
        let res = r
            .raw(ctx.pos)
            .and_then(|_| transcode(&mut r, &mut w, t, depth));
        ctx.pos = r.position();
        if res.is_err() {
            // Whole fields only, as the interpreter keeps.
            kept.truncate(start);
        }
        res
    })
}

#[cfg(test)]
mod layout_tests {
    use super::*;

    #[test]
    fn layouts_are_found_and_right() {
        for (lay, v) in [
            (string_layout(), {
                let s = String::from("hello, world");
                (words(&s), s.as_ptr() as usize, s.len())
            }),
            (vec_layout(), {
                let v = vec![1u8, 2, 3];
                (words(&v), v.as_ptr() as usize, v.len())
            }),
            (bytes_layout(), {
                let b = Bytes::from(vec![5u8; 30]).slice(3..10);
                (words(&b), b.as_ptr() as usize, b.len())
            }),
        ] {
            let lay = lay.expect("layout probed");
            let w = size_of::<usize>() as i32;
            assert_eq!(v.0[(lay.ptr / w) as usize], v.1);
            assert_eq!(v.0[(lay.len / w) as usize], v.2);
        }
    }

    #[cfg(feature = "faststr")]
    #[test]
    fn faststr_layout_is_found_and_right() {
        use faststr::FastStr;
        let lay = faststr_layout().expect("FastStr layout probed");
        let shared = FastStr::from_bytes(Bytes::from(vec![b'z'; 99]).slice(4..77)).unwrap();
        let p = &shared as *const FastStr as *const u8;
        // SAFETY: a live FastStr in the shared form; the probe says where its view is.
        unsafe {
            assert_eq!(*p, lay.shared_tag);
            let ptr = (p.add(lay.shared.ptr as usize) as *const usize).read_unaligned();
            let len = (p.add(lay.shared.len as usize) as *const usize).read_unaligned();
            assert_eq!((ptr, len), (shared.as_ptr() as usize, 73));
        }
        let inline = FastStr::new("short");
        let p = &inline as *const FastStr as *const u8;
        // SAFETY: a live FastStr in the inline form.
        unsafe {
            assert_eq!(*p, lay.inline_tag);
            assert_eq!(*p.add(1), 5);
            assert_eq!(p.add(2), inline.as_ptr());
        }
    }
}

#[cfg(test)]
mod enum_layout_tests {
    use super::*;

    /// Descriptor of the C-like enum `$t` with `(variant, value)` pairs, thunks included.
    macro_rules! desc {
        ($t:ident { $($v:ident = $n:expr),* $(,)? }) => {{
            /// # Safety
            /// `p` points to a value of the enum.
            unsafe fn to(p: *const u8) -> i32 {
                // SAFETY: the caller's contract.
                match unsafe { *p.cast::<$t>() } { $($t::$v => $n,)* }
            }
            /// # Safety
            /// `p` is valid for a write of the enum, aligned.
            unsafe fn from(p: *mut u8, v: i32) -> bool {
                let e = match v { $(x if x == $n => $t::$v,)* _ => return false };
                // SAFETY: the caller's contract.
                unsafe { p.cast::<$t>().write(e) };
                true
            }
            EnumDesc {
                name: stringify!($t),
                values: &[$((stringify!($v), $n)),*],
                to_i32: to,
                from_i32: from,
            }
        }};
    }

    #[derive(Clone, Copy)]
    enum Abc {
        A,
        B,
        C,
    }

    #[derive(Clone, Copy)]
    #[repr(u16)]
    enum Wide {
        A,
        B,
    }

    #[derive(Clone, Copy)]
    #[repr(u128)]
    enum Widest {
        A = 1 << 100,
        B,
    }

    #[derive(Clone, Copy)]
    enum High {
        A = 250,
        B,
    }

    /// Zero-sized: nothing to store.
    #[derive(Clone, Copy)]
    enum One {
        Only,
    }

    #[test]
    fn dense_one_byte_enums_are_found_and_others_are_not() {
        let layout = |min, count, tag0| Some(EnumLayout { min, count, tag0 });
        // Values equal to the tags, shifted from them, negative.
        assert_eq!(
            enum_layout(&desc!(Abc { A = 0, B = 1, C = 2 })),
            layout(0, 3, 0)
        );
        assert_eq!(
            enum_layout(&desc!(Abc { A = 5, B = 6, C = 7 })),
            layout(5, 3, 0)
        );
        assert_eq!(
            enum_layout(&desc!(Abc { A = -9, B = -8, C = -7 })),
            layout(-9, 3, 0)
        );
        assert_eq!(
            enum_layout(&desc!(High { A = -1, B = 0 })),
            layout(-1, 2, 250)
        );
        // Values listed out of order still count up with the tags.
        assert_eq!(
            enum_layout(&desc!(Abc { C = 2, A = 0, B = 1 })),
            layout(0, 3, 0)
        );
        // Tags counting down, values with a gap, wider tags: the thunks stay.
        assert_eq!(enum_layout(&desc!(Abc { A = 2, B = 1, C = 0 })), None);
        assert_eq!(enum_layout(&desc!(Abc { A = 0, B = 1, C = 3 })), None);
        assert_eq!(enum_layout(&desc!(Abc { A = 0, B = 2, C = 1 })), None);
        assert_eq!(enum_layout(&desc!(Wide { A = 0, B = 1 })), None);
        assert_eq!(enum_layout(&desc!(Widest { A = 0, B = 1 })), None);
        assert_eq!(enum_layout(&desc!(One { Only = 0 })), None);
        // Values at the ends of i32.
        assert_eq!(
            enum_layout(&desc!(Abc { A = i32::MAX - 2, B = i32::MAX - 1, C = i32::MAX })),
            layout(i32::MAX - 2, 3, 0)
        );
        assert_eq!(
            enum_layout(&desc!(Abc { A = i32::MIN, B = 0, C = i32::MAX })),
            None
        );
        let empty = EnumDesc {
            name: "Empty",
            values: &[],
            to_i32: |_| 0,
            from_i32: |_, _| false,
        };
        assert_eq!(enum_layout(&empty), None);
    }
}
