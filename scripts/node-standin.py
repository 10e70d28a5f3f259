#!/usr/bin/env python3
"""A stand-in for EC2 instances behind an Application Load Balancer, run through SSM Run Command,
for tests and the sandbox. It is written from AWS's API references, not from Atlas Relay's code:

- EC2 DescribeInstances (Query, Version 2016-11-15): reservationSet/instancesSet items with
  instanceId, instanceState (16 running), privateIpAddress, launchTime and tagSet; filters
  `tag:<key>` and `instance-state-name` (EC2 API Reference, DescribeInstances).
- Elastic Load Balancing v2 (Query, Version 2015-12-01): RegisterTargets, DeregisterTargets,
  DescribeTargetHealth and DescribeTargetGroups. Target states as the reference's TargetHealth
  lists them: a registered target is `initial` (Elb.RegistrationInProgress) until it passed
  HealthyThresholdCount checks, then `healthy`, or `unhealthy` (Target.ResponseCodeMismatch,
  Target.Timeout); a deregistered one is `draining` (Target.DeregistrationInProgress) for the
  group's deregistration delay, then no longer registered: asked for explicitly it is `unused`
  (Target.NotRegistered), otherwise absent.
- SSM (JSON 1.1, X-Amz-Target AmazonSSM.<Operation>): SendCommand with AWS-RunShellScript runs
  the `commands` lines as one shell script on each instance (here: bash in the node's folder),
  Pending, InProgress, then Success, Failed or TimedOut (`executionTimeout`). GetCommandInvocation
  returns the first 24,000 characters of standard output and 8,000 of standard error; with
  OutputS3BucketName the whole output goes to
  <OutputS3KeyPrefix>/<CommandId>/<InstanceId>/awsrunShellScript/0.awsrunShellScript/stdout|stderr
  (Systems Manager User Guide, "Run Command output"). Unknown invocations are
  InvocationDoesNotExist. Every other SSM, EC2 or Query action is forwarded to moto
  (ATLAS_RELAY_MOTO_ENDPOINT), so parameters stay in moto.

The node's application is served here too, so that a release script can restart it: each node
listens on <ip>:<appPort> and answers /status with {"state": ...} from <root>/state (written by
the node's own `systemctl`, <root>/bin/systemctl: STARTING, then RUNNING after a moment, or ERROR
when the release marker <root>/current/.atlas-relay-release names a commit listed in
<root>/broken), and /atlas-relay/release with that marker.

Usage: node-standin.py STATE_DIR CONFIG_JSON [--port N]
  CONFIG_JSON: {"nodes": [{"id", "ip", "root", "appPort", "tags": {...}, "launchTime"}],
                "targetGroups": [{"arn", "port", "healthCheckPath", "registered": [ids],
                                  "deregistrationDelay": 2, "healthyThreshold": 2, "interval": 0.5}]}
  Writes <state>/port once listening; appends requests.jsonl (service, action, ids),
  health.jsonl (target-health transitions) and commands.jsonl (each SendCommand).
"""
import http.server
import json
import os
import signal
import socketserver
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid

STATE, CONFIG = sys.argv[1], json.load(open(sys.argv[2]))
PORT = int(sys.argv[sys.argv.index("--port") + 1]) if "--port" in sys.argv[3:] else 0
MOTO = os.environ.get("ATLAS_RELAY_MOTO_ENDPOINT", "")
os.makedirs(STATE, exist_ok=True)
LOCK = threading.RLock()
NODES = {n["id"]: n for n in CONFIG["nodes"]}
GROUPS = {}
for g in CONFIG.get("targetGroups", []):
    GROUPS[g["arn"]] = dict(g, targets={i: {"state": "healthy", "reason": None, "passes": 99, "until": 0}
                                        for i in g.get("registered", [])})
INVOCATIONS = {}  # (command id, instance) -> dict

SYSTEMCTL = """#!/bin/bash
# The node's systemctl: restarting the service makes it STARTING, then RUNNING, or ERROR when the
# installed release is one of <root>/broken.
root="$(cd "$(dirname "$0")/.." && pwd)"
echo STARTING > "$root/state"
release="$(cat "$root/current/.atlas-relay-release" 2>/dev/null || true)"
if [ -n "$release" ] && [ -f "$root/broken" ] && grep -qxF "$release" "$root/broken"; then final=ERROR; else final=RUNNING; fi
( sleep 0.4; echo "$final" > "$root/state" ) >/dev/null 2>&1 &
"""


def log(name, record):
    with LOCK, open(os.path.join(STATE, name), "a") as f:
        f.write(json.dumps(record) + "\n")


def xml_escape(text):
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


# ------------------------------------------------------------------------------- target health
def set_state(arn, target, state, reason):
    entry = GROUPS[arn]["targets"].get(target)
    if entry is None or entry["state"] != state:
        log("health.jsonl", {"time": time.time(), "group": arn, "target": target,
                             "from": entry["state"] if entry else "unused", "to": state, "reason": reason})
    if entry is not None:
        entry["state"], entry["reason"] = state, reason


def checker():
    while True:
        with LOCK:
            work = [(arn, g, t, e) for arn, g in GROUPS.items() for t, e in list(g["targets"].items())]
        for arn, group, target, entry in work:
            with LOCK:
                if entry["state"] == "draining":
                    if time.time() >= entry["until"]:
                        log("health.jsonl", {"time": time.time(), "group": arn, "target": target,
                                             "from": "draining", "to": "unused", "reason": "Target.NotRegistered"})
                        group["targets"].pop(target, None)
                    continue
            node = NODES[target]
            url = "http://%s:%d%s" % (node["ip"], group["port"], group.get("healthCheckPath", "/"))
            try:
                ok = urllib.request.urlopen(url, timeout=1).status == 200
                reason = None if ok else "Target.ResponseCodeMismatch"
            except urllib.error.HTTPError:
                ok, reason = False, "Target.ResponseCodeMismatch"
            except Exception:
                ok, reason = False, "Target.Timeout"
            with LOCK:
                # Deregistered (or gone) while this check ran: draining wins over its result.
                if group["targets"].get(target) is not entry or entry["state"] == "draining":
                    continue
                if ok:
                    entry["passes"] += 1
                    if entry["passes"] >= group.get("healthyThreshold", 2):
                        set_state(arn, target, "healthy", None)
                else:
                    entry["passes"] = 0
                    if entry["state"] != "initial":
                        set_state(arn, target, "unhealthy", reason)
        time.sleep(min([g.get("interval", 0.5) for g in GROUPS.values()] or [0.5]))


# ------------------------------------------------------------------------------ node apps
class NodeApp(http.server.BaseHTTPRequestHandler):
    root = ""

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/status":
            try:
                state = open(os.path.join(self.root, "state")).read().strip() or "STARTING"
            except OSError:
                state = "RUNNING"
            body, status = json.dumps({"state": state}).encode(), (200 if state == "RUNNING" else 503)
        elif self.path == "/atlas-relay/release":
            try:
                body, status = open(os.path.join(self.root, "current", ".atlas-relay-release"), "rb").read(), 200
            except OSError:
                body, status = b"no release installed\n", 404
        else:
            body, status = b"{}", 404
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def start_node_apps():
    for node in NODES.values():
        os.makedirs(os.path.join(node["root"], "bin"), exist_ok=True)
        path = os.path.join(node["root"], "bin", "systemctl")
        with open(path, "w") as f:
            f.write(SYSTEMCTL)
        os.chmod(path, 0o755)
        if not os.path.exists(os.path.join(node["root"], "state")):
            with open(os.path.join(node["root"], "state"), "w") as f:
                f.write("RUNNING\n")
        if node.get("appPort"):
            handler = type("Node", (NodeApp,), {"root": node["root"]})
            server = Server((node["ip"], node["appPort"]), handler)
            threading.Thread(target=server.serve_forever, daemon=True).start()


# ----------------------------------------------------------------------------------- SSM
def run_invocation(command_id, instance, script, timeout, bucket, prefix):
    node = NODES[instance]
    key = (command_id, instance)
    path = os.path.join(STATE, "script-%s-%s.sh" % (command_id, instance))
    with open(path, "w") as f:
        f.write(script + "\n")
    env = dict(os.environ, NODE_ROOT=node["root"], NODE_ID=instance, NODE_IP=node["ip"],
               PATH=os.path.join(node["root"], "bin") + ":" + os.environ.get("PATH", "/usr/bin:/bin"))
    with LOCK:
        INVOCATIONS[key].update(Status="InProgress", StatusDetails="InProgress",
                                ExecutionStartDateTime=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    process = subprocess.Popen(["/bin/bash", path], cwd=node["root"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = process.communicate(timeout=timeout)
        code, status = process.returncode, ("Success" if process.returncode == 0 else "Failed")
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        code, status = -1, "TimedOut"
    out, err = out.decode(errors="replace"), err.decode(errors="replace")
    urls = {}
    if bucket:
        base = "%s/%s/%s/awsrunShellScript/0.awsrunShellScript/" % (prefix.rstrip("/"), command_id, instance)
        for name, text in (("stdout", out), ("stderr", err)):
            if text:
                subprocess.run(["aws", "s3", "cp", "--quiet", "-", "s3://%s/%s%s" % (bucket, base, name)],
                               input=text.encode(), check=False, capture_output=True)
                urls[name] = "https://s3.amazonaws.com/%s/%s%s" % (bucket, base, name)
    with LOCK:
        INVOCATIONS[key].update(Status=status, StatusDetails=status, ResponseCode=code,
                                StandardOutputContent=out[:24000], StandardErrorContent=err[:8000],
                                StandardOutputUrl=urls.get("stdout", ""), StandardErrorUrl=urls.get("stderr", ""))


def ssm(operation, body):
    if operation == "SendCommand":
        ids = body.get("InstanceIds", [])
        unknown = [i for i in ids if i not in NODES]
        if unknown or not ids:
            return 400, {"__type": "InvalidInstanceId", "message": "Instances %s not in a valid state" % unknown}
        if body.get("DocumentName") != "AWS-RunShellScript":
            return 400, {"__type": "InvalidDocument", "message": "only AWS-RunShellScript is scripted"}
        parameters = body.get("Parameters", {})
        script = "\n".join(parameters.get("commands", []))
        timeout = float((parameters.get("executionTimeout") or ["3600"])[0])
        command_id = str(uuid.uuid4())
        log("commands.jsonl", {"commandId": command_id, "instances": ids, "commands": parameters.get("commands", []),
                               "outputBucket": body.get("OutputS3BucketName"), "outputPrefix": body.get("OutputS3KeyPrefix"),
                               "maxConcurrency": body.get("MaxConcurrency")})
        for instance in ids:
            with LOCK:
                INVOCATIONS[(command_id, instance)] = {"CommandId": command_id, "InstanceId": instance,
                                                       "DocumentName": "AWS-RunShellScript", "Status": "Pending",
                                                       "StatusDetails": "Pending", "ResponseCode": -1,
                                                       "StandardOutputContent": "", "StandardErrorContent": ""}
            threading.Thread(target=run_invocation, daemon=True,
                             args=(command_id, instance, script, timeout, body.get("OutputS3BucketName"),
                                   body.get("OutputS3KeyPrefix", ""))).start()
        return 200, {"Command": {"CommandId": command_id, "DocumentName": "AWS-RunShellScript", "InstanceIds": ids,
                                 "Status": "Pending", "Comment": body.get("Comment", "")}}
    if operation == "GetCommandInvocation":
        with LOCK:
            invocation = INVOCATIONS.get((body.get("CommandId"), body.get("InstanceId")))
            invocation = dict(invocation) if invocation else None
        if invocation is None:
            return 400, {"__type": "InvocationDoesNotExist", "message": ""}
        return 200, invocation
    return None


# ------------------------------------------------------------------------------ Query APIs
def members(form, name, field=None):
    result, index = [], 1
    while True:
        key = "%s.member.%d%s" % (name, index, "." + field if field else "")
        if key not in form:
            return result
        result.append(form[key])
        index += 1


def ec2_describe(form):
    filters, index = {}, 1
    while "Filter.%d.Name" % index in form:
        values, v = [], 1
        while "Filter.%d.Value.%d" % (index, v) in form:
            values.append(form["Filter.%d.Value.%d" % (index, v)])
            v += 1
        filters[form["Filter.%d.Name" % index]] = values
        index += 1
    items = []
    for node in NODES.values():
        tags = node.get("tags", {})
        if any(not (name == "instance-state-name" and "running" in values
                    or name.startswith("tag:") and tags.get(name[4:]) in values) for name, values in filters.items()):
            continue
        tagset = "".join("<item><key>%s</key><value>%s</value></item>" % (xml_escape(k), xml_escape(v))
                         for k, v in tags.items())
        items.append("<item><instanceId>%s</instanceId><instanceState><code>16</code><name>running</name>"
                     "</instanceState><privateIpAddress>%s</privateIpAddress><launchTime>%s</launchTime>"
                     "<tagSet>%s</tagSet></item>" % (node["id"], node["ip"], node.get("launchTime", "2026-11-01T10:00:00.000Z"), tagset))
    reservations = "<item><reservationId>r-standin</reservationId><instancesSet>%s</instancesSet></item>" % "".join(items) if items else ""
    return 200, ('<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>%s</requestId>'
                 "<reservationSet>%s</reservationSet></DescribeInstancesResponse>" % (uuid.uuid4(), reservations))


def elb_error(code, message):
    return 400, ('<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><Error><Type>Sender</Type>'
                 "<Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>"
                 % (code, xml_escape(message), uuid.uuid4()))


def elb_result(action, inner):
    return 200, ('<%sResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><%sResult>%s</%sResult>'
                 "<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>"
                 % (action, action, inner, action, uuid.uuid4(), action))


def elb(action, form):
    if action == "DescribeTargetGroups":
        arns = members(form, "TargetGroupArns") or list(GROUPS)
        inner = ""
        for arn in arns:
            if arn not in GROUPS:
                return elb_error("TargetGroupNotFound", "One or more target groups not found")
            g = GROUPS[arn]
            inner += ("<member><TargetGroupArn>%s</TargetGroupArn><Protocol>HTTP</Protocol><Port>%d</Port>"
                      "<TargetType>instance</TargetType><HealthCheckPath>%s</HealthCheckPath>"
                      "<HealthyThresholdCount>%d</HealthyThresholdCount></member>"
                      % (arn, g["port"], g.get("healthCheckPath", "/"), g.get("healthyThreshold", 2)))
        return elb_result(action, "<TargetGroups>%s</TargetGroups>" % inner)
    arn = form.get("TargetGroupArn", "")
    if arn not in GROUPS:
        return elb_error("TargetGroupNotFound", "One or more target groups not found")
    group = GROUPS[arn]
    targets = members(form, "Targets", "Id")
    for target in targets:
        if target not in NODES:
            return elb_error("InvalidTarget", "The following targets are not in a running state: %s" % target)
    with LOCK:
        if action == "RegisterTargets":
            for target in targets:
                entry = group["targets"].get(target)
                if entry is None or entry["state"] == "draining":
                    if entry is None:
                        group["targets"][target] = {"state": "unused", "reason": None, "passes": 0, "until": 0}
                    group["targets"][target]["passes"] = 0
                    set_state(arn, target, "initial", "Elb.RegistrationInProgress")
            return elb_result(action, "")
        if action == "DeregisterTargets":
            for target in targets:
                if target in group["targets"] and group["targets"][target]["state"] != "draining":
                    group["targets"][target]["until"] = time.time() + group.get("deregistrationDelay", 2)
                    set_state(arn, target, "draining", "Target.DeregistrationInProgress")
            return elb_result(action, "")
        if action == "DescribeTargetHealth":
            inner = ""
            for target in targets or list(group["targets"]):
                entry = group["targets"].get(target)
                state, reason = (entry["state"], entry["reason"]) if entry else ("unused", "Target.NotRegistered")
                inner += ("<member><Target><Id>%s</Id><Port>%d</Port></Target><TargetHealth><State>%s</State>%s"
                          "</TargetHealth></member>" % (target, group["port"], state,
                                                         "<Reason>%s</Reason>" % reason if reason else ""))
            return elb_result(action, "<TargetHealthDescriptions>%s</TargetHealthDescriptions>" % inner)
    return None


# ------------------------------------------------------------------------------------ server
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body, content_type):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def forward(self, body):
        request = urllib.request.Request(MOTO + self.path, data=body, method=self.command)
        for name, value in self.headers.items():
            if name.lower() not in ("host", "content-length", "connection"):
                request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, data, content_type = response.status, response.read(), response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as error:
            status, data, content_type = error.code, error.read(), error.headers.get("Content-Type", "")
        self.answer(status, data, content_type or "text/xml")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        target = self.headers.get("X-Amz-Target", "")
        if target.startswith("AmazonSSM."):
            operation = target.split(".", 1)[1]
            request = json.loads(body or b"{}")
            log("requests.jsonl", {"service": "ssm", "action": operation,
                                   "ids": request.get("InstanceIds") or [request.get("InstanceId")]})
            result = ssm(operation, request)
            if result is None:
                return self.forward(body)
            return self.answer(result[0], json.dumps(result[1]), "application/x-amz-json-1.1")
        form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode(), keep_blank_values=True).items()}
        action, version = form.get("Action", ""), form.get("Version", "")
        result = None
        if version == "2016-11-15" and action == "DescribeInstances":
            log("requests.jsonl", {"service": "ec2", "action": action, "ids": []})
            result = ec2_describe(form)
        elif version == "2015-12-01":
            log("requests.jsonl", {"service": "elbv2", "action": action, "ids": members(form, "Targets", "Id")})
            result = elb(action, form)
        if result is None:
            return self.forward(body)
        self.answer(result[0], result[1], "text/xml")


def main():
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    start_node_apps()
    threading.Thread(target=checker, daemon=True).start()
    server = Server(("127.0.0.1", PORT), Handler)
    with open(os.path.join(STATE, "port.tmp"), "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(os.path.join(STATE, "port.tmp"), os.path.join(STATE, "port"))
    server.serve_forever()


if __name__ == "__main__":
    main()
