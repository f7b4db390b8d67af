#!/bin/sh
# gecko-fetch: the client-side limiter keeps a poll under the server's rate
# limit; without it the same poll runs into 429s.
. "$(dirname "$0")/lib.sh"
unset COINGECKO_DEMO_API_KEY COINGECKO_PRO_API_KEY
GF=$COINPIPE_BIN/gecko-fetch
B=$COINPIPE_GECKO_URL/api/v3
gecko_config '{"reset":true}' || bail "replay server reset"
status_count() {
	curl -s "$COINPIPE_GECKO_URL/__stats" | python3 -c \
	    'import json, sys; print(json.load(sys.stdin)["by_status"].get(sys.argv[1], 0))' "$1"
}

# 3000 coins: /coins/list and several /simple/price calls, against a server
# that answers at most 2 calls a second.
gecko_config '{"coins":3000,"rate_limit":2,"rate_window":1}'
"$GF" -v -b "$B" --rate 2/s --retries 0 --all >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 1 "--rate 2/s: the poll completes (exit 1: null prices)"
like "$(head -n 1 "$T/err")" '^gecko-fetch: plan public, .*, 2 calls/s$' \
    "-v: names the limit"
ncalls=$(sed -n 's/^gecko-fetch: .* coins, \([0-9]*\) calls a poll$/\1/p' "$T/err")
[ "${ncalls:-0}" -ge 4 ]; ok $? "the poll needs several calls ($ncalls)"
is "$(status_count 429)" 0 "--rate 2/s: no 429 from the server"
is "$(status_count 200)" $((ncalls + 1)) "--rate 2/s: every call answered"

# The same without a matching limit: the server refuses.
gecko_config '{"reset_stats":true,"rate_limit":2,"rate_window":1}'
"$GF" -q -b "$B" --rate 1000 --retries 0 --all >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 4 "--rate 1000 against 2/s: the poll fails (exit 4)"
[ "$(status_count 429)" -ge 1 ]; ok $? "--rate 1000: the server answered 429"
like "$(cat "$T/err")" 'HTTP 429: ' "--rate 1000: the 429 is reported"
gecko_config '{"reset":true}'
done_testing
