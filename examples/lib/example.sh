# Shared by the examples' run.sh scripts (sourced, not run): install what is missing, pick free
# loopback ports, start servers and always stop them, make the governance repository in
# WORKDIR, and run validate → plan → apply → git verify-commit on it.
#
# A script sets EXAMPLE (its folder) and calls `setup "$@"` first; then WORKDIR, ROOT and
# TRUSTOPS are set.

set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# need COMMAND PACKAGE: installs the Debian package when the command is missing.
need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "== installing $2 (for $1)" >&2
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$2" >/dev/null
}

free_port() {
  free_ports 1
}

# N distinct free loopback ports, held together while they are chosen: ports picked one call
# at a time can come back the same (pebble's management port once equalled the DNS port).
free_ports() {
  python3 -c 'import socket, sys
held = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in held:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in held))' "$1"
}

# Servers started with `start NAME LOG COMMAND...`, stopped on exit whatever happens.
PIDS=()
stop_all() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_all EXIT
start() {
  local name=$1 log=$2
  shift 2
  "$@" >"$log" 2>&1 &
  PIDS+=($!)
  echo "== started $name (pid $!, log $log)" >&2
}

# wait_port PORT NAME LOG: until something listens on 127.0.0.1:PORT (60 s: a Python server
# such as acme2certifier took more than 10 s to import on a 2-core machine running the suite).
wait_port() {
  for _ in $(seq 1200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "$2 did not start on port $1; its log ($3):" >&2
  cat "$3" >&2
  exit 1
}

# private_tls DIR: a TLS certificate for localhost and 127.0.0.1 (tls.pem, tls.key) from a CA
# of its own (ca.pem), as a private server has.
private_tls() {
  (
    cd "$1"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
      -out ca.pem -days 2 -subj "/CN=Example private CA" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tls.key -out tls.csr \
      -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
    openssl x509 -req -in tls.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
      -copy_extensions copyall -out tls.pem 2>/dev/null
  )
}

# setup [WORKDIR]: checks tools, builds trustops unless $TRUSTOPS names it, and copies the
# example's governance repository into WORKDIR/repo (a Git repository with an audit signing key
# in WORKDIR/keys and its allowed_signers).
setup() {
  ROOT=$(cd "$EXAMPLE/../.." && pwd)
  WORKDIR=${1:-$(mktemp -d "${TMPDIR:-/tmp}/trustops-example.XXXXXX")}
  mkdir -p "$WORKDIR"
  WORKDIR=$(cd "$WORKDIR" && pwd)
  if [ -n "$(ls -A "$WORKDIR")" ]; then
    echo "WORKDIR $WORKDIR is not empty; give a new or empty folder" >&2
    exit 1
  fi
  need git git
  need openssl openssl
  need ssh-keygen openssh-client
  need python3 python3
  if [ -z "${TRUSTOPS:-}" ]; then
    echo "== building trustops" >&2
    cargo build --quiet --manifest-path "$ROOT/Cargo.toml"
    TRUSTOPS=$ROOT/target/debug/trustops
  fi
  mkdir -p "$WORKDIR/keys" "$WORKDIR/deployed"
  cp -R "$EXAMPLE/repo" "$WORKDIR/repo"
  ssh-keygen -q -t ed25519 -N "" -C "audit@example.test" -f "$WORKDIR/keys/audit"
  echo "audit@example.test namespaces=\"git\" $(cat "$WORKDIR/keys/audit.pub")" \
    >"$WORKDIR/repo/allowed_signers"
  git -C "$WORKDIR/repo" init -q -b main
  git -C "$WORKDIR/repo" config user.name "Example Admin"
  git -C "$WORKDIR/repo" config user.email "admin@example.test"
}

# commit_repo MESSAGE: commits the governance repository as it is.
commit_repo() {
  git -C "$WORKDIR/repo" add -A
  git -C "$WORKDIR/repo" commit -q -m "$1"
}

# pipeline: validate → plan → apply → git verify-commit, as a user runs them.
pipeline() {
  local t=("$TRUSTOPS" --repo "$WORKDIR/repo" --color never)
  echo "== trustops validate" >&2
  "${t[@]}" validate
  echo "== trustops plan" >&2
  "${t[@]}" plan --out "$WORKDIR/plan.json"
  echo "== trustops apply" >&2
  "${t[@]}" apply "$WORKDIR/plan.json" --auto-approve --signing-key "$WORKDIR/keys/audit"
  local commit
  commit=$(git -C "$WORKDIR/repo" rev-parse trustops-audit)
  echo "== git verify-commit $commit" >&2
  git -C "$WORKDIR/repo" -c gpg.format=ssh -c gpg.ssh.allowedSignersFile=allowed_signers \
    verify-commit "$commit"
}
