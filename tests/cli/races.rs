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

/// `land` takes no lease, so `rm` can remove its agent after `land` read
/// the entry. The landing must then end in a clear error (exit 2, like an
/// unknown agent), the base untouched, not in whatever step failed first.
#[test]
fn landing_an_agent_removed_after_its_entry_was_read_is_a_clear_error() {
    let env = Env::with_policy("version: 1\n");
    env.ok(env.agent("add", &["a", "--scope", "src/", "--guardrails", "none"]));
    let dir = env.agent_dir("a");
    write_in(&dir, "src/new.rs", "fn new() {}\n");
    env.git_in(&dir, &["add", "."]);
    env.git_in(&dir, &["commit", "-q", "-m", "New"]);
    let read = entries(&env).pop().unwrap();
    env.ok(env.agent("rm", &["a", "--force"]));
    let base = env.git(&["rev-parse", "main"]);
    let repo = gix::open(env.repo()).unwrap();
    let options = git_agent::ops::landing::LandOptions {
        strategy: None,
        no_checks: true,
        dry_run: false,
        accept: false,
        narrate_on_stderr: false,
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut io = git_agent::Io {
        out: &mut out,
        err: &mut err,
        color: Default::default(),
    };
    let landed = git_agent::ops::landing::land(&repo, &read, &options, &mut io);
    let Err(e) = landed else {
        panic!(
            "no error for a removed agent: {:?}",
            landed.map(|r| r.verdict)
        );
    };
    assert!(
        matches!(e, git_agent::Error::RemovedMeanwhile { ref name, .. } if name == "a"),
        "{e:?}"
    );
    assert_eq!(e.exit_code(), 2);
    assert!(
        e.to_string().contains(
            "agent 'a' was removed by another git-agent process while it was being landed"
        ),
        "{e}"
    );
    assert_eq!(env.git(&["rev-parse", "main"]), base);
}
