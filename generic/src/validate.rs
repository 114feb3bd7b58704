//! placeholder
#[derive(Debug)]
pub struct Validator;
