pub mod reference;
pub mod rng;
pub mod scratch;
