#!/bin/sh
# Bad input on purpose (issue 9, item 4): invalid UTF-8, NUL bytes, lines
# over 10 MiB, JSON nested 100,000 deep, numbers of 1,000 digits, fed to
# kin-put and s3-putcsv as lines, and to kin-get as Kinesis records. Each bad
# line gets one clear line on stderr, the good ones around it are delivered
# exactly (checked with boto3), and the peak resident set stays bounded.
. "$(dirname "$0")/lib.sh"
. "$COINPIPE_TOP/tests/servers/badserver.sh"
: >"$T/empty"
export AWS_CONFIG_FILE="$T/empty" AWS_SHARED_CREDENTIALS_FILE="$T/empty"
B=$COINPIPE_BIN
KIN=$COINPIPE_KINESIS_URL

# The bad input, one case per line (line numbers matter below).
"${PYTHON:-python3}" - "$T/in.ndjson" <<'PY' || bail "input written"
import sys
with open(sys.argv[1], "wb") as f:
    f.write(b'{"n":1}\n')                                   # 1 good
    f.write(b'{"n":"\xff\xfe not utf-8"}\n')                # 2 bad UTF-8
    f.write(b'{"n":"a\x00b"}\n')                            # 3 NUL
    f.write(b'{"n":' + b'[' * 100000 + b']' * 100000 + b'}\n')  # 4 deep
    f.write(b'{"n":' + b'7' * 1000 + b'}\n')                # 5 1000 digits
    f.write(b'{"n":"' + b'x' * (10 << 20) + b'"}\n')        # 6 over 10 MiB
    f.write(b'{"n":-' + b'9' * 1000 + b'.5e-999999}\n')     # 7 long number
    f.write(b'{"n":8}')                                     # 8 no newline
PY

# --- kin-put -------------------------------------------------------------
s=hard-in-$U
create_stream "$KIN" "$s" 1 || bail "create stream $s"
peak "$B/kin-put" --endpoint-url "$KIN" -s "$s" -T -d "$T/dl.ndjson" \
    <"$T/in.ndjson" >"$T/tee" 2>"$T/err"; rc=$?
is "$rc" 1 "kin-put: bad lines skipped, exit 1"
rss_bounded "kin-put"
like "$(sed -n 1p "$T/err")" '^kin-put: <stdin>:2: invalid JSON: invalid UTF-8 byte 0xFF \(column [0-9]+\)$' \
    "kin-put: invalid UTF-8 named with line and column"
like "$(sed -n 2p "$T/err")" '^kin-put: <stdin>:3: invalid JSON: control character 0x00' \
    "kin-put: NUL byte named"
like "$(sed -n 3p "$T/err")" '^kin-put: <stdin>:4: invalid JSON: nesting deeper than 2048' \
    "kin-put: deep nesting refused, no stack overflow"
like "$(sed -n 4p "$T/err")" '^kin-put: <stdin>:6: line longer than 10485760 bytes$' \
    "kin-put: the 10 MiB line refused in one line"
is "$(grep -c . "$T/err")" 5 "kin-put: one stderr line per bad line, plus the summary"
pycheck "$T" "$s" "$KIN" <<'PY'
import sys, json, base64
from e2elib import *
T, s, url = sys.argv[1:4]
src = open(T + "/in.ndjson", "rb").read().split(b"\n")
dl = [json.loads(l) for l in open(T + "/dl.ndjson")]
check([(d["line"], d["error"]) for d in dl] ==
      [(2, "InvalidJSON"), (3, "InvalidJSON"), (4, "InvalidJSON"),
       (6, "LineTooLong")], "dead letters: lines 2, 3, 4, 6", dl)
check(base64.b64decode(dl[0]["data_b64"]) == src[1],
      "invalid UTF-8 kept byte for byte (data_b64)")
check(dl[1]["data"].encode() == src[2], "the NUL line kept whole")
check(dl[3]["data"] is None, "the 10 MiB line: data null")
kin = client("kinesis", url)
got = [r["Data"] for r in read_all(kin, s)]
want = [src[0], src[4], src[6], src[7]]
check(got == want, "Kinesis holds lines 1, 5, 7, 8 byte for byte",
      [g[:40] for g in got])
tee = [json.loads(l) for l in open(T + "/tee")]
check([t["line"] for t in tee] == list(range(1, 9)), "a report per line")
PY

# --raw: any bytes are data; invalid UTF-8 and NUL go through unchanged.
printf 'a\377\376b\nc\000d\n' >"$T/raw"
"$B/kin-put" --endpoint-url "$KIN" -s "$s" --raw <"$T/raw" 2>"$T/err"
is "$?" 0 "kin-put --raw: bytes that are not text, exit 0"
pycheck "$s" "$KIN" <<'PY'
import sys
from e2elib import *
kin = client("kinesis", sys.argv[2])
got = [r["Data"] for r in read_all(kin, sys.argv[1])][-2:]
check(got == [b"a\xff\xfeb", b"c\x00d"], "--raw: records hold the exact bytes", got)
PY

# --- s3-putcsv --stdout and to S3 -----------------------------------------
peak "$B/s3-putcsv" -o --lf -D "$T/dl2" <"$T/in.ndjson" >"$T/csv" 2>"$T/err"
rc=$?
is "$rc" 1 "s3-putcsv -o: bad lines skipped, exit 1"
rss_bounded "s3-putcsv"
like "$(grep ':6:' "$T/err")" '^s3-putcsv: <stdin>:6: line longer than 10485760 bytes$' \
    "s3-putcsv: the 10 MiB line in one line, its position said once"
is "$(grep -c . "$T/err")" 4 "s3-putcsv: one line per bad line"
pycheck "$T" <<'PY'
import sys
from e2elib import *
T = sys.argv[1]
src = open(T + "/in.ndjson", "rb").read().split(b"\n")
rows = open(T + "/csv", "rb").read().split(b"\n")
want = [b"n", b"1", b"7" * 1000, src[6][5:-1], b"8", b""]
check(rows == want, "CSV rows 1, 5, 7, 8: numbers with every digit",
      [r[:30] for r in rows])
dl = open(T + "/dl2", "rb").read().split(b"\n")
check(dl[:3] == src[1:4], "s3-putcsv: bad lines kept as they came in the "
      "dead-letter file", [d[:20] for d in dl])
PY

b=hard-in-$U
create_bucket "$b" || bail "bucket $b"
"$B/s3-putcsv" --endpoint-url "$COINPIPE_MOTO_URL" "s3://$b/p" -T \
    <"$T/in.ndjson" >"$T/tee" 2>"$T/err"
is "$?" 1 "s3-putcsv to S3: exit 1"
pycheck "$b" "$T" <<'PY'
import sys, json, csv, io
from e2elib import *
b, T = sys.argv[1:3]
s3 = client("s3", os.environ["COINPIPE_MOTO_URL"])
keys = [o["Key"] for o in s3.list_objects_v2(Bucket=b).get("Contents", [])]
check(len(keys) == 1, "one object", keys)
body = s3.get_object(Bucket=b, Key=keys[0])["Body"].read().decode()
rows = list(csv.reader(io.StringIO(body)))
check([r[0][:12] for r in rows] == ["n", "1", "7" * 12, "-" + "9" * 11, "8"],
      "the object holds the 4 good rows", rows)
check(len(rows[2][0]) == 1000, "1000 digits kept")
PY

# --- kin-get: records that are not text ----------------------------------
s2=hard-rec-$U
create_stream "$KIN" "$s2" 1 || bail "create stream $s2"
pycheck "$s2" "$KIN" <<'PY'
import sys
from e2elib import *
s, url = sys.argv[1:3]
kin = client("kinesis", url)
recs = [b'{"n":1}', b'{"n":"\xff"}', b'a\x00b', b'[' * 100000,
        b'{"n":' + b'7' * 1000 + b'}', b'{"n":"' + b'x' * 1000000 + b'"}',
        b'{"n":2}']
for i, d in enumerate(recs):
    kin.put_record(StreamName=s, Data=d, PartitionKey="k%d" % i)
check(True, "7 records put")
PY
peak "$B/kin-get" --endpoint-url "$KIN" -s "$s2" -o data >"$T/data" \
    2>"$T/err"; rc=$?
is "$rc" 1 "kin-get -o data: records that are not a line of text skipped, exit 1"
rss_bounded "kin-get"
is "$(grep -c 'skipped' "$T/err")" 2 "kin-get: invalid UTF-8 and NUL each reported"
like "$(head -n 1 "$T/err")" '^kin-get: shardId-000000000000 seq [0-9]+: skipped: ' \
    "kin-get: the report names shard and sequence number"
is "$(wc -l <"$T/data" | tr -d ' ')" 5 "kin-get -o data: the 5 text records written"
"$B/kin-get" --endpoint-url "$KIN" -s "$s2" -o envelope >"$T/env" 2>"$T/err"
is "$?" 0 "kin-get -o envelope: every record can be written, exit 0"
"$B/kin-get" --endpoint-url "$KIN" -s "$s2" -o meta >"$T/meta" 2>"$T/err"
is "$?" 1 "kin-get -o meta: records that are not objects skipped, exit 1"
pycheck "$T" <<'PY'
import sys, json, base64
from e2elib import *
T = sys.argv[1]
lines = open(T + "/env", "rb").read().split(b"\n")[:-1]
env = [json.loads(l) for l in lines]
check(base64.b64decode(env[1]["data_b64"]) == b'{"n":"\xff"}',
      "envelope: invalid UTF-8 as data_b64, byte for byte")
check(env[2]["data"] == "a\x00b", "envelope: NUL escaped in a JSON string")
check(env[3]["data"] == "[" * 100000, "envelope: the deep text as a string")
check(b'"data":{"n":' + b"7" * 1000 + b"}" in lines[4],
      "envelope: 1000 digits copied as sent")
meta = [json.loads(l) for l in open(T + "/meta")]
check([m.get("n") for m in meta][0] == 1 and len(meta) == 4,
      "meta: the 4 objects, with their members", [str(m)[:40] for m in meta])
PY

done_testing
