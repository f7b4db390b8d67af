#!/bin/sh
# gecko-fetch: --help, --version and the refusals of bad command lines.
. "$(dirname "$0")/lib.sh"
unset COINGECKO_DEMO_API_KEY COINGECKO_PRO_API_KEY
GF=$COINPIPE_BIN/gecko-fetch
B=$COINPIPE_GECKO_URL/api/v3
gecko_config '{"reset":true}' || bail "replay server reset"

out=$("$GF" --help 2>"$T/err"); rc=$?
is "$rc" 0 "--help exits 0"
is "$(wc -c <"$T/err" | tr -d ' ')" 0 "--help writes nothing to stderr"
missing=
for o in --ids --ids-file --top --all --first --vs --market --stale \
    --format --every --count --plan --api-key-file --base-url --rate \
    --credits --retries --max-backoff --timeout --quiet --verbose --help \
    --version; do
	printf '%s\n' "$out" | grep -q -- "$o" || missing="$missing $o"
done
is "$missing" "" "--help names every option"

out=$("$GF" --version); rc=$?
is "$rc" 0 "--version exits 0"
like "$out" '^gecko-fetch [0-9.]+ \(libcurl [^,]+, jansson [^,]+, OpenSSL ' \
    "--version names the libraries"

# refuse CASE-NAME WANT-STDERR-ERE ARGS...: exit 2, one reason, a hint.
refuse() {
	name=$1 want=$2; shift 2
	"$GF" -b "$B" "$@" >"$T/out" 2>"$T/err"; rc=$?
	is "$rc" 2 "$name: exit 2"
	like "$(head -n 1 "$T/err")" "^gecko-fetch: $want" "$name: says why"
	like "$(tail -n 1 "$T/err")" "^try 'gecko-fetch --help'$" \
	    "$name: points to --help"
	is "$(wc -c <"$T/out" | tr -d ' ')" 0 "$name: nothing on stdout"
}
refuse "no coins" "no coins"
refuse "two selections" "choose one of" --top 5 bitcoin
refuse "--all with --first" "choose one of" --all --first 5
refuse "bad --stale" "--stale: 'maybe': expected skip, mark or keep" \
    --stale maybe bitcoin
refuse "bad --format" "--format: 'csv'" --format csv bitcoin
refuse "bad --every" "--every: 'soon': not a duration" --every soon bitcoin
refuse "--every under 1s" "--every: '250ms': at least 1s" --every 250ms \
    bitcoin
refuse "--count without --every" "--count needs --every" --count 3 bitcoin
refuse "bad --count" "--count: '0': out of range" --every 1s --count 0 \
    bitcoin
refuse "bad --top" "--top: 'ten': not a number" --top ten
refuse "bad --vs" "--vs: 'us-d'" --vs us-d bitcoin
refuse "bad --rate" "--rate: '30/hour': not a rate" --rate 30/hour bitcoin
refuse "bad --plan" "--plan: 'free'" --plan free bitcoin
refuse "bad --base-url" "--base-url: 'ftp://x'" --base-url ftp://x bitcoin
refuse "missing --ids-file" "--ids-file .*: No such file" \
    --ids-file "$T/nope" bitcoin
refuse "--api-key-file with --plan public" \
    "--api-key-file needs --plan demo or --plan pro" \
    --api-key-file /dev/null --plan public bitcoin
"$GF" --no-such-option bitcoin >/dev/null 2>"$T/err"; rc=$?
is "$rc" 2 "unknown option: exit 2"
like "$(cat "$T/err")" "try 'gecko-fetch --help'" "unknown option: hint"

stats=$(curl -s "$COINPIPE_GECKO_URL/__stats")
like "$stats" '"total": 0' "no refused command line called CoinGecko"
gecko_config '{"reset":true}'
done_testing
