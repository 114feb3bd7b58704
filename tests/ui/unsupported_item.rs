use dynthrift::Thrift;

#[derive(Thrift)]
struct Pair(i32, i32);

#[derive(Thrift)]
struct Marker;

#[derive(Thrift)]
union Bits {
    int: i32,
    float: f32,
}

#[derive(Thrift)]
enum Never {}

#[derive(Thrift)]
#[repr(C, packed)]
struct Packed {
    #[thrift(id = 1)]
    a: i8,
    #[thrift(id = 2)]
    b: i64,
}

fn main() {}
