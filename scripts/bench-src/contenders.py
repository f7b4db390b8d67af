#!/usr/bin/env python3
"""contenders.py: the Python programs scripts/bench measures against ours.

Each mode is what a user of boto3, the csv module or pandas would write,
kept plain on purpose. scripts/bench runs every mode as its own process and
takes the whole process's CPU time and peak RSS (interpreter start and the
imports included: a user pays for them too).

    contenders.py put-record  --endpoint-url URL --stream NAME FILE
    contenders.py put-records --endpoint-url URL --stream NAME FILE
    contenders.py get-records --endpoint-url URL --stream NAME   > data
    contenders.py csv FILE    > csv
    contenders.py pandas FILE > csv
    contenders.py sigv4 N [WHEN]

Each prints a one-line JSON summary on stderr as its last line.
"""

import json
import sys
import time

PUT_RECORDS_MAX = 500  # PutRecords API limit
GET_RECORDS_LIMIT = 10000  # GetRecords API limit
FIELDS = ["ts", "crypto", "vs", "price", "updated", "market_cap", "vol_24h",
          "change_24h"]


def summary(**kw):
    print(json.dumps(kw), file=sys.stderr)


def kinesis(url):
    import boto3
    return boto3.client("kinesis", endpoint_url=url)


def put_record(args):
    """The notebook's way: one PutRecord call per record."""
    k = kinesis(args.endpoint_url)
    n = 0
    with open(args.file, "rb") as f:
        for line in f:
            line = line.rstrip(b"\n")
            rec = json.loads(line)
            k.put_record(StreamName=args.stream, Data=line,
                         PartitionKey=rec["crypto"])
            n += 1
    summary(records=n)


def put_records(args):
    """Batches of 500; failed entries are sent again, as they must be."""
    k = kinesis(args.endpoint_url)
    n = calls = 0

    def send(batch):
        nonlocal calls
        while batch:
            calls += 1
            resp = k.put_records(StreamName=args.stream, Records=batch)
            if resp.get("FailedRecordCount", 0) == 0:
                return
            batch = [e for e, r in zip(batch, resp["Records"])
                     if "ErrorCode" in r]
            time.sleep(0.1)

    batch = []
    with open(args.file, "rb") as f:
        for line in f:
            line = line.rstrip(b"\n")
            batch.append({"Data": line,
                          "PartitionKey": json.loads(line)["crypto"]})
            n += 1
            if len(batch) == PUT_RECORDS_MAX:
                send(batch)
                batch = []
    send(batch)
    summary(records=n, calls=calls)


def get_records(args):
    """Every shard from TRIM_HORIZON until caught up, one after another."""
    k = kinesis(args.endpoint_url)
    out = sys.stdout.buffer
    n = calls = 0
    shards = []
    kw = {"StreamName": args.stream}
    while True:
        resp = k.list_shards(**kw)
        shards += [s["ShardId"] for s in resp["Shards"]]
        if not resp.get("NextToken"):
            break
        kw = {"NextToken": resp["NextToken"]}
    for shard in shards:
        it = k.get_shard_iterator(StreamName=args.stream, ShardId=shard,
                                  ShardIteratorType="TRIM_HORIZON")
        it = it["ShardIterator"]
        while it:
            resp = k.get_records(ShardIterator=it, Limit=GET_RECORDS_LIMIT)
            calls += 1
            for r in resp["Records"]:
                out.write(r["Data"])
                out.write(b"\n")
            n += len(resp["Records"])
            if not resp["Records"] and resp.get("MillisBehindLatest") == 0:
                break
            it = resp.get("NextShardIterator")
    out.flush()
    summary(records=n, calls=calls, shards=len(shards))


def to_csv(args):
    import csv
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(FIELDS)
    n = 0
    with open(args.file, "rb") as f:
        for line in f:
            rec = json.loads(line)
            w.writerow([rec.get(k) for k in FIELDS])
            n += 1
    sys.stdout.flush()
    summary(rows=n)


def pandas_csv(args):
    import pandas as pd
    df = pd.read_json(args.file, lines=True, dtype=False,
                      convert_dates=False)
    df.to_csv(sys.stdout, index=False, columns=FIELDS)
    sys.stdout.flush()
    summary(rows=len(df), pandas=pd.__version__)


def sigv4(args):
    """botocore's SigV4Auth on the request scripts/bench-src/sigv4-bench.c
    signs; the first signature is made at the fixed time WHEN so that the
    two can be compared, the rest at the current time as botocore does."""
    import datetime
    import botocore.auth
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    with open(args.body_file, "rb") as f:
        body = f.read()
    cred = Credentials("AKIDEXAMPLE",
                       "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    signer = SigV4Auth(cred, "kinesis", "us-east-1")
    headers = {"Content-Type": "application/x-amz-json-1.1",
               "X-Amz-Target": "Kinesis_20131202.PutRecord"}

    def request():
        return AWSRequest(method="POST", url="http://127.0.0.1:4567/",
                          data=body, headers=dict(headers))

    fixed = datetime.datetime.fromtimestamp(args.when, datetime.timezone.utc)
    real = botocore.auth.get_current_datetime
    botocore.auth.get_current_datetime = lambda *a, **kw: fixed.replace(
        tzinfo=None)
    first = request()
    signer.add_auth(first)
    botocore.auth.get_current_datetime = real
    sig = first.headers["Authorization"].rsplit("Signature=", 1)[1]

    c0, w0 = time.process_time(), time.monotonic()
    for _ in range(args.n):
        signer.add_auth(request())
    print(json.dumps({"n": args.n, "cpu_s": time.process_time() - c0,
                      "wall_s": time.monotonic() - w0, "signature": sig}))


def main():
    import argparse
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="mode", required=True)
    for name, fn in (("put-record", put_record), ("put-records", put_records),
                     ("get-records", get_records)):
        s = sub.add_parser(name)
        s.add_argument("--endpoint-url", required=True)
        s.add_argument("--stream", required=True)
        if name != "get-records":
            s.add_argument("file")
        s.set_defaults(fn=fn)
    for name, fn in (("csv", to_csv), ("pandas", pandas_csv)):
        s = sub.add_parser(name)
        s.add_argument("file")
        s.set_defaults(fn=fn)
    s = sub.add_parser("sigv4")
    s.add_argument("n", type=int)
    s.add_argument("body_file")
    s.add_argument("--when", type=int, default=1795867200)
    s.set_defaults(fn=sigv4)
    args = p.parse_args()
    args.fn(args)


if __name__ == "__main__":
    main()
