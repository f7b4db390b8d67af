#!/bin/sh
# s3-putcsv with kin-get --format meta input: deterministic keys
# PREFIX/{shard}/{first_seq}.csv, one open object per shard, _ fields not
# columns; a rerun of the same input rewrites the same keys; --checkpoint
# holds the last _seq (and _subseq) per shard and keeps shards it did not
# see. --spool: after kill -9 a rerun uploads the rows left (none lost),
# and the spool files are 0600.
. "$(dirname "$0")/lib.sh"

: >"$T/empty"
export AWS_CONFIG_FILE="$T/empty" AWS_SHARED_CREDENTIALS_FILE="$T/empty"
P() { "$COINPIPE_BIN/s3-putcsv" --endpoint-url "$COINPIPE_MOTO_URL" "$@"; }
# background runs call the binary itself, so $! is its PID (not a subshell's)
S3P=$COINPIPE_BIN/s3-putcsv

b=s3p-rep-$U
create_bucket "$b" || bail "create bucket $b"

"${PYTHON:-python3}" - "$T/meta.ndjson" <<'PY'
import sys
s0 = 49590338271490256608559692538361571095921575989136588898
with open(sys.argv[1], "w") as f:
    for i in range(7):
        sh = "shardId-00000000000%d" % (i % 2)
        sub = ',"_subseq":%d' % i if i == 6 else ""
        f.write('{"id":"c%d","usd":0.00095032,"_shard":"%s","_seq":"%d"%s,'
                '"_arrival":"2026-01-01T00:00:00.000Z","_key":"k"}\n'
                % (i, sh, s0 + i, sub))
PY
cat >"$T/cp.json" <<'CP'
{"version":1,"shards":{"shardId-000000000009":{"seq":"77"}}}
CP

P "s3://$b/raw/csv/" --max-rows 2 --checkpoint "$T/cp.json" -T \
    <"$T/meta.ndjson" >"$T/tee1" 2>"$T/err"
is "$?" 0 "meta input exits 0"
is "$(cat "$T/err")" "" "meta fields are not reported as unknown"
P "s3://$b/raw/csv/" --max-rows 2 -T <"$T/meta.ndjson" >"$T/tee2"
is "$?" 0 "rerun exits 0"

pycheck "$b" "$T" <<'PY'
import sys, csv, io, json
from e2elib import *
b, t = sys.argv[1:3]
s3 = client("s3")
s0 = 49590338271490256608559692538361571095921575989136588898
keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=b, Prefix="raw/").get("Contents", []))
want = sorted(["raw/csv/shardId-000000000000/%d.csv" % (s0 + i) for i in (0, 4)] +
              ["raw/csv/shardId-000000000001/%d.csv" % (s0 + i) for i in (1, 5)])
check(keys == want, "deterministic keys, one object stream per shard", keys)
t1 = [json.loads(l) for l in open(t + "/tee1")]
t2 = [json.loads(l) for l in open(t + "/tee2")]
check(sorted(x["key"] for x in t1) == sorted(x["key"] for x in t2) == want,
      "the rerun rewrote the same keys", (t1, t2))
x = [e for e in t1 if e["key"].endswith("%d.csv" % (s0 + 4))]
check(x and x[0]["first_seq"] == str(s0 + 4) and x[0]["last_seq"] == str(s0 + 6)
      and x[0]["rows"] == 2, "tee first_seq/last_seq", x)
body = s3.get_object(Bucket=b, Key=want[0])["Body"].read().decode()
rows = list(csv.reader(io.StringIO(body, newline="")))
check(rows == [["id", "usd"], ["c0", "0.00095032"], ["c2", "0.00095032"]],
      "_ fields are not columns", rows)
cp = json.load(open(t + "/cp.json"))
check(cp["shards"] == {
    "shardId-000000000009": {"seq": "77"},
    "shardId-000000000000": {"seq": str(s0 + 6), "subseq": 6},
    "shardId-000000000001": {"seq": str(s0 + 5)}}, "checkpoint", cp)
done()
PY
is "$(stat -c %a "$T/cp.json")" 600 "checkpoint is 0600"

# --spool: kill -9 after the rows were read, then a rerun uploads them
mkfifo "$T/fifo"
"$S3P" --endpoint-url "$COINPIPE_MOTO_URL" "s3://$b/spool/" --spool "$T/spool" --max-rows 4 <"$T/fifo" 2>"$T/err.sp" &
pid=$!
exec 3>"$T/fifo"
cut -d, -f1-2 "$T/meta.ndjson" | sed 's/$/}/' >"$T/plain.ndjson"
cat "$T/plain.ndjson" >&3
n=0; i=0
while [ $i -lt 100 ]; do
	# object 1 uploaded (its file gone), object 2 holds the last 3 rows
	n=$(cat "$T"/spool/*-000002.ndjson 2>/dev/null | wc -l)
	[ "$n" -ge 3 ] && ! ls "$T"/spool/*-000001.ndjson >/dev/null 2>&1 &&
	    break
	sleep 0.1; i=$((i + 1))
done
is "$n" 3 "7 rows read: 4 uploaded, 3 in the spool"
kill -KILL $pid
wait $pid 2>/dev/null
exec 3>&-
is "$(stat -c %a "$T"/spool/*.ndjson)" 600 "spool file is 0600"
P "s3://$b/spool/" --spool "$T/spool" </dev/null 2>"$T/err.sp2"
is "$?" 0 "rerun after kill -9 exits 0"
is "$(ls "$T/spool" | wc -l | tr -d ' ')" 0 "spool emptied"
pycheck "$b" <<'PY'
import sys, csv, io
from e2elib import *
b = sys.argv[1]
s3 = client("s3")
ids = []
for o in s3.list_objects_v2(Bucket=b, Prefix="spool/").get("Contents", []):
    body = s3.get_object(Bucket=b, Key=o["Key"])["Body"].read().decode()
    ids += [r[0] for r in list(csv.reader(io.StringIO(body, newline="")))[1:]]
check(sorted(ids) == ["c%d" % i for i in range(7)], "no row lost, none twice", ids)
done()
PY
done_testing
