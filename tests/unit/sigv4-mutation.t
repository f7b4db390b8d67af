#!/bin/sh
# sigv4-mutation.t: the SigV4 suite runner must be able to fail.
#
# Copies a few fixture cases to a temporary folder, checks the copies pass,
# then alters one byte of one expected file at a time (canonical request,
# string to sign, signature, Authorization, presigned target) and checks
# the runner exits non-zero and reports "not ok" naming the stage.
# Environment (set by tests/run): SIGV4_CASES = the runner, TMPDIR.
set -u
export LC_ALL=C

top=${COINPIPE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
fix=$top/tests/fixtures/sigv4
run=${SIGV4_CASES:-$top/tests/sigv4-cases}
n=0 failed=0

ok() {	# ok COND-STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
	return "$1"
}

diag() {
	sed 's/^/# /' "$@"
}

if [ ! -x "$run" ]; then
	echo "not ok 1 - runner $run is not built"
	echo "1..1"
	echo "# 0 passed, 1 failed"
	exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sigv4-mutation.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

header="suite/v4-header/get-header-key-duplicate"
query="suite/v4-query/post-sts-header-after"
s3="s3-examples/put-object-dollar-key"

# fresh NAME CASE: a clean copy of CASE at $tmp/NAME
fresh() {
	rm -rf "${tmp:?}/$1"
	cp -R "$fix/$2" "$tmp/$1"
}

# flip FILE: overwrites the byte in the middle of FILE with another byte
flip() {
	size=$(wc -c <"$1")
	off=$((size / 2))
	old=$(dd if="$1" bs=1 skip="$off" count=1 2>/dev/null)
	new=Z
	[ "$old" = Z ] && new=Y
	printf '%s' "$new" | dd of="$1" bs=1 seek="$off" conv=notrunc \
	    2>/dev/null
}

# The unaltered copies pass, together, with a full plan line.
fresh h "$header"; fresh q "$query"; fresh s "$s3"
(cd "$tmp" && "$run" h q s) >"$tmp/out" 2>&1
rc=$?
ok "$([ "$rc" -eq 0 ] && ! grep -q '^not ok' "$tmp/out" &&
    [ "$(grep -c '^ok ' "$tmp/out")" -eq 3 ] &&
    grep -q '^1\.\.3$' "$tmp/out" &&
    grep -q '^# 3 passed, 0 failed$' "$tmp/out"; echo $?)" \
    "unaltered copies pass (exit $rc)" || diag "$tmp/out"

# mutate NAME CASE FILE STAGE: one altered byte in FILE must fail the case
# at STAGE, and a clean case run alongside still passes.
mutate() {
	fresh "$1" "$2"
	fresh clean "$2"
	flip "$tmp/$1/$3"
	if cmp -s "$fix/$2/$3" "$tmp/$1/$3"; then
		ok 1 "$2/$3: the mutation changed the file"
		return
	fi
	(cd "$tmp" && "$run" clean "$1") >"$tmp/out" 2>&1
	rc=$?
	ok "$([ "$rc" -ne 0 ] && grep -q "^ok 1 - clean$" "$tmp/out" &&
	    grep -q "^not ok 2 - $1\$" "$tmp/out" &&
	    grep -q "^# $4" "$tmp/out" &&
	    grep -q '^# 1 passed, 1 failed$' "$tmp/out"; echo $?)" \
	    "one byte altered in $2/$3 is reported at \"$4\" (exit $rc)" ||
	    diag "$tmp/out"
}

mutate h1 "$header" creq.txt "canonical request differs"
mutate h2 "$header" sts.txt "string to sign differs"
mutate h3 "$header" signature.txt "signature differs"
mutate h4 "$header" authz.txt "Authorization differs"
mutate q1 "$query" creq.txt "canonical request differs"
mutate q2 "$query" sts.txt "string to sign differs"
mutate q3 "$query" signature.txt "signature differs"
mutate q4 "$query" presigned-target.txt "presigned target differs"
mutate s4 "$s3" authz.txt "Authorization differs"

# The inputs matter too: another secret changes every signature.
fresh k "$header"
sed 's/^secret_key=wJal/secret_key=wJaL/' "$fix/$header/context" \
    >"$tmp/k/context"
(cd "$tmp" && "$run" k) >"$tmp/out" 2>&1
rc=$?
ok "$([ "$rc" -ne 0 ] && grep -q '^not ok 1 - k$' "$tmp/out" &&
    grep -q '^# signature differs' "$tmp/out"; echo $?)" \
    "another secret key fails the signature (exit $rc)" || diag "$tmp/out"

# A case that cannot be read fails the run.
(cd "$tmp" && "$run" h no-such-case) >"$tmp/out" 2>&1
rc=$?
ok "$([ "$rc" -ne 0 ] && grep -q '^not ok 2 - no-such-case$' "$tmp/out" &&
    grep -q '^# cannot read case' "$tmp/out"; echo $?)" \
    "a missing case is reported and fails the run (exit $rc)" ||
    diag "$tmp/out"

# obs-fold: the runner joins continuation lines, so the folded form of the
# multiline case (as the upstream suite has it) still passes.
fresh m suite/v4-header/get-header-value-multiline
printf '%s\n' 'GET / HTTP/1.1' 'Host:example.amazonaws.com' \
    'My-Header1:value1' '  value2' '     value3' '' >"$tmp/m/request.txt"
(cd "$tmp" && "$run" m) >"$tmp/out" 2>&1
rc=$?
ok "$([ "$rc" -eq 0 ] && grep -q '^ok 1 - m$' "$tmp/out"; echo $?)" \
    "obs-fold continuation lines are joined (exit $rc)" || diag "$tmp/out"

echo "1..$n"
echo "# $((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
