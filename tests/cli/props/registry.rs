//! The registry under random operations with interleaved crashes: after
//! every step it parses and holds exactly the operations that completed.
//!
//! A crash is simulated as a killed writer leaves it: the registry writes
//! a temporary file in its directory and renames it over `agents.json`,
//! so a writer killed before the rename leaves a partial temporary file
//! (here: a truncated copy of what it was writing) and the old registry.

use std::collections::BTreeMap;

use git_agent::state::registry::{Agent, Agents, Registry};
use proptest::prelude::*;

use super::config;

#[derive(Debug, Clone)]
enum Op {
    Insert(String),
    SetTask(String, String),
    Remove(String),
    /// A writer killed after writing `cut` bytes of the new registry.
    Crash(Box<Op>, usize),
}

fn name() -> impl Strategy<Value = String> {
    proptest::sample::select(&["a", "b", "c", "d-1", "e.x"][..]).prop_map(str::to_owned)
}

fn plain_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        name().prop_map(Op::Insert),
        (name(), "[a-z é\"\\\\]{0,12}").prop_map(|(n, t)| Op::SetTask(n, t)),
        name().prop_map(Op::Remove),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => plain_op(),
        1 => (plain_op(), any::<usize>()).prop_map(|(op, cut)| Op::Crash(Box::new(op), cut)),
    ]
}

fn agent(name: &str) -> Agent {
    Agent {
        name: name.to_owned(),
        branch: format!("agent/{name}"),
        path: format!("/work/{name}").into(),
        base: "main".into(),
        scope: vec!["src/".into()],
        areas: vec![],
        task: None,
        role: Default::default(),
        mode: Default::default(),
        state: Default::default(),
        created: 1,
        port: Some(4000),
        adding_pid: None,
        setup_failed: false,
        sparse: false,
    }
}

fn apply(op: &Op, agents: &mut Agents) {
    match op {
        Op::Insert(n) => {
            agents.entry(n.clone()).or_insert_with(|| agent(n));
        }
        Op::SetTask(n, t) => {
            if let Some(a) = agents.get_mut(n) {
                a.task = Some(t.clone());
            }
        }
        Op::Remove(n) => {
            agents.remove(n);
        }
        Op::Crash(..) => unreachable!("a crash is not applied"),
    }
}

/// What a writer killed after `cut` bytes leaves: a partial temporary file
/// beside the registry, which stays as it was.
fn crash(registry: &Registry, op: &Op, cut: usize, model: &Agents) {
    let mut next = model.clone();
    apply(op, &mut next);
    let body =
        serde_json::to_string_pretty(&serde_json::json!({"version": 1, "agents": next})).unwrap();
    let dir = registry.path().parent().unwrap();
    std::fs::create_dir_all(dir).unwrap();
    let tmp = tempfile::Builder::new()
        .prefix(".tmp")
        .tempfile_in(dir)
        .unwrap();
    std::fs::write(tmp.path(), &body.as_bytes()[..cut % (body.len() + 1)]).unwrap();
    // Kept, as a killed process would leave it.
    tmp.keep().unwrap();
}

proptest! {
    #![proptest_config(config(32))]

    #[test]
    fn registry_survives_interleaved_crashes(ops in proptest::collection::vec(op(), 1..24)) {
        let dir = tempfile::tempdir().unwrap();
        let registry = Registry::new(dir.path());
        let mut model: Agents = BTreeMap::new();
        for op in &ops {
            match op {
                Op::Crash(inner, cut) => crash(&registry, inner, *cut, &model),
                done => {
                    registry.update(|agents| {
                        apply(done, agents);
                        Ok(())
                    }).unwrap();
                    apply(done, &mut model);
                }
            }
            prop_assert_eq!(&registry.load().unwrap(), &model, "after {:?}", op);
        }
    }
}
