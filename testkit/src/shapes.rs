//! Derived test types that cover every field kind the derive supports (scalars, enums,
//! strings, binaries, uuids, nested, optional and boxed structs, lists, sets, maps keyed by
//! every kind, negative and far field ids, required fields), with proptest strategies of
//! their values. Shared by the JIT-against-interpreter tests of both protocols.

use std::collections::{BTreeMap, HashMap};

use dynthrift::Thrift;
use proptest::prelude::*;

use crate::workloads;

#[derive(Thrift, Clone, Copy, Debug, PartialEq)]
pub enum Color {
    Red = 1,
    Green = 2,
    Blue = -7,
}

#[derive(Thrift, Clone, Debug, PartialEq)]
pub struct Inner {
    #[thrift(id = 1)]
    pub name: String,
    #[thrift(id = 2)]
    pub maybe: Option<i64>,
}

#[derive(Thrift, Clone, Debug, PartialEq)]
pub struct Every {
    #[thrift(id = 1)]
    pub b: bool,
    #[thrift(id = 2)]
    pub i8: i8,
    #[thrift(id = 3)]
    pub i16: i16,
    #[thrift(id = 4)]
    pub i32: i32,
    #[thrift(id = 5)]
    pub i64: i64,
    #[thrift(id = 6)]
    pub f: f64,
    #[thrift(id = 7)]
    pub s: String,
    #[thrift(id = 8)]
    pub bin: Vec<u8>,
    #[thrift(id = 9)]
    pub bytes: bytes::Bytes,
    #[thrift(id = 10)]
    pub uuid: [u8; 16],
    #[thrift(id = 11)]
    pub color: Color,
    #[thrift(id = 12)]
    pub inner: Inner,
    #[thrift(id = 13)]
    pub opt_inner: Option<Inner>,
    #[thrift(id = 14)]
    pub opt_i32: Option<i32>,
    #[thrift(id = 15)]
    pub opt_s: Option<String>,
    #[thrift(id = 16)]
    pub list: Vec<Inner>,
    #[thrift(id = 17)]
    pub map: BTreeMap<String, Vec<i32>>,
    #[thrift(id = -3)]
    pub negative_id: i16,
    #[thrift(id = 300)]
    pub far_id: Option<Color>,
    #[thrift(id = 18)]
    pub boxed: Option<Box<Inner>>,
}

pub fn every() -> impl Strategy<Value = Every> {
    let inner = (".{0,8}", proptest::option::of(any::<i64>()))
        .prop_map(|(name, maybe)| Inner { name, maybe });
    (
        (
            any::<bool>(),
            any::<i8>(),
            any::<i16>(),
            any::<i32>(),
            any::<i64>(),
            any::<f64>(),
        ),
        (
            ".{0,20}",
            proptest::collection::vec(any::<u8>(), 0..20),
            any::<[u8; 16]>(),
        ),
        (
            prop_oneof![Just(Color::Red), Just(Color::Green), Just(Color::Blue)],
            inner.clone(),
            proptest::option::of(inner.clone()),
        ),
        (
            proptest::option::of(any::<i32>()),
            proptest::option::of(".{0,5}"),
            proptest::collection::vec(inner.clone(), 0..4),
        ),
        (
            proptest::collection::btree_map(
                ".{0,4}",
                proptest::collection::vec(any::<i32>(), 0..3),
                0..3,
            ),
            any::<i16>(),
        ),
        (
            proptest::option::of(Just(Color::Blue)),
            proptest::option::of(inner),
        ),
    )
        .prop_map(
            |(
                (b, i8, i16, i32, i64, f),
                (s, bin, uuid),
                (color, inner, opt_inner),
                (opt_i32, opt_s, list),
                (map, negative_id),
                (far_id, boxed),
            )| Every {
                b,
                i8,
                i16,
                i32,
                i64,
                f,
                s,
                bytes: bytes::Bytes::from(bin.clone()),
                bin,
                uuid,
                color,
                inner,
                opt_inner,
                opt_i32,
                opt_s,
                list,
                map,
                negative_id,
                far_id,
                boxed: boxed.map(Box::new),
            },
        )
}

#[derive(Thrift, Debug)]
pub struct Strict {
    #[thrift(id = 1, required)]
    pub a: Option<i32>,
    #[thrift(id = 2)]
    pub nested: Vec<StrictInner>,
    #[thrift(id = 3)]
    pub direct: StrictInner,
}

#[derive(Thrift, Debug, Clone, PartialEq)]
pub struct StrictInner {
    #[thrift(id = 1, required)]
    pub name: Option<String>,
}

#[derive(Thrift, Clone, Debug, PartialEq)]
pub struct Containers {
    #[thrift(id = 1)]
    pub by_name: HashMap<String, Inner>,
    #[thrift(id = 2)]
    pub counts: BTreeMap<i32, i64>,
    #[thrift(id = 3)]
    pub tags: std::collections::BTreeSet<String>,
    #[thrift(id = 4)]
    pub ids: std::collections::HashSet<i64>,
    #[thrift(id = 5)]
    pub nested: Vec<BTreeMap<i16, Vec<Inner>>>,
    #[thrift(id = 6)]
    pub boxed: Box<Inner>,
    #[thrift(id = 7)]
    pub maybe_map: Option<BTreeMap<String, String>>,
    #[thrift(id = 8)]
    pub keyed: BTreeMap<workloads::Enums, bytes::Bytes>,
    #[thrift(id = 9)]
    pub blob: Vec<u8>,
    #[thrift(id = 10)]
    pub text: String,
    #[thrift(id = 11)]
    pub strict: Vec<StrictInner>,
    #[thrift(id = 12)]
    pub flags: Vec<bool>,
}

pub fn containers() -> impl Strategy<Value = Containers> {
    use proptest::collection::{btree_map, btree_set, hash_map, hash_set, vec};
    let inner = (".{0,4}", proptest::option::of(any::<i64>()))
        .prop_map(|(name, maybe)| Inner { name, maybe });
    (
        (
            hash_map(".{0,3}", inner.clone(), 0..4),
            btree_map(any::<i32>(), any::<i64>(), 0..5),
            btree_set(".{0,3}", 0..4),
            hash_set(any::<i64>(), 0..5),
        ),
        (
            vec(
                btree_map(any::<i16>(), vec(inner.clone(), 0..3), 0..3),
                0..3,
            ),
            inner,
            proptest::option::of(btree_map(".{0,2}", ".{0,4}", 0..3)),
        ),
        (
            btree_map(
                prop_oneof![
                    Just(workloads::Enums::ValueA),
                    Just(workloads::Enums::ValueC)
                ],
                vec(any::<u8>(), 0..5),
                0..3,
            ),
            vec(any::<u8>(), 0..8),
            ".{0,8}",
            vec(
                proptest::option::of(".{0,3}").prop_map(|name| StrictInner { name }),
                0..3,
            ),
            vec(any::<bool>(), 0..6),
        ),
    )
        .prop_map(
            |(
                (by_name, counts, tags, ids),
                (nested, boxed, maybe_map),
                (keyed, blob, text, strict, flags),
            )| Containers {
                by_name,
                counts,
                tags,
                ids,
                nested,
                boxed: Box::new(boxed),
                maybe_map,
                keyed: keyed
                    .into_iter()
                    .map(|(k, v)| (k, bytes::Bytes::from(v)))
                    .collect(),
                blob,
                text,
                strict,
                flags,
            },
        )
}
