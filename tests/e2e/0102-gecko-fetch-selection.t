#!/bin/sh
# gecko-fetch: --top pagination, --all in the fewest calls, --first N as
# the notebook chose its coins. Calls are counted by the replay server.
. "$(dirname "$0")/lib.sh"
unset COINGECKO_DEMO_API_KEY COINGECKO_PRO_API_KEY
GF=$COINPIPE_BIN/gecko-fetch
B=$COINPIPE_GECKO_URL/api/v3
gecko_config '{"reset":true}' || bail "replay server reset"

# calls PATH: how many calls the replay server answered on PATH.
calls() {
	curl -s "$COINPIPE_GECKO_URL/__stats" | python3 -c \
	    'import json, sys; print(json.load(sys.stdin)["by_path"].get(sys.argv[1], 0))' \
	    "/api/v3$1"
}
reset_stats() { gecko_config '{"reset_stats":true}'; }

# min_calls IDS_JSON_FILE VS: /simple/price calls for those ids in 8000-byte
# URLs, greedy on the fixed order (checked against the byte lower bound).
min_calls() {
	python3 - "$1" "$B" "$2" <<'PY'
import json, sys, urllib.parse
ids = json.load(open(sys.argv[1]))
fixed = len(sys.argv[2] + "/simple/price?ids=" + "&vs_currencies=" +
            sys.argv[3] + "&include_last_updated_at=true")
budget = 8000 - fixed
total = sum(len(urllib.parse.quote(i, safe="")) for i in ids) + len(ids) - 1
calls, used = 0, None
for i in ids:
    n = len(urllib.parse.quote(i, safe=""))
    if used is None or used + 1 + n > budget:
        calls, used = calls + 1, n
    else:
        used += 1 + n
assert calls >= -(-total // budget)
print(calls)
PY
}

# --top 600: 3 pages of 250, in market-cap order.
reset_stats
"$GF" -b "$B" --top 600 >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 1 "--top 600: exit 1 (some generated coins have no price)"
is "$(calls /coins/markets)" 3 "--top 600: 3 calls to /coins/markets"
pr=$(calls /simple/price)
for p in 1 2 3; do
	curl -s "$B/coins/markets?vs_currency=usd&order=market_cap_desc&per_page=250&page=$p"
	echo
done >"$T/markets"
python3 -c 'import json, sys
ids = []
for line in open(sys.argv[1]):
    ids += [c["id"] for c in json.loads(line)]
print(json.dumps(ids[:600]))' "$T/markets" >"$T/top600"
is "$pr" "$(min_calls "$T/top600" usd)" "--top 600: the fewest /simple/price calls ($pr)"
pycheck "$T/out" "$T/markets" <<'PY'
import json, sys
got = [json.loads(l)["crypto"] for l in open(sys.argv[1])]
ranked = []
for line in open(sys.argv[2]):
    ranked += [c for c in json.loads(line)]
want = [c["id"] for c in ranked[:600] if c["current_price"] is not None]
print("%sok --top 600: the 600 highest ranked, in rank order (%d priced)" %
      ("" if got == want else "not ", len(got)))
PY

# --top 5: one page of 5.
reset_stats
"$GF" -b "$B" --top 5 >"$T/out" 2>"$T/err"
is "$(cut -d, -f2 "$T/out" | tr '\n' ' ')" '"crypto":"bitcoin" "crypto":"ethereum" "crypto":"tether" "crypto":"ripple" "crypto":"crypto-com-chain" ' \
    "--top 5: the five largest, largest first"
is "$(calls /coins/markets)" 1 "--top 5: 1 call"

# --top beyond the last coin: a short page ends the paging. (More than
# the 5 calls a minute of the keyless plan: --rate lifts the limit.)
reset_stats
"$GF" -b "$B" --rate 600 --top 5000 >"$T/out" 2>"$T/err"
n=$(curl -s "$B/coins/list" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
is "$(calls /coins/markets)" $(( (n + 249) / 250 )) \
    "--top 5000 of $n coins: stops after the first short page"

# --all over thousands of ids: as few /simple/price calls as 8000-byte
# URLs allow, computed here independently.
gecko_config '{"coins":3000}'
reset_stats
"$GF" -b "$B" --rate 600 --all --vs usd,eur >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 1 "--all: exit 1 (null prices)"
is "$(calls /coins/list)" 1 "--all: 1 call to /coins/list"
pr=$(calls /simple/price)
curl -s "$B/coins/list" >"$T/list"
python3 -c 'import json, sys
print(json.dumps([c["id"] for c in json.load(open(sys.argv[1]))]))' \
    "$T/list" >"$T/ids"
want=$(min_calls "$T/ids" usd,eur)
is "$pr" "$want" "--all over $(wc -l <"$T/out" | tr -d ' ') records: $want calls, the minimum"
[ "$want" -ge 4 ]; ok $? "--all: the ids really needed several calls"
is "$(cut -d, -f2,3 "$T/out" | sort | uniq -d | head -n 1)" "" \
    "--all: no coin printed twice"
pycheck "$T/out" "$T/list" <<'PY'
import json, sys
got = [json.loads(l) for l in open(sys.argv[1])]
ids = [c["id"] for c in json.load(open(sys.argv[2]))]
seen = [r["crypto"] for r in got if r["vs"] == "usd"]
print("%sok --all: every priced coin of /coins/list, in its order (%d)" %
      ("" if seen == [i for i in ids if i in set(seen)] and
       len(seen) > 2900 else "not ", len(seen)))
PY

# --first 50: the notebook's selection, the first 50 ids of /coins/list.
gecko_config '{"reset":true}'
"$GF" -b "$B" --first 50 >"$T/out" 2>"$T/err"
pycheck "$T/out" "$B" <<'PY'
import json, sys, urllib.request
ids = [c["id"] for c in json.load(urllib.request.urlopen(sys.argv[2] + "/coins/list"))][:50]
got = [json.loads(l)["crypto"] for l in open(sys.argv[1])]
print("%sok --first 50: the first 50 ids of /coins/list in order" %
      ("" if got == [i for i in ids if i in set(got)] and len(got) >= 48
       else "not "))
print("%sok --first 50: a missing price is not replaced by a duplicate" %
      ("" if len(got) == len(set(got)) else "not "))
PY
gecko_config '{"reset":true}'
done_testing
