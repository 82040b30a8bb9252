#!/bin/sh
# Secrets never reach the log, the database, reports or any output: a
# server that leaks the secret it was given (tests/fixtures/badserver.c),
# an HTTP server with a bearer header and one with a token in its URL,
# driven through a batch, a direct call, a health round, metrics and the
# jobs commands at --log-level debug. Also: the log is JSON lines with the
# correlation fields on every line. No npm servers needed (node only reads
# JSON).
. "$(dirname "$0")/lib.sh"
BAD="$TOP/${BUILD:-build}/fixtures/badserver"
[ -x "$BAD" ] || BAD="$TOP/build/fixtures/badserver"
cd "$T" || exit 1

SECRET=sk-plant-7f3a9c1e5b
export PLANTED_TOKEN="$SECRET"
LOG="$T/logs/mcpdeck.log"

cat > mcpdeck.yaml <<YAML
servers:
  leak:
    command: "$BAD"
    args: [good]
    env: {BADSERVER_ECHO_ENV: SECRET_VALUE_NAME, SECRET_VALUE_NAME: "\${PLANTED_TOKEN}"}
  bearer:
    url: http://127.0.0.1:9/mcp
    headers: {Authorization: "Bearer \${PLANTED_TOKEN}"}
    startup_timeout: 2s
  query:
    url: "http://127.0.0.1:9/mcp?token=\${PLANTED_TOKEN}"
    startup_timeout: 2s
log:
  file: "$LOG"
YAML

cat > leak.yaml <<YAML
- {id: e1, tool: leak.echo}
- {id: e2, tool: leak.echo}
- {id: e3, tool: leak.echo}
- {id: e4, tool: leak.echo}
- {id: s1, tool: leak.shaped}
YAML
printf -- '- {id: q1, tool: query.echo}\n' >http.yaml

D="--log-level debug"
"$MCPDECK" $D --batch leak.yaml --format json -o report.json >batch.out 2>batch.err
expect_exit "the batch runs (one task fails its outputSchema: exit 1)" 1 $?
"$MCPDECK" $D --batch http.yaml --format json -o http.json >http.out 2>http.err
expect_exit "the http server never comes up: exit 3" 3 $?
"$MCPDECK" $D call leak echo >call.out 2>call.err
expect_exit "a direct call succeeds" 0 $?
"$MCPDECK" $D call leak echo --json >calljson.out 2>calljson.err
"$MCPDECK" $D call bearer echo >callb.out 2>callb.err
"$MCPDECK" $D servers check >check.out 2>check.err
"$MCPDECK" $D servers check --json >checkjson.out 2>checkjson.err
"$MCPDECK" $D servers log leak >slog.out 2>slog.err
"$MCPDECK" $D servers >list.out 2>list.err
"$MCPDECK" $D metrics >metrics.out 2>metrics.err
"$MCPDECK" $D jobs list >jobs.out 2>jobs.err
"$MCPDECK" $D jobs list --format json >jobsjson.out 2>jobsjson.err
for id in 1 2 5; do
    "$MCPDECK" $D jobs show $id >"show$id.out" 2>&1
    "$MCPDECK" $D jobs result $id >"result$id.out" 2>&1
done

check "the report holds the four echo tasks" node -e '
const r = JSON.parse(require("fs").readFileSync("report.json", "utf8"));
const e = r.tasks.filter(t => /^e/.test(t.id));
if (e.length !== 4 || e.some(t => t.status !== "succeeded")) { console.error(JSON.stringify(r)); process.exit(1); }'

# The planted value appears nowhere: database (and its WAL), logs, the
# report, every output, the blob store: everything under $T.
if grep -rlaF -- "$SECRET" "$T" >leaks.txt 2>/dev/null; then
    fail "the secret appears nowhere" "found in:" "$(cat leaks.txt)"
else
    ok "the secret appears nowhere"
fi
check "the database and the log exist (the scan looked at them)" \
    test -s data/mcpdeck/mcpdeck.db -a -s "$LOG"

# ... and the marker stands where it was: each path was exercised.
contains "stored result redacted (report)" report.json "leaked [REDACTED]"
contains "direct call output redacted" call.out "echo from badserver leaked [REDACTED]"
contains "direct call --json output redacted" calljson.out "leaked [REDACTED]"
contains "jobs result redacted" result1.out "leaked [REDACTED]"
contains "server stderr redacted in the log" "$LOG" "my secret is [REDACTED]"
check "stored result in the database redacted" sh -c \
    "sqlite3 data/mcpdeck/mcpdeck.db \"SELECT body FROM results\" | grep -qF 'leaked [REDACTED]'"
for f in check.out checkjson.out list.out http.err "$LOG"; do
    contains "the query token is redacted in $(basename "$f")" "$f" "token=[REDACTED]"
done

# A stdio server inherits mcpdeck's environment but not its secrets: not a
# variable whose name looks secret, not one listed under secrets:; what its
# env: gives it, it gets (the leak server above). Each server here echoes
# the variable BADSERVER_ECHO_ENV names, if it has it.
export PLAIN_SETTING=visible-setting-42 DB_PASS=hunter2-db-pass
cat > env.yaml <<YAML
servers:
  token: {command: "$BAD", args: [good], env: {BADSERVER_ECHO_ENV: PLANTED_TOKEN}}
  listed: {command: "$BAD", args: [good], env: {BADSERVER_ECHO_ENV: DB_PASS}}
  plain: {command: "$BAD", args: [good], env: {BADSERVER_ECHO_ENV: PLAIN_SETTING}}
secrets: [DB_PASS]
log: {file: "$T/env.log"}
YAML
for srv in token listed plain; do
    "$MCPDECK" -c env.yaml call $srv echo >env-$srv.out 2>&1
done
check "a variable named like a secret is not inherited by a server" \
    grep -qx "echo from badserver" env-token.out
check "... nor one listed under secrets:" grep -qx "echo from badserver" env-listed.out
contains "... while the rest of the environment is" env-plain.out \
    "echo from badserver leaked visible-setting-42"
"$MCPDECK" -c env.yaml servers log token >env-log.out 2>&1
check "the server's log names what was not passed on (names, not values)" sh -c \
    'grep -q "^\[mcpdeck\] not passed on, as secrets: .*PLANTED_TOKEN" env-log.out &&
     grep -q "DB_PASS" env-log.out && ! grep -q "hunter2" env-log.out'

# The log: JSON lines, job/server/req on every line, a job's lines carry its id.
check "every log line is JSON with job, server and req" node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean);
if (lines.length < 20) { console.error("only", lines.length, "lines"); process.exit(1); }
for (const l of lines) {
  const o = JSON.parse(l);
  for (const k of ["ts", "level", "msg", "job", "server", "req"])
    if (!(k in o)) { console.error("no", k, "in", l); process.exit(1); }
}' "$LOG"
check "a job's lifecycle lines carry its id, server and request id" node -e '
const fs = require("fs");
const r = JSON.parse(fs.readFileSync("report.json", "utf8"));
const id = r.tasks.find(t => t.id === "e1").job;
const lines = fs.readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map(JSON.parse);
const mine = lines.filter(o => o.job === id);
const has = re => mine.some(o => re.test(o.msg));
if (!has(/job queued/) || !has(/job started/) || !has(/call .* sent/) || !has(/job succeeded/)) {
  console.error(JSON.stringify(mine)); process.exit(1); }
const done = mine.find(o => /job succeeded/.test(o.msg));
if (done.server !== "leak" || !(done.req > 0) || done.level !== "info") {
  console.error(JSON.stringify(done)); process.exit(1); }' "$LOG"
check "server start, ready (protocol) and failure are logged" node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map(JSON.parse);
const ready = lines.find(o => o.server === "leak" && o.msg === "server ready");
const failed = lines.find(o => o.server === "bearer" && o.level === "warn" && /failed/.test(o.msg));
const started = lines.find(o => o.msg === "engine started");
if (!ready || ready.protocol !== "2025-11-25" || !failed || !started) {
  console.error(JSON.stringify({ready, failed, started})); process.exit(1); }' "$LOG"
check "a failed job is a warn line with its error" node -e '
const fs = require("fs");
const r = JSON.parse(fs.readFileSync("report.json", "utf8"));
const id = r.tasks.find(t => t.id === "s1").job;
const lines = fs.readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map(JSON.parse);
if (!lines.some(o => o.job === id && o.level === "warn" && /job failed: .+/.test(o.msg))) {
  console.error(lines.filter(o => o.job === id)); process.exit(1); }' "$LOG"

# A log that cannot be opened is a warning naming the path; the work goes on.
"$MCPDECK" --log-file /proc/nonexistent/x.log call leak echo >nolog.out 2>nolog.err
expect_exit "an unopenable log does not stop a call" 0 $?
contains "the warning names the path and why" nolog.err \
    "warning: cannot create log directory /proc/nonexistent"
# --log-file - writes the lines to stderr
"$MCPDECK" --log-file - --log-level info call leak echo >stderr.out 2>stderr.err
check "--log-file - writes JSON lines to stderr" grep -q '"msg":"engine started"' stderr.err

e2e_done
