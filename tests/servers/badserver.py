#!/usr/bin/env python3
"""badserver: a misbehaving HTTP(S) server for the hardening tests.

It plays just enough of Kinesis (JSON 1.1: DescribeStreamSummary,
ListShards, GetShardIterator, GetRecords, PutRecords), S3 (PutObject,
multipart, ListObjectsV2) and CoinGecko (/simple/price, /ping) to get a
tool to the request a test wants to break, then breaks it in a way no real
server would:

  hang         read the request, never answer (keep the connection open)
  truncate     200 with a Content-Length, half of the body, then close
  close        close the connection without answering
  bigheader    the normal answer plus one header of --size bytes
  manyheaders  the normal answer plus --size headers of 64 bytes each
  bigbody      --status (default 200) and a body of --size bytes that never
               ends as JSON ({"a":"xxxx...), sent in chunks
  deep         a body of --size '[' (JSON nested --size deep)
  bignum       the normal JSON answer with every number replaced by a
               number of --size digits (CoinGecko prices, Kinesis counts)
  status       --status with --body (text) as the answer

--match REGEX picks the requests that get the fault (searched in
"METHOD PATH TARGET", TARGET being X-Amz-Target's operation); the others get
the normal answer. --times N faults only the first N matching requests.
Requests in absolute form (sent to us as an HTTP proxy) are answered the
same way, so a test can use a host name that is not loopback while every
byte stays on 127.0.0.1.

Listens on 127.0.0.1 only, port 0; writes the port to --port-file. With
--tls-cert/--tls-key it speaks HTTPS. --log FILE gets one JSON line per
request: n, method, path, host, target, fault, body_bytes.
Only the Python standard library is used.
"""
import argparse
import json
import re
import socket
import socketserver
import ssl
import sys
import threading
import time
from urllib.parse import urlsplit

STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/"
MAX_HEAD = 1 << 20
MAX_BODY = 64 << 20


class Request:
    def __init__(self, method, target, headers, body):
        self.method = method
        self.raw_target = target
        self.headers = headers
        self.body = body
        if target.startswith("http://") or target.startswith("https://"):
            u = urlsplit(target)
            self.host = u.netloc
            self.path = u.path + ("?" + u.query if u.query else "")
        else:
            self.host = headers.get("host", "")
            self.path = target
        amz = headers.get("x-amz-target", "")
        self.op = amz.rsplit(".", 1)[-1] if amz else ""


def read_request(f):
    """One request from a buffered socket file; None at end of stream."""
    line = f.readline(MAX_HEAD)
    while line in (b"\r\n", b"\n"):
        line = f.readline(MAX_HEAD)
    if not line:
        return None
    parts = line.decode("latin-1").split()
    if len(parts) != 3:
        return None
    headers = {}
    size = 0
    while True:
        h = f.readline(MAX_HEAD)
        size += len(h)
        if not h or h in (b"\r\n", b"\n") or size > MAX_HEAD:
            break
        k, _, v = h.decode("latin-1").partition(":")
        headers[k.strip().lower()] = v.strip()
    body = b""
    if headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            n = int(f.readline(100).split(b";")[0] or b"0", 16)
            if n == 0:
                f.readline(100)
                break
            chunks.append(f.read(n))
            f.readline(10)
        body = b"".join(chunks)
    else:
        n = int(headers.get("content-length", "0") or "0")
        if n > MAX_BODY:
            return None
        body = f.read(n) if n else b""
    return Request(parts[0], parts[1], headers, body)


def kinesis_answer(req):
    try:
        args = json.loads(req.body or b"{}")
    except ValueError:
        args = {}
    name = args.get("StreamName") or "s"
    if req.op == "DescribeStreamSummary":
        return {"StreamDescriptionSummary": {
            "StreamName": name, "StreamARN": STREAM_ARN + name,
            "StreamStatus": "ACTIVE", "OpenShardCount": 1,
            "RetentionPeriodHours": 24, "StreamCreationTimestamp": 1,
            "EnhancedMonitoring": [], "EncryptionType": "NONE",
            "StreamModeDetails": {"StreamMode": "PROVISIONED"}}}
    if req.op == "ListShards":
        return {"Shards": [{
            "ShardId": "shardId-000000000000",
            "HashKeyRange": {"StartingHashKey": "0", "EndingHashKey":
                             "340282366920938463463374607431768211455"},
            "SequenceNumberRange": {"StartingSequenceNumber": "1"}}]}
    if req.op == "GetShardIterator":
        return {"ShardIterator": "it-0"}
    if req.op == "GetRecords":
        return {"Records": [], "NextShardIterator": "it-0",
                "MillisBehindLatest": 0}
    if req.op in ("PutRecords", "PutRecord"):
        n = len(args.get("Records", [])) if req.op == "PutRecords" else 1
        recs = [{"SequenceNumber": str(10 ** 20 + i),
                 "ShardId": "shardId-000000000000"} for i in range(n)]
        if req.op == "PutRecord":
            return recs[0]
        return {"FailedRecordCount": 0, "Records": recs}
    return {}


def normal_answer(req):
    """(status, content type, body bytes, extra headers) of a sane server."""
    path = req.path
    if req.op:
        body = json.dumps(kinesis_answer(req), separators=(",", ":")).encode()
        return 200, "application/x-amz-json-1.1", body, []
    if "/api/v3/" in path:
        if "/ping" in path:
            return 200, "application/json", b'{"gecko_says":"(V3) To the Moon!"}', []
        ids = re.search(r"[?&]ids=([^&]*)", path)
        ids = ids.group(1).replace("%2C", ",").split(",") if ids else ["bitcoin"]
        body = {i: {"usd": 67187.33, "last_updated_at": 1764331181}
                for i in ids if i}
        return 200, "application/json", json.dumps(body, separators=(",", ":")).encode(), []
    # S3
    if req.method == "POST" and "uploads" in path.split("?", 1)[-1]:
        body = (b'<?xml version="1.0" encoding="UTF-8"?>'
                b"<InitiateMultipartUploadResult><Bucket>b</Bucket>"
                b"<Key>k</Key><UploadId>up-1</UploadId>"
                b"</InitiateMultipartUploadResult>")
        return 200, "application/xml", body, []
    if req.method == "POST" and "uploadId=" in path:
        body = (b'<?xml version="1.0" encoding="UTF-8"?>'
                b"<CompleteMultipartUploadResult><Bucket>b</Bucket>"
                b'<Key>k</Key><ETag>"e-1"</ETag>'
                b"</CompleteMultipartUploadResult>")
        return 200, "application/xml", body, []
    if req.method == "GET" and "list-type=2" in path:
        body = (b'<?xml version="1.0" encoding="UTF-8"?>'
                b"<ListBucketResult><Name>b</Name><KeyCount>0</KeyCount>"
                b"<IsTruncated>false</IsTruncated></ListBucketResult>")
        return 200, "application/xml", body, []
    if req.method == "DELETE":
        return 204, "application/xml", b"", []
    if req.method == "PUT":
        return 200, "application/xml", b"", [("ETag", '"0123456789abcdef"')]
    return 200, "application/json", b"{}", []


def bignumify(body, digits):
    """Every JSON number in an answer becomes one of `digits` digits."""
    num = "9" * digits
    return re.sub(rb'(?<=[:\[,])(-?[0-9][0-9.eE+-]*)(?=[,}\]])',
                  num.encode(), body)


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        srv = self.server
        while True:
            try:
                req = read_request(self.rfile)
            except (OSError, ValueError):
                return
            if req is None:
                return
            fault = srv.pick(req)
            srv.log(req, fault)
            try:
                if not self.answer(req, fault):
                    return
            except OSError:
                return

    def send_head(self, status, ctype, length, extra, chunked=False):
        lines = ["HTTP/1.1 %d X" % status,
                 "Content-Type: " + ctype,
                 "x-amzn-RequestId: bad-0000"]
        lines.append("Transfer-Encoding: chunked" if chunked
                     else "Content-Length: %d" % length)
        for k, v in extra:
            lines.append("%s: %s" % (k, v))
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def answer(self, req, fault):
        """Sends the answer; False when the connection must end."""
        o = self.server.opts
        status, ctype, body, extra = normal_answer(req)
        if fault == "hang":
            while not self.server.stopping:
                time.sleep(0.2)
            return False
        if fault == "close":
            return False
        if fault == "truncate":
            body = body if len(body) > 2 else b'{"Records":[' + b" " * 64
            self.send_head(status, ctype, len(body) * 4 + 1000, extra)
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            return False
        if fault == "bigheader":
            extra = extra + [("X-Big", "x" * o.size)]
        elif fault == "manyheaders":
            extra = extra + [("X-Many-%d" % i, "y" * 48)
                             for i in range(o.size)]
        elif fault == "bignum":
            body = bignumify(body, o.size)
        elif fault == "deep":
            body = b"[" * o.size
            ctype = "application/json"
        elif fault == "status":
            status, body = o.status, o.body.encode()
        elif fault == "bigbody":
            return self.big_body(o.status, ctype)
        self.send_head(status, ctype, len(body), extra)
        self.wfile.write(body)
        self.wfile.flush()
        return True

    def big_body(self, status, ctype):
        self.send_head(status, ctype, 0, [], chunked=True)
        chunk = b"x" * 65536
        left = self.server.opts.size
        first = b'{"a":"'
        self.wfile.write(b"%x\r\n%s\r\n" % (len(first), first))
        left -= len(first)
        while left > 0 and not self.server.stopping:
            c = chunk[:left]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(c), c))
            left -= len(c)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
        return False


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, opts, ctx):
        self.opts = opts
        self.ctx = ctx
        self.stopping = False
        self.n = 0
        self.fired = 0
        self.lock = threading.Lock()
        self.match = re.compile(opts.match) if opts.match else None
        super().__init__(("127.0.0.1", opts.port), Handler)

    def get_request(self):
        sock, addr = super().get_request()
        if self.ctx is not None:
            sock.settimeout(10)
            try:
                sock = self.ctx.wrap_socket(sock, server_side=True)
            except (ssl.SSLError, OSError):
                # the client refused our certificate: that is the test
                sock.close()
                raise OSError("handshake failed")
            sock.settimeout(None)
        return sock, addr

    def handle_error(self, request, client_address):
        pass

    def pick(self, req):
        with self.lock:
            self.n += 1
            what = "%s %s %s" % (req.method, req.path, req.op)
            if self.opts.fault == "none":
                return "none"
            if self.match is not None and not self.match.search(what):
                return "none"
            if self.opts.times and self.fired >= self.opts.times:
                return "none"
            self.fired += 1
            return self.opts.fault

    def log(self, req, fault):
        if not self.opts.log:
            return
        e = {"n": self.n, "method": req.method, "path": req.path,
             "host": req.host, "target": req.op, "fault": fault,
             "body_bytes": len(req.body)}
        with self.lock, open(self.opts.log, "a") as f:
            f.write(json.dumps(e) + "\n")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port-file", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--fault", default="none",
                   choices=["none", "hang", "truncate", "close", "bigheader",
                            "manyheaders", "bigbody", "deep", "bignum",
                            "status"])
    p.add_argument("--match", default="")
    p.add_argument("--times", type=int, default=0)
    p.add_argument("--size", type=int, default=1 << 20)
    p.add_argument("--status", type=int, default=200)
    p.add_argument("--body", default="")
    p.add_argument("--log", default="")
    p.add_argument("--tls-cert", default="")
    p.add_argument("--tls-key", default="")
    o = p.parse_args()
    ctx = None
    if o.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(o.tls_cert, o.tls_key)
    srv = Server(o, ctx)
    with open(o.port_file + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    import os
    os.replace(o.port_file + ".tmp", o.port_file)
    import signal

    def stop(*_):
        srv.stopping = True
        threading.Thread(target=srv.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    srv.serve_forever(poll_interval=0.2)
    srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
