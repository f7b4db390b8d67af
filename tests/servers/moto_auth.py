#!/usr/bin/env python3
"""moto_auth.py: moto's server (S3, Kinesis, STS, IAM...) on 127.0.0.1 with
SigV4 signatures checked against the raw request target.

    moto_auth.py serve --port-file FILE [--port N]
        Runs moto on 127.0.0.1 (port 0 = ephemeral), writes the bound port to
        FILE once it listens, serves until SIGTERM/SIGINT.
    moto_auth.py provision --url URL
        Against a running server whose auth is still off: creates an IAM user
        with an allow-all policy and an access key, then turns auth on
        (POST /moto-api/reset-auth, text/plain body "0"). Prints sh `export`
        lines for AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.

Why a launcher and not plain `moto_server`: moto 5.2.1 verifies a signature
by rebuilding the request from a re-parsed, re-encoded URL, so correctly
signed S3 requests whose key or query holds characters such as
+ = , ; : @ & ( ) ' %, non-ASCII text or an encoded '/' in a query value are
rejected (getmoto/moto#5948). Here the signature is recomputed from the
request target exactly as it arrived on the wire:
  - S3: the canonical URI is the path as sent, not re-encoded;
  - other services: the path as sent, URI-encoded once more (SigV4 rule for
    non-S3 services);
  - query: split on '&', each name and value percent-decoded, re-encoded per
    RFC 3986 (unreserved characters A-Z a-z 0-9 - _ . ~ stay), sorted.
Everything else (which headers are signed, credential scope, the payload
hash) follows the SigV4 specification; the code computing it is our own and
does not reuse botocore's signer, so it is an independent check of clients.
"""

import argparse
import hashlib
import hmac
import io
import json
import os
import re
import signal
import sys
import threading
from urllib.parse import quote, unquote_to_bytes

_wire = threading.local()

RFC3986_SAFE = "-_.~"


def _sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def _hmac(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def _split_target(raw_target):
    """Path and query of a request target (origin-form or absolute-form)."""
    target = raw_target
    if "://" in target.split("?", 1)[0]:
        rest = target.split("://", 1)[1]
        slash = rest.find("/")
        target = rest[slash:] if slash >= 0 else "/"
    path, _, query = target.partition("?")
    return path or "/", query


def canonical_query(query):
    """SigV4 canonical query string from a raw query string."""
    pairs = []
    for piece in query.split("&"):
        if piece == "":
            continue
        name, _, value = piece.partition("=")
        pairs.append((quote(unquote_to_bytes(name), safe=RFC3986_SAFE),
                      quote(unquote_to_bytes(value), safe=RFC3986_SAFE)))
    pairs.sort()
    return "&".join(f"{n}={v}" for n, v in pairs)


def canonical_uri(path, service):
    if service == "s3":
        return path
    return quote(path, safe="/~")


def _between(first, second, text):
    return text.partition(first)[2].partition(second)[0]


def canonical_request(method, raw_target, headers, body, service):
    """SigV4 task 1 on the request as received. headers: a mapping with
    case-insensitive get() (werkzeug's); body: the raw bytes."""
    auth = headers.get("Authorization", "")
    signed = _between("SignedHeaders=", ",", auth).split(";")
    path, query = _split_target(raw_target)
    lines = [method.upper(), canonical_uri(path, service),
             canonical_query(query)]
    for name in signed:
        values = headers.getlist(name) if hasattr(headers, "getlist") \
            else [headers.get(name, "")]
        lines.append(name + ":" + ",".join(" ".join(v.split())
                                           for v in values))
    lines.append("")
    lines.append(";".join(signed))
    payload = headers.get("X-Amz-Content-SHA256")
    if not payload:
        if isinstance(body, str):
            body = body.encode("utf-8")
        payload = _sha256_hex(body or b"")
    lines.append(payload)
    return "\n".join(lines)


def signature(secret, amz_date, scope, creq):
    """SigV4 tasks 2 and 3: string to sign, derived key, signature."""
    date, region, service, term = scope.split("/")
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                     _sha256_hex(creq.encode("utf-8"))])
    key = _hmac(("AWS4" + secret).encode("utf-8"), date)
    key = _hmac(key, region)
    key = _hmac(key, service)
    key = _hmac(key, term)
    return hmac.new(key, sts.encode("utf-8"), hashlib.sha256).hexdigest()


def _patch_moto():
    from moto.iam import access_control

    base = access_control.IAMRequestBase

    def calculate_signature(self):
        raw_target = getattr(_wire, "target", None)
        if raw_target is None:          # not from our WSGI entry: moto's way
            return base._moto_calculate_signature(self)
        creds = self._access_key.create_credentials()
        auth = self._headers["Authorization"]
        scope = _between("Credential=", ",", auth).split("/", 1)[1]
        amz_date = self._headers.get("X-Amz-Date", "")
        creq = canonical_request(self._method, raw_target, self._headers,
                                 getattr(_wire, "body", b""), self._service)
        return signature(creds.secret_key, amz_date, scope, creq)

    base._moto_calculate_signature = base._calculate_signature
    base._calculate_signature = calculate_signature


def _wire_target_middleware(app):
    """Keeps the request target as werkzeug read it from the request line,
    and the body bytes as sent (moto hands form bodies over parsed), for the
    signature check running later in the same thread."""
    def wrapped(environ, start_response):
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
        # werkzeug hands the request line over as latin-1 text
        _wire.target = raw.encode("latin-1").decode("utf-8", "replace") \
            if raw is not None else None
        body = b""
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > 0:
            body = environ["wsgi.input"].read(length)
        elif environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
            body = environ["wsgi.input"].read()
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ["wsgi.input_terminated"] = True
        _wire.body = body
        try:
            if "x-amz-json" in environ.get("CONTENT_TYPE", ""):
                return _json_errors(app, environ, start_response)
            return app(environ, start_response)
        finally:
            _wire.target = None
            _wire.body = b""
    return wrapped


def _json_errors(app, environ, start_response):
    """moto answers an auth failure of a JSON-protocol service (Kinesis) with
    an XML body; AWS's JSON protocols carry errors as {"__type", "message"},
    so the same status and code are sent that way."""
    seen = {}

    def capture(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, headers
        return lambda data: None
    chunks = list(app(environ, capture))
    body = b"".join(chunks)
    status, headers = seen["status"], seen["headers"]
    if status[:1] == "4" and body.lstrip().startswith(b"<"):
        code = re.search(rb"<Code>([^<]*)</Code>", body)
        msg = re.search(rb"<Message>([^<]*)</Message>", body)
        if code:
            body = json.dumps({
                "__type": code.group(1).decode("utf-8", "replace"),
                "message": msg.group(1).decode("utf-8", "replace")
                if msg else ""}).encode("utf-8")
            headers = [(k, v) for k, v in headers
                       if k.lower() not in ("content-type", "content-length")]
            headers += [("Content-Type", "application/x-amz-json-1.1"),
                        ("Content-Length", str(len(body)))]
    start_response(status, headers)
    return [body]


def serve(args):
    from werkzeug.serving import make_server
    from moto.moto_server.werkzeug_app import (DomainDispatcherApplication,
                                               create_backend_app)

    _patch_moto()
    app = _wire_target_middleware(DomainDispatcherApplication(
        create_backend_app))
    server = make_server("127.0.0.1", args.port, app, threaded=True)
    port = server.server_address[1]

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{port}\n")
    os.rename(tmp, args.port_file)
    print(f"moto_auth: listening on 127.0.0.1:{port}", file=sys.stderr,
          flush=True)
    server.serve_forever()
    return 0


def provision(args):
    import urllib.request
    import boto3

    iam = boto3.client("iam", endpoint_url=args.url, region_name="us-east-1",
                       aws_access_key_id="bootstrap",
                       aws_secret_access_key="bootstrap")
    user = "coinpipe-test"
    iam.create_user(UserName=user)
    policy = {"Version": "2012-10-17",
              "Statement": [{"Effect": "Allow", "Action": "*",
                             "Resource": "*"}]}
    iam.put_user_policy(UserName=user, PolicyName="allow-all",
                        PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=user)["AccessKey"]

    req = urllib.request.Request(
        args.url.rstrip("/") + "/moto-api/reset-auth", data=b"0",
        method="POST", headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        if resp.status != 200:
            print(f"moto_auth: reset-auth: HTTP {resp.status}",
                  file=sys.stderr)
            return 1
    print(f"export AWS_ACCESS_KEY_ID='{key['AccessKeyId']}'")
    print(f"export AWS_SECRET_ACCESS_KEY='{key['SecretAccessKey']}'")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--port-file", required=True)
    s.add_argument("--port", type=int, default=0)
    v = sub.add_parser("provision")
    v.add_argument("--url", required=True)
    args = p.parse_args()
    return serve(args) if args.cmd == "serve" else provision(args)


if __name__ == "__main__":
    sys.exit(main())
