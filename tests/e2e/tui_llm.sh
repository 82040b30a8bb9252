#!/bin/sh
# End to end: model tasks in the TUI under tmux, against the local stand-in
# for the model APIs (tests/fixtures/llm_standin.cjs) and server-everything.
# A model task made in the new-task form streams into Results (a broken
# stream's restart is shown, then the answer of the fallback model) and
# ends succeeded; a long answer is followed to its end; a destructive tool
# call asks for approval in a modal box that survives a resize: y lets the
# call run, n refuses it, Ctrl-C with a question open still quits cleanly;
# without providers the form shows what is missing and submits nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_tui.sh"

standin=""
cleanup() {
    tm kill-server >/dev/null 2>&1
    [ -n "$standin" ] && kill "$standin" 2>/dev/null
}

if [ ! -f "$EVERYTHING" ]; then
    fail "server-everything is needed (scripts/deps.sh test installs it)"
    e2e_done
fi
export LC_ALL=C.UTF-8
export STANDIN_KEY="sk-standin-tui-7c2e"

node "$TOP/tests/fixtures/llm_standin.cjs" --port 0 --log "$T/standin.log" >"$T/standin.out" 2>&1 &
standin=$!
i=0
while ! grep -q '^listening' "$T/standin.out" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
PORT=$(sed -n 's/^listening //p' "$T/standin.out")
check "the stand-in is up" [ -n "$PORT" ]

mkdir -p "$T/work" "$T/none"
cat >"$T/work/mcpdeck.yaml" <<YAML
providers:
  oa: {type: openai, base_url: "http://127.0.0.1:$PORT/v1", api_key_env: STANDIN_KEY}
models:
  oa-cut:   {provider: oa, model: oa/cut, price_in: 1, price_out: 1}
  oa-slow:  {provider: oa, model: oa/slow-3000, price_in: 1, price_out: 1}
  oa-long:  {provider: oa, model: oa/long-400, price_in: 1, price_out: 1}
  oa-tools: {provider: oa, model: oa/echo-tools, price_in: 1, price_out: 1}
strategies: {quality: [oa-cut, oa-slow]}
llm: {retries: 0}
servers:
  everything:
    command: node
    args: ["$EVERYTHING", stdio]
    task_types: [review]
tools: {destructive: ["everything.echo"]}
YAML
printf 'servers: {}\n' >"$T/none/mcpdeck.yaml"

lacks() { ! grep -qF -- "$1"; }
both() { grep -qF -- "$1" "$T/screen" && grep -qF -- "$2" "$T/screen"; }
# model_task SESSION PROMPT [MODEL]: open the form, choose the review type
# (r on the Kind row: refactor, then review), fill it in and submit.
model_task() {
    tm send-keys -t "$1" n
    wait_for "$1" 5 has "Tool (server.tool)" || return 1
    tm send-keys -t "$1" BTab r r
    wait_for "$1" 5 has "review (model task)" || return 1
    tm send-keys -t "$1" Tab
    tm send-keys -t "$1" -l "$2"
    tm send-keys -t "$1" Tab
    [ -n "${3:-}" ] && tm send-keys -t "$1" -l "$3"
    tm send-keys -t "$1" Enter
}
DB="$XDG_DATA_HOME/mcpdeck/mcpdeck.db"
last_result() {
    sqlite3 "$DB" "SELECT status || ' ' || COALESCE(r.body, '') FROM jobs j
                   LEFT JOIN results r ON r.job_id = j.id ORDER BY j.id DESC LIMIT 1" 2>/dev/null
}

TUI_DIR="$T/work" start main "STANDIN_KEY=$STANDIN_KEY"
expect "the TUI starts with server-everything ready" 20 grep -qE ' everything +(stdio +)?ready'

# --- 1. a broken stream restarts; the fallback's answer replaces it ------
model_task main "say something"
if wait_for main 10 both "(the model's answer restarts)" "review (model task)"; then
    ok "a model task from the form shows in Results that its streamed answer restarts"
else fail "a model task from the form shows in Results that its streamed answer restarts" \
    "$(why main)"; fi
if wait_for main 15 both "ok from oa/slow-3000" "succeeded"; then
    ok "the fallback model's answer replaces the stream and the task succeeds"
else fail "the fallback model's answer replaces the stream and the task succeeds" \
    "$(why main)"; fi
if grep -qE 'succeeded +review \(model\)' "$T/screen" && lacks "answer restarts" <"$T/screen"
then ok "Tasks lists it as a succeeded review model task; the restart note is gone"
else fail "Tasks lists it as a succeeded review model task; the restart note is gone" \
    "$(why main)"; fi

# --- 2. a long answer is followed to its end ----------------------------
model_task main "write at length" oa-long
# 400 words cycling through 20: the last ones are "... one small queue"
if wait_for main 15 has "one small queue" &&
    wait_for main 10 has "succeeded" && lacks "write at length" <"$T/screen" &&
    grep -qE '[0-9]+-([0-9]+)/\1 ' "$T/screen"; then
    ok "a long streamed answer is shown scrolled to its end"
else fail "a long streamed answer is shown scrolled to its end" "$(why main)"; fi
[ "$(last_result | cut -d' ' -f1)" = succeeded ] && ok "the long task succeeded" ||
    fail "the long task succeeded" "$(last_result | head -c 300)"

# --- 3. approval: asked in a modal box, y lets the call run ---------------
model_task main "echo something" oa-tools
if wait_for main 10 both "allow? y/n" 'everything.echo {"message":"hello from the model"}'
then ok "a destructive tool call asks for approval, naming the tool and its arguments"
else fail "a destructive tool call asks for approval, naming the tool and its arguments" \
    "$(why main)"; fi
tm resize-window -t main -x 90 -y 30
if wait_for main 5 has "allow? y/n" && [ "$(LC_ALL=C.UTF-8 wc -L <"$T/screen")" -le 90 ]
then ok "the question stays on screen after a resize"
else fail "the question stays on screen after a resize" "$(why main)"; fi
sleep 0.3
if screen main | grep -qF "running"; then ok "the task waits (running) while the question is open"
else fail "the task waits (running) while the question is open" "$(why main)"; fi
tm send-keys -t main y
if wait_for main 10 both "the tool said: Echo: hello from the model" "succeeded" &&
    lacks "allow? y/n" <"$T/screen"; then
    ok "y lets the call run and the answer has the tool's result"
else fail "y lets the call run and the answer has the tool's result" "$(why main)"; fi

# --- 4. n refuses -------------------------------------------------------
model_task main "echo again" oa-tools
wait_for main 10 has "allow? y/n" || true
tm send-keys -t main n
if wait_for main 10 both "refused" "succeeded" && lacks "allow? y/n" <"$T/screen" &&
    lacks "Echo: hello from the model" <"$T/screen"; then
    ok "n refuses the call and the model is told"
else fail "n refuses the call and the model is told" "$(why main)"; fi
case $(last_result) in
*"refused by the user"*) ok "the stored answer says the user refused" ;;
*) fail "the stored answer says the user refused" "$(last_result | head -c 300)" ;;
esac

# --- quitting with a question open: refused on the way out, status 0 ----
model_task main "echo once more" oa-tools
wait_for main 10 has "allow? y/n" || true
tm send-keys -t main q                 # not an answer: the question stays
sleep 0.2
if screen main | grep -qF "allow? y/n"; then ok "other keys leave the question open"
else fail "other keys leave the question open" "$(why main)"; fi
tm send-keys -t main C-c
if wait_for main 10 dead main && [ "$(tm display-message -p -t main '#{pane_dead_status}')" = 0 ]
then ok "Ctrl-C with a question open quits with status 0"
else fail "Ctrl-C with a question open quits with status 0" "$(why main)"; fi

# --- 5. no providers: the form says what is missing, nothing is queued --
TUI_DIR="$T/none" start none "STANDIN_KEY=$STANDIN_KEY"
wait_for none 10 has "Registry" || true
tm send-keys -t none n
wait_for none 5 has "Tool (server.tool)" || true
tm send-keys -t none Up r r
if wait_for none 5 both "review (model task)" "no model is configured: add 'providers:'"; then
    ok "choosing a model task without providers shows the missing config at once"
else fail "choosing a model task without providers shows the missing config at once" \
    "$(why none)"; fi
before=$(sqlite3 "$DB" "SELECT COUNT(*) FROM jobs" 2>/dev/null)
tm send-keys -t none Tab
tm send-keys -t none -l "anything"
tm send-keys -t none C-s               # (Enter in the Prompt starts a new line)
sleep 0.3
if wait_for none 5 both "no model is configured" "Prompt" &&
    [ "$(sqlite3 "$DB" "SELECT COUNT(*) FROM jobs" 2>/dev/null)" = "$before" ]; then
    ok "submitting it keeps the form open with the sentence and queues nothing"
else fail "submitting it keeps the form open with the sentence and queues nothing" \
    "$(why none)"; fi
tm send-keys -t none Escape q
wait_for none 10 dead none || true
e2e_done
