//! The commits a range holds equal git's: random histories of branches and
//! merges, every commit at the same second (as commits made in one second,
//! or tests with fixed dates, are), compared by `changes::range_hiding`
//! and by `git rev-list TO --not HIDDEN...`.

use std::collections::BTreeSet;

use git_agent::git::changes::range_hiding;
use proptest::prelude::*;

use super::config;
use crate::support::*;

/// One step of a history: a commit on top of commit `on` (an index into
/// the commits so far), with a second parent `merge` when given.
#[derive(Debug, Clone)]
struct Step {
    on: usize,
    merge: Option<usize>,
}

fn history() -> impl Strategy<Value = Vec<Step>> {
    proptest::collection::vec(
        (
            any::<prop::sample::Index>(),
            proptest::option::of(any::<prop::sample::Index>()),
        ),
        2..30,
    )
    .prop_map(|raw| {
        raw.into_iter()
            .enumerate()
            .map(|(n, (on, merge))| Step {
                // Commit n+1 builds on one of the n+1 made before it.
                on: on.index(n + 1),
                merge: merge.map(|m| m.index(n + 1)),
            })
            .collect()
    })
}

/// Make the history with `git commit-tree`, all at one date; the ids of
/// every commit, the root first.
fn make(env: &Env, steps: &[Step]) -> Vec<String> {
    let tree = env.git(&["write-tree"]).trim().to_owned();
    let mut ids = vec![env.git(&["rev-parse", "HEAD"]).trim().to_owned()];
    for (n, step) in steps.iter().enumerate() {
        let message = format!("c{n}");
        let mut args = vec![
            "commit-tree",
            tree.as_str(),
            "-m",
            &message,
            "-p",
            &ids[step.on],
        ];
        if let Some(m) = step.merge.filter(|m| *m != step.on) {
            args.extend(["-p", &ids[m]]);
        }
        let id = env.git(&args).trim().to_owned();
        ids.push(id);
    }
    ids
}

proptest! {
    #![proptest_config(config(24))]

    #[test]
    fn range_walks_hold_the_commits_git_rev_list_holds(
        steps in history(),
        picks in proptest::collection::vec(any::<prop::sample::Index>(), 3),
    ) {
        let env = Env::new();
        let ids = make(&env, &steps);
        let to = &ids[picks[0].index(ids.len())];
        let hidden: Vec<&String> = vec![&ids[picks[1].index(ids.len())], &ids[picks[2].index(ids.len())]];
        let mut args = vec!["rev-list", to.as_str(), "--not"];
        args.extend(hidden.iter().map(|h| h.as_str()));
        let git: BTreeSet<String> = env.git(&args).lines().map(str::to_owned).collect();
        let repo = gix::open(env.repo()).unwrap();
        let oid = |s: &String| gix::ObjectId::from_hex(s.as_bytes()).unwrap();
        let hidden_ids: Vec<gix::ObjectId> = hidden.iter().map(|h| oid(h)).collect();
        let ours: BTreeSet<String> = range_hiding(&repo, &hidden_ids, oid(to))
            .unwrap()
            .into_iter()
            .map(|c| c.commit)
            .collect();
        prop_assert_eq!(ours, git, "steps {:?}", steps);
    }
}
