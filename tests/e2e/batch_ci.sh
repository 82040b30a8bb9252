#!/bin/sh
# Batch mode for CI: defaults, expectations, needs (and skipping), dry run,
# report formats (json, jsonl, JUnit, -o), GitHub annotations, fail-fast,
# whole-batch timeout, interrupt (130).
. "$(dirname "$0")/lib.sh"
BAD="$TOP/$BUILD/fixtures/badserver"
mkdir -p "$T/w" && cd "$T/w" || exit 1
echo "alpha beta" > notes.txt
mkdir sub && : > sub/only.txt
cat > mcpdeck.yaml <<YAML
servers:
  bad: {command: "$BAD", args: [good]}
  one: {command: "$BAD", args: [good], concurrency: 1}
YAML

cat > ci.yaml <<'YAML'
defaults: {server: fs, timeout: 20s, retries: 1}
tasks:
  - id: read
    tool: read_text_file
    args: {path: notes.txt}
    expect: {status: succeeded, contains: [alpha, beta], regex: "^alpha", max_duration: 10s}
  - id: ls
    tool: list_directory
    args: {path: sub}
    needs: read
    expect: {json: {"entries[0].name": only.txt, "entries[0].size": 0}}
  - id: escape
    tool: read_text_file
    args: {path: /etc/passwd}
    expect: {status: failed, is_error: true, contains: outside}
  - id: wrong
    tool: read_text_file
    args: {path: notes.txt}
    expect: {contains: gamma}
  - id: after-wrong
    tool: bad.echo
    needs: [wrong]
YAML
"$MCPDECK" --batch ci.yaml --format json -o report.json 2>ci.err
expect_exit "a failed expectation makes the batch exit 1" 1 $?
check "expectations, needs and skips reported" node -e '
const r = JSON.parse(require("fs").readFileSync("report.json", "utf8"));
const by = Object.fromEntries(r.tasks.map(t => [t.id, t]));
const want = (c, m) => { if (!c) { console.error(m, JSON.stringify(r, null, 1)); process.exit(1); } };
want(by.read.passed && by.ls.passed, "read/ls should pass");
want(by.escape.passed && by.escape.status === "failed", "an expected failure passes");
want(!by.wrong.passed && /expected the result to contain "gamma"; it was: alpha beta/.test(by.wrong.error), "wrong");
want(!by["after-wrong"].passed && by["after-wrong"].status === "skipped" && /needs .wrong./.test(by["after-wrong"].error), "skip");
want(r.summary.passed === 3 && r.summary.failed === 2, "summary");
'
contains "failures named on stderr" ci.err "FAIL   wrong: expected the result to contain"

"$MCPDECK" --batch ci.yaml --format junit -o report.xml 2>/dev/null
check "JUnit XML is well-formed" xmllint --noout report.xml
check "JUnit has 5 testcases and 2 failures" sh -c \
    "grep -c '<testcase ' report.xml | grep -qx 5 && grep -q 'failures=\"2\"' report.xml"
"$MCPDECK" --batch ci.yaml --format jsonl >report.jsonl 2>/dev/null
check "jsonl has one line per task" sh -c "[ \$(wc -l < report.jsonl) -eq 5 ]"
GITHUB_ACTIONS=true "$MCPDECK" --batch ci.yaml --format json -o /dev/null >gh.out 2>/dev/null
contains "GitHub annotation for a failed task" gh.out "::error file=ci.yaml,line=16,col=5,title=mcpdeck task wrong::"

before=$(sqlite3 "$XDG_DATA_HOME/mcpdeck/mcpdeck.db" "select count(*) from jobs")
"$MCPDECK" --batch ci.yaml --dry-run >plan.out 2>&1
expect_exit "dry run exits 0" 0 $?
contains "plan shows stages" plan.out "stage 2  ls"
after=$(sqlite3 "$XDG_DATA_HOME/mcpdeck/mcpdeck.db" "select count(*) from jobs")
check "dry run queues nothing" [ "$before" = "$after" ]

# a long chain of needs: each task after the one before (every lookup of
# a need scanned the whole file: 3000 such tasks took minutes to plan)
node -e 'for (let i = 0; i < 3000; i++)
    console.log(`- {id: c${i}, tool: fs.get_file_info, args: {path: .}` +
                (i ? `, needs: c${i - 1}}` : "}"))' > chain.yaml
timeout 20 "$MCPDECK" --batch chain.yaml --dry-run >chain.plan 2>chain.err
expect_exit "the plan of a 3000-task chain of needs is quick" 0 $?
contains "... and has 3000 stages" chain.plan "stage 3000  c2999"
timeout 30 "$MCPDECK" --batch chain.yaml >chain.out 2>&1
expect_exit "... and so is its run" 0 $?
contains "... in which every task passes" chain.out "3000 tasks: 3000 passed"

cat > cycle.yaml <<'YAML'
- {id: a, tool: fs.list_directory, args: {path: .}, needs: b}
- {id: b, tool: fs.list_directory, args: {path: .}, needs: [a]}
YAML
"$MCPDECK" --batch cycle.yaml 2>cycle.err
expect_exit "a needs cycle is invalid input" 2 $?
contains "the cycle is named with a position" cycle.err "cycle.yaml:1:"
printf -- '- {id: a, tool: fs.list_directory, needs: zzz}\n' > unk.yaml
"$MCPDECK" --batch unk.yaml 2>unk.err
contains "unknown need named" unk.err "needs 'zzz', which is not a task id"
printf -- '- {id: a, type: review, prompt: "look"}\n' > model.yaml
"$MCPDECK" --batch model.yaml 2>model.err
expect_exit "a model task without a model is invalid input" 2 $?
contains "model task error names the settings" model.err "add 'providers:'"

# arguments are checked against the tool's inputSchema before anything runs
cat > schema.yaml <<YAML
- {id: e, tool: fs.read_text_file, args: {path: notes.txt, head: "ten"}}
YAML
"$MCPDECK" --batch schema.yaml 2>schema.err
expect_exit "arguments that break the input schema are invalid input" 2 $?
contains "schema error with position and path" schema.err \
    "schema.yaml:1:42: arguments for fs.read_text_file do not match its input schema: args.head: expected integer, got string"

# structured output is checked against the tool's outputSchema
cat > out.yaml <<YAML
- {id: good, tool: bad.shaped, args: {ok: true}, expect: {json: {n: 1}}}
- {id: bad, tool: bad.shaped, args: {ok: false}}
YAML
"$MCPDECK" --batch out.yaml --format json >out.json 2>/dev/null
expect_exit "output that breaks the outputSchema fails the task" 1 $?
check "the mismatch is reported" node -e '
const r = JSON.parse(require("fs").readFileSync("out.json", "utf8"));
const by = Object.fromEntries(r.tasks.map(t => [t.id, t]));
if (!by.good.passed) { console.error(by.good); process.exit(1); }
if (by.bad.passed || !/does not match its outputSchema: structuredContent.n: expected number, got string/.test(by.bad.error)) { console.error(by.bad); process.exit(1); }'

# a per-server limit: at most one job at a time on "one", in claim order
cat > lim.yaml <<YAML
- {id: l1, tool: one.nap, args: {ms: 150}}
- {id: l2, tool: one.nap, args: {ms: 150}}
- {id: l3, tool: one.nap, args: {ms: 150}}
- {id: free, tool: bad.nap, args: {ms: 150}}
YAML
"$MCPDECK" --batch lim.yaml --concurrency 8 >/dev/null 2>&1
expect_exit "per-server limit batch exits 0" 0 $?
sqlite3 "$XDG_DATA_HOME/mcpdeck/mcpdeck.db" "select a.started_ms, a.finished_ms from attempts a join jobs j on j.id = a.job_id where j.batch = '$(pwd)/lim.yaml' and j.server = 'one' order by a.started_ms" >lim.txt
check "jobs on a server with concurrency 1 never overlap" node -e '
const rows = require("fs").readFileSync("lim.txt", "utf8").trim().split("\n").map(l => l.split("|").map(Number));
if (rows.length !== 3) process.exit(1);
for (let i = 1; i < rows.length; i++) if (rows[i][0] < rows[i-1][1]) { console.error(rows); process.exit(1); }'

cat > ff.yaml <<'YAML'
- {id: bad1, tool: fs.read_text_file, args: {path: missing.txt}, priority: 10}
- {id: slow1, tool: bad.nap, args: {ms: 3000}}
- {id: slow2, tool: bad.nap, args: {ms: 3000}}
YAML
start=$(date +%s)
"$MCPDECK" --batch ff.yaml --fail-fast --concurrency 1 --format json >ff.json 2>/dev/null
expect_exit "fail-fast exits 1" 1 $?
check "fail-fast stopped the rest" node -e '
const r = JSON.parse(require("fs").readFileSync("ff.json", "utf8"));
if (r.tasks.filter(t => t.passed).length !== 0) process.exit(1);'
check "fail-fast did not wait for the slow tasks" [ $(( $(date +%s) - start )) -lt 5 ]

printf -- '- {id: n1, tool: bad.nap, args: {ms: 5000}}\n' > to.yaml
"$MCPDECK" --batch to.yaml --timeout 1s >/dev/null 2>to.err
expect_exit "a batch past --timeout exits 1" 1 $?
contains "timeout said" to.err "ran past --timeout"

"$MCPDECK" --batch to.yaml --format json >int.json 2>/dev/null &
pid=$!
sleep 1
kill -INT $pid
wait $pid
expect_exit "SIGINT gives exit 130" 130 $?
check "the report is still written after SIGINT" grep -q '"tasks"' int.json
e2e_done
