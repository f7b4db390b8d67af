#!/bin/sh
# layers.t: tests/lint/layers on tiny libraries of throwaway objects built
# in a scratch lib/ directory: a circle, a use of lib/cli and a module
# writing to stderr each fail it, naming what they found; the same graph
# without them passes, and so does fprintf to a FILE the module opened.
# Environment (set by tests/run): COINPIPE_TOP, TMPDIR.
set -u
export LC_ALL=C

top=${COINPIPE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
layers=$top/tests/lint/layers
cc=${CC:-cc}
n=0 failed=0

ok() {	# ok COND-STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

work=$(mktemp -d "${TMPDIR:-/tmp}/layers.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

# mod NAME SOURCE: compiles SOURCE into $work/lib/NAME.o.
mod() {
	printf '%s\n' "$2" >"$work/$1.c"
	"$cc" -c -o "$work/lib/$1.o" "$work/$1.c" || {
		echo "Bail out! cannot compile $1.c with $cc"; exit 1; }
}

# check WANT-STATUS PATTERN DESCRIPTION: runs the checker on $work/lib;
# its exit status must be WANT-STATUS and its output must match PATTERN
# (a fixed string, "" for an empty output).
check() {
	"$layers" "$work/lib" >"$work/out" 2>"$work/err"
	rc=$?
	if [ -z "$2" ]; then
		[ "$rc" -eq "$1" ] && [ ! -s "$work/out" ]
	else
		[ "$rc" -eq "$1" ] && grep -qxF -e "$2" "$work/out"
	fi
	st=$?
	ok $st "$3"
	[ $st -eq 0 ] || sed 's/^/# /' "$work/out" "$work/err"
}

# A circle a -> b -> a.
mkdir -p "$work/lib"
mod a 'int b_get(void); int a_get(void); int a_get(void) { return b_get(); }'
mod b 'int a_get(void); int b_get(void);
int b_get(void) { return a_get() + 1; }'
check 1 "lib/a -> lib/b -> lib/a" "a circle of two modules fails, named"
check 1 "    lib/b -> lib/a: a_get" "the edge's symbol is named"

# The same with b no longer using a: clean.
mod b 'int b_get(void); int b_get(void) { return 1; }'
check 0 "" "without the circle it passes, silently"

# A longer circle through three modules, reported once from its start.
mod b 'int c_get(void); int b_get(void); int b_get(void) { return c_get(); }'
mod c 'int a_get(void); int c_get(void); int c_get(void) { return a_get(); }'
check 1 "lib/a -> lib/b -> lib/c -> lib/a" "a circle of three fails"
rm -f "$work/lib/c.o"
mod b 'int b_get(void); int b_get(void) { return 1; }'

# A module using lib/cli (cli itself may use the others).
mod cli 'int b_get(void); int cli_opt(void);
int cli_opt(void) { return b_get(); }'
mod b 'int cli_opt(void); int b_get(void);
int b_get(void) { return cli_opt(); }'
check 1 "lib/b uses lib/cli: cli_opt" "a module using lib/cli fails"
rm -f "$work/lib/cli.o"
mod b 'int b_get(void); int b_get(void) { return 1; }'

# Writing to stderr, or puts, fails; fprintf to its own FILE and snprintf
# do not.
mod p '#include <stdio.h>
void p_say(void); void p_say(void) { fprintf(stderr, "x\n"); }'
check 1 "lib/p prints: stderr" "a module writing to stderr fails"
mod p '#include <stdio.h>
void p_say(void); void p_say(void) { puts("x"); }'
check 1 "lib/p prints: puts" "a module calling puts fails"
mod p '#include <stdlib.h>
void p_say(void); void p_say(void) { exit(3); }'
check 1 "lib/p exits: exit" "a module calling exit fails"
mod p '#include <stdio.h>
int p_say(FILE *f, char *s, size_t n, int v);
int p_say(FILE *f, char *s, size_t n, int v) {
	snprintf(s, n, "%d", v); return fprintf(f, "%s\n", s); }'
check 0 "" "fprintf to a FILE it was given and snprintf pass"

# Objects named one by one: only those count (a stale c.o with a circle
# in the directory is left out).
mod a 'int b_get(void); int a_get(void); int a_get(void) { return b_get(); }'
mod c 'int a_get(void); int c_get(void); int c_get(void) { return a_get(); }'
mod b 'int c_get(void); int b_get(void); int b_get(void) { return c_get(); }'
"$layers" "$work/lib/a.o" "$work/lib/b.o" >"$work/out" 2>&1
ok $? "named objects: only they make the graph"
"$layers" "$work/lib/a.o" "$work/lib/b.o" "$work/lib/c.o" >/dev/null 2>&1
ok $(($? != 1)) "named objects: with c.o the circle is found"

"$layers" "$work/none" >/dev/null 2>&1
ok $(($? != 2)) "a directory without objects is an error (exit 2)"

echo "1..$n"
echo "# $((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
