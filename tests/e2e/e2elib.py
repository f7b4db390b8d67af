"""e2elib.py: boto3 helpers for tests/e2e/*.t python snippets (run through
`pycheck` in lib.sh). Prints "ok NAME" / "not ok NAME" / "# note" lines that
lib.sh numbers into TAP."""

import os
import sys
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

failed = 0
NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"},
                  s3={"addressing_style": "path"}, connect_timeout=5,
                  read_timeout=30)


def check(cond, name, detail=""):
    global failed
    print(("ok " if cond else "not ok ") + name.replace("\n", " "))
    if not cond:
        failed += 1
        if detail:
            for line in str(detail).splitlines()[:10]:
                print("#   " + line)
    sys.stdout.flush()
    return cond


def client(service, url=None, secret=None, key=None, **kw):
    return boto3.client(
        service, endpoint_url=url or os.environ["COINPIPE_MOTO_URL"],
        region_name="us-east-1", config=kw.pop("config", NO_RETRY),
        aws_access_key_id=key or os.environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=secret or os.environ["AWS_SECRET_ACCESS_KEY"],
        **kw)


def error_of(fn, *a, **kw):
    """(HTTP status, error code) of a call expected to fail; (200, None) if
    it succeeded."""
    try:
        fn(*a, **kw)
    except ClientError as e:
        return (e.response["ResponseMetadata"]["HTTPStatusCode"],
                e.response["Error"]["Code"])
    return (200, None)


def wait_active(kin, name):
    for _ in range(100):
        s = kin.describe_stream_summary(StreamName=name)
        if s["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE":
            return True
        time.sleep(0.1)
    return False


def read_all(kin, name):
    """Every record of every shard, from TRIM_HORIZON."""
    out = []
    for sh in kin.list_shards(StreamName=name)["Shards"]:
        it = kin.get_shard_iterator(StreamName=name, ShardId=sh["ShardId"],
                                    ShardIteratorType="TRIM_HORIZON")
        it = it["ShardIterator"]
        for _ in range(20):
            r = kin.get_records(ShardIterator=it)
            out += r["Records"]
            it = r.get("NextShardIterator")
            if not it or r.get("MillisBehindLatest", 0) == 0 and \
                    not r["Records"]:
                break
    return out


def done():
    sys.exit(0)          # failures are "not ok" lines, not the exit code
