#!/bin/sh
# s3-putcsv's object options as S3 keeps them (the AWS CLI's head-object):
# --sse AES256, --sse aws:kms with --sse-kms-key-id, --storage-class, for a
# single PutObject and for a multipart upload; and a failed upload leaves
# the checkpoint where it was (the rows are read again, none skipped).
. "$(dirname "$0")/lib.sh"

: >"$T/empty"
export AWS_CONFIG_FILE="$T/empty" AWS_SHARED_CREDENTIALS_FILE="$T/empty"
S3P=$COINPIPE_BIN/s3-putcsv
P() { "$S3P" --endpoint-url "$COINPIPE_MOTO_URL" "$@"; }

b=s3p-opts-$U
create_bucket "$b" || bail "create bucket $b"
kms=$(aws_moto kms create-key --query KeyMetadata.KeyId --output text) ||
    bail "create a KMS key"

seq 1 3 | sed 's/.*/{"_shard":"shardId-000000000000","_seq":"&","n":&}/' >"$T/small"
"${PYTHON:-python3}" - "$T/big" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(60000):
        f.write('{"n":%d,"note":"%s"}\n' % (i, "x" * 100))
PY

# head KEY QUERY: one field of head-object, as text
head() {
	aws_moto s3api head-object --bucket "$b" --key "$1" --query "$2" --output text
}
# the one key under a prefix
key_of() {
	aws_moto s3api list-objects-v2 --bucket "$b" --prefix "$1" \
	    --query 'Contents[0].Key' --output text
}

P "s3://$b/aes/" --sse AES256 <"$T/small" 2>"$T/err"
is "$?" 0 "--sse AES256: exit 0"
is "$(head "$(key_of aes/)" ServerSideEncryption)" AES256 "--sse AES256: S3 keeps it"

P "s3://$b/kms/" --sse aws:kms --sse-kms-key-id "$kms" <"$T/small" 2>"$T/err"
is "$?" 0 "--sse aws:kms --sse-kms-key-id: exit 0"
is "$(head "$(key_of kms/)" '[ServerSideEncryption,SSEKMSKeyId]')" \
    "aws:kms	$kms" "--sse aws:kms: S3 keeps the algorithm and the key"

P "s3://$b/ia/" --storage-class STANDARD_IA <"$T/small" 2>"$T/err"
is "$?" 0 "--storage-class STANDARD_IA: exit 0"
is "$(head "$(key_of ia/)" StorageClass)" STANDARD_IA "--storage-class: S3 keeps it"

# a multipart upload carries them too (on CreateMultipartUpload)
P "s3://$b/mp/" --part-size 5MiB --sse aws:kms --sse-kms-key-id "$kms" \
    --storage-class STANDARD_IA -T <"$T/big" >"$T/tee" 2>"$T/err"
is "$?" 0 "multipart with --sse and --storage-class: exit 0"
like "$(cat "$T/tee")" '"etag":"[0-9a-f]+-[0-9]+"' "it was a multipart upload (ETag -N)"
is "$(head "$(key_of mp/)" '[ServerSideEncryption,SSEKMSKeyId,StorageClass]')" \
    "aws:kms	$kms	STANDARD_IA" "multipart: S3 keeps all three"

# A failed upload does not move the checkpoint.
printf '{"version":1,"shards":{"shardId-000000000000":{"seq":"1"}}}\n' >"$T/cp.json"
cp "$T/cp.json" "$T/cp.before"
proxy_start "$COINPIPE_MOTO_URL" --rule '{"method": "PUT", "fault": "http500"}' ||
    bail "proxy starts"
AWS_MAX_ATTEMPTS=2 "$S3P" --endpoint-url "$PROXY_URL" "s3://$b/cpfail/" \
    -C "$T/cp.json" <"$T/small" 2>"$T/err"
is "$?" 4 "every PUT fails: exit 4"
proxy_stop
cmp -s "$T/cp.json" "$T/cp.before"
ok $? "the checkpoint did not move"
P "s3://$b/cpfail/" -C "$T/cp.json" <"$T/small" 2>"$T/err"
is "$?" 0 "the rerun exits 0"
pycheck "$b" "$T/cp.json" <<'PY'
import sys, csv, io, json
from e2elib import *
b, cp = sys.argv[1:3]
s3 = client("s3")
rows = []
for o in s3.list_objects_v2(Bucket=b, Prefix="cpfail/").get("Contents", []):
    body = s3.get_object(Bucket=b, Key=o["Key"])["Body"].read().decode()
    rows += [r[0] for r in list(csv.reader(io.StringIO(body, newline="")))[1:]]
check(rows == ["1", "2", "3"], "the rerun uploads the rows the failed run could not", rows)
check(json.load(open(cp))["shards"]["shardId-000000000000"]["seq"] == "3",
      "then the checkpoint moves to the last row")
done()
PY
done_testing
