use dynthrift::Thrift;

#[derive(Thrift)]
enum Status {
    Ok = 1,
    Warn,
    #[thrift(value = 1)]
    Error,
}

#[derive(Thrift)]
enum Implicit {
    A = 5,
    #[thrift(value = 3)]
    B,
    C,
    D,
}

const BASE: isize = 3;

#[derive(Thrift)]
enum NotLiteral {
    A = BASE,
}

#[derive(Thrift)]
enum TwoDefaults {
    #[thrift(default)]
    A,
    #[thrift(default)]
    B,
}

fn main() {}
