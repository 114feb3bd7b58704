//! The IDL front end: lexing, parsing and resolution of `.thrift` files into a [`Schema`].

use crate::{Result, Schema};
