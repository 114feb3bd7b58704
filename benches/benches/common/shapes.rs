//! The JIT against the interpreter on container shapes the three workloads hold few of: long
//! lists of each integer width, bools, doubles, strings, binaries and structs, lists of
//! lists, and every std map and set kind with plain and string elements. Each shape is one
//! field of a struct of its own, encoded and decoded in both protocols; the JIT must never be
//! the slower one (DESIGN.md: speed is judged against our interpreter as well).
//!
//! Before anything is timed, both backends' bytes are checked equal and both decode them
//! back to the value; a difference panics.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hint::black_box;

use dynthrift::{Backend, Codec, Describe, Options, Protocol, Thrift};
use dynthrift_benches::measure::{self, Plan};
use dynthrift_benches::table::{self, Table};

#[derive(Thrift, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Item {
    #[thrift(id = 1)]
    pub a: i32,
    #[thrift(id = 2)]
    pub b: i64,
    #[thrift(id = 3)]
    pub c: bool,
}

/// A struct with one field `f` of type `$t`, and a sample value of it.
macro_rules! shapes {
    ($($name:ident: $t:ty = $make:expr;)*) => {
        $(
            #[derive(Thrift, Clone, Debug, PartialEq)]
            pub struct $name {
                #[thrift(id = 1)]
                pub f: $t,
            }
        )*

        /// Every shape, measured.
        fn all(plan: &Plan, t: &mut Table) {
            $(
                let v = $name { f: $make };
                one(stringify!($name), stringify!($t), &v, plan, t);
            )*
        }
    };
}

shapes! {
    ListI64: Vec<i64> = (0..500).map(|i| i * 1_000_003).collect();
    ListI32: Vec<i32> = (0..500).map(|i| i * 77 - 9000).collect();
    ListI16: Vec<i16> = (0..500).map(|i| i as i16).collect();
    ListBool: Vec<bool> = (0..500).map(|i| i % 3 == 0).collect();
    ListDouble: Vec<f64> = (0..500).map(|i| i as f64 * 0.5).collect();
    ListString: Vec<String> = (0..100).map(|i| format!("string number {i}")).collect();
    ListBinary: Vec<Vec<u8>> = (0..100).map(|i| vec![i as u8; 20]).collect();
    ListStruct: Vec<Item> = (0..100).map(|i| Item { a: i, b: -(i as i64), c: i % 2 == 0 }).collect();
    ListList: Vec<Vec<i32>> = (0..50).map(|i| (0..10).map(|j| i * j).collect()).collect();
    HashMapI32I64: HashMap<i32, i64> = (0..100).map(|i| (i, i as i64 * 3)).collect();
    HashMapStrStr: HashMap<String, String> = (0..100).map(|i| (format!("k{i}"), format!("v{i}"))).collect();
    HashMapStrList: HashMap<String, Vec<i64>> = (0..30).map(|i| (format!("k{i}"), vec![i as i64; 5])).collect();
    BTreeMapStrI32: BTreeMap<String, i32> = (0..100).map(|i| (format!("key{i}"), i)).collect();
    BTreeMapStrStr: BTreeMap<String, String> = (0..100).map(|i| (format!("k{i}"), format!("v{i}"))).collect();
    HashSetI64: HashSet<i64> = (0..200).collect();
    HashSetStr: HashSet<String> = (0..100).map(|i| format!("v{i}")).collect();
    BTreeSetStr: BTreeSet<String> = (0..100).map(|i| format!("v{i}")).collect();
}

/// Measures `v`'s encode and decode on both backends in both protocols into `t`.
fn one<T: Describe + PartialEq + std::fmt::Debug>(
    name: &str,
    ty: &str,
    v: &T,
    plan: &Plan,
    t: &mut Table,
) {
    for p in [Protocol::Binary, Protocol::Compact] {
        let options = Options::default().protocol(p);
        let jit = Codec::<T>::with_options(options).expect("codec");
        assert_eq!(
            jit.backend(),
            dynthrift::BackendInfo::Jit,
            "{name}: the JIT must compile it"
        );
        let interp =
            Codec::<T>::with_options(options.backend(Backend::Interpreter)).expect("codec");
        let bytes = interp.encode(v).expect("encode");
        assert_eq!(jit.encode(v).expect("encode"), bytes, "{name} {p:?}");
        assert_eq!(&jit.decode(&bytes).expect("decode"), v, "{name} {p:?}");
        assert_eq!(&interp.decode(&bytes).expect("decode"), v, "{name} {p:?}");

        let (mut out_j, mut out_i) = (Vec::new(), Vec::new());
        let enc = measure::measure_group(
            &mut [
                &mut || {
                    out_j.clear();
                    jit.encode_into(black_box(v), &mut out_j).expect("encode");
                },
                &mut || {
                    out_i.clear();
                    interp
                        .encode_into(black_box(v), &mut out_i)
                        .expect("encode");
                },
            ],
            plan,
        );
        let dec = measure::measure_group(
            &mut [
                &mut || drop(black_box(jit.decode(black_box(&bytes)).expect("decode"))),
                &mut || drop(black_box(interp.decode(black_box(&bytes)).expect("decode"))),
            ],
            plan,
        );
        let proto = match p {
            Protocol::Binary => "Binary",
            Protocol::Compact => "Compact",
        };
        t.row([
            format!("`{ty}`"),
            format!("{proto} ({} B)", bytes.len()),
            table::time(enc[0].median_ns),
            table::time(enc[1].median_ns),
            table::ratio(enc[0].median_ns, Some(enc[1].median_ns)),
            table::time(dec[0].median_ns),
            table::time(dec[1].median_ns),
            table::ratio(dec[0].median_ns, Some(dec[1].median_ns)),
        ]);
    }
}

/// The table: per shape and protocol, encode (size, then write into a reused buffer) and
/// decode (into a fresh value, dropped) times of `jit` and `interp`, and their ratio.
pub fn report(quick: bool) -> Table {
    // Lighter than the workloads' plan: 68 pairs of operations.
    let plan = if quick {
        Plan::QUICK
    } else {
        Plan {
            warmup: std::time::Duration::from_millis(50),
            sample: std::time::Duration::from_millis(10),
            samples: 21,
        }
    };
    let mut t = Table::new([
        "field type",
        "protocol",
        "encode jit",
        "encode interp",
        "jit ÷ interp",
        "decode jit",
        "decode interp",
        "jit ÷ interp",
    ]);
    all(&plan, &mut t);
    t
}
