//! git-agent's own state in the common directory: the registry of agents,
//! leases, locks and archives of removed agents.

pub mod archive;
pub mod lease;
pub mod lock;
pub mod registry;
