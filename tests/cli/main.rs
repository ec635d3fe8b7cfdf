//! The integration tests: real git on real temporary repositories, with
//! git's environment scrubbed so the machine's configuration cannot leak in.

mod support;

mod add;
mod audit;
mod bypass;
mod checks;
mod ci;
mod clone;
mod color;
mod conflicts;
mod crash;
mod differential;
mod dispatch;
mod doctor;
mod extras;
mod gate;
mod guardrails;
mod hooks;
mod keep;
mod land;
mod layers;
mod lifecycle;
mod manifest;
mod merges;
mod moved;
mod orchestrate;
mod packs;
mod props;
mod push;
mod races;
mod range;
mod refguard;
#[cfg(target_os = "linux")]
mod sandbox;
mod scan;
mod scope;
mod seal;
mod soak;
mod sparse;
mod state;
mod train;
mod unland;
