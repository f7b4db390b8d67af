#!/bin/sh
# gecko-fetch: --every on the wall clock, --count, flushing each poll,
# --stale, a failed poll inside a loop, the credit warning, SIGTERM and
# SIGINT during a wait, `| head -1` and a full disk.
. "$(dirname "$0")/lib.sh"
unset COINGECKO_DEMO_API_KEY COINGECKO_PRO_API_KEY
GF=$COINPIPE_BIN/gecko-fetch
B=$COINPIPE_GECKO_URL/api/v3
gecko_config '{"reset":true}' || bail "replay server reset"
strip_ts() { sed 's/[0-9T:-]*Z/TS/g' "$1"; }

# wait_for COND_CMD: up to 20 s for a condition (never a timing check).
wait_for() {
	_w=0
	while ! eval "$1"; do
		[ $_w -ge 200 ] && return 1
		sleep 0.1; _w=$((_w + 1))
	done
}
# wait_exit PID: its exit status, killing it if still there after 20 s.
wait_exit() {
	wait_for "! kill -0 $1 2>/dev/null" || kill -KILL "$1"
	wait "$1"
}

# Three polls one second apart, on whole seconds; the credit warning
# counts the calls of the schedule.
"$GF" -b "$B" --every 1s --count 3 --credits 2 bitcoin ethereum \
    >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 0 "--every 1s --count 3: exit 0"
is "$(wc -l <"$T/out" | tr -d ' ')" 6 "--every 1s --count 3: 3 polls of 2 coins"
pycheck "$T/out" <<'PY'
import calendar, json, sys, time
recs = [json.loads(l) for l in open(sys.argv[1])]
ts = [r["ts"] for r in recs]
polls = sorted(set(ts))
print("%sok 3 distinct poll times, each shared by its records" %
      ("" if len(polls) == 3 and ts == sorted(ts) and
       all(ts.count(t) == 2 for t in polls) else "not "))
secs = [calendar.timegm(time.strptime(t, "%Y-%m-%dT%H:%M:%SZ")) for t in polls]
print("%sok poll times are whole seconds, one slot apart or more" %
      ("" if all(b - a >= 1 for a, b in zip(secs, secs[1:])) else "not "))
PY
is "$(strip_ts "$T/err")" "gecko-fetch: warning: 1 call every 1000 ms is 3 calls in 30 days, over the 2 credits of the public plan: poll every 1296000s or more, select fewer coins, or set --credits" \
    "the credit warning: calls, credits and what to change"

# --every 2s: slots on even seconds.
"$GF" -b "$B" --every 2s --count 2 bitcoin >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 0 "--every 2s --count 2: exit 0"
pycheck "$T/out" <<'PY'
import calendar, json, sys, time
secs = [calendar.timegm(time.strptime(json.loads(l)["ts"], "%Y-%m-%dT%H:%M:%SZ"))
        for l in open(sys.argv[1])]
print("%sok --every 2s: 2 polls on even seconds, 2 s or more apart %r" %
      ("" if len(secs) == 2 and all(s % 2 == 0 for s in secs) and
       secs[1] - secs[0] >= 2 and (secs[1] - secs[0]) % 2 == 0 else "not ",
       secs))
PY

# --stale: the replay server moves every price and last_updated_at on each
# call, except for its stale token.
gecko_config '{"tick":"call"}'
for mode in keep skip mark; do
	"$GF" -b "$B" --every 1s --count 2 --stale $mode bitcoin \
	    example-stale-token >"$T/$mode" 2>"$T/err"
	echo "rc=$?" >>"$T/$mode"
done
is "$(cut -d, -f2 "$T/keep" | tr '\n' ' ')" '"crypto":"bitcoin" "crypto":"example-stale-token" "crypto":"bitcoin" "crypto":"example-stale-token" rc=0 ' \
    "--stale keep: stale coins printed every poll"
is "$(cut -d, -f2 "$T/skip" | tr '\n' ' ')" '"crypto":"bitcoin" "crypto":"example-stale-token" "crypto":"bitcoin" rc=0 ' \
    "--stale skip: the unmoved coin left out of the second poll"
is "$(sed 's/.*"stale":\([a-z]*\)}$/\1/' "$T/mark" | tr '\n' ' ')" 'false false false true rc=0 ' \
    "--stale mark: \"stale\":true only where last_updated_at did not move"
like "$(sed -n 3p "$T/keep")" '"price":67190,"updated":"2024-06-13T08:00:59Z"' \
    "--stale keep: a moving coin shows its new price and time"
gecko_config '{"reset":true}'

# A failed poll is reported and the loop goes on.
gecko_config '{"faults":[{"kind":"status","status":503,"path":"simple/price","count":1}]}'
"$GF" -b "$B" --retries 0 --every 1s --count 2 bitcoin >"$T/out" 2>"$T/err"
rc=$?
is "$rc" 1 "one failed poll of two: exit 1"
is "$(strip_ts "$T/err")" "gecko-fetch: poll TS: /simple/price: HTTP 503: injected 503" \
    "the failed poll: one line"
is "$(wc -l <"$T/out" | tr -d ' ')" 1 "the next poll still printed"
gecko_config '{"reset":true}'

# Output is flushed at each poll: the first record is readable while the
# program still runs. Then SIGTERM: exit 143. (Each background run gets
# files of its own, so that waiting for one never sees another's output.)
"$GF" -b "$B" --every 1s bitcoin >"$T/out.term" 2>"$T/err.term" &
pid=$!
wait_for "[ -s '$T/out.term' ]"; ok $? "first poll readable before the program ends"
kill -0 $pid 2>/dev/null; ok $? "... while it is still running"
kill -TERM $pid
wait_exit $pid; rc=$?
is "$rc" 143 "SIGTERM while polling: exit 143"
is "$(cat "$T/err.term")" "" "SIGTERM while polling: nothing on stderr"

# SIGTERM and SIGINT in the middle of a long wait, sent once the program
# has said something (so its handlers are in place). The demo plan warns
# that a 90 s schedule of one call is over its monthly credits.
COINGECKO_DEMO_API_KEY=CG-demo-test-key "$GF" -b "$B" --every 90s bitcoin \
    >"$T/out.90" 2>"$T/err.90" &
pid=$!
wait_for "grep -q 'set --credits' '$T/err.90' 2>/dev/null"
is "$(cat "$T/err.90")" "gecko-fetch: warning: 1 call every 90000 ms is 28800 calls in 30 days, over the 10000 credits of the demo plan: poll every 260s or more, select fewer coins, or set --credits" \
    "--every 90s on the demo plan: the credit warning"
kill -TERM $pid
wait_exit $pid; rc=$?
is "$rc" 143 "SIGTERM during a 90 s wait: exit 143"
"$GF" -v -b "$B" --every 1h bitcoin >"$T/out.int" 2>"$T/err.int" &
pid=$!
wait_for "grep -q 'call a poll' '$T/err.int' 2>/dev/null"
kill -INT $pid
wait_exit $pid; rc=$?
is "$rc" 130 "SIGINT during a 1 h wait: exit 130"
is "$(cat "$T/out.int")" "" "no poll yet: nothing on stdout"

# | head -1: ends quietly by SIGPIPE, like any other tool.
( "$GF" -b "$B" --every 1s --count 5 bitcoin ethereum 2>"$T/err"
  echo $? >"$T/rc" ) | head -n 1 >"$T/out"
is "$(cat "$T/rc")" 141 "| head -1: killed by SIGPIPE (141)"
is "$(wc -c <"$T/err" | tr -d ' ')" 0 "| head -1: nothing on stderr"
is "$(wc -l <"$T/out" | tr -d ' ')" 1 "| head -1: the line was read"

# >/dev/full: fails loudly.
if [ -w /dev/full ]; then
	"$GF" -b "$B" bitcoin >/dev/full 2>"$T/err"; rc=$?
	is "$rc" 4 ">/dev/full: exit 4"
	is "$(cat "$T/err")" "gecko-fetch: stdout: No space left on device" \
	    ">/dev/full: says so"
fi
# SIGTERM while the server stalls an answer for 8 s: no waiting for the
# request (or its --timeout) to end, so the exit comes well before the
# answer would. Last in this file: the server only counts the stalled call
# when it ends, and the next test must not see it.
gecko_config '{"faults":[{"kind":"stall","seconds":8,"path":"simple/price","count":1}]}'
"$GF" -vv -b "$B" --timeout 60s bitcoin >"$T/out.stall" 2>"$T/err.stall" &
pid=$!
wait_for "grep -q '> GET /api/v3/simple/price' '$T/err.stall' 2>/dev/null"
ok $? "-vv traces the request as it goes out"
kill -TERM $pid
_w=0
while kill -0 $pid 2>/dev/null && [ $_w -lt 40 ]; do
	sleep 0.1; _w=$((_w + 1))
done
kill -0 $pid 2>/dev/null; is $? 1 "SIGTERM during a stalled request: gone long before the answer"
wait_exit $pid; rc=$?
is "$rc" 143 "SIGTERM during a stalled request: exit 143"
gecko_config '{"reset":true}'
wait_for "curl -s '$COINPIPE_GECKO_URL/__stats' | grep -q simple/price"
gecko_config '{"reset":true}'
done_testing
