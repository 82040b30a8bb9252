#!/bin/sh
# Streamable HTTP: mcpdeck against server-everything's streamableHttp mode,
# listening on 127.0.0.1 only (tests/fixtures/loopback.cjs).
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
PORT=$((20000 + $$ % 20000))
PORT=$PORT node -r "$TOP/tests/fixtures/loopback.cjs" "$EVERYTHING" streamableHttp \
    >server.log 2>&1 &
SRV=$!
trap 'kill $SRV 2>/dev/null' EXIT
for i in $(seq 50); do
    grep -q "listening on port" server.log && break
    sleep 0.1
done
P401=$((PORT + 1))
node -e 'require("http").createServer((q, r) => { r.writeHead(401, {"WWW-Authenticate": "Bearer"}); r.end(); })
  .listen(+process.argv[1], "127.0.0.1", () => console.error("listening on port"))' "$P401" 2>auth.log &
AUTH=$!
trap 'kill $SRV $AUTH 2>/dev/null' EXIT
for i in $(seq 50); do grep -q "listening" auth.log && break; sleep 0.1; done
cat > mcpdeck.yaml <<YAML
servers:
  locked:
    url: http://127.0.0.1:$P401/mcp
  web:
    url: http://127.0.0.1:$PORT/mcp
    headers: {X-Test: "\${TEST_HEADER:-plain}"}
  down:
    url: http://127.0.0.1:1/mcp
    startup_timeout: 3s
  tiny:
    url: http://127.0.0.1:$PORT/mcp
    max_message: 30000
YAML
"$MCPDECK" call web echo '{"message":"over http"}' >echo.out 2>echo.err
expect_exit "call over Streamable HTTP exits 0" 0 $?
contains "echo answered over HTTP" echo.out "over http"
"$MCPDECK" call web get-sum '{"a":20,"b":22}' >sum.out 2>&1
contains "get-sum over HTTP" sum.out "42"
"$MCPDECK" servers tools web >tools.out 2>&1
check "tools listed over HTTP" grep -q "^get-tiny-image" tools.out
cat > b.yaml <<YAML
- {id: a, tool: web.echo, args: {message: one}}
- {id: b, tool: web.echo, args: {message: two}}
- {id: c, tool: web.get-sum, args: {a: 1, b: 2}}
YAML
"$MCPDECK" --batch b.yaml --format json >b.json 2>b.err
expect_exit "batch over HTTP exits 0" 0 $?
check "batch over HTTP has results" node -e '
const r = JSON.parse(require("fs").readFileSync("b.json", "utf8"));
const res = r.tasks.map(t => t.result).join("|");
if (res !== "Echo: one|Echo: two|The sum of 1 and 2 is 3.") { console.error(res); process.exit(1); }'
# server-everything answers on an SSE stream: an answer over the size limit
# fails the call at once, saying why (it waited for the 60 s timeout)
msg=$(head -c 40000 /dev/zero | tr '\0' a)
timeout 20 "$MCPDECK" call tiny echo "{\"message\":\"$msg\"}" >tiny.out 2>&1
expect_exit "an SSE answer over max_message fails the call: exit 1" 1 $?
contains "... and says it was too big" tiny.out "server tiny sent a message of over 30000 bytes"
"$MCPDECK" call down echo '{"message":"x"}' >down.out 2>&1
expect_exit "unreachable HTTP server: exit 3" 3 $?
contains "unreachable server explained" down.out "cannot reach http://127.0.0.1:1/mcp"
"$MCPDECK" call locked echo '{}' >locked.out 2>&1
expect_exit "a server that answers 401: exit 3" 3 $?
contains "401 says authorization is needed" locked.out "HTTP 401 from http://127.0.0.1:$P401/mcp: the server requires authorization"
"$MCPDECK" servers log locked >locked.log 2>&1
contains "... and the server's log shows it" locked.log "failed: HTTP 401 from http://127.0.0.1:$P401/mcp"
"$MCPDECK" servers log web >web.log 2>&1
contains "the log of an HTTP server shows its GET stream" web.log "[http] GET stream open"
e2e_done
