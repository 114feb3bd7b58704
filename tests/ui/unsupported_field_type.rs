use dynthrift::Thrift;

#[derive(Thrift)]
struct Counters {
    #[thrift(id = 1)]
    hits: u32,
    #[thrift(id = 2)]
    shared: std::rc::Rc<i32>,
    #[thrift(id = 3)]
    big: Vec<u64>,
}

#[derive(Thrift)]
enum Choice {
    #[thrift(id = 1)]
    Small(u8),
}

fn main() {}
