#!/bin/sh
# End to end: the TUI under tmux. Start mcpdeck with no arguments in a
# 120x40 window, wait for the four panes and the built-in fs server, submit
# fs.list_directory through the new-task form, check the result, shrink the
# window to 80x24 (and below), quit with q and check the exit status. Then
# once more with NO_COLOR set in the C locale: no colours, ASCII glyphs,
# and Ctrl-C quits. Then the Registry pane: health after the first check,
# a flaky server's open breaker, and its keys (d, e, R, h), a disable
# surviving a restart of mcpdeck.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_tui.sh"

mkdir -p "$T/work"
echo "hello notes" >"$T/work/notes.txt"
export LC_ALL=C.UTF-8     # UTF-8 glyphs in the app; display widths for wc -L

# start NAME [VAR=VALUE...]: a detached 120x40 session running mcpdeck in
# $T/work; the pane stays after the program exits so its status can be read.

# wait_for SESSION SECONDS CMD...: poll the screen (in $T/screen) until
# CMD succeeds on it; gives up at once when the program has ended (unless
# waiting for exactly that).

all_titles() { awk '/Tasks/{a=1} /Results/{b=1} /Registry/{c=1} /Metrics/{d=1}
                   END{exit !(a && b && c && d)}'; }
fs_ready() { grep -qE ' fs +(builtin +)?ready'; }
# (the task column may be cut short at 80 columns)
task_done() { grep -qE 'succeeded +fs\.list_d'; }
listed() { task_done && grep -qF notes.txt "$T/screen"; }
exit_info() {
    tm display-message -p -t "$1" \
        'dead=#{pane_dead} status=#{pane_dead_status} signal=#{pane_dead_signal}'
}
widest() { LC_ALL=C.UTF-8 wc -L <"$T/screen"; }
# laid_out ROWS: the panes were redrawn for ROWS lines (the bottom row of
# panes starts halfway down the screen above the status bar)
laid_out() {
    sed -n "$((($1 - 1) / 2 + 1))p" "$T/screen" | grep -q Registry &&
        sed -n "${1}p" "$T/screen" | grep -q 'q quit'
}


# --- 1. four panes and the registry -------------------------------------
start main
wait_for main 10 all_titles || true
for title in Tasks Results Registry Metrics; do
    if has "$title" <"$T/screen"; then ok "pane titled $title is shown"
    else fail "pane titled $title is shown" "$(why main)"; fi
done
expect "registry shows the built-in fs server as ready" 10 fs_ready
if tm capture-pane -e -p -t main | grep -q "$(printf '\033')\\[[0-9;]*3[0-7]m"; then
    ok "colours are used when NO_COLOR is not set"
else fail "colours are used when NO_COLOR is not set" "$(why main)"; fi

# --- 2. the form: an error stays in the form, then a real task ----------
tm send-keys -t main n
if wait_for main 5 has "Tool (server.tool)"; then form_seen=1; else form_seen=0; fi
tm send-keys -t main -l "nosuch.tool"
tm send-keys -t main Enter Enter
if wait_for main 5 has "unknown server 'nosuch'" && has "Args (JSON)" <"$T/screen"
then ok "a task for an unknown server is refused inside the open form"
else fail "a task for an unknown server is refused inside the open form" "$(why main)"; fi
tm send-keys -t main Escape
if [ "$form_seen" = 1 ] && wait_for main 5 sh -c '! grep -qF "Tool (server.tool)"' &&
    all_titles <"$T/screen"; then
    ok "n opens the form and Esc closes it"
else fail "n opens the form and Esc closes it" "$(why main)"; fi

tm send-keys -t main n
wait_for main 5 has "Tool (server.tool)" || true
tm send-keys -t main -l "fs.list_directory"
tm send-keys -t main Tab
tm send-keys -t main -l '{"path":"."}'
tm send-keys -t main Enter
if wait_for main 10 listed; then
    ok "fs.list_directory submitted from the form succeeds and its listing is in Results"
else
    fail "fs.list_directory submitted from the form succeeds and its listing is in Results" \
        "$(why main)"
fi

# --- 3. resizing --------------------------------------------------------
tm resize-window -t main -x 80 -y 24
if wait_for main 5 laid_out 24 && all_titles <"$T/screen" &&
    [ "$(wc -l <"$T/screen")" -le 24 ] && [ "$(widest)" -le 80 ]; then
    ok "at 80x24 all four panes are shown and nothing is wider than 80 columns"
else fail "at 80x24 all four panes are shown and nothing is wider than 80 columns" \
    "widest line: $(widest)" "$(why main)"; fi
if task_done <"$T/screen" && fs_ready <"$T/screen"; then
    ok "at 80x24 the task and the fs server are still listed"
else fail "at 80x24 the task and the fs server are still listed" "$(why main)"; fi

tm resize-window -t main -x 60 -y 20
expect "below 80x24 the UI says the terminal is too small" 5 has "terminal too small (need 80x24)"
tm resize-window -t main -x 100 -y 30
if wait_for main 5 laid_out 30 && all_titles <"$T/screen" && [ "$(widest)" -le 100 ]
then ok "growing again to 100x30 brings the panes back"
else fail "growing again to 100x30 brings the panes back" "$(why main)"; fi

# --- 4. quit ------------------------------------------------------------
if ended main; then
    fail "q quits the TUI with status 0" "mcpdeck ended before q was pressed" "$(why main)"
else
    tm send-keys -t main q
    if wait_for main 10 dead main &&
        [ "$(tm display-message -p -t main '#{pane_dead_status}')" = 0 ]; then
        ok "q quits the TUI with status 0"
    else
        fail "q quits the TUI with status 0" \
            "$(exit_info main)" "$(why main)"
    fi
fi

# --- 5. NO_COLOR, C locale ----------------------------------------------
start plain NO_COLOR=1 LC_ALL=C
if wait_for plain 10 all_titles &&
    ! tm capture-pane -e -p -t plain | grep -q "$(printf '\033')\\[[0-9;]*[34][0-7]m"; then
    ok "with NO_COLOR the panes are drawn without colours"
else fail "with NO_COLOR the panes are drawn without colours" "$(why plain)"; fi
if wait_for plain 10 grep -qE '\+ fs +(builtin +)?ready'; then
    ok "outside a UTF-8 locale the registry falls back to ASCII glyphs"
else fail "outside a UTF-8 locale the registry falls back to ASCII glyphs" "$(why plain)"; fi
if ended plain; then
    fail "Ctrl-C quits the TUI with status 0" "mcpdeck ended before Ctrl-C" "$(why plain)"
else
    tm send-keys -t plain C-c
    if wait_for plain 10 dead plain &&
        [ "$(tm display-message -p -t plain '#{pane_dead_status}')" = 0 ]; then
        ok "Ctrl-C quits the TUI with status 0"
    else
        fail "Ctrl-C quits the TUI with status 0" \
            "$(exit_info plain)" "$(why plain)"
    fi
fi

# --- 6. a long task shows its progress and can be cancelled -------------
cat >"$T/work/mcpdeck.yaml" <<YAML
servers:
  everything:
    command: node
    args: ["$EVERYTHING", stdio]
YAML
start prog
if wait_for prog 15 grep -qE 'everything +(stdio +)?ready'; then
    tm send-keys -t prog n
    sleep 0.3
    tm send-keys -t prog -l 'everything.trigger-long-running-operation'
    tm send-keys -t prog Tab
    tm send-keys -t prog -l '{"duration":20,"steps":20}'
    tm send-keys -t prog Enter
fi
if wait_for prog 15 grep -qE '[0-9]+%'; then
    ok "a long task shows its progress in Tasks"
else fail "a long task shows its progress in Tasks" "$(why prog)"; fi
tm send-keys -t prog c
if wait_for prog 10 grep -q cancelled; then
    ok "c cancels the running task"
else fail "c cancels the running task" "$(why prog)"; fi
tm send-keys -t prog q
wait_for prog 10 dead prog
rm -f "$T/work/mcpdeck.yaml"

# --- 7. the registry: health, breakers and its keys ---------------------
BAD="$TOP/${BUILD:-build}/fixtures/badserver"
[ -x "$BAD" ] || fail "the badserver fixture is built" "missing: $BAD (make $BAD)"
cat >"$T/work/mcpdeck.yaml" <<YAML
health: {interval: 1s}
breaker: {failures: 2, cooldown: 60s}
servers:
  badserver: {command: "$BAD", args: [good]}
  flaky:
    command: "$BAD"
    args: [flaky]
    env: {BADSERVER_FAILS: "1000", BADSERVER_STATE: "$T/flaky.state"}
YAML
row() { grep -qE "^.. $1 +$2"; }    # row NAME PATTERN: a server row (glyph, name, columns)
# select SESSION NAME: move the Registry's selection to NAME (its footer
# starts "NAME: health, ")
select_server() {
    tm send-keys -t "$1" g
    for _ in 1 2 3 4 5 6; do
        wait_for "$1" 1 grep -qE "$2: (unknown|healthy|warning|unhealthy), " && return 0
        tm send-keys -t "$1" Down
    done
    return 1
}
focus_registry() { tm send-keys -t "$1" Tab Tab; wait_for "$1" 5 has "R restart"; }

start reg
if wait_for reg 15 row fs 'ready +healthy' && wait_for reg 15 row badserver 'ready +healthy'; then
    ok "the registry shows fs and a configured badserver healthy after the first check"
else fail "the registry shows fs and a configured badserver healthy after the first check" \
    "$(why reg)"; fi
if wait_for reg 15 row flaky 'ready +unhealthy +open [0-9]+s'; then
    ok "a flaky server shows unhealthy and its breaker open with the time to its trial"
else fail "a flaky server shows unhealthy and its breaker open with the time to its trial" \
    "$(why reg)"; fi
if focus_registry reg && select_server reg flaky &&
    wait_for reg 5 has "flaky: unhealthy, check failed"; then
    ok "the selected server's health reason is shown under the list"
else fail "the selected server's health reason is shown under the list" "$(why reg)"; fi
tm send-keys -t reg h
if wait_for reg 5 has "circuit breaker open"; then
    ok "h on a server whose breaker is open says so"
else fail "h on a server whose breaker is open says so" "$(why reg)"; fi
select_server reg badserver || true
tm send-keys -t reg h
if wait_for reg 5 has "checking badserver now"; then ok "h checks the selected server"
else fail "h checks the selected server" "$(why reg)"; fi
tm send-keys -t reg d
if wait_for reg 5 row badserver disabled && has "disabled badserver" <"$T/screen"; then
    ok "d disables the selected server and says so"
else fail "d disables the selected server and says so" "$(why reg)"; fi
tm send-keys -t reg q
wait_for reg 10 dead reg || fail "q quits the registry session" "$(why reg)"

start reg2
if wait_for reg2 15 row fs 'ready' && wait_for reg2 5 row badserver disabled; then
    ok "a disabled server stays disabled when mcpdeck starts again"
else fail "a disabled server stays disabled when mcpdeck starts again" "$(why reg2)"; fi
focus_registry reg2 && select_server reg2 badserver || true
tm send-keys -t reg2 e
if wait_for reg2 10 row badserver 'ready +healthy' && has "enabled badserver" <"$T/screen"; then
    ok "e enables it again: ready and healthy"
else fail "e enables it again: ready and healthy" "$(why reg2)"; fi
restarted() { grep -qF "restarts 1" "$T/screen" && row badserver ready <"$T/screen"; }
tm send-keys -t reg2 R
if wait_for reg2 10 restarted && has "restarting badserver" <"$T/screen"; then
    ok "R restarts the selected server: restarts 1, ready again"
else fail "R restarts the selected server: restarts 1, ready again" "$(why reg2)"; fi
tm send-keys -t reg2 q
wait_for reg2 10 dead reg2 || fail "q quits the second registry session" "$(why reg2)"
rm -f "$T/work/mcpdeck.yaml"

cleanup
e2e_done
