#!/bin/sh
# kin-put --aggregate: small records packed into KPL aggregated records,
# grouped by shard. The test decodes the KPL format itself (magic, protobuf
# by hand, MD5 trailer) from what boto3 reads back, and so does awslabs'
# reference implementation (aws-kinesis-agg, tests/e2e/kplref.js).
. "$(dirname "$0")/lib.sh"
KP=$COINPIPE_BIN/kin-put
: >"$T/empty"
export AWS_CONFIG_FILE="$T/empty" AWS_SHARED_CREDENTIALS_FILE="$T/empty"

s=kpagg-$U
create_stream "$COINPIPE_KINESIS_URL" "$s" 4 || bail "create stream $s"
N=5000
seq 1 $N | sed 's/.*/{"n":&,"sym":"s&"}/' >"$T/in.ndjson"
"$KP" --endpoint-url "$COINPIPE_KINESIS_URL" -s "$s" --key sym --aggregate \
    --aggregate-size 20KiB -T -v "$T/in.ndjson" >"$T/tee" 2>"$T/err"
rc=$?
is "$rc" 0 "--aggregate: exit 0"
sed 's/^/# /' "$T/err"
pycheck "$T" "$s" "$N" "$COINPIPE_KINESIS_URL" <<'PY'
import sys, json, hashlib, collections
from e2elib import *
T, s, N, url = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

def varint(b, i):
    v = shift = 0
    while True:
        c = b[i]; i += 1
        v |= (c & 0x7f) << shift; shift += 7
        if c < 0x80:
            return v, i

def fields(b):
    i = 0
    while i < len(b):
        tag, i = varint(b, i)
        if tag & 7 == 0:
            v, i = varint(b, i)
        elif tag & 7 == 2:
            n, i = varint(b, i); v = b[i:i + n]; i += n
        else:
            raise ValueError("wire type %d" % (tag & 7))
        yield tag >> 3, v

def kpl(data):
    """[(key, data)] of an aggregated record, or None when it is not one."""
    if data[:4] != b"\xf3\x89\x9a\xc2":
        return None
    pb, md5 = data[4:-16], data[-16:]
    assert hashlib.md5(pb).digest() == md5, "MD5 trailer"
    keys, out = [], []
    for f, v in fields(pb):
        if f == 1:
            keys.append(v.decode())
        elif f == 3:
            r = dict(fields(v))
            out.append((keys[r[1]], r[3].decode()))
    return out

kin = client("kinesis", url)
shards = kin.list_shards(StreamName=s)["Shards"]
users, aggs, plain = [], 0, 0
misplaced = 0
for sh in shards:
    lo, hi = int(sh["HashKeyRange"]["StartingHashKey"]), int(sh["HashKeyRange"]["EndingHashKey"])
    it = kin.get_shard_iterator(StreamName=s, ShardId=sh["ShardId"],
                                ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    while it:
        r = kin.get_records(ShardIterator=it, Limit=10000)
        for rec in r["Records"]:
            sub = kpl(rec["Data"])
            if sub is None:
                plain += 1
                sub = [(rec["PartitionKey"], rec["Data"].decode())]
            else:
                aggs += 1
                check_len = len(rec["Data"]) + len(rec["PartitionKey"]) <= 20480
                if not check_len:
                    misplaced = -1000000
            for k, d in sub:
                h = int(hashlib.md5(k.encode()).hexdigest(), 16)
                if not lo <= h <= hi:
                    misplaced += 1
                users.append((k, d))
        it = r.get("NextShardIterator")
        if not r["Records"] and r.get("MillisBehindLatest", 0) == 0:
            break
want = [l.rstrip("\n") for l in open(T + "/in.ndjson")]
check(aggs > 0, f"{aggs} aggregated records (and {plain} plain)")
check(aggs + plain < N / 10, "far fewer Kinesis records than user records")
check(misplaced == 0, "every sub-record's key hashes into its aggregate's shard, aggregates within 20 KiB")
check(collections.Counter(d for _, d in users) == collections.Counter(want), "decoded: exactly the input")
check(all(json.loads(d)["sym"] == k for k, d in users), "each sub-record keeps its partition key")
tee = [json.loads(l) for l in open(T + "/tee")]
check([t["line"] for t in tee] == list(range(1, N + 1)), "--tee: one report per user record, in input order")
check(sum(1 for t in tee if "subseq" in t) > N / 2, "reports of aggregated records carry subseq")
PY
# The reference de-aggregates what kin-put wrote, checksums verified.
pycheck "$T" "$s" "$COINPIPE_KINESIS_URL" <<'PY'
import sys, json, base64
from e2elib import *
T, s, url = sys.argv[1:4]
with open(T + "/raw.jsonl", "w") as f:
    for r in read_all(client("kinesis", url), s):
        f.write(json.dumps({"data": base64.b64encode(r["Data"]).decode(),
                            "partitionKey": r["PartitionKey"],
                            "sequenceNumber": r["SequenceNumber"]}) + "\n")
check(True, "raw Kinesis records saved for the reference")
PY
"${NODE:-node}" "$COINPIPE_TOP/tests/e2e/kplref.js" deagg <"$T/raw.jsonl" \
    >"$T/ref.jsonl" 2>"$T/ref.err"
is "$?" 0 "aws-kinesis-agg de-aggregates every record (MD5 checked)"
[ -s "$T/ref.err" ] && diag "$(cat "$T/ref.err")"
pycheck "$T" <<'PY'
import sys, json, base64, collections
from e2elib import *
T = sys.argv[1]
ref = [json.loads(l) for l in open(T + "/ref.jsonl")]
got = collections.Counter((u["partitionKey"], base64.b64decode(u["data"]).decode()) for u in ref)
want = collections.Counter((json.loads(l)["sym"], l.rstrip("\n")) for l in open(T + "/in.ndjson"))
check(got == want, "aws-kinesis-agg finds exactly the input, each with its partition key",
      (sum(got.values()), sum(want.values())))
check(sum(1 for u in ref if u["subSequenceNumber"] > 0) > len(ref) / 2,
      "most user records came out of aggregates")
PY
aws_kin kinesis delete-stream --stream-name "$s" >/dev/null 2>&1
done_testing
