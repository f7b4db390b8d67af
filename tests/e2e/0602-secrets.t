#!/bin/sh
# Secrets and files (issue 9, item 5). Every tool runs at its highest
# verbosity (-vvvv: HTTP trace with headers and bodies) with a known access
# key, secret key and session token (gecko-fetch with a known CoinGecko key),
# through successes, retries (5xx, 429), 4xx, a bad signature whose answer
# quotes the canonical request (session token included, as AWS's
# InvalidSignatureException and SignatureDoesNotMatch messages do), an
# assumed role whose STS answer carries fresh secrets, and credentials from
# config and credential files. Neither secret appears on stdout, stderr or in
# any file the tool wrote (dead letters, checkpoints, spool, --tee), nor in
# /proc/PID/cmdline while it runs. Dead-letter, checkpoint and spool files
# are created mode 0600 under umask 000. Signing over plain HTTP to a host
# that is not loopback warns once (the host is reached through badserver
# as an HTTP proxy on 127.0.0.1: nothing leaves loopback).
. "$(dirname "$0")/lib.sh"
. "$COINPIPE_TOP/tests/servers/badserver.sh"
B=$COINPIPE_BIN
KIN=$COINPIPE_KINESIS_URL
MOTO=$COINPIPE_MOTO_URL
: >"$T/empty"
export AWS_CONFIG_FILE="$T/empty" AWS_SHARED_CREDENTIALS_FILE="$T/empty"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

# The moto IAM user's keys (moto checks signatures) and our own known ones
# (kinesis-mock and badserver take any).
MOTO_AK=$AWS_ACCESS_KEY_ID MOTO_SK=$AWS_SECRET_ACCESS_KEY
AK=AKIA0602EXAMPLEKEYID
SK=sk0602Zq7wJalrXUtnFEMIK7MDENGbPxRfiCYsecret
TOK=tok0602IQoJb3JpZ2luX2VjEJr8AaCXVzLWVhc3QtMSJHMEUCIQDsession
GKEY=CG-0602gEcKoKeYzzz
GBAD=CG-0602wRoNgKeYzzz
s=sec-$U
pycheck "r-$U" <<'PY'
import json, sys
from e2elib import *
iam = client("iam", os.environ["COINPIPE_MOTO_URL"])
trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]})
allow = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    "Action": "*", "Resource": "*"}]})
iam.create_role(RoleName=sys.argv[1], AssumeRolePolicyDocument=trust)
iam.put_role_policy(RoleName=sys.argv[1], PolicyName="all",
                    PolicyDocument=allow)
print("ok role created")
PY
mb=sec-$U
create_bucket "$mb" || bail "bucket $mb"
aws_moto kinesis create-stream --stream-name "$s" --shard-count 1 >/dev/null ||
    bail "moto stream"
export AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK AWS_SESSION_TOKEN=$TOK
SECRETS="$SK $TOK $MOTO_SK $GKEY $GBAD"

# no_secret DIR NAME: no file under DIR (the run's stdout, stderr and every
# file the tool wrote) holds a secret; the run also left some output.
no_secret() {
	_hits=
	for _s in $SECRETS; do
		_f=$(grep -rlF -- "$_s" "$1" 2>/dev/null) &&
		    _hits="$_hits $(echo "$_f" | sed "s|$1/||" | tr '\n' ' ')"
	done
	# secrets the tool fetched itself (STS): any value not REDACTED
	_f=$(grep -rlE '(SecretAccessKey|SessionToken)>[^<R]|x-amz-security-token:[^R]|"(SecretAccessKey|SessionToken|Token)" *: *"[^R]' \
	    "$1" 2>/dev/null) && _hits="$_hits $_f"
	ok $(($(cat "$1"/* 2>/dev/null | wc -c) == 0)) "$2: the run said something"
	if [ -z "$_hits" ]; then
		ok 0 "$2: no secret in stdout, stderr or files written"
	else
		ok 1 "$2: no secret in stdout, stderr or files written"
		diag "found in:$_hits"
	fi
}

# run NAME RC CMD...: runs CMD in a fresh directory $R with stdout and
# stderr there, checks the exit status and that no secret leaked.
run() {
	_name=$1 _want=$2; shift 2
	R=$T/run-$(echo "$_name" | tr -c 'a-zA-Z0-9\n' '_')
	mkdir -p "$R"
	(cd "$R" && "$@") >"$R/stdout" 2>"$R/stderr"
	_rc=$?
	is "$_rc" "$_want" "$_name: exit $_want"
	[ "$_rc" = "$_want" ] || sed 's/^/#   /' "$R/stderr" | grep -v '[<>*{}] ' | tail -n 3
	no_secret "$R" "$_name"
}

# wrote NAME FILE...: the last run wrote these files (so that the check of
# its files is not vacuous).
wrote() {
	_name=$1; shift
	_miss=
	for _f; do
		[ -s "$R/$_f" ] || _miss="$_miss $_f"
	done
	ok $((${#_miss} != 0)) "$_name: wrote $*"
	[ -z "$_miss" ] || diag "missing or empty:$_miss"
}

# The answer AWS gives a request whose signature does not match: the
# canonical request it expected, session token included.
canon="'POST\\\\n/\\\\n\\\\ncontent-type:application/x-amz-json-1.1\\\\nhost:127.0.0.1\\\\nx-amz-date:20261202T170852Z\\\\nx-amz-security-token:$TOK\\\\nx-amz-target:Kinesis_20131202.PutRecords\\\\n'"
badsig_json="{\"__type\":\"InvalidSignatureException\",\"message\":\"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.\\\\n\\\\nThe Canonical String for this request should have been\\\\n$canon\"}"
badsig_json=$(printf '%b' "$badsig_json")
badsig_xml="<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided. Check your key and signing method. X-Amz-Security-Token=$TOK</Message><CanonicalRequest>PUT
/b/p/x.csv

host:127.0.0.1
x-amz-security-token:$TOK
</CanonicalRequest><StringToSign>AWS4-HMAC-SHA256</StringToSign></Error>"

s=sec-$U
create_stream "$KIN" "$s" 1 || bail "create stream $s"
in='{"n":1,"_shard":"shardId-000000000000","_seq":"1"}
not json
{"n":2,"_shard":"shardId-000000000000","_seq":"2"}'

# --- kin-put ---------------------------------------------------------------
kp() { printf '%s\n' "$in" | "$B/kin-put" -vvvv -T -d dl "$@"; }
run "kin-put ok" 1 kp --endpoint-url "$KIN" -s "$s"
wrote "kin-put ok" dl
bad_start --fault status --status 500 --times 1 --match PutRecords ||
    bail "badserver"
run "kin-put 500 then 200" 1 kp --endpoint-url "$BAD_URL" -s s
bad_stop
bad_start --fault status --status 429 --match PutRecords || bail "badserver"
kp2() { export AWS_MAX_ATTEMPTS=2; kp -m 2 "$@"; }	# run's subshell
run "kin-put 429 exhausted" 4 kp2 --endpoint-url "$BAD_URL" -s s
bad_stop
bad_start --fault status --status 400 --match PutRecords \
    --body "$badsig_json" || bail "badserver"
run "kin-put bad signature (token quoted)" 3 kp --endpoint-url "$BAD_URL" -s s
wrote "kin-put bad signature" dl
like "$(grep 'PutRecords s:' "$R/stderr")" 'x-amz-security-token:REDACTED' \
    "kin-put: the quoted canonical request is kept, the token redacted"
bad_stop

# --- kin-get ---------------------------------------------------------------
run "kin-get ok" 0 "$B/kin-get" -vvvv --endpoint-url "$KIN" -s "$s" \
    -o envelope -c cp
wrote "kin-get ok" cp
bad_start --fault status --status 503 --times 1 --match GetRecords ||
    bail "badserver"
run "kin-get 503 then 200" 0 "$B/kin-get" -vvvv --endpoint-url "$BAD_URL" \
    -s s -c cp
bad_stop
bad_start --fault status --status 400 --match GetRecords \
    --body "$badsig_json" || bail "badserver"
run "kin-get bad signature (token quoted)" 3 "$B/kin-get" -vvvv \
    --endpoint-url "$BAD_URL" -s s -c cp
bad_stop

# --- s3-putcsv ---------------------------------------------------------------
sp() { printf '%s\n' "$in" | "$B/s3-putcsv" -vvvv -T -S spool -C cp -D dl \
    --endpoint-url "$BAD_URL" s3://b/p "$@"; }
bad_start || bail "badserver"
run "s3-putcsv ok" 1 sp
wrote "s3-putcsv ok" cp dl
bad_stop
bad_start --fault status --status 500 --times 1 --match '^PUT ' ||
    bail "badserver"
run "s3-putcsv 500 then 200" 1 sp
bad_stop
bad_start --fault status --status 403 --match '^PUT ' --body "$badsig_xml" ||
    bail "badserver"
run "s3-putcsv bad signature (token quoted)" 3 sp
ok $(($(cat "$R"/spool/*.ndjson | wc -l) != 2)) \
    "s3-putcsv bad signature: the rows stay in the spool"
bad_stop

# --- moto: real signatures, keys from the files, an assumed role ------------
cat >"$T/credentials" <<EOF
[base]
aws_access_key_id = $MOTO_AK
aws_secret_access_key = $MOTO_SK
[wrong]
aws_access_key_id = $MOTO_AK
aws_secret_access_key = $SK
aws_session_token = $TOK
EOF
cat >"$T/config" <<EOF
[profile role]
role_arn = arn:aws:iam::$AWS_ACCOUNT_ID:role/r-$U
source_profile = base
EOF
files() {	# in run's subshell
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
	export AWS_CONFIG_FILE="$T/config"
	export AWS_SHARED_CREDENTIALS_FILE="$T/credentials"
	export AWS_ENDPOINT_URL_STS="$MOTO"
	"$@"
}
run "kin-put moto, keys from the credentials file" 1 files kp \
    --profile base --endpoint-url "$MOTO" -s "$s"
run "kin-put moto, assumed role (STS traced)" 1 files kp \
    --profile role --endpoint-url "$MOTO" -s "$s"
run "kin-put moto, wrong secret" 3 files kp \
    --profile wrong --endpoint-url "$MOTO" -s "$s"
run "kin-get moto, assumed role" 0 files "$B/kin-get" -vvvv --profile role \
    --endpoint-url "$MOTO" -s "$s" -c cp
run "kin-get moto, wrong secret" 3 files "$B/kin-get" -vvvv --profile wrong \
    --endpoint-url "$MOTO" -s "$s" -c cp
mp() { printf '%s\n' "$in" | "$B/s3-putcsv" -vvvv -T -S spool -C cp -D dl \
    --endpoint-url "$MOTO" "s3://$mb/p" "$@"; }
run "s3-putcsv moto, assumed role" 1 files mp --profile role
run "s3-putcsv moto, wrong secret" 3 files mp --profile wrong

# --- gecko-fetch: the CoinGecko key ------------------------------------------
gecko_config '{"reset":true}' || bail "replay server reset"
gecko_config "{\"key_mode\":\"demo\",\"require_key\":true,\"demo_key\":\"$GKEY\"}"
G=$COINPIPE_GECKO_URL/api/v3
run "gecko-fetch demo key from the environment" 0 env \
    COINGECKO_DEMO_API_KEY="$GKEY" "$B/gecko-fetch" -vvvv -b "$G" -m bitcoin
printf '%s\n' "$GKEY" >"$T/key"
run "gecko-fetch key file" 0 "$B/gecko-fetch" -vvvv -k "$T/key" -b "$G" bitcoin
run "gecko-fetch wrong key (401)" 3 env COINGECKO_DEMO_API_KEY="$GBAD" \
    "$B/gecko-fetch" -vvvv --retries 1 -b "$G" bitcoin
run "gecko-fetch pro key on the demo root (401)" 3 env \
    COINGECKO_PRO_API_KEY="$GBAD" "$B/gecko-fetch" -vvvv --retries 1 -b "$G" \
    bitcoin
gecko_config '{"faults":[{"kind":"status","path":"/simple/price","count":1,"status":500,"body":"oops"}]}'
run "gecko-fetch 500 then 200" 0 env COINGECKO_DEMO_API_KEY="$GKEY" \
    "$B/gecko-fetch" -vvvv -b "$G" bitcoin
gecko_config '{"faults":[{"kind":"status","path":"/simple/price","count":5,"status":429,"body":"{}"}]}'
run "gecko-fetch 429 exhausted" 4 env COINGECKO_DEMO_API_KEY="$GKEY" \
    "$B/gecko-fetch" -vvvv --retries 1 --max-backoff 1ms -b "$G" bitcoin
gecko_config '{"reset":true}'

# --- argv of the running processes ---------------------------------------------
# Each tool waits on a FIFO while /proc/PID/cmdline is read.
cmdline_ok() {
	_name=$1; shift
	rm -f "$T/fifo"; mkfifo "$T/fifo"
	"$@" <"$T/fifo" >"$T/cl.out" 2>"$T/cl.err" &
	_pid=$!
	exec 3>"$T/fifo"
	# the shell opens the FIFO before it runs the tool: wait for the exec
	_i=0 _cl=
	while [ $_i -lt 100 ]; do
		_cl=$(tr '\0' ' ' <"/proc/$_pid/cmdline" 2>/dev/null)
		case $_cl in *"${1##*/} "*) break ;; esac
		sleep 0.05; _i=$((_i + 1))
	done
	exec 3>&-
	kill -TERM "$_pid" 2>/dev/null	# kin-get -F; the others saw EOF
	{ wait "$_pid"; } 2>/dev/null
	like "$_cl" "${1##*/} " "$_name: cmdline read while it runs"
	_hit=0
	for _s in $SECRETS; do
		case $_cl in *"$_s"*) _hit=1 ;; esac
	done
	ok $_hit "$_name: no secret in /proc/PID/cmdline"
}
cmdline_ok "kin-put" "$B/kin-put" -vvvv --endpoint-url "$KIN" -s "$s"
cmdline_ok "s3-putcsv" "$B/s3-putcsv" -vvvv -o
export COINGECKO_DEMO_API_KEY="$GKEY"
cmdline_ok "gecko-fetch" "$B/gecko-fetch" -vvvv -b "$G" -I -
unset COINGECKO_DEMO_API_KEY
cmdline_ok "kin-get" "$B/kin-get" -vvvv --endpoint-url "$KIN" -s "$s" -n 1000 \
    -f latest -F

# --- files created 0600, even under umask 000 --------------------------------
M=$T/modes
mkdir -p "$M"
(
	umask 000
	cd "$M" || exit 1
	printf '%s\n' "$in" | "$B/kin-put" --endpoint-url "$KIN" -s "$s" \
	    -d kin-put.dl
	"$B/kin-get" --endpoint-url "$KIN" -s "$s" -c kin-get.cp
	bad_start || exit 1
	printf '%s\n' "$in" | "$B/s3-putcsv" --endpoint-url "$BAD_URL" s3://b/p \
	    -C s3.cp -D s3.dl
	bad_stop
	printf '%s\n' "$in" | AWS_MAX_ATTEMPTS=1 "$B/s3-putcsv" \
	    --endpoint-url http://127.0.0.1:9 s3://b/p -S spool
) >"$T/modes.out" 2>"$T/modes.err"
for f in kin-put.dl kin-get.cp s3.cp s3.dl spool/*.ndjson; do
	is "$(stat -c %a "$M"/$f 2>&1)" 600 "umask 000: $f created mode 0600"
done
is "$(stat -c %a "$M/spool")" 700 "umask 000: the spool directory 0700"

# --- plain HTTP to a host that is not loopback ---------------------------------
# The endpoint names a host under .invalid; libcurl sends every request to
# badserver on 127.0.0.1 as an HTTP proxy (http_proxy), so nothing is
# resolved or sent beyond loopback. The signed requests reach badserver with
# that Host, and each AWS tool warns once, before its first request.
bad_start --fault status --status 400 --match 'GetRecords|PutRecords|^PUT ' \
    --body '{"__type":"ValidationException","message":"stop here"}' ||
    bail "badserver"
far=http://kinesis.coinpipe.invalid
warn='requests to kinesis\.coinpipe\.invalid are signed and sent over plain HTTP'
for tool in kin-put kin-get s3-putcsv; do
	case $tool in
	kin-put) set -- "$B/kin-put" -s s ;;
	kin-get) set -- "$B/kin-get" -s s ;;
	s3-putcsv) set -- "$B/s3-putcsv" s3://b/p ;;
	esac
	printf '{"n":1}\n' | http_proxy=$BAD_URL no_proxy= NO_PROXY= \
	    AWS_MAX_ATTEMPTS=1 "$@" --endpoint-url "$far" >"$T/far.out" \
	    2>"$T/far.err"
	like "$(head -n 1 "$T/far.err")" "^$tool: $warn" \
	    "$tool: plain HTTP to a remote host warns first"
	is "$(grep -c 'plain HTTP' "$T/far.err")" 1 "$tool: the warning once"
	printf '{"n":1}\n' | http_proxy=$BAD_URL no_proxy= NO_PROXY= \
	    AWS_MAX_ATTEMPTS=1 "$@" -q --endpoint-url "$far" >"$T/far.out" \
	    2>"$T/far.err"
	is "$(grep -c 'plain HTTP' "$T/far.err")" 0 "$tool -q: no warning"
	"$@" --endpoint-url "http://127.0.0.2:$BAD_PORT" </dev/null \
	    >"$T/far.out" 2>"$T/far.err"
	is "$(grep -c 'plain HTTP' "$T/far.err")" 0 \
	    "$tool: no warning for 127.0.0.2 (loopback)"
done
is "$(bad_count "e['host'] != 'kinesis.coinpipe.invalid' and not e['host'].startswith('127.0.0.2')")" 0 \
    "the requests went to badserver for kinesis.coinpipe.invalid, as a proxy"
ok $(($(bad_count "e['host'] == 'kinesis.coinpipe.invalid'") < 3)) \
    "badserver saw the signed requests of the three tools"
bad_stop

done_testing
