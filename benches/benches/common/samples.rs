//! The workload samples in each implementation's own types, built as
//! `shared/workloads/README.md` says (the derived std-type samples are `dynthrift_testkit`'s):
//! every string `"你好,\b\n\r\t世界"` × 16, every binary 0..=15 × 16, bytes 127, i32/i64/double
//! at their maximum, lists and maps of 8; `Nesting2`'s map keys differ by `I32Field` (0..8).

use dynthrift_testkit::workloads::{sample_binary, sample_string};

/// Our derive on the host types pilota uses: `FastStr` strings, `Bytes` binaries, maps hashed
/// with ahash (`HashMap<K, V, ahash::RandomState>`, what `pilota::AHashMap` wraps).
pub mod fast {
    use std::collections::HashMap;

    use bytes::Bytes;
    use dynthrift::{OrderedF64, Thrift};
    use dynthrift_testkit::workloads::Enums;
    use faststr::FastStr;

    pub type Map<K, V> = HashMap<K, V, ahash::RandomState>;

    #[derive(Thrift, Clone, Debug, PartialEq, Eq, Hash)]
    pub struct Simple {
        #[thrift(id = 1, rename = "ByteField")]
        pub byte_field: i8,
        #[thrift(id = 2, rename = "I64Field")]
        pub i64_field: i64,
        #[thrift(id = 3, rename = "DoubleField")]
        pub double_field: OrderedF64,
        #[thrift(id = 4, rename = "I32Field")]
        pub i32_field: i32,
        #[thrift(id = 5, rename = "StringField")]
        pub string_field: FastStr,
        #[thrift(id = 6, rename = "BinaryField")]
        pub binary_field: Bytes,
        #[thrift(id = 7, rename = "enumField")]
        pub enum_field: Enums,
    }

    #[derive(Thrift, Clone, Debug, PartialEq)]
    pub struct Nesting {
        #[thrift(id = 1, rename = "String")]
        pub string: FastStr,
        #[thrift(id = 2, rename = "ListSimple")]
        pub list_simple: Vec<Simple>,
        #[thrift(id = 3, rename = "Double")]
        pub double: f64,
        #[thrift(id = 4, rename = "I32")]
        pub i32: i32,
        #[thrift(id = 5, rename = "ListI32")]
        pub list_i32: Vec<i32>,
        #[thrift(id = 6, rename = "I64")]
        pub i64: i64,
        #[thrift(id = 7, rename = "MapStringString")]
        pub map_string_string: Map<FastStr, FastStr>,
        #[thrift(id = 8, rename = "SimpleStruct")]
        pub simple_struct: Simple,
        #[thrift(id = 9, rename = "MapI32I64")]
        pub map_i32_i64: Map<i32, i64>,
        #[thrift(id = 10, rename = "ListString")]
        pub list_string: Vec<FastStr>,
        #[thrift(id = 11, rename = "Binary")]
        pub binary: Bytes,
        #[thrift(id = 12, rename = "MapI64String")]
        pub map_i64_string: Map<i64, FastStr>,
        #[thrift(id = 13, rename = "ListI64")]
        pub list_i64: Vec<i64>,
        #[thrift(id = 14, rename = "Byte")]
        pub byte: i8,
        #[thrift(id = 15, rename = "MapStringSimple")]
        pub map_string_simple: Map<FastStr, Simple>,
    }

    #[derive(Thrift, Clone, Debug, PartialEq)]
    pub struct Nesting2 {
        #[thrift(id = 1, rename = "MapSimpleNesting")]
        pub map_simple_nesting: Map<Simple, Nesting>,
        #[thrift(id = 2, rename = "SimpleStruct")]
        pub simple_struct: Simple,
        #[thrift(id = 3, rename = "Byte")]
        pub byte: i8,
        #[thrift(id = 4, rename = "Double")]
        pub double: f64,
        #[thrift(id = 5, rename = "ListNesting")]
        pub list_nesting: Vec<Nesting>,
        #[thrift(id = 6, rename = "I64")]
        pub i64: i64,
        #[thrift(id = 7, rename = "NestingStruct")]
        pub nesting_struct: Nesting,
        #[thrift(id = 8, rename = "Binary")]
        pub binary: Bytes,
        #[thrift(id = 9, rename = "String")]
        pub string: FastStr,
        #[thrift(id = 11, rename = "I32")]
        pub i32: i32,
    }

    #[derive(Thrift, Clone, Debug, PartialEq)]
    pub struct PartialSimple {
        #[thrift(id = 1, rename = "ByteField")]
        pub byte_field: i8,
        #[thrift(id = 3, rename = "DoubleField")]
        pub double_field: f64,
        #[thrift(id = 6, rename = "BinaryField")]
        pub binary_field: Bytes,
    }

    #[derive(Thrift, Clone, Debug, PartialEq)]
    pub struct PartialNesting {
        #[thrift(id = 2, rename = "ListSimple")]
        pub list_simple: Vec<PartialSimple>,
        #[thrift(id = 8, rename = "SimpleStruct")]
        pub simple_struct: PartialSimple,
        #[thrift(id = 15, rename = "MapStringSimple")]
        pub map_string_simple: Map<FastStr, PartialSimple>,
    }

    fn s() -> FastStr {
        FastStr::new(super::sample_string())
    }

    pub fn simple() -> Simple {
        Simple {
            byte_field: 127,
            i64_field: i64::MAX,
            double_field: OrderedF64(f64::MAX),
            i32_field: i32::MAX,
            string_field: s(),
            binary_field: super::sample_binary(),
            enum_field: Enums::ValueA,
        }
    }

    pub fn nesting() -> Nesting {
        Nesting {
            string: s(),
            list_simple: (0..8).map(|_| simple()).collect(),
            double: f64::MAX,
            i32: i32::MAX,
            list_i32: vec![i32::MIN; 8],
            i64: i64::MAX,
            map_string_string: (0..8).map(|i| (FastStr::new(i.to_string()), s())).collect(),
            simple_struct: simple(),
            map_i32_i64: (0..8).map(|i| (i, i64::MIN)).collect(),
            list_string: (0..8).map(|_| s()).collect(),
            binary: super::sample_binary(),
            map_i64_string: (0..8).map(|i| (i, s())).collect(),
            list_i64: vec![i64::MIN; 8],
            byte: 127,
            map_string_simple: (0..8)
                .map(|i| (FastStr::new(i.to_string()), simple()))
                .collect(),
        }
    }

    pub fn nesting2() -> Nesting2 {
        Nesting2 {
            map_simple_nesting: (0..8)
                .map(|i| {
                    let key = Simple {
                        i32_field: i,
                        ..simple()
                    };
                    (key, nesting())
                })
                .collect(),
            simple_struct: simple(),
            byte: 127,
            double: f64::MAX,
            list_nesting: (0..8).map(|_| nesting()).collect(),
            i64: i64::MAX,
            nesting_struct: nesting(),
            binary: super::sample_binary(),
            string: s(),
            i32: i32::MAX,
        }
    }
}

/// pilota's generated types (`FastStr`, `Bytes`, `AHashMap`; fields of default requiredness are
/// `Option`s, `Simple.DoubleField` is a required `OrderedFloat`, see `baselines/build.rs`).
pub mod pilota {
    use dynthrift_baselines::pilota::{AHashMap, FastStr, OrderedFloat};
    use dynthrift_baselines::pilota_gen::pilota::baseline::{Enums, Nesting, Nesting2, Simple};

    fn s() -> Option<FastStr> {
        Some(FastStr::new(super::sample_string()))
    }

    pub fn simple() -> Simple {
        Simple {
            byte_field: Some(127),
            i64_field: Some(i64::MAX),
            double_field: OrderedFloat(f64::MAX),
            i32_field: Some(i32::MAX),
            string_field: s(),
            binary_field: Some(super::sample_binary()),
            enum_field: Some(Enums::VALUE_A),
        }
    }

    pub fn nesting() -> Nesting {
        Nesting {
            string: s(),
            list_simple: Some((0..8).map(|_| simple()).collect()),
            double: Some(f64::MAX),
            i32: Some(i32::MAX),
            list_i32: Some(vec![i32::MIN; 8]),
            i64: Some(i64::MAX),
            map_string_string: Some(
                (0..8)
                    .map(|i| (FastStr::new(i.to_string()), s().unwrap()))
                    .collect::<AHashMap<_, _>>(),
            ),
            simple_struct: Some(simple()),
            map_i32i64: Some((0..8).map(|i| (i, i64::MIN)).collect::<AHashMap<_, _>>()),
            list_string: Some((0..8).map(|_| s().unwrap()).collect()),
            binary: Some(super::sample_binary()),
            map_i64_string: Some(
                (0..8)
                    .map(|i| (i, s().unwrap()))
                    .collect::<AHashMap<_, _>>(),
            ),
            list_i64: Some(vec![i64::MIN; 8]),
            byte: Some(127),
            map_string_simple: Some(
                (0..8)
                    .map(|i| (FastStr::new(i.to_string()), simple()))
                    .collect::<AHashMap<_, _>>(),
            ),
        }
    }

    pub fn nesting2() -> Nesting2 {
        Nesting2 {
            map_simple_nesting: Some(
                (0..8)
                    .map(|i| {
                        let key = Simple {
                            i32_field: Some(i),
                            ..simple()
                        };
                        (key, nesting())
                    })
                    .collect::<AHashMap<_, _>>(),
            ),
            simple_struct: Some(simple()),
            byte: Some(127),
            double: Some(f64::MAX),
            list_nesting: Some((0..8).map(|_| nesting()).collect()),
            i64: Some(i64::MAX),
            nesting_struct: Some(nesting()),
            binary: Some(super::sample_binary()),
            string: s(),
            i32: Some(i32::MAX),
        }
    }
}

/// Apache Thrift's generated types (`String`, `Vec<u8>`, `BTreeMap`, `OrderedFloat`, every
/// field an `Option`).
pub mod apache {
    use std::collections::BTreeMap;

    use dynthrift_baselines::apache::baseline::{Enums, Nesting, Nesting2, Simple};
    use dynthrift_baselines::thrift::OrderedFloat;

    fn s() -> Option<String> {
        Some(super::sample_string())
    }

    fn bin() -> Option<Vec<u8>> {
        Some(super::sample_binary().to_vec())
    }

    pub fn simple() -> Simple {
        Simple {
            byte_field: Some(127),
            i64_field: Some(i64::MAX),
            double_field: Some(OrderedFloat(f64::MAX)),
            i32_field: Some(i32::MAX),
            string_field: s(),
            binary_field: bin(),
            enum_field: Some(Enums::VALUE_A),
        }
    }

    pub fn nesting() -> Nesting {
        Nesting {
            string: s(),
            list_simple: Some((0..8).map(|_| simple()).collect()),
            double: Some(OrderedFloat(f64::MAX)),
            i32: Some(i32::MAX),
            list_i32: Some(vec![i32::MIN; 8]),
            i64: Some(i64::MAX),
            map_string_string: Some(
                (0..8)
                    .map(|i| (i.to_string(), s().unwrap()))
                    .collect::<BTreeMap<_, _>>(),
            ),
            simple_struct: Some(simple()),
            map_i32_i64: Some((0..8).map(|i| (i, i64::MIN)).collect::<BTreeMap<_, _>>()),
            list_string: Some((0..8).map(|_| s().unwrap()).collect()),
            binary: bin(),
            map_i64_string: Some(
                (0..8)
                    .map(|i| (i, s().unwrap()))
                    .collect::<BTreeMap<_, _>>(),
            ),
            list_i64: Some(vec![i64::MIN; 8]),
            byte: Some(127),
            map_string_simple: Some(
                (0..8)
                    .map(|i| (i.to_string(), simple()))
                    .collect::<BTreeMap<_, _>>(),
            ),
        }
    }

    pub fn nesting2() -> Nesting2 {
        Nesting2 {
            map_simple_nesting: Some(
                (0..8)
                    .map(|i| {
                        let key = Simple {
                            i32_field: Some(i),
                            ..simple()
                        };
                        (key, nesting())
                    })
                    .collect::<BTreeMap<_, _>>(),
            ),
            simple_struct: Some(simple()),
            byte: Some(127),
            double: Some(OrderedFloat(f64::MAX)),
            list_nesting: Some((0..8).map(|_| nesting()).collect()),
            i64: Some(i64::MAX),
            nesting_struct: Some(nesting()),
            binary: bin(),
            string: s(),
            i32: Some(i32::MAX),
        }
    }
}
