#!/usr/bin/env python3
"""A trustops exec issuer for certificates: signs the CSR trustops sends with a CA kept as two
PEM files, through the openssl command line. It follows the contract a crash-safe apply needs.

Usage (in an Issuer):

    apiVersion: trustops.dev/v1alpha1
    kind: Issuer
    metadata: {name: team-ca}
    spec:
      exec:
        command: [python3, examples/exec-plugins/sign-csr.py, pki/ca.pem, pki/ca.key, pki/issued.json]

It reads one request (schemas/exec-issuer-request.schema.json) on stdin and answers
(schemas/exec-issuer-response.schema.json) with the chain, leaf first. The private key never
comes here: trustops sends a CSR made where the key lives.

Idempotency: every answer is kept in the ledger file (third argument) under the request's
`idempotency_key`, written atomically after the certificate is made and before the answer is
sent; a repeated key gets the same chain and mints nothing, so an apply that was killed and
resumed never holds two new certificates for one rotation. Each certificate actually minted is
also appended to `<ledger>.minted` (one line: key and serial), which the crash tests count.

For crash tests, TRUSTOPS_EXAMPLE_KILL=before-mint|after-mint makes the plugin SIGKILL the
trustops process that called it at that instant and then finish its own work, as a plugin
outliving a killed apply does.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile


def kill_caller(at: str) -> None:
    if os.environ.get("TRUSTOPS_EXAMPLE_KILL") == at:
        os.kill(os.getppid(), signal.SIGKILL)


def main() -> int:
    if len(sys.argv) != 4:
        print("usage: sign-csr.py CA_CERT CA_KEY LEDGER", file=sys.stderr)
        return 2
    ca_cert, ca_key, ledger_path = sys.argv[1:]
    request = json.load(sys.stdin)
    if request.get("contract") != "trustops.dev/issuer/v1" or request.get("operation") != "issue":
        json.dump({"error": "unsupported contract or operation"}, sys.stdout)
        return 0
    if request.get("type") != "x509-certificate" or not request.get("csr_pem"):
        json.dump({"error": "this plugin signs certificate requests only"}, sys.stdout)
        return 0
    ledger = {}
    if os.path.exists(ledger_path):
        with open(ledger_path, encoding="utf-8") as handle:
            ledger = json.load(handle)
    key = request["idempotency_key"]
    if key in ledger:
        json.dump(ledger[key], sys.stdout)
        return 0
    kill_caller("before-mint")
    with tempfile.TemporaryDirectory() as work:
        csr = os.path.join(work, "request.csr")
        with open(csr, "w", encoding="utf-8") as handle:
            handle.write(request["csr_pem"])
        sans = [f"DNS:{n}" for n in request.get("dns_names", [])]
        sans += [f"IP:{n}" for n in request.get("ip_addresses", [])]
        sans += [f"URI:{n}" for n in request.get("uris", [])]
        extensions = os.path.join(work, "extensions.cnf")
        with open(extensions, "w", encoding="utf-8") as handle:
            handle.write("basicConstraints=critical,CA:FALSE\n")
            handle.write("keyUsage=critical,digitalSignature\n")
            handle.write("extendedKeyUsage=serverAuth,clientAuth\n")
            if sans:
                handle.write("subjectAltName=" + ",".join(sans) + "\n")
        serial = "7" + os.urandom(15).hex()[1:]
        with open(os.path.join(work, "serial"), "w", encoding="utf-8") as handle:
            handle.write(serial + "\n")
        open(os.path.join(work, "index.txt"), "w").close()
        config = os.path.join(work, "ca.cnf")
        with open(config, "w", encoding="utf-8") as handle:
            handle.write(
                "[ca]\ndefault_ca = mint\n[mint]\n"
                f"database = {work}/index.txt\nnew_certs_dir = {work}\nserial = {work}/serial\n"
                "default_md = sha256\npolicy = any\nunique_subject = no\n"
                "[any]\ncommonName = optional\n")
        # The validity the request asks for (the policy's lifetime), as openssl ca spells it.
        def when(stamp: str) -> str:
            return stamp.replace("-", "").replace(":", "").replace("T", "")[2:]
        leaf = os.path.join(work, "leaf.pem")
        subprocess.run(
            ["openssl", "ca", "-batch", "-notext", "-config", config, "-in", csr,
             "-cert", ca_cert, "-keyfile", ca_key, "-startdate", when(request["not_before"]),
             "-enddate", when(request["not_after"]), "-extfile", extensions, "-out", leaf],
            check=True, capture_output=True)
        with open(leaf, encoding="utf-8") as handle:
            chain = handle.read()
    with open(ca_cert, encoding="utf-8") as handle:
        chain += handle.read()
    with open(ledger_path + ".minted", "a", encoding="utf-8") as minted:
        minted.write(f"{key} {serial}\n")
    answer = {"certificate_chain_pem": chain}
    ledger[key] = answer
    with open(ledger_path + ".tmp", "w", encoding="utf-8") as handle:
        json.dump(ledger, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(ledger_path + ".tmp", ledger_path)
    kill_caller("after-mint")
    json.dump(answer, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
