//! A real ACME server: Debian's `pebble` on free loopback ports, with a TLS certificate made
//! for the test, challenges always valid and no nonce rejection; stopped when dropped.

use super::{free_ports, python};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub struct Pebble {
    child: Child,
    pub acme_port: u16,
    pub management_port: u16,
    /// The certificate pebble serves HTTPS with: what `caFile` must trust.
    pub tls_root: PathBuf,
}

impl Pebble {
    /// Starts pebble with its files in `dir` (created).
    pub fn start(dir: &Path) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let tls_root = super::localhost_tls(dir);
        let [acme_port, management_port, http_port, tls_port] = free_ports();
        let config = format!(
            r#"{{"pebble": {{"listenAddress": "127.0.0.1:{acme_port}", "managementListenAddress": "127.0.0.1:{management_port}", "certificate": "tls.pem", "privateKey": "tls.key", "httpPort": {}, "tlsPort": {}, "ocspResponderURL": "", "externalAccountBindingRequired": false}}}}"#,
            http_port, tls_port
        );
        std::fs::write(dir.join("pebble-config.json"), config).unwrap();
        let child = Command::new("pebble")
            .args(["-config", "pebble-config.json"])
            .current_dir(dir)
            .env("PEBBLE_VA_ALWAYS_VALID", "1")
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_WFE_NONCEREJECT", "0")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("pebble.log")).unwrap())
            .spawn()
            .expect(
                "pebble is needed for the ACME tests: apt-get install pebble (ci/check.sh does)",
            );
        let pebble = Pebble {
            child,
            acme_port,
            management_port,
            tls_root,
        };
        for port in [acme_port, management_port] {
            super::wait_for_port(port, 20, || {
                format!(
                    "pebble did not start; see {}",
                    dir.join("pebble.log").display()
                )
            });
        }
        pebble
    }

    /// The ACME directory URL.
    pub fn directory(&self) -> String {
        format!("https://localhost:{}/dir", self.acme_port)
    }

    /// A GET on the management interface.
    pub fn management(&self, path: &str) -> String {
        python(
            "import ssl, sys, urllib.request\nctx = ssl.create_default_context(cafile=sys.argv[2])\nprint(urllib.request.urlopen(sys.argv[1], context=ctx).read().decode())",
            &[
                &format!("https://127.0.0.1:{}{path}", self.management_port),
                &self.tls_root.display().to_string(),
            ],
        )
    }

    /// The root that signs what this pebble issues (random per start), PEM.
    pub fn issuing_root(&self) -> String {
        self.management("/roots/0")
    }

    /// Pebble's revocation status for `serial` (hex), e.g. `Valid` or `Revoked`.
    pub fn status(&self, serial: &str) -> String {
        let json: serde_json::Value =
            serde_json::from_str(&self.management(&format!("/cert-status-by-serial/{serial}")))
                .unwrap();
        json["Status"].as_str().unwrap_or_default().to_owned()
    }
}

impl Drop for Pebble {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
