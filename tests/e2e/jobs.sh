#!/bin/sh
# End to end: `mcpdeck jobs` on the store that real batch runs left: list
# (text, json, md, --status, --limit), show (text, json, md), result
# (inline and a blob, byte for byte; a corrupt blob refused), cancel,
# retry, usage errors and exit codes, and reading the queue while another
# mcpdeck process is running a job.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/work" && cd "$T/work" || exit 1
echo "hello notes" > notes.txt
# Big enough that its read result is over the 64 KiB inline limit.
node -e 'let s = "";
for (let i = 0; i < 2500; i++) s += "line " + i + " of a file for the blob store\n";
require("fs").writeFileSync("big.txt", s)'
cat > jobs.yaml <<YAML
tasks:
  - id: ls
    tool: fs.list_directory
    args: {path: .}
  - id: secret
    tool: fs.read_text_file
    args: {path: /etc/passwd}
  - id: big
    tool: fs.read_text_file
    args: {path: big.txt}
YAML
"$MCPDECK" --batch jobs.yaml >batch.out 2>&1
expect_exit "a batch with one failing task exits 1" 1 $?
BLOBS="$XDG_DATA_HOME/mcpdeck/blobs"

# Job ids by key, from the JSON list.
"$MCPDECK" jobs list --format json >list.json 2>list.err
expect_exit "jobs list --format json exits 0" 0 $?
id_of() {
    node -e 'const l = JSON.parse(require("fs").readFileSync("list.json", "utf8"));
const j = l.find(j => j.key === process.argv[1]); console.log(j ? j.id : 0)' "$1"
}
LS=$(id_of ls)
SECRET=$(id_of secret)
BIG=$(id_of big)
check "the three jobs are listed with their ids" test "$LS" -gt 0 -a "$SECRET" -gt 0 -a "$BIG" -gt 0
check "json list: newest first, fields, args as JSON" node -e '
const l = JSON.parse(require("fs").readFileSync("list.json", "utf8"));
const want = (c, m) => { if (!c) { console.error(m, JSON.stringify(l)); process.exit(1); } };
want(l.length === 3, "length");
want(l[0].id > l[1].id && l[1].id > l[2].id, "order");
const s = l.find(j => j.key === "secret");
want(s.status === "failed" && /outside the workspace/.test(s.error), "secret");
want(s.server === "fs" && s.tool === "read_text_file" && s.args.path === "/etc/passwd", "task");
want(s.attempts === 1 && s.max_attempts >= 1 && s.created_ms > 0 && s.finished_ms > 0, "times");
want(/jobs\.yaml$/.test(s.batch), "batch " + s.batch);
'

# Text: an aligned table.
"$MCPDECK" jobs list >list.txt 2>&1
expect_exit "jobs list exits 0" 0 $?
check "text list has a header and one line per job" node -e '
const lines = require("fs").readFileSync("list.txt", "utf8").trimEnd().split("\n");
const want = (c, m) => { if (!c) { console.error(m, lines); process.exit(1); } };
want(lines.length === 4, "4 lines");
want(/^\s*ID\s+STATUS\s+PRI\s+TRIES\s+TASK\s+KEY\s+CREATED\s+ERROR$/.test(lines[0]), "header");
const col = lines[0].indexOf("STATUS");
want(lines.slice(1).every(l => /^(succeeded|failed) /.test(l.slice(col))), "aligned status column");
want(lines.some(l => / secret /.test(l) && /outside the workspace/.test(l)), "error shown");
want(lines.every(l => !/ $/.test(l)), "no trailing blanks");
'
"$MCPDECK" jobs >bare.txt 2>&1
check "bare 'jobs' lists too" cmp -s bare.txt list.txt

"$MCPDECK" jobs list --status failed --format json >failed.json 2>&1
expect_exit "jobs list --status failed exits 0" 0 $?
check "the dead-letter list has only the failed job" node -e '
const l = JSON.parse(require("fs").readFileSync("failed.json", "utf8"));
if (l.length !== 1 || l[0].key !== "secret" || l[0].status !== "failed") {
  console.error(JSON.stringify(l)); process.exit(1); }
'
"$MCPDECK" jobs list --status queued,running >none.txt 2>&1
contains "an empty list says so" none.txt "no jobs"
"$MCPDECK" jobs list --limit 1 --format json >one.json 2>&1
check "--limit 1 gives the newest job" node -e '
const l = JSON.parse(require("fs").readFileSync("one.json", "utf8"));
if (l.length !== 1 || l[0].id !== '"$BIG"') { console.error(JSON.stringify(l)); process.exit(1); }
'
"$MCPDECK" jobs list --format md >list.md 2>&1
contains "markdown list has a table header" list.md \
    "| ID | STATUS | PRI | TRIES | TASK | KEY | CREATED | ERROR |"
contains "markdown list has the alignment row" list.md "|---:|---|---:|"
contains "markdown escapes" list.md "read\\_text\\_file"

# show
"$MCPDECK" jobs show "$SECRET" >show.txt 2>&1
expect_exit "jobs show exits 0" 0 $?
contains "show: status" show.txt "failed"
contains "show: attempts section" show.txt "attempts"
contains "show: the attempt's outcome" show.txt \
    "failed   path '/etc/passwd' is outside the workspace"
contains "show: result metadata" show.txt "inline, application/vnd.mcp.tool-result+json"
"$MCPDECK" jobs show "#$SECRET" --format json >show.json 2>&1
expect_exit "jobs show '#ID' --format json exits 0" 0 $?
check "show json: attempts, result, events" node -e '
const j = JSON.parse(require("fs").readFileSync("show.json", "utf8"));
const want = (c, m) => { if (!c) { console.error(m, JSON.stringify(j)); process.exit(1); } };
want(j.id === '"$SECRET"' && j.status === "failed", "job");
want(j.attempts.length === 1 && j.attempts[0].outcome === "failed" && j.attempts[0].n === 1,
     "attempts");
want(j.result && j.result.kind === "inline" && j.result.is_error === true, "result");
want(/^[0-9a-f]{64}$/.test(j.result.sha256), "sha256");
want(Array.isArray(j.events) && Array.isArray(j.needs) && Array.isArray(j.needed_by), "lists");
'
"$MCPDECK" jobs show "$BIG" --format md >show.md 2>&1
contains "show md: a section per job" show.md "## Job $BIG"
contains "show md: attempts" show.md "### Attempts"
contains "show md: the blob" show.md "| result | blob, "

# result: inline and blob, exactly what the tool returned
"$MCPDECK" jobs result "$LS" >ls.out 2>&1
expect_exit "jobs result (inline) exits 0" 0 $?
contains "inline result is the tool result" ls.out "notes.txt"
"$MCPDECK" jobs result "$BIG" >big.out 2>big.err
expect_exit "jobs result (blob) exits 0" 0 $?
check "the blob result holds big.txt byte for byte" node -e '
const fs = require("fs");
const r = JSON.parse(fs.readFileSync("big.out", "utf8"));
if (r.content[0].text !== fs.readFileSync("big.txt", "utf8")) process.exit(1);
'
nblobs=$(find "$BLOBS" -type f | wc -l)
check "exactly one blob file" test "$nblobs" -eq 1
check "no temporary files in the blob store" test -z "$(find "$BLOBS" -name '.tmp-*')"
blob=$(find "$BLOBS" -type f)
check "the blob is named by the SHA-256 of its content" test \
    "$(sha256sum "$blob" | cut -c1-64)" = "$(basename "$(dirname "$blob")")$(basename "$blob")"

# A batch that reads the same file again stores no second copy.
cat > again.yaml <<YAML
- {id: big2, tool: fs.read_text_file, args: {path: big.txt}}
YAML
"$MCPDECK" --batch again.yaml >again.out 2>&1
expect_exit "the same big result again" 0 $?
check "deduplicated: still one blob file" test "$(find "$BLOBS" -type f | wc -l)" -eq 1

# cancel / retry and their refusals
"$MCPDECK" jobs cancel "$LS" >c.out 2>c.err
expect_exit "cancel of a succeeded job exits 1" 1 $?
contains "cancel says why not" c.err \
    "job $LS is succeeded: only queued or running jobs can be cancelled"
"$MCPDECK" jobs retry "$SECRET" >r.out 2>r.err
expect_exit "retry of the failed job exits 0" 0 $?
contains "retry says so" r.out "job $SECRET queued again"
"$MCPDECK" jobs list --status queued --format json >q.json 2>&1
check "the retried job is queued, its attempt kept" node -e '
const l = JSON.parse(require("fs").readFileSync("q.json", "utf8"));
if (l.length !== 1 || l[0].id !== '"$SECRET"' || l[0].attempts !== 1 || l[0].error !== null) {
  console.error(JSON.stringify(l)); process.exit(1); }
'
"$MCPDECK" jobs retry "$SECRET" >r2.out 2>r2.err
expect_exit "retry of a queued job exits 1" 1 $?
contains "retry says why not" r2.err \
    "is queued: only failed, cancelled or skipped jobs can be retried"
"$MCPDECK" jobs cancel "$SECRET" --format json >c2.json 2>&1
expect_exit "cancel of the queued job exits 0" 0 $?
check "cancel --format json" node -e '
const o = JSON.parse(require("fs").readFileSync("c2.json", "utf8"));
if (o.id !== '"$SECRET"' || o.status !== "cancelled") process.exit(1);
'
"$MCPDECK" jobs show "$SECRET" --format json >show2.json 2>&1
check "cancel and retry are recorded as state events" node -e '
const j = JSON.parse(require("fs").readFileSync("show2.json", "utf8"));
const kinds = j.events.filter(e => e.kind === "state").map(e => e.kind + ":" + e.data.status);
if (j.status !== "cancelled" || kinds.join() !== "state:queued,state:cancelled") {
  console.error(JSON.stringify(j)); process.exit(1); }
'

# not found and usage
"$MCPDECK" jobs show 99999 >/dev/null 2>nf.err
expect_exit "show of a missing job exits 1" 1 $?
contains "missing job named" nf.err "no job 99999"
"$MCPDECK" jobs result 99999 >/dev/null 2>&1
expect_exit "result of a missing job exits 1" 1 $?
"$MCPDECK" jobs cancel 99999 >/dev/null 2>&1
expect_exit "cancel of a missing job exits 1" 1 $?
"$MCPDECK" jobs show abc >/dev/null 2>&1
expect_exit "a non-numeric id is a usage error" 2 $?
"$MCPDECK" jobs show >/dev/null 2>&1
expect_exit "show without an id is a usage error" 2 $?
"$MCPDECK" jobs frobnicate >/dev/null 2>&1
expect_exit "an unknown jobs command is a usage error" 2 $?
"$MCPDECK" jobs list --status bogus >/dev/null 2>st.err
expect_exit "an unknown status is a usage error" 2 $?
contains "the unknown status is named" st.err "unknown status 'bogus'"
"$MCPDECK" jobs list --format yaml >/dev/null 2>&1
expect_exit "an unknown format is a usage error" 2 $?

# A corrupt blob is refused, not printed.
chmod u+w "$blob"
printf 'tampered' >> "$blob"
"$MCPDECK" jobs result "$BIG" >bad.out 2>bad.err
expect_exit "result of a corrupt blob exits 1" 1 $?
contains "the corruption is named" bad.err "for job $BIG is corrupt: hash mismatch"
check "nothing of the corrupt blob on stdout" test ! -s bad.out

# While another mcpdeck runs a job, jobs reads the same store (WAL).
mkdir -p "$T/long" && cd "$T/long" || exit 1
cat > mcpdeck.yaml <<YAML
servers:
  everything:
    command: node
    args: ["$EVERYTHING", stdio]
YAML
cat > long.yaml <<YAML
- {id: long, tool: everything.trigger-long-running-operation, args: {duration: 4, steps: 4}}
YAML
"$MCPDECK" --batch long.yaml >long.out 2>&1 &
bg=$!
seen=0
i=0
while [ $i -lt 100 ]; do
    "$MCPDECK" jobs list --status running --format json >running.json 2>running.err
    if grep -q '"key":.*"long"' running.json; then seen=1; break; fi
    sleep 0.1
    i=$((i + 1))
done
check "jobs sees the job another process is running" test "$seen" -eq 1
"$MCPDECK" jobs show "$(node -e 'console.log(JSON.parse(require("fs").readFileSync("running.json",
    "utf8"))[0].id)')" >running.txt 2>&1
expect_exit "jobs show works meanwhile" 0 $?
contains "it is shown running" running.txt "running"
wait "$bg"
expect_exit "the other process finished its batch" 0 $?
"$MCPDECK" jobs list --status succeeded --format json >done.json 2>&1
check "and its job is succeeded in the store" grep -q '"key":.*"long"' done.json

# idempotency keys and delays from a batch file; priority of a queued job
cat > idem.yaml <<'YAML'
- {id: once, tool: fs.list_directory, args: {path: .}, idempotency_key: idem-e2e-1}
- {id: later, tool: fs.list_directory, args: {path: .}, delay: 1200ms}
YAML
"$MCPDECK" --batch idem.yaml --format json -o idem1.json 2>/dev/null
expect_exit "a batch with an idempotency key and a delay runs" 0 $?
"$MCPDECK" --batch idem.yaml --format json -o idem2.json 2>idem2.err
expect_exit "running it again passes too" 0 $?
check "the idempotency key made the second run reuse the first job" node -e '
const a = require("./idem1.json").tasks, b = require("./idem2.json").tasks;
if (a[0].job !== b[0].job || a[1].job === b[1].job) { console.error(a, b); process.exit(1); }'
contains "the reuse is reported" idem2.err "its idempotency key names a finished job"
db="$XDG_DATA_HOME/mcpdeck/mcpdeck.db"
check "the delayed task was not started before its delay" \
    [ "$(sqlite3 "$db" "SELECT MIN(started_ms - created_ms) FROM jobs WHERE key = 'later'")" -ge 1200 ]
id=$(sqlite3 "$db" "SELECT id FROM jobs WHERE key = 'once'")
"$MCPDECK" jobs priority "$id" 5 >prio.out 2>&1
expect_exit "the priority of a finished job cannot change" 1 $?
contains "and it says why" prio.out "only a queued job's priority can change"
sqlite3 "$db" "UPDATE jobs SET status = 'queued' WHERE id = $id"
"$MCPDECK" jobs priority "$id" 7 >prio2.out 2>&1
expect_exit "a queued job's priority changes" 0 $?
check "the new priority is stored" [ "$(sqlite3 "$db" "SELECT priority FROM jobs WHERE id = $id")" -eq 7 ]

e2e_done
