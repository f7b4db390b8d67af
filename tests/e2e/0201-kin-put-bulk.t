#!/bin/sh
# kin-put: 20,000 records into a 4-shard stream with --key and --ordered;
# boto3 reads back exactly that multiset, in input order per key, and the
# delivery reports name the sequence number each record got.
. "$(dirname "$0")/lib.sh"
KP=$COINPIPE_BIN/kin-put
: >"$T/empty"
export AWS_CONFIG_FILE="$T/empty" AWS_SHARED_CREDENTIALS_FILE="$T/empty"

s=kpbulk-$U
create_stream "$COINPIPE_KINESIS_URL" "$s" 4 || bail "create stream $s"
N=20000
"${PYTHON:-python3}" - "$N" >"$T/in.ndjson" <<'PY'
import sys
for i in range(int(sys.argv[1])):
    print('{"crypto":{"id":"coin%d"},"i":%d,"p":2.492e-05}' % (i % 1000, i))
PY
"$KP" --endpoint-url "$COINPIPE_KINESIS_URL" -s "$s" --key crypto.id \
    --ordered --inflight 8 -T -v "$T/in.ndjson" >"$T/tee.ndjson" 2>"$T/err"
rc=$?
is "$rc" 0 "20000 records: exit 0"
like "$(cat "$T/err")" "kin-put: 20000 records, .* 20000 delivered, .* 0 failed" "-v summary"
pycheck "$T" "$s" "$N" "$COINPIPE_KINESIS_URL" <<'PY'
import sys, json, collections
from e2elib import *
T, s, N, url = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
kin = client("kinesis", url)
recs = []
for sh in kin.list_shards(StreamName=s)["Shards"]:
    it = kin.get_shard_iterator(StreamName=s, ShardId=sh["ShardId"],
                                ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    while it:
        r = kin.get_records(ShardIterator=it, Limit=10000)
        recs += r["Records"]
        it = r.get("NextShardIterator")
        if not r["Records"] and r.get("MillisBehindLatest", 0) == 0:
            break
lines = [l.rstrip("\n") for l in open(T + "/in.ndjson")]
got = collections.Counter(r["Data"].decode() for r in recs)
check(len(recs) == N, f"server holds {len(recs)} records, want {N}")
check(got == collections.Counter(lines), "exactly the input multiset")
bykey = collections.defaultdict(list)
for r in sorted(recs, key=lambda r: int(r["SequenceNumber"])):
    d = json.loads(r["Data"])
    check_key = d["crypto"]["id"] == r["PartitionKey"]
    if not check_key:
        break
    bykey[r["PartitionKey"]].append(d["i"])
check(check_key, "partition key is the crypto.id field")
check(len(bykey) == 1000, "1000 keys")
check(all(v == sorted(v) for v in bykey.values()), "input order kept per key (by sequence number)")
tee = [json.loads(l) for l in open(T + "/tee.ndjson")]
check([t["line"] for t in tee] == list(range(1, N + 1)), "--tee: 20000 reports in input order")
byseq = {r["SequenceNumber"]: r["Data"].decode() for r in recs}
check(all(byseq.get(t["seq"]) == lines[t["line"] - 1] for t in tee),
      "each report's seq holds that line's record")
PY
aws_kin kinesis delete-stream --stream-name "$s" >/dev/null 2>&1
done_testing
