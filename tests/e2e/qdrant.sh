#!/bin/sh
# Memory on Qdrant through the CLI, against the stand-in
# (tests/fixtures/qdrant_standin.cjs): adds while Qdrant is down queue in
# the outbox and nothing is lost; sync drains once it is up; a failure
# after the first batch leaves the rest queued; slow answers time out
# without hanging the CLI; search asks Qdrant when it is healthy and falls
# back to the local index (saying so on stderr) when it is not. Every
# request body the stand-in saw is checked against the OpenAPI spec.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
STANDIN="$TOP/tests/fixtures/qdrant_standin.cjs"
export QDRANT_TEST_KEY=qk-e2e-secret
node "$STANDIN" --port 0 --down --api-key "$QDRANT_TEST_KEY" --log requests.log >standin.out 2>&1 &
SRV=$!
trap 'kill $SRV 2>/dev/null' EXIT
i=0
while ! grep -qs '^listening' standin.out && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
PORT=$(sed -n 's/^listening //p' standin.out)
check "the stand-in printed its port" [ -n "$PORT" ]
B=http://127.0.0.1:$PORT
up()   { kill -HUP "$SRV"; sleep 0.3; }
down() { kill -USR2 "$SRV"; sleep 0.3; }
fault() { curl -s -X POST -d "$1" "$B/admin/fault" >/dev/null; }
# js EXPR: true over the stand-in's state s ({collections: {name: {points:
# {id: payload}}}, violations})
js() {
    curl -s "$B/admin/state" >state.json &&
        node -e 'const s = JSON.parse(require("fs").readFileSync("state.json", "utf8"));
const pts = (c) => Object.values((s.collections[c] || {points: {}}).points);
if (!(new Function("s", "pts", "return (" + process.argv[1] + ");"))(s, pts)) {
  console.error(JSON.stringify(s).slice(0, 1500)); process.exit(1); }' "$1"
}
depth() { "$MCPDECK" memory stats --json | node -e 'let t = "";
process.stdin.on("data", (d) => (t += d)).on("end", () => console.log(JSON.parse(t).outbox));'; }
queries() { q=$(grep -cs '"path":"/collections/[^"]*/points/query"' requests.log); echo "${q:-0}"; }

cat >mcpdeck.yaml <<YAML
memory:
  qdrant: {url: "$B", api_key_env: QDRANT_TEST_KEY, prefix: e2e_, timeout: 1s}
YAML

# --- Qdrant down at start ---
n=0
for t in "the event loop owns every socket and timer" \
         "sqlite keeps the journal in WAL mode" \
         "a circuit breaker opens after three failures" \
         "vectors are quantised to int8 with one scale"; do
    "$MCPDECK" memory add "$t" --ns coding --meta '{"n": 1}' >/dev/null || n=$((n + 1))
done
"$MCPDECK" memory add "tests run under AddressSanitizer" --ns testing >/dev/null || n=$((n + 1))
check "adds succeed while Qdrant is down" [ "$n" -eq 0 ]
check "the outbox holds every write" [ "$(depth)" -eq 5 ]
"$MCPDECK" memory sync >sync1.out 2>sync1.err
expect_exit "sync while down fails" 1 $?
contains "sync says Qdrant is unreachable" sync1.err "unreachable"
contains "sync says what is still queued" sync1.out "sent 0, 5 still queued"
check "nothing was lost" [ "$(depth)" -eq 5 ]

up
"$MCPDECK" memory sync >sync2.out 2>sync2.err
expect_exit "sync once Qdrant is up" 0 $?
contains "sync drained everything" sync2.out "sent 5, outbox empty"
check "the outbox is empty" [ "$(depth)" -eq 0 ]
check "the stand-in has every point, payload included" js \
    'pts("e2e_coding").length === 4 && pts("e2e_testing").length === 1 &&
     pts("e2e_coding").every((p) => p.namespace === "coding" && p.hash.length === 64 &&
                                  p.metadata.n === 1 && typeof p.text === "string")'
check "collections were made with a keyword index on namespace" js \
    's.collections.e2e_coding.size === 384 && s.collections.e2e_coding.indexes.namespace === "keyword"'

# --- down mid-sync: 500s after the first batch ---
"$MCPDECK" memory add "architecture decisions live in ADR files" --ns architecture >/dev/null
"$MCPDECK" memory add "the router scores capability fit health" --ns architecture >/dev/null
"$MCPDECK" memory add "doctests are not a thing in C" --ns documentation >/dev/null
fault '{"fail": 100, "after": 1, "match": "/points"}'
"$MCPDECK" memory sync >sync3.out 2>sync3.err
expect_exit "sync with 500s after the first batch fails" 1 $?
contains "the first batch went" sync3.out "sent 2, 1 still queued"
contains "the 500 is named" sync3.err "500"
check "the rest stays queued" [ "$(depth)" -eq 1 ]
fault '{"fail": 0}'
"$MCPDECK" memory sync >sync4.out 2>&1
expect_exit "a later sync drains the rest" 0 $?
check "the stand-in has the later points" js \
    'pts("e2e_architecture").length === 2 && pts("e2e_documentation").length === 1'

# --- deletes travel too ---
id=$("$MCPDECK" memory add "a note to forget" --ns coding | sed -n 's/^added //p')
"$MCPDECK" memory sync >/dev/null 2>&1
check "the note reached Qdrant" js 'pts("e2e_coding").some((p) => p.text === "a note to forget")'
"$MCPDECK" memory delete "$id" >/dev/null
"$MCPDECK" memory sync >sync5.out 2>&1
expect_exit "sync of a delete" 0 $?
check "the deleted point is gone from Qdrant" js \
    '!pts("e2e_coding").some((p) => p.text === "a note to forget") && pts("e2e_coding").length === 4'

# --- slow answers: the client's timeout ends the wait ---
"$MCPDECK" memory add "slow disks make slow databases" --ns testing >/dev/null
fault '{"delay_ms": 4000}'
start=$(date +%s)
timeout 15 "$MCPDECK" memory sync >sync6.out 2>sync6.err
rc=$?
took=$(($(date +%s) - start))
expect_exit "sync against a slow Qdrant fails, not hangs" 1 $rc
check "it gave up within its timeout (took ${took}s)" [ "$took" -le 4 ]
contains "the timeout is named" sync6.err "imed out"
check "the slow write is still queued" [ "$(depth)" -eq 1 ]
fault '{"delay_ms": 300}'
"$MCPDECK" memory sync >sync7.out 2>&1
expect_exit "slow but within the timeout: sync succeeds" 0 $?
fault '{"delay_ms": 0}'

# --- search: Qdrant when healthy, the local index when not ---
before=$(queries)
"$MCPDECK" memory search "circuit breaker failures" --ns coding --mode vector -k 2 --json \
    >s1.json 2>s1.err
expect_exit "search with Qdrant up" 0 $?
check "the stand-in saw the query" [ "$(queries)" -gt "$before" ]
check "the query carried the namespace filter and the key" \
    node -e 'const l = require("fs").readFileSync("requests.log", "utf8").trim().split("\n")
  .map(JSON.parse).filter((r) => r.path.endsWith("/points/query")).pop();
process.exit(l.path === "/collections/e2e_coding/points/query" && l.body.limit >= 2 &&
  l.body.with_payload === true && l.body.filter.must[0].key === "namespace" &&
  l.body.filter.must[0].match.value === "coding" && l.status === 200 ? 0 : 1)'
check "the best hit is the breaker note" node -e '
const r = JSON.parse(require("fs").readFileSync("s1.json", "utf8"));
process.exit(r.length === 2 && /circuit breaker/.test(r[0].text) ? 0 : 1)'
check "no fallback was announced" [ ! -s s1.err ]

down
"$MCPDECK" memory search "circuit breaker failures" --ns coding --mode vector -k 2 --json \
    >s2.json 2>s2.err
expect_exit "search with Qdrant down still answers" 0 $?
contains "the fallback is said on stderr" s2.err "searching the local index instead"
check "the local index gives the same best hit" node -e '
const a = JSON.parse(require("fs").readFileSync("s1.json", "utf8"));
const b = JSON.parse(require("fs").readFileSync("s2.json", "utf8"));
process.exit(b.length === 2 && a[0].id === b[0].id ? 0 : 1)'
"$MCPDECK" memory search "circuit breaker" --ns coding --mode keyword >s3.out 2>s3.err
expect_exit "keyword search never needs Qdrant" 0 $?
check "and says nothing about it" [ ! -s s3.err ]
up

# --- the built-in memory server: Qdrant when healthy, the local index when not ---
# sc FILE EXPR: true over the tool result's structuredContent s
sc() { node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const s = r.structuredContent || {};
if (r.isError || !(new Function("s", "return (" + process.argv[2] + ");"))(s)) {
  console.error(JSON.stringify(r).slice(0, 1500)); process.exit(1); }' "$1" "$2"; }
ARGS='{"query":"circuit breaker failures","namespace":"coding","mode":"vector","k":2}'
before=$(queries)
"$MCPDECK" --json call memory memory_search "$ARGS" >m1.json 2>m1.err
expect_exit "memory_search through the server with Qdrant up" 0 $?
check "the stand-in saw the server's query" [ "$(queries)" -gt "$before" ]
check "the server's query went to the namespace's collection with its filter" \
    node -e 'const l = require("fs").readFileSync("requests.log", "utf8").trim().split("\n")
  .map(JSON.parse).filter((r) => r.path.endsWith("/points/query")).pop();
process.exit(l.path === "/collections/e2e_coding/points/query" &&
  l.body.filter.must[0].match.value === "coding" && l.status === 200 ? 0 : 1)'
check "the result says backend qdrant, no fallback" sc m1.json \
    's.backend === "qdrant" && !("fallback_reason" in s) && s.results.length === 2 &&
     /circuit breaker/.test(s.results[0].text)'
"$MCPDECK" --json call memory memory_search \
    '{"query":"circuit breaker failures","namespace":"coding","filter":{"n":1}}' >m1f.json 2>&1
check "a metadata filter travels as a Qdrant condition" \
    node -e 'const l = require("fs").readFileSync("requests.log", "utf8").trim().split("\n")
  .map(JSON.parse).filter((r) => r.path.endsWith("/points/query")).pop();
process.exit(l.body.filter.must.some((c) => c.key === "metadata.n" && c.match.value === 1) ? 0 : 1)'
check "and the filtered search answers from Qdrant" sc m1f.json \
    's.backend === "qdrant" && s.results.length === 4'
"$MCPDECK" --json call memory memory_search '{"query":"circuit breaker","mode":"keyword"}' \
    >m1k.json 2>&1
check "a keyword search is local and needs no fallback" sc m1k.json \
    's.backend === "local" && !("fallback_reason" in s) && s.results.length >= 1'
"$MCPDECK" servers check >chk1.out 2>&1
expect_exit "servers check with Qdrant up" 0 $?
check "servers check lists qdrant healthy with the outbox depth" \
    grep -Eq '^qdrant +memory +ready +healthy .*outbox 0' chk1.out
"$MCPDECK" --json servers check >chk1.json 2>&1
check "servers check --json includes qdrant" node -e '
const a = JSON.parse(require("fs").readFileSync("chk1.json", "utf8"));
const q = a.find((s) => s.name === "qdrant");
process.exit(q && q.kind === "memory" && q.health === "healthy" && q.outbox === 0 &&
  q.breaker === "closed" && typeof q.latency_ms === "number" ? 0 : 1)'

down
"$MCPDECK" --json call memory memory_store \
    '{"text":"writes made while Qdrant is down wait in the outbox","namespace":"coding"}' \
    >m2s.json 2>&1
expect_exit "memory_store with Qdrant down" 0 $?
"$MCPDECK" --json call memory memory_search "$ARGS" >m2.json 2>m2.err
expect_exit "memory_search with Qdrant down still answers" 0 $?
check "it answers from the local index and says why" sc m2.json \
    's.backend === "local" && typeof s.fallback_reason === "string" &&
     s.fallback_reason.length > 0 && s.results.length === 2'
check "the local index gives the same best hit" node -e '
const a = JSON.parse(require("fs").readFileSync("m1.json", "utf8")).structuredContent;
const b = JSON.parse(require("fs").readFileSync("m2.json", "utf8")).structuredContent;
process.exit(a.results[0].id === b.results[0].id ? 0 : 1)'
"$MCPDECK" --json call memory memory_search \
    '{"query":"writes made while Qdrant is down","namespace":"coding","mode":"keyword","k":1}' \
    >m2k.json 2>&1
check "the write made while down is found" sc m2k.json \
    's.results.length === 1 && /outbox/.test(s.results[0].text)'
check "the write waits in the outbox" [ "$(depth)" -eq 1 ]
"$MCPDECK" servers check >chk2.out 2>&1
expect_exit "servers check with Qdrant down fails" 1 $?
check "servers check lists qdrant unhealthy with the outbox depth" \
    grep -Eq '^qdrant +memory +ready +unhealthy .*outbox 1' chk2.out
up
"$MCPDECK" memory sync >/dev/null 2>&1
check "once up, the queued write goes and nothing was lost" js \
    'pts("e2e_coding").some((p) => /outbox/.test(p.text))'

# --- slow: the client's timeout ends the wait and the local index answers ---
fault '{"delay_ms": 4000}'
start=$(date +%s)
timeout 15 "$MCPDECK" --json call memory memory_search "$ARGS" >m3.json 2>m3.err
rc=$?
took=$(($(date +%s) - start))
expect_exit "memory_search against a slow Qdrant answers" 0 $rc
check "within the client's timeout (took ${took}s)" [ "$took" -le 4 ]
check "from the local index, the timeout named" sc m3.json \
    's.backend === "local" && /imed out/.test(s.fallback_reason) && s.results.length === 2'
fault '{"delay_ms": 0}'

# --- without the key Qdrant refuses, and the message says so ---
QDRANT_TEST_KEY= "$MCPDECK" memory add "written without a key" --ns shared >/dev/null
QDRANT_TEST_KEY= "$MCPDECK" memory sync >sync8.out 2>sync8.err
expect_exit "sync without the api key fails" 1 $?
contains "the 401 is named" sync8.err "401"
"$MCPDECK" memory sync >/dev/null 2>&1
check "with the key it goes" [ "$(depth)" -eq 0 ]

# --- the contract: every body mcpdeck sent validates against the spec ---
node "$STANDIN" --check requests.log >contract.out 2>&1
rc=$?
expect_exit "every request mcpdeck sent matches the OpenAPI spec" 0 $rc
[ $rc -eq 0 ] || sed 's/^/#   /' contract.out | head -20
check "the contract check saw the requests" grep -q "requests, 0 violating" contract.out
check "the stand-in counted no violations" js 's.violations === 0'
check "the api key never reached the database" sh -c \
    "! grep -rqa '$QDRANT_TEST_KEY' '$XDG_DATA_HOME'"
e2e_done
