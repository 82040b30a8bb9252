#!/bin/sh
# The LLM stand-in (tests/fixtures/llm_standin.cjs) speaks the published wire
# formats: OpenAI Chat Completions and Anthropic Messages, plain and streamed,
# for every behaviour a model id selects. Driven with curl; the answers are
# checked with node.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
export STANDIN_KEY=sk-test-key
node "$TOP/tests/fixtures/llm_standin.cjs" --port 0 --log requests.log >standin.out 2>&1 &
SRV=$!
trap 'kill $SRV 2>/dev/null' EXIT
for i in $(seq 50); do
    grep -q "^listening " standin.out && break
    sleep 0.1
done
PORT=$(sed -n 's/^listening \([0-9]*\)$/\1/p' standin.out)
check "prints 'listening PORT' first" test -n "$PORT"
B=http://127.0.0.1:$PORT

# Assertions over a response body: t (text), j (parsed JSON or undefined),
# ev (SSE events [{event, data, raw}], data parsed or undefined), h (the
# header text). The expression must be true.
cat > chk.cjs <<'JS'
const fs = require("fs");
const [file, expr] = process.argv.slice(2);
const t = fs.readFileSync(file, "utf8");
let h = "";
try { h = fs.readFileSync(file.replace(/\.body$/, ".hdr"), "utf8").toLowerCase(); } catch {}
let j;
try { j = JSON.parse(t); } catch {}
const ev = t.split("\n\n").filter((f) => f.trim() !== "").map((f) => {
  const e = { event: "message", raw: "" };
  for (const l of f.split("\n")) {
    if (l.startsWith("event: ")) e.event = l.slice(7);
    else if (l.startsWith("data: ")) e.raw += l.slice(6);
  }
  try { e.data = JSON.parse(e.raw); } catch {}
  return e;
});
const words = (s) => s.trim().split(/\s+/).filter(Boolean).length;
const ok = new Function("t", "j", "ev", "h", "words", `return (${expr});`)(t, j, ev, h, words);
if (!ok) { console.error(t.slice(0, 1500)); process.exit(1); }
JS

# req NAME PATH JSON [curl options...]: NAME.body, NAME.hdr, NAME.code
# ("STATUS SECONDS"), NAME.rc (curl's exit status)
req() {
    n=$1 p=$2 d=$3
    shift 3
    curl -s -o "$n.body" -D "$n.hdr" -w '%{http_code} %{time_total}' -H 'content-type: application/json' \
        "$@" -d "$d" "$B$p" >"$n.code"
    echo $? >"$n.rc"
}
# expect NAME STATUS JS-EXPRESSION: the status, then the expression over the body
expect() {
    code=$(cut -d' ' -f1 "$1.code")
    if [ "$code" != "$2" ]; then
        fail "$1: status $2" "got $code" "$(head -c 800 "$1.body")"
        return
    fi
    if node chk.cjs "$1.body" "$3" 2>"$1.why"; then ok "$1"; else
        fail "$1" "false: $3" "$(head -c 1500 "$1.why")"; fi
}

U='"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hello there, model"}]'
UA='"system":"be brief","messages":[{"role":"user","content":"hello there, model"}]'
IN=7   # ceil((8 + 18) / 4): both dialects count the same text
TOOLS='"tools":[{"type":"function","function":{"name":"other","parameters":{"type":"object"}}},{"type":"function","function":{"name":"srv__echo","parameters":{"type":"object"}}}]'
TOOLSA='"tools":[{"name":"other","input_schema":{"type":"object"}},{"name":"srv__echo","input_schema":{"type":"object"}}]'
SU='"stream":true,"stream_options":{"include_usage":true}'
OA=/v1/chat/completions
AN=/v1/messages
AH="-H x-api-key:$STANDIN_KEY -H anthropic-version:2023-06-01"

# JS snippets over an OpenAI stream: the JSON chunks, their text, the finish
OCH='ev.filter((e) => e.data).map((e) => e.data)'
OTXT="$OCH.map((c) => (c.choices[0] && c.choices[0].delta.content) || '').join('')"
OFIN="$OCH.map((c) => c.choices[0] && c.choices[0].finish_reason).filter(Boolean)"
ODONE="ev[ev.length - 1].raw === '[DONE]'"
SSE="h.includes('content-type: text/event-stream')"
JSONCT="h.includes('content-type: application/json')"
# Anthropic: event names without pings, text deltas, the event/data match
AEV="ev.map((e) => e.event).filter((e) => e !== 'ping').join(',')"
ATXT="ev.filter((e) => e.event === 'content_block_delta').map((e) => e.data.delta.text || '').join('')"
AJS="ev.filter((e) => e.event === 'content_block_delta').map((e) => e.data.delta.partial_json)"
AMATCH="ev.every((e) => e.data && e.data.type === e.event)"
ASEQ="'message_start,content_block_start,content_block_delta'"
AEND="'content_block_stop,message_delta,message_stop'"
AMD="ev.find((e) => e.event === 'message_delta').data"

# === OpenAI Chat Completions ===

req o_ok $OA "{\"model\":\"ok\",$U}"
expect o_ok 200 "$JSONCT && j.object === 'chat.completion' && typeof j.id === 'string' &&
  Number.isInteger(j.created) && j.model === 'ok' && j.choices.length === 1 &&
  j.choices[0].index === 0 && j.choices[0].message.role === 'assistant' &&
  j.choices[0].message.content === 'ok from ok' && j.choices[0].finish_reason === 'stop' &&
  j.usage.prompt_tokens === $IN && j.usage.completion_tokens === 3 && j.usage.total_tokens === $IN + 3"
req o_ok_path /chat/completions "{\"model\":\"ok\",$U}"
expect o_ok_path 200 "j.choices[0].message.content === 'ok from ok'"
req o_ok_prefixed $OA "{\"model\":\"standin/ok\",$U}"
expect o_ok_prefixed 200 "j.model === 'standin/ok' && j.choices[0].message.content === 'ok from standin/ok'"

req o_stream $OA "{\"model\":\"ok\",$SU,$U}"
expect o_stream 200 "$SSE && ev.every((e) => e.event === 'message') && $ODONE &&
  $OCH.every((c) => c.object === 'chat.completion.chunk' && c.id === $OCH[0].id) &&
  $OCH[0].choices[0].delta.role === 'assistant' && $OTXT === 'ok from ok' &&
  $OCH.filter((c) => c.choices.length === 1).length >= 3 &&
  JSON.stringify($OFIN) === '[\"stop\"]' &&
  $OCH.slice(0, -1).every((c) => c.usage === null) &&
  $OCH[$OCH.length - 1].choices.length === 0 &&
  $OCH[$OCH.length - 1].usage.prompt_tokens === $IN &&
  $OCH[$OCH.length - 1].usage.completion_tokens === 3"
req o_stream_nousage $OA "{\"model\":\"ok\",\"stream\":true,$U}"
expect o_stream_nousage 200 "$ODONE && $OCH.every((c) => !('usage' in c) && c.choices.length === 1) &&
  $OTXT === 'ok from ok' && $OCH[$OCH.length - 1].choices[0].finish_reason === 'stop'"

req o_tools $OA "{\"model\":\"echo-tools\",$TOOLS,$U}"
expect o_tools 200 "j.choices[0].finish_reason === 'tool_calls' && j.choices[0].message.content === null &&
  j.choices[0].message.tool_calls.length === 1 &&
  j.choices[0].message.tool_calls[0].type === 'function' &&
  typeof j.choices[0].message.tool_calls[0].id === 'string' &&
  j.choices[0].message.tool_calls[0].function.name === 'srv__echo' &&
  typeof j.choices[0].message.tool_calls[0].function.arguments === 'string' &&
  JSON.parse(j.choices[0].message.tool_calls[0].function.arguments).message === 'hello from the model' &&
  j.usage.completion_tokens === 4"
req o_tools_first $OA "{\"model\":\"echo-tools\",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"add\"}}],$U}"
expect o_tools_first 200 "j.choices[0].message.tool_calls[0].function.name === 'add'"
req o_tools_stream $OA "{\"model\":\"echo-tools\",$SU,$TOOLS,$U}"
expect o_tools_stream 200 "$SSE && $ODONE && JSON.stringify($OFIN) === '[\"tool_calls\"]' &&
  $OCH[0].choices[0].delta.tool_calls[0].id.length > 0 &&
  $OCH[0].choices[0].delta.tool_calls[0].function.name === 'srv__echo' &&
  $OCH.filter((c) => c.choices[0] && c.choices[0].delta.tool_calls).length >= 3 &&
  JSON.parse($OCH.map((c) => (c.choices[0] && c.choices[0].delta.tool_calls) ?
    c.choices[0].delta.tool_calls[0].function.arguments : '').join('')).message === 'hello from the model'"
ROUND2='"messages":[{"role":"user","content":"say hi"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"srv__echo","arguments":"{\"message\":\"hi\"}"}}]},{"role":"tool","tool_call_id":"c1","content":"Echo: hi"}]'
req o_tools_final $OA "{\"model\":\"echo-tools\",$TOOLS,$ROUND2}"
expect o_tools_final 200 "j.choices[0].finish_reason === 'stop' &&
  j.choices[0].message.content === 'the tool said: Echo: hi' && j.usage.prompt_tokens === 4"
req o_tools_final_s $OA "{\"model\":\"echo-tools\",$SU,$TOOLS,$ROUND2}"
expect o_tools_final_s 200 "$OTXT === 'the tool said: Echo: hi' && JSON.stringify($OFIN) === '[\"stop\"]'"
req o_orphan_tool $OA '{"model":"echo-tools","messages":[{"role":"user","content":"x"},{"role":"tool","tool_call_id":"c9","content":"y"}]}'
expect o_orphan_tool 400 "j.error.type === 'invalid_request_error' && /tool_calls/.test(j.error.message)"
req o_unanswered $OA '{"model":"ok","messages":[{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"user","content":"y"}]}'
expect o_unanswered 400 "/c1/.test(j.error.message)"
req o_badname $OA "{\"model\":\"ok\",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"srv.echo\"}}],$U}"
expect o_badname 400 "/pattern/.test(j.error.message)"
req o_nomodel $OA '{"messages":[]}'
expect o_nomodel 400 "typeof j.error.message === 'string'"
req o_unknown $OA "{\"model\":\"gpt-nope\",$U}"
expect o_unknown 404 "j.error.code === 'model_not_found' && /gpt-nope/.test(j.error.message)"

req o_429a $OA "{\"model\":\"r429\",$U}"
expect o_429a 429 "h.includes('retry-after: 1\r\n') && j.error.code === 'rate_limit_exceeded' &&
  typeof j.error.message === 'string' && j.error.type === 'requests'"
req o_429b $OA "{\"model\":\"r429\",$U}"
expect o_429b 200 "j.choices[0].message.content === 'ok from r429'"
req o_429c $OA "{\"model\":\"r429-always\",$U}"
req o_429d $OA "{\"model\":\"r429-always\",$U}"
expect o_429c 429 "h.includes('retry-after: 1')"
expect o_429d 429 "j.error.code === 'rate_limit_exceeded'"
req o_500a $OA "{\"model\":\"e500\",$U}"
req o_500b $OA "{\"model\":\"e500\",$U}"
expect o_500a 500 "j.error.type === 'server_error' && j.error.message.length > 0"
expect o_500b 500 "j.error.type === 'server_error'"
req o_500once_a $OA "{\"model\":\"e500-once\",$U}"
req o_500once_b $OA "{\"model\":\"e500-once\",$SU,$U}"
expect o_500once_a 500 "j.error.type === 'server_error'"
expect o_500once_b 200 "$OTXT === 'ok from e500-once' && $ODONE"

req o_hang $OA "{\"model\":\"hang\",$U}" --max-time 0.4
check "o_hang: no answer (curl timed out)" test "$(cat o_hang.rc)" = 28
req o_slow $OA "{\"model\":\"slow-300\",$U}"
expect o_slow 200 "j.choices[0].message.content === 'ok from slow-300'"
check "o_slow: answered after 300 ms" node -e 'process.exit(+process.argv[1] >= 0.3 ? 0 : 1)' \
    "$(cut -d' ' -f2 o_slow.code)"

req o_cut_s $OA "{\"model\":\"cut\",$SU,$U}"
expect o_cut_s 200 "$SSE && $OTXT === 'ok from' && $OFIN.length === 0 &&
  !t.includes('[DONE]') && $OCH.every((c) => c.choices.length === 1)"
check "o_cut_s: connection cut (curl exit 18)" test "$(cat o_cut_s.rc)" = 18
req o_cut $OA "{\"model\":\"cut\",$U}"
expect o_cut 200 "j === undefined && t.startsWith('{\"id\"') && t.length > 20"
check "o_cut: body cut short (curl exit 18)" test "$(cat o_cut.rc)" = 18

req o_malformed $OA "{\"model\":\"malformed\",$U}"
expect o_malformed 200 "$JSONCT && j === undefined && t.length > 0"
req o_malformed_s $OA "{\"model\":\"malformed\",$SU,$U}"
expect o_malformed_s 200 "$SSE && ev.some((e) => e.raw !== '[DONE]' && e.data === undefined)"

req o_long $OA "{\"model\":\"long-50\",$U}"
expect o_long 200 "words(j.choices[0].message.content) === 50 && j.usage.completion_tokens === 50"
req o_long_s $OA "{\"model\":\"long-50\",$SU,$U}"
expect o_long_s 200 "words($OTXT) === 50 && $OCH[$OCH.length - 1].usage.completion_tokens === 50"
req o_max $OA "{\"model\":\"max-tokens\",\"max_tokens\":7,$U}"
expect o_max 200 "j.choices[0].finish_reason === 'length' && words(j.choices[0].message.content) === 7 &&
  j.usage.completion_tokens === 7"
req o_max_s $OA "{\"model\":\"max-tokens\",$SU,$U}"
expect o_max_s 200 "JSON.stringify($OFIN) === '[\"length\"]' && $ODONE"

req o_auth_none $OA "{\"model\":\"auth\",$U}"
expect o_auth_none 401 "j.error.code === 'invalid_api_key'"
req o_auth_wrong $OA "{\"model\":\"auth\",$U}" -H 'Authorization: Bearer sk-wrong'
expect o_auth_wrong 401 "j.error.type === 'invalid_request_error'"
req o_auth $OA "{\"model\":\"auth\",$U}" -H "Authorization: Bearer $STANDIN_KEY"
expect o_auth 200 "j.choices[0].message.content === 'ok from auth'"

curl -s "$B/stats" >stats.body
expect_stats() { node chk.cjs stats.body "$1"; }
check "stats count per model" expect_stats "j.ok === 6 && j['standin/ok'] === 1 && j.r429 === 2 &&
  j['e500-once'] === 2 && j.auth === 3 && j.cut === 2"
rc=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$B/reset")
check "POST /reset answers 204" test "$rc" = 204
curl -s "$B/stats" >stats.body
check "reset clears the counters" expect_stats "JSON.stringify(j) === '{}'"

# === Anthropic Messages ===

req a_ok $AN "{\"model\":\"ok\",\"max_tokens\":100,$UA}" $AH
expect a_ok 200 "$JSONCT && j.type === 'message' && j.role === 'assistant' && /^msg_/.test(j.id) &&
  j.model === 'ok' && j.content.length === 1 && j.content[0].type === 'text' &&
  j.content[0].text === 'ok from ok' && j.stop_reason === 'end_turn' && j.stop_sequence === null &&
  j.usage.input_tokens === $IN && j.usage.output_tokens === 3"
req a_stream $AN "{\"model\":\"ok\",\"max_tokens\":100,\"stream\":true,$UA}" $AH
expect a_stream 200 "$SSE && $AMATCH &&
  /^message_start,content_block_start,(content_block_delta,)+content_block_stop,message_delta,message_stop$/.test($AEV) &&
  ev[0].data.message.usage.input_tokens === $IN && ev[0].data.message.content.length === 0 &&
  ev[1].data.content_block.type === 'text' && $ATXT === 'ok from ok' &&
  ev.filter((e) => e.event === 'content_block_delta').every((e) => e.data.index === 0 &&
    e.data.delta.type === 'text_delta') &&
  $AMD.delta.stop_reason === 'end_turn' && $AMD.usage.output_tokens === 3 && !t.includes('[DONE]')"

req a_tools $AN "{\"model\":\"echo-tools\",\"max_tokens\":100,$TOOLSA,$UA}"
expect a_tools 200 "j.stop_reason === 'tool_use' && j.content.length === 1 &&
  j.content[0].type === 'tool_use' && /^toolu_/.test(j.content[0].id) &&
  j.content[0].name === 'srv__echo' &&
  JSON.stringify(j.content[0].input) === '{\"message\":\"hello from the model\"}' &&
  j.usage.output_tokens === 4"
req a_tools_stream $AN "{\"model\":\"echo-tools\",\"max_tokens\":100,\"stream\":true,$TOOLSA,$UA}"
expect a_tools_stream 200 "$SSE && $AMATCH && $AEV.startsWith($ASEQ) && $AEV.endsWith($AEND) &&
  ev[1].data.content_block.type === 'tool_use' && ev[1].data.content_block.name === 'srv__echo' &&
  JSON.stringify(ev[1].data.content_block.input) === '{}' &&
  $AJS.filter((p) => p !== '').length >= 2 &&
  ev.filter((e) => e.event === 'content_block_delta').every((e) => e.data.delta.type === 'input_json_delta') &&
  JSON.parse($AJS.join('')).message === 'hello from the model' &&
  $AMD.delta.stop_reason === 'tool_use'"
ROUND2A='"messages":[{"role":"user","content":"say hi"},{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"srv__echo","input":{"message":"hi"}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"text","text":"Echo: hi"}]}]}]'
req a_tools_final $AN "{\"model\":\"echo-tools\",\"max_tokens\":100,$TOOLSA,$ROUND2A}"
expect a_tools_final 200 "j.stop_reason === 'end_turn' && j.content[0].text === 'the tool said: Echo: hi' &&
  j.usage.input_tokens === 4"
req a_tools_final_s $AN "{\"model\":\"echo-tools\",\"max_tokens\":100,\"stream\":true,$TOOLSA,$ROUND2A}"
expect a_tools_final_s 200 "$ATXT === 'the tool said: Echo: hi' && $AEV.endsWith($AEND)"
req a_orphan $AN '{"model":"echo-tools","max_tokens":9,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t9","content":"y"}]}]}'
expect a_orphan 400 "j.type === 'error' && j.error.type === 'invalid_request_error' && /t9/.test(j.error.message)"
req a_unanswered $AN '{"model":"ok","max_tokens":9,"messages":[{"role":"user","content":"x"},{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":{}}]},{"role":"user","content":"y"}]}'
expect a_unanswered 400 "/t1/.test(j.error.message)"
req a_nomax $AN "{\"model\":\"ok\",$UA}"
expect a_nomax 400 "j.error.type === 'invalid_request_error' && /max_tokens/.test(j.error.message)"
req a_system_role $AN "{\"model\":\"ok\",\"max_tokens\":9,$U}"
expect a_system_role 400 "/role/.test(j.error.message)"
req a_unknown $AN "{\"model\":\"claude-nope\",\"max_tokens\":9,$UA}"
expect a_unknown 404 "j.error.type === 'not_found_error'"

req a_429a $AN "{\"model\":\"r429\",\"max_tokens\":9,$UA}"
expect a_429a 429 "h.includes('retry-after: 1\r\n') && j.type === 'error' &&
  j.error.type === 'rate_limit_error' && j.error.message.length > 0"
req a_429b $AN "{\"model\":\"r429\",\"max_tokens\":9,\"stream\":true,$UA}"
expect a_429b 200 "$ATXT === 'ok from r429'"
req a_429c $AN "{\"model\":\"r429-always\",\"max_tokens\":9,$UA}"
req a_429d $AN "{\"model\":\"r429-always\",\"max_tokens\":9,$UA}"
expect a_429d 429 "h.includes('retry-after: 1') && j.error.type === 'rate_limit_error'"
req a_500 $AN "{\"model\":\"e500\",\"max_tokens\":9,$UA}"
expect a_500 500 "j.type === 'error' && j.error.type === 'api_error'"
req a_500once_a $AN "{\"model\":\"e500-once\",\"max_tokens\":9,$UA}"
req a_500once_b $AN "{\"model\":\"e500-once\",\"max_tokens\":9,$UA}"
expect a_500once_a 500 "j.error.type === 'api_error'"
expect a_500once_b 200 "j.content[0].text === 'ok from e500-once'"
req a_hang $AN "{\"model\":\"hang\",\"max_tokens\":9,\"stream\":true,$UA}" --max-time 0.4
check "a_hang: no answer (curl timed out)" test "$(cat a_hang.rc)" = 28

req a_cut_s $AN "{\"model\":\"cut\",\"max_tokens\":9,\"stream\":true,$UA}"
expect a_cut_s 200 "$SSE && $AEV === $ASEQ + ',content_block_delta' && $ATXT === 'ok from' &&
  !t.includes('message_stop')"
check "a_cut_s: connection cut (curl exit 18)" test "$(cat a_cut_s.rc)" = 18
req a_cut $AN "{\"model\":\"cut\",\"max_tokens\":9,$UA}"
expect a_cut 200 "j === undefined && t.startsWith('{\"id\"')"
check "a_cut: body cut short (curl exit 18)" test "$(cat a_cut.rc)" = 18
req a_malformed $AN "{\"model\":\"malformed\",\"max_tokens\":9,$UA}"
expect a_malformed 200 "j === undefined && t.length > 0"
req a_malformed_s $AN "{\"model\":\"malformed\",\"max_tokens\":9,\"stream\":true,$UA}"
expect a_malformed_s 200 "$SSE && ev[0].event === 'message_start' && ev[0].data === undefined"

req a_long $AN "{\"model\":\"long-1000\",\"max_tokens\":9,\"stream\":true,$UA}"
expect a_long 200 "words($ATXT) === 1000 && $AMD.usage.output_tokens === 1000"
req a_max $AN "{\"model\":\"max-tokens\",\"max_tokens\":3,$UA}"
expect a_max 200 "j.stop_reason === 'max_tokens' && words(j.content[0].text) === 3 &&
  j.usage.output_tokens === 3"
req a_max_s $AN "{\"model\":\"max-tokens\",\"max_tokens\":3,\"stream\":true,$UA}"
expect a_max_s 200 "$AMD.delta.stop_reason === 'max_tokens' && $AEV.endsWith($AEND)"

req a_auth_none $AN "{\"model\":\"auth\",\"max_tokens\":9,$UA}"
expect a_auth_none 401 "j.type === 'error' && j.error.type === 'authentication_error'"
req a_auth_nover $AN "{\"model\":\"auth\",\"max_tokens\":9,$UA}" -H "x-api-key: $STANDIN_KEY"
expect a_auth_nover 401 "/anthropic-version/.test(j.error.message)"
req a_auth_bearer $AN "{\"model\":\"auth\",\"max_tokens\":9,$UA}" -H "Authorization: Bearer $STANDIN_KEY" \
    -H 'anthropic-version: 2023-06-01'
expect a_auth_bearer 401 "j.error.type === 'authentication_error'"
req a_auth $AN "{\"model\":\"auth\",\"max_tokens\":9,$UA}" -H "X-Api-Key: $STANDIN_KEY" \
    -H 'anthropic-version: 2023-06-01'
expect a_auth 200 "j.content[0].text === 'ok from auth'"

# === keep-alive throughput and the request log ===

cat > many.cjs <<'JS'
const http = require("http");
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
const body = JSON.stringify({ model: "ok", messages: [{ role: "user", content: "hi" }] });
let done = 0, bad = 0, sockets = new Set();
const t0 = Date.now();
function one() {
  const r = http.request({ host: "127.0.0.1", port: +process.argv[2], path: "/v1/chat/completions",
    method: "POST", agent, headers: { "content-type": "application/json" } }, (res) => {
    sockets.add(res.socket);
    let s = "";
    res.on("data", (c) => (s += c));
    res.on("end", () => {
      if (JSON.parse(s).choices[0].message.content !== "ok from ok") bad++;
      if (++done === 1000) {
        const ms = Date.now() - t0;
        console.log(`# 1000 requests in ${ms} ms over ${sockets.size} connections`);
        agent.destroy();
        process.exit(bad || ms > 8000 || sockets.size > 4 ? 1 : 0);
      }
    });
  });
  r.end(body);
}
for (let i = 0; i < 1000; i++) one();
JS
check "1000 keep-alive requests, all answered" node many.cjs "$PORT"

kill $SRV
wait $SRV 2>/dev/null
check "log: one line per request" test "$(wc -l <requests.log)" -eq "$(ls ./*.code | wc -l | \
    awk '{print $1 + 1000}')"
cat > log.cjs <<'JS'
const L = require("fs").readFileSync("requests.log", "utf8").trim().split("\n").map(JSON.parse);
const r429 = L.filter((e) => e.body.model === "r429").map((e) => `${e.path}:${e.n}`).join(" ");
const auth = L.findLast((e) => e.body.model === "auth" && e.headers["x-api-key"]);
const ok = L.every((e) => typeof e.path === "string" && e.headers.host && "n" in e) &&
  r429 === "/v1/chat/completions:1 /v1/chat/completions:2 /v1/messages:1 /v1/messages:2" &&
  auth.headers["x-api-key"] === "sk-test-key" && auth.headers["anthropic-version"] === "2023-06-01" &&
  auth.body.max_tokens === 9 && Array.isArray(auth.body.messages) &&
  L.filter((e) => e.body.model === "ok" && e.path === "/v1/chat/completions").length === 1005 &&
  L.some((e) => e.path === "/chat/completions");
if (!ok) { console.error(r429, JSON.stringify(auth)); process.exit(1); }
JS
check "log lines: path, lower-cased headers, parsed body, per-model n" node log.cjs
e2e_done
