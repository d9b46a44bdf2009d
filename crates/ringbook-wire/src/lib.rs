//! The protocols of Ringbook's network edge, as pure codecs: encode, decode and validate
//! byte buffers, with no I/O and no policy of their own (the sessions, sockets and timers
//! live in `ringbook-gateway`).
//!
//! Every layout follows its public specification to the byte; each module names the
//! specification and the section it implements.

pub mod glimpse;
pub mod itch;
pub mod mold;
