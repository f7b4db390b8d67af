#!/bin/sh
# Against moto, which checks SigV4 signatures: kin-get reads with the
# right secret, and exits 3 with a wrong one.
. "$(dirname "$0")/lib.sh"

: >"$T/empty"
export AWS_CONFIG_FILE="$T/empty" AWS_SHARED_CREDENTIALS_FILE="$T/empty"
KG=$COINPIPE_BIN/kin-get

s=kg-sig-$U
create_stream "$COINPIPE_MOTO_URL" "$s" 2 || bail "create stream $s on moto"
pycheck "$s" <<'PY'
import sys
from e2elib import *
kin = client("kinesis")
kin.put_records(StreamName=sys.argv[1], Records=[
    {"Data": b'{"i":%d,"p":1.50}' % i, "PartitionKey": "k%d" % i} for i in range(50)])
check(True, "50 records written to moto")
PY
"$KG" --endpoint-url "$COINPIPE_MOTO_URL" -s "$s" >"$T/out" 2>"$T/err"
is $? 0 "right secret: exit 0"
is "$(sort "$T/out" | md5sum)" "$(i=0; while [ $i -lt 50 ]; do echo "{\"i\":$i,\"p\":1.50}"; i=$((i + 1)); done | sort | md5sum)" "right secret: every record"
AWS_SECRET_ACCESS_KEY=wrong-secret "$KG" --endpoint-url "$COINPIPE_MOTO_URL" \
    -s "$s" >"$T/out" 2>"$T/err"
is $? 3 "wrong secret: exit 3"
like "$(cat "$T/err")" '^kin-get: stream kg-sig-.*SignatureDoesNotMatch' "wrong secret: says so"
grep -q wrong-secret "$T/err"
is $? 1 "the secret is not printed"
aws_moto kinesis delete-stream --stream-name "$s" >/dev/null 2>&1
done_testing
