//! git-agent's own state in the common directory: the registry of agents,
//! leases and archives of removed agents.

pub mod archive;
pub mod lease;
pub mod marker;
pub mod registry;
