# SPDX-License-Identifier: MIT OR GPL-2.0-only
# bash completion for usdtkit(1): subcommands, their options (read from the
# command's own --help, so a new option completes without editing this
# file), PIDs after -p, files and commands where an option takes them, and
# probe names from `usdtkit list` of the PATH or PID given on the line.
# Self-contained: works with or without the bash-completion package.

# Options (-x and --long) of `usdtkit CMD --help`: the option column, lines
# indented by at most 8 spaces. Cached per command for the shell's life.
_usdtkit_options()
{
	local bin=$1 cmd=$2 var
	var=_usdtkit_opts_${cmd//[^a-z]/_}
	if [[ -z ${!var-} ]]; then
		printf -v "$var" '%s' "$("$bin" "$cmd" --help 2>/dev/null |
			sed -nE 's/^ {1,8}((-[[:alnum:]]), )?(--[[:alnum:]][[:alnum:]-]*).*/\2 \3/p')"
	fi
	printf '%s\n' ${!var}
}

# PROVIDER:NAME of every probe `usdtkit list ARGS` finds (no root needed for
# files; a process must be readable).
_usdtkit_probes()
{
	local bin=$1
	shift
	timeout 5 "$bin" list "$@" 2>/dev/null | while read -r _ probe; do
		printf '%s\n' "$probe"
	done | sort -u
}

_usdtkit()
{
	local line=${COMP_LINE:0:COMP_POINT} cur words bin cmd pid="" prev="" i
	read -ra words <<<"$line"
	if [[ $line == *[[:space:]] || -z $line ]]; then
		cur=""
	else
		cur=${words[${#words[@]} - 1]}
		unset 'words[${#words[@]}-1]'
	fi
	COMPREPLY=()
	bin=${words[0]:-usdtkit}
	bin=${bin/#\~/$HOME}
	if ((${#words[@]} > 1)); then
		prev=${words[${#words[@]} - 1]}
	fi
	if ((${#words[@]} <= 1)); then
		COMPREPLY=($(compgen -W "list trace stat --help --version" -- "$cur"))
		return
	fi
	cmd=${words[1]}
	for ((i = 2; i < ${#words[@]}; i++)); do
		case ${words[i]} in
		-p | --pid) pid=${words[i + 1]-} ;;
		--pid=*) pid=${words[i]#--pid=} ;;
		esac
	done

	case $prev in
	-p | --pid)
		COMPREPLY=($(compgen -W "$(cd /proc && printf '%s\n' [0-9]*)" -- "$cur"))
		return
		;;
	-o | --output | --perfetto | --prometheus-textfile)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	-c | --command)
		COMPREPLY=($(compgen -c -- "$cur"))
		return
		;;
	-P | --probe | --hist | --by | --lhist | --match | --args | --filter | --latency | -f | --format | \
		-s | --string-size | -n | --count | -d | --duration | -b | --buffer-size | \
		-i | --interval | --unit | --top | --max-keys | --prometheus | --otlp)
		if [[ $prev == --unit ]]; then
			COMPREPLY=($(compgen -W "ns us ms" -- "$cur"))
			return
		fi
		[[ $prev == -P || $prev == --probe || $prev == --latency ]] || return
		;;
	esac

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_usdtkit_options "$bin" "$cmd")" -- "$cur"))
		return
	fi

	local cands=() file
	case $cmd in
	list)
		if [[ -n $pid ]]; then
			cands=($(_usdtkit_probes "$bin" -p "$pid"))
		else
			# probe patterns of the files already on the line, then files
			for ((i = 2; i < ${#words[@]}; i++)); do
				[[ -f ${words[i]} ]] && cands+=($(_usdtkit_probes "$bin" "${words[i]}"))
			done
			cands+=($(compgen -f -- "$cur"))
		fi
		;;
	trace | stat)
		if [[ $cur == *:* && -f ${cur%%:*} ]]; then
			# PATH:PROVIDER:NAME
			file=${cur%%:*}
			cands=($(_usdtkit_probes "$bin" "$file" | sed "s|^|$file:|"))
		elif [[ -n $pid ]]; then
			cands=($(_usdtkit_probes "$bin" -p "$pid"))
		else
			cands=($(compgen -f -- "$cur"))
		fi
		;;
	*)
		return
		;;
	esac
	COMPREPLY=($(compgen -W "${cands[*]}" -- "$cur"))
	# bash splits words at ':' (COMP_WORDBREAKS): offer only what follows
	# the last ':' of the word being completed.
	if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
		local colon=${cur%"${cur##*:}"}
		for i in "${!COMPREPLY[@]}"; do
			COMPREPLY[i]=${COMPREPLY[i]#"$colon"}
		done
	fi
}
complete -F _usdtkit usdtkit
