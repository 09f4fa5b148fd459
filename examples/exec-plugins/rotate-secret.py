#!/usr/bin/env python3
"""A trustops exec issuer: rotates a secret kept in a dotenv file.

Usage (in an Issuer):

    apiVersion: trustops.dev/v1alpha1
    kind: Issuer
    metadata: {name: dotenv-rotator}
    spec:
      exec:
        command: [python3, examples/exec-plugins/rotate-secret.py, services/app.env]

It reads one request (schemas/exec-issuer-request.schema.json) on stdin, writes a new random
value for the variable named after the identity and credential (`db-svc` / `password` ->
`DB_SVC_PASSWORD`) into the dotenv file, and answers (schemas/exec-issuer-response.schema.json)
with where the value is — `services/app.env:DB_SVC_PASSWORD#v3` — never the value. Pair it with
the dotenv-inventory plugin as a Source and the rotation shows up in the next discovery.

Idempotency: every answer is kept in `<dotenv file>.rotations.json` under the request's
`idempotency_key`; a repeated key gets the same answer and rotates nothing, so an apply that
was killed and resumed never rotates twice. With TRUSTOPS_EXAMPLE_BLOCK set to a file name, the
plugin writes its process id to that file after rotating and then hangs (for crash tests).
"""
import json
import os
import secrets
import sys
import time


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: rotate-secret.py DOTENV_FILE", file=sys.stderr)
        return 2
    path = sys.argv[1]
    request = json.load(sys.stdin)
    if request.get("contract") != "trustops.dev/issuer/v1" or request.get("operation") != "issue":
        json.dump({"error": "unsupported contract or operation"}, sys.stdout)
        return 0
    if request.get("type") not in ("secret", "api-key", "token"):
        json.dump({"error": f"this plugin rotates secrets, not {request.get('type')}"}, sys.stdout)
        return 0
    ledger_path = path + ".rotations.json"
    ledger = {}
    if os.path.exists(ledger_path):
        with open(ledger_path, encoding="utf-8") as handle:
            ledger = json.load(handle)
    key = request["idempotency_key"]
    if key in ledger:
        json.dump(ledger[key], sys.stdout)
        return 0
    variable = f"{request['identity']}_{request['credential']}".upper().replace("-", "_").replace(".", "_")
    lines = []
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            lines = [l.rstrip("\n") for l in handle]
    lines = [l for l in lines if not l.split("=", 1)[0].strip() == variable]
    lines.append(f"{variable}={secrets.token_urlsafe(32)}")
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
    version = sum(1 for answer in ledger.values() if answer["metadata"]["variable"] == variable) + 1
    answer = {"reference": f"{path}:{variable}#v{version}", "metadata": {"variable": variable, "version": str(version)}}
    ledger[key] = answer
    with open(ledger_path + ".tmp", "w", encoding="utf-8") as handle:
        json.dump(ledger, handle, indent=2)
    os.replace(ledger_path + ".tmp", ledger_path)
    block = os.environ.get("TRUSTOPS_EXAMPLE_BLOCK")
    if block:
        with open(block, "w") as marker:
            marker.write(str(os.getpid()))
        time.sleep(600)
    json.dump(answer, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
