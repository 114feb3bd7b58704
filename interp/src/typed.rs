//! Safe entry points for derived Rust types: a [`TypedPlan<T>`] can only be built from
//! `T`'s own descriptor, so running it over a `&T` is sound.

use std::any::Any;
use std::marker::PhantomData;
use std::sync::Arc;

use bytes::Bytes;
use dynthrift_core::desc::{Describe, TypeDesc};
use dynthrift_core::wire::{ProtoRead, ProtoWrite};
use dynthrift_core::{Error, Result};

use crate::plan::Plan;
use crate::run::{self, Limits};

/// The plan of a derived type `T`, shared through `T`'s codec cache.
pub struct TypedPlan<T> {
    plan: Arc<Plan>,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for TypedPlan<T> {
    fn clone(&self) -> Self {
        TypedPlan {
            plan: self.plan.clone(),
            _t: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for TypedPlan<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TypedPlan<{}>", self.plan.root().name)
    }
}

/// What a type's codec cache holds: its plan, or why it has none.
struct Cached(std::result::Result<Arc<Plan>, String>);

impl<T: Describe> TypedPlan<T> {
    /// `T`'s plan, built on first use and cached for the life of the process.
    pub fn get() -> Result<TypedPlan<T>> {
        let TypeDesc::Struct(desc_fn) = T::TYPE else {
            return Err(Error::schema(format!(
                "{} is not a struct, exception or union; only those are Thrift messages",
                std::any::type_name::<T>()
            )));
        };
        let desc = desc_fn();
        let cached = desc.cache.get_or_init(|| {
            let built = Plan::for_desc(desc)
                .map(Arc::new)
                .map_err(|e| e.to_string());
            Arc::new(Cached(built)) as Arc<dyn Any + Send + Sync>
        });
        match cached.downcast_ref::<Cached>() {
            Some(Cached(Ok(plan))) => Ok(TypedPlan {
                plan: plan.clone(),
                _t: PhantomData,
            }),
            Some(Cached(Err(msg))) => Err(Error::schema(msg.clone())),
            None => Err(Error::schema("codec cache holds another kind of codec")),
        }
    }

    pub fn plan(&self) -> &Arc<Plan> {
        &self.plan
    }

    /// Writes `v` with `w`.
    #[inline]
    pub fn encode<W: ProtoWrite>(&self, v: &T, w: &mut W, limits: &Limits) -> Result<()> {
        // SAFETY: the plan was built from `T`'s descriptor; `v` is a live `T`.
        unsafe { run::encode(&self.plan, 0, v as *const T as *const u8, w, limits) }
    }

    /// Decodes into `v` (which should start as `T::empty()`); fields on the wire replace its
    /// fields.
    #[inline]
    pub fn decode_into<'a, R: ProtoRead<'a>>(
        &self,
        v: &mut T,
        r: &mut R,
        input: &'a [u8],
        source: Option<&'a Bytes>,
        limits: &Limits,
    ) -> Result<()> {
        // SAFETY: the plan was built from `T`'s descriptor; `v` is a live `T`, borrowed mutably.
        unsafe {
            run::decode(
                &self.plan,
                0,
                v as *mut T as *mut u8,
                r,
                input,
                source,
                limits,
            )
        }
    }
}
