use dynthrift::Thrift;

#[derive(Thrift)]
struct Wrapper<T> {
    #[thrift(id = 1)]
    value: T,
}

#[derive(Thrift)]
struct Borrowed<'a> {
    #[thrift(id = 1)]
    name: &'a str,
}

fn main() {}
