//! The operations commands share: the gate, provisioning, landing, syncing,
//! removal, landing trains, the conflict forecast, health checks, hook installation, the
//! write sandbox and the seals on agents' rights.

pub mod audit;
pub mod authority;
pub mod brief;
pub mod checking;
pub mod ci;
pub mod claude_hook;
pub mod context;
pub mod copies;
pub mod forecast;
pub mod gate;
pub mod guardrails;
pub mod health;
pub mod hooks;
pub mod landing;
pub mod provision;
pub mod receipts;
pub mod receive;
pub mod ref_guard;
pub mod removal;
pub mod sandbox;
pub mod sealing;
pub mod sparse;
pub mod status;
pub mod syncing;
pub mod train;
pub mod unlanding;
