#!/bin/sh
# The CoinGecko replay server: validation, exact number text, key checks,
# rate limit with the real 429 body, pagination, Cloudflare 403, stall,
# moving prices, and call counting.
. "$(dirname "$0")/lib.sh"
G=$COINPIPE_GECKO_URL/api/v3
fx=$COINPIPE_TOP/tests/fixtures/coingecko
gecko_config '{"reset":true}' || bail "gecko /__config"

get() {	# URL [curl args]: prints "STATUS BODY"
	_u=$1; shift
	curl -s -o "$T/body" -D "$T/head" -w '%{http_code}' "$@" "$_u" >"$T/code"
	echo "$(cat "$T/code") $(cat "$T/body")"
}

is "$(get "$G/ping")" "200 $(cat "$fx/ping.json")" "ping answers the fixture body"
r=$(get "$G/simple/price?ids=bitcoin")
is "$r" '400 {"error":"Missing parameter vs_currencies"}' "simple/price without vs_currencies: 400"
r=$(get "$G/simple/price?ids=bitcoin,ethereum&vs_currencies=usd")
is "$r" "200 $(cat "$fx/simple_price_basic.json")" "simple/price basic equals the fixture byte for byte"
r=$(get "$G/simple/price?ids=shiba-inu,not-a-real-coin,example-stale-token,example-null-token&vs_currencies=usd&include_24hr_change=true&include_last_updated_at=true")
like "$r" '"shiba-inu":\{"usd":2\.492e-05,' "tiny price keeps its exponent text 2.492e-05"
like "$r" '"example-stale-token":\{"usd":0\.00418,"usd_24h_change":null,"last_updated_at":1717999215\}' "stale coin: null change, old last_updated_at"
like "$r" '"example-null-token":\{"usd":null' "coin without price: null"
case $r in *not-a-real-coin*) ok 1 "unknown id omitted" ;; *) ok 0 "unknown id omitted" ;; esac
grep -q 'Content-Type: application/json; charset=utf-8' "$T/head"
ok $? "Content-Type: application/json; charset=utf-8"
is "$(get "$G/coins/markets?vs_currency=zzz")" "400 $(cat "$fx/error_400_invalid_vs_currency.json")" "coins/markets invalid vs_currency: fixture 400"
is "$(get "$G/coins/not-a-coin/market_chart?vs_currency=usd&days=1")" "404 $(cat "$fx/error_404_coin_not_found.json")" "market_chart unknown coin: fixture 404"
is "$(get "$G/coins/bitcoin/market_chart?vs_currency=usd&days=1")" "200 $(cat "$fx/coins_bitcoin_market_chart_days1.json")" "market_chart bitcoin days=1: fixture"

# Pagination over generated coins.
gecko_config '{"coins":3000}'
count() { "$PYTHON" -c 'import json,sys; d=json.load(sys.stdin); print(len(d), d[0]["market_cap_rank"] if d else "-")'; }
is "$(curl -s "$G/coins/markets?vs_currency=usd&per_page=250&page=1" | count)" "250 1" "markets page 1: 250 coins from rank 1"
is "$(curl -s "$G/coins/markets?vs_currency=usd&per_page=250&page=13" | count)" "9 3992" "markets page 13: the last 9 of 3009"
is "$(curl -s "$G/coins/markets?vs_currency=usd&per_page=250&page=14")" "[]" "markets past the end: []"
is "$(curl -s "$G/coins/markets?vs_currency=usd&per_page=1000" | count)" "250 1" "per_page above 250 is capped at 250"
is "$(curl -s "$G/coins/list" | "$PYTHON" -c 'import json,sys; print(len(json.load(sys.stdin)))')" 3009 "coins/list has all 3009 ids"

# Keys: demo root and pro root.
gecko_config '{"key_mode":"pro","pro_key":"PRO1"}'
is "$(get "$G/ping")" "401 $(cat "$fx/error_401_10002_missing_key.json")" "pro root, no key: 401 10002"
is "$(get "$G/ping" -H 'x-cg-demo-api-key: D')" "401 $(cat "$fx/error_401_10011_demo_key_on_pro_root.json")" "pro root, demo key: 401 10011"
is "$(get "$G/ping" -H 'x-cg-pro-api-key: PRO1')" "200 $(cat "$fx/ping.json")" "pro root, right pro key: 200"
is "$(get "$G/ping?x_cg_pro_api_key=PRO1")" "200 $(cat "$fx/ping.json")" "pro root, key as query parameter: 200"
gecko_config '{"key_mode":"demo","demo_key":"DEMO1"}'
is "$(get "$G/ping" -H 'x-cg-pro-api-key: PRO1')" "401 $(cat "$fx/error_401_10010_pro_key_on_demo_root.json")" "demo root, pro key: 401 10010"
is "$(get "$G/ping" -H 'x-cg-demo-api-key: DEMO1')" "200 $(cat "$fx/ping.json")" "demo root, right demo key: 200"
is "$(get "$G/ping")" "200 $(cat "$fx/ping.json")" "demo root, keyless: 200 (public)"

# Rate limit: the 4th call within the window is a 429 with the real body.
gecko_config '{"key_mode":"none","rate_limit":3,"retry_after":5}'
for i in 1 2 3; do get "$G/ping" >/dev/null; done
is "$(get "$G/ping")" "429 $(cat "$fx/error_429_rate_limit.json")" "4th call in a minute: 429 with the fixture body"
grep -qi '^Retry-After: 5' "$T/head"
ok $? "429 carries Retry-After: 5"
gecko_config '{"rate_limit":0}'

# Cloudflare HTML 403, stall, injected status, dropped connection.
gecko_config '{"faults":[{"kind":"html403","path":"simple/price","count":1}]}'
r=$(get "$G/simple/price?ids=bitcoin&vs_currencies=usd")
like "$r" '^403 <!DOCTYPE html>.*' "Cloudflare-style HTML 403"
grep -qi '^Content-Type: text/html' "$T/head"
ok $? "403 is text/html"
is "$(get "$G/simple/price?ids=bitcoin&vs_currencies=usd" | cut -c1-3)" 200 "fault count used up: next call 200"
gecko_config '{"reset_stats":true,"faults":[{"kind":"stall","seconds":3,"count":1}]}'
curl -s -o /dev/null --max-time 0.5 "$G/ping"
is $? 28 "stall: a client with a 0.5 s timeout times out"
# The stalled request is counted when its stall ends: wait for it, or it
# lands in the counters of whatever test runs next (0100 checks them).
i=0
until curl -s "$COINPIPE_GECKO_URL/__stats" | grep -q '"total": 1'; do
	[ $i -ge 100 ] && break
	sleep 0.1; i=$((i + 1))
done
like "$(curl -s "$COINPIPE_GECKO_URL/__stats")" '"total": 1' \
    "stall: the stalled request ends and is counted"
gecko_config '{"faults":[{"kind":"status","status":503,"count":1},{"kind":"drop","count":1}]}'
is "$(get "$G/ping" | cut -c1-3)" 503 "injected 503"
curl -s -o /dev/null "$G/ping"
is $? 52 "dropped connection: curl sees an empty reply"

# Prices move between polls, deterministically.
gecko_config '{"tick":"call","epoch":0}'
a=$(curl -s "$G/simple/price?ids=bitcoin,shiba-inu&vs_currencies=usd")
b=$(curl -s "$G/simple/price?ids=bitcoin,shiba-inu&vs_currencies=usd")
is "$a" '{"bitcoin":{"usd":67187},"shiba-inu":{"usd":2.492e-05}}' "poll 1: fixture prices"
like "$b" '^\{"bitcoin":\{"usd":671(8[89]|9[0-9])\},"shiba-inu":\{"usd":2\.49[3-9]e-05\}\}$' "poll 2: prices moved ($b)"
gecko_config '{"tick":"none","epoch":1}'
is "$(curl -s "$G/simple/price?ids=bitcoin,shiba-inu&vs_currencies=usd")" "$b" "epoch 1 again: the same prices"

# Counting.
gecko_config '{"reset":true}'
for i in 1 2 3; do curl -s -o /dev/null "$G/ping"; done
curl -s -o /dev/null "$G/simple/price?ids=bitcoin"
st=$(curl -s "$COINPIPE_GECKO_URL/__stats")
like "$st" '"total": 4' "stats: 4 calls counted (control calls are not)"
like "$st" '"/api/v3/ping": 3' "stats: 3 pings"
like "$st" '"400": 1' "stats: one 400"
gecko_config '{"reset":true}'
done_testing
