//! A real ACME server with Renewal Information (RFC 9773): acme2certifier from PyPI, its
//! openssl CA handler signing with a CA made here, served over HTTPS on a free loopback port
//! by `examples/acme-ari/serve.py` (its bundled launcher binds every interface); stopped when
//! dropped.
//! Challenge validation is off (acme2certifier's test switch), so no name needs to resolve.

use super::{Running, free_port, localhost_tls, openssl_ca};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct Acme2Certifier {
    _server: Running,
    pub port: u16,
    /// The root its HTTPS certificate chains to: what `caFile` must trust.
    pub tls_root: PathBuf,
}

impl Acme2Certifier {
    /// Starts acme2certifier with its files in `dir` (created): a CA `CN=A2C Test CA` issuing
    /// certificates valid `days` days, renewal information suggesting renewal from 85% of a
    /// certificate's lifetime.
    pub fn start(dir: &Path, days: u32) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let installed = Command::new("python3")
            .args(["-c", "import acme2certifier"])
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            installed,
            "acme2certifier is needed: pip install acme2certifier (ci/check.sh does)"
        );
        let tls_root = localhost_tls(&dir.join("tls"));
        openssl_ca(&dir.join("ca"), "/CN=A2C Test CA", 365);
        std::fs::create_dir_all(dir.join("ca/certs")).unwrap();
        std::fs::write(
            dir.join("acme_srv.cfg"),
            format!(
                "[DEFAULT]\ndebug: False\n\n[Nonce]\nnonce_check_disable: False\n\n[CAhandler]\nhandler_module: acme2certifier.cahandlers.openssl_ca_handler\nissuing_ca_key: ca/ca.key\nissuing_ca_cert: ca/ca.pem\nissuing_ca_crl: ca/crl.pem\ncert_save_path: ca/certs\nca_cert_chain_list: [\"ca/ca.pem\"]\ncert_validity_days: {days}\n\n[DBhandler]\nhandler_module: acme2certifier.dbhandlers.wsgi_handler\ndbfile: acme_srv.db\n\n[Challenge]\nchallenge_validation_disable: True\n\n[Renewalinfo]\nrenewalthreshold_pctg: 85\nretry_after_timeout: 86400\n"
            ),
        )
        .unwrap();
        let port = free_port();
        let server = Running::new(
            Command::new("python3")
                .arg(super::root().join("examples/acme-ari/serve.py"))
                .arg(port.to_string())
                .current_dir(dir)
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(dir.join("acme2certifier.log")).unwrap())
                .spawn()
                .expect("python3 is needed (ci/check.sh installs it)"),
        );
        super::wait_for_port(port, 30, || {
            format!(
                "acme2certifier did not start; see {}",
                dir.join("acme2certifier.log").display()
            )
        });
        Acme2Certifier {
            _server: server,
            port,
            tls_root,
        }
    }

    /// Its directory URL.
    pub fn directory(&self) -> String {
        format!("https://localhost:{}/directory", self.port)
    }
}
