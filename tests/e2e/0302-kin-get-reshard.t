#!/bin/sh
# A stream resharded (UpdateShardCount, then a SplitShard) while
# `kin-get --follow` reads it: every record exactly once, each parent shard
# read to its end before its children (so each key stays in order). Then
# the same without --follow, and split across 3 processes by --shard-index.
. "$(dirname "$0")/lib.sh"

: >"$T/empty"
export AWS_CONFIG_FILE="$T/empty" AWS_SHARED_CREDENTIALS_FILE="$T/empty"
KG=$COINPIPE_BIN/kin-get
kg() { "$KG" --endpoint-url "$COINPIPE_KINESIS_URL" "$@"; }

s=kg-reshard-$U
create_stream "$COINPIPE_KINESIS_URL" "$s" 2 || bail "create stream $s"
: >"$T/follow"
"$KG" --endpoint-url "$COINPIPE_KINESIS_URL" -s "$s" --follow -o envelope -v >"$T/follow" 2>"$T/follow.err" &
kpid=$!

pycheck "$COINPIPE_KINESIS_URL" "$s" "$T/sent" <<'PY'
import sys, time
from e2elib import *
url, s, out = sys.argv[1:4]
kin = client("kinesis", url)
sent = []
def write(batch):
    recs = []
    for j in range(60):
        i = len(sent)
        key = "k%d" % (i % 23)
        d = '{"key":"%s","i":%d}' % (key, i)
        sent.append(d)
        recs.append({"Data": d.encode(), "PartitionKey": key})
    r = kin.put_records(StreamName=s, Records=recs)
    assert r["FailedRecordCount"] == 0
for b in range(10):
    write(b); time.sleep(0.05)
kin.update_shard_count(StreamName=s, TargetShardCount=4, ScalingType="UNIFORM_SCALING")
check(wait_active(kin, s), "UpdateShardCount 2 -> 4 done")
for b in range(10):
    write(b); time.sleep(0.05)
sh = [x for x in kin.list_shards(StreamName=s)["Shards"]
      if "EndingSequenceNumber" not in x["SequenceNumberRange"]][0]
lo, hi = int(sh["HashKeyRange"]["StartingHashKey"]), int(sh["HashKeyRange"]["EndingHashKey"])
kin.split_shard(StreamName=s, ShardToSplit=sh["ShardId"], NewStartingHashKey=str((lo + hi) // 2))
check(wait_active(kin, s), "SplitShard %s done" % sh["ShardId"])
for b in range(10):
    write(b); time.sleep(0.05)
open(out, "w").write("\n".join(sent) + "\n")
n = len(kin.list_shards(StreamName=s)["Shards"])
check(n >= 7, "%d shards now" % n)
PY

# --follow never ends by itself: wait for every record, then SIGTERM
want=$(wc -l <"$T/sent")
i=0
while [ "$(wc -l <"$T/follow")" -lt "$want" ] && [ $i -lt 600 ]; do
	sleep 0.1; i=$((i + 1))
done
sleep 1		# a duplicate would show up now
kill -TERM $kpid
wait $kpid
is $? 143 "--follow: SIGTERM exits 143"

cat >"$T/check.py" <<'PY'
import sys, json, collections
from e2elib import *
url, s, sentf = sys.argv[1:4]
kin = client("kinesis", url)
shards = {x["ShardId"]: x for x in kin.list_shards(StreamName=s)["Shards"]}
sent = open(sentf).read().splitlines()
for f in sys.argv[4:]:
    env = [json.loads(l) for l in open(f)]
    got = [json.dumps(e["data"], separators=(",", ":")) for e in env]
    check(sorted(got) == sorted(sent), "%s: every record exactly once (%d of %d)"
          % (f.split("/")[-1], len(got), len(sent)),
          [x for x in collections.Counter(got).items() if x[1] > 1][:3])
    first, last = {}, {}
    for n, e in enumerate(env):
        first.setdefault(e["shard"], n)
        last[e["shard"]] = n
    bad = []
    for sid, sh in shards.items():
        for p in (sh.get("ParentShardId"), sh.get("AdjacentParentShardId")):
            if p and sid in first and p in last and last[p] > first[sid]:
                bad.append((p, sid))
    check(not bad, "%s: parents before children" % f.split("/")[-1], bad)
    keys = collections.defaultdict(list)
    for e in env:
        keys[e["data"]["key"]].append(e["data"]["i"])
    check(all(v == sorted(v) for v in keys.values()),
          "%s: each key in write order across the reshard" % f.split("/")[-1])
PY
pycheck "$COINPIPE_KINESIS_URL" "$s" "$T/sent" "$T/follow" <"$T/check.py"
like "$(cat "$T/follow.err")" 'shardId-000000000000: finished' "-v: a parent reported finished"

kg -s "$s" -o envelope >"$T/all"
is $? 0 "without --follow: exit 0"
for i in 0 1 2; do
	kg -s "$s" -o envelope --shard-index $i/3 >"$T/part$i" || ok 1 "--shard-index $i/3"
done
cat "$T/part0" "$T/part1" "$T/part2" >"$T/parts"
pycheck "$COINPIPE_KINESIS_URL" "$s" "$T/sent" "$T/all" <"$T/check.py"
pycheck "$T/part0" "$T/part1" "$T/part2" "$T/sent" <<'PY'
import sys, json
from e2elib import *
parts = [[json.loads(l) for l in open(f)] for f in sys.argv[1:4]]
sent = open(sys.argv[4]).read().splitlines()
shards = [{e["shard"] for e in p} for p in parts]
check(not (shards[0] & shards[1]) and not (shards[0] & shards[2]) and
      not (shards[1] & shards[2]), "--shard-index: no shard in two processes", shards)
for i, p in enumerate(parts):
    check(all(int(x.split("-")[1]) % 3 == i for x in shards[i]),
          "--shard-index %d/3: shards numbered %d mod 3" % (i, i), shards[i])
got = sorted(json.dumps(e["data"], separators=(",", ":")) for p in parts for e in p)
check(got == sorted(sent), "--shard-index 0/3 1/3 2/3: every record exactly once")
PY
n=$(kg -s "$s" --shard shardId-000000000000 --shard shardId-000000000001 | wc -l)
is "$n" 600 "--shard twice: the two first shards hold the first 600 records"
kg -s "$s" --shard shardId-000000000099 2>"$T/err"
is $? 3 "--shard that does not exist: exit 3"
# kinesis-mock allows 50 shards in all: leave none behind
aws_kin kinesis delete-stream --stream-name "$s" --enforce-consumer-deletion >/dev/null 2>&1
done_testing
