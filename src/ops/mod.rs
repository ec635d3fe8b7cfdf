//! The operations commands share: the gate, provisioning, landing, syncing,
//! removal, the conflict forecast, health checks and hook installation.

pub mod authority;
pub mod ci;
pub mod copies;
pub mod forecast;
pub mod gate;
pub mod health;
pub mod hooks;
pub mod landing;
pub mod provision;
pub mod receive;
pub mod removal;
pub mod status;
pub mod syncing;
