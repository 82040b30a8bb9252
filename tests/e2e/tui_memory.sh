#!/bin/sh
# End to end: the TUI's memory overlay, a server's elicitation as a form,
# and theme:/keys: from the config, under tmux. Two entries are added with
# `mcpdeck memory add` first; m opens the overlay, a search shows the hit
# with its namespace and score, d then y deletes it and the search no
# longer finds it; a binding from the config (x: memory) opens the same
# overlay and theme: mono is in use. everything.trigger-elicitation-request
# from the new-task form brings up the form; it is filled, accepted, and
# the tool's result shows the values. A binding to an unknown command
# stops the TUI naming the config's line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_tui.sh"

if [ ! -f "$EVERYTHING" ]; then
    fail "server-everything is installed" "missing: $EVERYTHING"
    e2e_done
fi

mkdir -p "$T/work"
BAD="$TOP/${BUILD:-build}/fixtures/badserver"
cat >"$T/work/mcpdeck.yaml" <<YAML
theme: mono
keys:
  "x": "memory"
servers:
  everything:
    command: node
    args: ["$EVERYTHING", stdio]
  asker: {command: "$BAD", args: [elicit-flood]}
YAML
export LC_ALL=C.UTF-8


# --- two entries before the TUI starts -----------------------------------------
cd "$T/work" || exit 1
"$MCPDECK" memory add "the deploy key rotates every month" >"$T/add1" 2>&1
"$MCPDECK" memory add "lunch is served at noon in the garden" >"$T/add2" 2>&1
check "mcpdeck memory add stores two entries" \
    test "$("$MCPDECK" memory list 2>/dev/null | grep -c .)" -ge 2

export T_ERR="$T/main.stderr"
start main
expect "the TUI starts" 10 on '1 Tasks' '3 Registry'
if tm capture-pane -e -p -t main | grep -qE '\[3[0-7];|\[38;5;'; then
    fail "theme: mono from the config is in use (no colours)" \
        "$(tm capture-pane -e -p -t main | head -3)"
else ok "theme: mono from the config is in use (no colours)"; fi

# --- the memory overlay ----------------------------------------------------------
keys m
expect "m opens the memory overlay with its search box" 5 on 'Memory' 'Search: '
text 'deploy key'
keys Enter
expect "Enter searches: the hit shows with score, namespace and id" 10 \
    on '0\.[0-9]{4} +shared +[0-9]+ +the deploy key rotates' '1 hit|[0-9]+ hits'
keys d
expect "d asks before deleting" 5 on 'delete entry [0-9]+\? y/n'
keys y
expect "y deletes it" 5 on 'deleted entry [0-9]+'
keys /
keys Enter
expect "searching again no longer finds it" 10 \
    on '!the deploy key rotates' 'hits? for "deploy key"'
keys a
text 'the office moves in June'
keys Enter
expect "a adds an entry (the default namespace)" 10 on 'added entry [0-9]+ in shared'
keys Escape
expect "Esc closes the overlay" 5 on '!Search: '

# --- a binding from the config -----------------------------------------------------
keys x
expect "keys: x from the config opens the memory overlay" 5 on 'Search: '
keys Escape
keys '?'
expect "the help lists the config's bindings" 5 on 'From the config' 'x +memory'
keys Escape

# --- elicitation ---------------------------------------------------------------------
expect "everything becomes ready" 20 on ' everything +(stdio +)?ready'
keys n
wait_for main 5 has "Tool (server.tool)" || true
text 'everything.trigger-elicitation-request'
keys Tab
keys Enter
expect "the elicitation form appears with the schema's fields" 15 \
    on 'everything asks' 'String\*' 'Integer +42' 'Boolean +\[ \] no'
keys Enter
expect "Enter with the required field empty is refused" 5 on 'String is required'
text 'Ada Lovelace'
keys Tab
keys Space
keys Enter
expect "Enter accepts; the tool's result shows the values" 15 \
    on 'Name: Ada Lovelace' 'Agreed to terms: true' 'Favorite Integer: 42'

# a second call, declined with Esc
keys n
wait_for main 5 has "Tool (server.tool)" || true
text 'everything.trigger-elicitation-request'
keys Tab
keys Enter
wait_for main 15 has "everything asks" || true
keys Escape
expect "Esc declines" 15 on 'declined'

# a server asking 20 questions at once: four forms wait, one at a time,
# and the rest are refused at once, saying why
keys n
wait_for main 5 has "Tool (server.tool)" || true
text 'asker.echo'
keys Tab
keys Enter
expect "a flood of questions: one form shows, with more waiting" 15 on 'asker asks.*\+more' 'question 1'
for i in 1 2 3 4; do
    wait_for main 5 has "asker asks" || true
    keys Escape
    sleep 0.3
done
expect "four were asked, sixteen refused" 15 \
    on 'elicitation: 4 answered, 16 refused \(first error: server' 'asker already has 4 questions'

keys q
dead() { ended main; }
wait_for main 5 dead || true
if ended main; then ok "q quits"; else fail "q quits" "$(why)"; fi
tm kill-session -t main 2>/dev/null

# --- a binding to an unknown command stops the TUI ----------------------------------
cat >"$T/work/mcpdeck.yaml" <<YAML
servers: {}
keys:
  "x": "frobnicate"
YAML
start bad
bad_dead() { ended bad; }
wait_for bad 5 bad_dead || true
contains "keys: with an unknown command is refused naming file:line:col" "$T/main.stderr" \
    "mcpdeck.yaml:3:8: key 'x': unknown command 'frobnicate'"

e2e_done
