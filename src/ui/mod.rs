//! What commands show: colour, progress, and the writers and error
//! rendering every command shares.

pub mod color;
pub mod progress;
pub mod refusal;
pub mod writers;
