#!/bin/sh
# The MCP client against the reference servers, with server-everything
# reached over stdio and then over Streamable HTTP (listening on 127.0.0.1
# only, tests/fixtures/loopback.cjs): every content type, progress,
# list_changed, roots, elicitation answered from the batch file, resources,
# templates, prompts, completion; server-memory and its tools.
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/ws" && cd "$T/ws" && git init -q . || exit 1
PORT=$((20000 + ($$ + 4093) % 20000))
PORT=$PORT node -r "$TOP/tests/fixtures/loopback.cjs" "$EVERYTHING" streamableHttp \
    >"$T/http-server.log" 2>&1 &
SRV=$!
trap 'kill $SRV 2>/dev/null' EXIT
for i in $(seq 50); do
    grep -q "listening on port" "$T/http-server.log" && break
    sleep 0.1
done

# suite VIA: every check below, with server-everything reached VIA (stdio or
# http); each check's name ends with "(VIA)"
suite() {
via=$1
if [ "$via" = stdio ]; then
    reach="{command: node, args: [\"$EVERYTHING\", stdio]}"
else
    reach="{url: \"http://127.0.0.1:$PORT/mcp\"}"
fi
cat > mcpdeck.yaml <<YAML
servers:
  everything: $reach
  mem:
    command: node
    args: ["$MEMORY"]
    env: {MEMORY_FILE_PATH: "$T/memory-$via.jsonl"}
YAML

"$MCPDECK" servers tools everything --json >tools.json 2>tools.err
check "all tools listed, incl. those added by list_changed after our capabilities ($via)" node -e '
const t = JSON.parse(require("fs").readFileSync("tools.json", "utf8")).map(x => x.name);
for (const n of ["echo", "get-sum", "get-structured-content", "get-tiny-image",
                 "get-resource-links", "trigger-long-running-operation",
                 "get-roots-list", "trigger-elicitation-request"])
  if (!t.includes(n)) { console.error("missing", n, t); process.exit(1); }
if (t.includes("trigger-sampling-request")) { console.error("sampling tool offered though we do not declare sampling"); process.exit(1); }
'

cat > tasks.yaml <<YAML
tasks:
  - {id: echo, tool: everything.echo, args: {message: "hi there"}}
  - {id: sum, tool: everything.get-sum, args: {a: 1.5, b: 2}}
  - {id: structured, tool: everything.get-structured-content, args: {location: Chicago}}
  - {id: image, tool: everything.get-tiny-image}
  - {id: links, tool: everything.get-resource-links, args: {count: 2}}
  - {id: long, tool: everything.trigger-long-running-operation, args: {duration: 1, steps: 4}}
  - {id: roots, tool: everything.get-roots-list}
  - id: elicit
    tool: everything.trigger-elicitation-request
    elicit: {name: "Ada Lovelace", check: true, email: "ada@example.com"}
  - {id: remember, tool: mem.create_entities, args: {entities: [{name: mcpdeck, entityType: project, observations: ["written in C"]}]}}
YAML
"$MCPDECK" --batch tasks.yaml --format json >out.json 2>err.txt
expect_exit "batch of reference-server features exits 0 ($via)" 0 $?
check "results of every feature are right ($via)" node -e '
const r = JSON.parse(require("fs").readFileSync("out.json", "utf8"));
const by = Object.fromEntries(r.tasks.map(t => [t.id, t]));
const want = (c, m) => { if (!c) { console.error(m); process.exit(1); } };
for (const t of r.tasks) want(t.status === "succeeded", t.id + " " + JSON.stringify(t));
want(by.echo.result === "Echo: hi there", "echo");
want(/3\.5/.test(by.sum.result), "sum " + by.sum.result);
want(/Chicago|temperature/i.test(by.structured.result), "structured " + by.structured.result);
want(/\[image image\/png/.test(by.image.result), "image " + by.image.result);
want((by.links.result.match(/\[resource link /g) || []).length === 2, "links " + by.links.result);
want(by.long.progress && by.long.progress.events >= 3 && by.long.progress.total === 4,
     "progress " + JSON.stringify(by.long.progress));
want(by.roots.result.includes("file://" + process.cwd()), "roots " + by.roots.result);
want(/Ada Lovelace/.test(by.elicit.result) && /accept/.test(by.elicit.result), "elicit " + by.elicit.result);
want(/mcpdeck/.test(by.remember.result), "memory " + by.remember.result);
'
contains "elicitation answered from the batch file ($via)" err.txt "answered from the batch file"
long=$(node -e 'const r = JSON.parse(require("fs").readFileSync("out.json", "utf8"));
console.log(r.tasks.find(t => t.id === "long").job)')
"$MCPDECK" jobs show "$long" >long.txt 2>&1
contains "progress notifications are stored as job events ($via)" long.txt "progress"

# without answers the elicitation is declined, and the tool says so
printf -- '- {id: e2, tool: everything.trigger-elicitation-request}\n' > decline.yaml
"$MCPDECK" --batch decline.yaml --format json >decline.json 2>decline.err
contains "elicitation without answers is declined ($via)" decline.json "decline"

"$MCPDECK" call mem read_graph >graph.out 2>&1
contains "server-memory kept what another process stored ($via)" graph.out "written in C"

"$MCPDECK" servers resources everything >res.out 2>&1
contains "resources listed ($via)" res.out "demo://resource/static/document/architecture.md"
"$MCPDECK" servers templates everything >tpl.out 2>&1
contains "resource templates listed ($via)" tpl.out "demo://resource/dynamic/text/{resourceId}"
"$MCPDECK" read everything demo://resource/static/document/architecture.md >read.out 2>&1
expect_exit "resources/read exits 0 ($via)" 0 $?
contains "resource text read ($via)" read.out "Architecture"
"$MCPDECK" servers prompts everything >prompts.out 2>&1
contains "prompts listed ($via)" prompts.out "args-prompt"
"$MCPDECK" prompt everything args-prompt '{"city":"Paris"}' >prompt.out 2>&1
contains "prompt fetched with arguments ($via)" prompt.out "Paris"
"$MCPDECK" prompt mem nothing >noprompt.out 2>&1
expect_exit "prompts/get on a server without prompts is refused ($via)" 3 $?
contains "refusal names the missing capability ($via)" noprompt.out "does not advertise the 'prompts' capability"
"$MCPDECK" complete everything completable-prompt department E >comp.out 2>&1
expect_exit "completion/complete exits 0 ($via)" 0 $?
contains "completion values printed ($via)" comp.out "Engineering"
"$MCPDECK" complete everything completable-prompt name A '{"department":"Engineering"}' >comp2.out 2>&1
contains "completion uses the context of chosen arguments ($via)" comp2.out "Alice"
"$MCPDECK" call everything get-structured-content '{"location":"Chicago"}' --json >sc.json 2>&1
check "call --json shows structuredContent ($via)" grep -q structuredContent sc.json
}

suite stdio
suite http
e2e_done
