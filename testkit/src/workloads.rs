//! The benchmark workloads (CloudWeGo Frugal's `baseline.thrift`) as derived Rust types, and
//! their samples. Binary sizes: small 583 B, medium 17,518 B, large 303,652 B.

use std::collections::HashMap;

use bytes::Bytes;
use dynthrift::{OrderedF64, Thrift};

#[derive(Thrift, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Enums {
    ValueA,
    ValueB,
    ValueC,
}

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
    pub string_field: String,
    #[thrift(id = 6, rename = "BinaryField")]
    pub binary_field: Bytes,
    #[thrift(id = 7, rename = "enumField")]
    pub enum_field: Enums,
}

#[derive(Thrift, Clone, Debug, PartialEq)]
pub struct Nesting {
    #[thrift(id = 1, rename = "String")]
    pub string: String,
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
    pub map_string_string: HashMap<String, String>,
    #[thrift(id = 8, rename = "SimpleStruct")]
    pub simple_struct: Simple,
    #[thrift(id = 9, rename = "MapI32I64")]
    pub map_i32_i64: HashMap<i32, i64>,
    #[thrift(id = 10, rename = "ListString")]
    pub list_string: Vec<String>,
    #[thrift(id = 11, rename = "Binary")]
    pub binary: Bytes,
    #[thrift(id = 12, rename = "MapI64String")]
    pub map_i64_string: HashMap<i64, String>,
    #[thrift(id = 13, rename = "ListI64")]
    pub list_i64: Vec<i64>,
    #[thrift(id = 14, rename = "Byte")]
    pub byte: i8,
    #[thrift(id = 15, rename = "MapStringSimple")]
    pub map_string_simple: HashMap<String, Simple>,
}

#[derive(Thrift, Clone, Debug, PartialEq)]
pub struct Nesting2 {
    #[thrift(id = 1, rename = "MapSimpleNesting")]
    pub map_simple_nesting: HashMap<Simple, Nesting>,
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
    pub string: String,
    #[thrift(id = 11, rename = "I32")]
    pub i32: i32,
}

/// `partial.thrift`: the fields of `Simple` a skip-decoding reader keeps.
#[derive(Thrift, Clone, Debug, PartialEq)]
pub struct PartialSimple {
    #[thrift(id = 1, rename = "ByteField")]
    pub byte_field: i8,
    #[thrift(id = 3, rename = "DoubleField")]
    pub double_field: f64,
    #[thrift(id = 6, rename = "BinaryField")]
    pub binary_field: Bytes,
}

/// `partial.thrift`: the fields of `Nesting` a skip-decoding reader keeps.
#[derive(Thrift, Clone, Debug, PartialEq)]
pub struct PartialNesting {
    #[thrift(id = 2, rename = "ListSimple")]
    pub list_simple: Vec<PartialSimple>,
    #[thrift(id = 8, rename = "SimpleStruct")]
    pub simple_struct: PartialSimple,
    #[thrift(id = 15, rename = "MapStringSimple")]
    pub map_string_simple: HashMap<String, PartialSimple>,
}

/// `"你好,\b\n\r\t世界"` repeated 16 times (272 bytes of UTF-8).
pub fn sample_string() -> String {
    "你好,\u{8}\n\r\t世界".repeat(16)
}

/// The bytes 0..=15 repeated 16 times (256 bytes).
pub fn sample_binary() -> Bytes {
    Bytes::from((0..256u32).map(|i| (i % 16) as u8).collect::<Vec<u8>>())
}

pub fn simple() -> Simple {
    Simple {
        byte_field: 127,
        i64_field: i64::MAX,
        double_field: OrderedF64(f64::MAX),
        i32_field: i32::MAX,
        string_field: sample_string(),
        binary_field: sample_binary(),
        enum_field: Enums::ValueA,
    }
}

pub fn nesting() -> Nesting {
    let s = sample_string();
    Nesting {
        string: s.clone(),
        list_simple: (0..8).map(|_| simple()).collect(),
        double: f64::MAX,
        i32: i32::MAX,
        list_i32: vec![i32::MIN; 8],
        i64: i64::MAX,
        map_string_string: (0..8).map(|i| (i.to_string(), s.clone())).collect(),
        simple_struct: simple(),
        map_i32_i64: (0..8).map(|i| (i, i64::MIN)).collect(),
        list_string: vec![s.clone(); 8],
        binary: sample_binary(),
        map_i64_string: (0..8).map(|i| (i as i64, s.clone())).collect(),
        list_i64: vec![i64::MIN; 8],
        byte: 127,
        map_string_simple: (0..8).map(|i| (i.to_string(), simple())).collect(),
    }
}

pub fn nesting2() -> Nesting2 {
    Nesting2 {
        // Distinct keys: key i is a Simple whose I32Field is i (same Binary size).
        map_simple_nesting: (0..8)
            .map(|i| {
                (
                    Simple {
                        i32_field: i,
                        ..simple()
                    },
                    nesting(),
                )
            })
            .collect(),
        simple_struct: simple(),
        byte: 127,
        double: f64::MAX,
        list_nesting: (0..8).map(|_| nesting()).collect(),
        i64: i64::MAX,
        nesting_struct: nesting(),
        binary: sample_binary(),
        string: sample_string(),
        i32: i32::MAX,
    }
}

/// Binary-protocol sizes the samples must have (workloads README).
pub const SMALL_SIZE: usize = 583;
pub const MEDIUM_SIZE: usize = 17_518;
pub const LARGE_SIZE: usize = 303_652;
