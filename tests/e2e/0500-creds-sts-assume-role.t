#!/bin/sh
# Assumed roles against moto's STS with signature checking: source_profile
# (one hop, a chain of two), credential_source = Environment, refresh; each
# ends in a Kinesis or S3 call signed with the role's temporary credentials
# that moto verifies (signature, session token, and the role's own policy:
# a role without one is refused by name). The AWS CLI reads the same files
# and must see the same role.
. "$(dirname "$0")/lib.sh"

probe=$COINPIPE_BIN/tests/creds-probe
acct=$AWS_ACCOUNT_ID
role=cp-$U hop=cp-hop-$U deny=cp-deny-$U bucket=cp-$U

pycheck "$role" "$hop" "$deny" <<'PY'
import json, sys
from e2elib import *
iam = client("iam", os.environ["COINPIPE_MOTO_URL"])
trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]})
allow = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    "Action": "*", "Resource": "*"}]})
for name in sys.argv[1:]:
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)
for name in sys.argv[1:3]:
    iam.put_role_policy(RoleName=name, PolicyName="all", PolicyDocument=allow)
print("ok roles created, the last one without any policy")
PY
create_bucket "$bucket"
ok $? "bucket created"

# The IAM user's keys move from the environment into a profile: with them
# in the environment, source 1 of the chain would win.
cat >"$T/credentials" <<EOF
[base]
aws_access_key_id = $AWS_ACCESS_KEY_ID
aws_secret_access_key = $AWS_SECRET_ACCESS_KEY
[badbase]
aws_access_key_id = $AWS_ACCESS_KEY_ID
aws_secret_access_key = wrong-secret-$U
EOF
cat >"$T/config" <<EOF
[profile role]
role_arn = arn:aws:iam::$acct:role/$role
source_profile = base
[profile hop]
role_arn = arn:aws:iam::$acct:role/$hop
source_profile = base
[profile chain]
role_arn = arn:aws:iam::$acct:role/$role
source_profile = hop
[profile chain-deny]
role_arn = arn:aws:iam::$acct:role/$deny
source_profile = hop
role_session_name = s-$U
[profile envrole]
role_arn = arn:aws:iam::$acct:role/$role
credential_source = Environment
[profile badrole]
role_arn = arn:aws:iam::$acct:role/$role
source_profile = badbase
[profile loop-a]
role_arn = arn:aws:iam::$acct:role/$role
source_profile = loop-b
[profile loop-b]
role_arn = arn:aws:iam::$acct:role/$role
source_profile = loop-a
[profile mfa]
role_arn = arn:aws:iam::$acct:role/$role
source_profile = base
mfa_serial = arn:aws:iam::$acct:mfa/me
EOF
key_id=$AWS_ACCESS_KEY_ID key_secret=$AWS_SECRET_ACCESS_KEY
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
export AWS_CONFIG_FILE=$T/config AWS_SHARED_CREDENTIALS_FILE=$T/credentials
export AWS_ENDPOINT_URL_STS=$COINPIPE_MOTO_URL

out=$("$probe" --profile role --endpoint-url "$COINPIPE_MOTO_URL" 2>"$T/err")
ok $? "source_profile: the signed Kinesis call succeeds"
is "$out" "source: assume role (profile role)
key: ASIA
status: 200" "temporary credentials of the role"

"$probe" --profile role --endpoint-url "$COINPIPE_MOTO_URL" \
    --put "$bucket/by-role" >/dev/null 2>"$T/err"
ok $? "an S3 PutObject signed with the role's credentials"
export AWS_ACCESS_KEY_ID=$key_id AWS_SECRET_ACCESS_KEY=$key_secret
pycheck "$bucket" <<'PY'
import sys
from e2elib import *
s3 = client("s3", os.environ["COINPIPE_MOTO_URL"])
body = s3.get_object(Bucket=sys.argv[1], Key="by-role")["Body"].read()
check(body == b"written by creds-probe\n", "boto3 reads what the role wrote")
done()
PY
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY

out=$("$probe" --profile chain --endpoint-url "$COINPIPE_MOTO_URL" 2>"$T/err")
ok $? "a chain of two roles"
like "$out" "key: ASIA" "ends in temporary credentials"
"$probe" --profile chain-deny --endpoint-url "$COINPIPE_MOTO_URL" \
    >/dev/null 2>"$T/err"
is $? 3 "a chain ending in a role without policy: exit 3"
like "$(cat "$T/err")" "AccessDenied: User: arn:aws:sts::$acct:assumed-role/$deny/s-$U is not authorized" \
    "moto saw the chain's last role, with our session name"

cli=$(AWS_MAX_ATTEMPTS=1 aws --profile chain-deny --endpoint-url \
    "$COINPIPE_MOTO_URL" sts get-caller-identity --query Arn --output text \
    2>"$T/cli.err")
like "$cli" "^arn:aws:sts::$acct:assumed-role/$deny/s-$U$" \
    "the AWS CLI reads the same files as the same role"

out=$(AWS_ACCESS_KEY_ID=$key_id AWS_SECRET_ACCESS_KEY=$key_secret \
    "$probe" --profile envrole --endpoint-url "$COINPIPE_MOTO_URL" 2>"$T/err")
ok $? "credential_source = Environment"
is "$out" "source: assume role (profile envrole)
key: ASIA
status: 200" "the environment's keys assumed the role"

out=$("$probe" --profile role --endpoint-url "$COINPIPE_MOTO_URL" \
    --refresh 2>"$T/err")
ok $? "refresh"
is "$out" "source: assume role (profile role)
key: ASIA
status: 200
refreshed: yes
status: 200" "a due refresh assumes the role again; the new keys work"

"$probe" --profile badrole --endpoint-url "$COINPIPE_MOTO_URL" \
    >/dev/null 2>"$T/err"
is $? 3 "a source with a wrong secret: exit 3"
like "$(cat "$T/err")" "^creds-probe: profile \"badrole\": AssumeRole arn:aws:iam::$acct:role/$role: HTTP 403 SignatureDoesNotMatch" \
    "moto checked the AssumeRole signature"
grep -q "wrong-secret" "$T/err"
is $? 1 "the wrong secret is not printed"

"$probe" --profile loop-a --endpoint-url "$COINPIPE_MOTO_URL" \
    >/dev/null 2>"$T/err"
is $? 3 "a loop: exit 3"
is "$(cat "$T/err")" "creds-probe: profile \"loop-a\": source_profile loop: loop-a -> loop-b -> loop-a" \
    "the loop is named"

"$probe" --profile mfa --endpoint-url "$COINPIPE_MOTO_URL" \
    >/dev/null 2>"$T/err"
is $? 3 "mfa_serial: exit 3"
like "$(cat "$T/err")" "mfa_serial is set, but an MFA code cannot be asked for in a pipeline" \
    "mfa_serial is refused, not prompted for"

done_testing
