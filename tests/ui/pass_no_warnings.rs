//! Everything the derive emits compiles without a warning, even in a strict crate.
#![deny(warnings, missing_debug_implementations, rust_2018_idioms, unused_qualifications)]

use dynthrift::{Describe, Thrift, UnknownFields};

/// A struct.
#[derive(Thrift, Debug)]
pub struct Node {
    #[thrift(id = 1, required)]
    pub name: String,
    #[thrift(id = 2)]
    pub children: Vec<Node>,
    #[thrift(id = 3)]
    pub next: Option<Box<Self>>,
    #[thrift(skip)]
    pub scratch: u64,
    #[thrift(unknown_fields)]
    pub unknown: UnknownFields,
}

/// A Thrift enum.
#[derive(Thrift, Debug)]
pub enum Color {
    Red,
    Green = 5,
}

/// A Thrift union with one variant.
#[derive(Thrift, Debug)]
pub enum Only {
    #[thrift(id = 1)]
    One(Node),
}

#[derive(Thrift)]
struct Private {}

fn main() {
    let _ = (Node::empty(), Color::empty(), Only::empty(), Private::empty());
}
