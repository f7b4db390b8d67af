#!/bin/sh
# gecko-fetch: the record format, exact number text, null prices, unknown
# ids, --vs, --market, --ids/--ids-file and --format table.
. "$(dirname "$0")/lib.sh"
unset COINGECKO_DEMO_API_KEY COINGECKO_PRO_API_KEY
GF=$COINPIPE_BIN/gecko-fetch
B=$COINPIPE_GECKO_URL/api/v3
gecko_config '{"reset":true}' || bail "replay server reset"

# One record, field by field, in the documented order.
"$GF" -b "$B" bitcoin >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 0 "one known coin: exit 0"
like "$(cat "$T/out")" '^\{"ts":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z","crypto":"bitcoin","vs":"usd","price":67187,"updated":"2024-06-13T07:59:59Z"\}$' \
    "record: ts, crypto, vs, price (integer kept), updated"
is "$(wc -c <"$T/err" | tr -d ' ')" 0 "nothing on stderr"

# Every price of 1000 coins keeps the exact text the server sent.
"$GF" -b "$B" --all --vs usd,eur --market >"$T/all" 2>"$T/err"; rc=$?
is "$rc" 1 "--all with null prices and stale coins: exit 1 (some skipped)"
curl -s "$B/coins/list" >"$T/list"
pycheck "$T/all" "$T/list" "$B" <<'PY'
import json, re, sys, urllib.request
recs = [json.loads(l) for l in open(sys.argv[1])]
ids = [c["id"] for c in json.load(open(sys.argv[2]))]
# The raw text of every value, read with a regex, not a float parser.
raw = {}
for i in range(0, len(ids), 100):
    q = ("ids=" + ",".join(ids[i:i + 100]) + "&vs_currencies=usd,eur"
         "&include_market_cap=true&include_24hr_vol=true"
         "&include_24hr_change=true&include_last_updated_at=true")
    body = urllib.request.urlopen(sys.argv[3] + "/simple/price?" + q).read()
    for cid, inner in re.findall(r'"([^"]+)":\{([^}]*)\}', body.decode()):
        for k, v in re.findall(r'"([^"]+)":([^,]+)', inner):
            raw[(cid, k)] = v
lines = open(sys.argv[1]).read().splitlines()
bad = 0
for line, r in zip(lines, recs):
    m = re.search(r'"price":([^,]+),', line)
    want = raw.get((r["crypto"], r["vs"]))
    if m.group(1) != want:
        bad += 1
        if bad < 5:
            print("# %s/%s: got %s want %s" % (r["crypto"], r["vs"],
                                                m.group(1), want))
    for f, k in (("market_cap", "_market_cap"), ("volume_24h", "_24h_vol"),
                 ("change_24h", "_24h_change")):
        m = re.search(r'"%s":([^,}]+)' % f, line)
        if m.group(1) != raw.get((r["crypto"], r["vs"] + k), "null"):
            bad += 1
print("%sok price and market number text identical in %d records" %
      ("" if bad == 0 else "not ", len(recs)))
out = open(sys.argv[1]).read()
print("%sok 2.492e-05 and 67187 appear verbatim" %
      ("" if '"price":2.492e-05' in out and '"price":67187,' in out
       else "not "))
print("%sok a large market cap keeps all its digits" %
      ("" if re.search(r'"market_cap":1324142358344,', out) else "not "))
print("%sok sub-cent prices keep their exponent form" %
      ("" if re.search(r'"price":[0-9.]+e-0[5-7],', out) else "not "))
keys = {tuple(r.keys()) for r in recs}
print("%sok every record has the same fields in the same order" %
      ("" if keys == {("ts", "crypto", "vs", "price", "updated",
                       "market_cap", "volume_24h", "change_24h")} else "not "))
nulls = [c for c in ids if raw.get((c, "usd")) == "null"]
got = {r["crypto"] for r in recs}
print("%sok no record for a null price (%d coins)" %
      ("" if nulls and not set(nulls) & got else "not ", len(nulls)))
print("%sok one record per coin and currency with a price" %
      ("" if len(recs) == 2 * (len(ids) - len(nulls)) else "not "))
print("%sok records follow the selection order" %
      ("" if [r["crypto"] for r in recs[::2]] ==
       [c for c in ids if c not in nulls] else "not "))
ts = {r["ts"] for r in recs}
print("%sok one ts for the whole poll" % ("" if len(ts) == 1 else "not "))
PY
nnull=$(python3 -c 'import json,sys; print(sum(1 for c in json.load(open(sys.argv[1])) if c["id"] == "example-null-token" or (c["id"].startswith("gen-coin-") and int(c["id"][9:]) % 97 == 0)))' "$T/list")
like "$(cat "$T/err")" "gecko-fetch: [0-9TZ:-]+: $((nnull * 2)) null prices skipped: " \
    "null prices are counted on stderr ($((nnull * 2)))"
is "$(wc -l <"$T/err" | tr -d ' ')" 1 "one line of warnings for the poll"

# Unknown ids: named once, the rest still printed, exit 1.
"$GF" -b "$B" --ids nope-coin,bitcoin --ids btc,ethereum >"$T/out" 2>"$T/err"
rc=$?
is "$rc" 1 "unknown ids: exit 1"
is "$(cut -d, -f2 "$T/out" | tr '\n' ' ')" '"crypto":"bitcoin" "crypto":"ethereum" ' \
    "known coins still printed, in the order given"
is "$(cat "$T/err")" "gecko-fetch: unknown to CoinGecko (ids, not symbols, are expected): nope-coin, btc" \
    "unknown ids named on one line"
"$GF" -q -b "$B" nope-coin bitcoin >"$T/out" 2>"$T/err"; rc=$?
is "$rc:$(wc -c <"$T/err" | tr -d ' ')" "1:0" "-q silences the warning, not the status"
"$GF" -q -v -b "$B" nope-coin bitcoin >"$T/out" 2>"$T/err"
like "$(cat "$T/err")" ': 1 records, 0 stale skipped' "-q -v: the -v line stays, as in every tool"
grep -q 'unknown to CoinGecko' "$T/err"; is $? 1 "-q -v: the warning does not"
"$GF" -vv -b "$B" bitcoin >"$T/out" 2>"$T/err"
like "$(cat "$T/err")" '> GET /api/v3/simple/price' "-vv: the request line"
grep -qi '^gecko-fetch: > user-agent:' "$T/err"; is $? 1 "-vv: not the headers (-vvv)"
"$GF" -vvv -b "$B" bitcoin >"$T/out" 2>"$T/err"
grep -qi '^gecko-fetch: > user-agent:' "$T/err"; is $? 0 "-vvv: the headers"

# --ids-file: lines, commas, comments, duplicates, stdin.
printf 'ethereum\n# a comment\nbitcoin, tether\n\nbitcoin\n' >"$T/ids"
"$GF" -b "$B" --ids-file "$T/ids" >"$T/out" 2>&1
is "$(cut -d, -f2 "$T/out" | tr '\n' ' ')" '"crypto":"ethereum" "crypto":"bitcoin" "crypto":"tether" ' \
    "--ids-file: order kept, duplicates and comments dropped"
echo "tether" | "$GF" -b "$B" --ids-file - >"$T/out" 2>&1
like "$(cat "$T/out")" '"crypto":"tether","vs":"usd","price":1.001,' \
    "--ids-file -: reads stdin"

# --vs: several currencies, in the order given, upper case accepted.
"$GF" -b "$B" --vs EUR,usd,btc bitcoin >"$T/out" 2>&1
is "$(cut -d, -f3 "$T/out" | tr '\n' ' ')" '"vs":"eur" "vs":"usd" "vs":"btc" ' \
    "--vs: one record per currency, in order"
like "$(sed -n 1p "$T/out")" '"price":61920,' "--vs eur: the eur price"

# --format table: aligned columns for a person.
"$GF" -b "$B" --format table --market bitcoin shiba-inu >"$T/out" 2>&1; rc=$?
is "$rc" 0 "--format table: exit 0"
like "$(sed -n 1p "$T/out")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' \
    "table: the poll time first"
like "$(sed -n 2p "$T/out")" '^CRYPTO +VS +PRICE +UPDATED +MARKET_CAP +VOLUME_24H +CHANGE_24H$' \
    "table: a header"
like "$(sed -n 4p "$T/out")" '^shiba-inu +usd +2\.492e-05 +2024-06-13T08:00:00Z ' \
    "table: values as sent"
pycheck "$T/out" <<'PY'
import sys
rows = open(sys.argv[1]).read().splitlines()[1:]
col = rows[0].index("UPDATED")
print("%sok table: columns aligned" %
      ("" if all(r[col - 2:col] == "  " and r[col] != " " for r in rows)
       else "not "))
PY
gecko_config '{"reset":true}'
done_testing
