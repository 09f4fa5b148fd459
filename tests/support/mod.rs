//! A small builder for running the binary in a temporary folder (after just's `Test`).

mod acme2certifier;
mod openbao;
mod pebble;

pub use acme2certifier::Acme2Certifier;
pub use openbao::OpenBao;
pub use pebble::Pebble;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A spawned process that is killed and reaped when dropped, so a failing test leaves no
/// server or controller running behind it.
pub struct Running(Option<std::process::Child>);

impl Running {
    pub fn new(child: std::process::Child) -> Self {
        Self(Some(child))
    }

    /// Waits for the process to exit and collects what it printed to piped streams.
    pub fn wait_with_output(mut self) -> std::io::Result<std::process::Output> {
        self.0
            .take()
            .expect("not yet waited for")
            .wait_with_output()
    }
}

impl std::ops::Deref for Running {
    type Target = std::process::Child;
    fn deref(&self) -> &std::process::Child {
        self.0.as_ref().expect("not yet waited for")
    }
}

impl std::ops::DerefMut for Running {
    fn deref_mut(&mut self) -> &mut std::process::Child {
        self.0.as_mut().expect("not yet waited for")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Waits until something listens on 127.0.0.1:`port`, for at most `seconds`; then fails with
/// `why()` (what did not start, and where its log is).
#[track_caller]
pub fn wait_for_port(port: u16, seconds: u64, why: impl Fn() -> String) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "{}", why());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// The repository root (where `examples/` and `schemas/` are).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One run of `trustops`.
pub struct Test {
    pub dir: tempfile::TempDir,
    args: Vec<String>,
    env: Vec<(String, String)>,
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
            env: Vec::new(),
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

    /// Copies every file under `from` (a folder of the repository) into the temp folder.
    pub fn copy_dir(mut self, from: &Path) -> Self {
        for entry in walkdir::WalkDir::new(from).sort_by_file_name() {
            let entry = entry.unwrap();
            if entry.file_type().is_file() {
                let rel = entry
                    .path()
                    .strip_prefix(from)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                self = self.file(&rel, std::fs::read(entry.path()).unwrap());
            }
        }
        self
    }

    /// Sets an environment variable for the run.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Replaces the arguments of the next run.
    pub fn reset_args(mut self) -> Self {
        self.args.clear();
        self
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
            .envs(self.env.iter().map(|(k, v)| (k, v)))
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

/// A free TCP port on loopback (bound, read, released).
pub fn free_port() -> u16 {
    free_ports::<1>()[0]
}

/// `N` distinct free loopback ports, held together while they are chosen, and never one this
/// test process handed out before: the kernel may give a port again as soon as it is released,
/// before the server a parallel test started on it has bound it.
pub fn free_ports<const N: usize>() -> [u16; N] {
    static GIVEN: std::sync::Mutex<std::collections::BTreeSet<u16>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    let mut held = Vec::new();
    let mut ports = Vec::new();
    while ports.len() < N {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        if given.insert(port) {
            ports.push(port);
        }
        held.push(listener);
    }
    std::array::from_fn(|i| ports[i])
}

/// A real nginx serving TLS on a loopback port, stopped when dropped.
pub struct Nginx {
    child: std::process::Child,
    pub port: u16,
}

impl Nginx {
    /// Starts nginx in `dir` with one TLS server per `(server_name, chain_file, key_file)`;
    /// the first is the default server (the one a client without SNI gets).
    pub fn start(dir: &Path, servers: &[(&str, &Path, &Path)]) -> Self {
        let port = free_port();
        let mut http = String::new();
        for (i, (name, chain, key)) in servers.iter().enumerate() {
            let default = if i == 0 { " default_server" } else { "" };
            http.push_str(&format!(
                "server {{ listen 127.0.0.1:{port} ssl{default}; server_name {name}; ssl_certificate {}; ssl_certificate_key {}; }}\n",
                chain.display(),
                key.display()
            ));
        }
        let d = dir.display();
        let conf = format!(
            "daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/nginx-error.log;\nevents {{ worker_connections 64; }}\nhttp {{\naccess_log off;\nclient_body_temp_path {d}/tmp-body;\nproxy_temp_path {d}/tmp-proxy;\nfastcgi_temp_path {d}/tmp-fcgi;\nuwsgi_temp_path {d}/tmp-uwsgi;\nscgi_temp_path {d}/tmp-scgi;\n{http}}}\n"
        );
        std::fs::write(dir.join("nginx.conf"), conf).unwrap();
        let binary = ["/usr/sbin/nginx", "nginx"]
            .into_iter()
            .find(|b| Path::new(b).exists())
            .unwrap_or("nginx");
        let child = Command::new(binary)
            .args([
                "-p",
                &d.to_string(),
                "-c",
                &format!("{d}/nginx.conf"),
                "-e",
                &format!("{d}/nginx-error.log"),
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect(
                "nginx is needed for TLS discovery tests: apt-get install nginx (ci/check.sh does)",
            );
        let nginx = Self { child, port };
        wait_for_port(port, 10, || {
            format!(
                "nginx did not start: {}",
                std::fs::read_to_string(dir.join("nginx-error.log")).unwrap_or_default()
            )
        });
        nginx
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs an external tool in `dir`: (succeeded, stdout and stderr). A missing tool fails the
/// test with its install step.
pub fn tool(program: &str, args: &[&str], dir: &Path) -> (bool, String) {
    let package = match program {
        "ssh-keygen" => "openssh-client",
        "promtool" => "prometheus",
        other => other,
    };
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!("{program} is needed: apt-get install {package} (ci/check.sh does): {e}")
        });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// `git verify-commit REV` in `repo` with the repository's `allowed_signers` (SSH signatures),
/// which must succeed; what git said.
#[track_caller]
pub fn verify_commit(repo: &Path, rev: &str) -> String {
    let (ok, text) = tool(
        "git",
        &[
            "-c",
            "gpg.format=ssh",
            "-c",
            "gpg.ssh.allowedSignersFile=allowed_signers",
            "verify-commit",
            rev,
        ],
        repo,
    );
    assert!(
        ok && text.contains("Good"),
        "git verify-commit {rev}: {text}"
    );
    text
}

/// Whether an apply has staged a new key in `dir` (its rotation is under way): a
/// `.NAME.trustops-staged` file beside a declared key file.
pub fn key_staged_in(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries.flatten().any(|e| {
                e.file_name()
                    .to_string_lossy()
                    .ends_with(".trustops-staged")
            })
        })
        .unwrap_or(false)
}

/// A P-256 CA made by openssl in `dir` (`ca.pem`, `ca.key`), as a user would have one:
/// (certificate PEM, key PEM).
pub fn openssl_ca(dir: &Path, subject: &str, days: u32) -> (String, String) {
    std::fs::create_dir_all(dir).unwrap();
    let days = days.to_string();
    let (ok, text) = tool(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            &days,
            "-subj",
            subject,
        ],
        dir,
    );
    assert!(ok, "{text}");
    (
        std::fs::read_to_string(dir.join("ca.pem")).unwrap(),
        std::fs::read_to_string(dir.join("ca.key")).unwrap(),
    )
}

/// A TLS server certificate for `localhost` and 127.0.0.1 (`tls.pem`, `tls.key`) in `dir`,
/// from a CA of its own (`ca.pem`), as a private server would have; returns the CA's path.
pub fn localhost_tls(dir: &Path) -> PathBuf {
    openssl_ca(dir, "/CN=Test TLS CA", 2);
    for args in [
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "tls.key",
            "-out",
            "tls.csr",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ][..],
        &[
            "x509",
            "-req",
            "-in",
            "tls.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-copy_extensions",
            "copyall",
            "-out",
            "tls.pem",
        ],
    ] {
        let (ok, text) = tool("openssl", args, dir);
        assert!(ok, "{text}");
    }
    dir.join("ca.pem")
}

/// A real SMTP server (Python's aiosmtpd) on a loopback port that requires STARTTLS and the
/// login `trustops`/`sink-password`, keeping each message it accepts in `dir/mail/N.eml`;
/// stopped when dropped.
pub struct SmtpSink {
    child: std::process::Child,
    pub port: u16,
    /// The CA of the sink's certificate (what `caFile` must name).
    pub ca: PathBuf,
    mail: PathBuf,
}

impl SmtpSink {
    pub fn start(dir: &Path) -> Self {
        std::fs::create_dir_all(dir.join("mail")).unwrap();
        let ca = localhost_tls(dir);
        let port = free_port();
        let mut child = Command::new("python3")
            .arg(root().join("tests/support/smtp_sink.py"))
            .args([
                &port.to_string(),
                "tls.pem",
                "tls.key",
                "mail",
                "trustops",
                "sink-password",
            ])
            .current_dir(dir)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect(
                "python3 is needed for the SMTP sink: apt-get install python3 (ci/check.sh does)",
            );
        let mut line = String::new();
        let stdout = child.stdout.take().unwrap();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
        if line.trim() != "ready" {
            let mut stderr = String::new();
            let _ = std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr);
            panic!(
                "the SMTP sink did not start (apt-get install python3-aiosmtpd; ci/check.sh does):\n{stderr}"
            );
        }
        Self {
            child,
            port,
            ca,
            mail: dir.join("mail"),
        }
    }

    /// The messages accepted so far, in order.
    pub fn messages(&self) -> Vec<String> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.mail)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        files.sort_by_key(|p| {
            p.file_stem()
                .and_then(|s| s.to_str())
                .and_then(|s| s.parse::<u32>().ok())
        });
        files
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A real `cfssl serve` (Debian golang-cfssl) on a loopback port with the CA in `dir`
/// (`ca.pem`, `ca.key`) and a certificate database (`certs.db`, which revocation needs),
/// stopped when dropped.
pub struct CfsslServer {
    child: std::process::Child,
    pub port: u16,
    db: PathBuf,
}

/// The tables cfssl's sqlite certificate database needs (the package ships no migrations).
const CFSSL_TABLES: &str = "CREATE TABLE certificates (serial_number blob, authority_key_identifier blob, ca_label blob, status blob, reason int, expiry timestamp, revoked_at timestamp, pem blob, PRIMARY KEY (serial_number, authority_key_identifier)); CREATE TABLE ocsp_responses (serial_number blob, authority_key_identifier blob, body blob, expiry timestamp, PRIMARY KEY (serial_number, authority_key_identifier));";

impl CfsslServer {
    /// Serves HTTPS with a certificate for localhost from a private CA; the CA's PEM is
    /// returned for `caFile`.
    pub fn start_https(dir: &Path) -> (Self, PathBuf) {
        let https = dir.join("https");
        std::fs::create_dir_all(&https).unwrap();
        let ca = localhost_tls(&https);
        let server = Self::spawn(
            dir,
            &["-tls-cert", "https/tls.pem", "-tls-key", "https/tls.key"],
        );
        (server, ca)
    }

    fn spawn(dir: &Path, extra: &[&str]) -> Self {
        let port = free_port();
        let db = dir.join("certs.db");
        python(
            "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\nc.executescript(sys.argv[2])\nc.commit()",
            &[&db.display().to_string(), CFSSL_TABLES],
        );
        std::fs::write(
            dir.join("db.json"),
            serde_json::json!({"driver": "sqlite3", "data_source": db}).to_string(),
        )
        .unwrap();
        let child = Command::new("cfssl")
            .args(["serve", "-address", "127.0.0.1", "-port", &port.to_string(), "-ca", "ca.pem", "-ca-key", "ca.key", "-db-config", "db.json"])
            .args(extra)
            .current_dir(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("cfssl is needed for the CA API tests: apt-get install golang-cfssl (ci/check.sh does)");
        let server = Self { child, port, db };
        wait_for_port(port, 15, || "cfssl serve did not start".into());
        server
    }
}

impl CfsslServer {
    /// The database's status and reason code for the certificate with `serial` (hex), e.g.
    /// `good 0` or `revoked 1`.
    pub fn status(&self, serial: &str) -> String {
        python(
            "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\nrow = c.execute('SELECT status, reason FROM certificates WHERE serial_number = ?', (str(int(sys.argv[2], 16)),)).fetchone()\nprint(' '.join(str(v) for v in row) if row else 'unknown')",
            &[&self.db.display().to_string(), serial],
        )
        .trim()
        .to_owned()
    }
}

impl Drop for CfsslServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
