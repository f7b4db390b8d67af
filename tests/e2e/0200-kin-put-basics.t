#!/bin/sh
# kin-put: options and exit codes, the missing stream, invalid and oversize
# lines into the dead-letter file, --strict, --tee in input order (checked
# against what boto3 reads back), stdout on /dev/full.
. "$(dirname "$0")/lib.sh"
KP=$COINPIPE_BIN/kin-put
# tests/servers/up points these at /dev/null, which lib/awsfiles refuses
# ("not a regular file"): empty regular files mean the same.
: >"$T/empty"
export AWS_CONFIG_FILE="$T/empty" AWS_SHARED_CREDENTIALS_FILE="$T/empty"
EP="--endpoint-url $COINPIPE_KINESIS_URL"

out=$("$KP" --help); rc=$?
is "$rc" 0 "--help exits 0"
like "$out" '^usage: kin-put --stream NAME' "--help prints usage on stdout"
out=$("$KP" --version); rc=$?
is "$rc" 0 "--version exits 0"
like "$out" '^kin-put [0-9.]+ \(libcurl .*jansson .*OpenSSL' "--version names the libraries"
err=$("$KP" 2>&1 >/dev/null); is "$?" 2 "no --stream: exit 2"
like "$err" "^kin-put: --stream is required" "no --stream: says so"
like "$err" "try 'kin-put --help'" "usage error points at --help"
"$KP" -s x --bogus 2>/dev/null; is "$?" 2 "unknown option: exit 2"
"$KP" -s x --linger 5parsecs 2>/dev/null; is "$?" 2 "bad duration: exit 2"
"$KP" -s x --inflight 0 2>/dev/null; is "$?" 2 "--inflight 0: exit 2"
"$KP" -s x --key a --key-fixed b 2>/dev/null; is "$?" 2 "--key with --key-fixed: exit 2"
"$KP" -s x --explicit-hash-key 340282366920938463463374607431768211456 \
    2>/dev/null; is "$?" 2 "--explicit-hash-key 2^128: exit 2"
"$KP" -s x --stream-arn notanarn 2>/dev/null; is "$?" 2 "--stream-arn not an ARN: exit 2"

# A missing stream: exit 3 at once, with the reason.
err=$(echo '{}' | "$KP" $EP -s "missing-$U" 2>&1); rc=$?
is "$rc" 3 "missing stream: exit 3"
like "$err" "^kin-put: stream missing-$U: .*ResourceNotFoundException" \
    "missing stream: one clear line"

s=kp-$U
create_stream "$COINPIPE_KINESIS_URL" "$s" 2 || bail "create stream $s"

# Invalid JSON, a missing key, an oversize record, an empty line (skipped).
big=$(head -c 1048570 /dev/zero | tr '\0' a)
{
	echo '{"k":"a","n":1}'
	echo 'not json'
	echo ''
	echo '{"n":3}'
	printf '{"k":"a","big":"%s"}\n' "$big"
	echo '{"k":"b","n":5}'
	echo '{"k":7,"n":6}'
} >"$T/in.ndjson"
"$KP" $EP -s "$s" --key k -d "$T/dl.ndjson" -T <"$T/in.ndjson" \
    >"$T/tee.ndjson" 2>"$T/err"; rc=$?
is "$rc" 1 "invalid lines: exit 1, the rest delivered"
like "$(cat "$T/err")" '^kin-put: <stdin>:2: invalid JSON: ' "stderr names <stdin>:2"
is "$(stat -c %a "$T/dl.ndjson")" 600 "dead-letter file created 0600"
pycheck "$T" "$s" "$COINPIPE_KINESIS_URL" <<'PY'
import sys, json
from e2elib import *
T, s, url = sys.argv[1:4]
dl = [json.loads(l) for l in open(T + "/dl.ndjson")]
check([(d["line"], d["error"]) for d in dl] ==
      [(2, "InvalidJSON"), (4, "InvalidPartitionKey"), (5, "RecordTooLarge")],
      "dead letters: lines 2, 4, 5 with their codes", dl)
check(all(d["file"] == "<stdin>" for d in dl), "dead letters name <stdin>")
check(dl[0]["data"] == "not json" and json.loads(dl[1]["data"]) == {"n": 3},
      "dead letters hold the line itself")
check(len(dl[2]["data"]) > 1048576, "the oversize line is kept whole")
check("invalid JSON" in dl[0]["message"], "message says why", dl[0])
tee = [json.loads(l) for l in open(T + "/tee.ndjson")]
check([t["line"] for t in tee] == [1, 2, 4, 5, 6, 7], "--tee: one report per record, input order", tee)
ok = [t for t in tee if "seq" in t]
check([t["line"] for t in ok] == [1, 6, 7], "--tee: delivered lines 1, 6, 7")
check(all(t["attempts"] == 1 and t["shard"].startswith("shardId-") for t in ok), "reports carry shard and attempts")
kin = client("kinesis", url)
got = {}
for r in read_all(kin, s):
    got[r["SequenceNumber"]] = (r["PartitionKey"], json.loads(r["Data"]))
want = {t["seq"]: None for t in ok}
check(sorted(got) == sorted(want), "server holds exactly the reported sequence numbers", got)
check(got.get(ok[2]["seq"], ("", {}))[0] == "7" and got[ok[0]["seq"]][1]["n"] == 1,
      "number key sent as its JSON text; seq of line 1 holds line 1")
PY

# --strict: stop at the first invalid line, exit 5; earlier lines delivered.
printf '{"n":1}\n{oops\n{"n":3}\n' | "$KP" $EP -s "$s" --strict -T \
    >"$T/strict.out" 2>/dev/null; rc=$?
is "$rc" 5 "--strict: exit 5"
is "$(grep -c '"seq"' "$T/strict.out")" 1 "--strict: the line before was delivered"
is "$(grep -c '"line":3' "$T/strict.out")" 0 "--strict: nothing after it was read"

# --raw: any bytes, the data exactly as the line.
printf 'plain text\n\001\377binary\n' | "$KP" $EP -s "$s" --raw --key-fixed raw \
    -T >"$T/raw.out" 2>"$T/raw.err"; rc=$?
is "$rc" 0 "--raw: non-JSON lines delivered"
is "$(grep -c '"seq"' "$T/raw.out")" 2 "--raw: two reports"

# FILE operands in turn, "-" the standard input: one that cannot be opened
# is reported and skipped (exit 1); with several, reports name each.
printf '{"n":1}\n{"n":2}\n' >"$T/a.ndjson"
printf '{"n":4}\n' >"$T/c.ndjson"
echo '{"n":3}' | "$KP" $EP -s "$s" -T "$T/a.ndjson" "$T/none.ndjson" - \
    "$T/c.ndjson" >"$T/files.out" 2>"$T/files.err"; rc=$?
is "$rc" 1 "a missing operand: exit 1"
is "$(cat "$T/files.err")" "kin-put: $T/none.ndjson: No such file or directory" \
    "a missing operand: named"
pycheck "$T" "$s" "$COINPIPE_KINESIS_URL" <<'PY'
import sys, json
from e2elib import *
T, s, url = sys.argv[1:4]
tee = [json.loads(l) for l in open(T + "/files.out")]
want = [(1, T + "/a.ndjson"), (2, T + "/a.ndjson"), (1, "<stdin>"),
        (1, T + "/c.ndjson")]
check([(t["line"], t["file"]) for t in tee] == want,
      "--tee: each record of each operand, in order, named", tee)
seqs = {t["seq"] for t in tee}
got = sorted(json.loads(r["Data"])["n"] for r in read_all(client("kinesis", url), s)
             if r["SequenceNumber"] in seqs)
check(got == [1, 2, 3, 4], "the server holds all four", got)
PY

# stdout full: kin-put says so and fails.
seq 1 50 | sed 's/.*/{"n":&}/' | "$KP" $EP -s "$s" -T >/dev/full 2>"$T/full.err"
rc=$?
is "$rc" 4 ">/dev/full with --tee: exit 4"
like "$(cat "$T/full.err")" '^kin-put: stdout: No space left on device' ">/dev/full: says so"

done_testing
