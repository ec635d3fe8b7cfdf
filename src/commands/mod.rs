//! One module per command: its arguments, the call into `ops` and the
//! rendering of what came back.

pub mod demo;
pub mod exec;
pub mod init;
pub mod install_extras;
pub mod list;
