# tests/servers/badserver.sh: sourced by the hardening tests after
# tests/e2e/lib.sh. bad_start [badserver.py options]: starts
# tests/servers/badserver.py on 127.0.0.1; sets BAD_URL (http:// or https://
# with --tls-cert), BAD_PORT, BAD_PID and BAD_LOG. Stopped by PID when the
# test exits (lib.sh's cleanup) or by tests/servers/down, like a fault proxy.
bad_start() {
	_bd=$(mktemp -d "$T/bad.XXXXXX")
	BAD_LOG=$_bd/log.jsonl
	test_server_start "$_bd" "$COINPIPE_TOP/tests/servers/badserver.py" \
	    --log "$BAD_LOG" "$@" || return 1
	BAD_PID=$SERVER_PID BAD_PORT=$SERVER_PORT
	case " $* " in
	*" --tls-cert "*) BAD_URL=https://127.0.0.1:$BAD_PORT ;;
	*) BAD_URL=http://127.0.0.1:$BAD_PORT ;;
	esac
}

# bad_stop: stops the last started badserver and waits for it.
bad_stop() {
	test_server_stop "$BAD_PID"
}

# bad_count PYEXPR: log lines e (n, method, path, host, target, fault,
# body_bytes) for which the Python expression holds.
bad_count() {
	jsonl_count "$BAD_LOG" "$1"
}

# peak_kb: the peak resident set (KiB) of the last command run with
# `peak CMD...`; peak runs CMD under /usr/bin/time -v, keeping its exit
# status, stdin, stdout and stderr; the figure goes to $T/peak.
peak() {
	/usr/bin/time -f '%M' -o "$T/peak" "$@"
}
peak_kb() {
	tail -n 1 "$T/peak"
}

# rss_bounded NAME: a TAP result, the last `peak` under 100 MiB (a bound on
# memory, not a timing). Skipped under valgrind (tests/run --valgrind) or
# AddressSanitizer (make asan): there the peak resident set is the
# checker's as much as the tool's (its tables and shadow memory, a realloc
# holding old and new block at once); make check checks the bound, the
# checkers check the memory itself.
rss_bounded() {
	if [ "${COINPIPE_VALGRIND:-}" = 1 ]; then
		skip "$1: peak RSS is valgrind's under tests/run --valgrind"
		return
	fi
	if grep -qa __asan_init "$COINPIPE_BIN/kin-put" 2>/dev/null; then
		skip "$1: peak RSS includes ASan's shadow memory (make asan)"
		return
	fi
	_kb=$(peak_kb)
	case $_kb in
	''|*[!0-9]*) ok 1 "$1: peak RSS measured"; return ;;
	esac
	ok $((_kb >= 102400)) "$1: peak RSS $_kb KiB < 100 MiB"
}
