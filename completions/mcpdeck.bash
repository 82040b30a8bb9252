# bash completion for mcpdeck
_mcpdeck()
{
    local cur prev words cword
    _init_completion 2>/dev/null || {
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD-1]}
    }
    case $prev in
        -c|--config|--batch) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --data-dir) COMPREPLY=($(compgen -d -- "$cur")); return ;;
        --format) COMPREPLY=($(compgen -W "text json" -- "$cur")); return ;;
        servers) COMPREPLY=($(compgen -W "list" -- "$cur")); return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "--config --data-dir --batch --format --json --concurrency --version --help" -- "$cur"))
    else
        COMPREPLY=($(compgen -W "call servers" -- "$cur"))
    fi
}
complete -F _mcpdeck mcpdeck
