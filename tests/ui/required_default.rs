use dynthrift::Thrift;

#[derive(Thrift)]
struct Config {
    #[thrift(id = 1, required, default = 8080)]
    port: i32,
    #[thrift(id = 2, default, required)]
    host: String,
}

fn main() {}
