//! `scope check --format github|gitlab`, `--agent-from-branch`, and the CI
//! examples in examples/ci/, run locally the way each provider runs them.

use std::path::{Path, PathBuf};

use crate::support::*;

const POLICY: &str =
    "version: 1\nagents:\n  copilot: { branches: [\"copilot/*\"], scope: [docs/, \"*.md\"] }\n";

/// A repository with the policy, a bare `origin` of it, and on origin the
/// branches `copilot/good` (in scope), `copilot/bad` (a commit outside the
/// scope in the middle) and `feature/x` (no agent's).
fn origin_with_branches() -> (Env, PathBuf) {
    let env = Env::new();
    env.commit_policy(POLICY);
    env.git(&["switch", "-q", "-c", "copilot/good"]);
    env.write("docs/guide.md", "# better\n");
    env.git(&["commit", "-q", "-am", "docs"]);
    env.git(&["switch", "-q", "-c", "copilot/bad"]);
    env.write("src/api/routes.rs", "fn sneaky() {}\n");
    env.git(&["commit", "-q", "-am", "sneaky, with: 50%"]);
    env.write("README.md", "# more\n");
    env.git(&["commit", "-q", "-am", "readme"]);
    env.git(&["switch", "-q", "-c", "feature/x", "main"]);
    env.write("src/api/routes.rs", "fn human() {}\n");
    env.git(&["commit", "-q", "-am", "a person's change"]);
    env.git(&["switch", "-q", "main"]);
    let origin = env.root.join("origin.git");
    env.git(&["clone", "-q", "--bare", ".", origin.to_str().unwrap()]);
    (env, origin)
}

/// The `run:` lines of a GitHub workflow's steps, or a GitLab job's
/// `script:` lines, in order.
fn steps(file: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let doc: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    let mut out = Vec::new();
    if let Some(jobs) = doc["jobs"].as_object() {
        for job in jobs.values() {
            for step in job["steps"].as_array().unwrap() {
                if let Some(run) = step["run"].as_str() {
                    out.push(run.to_owned());
                }
            }
        }
    } else {
        for job in doc.as_object().unwrap().values() {
            for line in job["script"].as_array().unwrap() {
                out.push(line.as_str().unwrap().to_owned());
            }
        }
    }
    assert!(!out.is_empty(), "no steps in {file}");
    out
}

/// Run `steps` with bash in `dir`, with `vars` set, stopping at the first
/// that fails; the last step's result.
fn run_steps(env: &Env, dir: &Path, steps: &[String], vars: &[(&str, String)]) -> Run {
    let mut last = None;
    for step in steps {
        let mut cmd = env.command("bash", dir);
        cmd.args(["-e", "-o", "pipefail", "-c", step]);
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let run = Run::from_output(cmd.output().unwrap());
        let failed = run.code != 0;
        last = Some(run);
        if failed {
            break;
        }
    }
    last.unwrap()
}

/// A clone as actions/checkout leaves it for a pull request: detached at
/// the merge of the head into the base, with origin/* and no local branch.
fn github_checkout(env: &Env, origin: &Path, head: &str, name: &str) -> PathBuf {
    let dir = env.root.join(name);
    env.git_in(&env.root, &["clone", "-q", origin.to_str().unwrap(), name]);
    env.git_in(&dir, &["checkout", "-q", "--detach", "origin/main"]);
    env.git_in(&dir, &["branch", "-q", "-D", "main"]);
    env.git_in(
        &dir,
        &[
            "merge",
            "-q",
            "--no-ff",
            "-m",
            "Merge pull request",
            &format!("origin/{head}"),
        ],
    );
    dir
}

#[test]
fn the_github_example_checks_a_pull_request_against_its_branchs_agent() {
    let (env, origin) = origin_with_branches();
    let steps = steps("examples/ci/github/agent-scope.yml");
    for (head, code) in [("copilot/good", 0), ("copilot/bad", 1), ("feature/x", 0)] {
        let dir = github_checkout(&env, &origin, head, &head.replace('/', "-"));
        let vars = [
            ("GITHUB_BASE_REF", "main".to_owned()),
            ("GITHUB_HEAD_REF", head.to_owned()),
            ("GITHUB_WORKSPACE", dir.display().to_string()),
            ("GITHUB_ACTIONS", "true".to_owned()),
            ("CI", "true".to_owned()),
        ];
        let run = run_steps(&env, &dir, &steps, &vars);
        assert_eq!(run.code, code, "{head}: {run:?}");
        match head {
            "copilot/bad" => {
                let errors: Vec<&str> = run
                    .stdout
                    .lines()
                    .filter(|l| l.starts_with("::error "))
                    .collect();
                assert_eq!(errors.len(), 1, "{run:?}");
                assert!(
                    errors[0].starts_with("::error file=src/api/routes.rs,line=1,title=outside the scope of agent 'copilot'::commit "),
                    "{run:?}"
                );
                // GitHub's escapes: `%` in the message, `:` and `,` only in properties.
                assert!(errors[0].contains("(sneaky, with: 50%25)"), "{run:?}");
                assert!(run.stderr.contains("branch refused"), "{run:?}");
            }
            "feature/x" => assert!(
                run.stdout
                    .contains("::notice::no agent owns branch 'feature/x'"),
                "{run:?}"
            ),
            _ => assert!(!run.stdout.contains("::error"), "{run:?}"),
        }
    }
}

#[test]
fn the_gitlab_example_writes_a_code_quality_report() {
    let (env, origin) = origin_with_branches();
    let steps = steps("examples/ci/gitlab/.gitlab-ci.yml");
    for (head, code) in [("copilot/good", 0), ("copilot/bad", 1), ("feature/x", 0)] {
        let name = format!("gl-{}", head.replace('/', "-"));
        env.git_in(&env.root, &["clone", "-q", origin.to_str().unwrap(), &name]);
        let dir = env.root.join(&name);
        env.git_in(
            &dir,
            &["checkout", "-q", "--detach", &format!("origin/{head}")],
        );
        let base = env
            .git_in(&dir, &["merge-base", "origin/main", "HEAD"])
            .trim()
            .to_owned();
        let vars = [
            ("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "main".to_owned()),
            ("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", head.to_owned()),
            ("CI_MERGE_REQUEST_DIFF_BASE_SHA", base),
            ("CI_PIPELINE_SOURCE", "merge_request_event".to_owned()),
            ("CI_PROJECT_DIR", dir.display().to_string()),
            ("GITLAB_CI", "true".to_owned()),
            ("CI", "true".to_owned()),
        ];
        let run = run_steps(&env, &dir, &steps, &vars);
        assert_eq!(run.code, code, "{head}: {run:?}");
        let report = std::fs::read_to_string(dir.join("gl-code-quality-report.json")).unwrap();
        let issues: serde_json::Value = serde_json::from_str(&report).unwrap();
        let issues = issues.as_array().unwrap();
        if head == "copilot/bad" {
            assert_eq!(issues.len(), 1, "{report}");
            assert_eq!(issues[0]["location"]["path"], "src/api/routes.rs");
            assert_eq!(issues[0]["location"]["lines"]["begin"], 1);
            assert_eq!(issues[0]["severity"], "major");
            assert_eq!(issues[0]["fingerprint"].as_str().unwrap().len(), 40);
            // The same finding has the same fingerprint from run to run.
            let again = run_steps(&env, &dir, &steps, &vars);
            assert_eq!(again.code, 1);
            let second = std::fs::read_to_string(dir.join("gl-code-quality-report.json")).unwrap();
            assert_eq!(report, second);
        } else {
            assert!(issues.is_empty(), "{head}: {report}");
        }
    }
}

#[test]
fn the_range_finds_the_agent_from_branch_patterns() {
    let (env, _) = origin_with_branches();
    let run = env.agent("scope", &["check", "--range", "main..copilot/bad"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("outside the scope of agent 'copilot'"),
        "{run:?}"
    );
    let run = env.agent("scope", &["check", "--range", "main..copilot/good"]);
    assert_eq!(run.code, 0, "{run:?}");
    // A branch no agent owns has no agent to check against.
    let run = env.agent("scope", &["check", "--range", "main..feature/x"]);
    assert_eq!(run.code, 2, "{run:?}");
    let run = env.agent(
        "scope",
        &[
            "check",
            "--range",
            "main..feature/x",
            "--agent-from-branch",
            "feature/x",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("no agent owns branch 'feature/x'"),
        "{run:?}"
    );
}

#[test]
fn an_unknown_format_is_bad_input() {
    let (env, _) = origin_with_branches();
    let before = env.state();
    let run = env.agent(
        "scope",
        &["check", "--range", "main..copilot/bad", "--format", "sarif"],
    );
    assert_bad_input(
        &env,
        &before,
        &run,
        &["invalid value 'sarif'", "github", "gitlab"],
    );
    let run = env.agent(
        "scope",
        &[
            "check",
            "--range",
            "main..copilot/bad",
            "--format",
            "json",
            "--json",
        ],
    );
    assert_eq!(run.code, 2, "{run:?}");
}
