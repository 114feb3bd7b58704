use dynthrift::Thrift;

#[derive(Thrift)]
struct Config {
    #[thrift(id = 1, required, optional)]
    port: Option<i32>,
}

fn main() {}
