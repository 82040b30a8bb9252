#!/bin/sh
# End to end: the new-task form under tmux, with the built-in fs server.
# Tab completes fs.read_t to fs.read_text_file; arguments that do not fit
# the tool's inputSchema show an error under the Args field as they are
# typed, Ctrl-S is refused while it shows, and it goes away when fixed; a
# bad priority is flagged beside its field; the priority and timeout typed
# reach the job (mcpdeck jobs show --format json); Up on a fresh form
# recalls the last submission.
. "$(dirname "$0")/lib.sh"

SOCK="mcpdeck-form-$$"
tm() { tmux -L "$SOCK" -f /dev/null "$@"; }
cleanup() { tm kill-server >/dev/null 2>&1; }
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! command -v tmux >/dev/null 2>&1; then
    fail "tmux is needed for the TUI test (scripts/deps.sh test installs it)"
    e2e_done
fi

mkdir -p "$T/work"
echo "hello notes" >"$T/work/notes.txt"
export LC_ALL=C.UTF-8

# start NAME: mcpdeck in a detached 120x40 session in $T/work
start() {
    # shellcheck disable=SC2016
    tm start-server \; set-option -g remain-on-exit on \; \
        new-session -d -s "$1" -x 120 -y 40 -c "$T/work" \
        -e "XDG_DATA_HOME=$XDG_DATA_HOME" -e "XDG_CONFIG_HOME=$XDG_CONFIG_HOME" \
        -e "LC_ALL=$LC_ALL" -e "TERM=screen-256color" \
        sh -c 'exec "$0" 2>"$1"' "$MCPDECK" "$T/$1.stderr"
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
        [ "$1" = gone ] || ! ended "$s" || return 1
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}
has() { grep -qF -- "$1"; }
hasnt() { ! grep -qF -- "$1"; }
gone() { ended main; }
fs_ready() { grep -qE ' fs +(builtin +)?ready'; }
why() {
    echo "screen (blank lines left out):"
    sed -e 's/ *$//' -e '/^$/d' -e 's/^/|/' "$T/screen"
    [ -s "$T/$1.stderr" ] && { echo "stderr:"; head -c 2000 "$T/$1.stderr"; }
}
keys() { tm send-keys -t main "$@"; }
text() { tm send-keys -t main -l "$1"; }

start main
if wait_for main 10 fs_ready; then ok "the fs server is ready"
else fail "the fs server is ready" "$(why main)"; fi

# --- Tab completion ------------------------------------------------------
keys n
wait_for main 5 has "Tool (server.tool)" || true
text "fs.read_t"
keys Tab
if wait_for main 5 has "fs.read_text_file"; then ok "Tab completes fs.read_t to fs.read_text_file"
else fail "Tab completes fs.read_t to fs.read_text_file" "$(why main)"; fi

# --- live validation of the arguments ------------------------------------
keys Tab
text '{"path": 1}'
if wait_for main 5 has "args.path: expected string"; then
    ok "arguments that break the schema show the error under the field"
else fail "arguments that break the schema show the error under the field" "$(why main)"; fi
keys C-s
if wait_for main 5 has "fix the field marked in red first" && has "Tool (server.tool)" <"$T/screen"
then ok "Ctrl-S is refused while the arguments are wrong"
else fail "Ctrl-S is refused while the arguments are wrong" "$(why main)"; fi
keys C-u
text '{"path": "notes.txt"}'
if wait_for main 5 hasnt "args.path"; then ok "the error goes away when the arguments are fixed"
else fail "the error goes away when the arguments are fixed" "$(why main)"; fi

# --- priority and timeout ------------------------------------------------
keys Tab
text "high"
if wait_for main 5 has "expected an integer"; then ok "a priority that is not a number is flagged"
else fail "a priority that is not a number is flagged" "$(why main)"; fi
keys C-u
text "7"
keys Tab
text "45s"
keys C-s
if wait_for main 10 grep -qE 'succeeded +fs\.read_text_file'; then
    ok "the task submitted from the form succeeds"
else fail "the task submitted from the form succeeds" "$(why main)"; fi

# --- recall --------------------------------------------------------------
keys n
wait_for main 5 has "Tool (server.tool)" || true
keys Up
if wait_for main 5 grep -qF '{"path": "notes.txt"}' &&
    grep -qE 'Priority +7 ' "$T/screen" && grep -qE 'Timeout +45s ' "$T/screen"; then
    ok "Up on a fresh form recalls the last submission"
else fail "Up on a fresh form recalls the last submission" "$(why main)"; fi
keys Escape
wait_for main 5 hasnt "Tool (server.tool)" || true

# --- templates (data/templates.yaml): Ctrl-O fills the form --------------
keys n
wait_for main 5 has "Tool (server.tool)" || true
keys C-o
if wait_for main 5 has "template 1/" && grep -qF "fs.read_text_file" "$T/screen" &&
    grep -qF '{"path":"README.md"}' "$T/screen"; then
    ok "Ctrl-O fills the form with the first template"
else fail "Ctrl-O fills the form with the first template" "$(why main)"; fi
keys C-o
if wait_for main 5 has "template 2/" && grep -qF "git.status" "$T/screen"; then
    ok "Ctrl-O again: the next one"
else fail "Ctrl-O again: the next one" "$(why main)"; fi
keys C-s
if wait_for main 10 grep -qE '(succeeded|failed) +git\.status'; then
    ok "a template submits like a typed task"
else fail "a template submits like a typed task" "$(why main)"; fi
keys q
wait_for main 5 gone || true

"$MCPDECK" jobs show 1 --format json >"$T/job.json" 2>"$T/job.err"
if grep -qE '"priority":[[:space:]]*7,' "$T/job.json" && grep -qE '"timeout_ms":[[:space:]]*45000,' "$T/job.json"
then ok "the priority and timeout typed are the job's"
else fail "the priority and timeout typed are the job's" "$(cat "$T/job.json" "$T/job.err")"; fi

e2e_done
