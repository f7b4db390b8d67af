# tests/e2e/lib.sh: sourced by every tests/e2e/*.t (sh, TAP output).
#
#   . "$COINPIPE_TOP/tests/e2e/lib.sh"     (or: . "$(dirname "$0")/lib.sh")
#
# Gives: the servers' environment (COINPIPE_SERVERS/env), a private scratch
# directory $T, TAP helpers (ok, is, like, cmp_file, diag, skip, skip_all,
# done_testing), AWS helpers against moto and kinesis-mock, and fault
# proxies that are stopped by PID when the test exits.
set -u
export LC_ALL=C

: "${COINPIPE_TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${COINPIPE_BIN:=$COINPIPE_TOP/build}"
if [ -z "${COINPIPE_SERVERS:-}" ] || [ ! -f "$COINPIPE_SERVERS/env" ]; then
	echo "not ok 1 - servers are up (COINPIPE_SERVERS/env missing: run via tests/run, or tests/servers/up DIR)"
	echo "1..1"
	exit 1
fi
. "$COINPIPE_SERVERS/env"

T=$(mktemp -d "${TMPDIR:-/tmp}/e2e.XXXXXX") || exit 1
_tap_n=0 _tap_fail=0 _proxies=
# A unique suffix for streams/buckets so tests never see each other's data.
U=$(basename "$T" | tr 'A-Z' 'a-z' | tr -cd 'a-z0-9')$$

_lib_cleanup() {
	for _p in $_proxies; do
		kill -TERM "$_p" 2>/dev/null
	done
	for _p in $_proxies; do
		_i=0
		while kill -0 "$_p" 2>/dev/null && [ $_i -lt 30 ]; do
			sleep 0.1; _i=$((_i + 1))
		done
		kill -KILL "$_p" 2>/dev/null
		wait "$_p" 2>/dev/null
		rm -f "$COINPIPE_PROXY_DIR/$_p.pid"
	done
	rm -rf "$T"
}
trap _lib_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ok COND_STATUS NAME: `cmd; ok $? "name"` or `ok 0 name` / `ok 1 name`.
ok() {
	_tap_n=$((_tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_tap_n - $2"
	else
		echo "not ok $_tap_n - $2"
		_tap_fail=$((_tap_fail + 1))
	fi
}

# is GOT WANT NAME
is() {
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		echo "#   got:  '$1'"
		echo "#   want: '$2'"
	fi
}

# like GOT ERE NAME: GOT matches the extended regular expression.
like() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		ok 0 "$3"
	else
		ok 1 "$3"
		echo "#   got:  '$(printf '%s' "$1" | head -c 400)'"
		echo "#   want match: /$2/"
	fi
}

diag() { echo "# $*"; }

# skip REASON: one check that is not made here, a TAP "ok N # skip" line
# (tests/run lists it, not counted as passed); skip_all REASON: the whole
# test is not run ("1..0 # SKIP"). For what cannot hold under valgrind
# (COINPIPE_VALGRIND=1, tests/run --valgrind), always with the reason.
skip() {
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n # skip $*"
}
skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

# fail_now MSG: a fatal error in the test's own setup.
bail() {
	ok 1 "$*"
	done_testing
}

done_testing() {
	echo "1..$_tap_n"
	echo "# $((_tap_n - _tap_fail)) passed, $_tap_fail failed"
	[ "$_tap_fail" -eq 0 ] && [ "$_tap_n" -gt 0 ] && exit 0
	exit 1
}

# wait_catches PID SIGNUM: waits (up to 60 s) until PID has a handler for
# signal SIGNUM (SigCgt in /proc/PID/status). A background job of a
# non-interactive shell starts with SIGINT and SIGQUIT ignored, so a signal
# sent before the program installs its handler is lost; a slow start (e.g.
# under valgrind) makes that likely.
wait_catches() {
	_i=0
	while [ $_i -lt 600 ]; do
		_m=$(sed -n 's/^SigCgt:[[:space:]]*//p' "/proc/$1/status" \
		    2>/dev/null) || return 1
		[ -n "$_m" ] || return 1
		# the mask is 16 hex digits; take the one holding bit SIGNUM-1
		_d=$(printf '%s' "$_m" | cut -c$((16 - ($2 - 1) / 4)))
		[ $((0x$_d >> (($2 - 1) % 4) & 1)) -eq 1 ] && return 0
		sleep 0.1; _i=$((_i + 1))
	done
	return 1
}

# --- AWS helpers ---------------------------------------------------------
# aws_moto ARGS / aws_kin ARGS: the AWS CLI against moto / kinesis-mock,
# no retries, JSON out.
aws_moto() {
	AWS_MAX_ATTEMPTS=1 aws --endpoint-url "$COINPIPE_MOTO_URL" --output json "$@"
}
aws_kin() {
	AWS_MAX_ATTEMPTS=1 aws --endpoint-url "$COINPIPE_KINESIS_URL" --output json "$@"
}

# py SCRIPT ARGS: python with boto3 (PYTHON from the env file).
py() {
	"${PYTHON:-python3}" "$@"
}

# create_stream URL NAME [SHARDS]: creates a stream and waits until ACTIVE.
create_stream() {
	AWS_MAX_ATTEMPTS=1 aws --endpoint-url "$1" kinesis create-stream \
	    --stream-name "$2" --shard-count "${3:-1}" >/dev/null || return 1
	_i=0
	while [ $_i -lt 100 ]; do
		_s=$(AWS_MAX_ATTEMPTS=1 aws --endpoint-url "$1" kinesis \
		    describe-stream-summary --stream-name "$2" --query \
		    StreamDescriptionSummary.StreamStatus --output text 2>/dev/null)
		[ "$_s" = ACTIVE ] && return 0
		sleep 0.1; _i=$((_i + 1))
	done
	return 1
}

# create_bucket NAME: a bucket on moto.
create_bucket() {
	aws_moto s3api create-bucket --bucket "$1" >/dev/null
}

# pycheck [ARGS...] <<'EOF' ... EOF: runs a python snippet (with
# tests/e2e/e2elib.py importable) whose "ok NAME" / "not ok NAME" lines
# become numbered TAP results here; "#" lines pass through. A snippet that
# dies counts as a failure.
pycheck() {
	_out=$T/pycheck.$$.out
	PYTHONPATH="$COINPIPE_TOP/tests/e2e${PYTHONPATH:+:$PYTHONPATH}" \
	    "${PYTHON:-python3}" - "$@" >"$_out" 2>"$_out.err"
	_rc=$?
	while IFS= read -r _line; do
		case $_line in
		"not ok "*) ok 1 "${_line#not ok }" ;;
		"ok "*) ok 0 "${_line#ok }" ;;
		*) echo "$_line" ;;
		esac
	done <"$_out"
	if [ $_rc -ne 0 ]; then
		ok 1 "python snippet exited $_rc"
		sed 's/^/#   /' "$_out.err" | tail -n 15
	fi
	return $_rc
}

# --- servers a test starts itself ------------------------------------------
# test_server_start DIR PROGRAM [ARGS...]: starts a Python server that
# writes its port to DIR/port (its output to DIR/out), registered to be
# stopped by PID when the test exits (and by tests/servers/down); sets
# SERVER_PID and SERVER_PORT. Returns 1, with the server's output on stderr,
# when it died or gave no port within 10 s.
test_server_start() {
	_sd=$1; shift
	${PYTHON:-python3} "$@" --port-file "$_sd/port" >"$_sd/out" 2>&1 &
	SERVER_PID=$!
	echo "$SERVER_PID" >"$COINPIPE_PROXY_DIR/$SERVER_PID.pid"
	_proxies="$_proxies $SERVER_PID"
	_i=0
	while [ ! -s "$_sd/port" ]; do
		if ! kill -0 "$SERVER_PID" 2>/dev/null || [ $_i -gt 100 ]; then
			cat "$_sd/out" >&2
			return 1
		fi
		sleep 0.1; _i=$((_i + 1))
	done
	SERVER_PORT=$(cat "$_sd/port")
}

# test_server_stop PID: stops one such server and waits for it.
test_server_stop() {
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	rm -f "$COINPIPE_PROXY_DIR/$1.pid"
}

# jsonl_count FILE PYEXPR: how many lines e of a JSONL log satisfy a Python
# expression (0 when the file does not exist).
jsonl_count() {
	"${PYTHON:-python3}" - "$1" "$2" <<'EOF'
import json, sys
n = 0
try:
    for line in open(sys.argv[1]):
        e = json.loads(line)
        if eval(sys.argv[2], {}, {"e": e}):
            n += 1
except FileNotFoundError:
    pass
print(n)
EOF
}

# --- fault proxy -----------------------------------------------------------
# proxy_start UPSTREAM_URL [faultproxy options...]: starts a fault proxy in
# front of UPSTREAM_URL; sets PROXY_URL, PROXY_PID and PROXY_LOG (JSONL).
proxy_start() {
	_up=$1; shift
	_pd=$(mktemp -d "$T/proxy.XXXXXX")
	PROXY_LOG=$_pd/log.jsonl
	test_server_start "$_pd" "$COINPIPE_PROXY" --upstream "$_up" \
	    --log "$PROXY_LOG" "$@" || return 1
	PROXY_PID=$SERVER_PID
	PROXY_URL=http://127.0.0.1:$SERVER_PORT
}

# proxy_stop: stops the last started proxy (by PID) and waits for it.
proxy_stop() {
	test_server_stop "$PROXY_PID"
}

# proxy_count PYEXPR: how many proxy log lines e satisfy a Python expression,
# e.g. proxy_count "e['fault'] == 'throttle'".
proxy_count() {
	jsonl_count "$PROXY_LOG" "$1"
}

# gecko_config JSON: POSTs a configuration change to the replay server.
gecko_config() {
	curl -s -f -X POST -H 'Content-Type: application/json' \
	    --data "$1" "$COINPIPE_GECKO_URL/__config" >/dev/null
}
