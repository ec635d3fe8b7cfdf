//! Named crash points, for the tests that prove a killed command loses
//! nothing (`tests/cli/crash.rs`).
//!
//! Every command that writes names the boundaries between its steps with
//! [`point`]. In a debug build, `GIT_AGENT_TEST_CRASH_AT=land:after-cas`
//! makes the process SIGKILL itself when it reaches that step, as a `kill
//! -9` from outside would, but at a known moment. A release build compiles
//! the check out: [`point`] is then empty and never reads the environment.
//!
//! The steps of each command are listed in [`STEPS`], so the tests iterate
//! over all of them; a test fails when a `point` names a step missing there.

/// The test-only variable naming the one step to crash at.
#[cfg(debug_assertions)]
pub const VARIABLE: &str = "GIT_AGENT_TEST_CRASH_AT";

/// `add`: the name reserved (entry `adding`), the branch and worktree made,
/// the worktree prepared (setup run), the entry ready and sealed, the
/// guardrails written.
pub const ADD: &[&str] = &[
    "add:after-reserve",
    "add:after-make",
    "add:after-prepare",
    "add:after-ready",
    "add:after-guardrails",
];

/// `land`: vetted in memory, objects persisted, inside and after the
/// checks, under the landing lock before and after the base's
/// compare-and-swap, and after the agent's branch followed.
pub const LAND: &[&str] = &[
    "land:after-vet",
    "land:after-persist",
    "land:during-checks",
    "land:after-checks",
    "land:before-cas",
    "land:after-cas",
    "land:after-follow",
];

/// `land A B C…`, a train: every agent vetted and the chain merged in
/// memory, objects persisted, inside the checks (once, on the whole chain),
/// under the landing lock before and after the base's compare-and-swap,
/// and after the branches followed.
pub const TRAIN: &[&str] = &[
    "train:after-vet",
    "train:after-persist",
    "land:during-checks",
    "train:before-cas",
    "train:after-cas",
    "train:after-follow",
];

/// `unland` by revert: the revert planned in memory, its objects
/// persisted, inside and after the checks (`checking` names its step
/// `land:during-checks` for both), under the landing lock before and after
/// the base's compare-and-swap, and after the agent's work was kept (its
/// branch moved to the reapplied work). `--hard` passes only the last
/// three ([`UNLAND_HARD`]).
pub const UNLAND: &[&str] = &[
    "unland:after-plan",
    "unland:after-persist",
    "land:during-checks",
    "unland:after-checks",
    "unland:before-cas",
    "unland:after-cas",
    "unland:after-keep",
];

/// The steps of `unland --hard`: no checks, the base moved back.
pub const UNLAND_HARD: &[&str] = &["unland:before-cas", "unland:after-cas", "unland:after-keep"];

/// `sync`: the lease taken, git's merge or rebase done (lease still held).
pub const SYNC: &[&str] = &["sync:after-lease", "sync:after-merge"];

/// `rm`: the lease taken, the work archived, the worktree removed, the
/// branch deleted, the entry dropped (lease still held).
pub const RM: &[&str] = &[
    "rm:after-lease",
    "rm:after-archive",
    "rm:after-worktree-removal",
    "rm:after-branch-deletion",
    "rm:after-registry-update",
];

/// `restore`: the entry reserved (`adding`), the branch made, the worktree
/// checked out, the archived files put back, the entry ready.
pub const RESTORE: &[&str] = &[
    "restore:after-reserve",
    "restore:after-branch",
    "restore:after-checkout",
    "restore:after-reapply",
    "restore:after-ready",
];

/// `scope set|add|rm`: the seal written (the registry not yet), the
/// registry written, the guardrails rewritten.
pub const SCOPE: &[&str] = &[
    "scope:after-seal",
    "scope:after-registry-write",
    "scope:after-guardrails",
];

/// `doctor --fix`: after the first repair, and inside the roll-back of a
/// half-made agent (its work archived, its worktree removed, its branch
/// deleted).
pub const DOCTOR: &[&str] = &[
    "doctor:after-repair",
    "doctor:roll-back:after-archive",
    "doctor:roll-back:after-worktree-removal",
    "doctor:roll-back:after-branch-deletion",
];

/// `exec`: the lease taken, before the command starts.
pub const EXEC: &[&str] = &["exec:after-lease"];

/// Any command: the new registry written to its temporary file, not yet
/// renamed over the old one (crashes at the first registry write).
pub const REGISTRY: &[&str] = &["registry:before-rename"];

/// Every step, by the command whose run crashes there.
pub const STEPS: &[(&str, &[&str])] = &[
    ("add", ADD),
    ("land", LAND),
    ("train", TRAIN),
    ("unland", UNLAND),
    ("sync", SYNC),
    ("rm", RM),
    ("restore", RESTORE),
    ("scope", SCOPE),
    ("doctor", DOCTOR),
    ("exec", EXEC),
    ("registry", REGISTRY),
];

/// Crash here when the test asked for `step`: SIGKILL, so no destructor,
/// no buffered write and no cleanup runs.
#[cfg(debug_assertions)]
pub fn point(step: &str) {
    if std::env::var_os(VARIABLE).is_some_and(|want| want == step) {
        // SAFETY: kill(2) with our own pid and a valid signal; it does not
        // return.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
    }
}

/// A release build has no crash points.
#[cfg(not(debug_assertions))]
#[inline(always)]
pub fn point(_step: &str) {}
