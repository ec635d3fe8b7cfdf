//! git-agent's own state in the common directory: the registry of agents,
//! leases, locks, archives of removed agents and the seals on agents' rights.

pub mod archive;
pub mod crash;
pub mod lease;
pub mod lock;
pub mod marker;
pub mod registry;
pub mod seal;
