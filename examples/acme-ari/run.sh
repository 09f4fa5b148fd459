#!/usr/bin/env bash
# trustops against an ACME CA with Renewal Information (RFC 9773): acme2certifier (from PyPI)
# on a free loopback port over HTTPS, signing with a CA made here. Runs validate → plan →
# apply, verifies the signed audit commit and the deployed chain, then shows the plan's
# renewal instant taken from the window the CA suggests; always stops the server.
#
# usage: examples/acme-ari/run.sh [WORKDIR]   (default: a new temp folder; kept afterwards)
EXAMPLE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/example.sh
. "$EXAMPLE/../lib/example.sh"
setup "$@"
if ! python3 -c "import acme2certifier" 2>/dev/null; then
  echo "== installing acme2certifier (pip)" >&2
  python3 -m pip install --quiet acme2certifier
fi

read -r port http01 <<<"$(free_ports 2)"
A2C=$WORKDIR/a2c
mkdir -p "$A2C/tls" "$A2C/ca/certs"
private_tls "$A2C/tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$A2C/ca/ca.key" \
  -out "$A2C/ca/ca.pem" -days 365 -subj "/CN=Example ARI CA" 2>/dev/null
cat >"$A2C/acme_srv.cfg" <<CFG
[DEFAULT]
debug: False

[CAhandler]
handler_module: acme2certifier.cahandlers.openssl_ca_handler
issuing_ca_key: ca/ca.key
issuing_ca_cert: ca/ca.pem
issuing_ca_crl: ca/crl.pem
cert_save_path: ca/certs
ca_cert_chain_list: ["ca/ca.pem"]
cert_validity_days: 90

[DBhandler]
handler_module: acme2certifier.dbhandlers.wsgi_handler
dbfile: acme_srv.db

[Challenge]
# Test switch: no DNS here, so names are not validated (ACME2CERTIFIER_I_KNOW_THE_RISK=1).
challenge_validation_disable: True

[Renewalinfo]
renewalthreshold_pctg: 85
retry_after_timeout: 86400
CFG
cp "$EXAMPLE/serve.py" "$A2C/serve.py"
(
  cd "$A2C"
  start acme2certifier "$A2C/acme2certifier.log" python3 serve.py "$port"
  echo "${PIDS[-1]}" >"$A2C/pid"
)
PIDS+=("$(cat "$A2C/pid")")
wait_port "$port" acme2certifier "$A2C/acme2certifier.log"

sed -i -e "s|localhost:14500|localhost:$port|" -e "s|127.0.0.1:5003|127.0.0.1:$http01|" \
  "$WORKDIR/repo/issuers.yaml"
commit_repo "Declare the storefront certificate, issued by acme2certifier"
pipeline

echo "== openssl verify: the deployed chain up to the example CA" >&2
openssl verify -CAfile "$A2C/ca/ca.pem" -untrusted "$WORKDIR/deployed/storefront.pem" \
  "$WORKDIR/deployed/storefront.pem"
echo "== the renewal instant, from the window the CA suggests (plan --format json)" >&2
"$TRUSTOPS" --repo "$WORKDIR/repo" plan --format json \
  | python3 -c 'import json, sys; [print(json.dumps(c["renewal"])) for c in json.load(sys.stdin)["credentials"] if c.get("renewal")]'
echo "== done: the repository, deployed files and server log are in $WORKDIR" >&2
