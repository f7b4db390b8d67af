#!/bin/sh
# kin-put against moto, which checks every SigV4 signature: a small run is
# accepted and read back with boto3; a wrong secret is a clear exit 3.
. "$(dirname "$0")/lib.sh"
KP=$COINPIPE_BIN/kin-put
: >"$T/empty"
export AWS_CONFIG_FILE="$T/empty" AWS_SHARED_CREDENTIALS_FILE="$T/empty"

s=kpmoto-$U
create_stream "$COINPIPE_MOTO_URL" "$s" 2 || bail "create stream $s on moto"
seq 1 1200 | sed 's/.*/{"n":&,"sym":"c&"}/' >"$T/in.ndjson"
# --inflight 1: moto 5.2.1 gives two records of concurrent PutRecords calls
# the same sequence number on a shard, and then keeps only one of them.
"$KP" --endpoint-url "$COINPIPE_MOTO_URL" -s "$s" --key sym -T --inflight 1 \
    "$T/in.ndjson" >"$T/tee" 2>"$T/err"
rc=$?
is "$rc" 0 "moto: 1200 records accepted (signatures verified)"
is "$(grep -c '"seq"' "$T/tee")" 1200 "moto: 1200 delivery reports"
pycheck "$T" "$s" <<'PY'
import sys, json, collections
from e2elib import *
T, s = sys.argv[1:3]
kin = client("kinesis")
got = collections.Counter(r["Data"].decode() for r in read_all(kin, s))
want = collections.Counter(l.rstrip("\n") for l in open(T + "/in.ndjson"))
check(got == want, "moto: boto3 reads back exactly the input", len(got))
PY

# By ARN too.
arn=$(aws_moto kinesis describe-stream-summary --stream-name "$s" \
    --query StreamDescriptionSummary.StreamARN --output text)
echo '{"by":"arn"}' | "$KP" --endpoint-url "$COINPIPE_MOTO_URL" \
    --stream-arn "$arn" -T >"$T/arn.out" 2>"$T/arn.err"
is "$?" 0 "--stream-arn: accepted"
is "$(grep -c '"seq"' "$T/arn.out")" 1 "--stream-arn: delivered"

# A wrong secret: refused before any record is sent, exit 3, a clear line.
err=$(echo '{"n":1}' | AWS_SECRET_ACCESS_KEY=wrong-secret-$U "$KP" \
    --endpoint-url "$COINPIPE_MOTO_URL" -s "$s" 2>&1 >/dev/null)
rc=$?
is "$rc" 3 "wrong secret: exit 3"
like "$err" "^kin-put: stream $s: .*HTTP 403 .*Signature" "wrong secret: names the signature error"
case $err in
*wrong-secret*) ok 1 "the secret is never printed" ;;
*) ok 0 "the secret is never printed" ;;
esac
# An explicit --profile beats keys in the environment, as in the AWS CLI:
# CI-style keys moto does not know, and a profile holding the good ones.
printf '[good]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
    "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" >"$T/creds"
chmod 600 "$T/creds"
# bad_env CMD...: CMD with the profile file and the unknown keys
bad_env() {
	AWS_SHARED_CREDENTIALS_FILE="$T/creds" AWS_ACCESS_KEY_ID=AKIAUNKNOWN$U \
	    AWS_SECRET_ACCESS_KEY=bad-$U "$@"
}
echo '{"by":"profile"}' | bad_env "$KP" --endpoint-url "$COINPIPE_MOTO_URL" \
    -s "$s" --profile good -T >"$T/prof.out" 2>"$T/prof.err"
is "$?" 0 "--profile good with unknown keys in the environment: accepted"
is "$(grep -c '"seq"' "$T/prof.out")" 1 "--profile good: delivered"
bad_env aws --endpoint-url "$COINPIPE_MOTO_URL" --profile good \
    kinesis describe-stream-summary --stream-name "$s" >/dev/null 2>&1
is "$?" 0 "aws --profile good agrees: the profile, not the environment"
echo '{"by":"env"}' | AWS_PROFILE=good bad_env "$KP" --endpoint-url \
    "$COINPIPE_MOTO_URL" -s "$s" >/dev/null 2>"$T/envprof.err"
is "$?" 3 "AWS_PROFILE alone: the environment's keys still come first"
AWS_PROFILE=good bad_env aws --endpoint-url "$COINPIPE_MOTO_URL" \
    kinesis describe-stream-summary --stream-name "$s" >/dev/null 2>&1
ok "$([ $? -ne 0 ]; echo $?)" "aws with AWS_PROFILE alone: the same order"
pycheck "$T" "$s" <<'PY'
import sys, json, collections
from e2elib import *
T, s = sys.argv[1:3]
got = [r["Data"] for r in read_all(client("kinesis"), s)]
check(got.count(b'{"by":"profile"}') == 1 and b'{"by":"env"}' not in got,
      "boto3: the --profile record is stored once, the refused one not", got[-2:])
PY
aws_moto kinesis delete-stream --stream-name "$s" >/dev/null 2>&1
done_testing
