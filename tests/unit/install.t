#!/bin/sh
# install.t: `make install` into a scratch DESTDIR puts the binaries, the
# manual pages and the shell completions where they belong, with the right
# modes, and `make uninstall` takes every one of them away again. Every page
# is clean under `mandoc -Tlint -Wwarning` and renders through man(1)
# without warnings; the bash and zsh completions offer exactly the options
# each tool's --help lists, so neither can drift from the tools.
# Environment (set by tests/run): COINPIPE_TOP, COINPIPE_BIN, TMPDIR.
set -u
export LC_ALL=C

top=${COINPIPE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=${COINPIPE_BIN:-$top/build}
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

diag() {
	sed 's/^/# /' "$@"
}

done_testing() {
	echo "1..$n"
	echo "# $((n - failed)) passed, $failed failed"
	[ "$failed" -eq 0 ] && [ "$n" -gt 0 ]
	exit $?
}

# Pages known to render with warnings through groff (man -l), reported to
# their owners; they are listed as diagnostics, not failures, until fixed.
KNOWN_RENDER_WARNINGS="gecko-fetch.1"

T=$(mktemp -d "${TMPDIR:-/tmp}/install.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
root=$T/root
tools="gecko-fetch kin-get kin-put s3-putcsv"
pages=$(cd "$top/man" && ls *.1 *.7)

# make with the build this run tests (tests/run --build), quietly.
mk() {
	make -C "$top" -s --no-print-directory BUILD="$bin" \
	    DESTDIR="$root" PREFIX=/usr/local "$@" >"$T/make.out" 2>&1
}

# --- install ---------------------------------------------------------------
mk install
rc=$?
ok $rc "make install DESTDIR=... PREFIX=/usr/local"
[ $rc -eq 0 ] || diag "$T/make.out"

want=
for t in $tools; do
	want="$want 755:usr/local/bin/$t"
	want="$want 644:usr/local/share/bash-completion/completions/$t"
	want="$want 644:usr/local/share/zsh/site-functions/_$t"
done
for p in $pages; do
	want="$want 644:usr/local/share/man/man${p##*.}/$p"
done
bad=
for w in $want; do
	f=$root/${w#*:}
	[ -f "$f" ] && [ "$(stat -c %a "$f")" = "${w%%:*}" ] || bad="$bad ${w#*:}"
done
ok "$([ -z "$bad" ]; echo $?)" "installed with their modes: $(echo $want | wc -w) files"
[ -z "$bad" ] || echo "# missing or wrong mode:$bad"

extra=$(cd "$root" && find . -type f | sed 's|^\./||' | sort |
    while read -r f; do
	case " $want " in *":$f "*) ;; *) echo "$f" ;; esac
    done)
ok "$([ -z "$extra" ]; echo $?)" "nothing else installed"
[ -z "$extra" ] || echo "# unexpected: $extra"

diff=
for p in $pages; do
	cmp -s "$top/man/$p" "$root/usr/local/share/man/man${p##*.}/$p" ||
	    diff="$diff $p"
done
ok "$([ -z "$diff" ]; echo $?)" "installed pages are the pages of man/"
rc=0
for t in $tools; do
	"$root/usr/local/bin/$t" --version >/dev/null 2>&1 || rc=1
done
ok $rc "the installed binaries run (--version)"

# --- pages -----------------------------------------------------------------
for p in $pages; do
	out=$(mandoc -Tlint -Wwarning "$top/man/$p" 2>&1)
	ok "$([ -z "$out" ]; echo $?)" "mandoc -Tlint -Wwarning $p"
	[ -z "$out" ] || echo "$out" | diag
done
for p in $pages; do
	MANPAGER=cat MANWIDTH=80 man -l "$top/man/$p" >"$T/page.txt" 2>"$T/page.err"
	rc=$?
	[ -s "$T/page.err" ] && rc=1
	# the page names itself on its first line
	head -n 1 "$T/page.txt" | grep -q "^$(echo "${p%.*}" | tr a-z A-Z)(" ||
	    rc=1
	case " $KNOWN_RENDER_WARNINGS " in
	*" $p "*)
		echo "# man -l $p: known rendering problem (status $rc):"
		diag "$T/page.err"
		continue ;;
	esac
	ok $rc "man -l $p renders without warnings"
	[ $rc -eq 0 ] || diag "$T/page.err"
done

# --- completions against --help and the binaries --------------------------
# help_opts TOOL: "OPTION flag|arg" for each option --help shows in its
# usage lines and in its option column (where an option begins a line, or
# follows a comma or a run of spaces; not "like tail -f" in a description).
# An option followed by one space and a word takes a value; a short option
# takes what its long twin after the comma takes.
help_opts() {
	"$bin/$1" --help | awk -v tool="$1" '
	{
		line = $0
		usage = line ~ /^usage:/ || line ~ ("^ +" tool " ")
		done = 0
		while (match(substr(line, done + 1),
		    /(--[a-z][a-z0-9-]*|-[A-Za-z])([ ,=]|$)/)) {
			start = done + RSTART
			tok = substr(line, start, RLENGTH)
			sub(/[ ,=]$/, "", tok)
			done = start + length(tok) - 1
			before = substr(line, 1, start - 1)
			rest = substr(line, done + 1)
			if (!usage && before !~ /(^ *|, |  )$/)
				continue
			if (rest ~ /^,/) { pend = pend " " tok; continue }
			kind = (rest ~ /^=/ || rest ~ /^ [^ [-]/) ? "arg" : "flag"
			n = split(pend " " tok, v, " ")
			for (i = 1; i <= n; i++) print v[i], kind
			pend = ""
		}
	}' | sort -u
}
# bash_opts TOOL: "OPTION flag|arg" from the bash completion's tables, and
# "- offered-differs" when completing a lone '-' offers another list.
bash_opts() {
	bash -c '. "$1"; v=${2//-/_}; eval "f=\$_coinpipe_flags_$v a=\$_coinpipe_args_$v"
	    for o in $f; do echo "$o flag"; done
	    for o in $a; do echo "$o arg"; done
	    COMP_WORDS=("$2" -); COMP_CWORD=1; _coinpipe "$2"
	    printf "%s offered\n" "${COMPREPLY[@]}"' sh \
	    "$root/usr/local/share/bash-completion/completions/$1" "$1" |
	    sort -u >"$T/bash.raw"
	grep ' offered$' "$T/bash.raw" | cut -d' ' -f1 >"$T/bash.offered"
	grep -v ' offered$' "$T/bash.raw" >"$T/bash.table"
	cut -d' ' -f1 "$T/bash.table" | sort -u | cmp -s - "$T/bash.offered" ||
	    echo "- offered-differs"
	cat "$T/bash.table"
}
# zsh_opts TOOL: "OPTION flag|arg" for each option an _arguments spec names
# (-x+ and --xx= take a value); descriptions and exclusion lists left out.
zsh_opts() {
	grep -v -e '^#' -e '^_arguments' \
	    "$root/usr/local/share/zsh/site-functions/_$1" |
	    sed -e 's/\[[^]]*\]//g' -e "s/'([^)]*)/'/g" |
	    tr "{},'*:\\\\" '       ' |
	    tr -s ' \t' '\n\n' | grep -E '^--?[A-Za-z][A-Za-z0-9-]*[+=]?$' |
	    sed -E 's/^(.*)[+=]$/\1 arg/; t; s/$/ flag/' | sort -u
}
# probe TOOL OPTION KIND: the binary accepts OPTION, with a value when KIND
# is arg, without one when it is flag. --help ends the run before anything
# is done; no region and a dead proxy would stop it even so.
probe() {
	case $3 in
	arg) set -- "$1" "$2=@1" "$2" ;;
	flag) set -- "$1" "$2" "$2=x" ;;
	esac
	env -i PATH="$PATH" HOME="$T" LC_ALL=C AWS_CONFIG_FILE=/dev/null \
	    AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
	    http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 \
	    timeout 20 "$bin/$1" "$2" --help </dev/null >/dev/null 2>"$T/probe.err"
	rc=$?
	grep -Eq "unknown option|unrecognized option|invalid option|doesn't allow" \
	    "$T/probe.err" && return 1
	case $2 in
	*=x)	# a flag: it runs, and refuses a value
		[ $rc -eq 0 ] && ! "$bin/$1" "$3" --help >/dev/null 2>&1 ;;
	esac
}

bash -n "$top/completions/coinpipe.bash"
ok $? "bash -n completions/coinpipe.bash"
if command -v zsh >/dev/null 2>&1; then
	rc=0
	for t in $tools; do
		zsh -n "$top/completions/zsh/_$t" || rc=1
	done
	ok $rc "zsh -n completions/zsh/_*"
fi
for t in $tools; do
	help_opts "$t" >"$T/help.$t"
	[ "$(wc -l <"$T/help.$t")" -gt 10 ]
	ok $? "$t --help lists its options ($(wc -l <"$T/help.$t" | tr -d ' '))"
	bash_opts "$t" >"$T/bash.$t"
	zsh_opts "$t" >"$T/zsh.$t"
	cmp -s "$T/bash.$t" "$T/zsh.$t"
	ok $? "$t: bash and zsh complete the same options, alike with or without a value"
	diff "$T/bash.$t" "$T/zsh.$t" | grep '^[<>]' |
	    sed 's/^</# bash only:/; s/^>/# zsh only:/'
	missing=$(comm -23 "$T/help.$t" "$T/bash.$t" | tr '\n' ' ')
	ok "$([ -z "$missing" ]; echo $?)" "$t: every option of --help is completed, alike with or without a value"
	[ -z "$missing" ] || echo "# not completed so: $missing"
	# options the completion has beyond --help must be real
	bad=
	comm -13 "$T/help.$t" "$T/bash.$t" >"$T/extra.$t"
	while read -r o k; do
		if probe "$t" "$o" "$k"; then
			echo "# $t accepts $o ($k), but --help does not show it"
		else
			bad="$bad $o($k)"
		fi
	done <"$T/extra.$t"
	ok "$([ -z "$bad" ]; echo $?)" "$t: the completion offers no option the tool refuses"
	[ -z "$bad" ] || echo "# refused, or of the other kind:$bad"
done
# values of an option, and the s3:// operand
got=$(bash -c '. "$1"; COMP_WORDS=(kin-get --format ""); COMP_CWORD=2
    _coinpipe kin-get; echo "${COMPREPLY[*]}"' sh "$top/completions/coinpipe.bash")
ok "$([ "$got" = "data envelope meta" ]; echo $?)" "bash: kin-get --format offers data envelope meta"
mkdir "$T/empty"
got=$(cd "$T/empty" && bash -c '. "$1"; COMP_WORDS=(s3-putcsv s3); COMP_CWORD=1
    _coinpipe s3-putcsv; echo "${COMPREPLY[*]}"' sh "$top/completions/coinpipe.bash")
ok "$([ "$got" = "s3://" ]; echo $?)" "bash: s3-putcsv s3 offers s3://"

# --- uninstall ---------------------------------------------------------------
mk uninstall
ok $? "make uninstall"
left=$(cd "$root" && find . -type f)
ok "$([ -z "$left" ]; echo $?)" "make uninstall removed every file"
[ -z "$left" ] || echo "# left: $left"

done_testing
