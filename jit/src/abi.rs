//! The one native ABI between generated code and Rust: the context generated code reads and
//! writes, the signatures of generated functions, and the offsets of every field the
//! generated code touches (constants, checked against `offset_of!` in tests).

use dynthrift_core::Error;
use dynthrift_interp::Plan;

/// Context of one encode (or size) call.
///
/// Generated code reads and writes `buf`, `len` and `cap` only; helpers keep them in step
/// with the output vector whenever they touch it.
#[repr(C)]
#[derive(Debug)]
pub struct EncCtx {
    /// Start of the output vector's buffer.
    pub buf: *mut u8,
    /// Bytes written so far (the vector's length once synced); in size mode, the size so far.
    pub len: usize,
    /// The vector's capacity.
    pub cap: usize,
    /// The output vector (null in size mode).
    pub out: *mut Vec<u8>,
    /// The plan the code was compiled from (for helpers that run the interpreter).
    pub plan: *const Plan,
    /// Compiled (write, size) functions by struct index (`fns_len` entries), for helpers
    /// that encode containers and call back into compiled code for their structs.
    pub fns: *const Option<(EncodeFn, EncodeFn)>,
    pub fns_len: usize,
    /// Set by a helper that fails; generated code then returns [`STATUS_ERROR`].
    pub error: Option<Error>,
}

pub const ENC_BUF: i32 = std::mem::offset_of!(EncCtx, buf) as i32;
pub const ENC_LEN: i32 = std::mem::offset_of!(EncCtx, len) as i32;
pub const ENC_CAP: i32 = std::mem::offset_of!(EncCtx, cap) as i32;

pub const STATUS_OK: i32 = 0;
pub const STATUS_ERROR: i32 = 1;

/// A compiled struct encoder (or sizer).
///
/// Arguments: the context; a pointer to a live value of the struct; the nesting budget left.
/// Returns [`STATUS_OK`], or [`STATUS_ERROR`] with `ctx.error` set.
pub type EncodeFn = unsafe extern "C" fn(ctx: *mut EncCtx, value: *const u8, depth: u32) -> i32;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_match_the_struct() {
        // The constants are what generated code uses; pin the layout they assume.
        assert_eq!(ENC_BUF, 0);
        assert_eq!(ENC_LEN as usize, size_of::<usize>());
        assert_eq!(ENC_CAP as usize, 2 * size_of::<usize>());
        assert_eq!(std::mem::offset_of!(EncCtx, out), 3 * size_of::<usize>());
    }
}

/// Context of one decode call. Generated code reads `buf` and `len` and reads and writes
/// `pos`; helpers read the rest.
#[repr(C)]
#[derive(Debug)]
pub struct DecCtx {
    /// The input.
    pub buf: *const u8,
    /// Bytes consumed so far.
    pub pos: usize,
    /// Length of the input.
    pub len: usize,
    pub plan: *const Plan,
    /// The input as `Bytes`, when decoding from `Bytes` (else null).
    pub source: *const bytes::Bytes,
    pub limits: *const dynthrift_interp::Limits,
    /// Compiled decoders by struct index (`fns_len` entries; `None`: not compiled), for
    /// helpers that decode containers and call back into compiled code for their structs.
    pub fns: *const Option<DecodeFn>,
    pub fns_len: usize,
    /// Set by a helper that fails.
    pub error: Option<Error>,
    /// The input (`source`) shared once for every `FastStr` of this call: each string is a
    /// view of it that only bumps one reference count (made on the first string).
    #[cfg(feature = "faststr")]
    pub strs: SharedInput,
}

#[cfg(feature = "faststr")]
pub use dynthrift_interp::run::SharedInput;

pub const DEC_BUF: i32 = std::mem::offset_of!(DecCtx, buf) as i32;
pub const DEC_POS: i32 = std::mem::offset_of!(DecCtx, pos) as i32;
pub const DEC_LEN: i32 = std::mem::offset_of!(DecCtx, len) as i32;

/// A compiled struct decoder: context, pointer to a live value of the struct (exclusive),
/// nesting budget left. Returns [`STATUS_OK`] or [`STATUS_ERROR`] with `ctx.error` set.
pub type DecodeFn = unsafe extern "C" fn(ctx: *mut DecCtx, value: *mut u8, depth: u32) -> i32;

/// A compiled struct skip: context (its `pos` at the struct's start; no value), nesting
/// budget left. Returns [`STATUS_OK`] with `ctx.pos` past the struct, or [`STATUS_ERROR`]
/// with `ctx.error` set.
pub type SkipFn = unsafe extern "C" fn(ctx: *mut DecCtx, depth: u32) -> i32;

#[cfg(test)]
mod dec_tests {
    use super::*;

    #[test]
    fn decode_offsets_match_the_struct() {
        assert_eq!(DEC_BUF, 0);
        assert_eq!(DEC_POS as usize, size_of::<usize>());
        assert_eq!(DEC_LEN as usize, 2 * size_of::<usize>());
    }
}
