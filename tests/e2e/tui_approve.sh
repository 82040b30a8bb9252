#!/bin/sh
# End to end: a destructive tool task submitted in the TUI (fs.write_file,
# destructiveHint) asks for approval before it is sent; y lets it write,
# n refuses it with the reason; the same task in a batch is refused
# without asking (tools.approve would allow it).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_tui.sh"

mkdir -p "$T/work"
cd "$T/work" || exit 1
git init -q . 2>/dev/null
printf 'one\ntwo\nthree\n' >hello.txt
git add hello.txt && git -c user.name=t -c user.email=t@t commit -qm init
cat >fix.patch <<'PATCH'
Here is the change:

```diff
--- a/hello.txt
+++ b/hello.txt
@@ -1,3 +1,3 @@
 one
-two
+TWO
 three
```
PATCH
export LC_ALL=C.UTF-8

tm start-server \; set-option -g remain-on-exit on \; \
    new-session -d -s main -x 120 -y 40 -c "$T/work" \
    -e "XDG_DATA_HOME=$XDG_DATA_HOME" -e "XDG_CONFIG_HOME=$XDG_CONFIG_HOME" \
    -e "LC_ALL=$LC_ALL" -e "TERM=screen-256color" \
    sh -c 'exec "$0" 2>"$1"' "$MCPDECK" "$T/main.stderr"


submit() {   # submit PATH: fs.write_file of PATH through the new-task form
    tm send-keys -t main n
    wait_for main 5 has "Tool (server.tool)" || true
    tm send-keys -t main -l "fs.write_file"
    tm send-keys -t main Tab
    tm send-keys -t main -l "{\"path\":\"$1\",\"content\":\"written\"}"
    tm send-keys -t main Enter
}

wait_for main 10 grep -qE ' fs +(builtin +)?ready' || true
submit yes.txt
if wait_for main 10 has "Approve?" && has "fs.write_file" <"$T/screen"; then
    ok "a destructive tool task asks before it is sent"
else
    fail "a destructive tool task asks before it is sent" "$(cat "$T/screen")"
fi
check "nothing was written before the answer" [ ! -e yes.txt ]
tm send-keys -t main y
i=0
while [ ! -e yes.txt ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "y let it run: the file is written" grep -qx written yes.txt

submit no.txt
wait_for main 10 has "Approve?" || true
tm send-keys -t main n
if wait_for main 10 has "the user said no"; then
    ok "n refused it, saying so"
else
    fail "n refused it, saying so" "$(cat "$T/screen")"
fi
check "nothing was written" [ ! -e no.txt ]

# a result holding a diff: shown, then applied only after a y
tm send-keys -t main n
wait_for main 5 has "Tool (server.tool)" || true
tm send-keys -t main -l "fs.read_text_file"
tm send-keys -t main Tab
tm send-keys -t main -l '{"path":"fix.patch"}'
tm send-keys -t main Enter
wait_for main 10 has "+TWO" || true
tm send-keys -t main 2
tm send-keys -t main a
if wait_for main 5 has "apply the diff to the work tree? y/n"; then
    ok "a applies the diff in the result only after asking"
else
    fail "a applies the diff in the result only after asking" "$(cat "$T/screen")"
fi
check "nothing changed before the answer" grep -qx two hello.txt
tm send-keys -t main y Enter
if wait_for main 5 has "applied the diff: 1 file changed"; then
    ok "y applied it, saying so"
else
    fail "y applied it, saying so" "$(cat "$T/screen")"
fi
check "the work tree has the change" grep -qx TWO hello.txt
tm send-keys -t main a
wait_for main 5 has "the diff does not apply" || true
check "applying it twice is refused (it no longer applies)" has "the diff does not apply" <"$T/screen"
tm send-keys -t main q
sleep 0.5

printf -- '- {id: w, tool: fs.write_file, args: {path: batch.txt, content: x}}\n' >w.yaml
"$MCPDECK" --batch w.yaml >w.out 2>&1
expect_exit "unattended, the destructive task is refused (exit 1)" 1 $?
contains "the refusal names the setting that allows it" w.out "tools.approve"
check "nothing was written" [ ! -e batch.txt ]
printf 'tools: {approve: ["fs.write_file"]}\n' >mcpdeck.yaml
"$MCPDECK" --batch w.yaml >w2.out 2>&1
expect_exit "with tools.approve it runs" 0 $?
check "and writes" grep -qx x batch.txt
e2e_done
