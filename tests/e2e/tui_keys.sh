#!/bin/sh
# End to end: the TUI's keys, commands, overlays and themes under tmux.
# Starts mcpdeck with the built-in fs server and two badserver fixtures
# (one that behaves, one that never answers a tool call) and checks: the
# panes at start, ? help generated from the key table, the : prompt with
# Tab completion, theme switching, zoom, 1-4 jumps, a task through the
# form reaching done, the UI answering keys while a call hangs, cancel,
# retry, priority, the details overlay, filter and sort, the registry's
# tools and log overlays, saving a result and opening it in $PAGER,
# 200x60 and 80x24 layouts without leftovers, NO_COLOR (no colour
# escapes even after a theme switch), --ascii borders and a 256-colour
# theme on an 8-colour terminal.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_tui.sh"

BAD="$TOP/${BUILD:-build}/fixtures/badserver"
if [ ! -x "$BAD" ]; then
    fail "the badserver fixture is built" "missing: $BAD (make $BAD)"
    e2e_done
fi

mkdir -p "$T/work"
echo "hello notes" >"$T/work/notes.txt"
cat >"$T/work/mcpdeck.yaml" <<YAML
servers:
  good: {command: "$BAD", args: [good]}
  hang: {command: "$BAD", args: [hang]}
YAML
export LC_ALL=C.UTF-8

# start NAME [VAR=VALUE...] [-- ARGS...]: mcpdeck in a detached 120x40 session
# (TERM inside is screen-256color, or $APP_TERM: tmux sets its own TERM)

# on PATTERN...: every extended regex is on the screen; one starting with
# ! is not (reads the screen file: a check may grep it several times)
all_titles() { awk '/1 Tasks/{a=1} /2 Results/{b=1} /3 Registry/{c=1} /4 Metrics/{d=1}
                   END{exit !(a && b && c && d)}'; }
one_title() { awk '/Tasks/{n++} /Results/{n++} /Registry/{n++} /Metrics/{n++}
                   END{exit !(n == 1)}'; }
servers_ready() { on ' good +(stdio +)?ready' ' hang +(stdio +)?ready'; }
widest() { LC_ALL=C.UTF-8 wc -L <"$T/screen"; }

export T_ERR="$T/main.stderr"
TUI_PAGER="cp -t $T/paged"
start main

# --- start-up --------------------------------------------------------------
expect "the four panes are shown with their numbers" 10 all_titles
expect "the configured servers become ready" 15 servers_ready
expect "the status bar names the help and the command prompt" 2 has "? help  : cmd"

# --- help from the key table -------------------------------------------------
keys '?'
expect "? opens the help listing every key with its command" 5 \
    on 'Keys \(key, command' 'Tab +focus next' '\+ +priority \+1' 'Enter +details'
keys Escape
expect "Esc closes the help" 5 on '!Keys \(key, command'

# --- the : prompt, completion, themes ---------------------------------------
keys ':'
text 'the'
keys Tab
expect "Tab completes a command name in the : prompt" 5 on '^:theme *$'
text 'l'
keys Tab
expect "Tab completes a command's argument (a theme name)" 5 on '^:theme light *$'
keys Enter
expect "theme light is switched to" 5 on '\| theme light$'
if tm capture-pane -e -p -t main | grep -q "48;5;24m"; then
    ok "the light theme's colours are on screen"
else fail "the light theme's colours are on screen" "$(tm capture-pane -e -p -t main | head -3)"; fi
keys ':'
text 'theme nosuch'
keys Enter
expect "an unknown theme is refused with the list of themes" 5 has "no theme 'nosuch'"
keys ':'
text 'frobnicate'
keys Enter
expect "an unknown command says so" 5 has "unknown command 'frobnicate'"

# --- zoom and jumps ------------------------------------------------------------
keys z
expect "z zooms the focused pane: one pane fills the screen" 5 \
    on '1 Tasks \(zoom\)' '!Registry'
keys 3
expect "3 while zoomed shows the Registry zoomed" 5 \
    on '3 Registry \(zoom\)' '!1 Tasks'
keys z
expect "z again brings the four panes back" 5 all_titles

# --- registry overlays -----------------------------------------------------------
keys g
keys Enter
expect "Enter in Registry lists the server's tools with input schemas" 5 \
    on 'Tools of' '"type"'
keys Escape
keys l
expect "l shows the server's log" 5 has "Log of"
keys Escape
expect "Esc closes the log" 5 on '!Log of'

# --- a task through the form reaches done ------------------------------------------
keys 1 n
wait_for main 5 has "Tool (server.tool)" || true
text 'fs.list_directory'
keys Tab
text '{"path":"."}'
keys Enter
expect "a task submitted from the form reaches succeeded" 10 \
    on 'succeeded +fs\.list_d' notes\.txt

# --- a hanging call does not stop the keys --------------------------------------------
keys n
wait_for main 5 has "Tool (server.tool)" || true
text 'hang.echo'
keys Tab
text '{"text":"x"}'
keys Enter
expect "a call to the hanging server is running" 10 grep -qE "run(ning)? +hang\.echo"
slow=0
# (z zooms, Z stands for the second z that unzooms)
for k in '?' Escape z Z '?' Escape; do
    before=$(date +%s%N)
    case $k in Z) keys z ;; *) keys "$k" ;; esac
    case $k in
    '?') wait_for main 2 has "Keys (key, command" || slow=1 ;;
    Escape) wait_for main 2 hasnt "Keys (key, command" || slow=1 ;;
    z) wait_for main 2 has "(zoom)" || slow=1 ;;
    Z) wait_for main 2 all_titles || slow=1 ;;
    esac
    after=$(date +%s%N)
    [ $(((after - before) / 1000000)) -lt 1500 ] || slow=1
    [ "$slow" = 0 ] || { echo "# key $k: $(((after - before) / 1000000)) ms"; break; }
done
if [ "$slow" = 0 ] && grep -qE "run(ning)? +hang\.echo" "$T/screen"; then
    ok "while a call hangs, keys are answered at once"
else fail "while a call hangs, keys are answered at once" "$(why)"; fi

# --- details, cancel, retry, priority ---------------------------------------------------
keys 1 g Enter
expect "Enter in Tasks opens the job's details: route, attempts, events" 5 \
    on '## Route' '## Attempts' '## Events'
keys Escape
keys c
expect "c cancels the hanging call" 5 grep -qE "cancelled +hang\.echo"
keys r
expect "r queues the cancelled job again" 5 has "queued again"
keys c
wait_for main 5 grep -qE "cancelled +hang\.echo" || true
keys r
wait_for main 5 grep -qE "(queued|run[a-z]*) +hang\.echo" || true
keys '+'
# running jobs keep their priority: either it changed or it says why
expect "+ changes the priority of a queued job, or says it is not queued" 5 \
    grep -qE "priority 1|is not queued"
keys c
wait_for main 5 grep -qE "cancelled +hang\.echo" || true

# --- filter and sort ----------------------------------------------------------------
keys '/'
text 'succeeded'
keys Enter
expect "/ succeeded shows only the succeeded task" 5 \
    on 'succeeded +fs\.list_d' '!hang\.echo'
keys '/' C-u Enter
expect "an empty filter shows every task again" 5 \
    on 'hang\.echo' 'fs\.list_d'
keys ':'
text 'sort target asc'
keys Enter
expect ":sort target asc orders by target" 5 has "tasks by target, ascending"
keys s
expect "s in Tasks goes to the next sort order" 5 has "tasks by elapsed"

# --- save and the pager --------------------------------------------------------------
keys ':'
text 'filter succeeded'
keys Enter
keys 2
wait_for main 5 has "notes.txt" || true
keys s
expect "s in Results asks where to save" 5 has "save to: job-"
keys C-u
text "$T/saved.txt"
keys Enter
expect "the result is saved" 5 has "saved "
if grep -qF notes.txt "$T/saved.txt" 2>/dev/null; then ok "the saved file has the result"
else fail "the saved file has the result" "$(cat "$T/saved.txt" 2>&1)"; fi
# PAGER="cp -t DIR": the pager gets a file with the text; the copy shows it
mkdir -p "$T/paged"
keys o
expect "o returns to the panes after the pager" 5 all_titles
if grep -qF notes.txt "$T"/paged/* 2>/dev/null; then ok "o hands the result to \$PAGER"
else fail "o hands the result to \$PAGER" "$(ls -l "$T/paged")"; fi

# --- sizes ---------------------------------------------------------------------------
tm resize-window -t main -x 200 -y 60
expect "at 200x60 the panes fill the window" 5 \
    sh -c 'sed -n "30p;60p" | tr "\n" " " | grep -qE "3 Registry.*q quit"'
if [ "$(wc -l <"$T/screen")" -le 60 ] && [ "$(widest)" -le 200 ] &&
    [ "$(grep -o '┌' "$T/screen" | wc -l)" -eq 4 ] &&
    [ "$(grep -o '└' "$T/screen" | wc -l)" -eq 4 ]; then
    ok "at 200x60 nothing is left over from the old size"
else fail "at 200x60 nothing is left over from the old size" "$(why)"; fi
tm resize-window -t main -x 80 -y 24
expect "at 80x24 the four panes are laid out again" 5 \
    sh -c 'sed -n "12p;24p" | tr "\n" " " | grep -qE "3 Registry.*q quit"'
if [ "$(widest)" -le 80 ] && [ "$(grep -o '┌' "$T/screen" | wc -l)" -eq 4 ]; then
    ok "at 80x24 nothing is left over from 200x60"
else fail "at 80x24 nothing is left over from 200x60" "$(why)"; fi
keys q
sleep 0.5

# --- NO_COLOR and --ascii -----------------------------------------------------------------
T_ERR="$T/plain.stderr"
tm kill-session -t main 2>/dev/null
start main NO_COLOR=1 -- --ascii
expect "--ascii draws the borders in ASCII" 10 \
    on '^\+-+ 1 Tasks' '!┌'
keys ':'
text 'theme light'
keys Enter
wait_for main 5 has "NO_COLOR" || true
if ! tm capture-pane -e -p -t main | grep -q "$(printf '\033')\\[[0-9;]*\(3[0-7]\|4[0-7]\|[34]8;5;[0-9]*\)m"; then
    ok "with NO_COLOR no colour escapes reach the terminal, even after :theme light"
else fail "with NO_COLOR no colour escapes reach the terminal, even after :theme light" \
    "$(tm capture-pane -e -p -t main | head -5 | od -c | head)"; fi
keys q
sleep 0.5

# --- an 8-colour terminal: 256-colour themes degrade ---------------------------------
T_ERR="$T/eight.stderr"
tm kill-session -t main 2>/dev/null
APP_TERM=screen start main -- --theme light
expect "on an 8-colour terminal the light theme still draws the panes" 10 all_titles
esc=$(printf '\033')
if tm capture-pane -e -p -t main | grep -q "${esc}\\[[0-9;]*3[0-7]m" &&
    ! tm capture-pane -e -p -t main | grep -q "[34]8;5;"; then
    ok "on an 8-colour terminal only the 8 basic colours are used"
else fail "on an 8-colour terminal only the 8 basic colours are used" \
    "$(tm capture-pane -e -p -t main | head -3 | od -c | head)"; fi
keys q
e2e_done
