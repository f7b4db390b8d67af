# bash completion for the coinpipe tools: gecko-fetch, kin-put, kin-get,
# s3-putcsv.
#
# `make install` copies this file to
# $(PREFIX)/share/bash-completion/completions/<tool> for each tool, where
# bash-completion loads it the first time one of them is completed; it can
# also be sourced by hand. It needs nothing from bash-completion itself.
# tests/unit/install.t checks that the options below are exactly those each
# tool's --help lists.

# Options of each tool: _coinpipe_flags_X take no argument, _coinpipe_args_X
# take one.
_coinpipe_flags_gecko_fetch='-a --all -m --market -q --quiet -v --verbose
	-h --help -V --version'
_coinpipe_args_gecko_fetch='-i --ids -I --ids-file -t --top --first -c --vs
	-s --stale -f --format -e --every -n --count -p --plan -k --api-key-file
	-b --base-url -r --rate --credits --retries --max-backoff --timeout'

_coinpipe_flags_kin_put='-r --raw --strict -o --ordered -a --aggregate
	-T --tee -q --quiet -v --verbose -h --help -V --version'
_coinpipe_args_kin_put='-s --stream --stream-arn -k --key -K --key-fixed
	--explicit-hash-key -l --linger -j --inflight --aggregate-size
	-m --max-attempts -t --timeout -d --dead-letter --drain-timeout
	--region --profile --endpoint-url'

_coinpipe_flags_kin_get='-F --follow -q --quiet -v --verbose -h --help
	-V --version'
_coinpipe_args_kin_get='-s --stream --shard --shard-index -f --from
	-u --until -n --count -o --format -c --checkpoint -r --resume -l --limit
	--region --profile --endpoint-url'

_coinpipe_flags_s3_putcsv='-H --no-header --lf -z --gzip -s --strict
	-T --tee -o --stdout -n --dry-run -q --quiet -v --verbose -h --help
	-V --version'
_coinpipe_args_s3_putcsv='-c --columns -N --null -r --max-rows -b --max-bytes
	-a --max-age -k --key-format --part-size --sse --sse-kms-key-id
	--storage-class -C --checkpoint -S --spool -D --dead-letter
	--region --profile --endpoint-url'

# Profile names from the AWS configuration and credentials files.
_coinpipe_profiles()
{
	local f
	for f in "${AWS_CONFIG_FILE:-$HOME/.aws/config}" \
	    "${AWS_SHARED_CREDENTIALS_FILE:-$HOME/.aws/credentials}"; do
		[ -r "$f" ] || continue
		sed -n 's/^[[:space:]]*\[\(profile[[:space:]]\{1,\}\)\{0,1\}\([^]]*\)\].*/\2/p' "$f"
	done | sort -u
}

# _coinpipe_words WORDS: completes the current word from WORDS.
_coinpipe_words()
{
	local IFS=$'\n'
	COMPREPLY=($(IFS=$' \t\n'; compgen -W "$1" -- "$cur"))
}

_coinpipe_files()
{
	local IFS=$'\n'
	COMPREPLY=($(compgen -f -- "$cur"))
	compopt -o filenames 2>/dev/null
}

_coinpipe_dirs()
{
	local IFS=$'\n'
	COMPREPLY=($(compgen -d -- "$cur"))
	compopt -o filenames 2>/dev/null
}

# _coinpipe_value TOOL: completes the value of option $prev; returns 1 when
# $prev is no option taking a value.
_coinpipe_value()
{
	case $1:$prev in
	gecko-fetch:-s|gecko-fetch:--stale) _coinpipe_words 'keep skip mark' ;;
	gecko-fetch:-f|gecko-fetch:--format) _coinpipe_words 'json table' ;;
	gecko-fetch:-p|gecko-fetch:--plan) _coinpipe_words 'public demo pro' ;;
	gecko-fetch:-c|gecko-fetch:--vs)
		_coinpipe_words 'usd eur gbp jpy chf cad aud cny btc eth' ;;
	gecko-fetch:-e|gecko-fetch:--every) _coinpipe_words '90s 5m 10m 1h' ;;
	gecko-fetch:-I|gecko-fetch:--ids-file|gecko-fetch:-k|\
	gecko-fetch:--api-key-file) _coinpipe_files ;;
	kin-put:-d|kin-put:--dead-letter) _coinpipe_files ;;
	kin-get:-o|kin-get:--format) _coinpipe_words 'data envelope meta' ;;
	kin-get:-f|kin-get:--from) _coinpipe_words 'trim-horizon latest' ;;
	kin-get:-c|kin-get:--checkpoint|kin-get:-r|kin-get:--resume)
		_coinpipe_files ;;
	s3-putcsv:--sse) _coinpipe_words 'AES256 aws:kms' ;;
	s3-putcsv:--storage-class)
		_coinpipe_words 'STANDARD STANDARD_IA ONEZONE_IA
		    INTELLIGENT_TIERING GLACIER_IR GLACIER DEEP_ARCHIVE
		    REDUCED_REDUNDANCY' ;;
	s3-putcsv:-C|s3-putcsv:--checkpoint|s3-putcsv:-D|\
	s3-putcsv:--dead-letter) _coinpipe_files ;;
	s3-putcsv:-S|s3-putcsv:--spool) _coinpipe_dirs ;;
	*:--profile) _coinpipe_words "$(_coinpipe_profiles)" ;;
	*)
		# any other option with a value: nothing sensible to offer
		local o
		for o in $args; do
			[ "$o" = "$prev" ] && { COMPREPLY=(); return 0; }
		done
		return 1 ;;
	esac
	return 0
}

_coinpipe()
{
	local tool=${1##*/} cur=${COMP_WORDS[COMP_CWORD]} prev= var
	[ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD - 1]}
	# --opt=value arrives as three words, '=' being a word break
	if [ "$cur" = = ]; then
		cur=
	elif [ "$prev" = = ] && [ "$COMP_CWORD" -gt 1 ]; then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	fi
	var=${tool//-/_}
	eval "local flags=\$_coinpipe_flags_$var args=\$_coinpipe_args_$var"

	_coinpipe_value "$tool" && return 0
	case $cur in
	-*) _coinpipe_words "$flags $args"; return 0 ;;
	esac
	case $tool in
	kin-put) _coinpipe_files ;;
	s3-putcsv)
		# the s3://BUCKET/PREFIX operand, or input files
		_coinpipe_files
		case s3:// in
		"$cur"*)
			COMPREPLY+=(s3://)
			compopt -o nospace 2>/dev/null ;;
		esac ;;
	*) COMPREPLY=() ;;
	esac
	return 0
}

complete -F _coinpipe gecko-fetch kin-put kin-get s3-putcsv
