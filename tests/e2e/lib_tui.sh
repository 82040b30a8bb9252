# lib_tui.sh — what the TUI end-to-end scripts share, sourced after lib.sh
# (tests/run.sh runs every tests/e2e/*.sh but the lib*.sh files):
#   a private tmux server per script (tm, killed on exit; SOCK names it),
#   start NAME [VAR=VALUE...] [-- ARG...]: `mcpdeck ARG...` in a detached
#     120x40 session NAME, in $TUI_DIR (default $T/work), stderr to $T_ERR
#     (default $T/NAME.stderr), TERM $APP_TERM (default screen-256color),
#     PAGER $TUI_PAGER when set, the test's XDG dirs and LC_ALL, and each
#     VAR=VALUE (no spaces); it tries again when a session killed just
#     before took the tmux server down while this one started,
#   screen S / ended S: a session's screen text and whether its program exited,
#   wait_for S SECS CMD...: poll S's screen (into $T/screen, CMD's stdin)
#     until CMD succeeds; gives up a second after the program has exited
#     (CMD may test for the exit and its status itself),
#   has/hasnt TEXT, on PATTERN... (!PATTERN: absent) on the screen,
#   keys KEYS... / text TEXT: typed into the session "main",
#   why S: what explains a failed check (the screen last read, S's stderr),
#   expect NAME SECS CMD...: the check NAME, that wait_for main SECS CMD...
#     succeeds.
# A script with more to clean up redefines cleanup (the trap calls it by
# name). tmux missing is a failure that says how to get it.

SOCK="mcpdeck-$(basename "$0" .sh)-$$"
tm() { tmux -L "$SOCK" -f /dev/null "$@"; }
cleanup() { tm kill-server >/dev/null 2>&1; }
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! command -v tmux >/dev/null 2>&1; then
    fail "tmux is needed for the TUI tests (scripts/deps.sh test installs it)"
    e2e_done
fi

start() {
    name=$1
    shift
    envs=""
    while [ $# -gt 0 ] && [ "$1" != -- ]; do envs="$envs -e $1"; shift; done
    [ "${1:-}" = -- ] && shift
    for _try in 1 2 3 4 5; do
        # shellcheck disable=SC2086,SC2016
        tm start-server \; set-option -g remain-on-exit on \; \
            new-session -d -s "$name" -x 120 -y 40 -c "${TUI_DIR:-$T/work}" \
            -e "XDG_DATA_HOME=$XDG_DATA_HOME" -e "XDG_CONFIG_HOME=$XDG_CONFIG_HOME" \
            -e "LC_ALL=$LC_ALL" -e "APP_TERM=${APP_TERM:-screen-256color}" \
            -e "APP_ERR=${T_ERR:-$T/$name.stderr}" -e "APP_PAGER=${TUI_PAGER:-}" $envs \
            sh -c 'export TERM=$APP_TERM; [ -z "$APP_PAGER" ] || export PAGER=$APP_PAGER
                   exec "$0" "$@" 2>"$APP_ERR"' \
            "$MCPDECK" "$@" 2>/dev/null
        tm has-session -t "$name" 2>/dev/null && return 0
        sleep 0.3
    done
    return 1
}
screen() { tm capture-pane -p -t "$1"; }
ended() { [ "$(tm display-message -p -t "$1" '#{pane_dead}' 2>/dev/null)" = 1 ]; }
wait_for() {
    s=$1 secs=$2
    shift 2
    i=0
    while [ "$i" -lt $((secs * 10)) ]; do
        screen "$s" >"$T/screen" 2>/dev/null
        if "$@" <"$T/screen"; then return 0; fi
        # once the program has exited little will change: a second more
        # (tmux may not know the exit status yet), then give up
        if ended "$s" && [ $((secs * 10 - i)) -gt 10 ]; then
            i=$((secs * 10 - 10))
        fi
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}
# dead SESSION: the program has ended and tmux has its exit status. The
# pane is marked dead at EOF, before the child is reaped; tmux 3.3 on these
# machines now and then misses the SIGCHLD (seen with a plain `sleep 1`
# too), so a dead pane without a status gets the server a nudge.
dead() {
    case $(tm display-message -p -t "$1" '#{pane_dead}:#{pane_dead_status}#{pane_dead_signal}' \
        2>/dev/null) in
    1:?*) return 0 ;;
    1:) kill -CHLD "$(tm display-message -p '#{pid}')" 2>/dev/null; return 1 ;;
    *) return 1 ;;
    esac
}
has() { grep -qF -- "$1"; }
hasnt() { ! grep -qF -- "$1"; }
on() {
    for p in "$@"; do
        case $p in
        !*) ! grep -qE -- "${p#!}" "$T/screen" || return 1 ;;
        *) grep -qE -- "$p" "$T/screen" || return 1 ;;
        esac
    done
}
keys() { tm send-keys -t main "$@"; }
text() { tm send-keys -t main -l "$1"; }
why() {
    echo "screen (blank lines left out):"
    sed -e 's/ *$//' -e '/^$/d' -e 's/^/|/' "$T/screen"
    [ -s "$T/$1.stderr" ] && { echo "stderr:"; head -c 2000 "$T/$1.stderr"; }
}
expect() {
    name=$1 secs=$2
    shift 2
    if wait_for main "$secs" "$@"; then ok "$name"; else fail "$name" "$(why main)"; fi
}
