//! The main job on shipped data: load an IDL file, print its resolved schema, then encode and
//! decode a real value of it — as an IDL-only value and as a derived Rust struct — in both
//! protocols, checking that both paths produce the same bytes.
//!
//! `cargo run --release --example demo -- testdata/idl/frugal/tests/baseline.thrift`

use std::process::ExitCode;

use dynthrift::{Codec, DynSchema, DynStruct, Options, Protocol, Value};
use dynthrift_testkit::workloads;

fn main() -> ExitCode {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "testdata/idl/frugal/tests/baseline.thrift".into());
    match run(&path) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn hex(bytes: &[u8], max: usize) -> String {
    let mut s: String = bytes
        .iter()
        .take(max)
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ");
    if bytes.len() > max {
        s.push_str(" ...");
    }
    s
}

fn run(path: &str) -> dynthrift::Result<()> {
    let schema = dynthrift::idl::parse_file(path)?;
    println!("== resolved schema of {path}\n{schema}");

    if schema.struct_id("Simple").is_none() {
        println!("(no struct named Simple in this file: schema printed, nothing to encode)");
        return Ok(());
    }
    let types = DynSchema::new(schema)?;

    // The workload's `Simple`, built by field name as an IDL-only value.
    let mut dynamic = DynStruct::new(&types, "Simple")?;
    dynamic.set("ByteField", Value::I8(127))?;
    dynamic.set("I64Field", i64::MAX)?;
    dynamic.set("DoubleField", f64::MAX)?;
    dynamic.set("I32Field", i32::MAX)?;
    dynamic.set("StringField", workloads::sample_string())?;
    dynamic.set("BinaryField", workloads::sample_binary())?;
    dynamic.set("enumField", 0i32)?;

    // The same value as a derived Rust struct.
    let derived = workloads::simple();

    for protocol in [Protocol::Binary, Protocol::Compact] {
        let dyn_bytes = dynamic.encode(protocol)?;
        let codec =
            Codec::<workloads::Simple>::with_options(Options::default().protocol(protocol))?;
        let derived_bytes = codec.encode(&derived)?;
        println!(
            "== Simple, {protocol:?} protocol: {} bytes",
            dyn_bytes.len()
        );
        println!("   {}", hex(&dyn_bytes, 48));
        if dyn_bytes != derived_bytes {
            return Err(dynthrift::Error::schema(
                "IDL-only and derived encodings differ",
            ));
        }
        println!("   derived struct encodes to the same bytes");
        let back = DynStruct::decode(&types, "Simple", &dyn_bytes, protocol)?;
        if back != dynamic {
            return Err(dynthrift::Error::schema(
                "IDL-only value did not round-trip",
            ));
        }
        let back = codec.decode(&derived_bytes)?;
        if back != derived {
            return Err(dynthrift::Error::schema("derived value did not round-trip"));
        }
        println!("   decoded back to equal values (IDL-only and derived)");
    }
    let medium = Codec::<workloads::Nesting>::new()?.encode(&workloads::nesting())?;
    let large = Codec::<workloads::Nesting2>::new()?.encode(&workloads::nesting2())?;
    println!(
        "== workloads, Binary: Nesting {} bytes, Nesting2 {} bytes",
        medium.len(),
        large.len()
    );
    println!(
        "decoded: {:?}",
        DynStruct::decode(
            &types,
            "Simple",
            &dynamic.encode(Protocol::Binary)?,
            Protocol::Binary
        )?
        .get("I32Field")?
    );
    Ok(())
}
