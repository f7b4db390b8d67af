#!/bin/sh
# A full disk and an unwritable standard output (issue 9, item 4).
#
# Dead-letter, checkpoint and spool files go to a 64 KiB tmpfs mounted in
# $T and filled to the last page (dead-letter files also to a symlink to
# /dev/full, which needs no mount); standard output is closed (>&-) or
# /dev/full. Each tool stops with exit 4 (the EXIT STATUS of each page: a
# local file or standard output could not be written) and one line naming
# the file and the reason, and nothing it had accepted is lost: kin-put's
# valid records are in Kinesis, s3-putcsv uploads the rows it had read,
# kin-get leaves its checkpoint where it was, so the next run writes the
# same records again; checked with boto3. Already covered elsewhere and not
# repeated: >/dev/full for gecko-fetch (0105), kin-put -T (0200), kin-get
# (0300) and s3-putcsv -o (0400).
#
# Mounting the tmpfs needs no root: a user who may not mount runs this test
# again inside an unprivileged user and mount namespace (unshare -rm), where
# it may, and the mount goes away with the namespace. Only where neither
# works (no unshare, user namespaces off) are the tmpfs checks skipped; the
# /dev/full ones run everywhere. COINPIPE_FULLDISK=mount|userns|skip forces
# one way; a way that was probed or forced and then cannot mount fails.

# can_mount [unshare -r]: a tmpfs can be mounted here (probed in a private
# mount namespace, so nothing stays mounted).
can_mount() {
	_d=$(mktemp -d "${TMPDIR:-/tmp}/mnt.XXXXXX") || return 1
	"$@" unshare -m sh -c 'mount -t tmpfs -o size=4k probe "$1"' sh "$_d" \
	    >/dev/null 2>&1
	_r=$?
	rmdir "$_d"
	return $_r
}
if [ -z "${COINPIPE_FULLDISK_NS:-}" ]; then
	if [ -z "${COINPIPE_FULLDISK:-}" ]; then
		if can_mount; then
			COINPIPE_FULLDISK=mount
		elif can_mount unshare -r; then
			COINPIPE_FULLDISK=userns
		else
			COINPIPE_FULLDISK=skip
		fi
	fi
	export COINPIPE_FULLDISK
	if [ "$COINPIPE_FULLDISK" = userns ]; then
		COINPIPE_FULLDISK_NS=1 exec unshare -rm "$0" "$@"
	fi
fi
. "$(dirname "$0")/lib.sh"
B=$COINPIPE_BIN
KIN=$COINPIPE_KINESIS_URL
MOTO=$COINPIPE_MOTO_URL
: >"$T/empty"
export AWS_CONFIG_FILE="$T/empty" AWS_SHARED_CREDENTIALS_FILE="$T/empty"
NOSPACE='No space left on device'
BADFD='Bad file descriptor'

# skip_ REASON: a check that cannot be made here, said so in TAP.
skip_() {
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n # skip $*"
}

# one_line FILE ERE NAME: exactly one line of FILE matches.
one_line() {
	is "$(grep -cE -- "$2" "$1")" 1 "$3"
}

s=full-$U
create_stream "$KIN" "$s" 1 || bail "create stream $s"
b=full-$U
create_bucket "$b" || bail "bucket $b"
in='{"n":1,"_shard":"s0","_seq":"1"}
not json
{"n":2,"_shard":"s0","_seq":"2"}'

# kin_count N NAME: the stream holds N records (boto3).
kin_count() {
	pycheck "$s" "$KIN" "$1" "$2" <<'PY'
import sys
from e2elib import *
s, url, n, name = sys.argv[1:5]
got = read_all(client("kinesis", url), s)
check(len(got) == int(n), name, [r["Data"][:30] for r in got])
PY
}

# s3_rows PREFIX ROWS NAME: the objects under PREFIX hold these data rows
# (comma-separated n values, header rows left out), checked with boto3.
s3_rows() {
	pycheck "$b" "$1" "$2" "$3" <<'PY'
import sys, csv, io
from e2elib import *
b, prefix, want, name = sys.argv[1:5]
s3 = client("s3", os.environ["COINPIPE_MOTO_URL"])
rows = []
for o in s3.list_objects_v2(Bucket=b, Prefix=prefix).get("Contents", []):
    body = s3.get_object(Bucket=b, Key=o["Key"])["Body"].read().decode()
    rows += [r[0] for r in list(csv.reader(io.StringIO(body)))[1:]]
check(",".join(sorted(rows)) == want, name, rows)
PY
}

# --- dead letters to /dev/full (no mount needed) --------------------------
ln -s /dev/full "$T/devfull"
printf '%s\n' "$in" | "$B/kin-put" --endpoint-url "$KIN" -s "$s" -T \
    -d "$T/devfull" >"$T/tee" 2>"$T/err"
is "$?" 4 "kin-put -d /dev/full: exit 4"
one_line "$T/err" "^kin-put: $T/devfull: $NOSPACE\$" \
    "kin-put -d /dev/full: one line naming the file"
is "$(grep -c '"seq":' "$T/tee")" 2 "kin-put -d /dev/full: both valid records reported delivered"
kin_count 2 "kin-put -d /dev/full: both valid records are in Kinesis"

printf '%s\n' "$in" | "$B/s3-putcsv" --endpoint-url "$MOTO" "s3://$b/devfull" \
    -D "$T/devfull" >"$T/out" 2>"$T/err"
is "$?" 4 "s3-putcsv -D /dev/full: exit 4"
one_line "$T/err" "^s3-putcsv: $T/devfull: $NOSPACE\$" \
    "s3-putcsv -D /dev/full: one line naming the file"
s3_rows devfull/ 1 "s3-putcsv -D /dev/full: the row read before the bad line is uploaded"

# --- a full file system ---------------------------------------------------------
F=$T/full
mkdir "$F"
mounted=0
if [ "$COINPIPE_FULLDISK" = skip ]; then
	diag "no tmpfs here, not even in a user namespace" \
	    "(or COINPIPE_FULLDISK=skip): full-disk checks skipped"
elif mount -t tmpfs -o size=64k,mode=0755 coinpipe-full "$F" \
    2>"$T/mount.err"; then
	trap 'umount "$F" 2>/dev/null; _lib_cleanup' EXIT
	mounted=1
	diag "64 KiB tmpfs at $F${COINPIPE_FULLDISK_NS:+ (user namespace)}"
else
	# The probe mounted (or the mount was asked for): not a skip.
	ok 1 "tmpfs mount (COINPIPE_FULLDISK=$COINPIPE_FULLDISK)"
	diag "$(cat "$T/mount.err")"
fi

# fill: takes the last free page of the tmpfs.
fill() {
	dd if=/dev/zero of="$F/fill" bs=4096 2>/dev/null
	! printf x 2>/dev/null >"$F/probe"
	_r=$?
	rm -f "$F/probe"
	return $_r
}

if [ $mounted = 1 ]; then
	# A checkpoint and an s3-putcsv checkpoint written while there is room.
	"$B/kin-get" --endpoint-url "$KIN" -s "$s" -c "$F/cp" >"$T/out0" 2>"$T/err"
	is "$?" 0 "kin-get -c: first run with room, exit 0"
	printf '{"n":0,"_shard":"s0","_seq":"0"}\n' | "$B/s3-putcsv" \
	    --endpoint-url "$MOTO" "s3://$b/cp0" -C "$F/s3cp" 2>"$T/err"
	is "$?" 0 "s3-putcsv -C: first run with room, exit 0"
	cp "$F/cp" "$T/cp.before" && cp "$F/s3cp" "$T/s3cp.before"
	printf '{"n":3}\n{"n":4}\n' | "$B/kin-put" --endpoint-url "$KIN" -s "$s" \
	    2>"$T/err"
	fill
	ok $? "the tmpfs is full"

	# kin-put: the dead-letter file cannot grow.
	printf '%s\n' "$in" | "$B/kin-put" --endpoint-url "$KIN" -s "$s" -T \
	    -d "$F/dl" >"$T/tee" 2>"$T/err"
	is "$?" 4 "kin-put -d on a full disk: exit 4"
	one_line "$T/err" "^kin-put: $F/dl: $NOSPACE\$" \
	    "kin-put -d on a full disk: one line naming the file"
	is "$(grep -c '"seq":' "$T/tee")" 2 \
	    "kin-put -d on a full disk: both valid records reported delivered"
	kin_count 6 "kin-put -d on a full disk: both valid records are in Kinesis"

	# kin-get: records 3 to 6 are written, the checkpoint cannot move.
	"$B/kin-get" --endpoint-url "$KIN" -s "$s" -c "$F/cp" >"$T/out1" \
	    2>"$T/err"
	is "$?" 4 "kin-get -c on a full disk: exit 4"
	one_line "$T/err" "^kin-get: $F/cp\\.tmp\\.[A-Za-z0-9]+: $NOSPACE\$" \
	    "kin-get -c on a full disk: one line naming the file"
	is "$(wc -l <"$T/out1" | tr -d ' ')" 4 \
	    "kin-get -c on a full disk: the 4 new records written"
	cmp -s "$F/cp" "$T/cp.before"
	ok $? "kin-get -c on a full disk: the checkpoint is left whole, unmoved"
	is "$(ls "$F" | grep -c '^cp\.tmp')" 0 \
	    "kin-get -c on a full disk: no temporary file left"

	# s3-putcsv: spool, dead-letter file, checkpoint.
	printf '%s\n' "$in" | "$B/s3-putcsv" --endpoint-url "$MOTO" \
	    "s3://$b/spool" -S "$F/spool" -T >"$T/tee" 2>"$T/err"
	is "$?" 4 "s3-putcsv -S on a full disk: exit 4"
	one_line "$T/err" "^s3-putcsv: $F/spool/[^ ]+\\.ndjson: $NOSPACE\$" \
	    "s3-putcsv -S on a full disk: one line naming the spool file"
	is "$(grep -c . "$T/err")" 1 "s3-putcsv -S on a full disk: said once, nothing else"
	s3_rows spool/ 1 "s3-putcsv -S on a full disk: the row it took is uploaded"
	is "$(grep -c '"rows":1' "$T/tee")" 1 "s3-putcsv -S on a full disk: --tee reports it"

	printf '%s\n' "$in" | "$B/s3-putcsv" --endpoint-url "$MOTO" \
	    "s3://$b/dl" -D "$F/dl2" >"$T/out" 2>"$T/err"
	is "$?" 4 "s3-putcsv -D on a full disk: exit 4"
	one_line "$T/err" "^s3-putcsv: $F/dl2: $NOSPACE\$" \
	    "s3-putcsv -D on a full disk: one line naming the file"
	s3_rows dl/ 1 "s3-putcsv -D on a full disk: the row read before is uploaded"

	printf '%s\n' "$in" | "$B/s3-putcsv" --endpoint-url "$MOTO" \
	    "s3://$b/cp" -C "$F/s3cp" -T >"$T/tee" 2>"$T/err"
	is "$?" 4 "s3-putcsv -C on a full disk: exit 4"
	one_line "$T/err" "^s3-putcsv: $F/s3cp\\.tmp\\.[A-Za-z0-9]+: $NOSPACE\$" \
	    "s3-putcsv -C on a full disk: one line naming the file"
	s3_rows cp/ 1,2 "s3-putcsv -C on a full disk: both rows uploaded"
	is "$(grep -c '"rows":2' "$T/tee")" 1 "s3-putcsv -C on a full disk: --tee reports the object"
	cmp -s "$F/s3cp" "$T/s3cp.before"
	ok $? "s3-putcsv -C on a full disk: the checkpoint is left whole"

	# Room again: kin-get resumes where its checkpoint was, nothing lost.
	rm -f "$F/fill"
	"$B/kin-get" --endpoint-url "$KIN" -s "$s" -c "$F/cp" >"$T/out2" \
	    2>"$T/err"
	is "$?" 0 "kin-get -c with room again: exit 0"
	cmp -s "$T/out1" "$T/out2"
	ok $? "kin-get -c with room again: the same 4 records again"
	cmp -s "$F/cp" "$T/cp.before"
	ok $((! $?)) "kin-get -c with room again: the checkpoint moved"
else
	for what in "kin-put -d" "kin-get -c" "s3-putcsv -S" "s3-putcsv -D" \
	    "s3-putcsv -C"; do
		skip_ "$what on a full disk: no tmpfs mount here (root or unshare -rm)"
	done
fi

# --- standard output on /dev/full (the cases no other test has) --------------
# A checkpoint with records after it: the one from the tmpfs part, or
# (skipped) one past the first of the two records kin-put sent above.
cp "$T/cp.before" "$T/cp.closed" 2>/dev/null ||
    "$B/kin-get" --endpoint-url "$KIN" -s "$s" -n 1 -c "$T/cp.closed" >/dev/null
cp "$T/cp.closed" "$T/cp.closed.before"
"$B/kin-get" --endpoint-url "$KIN" -s "$s" -c "$T/cp.closed" >/dev/full \
    2>"$T/err"
is "$?" 4 "kin-get -c >/dev/full: exit 4"
cmp -s "$T/cp.closed" "$T/cp.closed.before"
ok $? "kin-get -c >/dev/full: the checkpoint does not move"

printf '{"n":1}\n' | "$B/s3-putcsv" --endpoint-url "$MOTO" "s3://$b/teefull" \
    -T >/dev/full 2>"$T/err"
is "$?" 4 "s3-putcsv -T >/dev/full: exit 4"
one_line "$T/err" "^s3-putcsv: stdout: $NOSPACE\$" "s3-putcsv -T >/dev/full: says so in one line"
s3_rows teefull/ 1 "s3-putcsv -T >/dev/full: the object is uploaded all the same"

# --- standard output closed (>&-) --------------------------------------------
# cli_stdio_guard puts a closed stdout on /dev/null opened for reading, so
# the first write fails (EBADF) rather than going into whatever file the
# tool opens next as descriptor 1.
closed_stdout() {
	"$B/gecko-fetch" -b "$COINPIPE_GECKO_URL/api/v3" bitcoin >&- 2>"$T/err"
	is "$?" 4 "gecko-fetch >&-: exit 4"
	one_line "$T/err" "^gecko-fetch: stdout: $BADFD\$" \
	    "gecko-fetch >&-: says so in one line"

	"$B/kin-get" --endpoint-url "$KIN" -s "$s" -c "$T/cp.closed" >&- \
	    2>"$T/err"
	is "$?" 4 "kin-get -c >&-: exit 4"
	one_line "$T/err" "^kin-get: stdout: $BADFD\$" \
	    "kin-get >&-: says so in one line"
	cmp -s "$T/cp.closed" "$T/cp.closed.before"
	ok $? "kin-get -c >&-: the checkpoint does not move past records not written"

	printf '{"n":7}\n' | "$B/kin-put" --endpoint-url "$KIN" -s "$s" -T >&- \
	    2>"$T/err"
	is "$?" 4 "kin-put -T >&-: exit 4"
	one_line "$T/err" "^kin-put: stdout: $BADFD\$" \
	    "kin-put -T >&-: says so in one line"
	pycheck "$s" "$KIN" <<'PY'
import sys
from e2elib import *
got = read_all(client("kinesis", sys.argv[2]), sys.argv[1])
check(got[-1]["Data"] == b'{"n":7}',
      "kin-put -T >&-: the record is in Kinesis all the same")
PY
	printf '{"n":8}\n' | "$B/kin-put" --endpoint-url "$KIN" -s "$s" >&- \
	    2>"$T/err"
	is "$?" 0 "kin-put without -T >&-: nothing to write there, exit 0"

	printf '{"n":1}\n' | "$B/s3-putcsv" -o >&- 2>"$T/err"
	is "$?" 4 "s3-putcsv -o >&-: exit 4"
	one_line "$T/err" "^s3-putcsv: stdout: $BADFD\$" \
	    "s3-putcsv -o >&-: says so in one line"

	printf '{"n":1}\n' | "$B/s3-putcsv" --endpoint-url "$MOTO" \
	    "s3://$b/teeclosed" -T >&- 2>"$T/err"
	is "$?" 4 "s3-putcsv -T >&-: exit 4"
	one_line "$T/err" "^s3-putcsv: stdout: $BADFD\$" \
	    "s3-putcsv -T >&-: says so in one line"
	s3_rows teeclosed/ 1 "s3-putcsv -T >&-: the object is uploaded all the same"
}
# Under tests/run --valgrind the report file valgrind opens takes the
# closed descriptor 1 before the tool starts: nothing is closed to test.
if [ "${COINPIPE_VALGRIND:-}" = 1 ]; then
	skip_ ">&- for every tool: valgrind's report file takes descriptor 1"
else
	closed_stdout
fi

done_testing
