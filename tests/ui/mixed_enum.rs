use dynthrift::Thrift;

#[derive(Thrift)]
enum Mixed {
    #[thrift(id = 1)]
    Name(String),
    Nothing,
}

#[derive(Thrift)]
enum TwoFields {
    #[thrift(id = 1)]
    Point(i32, i32),
}

#[derive(Thrift)]
enum Named {
    #[thrift(id = 1)]
    Point { x: i32 },
}

fn main() {}
