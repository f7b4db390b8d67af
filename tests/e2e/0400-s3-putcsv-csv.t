#!/bin/sh
# s3-putcsv: CSV content read back with boto3 and Python's csv module:
# keys with spaces, +, =, % and unicode; header, RFC 4180 quoting, number
# text kept; --columns with paths and renames, --null, --lf, --no-header
# (Content-Type header=absent); --stdout; bad lines (exit 1 with positions,
# --dead-letter, --strict exit 5); --dry-run uploads nothing; a wrong
# secret is exit 3.
. "$(dirname "$0")/lib.sh"

# the servers' env names /dev/null, which lib/awsfiles refuses: an empty file
: >"$T/empty"
export AWS_CONFIG_FILE="$T/empty" AWS_SHARED_CREDENTIALS_FILE="$T/empty"
P() { "$COINPIPE_BIN/s3-putcsv" --endpoint-url "$COINPIPE_MOTO_URL" "$@"; }

b=s3p-csv-$U
create_bucket "$b" || bail "create bucket $b"

cat >"$T/in.ndjson" <<'IN'
{"id":"bitcoin","usd":67187,"x":0.00095032,"big":1e400,"ok":true,"m":{"a": [1, 2.50]}}
{"id":"ripple, \"xrp\"","usd":2.492e-05,"ok":false,"x":null,"note":"l1\nl2"}
{"id":"caf\u00e9 \u20ac","usd":-0.0,"m":[]}
IN

# 1. auto columns under a prefix with awkward characters
pre='raw/csv sp+a=b%c/é'
P "s3://$b/$pre" -T <"$T/in.ndjson" >"$T/tee" 2>"$T/err"
is "$?" 0 "upload exits 0"
like "$(cat "$T/err")" "key 'note' is not a column" "unknown key reported"
pycheck "$b" "$pre/" "$T/tee" <<'PY'
import sys, csv, io, json
from e2elib import *
b, pre, tee = sys.argv[1:4]
s3 = client("s3")
keys = [o["Key"] for o in s3.list_objects_v2(Bucket=b, Prefix=pre).get("Contents", [])]
check(len(keys) == 1, "one object under the prefix", keys)
check(keys[0].startswith(pre + "dt=") and keys[0].endswith(".csv"),
      "Hive-style default key", keys)
obj = s3.get_object(Bucket=b, Key=keys[0])
check(obj["ContentType"] == "text/csv; charset=utf-8; header=present",
      "Content-Type", obj["ContentType"])
body = obj["Body"].read()
check(body.count(b"\r\n") == 4, "rows end with CRLF")
rows = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
want = [["id", "usd", "x", "big", "ok", "m"],
        ["bitcoin", "67187", "0.00095032", "1e400", "true", '{"a":[1,2.50]}'],
        ['ripple, "xrp"', "2.492e-05", "", "", "false", ""],
        ["café €", "-0.0", "", "", "", "[]"]]
check(rows == want, "rows, header, quoting and number text", rows)
t = [json.loads(l) for l in open(tee)]
check(len(t) == 1 and t[0]["key"] == keys[0] and t[0]["bucket"] == b and
      t[0]["rows"] == 3 and t[0]["bytes"] == len(body) and
      t[0]["etag"] == obj["ETag"].strip('"') and t[0]["first_seq"] is None,
      "tee line", t)
done()
PY

# 2. --columns, --null, --lf, --no-header, a key format with a field
printf '%s\n' '{"id":"a","p":{"usd":1.10,"eur":"x,y"},"vs":"us d+"}' \
    '{"id":"b","p":{"usd":null},"vs":"us d+"}' |
    P "s3://$b/cols" -c 'id,usd=p.usd,eur=p.eur,p.gbp' -N NULL --lf -H \
    -k 'v={field:vs}/ü {n}.csv' 2>"$T/err"
is "$?" 0 "columns run exits 0"
is "$(cat "$T/err")" "" "a field the key uses is not reported as unknown"
pycheck "$b" <<'PY'
import sys, csv, io
from e2elib import *
b = sys.argv[1]
s3 = client("s3")
keys = [o["Key"] for o in s3.list_objects_v2(Bucket=b, Prefix="cols/").get("Contents", [])]
check(keys == ["cols/v=us d+/ü 000001.csv"], "key from --key-format", keys)
obj = s3.get_object(Bucket=b, Key=keys[0]) if keys else None
check(obj and obj["ContentType"].endswith("header=absent"), "header=absent")
body = obj["Body"].read() if obj else b""
check(b"\r" not in body, "--lf rows")
rows = list(csv.reader(io.StringIO(body.decode(), newline="")))
check(rows == [["a", "1.10", "x,y", "NULL"], ["b", "NULL", "NULL", "NULL"]],
      "paths, renames, --null, no header", rows)
done()
PY

# 3. --stdout, compared with Python's csv module reading the same input
P --stdout <"$T/in.ndjson" >"$T/out.csv" 2>/dev/null
is "$?" 0 "--stdout exits 0"
pycheck "$T/in.ndjson" "$T/out.csv" <<'PY'
import sys, csv, json
from e2elib import *
inp, out = sys.argv[1:3]
rows = list(csv.reader(open(out, newline="", encoding="utf-8")))
recs = [json.loads(l) for l in open(inp)]
check(rows[0] == list(recs[0].keys()), "stdout header")
check(len(rows) == 4 and rows[2][0] == 'ripple, "xrp"' and rows[3][0] == "café €",
      "stdout rows", rows)
done()
PY
printf '{"a":1}\n' | P --stdout >/dev/full 2>"$T/err"
is "$?" 4 ">/dev/full fails loudly"
like "$(cat "$T/err")" "stdout: No space left" "full disk message"

# 4. bad lines: positions, exit 1, dead letter, --strict
printf '%s\n' '{"a":1}' '[1,2]' '{"a":2,}' '' '{"a":3}' >"$T/bad.ndjson"
P --stdout -D "$T/dead" "$T/bad.ndjson" >"$T/out" 2>"$T/err"
is "$?" 1 "bad lines: exit 1"
like "$(cat "$T/err")" "^s3-putcsv: $T/bad.ndjson:2: a JSON array, not an object" "line 2 reported"
like "$(cat "$T/err")" "bad.ndjson:3: invalid JSON: .*column 8" "line 3 reported with column"
is "$(tr -d '\r' <"$T/out" | tr '\n' ' ')" "a 1 3 " "good lines converted"
is "$(cat "$T/dead")" "$(printf '[1,2]\n{"a":2,}')" "dead letter keeps the bad lines"
is "$(stat -c %a "$T/dead")" 600 "dead letter is 0600"
P "s3://$b/strict/" --strict <"$T/bad.ndjson" 2>"$T/err"
is "$?" 5 "--strict: exit 5"
pycheck "$b" <<'PY'
import sys, csv, io
from e2elib import *
s3 = client("s3")
c = s3.list_objects_v2(Bucket=sys.argv[1], Prefix="strict/").get("Contents", [])
body = s3.get_object(Bucket=sys.argv[1], Key=c[0]["Key"])["Body"].read() if c else b""
check(body == b"a\r\n1\r\n", "--strict uploads the rows before the bad line", body)
done()
PY

# 5. --dry-run uploads nothing; a wrong secret is a configuration error
P "s3://$b/dry/" -n <"$T/in.ndjson" 2>"$T/err"
is "$?" 0 "--dry-run exits 0"
like "$(cat "$T/err")" "dry run: would upload s3://$b/dry/dt=.*\\.csv to $COINPIPE_MOTO_URL/$b/dry/dt%3D.* \\(3 rows" "--dry-run says what, and where"
# On AWS (no endpoint setting): virtual-hosted for a DNS-label bucket, the
# path for a dotted one or one with capitals; the URL is in the dry run.
aws_url() {
	env -u AWS_ENDPOINT_URL -u AWS_ENDPOINT_URL_S3 \
	    "$COINPIPE_BIN/s3-putcsv" "s3://$1/raw/" -n --region eu-west-1 \
	    -k x.csv <"$T/in.ndjson" 2>&1 | sed -n 's/.* to \([^ ]*\) (.*/\1/p'
}
is "$(aws_url my-bucket)" "https://my-bucket.s3.eu-west-1.amazonaws.com/raw/x.csv" \
    "AWS, DNS-label bucket: virtual-hosted"
is "$(aws_url logs.example.com)" "https://s3.eu-west-1.amazonaws.com/logs.example.com/raw/x.csv" \
    "AWS, dotted bucket: path style (a TLS name check would fail)"
is "$(aws_url Old_Bucket)" "https://s3.eu-west-1.amazonaws.com/Old_Bucket/raw/x.csv" \
    "AWS, capitals and underscore: path style"
AWS_SECRET_ACCESS_KEY=wrong P "s3://$b/wrong/" <"$T/in.ndjson" 2>"$T/err"
is "$?" 3 "wrong secret: exit 3"
like "$(cat "$T/err")" "PutObject s3://$b/wrong/.*403 SignatureDoesNotMatch" "wrong secret message"
pycheck "$b" <<'PY'
import sys
from e2elib import *
s3 = client("s3")
for p in ("dry/", "wrong/"):
    c = s3.list_objects_v2(Bucket=sys.argv[1], Prefix=p).get("Contents", [])
    check(c == [], "nothing under " + p)
done()
PY

# 6. FILE operands in turn, "-" the standard input; one that cannot be
# opened stops the run (exit 3) after the rows before it.
printf '{"id":"a"}\n' >"$T/a.ndjson"
printf '{"id":"c"}\n' >"$T/c.ndjson"
echo '{"id":"b"}' | P --stdout "$T/a.ndjson" - "$T/c.ndjson" >"$T/abc.csv"
is "$?" 0 "three operands, one of them -: exit 0"
is "$(tr -d '\r' <"$T/abc.csv" | tr '\n' ' ')" "id a b c " "their rows in order"
P --stdout "$T/a.ndjson" "$T/none.ndjson" "$T/c.ndjson" >"$T/ac.csv" \
    2>"$T/err"
is "$?" 3 "an operand that cannot be opened: exit 3"
is "$(cat "$T/err")" "s3-putcsv: $T/none.ndjson: No such file or directory" \
    "it is named"
is "$(tr -d '\r' <"$T/ac.csv" | tr '\n' ' ')" "id a " "the rows before it, none after"

# 7. usage errors
P 2>/dev/null; is "$?" 2 "no bucket: exit 2"
P "s3://$b" --part-size 1MiB </dev/null 2>/dev/null; is "$?" 2 "part size below 5MiB: exit 2"
P "s3://$b" --key-format '{nope}' </dev/null 2>/dev/null; is "$?" 2 "bad key format: exit 2"
P --help | grep -q -- --max-age; ok $? "--help to stdout"
done_testing
