#!/bin/sh
# s3-putcsv: objects rotate by --max-rows, by --max-bytes, and by --max-age
# while stdin stays open and idle (the objects are listed while the writer
# still runs); SIGTERM uploads the open object and exits 143. No timing is
# asserted: only generous upper bounds on waits.
. "$(dirname "$0")/lib.sh"

: >"$T/empty"
export AWS_CONFIG_FILE="$T/empty" AWS_SHARED_CREDENTIALS_FILE="$T/empty"
P() { "$COINPIPE_BIN/s3-putcsv" --endpoint-url "$COINPIPE_MOTO_URL" "$@"; }
# background runs call the binary itself, so $! is its PID (not a subshell's)
S3P=$COINPIPE_BIN/s3-putcsv

b=s3p-rot-$U
create_bucket "$b" || bail "create bucket $b"

i=1; : >"$T/10.ndjson"
while [ $i -le 10 ]; do
	printf '{"i":%d,"pad":"%s"}\n' $i xxxxxxxxxxxxxxxxxxxx >>"$T/10.ndjson"
	i=$((i + 1))
done

P "s3://$b/rows/" --max-rows 3 -T <"$T/10.ndjson" >"$T/tee.rows"
is "$?" 0 "--max-rows run exits 0"
# header "i,pad\r\n" is 7 bytes, each row 26: two rows fit in 60
P "s3://$b/bytes/" --max-bytes 60 -T <"$T/10.ndjson" >"$T/tee.bytes"
is "$?" 0 "--max-bytes run exits 0"

# age: two rows, then stdin stays open and idle
count() {
	"${PYTHON:-python3}" - "$b" "$1" <<'PY'
import sys
from e2elib import client
c = client("s3").list_objects_v2(Bucket=sys.argv[1], Prefix=sys.argv[2])
print(len(c.get("Contents", [])))
PY
}
mkfifo "$T/fifo"
"$S3P" --endpoint-url "$COINPIPE_MOTO_URL" "s3://$b/age/" --max-age 1s <"$T/fifo" 2>"$T/err.age" &
pid=$!
exec 3>"$T/fifo"
head -2 "$T/10.ndjson" >&3
n=0; i=0
while [ $i -lt 60 ]; do
	n=$(PYTHONPATH="$COINPIPE_TOP/tests/e2e" count age/)
	[ "$n" -ge 1 ] && break
	sleep 0.5; i=$((i + 1))
done
is "$n" 1 "--max-age: object uploaded while stdin is open and idle"
kill -0 $pid 2>/dev/null
ok $? "the writer is still running"
sed -n 3p "$T/10.ndjson" >&3
exec 3>&-
wait $pid
is "$?" 0 "age run exits 0 at end of input"

# SIGTERM: the open object goes up, exit 143. Five rows in one write: once
# the first two objects (rows 1-4) are up, row 5 was read with them.
rm -f "$T/fifo"; mkfifo "$T/fifo"
"$S3P" --endpoint-url "$COINPIPE_MOTO_URL" "s3://$b/term/" -T --max-rows 2 \
    <"$T/fifo" >"$T/tee.term" 2>"$T/err.term" &
pid=$!
exec 3>"$T/fifo"
head -5 "$T/10.ndjson" >&3
i=0
while [ "$(wc -l <"$T/tee.term")" -lt 2 ] && [ $i -lt 300 ]; do
	sleep 0.1; i=$((i + 1))
done
kill -TERM $pid
wait $pid
is "$?" 143 "SIGTERM: exit 143"
exec 3>&-

pycheck "$b" "$T" <<'PY'
import sys, csv, io, json
from e2elib import *
b, t = sys.argv[1:3]
s3 = client("s3")
def objects(prefix):
    out = []
    for o in s3.list_objects_v2(Bucket=b, Prefix=prefix).get("Contents", []):
        body = s3.get_object(Bucket=b, Key=o["Key"])["Body"].read()
        out.append(list(csv.reader(io.StringIO(body.decode(), newline=""))))
    return out
def ids(objs):
    return sorted(int(r[0]) for o in objs for r in o[1:])
rows = objects("rows/")
check(sorted(len(o) - 1 for o in rows) == [1, 3, 3, 3], "--max-rows 3: 3+3+3+1",
      [len(o) for o in rows])
check(all(o[0] == ["i", "pad"] for o in rows), "every object has the header")
check(ids(rows) == list(range(1, 11)), "every row once (rows)")
tee = [json.loads(l) for l in open(t + "/tee.rows")]
check([x["rows"] for x in tee] == [3, 3, 3, 1], "tee rows in upload order", tee)
by = objects("bytes/")
check(len(by) == 5 and all(len(o) - 1 == 2 for o in by), "--max-bytes 60: 5 objects of 2 rows",
      [len(o) for o in by])
tee = [json.loads(l) for l in open(t + "/tee.bytes")]
check(all(x["bytes"] <= 60 for x in tee), "no object over --max-bytes", tee)
check(ids(by) == list(range(1, 11)), "every row once (bytes)")
age = objects("age/")
check(sorted(len(o) - 1 for o in age) == [1, 2], "age: 2 rows, then 1 at the end",
      [len(o) for o in age])
term = objects("term/")
check(ids(term) == [1, 2, 3, 4, 5], "SIGTERM uploaded the open object", term)
tee = [json.loads(l) for l in open(t + "/tee.term")]
check([x["rows"] for x in tee] == [2, 2, 1], "tee after SIGTERM", tee)
done()
PY
done_testing
