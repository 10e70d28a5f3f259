#!/usr/bin/env python3
"""A stand-in for an on-premise Bitbucket Server / Data Center, for tests and the sandbox.

It is written from Atlassian's documentation, not from Atlas Relay's code:
- Git over HTTPS at /scm/<PROJECT>/<repo>.git (the project key is case-insensitive), served
  by git's own smart-HTTP backend (`git http-backend`), so clones and fetches meet real git.
- HTTP access tokens: "Use them in place of passwords for Git over HTTPS, or to authenticate
  when using the Bitbucket REST API ... project and repository level tokens only with Bearer
  authentication" (Bitbucket Data Center, HTTP access tokens). A request without the right
  `Authorization: Bearer <token>` gets 401 with `WWW-Authenticate: Basic realm="Atlassian
  Bitbucket"`, as the real server answers.
- HTTPS only, with a CA of its own made at start (written to <state>/ca.crt for clients).
- Build statuses ("Updating build status for commits", Bitbucket Data Center): the repository's
  builds API, POST /rest/api/latest/projects/<PROJECT>/repos/<slug>/commits/<commit>/builds,
  and the older POST /rest/build-status/1.0/commits/<commit>; both answer 204, need `key`,
  `state` (INPROGRESS, SUCCESSFUL, FAILED, CANCELLED, UNKNOWN) and `url`, and answer 400 with
  Bitbucket's error shape otherwise. With --legacy-only, the builds API is 404, as on servers
  before 7.4.

Usage: bitbucket-standin.py STATE_DIR REPOSITORIES_ROOT [--legacy-only] [--port N]
  The token comes from the environment (BITBUCKET_STANDIN_TOKEN), never from the arguments.
  --port N listens on N (Bitbucket's own default is 7990); by default on a free port.
  REPOSITORIES_ROOT holds <project-lowercase>/<repo>.git (bare or not).
  Writes <state>/port once listening, and appends one JSON line per request to
  <state>/requests.jsonl: method, path, query, and whether the token matched (never its value);
  each build status accepted goes to <state>/builds.jsonl as {"path": ..., "body": ...}.
"""
import http.server
import json
import os
import socketserver
import ssl
import subprocess
import sys
import re
import signal
import threading

STATE, ROOT = sys.argv[1], os.path.abspath(sys.argv[2])
LEGACY_ONLY = "--legacy-only" in sys.argv[3:]
PORT = int(sys.argv[sys.argv.index("--port") + 1]) if "--port" in sys.argv[3:] else 0
BUILDS_API = re.compile(r"^/rest/api/(latest|1\.0)/projects/[^/]+/repos/[^/]+/commits/[0-9a-f]{7,40}/builds$")
LEGACY_API = re.compile(r"^/rest/build-status/1\.0/commits/[0-9a-f]{7,40}$")
STATES = {"INPROGRESS", "SUCCESSFUL", "FAILED", "CANCELLED", "UNKNOWN"}
TOKEN = os.environ.get("BITBUCKET_STANDIN_TOKEN", "")
if not TOKEN:
    sys.exit("BITBUCKET_STANDIN_TOKEN is not set")
os.makedirs(STATE, exist_ok=True)
LOG_LOCK = threading.Lock()


def make_certificate():
    """A CA and a server certificate for 127.0.0.1 and localhost, made with openssl."""
    run = lambda *args: subprocess.run(args, cwd=STATE, check=True, capture_output=True)
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
        "/CN=bitbucket stand-in CA", "-keyout", "ca.key", "-out", "ca.crt",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
        "-keyout", "server.key", "-out", "server.csr")
    with open(os.path.join(STATE, "server.ext"), "w") as ext:
        ext.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    run("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-extfile", "server.ext", "-out", "server.crt")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self, authorised):
        path, _, query = self.path.partition("?")
        with LOG_LOCK, open(os.path.join(STATE, "requests.jsonl"), "a") as log:
            log.write(json.dumps({"method": self.command, "path": path, "query": query,
                                  "authorised": authorised}) + "\n")

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self):
        authorised = self.headers.get("Authorization", "") == "Bearer " + TOKEN
        self.record(authorised)
        if not authorised:
            body = json.dumps({"errors": [{"message": "Authentication failed. Please check your credentials and try again."}]}).encode()
            return self.answer(401, body, [("WWW-Authenticate", 'Basic realm="Atlassian Bitbucket"'),
                                           ("Content-Type", "application/json;charset=UTF-8")])
        path, _, query = self.path.partition("?")
        if self.command == "POST" and (BUILDS_API.match(path) or LEGACY_API.match(path)):
            return self.build_status(path, legacy=bool(LEGACY_API.match(path)))
        parts = path.split("/")
        # /scm/<project>/<repo>.git/<rest>
        if len(parts) < 5 or parts[1] != "scm" or not parts[3].endswith(".git"):
            return self.answer(404, b'{"errors":[{"message":"not found"}]}', [("Content-Type", "application/json")])
        project, repo, rest = parts[2].lower(), parts[3], "/".join(parts[4:])
        if not os.path.isdir(os.path.join(ROOT, project, repo)):
            return self.answer(404, b"Repository not found\n")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GIT_PROJECT_ROOT": ROOT, "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": self.command, "PATH_INFO": "/%s/%s/%s" % (project, repo, rest),
            "QUERY_STRING": query, "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)), "REMOTE_USER": "atlas-relay", "REMOTE_ADDR": self.client_address[0],
            "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
        }
        if self.headers.get("Content-Encoding"):
            environment["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        result = subprocess.run(["git", "http-backend"], input=body, env=environment, capture_output=True)
        head, _, payload = result.stdout.partition(b"\r\n\r\n")
        if not _:
            head, _, payload = result.stdout.partition(b"\n\n")
        status, headers = 200, []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.answer(status, payload, headers)

    def build_status(self, path, legacy):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not legacy and LEGACY_ONLY:
            return self.answer(404, b'{"errors":[{"message":"not found"}]}', [("Content-Type", "application/json")])
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        problems = []
        if not isinstance(body, dict):
            problems.append("the body is not a JSON object")
        else:
            for field in ("key", "state", "url"):
                if not isinstance(body.get(field), str) or not body[field]:
                    problems.append("%s is required" % field)
            if body.get("state") not in STATES:
                problems.append("state must be one of " + ", ".join(sorted(STATES)))
        if problems:
            errors = [{"context": None, "message": p, "exceptionName": None} for p in problems]
            return self.answer(400, json.dumps({"errors": errors}).encode(), [("Content-Type", "application/json")])
        with LOG_LOCK, open(os.path.join(STATE, "builds.jsonl"), "a") as log:
            log.write(json.dumps({"path": path, "body": body}) + "\n")
        self.answer(204)

    do_GET = do_POST = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


# A parent may have started us with SIGTERM blocked (the mask is inherited); stop must stop us.
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
make_certificate()
server = Server(("127.0.0.1", PORT), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(os.path.join(STATE, "server.crt"), os.path.join(STATE, "server.key"))
server.socket = context.wrap_socket(server.socket, server_side=True)
with open(os.path.join(STATE, "port.tmp"), "w") as port:
    port.write(str(server.server_address[1]))
os.rename(os.path.join(STATE, "port.tmp"), os.path.join(STATE, "port"))
server.serve_forever()
