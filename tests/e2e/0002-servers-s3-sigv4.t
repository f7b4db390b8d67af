#!/bin/sh
# moto checks SigV4 on the request target as sent: correct signatures pass
# and wrong ones fail with 403 SignatureDoesNotMatch, for S3 keys holding
# space + = , ; : @ & ( ) ' % é 日本 (getmoto/moto#5948), and for Kinesis.
. "$(dirname "$0")/lib.sh"

b=sig-$U
create_bucket "$b"
ok $? "AWS CLI creates bucket $b on moto"
printf 'a,b\n1,2.492e-05\n' >"$T/up.csv"
aws_moto s3 cp --quiet "$T/up.csv" "s3://$b/raw/csv/x y+z.csv"
ok $? "AWS CLI uploads s3://$b/raw/csv/x y+z.csv"
aws_moto s3 cp --quiet "s3://$b/raw/csv/x y+z.csv" "$T/down.csv"
cmp -s "$T/up.csv" "$T/down.csv"
ok $? "AWS CLI downloads the same bytes"
out=$(env AWS_SECRET_ACCESS_KEY=wrong-secret AWS_MAX_ATTEMPTS=1 aws \
    --endpoint-url "$COINPIPE_MOTO_URL" s3api get-object --bucket "$b" \
    --key "raw/csv/x y+z.csv" "$T/bad.csv" 2>&1)
like "$out" 'SignatureDoesNotMatch' "AWS CLI get-object with a wrong secret: SignatureDoesNotMatch"
out=$(env AWS_SECRET_ACCESS_KEY=wrong-secret AWS_MAX_ATTEMPTS=1 aws \
    --endpoint-url "$COINPIPE_MOTO_URL" kinesis list-streams 2>&1)
like "$out" 'SignatureDoesNotMatch' "AWS CLI Kinesis with a wrong secret: SignatureDoesNotMatch"

pycheck "$b" <<'PY'
import sys, urllib.request, urllib.error
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from e2elib import *
b = sys.argv[1]
s3, bad = client("s3"), client("s3", secret="wrong-secret")
keys = ["space key.csv", "plus+sign", "eq=ual", "com,ma", "semi;colon",
        "co:lon", "at@sign", "amp&ersand", "(paren)", "quote'd", "per%cent",
        "caf\u00e9.csv", "\u65e5\u672c/prices.csv",
        "all +=,;:@&()'% \u00e9\u65e5\u672c.csv", "a/b//c/../d.csv"]
for k in keys:
    body = ("row for " + k).encode()
    st, code = error_of(s3.put_object, Bucket=b, Key=k, Body=body)
    check(st == 200, f"correct signature: put {k!r}", (st, code))
    try:
        got = s3.get_object(Bucket=b, Key=k)["Body"].read()
    except ClientError as e:
        got = e.response["Error"]
    check(got == body, f"correct signature: get {k!r} returns its bytes", got)
    st, code = error_of(bad.get_object, Bucket=b, Key=k)
    check((st, code) == (403, "SignatureDoesNotMatch"),
          f"wrong secret: get {k!r} is 403 SignatureDoesNotMatch", (st, code))
    st, code = error_of(bad.put_object, Bucket=b, Key=k, Body=b"x")
    check((st, code) == (403, "SignatureDoesNotMatch"),
          f"wrong secret: put {k!r} is 403 SignatureDoesNotMatch", (st, code))

# Query strings: prefixes with reserved characters, an encoded '/'.
for prefix in ["all +=,;:@&()'%", "\u65e5\u672c/", "a/b", "caf\u00e9"]:
    try:
        r = s3.list_objects_v2(Bucket=b, Prefix=prefix)
        names = [o["Key"] for o in r.get("Contents", [])]
        check(names and all(n.startswith(prefix) for n in names),
              f"correct signature: list prefix {prefix!r}", names)
    except ClientError as e:
        check(False, f"correct signature: list prefix {prefix!r}", e)
    st, code = error_of(bad.list_objects_v2, Bucket=b, Prefix=prefix)
    check((st, code) == (403, "SignatureDoesNotMatch"),
          f"wrong secret: list prefix {prefix!r} refused", (st, code))

# A signature made for one key must not open another: sign key A, send B.
creds = Credentials(os.environ["AWS_ACCESS_KEY_ID"],
                    os.environ["AWS_SECRET_ACCESS_KEY"])
base = os.environ["COINPIPE_MOTO_URL"]
def signed_get(sign_path, send_path):
    req = AWSRequest(method="GET", url=base + sign_path)
    S3SigV4Auth(creds, "s3", "us-east-1").add_auth(req)
    h = dict(req.headers.items())
    r = urllib.request.Request(base + send_path, headers=h)
    try:
        with urllib.request.urlopen(r) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
p = f"/{b}/plus%2Bsign"
st, body = signed_get(p, p)
check(st == 200, "hand-signed GET of an encoded key passes", (st, body[:200]))
st, body = signed_get(p, f"/{b}/eq%3Dual")
check(st == 403 and b"SignatureDoesNotMatch" in body,
      "signature for one key, sent for another: 403", (st, body[:200]))
st, body = signed_get(f"/{b}?prefix=a%2Fb", f"/{b}?prefix=a%2Fb")
check(st == 200, "hand-signed list with an encoded '/' in the query passes", (st, body[:200]))
st, body = signed_get(f"/{b}?prefix=a%2Fb", f"/{b}?prefix=a%2Fc")
check(st == 403, "signature for one query, sent with another: 403", (st, body[:200]))

# Kinesis and STS on moto check signatures too.
kin, kbad = client("kinesis"), client("kinesis", secret="wrong-secret")
check(error_of(kin.list_streams) == (200, None), "Kinesis: correct signature passes")
st, code = error_of(kbad.list_streams)
check((st, code) == (403, "SignatureDoesNotMatch"),
      "Kinesis: wrong secret is 403 SignatureDoesNotMatch", (st, code))
st, code = error_of(client("kinesis", key="AKIAEXAMPLEUNKNOWN00").list_streams)
check(st == 403, f"Kinesis: unknown access key is refused ({code})", (st, code))
arn = client("sts").get_caller_identity()["Arn"]
check(arn.endswith(":user/coinpipe-test"), f"STS: caller is {arn}")
st, code = error_of(client("sts", secret="wrong-secret").get_caller_identity)
check((st, code) == (403, "SignatureDoesNotMatch"),
      "STS: wrong secret is 403 SignatureDoesNotMatch", (st, code))
done()
PY

done_testing
