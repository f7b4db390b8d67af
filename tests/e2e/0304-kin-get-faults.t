#!/bin/sh
# Through the fault proxy: ExpiredIteratorException renews the iterator
# after the last record printed (no loss, no duplicate); throttling and 500s
# are waited out; a shard that keeps failing ends in exit 4.
. "$(dirname "$0")/lib.sh"

: >"$T/empty"
export AWS_CONFIG_FILE="$T/empty" AWS_SHARED_CREDENTIALS_FILE="$T/empty"
KG=$COINPIPE_BIN/kin-get

s=kg-fault-$U
create_stream "$COINPIPE_KINESIS_URL" "$s" 1 || bail "create stream $s"
pycheck "$COINPIPE_KINESIS_URL" "$s" "$T/sent" <<'PY'
import sys
from e2elib import *
url, s, out = sys.argv[1:4]
kin = client("kinesis", url)
sent = ['{"i":%d}' % i for i in range(300)]
kin.put_records(StreamName=s, Records=[{"Data": d.encode(), "PartitionKey": "k"} for d in sent])
open(out, "w").write("\n".join(sent) + "\n")
check(True, "300 records written")
PY

cat >"$T/plan.json" <<'EOF2'
{"rules": [
 {"target": "GetRecords", "calls": [3, 6, 7], "fault": "expired_iterator"},
 {"target": "GetRecords", "calls": [4], "fault": "throttle"},
 {"target": "GetRecords", "calls": [9], "fault": "too_many", "retry_after": 1},
 {"target": "GetRecords", "calls": [10], "fault": "http500"},
 {"target": "GetRecords", "calls": [11], "fault": "reset_before"}
]}
EOF2
proxy_start "$COINPIPE_KINESIS_URL" --plan "$T/plan.json" || bail "proxy starts"
"$KG" --endpoint-url "$PROXY_URL" -s "$s" --limit 25 -v >"$T/out" 2>"$T/err"
is $? 0 "through faults: exit 0"
cmp -s "$T/sent" "$T/out"
ok $? "every record once, in order"
[ $? -eq 0 ] || diff "$T/sent" "$T/out" | head -5 | sed 's/^/# /'
is "$(proxy_count "e['fault'] == 'expired_iterator'")" 3 "3 expired iterators injected"
is "$(proxy_count "e['target'] and e['target'].endswith('GetShardIterator')")" 4 "each renewed with GetShardIterator"
like "$(cat "$T/err")" '2 throttled, 3 iterators renewed' "-v: summary counts them (throttle and 429)"
pycheck "$PROXY_LOG" <<'PY'
import sys, json
from e2elib import *
log = [json.loads(l) for l in open(sys.argv[1])]
gets = [e for e in log if (e["target"] or "").endswith("GetRecords")]
check(len(gets) >= 17, "all pages read despite the faults (%d calls)" % len(gets))
PY
proxy_stop

# --from latest, and the iterator expires before any record was read from
# the shard (429s with Retry-After stand for a stdout blocked for minutes):
# the records written meanwhile are read, not skipped by a new LATEST.
proxy_start "$COINPIPE_KINESIS_URL" \
    --rule '{"target": "GetRecords", "fault": "too_many", "retry_after": 1}' ||
    bail "proxy starts"
timeout 60 "$KG" --endpoint-url "$PROXY_URL" -s "$s" -f latest -F -n 3 -v \
    >"$T/latest.out" 2>"$T/latest.err" &
kg=$!
i=0
while [ "$(proxy_count "(e['target'] or '').endswith('GetRecords')")" -lt 1 ] &&
    [ $i -lt 300 ]; do
	sleep 0.1; i=$((i + 1))
done
pycheck "$COINPIPE_KINESIS_URL" "$s" <<'PY'
import sys
from e2elib import *
url, s = sys.argv[1:3]
kin = client("kinesis", url)
kin.put_records(StreamName=s, Records=[{"Data": b'{"late":%d}' % i, "PartitionKey": "k"} for i in range(3)])
check(True, "3 records written after LATEST was resolved")
PY
curl -s -f -X POST -H 'Content-Type: application/json' --data \
    '{"rules": [{"target": "GetRecords", "calls": [1], "fault": "expired_iterator"}]}' \
    "$PROXY_URL/__faultproxy/plan" >/dev/null
wait "$kg"
is "$?" 0 "latest, expired before a record was read: exit 0"
is "$(cat "$T/latest.out")" '{"late":0}
{"late":1}
{"late":2}' "the records written meanwhile are read, once, in order"
like "$(cat "$T/latest.err")" '1 iterators? renewed' "-v: the renewal is counted"
proxy_stop

# a fault that never ends: a bounded number of attempts, then exit 4
proxy_start "$COINPIPE_KINESIS_URL" --rule '{"target": "GetRecords", "fault": "http503"}' || bail "proxy starts"
AWS_MAX_ATTEMPTS=2 "$KG" --endpoint-url "$PROXY_URL" -s "$s" >"$T/out" 2>"$T/err"
is $? 4 "503 every time: exit 4"
like "$(cat "$T/err")" '^kin-get: GetRecords shardId-000000000000: HTTP 503 ServiceUnavailable.*\(2 attempts\)' "503 every time: says so"
proxy_stop
# kinesis-mock allows 50 shards in all: leave none behind
aws_kin kinesis delete-stream --stream-name "$s" --enforce-consumer-deletion >/dev/null 2>&1
done_testing
