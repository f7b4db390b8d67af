#!/bin/sh
# s3-putcsv killed (SIGKILL) in the middle of a multipart upload: the rerun
# with the same --spool, or the same --checkpoint and input, aborts the
# upload the kill left open (the AWS CLI's list-multipart-uploads lists
# none afterwards), never another writer's, and every row is in S3 once.
# A second s3-putcsv on a checkpoint in use is refused.
. "$(dirname "$0")/lib.sh"

: >"$T/empty"
export AWS_CONFIG_FILE="$T/empty" AWS_SHARED_CREDENTIALS_FILE="$T/empty"
S3P=$COINPIPE_BIN/s3-putcsv
P() { "$S3P" --endpoint-url "$COINPIPE_MOTO_URL" "$@"; }

b=s3p-orph-$U
create_bucket "$b" || bail "create bucket $b"

# 60,000 rows, about 7 MiB of CSV: more than one 5 MiB part
"${PYTHON:-python3}" - "$T/in.ndjson" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(60000):
        f.write('{"_shard":"shardId-000000000000","_seq":"%d","id":"c%06d",'
                '"note":"%s"}\n' % (10**20 + i, i, "x" * 100))
PY

# open_uploads PREFIX: the uploads the AWS CLI lists under PREFIX
open_uploads() {
	aws_moto s3api list-multipart-uploads --bucket "$b" --prefix "$1" \
	    --query 'length(Uploads || `[]`)' --output text
}

# killed_mid_upload PREFIX ARGS...: s3-putcsv reads the input from a FIFO
# kept open, and is killed once its multipart upload holds a part.
killed_mid_upload() {
	_pre=$1; shift
	rm -f "$T/fifo"; mkfifo "$T/fifo"
	# not through P: $! must be s3-putcsv itself, for the kill
	"$S3P" --endpoint-url "$COINPIPE_MOTO_URL" "s3://$b/$_pre" \
	    --part-size 5MiB "$@" <"$T/fifo" 2>"$T/err.kill" &
	_pid=$!
	exec 3>"$T/fifo"
	cat "$T/in.ndjson" >&3
	# boto3 waits (up to 60 s) for the upload and its first part
	pycheck "$b" "$_pre" <<'PY'
import sys, time
from e2elib import *
b, pre = sys.argv[1:3]
s3 = client("s3")
parts, ups = 0, []
for _ in range(600):
    ups = s3.list_multipart_uploads(Bucket=b, Prefix=pre).get("Uploads", [])
    if len(ups) == 1:
        parts = len(s3.list_parts(Bucket=b, Key=ups[0]["Key"],
                                  UploadId=ups[0]["UploadId"]).get("Parts", []))
        if parts >= 1:
            break
    time.sleep(0.1)
check(len(ups) == 1 and parts >= 1,
      "%s: one multipart upload open, with a part sent" % pre, (ups, parts))
done()
PY
	kill -KILL $_pid
	wait $_pid 2>/dev/null
	exec 3>&-
	is "$(open_uploads "$_pre")" 1 "$_pre: killed, the upload is still open"
}

# every_row PREFIX: each input row is in one object under PREFIX, once
every_row() {
	pycheck "$b" "$1" "$T/in.ndjson" <<'PY'
import sys, csv, io, json
from e2elib import *
b, pre, inp = sys.argv[1:4]
s3 = client("s3")
ids = []
for o in s3.list_objects_v2(Bucket=b, Prefix=pre).get("Contents", []):
    body = s3.get_object(Bucket=b, Key=o["Key"])["Body"].read().decode()
    ids += [r[0] for r in list(csv.reader(io.StringIO(body, newline="")))[1:]]
want = [json.loads(l)["id"] for l in open(inp)]
check(sorted(ids) == want, "%s: every row in S3, once" % pre,
      (len(ids), len(set(ids)), len(want)))
done()
PY
}

# 1. --spool
killed_mid_upload spool/ --spool "$T/spool"
# Another writer's upload under the same prefix: never touched.
other=$(aws_moto s3api create-multipart-upload --bucket "$b" \
    --key spool/other.csv --query UploadId --output text)
ok "$([ -s "$T/spool/open-uploads" ]; echo $?)" "spool: the log of open uploads is there"
P "s3://$b/spool/" --spool "$T/spool" </dev/null 2>"$T/err.sp"
is "$?" 0 "spool: the rerun exits 0"
like "$(cat "$T/err.sp")" "aborted multipart upload .* of s3://$b/spool/.*, left open by an earlier run" \
    "spool: the rerun says what it aborted"
is "$(aws_moto s3api list-multipart-uploads --bucket "$b" --prefix spool/ \
    --query 'Uploads[].UploadId' --output text)" "$other" \
    "spool: no upload of ours left open; the other writer's kept"
is "$(ls "$T/spool" | wc -l | tr -d ' ')" 0 "spool: emptied, the log removed"
every_row spool/
aws_moto s3api abort-multipart-upload --bucket "$b" --key spool/other.csv \
    --upload-id "$other" >/dev/null

# 2. --checkpoint: the same input again stands for kin-get --resume
killed_mid_upload cp/ -C "$T/cp.json"
ok "$([ -s "$T/cp.json.uploads" ]; echo $?)" "checkpoint: the log sits beside it"
mkfifo "$T/fifo2"
"$S3P" --endpoint-url "$COINPIPE_MOTO_URL" "s3://$b/cp/" -C "$T/cp.json" \
    <"$T/fifo2" 2>"$T/err.first" &
first=$!
exec 4>"$T/fifo2"
i=0
# it holds the log once it has aborted what the kill left
while ! grep -q aborted "$T/err.first" && [ $i -lt 300 ]; do
	sleep 0.1; i=$((i + 1))
done
P "s3://$b/cp/" -C "$T/cp.json" </dev/null 2>"$T/err.second"
is "$?" 3 "a second s3-putcsv on the checkpoint in use: exit 3"
like "$(cat "$T/err.second")" "^s3-putcsv: .*cp.json.uploads: in use by another s3-putcsv" \
    "it names the file in use"
cat "$T/in.ndjson" >&4
exec 4>&-
wait $first
is "$?" 0 "checkpoint: the rerun with the same input exits 0"
like "$(cat "$T/err.first")" "aborted multipart upload .* of s3://$b/cp/" \
    "checkpoint: the rerun aborted the kill's upload"
is "$(open_uploads cp/)" 0 "checkpoint: list-multipart-uploads lists none"
ok "$([ ! -e "$T/cp.json.uploads" ]; echo $?)" "checkpoint: the log removed at exit"
every_row cp/
done_testing
