use dynthrift::{Thrift, UnknownFields};

#[derive(Thrift)]
struct WrongType {
    #[thrift(unknown_fields)]
    rest: Vec<u8>,
}

#[derive(Thrift)]
struct Twice {
    #[thrift(unknown_fields)]
    first: UnknownFields,
    #[thrift(unknown_fields, id = 3)]
    second: UnknownFields,
}

#[derive(Thrift)]
struct SkipConflicts {
    #[thrift(skip, id = 1, rename = "x")]
    cache: Vec<u64>,
}

fn main() {}
