#!/bin/sh
# kin-get's positions, end to end against kinesis-mock: three batches two
# seconds apart, then --from TIME (AT_TIMESTAMP), --from -DURATION (the same
# moment, relative), --until TIME (stop at the first record after it), both
# together, and --from latest with --follow (only what is written after it
# started). The batches are written by boto3; what each run prints must be
# exactly the batches its position names.
. "$(dirname "$0")/lib.sh"

: >"$T/empty"
export AWS_CONFIG_FILE="$T/empty" AWS_SHARED_CREDENTIALS_FILE="$T/empty"
kg() { "$COINPIPE_BIN/kin-get" --endpoint-url "$COINPIPE_KINESIS_URL" "$@"; }

s=kg-pos-$U
create_stream "$COINPIPE_KINESIS_URL" "$s" 2 || bail "create stream $s"

# put BATCH: five records {"b":BATCH,"i":N} over both shards
put() {
	pycheck "$COINPIPE_KINESIS_URL" "$s" "$1" <<'PY'
import sys
from e2elib import *
url, s, b = sys.argv[1:4]
r = client("kinesis", url).put_records(StreamName=s, Records=[
    {"Data": b'{"b":"%s","i":%d}' % (b.encode(), i), "PartitionKey": "k%d" % i}
    for i in range(5)])
check(r["FailedRecordCount"] == 0, "batch %s written" % b)
PY
}
# batches RUN: which batches a run printed, sorted, e.g. "A B"
batches() {
	sed 's/^{"b":"\(.\)".*/\1/' "$1" | sort | uniq -c |
	    awk '{ printf "%s%s", sep, $2 ($1 == 5 ? "" : "x" $1); sep = " " }'
}
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

put A
sleep 2
t1=$(date +%s)		# at least a second after A, two before B
sleep 2
put B
sleep 2
t2=$(date +%s)
sleep 2
put C

kg -s "$s" -f "$(iso "$t1")" >"$T/from" 2>"$T/err"
is "$?" 0 "--from TIME: exit 0"
is "$(batches "$T/from")" "B C" "--from TIME: the batches after it, each whole"
n=$(($(date +%s) - t1))
kg -s "$s" -f "-${n}s" >"$T/dur" 2>"$T/err"
is "$(batches "$T/dur")" "B C" "--from -${n}s: the same moment, relative to now"
kg -s "$s" -u "$(iso "$t2")" >"$T/until" 2>"$T/err"
is "$?" 0 "--until TIME: exit 0"
is "$(batches "$T/until")" "A B" "--until TIME: what arrived before it"
kg -s "$s" -f "$(iso "$t1")" -u "$(iso "$t2")" >"$T/both" 2>"$T/err"
is "$(batches "$T/both")" "B" "--from and --until: the batch between"

# --from latest: nothing written before it started
: >"$T/latest.err"
"$COINPIPE_BIN/kin-get" --endpoint-url "$COINPIPE_KINESIS_URL" -s "$s" \
    -f latest -F -n 5 -vv >"$T/latest" 2>"$T/latest.err" &
kg_pid=$!
i=0
while [ "$(grep -c ': LATEST' "$T/latest.err")" -lt 2 ] && [ $i -lt 300 ]; do
	sleep 0.1; i=$((i + 1))
done
is "$(grep -c ': LATEST' "$T/latest.err")" 2 "--from latest: both shards at LATEST"
put D
i=0
while kill -0 "$kg_pid" 2>/dev/null && [ $i -lt 300 ]; do
	sleep 0.1; i=$((i + 1))
done
kill "$kg_pid" 2>/dev/null
wait "$kg_pid"
is "$?" 0 "--from latest -F -n 5: exits after five records"
is "$(batches "$T/latest")" "D" "--from latest: only what was written after it"
aws_kin kinesis delete-stream --stream-name "$s" --enforce-consumer-deletion >/dev/null 2>&1
done_testing
