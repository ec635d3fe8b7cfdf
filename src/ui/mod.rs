//! What commands show: colour and progress.

pub mod color;
pub mod progress;
