#!/bin/sh
# s3-putcsv: a 12 MiB+ object goes up as a streamed multipart upload (3+
# parts, ETag "-N"); through the fault proxy (500, SlowDown, a reset
# during a part) it still completes with the right content and no
# multipart upload is left behind; a failure that outlasts the retries
# aborts the upload (exit 4); --gzip reads back with Python's gzip.
. "$(dirname "$0")/lib.sh"

: >"$T/empty"
export AWS_CONFIG_FILE="$T/empty" AWS_SHARED_CREDENTIALS_FILE="$T/empty"
S3P=$COINPIPE_BIN/s3-putcsv

b=s3p-mp-$U
create_bucket "$b" || bail "create bucket $b"

# 14 MiB of NDJSON, about 12.5 MiB of CSV
"${PYTHON:-python3}" - "$T/big.ndjson" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(150000):
        f.write('{"id":"coin-%06d","usd":%d.%05d,"e":2.492e-05,"note":"%s"}\n'
                % (i, i, i % 99991, "x" * 50))
PY

"$S3P" --endpoint-url "$COINPIPE_MOTO_URL" "s3://$b/plain/" --part-size 5MiB \
    -T <"$T/big.ndjson" >"$T/tee" 2>"$T/err"
is "$?" 0 "plain multipart upload exits 0"

cat >"$T/plan.json" <<'PLAN'
{"rules": [
 {"path": "partNumber=1&", "fault": "http500", "times": 1},
 {"path": "partNumber=2&", "fault": "slowdown", "times": 1},
 {"path": "partNumber=3&", "fault": "reset_before", "times": 1},
 {"path": "uploads$", "method": "POST", "fault": "http503", "times": 1}
]}
PLAN
proxy_start "$COINPIPE_MOTO_URL" --plan "$T/plan.json" || bail "proxy"
"$S3P" --endpoint-url "$PROXY_URL" "s3://$b/faults/" --part-size 5MiB \
    -T <"$T/big.ndjson" >"$T/tee2" 2>"$T/err2"
is "$?" 0 "multipart through faults exits 0"
is "$(proxy_count "e.get('fault') is not None")" 4 "every fault fired once"

# every attempt of part 2 fails: the upload is aborted, exit 4
cat >"$T/plan2.json" <<'PLAN'
{"rules": [{"path": "partNumber=2&", "fault": "http500"}]}
PLAN
curl -s -X POST --data-binary @"$T/plan2.json" "$PROXY_URL/__faultproxy/plan" >/dev/null
"$S3P" --endpoint-url "$PROXY_URL" "s3://$b/fail/" --part-size 5MiB \
    <"$T/big.ndjson" 2>"$T/err3"
is "$?" 4 "retries exhausted: exit 4"
like "$(cat "$T/err3")" "UploadPart 2 s3://$b/fail/.*HTTP 500" "failure names the part"
proxy_stop

"$S3P" --endpoint-url "$COINPIPE_MOTO_URL" "s3://$b/gz/" -z --part-size 5MiB \
    <"$T/big.ndjson" 2>"$T/err4"
is "$?" 0 "--gzip exits 0"

pycheck "$b" "$T/big.ndjson" "$T/tee" "$T/tee2" <<'PY'
import sys, csv, io, json, gzip
from e2elib import *
b, src, tee, tee2 = sys.argv[1:5]
s3 = client("s3")
want = [["id", "usd", "e", "note"]]
for line in open(src):
    r = json.loads(line, parse_float=str)
    want.append([r["id"], line.split('"usd":')[1].split(",")[0], "2.492e-05", r["note"]])
def rows_of(prefix, unzip=False):
    c = s3.list_objects_v2(Bucket=b, Prefix=prefix).get("Contents", [])
    if len(c) != 1:
        return None, c
    o = s3.get_object(Bucket=b, Key=c[0]["Key"])
    body = o["Body"].read()
    if unzip:
        body = gzip.decompress(body)
    return list(csv.reader(io.StringIO(body.decode(), newline=""))), o
for p, t in (("plain/", tee), ("faults/", tee2)):
    rows, o = rows_of(p)
    check(rows == want, p + " content read back exactly", "rows: %s" % (len(rows) if rows else o))
    et = o["ETag"].strip('"') if rows else ""
    n = int(et.split("-")[1]) if "-" in et else 0
    check(n >= 3, p + " went up as 3+ parts", et)
    tl = [json.loads(l) for l in open(t)]
    check(len(tl) == 1 and tl[0]["etag"] == et and tl[0]["rows"] == 150000,
          p + " tee line", tl)
rows, o = rows_of("gz/", True)
check(rows == want, "gzip content read back", "rows: %s" % (len(rows) if rows else o))
check(o["ContentEncoding"] == "gzip" if rows else False, "Content-Encoding gzip")
c = s3.list_objects_v2(Bucket=b, Prefix="gz/").get("Contents", [])
check(c and c[0]["Key"].endswith(".csv.gz"), "gzip key ends .csv.gz", c)
c = s3.list_objects_v2(Bucket=b, Prefix="fail/").get("Contents", [])
check(c == [], "failed upload left no object")
u = s3.list_multipart_uploads(Bucket=b).get("Uploads", [])
check(u == [], "no multipart upload left behind", u)
done()
PY
done_testing
