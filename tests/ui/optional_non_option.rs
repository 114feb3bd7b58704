use dynthrift::Thrift;

#[derive(Thrift)]
struct Config {
    #[thrift(id = 1, optional)]
    port: i32,
    #[thrift(id = 2, optional)]
    hosts: Vec<Option<String>>,
}

fn main() {}
