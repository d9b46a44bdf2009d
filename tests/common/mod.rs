pub mod reference;
pub mod scratch;
