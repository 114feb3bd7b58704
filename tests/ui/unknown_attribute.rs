use dynthrift::Thrift;

#[derive(Thrift)]
#[thrift(rename_all = "camelCase")]
struct Config {
    #[thrift(id = 1, with = "module")]
    port: i32,
    #[thrift(id = 2, exception)]
    host: String,
    #[thrift(id = 3, serde(flatten), required)]
    user: String,
}

#[derive(Thrift)]
#[thrift(exception)]
enum Level {
    #[thrift(id = 1)]
    Low,
}

fn main() {}
