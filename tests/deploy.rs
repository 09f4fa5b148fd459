//! What `deploy/` ships: the alert rules pass `promtool check rules` and their unit tests
//! (`promtool test rules`), the PrometheusRule for the Prometheus Operator holds the same groups,
//! and every Kubernetes manifest is YAML of the kinds a cluster expects, running trustops as
//! a non-root user with the arguments its CLI accepts.

use crate::support::{python, root, tool};

#[test]
fn alert_rules_pass_promtool_and_their_unit_tests() {
    let dir = root().join("deploy/prometheus");
    let (ok, text) = tool("promtool", &["check", "rules", "rules.yaml"], &dir);
    assert!(ok && text.contains("SUCCESS: 5 rules found"), "{text}");
    let (ok, text) = tool("promtool", &["test", "rules", "rules.test.yaml"], &dir);
    assert!(ok && text.contains("SUCCESS"), "{text}");
}

#[test]
fn kubernetes_manifests_are_well_formed_and_agree_with_the_rules() {
    let script = r#"
import sys, yaml, pathlib
root = pathlib.Path(sys.argv[1])
kinds = []
for path in sorted((root / "deploy/kubernetes").glob("*.yaml")):
    for doc in yaml.safe_load_all(path.read_text()):
        kinds.append(doc["kind"])
        if doc["kind"] in ("Deployment", "CronJob"):
            spec = doc["spec"]["template"]["spec"] if doc["kind"] == "Deployment" else doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
            assert spec["securityContext"]["runAsNonRoot"] is True, path
            for c in spec.get("initContainers", []) + spec["containers"]:
                assert c["securityContext"]["allowPrivilegeEscalation"] is False, (path, c["name"])
        if doc["kind"] == "Deployment":
            print("ARGS", " ".join(doc["spec"]["template"]["spec"]["containers"][0]["args"]))
rules = yaml.safe_load((root / "deploy/prometheus/rules.yaml").read_text())
operator = [d for d in yaml.safe_load_all((root / "deploy/kubernetes/prometheusrule.yaml").read_text())][0]
assert operator["spec"]["groups"] == rules["groups"], "prometheusrule.yaml and rules.yaml differ"
print("KINDS", " ".join(sorted(set(kinds))))
"#;
    let out = python(script, &[&root().to_string_lossy()]);
    assert!(
        out.contains("KINDS ClusterRole ClusterRoleBinding CronJob Deployment Namespace PersistentVolumeClaim PrometheusRule Service ServiceAccount ServiceMonitor"),
        "{out}"
    );
    // The Deployment's arguments are ones the CLI accepts.
    let args = out
        .lines()
        .find_map(|l| l.strip_prefix("ARGS "))
        .unwrap()
        .split(' ')
        .map(str::to_owned)
        .collect::<Vec<_>>();
    let mut check = vec!["--help".to_owned()];
    check.splice(0..0, args);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_trustops"))
        .args(&check)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
