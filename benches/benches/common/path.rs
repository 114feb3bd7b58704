//! Access by path on raw bytes (`dynthrift::path`) against decoding the whole message: the
//! report's "Access by path" table. Per workload and protocol, one group times
//! - `path get P`: a compiled path reading one value out of the encoded bytes;
//! - `path set P`: new bytes with that value replaced (a new `Vec`);
//! - `decode (idl)`: `DynStruct::decode` of the whole message, what a tool without path
//!   access would do before reading the value (the field read itself is not counted);
//! - `decode+encode (idl)`: the same plus encoding it again, the floor of a replace done by
//!   decoding (the change itself not counted);
//! - `decode (derived, jit)`: the fastest full decode there is, of the derived Rust type.
//!
//! Every path is checked before timing: `get` equals the value read from a full decode, and
//! `set` gives bytes whose full decode has the new value and is otherwise unchanged.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use dynthrift::path::Path;
use dynthrift::{Codec, DynSchema, DynStruct, Options, Protocol, Value};
use dynthrift_benches::measure::{self, Plan};
use dynthrift_benches::table::{self, Table};
use dynthrift_testkit::workloads as tk;

struct Case {
    root: &'static str,
    path: &'static str,
    /// The replacement value for `set` (built from the schema).
    new: fn(&Arc<DynSchema>) -> Value,
}

fn cases() -> Vec<(&'static str, Vec<Case>)> {
    vec![
        (
            "medium",
            vec![
                Case {
                    root: "Nesting",
                    path: "ListSimple[3].StringField",
                    new: |_| Value::String("replaced".into()),
                },
                Case {
                    root: "Nesting",
                    path: "MapStringSimple[\"3\"].I32Field",
                    new: |_| Value::I32(-1),
                },
                Case {
                    root: "Nesting",
                    path: "Byte",
                    new: |_| Value::I8(1),
                },
            ],
        ),
        (
            "large",
            vec![
                Case {
                    root: "Nesting2",
                    path: "ListNesting[5].MapStringSimple[\"3\"].I32Field",
                    new: |_| Value::I32(-1),
                },
                Case {
                    root: "Nesting2",
                    path: "I32",
                    new: |_| Value::I32(0),
                },
            ],
        ),
    ]
}

fn encoded(workload: &str, p: Protocol) -> Vec<u8> {
    let options = Options::default().protocol(p);
    match workload {
        "medium" => Codec::<tk::Nesting>::with_options(options)
            .and_then(|c| c.encode(&tk::nesting()))
            .expect("encode medium"),
        _ => Codec::<tk::Nesting2>::with_options(options)
            .and_then(|c| c.encode(&tk::nesting2()))
            .expect("encode large"),
    }
}

/// Reads `path` from a full decode by walking `DynStruct` values: the reference.
fn reference_get(whole: &DynStruct, path: &Path) -> Option<Value> {
    // A small walker over the path syntax the cases use: `.Field`, `[index]`, `["key"]`.
    let text = path.as_str();
    let mut cur = Value::Struct(whole.clone());
    let mut rest = text;
    while !rest.is_empty() {
        rest = rest.strip_prefix('.').unwrap_or(rest);
        if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').expect("]");
            let key = &r[..end];
            rest = &r[end + 1..];
            cur = match cur {
                Value::List(items) => items.get(key.parse::<usize>().ok()?)?.clone(),
                Value::Map(entries) => {
                    let want = key.trim_matches('"');
                    entries
                        .into_iter()
                        .find(|(k, _)| match k {
                            Value::String(s) => s == want,
                            Value::I32(i) => i.to_string() == want,
                            Value::I64(i) => i.to_string() == want,
                            _ => false,
                        })?
                        .1
                }
                other => panic!("cannot index {other:?}"),
            };
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            let name = &rest[..end];
            rest = &rest[end..];
            let Value::Struct(s) = cur else {
                panic!("not a struct at {name}")
            };
            cur = s.get(name).expect("field")?;
        }
    }
    Some(cur)
}

/// Checks every path, then times the group of each workload and protocol.
pub fn report(types: &Arc<DynSchema>, quick: bool) -> Table {
    let plan = if quick {
        Plan::QUICK
    } else {
        // Shorter than the codec tables: the ratios here are large.
        Plan {
            warmup: Duration::from_millis(100),
            sample: Duration::from_millis(20),
            samples: 21,
        }
    };
    let mut t = Table::new(["workload", "operation", "time", "±", "vs decode (idl)"]);
    for (workload, cases) in cases() {
        for p in [Protocol::Binary, Protocol::Compact] {
            let bytes = encoded(workload, p);
            let root = cases[0].root;
            let whole = DynStruct::decode(types, root, &bytes, p).expect("full decode");
            let mut names = Vec::new();
            let mut ops: Vec<Box<dyn FnMut()>> = Vec::new();
            for case in &cases {
                let path = Path::compile(types, case.root, case.path).expect("compile path");
                let want = reference_get(&whole, &path);
                assert!(want.is_some(), "{workload} {}: nothing there", case.path);
                assert_eq!(path.get(&bytes, p).expect("get"), want, "{}", case.path);
                let new = (case.new)(types);
                let out = path.set(&bytes, p, &new).expect("set");
                let after = DynStruct::decode(types, root, &out, p).expect("decode after set");
                assert_eq!(
                    reference_get(&after, &path),
                    Some(new.clone()),
                    "{}",
                    case.path
                );
                assert_eq!(
                    out.len() as isize,
                    bytes.len() as isize + encoded_delta(&want, &new, p)
                );

                let (b, pa) = (bytes.clone(), path.clone());
                names.push(format!("path get {}", case.path));
                ops.push(Box::new(move || {
                    black_box(pa.get(black_box(&b), p).expect("get"));
                }));
                let (b, pa) = (bytes.clone(), path);
                names.push(format!("path set {}", case.path));
                ops.push(Box::new(move || {
                    black_box(pa.set(black_box(&b), p, &new).expect("set"));
                }));
            }
            let (b, ty) = (bytes.clone(), types.clone());
            names.push("decode (idl)".into());
            ops.push(Box::new(move || {
                black_box(DynStruct::decode(&ty, root, black_box(&b), p).expect("decode"));
            }));
            let (b, ty) = (bytes.clone(), types.clone());
            names.push("decode+encode (idl)".into());
            ops.push(Box::new(move || {
                let v = DynStruct::decode(&ty, root, black_box(&b), p).expect("decode");
                black_box(v.encode(p).expect("encode"));
            }));
            let b = bytes.clone();
            let options = Options::default().protocol(p);
            names.push(format!(
                "decode (derived, {})",
                if p == Protocol::Binary {
                    "jit"
                } else {
                    "interp"
                }
            ));
            if workload == "medium" {
                let c = Codec::<tk::Nesting>::with_options(options).expect("codec");
                assert_eq!(c.decode(&b).expect("decode"), tk::nesting());
                ops.push(Box::new(move || {
                    black_box(c.decode(black_box(&b)).expect("decode"));
                }));
            } else {
                let c = Codec::<tk::Nesting2>::with_options(options).expect("codec");
                assert_eq!(c.decode(&b).expect("decode"), tk::nesting2());
                ops.push(Box::new(move || {
                    black_box(c.decode(black_box(&b)).expect("decode"));
                }));
            }
            let mut refs: Vec<&mut dyn FnMut()> = ops
                .iter_mut()
                .map(|o| &mut **o as &mut dyn FnMut())
                .collect();
            let stats = measure::measure_group(&mut refs, &plan);
            let base = names
                .iter()
                .position(|n| n == "decode (idl)")
                .map(|i| stats[i].median_ns);
            let proto = if p == Protocol::Compact {
                " compact"
            } else {
                ""
            };
            for (i, (name, s)) in names.iter().zip(&stats).enumerate() {
                t.row([
                    if i == 0 {
                        format!("{workload}{proto} ({} B)", bytes.len())
                    } else {
                        String::new()
                    },
                    name.clone(),
                    table::time(s.median_ns),
                    format!("{:.0} %", s.spread() * 100.0),
                    table::ratio(s.median_ns, base),
                ]);
            }
        }
    }
    t
}

/// How much longer the bytes get when `old` is replaced by `new` (strings and fixed-size
/// Binary scalars; Compact varints measured by encoding).
fn encoded_delta(old: &Option<Value>, new: &Value, p: Protocol) -> isize {
    fn len(v: &Value, p: Protocol) -> usize {
        let mut out = Vec::new();
        match p {
            Protocol::Binary => {
                let mut w = dynthrift::wire::binary::BinaryWriter::new(&mut out);
                write(&mut w, v);
            }
            Protocol::Compact => {
                let mut w = dynthrift::wire::compact::CompactWriter::new(&mut out);
                write(&mut w, v);
            }
        }
        out.len()
    }
    fn write<W: dynthrift::wire::ProtoWrite>(w: &mut W, v: &Value) {
        match v {
            Value::I8(x) => w.write_i8(*x),
            Value::I32(x) => w.write_i32(*x),
            Value::String(s) => w.write_string(s).expect("string"),
            other => panic!("no size for {other:?}"),
        }
    }
    let old = old.as_ref().expect("old value");
    len(new, p) as isize - len(old, p) as isize
}
