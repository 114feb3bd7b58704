//! Static type descriptors of Rust types: the Thrift view (ids, names, requiredness, wire
//! types) together with the host view (field offsets, and thunks that read, build and iterate
//! containers whose layout Rust does not fix).
//!
//! `#[derive(Thrift)]` emits an `unsafe impl Describe` per type; this module implements
//! [`Describe`] for the standard types a field may have. Backends never see a Rust type: they
//! read and write memory through these descriptors. Every thunk is a monomorphized function
//! whose pointer arguments must point to a live value of the type it was instantiated for.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{BuildHasher, Hash};

use crate::error::Result;
use crate::schema::{Requiredness, StructKind};
use crate::ttype::TType;

/// A Rust type that has a Thrift descriptor.
///
/// # Safety
///
/// `TYPE` must describe `Self` exactly: every offset and thunk in it must be valid for a
/// `Self` value (the derive builds both from the same expressions). `empty` must return the
/// value decoding starts from (defaults filled in).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a Thrift type",
    label = "`{Self}` has no Thrift descriptor",
    note = "Thrift types are bool, i8, i16, i32, i64, f64, String, Vec<u8>, bytes::Bytes, [u8; 16] \
            (uuid), Vec<T>, HashSet<T>, BTreeSet<T>, HashMap<K, V>, BTreeMap<K, V>, Option<T>, \
            Box<T>, and types with #[derive(Thrift)]"
)]
pub unsafe trait Describe: Sized + 'static {
    const TYPE: &'static TypeDesc;
    /// The value decode starts from: every field at its default.
    fn empty() -> Self;
}

/// A Rust type with a Thrift descriptor, in the shape backends read.
#[derive(Debug)]
pub enum TypeDesc {
    Bool,
    I8,
    I16,
    I32,
    I64,
    Double,
    /// `[u8; 16]`.
    Uuid,
    String(StrRepr),
    Binary(BinRepr),
    /// A C-like Rust enum as a Thrift `enum` (i32 on the wire).
    Enum(&'static EnumDesc),
    /// A struct, exception or union, stored inline. A function, so that types may recurse.
    Struct(fn() -> &'static StructDesc),
    List(&'static SeqDesc),
    Set(&'static SetDesc),
    Map(&'static MapDesc),
    Option(&'static OptionDesc),
    Boxed(&'static BoxDesc),
}

impl TypeDesc {
    /// The wire type of values of this type.
    pub fn ttype(&self) -> TType {
        match self {
            TypeDesc::Bool => TType::Bool,
            TypeDesc::I8 => TType::I8,
            TypeDesc::I16 => TType::I16,
            TypeDesc::I32 | TypeDesc::Enum(_) => TType::I32,
            TypeDesc::I64 => TType::I64,
            TypeDesc::Double => TType::Double,
            TypeDesc::Uuid => TType::Uuid,
            TypeDesc::String(_) | TypeDesc::Binary(_) => TType::String,
            TypeDesc::Struct(_) => TType::Struct,
            TypeDesc::List(_) => TType::List,
            TypeDesc::Set(_) => TType::Set,
            TypeDesc::Map(_) => TType::Map,
            TypeDesc::Option(o) => o.inner.ttype(),
            TypeDesc::Boxed(b) => b.inner.ttype(),
        }
    }
}

/// Host type of a Thrift `string`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StrRepr {
    /// `std::string::String`.
    Std,
    /// `faststr::FastStr`.
    #[cfg(feature = "faststr")]
    FastStr,
}

/// Host type of a Thrift `binary`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinRepr {
    /// `Vec<u8>`.
    Vec,
    /// `bytes::Bytes` (zero-copy when decoding from `Bytes`).
    Bytes,
}

/// One field of a struct or exception, or one variant of a union.
#[derive(Debug)]
pub struct FieldDesc {
    pub id: i16,
    pub name: &'static str,
    pub ty: &'static TypeDesc,
    pub req: Requiredness,
    /// Byte offset of the field in the struct (unused for union variants).
    pub offset: usize,
}

/// A struct, exception, or union.
#[derive(Debug)]
pub struct StructDesc {
    pub name: &'static str,
    pub kind: StructKind,
    /// Fields (variants for a union) in declaration order.
    pub fields: &'static [FieldDesc],
    /// Offset of an [`UnknownFields`] field that keeps what decode did not recognise.
    pub unknown_fields: Option<usize>,
    /// For a union held in a Rust enum: how to find and set the variant.
    pub union: Option<&'static UnionVTable>,
    /// Host size and alignment.
    pub size: usize,
    pub align: usize,
    /// Where the facade keeps this type's compiled codec.
    pub cache: &'static CodecCache,
}

/// A process-wide slot for a type's compiled codec, one per derived type (a `static` emitted
/// by the derive), so that finding a type's codec costs one atomic load.
pub struct CodecCache(std::sync::OnceLock<std::sync::Arc<dyn std::any::Any + Send + Sync>>);

impl CodecCache {
    #[allow(clippy::new_without_default)]
    pub const fn new() -> CodecCache {
        CodecCache(std::sync::OnceLock::new())
    }

    /// The cached value, built by `init` on first use.
    pub fn get_or_init(
        &self,
        init: impl FnOnce() -> std::sync::Arc<dyn std::any::Any + Send + Sync>,
    ) -> &std::sync::Arc<dyn std::any::Any + Send + Sync> {
        self.0.get_or_init(init)
    }
}

impl std::fmt::Debug for CodecCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "CodecCache(compiled)"
        } else {
            "CodecCache(empty)"
        })
    }
}

/// How to use a Rust enum that holds a Thrift union: one variant per field, each with one
/// payload.
#[derive(Debug)]
pub struct UnionVTable {
    /// Index into `fields` of the variant held by `*p`.
    pub variant: unsafe fn(p: *const u8) -> usize,
    /// Pointer to the payload of the variant held by `*p`.
    pub payload: unsafe fn(p: *const u8) -> *const u8,
    /// Replaces `*p` by variant `index` holding an empty payload; returns the payload pointer.
    pub set_empty: unsafe fn(p: *mut u8, index: usize) -> *mut u8,
}

/// A C-like Rust enum used as a Thrift `enum`.
#[derive(Debug)]
pub struct EnumDesc {
    pub name: &'static str,
    /// `(name, value)` per variant.
    pub values: &'static [(&'static str, i32)],
    pub to_i32: unsafe fn(p: *const u8) -> i32,
    /// Stores the variant with value `v` at `p` (aligned and valid for a write of the enum;
    /// what it held before is not read); `false` (and `*p` unchanged) for an unknown value.
    pub from_i32: unsafe fn(p: *mut u8, v: i32) -> bool,
}

/// A contiguous sequence (`Vec<T>`) used as a Thrift `list`.
#[derive(Debug)]
pub struct SeqDesc {
    pub elem: &'static TypeDesc,
    pub elem_size: usize,
    pub len: unsafe fn(p: *const u8) -> usize,
    /// Pointer to the first element (dangling but aligned when empty).
    pub as_ptr: unsafe fn(p: *const u8) -> *const u8,
    /// Clears the sequence and reserves room for `additional` elements.
    pub clear_reserve: unsafe fn(p: *mut u8, additional: usize),
    /// Appends an empty element and returns a pointer to it.
    pub push_empty: unsafe fn(p: *mut u8) -> *mut u8,
    /// Pointer to the start of the spare capacity (for writing plain elements in bulk).
    pub spare_ptr: unsafe fn(p: *mut u8) -> *mut u8,
    /// Spare capacity in elements.
    pub spare_len: unsafe fn(p: *const u8) -> usize,
    /// Marks `n` more elements (already written into the spare capacity) as initialised.
    pub commit: unsafe fn(p: *mut u8, n: usize),
}

/// Callback of [`SetDesc::for_each`]: receives a pointer to each element.
pub type ElemVisitor<'a> = dyn FnMut(*const u8) -> Result<()> + 'a;
/// Callback of [`SetDesc::insert_with`]: fills the element it is given.
pub type ElemFiller<'a> = dyn FnMut(*mut u8) -> Result<()> + 'a;
/// Callback of [`MapDesc::for_each`]: receives pointers to each key and value.
pub type EntryVisitor<'a> = dyn FnMut(*const u8, *const u8) -> Result<()> + 'a;
/// Callback of [`MapDesc::insert_with`]: fills the key and value it is given.
pub type EntryFiller<'a> = dyn FnMut(*mut u8, *mut u8) -> Result<()> + 'a;

/// A set type (`HashSet<T>`, `BTreeSet<T>`) used as a Thrift `set`.
#[derive(Debug)]
pub struct SetDesc {
    pub elem: &'static TypeDesc,
    pub len: unsafe fn(p: *const u8) -> usize,
    pub for_each: unsafe fn(p: *const u8, f: &mut ElemVisitor<'_>) -> Result<()>,
    pub clear_reserve: unsafe fn(p: *mut u8, additional: usize),
    /// Builds an empty element, lets `f` fill it, inserts it (if `f` succeeded).
    pub insert_with: unsafe fn(p: *mut u8, f: &mut ElemFiller<'_>) -> Result<()>,
    /// Starts a walk over the elements, as [`MapDesc::iter_start`] does over a map's entries.
    pub iter_start: unsafe extern "C" fn(p: *const u8, state: *mut u8),
    /// The walk's next elements, up to `cap` of them: writes a pointer to each at `out`
    /// (room for `cap`) and returns how many; 0 after the last.
    pub iter_fill: unsafe extern "C" fn(state: *mut u8, out: *mut *const u8, cap: usize) -> usize,
}

/// A map type (`HashMap<K, V>`, `BTreeMap<K, V>`) used as a Thrift `map`.
#[derive(Debug)]
pub struct MapDesc {
    pub key: &'static TypeDesc,
    pub value: &'static TypeDesc,
    pub len: unsafe fn(p: *const u8) -> usize,
    pub for_each: unsafe fn(p: *const u8, f: &mut EntryVisitor<'_>) -> Result<()>,
    pub clear_reserve: unsafe fn(p: *mut u8, additional: usize),
    pub insert_with: unsafe fn(p: *mut u8, f: &mut EntryFiller<'_>) -> Result<()>,
    /// Starts a walk over the entries, for callers that cannot pass a closure (compiled
    /// code): writes the map's iterator into `state`, [`MAP_ITER_STATE`] bytes aligned to
    /// 16. The walk visits the entries in `for_each`'s order; the map must outlive it and not
    /// change during it.
    pub iter_start: unsafe extern "C" fn(p: *const u8, state: *mut u8),
    /// The walk's next entries, up to `cap` of them: writes a pointer to each one's key, then
    /// to its value, at `out` (room for `2 * cap`) and returns how many entries; 0 after the
    /// last. (A batch per call: one call per entry cost more than the interpreter's
    /// `for_each`.)
    pub iter_fill: unsafe extern "C" fn(state: *mut u8, out: *mut *const u8, cap: usize) -> usize,
}

/// The room [`MapDesc::iter_start`] and [`SetDesc::iter_start`] need for an iterator
/// (checked when a map or set type is described: a larger one does not compile).
pub const MAP_ITER_STATE: usize = 128;

/// `Option<T>`: an optional field.
#[derive(Debug)]
pub struct OptionDesc {
    pub inner: &'static TypeDesc,
    /// Pointer to the value, or null for `None`.
    pub get: unsafe fn(p: *const u8) -> *const u8,
    /// Makes `*p` `Some(empty)` if it is `None`; returns a pointer to the value.
    pub get_or_insert_empty: unsafe fn(p: *mut u8) -> *mut u8,
    pub set_none: unsafe fn(p: *mut u8),
}

/// `Box<T>`: an indirection, for recursive types.
#[derive(Debug)]
pub struct BoxDesc {
    pub inner: &'static TypeDesc,
    /// Pointer to the boxed value.
    pub get: unsafe fn(p: *const u8) -> *const u8,
}

/// Fields a struct did not recognise, kept as Binary-protocol bytes (field headers and values,
/// no stop) so that a proxy can re-encode what it did not understand, in either protocol.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct UnknownFields {
    pub bytes: Vec<u8>,
}

impl UnknownFields {
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

/// A `double` that is `Eq`, `Ord` and `Hash` (by `f64::total_cmp` and bit pattern), for
/// structs used as map keys or set elements. Same wire form as `f64`.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, Default)]
pub struct OrderedF64(pub f64);

impl PartialEq for OrderedF64 {
    fn eq(&self, other: &Self) -> bool {
        self.0.total_cmp(&other.0).is_eq()
    }
}
impl Eq for OrderedF64 {}
impl PartialOrd for OrderedF64 {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for OrderedF64 {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}
impl Hash for OrderedF64 {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.to_bits().hash(state)
    }
}
impl From<f64> for OrderedF64 {
    fn from(v: f64) -> Self {
        OrderedF64(v)
    }
}

macro_rules! scalar {
    ($t:ty, $desc:expr, $empty:expr) => {
        // SAFETY: a scalar descriptor has no offsets or thunks; the host type is `$t` itself.
        unsafe impl Describe for $t {
            const TYPE: &'static TypeDesc = &$desc;
            #[inline]
            fn empty() -> Self {
                $empty
            }
        }
    };
}

scalar!(bool, TypeDesc::Bool, false);
scalar!(i8, TypeDesc::I8, 0);
scalar!(i16, TypeDesc::I16, 0);
scalar!(i32, TypeDesc::I32, 0);
scalar!(i64, TypeDesc::I64, 0);
scalar!(f64, TypeDesc::Double, 0.0);
// `OrderedF64` is `repr(transparent)` over `f64`: the backends read it as an `f64`.
scalar!(OrderedF64, TypeDesc::Double, OrderedF64(0.0));
scalar!([u8; 16], TypeDesc::Uuid, [0; 16]);
scalar!(String, TypeDesc::String(StrRepr::Std), String::new());
scalar!(Vec<u8>, TypeDesc::Binary(BinRepr::Vec), Vec::new());
scalar!(
    bytes::Bytes,
    TypeDesc::Binary(BinRepr::Bytes),
    bytes::Bytes::new()
);
#[cfg(feature = "faststr")]
scalar!(
    faststr::FastStr,
    TypeDesc::String(StrRepr::FastStr),
    faststr::FastStr::empty()
);

// SAFETY: the descriptor's thunks are instantiated for `Vec<T>` and `T::TYPE` describes `T`.
unsafe impl<T: Describe> Describe for Vec<T> {
    const TYPE: &'static TypeDesc = &TypeDesc::List(&SeqDesc {
        elem: T::TYPE,
        elem_size: size_of::<T>(),
        len: thunks::vec_len::<T>,
        as_ptr: thunks::vec_as_ptr::<T>,
        clear_reserve: thunks::vec_clear_reserve::<T>,
        push_empty: thunks::vec_push_empty::<T>,
        spare_ptr: thunks::vec_spare_ptr::<T>,
        spare_len: thunks::vec_spare_len::<T>,
        commit: thunks::vec_commit::<T>,
    });
    fn empty() -> Self {
        Vec::new()
    }
}

// SAFETY: the descriptor's thunks are instantiated for `HashSet<T, S>`.
unsafe impl<T: Describe + Eq + Hash, S: BuildHasher + Default + 'static> Describe
    for HashSet<T, S>
{
    const TYPE: &'static TypeDesc = &TypeDesc::Set(&SetDesc {
        elem: T::TYPE,
        len: thunks::hash_set_len::<T, S>,
        for_each: thunks::hash_set_for_each::<T, S>,
        clear_reserve: thunks::hash_set_clear_reserve::<T, S>,
        insert_with: thunks::hash_set_insert_with::<T, S>,
        iter_start: thunks::hash_set_iter_start::<T, S>,
        iter_fill: thunks::hash_set_iter_fill::<T>,
    });
    fn empty() -> Self {
        HashSet::default()
    }
}

// SAFETY: the descriptor's thunks are instantiated for `BTreeSet<T>`.
unsafe impl<T: Describe + Ord> Describe for BTreeSet<T> {
    const TYPE: &'static TypeDesc = &TypeDesc::Set(&SetDesc {
        elem: T::TYPE,
        len: thunks::btree_set_len::<T>,
        for_each: thunks::btree_set_for_each::<T>,
        clear_reserve: thunks::btree_set_clear_reserve::<T>,
        insert_with: thunks::btree_set_insert_with::<T>,
        iter_start: thunks::btree_set_iter_start::<T>,
        iter_fill: thunks::btree_set_iter_fill::<T>,
    });
    fn empty() -> Self {
        BTreeSet::new()
    }
}

// SAFETY: the descriptor's thunks are instantiated for `HashMap<K, V, S>`.
unsafe impl<K: Describe + Eq + Hash, V: Describe, S: BuildHasher + Default + 'static> Describe
    for HashMap<K, V, S>
{
    const TYPE: &'static TypeDesc = &TypeDesc::Map(&MapDesc {
        key: K::TYPE,
        value: V::TYPE,
        len: thunks::hash_map_len::<K, V, S>,
        for_each: thunks::hash_map_for_each::<K, V, S>,
        clear_reserve: thunks::hash_map_clear_reserve::<K, V, S>,
        insert_with: thunks::hash_map_insert_with::<K, V, S>,
        iter_start: thunks::hash_map_iter_start::<K, V, S>,
        iter_fill: thunks::hash_map_iter_fill::<K, V>,
    });
    fn empty() -> Self {
        HashMap::default()
    }
}

// SAFETY: the descriptor's thunks are instantiated for `BTreeMap<K, V>`.
unsafe impl<K: Describe + Ord, V: Describe> Describe for BTreeMap<K, V> {
    const TYPE: &'static TypeDesc = &TypeDesc::Map(&MapDesc {
        key: K::TYPE,
        value: V::TYPE,
        len: thunks::btree_map_len::<K, V>,
        for_each: thunks::btree_map_for_each::<K, V>,
        clear_reserve: thunks::btree_map_clear_reserve::<K, V>,
        insert_with: thunks::btree_map_insert_with::<K, V>,
        iter_start: thunks::btree_map_iter_start::<K, V>,
        iter_fill: thunks::btree_map_iter_fill::<K, V>,
    });
    fn empty() -> Self {
        BTreeMap::new()
    }
}

// SAFETY: the descriptor's thunks are instantiated for `Option<T>`.
unsafe impl<T: Describe> Describe for Option<T> {
    const TYPE: &'static TypeDesc = &TypeDesc::Option(&OptionDesc {
        inner: T::TYPE,
        get: thunks::option_get::<T>,
        get_or_insert_empty: thunks::option_get_or_insert_empty::<T>,
        set_none: thunks::option_set_none::<T>,
    });
    fn empty() -> Self {
        None
    }
}

// SAFETY: the descriptor's thunk is instantiated for `Box<T>`.
unsafe impl<T: Describe> Describe for Box<T> {
    const TYPE: &'static TypeDesc = &TypeDesc::Boxed(&BoxDesc {
        inner: T::TYPE,
        get: thunks::box_get::<T>,
    });
    fn empty() -> Self {
        Box::new(T::empty())
    }
}

/// The monomorphized container thunks. Each takes a pointer that must point to a live,
/// properly aligned value of the container type it is instantiated for (`&mut` access for the
/// `*mut` ones, with no other reference alive), as the descriptors guarantee.
#[allow(unsafe_code)]
mod thunks {
    use super::*;

    macro_rules! r {
        ($p:expr, $t:ty) => {
            // SAFETY: callers pass a pointer to a live `$t` (see module docs).
            unsafe { &*($p as *const $t) }
        };
    }
    macro_rules! w {
        ($p:expr, $t:ty) => {
            // SAFETY: callers pass a pointer to a live `$t` with exclusive access.
            unsafe { &mut *($p as *mut $t) }
        };
    }

    /// # Safety
    /// `p` points to a live `Vec<T>`.
    pub unsafe fn vec_len<T>(p: *const u8) -> usize {
        r!(p, Vec<T>).len()
    }
    /// # Safety
    /// `p` points to a live `Vec<T>`.
    pub unsafe fn vec_as_ptr<T>(p: *const u8) -> *const u8 {
        r!(p, Vec<T>).as_ptr() as *const u8
    }
    /// # Safety
    /// `p` points to a live `Vec<T>`, exclusively.
    pub unsafe fn vec_clear_reserve<T>(p: *mut u8, additional: usize) {
        let v = w!(p, Vec<T>);
        v.clear();
        v.reserve(additional);
    }
    /// # Safety
    /// `p` points to a live `Vec<T>`, exclusively.
    pub unsafe fn vec_push_empty<T: Describe>(p: *mut u8) -> *mut u8 {
        let v = w!(p, Vec<T>);
        v.push(T::empty());
        let last = v.len() - 1;
        &mut v[last] as *mut T as *mut u8
    }
    /// # Safety
    /// `p` points to a live `Vec<T>`, exclusively.
    pub unsafe fn vec_spare_ptr<T>(p: *mut u8) -> *mut u8 {
        w!(p, Vec<T>).spare_capacity_mut().as_mut_ptr() as *mut u8
    }
    /// # Safety
    /// `p` points to a live `Vec<T>`.
    pub unsafe fn vec_spare_len<T>(p: *const u8) -> usize {
        let v = r!(p, Vec<T>);
        v.capacity() - v.len()
    }
    /// # Safety
    /// `p` points to a live `Vec<T>`, exclusively, whose first `n` spare elements have been
    /// initialised with valid `T` values.
    pub unsafe fn vec_commit<T>(p: *mut u8, n: usize) {
        let v = w!(p, Vec<T>);
        debug_assert!(n <= v.capacity() - v.len());
        let len = v.len() + n;
        // SAFETY: the caller initialised these `n` elements inside the capacity.
        unsafe { v.set_len(len) };
    }

    /// # Safety
    /// `p` points to a live `HashSet<T, S>`.
    pub unsafe fn hash_set_len<T, S>(p: *const u8) -> usize {
        r!(p, HashSet<T, S>).len()
    }
    /// # Safety
    /// `p` points to a live `HashSet<T, S>`.
    pub unsafe fn hash_set_for_each<T, S>(p: *const u8, f: &mut ElemVisitor<'_>) -> Result<()> {
        for e in r!(p, HashSet<T, S>) {
            f(e as *const T as *const u8)?;
        }
        Ok(())
    }
    /// # Safety
    /// `p` points to a live `HashSet<T, S>`, exclusively.
    pub unsafe fn hash_set_clear_reserve<T: Eq + Hash, S: BuildHasher>(
        p: *mut u8,
        additional: usize,
    ) {
        let s = w!(p, HashSet<T, S>);
        s.clear();
        s.reserve(additional);
    }
    /// # Safety
    /// `p` points to a live `HashSet<T, S>`, exclusively.
    pub unsafe fn hash_set_insert_with<T: Describe + Eq + Hash, S: BuildHasher>(
        p: *mut u8,
        f: &mut ElemFiller<'_>,
    ) -> Result<()> {
        let mut e = T::empty();
        f(&mut e as *mut T as *mut u8)?;
        w!(p, HashSet<T, S>).insert(e);
        Ok(())
    }

    /// # Safety
    /// `p` points to a live `BTreeSet<T>`.
    pub unsafe fn btree_set_len<T>(p: *const u8) -> usize {
        r!(p, BTreeSet<T>).len()
    }
    /// # Safety
    /// `p` points to a live `BTreeSet<T>`.
    pub unsafe fn btree_set_for_each<T>(p: *const u8, f: &mut ElemVisitor<'_>) -> Result<()> {
        for e in r!(p, BTreeSet<T>) {
            f(e as *const T as *const u8)?;
        }
        Ok(())
    }
    /// # Safety
    /// `p` points to a live `BTreeSet<T>`, exclusively.
    pub unsafe fn btree_set_clear_reserve<T>(p: *mut u8, _additional: usize) {
        w!(p, BTreeSet<T>).clear();
    }
    /// # Safety
    /// `p` points to a live `BTreeSet<T>`, exclusively.
    pub unsafe fn btree_set_insert_with<T: Describe + Ord>(
        p: *mut u8,
        f: &mut ElemFiller<'_>,
    ) -> Result<()> {
        let mut e = T::empty();
        f(&mut e as *mut T as *mut u8)?;
        w!(p, BTreeSet<T>).insert(e);
        Ok(())
    }

    /// # Safety
    /// `p` points to a live `HashMap<K, V, S>`.
    pub unsafe fn hash_map_len<K, V, S>(p: *const u8) -> usize {
        r!(p, HashMap<K, V, S>).len()
    }
    /// # Safety
    /// `p` points to a live `HashMap<K, V, S>`.
    pub unsafe fn hash_map_for_each<K, V, S>(p: *const u8, f: &mut EntryVisitor<'_>) -> Result<()> {
        for (k, v) in r!(p, HashMap<K, V, S>) {
            f(k as *const K as *const u8, v as *const V as *const u8)?;
        }
        Ok(())
    }
    /// # Safety
    /// `p` points to a live `HashMap<K, V, S>` that outlives the walk; `state` to
    /// [`MAP_ITER_STATE`] writable bytes aligned to 16.
    pub unsafe extern "C" fn hash_map_iter_start<K: 'static, V: 'static, S>(
        p: *const u8,
        state: *mut u8,
    ) {
        const { iter_fits::<std::collections::hash_map::Iter<'static, K, V>>() };
        let it = r!(p, HashMap<K, V, S>).iter();
        // SAFETY: `state` has room and alignment for the iterator (checked above); the
        // caller keeps the map alive and unchanged while the iterator is used.
        unsafe {
            state
                .cast::<std::collections::hash_map::Iter<'_, K, V>>()
                .write(it)
        }
    }
    /// # Safety
    /// `state` holds an iterator written by [`hash_map_iter_start`] for the same `K`, `V`
    /// whose map is still alive and unchanged; `out` has room for `2 * cap` pointers.
    pub unsafe extern "C" fn hash_map_iter_fill<K: 'static, V: 'static>(
        state: *mut u8,
        out: *mut *const u8,
        cap: usize,
    ) -> usize {
        // SAFETY: the caller's contract: a live iterator of this type, used by one walk.
        unsafe {
            fill_entries(
                state.cast::<std::collections::hash_map::Iter<'_, K, V>>(),
                out,
                cap,
            )
        }
    }
    /// # Safety
    /// `p` points to a live `HashMap<K, V, S>`, exclusively.
    pub unsafe fn hash_map_clear_reserve<K: Eq + Hash, V, S: BuildHasher>(
        p: *mut u8,
        additional: usize,
    ) {
        let m = w!(p, HashMap<K, V, S>);
        m.clear();
        m.reserve(additional);
    }
    /// # Safety
    /// `p` points to a live `HashMap<K, V, S>`, exclusively.
    pub unsafe fn hash_map_insert_with<K: Describe + Eq + Hash, V: Describe, S: BuildHasher>(
        p: *mut u8,
        f: &mut EntryFiller<'_>,
    ) -> Result<()> {
        let mut k = K::empty();
        let mut v = V::empty();
        f(&mut k as *mut K as *mut u8, &mut v as *mut V as *mut u8)?;
        w!(p, HashMap<K, V, S>).insert(k, v);
        Ok(())
    }

    /// # Safety
    /// `p` points to a live `BTreeMap<K, V>`.
    pub unsafe fn btree_map_len<K, V>(p: *const u8) -> usize {
        r!(p, BTreeMap<K, V>).len()
    }
    /// # Safety
    /// `p` points to a live `BTreeMap<K, V>` that outlives the walk; `state` to
    /// [`MAP_ITER_STATE`] writable bytes aligned to 16.
    pub unsafe extern "C" fn btree_map_iter_start<K: 'static, V: 'static>(
        p: *const u8,
        state: *mut u8,
    ) {
        const { iter_fits::<std::collections::btree_map::Iter<'static, K, V>>() };
        let it = r!(p, BTreeMap<K, V>).iter();
        // SAFETY: as in `hash_map_iter_start`.
        unsafe {
            state
                .cast::<std::collections::btree_map::Iter<'_, K, V>>()
                .write(it)
        }
    }
    /// # Safety
    /// As [`hash_map_iter_fill`], for [`btree_map_iter_start`]'s iterator.
    pub unsafe extern "C" fn btree_map_iter_fill<K: 'static, V: 'static>(
        state: *mut u8,
        out: *mut *const u8,
        cap: usize,
    ) -> usize {
        // SAFETY: as in `hash_map_iter_fill`.
        unsafe {
            fill_entries(
                state.cast::<std::collections::btree_map::Iter<'_, K, V>>(),
                out,
                cap,
            )
        }
    }
    /// # Safety
    /// `p` points to a live `HashSet<T, S>` that outlives the walk; `state` to
    /// [`MAP_ITER_STATE`] writable bytes aligned to 16.
    pub unsafe extern "C" fn hash_set_iter_start<T: 'static, S>(p: *const u8, state: *mut u8) {
        const { iter_fits::<std::collections::hash_set::Iter<'static, T>>() };
        let it = r!(p, HashSet<T, S>).iter();
        // SAFETY: as in `hash_map_iter_start`.
        unsafe {
            state
                .cast::<std::collections::hash_set::Iter<'_, T>>()
                .write(it)
        }
    }
    /// # Safety
    /// `state` holds an iterator written by [`hash_set_iter_start`] for the same `T` whose
    /// set is still alive and unchanged; `out` has room for `cap` pointers.
    pub unsafe extern "C" fn hash_set_iter_fill<T: 'static>(
        state: *mut u8,
        out: *mut *const u8,
        cap: usize,
    ) -> usize {
        // SAFETY: the caller's contract: a live iterator of this type, used by one walk.
        unsafe {
            fill_elems(
                state.cast::<std::collections::hash_set::Iter<'_, T>>(),
                out,
                cap,
            )
        }
    }
    /// # Safety
    /// `p` points to a live `BTreeSet<T>` that outlives the walk; `state` to
    /// [`MAP_ITER_STATE`] writable bytes aligned to 16.
    pub unsafe extern "C" fn btree_set_iter_start<T: 'static>(p: *const u8, state: *mut u8) {
        const { iter_fits::<std::collections::btree_set::Iter<'static, T>>() };
        let it = r!(p, BTreeSet<T>).iter();
        // SAFETY: as in `hash_map_iter_start`.
        unsafe {
            state
                .cast::<std::collections::btree_set::Iter<'_, T>>()
                .write(it)
        }
    }
    /// # Safety
    /// As [`hash_set_iter_fill`], for [`btree_set_iter_start`]'s iterator.
    pub unsafe extern "C" fn btree_set_iter_fill<T: 'static>(
        state: *mut u8,
        out: *mut *const u8,
        cap: usize,
    ) -> usize {
        // SAFETY: as in `hash_set_iter_fill`.
        unsafe {
            fill_elems(
                state.cast::<std::collections::btree_set::Iter<'_, T>>(),
                out,
                cap,
            )
        }
    }
    /// A map iterator fits in [`MAP_ITER_STATE`] bytes aligned to 16.
    const fn iter_fits<I>() {
        assert!(std::mem::size_of::<I>() <= MAP_ITER_STATE && std::mem::align_of::<I>() <= 16);
    }
    /// Up to `cap` elements of the iterator at `it`, a pointer to each written at `out`; how
    /// many. The iterator is moved into a local for the loop and back after it: iterating it
    /// in place, behind the pointer, kept the compiler from inlining `next` (a B-tree walk
    /// then cost more per element than the interpreter's `for_each`).
    ///
    /// # Safety
    /// `it` points to a live iterator, exclusively; `out` has room for `cap` pointers.
    #[inline]
    unsafe fn fill_elems<'a, T: 'a, I: Iterator<Item = &'a T>>(
        it: *mut I,
        out: *mut *const u8,
        cap: usize,
    ) -> usize {
        // SAFETY: the caller's contract. The std collections' iterators own nothing (no
        // `Drop`): the copy left behind, overwritten below, needs no care even on unwinding.
        let mut local = unsafe { it.read() };
        let mut n = 0;
        while n < cap {
            let Some(e) = local.next() else { break };
            // SAFETY: `n < cap`, inside the caller's room.
            unsafe { out.add(n).write(e as *const T as *const u8) };
            n += 1;
        }
        // SAFETY: back where it was read from.
        unsafe { it.write(local) };
        n
    }
    /// Up to `cap` entries of the iterator at `it`, pointers to each key and value written in
    /// turn at `out`; how many entries. (Moved into a local as in [`fill_elems`].)
    ///
    /// # Safety
    /// `it` points to a live iterator, exclusively; `out` has room for `2 * cap` pointers.
    #[inline]
    unsafe fn fill_entries<'a, K: 'a, V: 'a, I: Iterator<Item = (&'a K, &'a V)>>(
        it: *mut I,
        out: *mut *const u8,
        cap: usize,
    ) -> usize {
        // SAFETY: as in `fill_elems`.
        let mut local = unsafe { it.read() };
        let mut n = 0;
        while n < cap {
            let Some((k, v)) = local.next() else { break };
            // SAFETY: `n < cap`, so `2n + 1 < 2 * cap`, inside the caller's room.
            unsafe {
                out.add(2 * n).write(k as *const K as *const u8);
                out.add(2 * n + 1).write(v as *const V as *const u8);
            }
            n += 1;
        }
        // SAFETY: back where it was read from.
        unsafe { it.write(local) };
        n
    }
    /// # Safety
    /// `p` points to a live `BTreeMap<K, V>`.
    pub unsafe fn btree_map_for_each<K, V>(p: *const u8, f: &mut EntryVisitor<'_>) -> Result<()> {
        for (k, v) in r!(p, BTreeMap<K, V>) {
            f(k as *const K as *const u8, v as *const V as *const u8)?;
        }
        Ok(())
    }
    /// # Safety
    /// `p` points to a live `BTreeMap<K, V>`, exclusively.
    pub unsafe fn btree_map_clear_reserve<K, V>(p: *mut u8, _additional: usize) {
        w!(p, BTreeMap<K, V>).clear();
    }
    /// # Safety
    /// `p` points to a live `BTreeMap<K, V>`, exclusively.
    pub unsafe fn btree_map_insert_with<K: Describe + Ord, V: Describe>(
        p: *mut u8,
        f: &mut EntryFiller<'_>,
    ) -> Result<()> {
        let mut k = K::empty();
        let mut v = V::empty();
        f(&mut k as *mut K as *mut u8, &mut v as *mut V as *mut u8)?;
        w!(p, BTreeMap<K, V>).insert(k, v);
        Ok(())
    }

    /// # Safety
    /// `p` points to a live `Option<T>`.
    pub unsafe fn option_get<T>(p: *const u8) -> *const u8 {
        match r!(p, Option<T>) {
            Some(v) => v as *const T as *const u8,
            None => std::ptr::null(),
        }
    }
    /// # Safety
    /// `p` points to a live `Option<T>`, exclusively.
    pub unsafe fn option_get_or_insert_empty<T: Describe>(p: *mut u8) -> *mut u8 {
        w!(p, Option<T>).get_or_insert_with(T::empty) as *mut T as *mut u8
    }
    /// # Safety
    /// `p` points to a live `Option<T>`, exclusively.
    pub unsafe fn option_set_none<T>(p: *mut u8) {
        *w!(p, Option<T>) = None;
    }

    /// # Safety
    /// `p` points to a live `Box<T>`.
    pub unsafe fn box_get<T>(p: *const u8) -> *const u8 {
        &**r!(p, Box<T>) as *const T as *const u8
    }

    #[cfg(test)]
    mod tests {
        use super::super::*;

        /// The walk for compiled code visits what `for_each` visits, in the same order.
        fn walk_matches_for_each<M: Describe>(m: &M) {
            let TypeDesc::Map(md) = M::TYPE else {
                panic!("not a map")
            };
            let p = m as *const M as *const u8;
            let mut visited = Vec::new();
            let mut visit = |k, v| {
                visited.push((k, v));
                Ok(())
            };
            // SAFETY: `p` is a live map of the descriptor's type.
            unsafe { (md.for_each)(p, &mut visit) }.unwrap();
            #[repr(align(16))]
            struct State([u8; MAP_ITER_STATE]);
            let mut state = State([0; MAP_ITER_STATE]);
            let mut walked = Vec::new();
            // SAFETY: as above; `state` has the room and alignment asked for; `m` outlives the
            // walk and is not changed.
            unsafe {
                (md.iter_start)(p, state.0.as_mut_ptr());
                // Batches of 3 entries, so that most maps take several, the last partial.
                let mut out = [std::ptr::null(); 6];
                loop {
                    let n = (md.iter_fill)(state.0.as_mut_ptr(), out.as_mut_ptr(), 3);
                    assert!(n <= 3);
                    if n == 0 {
                        break;
                    }
                    walked.extend(out[..2 * n].chunks(2).map(|e| (e[0], e[1])));
                }
            }
            assert_eq!(walked, visited);
            assert_eq!(walked.len(), m_len(md, p));
        }

        fn m_len(md: &MapDesc, p: *const u8) -> usize {
            // SAFETY: `p` is a live map of the descriptor's type.
            unsafe { (md.len)(p) }
        }

        #[test]
        fn set_walks() {
            fn check<C: Describe>(c: &C) {
                let TypeDesc::Set(sd) = C::TYPE else {
                    panic!("not a set")
                };
                let p = c as *const C as *const u8;
                let mut visited = Vec::new();
                let mut visit = |e| {
                    visited.push(e);
                    Ok(())
                };
                // SAFETY: `p` is a live set of the descriptor's type.
                unsafe { (sd.for_each)(p, &mut visit) }.unwrap();
                #[repr(align(16))]
                struct State([u8; MAP_ITER_STATE]);
                let mut state = State([0; MAP_ITER_STATE]);
                let mut walked = Vec::new();
                // SAFETY: as above; `state` has the room and alignment asked for; `c`
                // outlives the walk and is not changed.
                unsafe {
                    (sd.iter_start)(p, state.0.as_mut_ptr());
                    let mut out = [std::ptr::null(); 7];
                    loop {
                        let n = (sd.iter_fill)(state.0.as_mut_ptr(), out.as_mut_ptr(), 7);
                        assert!(n <= 7);
                        if n == 0 {
                            break;
                        }
                        walked.extend_from_slice(&out[..n]);
                    }
                }
                assert_eq!(walked, visited);
            }
            check(&(0..100).map(|i| i.to_string()).collect::<HashSet<_>>());
            check(&(0..100).collect::<BTreeSet<i64>>());
            check(&HashSet::<i8>::new());
        }

        #[test]
        fn map_walks() {
            let h: HashMap<String, i64> = (0..100).map(|i| (i.to_string(), i)).collect();
            walk_matches_for_each(&h);
            walk_matches_for_each(&HashMap::<i32, Vec<String>>::new());
            let b: BTreeMap<i32, String> = (0..100).map(|i| (i, i.to_string())).collect();
            walk_matches_for_each(&b);
            walk_matches_for_each(&BTreeMap::<String, i8>::new());
        }
    }
}
