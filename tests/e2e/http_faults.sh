#!/bin/sh
# Streamable HTTP servers that misbehave (tests/fixtures/badhttp.cjs, one
# way per tool): each call fails at once with an error that says what the
# server did, never by waiting for its timeout; the calls beside it still
# succeed, a too-large event on the GET stream is logged, and mcpdeck
# exits cleanly afterwards.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
PORT=$((20000 + ($$ + 7919) % 20000))
node "$TOP/tests/fixtures/badhttp.cjs" "$PORT" 2>server.log &
SRV=$!
trap 'kill $SRV 2>/dev/null' EXIT
for i in $(seq 50); do grep -q "listening" server.log && break; sleep 0.1; done
URL=http://127.0.0.1:$PORT/mcp
# timeout 60s: a call that waited for it would outlast the 20 s `timeout`
cat > mcpdeck.yaml <<YAML
servers:
  bad:
    url: $URL
    max_message: 30000
    timeout: 60s
  moved:
    url: http://127.0.0.1:$PORT/moved
YAML

# one_call TOOL WANT-EXIT WANT-TEXT DESCRIPTION
one_call() {
    timeout 20 "$MCPDECK" call bad "$1" '{}' >"$1.out" 2>&1
    expect_exit "$4: exit $2" "$2" $?
    contains "... and says so" "$1.out" "$3"
}
one_call ok 0 "fine" "a well-behaved tool on the same server"
one_call deletes 0 "deletes 1" "the session before ended with a DELETE before mcpdeck exited"
"$MCPDECK" call moved ok '{}' >moved.out 2>&1
expect_exit "a server that redirects: exit 3" 3 $?
contains "... saying where to, and that redirects are not followed" moved.out \
    "HTTP 308 from http://127.0.0.1:$PORT/moved: it redirects to /mcp; mcpdeck does not follow redirects"
one_call garbage 1 "HTTP 200 from $URL: the body is not the answer to the request: <<this is not json>>" \
    "a 200 JSON answer that is not JSON fails the call"
one_call html 1 "HTTP 200 from $URL: expected JSON or an event stream, got Content-Type 'text/html'" \
    "a 200 text/html page fails the call"
one_call wrongid 1 "the body is not the answer to the request: {\"jsonrpc\":\"2.0\",\"id\":" \
    "a JSON answer with another request's id fails the call"
one_call accepted 1 "HTTP 202 from $URL: the server sent no answer to the request" \
    "202 to a request fails the call"
one_call reset 1 "cannot reach $URL" "a connection dropped before the answer fails the call"
one_call status500 1 "HTTP 500 from $URL: internal trouble" "HTTP 500 fails the call with its body"
one_call bigjson 1 "server bad sent a message of over 30000 bytes (limit 30000)" \
    "a JSON answer over max_message fails the call"
one_call resumebig 1 "server bad sent a message of over 30000 bytes (limit 30000)" \
    "an answer over max_message on the resumed GET stream fails the call"
one_call resumehtml 1 "cannot resume the response stream: HTTP 200 from $URL with Content-Type text/html" \
    "a resumed stream answered with a page fails the call"
one_call notifybig 0 "fine" "a notification over max_message on the GET stream is dropped"
check "... and the drop is in the log" grep -q \
    '"level":"warn","msg":"server bad sent a message of over 30000 bytes (limit 30000); dropped (on the GET stream)"' \
    "$XDG_DATA_HOME/mcpdeck/logs/mcpdeck.log"

# all at once in one batch: each failure stays with its own task
cat > b.yaml <<'YAML'
- {id: ok1, tool: bad.ok}
- {id: garbage, tool: bad.garbage}
- {id: html, tool: bad.html}
- {id: wrongid, tool: bad.wrongid}
- {id: accepted, tool: bad.accepted}
- {id: reset, tool: bad.reset}
- {id: status500, tool: bad.status500}
- {id: bigjson, tool: bad.bigjson}
- {id: notifybig, tool: bad.notifybig}
- {id: ok2, tool: bad.ok}
YAML
timeout 60 "$MCPDECK" --batch b.yaml --format json >b.json 2>b.err
expect_exit "a batch of misbehaving calls ends with exit 1 (tasks failed)" 1 $?
check "... each task has its own outcome" node -e '
const r = JSON.parse(require("fs").readFileSync("b.json", "utf8"));
const by = Object.fromEntries(r.tasks.map(t => [t.id, t]));
const good = ["ok1", "ok2", "notifybig"], bad = ["garbage", "html", "wrongid", "accepted",
  "reset", "status500", "bigjson"];
for (const id of good) if (by[id].status !== "succeeded" || by[id].result !== "fine") {
  console.error(JSON.stringify(by[id])); process.exit(1); }
for (const id of bad) if (by[id].status !== "failed" || !by[id].error) {
  console.error(JSON.stringify(by[id])); process.exit(1); }'
# closed_after DESC TOOL STATUS [OPTS]: a batch runs bad.TOOL (task options
# OPTS), which must end with STATUS, then asks the server how many of
# TOOL's requests mcpdeck closed: exactly that one
closed_after() {
    printf -- '- {id: first, tool: bad.%s%s}\n- {id: count, tool: bad.closed, args: {tool: %s}}\n' \
        "$2" "${4:+, $4}" "$2" >"$2.yaml"
    timeout 60 "$MCPDECK" --batch "$2.yaml" --format json >"$2.json" 2>"$2.err"
    check "$1" node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const by = Object.fromEntries(r.tasks.map(t => [t.id, t]));
if (by.first.status !== process.argv[2] || by.count.result !== "closed 1") {
  console.error(JSON.stringify(r.tasks)); process.exit(1); }' "$2.json" "$3"
}
# a call that timed out is cancelled and its connection closed, not left
# open for as long as the server keeps it (one per call, without end)
closed_after "a call that timed out has its HTTP request closed" hang failed "timeout: 1s"
# an answer on an SSE stream the server then keeps open: the call is done
# and its stream closed (one connection per call otherwise)
closed_after "a stream kept open after its answer is closed by mcpdeck" linger succeeded
# a server that closes the GET stream at once with "retry: 0": mcpdeck
# reopens it after a floor of 100 ms, not in a tight loop (at most ~10 in
# the second the call lasts; thousands without the floor)
timeout 20 "$MCPDECK" call bad busyget '{}' >busy.out 2>&1
check "retry: 0 does not make a tight reconnect loop" node -e '
const n = +(/gets (\d+)/.exec(require("fs").readFileSync("busy.out", "utf8")) || [0, -1])[1];
if (!(n >= 1 && n <= 20)) { console.error("GETs in 1 s:", n); process.exit(1); }'
# a GET answered with a page instead of an event stream: there is no
# stream to keep, so it is not asked for again every second
timeout 20 "$MCPDECK" call bad busyget '{"as": "html"}' >busyhtml.out 2>&1
contains "a GET answered with HTML is not repeated" busyhtml.out "gets 1"
check "the server is still alive afterwards" kill -0 $SRV
e2e_done
