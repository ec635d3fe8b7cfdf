//! Interleavings the soak (`soak.rs`) found, replayed deterministically:
//! a command reads the registry, another process removes an agent, and the
//! first goes on from what it read.

use git_agent::state::registry::{Agent, Registry};

use crate::support::*;

fn entries(env: &Env) -> Vec<Agent> {
    Registry::new(&env.repo().join(".git"))
        .load()
        .unwrap()
        .into_values()
        .collect()
}

/// `add`'s overlap warning (and `conflicts`) read the registry, then
/// looked each agent up again: one removed in between failed the whole
/// forecast as "unknown agent", and `add` exited 2 with its agent made
/// (seen in the soak). They now go on from the entries they read.
#[test]
fn scope_overlaps_of_entries_read_before_a_removal_still_answer() {
    let env = Env::with_policy("version: 1\n");
    for name in ["a", "b"] {
        env.ok(env.agent("add", &[name, "--scope", "src/", "--guardrails", "none"]));
    }
    let read = entries(&env);
    env.ok(env.agent("rm", &["b", "--force"]));
    let repo = gix::open(env.repo()).unwrap();
    let overlaps = git_agent::ops::forecast::scope_overlaps(&repo, &read, Some("a")).unwrap();
    assert_eq!(overlaps.len(), 1, "{overlaps:?}");
    assert_eq!(
        (overlaps[0].left.as_str(), overlaps[0].right.as_str()),
        ("a", "b")
    );
    assert_eq!(overlaps[0].files, 3, "{overlaps:?}");
    // And `add` beside a removed agent still warns and succeeds.
    let run = env.ok(env.agent("add", &["c", "--scope", "src/", "--guardrails", "none"]));
    assert!(run.stderr.contains("overlaps agent 'a'"), "{run:?}");
}
