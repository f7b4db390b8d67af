#!/bin/sh
# kin-put --aggregate across a reshard: the shard map is read at start, the
# stream's one shard is split mid-run (kinesis-mock), and aggregates built
# for the old map land on a child. Judged as the KCL reads a stream (it
# drops the sub-records of an aggregate that lie outside its shard's hash
# range, MD5 of the partition key): every input record is still there, and
# each --tee report names a shard whose range holds its record. The stored
# records are decoded by awslabs' reference (aws-kinesis-agg).
. "$(dirname "$0")/lib.sh"
KP=$COINPIPE_BIN/kin-put
: >"$T/empty"
export AWS_CONFIG_FILE="$T/empty" AWS_SHARED_CREDENTIALS_FILE="$T/empty"

s=kpresh-$U
create_stream "$COINPIPE_KINESIS_URL" "$s" 1 || bail "create stream $s"
batch() {
	seq "$1" "$2" | sed 's/.*/{"n":&,"sym":"coin-&"}/'
}
# wait_lines FILE N: until FILE has N lines (60 s at most)
wait_lines() {
	_i=0
	while [ "$(wc -l <"$1")" -lt "$2" ] && [ $_i -lt 600 ]; do
		sleep 0.1; _i=$((_i + 1))
	done
}

mkfifo "$T/fifo"
: >"$T/tee"
"$KP" --endpoint-url "$COINPIPE_KINESIS_URL" -s "$s" --key sym --aggregate \
    --linger 200ms -T -v <"$T/fifo" >"$T/tee" 2>"$T/err" &
kp=$!
exec 3>"$T/fifo"
batch 1 300 >&3
wait_lines "$T/tee" 300
is "$(wc -l <"$T/tee" | tr -d ' ')" 300 "before the split: 300 delivered"
pycheck "$COINPIPE_KINESIS_URL" "$s" <<'PY'
import sys
from e2elib import *
url, s = sys.argv[1:3]
kin = client("kinesis", url)
sh = kin.list_shards(StreamName=s)["Shards"][0]
kin.split_shard(StreamName=s, ShardToSplit=sh["ShardId"],
                NewStartingHashKey=str(2**127))
check(wait_active(kin, s), "SplitShard done: two children")
PY
batch 301 600 >&3
wait_lines "$T/tee" 600
batch 601 900 >&3
exec 3>&-
wait $kp
is "$?" 0 "kin-put across the split: exit 0"
like "$(cat "$T/err")" "aggregates landed on another shard" "-v: the landings are counted"

pycheck "$T" "$s" "$COINPIPE_KINESIS_URL" <<'PY'
import sys, json, base64
from e2elib import *
T, s, url = sys.argv[1:4]
kin = client("kinesis", url)
shards = {x["ShardId"]: x for x in kin.list_shards(StreamName=s)["Shards"]}
with open(T + "/raw.jsonl", "w") as f, open(T + "/where.json", "w") as w:
    where = {}
    for sid in shards:
        it = kin.get_shard_iterator(StreamName=s, ShardId=sid,
                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while it:
            r = kin.get_records(ShardIterator=it, Limit=10000)
            for rec in r["Records"]:
                where[rec["SequenceNumber"]] = sid
                f.write(json.dumps({"data": base64.b64encode(rec["Data"]).decode(),
                                    "partitionKey": rec["PartitionKey"],
                                    "sequenceNumber": rec["SequenceNumber"]}) + "\n")
            it = r.get("NextShardIterator")
            if not r["Records"] and r.get("MillisBehindLatest", 0) == 0:
                break
    json.dump({"where": where, "ranges": {k: [v["HashKeyRange"]["StartingHashKey"],
              v["HashKeyRange"]["EndingHashKey"]] for k, v in shards.items()}}, w)
check(len(shards) == 3, "three shards: the parent and two children", list(shards))
PY
"${NODE:-node}" "$COINPIPE_TOP/tests/e2e/kplref.js" deagg <"$T/raw.jsonl" \
    >"$T/users.jsonl" 2>"$T/ref.err"
is "$?" 0 "aws-kinesis-agg decodes every stored record"
pycheck "$T" <<'PY'
import sys, json, base64, hashlib, collections
from e2elib import *
T = sys.argv[1]
w = json.load(open(T + "/where.json"))
where, ranges = w["where"], {k: (int(a), int(b)) for k, (a, b) in w["ranges"].items()}
def inside(sid, key, ehk):
    h = int(ehk) if ehk else int(hashlib.md5(key.encode()).hexdigest(), 16)
    lo, hi = ranges[sid]
    return lo <= h <= hi
users = [json.loads(l) for l in open(T + "/users.jsonl")]
kcl, dropped, at = collections.Counter(), 0, {}
for u in users:
    sid = where[u["sequenceNumber"]]
    n = json.loads(base64.b64decode(u["data"]))["n"]
    at[(u["sequenceNumber"], u["subSequenceNumber"] or 0)] = (sid, u["partitionKey"], u.get("explicitHashKey"), n)
    if inside(sid, u["partitionKey"], u.get("explicitHashKey")):
        kcl[n] += 1
    else:
        dropped += 1
check(set(kcl) == set(range(1, 901)),
      "as the KCL reads it (sub-records outside their shard dropped): every record",
      sorted(set(range(1, 901)) - set(kcl))[:10])
check(dropped > 0, "some aggregates did land off their shard (%d sub-records outside)" % dropped)
tee = [json.loads(l) for l in open(T + "/tee")]
bad = []
for t in tee:
    k = (t["seq"], t.get("subseq") or 0)
    sid, key, ehk, n = at.get(k, (None, None, None, None))
    if sid != t["shard"] or n != t["line"] or not inside(sid, key, ehk):
        bad.append(t)
check([t["line"] for t in tee] == list(range(1, 901)), "one report per record, in input order")
check(not bad, "each report names a shard whose range holds its record", bad[:3])
PY
aws_kin kinesis delete-stream --stream-name "$s" --enforce-consumer-deletion >/dev/null 2>&1
done_testing
