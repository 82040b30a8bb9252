#!/bin/sh
# `mcpdeck serve`: the official TypeScript SDK client over stdio (tool list,
# calls through mcpdeck, memory, progress, cancellation, the task tools, an
# open breaker), mcpdeck's own client against mcpdeck serve, and the stdio
# rules (nothing but JSON-RPC on stdout, a clean exit when stdin closes).
. "$(dirname "$0")/lib.sh"
BAD="$TOP/${BUILD:-build}/fixtures/badserver"
[ -x "$BAD" ] || BAD="$TOP/build/fixtures/badserver"
cd "$T" || exit 1

cat > inner.yaml <<YAML
data_dir: $T/inner-data
servers:
  everything: {command: node, args: ["$EVERYTHING"]}
YAML

scenario main "the SDK client scenario passes" \
    node "$TOP/tests/e2e/serve_client.mjs" main -- "$MCPDECK" -c inner.yaml serve

# a client that answers sampling and elicitation: server requests relayed to
# it, resource subscriptions through serve, lists in pages
cat > relay.yaml <<YAML
data_dir: $T/relay-data
servers:
  everything: {command: node, args: ["$EVERYTHING"]}
serve: {page_size: 5, relay_timeout: 3s}
YAML
scenario relay "the relay scenario passes" \
    node "$TOP/tests/e2e/serve_client.mjs" relay -- "$MCPDECK" -c relay.yaml serve
check "the log says what was relayed" \
    grep -q "sampling/createMessage relayed to the outer client" "$T/relay-data/logs/mcpdeck.log"

# the same with mcpdeck's client reaching server-everything over Streamable
# HTTP: its requests come on a call's event stream and are answered by POST,
# the subscription's updates on the GET stream
PORT=$((20000 + ($$ + 6151) % 20000))
PORT=$PORT node -r "$TOP/tests/fixtures/loopback.cjs" "$EVERYTHING" streamableHttp \
    >ev-http.log 2>&1 &
EVSRV=$!
trap 'kill $EVSRV 2>/dev/null' EXIT
for i in $(seq 50); do grep -q "listening on port" ev-http.log && break; sleep 0.1; done
cat > relay-http.yaml <<YAML
data_dir: $T/relay-http-data
servers:
  everything: {url: "http://127.0.0.1:$PORT/mcp"}
serve: {page_size: 5, relay_timeout: 3s}
YAML
scenario relay-http "the relay scenario passes with server-everything over Streamable HTTP" \
    node "$TOP/tests/e2e/serve_client.mjs" relay -- "$MCPDECK" -c relay-http.yaml serve
kill $EVSRV 2>/dev/null

# the cancelled call is a cancelled job in mcpdeck's store
"$MCPDECK" -c inner.yaml jobs list --format json >jobs.json 2>/dev/null
check "the cancelled call's job is cancelled in the store" node -e '
const j = JSON.parse(require("fs").readFileSync("jobs.json", "utf8"));
const list = Array.isArray(j) ? j : j.jobs;
const c = list.filter(x => x.tool === "trigger-long-running-operation" && x.status === "cancelled");
process.exit(c.length >= 2 ? 0 : 1);'
check "outer calls are recorded as jobs of batch serve" node -e '
const j = JSON.parse(require("fs").readFileSync("jobs.json", "utf8"));
const list = Array.isArray(j) ? j : j.jobs;
process.exit(list.some(x => x.tool === "echo" && x.status === "succeeded") ? 0 : 1);'
check "the log says the downstream call was cancelled" \
    grep -q "cancel" "$T/inner-data/logs/mcpdeck.log"

# mcpdeck's own client against mcpdeck serve
cat > outer.yaml <<YAML
data_dir: $T/outer-data
servers:
  outer: {command: "$MCPDECK", args: ["-c", "$T/inner.yaml", serve]}
YAML
"$MCPDECK" -c outer.yaml call outer everything__echo '{"message":"two hops"}' >call.out 2>call.err
expect_exit "mcpdeck call through mcpdeck serve exits 0" 0 $?
contains "the echo comes back through two mcpdecks" call.out "Echo: two hops"
"$MCPDECK" -c outer.yaml servers tools outer >tools.out 2>&1
contains "the outer mcpdeck sees the namespaced tools" tools.out "everything__echo"
contains "... and the task tools" tools.out "submit_task"

# raw stdio: only JSON-RPC on stdout, a parse error answered, exit on EOF
printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"sh","version":"1"}}}' \
    'not json' '{"jsonrpc":"2.0","id":2,"method":"nosuch"}' \
    '[{"jsonrpc":"2.0","id":3,"method":"ping"},{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"fs__get_file_info","arguments":{"path":"."}}}]' \
    | timeout 30 "$MCPDECK" -c inner.yaml serve >raw.out 2>raw.err
expect_exit "serve exits 0 when stdin closes" 0 $?
check "every stdout line is a JSON-RPC message; versions, errors and a batch answered" node -e '
const lines = require("fs").readFileSync("raw.out", "utf8").trim().split("\n");
const m = lines.map(l => JSON.parse(l));
if (!m.every(x => x.jsonrpc === "2.0")) process.exit(1);
const by = id => m.find(x => x.id === id);
if (by(1).result.protocolVersion !== "2024-11-05") process.exit(2);
if (!m.some(x => x.id === null && x.error && x.error.code === -32700)) process.exit(3);
if (by(2).error.code !== -32601) process.exit(4);
if (!by(3).result || by(4).result.isError) process.exit(5);'

# a client that sends faster than it reads: serve stops reading stdin while
# answers wait for it, instead of queueing every tools/list answer (~16 KB
# for a 47-byte request) in memory; once the client reads, all are answered
cat > flood.yaml <<YAML
data_dir: $T/flood-data
YAML
check "a client that does not read: serve stops taking requests, then answers all of them" node -e '
const { spawn } = require("child_process");
const [mcpdeck, cfg] = process.argv.slice(1);
const p = spawn(mcpdeck, ["-c", cfg, "serve"], { stdio: ["pipe", "pipe", "ignore"] });
const n = 20000;
let lines = JSON.stringify({ jsonrpc: "2.0", id: 0, method: "initialize", params: {
    protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "sh", version: "1" } } }) + "\n";
for (let i = 1; i <= n; i++) lines += JSON.stringify({ jsonrpc: "2.0", id: i, method: "tools/list" }) + "\n";
const req = Buffer.from(lines);
let taken = 0;                       /* bytes the kernel took: serve read them */
for (let off = 0; off < req.length; off += 4096)
    p.stdin.write(req.subarray(off, off + 4096), () => { taken += 4096; });
p.stdin.end();
p.stdout.pause();
setTimeout(() => {
    const stalled = taken;
    let buf = "", seen = 0;
    p.stdout.on("data", d => {
        buf += d;
        let nl;
        while ((nl = buf.indexOf("\n")) >= 0) { seen++; buf = buf.slice(nl + 1); }
    });
    p.stdout.resume();
    p.on("close", rc => {
        if (stalled > req.length / 2) { console.error("serve read", stalled, "of", req.length); process.exit(1); }
        if (seen !== n + 1 || rc !== 0) { console.error("answers", seen, "exit", rc); process.exit(2); }
    });
}, 3000);' "$MCPDECK" flood.yaml

# a client that neither reads stdout nor closes it: when serve stops (SIGTERM,
# or stdin closed and the drain time over) what it still owes the client
# gets a moment, then serve exits anyway (it blocked in write for good) and
# stops its servers; the log says what was dropped. A second SIGTERM in
# that moment does not kill it before its servers are stopped (term2)
cat > stuck.yaml <<YAML
data_dir: $T/stuck-data
servers:
  sticky: {command: "$BAD", args: [sticky]}
YAML
for how in term eof term2; do
    check "a client that never reads: serve still exits after $how (bounded), its servers stopped" node -e '
const { spawn } = require("child_process");
const [mcpdeck, cfg, how] = process.argv.slice(1);
const p = spawn(mcpdeck, ["-c", cfg, "serve"], { stdio: ["pipe", "pipe", "ignore"] });
let lines = JSON.stringify({ jsonrpc: "2.0", id: 0, method: "initialize", params: {
    protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "sh", version: "1" } } }) + "\n";
for (let i = 1; i <= 20; i++)        /* ~16 KB each: more than the pipe holds, less than 1 MiB */
    lines += JSON.stringify({ jsonrpc: "2.0", id: i, method: "tools/list" }) + "\n";
p.stdin.write(lines);
p.stdout.pause();
let stopped = 0;
p.on("exit", (rc, sig) => {
    const took = Date.now() - stopped;
    console.error("serve exited", rc, sig, "after", took, "ms");
    process.exit(stopped && took < 10000 && rc === 0 && sig === null ? 0 : 1);
});
setTimeout(() => {
    stopped = Date.now();
    if (how === "eof") p.stdin.end(); else p.kill("SIGTERM");
    if (how === "term2")                 /* again, while it flushes its last answers */
        setTimeout(() => p.kill("SIGTERM"), 500);
    setTimeout(() => { console.error("serve still running after 15 s"); p.kill("SIGKILL"); }, 15000);
}, 3000);' "$MCPDECK" stuck.yaml $how
    check "... and no badserver is left ($how)" [ "$(count_procs "$BAD" "$T")" -eq 0 ]
done
contains "the log says what the client did not read" stuck-data/logs/mcpdeck.log \
    "exiting without them"

# a client that leaves the newline off its last request and closes stdin
# still gets the answer
init='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"sh","version":"1"}}}'
printf '%s\n%s' "$init" '{"jsonrpc":"2.0","id":2,"method":"ping"}' |
    timeout 30 "$MCPDECK" -c inner.yaml serve >lastnl.out 2>lastnl.err
contains "a last request without its newline is answered" lastnl.out '{"jsonrpc":"2.0","id":2,"result":{}}'

# an open breaker: a flaky server, one failure opens it
cat > flaky.yaml <<YAML
data_dir: $T/flaky-data
breaker: {failures: 1, cooldown: 60s}
servers:
  flaky:
    command: "$BAD"
    args: [flaky]
    env: {BADSERVER_FAILS: "5", BADSERVER_STATE: "$T/flaky.state"}
YAML
scenario breaker "the breaker scenario passes" \
    node "$TOP/tests/e2e/serve_client.mjs" breaker -- "$MCPDECK" -c flaky.yaml serve

# hide_open_breakers takes the flaky server's tools out of the list
cat >> flaky.yaml <<YAML
serve: {hide_open_breakers: true, expose: {tools: ["!git__*"]}}
YAML
rm -f "$T/flaky.state"
{ printf '%s\n' "$init" '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' \
      '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"flaky__echo"}}'
  sleep 1
  printf '%s\n' '{"jsonrpc":"2.0","id":4,"method":"tools/list"}'
  sleep 1; } | timeout 30 "$MCPDECK" -c flaky.yaml serve >hide.out 2>hide.err
check "hide_open_breakers: the open breaker's tools leave the list (list_changed); expose filters git" node -e '
const m = require("fs").readFileSync("hide.out", "utf8").trim().split("\n").map(l => JSON.parse(l));
const names = id => m.find(x => x.id === id).result.tools.map(t => t.name);
if (!names(2).includes("fs__read_text_file") || names(2).some(n => n.startsWith("git__"))) process.exit(1);
if (names(4).includes("flaky__echo")) process.exit(2);
if (names(2).includes("flaky__echo") && !m.some(x => x.method === "notifications/tools/list_changed")) process.exit(3);'
e2e_done
