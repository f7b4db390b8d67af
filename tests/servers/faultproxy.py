#!/usr/bin/env python3
"""faultproxy.py: an HTTP proxy that injects faults between a tool and a real
server (kinesis-mock, moto), from a seeded, scriptable plan.

    faultproxy.py --upstream URL --port-file FILE [--log FILE]
                  [--plan FILE | --plan-json JSON] [--rule JSON]... [--seed N]
                  [--rewrite-upstream URL] [--resign]

The tool points its --endpoint-url at the proxy; the proxy forwards every
request unchanged (Host header included, so SigV4 signatures stay valid) to
--upstream, unless a rule of the plan says otherwise. Listens on 127.0.0.1
(port 0 = ephemeral), writes the bound port to --port-file, and appends one
JSON line per request to --log. Stop it by PID (SIGTERM). See
tests/README.md for the plan format.

PutRecords partial failures rewrite the request body, which breaks its
signature: the smaller request goes to --rewrite-upstream (default: the
upstream), which must then not check signatures (kinesis-mock), unless
--resign is given: the rewritten request is then signed again with
AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY from the environment (for moto).

Control (not forwarded, not logged): GET /__faultproxy/stats,
POST /__faultproxy/plan (new plan as JSON; counters and RNG restart).
"""

import argparse
import base64
import datetime
import http.client
import json
import os
import random
import re
import signal
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate",
              "proxy-authorization", "te", "trailers", "transfer-encoding",
              "upgrade", "proxy-connection"}

FAULTS = {"status", "http500", "http503", "throttle", "partial",
          "expired_iterator", "slowdown", "too_many", "delay",
          "reset_before", "reset_after"}


class Plan:
    """Rules, their counters and the seeded RNG; one lock for all."""

    def __init__(self, spec, seed=None):
        if isinstance(spec, list):
            spec = {"rules": spec}
        self.rules = spec.get("rules", [])
        for i, r in enumerate(self.rules):
            if r.get("fault") not in FAULTS:
                raise ValueError(f"rule {i}: unknown fault {r.get('fault')!r}")
            if "path" in r:
                r["_path_re"] = re.compile(r["path"])
        if seed is None:
            seed = spec.get("seed", 0)
        self.rng = random.Random(seed)
        self.seed = seed
        self.lock = threading.Lock()
        self.requests = 0
        self.matched = [0] * len(self.rules)
        self.fired = [0] * len(self.rules)

    @staticmethod
    def _target_matches(want, target):
        if isinstance(want, str):
            want = [want]
        return any(target == w or target.split(".")[-1] == w for w in want)

    def _matches(self, r, method, path, target):
        if "method" in r and r["method"].upper() != method:
            return False
        if "target" in r and not self._target_matches(r["target"], target):
            return False
        if "_path_re" in r and not r["_path_re"].search(path):
            return False
        return True

    def choose(self, method, path, target):
        """Counts the request; returns (request number, rule index, rule).
        Every rule that matches counts the request in its own "calls"
        counter, whether or not an earlier rule fires."""
        with self.lock:
            self.requests += 1
            n = self.requests
            chosen = (n, None, None)
            for i, r in enumerate(self.rules):
                if "requests" in r and n not in r["requests"]:
                    continue
                if not self._matches(r, method, path, target):
                    continue
                self.matched[i] += 1
                if chosen[2] is not None:
                    continue
                if "calls" in r and self.matched[i] not in r["calls"]:
                    continue
                if "times" in r and self.fired[i] >= r["times"]:
                    continue
                p = r.get("probability", 1.0)
                if p < 1.0 and self.rng.random() >= p:
                    continue
                self.fired[i] += 1
                chosen = (n, i, r)
            return chosen

    def pick_entries(self, r, count):
        """Indices of PutRecords entries to fail, per rule."""
        with self.lock:
            if "entries" in r:
                return sorted({i for i in r["entries"] if 0 <= i < count})
            p = r.get("entry_probability", 0.5)
            return [i for i in range(count) if self.rng.random() < p]


class Proxy(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, args, plan):
        super().__init__(("127.0.0.1", args.port), Handler)
        self.args = args
        self.plan = plan
        self.upstream = urlsplit(args.upstream)
        self.rewrite = urlsplit(args.rewrite_upstream or args.upstream)
        self.log_lock = threading.Lock()
        self.log = open(args.log, "a", buffering=1) if args.log else None
        self.counts = {"requests": 0, "faults": {}, "records": 0,
                       "failed_records": 0}

    def record(self, entry):
        with self.log_lock:
            self.counts["requests"] += 1
            if entry.get("fault"):
                f = self.counts["faults"]
                f[entry["fault"]] = f.get(entry["fault"], 0) + 1
            self.counts["records"] += entry.get("records") or 0
            self.counts["failed_records"] += entry.get("failed_records") or 0
            if self.log:
                self.log.write(json.dumps(entry, sort_keys=True) + "\n")


def _is_json_protocol(headers):
    return "x-amz-json" in headers.get("Content-Type", "") or \
        headers.get("X-Amz-Target") is not None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "faultproxy"

    def log_message(self, fmt, *args):
        pass

    # Every method goes through one path.
    def do_GET(self):
        self._handle()
    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_GET

    def _read_body(self):
        te = self.headers.get("Transfer-Encoding", "").lower()
        if "chunked" in te:
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _handle(self):
        body = self._read_body()
        if self.path.startswith("/__faultproxy/"):
            return self._control(body)
        srv = self.server
        target = self.headers.get("X-Amz-Target", "")
        n, idx, rule = srv.plan.choose(self.command, self.path, target)
        entry = {"n": n, "time": round(time.time(), 6),
                 "method": self.command, "path": self.path,
                 "target": target or None, "fault": None, "rule": idx,
                 "bytes": len(body)}
        op = target.split(".")[-1]
        if op == "PutRecords":
            entry["records"] = self._count(body, "Records")
        elif op == "PutRecord":
            entry["records"] = 1
        fault = rule["fault"] if rule else None
        if rule and rule.get("delay"):
            time.sleep(float(rule["delay"]))
        try:
            self._apply(fault, rule, body, entry, op)
        finally:
            srv.record(entry)

    @staticmethod
    def _count(body, key):
        try:
            return len(json.loads(body)[key])
        except (ValueError, KeyError, TypeError):
            return None

    def _apply(self, fault, rule, body, entry, op):
        if fault is None or fault == "delay":
            if fault == "delay":
                time.sleep(float(rule.get("seconds", 1)))
                entry["fault"] = "delay"
            status, headers, rbody = self._forward(self.server.upstream, body,
                                                   dict(self.headers))
            return self._send(status, headers, rbody, entry, op)
        entry["fault"] = fault
        if fault == "reset_before":
            return self._reset()
        if fault == "reset_after":
            status, headers, rbody = self._forward(self.server.upstream, body,
                                                   dict(self.headers))
            entry["upstream_status"] = status
            self._note_response(entry, op, rbody)
            return self._reset()
        if fault == "partial" and op == "PutRecords":
            return self._partial(rule, body, entry)
        if fault == "partial":          # not a PutRecords: pass it through
            entry["fault"] = None
            status, headers, rbody = self._forward(self.server.upstream, body,
                                                   dict(self.headers))
            return self._send(status, headers, rbody, entry, op)
        status, headers, rbody = self._canned(fault, rule)
        return self._send(status, headers, rbody, entry, op)

    def _canned(self, fault, rule):
        json_proto = _is_json_protocol(self.headers)
        extra = dict(rule.get("headers", {}))
        if fault == "status":
            status = int(rule.get("status", 500))
            text = rule.get("body", "")
            ctype = rule.get("content_type",
                             "application/x-amz-json-1.1" if json_proto
                             else "application/xml")
        elif fault in ("http500", "http503", "too_many"):
            status = {"http500": 500, "http503": 503, "too_many": 429}[fault]
            code = {500: ("InternalFailure", "InternalError"),
                    503: ("ServiceUnavailable", "ServiceUnavailable"),
                    429: ("ThrottlingException", "TooManyRequests")}[status]
            if json_proto:
                text = json.dumps({"__type": code[0],
                                   "message": f"injected {status}"})
                ctype = "application/x-amz-json-1.1"
            else:
                text = _s3_error(code[1], f"injected {status}")
                ctype = "application/xml"
            if fault == "too_many":
                extra.setdefault("Retry-After",
                                 str(rule.get("retry_after", 1)))
        elif fault == "throttle":
            status, ctype = 400, "application/x-amz-json-1.1"
            text = json.dumps({
                "__type": "ProvisionedThroughputExceededException",
                "message": "Rate exceeded for shard shardId-000000000000 "
                           "in stream under account 000000000000."})
        elif fault == "expired_iterator":
            status, ctype = 400, "application/x-amz-json-1.1"
            text = json.dumps({"__type": "ExpiredIteratorException",
                               "message": "Iterator expired. The iterator "
                                          "was created at time "
                                          "0 while right now it is 300001 "
                                          "which is further in the future "
                                          "than the tolerated delay of "
                                          "300000 milliseconds."})
        elif fault == "slowdown":
            status, ctype = 503, "application/xml"
            text = _s3_error("SlowDown", "Please reduce your request rate.")
        else:
            raise ValueError(fault)
        if "retry_after" in rule:
            extra["Retry-After"] = str(rule["retry_after"])
        headers = {"Content-Type": ctype,
                   "x-amzn-RequestId": "faultproxy-injected"}
        headers.update(extra)
        return status, headers, text.encode("utf-8")

    def _partial(self, rule, body, entry):
        req = json.loads(body)
        records = req["Records"]
        failed = self.server.plan.pick_entries(rule, len(records))
        code = rule.get("error_code", "ProvisionedThroughputExceededException")
        msg = rule.get("error_message",
                       "Rate exceeded for shard shardId-000000000000 in "
                       "stream under account 000000000000." if
                       code == "ProvisionedThroughputExceededException"
                       else "Internal service failure.")
        keep = [r for i, r in enumerate(records) if i not in failed]
        results = [None] * len(records)
        real_failed = 0
        entry["failed_entries"] = failed
        status, hdrs = 200, {"Content-Type": "application/x-amz-json-1.1"}
        if keep:
            sub = dict(req, Records=keep)
            sub_body = json.dumps(sub).encode("utf-8")
            headers = dict(self.headers)
            if self.server.args.resign:
                headers = _resign(headers, sub_body, self.path)
            status, uh, rbody = self._forward(self.server.rewrite, sub_body,
                                              headers)
            entry["forwarded_records"] = len(keep)
            if status != 200:           # upstream refused: pass that on
                entry["upstream_status"] = status
                return self._send(status, uh, rbody, entry, "PutRecords")
            got = json.loads(rbody)["Records"]
            it = iter(got)
            for i in range(len(records)):
                if i not in failed:
                    results[i] = next(it)
                    if results[i].get("ErrorCode"):
                        real_failed += 1
            for k, v in uh.items():
                if k.lower().startswith("x-amz"):
                    hdrs[k] = v
        for i in failed:
            results[i] = {"ErrorCode": code, "ErrorMessage": msg}
        out = {"FailedRecordCount": len(failed) + real_failed,
               "Records": results}
        if "EncryptionType" in req:
            out["EncryptionType"] = req["EncryptionType"]
        return self._send(status, hdrs, json.dumps(out).encode("utf-8"),
                          entry, "PutRecords")

    def _forward(self, up, body, headers):
        conn_cls = http.client.HTTPSConnection if up.scheme == "https" \
            else http.client.HTTPConnection
        conn = conn_cls(up.hostname, up.port, timeout=60)
        try:
            conn.putrequest(self.command, (up.path.rstrip("/") + self.path)
                            if up.path not in ("", "/") else self.path,
                            skip_host=True, skip_accept_encoding=True)
            for k, v in headers.items():
                if k.lower() in HOP_BY_HOP or k.lower() == "content-length":
                    continue
                conn.putheader(k, v)
            if body or self.command in ("POST", "PUT", "PATCH"):
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body if body else None)
            resp = conn.getresponse()
            rbody = resp.read()
            rheaders = {}
            for k, v in resp.getheaders():
                if k.lower() in HOP_BY_HOP or k.lower() in (
                        "content-length", "date", "server"):
                    continue
                rheaders[k] = v
            return resp.status, rheaders, rbody
        finally:
            conn.close()

    def _note_response(self, entry, op, rbody):
        if op == "PutRecords":
            try:
                entry["failed_records"] = json.loads(rbody)["FailedRecordCount"]
            except (ValueError, KeyError, TypeError):
                pass
        elif op == "GetRecords":
            entry["returned_records"] = self._count(rbody, "Records")

    def _send(self, status, headers, rbody, entry, op):
        entry["status"] = status
        if status == 200:
            self._note_response(entry, op, rbody)
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(rbody)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(rbody)

    def _reset(self):
        """Abort the connection with a TCP RST (SO_LINGER 0), no answer."""
        self.close_connection = True
        sock = self.connection
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                            struct.pack("ii", 1, 0))
        except OSError:
            pass
        for f in (self.rfile, self.wfile):
            try:
                f.close()
            except OSError:
                pass
        sock.close()

    def _control(self, body):
        srv = self.server
        if self.command == "GET" and self.path == "/__faultproxy/stats":
            with srv.log_lock:
                out = dict(srv.counts, rules_fired=list(srv.plan.fired),
                           rules_matched=list(srv.plan.matched))
            text = json.dumps(out).encode("utf-8")
            status = 200
        elif self.command == "POST" and self.path == "/__faultproxy/plan":
            try:
                srv.plan = Plan(json.loads(body or b"{}"))
                text, status = b'{"status":"ok"}', 200
            except (ValueError, KeyError, TypeError) as e:
                text = json.dumps({"error": str(e)}).encode("utf-8")
                status = 400
        else:
            text, status = b'{"error":"unknown control path"}', 404
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)


def _s3_error(code, message):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>' + code +
            "</Code><Message>" + message + "</Message><RequestId>"
            "faultproxy-injected</RequestId><HostId>"
            + base64.b64encode(os.urandom(12)).decode() +
            "</HostId></Error>")


def _resign(headers, body, path):
    """SigV4 again over a rewritten body, with the same scope, signed headers
    and a fresh X-Amz-Date, using the credentials in the environment."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import moto_auth                    # our own SigV4 code, same directory

    class H(dict):
        def get(self, k, d=None):
            for key, v in self.items():
                if key.lower() == k.lower():
                    return v
            return d
    h = H((k, v) for k, v in headers.items() if k.lower() != "content-length")
    h["Content-Length"] = str(len(body))
    auth = h.get("Authorization", "")
    cred = moto_auth._between("Credential=", ",", auth)
    access_key, scope_rest = cred.split("/", 1)
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    for k in list(h):
        if k.lower() == "x-amz-date":
            h[k] = amz_date
    scope = now.strftime("%Y%m%d") + "/" + scope_rest.split("/", 1)[1]
    signed = moto_auth._between("SignedHeaders=", ",", auth)
    creq = moto_auth.canonical_request("POST", path, h, body,
                                       scope.split("/")[2])
    sig = moto_auth.signature(os.environ["AWS_SECRET_ACCESS_KEY"], amz_date,
                              scope, creq)
    for k in list(h):
        if k.lower() == "authorization":
            h[k] = (f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
                    f"SignedHeaders={signed}, Signature={sig}")
    return dict(h)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--upstream", required=True)
    p.add_argument("--rewrite-upstream")
    p.add_argument("--resign", action="store_true")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file", required=True)
    p.add_argument("--pid-file")
    p.add_argument("--log")
    p.add_argument("--plan")
    p.add_argument("--plan-json")
    p.add_argument("--rule", action="append", default=[])
    p.add_argument("--seed", type=int)
    args = p.parse_args()

    spec = {"rules": []}
    if args.plan:
        with open(args.plan) as f:
            spec = json.load(f)
    elif args.plan_json:
        spec = json.loads(args.plan_json)
    if isinstance(spec, list):
        spec = {"rules": spec}
    spec.setdefault("rules", [])
    spec["rules"] += [json.loads(r) for r in args.rule]
    try:
        plan = Plan(spec, args.seed)
    except ValueError as e:
        print(f"faultproxy: plan: {e}", file=sys.stderr)
        return 2

    srv = Proxy(args, plan)
    signal.signal(signal.SIGTERM, lambda s, f: threading.Thread(
        target=srv.shutdown, daemon=True).start())
    signal.signal(signal.SIGINT, lambda s, f: threading.Thread(
        target=srv.shutdown, daemon=True).start())
    if args.pid_file:
        with open(args.pid_file, "w") as f:
            f.write(f"{os.getpid()}\n")
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{srv.server_address[1]}\n")
    os.rename(tmp, args.port_file)
    srv.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
