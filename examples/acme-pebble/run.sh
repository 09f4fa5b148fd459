#!/usr/bin/env bash
# trustops against a real ACME CA: Debian's pebble on free loopback ports, validating http-01
# for real (pebble-challtestsrv resolves every name to 127.0.0.1, and trustops' built-in
# responder answers). Runs validate → plan → apply, verifies the signed audit commit and the
# deployed chain up to pebble's root, and always stops the servers.
#
# usage: examples/acme-pebble/run.sh [WORKDIR]   (default: a new temp folder; kept afterwards)
EXAMPLE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/example.sh
. "$EXAMPLE/../lib/example.sh"
setup "$@"
need pebble pebble

read -r acme management dns dns_api http01 tls <<<"$(free_ports 6)"
mkdir -p "$WORKDIR/pebble"
private_tls "$WORKDIR/pebble"
cat >"$WORKDIR/pebble/pebble-config.json" <<JSON
{"pebble": {"listenAddress": "127.0.0.1:$acme", "managementListenAddress": "127.0.0.1:$management",
  "certificate": "tls.pem", "privateKey": "tls.key", "httpPort": $http01, "tlsPort": $tls,
  "ocspResponderURL": "", "externalAccountBindingRequired": false}}
JSON
start pebble-challtestsrv "$WORKDIR/pebble/dns.log" pebble-challtestsrv \
  -dns01 "127.0.0.1:$dns" -management "127.0.0.1:$dns_api" -defaultIPv4 127.0.0.1 -defaultIPv6 "" \
  -http01 "" -https01 "" -tlsalpn01 ""
wait_port "$dns_api" pebble-challtestsrv "$WORKDIR/pebble/dns.log"
(
  cd "$WORKDIR/pebble"
  export PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0
  start pebble "$WORKDIR/pebble/pebble.log" pebble -config pebble-config.json -dnsserver "127.0.0.1:$dns"
  echo "${PIDS[-1]}" >"$WORKDIR/pebble/pid"
)
PIDS+=("$(cat "$WORKDIR/pebble/pid")")
wait_port "$acme" pebble "$WORKDIR/pebble/pebble.log"
wait_port "$management" pebble "$WORKDIR/pebble/pebble.log"

# The example declares pebble's usual ports; point it at the ones chosen here.
sed -i -e "s|localhost:14000|localhost:$acme|" -e "s|127.0.0.1:5002|127.0.0.1:$http01|" \
  "$WORKDIR/repo/issuers.yaml"
commit_repo "Declare the storefront certificate, issued by pebble"
pipeline

echo "== openssl verify: the deployed chain up to pebble's root" >&2
python3 - "https://127.0.0.1:$management/roots/0" "$WORKDIR/pebble/ca.pem" >"$WORKDIR/pebble/root.pem" <<'PY'
import ssl, sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], context=ssl.create_default_context(cafile=sys.argv[2])).read().decode())
PY
openssl verify -CAfile "$WORKDIR/pebble/root.pem" -untrusted "$WORKDIR/deployed/storefront.pem" \
  "$WORKDIR/deployed/storefront.pem"
echo "== done: the repository, deployed files and server logs are in $WORKDIR" >&2
