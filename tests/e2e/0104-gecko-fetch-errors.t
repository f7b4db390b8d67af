#!/bin/sh
# gecko-fetch: 429 with and without Retry-After, retries running out,
# Cloudflare's HTML 403, every JSON error shape, 5xx, dropped and stalled
# connections, a 200 that is not JSON. Each failure is one line.
. "$(dirname "$0")/lib.sh"
unset COINGECKO_DEMO_API_KEY COINGECKO_PRO_API_KEY
GF=$COINPIPE_BIN/gecko-fetch
B=$COINPIPE_GECKO_URL/api/v3
gecko_config '{"reset":true}' || bail "replay server reset"
status_count() {
	curl -s "$COINPIPE_GECKO_URL/__stats" | python3 -c \
	    'import json, sys; print(json.load(sys.stdin)["by_status"].get(sys.argv[1], 0))' "$1"
}
strip_ts() { sed 's/poll [^ ]*Z:/poll TS:/' "$1"; }
RATE_MSG="HTTP 429: You've exceeded the Rate Limit. Please visit https://www.coingecko.com/en/api/pricing to subscribe to our API plans for higher rate limits."

# 429 with Retry-After: 1 call a second on the server; 2 calls needed.
gecko_config '{"rate_limit":1,"rate_window":1,"retry_after":1}'
"$GF" -b "$B" --top 5 >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 0 "429 with Retry-After: exit 0 after the retry"
is "$(wc -l <"$T/out" | tr -d ' ')" 5 "429 with Retry-After: every record"
is "$(cat "$T/err")" "gecko-fetch: /simple/price: $RATE_MSG; retrying in 1000 ms" \
    "429 with Retry-After: waits exactly what the server asked"
is "$(status_count 429)" 1 "429 with Retry-After: one 429 seen by the server"

# 429 without Retry-After: back off towards the next minute, capped here.
gecko_config '{"reset":true}'
gecko_config '{"rate_limit":1,"rate_window":1}'
"$GF" -b "$B" --top 5 --max-backoff 1500ms >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 0 "429 without Retry-After: exit 0 after the backoff"
is "$(wc -l <"$T/out" | tr -d ' ')" 5 "429 without Retry-After: every record"
like "$(cat "$T/err")" "^gecko-fetch: /simple/price: $(printf '%s' "$RATE_MSG" | sed 's/[.?()]/\\&/g'); retrying in (1[0-4][0-9][0-9]|1500|[0-9]{1,3}) ms$" \
    "429 without Retry-After: a jittered wait within --max-backoff"

# A Retry-After longer than --max-backoff is cut to it (it had no cap).
gecko_config '{"reset":true}'
gecko_config '{"rate_limit":1,"rate_window":1,"retry_after":3600}'
"$GF" -b "$B" --top 5 --max-backoff 1500ms >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 0 "Retry-After: 3600: exit 0 after a capped wait"
is "$(cat "$T/err")" "gecko-fetch: /simple/price: $RATE_MSG; retrying in 1500 ms" \
    "Retry-After: 3600 waits --max-backoff, not an hour"

# Retries run out: exit 4, one line.
gecko_config '{"reset":true}'
gecko_config '{"rate_limit":1,"rate_window":30,"retry_after":1}'
"$GF" -b "$B" --top 5 --retries 1 >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 4 "429 until retries run out: exit 4"
is "$(strip_ts "$T/err" | tail -n 1)" "gecko-fetch: poll TS: /simple/price: $RATE_MSG" \
    "429 until retries run out: the last line says why"
is "$(status_count 429)" 2 "--retries 1: two attempts"

# Cloudflare's HTML 403: not retried, one line, exit 3.
gecko_config '{"reset":true}'
gecko_config '{"faults":[{"kind":"html403","path":"simple/price","count":1}]}'
"$GF" -b "$B" bitcoin >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 3 "HTML 403: exit 3"
is "$(strip_ts "$T/err")" "gecko-fetch: poll TS: /simple/price: HTTP 403: refused by CoinGecko's CDN (HTML page: \"Attention Required! | Cloudflare\"); this address or client is blocked or throttled, wait or change network" \
    "HTML 403: one clear line"

# {"error":{"status":{...}}}
gecko_config '{"reset":true}'
gecko_config '{"faults":[{"kind":"status","status":401,"path":"simple/price","count":1,"body":"{\"error\":{\"status\":{\"error_code\":10010,\"error_message\":\"You have provided incorrect API key credentials.\"}}}"}]}'
"$GF" -b "$B" bitcoin >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 3 "nested error shape: exit 3"
is "$(strip_ts "$T/err")" "gecko-fetch: poll TS: /simple/price: HTTP 401 error 10010: You have provided incorrect API key credentials.; the key is not valid on the Demo root: check it for typos or revocation, or if it is a Pro key use --plan pro (or COINGECKO_PRO_API_KEY instead of COINGECKO_DEMO_API_KEY)" \
    "nested error shape: one line"

# {"error":"..."} from /coins/markets
gecko_config '{"reset":true}'
"$GF" -b "$B" --top 5 --vs zzz >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 3 "flat error shape: exit 3"
is "$(cat "$T/err")" "gecko-fetch: /coins/markets: HTTP 400: invalid vs_currency" \
    "flat error shape: one line"

# A dropped connection, then 500: both retried. (The drop comes first:
# on a kept-alive connection libcurl itself would retry it silently.)
gecko_config '{"faults":[{"kind":"drop","path":"simple/price","count":1},{"kind":"status","status":500,"path":"simple/price","count":1}]}'
"$GF" -b "$B" bitcoin >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 0 "a dropped connection then 500: exit 0"
like "$(sed -n 1p "$T/err")" '^gecko-fetch: /simple/price: .*; retrying in [0-9]+ ms$' \
    "dropped connection: retried"
like "$(sed -n 2p "$T/err")" '^gecko-fetch: /simple/price: HTTP 500: injected 500; retrying in [0-9]+ ms$' \
    "500: retried"
like "$(cat "$T/out")" '"crypto":"bitcoin"' "the record arrives in the end"

# A stalled answer: --timeout, then a retry.
gecko_config '{"reset":true}'
gecko_config '{"faults":[{"kind":"stall","seconds":4,"path":"simple/price","count":1}]}'
"$GF" -b "$B" --timeout 1s bitcoin >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 0 "stalled answer: exit 0 after a retry"
is "$(wc -l <"$T/err" | tr -d ' ')" 1 "stalled answer: one retry line"

# A 200 that is not the JSON CoinGecko sends.
gecko_config '{"reset":true}'
gecko_config '{"faults":[{"kind":"status","status":200,"path":"simple/price","count":1,"body":"<html>maintenance</html>"}]}'
"$GF" -b "$B" bitcoin >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 4 "200 with HTML: exit 4"
is "$(strip_ts "$T/err")" "gecko-fetch: poll TS: /simple/price: invalid JSON: '{' expected at byte 0" \
    "200 with HTML: one line"
gecko_config '{"reset":true}'
done_testing
