#!/bin/sh
# kinesis-mock and moto's Kinesis: create a stream with the AWS CLI, write
# records, read them back; kinesis-mock listens on 127.0.0.1 only.
. "$(dirname "$0")/lib.sh"

# kinesis-mock binds 0.0.0.0 unless loopback.js moves it: check every socket
# its process group listens on.
kpid=$(cat "$COINPIPE_SERVERS/kinesis.pid")
listen=$(ss -ltnpH 2>/dev/null | grep "pid=$kpid," | awk '{print $4}')
like "$listen" '^127\.0\.0\.1:[0-9]+' "kinesis-mock listens ($(echo $listen))"
is "$(printf '%s\n' "$listen" | grep -vc '^127\.0\.0\.1:')" 0 \
    "kinesis-mock has no listener outside 127.0.0.1"
for f in moto gecko; do
	pid=$(cat "$COINPIPE_SERVERS/$f.pid")
	l=$(ss -ltnpH | grep "pid=$pid," | awk '{print $4}')
	like "$l" '^127\.0\.0\.1:[0-9]+$' "$f listens on 127.0.0.1 only ($l)"
done

roundtrip() {	# URL LABEL
	url=$1 label=$2 s=smoke-$U
	create_stream "$url" "$s" 2
	ok $? "$label: AWS CLI create-stream $s, ACTIVE"
	aws --endpoint-url "$url" kinesis put-record --stream-name "$s" \
	    --partition-key pk --data '{"n":0,"p":2.492e-05}' >/dev/null
	ok $? "$label: AWS CLI put-record"
	pycheck "$url" "$label" "$s" <<'PY'
import sys
from e2elib import *
url, label, s = sys.argv[1:4]
kin = client("kinesis", url)
r = kin.put_records(StreamName=s, Records=[
    {"Data": ('{"n":%d,"p":2.492e-05}' % i).encode(), "PartitionKey": "pk%d" % i}
    for i in (1, 2, 3)])
check(r["FailedRecordCount"] == 0, f"{label}: boto3 put_records, none failed", r)
seq = r["Records"][0].get("SequenceNumber", "")
check(seq.isdigit(), f"{label}: sequence number {seq}")
if label == "kinesis-mock":
    check(len(seq) == 56, f"{label}: 56-digit sequence numbers like AWS")
got = sorted(x["Data"].decode() for x in read_all(kin, s))
want = ['{"n":%d,"p":2.492e-05}' % i for i in range(4)]
check(got == want, f"{label}: boto3 get_records reads back all 4 records", got)
kin.delete_stream(StreamName=s)
check(True, f"{label}: delete_stream")
PY
}

roundtrip "$COINPIPE_KINESIS_URL" kinesis-mock
roundtrip "$COINPIPE_MOTO_URL" moto

# A missing stream is an error, not silence.
out=$(aws --endpoint-url "$COINPIPE_KINESIS_URL" kinesis describe-stream-summary \
    --stream-name "no-such-$U" 2>&1)
like "$out" ResourceNotFoundException "kinesis-mock: missing stream is ResourceNotFoundException"

done_testing
