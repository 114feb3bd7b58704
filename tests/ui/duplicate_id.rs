use dynthrift::Thrift;

#[derive(Thrift)]
struct Point {
    #[thrift(id = 1)]
    x: i32,
    #[thrift(id = 2)]
    y: i32,
    #[thrift(id = 1)]
    z: i32,
}

#[derive(Thrift)]
enum Shape {
    #[thrift(id = 7)]
    Circle(f64),
    #[thrift(id = 7)]
    Square(f64),
}

fn main() {}
