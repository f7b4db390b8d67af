#!/bin/sh
# Web identity (EKS IRSA): AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, and the
# same in a profile, against moto's STS; the credentials it returns sign a
# Kinesis call that moto verifies (signature, session token, role policy).
#
# AssumeRoleWithWebIdentity is unsigned, and moto 5.2.1 with authentication
# on cannot serve an unsigned request (it looks up the Authorization header
# and answers 500). So each exchange runs in a window of exactly one
# unauthenticated request (POST /moto-api/reset-auth "1": moto's
# INITIAL_NO_AUTH_ACTION_COUNT), closed again right after ("0"). The call
# signed with the returned credentials comes after the window and is checked.
# That the exchange carries no Authorization header is tested in
# tests/unit/test_creds_sts.c; here: moto's real answer parses, and the
# credentials are those of the role and session we named.
. "$(dirname "$0")/lib.sh"

probe=$COINPIPE_BIN/tests/creds-probe
acct=$AWS_ACCOUNT_ID
role=cp-wi-$U deny=cp-wi-deny-$U

pycheck "$role" "$deny" <<'PY'
import json, sys
from e2elib import *
iam = client("iam", os.environ["COINPIPE_MOTO_URL"])
trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/x"},
    "Action": "sts:AssumeRoleWithWebIdentity"}]})
allow = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    "Action": "*", "Resource": "*"}]})
for name in sys.argv[1:]:
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)
iam.put_role_policy(RoleName=sys.argv[1], PolicyName="all",
                    PolicyDocument=allow)
print("ok roles created")
PY

auth_window() {
	curl -s -f -X POST -H 'Content-Type: text/plain' --data "$1" \
	    "$COINPIPE_MOTO_URL/moto-api/reset-auth" >/dev/null
}

# probe ARGS: one probe run inside a one-request window.
probe_wi() {
	auth_window 1 || return 99
	"$probe" "$@" --endpoint-url "$COINPIPE_MOTO_URL" >"$T/out" 2>"$T/err"
	_rc=$?
	auth_window 0 || return 99
	return $_rc
}

printf 'eyJhbGciOiJSUzI1NiJ9.e2e-%s.sig\n' "$U" >"$T/token"
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
export AWS_CONFIG_FILE=$T/config AWS_SHARED_CREDENTIALS_FILE=$T/none
export AWS_ENDPOINT_URL_STS=$COINPIPE_MOTO_URL
: >"$T/config"

export AWS_WEB_IDENTITY_TOKEN_FILE=$T/token
export AWS_ROLE_ARN=arn:aws:iam::$acct:role/$role
export AWS_ROLE_SESSION_NAME=pod-$U
probe_wi
ok $? "environment: the signed Kinesis call succeeds"
is "$(cat "$T/out")" "source: web identity (environment)
key: ASIA
status: 200" "temporary credentials from AssumeRoleWithWebIdentity"

export AWS_ROLE_ARN=arn:aws:iam::$acct:role/$deny
probe_wi
is $? 3 "a role without policy: exit 3"
like "$(cat "$T/err")" "AccessDenied: User: arn:aws:sts::$acct:assumed-role/$deny/pod-$U is not authorized" \
    "moto saw our role and AWS_ROLE_SESSION_NAME"

# the window is closed again: the unsigned call is refused by moto
"$probe" --endpoint-url "$COINPIPE_MOTO_URL" >/dev/null 2>"$T/err"
ok $(($? == 0)) "without the window moto cannot serve it (so the window matters)"

unset AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN AWS_ROLE_SESSION_NAME
cat >"$T/config" <<EOF
[profile wi]
role_arn = arn:aws:iam::$acct:role/$role
web_identity_token_file = $T/token
[profile gone]
role_arn = arn:aws:iam::$acct:role/$role
web_identity_token_file = $T/no-such-token
EOF
probe_wi --profile wi
ok $? "profile web_identity_token_file: the signed call succeeds"
is "$(cat "$T/out")" "source: web identity (profile wi)
key: ASIA
status: 200" "temporary credentials from the profile's settings"

probe_wi --profile gone
is $? 3 "a missing token file: exit 3"
is "$(cat "$T/err")" "creds-probe: web identity (web_identity_token_file): $T/no-such-token: No such file or directory" \
    "says which file"

done_testing
