#!/bin/sh
# The fault proxy injects each fault kind from a seeded plan, forwards the
# rest unchanged (signatures stay valid), and logs what it saw.
. "$(dirname "$0")/lib.sh"

s=fp-$U
create_stream "$COINPIPE_KINESIS_URL" "$s" 1 || bail "create stream $s"

cat >"$T/plan.json" <<'EOF2'
{"seed": 7, "rules": [
 {"target": "ListStreams", "calls": [1], "fault": "http500"},
 {"target": "ListStreams", "calls": [2], "fault": "http503"},
 {"target": "ListStreams", "calls": [3], "fault": "too_many", "retry_after": 7},
 {"target": "ListStreams", "calls": [4], "fault": "reset_before"},
 {"target": "ListStreams", "calls": [5], "fault": "delay", "seconds": 0.2},
 {"target": "PutRecord", "calls": [1], "fault": "throttle"},
 {"target": "PutRecord", "calls": [2], "fault": "reset_after"},
 {"target": "PutRecords", "calls": [1], "fault": "partial", "entries": [1, 3]},
 {"target": "GetRecords", "calls": [1], "fault": "expired_iterator"},
 {"target": "DescribeStreamSummary", "fault": "status", "status": 418,
  "body": "{\"__type\":\"Teapot\"}", "times": 1}
]}
EOF2
proxy_start "$COINPIPE_KINESIS_URL" --plan "$T/plan.json" || bail "proxy starts"
# Up, on its port, with this plan loaded and nothing counted yet (the
# stats path is the proxy's own: it is neither forwarded nor counted).
st=$(curl -s -f "$PROXY_URL/__faultproxy/stats")
is "$st" '{"requests": 0, "faults": {}, "records": 0, "failed_records": 0, "rules_fired": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0], "rules_matched": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]}' \
    "fault proxy at $PROXY_URL (pid $PROXY_PID) answers, the 10-rule plan loaded"

pycheck "$PROXY_URL" "$s" <<'PY'
import sys, json, urllib.request
from botocore.exceptions import EndpointConnectionError, ConnectionClosedError
from e2elib import *
url, s = sys.argv[1:3]
kin = client("kinesis", url)
seen = {}
def capture(http_response=None, **kw):
    if http_response is not None:
        seen["headers"] = dict(http_response.headers)
kin.meta.events.register("before-parse.kinesis", lambda **kw: None)
kin.meta.events.register("after-call.kinesis", lambda **kw: None)
def call(fn, **kw):
    try:
        return fn(**kw), None
    except ClientError as e:
        return e.response, e
    except Exception as e:        # connection reset and friends
        return None, e
r, e = call(kin.list_streams)
check(e is not None and r["ResponseMetadata"]["HTTPStatusCode"] == 500,
      "ListStreams #1: injected 500", (r, e))
r, e = call(kin.list_streams)
check(e is not None and r["ResponseMetadata"]["HTTPStatusCode"] == 503,
      "ListStreams #2: injected 503", (r, e))
r, e = call(kin.list_streams)
check(e is not None and r["ResponseMetadata"]["HTTPStatusCode"] == 429 and
      r["ResponseMetadata"]["HTTPHeaders"].get("retry-after") == "7",
      "ListStreams #3: 429 with Retry-After: 7", r)
r, e = call(kin.list_streams)
check(r is None and e is not None, f"ListStreams #4: connection reset ({type(e).__name__})", e)
r, e = call(kin.list_streams)
check(e is None and s in r["StreamNames"], "ListStreams #5: delayed, then the real answer", (r, e))
r, e = call(kin.describe_stream_summary, StreamName=s)
check(e is not None and r["ResponseMetadata"]["HTTPStatusCode"] == 418 and
      r["Error"]["Code"] == "Teapot", "custom status and body", r)

r, e = call(kin.put_record, StreamName=s, Data=b"r0", PartitionKey="k")
check(e is not None and r["Error"]["Code"] == "ProvisionedThroughputExceededException"
      and r["ResponseMetadata"]["HTTPStatusCode"] == 400,
      "PutRecord #1: whole-call throttling", r)
r, e = call(kin.put_record, StreamName=s, Data=b"r1", PartitionKey="k")
check(r is None and e is not None, f"PutRecord #2: reset after upstream committed ({type(e).__name__})", e)
recs = [{"Data": b"b%d" % i, "PartitionKey": "k"} for i in range(5)]
r, e = call(kin.put_records, StreamName=s, Records=recs)
ok_ = e is None and r["FailedRecordCount"] == 2 and \
    [("ErrorCode" in x) for x in r["Records"]] == [False, True, False, True, False] and \
    r["Records"][1]["ErrorCode"] == "ProvisionedThroughputExceededException" and \
    "ErrorMessage" in r["Records"][3] and \
    all(x["SequenceNumber"].isdigit() for i, x in enumerate(r["Records"]) if i in (0, 2, 4))
check(ok_, "PutRecords: entries 1 and 3 failed, 0/2/4 got real sequence numbers", r)
seqs = [x.get("SequenceNumber") for x in r["Records"]] if r else []
check(seqs[0] < seqs[2] < seqs[4], "PutRecords: real results merged back in order", seqs)

it = kin.get_shard_iterator(StreamName=s, ShardId="shardId-000000000000",
                            ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
r, e = call(kin.get_records, ShardIterator=it)
check(e is not None and r["Error"]["Code"] == "ExpiredIteratorException",
      "GetRecords #1: ExpiredIteratorException", r)
r, e = call(kin.get_records, ShardIterator=it)
data = [x["Data"] for x in r["Records"]] if e is None else e
check(data == [b"r1", b"b0", b"b2", b"b4"], "upstream holds the committed-then-reset record and the 3 forwarded entries, nothing else", data)
with urllib.request.urlopen(url + "/__faultproxy/stats") as f:
    st = json.load(f)
check(st["faults"].get("partial") == 1 and st["failed_records"] == 2,
      "stats endpoint counts faults and failed records", st)
done()
PY

# The log: one line per request, with the fault applied and record counts.
is "$(proxy_count "e['target'] and e['target'].endswith('.ListStreams')")" 5 "log: 5 ListStreams requests"
for f in http500 http503 too_many reset_before delay throttle reset_after partial expired_iterator status; do
	is "$(proxy_count "e['fault'] == '$f'")" 1 "log: fault $f applied once"
done
is "$(proxy_count "e['fault'] == 'partial' and e['records'] == 5 and e['forwarded_records'] == 3 and e['failed_records'] == 2 and e['status'] == 200")" 1 \
    "log: PutRecords 5 records, 3 forwarded, 2 failed"
is "$(proxy_count "e['fault'] == 'reset_after' and e['upstream_status'] == 200")" 1 \
    "log: reset_after saw the upstream's 200"
is "$(proxy_count "e.get('returned_records') == 4")" 1 "log: GetRecords returned 4 records"
is "$(proxy_count "e['fault'] is None")" 2 "log: GetShardIterator and GetRecords #2 forwarded untouched"
proxy_stop
kill -0 "$PROXY_PID" 2>/dev/null
is $? 1 "proxy stopped by PID"

# S3 through the proxy to moto: SlowDown, then the signed request passes.
b=fp-$U
create_bucket "$b" || bail "create bucket"
proxy_start "$COINPIPE_MOTO_URL" --rule '{"method":"PUT","path":"^/'"$b"'/","fault":"slowdown","times":1}' \
    --rule '{"method":"GET","path":"^/'"$b"'/","fault":"reset_after","times":1}' || bail "proxy starts"
pycheck "$PROXY_URL" "$b" <<'PY'
import sys
from e2elib import *
url, b = sys.argv[1:3]
s3 = client("s3", url)
st, code = error_of(s3.put_object, Bucket=b, Key="k (1).csv", Body=b"x")
check((st, code) == (503, "SlowDown"), "S3 PUT #1: 503 SlowDown", (st, code))
st, code = error_of(s3.put_object, Bucket=b, Key="k (1).csv", Body=b"x")
check(st == 200, "S3 PUT #2: forwarded, signature still valid through the proxy", (st, code))
try:
    s3.get_object(Bucket=b, Key="k (1).csv")["Body"].read()
    check(False, "S3 GET #1: reset after upstream answered")
except Exception as e:
    check(True, f"S3 GET #1: reset after upstream answered ({type(e).__name__})")
check(s3.get_object(Bucket=b, Key="k (1).csv")["Body"].read() == b"x", "S3 GET #2 reads the object")
done()
PY
is "$(proxy_count "e['fault'] == 'slowdown' and e['status'] == 503")" 1 "log: one SlowDown"
is "$(proxy_count "e['method'] == 'PUT' and e['status'] == 200")" 1 "log: one PUT forwarded with 200"
proxy_stop

# Partial failures against moto: the smaller PutRecords is signed again.
ms=fp-$U
create_stream "$COINPIPE_MOTO_URL" "$ms" 1 || bail "create moto stream"
proxy_start "$COINPIPE_MOTO_URL" --resign --rule '{"target":"PutRecords","fault":"partial","entries":[0],"error_code":"InternalFailure"}' || bail "proxy starts"
pycheck "$PROXY_URL" "$ms" <<'PY'
import sys, os
from e2elib import *
url, s = sys.argv[1:3]
r = client("kinesis", url).put_records(StreamName=s, Records=[
    {"Data": b"m%d" % i, "PartitionKey": "k"} for i in range(3)])
check(r["FailedRecordCount"] == 1 and r["Records"][0]["ErrorCode"] == "InternalFailure"
      and "SequenceNumber" in r["Records"][1], "moto: partial failure, rest re-signed and accepted", r)
got = [x["Data"] for x in read_all(client("kinesis"), s)]
check(got == [b"m1", b"m2"], "moto holds exactly the two forwarded records", got)
done()
PY
proxy_stop

# Seeded probabilities: the same seed gives the same faults.
seq_of() {
	proxy_start "$COINPIPE_KINESIS_URL" --seed 42 \
	    --rule '{"target":"ListStreams","fault":"http503","probability":0.5}' || return 1
	for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
		curl -s -o /dev/null -w '%{http_code} ' -X POST \
		    -H 'X-Amz-Target: Kinesis_20131202.ListStreams' \
		    -H 'Content-Type: application/x-amz-json-1.1' -d '{}' "$PROXY_URL/"
	done
	proxy_stop
}
a=$(seq_of) b2=$(seq_of)
is "$a" "$b2" "seed 42 gives the same fault sequence twice ($a)"
like "$a" '503' "probability 0.5 injected some 503s"
like "$a" '(200|400)' "probability 0.5 let some requests through"

done_testing
