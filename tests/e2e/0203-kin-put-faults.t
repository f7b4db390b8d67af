#!/bin/sh
# kin-put through the fault proxy: partial PutRecords failures, throttling,
# 500/503/429 and connection resets. Every record arrives; only the failed
# entries are resent, so the one source of duplicates is a connection reset
# after the server committed the call (reset_after): those records were
# written, the answer was lost, and a producer cannot tell them from records
# that were not written. The test counts them exactly.
. "$(dirname "$0")/lib.sh"
KP=$COINPIPE_BIN/kin-put
: >"$T/empty"
export AWS_CONFIG_FILE="$T/empty" AWS_SHARED_CREDENTIALS_FILE="$T/empty"

s=kpfault-$U
create_stream "$COINPIPE_KINESIS_URL" "$s" 2 || bail "create stream $s"
cat >"$T/plan.json" <<'PLAN'
{"seed": 11, "rules": [
 {"target": "PutRecords", "calls": [1], "fault": "partial", "entry_probability": 0.3},
 {"target": "PutRecords", "calls": [2], "fault": "throttle"},
 {"target": "PutRecords", "calls": [3], "fault": "http500"},
 {"target": "PutRecords", "calls": [4], "fault": "reset_before"},
 {"target": "PutRecords", "calls": [5], "fault": "reset_after"},
 {"target": "PutRecords", "calls": [6], "fault": "partial", "entries": [0, 5, 7],
  "error_code": "InternalFailure"},
 {"target": "PutRecords", "calls": [7], "fault": "too_many", "retry_after": 1},
 {"target": "PutRecords", "calls": [8], "fault": "http503"},
 {"target": "PutRecords", "probability": 0.2, "fault": "partial", "entry_probability": 0.1}
]}
PLAN
proxy_start "$COINPIPE_KINESIS_URL" --plan "$T/plan.json" || bail "proxy starts"
N=3000
seq 1 $N | sed 's/.*/{"n":&}/' >"$T/in.ndjson"
"$KP" --endpoint-url "$PROXY_URL" -s "$s" --inflight 4 --linger 20ms -T -v \
    -d "$T/dl.ndjson" "$T/in.ndjson" >"$T/tee" 2>"$T/err"
rc=$?
is "$rc" 0 "faults: every record delivered, exit 0"
sed 's/^/# /' "$T/err"
like "$(cat "$T/err")" "[1-9][0-9]* retries, [1-9][0-9]* throttled, 0 failed" "-v counts retries and throttles"
is "$(wc -l <"$T/dl.ndjson")" 0 "no dead letters"
for f in partial throttle http500 reset_before reset_after too_many http503; do
	n=$(proxy_count "e['fault'] == '$f'")
	ok $([ "$n" -ge 1 ]; echo $?) "proxy injected $f ($n)"
done
committed=$("${PYTHON:-python3}" - "$PROXY_LOG" <<'PY'
import json, sys
n = 0
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["fault"] == "reset_after" and e.get("upstream_status") == 200:
        n += e["records"] - (e.get("failed_records") or 0)
print(n)
PY
)
diag "records written by calls whose answer was reset: $committed"
pycheck "$T" "$s" "$N" "$COINPIPE_KINESIS_URL" "$committed" <<'PY'
import sys, json, collections
from e2elib import *
T, s, N, url, committed = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
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
c = collections.Counter(json.loads(r["Data"])["n"] for r in recs)
check(set(c) == set(range(1, N + 1)), "every record is on the server")
check(max(c.values()) <= 2, "no record more than twice")
twice = sum(1 for v in c.values() if v == 2)
check(twice == committed, f"duplicates ({twice}) are exactly the records of reset-after-commit calls ({committed})")
check(len(recs) == N + committed, f"server holds {len(recs)} = {N} + {committed}")
tee = [json.loads(l) for l in open(T + "/tee")]
check([t["line"] for t in tee] == list(range(1, N + 1)), "reports in input order despite retries")
check(any(t["attempts"] > 1 for t in tee), "some records needed more than one attempt")
byseq = {r["SequenceNumber"]: json.loads(r["Data"])["n"] for r in recs}
check(all(byseq.get(t["seq"]) == t["line"] for t in tee), "each report's seq holds its record")
PY
proxy_stop

# --ordered under partial failures, throttles and resets: per key, the
# stream holds the records in input order (a reset after the server wrote
# a call may repeat records, never put one behind a later one of its key).
proxy_start "$COINPIPE_KINESIS_URL" --plan-json '{"seed": 5, "rules": [
 {"target": "PutRecords", "calls": [1, 4], "fault": "partial", "entry_probability": 0.3},
 {"target": "PutRecords", "calls": [2], "fault": "throttle"},
 {"target": "PutRecords", "calls": [3], "fault": "reset_before"},
 {"target": "PutRecords", "calls": [5], "fault": "reset_after"},
 {"target": "PutRecords", "probability": 0.3, "fault": "partial", "entry_probability": 0.2}
]}' || bail "proxy starts"
so=kpord-$U
create_stream "$COINPIPE_KINESIS_URL" "$so" 2 || bail "create stream $so"
seq 1 2000 | awk '{ printf "{\"k\":\"k%d\",\"n\":%d}\n", $1 % 10, $1 }' >"$T/ord.ndjson"
"$KP" --endpoint-url "$PROXY_URL" -s "$so" --key k --ordered --inflight 4 \
    --linger 5ms -v "$T/ord.ndjson" 2>"$T/ord.err"
is "$?" 0 "--ordered through faults: exit 0"
like "$(cat "$T/ord.err")" "[1-9][0-9]* retries" "--ordered: records were retried"
pycheck "$so" "$COINPIPE_KINESIS_URL" <<'PY'
import sys, json, collections
from e2elib import *
s, url = sys.argv[1:3]
kin = client("kinesis", url)
per_key = collections.defaultdict(list)
for r in read_all(kin, s):
    d = json.loads(r["Data"])
    per_key[d["k"]].append(d["n"])
seen = set(n for v in per_key.values() for n in v)
check(seen == set(range(1, 2001)), "--ordered: every record on the server")
bad = [k for k, v in per_key.items() if v != sorted(v)]
check(not bad, "--ordered: per key, sequence order is input order", bad[:3])
PY
proxy_stop
aws_kin kinesis delete-stream --stream-name "$so" >/dev/null 2>&1

# Retries exhausted: every call fails, the records go to the dead-letter
# file as temporary failures, exit 4.
proxy_start "$COINPIPE_KINESIS_URL" --rule '{"target": "PutRecords", "fault": "http500"}' ||
    bail "proxy starts"
seq 1 5 | sed 's/.*/{"n":&}/' | "$KP" --endpoint-url "$PROXY_URL" -s "$s" \
    --max-attempts 2 -d "$T/dl2.ndjson" 2>"$T/err2"
rc=$?
is "$rc" 4 "retries exhausted: exit 4"
pycheck "$T" <<'PY'
import sys, json
from e2elib import *
dl = [json.loads(l) for l in open(sys.argv[1] + "/dl2.ndjson")]
check([d["line"] for d in dl] == [1, 2, 3, 4, 5], "all five in the dead-letter file, in order")
check(all(d["error"] == "InternalFailure" and "2 attempts" in d["message"] for d in dl),
      "with the last error and the attempts", dl[:1])
check(json.loads(dl[0]["data"]) == {"n": 1}, "and the record")
PY
like "$(cat "$T/err2")" "<stdin>:1: not delivered: InternalFailure" "stderr names the first undelivered line"
proxy_stop
aws_kin kinesis delete-stream --stream-name "$s" >/dev/null 2>&1
done_testing
