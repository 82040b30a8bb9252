# bash completion for mcpdeck.
#
# Subcommands, their words and options are listed here (`mcpdeck --help` is
# the reference); names that change with the config and the store (servers,
# tools, job ids, namespaces, models) come from `mcpdeck __complete WHAT`,
# which starts no server. A -c/--config or --data-dir already on the command
# line is passed on to it.

_mcpdeck_globals='-c --config --data-dir --format -o --output --dry-run --fail-fast
    --timeout --resume --stream --json --concurrency --metrics-file --log-level
    --log-file --theme --ascii --batch --serve-http -V --version -h --help'
_mcpdeck_commands='call servers run jobs read prompt complete subscribe conformance
    memory metrics serve'
# options that take a value (global, then those of subcommands)
_mcpdeck_valued='-c|--config|--data-dir|--format|-o|--output|--timeout|--concurrency|--metrics-file|--log-level|--log-file|--theme|--batch|--type|--cap|--server|--tool|--args|--model|--ns|--namespace|--meta|--ttl|--mode|--filter|--min-score|-k|--k|--limit|--status|--count|--http|--serve-http|--spec'

# _mcpdeck_dyn WHAT [ARG]: the candidates `mcpdeck __complete` prints (their
# first field; the descriptions are for zsh and fish).
_mcpdeck_dyn()
{
    local bin=${COMP_WORDS[0]} i w
    [[ $bin == "~/"* ]] && bin=$HOME/${bin#"~/"}
    local -a g=()
    for ((i = 1; i < COMP_CWORD - 1; i++)); do
        case ${COMP_WORDS[i]} in
            -c|--config|--data-dir)
                w=${COMP_WORDS[i+1]}
                [[ $w == "~/"* ]] && w=$HOME/${w#"~/"}
                g+=("${COMP_WORDS[i]}" "$w")
                ;;
        esac
    done
    "$bin" "${g[@]}" __complete "$@" 2>/dev/null | cut -f1
}

# _mcpdeck_words WORDS...: COMPREPLY = those of WORDS that start with $cur
_mcpdeck_words()
{
    local IFS=$' \t\n'
    COMPREPLY=($(compgen -W "$*" -- "$cur"))
}

_mcpdeck_files()
{
    compopt -o filenames 2>/dev/null
    local IFS=$'\n'
    COMPREPLY=($(compgen -f -- "$cur"))
}

# The value of option $1 among the words before the cursor, or "".
_mcpdeck_opt()
{
    local i
    for ((i = 1; i < COMP_CWORD - 1; i++)); do
        [[ ${COMP_WORDS[i]} == "$1" ]] && { echo "${COMP_WORDS[i+1]}"; return; }
    done
}

_mcpdeck()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD-1]}
    COMPREPLY=()

    # the subcommand, and the positional words after it (option values skipped)
    local i w cmd= skip=0
    local -a args=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        if ((skip)); then skip=0; continue; fi
        if [[ -n $cmd && $w == -- ]]; then args+=("$w"); continue; fi
        if [[ $w == -?* ]]; then
            eval "case \$w in $_mcpdeck_valued) skip=1 ;; esac"
            continue
        fi
        if [[ -z $cmd ]]; then cmd=$w; else args+=("$w"); fi
    done
    local n=${#args[@]} sub=${args[0]:-}

    # the value of an option
    case $prev in
        -c|--config|--batch|-o|--output|--metrics-file|--log-file) _mcpdeck_files; return ;;
        --data-dir) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur")); return ;;
        --format)
            if [[ $cmd == jobs ]]; then _mcpdeck_words text json md
            else _mcpdeck_words text json jsonl junit; fi
            return ;;
        --log-level) _mcpdeck_words "$(_mcpdeck_dyn log-levels)"; return ;;
        --theme) _mcpdeck_words "$(_mcpdeck_dyn themes)"; return ;;
        --type) _mcpdeck_words "$(_mcpdeck_dyn task-types)"; return ;;
        --cap) _mcpdeck_words "$(_mcpdeck_dyn capabilities)"; return ;;
        --server) _mcpdeck_words "$(_mcpdeck_dyn servers)"; return ;;
        --tool)
            local s
            s=$(_mcpdeck_opt --server)
            [[ -n $s ]] && _mcpdeck_words "$(_mcpdeck_dyn tools "$s")"
            return ;;
        --model) _mcpdeck_words "$(_mcpdeck_dyn models)"; return ;;
        --ns|--namespace) _mcpdeck_words "$(_mcpdeck_dyn namespaces)"; return ;;
        --mode) _mcpdeck_words "$(_mcpdeck_dyn modes)"; return ;;
        --status) _mcpdeck_words "$(_mcpdeck_dyn statuses)"; return ;;
        --timeout|--concurrency|--args|--meta|--ttl|--filter|--min-score|-k|--k|--limit|\
        --count|--http|--spec)
            return ;;
    esac

    if [[ -z $cmd ]]; then
        if [[ $cur == -* ]]; then _mcpdeck_words $_mcpdeck_globals
        else _mcpdeck_words $_mcpdeck_commands; fi
        return
    fi

    # options of the subcommand (global options work after it too)
    if [[ $cur == -* && ! ($cmd == servers && $sub == add && $n -ge 2) ]]; then
        local o=
        case $cmd in
            servers) o='--json' ;;
            jobs) o='--status --limit --format' ;;
            memory)
                case $sub in
                    add) o='--ns --meta --ttl' ;;
                    search) o='--ns -k --mode --filter --min-score --json' ;;
                    list) o='--ns --limit' ;;
                    export) o='--ns' ;;
                    reindex) o='--all' ;;
                esac ;;
            run) o='--type --cap --server --tool --args --model --heavy --light --explain' ;;
            call) o='--json' ;;
            subscribe) o='--count' ;;
            metrics) o='--no-check' ;;
            serve) o='--http' ;;
        esac
        _mcpdeck_words $o $_mcpdeck_globals
        return
    fi

    case $cmd in
        servers)
            case $n in
                0) _mcpdeck_words list check caps tools log add remove enable disable restart \
                       resources templates prompts ;;
                1) case $sub in
                       tools|log|remove|enable|disable|restart|resources|templates|prompts)
                           _mcpdeck_words "$(_mcpdeck_dyn servers)" ;;
                   esac ;;
                2) [[ $sub == add ]] && _mcpdeck_words -- --spec ;;
                *) if [[ $sub == add && ${args[2]} == -- ]]; then
                       if ((n == 3)); then COMPREPLY=($(compgen -c -- "$cur" | sort -u))
                       else _mcpdeck_files; fi
                   fi ;;
            esac ;;
        jobs)
            case $n in
                0) _mcpdeck_words list show cancel retry result priority ;;
                1) case $sub in
                       show|cancel|retry|result|priority)
                           compopt -o nosort 2>/dev/null
                           _mcpdeck_words "$(_mcpdeck_dyn jobs)" ;;
                   esac ;;
            esac ;;
        memory)
            case $n in
                0) _mcpdeck_words add search get delete list export import reindex stats sync ;;
                1) [[ $sub == import ]] && _mcpdeck_files ;;
            esac ;;
        call)
            case $n in
                0) _mcpdeck_words "$(_mcpdeck_dyn servers)" ;;
                1) _mcpdeck_words "$(_mcpdeck_dyn tools "$sub")" ;;
            esac ;;
        read|prompt|complete|subscribe)
            ((n == 0)) && _mcpdeck_words "$(_mcpdeck_dyn servers)" ;;
    esac
    return 0
}
complete -F _mcpdeck mcpdeck
