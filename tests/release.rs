//! Installing a release: archives packed as the release workflow packs them
//! (`ci/release/package.sh`), served over HTTP the way GitHub serves release downloads
//! (`…/releases/download/vVERSION/ASSET`), installed by the exact install steps of the CI
//! templates and the GitHub Action. A tampered archive installs nothing.

use crate::support::{Running, free_port, root, wait_for_port};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The release target this machine installs.
fn target() -> &'static str {
    match std::env::consts::ARCH {
        "aarch64" => "aarch64-unknown-linux-gnu",
        _ => "x86_64-unknown-linux-gnu",
    }
}

/// A release folder `dir/releases/vVERSION` as the release workflow publishes it (the
/// archive of the binary under test, SHA256SUMS, install.sh), served by Python's http.server
/// on a loopback port.
struct Releases {
    _server: Running,
    url: String,
    folder: PathBuf,
}

impl Releases {
    fn publish(dir: &Path) -> Self {
        let folder = dir.join("releases").join(format!("v{VERSION}"));
        let packed = Command::new("bash")
            .arg(root().join("ci/release/package.sh"))
            .args([target(), env!("CARGO_BIN_EXE_trustops")])
            .arg(&folder)
            .output()
            .unwrap();
        assert!(
            packed.status.success(),
            "package.sh: {}",
            text(&packed.stderr)
        );
        std::fs::copy(
            root().join("ci/release/install.sh"),
            folder.join("install.sh"),
        )
        .unwrap();
        let port = free_port();
        let log = dir.join("http.log");
        let server = Command::new("python3")
            .args([
                "-m",
                "http.server",
                "--bind",
                "127.0.0.1",
                &port.to_string(),
            ])
            .arg("--directory")
            .arg(dir.join("releases"))
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::create(dir.join("http.err")).unwrap())
            .spawn()
            .expect("python3 (apt-get install python3; ci/check.sh installs it)");
        let server = Running::new(server);
        wait_for_port(port, 10, || {
            format!("python3 -m http.server did not start: {}", log.display())
        });
        Self {
            _server: server,
            url: format!("http://127.0.0.1:{port}"),
            folder,
        }
    }

    fn archive(&self) -> PathBuf {
        self.folder
            .join(format!("trustops-{VERSION}-{}.tar.gz", target()))
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs an install step's `script` with sh in an empty home, as a CI runner would, with the
/// template's variables and `TRUSTOPS_RELEASES` pointing at `releases`.
fn install(dir: &Path, script: &str, vars: &[(&str, &str)], releases: &Releases) -> Output {
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(dir.join("runner-temp")).unwrap();
    Command::new("sh")
        .args(["-ec", script])
        .current_dir(&home)
        .env("HOME", &home)
        .env("RUNNER_TEMP", dir.join("runner-temp"))
        .env("GITHUB_PATH", dir.join("github-path"))
        .env("GITHUB_OUTPUT", dir.join("github-output"))
        .env("GITHUB_ACTION_PATH", root())
        .envs(vars.iter().copied())
        .env("TRUSTOPS_RELEASES", &releases.url)
        .output()
        .unwrap()
}

fn yaml(path: &str) -> Value {
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The installed binary runs and names the release and the commit it was built from.
#[track_caller]
fn installed(out: &Output, binary: &Path) {
    assert!(
        out.status.success(),
        "install failed:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let version = Command::new(binary).arg("--version").output().unwrap();
    let version = text(&version.stdout);
    assert!(
        version.starts_with(&format!("trustops {VERSION} (")),
        "{version}"
    );
}

#[test]
fn the_github_template_installs_the_pinned_release_after_checking_its_checksum() {
    let dir = tempfile::tempdir().unwrap();
    let releases = Releases::publish(dir.path());
    let workflow = yaml("ci/templates/github-actions.yml");
    let pinned = workflow["env"]["TRUSTOPS_VERSION"].as_str().unwrap();
    assert_eq!(pinned, VERSION, "the template pins the current release");
    for job in ["review", "apply", "nightly"] {
        let steps = workflow["jobs"][job]["steps"].as_array().unwrap();
        let step = steps
            .iter()
            .find(|s| s["name"] == "Install trustops")
            .unwrap_or_else(|| panic!("{job} installs trustops"));
        let out = install(
            dir.path(),
            step["run"].as_str().unwrap(),
            &[("TRUSTOPS_VERSION", pinned)],
            &releases,
        );
        installed(&out, &dir.path().join("runner-temp/bin/trustops"));
        let path = std::fs::read_to_string(dir.path().join("github-path")).unwrap();
        assert!(
            path.lines().any(|l| l.ends_with("runner-temp/bin")),
            "{path}"
        );
    }
}

#[test]
fn the_gitlab_template_and_the_action_install_the_same_release() {
    let dir = tempfile::tempdir().unwrap();
    let releases = Releases::publish(dir.path());
    let pipeline = yaml("ci/templates/gitlab-ci.yml");
    let pinned = pipeline["variables"]["TRUSTOPS_VERSION"].as_str().unwrap();
    assert_eq!(pinned, VERSION);
    // The image's packages come from apt; the rest of before_script is the install.
    let script: Vec<&str> = pipeline[".trustops"]["before_script"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .filter(|line| !line.starts_with("apt-get"))
        .collect();
    let out = install(
        dir.path(),
        &script.join("\n"),
        &[("TRUSTOPS_VERSION", pinned)],
        &releases,
    );
    installed(&out, &dir.path().join("home/.local/bin/trustops"));

    let action = yaml("action.yml");
    let step = &action["runs"]["steps"][0];
    let run = step["run"].as_str().unwrap();
    let out = install(dir.path(), run, &[("TRUSTOPS_VERSION", VERSION)], &releases);
    installed(&out, &dir.path().join("runner-temp/trustops-bin/trustops"));
    let outputs = std::fs::read_to_string(dir.path().join("github-output")).unwrap();
    assert!(outputs.contains("path=") && outputs.contains("trustops-bin/trustops"));
    assert_eq!(
        step["env"]["TRUSTOPS_VERSION"].as_str(),
        Some("${{ inputs.version }}"),
        "the action installs the version it is given"
    );
}

#[test]
fn an_archive_that_does_not_match_its_checksum_installs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let releases = Releases::publish(dir.path());
    let mut bytes = std::fs::read(releases.archive()).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(releases.archive(), bytes).unwrap();
    let installer = releases.folder.join("install.sh");
    let bin = dir.path().join("bin");
    let out = install(
        dir.path(),
        &format!("sh {} {VERSION} {}", installer.display(), bin.display()),
        &[],
        &releases,
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("does not match its SHA-256 in SHA256SUMS; nothing installed"),
        "{}",
        text(&out.stderr)
    );
    assert!(!bin.join("trustops").exists());
    // A version that was never released is named, not half-installed.
    let out = install(
        dir.path(),
        &format!("sh {} 9.9.9 {}", installer.display(), bin.display()),
        &[],
        &releases,
    );
    assert!(
        text(&out.stderr).contains("cannot download"),
        "{}",
        text(&out.stderr)
    );
    assert!(!bin.join("trustops").exists());
}

#[test]
fn the_archive_holds_the_binary_and_its_license_and_is_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let releases = Releases::publish(dir.path());
    let first = std::fs::read(releases.archive()).unwrap();
    let sums = std::fs::read_to_string(releases.folder.join("SHA256SUMS")).unwrap();
    let listing = Command::new("tar")
        .arg("-tzf")
        .arg(releases.archive())
        .output()
        .unwrap();
    let name = format!("trustops-{VERSION}-{}", target());
    let mut entries: Vec<String> = text(&listing.stdout).lines().map(str::to_owned).collect();
    entries.sort();
    assert_eq!(
        entries,
        ["", "/CHANGELOG.md", "/LICENSE", "/README.md", "/trustops"]
            .iter()
            .map(|e| format!("{name}{e}"))
            .map(|e| if e == name { format!("{e}/") } else { e })
            .collect::<Vec<_>>()
    );
    // Packing again gives the same bytes, and one line per archive in SHA256SUMS.
    let again = Command::new("bash")
        .arg(root().join("ci/release/package.sh"))
        .args([target(), env!("CARGO_BIN_EXE_trustops")])
        .arg(&releases.folder)
        .output()
        .unwrap();
    assert!(again.status.success());
    assert_eq!(std::fs::read(releases.archive()).unwrap(), first);
    assert_eq!(
        std::fs::read_to_string(releases.folder.join("SHA256SUMS")).unwrap(),
        sums
    );
    assert_eq!(sums.lines().count(), 1, "{sums}");
}

/// The release workflow packs both Linux targets with the script tested above, on tags that
/// name Cargo.toml's version, and publishes the installer beside them.
#[test]
fn the_release_workflow_packs_both_targets_with_the_tested_script() {
    let workflow = yaml(".github/workflows/release.yml");
    assert_eq!(workflow["on"]["push"]["tags"][0], "v*");
    let targets: Vec<&str> = workflow["jobs"]["archive"]["strategy"]["matrix"]["include"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["target"].as_str())
        .collect();
    assert_eq!(
        targets,
        ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"]
    );
    let runs = |job: &str| -> String {
        workflow["jobs"][job]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["run"].as_str())
            .collect()
    };
    assert!(runs("archive").contains("ci/release/package.sh ${{ matrix.target }}"));
    assert!(runs("publish").contains("ci/release/install.sh"));
    assert!(runs("image").contains("deploy/image/build.sh"));
    let changelog = std::fs::read_to_string(root().join("CHANGELOG.md")).unwrap();
    assert!(
        changelog.contains("## [Unreleased]") || changelog.contains(&format!("## [{VERSION}]"))
    );
}
