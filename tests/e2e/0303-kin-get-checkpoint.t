#!/bin/sh
# kill -9 of kin-get and a restart from its checkpoint lose nothing, and
# repeat only records after the checkpoint; SIGTERM exits 143 with the
# checkpoint written up to the last record printed; --resume reads a
# checkpoint without writing it.
. "$(dirname "$0")/lib.sh"

: >"$T/empty"
export AWS_CONFIG_FILE="$T/empty" AWS_SHARED_CREDENTIALS_FILE="$T/empty"
KG=$COINPIPE_BIN/kin-get
kg() { "$KG" --endpoint-url "$COINPIPE_KINESIS_URL" "$@"; }

s=kg-cp-$U
create_stream "$COINPIPE_KINESIS_URL" "$s" 2 || bail "create stream $s"
pycheck "$COINPIPE_KINESIS_URL" "$s" "$T/sent" <<'PY'
import sys
from e2elib import *
url, s, out = sys.argv[1:4]
kin = client("kinesis", url)
sent = []
for b in range(8):
    recs = []
    for j in range(500):
        d = '{"i":%d}' % len(sent)
        sent.append(d)
        recs.append({"Data": d.encode(), "PartitionKey": "k%d" % (len(sent) % 11)})
    assert kin.put_records(StreamName=s, Records=recs)["FailedRecordCount"] == 0
open(out, "w").write("\n".join(sent) + "\n")
check(True, "4000 records written")
PY

# small pages, so that the kill lands in the middle of the backlog
"$KG" --endpoint-url "$COINPIPE_KINESIS_URL" -s "$s" -o envelope --limit 40 -c "$T/cp" >"$T/out1" 2>"$T/err1" &
pid=$!
i=0
while [ ! -s "$T/cp" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.5
kill -KILL $pid
wait $pid
is $? 137 "kill -9"
cp "$T/cp" "$T/cp.at-kill"
kg -s "$s" -o envelope -c "$T/cp" >"$T/out2" 2>"$T/err2"
is $? 0 "restart from the checkpoint: exit 0"
pycheck "$T/sent" "$T/out1" "$T/out2" "$T/cp.at-kill" <<'PY'
import sys, json
from e2elib import *
sent = set(open(sys.argv[1]).read().splitlines())
def lines(p):
    t = open(p).read()
    if t and not t.endswith("\n"):
        t = t[:t.rfind("\n") + 1]       # a line cut by the kill
    return [json.loads(l) for l in t.splitlines()]
o1, o2 = lines(sys.argv[2]), lines(sys.argv[3])
cp = json.load(open(sys.argv[4]))["shards"]
check(0 < len(o1) < len(sent), "killed in the middle (%d of %d printed)" % (len(o1), len(sent)))
got = [json.dumps(e["data"], separators=(",", ":")) for e in o1 + o2]
check(set(got) == sent, "nothing lost across the kill")
g2 = [json.dumps(e["data"], separators=(",", ":")) for e in o2]
check(len(g2) == len(set(g2)), "the second run repeats nothing itself")
late = [e for e in o2 if e["shard"] in cp and int(e["seq"]) <= int(cp[e["shard"]]["seq"])]
check(not late, "the second run starts after the checkpoint", late[:2])
printed = {}
for e in o1:
    printed[e["shard"]] = max(printed.get(e["shard"], 0), int(e["seq"]))
check(all(int(v["seq"]) <= printed.get(k, 0) for k, v in cp.items()),
      "the checkpoint never ran ahead of what was printed", (cp, printed))
PY

# SIGTERM while following: 143 and a checkpoint at the last record printed
rm -f "$T/cp"
: >"$T/out3"
"$KG" --endpoint-url "$COINPIPE_KINESIS_URL" -s "$s" -o envelope --follow -c "$T/cp" >"$T/out3" 2>"$T/err3" &
pid=$!
i=0
while [ "$(wc -l <"$T/out3")" -lt 4000 ] && [ $i -lt 600 ]; do
	sleep 0.1; i=$((i + 1))
done
kill -TERM $pid
wait $pid
is $? 143 "SIGTERM: exit 143"
is "$(cat "$T/err3")" "" "SIGTERM: no message"
pycheck "$T/out3" "$T/cp" <<'PY'
import sys, json
from e2elib import *
last = {}
for l in open(sys.argv[1]):
    e = json.loads(l)
    last[e["shard"]] = e["seq"]
cp = json.load(open(sys.argv[2]))["shards"]
check({k: v["seq"] for k, v in cp.items()} == last,
      "SIGTERM: checkpoint at the last record of each shard", (cp, last))
PY

# --resume: starts after the file's positions, never writes it
cp "$T/cp" "$T/resume"
chmod 400 "$T/resume"
before=$(cksum <"$T/resume")
kg -s "$s" --resume "$T/resume" >"$T/out4"
is $? 0 "--resume: exit 0"
is "$(wc -l <"$T/out4" | tr -d ' ')" 0 "--resume at the end: nothing more"
is "$(cksum <"$T/resume")" "$before" "--resume: the file is not written"
pycheck "$T/resume" "$T/resume2" <<'PY'
import sys, json
from e2elib import *
cp = json.load(open(sys.argv[1]))
del cp["shards"]["shardId-000000000001"]
json.dump(cp, open(sys.argv[2], "w"))
check(True, "a checkpoint without shard 1")
PY
n=$(kg -s "$s" --resume "$T/resume2" --shard shardId-000000000001 | wc -l)
m=$(kg -s "$s" --shard shardId-000000000001 | wc -l)
is "$n" "$m" "--resume: a shard not in the file starts at --from"
printf '{"version":1,"shards":[]}' >"$T/badcp"
kg -s "$s" --resume "$T/badcp" 2>"$T/err"
is $? 3 "a malformed checkpoint: exit 3"
kg -s "$s" -c "$T/cp" --resume "$T/cp" 2>/dev/null
is $? 2 "--checkpoint with --resume: usage error"
# kinesis-mock allows 50 shards in all: leave none behind
aws_kin kinesis delete-stream --stream-name "$s" --enforce-consumer-deletion >/dev/null 2>&1
done_testing
