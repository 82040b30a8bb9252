#!/bin/sh
# The registry, health checks, circuit breakers and the router, end to end.
# A flaky server (tests/fixtures/badserver.c: the first N calls and pings
# fail with an internal error, then it behaves) is preferred by config but
# fails: its breaker opens, routed tasks go to the healthy alternative, the
# half-open trial succeeds after the cooldown, and routing returns to it.
# Also: dry-run and --explain show the scores, a task nothing can do is
# refused with what each server lacked, profiles come from the catalog,
# the config or the tools, run-time registry changes persist, and the
# Prometheus output passes promtool.
. "$(dirname "$0")/lib.sh"
BAD="$TOP/$BUILD/fixtures/badserver"
[ -x "$BAD" ] || BAD="$TOP/build/fixtures/badserver"
cd "$T" || exit 1
DB="$T/data/mcpdeck/mcpdeck.db"
sql() { sqlite3 "$DB" "$1"; }

cat > mcpdeck.yaml <<YAML
health: {interval: 1s, window: 3}
breaker: {failures: 2, cooldown: 1s}
servers:
  flaky:
    command: "$BAD"
    args: [flaky]
    env: {BADSERVER_FAILS: "3", BADSERVER_STATE: "$T/flaky.count", BADSERVER_NAME: flaky}
    capabilities: [code_analysis]
    task_types: [review]
    preference: 0.9
  steady:
    command: "$BAD"
    args: [good]
    env: {BADSERVER_NAME: steady}
    capabilities: [code_analysis]
    task_types: [review]
    preference: 0.1
  plain:
    command: "$BAD"
    args: [no-ping]
YAML

# === profiles: catalog (fs), config (flaky), derived from tools (plain) ===
"$MCPDECK" servers caps --json >caps.json 2>caps.err
expect_exit "servers caps runs" 0 $?
check "profiles say where they come from" node -e '
const by = Object.fromEntries(require("./caps.json").map(s => [s.name, s]));
const ok = by.fs.source === "catalog" && by.fs.catalog === "fs" &&
  by.fs.capabilities.includes("file_operations") &&
  by.flaky.source === "config" && by.flaky.capabilities.join() === "code_analysis" &&
  by.flaky.task_types.join() === "review" &&
  by.plain.source === "derived" && by.plain.capabilities.includes("mcp_diagnostics");
if (!ok) { console.error(JSON.stringify(by)); process.exit(1); }'

# === the dry run explains each route ===
cat > routed.yaml <<YAML
- {id: t1, type: review, tool: echo, retries: 4}
- {id: t2, type: review, tool: echo, retries: 4, needs: [t1]}
- {id: wait, tool: steady.nap, args: {ms: 6000}, needs: [t2]}
- {id: t3, type: review, tool: echo, needs: [wait]}
YAML
"$MCPDECK" --batch routed.yaml --dry-run >plan.out 2>&1
expect_exit "dry run of a routed batch" 0 $?
check "the plan shows each candidate's score with the choice marked" sh -c \
    "grep -Eq '^ +\\* flaky +0\\.[0-9]+ ' plan.out && grep -Eq '^ +steady +0\\.[0-9]+ ' plan.out && grep -q \"excluded: has no tool 'echo'\" plan.out"
check "the dry run ran nothing" [ "$(sql 'SELECT COUNT(*) FROM jobs')" -eq 0 ]

# === the breaker opens, routing moves, the trial succeeds, routing returns ===
"$MCPDECK" --batch routed.yaml --format json -o routed.json --metrics-file "$T/m.prom" \
    2>routed.err
expect_exit "the routed batch passes" 0 $?
job() { sql "SELECT id FROM jobs WHERE key = '$1'"; }
routes() { sql "SELECT group_concat(json_extract(data, '\$.chosen'), ' ') FROM (SELECT data FROM events WHERE kind = 'route' AND job_id = $(job "$1") ORDER BY id)"; }
check "t1 went to flaky, failed there, and its retry went to steady" \
    [ "$(routes t1)" = "flaky steady" ]
check "t1 took two attempts" [ "$(sql "SELECT attempts FROM jobs WHERE key = 't1'")" -eq 2 ]
check "t2 was routed to steady while the breaker was open" [ "$(routes t2)" = "steady" ]
check "t3 was routed to flaky again after it recovered" [ "$(routes t3)" = "flaky" ]
check "t3's answer came from flaky" node -e '
const r = require("./routed.json");
const t3 = r.tasks.find(t => t.id === "t3");
if (!/echo from badserver flaky/.test(t3.result) || t3.tool !== "flaky.echo (routed: review)") {
  console.error(JSON.stringify(t3)); process.exit(1); }'
check "the stored route has every candidate's score breakdown" node -e '
const r = JSON.parse(process.argv[1]);
const s = Object.fromEntries(r.servers.map(x => [x.name, x]));
const ok = r.chosen === "flaky" && r.request.type === "review" && r.tool === "echo" &&
  ["capability", "fit", "health", "preference", "total"].every(k => typeof s.flaky[k] === "number") &&
  s.fs && s.steady;
if (!ok) { console.error(process.argv[1]); process.exit(1); }' \
    "$(sql "SELECT route_json FROM jobs WHERE key = 't3'")"
hist() { sql "SELECT group_concat(state, ' ') FROM (SELECT state FROM servers_health WHERE server = 'flaky' AND state NOT LIKE 'check-%' ORDER BY id)"; }
check "flaky's history: breaker open, half-open, closed; unhealthy then healthy" sh -c '
h="$1"
case "$h" in *breaker-open*breaker-half-open*breaker-closed*) ;; *) echo "$h"; exit 1 ;; esac
case "$h" in *unhealthy*healthy) ;; *) echo "$h"; exit 1 ;; esac' - "$(hist)"
check "a server that does not answer ping is checked with tools/list" \
    [ "$(sql "SELECT COUNT(*) FROM servers_health WHERE server = 'plain' AND state = 'healthy' AND error LIKE 'tools/list answered in%'")" -ge 1 ]
check "checks are recorded with their latency" \
    [ "$(sql "SELECT COUNT(*) FROM servers_health WHERE server = 'steady' AND state = 'check-ok' AND latency_ms >= 0")" -ge 1 ]

# === an open breaker fails calls to its server fast, saying when it retries ===
sed -e 's/BADSERVER_FAILS: "3"/BADSERVER_FAILS: "1000"/' -e "s#flaky.count#flaky2.count#" \
    mcpdeck.yaml >down.yaml
printf -- '- {id: f, tool: flaky.echo, retries: 3}\n' >direct.yaml
"$MCPDECK" -c down.yaml --batch direct.yaml --format json -o direct.json 2>direct.err
expect_exit "calls to a failing server fail" 1 $?
check "after the breaker opened, the attempt failed fast saying when it retries" node -e '
const f = require("./direct.json").tasks[0];
if (f.attempts !== 3 || !/circuit breaker open after 2 consecutive failures; it will be retried at [0-9:]{8}/.test(f.error)) {
  console.error(JSON.stringify(f)); process.exit(1); }'
check "the failing server made only the calls the breaker let through" \
    [ "$(cat "$T/flaky2.count")" -le 5 ]

# === metrics ===
check "the metrics file passes promtool" promtool check metrics <m.prom
check "the metrics file counts the calls per server and tool" \
    grep -Eq '^mcpdeck_tool_calls_total\{server="flaky",tool="echo"\} [1-9]' m.prom
check "breaker opens are visible as state (closed again at the end)" \
    grep -q '^mcpdeck_breaker_state{target="flaky"} 0' m.prom
"$MCPDECK" metrics >live.prom 2>/dev/null
expect_exit "mcpdeck metrics runs" 0 $?
check "mcpdeck metrics passes promtool" promtool check metrics <live.prom
check "mcpdeck metrics has health and check latency per server" sh -c \
    "grep -q '^mcpdeck_server_health{server=\"steady\"} 1' live.prom && grep -q '^mcpdeck_health_check_seconds_count{server=\"steady\"} [1-9]' live.prom"
printf 'broken_metric{ 1\n' >bad.prom
check "promtool really checks (a broken file fails)" sh -c '! promtool check metrics <bad.prom 2>/dev/null'

# === no candidate: what was needed, who lacked what ===
printf -- '- {id: d, type: deploy, tool: echo}\n' >nocand.yaml
"$MCPDECK" --batch nocand.yaml >nocand.out 2>&1
expect_exit "a task no server can do is refused before anything runs" 2 $?
contains "the refusal names the required capabilities" nocand.out \
    "no server can route a 'deploy' task: it needs command_execution, repository_management"
contains "the refusal says what each server lacked" nocand.out \
    "steady lacks command_execution, repository_management"
contains "the refusal points at the task" nocand.out "nocand.yaml:1:31"

# === run --explain ===
"$MCPDECK" run --type review --tool echo --explain >run.out 2>run.err
expect_exit "run --explain routes and runs one task" 0 $?
check "run --explain prints the candidates and the answer" sh -c \
    "grep -q \"routing a heavy 'review' task\" run.out && grep -Eq '^\\* (flaky|steady) ' run.out && grep -q 'echo from badserver' run.out"
"$MCPDECK" run --type review "check it" >model.out 2>&1
expect_exit "a model task without a model is refused" 2 $?
contains "the refusal says what is missing" model.out "a 'review' task needs a model: no model is configured"
"$MCPDECK" run --type review --explain "search the files for a pattern" >tools.out 2>&1
check "a model task gets the few relevant tools, best first" sh -c \
    "grep -A1 '^tools for the model' tools.out | tail -1 | grep -qx '  fs.search'"

# === run-time registry changes persist; a disabled server is not routed ===
"$MCPDECK" servers disable steady >/dev/null 2>&1
expect_exit "servers disable" 0 $?
"$MCPDECK" run --type review --tool echo --explain >dis.out 2>&1
check "a disabled server is excluded from routing, with the reason" \
    grep -Eq '^x steady .*excluded: disabled' dis.out
"$MCPDECK" servers enable steady >/dev/null 2>&1
"$MCPDECK" servers add extra -- "$BAD" good >/dev/null 2>&1
expect_exit "servers add" 0 $?
"$MCPDECK" servers check >check.out 2>&1
check "the added server is registered and checked" grep -Eq '^extra +stdio +ready +healthy' check.out
check "steady is enabled again" grep -Eq '^steady +stdio +ready +healthy' check.out
"$MCPDECK" servers remove extra >/dev/null 2>&1
"$MCPDECK" servers >list.out 2>&1
check "a removed server is gone" sh -c '! grep -q "^extra " list.out'

# === bad capability in the config: file:line:col ===
cat > bad.yaml <<YAML
servers:
  x:
    command: "$BAD"
    capabilities: [code_analysis, mind_reading]
YAML
"$MCPDECK" -c bad.yaml servers >bad.out 2>&1
expect_exit "an unknown capability in the config is an error" 2 $?
contains "the error names the file, line and capability" bad.out "bad.yaml:2:3"
contains "the error names the capability" bad.out "mind_reading"

sleep 0.3
check "no badserver process is left behind" [ "$(count_procs "$BAD" "$T")" -eq 0 ]
e2e_done
