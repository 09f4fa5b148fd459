//! `trustops plan`: findings, actions and outputs, on the fixture in `tests/fixtures/plan`
//! (one identity per finding code, evaluated at 2026-06-01 against a saved inventory).

mod actions;
mod findings;
mod inventories;
mod output;

use crate::support::{Output, Test, root};
use serde_json::Value;

/// The instant the fixture is evaluated at.
pub const NOW: &str = "2026-06-01T00:00:00Z";

/// The fixture repository and its inventory in a temp folder.
pub fn fixture() -> Test {
    Test::new().copy_dir(&root().join("tests/fixtures/plan"))
}

/// Runs `plan` on `test` with the fixture inventory at `now`, plus `extra` arguments.
pub fn run_plan(test: Test, now: &str, extra: &[&str]) -> (Test, Output) {
    let test = test
        .reset_args()
        .args(&["plan", "--inventory", "inventory.json", "--now", now])
        .args(extra);
    let out = test.run();
    (test, out)
}

/// The plan JSON of `test` at `now`.
pub fn plan_json(test: Test, now: &str) -> Value {
    let (_, out) = run_plan(test, now, &["--format", "json"]);
    let out = out.status(0);
    serde_json::from_str(&out.stdout).unwrap()
}

/// `identity/credential`, `identity` or the fingerprint's first 12 digits of a finding.
pub fn target(f: &Value) -> String {
    match (
        f["identity"].as_str(),
        f["credential"].as_str(),
        f["fingerprint"].as_str(),
    ) {
        (Some(i), Some(c), _) => format!("{i}/{c}"),
        (Some(i), None, _) => i.to_owned(),
        (None, _, Some(fp)) => fp[..12].to_owned(),
        _ => String::new(),
    }
}

/// The finding of `code` about `target`; fails with the list of findings when absent.
#[track_caller]
pub fn finding<'a>(plan: &'a Value, code: &str, target_name: &str) -> &'a Value {
    let all = plan["findings"].as_array().unwrap();
    all.iter()
        .find(|f| f["code"] == code && target(f) == target_name)
        .unwrap_or_else(|| {
            let list: Vec<String> = all
                .iter()
                .map(|f| format!("{} {}", f["code"], target(f)))
                .collect();
            panic!(
                "no {code} finding about {target_name}; found:\n{}",
                list.join("\n")
            )
        })
}

/// The action with `id`.
#[track_caller]
pub fn action<'a>(plan: &'a Value, id: &str) -> &'a Value {
    let all = plan["actions"].as_array().unwrap();
    all.iter().find(|a| a["id"] == id).unwrap_or_else(|| {
        let ids: Vec<&str> = all.iter().filter_map(|a| a["id"].as_str()).collect();
        panic!("no action {id}; actions: {ids:?}")
    })
}

/// Whether the plan has an action with `id`.
pub fn has_action(plan: &Value, id: &str) -> bool {
    plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["id"] == id)
}

/// The first action for which `pick` holds.
#[track_caller]
pub fn first_action(plan: &Value, pick: impl Fn(&Value) -> bool) -> &Value {
    plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| pick(a))
        .expect("a matching action")
}
