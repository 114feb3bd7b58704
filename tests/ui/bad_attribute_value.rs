use dynthrift::Thrift;

#[derive(Thrift)]
struct Config {
    #[thrift(id = "1")]
    a: i32,
    #[thrift(id = 40000)]
    b: i32,
    #[thrift(id = -32769)]
    c: i32,
    #[thrift(id = 1.5)]
    d: i32,
    #[thrift(id = 5, rename = ident)]
    e: i32,
    #[thrift(id = 6, rename = "")]
    f: i32,
    #[thrift(id = 7, required = true)]
    g: i32,
    #[thrift(id = 8, id = 9)]
    h: i32,
}

#[derive(Thrift)]
enum Big {
    #[thrift(value = 2147483648)]
    A,
}

fn main() {}
