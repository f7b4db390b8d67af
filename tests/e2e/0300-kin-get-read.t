#!/bin/sh
# kin-get reads back what boto3 wrote to a 4-shard stream: the same multiset,
# in sequence order per shard; data, envelope and meta output checked
# byte for byte (numbers keep their digits); -n; a record that is not a
# line of UTF-8 is reported and skipped (exit 1); missing stream exit 3;
# | head -1 ends quietly; >/dev/full fails loudly.
. "$(dirname "$0")/lib.sh"

# the servers' env names /dev/null, which lib/awsfiles refuses: an empty file
: >"$T/empty"
export AWS_CONFIG_FILE="$T/empty" AWS_SHARED_CREDENTIALS_FILE="$T/empty"
kg() { "$COINPIPE_BIN/kin-get" --endpoint-url "$COINPIPE_KINESIS_URL" "$@"; }

s=kg-read-$U
create_stream "$COINPIPE_KINESIS_URL" "$s" 4 || bail "create stream $s"
pycheck "$COINPIPE_KINESIS_URL" "$s" "$T/sent" <<'PY'
import sys, json
from e2elib import *
url, s, out = sys.argv[1:4]
kin = client("kinesis", url)
sent = []
for b in range(6):
    recs = []
    for i in range(b * 400, b * 400 + 400):
        key = "coin-%d" % (i % 37)
        text = '{"id":"%s","i":%d,"p":0.00095031999999999997,"big":9%d1234567890123456789,"e":1E400,"u":"\u00e9\u20ac"}' % (key, i, i)
        recs.append({"Data": text.encode(), "PartitionKey": key})
        sent.append(text)
    r = kin.put_records(StreamName=s, Records=recs)
    check(r["FailedRecordCount"] == 0, "batch %d written" % b)
open(out, "w").write("\n".join(sent) + "\n")
PY

kg -s "$s" >"$T/out" 2>"$T/err"
is $? 0 "default: exit 0 once every shard is caught up"
is "$(cat "$T/err")" "" "nothing on stderr"
pycheck "$T/sent" "$T/out" <<'PY'
import sys, json, collections
from e2elib import *
sent = open(sys.argv[1]).read().splitlines()
got = open(sys.argv[2]).read().splitlines()
check(sorted(got) == sorted(sent), "the same multiset of %d lines" % len(sent),
      (len(got), len(sent)))
def per_key(lines):
    d = collections.defaultdict(list)
    for l in lines:
        d[json.loads(l)["id"]].append(l)
    return d
check(per_key(got) == per_key(sent), "in write order per partition key")
check(all('"p":0.00095031999999999997,' in l for l in got), "digits kept")
PY

kg -s "$s" -o envelope >"$T/env" && kg -s "$s" -o meta >"$T/meta"
is $? 0 "envelope and meta: exit 0"
pycheck "$COINPIPE_KINESIS_URL" "$s" "$T/env" "$T/meta" <<'PY'
import sys, json, datetime
from e2elib import *
url, s, envf, metaf = sys.argv[1:5]
kin = client("kinesis", url)
def iso(t):
    t = t.astimezone(datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)
def js(x):
    return json.dumps(x, ensure_ascii=False, separators=(",", ":"))
env, meta = {}, {}
for sh in kin.list_shards(StreamName=s)["Shards"]:
    sid = sh["ShardId"]
    it = kin.get_shard_iterator(StreamName=s, ShardId=sid,
        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    recs = []
    while True:
        r = kin.get_records(ShardIterator=it)
        recs += r["Records"]
        it = r.get("NextShardIterator")
        if not r["Records"] and r.get("MillisBehindLatest", 0) == 0:
            break
    env[sid] = ['{"stream":%s,"shard":"%s","seq":"%s","subseq":null,"arrival":"%s","key":%s,"data":%s}'
                % (js(s), sid, x["SequenceNumber"], iso(x["ApproximateArrivalTimestamp"]),
                   js(x["PartitionKey"]), x["Data"].decode()) for x in recs]
    meta[sid] = [x["Data"].decode()[:-1] + ',"_shard":"%s","_seq":"%s","_arrival":"%s","_key":%s}'
                 % (sid, x["SequenceNumber"], iso(x["ApproximateArrivalTimestamp"]),
                    js(x["PartitionKey"])) for x in recs]
def by_shard(path, field):
    d = {}
    for l in open(path, encoding="utf-8").read().splitlines():
        d.setdefault(json.loads(l)[field], []).append(l)
    return d
genv, gmeta = by_shard(envf, "shard"), by_shard(metaf, "_shard")
check(sorted(genv) == sorted(env), "envelope: every shard", (sorted(genv), sorted(env)))
for sid in sorted(env):
    check(genv.get(sid) == env[sid], "envelope %s: exact lines in sequence order" % sid,
          (genv.get(sid, [""])[:1], env[sid][:1]))
    check(gmeta.get(sid) == meta[sid], "meta %s: exact lines in sequence order" % sid,
          (gmeta.get(sid, [""])[:1], meta[sid][:1]))
PY

n=$(kg -s "$s" -n 7 | wc -l)
is "$n" 7 "-n 7 prints 7 records"
out=$(kg -s "$s" -o meta 2>&1 | head -1)
ok $? "| head -1"
like "$out" '^\{"id":' "| head -1: one record, no message"
kg -s "$s" >/dev/full 2>"$T/err"
rc=$?
ok $((rc == 0 || rc == 141)) ">/dev/full: non-zero exit ($rc), not a signal"
like "$(cat "$T/err")" '^kin-get: stdout: No space left on device' ">/dev/full: says why"

# text, binary and multi-line records
b=kg-bin-$U
create_stream "$COINPIPE_KINESIS_URL" "$b" 1 || bail "create stream $b"
pycheck "$COINPIPE_KINESIS_URL" "$b" <<'PY'
import sys
from e2elib import *
kin = client("kinesis", sys.argv[1])
for d in [b"plain text", b"\xff\xfe\x00binary", b"two\nlines", b'[1, 2.50]', b'{"a":\n 1}']:
    kin.put_record(StreamName=sys.argv[2], Data=d, PartitionKey="k")
check(True, "odd records written")
PY
kg -s "$b" >"$T/out" 2>"$T/err"
is $? 1 "data: exit 1 when records were skipped"
is "$(cat "$T/out")" 'plain text
[1, 2.50]' "data: text lines kept, others skipped"
is "$(grep -c 'skipped' "$T/err")" 3 "data: each skipped record reported"
like "$(cat "$T/err")" 'kin-get: shardId-000000000000 seq [0-9]+: skipped: not UTF-8 \(byte 1\)' "data: the reason is named"
kg -s "$b" -o envelope | sed 's/.*"key":"k",//' >"$T/out"
is "$(cat "$T/out")" '"data":"plain text"}
"data_b64":"//4AYmluYXJ5"}
"data":"two\nlines"}
"data":[1, 2.50]}
"data":{"a": 1}}' "envelope: string, base64, escaped, JSON on one line"
kg -s "$b" -o meta -q >"$T/out" 2>"$T/err"
is $? 1 "meta: non-objects skipped, exit 1"
like "$(cat "$T/out")" '^\{"a": 1,"_shard":"shardId-000000000000","_seq":"[0-9]+","_arrival":"[-0-9T:.]+Z","_key":"k"\}$' "meta: the object, on one line"
is "$(cat "$T/err")" "" "-q: no reports"

kg -s "nosuch-$U" >"$T/out" 2>"$T/err"
is $? 3 "missing stream: exit 3"
like "$(cat "$T/err")" '^kin-get: stream nosuch-.*ResourceNotFoundException' "missing stream: says so"
kg >/dev/null 2>&1
is $? 2 "no --stream: usage error"
kg -s x --from after:12 2>"$T/err"
is $? 2 "after:SEQ without one --shard: usage error"
# kinesis-mock allows 50 shards in all: leave none behind
aws_kin kinesis delete-stream --stream-name "$s" --enforce-consumer-deletion >/dev/null 2>&1
aws_kin kinesis delete-stream --stream-name "$b" --enforce-consumer-deletion >/dev/null 2>&1
done_testing
