use dynthrift::Thrift;

#[derive(Thrift)]
struct Point {
    #[thrift(id = 1)]
    x: i32,
    y: i32,
    #[thrift(rename = "zed")]
    z: i32,
}

#[derive(Thrift)]
enum Shape {
    #[thrift(id = 1)]
    Circle(f64),
    Square(f64),
}

fn main() {}
