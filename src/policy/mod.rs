//! The policy: scope patterns, the manifest and what an agent may change.
//! Pure code over values; reading the manifest from a commit is `git`'s job.

pub mod branches;
pub mod manifest;
pub mod names;
pub mod pattern;
pub mod scope;
