//! The container image (`deploy/image/build.sh`), built with no registry pull from the trustops
//! binary and this system's Debian packages: the OCI archive is well formed (every blob matches
//! its digest, the config runs trustops as 10001), and its root file system runs — as user
//! 10001 under chroot, with the device nodes a container runtime would provide — `trustops
//! --version` and a controller cycle that fetches a demo repository from a bare remote and
//! pushes its signed audit branch with the image's own git.

use crate::support::{python, root, tool};
use std::path::Path;
use std::process::Command;

/// Runs `args` as user 10001 inside `rootfs` (chroot), with a container's environment.
fn inside(rootfs: &Path, args: &[&str]) -> std::process::Output {
    Command::new("/usr/sbin/chroot")
        .arg("--userspec=10001:10001")
        .arg(rootfs)
        .args(args)
        .env_clear()
        .env("HOME", "/work")
        .env("PATH", "/usr/local/bin:/usr/bin")
        .env("GIT_EXEC_PATH", "/usr/lib/git-core")
        .output()
        .expect("chroot is needed (coreutils)")
}

#[test]
fn the_image_builds_without_a_registry_and_runs_a_controller_cycle_as_non_root() {
    let (_, id) = tool("id", &["-u"], Path::new("."));
    assert_eq!(
        id.trim(),
        "0",
        "this test assembles a root file system and runs it under chroot: run the suite as root (CI does)"
    );
    let out = tempfile::tempdir().unwrap();
    let (ok, text) = tool(
        "bash",
        &[
            &root().join("deploy/image/build.sh").to_string_lossy(),
            &out.path().to_string_lossy(),
            env!("CARGO_BIN_EXE_trustops"),
        ],
        out.path(),
    );
    assert!(ok, "{text}");
    let archive = out.path().join("trustops-image.tar");
    let checked = python(
        r#"
import hashlib, json, sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    files = {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}
for name, data in files.items():
    if name.startswith("blobs/sha256/"):
        assert hashlib.sha256(data).hexdigest() == name.rsplit("/", 1)[1], name
assert json.loads(files["oci-layout"])["imageLayoutVersion"] == "1.0.0"
index = json.loads(files["index.json"])
entry = index["manifests"][0]
manifest = json.loads(files["blobs/sha256/" + entry["digest"].split(":")[1]])
config = json.loads(files["blobs/sha256/" + manifest["config"]["digest"].split(":")[1]])
print(entry["annotations"]["org.opencontainers.image.ref.name"], config["config"]["User"], config["config"]["Entrypoint"][0])
"#,
        &[&archive.to_string_lossy()],
    );
    assert!(
        checked.starts_with("trustops:0.1.0 10001:10001 /usr/local/bin/trustops"),
        "{checked}"
    );
    let rootfs = out.path().join("rootfs");
    let packages =
        std::fs::read_to_string(rootfs.join("usr/share/doc/trustops-image/debian-packages.txt"))
            .unwrap();
    assert!(
        packages.lines().any(|l| l.starts_with("git ")),
        "{packages}"
    );

    // What a container runtime provides: device nodes.
    for (name, minor) in [("null", "3"), ("zero", "5"), ("urandom", "9")] {
        let node = rootfs.join("dev").join(name);
        let (ok, text) = tool(
            "mknod",
            &["-m", "666", &node.to_string_lossy(), "c", "1", minor],
            out.path(),
        );
        assert!(ok, "{text}");
    }
    let version = inside(&rootfs, &["/usr/local/bin/trustops", "--version"]);
    assert!(
        String::from_utf8_lossy(&version.stdout).starts_with("trustops 0.1.0"),
        "{version:?}"
    );

    // A demo repository with a bare remote, owned by the image's user.
    let work = rootfs.join("work");
    let demo = Command::new(env!("CARGO_BIN_EXE_trustops"))
        .args(["demo", &work.join("demo").to_string_lossy()])
        .output()
        .unwrap();
    assert!(demo.status.success(), "{demo:?}");
    let git = |dir: &Path, args: &[&str]| {
        let (ok, text) = tool("git", args, dir);
        assert!(ok, "git {args:?}: {text}");
        text
    };
    git(&work, &["init", "-q", "--bare", "remote.git"]);
    let repo = work.join("demo/repo");
    git(&repo, &["remote", "add", "origin", "/work/remote.git"]);
    git(&repo, &["push", "-q", "../../remote.git", "main"]);
    let (ok, text) = tool(
        "chown",
        &["-R", "10001:10001", &work.to_string_lossy()],
        out.path(),
    );
    assert!(ok, "{text}");

    let cycle = inside(
        &rootfs,
        &[
            "/usr/local/bin/trustops",
            "--repo",
            "/work/demo/repo",
            "controller",
            "--cycles",
            "1",
            "--remote",
            "origin",
            "--signing-key",
            "/work/demo/keys/audit",
        ],
    );
    let log = String::from_utf8_lossy(&cycle.stderr);
    assert!(cycle.status.success(), "{log}");
    assert!(log.contains("cycle ok") && log.contains("pushed"), "{log}");
    let branches = git(&work, &["--git-dir", "remote.git", "branch"]);
    assert!(branches.contains("trustops-audit"), "{branches}");
}
