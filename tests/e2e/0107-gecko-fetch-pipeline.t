#!/bin/sh
# gecko-fetch --every 1s --count 5 | kin-put: every poll's records reach
# Kinesis while gecko-fetch is still running (kin-put's --linger sends a
# partial batch while its stdin stays open), and at the end the stream holds
# exactly what gecko-fetch printed, keyed by coin (checked with boto3).
. "$(dirname "$0")/lib.sh"
unset COINGECKO_DEMO_API_KEY COINGECKO_PRO_API_KEY
: >"$T/empty"
export AWS_CONFIG_FILE="$T/empty" AWS_SHARED_CREDENTIALS_FILE="$T/empty"
gecko_config '{"reset":true}' || bail "replay server reset"

s=gfpipe-$U
create_stream "$COINPIPE_KINESIS_URL" "$s" 2 || bail "create stream $s"
coins="bitcoin ethereum tether shiba-inu"

# count_records: records in the stream now, by boto3.
count_records() {
	"${PYTHON:-python3}" - "$s" "$COINPIPE_KINESIS_URL" <<'PY'
import sys
sys.path.insert(0, __import__("os").environ["COINPIPE_TOP"] + "/tests/e2e")
from e2elib import client, read_all
print(len(read_all(client("kinesis", sys.argv[2]), sys.argv[1])))
PY
}

( "$COINPIPE_BIN/gecko-fetch" -b "$COINPIPE_GECKO_URL/api/v3" --every 1s \
    --count 5 $coins 2>"$T/gf.err"; echo $? >"$T/gf.rc" ) |
    tee "$T/polls.ndjson" |
    "$COINPIPE_BIN/kin-put" --endpoint-url "$COINPIPE_KINESIS_URL" -s "$s" \
    --key crypto -T >"$T/tee.ndjson" 2>"$T/kp.err" &
pipe=$!

# The first poll's records are in Kinesis before gecko-fetch has finished
# (it still has four polls to go): kin-put did not wait for end of input.
i=0 early=
while [ $i -lt 100 ] && [ ! -s "$T/gf.rc" ]; do
	n=$(count_records 2>/dev/null)
	if [ "${n:-0}" -ge 4 ]; then
		[ ! -s "$T/gf.rc" ] && early=yes
		break
	fi
	sleep 0.2; i=$((i + 1))
done
is "$early" yes "a poll's records reach Kinesis while gecko-fetch still runs"

i=0
while kill -0 "$pipe" 2>/dev/null && [ $i -lt 300 ]; do
	sleep 0.1; i=$((i + 1))
done
kill -0 "$pipe" 2>/dev/null && kill -TERM "$pipe"
wait "$pipe"; rc=$?
is "$rc" 0 "kin-put: exit 0"
is "$(cat "$T/gf.rc" 2>/dev/null)" 0 "gecko-fetch: exit 0"
is "$(wc -l <"$T/polls.ndjson" | tr -d ' ')" 20 "5 polls of 4 coins printed"
pycheck "$T" "$s" "$COINPIPE_KINESIS_URL" <<'PY'
import sys, json, collections
from e2elib import *
T, s, url = sys.argv[1:4]
recs = read_all(client("kinesis", url), s)
lines = [l.rstrip("\n") for l in open(T + "/polls.ndjson")]
check(collections.Counter(r["Data"].decode() for r in recs) ==
      collections.Counter(lines), "the stream holds exactly the printed records",
      "%d records" % len(recs))
check(all(json.loads(r["Data"])["crypto"] == r["PartitionKey"] for r in recs),
      "each record is keyed by its coin")
polls = sorted(set(json.loads(l)["ts"] for l in lines))
check(len(polls) == 5, "5 distinct poll times")
tee = [json.loads(l) for l in open(T + "/tee.ndjson")]
check([t["line"] for t in tee] == list(range(1, 21)) and
      all(t.get("seq") for t in tee), "a delivery report per record")
done()
PY
aws_kin kinesis delete-stream --stream-name "$s" >/dev/null 2>&1
done_testing
