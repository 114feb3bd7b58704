//! A derived Rust type checked against the IDL type it claims to implement.

use dynthrift::{Codec, Thrift};
use dynthrift_testkit::workloads::{Nesting, Nesting2, PartialNesting, Simple};

fn baseline() -> dynthrift::Schema {
    dynthrift::idl::parse_file(dynthrift_testkit::testdata(
        "idl/frugal/tests/baseline.thrift",
    ))
    .unwrap()
}

#[test]
fn workload_types_match_baseline_thrift() {
    let schema = baseline();
    assert_eq!(
        Codec::<Simple>::new()
            .unwrap()
            .check_against(&schema, "Simple")
            .unwrap(),
        vec![]
    );
    assert_eq!(
        Codec::<Nesting>::new()
            .unwrap()
            .check_against(&schema, "Nesting")
            .unwrap(),
        vec![]
    );
    assert_eq!(
        Codec::<Nesting2>::new()
            .unwrap()
            .check_against(&schema, "Nesting2")
            .unwrap(),
        vec![]
    );
}

#[test]
fn partial_view_reports_the_fields_it_leaves_out() {
    let schema = baseline();
    let report = Codec::<PartialNesting>::new()
        .unwrap()
        .check_against(&schema, "Nesting")
        .unwrap();
    let text: Vec<String> = report.iter().map(|m| m.to_string()).collect();
    assert!(
        text.contains(
            &"Nesting.String: field 1 (string) is missing from the Rust type".to_string()
        ),
        "{text:#?}"
    );
    assert!(
        text.contains(
            &"Nesting.ListSimple[].I64Field: field 2 (i64) is missing from the Rust type"
                .to_string()
        ),
        "{text:#?}"
    );
    // 12 top-level fields and 4 of PartialSimple's (reported once, however often it is used).
    assert_eq!(report.len(), 12 + 4, "{text:#?}");
}

#[derive(Thrift, Debug)]
#[thrift(rename = "Simple")]
struct WrongSimple {
    #[thrift(id = 1, rename = "ByteField")]
    byte_field: i32,
    #[thrift(id = 2, rename = "Int64")]
    i64_field: i64,
    #[thrift(id = 9)]
    extra: bool,
}

#[test]
fn every_mismatch_is_reported() {
    let report = Codec::<WrongSimple>::new()
        .unwrap()
        .check_against(&baseline(), "Simple")
        .unwrap();
    let text: Vec<String> = report.iter().map(|m| m.to_string()).collect();
    assert_eq!(
        text,
        vec![
            "Simple.ByteField: is i32 on the wire in Rust but i8 in the IDL",
            "Simple.I64Field: field 2 is named 'Int64' in Rust",
            "Simple.DoubleField: field 3 (double) is missing from the Rust type",
            "Simple.I32Field: field 4 (i32) is missing from the Rust type",
            "Simple.StringField: field 5 (string) is missing from the Rust type",
            "Simple.BinaryField: field 6 (binary) is missing from the Rust type",
            "Simple.enumField: field 7 (Enums) is missing from the Rust type",
            "Simple.extra: field 9 is not in the IDL",
        ]
    );
}
