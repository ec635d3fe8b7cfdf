//! One module per command: its arguments, the call into `ops` and the
//! rendering of what came back.

pub mod add;
pub mod audit;
pub mod brief;
pub mod conflicts;
pub mod demo;
pub mod doctor;
pub mod exec;
pub mod guard;
pub mod hooks;
pub mod init;
pub mod install_extras;
pub mod land;
pub mod list;
pub mod restore;
pub mod rm;
pub mod scope;
pub mod sync;
pub mod unland;
