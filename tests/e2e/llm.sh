#!/bin/sh
# The LLM gateway and model tasks, against local stand-ins for the OpenAI
# and Anthropic HTTP APIs (tests/fixtures/llm_standin.cjs: the paid APIs
# cannot run here) and a real MCP server (server-everything): plain and
# streamed answers in both dialects, costs, fallback order, Retry-After,
# breakers across retries and tasks, budgets refused before the call, no
# truncated success, tool calls run for real and fed back, tool policy,
# sampling requests answered, and model tasks without a provider.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
DB="$T/data/mcpdeck/mcpdeck.db"
sql() { sqlite3 "$DB" "$1"; }
export STANDIN_KEY="sk-standin-e2e-4b1f9d"

: >standin.out
node "$TOP/tests/fixtures/llm_standin.cjs" --port 0 --log "$T/standin.log" >standin.out 2>&1 &
standin=$!
trap 'kill $standin 2>/dev/null' EXIT
i=0
while ! grep -q '^listening' standin.out && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
PORT=$(sed -n 's/^listening //p' standin.out)
check "the stand-in is up" [ -n "$PORT" ]
# requests the stand-in saw for a model (its log is buffered: stats are live)
seen() { curl -s "http://127.0.0.1:$PORT/stats" | node -e '
let s = ""; process.stdin.on("data", d => s += d).on("end", () =>
  console.log(JSON.parse(s)[process.argv[1]] || 0));' "$1"; }

cat > mcpdeck.yaml <<YAML
providers:
  oa: {type: openai, base_url: "http://127.0.0.1:$PORT/v1", api_key_env: STANDIN_KEY}
  an: {type: anthropic, base_url: "http://127.0.0.1:$PORT", api_key_env: STANDIN_KEY}
models:
  oa-ok:     {provider: oa, model: oa/ok, price_in: 2, price_out: 10}
  an-ok:     {provider: an, model: an/ok, price_in: 3, price_out: 15}
  oa-auth:   {provider: oa, model: oa/auth, price_in: 1, price_out: 1}
  an-auth:   {provider: an, model: an/auth, price_in: 1, price_out: 1}
  oa-500:    {provider: oa, model: oa/e500, price_in: 1, price_out: 1}
  an-429:    {provider: an, model: an/r429, price_in: 1, price_out: 1}
  an-429x:   {provider: an, model: an/r429-always, price_in: 1, price_out: 1}
  oa-cut:    {provider: oa, model: oa/cut, price_in: 1, price_out: 1}
  an-cut:    {provider: an, model: an/cut, price_in: 1, price_out: 1}
  oa-bad:    {provider: oa, model: oa/malformed, price_in: 1, price_out: 1}
  oa-long:   {provider: oa, model: oa/long-30, price_in: 1, price_out: 1}
  oa-max:    {provider: oa, model: oa/max-tokens, price_in: 1, price_out: 1}
  oa-tools:  {provider: oa, model: oa/echo-tools, price_in: 1, price_out: 1}
  an-tools:  {provider: an, model: an/echo-tools, price_in: 1, price_out: 1}
  pricey:    {provider: oa, model: oa/pricey-ok, price_in: 100, price_out: 900}
aliases: {big: oa-ok, small: an-ok}
strategies:
  quality: [oa-500, an-429x, oa-ok]
  cost: [oa-cut, oa-long]
llm: {retries: 1, breaker: {failures: 2, cooldown: 60s}}
sampling: {allow: [everything], model: oa-ok, max_tokens: 100}
servers:
  everything:
    command: node
    args: ["$EVERYTHING", stdio]
    task_types: [review, debug]
YAML

# === plain and streamed answers, both dialects; cost from the prices ===
for m in oa-ok an-ok; do
    "$MCPDECK" run --type debug --model "$m" "why is the build slow" >"$m.out" 2>"$m.err"
    expect_exit "$m answers a model task" 0 $?
    contains "$m's streamed answer is printed" "$m.out" "ok from"
done
check "usage rows have tokens and the cost from the configured prices" node -e '
const rows = JSON.parse(process.argv[1]);
for (const r of rows) {
  const [pin, pout] = r.model === "oa-ok" ? [2, 10] : [3, 15];
  const want = (r.tokens_in * pin + r.tokens_out * pout) / 1e6;
  if (!(r.tokens_in > 0 && r.tokens_out > 0) || Math.abs(r.cost - want) > 1e-12 || r.status !== "ok") {
    console.error(r, want); process.exit(1); }
}
if (rows.length !== 2) { console.error(rows); process.exit(1); }' \
    "$(sqlite3 -json "$DB" "SELECT model, tokens_in, tokens_out, cost, status FROM usage ORDER BY id")"
check "the API key went in the provider's header (auth models answer)" sh -c \
    "\"$MCPDECK\" run --type debug --model oa-auth x >/dev/null 2>&1 && \"$MCPDECK\" run --type debug --model an-auth x >/dev/null 2>&1"

# === the fallback cascade, Retry-After, and the order it was tried in ===
curl -s -X POST "http://127.0.0.1:$PORT/reset" >/dev/null
"$MCPDECK" run --type debug "fall back please" >fb.out 2>fb.err
expect_exit "the quality strategy falls back to a working model" 0 $?
contains "the answer came from the last model in the list" fb.out "ok from oa/ok"
chain=$(sql "SELECT chain FROM usage ORDER BY id DESC LIMIT 1")
check "the chain shows the order: 500 retried, breaker, then 429 retried after Retry-After, then ok" \
    node -e '
const c = process.argv[1];
const i500 = c.indexOf("oa-500"), i429 = c.indexOf("an-429x"), iok = c.indexOf("oa-ok: ok");
if (!(i500 === 0 && i429 > i500 && iok > i429 && /an-429x: 429: [^;]*retry in 1000 ms/.test(c))) {
  console.error(c); process.exit(1); }' "$chain"
check "the 500 model was tried 1 + retries times" [ "$(seen oa/e500)" -eq 2 ]
check "the 429 model was retried once, after its Retry-After" [ "$(seen an/r429-always)" -eq 2 ]
"$MCPDECK" run --type debug --model an-429 "retry then answer" >r429.out 2>&1
contains "a 429 followed by an answer is a success from that model" r429.out "ok from an/r429"

# === a model's breaker holds across tasks: the next task skips it ===
cat > two.yaml <<YAML
- {id: a, type: debug, prompt: "first"}
- {id: b, type: debug, prompt: "second", needs: [a]}
YAML
curl -s -X POST "http://127.0.0.1:$PORT/reset" >/dev/null
"$MCPDECK" --batch two.yaml --format json -o two.json 2>two.err
expect_exit "both model tasks pass through the fallback" 0 $?
check "after the breaker opened, the second task did not call the failing model" \
    [ "$(seen oa/e500)" -eq 2 ]
check "the second task's chain says the breaker was open" \
    sh -c "sqlite3 '$DB' 'SELECT chain FROM usage ORDER BY id DESC LIMIT 1' | grep -q 'oa-500: breaker open'"

# === no truncated success ===
cat > cutonly.yaml <<YAML
providers:
  oa: {type: openai, base_url: "http://127.0.0.1:$PORT/v1", api_key_env: STANDIN_KEY}
  an: {type: anthropic, base_url: "http://127.0.0.1:$PORT", api_key_env: STANDIN_KEY}
models:
  oa-cut:  {provider: oa, model: oa/cut, price_in: 1, price_out: 1}
  an-cut:  {provider: an, model: an/cut, price_in: 1, price_out: 1}
  oa-max:  {provider: oa, model: oa/max-tokens, price_in: 1, price_out: 1}
strategies: {quality: [oa-cut]}
YAML
"$MCPDECK" -c cutonly.yaml run --type debug --model oa-cut "cut me" >cut.out 2>cut.err
check "a stream cut mid-answer with nothing to fall back to fails" [ $? -ne 0 ]
printf -- '- {id: c, type: debug, prompt: "cut", model: an-cut}\n' >cut.yaml
"$MCPDECK" -c cutonly.yaml --batch cut.yaml --format json -o cut.json 2>/dev/null
check "the cut task is failed, saying the stream broke, with no result" node -e '
const t = require("./cut.json").tasks[0];
if (t.status !== "failed" || !/stream broke/.test(t.error) || t.result) { console.error(t); process.exit(1); }'
"$MCPDECK" -c cutonly.yaml run --type debug --model oa-max "long please" >max.out 2>max.err
check "an answer cut at max_tokens is a failure that says so" sh -c \
    "grep -q 'cut at max_tokens' max.err"
curl -s -X POST "http://127.0.0.1:$PORT/reset" >/dev/null
printf -- '- {id: f, type: debug, prompt: "fallback after a cut", model: oa-cut}\n' >cutfb.yaml
cat > cost.yaml <<YAML
providers:
  oa: {type: openai, base_url: "http://127.0.0.1:$PORT/v1", api_key_env: STANDIN_KEY}
models:
  oa-cut:  {provider: oa, model: oa/cut, price_in: 1, price_out: 1}
  oa-bad:  {provider: oa, model: oa/malformed, price_in: 1, price_out: 1}
  oa-long: {provider: oa, model: oa/long-30, price_in: 1, price_out: 1}
strategies: {quality: [oa-cut, oa-bad, oa-long]}
llm: {retries: 0}
YAML
"$MCPDECK" -c cost.yaml --batch cutfb.yaml --format json -o cutfb.json --stream 2>cutfb.err
expect_exit "a cut stream and a malformed answer fall back to a model that answers" 0 $?
check "the result is the fallback's whole answer, not the cut one's start" node -e '
const t = require("./cutfb.json").tasks[0];
const words = t.result.trim().split(/\s+/);
if (t.status !== "succeeded" || words.length !== 30 || /ok from/.test(t.result)) {
  console.error(t); process.exit(1); }'
contains "--stream showed the withdrawn start and the restart" cutfb.err "the model's answer restarts"

# === budgets: refused before the request ===
cat > budget.yaml <<YAML
providers:
  oa: {type: openai, base_url: "http://127.0.0.1:$PORT/v1", api_key_env: STANDIN_KEY}
models:
  pricey: {provider: oa, model: oa/ok, price_in: 100, price_out: 900, max_tokens: 4000}
llm: {budget: {task: 0.5}}
YAML
before=$(seen oa/ok)
"$MCPDECK" -c budget.yaml run --type debug "expensive" >budget.out 2>&1
check "a call over the task budget is refused" [ $? -ne 0 ]
check "the refusal names the budget and the sums" \
    grep -Eq 'llm\.budget\.task: a call to pricey could cost up to \$3\.[0-9]+, the task has \$0\.5000 left' budget.out
check "no request was made" [ "$(seen oa/ok)" -eq "$before" ]

# === a timeout falls back; max_price keeps fallbacks cheap; the cache ===
cat > more.yaml <<YAML
providers:
  oa:   {type: openai, base_url: "http://127.0.0.1:$PORT/v1", api_key_env: STANDIN_KEY}
  slow: {type: openai, base_url: "http://127.0.0.1:$PORT/v1", api_key_env: STANDIN_KEY,
         timeout: 500ms}
models:
  hang:   {provider: slow, model: oa/hang, price_in: 1, price_out: 1}
  e500:   {provider: oa, model: oa/e500, price_in: 1, price_out: 1}
  pricey: {provider: oa, model: oa/pricey, price_in: 1, price_out: 50}
  cheap:  {provider: oa, model: oa/ok, price_in: 1, price_out: 2}
strategies: {cost: [e500, pricey, cheap]}
llm: {strategy: cost, retries: 0, max_price: 20, cache: {enabled: true, streams: true, ttl: 1h}}
YAML
curl -s -X POST "http://127.0.0.1:$PORT/reset" >/dev/null
"$MCPDECK" -c more.yaml run --type debug --model hang "hang then fall back" >hang.out 2>&1
expect_exit "a model that never answers times out and the fallbacks answer" 0 $?
check "the chain: hang timed out, e500 failed, pricey skipped (above max_price), cheap ok" \
    node -e '
const c = process.argv[1];
if (!/^hang: .*timed out.*; e500: 500: .*; cheap: ok$/.test(c) || /pricey/.test(c)) {
  console.error(c); process.exit(1); }' "$(sql 'SELECT chain FROM usage ORDER BY id DESC LIMIT 1')"
check "no request went to the model above max_price" [ "$(seen oa/pricey)" -eq 0 ]
before=$(seen oa/ok)
"$MCPDECK" -c more.yaml run --type debug --model cheap "cache me" >c1.out 2>/dev/null
"$MCPDECK" -c more.yaml run --type debug --model cheap "cache me" >c2.out 2>/dev/null
check "the same request twice reached the provider once (the cache answered)" \
    [ "$(seen oa/ok)" -eq $((before + 1)) ]
check "the cached answer is the same" cmp -s c1.out c2.out
check "it is recorded as a cache hit at no cost" \
    [ "$(sql "SELECT cache_hit || '/' || cost FROM usage ORDER BY id DESC LIMIT 1")" = "1/0.0" ]

# === the speed strategy orders models by measured latency ===
cat > speed.yaml <<YAML
providers:
  oa: {type: openai, base_url: "http://127.0.0.1:$PORT/v1", api_key_env: STANDIN_KEY}
models:
  slow: {provider: oa, model: oa/slow-400, price_in: 1, price_out: 1}
  fast: {provider: oa, model: oa/ok, price_in: 1, price_out: 1}
strategies: {speed: [slow, fast]}
llm: {strategy: speed}
YAML
"$MCPDECK" -c speed.yaml run --type debug "first" >s1.out 2>/dev/null
"$MCPDECK" -c speed.yaml run --type debug "second" >s2.out 2>/dev/null
"$MCPDECK" -c speed.yaml run --type debug "third" >s3.out 2>/dev/null
check "unmeasured, the list order holds: the first call went to slow" grep -q "ok from oa/slow-400" s1.out
check "once slow was measured, the unmeasured fast model was tried first" grep -q "ok from oa/ok" s2.out
check "and with both measured, the faster one stays first" grep -q "ok from oa/ok" s3.out

# === tool calls run on a real MCP server and are fed back ===
for m in oa-tools an-tools; do
    "$MCPDECK" run --type review --model "$m" "echo something with the echo tool" >"$m.out" 2>"$m.err"
    expect_exit "$m: a model task with a tool round" 0 $?
    contains "$m: the final answer has the real tool result" "$m.out" \
        "the tool said: Echo: hello from the model"
done
id=$(sql "SELECT MAX(id) FROM jobs WHERE kind = 'model'")
check "every model turn and tool call is a job event" node -e '
const ev = JSON.parse(process.argv[1]);
const kinds = ev.map(e => e.kind).join(" ");
const tool = ev.find(e => e.kind === "tool");
const d = tool && JSON.parse(tool.data);
if (!/model.*tool.*model/.test(kinds) || d.server !== "everything" || d.tool !== "echo") {
  console.error(ev); process.exit(1); }' \
    "$(sqlite3 -json "$DB" "SELECT kind, data FROM events WHERE job_id = $id ORDER BY id")"

# === tool policy: a destructive tool needs approval; unattended, it is refused ===
cat >> mcpdeck.yaml <<YAML
tools: {destructive: ["everything.echo"]}
YAML
"$MCPDECK" run --type review --model oa-tools "echo again" >refused.out 2>&1
expect_exit "the task still ends (the model was told)" 0 $?
contains "the model was told the call was refused, and why" refused.out \
    "refused: everything.echo is destructive and needs approval"

# === sampling: server-everything asks, the gateway answers ===
"$MCPDECK" call everything trigger-sampling-request '{"prompt": "say hi", "maxTokens": 50}' \
    >sampling.out 2>sampling.err
expect_exit "the sampling tool call succeeds" 0 $?
contains "the server got the gateway's answer" sampling.out "ok from oa/ok"
# a server asking for 20 samples at once (each a paid call) gets
# sampling.concurrency of them answered and the rest refused, saying why
cat > flood.yaml <<YAML
providers:
  oa: {type: openai, base_url: "http://127.0.0.1:$PORT/v1", api_key_env: STANDIN_KEY}
models:
  oa-ok: {provider: oa, model: oa/ok, price_in: 2, price_out: 10}
sampling: {allow: [flood], model: oa-ok, max_tokens: 100, concurrency: 3}
servers:
  flood: {command: "$TOP/$BUILD/fixtures/badserver", args: [sample-flood]}
YAML
"$MCPDECK" -c flood.yaml call flood echo '{}' >flood.out 2>&1
expect_exit "a server flooding sampling requests: its call still ends" 0 $?
contains "... with 3 answered and 17 refused" flood.out \
    "sampling: 3 answered, 17 refused (first error: server flood already has 3 sampling requests at the model (sampling.concurrency)"

# === memory: the task's namespace gives context, answers are captured ===
cat >> mcpdeck.yaml <<YAML
memory: {capture: {document: documentation}}
YAML
"$MCPDECK" memory add "The release checklist lives in docs/RELEASING.md and needs two approvals" \
    --ns documentation >/dev/null 2>&1
"$MCPDECK" run --type document --model oa-ok "where is the release checklist documented" \
    >doc.out 2>&1
expect_exit "a document task runs" 0 $?
"$MCPDECK" memory search "ok from oa" --ns documentation --json >cap.json 2>&1
check "its answer was captured into the documentation namespace" \
    grep -q "ok from oa/ok" cap.json

# === without a provider, model tasks fail fast; tool tasks keep working ===
printf 'servers: {}\n' >none.yaml
"$MCPDECK" -c none.yaml run --type review "anything" >none.out 2>&1
expect_exit "a model task without a provider is refused" 2 $?
contains "the refusal names the config keys" none.out "add 'providers:'"
"$MCPDECK" -c none.yaml call fs list_directory '{"path": "."}' >/dev/null 2>&1
expect_exit "tool tasks still work" 0 $?

# === metrics and secrets ===
"$MCPDECK" metrics --no-check >m.prom 2>/dev/null
check "metrics pass promtool" promtool check metrics <m.prom
kill "$standin" 2>/dev/null
wait "$standin" 2>/dev/null
check "the API key never reached the database or the logs" sh -c \
    "! grep -rqF '$STANDIN_KEY' '$T/data'"
check "the memory hit went to the model with the task" \
    grep -q "Notes from the project's memory.*RELEASING.md" standin.log
check "the stand-in saw the key in the right headers" sh -c \
    "grep -q '\"authorization\":\"Bearer $STANDIN_KEY\"' standin.log && grep -q '\"x-api-key\":\"$STANDIN_KEY\"' standin.log"
e2e_done
