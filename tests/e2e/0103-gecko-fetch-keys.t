#!/bin/sh
# gecko-fetch: Demo and Pro keys from the environment or --api-key-file,
# the wrong key type (10010/10011), a missing key (10002), and a key that
# never shows on stdout or stderr, not even in the -vvv trace.
. "$(dirname "$0")/lib.sh"
unset COINGECKO_DEMO_API_KEY COINGECKO_PRO_API_KEY
GF=$COINPIPE_BIN/gecko-fetch
B=$COINPIPE_GECKO_URL/api/v3
DEMO=CG-demo-test-key PRO=CG-pro-test-key
gecko_config '{"reset":true}' || bail "replay server reset"

# Demo root that requires a key.
gecko_config '{"key_mode":"demo","require_key":true}'
"$GF" -b "$B" bitcoin >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 3 "no key where one is required: exit 3"
is "$(sed 's/poll [^ ]*Z:/poll TS:/' "$T/err")" "gecko-fetch: poll TS: /simple/price: HTTP 401 error 10002: API Key Missing. Please make sure you're using the right authentication method. For Pro API, ensure you pass in x_cg_pro_api_key parameter with a Pro Key and for Demo API, ensure you pass in x_cg_demo_api_key parameter with a Demo Key.; this endpoint needs a key: set COINGECKO_DEMO_API_KEY or COINGECKO_PRO_API_KEY, or use --api-key-file with --plan" \
    "10002: one line that says what to set"

COINGECKO_DEMO_API_KEY=$DEMO "$GF" -vvv -b "$B" bitcoin >"$T/out" 2>"$T/err"
rc=$?
is "$rc" 0 "COINGECKO_DEMO_API_KEY: accepted"
like "$(cat "$T/out")" '"crypto":"bitcoin"' "COINGECKO_DEMO_API_KEY: a record"
like "$(cat "$T/err")" 'x-cg-demo-api-key: REDACTED' \
    "-vvv: the key header is traced, its value redacted"
grep -q -- "$DEMO" "$T/out" "$T/err"; is $? 1 "-vvv: the key appears nowhere"

# A Pro key in the Demo variable: 10010 says to switch plans.
COINGECKO_DEMO_API_KEY=$PRO "$GF" -b "$B" bitcoin >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 3 "Pro key on the Demo root: exit 3"
like "$(cat "$T/err")" 'HTTP 401 error 10010: .*; the key is not valid on the Demo root: check it for typos or revocation, or if it is a Pro key use --plan pro \(or COINGECKO_PRO_API_KEY instead of COINGECKO_DEMO_API_KEY\)$' \
    "10010: says what to change"
is "$(wc -l <"$T/err" | tr -d ' ')" 1 "10010: one line"
grep -q -- "$PRO" "$T/out" "$T/err"; is $? 1 "10010: the key is not printed"

# --api-key-file: first line, trailing newline and blanks ignored.
printf '%s  \n' "$DEMO" >"$T/key"
"$GF" -b "$B" --api-key-file "$T/key" bitcoin >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 0 "--api-key-file: Demo by default"
: >"$T/empty"
"$GF" -b "$B" --api-key-file "$T/empty" bitcoin >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 3 "--api-key-file with no key: exit 3"
like "$(cat "$T/err")" "^gecko-fetch: $T/empty: no key on the first line$" \
    "--api-key-file with no key: says so"

# Pro root.
gecko_config '{"reset":true}'
gecko_config '{"key_mode":"pro"}'
COINGECKO_PRO_API_KEY=$PRO "$GF" -b "$B" bitcoin >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 0 "COINGECKO_PRO_API_KEY: the Pro plan, accepted"
COINGECKO_DEMO_API_KEY=$DEMO COINGECKO_PRO_API_KEY=$PRO "$GF" -v -b "$B" \
    bitcoin >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 0 "both keys set: Pro wins"
like "$(head -n 1 "$T/err")" '^gecko-fetch: plan pro, ' "-v: names the plan"
printf '%s\n' "$PRO" >"$T/key"
"$GF" -b "$B" --plan pro --api-key-file "$T/key" bitcoin >"$T/out" \
    2>"$T/err"; rc=$?
is "$rc" 0 "--plan pro --api-key-file: accepted"
COINGECKO_DEMO_API_KEY=$DEMO COINGECKO_PRO_API_KEY=$PRO "$GF" -b "$B" \
    --plan demo bitcoin >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 3 "Demo key on the Pro root: exit 3"
like "$(cat "$T/err")" 'HTTP 401 error 10011: .*; the Demo key went to the Pro root: check --base-url \(Demo is https://api.coingecko.com/api/v3\)$' \
    "10011: says what to change"
printf '%s\n' "$DEMO" >"$T/key"
"$GF" -b "$B" --plan pro --api-key-file "$T/key" bitcoin >"$T/out" \
    2>"$T/err"; rc=$?
is "$rc" 3 "a wrong Pro key: exit 3"
grep -q -- "$DEMO" "$T/out" "$T/err"; is $? 1 "a wrong key is not printed"
"$GF" -b "$B" --plan pro bitcoin >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 3 "--plan pro without a key: exit 3"
is "$(cat "$T/err")" "gecko-fetch: --plan pro needs a key: set COINGECKO_PRO_API_KEY or use --api-key-file" \
    "--plan pro without a key: says what to set"
stats=$(curl -s "$COINPIPE_GECKO_URL/__stats")
gecko_config '{"reset":true}'
done_testing
