#!/bin/sh
# kin-get de-aggregates KPL records that the test builds itself (protobuf
# wire format by hand, MD5 trailer); one with a broken MD5 passes through
# unchanged; -n inside an aggregate checkpoints its sub-record, and the
# next run goes on from the sub-record after it. And what awslabs' reference
# (aws-kinesis-agg, tests/e2e/kplref.js) aggregates, kin-get de-aggregates.
. "$(dirname "$0")/lib.sh"

: >"$T/empty"
export AWS_CONFIG_FILE="$T/empty" AWS_SHARED_CREDENTIALS_FILE="$T/empty"
kg() { "$COINPIPE_BIN/kin-get" --endpoint-url "$COINPIPE_KINESIS_URL" "$@"; }

s=kg-kpl-$U
create_stream "$COINPIPE_KINESIS_URL" "$s" 1 || bail "create stream $s"
pycheck "$COINPIPE_KINESIS_URL" "$s" "$T/agg.b64" <<'PY'
import sys, base64, hashlib
from e2elib import *
url, s, out = sys.argv[1:4]
kin = client("kinesis", url)
def varint(n):
    b = b""
    while True:
        c = n & 0x7F
        n >>= 7
        if n:
            b += bytes([c | 0x80])
        else:
            return b + bytes([c])
def field(num, wire, payload):
    tag = varint(num << 3 | wire)
    if wire == 2:
        return tag + varint(len(payload)) + payload
    return tag + varint(payload)
def aggregate(keys, recs, break_md5=False):
    pb = b"".join(field(1, 2, k.encode()) for k in keys)
    for ki, data in recs:
        pb += field(3, 2, field(1, 0, ki) + field(3, 2, data))
    md5 = hashlib.md5(pb).digest()
    if break_md5:
        md5 = bytes([md5[0] ^ 1]) + md5[1:]
    return b"\xf3\x89\x9a\xc2" + pb + md5
kin.put_record(StreamName=s, Data=b'{"n":"before"}', PartitionKey="p")
good = aggregate(["alpha", "beta"], [(0, b'{"n":0,"v":1.10}'), (1, b'{"n":1}'),
                 (0, b'{"n":2}'), (1, b'{"n":3,"big":123456789012345678901234}'),
                 (0, b'{"n":4}')])
kin.put_record(StreamName=s, Data=good, PartitionKey="alpha")
bad = aggregate(["x"], [(0, b'{"n":"bad"}')], break_md5=True)
kin.put_record(StreamName=s, Data=bad, PartitionKey="x")
kin.put_record(StreamName=s, Data=b'{"n":"after"}', PartitionKey="p")
open(out, "w").write(base64.b64encode(bad).decode())
check(True, "aggregated records written")
PY

kg -s "$s" >"$T/out" 2>"$T/err"
is $? 1 "data: exit 1 (the broken aggregate is binary, so skipped)"
is "$(cat "$T/out")" '{"n":"before"}
{"n":0,"v":1.10}
{"n":1}
{"n":2}
{"n":3,"big":123456789012345678901234}
{"n":4}
{"n":"after"}' "data: sub-records in order, between their neighbours"
like "$(cat "$T/err")" 'skipped: not UTF-8' "data: the pass-through aggregate is reported"

kg -s "$s" -o envelope >"$T/env"
is $? 0 "envelope: exit 0"
pycheck "$T/env" "$T/agg.b64" <<'PY'
import sys, json
from e2elib import *
lines = [json.loads(l) for l in open(sys.argv[1])]
bad = open(sys.argv[2]).read()
check(len(lines) == 8, "8 envelopes", len(lines))
sub = lines[1:6]
check([x["subseq"] for x in sub] == [0, 1, 2, 3, 4], "subseq 0..4")
check(len({x["seq"] for x in sub}) == 1, "one sequence number for the aggregate")
check([x["key"] for x in sub] == ["alpha", "beta", "alpha", "beta", "alpha"],
      "partition keys from the key table")
check(lines[0]["subseq"] is None and lines[7]["subseq"] is None, "plain records: subseq null")
check(lines[6].get("data_b64") == bad and lines[6]["subseq"] is None and
      lines[6]["key"] == "x", "broken MD5: passed through unchanged", lines[6])
PY
grep -q '"big":123456789012345678901234}' "$T/env"
ok $? "envelope: sub-record digits kept"

kg -s "$s" -o meta -q -n 3 -c "$T/cp" >"$T/m1"
is $? 0 "-n 3 inside the aggregate: exit 0"
pycheck "$T/cp" <<'PY'
import sys, json
from e2elib import *
cp = json.load(open(sys.argv[1]))
e = cp["shards"]["shardId-000000000000"]
check(cp["version"] == 1 and e.get("subseq") == 1, "checkpoint holds sub-record 1", cp)
PY
kg -s "$s" -o meta -q -c "$T/cp" >"$T/m2"
is $? 1 "the rest: exit 1 (non-object skipped)"
is "$(cat "$T/m1" "$T/m2" | sed 's/,"_shard".*//')" '{"n":"before"
{"n":0,"v":1.10
{"n":1
{"n":2
{"n":3,"big":123456789012345678901234
{"n":4
{"n":"after"' "the two runs together: every record once"
like "$(sed -n 2p "$T/m1")" '"_subseq":0,"_arrival"' "meta: _subseq of a sub-record"
pycheck "$T/cp" <<'PY'
import sys, json
from e2elib import *
e = json.load(open(sys.argv[1]))["shards"]["shardId-000000000000"]
check("subseq" not in e and not e.get("finished"), "checkpoint after a whole record: no subseq", e)
PY
# The reference aggregates 1,000 user records, 100 to an aggregate; boto3
# puts them; kin-get gives back exactly the user records, in order.
s2=kg-kplref-$U
create_stream "$COINPIPE_KINESIS_URL" "$s2" 2 || bail "create stream $s2"
seq 1 1000 | awk '{ printf "{\"partitionKey\":\"k%d\",\"data\":\"{\\\"n\\\":%d,\\\"p\\\":0.0009503199999999999%d}\"}\n", $1 % 7, $1, $1 % 10 }' \
    >"$T/users.jsonl"
"${NODE:-node}" "$COINPIPE_TOP/tests/e2e/kplref.js" agg 100 <"$T/users.jsonl" \
    >"$T/aggs.jsonl" 2>"$T/ref.err"
is "$?" 0 "aws-kinesis-agg aggregates the user records"
pycheck "$T" "$s2" "$COINPIPE_KINESIS_URL" <<'PY'
import sys, json, base64
from e2elib import *
T, s, url = sys.argv[1:4]
aggs = [json.loads(l) for l in open(T + "/aggs.jsonl")]
kin = client("kinesis", url)
for a in aggs:
    kw = {"ExplicitHashKey": a["explicitHashKey"]} if a.get("explicitHashKey") else {}
    kin.put_record(StreamName=s, Data=base64.b64decode(a["data"]),
                   PartitionKey=a["partitionKey"], **kw)
check(len(aggs) == 10, "10 aggregated records put", len(aggs))
PY
kg -s "$s2" -o envelope >"$T/refenv" 2>"$T/referr"
is "$?" 0 "kin-get reads the reference's aggregates: exit 0"
pycheck "$T" <<'PY'
import sys, json, collections
from e2elib import *
T = sys.argv[1]
env = [json.loads(l) for l in open(T + "/refenv")]
users = [json.loads(l) for l in open(T + "/users.jsonl")]
check(len(env) == 1000 and all(e["subseq"] is not None for e in env),
      "1,000 user records, each from an aggregate", len(env))
byn = {}
for e in env:
    byn[e["data"]["n"] if isinstance(e["data"], dict) else json.loads(e["data"])["n"]] = e
check(sorted(byn) == list(range(1, 1001)), "each user record once")
check(all(byn[int(json.loads(u["data"])["n"])]["key"] == u["partitionKey"] for u in users),
      "each with its partition key from the reference's key table")
PY
grep -c '"p":0.00095031999999999990' "$T/refenv" | grep -qx 100
ok $? "numbers keep every digit through the reference's aggregates"
aws_kin kinesis delete-stream --stream-name "$s2" --enforce-consumer-deletion >/dev/null 2>&1
# kinesis-mock allows 50 shards in all: leave none behind
aws_kin kinesis delete-stream --stream-name "$s" --enforce-consumer-deletion >/dev/null 2>&1
done_testing
