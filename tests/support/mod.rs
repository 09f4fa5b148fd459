//! A small builder for running the binary in a temporary folder (after just's `Test`).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root (where `examples/` and `schemas/` are).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One run of `trustops`.
pub struct Test {
    pub dir: tempfile::TempDir,
    args: Vec<String>,
}

/// What a run printed and returned.
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

impl Test {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
            args: Vec::new(),
        }
    }

    /// Writes `text` to `path` inside the temp folder.
    pub fn file(self, path: &str, text: impl AsRef<[u8]>) -> Self {
        let full = self.dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
        self
    }

    /// Copies a file from the repository into the temp folder under the same name.
    pub fn copy(self, from: &Path) -> Self {
        let name = from.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read(from).unwrap();
        self.file(&name, text)
    }

    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|s| s.to_string()));
        self
    }

    /// Runs with `--repo` set to the temp folder.
    pub fn in_repo(self) -> Self {
        let repo = self.dir.path().to_string_lossy().into_owned();
        self.args(&["--repo", &repo])
    }

    pub fn run(&self) -> Output {
        let out = Command::new(env!("CARGO_BIN_EXE_trustops"))
            .args(&self.args)
            .current_dir(self.dir.path())
            .env("NO_COLOR", "1")
            .output()
            .expect("run trustops");
        Output {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            code: out.status.code().unwrap_or(-1),
        }
    }
}

impl Output {
    #[track_caller]
    pub fn status(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Runs a Python snippet; a missing interpreter or module fails the test with the install step.
#[track_caller]
pub fn python(script: &str, args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 is needed for schema checks: apt-get install python3 (ci/check.sh does)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("ModuleNotFoundError"),
        "missing Python module: run `python3 -m pip install jsonschema pyyaml` (ci/check.sh does)\n{stderr}"
    );
    assert!(out.status.success(), "python failed:\n{stderr}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}
