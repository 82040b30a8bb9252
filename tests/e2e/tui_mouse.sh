#!/bin/sh
# End to end: the mouse in the TUI under tmux. A detached tmux session has
# no mouse of its own, so the clicks are the bytes a terminal sends for
# them, written into the pane with send-keys: the X10 report ESC [ M b x y
# (each byte 32 + value, 1-based; TERM=screen-256color, whose kmous is
# \E[M) and the SGR report ESC [ < b ; x ; y M / m (TERM=xterm-256color,
# kmous \E[<). ncurses decodes them because mcpdeck turned its mouse on.
# For each: a click on a pane moves the focus there (its title in the
# focus style), a click on a Tasks row selects that job and Results
# shows it, a click on a Registry row selects that server (its details in
# the footer), a double click on a Tasks row opens the job's details.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_tui.sh"

mkdir -p "$T/work"
echo "alpha contents" >"$T/work/a.txt"
echo "beta contents" >"$T/work/b.txt"
export LC_ALL=C.UTF-8

# start NAME TERM: mcpdeck in a detached 120x40 session in $T/work (tmux
# sets its own TERM inside: the program is given TERM by the shell)
both() { grep -qF -- "$1" "$T/screen" && grep -qF -- "$2" "$T/screen"; }

# x10 B X Y: one X10 report as hex bytes for send-keys -H: ESC [ M, then
# 32 + B (0 the left button pressed, 3 released), 33 + X and 33 + Y (X, Y
# 0-based screen cells; single bytes, kept ASCII: 93 at most)
x10() { printf '1b 5b 4d %x %x %x ' $((32 + $1)) $((33 + $2)) $((33 + $3)); }
# click SESSION ENC X Y [TIMES]: the left button pressed and released at
# (X, Y), TIMES times in one write (2: a double click); an SGR report is
# text: ESC [ < 0 ; X+1 ; Y+1, then M (pressed) or m (released)
click() {
    s=$1 enc=$2 x=$3 y=$4 n=${5:-1}
    if [ "$enc" = x10 ]; then
        if [ "$x" -ge 94 ] || [ "$y" -ge 94 ]; then
            echo "an X10 report cannot say $x,$y (93 at most)" >&2
            return 1
        fi
        bytes=""
        k=0
        while [ $k -lt "$n" ]; do bytes="$bytes$(x10 0 "$x" "$y")$(x10 3 "$x" "$y")"; k=$((k + 1)); done
        # shellcheck disable=SC2086
        tm send-keys -t "$s" -H $bytes
    else
        seq=""
        k=0
        while [ $k -lt "$n" ]; do
            seq="$seq$(printf '\033[<0;%d;%dM\033[<0;%d;%dm' $((x + 1)) $((y + 1)) $((x + 1)) $((y + 1)))"
            k=$((k + 1))
        done
        tm send-keys -t "$s" -l "$seq"
    fi
}

# focused SESSION TITLE: the pane title drawn in a style no other title
# has (the focus style, whatever the theme's colours) is TITLE ("3
# Registry"); reads the screen with its attributes (capture-pane -e)
focused() {
    tm capture-pane -e -p -t "$1" | awk -v want="$2" '
        BEGIN { e = sprintf("%c", 27); si = sprintf("[%c%c]", 14, 15); n = split("1 Tasks,2 Results,3 Registry,4 Metrics", ts, ",") }
        {
            for (k = 1; k <= n; k++) {
                i = index($0, " " ts[k] " ")
                if (!i || (k in st)) continue
                pre = substr($0, 1, i - 1)       # the attributes set just before it
                gsub(si, "", pre)                 # (line-drawing charset shifts)
                st[k] = match(pre, e "\\[[0-9;]*m$") ? substr(pre, RSTART) : ""
            }
        }
        END {
            for (k = 1; k <= n; k++) {
                c = 0
                for (m = 1; m <= n; m++) if (st[m] == st[k]) c++
                if (c == 1) odd = ts[k]
            }
            exit !(odd == want)
        }'
}
# wait_focus SESSION TITLE: focused, within 5 s
wait_focus() {
    i=0
    while [ $i -lt 50 ]; do
        focused "$1" "$2" && return 0
        sleep 0.1
        i=$((i + 1))
    done
    screen "$1" >"$T/screen"
    return 1
}

# The 120x40 layout: Tasks at rows 0-18, columns 0-59 (its header on row
# 1, jobs from row 2, newest first); Results at columns 60-119; Registry
# from row 19 (header on row 20, then fs, memory, git; the selected
# server's details at its foot); the status bar on row 39.

# checks SESSION ENC: the clicks, in the encoding ENC
checks() {
    s=$1 enc=$2
    click "$s" "$enc" 30 34
    if wait_focus "$s" "3 Registry"; then
        ok "$enc: a click in the Registry pane focuses it"
    else fail "$enc: a click in the Registry pane focuses it" "$(why "$s")"; fi
    click "$s" "$enc" 20 3
    if wait_for "$s" 5 has "alpha contents" && has "job 1  fs.read_text_file" <"$T/screen" &&
        ! has "beta contents" <"$T/screen" && wait_focus "$s" "1 Tasks"; then
        ok "$enc: a click on the second Tasks row focuses Tasks and shows that job in Results"
    else fail "$enc: a click on the second Tasks row focuses Tasks and shows that job in Results" \
        "$(why "$s")"; fi
    tm send-keys -t "$s" 1 G               # (by keys: the last row, job 1)
    wait_for "$s" 5 has "alpha contents" || true
    click "$s" "$enc" 20 2
    if wait_for "$s" 5 has "beta contents" && ! has "alpha contents" <"$T/screen"; then
        ok "$enc: a click on the first row selects that job instead"
    else fail "$enc: a click on the first row selects that job instead" "$(why "$s")"; fi
    click "$s" "$enc" 5 23
    if wait_for "$s" 5 grep -qE '^.git: ' && wait_focus "$s" "3 Registry"; then
        ok "$enc: a click on the git row of the Registry selects it (its details below)"
    else fail "$enc: a click on the git row of the Registry selects it (its details below)" \
        "$(why "$s")"; fi
    click "$s" "$enc" 80 10
    if wait_focus "$s" "2 Results"; then
        ok "$enc: a click in Results focuses it"
    else fail "$enc: a click in Results focuses it" "$(why "$s")"; fi
    click "$s" "$enc" 20 3 2
    if wait_for "$s" 5 both "# job 1  succeeded" "## Attempts"; then
        ok "$enc: a double click on a Tasks row opens its details"
    else fail "$enc: a double click on a Tasks row opens its details" "$(why "$s")"; fi
    tm send-keys -t "$s" Escape q
    wait_for "$s" 5 ended "$s" || true
}

# two jobs to click on, made with the form: a.txt (job 1), then b.txt
APP_TERM=screen-256color start x10
if wait_for x10 10 grep -qE ' fs +(builtin +)?ready'; then ok "the fs server is ready"
else fail "the fs server is ready" "$(why x10)"; fi
for f in a b; do
    tm send-keys -t x10 n
    wait_for x10 5 has "Tool (server.tool)" || true
    tm send-keys -t x10 -l "fs.read_text_file"
    tm send-keys -t x10 Tab
    tm send-keys -t x10 -l "{\"path\":\"$f.txt\"}"
    tm send-keys -t x10 Enter
    wait_for x10 10 has "$f contents" || true
done
if wait_for x10 5 has "beta contents" && wait_focus x10 "1 Tasks"; then
    ok "two jobs are listed, the newest selected, Tasks focused"
else fail "two jobs are listed, the newest selected, Tasks focused" "$(why x10)"; fi
checks x10 x10

APP_TERM=xterm-256color start sgr
wait_for sgr 10 grep -qE ' fs +(builtin +)?ready' || true
checks sgr sgr

e2e_done
