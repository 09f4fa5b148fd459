#!/usr/bin/env bash
# trustops against a real CA API: Debian's cfssl (`cfssl serve`) over HTTPS on a free loopback
# port, with a CA made here and the certificate database revocation needs. Runs validate → plan
# → apply, verifies the signed audit commit and the deployed chain up to the CA, and always
# stops the server.
#
# usage: examples/cfssl/run.sh [WORKDIR]   (default: a new temp folder; kept afterwards)
EXAMPLE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/example.sh
. "$EXAMPLE/../lib/example.sh"
setup "$@"
need cfssl golang-cfssl

port=$(free_port)
cfssl_dir=$WORKDIR/cfssl
mkdir -p "$cfssl_dir/https"
# The CA cfssl signs with, as an operator would make it.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$cfssl_dir/ca.key" \
  -out "$cfssl_dir/ca.pem" -days 3650 -subj "/CN=Example Internal CA/O=Example" 2>/dev/null
# The API's own HTTPS certificate.
private_tls "$cfssl_dir/https"
# cfssl records what it signs in a database (revocation needs it); the package ships no
# migrations, so the tables are made here.
python3 - "$cfssl_dir/certs.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.executescript("""
CREATE TABLE certificates (serial_number blob, authority_key_identifier blob, ca_label blob,
  status blob, reason int, expiry timestamp, revoked_at timestamp, pem blob,
  PRIMARY KEY (serial_number, authority_key_identifier));
CREATE TABLE ocsp_responses (serial_number blob, authority_key_identifier blob, body blob,
  expiry timestamp, PRIMARY KEY (serial_number, authority_key_identifier));
""")
c.commit()
PY
echo "{\"driver\": \"sqlite3\", \"data_source\": \"$cfssl_dir/certs.db\"}" >"$cfssl_dir/db.json"
start "cfssl serve" "$cfssl_dir/cfssl.log" cfssl serve -address 127.0.0.1 -port "$port" \
  -ca "$cfssl_dir/ca.pem" -ca-key "$cfssl_dir/ca.key" -db-config "$cfssl_dir/db.json" \
  -tls-cert "$cfssl_dir/https/tls.pem" -tls-key "$cfssl_dir/https/tls.key"
wait_port "$port" "cfssl serve" "$cfssl_dir/cfssl.log"

# The example declares cfssl's usual port; point it at the one chosen here.
sed -i "s|localhost:8888|localhost:$port|" "$WORKDIR/repo/issuers.yaml"
commit_repo "Declare the inventory API certificate, issued by the internal CA"
pipeline

echo "== openssl verify: the deployed chain up to the CA" >&2
openssl verify -CAfile "$cfssl_dir/ca.pem" "$WORKDIR/deployed/inventory-api.pem"
echo "== done: the repository, deployed files and server log are in $WORKDIR" >&2
