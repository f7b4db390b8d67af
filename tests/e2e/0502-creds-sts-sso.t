#!/bin/sh
# IAM Identity Center (SSO): a profile with sso_session (and a legacy one
# with sso_start_url), the token `aws sso login` would have cached under
# ~/.aws/sso/cache/SHA1.json, and the portal's GetRoleCredentials. A token
# near its end is refreshed with SSO OIDC CreateToken (refresh_token grant)
# and the cache rewritten (0600), which the AWS CLI then reads; a refused
# refresh token is one line saying to log in.
# moto has no SSO portal, so a small stub plays it: it checks the path,
# the query and the x-amz-sso_bearer_token header, and answers with real
# temporary credentials it gets from moto's STS for the role named, so the
# Kinesis call signed with them is verified by moto. The AWS CLI, given the
# same files and cache, must reach the same role (an independent check of
# the cache file name and the [sso-session] reading).
. "$(dirname "$0")/lib.sh"

probe=$COINPIPE_BIN/tests/creds-probe
acct=$AWS_ACCOUNT_ID
role=cp-sso-$U deny=cp-sso-deny-$U

pycheck "$role" "$deny" <<'PY'
import json, sys
from e2elib import *
iam = client("iam", os.environ["COINPIPE_MOTO_URL"])
trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]})
allow = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    "Action": "*", "Resource": "*"}]})
for name in sys.argv[1:]:
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)
iam.put_role_policy(RoleName=sys.argv[1], PolicyName="all",
                    PolicyDocument=allow)
print("ok roles created")
PY

cat >"$T/portal.py" <<'PY'
"""A stand-in for portal.sso.REGION.amazonaws.com: GetRoleCredentials only."""
import json, os, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs
import boto3

port_file, log_file, good_token = sys.argv[1:4]
sts = boto3.client("sts", endpoint_url=os.environ["COINPIPE_MOTO_URL"],
                   region_name="us-east-1")

# tokens the portal accepts: the logged-in one, then each refresh's
tokens = {good_token}
refresh = {"current": "sso-refresh-" + good_token, "n": 0}
CLIENT = ("client-id-" + good_token, "client-secret-" + good_token)

class Portal(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, doc):
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        """SSO OIDC CreateToken, the refresh_token grant."""
        n = int(self.headers.get("Content-Length", "0"))
        try:
            req = json.loads(self.rfile.read(n))
        except ValueError:
            req = {}
        good = (self.path == "/token" and req.get("grantType") == "refresh_token"
                and (req.get("clientId"), req.get("clientSecret")) == CLIENT
                and req.get("refreshToken") == refresh["current"])
        with open(log_file, "a") as f:
            f.write(json.dumps({"path": self.path, "grant": req.get("grantType"),
                                "refresh_ok": good,
                                "signed": "Authorization" in self.headers})
                    + "\n")
        if not good:
            return self.answer(400, {"error": "invalid_grant",
                                     "error_description": "Invalid grant provided"})
        refresh["n"] += 1
        new = "%s-r%d" % (good_token, refresh["n"])
        tokens.add(new)
        refresh["current"] = "sso-refresh-" + new
        self.answer(200, {"accessToken": new, "expiresIn": 3600,
                          "refreshToken": refresh["current"],
                          "tokenType": "Bearer"})

    def do_GET(self):
        url = urlsplit(self.path)
        q = parse_qs(url.query)
        token = self.headers.get("x-amz-sso_bearer_token")
        with open(log_file, "a") as f:
            f.write(json.dumps({"path": url.path, "query": q,
                                "token_ok": token in tokens, "token": token,
                                "signed": "Authorization" in self.headers})
                    + "\n")
        if url.path != "/federation/credentials" or token not in tokens:
            return self.answer(401, {"message": "Session token not found "
                "or invalid", "__type": "com.amazonaws.switchboard.portal"
                "#UnauthorizedException"})
        account, role = q["account_id"][0], q["role_name"][0]
        c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{role}",
                            RoleSessionName="sso-" + account)["Credentials"]
        self.answer(200, {"roleCredentials": {
            "accessKeyId": c["AccessKeyId"],
            "secretAccessKey": c["SecretAccessKey"],
            "sessionToken": c["SessionToken"],
            "expiration": int(c["Expiration"].timestamp() * 1000)}})

server = ThreadingHTTPServer(("127.0.0.1", 0), Portal)
with open(port_file + ".tmp", "w") as f:
    f.write(f"{server.server_address[1]}\n")
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
PY

good=sso-access-token-$U
"${PYTHON:-python3}" "$T/portal.py" "$T/portal.port" "$T/portal.log" \
    "$good" >"$T/portal.out" 2>&1 &
portal=$!
trap 'kill "$portal" 2>/dev/null; wait "$portal" 2>/dev/null; _lib_cleanup' EXIT
i=0
while [ ! -s "$T/portal.port" ] && [ $i -lt 100 ]; do
	sleep 0.1; i=$((i + 1))
done
[ -s "$T/portal.port" ] || bail "portal stub did not start: $(cat "$T/portal.out")"
: >"$T/portal.log"

home=$T/home
mkdir -p "$home/.aws/sso/cache"
cat >"$T/config" <<EOF
[profile sso]
sso_session = corp
sso_account_id = $acct
sso_role_name = $role
[profile sso-deny]
sso_session = corp
sso_account_id = $acct
sso_role_name = $deny
[sso-session corp]
sso_start_url = https://corp-$U.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access
[profile legacy]
sso_start_url = https://legacy-$U.awsapps.com/start
sso_region = us-east-1
sso_account_id = $acct
sso_role_name = $role
[profile sso-role]
role_arn = arn:aws:iam::$acct:role/$deny
role_session_name = via-sso-$U
source_profile = sso
EOF
# the cache file `aws sso login` writes; its name computed here, not by us
cache() {
	"${PYTHON:-python3}" - "$home/.aws/sso/cache" "$1" "$2" "$3" <<'PY'
import hashlib, json, sys, os
d, name, token, expires = sys.argv[1:]
path = os.path.join(d, hashlib.sha1(name.encode()).hexdigest() + ".json")
with open(path, "w") as f:
    json.dump({"startUrl": "https://x", "region": "us-east-1",
               "accessToken": token, "expiresAt": expires}, f)
PY
}
later=$(date -u -d '+8 hours' +%Y-%m-%dT%H:%M:%SZ)
cache corp "$good" "$later"
cache "https://legacy-$U.awsapps.com/start" "$good" \
    "$(date -u -d '+8 hours' +%Y-%m-%dT%H:%M:%SUTC)"

unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
export HOME=$home AWS_CONFIG_FILE=$T/config AWS_SHARED_CREDENTIALS_FILE=$T/none
export AWS_ENDPOINT_URL_SSO=http://127.0.0.1:$(cat "$T/portal.port")
export AWS_ENDPOINT_URL_SSO_OIDC=$AWS_ENDPOINT_URL_SSO
export AWS_ENDPOINT_URL_STS=$COINPIPE_MOTO_URL

out=$("$probe" --profile sso --endpoint-url "$COINPIPE_MOTO_URL" 2>"$T/err")
ok $? "sso_session profile: the signed Kinesis call succeeds"
is "$out" "source: sso (profile sso)
key: ASIA
status: 200" "role credentials from the portal"
pycheck "$T/portal.log" "$acct" "$role" <<'PY'
import json, sys
from e2elib import *
log = [json.loads(l) for l in open(sys.argv[1])]
check(len(log) == 1, "one portal call")
e = log[0]
check(e["path"] == "/federation/credentials", "GetRoleCredentials path")
check(e["query"] == {"account_id": [sys.argv[2]], "role_name": [sys.argv[3]]},
      "account_id and role_name")
check(e["token_ok"], "the cached token as x-amz-sso_bearer_token")
check(not e["signed"], "no SigV4")
done()
PY

"$probe" --profile sso-deny --endpoint-url "$COINPIPE_MOTO_URL" \
    >/dev/null 2>"$T/err"
is $? 3 "a role without policy: exit 3"
like "$(cat "$T/err")" "AccessDenied: User: arn:aws:sts::$acct:assumed-role/$deny/sso-$acct is not authorized" \
    "moto saw the portal's role"

out=$("$probe" --profile legacy --endpoint-url "$COINPIPE_MOTO_URL" 2>"$T/err")
ok $? "legacy profile (token cached by start URL)"
like "$out" "status: 200" "its call is verified"

"$probe" --profile sso-role --endpoint-url "$COINPIPE_MOTO_URL" \
    >/dev/null 2>"$T/err"
is $? 3 "a role assumed with SSO credentials, lacking policy: exit 3"
like "$(cat "$T/err")" "assumed-role/$deny/via-sso-$U is not authorized" \
    "AssumeRole signed with the SSO credentials passed moto's check"

cli=$(AWS_MAX_ATTEMPTS=1 aws --profile sso --endpoint-url \
    "$COINPIPE_MOTO_URL" sts get-caller-identity --query Arn --output text \
    2>"$T/cli.err")
like "$cli" "^arn:aws:sts::$acct:assumed-role/$role/sso-$acct$" \
    "the AWS CLI finds the same cache file and role"
[ -n "$cli" ] || diag "aws: $(tail -n 3 "$T/cli.err")"

: >"$T/portal.log"
cache corp "$good" "$(date -u -d '-1 minute' +%Y-%m-%dT%H:%M:%SZ)"
"$probe" --profile sso --endpoint-url "$COINPIPE_MOTO_URL" \
    >/dev/null 2>"$T/err"
is $? 3 "an expired token: exit 3"
is "$(cat "$T/err")" "creds-probe: the SSO session has expired: run aws sso login --profile sso" \
    "says to log in again"
is "$(wc -l <"$T/portal.log" | tr -d ' ')" 0 "the portal was not asked"

cache corp "revoked-$U" "$later"
"$probe" --profile sso --endpoint-url "$COINPIPE_MOTO_URL" \
    >/dev/null 2>"$T/err"
is $? 3 "a token the portal refuses (401): exit 3"
is "$(cat "$T/err")" "creds-probe: the SSO session has expired: run aws sso login --profile sso" \
    "the same advice"

# A token near its end, with what a refresh needs (aws sso login writes
# clientId, clientSecret, registrationExpiresAt and refreshToken).
cache_refreshable() {
	"${PYTHON:-python3}" - "$home/.aws/sso/cache" corp "$1" "$2" "$3" "$good" <<'PY'
import hashlib, json, sys, os
d, name, expires, refresh, registration, good = sys.argv[1:]
path = os.path.join(d, hashlib.sha1(name.encode()).hexdigest() + ".json")
with open(path, "w") as f:
    json.dump({"startUrl": "https://corp", "region": "us-east-1",
               "accessToken": "old-" + good, "expiresAt": expires,
               "clientId": "client-id-" + good,
               "clientSecret": "client-secret-" + good,
               "registrationExpiresAt": registration,
               "refreshToken": refresh}, f)
print(path)
PY
}
: >"$T/portal.log"
cpath=$(cache_refreshable "$(date -u -d '-1 minute' +%Y-%m-%dT%H:%M:%SZ)" \
    "sso-refresh-$good" "$later")
chmod 644 "$cpath"
out=$("$probe" --profile sso --endpoint-url "$COINPIPE_MOTO_URL" 2>"$T/err")
ok $? "an expired token with a refresh token: refreshed, the call succeeds"
[ -s "$T/err" ] && diag "$(cat "$T/err")"
like "$out" "status: 200" "the refreshed token's role credentials are verified"
pycheck "$T/portal.log" "$cpath" "$good" <<'PY'
import json, sys, os, stat, datetime
from e2elib import *
log = [json.loads(l) for l in open(sys.argv[1])]
path, good = sys.argv[2:4]
check([e["path"] for e in log] == ["/token", "/federation/credentials"],
      "one CreateToken, then GetRoleCredentials", log)
check(log and log[0]["grant"] == "refresh_token" and log[0]["refresh_ok"]
      and not log[0]["signed"], "the refresh_token grant, unsigned", log[:1])
check(len(log) > 1 and log[1].get("token") == good + "-r1",
      "the portal got the new token", log[1:])
c = json.load(open(path))
check(c["accessToken"] == good + "-r1" and c["refreshToken"] == "sso-refresh-" + good + "-r1",
      "the cache holds the new token and refresh token")
left = (datetime.datetime.strptime(c["expiresAt"], "%Y-%m-%dT%H:%M:%SZ")
        .replace(tzinfo=datetime.timezone.utc) - datetime.datetime.now(datetime.timezone.utc))
check(3500 < left.total_seconds() <= 3600, "expiresAt an hour on", c["expiresAt"])
check(c["clientId"] == "client-id-" + good and c["startUrl"] == "https://corp",
      "the cache's other members kept")
check(stat.S_IMODE(os.stat(path).st_mode) == 0o600, "the cache rewritten 0600")
check(not [f for f in os.listdir(os.path.dirname(path)) if ".tmp." in f],
      "no temporary file left")
done()
PY
cli=$(AWS_MAX_ATTEMPTS=1 aws --profile sso --endpoint-url \
    "$COINPIPE_MOTO_URL" sts get-caller-identity --query Arn --output text \
    2>"$T/cli.err")
like "$cli" "^arn:aws:sts::$acct:assumed-role/$role/" \
    "the AWS CLI reads the rewritten cache and reaches the same role"
[ -n "$cli" ] || diag "aws: $(tail -n 3 "$T/cli.err")"

# the session itself has ended: the portal refuses the refresh token
cache_refreshable "$(date -u -d '-1 minute' +%Y-%m-%dT%H:%M:%SZ)" \
    "sso-refresh-revoked-$U" "$later" >/dev/null
"$probe" --profile sso --endpoint-url "$COINPIPE_MOTO_URL" \
    >/dev/null 2>"$T/err"
is $? 3 "a refused refresh token: exit 3"
is "$(cat "$T/err")" "creds-probe: the SSO session has ended (its refresh token was refused): run aws sso login --profile sso" \
    "one line: log in again"
# a client registration that expired: nothing to refresh with
cache_refreshable "$(date -u -d '-1 minute' +%Y-%m-%dT%H:%M:%SZ)" \
    "sso-refresh-$good-r1" "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)" >/dev/null
"$probe" --profile sso --endpoint-url "$COINPIPE_MOTO_URL" \
    >/dev/null 2>"$T/err"
is "$(cat "$T/err")" "creds-probe: the SSO session has expired: run aws sso login --profile sso" \
    "an expired registration: log in again"
# still valid but near its end, and the refresh fails: the old token serves
: >"$T/portal.log"
cache_refreshable "$(date -u -d '+5 minutes' +%Y-%m-%dT%H:%M:%SZ)" \
    "sso-refresh-revoked-$U" "$later" >/dev/null
"${PYTHON:-python3}" - "$home/.aws/sso/cache" "$good" <<'PY'
import glob, json, sys
for p in glob.glob(sys.argv[1] + "/*.json"):
    c = json.load(open(p)); c["accessToken"] = sys.argv[2]; json.dump(c, open(p, "w"))
PY
"$probe" --profile sso --endpoint-url "$COINPIPE_MOTO_URL" >/dev/null 2>"$T/err"
ok $? "a failed refresh of a token still valid: the old token serves"

rm -f "$home"/.aws/sso/cache/*.json
"$probe" --profile sso --endpoint-url "$COINPIPE_MOTO_URL" \
    >/dev/null 2>"$T/err"
is $? 3 "no cached token: exit 3"
like "$(cat "$T/err")" "^creds-probe: profile \"sso\": no SSO token in $home/.aws/sso/cache/[0-9a-f]{40}\\.json: run aws sso login --profile sso$" \
    "says where it looked"

done_testing
