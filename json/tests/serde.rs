//! serde for IDL-only values: `Serialize`, `StructSeed`, `serde_json::Value` conversions.

use std::sync::Arc;

use dynthrift::json::serde::{Mapping, StructSeed, from_json_str, from_json_value, to_json_value};
use dynthrift::{DynSchema, DynStruct, Protocol, Value};
use dynthrift_testkit::{testdata, workloads as tk};
use serde::de::DeserializeSeed;
use serde_json::json;

fn types() -> Arc<DynSchema> {
    let schema = dynthrift::idl::parse_file(testdata("idl/frugal/tests/baseline.thrift")).unwrap();
    DynSchema::new(schema).unwrap()
}

#[test]
fn json_values_round_trip_the_workloads() {
    let types = types();
    for (name, bytes) in [
        ("Simple", dynthrift::encode(&tk::simple()).unwrap()),
        ("Nesting", dynthrift::encode(&tk::nesting()).unwrap()),
        ("Nesting2", dynthrift::encode(&tk::nesting2()).unwrap()),
    ] {
        let v = DynStruct::decode(&types, name, &bytes, Protocol::Binary).unwrap();
        for m in [
            Mapping::default(),
            Mapping::default()
                .field_ids(true)
                .i64_as_string(true)
                .enum_names(true),
        ] {
            let j = to_json_value(&v, &m).unwrap();
            // (serde_json::Value sorts object keys: map entries come back in another order,
            // so values are compared as JSON values.)
            let back = from_json_value(&types, name, &j, &m).unwrap();
            assert_eq!(to_json_value(&back, &m).unwrap(), j, "{name} {m:?}");
            // `Serialize` with the default mapping is what `to_json_value` gives.
            if m == Mapping::default() {
                assert_eq!(serde_json::to_value(&v).unwrap(), j);
            }
            // Through a seed on a streaming deserializer.
            let text = serde_json::to_string(&j).unwrap();
            let id = types.schema().expect_struct(name).unwrap();
            let mut de = serde_json::Deserializer::from_str(&text);
            let back = StructSeed::new(&types, id, &m)
                .deserialize(&mut de)
                .unwrap();
            assert_eq!(to_json_value(&back, &m).unwrap(), j);
            // In wire order (no sorting on the way): the very same value.
            let text =
                serde_json::to_string(&dynthrift::json::serde::Mapped::new(v.view(), &m)).unwrap();
            assert_eq!(from_json_str(&types, name, &text, &m).unwrap(), v);
        }
    }
}

#[test]
fn shape_of_the_json() {
    let types = types();
    let v = DynStruct::decode(
        &types,
        "Simple",
        &dynthrift::encode(&tk::simple()).unwrap(),
        Protocol::Binary,
    )
    .unwrap();
    let j = to_json_value(&v, &Mapping::default().enum_names(true).i64_as_string(true)).unwrap();
    assert_eq!(j["enumField"], "ValueA");
    assert_eq!(j["I64Field"], "9223372036854775807");
    assert_eq!(j["ByteField"], 127);
    assert!(j["BinaryField"].as_str().unwrap().starts_with("AAECAwQF"));
    let j = to_json_value(&v, &Mapping::default().field_ids(true)).unwrap();
    assert_eq!(j["1"], 127);
    // Maps: string keys, stringified scalar keys.
    let mut n = DynStruct::new(&types, "Nesting").unwrap();
    n.set(
        "MapI32I64",
        Value::Map(vec![(Value::I32(-1), Value::I64(2))]),
    )
    .unwrap();
    let j = to_json_value(&n, &Mapping::default()).unwrap();
    assert_eq!(j["MapI32I64"], json!({"-1": 2}));
    // A plain `Value`.
    let v = Value::List(vec![
        Value::Double(f64::NAN),
        Value::Binary(vec![1u8, 2].into()),
    ]);
    assert_eq!(serde_json::to_value(&v).unwrap(), json!(["NaN", "AQI="]));
}

#[test]
fn errors_and_options() {
    let types = types();
    let m = Mapping::default();
    let e = from_json_value(&types, "Simple", &json!({"Nope": 1}), &m).unwrap_err();
    assert!(e.to_string().contains("Simple has no field 'Nope'"), "{e}");
    let v = from_json_value(
        &types,
        "Simple",
        &json!({"Nope": 1, "I32Field": 3}),
        &m.clone().ignore_unknown(true),
    )
    .unwrap();
    assert_eq!(v.get("I32Field").unwrap(), Some(Value::I32(3)));
    let e = from_json_value(&types, "Simple", &json!({"ByteField": 300}), &m).unwrap_err();
    assert!(e.to_string().contains("300 does not fit in a byte"), "{e}");
    let e = from_json_str(
        &types,
        "Simple",
        "{\"I32Field\": 1,\n \"StringField\": 5}",
        &m,
    )
    .unwrap_err();
    assert!(e.to_string().contains("line 2"), "{e}");
    assert_eq!(e.offset(), Some(32));
    let schema = dynthrift::idl::parse_str(
        "struct R { 1: required i32 a } union U { 1: i32 x, 2: string y }",
    )
    .unwrap();
    let t = DynSchema::new(schema).unwrap();
    let e = from_json_value(&t, "R", &json!({}), &m).unwrap_err();
    assert!(e.to_string().contains("missing required field 'a'"), "{e}");
    let e = from_json_value(&t, "U", &json!({"x": 1, "y": "a"}), &m).unwrap_err();
    assert!(e.to_string().contains("exactly one field"), "{e}");
    let u = from_json_value(&t, "U", &json!({"y": "a"}), &m).unwrap();
    assert_eq!(to_json_value(&u, &m).unwrap(), json!({"y": "a"}));
}
