"""A minimal LSP client for yaml-language-server: opens YAML files, prints what the server says.

    python3 yaml_lsp.py SERVER FILE... [--complete FILE:LINE:COLUMN]

Prints one JSON object: {"diagnostics": {path: [message, ...]}, "completion": [item, ...]}.
The server resolves each file's `# yaml-language-server: $schema=...` modeline itself, as an
editor's YAML extension does.
"""

import json
import os
import select
import subprocess
import sys
import time

server_cmd = sys.argv[1]
args = sys.argv[2:]
complete = None
if "--complete" in args:
    i = args.index("--complete")
    complete = args[i + 1]
    args = args[:i] + args[i + 2:]
files = [os.path.abspath(f) for f in args]

server = subprocess.Popen(
    [server_cmd, "--stdio"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
)
next_id = 0


def send(message):
    body = json.dumps(message).encode()
    server.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    server.stdin.flush()


def request(method, params):
    global next_id
    next_id += 1
    send({"jsonrpc": "2.0", "id": next_id, "method": method, "params": params})
    return next_id


def read():
    length = None
    while True:
        line = server.stdout.readline()
        if not line:
            raise SystemExit("yaml-language-server exited")
        line = line.strip()
        if not line:
            break
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    return json.loads(server.stdout.read(length))


SETTINGS = {"yaml": {"validate": True, "completion": True, "hover": True, "schemaStore": {"enable": False}}}
diagnostics = {}
pending = {}


def handle(message):
    """Answers the server's requests; keeps diagnostics; returns responses to ours."""
    if "method" in message and "id" in message:
        if message["method"] == "workspace/configuration":
            # The settings an editor holds for the YAML extension, for each section asked.
            result = [SETTINGS["yaml"] for _ in message["params"]["items"]]
        else:
            result = None
        send({"jsonrpc": "2.0", "id": message["id"], "result": result})
    elif message.get("method") == "textDocument/publishDiagnostics":
        uri = message["params"]["uri"]
        diagnostics[uri[len("file://"):]] = [d["message"] for d in message["params"]["diagnostics"]]
    elif "id" in message:
        pending[message["id"]] = message


def wait_for(condition, seconds=30):
    deadline = time.time() + seconds
    while not condition():
        if time.time() > deadline:
            raise SystemExit("timed out waiting for yaml-language-server")
        handle(read())


root = os.path.dirname(files[0]) if files else os.getcwd()
init = request(
    "initialize",
    {
        "processId": os.getpid(),
        "rootUri": "file://" + root,
        "capabilities": {
            "workspace": {"configuration": True},
            "textDocument": {
                "publishDiagnostics": {},
                "completion": {"completionItem": {"snippetSupport": True}},
            },
        },
    },
)
wait_for(lambda: init in pending)
send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
send({"jsonrpc": "2.0", "method": "workspace/didChangeConfiguration", "params": {"settings": SETTINGS}})
for path in files:
    with open(path) as f:
        text = f.read()
    send(
        {
            "jsonrpc": "2.0",
            "method": "textDocument/didOpen",
            "params": {"textDocument": {"uri": "file://" + path, "languageId": "yaml", "version": 1, "text": text}},
        }
    )
wait_for(lambda: all(p in diagnostics for p in files))
# Validation runs again once the schemas are loaded: give it a moment to settle.
deadline = time.time() + 2
while time.time() < deadline:
    if select.select([server.stdout], [], [], 0.2)[0]:
        handle(read())
completion = []
if complete:
    path, line, column = complete.rsplit(":", 2)
    path = os.path.abspath(path)
    done = request(
        "textDocument/completion",
        {"textDocument": {"uri": "file://" + path}, "position": {"line": int(line), "character": int(column)}},
    )
    wait_for(lambda: done in pending)
    result = pending[done].get("result") or []
    completion = result["items"] if isinstance(result, dict) else result
shutdown = request("shutdown", None)
wait_for(lambda: shutdown in pending)
send({"jsonrpc": "2.0", "method": "exit"})
server.wait(timeout=10)
print(json.dumps({"diagnostics": diagnostics, "completion": completion}))
